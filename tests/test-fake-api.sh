#!/bin/bash
# The fake cluster's HTTP surface: cluster info, headers, keep-alive, ids that need escaping,
# routing errors (404, 405 with Allow, 400 no handler), parameter and body errors with
# Elasticsearch's wording, ?pretty, the request log's shape, the control endpoints, SIGTERM.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --version 9.1.3
ok $? "the fake cluster starts on a free port"

# Cluster info.
fake_curl GET /
is "$HTTP_STATUS" 200 "GET / answers 200"
is "$(jq -r .version.number "$HTTP_BODY")" 9.1.3 "GET / names the version asked for"
is "$(jq -r .tagline "$HTTP_BODY")" "You Know, for Search" "GET / has the tagline"
is "$(jq -r '.version | keys | join(",")' "$HTTP_BODY")" \
        "build_date,build_flavor,build_hash,build_snapshot,build_type,lucene_version,minimum_index_compatibility_version,minimum_wire_compatibility_version,number" \
        "GET / has every version field"
is "$(http_header X-elastic-product)" Elasticsearch "the product header is sent"
is "$(http_header content-type)" application/json "JSON is application/json"

# Every response carries the product header and a JSON content type, errors too.
for req in "GET /_connector" "GET /_connector/nope" "POST /_connector/x" "GET /_connector/a/b" \
        "GET /_connector?bogus=1" "DELETE /_connector/_sync_job/nope"; do
        fake_curl ${req% *} "${req#* }"
        is "$(http_header X-elastic-product)" Elasticsearch "product header on $req ($HTTP_STATUS)"
        is "$(http_header content-type)" application/json "content type on $req"
done

# Keep-alive: two requests over one connection.
out=$(curl -sv --max-time "$CURL_MAX_TIME" "$FAKE_URL/" "$FAKE_URL/_connector" 2>&1 >/dev/null)
printf '%s\n' "$out" | grep -q "Re-using existing connection"; ok $? "HTTP/1.1 keep-alive"

# The vendor media type the official clients ask for comes back as asked.
fake_curl GET / -H 'Accept: application/vnd.elasticsearch+json; compatible-with=8'
is "$(http_header content-type)" "application/vnd.elasticsearch+json;compatible-with=8" \
        "a compatible-with Accept gets the vendor type back"
fake_curl GET / -H 'Accept: application/vnd.elasticsearch+json; compatible-with=7'
is "$HTTP_STATUS" 400 "a compatible version the cluster does not serve is refused"
is "$(jq -r '[.error.type, .error.reason] | join(": ")' "$HTTP_BODY")" \
        "media_type_header_exception: Invalid media-type value on headers [Accept, Content-Type]" \
        "as a media_type_header_exception"
is "$(jq -r .error.caused_by.reason "$HTTP_BODY")" \
        "Accept version must be either version 9 or 8, but found 7. Accept=application/vnd.elasticsearch+json; compatible-with=7" \
        "caused by Elasticsearch's version check"
is "$(jq -c '.error.root_cause[0] | keys' "$HTTP_BODY")" '["reason","type"]' "root causes carry no cause"

# 404, 405, 400 bodies.
fake_curl GET /_connector/nope
is "$HTTP_STATUS" 404 "a missing connector is 404"
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":{"root_cause":[{"type":"resource_not_found_exception","reason":"connector [nope] not found"}],"type":"resource_not_found_exception","reason":"connector [nope] not found"},"status":404}' \
        "the 404 body is Elasticsearch's"
fake_curl POST /_connector/x
is "$HTTP_STATUS" 405 "POST on a connector is 405"
is "$(http_header Allow)" "GET,PUT,DELETE" "Allow lists GET, PUT, DELETE"
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":"Incorrect HTTP method for uri [/_connector/x] and method [POST], allowed: [GET, PUT, DELETE]","status":405}' \
        "the 405 body is Elasticsearch's"
fake_curl PATCH "/_connector?size=1"
is "$(jq -r .error "$HTTP_BODY")" "Incorrect HTTP method for uri [/_connector?size=1] and method [PATCH], allowed: [GET, POST, PUT]" \
        "the 405 names the uri with its query"
fake_curl GET /_connector/a/b
is "$HTTP_STATUS" 400 "a path with one segment too many is 400"
is "$(jq -c . "$HTTP_BODY")" '{"error":"no handler found for uri [/_connector/a/b] and method [GET]","status":400}' \
        "with Elasticsearch's no-handler body"
fake_curl OPTIONS /_connector
is "$HTTP_STATUS" 200 "OPTIONS answers 200"
is "$(http_header Allow)" "GET,POST,PUT" "with Allow"

