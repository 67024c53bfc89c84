/* Manifests as plain structs: the entry points (manifest_load(), manifest_parse(),
 * manifest_digest()), each ConnectorSet document read into a struct plan_set with its checks
 * (header, metadata, selector, prune, connectors and their ids), the checks across files (set
 * names and ids declared twice), and the id index behind manifest_find(). The files themselves
 * are read by manifest-walk.c. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "manifest.h"
#include "manifest-fields.h"
#include "manifest-walk.h"
#include "plan.h"
#include "sha256.h"
#include "utf8.h"
#include "util.h"
#include "yaml-read.h"

/* Room for a dotted key path in messages, e.g. "spec.connectors[123].service_type". */
#define PATH_BUF 128

struct manifest_index_entry {
        const char *id; /* borrowed from the set */
        size_t set;
        size_t connector;
        size_t order; /* position in the order read, to keep the first declaration first */
};

struct manifest *manifest_free(struct manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_sets; i++) {
                plan_set_done(m->sets + i);
                free(m->sources[i].connectors);
        }
        free(m->sets);
        free(m->sources);
        for (size_t i = 0; i < m->n_files; i++)
                free(m->files[i]);
        free(m->files);
        free(m->index);
        yaml_read_diags_done(&m->skipped);
        free(m);
        return NULL;
}

struct loader {
        struct manifest *m;
        size_t n_sets_allocated;
        size_t n_sources_allocated;
        size_t n_files_allocated;
        struct yaml_read_diags *errors;
        const char *file; /* the file being read (m->files[...]) */
};

