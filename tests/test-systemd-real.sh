#!/bin/bash
# The daemon under the shipped units and the real systemd, booted as PID 1 of private namespaces
# (tests/sdtest/sdtest.sh), against the fake cluster started inside as a unit:
#   - the sandbox leaves the service what it needs and hides the rest (sandbox-check.sh);
#   - `run` becomes active (running) through READY=1, its STATUS= follows the cycles, it deletes
#     the orphans and nothing else, with the API key from the credential, and backs each one up
#     in the state directory (0700, files 0600, owned by the dynamic user);
#   - its journal entries carry their MESSAGE_IDs and fields, and journalctl -x shows the
#     catalog text; the API key appears nowhere in the journal;
#   - `systemctl reload` re-reads the config in place (RELOADING=1 then READY=1, same process);
#   - a hung daemon (SIGSTOP) is killed by the watchdog and restarted;
#   - `systemctl stop` ends it cleanly (STOPPING=1, status 0);
#   - the timer runs the one-shot service, which runs a real cycle;
#   - a broken config makes `run` exit 2, and RestartPreventExitStatus=2 keeps it from looping;
#   - the host is left as found.
#
# The units are the generated systemd/*.service and the shipped timer, unchanged but for
# drop-ins: ExecStart= (the program lives in the work dir inside; tests/sdtest/subject-daemon.sh)
# and test speed (WatchdogSec=2s, RestartSec=100ms, the timer without random delay).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/sdtest/sdtest.sh"

reason=$(sdtest_check) || skip_all "$reason"
for c in jq curl; do
        command -v "$c" >/dev/null || skip_all "needs $c"
done
. "$top_srcdir/tests/sdtest/subject-daemon.sh"
diag "service under test: $SUBJECT_NAME"

SERVICE=connector-reconciler.service
ONCE=connector-reconciler-once.service
TIMER=connector-reconciler-once.timer
SDTEST_API_KEY=c2R0ZXN0OnNkdGVzdC1zZWNyZXQ= # base64 of an id:secret pair, as Elasticsearch issues
FAKE="$top_builddir/tests/fake/fake-cluster"
BACKUPS=/var/lib/connector-reconciler/deleted # the config's default backup_dir

if [ ! -x "$FAKE" ]; then
        echo "Bail out! $FAKE is not built"
        exit 1
fi

host_before=$(sdtest_host_state)
started=$(date +%s)
sdtest_init

sdtest_install_unit "$top_builddir/systemd/$SERVICE"
sdtest_install_unit "$top_builddir/systemd/$ONCE"
sdtest_install_unit "$top_srcdir/systemd/$TIMER"
# The same sandbox once more, as a unit that reports what it finds inside (sandbox-check.sh).
sdtest_install_unit "$top_builddir/systemd/$ONCE" sandbox-check.service
sdtest_install_bin "$top_srcdir/tests/sdtest/sandbox-check.sh"

sdtest_install_dropin "$SERVICE" 50-test-speed <<'EOF'
[Service]
WatchdogSec=2s
RestartSec=100ms
EOF
sdtest_install_dropin "$TIMER" 50-test-speed <<'EOF'
[Timer]
RandomizedDelaySec=0
AccuracySec=1us
EOF
# The GitOps checkout under /home, bound as the units' header comment says.
for unit in "$SERVICE" "$ONCE" sandbox-check.service; do
        sdtest_install_dropin "$unit" 50-gitops <<'EOF'
[Service]
BindReadOnlyPaths=/home/git/gitops:/srv/gitops
EOF
done

