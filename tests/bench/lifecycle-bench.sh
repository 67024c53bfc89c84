#!/bin/bash
# What converging declared fields costs a cycle (`make bench-lifecycle`, on demand only). One
# ConnectorSet declares N connectors, each with `name` and `scheduling.full`; the fake cluster
# (Elasticsearch 9.1.3) holds exactly those N, as Elasticsearch stores them, each with its name
# and full schedule changed by hand. A fresh fake each round, then `connector-reconciler once`:
#   converge  spec.lifecycle {update: true} on that cluster: it reads every connector (GET), and
#             sends PUT _name and PUT _scheduling for each; checked: exit 0, exactly N of each in
#             the request log, nothing else written, and a `plan --format json` after it shows
#             nothing to update;
#   steady    the same set on the converged cluster: N GETs, no PUT;
#   prune     the same manifests without spec.lifecycle (prune only: the listing, no GET of a
#             connector), on the converged cluster.
# converge first (it makes the cluster the other two run on), then steady and prune in an order
# that alternates from round to round; round 0 is a warm-up, not counted. A run that does not do
# what it should stops the benchmark. Prints a report (medians of the rounds, ratios to prune, the
# cost per connector, callgrind's instruction counts) and writes it to the report.
#
# Settings (environment or make variables): BENCH_LIFECYCLE_SIZES (default "1000"),
# BENCH_LIFECYCLE_ROUNDS (5), BENCH_LIFECYCLE_CALLGRIND (yes or no), BENCH_LIFECYCLE_REPORT
# (default $top_srcdir/docs/BENCHMARKS-lifecycle.md), BENCH_LIFECYCLE_OUT (scratch, emptied:
# $top_builddir/bench-lifecycle).
set -uo pipefail

: "${top_srcdir:?run through make bench-lifecycle, or set top_srcdir}"
: "${top_builddir:?run through make bench-lifecycle, or set top_builddir}"
SIZES=${BENCH_LIFECYCLE_SIZES:-1000}
ROUNDS=${BENCH_LIFECYCLE_ROUNDS:-5}
CALLGRIND=${BENCH_LIFECYCLE_CALLGRIND:-yes}
REPORT=${BENCH_LIFECYCLE_REPORT:-$top_srcdir/docs/BENCHMARKS-lifecycle.md}
OUT=${BENCH_LIFECYCLE_OUT:-$top_builddir/bench-lifecycle}
RECONCILER=$top_builddir/connector-reconciler
FAKE=$top_builddir/tests/fake/fake-cluster
ES_VERSION=9.1.3
CONCURRENCY=4

die() { echo "bench-lifecycle: $*" >&2; exit 1; }
say() { printf '== %s\n' "$*" >&2; }

for tool in jq python3 awk timeout /usr/bin/time; do
        command -v "$tool" >/dev/null || die "'$tool' is needed (Debian: jq python3 time)"
