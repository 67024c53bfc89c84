#!/bin/bash
# A long run of deletions reports how far it got: STATUS= (over a real NOTIFY_SOCKET) and the log
# say "deleting DONE of TOTAL" at most every 5 s (exec.h's EXEC_PROGRESS_INTERVAL_USEC), and the
# cycle's end says how long it took. The fake holds every DELETE, so the run takes ~12 s.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"
command -v python3 >/dev/null || skip_all "python3 is missing"

N=48
D=500
jq -n --argjson n $N '{connectors: [range($n) | {id: "orphan-\(.)", index_name: "i-\(.)", service_type: "jira"}]}' \
        >"$TEST_TMP/seed.json"
echo "{\"faults\": [{\"method\": \"DELETE\", \"path\": \"/_connector/*\", \"delay_ms\": $D}]}" >"$TEST_TMP/faults.json"
write_set "$M/set.yaml" team orphan- --allow-empty

start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "concurrency: 2" "safety:" "  max_deletions: unlimited"
start_notify_recorder

start=$(date +%s)
NOTIFY_SOCKET="$NOTIFY" timeout -k 5 90 "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR"
RC=$?
took=$(($(date +%s) - start))
is "$RC" 0 "once deletes $N orphans, held ${D} ms each, two at a time, and exits 0 (in $took s)"
is "$(deleted_ids | wc -l)" "$N" "every orphan got its DELETE"
notify_barrier || ok 1 "the notify messages arrived"

# The STATUS= messages of the progress, in order: "STATUS=Cycle 1: deleting DONE of TOTAL".
mapfile -t done_n < <(notes_after 0 'STATUS=Cycle 1: deleting [0-9]+ of [0-9]+' |
        sed -n 's/.*STATUS=Cycle 1: deleting \([0-9]*\) of \([0-9]*\).*/\1 \2/p')
diag "progress notes: ${done_n[*]}"
n=${#done_n[@]}
ok "$([ "$n" -ge 1 ]; echo $?)" "STATUS= said how far the deletions got ($n times)"
# Every 5 s at most: a run of $took s has room for at most took/5 of them.
ok "$([ "$n" -le $((took / 5)) ]; echo $?)" "at most one progress STATUS= per 5 s ($n in $took s)"
prev=0 increasing=0 totals=0
for pair in "${done_n[@]}"; do
        set -- $pair
        [ "$1" -gt "$prev" ] || increasing=1
        [ "$1" -lt "$N" ] || increasing=1
        [ "$2" = "$N" ] || totals=1
        prev=$1
done
ok "$increasing" "the count done increases and stays below the total"
ok "$totals" "the total is the plan's $N deletions"

# Timestamps of the recorder: a gap of at least ~5 s between two progress notes.
mapfile -t times < <(notes_after 0 'STATUS=Cycle 1: deleting' | awk '{print $1}')
gaps=0
for ((i = 1; i < ${#times[@]}; i++)); do
        awk -v a="${times[i - 1]}" -v b="${times[i]}" 'BEGIN { exit !(b - a >= 4.9) }' || gaps=1
done
ok "$gaps" "the progress notes are at least 5 s apart (${times[*]})"

grep -E '^Deleting connectors: [0-9]+ of '"$N"' done, [0-9]+ s so far$' "$ERR" >"$TEST_TMP/progress.log"
is "$(wc -l <"$TEST_TMP/progress.log")" "$n" "the log has a progress line for each STATUS= ($n)"
is "$(sed 's/Deleting connectors: \([0-9]*\) of.*/\1/' "$TEST_TMP/progress.log" | tr '\n' ' ')" \
        "$(printf '%s\n' "${done_n[@]}" | cut -d' ' -f1 | tr '\n' ' ')" "the log and STATUS= give the same counts"
grep -qE "^Cycle ended: deleted $N, .*; took [0-9]+\.[0-9] s$" "$ERR"
ok $? "the cycle's end says how long it took"

# A short run reports no progress (its backups alone in the folder).
rm -rf "$B"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "safety:" "  max_deletions: unlimited"
write_set "$M/set.yaml" team orphan- $(seq -f 'orphan-%g' 0 $((N - 6)))
lines=$(wc -l <"$NOTES")
NOTIFY_SOCKET="$NOTIFY" timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR"
is "$?" 0 "once deletes 5 orphans"
notify_barrier || ok 1 "the notify messages arrived"
is "$(notes_after "$lines" 'deleting' | wc -l)" 0 "five deletions report no progress"
grep -q 'Deleting connectors:' "$ERR"; ok $((!$?)) "and log none"
grep -qx "Backups of the 5 deleted connectors are in '$B'" "$ERR"
ok $? "the end of the cycle says where the backups of the deleted connectors are"
is "$(ls "$B" | grep -c '^orphan-4[3-7]\.')" 5 "and they are there"

tap_done
