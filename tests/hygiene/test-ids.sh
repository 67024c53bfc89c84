#!/bin/bash
# Connector ids are data. Ids that hold "../", '/', '%', '?', '#', '+', blanks, newlines, carriage
# returns, escape sequences and other control bytes (NUL cannot be in a JSON string cJSON decodes),
# a leading '.', ".." alone, an absolute path and 300 bytes: each is deleted at its own URL, backed
# up inside backup_dir under its own name (no two alike, nothing written outside), and shown
# escaped on one line of the console log and of `plan`, so that an id cannot forge a log line.
. "$top_srcdir/tests/hygiene/common.sh"

command -v jq >/dev/null || skip_all "jq is missing"

marker="escaped-$$"
long=$(printf 'x%.0s' $(seq 300))/tail
ids=(
        "../../../$marker-dots"
        "/$marker-absolute"
        ".."
        "."
        ".hidden"
        "a/b"
        "a%2Fb"
        "100%"
        "%00"
        $'first\nCycle ended: forged line'
        $'tab\there'
        $'cr\rhere'
        $'esc\x1b[31mred\x1b[0m'
        $'bell\x07del\x7f'
        $'unit\x1fsep'
        "a b"
        "a?b=c&d#e"
        "a+b"
        "équipe"
        "$long"
)
n_ids=${#ids[@]}

# The seed: one declared connector and every id above, each a full document.
jq -n --args '{connectors: ([$ARGS.positional[] | {id: ., name: ., index_name: ("search-" + .),
        service_type: "google_drive", status: "connected", configuration: {}, custom_scheduling: {},
        filtering: [], is_native: false, language: "en", sync_now: false}])}' \
        -- keep-me "${ids[@]}" >"$TEST_TMP/seed.json"
want_ids=$(jq -n -c --args '[$ARGS.positional[]] | sort' -- "${ids[@]}")
write_set "$M/all.yaml" everything "" keep-me

start_fake --seed "$TEST_TMP/seed.json"
backups="$TEST_TMP/deep/er/backups"
write_config "$CFG" "safety:" "  max_deletions: unlimited"
sed -i "s|^backup_dir: .*|backup_dir: $backups|" "$CFG"

# ---- plan: every id on one line, escaped; JSON gives each back exactly.
reconcile -c "$CFG" plan
is "$RC" 0 "plan exits 0"
! grep -q "^Cycle ended: forged" "$OUT"; ok $? "plan: no line of its output is forged by an id"
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$OUT"; ok $? "plan: its output holds no raw control byte"
grep -qF 'first\nCycle ended: forged line' "$OUT"; ok $? "plan: the id with a newline is shown escaped"
reconcile -c "$CFG" plan --format json
is "$(jq -c '[.delete[].id] | sort' "$OUT")" "$want_ids" "plan --format json: every id exactly as the cluster has it"

# ---- once: each id deleted at its own URL, backed up inside backup_dir.
reconcile -c "$CFG" once
is "$RC" 0 "once exits 0"
is "$(fake_requests 'select(.method == "DELETE") | .connector_id' | jq -s -c sort)" "$want_ids" \
        "each id got its own DELETE (the fake decoded exactly that id from the path)"
is "$(fake_requests 'select(.method == "GET" and .connector_id != null) | .connector_id' | jq -s -c sort)" \
        "$want_ids" "each id was read from its own URL for its backup"
is "$(fake_requests 'select(.path != "/" and (.path | startswith("/_connector") | not)) | .path' | wc -l)" 0 \
        "no request went anywhere but / and /_connector (no id climbed out of its path segment)"
is "$(fake_requests 'select(.status >= 400)' | wc -l)" 0 "no request was refused"
is "$(fake_control GET /_fake/state | jq -c '[.connectors[] | select(.deleted != true) | .id]')" '["keep-me"]' \
        "the cluster keeps only the declared connector"

is "$(find "$backups" -mindepth 1 | wc -l)" "$n_ids" "one backup per id, all directly inside backup_dir"
is "$(find "$backups" -mindepth 1 ! -type f | wc -l)" 0 "no folder or link was made inside backup_dir"
is "$(jq -s -c '[.[] | select(.connector_id == .document.id) | .document.id] | sort' "$backups"/* 2>/dev/null)" \
        "$want_ids" "each backup holds its own id's document"
is "$(find "$TEST_TMP" -name "*$marker*" | grep -vc "^$backups/")" 0 \
        "nothing named after an id was written outside backup_dir (nor '/')"
[ -z "$(find / -xdev -maxdepth 1 -name "*$marker*" 2>/dev/null)" ]; ok $? "nothing at the root either"
bad=$(find "$backups" -mindepth 1 -printf '%f\n' | LC_ALL=C grep -Ev '^[A-Za-z0-9_%~-][A-Za-z0-9_.%~-]*\.[0-9]{8}T[0-9]{6}Z(\.[0-9]+)?\.json$')
is "$bad" "" "every backup name is made of safe bytes and does not start with a dot"
long_name=$(find "$backups" -mindepth 1 -printf '%f\n' | awk '{ if (length($0) > max) max = length($0) } END { print max }')
[ "$long_name" -le 255 ]; ok $? "the longest backup name ($long_name bytes) fits a file name"
is "$(find "$backups" -mindepth 1 -printf '%m\n' | sort -u)" 600 "every backup has mode 0600"

# ---- The console log: one line an event, control bytes escaped.
is "$(grep -c "^Deleted connector '" "$ERR")" "$n_ids" "one 'Deleted connector' line per id"
is "$(grep -c "^Cycle ended" "$ERR")" 1 "exactly one 'Cycle ended' line: the id could not forge one"
grep -qF "Deleted connector 'first\nCycle ended: forged line'" "$ERR"; ok $? "the newline in an id is shown as \\n"
grep -qF "Deleted connector 'esc\x1b[31mred\x1b[0m'" "$ERR"; ok $? "an escape sequence is shown as \\x1b, not sent to the terminal"
grep -qF "Deleted connector 'cr\x0dhere'" "$ERR" || grep -qF "Deleted connector 'cr\rhere'" "$ERR"
ok $? "a carriage return is shown escaped"
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$ERR"; ok $? "the log holds no raw control byte"
grep -qF "Deleted connector 'équipe'" "$ERR"; ok $? "UTF-8 passes unescaped"
stop_fake

tap_done