done
for f in "$RECONCILER" "$FAKE"; do [ -x "$f" ] || die "no '$f': run make bench-lifecycle"; done
for n in $SIZES; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_LIFECYCLE_SIZES: '$n' is not a count"; done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_LIFECYCLE_ROUNDS: '$ROUNDS' is not a count"
[ "$CALLGRIND" = yes ] && ! command -v valgrind >/dev/null && { say "no valgrind: no instruction counts"; CALLGRIND=no; }
# The python behind a pyenv-style shim (only the report uses it).
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
SRC_REV=$(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo unknown)

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) && rm -rf "${OUT:?}"/* || die "cannot make '$OUT'"
REPORT_DIR=$(dirname "$REPORT") && [ -d "$REPORT_DIR" ] || die "BENCH_LIFECYCLE_REPORT: no folder '$REPORT_DIR'"

PIDS=()  # the fakes started here, ended on exit by their ids
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The list API's result window: 10,000 unless raised, as bench.sh raises it.
window_for() { if [ "$1" -ge 10000 ]; then echo $(($1 * 2)); else echo 10000; fi; }

# start_fake DIR N: a fake cluster seeded with DIR/../seed.json and a request log DIR/requests.log;
# sets FAKE_PID and URL.
start_fake() {
        local dir=$1 n=$2 i
        rm -f "$dir/port" "$dir/requests.log"
        "$FAKE" --version "$ES_VERSION" --port 0 --port-file "$dir/port" --seed "$dir/../seed.json" \
                --log "$dir/requests.log" --max-result-window "$(window_for "$n")" --parent-pid $$ 2>"$dir/fake.err" &
        FAKE_PID=$!
        PIDS+=("$FAKE_PID")
        for i in $(seq 1200); do
                [ -s "$dir/port" ] && break
                kill -0 "$FAKE_PID" 2>/dev/null || die "fake-cluster did not start: $(head -c 300 "$dir/fake.err")"
                sleep 0.1
        done
        [ -s "$dir/port" ] || die "fake-cluster did not listen within 120 s"
        URL="http://127.0.0.1:$(cat "$dir/port")"
}
stop_fake() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        unset 'PIDS[-1]'
}

# prepare N: the manifests with and without spec.lifecycle, and the seed: the N connectors as
# Elasticsearch 9.x stores them (every field, the default filtering), each with a name and a full
# schedule other than the declared ones.
prepare() {
        local n=$1 d=$OUT/n$1 lc
        mkdir -p "$d/lifecycle" "$d/prune" || die "cannot make '$d'"
        for lc in lifecycle prune; do
                awk -v n="$n" -v lc="$lc" 'BEGIN {
                        printf "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: bench\nspec:\n"
                        printf "  selector:\n    id_prefix: bench-\n"
                        if (lc == "lifecycle")
                                printf "  lifecycle:\n    update: true\n"
                        printf "  connectors:\n"
                        for (i = 0; i < n; i++) {
                                printf "    - id: bench-%06d\n      name: Connector %d\n", i, i
                                printf "      scheduling:\n        full: {enabled: true, interval: \"0 0 3 * * ?\"}\n"
                        }
                }' >"$d/$lc/bench.yaml" || die "cannot write the manifests"
        done
        jq -c --argjson n "$n" '. as $t | {connectors: [range($n) as $i | ($i | tostring | ("000000" + .)[-6:]) as $k |
                $t + {id: "bench-\($k)", name: "Renamed by hand \($i)", index_name: "search-bench-\($k)"}
                | .scheduling.full = {enabled: false, interval: "0 0 0 * * ?"}]}' >"$d/seed.json" <<'JSON' ||
{"name":"","description":"Written by hand","index_name":"","service_type":"google_drive","is_native":false,
 "language":"en","status":"connected","api_key_id":"key-1","configuration":{},"custom_scheduling":{},
 "features":{"document_level_security":{"enabled":false},"incremental_sync":{"enabled":true},
  "sync_rules":{"advanced":{"enabled":false},"basic":{"enabled":true}}},
 "filtering":[{"active":{"advanced_snippet":{"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","value":{}},
   "rules":[{"created_at":"2026-01-01T00:00:00.000Z","field":"_","id":"DEFAULT","order":0,"policy":"include","rule":"regex",
    "updated_at":"2026-01-01T00:00:00.000Z","value":".*"}],"validation":{"errors":[],"state":"valid"}},
  "domain":"DEFAULT",
  "draft":{"advanced_snippet":{"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","value":{}},
   "rules":[{"created_at":"2026-01-01T00:00:00.000Z","field":"_","id":"DEFAULT","order":0,"policy":"include","rule":"regex",
    "updated_at":"2026-01-01T00:00:00.000Z","value":".*"}],"validation":{"errors":[],"state":"valid"}}}],
 "pipeline":{"name":"ent-search-generic-ingestion","extract_binary_content":true,"reduce_whitespace":true,"run_ml_inference":true},
 "scheduling":{"access_control":{"enabled":false,"interval":"0 0 0 * * ?"},"full":{"enabled":false,"interval":"0 0 0 * * ?"},
  "incremental":{"enabled":false,"interval":"0 0 0 * * ?"}},
 "sync_now":false}
JSON
                die "cannot write the seed"
}

# configs N ROUND: a scratch folder for the round and a config for each manifest folder, with its
# own state_dir and backup_dir, against the fake at URL.
configs() {
        local n=$1 r=$2 d=$OUT/n$1 lc
        for lc in lifecycle prune; do
                mkdir -p "$d/round/$lc-state" "$d/round/$lc-backups"
                {
                        printf 'cluster:\n  url: %s\n  request_timeout: 60s\n' "$URL"
                        [ "$(window_for "$n")" -gt 10000 ] && printf '  max_result_window: %s\n' "$(window_for "$n")"
                        printf 'manifests: %s\n' "$d/$lc"
                        printf 'state_dir: %s\nbackup_dir: %s\n' "$d/round/$lc-state" "$d/round/$lc-backups"
                        printf 'concurrency: %s\n' "$CONCURRENCY"
                        printf 'safety:\n  max_updates: unlimited\n  max_deletions: unlimited\n'
                } >"$d/round/$lc.yaml"
        done
}

# run N CASE ROUND: one timed `once` (converge and steady with the lifecycle config, prune with
# the other), a line of runs.tsv with /usr/bin/time's figures and the requests it sent, counted
# from the fake's log (each request is logged before it is answered, so all of them are there when
# the reconciler has exited). Dies, keeping its stderr, when the run did not do what it should.
run() {
        local n=$1 c=$2 r=$3 d=$OUT/n$1/round cfg=lifecycle mark rc t counts
        [ "$c" = prune ] && cfg=prune
        mark=$(wc -l <"$d/requests.log")
        sync  # what earlier runs wrote reaches the disk now, not during this run
        timeout -k 5 600 /usr/bin/time -o "$d/time" -f '%e %U %S %M' \
                "$RECONCILER" -c "$d/$cfg.yaml" --log-target console once >/dev/null 2>"$d/run.err"
        rc=$?
        t=$(tail -n 1 "$d/time" | tr ' ' '\t')
        # requests, GET of a connector, GET of a list page, PUT _name, PUT _scheduling, other
        # writes, writes not answered 200: those of the reconciler (its User-Agent) during this run.
        counts=$(tail -n "+$((mark + 1))" "$d/requests.log" | jq -rs '
                map(select((.user_agent // "") | startswith("connector-reconciler/"))) |
                def w: .method != "GET" and .method != "HEAD";
                [length,
                 (map(select(.method == "GET" and .connector_id != null and (.path | test("^/_connector/[^/]+$")))) | length),
                 (map(select(.method == "GET" and .path == "/_connector")) | length),
                 (map(select(.method == "PUT" and (.path | endswith("/_name")))) | length),
                 (map(select(.method == "PUT" and (.path | endswith("/_scheduling")))) | length),
                 (map(select(w and ((.path | endswith("/_name") or endswith("/_scheduling")) | not))) | length),
                 (map(select(w and .status != 200)) | length)] | @tsv') || die "cannot read the request log"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$c" "$r" "$t" "$rc" "$counts" >>"$OUT/runs.tsv"
        local req get list pname psched other bad
        read -r req get list pname psched other bad <<<"$counts"
        awk -v c="$c" -v r="$r" -v t="$t" -v q="$req" -v g="$get" -v pn="$pname" -v ps="$psched" -v rc="$rc" 'BEGIN {
                split(t, f, "\t")
                printf "   %-8s round %s: %5.2f s wall, %5.2f s CPU, %5.1f MiB peak, %5d requests (%d GET connector, %d PUT _name, %d PUT _scheduling), exit %s\n",
                        c, r, f[1], f[2] + f[3], f[4] / 1024, q, g, pn, ps, rc }' >&2
        local why=
        [ "$rc" = 0 ] || why="exit $rc"
        [ "$other" = 0 ] && [ "$bad" = 0 ] || why="$why; $other other writes, $bad writes not answered 200"
        case $c in
        converge)
                [ "$pname" = "$n" ] && [ "$psched" = "$n" ] ||
                        why="$why; $pname PUT _name and $psched PUT _scheduling, not $n of each"
                [ "$get" -ge "$n" ] || why="$why; $get GET of a connector, fewer than $n" ;;
        steady)
                [ "$pname" = 0 ] && [ "$psched" = 0 ] || why="$why; $pname PUT _name and $psched PUT _scheduling, not none"
                [ "$get" = "$n" ] || why="$why; $get GET of a connector, not $n" ;;
        prune)
                [ "$pname" = 0 ] && [ "$psched" = 0 ] || why="$why; $pname PUT _name and $psched PUT _scheduling, not none"
                [ "$get" = 0 ] || why="$why; $get GET of a connector, not none"
                [ "$list" -ge 1 ] || why="$why; no listing" ;;
        esac
        if [ -n "$why" ]; then
                cp "$d/run.err" "$OUT/failed-$n-$c-$r.err"
                die "$c, $n connectors, round $r: ${why#; } (its stderr: $OUT/failed-$n-$c-$r.err; the request log: $d/requests.log)"
        fi
        if [ "$c" = converge ]; then  # untimed: the cluster now holds what the manifests declare
                "$RECONCILER" -c "$d/lifecycle.yaml" --log-target console plan --format json >"$d/plan.json" \
                        2>"$d/plan.err" || die "plan after converge, $n connectors, round $r: exit $? ($(tail -n 2 "$d/plan.err"))"
                jq -e --argjson n "$n" '(.update | length) == 0 and (.create | length) == 0 and .failed == [] and
                        .blocked == null and (.keep | length) == $n' "$d/plan.json" >/dev/null ||
                        die "plan after converge, $n connectors, round $r: not converged: $(jq -c '{update: (.update | length),
                                create: (.create | length), failed: (.failed | length), blocked, keep: (.keep | length)}' "$d/plan.json")"
        fi
}

# round N ROUND: a fresh fake seeded with the hand-changed connectors; converge, then steady and
# prune in an order that alternates.
round() {
        local n=$1 r=$2 d=$OUT/n$1/round
        rm -rf "$d" && mkdir -p "$d" || die "cannot make '$d'"
        start_fake "$d" "$n"
        configs "$n" "$r"
        run "$n" converge "$r"
        if [ $((r % 2)) = 0 ]; then
                run "$n" steady "$r"
                run "$n" prune "$r"
        else
                run "$n" prune "$r"
                run "$n" steady "$r"
        fi
        stop_fake
}

# callgrind N: the three runs once each under callgrind, on a fresh fake: instruction counts.
callgrind() {
        local n=$1 d=$OUT/n$1/round c cfg
        rm -rf "$d" && mkdir -p "$d" || die "cannot make '$d'"
        start_fake "$d" "$n"
        configs "$n" cg
        for c in converge steady prune; do
                say "callgrind: $c, $n connectors"
                cfg=lifecycle
                [ "$c" = prune ] && cfg=prune
                timeout -k 5 1800 valgrind --tool=callgrind --callgrind-out-file="$OUT/n$n/$c.cg" \
                        "$RECONCILER" -c "$d/$cfg.yaml" --log-target console once >/dev/null 2>"$OUT/n$n/$c.vg" ||
                        die "callgrind of $c failed: $(tail -n 3 "$OUT/n$n/$c.vg")"
                printf '%s\t%s\t%s\n' "$n" "$c" "$(awk '/^(summary|totals):/ { print $2; exit }' "$OUT/n$n/$c.cg")" \
                        >>"$OUT/callgrind.tsv"
        done
        stop_fake
        [ "$(jq -s '[.[] | select(.method == "PUT")] | length' "$d/requests.log")" = $((2 * n)) ] ||
                die "callgrind: converge did not send $((2 * n)) PUTs"
        # Inclusive counts of the steady state's run, paths cut, functions without a symbol left
        # out (callgrind names them by an offset, often in the wrong library): (at the first size)
        # the top 24 from main down.
        [ -f "$OUT/top.txt" ] || ! command -v callgrind_annotate >/dev/null ||
                callgrind_annotate --inclusive=yes "$OUT/n$n/steady.cg" 2>/dev/null | grep -E '^ *[0-9,]+ \(' |
                grep -v '???:0x' | sed -E 's#[^ ]*/([^/:]+):#\1:#; s#\[[^]]*/([^/]+)\]#[\1]#' |
                awk '/ main\.c:main / { on = 1 } on && n++ < 24' >"$OUT/top.txt"
}

