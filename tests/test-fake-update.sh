#!/bin/bash
# The fake cluster's connector update endpoints (PUT _connector/ID/_name, /_configuration, ...):
# which version has which endpoint, the bodies each version's parser takes and its errors word
# for word, the request validation, the 404s, the stored document afterwards ("noop" when nothing
# changes) and the side effects on status. See tests/fake/README.md, "Update endpoints".
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

seed="$top_srcdir/tests/data/fake/connectors.json"

put() {  # put PATH [BODY]: a PUT, with a JSON body when one is given
        if [ $# -ge 2 ]; then
                fake_curl PUT "$1" -H 'Content-Type: application/json' --data-binary "$2"
        else
                fake_curl PUT "$1"
        fi
}
answer() {  # the status and the compact body of the last answer
        printf '%s %s' "$HTTP_STATUS" "$(jq -c . "$HTTP_BODY")"
}
error_of() {  # the status, type and reason of the last error
        jq -r '"\(.status) \(.error.type): \(.error.reason)"' "$HTTP_BODY"
}
causes() {  # the exception and its causes, outermost first
        jq -r '[.error | recurse(.caused_by; . != null) | "\(.type): \(.reason)"] | join(" <- ")' "$HTTP_BODY"
}
field() {  # field ID JQ [QUERY]: jq over GET /_connector/ID
        fake_curl GET "/_connector/$1${3:-}"
        jq -c "$2" "$HTTP_BODY"
}
create() {  # create ID INDEX [IS_NATIVE]: a connector as PUT creates it (status created)
        put "/_connector/$1" "{\"index_name\":\"$2\",\"name\":\"$1\",\"is_native\":${3:-false}}"
}
updated() {  # updated DESCRIPTION: the last answer is {"result":"updated"}
        is "$(answer)" '200 {"result":"updated"}' "$1"
}

# ---- Which version has which endpoint ----
# Each endpoint answers "no handler" in the version before its first and works in its first: a
# body that succeeds there, sent to a connector created for it.
endpoints=(
        "_name|8.12|{\"name\":\"n\"}"
        "_configuration|8.12|{\"configuration\":{\"k\":{\"label\":\"K\",\"value\":\"v\"}}}"
        "_scheduling|8.12|{\"scheduling\":{\"access_control\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"},\"full\":{\"enabled\":true,\"interval\":\"0 0 1 * * ?\"},\"incremental\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"}}}"
        "_pipeline|8.12|{\"pipeline\":{\"extract_binary_content\":true,\"name\":\"p\",\"reduce_whitespace\":true,\"run_ml_inference\":false}}"
        "_filtering|8.12|{\"filtering\":[{\"active\":{\"advanced_snippet\":{\"value\":{}},\"rules\":[],\"validation\":{\"errors\":[],\"state\":\"valid\"}},\"draft\":{\"advanced_snippet\":{\"value\":{}},\"rules\":[],\"validation\":{\"errors\":[],\"state\":\"valid\"}}}]}"
        "_error|8.12|{\"error\":\"e\"}"
        "_check_in|8.12|"
        "_last_sync|8.12|{\"last_sync_error\":\"x\"}"
        "_index_name|8.13|{\"index_name\":\"moved\"}"
        "_service_type|8.13|{\"service_type\":\"s\"}"
        "_native|8.13|{\"is_native\":false}"
        "_api_key_id|8.13|{\"api_key_id\":\"k\"}"
        "_status|8.13|{\"status\":\"needs_configuration\"}"
        "_filtering/_activate|8.14|"
        "_filtering/_validation|8.14|{\"validation\":{\"errors\":[],\"state\":\"valid\"}}"
        "_features|8.15|{\"features\":{\"incremental_sync\":{\"enabled\":true}}}"
)
declare -A before=([8.12]=8.11.4 [8.13]=8.12.2 [8.14]=8.13.4 [8.15]=8.14.3)
for version in 8.11.4 8.12.2 8.13.4 8.14.3 8.15.0; do
        start_fake --version "$version"
        n=0
        for e in "${endpoints[@]}"; do
                IFS='|' read -r path since body <<<"$e"
                n=$((n + 1))
                create "g$n" "g$n-index"
                if [ "${before[$since]}" = "$version" ]; then
                        put "/_connector/g$n/$path" ${body:+"$body"}
                        is "$(answer)" "400 {\"error\":\"no handler found for uri [/_connector/g$n/$path] and method [PUT]\",\"status\":400}" \
                                "$version: PUT $path does not exist yet (it came with $since)"
                elif [ "$version" = "$since.0" ] || [ "$version" = "${since}.2" ] || [ "$version" = "${since}.4" ] ||
                        [ "$version" = "${since}.3" ]; then
                        put "/_connector/g$n/$path" ${body:+"$body"}
                        is "$HTTP_STATUS" 200 "$version: PUT $path exists from $since on ($(jq -c . "$HTTP_BODY"))"
                fi
        done
        stop_fake
