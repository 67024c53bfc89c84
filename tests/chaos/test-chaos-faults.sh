#!/bin/bash
# Chaos: about 30% of all requests meet a random fault (429 with Retry-After 1 or 0, 502, 503,
# 504, a dropped connection, an answer delayed past the request timeout, a truncated body), drawn
# from a fixed fault seed, over 1,000 declared connectors, 1,000 orphans and 20 unmanaged ones.
# `once` runs until one succeeds, then a `run` daemon, after 500 more orphans appear, until every
# orphan is gone. Asserts: every orphan ends deleted; no declared or unmanaged connector ever gets
# a DELETE; every DELETE the cluster carried out came after a whole GET of the connector and has a
# complete backup; the daemon's counts (its "Deleted connector" lines, its cycle summaries) agree
# with the DELETEs the fake answered 200.
. "$top_srcdir/tests/chaos/chaos-lib.sh"

# 1,000 declared (team-keep-*), 500 orphans now (team-old-*), 500 more later (team-new-*), 20
# unmanaged (other-*), on the default 9.x: a DELETE is a soft delete, a second one a 404.
{
        echo '{"connectors":['
        chaos_connectors team-keep- 0 1000
        echo ,
        chaos_connectors team-old- 0 500
        echo ,
        chaos_connectors other- 0 20 confluence
        echo ']}'
} >"$TEST_TMP/seed.json"
chaos_ids team-keep- 0 1000 | write_set "$M/team.yaml" team team- --delete-sync-jobs -
{ chaos_ids team-old- 0 500; chaos_ids team-new- 0 500; } | sort >"$TEST_TMP/orphans"

# Each rule takes a request it matches with its probability, else passes it on to the next:
# together about 30% of the requests. A delayed answer comes after the 1 s request timeout.
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[
 {"probability":0.02,"status":429,"retry_after":"1"},
 {"probability":0.03,"status":429,"retry_after":"0"},
 {"probability":0.06,"status":502},
 {"probability":0.05,"status":503},
 {"probability":0.05,"status":504},
 {"probability":0.05,"drop":true},
 {"probability":0.02,"delay_ms":1500},
 {"probability":0.06,"truncate":true}
]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --fault-seed 20250101
# `once` gives up after 3 attempts, so that some runs fail and the next one picks up; the daemon
# tries 6 times.
write_config "$CFG" "  max_attempts: 3" "concurrency: 4" "safety:" "  max_deletions: unlimited" \
        "interval: 1s" "jitter: 0%"
sed -i 's/^  request_timeout: .*/  request_timeout: 1s/' "$CFG"
sed 's/^  max_attempts: .*/  max_attempts: 6/' "$CFG" >"$TEST_TMP/run.yaml"

# ---- `once` until a run succeeds, each picking up what the last one left.
runs=0
rcs=""
while [ "$runs" -lt 10 ]; do
        runs=$((runs + 1))
        timeout -k 5 120 "$RECONCILER" --log-target console -c "$CFG" once 2>"$TEST_TMP/once-$runs.err"
        rc=$?
        rcs="$rcs $rc"
        [ "$rc" -eq 0 ] && break
done
diag "once runs: $runs, exit statuses:$rcs ($(chaos_elapsed "$T0") s)"
is "${rcs##* }" 0 "a 'once' run ends with exit 0 within 10 runs"
is "$(echo "$rcs" | tr ' ' '\n' | grep -vxE '0|1|' | tr '\n' ' ')" "" \
        "every 'once' run exits 0 or 1 (a delete whose retries ran out), never otherwise"
is "$(chaos_state_deleted | grep -c '^team-old-')" 500 \
        "after the 'once' runs the first 500 orphans are deleted"

# ---- 500 more orphans appear; the daemon cycles every second until they are gone.
chaos_connectors team-new- 0 500 | { echo '{"connectors":['; cat; echo ']}'; } >"$TEST_TMP/new.json"
fake_control POST /_fake/connectors "@$TEST_TMP/new.json" >/dev/null
is "$(chaos_state_live | grep -c '^team-new-')" 500 "500 new orphans are in the cluster"

