/* Which declared fields differ from a connector, and the update requests that set them: see
 * converge.h. Why a PUT never converges and which fields the connector service owns: docs/design.md,
 * "Creating and converging". */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cjson-util.h"
#include "converge.h"
#include "util.h"

const char *converge_state_to_string(enum converge_state s) {
        static const char *const names[_CONVERGE_STATE_MAX] = {
                [CONVERGE_SET] = "set",
                [CONVERGE_DISRUPTIVE] = "disruptive",
                [CONVERGE_CREATE_ONLY] = "create_only",
                [CONVERGE_UNSUPPORTED] = "unsupported_on_version",
                [CONVERGE_AWAITING_SCHEMA] = "awaiting_schema",
                [CONVERGE_REFUSED] = "refused",
        };
        return s >= 0 && s < _CONVERGE_STATE_MAX ? names[s] : NULL;
}

/* What a diff is built with. */
struct builder {
        const cJSON *declared;
        const cJSON *live;
        unsigned version; /* major * 1000 + minor */
        bool allow_disruptive;
        const struct converge_secrets *secrets;
        struct converge_diff *d;
        size_t n_fields_allocated;
        char **reterr;
};

#define V(major, minor) (1000u * (major) + (minor))

static void wipe_free(char *s, size_t n) {
        if (!s)
                return;
        explicit_bzero(s, n);
        free(s);
}

void converge_diff_done(struct converge_diff *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_fields; i++) {
                free(d->fields[i].field);
                free(d->fields[i].from);
                free(d->fields[i].to);
        }
        free(d->fields);
        for (size_t i = 0; i < d->n_requests; i++)
                wipe_free(d->requests[i].body, d->requests[i].body_size);
        free(d->requests);
        *d = (struct converge_diff){};
}

static char *json_text(const cJSON *v) {
        if (!v)
                return strdup("null");
        return cJSON_PrintUnformatted(v);
}

/* Records one field that differs. 'from' and 'to' are printed unless secret. */
static int add_field(struct builder *b, const char *field, enum converge_state state, const cJSON *from,
                     const cJSON *to, bool secret, const char *why) {
        struct converge_diff *d = b->d;
        struct converge_field *f;

        if (d->n_fields == b->n_fields_allocated) {
                size_t n = MAX(b->n_fields_allocated * 2, (size_t) 8);
                struct converge_field *a = reallocarray(d->fields, n, sizeof(*a));

                if (!a)
                        return -ENOMEM;
                d->fields = a;
                b->n_fields_allocated = n;
        }
        f = d->fields + d->n_fields;
        *f = (struct converge_field){ .state = state, .secret = secret, .why = why };
        f->field = strdup(field);
        if (!secret) {
                f->from = json_text(from);
                f->to = json_text(to);
        }
        if (!f->field || (!secret && (!f->from || !f->to))) {
                free(f->field);
                free(f->from);
                free(f->to);
                return -ENOMEM;
        }
        d->n_fields++;
        if (state == CONVERGE_SET)
                d->n_set++;
        else if (state == CONVERGE_AWAITING_SCHEMA)
                d->awaiting_schema = true;
        else
                d->n_drift++;
        return 0;
}

/* Queues a request; takes 'body'. */
static int add_request(struct builder *b, const char *endpoint, cJSON *body) {
        struct converge_diff *d = b->d;
        struct converge_request *a;
        char *text;

        text = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        if (!text)
                return -ENOMEM;
        a = reallocarray(d->requests, d->n_requests + 1, sizeof(*a));
        if (!a) {
                wipe_free(text, strlen(text));
                return -ENOMEM;
        }
        d->requests = a;
        a[d->n_requests++] = (struct converge_request){
                .endpoint = endpoint,
                .body = text,
                .body_size = strlen(text),
        };
        return 0;
}

static const cJSON *member(const cJSON *o, const char *key) {
        return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* Values equal as JSON; a missing value equals null. */
static bool same(const cJSON *a, const cJSON *b) {
        bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);

        if (an || bn)
                return an && bn;
        return cJSON_Compare(a, b, true);
}