START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'size\tcase\tround\twall\tuser\tsys\tmaxrss\texit\trequests\tget\tlist\tput_name\tput_scheduling\tother_writes\tbad_writes\n' \
        >"$OUT/runs.tsv"
printf 'size\tcase\tinstructions\n' >"$OUT/callgrind.tsv"
for n in $SIZES; do
        say "Preparing $n connectors: manifests with and without spec.lifecycle, the seed"
        prepare "$n"
done
for r in $(seq 0 "$ROUNDS"); do
        [ "$r" = 0 ] && say "Warm-up round (not counted)" || say "Round $r of $ROUNDS"
        for n in $SIZES; do round "$n" "$r"; done
done
if [ "$CALLGRIND" = yes ]; then
        for n in $SIZES; do callgrind "$n"; done
fi
{
        printf 'nproc\t%s\ncpu\t%s\n' "$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
        printf 'memory\t%s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        printf 'kernel\t%s\ndate\t%s\n' "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)"
        printf 'loadavg\t%s at the start, %s at the end\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'reconciler\t%s\n' "$("$RECONCILER" version | paste -sd ';' | sed 's/;/; /g')"
        printf 'sha256\t%s\n' "$(sha256sum "$RECONCILER" | cut -c1-12)"
        printf 'source\t%s\nsizes\t%s\nrounds\t%s\ncallgrind\t%s\n' "$SRC_REV" "$SIZES" "$ROUNDS" "$CALLGRIND"
        printf 'es_version\t%s\nconcurrency\t%s\nseconds\t%s\n' "$ES_VERSION" "$CONCURRENCY" "$(($(date +%s) - START))"
} >"$OUT/machine.tsv"
cleanup

