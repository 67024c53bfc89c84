#!/bin/bash
# Fault injection: each action (status with Retry-After, delay, drop, malformed, truncate,
# trickle, body, product_header, mutate), count and skip, probability with a seed, the control
# endpoint, the log's record of a fault, other connections being served while one is delayed,
# faults acting on the body as filter_path left it; the cluster identity GET / reports
# (--cluster-uuid, --cluster-name, POST /_fake/cluster, mutate).
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

seed="$top_srcdir/tests/data/fake/connectors.json"

# The rules of tests/data/fake/faults.json: the first DELETE gets a 503 with Retry-After: 2; the
# second GET _connector has its connection dropped.
start_fake --seed "$seed" --faults "$top_srcdir/tests/data/fake/faults.json"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS" 503 "status: the first DELETE gets 503"
is "$(http_header Retry-After)" 2 "status: with the Retry-After given"
is "$(jq -r '[.status, .error.type, .error.root_cause[0].type] | join(" ")' "$HTTP_BODY")" \
        "503 cluster_block_exception cluster_block_exception" "status: with an Elasticsearch error body"
is "$(http_header X-elastic-product)" Elasticsearch "status: with the product header"
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 200 "status: the faulted DELETE did not reach the cluster"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS" 200 "count: the second DELETE passes"
fake_curl GET /_connector
is "$HTTP_STATUS" 200 "skip: the first GET _connector passes"
curl -s --max-time "$CURL_MAX_TIME" -o /dev/null "$FAKE_URL/_connector"
is "$?" 52 "drop: the second one gets no reply (curl: empty reply)"
fake_curl GET /_connector
is "$HTTP_STATUS" 200 "drop: count 1, the third one passes"
is "$(fake_requests 'select(.fault != null) | [.method, .fault.action, .status] | map(tostring) | join(" ")' | tr '\n' ',')" \
        '"DELETE status 503","GET drop null",' "the log records each fault and its effect"
is "$(fake_requests 'select(.fault.action == "status") | .fault | [.rule, .status, .retry_after] | map(tostring) | join(" ")')" \
        '"0 503 2"' "the log names the rule, status and Retry-After"
stop_fake

start_fake --seed "$seed"
rules() { fake_control POST /_fake/faults "$1"; }

