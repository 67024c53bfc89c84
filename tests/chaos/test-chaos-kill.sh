#!/bin/bash
# Crash safety: `once` and `run` killed with SIGKILL 20 times at seeded random moments of their
# cycles (a slow fake cluster, so that kills land mid-cycle: mid-listing, mid-backup, mid-DELETE),
# then started again until done. Asserts: no declared or unmanaged connector ever gets a DELETE;
# no backup file is empty or partial (each parses and names its connector); every connector the
# cluster deleted has a backup; temporary files left by a killed write (dot-files) do not trip
# later cycles; every orphan is deleted in the end.
. "$top_srcdir/tests/chaos/chaos-lib.sh"

KILLS=20
RANDOM=4242 # the kill delays repeat from run to run

{
        echo '{"connectors":['
        chaos_connectors team-keep- 0 100
        echo ,
        chaos_connectors team-old- 0 300
        echo ,
        chaos_connectors other- 0 10 confluence
        echo ']}'
} >"$TEST_TMP/seed.json"
chaos_ids team-keep- 0 100 | write_set "$M/team.yaml" team team- --delete-sync-jobs -
ORPHANS=$(chaos_ids team-old- 0 300)

# Every request waits 40 ms: about 12 s of work for the 300 orphans at concurrency 2.
echo '{"faults":[{"delay_ms":40}]}' >"$TEST_TMP/faults.json"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "concurrency: 2" "safety:" "  max_deletions: unlimited" "interval: 1s" "jitter: 0%"

# ---- 20 kills, alternately of `once` and of `run` (verbose: the log shows how far each got).
mid=0
listing=0
for i in $(seq "$KILLS"); do
        [ $((i % 2)) -eq 1 ] && cmd=once || cmd=run
        "$RECONCILER" --log-target console -v -c "$CFG" "$cmd" 2>"$TEST_TMP/killed-$i.err" &
        pid=$!
        TEST_PIDS="$TEST_PIDS $pid"
        delay_ms=$((100 + RANDOM % 900))
        sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
        kill -KILL "$pid" 2>/dev/null
        wait_exit "$pid" 10 "$cmd, on SIGKILL"
        # Where the kill landed: in a cycle (started, not ended), listing or deleting.
        last=$(grep -n '^Cycle \(started\|ended\)' "$TEST_TMP/killed-$i.err" | tail -n 1)
        case $last in
        *"Cycle started"*)
                mid=$((mid + 1))
                start=${last%%:*}
                if tail -n +"$start" "$TEST_TMP/killed-$i.err" | grep -q "^Backed up\|^Deleted"; then
                        where="mid-cycle, deleting"
                else
                        where="mid-cycle, listing"
                        listing=$((listing + 1))
                fi
                ;;
        *) where="between cycles" ;;
        esac
        backups=$(grep -c '^Backed up' "$TEST_TMP/killed-$i.err")
        deleted=$(grep -c '^Deleted connector' "$TEST_TMP/killed-$i.err")
        left=$(chaos_state_live | grep -c '^team-old-')
        diag "kill $i: $cmd after ${delay_ms} ms, $where ($backups backups, $deleted deletes logged;" \
                "$left orphans left)"
done
diag "$mid of $KILLS kills landed mid-cycle ($listing while listing)"
[ "$mid" -ge 15 ]; ok $? "most kills landed mid-cycle ($mid of $KILLS)"
left=$(chaos_state_live | grep -c '^team-old-')
[ "$left" -gt 0 ] && [ "$left" -lt 300 ]; ok $? "the kills left part of the work done ($left orphans left)"

dots_after_kills=$(find "$B" -maxdepth 1 -name '.*' -type f 2>/dev/null | wc -l)
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "after the kills, every backup parses and names its connector ($CHAOS_BACKUPS files)"
chaos_diag_file "$TEST_TMP/bad-backups"

# ---- Start again until done: the leftovers of killed runs trip nothing.
runs=0
rc=1
while [ "$runs" -lt 5 ] && [ "$rc" -ne 0 ]; do
        runs=$((runs + 1))
        reconcile -c "$CFG" once
        cat "$ERR" >>"$TEST_TMP/after.err"
        [ "$RC" -ne 0 ] && diag "once after the kills: exit $RC: $(grep -m 1 -i 'fail' "$ERR")"
        rc=$RC
done
is "$rc" 0 "'once' after the kills succeeds ($runs runs)"
reconcile -c "$CFG" once
is "$RC" 0 "and the next cycle succeeds too"
grep -q "Cycle ended: deleted 0, already gone 0, failed 0," "$ERR"; ok $? "finding nothing left to do"
is "$(chaos_state_deleted | grep '^team-old-')" "$ORPHANS" "every orphan ends deleted"
is "$(chaos_state_deleted | grep -vc '^team-old-')" 0 "nothing else is deleted"
is "$(chaos_deletes_of team-keep- other- | wc -l)" 0 \
        "no declared or unmanaged connector ever received a DELETE"
# (The end of a cycle that deleted says where the backups are: not an error.)
! grep -i "backup" "$TEST_TMP/after.err" |
        grep -vq "^\(Backups of the [0-9]* deleted connectors are\|The backup of the [0-9]* deleted connector is\) in "
ok $? "no backup error after the kills (leftover temporary files trip nothing)"

chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "every backup parses and names its connector ($CHAOS_BACKUPS files)"
chaos_diag_file "$TEST_TMP/bad-backups"
is "$(find "$B" -maxdepth 1 -name '*.json' ! -name '.*' -empty | wc -l)" 0 "no backup file is empty"
is "$(chaos_unbacked "$B" | head -n 5)" "" \
        "every connector the cluster deleted has a backup, also those deleted by a run then killed"
dots=$(find "$B" -maxdepth 1 -name '.*' -type f | wc -l)
diag "temporary dot-files left by killed writes: $dots ($dots_after_kills after the kills);" \
        "backups: $CHAOS_BACKUPS"
is "$(find "$B" -maxdepth 1 -name '.*' -type f ! -name '.*.tmp' | wc -l)" 0 \
        "the only dot-files left are temporary backup files"
diag "DELETEs: $(fake_requests 'select(.method == "DELETE")' | wc -l), wall time $(chaos_elapsed "$T0") s"

tap_done