"$RECONCILER" --log-target console -c "$TEST_TMP/run.yaml" run 2>"$TEST_TMP/run.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
all_gone() { [ "$(chaos_state_deleted | grep -c '^team-')" -ge 1000 ]; }
wait_for 90 all_gone
ok $? "the daemon deletes the new orphans ($(chaos_elapsed "$T0") s since the start)"
# Stop it only after a whole cycle found nothing left, so that no DELETE is in flight.
mark=$(wc -l <"$TEST_TMP/run.err")
idle() {
        tail -n +"$((mark + 1))" "$TEST_TMP/run.err" |
                grep -q 'Cycle ended: deleted 0, already gone 0, failed 0,'
}
wait_for 30 idle
ok $? "a later cycle finds nothing more to delete"
stop_pid "$DAEMON" 10 "the daemon, on SIGTERM"
is "$?" 0 "the daemon stops cleanly on SIGTERM"

# ---- What the cluster saw.
is "$(chaos_state_deleted | grep '^team-\(old\|new\)-')" "$(cat "$TEST_TMP/orphans")" \
        "every orphan ends deleted"
is "$(chaos_state_deleted | grep -vc '^team-\(old\|new\)-')" 0 "no other connector is deleted"
is "$(chaos_deletes_of team-keep- other- | wc -l)" 0 \
        "no declared or unmanaged connector ever received a DELETE (matched on the path)"
is "$(fake_requests 'select(.method != "GET" and .method != "DELETE") | .method' | wc -l)" 0 \
        "nothing but GET and DELETE was sent"

faults=$(chaos_fault_summary)
total=$(fake_requests | wc -l)
nfault=$(fake_requests 'select(.fault != null)' | wc -l)
diag "requests: $total, faulted: $nfault ($faults)"
for k in '429/Retry-After:1' '429/Retry-After:0' 502 503 504 drop delay truncate; do
        echo "$faults" | grep -q "\(^\|, \)$k="
        ok $? "the fault '$k' was injected and survived"
done
awk -v t="$total" -v f="$nfault" 'BEGIN { exit !(f >= t * 0.2 && f <= t * 0.4) }'
ok $? "about 30% of the requests were faulted ($nfault of $total)"

# ---- Backups: complete, and before the DELETE.
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "every backup file parses as JSON and holds the connector its name says ($CHAOS_BACKUPS files)"
chaos_diag_file "$TEST_TMP/bad-backups"
is "$(chaos_unbacked "$B" | head -n 5)" "" "every connector the cluster deleted has a backup"
# In the fake's log, a 200 GET of the connector that no fault touched (the backup's source)
# precedes the connector's first DELETE, faulted or not.
fake_requests 'select(.path != null and (.path | startswith("/_connector/")))
        | {id: (.path | ltrimstr("/_connector/")), m: .method, seq,
           whole: (.status == 200 and .fault == null)}' >"$TEST_TMP/by-id"
