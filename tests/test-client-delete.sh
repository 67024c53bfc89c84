#!/bin/bash
# The cluster client deletes connectors on the fake cluster: odd ids go out as one escaped path
# segment; each version gets only the parameters it accepts (on 8.12-8.13 the sync jobs are
# listed first, for the backup, and deleted by the client through the sync-job API after the
# connector's plain DELETE, only those that are the connector's); 404 is "already gone"; a failed
# connector DELETE leaves its sync jobs alone; a DELETE is done only when acknowledged.
. "$top_srcdir/tests/lib.sh"

TOOL="$top_builddir/tests/cluster-tool"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

tool() {  # tool ARGS...: runs cluster-tool against the fake; output in $OUT and $ERR, status in $RC
        timeout 60 "$TOOL" --url "$FAKE_URL" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
        RC=$?
        OUT="$TEST_TMP/out"
        ERR="$TEST_TMP/err"
}

# ---- Odd ids: each one path segment, escaped, deleted by exactly that raw path
ids=("a b" "a/b" "100%" "what?" "#1" "a+b" "ünï-✓" ".." "x.y~z")
paths=("a%20b" "a%2Fb" "100%25" "what%3F" "%231" "a%2Bb" "%C3%BCn%C3%AF-%E2%9C%93" "%2E%2E" "x.y~z")
printf '%s\n' "${ids[@]}" | jq -R . | jq -s '{connectors: (to_entries | map({id: .value,
        name: "odd \(.key)", service_type: "s3", index_name: "search-odd"}) + [{id: "keep", index_name: "k"}])}' \
        >"$TEST_TMP/seed.json"
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3

tool get "a/b"
is "$RC" 0 "a connector whose id holds a slash can be read"
is "$(jq -r .name "$OUT")" "odd 1" "and it is the right one"
is "$(fake_requests 'select(.method == "GET" and .connector_id) | .raw_path' | tr -d '"')" "/_connector/a%2Fb" \
        "GET went to /_connector/a%2Fb"

tool --hard delete-many "${ids[@]}"
is "$RC" 0 "deleting nine odd ids exits 0"
is "$(jq -r 'select(.result == "deleted") | .id' "$OUT" | wc -l)" 9 "all nine are reported deleted"
for i in "${!ids[@]}"; do
        got=$(fake_requests "select(.method == \"DELETE\" and .connector_id == $(jq -n --arg s "${ids[$i]}" '$s')) | .raw_path" | tr -d '"')
        is "$got" "/_connector/${paths[$i]}" "id '${ids[$i]}' is deleted as /_connector/${paths[$i]}"
done
is "$(fake_requests 'select(.method == "DELETE") | .status' | sort -u)" 200 "every delete answered 200"
is "$(fake_control GET /_fake/state | jq -r '[.connectors[].id] | join(",")')" keep "only the other connector is left"
stop_fake

# ---- Each version gets only what it accepts
# seed_versions FILE: connectors c1, c2, c3; five sync jobs of c1, one of c2.
jq -n '{connectors: [{id: "c1", index_name: "i1"}, {id: "c2", index_name: "i2"}, {id: "c3", index_name: "i3"}],
        sync_jobs: ([range(5) | {id: "j\(.)", connector: {id: "c1"}, status: "completed", job_type: "full"}]
                    + [{id: "j9", connector: {id: "c2"}, status: "completed", job_type: "full"}])}' \
        >"$TEST_TMP/versions.json"

delete_query() {  # delete_query ID: the raw query of the DELETE of connector ID
        fake_requests "select(.method == \"DELETE\" and .path == \"/_connector/$1\") | .raw_query" | tr -d '"'
}

# 8.13.4: no delete parameter exists; asked to delete sync jobs, the client does it itself.
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4
tool --page-size 2 delete c1 --delete-sync-jobs --hard
is "$RC" 0 "8.13.4: delete with sync jobs exits 0"
is "$(jq -r .result "$OUT")" deleted "8.13.4: reported deleted"
is "$(fake_requests 'select(.path == "/_connector/_sync_job") | "\(.query.connector_id) \(.query.from) \(.query.size)"' | tr -d '"' | tr '\n' ',')" \
        "c1 0 2,c1 2 2,c1 4 2," "8.13.4: every page of c1's sync jobs is listed"
is "$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .sync_job_id' | tr -d '"' | sort | tr '\n' ' ')" \
        "j0 j1 j2 j3 j4 " "8.13.4: each of c1's five sync jobs is deleted through the sync-job API"
