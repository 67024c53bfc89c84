/* The manifest reader: the good and bad corpora under tests/data/manifests/, each bad file (or
 * folder) with its exact expected errors, the values read, directory walking, and the cases a
 * source tree cannot hold (symbolic links, FIFOs, 10,000 files, oversized inputs). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "manifest-fields.h"
#include "corpus.h"
#include "sha256.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"
#include "yaml-read.h"

static char *tmp_dir;

static bool is_manifest_entry(const char *name) {
        size_t n = strlen(name);

        if (n > 7 && streq(name + n - 7, ".expect"))
                return false;
        return true;
}

static void test_good_corpus(void) {
        size_t n;
        char **names = list_sorted(".", NULL, &n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(diags_donep) struct yaml_read_diags e = {};
                _cleanup_(manifest_freep) struct manifest *m = NULL;
                _cleanup_free_ char *got = NULL;
                int r;

                r = manifest_load(names[i], &m, &e);
                got = joined(&e);
                ok(r == 0 && m && e.n_items == 0, "good: %s loads without errors", names[i]);
                if (e.n_items > 0)
                        diag("%s", got);
        }
        strv_free(names);
}

static void test_bad_corpus(void) {
        size_t n;
        char **names = list_sorted(".", NULL, &n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(diags_donep) struct yaml_read_diags e = {};
                _cleanup_free_ char *got = NULL, *want = NULL;
                struct manifest *m = NULL;
                int r;

                if (!is_manifest_entry(names[i]))
                        continue;
                want = expected_errors(names[i]);
                ok(want && *want, "bad: %s names its expected errors", names[i]);
                r = manifest_load(names[i], &m, &e);
                ok(r == -EINVAL && !m, "bad: %s is refused (%d) and nothing is returned", names[i], r);
                got = joined(&e);
                is_str(got, want, "bad: %s gives exactly the expected errors", names[i]);
                manifest_free(m);
        }
        strv_free(names);
}

static struct manifest *load_ok(const char *path) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        struct manifest *m = NULL;
        int r;

        r = manifest_load(path, &m, &e);
        if (r < 0 || e.n_items > 0) {
                _cleanup_free_ char *got = joined(&e);

                diag("loading '%s' failed (%d): %s", path, r, got);
        }
        return m;
}

static void test_full(void) {
        _cleanup_(manifest_freep) struct manifest *m = load_ok("full.yaml");
        const struct plan_set *s;

        if (!ok(m && m->n_sets == 1, "full.yaml: one set"))
                return;
        s = m->sets;
        is_str(s->name, "search-team-a", "full.yaml: metadata.name");
        is_int(s->n_id_prefixes, 1, "full.yaml: one id_prefix");
        is_str(s->id_prefixes[0], "team-a-", "full.yaml: id_prefix as a string");
        is_int(s->n_service_types, 2, "full.yaml: two service_types");
        is_str(s->service_types[0], "google_drive", "full.yaml: service_types[0]");
        is_str(s->service_types[1], "sharepoint_online", "full.yaml: service_types[1]");
        is_int(s->n_index_name_prefixes, 1, "full.yaml: one index_name_prefix");
        is_str(s->index_name_prefixes[0], "search-a-", "full.yaml: index_name_prefix");
        ok(!s->prune_enabled && s->delete_sync_jobs && s->hard && s->allow_empty,
           "full.yaml: every prune flag read");
        is_int(s->n_connectors, 2, "full.yaml: two connectors");
        is_str(s->connectors[0].id, "team-a-hr", "full.yaml: connector id");
        is_str(s->connectors[0].name, "HR drive", "full.yaml: connector name");
        is_str(s->connectors[0].service_type, "google_drive", "full.yaml: connector service_type");
        is_str(s->connectors[0].index_name, "search-a-hr", "full.yaml: connector index_name");
        is_str(s->connectors[0].description, "The HR team's shared drive",
               "full.yaml: connector description");
        ok(!s->connectors[1].name && !s->connectors[1].index_name && !s->connectors[1].description,
           "full.yaml: omitted connector fields are NULL");
        is_str(m->sources[0].set.file, "full.yaml", "full.yaml: the set's file");
        ok(m->sources[0].set.line == 5 && m->sources[0].set.column == 9,
           "full.yaml: the set's line and column (%u:%u)", m->sources[0].set.line, m->sources[0].set.column);
        ok(m->sources[0].connectors[1].line == 22 && m->sources[0].connectors[1].column == 11,
           "full.yaml: a connector's line and column (%u:%u)", m->sources[0].connectors[1].line,
           m->sources[0].connectors[1].column);
        is_int(m->n_declared, 2, "full.yaml: n_declared");
}

static void test_defaults(void) {
        _cleanup_(manifest_freep) struct manifest *m = load_ok("minimal.yaml");
        const struct plan_set *s;

        if (!ok(m && m->n_sets == 1, "minimal.yaml: one set"))
                return;
        s = m->sets;
        ok(!s->id_prefixes && !s->n_id_prefixes && !s->service_types && !s->n_service_types &&
                   !s->index_name_prefixes && !s->n_index_name_prefixes,
           "minimal.yaml: an omitted selector matches everything (no lists)");
        ok(s->prune_enabled && !s->delete_sync_jobs && !s->hard && !s->allow_empty,
           "minimal.yaml: prune defaults: enabled true, delete_sync_jobs, hard, allow_empty false");
        ok(s->purge_after_usec == 0, "minimal.yaml: prune.purge_after defaults to off");
        ok(s->n_connectors == 0 && !s->connectors, "minimal.yaml: no connectors");
}

static void test_purge_after(void) {
        _cleanup_(manifest_freep) struct manifest *m = load_ok("purge.yaml");

        if (!ok(m && m->n_sets == 2, "purge.yaml: two sets"))
                return;
        ok(m->sets[0].purge_after_usec == 168 * USEC_PER_HOUR && !m->sets[0].hard,
           "purge.yaml: purge_after 168h read, and the delete stays soft");
        ok(m->sets[1].purge_after_usec == 0, "purge.yaml: purge_after: off is off");
}

static void test_values(void) {
        static const struct {
                const char *file;
                size_t sets, declared;
        } counts[] = {
                { "bom-crlf.yaml", 1, 1 }, { "full.yaml", 1, 2 },           { "id-512-bytes.yaml", 1, 1 },
                { "minimal.yaml", 1, 0 },  { "name-63.yaml", 2, 0 },        { "purge.yaml", 2, 2 },
                { "quoting.yaml", 1, 5 },  { "selector-lists.yaml", 1, 2 }, { "multi-document.yml", 2, 3 },
                { "tree", 5, 5 },
        };

        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
                _cleanup_(manifest_freep) struct manifest *m = load_ok(counts[i].file);

                ok(m && m->n_sets == counts[i].sets && m->n_declared == counts[i].declared,
                   "%s: %zu sets, %zu connectors declared", counts[i].file, counts[i].sets,
                   counts[i].declared);
        }

        _cleanup_(manifest_freep) struct manifest *q = load_ok("quoting.yaml");
        if (ok(q && q->n_sets == 1 && q->sets[0].n_connectors == 5, "quoting.yaml loads")) {
                const struct plan_set *s = q->sets;

                is_str(s->name, "0-quoting", "quoting: a quoted set name");
                is_str(s->connectors[0].id, "123", "quoting: \"123\" is the string 123");
                is_str(s->connectors[0].name, "true", "quoting: \"true\" is a string");
                is_str(s->connectors[0].service_type, "null", "quoting: \"null\" is a string");
                is_str(s->connectors[1].id, "456", "quoting: !!str 456 is a string");
                is_str(s->connectors[1].name, "yes", "quoting: 'yes' quoted is a string");
                is_str(s->connectors[1].description, "A description\nover two lines.\n",
                       "quoting: a literal block");
                is_str(s->connectors[2].description, "Folded text.\n", "quoting: a folded block");
                is_str(s->connectors[3].id, "Ünïcödé-ид-コネクタ", "quoting: UTF-8 ids");
                is_str(s->connectors[3].name, "", "quoting: an empty name is allowed");
                is_str(s->connectors[4].id, "with spaces, and:colons",
                       "quoting: plain scalars with punctuation");
                ok(s->delete_sync_jobs && !s->hard, "quoting: True and FALSE are booleans");
        }

        _cleanup_(manifest_freep) struct manifest *b = load_ok("bom-crlf.yaml");
        if (ok(b && b->n_sets == 1, "bom-crlf.yaml loads")) {
                is_str(b->sets[0].connectors[0].id, "crlf-1", "bom-crlf: no CR left in values");
                ok(b->sources[0].set.line == 5 && b->sources[0].set.column == 9,
                   "bom-crlf: positions count neither the BOM nor CRs (%u:%u)", b->sources[0].set.line,
                   b->sources[0].set.column);
        }

        _cleanup_(manifest_freep) struct manifest *l = load_ok("selector-lists.yaml");
        if (ok(l && l->n_sets == 1, "selector-lists.yaml loads")) {
                ok(l->sets[0].n_id_prefixes == 2 && streq(l->sets[0].id_prefixes[1], "b-"),
                   "selector: a block list");
                ok(l->sets[0].n_service_types == 1 && streq(l->sets[0].service_types[0], "mongodb"),
                   "selector: a string is a list of one");
                ok(l->sets[0].n_index_name_prefixes == 2, "selector: a flow list");
        }

        _cleanup_(manifest_freep) struct manifest *md = load_ok("multi-document.yml");
        if (ok(md && md->n_sets == 2, "multi-document.yml loads")) {
                is_str(md->sets[0].name, "team-b", "multi-document: first set first");
                is_str(md->sets[1].name, "team-c", "multi-document: second set second");
                ok(md->sources[1].set.line == 16, "multi-document: the second set's line (%u)",
                   md->sources[1].set.line);
        }
}

static void test_tree(void) {
        static const char *const want[] = {
                "tree/a-b.yaml", "tree/a.yaml", "tree/a/x.yaml", "tree/b.yml", "tree/sub/deeper/z.yaml",
        };
        _cleanup_(manifest_freep) struct manifest *m = load_ok("tree");
        _cleanup_(manifest_freep) struct manifest *slash = load_ok("tree/");
        size_t set, conn;

        if (!ok(m && m->n_files == ELEMENTSOF(want),
                "tree: five manifests found, dot names and other names skipped"))
                return;
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                is_str(m->files[i], want[i], "tree: file %zu in bytewise order of the relative path", i);
        is_str(m->sets[2].name, "tree-a-x", "tree: sets in the order of their files");
        ok(slash && slash->n_files == 5 && streq(slash->files[0], "tree/a-b.yaml"),
           "tree/: a trailing slash gives no double slash");

        ok(manifest_find(m, "tree-b-1", &set, &conn) && set == 3 && conn == 0,
           "manifest_find: a declared id");
        ok(!manifest_find(m, "tree-b", NULL, NULL), "manifest_find: a prefix of an id is not declared");
        ok(!manifest_find(m, "zzz", NULL, NULL), "manifest_find: past the last id");
        ok(!manifest_find(m, "", NULL, NULL), "manifest_find: before the first id");
}

static char *tmp_path(const char *rel) {
        char *p;

        assert_se(asprintf(&p, "%s/%s", tmp_dir, rel) >= 0);
        return p;
}

static void write_file(const char *rel, const char *content) {
        _cleanup_free_ char *p = tmp_path(rel);
        FILE *f = fopen(p, "we");

        assert(f);
        fputs(content, f);
        assert_se(fclose(f) == 0);
}

static void make_dir(const char *rel) {
        _cleanup_free_ char *p = tmp_path(rel);

        assert_se(mkdir(p, 0755) == 0);
}

static char *set_yaml(const char *name, const char *id) {
        char *s;

        assert_se(asprintf(&s,
                           "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: %s\n"
                           "spec:\n  connectors:\n    - id: %s\n",
                           name, id) >= 0);
        return s;
}

/* Loads a path below the scratch folder, expecting failure with exactly 'want' (paths in it
 * relative to the scratch folder). */