static int error_at(struct loader *l, const struct yaml_read_node *n, const char *fmt, ...) _printf_(3, 4);
static int error_at(struct loader *l, const struct yaml_read_node *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = yaml_read_diags_addv(l->errors, l->file, n->line, n->column, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static int type_error(struct loader *l, const struct yaml_read_node *n, const char *path, const char *want) {
        return yaml_read_type_error(l->errors, l->file, n, path, want);
}

/* The string value of PREFIX.KEY; the path is only formatted for a message. Returns 0 and a copy,
 * or -EINVAL after reporting, or -ENOMEM. */
static int get_string(struct loader *l, const struct yaml_read_node *n, const char *prefix, const char *key,
                      bool allow_empty, char **ret) {
        char path[PATH_BUF];
        char *s;

        if (!yaml_read_is_string(n))
                return type_error(l, n, yaml_read_path_key(path, sizeof(path), prefix, key), "a string");
        if (!allow_empty && n->length == 0)
                return error_at(l, n, "'%s' must not be empty",
                                yaml_read_path_key(path, sizeof(path), prefix, key));
        s = strdup(n->value);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int get_bool(struct loader *l, const struct yaml_read_node *n, const char *path, bool *ret) {
        if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_BOOL)
                return type_error(l, n, path, "true or false");
        *ret = n->value[0] == 't' || n->value[0] == 'T';
        return 0;
}

int manifest_check_id(const char *s, size_t n, struct manifest_id_error *reterr) {
        assert(s || n == 0);

        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                enum manifest_id_problem problem;
                uint32_t cp = c;
                size_t k = 1;

                if (c > 0x20 && c < 0x7f) {
                        i++; /* the common case, answered at once */
                        continue;
                }
                if (c >= 0x80)
                        k = utf8_decode_n(s + i, n - i, &cp);
                if (k == 0) {
                        problem = MANIFEST_ID_INVALID_UTF8;
                        k = 1;
                } else if (utf8_is_control(cp))
                        problem = MANIFEST_ID_CONTROL;
                else if (utf8_is_format(cp))
                        problem = MANIFEST_ID_FORMAT;
                else if (utf8_is_line_separator(cp))
                        problem = MANIFEST_ID_SEPARATOR;
                else if (utf8_is_white_space(cp) && (cp != ' ' || i == 0 || i + 1 == n))
                        problem = MANIFEST_ID_WHITE_SPACE;
                else {
                        i += k;
                        continue;
                }
                if (reterr)
                        *reterr = (struct manifest_id_error){
                                .problem = problem,
                                .offset = i,
                                .length = k,
                                .cp = cp,
                        };
                return -EINVAL;
        }
        return 0;
}

/* How much of an id an error message quotes before the character it is about. */
#define ID_CONTEXT_MAX 64U

/* Reports the character of 'n' (a string) that manifest_check_id() refused, e.g. "'PATH' holds
 * U+200B ZERO WIDTH SPACE (an invisible format character) after 'team-a-wiki': ids that only look
 * alike are refused". 'what' names the kind of value, in the plural. The text quoted is raw: the
 * message as a whole is escaped when it is stored. Returns -EINVAL, or -ENOMEM. */
static int id_error(struct loader *l, const struct yaml_read_node *n, const char *path, const char *what,
                    const struct manifest_id_error *e) {
        const char *name = utf8_name(e->cp), *kind = "";
        size_t start = 0;
        char character[128];

        switch (e->problem) {
        case MANIFEST_ID_INVALID_UTF8:
                break;
        case MANIFEST_ID_CONTROL:
                kind = " (a control character)";
                break;
        case MANIFEST_ID_FORMAT:
                kind = " (an invisible format character)";
                break;
        case MANIFEST_ID_WHITE_SPACE:
                if (e->cp != ' ' && e->offset > 0 && e->offset + e->length < n->length)
                        kind = " (white space other than U+0020 SPACE)";
                break;
        case MANIFEST_ID_SEPARATOR:
        case _MANIFEST_ID_PROBLEM_MAX:
                break;
        }
        if (e->problem == MANIFEST_ID_INVALID_UTF8)
                (void) snprintf(character, sizeof(character), "the byte 0x%02x, which is not valid UTF-8",
                                (unsigned) e->cp);
        else
                (void) snprintf(character, sizeof(character), "U+%04X%s%s%s", (unsigned) e->cp,
                                name ? " " : "", name ?: "", kind);

        if (e->offset == 0)
                return error_at(l, n, "'%s' starts with %s: %s that only look alike are refused", path,
                                character, what);
        if (e->problem == MANIFEST_ID_WHITE_SPACE && e->offset + e->length == n->length)
                return error_at(l, n, "'%s' ends with %s: %s that only look alike are refused", path,
                                character, what);
        /* The end of what comes before, from a character boundary: the part next to it. */
        if (e->offset > ID_CONTEXT_MAX) {
                start = e->offset - ID_CONTEXT_MAX;
                while (start < e->offset && ((unsigned char) n->value[start] & 0xc0) == 0x80)
                        start++;
        }
        return error_at(l, n, "'%s' holds %s after '%s%.*s': %s that only look alike are refused", path,
                        character, start > 0 ? "..." : "", (int) (e->offset - start), n->value + start,
                        what);
}

enum selector_key {
        SELECTOR_ID_PREFIX,
        SELECTOR_SERVICE_TYPES,
        SELECTOR_INDEX_NAME_PREFIX,
        _SELECTOR_MAX,
};

static const char *const selector_keys[_SELECTOR_MAX] = {
        [SELECTOR_ID_PREFIX] = "id_prefix",
        [SELECTOR_SERVICE_TYPES] = "service_types",
        [SELECTOR_INDEX_NAME_PREFIX] = "index_name_prefix",
};

/* A selector key: a string or a non-empty list of non-empty strings. */
static int get_selector_list(struct loader *l, const struct yaml_read_node *n, enum selector_key key,
                             char ***ret, size_t *ret_n) {
        static const char *const what[_SELECTOR_MAX] = {
                [SELECTOR_ID_PREFIX] = "id prefixes",
                [SELECTOR_SERVICE_TYPES] = "service types",
                [SELECTOR_INDEX_NAME_PREFIX] = "index name prefixes",
        };
        char path[PATH_BUF], item_path[PATH_BUF];
        struct manifest_id_error e;
        bool prefix = key != SELECTOR_SERVICE_TYPES;
        _cleanup_strv_free_ char **list = NULL;
        size_t count, k = 0;
        int r = 0;

        (void) yaml_read_path_key(path, sizeof(path), "spec.selector", selector_keys[key]);

        if (n->kind == YAML_READ_SEQUENCE) {
                if (n->n_children == 0)
                        return error_at(l, n,
                                        "'%s' is an empty list, which matches no connector: omit the key to "
                                        "match all",
                                        path);
                count = n->n_children;
        } else if (yaml_read_is_string(n))
                count = 1;
        else
                return type_error(l, n, path, "a string or a list of strings");

        list = calloc(count + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                const struct yaml_read_node *item = n->kind == YAML_READ_SEQUENCE ? n->children[i] : n;
                const char *where = n->kind == YAML_READ_SEQUENCE
                                            ? yaml_read_path_index(item_path, sizeof(item_path), path, i)
                                            : path;
                int q;

                if (!yaml_read_is_string(item))
                        q = type_error(l, item, where, "a string");
                else if (item->length == 0)
                        q = error_at(l, item, "'%s' is empty: %s", where,
                                     prefix ? "an empty prefix matches every connector; omit the key instead"
                                            : "an empty service type matches no connector");
                else if (manifest_check_id(item->value, item->length, &e) < 0)
                        q = id_error(l, item, where, what[key], &e);
                else {
                        list[k] = strdup(item->value);
                        q = list[k] ? 0 : -ENOMEM;
                        if (q == 0)
                                k++;
                }
                if (q == -ENOMEM)
                        return q;
                if (q < 0)
                        r = q;
        }
        if (r < 0 || k == 0)
                return r < 0 ? r : -EINVAL;
        *ret = TAKE_PTR(list);
        *ret_n = k;
        return 0;
}

static int parse_selector(struct loader *l, const struct yaml_read_node *n, struct plan_set *s,
                          const struct yaml_read_node **ret_nodes) {
        char ***const lists[_SELECTOR_MAX] = {
                [SELECTOR_ID_PREFIX] = &s->id_prefixes,
                [SELECTOR_SERVICE_TYPES] = &s->service_types,
                [SELECTOR_INDEX_NAME_PREFIX] = &s->index_name_prefixes,
        };
        size_t *const counts[_SELECTOR_MAX] = {
                [SELECTOR_ID_PREFIX] = &s->n_id_prefixes,
                [SELECTOR_SERVICE_TYPES] = &s->n_service_types,
                [SELECTOR_INDEX_NAME_PREFIX] = &s->n_index_name_prefixes,
        };
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "spec.selector", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "spec.selector", selector_keys, _SELECTOR_MAX, ret_nodes,
                                    l->errors);
        if (r == -ENOMEM)
                return r;
        for (int k = 0; k < _SELECTOR_MAX; k++) {
                if (!ret_nodes[k])
                        continue;
                r = get_selector_list(l, ret_nodes[k], k, lists[k], counts[k]);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* spec.prune.purge_after: a duration as the config file writes them, or off (0). */
static int get_purge_after(struct loader *l, const struct yaml_read_node *n, uint64_t *ret) {
        static const char path[] = "spec.prune.purge_after";
        usec_t v;
        int r;

        /* A plain off is a YAML 1.1 boolean to the reader, but here it can only mean the word. */
        if (n->kind == YAML_READ_SCALAR && (n->type == YAML_READ_STRING || n->type == YAML_READ_BOOL_1_1) &&
            streq(n->value, "off")) {
                *ret = 0;
                return 0;
        }
        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT)
                return error_at(l, n, "'%s' needs a unit (ms, s, m or h), e.g. '%sh', or off", path,
                                n->value);
        if (!yaml_read_is_string(n))
                return type_error(l, n, path, "a duration such as 168h, or off");
        r = duration_parse(n->value, &v);
        if (r == -ERANGE)
                return error_at(l, n, "'%s' is too long a duration: '%s'", path, n->value);
        if (r < 0)
                return error_at(
                        l, n,
                        "'%s' is not a valid duration: '%s' (write an integer and a unit, ms, s, m or "
                        "h, e.g. 168h, or off)",
                        path, n->value);
        if (v == 0)
                return error_at(l, n, "'%s' must be longer than 0: write 'off' to turn it off", path);
        *ret = v;
        return 0;
}

static int parse_prune(struct loader *l, const struct yaml_read_node *n, struct plan_set *s) {
        static const char *const keys[] = { "enabled", "delete_sync_jobs", "hard", "allow_empty",
                                            "purge_after" };
        bool *fields[] = { &s->prune_enabled, &s->delete_sync_jobs, &s->hard, &s->allow_empty };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        char path[PATH_BUF];
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "spec.prune", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "spec.prune", keys, ELEMENTSOF(keys), v, l->errors);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (!v[i])
                        continue;
                r = get_bool(l, v[i], yaml_read_path_key(path, sizeof(path), "spec.prune", keys[i]),
                             fields[i]);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[4]) {
                r = get_purge_after(l, v[4], &s->purge_after_usec);
                if (r == -ENOMEM)
                        return r;
                /* A hard delete leaves nothing to purge: the two together are a misreading. */
                if (r >= 0 && s->purge_after_usec > 0 && s->hard) {
                        r = error_at(l, v[4],
                                     "'spec.prune.purge_after' purges soft-deleted connectors, but "
                                     "'spec.prune.hard: true' deletes them for good at once: drop one of "
                                     "the two");
                        if (r == -ENOMEM)
                                return r;
                }
        }
        return 0;
}

