/* Which requests restore a connector, and whether it came back: see restore.h. What each endpoint
 * takes and since which version is in connector-reconciler(8), RESTORING A CONNECTOR; the reasons
 * for the order are in docs/design.md. */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-request.h"
#include "restore.h"
#include "cjson-util.h"
#include "util.h"

/* The fields PUT /_connector/<id> takes, in the order Elasticsearch's parser declares them. */
static const char *const create_fields[] = {
        "description", "index_name", "is_native", "language", "name", "service_type",
};

/* One aspect restored by an update endpoint: the document's fields it carries (the first is also
 * the body's key unless 'key' says otherwise), the endpoint, and the first version that has it. */
struct aspect {
        const char *name;
        const char *endpoint;
        const char *fields[2];
        unsigned since_major, since_minor;
        const char *too_old; /* the reason when the server is older */
};

static const struct aspect aspects[] = {
        { "api_key_id",
          "_api_key_id",
          { "api_key_id", "api_key_secret_id" },
          8,
          13,
          "no _api_key_id endpoint before Elasticsearch 8.13" },
        { "configuration", "_configuration", { "configuration" }, 8, 12, NULL },
        { "scheduling", "_scheduling", { "scheduling" }, 8, 12, NULL },
        { "pipeline", "_pipeline", { "pipeline" }, 8, 12, NULL },
        { "filtering", "_filtering", { "filtering" }, 8, 12, NULL },
        { "features",
          "_features",
          { "features" },
          8,
          15,
          "no _features endpoint before Elasticsearch 8.15" },
};

/* What the document may hold that nothing sets again. */
static const struct restore_lost lost_fields[] = {
        { "custom_scheduling", "no endpoint sets it, in any version" },
};

/* Whether a field holds something worth a request: not absent, not null, not {} or []. */
static bool has_content(const cJSON *v) {
        if (!v || cJSON_IsNull(v))
                return false;
        if (cJSON_IsObject(v) || cJSON_IsArray(v))
                return v->child != NULL;
        return true;
}

/* The type a field must have in a connector's document, or 0 for any. */
static int field_type(const char *field) {
        static const struct {
                const char *field;
                int type;
        } table[] = {
                { "description", cJSON_String },   { "index_name", cJSON_String },
                { "is_native", cJSON_True },       { "language", cJSON_String },
                { "name", cJSON_String },          { "service_type", cJSON_String },
                { "api_key_id", cJSON_String },    { "api_key_secret_id", cJSON_String },
                { "configuration", cJSON_Object }, { "scheduling", cJSON_Object },
                { "pipeline", cJSON_Object },      { "filtering", cJSON_Array },
                { "features", cJSON_Object },      { "custom_scheduling", cJSON_Object },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].field, field))
                        return table[i].type;
        return 0;
}

static bool type_matches(const cJSON *v, int type) {
        if (!v || cJSON_IsNull(v) || type == 0)
                return true;
        if (type == cJSON_True)
                return cJSON_IsBool(v);
        return (v->type & 0xFF) == type;
}

static const char *type_name(int type) {
        switch (type) {
        case cJSON_String:
                return "a string";
        case cJSON_True:
                return "a boolean";
        case cJSON_Object:
                return "an object";
        case cJSON_Array:
                return "an array";
        default:
                return "a value";
        }
}

static int check_types(const cJSON *doc, char **reterr) {
        assert(doc);
        for (const cJSON *v = doc->child; v; v = v->next) {
                int type = v->string ? field_type(v->string) : 0;

                if (!type_matches(v, type))
                        return reterr_printf(reterr, -EBADMSG, "The document's '%s' is not %s", v->string,
                                             type_name(type));
        }
        return 0;
}

/* The first member name given twice in an object, at any depth, or NULL. cJSON keeps both, and
 * no reading of such a document is the right one: Elasticsearch never writes one. */
