#!/bin/bash
# Resources: a cluster of 100,000 connectors, past the list API's result window (a plain error,
# exit 1, no DELETE, no backup); a 200 MiB answer, to the listing (announced by Content-Length, or
# chunked) and to the GET a backup needs: refused, with the peak memory (VmHWM, /usr/bin/time -f
# %M) bounded and no DELETE; a server that trickles one byte a second, cut off by the request
# timeout; 10,000 manifest files (flat, and in 100 folders) validated, planned and acted on, also
# with `ulimit -n 64`.
. "$top_srcdir/tests/chaos/chaos-lib.sh"

[ -x /usr/bin/time ] || skip_all "/usr/bin/time is missing (to measure the peak memory)"

MAX_KIB=$((200 * 1024)) # the peak memory allowed, in KiB
# AddressSanitizer keeps freed memory in quarantine (256 MiB), so its peaks say nothing.
ASAN=""
grep -qa __asan_init "$RECONCILER" && ASAN=" # SKIP AddressSanitizer build: freed memory stays in quarantine"

# bounded DESCRIPTION: asserts $PEAK < $MAX_KIB (skipped under AddressSanitizer).
bounded() {
        [ -n "$ASAN" ] || [ "$PEAK" -lt "$MAX_KIB" ]
        ok $? "$1 ($PEAK KiB)$ASAN"
}

# measured ARGS...: `reconcile`, recording the peak resident memory in KiB in $PEAK.
measured() {
        timeout -k 5 60 /usr/bin/time -f %M -o "$TEST_TMP/peak" "$RECONCILER" --log-target console "$@" \
                >"$OUT" 2>"$ERR"
        RC=$?
        PEAK=$(tail -n 1 "$TEST_TMP/peak")
}

# ---- 100,000 connectors, small documents; one set owns them all and declares one.
awk 'BEGIN {
        printf "{\"connectors\":["
        for (i = 0; i < 100000; i++)
                printf "%s{\"id\":\"c-%06d\",\"index_name\":\"i-%06d\",\"service_type\":\"jira\"}", \
                        (i ? "," : ""), i, i
        print "]}"
}' >"$TEST_TMP/big.json"
write_set "$M/all.yaml" all c- --delete-sync-jobs c-000000
start_fake --seed "$TEST_TMP/big.json"
write_config "$CFG" "safety:" "  max_deletions: unlimited"
measured -c "$CFG" once
is "$RC" 1 "100,000 connectors past the result window: once exits 1"
said="The cluster holds at least 10000 connectors (Elasticsearch counts no further); "
said="${said}the list API shows at most 10000 (index.max_result_window), so the listing is incomplete"
grep -qF "$said" "$ERR"
ok $? "saying how many there are (as many as Elasticsearch counts) and that it cannot see them all"
grep "incomplete" "$ERR" >"$TEST_TMP/said"
chaos_diag_file "$TEST_TMP/said" 1
is "$(fake_requests 'select(.method == "DELETE")' | wc -l)" 0 "and sending no DELETE"
[ ! -d "$B" ] || [ -z "$(ls -A "$B")" ]; ok $? "nor writing any backup"
bounded "and its peak memory stays under 200 MiB"
measured -c "$CFG" plan --format json
is "$RC" 1 "plan says the same (exit 1)"
stop_fake

