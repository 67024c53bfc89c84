/* restore.c: which requests restore a document on which version, with which bodies, and how the
 * connector read back is judged, field by field. */

#include <string.h>

#include "restore.h"
#include "tap.h"
#include "util.h"

/* A connector as Elasticsearch 8.15+ returns it, with every aspect set. */
#define FULL_DOC                                                                                        \
        "{\"id\":\"c1\",\"api_key_id\":\"k1\",\"api_key_secret_id\":\"s1\","                            \
        "\"configuration\":{\"host\":{\"label\":\"Host\",\"type\":\"str\",\"value\":\"db\"}},"          \
        "\"custom_scheduling\":{\"x\":{\"enabled\":true}},\"description\":\"d\",\"error\":null,"        \
        "\"features\":{\"incremental_sync\":{\"enabled\":true}},"                                       \
        "\"filtering\":[{\"domain\":\"DEFAULT\",\"active\":{\"rules\":[]},\"draft\":{\"rules\":[]}}],"  \
        "\"index_name\":\"search-c1\",\"is_native\":false,\"language\":\"en\",\"last_seen\":\"2026-01-" \
        "01\","                                                                                         \
        "\"name\":\"C one\",\"pipeline\":{\"name\":\"p\",\"extract_binary_content\":true,"              \
        "\"reduce_whitespace\":true,\"run_ml_inference\":false},"                                       \
        "\"scheduling\":{\"full\":{\"enabled\":true,\"interval\":\"0 0 * * * ?\"}},"                    \
        "\"service_type\":\"mysql\",\"status\":\"connected\",\"sync_now\":false}"

static struct cluster_info version(unsigned major, unsigned minor) {
        return (struct cluster_info){ .major = major, .minor = minor };
}

/* The steps as "name:endpoint" or "name:skipped", space-separated. */
static char *steps_string(const struct restore_plan *p) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        assert_se(f);
        for (size_t i = 0; i < p->n_steps; i++)
                fprintf(f, "%s%s:%s", i ? " " : "", p->steps[i].name,
                        p->steps[i].skipped ? "skipped" : strempty(p->steps[i].endpoint));
        for (size_t i = 0; i < p->n_lost; i++)
                fprintf(f, " lost:%s", p->lost[i].field);
        fclose(f);
        return s;
}

static const struct restore_step *find_step(const struct restore_plan *p, const char *name) {
        for (size_t i = 0; i < p->n_steps; i++)
                if (streq(p->steps[i].name, name))
                        return &p->steps[i];
        return NULL;
}

