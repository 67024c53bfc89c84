#!/bin/bash
# metrics.textfile against the fake cluster: the values after a success, a failure and a blocked
# cycle, the counters carried from one `once` process to the next, plan and dry runs writing
# nothing, a corrupt counters file, a clean stop of `run`; the file checked by promtool and read
# by a real node_exporter's textfile collector (each skipped when not installed).
. "$top_srcdir/tests/lib.sh"

P=connector_reconciler_
TEXTDIR="$TEST_TMP/textfile"
PROM="$TEXTDIR/cr.prom"
STATE="$TEST_TMP/state"
mkdir -p "$TEXTDIR"

# sample SERIES: the value of one sample, SERIES written as in the file (name and labels).
sample() {
        awk -v s="$1" 'index($0, s " ") == 1 && substr($0, length(s) + 2) !~ / / { print substr($0, length(s) + 2) }' "$PROM"
}

# answers CLASS: the requests (control ones left out) the fake answered with a status of CLASS
# (2, 4 or 5), counted from its log.
answers() {
        fake_requests "select((.status / 100 | floor) == $1) | .status" | wc -l
}

# metrics_config [YAML-LINE...]: write_config with the metrics on.
metrics_config() {
        write_config "$CFG" "metrics:" "  textfile: $PROM" "$@"
}

write_seed "$TEST_TMP/seed.json" "team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive" \
        "team-a-legacy search-a-legacy sharepoint_online" "other search-other confluence"
write_set "$M/team-a.yaml" team-a team-a- team-a-hr team-a-ghost

start_fake --seed "$TEST_TMP/seed.json" --cluster-uuid cr-metrics-1
metrics_config

# --- A success: two orphans deleted. ---
t0=$(date +%s)
reconcile -c "$CFG" once
is "$RC" 0 "a cycle that deletes the orphans exits 0"
[ -f "$PROM" ]; ok $? "the metrics file is written at the end of once"
is "$(stat -c %a "$PROM" 2>/dev/null)" 644 "it is readable by node_exporter's user (0644)"
is "$(ls -A "$TEXTDIR")" "cr.prom" "no temporary is left beside it"
[ -f "$STATE/metrics.state" ]; ok $? "the counters are kept in the state folder"
is "$(stat -c %a "$STATE/metrics.state" 2>/dev/null)" 600 "the counters file has mode 0600"

is "$(sample "${P}cycles_total{result=\"success\"}")" 1 "cycles_total: 1 success"
is "$(sample "${P}cycles_total{result=\"failure\"}")" 0 "cycles_total: 0 failures"
is "$(sample "${P}cycles_total{result=\"blocked\"}")" 0 "cycles_total: 0 blocked"
is "$(sample "${P}actions_total{action=\"delete\",result=\"ok\"}")" 2 "actions_total: 2 deletes ok"
is "$(sample "${P}actions_total{action=\"delete\",result=\"error\"}")" 0 "actions_total: no delete failed"
for a in create update restore; do
        for r in ok error skipped; do
                is "$(sample "${P}actions_total{action=\"$a\",result=\"$r\"}")" 0 "actions_total: $a $r present at 0"
        done
done
got=
for s in declared live owned orphan missing protected unmanaged waiting soft_deleted; do
        got="$got $s=$(sample "${P}connectors{state=\"$s\"}")"
done
is "$got" " declared=2 live=4 owned=3 orphan=2 missing=1 protected=0 unmanaged=1 waiting=0 soft_deleted=0" \
        "connectors: every state, from the cycle's plan"
got=
for g in max_deletions allow_empty removed_set manifests_invalid listing_incomplete cluster_mismatch \
        backup_unusable state_unusable plan_mismatch manifests_stale manifests_unverified; do
        got="$got$(sample "${P}guard_tripped{guard=\"$g\"}")"
done
is "$got" 00000000000 "guard_tripped: every guard present, none tripped"
is "$(sample "${P}http_requests_total{code_class=\"2xx\"}")" "$(answers 2)" \
        "http_requests_total 2xx: as many as the fake answered"
is "$(sample "${P}http_requests_total{code_class=\"5xx\"}")" 0 "http_requests_total 5xx: none"
is "$(sample "${P}http_requests_total{code_class=\"error\"}")" 0 "http_requests_total error: none"
is "$(sample "${P}elasticsearch_info{version=\"9.1.3\",cluster_uuid=\"cr-metrics-1\"}")" 1 \
        "elasticsearch_info: the cluster's version and uuid"