# ---- 200 MiB answers from a stand-in server.
if command -v python3 >/dev/null; then
        rm -f "$M"/*.yaml
        write_set "$M/team.yaml" team team- --delete-sync-jobs team-keep-00000
        for mode in list-length list-chunked doc-chunked; do
                : >"$TEST_TMP/big-$mode.log"
                python3 "$top_srcdir/tests/chaos/big-body-server.py" "$TEST_TMP/big-$mode.port" \
                        "$TEST_TMP/big-$mode.log" "$mode" 200 &
                SERVER=$!
                TEST_PIDS="$TEST_PIDS $SERVER"
                wait_alive "$SERVER" 10 test -s "$TEST_TMP/big-$mode.port" ||
                        bail_out "the stand-in server ($mode) did not start"
                FAKE_URL="http://127.0.0.1:$(cat "$TEST_TMP/big-$mode.port")"
                write_config "$CFG" "  max_attempts: 2"
                s=$(date +%s.%N)
                measured -c "$CFG" once
                is "$RC" 1 "$mode: a 200 MiB body is refused, exit 1"
                grep -q "larger than 67108864 bytes" "$ERR"; ok $? "$mode: saying it is larger than the cap"
                grep "larger than" "$ERR" >"$TEST_TMP/said"
                chaos_diag_file "$TEST_TMP/said" 1
                bounded "$mode: the peak memory stays under 200 MiB"
                is "$(grep -c '^DELETE' "$TEST_TMP/big-$mode.log")" 0 "$mode: no DELETE"
                diag "$mode: $(chaos_elapsed "$s") s; requests:" \
                        "$(sort "$TEST_TMP/big-$mode.log" | uniq -c | tr -s ' ' | tr '\n' ';')"
                stop_pid "$SERVER" 10 "the stand-in server, on SIGTERM"
        done
        [ ! -d "$B" ] || [ -z "$(ls -A "$B")" ]; ok $? "no backup was written from a refused document"
else
        diag "python3 is missing: the 200 MiB answers are not tried"
fi

# ---- A server that trickles one byte a second: the request timeout (2 s) cuts it off.
{ echo '{"connectors":['; chaos_connectors team-old- 0 3; echo ']}'; } >"$TEST_TMP/small.json"
echo '{"faults":[{"method":"GET","path":"/_connector","trickle_bytes_per_sec":1}]}' >"$TEST_TMP/faults.json"
start_fake --seed "$TEST_TMP/small.json" --faults "$TEST_TMP/faults.json"
write_config "$CFG" "  max_attempts: 2"
sed -i 's/^  request_timeout: .*/  request_timeout: 2s/' "$CFG"
s=$(date +%s.%N)
reconcile -c "$CFG" once
is "$RC" 1 "a trickling listing: once gives up with exit 1 (not killed by the test's 60 s bound)"
grep -q "timed out" "$ERR"; ok $? "saying the request timed out"
grep "timed out" "$ERR" >"$TEST_TMP/said"
chaos_diag_file "$TEST_TMP/said" 1
is "$(fake_requests 'select(.path == "/_connector") | .fault.action' | tr -d '"' | tr '\n' ' ')" \
        "trickle trickle " \
        "after max_attempts (2) attempts"
is "$(fake_requests 'select(.method == "DELETE")' | wc -l)" 0 "and no DELETE"
diag "trickle: $(chaos_elapsed "$s") s"
stop_fake

# ---- 10,000 manifest files, one connector each, flat and in 100 folders, with few descriptors.
rm -rf "$M"
bash "$top_srcdir/tests/bench/gen-manifests.sh" "$M" 10000 10000
# The cluster: the connectors 0-999 declare, plus 500 orphans of the sets 0-499.
awk 'BEGIN {
        printf "{\"connectors\":["
        for (f = 0; f < 1500; f++) {
                t = f < 1000 ? f : f - 1000
                c = f < 1000 ? 0 : 1
                printf "%s{\"id\":\"team-%04d-connector-%05d\",", (f ? "," : ""), t, c
                printf "\"index_name\":\"search-%04d-index-%05d\",\"service_type\":\"google_drive\"}", t, c
        }
        print "]}"
}' >"$TEST_TMP/teams.json"
start_fake --seed "$TEST_TMP/teams.json"
write_config "$CFG" "safety:" "  max_deletions: unlimited"
for layout in flat folders; do
        if [ "$layout" = folders ]; then
                for d in $(seq -w 0 99); do
                        mkdir "$M/d$d"
                        mv "$M"/team-??"$d".yaml "$M/d$d/"
                done
        fi
        for fds in unlimited 64; do
                (
                        [ "$fds" = 64 ] && ulimit -n 64
                        reconcile -c "$CFG" validate
                        echo "$RC" >"$TEST_TMP/rc"
                )
                is "$(cat "$TEST_TMP/rc")" 0 "$layout, descriptors $fds: validate accepts 10,000 files"
                grep -q "10000 files, 10000 sets, 10000 connectors declared: valid" "$OUT"
                ok $? "$layout, descriptors $fds: and counts them all"
                (
                        [ "$fds" = 64 ] && ulimit -n 64
                        reconcile -c "$CFG" plan --format json
                        echo "$RC" >"$TEST_TMP/rc"
                )
                is "$(cat "$TEST_TMP/rc")" 0 "$layout, descriptors $fds: plan succeeds"
                is "$(jq -c '[(.delete | length), (.keep | length), (.missing | length)]' "$OUT")" \
                        "[500,1000,9000]" \
                        "$layout, descriptors $fds: 500 to delete, 1,000 to keep, 9,000 missing"
        done
done
(
        ulimit -n 64
        reconcile -c "$CFG" once
        echo "$RC" >"$TEST_TMP/rc"
)
is "$(cat "$TEST_TMP/rc")" 0 "with 64 descriptors, once deletes the 500 orphans"
is "$(deleted_ids | wc -l)" 500 "each with one DELETE"
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "and a good backup each ($CHAOS_BACKUPS files)"
diag "wall time $(chaos_elapsed "$T0") s"

tap_done
