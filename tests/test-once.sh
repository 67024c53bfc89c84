#!/bin/bash
# `once` against the fake cluster: what is deleted and what is not, with which parameters, the
# backups, the exit statuses of connector-reconciler(8), and failing closed. Asserts on the
# fake's request log.
. "$top_srcdir/tests/lib.sh"

seed() {  # seed FILE: four team-a connectors (one declared), one of team b, one unowned
        {
                echo '{"connectors":['
                connector team-a-hr search-a-hr google_drive; echo ,
                connector team-a-old search-a-old google_drive; echo ,
                connector team-a-legacy search-a-legacy sharepoint_online; echo ,
                connector team-a-jira search-a-jira jira; echo ,
                connector team-b-wiki search-b-wiki confluence; echo ,
                connector other search-other confluence
                echo '],"sync_jobs":[{"id":"job-old-1","connector":{"id":"team-a-old"},"status":"completed"},'
                echo '{"id":"job-hr-1","connector":{"id":"team-a-hr"},"status":"completed"}]}'
        } >"$1"
}
seed "$TEST_TMP/seed.json"

write_set "$M/team-a.yaml" team-a team-a- --service-types "google_drive, sharepoint_online" --delete-sync-jobs \
        team-a-hr

# --- A plain cycle on 9.x: exactly the orphans are deleted, each after its backup. ---
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "once deletes the orphans and exits 0"
is "$(deleted_ids | tr '\n' ' ')" "team-a-legacy team-a-old " \
        "only the owned, undeclared connectors get a DELETE (jira is not a selected service type)"
is "$(fake_requests 'select(.method == "DELETE") | .query' | sort -u)" '{"delete_sync_jobs":"true"}' \
        "every DELETE asks for delete_sync_jobs and nothing else (hard is never sent as false)"
for id in team-a-old team-a-legacy; do
        n=$(fake_requests "select(.connector_id == \"$id\") | .method" | tr -d '"' | tr '\n' ' ')
        is "$n" "GET DELETE " "'$id' is read (for its backup) before it is deleted"
done
declare -A jobs_of=([team-a-old]='["job-old-1"]' [team-a-legacy]='[]')
for id in team-a-old team-a-legacy; do
        f=$(ls "$TEST_TMP/backups/$id".*.json 2>/dev/null)
        [ -n "$f" ]; ok $? "a backup of '$id' exists"
        is "$(stat -c %a "$f" 2>/dev/null)" 600 "the backup of '$id' has mode 0600"
        want=$(jq -c --arg id "$id" '.connectors[] | select(.id == $id)' "$TEST_TMP/seed.json")
        is "$(jq -c '.document | del(.deleted)' "$f" 2>/dev/null)" "$(echo "$want" | jq -c 'del(.deleted)')" \
                "the backup of '$id' holds the document the cluster returned"
        is "$(jq -c '[.format_version, .connector_id, .cluster.name, .cluster.uuid, .cluster.version,
                      (.manifests.digest | startswith("sha256:")), .delete, (.sync_jobs | map(.id))]' "$f" 2>/dev/null)" \
                "[2,\"$id\",\"fake-cluster\",\"$(fake_control GET / | jq -r .cluster_uuid)\",\"9.1.3\",true,{\"delete_sync_jobs\":true,\"hard\":false},${jobs_of[$id]}]" \
                "the backup of '$id' records the cluster, the manifests, how it was deleted and the sync jobs the cluster deleted with it"
done
is "$(stat -c %a "$TEST_TMP/backups")" 700 "the backup folder has mode 0700"
grep -q "Deleted connector 'team-a-old' and its sync jobs" "$ERR"; ok $? "each deletion is logged"
grep -q "deleted 2, already gone 0, failed 0, kept 1" "$ERR"; ok $? "the cycle's end is logged with its counts"
is "$(cat "$OUT")" "" "once prints nothing on stdout"
state=$(fake_control GET /_fake/state)
is "$(echo "$state" | jq -c '[.connectors[] | select(.deleted == true) | .id] | sort')" \
        '["team-a-legacy","team-a-old"]' "the cluster soft-deleted exactly those two"
