#!/bin/bash
# `run`, the daemon, over a real NOTIFY_SOCKET datagram socket: READY=1, STATUS= after each
# cycle, WATCHDOG=1 at half of WATCHDOG_USEC (also during a long backoff), RELOADING=1 and READY=1
# around SIGHUP with a broken then a fixed config, STOPPING=1, SIGTERM mid-backoff, and a new
# orphan removed by a later cycle.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is needed for the notify socket recorder"

write_seed "$TEST_TMP/seed.json" "team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive"
write_set "$M/team-a.yaml" team-a team-a- team-a-hr

start_notify_recorder
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "interval: 1s" "jitter: 0%"

NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=1000000 \
        "$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/daemon.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"

wait_note 0 'READY=1'; ok $? "READY=1 is sent"
wait_note 0 'STATUS=Cycle 1: deleted 1, .*next cycle at'; ok $? "STATUS= reports the first cycle and the next"
is "$(deleted_ids | tr '\n' ' ')" "team-a-old " "the first cycle deleted the orphan"

# A new orphan appears while the daemon runs: a later cycle removes it.
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-a-new search-a-new google_drive)]}" >/dev/null
wait_for 5 was_deleted team-a-new
is "$(deleted_ids | tr '\n' ' ')" "team-a-new team-a-old " "a connector created later is deleted by a later cycle"
! deleted_ids | grep -q team-a-hr; ok $? "the declared connector is never deleted"

# The watchdog: pings at about half of WATCHDOG_USEC, checked over 3 s including a long backoff.
fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector","status":503,"retry_after":"30"}]}' >/dev/null
wait_for 5 fake_saw '.status == 503'
mark=$(wc -l <"$NOTES")
sleep 3
gaps=$(notes_after "$mark" 'WATCHDOG=1' | awk 'NR > 1 { g = $1 - prev; if (g > max) max = g } { prev = $1; n++ }
        END { printf "%d %.3f\n", n, max }')
n=${gaps% *}
max=${gaps#* }
[ "$n" -ge 4 ]; ok $? "WATCHDOG=1 keeps coming during a 30 s Retry-After backoff ($n pings in 3 s)"
[ "$n" -ge 2 ] && awk -v m="$max" 'BEGIN { exit !(m < 1.0) }'; ok $? "no gap between pings reaches WATCHDOG_USEC (largest ${max} s)"

# SIGHUP with a broken config: RELOADING=1 (with MONOTONIC_USEC) then READY=1, the old config kept.
cp "$CFG" "$TEST_TMP/config.good"
echo "intervall: 5s" >>"$CFG"
mark=$(wc -l <"$NOTES")
kill -HUP "$DAEMON"
wait_note "$mark" 'RELOADING=1\|MONOTONIC_USEC=[0-9]+'; ok $? "SIGHUP sends RELOADING=1 with MONOTONIC_USEC"
wait_note "$mark" 'READY=1\|STATUS=Reload failed'; ok $? "then READY=1, saying the reload failed"
grep -q "unknown key 'intervall'" "$TEST_TMP/daemon.err"; ok $? "the broken config's error is logged"
grep -q "Failed to reload .*keeping the last good config" "$TEST_TMP/daemon.err"; ok $? "and that the last good config is kept"
kill -0 "$DAEMON" 2>/dev/null; ok $? "the daemon keeps running"

cp "$TEST_TMP/config.good" "$CFG"
mark=$(wc -l <"$NOTES")
kill -HUP "$DAEMON"
wait_note "$mark" 'READY=1\|STATUS=Config reloaded'; ok $? "a fixed config reloads: READY=1"

# SIGTERM in the middle of the 30 s backoff: STOPPING=1 and an exit within a second or so.
mark=$(wc -l <"$NOTES")
start=$(date +%s.%N)
stop_pid "$DAEMON" 10 "the daemon, on SIGTERM mid-backoff"; rc=$?
end=$(date +%s.%N)
is "$rc" 0 "SIGTERM: a clean stop, exit 0"
awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 2.0) }'; ok $? "SIGTERM mid-backoff stops it at once ($(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s)"
notes_after "$mark" 'STOPPING=1' >/dev/null; ok $? "STOPPING=1 is sent"

