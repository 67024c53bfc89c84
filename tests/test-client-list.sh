#!/bin/bash
# The cluster client lists connectors from the fake cluster: every page (from/size as sent),
# every id once, nothing but from, size and the filter_path that asks for the count and five
# fields (9.x hides soft-deleted connectors by itself), a listing whose pages disagree reported
# as incomplete, and a count past the result window a plain error after one page. The fields
# decode whether the cluster honours filter_path (Elasticsearch) or sends whole documents.
. "$top_srcdir/tests/lib.sh"

TOOL="$top_builddir/tests/cluster-tool"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

# What every list request must carry, after from and size.
FILTER='count,results.id,results.name,results.service_type,results.index_name,results.deleted'

# list_queries_ok: every GET /_connector's query, as sent, is from=N&size=N&filter_path=$FILTER.
list_queries_ok() {
        [ "$(fake_requests 'select(.path == "/_connector") | .seq' | wc -l)" -gt 0 ] &&
                fake_requests 'select(.path == "/_connector") | .raw_query' | jq -r . |
                awk -v f="$FILTER" '$0 !~ "^from=[0-9]+&size=[0-9]+&filter_path=" || substr($0, index($0, "&filter_path=") + 13) != f { bad++ } END { exit bad > 0 }'
}

tool() {  # tool ARGS...: runs cluster-tool against the fake; output in $OUT and $ERR, status in $RC
        timeout 60 "$TOOL" --url "$FAKE_URL" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
        RC=$?
        OUT="$TEST_TMP/out"
        ERR="$TEST_TMP/err"
}

# seed FILE N: N connectors c0000..., their index names shared by many (the list sorts by them).
seed() {
        jq -n --argjson n "$2" '{connectors: [range($n) | {id: ("c" + (. | tostring | ("0000" + .)[-4:])),
                name: "Connector \(.)", service_type: "s3", index_name: "search-\(. % 37)"}]}' >"$1"
}

# ---- 1,234 connectors in pages of 100
seed "$TEST_TMP/seed.json" 1234
start_fake --seed "$TEST_TMP/seed.json" --version 9.1.3

tool --page-size 100 list
is "$RC" 0 "listing 1,234 connectors exits 0"
jq -r 'select(.id) | .id' "$OUT" | sort >"$TEST_TMP/listed"
jq -r '.connectors[].id' "$TEST_TMP/seed.json" | sort >"$TEST_TMP/seeded"
is "$(wc -l <"$TEST_TMP/listed")" 1234 "1,234 connectors are listed"
check "every seeded id is listed exactly once" cmp -s "$TEST_TMP/listed" "$TEST_TMP/seeded"
is "$(jq -c 'select(has("complete"))' "$OUT")" '{"complete":true,"count":1234,"listed":1234,"attempts":1,"incomplete_reason":null}' \
        "the listing is complete and says so"
is "$(jq -r 'select(.id == "c0042") | [.name, .service_type, .index_name, .deleted] | @tsv' "$OUT")" \
        "$(printf 'Connector 42\ts3\tsearch-5\tfalse')" "the fields of a connector are decoded"

is "$(fake_requests 'select(.path == "/_connector") | .query.from' | tr -d '"' | tr '\n' ' ')" \
        "0 100 200 300 400 500 600 700 800 900 1000 1100 1200 " "13 pages, from 0 to 1200 in steps of 100"
is "$(fake_requests 'select(.path == "/_connector") | .query.size' | sort -u | tr -d '"')" "100" "every page asks for size 100"
is "$(fake_requests 'select(.path == "/_connector") | .query | keys | join(",")' | sort -u | tr -d '"')" \
        "filter_path,from,size" "only from, size and filter_path are sent: no include_deleted"
is "$(fake_requests 'select(.path == "/_connector") | .query.filter_path' | sort -u | tr -d '"')" "$FILTER" \
        "every page asks for the count and the five fields the plan reads"
list_queries_ok
ok $? "every page's query is from=N&size=N&filter_path=... exactly, in that order"
is "$(fake_requests '[.method, .path] | join(" ")' | head -n 1 | tr -d '"')" "GET /" "GET / comes first"
is "$(fake_requests 'select(.path == "/") | .seq' | wc -l)" 1 "GET / is sent once"
is "$(fake_requests 'select(.status != 200) | .seq' | wc -l)" 0 "no request failed"

# ---- 9.x: a soft-deleted connector is hidden from the list, and the client does not ask for it
tool delete c0007
is "$(jq -r .result "$OUT")" deleted "a plain delete on 9.x (a soft delete) succeeds"
tool --page-size 500 list
is "$RC" 0 "listing again exits 0"
is "$(jq -r 'select(.id == "c0007") | .id' "$OUT")" "" "the soft-deleted connector is not listed"
is "$(jq -c 'select(has("complete")) | [.complete, .count, .listed]' "$OUT")" "[true,1233,1233]" \
        "1,233 listed, complete"
stop_fake

