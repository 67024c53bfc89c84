/* Converging a declared connector (daemon/converge.c): which declared fields differ from the
 * connector's GET document on each Elasticsearch version, in which state, and the exact requests
 * (endpoint and body, in order) that set them. What the bodies must be is what the fake cluster
 * (tests/fake/fake-update.c) accepts and how it stores them: the stored forms below (the draft's
 * rules sorted with the default rule last, timestamps added, Cron expressions upper-cased) are
 * those a converged connector comes back with, and must compare equal.
 *
 * A diff is printed in a compact notation, so that a failure shows the whole of it:
 *
 *   fields:   space-separated "FIELD:STATE", in the diff's order
 *   details:  one line per field, "FIELD STATE FROM -> TO" ("FIELD STATE secret" for a secret)
 *   requests: one line per request, "ENDPOINT BODY" */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converge.h"
#include "lifecycle.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"

#define T "2024-05-01T10:00:00.000Z"
#define DEFAULT_RULE(order)                                                              \
        "{\"created_at\":\"" T "\",\"field\":\"_\",\"id\":\"DEFAULT\",\"order\":" #order \
        ",\"policy\":\"include\",\"rule\":\"regex\",\"updated_at\":\"" T "\",\"value\":\".*\"}"
#define EVERY_DAY "0 0 0 * * ?"

/* A connector as GET /_connector/<id> returns it: defaults for what the create leaves out, a
 * configuration schema the connector service registered, a draft equal to the active filtering. */
#define LIVE_PIPELINE                                                                                   \
        "{\"extract_binary_content\":true,\"name\":\"search-default-ingestion\",\"reduce_whitespace\":" \
        "true,\"run_ml_inference\":false}"
#define LIVE_SCHEDULE "{\"enabled\":false,\"interval\":\"" EVERY_DAY "\"}"
#define LIVE_SCHEDULING \
        "{\"access_control\":" LIVE_SCHEDULE ",\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE "}"
#define LIVE_FEATURES                                                                                \
        "{\"document_level_security\":{\"enabled\":false},\"incremental_sync\":{\"enabled\":false}," \
        "\"sync_rules\":{\"advanced\":{\"enabled\":false},\"basic\":{\"enabled\":true}}}"
#define LIVE_RULES(rules)                                                                                   \
        "{\"advanced_snippet\":{\"created_at\":\"" T "\",\"updated_at\":\"" T "\",\"value\":{}},\"rules\":" \
        "[" rules "],\"validation\":{\"errors\":[],\"state\":\"valid\"}}"
#define LIVE_FILTERING(draft_rules)                                                                  \
        "[{\"active\":" LIVE_RULES(DEFAULT_RULE(0)) ",\"domain\":\"DEFAULT\",\"draft\":" LIVE_RULES( \
                draft_rules) "}]"
#define LIVE_CONFIGURATION                                                                  \
        "{\"host\":{\"label\":\"Host\",\"sensitive\":false,\"value\":\"old.example.com\"}," \
        "\"port\":{\"label\":\"Port\",\"sensitive\":false,\"value\":443},"                  \
        "\"password\":{\"label\":\"Password\",\"sensitive\":true,\"value\":\"hunter2\"},"   \
        "\"tags\":{\"label\":\"Tags\",\"sensitive\":false,\"value\":[\"a\",\"b\"]}}"
#define CONNECTOR(names, moves, pipeline, scheduling, features, filtering, configuration)  \
        "{\"id\":\"c1\"," names "," moves ",\"language\":\"en\",\"status\":\"connected\"," \
        "\"api_key_id\":null,\"error\":null,\"last_seen\":\"" T "\",\"sync_cursor\":null," \
        "\"pipeline\":" pipeline ",\"scheduling\":" scheduling ",\"features\":" features   \
        ",\"filtering\":" filtering ",\"configuration\":" configuration "}"
#define LIVE_NAMES "\"name\":\"HR drive\",\"description\":\"Old text\""
#define LIVE_MOVES "\"index_name\":\"search-hr\",\"service_type\":\"google_drive\",\"is_native\":false"
#define LIVE_WITH(filtering, configuration)                                                         \
        CONNECTOR(LIVE_NAMES, LIVE_MOVES, LIVE_PIPELINE, LIVE_SCHEDULING, LIVE_FEATURES, filtering, \
                  configuration)
#define LIVE LIVE_WITH(LIVE_FILTERING(DEFAULT_RULE(0)), LIVE_CONFIGURATION)

/* Every managed field declared, each different from LIVE. */
#define RULE_R2                                                                              \
        "{\"id\":\"r2\",\"policy\":\"exclude\",\"field\":\"path\",\"rule\":\"starts_with\"," \
        "\"value\":\"/tmp\",\"order\":2}"
#define RULE_R1                                                                        \
        "{\"id\":\"r1\",\"policy\":\"include\",\"field\":\"ext\",\"rule\":\"equals\"," \
        "\"value\":\"pdf\",\"order\":1}"
#define ALL                                                                                               \
        "{\"name\":\"HR\",\"service_type\":\"sharepoint_online\",\"index_name\":\"search-hr-2\","         \
        "\"description\":\"New text\",\"language\":\"fr\",\"is_native\":true,"                            \
        "\"pipeline\":{\"name\":\"my-pipeline\"},"                                                        \
        "\"scheduling\":{\"full\":{\"enabled\":true,\"interval\":\"0 0 2 * * ?\"}},"                      \
        "\"features\":{\"incremental_sync\":{\"enabled\":true}},"                                         \
        "\"filtering\":{\"rules\":[" RULE_R2 "," RULE_R1 "],\"advanced_snippet\":{\"value\":{\"q\":1}}}," \
        "\"configuration\":{\"host\":\"new.example.com\",\"port\":8443}}"

/* The body each endpoint gets for ALL against LIVE, whatever the version that takes it. */
static const char *const all_bodies[][2] = {
        { "_name", "{\"name\":\"HR\",\"description\":\"New text\"}" },
        { "_index_name", "{\"index_name\":\"search-hr-2\"}" },
        { "_service_type", "{\"service_type\":\"sharepoint_online\"}" },
        { "_native", "{\"is_native\":true}" },
        { "_configuration", "{\"values\":{\"host\":\"new.example.com\",\"port\":8443}}" },
        /* The connector's own values for the members not declared. */
        { "_pipeline", "{\"pipeline\":{\"extract_binary_content\":true,\"name\":\"my-pipeline\","
                       "\"reduce_whitespace\":true,\"run_ml_inference\":false}}" },
        /* All three schedules, the two not declared as the connector has them. */
        { "_scheduling",
          "{\"scheduling\":{\"access_control\":" LIVE_SCHEDULE
          ",\"full\":{\"enabled\":true,\"interval\":\"0 0 2 * * ?\"},\"incremental\":" LIVE_SCHEDULE "}}" },
        /* Only the features declared: the endpoint merges them. */
        { "_features", "{\"features\":{\"incremental_sync\":{\"enabled\":true}}}" },
        /* The draft: the rules as declared (Elasticsearch sorts them), the snippet. */
        { "_filtering", "{\"rules\":[" RULE_R2 "," RULE_R1 "],\"advanced_snippet\":{\"value\":{\"q\":1}}}" },
};

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static char *fields_summary(const struct converge_diff *d) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        assert_se(f);
        for (size_t i = 0; i < d->n_fields; i++)
                fprintf(f, "%s%s:%s", i ? " " : "", d->fields[i].field,
                        converge_state_to_string(d->fields[i].state));
        assert_se(fclose(f) == 0);
        return s;
}

