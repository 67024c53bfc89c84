#!/bin/bash
# `restore` against the fake cluster: a connector deleted by `once` comes back from its backup,
# with its settings, through the create and the update endpoints its version has; what is refused
# (the connector exists, the manifests would delete it again, a backup of another connector or of
# a newer format) sends nothing; --dry-run sends no write; a failing step stops the restore and
# says what was done; a bare backup of the old format restores too. Asserts on the fake's request
# log and on the connector the fake holds afterwards.
. "$top_srcdir/tests/lib.sh"

# A connector with every aspect set, as Elasticsearch 8.15+ returns it.
rich() {  # rich ID INDEX_NAME
        jq -nc --arg id "$1" --arg index "$2" '{
                id: $id, name: ("Connector " + $id), description: "restored from a backup",
                index_name: $index, service_type: "mysql", is_native: false, language: "en",
                api_key_id: "key-1", api_key_secret_id: "secret-1",
                configuration: {
                        host: {label: "Host", type: "str", value: "db.example.net", sensitive: false,
                               order: 1, required: true, display: "textbox", options: [], depends_on: [],
                               default_value: null, tooltip: null, ui_restrictions: [], validations: []},
                        password: {label: "Password", type: "str", value: "hunter2", sensitive: true,
                                   order: 2, required: true, display: "textbox", options: [], depends_on: [],
                                   default_value: null, tooltip: null, ui_restrictions: [], validations: []}
                },
                custom_scheduling: {},
                features: {document_level_security: {enabled: false}, incremental_sync: {enabled: true},
                           sync_rules: {advanced: {enabled: false}, basic: {enabled: true}}},
                filtering: [{domain: "DEFAULT",
                             active: {advanced_snippet: {created_at: "2026-01-01T00:00:00.000Z",
                                                         updated_at: "2026-01-01T00:00:00.000Z", value: {}},
                                      rules: [{created_at: "2026-01-01T00:00:00.000Z", field: "title",
                                               id: "r1", order: 0, policy: "exclude", rule: "contains",
                                               updated_at: "2026-01-01T00:00:00.000Z", value: "draft"},
                                              {created_at: "2026-01-01T00:00:00.000Z", field: "_",
                                               id: "DEFAULT", order: 1, policy: "include", rule: "regex",
                                               updated_at: "2026-01-01T00:00:00.000Z", value: ".*"}],
                                      validation: {errors: [], state: "valid"}},
                             draft: {advanced_snippet: {created_at: "2026-01-01T00:00:00.000Z",
                                                        updated_at: "2026-01-01T00:00:00.000Z", value: {}},
                                     rules: [{created_at: "2026-01-01T00:00:00.000Z", field: "_",
                                              id: "DEFAULT", order: 0, policy: "include", rule: "regex",
                                              updated_at: "2026-01-01T00:00:00.000Z", value: ".*"}],
                                     validation: {errors: [], state: "valid"}}}],
                pipeline: {name: "search-default-ingestion", extract_binary_content: true,
                           reduce_whitespace: true, run_ml_inference: false},
                scheduling: {access_control: {enabled: false, interval: "0 0 0 * * ?"},
                             full: {enabled: true, interval: "0 0 3 * * ?"},
                             incremental: {enabled: true, interval: "0 */30 * * * ?"}},
                status: "connected", error: null, last_seen: "2026-12-01T00:00:00.000Z",
                last_sync_status: "completed", sync_cursor: {"position": 42}, sync_now: false}'
}

# The fields restore sets, as compact JSON, of a document on stdin (absent fields as null).
restorable='{name, description, index_name, service_type, is_native, language, api_key_id,
             api_key_secret_id, configuration, scheduling, pipeline, filtering, features}'
# JSON on stdin with its keys sorted and null members dropped, at every depth: Elasticsearch
# orders a configuration entry's keys its own way and leaves out those that are null.
normalized() {
        jq -cS 'walk(if type == "object" then with_entries(select(.value != null)) else . end)'
}

seed() {  # seed FILE
        {
                echo '{"connectors":['
                rich team-a-old search-a-old; echo ,
                rich team-a-keep search-a-keep
                echo ']}'
        } >"$1"
}
seed "$TEST_TMP/seed.json"
wanted=$(jq -c ".connectors[] | select(.id == \"team-a-old\") | $restorable" "$TEST_TMP/seed.json" | normalized)

write_set "$M/team-a.yaml" team-a team-a- team-a-keep