static const char *repeated_member(const cJSON *v) {
        for (const cJSON *m = v->child; m; m = m->next) {
                const char *r;

                if (cJSON_IsObject(v))
                        for (const cJSON *o = v->child; o != m; o = o->next)
                                if (streq(o->string, m->string))
                                        return m->string;
                r = repeated_member(m);
                if (r)
                        return r;
        }
        return NULL;
}

static int parse_object(const char *json, size_t size, const char *what, cJSON **ret, char **reterr) {
        cJSON *j = cJSON_ParseWithLength(json, size);
        const char *twice;

        if (!j) {
                /* cJSON reports nothing but allocation failures and syntax alike: say which. */
                return reterr_printf(reterr, -EBADMSG, "%s is not JSON", what);
        }
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return reterr_printf(reterr, -EBADMSG, "%s is not a JSON object", what);
        }
        twice = repeated_member(j);
        if (twice) {
                int r = reterr_printf(reterr, -EBADMSG, "%s has a member named '%s' twice", what, twice);

                cJSON_Delete(j);
                return r;
        }
        *ret = j;
        return 0;
}

/* Prints 'body' into the step; takes nothing on failure. */
static int step_set_body(struct restore_step *step, cJSON *body) {
        step->body = cJSON_PrintUnformatted(body);
        if (!step->body)
                return -ENOMEM;
        step->body_size = strlen(step->body);
        return 0;
}

static int build_create(const cJSON *doc, struct restore_step *step) {
        _cleanup_cjson_ cJSON *body = cJSON_CreateObject();

        if (!body)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(create_fields); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, create_fields[i]);
                cJSON *copy;

                if (!v || cJSON_IsNull(v))
                        continue;
                copy = cJSON_Duplicate(v, true);
                if (!copy || !cJSON_AddItemToObject(body, create_fields[i], copy)) {
                        cJSON_Delete(copy);
                        return -ENOMEM;
                }
        }
        *step = (struct restore_step){ .name = "create" };
        return step_set_body(step, body);
}

static int build_aspect(const cJSON *doc, const struct aspect *a, const struct cluster_info *info,
                        struct restore_step *step, bool *ret_wanted) {
        _cleanup_cjson_ cJSON *body = NULL;
        bool wanted = false;

        for (size_t i = 0; i < ELEMENTSOF(a->fields) && a->fields[i]; i++)
                wanted = wanted || has_content(cJSON_GetObjectItemCaseSensitive(doc, a->fields[i]));
        *ret_wanted = wanted;
        if (!wanted)
                return 0;

        *step = (struct restore_step){ .name = a->name, .endpoint = a->endpoint };
        if (!cluster_version_at_least(info, a->since_major, a->since_minor)) {
                step->skipped = a->too_old;
                return 0;
        }

        body = cJSON_CreateObject();
        if (!body)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(a->fields) && a->fields[i]; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, a->fields[i]);
                cJSON *copy = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();

                if (!copy || !cJSON_AddItemToObject(body, a->fields[i], copy)) {
                        cJSON_Delete(copy);
                        return -ENOMEM;
                }
        }
        return step_set_body(step, body);
}

void restore_plan_done(struct restore_plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].body) {
                        /* A configuration may hold secrets. */
                        explicit_bzero(p->steps[i].body, p->steps[i].body_size);
                        free(p->steps[i].body);
                }
        free(p->steps);
        free(p->lost);
        *p = (struct restore_plan){};
}

int restore_plan_build(const char *document, size_t size, const struct cluster_info *info,
                       struct restore_plan *ret, char **reterr_message) {
        _cleanup_cjson_ cJSON *doc = NULL;
        _cleanup_(restore_plan_done) struct restore_plan p = {};
        int r;

        assert(document);
        assert(info);
        assert(ret);

        r = parse_object(document, size, "The document", &doc, reterr_message);
        if (r < 0)
                return r;
        r = check_types(doc, reterr_message);
        if (r < 0)
                return r;

        p.steps = calloc(1 + ELEMENTSOF(aspects), sizeof(struct restore_step));
        p.lost = calloc(ELEMENTSOF(lost_fields), sizeof(struct restore_lost));
        if (!p.steps || !p.lost)
                return -ENOMEM;

        r = build_create(doc, &p.steps[p.n_steps++]);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(aspects); i++) {
                bool wanted;

                r = build_aspect(doc, &aspects[i], info, &p.steps[p.n_steps], &wanted);
                if (r < 0) {
                        p.n_steps++; /* what was built is freed with the plan */
                        return r;
                }
                if (wanted)
                        p.n_steps++;
        }
        for (size_t i = 0; i < ELEMENTSOF(lost_fields); i++)
                if (has_content(cJSON_GetObjectItemCaseSensitive(doc, lost_fields[i].field)))
                        p.lost[p.n_lost++] = lost_fields[i];

        *ret = p;
        p = (struct restore_plan){};
        return 0;
}