is "$(echo "$state" | jq -c '[.sync_jobs[].id] | sort')" '["job-hr-1"]' "the orphan's sync jobs are gone too"

reconcile -c "$CFG" once
is "$RC" 0 "a second cycle succeeds"
is "$(deleted_ids | wc -l)" 2 "and deletes nothing more (soft-deleted connectors are hidden)"
stop_fake

# --- Versions: only the parameters each one knows. ---
for v in 8.13.4 8.19.0; do
        start_fake --seed "$TEST_TMP/seed.json" --version "$v"
        write_config "$CFG"
        reconcile -c "$CFG" once
        is "$RC" 0 "$v: once exits 0"
        is "$(deleted_ids | tr '\n' ' ')" "team-a-legacy team-a-old " "$v: the same two are deleted"
        case $v in
        8.13.4)
                is "$(fake_requests 'select(.method == "DELETE" and .connector_id != null) | .query' | sort -u)" '{}' \
                        "8.13: the DELETE of a connector carries no parameter"
                is "$(fake_requests 'select(.method == "DELETE" and .sync_job_id != null) | .sync_job_id' | tr -d '"')" \
                        "job-old-1" "8.13: the orphan's sync job is deleted through the sync-job API"
                ;;
        8.19.0)
                is "$(fake_requests 'select(.method == "DELETE") | .query' | sort -u)" '{"delete_sync_jobs":"true"}' \
                        "8.19: delete_sync_jobs, never hard"
                ;;
        esac
        is "$(fake_requests 'select(.status >= 400) | .status' | wc -l)" 0 "$v: no request was refused"
        stop_fake
done

# --- hard only where every owning set says so. ---
cat >"$M/hard.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: legacy-hard
spec:
  selector:
    id_prefix: team-a-legacy
  prune:
    hard: true
    delete_sync_jobs: true
  connectors: []
  # declares nothing on purpose: allowed
YAML
sed -i 's/^  connectors: \[\]/  connectors: []/; s/^    delete_sync_jobs: true$/    delete_sync_jobs: true\n    allow_empty: true/' "$M/hard.yaml"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "two owning sets: once exits 0"
is "$(fake_requests 'select(.method == "DELETE") | [.connector_id, .query]' | sort | tr '\n' ' ')" \
        '["team-a-legacy",{"delete_sync_jobs":"true"}] ["team-a-old",{"delete_sync_jobs":"true"}] ' \
        "hard is not sent when one owning set says hard: false"
stop_fake
sed -i 's/^    hard: true$/    hard: true/' "$M/hard.yaml"
sed -i 's/^  prune:$/  prune:\n    hard: true/' "$M/team-a.yaml"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-legacy") | .query' )" \
        '{"delete_sync_jobs":"true","hard":"true"}' "hard=true when every owning set says so"
is "$(fake_control GET /_fake/state | jq -r '[.connectors[].id] | map(select(. == "team-a-legacy")) | length')" 0 \
        "a hard delete removes the document"
stop_fake
rm "$M/hard.yaml"
sed -i '/^    hard: true$/d' "$M/team-a.yaml"

# --- Dry run: plans and logs, deletes nothing. ---
rm -rf "$TEST_TMP/backups"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" --dry-run once
is "$RC" 0 "--dry-run exits 0"
is "$(fake_requests 'select(.method != "GET")' | wc -l)" 0 "--dry-run sends no DELETE"
grep -q "Dry run: would delete connector 'team-a-old'" "$ERR"; ok $? "--dry-run logs what it would delete"
write_config "$CFG" "dry_run: true"
reconcile -c "$CFG" once
is "$(fake_requests 'select(.method != "GET")' | wc -l)" 0 "dry_run: true sends no DELETE"
[ ! -e "$TEST_TMP/backups" ] || [ -z "$(ls -A "$TEST_TMP/backups")" ]; ok $? "a dry run writes no backup"
stop_fake

