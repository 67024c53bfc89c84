# Helpers shared by the chaos tests (tests/chaos/test-*.sh), on top of tests/lib.sh (sourced here).
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

# A file whose existence tells the test's background loops to end, and when the test started.
STOP="$TEST_TMP/stop"
T0=$(date +%s.%N)

TAB=$(printf '\t')

# chaos_connectors PREFIX FIRST COUNT [SERVICE_TYPE]: COUNT connector documents, comma-separated
# (no brackets), with ids PREFIX00000, PREFIX00001, ... from FIRST on, each with its own
# index_name, in the shape lib.sh's connector() gives.
chaos_connectors() {
        awk -v p="$1" -v first="$2" -v n="$3" -v st="${4:-google_drive}" 'BEGIN {
                for (i = first; i < first + n; i++) {
                        id = sprintf("%s%05d", p, i)
                        printf "%s{\"id\":\"%s\",\"name\":\"%s\",\"index_name\":\"search-%s\",", \
                                (i > first ? ",\n" : ""), id, id, id
                        printf "\"service_type\":\"%s\",\"status\":\"connected\",\"configuration\":{},", st
                        printf "\"custom_scheduling\":{},\"filtering\":[],\"is_native\":false,"
                        printf "\"language\":\"en\","
                        printf "\"scheduling\":{\"full\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"}},"
                        printf "\"sync_now\":false}"
                }
                if (n > 0)
                        printf "\n"
        }'
}

# chaos_ids PREFIX FIRST COUNT: the ids chaos_connectors gives, one a line.
chaos_ids() {
        awk -v p="$1" -v first="$2" -v n="$3" \
                'BEGIN { for (i = first; i < first + n; i++) printf "%s%05d\n", p, i }'
}

# chaos_backup_id FILE: the id a backup file's name says (the ids of these tests need no escape).
chaos_backup_id() {
        basename "$1" | sed -E 's/\.[0-9]{8}T[0-9]{6}Z(\.[0-9]+)?\.json$//'
}

# chaos_backup_ids DIR: the ids with a backup in DIR, sorted, each once.
chaos_backup_ids() {
        ls "$1" 2>/dev/null | grep -v '^\.' | sed -E 's/\.[0-9]{8}T[0-9]{6}Z(\.[0-9]+)?\.json$//' | sort -u
}

# chaos_check_backups DIR: checks every *.json backup in DIR: not empty, parses as JSON, and is a
# backup (format_version 2) of the id its name says, holding that connector's document. Prints one line per bad file ("FILE: why") and sets
# CHAOS_BACKUPS to the number of files checked (so call it outside $(...)); returns 1 when any is
# bad.
chaos_check_backups() {
        _dir=$1
        _bad=0
        CHAOS_BACKUPS=0
        [ -d "$_dir" ] || return 0
        CHAOS_BACKUPS=$(find "$_dir" -maxdepth 1 -name '*.json' ! -name '.*' | wc -l)
        [ "$CHAOS_BACKUPS" -eq 0 ] && return 0
        for _f in $(find "$_dir" -maxdepth 1 -name '*.json' ! -name '.*' -empty); do
                echo "$_f: empty"
                _bad=1
        done
        # One jq over all files (fast); on a parse error, one per file to name the bad ones.
        if ! find "$_dir" -maxdepth 1 -name '*.json' ! -name '.*' -print0 |
                xargs -0 jq -r '[input_filename,
                                 (if .format_version == 2 and .connector_id == .document.id then .connector_id
                                  else "not a backup of its document" end | tostring)] | @tsv' \
                        >"$TEST_TMP/backup-ids" 2>/dev/null; then
                for _f in "$_dir"/*.json; do
                        jq -e 'type == "object"' "$_f" >/dev/null 2>&1 || { echo "$_f: not JSON"; _bad=1; }
                done
        fi
        while IFS=$TAB read -r _f _id; do
                [ "$(chaos_backup_id "$_f")" = "$_id" ] || { echo "$_f: holds id '$_id'"; _bad=1; }
        done <"$TEST_TMP/backup-ids"
        return "$_bad"
}

# chaos_unbacked DIR: the connectors the fake carried a DELETE out for (answered 200, whatever
# became of the answer) with no backup in DIR, sorted.
chaos_unbacked() {
        fake_requests 'select(.method == "DELETE" and .status == 200) | .connector_id' | jq -r . |
                sort -u >"$TEST_TMP/carried"
        chaos_backup_ids "$1" >"$TEST_TMP/backed-up"
        comm -23 "$TEST_TMP/carried" "$TEST_TMP/backed-up"
}

# chaos_state_deleted: the ids the fake holds as soft-deleted, sorted.
chaos_state_deleted() {
        fake_control GET /_fake/state | jq -r '.connectors[] | select(.deleted == true) | .id' | sort
}

# chaos_state_live: the ids the fake holds and has not soft-deleted, sorted.
chaos_state_live() {
        fake_control GET /_fake/state | jq -r '.connectors[] | select(.deleted != true) | .id' | sort
}

# chaos_deletes_of PREFIX...: the DELETE requests whose path names a connector id with one of the
# prefixes (matched on the path: a request a fault answered has no connector_id), one a line.
chaos_deletes_of() {
        _re=$(printf '%s|' "$@")
        fake_requests 'select(.method == "DELETE") | .path' | jq -r . |
                grep -E "^/_connector/(${_re%|})" || true
}

# chaos_fault_summary: the faults in the fake's log, counted by kind ("503=12, drop=3, ...").
chaos_fault_summary() {
        fake_requests 'select(.fault != null) | .fault
                | if .action == "status" then
                        "\(.status)\(if .retry_after then "/Retry-After:\(.retry_after)" else "" end)"
                  else .action end' |
                jq -r . | sort | uniq -c | awk '{ printf "%s%s=%s", (NR > 1 ? ", " : ""), $2, $1 }'
}

# chaos_elapsed START: seconds since START (a `date +%s.%N`), with one decimal.
chaos_elapsed() {
        awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}

# chaos_diag_file FILE [LINES]: the first lines (default 5) of FILE as TAP comments.
chaos_diag_file() {
        head -n "${2:-5}" "$1" | cut -c 1-300 | while read -r _l; do diag "$_l"; done
}
