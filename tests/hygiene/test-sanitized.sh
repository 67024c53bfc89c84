#!/bin/bash
# In a sanitizer build (./configure --enable-sanitizers), `make check` must exercise sanitized
# code: every program it builds (the reconciler, the fake cluster, each unit test and tool) is
# instrumented with AddressSanitizer and UndefinedBehaviorSanitizer, and the programs the shell
# tests run ($RECONCILER, $FAKE_CLUSTER from tests/lib.sh) are those of this build. Skipped in
# other builds.
. "$top_srcdir/tests/hygiene/common.sh"

info="$top_builddir/tests/hygiene/build-info.sh"
[ -r "$info" ] || skip_all "tests/hygiene/build-info.sh is not built"
. "$info"
[ -n "$SANITIZER_CFLAGS" ] || skip_all "not a sanitizer build"

case "$RECONCILER" in "$top_builddir"/*) ok 0 "the shell tests run this build's reconciler" ;;
*) ok 1 "the shell tests run this build's reconciler ($RECONCILER)" ;; esac
case "$FAKE_CLUSTER" in "$top_builddir"/*) ok 0 "and this build's fake cluster" ;;
*) ok 1 "and this build's fake cluster ($FAKE_CLUSTER)" ;; esac

for p in $BUILT_PROGRAMS; do
        f="$top_builddir/$p$EXEEXT"
        if [ ! -x "$f" ]; then
                ok 1 "$p is built"
                continue
        fi
        is_sanitized "$f" && grep -qa __ubsan_handle "$f"
        ok $? "$p is built with ASan and UBSan"
done

tap_done
