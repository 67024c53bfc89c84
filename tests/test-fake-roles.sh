#!/bin/bash
# Roles in the fake cluster: a credential that may read connectors but not manage them
# (--api-key-read-only, --basic-read-only) lists and reads, and gets Elasticsearch's 403
# security_exception, word for word, for every write: DELETE, PUT, an update endpoint, a sync job
# write. Nothing changes in the store; the full credentials still work; the log records the 403.
# Authorization comes after the request's parsing and validation, as in Elasticsearch, and its
# wording follows the version (cluster actions in 8.12 and 9.x, index actions in 8.13 to 8.19).
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

seed="$top_srcdir/tests/data/fake/connectors.json"
key=$(printf 'full-id:full-secret' | base64)
reader=$(printf 'reader-id:reader-secret' | base64)
wrong=$(printf 'reader-id:guessed' | base64)
as_reader=(-H "Authorization: ApiKey $reader")
as_full=(-H "Authorization: ApiKey $key")
json=(-H 'Content-Type: application/json')

error_of() {  # the status, type and reason of the last error
        jq -r '"\(.status) \(.error.type): \(.error.reason)"' "$HTTP_BODY"
}
store() {  # the connectors and sync jobs as GET /_fake/state has them
        fake_control GET /_fake/state | jq -c '[.connectors, .sync_jobs]'
}
denied() {  # denied ACTION SUBJECT: the 9.x reason for a write
        printf '403 security_exception: action [cluster:admin/xpack/connector/%s] is unauthorized for %s, this action is granted by the cluster privileges [manage_connector,manage,all]' "$1" "$2"
}
api_key_subject='API key id [reader-id] of user [elastic]'

# ---- 9.x: the read-only API key ----

start_fake --seed "$seed" --api-key "$key" --api-key-read-only "$reader" --basic 'elastic:pw' \
        --basic-read-only 'viewer:view-pw'
before=$(store)

fake_curl GET /_connector "${as_reader[@]}"
is "$HTTP_STATUS $(jq .count "$HTTP_BODY")" "200 4" "the read-only key lists connectors"
fake_curl GET /_connector/team-a-hr "${as_reader[@]}"
is "$HTTP_STATUS $(jq -r .id "$HTTP_BODY")" "200 team-a-hr" "and reads one"
fake_curl GET /_connector/_sync_job "${as_reader[@]}"
is "$HTTP_STATUS" 200 "and lists sync jobs"
fake_curl GET /_connector/_sync_job/job-1 "${as_reader[@]}"
is "$HTTP_STATUS" 200 "and reads one"
fake_curl GET / "${as_reader[@]}"
is "$HTTP_STATUS" 200 "GET / needs monitor, which the role has"
fake_curl GET /_connector/nope "${as_reader[@]}"
is "$(error_of)" "404 resource_not_found_exception: connector [nope] not found" \
        "a missing connector is still a 404 for it"

fake_curl DELETE /_connector/orphan-1 "${as_reader[@]}"
is "$(error_of)" "$(denied delete "$api_key_subject")" "DELETE: 403, Elasticsearch's reason"
is "$(jq -c . "$HTTP_BODY")" \
        '{"error":{"root_cause":[{"type":"security_exception","reason":"action [cluster:admin/xpack/connector/delete] is unauthorized for API key id [reader-id] of user [elastic], this action is granted by the cluster privileges [manage_connector,manage,all]"}],"type":"security_exception","reason":"action [cluster:admin/xpack/connector/delete] is unauthorized for API key id [reader-id] of user [elastic], this action is granted by the cluster privileges [manage_connector,manage,all]"},"status":403}' \
        "DELETE: the whole body"