grep -Eq "^${P}manifests_info\{revision=\"sha256:[0-9a-f]{64}\"\} 1$" "$PROM"
ok $? "manifests_info: the manifests' digest"
grep -Eq "^${P}build_info\{version=\"[^\"]+\"\} 1$" "$PROM"; ok $? "build_info: the version"
success1=$(sample "${P}last_success_timestamp_seconds")
is "$(sample "${P}last_cycle_timestamp_seconds")" "$success1" "a success: the last cycle is the last success"
awk -v t="$success1" -v a="$t0" -v b="$(date +%s)" 'BEGIN { exit !(t >= a && t <= b + 1) }'
ok $? "last_success_timestamp_seconds is now ($success1)"
awk -v d="$(sample "${P}cycle_duration_seconds")" 'BEGIN { exit !(d > 0 && d < 60) }'
ok $? "cycle_duration_seconds: the cycle's"
! grep -Eq '^[a-z_]+(\{[^}]*\})? [^ ]+ [0-9]+$' "$PROM"; ok $? "no sample carries a timestamp"
! grep -q 'team-a-old\|team-a-hr' "$PROM"; ok $? "no per-connector label"

# --- A failure: the listing answers 503, retried until the attempts run out. A second process:
# the counters carry on. ---
fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector","status":503}]}' >/dev/null
reconcile -c "$CFG" once
is "$RC" 1 "a cycle whose listing fails exits 1"
is "$(sample "${P}cycles_total{result=\"success\"}")" 1 "the next process keeps the success"
is "$(sample "${P}cycles_total{result=\"failure\"}")" 1 "and counts the failure"
is "$(sample "${P}last_success_timestamp_seconds")" "$success1" "a failure leaves the last success"
awk -v a="$(sample "${P}last_cycle_timestamp_seconds")" -v b="$success1" 'BEGIN { exit !(a > b) }'
ok $? "the last cycle is the failure, later"
is "$(sample "${P}http_requests_total{code_class=\"5xx\"}")" "$(answers 5)" \
        "http_requests_total 5xx: every 503 the fake answered, each retry counted"
[ "$(answers 5)" -ge 2 ]; ok $? "the listing was retried ($(answers 5) answers of 503)"
is "$(sample "${P}http_requests_total{code_class=\"2xx\"}")" "$(answers 2)" \
        "http_requests_total 2xx: the first process's and this one's"
is "$(sample "${P}connectors{state=\"live\"}")" 4 "no plan: the connectors of the last plan stay"
is "$(grep -c "^${P}guard_tripped{.*} 1$" "$PROM")" 0 "a 503 trips no guard"
fake_control DELETE /_fake/faults >/dev/null

# --- Blocked: three new orphans, max_deletions 1. ---
fake_control POST /_fake/connectors "$(write_seed /dev/stdout "team-a-x1 search-x1 google_drive" \
        "team-a-x2 search-x2 google_drive" "team-a-x3 search-x3 google_drive")" >/dev/null
metrics_config "safety:" "  max_deletions: 1"
reconcile -c "$CFG" once
is "$RC" 3 "a cycle over max_deletions exits 3"
is "$(sample "${P}cycles_total{result=\"blocked\"}")" 1 "cycles_total: 1 blocked"
is "$(sample "${P}guard_tripped{guard=\"max_deletions\"}")" 1 "guard_tripped: max_deletions"
is "$(grep -c "^${P}guard_tripped{.*} 1$" "$PROM")" 1 "and no other guard"
is "$(sample "${P}connectors{state=\"orphan\"}")" 3 "connectors: the 3 orphans of the blocked plan"
is "$(sample "${P}actions_total{action=\"delete\",result=\"ok\"}")" 2 "a blocked cycle deletes nothing"
blocked=$(cat "$PROM")
state=$(cat "$STATE/metrics.state")

# --- plan and once --dry-run write neither file. ---
reconcile -c "$CFG" plan
reconcile -c "$CFG" once --dry-run
is "$(cat "$PROM")" "$blocked" "plan and once --dry-run leave the metrics file as it was"
is "$(cat "$STATE/metrics.state")" "$state" "and the counters"

# --- A guard from the cycle: another cluster than cluster.cluster_uuid names. ---
metrics_config "safety:" "  max_deletions: 1"
sed -i "s|^  url: .*|&\n  cluster_uuid: another-cluster|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "a cycle against another cluster exits 1"
is "$(sample "${P}guard_tripped{guard=\"cluster_mismatch\"}")" 1 "guard_tripped: cluster_mismatch"
is "$(sample "${P}guard_tripped{guard=\"max_deletions\"}")" 0 "the guards are the last cycle's"
is "$(sample "${P}cycles_total{result=\"failure\"}")" 2 "cycles_total: 2 failures"

