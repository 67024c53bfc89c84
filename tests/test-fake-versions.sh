#!/bin/bash
# What each Elasticsearch version accepts: 8.13.4 (no delete parameters), 8.19.0
# (delete_sync_jobs, no hard), 9.1.3 (soft delete, hard, include_deleted); and any X.Y.Z. In
# every version: seeded connectors completed as Elasticsearch stores them, DELETEs acknowledged.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

seed="$top_srcdir/tests/data/fake/connectors.json"
jobs_of() {  # jobs_of CONNECTOR: how many sync jobs the cluster lists for it
        fake_curl GET "/_connector/_sync_job?connector_id=$1"
        jq -r .count "$HTTP_BODY"
}

# ---- 8.13.4 ----
start_fake --seed "$seed" --version 8.13.4
fake_curl GET /
is "$(jq -r .version.number "$HTTP_BODY")" 8.13.4 "8.13.4: GET / says 8.13.4"
fake_curl DELETE "/_connector/orphan-1?delete_sync_jobs=true"
is "$HTTP_STATUS" 400 "8.13.4: delete_sync_jobs is a 400"
is "$(jq -r '[.error.type, .error.reason] | join(" ")' "$HTTP_BODY")" \
        "illegal_argument_exception request [/_connector/orphan-1] contains unrecognized parameter: [delete_sync_jobs]" \
        "8.13.4: named as an unrecognized parameter"
fake_curl DELETE "/_connector/orphan-1?hard=true"
is "$(jq -r .error.reason "$HTTP_BODY")" "request [/_connector/orphan-1] contains unrecognized parameter: [hard]" \
        "8.13.4: hard is unrecognized too"
fake_curl GET "/_connector?include_deleted=true"
is "$HTTP_STATUS" 400 "8.13.4: include_deleted is a 400"
fake_curl DELETE /_connector/orphan-1
is "$(jq -c . "$HTTP_BODY")" '{"acknowledged":true}' "8.13.4: a plain DELETE is acknowledged"
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 404 "8.13.4: the connector is gone"
is "$(jobs_of orphan-1)" 2 "8.13.4: its sync jobs stay"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS" 404 "8.13.4: deleting it again is a 404"
fake_curl DELETE /_connector/_sync_job/job-1
is "$HTTP_STATUS" 200 "8.13.4: sync jobs are deleted one by one"
fake_curl PUT /_connector -H 'Content-Type: application/json' --data-binary '{"name":"x"}'
is "$HTTP_STATUS" 405 "8.13.4: PUT _connector without an id does not exist yet"
fake_curl PUT /_connector/new-one
is "$(jq -r '[.status, .error.type, .error.reason] | join(" ")' "$HTTP_BODY")" \
        "400 parse_exception request body is required" "8.13.4: PUT needs a body"
fake_curl GET /
is "$(jq -r .version.minimum_wire_compatibility_version "$HTTP_BODY")" 7.17.0 "8.x: wire compatible with 7.17"
stop_fake

# ---- 8.19.0 ----
start_fake --seed "$seed" --version 8.19.0
fake_curl DELETE "/_connector/orphan-1?hard=true"
is "$HTTP_STATUS" 400 "8.19.0: hard is a 400"
is "$(jq -r .error.reason "$HTTP_BODY")" "request [/_connector/orphan-1] contains unrecognized parameter: [hard]" \
        "8.19.0: named as an unrecognized parameter"
fake_curl DELETE "/_connector/orphan-1?delete_sync_jobs=yes"
is "$(jq -r .error.reason "$HTTP_BODY")" "Failed to parse value [yes] as only [true] or [false] are allowed." \
        "8.19.0: delete_sync_jobs must be a boolean"
is "$(jobs_of orphan-1)" 2 "8.19.0: orphan-1 has two sync jobs"
fake_curl DELETE "/_connector/orphan-1?delete_sync_jobs=true"
is "$HTTP_STATUS" 200 "8.19.0: DELETE with delete_sync_jobs=true"
is "$(jobs_of orphan-1)" 0 "8.19.0: deletes the connector's sync jobs"
is "$(jobs_of team-a-hr)" 1 "8.19.0: and no other connector's"
fake_curl DELETE "/_connector/team-a-hr?delete_sync_jobs=false"
is "$(jobs_of team-a-hr)" 1 "8.19.0: delete_sync_jobs=false keeps them"
fake_curl GET /_connector/team-a-hr
is "$HTTP_STATUS" 404 "8.19.0: every DELETE removes the document"
fake_curl GET "/_connector/team-a-wiki?include_deleted=true"
is "$HTTP_STATUS" 400 "8.19.0: include_deleted is a 400"
fake_curl PUT /_connector -H 'Content-Type: application/json' --data-binary '{"name":"gen"}'
is "$HTTP_STATUS" 201 "8.19.0: PUT _connector creates with a generated id"
is "$(jq -r '.id | length' "$HTTP_BODY")" 20 "8.19.0: the id looks like Elasticsearch's (20 characters)"
stop_fake

# ---- 9.1.3 ----
start_fake --seed "$seed" --version 9.1.3
fake_curl DELETE "/_connector/orphan-1?delete_sync_jobs=true"
is "$HTTP_STATUS" 200 "9.1.3: a plain DELETE is acknowledged"
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 404 "9.1.3: a soft-deleted connector is not found"
fake_curl GET "/_connector/orphan-1?include_deleted=true"
is "$(jq -r '[.id, .deleted] | join(" ")' "$HTTP_BODY")" "orphan-1 true" "9.1.3: include_deleted shows it, deleted: true"
is "$(jobs_of orphan-1)" 0 "9.1.3: delete_sync_jobs applies to a soft delete"
fake_curl GET "/_connector?size=100"
is "$(jq -r '[.count, (.results | map(.id) | index("orphan-1"))] | map(tostring) | join(" ")' "$HTTP_BODY")" \
        "3 null" "9.1.3: the list hides it"