static char *fields_details(const struct converge_diff *d) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        assert_se(f);
        for (size_t i = 0; i < d->n_fields; i++) {
                const struct converge_field *x = d->fields + i;

                if (x->secret)
                        fprintf(f, "%s %s secret\n", x->field, converge_state_to_string(x->state));
                else
                        fprintf(f, "%s %s %s -> %s\n", x->field, converge_state_to_string(x->state), x->from,
                                x->to);
        }
        assert_se(fclose(f) == 0);
        return s;
}

static char *requests_text(const struct converge_diff *d) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        assert_se(f);
        for (size_t i = 0; i < d->n_requests; i++)
                fprintf(f, "%s %s\n", d->requests[i].endpoint, d->requests[i].body);
        assert_se(fclose(f) == 0);
        return s;
}

/* The requests text for the endpoints named (space-separated) with their bodies for ALL. */
static char *all_requests(const char *endpoints) {
        _cleanup_free_ char *copy = strdup(endpoints);
        char *s = NULL, *save = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        assert_se(copy && f);
        for (char *e = strtok_r(copy, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
                bool found = false;

                for (size_t i = 0; i < ELEMENTSOF(all_bodies); i++)
                        if (streq(all_bodies[i][0], e)) {
                                fprintf(f, "%s %s\n", e, all_bodies[i][1]);
                                found = true;
                        }
                assert_se(found);
        }
        assert_se(fclose(f) == 0);
        return s;
}

/* Checks the diff's own counts against its fields. */
static bool counts_consistent(const struct converge_diff *d) {
        size_t set = 0, drift = 0;
        bool awaiting = false;

        for (size_t i = 0; i < d->n_fields; i++) {
                const struct converge_field *x = d->fields + i;

                if (x->state == CONVERGE_SET)
                        set++;
                else if (x->state == CONVERGE_AWAITING_SCHEMA)
                        awaiting = true;
                else
                        drift++;
                if (x->state == CONVERGE_SET ? x->why != NULL : x->why == NULL)
                        return false;
                if (x->secret != (!x->from && !x->to))
                        return false;
        }
        return set == d->n_set && drift == d->n_drift && awaiting == d->awaiting_schema;
}

/* ---- the secrets folder, as a table ---- */

struct secret_table {
        const char *const (*entries)[2];
        size_t n;
        unsigned calls;
};

static int table_get(const char *name, char **ret_value, char **reterr_message, void *userdata) {
        struct secret_table *t = userdata;

        t->calls++;
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->entries[i][0], name)) {
                        *ret_value = strdup(t->entries[i][1]);
                        return *ret_value ? 0 : -ENOMEM;
                }
        *reterr_message = strdup_printf("cannot read the secret '%s': No such file or directory", name);
        return -ENOENT;
}

/* ---- the versions, one row each ---- */

struct version_row {
        unsigned major, minor;
        bool allow_disruptive;
        const char *fields; /* the summary */
        const char *endpoints;
};

#define NAME_FIELDS  "name:set description:set "
#define OTHER_FIELDS "language:create_only "
#define WHOLE_SET    "pipeline.name:set scheduling.full.enabled:set scheduling.full.interval:set "
#define CONFIG_SET   "configuration.host:set configuration.port:set "
#define CONFIG_OLD   "configuration.host:unsupported_on_version configuration.port:unsupported_on_version "

static const struct version_row version_rows[] = {
        { 8, 12, true,
          NAME_FIELDS
          "index_name:unsupported_on_version service_type:unsupported_on_version "
          "is_native:unsupported_on_version " OTHER_FIELDS CONFIG_OLD WHOLE_SET
          "features.incremental_sync.enabled:unsupported_on_version "
          "filtering.rules:unsupported_on_version filtering.advanced_snippet:unsupported_on_version",
          "_name _pipeline _scheduling" },
        { 8, 13, false,
          NAME_FIELDS
          "index_name:disruptive service_type:disruptive is_native:disruptive " OTHER_FIELDS CONFIG_SET
                  WHOLE_SET "features.incremental_sync.enabled:unsupported_on_version "
          "filtering.rules:unsupported_on_version "
          "filtering.advanced_snippet:unsupported_on_version",
          "_name _configuration _pipeline _scheduling" },
        { 8, 13, true,
          NAME_FIELDS
          "index_name:set service_type:set is_native:set " OTHER_FIELDS CONFIG_SET WHOLE_SET
          "features.incremental_sync.enabled:unsupported_on_version "
          "filtering.rules:unsupported_on_version filtering.advanced_snippet:unsupported_on_version",
          "_name _index_name _service_type _native _configuration _pipeline _scheduling" },
        { 8, 14, true,
          NAME_FIELDS "index_name:set service_type:set is_native:set " OTHER_FIELDS CONFIG_SET WHOLE_SET
                      "features.incremental_sync.enabled:unsupported_on_version filtering.rules:set "
                      "filtering.advanced_snippet:set",
          "_name _index_name _service_type _native _configuration _pipeline _scheduling _filtering" },
        { 8, 15, false,
          NAME_FIELDS
          "index_name:disruptive service_type:disruptive is_native:disruptive " OTHER_FIELDS CONFIG_SET
                  WHOLE_SET "features.incremental_sync.enabled:set filtering.rules:set "
          "filtering.advanced_snippet:set",
          "_name _configuration _pipeline _scheduling _features _filtering" },
        { 8, 15, true,
          NAME_FIELDS
          "index_name:set service_type:set is_native:set " OTHER_FIELDS CONFIG_SET WHOLE_SET
          "features.incremental_sync.enabled:set filtering.rules:set filtering.advanced_snippet:set",
          "_name _index_name _service_type _native _configuration _pipeline _scheduling _features "
          "_filtering" },
        { 9, 1, false,
          NAME_FIELDS
          "index_name:disruptive service_type:disruptive is_native:disruptive " OTHER_FIELDS CONFIG_SET
                  WHOLE_SET "features.incremental_sync.enabled:set filtering.rules:set "
          "filtering.advanced_snippet:set",
          "_name _configuration _pipeline _scheduling _features _filtering" },
        { 9, 1, true,
          NAME_FIELDS
          "index_name:set service_type:set is_native:set " OTHER_FIELDS CONFIG_SET WHOLE_SET
          "features.incremental_sync.enabled:set filtering.rules:set filtering.advanced_snippet:set",
          "_name _index_name _service_type _native _configuration _pipeline _scheduling _features "
          "_filtering" },
};

