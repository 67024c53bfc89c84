#!/bin/bash
# Secrets stay secret. For each way to authenticate (API key, basic password, bearer token), with
# a known secret: validate, plan (text and JSON), once with deletions, retries, a dropped
# connection and a failed delete, a dry run, a wrong API key (401), a systemd credential, and run
# with a reload, all with debug logging; the secret, and the form it takes on the wire, must
# appear in no output, no request log of the fake, no backup (content or name). While run runs,
# the secret is not in its argv, its environment or an open file. A secret file readable by
# group or others gets a warning naming the file.
. "$top_srcdir/tests/hygiene/common.sh"

command -v jq >/dev/null || skip_all "jq is missing"
command -v base64 >/dev/null || skip_all "base64 is missing"

OUTS="$TEST_TMP/outputs"
SECRETS="$TEST_TMP/secrets"
mkdir -p "$OUTS" "$SECRETS"
chmod 700 "$SECRETS"
N=0

# run_case NAME ARGS...: the reconciler with debug logging; its stdout and stderr are kept in
# $OUTS for the final search, and RC, OUT and ERR are set as lib.sh's reconcile does.
run_case() {
        N=$((N + 1))
        _name=$1
        shift
        timeout -k 5 60 "$RECONCILER" --log-target console -v "$@" >"$OUTS/$N-$_name.out" 2>"$OUTS/$N-$_name.err"
        RC=$?
        OUT="$OUTS/$N-$_name.out"
        ERR="$OUTS/$N-$_name.err"
}

# nowhere DESCRIPTION STRING...: none of the strings appears in any output, request log or backup.
nowhere() {
        _desc=$1
        shift
        _found=""
        for _s in "$@"; do
                _hits=$(grep -rlaF -- "$_s" "$OUTS" "$TEST_TMP"/fake-*.log "$TEST_TMP/backups" 2>/dev/null)
                [ -n "$_hits" ] && _found="$_found $_hits"
                # A backup's name is data too.
                find "$TEST_TMP/backups" -name "*$_s*" 2>/dev/null | grep -q . && _found="$_found (a backup name)"
        done
        if [ -z "$_found" ]; then
                ok 0 "$_desc"
        else
                ok 1 "$_desc"
                diag "found in:$_found"
        fi
}

seed_team_a "$TEST_TMP/seed.json" retry drop fail
team_a_manifest
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[
 {"method":"DELETE","path":"/_connector/team-a-old","status":503,"count":1},
 {"method":"DELETE","path":"/_connector/team-a-retry","status":429,"retry_after":"0","count":1},
 {"method":"DELETE","path":"/_connector/team-a-drop","drop":true,"count":1},
 {"method":"DELETE","path":"/_connector/team-a-fail","status":400,"type":"illegal_argument_exception","reason":"refused"}
]}
JSON

# scenarios METHOD KEY-LINES...: every scenario against a fake that wants this method's secret.
# The config's cluster section gets the KEY-LINES.
scenarios() {
        _method=$1
        shift
        write_config "$CFG"
        for _l in "$@"; do
                sed -i "s|^  url: .*|&\n$_l|" "$CFG"
        done

        run_case "$_method-validate" -c "$CFG" validate
        is "$RC" 0 "$_method: validate"
        run_case "$_method-plan" -c "$CFG" plan
        is "$RC" 0 "$_method: plan"
        run_case "$_method-plan-json" -c "$CFG" plan --format json
        is "$(jq -r '.delete | length' "$OUT")" 5 "$_method: plan --format json lists the orphans"
        run_case "$_method-dry-run" -c "$CFG" --dry-run once
        is "$RC" 0 "$_method: once --dry-run"
        run_case "$_method-once" -c "$CFG" once
        is "$RC" 1 "$_method: once with retries and a failed delete exits 1"
        is "$(fake_requests "select(.method == \"DELETE\" and .status == 200) | .auth" | sort -u | tr -d '"')" \
                "$_method_scheme" "$_method: the deletes carried $_method_scheme authorization"
        run_case "$_method-once-again" -c "$CFG" once
        is "$RC" 1 "$_method: a second once (the failed delete again) exits 1"
}

# ---- API key: the encoded key is the secret and what goes on the wire.
api_key=$(printf 'hygiene-id:s3cr3t-api-key-7d41' | base64 -w0)
printf '%s\n' "$api_key" >"$SECRETS/api-key"
chmod 600 "$SECRETS/api-key"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --api-key "$api_key"
_method_scheme=ApiKey
scenarios api_key "  api_key_file: $SECRETS/api-key"
printf 'wrong-key-3e9a\n' >"$SECRETS/wrong-key"
chmod 600 "$SECRETS/wrong-key"
write_config "$CFG"
sed -i "s|^  url: .*|&\n  api_key_file: $SECRETS/wrong-key|" "$CFG"
run_case api_key-wrong -c "$CFG" once
is "$RC" 1 "api_key: a wrong key exits 1"
grep -q "401 security_exception" "$ERR"; ok $? "api_key: the 401 is quoted"
stop_fake
nowhere "api_key: the key appears in no output, request log or backup" \
        "$api_key" "s3cr3t-api-key-7d41" "wrong-key-3e9a"

