#!/bin/bash
# `once` with an API key that may read connectors but not manage them (the fake's
# --api-key-read-only): the orphan is listed and read for its backup, Elasticsearch's 403 on its
# DELETE is reported with its reason, nothing is deleted, the backup of the connector that is
# still there is removed, and the run fails (exit status not 0). Asserts on the fake's request log.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is not installed"

write_seed "$TEST_TMP/seed.json" "team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive"
write_set "$M/team-a.yaml" team-a team-a- team-a-hr
reader=$(printf 'reader-id:reader-secret' | base64)
printf '%s\n' "$reader" >"$TEST_TMP/key"
chmod 600 "$TEST_TMP/key"

start_fake --seed "$TEST_TMP/seed.json" --api-key-read-only "$reader"
write_config "$CFG"
sed -i "s|^cluster:\$|cluster:\n  api_key_file: $TEST_TMP/key|" "$CFG"
before=$(fake_control GET /_fake/state | jq -c .connectors)

reconcile -c "$CFG" once
diag "exit status $RC; stderr:"
sed 's/^/#   /' "$ERR"
[ "$RC" -ne 0 ]
ok $? "once fails when its DELETE is forbidden (exit status $RC)"
is "$(fake_requests 'select(.method == "DELETE") | "\(.connector_id) \(.status)"' | jq -r . | sort -u)" \
        "team-a-old 403" "the orphan's DELETE was answered 403"
is "$(fake_requests 'select(.method == "DELETE")' | wc -l)" 1 "a 403 is not retried"
is "$(fake_control GET /_fake/state | jq -c .connectors)" "$before" "nothing was deleted"
grep -qF "Failed to delete connector 'team-a-old'" "$ERR"
ok $? "the failure names the connector"
grep -qF "action [cluster:admin/xpack/connector/delete] is unauthorized for API key id [reader-id] of user [elastic]" "$ERR"
ok $? "and quotes Elasticsearch's reason"
is "$(ls "$B" 2>/dev/null | grep -c '^team-a-old\.')" 0 "the backup of the connector still there is removed"
! grep -qF "$reader" "$OUT" "$ERR"
ok $? "the key appears in no output"

# Many orphans: the first 403 stops the deletions of the cycle, with one message saying why,
# instead of a refused DELETE per connector (at most those already in flight: concurrency 2).
stop_fake
orphans=("team-a-hr search-a-hr google_drive")
for i in 1 2 3 4 5 6; do orphans+=("team-a-old$i search-a-old$i google_drive"); done
write_seed "$TEST_TMP/seed6.json" "${orphans[@]}"
start_fake --seed "$TEST_TMP/seed6.json" --api-key-read-only "$reader"
write_config "$CFG"
sed -i "s|^cluster:\$|cluster:\n  api_key_file: $TEST_TMP/key|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "six orphans, read-only: once exits 1"
n=$(fake_requests 'select(.method == "DELETE")' | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 2 ]
ok $? "six orphans, read-only: the deletions stop after the first 403 ($n DELETEs sent, at most 2 in flight)"
is "$(grep -c "Stopping the deletions of this cycle: the cluster's credential may not delete connectors (403 security_exception)" "$ERR")" 1 \
        "six orphans, read-only: one message says why, naming what to fix"
grep -q "connectors were left for the next cycle" "$ERR"
ok $? "six orphans, read-only: the cycle's end says the rest waits for the next cycle"
is "$(ls "$B" 2>/dev/null | grep -c '^team-a-old')" 0 "six orphans, read-only: no backup is left behind"

tap_done
