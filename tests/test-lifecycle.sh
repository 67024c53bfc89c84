#!/bin/bash
# spec.lifecycle against the fake cluster, on Elasticsearch 8.12, 8.13, 8.14, 8.15 and 9.1: a
# declared connector is created (GET 404 first, then PUT with the declared create fields), waits
# for its configuration schema, then gets its values; each declared field that differs is set
# through its own endpoint where the version has one, and reported as drift where it has none or
# where the set does not allow it (disruptive fields, language); a second cycle writes nothing;
# secrets reach the cluster and nothing else; safety.max_updates, a failed listing, an invalid
# manifest, a connector that appears before the create or is soft-deleted, --only, --dry-run and a
# saved plan write nothing they should not. Asserts on the requests the reconciler sent (method,
# path, body), on the connectors the fake holds afterwards, the exit status, what was printed and
# logged, and state.json. (lib.sh checks on top that no PUT /_connector/<id> of the reconciler
# ever overwrote a connector.)
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"

D="$top_srcdir/tests/data/lifecycle"
VERSIONS="8.12.0 8.13.0 8.14.0 8.15.0 9.1.3"

SECRET_VALUE='Lc-s3cret-9f1b7d2e-value'
SECRETS="$TEST_TMP/secrets"
mkdir -p "$SECRETS"
printf '%s\n' "$SECRET_VALUE" >"$SECRETS/db-pass"
SEEN="$TEST_TMP/seen" # everything the reconciler printed, and each state.json it left
: >"$SEEN"
STATE="$TEST_TMP/state/state.json"