const char *restore_field_state_to_string(enum restore_field_state s) {
        static const char *const table[_RESTORE_FIELD_STATE_MAX] = {
                [RESTORE_FIELD_RESTORED] = "restored",
                [RESTORE_FIELD_DIFFERS] = "differs",
                [RESTORE_FIELD_NOT_RESTORABLE] = "not restorable",
        };

        return s >= 0 && s < _RESTORE_FIELD_STATE_MAX ? table[s] : NULL;
}

void restore_check_done(struct restore_check *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_fields; i++)
                free(c->fields[i].detail);
        free(c->fields);
        *c = (struct restore_check){};
}

static bool is_none(const cJSON *v) {
        return !v || cJSON_IsNull(v);
}

/* Whether every member of object 'a' that is not null has its equal in 'b'. */
static bool same_value(const cJSON *a, const cJSON *b);
static bool members_within(const cJSON *a, const cJSON *b) {
        for (const cJSON *m = a->child; m; m = m->next)
                if (!is_none(m) && !same_value(m, cJSON_GetObjectItemCaseSensitive(b, m->string)))
                        return false;
        return true;
}

/* JSON equality where absent and null are the same, at every depth, and the order of an object's
 * members does not matter: Elasticsearch leaves out members that are null (a configuration
 * entry's tooltip) and orders them its own way (a configuration in a Java HashMap's order). */
static bool same_value(const cJSON *a, const cJSON *b) {
        if (is_none(a) || is_none(b))
                return is_none(a) && is_none(b);
        if (cJSON_IsObject(a) && cJSON_IsObject(b))
                return members_within(a, b) && members_within(b, a);
        if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
                const cJSON *x = a->child, *y = b->child;

                for (; x && y; x = x->next, y = y->next)
                        if (!same_value(x, y))
                                return false;
                return !x && !y;
        }
        return cJSON_Compare(a, b, true);
}

/* A value for a message: JSON, cut short. */
static char *short_value(const cJSON *v) {
        _cleanup_free_ char *s = NULL;

        if (!v)
                return strdup("(absent)");
        s = cJSON_PrintUnformatted(v);
        if (!s)
                return NULL;
        if (strlen(s) > 60)
                memcpy(s + 57, "...", sizeof "...");
        return TAKE_PTR(s);
}

static int add_field(struct restore_check *c, const char *field, enum restore_field_state state,
                     const char *why, const cJSON *wanted, const cJSON *actual) {
        struct restore_field *f = &c->fields[c->n_fields];

        *f = (struct restore_field){ .field = field, .state = state, .why = why };
        if (state == RESTORE_FIELD_DIFFERS) {
                _cleanup_free_ char *w = short_value(wanted), *a = short_value(actual);

                if (!w || !a)
                        return -ENOMEM;
                f->detail = strdup_printf("wanted %s, reads %s", w, a);
                if (!f->detail)
                        return -ENOMEM;
                c->n_differ++;
        } else if (state == RESTORE_FIELD_NOT_RESTORABLE)
                c->n_not_restorable++;
        c->n_fields++;
        return 0;
}

