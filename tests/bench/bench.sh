#!/bin/bash
# The benchmarks (`make bench`): connector-reconciler against the fake Elasticsearch cluster and
# against the cron script an operator would write instead (tests/bench/baseline.sh), on
# generated scenarios (tests/bench/gen-scenario.py), with the fake's own ceiling under wrk,
# instruction counts from callgrind, wall-clock timings of the CPU-bound steps
# (tests/bench/bench-core) and the idle daemon's memory and wakeups. Prints one table and writes
# the figures to BENCH_REPORT (docs/BENCHMARKS.md in the source tree).
#
# Settings (environment or make variables):
#   BENCH_SIZES          connector counts, default "1000 10000 50000"
#   BENCH_ROUNDS         at most this many alternating rounds a size, default 3 ...
#   BENCH_SIZE_SECONDS   ... while a size's rounds stay within this many seconds, default 120
#   BENCH_IDLE_SECONDS   how long the idle daemon is watched, default 60
#   BENCH_BACKUP_DIR     where the backups go (a fresh folder below it, one below that per run,
#                        all kept until the end); default the build folder's bench/, on the
#                        same file system as a real backup_dir
#   BENCH_REPORT         the Markdown report to write, default $top_srcdir/docs/BENCHMARKS.md
#   BENCH_OUT            the scratch folder, default $top_builddir/bench
#   BENCH_PREVIOUS       another connector-reconciler binary (the build of an earlier commit, say),
#                        run as a third tool, "previous", in every round: same scenarios,
#                        concurrency and checks, its own config of the keys it accepts; the report
#                        adds its rows and "this build / previous". Default none
set -uo pipefail

: "${top_srcdir:?run through make bench, or set top_srcdir}"
: "${top_builddir:?run through make bench, or set top_builddir}"

SIZES=${BENCH_SIZES:-1000 10000 50000}
ROUNDS=${BENCH_ROUNDS:-3}
SIZE_SECONDS=${BENCH_SIZE_SECONDS:-120}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
OUT=${BENCH_OUT:-$top_builddir/bench}
REPORT=${BENCH_REPORT:-$top_srcdir/docs/BENCHMARKS.md}
PREVIOUS=${BENCH_PREVIOUS:-}
CONCURRENCY=4
SETS=50

RECONCILER=$top_builddir/connector-reconciler
FAKE=$top_builddir/tests/fake/fake-cluster
CORE=$top_builddir/tests/bench/bench-core
BENCH=$top_srcdir/tests/bench

die() {
        echo "bench: $*" >&2
        exit 1
}
say() {
        printf '== %s\n' "$*" >&2
}

for tool in curl jq python3 wrk valgrind callgrind_annotate /usr/bin/time; do
        command -v "$tool" >/dev/null || die "'$tool' is needed (Debian: curl jq python3 python3-yaml wrk valgrind time)"
done
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is needed by the baseline"
for f in "$RECONCILER" "$FAKE" "$CORE"; do
        [ -x "$f" ] || die "'$f' is not built: run make bench"
done
if [ -n "$PREVIOUS" ]; then
        [ -f "$PREVIOUS" ] && [ -x "$PREVIOUS" ] || die "BENCH_PREVIOUS: '$PREVIOUS' is not an executable file"
        PREVIOUS=$(cd "$(dirname "$PREVIOUS")" && pwd)/$(basename "$PREVIOUS")
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BACKUP_ROOT=${BENCH_BACKUP_DIR:-$OUT/backups}
mkdir -p "$BACKUP_ROOT"
BACKUPS=$(mktemp -d "$BACKUP_ROOT/bench.XXXXXX") || die "cannot make a folder in '$BACKUP_ROOT'"
RUNS=$OUT/runs.tsv
CEILING=$OUT/ceiling.tsv
CORE_TSV=$OUT/core.tsv
PROFILE=$OUT/profile.tsv
printf 'size\ttool\tround\twall_s\tuser_s\tsys_s\tmaxrss_kb\trequests\texit\tverified\tnote\n' >"$RUNS"
printf 'size\trequests\tspan_s\n' >"$CEILING"
printf 'what\tkey\tvalue\n' >"$CORE_TSV"
printf 'run\tfunction\tinclusive\tself\ttotal\n' >"$PROFILE"