# Parameters.
fake_curl GET "/_connector?sise=10"
is "$HTTP_STATUS" 400 "an unknown parameter is 400"
is "$(jq -r .error.reason "$HTTP_BODY")" "request [/_connector] contains unrecognized parameter: [sise] -> did you mean [size]?" \
        "named, with a suggestion"
fake_curl GET "/_connector?zzz=1&yyy=2"
is "$(jq -r .error.reason "$HTTP_BODY")" "request [/_connector] contains unrecognized parameters: [yyy], [zzz]" \
        "several unknown parameters are listed, sorted"
fake_curl GET "/_connector?size=ten"
is "$(jq -c .error "$HTTP_BODY")" \
        '{"root_cause":[{"type":"illegal_argument_exception","reason":"Failed to parse int parameter [size] with value [ten]"}],"type":"illegal_argument_exception","reason":"Failed to parse int parameter [size] with value [ten]","caused_by":{"type":"number_format_exception","reason":"For input string: \"ten\""}}' \
        "a bad int is worded as Elasticsearch words it"
fake_curl GET "/_connector/team-a-hr?include_deleted=maybe"
is "$(jq -r .error.reason "$HTTP_BODY")" "Failed to parse value [maybe] as only [true] or [false] are allowed." \
        "a bad boolean is worded as Elasticsearch words it"
fake_curl GET "/_connector?error_trace=false&filter_path=count&human=true&format=json"
is "$HTTP_STATUS" 200 "error_trace, filter_path, human and format are accepted everywhere"
fake_curl GET "/_connector/team-a-hr?pretty"
is "$(head -n 1 "$HTTP_BODY")" "{" "?pretty pretty-prints"
grep -q '^  "id" : "team-a-hr",$' "$HTTP_BODY"; ok $? "in Elasticsearch's layout"

# Bodies.
fake_curl GET /_connector -H 'Content-Type: application/json' --data-binary '{}'
is "$(jq -r .error.reason "$HTTP_BODY")" "request [GET /_connector] does not support having a body" \
        "a body where none is read is refused"
fake_curl PUT /_connector/x --data-binary '{"name":"x"}'
is "$HTTP_STATUS" 406 "a form-encoded body is refused"
is "$(jq -r .error "$HTTP_BODY")" "Content-Type header [application/x-www-form-urlencoded] is not supported" \
        "with Elasticsearch's message"
fake_curl PUT /_connector/x -H 'Content-Type: application/json' --data-binary '{"name": '
is "$HTTP_STATUS" 400 "a malformed JSON body is 400"
is "$(jq -r .error.type "$HTTP_BODY")" x_content_parse_exception "as an x_content_parse_exception"
fake_curl PUT /_connector/x -H 'Content-Type: application/json' --data-binary '{"name":"X","colour":"red"}'
is "$(jq -r .error.reason "$HTTP_BODY")" "[1:13] [connector_put_request] unknown field [colour]" \
        "an unknown body field is named with its position"

# Ids that need escaping make the round trip PUT, GET, list, DELETE.
n=0
for id in "with space" "a/b" "100%" "what?" "hash#tag" "plus+sign" "ünïcödé-名前" "emoji-🙂" "..." "_under"; do
        n=$((n + 1))
        enc=$(jq -rn --arg s "$id" '$s | @uri')
        fake_curl PUT "/_connector/$enc" -H 'Content-Type: application/json' \
                --data-binary "{\"index_name\":\"odd-$n\",\"name\":\"odd\"}"
        is "$HTTP_STATUS" 201 "PUT creates '$id'"
        is "$(jq -r .id "$HTTP_BODY")" "$id" "PUT answers with the decoded id '$id'"
        fake_curl GET "/_connector/$enc"
        is "$(jq -r .id "$HTTP_BODY")" "$id" "GET finds '$id'"
        fake_curl GET "/_connector?index_name=odd-$n"
        is "$(jq -r '.results[0].id' "$HTTP_BODY")" "$id" "the list shows '$id'"
        fake_curl DELETE "/_connector/$enc?hard=true"
        is "$HTTP_STATUS" 200 "DELETE removes '$id'"
        is "$(fake_requests "select(.method == \"DELETE\") | .connector_id" | tail -n 1)" "$(jq -cn --arg s "$id" '$s')" \
                "the log has the decoded id '$id'"
        is "$(fake_requests "select(.method == \"DELETE\") | .raw_path" | tail -n 1)" "\"/_connector/$enc\"" \
                "the log has the raw path of '$id'"
