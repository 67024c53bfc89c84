#!/bin/bash
# The cluster client under the fake cluster's faults: 503 twice then success; 429 with
# Retry-After waited for (a lower bound on the gap in the fake's log); a dropped connection and a
# truncated body retried; 400, 500 and a malformed body not retried; a server that hangs cut off by
# the timeout; retries that run out; the body cap.
. "$top_srcdir/tests/lib.sh"

TOOL="$top_builddir/tests/cluster-tool"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

tool() {  # tool ARGS...: runs cluster-tool against the fake; output in $OUT and $ERR, status in $RC
        timeout 60 "$TOOL" --url "$FAKE_URL" --initial-delay-ms 20 --max-delay-ms 100 "$@" \
                >"$TEST_TMP/out" 2>"$TEST_TMP/err"
        RC=$?
        OUT="$TEST_TMP/out"
        ERR="$TEST_TMP/err"
}

faults() {  # faults JSON: replaces the fake's fault rules and empties its log
        fake_control POST /_fake/faults "$1" >/dev/null
        : >"$FAKE_LOG"
}

list_statuses() {  # the statuses of the GET /_connector requests, in order ("null": dropped)
        fake_requests 'select(.path == "/_connector") | .status' | tr '\n' ' '
}

jq -n '{connectors: [range(30) | {id: "c\(.)", name: "Connector \(.)", index_name: "i\(.)"}]}' >"$TEST_TMP/seed.json"
start_fake --seed "$TEST_TMP/seed.json"
tool info   # the client learns the version once per run; warm the fake up
is "$RC" 0 "the fake answers"

# ---- 503 twice, then success
faults '{"faults": [{"method": "GET", "path": "/_connector", "count": 2, "status": 503}]}'
tool list
is "$RC" 0 "503 twice then 200: the listing succeeds"
is "$(list_statuses)" "503 503 200 " "three attempts at the first page"
is "$(grep -c '^Retrying GET /_connector?from=0&size=100: attempt [12] of 5 failed (503 ' "$ERR")" 2 \
        "each retry is reported to the hook with its attempt and status"
is "$(jq -r 'select(has("complete")) | .listed' "$OUT")" 30 "and every connector arrives"

# ---- 429 with Retry-After: 1 replaces the computed delay (100 ms at most here)
faults '{"faults": [{"method": "DELETE", "path": "/_connector/*", "count": 1, "status": 429, "retry_after": "1"}]}'
tool delete c1
is "$RC" 0 "429 then 200: the delete succeeds"
is "$(fake_requests 'select(.method == "DELETE") | .status' | tr '\n' ' ')" "429 200 " "two attempts"
grep -q "next in 1000 ms" "$ERR"
ok $? "the hook is told the delay is Retry-After's 1000 ms"
# Milliseconds since the epoch of each DELETE's log entry (written when its answer went out).
ms=$(fake_requests 'select(.method == "DELETE") | .time' | tr -d '"' |
        while read -r t; do echo $(( $(date -u -d "${t%.*}Z" +%s) * 1000 + 10#$(echo "$t" | sed 's/.*\.\([0-9]*\)Z/\1/') )); done)
gap=$(( $(echo "$ms" | tail -n 1) - $(echo "$ms" | head -n 1) ))
ok "$([ "$gap" -ge 990 ]; echo $?)" "the retry came at least 1 s after the 429 (gap ${gap} ms)"

# ---- A dropped connection and a truncated body are retried
faults '{"faults": [{"method": "GET", "path": "/_connector", "count": 1, "drop": true}]}'
tool list
is "$RC" 0 "a dropped connection, then success"
is "$(list_statuses)" "null 200 " "the dropped request is retried"

faults '{"faults": [{"method": "GET", "path": "/_connector", "count": 1, "truncate": true}]}'
tool list
is "$RC" 0 "a truncated body, then success"
is "$(fake_requests 'select(.path == "/_connector") | .seq' | wc -l)" 2 "the truncated request is retried"

faults '{"faults": [{"method": "GET", "path": "/_connector", "truncate": true}]}'
tool --max-attempts 2 list
is "$RC" 1 "a body truncated every time is an error"
is "$(fake_requests 'select(.path == "/_connector") | .seq' | wc -l)" 2 "after --max-attempts 2"
is "$(jq -r 'select(.id) | .id' "$OUT" | wc -l)" 0 "and nothing is listed"

# ---- Not retried: a malformed body, 400, 500
faults '{"faults": [{"method": "GET", "path": "/_connector", "malformed": true}]}'
tool list
is "$RC" 1 "a malformed body is an error"
grep -q "GET /_connector?from=0&size=100: Malformed response (200): The response is not valid JSON" "$ERR"
ok $? "that says so"
is "$(fake_requests 'select(.path == "/_connector") | .seq' | wc -l)" 1 "and is not retried"

for status in 400 500; do
        faults "{\"faults\": [{\"method\": \"GET\", \"path\": \"/_connector\", \"count\": 1, \"status\": $status}]}"
        tool list
        is "$RC" 1 "$status is an error"
        is "$(list_statuses)" "$status " "$status is not retried: exactly one request"
        grep -q "GET /_connector?from=0&size=100: $status " "$ERR"
        ok $? "the message names the request and the status"
done

# ---- Retries run out
faults '{"faults": [{"method": "GET", "path": "/_connector", "status": 503}]}'
tool --max-attempts 3 list
is "$RC" 1 "503 every time fails"
is "$(list_statuses)" "503 503 503 " "after exactly --max-attempts 3"
is "$(grep -c '^Retrying' "$ERR")" 2 "with two retries announced"
grep -q "GET /_connector?from=0&size=100: 503 " "$ERR"
ok $? "and the last status is reported"

faults '{"faults": [{"method": "DELETE", "path": "/_connector/*", "count": 1, "status": 502}]}'
tool delete c2
is "$(jq -r .result "$OUT")" deleted "a delete that met 502 once is retried and done"

# ---- A server that hangs is cut off by the request timeout (and a timeout is retried)
faults '{"faults": [{"method": "GET", "path": "/_connector", "delay_ms": 5000}]}'
tool --timeout-ms 300 --max-attempts 2 list
is "$RC" 1 "a hanging server fails the listing"
grep -qi "timed out" "$ERR"
ok $? "with a timeout ($(grep -i 'timed out' "$ERR" | head -n 1))"
is "$(grep -c '^Retrying' "$ERR")" 1 "a timeout is retried"

# ---- The body cap
faults '{"faults": []}'
tool --max-body-bytes 600 list
is "$RC" 1 "a page larger than --max-body-bytes fails"
grep -q "GET /_connector?from=0&size=100: Response body larger than 600 bytes" "$ERR"
ok $? "and says so"
is "$(fake_requests 'select(.path == "/_connector") | .seq' | wc -l)" 1 "and is not retried"

tap_done