# malformed: a 200 whose body is not JSON (the request itself is carried out).
is "$(rules '{"faults":[{"method":"DELETE","path":"/_connector/*","count":1,"malformed":true}]}')" \
        '{"acknowledged":true}' "rules are set through the control endpoint"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS" 200 "malformed: 200"
if jq empty "$HTTP_BODY" >/dev/null 2>&1; then ok 1 "malformed: the body is not JSON"; else ok 0 "malformed: the body is not JSON"; fi
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 404 "malformed: the request was carried out"

# truncate: Content-Length promises more than is sent.
rules '{"faults":[{"path":"/_connector/team-a-hr","truncate":true}]}' >/dev/null
curl -s --max-time "$CURL_MAX_TIME" -o "$TEST_TMP/part" "$FAKE_URL/_connector/team-a-hr"
is "$?" 18 "truncate: curl sees a partial transfer"
test -s "$TEST_TMP/part"
ok $? "truncate: part of the body arrived"

# Faults act on the wire, on the body Elasticsearch sent: filter_path has filtered it already.
rules '{"faults":[{"path":"/_connector","truncate":true}]}' >/dev/null
fake_curl GET "/_connector?filter_path=count" 2>/dev/null
is "$(http_header Content-Length)" 11 "truncate after filter_path: the filtered body's length is announced"
is "$(cat "$HTTP_BODY")" '{"cou' "truncate after filter_path: half of the filtered body is sent"
rules '{"faults":[{"path":"/_connector","malformed":true}]}' >/dev/null
fake_curl GET "/_connector?filter_path=count"
if jq empty "$HTTP_BODY" >/dev/null 2>&1; then ok 1 "malformed with filter_path: still not JSON"; else ok 0 "malformed with filter_path: still not JSON"; fi

# Faults are matched on the decoded path, and control requests are never faulted.
rules '{"faults":[{"path":"*","status":500}]}' >/dev/null
fake_curl GET /_connector/team-a-hr
is "$HTTP_STATUS" 500 "a '*' rule faults everything"
is "$(fake_control GET /_fake/faults | jq -r '.faults[0].applied')" 1 "but not the control endpoint"
rules '{"faults":[{"method":"GET","path":"/_connector/a/b","status":429,"type":"es_rejected_execution_exception","reason":"too busy"}]}' >/dev/null
fake_curl GET /_connector/a%2Fb
is "$(jq -r '[.status, .error.type, .error.reason] | join(" ")' "$HTTP_BODY")" \
        "429 es_rejected_execution_exception too busy" "rules match the decoded path, with their own type and reason"
is "$(fake_control DELETE /_fake/faults)" '{"acknowledged":true}' "DELETE /_fake/faults clears the rules"
fake_curl GET /_connector/a%2Fb
is "$HTTP_STATUS" 404 "no rule, no fault"

# count and skip together, Retry-After as an HTTP-date, verbatim.
rules '{"faults":[{"method":"GET","path":"/","skip":2,"count":2,"status":503,"retry_after":"Wed, 21 Oct 2015 07:28:00 GMT"}]}' >/dev/null
statuses=""
for i in 1 2 3 4 5; do
        fake_curl GET /
        statuses="$statuses$HTTP_STATUS "
done
is "$statuses" "200 200 503 503 200 " "skip 2, count 2: the third and fourth are faulted"
fake_control GET /_fake/faults >"$TEST_TMP/faults"
is "$(jq -c '.faults[0] | [.count, .skip, .applied]' "$TEST_TMP/faults")" "[0,0,2]" "the control endpoint shows what is left"
rules '{"faults":[{"path":"/","status":503,"retry_after":"Wed, 21 Oct 2015 07:28:00 GMT"}]}' >/dev/null
fake_curl GET /
is "$(http_header Retry-After)" "Wed, 21 Oct 2015 07:28:00 GMT" "Retry-After is sent verbatim"

# A bad rule set is refused whole, naming the rule and key.
is "$(rules '{"faults":[{"path":"/","status":503},{"path":"/","drop":true,"truncate":true}]}')" \
        '{"error":"request body: faults[1]: \"status\", \"drop\", \"malformed\" and \"truncate\" exclude each other"}' \
        "a bad rule is refused with its index"
fake_curl GET /
is "$(http_header Retry-After)" "Wed, 21 Oct 2015 07:28:00 GMT" "and the previous rules stay"

# delay: the delayed request is answered after a request that came later on another connection.
rules '{"faults":[{"method":"GET","path":"/_connector/team-a-hr","count":1,"delay_ms":1500}]}' >/dev/null
curl -s --max-time "$CURL_MAX_TIME" -o "$TEST_TMP/slow" "$FAKE_URL/_connector/team-a-hr" &
slow=$!
TEST_PIDS="$TEST_PIDS $slow"
# Until the delayed request has arrived (its fault is counted).
delay_applied() { [ "$(fake_control GET /_fake/faults | jq -r '.faults[0].applied')" = 1 ]; }
wait_alive "$slow" 5 delay_applied
fake_curl GET /_connector/team-a-wiki
is "$HTTP_STATUS" 200 "delay: another connection is served meanwhile"
wait_exit "$slow" "$CURL_MAX_TIME" "the delayed request"
is "$(jq -r .id "$TEST_TMP/slow")" team-a-hr "delay: the delayed request is then served normally"
is "$(fake_requests 'select(.connector_id == "team-a-hr" or .connector_id == "team-a-wiki") | .connector_id' | tail -n 2 | tr '\n' ' ')" \
        '"team-a-wiki" "team-a-hr" ' "delay: the later request finished first"
is "$(fake_requests 'select(.fault.action == "delay") | .fault.delay_ms')" 1500 "delay: logged"

# trickle: the body arrives slowly but whole.
rules '{"faults":[{"path":"/_connector/team-a-wiki","trickle_bytes_per_sec":200}]}' >/dev/null
fake_curl GET /_connector/team-a-wiki
is "$(jq -r .id "$HTTP_BODY")" team-a-wiki "trickle: the whole body arrives"
is "$(fake_requests 'select(.fault.action == "trickle") | .fault.trickle_bytes_per_sec')" 200 "trickle: logged"

# probability: the same --fault-seed gives the same choices.
stop_fake
# run_probability: the statuses of 30 requests to a fresh fake cluster with --fault-seed 1234, in $out.
run_probability() {
        start_fake --fault-seed 1234
        rules '{"faults":[{"path":"/","probability":0.5,"status":503}]}' >/dev/null
        out=""
        for i in $(seq 1 30); do
                fake_curl GET /
                out="$out$HTTP_STATUS "
        done
        stop_fake
}
run_probability
first=$out
run_probability
second=$out
is "$first" "$second" "probability: the same seed gives the same faults"
case "$first" in *503*200* | *200*503*) ok 0 "probability: some requests are faulted, some not" ;;
*) ok 1 "probability: some requests are faulted, some not ($first)" ;; esac

# ---- body, product_header, mutate ----
start_fake --seed "$seed"
rules() { fake_control POST /_fake/faults "$1"; }
identity() { jq -r '[.cluster_uuid, .cluster_name] | join(" ")' "$@"; }

# body with status: that status and that body, verbatim; the request is not carried out.
rules '{"faults":[{"method":"DELETE","path":"/_connector/orphan-1","count":1,"status":500,"body":"{\"oops\":true}"}]}' >/dev/null
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '500 {"oops":true}' "body with status: that status and that body instead of the error body"
is "$(http_header Content-Type)" application/json "body with status: sent as application/json"
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 200 "body with status: the DELETE was not carried out"
rules '{"faults":[{"path":"/","count":1,"status":502,"body":"<html>Bad Gateway</html>","content_type":"text/html"}]}' >/dev/null
fake_curl GET /
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '502 <html>Bad Gateway</html>' "body with status: any body, e.g. a proxy's page"
is "$(http_header Content-Type)" text/html "body with status: content_type sets the type"
is "$(http_header X-elastic-product)" Elasticsearch "body with status: the product header stays"

# body without status: the request is carried out, its status kept, its body replaced.
rules '{"faults":[{"method":"DELETE","path":"/_connector/orphan-1","count":1,"body":"{}"}]}' >/dev/null
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {}' "body alone: the DELETE's own status with this body"
is "$(fake_control GET /_fake/state | jq -r '.connectors[] | select(.id == "orphan-1") | .deleted')" true \
        "body alone: the DELETE was carried out (a 9.x soft delete)"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS $(jq -r .error.type "$HTTP_BODY")" "404 resource_not_found_exception" \
        "body alone: count 1, the next DELETE is answered as usual"
rules '{"faults":[{"path":"/_connector/*","body":"{\"id\":\"team-a-hr\",\"name\":\"someone else\"}"}]}' >/dev/null
fake_curl GET /_connector/team-a-hr
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"id":"team-a-hr","name":"someone else"}' "body alone: a GET answers 200 with another document"
fake_curl GET /_connector/nope
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '404 {"id":"team-a-hr","name":"someone else"}' "body alone: the status is the request's own (404)"
fake_curl GET "/_connector/team-a-hr?filter_path=id&pretty" -H 'Accept: application/vnd.elasticsearch+json; compatible-with=9'
is "$(cat "$HTTP_BODY")" '{"id":"team-a-hr","name":"someone else"}' "body alone: verbatim, neither filtered nor indented"
is "$(http_header Content-Type)" application/json "body alone: as application/json, whatever the request asked for"
fake_curl POST /_connector/team-a-hr
is "$HTTP_STATUS $(http_header Allow) $(cat "$HTTP_BODY")" '405 GET,PUT,DELETE {"id":"team-a-hr","name":"someone else"}' \
        "body alone: the answer's own headers stay"
is "$(fake_requests 'select(.fault.action == "body") | [.method, .status, .connector_id, .fault.body] | map(tostring) | join(" ")' | head -n 1)" \
        '"DELETE 200 orphan-1 true"' "body alone: logged with the request's own status, routed"
is "$(fake_requests 'select(.fault.action == "status" and .fault.body) | .status' | tr '\n' ' ')" '500 502 ' \
        "body with status: logged as a status fault with a body"

# product_header false: that answer goes out without X-elastic-product, everything else as usual.
rules '{"faults":[{"path":"/","count":1,"product_header":false}]}' >/dev/null
fake_curl GET /
is "$HTTP_STATUS $(jq -r .version.number "$HTTP_BODY")" "200 9.1.3" "product_header false: answered as usual"
is "$(http_header X-elastic-product)" "" "product_header false: without X-elastic-product"
is "$(http_header Content-Type)" application/json "product_header false: the other headers stay"
fake_curl GET /
is "$(http_header X-elastic-product)" Elasticsearch "product_header false: count 1, the next answer has it"
rules '{"faults":[{"path":"/_connector","status":503,"body":"upstream gone","content_type":"text/plain","product_header":false}]}' >/dev/null
fake_curl GET /_connector
is "$HTTP_STATUS $(cat "$HTTP_BODY") $(http_header X-elastic-product)" "503 upstream gone " \
        "product_header false with status and body: a proxy's 503"
is "$(fake_requests 'select(.fault.product_header == false) | .fault.action' | tr '\n' ' ')" '"product_header" "status" ' \
        "product_header false: logged"

# mutate connectors: added or replaced whole when the rule takes a request; seen by later ones.
rules '{"faults":[{"method":"GET","path":"/_connector/team-a-hr","count":1,"mutate":{"connectors":[{"id":"team-a-wiki","name":"Wiki, moved","index_name":"search-wiki-2"},{"id":"added","name":"Added"}]}}]}' >/dev/null
fake_curl GET /_connector/team-a-wiki
is "$(jq -r .description "$HTTP_BODY")" Wiki "mutate: nothing changes when the rule is set"
fake_curl GET /_connector/team-a-hr
is "$HTTP_STATUS $(jq -r .id "$HTTP_BODY")" "200 team-a-hr" "mutate: the request it takes is answered as usual"
fake_curl GET /_connector/team-a-wiki
is "$(cat "$HTTP_BODY")" \
        '{"id":"team-a-wiki","name":"Wiki, moved","index_name":"search-wiki-2","is_native":false,"status":"created","sync_now":false,"deleted":false}' \
        "mutate connectors: a GET of another connector shows it replaced whole (completed as a seed is)"
fake_curl GET /_connector/added
is "$HTTP_STATUS $(jq -r .name "$HTTP_BODY")" "200 Added" "mutate connectors: a new id is added"
is "$(fake_requests 'select(.fault.mutated) | [.method, .connector_id, .fault.action] | join(" ")')" '"GET team-a-hr mutate"' \
        "mutate: the log records the mutation on the request that made it"

# mutate sync_jobs and delete_sync_jobs.
rules '{"faults":[{"method":"GET","path":"/","count":1,"mutate":{"sync_jobs":[{"id":"job-9","connector":{"id":"added"},"created_at":"2024-06-01T00:00:00.000Z"}],"delete_sync_jobs":["job-1","no-such-job"]}}]}' >/dev/null
fake_curl GET /_connector/_sync_job
is "$(jq -r '[.results[].id] | join(",")' "$HTTP_BODY")" "job-3,job-2,job-1" "mutate sync_jobs: nothing changes before the rule takes a request"
fake_curl GET /
fake_curl GET /_connector/_sync_job
is "$(jq -r '[.results[].id] | join(",")' "$HTTP_BODY")" "job-9,job-3,job-2" \
        "mutate sync_jobs, delete_sync_jobs: one added, one removed, a missing id ignored"

# mutate delete_connectors: removed outright, before the request is carried out.
rules '{"faults":[{"method":"GET","path":"/_connector/added","count":1,"mutate":{"delete_connectors":["added","orphan-1","not-there"]}}]}' >/dev/null
fake_curl GET /_connector/added
is "$HTTP_STATUS" 404 "mutate delete_connectors: applied before the request (its own connector is gone)"
is "$(fake_control GET /_fake/state | jq -r '[.connectors[].id] | sort | join(",")')" "no-index,team-a-hr,team-a-wiki" \
        "mutate delete_connectors: removed outright, a soft-deleted one too; a missing id ignored"

# mutate with status: the world changes, the answer is an error (an answer lost on the way).
rules '{"faults":[{"method":"DELETE","path":"/_connector/team-a-wiki","count":1,"status":503,"mutate":{"delete_connectors":["team-a-wiki"]}}]}' >/dev/null
fake_curl DELETE /_connector/team-a-wiki
is "$HTTP_STATUS $(jq -r .error.type "$HTTP_BODY")" "503 cluster_block_exception" "mutate with status: answered 503"
fake_curl GET "/_connector/team-a-wiki?include_deleted=true"
is "$HTTP_STATUS" 404 "mutate with status: the connector is gone all the same"

# A bad mutation is refused with the rule, the key and where in the documents.
is "$(rules '{"faults":[{"path":"/","status":503},{"mutate":{"connectors":[{"name":"no id"}]}}]}')" \
        '{"error":"request body: faults[1]: mutate: connectors[0]: \"id\" must be a non-empty string"}' \
        "a bad mutate is refused, naming the rule and the key"
is "$(rules '{"faults":[{"mutate":{"delete_connectors":"team-a-hr"}}]}')" \
        '{"error":"request body: faults[0]: mutate: \"delete_connectors\" must be an array of non-empty strings"}' \
        "delete_connectors must be a list"
is "$(rules '{"faults":[{"body":"x","drop":true}]}')" \
        '{"error":"request body: faults[0]: \"body\" excludes \"drop\", \"malformed\" and \"truncate\""}' \
        "body and drop are refused together"
stop_fake

# mutate on a list page: the next page shows the change, in list order (the kept order is sorted
# again after the mutation's writes).
start_fake --seed "$seed"
page() {
        fake_curl GET "/_connector?from=$1&size=2"
        jq -r '[.count, (.results | map(.id) | join(","))] | map(tostring) | join(" ")' "$HTTP_BODY"
}
is "$(page 0) / $(page 2)" "4 team-a-hr,orphan-1 / 4 team-a-wiki,no-index" "the pages before any mutation"
rules '{"faults":[{"method":"GET","path":"/_connector","count":1,"mutate":{"connectors":[{"id":"late","index_name":"search-a-i"},{"id":"later","index_name":"search-b"}]}}]}' >/dev/null
is "$(page 0)" "6 team-a-hr,orphan-1" "mutate connectors on a list page: the page it takes is listed after the change"
is "$(page 2)" "6 late,team-a-wiki" "mutate connectors on a list page: the next page shows it, in index_name order"
is "$(page 4)" "6 later,no-index" "mutate connectors on a list page: and the last page"
rules '{"faults":[{"method":"GET","path":"/_connector","count":1,"mutate":{"delete_connectors":["team-a-wiki"]}}]}' >/dev/null
is "$(page 0) / $(page 2)" "5 team-a-hr,orphan-1 / 5 late,later" "mutate delete_connectors on a list page: the next page closes up"
fake_curl GET "/_connector?index_name=search-b,search-a-i"
is "$(jq -r '[.results[].id] | join(",")' "$HTTP_BODY")" "late,later" "a filtered list after the mutations"

# mutate cluster: what GET / reports from then on.
fake_curl GET /
is "$(identity "$HTTP_BODY")" "ZmFrZS1jbHVzdGVyLXV1aWQ fake-cluster" "GET /: the default cluster identity"
rules '{"faults":[{"method":"GET","path":"/_connector","count":1,"mutate":{"cluster":{"cluster_uuid":"restored-uuid"}}}]}' >/dev/null
fake_curl GET /
is "$(identity "$HTTP_BODY")" "ZmFrZS1jbHVzdGVyLXV1aWQ fake-cluster" "mutate cluster: nothing changes before the rule takes a request"
fake_curl GET /_connector
fake_curl GET /
is "$(identity "$HTTP_BODY")" "restored-uuid fake-cluster" "mutate cluster: GET / reports the new uuid, the name unchanged"
is "$(fake_control GET /_fake/state | identity)" "restored-uuid fake-cluster" "mutate cluster: the state shows it"
stop_fake

# --cluster-uuid, --cluster-name and POST /_fake/cluster.
start_fake --cluster-uuid abcDEF123 --cluster-name prod-east
fake_curl GET /
is "$(identity "$HTTP_BODY")" "abcDEF123 prod-east" "--cluster-uuid, --cluster-name: GET / reports them"
is "$(fake_control GET /_fake/state | identity)" "abcDEF123 prod-east" "GET /_fake/state shows them"
is "$(fake_control POST /_fake/cluster '{"cluster_uuid":"other-uuid"}')" '{"cluster_uuid":"other-uuid","cluster_name":"prod-east"}' \
        "POST /_fake/cluster changes the uuid alone and answers both"
fake_curl GET /
is "$(identity "$HTTP_BODY")" "other-uuid prod-east" "GET / reports the change"
fake_control POST /_fake/cluster '{"cluster_name":"prod-west"}' >/dev/null
fake_curl GET /
is "$(identity "$HTTP_BODY")" "other-uuid prod-west" "POST /_fake/cluster changes the name alone"
is "$(fake_control POST /_fake/cluster '{"uuid":"x"}')" '{"error":"request body: unknown key \"uuid\""}' \
        "POST /_fake/cluster refuses an unknown key"
is "$(curl -s --max-time "$CURL_MAX_TIME" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{"cluster_name":1}' "$FAKE_URL/_fake/cluster")" \
        400 "POST /_fake/cluster refuses a name that is not a string with a 400"
fake_curl GET /
is "$(identity "$HTTP_BODY")" "other-uuid prod-west" "a refused change changes nothing"
stop_fake

# A bad faults file stops the start, naming the file and the key.
printf '{"faults":[{"path":"/","status":503,"colour":1}]}' >"$TEST_TMP/bad-faults.json"
"$FAKE_CLUSTER" --faults "$TEST_TMP/bad-faults.json" 2>"$TEST_TMP/err"
is "$?" 1 "a bad faults file fails the start"
is "$(cat "$TEST_TMP/err")" "fake-cluster: $TEST_TMP/bad-faults.json: faults[0]: unknown key \"colour\"" \
        "naming the file, the rule and the key"

tap_done