static void expect_errors(const char *rel, const char *want, const char *what) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        _cleanup_free_ char *got = NULL;
        struct manifest *m = NULL;
        int r;

        assert_se(chdir(tmp_dir) == 0);
        r = manifest_load(rel, &m, &e);
        got = joined(&e);
        ok(r == -EINVAL && !m, "%s: refused", what);
        is_str(got, want, "%s: errors", what);
        manifest_free(m);
}

/* ---- the managed fields and spec.lifecycle ---- */

#define SET_HEAD(lifecycle)                                                                                \
        "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: m\nspec:\n" lifecycle \
        "  connectors:\n    - id: m-1\n"

/* Parses a set whose one connector (at line 7) has 'body' (YAML at the connector's indentation,
 * its first line being line 8); returns the errors, one a line ("" when it loads). On success
 * *ret_fields is the connector's fields (NULL when it declares none). */
static char *parse_connector(const char *body, char **ret_fields) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *y = NULL;
        char *indented = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&indented, &n);
        int r;

        assert_se(f);
        for (const char *p = body; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);

                fprintf(f, "      %.*s\n", (int) len, p);
                p += len + (nl ? 1 : 0);
        }
        assert_se(fclose(f) == 0);
        assert_se(asprintf(&y, SET_HEAD("") "%s", indented) >= 0);
        free(indented);
        r = manifest_parse("m.yaml", y, strlen(y), &m, &e);
        if (ret_fields)
                *ret_fields = r == 0 && m->sets[0].connectors[0].fields
                                      ? strdup(m->sets[0].connectors[0].fields)
                                      : NULL;
        return joined(&e);
}

