# Shared helpers for the TAP shell tests. Source it: . "$top_srcdir/tests/lib.sh"
# (tests/hygiene/common.sh and tests/chaos/chaos-lib.sh source it themselves).
# Each test prints TAP; the helpers count tests and print the plan at the end (tap_done).
# Nothing here waits without a bound: a hang fails the test, it never hangs `make check`.

[ -n "$TEST_LIB_LOADED" ] && return 0
TEST_LIB_LOADED=1

: "${top_srcdir:?run through make check, or set top_srcdir}"
: "${top_builddir:?run through make check, or set top_builddir}"

TAP_N=0
TAP_FAILED=0

ok() {  # ok CONDITION-EXIT-STATUS DESCRIPTION
        TAP_N=$((TAP_N + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $TAP_N - $2"
        else
                echo "not ok $TAP_N - $2"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
}

check() {  # check DESCRIPTION COMMAND...: ok when the command succeeds
        desc=$1; shift
        if "$@" >/dev/null 2>&1; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

is() {  # is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then
                ok 0 "$3"
        else
                ok 1 "$3"
                printf 'got:  %s\nwant: %s\n' "$1" "$2" | head -n 40 | sed 's/^/#   /'
        fi
}

diag() {
        printf '# %s\n' "$*"
}

skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}

# bail_out MESSAGE: the test cannot go on (its setup failed): a TAP "Bail out!", exit 1.
bail_out() {
        echo "Bail out! $*"
        exit 1
}

tap_done() {
        fake_check_overwrites summary
        echo "1..$TAP_N"
        [ "$TAP_FAILED" -eq 0 ]
}

# ---- Bounded waits ----

# wait_for SECONDS COMMAND...: runs COMMAND (its output discarded) until it succeeds (returns 0)
# or SECONDS (whole seconds of wall time) have passed (returns 1). It tries again after 10 ms, then
# 20, 40, 80, and from then on every 100 ms: quick to see a quick change, and a costly COMMAND does
# not take the machine from the program under test for long.
wait_for() {
        local _wait_end=$(($(date +%s%N) + $1 * 1000000000)) _wait_ms=10 _wait_s
        shift
        until "$@" >/dev/null 2>&1; do
                [ "$(date +%s%N)" -lt "$_wait_end" ] || return 1
                [ -z "${_wait_pid:-}" ] || kill -0 "$_wait_pid" 2>/dev/null || return 1
                printf -v _wait_s '0.%03d' "$_wait_ms"
                sleep "$_wait_s"
                _wait_ms=$((_wait_ms >= 50 ? 100 : _wait_ms * 2))
        done
}

# wait_alive PID SECONDS COMMAND...: as wait_for, giving up early (1) once process PID is gone.
wait_alive() {
        local _wait_pid=$1
        shift
        wait_for "$@"
}

# gone PID: process PID has ended (a predicate for wait_for).
gone() {
        ! kill -0 "$1" 2>/dev/null
}

# has_lines N PATTERN FILE: at least N lines of FILE match the basic regex PATTERN (a predicate for
# wait_for).
has_lines() {
        [ "$(grep -c -- "$2" "$3" 2>/dev/null)" -ge "$1" ]
}

# forget_pid PID...: the processes have been waited for; the cleanup on exit need not end them.
forget_pid() {
        for _forget in "$@"; do
                TEST_PIDS=$(printf '%s\n' $TEST_PIDS | grep -vx "$_forget" | tr '\n' ' ')
        done
}

# wait_exit PID SECONDS [WHAT]: waits at most SECONDS for PID, a child of this shell, to end, and
# returns its exit status (as `wait` gives it), also left in EXIT_STATUS. Still running at the
# deadline is a test failure: a "not ok" saying WHAT did not end, then a SIGKILL (the status is
# then 137). PID is forgotten by the cleanup either way.
wait_exit() {
        if ! wait_for "$2" gone "$1"; then
                ok 1 "${3:-process $1} ends within $2 s"
                kill -KILL "$1" 2>/dev/null
        fi
        wait "$1" 2>/dev/null # (bash's own "Killed" or "Terminated" line left out)
        EXIT_STATUS=$?
        forget_pid "$1"
        return "$EXIT_STATUS"
}

# stop_pid PID SECONDS [WHAT]: sends SIGTERM to PID and waits for it as wait_exit does.
stop_pid() {
        kill -TERM "$1" 2>/dev/null
        wait_exit "$@"
}

# A private scratch folder, removed on exit together with every process we started (SIGTERM, and
# SIGKILL to what is left 5 s later).
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cr-test.XXXXXX")
TEST_PIDS=""
cleanup_test() {
        for p in $TEST_PIDS; do kill "$p" 2>/dev/null; done
        for p in $TEST_PIDS; do
                wait_for 5 gone "$p" || kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        # What the fakes answered after tap_done (or everything, when the test ended without it):
        # an overwrite fails the test even now (a result after the plan is a TAP error too).
        _cleanup_failed=$TAP_FAILED
        fake_check_overwrites
        rm -rf "$TEST_TMP"
        [ "$TAP_FAILED" -eq "$_cleanup_failed" ] || exit 1
}
trap cleanup_test EXIT; [ -n "$KEEP_TMP" ] && trap - EXIT
trap 'exit 130' INT TERM

RECONCILER="$top_builddir/connector-reconciler"

# Every curl call of the tests gives up after this many seconds (curl's exit status 28).
CURL_MAX_TIME=30

# ---- The fake Elasticsearch cluster (tests/fake/README.md) ----
FAKE_CLUSTER="$top_builddir/tests/fake/fake-cluster"
FAKE_N=0

# start_fake [ARGS...]: starts the fake cluster on a free loopback port with a request log in
# $TEST_TMP and waits (at most 10 s) until it listens. Sets FAKE_PORT, FAKE_URL (https:// when
# --tls-cert is given), FAKE_LOG, FAKE_PID; the process is ended on exit with the others. A start
# that fails is a "Bail out!": the test ends there, saying why. A new cluster is a new deployment:
# the state folder of write_config ($TEST_TMP/state) is emptied, since what it remembers (orphans
# seen, connectors deleted, which come back protected) was of the cluster before.
start_fake() {
        rm -rf "$TEST_TMP/state"
        FAKE_N=$((FAKE_N + 1))
        FAKE_LOG="$TEST_TMP/fake-$FAKE_N.log"
        _fake_port_file="$TEST_TMP/fake-$FAKE_N.port"
        _fake_err="$TEST_TMP/fake-$FAKE_N.err"
        rm -f "$_fake_port_file"
        "$FAKE_CLUSTER" --port 0 --port-file "$_fake_port_file" --log "$FAKE_LOG" --parent-pid $$ "$@" \
                2>"$_fake_err" &
        FAKE_PID=$!
        TEST_PIDS="$TEST_PIDS $FAKE_PID"
        if ! wait_alive "$FAKE_PID" 10 test -s "$_fake_port_file"; then
                if gone "$FAKE_PID"; then
                        bail_out "fake-cluster $* did not start: $(head -c 500 "$_fake_err" | tr '\n' ' ')"
                fi
                bail_out "fake-cluster $* did not listen within 10 s"
        fi
        FAKE_PORT=$(cat "$_fake_port_file")
        _fake_scheme=http
        for _fake_arg in "$@"; do
                [ "$_fake_arg" = --tls-cert ] && _fake_scheme=https
        done
        FAKE_URL="$_fake_scheme://127.0.0.1:$FAKE_PORT"
        return 0
}

# stop_fake: ends the fake cluster started last (SIGTERM) and waits (at most 10 s) for it; returns
# its exit status.
stop_fake() {
        stop_pid "$FAKE_PID" 10 "fake-cluster (SIGTERM)"
        _stop_fake_status=$?
        fake_check_overwrites "" "$FAKE_N"
        return "$_stop_fake_status"
}

# ---- The rule every test against the fake keeps: the reconciler never overwrites a connector ----
#
# PUT /_connector/<id> (no endpoint after the id) rebuilds a connector from defaults, and answers
# 200 "updated" when the id existed: whatever the connector held is gone. The reconciler sends it
# only to create, after a GET that answered 404. So, in every request log of a test's fakes
# (start_fake), a request whose user_agent starts with "connector-reconciler/" (HTTP_USER_AGENT,
# daemon/http.c) that is such a PUT answered 200 fails the test, with the request's seq and time.
# The logs are checked when a fake is stopped (stop_fake), by tap_done (one "ok" line saying how
# many of the reconciler's requests were checked) and again when the test exits (what came after
# tap_done, or everything when the test ended without it). Each overwrite is reported once. A log
# that is missing, unreadable or lacks "user_agent" (a fake-cluster built before it logged it) is a
# failure too, never a check skipped in silence; requests a test cut from a log (: >"$FAKE_LOG")
# before they were checked are counted in a diagnostic.

# fake_allow_overwrite ID WHY: the test means the reconciler to overwrite connector ID on the fake
# started last (e.g. a restore that creates over a soft-deleted connector on 9.x): such a PUT of
# that fake answered 200 is shown as a diagnostic, saying WHY, instead of failing the test.
FAKE_ALLOWED_OVERWRITES=""
fake_allow_overwrite() {
        FAKE_ALLOWED_OVERWRITES="$FAKE_ALLOWED_OVERWRITES$FAKE_N:$1	$2
"
}

FAKE_UA_PREFIX="connector-reconciler/"
_FAKE_REPORTED=" "     # "N:SEQ " of the overwrites (and "N:log " of the log problems) reported
_FAKE_OVERWRITES=0     # how many were reported, in every log
_FAKE_CHECKED_REQUESTS=0

# fake_check_overwrites [summary] [N]: checks the request logs of every fake this test started
# (see above), or only of fake N, reporting what was not reported yet as "not ok"; with "summary",
# also one "ok" line when nothing was ever found (nothing at all when the test started no fake).
fake_check_overwrites() {
        local _n _log _out _line _key _kind _seq _msg _allowed='{}' _id _time _why _cut=0 _logs=0 _tab
        _tab=$(printf '\t')
        [ "$FAKE_N" -gt 0 ] || return 0
        _FAKE_CHECKED_REQUESTS=0
        if ! command -v jq >/dev/null 2>&1; then
                case $_FAKE_REPORTED in *" jq "*) return 0 ;; esac
                _FAKE_REPORTED="$_FAKE_REPORTED""jq "
                _FAKE_OVERWRITES=$((_FAKE_OVERWRITES + 1))
                ok 1 "no connector was overwritten: cannot be checked, jq is missing"
                return 0
        fi
        [ -z "$FAKE_ALLOWED_OVERWRITES" ] ||
                _allowed=$(printf '%s' "$FAKE_ALLOWED_OVERWRITES" | jq -Rsc 'split("\n") | map(select(length > 0)
                        | split("\t") | {key: .[0], value: (.[1:] | join("\t"))}) | from_entries')
        for _n in $(seq "${2:-1}" "${2:-$FAKE_N}"); do
                _log="$TEST_TMP/fake-$_n.log"
                _logs=$((_logs + 1))
                # One line each: "req N" (the reconciler's requests), "cut N" (seqs missing below the
                # last one: cut from the log), "noua SEQ" (an entry without user_agent), "put SEQ
                # ID<TAB>TIME<TAB>ALLOWED-WHY".
                if [ ! -f "$_log" ]; then
                        _out="missing"
                elif ! _out=$(jq -rs --arg prefix "$FAKE_UA_PREFIX" --arg n "$_n" --argjson allowed "$_allowed" '
                        (map(select(.control | not))) as $r
                        | ($r | map(select((.user_agent // "") | startswith($prefix)))) as $ours
                        | "req \($ours | length)",
                          "cut \((map(.seq) | max // 0) - length)",
                          ($r | map(select(has("user_agent") | not)) | .[:1][] | "noua \(.seq)"),
                          ($ours[] | select(.method == "PUT" and .status == 200 and .connector_id != null
                                            and ((.raw_path // "") | test("^/_connector/[^/]+/?$")))
                           | "put \(.seq) \(.connector_id)\t\(.time)\t\($allowed["\($n):\(.connector_id)"] // "")")
                        ' "$_log" 2>&1); then
                        _out="unreadable $(printf '%s' "$_out" | tr '\n' ' ')"
                fi
                while IFS= read -r _line; do
                        _kind=${_line%% *}
                        case $_kind in
                        req) _FAKE_CHECKED_REQUESTS=$((_FAKE_CHECKED_REQUESTS + ${_line#req })); continue ;;
                        cut) _cut=$((_cut + ${_line#cut })); continue ;;
                        missing | unreadable | noua) _key="$_n:log" ;;
                        put) _seq=${_line#put }; _seq=${_seq%% *}; _key="$_n:$_seq" ;;
                        *) continue ;;
                        esac
                        case $_FAKE_REPORTED in *" $_key "*) continue ;; esac
                        _FAKE_REPORTED="$_FAKE_REPORTED$_key "
                        case $_kind in
                        missing) _msg="the request log $_log of fake-cluster #$_n is missing: whether a connector was overwritten cannot be checked" ;;
                        unreadable) _msg="the request log $_log of fake-cluster #$_n cannot be read (${_line#unreadable }): whether a connector was overwritten cannot be checked" ;;
                        noua) _msg="the request log $_log of fake-cluster #$_n has no \"user_agent\" (request seq ${_line#noua }): rebuild tests/fake/fake-cluster; whether a connector was overwritten cannot be checked" ;;
                        put)
                                _line=${_line#put * }
                                _id=${_line%%"$_tab"*}
                                _line=${_line#*"$_tab"}
                                _time=${_line%%"$_tab"*}
                                _why=${_line#*"$_tab"}
                                if [ -n "$_why" ]; then
                                        diag "fake-cluster #$_n: the reconciler overwrote connector '$_id' (PUT /_connector/$_id answered 200, request seq $_seq at $_time), as the test allows: $_why"
                                        continue
                                fi
                                _msg="the reconciler overwrote the existing connector '$_id': PUT /_connector/$_id answered 200 (fake-cluster #$_n, request seq $_seq at $_time); a create must only ever go to an id that GET answered 404 for"
                                ;;
                        esac
                        _FAKE_OVERWRITES=$((_FAKE_OVERWRITES + 1))
                        ok 1 "$_msg"
                done <<EOF
$_out
EOF
        done
        [ "$1" = summary ] || return 0
        [ "$_cut" -eq 0 ] ||
                diag "$_cut requests were cut from the request logs by the test before they could be checked for overwrites"
        [ "$_FAKE_OVERWRITES" -eq 0 ] &&
                ok 0 "the reconciler overwrote no connector (no PUT /_connector/<id> of its answered 200): $_FAKE_CHECKED_REQUESTS of its requests in $_logs request logs checked"
        return 0
}

# fake_requests [JQ-FILTER]: the request log's entries (control requests left out) as compact JSON,
# one a line, each passed through JQ-FILTER (default '.'), e.g.
#   fake_requests 'select(.method == "DELETE") | .connector_id'
fake_requests() {
        jq -c "select(.control | not) | ${1:-.}" "$FAKE_LOG"
}

# fake_saw JQ-CONDITION: some entry of the request log (control requests left out) meets the
# condition, e.g. fake_saw '.status == 503' (a predicate for wait_for).
fake_saw() {
        [ -n "$(fake_requests "select($1)")" ]
}

# fake_control METHOD PATH [BODY]: calls a control endpoint (/_fake/...) and prints the answer.
fake_control() {
        if [ $# -ge 3 ]; then
                curl -sS -k --max-time "$CURL_MAX_TIME" -X "$1" -H 'Content-Type: application/json' \
                        --data-binary "$3" "$FAKE_URL$2"
        else
                curl -sS -k --max-time "$CURL_MAX_TIME" -X "$1" "$FAKE_URL$2"
        fi
}

# fake_curl METHOD PATH [CURL-ARGS...]: one request to the fake cluster, the path sent as given
# (no globbing, no dot-segment squashing). Sets HTTP_STATUS; the body is left in $HTTP_BODY and
# the response headers in $HTTP_HEADERS.
HTTP_BODY="$TEST_TMP/http-body"
HTTP_HEADERS="$TEST_TMP/http-headers"
fake_curl() {
        _fake_m=$1
        _fake_p=$2
        shift 2
        HTTP_STATUS=$(curl -sS -g --path-as-is --max-time "$CURL_MAX_TIME" -o "$HTTP_BODY" -D "$HTTP_HEADERS" \
                -w '%{http_code}' -X "$_fake_m" "$@" "$FAKE_URL$_fake_p")
}

# http_header NAME: the values of a header of the last fake_curl response, one a line.
http_header() {
        grep -i "^$1:" "$HTTP_HEADERS" | sed 's/^[^:]*: *//' | tr -d '\r'
}

# ---- Connectors, manifests and configs ----

# connector ID INDEX_NAME SERVICE_TYPE: one connector document in the shape GET returns it.
connector() {
        printf '{"id":"%s","name":"%s","index_name":"%s","service_type":"%s","status":"connected",' \
                "$1" "$1" "$2" "$3"
        printf '"configuration":{},"custom_scheduling":{},"filtering":[],"is_native":false,"language":"en",'
        printf '"scheduling":{"full":{"enabled":false,"interval":"0 0 0 * * ?"}},"sync_now":false}'
}

# write_seed FILE "ID INDEX_NAME SERVICE_TYPE"...: a seed for the fake cluster with these
# connectors, in that order.
write_seed() {
        _seed_file=$1
        shift
        {
                echo '{"connectors":['
                _seed_sep=
                for _seed_c in "$@"; do
                        printf '%s' "$_seed_sep"
                        _seed_sep=,
                        # shellcheck disable=SC2086
                        connector $_seed_c
                        echo
                done
                echo ']}'
        } >"$_seed_file"
}

# write_set FILE NAME ID-PREFIX [OPTION...] DECLARED-ID...: one ConnectorSet NAME owning the
# connectors whose id starts with ID-PREFIX (every connector, with no selector, when it is ""),
# declaring the ids given ("connectors: []" when none; read from standard input, one a line, when
# the only id is "-"). The options, before the ids:
#   --service-types LIST  selector.service_types: [LIST]
#   --delete-sync-jobs    prune.delete_sync_jobs: true
#   --allow-empty         prune.allow_empty: true
#   --purge-after D       prune.purge_after: D
# The connectors come last, so that a test can append "    - id: ..." lines.
write_set() {
        _set_file=$1 _set_name=$2 _set_prefix=$3 _set_types='' _set_prune=
        shift 3
        while :; do
                case $1 in
                --service-types) _set_types=$2; shift 2 ;;
                --delete-sync-jobs) _set_prune="$_set_prune    delete_sync_jobs: true\n"; shift ;;
                --allow-empty) _set_prune="$_set_prune    allow_empty: true\n"; shift ;;
                --purge-after) _set_prune="$_set_prune    purge_after: $2\n"; shift 2 ;;
                *) break ;;
                esac
        done
        {
                printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\n'
                printf 'metadata:\n  name: %s\n' "$_set_name"
                printf 'spec:\n'
                [ -z "$_set_prefix$_set_types" ] || printf '  selector:\n'
                [ -z "$_set_prefix" ] || printf '    id_prefix: %s\n' "$_set_prefix"
                [ -z "$_set_types" ] || printf '    service_types: [%s]\n' "$_set_types"
                [ -z "$_set_prune" ] || printf '  prune:\n%b' "$_set_prune"
                if [ "$*" = - ]; then
                        printf '  connectors:\n'
                        sed 's/^/    - id: /'
                elif [ $# -gt 0 ]; then
                        printf '  connectors:\n'
                        printf '    - id: %s\n' "$@"
                else
                        printf '  connectors: []\n'
                fi
        } >"$_set_file"
}

# The places of a test's reconciler: the manifests folder $M (made here), the backup folder $B,
# and the config file $CFG.
M="$TEST_TMP/manifests"
B="$TEST_TMP/backups"
CFG="$TEST_TMP/config.yaml"
mkdir -p "$M"

# write_config FILE [YAML-LINE...]: a config for the fake cluster at $FAKE_URL with manifests in $M,
# backups in $B, its state in $TEST_TMP/state, and short retry delays; the extra lines are
# appended (top-level keys only: a key given here replaces nothing, so give only new ones).
write_config() {
        _cfg=$1
        shift
        {
                echo "cluster:"
                echo "  url: $FAKE_URL"
                echo "  request_timeout: 5s"
                echo "manifests: $M"
                echo "backup_dir: $B"
                echo "state_dir: $TEST_TMP/state"
                echo "retry:"
                echo "  initial_delay: 10ms"
                echo "  max_delay: 100ms"
                for _l in "$@"; do echo "$_l"; done
        } >"$_cfg"
}

# ---- The reconciler against the fake cluster ----

# reconcile ARGS...: runs the reconciler with console logging; sets RC, leaves stdout in $OUT and
# stderr in $ERR. Bounded: a hang is killed after 60 s.
OUT="$TEST_TMP/stdout"
ERR="$TEST_TMP/stderr"
reconcile() {
        timeout -k 5 60 "$RECONCILER" --log-target console "$@" >"$OUT" 2>"$ERR"
        RC=$?
}

# deleted_ids: the connector ids the fake saw DELETE requests for, sorted, one a line.
deleted_ids() {
        fake_requests 'select(.method == "DELETE" and .connector_id != null) | .connector_id' | jq -r . | sort
}

# was_deleted ID: the fake saw a DELETE of connector ID (a predicate for wait_for).
was_deleted() {
        deleted_ids | grep -qxF -- "$1"
}

# ---- sd_notify messages (tests/notify-recorder.py; needs python3) ----

# start_notify_recorder: a NOTIFY_SOCKET for the daemon at $NOTIFY, each message recorded as a line
# "SECONDS FIELD|FIELD..." of $NOTES; waits (at most 10 s) until it listens, or bails out.
NOTIFY="$TEST_TMP/notify.sock"
NOTES="$TEST_TMP/notify.log"
start_notify_recorder() {
        python3 "$top_srcdir/tests/notify-recorder.py" "$NOTIFY" "$NOTES" &
        TEST_PIDS="$TEST_PIDS $!"
        wait_alive "$!" 10 test -S "$NOTIFY" || bail_out "the notify socket recorder did not start"
}

# notes_after LINE PATTERN: the notify messages after line LINE that match an extended regex.
notes_after() {
        tail -n +"$(($1 + 1))" "$NOTES" | grep -E "$2"
}

# wait_note LINE PATTERN [SECONDS]: waits (at most SECONDS, default 10) for such a message.
wait_note() {
        wait_for "${3:-10}" notes_after "$1" "$2"
}

# notify_barrier: sends a message of its own to $NOTIFY and waits (at most 10 s) until it is
# recorded. Datagrams are received in the order sent, so once it returns 0 every message sent
# before it is in $NOTES: what is not there was never sent.
notify_barrier() {
        _barrier="TEST_BARRIER=$(date +%s%N)"
        python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), sys.argv[1])' \
                "$NOTIFY" "$_barrier" &&
                wait_note 0 "^[0-9.]+ $_barrier\$"
}