# --- Safety stops: exit 3, nothing deleted. ---
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "safety:" "  max_deletions: 1"
reconcile -c "$CFG" once
is "$RC" 3 "more deletions than max_deletions: exit 3"
is "$(deleted_ids | wc -l)" 0 "and no DELETE"
grep -q "Safety stop, deleting nothing: the plan deletes 2 connectors, more than safety.max_deletions (1)" "$ERR"
ok $? "the safety stop says why"
write_config "$CFG" "safety:" "  max_deletions: 2"
reconcile -c "$CFG" once
is "$RC" 0 "exactly max_deletions deletions are allowed"
is "$(deleted_ids | wc -l)" 2 "and done"
stop_fake

start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
cp "$M/team-a.yaml" "$TEST_TMP/team-a.yaml.bak"
sed -i '/^  connectors:/,$d' "$M/team-a.yaml"
echo "  connectors: []" >>"$M/team-a.yaml"
reconcile -c "$CFG" once
is "$RC" 3 "an emptied set that owns connectors: exit 3"
is "$(deleted_ids | wc -l)" 0 "and no DELETE"
grep -q "set 'team-a' declares no connectors" "$ERR"; ok $? "the safety stop names the set"
sed -i 's/^  prune:$/  prune:\n    allow_empty: true/' "$M/team-a.yaml"
reconcile -c "$CFG" once
is "$RC" 0 "with allow_empty: true it proceeds"
is "$(deleted_ids | tr '\n' ' ')" "team-a-hr team-a-legacy team-a-old " "and deletes everything the set owns"
cp "$TEST_TMP/team-a.yaml.bak" "$M/team-a.yaml"
stop_fake

# --- Failing closed: a bad manifest anywhere deletes nothing, and asks nothing of the cluster. ---
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: broken\nspec:\n  prune:\n    delete_sync_job: true\n' \
        >"$M/broken.yaml"
reconcile -c "$CFG" once
is "$RC" 2 "a manifest with an unknown key: exit 2"
grep -q "broken.yaml:7:5: unknown key 'spec.prune.delete_sync_job'" "$ERR"; ok $? "the error names file, line, column and key"
is "$(fake_requests | wc -l)" 0 "no request reached the cluster"
: >"$M/broken.yaml"
reconcile -c "$CFG" once
is "$RC" 2 "an empty manifest file: exit 2"
rm "$M/broken.yaml"
reconcile -c "$CFG" --manifests "$TEST_TMP/nowhere" once
is "$RC" 2 "a missing manifests path: exit 2"
is "$(fake_requests | wc -l)" 0 "still no request reached the cluster"
stop_fake

# --- Failing closed: a listing that fails or cannot be read deletes nothing. ---
for fault in '{"method":"GET","path":"/_connector","status":500}' \
        '{"method":"GET","path":"/_connector","malformed":true}' \
        '{"method":"GET","path":"/_connector","truncate":true}' \
        '{"method":"GET","path":"/_connector","status":503}'; do
        echo "{\"faults\":[$fault]}" >"$TEST_TMP/faults.json"
        start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
        write_config "$CFG" "  max_attempts: 2"
        reconcile -c "$CFG" once
        is "$RC" 1 "listing fault $fault: exit 1"
        is "$(fake_requests 'select(.method == "DELETE")' | wc -l)" 0 "listing fault $fault: no DELETE"
        stop_fake
done
grep -q "Failed to list the connectors" "$ERR"; ok $? "a failed listing is logged"

start_fake --seed "$TEST_TMP/seed.json" --api-key c2VjcmV0LWlkOnNlY3JldA==
write_config "$CFG"
printf 'wrong-key\n' >"$TEST_TMP/api-key"
chmod 600 "$TEST_TMP/api-key"
write_config "$CFG"
sed -i "s|^  url: .*|&\n  api_key_file: $TEST_TMP/api-key|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "a wrong API key: exit 1"
grep -q "401 security_exception" "$ERR"; ok $? "the 401 is quoted"
is "$(fake_requests 'select(.method != "GET" or .path != "/")' | wc -l)" 0 "nothing but GET / was sent"
! grep -q wrong-key "$ERR" "$FAKE_LOG"; ok $? "the key appears in no log"
printf 'c2VjcmV0LWlkOnNlY3JldA==\n' >"$TEST_TMP/api-key"
reconcile -c "$CFG" once
is "$RC" 0 "the right API key (with its trailing newline) works"
is "$(fake_requests 'select(.method == "DELETE") | .auth' | sort -u)" '"ApiKey"' "DELETEs carry the API key"
stop_fake

