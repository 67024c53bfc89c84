#!/bin/bash
# Fault injection: each action (status with Retry-After, delay, drop, malformed, truncate,
# trickle), count and skip, probability with a seed, the control endpoint, the log's record of
# a fault, other connections being served while one is delayed, and faults acting on the body
# as filter_path left it.
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
curl -s -o /dev/null "$FAKE_URL/_connector"
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
curl -s -o "$TEST_TMP/part" "$FAKE_URL/_connector/team-a-hr"
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
curl -s -o "$TEST_TMP/slow" "$FAKE_URL/_connector/team-a-hr" &
slow=$!
for i in $(seq 1 100); do  # wait until the delayed request has arrived (its fault is counted)
        [ "$(fake_control GET /_fake/faults | jq -r '.faults[0].applied')" = 1 ] && break
        sleep 0.05
done
fake_curl GET /_connector/team-a-wiki
is "$HTTP_STATUS" 200 "delay: another connection is served meanwhile"
wait "$slow"
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
run_probability() {
        start_fake --fault-seed 1234
        rules '{"faults":[{"path":"/","probability":0.5,"status":503}]}' >/dev/null
        out=""
        for i in $(seq 1 30); do
                fake_curl GET /
                out="$out$HTTP_STATUS "
        done
        stop_fake
        printf '%s' "$out"
}
first=$(run_probability)
second=$(run_probability)
is "$first" "$second" "probability: the same seed gives the same faults"
case "$first" in *503*200* | *200*503*) ok 0 "probability: some requests are faulted, some not" ;;
*) ok 1 "probability: some requests are faulted, some not ($first)" ;; esac

# A bad faults file stops the start, naming the file and the key.
printf '{"faults":[{"path":"/","status":503,"colour":1}]}' >"$TEST_TMP/bad-faults.json"
"$FAKE_CLUSTER" --faults "$TEST_TMP/bad-faults.json" 2>"$TEST_TMP/err"
is "$?" 1 "a bad faults file fails the start"
is "$(cat "$TEST_TMP/err")" "fake-cluster: $TEST_TMP/bad-faults.json: faults[0]: unknown key \"colour\"" \
        "naming the file, the rule and the key"

tap_done