static int add_copy(cJSON *o, const char *key, const cJSON *v) {
        cJSON *c = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();

        if (!c || !cJSON_AddItemToObject(o, key, c)) {
                cJSON_Delete(c);
                return -ENOMEM;
        }
        return 0;
}

/* ---- name and description: _name ---- */

static int diff_name(struct builder *b) {
        const cJSON *name = member(b->declared, "name"), *desc = member(b->declared, "description");
        const cJSON *live_name = member(b->live, "name"), *live_desc = member(b->live, "description");
        bool name_differs = name && !same(name, live_name), desc_differs = desc && !same(desc, live_desc);
        _cleanup_cjson_ cJSON *body = NULL;
        int r;

        if (name_differs && (r = add_field(b, "name", CONVERGE_SET, live_name, name, false, NULL)) < 0)
                return r;
        if (desc_differs &&
            (r = add_field(b, "description", CONVERGE_SET, live_desc, desc, false, NULL)) < 0)
                return r;
        if (!name_differs && !desc_differs)
                return 0;
        /* 8.12 requires the name; both go, the one not declared as the connector has it. */
        body = cJSON_CreateObject();
        if (!body)
                return -ENOMEM;
        if ((name || (live_name && !cJSON_IsNull(live_name))) &&
            (r = add_copy(body, "name", name ?: live_name)) < 0)
                return r;
        if ((desc || (live_desc && !cJSON_IsNull(live_desc))) &&
            (r = add_copy(body, "description", desc ?: live_desc)) < 0)
                return r;
        return add_request(b, "_name", TAKE_PTR(body));
}

/* ---- index_name, service_type, is_native: disruptive, 8.13+ ---- */

static int diff_disruptive(struct builder *b, const char *key, const char *endpoint) {
        const cJSON *want = member(b->declared, key), *have = member(b->live, key);
        _cleanup_cjson_ cJSON *body = NULL;
        int r;

        if (!want || same(want, have))
                return 0;
        if (b->version < V(8, 13))
                return add_field(b, key, CONVERGE_UNSUPPORTED, have, want, false,
                                 "no endpoint sets it before Elasticsearch 8.13 (only a create, which would "
                                 "wipe the connector)");
        if (!b->allow_disruptive)
                return add_field(b, key, CONVERGE_DISRUPTIVE, have, want, false,
                                 "changing it changes where data goes or the connector's status: set "
                                 "spec.lifecycle.allow_disruptive to let it change");
        r = add_field(b, key, CONVERGE_SET, have, want, false, NULL);
        if (r < 0)
                return r;
        body = cJSON_CreateObject();
        if (!body || add_copy(body, key, want) < 0)
                return -ENOMEM;
        return add_request(b, endpoint, TAKE_PTR(body));
}

/* ---- language: create-only ---- */

static int diff_language(struct builder *b) {
        const cJSON *want = member(b->declared, "language"), *have = member(b->live, "language");

        if (!want || same(want, have))
                return 0;
        return add_field(b, "language", CONVERGE_CREATE_ONLY, have, want, false,
                         "no endpoint sets it in any version: only a create, which would wipe the "
                         "connector; recreate it to change it");
}

/* ---- objects sent whole: pipeline, scheduling ---- */

/* Cron expressions equal as Elasticsearch keeps them: upper-cased (its Cron class upper-cases the
 * expression it is given, and writes that back), so "mon" and "MON" are one schedule. */
static bool same_cron(const cJSON *a, const cJSON *b) {
        return cJSON_IsString(a) && cJSON_IsString(b) && strcasecmp(a->valuestring, b->valuestring) == 0;
}

/* Compares each declared member of 'want' (one level, or two for scheduling) with 'have', recording
 * each that differs as PREFIX.KEY[.SUB]; returns how many differ. */
