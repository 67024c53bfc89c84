#!/bin/bash
# A manifests folder shared with other tools: kustomization.yaml and documents whose apiVersion
# is not connector-reconciler/... are skipped (validate lists them, a cycle notes them at debug
# level) and the sets beside them work as usual; our apiVersion with another kind stays an error.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

write_seed "$TEST_TMP/seed.json" "team-keep i-keep jira" "team-old i-old jira"
write_set "$M/team.yaml" team team- team-keep
printf 'resources:\n  - team.yaml\n  - web.yaml\n' >"$M/kustomization.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n' >"$M/web.yaml"
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"

reconcile -c "$CFG" validate
is "$RC" 0 "validate: another tool's files beside a set are valid"
is "$(grep -c ': skipped: ' "$OUT")" 3 "validate: lists the three things skipped"
grep -qx "$M/kustomization.yaml: skipped: a kustomization file" "$OUT"; ok $? "validate: kustomization.yaml, by its name"
grep -qx "$M/web.yaml:1:1: skipped: kind Deployment, apiVersion apps/v1 (not a connector-reconciler document)" "$OUT"
ok $? "validate: the Deployment, with its kind and apiVersion"
grep -qx "$M/web.yaml:8:1: skipped: kind ConfigMap, apiVersion v1 (not a connector-reconciler document)" "$OUT"
ok $? "validate: the ConfigMap of the same file"
grep -q "manifests: 3 files, 1 set, 1 connector declared: valid" "$OUT"; ok $? "validate: and the set is valid"

reconcile -c "$CFG" -v once
is "$RC" 0 "once: the cycle runs"
is "$(deleted_ids)" "team-old" "once: the set's orphan is deleted as usual"
grep -q "^$M/web.yaml:1:1: skipped: kind Deployment" "$ERR"; ok $? "once -v: the skipped documents are noted (debug)"
reconcile -c "$CFG" once
grep -q "skipped" "$ERR"; ok $((!$?)) "once: without -v, no note"

# Our apiVersion, another kind: an error, and nothing deleted.
printf 'apiVersion: connector-reconciler/v1\nkind: Connector\nmetadata:\n  name: typo\nspec: {}\n' >"$M/typo.yaml"
reconcile -c "$CFG" validate
is "$RC" 2 "validate: our apiVersion with another kind is an error"
grep -qx "$M/typo.yaml:2:7: unsupported kind 'Connector' (expected 'ConnectorSet')" "$OUT"; ok $? "validate: at the kind"
rm "$M/typo.yaml" "$M/team.yaml"

# Only other tools' files: the manifests path is wrong, an error.
reconcile -c "$CFG" once
is "$RC" 2 "once: a folder of other tools' files alone is invalid (exit 2)"
grep -q "no ConnectorSet in the manifests, only what is not ours (3 skipped" "$ERR"; ok $? "once: says why"

tap_done
