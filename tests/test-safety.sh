#!/bin/bash
# Every DELETE re-proven at the moment it is sent: the ways a cycle could be talked into deleting
# the wrong thing, each tried against the reconciler and the fake cluster. A 200 that is not the
# connector, a connector that changed between the listing and its DELETE, another cluster behind
# the URL, manifests that change during the cycle or a Git operation on them, a listing that
# shifts under max_deletions, ids that only look alike, sync jobs on 8.13, proxies from the
# environment, unsafe folders, unacknowledged DELETEs, a stop mid-delete, a cycle that never
# ends, two instances at once, a removed manifest file, and the orphan grace.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

# set_file FILE NAME SELECTOR-LINE ID...: a manifest with one ConnectorSet declaring the ids.
set_file() {
        local file=$1 name=$2 selector=$3 id
        shift 3
        {
                echo "apiVersion: connector-reconciler/v1"
                echo "kind: ConnectorSet"
                echo "metadata:"
                echo "  name: $name"
                echo "spec:"
                echo "  selector:"
                echo "    $selector"
                echo "  connectors:"
                for id in "$@"; do
                        echo "    - id: \"$id\""
                done
        } >"$M/$file"
}

# fresh: no manifests, backups or state from the case before.
fresh() {
        rm -rf "$M" "$B" "$TEST_TMP/state"
        mkdir -p "$M"
}

backups_of() {  # backups_of ID: how many backups ID has
        find "$B" -maxdepth 1 -name "$1.*.json" 2>/dev/null | wc -l
}

# ---- 1. The backup is the connector: a 200 that is not its document deletes nothing.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-o1 search-a-o1 gd" \
        "team-a-o2 search-a-o2 gd" "team-a-o3 search-a-o3 gd" "team-a-o4 search-a-o4 gd"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [
 {"method": "GET", "path": "/_connector/team-a-o1", "status": 200, "type": "illegal_state_exception", "reason": "proxy says hi"},
 {"method": "GET", "path": "/_connector/team-a-o2", "status": 200, "body": "{}"},
 {"method": "GET", "path": "/_connector/team-a-o3", "product_header": false},
 {"method": "GET", "path": "/_connector/team-a-o4", "body": "{\"id\":\"team-a-o4\",\"name\":\"no status, no is_native\"}"}
]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "1: answers to the backup's GET that are not the connector: exit 1"
is "$(deleted_ids | tr '\n' ' ')" "" "1: no DELETE is sent"
is "$(find "$B" -name '*.json' 2>/dev/null | wc -l)" 0 "1: and no backup is written"
grep -q "Failed to read connector 'team-a-o1' for its backup, not deleting it: Malformed response (200): The document's 'error' is neither a string nor null" "$ERR"
ok $? "1: an Elasticsearch error body with a 200 is named as such"
grep -q "Failed to read connector 'team-a-o2' for its backup, not deleting it: Malformed response (200): The document has no 'id'" "$ERR"
ok $? "1: {} is refused: no id"
grep -q "Failed to read connector 'team-a-o3' for its backup, not deleting it: 200 from a server that is not Elasticsearch (no X-elastic-product header)" "$ERR"
ok $? "1: the connector's document without X-elastic-product is not Elasticsearch's"
grep -q "Failed to read connector 'team-a-o4' for its backup, not deleting it: Malformed response (200): The document has no 'is_native', which every connector has" "$ERR"
ok $? "1: a document lacking what every connector has is refused"
grep -q "Cycle ended: deleted 0, already gone 0, failed 4" "$ERR"
ok $? "1: the cycle counts them as failed"
stop_fake

# ---- 2. The decision is made again on the document read: a connector that moved to another set,
# or out of every set, between the listing and its GET is not deleted, and that is no failure.
fresh
set_file a.yaml team-a "index_name_prefix: search-a-" a-keep
set_file b.yaml team-b "index_name_prefix: search-b-" b-keep
write_seed "$TEST_TMP/seed.json" "a-keep search-a-keep gd" "b-keep search-b-keep gd" "x1 search-a-x1 gd" \
        "x2 search-a-x2 gd" "x3 search-a-x3 gd"
