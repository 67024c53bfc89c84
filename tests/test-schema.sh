#!/bin/bash
# The JSON Schema of the manifest format (manifests/connector-set.schema.json) and the parser
# agree, file by file, on the examples and on the whole manifest corpus: good files pass both,
# bad files fail both, except the whole-set errors a schema cannot see, listed below, which must
# pass the schema and fail the parser.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is needed"
python3 -c 'import jsonschema, yaml' 2>/dev/null || skip_all "python3-jsonschema and python3-yaml are needed"

SCHEMA="$top_srcdir/manifests/connector-set.schema.json"
CHECK="$top_builddir/tests/manifest-check"
CORPUS="$top_srcdir/tests/data/manifests"

# What the schema cannot see: rules across documents and files, and a C string's limits.
declare -A SCHEMA_BLIND=(
        [bad/duplicate-ids.yaml]="an id declared twice"
        [bad/duplicate-set-names.yaml]="two sets with one name"
        [bad/duplicates-across-files]="an id and a set name declared in two files"
        [bad/selector-contradiction.yaml]="a connector its own set's selector excludes"
        [bad/nul-escape.yaml]="a NUL character in a string (\"\\0\")"
        [bad/other-kind.yaml]="only another tool's documents, skipped: no ConnectorSet at all"
)

# The schema side: a strict YAML load (no duplicate keys, no anchors or aliases, at least one
# document per file; folders walked as the parser walks them), then every document against the
# schema. Prints "accept PATH" or "reject PATH: why" for each argument.
cat >"$TEST_TMP/schema-check.py" <<'EOF'
import json, os, sys
import jsonschema, yaml

class StrictLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.YAMLError("anchors and aliases are not allowed")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.YAMLError("duplicate key %r" % (key,))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

# As the parser reads a folder (connector-reconciler-manifest(5), OTHER TOOLS' FILES): kustomize's
# own file and the documents whose apiVersion is outside our group are not ours to check.
def foreign(doc):
    api = doc.get("apiVersion") if isinstance(doc, dict) else None
    return isinstance(api, str) and api != "connector-reconciler" and not api.startswith("connector-reconciler/")

def check_file(path):
    if os.path.basename(path) in ("kustomization.yaml", "kustomization.yml"):
        return
    with open(path, "rb") as f:
        docs = list(yaml.load_all(f, Loader=StrictLoader))
    if not docs:
        raise ValueError("no document")
    for doc in docs:
        if foreign(doc):
            continue
        for error in validator.iter_errors(doc):
            raise ValueError(error.message)

def files_below(top):
    found = []
    for root, dirs, files in os.walk(top, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.join(root, f) for f in files
                  if not f.startswith(".") and (f.endswith(".yaml") or f.endswith(".yml"))]
    return sorted(found)

for path in sys.argv[2:]:
    try:
        if os.path.isdir(path):
            files = files_below(path)
            if not files:
                raise ValueError("no manifest in the folder")
            for f in files:
                check_file(f)
        else:
            check_file(path)
        print("accept", path)
    except Exception as e:
        print("reject %s: %s" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__))
EOF

python3 -c 'import json, sys, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))' \
        "$SCHEMA" 2>"$TEST_TMP/err"
ok $? "the schema is a valid JSON Schema (draft 2020-12)"

cd "$CORPUS" || exit 1
items=()
for p in "$top_srcdir"/manifests/examples/*.yaml good/* bad/*; do
        case $p in *.expect) continue ;; esac
        items+=("$p")
done
timeout 120 python3 "$TEST_TMP/schema-check.py" "$SCHEMA" "${items[@]}" >"$TEST_TMP/schema.out" 2>&1
ok $? "the schema check ran"

schema_verdict() {  # accept or reject, from the python output
        awk -v p="$1" '$2 == p || $2 == p ":" { print $1; exit }' "$TEST_TMP/schema.out"
}

for p in "${items[@]}"; do
        "$CHECK" "$p" >"$TEST_TMP/parser.out" 2>&1
        case $? in
        0) parser=accept ;;
        1) parser=reject ;;
        *) parser="crash" ;;
        esac
        schema=$(schema_verdict "$p")
        name=${p#"$top_srcdir"/manifests/}
        case $p in
        */examples/*|good/*)
                want="accept accept"; desc="the schema and the parser accept it" ;;
        *)
                if [ -n "${SCHEMA_BLIND[$p]}" ]; then
                        want="accept reject"; desc="the parser alone rejects it (${SCHEMA_BLIND[$p]})"
                else
                        want="reject reject"; desc="the schema and the parser reject it"
                fi ;;
        esac
        is "$schema $parser" "$want" "$name: $desc"
        if [ "$schema $parser" != "$want" ]; then
                grep -F "$p" "$TEST_TMP/schema.out" | sed 's/^/#   schema: /'
                sed 's/^/#   parser: /' "$TEST_TMP/parser.out" | head -n 5
        fi
done

# Every exception must still be in the corpus, so the list cannot go stale.
for p in "${!SCHEMA_BLIND[@]}"; do
        [ -e "$p" ]; ok $? "the exception $p is in the corpus"
done

# Examples name the schema for YAML editors on their first line.
for p in "$top_srcdir"/manifests/examples/*.yaml; do
        is "$(head -n 1 "$p")" "# yaml-language-server: \$schema=../connector-set.schema.json" \
                "${p##*/}: its first line names the schema"
done

tap_done