puts() {  # the PUT requests the fake saw, as "PATH" lines
        fake_requests 'select(.method == "PUT") | .path' | jq -r .
}

for v in 9.1.3 8.15.2 8.13.4; do
        rm -rf "$B" "$TEST_TMP/state"
        write_set "$M/team-a.yaml" team-a team-a- team-a-keep
        start_fake --seed "$TEST_TMP/seed.json" --version "$v"
        [ "$v" != 9.1.3 ] || fake_allow_overwrite team-a-old "restore creates over the soft-deleted connector"
        write_config "$CFG"
        reconcile -c "$CFG" once
        is "$RC" 0 "$v: once deletes the orphan"
        is "$(deleted_ids)" team-a-old "$v: team-a-old is deleted, with a backup"
        backup=$(ls "$B"/team-a-old.*.json 2>/dev/null)
        [ -n "$backup" ]; ok $? "$v: its backup exists"

        # --- The manifests would delete it again: refused before anything is sent. ---
        : >"$FAKE_LOG"
        reconcile -c "$CFG" restore team-a-old
        is "$RC" 3 "$v: restoring an orphan of the manifests is refused (exit 3)"
        grep -q "would be deleted again by the next cycle: set team-a owns it" "$ERR"; ok $? \
                "$v: and says which set owns it"
        is "$(fake_requests . | wc -l)" 0 "$v: nothing reached the cluster"

        # --- Declared now: --dry-run reads, prints the requests, writes nothing. ---
        write_set "$M/team-a.yaml" team-a team-a- team-a-keep team-a-old
        reconcile -c "$CFG" --dry-run restore team-a-old
        is "$RC" 0 "$v: --dry-run exits 0"
        is "$(puts | wc -l)" 0 "$v: --dry-run sends no PUT"
        grep -q "^  PUT /_connector/team-a-old {" "$OUT"; ok $? "$v: --dry-run prints the create"
        grep -q "^  PUT /_connector/team-a-old/_configuration {" "$OUT"; ok $? "$v: and the configuration"
        grep -q '"value":"(sensitive)"' "$OUT" && ! grep -q hunter2 "$OUT"; ok $? \
                "$v: a sensitive value is not printed"

        # --- The restore. ---
        : >"$FAKE_LOG"
        reconcile -c "$CFG" restore team-a-old
        is "$RC" 0 "$v: restore exits 0"
        case $v in
        9.1.3 | 8.15.2)
                want_puts="/_connector/team-a-old /_connector/team-a-old/_api_key_id /_connector/team-a-old/_configuration /_connector/team-a-old/_scheduling /_connector/team-a-old/_pipeline /_connector/team-a-old/_filtering /_connector/team-a-old/_features "
                ;;
        8.13.4)
                want_puts="/_connector/team-a-old /_connector/team-a-old/_api_key_id /_connector/team-a-old/_configuration /_connector/team-a-old/_scheduling /_connector/team-a-old/_pipeline /_connector/team-a-old/_filtering "
                ;;
        esac
        is "$(puts | tr '\n' ' ')" "$want_puts" "$v: the create, then one update endpoint per setting, in order"
        is "$(fake_requests 'select(.method == "GET" and .connector_id == "team-a-old") | .status' | tr '\n' ' ')" \
                "404 200 " "$v: a GET first finds no connector, a GET last reads it back"
        if [ "$v" = 9.1.3 ]; then
                is "$(fake_requests 'select(.path == "/_connector/team-a-old" and .method == "PUT") | .status')" 200 \
                        "$v: the create overwrote the soft-deleted connector (200 updated)"
        else
                is "$(fake_requests 'select(.path == "/_connector/team-a-old" and .method == "PUT") | .status')" 201 \
                        "$v: the create made a new connector"
        fi
        got=$(fake_control GET /_connector/team-a-old | jq -c "$restorable" | normalized)
        if [ "$v" = 8.13.4 ]; then
                is "$got" "$(echo "$wanted" | jq -c 'del(.features)' | normalized)" \
                        "$v: every field but the features reads as backed up"
                grep -q "features .*not restorable: no _features endpoint before Elasticsearch 8.15" "$OUT"; ok $? \
                        "$v: the report says why the features are not restored"
        else
                is "$got" "$wanted" "$v: every restorable field reads as backed up"
        fi
        grep -q "^Connector 'team-a-old' restored.$" "$OUT"; ok $? "$v: the report says so"
        ! grep -q "custom_scheduling" "$OUT"; ok $? "$v: an empty custom_scheduling is not reported as lost"
        is "$(fake_control GET /_connector/team-a-old | jq -r .status)" configured \
                "$v: the status is the server's (configured by the configuration), not the backup's"

        # --- It exists now: a second restore is refused, nothing is written. ---
        : >"$FAKE_LOG"
        reconcile -c "$CFG" restore team-a-old
        is "$RC" 1 "$v: restoring a connector that exists is refused (exit 1)"
        grep -q "Connector 'team-a-old' exists: restore creates a connector, it never overwrites one" "$OUT"; ok $? \
                "$v: and says so"
        is "$(puts | wc -l)" 0 "$v: no PUT was sent"
        stop_fake
