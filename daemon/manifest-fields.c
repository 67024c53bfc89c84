/* The managed fields of a declared connector, YAML -> JSON, checked against the shapes the
 * connector API's update endpoints take (see manifest-fields.h). The shapes and the versions
 * that take them are in connector-reconciler-manifest(5), MANAGED FIELDS. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cjson-util.h"
#include "manifest-fields.h"
#include "util.h"

#define PATH_BUF 256

/* The largest integer that goes through cJSON unchanged: it prints a number with 15 significant
 * digits ("%1.15g") and checks the round trip only to a relative DBL_EPSILON, so 2^53 - 1 comes
 * out as 9.00719925474099e+15 (one less); integers of up to 15 digits come out exact, as
 * integers. */
#define MAX_EXACT_INTEGER 999999999999999.0

const char *const manifest_field_keys[_MANIFEST_FIELD_MAX] = {
        [MANIFEST_FIELD_LANGUAGE] = "language",           [MANIFEST_FIELD_IS_NATIVE] = "is_native",
        [MANIFEST_FIELD_PIPELINE] = "pipeline",           [MANIFEST_FIELD_SCHEDULING] = "scheduling",
        [MANIFEST_FIELD_FEATURES] = "features",           [MANIFEST_FIELD_FILTERING] = "filtering",
        [MANIFEST_FIELD_CONFIGURATION] = "configuration",
};

struct manifest_fields {
        cJSON *object;
};

struct reader {
        const char *file;
        struct yaml_read_diags *errors;
};