# ---- A listing whose pages disagree is taken again, and used once it is consistent: here five
# connectors that sort first appear while the second page is asked for.
seed "$TEST_TMP/seed.json" 30
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "skip": 1, "count": 1,
             "mutate": {"connectors": [{"id":"new-1","index_name":"a"},{"id":"new-2","index_name":"a"},
                                       {"id":"new-3","index_name":"a"},{"id":"new-4","index_name":"a"},
                                       {"id":"new-5","index_name":"a"}]}}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
tool --page-size 10 --initial-delay-ms 10 list
is "$RC" 0 "a listing that shifted is taken again"
is "$(jq -c 'select(has("complete")) | [.complete, .count, .listed, .attempts]' "$OUT")" "[true,35,35,2]" \
        "the second listing is consistent, and used: all 35"
is "$(jq -r 'select(.id) | .id' "$OUT" | sort | uniq -d | wc -l)" 0 "no id is listed twice"
grep -q "Retrying Listing the connectors: attempt 1 of 3 failed (the connector count changed from 30 to 35 while listing" "$ERR"
ok $? "the retry says why: the count changed from 30 to 35"
is "$(fake_requests 'select(.path == "/_connector") | .query.from' | tr -d '"' | tr '\n' ' ')" \
        "0 10 20 30 0 10 20 30 " "every page of both listings was read"
stop_fake

# ---- A listing that never comes out consistent is not used: the pages keep disagreeing
cat >"$TEST_TMP/faults.json" <<'EOF'
{"faults": [{"method": "GET", "path": "/_connector", "skip": 1, "body": "{\"count\":31,\"results\":[]}"}]}
EOF
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
tool --page-size 10 --initial-delay-ms 10 list
is "$RC" 1 "a listing whose pages never agree fails"
is "$(jq -r 'select(.id) | .id' "$OUT" | wc -l)" 0 "and delivers no connector at all"
grep -q "The connector listing changed while it was read, 3 times in a row" "$ERR"
ok $? "saying it was taken 3 times"
is "$(grep -c "Retrying Listing the connectors" "$ERR")" 2 "after two retries"
stop_fake

# ---- Past the result window. Elasticsearch counts list hits exactly only up to 10,000, so with
# 10,050 connectors the count says 10000: at least as many as the window shows. A plain error
# after the first page.
seed "$TEST_TMP/seed.json" 10050
start_fake --seed "$TEST_TMP/seed.json"
tool list
is "$RC" 1 "10,050 connectors: listing fails"
grep -q "The cluster holds at least 10000 connectors (Elasticsearch counts no further); the list API shows at most 10000 (index.max_result_window), so the listing is incomplete" "$ERR"
ok $? "the error says there are at least 10000 and only 10000 can be seen"
is "$(jq -r 'select(.id) | .id' "$OUT" | wc -l)" 0 "nothing is listed"
is "$(fake_requests 'select(.path == "/_connector") | .query.from' | tr -d '"' | tr '\n' ' ')" "0 " \
        "one page is asked for, no more"
stop_fake

# A window lowered below the exact count: the error gives the exact number.
seed "$TEST_TMP/seed.json" 60
start_fake --seed "$TEST_TMP/seed.json" --max-result-window 50
tool --max-result-window 50 --page-size 20 list
is "$RC" 1 "60 connectors under a window of 50: listing fails"
grep -q "The cluster holds 60 connectors; the list API shows at most 50 (index.max_result_window), so the listing is incomplete" "$ERR"
ok $? "the error says how many there are and how many can be seen"
is "$(fake_requests 'select(.path == "/_connector") | .query.from' | tr -d '"' | tr '\n' ' ')" "0 " \
        "one page is asked for, no more"
stop_fake

# The same with a smaller window on both sides, and a page size that does not divide it.
seed "$TEST_TMP/seed.json" 48
start_fake --seed "$TEST_TMP/seed.json" --max-result-window 50
tool --max-result-window 50 --page-size 20 list
is "$RC" 0 "48 connectors under a window of 50 list"
is "$(fake_requests 'select(.path == "/_connector") | "\(.query.from)+\(.query.size)"' | tr -d '"' | tr '\n' ' ')" \
        "0+20 20+20 40+10 " "the last page stops at the window (from + size <= 50)"
is "$(fake_requests 'select(.status != 200) | .seq' | wc -l)" 0 "the fake accepted every page"
list_queries_ok
ok $? "every page carries the filter_path, the last one too"
stop_fake

# ---- No connectors at all: Elasticsearch's filtered answer is {"count":0}, with no 'results'
echo '{"connectors": []}' >"$TEST_TMP/seed.json"
start_fake --seed "$TEST_TMP/seed.json"
tool list
is "$RC" 0 "an empty cluster lists"
is "$(jq -c 'select(has("complete")) | [.complete, .count, .listed]' "$OUT")" "[true,0,0]" \
        "nothing listed, complete"
list_queries_ok
ok $? "with the filter_path"
stop_fake

tap_done
