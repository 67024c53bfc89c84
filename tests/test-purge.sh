#!/bin/bash
# prune.purge_after against the fake cluster: on 9.x a connector this program soft-deleted is
# deleted for good (hard=true) once purge_after has passed, read again with include_deleted
# first; a tombstone it did not make, or whose deletion the state no longer records, is never
# purged; one restored meanwhile is left alone; `plan` shows when each is due; before 9.0, and
# without purge_after, the listing stays as it was (no include_deleted). Asserts on the fake's
# request log, the documents it holds, the state file, the backups and the exit status.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"

tomb() {  # tomb ID INDEX: a soft-deleted connector, as 9.x keeps one
        connector "$1" "$2" google_drive | jq -c '. + {deleted: true}'
}
seed() {  # seed FILE: team-a-keep, team-a-old (an orphan) and team-a-tomb (a foreign tombstone)
        {
                echo '{"connectors":['
                connector team-a-keep search-a-keep google_drive; echo ,
                connector team-a-old search-a-old google_drive; echo ,
                tomb team-a-tomb search-a-tomb
                echo ']}'
        } >"$1"
}
seed "$TEST_TMP/seed.json"
stored() {  # stored ID: the document the fake holds (soft-deleted ones too), or nothing
        fake_control GET /_fake/state | jq -c --arg id "$1" '.connectors[] | select(.id == $id) | {id, deleted}'
}
lists() {  # the query strings of the list requests the fake saw
        fake_requests 'select(.method == "GET" and .path == "/_connector") | .raw_query' | jq -r . |
                sed 's/&filter_path=[^&]*//'
}
deletes() {  # the DELETE requests the fake saw, as "ID QUERY"
        fake_requests 'select(.method == "DELETE") | "\(.connector_id) \(.raw_query // "")"' | jq -r .
}
recorded() {  # recorded ID: the state's entry for ID in "deleted", as {cycles_absent, has_time}
        jq -c --arg id "$1" '.deleted[]? | select(.id == $id) |
                {cycles_absent, has_time: (.deleted_usec > 0)}' "$TEST_TMP/state/state.json"
}

# ---- 9.x: soft delete, then the purge once purge_after has passed ----
write_set "$M/team-a.yaml" team-a team-a- --purge-after 2s team-a-keep
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_config "$CFG"

reconcile -c "$CFG" once
is "$RC" 0 "9.x, cycle 1: once exits 0"
is "$(deletes)" "team-a-old " "9.x, cycle 1: team-a-old is deleted softly (no hard), nothing else"
is "$(lists)" "from=0&size=100&include_deleted=true" \
        "9.x, cycle 1: the listing asks for soft-deleted connectors, as a set has purge_after"
is "$(stored team-a-old)" '{"id":"team-a-old","deleted":true}' "9.x, cycle 1: team-a-old is a tombstone now"
is "$(recorded team-a-old)" '{"cycles_absent":0,"has_time":true}' \
        "9.x, cycle 1: the state records when this program deleted it"

# Within purge_after: plan shows it protected, with the time it is due; the foreign tombstone
# has none.
reconcile -c "$CFG" plan --format json
is "$RC" 0 "9.x, plan within purge_after exits 0"
is "$(jq -c '[.protected[] | {id, due: (.purge_at != null)}]' "$OUT")" \
        '[{"id":"team-a-old","due":true},{"id":"team-a-tomb","due":false}]' \
        "9.x, plan: both tombstones protected, only the one this program made has a purge_at"
is "$(jq -r '.protected[] | select(.id == "team-a-old") | .reason | sub("; purge at 20[0-9-]+T[0-9:]+Z$"; "; purge at TIME")' "$OUT")" \
        "soft-deleted by this program (deleted: true); deleted for good once prune.purge_after has passed; purge at TIME" \
        "9.x, plan: the reason says it waits for purge_after, and until when"
reconcile -c "$CFG" plan
grep -q '^  ! protected team-a-old  .* set team-a (.*:[0-9]*): soft-deleted by this program .*; purge at 20[0-9-]*T[0-9:]*Z$' "$OUT"
ok $? "9.x, plan (text): the time it is due follows the reason"

: >"$FAKE_LOG"
reconcile -c "$CFG" once
is "$RC" 0 "9.x, cycle 2 within purge_after: exits 0"
is "$(deletes)" "" "9.x, cycle 2 within purge_after: nothing deleted"

