#!/bin/bash
# The reconciler under valgrind memcheck: `once` against the fake cluster with deletions, retries
# (503, 429, a dropped connection), an already-gone connector and a failed delete; `plan` and
# `validate`; then `run` for two cycles with a SIGHUP reload between them, stopped by SIGTERM.
# Each must end with no memcheck error and no byte definitely lost, and with its own exit status.
# Skipped where valgrind is missing, in a sanitizer build (ASan and valgrind exclude each other),
# and where valgrind cannot read the program's debug info.
. "$top_srcdir/tests/hygiene/common.sh"

command -v valgrind >/dev/null || skip_all "valgrind is not installed"
command -v jq >/dev/null || skip_all "jq is missing"
[ -r "$top_builddir/tests/hygiene/build-info.sh" ] && . "$top_builddir/tests/hygiene/build-info.sh"
{ [ -n "$SANITIZER_CFLAGS" ] || is_sanitized "$RECONCILER"; } &&
        skip_all "a sanitizer build: valgrind cannot run ASan binaries"

# Memcheck's options: exit 99 on any error or definite leak; each run writes its own log.
VG_ERROR=99
VG=(valgrind --quiet --error-exitcode=$VG_ERROR --leak-check=full --errors-for-leak-kinds=definite
        --show-leak-kinds=definite --num-callers=40 --track-fds=no)

# vg_clean LOG DESCRIPTION: the log holds no error report (with --quiet it is empty when clean).
vg_clean() {
        if [ -s "$1" ]; then
                ok 1 "$2"
                sed 's/^/#   /' "$1" | head -n 60
        else
                ok 0 "$2"
        fi
}

# Valgrind 3.19 cannot read the DWARF 5 that clang 14 writes by default (build with
# CFLAGS=-gdwarf-4); it then gives up on the program. Skip rather than fail on that.
valgrind --quiet --log-file="$TEST_TMP/vg-probe.log" "$RECONCILER" version >/dev/null 2>&1
if grep -q "debuginfo reader" "$TEST_TMP/vg-probe.log"; then
        skip_all "valgrind cannot read this build's debug info: $(grep -m1 -o 'unhandled dwarf2[^#]*\|Possibly corrupted debuginfo' "$TEST_TMP/vg-probe.log") (use CFLAGS=-gdwarf-4)"
fi

seed_team_a "$TEST_TMP/seed.json" retry drop gone fail
team_a_manifest
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults":[
 {"method":"DELETE","path":"/_connector/team-a-old","status":503,"count":1},
 {"method":"DELETE","path":"/_connector/team-a-retry","status":429,"retry_after":"0","count":2},
 {"method":"DELETE","path":"/_connector/team-a-drop","drop":true,"count":1},
 {"method":"DELETE","path":"/_connector/team-a-gone","status":404,"type":"resource_not_found_exception","reason":"connector [team-a-gone] not found"},
 {"method":"DELETE","path":"/_connector/team-a-fail","status":400,"type":"illegal_argument_exception","reason":"refused"}
]}
JSON

# ---- once
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "concurrency: 3"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-once.log" "$RECONCILER" --log-target console -v -c "$CFG" once \
        >"$TEST_TMP/once.out" 2>"$TEST_TMP/once.err"
rc=$?
is "$rc" 1 "once under valgrind: exit 1 (one delete failed), not a memcheck error ($VG_ERROR)"
vg_clean "$TEST_TMP/vg-once.log" "once: no memcheck error, no byte definitely lost"
is "$(fake_requests 'select(.method == "DELETE") | .path' | jq -r . | sort -u | tr '\n' ' ')" \
        "/_connector/team-a-drop /_connector/team-a-fail /_connector/team-a-gone /_connector/team-a-legacy /_connector/team-a-old /_connector/team-a-retry " \
        "once: a DELETE for every orphan"
is "$(fake_requests 'select(.method == "DELETE" and .status == 200) | .connector_id' | jq -r . | sort | tr '\n' ' ')" \
        "team-a-drop team-a-legacy team-a-old team-a-retry " "once: the retried deletes went through"
grep -q "deleted 4, already gone 1, failed 1" "$TEST_TMP/once.err"; ok $? "once: the cycle counts are logged"
stop_fake

