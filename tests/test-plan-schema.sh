#!/bin/bash
# The JSON Schema of `plan --format json` (schemas/plan.schema.json) against real plans from the
# fake cluster: every kind, blocked by each rule, an orphan within its grace, 8.x, a purge, the
# changes of sets that create and update, and
# the golden file of tests/data/plan/; and what it must refuse (the old key "set", another
# format_version, a missing key), so that a schema that accepts anything fails here.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v python3 >/dev/null || skip_all "python3 is needed"
python3 -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema is needed"

SCHEMA="$top_srcdir/schemas/plan.schema.json"
cat >"$TEST_TMP/check.py" <<'PY'
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
for path in sys.argv[2:]:
    with open(path) as f:
        lines = f.read().splitlines()
    if len(lines) != 1:
        print("reject %s: %d lines, not one" % (path, len(lines)))
        continue
    errors = sorted(validator.iter_errors(json.loads(lines[0])), key=lambda e: list(e.path))
    print("accept %s" % path if not errors else "reject %s: %s" % (path, errors[0].message))
PY
valid() {  # valid FILE DESCRIPTION: the schema accepts FILE
        _v=$(python3 "$TEST_TMP/check.py" "$SCHEMA" "$1" 2>&1)
        is "$_v" "accept $1" "$2"
}
invalid() {  # invalid FILE DESCRIPTION: the schema refuses FILE
        _v=$(python3 "$TEST_TMP/check.py" "$SCHEMA" "$1" 2>&1)
        case $_v in "reject $1: "*) ok 0 "$2" ;; *) ok 1 "$2"; diag "$_v" ;; esac
}
plan_to() {  # plan_to NAME [ARGS...]: plan --format json into $TEST_TMP/NAME.json; RC set
        _name=$1
        shift
        reconcile -c "$CFG" "$@" plan --format json
        cp "$OUT" "$TEST_TMP/$_name.json"
}

python3 -c 'import json, jsonschema, sys; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))' \
        "$SCHEMA"
ok $? "the schema is a valid JSON Schema (draft 2020-12)"
valid "$top_srcdir/tests/data/plan/scenario.json" "the golden plan (every kind, every rule) is valid"

write_seed "$TEST_TMP/seed.json" "team-a-keep idx-a-keep google_drive" "team-a-old idx-a-old google_drive" \
        "team-a-jira idx-a-jira jira" "legacy-1 idx-l-1 jira" "other idx-o confluence"
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_set "$M/team-a.yaml" team-a team-a- --delete-sync-jobs team-a-keep team-a-missing
cat >"$M/legacy.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: legacy
spec:
  selector:
    id_prefix: legacy-
  prune:
    enabled: false
  connectors: []
YAML
cat >"$M/jira.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: jira
spec:
  selector:
    service_types: [jira]
  prune:
    hard: true
    allow_empty: true
  connectors: []
YAML
write_config "$CFG" "safety:" "  max_deletions: unlimited"

plan_to plain
is "$RC" 0 "plain: plan exits 0"
is "$(jq -c '[(.delete | length), (.protected | length), (.missing | length), (.keep | length), (.unmanaged | length)]' \
        "$TEST_TMP/plain.json")" "[2,1,1,1,1]" "plain: every kind but waiting is there"
is "$(jq -c '.delete[] | select(.id == "team-a-jira") | .dropped' "$TEST_TMP/plain.json")" \
        '[{"flag":"prune.hard","sets":["team-a"]},{"flag":"prune.delete_sync_jobs","sets":["jira"]}]' \
        "plain: the flags one owning set drops are named, with the sets that drop them"
valid "$TEST_TMP/plain.json" "plain: valid"

write_config "$CFG" "safety:" "  max_deletions: 1"
write_set "$M/empty.yaml" empty other
plan_to blocked
is "$RC" 3 "blocked: plan exits 3"
is "$(jq -c '[.blocked_by[].rule]' "$TEST_TMP/blocked.json")" '["allow_empty","max_deletions"]' \
        "blocked: by allow_empty and max_deletions"
valid "$TEST_TMP/blocked.json" "blocked: valid"
rm "$M/empty.yaml"

write_config "$CFG" "safety:" "  max_deletions: unlimited" "  orphan_grace: 1h"
plan_to waiting
is "$(jq -c '[.waiting[].id]' "$TEST_TMP/waiting.json")" '["team-a-jira","team-a-old"]' \
        "grace: the orphans wait"
