#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fake-api.h"
#include "fake-fault.h"
#include "fake-store.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

struct rule {
        char *method;
        char *path;
        long count;
        long skip;
        double probability;
        struct fake_fault_action action;
        unsigned long applied;
};

struct fake_faults {
        struct rule *rules;
        size_t n;
        uint64_t prng;
};

static void rule_done(struct rule *r) {
        free(r->method);
        free(r->path);
        fake_fault_action_done(&r->action);
}

static void rules_free(struct rule *rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                rule_done(&rules[i]);
        free(rules);
}

int fake_faults_new(struct fake_faults **ret, uint64_t seed) {
        struct fake_faults *f = calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->prng = seed;
        *ret = f;
        return 0;
}

struct fake_faults *fake_faults_free(struct fake_faults *f) {
        if (!f)
                return NULL;
        rules_free(f->rules, f->n);
        free(f);
        return NULL;
}

void fake_faults_clear(struct fake_faults *f) {
        rules_free(f->rules, f->n);
        f->rules = NULL;
        f->n = 0;
}

struct fake_mutation *fake_mutation_free(struct fake_mutation *m) {
        if (!m)
                return NULL;
        free(m->documents);
        strv_free(m->delete_connectors);
        strv_free(m->delete_sync_jobs);
        free(m->cluster_uuid);
        free(m->cluster_name);
        free(m);
        return NULL;
}
DEFINE_CLEANUP_FUNC(struct fake_mutation *, fake_mutation_free);

void fake_fault_action_done(struct fake_fault_action *a) {
        free(a->retry_after);
        free(a->error_type);
        free(a->reason);
        free(a->body);
        free(a->content_type);
        fake_mutation_free(a->mutate);
        *a = (struct fake_fault_action){};
}

static int get_integer(const cJSON *v, long min, long max, long *ret) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double) min ||
            v->valuedouble > (double) max)
                return -EINVAL;
        *ret = (long) v->valuedouble;
        return 0;
}

