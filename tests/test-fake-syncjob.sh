#!/bin/bash
# The fake cluster's sync job actions (PUT _connector/_sync_job/ID/_cancel, /_check_in, /_claim,
# /_error, /_stats) and connector secrets (POST _connector/_secret, GET, PUT, DELETE
# _connector/_secret/ID): which version has which endpoint, the success answers and the stored
# documents read back, the errors word for word (404s, body errors, validation, refused status
# transitions) and what the request log records. See tests/fake/README.md.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

as=()  # curl's credentials for send, when security is on
send() {  # send METHOD PATH [BODY]: a request as "${as[@]}", with a JSON body when one is given
        if [ $# -ge 3 ]; then
                fake_curl "$1" "$2" "${as[@]}" -H 'Content-Type: application/json' --data-binary "$3"
        else
                fake_curl "$1" "$2" "${as[@]}"
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
job() {  # job ID JQ [JQ-OPTION]: jq over GET /_connector/_sync_job/ID
        fake_curl GET "/_connector/_sync_job/$1"
        jq -c ${3:+"$3"} --arg iso "$iso" "$2" "$HTTP_BODY"
}
new_job() {  # new_job: a new pending sync job of connector c; prints its id
        send POST /_connector/_sync_job '{"id":"c","job_type":"full","trigger_method":"on_demand"}'
        jq -r .id "$HTTP_BODY"
}
updated() {  # updated DESCRIPTION: the last answer is {"result":"updated"}
        is "$(answer)" '200 {"result":"updated"}' "$1"
}
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$'  # bash and jq read it alike
now_iso() {  # now_iso TEXT: TEXT is a timestamp as the service writes Instant.now()
        [[ "$1" =~ $iso ]]
}
connector='{"index_name":"search-c","name":"c","is_native":false,"service_type":"s"}'

# ---- Which version has which endpoint ----
# Before its first version each is "no handler found" (a 400); in its first it answers. The sync
# job of the request is missing, so the endpoint answers its own 404.
endpoints=(
        "PUT|_connector/_sync_job/none/_cancel|8.12|"
        "PUT|_connector/_sync_job/none/_check_in|8.12|"
        "PUT|_connector/_sync_job/none/_error|8.12|{\"error\":\"e\"}"
        "PUT|_connector/_sync_job/none/_stats|8.12|{\"deleted_document_count\":0,\"indexed_document_count\":0,\"indexed_document_volume\":0}"
        "PUT|_connector/_sync_job/none/_claim|8.15|{\"worker_hostname\":\"w\"}"
        "POST|_connector/_secret|8.13|{\"value\":\"v\"}"
        "PUT|_connector/_secret/none|8.13|{\"value\":\"v\"}"
        "GET|_connector/_secret/none|8.13|"
        "DELETE|_connector/_secret/none|8.13|"
)
declare -A before=([8.12]=8.11.4 [8.13]=8.12.2 [8.15]=8.14.3) first=([8.12]=8.12.2 [8.13]=8.13.4 [8.15]=8.15.0)
for version in 8.11.4 8.12.2 8.13.4 8.14.3 8.15.0; do
        start_fake --version "$version"
        for e in "${endpoints[@]}"; do
                IFS='|' read -r method path since body <<<"$e"
                if [ "${before[$since]}" = "$version" ]; then
                        send "$method" "/$path" ${body:+"$body"}
                        if [ "$method $path" = "POST _connector/_secret" ]; then
                                # The path is the connector "_secret", which takes no POST.
                                is "$(answer)" "405 {\"error\":\"Incorrect HTTP method for uri [/$path] and method [POST], allowed: [GET, PUT, DELETE]\",\"status\":405}" \
                                        "$version: POST $path does not exist yet (it came with $since)"
                                continue
                        fi
                        is "$(answer)" "400 {\"error\":\"no handler found for uri [/$path] and method [$method]\",\"status\":400}" \
                                "$version: $method $path does not exist yet (it came with $since)"
                elif [ "${first[$since]}" = "$version" ]; then
                        send "$method" "/$path" ${body:+"$body"}
                        case "$path" in
                        _connector/_secret) is "$HTTP_STATUS" 200 "$version: $method $path exists from $since on" ;;
                        _connector/_secret/none)
                                # In the table's order: PUT creates it, GET reads it, DELETE removes it.
                                case "$method" in
                                PUT) want='201 {"result":"created"}' ;;
                                GET) want='200 {"id":"none","value":"v"}' ;;
                                DELETE) want='200 {"deleted":true}' ;;
                                esac
                                is "$(answer)" "$want" "$version: $method $path exists from $since on"
                                ;;
                        *) is "$(error_of)" "404 resource_not_found_exception: connector sync job [none] not found" \
                                "$version: $method $path exists from $since on (404 for a missing job)" ;;
                        esac
                fi
        done
        stop_fake