is "$(http_header WWW-Authenticate)" "" "a 403 asks for no other credentials"
is "$(http_header X-elastic-product)" Elasticsearch "a 403 carries the product header"
fake_curl DELETE '/_connector/orphan-1?hard=true&delete_sync_jobs=true' "${as_reader[@]}"
is "$HTTP_STATUS" 403 "a hard DELETE of its sync jobs too: 403"
fake_curl DELETE /_connector/nope "${as_reader[@]}"
is "$HTTP_STATUS" 403 "DELETE of a missing connector: 403 before the lookup"
fake_curl PUT /_connector/new-one "${as_reader[@]}" "${json[@]}" --data-binary '{"index_name":"search-new"}'
is "$(error_of)" "$(denied put "$api_key_subject")" "PUT: 403"
fake_curl POST /_connector "${as_reader[@]}" "${json[@]}" --data-binary '{"index_name":"search-new"}'
is "$(error_of)" "$(denied post "$api_key_subject")" "POST: 403"
fake_curl PUT /_connector "${as_reader[@]}" "${json[@]}" --data-binary '{}'
is "$(error_of)" "$(denied put "$api_key_subject")" "PUT without an id: the put action too"
fake_curl PUT /_connector/team-a-hr/_name "${as_reader[@]}" "${json[@]}" --data-binary '{"name":"x"}'
is "$(error_of)" "$(denied update_name "$api_key_subject")" "an update endpoint: 403"
fake_curl PUT /_connector/team-a-hr/_check_in "${as_reader[@]}"
is "$(error_of)" "$(denied update_last_seen "$api_key_subject")" "_check_in is the update_last_seen action"
fake_curl PUT /_connector/team-a-hr/_filtering/_activate "${as_reader[@]}"
is "$(error_of)" "$(denied update_filtering/activate "$api_key_subject")" "_filtering/_activate"
fake_curl POST /_connector/_sync_job "${as_reader[@]}" "${json[@]}" --data-binary '{"id":"team-a-hr"}'
is "$(error_of)" "$(denied sync_job/post "$api_key_subject")" "a sync job POST: 403"
fake_curl DELETE /_connector/_sync_job/job-1 "${as_reader[@]}"
is "$(error_of)" "$(denied sync_job/delete "$api_key_subject")" "a sync job DELETE: 403"
is "$(store)" "$before" "nothing changed in the store"

# What Elasticsearch answers before the action is authorized is answered first.
fake_curl PUT /_connector/team-a-hr/_name "${as_reader[@]}" "${json[@]}" --data-binary '{"nam":"x"}'
is "$(error_of)" \
        "400 x_content_parse_exception: [1:2] [connector_update_name_request] unknown field [nam] did you mean [name]?" \
        "a body the parser refuses: 400 before authorization"
fake_curl PUT /_connector/team-a-hr/_name "${as_reader[@]}" "${json[@]}" --data-binary '{"name":null}'
is "$(jq -r .error.type "$HTTP_BODY")" action_request_validation_exception \
        "a request that fails validation: 400 before authorization"
fake_curl DELETE '/_connector/orphan-1?bogus=1' "${as_reader[@]}"
is "$(jq -r .error.type "$HTTP_BODY")" illegal_argument_exception \
        "an unrecognized parameter: 400 before authorization"
fake_curl PUT /_connector/team-a-hr "${as_reader[@]}" "${json[@]}" --data-binary '{"index_name":"x","is_native":true}'
is "$(jq -r .error.type "$HTTP_BODY")" action_request_validation_exception \
        "PUT's validation: 400 before authorization"
fake_curl DELETE /_connector/team-a-hr/_nothing "${as_reader[@]}"
is "$HTTP_STATUS $(jq -r .error "$HTTP_BODY")" \
        "400 no handler found for uri [/_connector/team-a-hr/_nothing] and method [DELETE]" \
        "a route that does not exist is never authorized"
fake_curl PATCH /_connector/team-a-hr "${as_reader[@]}"
is "$HTTP_STATUS" 405 "nor a method the route does not take"
fake_curl DELETE /_connector/orphan-1 -H "Authorization: ApiKey $wrong"
is "$(jq -r .error.additional_unsuccessful_credentials "$HTTP_BODY")" \
        "API key: invalid credentials for API key [reader-id]" \
        "a wrong secret for the read-only key's id: 401, authentication first"

# The request log records the 403s, and never the credential.
is "$(fake_requests 'select(.status == 403) | .method' | jq -r . | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
        "DELETE=4 POST=2 PUT=5 " "the log records each 403"
is "$(fake_requests 'select(.status == 403 and .method == "DELETE" and .connector_id == "orphan-1") | .auth' | sort -u)" \
        '"ApiKey"' "with the scheme only"
ok "$(grep -c "$reader" "$FAKE_LOG")" "the log never holds the key"