static int parse_lifecycle(struct loader *l, const struct yaml_read_node *n, struct plan_set *s) {
        static const char *const keys[] = { "create", "update", "allow_disruptive", "revive_soft_deleted" };
        bool *fields[] = { &s->lifecycle.create, &s->lifecycle.update, &s->lifecycle.allow_disruptive,
                           &s->lifecycle.revive_soft_deleted };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        char path[PATH_BUF];
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "spec.lifecycle", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "spec.lifecycle", keys, ELEMENTSOF(keys), v, l->errors);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (!v[i])
                        continue;
                r = get_bool(l, v[i], yaml_read_path_key(path, sizeof(path), "spec.lifecycle", keys[i]),
                             fields[i]);
                if (r == -ENOMEM)
                        return r;
        }
        /* Disruptive changes are updates: alone the key would do nothing, which is a misreading. */
        if (s->lifecycle.allow_disruptive && !s->lifecycle.update && !s->lifecycle.create)
                return error_at(l, v[2],
                                "'spec.lifecycle.allow_disruptive' lets updates change index_name, "
                                "service_type and is_native, but this set neither creates nor updates: set "
                                "'spec.lifecycle.update: true' too, or drop it");
        if (s->lifecycle.revive_soft_deleted && !s->lifecycle.create)
                return error_at(
                        l, v[3],
                        "'spec.lifecycle.revive_soft_deleted' creates over soft-deleted connectors, but "
                        "this set does not create: set 'spec.lifecycle.create: true' too, or drop it");
        return 0;
}

/* Whether 's' is one of the 'n' items of 'l', or with 'prefix' starts with one. */
static bool matches_any(char *const *l, size_t n, bool prefix, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (prefix ? startswith(s, l[i]) != NULL : streq(s, l[i]))
                        return true;
        return false;
}

