#!/bin/bash
# Static analysis: cppcheck and clang-tidy over daemon/ and tests/, failing on any finding that the
# checked-in configuration does not explain. Run through `make check-static`, which passes the
# build's flags:
#   check-static.sh SRCDIR -- CPPFLAGS...
# cppcheck: tests/hygiene/cppcheck-suppressions.xml (each suppression names the file and the
# symbol, with a comment saying why). clang-tidy: the checks in .clang-tidy, and the false
# positives in tests/hygiene/static-suppressions, each matched on file, check, message and
# the text of the source line (not its number, so that edits elsewhere do not break it).
# CLANG_TIDY and CPPCHECK name the programs; JOBS (default: the CPU count) runs clang-tidy in
# parallel.
set -u

srcdir=${1:?usage: check-static.sh SRCDIR -- CPPFLAGS...}
shift
[ "${1:-}" = -- ] && shift
cd "$srcdir" || exit 1

CPPCHECK=${CPPCHECK:-cppcheck}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
work=$(mktemp -d "${TMPDIR:-/tmp}/check-static.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in "$CPPCHECK" "$CLANG_TIDY"; do
        if ! command -v "$tool" >/dev/null; then
                echo "check-static: '$tool' is not installed" >&2
                exit 1
        fi
done

daemon_sources=(daemon/*.c)
test_sources=(tests/*.c tests/fake/*.c tests/fuzz/*.c)
failed=0

# clang-tidy takes the flags as the compiler does. cppcheck gets the project's own include folders
# and defines only (system headers would only slow it down), and -include becomes --include.
tidy_flags=("$@")
cppcheck_flags=()
while [ $# -gt 0 ]; do
        case $1 in
        -include) cppcheck_flags+=("--include=$2"); shift ;;
        -I"$srcdir"/*) cppcheck_flags+=("$1") ;;
        -D*) cppcheck_flags+=("$1") ;;
        esac
        shift
done

echo "== cppcheck $("$CPPCHECK" --version | sed 's/^Cppcheck //')"
# daemon/ with the style checks, tests/ without them (unread variables and the like in test code
# are not worth a finding). The output has the shape of clang-tidy's, for the filter below.
run_cppcheck() {  # run_cppcheck OUTPUT CHECKS FILES...
        _out=$1 _enable=$2
        shift 2
        "$CPPCHECK" --quiet --std=c11 --enable="$_enable" --library=posix --library=gnu \
                --suppress-xml=tests/hygiene/cppcheck-suppressions.xml \
                --template='{file}:{line}:{column}: warning: {message} [cppcheck-{id}]\n{code}' \
                "${cppcheck_flags[@]}" -D__GNUC__ -D__linux__ "$@" 2>"$_out"
}
run_cppcheck "$work/report-cppcheck-daemon.txt" warning,style,performance,portability "${daemon_sources[@]}"
run_cppcheck "$work/report-cppcheck-tests.txt" warning,performance,portability "${test_sources[@]}"

# ---- clang-tidy: one process per file, JOBS at once, each writing its own report.
echo "== $("$CLANG_TIDY" --version | grep -i 'version' | head -n 1 | sed 's/^ *//')"
export CLANG_TIDY work
# Not over tests/: there its findings are mostly unchecked fprintf() results of test output.
printf '%s\n' "${daemon_sources[@]}" |
        xargs -P "$JOBS" -I{} bash -c 'f=$1; shift; "$CLANG_TIDY" --quiet "$f" -- "$@" \
                >"$work/report-tidy-${f//\//_}.txt" 2>"$work/tidy-${f//\//_}.err" || true' bash {} "${tidy_flags[@]}"

# ---- Every report: each finding is "FILE:LINE:COL: warning|error: MESSAGE [CHECKS]" followed by
# its source line. A finding in a header is reported once for every file that includes it: count
# it once. What tests/hygiene/static-suppressions explains is left out; the rest fails.
python3 - "$(pwd -P)" tests/hygiene/static-suppressions "$work"/report-*.txt <<'PY'
import os, re, sys

root, supp_path, reports = sys.argv[1], sys.argv[2], sys.argv[3:]
supps = []
for n, line in enumerate(open(supp_path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    fields = line.split("|", 3)
    if len(fields) != 4:
        sys.exit("%s:%d: want FILE|CHECK|MESSAGE|SOURCE-LINE" % (supp_path, n))
    supps.append({"where": "%s:%d" % (supp_path, n), "fields": fields, "used": 0})

finding = re.compile(r"^(.*?):(\d+):(\d+): (warning|error): (.*) \[([^\]]+)\]$")
seen, left = set(), []
for path in reports:
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    for i, line in enumerate(lines):
        m = finding.match(line)
        if not m:
            continue
        file, lineno, col, _, message, checks = m.groups()
        # Paths come as the compiler saw them (e.g. BUILDDIR/../daemon/util.h): make them
        # relative to the source tree.
        real = os.path.realpath(os.path.join(root, file))
        if real.startswith(root + "/"):
            file = real[len(root) + 1:]
        source = lines[i + 1].strip() if i + 1 < len(lines) else ""
        key = (file, lineno, col, message)
        if key in seen:
            continue
        seen.add(key)
        checks = checks.split(",")
        for s in supps:
            f, c, msg, src = s["fields"]
            if f == file and c in checks and msg in message and src.strip() in source:
                s["used"] += 1
                break
        else:
            left.append("%s:%s:%s: %s [%s]\n    %s" % (file, lineno, col, message, ",".join(checks), source))

for s in supps:
    if not s["used"]:
        print("note: %s matches nothing any more; remove it" % s["where"])
for f in left:
    print(f)
n_supp = sum(s["used"] for s in supps)
if left:
    print("check-static: %d finding(s), %d explained" % (len(left), n_supp))
    sys.exit(1)
print("check-static: clean (%d explained)" % n_supp)
PY
[ $? -eq 0 ] || failed=1

# A file clang-tidy could not compile is a finding too (its report may be empty).
if grep -qi "error while processing\|error:" "$work"/tidy-*.err 2>/dev/null; then
        grep -hi "error while processing\|error:" "$work"/tidy-*.err | sort -u
        failed=1
fi

exit $failed