# The cluster: one declared connector, two orphans (one with a sync job), one that a set owns
# but may not prune (protected), one no set owns (unmanaged).
{
        printf '{"connectors": ['
        connector sdtest-kept search-sdtest-kept google_drive
        printf ','
        connector sdtest-drive search-sdtest-drive google_drive
        printf ','
        connector sdtest-wiki search-sdtest-wiki confluence
        printf ','
        connector legacy-jira legacy-jira jira
        printf ','
        connector marketing-crm marketing-crm salesforce
        printf '], "sync_jobs": [{"id": "sdtest-drive-job", "connector": {"id": "sdtest-drive"}, '
        printf '"job_type": "full", "status": "completed", "trigger_method": "scheduled", '
        printf '"created_at": "2025-01-01T00:00:00.000Z"}]}\n'
} >"$TEST_TMP/seed.json"
sdtest_install_fake_cluster "$FAKE" "$TEST_TMP/seed.json" --api-key "$SDTEST_API_KEY"
# The sandbox check compares the credential it reads with a digest, so that the key itself is
# in no unit and can be looked for in the journal.
key_digest=$(printf '%s' "$SDTEST_API_KEY" | sha256sum | cut -d' ' -f1)
sdtest_install_dropin sandbox-check.service 60-check <<EOF
[Service]
ExecStart=
ExecStart=/bin/bash $SDTEST_IN/bin/sandbox-check.sh
Environment=EXPECTED_API_KEY_SHA256=$key_digest GITOPS=/srv/gitops CLUSTER_PORT=9200
EOF

subject_install "$SDTEST_API_KEY"
ok $? "the daemon, its config, credential and catalog install"

sdtest_boot
ok $? "systemd boots as PID 1 of private namespaces"
if [ -z "$SDTEST_PID1" ]; then
        tap_done
        exit
fi
sdtest_run sh -c 'mkdir -p /home/git/gitops && cat >/home/git/gitops/connectors.yaml' <<'EOF'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: sdtest
spec:
  selector:
    id_prefix: sdtest-
  prune:
    delete_sync_jobs: true
  connectors:
    - id: sdtest-kept
---
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: legacy
spec:
  selector:
    id_prefix: legacy-
  prune:
    enabled: false
    allow_empty: true
EOF
# A checkout: the daemon reads its last commit, never its files.
sdtest_run sh -c 'cd /home/git/gitops && git init -q -b main && git add -A &&
        git -c user.name=sdtest -c user.email=sdtest@example.test commit -q -m manifests &&
        chmod -R a+rX .'
revision=$(sdtest_run git -C /home/git/gitops rev-parse HEAD)
subject_install_catalog
ok $? "journalctl --update-catalog compiles the catalog inside"

notifications() {  # PID: the sd_notify messages systemd got from PID, one a line, in order
        sdtest_journal -o cat _PID=1 UNIT="$SERVICE" |
                sed -n "s/^$SERVICE: Got notification message from PID $1 (\(.*\))\$/\1/p" | grep -v '^WATCHDOG=1$'
}

fake_log() {  # JQ-FILTER: over the fake cluster's request log, control requests left out
        jq -c "select(.control | not) | $1" "$SDTEST_FAKE_LOG"
}

status_matches() {  # REGEX: the service's StatusText matches; leaves it in $status
        status=$(sdtest_prop "$SERVICE" StatusText)
        printf '%s\n' "$status" | grep -Eq "$1"
}
wait_status() {  # REGEX SECONDS: until the service's StatusText matches; leaves it in $status
        wait_alive "$SDTEST_PID1" "$2" status_matches "$1"
}

field() {  # JSON FIELD: a field of a journal entry
        printf '%s' "$1" | jq -r --arg f "$2" '.[$f] // empty'
}

sdtest_start_fake_cluster
listening=$?
ok $listening "the fake cluster listens inside the namespace"
[ "$listening" -eq 0 ] || bail_out "the fake cluster did not start inside the namespace"

# --- The sandbox, as the services get it.
sdtest_systemctl start sandbox-check.service
ok $? "a service in the shipped sandbox runs"
checks=$(sdtest_journal -o cat -u sandbox-check.service | grep '^sandbox-')
while read -r verdict name; do
        case $verdict in
        sandbox-ok) ok 0 "sandbox: $name" ;;
        sandbox-fail) ok 1 "sandbox: $name" ;;
        esac
done <<<"$checks"
printf '%s\n' "$checks" | grep -qx sandbox-done
ok $? "sandbox: every check ran"
sandbox_requests=$(wc -l <"$SDTEST_FAKE_LOG")

