#!/bin/bash
# What reading the manifests from Git costs a cycle (`make bench-git`, on demand only). For 50
# manifest files (tests/bench/gen-manifests.sh) of each size: `validate` with the manifests as a
# folder, a local bare repository and a local checkout; `plan` against the fake cluster with them
# as a folder, a local bare repository, and a git:// remote (git daemon on loopback) fetched with
# no new commit, fetched with one new commit pushed before each run, and read from the mirror
# with fetch_interval: 1h (no fetch). The variants are interleaved in an order that rotates each
# round. Prints a report (medians, minimums, ratios to the folder, per-round differences, strace
# timestamps of the manifest step, callgrind's counts of validate) and writes it to the report.
#
# Settings (environment or make variables): BENCH_GIT_SIZES (default "1000 10000"),
# BENCH_GIT_ROUNDS (15), BENCH_GIT_CALLGRIND (yes or no), BENCH_GIT_REPORT (default
# $top_srcdir/docs/BENCHMARKS-git.md), BENCH_GIT_OUT (scratch, emptied: $top_builddir/bench-git).
set -uo pipefail

: "${top_srcdir:?run through make bench-git, or set top_srcdir}"
: "${top_builddir:?run through make bench-git, or set top_builddir}"
SIZES=${BENCH_GIT_SIZES:-1000 10000}
ROUNDS=${BENCH_GIT_ROUNDS:-15}
CALLGRIND=${BENCH_GIT_CALLGRIND:-yes}
REPORT=${BENCH_GIT_REPORT:-$top_srcdir/docs/BENCHMARKS-git.md}
OUT=${BENCH_GIT_OUT:-$top_builddir/bench-git}
RECONCILER=$top_builddir/connector-reconciler
FILES=50
VARIANTS=(vfolder vbare vcheckout pfolder pbare premote ppush pinterval)
PLANS=(pfolder pbare premote ppush pinterval)

die() { echo "bench-git: $*" >&2; exit 1; }
say() { printf '== %s\n' "$*" >&2; }