/* The step of the plan that restores 'field', or NULL. */
static const struct restore_step *step_for(const struct restore_plan *plan, const char *field) {
        for (size_t i = 0; i < ELEMENTSOF(create_fields); i++)
                if (streq(create_fields[i], field))
                        return plan->n_steps > 0 ? &plan->steps[0] : NULL;
        for (size_t i = 0; i < ELEMENTSOF(aspects); i++)
                for (size_t k = 0; k < ELEMENTSOF(aspects[i].fields) && aspects[i].fields[k]; k++)
                        if (streq(aspects[i].fields[k], field))
                                for (size_t s = 0; s < plan->n_steps; s++)
                                        if (streq(plan->steps[s].name, aspects[i].name))
                                                return &plan->steps[s];
        return NULL;
}

int restore_check_build(const char *wanted, size_t wanted_size, const char *actual, size_t actual_size,
                        const struct restore_plan *plan, struct restore_check *ret, char **reterr_message) {
        _cleanup_cjson_ cJSON *w = NULL, *a = NULL;
        _cleanup_(restore_check_done) struct restore_check c = {};
        size_t n_max = ELEMENTSOF(create_fields) + 2 * ELEMENTSOF(aspects) + ELEMENTSOF(lost_fields);
        int r;

        assert(wanted);
        assert(actual);
        assert(plan);
        assert(ret);

        r = parse_object(wanted, wanted_size, "The document restored from", &w, reterr_message);
        if (r < 0)
                return r;
        r = parse_object(actual, actual_size, "The connector read back", &a, reterr_message);
        if (r < 0)
                return r;

        c.fields = calloc(n_max, sizeof(struct restore_field));
        if (!c.fields)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(create_fields) + ELEMENTSOF(aspects); i++) {
                bool create = i < ELEMENTSOF(create_fields);
                const struct aspect *asp = create ? NULL : &aspects[i - ELEMENTSOF(create_fields)];
                size_t n = create ? 1 : (asp->fields[1] ? 2 : 1);

                for (size_t k = 0; k < n; k++) {
                        const char *field = create ? create_fields[i] : asp->fields[k];
                        const cJSON *wv = cJSON_GetObjectItemCaseSensitive(w, field);
                        const cJSON *av = cJSON_GetObjectItemCaseSensitive(a, field);
                        const struct restore_step *step = step_for(plan, field);

                        /* The create sends only the fields the document has; an aspect sends all
                         * of its fields once it has one. */
                        bool sent = step && (!create || (wv && !cJSON_IsNull(wv)));

                        if (step && step->skipped)
                                r = add_field(&c, field, RESTORE_FIELD_NOT_RESTORABLE, step->skipped, NULL,
                                              NULL);
                        else if (!sent)
                                continue; /* nothing to restore: what a create gives is the server's */
                        else if (same_value(wv, av))
                                r = add_field(&c, field, RESTORE_FIELD_RESTORED, NULL, NULL, NULL);
                        else
                                r = add_field(&c, field, RESTORE_FIELD_DIFFERS, NULL, wv, av);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < plan->n_lost; i++) {
                r = add_field(&c, plan->lost[i].field, RESTORE_FIELD_NOT_RESTORABLE, plan->lost[i].why, NULL,
                              NULL);
                if (r < 0)
                        return r;
        }

        *ret = c;
        c = (struct restore_check){};
        return 0;
}

char *restore_step_body_for_display(const struct restore_step *step) {
        _cleanup_cjson_ cJSON *body = NULL;
        cJSON *configuration;

        assert(step);
        if (!step->body)
                return NULL;
        body = cJSON_ParseWithLength(step->body, step->body_size);
        if (!body)
                return NULL;
        configuration = cJSON_GetObjectItemCaseSensitive(body, "configuration");
        for (cJSON *e = cJSON_IsObject(configuration) ? configuration->child : NULL; e; e = e->next) {
                cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");

                if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "sensitive")) || !value ||
                    cJSON_IsNull(value) || (cJSON_IsString(value) && value->valuestring[0] == '\0'))
                        continue;
                if (!cJSON_ReplaceItemInObjectCaseSensitive(e, "value", cJSON_CreateString("(sensitive)")))
                        return NULL;
        }
        return cJSON_PrintUnformatted(body);
}