# systemd's debug log records each sd_notify message it gets. Only now: it records the command
# lines it runs too, and the fake cluster's holds the API key, which the journal must not.
sdtest_systemctl log-level debug

# --- Start: READY=1 makes it active (running); the first cycle deletes the orphans.
sdtest_systemctl start "$SERVICE"
ok $? "systemctl start returns once the daemon is ready"
is "$(sdtest_prop "$SERVICE" ActiveState)/$(sdtest_prop "$SERVICE" SubState)" active/running \
        "the service is active (running)"
pid=$(sdtest_prop "$SERVICE" MainPID)
notifications "$pid" | grep -Eq '(^|, )READY=1(,|$)'
ok $? "systemd got READY=1 from it"

sdtest_wait_journal 10 MESSAGE_ID="$SUBJECT_MESSAGE_STARTED" _SYSTEMD_UNIT="$SERVICE" _PID="$pid"
ok $? "its start entry is in the journal (MESSAGE_ID $SUBJECT_MESSAGE_STARTED)"
uid=$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_STARTED" _PID="$pid" | head -n 1 | jq -r ._UID)
[ "$uid" -ge 61184 ] 2>/dev/null && [ "$uid" -le 65519 ]
ok $? "it runs as a dynamic user (_UID=$uid)"

cycle1='^Cycle 1: deleted 2, already gone 0, failed 0, kept 1, 0 missing, 1 unmanaged, 1 protected; took [0-9]+\.[0-9] s; manifests at '${revision:0:12}'; next cycle at '
wait_status "$cycle1" 20
ok $? "StatusText reports the first cycle (got '$status')"
notifications "$pid" | grep -q '^STATUS=Cycle 1 running$'
ok $? "STATUS= says when a cycle runs"
is "$(sdtest_prop "$SERVICE" NRestarts)/$(sdtest_prop "$SERVICE" MainPID)" "0/$pid" \
        "the daemon has not restarted (NRestarts=0, same MainPID)"

# What the cluster saw: a DELETE for each orphan and nothing else, each with the credential.
is "$(fake_log 'select(.method == "DELETE") | "\(.connector_id) \(.raw_query) \(.auth) \(.status)"' |
        jq -r . | sort)" "sdtest-drive delete_sync_jobs=true ApiKey 200
sdtest-wiki delete_sync_jobs=true ApiKey 200" \
        "the fake cluster got a DELETE for each orphan (and only them), with the sets' delete_sync_jobs and the API key"
is "$(tail -n +$((sandbox_requests + 1)) "$SDTEST_FAKE_LOG" | jq -r 'select(.control | not) | .auth' | sort -u)" \
        ApiKey "every request of the daemon carried the API key"

# The backups: one per orphan, in the state directory, private to the dynamic user.
listing=$(sdtest_run sh -c 'cd "$1" && stat -c "%n %a %u" . *' sh "$BACKUPS")
diag "$BACKUPS: $(printf '%s' "$listing" | tr '\n' ';')"
is "$(printf '%s\n' "$listing" | head -n 1)" ". 700 $uid" "$BACKUPS is mode 0700, owned by the dynamic user"
is "$(printf '%s\n' "$listing" | tail -n +2 | sed -E 's/\.[0-9]{8}T[0-9]{6}Z\.json / /')" \
        "sdtest-drive 600 $uid
sdtest-wiki 600 $uid" "a backup per deleted connector (ID.STAMP.json), mode 0600, owned by the dynamic user"
backup_drive=$BACKUPS/$(printf '%s\n' "$listing" | awk '$1 ~ /^sdtest-drive\./ { print $1 }')
is "$(sdtest_run cat "$backup_drive" | jq -r '.document | "\(.id) \(.index_name) \(.service_type)"' 2>&1)" \
        "sdtest-drive search-sdtest-drive google_drive" "the backup holds the connector's document"