/* "'a', 'b', 'c'", for messages; cut after a few items. */
static char *join_quoted(char *const *l, size_t n) {
        size_t shown = MIN(n, (size_t) 5), len = 1;
        char *s, *p;

        for (size_t i = 0; i < shown; i++)
                len += strlen(l[i]) + 4;
        len += 8;
        s = malloc(len);
        if (!s)
                return NULL;
        p = s;
        for (size_t i = 0; i < shown; i++)
                p += sprintf(p, "%s'%s'", i > 0 ? ", " : "", l[i]);
        if (shown < n)
                p += sprintf(p, ", ...");
        *p = 0;
        return s;
}

/* A declared connector that its own set's selector excludes could never be owned by that set:
 * reports each contradicting field with the selector key it contradicts. */
static int check_against_selector(struct loader *l, const struct plan_set *s, const struct plan_declared *d,
                                  const struct yaml_read_node *const *field_nodes,
                                  const struct yaml_read_node *const *selector_nodes) {
        static const char *const what[_SELECTOR_MAX] = {
                [SELECTOR_ID_PREFIX] = "its id does not start with",
                [SELECTOR_SERVICE_TYPES] = "its service_type is not",
                [SELECTOR_INDEX_NAME_PREFIX] = "its index_name does not start with",
        };
        for (int k = 0; k < _SELECTOR_MAX; k++) {
                char *const *list = k == SELECTOR_ID_PREFIX       ? s->id_prefixes
                                    : k == SELECTOR_SERVICE_TYPES ? s->service_types
                                                                  : s->index_name_prefixes;
                size_t n = k == SELECTOR_ID_PREFIX       ? s->n_id_prefixes
                           : k == SELECTOR_SERVICE_TYPES ? s->n_service_types
                                                         : s->n_index_name_prefixes;
                const char *value = k == SELECTOR_ID_PREFIX       ? d->id
                                    : k == SELECTOR_SERVICE_TYPES ? d->service_type
                                                                  : d->index_name;
                _cleanup_free_ char *items = NULL;
                int r;

                if (!value || n == 0 || matches_any(list, n, k != SELECTOR_SERVICE_TYPES, value))
                        continue;
                items = join_quoted(list, n);
                if (!items)
                        return -ENOMEM;
                r = error_at(
                        l, field_nodes[k],
                        "connector '%s' can never be owned by its set '%s': %s %s%s (spec.selector.%s at "
                        "line %u, column %u)",
                        d->id, strna(s->name), what[k], n > 1 ? "any of " : "", items, selector_keys[k],
                        selector_nodes[k]->line, selector_nodes[k]->column);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* The string keys first: the managed fields that manifest-fields.c reads follow them. */
enum connector_key {
        CONNECTOR_ID,
        CONNECTOR_NAME,
        CONNECTOR_SERVICE_TYPE,
        CONNECTOR_INDEX_NAME,
        CONNECTOR_DESCRIPTION,
        _CONNECTOR_STRING_MAX,
        _CONNECTOR_MAX = _CONNECTOR_STRING_MAX + _MANIFEST_FIELD_MAX,
};

static const char *const connector_keys[_CONNECTOR_MAX] = {
        [CONNECTOR_ID] = "id",
        [CONNECTOR_NAME] = "name",
        [CONNECTOR_SERVICE_TYPE] = "service_type",
        [CONNECTOR_INDEX_NAME] = "index_name",
        [CONNECTOR_DESCRIPTION] = "description",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_LANGUAGE] = "language",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_IS_NATIVE] = "is_native",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_PIPELINE] = "pipeline",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_SCHEDULING] = "scheduling",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_FEATURES] = "features",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_FILTERING] = "filtering",
        [_CONNECTOR_STRING_MAX + MANIFEST_FIELD_CONFIGURATION] = "configuration",
};

/* Reads spec.connectors[i], 'item', into 'd' (zeroed, owned by the caller, and filled as far as
 * the item allows) and where its id is into *ret_at. Only -ENOMEM stops the caller: anything else
 * is reported, and d->id is set when the id itself was a string. */