static int diff_members(struct builder *b, const char *prefix, const cJSON *want, const cJSON *have,
                        enum converge_state state, const char *why, size_t *ret_n) {
        char field[256];
        int r;

        for (const cJSON *w = want->child; w; w = w->next) {
                const cJSON *h = member(have, w->string);

                (void) snprintf(field, sizeof field, "%s.%s", prefix, w->string);
                if (cJSON_IsObject(w)) {
                        r = diff_members(b, field, w, h, state, why, ret_n);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (same(w, h) ||
                    (startswith(prefix, "scheduling.") && streq(w->string, "interval") && same_cron(w, h)))
                        continue;
                r = add_field(b, field, state, h, w, false, why);
                if (r < 0)
                        return r;
                (*ret_n)++;
        }
        return 0;
}

/* 'have' with each declared member of 'want' put over it, recursively. */
static cJSON *overlay(const cJSON *have, const cJSON *want) {
        cJSON *o = cJSON_IsObject(have) ? cJSON_Duplicate(have, true) : cJSON_CreateObject();

        if (!o)
                return NULL;
        for (const cJSON *w = want->child; w; w = w->next) {
                cJSON *c;

                if (cJSON_IsObject(w))
                        c = overlay(member(have, w->string), w);
                else
                        c = cJSON_Duplicate(w, true);
                if (!c) {
                        cJSON_Delete(o);
                        return NULL;
                }
                if (cJSON_GetObjectItemCaseSensitive(o, w->string))
                        cJSON_ReplaceItemInObjectCaseSensitive(o, w->string, c);
                else
                        cJSON_AddItemToObject(o, w->string, c);
        }
        return o;
}

/* Whether 'o' has each of 'keys' (a null counts as absent). */
static bool complete(const cJSON *o, const char *const *keys, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const cJSON *v = member(o, keys[i]);

                if (!v || cJSON_IsNull(v))
                        return false;
        }
        return true;
}

/* Whether _scheduling takes 'o' (its schedules, 'keys') on 'version': each schedule in it whole
 * (enabled and interval, both required by the parser); before 8.14 all three of them, from 8.14
 * on full or incremental at least (Elasticsearch's check, which never looks at access_control). */
static bool schedules_complete(const cJSON *o, const char *const *keys, size_t n, unsigned version) {
        for (const cJSON *s = o->child; s; s = s->next)
                if (!cJSON_IsBool(member(s, "enabled")) || !cJSON_IsString(member(s, "interval")))
                        return false;
        if (version < V(8, 14))
                return complete(o, keys, n);
        return member(o, "full") || member(o, "incremental");
}

static int diff_whole(struct builder *b, const char *key, const char *endpoint, const char *const *keys,
                      size_t n_keys, bool schedules) {
        const cJSON *want = member(b->declared, key), *have = member(b->live, key);
        _cleanup_cjson_ cJSON *value = NULL, *body = NULL;
        size_t n = 0, before = b->d->n_fields;
        int r;

        if (!want)
                return 0;
        r = diff_members(b, key, want, have, CONVERGE_SET, NULL, &n);
        if (r < 0 || n == 0)
                return r;
        /* The endpoint takes the whole object (_scheduling each schedule whole, and all three
         * before 8.14): the members not declared go as the connector has them. */
        value = overlay(have, want);
        if (!value)
                return -ENOMEM;
        if (schedules ? !schedules_complete(value, keys, n_keys, b->version)
                      : !complete(value, keys, n_keys)) {
                for (size_t i = before; i < b->d->n_fields; i++) {
                        b->d->fields[i].state = CONVERGE_REFUSED;
                        b->d->fields[i].why = "the request takes the whole object, and neither the manifest "
                                              "nor the connector has every member of it: declare them all";
                }
                b->d->n_set -= n;
                b->d->n_drift += n;
                return 0;
        }
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddItemToObject(body, key, value))
                return -ENOMEM;
        TAKE_PTR(value);
        return add_request(b, endpoint, TAKE_PTR(body));
}

/* ---- features: a partial merge, 8.15+ ---- */