static void test_versions(void) {
        for (size_t i = 0; i < ELEMENTSOF(version_rows); i++) {
                const struct version_row *row = version_rows + i;
                _cleanup_free_ char *fields = NULL, *requests = NULL, *want = NULL, *msg = NULL;
                struct converge_diff d = {};
                int r;

                r = converge_diff_build(ALL, LIVE, strlen(LIVE), row->major, row->minor,
                                        row->allow_disruptive, NULL, &d, &msg);
                if (!is_int(r, 0, "%u.%u%s: every field declared and different: built", row->major,
                            row->minor, row->allow_disruptive ? " allow_disruptive" : "")) {
                        diag("%s", strna(msg));
                        continue;
                }
                fields = fields_summary(&d);
                requests = requests_text(&d);
                want = all_requests(row->endpoints);
                is_str(fields, row->fields, "%u.%u%s: the fields and their states", row->major, row->minor,
                       row->allow_disruptive ? " allow_disruptive" : "");
                is_str(requests, want, "%u.%u%s: the requests, in order, with their bodies", row->major,
                       row->minor, row->allow_disruptive ? " allow_disruptive" : "");
                ok(counts_consistent(&d) && !d.awaiting_schema,
                   "%u.%u%s: n_set %zu, n_drift %zu agree with the fields", row->major, row->minor,
                   row->allow_disruptive ? " allow_disruptive" : "", d.n_set, d.n_drift);
                converge_diff_done(&d);
        }
}

/* The from and to of each field, and why the others are not set, on the oldest and newest. */
static void test_details(void) {
        _cleanup_free_ char *got = NULL, *msg = NULL;
        struct converge_diff d = {};
        bool whys = true;

        assert_se(converge_diff_build(ALL, LIVE, strlen(LIVE), 9, 1, false, NULL, &d, &msg) == 0);
        got = fields_details(&d);
        is_str(got,
               "name set \"HR drive\" -> \"HR\"\n"
               "description set \"Old text\" -> \"New text\"\n"
               "index_name disruptive \"search-hr\" -> \"search-hr-2\"\n"
               "service_type disruptive \"google_drive\" -> \"sharepoint_online\"\n"
               "is_native disruptive false -> true\n"
               "language create_only \"en\" -> \"fr\"\n"
               "configuration.host set \"old.example.com\" -> \"new.example.com\"\n"
               "configuration.port set 443 -> 8443\n"
               "pipeline.name set \"search-default-ingestion\" -> \"my-pipeline\"\n"
               "scheduling.full.enabled set false -> true\n"
               "scheduling.full.interval set \"" EVERY_DAY "\" -> \"0 0 2 * * ?\"\n"
               "features.incremental_sync.enabled set false -> true\n"
               "filtering.rules set [" DEFAULT_RULE(0) "] -> [" RULE_R2 "," RULE_R1 "]\n" /* as declared */
                                                       "filtering.advanced_snippet set {} -> {\"q\":1}\n",
               "9.1: each field's value in the connector and as declared, as JSON");
        for (size_t i = 0; i < d.n_fields; i++)
                if (d.fields[i].state == CONVERGE_DISRUPTIVE)
                        whys = whys && strstr(d.fields[i].why, "spec.lifecycle.allow_disruptive");
                else if (d.fields[i].state == CONVERGE_CREATE_ONLY)
                        whys = whys && strstr(d.fields[i].why, "recreate it");
        ok(whys, "9.1: a disruptive field's why names spec.lifecycle.allow_disruptive, language's says to "
                 "recreate");
        converge_diff_done(&d);

        assert_se(converge_diff_build(ALL, LIVE, strlen(LIVE), 8, 12, true, NULL, &d, &msg) == 0);
        whys = true;
        for (size_t i = 0; i < d.n_fields; i++) {
                const char *want = streq(d.fields[i].field, "index_name")            ? "8.13"
                                   : startswith(d.fields[i].field, "configuration.") ? "8.13"
                                   : startswith(d.fields[i].field, "features.")      ? "8.15"
                                   : startswith(d.fields[i].field, "filtering.")     ? "8.14"
                                                                                     : NULL;

                if (want && !(d.fields[i].why && strstr(d.fields[i].why, want))) {
                        diag("%s: %s", d.fields[i].field, strna(d.fields[i].why));
                        whys = false;
                }
        }
        ok(whys, "8.12: an unsupported field's why names the version that sets it");
        converge_diff_done(&d);
}

/* ---- one rule per row: a declaration against a connector, on one version ---- */

struct row {
        const char *name;
        unsigned major, minor;
        bool allow_disruptive;
        const char *fields;
        const char *live;
        const char *want_fields;   /* the summary; "" for none */
        const char *want_requests; /* "ENDPOINT BODY\n"... */
};

#define R(id, order)                                                                     \
        "{\"id\":\"" id "\",\"policy\":\"include\",\"field\":\"f\",\"rule\":\"equals\"," \
        "\"value\":\"" id "\",\"order\":" #order "}"
/* A rule as the draft stores it: members in the parser's order, timestamps added. */
#define STORED(id, order)                                                               \
        "{\"created_at\":\"" T "\",\"field\":\"f\",\"id\":\"" id "\",\"order\":" #order \
        ",\"policy\":\"include\",\"rule\":\"equals\",\"updated_at\":\"" T "\",\"value\":\"" id "\"}"
#define DEFAULT_DECLARED(order)                                                                           \
        "{\"id\":\"DEFAULT\",\"policy\":\"include\",\"field\":\"_\",\"rule\":\"regex\",\"value\":\".*\"," \
        "\"order\":" #order "}"
#define LIVE_DRAFT(rules) LIVE_WITH(LIVE_FILTERING(rules), LIVE_CONFIGURATION)
#define LIVE_CONF(conf)   LIVE_WITH(LIVE_FILTERING(DEFAULT_RULE(0)), conf)

