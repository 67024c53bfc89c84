# Shared helpers for the TAP shell tests. Source it: . "$top_srcdir/tests/lib.sh"
# Each test prints TAP; the helpers count tests and print the plan at the end (tap_done).

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

tap_done() {
        echo "1..$TAP_N"
        [ "$TAP_FAILED" -eq 0 ]
}

# A private scratch folder, removed on exit together with every process we started.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cr-test.XXXXXX")
TEST_PIDS=""
cleanup_test() {
        for p in $TEST_PIDS; do kill "$p" 2>/dev/null; done
        for p in $TEST_PIDS; do wait "$p" 2>/dev/null; done
        rm -rf "$TEST_TMP"
}
trap cleanup_test EXIT; [ -n "$KEEP_TMP" ] && trap - EXIT
trap 'exit 130' INT TERM

RECONCILER="$top_builddir/connector-reconciler"

# ---- The fake Elasticsearch cluster (tests/fake/README.md) ----
FAKE_CLUSTER="$top_builddir/tests/fake/fake-cluster"
FAKE_N=0

# start_fake [ARGS...]: starts the fake cluster on a free loopback port with a request log in
# $TEST_TMP and waits (at most 10 s) until it listens. Sets FAKE_PORT, FAKE_URL (https:// when
# --tls-cert is given), FAKE_LOG, FAKE_PID; the process is ended on exit with the others.
start_fake() {
        FAKE_N=$((FAKE_N + 1))
        FAKE_LOG="$TEST_TMP/fake-$FAKE_N.log"
        _fake_port_file="$TEST_TMP/fake-$FAKE_N.port"
        _fake_err="$TEST_TMP/fake-$FAKE_N.err"
        rm -f "$_fake_port_file"
        "$FAKE_CLUSTER" --port 0 --port-file "$_fake_port_file" --log "$FAKE_LOG" --parent-pid $$ "$@" \
                2>"$_fake_err" &
        FAKE_PID=$!
        TEST_PIDS="$TEST_PIDS $FAKE_PID"
        _fake_tries=0
        while [ ! -s "$_fake_port_file" ]; do
                if ! kill -0 "$FAKE_PID" 2>/dev/null; then
                        diag "fake-cluster did not start: $(cat "$_fake_err")"
                        return 1
                fi
                _fake_tries=$((_fake_tries + 1))
                if [ "$_fake_tries" -gt 200 ]; then
                        diag "fake-cluster did not listen within 10 s"
                        return 1
                fi
                sleep 0.05
        done
        FAKE_PORT=$(cat "$_fake_port_file")
        _fake_scheme=http
        for _fake_arg in "$@"; do
                [ "$_fake_arg" = --tls-cert ] && _fake_scheme=https
        done
        FAKE_URL="$_fake_scheme://127.0.0.1:$FAKE_PORT"
        return 0
}

# stop_fake: ends the fake cluster started last (SIGTERM) and waits for it; returns its exit status.
stop_fake() {
        kill -TERM "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID"
        _fake_rc=$?
        TEST_PIDS=$(printf '%s\n' $TEST_PIDS | grep -vx "$FAKE_PID" | tr '\n' ' ')
        return "$_fake_rc"
}

# fake_requests [JQ-FILTER]: the request log's entries (control requests left out) as compact JSON,
# one a line, each passed through JQ-FILTER (default '.'), e.g.
#   fake_requests 'select(.method == "DELETE") | .connector_id'
fake_requests() {
        jq -c "select(.control | not) | ${1:-.}" "$FAKE_LOG"
}

# fake_control METHOD PATH [BODY]: calls a control endpoint (/_fake/...) and prints the answer.
fake_control() {
        if [ $# -ge 3 ]; then
                curl -sS -k -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$FAKE_URL$2"
        else
                curl -sS -k -X "$1" "$FAKE_URL$2"
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
        HTTP_STATUS=$(curl -sS -g --path-as-is -o "$HTTP_BODY" -D "$HTTP_HEADERS" -w '%{http_code}' \
                -X "$_fake_m" "$@" "$FAKE_URL$_fake_p")
}

# http_header NAME: the values of a header of the last fake_curl response, one a line.
http_header() {
        grep -i "^$1:" "$HTTP_HEADERS" | sed 's/^[^:]*: *//' | tr -d '\r'
}

# ---- The reconciler against the fake cluster ----

# connector ID INDEX_NAME SERVICE_TYPE: one connector document in the shape GET returns it.
connector() {
        printf '{"id":"%s","name":"%s","index_name":"%s","service_type":"%s","status":"connected",' \
                "$1" "$1" "$2" "$3"
        printf '"configuration":{},"custom_scheduling":{},"filtering":[],"is_native":false,"language":"en",'
        printf '"scheduling":{"full":{"enabled":false,"interval":"0 0 0 * * ?"}},"sync_now":false}'
}

# write_config FILE [YAML-LINE...]: a config for the fake cluster at $FAKE_URL with backups in
# $TEST_TMP/backups, its state in $TEST_TMP/state, manifests in $TEST_TMP/manifests, and short
# retry delays; the extra lines
# are appended (top-level keys only: a key given here replaces nothing, so give only new ones).
write_config() {
        _cfg=$1
        shift
        {
                echo "cluster:"
                echo "  url: $FAKE_URL"
                echo "  request_timeout: 5s"
                echo "manifests: $TEST_TMP/manifests"
                echo "backup_dir: $TEST_TMP/backups"
                echo "state_dir: $TEST_TMP/state"
                echo "retry:"
                echo "  initial_delay: 10ms"
                echo "  max_delay: 100ms"
                for _l in "$@"; do echo "$_l"; done
        } >"$_cfg"
}

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