# A config it cannot load: exit 2 at once, no READY=1. It has exited: once a message sent after
# its exit is recorded, every message it sent is (notify_barrier), so an absence proves something.
mark=$(wc -l <"$NOTES")
echo "cluster: [" >"$TEST_TMP/broken.yaml"
NOTIFY_SOCKET="$NOTIFY" timeout 10 "$RECONCILER" --log-target console -c "$TEST_TMP/broken.yaml" run 2>/dev/null
is "$?" 2 "run with a config it cannot load exits 2"
notify_barrier && ! notes_after "$mark" 'READY=1' >/dev/null; ok $? "and never says READY=1"

# Broken manifests do not keep it from READY=1: the cycle fails closed and says so.
echo "kind: [" >"$M/broken.yaml"
mark=$(wc -l <"$NOTES")
NOTIFY_SOCKET="$NOTIFY" "$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/daemon2.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
wait_note "$mark" 'READY=1'; ok $? "broken manifests: READY=1 all the same"
wait_note "$mark" 'STATUS=Cycle 1: manifests invalid'; ok $? "STATUS= says the manifests are invalid"
stop_pid "$DAEMON" 10 "the daemon with broken manifests, on SIGTERM"
is "$?" 0 "and it stops cleanly"

# A cycle that runs longer than the interval delays the next one: cycles never overlap.
rm -f "$M/broken.yaml"
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-a-slow search-a-slow google_drive)]}" >/dev/null
fake_control POST /_fake/faults '{"faults":[{"method":"DELETE","path":"/_connector/team-a-slow","delay_ms":2500}]}' >/dev/null
"$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/daemon3.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
wait_alive "$DAEMON" 20 has_lines 2 '^Cycle started' "$TEST_TMP/daemon3.err"
stop_pid "$DAEMON" 10 "the daemon in a slow cycle, on SIGTERM"
seq=$(grep -oE '^Cycle (started|ended)' "$TEST_TMP/daemon3.err" | awk '{ print $2 }' | tr '\n' ' ')
case "$seq" in
started\ ended\ started*) ok 0 "a slow cycle (a 2.5 s DELETE, interval 1 s) is followed, not overlapped: $seq" ;;
*) ok 1 "a slow cycle is followed, not overlapped: $seq" ;;
esac
echo "$seq" | grep -q 'started started'; [ $? -ne 0 ]; ok $? "no cycle starts before the previous one ended"

# SIGUSR1: a cycle now, instead of an hour later; during a cycle, the next one as it ends.
fake_control DELETE /_fake/faults >/dev/null
write_config "$CFG" "interval: 1h" "jitter: 0%"
"$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/daemon4.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
wait_alive "$DAEMON" 20 has_lines 1 '^Cycle ended' "$TEST_TMP/daemon4.err"
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-a-usr1 search-a-usr1 google_drive)]}" >/dev/null
kill -USR1 "$DAEMON"
wait_for 10 was_deleted team-a-usr1; ok $? "SIGUSR1 starts a cycle at once (interval 1h): the new orphan is deleted"
grep -q "^Received SIGUSR1: starting a cycle now" "$TEST_TMP/daemon4.err"; ok $? "SIGUSR1: the log says why the cycle started"
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-a-usr2 search-a-usr2 google_drive)]}" >/dev/null
fake_control POST /_fake/faults '{"faults":[{"method":"DELETE","path":"/_connector/team-a-usr2","delay_ms":1500}]}' >/dev/null
kill -USR1 "$DAEMON"
wait_alive "$DAEMON" 10 has_lines 3 '^Cycle started' "$TEST_TMP/daemon4.err"
kill -USR1 "$DAEMON"
wait_alive "$DAEMON" 10 has_lines 4 '^Cycle started' "$TEST_TMP/daemon4.err"
grep -q "^Received SIGUSR1 while cycle 3 runs: the next cycle starts as it ends" "$TEST_TMP/daemon4.err"
ok $? "SIGUSR1 during a cycle: said, and the next cycle starts as it ends"
is "$(grep -c '^Cycle started' "$TEST_TMP/daemon4.err")" 4 "SIGUSR1 during a cycle: one more cycle, not two at once"
stop_pid "$DAEMON" 10 "the daemon after SIGUSR1, on SIGTERM"
is "$?" 0 "and it stops cleanly"
seq=$(grep -oE '^Cycle (started|ended)' "$TEST_TMP/daemon4.err" | awk '{ print $2 }' | tr '\n' ' ')
echo "$seq" | grep -q 'started started'; [ $? -ne 0 ]; ok $? "SIGUSR1 never overlaps cycles: $seq"

tap_done