# The read-only user: a 403 names the user and the role.
fake_curl GET /_connector -u viewer:view-pw
is "$HTTP_STATUS" 200 "the read-only user lists connectors"
fake_curl DELETE /_connector/orphan-1 -u viewer:view-pw
is "$(error_of)" "$(denied delete 'user [viewer] with effective roles [connector_reader]')" \
        "the read-only user: 403 naming the user and the role"
fake_curl DELETE /_connector/orphan-1 -u viewer:wrong
is "$(jq -r .error.reason "$HTTP_BODY")" "unable to authenticate user [viewer] for REST request [/_connector/orphan-1]" \
        "a wrong password for it: 401"
is "$(store)" "$before" "still nothing changed"

# The full credentials still work.
fake_curl PUT /_connector/team-a-hr/_name "${as_full[@]}" "${json[@]}" --data-binary '{"name":"renamed"}'
is "$HTTP_STATUS" 200 "the full key updates"
fake_curl DELETE /_connector/orphan-1 "${as_full[@]}"
is "$HTTP_STATUS" 200 "the full key deletes"
fake_curl POST /_connector/_sync_job -u elastic:pw "${json[@]}" --data-binary '{"id":"team-a-hr"}'
is "$HTTP_STATUS" 200 "the full user posts a sync job"
stop_fake

# ---- 8.13 to 8.19: index actions on the connector and sync job indices ----

start_fake --seed "$seed" --version 8.19.0 --api-key-read-only "$reader" --basic 'elastic:pw'
fake_curl GET /_connector "${as_reader[@]}"
is "$HTTP_STATUS" 200 "8.19: the read-only key lists connectors"
fake_curl DELETE /_connector/orphan-1 "${as_reader[@]}"
is "$(error_of)" \
        "403 security_exception: action [indices:data/write/xpack/connector/delete] is unauthorized for $api_key_subject on indices [.elastic-connectors-v1], this action is granted by the index privileges [write,all]" \
        "8.19: DELETE is an index action on the connector index"
fake_curl DELETE /_connector/_sync_job/job-1 "${as_reader[@]}"
is "$(error_of)" \
        "403 security_exception: action [indices:data/write/xpack/connector/sync_job/delete] is unauthorized for $api_key_subject on indices [.elastic-connectors-sync-jobs-v1], this action is granted by the index privileges [write,all]" \
        "8.19: a sync job DELETE names the sync job index"
fake_curl PUT /_connector/team-a-hr/_last_sync "${as_reader[@]}" "${json[@]}" --data-binary '{"last_sync_error":"x"}'
is "$(jq -r .error.reason "$HTTP_BODY" | cut -d' ' -f1-2)" "action [indices:data/write/xpack/connector/update_last_sync_stats]" \
        "8.19: _last_sync is update_last_sync_stats"
fake_curl GET / -u elastic:pw
is "$HTTP_STATUS" 200 "the full user works alongside"
stop_fake

# ---- 8.12: cluster actions, which only manage and all granted ----

start_fake --seed "$seed" --version 8.12.2 --api-key-read-only "$reader"
fake_curl GET /_connector/team-a-hr "${as_reader[@]}"
is "$HTTP_STATUS" 200 "8.12: the read-only key reads a connector"
fake_curl DELETE /_connector/orphan-1 "${as_reader[@]}"
is "$(error_of)" \
        "403 security_exception: action [cluster:admin/xpack/connector/delete] is unauthorized for $api_key_subject, this action is granted by the cluster privileges [manage,all]" \
        "8.12: no manage_connector yet"
fake_curl GET /_connector "${as_full[@]}"
is "$HTTP_STATUS" 401 "with only a read-only key given, any other key is refused"
stop_fake

# ---- Bad options ----

timeout 10 "$FAKE_CLUSTER" --api-key-read-only 'not base64!' --port 0 2>"$TEST_TMP/err"
is "$? $(cat "$TEST_TMP/err")" "1 fake-cluster: --api-key-read-only wants base64 of id:secret" \
        "a read-only key that is not base64 of id:secret"
timeout 10 "$FAKE_CLUSTER" --basic-read-only viewer --port 0 2>"$TEST_TMP/err"
is "$? $(cat "$TEST_TMP/err")" "1 fake-cluster: --basic-read-only wants USER:PASS" "a read-only user without a password"

tap_done