static int parse_connector(struct loader *l, const struct yaml_read_node *item, size_t i,
                           const struct plan_set *s, const struct yaml_read_node *const *selector_nodes,
                           struct plan_declared *d, struct manifest_location *ret_at) {
        char **fields[_CONNECTOR_STRING_MAX] = {
                [CONNECTOR_ID] = &d->id,
                [CONNECTOR_NAME] = &d->name,
                [CONNECTOR_SERVICE_TYPE] = &d->service_type,
                [CONNECTOR_INDEX_NAME] = &d->index_name,
                [CONNECTOR_DESCRIPTION] = &d->description,
        };
        const struct yaml_read_node *v[_CONNECTOR_MAX], *field_nodes[_SELECTOR_MAX];
        _cleanup_(manifest_fields_freep) struct manifest_fields *managed = NULL;
        char path[PATH_BUF], field[PATH_BUF];
        struct manifest_id_error e;
        bool bad = false;
        int r;

        (void) yaml_read_path_index(path, sizeof(path), "spec.connectors", i);
        if (item->kind != YAML_READ_MAPPING)
                return type_error(l, item, path, "a mapping with at least an 'id'");
        r = yaml_read_mapping_slots(item, l->file, path, connector_keys, _CONNECTOR_MAX, v, l->errors);
        if (r == -ENOMEM)
                return r;
        if (!v[CONNECTOR_ID])
                return error_at(l, item, "missing required key '%s.id'", path);
        r = manifest_fields_new(&managed);
        if (r < 0)
                return r;
        for (int k = 0; k < _CONNECTOR_MAX; k++) {
                if (!v[k])
                        continue;
                if (k >= _CONNECTOR_STRING_MAX)
                        r = manifest_fields_read(managed, k - _CONNECTOR_STRING_MAX, v[k], l->file, path,
                                                 l->errors);
                else {
                        /* name and description are free text; the others name things. */
                        r = get_string(l, v[k], path, connector_keys[k],
                                       k == CONNECTOR_NAME || k == CONNECTOR_DESCRIPTION, fields[k]);
                        if (r == 0 && k != CONNECTOR_ID)
                                r = manifest_fields_add_string(managed, connector_keys[k], *fields[k]);
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = true;
        }
        r = manifest_fields_to_json(managed, &d->fields);
        if (r < 0)
                return r;
        if (!d->id)
                return -EINVAL; /* reported */
        *ret_at = (struct manifest_location){
                .file = l->file,
                .line = v[CONNECTOR_ID]->line,
                .column = v[CONNECTOR_ID]->column,
        };
        if (strlen(d->id) > MANIFEST_MAX_ID_BYTES) {
                r = error_at(
                        l, v[CONNECTOR_ID],
                        "'%s.id' is %zu bytes long: Elasticsearch allows at most %u bytes in a connector id",
                        path, strlen(d->id), MANIFEST_MAX_ID_BYTES);
                if (r == -ENOMEM)
                        return r;
                bad = true;
        }
        if (manifest_check_id(d->id, v[CONNECTOR_ID]->length, &e) < 0) {
                r = id_error(l, v[CONNECTOR_ID], yaml_read_path_key(field, sizeof(field), path, "id"), "ids",
                             &e);
                if (r == -ENOMEM)
                        return r;
                bad = true;
        }
        if (bad)
                return -EINVAL;
        field_nodes[SELECTOR_ID_PREFIX] = v[CONNECTOR_ID];
        field_nodes[SELECTOR_SERVICE_TYPES] = v[CONNECTOR_SERVICE_TYPE];
        field_nodes[SELECTOR_INDEX_NAME_PREFIX] = v[CONNECTOR_INDEX_NAME];
        return check_against_selector(l, s, d, field_nodes, selector_nodes);
}

static int parse_connectors(struct loader *l, const struct yaml_read_node *n, struct plan_set *s,
                            struct manifest_source *src,
                            const struct yaml_read_node *const *selector_nodes) {
        if (n->kind != YAML_READ_SEQUENCE)
                return type_error(l, n, "spec.connectors", "a list");
        if (n->n_children == 0)
                return 0;

        s->connectors = calloc(n->n_children, sizeof(*s->connectors));
        src->connectors = calloc(n->n_children, sizeof(*src->connectors));
        if (!s->connectors || !src->connectors)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                struct plan_declared *d = s->connectors + s->n_connectors;
                int r;

                r = parse_connector(l, n->children[i], i, s, selector_nodes, d,
                                    src->connectors + s->n_connectors);
                if (r == -ENOMEM) {
                        plan_declared_done(d);
                        return r;
                }
                /* Keep every id, even of a connector or a set with other errors, so that ids
                 * declared twice across sets are reported in the same run. */
                if (d->id)
                        s->n_connectors++;
                else
                        plan_declared_done(d);
        }
        return 0;
}

enum {
        SET_API_VERSION,
        SET_KIND,
        SET_METADATA,
        SET_SPEC,
        _SET_MAX,
};

static const char *const set_keys[_SET_MAX] = {
        [SET_API_VERSION] = "apiVersion",
        [SET_KIND] = "kind",
        [SET_METADATA] = "metadata",
        [SET_SPEC] = "spec",
};

/* Checks apiVersion and kind. A document of another kind is not ours to check further: returns
 * -EINVAL after reporting, and the caller skips the rest of it. */
static int check_header(struct loader *l, const struct yaml_read_node *root,
                        const struct yaml_read_node *const *v) {
        static const char *const expected[] = {
                [SET_API_VERSION] = MANIFEST_API_VERSION,
                [SET_KIND] = MANIFEST_KIND,
        };
        bool skip = false;

        for (size_t k = 0; k < ELEMENTSOF(expected); k++) {
                const struct yaml_read_node *n = v[k];
                int r;

                if (!n)
                        r = error_at(l, root, "missing required key '%s' (expected '%s')", set_keys[k],
                                     expected[k]);
                else if (!yaml_read_is_string(n))
                        r = type_error(l, n, set_keys[k], "a string");
                else if (!streq(n->value, expected[k]))
                        r = error_at(l, n, "unsupported %s '%s' (expected '%s')", set_keys[k], n->value,
                                     expected[k]);
                else
                        continue;
                if (r == -ENOMEM)
                        return r;
                if (n)
                        skip = true;
        }
        return skip ? -EINVAL : 0;
}