done
# Before 8.13, GET _connector/_secret is the connector "_secret" (a 404 of its own).
start_fake --version 8.12.2
send GET /_connector/_secret
is "$HTTP_STATUS $(jq -r .error.type "$HTTP_BODY")" "404 resource_not_found_exception" \
        "8.12: GET _connector/_secret is the connector '_secret'"
stop_fake

# ---- _check_in ----
start_fake --version 9.1.3
send PUT /_connector/c "$connector"
id=$(new_job)
seen=$(job "$id" .last_seen)
sleep 0.01
send PUT "/_connector/_sync_job/$id/_check_in"
updated "_check_in: updated"
now=$(job "$id" .last_seen -r)
now_iso "$now" && [[ "\"$now\"" > "$seen" ]]
ok $? "_check_in sets last_seen to now ($seen -> $now)"
is "$(job "$id" '[.status, .error]')" '["pending",null]' "_check_in changes nothing else"
send PUT "/_connector/_sync_job/$id/_check_in" -H 'Content-Type: application/json' --data-binary '{}'
is "$(error_of)" "400 illegal_argument_exception: request [PUT /_connector/_sync_job/$id/_check_in] does not support having a body" \
        "_check_in takes no body"
send PUT "/_connector/_sync_job/$id/_check_in?foo=1"
is "$(error_of)" "400 illegal_argument_exception: request [/_connector/_sync_job/$id/_check_in] contains unrecognized parameter: [foo]" \
        "_check_in takes no parameter"
send PUT /_connector/_sync_job/missing/_check_in
is "$(error_of)" "404 resource_not_found_exception: connector sync job [missing] not found" \
        "_check_in of a missing job (the update's missing document)"
is "$(fake_requests 'select(.path | endswith("/_check_in")) | [.method, .sync_job_id, .connector_id, .status]' | tail -1)" \
        '["PUT","missing",null,404]' "the log names the sync job, not a connector"

# ---- _claim ----
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"host-1","sync_cursor":{"cursor":"c1"}}'
updated "_claim: updated"
is "$(job "$id" '[.status, .worker_hostname, .connector.sync_cursor, .connector.id]')" \
        '["in_progress","host-1",{"cursor":"c1"},"c"]' "_claim: in_progress, the worker, the cursor inside connector"
is "$(job "$id" '(.started_at | test($iso)) and (.last_seen | test($iso)) and .started_at >= .last_seen')" true \
        "_claim sets last_seen and then started_at to now (two readings of the clock, as Elasticsearch's)"
is "$(job "$id" '[keys_unsorted[] | select(. == "worker_hostname" or . == "started_at")]')" \
        '["worker_hostname","started_at"]' "the new members appended in the HashMap's order"
fake_curl GET /_connector/c
is "$(jq -c .sync_cursor "$HTTP_BODY")" null "the connector's own sync_cursor is untouched"
id2=$(new_job)
send PUT "/_connector/_sync_job/$id2/_claim" '{"worker_hostname":"host-2"}'
updated "_claim without a cursor"
is "$(job "$id2" '[.worker_hostname, (.connector | has("sync_cursor"))]')" '["host-2",false]' "no sync_cursor is written"
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"host-3"}'
updated "_claim of an in_progress job: Elasticsearch does not look at the status"
is "$(job "$id" .worker_hostname)" '"host-3"' "the job has its new worker"
send PUT "/_connector/_sync_job/$id/_claim" '{"sync_cursor":{"cursor":"c"}}'
is "$(error_of)" "400 illegal_argument_exception: Required [worker_hostname]" "_claim without worker_hostname"
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":null}'
is "$(error_of)" "400 x_content_parse_exception: [1:20] [claim_connector_sync_job] worker_hostname doesn't support values of type: VALUE_NULL" \
        "_claim with a null worker_hostname"
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"h","sync_cursor":"x"}'
is "$(error_of)" "400 x_content_parse_exception: [1:38] [claim_connector_sync_job] sync_cursor doesn't support values of type: VALUE_STRING" \
        "_claim with a sync_cursor that is no object"
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"h","worker":"x"}'
is "$(error_of)" "400 x_content_parse_exception: [1:24] [claim_connector_sync_job] unknown field [worker]" \
        "_claim with an unknown field (too far from worker_hostname for a suggestion)"