done

# ---- 9.1.3 ----
start_fake --seed "$seed" --version 9.1.3

# _name
put /_connector/team-a-hr/_name '{"name":"HR drive 2"}'
updated "9.1.3: _name updates"
is "$(field team-a-hr '[.name, .description]')" '["HR drive 2","HR documents"]' "the name changed, the description did not"
put /_connector/team-a-hr/_name '{"name":"HR drive 2"}'
is "$(answer)" '200 {"result":"noop"}' "the same name again is a noop"
put /_connector/team-a-hr/_name '{"description":"new text"}'
updated "the description alone"
is "$(field team-a-hr '[.name, .description]')" '["HR drive 2","new text"]' "only the description changed"
put /_connector/team-a-hr/_name '{"name":null,"description":null}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [name] and [description] cannot both be [null]. Please provide a value for at least one of them.;" \
        "neither is a validation error"
put /_connector/team-a-hr/_name '{"nam":"x"}'
is "$(answer)" '400 {"error":{"root_cause":[{"type":"x_content_parse_exception","reason":"[1:2] [connector_update_name_request] unknown field [nam] did you mean [name]?"}],"type":"x_content_parse_exception","reason":"[1:2] [connector_update_name_request] unknown field [nam] did you mean [name]?"},"status":400}' \
        "an unknown field is named with its position and a suggestion"
put /_connector/team-a-hr/_name $'{\n  "name": {"a": 1}\n}'
is "$(error_of)" "400 x_content_parse_exception: [2:11] [connector_update_name_request] name doesn't support values of type: START_OBJECT" \
        "a wrong type, on the second line"
put /_connector/team-a-hr/_name '{"name":"a","name":"b"}'
is "$(error_of)" "400 x_content_parse_exception: [1:13] Duplicate field 'name'" "a repeated field"
put /_connector/team-a-hr/_name '{"name":'
is "$(jq -r .error.type "$HTTP_BODY")" x_content_parse_exception "malformed JSON"
put /_connector/team-a-hr/_name '["name"]'
is "$(error_of)" "400 x_content_parse_exception: [1:1] [connector_update_name_request] Expected START_OBJECT but was: START_ARRAY" \
        "a body that is not an object"
put /_connector/team-a-hr/_name
is "$(error_of)" "400 parse_exception: request body is required" "the body is required"
put "/_connector/team-a-hr/_name?refresh=true" '{"name":"x"}'
is "$(error_of)" "400 illegal_argument_exception: request [/_connector/team-a-hr/_name] contains unrecognized parameter: [refresh]" \
        "no parameters but the common ones"
put "/_connector/team-a-hr/_name?filter_path=result&pretty" '{"name":"HR drive 2"}'
is "$(tr -d '\n ' <"$HTTP_BODY")" '{"result":"noop"}' "filter_path and pretty apply"
fake_curl GET /_connector/team-a-hr/_name
is "$(answer)" '405 {"error":"Incorrect HTTP method for uri [/_connector/team-a-hr/_name] and method [GET], allowed: [PUT]","status":405}' \
        "GET is 405, PUT allowed"
is "$(http_header Allow)" PUT "Allow: PUT"
put /_connector/nope/_name '{"name":"x"}'
is "$(answer)" '404 {"error":{"root_cause":[{"type":"document_missing_exception","reason":"[nope]: document missing","index_uuid":"ZmFrZS1jb25uZWN0b3JzMQ","shard":"0","index":".elastic-connectors-v1"}],"type":"document_missing_exception","reason":"[nope]: document missing","index_uuid":"ZmFrZS1jb25uZWN0b3JzMQ","shard":"0","index":".elastic-connectors-v1"},"status":404}' \
        "a missing connector: the UpdateRequest finds no document"
put /_connector//_name '{"name":"x"}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [connector_id] cannot be [null] or [\"\"].;" \
        "an empty id"
put /_connector/a%2Fb '{"index_name":"odd","name":"odd"}'
put /_connector/a%2Fb/_name '{"name":"slash"}'
updated "an id with a slash"
is "$(fake_requests 'select(.path == "/_connector/a/b/_name") | .connector_id')" '"a/b"' "the log has its decoded id"