static int parse_metadata(struct loader *l, const struct yaml_read_node *root,
                          const struct yaml_read_node *n, struct plan_set *s, struct manifest_source *src) {
        static const char *const keys[] = { "name" };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        int r;

        if (!n)
                return error_at(l, root, "missing required key 'metadata'");
        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "metadata", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "metadata", keys, ELEMENTSOF(keys), v, l->errors);
        if (r == -ENOMEM)
                return r;
        if (!v[0])
                return error_at(l, n, "missing required key 'metadata.name'");
        src->set = (struct manifest_location){ .file = l->file, .line = v[0]->line, .column = v[0]->column };
        if (!yaml_read_is_string(v[0]))
                return type_error(l, v[0], "metadata.name", "a string");
        if (!plan_set_name_is_valid(v[0]->value))
                return error_at(l, v[0],
                                "'metadata.name' is not a valid name: '%s' (use 1 to %u lowercase letters, "
                                "digits and '-', starting and ending with a letter or digit)",
                                v[0]->value, PLAN_SET_NAME_MAX);
        s->name = strdup(v[0]->value);
        return s->name ? 0 : -ENOMEM;
}

/* The value of the key 'key' of the mapping 'map', or NULL. */
static const struct yaml_read_node *mapping_get(const struct yaml_read_node *map, const char *key) {
        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (streq(map->children[i]->value, key))
                        return map->children[i + 1];
        return NULL;
}

/* A document of another tool (a Kubernetes object, a kustomize Component) in a folder it shares
 * with ours: its apiVersion is a string outside our group. Returns 1 after listing it in
 * m->skipped, 0 when it is for us to check, or -ENOMEM. */
static int skip_foreign(struct loader *l, const struct yaml_read_node *root) {
        const struct yaml_read_node *api = mapping_get(root, "apiVersion"),
                                    *kind = mapping_get(root, "kind");
        size_t n = strlen(MANIFEST_API_GROUP);
        int r;

        if (!api || !yaml_read_is_string(api))
                return 0;
        if (strncmp(api->value, MANIFEST_API_GROUP, n) == 0 &&
            (api->value[n] == '/' || api->value[n] == '\0'))
                return 0;
        r = yaml_read_diags_add(&l->m->skipped, l->file, root->line, root->column,
                                "skipped: kind %s, apiVersion %s (not a connector-reconciler document)",
                                kind && yaml_read_is_string(kind) ? kind->value : "(none)", api->value);
        return r < 0 ? r : 1;
}

/* Reads one document into a new set, appended to the manifest even when it has errors (its valid
 * parts still take part in the duplicate checks). */