static void test_steps(void) {
        static const struct {
                const char *name;
                const char *doc;
                unsigned major, minor;
                const char *want;
        } table[] = {
                { "a full document on 8.15: every aspect, in order; custom_scheduling lost", FULL_DOC, 8, 15,
                  "create: api_key_id:_api_key_id configuration:_configuration scheduling:_scheduling "
                  "pipeline:_pipeline filtering:_filtering features:_features lost:custom_scheduling" },
                { "on 9.1 the same", FULL_DOC, 9, 1,
                  "create: api_key_id:_api_key_id configuration:_configuration scheduling:_scheduling "
                  "pipeline:_pipeline filtering:_filtering features:_features lost:custom_scheduling" },
                { "on 8.14: no _features endpoint", FULL_DOC, 8, 14,
                  "create: api_key_id:_api_key_id configuration:_configuration scheduling:_scheduling "
                  "pipeline:_pipeline filtering:_filtering features:skipped lost:custom_scheduling" },
                { "on 8.12: no _api_key_id either", FULL_DOC, 8, 12,
                  "create: api_key_id:skipped configuration:_configuration scheduling:_scheduling "
                  "pipeline:_pipeline filtering:_filtering features:skipped lost:custom_scheduling" },
                { "a bare document: only the create", "{\"id\":\"c\",\"name\":\"n\"}", 9, 0, "create:" },
                { "null and empty aspects are not sent",
                  "{\"id\":\"c\",\"api_key_id\":null,\"api_key_secret_id\":null,\"configuration\":{},"
                  "\"custom_scheduling\":{},\"features\":null,\"filtering\":[],\"pipeline\":null}",
                  8, 15, "create:" },
                { "a secret id alone restores the api key pair",
                  "{\"id\":\"c\",\"api_key_id\":null,\"api_key_secret_id\":\"s\"}", 8, 13,
                  "create: api_key_id:_api_key_id" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_free_ char *got = NULL, *err = NULL;
                struct cluster_info info = version(table[i].major, table[i].minor);

                is_int(restore_plan_build(table[i].doc, strlen(table[i].doc), &info, &p, &err), 0,
                       "%s: builds", table[i].name);
                got = steps_string(&p);
                is_str(got, table[i].want, "%s", table[i].name);
        }
}

static void test_bodies(void) {
        _cleanup_(restore_plan_done) struct restore_plan p = {};
        _cleanup_free_ char *err = NULL;
        struct cluster_info info = version(8, 15);
        const struct restore_step *s;

        assert_se(restore_plan_build(FULL_DOC, strlen(FULL_DOC), &info, &p, &err) == 0);

        s = find_step(&p, "create");
        is_str(s ? s->body : NULL,
               "{\"description\":\"d\",\"index_name\":\"search-c1\",\"is_native\":false,\"language\":\"en\","
               "\"name\":\"C one\",\"service_type\":\"mysql\"}",
               "the create carries the six fields PUT takes, and no id, status or runtime field");
        s = find_step(&p, "api_key_id");
        is_str(s ? s->body : NULL, "{\"api_key_id\":\"k1\",\"api_key_secret_id\":\"s1\"}",
               "_api_key_id carries both ids");
        s = find_step(&p, "configuration");
        is_str(s ? s->body : NULL,
               "{\"configuration\":{\"host\":{\"label\":\"Host\",\"type\":\"str\",\"value\":\"db\"}}}",
               "_configuration carries the whole configuration, schema and values");
        s = find_step(&p, "filtering");
        is_str(s ? s->body : NULL,
               "{\"filtering\":[{\"domain\":\"DEFAULT\",\"active\":{\"rules\":[]},\"draft\":{\"rules\":[]}}]"
               "}",
               "_filtering carries the whole array, active rules included");
        s = find_step(&p, "features");
        is_str(s ? s->body : NULL, "{\"features\":{\"incremental_sync\":{\"enabled\":true}}}",
               "_features carries the features");
        ok(s && s->body_size == strlen(s->body), "each body's size is its length");
}

static void test_bad_documents(void) {
        static const struct {
                const char *doc;
                const char *want;
        } table[] = {
                { "[]", "The document is not a JSON object" },
                { "{\"id\":", "The document is not JSON" },
                { "{\"id\":\"c\",\"name\":7}", "The document's 'name' is not a string" },
                { "{\"id\":\"c\",\"is_native\":\"true\"}", "The document's 'is_native' is not a boolean" },
                { "{\"id\":\"c\",\"filtering\":{}}", "The document's 'filtering' is not an array" },
                { "{\"id\":\"c\",\"configuration\":[]}", "The document's 'configuration' is not an object" },
                { "{\"id\":\"c\",\"scheduling\":{\"full\":{},\"full\":{}}}",
                  "The document has a member named 'full' twice" },
                { "{\"id\":\"c\",\"name\":\"a\",\"name\":\"b\"}",
                  "The document has a member named 'name' twice" },
                { "{\"id\":\"c\",\"filtering\":[{\"a\":1,\"a\":2}]}",
                  "The document has a member named 'a' twice" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_free_ char *err = NULL;
                struct cluster_info info = version(9, 0);

                is_int(restore_plan_build(table[i].doc, strlen(table[i].doc), &info, &p, &err), -EBADMSG,
                       "refused: %s", table[i].doc);
                is_str(err, table[i].want, "and says why");
                ok(p.n_steps == 0 && !p.steps, "and leaves no plan");
        }
}

/* The check, as "field=state" words. */
static char *check_string(const struct restore_check *c) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        assert_se(f);
        for (size_t i = 0; i < c->n_fields; i++)
                fprintf(f, "%s%s=%s", i ? " " : "", c->fields[i].field,
                        restore_field_state_to_string(c->fields[i].state));
        fclose(f);
        return s;
}

static void test_check(void) {
        const char *same_with_runtime =
                "{\"id\":\"c1\",\"api_key_id\":\"k1\",\"api_key_secret_id\":\"s1\","
                "\"configuration\":{\"host\":{\"value\":\"db\",\"tooltip\":null,\"type\":\"str\",\"label\":"
                "\"Host\"}},"
                "\"custom_scheduling\":{},\"description\":\"d\",\"error\":null,"
                "\"features\":{\"incremental_sync\":{\"enabled\":true}},"
                "\"filtering\":[{\"domain\":\"DEFAULT\",\"active\":{\"rules\":[]},\"draft\":{\"rules\":[]}}]"
                ","
                "\"index_name\":\"search-c1\",\"is_native\":false,\"language\":\"en\",\"last_seen\":null,"
                "\"name\":\"C one\",\"pipeline\":{\"run_ml_inference\":false,\"name\":\"p\","
                "\"extract_binary_content\":true,\"reduce_whitespace\":true},"
                "\"scheduling\":{\"full\":{\"enabled\":true,\"interval\":\"0 0 * * * ?\"}},"
                "\"service_type\":\"mysql\",\"status\":\"configured\",\"sync_now\":false}";
        const char *differs = "{\"id\":\"c1\",\"api_key_id\":\"k1\",\"api_key_secret_id\":\"s1\","
                              "\"configuration\":{},\"description\":\"d\","
                              "\"features\":{\"incremental_sync\":{\"enabled\":true}},"
                              "\"filtering\":[{\"domain\":\"DEFAULT\",\"active\":{\"rules\":[]},\"draft\":{"
                              "\"rules\":[]}}],\"index_name\":\"search-c1\",\"is_native\":false,"
                              "\"language\":\"en\",\"name\":\"C one\",\"pipeline\":{\"name\":\"p\","
                              "\"extract_binary_content\":true,\"reduce_whitespace\":true,"
                              "\"run_ml_inference\":false},\"scheduling\":{\"full\":{\"enabled\":true,"
                              "\"interval\":\"0 0 * * * ?\"}},\"service_type\":\"mysql\"}";
        struct cluster_info v815 = version(8, 15), v814 = version(8, 14);

        {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {};
                _cleanup_free_ char *err = NULL, *got = NULL;

                assert_se(restore_plan_build(FULL_DOC, strlen(FULL_DOC), &v815, &p, &err) == 0);
                is_int(restore_check_build(FULL_DOC, strlen(FULL_DOC), same_with_runtime,
                                           strlen(same_with_runtime), &p, &c, &err),
                       0, "a connector that came back whole");
                got = check_string(&c);
                is_str(got,
                       "description=restored index_name=restored is_native=restored language=restored "
                       "name=restored service_type=restored api_key_id=restored api_key_secret_id=restored "
                       "configuration=restored scheduling=restored pipeline=restored filtering=restored "
                       "features=restored custom_scheduling=not restorable",
                       "every field restored; key order and runtime fields (status, last_seen) do not "
                       "matter");
                is_int(c.n_differ, 0, "nothing differs");
                is_int(c.n_not_restorable, 1, "one field could not be restored");
                ok(c.n_fields > 0 && c.fields[c.n_fields - 1].why &&
                           strstr(c.fields[c.n_fields - 1].why, "no endpoint"),
                   "and the report says why ('%s')",
                   c.n_fields > 0 ? strna(c.fields[c.n_fields - 1].why) : "");
        }
        {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {};
                _cleanup_free_ char *err = NULL;

                assert_se(restore_plan_build(FULL_DOC, strlen(FULL_DOC), &v815, &p, &err) == 0);
                assert_se(restore_check_build(FULL_DOC, strlen(FULL_DOC), differs, strlen(differs), &p, &c,
                                              &err) == 0);
                is_int(c.n_differ, 1, "a configuration that did not come back differs");
                for (size_t i = 0; i < c.n_fields; i++)
                        if (c.fields[i].state == RESTORE_FIELD_DIFFERS) {
                                is_str(c.fields[i].field, "configuration", "the field is named");
                                ok(c.fields[i].detail && strstr(c.fields[i].detail, "wanted {\"host\"") &&
                                           strstr(c.fields[i].detail, "reads {}"),
                                   "with what was wanted and what reads back ('%s')",
                                   strna(c.fields[i].detail));
                        }
        }
        {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {};
                _cleanup_free_ char *err = NULL;
                bool features_not_restorable = false;

                assert_se(restore_plan_build(FULL_DOC, strlen(FULL_DOC), &v814, &p, &err) == 0);
                assert_se(restore_check_build(FULL_DOC, strlen(FULL_DOC), same_with_runtime,
                                              strlen(same_with_runtime), &p, &c, &err) == 0);
                for (size_t i = 0; i < c.n_fields; i++)
                        if (streq(c.fields[i].field, "features"))
                                features_not_restorable =
                                        c.fields[i].state == RESTORE_FIELD_NOT_RESTORABLE &&
                                        c.fields[i].why && strstr(c.fields[i].why, "8.15");
                ok(features_not_restorable,
                   "on 8.14 the features are not restorable, because of the version");
                is_int(c.n_not_restorable, 2, "features and custom_scheduling");
        }
        {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {};
                _cleanup_free_ char *err = NULL, *got = NULL;
                const char *bare = "{\"id\":\"c\",\"index_name\":\"i\"}";
                const char *back = "{\"id\":\"c\",\"index_name\":\"i\",\"name\":\"\",\"is_native\":false,"
                                   "\"configuration\":{},\"status\":\"created\"}";

                assert_se(restore_plan_build(bare, strlen(bare), &v815, &p, &err) == 0);
                assert_se(restore_check_build(bare, strlen(bare), back, strlen(back), &p, &c, &err) == 0);
                got = check_string(&c);
                is_str(got, "index_name=restored",
                       "defaults the create gives to fields the document lacks are not differences");
        }
        {
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {};
                _cleanup_free_ char *err = NULL;

                assert_se(restore_plan_build(FULL_DOC, strlen(FULL_DOC), &v815, &p, &err) == 0);
                is_int(restore_check_build(FULL_DOC, strlen(FULL_DOC), "\"x\"", 3, &p, &c, &err), -EBADMSG,
                       "a read-back that is not an object is refused");
                is_str(err, "The connector read back is not a JSON object", "and says so");
        }
}

int main(void) {
        test_steps();
        test_bodies();
        test_bad_documents();
        test_check();
        return done();
}