send PUT "/_connector/_sync_job/$id/_claim"
is "$(error_of)" "400 parse_exception: request body is required" "_claim without a body"
send PUT /_connector/_sync_job/missing/_claim '{"worker_hostname":"h"}'
is "$(error_of)" "404 resource_not_found_exception: missing" \
        "_claim of a missing job: read first, the index exists: the bare id"

# ---- _error ----
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_error" '{"error":"boom"}'
is "$(causes)" "status_exception: Invalid transition attempt from [pending] to [error]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol. <- connector_sync_job_invalid_status_transition_exception: Invalid transition attempt from [pending] to [error]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol." \
        "_error of a pending job is refused"
is "$HTTP_STATUS" 400 "with a 400"
is "$(job "$id" '[.status, .error]')" '["pending",null]' "and changes nothing"
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"h"}'
send PUT "/_connector/_sync_job/$id/_error" '{"error":"boom"}'
updated "_error of an in_progress job"
is "$(job "$id" '[.status, .error]')" '["error","boom"]' "error and status error"
send PUT "/_connector/_sync_job/$id/_error" '{"error":"again"}'
is "$(error_of)" "400 status_exception: Invalid transition attempt from [error] to [error]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol." \
        "a job in error cannot get another error"
send PUT "/_connector/_sync_job/$id/_error" '{"error":""}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [error] of the connector sync job cannot be null or empty;" \
        "an empty error"
send PUT "/_connector/_sync_job/$id/_error" '{"error":null}'
is "$(error_of)" "400 x_content_parse_exception: [1:10] [connector_sync_job_error_request] error doesn't support values of type: VALUE_NULL" \
        "a null error"
send PUT "/_connector/_sync_job/$id/_error" '{}'
is "$(error_of)" "400 illegal_argument_exception: Required [error]" "no error"
send PUT /_connector/_sync_job/missing/_error '{"error":"e"}'
is "$(error_of)" "404 resource_not_found_exception: missing" "_error of a missing job"

# ---- _cancel ----
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_cancel"
updated "_cancel of a pending job"
is "$(job "$id" '[.status, (.cancelation_requested_at == .canceled_at and .canceled_at == .completed_at)]')" \
        '["canceled",true]' "a pending job is canceled at once, the three timestamps one now"
now_iso "$(job "$id" .cancelation_requested_at -r)"
ok $? "cancelation_requested_at is now"
send PUT "/_connector/_sync_job/$id/_cancel"
is "$(error_of)" "400 status_exception: Invalid transition attempt from [canceled] to [canceling]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol." \
        "a canceled job cannot be canceled again"
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_claim" '{"worker_hostname":"h"}'
send PUT "/_connector/_sync_job/$id/_cancel"
updated "_cancel of an in_progress job"
is "$(job "$id" '[.status, (.cancelation_requested_at | test($iso)), has("canceled_at"), has("completed_at")]')" \
        '["canceling",true,false,false]' "an in_progress job is canceling, with cancelation_requested_at only"
send PUT "/_connector/_sync_job/$id/_error" '{"error":"stuck"}'
updated "_error of a canceling job"
is "$(job "$id" .status)" '"error"' "canceling may become error"
send PUT /_connector/_sync_job/missing/_cancel
is "$(error_of)" "404 resource_not_found_exception: missing" "_cancel of a missing job"
fake_control POST /_fake/connectors '{"sync_jobs":[{"id":"odd","connector":{"id":"c"},"status":"paused"}]}' >/dev/null
send PUT /_connector/_sync_job/odd/_cancel
is "$(error_of)" "400 illegal_argument_exception: Unknown SyncStatus: paused" "a job with a status Elasticsearch does not know"