# --- Retries and per-delete failures. ---
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[
 {"method":"DELETE","path":"/_connector/team-a-old","status":503,"count":2},
 {"method":"DELETE","path":"/_connector/team-a-legacy","status":429,"retry_after":"1","count":1}
]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "503 twice and 429 once are retried to success"
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-old") | .status' | tr '\n' ' ')" \
        "503 503 200 " "team-a-old: 503, 503, then deleted"
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-legacy") | .status' | tr '\n' ' ')" \
        "429 200 " "team-a-legacy: 429, then deleted"
t=$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-legacy") | .time' | tr -d '"' |
        while read -r x; do date -d "$x" +%s.%N; done | tr '\n' ' ')
awk -v t="$t" 'BEGIN { split(t, a, " "); exit !(a[2] - a[1] >= 0.95) }'; ok $? "Retry-After: 1 was waited for"
grep -q "retrying in" "$ERR"; ok $? "each retry is logged"
stop_fake

cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[
 {"method":"DELETE","path":"/_connector/team-a-old","status":400,"type":"illegal_argument_exception","reason":"nope"},
 {"method":"DELETE","path":"/_connector/team-a-legacy","drop":true,"count":1}
]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
rm -rf "$B"
reconcile -c "$CFG" once
is "$RC" 1 "a delete that fails with 400: exit 1"
is "$(ls "$B" | sed 's/\..*//' | tr '\n' ' ')" "team-a-legacy " \
        "the backup of the connector the cluster refused to delete is removed; the deleted one's stays"
grep -q "Removed the backup $B/team-a-old\..*\.json: connector 'team-a-old' was not deleted" "$ERR"; ok $? \
        "and the removal is logged"
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-old")' | wc -l)" 1 "400 is not retried"
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-legacy") | .status' | tr '\n' ' ')" \
        "null 200 " "a dropped connection is retried, and the 400 did not stop it"
grep -q "Failed to delete connector 'team-a-old': 400 illegal_argument_exception: nope" "$ERR"
ok $? "the failure quotes Elasticsearch's error"
stop_fake

# A DELETE whose outcome is unknown (every attempt a 503) keeps its backup.
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[{"method":"DELETE","path":"/_connector/team-a-old","status":503}]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
rm -rf "$B"
reconcile -c "$CFG" once
is "$RC" 1 "a delete that never gets an answer but 503: exit 1"
is "$(ls "$B" | sed 's/\..*//' | sort | tr '\n' ' ')" "team-a-legacy team-a-old " \
        "a 503 may hide a deletion: that backup stays"
stop_fake

cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[{"method":"DELETE","path":"/_connector/team-a-old","status":404,"type":"resource_not_found_exception","reason":"connector [team-a-old] not found"}]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "404 on DELETE is success"
grep -q "Connector 'team-a-old' was already gone" "$ERR"; ok $? "and is reported as already gone"
stop_fake