# A soft-deleted connector: updates that read the connector first do not find it, the others
# update it all the same (its document stays deleted).
create gone gone-index
fake_curl DELETE /_connector/gone
put /_connector/gone/_name '{"name":"ghost"}'
updated "9.1.3: _name updates a soft-deleted connector"
is "$(field gone '[.name, .deleted]' '?include_deleted=true')" '["ghost",true]' "which stays deleted"
put /_connector/gone/_service_type '{"service_type":"x"}'
is "$(error_of)" "404 resource_not_found_exception: connector [gone] not found" \
        "_service_type reads the connector first: soft-deleted is not found"

# _configuration
put /_connector/team-a-wiki/_configuration '{"configuration":{"host":{"label":"Host","value":"db","type":"str","display":"TEXTBOX","order":1,"extra":"ignored"},"port":{"label":"Port","value":5432}}}'
updated "9.1.3: _configuration with the full schema"
is "$(field team-a-wiki '.status')" '"configured"' "sets status configured"
is "$(field team-a-wiki '.configuration | keys_unsorted')" '["port","host"]' "stored in a HashMap's order"
is "$(field team-a-wiki '.configuration.host | [.label, .value, .type, .display, .order, .required, .sensitive, .default_value, has("extra")]')" \
        '["Host","db","str","textbox",1,false,false,null,false]' "each entry as Elasticsearch writes it (defaults filled, unknown members dropped)"
put /_connector/team-a-wiki/_configuration '{"configuration":{"host":{"label":"Host","value":"db"}}}'
updated "the full form replaces the whole configuration"
is "$(field team-a-wiki '.configuration | keys')" '["host"]' "port is gone"
put /_connector/team-a-wiki/_configuration '{"values":{"host":"db2"}}'
updated "values for registered keys"
is "$(field team-a-wiki '.configuration.host | [.label, .value]')" '["Host","db2"]' "only the value changed"
put /_connector/team-a-wiki/_configuration '{"values":{"host":"db2"}}'
is "$(answer)" '200 {"result":"noop"}' "the same value again is a noop"
put /_connector/team-a-wiki/_configuration '{"values":{"zeta":1,"host":"x","alpha":2}}'
is "$(error_of)" "400 status_exception: Unknown [configuration] fields in the request payload: [zeta, alpha]. Remove them from request or register their schema first." \
        "values for unregistered keys are refused, named in a HashSet's order (not sorted)"
is "$(field team-a-wiki '.configuration.host.value')" '"db2"' "and nothing changed"
put /_connector/team-a-wiki/_configuration '{"configuration":{"host":{"value":"x"}},"values":{"host":"y"}}'
is "$(jq -r .error.reason "$HTTP_BODY")" "[1:38] [connector_update_configuration_request] failed to parse field [configuration]" \
        "an entry without a label fails to parse"
is "$(causes)" "x_content_parse_exception: [1:38] [connector_update_configuration_request] failed to parse field [configuration] <- illegal_argument_exception: Required [label]" \
        "because the label is required"
put /_connector/team-a-wiki/_configuration '{"configuration":{"h":{"label":"H"}},"values":{"h":"y"}}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [configuration] and [values] cannot both be provided in the same request.;" \
        "both forms at once"
put /_connector/team-a-wiki/_configuration '{}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [configuration] and [values] cannot both be null.;" \
        "neither"
put /_connector/team-a-wiki/_configuration '{"configuration":{"h":{"label":"H","display":"big"}}}'
is "$(causes)" "x_content_parse_exception: [1:46] [connector_update_configuration_request] failed to parse field [configuration] <- x_content_parse_exception: [1:46] [connector_configuration] failed to parse field [display] <- illegal_argument_exception: Unknown ConfigurationDisplayType [big]." \
        "an unknown display type"
put /_connector/orphan-1/_configuration '{"values":{}}'
is "$(jq -r '"\(.status) \(.error.type)"' "$HTTP_BODY")" "500 null_pointer_exception" \
        "values for a connector without any configuration fail as Elasticsearch does"
put /_connector/nope/_configuration '{"values":{}}'
is "$(error_of)" "404 resource_not_found_exception: connector [nope] not found" "_configuration reads the connector first"

# _scheduling
put /_connector/team-a-wiki/_scheduling '{"scheduling":{"full":{"enabled":true,"interval":"0 0 12 ? * mon-fri"}}}'
updated "9.1.3: _scheduling with one schedule"
is "$(field team-a-wiki '.scheduling')" '{"full":{"enabled":true,"interval":"0 0 12 ? * MON-FRI"}}' \
        "stored upper-cased, as Cron keeps it"
