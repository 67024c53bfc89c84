#!/bin/bash
# --log-target journal with no journald: every line goes to stderr, after one note saying the
# journal is unavailable, instead of vanishing (sd_journal_send() "fails silently" then).
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

NOTE='^The journal is not available (.*): logging to standard error instead$'

# journal_once [ENV...]: `once --log-target journal` against the fake, stderr in $ERR.
journal_once() {
        env "$@" timeout -k 5 60 "$RECONCILER" --log-target journal -c "$CFG" once >"$OUT" 2>"$ERR"
        RC=$?
}

check_fallback() {  # check_fallback WHAT PATH
        is "$RC" 0 "$1: once deletes the orphan and exits 0"
        is "$(grep -c "$NOTE" "$ERR")" 1 "$1: one note says the journal is unavailable"
        grep -q "^The journal is not available ($2: No such file or directory)" "$ERR"
        ok $? "$1: the note names '$2' and why"
        is "$(head -n 1 "$ERR" | grep -c "$NOTE")" 1 "$1: the note comes first"
        grep -q "^Cycle ended: deleted 1, " "$ERR"; ok $? "$1: the cycle's lines are on stderr"
        ok "$([ "$(wc -l <"$ERR")" -ge 4 ]; echo $?)" "$1: all of them ($(wc -l <"$ERR") lines)"
        is "$(cat "$OUT")" "" "$1: nothing on stdout"
        grep -qx "The backup of the 1 deleted connector is in '$B'" "$ERR"
        ok $? "$1: the end says where the backup went"
}

write_seed "$TEST_TMP/seed.json" "team-keep i-keep jira" "team-old i-old jira"
write_set "$M/team.yaml" team team- team-keep
write_config "$CFG"

# The test hook: a journal socket path that does not exist, whatever the host has.
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
journal_once CONNECTOR_RECONCILER_TEST_JOURNAL_SOCKET="$TEST_TMP/no-journal/socket"
check_fallback "a missing journal socket (test hook)" "$TEST_TMP/no-journal/socket"

# The real thing: this host has no journald, or (as root) a mount namespace hides it.
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
if [ ! -e /run/systemd/journal/socket ]; then
        journal_once
        check_fallback "no journald on this host" /run/systemd/journal/socket
elif [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        mkdir -p "$TEST_TMP/empty"
        timeout -k 5 60 unshare -m sh -c 'mount --bind "$1" /run/systemd/journal && shift && exec "$@"' sh \
                "$TEST_TMP/empty" "$RECONCILER" --log-target journal -c "$CFG" once >"$OUT" 2>"$ERR"
        RC=$?
        check_fallback "journald hidden by a mount namespace" /run/systemd/journal/socket
else
        echo "ok $((TAP_N + 1)) # SKIP journald is there and hiding it needs root and unshare"
        TAP_N=$((TAP_N + 1))
fi

# An unusable journal costs nothing to a console target: no note.
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
CONNECTOR_RECONCILER_TEST_JOURNAL_SOCKET="$TEST_TMP/no-journal/socket" reconcile -c "$CFG" once
is "$RC" 0 "--log-target console: once exits 0"
is "$(grep -c "$NOTE" "$ERR")" 0 "--log-target console: no note about the journal"

tap_done