# --- The result window: listing as far as the connector index allows, and no further. ---
{
        echo '{"connectors":['
        for i in $(seq -w 1 59); do connector "team-a-keep-$i" "search-a-$i" google_drive; echo ,; done
        connector team-a-zz-orphan search-a-zz google_drive
        echo ']}'
} >"$TEST_TMP/seed-60.json"
seq -w 1 59 | sed 's/^/    - id: team-a-keep-/' >"$TEST_TMP/keep.txt"
cp "$M/team-a.yaml" "$TEST_TMP/team-a.yaml.bak"
cat "$TEST_TMP/keep.txt" >>"$M/team-a.yaml"
start_fake --seed "$TEST_TMP/seed-60.json" --max-result-window 50
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "an index window (50) below the pages asked for: exit 1"
is "$(deleted_ids | wc -l)" 0 "and no DELETE"
write_config "$CFG"
sed -i 's/^  request_timeout: 5s$/&\n  max_result_window: 50/' "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "60 connectors, cluster.max_result_window 50: exit 1"
grep -q "holds 60 connectors; the list API shows at most 50" "$ERR"; ok $? "saying how many exist and how many it can see"
is "$(deleted_ids | wc -l)" 0 "and no DELETE"
stop_fake
start_fake --seed "$TEST_TMP/seed-60.json" --max-result-window 100
write_config "$CFG"
sed -i 's/^  request_timeout: 5s$/&\n  max_result_window: 100/' "$CFG"
reconcile -c "$CFG" --page-size 20 once
is "$RC" 0 "a raised window on both sides: the whole listing, exit 0"
is "$(deleted_ids | tr '\n' ' ')" "team-a-zz-orphan " "and the one orphan, on the last page, is deleted"
stop_fake
cp "$TEST_TMP/team-a.yaml.bak" "$M/team-a.yaml"

# --- concurrency bounds the requests in flight, GETs and DELETEs together. Every GET and DELETE
# of a connector is held D ms by the fake, so with at most C in flight the 2N requests of N
# orphans take at least 2N/C x D; more in flight would finish sooner. (A lower bound only: a slow
# machine makes it longer, never shorter.) Reading runs ahead of deleting, yet each connector is
# read, backed up, then deleted. ---
{
        echo '{"connectors":['
        for i in $(seq -w 1 11); do connector "team-a-p$i" "search-a-p$i" google_drive; echo ,; done
        connector team-a-p12 search-a-p12 google_drive
        echo ']}'
} >"$TEST_TMP/seed-12.json"
D=300
cat >"$TEST_TMP/slow.json" <<EOF
{"faults": [{"method": "GET", "path": "/_connector/*", "delay_ms": $D},
            {"method": "DELETE", "path": "/_connector/*", "delay_ms": $D}]}
EOF
start_fake --seed "$TEST_TMP/seed-12.json" --faults "$TEST_TMP/slow.json"
write_config "$CFG" "concurrency: 2" "safety:" "  max_deletions: unlimited"
t0=$(date +%s%N)
reconcile -c "$CFG" once
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$RC" 0 "12 orphans, each request held ${D} ms, concurrency 2: exit 0"
is "$(deleted_ids | wc -l)" 12 "all 12 deleted"
[ "$elapsed_ms" -ge $(( 24 * D / 2 )) ]
ok $? "at most 2 requests in flight: 24 requests of ${D} ms took ${elapsed_ms} ms (at least $(( 24 * D / 2 )))"
order_ok=0
for i in $(seq -w 1 12); do
        id=team-a-p$i
        seq_get=$(fake_requests "select(.method == \"GET\" and .path == \"/_connector/$id\") | .seq" | head -1)
        seq_del=$(fake_requests "select(.method == \"DELETE\" and .path == \"/_connector/$id\") | .seq" | head -1)
        b=$(find "$TEST_TMP/backups" -name "$id.*.json" | wc -l)
        if [ -z "$seq_get" ] || [ -z "$seq_del" ] || [ "$seq_get" -ge "$seq_del" ] || [ "$b" -ne 1 ]; then
                diag "$id: GET #$seq_get, DELETE #$seq_del, $b backups"
                order_ok=1
        fi
done
ok $order_ok "each of the 12 was read before its DELETE and has exactly one backup"
stop_fake
rm -rf "$TEST_TMP/backups"

# --- No backup, no delete. ---
start_fake --seed "$TEST_TMP/seed.json"
: >"$TEST_TMP/not-a-dir"
write_config "$CFG"
sed -i "s|^backup_dir: .*|backup_dir: $TEST_TMP/not-a-dir/deleted|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "an unusable backup_dir: exit 1"
is "$(fake_requests 'select(.method == "DELETE")' | wc -l)" 0 "and no DELETE"
grep -q "Failed to prepare the backup folder" "$ERR"; ok $? "the error names the backup folder"
stop_fake