/* Replaces *ret (a key given twice: the last one counts). */
static int get_string(const cJSON *v, char **ret) {
        if (!cJSON_IsString(v))
                return -EINVAL;
        free(*ret);
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

/* An array of non-empty strings, as a NULL-terminated list replacing *ret. */
static int get_ids(const cJSON *v, char ***ret) {
        const cJSON *it;
        char **l;
        size_t n = 0;

        if (!cJSON_IsArray(v))
                return -EINVAL;
        l = calloc((size_t) cJSON_GetArraySize(v) + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        cJSON_ArrayForEach(it, v) {
                if (!cJSON_IsString(it) || it->valuestring[0] == 0) {
                        strv_free(l);
                        return -EINVAL;
                }
                l[n] = strdup(it->valuestring);
                if (!l[n++]) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        strv_free(*ret);
        *ret = l;
        return 0;
}

/* "mutate": {"connectors", "sync_jobs" (checked as a seed), "delete_connectors",
 * "delete_sync_jobs" (ids), "cluster" ({"cluster_uuid", "cluster_name"})}, each optional. */
static int parse_mutation(const cJSON *o, const char *where, struct fake_mutation **ret, char **reterr) {
        _cleanup_(fake_mutation_freep) struct fake_mutation *m = NULL;
        _cleanup_cjson_ cJSON *docs = NULL;
        _cleanup_free_ char *mwhere = NULL;
        const cJSON *v;
        int r;

        if (!cJSON_IsObject(o)) {
                *reterr = strdup_printf("%s: \"mutate\" must be an object", where);
                return -EINVAL;
        }
        mwhere = strdup_printf("%s: mutate", where);
        m = calloc(1, sizeof(*m));
        if (!mwhere || !m)
                return -ENOMEM;
        cJSON_ArrayForEach(v, o) {
                const char *k = v->string;

                if (streq(k, "connectors") || streq(k, "sync_jobs")) {
                        cJSON *copy;

                        if (!docs && !(docs = cJSON_CreateObject()))
                                return -ENOMEM;
                        copy = cJSON_Duplicate(v, true);
                        if (!copy)
                                return -ENOMEM;
                        cJSON_DeleteItemFromObjectCaseSensitive(docs, k);
                        if (!cJSON_AddItemToObject(docs, k, copy)) {
                                cJSON_Delete(copy);
                                return -ENOMEM;
                        }
                } else if (streq(k, "delete_connectors") || streq(k, "delete_sync_jobs")) {
                        r = get_ids(v, streq(k, "delete_connectors") ? &m->delete_connectors
                                                                     : &m->delete_sync_jobs);
                        if (r == -EINVAL)
                                *reterr = strdup_printf("%s: \"%s\" must be an array of non-empty strings",
                                                        mwhere, k);
                        if (r < 0)
                                return r;
                } else if (streq(k, "cluster")) {
                        _cleanup_free_ char *text = cJSON_PrintUnformatted(v),
                                            *cwhere = strdup_printf("%s: cluster", mwhere);
                        char *uuid = NULL, *name = NULL;

                        if (!text || !cwhere)
                                return -ENOMEM;
                        r = fake_cluster_parse(text, strlen(text), cwhere, &uuid, &name, reterr);
                        if (r < 0)
                                return r;
                        free(m->cluster_uuid);
                        free(m->cluster_name);
                        m->cluster_uuid = uuid;
                        m->cluster_name = name;
                } else {
                        *reterr = strdup_printf("%s: unknown key \"%s\"", mwhere, k);
                        return -EINVAL;
                }
        }
        if (docs) {
                m->documents = cJSON_PrintUnformatted(docs);
                if (!m->documents)
                        return -ENOMEM;
                r = fake_store_check(m->documents, strlen(m->documents), mwhere, reterr);
                if (r < 0)
                        return r;
        }
        fake_mutation_free(*ret);
        *ret = TAKE_PTR(m);
        return 0;
}

static int parse_rule(const cJSON *o, struct rule *r, const char *where, char **reterr) {
        const cJSON *v;
        long status = 0;
        int terminal = 0;

        *r = (struct rule){ .count = -1, .probability = 1.0 };
        if (!cJSON_IsObject(o)) {
                *reterr = strdup_printf("%s: must be an object", where);
                return -EINVAL;
        }
        cJSON_ArrayForEach(v, o) {
                const char *k = v->string;
                bool bad = false;

                if (streq(k, "method"))
                        bad = get_string(v, &r->method) < 0;
                else if (streq(k, "path"))
                        bad = get_string(v, &r->path) < 0;
                else if (streq(k, "count"))
                        bad = get_integer(v, -1, LONG_MAX / 2, &r->count) < 0;
                else if (streq(k, "skip"))
                        bad = get_integer(v, 0, LONG_MAX / 2, &r->skip) < 0;
                else if (streq(k, "probability")) {
                        bad = !cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1;
                        if (!bad)
                                r->probability = v->valuedouble;
                } else if (streq(k, "status")) {
                        bad = get_integer(v, 100, 599, &status) < 0;
                        r->action.status = (int) status;
                        terminal++;
                } else if (streq(k, "retry_after"))
                        bad = get_string(v, &r->action.retry_after) < 0;
                else if (streq(k, "type"))
                        bad = get_string(v, &r->action.error_type) < 0;
                else if (streq(k, "reason"))
                        bad = get_string(v, &r->action.reason) < 0;
                else if (streq(k, "body"))
                        bad = get_string(v, &r->action.body) < 0;
                else if (streq(k, "content_type"))
                        bad = get_string(v, &r->action.content_type) < 0;
                else if (streq(k, "product_header")) {
                        bad = !cJSON_IsBool(v);
                        r->action.no_product_header = cJSON_IsFalse(v);
                } else if (streq(k, "mutate")) {
                        int q = parse_mutation(v, where, &r->action.mutate, reterr);

                        if (q < 0)
                                return q;
                } else if (streq(k, "delay_ms"))
                        bad = get_integer(v, 0, 3600000, &r->action.delay_ms) < 0;
                else if (streq(k, "trickle_bytes_per_sec"))
                        bad = get_integer(v, 1, LONG_MAX / 2, &r->action.trickle_bytes_per_sec) < 0;
                else if (streq(k, "drop") || streq(k, "malformed") || streq(k, "truncate")) {
                        bool *flag = streq(k, "drop")        ? &r->action.drop
                                     : streq(k, "malformed") ? &r->action.malformed
                                                             : &r->action.truncate;

                        bad = !cJSON_IsBool(v);
                        *flag = cJSON_IsTrue(v);
                        terminal += *flag;
                } else {
                        *reterr = strdup_printf("%s: unknown key \"%s\"", where, k);
                        return -EINVAL;
                }
                if (bad) {
                        *reterr = strdup_printf("%s: \"%s\" has an invalid value", where, k);
                        return -EINVAL;
                }
        }
        if (terminal > 1) {
                *reterr = strdup_printf(
                        "%s: \"status\", \"drop\", \"malformed\" and \"truncate\" exclude each other",
                        where);
                return -EINVAL;
        }
        if (r->action.body && (r->action.drop || r->action.malformed || r->action.truncate)) {
                *reterr = strdup_printf("%s: \"body\" excludes \"drop\", \"malformed\" and \"truncate\"",
                                        where);
                return -EINVAL;
        }
        if (terminal == 0 && r->action.delay_ms == 0 && r->action.trickle_bytes_per_sec == 0 &&
            !r->action.body && !r->action.no_product_header && !r->action.mutate) {
                *reterr = strdup_printf(
                        "%s: no action (one of \"status\", \"body\", \"delay_ms\", \"drop\", "
                        "\"malformed\", \"truncate\", \"trickle_bytes_per_sec\", \"product_header\": "
                        "false, \"mutate\")",
                        where);
                return -EINVAL;
        }
        if ((r->action.retry_after || r->action.error_type || r->action.reason) && r->action.status == 0) {
                *reterr = strdup_printf("%s: \"retry_after\", \"type\" and \"reason\" need a \"status\"",
                                        where);
                return -EINVAL;
        }
        if (r->action.body && (r->action.error_type || r->action.reason)) {
                *reterr = strdup_printf(
                        "%s: \"type\" and \"reason\" shape the error body, \"body\" replaces it: "
                        "give one or the other",
                        where);
                return -EINVAL;
        }
        if (r->action.content_type && !r->action.body) {
                *reterr = strdup_printf("%s: \"content_type\" needs a \"body\"", where);
                return -EINVAL;
        }
        return 0;
}

int fake_faults_set(struct fake_faults *f, const char *json, size_t len, const char *origin, char **reterr) {
        _cleanup_(cjson_deletep) cJSON *root = NULL;
        const cJSON *arr, *item;
        struct rule *rules;
        size_t n = 0;
        int r;

        root = cJSON_ParseWithLength(json, len);
        if (!root) {
                *reterr = strdup_printf("%s: invalid JSON", origin);
                return -EINVAL;
        }
        arr = cJSON_GetObjectItemCaseSensitive(root, "faults");
        if (!cJSON_IsObject(root) || !cJSON_IsArray(arr) || cJSON_GetArraySize(root) != 1) {
                *reterr = strdup_printf("%s: must be an object {\"faults\": [...]}", origin);
                return -EINVAL;
        }
        rules = calloc((size_t) cJSON_GetArraySize(arr) + 1, sizeof(*rules));
        if (!rules)
                return -ENOMEM;
        cJSON_ArrayForEach(item, arr) {
                char where[128];

                (void) snprintf(where, sizeof(where), "%s: faults[%zu]", origin, n);
                r = parse_rule(item, &rules[n], where, reterr);
                if (r < 0) {
                        rules_free(rules, n + 1);
                        return r;
                }
                rules[n].action.rule = (int) n;
                n++;
        }
        rules_free(f->rules, f->n);
        f->rules = rules;
        f->n = n;
        return 0;
}

static int dup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int strv_dup_or_null(char *const *l, char ***ret) {
        size_t n = 0;
        char **c;

        *ret = NULL;
        if (!l)
                return 0;
        while (l[n])
                n++;
        c = calloc(n + 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

static int mutation_dup(const struct fake_mutation *m, struct fake_mutation **ret) {
        _cleanup_(fake_mutation_freep) struct fake_mutation *c = NULL;

        *ret = NULL;
        if (!m)
                return 0;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (dup_or_null(m->documents, &c->documents) < 0 ||
            strv_dup_or_null(m->delete_connectors, &c->delete_connectors) < 0 ||
            strv_dup_or_null(m->delete_sync_jobs, &c->delete_sync_jobs) < 0 ||
            dup_or_null(m->cluster_uuid, &c->cluster_uuid) < 0 ||
            dup_or_null(m->cluster_name, &c->cluster_name) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

/* A copy of a rule's action the caller owns: a rule may be replaced while its request waits. */
static int action_copy(const struct fake_fault_action *a, struct fake_fault_action *ret) {
        struct fake_fault_action c = *a;

        c.retry_after = c.error_type = c.reason = c.body = c.content_type = NULL;
        c.mutate = NULL;
        if (dup_or_null(a->retry_after, &c.retry_after) < 0 ||
            dup_or_null(a->error_type, &c.error_type) < 0 || dup_or_null(a->reason, &c.reason) < 0 ||
            dup_or_null(a->body, &c.body) < 0 || dup_or_null(a->content_type, &c.content_type) < 0 ||
            mutation_dup(a->mutate, &c.mutate) < 0) {
                fake_fault_action_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int fake_faults_match(struct fake_faults *f, const char *method, const char *path,
                      struct fake_fault_action *ret) {
        for (size_t i = 0; i < f->n; i++) {
                struct rule *r = &f->rules[i];
                struct fake_fault_action a;

                if (r->count == 0)
                        continue;
                if (r->method && !streq(r->method, "*") && strcasecmp(r->method, method) != 0)
                        continue;
                if (r->path && !glob_match(r->path, path ? path : "", false))
                        continue;
                if (r->skip > 0) {
                        r->skip--;
                        continue;
                }
                if (r->probability < 1.0 && prng_double(&f->prng) >= r->probability)
                        continue;
                if (r->count > 0)
                        r->count--;
                r->applied++;
                if (action_copy(&r->action, &a) < 0)
                        return -ENOMEM;
                *ret = a;
                return 1;
        }
        return 0;
}

static const char *action_name(const struct fake_fault_action *a) {
        if (a->drop)
                return "drop";
        if (a->malformed)
                return "malformed";
        if (a->truncate)
                return "truncate";
        if (a->status)
                return "status";
        if (a->body)
                return "body";
        if (a->trickle_bytes_per_sec)
                return "trickle";
        if (a->delay_ms)
                return "delay";
        if (a->mutate)
                return "mutate";
        return "product_header";
}

void fake_fault_action_json(struct strbuf *sb, const struct fake_fault_action *a) {
        sb_printf(sb, "{\"rule\":%d,\"action\":\"%s\"", a->rule, action_name(a));
        if (a->status)
                sb_printf(sb, ",\"status\":%d", a->status);
        if (a->retry_after) {
                sb_puts(sb, ",\"retry_after\":");
                sb_json_cstr(sb, a->retry_after);
        }
        if (a->delay_ms)
                sb_printf(sb, ",\"delay_ms\":%ld", a->delay_ms);
        if (a->trickle_bytes_per_sec)
                sb_printf(sb, ",\"trickle_bytes_per_sec\":%ld", a->trickle_bytes_per_sec);
        if (a->body)
                sb_puts(sb, ",\"body\":true");
        if (a->content_type) {
                sb_puts(sb, ",\"content_type\":");
                sb_json_cstr(sb, a->content_type);
        }
        if (a->no_product_header)
                sb_puts(sb, ",\"product_header\":false");
        /* A rule has a mutation; a request's log entry says it was applied. */
        if (a->mutate)
                sb_puts(sb, a->mutated ? ",\"mutated\":true" : ",\"mutate\":true");
        sb_puts(sb, "}");
}

void fake_faults_json(const struct fake_faults *f, struct strbuf *sb) {
        sb_puts(sb, "[");
        for (size_t i = 0; i < f->n; i++) {
                const struct rule *r = &f->rules[i];

                sb_puts(sb, i ? ",{\"method\":" : "{\"method\":");
                sb_json_cstr(sb, r->method);
                sb_puts(sb, ",\"path\":");
                sb_json_cstr(sb, r->path);
                sb_printf(sb, ",\"count\":%ld,\"skip\":%ld,\"probability\":%g,\"applied\":%lu,\"action\":",
                          r->count, r->skip, r->probability, r->applied);
                fake_fault_action_json(sb, &r->action);
                sb_puts(sb, "}");
        }
        sb_puts(sb, "]");
}

void fake_fault_default_error(int status, const char **ret_type, const char **ret_reason) {
        /* Exceptions Elasticsearch itself answers these statuses with. */
        static const struct {
                int status;
                const char *type;
                const char *reason;
        } table[] = {
                { 400, "illegal_argument_exception", "injected fault" },
                { 401, "security_exception", "injected fault" },
                { 403, "security_exception", "injected fault" },
                { 404, "resource_not_found_exception", "injected fault" },
                { 409, "version_conflict_engine_exception", "injected fault" },
                { 429, "es_rejected_execution_exception", "rejected execution of coordinating operation" },
                { 500, "exception", "injected fault" },
                { 503, "cluster_block_exception",
                  "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].status == status) {
                        *ret_type = table[i].type;
                        *ret_reason = table[i].reason;
                        return;
                }
        *ret_type = "status_exception";
        *ret_reason = "injected fault";
}