# The journal: the deletion event and its cycle, with their fields.
sdtest_wait_journal 5 MESSAGE_ID="$SUBJECT_MESSAGE_DELETED" CONNECTOR_ID=sdtest-drive
deleted=$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_DELETED" CONNECTOR_ID=sdtest-drive | head -n 1)
is "$(printf '%s' "$deleted" | jq -r '"\(._SYSTEMD_UNIT) \(._PID) \(.PRIORITY)"')" "$SERVICE $pid 5" \
        "journalctl -o json finds the deletion event (MESSAGE_ID $SUBJECT_MESSAGE_DELETED), at notice, from the service"
is "$(printf '%s' "$deleted" | jq -r '"\(.CONNECTOR_SERVICE_TYPE) \(.CONNECTOR_INDEX_NAME) \(.DELETE_SYNC_JOBS) \(.HARD)"')" \
        "google_drive search-sdtest-drive true false" \
        "it has CONNECTOR_SERVICE_TYPE, CONNECTOR_INDEX_NAME, DELETE_SYNC_JOBS and HARD"
is "$(field "$deleted" BACKUP_PATH)" "$backup_drive" "it has BACKUP_PATH, naming the backup file"
is "$(field "$deleted" REVISION)" "$revision" "it has REVISION, the commit the manifests were read from"
is "$(sdtest_run cat "$backup_drive" | jq -r .manifests.revision 2>&1)" "$revision" \
        "the backup names that commit too"
cycle_id=$(field "$deleted" CYCLE_ID)
end=$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_CYCLE_END" _PID="$pid" | head -n 1)
is "$(printf '%s' "$end" | jq -r '"\(.CYCLE_ID) \(.RESULT) \(.DELETED) \(.FAILED)"')" "$cycle_id ok 2 0" \
        "the cycle's end entry (MESSAGE_ID $SUBJECT_MESSAGE_CYCLE_END) has its CYCLE_ID, RESULT, DELETED and FAILED"
[ -n "$cycle_id" ] && [ -n "$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_CYCLE_START" CYCLE_ID="$cycle_id")" ]
ok $? "journalctl CYCLE_ID=$cycle_id finds the cycle's start entry too"

# journalctl -x, inside, with the catalog compiled there.
explained=$(sdtest_run journalctl -x --no-pager -o short MESSAGE_ID="$SUBJECT_MESSAGE_DELETED" CONNECTOR_ID=sdtest-drive)
printf '%s\n' "$explained" | grep -q 'Subject: Connector sdtest-drive deleted$' &&
        printf '%s\n' "$explained" | grep -q 'The connector sdtest-drive was an orphan'
explained_ok=$?
ok $explained_ok "journalctl -x shows the catalog text for it, with the connector's id filled in"
[ $explained_ok = 0 ] || printf '%s\n' "$explained" | head -n 20 | sed 's/^/#   /'

first_ping=$(sdtest_prop "$SERVICE" WatchdogTimestampMonotonic)
pinged_again() {  # the service's last WATCHDOG=1 is not $first_ping; leaves it in $ping
        ping=$(sdtest_prop "$SERVICE" WatchdogTimestampMonotonic)
        [ "$ping" != "$first_ping" ] && [ "$ping" != 0 ]
}
wait_alive "$SDTEST_PID1" 10 pinged_again
ok $? "it keeps pinging the watchdog (WATCHDOG=1 at $first_ping, then $ping)"

# --- Reload: RELOADING=1 then READY=1, same process; the new config is in force.
subject_config "interval: 2s" "jitter: 0%"
sdtest_systemctl reload "$SERVICE"
ok $? "systemctl reload succeeds"
sdtest_wait_journal 10 MESSAGE_ID="$SUBJECT_MESSAGE_RELOADED" _SYSTEMD_UNIT="$SERVICE" _PID="$pid"
ok $? "the daemon logs the reload (MESSAGE_ID $SUBJECT_MESSAGE_RELOADED)"
is "$(sdtest_prop "$SERVICE" MainPID)" "$pid" "a reload keeps the same MainPID"
sdtest_wait_prop "$SERVICE" SubState running 10
ok $? "the service is running again after the reload"
# From the first RELOADING=1 on: it must be there, and a READY=1 after it.
sequence=$(notifications "$pid" | sed -En '/(^|, )RELOADING=1(,|$)/,$p')
[ -n "$sequence" ]
ok $? "systemd got RELOADING=1 from it"
printf '%s\n' "$sequence" | tail -n +2 | grep -Eq '(^|, )READY=1(,|$)'
ok $? "READY=1 follows RELOADING=1"
# The reloaded interval (2 s, was 5 min) brings the second cycle; nothing is left to delete.
cycle2='^Cycle 2: deleted 0, already gone 0, failed 0, kept 1, 0 missing, 1 unmanaged, 1 protected; took [0-9]+\.[0-9] s; manifests at '${revision:0:12}'; next cycle at '
wait_status "$cycle2" 20
ok $? "the reloaded interval is in force: StatusText reports the second cycle (got '$status')"