int manifest_fields_new(struct manifest_fields **ret) {
        struct manifest_fields *f = calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->object = cJSON_CreateObject();
        if (!f->object) {
                free(f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

struct manifest_fields *manifest_fields_free(struct manifest_fields *f) {
        if (!f)
                return NULL;
        cJSON_Delete(f->object);
        free(f);
        return NULL;
}

static int add(cJSON *o, const char *key, cJSON *v) {
        if (!v)
                return -ENOMEM;
        if (!cJSON_AddItemToObject(o, key, v)) {
                cJSON_Delete(v);
                return -ENOMEM;
        }
        return 0;
}

int manifest_fields_add_string(struct manifest_fields *f, const char *key, const char *value) {
        return add(f->object, key, cJSON_CreateString(value));
}

int manifest_fields_to_json(const struct manifest_fields *f, char **ret) {
        char *s;

        if (!f->object->child) {
                *ret = NULL;
                return 0;
        }
        s = cJSON_PrintUnformatted(f->object);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int error_at(struct reader *rd, const struct yaml_read_node *n, const char *fmt, ...) _printf_(3, 4);
static int error_at(struct reader *rd, const struct yaml_read_node *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = yaml_read_diags_addv(rd->errors, rd->file, n->line, n->column, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static int type_error(struct reader *rd, const struct yaml_read_node *n, const char *path,
                      const char *want) {
        return yaml_read_type_error(rd->errors, rd->file, n, path, want);
}

/* A scalar as JSON: the core schema's types; a YAML 1.1 boolean, .inf and .nan are refused (JSON
 * has neither, and 'yes' is a string to some readers and a boolean to others). */
static int scalar_to_json(struct reader *rd, const struct yaml_read_node *n, const char *path, cJSON **ret) {
        double d;
        char *end;

        assert(n->kind == YAML_READ_SCALAR);
        switch (n->type) {
        case YAML_READ_NULL:
                *ret = cJSON_CreateNull();
                break;
        case YAML_READ_BOOL:
                *ret = cJSON_CreateBool(n->value[0] == 't' || n->value[0] == 'T');
                break;
        case YAML_READ_INT:
                errno = 0;
                if (n->value[0] == '0' && (n->value[1] == 'x' || n->value[1] == 'o'))
                        d = (double) strtoull(n->value + 2, &end, n->value[1] == 'x' ? 16 : 8);
                else
                        d = strtod(n->value, &end);
                if (errno != 0 || *end != '\0' || fabs(d) > MAX_EXACT_INTEGER)
                        return error_at(
                                rd, n, "'%s' is %s, past the integers carried exactly (15 digits): quote it",
                                path, n->value);
                *ret = cJSON_CreateNumber(d);
                break;
        case YAML_READ_FLOAT:
                errno = 0;
                d = strtod(n->value, &end);
                if (errno != 0 || *end != '\0' || !isfinite(d))
                        return error_at(rd, n, "'%s' is %s, which JSON cannot carry: quote it", path,
                                        n->value);
                *ret = cJSON_CreateNumber(d);
                break;
        case YAML_READ_BOOL_1_1:
                return error_at(
                        rd, n,
                        "'%s' is '%s', a boolean in YAML 1.1 and a string in YAML 1.2: write true or "
                        "false, or quote it",
                        path, n->value);
        case YAML_READ_STRING:
                *ret = cJSON_CreateString(n->value);
                break;
        default:
                return -EINVAL;
        }
        return *ret ? 0 : -ENOMEM;
}

/* Any YAML value as JSON (an advanced snippet). */
static int any_to_json(struct reader *rd, const struct yaml_read_node *n, const char *path, cJSON **ret) {
        _cleanup_cjson_ cJSON *v = NULL;
        char sub[PATH_BUF];
        bool bad = false;
        int r;

        if (!n)
                return -EINVAL;
        if (n->kind == YAML_READ_SCALAR)
                return scalar_to_json(rd, n, path, ret);
        v = n->kind == YAML_READ_MAPPING ? cJSON_CreateObject() : cJSON_CreateArray();
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                bool mapping = n->kind == YAML_READ_MAPPING;
                const struct yaml_read_node *c = mapping ? n->children[i + 1] : n->children[i];
                const char *key = mapping ? n->children[i]->value : NULL;
                cJSON *item = NULL;

                if (mapping) {
                        (void) yaml_read_path_key(sub, sizeof sub, path, key);
                        i++; /* the key's value is c */
                } else
                        (void) yaml_read_path_index(sub, sizeof sub, path, i);
                if (!c)
                        return -EINVAL;
                r = any_to_json(rd, c, sub, &item);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                if (key)
                        r = add(v, key, item);
                else if (!cJSON_AddItemToArray(v, item)) {
                        cJSON_Delete(item);
                        r = -ENOMEM;
                }
                if (r < 0)
                        return r;
        }
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(v);
        return 0;
}

/* How one key of a fixed-shape mapping is read. */
enum shape {
        SHAPE_STRING,     /* a non-empty string */
        SHAPE_BOOL,       /* true or false */
        SHAPE_INT,        /* an integer, 0 or more */
        SHAPE_ENABLED,    /* a mapping {enabled: BOOL} */
        SHAPE_SCHEDULE,   /* a mapping {enabled: BOOL, interval: STRING} */
        SHAPE_SYNC_RULES, /* a mapping {advanced: ENABLED, basic: ENABLED} */
        SHAPE_ANY,        /* any value */
};

struct shape_key {
        const char *key;
        enum shape shape;
        const char *one_of; /* SHAPE_STRING: the values allowed, '|'-separated, or NULL */
};

static int read_shape(struct reader *rd, const struct yaml_read_node *n, const char *path, enum shape shape,
                      const char *one_of, cJSON **ret);

/* A mapping whose keys are 'keys', each of its shape; 'required': every key must be there, else
 * at least one. */
static int read_mapping(struct reader *rd, const struct yaml_read_node *n, const char *path,
                        const struct shape_key *keys, size_t n_keys, bool required, cJSON **ret) {
        const struct yaml_read_node *v[16];
        const char *names[16];
        _cleanup_cjson_ cJSON *o = NULL;
        char sub[PATH_BUF];
        bool bad = false, any = false;
        int r;

        assert(n_keys <= ELEMENTSOF(v));
        if (n->kind != YAML_READ_MAPPING)
                return type_error(rd, n, path, "a mapping");
        for (size_t i = 0; i < n_keys; i++)
                names[i] = keys[i].key;
        r = yaml_read_mapping_slots(n, rd->file, path, names, n_keys, v, rd->errors);
        if (r == -ENOMEM)
                return r;
        bad = r < 0;
        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n_keys; i++) {
                cJSON *item = NULL;

                if (!v[i]) {
                        if (required) {
                                r = error_at(rd, n, "missing required key '%s'",
                                             yaml_read_path_key(sub, sizeof sub, path, keys[i].key));
                                if (r == -ENOMEM)
                                        return r;
                                bad = true;
                        }
                        continue;
                }
                any = true;
                r = read_shape(rd, v[i], yaml_read_path_key(sub, sizeof sub, path, keys[i].key),
                               keys[i].shape, keys[i].one_of, &item);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                r = add(o, keys[i].key, item);
                if (r < 0)
                        return r;
        }
        if (!any && !bad)
                return error_at(rd, n, "'%s' is empty: declare what to manage, or leave the key out", path);
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

static bool one_of_has(const char *one_of, const char *value) {
        size_t l = strlen(value);

        for (const char *p = one_of;;) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t) (bar - p) : strlen(p);

                if (n == l && strncmp(p, value, l) == 0)
                        return true;
                if (!bar)
                        return false;
                p = bar + 1;
        }
}

static int read_shape(struct reader *rd, const struct yaml_read_node *n, const char *path, enum shape shape,
                      const char *one_of, cJSON **ret) {
        static const struct shape_key enabled[] = { { "enabled", SHAPE_BOOL, NULL } };
        static const struct shape_key schedule[] = {
                { "enabled", SHAPE_BOOL, NULL },
                { "interval", SHAPE_STRING, NULL },
        };
        static const struct shape_key sync_rules[] = {
                { "advanced", SHAPE_ENABLED, NULL },
                { "basic", SHAPE_ENABLED, NULL },
        };

        switch (shape) {
        case SHAPE_STRING:
                if (!yaml_read_is_string(n))
                        return type_error(rd, n, path, "a string");
                if (n->length == 0)
                        return error_at(rd, n, "'%s' must not be empty", path);
                if (one_of && !one_of_has(one_of, n->value)) {
                        char list[128];
                        size_t j = 0;

                        for (const char *p = one_of; *p && j < sizeof list - 3; p++)
                                if (*p == '|') {
                                        list[j++] = ',';
                                        list[j++] = ' ';
                                } else
                                        list[j++] = *p;
                        list[j] = '\0';
                        return error_at(rd, n, "'%s' is '%s'; it must be one of: %s", path, n->value, list);
                }
                *ret = cJSON_CreateString(n->value);
                break;
        case SHAPE_BOOL:
                if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_BOOL)
                        return type_error(rd, n, path, "true or false");
                *ret = cJSON_CreateBool(n->value[0] == 't' || n->value[0] == 'T');
                break;
        case SHAPE_INT: {
                char *end;
                long long v;

                if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_INT)
                        return type_error(rd, n, path, "an integer");
                errno = 0;
                v = strtoll(n->value, &end, 10);
                if (errno != 0 || *end != '\0' || v < 0 || v > INT32_MAX)
                        return error_at(rd, n, "'%s' must be an integer from 0 to %d", path, INT32_MAX);
                *ret = cJSON_CreateNumber((double) v);
                break;
        }
        case SHAPE_ENABLED:
                return read_mapping(rd, n, path, enabled, ELEMENTSOF(enabled), true, ret);
        case SHAPE_SCHEDULE:
                return read_mapping(rd, n, path, schedule, ELEMENTSOF(schedule), false, ret);
        case SHAPE_SYNC_RULES:
                return read_mapping(rd, n, path, sync_rules, ELEMENTSOF(sync_rules), false, ret);
        case SHAPE_ANY:
                return any_to_json(rd, n, path, ret);
        }
        return *ret ? 0 : -ENOMEM;
}

/* filtering.rules: a list of rules, each as Elasticsearch's FilteringRule takes it. */
static int read_rules(struct reader *rd, const struct yaml_read_node *n, const char *path, cJSON **ret) {
        static const struct shape_key rule[] = {
                { "id", SHAPE_STRING, NULL },
                { "policy", SHAPE_STRING, "include|exclude" },
                { "field", SHAPE_STRING, NULL },
                { "rule", SHAPE_STRING, "equals|contains|ends_with|starts_with|regex|>|<" },
                { "value", SHAPE_STRING, NULL },
                { "order", SHAPE_INT, NULL },
        };
        _cleanup_cjson_ cJSON *a = NULL;
        char sub[PATH_BUF];
        bool bad = false;
        int r;

        if (n->kind != YAML_READ_SEQUENCE)
                return type_error(rd, n, path, "a list");
        if (n->n_children == 0)
                return error_at(
                        rd, n,
                        "'%s' is an empty list: Elasticsearch keeps at least its default rule; leave "
                        "the key out, or declare the rules",
                        path);
        a = cJSON_CreateArray();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                cJSON *item = NULL;

                r = read_mapping(rd, n->children[i], yaml_read_path_index(sub, sizeof sub, path, i), rule,
                                 ELEMENTSOF(rule), true, &item);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                if (!cJSON_AddItemToArray(a, item)) {
                        cJSON_Delete(item);
                        return -ENOMEM;
                }
        }
        /* Two rules with one id: the draft would hold both, and no reading of "this rule" is right. */
        for (const cJSON *x = a->child; x && !bad; x = x->next)
                for (const cJSON *y = x->next; y; y = y->next)
                        if (streq(cJSON_GetObjectItemCaseSensitive(x, "id")->valuestring,
                                  cJSON_GetObjectItemCaseSensitive(y, "id")->valuestring))
                                return error_at(rd, n, "'%s' has two rules with the id '%s'", path,
                                                cJSON_GetObjectItemCaseSensitive(y, "id")->valuestring);
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(a);
        return 0;
}