done
fake_curl GET "/_connector/plus+sign"
is "$HTTP_STATUS" 404 "a '+' in a path is a plus (the connector is gone)"
is "$(jq -r .error.reason "$HTTP_BODY")" "connector [plus+sign] not found" "a '+' in a path stays a plus"
fake_curl GET "/_connector?query=a+b&size=1"
is "$(fake_requests .query | tail -n 1)" '{"query":"a b","size":"1"}' "a '+' in a query string is a space"
fake_curl GET "/_connector/a%zz"
is "$HTTP_STATUS" 405 "a bad escape in the id fails routing as Elasticsearch's does"
is "$(jq -r .error "$HTTP_BODY")" "invalid escape sequence \`%zz' at index 1 of: a%zz, allowed: [GET, PUT, DELETE]" \
        "with Elasticsearch's message"

# The request log.
line=$(fake_requests 'select(.path == "/_connector/nope")' | head -n 1)
is "$(printf '%s' "$line" | jq -r 'keys | join(",")')" \
        "auth,body,connector_id,control,fault,method,path,query,raw_path,raw_query,seq,status,sync_job_id,time,user_agent" \
        "a log line has every field"
is "$(printf '%s' "$line" | jq -r '.user_agent | split("/")[0]')" curl "a log line records the User-Agent"
is "$(printf '%s' "$line" | jq -c '[.method, .status, .connector_id, .auth, .fault, .control]')" \
        '["GET",404,"nope",null,null,false]' "a log line records the request"
seqs=$(jq -r .seq "$FAKE_LOG" | tr '\n' ' ')
is "$seqs" "$(seq 1 "$(wc -l <"$FAKE_LOG")" | tr '\n' ' ')" "log lines are numbered in order"

# Control endpoints.
state=$(fake_control GET /_fake/state)
is "$(printf '%s' "$state" | jq -r '.connectors | length')" 4 "the state dump lists the connectors"
is "$(printf '%s' "$state" | jq -r '.sync_jobs | length')" 3 "and the sync jobs"
added=$(fake_control POST /_fake/connectors '{"connectors":[{"id":"late","index_name":"zz-late","name":"Late"}]}')
is "$added" '{"connectors":1,"sync_jobs":0}' "documents can be added at run time"
fake_curl GET /_connector/late
is "$HTTP_STATUS" 200 "an added connector is served"
bad=$(fake_control POST /_fake/connectors '{"connectors":[{"name":"no id"}]}')
is "$bad" '{"error":"request body: connectors[0]: \"id\" must be a non-empty string"}' \
        "a bad document is refused, naming the key"
is "$(jq -c 'select(.control) | .path' "$FAKE_LOG" | tail -n 1)" '"/_fake/connectors"' \
        "control requests are logged as control"

# HEAD, POST _connector, a sync job made through the API.
is "$(curl -s -I --max-time "$CURL_MAX_TIME" -o /dev/null -w '%{http_code}' "$FAKE_URL/")" 200 "HEAD / answers 200"
fake_curl POST /_connector -H 'Content-Type: application/json' --data-binary '{"name":"posted","index_name":"posted"}'
is "$HTTP_STATUS" 201 "POST _connector creates"
posted=$(jq -r .id "$HTTP_BODY")
fake_curl POST /_connector/_sync_job -H 'Content-Type: application/json' \
        --data-binary "{\"id\":\"$posted\",\"job_type\":\"full\"}"
is "$HTTP_STATUS" 200 "POST _connector/_sync_job creates a sync job"
fake_curl GET "/_connector/_sync_job?connector_id=$posted"
is "$(jq -r '[.count, .results[0].connector.id, .results[0].status] | join(" ")' "$HTTP_BODY")" "1 $posted pending" \
        "the new sync job is listed for its connector"
fake_curl POST /_connector/_sync_job -H 'Content-Type: application/json' --data-binary '{"id":"nope"}'
is "$(jq -r '[.status, .error.reason] | join(" ")' "$HTTP_BODY")" "404 Connector with id 'nope' does not exist." \
        "a sync job for a missing connector is a 404"

# SIGTERM ends it at once, exit status 0.
stop_fake
is "$?" 0 "SIGTERM stops the fake cluster with exit status 0"

# Start-up errors name the file and the key.
printf '{"connectors": [{"id": 5}]}' >"$TEST_TMP/bad-seed.json"
"$FAKE_CLUSTER" --seed "$TEST_TMP/bad-seed.json" 2>"$TEST_TMP/err"
is "$?" 1 "a bad seed fails the start"
is "$(cat "$TEST_TMP/err")" "fake-cluster: $TEST_TMP/bad-seed.json: connectors[0]: \"id\" must be a non-empty string" \
        "naming the file and the key"
"$FAKE_CLUSTER" --version 9.1 2>"$TEST_TMP/err"
is "$?" 1 "a bad version fails the start"