static int diff_features(struct builder *b) {
        const cJSON *want = member(b->declared, "features"), *have = member(b->live, "features");
        bool old = b->version < V(8, 15);
        _cleanup_cjson_ cJSON *body = NULL;
        size_t n = 0;
        int r;

        if (!want)
                return 0;
        r = diff_members(b, "features", want, have, old ? CONVERGE_UNSUPPORTED : CONVERGE_SET,
                         old ? "no _features endpoint before Elasticsearch 8.15" : NULL, &n);
        if (r < 0 || n == 0 || old)
                return r;
        body = cJSON_CreateObject();
        if (!body || add_copy(body, "features", want) < 0)
                return -ENOMEM;
        return add_request(b, "_features", TAKE_PTR(body));
}

/* ---- filtering: the draft, 8.14+ ---- */

/* ConnectorFiltering's default rule, which Elasticsearch keeps last in every draft. */
static bool is_default_rule(const cJSON *rule) {
        static const char *const want[][2] = {
                { "id", "DEFAULT" }, { "field", "_" },  { "policy", "include" },
                { "rule", "regex" }, { "value", ".*" },
        };

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const cJSON *v = member(rule, want[i][0]);

                if (!cJSON_IsString(v) || !streq(v->valuestring, want[i][1]))
                        return false;
        }
        return true;
}

/* Whether the draft's rules are the declared ones as Elasticsearch stores them: the declared rules
 * but the default one, by order (a stable sort), then the default rule. Only the declared members
 * of each rule are compared (Elasticsearch adds created_at and updated_at). */
static bool rules_match(const cJSON *want, const cJSON *have) {
        _cleanup_free_ const cJSON **sorted = NULL;
        size_t n = 0, i = 0;
        const cJSON *h;

        if (!cJSON_IsArray(have))
                return false;
        sorted = calloc((size_t) cJSON_GetArraySize(want) + 1, sizeof(const cJSON *));
        if (!sorted)
                return false; /* set it again rather than guess */
        for (const cJSON *w = want->child; w; w = w->next)
                if (!is_default_rule(w))
                        sorted[n++] = w;
        for (size_t a = 1; a < n; a++)
                for (size_t j = a; j > 0 && member(sorted[j - 1], "order")->valuedouble >
                                                    member(sorted[j], "order")->valuedouble;
                     j--) {
                        const cJSON *t = sorted[j];

                        sorted[j] = sorted[j - 1];
                        sorted[j - 1] = t;
                }
        for (h = have->child; h && i < n; h = h->next, i++)
                for (const cJSON *m = sorted[i]->child; m; m = m->next)
                        if (!streq(m->string, "order") && !same(m, member(h, m->string)))
                                return false;
        /* The order of the default rule is Elasticsearch's to pick; the others' must match. */
        for (i = 0, h = have->child; h && i < n; h = h->next, i++)
                if (!same(member(sorted[i], "order"), member(h, "order")))
                        return false;
        return i == n && h && is_default_rule(h) && !h->next;
}

static int diff_filtering(struct builder *b) {
        const cJSON *want = member(b->declared, "filtering"), *list = member(b->live, "filtering");
        const cJSON *draft = member(cJSON_IsArray(list) ? list->child : NULL, "draft");
        const cJSON *rules = member(want, "rules"), *snippet = member(want, "advanced_snippet");
        const cJSON *have_rules = member(draft, "rules"), *have_snippet = member(draft, "advanced_snippet");
        bool old = b->version < V(8, 14);
        enum converge_state state = old ? CONVERGE_UNSUPPORTED : CONVERGE_SET;
        const char *why = old ? "no draft form of _filtering before Elasticsearch 8.14 (the whole list "
                                "would overwrite the active rules)"
                              : NULL;
        _cleanup_cjson_ cJSON *body = NULL;
        bool rules_differ, snippet_differs;
        int r;

        if (!want)
                return 0;
        rules_differ = rules && !rules_match(rules, have_rules);
        snippet_differs = snippet && !same(member(snippet, "value"), member(have_snippet, "value"));
        if (rules_differ && (r = add_field(b, "filtering.rules", state, have_rules, rules, false, why)) < 0)
                return r;
        if (snippet_differs &&
            (r = add_field(b, "filtering.advanced_snippet", state, member(have_snippet, "value"),
                           member(snippet, "value"), false, why)) < 0)
                return r;
        if (old || (!rules_differ && !snippet_differs))
                return 0;
        body = cJSON_CreateObject();
        if (!body)
                return -ENOMEM;
        if (rules_differ && add_copy(body, "rules", rules) < 0)
                return -ENOMEM;
        if (snippet_differs && add_copy(body, "advanced_snippet", snippet) < 0)
                return -ENOMEM;
        return add_request(b, "_filtering", TAKE_PTR(body));
}