valid "$TEST_TMP/waiting.json" "grace: valid"

stop_fake
start_fake --seed "$TEST_TMP/seed.json" --version 8.15.0
write_config "$CFG" "safety:" "  max_deletions: unlimited"
plan_to v8
is "$(jq -c '[.delete[] | {id, permanent}]' "$TEST_TMP/v8.json")" \
        '[{"id":"team-a-jira","permanent":true},{"id":"team-a-old","permanent":true}]' \
        "8.x: every delete is for good"
valid "$TEST_TMP/v8.json" "8.x: valid"

# A purge: a soft delete by `once`, then the plan within purge_after and after it.
stop_fake
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_config "$CFG" "safety:" "  max_deletions: unlimited"
rm "$M/jira.yaml"
write_set "$M/team-a.yaml" team-a team-a- --purge-after 1s team-a-keep team-a-jira
reconcile -c "$CFG" once
is "$RC" 0 "purge: the soft delete exits 0"
plan_to soon
is "$(jq -c '[.protected[] | select(.id == "team-a-old") | (.purge_at != null)]' "$TEST_TMP/soon.json")" '[true]' \
        "purge: within purge_after, protected with purge_at"
valid "$TEST_TMP/soon.json" "purge, within purge_after: valid"
sleep 1.2
plan_to due
is "$(jq -c '[.delete[] | {id, purge, hard}]' "$TEST_TMP/due.json")" '[{"id":"team-a-old","purge":true,"hard":true}]' \
        "purge: once due, a hard delete"
valid "$TEST_TMP/due.json" "purge, due: valid"

# Creating and converging: the arrays of changes, a secret among the fields, and a create over a
# soft-deleted connector (9.x).
L="$top_srcdir/tests/data/lifecycle"
mkdir -p "$TEST_TMP/lc-m" "$TEST_TMP/lc-secrets"
printf 'pw\n' >"$TEST_TMP/lc-secrets/db-pass"
jq -s '{connectors: (.[0].connectors + .[1].connectors)}' "$L/converge-seed.json" "$L/tomb-seed.json" \
        >"$TEST_TMP/lc-seed.json"
cp "$L/converge.yaml" "$L/create-revive.yaml" "$TEST_TMP/lc-m/"
start_fake --seed "$TEST_TMP/lc-seed.json"
write_config "$CFG" "secrets_dir: $TEST_TMP/lc-secrets"
sed -i "s|^manifests: .*|manifests: $TEST_TMP/lc-m|" "$CFG"
plan_to lifecycle
is "$RC" 0 "lifecycle: plan exits 0"
is "$(jq -c '[(.create | length), (.update | length), .create[0].over_soft_deleted]' \
        "$TEST_TMP/lifecycle.json")" "[1,1,true]" "lifecycle: a create (over a tombstone) and an update"
valid "$TEST_TMP/lifecycle.json" "lifecycle: valid"
jq -c 'del(.update[0].fields[] .state)' "$TEST_TMP/lifecycle.json" >"$TEST_TMP/no-state.json"
invalid "$TEST_TMP/no-state.json" "refused: a changed field without its state"

# What the schema refuses: each is a real plan, changed in one place.
jq -c '.keep[0] += {set: "team-a"}' "$TEST_TMP/plain.json" >"$TEST_TMP/old-set.json"
invalid "$TEST_TMP/old-set.json" "refused: the old key 'set' beside 'sets'"
jq -c '.format_version = 2' "$TEST_TMP/plain.json" >"$TEST_TMP/v2.json"
invalid "$TEST_TMP/v2.json" "refused: another format_version"
jq -c 'del(.delete[0].reason)' "$TEST_TMP/plain.json" >"$TEST_TMP/no-reason.json"
invalid "$TEST_TMP/no-reason.json" "refused: an item without its reason"
jq -c '.delete[0].sets = "team-a"' "$TEST_TMP/plain.json" >"$TEST_TMP/sets-string.json"
invalid "$TEST_TMP/sets-string.json" "refused: sets as a string, not a list"
jq -c '.waiting[0].deletable_at = "tomorrow"' "$TEST_TMP/waiting.json" >"$TEST_TMP/bad-time.json"
invalid "$TEST_TMP/bad-time.json" "refused: a time not in RFC 3339"

tap_done