static int parse_document(struct loader *l, const struct yaml_read_node *root) {
        struct manifest *m = l->m;
        const struct yaml_read_node *v[_SET_MAX], *sel[_SELECTOR_MAX] = {};
        static const char *const spec_keys[] = { "selector", "prune", "connectors", "lifecycle" };
        const struct yaml_read_node *spec[ELEMENTSOF(spec_keys)];
        struct plan_set *s;
        struct manifest_source *src;
        char buf[128];
        int r;

        if (root->kind == YAML_READ_SCALAR && root->type == YAML_READ_NULL)
                return error_at(l, root, "empty document: a ConnectorSet was expected");
        if (root->kind != YAML_READ_MAPPING)
                return error_at(l, root, "a ConnectorSet must be a mapping, got %s",
                                yaml_read_describe(root, buf, sizeof(buf)));

        r = skip_foreign(l, root);
        if (r != 0)
                return r < 0 ? r : 0;

        r = yaml_read_mapping_slots(root, l->file, "", set_keys, _SET_MAX, v, l->errors);
        if (r == -ENOMEM)
                return r;
        r = check_header(l, root, v);
        if (r < 0)
                return r;

        /* The set goes in first, so that what follows fills it in place. */
        r = manifest_grow((void **) &m->sets, &l->n_sets_allocated, m->n_sets + 1, sizeof(*m->sets));
        if (r < 0)
                return r;
        r = manifest_grow((void **) &m->sources, &l->n_sources_allocated, m->n_sets + 1,
                          sizeof(*m->sources));
        if (r < 0)
                return r;
        s = m->sets + m->n_sets;
        src = m->sources + m->n_sets;
        *s = (struct plan_set){
                .prune_enabled = true,
        };
        *src = (struct manifest_source){
                .set = { .file = l->file, .line = root->line, .column = root->column },
        };
        m->n_sets++;

        r = parse_metadata(l, root, v[SET_METADATA], s, src);
        if (r == -ENOMEM)
                return r;

        if (!v[SET_SPEC])
                return error_at(l, root, "missing required key 'spec'");
        if (v[SET_SPEC]->kind != YAML_READ_MAPPING)
                return type_error(l, v[SET_SPEC], "spec", "a mapping");
        r = yaml_read_mapping_slots(v[SET_SPEC], l->file, "spec", spec_keys, ELEMENTSOF(spec_keys), spec,
                                    l->errors);
        if (r == -ENOMEM)
                return r;
        if (spec[0]) {
                r = parse_selector(l, spec[0], s, sel);
                if (r == -ENOMEM)
                        return r;
        }
        if (spec[1]) {
                r = parse_prune(l, spec[1], s);
                if (r == -ENOMEM)
                        return r;
        }
        if (spec[2]) {
                r = parse_connectors(l, spec[2], s, src, sel);
                if (r == -ENOMEM)
                        return r;
        }
        if (spec[3]) {
                r = parse_lifecycle(l, spec[3], s);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int parse_stream(struct loader *l, const struct yaml_read_stream *st) {
        int r;

        if (st->n_documents == 0) {
                r = yaml_read_diags_add(l->errors, l->file, 0, 0,
                                        "no ConnectorSet in this file: it holds no YAML document");
                return r < 0 ? r : -EINVAL;
        }
        for (size_t i = 0; i < st->n_documents; i++) {
                r = parse_document(l, st->documents[i]);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* Adds a file name to m->files, and makes it the one being read. */
static int add_file(struct loader *l, char *path) {
        struct manifest *m = l->m;
        int r;

        r = manifest_grow((void **) &m->files, &l->n_files_allocated, m->n_files + 1, sizeof(char *));
        if (r < 0) {
                free(path);
                return r;
        }
        m->files[m->n_files++] = path;
        l->file = path;
        return 0;
}

static int index_cmp(const void *a, const void *b) {
        const struct manifest_index_entry *x = a, *y = b;
        int c = strcmp(x->id, y->id);

        if (c != 0)
                return c;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the 'n' entries by id, then in the order read, and sets *ret_first (owned by the caller)
 * to an array that gives, for each order below 'n_orders' whose id an earlier entry has too, where
 * the first entry with that id now stands; SIZE_MAX for the others. O(n log n). */
static int find_repeats(struct manifest_index_entry *e, size_t n, size_t n_orders, size_t **ret_first) {
        size_t *first;

        first = reallocarray(NULL, n_orders, sizeof(*first));
        if (!first)
                return -ENOMEM;
        for (size_t i = 0; i < n_orders; i++)
                first[i] = SIZE_MAX;
        qsort(e, n, sizeof(*e), index_cmp);
        for (size_t i = 1, head = 0; i < n; i++) {
                if (streq(e[i].id, e[head].id))
                        first[e[i].order] = head;
                else
                        head = i;
        }
        *ret_first = first;
        return 0;
}

/* Two sets with one name: reported at each later one, in the order read. */
static int check_set_names(struct loader *l) {
        struct manifest *m = l->m;
        _cleanup_free_ struct manifest_index_entry *names = NULL;
        _cleanup_free_ size_t *first = NULL;
        size_t n = 0;
        int r;

        if (m->n_sets < 2)
                return 0;
        names = reallocarray(NULL, m->n_sets, sizeof(*names));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_sets; i++)
                if (m->sets[i].name)
                        names[n++] =
                                (struct manifest_index_entry){ .id = m->sets[i].name, .set = i, .order = i };
        r = find_repeats(names, n, m->n_sets, &first);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_sets; i++) {
                const struct manifest_location *at = &m->sources[i].set, *f;

                if (first[i] == SIZE_MAX)
                        continue;
                f = &m->sources[names[first[i]].set].set;
                r = yaml_read_diags_add(l->errors, at->file, at->line, at->column,
                                        "ConnectorSet '%s' is already defined at %s:%u:%u", m->sets[i].name,
                                        f->file, f->line, f->column);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Builds the id index and reports every id declared twice (in one set or across sets) at each
 * later declaration, naming the first. */
static int check_ids(struct loader *l) {
        struct manifest *m = l->m;
        _cleanup_free_ size_t *first = NULL;
        size_t n = 0, k = 0;
        int r;

        for (size_t i = 0; i < m->n_sets; i++)
                n += m->sets[i].n_connectors;
        m->n_declared = n;
        if (n == 0)
                return 0;
        m->index = reallocarray(NULL, n, sizeof(*m->index));
        if (!m->index)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_sets; i++)
                for (size_t j = 0; j < m->sets[i].n_connectors; j++, k++)
                        m->index[k] = (struct manifest_index_entry){
                                .id = m->sets[i].connectors[j].id,
                                .set = i,
                                .connector = j,
                                .order = k,
                        };
        r = find_repeats(m->index, n, n, &first);
        if (r < 0)
                return r;

        /* Report in the order read. */
        k = 0;
        for (size_t i = 0; i < m->n_sets; i++)
                for (size_t j = 0; j < m->sets[i].n_connectors; j++, k++) {
                        const struct manifest_location *at = &m->sources[i].connectors[j], *f;
                        const struct manifest_index_entry *e;

                        if (first[k] == SIZE_MAX)
                                continue;
                        e = m->index + first[k];
                        f = &m->sources[e->set].connectors[e->connector];
                        r = yaml_read_diags_add(l->errors, at->file, at->line, at->column,
                                                "connector '%s' is already declared in set '%s' at %s:%u:%u",
                                                m->sets[i].connectors[j].id, strna(m->sets[e->set].name),
                                                f->file, f->line, f->column);
                        if (r < 0)
                                return r;
                }
        return 0;
}

bool manifest_find(const struct manifest *m, const char *id, size_t *ret_set, size_t *ret_connector) {
        size_t lo = 0, hi;

        assert(m);
        assert(id);

        /* The first entry with this id: the declaration that counts. */
        hi = m->n_declared;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(m->index[mid].id, id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo >= m->n_declared || !streq(m->index[lo].id, id))
                return false;
        if (ret_set)
                *ret_set = m->index[lo].set;
        if (ret_connector)
                *ret_connector = m->index[lo].connector;
        return true;
}

/* kustomize's own file, which names the others: never a ConnectorSet. */
static bool is_kustomization(const char *name) {
        const char *base = strrchr(name, '/');

        base = base ? base + 1 : name;
        return streq(base, "kustomization.yaml") || streq(base, "kustomization.yml");
}

/* The loader's half of a snapshot: parses one file's bytes into the manifest. */
static int load_file(void *userdata, char *name, const char *data, size_t size) {
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *st = NULL;
        struct loader *l = userdata;
        int r;

        r = add_file(l, name);
        if (r < 0)
                return r;
        if (is_kustomization(name)) {
                r = yaml_read_diags_add(&l->m->skipped, l->file, 0, 0, "skipped: a kustomization file");
                return r < 0 ? r : 0;
        }
        r = yaml_read_buffer(l->file, data, size, &st, l->errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* reported; go on with the next file */
        return parse_stream(l, st);
}

/* Sorts what 'errors' gained since it held n_before messages (n_items_before kept), and says
 * whether that was anything: -ENOMEM when a message could not be stored, -EINVAL after any
 * message, 0 otherwise. */
static int diags_result(struct yaml_read_diags *errors, size_t n_before, size_t n_items_before) {
        yaml_read_diags_sort(errors, n_items_before);
        if (errors->oom)
                return -ENOMEM;
        return yaml_read_diags_count(errors) > n_before ? -EINVAL : 0;
}

static int finish(struct loader *l, size_t n_before, size_t n_items_before, struct manifest **ret) {
        int r;

        /* Skipping must not hide a manifests path that points at another tool's repository. */
        if (l->m->n_sets == 0 && yaml_read_diags_count(&l->m->skipped) > 0 &&
            yaml_read_diags_count(l->errors) == n_before) {
                r = yaml_read_diags_add(l->errors, l->m->files[0], 0, 0,
                                        "no ConnectorSet in the manifests, only what is not ours (%zu "
                                        "skipped: an apiVersion not '%s/...', or a kustomization file)",
                                        yaml_read_diags_count(&l->m->skipped), MANIFEST_API_GROUP);
                if (r < 0)
                        return r;
        }
        r = check_set_names(l);
        if (r == -ENOMEM)
                return r;
        r = check_ids(l);
        if (r == -ENOMEM)
                return r;
        r = diags_result(l->errors, n_before, n_items_before);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l->m);
        return 0;
}

static void loader_done(struct loader *l) {
        l->m = manifest_free(l->m);
}

int manifest_load(const char *path, struct manifest **ret, struct yaml_read_diags *errors) {
        _cleanup_(loader_done) struct loader l = { .errors = errors };
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        l.m = calloc(1, sizeof(*l.m));
        if (!l.m)
                return -ENOMEM;
        r = manifest_snapshot_read(path, load_file, &l, l.m->digest, errors);
        if (r < 0)
                return r;
        return finish(&l, n_before, n_items_before, ret);
}

int manifest_load_files(const struct manifest_file *files, size_t n, struct manifest **ret,
                        struct yaml_read_diags *errors) {
        _cleanup_(loader_done) struct loader l = { .errors = errors };
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        struct sha256_ctx hash;
        int r;

        assert(files || n == 0);
        assert(n > 0);
        assert(ret);
        assert(errors);

        l.m = calloc(1, sizeof(*l.m));
        if (!l.m)
                return -ENOMEM;
        sha256_init(&hash);
        for (size_t i = 0; i < n; i++) {
                char *name = strdup(files[i].name);

                if (!name)
                        return -ENOMEM;
                manifest_snapshot_add(&hash, files[i].name, files[i].data, files[i].size);
                r = load_file(&l, name, files[i].data, files[i].size);
                if (r == -ENOMEM)
                        return r;
        }
        sha256_final(&hash, l.m->digest);
        return finish(&l, n_before, n_items_before, ret);
}

int manifest_digest(const char *path, uint8_t ret[static MANIFEST_DIGEST_SIZE],
                    struct yaml_read_diags *errors) {
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        uint8_t digest[MANIFEST_DIGEST_SIZE];
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        r = manifest_snapshot_read(path, NULL, NULL, digest, errors);
        if (r < 0)
                return r;
        r = diags_result(errors, n_before, n_items_before);
        if (r < 0)
                return r;
        memcpy(ret, digest, sizeof(digest));
        return 0;
}

int manifest_parse(const char *file, const void *data, size_t size, struct manifest **ret,
                   struct yaml_read_diags *errors) {
        _cleanup_(loader_done) struct loader l = { .errors = errors };
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        char *p;
        int r;

        assert(file);
        assert(ret);
        assert(errors);

        l.m = calloc(1, sizeof(*l.m));
        p = strdup(file);
        if (!l.m || !p) {
                free(p);
                return -ENOMEM;
        }
        manifest_snapshot_digest_buffer(file, data, size, l.m->digest);
        r = load_file(&l, p, data, size);
        if (r == -ENOMEM)
                return r;
        return finish(&l, n_before, n_items_before, ret);
}