# ---- _stats ----
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":10,"indexed_document_count":20,"indexed_document_volume":1000}'
updated "_stats with the required counts"
is "$(job "$id" '[.deleted_document_count, .indexed_document_count, .indexed_document_volume, .total_document_count]')" \
        '[10,20,1000,0]' "the counts are stored, total_document_count kept"
now_iso "$(job "$id" .last_seen -r)"
ok $? "_stats sets last_seen to now when none is given"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":"2","indexed_document_volume":3.9,"total_document_count":5,"last_seen":"2023-12-04T08:45:50.567149Z","metadata":{"k":"v"}}'
updated "_stats with every field"
is "$(job "$id" '[.deleted_document_count, .indexed_document_count, .indexed_document_volume, .total_document_count, .last_seen, .metadata]')" \
        '[1,2,3,5,"2023-12-04T08:45:50.567149Z",{"k":"v"}]' "a numeric string and a fraction read as longs; last_seen as given"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2,"indexed_document_volume":3,"total_document_count":5,"last_seen":"2023-12-04T08:45:50.567149Z","metadata":{"k":"v"}}'
is "$(answer)" '200 {"result":"noop"}' "the same stats again: noop"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":-10,"indexed_document_count":20,"indexed_document_volume":-1,"total_document_count":-2}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [deleted_document_count] cannot be negative.;2: [indexed_document_volume] cannot be negative.;3: [total_document_count] cannot be negative.;" \
        "negative counts"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2}'
is "$(error_of)" "400 illegal_argument_exception: Required [indexed_document_volume]" "a missing count"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2,"indexed_document_volume":3,"metadata":"abc"}'
is "$(error_of)" "400 x_content_parse_exception: [1:95] [connector_sync_job_update_ingestion_stats] metadata doesn't support values of type: VALUE_STRING" \
        "metadata that is no object"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2,"indexed_document_volume":3,"last_seen":"yesterday"}'
is "$(causes)" "x_content_parse_exception: [1:96] [connector_sync_job_update_ingestion_stats] failed to parse field [last_seen] <- illegal_argument_exception: failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis] <- date_time_parse_exception: Failed to parse with all enclosed parsers" \
        "a last_seen that is no date"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2,"indexed_document_volume":3,"last_seen":{}}'
is "$(causes)" "x_content_parse_exception: [1:96] [connector_sync_job_update_ingestion_stats] failed to parse field [last_seen] <- illegal_argument_exception: unexpected token [START_OBJECT] for [last_seen]" \
        "a last_seen that is an object"
send PUT /_connector/_sync_job/missing/_stats '{"deleted_document_count":0,"indexed_document_count":0,"indexed_document_volume":0}'
is "$(error_of)" "404 resource_not_found_exception: connector sync job [missing] not found" \
        "_stats of a missing job (the update's missing document)"
stop_fake

# ---- Versions inside the endpoints ----
# 8.12: _cancel and _error write without reading the job first (and without the state machine).
start_fake --version 8.12.2
send PUT /_connector/c "$connector"
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_error" '{"error":"early"}'
updated "8.12: _error of a pending job"
is "$(job "$id" '[.status, .error]')" '["error","early"]' "8.12: any job gets the error"
send PUT "/_connector/_sync_job/$id/_cancel"
updated "8.12: _cancel of a job in error"
is "$(job "$id" '[.status, has("cancelation_requested_at"), has("canceled_at")]')" '["canceling",true,false]' \
        "8.12: always canceling"
send PUT /_connector/_sync_job/missing/_cancel
is "$(error_of)" "404 resource_not_found_exception: connector sync job [missing] not found" \
        "8.12: a missing job is the update's missing document"
send PUT "/_connector/_sync_job/$id/_stats" '{"deleted_document_count":1,"indexed_document_count":2,"indexed_document_volume":3,"metadata":{}}'
is "$(error_of)" "400 x_content_parse_exception: [1:84] [connector_sync_job_update_ingestion_stats] unknown field [metadata]" \
        "8.12: _stats has no metadata (8.15 added it)"