static const struct row rows[] = {
        /* What is equal or left out. */
        { "nothing declared: nothing compared, nothing sent", 9, 1, true, "{}", LIVE, "", "" },
        { "no fields at all (NULL): nothing", 9, 1, true, NULL, LIVE, "", "" },
        { "every field declared as the connector has it: nothing", 9, 1, true,
          "{\"name\":\"HR drive\",\"description\":\"Old text\",\"index_name\":\"search-hr\","
          "\"service_type\":\"google_drive\",\"language\":\"en\",\"is_native\":false,"
          "\"pipeline\":" LIVE_PIPELINE ",\"scheduling\":" LIVE_SCHEDULING ",\"features\":" LIVE_FEATURES ","
          "\"filtering\":{\"rules\":[" DEFAULT_DECLARED(
                  0) "],\"advanced_snippet\":{\"value\":{}}},"
                     "\"configuration\":{\"host\":\"old.example.com\",\"port\":443,\"tags\":[\"a\",\"b\"]}}",
          LIVE, "", "" },
        { "a field left out is never compared, whatever the connector has", 9, 1, true,
          "{\"name\":\"HR drive\"}", LIVE_WITH(LIVE_FILTERING(DEFAULT_RULE(0)), "{}"), "", "" },
        { "a declared value equal to the connector's in the same JSON, integer and float alike", 8, 13, true,
          "{\"configuration\":{\"port\":443.0}}", LIVE, "", "" },

        /* _name: both halves go, the undeclared one as the connector has it. */
        { "name alone: _name carries the connector's description", 8, 12, false, "{\"name\":\"HR\"}", LIVE,
          "name:set", "_name {\"name\":\"HR\",\"description\":\"Old text\"}\n" },
        { "description alone on 8.12: _name carries the required name", 8, 12, false,
          "{\"description\":\"New\"}", LIVE, "description:set",
          "_name {\"name\":\"HR drive\",\"description\":\"New\"}\n" },
        { "name alone, the connector without a description: only the name", 9, 1, false, "{\"name\":\"HR\"}",
          "{\"name\":\"HR drive\",\"description\":null}", "name:set", "_name {\"name\":\"HR\"}\n" },
        { "description set where the connector has none", 9, 1, false, "{\"description\":\"New\"}",
          "{\"name\":\"HR drive\"}", "description:set",
          "_name {\"name\":\"HR drive\",\"description\":\"New\"}\n" },

        /* The disruptive three, each alone. */
        { "index_name on 9.1, allowed", 9, 1, true, "{\"index_name\":\"content-hr\"}", LIVE,
          "index_name:set", "_index_name {\"index_name\":\"content-hr\"}\n" },
        { "service_type on 8.13, not allowed", 8, 13, false, "{\"service_type\":\"sharepoint_online\"}",
          LIVE, "service_type:disruptive", "" },
        { "is_native on 8.12 even allowed: unsupported", 8, 12, true, "{\"is_native\":true}", LIVE,
          "is_native:unsupported_on_version", "" },
        { "is_native equal: nothing even on 8.12", 8, 12, false, "{\"is_native\":false}", LIVE, "", "" },
        { "language: create-only on every version", 9, 1, true, "{\"language\":\"de\"}", LIVE,
          "language:create_only", "" },
        { "language the connector lacks: still create-only", 8, 15, true, "{\"language\":\"de\"}",
          "{\"language\":null}", "language:create_only", "" },

        /* _pipeline: the whole object, from the connector and the manifest. */
        { "pipeline: one member declared, the others as the connector has them", 8, 12, false,
          "{\"pipeline\":{\"run_ml_inference\":true}}", LIVE, "pipeline.run_ml_inference:set",
          "_pipeline {\"pipeline\":{\"extract_binary_content\":true,\"name\":\"search-default-ingestion\","
          "\"reduce_whitespace\":true,\"run_ml_inference\":true}}\n" },
        { "pipeline: the connector lacks a member the manifest leaves out: refused, nothing sent", 9, 1,
          false, "{\"pipeline\":{\"name\":\"p\"}}",
          "{\"pipeline\":{\"name\":\"x\",\"extract_binary_content\":true}}", "pipeline.name:refused", "" },
        { "pipeline: every member declared where the connector has none: sent whole", 9, 1, false,
          "{\"pipeline\":{\"name\":\"p\",\"extract_binary_content\":false,\"reduce_whitespace\":false,"
          "\"run_ml_inference\":false}}",
          "{\"pipeline\":null}",
          "pipeline.name:set pipeline.extract_binary_content:set pipeline.reduce_whitespace:set "
          "pipeline.run_ml_inference:set",
          "_pipeline "
          "{\"pipeline\":{\"name\":\"p\",\"extract_binary_content\":false,\"reduce_whitespace\":false,"
          "\"run_ml_inference\":false}}\n" },
        { "pipeline equal: nothing", 8, 12, false, "{\"pipeline\":{\"name\":\"search-default-ingestion\"}}",
          LIVE, "", "" },

        /* _scheduling: all three schedules before 8.14. */
        { "scheduling on 8.12: the two schedules not declared go as the connector has them", 8, 12, false,
          "{\"scheduling\":{\"incremental\":{\"enabled\":true}}}", LIVE,
          "scheduling.incremental.enabled:set",
          "_scheduling {\"scheduling\":{\"access_control\":" LIVE_SCHEDULE ",\"full\":" LIVE_SCHEDULE
          ",\"incremental\":{\"enabled\":true,\"interval\":\"" EVERY_DAY "\"}}}\n" },
        { "scheduling on 8.12: a schedule neither the manifest nor the connector has: refused", 8, 12, false,
          "{\"scheduling\":{\"full\":{\"enabled\":true}}}",
          "{\"scheduling\":{\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE "}}",
          "scheduling.full.enabled:refused", "" },
        { "scheduling on 8.12: the missing schedule declared whole: sent", 8, 12, false,
          "{\"scheduling\":{\"access_control\":{\"enabled\":true,\"interval\":\"0 0 1 * * ?\"}}}",
          "{\"scheduling\":{\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE "}}",
          "scheduling.access_control.enabled:set scheduling.access_control.interval:set",
          "_scheduling {\"scheduling\":{\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE
          ",\"access_control\":{\"enabled\":true,\"interval\":\"0 0 1 * * ?\"}}}\n" },
        { "scheduling on 8.14: the schedules the connector has are enough", 8, 14, false,
          "{\"scheduling\":{\"full\":{\"enabled\":true}}}",
          "{\"scheduling\":{\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE "}}",
          "scheduling.full.enabled:set",
          "_scheduling {\"scheduling\":{\"full\":{\"enabled\":true,\"interval\":\"" EVERY_DAY
          "\"},\"incremental\":" LIVE_SCHEDULE "}}\n" },
        { "scheduling on 8.14: a schedule with no interval anywhere: refused", 8, 14, false,
          "{\"scheduling\":{\"access_control\":{\"enabled\":true}}}",
          "{\"scheduling\":{\"full\":" LIVE_SCHEDULE ",\"incremental\":" LIVE_SCHEDULE "}}",
          "scheduling.access_control.enabled:refused", "" },
        { "scheduling: Elasticsearch keeps a Cron expression upper-cased: equal, no endless update", 9, 1,
          false, "{\"scheduling\":{\"full\":{\"enabled\":false,\"interval\":\"0 0 0 ? * mon-fri\"}}}",
          "{\"scheduling\":{\"access_control\":" LIVE_SCHEDULE
          ",\"full\":{\"enabled\":false,\"interval\":\"0 0 "
          "0 ? * MON-FRI\"},\"incremental\":" LIVE_SCHEDULE "}}",
          "", "" },

        /* _features: 8.15+, only what is declared. */
        { "features on 8.14: unsupported", 8, 14, true,
          "{\"features\":{\"sync_rules\":{\"advanced\":{\"enabled\":true}}}}", LIVE,
          "features.sync_rules.advanced.enabled:unsupported_on_version", "" },
        { "features on 8.15: the nested member alone", 8, 15, false,
          "{\"features\":{\"sync_rules\":{\"advanced\":{\"enabled\":true}}}}", LIVE,
          "features.sync_rules.advanced.enabled:set",
          "_features {\"features\":{\"sync_rules\":{\"advanced\":{\"enabled\":true}}}}\n" },
        { "features on 9.1: one the connector lacks", 9, 1, false,
          "{\"features\":{\"native_connector_api_keys\":{\"enabled\":true}}}", LIVE,
          "features.native_connector_api_keys.enabled:set",
          "_features {\"features\":{\"native_connector_api_keys\":{\"enabled\":true}}}\n" },

        /* _filtering: the draft, compared as Elasticsearch stores it. */
        { "rules out of order against the draft Elasticsearch stored: equal", 8, 14, false,
          "{\"filtering\":{\"rules\":[" R("c", 3) "," R("a", 1) "," R("b", 2) "]}}",
          LIVE_DRAFT(STORED("a", 1) "," STORED("b", 2) "," STORED("c", 3) "," DEFAULT_RULE(4)), "", "" },
        { "the default rule declared first: Elasticsearch moves it last and renumbers it: equal", 9, 1,
          false, "{\"filtering\":{\"rules\":[" DEFAULT_DECLARED(0) "," R("b", 5) "," R("a", 1) "]}}",
          LIVE_DRAFT(STORED("a", 1) "," STORED("b", 5) "," DEFAULT_RULE(6)), "", "" },
        { "rules of one order keep the declared order (a stable sort): equal", 9, 1, false,
          "{\"filtering\":{\"rules\":[" R("y", 1) "," R("x", 1) "]}}",
          LIVE_DRAFT(STORED("y", 1) "," STORED("x", 1) "," DEFAULT_RULE(2)), "", "" },
        { "rules of one order stored the other way round: differ", 9, 1, false,
          "{\"filtering\":{\"rules\":[" R("y", 1) "," R("x", 1) "]}}",
          LIVE_DRAFT(STORED("x", 1) "," STORED("y", 1) "," DEFAULT_RULE(2)), "filtering.rules:set",
          "_filtering {\"rules\":[" R("y", 1) "," R("x", 1) "]}\n" },
        { "a draft without the default rule: differs", 9, 1, false,
          "{\"filtering\":{\"rules\":[" R("a", 1) "]}}", LIVE_DRAFT(STORED("a", 1)), "filtering.rules:set",
          "_filtering {\"rules\":[" R("a", 1) "]}\n" },
        { "a draft with a rule more: differs", 9, 1, false, "{\"filtering\":{\"rules\":[" R("a", 1) "]}}",
          LIVE_DRAFT(STORED("a", 1) "," STORED("b", 2) "," DEFAULT_RULE(3)), "filtering.rules:set",
          "_filtering {\"rules\":[" R("a", 1) "]}\n" },
        { "a rule whose order differs: differs", 9, 1, false, "{\"filtering\":{\"rules\":[" R("a", 1) "]}}",
          LIVE_DRAFT(STORED("a", 2) "," DEFAULT_RULE(3)), "filtering.rules:set",
          "_filtering {\"rules\":[" R("a", 1) "]}\n" },
        { "only the default rule declared, as the draft has it: equal", 8, 14, false,
          "{\"filtering\":{\"rules\":[" DEFAULT_DECLARED(7) "]}}", LIVE, "", "" },
        { "the active rules differ, the draft does not: equal (only the draft is ours)", 9, 1, false,
          "{\"filtering\":{\"rules\":[" R("a", 1) "]}}",
          "{\"filtering\":[{\"active\":" LIVE_RULES(DEFAULT_RULE(
                  0)) ",\"domain\":\"DEFAULT\",\"draft\":" LIVE_RULES(STORED("a",
                                                                             1) "," DEFAULT_RULE(2)) "}]}",
          "", "" },
        { "the snippet alone, equal to the draft's (timestamps aside)", 9, 1, false,
          "{\"filtering\":{\"advanced_snippet\":{\"value\":{}}}}", LIVE, "", "" },
        { "the snippet alone, different: only advanced_snippet is sent", 8, 14, false,
          "{\"filtering\":{\"advanced_snippet\":{\"value\":[{\"tables\":[\"t\"]}]}}}", LIVE,
          "filtering.advanced_snippet:set",
          "_filtering {\"advanced_snippet\":{\"value\":[{\"tables\":[\"t\"]}]}}\n" },
        { "a connector without filtering: the rules are set", 9, 1, false,
          "{\"filtering\":{\"rules\":[" R("a", 1) "]}}", "{\"filtering\":[]}", "filtering.rules:set",
          "_filtering {\"rules\":[" R("a", 1) "]}\n" },

        /* _configuration: values only, 8.13+. */
        { "configuration on 8.12: unsupported", 8, 12, true, "{\"configuration\":{\"host\":\"h\"}}", LIVE,
          "configuration.host:unsupported_on_version", "" },
        { "configuration: one value differs, the equal ones are not sent", 8, 13, false,
          "{\"configuration\":{\"host\":\"old.example.com\",\"tags\":[\"a\",\"c\"]}}", LIVE,
          "configuration.tags:set", "_configuration {\"values\":{\"tags\":[\"a\",\"c\"]}}\n" },
        { "configuration: an empty schema: awaiting it, nothing sent", 9, 1, false,
          "{\"configuration\":{\"host\":\"h\"}}", LIVE_CONF("{}"), "configuration:awaiting_schema", "" },
        { "configuration: none at all: awaiting the schema", 8, 13, false,
          "{\"configuration\":{\"host\":\"h\"}}", "{\"name\":\"x\"}", "configuration:awaiting_schema", "" },
        { "configuration: a key not in the schema: refused, the others sent", 9, 1, false,
          "{\"configuration\":{\"hots\":\"h\",\"port\":1}}", LIVE,
          "configuration.hots:refused configuration.port:set",
          "_configuration {\"values\":{\"port\":1}}\n" },
        { "configuration: a sensitive key given inline: refused", 9, 1, false,
          "{\"configuration\":{\"password\":\"letmein\"}}", LIVE, "configuration.password:refused", "" },
        { "configuration: a sensitive key given inline, equal: nothing", 9, 1, false,
          "{\"configuration\":{\"password\":\"hunter2\"}}", LIVE, "", "" },
};