cat >"$TEST_TMP/faults.json" <<EOF
{"faults": [
 {"method": "GET", "path": "/_connector/x1", "count": 1,
  "mutate": {"connectors": [$(connector x1 search-b-x1 gd)]}},
 {"method": "GET", "path": "/_connector/x2", "count": 1,
  "mutate": {"connectors": [$(connector x2 elsewhere-x2 gd)]}}
]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "2: connectors that changed since the listing: exit 0"
is "$(deleted_ids | tr '\n' ' ')" "x3 " "2: only the one still an orphan of the same set is deleted"
grep -q "Connector 'x1' changed since the listing, not deleting it: the sets that own it are 'team-b' now, not 'team-a' as in the listing" "$ERR"
ok $? "2: one that another set took over meanwhile is left, and the log says so"
grep -q "Connector 'x2' changed since the listing, not deleting it: no set owns it now (service_type 'gd', index_name 'elsewhere-x2')" "$ERR"
ok $? "2: one that left every set is left"
is "$(backups_of x1)$(backups_of x2)$(backups_of x3)" "001" "2: only the deleted one has a backup"
grep -q "Cycle ended: deleted 1, already gone 0, failed 0, .*, 2 changed since the listing" "$ERR"
ok $? "2: the summary counts them as changed, not failed"
stop_fake

# ---- 3. The cluster is the one you meant: cluster.cluster_uuid pins it, and the cluster is
# identified again right before the first DELETE.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-o1 search-a-o1 gd"
start_fake --seed "$TEST_TMP/seed.json"
uuid=$(curl -sS --max-time 10 "$FAKE_URL/" | jq -r .cluster_uuid)
: >"$FAKE_LOG"
write_config "$CFG"
sed -i "s|^  request_timeout: 5s|  request_timeout: 5s\n  cluster_uuid: AnotherClusterUuid01|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "3: another cluster than cluster.cluster_uuid names: exit 1"
is "$(fake_requests '.path' | tr -d '"' | tr '\n' ' ')" "/ " "3: refused after GET /, before any listing"
grep -q "not the one cluster.cluster_uuid names ('AnotherClusterUuid01'): refusing it" "$ERR"
ok $? "3: saying which cluster it is and which was meant"
sed -i "s|cluster_uuid: AnotherClusterUuid01|cluster_uuid: $uuid|" "$CFG"
reconcile -c "$CFG" plan
is "$RC" 0 "3: the pinned cluster: plan works"
is "$(head -n 1 "$OUT")" "Cluster 'fake-cluster' (cluster_uuid $uuid, Elasticsearch 9.1.3) at $FAKE_URL" \
        "3: and shows the cluster first"
grep -q "Listed 2 connectors of cluster 'fake-cluster' (cluster_uuid $uuid, Elasticsearch 9.1.3) at $FAKE_URL" "$ERR"
ok $? "3: every cycle logs the cluster's name and uuid"
stop_fake
# The cluster behind the URL changes after the listing (a load balancer failing over).
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "count": 1,
             "mutate": {"cluster": {"cluster_uuid": "FailedOverToStaging", "cluster_name": "staging"}}}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "3: a cluster that changed between the listing and the first DELETE: exit 1"
is "$(fake_requests 'select(.connector_id) | .method' | wc -l)" 0 "3: nothing read for a backup, nothing deleted"
grep -q "is now 'staging' (cluster_uuid 'FailedOverToStaging'), not 'fake-cluster' (cluster_uuid '[^']*') as when it was listed" "$ERR"
ok $? "3: saying both clusters"
stop_fake