late=$(jq -rs 'group_by(.id)[] | . as $r
        | ([$r[] | select(.m == "DELETE") | .seq] | min) as $d
        | select($d != null)
        | select([$r[] | select(.m == "GET" and .whole and .seq < $d)] | length == 0)
        | .[0].id' "$TEST_TMP/by-id" | head -n 5)
is "$late" "" "every connector's first DELETE came after a whole GET of its document"
# Each connector's first backup is stamped (UTC, to the second) no later than its first DELETE
# was answered.
fake_requests 'select(.method == "DELETE" and .path != null)
        | [(.path | ltrimstr("/_connector/")), .time] | @tsv' | jq -r . |
        sort -k1,1 -k2,2 | awk -F'\t' '!seen[$1]++' >"$TEST_TMP/first-delete"
ls "$B" | sed -E 's/^(.*)\.([0-9]{8}T[0-9]{6}Z)(\.[0-9]+)?\.json$/\1\t\2/' | sort -k1,1 -k2,2 |
        awk -F'\t' '!seen[$1]++' >"$TEST_TMP/first-backup"
join -t "$TAB" "$TEST_TMP/first-backup" "$TEST_TMP/first-delete" >"$TEST_TMP/backup-delete"
after=$(while IFS=$TAB read -r id stamp t; do
        [[ "$stamp" > "$(date -u -d "${t%.*}Z" +%Y%m%dT%H%M%SZ)" ]] && echo "$id"
done <"$TEST_TMP/backup-delete" | head -n 5)
is "$after" "" "no backup is stamped later than its connector's first DELETE"

# ---- The daemon's counts against the fake's log.
cat "$TEST_TMP"/once-*.err "$TEST_TMP/run.err" >"$TEST_TMP/all.err"
grep -o "Deleted connector '[^']*'" "$TEST_TMP/all.err" | sed "s/^Deleted connector '//; s/'$//" | sort \
        >"$TEST_TMP/logged-deleted"
fake_requests 'select(.method == "DELETE" and .status == 200 and .fault == null) | .connector_id' |
        jq -r . | sort >"$TEST_TMP/answered-200"
n_logged=$(wc -l <"$TEST_TMP/logged-deleted")
n_answered=$(wc -l <"$TEST_TMP/answered-200")
n_summary=$(grep -o 'Cycle ended: deleted [0-9]*' "$TEST_TMP/all.err" |
        awk '{ s += $4 } END { print s + 0 }')
diag "Deleted lines: $n_logged, cycle summaries: $n_summary, fake DELETEs answered 200: $n_answered"
is "$n_logged" "$n_answered" "the 'Deleted connector' lines count the DELETEs the fake answered 200"
is "$n_summary" "$n_answered" "so do the cycle summaries"
is "$(comm -3 "$TEST_TMP/logged-deleted" "$TEST_TMP/answered-200" | head -n 5)" "" \
        "and they name the same connectors"
grep -o "Connector '[^']*' was already gone" "$TEST_TMP/all.err" | sed "s/^Connector '//; s/'.*//" | sort \
        >"$TEST_TMP/logged-gone"
n_gone=$(wc -l <"$TEST_TMP/logged-gone")
n_gone_summary=$(grep -o 'already gone [0-9]*' "$TEST_TMP/all.err" | awk '{ s += $3 } END { print s + 0 }')
is "$n_gone_summary" "$n_gone" "the summaries' 'already gone' counts match the 'already gone' lines"
n_failed=$(grep -cE "Failed to (delete|read) connector '" "$TEST_TMP/all.err")
n_failed_summary=$(grep -o 'Cycle ended: .*failed [0-9]*' "$TEST_TMP/all.err" |
        awk '{ s += $NF } END { print s + 0 }')
is "$n_failed_summary" "$n_failed" "the summaries' 'failed' counts match the failure lines"
# An orphan logged neither deleted nor already gone must be one whose DELETE the cluster carried
# out while the answer was lost (truncated, or past the timeout): that run logged a failure, and
# later cycles no longer list it.
fake_requests 'select(.method == "DELETE" and .status == 200 and .fault != null) | .connector_id' |
        jq -r . | sort -u >"$TEST_TMP/answer-lost"
sort -u "$TEST_TMP/logged-deleted" "$TEST_TMP/logged-gone" "$TEST_TMP/answer-lost" >"$TEST_TMP/accounted"
is "$(comm -3 "$TEST_TMP/accounted" "$TEST_TMP/orphans" | head -n 5)" "" \
        "every orphan was logged deleted or already gone, or its DELETE's answer was lost"
n_lost=$(sort -u "$TEST_TMP/logged-deleted" "$TEST_TMP/logged-gone" | comm -13 - "$TEST_TMP/orphans" | wc -l)
diag "already gone: $n_gone; failed: $n_failed; deleted with the answer lost: $n_lost;" \
        "backups: $CHAOS_BACKUPS; wall time $(chaos_elapsed "$T0") s"

tap_done