/* ---- configuration: values only, 8.13+ ---- */

#define WHY_VALUES                                                                                     \
        "no 'values' form of _configuration before Elasticsearch 8.13 (the whole configuration would " \
        "replace the service's schema)"

/* Equal bytes, in a time that depends on the lengths only. */
static bool equal_constant_time(const char *a, size_t na, const char *b, size_t nb) {
        unsigned char x = na == nb ? 0 : 1;
        size_t n = MAX(na, nb);

        for (size_t i = 0; i < n; i++)
                x |= (unsigned char) ((i < na ? a[i] : 0) ^ (i < nb ? b[i] : 0));
        return x == 0;
}

static int diff_configuration(struct builder *b) {
        const cJSON *want = member(b->declared, "configuration"), *have = member(b->live, "configuration");
        _cleanup_cjson_ cJSON *values = NULL;
        char field[512];
        int r;

        if (!want)
                return 0;
        if (!cJSON_IsObject(have) || !have->child) {
                /* Nothing to compare with: the service writes the schema when it first sees the
                 * connector. Recorded once for the whole configuration. */
                return add_field(b, "configuration", CONVERGE_AWAITING_SCHEMA, have, NULL, true,
                                 "the connector has no configuration schema yet: the connector service "
                                 "registers it when it first runs the connector");
        }
        values = cJSON_CreateObject();
        if (!values)
                return -ENOMEM;
        for (const cJSON *w = want->child; w; w = w->next) {
                const cJSON *entry = member(have, w->string), *h = member(entry, "value");
                const cJSON *secret = member(w, "secret");
                bool sensitive = cJSON_IsTrue(member(entry, "sensitive"));
                enum converge_state state = CONVERGE_SET;
                const char *why = NULL;
                cJSON *v;

                (void) snprintf(field, sizeof field, "configuration.%s", w->string);
                if (cJSON_IsString(secret)) {
                        _cleanup_free_ char *message = NULL;
                        char *value = NULL;
                        bool equal;

                        r = b->secrets && b->secrets->get ? b->secrets->get(secret->valuestring, &value,
                                                                            &message, b->secrets->userdata)
                                                          : -ENOKEY;
                        if (r < 0) {
                                if (message)
                                        (void) reterr_printf(b->reterr, r, "%s: %s", field, message);
                                else
                                        (void) reterr_printf(b->reterr, r,
                                                             "%s: no secrets folder to read '%s' from",
                                                             field, secret->valuestring);
                                return r;
                        }
                        equal = entry && cJSON_IsString(h) &&
                                equal_constant_time(h->valuestring, strlen(h->valuestring), value,
                                                    strlen(value));
                        if (equal || !entry || b->version < V(8, 13)) {
                                wipe_free(value, strlen(value));
                                if (!entry &&
                                    (r = add_field(b, field, CONVERGE_REFUSED, NULL, NULL, true,
                                                   "not in the connector's configuration schema")) < 0)
                                        return r;
                                if (entry && !equal &&
                                    (r = add_field(b, field, CONVERGE_UNSUPPORTED, NULL, NULL, true,
                                                   WHY_VALUES)) < 0)
                                        return r;
                                continue;
                        }
                        v = cJSON_CreateString(value);
                        wipe_free(value, strlen(value));
                        if (!v)
                                return -ENOMEM;
                        r = add_field(b, field, CONVERGE_SET, NULL, NULL, true, NULL);
                        if (r < 0 || !cJSON_AddItemToObject(values, w->string, v)) {
                                if (v->valuestring)
                                        explicit_bzero(v->valuestring, strlen(v->valuestring));
                                cJSON_Delete(v);
                                return r < 0 ? r : -ENOMEM;
                        }
                        continue;
                }
                if (entry && same(w, h))
                        continue;
                if (!entry) {
                        state = CONVERGE_REFUSED;
                        why = "not in the connector's configuration schema";
                } else if (sensitive) {
                        state = CONVERGE_REFUSED;
                        why = "the schema marks it sensitive: give it as {secret: NAME}";
                } else if (b->version < V(8, 13)) {
                        state = CONVERGE_UNSUPPORTED;
                        why = WHY_VALUES;
                }
                /* A sensitive value is never printed, whatever the manifest says. */
                r = add_field(b, field, state, h, w, sensitive, why);
                if (r < 0)
                        return r;
                if (state == CONVERGE_SET && add_copy(values, w->string, w) < 0)
                        return -ENOMEM;
        }
        if (!values->child)
                return 0;
        {
                _cleanup_cjson_ cJSON *body = cJSON_CreateObject();

                if (!body || !cJSON_AddItemToObject(body, "values", values))
                        return -ENOMEM;
                TAKE_PTR(values);
                return add_request(b, "_configuration", TAKE_PTR(body));
        }
}