# --- The watchdog: a hung daemon (stopped with SIGSTOP) is killed and restarted.
sdtest_run kill -STOP "$pid"
sdtest_wait_prop "$SERVICE" NRestarts 1 20
ok $? "the watchdog has the hung daemon restarted (NRestarts=1)"
sdtest_wait_prop "$SERVICE" SubState running 20
ok $? "the restarted service is running"
new_pid=$(sdtest_prop "$SERVICE" MainPID)
[ "$new_pid" != "$pid" ] && [ "$new_pid" != 0 ]
ok $? "the restarted service has a new MainPID ($pid, then $new_pid)"
# systemd's own structured entry: SD_MESSAGE_UNIT_FAILURE_RESULT with UNIT_RESULT=.
sdtest_wait_journal 5 MESSAGE_ID=d9b373ed55a64feb8242e02dbe79a49c UNIT="$SERVICE" UNIT_RESULT=watchdog
ok $? "the journal says the service failed with result 'watchdog'"
sdtest_wait_journal 10 MESSAGE_ID="$SUBJECT_MESSAGE_CYCLE_END" _PID="$new_pid"
ok $? "the restarted daemon runs its cycles"

# --- Stop: STOPPING=1, exit 0.
sdtest_systemctl stop "$SERVICE"
ok $? "systemctl stop succeeds"
is "$(sdtest_prop "$SERVICE" ActiveState)/$(sdtest_prop "$SERVICE" Result)/$(sdtest_prop "$SERVICE" ExecMainStatus)" \
        inactive/success/0 "the service stopped cleanly with status 0"
notifications "$new_pid" | grep -Eq '(^|, )STOPPING=1(,|$)'
ok $? "systemd got STOPPING=1 from it"
sdtest_wait_journal 5 MESSAGE_ID="$SUBJECT_MESSAGE_STOPPING" _SYSTEMD_UNIT="$SERVICE" _PID="$new_pid"
ok $? "the daemon logs its stop (MESSAGE_ID $SUBJECT_MESSAGE_STOPPING)"

# --- The timer: hourly and persistent, it runs the one-shot service at once when the last run
# is older than the last hour, as after a machine was off. A new orphan waits for it.
sdtest_run curl -sS --max-time "$CURL_MAX_TIME" -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary "{\"connectors\": [$(connector sdtest-late search-sdtest-late google_drive)]}" \
        http://127.0.0.1:9200/_fake/connectors
ok $? "a new orphan appears in the cluster"
before_once=$(wc -l <"$SDTEST_FAKE_LOG")
sdtest_run sh -c 'mkdir -p /var/lib/systemd/timers &&
        touch -d "-3 hours" /var/lib/systemd/timers/stamp-connector-reconciler-once.timer'
sdtest_systemctl start "$TIMER"
ok $? "the timer starts"
sdtest_wait_journal 20 MESSAGE_ID="$SUBJECT_MESSAGE_CYCLE_END" _SYSTEMD_UNIT="$ONCE"
ok $? "the timer runs the one-shot service, which logs its cycle's end"
sdtest_wait_prop "$ONCE" ActiveState inactive 20
is "$(sdtest_prop "$ONCE" Result)/$(sdtest_prop "$ONCE" ExecMainStatus)" success/0 \
        "the one-shot service exits 0"
