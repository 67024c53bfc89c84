#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "manifest.h"
#include "plan.h"
#include "sha256.h"
#include "utf8.h"
#include "util.h"
#include "yaml-read.h"

_Static_assert(MANIFEST_DIGEST_SIZE == SHA256_DIGEST_SIZE, "the digest is a SHA-256");

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
        free(m);
        return NULL;
}

/* Grows an array of 'size'-byte items to hold at least 'need'; doubles, so appends are O(1)
 * amortised. */
static int grow(void **array, size_t *allocated, size_t need, size_t size) {
        size_t n;
        void *a;

        if (need <= *allocated)
                return 0;
        n = MAX(need, MAX(*allocated * 2, (size_t) 8));
        a = reallocarray(*array, n, size);
        if (!a)
                return -ENOMEM;
        *array = a;
        *allocated = n;
        return 0;
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
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return yaml_read_error(l->errors, l->file, n, "%s", msg);
}

static int type_error(struct loader *l, const struct yaml_read_node *n, const char *path, const char *want) {
        return yaml_read_type_error(l->errors, l->file, n, path, want);
}

/* A string value. Returns 0 and a copy, or -EINVAL after reporting, or -ENOMEM. */
static int get_string(struct loader *l, const struct yaml_read_node *n, const char *path, bool allow_empty,
                      char **ret) {
        char *s;

        if (!yaml_read_is_string(n))
                return type_error(l, n, path, "a string");
        if (!allow_empty && n->length == 0)
                return error_at(l, n, "'%s' must not be empty", path);
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
        size_t count, k = 0;
        char **list;
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
                if (q == -ENOMEM) {
                        strv_free(list);
                        return q;
                }
                if (q < 0)
                        r = q;
        }
        if (r < 0 || k == 0) {
                strv_free(list);
                return r < 0 ? r : -EINVAL;
        }
        *ret = list;
        *ret_n = k;
        return 0;
}