# Every process started here is ended on exit, by its id.
PIDS_FILE=$OUT/pids
: >"$PIDS_FILE"
cleanup() {
        local p
        for p in $(cat "$PIDS_FILE" 2>/dev/null); do kill "$p" 2>/dev/null; done
        for p in $(cat "$PIDS_FILE" 2>/dev/null); do wait "$p" 2>/dev/null; done
        rm -rf "$OUT/run" "$BACKUPS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
track() {
        echo "$1" >>"$PIDS_FILE"
}

# start_fake DIR SEED WINDOW: the fake cluster with a request log DIR/requests.log; sets FAKE_PID
# and URL. A 50,000 connector seed takes a few seconds to load.
start_fake() {
        local dir=$1 seed=$2 window=$3 i
        rm -f "$dir/port"
        "$FAKE" --port 0 --port-file "$dir/port" --seed "$seed" --log "$dir/requests.log" \
                --max-result-window "$window" --parent-pid $$ 2>"$dir/fake.err" &
        FAKE_PID=$!
        track "$FAKE_PID"
        for i in $(seq 1200); do
                [ -s "$dir/port" ] && break
                kill -0 "$FAKE_PID" 2>/dev/null || die "fake-cluster did not start: $(cat "$dir/fake.err")"
                sleep 0.1
        done
        [ -s "$dir/port" ] || die "fake-cluster did not listen within 120 s"
        URL="http://127.0.0.1:$(cat "$dir/port")"
}
stop_fake() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
}

# The list API's result window: 10,000 unless raised. The scenarios of 10,000 connectors and more
# run with index.max_result_window raised to twice their size, as an operator can do on the
# connector index, since neither tool can see more than the window (and Elasticsearch counts
# hits exactly only up to 10,000, so at 10,000 the count alone cannot prove the listing whole).
window_for() {
        if [ "$1" -ge 10000 ]; then echo $(($1 * 2)); else echo 10000; fi
}

# write_config FILE URL MANIFESTS BACKUPS WINDOW [WINDOW_KEY STATE_KEY]: the config of one run.
# WINDOW_KEY and STATE_KEY (default those of this build, see probe_config) say whether the
# binary takes cluster.max_result_window and state_dir; empty leaves the key out.
write_config() {
        local window_key=${6-$WINDOW_KEY} state_key=${7-$STATE_KEY}
        {
                echo "cluster:"
                echo "  url: $2"
                [ -n "$window_key" ] && [ "$5" -gt 10000 ] && echo "  $window_key: $5"
                echo "manifests: $3"
                echo "backup_dir: $4"
                [ -n "$state_key" ] && echo "$state_key: $4.state"
                echo "concurrency: $CONCURRENCY"
                echo "safety:"
                echo "  max_deletions: unlimited"
        } >"$1"
}

# probe_config BINARY: which of the optional keys the binary's config takes, found by asking its
# `validate` (an earlier build may not know a key this one writes, and refuses an unknown key):
# a config with cluster.max_result_window and state_dir, then without state_dir, then without
# the window, then without both; the first it accepts wins. Sets PROBED_WINDOW_KEY and
# PROBED_STATE_KEY (empty: left out). Fails if it takes none of them: concurrency and
# max_deletions are not optional, since without them the runs would not be alike.
probe_config() {
        local bin=$1 d=$OUT/probe w s
        rm -rf "$d"
        mkdir -p "$d/m" "$d/b" "$d/b.state"
        cat >"$d/m/a.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: a
spec:
  connectors:
    - id: a
YAML
        for w in max_result_window ""; do
                for s in state_dir ""; do
                        write_config "$d/config.yaml" http://127.0.0.1:9 "$d/m" "$d/b" 20000 "$w" "$s"
                        if "$bin" -c "$d/config.yaml" validate >"$d/validate.out" 2>&1; then
                                PROBED_WINDOW_KEY=$w
                                PROBED_STATE_KEY=$s
                                rm -rf "$d"
                                return 0
                        fi
                done
        done
        say "'$bin' refuses every config tried; the last, and what its validate said:"
        cat "$d/config.yaml" "$d/validate.out" >&2
        rm -rf "$d"
        return 1
}

