#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fake-fault.h"
#include "util.h"

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

void fake_fault_action_done(struct fake_fault_action *a) {
        free(a->retry_after);
        free(a->error_type);
        free(a->reason);
        *a = (struct fake_fault_action){};
}

static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errorf(const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        return m;
}

static int get_integer(const cJSON *v, long min, long max, long *ret) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double) min ||
            v->valuedouble > (double) max)
                return -EINVAL;
        *ret = (long) v->valuedouble;
        return 0;
}

static int get_string(const cJSON *v, char **ret) {
        if (!cJSON_IsString(v))
                return -EINVAL;
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static int parse_rule(const cJSON *o, struct rule *r, const char *where, char **reterr) {
        const cJSON *v;
        long status = 0;
        int terminal = 0;

        *r = (struct rule){ .count = -1, .probability = 1.0 };
        if (!cJSON_IsObject(o)) {
                *reterr = errorf("%s: must be an object", where);
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
                else if (streq(k, "delay_ms"))
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
                        *reterr = errorf("%s: unknown key \"%s\"", where, k);
                        return -EINVAL;
                }
                if (bad) {
                        *reterr = errorf("%s: \"%s\" has an invalid value", where, k);
                        return -EINVAL;
                }
        }
        if (terminal > 1) {
                *reterr =
                        errorf("%s: \"status\", \"drop\", \"malformed\" and \"truncate\" exclude each other",
                               where);
                return -EINVAL;
        }
        if (terminal == 0 && r->action.delay_ms == 0 && r->action.trickle_bytes_per_sec == 0) {
                *reterr = errorf("%s: no action (one of \"status\", \"delay_ms\", \"drop\", \"malformed\", "
                                 "\"truncate\", \"trickle_bytes_per_sec\")",
                                 where);
                return -EINVAL;
        }
        if ((r->action.retry_after || r->action.error_type || r->action.reason) && r->action.status == 0) {
                *reterr = errorf("%s: \"retry_after\", \"type\" and \"reason\" need a \"status\"", where);
                return -EINVAL;
        }
        return 0;
}

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}

int fake_faults_set(struct fake_faults *f, const char *json, size_t len, const char *origin, char **reterr) {
        _cleanup_(cjson_deletep) cJSON *root = NULL;
        const cJSON *arr, *item;
        struct rule *rules;
        size_t n = 0;
        int r;

        root = cJSON_ParseWithLength(json, len);
        if (!root) {
                *reterr = errorf("%s: invalid JSON", origin);
                return -EINVAL;
        }
        arr = cJSON_GetObjectItemCaseSensitive(root, "faults");
        if (!cJSON_IsObject(root) || !cJSON_IsArray(arr) || cJSON_GetArraySize(root) != 1) {
                *reterr = errorf("%s: must be an object {\"faults\": [...]}", origin);
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
                a = r->action;
                if (dup_or_null(r->action.retry_after, &a.retry_after) < 0)
                        return -ENOMEM;
                if (dup_or_null(r->action.error_type, &a.error_type) < 0 ||
                    dup_or_null(r->action.reason, &a.reason) < 0) {
                        free(a.retry_after);
                        free(a.error_type);
                        return -ENOMEM;
                }
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
        if (a->trickle_bytes_per_sec)
                return "trickle";
        return "delay";
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