fake_curl GET "/_connector?size=100&include_deleted=true"
is "$(jq -r '.count' "$HTTP_BODY")" 4 "9.1.3: the list shows it with include_deleted"
fake_curl DELETE /_connector/orphan-1
is "$HTTP_STATUS" 404 "9.1.3: a second soft delete is a 404"
is "$(fake_control GET /_fake/state | jq -r '.connectors[] | select(.id == "orphan-1") | .deleted')" true \
        "9.1.3: the state dump shows the soft-deleted document"
fake_curl DELETE "/_connector/orphan-1?hard=true"
is "$HTTP_STATUS" 200 "9.1.3: hard=true removes a soft-deleted connector"
fake_curl GET "/_connector/orphan-1?include_deleted=true"
is "$HTTP_STATUS" 404 "9.1.3: it is gone for good"
fake_curl DELETE "/_connector/team-a-wiki?hard"
is "$HTTP_STATUS" 200 "9.1.3: an empty hard means true"
fake_curl GET "/_connector/team-a-wiki?include_deleted=true"
is "$HTTP_STATUS" 404 "9.1.3: so the document is removed"
fake_curl DELETE "/_connector/nope?hard=true"
is "$HTTP_STATUS" 404 "9.1.3: a hard delete of a missing connector is a 404"
fake_curl PUT /_connector/team-a-wiki -H 'Content-Type: application/json' --data-binary '{"index_name":"search-w"}'
is "$(jq -r '[.id, .result] | join(" ")' "$HTTP_BODY")" "team-a-wiki created" "9.1.3: PUT creates"
fake_curl GET /_connector/team-a-wiki
is "$(jq -r '[.deleted, .status, .name, .index_name] | join(" ")' "$HTTP_BODY")" "false created  search-w" \
        "9.1.3: a new connector has Elasticsearch's defaults"
fake_curl GET /
is "$(jq -r .version.minimum_wire_compatibility_version "$HTTP_BODY")" 8.19.0 "9.x: wire compatible with 8.19"
stop_fake

# Any X.Y.Z: behaviour follows the version number.
start_fake --seed "$seed" --version 8.14.0
fake_curl DELETE "/_connector/orphan-1?delete_sync_jobs=true"
is "$HTTP_STATUS" 200 "8.14.0: delete_sync_jobs is known"
fake_curl GET /_connector/orphan-1
is "$HTTP_STATUS" 404 "8.14.0: DELETE removes the document"
stop_fake

# Every version: seeding (--seed, POST /_fake/connectors) completes a connector with the members
# Elasticsearch always stores (Connector.toXContent: is_native, status, sync_now; 9.x deleted),
# keeping those given; DELETE _connector/ID and DELETE _connector/_sync_job/ID answer
# {"acknowledged":true} (an AcknowledgedResponse), a soft delete, a hard one and
# delete_sync_jobs too.
printf '%s' '{"connectors":[{"id":"bare","name":"Bare"},{"id":"native","is_native":true},
        {"id":"own","is_native":true,"status":"connected","sync_now":true,"deleted":false}],
        "sync_jobs":[{"id":"j1","connector":{"id":"own"}},{"id":"j2","connector":{"id":"own"}}]}' >"$TEST_TMP/bare.json"
for version in 8.13.4 8.14.0 8.15.0 8.19.0 9.0.0 9.1.3; do
        start_fake --seed "$TEST_TMP/bare.json" --version "$version"
        case $version in 9.*) deleted=',"deleted":false' ;; *) deleted= ;; esac
        fake_curl GET /_connector/bare
        is "$(cat "$HTTP_BODY")" "{\"id\":\"bare\",\"name\":\"Bare\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false$deleted}" \
                "$version: a seeded connector gets the members Elasticsearch always stores"
        fake_curl GET /_connector/native
        is "$(jq -r .status "$HTTP_BODY")" needs_configuration "$version: a seeded native connector starts in needs_configuration"
        fake_curl GET /_connector/own
        is "$(jq -c '[.is_native, .status, .sync_now, .deleted]' "$HTTP_BODY")" '[true,"connected",true,false]' \
                "$version: members the seed gives keep their values"
        fake_control POST /_fake/connectors '{"connectors":[{"id":"posted","index_name":"search-p"}]}' >/dev/null
        fake_curl GET /_connector/posted
        is "$(cat "$HTTP_BODY")" "{\"id\":\"posted\",\"index_name\":\"search-p\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false$deleted}" \
                "$version: POST /_fake/connectors completes them too"
        fake_curl DELETE /_connector/bare
        is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"acknowledged":true}' "$version: DELETE _connector/ID answers {\"acknowledged\":true}"
        case $version in
        9.*)
                fake_curl DELETE "/_connector/bare?hard=true"
                is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"acknowledged":true}' "$version: a hard DELETE of a soft-deleted one too"
                ;;
        esac
        case $version in
        8.13.*) ;;
        *)
                fake_curl DELETE "/_connector/posted?delete_sync_jobs=true"
                is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"acknowledged":true}' "$version: a DELETE with delete_sync_jobs too"
                ;;
        esac
        fake_curl DELETE /_connector/_sync_job/j1
        is "$HTTP_STATUS $(cat "$HTTP_BODY")" '200 {"acknowledged":true}' \
                "$version: DELETE _connector/_sync_job/ID answers {\"acknowledged\":true}"
        stop_fake
done

tap_done
