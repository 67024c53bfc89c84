# Helpers shared by the tests in tests/hygiene/, sourced after tests/lib.sh.

HYGIENE_M="$TEST_TMP/manifests"
HYGIENE_CFG="$TEST_TMP/config.yaml"
mkdir -p "$HYGIENE_M"

# seed_team_a FILE [EXTRA-ID...]: team-a-hr (declared by team_a_manifest), the orphans team-a-old
# and team-a-legacy, one connector no set owns, and one orphan team-a-ID per extra id.
seed_team_a() {
        _seed=$1
        shift
        {
                echo '{"connectors":['
                connector team-a-hr search-a-hr google_drive; echo ,
                connector team-a-old search-a-old google_drive; echo ,
                connector team-a-legacy search-a-legacy google_drive; echo ,
                connector other search-other confluence
                for _id in "$@"; do
                        echo ,
                        connector "team-a-$_id" "search-a-$_id" google_drive
                done
                echo ']}'
        } >"$_seed"
}

# team_a_manifest: the set that owns every team-a- connector and declares team-a-hr.
team_a_manifest() {
        cat >"$HYGIENE_M/team-a.yaml" <<'YAML'
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: team-a
spec:
  selector:
    id_prefix: team-a-
  prune:
    delete_sync_jobs: true
  connectors:
    - id: team-a-hr
YAML
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds (0) or SECONDS pass (1).
wait_for() {
        _wait_n=$(( $1 * 10 ))
        shift
        while [ "$_wait_n" -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                _wait_n=$((_wait_n - 1))
                sleep 0.1
        done
        return 1
}

# wait_alive PID SECONDS COMMAND...: as wait_for, giving up early (1) when process PID is gone.
wait_alive() {
        _wait_pid=$1
        _wait_n=$(( $2 * 10 ))
        shift 2
        while [ "$_wait_n" -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                kill -0 "$_wait_pid" 2>/dev/null || return 1
                _wait_n=$((_wait_n - 1))
                sleep 0.1
        done
        return 1
}

# forget_pid PID: the process has been waited for; lib.sh's cleanup need not end it.
forget_pid() {
        TEST_PIDS=$(printf '%s\n' $TEST_PIDS | grep -vx "$1" | tr '\n' ' ')
}

# is_sanitized PROGRAM: built with AddressSanitizer (which valgrind cannot run under)?
is_sanitized() {
        grep -qa __asan_init "$1"
}
