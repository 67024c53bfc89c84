#!/bin/bash
# A backup write that hangs in the file system (fsync() never returns: tests/stuck-fsync.c):
# past cycle_timeout the cycle cannot end, so the daemon stops sending WATCHDOG=1 and says why,
# for the service manager to restart it; and SIGTERM still stops it within a second, leaving the
# hung write behind. Nothing is deleted whose backup is not durable.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is needed for the notify socket recorder"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
SHIM="$top_builddir/tests/stuck-fsync.so"
[ -r "$SHIM" ] || skip_all "tests/stuck-fsync.so is not built"
[ -r "$top_builddir/tests/hygiene/build-info.sh" ] && . "$top_builddir/tests/hygiene/build-info.sh"
[ -z "$SANITIZER_CFLAGS" ] || skip_all "a sanitizer build cannot take an LD_PRELOAD shim"

write_seed "$TEST_TMP/seed.json" "team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive"
write_set "$M/team-a.yaml" team-a team-a- team-a-hr

start_notify_recorder
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "interval: 1h" "cycle_timeout: 1s"
sed -i "s|^  request_timeout: 5s|  request_timeout: 1s|" "$CFG"
mkdir -p "$TEST_TMP/backups"

# The cycle backs team-a-old up, and the backup's fsync() hangs: at 1 s (cycle_timeout) the cycle
# starts nothing new, but cannot end; at 1 + 1 (request_timeout) + 1 s it is stuck.
LD_PRELOAD="$SHIM" STUCK_FSYNC_DIR="$TEST_TMP/backups" NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=400000 \
        "$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/daemon.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"

wait_alive "$DAEMON" 10 grep -q "stopping the watchdog" "$TEST_TMP/daemon.err"
grep -q "The cycle ran longer than cycle_timeout (1 s): starting no new request" "$TEST_TMP/daemon.err"
ok $? "the cycle runs past cycle_timeout, stuck on the backup's fsync()"
grep -q "Cycle 1 has not ended 2000 ms past its cycle_timeout (a backup write hanging in the file system?): stopping the watchdog" \
        "$TEST_TMP/daemon.err"
ok $? "then the daemon says the cycle is stuck and stops the watchdog"
mark=$(wc -l <"$NOTES")
sleep 1.5
is "$(notify_barrier && notes_after "$mark" 'WATCHDOG=1' | wc -l)" 0 \
        "no WATCHDOG=1 comes any more (WATCHDOG_USEC is 0.4 s): the service manager would restart it"
is "$(deleted_ids | wc -l)" 0 "nothing is deleted: its backup never became durable"

t0=$(date +%s%N)
stop_pid "$DAEMON" 10 "the daemon with a hung write, on SIGTERM"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$rc" 0 "SIGTERM with the write still hung: a clean stop"
ok "$([ "$ms" -lt 1500 ]; echo $?)" "within the stop's second, leaving the hung write behind (${ms} ms)"
grep -q "The backup writer is still writing to '$TEST_TMP/backups' (a file system that hangs?): leaving it" \
        "$TEST_TMP/daemon.err"
ok $? "and saying so"
is "$(find "$TEST_TMP/backups" -name '*.json' | wc -l)" 0 "no backup appears that was not made durable"
tap_done