static void test_managed_fields(void) {
        static const char y[] =
                "apiVersion: connector-reconciler/v1\n"
                "kind: ConnectorSet\n"
                "metadata:\n"
                "  name: m\n"
                "spec:\n"
                "  lifecycle: {create: true, update: true, allow_disruptive: true}\n"
                "  connectors:\n"
                "    - id: m-1\n"
                "      name: HR\n"
                "      description: The HR drive\n"
                "      service_type: google_drive\n"
                "      index_name: search-hr\n"
                "      language: en\n"
                "      is_native: false\n"
                "      pipeline:\n"
                "        name: my-pipeline\n"
                "        extract_binary_content: true\n"
                "        reduce_whitespace: false\n"
                "        run_ml_inference: false\n"
                "      scheduling:\n"
                "        full: {enabled: true, interval: \"0 0 2 * * ?\"}\n"
                "        incremental: {enabled: false}\n"
                "        access_control: {interval: \"0 0 3 * * ?\"}\n"
                "      features:\n"
                "        document_level_security: {enabled: true}\n"
                "        incremental_sync: {enabled: false}\n"
                "        native_connector_api_keys: {enabled: false}\n"
                "        sync_rules:\n"
                "          advanced: {enabled: true}\n"
                "          basic: {enabled: true}\n"
                "      filtering:\n"
                "        rules:\n"
                "          - {id: r2, policy: exclude, field: path, rule: starts_with, value: /tmp, order: "
                "2}\n"
                "          - {id: r1, policy: include, field: ext, rule: \">\", value: \"1\", order: 1}\n"
                "        advanced_snippet:\n"
                "          value:\n"
                "            - tables: [users, orders]\n"
                "              query: SELECT 1\n"
                "              limit: 10\n"
                "              ratio: 0.5\n"
                "              strict: true\n"
                "              nothing: null\n"
                "      configuration:\n"
                "        host: db.example.com\n"
                "        port: 5432\n"
                "        ratio: 1.5\n"
                "        ssl: true\n"
                "        tables: [users, 7, false]\n"
                "        hex: 0x1F\n"
                "        octal: 0o17\n"
                "        largest: -999999999999999\n"
                "        password: {secret: db-password}\n"
                "        apiKey: {secret: api.key_1}\n"
                "    - id: m-2\n"
                "    - id: m-3\n"
                "      name: Only a name\n"
                "---\n"
                "apiVersion: connector-reconciler/v1\n"
                "kind: ConnectorSet\n"
                "metadata:\n"
                "  name: second\n"
                "spec:\n"
                "  lifecycle: {}\n"
                "  connectors:\n"
                "    - {id: n-1, language: \"yes\"}\n";
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *got = NULL;
        const struct plan_set *s;
        int r;

        r = manifest_parse("m.yaml", y, strlen(y), &m, &e);
        got = joined(&e);
        if (!ok(r == 0 && m && m->n_sets == 2, "managed fields: a set declaring every field loads")) {
                diag("%s", got);
                return;
        }
        s = m->sets;
        is_str(s->connectors[0].fields,
               "{\"name\":\"HR\",\"service_type\":\"google_drive\",\"index_name\":\"search-hr\","
               "\"description\":\"The HR drive\",\"language\":\"en\",\"is_native\":false,"
               "\"pipeline\":{\"name\":\"my-pipeline\",\"extract_binary_content\":true,"
               "\"reduce_whitespace\":false,\"run_ml_inference\":false},"
               "\"scheduling\":{\"full\":{\"enabled\":true,\"interval\":\"0 0 2 * * ?\"},"
               "\"incremental\":{\"enabled\":false},\"access_control\":{\"interval\":\"0 0 3 * * ?\"}},"
               "\"features\":{\"document_level_security\":{\"enabled\":true},"
               "\"incremental_sync\":{\"enabled\":false},"
               "\"native_connector_api_keys\":{\"enabled\":false},"
               "\"sync_rules\":{\"advanced\":{\"enabled\":true},\"basic\":{\"enabled\":true}}},"
               "\"filtering\":{\"rules\":[{\"id\":\"r2\",\"policy\":\"exclude\",\"field\":\"path\","
               "\"rule\":\"starts_with\",\"value\":\"/tmp\",\"order\":2},{\"id\":\"r1\","
               "\"policy\":\"include\",\"field\":\"ext\",\"rule\":\">\",\"value\":\"1\",\"order\":1}],"
               "\"advanced_snippet\":{\"value\":[{\"tables\":[\"users\",\"orders\"],"
               "\"query\":\"SELECT 1\",\"limit\":10,\"ratio\":0.5,\"strict\":true,\"nothing\":null}]}},"
               "\"configuration\":{\"host\":\"db.example.com\",\"port\":5432,\"ratio\":1.5,\"ssl\":true,"
               "\"tables\":[\"users\",7,false],\"hex\":31,\"octal\":15,\"largest\":-999999999999999,"
               "\"password\":{\"secret\":\"db-password\"},\"apiKey\":{\"secret\":\"api.key_1\"}}}",
               "managed fields: every field as the JSON the connector API takes, the strings first, in the "
               "manifest's order, rules as declared, secrets as {\"secret\": NAME}");
        is_str(s->connectors[0].name, "HR",
               "managed fields: the string fields are still read into their own");
        ok(!s->connectors[1].fields, "managed fields: a connector declaring only its id has none (NULL)");
        is_str(s->connectors[2].fields, "{\"name\":\"Only a name\"}", "managed fields: a name alone");
        ok(s->lifecycle.create && s->lifecycle.update && s->lifecycle.allow_disruptive,
           "lifecycle: create, update and allow_disruptive read");
        ok(!m->sets[1].lifecycle.create && !m->sets[1].lifecycle.update &&
                   !m->sets[1].lifecycle.allow_disruptive,
           "lifecycle: {} leaves all three false");
        is_str(m->sets[1].connectors[0].fields, "{\"language\":\"yes\"}",
               "managed fields: a quoted 'yes' is a string");
}

