#!/bin/bash
# The in-flight bound, made observable by the fake's delay fault. Every DELETE is held D ms before
# its answer, and the fake logs each request when it answers, so a request logged at time t was on
# the wire during [t - D, t]. Four answers logged within less than D of each other were therefore
# all on the wire at the earliest of those times: with --in-flight 4 the first four overlap. The
# fifth can only start once one of them has finished, so it is logged at least D after the
# first; with --in-flight 1 every answer is at least D after the previous one. (Only lower bounds
# on time, except "within less than D", where D is large next to the spread of four answers sent
# at once.)
. "$top_srcdir/tests/lib.sh"

TOOL="$top_builddir/tests/cluster-tool"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

# delete_times: milliseconds since the epoch at which each DELETE was answered, in order.
delete_times() {
        fake_requests 'select(.method == "DELETE") | .time' | tr -d '"' | while read -r t; do
                echo $(( $(date -u -d "${t%.*}Z" +%s) * 1000 + 10#$(echo "$t" | sed 's/.*\.\([0-9]*\)Z/\1/') ))
        done | sort -n
}

jq -n '{connectors: [range(8) | {id: "c\(.)", index_name: "i"}]}' >"$TEST_TMP/seed.json"

# ---- Four in flight
D=2000
cat >"$TEST_TMP/faults.json" <<EOF
{"faults": [{"method": "DELETE", "path": "/_connector/*", "delay_ms": $D}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
timeout 60 "$TOOL" --url "$FAKE_URL" --in-flight 4 --hard delete-many c0 c1 c2 c3 c4 c5 c6 c7 \
        >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 0 "eight deletes with --in-flight 4 succeed"
is "$(jq -r 'select(.result == "deleted") | .id' "$TEST_TMP/out" | wc -l)" 8 "all eight are deleted"
mapfile -t t < <(delete_times)
is "${#t[@]}" 8 "eight DELETEs reached the fake"
spread=$(( t[3] - t[0] ))
ok "$([ "$spread" -lt "$D" ]; echo $?)" \
        "the first four were answered within ${spread} ms (< $D ms hold): they were in flight together"
fifth=$(( t[4] - t[0] ))
ok "$([ "$fifth" -ge $((D - 10)) ]; echo $?)" \
        "the fifth was answered ${fifth} ms after the first (>= $D ms): it waited for a free slot"
stop_fake

# ---- One in flight
D=500
cat >"$TEST_TMP/faults.json" <<EOF
{"faults": [{"method": "DELETE", "path": "/_connector/*", "delay_ms": $D}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
timeout 60 "$TOOL" --url "$FAKE_URL" --in-flight 1 --hard delete-many c0 c1 c2 >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 0 "three deletes with --in-flight 1 succeed"
mapfile -t t < <(delete_times)
ok "$([ $(( t[1] - t[0] )) -ge $((D - 10)) ] && [ $(( t[2] - t[1] )) -ge $((D - 10)) ]; echo $?)" \
        "each was answered at least $D ms after the one before ($(( t[1] - t[0] )), $(( t[2] - t[1] )) ms): one at a time"
stop_fake

tap_done