put /_connector/team-a-wiki/_scheduling '{"scheduling":{"incremental":{"enabled":false,"interval":"0 0 0 * * ?"}}}'
updated "another schedule"
is "$(field team-a-wiki '.scheduling | keys_unsorted')" '["full","incremental"]' "merged into the others"
put /_connector/team-a-wiki/_scheduling '{"scheduling":{"access_control":{"enabled":true,"interval":"0 0 0 * * ?"}}}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [scheduling] object needs to define at least one schedule type: [full | incremental | access_control];" \
        "access_control alone is refused, as Elasticsearch's check tests incremental twice"
put /_connector/team-a-wiki/_scheduling '{"scheduling":{"full":{"enabled":true,"interval":"61 0 0 * * ?"}}}'
is "$(causes)" "x_content_parse_exception: [1:50] [connector_update_scheduling_request] failed to parse field [scheduling] <- x_content_parse_exception: [1:50] [connector_scheduling] failed to parse field [full] <- x_content_parse_exception: [1:50] [schedule_config] failed to parse field [interval] <- x_content_parse_exception: Failed to build [schedule_config] after last required field arrived <- illegal_argument_exception: invalid cron expression [61 0 0 * * ?]" \
        "a wrong cron expression"
put /_connector/team-a-wiki/_scheduling '{"scheduling":{"full":{"interval":"0 0 0 * * ?"}}}'
is "$(causes)" "x_content_parse_exception: [1:48] [connector_update_scheduling_request] failed to parse field [scheduling] <- x_content_parse_exception: [1:48] [connector_scheduling] failed to parse field [full] <- illegal_argument_exception: Required [enabled]" \
        "a schedule without enabled"
put /_connector/team-a-wiki/_scheduling '{"schedule":{}}'
is "$(error_of)" "400 x_content_parse_exception: [1:2] [connector_update_scheduling_request] unknown field [schedule] did you mean [scheduling]?" \
        "a misspelt field"
put /_connector/team-a-wiki/_scheduling '{}'
is "$(error_of)" "400 illegal_argument_exception: Required [scheduling]" "scheduling is required"

# _pipeline
put /_connector/team-a-wiki/_pipeline '{"pipeline":{"extract_binary_content":"true","name":"p1","reduce_whitespace":false,"run_ml_inference":false,"x":1}}'
updated "9.1.3: _pipeline"
is "$(field team-a-wiki '.pipeline')" '{"extract_binary_content":true,"name":"p1","reduce_whitespace":false,"run_ml_inference":false}' \
        "stored as written by the object (a \"true\" string read as true, unknown members dropped)"
put /_connector/team-a-wiki/_pipeline '{"pipeline":{"name":"p1"}}'
is "$(causes)" "x_content_parse_exception: [1:25] [connector_update_pipeline_request] failed to parse field [pipeline] <- illegal_argument_exception: Required [extract_binary_content, reduce_whitespace, run_ml_inference]" \
        "all four fields are required"
put /_connector/team-a-wiki/_pipeline '{"pipeline":{"extract_binary_content":"yes"}}'
is "$(causes)" "x_content_parse_exception: [1:39] [connector_update_pipeline_request] failed to parse field [pipeline] <- x_content_parse_exception: [1:39] [connector_ingest_pipeline] failed to parse field [extract_binary_content] <- illegal_argument_exception: Failed to parse value [yes] as only [true] or [false] are allowed." \
        "a boolean that is not one"
put /_connector/team-a-wiki/_pipeline '{"pipeline":null}'
is "$(error_of)" "400 x_content_parse_exception: [1:13] [connector_update_pipeline_request] pipeline doesn't support values of type: VALUE_NULL" \
        "null is no pipeline"

# _filtering
create filt content-filt
rules='[{"field":"b","id":"r2","order":7,"policy":"exclude","rule":"equals","value":"x"},{"field":"a","id":"r1","order":5,"policy":"EXCLUDE","rule":"contains","value":"y"},{"field":"_","id":"DEFAULT","order":0,"policy":"include","rule":"regex","value":".*","created_at":"2024-01-01T00:00:00Z"}]'
put /_connector/filt/_filtering "{\"rules\":$rules}"
updated "9.1.3: _filtering with draft rules"
is "$(field filt '.filtering[0].draft.rules | map([.id, .order, .policy])')" '[["r1",5,"exclude"],["r2",7,"exclude"],["DEFAULT",8,"include"]]' \
        "the draft rules sorted by order, the default rule last, one past the others"
is "$(field filt '.filtering[0].draft.rules[2] | [.created_at, .updated_at]')" '["2024-01-01T00:00:00.000Z","2024-01-01T00:00:00.000Z"]' \
        "the default rule keeps the time it was created at"