static void test_rows(void) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *row = rows + i;
                _cleanup_free_ char *fields = NULL, *requests = NULL, *msg = NULL;
                struct converge_diff d = {};
                int r;

                r = converge_diff_build(row->fields, row->live, strlen(row->live), row->major, row->minor,
                                        row->allow_disruptive, NULL, &d, &msg);
                if (!is_int(r, 0, "%s: built", row->name)) {
                        diag("%s", strna(msg));
                        continue;
                }
                fields = fields_summary(&d);
                requests = requests_text(&d);
                if (!is_str(fields, row->want_fields, "%s: fields", row->name)) {
                        _cleanup_free_ char *details = fields_details(&d);

                        diag("%s", details);
                }
                is_str(requests, row->want_requests, "%s: requests", row->name);
                ok(counts_consistent(&d), "%s: counts", row->name);
                converge_diff_done(&d);
        }
}

/* ---- secrets ---- */

static bool mentions(const struct converge_diff *d, const char *needle) {
        for (size_t i = 0; i < d->n_fields; i++) {
                const struct converge_field *x = d->fields + i;

                if (strstr(x->field, needle) || (x->from && strstr(x->from, needle)) ||
                    (x->to && strstr(x->to, needle)) || (x->why && strstr(x->why, needle)))
                        return true;
        }
        return false;
}