# ---- plan and validate
start_fake --seed "$TEST_TMP/seed.json"
write_config "$CFG"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-plan.log" "$RECONCILER" --log-target console -c "$CFG" plan \
        --format json >"$TEST_TMP/plan.out" 2>"$TEST_TMP/plan.err"
is "$?" 0 "plan under valgrind: exit 0"
vg_clean "$TEST_TMP/vg-plan.log" "plan: no memcheck error, no byte definitely lost"
is "$(jq -c '[.delete[].id] | sort' "$TEST_TMP/plan.out")" \
        '["team-a-drop","team-a-fail","team-a-gone","team-a-legacy","team-a-old","team-a-retry"]' "plan: the orphans"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-validate.log" "$RECONCILER" -c "$CFG" validate >/dev/null 2>&1
is "$?" 0 "validate under valgrind: exit 0"
vg_clean "$TEST_TMP/vg-validate.log" "validate: no memcheck error, no byte definitely lost"
printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: [\n' >"$M/broken.yaml"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-invalid.log" "$RECONCILER" -c "$CFG" validate >/dev/null 2>&1
is "$?" 2 "validate of a broken manifest under valgrind: exit 2"
vg_clean "$TEST_TMP/vg-invalid.log" "validate (errors): no memcheck error, no byte definitely lost"
rm "$M/broken.yaml"
stop_fake

# ---- the manifests from Git: a file:// remote fetched by a child process (under memcheck too:
# it is a fork), and a local repository read in place
if command -v git >/dev/null; then
        start_fake --seed "$TEST_TMP/seed.json"
        (cd "$M" && GIT_CONFIG_NOSYSTEM=1 HOME="$TEST_TMP" git init -q -b main &&
                GIT_CONFIG_NOSYSTEM=1 HOME="$TEST_TMP" git add -A &&
                GIT_CONFIG_NOSYSTEM=1 HOME="$TEST_TMP" git -c user.name=vg -c user.email=vg@example.test \
                        commit -q -m manifests)
        write_config "$CFG"
        sed -i "s|^manifests: .*|manifests:\n  git: file://$M|" "$CFG"
        timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-git.log" "$RECONCILER" --log-target console -c "$CFG" \
                once >/dev/null 2>"$TEST_TMP/git.err"
        is "$?" 0 "once from a Git remote under valgrind: exit 0, not $VG_ERROR"
        vg_clean "$TEST_TMP/vg-git.log" "once from a Git remote, fetch included: no memcheck error, no byte definitely lost"
        grep -q "manifests at $(GIT_CONFIG_NOSYSTEM=1 git -C "$M" rev-parse --short=12 HEAD)" "$TEST_TMP/git.err"
        ok $? "once from a Git remote: the commit fetched was applied"
        sed -i "s|^  git: .*|  git: $M|" "$CFG"
        timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-git-local.log" "$RECONCILER" -c "$CFG" validate \
                >/dev/null 2>&1
        is "$?" 0 "validate of a local Git repository under valgrind: exit 0"
        vg_clean "$TEST_TMP/vg-git-local.log" "validate of a local Git repository: no memcheck error, no byte definitely lost"
        rm -rf "$M/.git"
        stop_fake
else
        for _ in 1 2 3 4 5; do echo "ok $((TAP_N += 1)) # SKIP git is missing"; done
fi

# ---- creating and converging (spec.lifecycle): a create that waits for its schema, an update,
# then the values with a secret once the schema is there
start_fake
fake_curl PUT /_connector/lc-renamed -H 'Content-Type: application/json' \
        -d '{"name":"renamed by hand","index_name":"search-lc-renamed","service_type":"google_drive"}'
mkdir -p "$TEST_TMP/lc" "$TEST_TMP/secrets"
printf 's3cret-vg\n' >"$TEST_TMP/secrets/lc-pass"
cat >"$TEST_TMP/lc/lc.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata: {name: lc}
spec:
  selector: {id_prefix: lc-}
  lifecycle: {create: true, update: true}
  connectors:
    - id: lc-renamed
      name: As declared
      scheduling: {full: {enabled: true, interval: "0 0 2 * * ?"}}
    - id: lc-new
      name: New
      index_name: search-lc-new
      service_type: sharepoint_online
      configuration:
        site: example
        password: {secret: lc-pass}
YAML
write_config "$CFG" "secrets_dir: $TEST_TMP/secrets"
sed -i "s|^manifests: .*|manifests: $TEST_TMP/lc|" "$CFG"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-lc1.log" "$RECONCILER" --log-target console -c "$CFG" once \
        >/dev/null 2>"$TEST_TMP/lc1.err"
is "$?" 0 "once creating and updating under valgrind: exit 0"
vg_clean "$TEST_TMP/vg-lc1.log" "once creating and updating: no memcheck error, no byte definitely lost"
grep -q "created 1, updated 1" "$TEST_TMP/lc1.err"; ok $? "once: one created (waiting for its schema), one updated"
fake_curl PUT /_connector/lc-new/_configuration -H 'Content-Type: application/json' -d '{"configuration":{
 "site":{"label":"Site","type":"str","value":"","order":1,"display":"text","required":true,"sensitive":false,"default_value":null,"depends_on":[],"options":[],"tooltip":null,"ui_restrictions":[],"validations":[]},
 "password":{"label":"Password","type":"str","value":"","order":2,"display":"text","required":true,"sensitive":true,"default_value":null,"depends_on":[],"options":[],"tooltip":null,"ui_restrictions":[],"validations":[]}}}'
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-lc-plan.log" "$RECONCILER" --log-target console -c "$CFG" plan \
        --format json >"$TEST_TMP/lc-plan.out" 2>/dev/null
