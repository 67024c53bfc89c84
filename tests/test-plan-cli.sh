#!/bin/bash
# `plan` and `validate` from the command line: the semantics of connector-reconciler-manifest(5)
# against the fake cluster, asserted on `plan --format json`, the exit statuses, and that planning
# sends no write.
. "$top_srcdir/tests/lib.sh"

set_manifest() {  # set_manifest NAME YAML: (re)writes one manifest file
        printf '%s\n' "$2" >"$M/$1.yaml"
}
plan_json() {  # plan_json: runs plan --format json; RC and the compact JSON in $PLAN
        reconcile -c "$CFG" plan --format json
        PLAN=$(jq -c . "$OUT" 2>/dev/null)
}
header() {  # header NAME: the first lines of a ConnectorSet
        printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: %s\nspec:\n' "$1"
}

{
        echo '{"connectors":['
        connector a-1 idx-a-1 google_drive; echo ,
        connector a-2 idx-a-2 google_drive; echo ,
        connector a-3 idx-a-3 sharepoint_online; echo ,
        connector a-4 other-a-4 google_drive; echo ,
        connector b-1 idx-b-1 jira; echo ,
        connector b-2 idx-b-2 jira; echo ,
        connector z-1 idx-z-1 confluence; echo ,
        printf '{"id":"a-gone","index_name":"idx-a-gone","service_type":"google_drive","deleted":true}'
        echo ']}'
} >"$TEST_TMP/seed.json"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG" "safety:" "  max_deletions: unlimited"

# Selector keys: every key must match; a list matches any of its items.
set_manifest a "$(header team-a)
  selector:
    id_prefix: [a-, x-]
    service_types: [google_drive, sharepoint_online]
    index_name_prefix: idx-
  connectors:
    - id: a-1
    - id: a-missing"
plan_json
is "$RC" 0 "plan exits 0"
is "$(echo "$PLAN" | jq -c '.delete | map({id, delete_sync_jobs, hard, purge, sets})')" \
        '[{"id":"a-2","delete_sync_jobs":false,"hard":false,"purge":false,"sets":["team-a"]},{"id":"a-3","delete_sync_jobs":false,"hard":false,"purge":false,"sets":["team-a"]}]' \
        "selector: every key must match (a-4's index name does not), a list matches any item"
is "$(echo "$PLAN" | jq -c '.keep | map({id, sets})')" '[{"id":"a-1","sets":["team-a"]}]' "declared: kept, with its set"
is "$(echo "$PLAN" | jq -c '.missing | map({id, sets, name})')" '[{"id":"a-missing","sets":["team-a"],"name":null}]' \
        "declared but absent: missing, with no listed fields"
is "$(echo "$PLAN" | jq -c '.delete[0] | {name, service_type, index_name, reason, permanent}')" \
        '{"name":"a-2","service_type":"google_drive","index_name":"idx-a-2","reason":"orphan of set team-a; soft delete (deleted: true; prune.hard deletes for good), sync jobs kept","permanent":false}' \
        "a delete carries the listed connector's fields, the reason, and whether it is for good"
is "$(echo "$PLAN" | jq -c '.delete[0].locations')" "[{\"set\":\"team-a\",\"file\":\"$M/a.yaml\",\"line\":4}]" \
        "a delete says where its set is declared: the file and the line of metadata.name"
is "$(echo "$PLAN" | jq -c '[.[] | arrays | .[] | objects | keys_unsorted] | unique')" \
        '[["id","name","service_type","index_name","sets","locations","reason","delete_sync_jobs","hard","permanent","purge","dropped","purge_at","orphan_since","deletable_at"]]' \
        "every item of every kind has the same keys, in the same order"
is "$(echo "$PLAN" | jq -c '[.unmanaged[].id]')" '["a-4","b-1","b-2","z-1"]' "owned by no set: unmanaged"
is "$(echo "$PLAN" | jq -c '.protected')" '[]' "nothing protected"
is "$(echo "$PLAN" | jq -c '.blocked')" 'null' "not blocked"
is "$(echo "$PLAN" | jq -c 'keys_unsorted')" \
        '["format_version","cluster","manifests","revision","blocked","blocked_by","delete","waiting","protected","missing","keep","unmanaged"]' \
        "the JSON object has its keys in order"
is "$(echo "$PLAN" | jq -c '[.cluster.url, .cluster.name, .cluster.version, (.cluster.uuid | length > 0),
                             (.manifests.digest | test("^sha256:[0-9a-f]{64}$"))]')" \
        "[\"$FAKE_URL\",\"fake-cluster\",\"9.1.3\",true,true]" "the plan names the cluster and the manifests' digest"
is "$(fake_requests 'select(.method != "GET")' | wc -l)" 0 "plan sends nothing but GETs"
is "$(fake_requests 'select(.path == "/_connector") | .query.include_deleted' | sort -u)" "null" \
        "the listing does not ask for soft-deleted connectors"

