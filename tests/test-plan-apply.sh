#!/bin/bash
# plan --out FILE and once --plan FILE: the reviewed plan is carried out exactly, or not at all.
# A saved plan is applied when the cluster (its cluster_uuid), the manifests (their digest) and
# the deletions with their flags are what they were; each kind of difference stops the cycle
# (exit 3, nothing deleted) and says what differs; a file that is no saved plan is a usage error
# (exit 2) before anything reaches the cluster. And --max-deletions for one run. Asserts on the
# fake's request log, the exit statuses and the messages.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"

P="$TEST_TMP/reviewed.plan.json"
seed() {
        write_seed "$TEST_TMP/seed.json" "team-a-keep search-a-keep google_drive" \
                "team-a-old1 search-a-old1 google_drive" "team-a-old2 search-a-old2 google_drive"
}
fresh() {  # a fake cluster as seeded, the manifests as written, no state
        stop_fake 2>/dev/null
        rm -rf "$TEST_TMP/state" "$B"
        write_set "$M/team-a.yaml" team-a team-a- team-a-keep
        start_fake --seed "$TEST_TMP/seed.json"
        write_config "$CFG"
}
deletes() { deleted_ids | tr '\n' ' '; }
seed

# ---- Saved, reviewed, applied ----
fresh
reconcile -c "$CFG" plan --out "$P"
is "$RC" 0 "plan --out exits 0"
grep -q '^  - delete    team-a-old1' "$OUT"; ok $? "plan --out prints the plan as usual"
is "$(jq -c '[.format, .format_version, .cluster.uuid, (.manifests.digest | startswith("sha256:")), .blocked, [.delete[].id]]' "$P")" \
        "[\"connector-reconciler-plan\",1,\"$(fake_control GET / | jq -r .cluster_uuid)\",true,null,[\"team-a-old1\",\"team-a-old2\"]]" \
        "the saved plan names the cluster, the manifests and the deletions"
grep -q "Saved the plan to '$P'" "$ERR"; ok $? "and says where it saved it"
is "$(fake_requests 'select(.method != "GET")' | wc -l)" 0 "plan --out sends no write"
reconcile -c "$CFG" once --plan "$P"
is "$RC" 0 "once --plan exits 0 when the live plan is the saved one"
is "$(deletes)" "team-a-old1 team-a-old2 " "once --plan deletes exactly what the plan lists"
grep -q "The live plan is the saved plan '$P': 2 to delete" "$ERR"; ok $? "and says it matched"

# ---- Each kind of difference: exit 3, nothing deleted, what differs said ----
mismatch() {  # mismatch DESCRIPTION MESSAGE: once --plan is refused, saying MESSAGE
        reconcile -c "$CFG" once --plan "$P"
        is "$RC" 3 "$1: once --plan exits 3"
        is "$(deletes)" "" "$1: nothing deleted"
        grep -qF "the saved plan '$P' is not what this cycle would do: " "$ERR" && grep -qF -- "$2" "$ERR"
        ok $? "$1: says '$2'"
}
fresh
reconcile -c "$CFG" plan --out "$P"
fake_control POST /_fake/connectors "{\"connectors\":[$(connector team-a-new search-a-new google_drive)]}" >/dev/null
mismatch "a new orphan" "'team-a-new' would be deleted now, and is not in the saved plan"

fresh
reconcile -c "$CFG" plan --out "$P"
fake_curl DELETE /_connector/team-a-old1
: >"$FAKE_LOG"
mismatch "an orphan gone" "'team-a-old1' is no longer to be deleted (not in the cluster now)"

fresh
reconcile -c "$CFG" plan --out "$P"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep team-a-old2
mismatch "the manifests changed" "the manifests changed since (sha256:"
grep -qF "'team-a-old2' is no longer to be deleted (keep now)" "$ERR"; ok $? "the manifests changed: and which deletion went"

fresh
reconcile -c "$CFG" plan --out "$P"
fake_control POST /_fake/cluster '{"cluster_uuid":"another-cluster-uuid"}' >/dev/null
mismatch "another cluster" "it was made for the cluster fake-cluster (cluster_uuid"

fresh
reconcile -c "$CFG" plan --out "$P"
write_set "$M/team-a.yaml" team-a team-a- --delete-sync-jobs team-a-keep
mismatch "other flags" "'team-a-old1' would be deleted with delete_sync_jobs true, hard false, the saved plan says delete_sync_jobs false, hard false"

fresh
write_config "$CFG" "safety:" "  max_deletions: 1"
reconcile -c "$CFG" plan --out "$P"
is "$RC" 3 "a blocked plan: plan --out exits 3, and saves it"
is "$(jq -r '.blocked | test("max_deletions")' "$P")" true "the saved plan says it was blocked"
write_config "$CFG"
mismatch "a blocked saved plan" "the saved plan was blocked ("

# ---- Not a saved plan: exit 2 before the cluster is asked anything ----
fresh
: >"$FAKE_LOG"
for bad in '{}' '{"format":"connector-reconciler-plan","format_version":2}' '[1]' '{"format":"x"' ; do
        printf '%s' "$bad" >"$TEST_TMP/bad.json"
        reconcile -c "$CFG" once --plan "$TEST_TMP/bad.json"
        is "$RC" 2 "not a saved plan ($bad): exit 2"
        grep -q "The saved plan '$TEST_TMP/bad.json' cannot be used: " "$ERR"; ok $? "not a saved plan ($bad): says why"
        case $bad in *'"format_version":2'*)
                grep -q "'format_version' is not 1: a plan saved by another version" "$ERR"
                ok $? "a plan of another format version is refused as such" ;;
        esac
done
reconcile -c "$CFG" once --plan "$TEST_TMP/none.json"
is "$RC" 2 "a missing plan file: exit 2"
is "$(fake_requests . | wc -l)" 0 "no request reached the cluster"
reconcile -c "$CFG" plan --plan "$P"
is "$RC" 2 "--plan with plan: exit 2"
reconcile -c "$CFG" once --out "$P"
is "$RC" 2 "--out with once: exit 2"

# ---- --max-deletions for one run ----
fresh
write_config "$CFG" "safety:" "  max_deletions: 1"
reconcile -c "$CFG" plan --max-deletions 2
is "$RC" 0 "--max-deletions 2 lifts max_deletions 1 for plan"
reconcile -c "$CFG" once --max-deletions 0
is "$RC" 3 "--max-deletions 0 blocks any deletion"
grep -q "more than safety.max_deletions (0)" "$ERR"; ok $? "and says so"
reconcile -c "$CFG" once --max-deletions unlimited
is "$RC" 0 "--max-deletions unlimited: once deletes"
is "$(deletes)" "team-a-old1 team-a-old2 " "both orphans are deleted for this run"
for bad in abc -1 1x ""; do
        reconcile -c "$CFG" once --max-deletions "$bad"
        is "$RC" 2 "--max-deletions '$bad': exit 2"
done
reconcile -c "$CFG" run --max-deletions 3
is "$RC" 2 "--max-deletions with run: exit 2"
stop_fake

tap_done