static void test_managed_field_errors(void) {
#define POS(line, column) "m.yaml:" #line ":" #column ": "
#define C0                "'spec.connectors[0]."
#define SECRET_INLINE(key)                                                                                  \
        C0 "configuration." key "' looks like a secret (by its name), and secrets never go in a manifest: " \
           "write {secret: NAME} and put the value in the file NAME of the secrets folder "                 \
           "($CREDENTIALS_DIRECTORY, or secrets_dir in the config)\n"
#define SECRET_NAME(key)                                                                                    \
        C0 "configuration." key ".secret' must name a file in the secrets folder: 1 to 255 of A-Z a-z 0-9 " \
           ". _ -, not starting with '.'\n"
#define BOOL_1_1(path, value)                                                                 \
        C0 path "' is '" value                                                                \
                "', a boolean in YAML 1.1 and a string in YAML 1.2: write true or false, or " \
                "quote it\n"
#define RULE(rest) "filtering:\n  rules:\n    - {id: a, " rest "}"
#define RULE_ENUMS "it must be one of: equals, contains, ends_with, starts_with, regex, >, <\n"
        static const struct {
                const char *what, *body, *want;
        } cases[] = {
                /* Types. */
                { "language an integer", "language: 5",
                  POS(8, 17) C0
                  "language' must be a string, got an integer; quote it to make it a string\n" },
                { "language empty", "language: \"\"", POS(8, 17) C0 "language' must not be empty\n" },
                { "is_native a string", "is_native: \"true\"",
                  POS(8, 18) C0 "is_native' must be true or false, got a string\n" },
                { "is_native yes", "is_native: yes",
                  POS(8, 18) C0 "is_native' must be true or false, got 'yes' (a boolean in YAML 1.1)\n" },
                { "pipeline a list", "pipeline: []",
                  POS(8, 17) C0 "pipeline' must be a mapping, got a list\n" },
                { "pipeline member YAML 1.1", "pipeline: {reduce_whitespace: no}",
                  POS(8, 37) C0
                  "pipeline.reduce_whitespace' must be true or false, got 'no' (a boolean in YAML "
                  "1.1)\n" },
                { "scheduling enabled an integer", "scheduling: {full: {enabled: 1}}",
                  POS(8, 36) C0 "scheduling.full.enabled' must be true or false, got an integer\n" },
                { "scheduling interval empty", "scheduling: {full: {enabled: true, interval: \"\"}}",
                  POS(8, 52) C0 "scheduling.full.interval' must not be empty\n" },
                { "a feature a boolean", "features: {incremental_sync: true}",
                  POS(8, 36) C0 "features.incremental_sync' must be a mapping, got a boolean\n" },
                { "a feature without enabled", "features: {incremental_sync: {}}",
                  POS(8, 36) "missing required key " C0 "features.incremental_sync.enabled'\n" },
                { "rules a mapping", "filtering: {rules: {id: a}}",
                  POS(8, 26) C0 "filtering.rules' must be a list, got a mapping\n" },
                { "snippet value a scalar", "filtering: {advanced_snippet: {value: 5}}",
                  POS(8, 45) C0
                  "filtering.advanced_snippet.value' must be a mapping or a list (the snippet's "
                  "JSON), got an integer\n" },
                { "snippet without value", "filtering: {advanced_snippet: {}}",
                  POS(8, 37) "missing required key " C0 "filtering.advanced_snippet.value'\n" },
                { "configuration a list", "configuration: []",
                  POS(8, 22) C0
                  "configuration' must be a mapping of configuration keys to values, got a list\n" },
                { "configuration value null", "configuration: {host: null}",
                  POS(8, 29) C0
                  "configuration.host' is null: give a value, or leave the key out to leave it "
                  "alone\n" },
                { "configuration value a mapping without secret", "configuration: {host: {}}",
                  POS(8, 29) C0
                  "configuration.host' must be a value, a list of values, or {secret: NAME}\n" },
                { "configuration list of lists", "configuration: {tags: [a, [b]]}",
                  POS(8, 33) C0 "configuration.tags[1]' must be a value, got a list\n" },
                { "configuration empty key", "configuration: {\"\": 1}",
                  POS(8, 23) C0 "configuration' has a key that is not a non-empty string\n" },

                /* Unknown keys, with a suggestion when one is close. */
                { "unknown connector key", "connfiguration: {a: 1}",
                  POS(8, 7) "unknown key " C0 "connfiguration' (did you mean 'configuration'?)\n" },
                { "unknown pipeline key, nothing close", "pipeline: {name: p, extract_binary: true}",
                  POS(8, 27) "unknown key " C0 "pipeline.extract_binary'\n" },
                { "unknown schedule", "scheduling: {ful: {enabled: true}}",
                  POS(8, 20) "unknown key " C0 "scheduling.ful' (did you mean 'full'?)\n" },
                { "unknown sync rule",
                  "features: {sync_rules: {basic: {enabled: true}, advance: {enabled: true}}}",
                  POS(8, 55) "unknown key " C0 "features.sync_rules.advance' (did you mean 'advanced'?)\n" },
                { "unknown feature", "features: {dls: {enabled: true}}",
                  POS(8, 18) "unknown key " C0 "features.dls'\n" },
                { "unknown filtering key", "filtering: {rule: []}",
                  POS(8, 19) "unknown key " C0 "filtering.rule' (did you mean 'rules'?)\n" },
                { "configuration value {value: x}", "configuration: {host: {value: x}}",
                  POS(8, 30) "unknown key " C0 "configuration.host.value'\n" },
                { "a secret with another key", "configuration: {password: {secret: ok, extra: 1}}",
                  POS(8, 46) "unknown key " C0 "configuration.password.extra'\n" },

                /* What JSON cannot carry, or not exactly. */
                { "YAML 1.1 boolean in configuration", "configuration: {ssl: yes}",
                  POS(8, 28) BOOL_1_1("configuration.ssl", "yes") },
                { "YAML 1.1 boolean in a list", "configuration: {tags: [a, no]}",
                  POS(8, 33) BOOL_1_1("configuration.tags[1]", "no") },
                { ".inf", "configuration: {port: .inf}",
                  POS(8, 29) C0 "configuration.port' is .inf, which JSON cannot carry: quote it\n" },
                { ".nan", "configuration: {port: .nan}",
                  POS(8, 29) C0 "configuration.port' is .nan, which JSON cannot carry: quote it\n" },
                { "a float past a double", "configuration: {port: 1e999}",
                  POS(8, 29) C0 "configuration.port' is 1e999, which JSON cannot carry: quote it\n" },
                { "a 16-digit integer", "configuration: {port: 1000000000000000}",
                  POS(8, 29) C0
                  "configuration.port' is 1000000000000000, past the integers carried exactly (15 "
                  "digits): quote it\n" },
                { "2^53 - 1, which cJSON would print as one less", "configuration: {port: 9007199254740991}",
                  POS(8, 29) C0
                  "configuration.port' is 9007199254740991, past the integers carried exactly (15 "
                  "digits): quote it\n" },
                { "a huge hexadecimal", "configuration: {port: 0xFFFFFFFFFFFFFFFFFF}",
                  POS(8, 29) C0
                  "configuration.port' is 0xFFFFFFFFFFFFFFFFFF, past the integers carried exactly "
                  "(15 digits): quote it\n" },
                { "in a snippet too", "filtering: {advanced_snippet: {value: {a: .inf, b: yes}}}",
                  POS(8, 49) C0
                  "filtering.advanced_snippet.value.a' is .inf, which JSON cannot carry: quote it\n" POS(
                          8, 58) BOOL_1_1("filtering.advanced_snippet.value.b", "yes") },

                /* Empty. */
                { "pipeline empty", "pipeline: {}",
                  POS(8, 17) C0 "pipeline' is empty: declare what to manage, or leave the key out\n" },
                { "a schedule empty", "scheduling: {full: {}}",
                  POS(8, 26) C0
                  "scheduling.full' is empty: declare what to manage, or leave the key out\n" },
                { "filtering empty", "filtering: {}",
                  POS(8, 18) C0 "filtering' is empty: declare rules, advanced_snippet or both\n" },
                { "rules empty", "filtering: {rules: []}",
                  POS(8, 26) C0
                  "filtering.rules' is an empty list: Elasticsearch keeps at least its default "
                  "rule; leave the key out, or declare the rules\n" },
                { "configuration empty", "configuration: {}",
                  POS(8, 22) C0 "configuration' is empty: declare values, or leave the key out\n" },

                /* Rules. */
                { "two rules with one id",
                  "filtering:\n  rules:\n    - {id: a, policy: include, field: f, rule: equals, value: v, "
                  "order: "
                  "1}\n    - {id: a, policy: include, field: g, rule: equals, value: w, order: 2}",
                  POS(10, 11) C0 "filtering.rules' has two rules with the id 'a'\n" },
                { "policy and rule not among the enums",
                  RULE("policy: deny, field: f, rule: equal, value: v, order: 1"),
                  POS(10, 29) C0
                  "filtering.rules[0].policy' is 'deny'; it must be one of: include, exclude\n" POS(10, 51)
                          C0 "filtering.rules[0].rule' is 'equal'; " RULE_ENUMS },
                { "enums are lower-case", RULE("policy: Include, field: f, rule: REGEX, value: v, order: 1"),
                  POS(10, 29) C0
                  "filtering.rules[0].policy' is 'Include'; it must be one of: include, exclude\n" POS(
                          10, 54) C0 "filtering.rules[0].rule' is 'REGEX'; " RULE_ENUMS },
                { "a rule's value a number",
                  RULE("policy: include, field: f, rule: regex, value: 5, order: 1"),
                  POS(10, 68) C0
                  "filtering.rules[0].value' must be a string, got an integer; quote it to make it "
                  "a string\n" },
                { "order negative", RULE("policy: include, field: f, rule: regex, value: v, order: -1"),
                  POS(10, 78) C0 "filtering.rules[0].order' must be an integer from 0 to 2147483647\n" },
                { "order past an int",
                  RULE("policy: include, field: f, rule: regex, value: v, order: 2147483648"),
                  POS(10, 78) C0 "filtering.rules[0].order' must be an integer from 0 to 2147483647\n" },
                { "order a float", RULE("policy: include, field: f, rule: regex, value: v, order: 1.5"),
                  POS(10, 78) C0 "filtering.rules[0].order' must be an integer, got a number\n" },
                { "order missing", RULE("policy: include, field: f, rule: regex, value: v"),
                  POS(10, 13) "missing required key " C0 "filtering.rules[0].order'\n" },

                /* Secrets. */
                { "password inline", "configuration: {password: hunter2}",
                  POS(8, 33) SECRET_INLINE("password") },
                { "api_key inline", "configuration: {api_key: abc}", POS(8, 32) SECRET_INLINE("api_key") },
                { "apiKey inline", "configuration: {apiKey: abc}", POS(8, 31) SECRET_INLINE("apiKey") },
                { "accessToken inline", "configuration: {accessToken: abc}",
                  POS(8, 36) SECRET_INLINE("accessToken") },
                { "a secret-looking key with a list", "configuration: {client_secret: [a, b]}",
                  POS(8, 38) SECRET_INLINE("client_secret") },
                { "a secret name with a slash", "configuration: {password: {secret: ../etc/passwd}}",
                  POS(8, 42) SECRET_NAME("password") },
                { "a secret name starting with a dot", "configuration: {password: {secret: .hidden}}",
                  POS(8, 42) SECRET_NAME("password") },
                { "a secret name empty", "configuration: {password: {secret: \"\"}}",
                  POS(8, 42) SECRET_NAME("password") },
                { "a secret name with a space", "configuration: {password: {secret: a b}}",
                  POS(8, 42) SECRET_NAME("password") },
                { "a secret name an integer", "configuration: {password: {secret: 5}}",
                  POS(8, 42) SECRET_NAME("password") },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = NULL, *fields = NULL;

                got = parse_connector(cases[i].body, &fields);
                is_str(got, cases[i].want, "managed field errors: %s", cases[i].what);
        }

        /* The edges that load. */
        static const struct {
                const char *what, *body, *want;
        } good[] = {
                { "15 digits", "configuration: {port: 999999999999999}",
                  "{\"configuration\":{\"port\":999999999999999}}" },
                { "a key merely containing 'key'", "configuration: {keyword: abc, keys: [a]}",
                  "{\"configuration\":{\"keyword\":\"abc\",\"keys\":[\"a\"]}}" },
                { "a secret for a key that does not look secret", "configuration: {host: {secret: db-host}}",
                  "{\"configuration\":{\"host\":{\"secret\":\"db-host\"}}}" },
                { "order 0 and 2147483647",
                  "filtering:\n  rules:\n    - {id: a, policy: include, field: f, rule: \"<\", value: v, "
                  "order: 0}\n"
                  "    - {id: b, policy: exclude, field: f, rule: regex, value: v, order: 2147483647}",
                  "{\"filtering\":{\"rules\":[{\"id\":\"a\",\"policy\":\"include\",\"field\":\"f\",\"rule\":"
                  "\"<\","
                  "\"value\":\"v\",\"order\":0},{\"id\":\"b\",\"policy\":\"exclude\",\"field\":\"f\","
                  "\"rule\":\"regex\","
                  "\"value\":\"v\",\"order\":2147483647}]}}" },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *got = NULL, *fields = NULL;

                got = parse_connector(good[i].body, &fields);
                ok(streq(got, "") && fields && streq(fields, good[i].want),
                   "managed fields: %s loads (%s%s)", good[i].what, got, strna(fields));
        }
#undef POS
#undef C0
#undef SECRET_INLINE
#undef SECRET_NAME
#undef BOOL_1_1
#undef RULE
#undef RULE_ENUMS
}