is "$(field filt '.filtering[0].draft.validation')" '{"errors":[],"state":"edited"}' "the draft waits for validation"
is "$(field filt '.filtering[0].active.rules | map(.id)')" '["DEFAULT"]' "the active rules did not change"
put /_connector/filt/_filtering/_activate
is "$(error_of)" "400 status_exception: Filtering draft needs to be validated by the connector service before activation. Current filtering draft validation state [edited] is not equal to [valid]." \
        "an edited draft cannot be activated"
put /_connector/filt/_filtering/_validation '{"validation":{"errors":[{"ids":["r1"],"messages":["bad"]}],"state":"invalid"}}'
updated "_filtering/_validation"
is "$(field filt '.filtering[0].draft.validation')" '{"errors":[{"ids":["r1"],"messages":["bad"]}],"state":"invalid"}' \
        "the draft validation is set"
put /_connector/filt/_filtering/_validation '{"validation":{"errors":[],"state":"valid"}}'
put /_connector/filt/_filtering/_activate
updated "a valid draft is activated"
is "$(field filt '.filtering[0].active == .filtering[0].draft')" true "active is the draft"
put /_connector/filt/_filtering/_activate
is "$(answer)" '200 {"result":"noop"}' "activating it again is a noop"
put /_connector/filt/_filtering/_activate '{}'
is "$(error_of)" "400 illegal_argument_exception: request [PUT /_connector/filt/_filtering/_activate] does not support having a body" \
        "_activate takes no body"
put /_connector/filt/_filtering '{"advanced_snippet":{"value":{"q":1}}}'
updated "the advanced snippet alone"
is "$(field filt '.filtering[0].draft | [.advanced_snippet.value, (.rules | length), .validation.state]')" '[{"q":1},3,"edited"]' \
        "changes the snippet, keeps the rules, resets the validation"
put /_connector/filt/_filtering '{"rules":[{"field":"a","id":"r","order":1,"policy":"deny","rule":"equals","value":"x"}]}'
is "$(causes)" "x_content_parse_exception: [1:52] [connector_update_filtering_request] failed to parse field [rules] <- x_content_parse_exception: [1:52] [connector_filtering_rule] failed to parse field [policy] <- illegal_argument_exception: Unknown FilteringPolicy [deny]." \
        "an unknown policy"
put /_connector/filt/_filtering '{}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [advanced_snippet] and [rules] cannot be both [null].;" \
        "no draft and no filtering"
put /_connector/filt/_filtering '{"filtering":[],"rules":[]}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: If [filtering] is specified, [rules] and [advanced_snippet] should not be present in the request body.;" \
        "filtering and a draft"
full='[{"active":{"advanced_snippet":{"value":{}},"rules":[],"validation":{"errors":[],"state":"valid"}},"domain":"OTHER","draft":{"advanced_snippet":{"value":[1]},"rules":[],"validation":{"errors":[],"state":"valid"}}}]'
put /_connector/filt/_filtering "{\"filtering\":$full}"
updated "the whole filtering list"
is "$(field filt '[(.filtering | length), .filtering[0].domain, .filtering[0].active.rules, .filtering[0].draft.advanced_snippet.value]')" \
        '[1,"DEFAULT",[],[1]]' "replaces active and draft; the domain is always DEFAULT"
is "$(field filt '.filtering[0].active.advanced_snippet | (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3,9}Z$"))')" true \
        "timestamps left out are set"
put /_connector/team-a-hr/_filtering '{"rules":[]}'
is "$(error_of)" "500 index_out_of_bounds_exception: Index 0 out of bounds for length 0" \
        "a draft change on a connector whose filtering list is empty fails as Elasticsearch does"
put /_connector/nope/_filtering/_activate
is "$(error_of)" "404 resource_not_found_exception: connector [nope] not found" "_activate reads the connector first"

# _index_name
put /_connector/team-a-wiki/_index_name '{"index_name":"search-a-hr"}'
is "$(error_of)" "400 status_exception: Index name [search-a-hr] is used by another connector." "9.1.3: an index of another connector"
put /_connector/team-a-wiki/_index_name '{"index_name":"search-a-wiki"}'
is "$(answer)" '200 {"result":"noop"}' "its own index is a noop"
put /_connector/team-a-wiki/_index_name '{"index_name":"gone-index"}'
updated "the index of a soft-deleted connector is free"
put /_connector/team-a-wiki/_index_name '{"index_name":"_bad"}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [_bad] InvalidIndexNameException[Invalid index name [_bad], must not start with '_', '-', or '+'];" \
        "an invalid index name"