"$PY" - "$OUT" >"$REPORT.new" <<'PY' && mv "$REPORT.new" "$REPORT" || die "the report failed"
import os, statistics as st, sys
out = sys.argv[1]
def tsv(name):
    head, *rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, name))]
    return [dict(zip(head, r)) for r in rows]
m = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "machine.tsv")))
runs = [r for r in tsv("runs.tsv") if r["round"] != "0"]
cg = {(r["size"], r["case"]): int(r["instructions"]) for r in tsv("callgrind.tsv")}
sizes, CASES = m["sizes"].split(), ("converge", "steady", "prune")
NAME = dict(converge="(a) converge: N names and schedules changed by hand",
            steady="(b) steady state: converged, lifecycle.update", prune="(c) baseline: prune only, no spec.lifecycle")
KEY = dict(wall=lambda r: float(r["wall"]) * 1e3, cpu=lambda r: (float(r["user"]) + float(r["sys"])) * 1e3,
           rss=lambda r: int(r["maxrss"]) / 1024)
def by_round(n, c): return {r["round"]: r for r in runs if (r["size"], r["case"]) == (n, c)}
def series(n, c, k): return [KEY[k](r) for r in by_round(n, c).values()]
mm = lambda xs: "%.0f (%.0f)" % (st.median(xs), min(xs)) if xs else "-"
mmf = lambda xs: "%.1f (%.1f)" % (st.median(xs), min(xs)) if xs else "-"
def ratio(a, b):
    return "%.2f (%.2f)" % (st.median(a) / st.median(b), min(a) / min(b)) if a and b and min(b) > 0 else "-"