static void test_lifecycle(void) {
#define DISRUPTIVE_ALONE                                                                                 \
        "'spec.lifecycle.allow_disruptive' lets updates change index_name, service_type and is_native, " \
        "but "                                                                                           \
        "this set neither creates nor updates: set 'spec.lifecycle.update: true' too, or drop it\n"
        static const struct {
                const char *what, *lifecycle, *want;
                bool create, update, allow_disruptive;
        } cases[] = {
                { "all three", "  lifecycle: {create: true, update: true, allow_disruptive: true}\n", "",
                  true, true, true },
                { "update with allow_disruptive", "  lifecycle: {update: true, allow_disruptive: true}\n",
                  "", false, true, true },
                { "create with allow_disruptive", "  lifecycle: {create: true, allow_disruptive: true}\n",
                  "", true, false, true },
                { "allow_disruptive false alone", "  lifecycle: {allow_disruptive: false}\n", "", false,
                  false, false },
                { "none", "", "", false, false, false },
                { "allow_disruptive alone", "  lifecycle: {allow_disruptive: true}\n",
                  "m.yaml:6:33: " DISRUPTIVE_ALONE, false, false, true },
                { "allow_disruptive with both false",
                  "  lifecycle:\n    create: false\n    update: false\n    allow_disruptive: true\n",
                  "m.yaml:9:23: " DISRUPTIVE_ALONE, false, false, true },
                { "a typo", "  lifecycle: {updates: true}\n",
                  "m.yaml:6:15: unknown key 'spec.lifecycle.updates' (did you mean 'update'?)\n", false,
                  false, false },
                { "a YAML 1.1 boolean", "  lifecycle: {create: yes}\n",
                  "m.yaml:6:23: 'spec.lifecycle.create' must be true or false, got 'yes' (a boolean in YAML "
                  "1.1)\n",
                  false, false, false },
                { "a list", "  lifecycle: [create]\n",
                  "m.yaml:6:14: 'spec.lifecycle' must be a mapping, got a list\n", false, false, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(diags_donep) struct yaml_read_diags e = {};
                _cleanup_(manifest_freep) struct manifest *m = NULL;
                _cleanup_free_ char *y = NULL, *got = NULL;
                int r;

                assert_se(asprintf(&y,
                                   "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  "
                                   "name: m\n"
                                   "spec:\n%s  connectors:\n    - id: m-1\n",
                                   cases[i].lifecycle) >= 0);
                r = manifest_parse("m.yaml", y, strlen(y), &m, &e);
                got = joined(&e);
                is_str(got, cases[i].want, "lifecycle: %s: errors", cases[i].what);
                if (*cases[i].want)
                        continue;
                ok(r == 0 && m && m->sets[0].lifecycle.create == cases[i].create &&
                           m->sets[0].lifecycle.update == cases[i].update &&
                           m->sets[0].lifecycle.allow_disruptive == cases[i].allow_disruptive,
                   "lifecycle: %s: read", cases[i].what);
        }
#undef DISRUPTIVE_ALONE
}

/* manifest_key_looks_secret()'s rule, as manifest-fields.h states it: split into words at anything
 * but letters and digits and between a lower-case and an upper-case letter; a word that is or
 * contains password, passwd, token, secret or credential, or is "key" or ends in it. */
static void test_key_looks_secret(void) {
        static const struct {
                const char *key;
                bool secret;
        } cases[] = {
                { "password", true },
                { "PASSWORD", true },
                { "db_passwd", true },
                { "passwordless", true }, /* contains password */
                { "api_key", true },
                { "apiKey", true },
                { "APIKey", true }, /* one word, "apikey", ends in key */
                { "sslKEY", true },
                { "private.key", true },
                { "key", true },
                { "Key", true },
                { "keyPath", true },
                { "accessToken", true },
                { "access-token", true },
                { "token_url", true },
                { "tokenizer", true }, /* contains token */
                { "client_secret", true },
                { "secretary", true }, /* contains secret */
                { "aws_credentials", true },
                { "monkey_business", true }, /* "monkey" ends in key: the rule errs towards a secret */
                { "donkey", true },
                { "keyword", false },
                { "KEYWORD", false },
                { "keys", false },
                { "ssh_keys", false },
                { "key2", false },
                { "api_key_2", true },
                { "hostname", false },
                { "port", false },
                { "pass", false },
                { "tok", false },
                { "", false },
                { "___", false },
                { "monkeyBusiness", true },
                { "businessKey", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(manifest_key_looks_secret(cases[i].key), cases[i].secret, "key_looks_secret: '%s' %s",
                       cases[i].key, cases[i].secret ? "looks secret" : "does not");
}

static void test_secret_name_valid(void) {
        char n255[256], n256[257];
        static const struct {
                const char *name;
                bool valid;
        } cases[] = {
                { "db-password", true },
                { "a", true },
                { "A.b_c-9", true },
                { "-x", true },
                { "x.", true },
                { ".hidden", false },
                { "", false },
                { "a/b", false },
                { "../x", false },
                { "a b", false },
                { "caf\xc3\xa9", false },
                { "a\\b", false },
                { "a:b", false },
                { ".", false },
                { "..", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(manifest_secret_name_valid(cases[i].name), cases[i].valid, "secret_name_valid: '%s'",
                       cases[i].name);
        memset(n255, 'a', 255);
        n255[255] = '\0';
        memset(n256, 'a', 256);
        n256[256] = '\0';
        ok(manifest_secret_name_valid(n255), "secret_name_valid: 255 bytes");
        ok(!manifest_secret_name_valid(n256), "secret_name_valid: 256 bytes");
}

static void test_walk_cases(void) {
        _cleanup_free_ char *s1 = set_yaml("one", "id-1"), *s2 = set_yaml("two", "id-2");
        _cleanup_(manifest_freep) struct manifest *m = NULL;

        assert_se(chdir(tmp_dir) == 0);

        /* Symbolic links to files and folders are followed. */
        make_dir("links");
        make_dir("real");
        make_dir("real/sub");
        write_file("real/one.yaml", s1);
        write_file("real/sub/two.yaml", s2);
        assert_se(symlinkat("../real/one.yaml", AT_FDCWD, "links/one.yaml") == 0);
        assert_se(symlinkat("../real/sub", AT_FDCWD, "links/sub") == 0);
        assert_se(symlinkat("nowhere", AT_FDCWD, "links/README") == 0); /* dangling, not a manifest's name */
        make_dir("links/.git");
        write_file("links/.git/broken.yaml", "[");
        make_dir("links/dir.yaml"); /* a folder named like a manifest is walked like a folder */
        assert_se(chdir(tmp_dir) == 0);
        m = load_ok("links");
        ok(m && m->n_files == 2 && streq(m->files[0], "links/one.yaml") &&
                   streq(m->files[1], "links/sub/two.yaml"),
           "symbolic links to a file and to a folder are followed; .git is skipped");
        m = manifest_free(m);

        /* A file given directly is read whatever its name. */
        write_file("set.txt", s1);
        m = load_ok("set.txt");
        ok(m && m->n_sets == 1, "a file given by path is read whatever its name");
        m = manifest_free(m);

        make_dir("loop");
        make_dir("loop/inner");
        write_file("loop/set.yaml", s1);
        assert_se(symlinkat("..", AT_FDCWD, "loop/inner/up") == 0);
        expect_errors(
                "loop",
                "loop/inner/up: directory loop: this folder contains itself (through a symbolic link)\n",
                "a symbolic link to a parent folder");
        make_dir("loop2");
        write_file("loop2/set.yaml", s1);
        assert_se(symlinkat(".", AT_FDCWD, "loop2/self") == 0);
        expect_errors("loop2",
                      "loop2/self: directory loop: this folder contains itself (through a symbolic link)\n",
                      "a symbolic link to its own folder");

        make_dir("dangling");
        write_file("dangling/set.yaml", s1);
        assert_se(symlinkat("gone.yaml", AT_FDCWD, "dangling/link.yaml") == 0);
        expect_errors("dangling", "dangling/link.yaml: cannot access: No such file or directory\n",
                      "a dangling link named like a manifest");

        make_dir("fifo");
        {
                _cleanup_free_ char *p = tmp_path("fifo/pipe.yaml");

                assert_se(mkfifo(p, 0600) == 0);
        }
        expect_errors("fifo", "fifo/pipe.yaml: not a regular file\n",
                      "a FIFO named like a manifest (no hang)");
        expect_errors("fifo/pipe.yaml", "fifo/pipe.yaml: not a regular file\n", "a FIFO given by path");

        make_dir("empty");
        expect_errors("empty", "empty: no manifest (*.yaml, *.yml) in this directory\n", "an empty folder");
        expect_errors("missing", "missing: cannot access: No such file or directory\n", "a missing path");
        expect_errors("missing/x.yaml", "missing/x.yaml: cannot access: No such file or directory\n",
                      "a missing file");

        if (geteuid() != 0) {
                make_dir("unreadable");
                write_file("unreadable/set.yaml", s1);
                make_dir("unreadable/locked");
                write_file("unreadable/secret.yaml", s2);
                {
                        _cleanup_free_ char *a = tmp_path("unreadable/locked"),
                                            *b = tmp_path("unreadable/secret.yaml");

                        assert_se(chmod(a, 0) == 0);
                        assert_se(chmod(b, 0) == 0);
                        expect_errors("unreadable",
                                      "unreadable/locked: cannot open directory: Permission denied\n"
                                      "unreadable/secret.yaml: cannot open: Permission denied\n",
                                      "an unreadable folder and file");
                        (void) chmod(a, 0755);
                }
        } else {
                for (int i = 0; i < 2; i++)
                        printf("ok %d # SKIP unreadable files: running as root, which reads everything\n",
                               ++tap_run);
        }

        /* Two sets in two files with the same connector id and name. */
        make_dir("dups");
        write_file("dups/b.yaml", s1);
        write_file("dups/a.yaml", s1);
        expect_errors(
                "dups",
                "dups/b.yaml:4:9: ConnectorSet 'one' is already defined at dups/a.yaml:4:9\n"
                "dups/b.yaml:7:11: connector 'id-1' is already declared in set 'one' at dups/a.yaml:7:11\n",
                "the same file twice: the later one is reported, naming the first");
}

static void test_many_files(void) {
        struct rlimit saved, low;
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        size_t set, conn;
        char rel[64];

        /* 10,000 files under a descriptor limit of 32: files and folders are opened one at a time. */
        make_dir("many");
        for (unsigned d = 0; d < 100; d++) {
                (void) snprintf(rel, sizeof(rel), "many/d%02u", d);
                make_dir(rel);
                for (unsigned f = 0; f < 100; f++) {
                        _cleanup_free_ char *name = NULL, *id = NULL, *y = NULL;

                        assert_se(asprintf(&name, "set-%02u-%02u", d, f) >= 0);
                        assert_se(asprintf(&id, "c-%02u-%02u", d, f) >= 0);
                        y = set_yaml(name, id);
                        (void) snprintf(rel, sizeof(rel), "many/d%02u/s%02u.yaml", d, f);
                        write_file(rel, y);
                }
        }
        assert_se(getrlimit(RLIMIT_NOFILE, &saved) == 0);
        low = saved;
        low.rlim_cur = 32;
        assert_se(setrlimit(RLIMIT_NOFILE, &low) == 0);
        assert_se(chdir(tmp_dir) == 0);
        m = load_ok("many");
        assert_se(setrlimit(RLIMIT_NOFILE, &saved) == 0);
        ok(m && m->n_sets == 10000 && m->n_declared == 10000,
           "10,000 files load with at most 32 descriptors");
        ok(m && streq(m->files[0], "many/d00/s00.yaml") && streq(m->files[9999], "many/d99/s99.yaml"),
           "10,000 files: in order");
        ok(m && manifest_find(m, "c-42-17", &set, &conn) && streq(m->sets[set].name, "set-42-17"),
           "10,000 files: manifest_find");
}

static void test_limits(void) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        _cleanup_free_ char *big = NULL, *got = NULL, *many = NULL;
        struct manifest *m = NULL;
        size_t n = 0;
        int r;

        /* A scalar past 64 KiB. */
        big = malloc(70 * 1024);
        assert(big);
        n = (size_t) sprintf(
                big, "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: x\n"
                     "spec:\n  connectors:\n    - id: ");
        memset(big + n, 'a', 65537);
        n += 65537;
        big[n++] = '\n';
        r = manifest_parse("huge.yaml", big, n, &m, &e);
        got = joined(&e);
        ok(r == -EINVAL && !m, "a scalar of 65537 bytes is refused");
        is_str(got, "huge.yaml:7:11: scalar longer than 65536 bytes\n",
               "a scalar past the limit: the error");
        yaml_read_diags_done(&e);
        free(got);

        /* A file past 16 MiB, without writing 16 MiB: a sparse file. */
        {
                _cleanup_free_ char *p = tmp_path("huge.yaml");
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                assert(fd >= 0);
                assert_se(ftruncate(fd, (off_t) YAML_READ_MAX_FILE_SIZE + 1) == 0);
                close(fd);
                assert_se(chdir(tmp_dir) == 0);
                r = manifest_load("huge.yaml", &m, &e);
                got = joined(&e);
                ok(r == -EINVAL && !m, "a file past 16 MiB is refused");
                is_str(got, "huge.yaml: larger than 16777216 bytes\n", "a file past the limit: the error");
                yaml_read_diags_done(&e);
                free(got);
        }

        /* Past YAML_READ_MAX_DIAGS errors, the list stops and says so. */
        {
                FILE *f = open_memstream(&many, &n);

                assert(f);
                fputs("apiVersion: connector-reconciler/v1\nkind: ConnectorSet\nmetadata:\n  name: "
                      "x\nspec:\n",
                      f);
                for (unsigned i = 0; i < 1500; i++)
                        fprintf(f, "  k%u: 1\n", i);
                fclose(f);
        }
        r = manifest_parse("many.yaml", many, n, &m, &e);
        ok(r == -EINVAL && e.n_items == YAML_READ_MAX_DIAGS && e.n_total == 1500,
           "1500 errors: %zu kept, %zu counted", e.n_items, e.n_total);
        ok(e.n_items > 0 && strstr(e.items[e.n_items - 1].text, "(too many errors: stopping here)"),
           "the last error kept says that the rest is not");
        yaml_read_diags_done(&e);

        /* Messages stay one printable line whatever the input holds. */
        {
                static const char esc[] = "apiVersion: \"connector-reconciler/a\\nb\\tc\\x1b[31m\"\nkind: "
                                          "ConnectorSet\nmetadata: {name: x}\nspec: {}\n";

                r = manifest_parse("esc.yaml", esc, strlen(esc), &m, &e);
        }
        got = joined(&e);
        is_str(got,
               "esc.yaml:1:13: unsupported apiVersion 'connector-reconciler/a\\nb\\tc\\x1b[31m' (expected "
               "'connector-reconciler/v1')\n",
               "control characters in a message are escaped");
}

static void test_parse_buffer(void) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *y = set_yaml("buffer", "b-1"), *got = NULL;
        int r;

        r = manifest_parse("mem.yaml", y, strlen(y), &m, &e);
        ok(r == 0 && m && m->n_sets == 1 && streq(m->files[0], "mem.yaml") &&
                   streq(m->sources[0].connectors[0].file, "mem.yaml"),
           "manifest_parse: from memory, named as given");
        r = manifest_parse("empty.yaml", "", 0, &m, &e);
        got = joined(&e);
        is_str(got, "empty.yaml: no ConnectorSet in this file: it holds no YAML document\n",
               "manifest_parse: an empty buffer");
}

/* The digest of a folder, read the way manifest_digest() reads it; asserts that it can be read. */
static void digest_of(const char *rel, uint8_t ret[static MANIFEST_DIGEST_SIZE]) {
        _cleanup_(diags_donep) struct yaml_read_diags e = {};
        int r;

        assert_se(chdir(tmp_dir) == 0);
        r = manifest_digest(rel, ret, &e);
        if (r < 0) {
                _cleanup_free_ char *got = joined(&e);

                diag("digest of '%s' failed (%d): %s", rel, r, got);
                abort();
        }
}

static void test_digest(void) {
        _cleanup_free_ char *s1 = set_yaml("one", "id-1"), *s2 = set_yaml("two", "id-2"),
                            *s3 = set_yaml("three", "id-3"), *s1b = set_yaml("one", "id-9");
        _cleanup_(manifest_freep) struct manifest *m = NULL, *again = NULL, *single = NULL, *parsed = NULL;
        uint8_t d[MANIFEST_DIGEST_SIZE], first[MANIFEST_DIGEST_SIZE], want[MANIFEST_DIGEST_SIZE];

        assert_se(chdir(tmp_dir) == 0);
        make_dir("snap");
        make_dir("snap/sub");
        write_file("snap/a.yaml", s1);
        write_file("snap/sub/b.yaml", s2);

        m = load_ok("snap");
        again = load_ok("snap");
        if (!ok(m && again, "digest: the tree loads"))
                return;
        ok(memcmp(m->digest, again->digest, sizeof(d)) == 0, "digest: the same tree, the same digest");
        digest_of("snap", first);
        ok(memcmp(first, m->digest, sizeof(d)) == 0,
           "digest: manifest_digest() equals what manifest_load() read");
        digest_of("snap/", d);
        ok(memcmp(first, d, sizeof(d)) == 0, "digest: a trailing slash changes nothing");

        /* The format, pinned: for each file its relative path, a NUL, its size as 8 bytes
         * big-endian, its bytes. */
        {
                struct sha256_ctx c;
                const char *files[][2] = { { "a.yaml", s1 }, { "sub/b.yaml", s2 } };

                sha256_init(&c);
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        uint64_t size = strlen(files[i][1]);
                        uint8_t be[8];

                        for (unsigned k = 0; k < 8; k++)
                                be[k] = (uint8_t) (size >> (56 - 8 * k));
                        sha256_update(&c, files[i][0], strlen(files[i][0]) + 1);
                        sha256_update(&c, be, sizeof(be));
                        sha256_update(&c, files[i][1], size);
                }
                sha256_final(&c, want);
                ok(memcmp(first, want, sizeof(d)) == 0,
                   "digest: SHA-256 of path, NUL, size, bytes, file by file");
        }

        /* Files that are not read change nothing. */
        write_file("snap/README", "not a manifest");
        write_file("snap/.hidden.yaml", s3);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) == 0, "digest: files the walk skips change nothing");

        /* The same tree elsewhere: paths are relative. */
        assert_se(system("cp -R snap snap-copy") == 0);
        digest_of("snap-copy", d);
        ok(memcmp(first, d, sizeof(d)) == 0, "digest: a copy of the tree elsewhere, the same digest");

        /* A changed byte. */
        write_file("snap/a.yaml", s1b);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) != 0, "digest: a changed byte changes it");
        write_file("snap/a.yaml", s1);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) == 0, "digest: the byte changed back, the digest back");

        /* A renamed file. */
        assert_se(rename("snap/sub/b.yaml", "snap/sub/c.yaml") == 0);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) != 0, "digest: a renamed file changes it");
        assert_se(rename("snap/sub/c.yaml", "snap/sub/b.yaml") == 0);

        /* An added file, a removed one. */
        write_file("snap/sub/z.yaml", s3);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) != 0, "digest: an added file changes it");
        assert_se(unlink("snap/sub/z.yaml") == 0);
        assert_se(unlink("snap/a.yaml") == 0);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) != 0, "digest: a removed file changes it");

        /* A file replaced by a symbolic link to the same content: the content decides. */
        make_dir("elsewhere");
        write_file("elsewhere/real.yaml", s1);
        assert_se(symlinkat("../elsewhere/real.yaml", AT_FDCWD, "snap/a.yaml") == 0);
        digest_of("snap", d);
        ok(memcmp(first, d, sizeof(d)) == 0, "digest: a symbolic link to the same bytes, the same digest");
        {
                _cleanup_(manifest_freep) struct manifest *linked = load_ok("snap");

                ok(linked && memcmp(linked->digest, first, sizeof(d)) == 0,
                   "digest: manifest_load() through the link agrees");
        }

        /* Bytes moved from one file to the next: sizes frame the files. */
        make_dir("frame1");
        make_dir("frame2");
        write_file("frame1/x.yaml", "AB");
        write_file("frame1/y.yaml", "C");
        write_file("frame2/x.yaml", "A");
        write_file("frame2/y.yaml", "BC");
        digest_of("frame1", d);
        digest_of("frame2", want);
        ok(memcmp(want, d, sizeof(d)) != 0, "digest: the same bytes split differently between files differ");

        /* A file given directly is named by its name, whatever the path to it. */
        single = load_ok("elsewhere/real.yaml");
        digest_of("elsewhere/real.yaml", d);
        ok(single && memcmp(single->digest, d, sizeof(d)) == 0,
           "digest: a single file, load and digest agree");
        parsed = NULL;
        {
                _cleanup_(diags_donep) struct yaml_read_diags e = {};

                assert_se(manifest_parse("real.yaml", s1, strlen(s1), &parsed, &e) == 0);
        }
        ok(parsed && memcmp(parsed->digest, d, sizeof(d)) == 0,
           "digest: manifest_parse() of the same bytes under the file's name agrees");

        /* What cannot be read is an error, reported as the loader reports it. */
        {
                _cleanup_(diags_donep) struct yaml_read_diags e = {};
                _cleanup_free_ char *got = NULL;
                int r;

                r = manifest_digest("nowhere", d, &e);
                got = joined(&e);
                ok(r == -EINVAL, "digest: a missing path is refused");
                is_str(got, "nowhere: cannot access: No such file or directory\n",
                       "digest: a missing path: errors");
        }
}

