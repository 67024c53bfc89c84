#!/bin/bash
# `validate` and `plan` check backup_dir and state_dir as `once` would use them (a folder we own
# that group and others may not write, or one we may create), changing nothing: validate reports
# an error line at the key, plan logs it as a warning (and plans all the same), once refuses.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

write_seed "$TEST_TMP/seed.json" "team-keep i-keep jira" "team-old i-old jira"
write_set "$M/team.yaml" team team- team-keep
start_fake --seed "$TEST_TMP/seed.json"

# ---- Missing folders that can be created: valid, and still missing afterwards.
write_config "$CFG"
reconcile -c "$CFG" validate
is "$RC" 0 "validate: missing but creatable folders are valid"
reconcile -c "$CFG" plan
is "$RC" 0 "plan: missing but creatable folders are fine"
[ ! -e "$B" ] && [ ! -e "$TEST_TMP/state" ]; ok $? "neither validate nor plan created them"

# ---- A group-writable backup folder: the line and column of backup_dir, and the chmod.
mkdir -p "$B" && chmod 0770 "$B"
reconcile -c "$CFG" validate
is "$RC" 2 "validate: a group-writable backup_dir is an error (exit 2)"
is "$(grep -c "^$CFG:5:13: backup_dir '$B' is unusable: Operation not permitted (\`once\` would delete nothing); fix it with: chmod go-w '$B', or set backup_dir to a folder this user owns or may create\$" "$OUT")" 1 \
        "validate: the error is at backup_dir's value (5:13) with the chmod that fixes it"
grep -qx "1 error" "$OUT"; ok $? "validate: counted with the other errors"

reconcile -c "$CFG" plan
is "$RC" 0 "plan: a group-writable backup_dir is a warning; plan writes nothing itself (exit 0)"
grep -q "^$CFG:5:13: backup_dir '$B' is unusable: .*chmod go-w '$B'" "$ERR"; ok $? "plan: logs the problem, with the fix"
grep -q "team-old" "$OUT"; ok $? "plan: and prints the plan all the same"
reconcile -c "$CFG" once
is "$RC" 1 "once: the same backup_dir is refused, deleting nothing (exit 1)"
is "$(deleted_ids)" "" "once: nothing deleted"
chmod 0700 "$B"

# ---- state_dir under a file: not a folder, no command to suggest, the key to set.
write_config "$CFG" "metrics:" "  textfile: $TEST_TMP/m.prom"
sed -i "s|^state_dir: .*|state_dir: $TEST_TMP/a-file/state|" "$CFG"
touch "$TEST_TMP/a-file"
reconcile -c "$CFG" validate
is "$RC" 2 "validate: a state_dir under a file is an error"
grep -q "^$CFG:6:12: state_dir '$TEST_TMP/a-file/state' is unusable: Not a directory (\`once\` would delete nothing); fix it with: set state_dir to a folder" "$OUT"
ok $? "validate: the error names state_dir (6:12) and the key to set"

# ---- The default state_dir: no line, the file named alone.
write_config "$CFG"
sed -i '/^state_dir:/d' "$CFG"
STATE_DIRECTORY="$TEST_TMP/a-file/default" reconcile -c "$CFG" validate
is "$RC" 2 "validate: an unusable default state_dir is an error"
grep -q "^$CFG: state_dir (the default) '$TEST_TMP/a-file/default' is unusable" "$OUT"
ok $? "validate: the default is reported against the file, as the default"

# ---- Owned by another user (needs root to make one).
write_config "$CFG"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
        mkdir -p "$TEST_TMP/state" && chown nobody "$TEST_TMP/state"
        reconcile -c "$CFG" validate
        grep -q "^$CFG:6:12: state_dir '$TEST_TMP/state' is unusable: .*fix it with: chown 0 '$TEST_TMP/state'" "$OUT"
        ok $? "validate: a state_dir owned by another user gets the chown"
        rm -rf "$TEST_TMP/state"
else
        echo "ok $((TAP_N + 1)) # SKIP making a folder of another user needs root"
        TAP_N=$((TAP_N + 1))
fi

tap_done