stop_fake
# 8.13: the state machine guards _cancel; the sync job index does not exist yet.
start_fake --version 8.13.4
send PUT /_connector/_sync_job/missing/_cancel
is "$(error_of)" "404 resource_not_found_exception: connector sync job [missing] not found" \
        "8.13: a missing job before the sync job index exists"
send PUT /_connector/c "$connector"
id=$(new_job)
send PUT "/_connector/_sync_job/$id/_cancel"
is "$(job "$id" .status)" '"canceled"' "8.13: a pending job is canceled at once"
stop_fake

# ---- Secrets ----
start_fake --version 9.1.3
send GET /_connector/_secret/s1
is "$(answer)" '404 {"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [.connector-secrets]","resource.type":"index_or_alias","resource.id":".connector-secrets","index_uuid":"_na_","index":".connector-secrets"}],"type":"index_not_found_exception","reason":"no such index [.connector-secrets]","resource.type":"index_or_alias","resource.id":".connector-secrets","index_uuid":"_na_","index":".connector-secrets"},"status":404}' \
        "GET of a secret before any was stored: no index"
send DELETE /_connector/_secret/s1
is "$(error_of)" "404 index_not_found_exception: no such index [.connector-secrets]" "DELETE too"
send POST /_connector/_secret '{"value":"my-secret"}'
is "$HTTP_STATUS" 200 "POST a secret"
sid=$(jq -r .id "$HTTP_BODY")
[[ "$sid" =~ ^[A-Za-z0-9_-]{20}$ ]]
ok $? "with a generated 20-character id ($sid)"
is "$(jq -c keys "$HTTP_BODY")" '["id"]' "answered {\"id\"} only"
send GET "/_connector/_secret/$sid"
is "$(answer)" "200 {\"id\":\"$sid\",\"value\":\"my-secret\"}" "GET answers the id and the value"
send PUT /_connector/_secret/s1 '{"value":"v1"}'
is "$(answer)" '201 {"result":"created"}' "PUT a new secret: 201 created"
send PUT /_connector/_secret/s1 '{"value":"v2"}'
is "$(answer)" '200 {"result":"updated"}' "PUT it again: 200 updated"
send PUT /_connector/_secret/s1 '{"value":"v2"}'
is "$(answer)" '200 {"result":"updated"}' "the same value again is updated too (an index request never noops)"
send GET /_connector/_secret/s1
is "$(answer)" '200 {"id":"s1","value":"v2"}' "the new value is read back"
is "$(fake_control GET /_fake/state | jq -c '.secrets')" "[{\"id\":\"$sid\",\"value\":\"my-secret\"},{\"id\":\"s1\",\"value\":\"v2\"}]" \
        "/_fake/state lists the secrets"
send GET /_connector/_secret/nope
is "$(error_of)" "404 resource_not_found_exception: No secret with id [nope]" "GET of a missing secret"
send DELETE /_connector/_secret/s1
is "$(answer)" '200 {"deleted":true}' "DELETE answers deleted"
send GET /_connector/_secret/s1
is "$(error_of)" "404 resource_not_found_exception: No secret with id [s1]" "the secret is gone"
send DELETE /_connector/_secret/s1
is "$(error_of)" "404 resource_not_found_exception: No secret with id [s1]" "DELETE of a missing secret"
send POST /_connector/_secret '{}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [value] of the connector secret cannot be [null] or [\"\"];" \
        "POST without a value"
send POST /_connector/_secret '{"value":""}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [value] of the connector secret cannot be [null] or [\"\"];" \
        "POST with an empty value"
send POST /_connector/_secret '{"value":1}'
is "$(error_of)" "400 x_content_parse_exception: [1:10] [post_secret_request] value doesn't support values of type: VALUE_NUMBER" \
        "POST with a value that is no string"
send POST /_connector/_secret '{"value":"v","valu":"w"}'
is "$(error_of)" "400 x_content_parse_exception: [1:14] [post_secret_request] unknown field [valu] did you mean [value]?" \
        "POST with an unknown field"
send POST /_connector/_secret
is "$(error_of)" "400 parse_exception: request body is required" "POST without a body"
send PUT /_connector/_secret/s2 '{"value":null}'
is "$(error_of)" "400 x_content_parse_exception: [1:10] [connector_secret_put_request] value doesn't support values of type: VALUE_NULL" \
        "PUT with a null value"