# --- Another: more connectors than the result window lets the listing see. ---
metrics_config
sed -i "s|^  url: .*|&\n  max_result_window: 2|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "a listing past the result window exits 1"
is "$(sample "${P}guard_tripped{guard=\"listing_incomplete\"}")" 1 "guard_tripped: listing_incomplete"
is "$(grep -c "^${P}guard_tripped{.*} 1$" "$PROM")" 1 "and no other guard"

# --- A corrupt counters file: a warning, and the counters start again at 0. ---
printf 'format_version 1\ncycles_total.success 12x\n' >"$STATE/metrics.state"
metrics_config "safety:" "  max_deletions: 1"
reconcile -c "$CFG" once
is "$RC" 3 "blocked again"
grep -q "The metrics counters '$STATE/metrics.state' are not valid (line 2: the value is not an unsigned 64-bit integer): starting them at 0" "$ERR"
ok $? "a corrupt counters file is a warning naming it and what is wrong"
got=$(for r in success failure blocked; do sample "${P}cycles_total{result=\"$r\"}"; done | tr '\n' ' ')
is "$got" "0 0 1 " "the counters start again at 0"
is "$(sample "${P}last_success_timestamp_seconds")" 0 "and so does the last success"

# --- run: a cycle, then SIGTERM; the clean stop leaves the file. ---
rm -f "$PROM"
metrics_config "interval: 1h"
"$RECONCILER" --log-target console -c "$CFG" run >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" &
RUN_PID=$!
TEST_PIDS="$TEST_PIDS $RUN_PID"
wait_alive "$RUN_PID" 20 grep -q "^${P}cycles_total{result=\"success\"} 1$" "$PROM"
ok $? "run writes the metrics at the end of its first cycle"
rm -f "$PROM"
stop_pid "$RUN_PID" 10 "run (SIGTERM)"
is "$EXIT_STATUS" 0 "run stops cleanly on SIGTERM"
is "$(sample "${P}cycles_total{result=\"success\"}")" 1 "the clean stop writes the metrics again"
is "$(sample "${P}actions_total{action=\"delete\",result=\"ok\"}")" 3 "run deleted the 3 orphans"
is "$(ls -A "$TEXTDIR")" "cr.prom" "no temporary is left"
stop_fake

# --- promtool ---
if command -v promtool >/dev/null; then
        promtool check metrics <"$PROM" >"$TEST_TMP/promtool.out" 2>&1
        ok $? "promtool check metrics accepts the file$(head -c 300 "$TEST_TMP/promtool.out" | tr '\n' ' ')"
else
        echo "ok $((TAP_N + 1)) # SKIP promtool is not installed (Debian: prometheus)"
        TAP_N=$((TAP_N + 1))
fi

# --- node_exporter's textfile collector, on a free loopback port of its own. ---
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -n "$NODE_EXPORTER" ]; then
        NE_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
                --collector.textfile --collector.textfile.directory="$TEXTDIR" >"$TEST_TMP/ne.log" 2>&1 &
        NE_PID=$!
        TEST_PIDS="$TEST_PIDS $NE_PID"
        scrape() {
                curl -sS --max-time 5 "http://127.0.0.1:$NE_PORT/metrics" >"$TEST_TMP/scrape" 2>/dev/null
        }
        wait_alive "$NE_PID" 10 scrape
        ok $? "node_exporter answers on 127.0.0.1:$NE_PORT"
        grep -qx 'node_textfile_scrape_error 0' "$TEST_TMP/scrape"
        ok $? "node_textfile_scrape_error 0: the collector read the file"
        grep -qx "${P}cycles_total{result=\"success\"} 1" "$TEST_TMP/scrape"
        ok $? "the cycles counter is exported"
        for s in build_info elasticsearch_info manifests_info last_cycle_timestamp_seconds \
                last_success_timestamp_seconds cycle_duration_seconds cycles_total connectors actions_total \
                guard_tripped http_requests_total; do
                grep -q "^${P}$s[{ ]" "$TEST_TMP/scrape" || diag "not scraped: $s"
        done
        is "$(grep -c "^${P}" "$TEST_TMP/scrape")" "$(grep -c "^${P}" "$PROM")" "every series of the file is scraped"
        # A temporary (as a crash would leave one) is not read: node_exporter reads only *.prom.
        printf 'garbage{\n' >"$TEXTDIR/.cr.prom.12345.tmp"
        scrape
        grep -qx 'node_textfile_scrape_error 0' "$TEST_TMP/scrape"
        ok $? "a leftover temporary is ignored by the collector"
        stop_pid "$NE_PID" 10 "node_exporter (SIGTERM)"
else
        echo "ok $((TAP_N + 1)) # SKIP prometheus-node-exporter is not installed"
        TAP_N=$((TAP_N + 1))
fi

tap_done