static void test_secrets(void) {
        static const char *const entries[][2] = {
                { "es-password", "s3cr3t-N3W" },
                { "same-password", "hunter2" },
                { "hunter-prefix", "hunter" },
                { "host-file", "secret.example.com" },
        };
        struct secret_table t = { entries, ELEMENTSOF(entries), 0 };
        struct converge_secrets secrets = { table_get, &t };
        _cleanup_free_ char *msg = NULL, *fields = NULL, *requests = NULL;
        struct converge_diff d = {};
        int r;

        /* A new secret: set, never printed, in the body only. */
        r = converge_diff_build(
                "{\"configuration\":{\"password\":{\"secret\":\"es-password\"},\"port\":8443}}", LIVE,
                strlen(LIVE), 9, 1, false, &secrets, &d, &msg);
        assert_se(r == 0);
        fields = fields_summary(&d);
        requests = requests_text(&d);
        is_str(fields, "configuration.password:set configuration.port:set",
               "secret: a different secret is set");
        ok(d.n_fields == 2 && d.fields[0].secret && !d.fields[0].from && !d.fields[0].to &&
                   !d.fields[1].secret,
           "secret: the secret field has neither from nor to");
        ok(!mentions(&d, "s3cr3t-N3W") && !mentions(&d, "hunter2"),
           "secret: neither the new value nor the connector's appears in any field");
        is_str(requests, "_configuration {\"values\":{\"password\":\"s3cr3t-N3W\",\"port\":8443}}\n",
               "secret: the value is in the _configuration body");
        ok(d.n_requests == 1 && d.requests[0].body_size == strlen(d.requests[0].body),
           "secret: body_size is the body's length (what is wiped)");
        is_int(t.calls, 1, "secret: the secret is read once");
        converge_diff_done(&d);
        fields = mfree(fields);
        requests = mfree(requests);

        /* An equal secret: nothing, and no request carries it. */
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"same-password\"}}}", LIVE,
                                strlen(LIVE), 9, 1, false, &secrets, &d, &msg);
        ok(r == 0 && d.n_fields == 0 && d.n_requests == 0,
           "secret: an equal secret gives no field and no request");
        converge_diff_done(&d);

        /* A prefix of the connector's value is not equal (the comparison covers both lengths). */
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"hunter-prefix\"}}}", LIVE,
                                strlen(LIVE), 9, 1, false, &secrets, &d, &msg);
        ok(r == 0 && d.n_set == 1 && d.n_requests == 1 &&
                   streq(d.requests[0].body, "{\"values\":{\"password\":\"hunter\"}}"),
           "secret: a value that is a prefix of the connector's differs");
        ok(!mentions(&d, "hunter"), "secret: ... and is not printed");
        converge_diff_done(&d);

        /* A secret for a key that is not sensitive is still a secret. */
        r = converge_diff_build("{\"configuration\":{\"host\":{\"secret\":\"host-file\"}}}", LIVE,
                                strlen(LIVE), 8, 13, false, &secrets, &d, &msg);
        ok(r == 0 && d.n_fields == 1 && d.fields[0].secret && d.fields[0].state == CONVERGE_SET &&
                   !mentions(&d, "secret.example.com") && !mentions(&d, "old.example.com"),
           "secret: a secret for a key the schema does not mark sensitive: set, not printed (nor the old "
           "value)");
        converge_diff_done(&d);

        /* A secret for a key not in the schema: refused, not printed. */
        r = converge_diff_build("{\"configuration\":{\"api_key\":{\"secret\":\"es-password\"}}}", LIVE,
                                strlen(LIVE), 9, 1, false, &secrets, &d, &msg);
        fields = fields_summary(&d);
        ok(r == 0 && streq(fields, "configuration.api_key:refused") && d.fields[0].secret &&
                   d.n_requests == 0 && !mentions(&d, "s3cr3t"),
           "secret: a key not in the schema is refused, and its value is not printed");
        converge_diff_done(&d);
        fields = mfree(fields);

        /* Before 8.13 a secret cannot be set either: no request the version refuses. */
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"es-password\"}}}", LIVE,
                                strlen(LIVE), 8, 12, false, &secrets, &d, &msg);
        fields = fields_summary(&d);
        ok(r == 0 && streq(fields, "configuration.password:unsupported_on_version") && d.fields[0].secret &&
                   d.n_requests == 0 && !mentions(&d, "s3cr3t"),
           "secret: on 8.12 a different secret is unsupported_on_version, not sent (%s)", fields);
        converge_diff_done(&d);
        fields = mfree(fields);
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"same-password\"}}}", LIVE,
                                strlen(LIVE), 8, 12, false, &secrets, &d, &msg);
        ok(r == 0 && d.n_fields == 0 && d.n_requests == 0, "secret: on 8.12 an equal secret gives nothing");
        converge_diff_done(&d);

        /* Awaiting the schema: the secret is not needed yet. */
        t.calls = 0;
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"missing\"}}}",
                                LIVE_CONF("{}"), strlen(LIVE_CONF("{}")), 9, 1, false, &secrets, &d, &msg);
        ok(r == 0 && d.awaiting_schema && d.n_fields == 1 && d.fields[0].secret && t.calls == 0,
           "secret: awaiting the schema, no secret is read");
        converge_diff_done(&d);

        /* The resolver's error, with its message. */
        msg = mfree(msg);
        r = converge_diff_build("{\"configuration\":{\"port\":1,\"password\":{\"secret\":\"missing\"}}}",
                                LIVE, strlen(LIVE), 9, 1, false, &secrets, &d, &msg);
        is_int(r, -ENOENT, "secret: the resolver's error is returned");
        is_str(msg, "configuration.password: cannot read the secret 'missing': No such file or directory",
               "secret: with its message, naming the field");
        ok(d.n_fields == 0 && !d.fields && !d.requests, "secret: on error nothing is returned");
        msg = mfree(msg);

        /* No resolver at all. */
        r = converge_diff_build("{\"configuration\":{\"password\":{\"secret\":\"es-password\"}}}", LIVE,
                                strlen(LIVE), 9, 1, false, NULL, &d, &msg);
        is_int(r, -ENOKEY, "secret: no secrets folder: -ENOKEY");
        is_str(msg, "configuration.password: no secrets folder to read 'es-password' from",
               "secret: no secrets folder: the message");
        msg = mfree(msg);

        /* A sensitive key with an inline value: refused, neither value printed. */
        r = converge_diff_build("{\"configuration\":{\"password\":\"letmein\"}}", LIVE, strlen(LIVE), 9, 1,
                                false, &secrets, &d, &msg);
        ok(r == 0 && d.n_fields == 1 && d.fields[0].state == CONVERGE_REFUSED && d.fields[0].secret &&
                   !mentions(&d, "letmein") && !mentions(&d, "hunter2") && d.n_requests == 0 &&
                   strstr(d.fields[0].why, "{secret: NAME}"),
           "sensitive: an inline value is refused, neither value printed, the why says {secret: NAME}");
        converge_diff_done(&d);
}

