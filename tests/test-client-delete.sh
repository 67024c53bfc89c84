#!/bin/bash
# The cluster client deletes connectors on the fake cluster: odd ids go out as one escaped path
# segment; each version gets only the parameters it accepts (8.13 deletes the sync jobs itself,
# through the sync-job API, before a plain DELETE); 404 is "already gone"; a failed sync-job
# delete stops the connector's delete.
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
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3 || exit 1

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
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4 || exit 1
tool --page-size 2 delete c1 --delete-sync-jobs --hard
is "$RC" 0 "8.13.4: delete with sync jobs exits 0"
is "$(jq -r .result "$OUT")" deleted "8.13.4: reported deleted"
is "$(fake_requests 'select(.path == "/_connector/_sync_job") | "\(.query.connector_id) \(.query.from) \(.query.size)"' | tr -d '"' | tr '\n' ',')" \
        "c1 0 2,c1 2 2,c1 4 2," "8.13.4: every page of c1's sync jobs is listed"
is "$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .sync_job_id' | tr -d '"' | sort | tr '\n' ' ')" \
        "j0 j1 j2 j3 j4 " "8.13.4: each of c1's five sync jobs is deleted through the sync-job API"
last_job=$(fake_requests 'select(.method == "DELETE" and .sync_job_id) | .seq' | sort -n | tail -n 1)
conn_seq=$(fake_requests 'select(.method == "DELETE" and .connector_id == "c1") | .seq')
ok "$([ -n "$conn_seq" ] && [ -n "$last_job" ] && [ "$conn_seq" -gt "$last_job" ]; echo $?)" \
        "8.13.4: the connector is deleted after its sync jobs"
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
start_fake --seed "$TEST_TMP/versions.json" --version 8.19.0 || exit 1
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
start_fake --seed "$TEST_TMP/versions.json" --version 9.1.3 || exit 1
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

# ---- 8.13.4: a sync job that cannot be deleted stops the connector's delete
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "DELETE", "path": "/_connector/_sync_job/j3", "status": 500}]}
EOF
start_fake --seed "$TEST_TMP/versions.json" --version 8.13.4 --faults "$TEST_TMP/faults.json" || exit 1
tool delete c1 --delete-sync-jobs
is "$RC" 1 "8.13.4: a failed sync-job delete fails the delete"
is "$(jq -r .result "$OUT")" failed "and reports it failed"
grep -q "DELETE /_connector/_sync_job/j3: 500" "$ERR"
ok $? "naming the sync-job request and its status"
is "$(fake_requests 'select(.method == "DELETE" and .connector_id == "c1") | .seq' | wc -l)" 0 \
        "the connector itself is not deleted"
is "$(fake_requests 'select(.path == "/_connector/_sync_job/j3") | .seq' | wc -l)" 1 "a 500 is not retried"
stop_fake

tap_done
