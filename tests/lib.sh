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
                printf '#   got:  %s\n#   want: %s\n' "$1" "$2" | head -n 40
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
trap cleanup_test EXIT
trap 'exit 130' INT TERM

RECONCILER="$top_builddir/connector-reconciler"