/* Runs a shell command in the scratch folder, quietly; returns true when it succeeded. */
static bool sh(const char *cmd) {
        _cleanup_free_ char *full = NULL;

        assert_se(asprintf(&full, "cd '%s' && { %s; } >/dev/null 2>&1", tmp_dir, cmd) >= 0);
        return system(full) == 0;
}

/* manifest_git_busy(rel) must return 'want' and, when 1, describe the Git folder 'git_dir' (below
 * the scratch folder) and the markers 'markers'. */
static void expect_busy(const char *rel, int want, const char *git_dir, const char *markers,
                        const char *what) {
        _cleanup_free_ char *got = NULL, *expected = NULL, *real = realpath(tmp_dir, NULL);
        int r;

        assert_se(chdir(tmp_dir) == 0);
        r = manifest_git_busy(rel, &got);
        if (want == 1) {
                assert(git_dir && markers);
                assert_se(asprintf(&expected, "a Git operation is in progress in '%s/%s' (%s)", real,
                                   git_dir, markers) >= 0);
        }
        ok(r == want && (want == 1 ? got && streq(got, expected) : !got), "git busy: %s (%d, %s)", what, r,
           strna(got));
        if (want == 1 && (!got || !streq(got, expected)))
                diag("want '%s'", expected);
}