static int parse(const char *json, size_t size, const char *what, cJSON **ret, char **reterr) {
        cJSON *j = cJSON_ParseWithLength(json, size);

        if (!j || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return reterr_printf(reterr, -EBADMSG, "%s is not a JSON object", what);
        }
        *ret = j;
        return 0;
}

/* Whether 'declared' has the shapes the code above walks (manifest-fields.c writes no other): the
 * object fields objects, filtering.rules a list of objects each with a numeric order. Anything
 * else would be compared member by member with no member names to go by. */
static int check_declared(const cJSON *declared, char **reterr) {
        static const char *const objects[] = { "pipeline", "scheduling", "features", "filtering",
                                               "configuration" };
        const cJSON *rules = member(member(declared, "filtering"), "rules");

        for (size_t i = 0; i < ELEMENTSOF(objects); i++) {
                const cJSON *v = member(declared, objects[i]);

                if (v && !cJSON_IsObject(v))
                        return reterr_printf(reterr, -EBADMSG, "The declared fields' '%s' is not an object",
                                             objects[i]);
        }
        if (rules && !cJSON_IsArray(rules))
                return reterr_printf(reterr, -EBADMSG,
                                     "The declared fields' 'filtering.rules' is not a list");
        for (const cJSON *w = rules ? rules->child : NULL; w; w = w->next)
                if (!cJSON_IsObject(w) || !cJSON_IsNumber(member(w, "order")))
                        return reterr_printf(
                                reterr, -EBADMSG,
                                "The declared fields' 'filtering.rules' has a rule that is not an "
                                "object with a numeric order");
        return 0;
}