static int parse_selector(struct loader *l, const struct yaml_read_node *n, struct plan_set *s,
                          const struct yaml_read_node **ret_nodes) {
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "spec.selector", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "spec.selector", selector_keys, _SELECTOR_MAX, ret_nodes,
                                    l->errors);
        if (r == -ENOMEM)
                return r;

        if (ret_nodes[SELECTOR_ID_PREFIX]) {
                r = get_selector_list(l, ret_nodes[SELECTOR_ID_PREFIX], SELECTOR_ID_PREFIX, &s->id_prefixes,
                                      &s->n_id_prefixes);
                if (r == -ENOMEM)
                        return r;
        }
        if (ret_nodes[SELECTOR_SERVICE_TYPES]) {
                r = get_selector_list(l, ret_nodes[SELECTOR_SERVICE_TYPES], SELECTOR_SERVICE_TYPES,
                                      &s->service_types, &s->n_service_types);
                if (r == -ENOMEM)
                        return r;
        }
        if (ret_nodes[SELECTOR_INDEX_NAME_PREFIX]) {
                r = get_selector_list(l, ret_nodes[SELECTOR_INDEX_NAME_PREFIX], SELECTOR_INDEX_NAME_PREFIX,
                                      &s->index_name_prefixes, &s->n_index_name_prefixes);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int parse_prune(struct loader *l, const struct yaml_read_node *n, struct plan_set *s) {
        static const char *const keys[] = { "enabled", "delete_sync_jobs", "hard", "allow_empty" };
        bool *fields[] = { &s->prune_enabled, &s->delete_sync_jobs, &s->hard, &s->allow_empty };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        char path[PATH_BUF];
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return type_error(l, n, "spec.prune", "a mapping");
        r = yaml_read_mapping_slots(n, l->file, "spec.prune", keys, ELEMENTSOF(keys), v, l->errors);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!v[i])
                        continue;
                r = get_bool(l, v[i], yaml_read_path_key(path, sizeof(path), "spec.prune", keys[i]),
                             fields[i]);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static bool has_prefix_in(char *const *prefixes, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (startswith(s, prefixes[i]))
                        return true;
        return false;
}

static bool contains(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
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
                bool ok;
                int r;

                if (!value || n == 0)
                        continue;
                ok = k == SELECTOR_SERVICE_TYPES ? contains(list, n, value) : has_prefix_in(list, n, value);
                if (ok)
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

enum connector_key {
        CONNECTOR_ID,
        CONNECTOR_NAME,
        CONNECTOR_SERVICE_TYPE,
        CONNECTOR_INDEX_NAME,
        CONNECTOR_DESCRIPTION,
        _CONNECTOR_MAX,
};

static const char *const connector_keys[_CONNECTOR_MAX] = {
        [CONNECTOR_ID] = "id",
        [CONNECTOR_NAME] = "name",
        [CONNECTOR_SERVICE_TYPE] = "service_type",
        [CONNECTOR_INDEX_NAME] = "index_name",
        [CONNECTOR_DESCRIPTION] = "description",
};

static int parse_connectors(struct loader *l, const struct yaml_read_node *n, struct plan_set *s,
                            struct manifest_source *src,
                            const struct yaml_read_node *const *selector_nodes) {
        char path[PATH_BUF], field[PATH_BUF];
        int r;

        if (n->kind != YAML_READ_SEQUENCE)
                return type_error(l, n, "spec.connectors", "a list");
        if (n->n_children == 0)
                return 0;

        s->connectors = calloc(n->n_children, sizeof(*s->connectors));
        src->connectors = calloc(n->n_children, sizeof(*src->connectors));
        if (!s->connectors || !src->connectors)
                return -ENOMEM;

        for (size_t i = 0; i < n->n_children; i++) {
                const struct yaml_read_node *item = n->children[i], *v[_CONNECTOR_MAX];
                struct manifest_id_error e;
                struct plan_declared d = {};
                char **fields[_CONNECTOR_MAX] = {
                        [CONNECTOR_ID] = &d.id,
                        [CONNECTOR_NAME] = &d.name,
                        [CONNECTOR_SERVICE_TYPE] = &d.service_type,
                        [CONNECTOR_INDEX_NAME] = &d.index_name,
                        [CONNECTOR_DESCRIPTION] = &d.description,
                };
                bool bad = false;

                (void) yaml_read_path_index(path, sizeof(path), "spec.connectors", i);
                if (item->kind != YAML_READ_MAPPING) {
                        r = type_error(l, item, path, "a mapping with at least an 'id'");
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                r = yaml_read_mapping_slots(item, l->file, path, connector_keys, _CONNECTOR_MAX, v,
                                            l->errors);
                if (r == -ENOMEM)
                        return r;
                if (!v[CONNECTOR_ID]) {
                        r = error_at(l, item, "missing required key '%s.id'", path);
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                for (int k = 0; k < _CONNECTOR_MAX; k++) {
                        /* name and description are free text; the others name things. */
                        bool allow_empty = k == CONNECTOR_NAME || k == CONNECTOR_DESCRIPTION;

                        if (!v[k])
                                continue;
                        if (yaml_read_is_string(v[k]) && (allow_empty || v[k]->length > 0)) {
                                /* The common case, without formatting a path no message needs. */
                                *fields[k] = strdup(v[k]->value);
                                if (!*fields[k]) {
                                        plan_declared_done(&d);
                                        return -ENOMEM;
                                }
                                continue;
                        }
                        r = get_string(l, v[k],
                                       yaml_read_path_key(field, sizeof(field), path, connector_keys[k]),
                                       allow_empty, fields[k]);
                        if (r == -ENOMEM) {
                                plan_declared_done(&d);
                                return r;
                        }
                        if (r < 0)
                                bad = true;
                }
                if (d.id && strlen(d.id) > MANIFEST_MAX_ID_BYTES) {
                        r = error_at(l, v[CONNECTOR_ID],
                                     "'%s.id' is %zu bytes long: Elasticsearch allows at most %u bytes in a "
                                     "connector id",
                                     path, strlen(d.id), MANIFEST_MAX_ID_BYTES);
                        if (r == -ENOMEM) {
                                plan_declared_done(&d);
                                return r;
                        }
                        bad = true;
                }
                if (d.id && manifest_check_id(d.id, v[CONNECTOR_ID]->length, &e) < 0) {
                        r = id_error(l, v[CONNECTOR_ID],
                                     yaml_read_path_key(field, sizeof(field), path, "id"), "ids", &e);
                        if (r == -ENOMEM) {
                                plan_declared_done(&d);
                                return r;
                        }
                        bad = true;
                }
                if (!bad) {
                        const struct yaml_read_node *field_nodes[_SELECTOR_MAX] = {
                                [SELECTOR_ID_PREFIX] = v[CONNECTOR_ID],
                                [SELECTOR_SERVICE_TYPES] = v[CONNECTOR_SERVICE_TYPE],
                                [SELECTOR_INDEX_NAME_PREFIX] = v[CONNECTOR_INDEX_NAME],
                        };

                        r = check_against_selector(l, s, &d, field_nodes, selector_nodes);
                        if (r == -ENOMEM) {
                                plan_declared_done(&d);
                                return r;
                        }
                }
                if (!d.id) {
                        plan_declared_done(&d);
                        continue;
                }
                /* Keep every valid id, even in a set with other errors, so that duplicates across
                 * sets are reported in the same run. */
                src->connectors[s->n_connectors] = (struct manifest_location){
                        .file = l->file,
                        .line = v[CONNECTOR_ID]->line,
                        .column = v[CONNECTOR_ID]->column,
                };
                s->connectors[s->n_connectors++] = d;
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
        bool skip = false;
        int r;

        if (!v[SET_API_VERSION]) {
                r = error_at(l, root, "missing required key 'apiVersion' (expected '%s')",
                             MANIFEST_API_VERSION);
                if (r == -ENOMEM)
                        return r;
        } else if (!yaml_read_is_string(v[SET_API_VERSION])) {
                r = type_error(l, v[SET_API_VERSION], "apiVersion", "a string");
                if (r == -ENOMEM)
                        return r;
                skip = true;
        } else if (!streq(v[SET_API_VERSION]->value, MANIFEST_API_VERSION)) {
                r = error_at(l, v[SET_API_VERSION], "unsupported apiVersion '%s' (expected '%s')",
                             v[SET_API_VERSION]->value, MANIFEST_API_VERSION);
                if (r == -ENOMEM)
                        return r;
                skip = true;
        }
        if (!v[SET_KIND]) {
                r = error_at(l, root, "missing required key 'kind' (expected '%s')", MANIFEST_KIND);
                if (r == -ENOMEM)
                        return r;
        } else if (!yaml_read_is_string(v[SET_KIND])) {
                r = type_error(l, v[SET_KIND], "kind", "a string");
                if (r == -ENOMEM)
                        return r;
                skip = true;
        } else if (!streq(v[SET_KIND]->value, MANIFEST_KIND)) {
                r = error_at(l, v[SET_KIND], "unsupported kind '%s' (expected '%s')", v[SET_KIND]->value,
                             MANIFEST_KIND);
                if (r == -ENOMEM)
                        return r;
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

/* Reads one document into a new set, appended to the manifest even when it has errors (its valid
 * parts still take part in the duplicate checks). */
static int parse_document(struct loader *l, const struct yaml_read_node *root) {
        struct manifest *m = l->m;
        const struct yaml_read_node *v[_SET_MAX], *sel[_SELECTOR_MAX] = {};
        static const char *const spec_keys[] = { "selector", "prune", "connectors" };
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

        r = yaml_read_mapping_slots(root, l->file, "", set_keys, _SET_MAX, v, l->errors);
        if (r == -ENOMEM)
                return r;
        r = check_header(l, root, v);
        if (r < 0)
                return r;

        /* The set goes in first, so that what follows fills it in place. */
        r = grow((void **) &m->sets, &l->n_sets_allocated, m->n_sets + 1, sizeof(*m->sets));
        if (r < 0)
                return r;
        r = grow((void **) &m->sources, &l->n_sources_allocated, m->n_sets + 1, sizeof(*m->sources));
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

        r = grow((void **) &m->files, &l->n_files_allocated, m->n_files + 1, sizeof(char *));
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

struct name_ref {
        const char *name;
        size_t set;
};

static int name_ref_cmp(const void *a, const void *b) {
        const struct name_ref *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        if (c != 0)
                return c;
        return x->set < y->set ? -1 : x->set > y->set;
}

static int location_error(struct loader *l, const struct manifest_location *at, const char *fmt, ...)
        _printf_(3, 4);
static int location_error(struct loader *l, const struct manifest_location *at, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        k = yaml_read_diags_add(l->errors, at->file, at->line, at->column, "%s", msg);
        return k < 0 ? k : -EINVAL;
}

/* Two sets with one name: reported at each later one, in the order read. Sorting keeps it
 * O(n log n). */
static int check_set_names(struct loader *l) {
        struct manifest *m = l->m;
        _cleanup_free_ struct name_ref *refs = NULL;
        _cleanup_free_ size_t *first = NULL;
        size_t n = 0;
        int r;

        if (m->n_sets < 2)
                return 0;
        refs = reallocarray(NULL, m->n_sets, sizeof(*refs));
        first = reallocarray(NULL, m->n_sets, sizeof(*first));
        if (!refs || !first)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_sets; i++) {
                first[i] = SIZE_MAX;
                if (m->sets[i].name)
                        refs[n++] = (struct name_ref){ .name = m->sets[i].name, .set = i };
        }
        qsort(refs, n, sizeof(*refs), name_ref_cmp);
        for (size_t i = 1, head = 0; i < n; i++) {
                if (streq(refs[i].name, refs[head].name))
                        first[refs[i].set] = refs[head].set;
                else
                        head = i;
        }
        for (size_t i = 0; i < m->n_sets; i++) {
                const struct manifest_location *f;

                if (first[i] == SIZE_MAX)
                        continue;
                f = &m->sources[first[i]].set;
                r = location_error(l, &m->sources[i].set, "ConnectorSet '%s' is already defined at %s:%u:%u",
                                   m->sets[i].name, f->file, f->line, f->column);
                if (r == -ENOMEM)
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
        first = reallocarray(NULL, n, sizeof(*first));
        if (!m->index || !first)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_sets; i++)
                for (size_t j = 0; j < m->sets[i].n_connectors; j++, k++) {
                        m->index[k] = (struct manifest_index_entry){
                                .id = m->sets[i].connectors[j].id,
                                .set = i,
                                .connector = j,
                                .order = k,
                        };
                        first[k] = SIZE_MAX;
                }
        qsort(m->index, n, sizeof(*m->index), index_cmp);

        for (size_t i = 1, head = 0; i < n; i++) {
                if (streq(m->index[i].id, m->index[head].id))
                        first[m->index[i].order] = head;
                else
                        head = i;
        }
        /* Report in the order read. */
        k = 0;
        for (size_t i = 0; i < m->n_sets; i++)
                for (size_t j = 0; j < m->sets[i].n_connectors; j++, k++) {
                        const struct manifest_index_entry *f;
                        const struct manifest_location *at;

                        if (first[k] == SIZE_MAX)
                                continue;
                        f = m->index + first[k];
                        at = &m->sources[f->set].connectors[f->connector];
                        r = location_error(l, &m->sources[i].connectors[j],
                                           "connector '%s' is already declared in set '%s' at %s:%u:%u",
                                           m->sets[i].connectors[j].id, strna(m->sets[f->set].name),
                                           at->file, at->line, at->column);
                        if (r == -ENOMEM)
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

static bool is_manifest_name(const char *name) {
        size_t n = strlen(name);

        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 4 && streq(name + n - 4, ".yml"));
}

struct walker {
        struct yaml_read_diags *errors;
        /* The top folder, opened once: every path below is read relative to it. */
        int dir_fd;
        char **files; /* relative paths */
        size_t n_files;
        size_t n_allocated;
        /* The folders from the top down to the one being read, to detect symlink loops. */
        dev_t devs[MANIFEST_MAX_DIR_DEPTH + 1];
        ino_t inos[MANIFEST_MAX_DIR_DEPTH + 1];
        size_t depth;
};

static void walker_done(struct walker *w) {
        for (size_t i = 0; i < w->n_files; i++)
                free(w->files[i]);
        free(w->files);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *join(const char *dir, const char *name) {
        size_t n = strlen(dir);
        char *s;

        if (n == 0)
                return strdup(name);
        if (asprintf(&s, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return s;
}

/* Lists a folder's entries (dot names skipped), then closes it before anything descends, so
 * that one descriptor at most is open besides the top folder's, whatever the depth. */
static int list_dir(struct walker *w, const char *full, const char *rel, char ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        int fd, r = 0;

        fd = openat(w->dir_fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = negative_errno();
                if (fd >= 0)
                        (void) close(fd);
                (void) yaml_read_diags_add(w->errors, full, 0, 0, "cannot open directory: %s", strerror(-r));
                return -EINVAL;
        }
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                r = negative_errno();
                                (void) closedir(d);
                                (void) yaml_read_diags_add(w->errors, full, 0, 0,
                                                           "cannot read directory: %s", strerror(-r));
                                return -EINVAL;
                        }
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                r = grow((void **) &names, &allocated, n + 2, sizeof(char *));
                if (r < 0)
                        break;
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                names[++n] = NULL;
        }
        (void) closedir(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

static int walk(struct walker *w, const char *top, const char *rel) {
        _cleanup_free_ char *full = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        full = join(top, rel);
        if (!full)
                return -ENOMEM;
        r = list_dir(w, full, rel, &names, &n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *child_rel = NULL, *child_full = NULL;
                struct stat st;

                child_rel = join(rel, names[i]);
                child_full = join(top, child_rel);
                if (!child_rel || !child_full)
                        return -ENOMEM;

                /* stat(), not lstat(): symbolic links are followed. */
                if (fstatat(w->dir_fd, child_rel, &st, 0) < 0) {
                        r = negative_errno();
                        /* A dangling link, or an entry that vanished: only a manifest's name
                         * matters. Any other failure might hide a folder of manifests. */
                        if (r == -ENOENT && !is_manifest_name(names[i]))
                                continue;
                        r = yaml_read_diags_add(w->errors, child_full, 0, 0, "cannot access: %s",
                                                strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        bool loop = false;

                        for (size_t k = 0; k <= w->depth; k++)
                                if (w->devs[k] == st.st_dev && w->inos[k] == st.st_ino)
                                        loop = true;
                        if (loop) {
                                r = yaml_read_diags_add(
                                        w->errors, child_full, 0, 0,
                                        "directory loop: this folder contains itself (through a "
                                        "symbolic link)");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (w->depth >= MANIFEST_MAX_DIR_DEPTH) {
                                r = yaml_read_diags_add(w->errors, child_full, 0, 0,
                                                        "folders nested deeper than %u levels",
                                                        MANIFEST_MAX_DIR_DEPTH);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        w->depth++;
                        w->devs[w->depth] = st.st_dev;
                        w->inos[w->depth] = st.st_ino;
                        r = walk(w, top, child_rel);
                        w->depth--;
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                if (!is_manifest_name(names[i]))
                        continue;
                if (!S_ISREG(st.st_mode)) {
                        r = yaml_read_diags_add(w->errors, child_full, 0, 0, "not a regular file");
                        if (r < 0)
                                return r;
                        continue;
                }
                r = grow((void **) &w->files, &w->n_allocated, w->n_files + 1, sizeof(char *));
                if (r < 0)
                        return r;
                w->files[w->n_files++] = TAKE_PTR(child_rel);
        }
        return 0;
}

/* Reading a snapshot of the manifests: the files of a path in the order read, each read whole
 * once, added to the digest, and handed to 'file' (when set) to parse. manifest_load() and
 * manifest_digest() share it, so that both see the same files in the same way. */
struct snapshot {
        struct yaml_read_diags *errors;
        struct sha256_ctx hash;
        /* Takes 'name' (the file's name in messages) and borrows its bytes. Returns 0, -EINVAL
         * after reporting (the reading goes on), or -ENOMEM. */
        int (*file)(void *userdata, char *name, const char *data, size_t size);
        void *userdata;
};

/* Adds one file to the digest: its name, a NUL, its size (8 bytes, big-endian), its bytes. */
static void snapshot_add(struct snapshot *s, const char *digest_name, const char *data, size_t size) {
        uint8_t be[8];

        for (unsigned i = 0; i < 8; i++)
                be[i] = (uint8_t) ((uint64_t) size >> (56 - 8 * i));
        sha256_update(&s->hash, digest_name, strlen(digest_name) + 1);
        sha256_update(&s->hash, be, sizeof(be));
        sha256_update(&s->hash, data, size);
}

/* Reads 'rel' below the folder 'dir_fd' (AT_FDCWD: 'rel' is the path given), naming it 'name' in
 * messages (taken) and 'digest_name' in the digest. A file that cannot be read is reported, and
 * the reading goes on. */
static int snapshot_file(struct snapshot *s, int dir_fd, const char *rel, char *name,
                         const char *digest_name) {
        _cleanup_free_ char *owned = name, *data = NULL;
        size_t size;
        int r;

        r = yaml_read_contents_at(dir_fd, rel, name, &data, &size, s->errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* reported */
        snapshot_add(s, digest_name, data, size);
        if (!s->file)
                return 0;
        return s->file(s->userdata, TAKE_PTR(owned), data, size);
}

/* Reads every file of 'path' in order. Returns 0 when the files were read (what could not be
 * read is reported, and then the load fails in the end); -EINVAL after reporting when there is
 * nothing to read (a missing path, a folder that cannot be opened or holds no manifest);
 * -ENOMEM. */
static int snapshot_read(struct snapshot *s, const char *path) {
        _cleanup_(walker_done) struct walker w = { .errors = s->errors, .dir_fd = -1 };
        _cleanup_close_ int dir_fd = -1;
        size_t n_before = yaml_read_diags_count(s->errors);
        struct stat st;
        int r;

        if (stat(path, &st) < 0) {
                r = negative_errno();
                r = yaml_read_diags_add(s->errors, path, 0, 0, "cannot access: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        if (!S_ISDIR(st.st_mode)) {
                const char *slash = strrchr(path, '/');
                char *p = strdup(path);

                if (!p)
                        return -ENOMEM;
                r = snapshot_file(s, AT_FDCWD, path, p, slash ? slash + 1 : path);
                return r == -ENOMEM ? r : 0;
        }

        /* Everything below is read through this one descriptor: were 'path' a symbolic link that
         * is swapped while we read (git-sync and the like swap it to a new checkout), every file
         * still comes from the one folder, never half from each. */
        dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || fstat(dir_fd, &st) < 0) {
                r = negative_errno();
                r = yaml_read_diags_add(s->errors, path, 0, 0, "cannot open directory: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        w.dir_fd = dir_fd;
        w.devs[0] = st.st_dev;
        w.inos[0] = st.st_ino;
        r = walk(&w, path, "");
        if (r == -ENOMEM)
                return r;
        /* Bytewise order of the whole relative path, not folder by folder: "a-b.yaml" comes
         * before "a/x.yaml" ('-' < '/'). */
        if (w.n_files > 1)
                qsort(w.files, w.n_files, sizeof(char *), strcmp_ptr);
        if (w.n_files == 0 && yaml_read_diags_count(s->errors) == n_before) {
                r = yaml_read_diags_add(s->errors, path, 0, 0,
                                        "no manifest (*.yaml, *.yml) in this directory");
                return r < 0 ? r : -EINVAL;
        }
        for (size_t i = 0; i < w.n_files; i++) {
                char *p = join(path, w.files[i]);

                if (!p)
                        return -ENOMEM;
                r = snapshot_file(s, dir_fd, w.files[i], p, w.files[i]);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* The loader's half of a snapshot: parses one file's bytes into the manifest. */
static int load_file(void *userdata, char *name, const char *data, size_t size) {
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *st = NULL;
        struct loader *l = userdata;
        int r;

        r = add_file(l, name);
        if (r < 0)
                return r;
        r = yaml_read_buffer(l->file, data, size, &st, l->errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* reported; go on with the next file */
        return parse_stream(l, st);
}

static int finish(struct loader *l, size_t n_before, size_t n_items_before, struct manifest **ret) {
        int r;

        r = check_set_names(l);
        if (r == -ENOMEM)
                return r;
        r = check_ids(l);
        if (r == -ENOMEM)
                return r;
        yaml_read_diags_sort(l->errors, n_items_before);
        if (l->errors->oom)
                return -ENOMEM;
        if (yaml_read_diags_count(l->errors) > n_before)
                return -EINVAL;
        *ret = TAKE_PTR(l->m);
        return 0;
}

static void loader_done(struct loader *l) {
        l->m = manifest_free(l->m);
}

int manifest_load(const char *path, struct manifest **ret, struct yaml_read_diags *errors) {
        _cleanup_(loader_done) struct loader l = { .errors = errors };
        struct snapshot s = { .errors = errors, .file = load_file, .userdata = &l };
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        l.m = calloc(1, sizeof(*l.m));
        if (!l.m)
                return -ENOMEM;
        sha256_init(&s.hash);
        r = snapshot_read(&s, path);
        if (r < 0)
                return r;
        sha256_final(&s.hash, l.m->digest);
        return finish(&l, n_before, n_items_before, ret);
}

int manifest_digest(const char *path, uint8_t ret[static MANIFEST_DIGEST_SIZE],
                    struct yaml_read_diags *errors) {
        struct snapshot s = { .errors = errors };
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        sha256_init(&s.hash);
        r = snapshot_read(&s, path);
        if (r < 0)
                return r;
        yaml_read_diags_sort(errors, n_items_before);
        if (errors->oom)
                return -ENOMEM;
        if (yaml_read_diags_count(errors) > n_before)
                return -EINVAL;
        sha256_final(&s.hash, ret);
        return 0;
}

int manifest_parse(const char *file, const void *data, size_t size, struct manifest **ret,
                   struct yaml_read_diags *errors) {
        _cleanup_(loader_done) struct loader l = { .errors = errors };
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *st = NULL;
        struct snapshot s = { .errors = errors };
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
        r = add_file(&l, p);
        if (r < 0)
                return r;
        sha256_init(&s.hash);
        snapshot_add(&s, file, data, size);
        sha256_final(&s.hash, l.m->digest);
        r = yaml_read_buffer(l.file, data, size, &st, errors);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = parse_stream(&l, st);
                if (r == -ENOMEM)
                        return r;
        }
        return finish(&l, n_before, n_items_before, ret);
}

/* The Git folder that 'dir/.git' names: the folder itself, or the DIR of a file "gitdir: DIR".
 * Returns 1 and sets *ret (owned by the caller), 0 when 'dir' has no '.git', or a negative errno. */
static int git_dir_of(const char *dir, char **ret) {
        _cleanup_free_ char *dot_git = NULL, *content = NULL, *target = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        ssize_t k;
        size_t n;

        dot_git = join(dir, ".git");
        if (!dot_git)
                return -ENOMEM;
        fd = open(dot_git, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode)) {
                *ret = TAKE_PTR(dot_git);
                return 1;
        }
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;

        /* "gitdir: DIR\n", as git writes it for worktrees and submodules: a line, not a file of
         * any size. */
        content = malloc(PATH_MAX + 16);
        if (!content)
                return -ENOMEM;
        do
                k = read(fd, content, PATH_MAX + 15);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        n = (size_t) k;
        content[n] = '\0';
        while (n > 0 && (content[n - 1] == '\n' || content[n - 1] == '\r' || content[n - 1] == ' '))
                content[--n] = '\0';
        if (!startswith(content, "gitdir: ") || n == strlen("gitdir: ") || strlen(content) != n)
                return -EBADMSG;
        target = content[strlen("gitdir: ")] == '/' ? strdup(content + strlen("gitdir: "))
                                                    : join(dir, content + strlen("gitdir: "));
        if (!target)
                return -ENOMEM;
        *ret = TAKE_PTR(target);
        return 1;
}

int manifest_git_busy(const char *path, char **ret_what) {
        /* What git leaves in its folder while it rewrites the work tree, or while a merge, a
         * cherry-pick, a revert or a rebase waits half done. */
        static const char *const markers[] = {
                "index.lock",  "MERGE_HEAD",   "CHERRY_PICK_HEAD",
                "REVERT_HEAD", "rebase-merge", "rebase-apply",
        };
        _cleanup_free_ char *dir = NULL, *git_dir = NULL, *shown = NULL, *found = NULL, *what = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        assert(path);

        dir = realpath(path, NULL);
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                *strrchr(dir, '/') = '\0'; /* realpath() gives an absolute path: there is a '/' */

        for (;;) {
                char *slash;

                if (dir[0] == '\0') /* the file system root, once its '/' is cut */
                        r = git_dir_of("/", &git_dir);
                else
                        r = git_dir_of(dir, &git_dir);
                if (r != 0)
                        break;
                slash = strrchr(dir, '/');
                if (!slash)
                        return 0;
                *slash = '\0';
        }
        if (r < 0)
                return r;

        /* Name it as it is, without "..": worktrees' "gitdir:" lines are absolute, submodules'
         * relative. A Git folder that is gone holds no operation. */
        shown = realpath(git_dir, NULL);
        if (!shown)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        found = calloc(1, 1);
        if (!found)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(markers); i++) {
                _cleanup_free_ char *p = join(shown, markers[i]);
                char *f;

                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                if (asprintf(&f, "%s%s%s", found, len > 0 ? ", " : "", markers[i]) < 0)
                        return -ENOMEM;
                free(found);
                found = f;
                len++;
        }
        if (len == 0)
                return 0;
        if (ret_what) {
                if (asprintf(&what, "a Git operation is in progress in '%s' (%s)", shown, found) < 0)
                        return -ENOMEM;
                *ret_what = TAKE_PTR(what);
        }
        return 1;
}
