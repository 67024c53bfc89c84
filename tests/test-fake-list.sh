#!/bin/bash
# GET _connector: paging over 1,234 connectors, the sort by index_name (ties in write order,
# missing last), count as the total of matches (capped where Elasticsearch counts no further),
# the result window, negative from/size, bad ints, the filters; the sync job list; filter_path
# (response filtering) on lists, single documents, writes and errors.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

# 1,234 connectors: index names repeat (ties), some are missing, and the ids are not in index order.
awk 'BEGIN {
        printf "{\"connectors\":[";
        for (i = 0; i < 1234; i++) {
                id = sprintf("c-%04d", (i * 7919) % 1234);
                if (i % 97 == 0)
                        idx = "null";
                else
                        idx = sprintf("\"idx-%03d\"", (i * 31) % 500);
                printf "%s{\"id\":\"%s\",\"index_name\":%s,\"name\":\"n-%d\",\"service_type\":\"%s\",\"description\":\"d%d\"}",
                        (i ? "," : ""), id, idx, i % 10, (i % 3 ? "google_drive" : "sharepoint_online"), i;
        }
        printf "]}\n";
}' >"$TEST_TMP/seed.json"
# The order Elasticsearch lists them in: by index_name, ties by write (seed) order, missing last.
jq -r '.connectors | to_entries
        | sort_by([(.value.index_name == null), (.value.index_name // ""), .key]) | .[].value.id' \
        "$TEST_TMP/seed.json" >"$TEST_TMP/expected"

start_fake --seed "$TEST_TMP/seed.json"
ok $? "the fake cluster starts with 1,234 connectors"

: >"$TEST_TMP/got"
counts=""
for from in $(seq 0 100 1200); do
        fake_curl GET "/_connector?from=$from&size=100"
        [ "$HTTP_STATUS" = 200 ] || diag "from=$from: $HTTP_STATUS $(cat "$HTTP_BODY")"
        jq -r '.results[].id' "$HTTP_BODY" >>"$TEST_TMP/got"
        counts="$counts $(jq -r .count "$HTTP_BODY")"
done
is "$(wc -l <"$TEST_TMP/got" | tr -d ' ')" 1234 "paging returns 1,234 connectors"
is "$(sort "$TEST_TMP/got" | uniq -d | wc -l | tr -d ' ')" 0 "each exactly once"
cmp -s "$TEST_TMP/got" "$TEST_TMP/expected"
ok $? "in index_name order, ties in write order, missing index_name last"
is "$(printf '%s\n' $counts | sort -u | tr '\n' ' ')" "1234 " "count is the total on every page"

# The same pages as the reconciler asks for them: filter_path keeps five fields of each result.
filter=count,results.id,results.name,results.service_type,results.index_name,results.deleted
: >"$TEST_TMP/got-filtered"
keys=""
nulls=0
for from in $(seq 0 100 1200); do
        fake_curl GET "/_connector?from=$from&size=100&filter_path=$filter"
        jq -r '.results[].id' "$HTTP_BODY" >>"$TEST_TMP/got-filtered"
        keys="$keys $(jq -r '[.results[] | keys_unsorted | join(",")] | unique | join(" ")' "$HTTP_BODY")"
        nulls=$((nulls + $(jq '[.results[] | select(.index_name == null)] | length' "$HTTP_BODY")))
done
cmp -s "$TEST_TMP/got-filtered" "$TEST_TMP/expected"
ok $? "filter_path: the same connectors in the same order"
# The seed gives no "deleted": seeding on 9.x stores each connector with "deleted": false.
is "$(printf '%s\n' $keys | sort -u | tr '\n' ' ')" "id,index_name,name,service_type,deleted " \
        "filter_path: each result keeps only the fields asked for"
is "$nulls" "$(jq '[.connectors[] | select(.index_name == null)] | length' "$TEST_TMP/seed.json")" \
        "filter_path: a null index_name is kept as null"

fake_curl GET /_connector
is "$(jq '.results | length' "$HTTP_BODY")" 100 "the default page size is 100"
fake_curl GET "/_connector?from=5000&size=10"
is "$(jq -c '[.count, (.results | length)]' "$HTTP_BODY")" "[1234,0]" "a page past the end is empty"
fake_curl GET "/_connector?size=0"
is "$(jq -c '[.count, (.results | length)]' "$HTTP_BODY")" "[1234,0]" "size=0 gives only the count"

# The result window.
fake_curl GET "/_connector?from=9990&size=10"
is "$HTTP_STATUS" 200 "from + size = 10000 is allowed"
fake_curl GET "/_connector?from=9990&size=11"
is "$HTTP_STATUS" 400 "from + size = 10001 is refused"
reason="Result window is too large, from + size must be less than or equal to: [10000] but was [10001]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."
is "$(jq -r '.error.root_cause[0].reason' "$HTTP_BODY")" "$reason" "with the search's reason"
is "$(jq -r '[.error.type, .error.reason, .error.phase, .error.grouped, .error.failed_shards[0].reason.type, .error.caused_by.type, .status] | join(" ")' "$HTTP_BODY")" \
        "search_phase_execution_exception all shards failed query true illegal_argument_exception illegal_argument_exception 400" \
        "as a failed search: all shards failed"
fake_curl GET "/_connector?from=10001&size=0"
is "$HTTP_STATUS" 400 "from alone can pass the window"

# Negative and malformed numbers.
fake_curl GET "/_connector?from=-1"
is "$(jq -r '[.status, .error.type, .error.reason] | join(" ")' "$HTTP_BODY")" \
        "400 illegal_argument_exception Parameter [from] cannot be < 0" "a negative from"
fake_curl GET "/_connector?size=-5"
is "$(jq -r .error.reason "$HTTP_BODY")" "Parameter [size] cannot be < 0" "a negative size"
fake_curl GET "/_connector?from=1.5"
is "$(jq -r .error.reason "$HTTP_BODY")" "Failed to parse int parameter [from] with value [1.5]" "a fraction is no int"
fake_curl GET "/_connector?size=2147483648"
is "$(jq -r .error.caused_by.reason "$HTTP_BODY")" 'For input string: "2147483648"' "an int overflow"
fake_curl GET "/_connector?size=+3"
is "$HTTP_STATUS" 400 "'+3' in a query string is ' 3', not an int"
fake_curl GET "/_connector?size=%2B3"
is "$(jq '.results | length' "$HTTP_BODY")" 3 "an encoded '+3' is Java's int 3"

# Filters.
fake_curl GET "/_connector?index_name=idx-007,idx-008&size=1000"
is "$(jq -r '[.results[].index_name] | unique | join(",")' "$HTTP_BODY")" "idx-007,idx-008" "index_name takes a list"
is "$(jq -r .count "$HTTP_BODY")" \
        "$(jq '[.connectors[] | select(.index_name == "idx-007" or .index_name == "idx-008")] | length' "$TEST_TMP/seed.json")" \
        "count is the number of matches"
fake_curl GET "/_connector?service_type=sharepoint_online&connector_name=n-3&size=1000"
is "$(jq -r .count "$HTTP_BODY")" \
        "$(jq '[.connectors[] | select(.service_type == "sharepoint_online" and .name == "n-3")] | length' "$TEST_TMP/seed.json")" \
        "service_type and connector_name filters combine"
fake_curl GET "/_connector?query=d123&size=1000"
is "$(jq -r '[.results[].description] | sort | join(",")' "$HTTP_BODY")" "d123,d1230,d1231,d1232,d1233" \
        "query matches inside name, index name or description"
fake_curl GET "/_connector?query=idx-00*&size=1000"
is "$(jq -r '[.results[].index_name] | all(startswith("idx-00"))' "$HTTP_BODY")" true "query is a wildcard query"

stop_fake

# A smaller result window, and count capped where Elasticsearch stops counting.
awk 'BEGIN { printf "{\"connectors\":["; for (i = 0; i < 10050; i++) printf "%s{\"id\":\"k%05d\",\"index_name\":\"i%05d\"}", (i ? "," : ""), i, i; printf "]}\n" }' \
        >"$TEST_TMP/big.json"
start_fake --seed "$TEST_TMP/big.json" --max-result-window 500
fake_curl GET "/_connector?from=499&size=1"
is "$(jq -r '.results[0].id' "$HTTP_BODY")" k00499 "--max-result-window allows up to the window"
fake_curl GET "/_connector?from=500&size=1"
is "$(jq -r '.error.root_cause[0].reason' "$HTTP_BODY" | cut -c1-90)" \
        "Result window is too large, from + size must be less than or equal to: [500] but was [501]" \
        "--max-result-window sets the window"
fake_curl GET "/_connector?size=1"
is "$(jq -r .count "$HTTP_BODY")" 10000 "count stops at 10,000, as track_total_hits does"

# The sync job list: newest first, filters, paging.
stop_fake
start_fake --seed "$top_srcdir/tests/data/fake/connectors.json"

# filter_path, as Elasticsearch's REST layer filters responses.
fake_curl GET "/_connector?from=0&size=100&filter_path=$filter"
is "$(jq -c 'keys_unsorted' "$HTTP_BODY")" '["count","results"]' "filter_path: the list keeps count and results"
is "$(jq -c '[.results[] | keys]' "$HTTP_BODY")" \
        '[["deleted","id","index_name","name","service_type"],["deleted","id","index_name","name","service_type"],["deleted","id","index_name","name","service_type"],["deleted","id","name","service_type"]]' \
        "filter_path: each result keeps the five fields it has"
is "$(jq '[.. | objects | has("configuration")] | any' "$HTTP_BODY")" false "filter_path: no configuration is sent"
is "$(jq -c '.results[0]' "$HTTP_BODY")" \
        '{"id":"team-a-hr","index_name":"search-a-hr","name":"HR drive","service_type":"google_drive","deleted":false}' \
        "filter_path: in the document's order"
fake_curl GET "/_connector?from=100&size=100&filter_path=$filter"
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"count":4}' "filter_path: an empty page is only its count"
fake_curl GET "/_connector/team-a-hr?filter_path=id"
is "$(cat "$HTTP_BODY")" '{"id":"team-a-hr"}' "filter_path on GET _connector/ID"
fake_curl GET "/_connector/team-a-hr?filter_path=id,scheduling.*.enabled&pretty"
is "$(cat "$HTTP_BODY")" "$(printf '{\n  "id" : "team-a-hr",\n  "scheduling" : {\n    "full" : {\n      "enabled" : true\n    }\n  }\n}')" \
        "filter_path with pretty: filtered, then indented"
fake_curl GET "/_connector/team-a-hr?filter_path=nothing.here"
is "$(cat "$HTTP_BODY")" '{}' "filter_path that keeps nothing: {}"
fake_curl GET "/_connector/team-a-hr?filter_path=-configuration,-custom_scheduling,-filtering,-scheduling,-api_key_id,-description,-language,-status,-sync_now,-is_native"
is "$(jq -c . "$HTTP_BODY")" '{"id":"team-a-hr","index_name":"search-a-hr","name":"HR drive","service_type":"google_drive","deleted":false}' \
        "filter_path: '-' excludes"
fake_curl GET "/_connector/team-a-hr?filter_path=*,-*_id"
is "$(jq -r 'has("api_key_id"), has("id")' "$HTTP_BODY" | tr '\n' ' ')" "false true " \
        "filter_path: included and then not excluded"
fake_curl GET "/_connector/team-a-hr"
cp "$HTTP_BODY" "$TEST_TMP/whole"
fake_curl GET "/_connector/team-a-hr?filter_path="
cmp -s "$HTTP_BODY" "$TEST_TMP/whole"
ok $? "an empty filter_path filters nothing"
fake_curl GET "/?filter_path=version.number,tagline"
is "$(cat "$HTTP_BODY")" '{"version":{"number":"9.1.3"},"tagline":"You Know, for Search"}' "filter_path on GET /"

# Errors are never filtered: Elasticsearch builds their bodies with filtering off.
fake_curl GET "/_connector?size=-1&filter_path=count"
is "$(jq -r '[.status, .error.type, .error.reason] | join(" ")' "$HTTP_BODY")" \
        "400 illegal_argument_exception Parameter [size] cannot be < 0" "filter_path: a 400's error body is whole"
fake_curl GET "/_connector/nope?filter_path=id"
is "$(jq -r '[.status, .error.type, .error.root_cause[0].reason] | join(" ")' "$HTTP_BODY")" \
        "404 resource_not_found_exception connector [nope] not found" "filter_path: a 404's error body is whole"
fake_curl POST "/_connector/team-a-hr?filter_path=status"
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":"Incorrect HTTP method for uri [/_connector/team-a-hr?filter_path=status] and method [POST], allowed: [GET, PUT, DELETE]","status":405}' \
        "filter_path: a 405's body is whole"

# Writes answer through the same builder: filtered.
fake_curl PUT "/_connector/new-one?filter_path=result" -H 'Content-Type: application/json' --data-binary '{"index_name":"search-new"}'
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '201 {"result":"created"}' "filter_path on PUT"
fake_curl DELETE "/_connector/new-one?filter_path=-acknowledged"
is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {}' "filter_path on DELETE"
is "$(fake_requests 'select(.method == "DELETE") | .query.filter_path')" '"-acknowledged"' "the log records filter_path"
fake_curl GET /_connector/_sync_job
is "$(jq -r '[.count, (.results | map(.id) | join(","))] | join(" ")' "$HTTP_BODY")" "3 job-3,job-2,job-1" \
        "sync jobs are listed newest first"
fake_curl GET "/_connector/_sync_job?connector_id=orphan-1&job_type=full,incremental"
is "$(jq -r '[.results[].id] | join(",")' "$HTTP_BODY")" "job-2,job-1" "by connector and job type"
fake_curl GET "/_connector/_sync_job?status=error"
is "$(jq -r '[.results[].id] | join(",")' "$HTTP_BODY")" "job-2" "by status"
fake_curl GET "/_connector/_sync_job?status=bogus"
is "$HTTP_STATUS" 400 "an unknown status is refused"
fake_curl GET "/_connector/_sync_job?from=1&size=1"
is "$(jq -r '[.count, .results[0].id] | join(" ")' "$HTTP_BODY")" "3 job-2" "sync jobs page"
fake_curl DELETE /_connector/_sync_job/job-3
is "$(jq -c . "$HTTP_BODY")" '{"acknowledged":true}' "a sync job is deleted"
fake_curl GET /_connector/_sync_job/job-3
is "$(jq -r '[.status, .error.reason] | join(" ")' "$HTTP_BODY")" "404 job-3" "and then not found"

tap_done