# ---- Basic: the password, and user:password in base64 as the Authorization header carries it.
password='Pa55-w0rd-hygiene-52c8'
printf '%s\n' "$password" >"$SECRETS/password"
chmod 600 "$SECRETS/password"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --basic "elastic:$password"
_method_scheme=Basic
scenarios basic "  username: elastic" "  password_file: $SECRETS/password"
stop_fake
nowhere "basic: the password appears in no output, request log or backup" \
        "$password" "$(printf 'elastic:%s' "$password" | base64 -w0)"

# ---- Bearer
token='dG9rZW4taHlnaWVuZS0xYjZm'
printf '%s\n' "$token" >"$SECRETS/token"
chmod 600 "$SECRETS/token"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --bearer "$token"
_method_scheme=Bearer
scenarios bearer "  bearer_token_file: $SECRETS/token"

# ---- A systemd credential: a bare name read from $CREDENTIALS_DIRECTORY.
write_config "$CFG"
sed -i "s|^  url: .*|&\n  bearer_token_file: token|" "$CFG"
CREDENTIALS_DIRECTORY="$SECRETS" run_case bearer-credential -c "$CFG" --dry-run once
is "$RC" 0 "bearer: the token as a systemd credential works"

# ---- run: argv, environment and open files while it runs; a reload re-reads the secret.
write_config "$CFG" "interval: 1s" "jitter: 0%"
sed -i "s|^  url: .*|&\n  bearer_token_file: $SECRETS/token|" "$CFG"
N=$((N + 1))
"$RECONCILER" --log-target console -v -c "$CFG" run >"$OUTS/$N-run.out" 2>"$OUTS/$N-run.err" &
daemon=$!
TEST_PIDS="$TEST_PIDS $daemon"
wait_alive "$daemon" 30 grep -q "Cycle ended" "$OUTS/$N-run.err"
ok $? "run: a cycle ends"
kill -0 "$daemon" 2>/dev/null && [ -r "/proc/$daemon/cmdline" ]
ok $? "run: the daemon is running"
! tr '\0' '\n' <"/proc/$daemon/cmdline" | grep -qF -- "$token"
ok $? "run: the token is not in its argv (/proc/PID/cmdline)"
! tr '\0' '\n' <"/proc/$daemon/environ" | grep -qF -- "$token"
ok $? "run: the token is not in its environment (/proc/PID/environ)"
! ls -l "/proc/$daemon/fd/" 2>/dev/null | grep -qF "$SECRETS"
ok $? "run: the secret file is not held open"
kill -HUP "$daemon"
wait_alive "$daemon" 30 grep -q "Reloaded" "$OUTS/$N-run.err"
ok $? "run: SIGHUP reloads (and re-reads the token)"
if command -v gcore >/dev/null && ! is_sanitized "$RECONCILER"; then
        # Not asserted: the config keeps the secret for the next cycle and the cluster client its
        # Authorization header, so a core dump holds it by design. (Not under ASan, whose shadow
        # memory makes a core dump huge and slow.)
        if timeout 20 gcore -o "$TEST_TMP/core" "$daemon" >/dev/null 2>&1; then
                diag "a core dump of the running daemon holds the token $(grep -caF -- "$token" "$TEST_TMP/core.$daemon") time(s)"
                rm -f "$TEST_TMP/core.$daemon"
        fi
fi
stop_pid "$daemon" 10 "run, on SIGTERM"
is "$?" 0 "run: SIGTERM stops it cleanly"
stop_fake
nowhere "bearer: the token appears in no output, request log or backup" "$token"

# ---- A secret file readable by others: a warning naming the file (and the key).
start_fake --seed "$TEST_TMP/seed.json" --bearer "$token"
write_config "$CFG"
sed -i "s|^  url: .*|&\n  bearer_token_file: $SECRETS/token|" "$CFG"
chmod 644 "$SECRETS/token"
run_case readable -c "$CFG" --dry-run once
is "$RC" 0 "a secret file readable by others still works"
grep -qF "secret file '$SECRETS/token' is readable by group or others" "$ERR"
ok $? "and gets a warning naming the file"
grep -F "secret file '$SECRETS/token'" "$ERR" | grep -q "bearer_token_file"
ok $? "and the key that names it"
chmod 640 "$SECRETS/token"
run_case group-readable -c "$CFG" --dry-run once
grep -qF "secret file '$SECRETS/token' is readable by group or others" "$ERR"
ok $? "a secret file readable by its group gets the warning too"
chmod 600 "$SECRETS/token"
run_case private -c "$CFG" --dry-run once
! grep -q "readable by group or others" "$ERR"
ok $? "a secret file of mode 0600 gets no warning"
stop_fake
[ "$(find "$TEST_TMP/backups" -type f | wc -l)" -gt 0 ] && [ "$(ls "$OUTS" | wc -l)" -gt 40 ]
ok $? "the search covered backups and the output of every run ($(ls "$OUTS" | wc -l) files)"
nowhere "no output of any scenario holds any of the secrets" "$api_key" "$password" "$token"

tap_done