# PUT's body parser suggests the field meant, as every ConstructingObjectParser does.
start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --version 9.1.3
put_body() {  # put_body ID BODY
        fake_curl PUT "/_connector/$1" -H 'Content-Type: application/json' --data-binary "$2"
}
put_body x '{"index_nam":"search-x"}'
is "$(jq -r '"\(.status) \(.error.type): \(.error.reason)"' "$HTTP_BODY")" \
        "400 x_content_parse_exception: [1:2] [connector_put_request] unknown field [index_nam] did you mean [index_name]?" \
        "PUT: an unknown field with the one suggestion"
put_body x '{"nme":"x"}'
is "$(jq -r .error.reason "$HTTP_BODY")" "[1:2] [connector_put_request] unknown field [nme] did you mean [name]?" \
        "PUT: another"
fake_curl POST /_connector/_sync_job -H 'Content-Type: application/json' --data-binary '{"id":"team-a-hr","job_typ":"full"}'
is "$(jq -r .error.reason "$HTTP_BODY")" \
        "[1:19] [connector_sync_job_post_request] unknown field [job_typ] did you mean [job_type]?" \
        "a sync job POST suggests too"

# 9.x: an Elastic-managed (native) connector's index must start with "content-"; the request's
# validation refuses it before anything is written.
put_body native-1 '{"index_name":"search-native","is_native":true}'
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":{"root_cause":[{"type":"action_request_validation_exception","reason":"Validation Failed: 1: Index [search-native] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [content-];"}],"type":"action_request_validation_exception","reason":"Validation Failed: 1: Index [search-native] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [content-];"},"status":400}' \
        "9.x PUT: a native connector on a search- index is refused"
fake_curl GET /_connector/native-1
is "$HTTP_STATUS" 404 "and not created"
fake_curl POST /_connector -H 'Content-Type: application/json' --data-binary '{"index_name":"search-native","is_native":"true"}'
is "$(jq -r .error.reason "$HTTP_BODY")" \
        "Validation Failed: 1: Index [search-native] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [content-];" \
        "9.x POST: likely (and \"true\" as a string is true)"
put_body native-1 '{"index_name":"_Bad","is_native":true}'
is "$(jq -r .error.reason "$HTTP_BODY")" \
        "Validation Failed: 1: [_Bad] InvalidIndexNameException[Invalid index name [_Bad], must not start with '_', '-', or '+'];2: Index [_Bad] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [content-];" \
        "9.x PUT: an invalid index name first, then the prefix"
put_body native-1 '{"index_name":"content-native","is_native":true}'
is "$HTTP_STATUS $(jq -r .result "$HTTP_BODY")" "201 created" "9.x PUT: a native connector on a content- index"
put_body native-2 '{"index_name":"search-native","is_native":false}'
is "$HTTP_STATUS" 201 "9.x PUT: a connector that is not native needs no prefix"
put_body native-3 '{"is_native":true}'
is "$HTTP_STATUS" 201 "9.x PUT: nor one without an index"
stop_fake

# 8.x: no prefix rule; 8.12 names a missing connector by its bare id.
start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --version 8.19.0
put_body native-1 '{"index_name":"search-native","is_native":true}'
is "$HTTP_STATUS" 201 "8.19 PUT: a native connector on any index"
fake_curl GET /_connector/nope
is "$(jq -r .error.reason "$HTTP_BODY")" "connector [nope] not found" "8.19: GET of a missing connector"
stop_fake
start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --version 8.12.2
fake_curl GET /_connector/nope
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":{"root_cause":[{"type":"resource_not_found_exception","reason":"nope"}],"type":"resource_not_found_exception","reason":"nope"},"status":404}' \
        "8.12: GET of a missing connector names the bare id"
fake_curl DELETE /_connector/nope
is "$HTTP_STATUS $(jq -r .error.reason "$HTTP_BODY")" "404 nope" "8.12: so does DELETE"
put_body x '{"name":"x","servic_type":"y"}'
is "$(jq -r .error.reason "$HTTP_BODY")" \
        "[1:13] [connector_put_request] unknown field [servic_type] did you mean [service_type]?" \
        "8.12 PUT: the suggestion too"
stop_fake

# --parent-pid: it does not outlive its parent (waited for at most 10 s).
sleep 60 &
sleeper=$!
"$FAKE_CLUSTER" --port 0 --parent-pid "$sleeper" 2>/dev/null &
orphan=$!
TEST_PIDS="$TEST_PIDS $sleeper $orphan"
# SIGKILL: a SIGTERM that lands between the fork and the exec of sleep meets lib.sh's trap and
# is lost, and sleep would run its whole minute.
kill -KILL "$sleeper"
wait_exit "$sleeper" 10 "sleep 60, on SIGKILL"
wait_for 10 gone "$orphan"
ok $? "--parent-pid: it exits once the parent is gone"
wait_exit "$orphan" 1 "fake-cluster whose --parent-pid is gone"
is "$?" 0 "--parent-pid: with exit status 0"

tap_done
