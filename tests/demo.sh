#!/bin/bash
# The demo (`make demo`): the fake Elasticsearch cluster with a few connectors, then `plan` and
# `once` against the example manifests in manifests/examples/: orphans are deleted, a declared
# connector the cluster lacks (team-a-handbook) is created, and one renamed by hand (team-a-hr) is
# set back to its manifest. Leaves its files in ./demo/.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"

demo="$top_builddir/demo"
rm -rf "$demo"
mkdir -p "$demo"

"$top_builddir/tests/fake/fake-cluster" --port 0 --port-file "$demo/port" --log "$demo/requests.log" \
        --seed "$top_srcdir/tests/data/demo/cluster.json" --parent-pid $$ &
fake=$!
trap 'kill $fake 2>/dev/null; wait $fake 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$demo/port")"

cat >"$demo/config.yaml" <<YAML
cluster:
  url: $url
manifests: $(cd "$top_srcdir/manifests/examples" && pwd)
backup_dir: $demo/backups
state_dir: $demo/state
safety:
  max_deletions: 10
YAML

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

section "The fake cluster at $url holds these connectors"
curl -sS "$url/_connector" | jq -r '.results[] | "  \(.id)  (\(.service_type), index \(.index_name))"'

section "The manifests"
run "$top_builddir/connector-reconciler" -c "$demo/config.yaml" validate

section "What a cycle would do"
run "$top_builddir/connector-reconciler" -c "$demo/config.yaml" plan 2>/dev/null

section "One cycle"
run "$top_builddir/connector-reconciler" -c "$demo/config.yaml" --log-target console once

section "What the cluster received"
jq -r 'select(.control | not) | "  \(.method) \(.raw_path)\(if .raw_query != "" and .raw_query != null then "?" + .raw_query else "" end) -> \(.status)"' \
        "$demo/requests.log"

section "Left in the cluster"
curl -sS "$url/_connector" | jq -r '.results[] | "  \(.id)"'

section "Backups of what was deleted"
ls -l "$demo/backups"

# The first connector deleted, to show how one comes back.
restored=$(jq -r 'select(.method == "DELETE" and .connector_id != null) | .connector_id' "$demo/requests.log" | head -n 1)
if [ -n "$restored" ]; then
        section "Undo: restore '$restored' from its backup"
        printf '(The manifests would delete it again, so restore refuses; declaring it in a manifest is the
'
        printf 'fix, --force restores it anyway.)
'
        run "$top_builddir/connector-reconciler" -c "$demo/config.yaml" --log-target console restore "$restored" || true
        run "$top_builddir/connector-reconciler" -c "$demo/config.yaml" --log-target console restore "$restored" --force 2>/dev/null
fi

printf '\nThe config, the request log and the backups are in %s\n' "$demo"