# ge VERSION MIN: VERSION is MIN (major.minor) or later.
ge() {
        [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# setup VERSION SEED MANIFEST...: a new fake of that version (SEED a file of $D, or ""), the
# manifests given (files of $D) alone in $M, a config reading secrets from $SECRETS plus any
# extra YAML lines in $EXTRA_CONFIG (one a line).
setup() {
        _v=$1 _seed=$2
        shift 2
        if [ -n "$_seed" ]; then
                start_fake --version "$_v" --seed "$D/$_seed"
        else
                start_fake --version "$_v"
        fi
        rm -f "$M"/*
        for _f in "$@"; do cp "$D/$_f" "$M/"; done
        write_config "$CFG" "secrets_dir: $SECRETS"
        [ -z "${EXTRA_CONFIG:-}" ] || printf '%s\n' "$EXTRA_CONFIG" >>"$CFG"
        MARK=0
}

# cr ARGS...: the reconciler (reconcile), remembering where the request log stood before it
# (MARK, in lines), the requests it sent in $REQS (see below), and keeping what it printed and the
# state it left in $SEEN.
REQS="$TEST_TMP/requests.tsv"
cr() {
        MARK=$(wc -l <"$FAKE_LOG")
        reconcile -c "$CFG" "$@"
        cat "$OUT" "$ERR" >>"$SEEN"
        [ ! -f "$STATE" ] || cat "$STATE" >>"$SEEN"
        # One line a request: METHOD PATH QUERY STATUS CONNECTOR-ID BODY (compact, keys sorted).
        ours 'def sorted: if type == "object" then to_entries | sort_by(.key) | map(.value |= sorted) | from_entries
                          elif type == "array" then map(sorted) else . end;
              [.method, .path, .raw_query // "", .status, .connector_id // "",
               (.body // "" | (fromjson? // .) | sorted | if type == "string" then . else tojson end)] | @tsv' >"$REQS"
}

# ours [JQ]: the requests the reconciler sent during the last cr (user_agent
# connector-reconciler/...), or since the fake started with MARK=0, each through JQ: strings raw,
# JSON compact with its keys sorted.
ours() {
        tail -n +$((MARK + 1)) "$FAKE_LOG" | jq -rcS "select((.control | not) and
                ((.user_agent // \"\") | startswith(\"connector-reconciler/\"))) | ${1:-.}"
}

# writes: the last cr's requests that write, as "METHOD PATH" lines, in the order sent.
writes() {
        awk -F'\t' '$1 != "GET" && $1 != "HEAD" { print $1 " " $2 }' "$REQS"
}

# body PATH: the body of the last cr's PUT to PATH, compact, keys sorted.
body() {
        awk -F'\t' -v p="$1" '$1 == "PUT" && $2 == p { print $6 }' "$REQS"
}

# requests_of ID: the last cr's requests of connector ID, as "METHOD PATH?QUERY STATUS", on one line.
requests_of() {
        awk -F'\t' -v id="$1" '$5 == id { printf "%s %s?%s %s ", $1, $2, $3, $4 }' "$REQS"
}

# doc ID [JQ], docS ID [JQ]: the document the fake holds (soft-deleted ones too), through JQ:
# strings raw, JSON compact (docS: with its keys sorted).
doc() {
        fake_control GET /_fake/state | jq -rc --arg id "$1" ".connectors[] | select(.id == \$id) | ${2:-.}"
}
docS() {
        fake_control GET /_fake/state | jq -rcS --arg id "$1" ".connectors[] | select(.id == \$id) | ${2:-.}"
}

# register_schema ID: what the connector service does when it first runs a connector: its
# configuration schema, the whole object through _configuration.
register_schema() {
        fake_curl PUT "/_connector/$1/_configuration" -H 'Content-Type: application/json' \
                --data-binary "@$D/schema.json"
        is "$HTTP_STATUS" 200 "$v: the connector service registers $1's configuration schema"
}

# like TEXT FILE DESCRIPTION: FILE has the fixed string TEXT.
like() {
        if grep -qF -- "$1" "$2"; then
                ok 0 "$3"
        else
                ok 1 "$3"
                diag "no '$1' in:"
                head -n 30 "$2" | sed 's/^/#   /'
        fi
}

for v in $VERSIONS; do
        diag "---- Elasticsearch $v ----"

        # ==== 1. Create, through the wait for the configuration schema ====
        setup "$v" "" create.yaml
        cr plan
        is "$RC" 0 "$v create: plan exits 0"
        grep -qE '^  \+ create +lc-db  set: lc ' "$OUT"; ok $? "$v create: plan shows '+ create lc-db'"
        is "$(writes | wc -l)" 0 "$v create: plan writes nothing"
        cr plan --detailed-exitcode
        is "$RC" 4 "$v create: plan --detailed-exitcode exits 4: the plan creates something"

        cr once
        is "$RC" 0 "$v create: once exits 0"
        if ge "$v" 9.0; then get_query=include_deleted=true; else get_query=; fi
        is "$(requests_of lc-db)" \
                "GET /_connector/lc-db?$get_query 404 PUT /_connector/lc-db? 201 " \
                "$v create: GET _connector/lc-db${get_query:+ (with $get_query)} answers 404, then the PUT creates it"
        is "$(writes | tr '\n' ' ')" "PUT /_connector/lc-db " \
                "$v create: the create is the only write (the configuration waits for the schema)"
        is "$(body /_connector/lc-db)" \
                '{"description":"The orders database","index_name":"search-lc-db","language":"en","name":"Orders DB","service_type":"mysql"}' \
                "$v create: the PUT carries exactly the declared create fields"
        is "$(doc lc-db '{name, description, index_name, service_type, language, is_native, configuration}')" \
                '{"name":"Orders DB","description":"The orders database","index_name":"search-lc-db","service_type":"mysql","language":"en","is_native":false,"configuration":{}}' \
                "$v create: the connector reads back as declared, its configuration empty"
        like "Created connector 'lc-db' (set 'lc'); its configuration waits for the connector service to register the schema" \
                "$ERR" "$v create: the log says it was created and waits for the schema"
        is "$(jq -c '[.creating[]? | .id]' "$STATE")" '["lc-db"]' "$v create: state.json records lc-db as creating"

        cr plan
        grep -qE '^  > awaiting +lc-db  set: lc ' "$OUT"; ok $? "$v create: plan shows '> awaiting lc-db'"
        cr plan --format json
        is "$(jq -c '[.create[].id, .update[].id, .awaiting_schema[].id]' "$OUT")" '["lc-db"]' \
                "$v create: plan --format json lists lc-db under awaiting_schema only"
        is "$(jq -r '.awaiting_schema[0].fields.configuration.state' "$OUT")" awaiting_schema \
                "$v create: its configuration field is awaiting_schema"

        cr once
        is "$RC" 0 "$v create, no schema yet: once exits 0"
        is "$(writes | wc -l)" 0 "$v create, no schema yet: once writes nothing"
        like "Connector 'lc-db' waits for its configuration schema" "$ERR" \
                "$v create, no schema yet: the log says lc-db waits for its schema"
        is "$(jq -c '[.creating[]? | .id]' "$STATE")" '["lc-db"]' "$v create, no schema yet: still creating in state.json"

        register_schema lc-db
        cr plan --format json
        if ge "$v" 8.13; then config_state="set"; else config_state=unsupported_on_version; fi
        is "$(jq -c '.update[0].fields | {h: .["configuration.host"].state, p: .["configuration.password"].state}' "$OUT")" \
                "{\"h\":\"$config_state\",\"p\":\"$config_state\"}" \
                "$v create, schema registered: plan says the configuration values are $config_state"
        is "$(jq -c '.update[0].fields["configuration.password"] | [.from, .to]' "$OUT")" \
                '["(secret differs)","(secret differs)"]' "$v create: the secret shows as (secret differs) in JSON"
        cr plan
        grep -q '^      configuration.password: (secret differs)' "$OUT"; ok $? \
                "$v create: and in text"

        cr once
        is "$RC" 0 "$v create, schema registered: once exits 0"
        if ge "$v" 8.13; then
                is "$(writes | tr '\n' ' ')" "PUT /_connector/lc-db/_configuration PUT /_connector/lc-db/_pipeline " \
                        "$v create, schema registered: the values are set, then the pipeline"
                is "$(body /_connector/lc-db/_configuration)" \
                        "{\"values\":{\"host\":\"db.example.net\",\"password\":\"$SECRET_VALUE\",\"port\":3307}}" \
                        "$v create: _configuration sends the values only, the secret's read from its file"
                is "$(docS lc-db '.configuration | map_values(.value)')" \
                        "{\"host\":\"db.example.net\",\"password\":\"$SECRET_VALUE\",\"port\":3307}" \
                        "$v create: the connector holds the declared values and the secret"
                is "$(docS lc-db '.configuration | map_values(.label)')" \
                        '{"host":"Host","password":"Password","port":"Port"}' \
                        "$v create: the schema is left as the service registered it"
        else
                is "$(writes | tr '\n' ' ')" "PUT /_connector/lc-db/_pipeline " \
                        "$v create, schema registered: only the pipeline is set (no values form of _configuration)"
                is "$(docS lc-db '.configuration | map_values(.value)')" '{"host":"","password":"","port":3306}' \
                        "$v create: the configuration is left alone"
                like "Connector 'lc-db' differs from its manifest where nothing may set it: configuration.host (unsupported_on_version)" \
                        "$ERR" "$v create: the log reports the configuration as unsupported_on_version"
        fi
        is "$(docS lc-db .pipeline)" \
                '{"extract_binary_content":false,"name":"lc-pipeline","reduce_whitespace":true,"run_ml_inference":false}' \
                "$v create: the pipeline reads back as declared"
        like "Updated connector 'lc-db' (set 'lc'): " "$ERR" "$v create: the log says lc-db was updated"
        is "$(jq -c '[.creating[]? | .id]' "$STATE")" '[]' "$v create: lc-db has left state.json's creating list"

        cr once
        is "$RC" 0 "$v create, third cycle: once exits 0"
        is "$(writes | wc -l)" 0 "$v create, third cycle: nothing is written"
        cr plan --detailed-exitcode
        is "$RC" 0 "$v create, third cycle: plan --detailed-exitcode exits 0: nothing left to change"
        stop_fake

        # ==== 2. Converging each declared field ====
        setup "$v" converge-seed.json converge.yaml
        cr -v once # verbose: the secret must stay out of the request log lines too
        is "$RC" 0 "$v converge: once exits 0"
        want="PUT /_connector/cv-1/_name "
        ge "$v" 8.13 && want="${want}PUT /_connector/cv-1/_configuration "
        want="${want}PUT /_connector/cv-1/_pipeline PUT /_connector/cv-1/_scheduling "
        ge "$v" 8.15 && want="${want}PUT /_connector/cv-1/_features "
        ge "$v" 8.14 && want="${want}PUT /_connector/cv-1/_filtering "
        is "$(writes | tr '\n' ' ')" "$want" "$v converge: one request per differing field the version can set, in order"
        is "$(body /_connector/cv-1/_name)" '{"description":"Written by hand","name":"Converged"}' \
                "$v converge: _name sends the name, and the undeclared description as the connector has it"
        is "$(body /_connector/cv-1/_pipeline)" \
                '{"pipeline":{"extract_binary_content":false,"name":"cv-pipeline","reduce_whitespace":false,"run_ml_inference":true}}' \
                "$v converge: _pipeline sends the declared pipeline"
        is "$(body /_connector/cv-1/_scheduling | jq -c '.scheduling | {keys: keys, full, access_control}')" \
                '{"keys":["access_control","full","incremental"],"full":{"enabled":true,"interval":"0 0 3 ? * mon"},"access_control":{"enabled":false,"interval":"0 0 0 * * ?"}}' \
                "$v converge: _scheduling carries all three schedules, the undeclared ones as they were"
        if ge "$v" 8.13; then
                is "$(body /_connector/cv-1/_configuration)" \
                        "{\"values\":{\"host\":\"db.example.net\",\"password\":\"$SECRET_VALUE\",\"port\":3307}}" \
                        "$v converge: _configuration sends the values (the secret from its file)"
                is "$(docS cv-1 '.configuration | map_values(.value)')" \
                        "{\"host\":\"db.example.net\",\"password\":\"$SECRET_VALUE\",\"port\":3307}" \
                        "$v converge: the configuration values read back as declared"
        else
                is "$(docS cv-1 '.configuration | map_values(.value)')" \
                        '{"host":"old.example.net","password":"old-password","port":3306}' \
                        "$v converge: the configuration is left alone"
        fi
        if ge "$v" 8.15; then
                is "$(body /_connector/cv-1/_features)" \
                        '{"features":{"document_level_security":{"enabled":true},"sync_rules":{"advanced":{"enabled":true}}}}' \
                        "$v converge: _features sends the declared features only"
                is "$(docS cv-1 .features)" \
                        '{"document_level_security":{"enabled":true},"incremental_sync":{"enabled":true},"sync_rules":{"advanced":{"enabled":true},"basic":{"enabled":true}}}' \
                        "$v converge: the features are merged, the undeclared ones kept"
        else
                like "features.document_level_security.enabled (unsupported_on_version), features.sync_rules.advanced.enabled (unsupported_on_version)" "$ERR" \
                        "$v converge: the features are reported as drift (no _features before 8.15)"
                is "$(doc cv-1 .features.document_level_security)" '{"enabled":false}' \
                        "$v converge: and left alone"
        fi
        if ge "$v" 8.14; then
                is "$(body /_connector/cv-1/_filtering | jq -c '{keys: keys, ids: [.rules[].id]}')" \
                        '{"keys":["advanced_snippet","rules"],"ids":["big","no-drafts"]}' \
                        "$v converge: _filtering sends the draft's rules as declared and its snippet, nothing else"
                is "$(doc cv-1 '.filtering[0].draft.advanced_snippet.value')" '[{"query":"orders","max":3,"nested":{"ok":true}}]' \
                        "$v converge: the draft holds the declared snippet"
                is "$(doc cv-1 '[.filtering[0].draft.rules[].id]')" '["no-drafts","big","DEFAULT"]' \
                        "$v converge: the draft holds the rules by order, the default rule last"
        else
                like "filtering.rules (unsupported_on_version)" "$ERR" \
                        "$v converge: the filtering rules are reported as drift (no draft form before 8.14)"
                is "$(doc cv-1 '[.filtering[0].draft.rules[].id]')" '["DEFAULT"]' "$v converge: and left alone"
        fi
        is "$(doc cv-1 '[.filtering[0].active.rules[].id]')" '["DEFAULT"]' \
                "$v converge: the active filtering rules are never written"
        is "$(doc cv-1 '{name, description, api_key_id, index_name, service_type, pipeline: .pipeline.name, full: .scheduling.full}')" \
                '{"name":"Converged","description":"Written by hand","api_key_id":"key-1","index_name":"search-cv-1","service_type":"mysql","pipeline":"cv-pipeline","full":{"enabled":true,"interval":"0 0 3 ? * MON"}}' \
                "$v converge: the connector reads back with the declared fields, the others as they were"
        like "Updated connector 'cv-1' (set 'cv'): name," "$ERR" \
                "$v converge: the log names the fields set"

        cr once
        is "$RC" 0 "$v converge, second cycle: once exits 0"
        is "$(writes | wc -l)" 0 \
                "$v converge, second cycle: nothing is written (the Cron case and the rule order are Elasticsearch's)"
        cr plan --format json
        is "$(jq -c '[.update[].id]' "$OUT")" '[]' "$v converge: plan has nothing to update"
        if ge "$v" 8.15; then
                is "$(jq -c '[.drift[].id]' "$OUT")" '[]' "$v converge: nor any drift"
        else
                is "$(jq -c '[.drift[].id]' "$OUT")" '["cv-1"]' "$v converge: what the version cannot set stays drift"
        fi

        fake_curl PUT /_connector/cv-1/_name -H 'Content-Type: application/json' --data-binary '{"name":"Renamed by hand"}'
        is "$HTTP_STATUS" 200 "$v converge: cv-1 renamed by hand"
        cr plan
        grep -qE '^  ~ update +cv-1  set: cv ' "$OUT" && grep -qF 'name: "Renamed by hand" -> "Converged"' "$OUT"
        ok $? "$v converge: plan shows '~ update cv-1' with 'name: \"Renamed by hand\" -> \"Converged\"'"
        cr once
        is "$RC" 0 "$v converge, renamed: once exits 0"
        is "$(writes | tr '\n' ' ')" "PUT /_connector/cv-1/_name " "$v converge, renamed: once sends _name only"
        is "$(doc cv-1 .name)" Converged "$v converge, renamed: the name is set back"
        cr once
        is "$(writes | wc -l)" 0 "$v converge, renamed: the cycle after writes nothing"
        MARK=0
        is "$(ours 'select(.method == "PUT") | .path' | sed 's|^/_connector/cv-1||' | sort -u | tr '\n' ' ')" \
                "$(echo "$want" | tr ' ' '\n' | grep '^/' | sed 's|^/_connector/cv-1||' | sort -u | tr '\n' ' ')" \
                "$v converge: over every cycle, no endpoint of an undeclared field (nor the create) was called"
        stop_fake

        # ==== 3. Disruptive fields, and language ====
        setup "$v" disruptive-seed.json disruptive.yaml
        if ge "$v" 8.13; then moving=disruptive; else moving=unsupported_on_version; fi
        cr plan --format json
        is "$(jq -c '[.update[].id]' "$OUT")" '[]' "$v disruptive: nothing to update without allow_disruptive"
        is "$(jq -c '.drift[0].fields | map_values(.state)' "$OUT")" \
                "{\"index_name\":\"$moving\",\"service_type\":\"$moving\",\"is_native\":\"$moving\",\"language\":\"create_only\"}" \
                "$v disruptive: index_name, service_type, is_native are $moving, language create_only"
        cr plan
        grep -qE '^  \^ drift +dz-1  set: dz ' "$OUT"; ok $? "$v disruptive: plan shows '^ drift dz-1'"
        grep -qF "index_name: \"search-dz-old\" -> \"content-dz-new\" [$moving: " "$OUT"; ok $? \
                "$v disruptive: plan text shows index_name's FROM -> TO and why it stays"
        cr once
        is "$RC" 0 "$v disruptive: once exits 0"
        is "$(writes | wc -l)" 0 "$v disruptive: nothing is sent"
        like "Connector 'dz-1' differs from its manifest where nothing may set it: index_name ($moving), service_type ($moving), is_native ($moving), language (create_only)" \
                "$ERR" "$v disruptive: the log reports the drift"

        rm -f "$M"/*
        cp "$D/disruptive-allow.yaml" "$M/"
        cr once
        is "$RC" 0 "$v disruptive, allowed: once exits 0"
        if ge "$v" 8.13; then
                is "$(writes | tr '\n' ' ')" \
                        "PUT /_connector/dz-1/_index_name PUT /_connector/dz-1/_service_type PUT /_connector/dz-1/_native " \
                        "$v disruptive, allowed: index_name, service_type, is_native are set through their endpoints"
                is "$(body /_connector/dz-1/_index_name)$(body /_connector/dz-1/_service_type)$(body /_connector/dz-1/_native)" \
                        '{"index_name":"content-dz-new"}{"service_type":"postgresql"}{"is_native":true}' \
                        "$v disruptive, allowed: each body holds its field alone"
                is "$(doc dz-1 '{index_name, service_type, is_native, language}')" \
                        '{"index_name":"content-dz-new","service_type":"postgresql","is_native":true,"language":"en"}' \
                        "$v disruptive, allowed: the connector reads back moved, its language unchanged"
        else
                is "$(writes | wc -l)" 0 "$v disruptive, allowed: nothing is sent (no endpoint before 8.13)"
                is "$(doc dz-1 '{index_name, service_type, is_native}')" \
                        '{"index_name":"search-dz-old","service_type":"mysql","is_native":false}' \
                        "$v disruptive, allowed: the connector is left as it was"
        fi
        like "language (create_only)" "$ERR" "$v disruptive, allowed: language is still reported as drift"
        cr once
        is "$(writes | wc -l)" 0 "$v disruptive, allowed: the cycle after writes nothing"
        MARK=0
        is "$(ours 'select(.body != null) | .body | fromjson | select(has("language"))' | wc -l)" 0 \
                "$v disruptive: language is never sent"
        stop_fake

        # ==== 4. A secret whose file is missing ====
        setup "$v" converge-seed.json secret-missing.yaml
        cr plan
        is "$RC" 1 "$v missing secret: plan exits 1, as once would"
        grep -qE '^  x failed +cv-1  set: cv ' "$OUT"; ok $? "$v missing secret: plan shows 'x failed cv-1'"
        like "$SECRETS/no-such-secret" "$OUT" "$v missing secret: the plan names the secret's file"
        cr plan --format json
        is "$(jq -r '.failed[0].id' "$OUT")" cv-1 "$v missing secret: plan --format json lists cv-1 as failed"
        cr once
        is "$RC" 1 "$v missing secret: once exits 1"
        like "$SECRETS/no-such-secret" "$ERR" "$v missing secret: the log names the secret's file"
        is "$(writes | wc -l)" 0 "$v missing secret: nothing is sent for the connector"
        stop_fake

        # ==== 5. safety.max_updates ====
        EXTRA_CONFIG=$'safety:\n  max_updates: 2' setup "$v" many-seed.json many.yaml
        cr plan
        like "BLOCKED" "$OUT" "$v max_updates: the plan is blocked"
        cr once
        is "$RC" 3 "$v max_updates: 3 creates over max_updates 2: once exits 3"
        is "$(writes | wc -l)" 0 "$v max_updates: no PUT, and not even the orphan's DELETE"
        like "max_updates" "$ERR" "$v max_updates: the log names the limit"
        cr once --max-updates 3
        is "$RC" 0 "$v max_updates: --max-updates 3 lets it through"
        is "$(writes | sort | tr '\n' ' ')" \
                "DELETE /_connector/mu-orphan PUT /_connector/mu-1 PUT /_connector/mu-2 PUT /_connector/mu-3 " \
                "$v max_updates: the three are created, the orphan deleted"
        stop_fake

        # ==== 6. Failing closed ====
        setup "$v" only-seed.json only.yaml
        fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector","status":503}]}' >/dev/null
        cr once
        is "$RC" 1 "$v fail-closed: the listing fails (503 beyond the retries): once exits 1"
        is "$(writes | wc -l)" 0 "$v fail-closed: nothing is created, updated or deleted"
        fake_control DELETE /_fake/faults >/dev/null
        cp "$D/bad-extra.yaml" "$M/"
        cr once
        is "$RC" 2 "$v fail-closed: an invalid manifest: once exits 2"
        is "$(wc -l <"$REQS")" 0 "$v fail-closed: and nothing at all is sent"
        stop_fake

        # Created by someone else after the plan, found by the GET right before the create.
        setup "$v" "" create.yaml
        cr plan
        grep -qE '^  \+ create +lc-db ' "$OUT"; ok $? "$v race: plan shows '+ create lc-db'"
        fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector/lc-db","count":1,
                "mutate":{"connectors":[{"id":"lc-db","name":"Made by hand","index_name":"search-lc-hand","service_type":"mysql"}]}}]}' >/dev/null
        cr once
        is "$(requests_of lc-db)" "GET /_connector/lc-db?$get_query 200 " \
                "$v race: the GET before the create finds the connector, and no PUT follows"
        is "$(doc lc-db '{name, index_name}')" '{"name":"Made by hand","index_name":"search-lc-hand"}' \
                "$v race: the connector is left as its maker wrote it"
        like "Not creating connector 'lc-db': it exists now" "$ERR" "$v race: the log says why it was not created"
        is "$(jq -c '[.creating[]? | .id]' "$STATE")" '[]' "$v race: state.json does not record it as creating"
        stop_fake

        if ge "$v" 9.0; then
                # Soft-deleted (deleted: true) and declared: reported, never created over.
                setup "$v" tomb-seed.json create.yaml
                cr plan --format json
                is "$(jq -c '[.soft_deleted[].id, .create[].id]' "$OUT")" '["lc-db"]' \
                        "$v soft-deleted: plan lists lc-db as soft_deleted, not to create"
                cr plan
                grep -qE '^  # soft-del +lc-db ' "$OUT"; ok $? "$v soft-deleted: plan text shows '# soft-del lc-db'"
                cr once
                is "$(writes | wc -l)" 0 "$v soft-deleted: once writes nothing"
                is "$(doc lc-db '{name, deleted}')" '{"name":"Soft-deleted by someone","deleted":true}' \
                        "$v soft-deleted: the tombstone is left as it was"
                like "Not creating connector 'lc-db': it is soft-deleted" "$ERR" "$v soft-deleted: the log says why"
                is "$(awk -F'\t' '$2 == "/_connector" { print $3 }' "$REQS" | grep -c include_deleted=true)" 1 \
                        "$v soft-deleted: the listing asks for soft-deleted connectors"
                stop_fake

                # Soft-deleted between the listing and the create: the GET with include_deleted finds it.
                setup "$v" "" create.yaml
                fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector/lc-db","count":1,
                        "mutate":{"connectors":[{"id":"lc-db","name":"Tombstone","index_name":"search-lc-db","deleted":true}]}}]}' >/dev/null
                cr once
                is "$(requests_of lc-db)" "GET /_connector/lc-db?include_deleted=true 200 " \
                        "$v soft-deleted at the GET: found with include_deleted=true, no PUT follows"
                is "$(doc lc-db '{name, deleted}')" '{"name":"Tombstone","deleted":true}' \
                        "$v soft-deleted at the GET: the tombstone is left as it was"
                stop_fake

                # revive_soft_deleted: the set asks for the create over the tombstone, and gets it.
                setup "$v" tomb-seed.json create-revive.yaml
                fake_allow_overwrite lc-db "revive_soft_deleted creates over the soft-deleted connector"
                cr plan --format json
                is "$(jq -c '[.soft_deleted[].id, (.create[] | .id, .over_soft_deleted)]' "$OUT")" '["lc-db",true]' \
                        "$v revive: plan lists lc-db to create, over its soft-deleted document"
                cr plan
                grep -qE '^  \+ create +lc-db  set: lc .*over its soft-deleted document' "$OUT"
                ok $? "$v revive: plan text says the create goes over the soft-deleted document"
                cr once
                is "$RC" 0 "$v revive: once exits 0"
                is "$(requests_of lc-db)" \
                        "GET /_connector/lc-db?include_deleted=true 200 PUT /_connector/lc-db? 200 " \
                        "$v revive: the GET finds the tombstone, then the PUT goes over it (200 updated)"
                is "$(doc lc-db '{name, deleted}')" '{"name":"Orders DB","deleted":false}' \
                        "$v revive: the connector is live again, as declared"
                like "Created connector 'lc-db' (set 'lc') over its soft-deleted document" "$ERR" \
                        "$v revive: the log says it went over the tombstone"
                stop_fake

                # ... but never over a connector that is live again by the time of the create.
                setup "$v" tomb-seed.json create-revive.yaml
                fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector/lc-db","count":1,
                        "mutate":{"connectors":[{"id":"lc-db","name":"Live again","index_name":"search-lc-db","deleted":false}]}}]}' >/dev/null
                cr once
                is "$(writes | wc -l)" 0 "$v revive: a connector live again at the GET is not created over"
                is "$(doc lc-db '{name, deleted}')" '{"name":"Live again","deleted":false}' \
                        "$v revive: and it is left as it is"
                stop_fake
        fi

        # ==== 7. --dry-run, --only, a saved plan ====
        setup "$v" only-seed.json only.yaml
        cr once --dry-run
        is "$RC" 0 "$v only: once --dry-run exits 0"
        is "$(writes | wc -l)" 0 "$v only: --dry-run sends no write"
        [ ! -e "$STATE" ]; ok $? "$v only: --dry-run writes no state.json"
        like "Dry run: would create connector 'on-new' (set 'only-set')" "$ERR" "$v only: --dry-run logs 'would create'"
        like "Dry run: would update connector 'on-upd' (set 'only-set'): name" "$ERR" "$v only: --dry-run logs 'would update'"

        cr once --only create
        is "$RC" 0 "$v only: once --only create exits 0"
        is "$(writes | tr '\n' ' ')" "PUT /_connector/on-new " "$v only: --only create creates, updates and deletes nothing"
        is "$(doc on-upd .name)$(doc on-old .id)" "Old nameon-old" \
                "$v only: on-upd keeps its name, on-old is still there"

        cr once --only delete
        is "$RC" 0 "$v only: once --only delete exits 0"
        is "$(writes | tr '\n' ' ')" "DELETE /_connector/on-old " "$v only: --only delete deletes the orphan and nothing else"
        is "$(doc on-upd .name)" "Old name" "$v only: on-upd is not updated"

        cr plan --out "$TEST_TMP/saved.plan"
        is "$RC" 0 "$v saved plan: plan --out exits 0"
        grep -qE '^  ~ update +on-upd ' "$OUT"; ok $? "$v saved plan: the plan shows the update"
        cr once --plan "$TEST_TMP/saved.plan"
        is "$(writes | wc -l)" 0 "$v saved plan: once --plan FILE creates and updates nothing"
        like "Creating and updating nothing: the saved plan" "$ERR" "$v saved plan: the log says so"

        cr once --only update
        is "$RC" 0 "$v only: once --only update exits 0"
        is "$(writes | tr '\n' ' ')" "PUT /_connector/on-upd/_name " "$v only: --only update updates on-upd alone"
        is "$(doc on-upd .name)" "New name" "$v only: on-upd has its declared name"
        cr once
        is "$(writes | wc -l)" 0 "$v only: then a full cycle has nothing left to do"
        stop_fake

        # ==== The secret went nowhere but to the cluster ====
        grep -rqF -- "$SECRET_VALUE" "$SEEN" "$B" "$TEST_TMP/saved.plan"
        [ $? -eq 1 ] && [ -n "$(ls "$B")" ]; ok $? \
                "$v secret: its value is in no output, plan, state.json, backup or saved plan"
        : >"$SEEN"
done

# ==== the metrics count creates and updates ====
EXTRA_CONFIG="metrics:
  textfile: $TEST_TMP/metrics.prom"
setup 9.1.3 "" create.yaml
cr once
is "$RC" 0 "metrics: a create, once exits 0"
metric() { sed -n "s/^connector_reconciler_actions_total{action=\"$1\",result=\"$2\"} //p" "$TEST_TMP/metrics.prom"; }
is "$(metric create ok)/$(metric create error)/$(metric update ok)" "1/0/0" \
        "metrics: actions_total counts the create (create ok 1, no error, no update)"
stop_fake
setup 9.1.3 converge-seed.json converge.yaml
cr once
is "$RC" 0 "metrics: an update, once exits 0"
is "$(metric update ok)/$(metric update error)/$(metric update skipped)" "1/0/0" \
        "metrics: actions_total counts the update (update ok 1, no error, none skipped)"
stop_fake
EXTRA_CONFIG=

# ==== validate refuses a secret written inline ====
mkdir -p "$TEST_TMP/bad"
cp "$D/bad-inline-secret.yaml" "$TEST_TMP/bad/"
reconcile -c "$CFG" --manifests "$TEST_TMP/bad" validate
cat "$OUT" "$ERR" >"$TEST_TMP/validate.out"
is "$RC" 2 "validate: an inline value for 'password' is refused (exit 2)"
like "bad-inline-secret.yaml:13:19: 'spec.connectors[0].configuration.password' looks like a secret" \
        "$TEST_TMP/validate.out" "validate: the message names the file, line, column and key"
grep -qF inline-hunter2 "$TEST_TMP/validate.out"
[ $? -eq 1 ]; ok $? "validate: the value itself is not printed"

tap_done