first_job=$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .seq' | sort -n | head -n 1)
conn_seq=$(fake_requests 'select(.method == "DELETE" and .connector_id == "c1") | .seq')
last_list=$(fake_requests 'select(.path == "/_connector/_sync_job") | .seq' | sort -n | tail -n 1)
ok "$([ -n "$conn_seq" ] && [ -n "$first_job" ] && [ "$last_list" -lt "$conn_seq" ] && [ "$conn_seq" -lt "$first_job" ]; echo $?)" \
        "8.13.4: its sync jobs are listed first, the connector deleted next, its jobs after it"
is "$(delete_query c1)" null "8.13.4: then a plain DELETE, no delete_sync_jobs, no hard"
tool delete c2
is "$(delete_query c2)" null "8.13.4: a delete without sync jobs is plain"
is "$(fake_requests 'select(.path == "/_connector/_sync_job") | .seq' | wc -l)" 3 "8.13.4: and lists no sync jobs"
tool delete c3 --hard
is "$(delete_query c3)" null "8.13.4: hard is not sent (every delete is for good before 9.0)"
is "$(fake_requests 'select(.status != 200) | .seq' | wc -l)" 0 "8.13.4: no request was refused"
is "$(fake_control GET /_fake/state | jq -r '[.sync_jobs[].id] | join(",")')" j9 "8.13.4: c2's sync job is left alone"
stop_fake

# 8.19.0: delete_sync_jobs exists, hard does not.
start_fake --seed "$TEST_TMP/versions.json" --version 8.19.0
tool delete c1 --delete-sync-jobs --hard
is "$(delete_query c1)" "delete_sync_jobs=true" "8.19.0: delete_sync_jobs=true, no hard"
is "$(fake_requests 'select(.path == "/_connector/_sync_job" or .sync_job_id) | .seq' | wc -l)" 0 \
        "8.19.0: the client leaves the sync jobs to the server"
tool delete c2 --hard
is "$(delete_query c2)" null "8.19.0: hard alone sends nothing"
tool delete c3
is "$(delete_query c3)" null "8.19.0: a plain delete sends nothing"
is "$(fake_requests 'select(.status != 200) | .seq' | wc -l)" 0 "8.19.0: no request was refused"
is "$(fake_control GET /_fake/state | jq -r '[.sync_jobs[].id] | join(",")')" j9 "8.19.0: the server deleted c1's sync jobs"
stop_fake

# 9.1.3: both exist; a plain delete is a soft delete.
start_fake --seed "$TEST_TMP/versions.json" --version 9.1.3
tool delete c1 --delete-sync-jobs --hard
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/c1") | .query' )" \
        '{"delete_sync_jobs":"true","hard":"true"}' "9.1.3: delete_sync_jobs=true and hard=true"
tool delete c2 --hard
is "$(fake_requests 'select(.method == "DELETE" and .path == "/_connector/c2") | .query')" '{"hard":"true"}' \
        "9.1.3: hard=true alone"
tool delete c3
is "$(delete_query c3)" null "9.1.3: a plain delete sends no parameter, not even =false"
is "$(fake_requests 'select(.status != 200) | .seq' | wc -l)" 0 "9.1.3: no request was refused"
is "$(fake_control GET /_fake/state | jq -c '[.connectors[] | {id, deleted}]')" '[{"id":"c3","deleted":true}]' \
        "9.1.3: c1 and c2 are gone, c3 is soft-deleted"

# ---- 404 on delete: already gone, not a failure, not retried
tool delete nope
is "$RC" 0 "deleting a missing connector exits 0"
is "$(cat "$OUT")" '{"id":"nope","result":"already_gone"}' "and reports it already gone"
is "$(fake_requests 'select(.method == "DELETE" and .connector_id == "nope") | .status')" 404 "after one DELETE (404)"
tool delete c3
is "$(jq -r .result "$OUT")" already_gone "deleting a soft-deleted connector again: already gone"

tool get nope
is "$RC" 1 "getting a missing connector fails"
grep -q "404 resource_not_found_exception: connector \[nope\] not found" "$ERR"
ok $? "with Elasticsearch's words"
stop_fake

# ---- 8.13.4: a sync job that cannot be deleted: the connector is gone, the failure is said
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/_sync_job/j3", "status": 500}]}
EOF
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4 --faults "$TEST_TMP/faults.json"
tool delete c1 --delete-sync-jobs
is "$RC" 1 "8.13.4: a failed sync-job delete fails the operation"
is "$(jq -r .result "$OUT")" deleted_partly "and reports the connector deleted, its jobs partly"
grep -q "DELETE /_connector/_sync_job/j3: 500" "$ERR"
ok $? "naming the sync-job request and its status"
is "$(fake_control GET /_fake/state | jq -r '[.connectors[].id, .sync_jobs[].id] | join(",")')" "c2,c3,j3,j9" \
        "the connector and its other jobs are gone, j3 and c2's job stay"
is "$(fake_requests 'select(.path == "/_connector/_sync_job/j3") | .seq' | wc -l)" 1 "a 500 is not retried"
stop_fake

