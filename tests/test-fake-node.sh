#!/bin/bash
# A real client checks the fake: Elastic's official Node.js client (its default headers, its
# product check) lists, pages and deletes connectors through it, and refuses a server without
# the product header. The test never downloads anything: the client is installed beforehand by
# `make node-deps` (npm, from the npm registry) into tests/node-cache of the build tree, or into
# $NODE_CLIENT_DIR when that is set (for both); without it the test is skipped, saying so.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v node >/dev/null || skip_all "node is not installed"

modules="${NODE_CLIENT_DIR:-$top_builddir/tests/node-cache}/node_modules"
installed="$modules/@elastic/elasticsearch/package.json"
# The version range is pinned in tests/node/package.json (a ^ range: its major version must match).
spec=$(jq -r '.dependencies["@elastic/elasticsearch"]' "$top_srcdir/tests/node/package.json")
[ -f "$installed" ] || skip_all "Elastic's Node.js client is not installed in $modules" \
        "(install it with: make -C '$top_builddir' node-deps)"
client_version=$(jq -r .version "$installed")
[ "${client_version%%.*}" = "$(printf '%s' "$spec" | tr -d '^~' | cut -d. -f1)" ] ||
        skip_all "the Node.js client in $modules is $client_version, not $spec (reinstall it with:" \
                "make -C '$top_builddir' node-deps)"
diag "client $client_version"

key=$(printf 'node-id:node-secret' | base64)
check="$top_srcdir/tests/node/client-check.mjs"

for version in 9.1.3 8.19.0; do
        start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --api-key "$key" --version "$version"
        out=$(node "$check" "$modules" "$FAKE_URL" "$key" 2>"$TEST_TMP/node.err")
        ok $? "$version: the client script runs"
        [ -s "$TEST_TMP/node.err" ] && diag "$(cat "$TEST_TMP/node.err")"
        is "$(printf '%s' "$out" | jq -r .info)" "$version" "$version: client.info() passes the product check"
        is "$(printf '%s' "$out" | jq -c .list)" '{"count":4,"ids":["team-a-hr","orphan-1"]}' \
                "$version: client.connector.list() pages with count"
        is "$(printf '%s' "$out" | jq -c .list_all)" '["team-a-hr","orphan-1","team-a-wiki","no-index"]' \
                "$version: paging through every connector"
        is "$(printf '%s' "$out" | jq -c .delete)" '{"acknowledged":true}' "$version: client.connector.delete()"
        is "$(printf '%s' "$out" | jq -r '.delete_missing | [.error, .status] | map(tostring) | join(" ")')" \
                "ResponseError 404" "$version: deleting it again is a 404 ResponseError"
        is "$(printf '%s' "$out" | jq -c .after)" '["team-a-hr","team-a-wiki","no-index"]' \
                "$version: the deleted connector is no longer listed"
        is "$(fake_requests 'select(.method == "DELETE") | .query' | head -n 1)" '{"delete_sync_jobs":"true"}' \
                "$version: the client sent delete_sync_jobs=true"
        is "$(fake_requests .auth | sort -u)" '"ApiKey"' "$version: every request carried the API key"
        stop_fake
done

start_fake --seed "$top_srcdir/tests/data/fake/connectors.json" --api-key "$key" --no-product-header
out=$(node "$check" "$modules" "$FAKE_URL" "$key" 2>/dev/null)
is "$(printf '%s' "$out" | jq -r .info.error)" ProductNotSupportedError \
        "without X-elastic-product the client refuses the server"

tap_done