#define GIT \
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE; git -c user.name=test -c user.email=test@example.com "

static void test_git_busy(void) {
        const int n_tests = 14;

        if (!sh("git --version")) {
                for (int i = 0; i < n_tests; i++)
                        printf("ok %d # SKIP git is not installed\n", ++tap_run);
                return;
        }

        make_dir("norepo");
        if (sh(GIT "-C norepo rev-parse --git-dir"))
                printf("ok %d # SKIP the scratch folder is inside a Git repository\n", ++tap_run);
        else
                expect_busy("norepo", 0, NULL, NULL, "no repository");
        expect_busy("nowhere", 0, NULL, NULL, "a missing path");

        assert_se(sh(GIT "init -q repo && mkdir repo/m && echo x >repo/m/a.yaml"));
        expect_busy("repo/m", 0, NULL, NULL, "a repository at rest");
        assert_se(sh("touch repo/.git/index.lock"));
        expect_busy("repo/m", 1, "repo/.git", "index.lock", "index.lock, from a folder below the work tree");
        expect_busy("repo/m/a.yaml", 1, "repo/.git", "index.lock", "index.lock, from a file");
        expect_busy("repo", 1, "repo/.git", "index.lock", "index.lock, from the work tree's top");
        assert_se(sh("rm repo/.git/index.lock && touch repo/.git/MERGE_HEAD repo/.git/REVERT_HEAD && "
                     "mkdir repo/.git/rebase-merge"));
        expect_busy("repo/m", 1, "repo/.git", "MERGE_HEAD, REVERT_HEAD, rebase-merge",
                    "every marker is named");
        assert_se(sh("rm -r repo/.git/MERGE_HEAD repo/.git/REVERT_HEAD repo/.git/rebase-merge && "
                     "touch repo/.git/CHERRY_PICK_HEAD && mkdir repo/.git/rebase-apply"));
        expect_busy("repo/m", 1, "repo/.git", "CHERRY_PICK_HEAD, rebase-apply",
                    "a cherry-pick, an old-style rebase");
        assert_se(sh("rm -r repo/.git/CHERRY_PICK_HEAD repo/.git/rebase-apply"));

        /* A worktree: its .git is a file naming its own Git folder, where its own locks are. */
        assert_se(sh(GIT "-C repo add m/a.yaml && " GIT "-C repo commit -q -m init && " GIT
                         "-C repo worktree add -q ../wt"));
        expect_busy("wt/m", 0, NULL, NULL, "a worktree at rest");
        assert_se(sh("touch repo/.git/index.lock"));
        expect_busy("wt/m", 0, NULL, NULL, "a worktree: the main work tree's lock is not its own");
        assert_se(sh("rm repo/.git/index.lock && touch repo/.git/worktrees/wt/index.lock"));
        expect_busy("wt/m", 1, "repo/.git/worktrees/wt", "index.lock", "a worktree's own index.lock");

        /* A relative "gitdir:", as submodules have, resolved from the folder of the .git file. */
        assert_se(sh("mkdir -p super/modules/sub super/sub/m && printf 'gitdir: ../modules/sub\\n' "
                     ">super/sub/.git && "
                     "touch super/modules/sub/index.lock"));
        expect_busy("super/sub/m", 1, "super/modules/sub", "index.lock", "a relative gitdir");

        assert_se(sh("mkdir -p badgit/m && echo nonsense >badgit/.git"));
        expect_busy("badgit/m", -EBADMSG, NULL, NULL, "a .git file without gitdir");
}