/* ---- bad input ---- */

static void test_bad_input(void) {
        static const struct {
                const char *what, *fields, *live, *message;
        } cases[] = {
                { "fields not JSON", "{\"name\":", LIVE, "The declared fields is not a JSON object" },
                { "fields a list", "[]", LIVE, "The declared fields is not a JSON object" },
                { "pipeline a list", "{\"pipeline\":[{\"name\":\"p\"}]}", LIVE,
                  "The declared fields' 'pipeline' is not an object" },
                { "configuration a string", "{\"configuration\":\"a=1\"}", LIVE,
                  "The declared fields' 'configuration' is not an object" },
                { "rules an object", "{\"filtering\":{\"rules\":{\"id\":\"a\"}}}", LIVE,
                  "The declared fields' 'filtering.rules' is not a list" },
                { "a rule without an order", "{\"filtering\":{\"rules\":[" R("a", 1) ",{\"id\":\"b\"}]}}",
                  LIVE,
                  "The declared fields' 'filtering.rules' has a rule that is not an object with a numeric "
                  "order" },
                { "live not JSON", "{}", "{\"id\":", "The connector's document is not a JSON object" },
                { "live a string", "{}", "\"x\"", "The connector's document is not a JSON object" },
                { "live empty", "{}", "", "The connector's document is not a JSON object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *msg = NULL;
                struct converge_diff d = {};
                int r;

                r = converge_diff_build(cases[i].fields, cases[i].live, strlen(cases[i].live), 9, 1, true,
                                        NULL, &d, &msg);
                is_int(r, -EBADMSG, "bad input: %s: -EBADMSG", cases[i].what);
                is_str(msg, cases[i].message, "bad input: %s: the message", cases[i].what);
        }

        /* live_size bounds the document: a valid prefix is read, bytes past it are not. */
        {
                static const char doc[] = "{\"name\":\"HR drive\"}garbage";
                struct converge_diff d = {};
                int r;

                r = converge_diff_build("{\"name\":\"HR drive\"}", doc, strlen(doc) - 7, 9, 1, false, NULL,
                                        &d, NULL);
                ok(r == 0 && d.n_fields == 0, "live_size: only the bytes given are read");
                converge_diff_done(&d);
        }
}

/* ---- the create, the names, the strings ---- */

static void test_create_body(void) {
        _cleanup_free_ char *body = NULL;
        size_t size = 0;

        assert_se(converge_create_body(ALL, &body, &size) == 0);
        is_str(body,
               "{\"description\":\"New "
               "text\",\"index_name\":\"search-hr-2\",\"is_native\":true,\"language\":"
               "\"fr\",\"name\":\"HR\",\"service_type\":\"sharepoint_online\"}",
               "create: the six create fields, and nothing else");
        is_int(size, strlen(body), "create: the size");
        body = mfree(body);
        assert_se(converge_create_body("{\"pipeline\":{\"name\":\"p\"},\"configuration\":{\"a\":1}}", &body,
                                       &size) == 0);
        is_str(body, "{}", "create: none of the six declared: {}");
        body = mfree(body);
        assert_se(converge_create_body(NULL, &body, &size) == 0);
        is_str(body, "{}", "create: no fields: {}");
        body = mfree(body);
        is_int(converge_create_body("{", &body, &size), -EBADMSG, "create: bad JSON: -EBADMSG");
        is_int(converge_create_body("[1]", &body, &size), -EBADMSG, "create: not an object: -EBADMSG");
        ok(!body, "create: nothing returned on error");

        ok(converge_declares_configuration("{\"configuration\":{\"a\":1}}"), "declares_configuration: yes");
        ok(!converge_declares_configuration("{\"name\":\"x\"}"), "declares_configuration: no");
        ok(!converge_declares_configuration(NULL), "declares_configuration: no fields");
        ok(!converge_declares_configuration("{"), "declares_configuration: bad JSON");
}

static void test_set_names(void) {
        _cleanup_free_ char *names = NULL, *none = NULL;
        struct converge_diff d = {};

        assert_se(converge_diff_build(ALL, LIVE, strlen(LIVE), 8, 13, false, NULL, &d, NULL) == 0);
        names = converge_diff_set_names(&d);
        is_str(names,
               "name,description,configuration.host,configuration.port,pipeline.name,"
               "scheduling.full.enabled,scheduling.full.interval",
               "set_names: the fields set, comma-separated, the others left out");
        converge_diff_done(&d);
        none = converge_diff_set_names(&d);
        is_str(none, "", "set_names: none set: an empty string");

        is_str(converge_state_to_string(CONVERGE_SET), "set", "state: set");
        is_str(converge_state_to_string(CONVERGE_DISRUPTIVE), "disruptive", "state: disruptive");
        is_str(converge_state_to_string(CONVERGE_CREATE_ONLY), "create_only", "state: create_only");
        is_str(converge_state_to_string(CONVERGE_UNSUPPORTED), "unsupported_on_version",
               "state: unsupported");
        is_str(converge_state_to_string(CONVERGE_AWAITING_SCHEMA), "awaiting_schema",
               "state: awaiting_schema");
        is_str(converge_state_to_string(CONVERGE_REFUSED), "refused", "state: refused");
        ok(!converge_state_to_string(_CONVERGE_STATE_MAX), "state: out of range: NULL");
}

/* What the fake cluster stores after ALL's requests on 9.1: the draft's rules sorted by order with
 * timestamps, the default rule last and renumbered, the draft waiting for validation. */
#define STORED_R1                                                                                       \
        "{\"created_at\":\"" T "\",\"field\":\"ext\",\"id\":\"r1\",\"order\":1,\"policy\":\"include\"," \
        "\"rule\":\"equals\",\"updated_at\":\"" T "\",\"value\":\"pdf\"}"
#define STORED_R2                                                                                        \
        "{\"created_at\":\"" T "\",\"field\":\"path\",\"id\":\"r2\",\"order\":2,\"policy\":\"exclude\"," \
        "\"rule\":\"starts_with\",\"updated_at\":\"" T "\",\"value\":\"/tmp\"}"
#define EDITED_RULES STORED_R1 "," STORED_R2 "," DEFAULT_RULE(3)
#define EDITED_DRAFT                                                                                     \
        "{\"advanced_snippet\":{\"created_at\":\"" T "\",\"updated_at\":\"" T "\",\"value\":{\"q\":1}}," \
        "\"rules\":[" EDITED_RULES "],\"validation\":{\"errors\":[],\"state\":\"edited\"}}"
#define CONVERGED_FILTERING \
        "[{\"active\":" LIVE_RULES(DEFAULT_RULE(0)) ",\"domain\":\"DEFAULT\",\"draft\":" EDITED_DRAFT "}]"
#define CONVERGED_NAMES "\"name\":\"HR\",\"description\":\"New text\""
#define CONVERGED_MOVES \
        "\"index_name\":\"search-hr-2\",\"service_type\":\"sharepoint_online\",\"is_native\":true"
#define CONVERGED_PIPELINE                                                                      \
        "{\"extract_binary_content\":true,\"name\":\"my-pipeline\",\"reduce_whitespace\":true," \
        "\"run_ml_inference\":false}"
#define CONVERGED_SCHEDULING                                                                              \
        "{\"access_control\":" LIVE_SCHEDULE ",\"full\":{\"enabled\":true,\"interval\":\"0 0 2 * * ?\"}," \
        "\"incremental\":" LIVE_SCHEDULE "}"
#define CONVERGED_FEATURES                                                                          \
        "{\"document_level_security\":{\"enabled\":false},\"incremental_sync\":{\"enabled\":true}," \
        "\"sync_rules\":{\"advanced\":{\"enabled\":false},\"basic\":{\"enabled\":true}}}"
#define CONVERGED_CONFIGURATION                                                             \
        "{\"host\":{\"label\":\"Host\",\"sensitive\":false,\"value\":\"new.example.com\"}," \
        "\"port\":{\"label\":\"Port\",\"sensitive\":false,\"value\":8443},"                 \
        "\"password\":{\"label\":\"Password\",\"sensitive\":true,\"value\":\"hunter2\"}}"

/* Converged: that document, read again, gives nothing more to send (language aside, which only a
 * create sets): no endless re-update. */
static void test_converged(void) {
        static const char stored[] =
                CONNECTOR(CONVERGED_NAMES, CONVERGED_MOVES, CONVERGED_PIPELINE, CONVERGED_SCHEDULING,
                          CONVERGED_FEATURES, CONVERGED_FILTERING, CONVERGED_CONFIGURATION);
        _cleanup_free_ char *fields = NULL;
        struct converge_diff d = {};
        int r;

        r = converge_diff_build(ALL, stored, strlen(stored), 9, 1, true, NULL, &d, NULL);
        fields = fields_summary(&d);
        ok(r == 0 && streq(fields, "language:create_only") && d.n_requests == 0,
           "converged: the document as stored after the requests gives nothing more to send (%s)", fields);
        converge_diff_done(&d);
}

/* lifecycle_read_secret(): the file a {secret: NAME} names, as the cycle reads it. */
static void put_file(const char *dir, const char *name, const char *data, size_t size) {
        char path[512];
        FILE *f;

        (void) snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_se(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

static void check_secret(const char *dir, const char *name, int want_r, const char *want_value,
                         const char *want_in_message, const char *what) {
        _cleanup_free_ char *value = NULL, *message = NULL;
        int r = lifecycle_read_secret(dir, name, &value, &message);

        is_int(r, want_r, "secret %s: %s", what, r < 0 ? strerror(-r) : "read");
        if (want_value)
                is_str(value, want_value, "secret %s: the value", what);
        if (want_in_message)
                ok(message && strstr(message, want_in_message), "secret %s: the message says '%s' (%s)",
                   what, want_in_message, strna(message));
}

static void test_secret_files(void) {
        _cleanup_free_ char *dir = scratch_new("test-converge");
        char big[64 * 1024 + 2], path[512], target[512];

        put_file(dir, "plain", "hunter2", 7);
        check_secret(dir, "plain", 0, "hunter2", NULL, "without a newline");
        put_file(dir, "nl", "hunter2\n", 8);
        check_secret(dir, "nl", 0, "hunter2", NULL, "one trailing newline is not part of it");
        put_file(dir, "nl2", "hunter2\n\n", 9);
        check_secret(dir, "nl2", 0, "hunter2\n", NULL, "only one newline is stripped");
        put_file(dir, "empty", "", 0);
        check_secret(dir, "empty", 0, "", NULL, "an empty file is an empty value");
        put_file(dir, "nul", "hun\0ter2", 8);
        check_secret(dir, "nul", -EBADMSG, NULL, "holds a NUL byte", "with a NUL byte");
        memset(big, 'x', sizeof big);
        put_file(dir, "big", big, 64 * 1024);
        check_secret(dir, "big", 0, NULL, NULL, "of 64 KiB");
        put_file(dir, "bigger", big, sizeof big);
        check_secret(dir, "bigger", -EFBIG, NULL, "larger than 65536 bytes", "past 64 KiB");
        check_secret(dir, "missing", -ENOENT, NULL, "/missing'", "missing: the message names the file");
        (void) snprintf(path, sizeof path, "%s/link", dir);
        (void) snprintf(target, sizeof target, "%s/plain", dir);
        assert_se(symlink(target, path) == 0);
        check_secret(dir, "link", 0, "hunter2", NULL,
                     "a symbolic link is followed, as for the config's secrets");
        (void) snprintf(path, sizeof path, "%s/sub", dir);
        assert_se(mkdir(path, 0700) == 0);
        check_secret(dir, "sub", -EBADFD, NULL, "not a regular file", "a folder");
        check_secret(NULL, "plain", -ENOKEY, NULL, "no secrets folder", "no secrets folder configured");
        (void) snprintf(path, sizeof path, "%s/nowhere", dir);
        check_secret(path, "plain", -ENOENT, NULL, "/nowhere/plain'", "a secrets folder that is not there");
        scratch_remove(dir);
}

int main(void) {
        test_versions();
        test_details();
        test_rows();
        test_secrets();
        test_bad_input();
        test_create_body();
        test_set_names();
        test_converged();
        test_secret_files();
        return done();
}