int converge_diff_build(const char *fields, const char *live, size_t live_size, unsigned major,
                        unsigned minor, bool allow_disruptive, const struct converge_secrets *secrets,
                        struct converge_diff *ret, char **reterr_message) {
        static const char *const pipeline_keys[] = { "name", "extract_binary_content", "reduce_whitespace",
                                                     "run_ml_inference" };
        static const char *const schedule_keys[] = { "full", "incremental", "access_control" };
        _cleanup_cjson_ cJSON *declared = NULL, *doc = NULL;
        struct converge_diff d = {};
        struct builder b;
        int r;

        r = parse(fields ?: "{}", fields ? strlen(fields) : 2, "The declared fields", &declared,
                  reterr_message);
        if (r < 0)
                return r;
        r = check_declared(declared, reterr_message);
        if (r < 0)
                return r;
        r = parse(live, live_size, "The connector's document", &doc, reterr_message);
        if (r < 0)
                return r;
        b = (struct builder){
                .declared = declared,
                .live = doc,
                .version = V(major, minor),
                .allow_disruptive = allow_disruptive,
                .secrets = secrets,
                .d = &d,
                .reterr = reterr_message,
        };
        /* The order of the requests: the names, what moves the connector, its configuration, then
         * how it ingests and when, then what it ingests. */
        if ((r = diff_name(&b)) < 0 || (r = diff_disruptive(&b, "index_name", "_index_name")) < 0 ||
            (r = diff_disruptive(&b, "service_type", "_service_type")) < 0 ||
            (r = diff_disruptive(&b, "is_native", "_native")) < 0 || (r = diff_language(&b)) < 0 ||
            (r = diff_configuration(&b)) < 0 ||
            (r = diff_whole(&b, "pipeline", "_pipeline", pipeline_keys, ELEMENTSOF(pipeline_keys), false)) <
                    0 ||
            (r = diff_whole(&b, "scheduling", "_scheduling", schedule_keys, ELEMENTSOF(schedule_keys),
                            true)) < 0 ||
            (r = diff_features(&b)) < 0 || (r = diff_filtering(&b)) < 0) {
                converge_diff_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int converge_create_body(const char *fields, char **ret, size_t *ret_size) {
        static const char *const keys[] = { "description", "index_name", "is_native",
                                            "language",    "name",       "service_type" };
        _cleanup_cjson_ cJSON *declared = NULL, *body = NULL;
        char *text;

        declared = cJSON_Parse(fields ?: "{}");
        if (!cJSON_IsObject(declared))
                return -EBADMSG;
        body = cJSON_CreateObject();
        if (!body)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const cJSON *v = member(declared, keys[i]);

                if (v && add_copy(body, keys[i], v) < 0)
                        return -ENOMEM;
        }
        text = cJSON_PrintUnformatted(body);
        if (!text)
                return -ENOMEM;
        *ret = text;
        *ret_size = strlen(text);
        return 0;
}

bool converge_declares_configuration(const char *fields) {
        _cleanup_cjson_ cJSON *declared = fields ? cJSON_Parse(fields) : NULL;

        return member(declared, "configuration") != NULL;
}

char *converge_diff_set_names(const struct converge_diff *d) {
        size_t n = 1;
        char *s, *p;

        for (size_t i = 0; i < d->n_fields; i++)
                if (d->fields[i].state == CONVERGE_SET)
                        n += strlen(d->fields[i].field) + 1;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < d->n_fields; i++)
                if (d->fields[i].state == CONVERGE_SET)
                        p += sprintf(p, "%s%s", p == s ? "" : ",", d->fields[i].field);
        return s;
}

const char *converge_kind_to_string(enum converge_kind k) {
        static const char *const names[_CONVERGE_KIND_MAX] = {
                [CONVERGE_CREATE] = "create",
                [CONVERGE_UPDATE] = "update",
                [CONVERGE_AWAITING] = "awaiting_schema",
                [CONVERGE_SOFT_DELETED] = "soft_deleted",
                [CONVERGE_DRIFT] = "drift",
                [CONVERGE_FAILED] = "failed",
        };
        return k >= 0 && k < _CONVERGE_KIND_MAX ? names[k] : NULL;
}

void converge_plan_done(struct converge_plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_changes; i++) {
                free(p->changes[i].id);
                free(p->changes[i].error);
                converge_diff_done(&p->changes[i].diff);
        }
        free(p->changes);
        *p = (struct converge_plan){};
}

static int change_cmp(const void *a, const void *b) {
        const struct converge_change *x = a, *y = b;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->id, y->id);
}

void converge_plan_sort(struct converge_plan *p) {
        if (p->n_changes > 1)
                qsort(p->changes, p->n_changes, sizeof(*p->changes), change_cmp);
        for (size_t k = 0; k < _CONVERGE_KIND_MAX; k++)
                p->counts[k] = 0;
        for (size_t i = 0; i < p->n_changes; i++)
                p->counts[p->changes[i].kind]++;
}