done

# --- Under another id: the index is taken, Elasticsearch's own error is quoted. ---
start_fake --seed "$TEST_TMP/seed.json"
rm -rf "$B" "$TEST_TMP/state"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep
write_config "$CFG"
reconcile -c "$CFG" once
backup=$(ls "$B"/team-a-old.*.json)
write_set "$M/team-a.yaml" team-a team-a- team-a-keep team-a-old team-a-copy
reconcile -c "$CFG" restore team-a-old
is "$RC" 0 "the orphan is restored"
: >"$FAKE_LOG"
reconcile -c "$CFG" restore team-a-old --as team-a-copy
is "$RC" 1 "a copy under another id with the same index fails (exit 1)"
grep -q "Index name \[search-a-old\] is used by another connector" "$OUT"; ok $? \
        "with Elasticsearch's own error"
grep -q "Nothing was changed in the cluster" "$OUT"; ok $? "and says nothing was changed"
is "$(puts | tr '\n' ' ')" "/_connector/team-a-copy " "only the create was sent"

# --- A step fails in the middle: what was done and what was not. ---
fake_control DELETE '/_connector/team-a-old?hard=true' >/dev/null
fake_control POST /_fake/faults '{"faults":[{"method":"PUT","path":"/_connector/team-a-old/_scheduling","status":400,"type":"illegal_argument_exception","reason":"scheduling refused for the test"}]}' >/dev/null
: >"$FAKE_LOG"
reconcile -c "$CFG" restore team-a-old
is "$RC" 1 "a refused step fails the restore (exit 1)"
grep -q "scheduling .*FAILED: .*scheduling refused for the test" "$OUT"; ok $? "the report names the step and the error"
grep -q "^  pipeline .*not sent" "$OUT" && grep -q "^  filtering .*not sent" "$OUT"; ok $? \
        "and the steps not sent"
grep -q "The connector exists now, restored in part" "$OUT"; ok $? "and that the connector exists in part"
is "$(puts | tr '\n' ' ')" \
        "/_connector/team-a-old /_connector/team-a-old/_api_key_id /_connector/team-a-old/_configuration /_connector/team-a-old/_scheduling " \
        "nothing after the failed step was sent"
grep -q "Restoring 'team-a-old' failed at its scheduling" "$ERR"; ok $? "the failure is logged"
fake_control DELETE /_fake/faults >/dev/null

# --- Backups restore refuses to read. ---
fake_control DELETE '/_connector/team-a-old?hard=true' >/dev/null
: >"$FAKE_LOG"
reconcile -c "$CFG" restore team-a-old --from "$B/does-not-exist.json"
is "$RC" 2 "--from a missing file: exit 2"
jq -c '.connector_id = "someone-else" | .document.id = "someone-else"' "$backup" >"$TEST_TMP/other.json"
reconcile -c "$CFG" restore team-a-old --from "$TEST_TMP/other.json"
is "$RC" 2 "--from a backup of another connector: exit 2"
grep -q "is a backup of connector 'someone-else', not of 'team-a-old'" "$ERR"; ok $? "and says whose it is"
jq -c '.format_version = 3' "$backup" >"$TEST_TMP/newer.json"
reconcile -c "$CFG" restore team-a-old --from "$TEST_TMP/newer.json"
is "$RC" 2 "a backup of a newer format: exit 2"
grep -q "format_version 3 is newer than this program reads" "$ERR"; ok $? "and says so"
head -c 200 "$backup" >"$TEST_TMP/cut.json"
reconcile -c "$CFG" restore team-a-old --from "$TEST_TMP/cut.json"
is "$RC" 2 "a backup cut short: exit 2"
reconcile -c "$CFG" restore nobody
is "$RC" 1 "no backup of the connector, nor a soft-deleted one: exit 1"
grep -q "No backup of connector 'nobody' in $B, and no soft-deleted connector of that id" "$ERR"; ok $? \
        "and says where it looked"