send PUT /_connector/_secret/s2 '{"value":""}'
is "$(error_of)" "400 action_request_validation_exception: Validation Failed: 1: [value] cannot be [null] or [\"\"];" \
        "PUT with an empty value"
send PUT /_connector/_secret/s2 '{}'
is "$(error_of)" "400 illegal_argument_exception: Required [value]" "PUT without a value"
send GET /_connector/_secret/s2 -H 'Content-Type: application/json' --data-binary '{}'
is "$(error_of)" "400 illegal_argument_exception: request [GET /_connector/_secret/s2] does not support having a body" \
        "GET takes no body"
send PATCH /_connector/_secret/s2
is "$HTTP_STATUS $(jq -r .error "$HTTP_BODY")" "405 Incorrect HTTP method for uri [/_connector/_secret/s2] and method [PATCH], allowed: [GET, PUT, DELETE]" \
        "other methods are 405"
is "$(http_header Allow)" "GET,PUT,DELETE" "with Allow"
fake_control DELETE /_fake/connectors >/dev/null
is "$(fake_control GET /_fake/state | jq -c '.secrets')" '[]' "DELETE /_fake/connectors removes the secrets"
send GET "/_connector/_secret/$sid"
is "$(error_of)" "404 index_not_found_exception: no such index [.connector-secrets]" "and their index"
is "$(fake_requests 'select(.path | startswith("/_connector/_secret/")) | [.connector_id, .sync_job_id]' | sort -u)" '[null,null]' \
        "the log names no connector or sync job for a secret"
is "$(fake_requests 'select(.method == "POST" and .path == "/_connector/_secret" and .status == 200) | .body')" '"{\"value\":\"my-secret\"}"' \
        "the log records the request body as sent"
stop_fake

# ---- A role that may only read connectors ----
start_fake --version 9.1.3 --basic 'elastic:pw' --basic-read-only 'viewer:view-pw'
as=(-u elastic:pw)
send PUT /_connector/c "$connector"
send POST /_connector/_sync_job '{"id":"c"}'
id=$(jq -r .id "$HTTP_BODY")
send PUT /_connector/_secret/s1 '{"value":"v"}'
as=(-u viewer:view-pw)
viewer='user [viewer] with effective roles [connector_reader]'
for a in "_cancel|sync_job/cancel|" "_check_in|sync_job/check_in|" "_claim|sync_job/claim|{\"worker_hostname\":\"h\"}" \
        "_error|sync_job/update_error|{\"error\":\"e\"}" \
        "_stats|sync_job/update_stats|{\"deleted_document_count\":0,\"indexed_document_count\":0,\"indexed_document_volume\":0}"; do
        IFS='|' read -r path action body <<<"$a"
        send PUT "/_connector/_sync_job/$id/$path" ${body:+"$body"}
        is "$(error_of)" "403 security_exception: action [cluster:admin/xpack/connector/$action] is unauthorized for $viewer, this action is granted by the cluster privileges [manage_connector,manage,all]" \
                "the read-only role may not $path a sync job"
done
send GET /_connector/_secret/s1
is "$(error_of)" "403 security_exception: action [cluster:admin/xpack/connector/secret/get] is unauthorized for $viewer, this action is granted by the cluster privileges [read_connector_secrets,manage,all]" \
        "nor read a secret"
send DELETE /_connector/_secret/s1
is "$(error_of)" "403 security_exception: action [cluster:admin/xpack/connector/secret/delete] is unauthorized for $viewer, this action is granted by the cluster privileges [write_connector_secrets,manage,all]" \
        "nor delete one"
send PUT "/_connector/_sync_job/$id/_error" '{"error":""}' 
is "$HTTP_STATUS" 400 "validation comes before authorization"
fake_curl GET "/_connector/_sync_job/$id" -u elastic:pw
is "$(jq -c '[.status, .worker_hostname, .error]' "$HTTP_BODY")" '["pending",null,null]' "the sync job did not change"
as=(-u elastic:pw)
send GET /_connector/_secret/s1
is "$(answer)" '200 {"id":"s1","value":"v"}' "the secret did not change"
stop_fake

tap_done