put /_connector/team-a-wiki/_index_name '{"index_name":null}'
updated "null detaches the index"
is "$(field team-a-wiki '.index_name')" null "index_name is null"
put /_connector/team-a-wiki/_index_name '{}'
is "$(error_of)" "400 illegal_argument_exception: Required [index_name]" "index_name is required"
put /_connector/no-index/_index_name '{"index_name":"search-x"}'
is "$(error_of)" "400 status_exception: Index attached to an Elastic-managed connector must start with the prefix: [content-]. The index name in the payload [search-x] doesn't comply with this requirement." \
        "a native connector needs the content- prefix"
put /_connector/no-index/_index_name '{"index_name":"content-x"}'
updated "content- is fine"
put /_connector/nope/_index_name '{"index_name":"search-a-hr"}'
is "$(error_of)" "400 status_exception: Index name [search-a-hr] is used by another connector." "the index check comes before the read"
put /_connector/nope/_index_name '{"index_name":"free"}'
is "$(error_of)" "404 resource_not_found_exception: connector [nope] not found" "9.x reads the connector first"

# _service_type
create st st-index
put /_connector/st/_service_type '{"service_type":"jira"}'
updated "9.1.3: _service_type"
is "$(field st '[.service_type, .status]')" '["jira","created"]' "a created connector stays created"
put /_connector/team-a-hr/_service_type '{"service_type":"jira"}'
is "$(field team-a-hr '[.service_type, .status]')" '["jira","needs_configuration"]' "any other needs configuration"
put /_connector/st/_service_type '{"service_type":""}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [service_type] cannot be [null] or [\"\"].;" "an empty service type"

# _native
put /_connector/orphan-1/_native '{"is_native":true}'
is "$(error_of)" "400 status_exception: The index name [search-a-hr] attached to the connector [orphan-1] must start with the required prefix: [content-] to be Elastic-managed. Please update the attached index first to comply with this requirement." \
        "9.1.3: _native refuses true on a search- index"
put /_connector/orphan-1/_native '{"is_native":false}'
is "$(answer)" '200 {"result":"updated"}' "false is fine"
is "$(field orphan-1 '[.is_native, .status]')" '[false,"configured"]' "connected becomes configured"
put /_connector/filt/_native '{"is_native":"true"}'
updated "true on a content- index"
is "$(field filt '[.is_native, .status]')" '[true,"created"]' "created stays created"
put /_connector/filt/_native '{"is_native":1}'
is "$(error_of)" "400 x_content_parse_exception: [1:14] [connector_update_native_request] is_native doesn't support values of type: VALUE_NUMBER" \
        "a number is no boolean"

# _api_key_id
put /_connector/st/_api_key_id '{"api_key_id":"key-1"}'
updated "9.1.3: _api_key_id"
put /_connector/st/_api_key_id '{"api_key_secret_id":"secret-1","api_key_id":null}'
updated "the secret alone (null is left out)"
is "$(field st '[.api_key_id, .api_key_secret_id]')" '["key-1","secret-1"]' "both are stored"
put /_connector/st/_api_key_id '{"api_key_secret_id":"secret-2"}'
updated "the secret alone (the key left out)"
is "$(field st '[.api_key_id, .api_key_secret_id]')" '["key-1","secret-2"]' "the key stays"
put /_connector/st/_api_key_id '{"api_key_id":null}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [api_key_id] and [api_key_secret_id] cannot both be [null]. Please provide a value for at least one of them.;" \
        "neither"

# _features
put /_connector/st/_features '{"features":{"document_level_security":{"enabled":true},"sync_rules":{"basic":{"enabled":true}}}}'
updated "9.1.3: _features"
put /_connector/st/_features '{"features":{"sync_rules":{"advanced":{"enabled":false}},"incremental_sync":{"enabled":true}}}'
updated "more features"
is "$(field st '.features')" '{"document_level_security":{"enabled":true},"sync_rules":{"basic":{"enabled":true},"advanced":{"enabled":false}},"incremental_sync":{"enabled":true}}' \
        "merged into the features stored"
put /_connector/st/_features '{"features":{"incremental_sync":{}}}'
is "$(causes)" "x_content_parse_exception: [1:34] [connector_update_features_request] failed to parse field [features] <- x_content_parse_exception: [1:34] [connector_features] failed to parse field [incremental_sync] <- x_content_parse_exception: Failed to build [connector_feature_enabled] after last required field arrived <- null_pointer_exception: Cannot invoke \"java.lang.Boolean.booleanValue()\" because \"<parameter1>[0]\" is null" \
        "a feature without enabled"
put /_connector/st/_features '{}'
is "$(answer)" '500 {"error":{"root_cause":[{"type":"null_pointer_exception","reason":null}],"type":"null_pointer_exception","reason":null},"status":500}' \
        "no features: Map.of() refuses the null"