is "$?" 0 "plan with the schema registered under valgrind: exit 0"
vg_clean "$TEST_TMP/vg-lc-plan.log" "plan of an update with a secret: no memcheck error, no byte definitely lost"
is "$(jq -c '[.update[] | .id, (.fields | keys)]' "$TEST_TMP/lc-plan.out")" \
        '["lc-new",["configuration.password","configuration.site"]]' "plan: the values to set, the secret among them"
timeout -k 5 120 "${VG[@]}" --log-file="$TEST_TMP/vg-lc2.log" "$RECONCILER" --log-target console -c "$CFG" once \
        >/dev/null 2>"$TEST_TMP/lc2.err"
is "$?" 0 "once setting the values under valgrind: exit 0"
vg_clean "$TEST_TMP/vg-lc2.log" "once setting the values, a secret read: no memcheck error, no byte definitely lost"
! grep -rq "s3cret-vg" "$TEST_TMP/lc1.err" "$TEST_TMP/lc2.err" "$TEST_TMP/lc-plan.out" "$TEST_TMP/state"
ok $? "the secret is in no output and not in the state"
stop_fake

# ---- run: two cycles, a reload between them, SIGTERM
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "interval: 1s" "jitter: 0%"
# Started directly (no wrapper, no subshell), so that $! is the reconciler under valgrind.
"${VG[@]}" --log-file="$TEST_TMP/vg-run.log" "$RECONCILER" --log-target console -c "$CFG" run \
        2>"$TEST_TMP/run.err" &
daemon=$!
TEST_PIDS="$TEST_PIDS $daemon"
cycles() { grep -c "Cycle ended" "$TEST_TMP/run.err"; }
wait_alive "$daemon" 120 has_lines 1 'Cycle ended' "$TEST_TMP/run.err"
ok $? "run: the first cycle ends under valgrind"
kill -HUP "$daemon"
wait_alive "$daemon" 60 grep -q "Reloaded" "$TEST_TMP/run.err"
ok $? "run: SIGHUP reloads the config"
wait_alive "$daemon" 120 has_lines 2 'Cycle ended' "$TEST_TMP/run.err"
ok $? "run: a second cycle ends ($(cycles) so far)"
stop_pid "$daemon" 60 "run under valgrind, on SIGTERM"
is "$EXIT_STATUS" 0 "run under valgrind: SIGTERM is a clean stop, exit 0"
vg_clean "$TEST_TMP/vg-run.log" "run: no memcheck error, no byte definitely lost"
stop_fake

tap_done