# ---- 4. The manifests are one snapshot: changed before the first DELETE, or a Git operation in
# progress on them, the cycle deletes nothing.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-wiki search-a-wiki gd"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/", "skip": 1, "count": 1, "delay_ms": 1500}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR" &
once_pid=$!
TEST_PIDS="$TEST_PIDS $once_pid"
wait_alive "$once_pid" 5 fake_saw '.path == "/_connector"'
# The pull lands while the cycle checks the cluster again: team-a-wiki is declared now.
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep team-a-wiki
wait_exit "$once_pid" 70 "once"
RC=$?
is "$RC" 1 "4: manifests that changed before the first DELETE: exit 1"
is "$(deleted_ids | tr '\n' ' ')" "" "4: nothing is deleted (team-a-wiki is declared by the new manifests)"
grep -q "Deleting nothing: the manifests at '$M' changed since this cycle read them" "$ERR"
ok $? "4: saying why"
stop_fake
git -C "$M" init -q 2>/dev/null || true
touch "$M/.git/index.lock"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "4: a Git operation in progress (index.lock): exit 1"
is "$(fake_requests '.path' | wc -l)" 0 "4: the manifests are not even read, the cluster not asked"
grep -q "a Git operation is in progress in '$M/.git' (index.lock)" "$ERR"
ok $? "4: saying so"
rm -f "$M/.git/index.lock"
reconcile -c "$CFG" once
is "$RC" 0 "4: once the Git operation is over, the cycle runs"
stop_fake
# The daemon tries again soon, not a whole interval later.
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "interval: 1h"
"$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/run.err" &
daemon=$!
TEST_PIDS="$TEST_PIDS $daemon"
wait_alive "$daemon" 5 fake_saw '.path == "/_connector"'
echo "# touched" >>"$M/a.yaml"
wait_alive "$daemon" 15 has_lines 2 '^Cycle ended' "$TEST_TMP/run.err"
is "$(grep -c '^Cycle ended' "$TEST_TMP/run.err")" 2 "4: the daemon ran its next cycle within seconds (interval: 1h)"
is "$(deleted_ids | tr '\n' ' ')" "team-a-wiki " "4: which deleted the orphan of the manifests as they are now"
stop_pid "$daemon" 10 "the daemon, on SIGTERM"
stop_fake

# ---- 5. A listing that shifts under its pages never lets more deletions through than
# max_deletions allows: 30 unowned connectors sort first, 25 orphans, 5 declared; while the first
# listing pages, 10 of the unowned ones go before each page.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-d0 team-a-d1 team-a-d2 team-a-d3 team-a-d4
args=()
for i in $(seq -w 0 29); do args+=("other-$i aaa-$i gd"); done
for i in $(seq -w 0 24); do args+=("team-a-o$i search-a-$i gd"); done
for i in 0 1 2 3 4; do args+=("team-a-d$i search-d-$i gd"); done
write_seed "$TEST_TMP/seed.json" "${args[@]}"
rule() {  # rule FROM: deletes other-FROM..FROM+9
        printf '{"method":"GET","path":"/_connector","skip":1,"count":1,"mutate":{"delete_connectors":[%s]}}' \
                "$(seq -f 'other-%02g' "$1" $(($1 + 9)) | jq -R . | paste -sd,)"
}
echo "{\"faults\": [$(rule 0), $(rule 10), $(rule 20)]}" >"$TEST_TMP/faults.json"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "safety:" "  max_deletions: 10"
reconcile -c "$CFG" --page-size 10 once
is "$RC" 3 "5: the listing shifted, was taken again, and its 25 orphans pass max_deletions 10: exit 3"
is "$(deleted_ids | wc -l)" 0 "5: nothing is deleted"
grep -q "Listing the connectors failed (attempt 1 of 3): the connector count changed from 60 to 50 while listing" "$ERR"
ok $? "5: the first listing's pages disagreed, and it was taken again"
grep -q "the plan deletes 25 connectors, more than safety.max_deletions (10)" "$ERR"
ok $? "5: the consistent listing's plan is the one max_deletions judged"
stop_fake

# ---- 6. Ids that only look alike: refused in a manifest; escaped wherever printed.
fresh
set_file a.yaml team-a "id_prefix: team-a-" "team-a-hr "
write_config "$CFG"
reconcile -c "$CFG" validate
is "$RC" 2 "6: an id with a trailing space: validate exits 2"
grep -q "a.yaml:9:[0-9]*: 'spec.connectors\[0\].id' ends with U+0020 SPACE" "$OUT"
ok $? "6: naming file, line, key and the code point"
set_file a.yaml team-a "id_prefix: team-a-" team-a-hr
printf '{"connectors":[%s,%s]}' "$(connector team-a-hr search-a-hr gd)" \
        "$(connector "team-a-hr\\u200b" search-a-x gd)" >"$TEST_TMP/seed.json"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" plan