put /_connector/st/_features '{"featuresss":{}}'
is "$(error_of)" "400 x_content_parse_exception: [1:2] [connector_update_features_request] unknown field [featuresss] did you mean [features]?" \
        "a misspelt field"

# _status
put /_connector/st/_status '{"status":"connected"}'
is "$(answer)" '400 {"error":{"root_cause":[{"type":"status_exception","reason":"Invalid transition attempt from [created] to [connected]. Such a status transition is not supported by the Connector Protocol."}],"type":"status_exception","reason":"Invalid transition attempt from [created] to [connected]. Such a status transition is not supported by the Connector Protocol.","caused_by":{"type":"connector_invalid_status_transition_exception","reason":"Invalid transition attempt from [created] to [connected]. Such a status transition is not supported by the Connector Protocol."}},"status":400}' \
        "9.1.3: _status checks the state machine"
for step in NEEDS_CONFIGURATION configured connected error connected; do
        put /_connector/st/_status "{\"status\":\"$step\"}"
        updated "a valid transition to $step"
done
is "$(field st .status)" '"connected"' "the status is stored lower-case"
put /_connector/st/_status '{"status":"connected"}'
is "$(answer)" '200 {"result":"noop"}' "connected to connected is valid, and a noop"
put /_connector/st/_status '{"status":"broken"}'
is "$(causes)" "x_content_parse_exception: [1:11] [connector_update_status_request] failed to parse field [status] <- illegal_argument_exception: Unknown ConnectorStatus [broken]." \
        "an unknown status"
put /_connector/st/_status '{}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [status] cannot be [null].;" "no status"

# _error
put /_connector/st/_error '{"error":"it broke"}'
updated "9.1.3: _error"
is "$(field st '[.error, .status]')" '["it broke","error"]' "an error sets status error"
put /_connector/st/_error '{"error":null}'
updated "a null error"
is "$(field st '[.error, .status]')" '[null,"connected"]' "clears it and sets status connected"
put /_connector/st/_error '{}'
is "$(error_of)" "400 illegal_argument_exception: Required [error]" "error is required"

# _check_in
put /_connector/st/_check_in
updated "9.1.3: _check_in"
is "$(field st '.last_seen | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")')" true "sets last_seen to now"
put /_connector/st/_check_in '{"x":1}'
is "$(error_of)" "400 illegal_argument_exception: request [PUT /_connector/st/_check_in] does not support having a body" \
        "_check_in takes no body"

# _last_sync
put /_connector/st/_last_sync '{"last_sync_status":"COMPLETED","last_synced":"2024-05-01","last_indexed_document_count":"12","last_sync_error":null,"sync_cursor":{"page":3}}'
updated "9.1.3: _last_sync"
is "$(field st '[.last_sync_status, .last_synced, .last_indexed_document_count, .last_sync_error, .sync_cursor]')" \
        '["completed","2024-05-01T00:00:00.000Z",12,null,{"page":3}]' "stored as ConnectorSyncInfo writes it"
put /_connector/st/_last_sync '{}'
is "$(answer)" '200 {"result":"noop"}' "nothing to write is a noop"
put /_connector/st/_last_sync '{"sync_cursor":null,"last_sync_status":null}'
is "$(answer)" '200 {"result":"noop"}' "nulls are not written: the cursor stays"
put /_connector/st/_last_sync '{"last_deleted_document_count":"many"}'
is "$(causes)" "x_content_parse_exception: [1:32] [connector_update_last_sync_stats_request] failed to parse field [last_deleted_document_count] <- number_format_exception: For input string: \"many\"" \
        "a count that is no number"
put /_connector/st/_last_sync '{"last_deleted_document_count":7.9}'
updated "a fractional count"
is "$(field st .last_deleted_document_count)" 7 "is truncated, as Java's longValue() does"
put /_connector/st/_last_sync '{"last_synced":"yesterday"}'
is "$(causes)" "x_content_parse_exception: [1:16] [connector_update_last_sync_stats_request] failed to parse field [last_synced] <- illegal_argument_exception: failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis] <- date_time_parse_exception: Failed to parse with all enclosed parsers" \
        "a date that is not one"
put /_connector/st/_last_sync '{"last_sync_status":"done"}'
is "$(causes)" "x_content_parse_exception: [1:21] [connector_update_last_sync_stats_request] failed to parse field [last_sync_status] <- illegal_argument_exception: Unknown ConnectorSyncStatus [done]." \
        "an unknown sync status"
stop_fake
is "$?" 0 "9.1.3: the fake cluster ends cleanly after all of it"