# Overlapping sets: the conservative flags; prune disabled in one owner protects.
set_manifest a "$(header team-a)
  selector:
    id_prefix: a-
    index_name_prefix: idx-
  prune:
    delete_sync_jobs: true
    hard: true
  connectors:
    - id: a-1"
set_manifest drives "$(header drives)
  selector:
    service_types: google_drive
  prune:
    delete_sync_jobs: true
    allow_empty: true
  connectors: []"
set_manifest sp "$(header sharepoint)
  selector:
    service_types: [sharepoint_online]
  prune:
    enabled: false
  connectors: []"
plan_json
is "$(echo "$PLAN" | jq -c '.delete | map({id, delete_sync_jobs, hard, purge, sets})')" \
        '[{"id":"a-2","delete_sync_jobs":true,"hard":false,"purge":false,"sets":["drives","team-a"]},{"id":"a-4","delete_sync_jobs":true,"hard":false,"purge":false,"sets":["drives"]}]' \
        "overlap: delete_sync_jobs when every owner says so, hard only when every owner does"
is "$(echo "$PLAN" | jq -c '[.protected[] | .id]')" '["a-3"]' "prune disabled in one of two owning sets: protected"
echo "$PLAN" | jq -e '.protected[0].reason | test("sharepoint")' >/dev/null; ok $? "the reason names the set"
is "$(echo "$PLAN" | jq -c '.keep | map({id, sets})')" '[{"id":"a-1","sets":["team-a"]}]' \
        "declared in one set, owned by another with prune: still kept"
rm "$M/drives.yaml" "$M/sp.yaml"

# allow_empty and max_deletions block: exit 3, the deletes still shown.
set_manifest a "$(header team-a)
  selector:
    id_prefix: a-
  connectors: []"
plan_json
is "$RC" 3 "a set that declares nothing and owns connectors blocks: exit 3"
echo "$PLAN" | jq -e '.blocked | test("team-a.*declares no connectors")' >/dev/null; ok $? "blocked says why"
is "$(echo "$PLAN" | jq '.delete | length')" 4 "the blocked plan still lists what it would delete"
set_manifest a "$(header team-a)
  selector:
    id_prefix: a-
  prune:
    allow_empty: true
  connectors: []"
plan_json
is "$RC" 0 "allow_empty: true unblocks"

set_manifest a "$(header team-a)
  selector:
    id_prefix: a-
  connectors:
    - id: a-1"
for limit in 2 3 4; do
        write_config "$CFG" "safety:" "  max_deletions: $limit"
        plan_json
        want=0; [ "$limit" -lt 3 ] && want=3
        is "$RC" "$want" "3 deletions with max_deletions $limit: exit $want"
done
echo "$PLAN" | jq -e '.blocked == null' >/dev/null; ok $? "at the limit: not blocked"
write_config "$CFG" "safety:" "  max_deletions: 2"
plan_json
echo "$PLAN" | jq -e '.blocked | test("max_deletions")' >/dev/null; ok $? "above the limit: blocked by max_deletions"
is "$(echo "$PLAN" | jq -c '[.blocked_by[] | {rule, set}]')" '[{"rule":"max_deletions","set":null}]' \
        "blocked_by: the rule, one entry per reason"
echo "$PLAN" | jq -e '.blocked_by[0].fix | test("--max-deletions 3 once")' >/dev/null; ok $? "blocked_by: and its fix"
reconcile -c "$CFG" plan
is "$RC" 3 "blocked, text: exit 3"
is "$(sed -n '4,6p' "$OUT")" "BLOCKED: this cycle deletes nothing, for 1 reason:
  1. the plan deletes 3 connectors, more than safety.max_deletions (2)
     fix: check the deletions below; if they are meant, pass --max-deletions 3 once, or raise safety.max_deletions" \
        "blocked, text: BLOCKED with the reason and its fix, before the items"

# The text format: a line per connector and a summary.
write_config "$CFG" "safety:" "  max_deletions: unlimited"
reconcile -c "$CFG" plan
is "$RC" 0 "plan --format text exits 0"
grep -q '^  - delete    a-2' "$OUT"; ok $? "text: a line per deletion"
is "$(tail -n 1 "$OUT")" "Plan: 3 to delete, 0 waiting, 0 protected, 0 missing, 1 to keep, 3 unmanaged." "text: the summary line"
grep -qxF "  - delete    a-2  name='a-2' service_type=google_drive index_name=idx-a-2  set team-a ($M/a.yaml:4): orphan of set team-a; soft delete (deleted: true; prune.hard deletes for good), sync jobs kept" "$OUT"
ok $? "text: a deletion names the connector, its set with file:line, and why"
is "$(head -n 2 "$OUT" | sed -e "s|$FAKE_URL|URL|" -e 's/sha256:[0-9a-f]*/sha256:HEX/' -e 's/cluster_uuid [^,]*/cluster_uuid UUID/')" \
        "Cluster 'fake-cluster' (cluster_uuid UUID, Elasticsearch 9.1.3) at URL