grep -qF -- "- delete    team-a-hr\\u200b" "$OUT"
ok $? "6: the plan shows an invisible character in a cluster id"
reconcile -c "$CFG" once
grep -qF "Deleted connector 'team-a-hr\\u200b'" "$ERR"
ok $? "6: so does the log"
stop_fake

# ---- 7. 8.13: sync jobs are backed up with their connector, deleted after it, and only its own.
fresh
write_set "$M/a.yaml" team-a team-a- --delete-sync-jobs team-a-keep
{
        echo '{"connectors":['
        connector team-a-keep search-a-keep gd; echo ,
        connector team-a-o1 search-a-o1 gd
        echo '],"sync_jobs":[{"id":"j1","connector":{"id":"team-a-o1"}},{"id":"j2","connector":{"id":"team-a-o1"}},'
        echo '{"id":"j3","connector":{"id":"team-a-keep"}}]}'
} >"$TEST_TMP/seed.json"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/team-a-o1", "count": 1, "status": 500}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --version 8.13.4
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "7: 8.13, the connector's DELETE fails: exit 1"
is "$(fake_control GET /_fake/state | jq -r '[.sync_jobs[].id] | join(",")')" "j1,j2,j3" \
        "7: its sync jobs are all still there"
f=$(ls "$B"/team-a-o1.*.json 2>/dev/null | head -n 1)
is "$(jq -c '[.sync_jobs[].id]' "$f" 2>/dev/null)" '["j1","j2"]' "7: its backup holds its two sync jobs, not another's"
reconcile -c "$CFG" once
is "$RC" 0 "7: the next cycle deletes it"
conn=$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/team-a-o1" and .status == 200) | .seq')
jobs=$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .seq' | sort -n | head -n 1)
ok "$([ -n "$conn" ] && [ -n "$jobs" ] && [ "$conn" -lt "$jobs" ]; echo $?)" "7: the connector first, its jobs after it"
is "$(fake_control GET /_fake/state | jq -r '[.sync_jobs[].id] | join(",")')" "j3" "7: only its own jobs are gone"
stop_fake

# ---- 8. Secrets and proxies: the proxy environment variables are ignored; cluster.proxy is used.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
        HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
        reconcile -c "$CFG" plan
is "$RC" 0 "8: with every proxy variable pointing nowhere, plan still reaches the cluster directly"
first_url=$FAKE_URL
first_log=$FAKE_LOG
start_fake
sed -i "s|^  request_timeout: 5s|  request_timeout: 5s\n  proxy: $FAKE_URL|" "$CFG"
sed -i "s|^  url: .*|  url: $first_url|" "$CFG"
n_before=$(jq -c 'select(.control | not)' "$first_log" | wc -l)
reconcile -c "$CFG" plan
ok "$([ "$(fake_requests '.seq' | wc -l)" -ge 1 ]; echo $?)" "8: with cluster.proxy, the requests go to the proxy"
is "$(jq -c 'select(.control | not)' "$first_log" | wc -l)" "$n_before" "8: and not straight to the cluster"
stop_fake
stop_fake

# ---- 9. Folders only we may write: a backup_dir or state_dir others may write is refused.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-o1 search-a-o1 gd"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
mkdir -p "$B" && chmod 0777 "$B"
reconcile -c "$CFG" once
is "$RC" 1 "9: a world-writable backup_dir: exit 1"
is "$(deleted_ids | wc -l)" 0 "9: nothing deleted"
grep -qF "fix it with: chmod go-w '$B'" "$ERR"
ok $? "9: with the chmod that fixes it"
rm -rf "$B"
mkdir -p "$TEST_TMP/state" && chmod 0770 "$TEST_TMP/state"
reconcile -c "$CFG" once
is "$RC" 1 "9: a group-writable state_dir: exit 1"
grep -qF "fix it with: chmod go-w '$TEST_TMP/state'" "$ERR"
ok $? "9: with the chmod that fixes it"
chmod 0700 "$TEST_TMP/state"
stop_fake