for tool in git python3 timeout awk; do command -v "$tool" >/dev/null || die "'$tool' is needed"; done
for f in "$RECONCILER" "$top_builddir/tests/fake/fake-cluster"; do [ -x "$f" ] || die "no '$f': run make bench-git"; done
# strace stops only at write(2) (and, with --seccomp-bpf, spares the other system calls).
STRACE=(strace -f -ttt -e trace=write -e signal=none -s 40) HAVE_STRACE=no
"${STRACE[@]}" -o /dev/null true 2>/dev/null && HAVE_STRACE=yes
"${STRACE[@]}" --seccomp-bpf -o /dev/null true 2>/dev/null && STRACE+=(--seccomp-bpf)
[ "$CALLGRIND" = yes ] && ! command -v valgrind >/dev/null && { say "no valgrind: no instruction counts"; CALLGRIND=no; }
# The python behind a pyenv-style shim, which alone can cost more than what is measured here.
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
SRC_REV=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) && rm -rf "${OUT:?}"/* && mkdir -p "$OUT/home" "$OUT/git-root" ||
        die "cannot make '$OUT'"
# Git hermetic: no user or system config, nothing written to the real home (libgit2 reads HOME).
export HOME=$OUT/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.test GIT_COMMITTER_NAME=Bench \
        GIT_COMMITTER_EMAIL=bench@example.test
unset XDG_CONFIG_HOME GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY

PIDS=()  # the servers started here, ended on exit by their ids
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# measure.py LIMIT STDERR CMD...: runs CMD (stdout to /dev/null) and prints "wall user sys
# maxrss_kb exit": wall from fork to wait4, CPU and peak RSS from wait4's rusage, which covers
# CMD's waited-for children (the fetch runs in one). No wrapper process is timed: an exec costs
# some 10 ms on some VMs. CMD's process group is killed after LIMIT s, or on SIGINT or SIGTERM.
cat >"$OUT/measure.py" <<'PY'
import os, signal, sys, time
limit, err, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
o, e = os.open(os.devnull, os.O_WRONLY), os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pid = 0
def kill(*_):
    if pid: os.killpg(pid, signal.SIGKILL)
for s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM): signal.signal(s, kill)
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try: os.setpgid(0, 0); os.dup2(o, 1); os.dup2(e, 2); os.execv(cmd[0], cmd)
    finally: os._exit(127)
signal.setitimer(signal.ITIMER_REAL, limit)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print("%.6f\t%.6f\t%.6f\t%d\t%d" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
PY

start_git_daemon() {  # on a random port below the ephemeral ones, as tests/git-lib.sh does
        local i log=$OUT/git-daemon.log port
        for _ in 1 2 3 4 5 6 7 8 9 10; do
                port=$((10000 + RANDOM % 22000))
                git daemon --reuseaddr --verbose --export-all --base-path="$OUT/git-root" \
                        --listen=127.0.0.1 --port="$port" 2>"$log" &
                PIDS+=($!)
                for i in $(seq 100); do
                        grep -q 'Ready to rumble' "$log" && { GIT_URL=git://127.0.0.1:$port; return 0; }
                        kill -0 "$!" 2>/dev/null || break
                        sleep 0.1
                done
                kill "$!" 2>/dev/null; wait "$!" 2>/dev/null
                unset 'PIDS[-1]'
        done
        die "git daemon did not start: $(head -c 300 "$log")"
}

# prepare N: the manifests as a folder, a checkout, a bare clone of it, and two bare repositories
# that git daemon serves (static-N, never pushed to; moving-N, pushed to before each ppush run);
# the fake cluster holding the declared connectors; a config per variant.
prepare() {
        local n=$1 d=$OUT/n$1 window=10000 port v i
        bash "$top_srcdir/tests/bench/gen-manifests.sh" "$d/folder" "$FILES" "$n" || die "gen-manifests.sh failed"
        git init -q -b main "$d/checkout" && cp -R "$d/folder" "$d/checkout/manifests" && git -C "$d/checkout" add -A &&
                git -C "$d/checkout" commit -q -m "$n connectors" && git clone -q --bare "$d/checkout" "$d/bare.git" &&
                git clone -q --bare "$d/checkout" "$OUT/git-root/static-$n.git" &&
                git clone -q --bare "$d/checkout" "$OUT/git-root/moving-$n.git" &&
                git clone -q "$OUT/git-root/moving-$n.git" "$d/pusher" || die "cannot make the repositories of $n"
        grep -h '^    - id: ' "$d/folder"/*.yaml | awk 'BEGIN { print "{\"connectors\":[" } {
                split($3, p, "-")
                printf "%s{\"id\":\"%s\",\"name\":\"%s\",\"index_name\":\"search-%s-index-%s\",", (NR > 1 ? "," : ""), $3, $3, p[2], p[4]
                print "\"service_type\":\"google_drive\",\"status\":\"connected\",\"configuration\":{},\"filtering\":[]}"
        } END { print "]}" }' >"$d/seed.json"
        [ "$n" -ge 10000 ] && window=$((n * 2))  # as bench.sh: 10,000 would be the whole window
        "$top_builddir/tests/fake/fake-cluster" --port 0 --port-file "$d/fake.port" --seed "$d/seed.json" \
                --max-result-window "$window" --parent-pid $$ 2>"$d/fake.err" &
        PIDS+=($!)
        for i in $(seq 300); do [ -s "$d/fake.port" ] || ! kill -0 "$!" 2>/dev/null && break; sleep 0.1; done
        [ -s "$d/fake.port" ] || die "fake-cluster did not listen within 30 s: $(head -c 300 "$d/fake.err")"
        port=$(cat "$d/fake.port")
        for v in "${VARIANTS[@]}"; do
                mkdir -p "$d/$v/state" "$d/$v/backups"
                {
                        printf 'cluster:\n  url: http://127.0.0.1:%s\n  request_timeout: 60s\n' "$port"
                        [ "$window" -gt 10000 ] && printf '  max_result_window: %s\n' "$window"
                        case $v in
                        *folder) printf 'manifests: %s\n' "$d/folder" ;;
                        *bare) printf 'manifests:\n  git: %s\n' "$d/bare.git" ;;
                        vcheckout) printf 'manifests:\n  git: %s\n' "$d/checkout" ;;
                        ppush) printf 'manifests:\n  git: %s\n' "$GIT_URL/moving-$n.git" ;;
                        *) printf 'manifests:\n  git: %s\n' "$GIT_URL/static-$n.git" ;;
                        esac
                        [ "$v" = pinterval ] && printf '  fetch_interval: 1h\n'
                        [ "${v#?}" = folder ] || printf '  path: manifests\n'
                        printf 'backup_dir: %s\nstate_dir: %s\n' "$d/$v/backups" "$d/$v/state"
                } >"$d/$v.yaml"
        done
}

push_commit() {  # push_commit N: one file's first description changed (same connectors), pushed
        local d=$OUT/n$1 f
        PUSHES=$((PUSHES + 1))
        f=$d/pusher/manifests/team-$(printf %04d $((PUSHES % FILES))).yaml
        sed -i "0,/description: .*/s//description: \"Generated for benchmarks, push $PUSHES\"/" "$f" &&
                git -C "$d/pusher" commit -q -a -m "push $PUSHES" &&
                timeout -k 5 60 git -C "$d/pusher" push -q origin HEAD:refs/heads/main || die "push $PUSHES failed"
        PUSHED=$(git -C "$d/pusher" rev-parse HEAD)
}