/* What is not ours is skipped and listed: another tool's document beside a set, and kustomize's
 * own file. */
static void test_skipped(void) {
        _cleanup_(manifest_freep) struct manifest *k8s = load_ok("kubernetes-beside.yaml");
        _cleanup_(manifest_freep) struct manifest *kust = load_ok("kustomize");
        _cleanup_free_ char *got = NULL;

        if (ok(k8s && k8s->n_sets == 1, "kubernetes-beside.yaml: the set is read")) {
                is_str(k8s->sets[0].name, "beside-kubernetes", "kubernetes-beside.yaml: its name");
                got = joined(&k8s->skipped);
                is_str(got,
                       "kubernetes-beside.yaml:3:1: skipped: kind Deployment, apiVersion apps/v1 (not a "
                       "connector-reconciler document)\n",
                       "kubernetes-beside.yaml: the Deployment is skipped and listed");
        }
        if (ok(kust && kust->n_sets == 1 && kust->n_files == 2, "kustomize: one set from two files")) {
                free(got);
                got = joined(&kust->skipped);
                is_str(got, "kustomize/kustomization.yaml: skipped: a kustomization file\n",
                       "kustomize: kustomization.yaml is skipped by its name");
        }
}

int main(void) {
        const char *top = getenv("top_srcdir") ?: ".";
        char dir[PATH_MAX];

        tmp_dir = scratch_new("test-manifest");

        (void) snprintf(dir, sizeof(dir), "%s/tests/data/manifests/good", top);
        if (chdir(dir) < 0)
                skip_all("cannot find tests/data/manifests (set top_srcdir)");
        test_good_corpus();
        test_full();
        test_defaults();
        test_purge_after();
        test_values();
        test_tree();
        test_skipped();

        (void) snprintf(dir, sizeof(dir), "%s/tests/data/manifests/bad", top);
        assert_se(chdir(dir) == 0);
        test_bad_corpus();

        test_walk_cases();
        test_many_files();
        test_limits();
        test_parse_buffer();
        test_managed_fields();
        test_managed_field_errors();
        test_lifecycle();
        test_key_looks_secret();
        test_secret_name_valid();
        test_digest();
        test_git_busy();

        assert_se(chdir("/") == 0);
        scratch_remove(tmp_dir);
        free(tmp_dir);
        return done();
}