# scenario N: generates (once) the scenario of N connectors; prints its folder.
scenario() {
        local dir=$OUT/scenario-$1
        if [ ! -s "$dir/orphans.txt" ] || [ "$dir/stamp" -ot "$BENCH/gen-scenario.py" ]; then
                say "Generating the scenario of $1 connectors"
                rm -rf "$dir"
                python3 "$BENCH/gen-scenario.py" "$dir" "$1" "$SETS" || die "gen-scenario.py failed"
                touch "$dir/stamp"
        fi
        echo "$dir"
}

# run_tool TOOL N ROUND: one run on a fresh fake cluster; appends a line to runs.tsv.
run_tool() {
        local tool=$1 n=$2 round=$3 sc dir window rc requests verified note wall user sys rss
        sc=$OUT/scenario-$n
        dir=$OUT/run
        rm -rf "$dir"
        mkdir -p "$dir"
        window=$(window_for "$n")
        start_fake "$dir" "$sc/cluster.json" "$window"
        local backups
        backups=$(mktemp -d "$BACKUPS/$tool-$n.XXXXXX")
        # What earlier runs wrote reaches the disk now, not during this run.
        sync
        case $tool in
        reconciler)
                write_config "$dir/config.yaml" "$URL" "$sc/manifests" "$backups" "$window"
                /usr/bin/time -o "$dir/time" -f '%e %U %S %M' timeout -k 5 1800 \
                        "$RECONCILER" -c "$dir/config.yaml" --log-target console once 2>"$dir/tool.err" >/dev/null
                rc=$?
                ;;
        previous)
                write_config "$dir/config.yaml" "$URL" "$sc/manifests" "$backups" "$window" \
                        "$PREV_WINDOW_KEY" "$PREV_STATE_KEY"
                /usr/bin/time -o "$dir/time" -f '%e %U %S %M' timeout -k 5 1800 \
                        "$PREVIOUS" -c "$dir/config.yaml" --log-target console once 2>"$dir/tool.err" >/dev/null
                rc=$?
                ;;
        baseline)
                /usr/bin/time -o "$dir/time" -f '%e %U %S %M' timeout -k 5 1800 \
                        bash "$BENCH/baseline.sh" "$URL" "$sc/manifests" "$backups" "$CONCURRENCY" \
                        2>"$dir/tool.err" >/dev/null
                rc=$?
                ;;
        esac
        stop_fake
        read -r wall user sys rss < <(tail -n 1 "$dir/time")
        requests=$(jq -c 'select(.control | not)' "$dir/requests.log" | wc -l)
        # Did it do the job? Exactly the orphans deleted, one backup each, nothing declared touched.
        verified=no
        if jq -r 'select(.method == "DELETE" and .status == 200) | .connector_id' "$dir/requests.log" |
                sort | cmp -s - "$sc/orphans.txt" &&
                [ "$(find "$backups" -name '*.json' | wc -l)" -eq "$(wc -l <"$sc/orphans.txt")" ]; then
                verified=yes
        fi
        note=
        if [ "$verified" = no ]; then
                note=$(grep -m1 -E 'Failed to list|Safety stop' "$dir/tool.err" | sed 's/.*deleting nothing: //' |
                        head -c 300)
                [ -n "$note" ] || note=$(tail -n 1 "$dir/tool.err" | head -c 200)
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$tool" "$round" "$wall" "$user" "$sys" \
                "$rss" "$requests" "$rc" "$verified" "$note" >>"$RUNS"
        awk -v t="$tool" -v r="$round" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v q="$requests" \
                -v c="$rc" -v v="$([ "$verified" = yes ] && echo ", verified" || echo ", NOT verified: $note")" \
                'BEGIN { printf "   %-10s round %s: %6.2f s wall, %6.2f s CPU, %6.1f MiB peak, %6s requests, exit %s%s\n",
                        t, r, w, u + s, m / 1024, q, c, v }' >&2
        # The backups stay until the benchmark ends: on ext4 without a journal, creating a file
        # skips every inode freed in the last 5 to 10 seconds at a cost each (find_inode_bit(),
        # recently_deleted()), so deleting one run's thousands of backups would tax the next run's.
        rm -rf "$dir"
}