Manifests sha256:HEX" "text: the cluster and the manifests' revision first"
is "$(grep -c $'\033' "$OUT")" 0 "text into a file: no colours"

# Only the plan on stdout: the log (debug included) goes to stderr.
reconcile -c "$CFG" --verbose plan
is "$(grep -cvE '^(Cluster |Manifests |$|  [-*!?=.] [a-z]+ |Plan: |BLOCKED:|  [0-9]+\. |     fix: )' "$OUT")" 0 \
        "stdout holds the plan's lines only"
test -s "$ERR"; ok $? "the log lines went to stderr"

# Colours at a terminal only (script(1) gives the command one), and never with NO_COLOR.
if command -v script >/dev/null; then
        tty_plan() {  # tty_plan [ENV...]: plan at a pseudo-terminal, stdout in $TEST_TMP/tty.out
                env "$@" script -qec "$RECONCILER -c $CFG --log-target console plan 2>/dev/null" /dev/null \
                        >"$TEST_TMP/tty.out" </dev/null
        }
        tty_plan
        grep -qF $'\033[31m- delete   \033[0m a-2' "$TEST_TMP/tty.out"; ok $? "at a terminal: the marks in colour"
        tty_plan NO_COLOR=1
        is "$(grep -c $'\033' "$TEST_TMP/tty.out")" 0 "at a terminal with NO_COLOR=1: no colours"
        grep -q '^  - delete    a-2' "$TEST_TMP/tty.out"; ok $? "at a terminal with NO_COLOR=1: the same lines"
        tty_plan NO_COLOR=
        grep -qF $'\033[31m' "$TEST_TMP/tty.out"; ok $? "an empty NO_COLOR does not count (no-color.org)"
else
        for _ in 1 2 3 4; do ok 0 "# SKIP script(1) is not installed"; done
fi

# --detailed-exitcode: 4 when the plan deletes something, 0 when it changes nothing, and the
# other statuses as they are (a blocked plan 3).
reconcile -c "$CFG" plan --detailed-exitcode
is "$RC" 4 "--detailed-exitcode: deletions pending, exit 4"
grep -q '^  - delete    a-2' "$OUT"; ok $? "--detailed-exitcode: and the plan is printed as usual"
write_config "$CFG" "safety:" "  max_deletions: 1"
reconcile -c "$CFG" plan --detailed-exitcode
is "$RC" 3 "--detailed-exitcode: a blocked plan exits 3"
write_config "$CFG" "safety:" "  max_deletions: unlimited"
set_manifest nothing "$(header everything)
  prune:
    enabled: false
  connectors: []"
mv "$M" "$M.full"; mkdir "$M"; cp "$M.full/nothing.yaml" "$M/"
reconcile -c "$CFG" plan --detailed-exitcode
is "$RC" 0 "--detailed-exitcode: nothing to delete, exit 0"
rm -rf "$M"; mv "$M.full" "$M"; rm "$M/nothing.yaml"

# --manifests overrides the config; plan on a broken manifest: exit 2, no request.
n=$(fake_requests | wc -l)
echo "kind: [" >"$TEST_TMP/broken.yaml"
reconcile -c "$CFG" --manifests "$TEST_TMP/broken.yaml" plan
is "$RC" 2 "--manifests overrides the config: a broken manifest gives exit 2"
is "$(fake_requests | wc -l)" "$n" "and no request"
reconcile -c "$CFG" plan --format yaml
is "$RC" 2 "an unknown --format: exit 2"

# An unreachable cluster: exit 1.
stop_fake
reconcile -c "$CFG" plan
is "$RC" 1 "an unreachable cluster: exit 1"
grep -q "Failed to list the connectors" "$ERR"; ok $? "and says so"

# validate: offline, every error, exit 0 or 2.
reconcile -c "$CFG" validate
is "$RC" 0 "validate: a good config and manifests exit 0"
grep -q "valid" "$OUT"; ok $? "validate says so on stdout"
printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: Bad_Name\nspec:\n  prune:\n    delete_sync_job: true\n' >"$M/bad.yaml"
echo "intervall: 5m" >>"$CFG"
reconcile -c "$CFG" --manifests "$M" validate
is "$RC" 2 "validate: errors exit 2"
grep -q "^$CFG:[0-9]*:1: unknown key 'intervall'" "$OUT"; ok $? "a config error as FILE:LINE:COLUMN"
grep -q "^$M/bad.yaml:7:5: unknown key 'spec.prune.delete_sync_job' (did you mean 'delete_sync_jobs'?)" "$OUT"
ok $? "a manifest error as FILE:LINE:COLUMN, with a suggestion"
grep -q "^$M/bad.yaml:4:9: " "$OUT"; ok $? "every error, not only the first"
rm "$M/bad.yaml"
reconcile --manifests "$M" validate
is "$RC" 0 "validate --manifests without a config checks the manifests alone"
reconcile -c "$TEST_TMP/none.yaml" validate
is "$RC" 2 "validate with a missing config file: exit 2"

tap_done
