#!/bin/bash
# The clean-up an operator would write for cron instead of connector-reconciler, for the
# benchmarks to compare against (tests/bench/bench.sh runs it on the same scenarios):
#
#     tests/bench/baseline.sh URL MANIFESTS BACKUP_DIR [PARALLEL]
#
# 1. reads every *.yaml / *.yml under MANIFESTS (names starting with '.' skipped) with
#    python3-yaml into JSON: the declared ids, each set's selector and prune settings;
# 2. pages GET URL/_connector?from=&size= (100 a page, the API's default, as the reconciler
#    asks) until a short page, keeping id, service_type, index_name and deleted of each;
# 3. with jq, applies the manifests' rules: a connector is owned by a set when every selector key
#    the set gives matches (id_prefix and index_name_prefix: a prefix, service_types: one of),
#    an orphan is owned by at least one set, declared by none and not soft-deleted; it is deleted
#    when every owning set has prune.enabled (default true), with delete_sync_jobs=true when
#    every owning set says so;
# 4. for each orphan, PARALLEL (default 4) at once through `xargs -P`: GET URL/_connector/ID
#    into BACKUP_DIR/ID.TIME.json with curl and, only when that worked, DELETE
#    URL/_connector/ID?delete_sync_jobs=...; 200 and 404 count as done. curl retries transient
#    errors (--retry 3).
#
# What it skips, that connector-reconciler does: checking the cluster's version and product
# header (it sends delete_sync_jobs, which 8.12 and 8.13 refuse, and never `hard`), noticing a
# listing that changes while it pages, the result window (it pages until a short page or a
# refused request), the safety stops (max_deletions, a set that declares nothing), checking the
# manifests (schema, unknown keys, duplicate ids, selectors that contradict declared
# connectors), escaping ids in URLs and file names, fsync of each backup and its folder, never
# replacing an existing backup, Retry-After, authentication and TLS options, and logging each
# deletion to the journal. Exits 0 when every orphan was deleted, 1 otherwise.
set -euo pipefail

url=${1:?usage: baseline.sh URL MANIFESTS BACKUP_DIR [PARALLEL]}
manifests=${2:?usage: baseline.sh URL MANIFESTS BACKUP_DIR [PARALLEL]}
backups=${3:?usage: baseline.sh URL MANIFESTS BACKUP_DIR [PARALLEL]}
parallel=${4:-4}
page_size=100

work=$(mktemp -d "${TMPDIR:-/tmp}/baseline.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$backups"

# 1. The manifests, as one JSON array of documents.
find "$manifests" -name '.*' -prune -o -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 |
        sort -z |
        xargs -0 python3 -c '
import json, sys, yaml
docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs.extend(d for d in yaml.safe_load_all(f) if d)
json.dump(docs, sys.stdout)
' >"$work/sets.json"

# 2. Every connector, one compact object a line.
from=0
: >"$work/connectors.jsonl"
while :; do
        curl -sS --fail --retry 3 -o "$work/page.json" "$url/_connector?from=$from&size=$page_size"
        jq -c '.results[] | {id, service_type, index_name, deleted}' "$work/page.json" >"$work/page.jsonl"
        n=$(wc -l <"$work/page.jsonl")
        cat "$work/page.jsonl" >>"$work/connectors.jsonl"
        from=$((from + n))
        [ "$n" -lt "$page_size" ] && break
done

# 3. The orphans, as curl's arguments: GET the document into its backup and, only when that
# worked (--fail-early), DELETE it; curl prints "STATUS ID" for the DELETE.
now=$(date -u +%Y%m%dT%H%M%SZ)
jq -n -r --slurpfile docs "$work/sets.json" --arg url "$url" --arg backups "$backups" --arg now "$now" '
        def as_list: if . == null then null elif type == "array" then . else [.] end;
        [$docs[0][] | select(.kind == "ConnectorSet") | .spec] as $sets
        | ([$sets[] | (.connectors // [])[] | {key: .id, value: true}] | from_entries) as $declared
        | inputs
        | . as $c
        | select(.deleted != true and ($declared[$c.id] | not))
        | [$sets[] | select(
                ((.selector.id_prefix | as_list) as $p
                        | $p == null or any($p[]; . as $x | $c.id | startswith($x)))
                and ((.selector.service_types | as_list) as $t
                        | $t == null or any($t[]; . == $c.service_type))
                and ((.selector.index_name_prefix | as_list) as $p
                        | $p == null or ($c.index_name | type == "string"
                                and any($p[]; . as $x | $c.index_name | startswith($x)))))] as $owners
        | select(($owners | length) > 0 and all($owners[]; .prune.enabled != false))
        | [ "-sS", "--fail-early", "--retry", "3", "--fail", "-o", "\($backups)/\($c.id).\($now).json",
            "\($url)/_connector/\($c.id)",
            "--next", "-sS", "--retry", "3", "-o", "/dev/null", "-w", "%{http_code} \($c.id)\\n", "-X", "DELETE",
            "\($url)/_connector/\($c.id)?delete_sync_jobs=\(all($owners[]; .prune.delete_sync_jobs == true))" ]
        | @sh
' "$work/connectors.jsonl" >"$work/orphans.args"

# 4. Back up, then delete, PARALLEL at once; 200 and 404 (already gone) are done.
failed=0
xargs -a "$work/orphans.args" -P "$parallel" -L 1 curl >"$work/deleted.txt" || failed=1
if grep -v -E '^(200|404) ' "$work/deleted.txt" >&2 ||
        [ "$(wc -l <"$work/deleted.txt")" -ne "$(wc -l <"$work/orphans.args")" ]; then
        failed=1
fi
exit "$failed"