# ---- 8.13.4: a connector DELETE that fails leaves its sync jobs alone (listed for the backup,
# they stay with the connector)
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/c1", "status": 500}]}
EOF
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4 --faults "$TEST_TMP/faults.json"
tool delete c1 --delete-sync-jobs
is "$RC" 1 "8.13.4: a failed connector DELETE fails"
is "$(jq -r .result "$OUT")" failed "and reports it failed"
is "$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .seq' | wc -l)" 0 "no sync job is deleted"
is "$(fake_control GET /_fake/state | jq -r '[.sync_jobs[].id] | join(",")')" "j0,j1,j2,j3,j4,j9" \
        "every sync job is still there"
stop_fake

# ---- 8.13.4: a listing of sync jobs that ignores the connector_id filter: only the connector's
# own jobs are deleted (a proxy dropping the filter must not cost every job in the cluster)
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector/_sync_job",
             "body": "{\"count\":3,\"results\":[{\"id\":\"j0\",\"connector\":{\"id\":\"c1\"}},{\"id\":\"j9\",\"connector\":{\"id\":\"c2\"}},{\"id\":\"j4\",\"connector\":{\"id\":\"c1\"}}]}"}]}
EOF
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4 --faults "$TEST_TMP/faults.json"
tool sync-jobs c1
is "$(jq -c '[.jobs, .foreign]' "$OUT")" '[["j0","j4"],1]' "8.13.4: another connector's job is left out of the listing"
tool delete c1 --delete-sync-jobs
is "$RC" 0 "8.13.4: the delete goes ahead"
is "$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .sync_job_id' | tr -d '"' | sort | tr '\n' ' ')" \
        "j0 j4 " "only the connector's own jobs are deleted; c2's j9 is not"
stop_fake

# ---- A DELETE is done only when Elasticsearch says so: a 2xx without {"acknowledged": true},
# or without X-elastic-product, fails
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/c1", "count": 1, "status": 200, "body": "{}"},
            {"method": "DELETE", "path": "/_connector/c2", "count": 1, "status": 200,
             "body": "{\"acknowledged\":true}", "product_header": false}]}
EOF
start_fake --seed "$TEST_TMP/versions.json" --version 9.1.3 --faults "$TEST_TMP/faults.json"
tool delete c1
is "$RC" 1 "a DELETE answered 200 {} fails"
is "$(jq -r .result "$OUT")" failed "and is not reported deleted"
grep -q "has no 'acknowledged': true" "$ERR"
ok $? "saying the answer did not acknowledge it"
tool delete c2
is "$(jq -r .result "$OUT")" failed "a 200 acknowledgement without X-elastic-product is not Elasticsearch's: failed"
grep -q "not Elasticsearch (no X-elastic-product header)" "$ERR"
ok $? "and says so"
stop_fake

# ---- A DELETE is sent again only to the document that was backed up (--guard): here the
# connector was deleted and created anew while the first DELETE's answer was lost
jq -n '{connectors: [{id: "c1", index_name: "i1", name: "old"}]}' >"$TEST_TMP/guard.json"
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/c1", "count": 1, "status": 503,
             "mutate": {"connectors": [{"id": "c1", "index_name": "i1", "name": "new, created by someone else"}]}}]}
EOF
start_fake --seed "$TEST_TMP/guard.json" --version 9.1.3 --faults "$TEST_TMP/faults.json"
timeout 60 "$TOOL" --url "$FAKE_URL" --initial-delay-ms 10 --guard delete c1 >"$TEST_TMP/out" 2>"$TEST_TMP/err"
RC=$?
is "$(jq -r .result "$TEST_TMP/out")" changed "a retried DELETE to a connector that changed meanwhile: not sent, 'changed'"
is "$RC" 0 "which is no failure"
is "$(fake_requests 'select(.path == "/_connector/c1") | .method' | tr -d '"' | tr '\n' ' ')" "GET DELETE GET " \
        "the second GET found another document, and no second DELETE went out"
is "$(fake_control GET /_fake/state | jq -r '.connectors[].name')" "new, created by someone else" \
        "the new connector stays"
stop_fake
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/c1", "count": 1, "status": 503}]}
EOF
start_fake --seed "$TEST_TMP/guard.json" --version 9.1.3 --faults "$TEST_TMP/faults.json"
timeout 60 "$TOOL" --url "$FAKE_URL" --initial-delay-ms 10 --guard --hard delete c1 >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$(jq -r .result "$TEST_TMP/out")" deleted "unchanged, the DELETE is sent again and done"
is "$(fake_requests 'select(.path == "/_connector/c1") | .method' | tr -d '"' | tr '\n' ' ')" "GET DELETE GET DELETE " \
        "after a GET that found the same document"
stop_fake

tap_done
