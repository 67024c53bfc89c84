#!/bin/sh
# The command line: version, --help, usage errors and their exit statuses.
. "$top_srcdir/tests/lib.sh"

out=$("$RECONCILER" version); rc=$?
is "$rc" 0 "version exits 0"
is "$(printf '%s\n' "$out" | head -n 1)" "connector-reconciler $(sed -n 's/^AC_INIT(\[connector-reconciler\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")" \
        "version prints the package version first"
printf '%s\n' "$out" | grep -q '^libcurl '; ok $? "version names libcurl"
printf '%s\n' "$out" | grep -q '^libyaml '; ok $? "version names libyaml"
printf '%s\n' "$out" | grep -q '^cJSON '; ok $? "version names cJSON"
printf '%s\n' "$out" | grep -q '^libsystemd '; ok $? "version names libsystemd"

out=$("$RECONCILER" --help); rc=$?
is "$rc" 0 "--help exits 0"
printf '%s\n' "$out" | grep -q '^Usage: connector-reconciler'; ok $? "--help prints usage on stdout"

"$RECONCILER" >/dev/null 2>"$TEST_TMP/err"; rc=$?
is "$rc" 2 "no command exits 2"
grep -q 'Missing command' "$TEST_TMP/err"; ok $? "no command says so on stderr"

"$RECONCILER" frobnicate >/dev/null 2>"$TEST_TMP/err"; rc=$?
is "$rc" 2 "an unknown command exits 2"
grep -q "Unknown command 'frobnicate'" "$TEST_TMP/err"; ok $? "an unknown command is named"
! grep -q "did you mean" "$TEST_TMP/err"; ok $? "with no suggestion when no command is near"

for typo in plna onse restor valdate; do
        "$RECONCILER" "$typo" >/dev/null 2>"$TEST_TMP/err"; rc=$?
        is "$rc" 2 "a mistyped command '$typo' exits 2"
        want=$(case $typo in plna) echo plan ;; onse) echo once ;; restor) echo restore ;; *) echo validate ;; esac)
        grep -q "Unknown command '$typo' (did you mean '$want'?)" "$TEST_TMP/err"
        ok $? "a mistyped command '$typo': did you mean '$want'"
done

out=$("$RECONCILER" --version); rc=$?
is "$rc" 0 "--version exits 0"
is "$out" "$("$RECONCILER" version)" "--version prints what the version command prints"

"$RECONCILER" --detailed-exitcode once >/dev/null 2>"$TEST_TMP/err"; rc=$?
is "$rc" 2 "--detailed-exitcode with another command than plan exits 2"
grep -q -- "--detailed-exitcode is an option of plan, not of 'once'" "$TEST_TMP/err"; ok $? "and says so"

"$RECONCILER" --no-such-option version >/dev/null 2>&1; rc=$?
is "$rc" 2 "an unknown option exits 2"

"$RECONCILER" --log-target syslog version >/dev/null 2>"$TEST_TMP/err"; rc=$?
is "$rc" 2 "an invalid --log-target exits 2"

for bad in "" "east/west" "a b" "$(printf 'x%.0s' $(seq 65))" "caf$(printf '\303\251')"; do
        "$RECONCILER" --instance "$bad" version >/dev/null 2>"$TEST_TMP/err"; rc=$?
        is "$rc" 2 "--instance '$bad' exits 2"
done
grep -q "^Invalid --instance 'caf" "$TEST_TMP/err"; ok $? "and says which name is invalid"
"$RECONCILER" --instance eu-west.prod:2 version >/dev/null 2>&1; rc=$?
is "$rc" 0 "--instance takes letters, digits, '_', '.', '-' and ':'"

tap_done