static int read_filtering(struct reader *rd, const struct yaml_read_node *n, const char *path, cJSON **ret) {
        static const char *const keys[] = { "rules", "advanced_snippet" };
        static const char *const snippet_keys[] = { "value" };
        const struct yaml_read_node *v[2], *s[1] = {};
        _cleanup_cjson_ cJSON *o = NULL;
        char sub[PATH_BUF], sub2[PATH_BUF];
        bool bad;
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(rd, n, path, "a mapping");
        r = yaml_read_mapping_slots(n, rd->file, path, keys, ELEMENTSOF(keys), v, rd->errors);
        if (r == -ENOMEM)
                return r;
        bad = r < 0;
        if (!v[0] && !v[1] && !bad)
                return error_at(rd, n, "'%s' is empty: declare rules, advanced_snippet or both", path);
        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        if (v[0]) {
                cJSON *rules = NULL;

                r = read_rules(rd, v[0], yaml_read_path_key(sub, sizeof sub, path, "rules"), &rules);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = true;
                else if ((r = add(o, "rules", rules)) < 0)
                        return r;
        }
        if (v[1]) {
                (void) yaml_read_path_key(sub, sizeof sub, path, "advanced_snippet");
                if (v[1]->kind != YAML_READ_MAPPING)
                        r = type_error(rd, v[1], sub, "a mapping with a 'value'");
                else {
                        r = yaml_read_mapping_slots(v[1], rd->file, sub, snippet_keys, 1, s, rd->errors);
                        if (r == 0 && !s[0])
                                r = error_at(rd, v[1], "missing required key '%s.value'", sub);
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = true;
                else {
                        _cleanup_cjson_ cJSON *snippet = cJSON_CreateObject();
                        cJSON *value = NULL;

                        if (!snippet)
                                return -ENOMEM;
                        r = any_to_json(rd, s[0], yaml_read_path_key(sub2, sizeof sub2, sub, "value"),
                                        &value);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                bad = true;
                        else if (!cJSON_IsObject(value) && !cJSON_IsArray(value)) {
                                cJSON_Delete(value);
                                r = type_error(rd, s[0], sub2, "a mapping or a list (the snippet's JSON)");
                                if (r == -ENOMEM)
                                        return r;
                                bad = true;
                        } else if ((r = add(snippet, "value", value)) < 0 ||
                                   (r = add(o, "advanced_snippet", TAKE_PTR(snippet))) < 0)
                                return r;
                }
        }
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

bool manifest_key_looks_secret(const char *key) {
        static const char *const within[] = { "password", "passwd", "token", "secret", "credential" };
        const char *p = key;

        while (*p) {
                char word[256];
                size_t n = 0;

                while (*p && !isalnum((unsigned char) *p))
                        p++;
                while (*p && isalnum((unsigned char) *p)) {
                        if (n < sizeof word - 1)
                                word[n++] = (char) tolower((unsigned char) *p);
                        if (islower((unsigned char) p[0]) && isupper((unsigned char) p[1])) {
                                p++;
                                break;
                        }
                        p++;
                }
                word[n] = '\0';
                if (n == 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(within); i++)
                        if (strstr(word, within[i]))
                                return true;
                if (n >= 3 && streq(word + n - 3, "key"))
                        return true;
        }
        return false;
}

bool manifest_secret_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > 255 || name[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("._-", name[i]))
                        return false;
        return true;
}

/* One configuration value: a scalar, a list of scalars, or {secret: NAME}. */
static int read_config_value(struct reader *rd, const char *key, const struct yaml_read_node *n,
                             const char *path, cJSON **ret) {
        static const char *const secret_keys[] = { "secret" };
        const struct yaml_read_node *s[1];
        _cleanup_cjson_ cJSON *v = NULL;
        int r;

        if (n->kind == YAML_READ_MAPPING) {
                r = yaml_read_mapping_slots(n, rd->file, path, secret_keys, 1, s, rd->errors);
                if (r < 0)
                        return r;
                if (!s[0])
                        return error_at(rd, n, "'%s' must be a value, a list of values, or {secret: NAME}",
                                        path);
                if (!yaml_read_is_string(s[0]) || !manifest_secret_name_valid(s[0]->value))
                        return error_at(rd, s[0],
                                        "'%s.secret' must name a file in the secrets folder: 1 to 255 of "
                                        "A-Z a-z 0-9 . _ -, not starting with '.'",
                                        path);
                v = cJSON_CreateObject();
                if (!v)
                        return -ENOMEM;
                r = add(v, "secret", cJSON_CreateString(s[0]->value));
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(v);
                return 0;
        }
        if (manifest_key_looks_secret(key))
                return error_at(
                        rd, n,
                        "'%s' looks like a secret (by its name), and secrets never go in a manifest: "
                        "write {secret: NAME} and put the value in the file NAME of the secrets folder "
                        "($CREDENTIALS_DIRECTORY, or secrets_dir in the config)",
                        path);
        if (n->kind == YAML_READ_SEQUENCE) {
                char sub[PATH_BUF];
                bool bad = false;

                v = cJSON_CreateArray();
                if (!v)
                        return -ENOMEM;
                for (size_t i = 0; i < n->n_children; i++) {
                        cJSON *item = NULL;

                        (void) yaml_read_path_index(sub, sizeof sub, path, i);
                        if (n->children[i]->kind != YAML_READ_SCALAR)
                                r = type_error(rd, n->children[i], sub, "a value");
                        else
                                r = scalar_to_json(rd, n->children[i], sub, &item);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                bad = true;
                                continue;
                        }
                        if (!cJSON_AddItemToArray(v, item)) {
                                cJSON_Delete(item);
                                return -ENOMEM;
                        }
                }
                if (bad)
                        return -EINVAL;
                *ret = TAKE_PTR(v);
                return 0;
        }
        if (n->type == YAML_READ_NULL)
                return error_at(rd, n, "'%s' is null: give a value, or leave the key out to leave it alone",
                                path);
        return scalar_to_json(rd, n, path, ret);
}