is "$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_CYCLE_END" _SYSTEMD_UNIT="$ONCE" |
        jq -r '"\(.RESULT) \(.DELETED) \(.FAILED)"')" "ok 1 0" "its cycle deleted the new orphan (RESULT=ok DELETED=1)"
is "$(tail -n +$((before_once + 1)) "$SDTEST_FAKE_LOG" |
        jq -r 'select(.control | not) | "\(.method) \(.path) \(.auth) \(.status)"' | sort -u)" \
        "DELETE /_connector/sdtest-late ApiKey 200
GET / ApiKey 200
GET /_connector ApiKey 200
GET /_connector/_sync_job ApiKey 200
GET /_connector/sdtest-late ApiKey 200" \
        "the fake cluster served the one-shot cycle: info, listing, the orphan read, its sync jobs listed (for its backup), and deleted, with the API key"
is "$(sdtest_run sh -c 'cd "$1" && stat -c "%a" sdtest-late.*.json' sh "$BACKUPS")" 600 \
        "the one-shot service backed the orphan up"
is "$(sdtest_prop "$TIMER" ActiveState)" active "the timer stays active for the next hour"

# --- A broken config: `run` exits 2 at once and RestartPreventExitStatus=2 stops a restart loop.
subject_config "interval: 5m" "intervall: 5m"
! sdtest_systemctl start "$SERVICE" 2>/dev/null
ok $? "systemctl start fails with a broken config"
sdtest_wait_prop "$SERVICE" ActiveState failed 10
ok $? "the service is failed"
is "$(sdtest_prop "$SERVICE" Result)/$(sdtest_prop "$SERVICE" ExecMainCode)/$(sdtest_prop "$SERVICE" ExecMainStatus)" \
        exit-code/1/2 "the daemon exited with status 2 (Result=exit-code)"
# Ten times RestartSec: long enough for a restart to show, were one scheduled.
sleep 1
is "$(sdtest_prop "$SERVICE" ActiveState)/$(sdtest_prop "$SERVICE" NRestarts)" failed/0 \
        "no restart follows (NRestarts=0)"
sdtest_journal -o cat _SYSTEMD_UNIT="$SERVICE" _PID="$(sdtest_prop "$SERVICE" ExecMainPID)" |
        grep -q "^$SUBJECT_CONFIG:[0-9]*:[0-9]*: unknown key 'intervall' (did you mean 'interval'?)$"
ok $? "the journal names the file, line, column and key of the error"

# --- Secrets: the API key is in no journal entry, of any unit or field.
journal=$(sdtest_journal -o json)
# A build with --enable-sanitizers reports to stderr, which is the journal here.
is "$(printf '%s\n' "$journal" | jq -r .MESSAGE 2>/dev/null |
        grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: ' | head -n 5)" "" \
        "no sanitizer report in the journal"
printf '%s\n' "$journal" | grep -qF "$SUBJECT_MESSAGE_DELETED" && ! printf '%s\n' "$journal" | grep -qF "$SDTEST_API_KEY"
ok $? "the API key appears nowhere in journalctl -o json ($(printf '%s\n' "$journal" | wc -l) entries)"

pid1=$SDTEST_PID1 launcher=$SDTEST_LAUNCHER cgroup=$SDTEST_CGROUP
sdtest_teardown
ok $? "the namespace powers off and its cgroup is removed"
! kill -0 "$pid1" 2>/dev/null && ! kill -0 "$launcher" 2>/dev/null && [ ! -d "$cgroup" ]
ok $? "no process the test started is left, nor its cgroup"
diag "booted, checked and torn down in $(($(date +%s) - started)) s"
[ -n "$(sdtest_journal -o json MESSAGE_ID="$SUBJECT_MESSAGE_STARTED" _SYSTEMD_UNIT="$SERVICE")" ]
ok $? "the journal, copied out before the poweroff, still answers queries"
is "$(sdtest_host_state)" "$host_before" "the host's sysctls, hostname, /run, /dev and /etc are unchanged"

tap_done