def q(xs, f="%.3f"):
    return (f + " (" + f + ", " + f + ")") % (st.median(xs), *st.quantiles(xs, n=4, method="inclusive")[::2]) if len(xs) > 1 else \
        (f % xs[0] if xs else "-")
P = lambda *a: print(*a, sep="")
cmd = "make bench-lifecycle"
for var, default, val in (("SIZES", "1000", m["sizes"]), ("ROUNDS", "5", m["rounds"]), ("CALLGRIND", "yes", m["callgrind"])):
    if val != default:
        cmd += " BENCH_LIFECYCLE_%s=%s" % (var, "'%s'" % val if " " in val else val)
P("# What converging declared fields costs a cycle\n")
P("Written by `make bench-lifecycle` (tests/bench/lifecycle-bench.sh) on ", m["date"], ", in ", m["seconds"],
  " s. To reproduce, in a build folder:\n")
P("    mkdir -p /tmp/b-bench-lifecycle && cd /tmp/b-bench-lifecycle && /path/to/configure && make -j2 && make tests/fake/fake-cluster && ", cmd, "\n")
P("Machine: ", m["nproc"], " CPUs (nproc), ", m["cpu"], ", ", m["memory"], ", Linux ", m["kernel"], " (load average ",
  m["loadavg"], ": the machine is shared); ", m["reconciler"], "; binary sha256 ", m["sha256"], "…; source ",
  m["source"], " (`-dirty`: with the working tree's uncommitted changes)" if m["source"].endswith("-dirty") else "",
  ".\n")
P("One ConnectorSet declares N connectors, each with `name` and `scheduling.full` (`{enabled: true, interval: \"0 0 3 * * ?\"}`). ",
  "The fake cluster (tests/fake/fake-cluster, Elasticsearch ", m["es_version"], ", on the same machine, so it competes for ",
  "the CPUs) holds exactly those N connectors as Elasticsearch stores them (every field, the default filtering; some 1.5 KB ",
  "each), each with another name and another full schedule, as if changed by hand. Config: `concurrency: ", m["concurrency"],
  "`, `safety: {max_updates: unlimited, max_deletions: unlimited}`. Each round starts a fresh fake from that seed and runs ",
  "`connector-reconciler once`:\n")
P("- (a) with `spec.lifecycle: {update: true}`: lists the connectors, reads every declared one (`GET _connector/ID`), and ",
  "sets the fields that differ, reading each connector again right before its requests: `PUT _connector/ID/_name` and ",
  "`PUT _connector/ID/_scheduling` for each. Checked every round: exit 0, exactly N of each PUT, each answered 200, no ",
  "other write, and a `plan --format json` right after it (untimed) has nothing to create or update and N to keep;")