static int read_configuration(struct reader *rd, const struct yaml_read_node *n, const char *path,
                              cJSON **ret) {
        _cleanup_cjson_ cJSON *o = NULL;
        char sub[PATH_BUF];
        bool bad = false;
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(rd, n, path, "a mapping of configuration keys to values");
        if (n->n_children == 0)
                return error_at(rd, n, "'%s' is empty: declare values, or leave the key out", path);
        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i += 2) {
                const struct yaml_read_node *k = n->children[i];
                cJSON *item = NULL;

                (void) yaml_read_path_key(sub, sizeof sub, path, k->value);
                if (k->kind != YAML_READ_SCALAR || k->length == 0)
                        r = error_at(rd, k, "'%s' has a key that is not a non-empty string", path);
                else
                        r = read_config_value(rd, k->value, n->children[i + 1], sub, &item);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                r = add(o, k->value, item);
                if (r < 0)
                        return r;
        }
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

int manifest_fields_read(struct manifest_fields *f, enum manifest_field which,
                         const struct yaml_read_node *n, const char *file, const char *path,
                         struct yaml_read_diags *errors) {
        static const struct shape_key pipeline[] = {
                { "name", SHAPE_STRING, NULL },
                { "extract_binary_content", SHAPE_BOOL, NULL },
                { "reduce_whitespace", SHAPE_BOOL, NULL },
                { "run_ml_inference", SHAPE_BOOL, NULL },
        };
        static const struct shape_key scheduling[] = {
                { "full", SHAPE_SCHEDULE, NULL },
                { "incremental", SHAPE_SCHEDULE, NULL },
                { "access_control", SHAPE_SCHEDULE, NULL },
        };
        static const struct shape_key features[] = {
                { "document_level_security", SHAPE_ENABLED, NULL },
                { "incremental_sync", SHAPE_ENABLED, NULL },
                { "native_connector_api_keys", SHAPE_ENABLED, NULL },
                { "sync_rules", SHAPE_SYNC_RULES, NULL },
        };
        struct reader rd = { .file = file, .errors = errors };
        const char *key = manifest_field_keys[which];
        char sub[PATH_BUF];
        cJSON *v = NULL;
        int r;

        (void) yaml_read_path_key(sub, sizeof sub, path, key);
        switch (which) {
        case MANIFEST_FIELD_LANGUAGE:
                r = read_shape(&rd, n, sub, SHAPE_STRING, NULL, &v);
                break;
        case MANIFEST_FIELD_IS_NATIVE:
                r = read_shape(&rd, n, sub, SHAPE_BOOL, NULL, &v);
                break;
        case MANIFEST_FIELD_PIPELINE:
                r = read_mapping(&rd, n, sub, pipeline, ELEMENTSOF(pipeline), false, &v);
                break;
        case MANIFEST_FIELD_SCHEDULING:
                r = read_mapping(&rd, n, sub, scheduling, ELEMENTSOF(scheduling), false, &v);
                break;
        case MANIFEST_FIELD_FEATURES:
                r = read_mapping(&rd, n, sub, features, ELEMENTSOF(features), false, &v);
                break;
        case MANIFEST_FIELD_FILTERING:
                r = read_filtering(&rd, n, sub, &v);
                break;
        case MANIFEST_FIELD_CONFIGURATION:
                r = read_configuration(&rd, n, sub, &v);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        return add(f->object, key, v);
}