# --- backup_retention: old backups go at the end of a cycle, but never the newest of a connector
# the cluster does not list. ---
start_fake --seed "$TEST_TMP/seed.json"
rm -rf "$B"
mkdir -m 700 "$B"
old=$(date -u -d '40 days ago' +%Y%m%dT%H%M%SZ)
older=$(date -u -d '50 days ago' +%Y%m%dT%H%M%SZ)
recent=$(date -u -d '2 days ago' +%Y%m%dT%H%M%SZ)
for f in "gone-long-ago.$older" "gone-long-ago.$old" "team-a-hr.$older" "team-a-hr.$recent" "not-listed.$older.2"; do
        echo '{}' >"$B/$f.json"
done
echo 'notes' >"$B/README"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "a cycle with old backups around"
is "$(ls "$B" | grep -v '^team-a-\(old\|legacy\)\.' | sort | tr '\n' ' ')" \
        "README gone-long-ago.$old.json not-listed.$older.2.json team-a-hr.$recent.json " \
        "older than 30 days: removed, but the newest of each unlisted connector and the recent ones stay"
is "$(ls "$B" | grep -c '^team-a-\(old\|legacy\)\.')" 2 "this cycle's backups stay"
grep -q "Removed 2 backups older than backup_retention from '$B'" "$ERR"; ok $? "the removal is logged"
rm -rf "$B"
mkdir -m 700 "$B"
echo '{}' >"$B/team-a-hr.$older.json"
write_config "$CFG" "backup_retention: off"
reconcile -c "$CFG" --dry-run once
is "$(ls "$B" | grep -c "team-a-hr.$older")" 1 "--dry-run removes no backup"
reconcile -c "$CFG" once
is "$(ls "$B" | grep -c "team-a-hr.$older")" 1 "backup_retention: off removes none"
stop_fake

# --- 8.14+: the sync jobs' listing is only their record; when it fails, the delete goes on. ---
rm -rf "$B" "$TEST_TMP/state"
start_fake --seed "$TEST_TMP/seed.json"
fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector/_sync_job","status":500}]}' >/dev/null
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "sync jobs unlisted: once still exits 0"
is "$(deleted_ids | tr '\n' ' ')" "team-a-legacy team-a-old " "sync jobs unlisted: the orphans are deleted all the same"
is "$(jq -c .sync_jobs "$B"/team-a-old.*.json)" null "sync jobs unlisted: the backup says it has none (null)"
grep -q "Failed to list the sync jobs of connector 'team-a-old' for its backup, deleting it without them in its backup" "$ERR"
ok $? "sync jobs unlisted: a warning says so"
stop_fake

# --- At a terminal, once shows the plan it is about to carry out before the first deletion. ---
if command -v script >/dev/null; then
        rm -rf "$B" "$TEST_TMP/state"
        start_fake --seed "$TEST_TMP/seed.json"
        write_config "$CFG"
        NO_COLOR=1 script -qec "$RECONCILER -c $CFG --log-target console once" /dev/null \
                </dev/null | tr -d '\r' >"$TEST_TMP/tty.txt"
        plan_at=$(grep -n "^  - delete    team-a-old " "$TEST_TMP/tty.txt" | head -n 1 | cut -d: -f1)
        deleted_at=$(grep -n "Deleted connector 'team-a-old'" "$TEST_TMP/tty.txt" | head -n 1 | cut -d: -f1)
        [ -n "$plan_at" ] && [ -n "$deleted_at" ] && [ "$plan_at" -lt "$deleted_at" ]
        ok $? "at a terminal: the plan's lines come before the first deletion (lines $plan_at, $deleted_at)"
        is "$(deleted_ids | tr '\n' ' ')" "team-a-legacy team-a-old " "at a terminal: and once carries it out"
        stop_fake
else
        for _ in 1 2; do ok 0 "# SKIP script(1) is not installed"; done
fi

tap_done