P("- (b) the same, next, on the converged cluster: the listing and N GETs, no PUT (checked);")
P("- (c) the same manifests without `spec.lifecycle`, on the converged cluster: prune only, the listing and no GET ",
  "of a connector (checked); nothing to delete either.\n")
P("(a) runs first in a round, (b) and (c) follow in an order that alternates from round to round. ", m["rounds"],
  " rounds after one warm-up round that is not counted. Wall, CPU (user + sys) and peak RSS: `/usr/bin/time -f '%e %U %S %M'` ",
  "around connector-reconciler alone; it gives wall and CPU to 10 ms. Requests: the reconciler's requests in the fake's ",
  "request log during the run (including `GET /` and the list pages: 100 connectors a page). Each cell: median (min) over ",
  "the rounds; x (c): the ratio of the medians (of the minimums) to (c)'s, same size.\n")
P("## Per case\n")
cols = ["connectors", "case", "wall ms", "x (c)", "CPU ms", "x (c)", "peak RSS MiB", "x (c)", "requests", "x (c)",
        "GET connector", "PUT _name", "PUT _scheduling"]
P("| ", " | ".join(cols), " |\n|", "---|" * len(cols))
for n in sizes:
    for c in CASES:
        rs, base = by_round(n, c), by_round(n, "prune")
        row = [n, NAME[c]]
        for k in KEY:
            row += [(mmf if k == "rss" else mm)(series(n, c, k)), ratio(series(n, c, k), series(n, "prune", k))]
        reqs = [int(r["requests"]) for r in rs.values()]
        breq = [int(r["requests"]) for r in base.values()]
        row += [mm(reqs), ratio(reqs, breq)]
        row += [mm([int(r[k]) for r in rs.values()]) for k in ("get", "put_name", "put_scheduling")]
        P("| ", " | ".join(row), " |")
P()
P("## Per connector\n")
P("From each round's runs (the same fake), then the median (first and third quartiles) over the rounds. (a) / N: the ",
  "whole converging run over the connectors; (a) - (c) and (b) - (c): what spec.lifecycle adds to a prune-only ",
  "cycle, per connector.\n")
P("| connectors | what | wall ms per connector | CPU ms per connector | requests per connector |\n|---|---|---|---|---|")
for n in sizes:
    a, b, c = (by_round(n, x) for x in CASES)
    rounds = sorted(set(a) & set(b) & set(c), key=int)
    N = int(n)
    def per(f): return {k: [f(r, k) / N for r in rounds] for k in ("wall", "cpu")}
    for what, f, fq in (("(a) / N", lambda r, k: KEY[k](a[r]), lambda r: int(a[r]["requests"])),
                        ("((a) - (c)) / N", lambda r, k: KEY[k](a[r]) - KEY[k](c[r]),
                         lambda r: int(a[r]["requests"]) - int(c[r]["requests"])),
                        ("((b) - (c)) / N", lambda r, k: KEY[k](b[r]) - KEY[k](c[r]),
                         lambda r: int(b[r]["requests"]) - int(c[r]["requests"]))):
        d = per(f)
        P("| %s | %s | %s | %s | %s |" % (n, what, q(d["wall"]), q(d["cpu"]), q([fq(r) / N for r in rounds], "%.2f")))
P()
if cg:
    P("## Instructions (callgrind, one run each on a fresh fake: no noise)\n")
    P("connector-reconciler's instructions only (not the fake's), (a), (b) and (c) in that order on one fake.\n")
    P("| connectors | (a) converge | (b) steady | (c) prune | (a) / (c) | (b) / (c) | ((a) - (c)) / N | ((b) - (c)) / N |")
    P("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        a, b, c = (cg.get((n, x), 0) for x in CASES)
        if a and b and c:
            P("| %s | %.1f M | %.1f M | %.1f M | %.2f | %.2f | %.0f k | %.0f k |" % (
                n, a / 1e6, b / 1e6, c / 1e6, a / c, b / c, (a - c) / int(n) / 1e3, (b - c) / int(n) / 1e3))
    if os.path.exists(os.path.join(out, "top.txt")):
        P("\nWhere (b)'s instructions go, ", sizes[0], " connectors (inclusive instructions, from main; a count with ",
          "'2 is a recursive call's; functions without a symbol left out):\n")
        P("```\n", open(os.path.join(out, "top.txt")).read(), "```\n")
    else:
        P()
PY
cat "$REPORT"
echo "Report written to $REPORT" >&2