is "$(fake_requests 'select(.method == "PUT")' | wc -l)" 0 "none of these sent a PUT"

# --- A bare document, as backups were before format 2. ---
jq -c .document "$backup" >"$TEST_TMP/bare.json"
reconcile -c "$CFG" restore team-a-old --from "$TEST_TMP/bare.json"
is "$RC" 0 "a bare document restores"
is "$(fake_control GET /_connector/team-a-old | jq -c "$restorable" | normalized)" "$wanted" "with every field"

# --- --force: restored although the manifests would delete it again. ---
fake_control DELETE '/_connector/team-a-old?hard=true' >/dev/null
write_set "$M/team-a.yaml" team-a team-a- team-a-keep
reconcile -c "$CFG" restore team-a-old --force
is "$RC" 0 "--force restores a connector the manifests would delete"
grep -q -- "--force: not checking whether the manifests would delete 'team-a-old' again" "$ERR"; ok $? \
        "and warns"
stop_fake

# --- No backup: on 9.x the soft-deleted document in the cluster is the source. ---
start_fake --seed "$TEST_TMP/seed.json"
fake_allow_overwrite team-a-old "restore creates over the soft-deleted connector"
rm -rf "$B" "$TEST_TMP/state"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep
write_config "$CFG"
reconcile -c "$CFG" once
is "$(deleted_ids)" team-a-old "9.1: team-a-old is soft-deleted"
rm -f "$B"/team-a-old.*.json
: >"$FAKE_LOG"
reconcile -c "$CFG" restore team-a-old
is "$RC" 3 "without a backup the soft-deleted document is read, and the manifests still refuse"
is "$(fake_requests 'select(.method == "GET" and .connector_id == "team-a-old") | .query' | tr -d '\n')" \
        '{"include_deleted":"true"}' "it was read with include_deleted=true"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep team-a-old
: >"$FAKE_LOG"
reconcile -c "$CFG" restore team-a-old
is "$RC" 0 "declared, it is restored from its soft-deleted document"
grep -q "^Restoring connector 'team-a-old' from its soft-deleted document in the cluster$" "$OUT"; ok $? \
        "and says where from"
is "$(fake_control GET /_connector/team-a-old | jq -c "$restorable" | normalized)" "$wanted" "with every field"
is "$(fake_control GET /_connector/team-a-old | jq -c .deleted)" false "and no longer deleted"
fake_control DELETE '/_connector/team-a-old?hard=true' >/dev/null
reconcile -c "$CFG" restore team-a-old
is "$RC" 1 "hard-deleted without a backup: exit 1"
grep -q "No backup of connector 'team-a-old' in $B, and no soft-deleted connector of that id" "$ERR"; ok $? \
        "and says so"
stop_fake
start_fake --seed "$TEST_TMP/seed.json" --version 8.19.0
write_config "$CFG"
reconcile -c "$CFG" restore team-a-old
is "$RC" 1 "8.19 without a backup: exit 1"
grep -q "and Elasticsearch 8.19.0 keeps no soft-deleted connectors" "$ERR"; ok $? "and says why"
stop_fake

# --- With metrics.textfile: each restore is counted, and the next cycle's metrics show it. ---
rm -rf "$B" "$TEST_TMP/state"
mkdir -p "$TEST_TMP/prom"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
fake_allow_overwrite team-a-old "restore creates over the soft-deleted connector"
write_config "$CFG" "metrics:" "  textfile: $TEST_TMP/prom/cr.prom"
reconcile -c "$CFG" once
write_set "$M/team-a.yaml" team-a team-a- team-a-keep team-a-old
reconcile -c "$CFG" --dry-run restore team-a-old
reconcile -c "$CFG" restore team-a-old
is "$RC" 0 "metrics: the restore succeeds"
reconcile -c "$CFG" restore team-a-old
is "$RC" 1 "metrics: a second restore of the live connector is refused"
is "$(grep -E '^actions_total\.restore\.(ok|error) ' "$TEST_TMP/state/metrics.state" | tr '\n' ' ')" \
        "actions_total.restore.ok 1 actions_total.restore.error 1 " \
        "metrics: the counters hold one restore done and one failed (the dry run is not counted)"
reconcile -c "$CFG" once
grep -qx 'connector_reconciler_actions_total{action="restore",result="ok"} 1' "$TEST_TMP/prom/cr.prom"
ok $? "metrics: the next cycle's metrics file shows the restore"
stop_fake

tap_done