# ---- 10. A DELETE is done only when Elasticsearch says so.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/team-a-o1", "body": "{}"}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "10: a DELETE answered 200 {}: exit 1"
grep -q "Failed to delete connector 'team-a-o1': Malformed response (200): The response has no 'acknowledged': true" "$ERR"
ok $? "10: logged with what came back"
grep -q "Cycle ended: deleted 0, already gone 0, failed 1" "$ERR"
ok $? "10: counted as failed, not deleted"
stop_fake

# ---- 11. Stopping tells the truth: DELETEs on the wire at SIGTERM are awaited briefly; those
# still unanswered are logged by id as of unknown outcome, and once prints its summary.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-o1 search-a-o1 gd" \
        "team-a-o2 search-a-o2 gd" "team-a-o3 search-a-o3 gd" "team-a-o4 search-a-o4 gd"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "delay_ms": 4000}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "concurrency: 2"
"$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR" &
once_pid=$!
TEST_PIDS="$TEST_PIDS $once_pid"
backed_up_1_2() { [ "$(backups_of team-a-o1)$(backups_of team-a-o2)" = 11 ]; }
wait_alive "$once_pid" 10 backed_up_1_2
sleep 0.3
t0=$(date +%s%N)
stop_pid "$once_pid" 10 "once, on SIGTERM mid-delete"
RC=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$RC" 1 "11: SIGTERM mid-delete: exit 1"
ok "$([ "$ms" -lt 2000 ]; echo $?)" "11: within the stop's second (${ms} ms)"
is "$(grep -c "no answer came before the stop" "$ERR")" 2 "11: each DELETE on the wire is logged as of unknown outcome"
grep -q "The DELETE of connector 'team-a-o1' was sent and no answer came before the stop: it may or may not be deleted (its backup is '$B/team-a-o1\." "$ERR"
ok $? "11: by id, with its backup"
grep -q "^Cycle ended: .*2 not deleted (stopped), 2 of unknown outcome" "$ERR"
ok $? "11: and the cycle's summary says what was done"
stop_fake

# ---- 12. Bounded cycles: past cycle_timeout no new request starts and the cycle fails.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "status": 429, "retry_after": "300"}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "cycle_timeout: 2s"
t0=$(date +%s%N)
reconcile -c "$CFG" once
ms=$((($(date +%s%N) - t0) / 1000000))
is "$RC" 1 "12: a cluster answering 429 Retry-After: 300 to every listing: exit 1"
ok "$([ "$ms" -lt 6000 ]; echo $?)" "12: after cycle_timeout (2s), not 300 s per attempt (${ms} ms)"
grep -q "The cycle ran longer than cycle_timeout (2 s): starting no new request" "$ERR"
ok $? "12: saying so"
stop_fake

# ---- 13. plan on a listing that never comes out consistent exits 1 and prints no plan.
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "skip": 1, "body": "{\"count\":9,\"results\":[]}"}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG"
reconcile -c "$CFG" --page-size 2 --format json plan
is "$RC" 1 "13: plan on a listing whose pages never agree: exit 1"
is "$(cat "$OUT")" "" "13: no plan is printed, so nothing live is shown as missing"
grep -q "The connector listing changed while it was read, 3 times in a row" "$ERR"
ok $? "13: saying why"
stop_fake