# run N VARIANT ROUND: one timed run, a line of runs.tsv; ok: exit 0 and, for ppush, the commit
# just pushed was the one planned from. A failed run's stderr is kept.
run() {
        local n=$1 v=$2 r=$3 d=$OUT/n$1 line ok=yes cmd=plan
        [ "${v:0:1}" = v ] && cmd=validate
        [ "$v" = ppush ] && push_commit "$n"
        line=$(timeout -k 5 150 "$PY" -S "$OUT/measure.py" 120 "$d/run.err" \
                "$RECONCILER" -c "$d/$v.yaml" --log-target console "$cmd") || line="0	0	0	0	124"
        [ "${line##*	}" = 0 ] || ok=no
        [ "$v" = ppush ] && ! grep -q "manifests at ${PUSHED:0:12}" "$d/run.err" && ok=no
        [ "$ok" = yes ] || cp "$d/run.err" "$d/failed-$v-$r.err"
        printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$v" "$r" "$line" "$ok" >>"$OUT/runs.tsv"
}

# probe N VARIANT ROUND: an untimed plan -v under strace; a line of probes.tsv with the ms from
# "Cycle started" to "Fetched" (the fetch) and to "Read" (the whole manifest step).
probe() {
        local n=$1 v=$2 r=$3 d=$OUT/n$1
        [ "$v" = ppush ] && push_commit "$n"
        timeout -k 5 150 "${STRACE[@]}" -o "$d/trace" "$RECONCILER" -c "$d/$v.yaml" --log-target console -v plan \
                >/dev/null 2>"$d/probe.err"
        awk -v n="$n" -v v="$v" -v r="$r" '
                /write\(2, "Cycle started/ && !s { s = $2 }
                /write\(2, "Fetched / && s && !f { f = $2 }
                /write\(2, "Read / && s && !rd { rd = $2 }
                END { printf "%s\t%s\t%s\t%s\t%s\n", n, v, r, f ? (f - s) * 1000 : "", rd ? (rd - s) * 1000 : "" }' \
                "$d/trace" >>"$OUT/probes.tsv"
}

START=$(date +%s)
printf 'size\tvariant\tround\twall\tuser\tsys\tmaxrss\texit\tok\n' >"$OUT/runs.tsv"
printf 'size\tvariant\tround\tfetched_ms\tread_ms\n' >"$OUT/probes.tsv"
printf 'size\tvariant\tinstructions\n' >"$OUT/callgrind.tsv"
PUSHES=0
start_git_daemon
for n in $SIZES; do
        say "Preparing $FILES files of $n connectors: folder, repositories, fake cluster; warm-up runs"
        prepare "$n"
        for v in "${VARIANTS[@]}"; do run "$n" "$v" 0; done  # the page cache, the mirrors' first fetch
done
for r in $(seq "$ROUNDS"); do
        say "Round $r of $ROUNDS"
        for n in $SIZES; do
                for i in "${!VARIANTS[@]}"; do run "$n" "${VARIANTS[$(((i + r) % ${#VARIANTS[@]}))]}" "$r"; done
                [ "$HAVE_STRACE" = yes ] || continue
                for i in "${!PLANS[@]}"; do probe "$n" "${PLANS[$(((i + r) % ${#PLANS[@]}))]}" "$r"; done
        done
done
if [ "$CALLGRIND" = yes ]; then
        for n in $SIZES; do
                for v in vfolder vbare vcheckout; do
                        say "callgrind: validate, $n connectors, $v"
                        timeout -k 5 900 valgrind --tool=callgrind --callgrind-out-file="$OUT/n$n/$v.cg" \
                                "$RECONCILER" -c "$OUT/n$n/$v.yaml" --log-target console validate >/dev/null \
                                2>"$OUT/n$n/$v.vg" || die "callgrind of $v failed: $(tail -n 3 "$OUT/n$n/$v.vg")"
                        printf '%s\t%s\t%s\n' "$n" "$v" "$(awk '/^(summary|totals):/ { print $2; exit }' \
                                "$OUT/n$n/$v.cg")" >>"$OUT/callgrind.tsv"
                done
                # Inclusive counts of the bare repository's validate, paths cut: git_libgit2_init's,
                # and (at the first size) the top 18 from main down.
                callgrind_annotate --inclusive=yes "$OUT/n$n/vbare.cg" 2>/dev/null | grep -E '^ *[0-9,]+ \(' |
                        sed -E 's#[^ ]*/([^/:]+):#\1:#; s#\[[^]]*/([^/]+)\]#[\1]#' >"$OUT/n$n/vbare.inclusive"
                awk -v n="$n" '/:git_libgit2_init / { gsub(",", "", $1); print n "\tinit\t" $1; exit }' \
                        "$OUT/n$n/vbare.inclusive" >>"$OUT/callgrind.tsv"
                [ -f "$OUT/top.txt" ] ||
                        awk '/ main\.c:main / { on = 1 } on && n++ < 18' "$OUT/n$n/vbare.inclusive" >"$OUT/top.txt"
        done
fi
{
        printf 'nproc\t%s\ncpu\t%s\n' "$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
        printf 'memory\t%s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        printf 'kernel\t%s\ndate\t%s\ngit\t%s\n' "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git --version)"
        printf 'reconciler\t%s\n' "$("$RECONCILER" version | paste -sd ';' | sed 's/;/; /g')"
        printf 'source\t%s\nsizes\t%s\nrounds\t%s\n' "$SRC_REV" "$SIZES" "$ROUNDS"
        printf 'files\t%s\nstrace\t%s\nseconds\t%s\n' "$FILES" "$HAVE_STRACE" "$(($(date +%s) - START))"
} >"$OUT/machine.tsv"
cleanup

"$PY" - "$OUT" >"$REPORT.new" <<'PY' && mv "$REPORT.new" "$REPORT" || die "the report failed"
import os, statistics as st, sys
out = sys.argv[1]
def tsv(name):
    head, *rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, name))]
    return [dict(zip(head, r)) for r in rows]
m = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "machine.tsv")))
runs, probes = [r for r in tsv("runs.tsv") if r["round"] != "0"], tsv("probes.tsv")
cg, sizes = {(r["size"], r["variant"]): int(r["instructions"]) for r in tsv("callgrind.tsv")}, m["sizes"].split()
NAME = dict(folder="folder", bare="local bare repository", checkout="local checkout", remote="git:// fetch, no new commit",
            push="git:// fetch, 1 new commit", interval="git:// mirror, no fetch (1h)")
KEY = dict(wall=lambda r: float(r["wall"]) * 1e3, cpu=lambda r: (float(r["user"]) + float(r["sys"])) * 1e3,
           rss=lambda r: int(r["maxrss"]) / 1024)
good = lambda n, v: {r["round"]: r for r in runs if (r["size"], r["variant"], r["ok"]) == (n, v, "yes")}
series = lambda n, v, k: [KEY[k](r) for r in good(n, v).values()]
probe = lambda n, v, k: [float(r[k]) for r in probes if (r["size"], r["variant"]) == (n, v) and r[k]]
mm = lambda xs: "%.1f (%.1f)" % (st.median(xs), min(xs)) if xs else "-"
ratio = lambda a, b: "%.2f (%.2f)" % (st.median(a) / st.median(b), min(a) / min(b)) if a and b else "-"
P = lambda *a: print(*a, sep="")
P("# What reading the manifests from Git costs a cycle\n")
P("Written by `make bench-git` (tests/bench/git-bench.sh) on ", m["date"], ", in ", m["seconds"], " s. To reproduce, in a build folder:\n")
P("    mkdir -p /tmp/b-bench-git && cd /tmp/b-bench-git && /path/to/configure && make -j2 && make -j2 tests/fake/fake-cluster && make bench-git\n")
P("(`make bench-git BENCH_GIT_SIZES=1000 BENCH_GIT_ROUNDS=5 BENCH_GIT_CALLGRIND=no` for a short run.)\n")
P("Machine: ", m["nproc"], " CPUs (nproc), ", m["cpu"], ", ", m["memory"], ", Linux ", m["kernel"], "; ", m["git"], "; ",
  m["reconciler"], "; source ", m["source"], " (and whatever the working tree held).\n")