# ---- 8.12.2 ----
start_fake --seed "$seed" --version 8.12.2
put /_connector/team-a-hr/_name '{"description":"d"}'
is "$(error_of)" "400 illegal_argument_exception: Required [name]" "8.12.2: _name requires the name"
put /_connector/team-a-hr/_name '{"name":null,"description":"d"}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [name] cannot be null or empty.;" \
        "a null name arrives, and fails validation"
put /_connector//_name '{"name":"x"}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [connector_id] cannot be null or empty.;" \
        "8.12's wording of an empty id"
put /_connector/team-a-hr/_configuration '{"values":{"a":1}}'
is "$(error_of)" "400 x_content_parse_exception: [1:2] [connector_update_configuration_request] unknown field [values]" \
        "no configuration values before 8.13"
put /_connector/team-a-hr/_configuration '{}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [configuration] cannot be null.;" \
        "the configuration is needed"
put /_connector/nope/_configuration '{"configuration":{}}'
is "$(jq -r .error.type "$HTTP_BODY")" document_missing_exception "8.12 does not read the connector first"
put /_connector/team-a-hr/_scheduling '{"scheduling":{"full":{"enabled":true,"interval":"0 0 1 * * ?"}}}'
is "$(causes)" "x_content_parse_exception: [1:64] [connector_update_scheduling_request] failed to parse field [scheduling] <- illegal_argument_exception: Required [access_control, incremental]" \
        "every schedule is required before 8.14"
put /_connector/team-a-hr/_filtering '{"rules":[]}'
is "$(error_of)" "400 x_content_parse_exception: [1:2] [connector_update_filtering_request] unknown field [rules]" \
        "no draft rules before 8.14"
put /_connector/team-a-hr/_error '{"error":"boom"}'
updated "8.12.2: _error"
is "$(field team-a-hr '[.error, .status]')" '["boom","connected"]' "sets the error only, not the status"
stop_fake

# ---- 8.13.4 ----
start_fake --seed "$seed" --version 8.13.4
create st st-index
put /_connector/st/_native '{"is_native":true}'
updated "8.13.4: _native true on a search index"
is "$(field st '[.is_native, .status]')" '[true,"configured"]' "sets configured whatever the status (no content- rule before 9.0)"
put /_connector/nope/_native '{"is_native":true}'
is "$(jq -r .error.type "$HTTP_BODY")" document_missing_exception "8.x _native does not read the connector first"
put /_connector/no-index/_index_name '{"index_name":"search-new"}'
updated "8.13.4: a native connector on a search- index"
put /_connector/nope/_index_name '{"index_name":"other"}'
is "$(jq -r .error.type "$HTTP_BODY")" document_missing_exception "8.x _index_name does not read the connector first"
put /_connector/nope/_status '{"status":"error"}'
is "$(error_of)" "404 resource_not_found_exception: connector [nope] not found" "_status reads the connector first"
put /_connector/st/_scheduling '{"scheduling":{"full":{"enabled":true,"interval":"0 0 1 * * ?"}}}'
is "$(jq -r .error.caused_by.reason "$HTTP_BODY")" "Required [access_control, incremental]" "8.13 still needs every schedule"
put /_connector//_name '{"name":"x"}'
is "$(jq -r .error.reason "$HTTP_BODY")" "Validation Failed: 1: [connector_id] cannot be [null] or [\"\"].;" "8.13's wording"
stop_fake

# ---- 8.14.3 ----
start_fake --seed "$seed" --version 8.14.3
put /_connector/team-a-hr/_scheduling '{"scheduling":{"incremental":{"enabled":true,"interval":"0 0 1 * * ?"}}}'
updated "8.14.3: a partial _scheduling"
is "$(field team-a-hr '.scheduling | keys_unsorted')" '["full","incremental"]' "merged"
create filt filt-index
put /_connector/filt/_filtering '{"rules":[]}'
updated "8.14.3: draft rules"
is "$(field filt '.filtering[0].draft | [(.rules | map(.id)), .validation.state]')" '[["DEFAULT"],"edited"]' \
        "an empty list leaves the default rule"
put /_connector/team-a-hr/_error '{"error":"boom"}'
is "$(field team-a-hr '.status')" '"connected"' "8.14: _error leaves the status"
stop_fake

# ---- 8.15.0 ----
start_fake --seed "$seed" --version 8.15.0
put /_connector/team-a-hr/_error '{"error":"boom"}'
is "$(field team-a-hr '[.error, .status]')" '["boom","error"]' "8.15.0: _error sets status error"
put /_connector/team-a-hr/_error '{"error":""}'
is "$(field team-a-hr '[.error, .status]')" '["","connected"]' "an empty error sets connected"
stop_fake

tap_done