# ceiling N: the fake cluster's rate for the cycle's request mix under wrk (4 connections), on a
# fresh fake each time.
ceiling() {
        local n=$1 sc=$OUT/scenario-$1 dir=$OUT/run
        rm -rf "$dir"
        mkdir -p "$dir"
        start_fake "$dir" "$sc/cluster.json" "$(window_for "$n")"
        timeout -k 5 600 wrk -t 1 -c "$CONCURRENCY" -d 600s -s "$BENCH/mix.lua" "$URL" -- "$sc/orphans.txt" "$n" \
                >"$dir/wrk.out" 2>&1
        stop_fake
        jq -rs 'map(select(.control | not)) | [length, .[0].time, .[-1].time] | @tsv' "$dir/requests.log" |
                python3 -c '
import sys, datetime
n, a, b = sys.stdin.read().split()
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
span = (t(b) - t(a)).total_seconds()
print("%s\t%s\t%.3f" % (sys.argv[1], n, span))
' "$n" >>"$CEILING"
        tail -n 1 "$CEILING" | awk -F'\t' '{ printf "   ceiling: %d requests in %.2f s: %.0f/s\n", $2, $3, $2 / $3 }' >&2
        rm -rf "$dir"
}

# callgrind_total FILE: the instructions a callgrind output file counted.
callgrind_total() {
        awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

# core: wall-clock timings of the CPU-bound steps, and their instruction counts.
core() {
        local d=$OUT/core
        rm -rf "$d"
        mkdir -p "$d"
        say "Loading 10,000 declared connectors from 50 files; planning 50,000 against 50,000"
        bash "$BENCH/gen-manifests.sh" "$d/manifests" 50 10000
        "$CORE" load "$d/manifests" 21 >"$d/load.txt" || die "bench-core load failed"
        "$CORE" plan 50000 21 >"$d/plan.txt" || die "bench-core plan failed"
        cat "$d/load.txt" "$d/plan.txt" >&2
        # One list page of 100 documents of the 1,000 connector scenario, as the fake sends it.
        python3 -c '
import json, sys
docs = json.load(open(sys.argv[1]))["connectors"][:100]
json.dump({"count": 1000, "results": docs}, open(sys.argv[2], "w"), separators=(",", ":"))
' "$OUT/scenario-1000/cluster.json" "$d/page.json"
        "$CORE" list "$d/page.json" 21 >"$d/list.txt" || die "bench-core list failed"
        cat "$d/list.txt" >&2
        # The same page as Elasticsearch answers the reconciler's filter_path: the five fields.
        python3 -c '
import json, sys
page = json.load(open(sys.argv[1]))
keep = ("id", "name", "service_type", "index_name", "deleted")
page["results"] = [{k: d[k] for k in keep if k in d} for d in page["results"]]
json.dump(page, open(sys.argv[2], "w"), separators=(",", ":"))
' "$d/page.json" "$d/page-filtered.json"
        "$CORE" list "$d/page-filtered.json" 21 | sed 's/^list /listf /' >"$d/listf.txt" ||
                die "bench-core list failed"
        cat "$d/listf.txt" >&2
        for w in load plan list listf; do
                tr ' ' '\n' <"$d/$w.txt" | awk -F= -v w="$w" 'NF == 2 { printf "%s\t%s\t%s\n", w, $1, $2 }' >>"$CORE_TSV"
        done
        valgrind --tool=callgrind --callgrind-out-file="$d/load.cg" --toggle-collect=manifest_load \
                "$CORE" load "$d/manifests" 1 >/dev/null 2>"$d/load.vg" || die "callgrind of bench-core load failed"
        printf 'load\tinstructions\t%s\n' "$(callgrind_total "$d/load.cg")" >>"$CORE_TSV"
        valgrind --tool=callgrind --callgrind-out-file="$d/plan.cg" --toggle-collect=plan_build \
                "$CORE" plan 50000 1 >/dev/null 2>"$d/plan.vg" || die "callgrind of bench-core plan failed"
        printf 'plan\tinstructions\t%s\n' "$(callgrind_total "$d/plan.cg")" >>"$CORE_TSV"
        valgrind --tool=callgrind --callgrind-out-file="$d/list.cg" --toggle-collect=cluster_decode_list_page \
                "$CORE" list "$d/page.json" 1 >/dev/null 2>"$d/list.vg" || die "callgrind of bench-core list failed"
        printf 'list\tinstructions\t%s\n' "$(callgrind_total "$d/list.cg")" >>"$CORE_TSV"
        valgrind --tool=callgrind --callgrind-out-file="$d/listf.cg" --toggle-collect=cluster_decode_list_page \
                "$CORE" list "$d/page-filtered.json" 1 >/dev/null 2>"$d/listf.vg" ||
                die "callgrind of bench-core list failed"
        printf 'listf\tinstructions\t%s\n' "$(callgrind_total "$d/listf.cg")" >>"$CORE_TSV"
}

# profile N: the reconciler's `plan` (load, list, plan) and `once` under callgrind, on the
# scenario of N connectors: inclusive instruction counts of each step and the top functions.
profile() {
        local n=$1 sc=$OUT/scenario-$1 d=$OUT/profile-$1 what
        rm -rf "$d"
        mkdir -p "$d"
        for what in plan once; do
                say "callgrind: connector-reconciler $what, $n connectors"
                start_fake "$d" "$sc/cluster.json" "$(window_for "$n")"
                write_config "$d/config.yaml" "$URL" "$sc/manifests" "$d/backups" "$(window_for "$n")"
                timeout -k 5 1800 valgrind --tool=callgrind --callgrind-out-file="$d/$what.cg" \
                        "$RECONCILER" -c "$d/config.yaml" --log-target console "$what" >/dev/null 2>"$d/$what.err"
                stop_fake
                rm -rf "$d/backups" "$d/requests.log"
                callgrind_annotate --inclusive=yes --threshold=100 "$d/$what.cg" >"$d/$what.inclusive" 2>/dev/null
                callgrind_annotate --threshold=100 "$d/$what.cg" >"$d/$what.self" 2>/dev/null
                python3 "$BENCH/report.py" callgrind "$what-$n" "$d/$what.inclusive" "$d/$what.self" >>"$PROFILE"
        done
}

# idle: the `run` daemon after its first cycle (the 1,000 connector scenario), interval 10m,
# watched for IDLE_SECONDS without and with WATCHDOG_USEC (WatchdogSec=30s, as the unit ships):
# RssAnon, voluntary context switches (each one a wakeup), and perf's count of sched_switch.
idle_one() {
        local name=$1 watchdog=$2 d=$OUT/idle-$1 sc=$OUT/scenario-1000 fake daemon notify i perf_pid=
        rm -rf "$d"
        mkdir -p "$d"
        "$FAKE" --port 0 --port-file "$d/port" --seed "$sc/cluster.json" --parent-pid $$ 2>"$d/fake.err" &
        fake=$!
        track "$fake"
        for i in $(seq 600); do [ -s "$d/port" ] && break; sleep 0.1; done
        python3 "$top_srcdir/tests/notify-recorder.py" "$d/notify.sock" "$d/notify.log" &
        notify=$!
        track "$notify"
        for i in $(seq 100); do [ -S "$d/notify.sock" ] && break; sleep 0.05; done
        write_config "$d/config.yaml" "http://127.0.0.1:$(cat "$d/port")" "$sc/manifests" "$d/backups" 10000
        echo "interval: 10m" >>"$d/config.yaml"
        if [ -n "$watchdog" ]; then
                NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=$watchdog \
                        "$RECONCILER" -c "$d/config.yaml" --log-target console run 2>"$d/daemon.err" &
        else
                env -u WATCHDOG_USEC -u WATCHDOG_PID NOTIFY_SOCKET="$d/notify.sock" \
                        "$RECONCILER" -c "$d/config.yaml" --log-target console run 2>"$d/daemon.err" &
        fi
        daemon=$!
        track "$daemon"
        for i in $(seq 600); do grep -q 'STATUS=Cycle 1:' "$d/notify.log" 2>/dev/null && break; sleep 0.1; done
        if ! grep -q 'STATUS=Cycle 1:' "$d/notify.log" 2>/dev/null; then
                echo "error	the first cycle did not end within 60 s" >"$d/result.tsv"
                kill "$daemon" "$notify" "$fake" 2>/dev/null
                return
        fi
        sleep 2
        grep -E '^(RssAnon|VmHWM|voluntary_ctxt_switches|nonvoluntary_ctxt_switches):' "/proc/$daemon/status" |
                sed 's/:[[:space:]]*/\tbefore\t/' >"$d/result.tsv"
        printf 'watchdog_pings\tbefore\t%s\n' "$(grep -c 'WATCHDOG=1' "$d/notify.log")" >>"$d/result.tsv"
        if perf stat -e 'sched:sched_switch' -p "$daemon" -x, -o "$d/perf.csv" -- sleep "$IDLE_SECONDS" \
                2>/dev/null; then
                :
        else
                rm -f "$d/perf.csv"
                sleep "$IDLE_SECONDS"
        fi
        grep -E '^(RssAnon|VmHWM|voluntary_ctxt_switches|nonvoluntary_ctxt_switches):' "/proc/$daemon/status" |
                sed 's/:[[:space:]]*/\tafter\t/' >>"$d/result.tsv"
        [ -s "$d/perf.csv" ] && awk -F, '/sched:sched_switch/ { v = $1; if (v ~ /not counted/) v = 0; printf "sched_switch\tperf\t%s\n", v }' \
                "$d/perf.csv" >>"$d/result.tsv"
        printf 'watchdog_pings\tafter\t%s\n' "$(grep -c 'WATCHDOG=1' "$d/notify.log")" >>"$d/result.tsv"
        kill "$daemon"
        wait "$daemon" 2>/dev/null
        kill "$notify" "$fake" 2>/dev/null
        wait "$notify" "$fake" 2>/dev/null
}

machine() {
        {
                printf 'nproc\t%s\n' "$(nproc)"
                printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
                printf 'memory\t%s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
                printf 'kernel\t%s\n' "$(uname -r)"
                printf 'backup_fs\t%s\n' "$(findmnt -n -o FSTYPE,OPTIONS -T "$BACKUP_ROOT" 2>/dev/null | head -n 1 | tr -s ' ')"
                printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
                printf 'curl\t%s\n' "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
                printf 'jq\t%s\n' "$(jq --version)"
                printf 'python3\t%s\n' "$(python3 --version)"
                printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
                printf 'valgrind\t%s\n' "$(valgrind --version)"
                printf 'reconciler\t%s\n' "$("$RECONCILER" version | head -n 1)"
                printf 'window_key\t%s\n' "${WINDOW_KEY:-none}"
                if [ -n "$PREVIOUS" ]; then
                        printf 'previous\t%s\n' "$PREVIOUS"
                        printf 'previous_version\t%s\n' "$("$PREVIOUS" version 2>&1 | paste -sd ';' | sed 's/;/; /g')"
                        printf 'previous_sha256\t%s\n' "$(sha256sum "$PREVIOUS" | cut -c1-12)"
                        printf 'reconciler_sha256\t%s\n' "$(sha256sum "$RECONCILER" | cut -c1-12)"
                        printf 'previous_window_key\t%s\n' "${PREV_WINDOW_KEY:-none}"
                        printf 'previous_state_key\t%s\n' "${PREV_STATE_KEY:-none}"
                fi
                printf 'sizes\t%s\n' "$SIZES"
                printf 'idle_seconds\t%s\n' "$IDLE_SECONDS"
                printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
        } >"$OUT/machine.tsv"
}

START=$(date +%s)
# Each binary gets a config of the keys it takes.
if probe_config "$RECONCILER"; then
        WINDOW_KEY=$PROBED_WINDOW_KEY
        STATE_KEY=$PROBED_STATE_KEY
else
        say "going on with the config this benchmark always wrote"
        WINDOW_KEY=
        STATE_KEY=state_dir
fi
TOOLS=(reconciler baseline)
if [ -n "$PREVIOUS" ]; then
        probe_config "$PREVIOUS" || die "BENCH_PREVIOUS: '$PREVIOUS' accepts none of the configs tried"
        PREV_WINDOW_KEY=$PROBED_WINDOW_KEY
        PREV_STATE_KEY=$PROBED_STATE_KEY
        say "Previous build: $PREVIOUS ($("$PREVIOUS" version 2>&1 | head -n 1)); its config: cluster.max_result_window $([ -n "$PREV_WINDOW_KEY" ] && echo yes || echo no), state_dir $([ -n "$PREV_STATE_KEY" ] && echo yes || echo no)"
        TOOLS+=(previous)
fi
machine
for n in $SIZES 1000; do scenario "$n" >/dev/null; done

# The idle daemon is watched in the background while the rest runs: it sleeps, so it neither
# disturbs the timings nor is disturbed (what it counts is its own).
say "Watching the idle daemon for $IDLE_SECONDS s (in the background)"
(idle_one nowatchdog "" &
        idle_one watchdog 30000000 &
        wait) &
IDLE_PID=$!
track "$IDLE_PID"
# Their first cycles go before the timings start.
for _ in $(seq 900); do
        [ "$(cat "$OUT"/idle-*/notify.log 2>/dev/null | grep -c 'STATUS=Cycle 1:')" -ge 2 ] && break
        sleep 0.1
done

for n in $SIZES; do
        if [ -n "$PREVIOUS" ]; then
                say "$n connectors, $((n / 2)) orphans: connector-reconciler once, the baseline and the previous build, in turn"
        else
                say "$n connectors, $((n / 2)) orphans: connector-reconciler once against the baseline, alternating"
        fi
        size_start=$(date +%s)
        round=1
        while :; do
                round_start=$(date +%s)
                # The order rotates from round to round, so that no tool always goes first: with
                # two tools, reconciler then baseline, then the other way round.
                for i in "${!TOOLS[@]}"; do
                        run_tool "${TOOLS[$(((i + round - 1) % ${#TOOLS[@]}))]}" "$n" "$round"
                done
                now=$(date +%s)
                [ "$round" -lt "$ROUNDS" ] || break
                [ $((now - size_start + now - round_start)) -le "$SIZE_SECONDS" ] || break
                round=$((round + 1))
        done
        # As many ceiling runs as rounds: a short one (1,000 connectors) is noisy.
        for r in $(seq "$round"); do ceiling "$n"; done
done

core
# The instruction profile, per connector, on 1,000 connectors: callgrind runs some 50 times slower,
# and the costs it shows are per connector (per page, per orphan) at any size.
profile 1000

say "Waiting for the idle daemon watch"
wait "$IDLE_PID"
cat "$OUT"/idle-nowatchdog/result.tsv | sed 's/^/nowatchdog\t/' >"$OUT/idle.tsv"
cat "$OUT"/idle-watchdog/result.tsv | sed 's/^/watchdog\t/' >>"$OUT/idle.tsv"

printf 'total_seconds\t%s\n' "$(($(date +%s) - START))" >>"$OUT/machine.tsv"
python3 "$BENCH/report.py" report "$OUT" "$REPORT" "$BENCH/notes.md" || die "report.py failed"
echo "Report written to $REPORT" >&2