P(m["files"], " manifest files (tests/bench/gen-manifests.sh DIR ", m["files"], " N), committed under `manifests/` ",
  "(`path: manifests`); the fake cluster holds exactly the declared connectors, so plan deletes nothing. ", m["rounds"],
  " rounds, each running every variant once in an order that rotates from round to round, after an untimed warm-up ",
  "run of each (which also makes the mirrors). Wall: fork to exit of connector-reconciler; CPU: user + sys of it and of ",
  "its children (a fetch runs in a forked child), from wait4(2); RSS: the peak of it or of a child. Each cell: median ",
  "(min) over the rounds; x folder: the ratio of the medians (of the minimums) to the folder's, same command and size. ",
  "The fetches go to `git daemon` on loopback, which forks and execs `git daemon --serve`, which runs `git upload-pack`, ",
  "which runs `git pack-objects` when there is something to send: that work is in the wall time, not in the CPU time, and ",
  "where an exec is slow it is most of a fetch's wall time.\n")
for cmd, pre in (("validate", "v"), ("plan", "p")):
    vs = [v for v in NAME if any(r["variant"] == pre + v for r in runs)]
    P("## `connector-reconciler ", cmd, "`", " (offline)" if cmd == "validate" else " against the fake cluster", "\n")
    cols = ["connectors", "manifests", "wall ms", "x folder", "CPU ms", "x folder", "peak RSS MiB", "x folder"]
    cols += ["start to Read ms", "start to Fetched ms"] if cmd == "plan" and m["strace"] == "yes" else []
    P("| ", " | ".join(cols), " |\n|", "---|" * len(cols))
    for n in sizes:
        for v in vs:
            row = [n, NAME[v]]
            for k in KEY:
                row += [mm(series(n, pre + v, k)), ratio(series(n, pre + v, k), series(n, pre + "folder", k))]
            row += [mm(probe(n, pre + v, "read_ms")), mm(probe(n, pre + v, "fetched_ms"))] if len(cols) > 8 else []
            bad = sum(1 for r in runs if (r["size"], r["variant"]) == (n, pre + v) and r["ok"] != "yes")
            P("| ", " | ".join(row), " |", " **%d failed runs left out** |" % bad if bad else "")
    P()
if m["strace"] == "yes":
    P("Start to Read, to Fetched: from one more `plan -v` a round, untimed, under `strace -f -ttt -e trace=write` ",
      "(which slows it): ms from the log line \"Cycle started\" to \"Read ... files\" (the whole manifest step: the fetch, ",
      "then reading the commit or the folder) and to \"Fetched\" (the fetch: fork, libgit2 set-up, connect, negotiate, ",
      "receive, exit, reap).\n")
P("## Differences, round by round\n\nEach round's difference between two variants, then the median (first and third ",
  "quartiles) over the rounds: what one step adds.\n")
P("| connectors | variants | what it isolates | wall ms | CPU ms |\n|---|---|---|---|---|")
PAIRS = (("vbare", "vfolder", "a commit of a bare repository instead of the folder (validate)"),
         ("vcheckout", "vbare", "a checkout's .git instead of a bare repository (validate)"),
         ("pbare", "pfolder", "a commit of a bare repository instead of the folder (plan)"),
         ("pinterval", "pbare", "the mirror instead of a local bare repository"),
         ("premote", "pinterval", "an up-to-date fetch over git://"),
         ("ppush", "pinterval", "a fetch that brings one new commit"),
         ("ppush", "premote", "what the new commit adds to a fetch"))
def q(xs):
    return "%.1f (%.1f, %.1f)" % (st.median(xs), *st.quantiles(xs, n=4)[::2]) if len(xs) > 1 else "-"
for n in sizes:
    for a, b, what in PAIRS:
        ga, gb = good(n, a), good(n, b)
        d = {k: [KEY[k](ga[r]) - KEY[k](gb[r]) for r in sorted(set(ga) & set(gb))] for k in ("wall", "cpu")}
        P("| %s | %s - %s | %s | %s | %s |" % (n, a, b, what, q(d["wall"]), q(d["cpu"])))
P()
if cg:
    P("## Instructions (callgrind, `validate`, one run each: no noise)\n")
    P("| connectors | folder | bare repository | checkout | bare / folder | checkout / folder | bare: in git_libgit2_init |")
    P("|---|---|---|---|---|---|---|")
    for n in sizes:
        f, b, c, i = (cg.get((n, v), 0) for v in ("vfolder", "vbare", "vcheckout", "init"))
        P("| %s | %.1f M | %.1f M | %.1f M | %.2f | %.2f | %.1f M |" % (n, f / 1e6, b / 1e6, c / 1e6, b / f, c / f, i / 1e6))
    P("\nWhere a bare repository's `validate` of ", sizes[0], " connectors goes (inclusive instructions, from main):\n")
    P("```\n", open(os.path.join(out, "top.txt")).read(), "```\n")
PY
cat "$REPORT"
echo "Report written to $REPORT" >&2