# ---- 15. One instance at a time.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-o1 search-a-o1 gd"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "count": 1, "delay_ms": 3000}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "interval: 1h"
"$RECONCILER" --log-target console -c "$CFG" once >"$TEST_TMP/first.out" 2>"$TEST_TMP/first.err" &
first=$!
TEST_PIDS="$TEST_PIDS $first"
wait_alive "$first" 5 test -s "$TEST_TMP/state/lock"
reconcile -c "$CFG" once
is "$RC" 1 "15: a second once while another holds the lock: exit 1"
grep -q "Another instance (PID $first) holds '$TEST_TMP/state/lock': skipping this cycle, nothing done" "$ERR"
ok $? "15: naming the holder's PID"
reconcile -c "$CFG" plan
is "$RC" 0 "15: plan needs no lock"
"$RECONCILER" --log-target console -c "$CFG" run 2>"$TEST_TMP/run.err" &
daemon=$!
TEST_PIDS="$TEST_PIDS $daemon"
wait_alive "$daemon" 5 grep -q '^Cycle ended' "$TEST_TMP/run.err"
grep -q "Cycle ended: skipped: another instance (PID $first) holds the lock" "$TEST_TMP/run.err"
ok $? "15: a run that finds it taken skips that cycle and says so"
stop_pid "$daemon" 10 "the daemon, on SIGTERM"
wait_exit "$first" 30 "the first instance"
is "$?" 0 "15: the first instance ends its cycle"
is "$(deleted_ids | tr '\n' ' ')" "team-a-o1 " "15: one instance deleted the orphan, once"
stop_fake

# ---- 16. A removed set is an emptied set: a manifest file deleted (or renamed away) whose
# connectors would now be orphans of another set blocks the cycle until the removal is confirmed.
fresh
set_file a.yaml team-a "id_prefix: team-" team-a1
set_file b.yaml team-b "id_prefix: team-b-" team-b-1 team-b-2
write_seed "$TEST_TMP/seed.json" "team-a1 i-a1 gd" "team-b-1 i-b1 gd" "team-b-2 i-b2 gd"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "16: both sets in place: nothing to delete"
rm "$M/b.yaml"
reconcile -c "$CFG" once
is "$RC" 3 "16: b.yaml deleted, its two connectors now orphans of team-a: exit 3"
is "$(deleted_ids | wc -l)" 0 "16: nothing deleted"
grep -q "set 'team-b' is gone from the manifests since the last cycle that ran, and 2 connectors it declared then would now be deleted (such as 'team-b-1'); if its removal is meant, confirm it (once: --confirm-removed-set team-b; in the config: safety.confirm_removed_sets)" "$ERR"
ok $? "16: saying which set, what would go, and how to confirm"
reconcile -c "$CFG" plan
is "$RC" 3 "16: plan says blocked too"
reconcile -c "$CFG" --confirm-removed-set team-b once
is "$RC" 0 "16: confirmed for one once: exit 0"
is "$(deleted_ids | tr '\n' ' ')" "team-b-1 team-b-2 " "16: and its connectors are deleted"
set_file b.yaml team-b "id_prefix: team-b-" team-b-1
set_file c.yaml team-c "id_prefix: team-c-" team-c-1
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-c-1 i-c1 gd), $(connector team-c-2 i-c2 gd)]}" >/dev/null
reconcile -c "$CFG" once
rm "$M/c.yaml"
write_config "$CFG" "safety:" "  confirm_removed_sets: [team-c]"
reconcile -c "$CFG" once
is "$RC" 0 "16: confirmed in the config (safety.confirm_removed_sets): the daemon's form"
is "$(deleted_ids | grep -c team-c)" 2 "16: team-c's connectors are deleted"
stop_fake

# validate points at a set without a selector: it owns the whole cluster (allowed, but a reviewer
# should know).
write_set "$M/all.yaml" everything "" team-a1
reconcile --manifests "$M/all.yaml" validate
is "$RC" 0 "16: a set without a selector is valid"
is "$(cat "$OUT" | head -n 1)" \
        "$M/all.yaml:4:9: set 'everything' has no selector: it owns every connector in the cluster, and deletes each one no manifest declares: warning" \
        "16: but validate warns that it owns every connector in the cluster"