sleep 2.2
: >"$FAKE_LOG"
n_backups=$(ls "$B"/team-a-old.*.json | wc -l)
reconcile -c "$CFG" once
is "$RC" 0 "9.x, cycle 3 after purge_after: exits 0"
is "$(deletes)" "team-a-old hard=true" "9.x, cycle 3: team-a-old is deleted for good (hard=true), the foreign tombstone is not"
is "$(fake_requests 'select(.method == "GET" and .connector_id == "team-a-old") | .raw_query' | jq -r .)" \
        "include_deleted=true" "9.x, cycle 3: read again first, with include_deleted"
is "$(stored team-a-old)" "" "9.x, cycle 3: the fake holds no team-a-old any more"
is "$(stored team-a-tomb)" '{"id":"team-a-tomb","deleted":true}' "9.x, cycle 3: the foreign tombstone stays"
is "$(ls "$B"/team-a-old.*.json | wc -l)" "$((n_backups + 1))" "9.x, cycle 3: the tombstone is backed up before the purge"
grep -q "Deleted connector 'team-a-old' for good (hard delete), soft-deleted by this program longer than prune.purge_after ago" "$ERR"
ok $? "9.x, cycle 3: the log says it was a purge"
grep -q '"delete":{"delete_sync_jobs":false,"hard":true}' "$(ls -t "$B"/team-a-old.*.json | head -1)"
ok $? "9.x, cycle 3: its backup records a hard delete"

: >"$FAKE_LOG"
reconcile -c "$CFG" once
is "$(deletes)" "" "9.x, cycle 4: nothing left to delete"
stop_fake

# ---- Restored between the listing and the purge: left alone ----
rm -rf "$TEST_TMP/state" "$B"
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_config "$CFG"
reconcile -c "$CFG" once
is "$(deletes)" "team-a-old " "restored meanwhile: team-a-old soft-deleted first"
sleep 2.2
# The read before the purge finds it live: someone restored it after the listing.
live=$(connector team-a-old search-a-old google_drive | jq -c '. + {deleted: false}')
fake_control POST /_fake/faults "{\"faults\":[{\"method\":\"GET\",\"path\":\"/_connector/team-a-old\",\"count\":1,
        \"mutate\":{\"connectors\":[$live]}}]}" >/dev/null
: >"$FAKE_LOG"
reconcile -c "$CFG" once
is "$RC" 0 "restored meanwhile: once exits 0"
is "$(deletes)" "" "restored meanwhile: no DELETE"
grep -q "Connector 'team-a-old' changed since the listing, not deleting it: it is no longer soft-deleted (deleted: false): something restored it" "$ERR"
ok $? "restored meanwhile: the log says why"
is "$(stored team-a-old)" '{"id":"team-a-old","deleted":false}' "restored meanwhile: it is live"
stop_fake

# ---- The state lost: the clock is not known, nothing is purged ----
rm -rf "$TEST_TMP/state" "$B"
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_config "$CFG"
reconcile -c "$CFG" once
sleep 2.2
rm -rf "$TEST_TMP/state"
: >"$FAKE_LOG"
reconcile -c "$CFG" once
is "$(deletes)" "" "state lost: a tombstone whose deletion is not recorded is never purged"
is "$(stored team-a-old)" '{"id":"team-a-old","deleted":true}' "state lost: it stays a tombstone"
stop_fake

# ---- Without purge_after, and before 9.0: the listing is as it was ----
rm -rf "$TEST_TMP/state" "$B"
write_set "$M/team-a.yaml" team-a team-a- team-a-keep
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3
write_config "$CFG"
reconcile -c "$CFG" once
is "$(lists)" "from=0&size=100" "no purge_after: the listing does not ask for soft-deleted connectors"
stop_fake

rm -rf "$TEST_TMP/state" "$B"
write_set "$M/team-a.yaml" team-a team-a- --purge-after 2s team-a-keep
write_seed "$TEST_TMP/seed8.json" "team-a-keep search-a-keep google_drive" "team-a-old search-a-old google_drive"
start_fake --seed "$TEST_TMP/seed8.json" --version 8.19.0
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "8.x with purge_after: once exits 0"
is "$(lists)" "from=0&size=100" "8.x: no include_deleted (8.x has no such parameter)"
is "$(deletes)" "team-a-old " "8.x: the delete (for good, as 8.x deletes)"
stop_fake

tap_done