# ---- 17. Orphan grace: an orphan waits until consecutive cycles saw it for that long.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-new search-a-new gd"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "safety:" "  orphan_grace: 2s"
reconcile -c "$CFG" once
is "$RC" 0 "17: a new orphan within its grace: exit 0"
is "$(deleted_ids | wc -l)" 0 "17: and it is not deleted"
is "$(jq -r '.orphans[].id' "$TEST_TMP/state/state.json")" "team-a-new" "17: the state folder remembers since when"
reconcile -c "$CFG" --format json plan
is "$(jq -r '.waiting[0].id' "$OUT")" team-a-new "17: plan shows it waiting"
ok "$(jq -e '.waiting[0].deletable_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$OUT" >/dev/null; echo $?)" \
        "17: with when it becomes deletable"
echo '{"format_version":1,"orphans":[{"id":"team-a-new","since_usec":"garbage"}]}' >"$TEST_TMP/state/state.json"
sleep 2.2
reconcile -c "$CFG" once
is "$(deleted_ids | wc -l)" 0 "17: a corrupt state file restarts the clock: still waiting after 2 s"
grep -q "The state file '$TEST_TMP/state/state.json' is not valid" "$ERR"
ok $? "17: and says so"
sleep 2.2
reconcile -c "$CFG" once
is "$(deleted_ids | tr '\n' ' ')" "team-a-new " "17: seen for longer than the grace by consecutive cycles: deleted"
stop_fake

# ---- 18. A connector that comes back after its deletion (an Elastic Agent re-creates
# hard-deleted connectors) is protected, not deleted again and again.
fresh
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep gd" "team-a-agent search-a-agent gd"
start_fake --seed "$TEST_TMP/seed.json" --version 8.19.0
write_config "$CFG"
reconcile -c "$CFG" once
is "$(deleted_ids | tr '\n' ' ')" "team-a-agent " "18: the orphan is deleted"
is "$(jq -c '[.deleted[] | {id, cycles_absent, when: (.deleted_usec > 0)}]' "$TEST_TMP/state/state.json")" \
        '[{"id":"team-a-agent","cycles_absent":0,"when":true}]' "18: the state folder remembers it, and when"
recreate() {
        fake_control POST /_fake/connectors \
                "{\"connectors\":[$(connector team-a-agent search-a-agent gd)]}" >/dev/null
}
recreate
reconcile -c "$CFG" once
is "$RC" 0 "18: it is back: the cycle succeeds"
is "$(deleted_ids | wc -l)" 1 "18: and does not delete it again"
grep -q "Connector 'team-a-agent' is back after this program deleted it: something re-creates it" "$ERR"
ok $? "18: and says why"
reconcile -c "$CFG" --format json plan
is "$(jq -r '.protected[] | select(.id == "team-a-agent") | .reason' "$OUT")" \
        "deleted by this program in a recent cycle and listed again: something re-creates it (an Elastic Agent re-creates hard-deleted connectors); not deleted again until it is declared, no longer owned, or gone" \
        "18: plan shows it protected, with the reason"
reconcile -c "$CFG" once
reconcile -c "$CFG" once
reconcile -c "$CFG" once
is "$(deleted_ids | wc -l)" 1 "18: while it stays, it stays protected, cycle after cycle"

# Declared now: the record goes; undeclared again later, it is an orphan like any other.
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep team-a-agent
reconcile -c "$CFG" once
is "$(jq -c '.deleted // []' "$TEST_TMP/state/state.json")" '[]' "18: declared, it is forgotten"
set_file a.yaml team-a "id_prefix: team-a-" team-a-keep
reconcile -c "$CFG" once
is "$(deleted_ids | wc -l)" 2 "18: undeclared again, it is deleted as an orphan"

# Not back within three cycles: forgotten, and deleted again should it come back later.
reconcile -c "$CFG" once
reconcile -c "$CFG" once
is "$(jq -c '[.deleted[] | {id, cycles_absent}]' "$TEST_TMP/state/state.json")" '[{"id":"team-a-agent","cycles_absent":2}]' \
        "18: each cycle that does not list it counts"
reconcile -c "$CFG" once
is "$(jq -c '.deleted // []' "$TEST_TMP/state/state.json")" '[]' "18: after three cycles it is forgotten"
recreate
reconcile -c "$CFG" once
is "$(deleted_ids | wc -l)" 3 "18: and back later, it is deleted again"
stop_fake

tap_done
