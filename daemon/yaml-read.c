#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "yaml-read.h"
#include "escape.h"
#include "util.h"

/* A message is cut at this many bytes, so a long key or value quoted in it stays readable. */
#define DIAG_MAX_MESSAGE 2048U
/* How much of a key an "unknown key" message quotes. */
#define QUOTED_KEY_MAX 100U

#define TAG_PREFIX "tag:yaml.org,2002:"

static bool isempty(const char *s) {
        return !s || !*s;
}

static void diag_done(struct yaml_read_diag *x) {
        free(x->file);
        free(x->message);
        free(x->text);
}

void yaml_read_diags_done(struct yaml_read_diags *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_items; i++)
                diag_done(d->items + i);
        free(d->items);
        *d = (struct yaml_read_diags){};
}

/* A message as printed: escaped as escape.h says, so that it is always one line that shows what
 * the input held, cut at DIAG_MAX_MESSAGE bytes of the original. */
static char *escape_message(const char *in) {
        return escape_text(in, strlen(in), DIAG_MAX_MESSAGE, 0);
}

/* Formats one message into *ret. 'last' marks the last one a list keeps. */
static int diag_format(const char *file, unsigned line, unsigned column, bool last, const char *fmt,
                       va_list ap, struct yaml_read_diag *ret) _printf_(5, 0);
static int diag_format(const char *file, unsigned line, unsigned column, bool last, const char *fmt,
                       va_list ap, struct yaml_read_diag *ret) {
        _cleanup_free_ char *raw = NULL, *message = NULL, *text = NULL, *f = NULL, *shown = NULL;
        int k;

        if (vasprintf(&raw, fmt, ap) < 0)
                return -ENOMEM;
        if (last) {
                char *m;

                if (asprintf(&m, "%s (too many errors: stopping here)", raw) < 0)
                        return -ENOMEM;
                free(raw);
                raw = m;
        }
        message = escape_message(raw);
        f = strdup(file);
        shown = escape_message(file); /* a file name can hold a newline too */
        if (!message || !f || !shown)
                return -ENOMEM;
        if (line > 0)
                k = asprintf(&text, "%s:%u:%u: %s", shown, line, column, message);
        else
                k = asprintf(&text, "%s: %s", shown, message);
        if (k < 0) {
                text = NULL;
                return -ENOMEM;
        }
        *ret = (struct yaml_read_diag){
                .file = TAKE_PTR(f),
                .line = line,
                .column = line > 0 ? column : 0,
                .message = TAKE_PTR(message),
                .text = TAKE_PTR(text),
        };
        return 0;
}

int yaml_read_diags_addv(struct yaml_read_diags *d, const char *file, unsigned line, unsigned column,
                         const char *fmt, va_list ap) {
        int r;

        assert(d);
        assert(file);

        d->n_total++;
        if (d->n_items >= YAML_READ_MAX_DIAGS)
                return 0;

        if (d->n_items >= d->n_allocated) {
                size_t n = MAX(d->n_allocated * 2, (size_t) 8);
                struct yaml_read_diag *x = reallocarray(d->items, n, sizeof(*x));

                if (!x) {
                        d->oom = true;
                        return -ENOMEM;
                }
                d->items = x;
                d->n_allocated = n;
        }
        r = diag_format(file, line, column, d->n_items + 1 == YAML_READ_MAX_DIAGS, fmt, ap,
                        d->items + d->n_items);
        if (r < 0) {
                d->oom = true;
                return r;
        }
        d->n_items++;
        return 0;
}

struct diag_ref {
        struct yaml_read_diag diag;
        size_t index;
};

static int diag_ref_cmp(const void *a, const void *b) {
        const struct diag_ref *x = a, *y = b;
        int c = strcmp(x->diag.file, y->diag.file);

        if (c != 0)
                return c;
        if (x->diag.line != y->diag.line)
                return x->diag.line < y->diag.line ? -1 : 1;
        if (x->diag.column != y->diag.column)
                return x->diag.column < y->diag.column ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

void yaml_read_diags_sort(struct yaml_read_diags *d, size_t from) {
        struct diag_ref *refs;
        size_t n;

        if (from >= d->n_items || d->n_items - from < 2)
                return;
        n = d->n_items - from;
        refs = reallocarray(NULL, n, sizeof(*refs));
        if (!refs)
                return; /* unsorted is still correct, only less tidy */
        for (size_t i = 0; i < n; i++)
                refs[i] = (struct diag_ref){ .diag = d->items[from + i], .index = i };
        qsort(refs, n, sizeof(*refs), diag_ref_cmp);
        for (size_t i = 0; i < n; i++)
                d->items[from + i] = refs[i].diag;
        free(refs);
}

int yaml_read_diags_add(struct yaml_read_diags *d, const char *file, unsigned line, unsigned column,
                        const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = yaml_read_diags_addv(d, file, line, column, fmt, ap);
        va_end(ap);
        return r;
}

int yaml_read_error(struct yaml_read_diags *d, const char *file, const struct yaml_read_node *n,
                    const char *fmt, ...) {
        va_list ap;
        int r;

        assert(n);

        va_start(ap, fmt);
        r = yaml_read_diags_addv(d, file, n->line, n->column, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

int yaml_read_type_error(struct yaml_read_diags *d, const char *file, const struct yaml_read_node *n,
                         const char *path, const char *want) {
        char buf[128];
        bool quotable = n->kind == YAML_READ_SCALAR && n->type != YAML_READ_NULL && streq(want, "a string");

        return yaml_read_error(d, file, n, "'%s' must be %s, got %s%s", path, want,
                               yaml_read_describe(n, buf, sizeof(buf)),
                               quotable ? "; quote it to make it a string" : "");
}

/* Nodes and their text are carved out of large chunks, freed together with the stream: one
 * malloc() per ARENA_CHUNK_SIZE bytes instead of one per node, which halves the time to read a
 * large manifest. A node larger than a quarter of a chunk gets a chunk of its own. */
#define ARENA_CHUNK_SIZE (64U * 1024U)

struct yaml_read_arena {
        struct yaml_read_arena *next;
        size_t used;
        size_t size;
        max_align_t data[];
};

static void arena_free(struct yaml_read_arena *a) {
        while (a) {
                struct yaml_read_arena *next = a->next;

                free(a);
                a = next;
        }
}

/* Returns 'size' zeroed bytes, aligned for any type, from the arena at *head. */
static void *arena_alloc(struct yaml_read_arena **head, size_t size) {
        struct yaml_read_arena *a = *head;
        size_t align = sizeof(max_align_t), need = (size + align - 1) / align * align;
        void *p;

        if (!a || a->size - a->used < need) {
                bool own = need > ARENA_CHUNK_SIZE / 4;
                size_t chunk = own ? need : ARENA_CHUNK_SIZE;

                a = malloc(sizeof(*a) + chunk);
                if (!a)
                        return NULL;
                a->used = 0;
                a->size = chunk;
                if (own && *head) {
                        /* Keep filling the current chunk: put this one behind it. */
                        a->next = (*head)->next;
                        (*head)->next = a;
                } else {
                        a->next = *head;
                        *head = a;
                }
        }
        p = (char *) a->data + a->used;
        a->used += need;
        memset(p, 0, size);
        return p;
}

/* Frees what a node holds outside the arena: the children arrays, all the way down (depth is
 * bounded by YAML_READ_MAX_DEPTH, so the recursion is too). */
static void node_free(struct yaml_read_node *n) {
        if (!n || n->kind == YAML_READ_SCALAR)
                return;
        for (size_t i = 0; i < n->n_children; i++)
                node_free(n->children[i]);
        free(n->children);
        n->children = NULL;
        n->n_children = 0;
}

struct yaml_read_stream *yaml_read_stream_free(struct yaml_read_stream *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_documents; i++)
                node_free(s->documents[i]);
        free(s->documents);
        free(s->file);
        arena_free(s->arena);
        free(s);
        return NULL;
}

static bool match_any(const char *s, const char *const *list) {
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

static bool all_in(const char *s, size_t n, const char *set) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr(set, s[i]))
                        return false;
        return true;
}

#define DIGITS "0123456789"

static bool is_core_int(const char *s) {
        if (s[0] == '0' && s[1] == 'o')
                return all_in(s + 2, strlen(s + 2), "01234567");
        if (s[0] == '0' && s[1] == 'x')
                return all_in(s + 2, strlen(s + 2), DIGITS "abcdefABCDEF");
        if (*s == '-' || *s == '+')
                s++;
        return all_in(s, strlen(s), DIGITS);
}

static bool is_core_float(const char *s) {
        static const char *const special[] = {
                ".inf",  ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                "-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL,
        };
        size_t n;

        if (match_any(s, special))
                return true;
        if (*s == '-' || *s == '+')
                s++;
        /* ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) */
        if (*s == '.') {
                s++;
                n = strspn(s, DIGITS);
                if (n == 0)
                        return false;
                s += n;
        } else {
                n = strspn(s, DIGITS);
                if (n == 0)
                        return false;
                s += n;
                if (*s == '.')
                        s += 1 + strspn(s + 1, DIGITS);
        }
        /* ( [eE] [-+]? [0-9]+ )? */
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                n = strspn(s, DIGITS);
                if (n == 0)
                        return false;
                s += n;
        }
        return *s == 0;
}

static enum yaml_read_type resolve_plain(const char *s) {
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
        static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE", NULL };
        static const char *const bools_1_1[] = {
                "y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no", "No",
                "NO", "on", "On",  "ON",  "off", "Off", "OFF", NULL,
        };

        /* Most scalars are names: the first character and the length (no word in the lists has
         * more than 5) rule the lists out for them, and a number must start with a digit, a sign
         * or a dot. Saves ~30 comparisons a scalar. */
        if (strchr("~nNtTfFyYoO", s[0]) && strnlen(s, 6) <= 5) {
                if (match_any(s, nulls))
                        return YAML_READ_NULL;
                if (match_any(s, bools))
                        return YAML_READ_BOOL;
                if (match_any(s, bools_1_1))
                        return YAML_READ_BOOL_1_1;
        }
        if (!strchr("0123456789+-.", s[0]))
                return YAML_READ_STRING;
        if (is_core_int(s))
                return YAML_READ_INT;
        if (is_core_float(s))
                return YAML_READ_FLOAT;
        return YAML_READ_STRING;
}

const char *yaml_read_describe(const struct yaml_read_node *n, char *buf, size_t size) {
        assert(n);

        switch (n->kind) {
        case YAML_READ_SEQUENCE:
                return "a list";
        case YAML_READ_MAPPING:
                return "a mapping";
        case YAML_READ_SCALAR:
                break;
        default:
                assert(!"unknown node kind");
        }
        switch (n->type) {
        case YAML_READ_NULL:
                return "null";
        case YAML_READ_BOOL:
                return "a boolean";
        case YAML_READ_BOOL_1_1:
                (void) snprintf(buf, size, "'%s' (a boolean in YAML 1.1)", n->value);
                return buf;
        case YAML_READ_INT:
                return "an integer";
        case YAML_READ_FLOAT:
                return "a number";
        case YAML_READ_STRING:
                return "a string";
        default:
                assert(!"unknown scalar type");
        }
        return NULL;
}

bool yaml_read_is_string(const struct yaml_read_node *n) {
        return n && n->kind == YAML_READ_SCALAR && n->type == YAML_READ_STRING;
}

/* Walks 'data' up to 'offset' to give the 1-based line and column (in characters) there, counting
 * line breaks as libyaml does (LF, CR, CR LF). */
static void position_at(const char *data, size_t offset, unsigned *ret_line, unsigned *ret_column) {
        unsigned line = 1, column = 1;

        for (size_t i = 0; i < offset; i++) {
                unsigned char c = (unsigned char) data[i];

                if (c == '\n' || (c == '\r' && (i + 1 >= offset || data[i + 1] != '\n'))) {
                        line++;
                        column = 1;
                } else if (c == '\r')
                        continue;
                else if ((c & 0xc0) != 0x80)
                        column++;
        }
        *ret_line = line;
        *ret_column = column;
}

/* Returns the offset of the first byte that does not start or continue a valid UTF-8 sequence
 * (overlong forms, surrogates and code points past U+10FFFF included), or 'size' when all is
 * valid. */
static size_t utf8_invalid_offset(const unsigned char *s, size_t size) {
        size_t i = 0;

        while (i < size) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t len;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return i;
                if (size - i < len)
                        return i;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return i;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return i;
                i += len;
        }
        return size;
}

struct reader {
        const char *file;
        const char *data;
        size_t size;
        struct yaml_read_diags *diags;
        struct yaml_read_stream *stream;
        /* The open sequences and mappings, innermost last: depth <= YAML_READ_MAX_DEPTH. */
        struct yaml_read_node *stack[YAML_READ_MAX_DEPTH];
        size_t depth;
        struct yaml_read_node *root; /* of the document being read */
        size_t n_nodes;
        unsigned document_line; /* where the document being read starts */
        unsigned document_column;
        bool failed; /* an error was reported; keep reading to report more */
};

static int reader_error(struct reader *rd, const yaml_mark_t *mark, const char *fmt, ...) _printf_(3, 4);
static int reader_error(struct reader *rd, const yaml_mark_t *mark, const char *fmt, ...) {
        va_list ap;
        int r;

        rd->failed = true;
        va_start(ap, fmt);
        r = yaml_read_diags_addv(rd->diags, rd->file, (unsigned) MIN(mark->line + 1, (size_t) UINT32_MAX),
                                 (unsigned) MIN(mark->column + 1, (size_t) UINT32_MAX), fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* Appends 'n' to an array of '*n_items' nodes, doubling its room as needed: a collection's
 * children, or a stream's documents. */
static int push_node(struct yaml_read_node ***array, size_t *n_items, size_t *n_allocated,
                     struct yaml_read_node *n) {
        if (*n_items >= *n_allocated) {
                size_t a = MAX(*n_allocated * 2, (size_t) 4);
                struct yaml_read_node **p = reallocarray(*array, a, sizeof(struct yaml_read_node *));

                if (!p)
                        return -ENOMEM;
                *array = p;
                *n_allocated = a;
        }
        (*array)[(*n_items)++] = n;
        return 0;
}

/* Hangs a new node below the innermost open collection, or makes it the document's root. The
 * node lives in the stream's arena whatever happens. */
static int attach(struct reader *rd, struct yaml_read_node *n, const yaml_mark_t *mark) {
        struct yaml_read_node *parent;
        int r;

        if (rd->n_nodes >= YAML_READ_MAX_NODES) {
                node_free(n);
                return reader_error(rd, mark, "more than %u YAML nodes in one file", YAML_READ_MAX_NODES);
        }
        rd->n_nodes++;

        if (rd->depth == 0) {
                assert(!rd->root);
                rd->root = n;
                return 0;
        }
        parent = rd->stack[rd->depth - 1];
        if (parent->kind == YAML_READ_MAPPING && parent->n_children % 2 == 0 &&
            n->kind != YAML_READ_SCALAR) {
                const char *what = n->kind == YAML_READ_SEQUENCE ? "a list" : "a mapping";

                node_free(n);
                return reader_error(rd, mark, "a mapping key must be a scalar, not %s", what);
        }
        r = push_node(&parent->children, &parent->n_children, &parent->n_allocated, n);
        if (r < 0) {
                node_free(n);
                return r;
        }
        return 0;
}

static int check_anchor(struct reader *rd, const yaml_char_t *anchor, const yaml_mark_t *mark) {
        if (!anchor)
                return 0;
        return reader_error(
                rd, mark,
                "anchor '&%s' is not supported: anchors and aliases have no use in this "
                "format, and refusing them rules out alias expansion (\"billion laughs\") attacks",
                (const char *) anchor);
}

/* Checks a tag against the standard ones the node kind allows. Returns 0 and the tag's suffix
 * ("str", "int", ...; "" for the non-specific "!"; NULL for no tag), or -EINVAL after reporting. */
static int check_tag(struct reader *rd, const yaml_char_t *tag, enum yaml_read_kind kind,
                     const yaml_mark_t *mark, const char **ret_suffix) {
        static const char *const scalar_tags[] = { "str", "null", "bool", "int", "float", NULL };
        const char *t = (const char *) tag, *suffix;

        if (!t) {
                *ret_suffix = NULL;
                return 0;
        }
        if (streq(t, "!")) {
                *ret_suffix = "";
                return 0;
        }
        suffix = startswith(t, TAG_PREFIX);
        if (suffix && ((kind == YAML_READ_SCALAR && match_any(suffix, scalar_tags)) ||
                       (kind == YAML_READ_SEQUENCE && streq(suffix, "seq")) ||
                       (kind == YAML_READ_MAPPING && streq(suffix, "map")))) {
                *ret_suffix = suffix;
                return 0;
        }
        if (suffix)
                return reader_error(rd, mark, "tag '!!%s' is not supported here", suffix);
        return reader_error(rd, mark,
                            "tag '%s' is not supported: only the standard tags (!!str, !!int, ...) are", t);
}

static int on_scalar(struct reader *rd, const yaml_event_t *e) {
        const char *value = (const char *) e->data.scalar.value;
        size_t length = e->data.scalar.length;
        const char *suffix = NULL;
        struct yaml_read_node *n;
        int r;

        r = check_anchor(rd, e->data.scalar.anchor, &e->start_mark);
        if (r < 0)
                return r;
        if (length > YAML_READ_MAX_SCALAR_SIZE)
                return reader_error(rd, &e->start_mark, "scalar longer than %u bytes",
                                    YAML_READ_MAX_SCALAR_SIZE);
        if (memchr(value, 0, length))
                return reader_error(rd, &e->start_mark, "NUL character in a scalar");
        r = check_tag(rd, e->data.scalar.tag, YAML_READ_SCALAR, &e->start_mark, &suffix);
        if (r == -ENOMEM)
                return r;

        /* One allocation holds the node and its text. */
        n = arena_alloc(&rd->stream->arena, sizeof(*n) + length + 1);
        if (!n)
                return -ENOMEM;
        n->kind = YAML_READ_SCALAR;
        n->line = (unsigned) MIN(e->start_mark.line + 1, (size_t) UINT32_MAX);
        n->column = (unsigned) MIN(e->start_mark.column + 1, (size_t) UINT32_MAX);
        n->value = (char *) (n + 1);
        memcpy(n->value, value, length);
        n->value[length] = 0;
        n->length = length;

        if (!suffix)
                n->type = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? resolve_plain(n->value)
                                                                          : YAML_READ_STRING;
        else if (streq(suffix, "") || streq(suffix, "str"))
                n->type = YAML_READ_STRING;
        else {
                /* !!null, !!bool, !!int, !!float: the text must be one, whatever the style. */
                enum yaml_read_type t = resolve_plain(n->value);
                bool fits = (streq(suffix, "null") && t == YAML_READ_NULL) ||
                            (streq(suffix, "bool") && t == YAML_READ_BOOL) ||
                            (streq(suffix, "int") && t == YAML_READ_INT) ||
                            (streq(suffix, "float") && (t == YAML_READ_FLOAT || t == YAML_READ_INT));

                n->type = streq(suffix, "float") ? YAML_READ_FLOAT : t;
                if (!fits) {
                        r = reader_error(rd, &e->start_mark, "'%s' is not a valid !!%s", n->value, suffix);
                        if (r == -ENOMEM)
                                return r;
                }
        }
        return attach(rd, n, &e->start_mark);
}

static int on_collection_start(struct reader *rd, const yaml_event_t *e, enum yaml_read_kind kind) {
        const yaml_char_t *anchor, *tag;
        const char *suffix = NULL;
        struct yaml_read_node *n;
        int r;

        if (kind == YAML_READ_SEQUENCE) {
                anchor = e->data.sequence_start.anchor;
                tag = e->data.sequence_start.tag;
        } else {
                anchor = e->data.mapping_start.anchor;
                tag = e->data.mapping_start.tag;
        }
        r = check_anchor(rd, anchor, &e->start_mark);
        if (r < 0)
                return r;
        if (rd->depth >= YAML_READ_MAX_DEPTH)
                return reader_error(rd, &e->start_mark, "nesting deeper than %u levels",
                                    YAML_READ_MAX_DEPTH);
        r = check_tag(rd, tag, kind, &e->start_mark, &suffix);
        if (r == -ENOMEM)
                return r;

        n = arena_alloc(&rd->stream->arena, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->kind = kind;
        n->line = (unsigned) MIN(e->start_mark.line + 1, (size_t) UINT32_MAX);
        n->column = (unsigned) MIN(e->start_mark.column + 1, (size_t) UINT32_MAX);
        r = attach(rd, n, &e->start_mark);
        if (r < 0)
                return r;
        rd->stack[rd->depth++] = n;
        return 0;
}

struct key_ref {
        const struct yaml_read_node *key;
        size_t index;
};

static int key_ref_cmp(const void *a, const void *b) {
        const struct key_ref *x = a, *y = b;
        size_t n = MIN(x->key->length, y->key->length);
        int c = memcmp(x->key->value, y->key->value, n);

        if (c != 0)
                return c;
        if (x->key->length != y->key->length)
                return x->key->length < y->key->length ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Reports every key that repeats an earlier one. Sorts instead of comparing all pairs, so that
 * a mapping with many keys costs O(n log n), not O(n^2). */
static int check_duplicate_keys(struct reader *rd, const struct yaml_read_node *map) {
        size_t n = map->n_children / 2;
        _cleanup_free_ struct key_ref *refs = NULL;
        _cleanup_free_ bool *dup = NULL;
        _cleanup_free_ size_t *first = NULL;
        int r;

        if (n < 2)
                return 0;
        refs = reallocarray(NULL, n, sizeof(*refs));
        dup = calloc(n, sizeof(*dup));
        first = reallocarray(NULL, n, sizeof(*first));
        if (!refs || !dup || !first)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                refs[i] = (struct key_ref){ .key = map->children[2 * i], .index = i };
        qsort(refs, n, sizeof(*refs), key_ref_cmp);

        for (size_t i = 1, head = 0; i < n; i++) {
                if (refs[i].key->length == refs[head].key->length &&
                    memcmp(refs[i].key->value, refs[head].key->value, refs[i].key->length) == 0) {
                        dup[refs[i].index] = true;
                        first[refs[i].index] = refs[head].index;
                } else
                        head = i;
        }

        /* Report in the order of the file. */
        for (size_t i = 0; i < n; i++) {
                const struct yaml_read_node *k, *f;

                if (!dup[i])
                        continue;
                k = map->children[2 * i];
                f = map->children[2 * first[i]];
                rd->failed = true;
                r = yaml_read_diags_add(rd->diags, rd->file, k->line, k->column,
                                        "duplicate key '%.*s' (first defined at line %u, column %u)",
                                        (int) MIN(k->length, (size_t) QUOTED_KEY_MAX), k->value, f->line,
                                        f->column);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_collection_end(struct reader *rd) {
        struct yaml_read_node *n;

        assert(rd->depth > 0);
        n = rd->stack[--rd->depth];
        if (n->kind == YAML_READ_MAPPING)
                return check_duplicate_keys(rd, n);
        return 0;
}

static int on_document_end(struct reader *rd) {
        struct yaml_read_stream *s = rd->stream;
        int r;

        assert(rd->root);
        /* A document with no content: point at its start ("---"), not at whatever follows. */
        if (rd->root->kind == YAML_READ_SCALAR && rd->root->type == YAML_READ_NULL &&
            rd->root->length == 0) {
                rd->root->line = rd->document_line;
                rd->root->column = rd->document_column;
        }
        r = push_node(&s->documents, &s->n_documents, &s->n_allocated, rd->root);
        if (r < 0)
                return r;
        rd->root = NULL;
        return 0;
}

static int syntax_error(struct reader *rd, const yaml_parser_t *p) {
        const char *problem = p->problem ?: "unknown error";
        unsigned line, column;
        int r;

        rd->failed = true;
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                /* Reader errors carry a byte offset, not a mark. */
                position_at(rd->data, MIN(p->problem_offset, rd->size), &line, &column);
                r = yaml_read_diags_add(rd->diags, rd->file, line, column, "invalid input: %s", problem);
        } else if (p->context)
                r = yaml_read_diags_add(rd->diags, rd->file, (unsigned) p->problem_mark.line + 1,
                                        (unsigned) p->problem_mark.column + 1,
                                        "syntax error: %s (%s at line %u, column %u)", problem, p->context,
                                        (unsigned) p->context_mark.line + 1,
                                        (unsigned) p->context_mark.column + 1);
        else
                r = yaml_read_diags_add(rd->diags, rd->file, (unsigned) p->problem_mark.line + 1,
                                        (unsigned) p->problem_mark.column + 1, "syntax error: %s", problem);
        return r < 0 ? r : -EINVAL;
}

static void parser_deletep(yaml_parser_t **p) {
        if (*p)
                yaml_parser_delete(*p);
}

static void event_deletep(yaml_event_t *e) {
        yaml_event_delete(e);
}

/* Feeds the events of the whole stream to the handlers above. Returns 0 when libyaml accepted
 * the stream (rd->failed tells whether we refused anything in it), or a negative errno. */
static int read_events(struct reader *rd) {
        yaml_parser_t parser;
        _cleanup_(parser_deletep) yaml_parser_t *p = NULL;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        p = &parser;
        yaml_parser_set_input_string(p, (const unsigned char *) rd->data, rd->size);
        /* UTF-8 only: set, libyaml neither guesses UTF-16 nor looks for a byte order mark. */
        yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);

        for (;;) {
                _cleanup_(event_deletep) yaml_event_t e = {};
                int r = 0;

                if (!yaml_parser_parse(p, &e))
                        return syntax_error(rd, p);

                switch (e.type) {
                case YAML_STREAM_END_EVENT:
                        return 0;
                case YAML_DOCUMENT_START_EVENT:
                        assert(rd->depth == 0);
                        rd->document_line = (unsigned) MIN(e.start_mark.line + 1, (size_t) UINT32_MAX);
                        rd->document_column = (unsigned) MIN(e.start_mark.column + 1, (size_t) UINT32_MAX);
                        break;
                case YAML_DOCUMENT_END_EVENT:
                        r = on_document_end(rd);
                        break;
                case YAML_ALIAS_EVENT:
                        return reader_error(
                                rd, &e.start_mark,
                                "alias '*%s' is not supported: anchors and aliases have no use in "
                                "this format, and refusing them rules out alias expansion "
                                "(\"billion laughs\") attacks",
                                (const char *) e.data.alias.anchor);
                case YAML_SCALAR_EVENT:
                        r = on_scalar(rd, &e);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_collection_start(rd, &e, YAML_READ_SEQUENCE);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_collection_start(rd, &e, YAML_READ_MAPPING);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = on_collection_end(rd);
                        break;
                default:
                        break;
                }
                /* Handlers return an error only when the stream cannot go on; the refusals that
                 * leave the tree whole (a tag, a duplicate key) set rd->failed and go on, so that
                 * one pass reports them all. */
                if (r < 0)
                        return r;
        }
}

static void reader_done(struct reader *rd) {
        /* The open collections all hang below the root; the nodes themselves go with the
         * stream's arena. */
        node_free(rd->root);
        rd->root = NULL;
        rd->stream = yaml_read_stream_free(rd->stream);
}

int yaml_read_buffer(const char *file, const void *data, size_t size, struct yaml_read_stream **ret,
                     struct yaml_read_diags *diags) {
        _cleanup_(reader_done) struct reader rd = {
                .file = file,
                .data = data,
                .size = size,
                .diags = diags,
        };
        const char *nul;
        unsigned line, column;
        size_t bad;
        int r;

        assert(file);
        assert(data || size == 0);
        assert(ret);
        assert(diags);

        if (size > YAML_READ_MAX_FILE_SIZE) {
                r = yaml_read_diags_add(diags, file, 0, 0, "larger than %u bytes", YAML_READ_MAX_FILE_SIZE);
                return r < 0 ? r : -EFBIG;
        }
        nul = size > 0 ? memchr(data, 0, size) : NULL;
        if (nul) {
                position_at(data, (size_t) (nul - (const char *) data), &line, &column);
                r = yaml_read_diags_add(diags, file, line, column, "NUL byte in the file");
                return r < 0 ? r : -EINVAL;
        }
        bad = utf8_invalid_offset(data, size);
        if (bad < size) {
                position_at(data, bad, &line, &column);
                r = yaml_read_diags_add(diags, file, line, column, "invalid UTF-8 (byte 0x%02x)",
                                        ((const unsigned char *) data)[bad]);
                return r < 0 ? r : -EINVAL;
        }

        /* A UTF-8 byte order mark is allowed, and skipped here: libyaml would count it as a
         * column of the first line. */
        if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                rd.data += 3;
                rd.size -= 3;
        }

        rd.stream = calloc(1, sizeof(*rd.stream));
        if (!rd.stream)
                return -ENOMEM;
        rd.stream->file = strdup(file);
        if (!rd.stream->file)
                return -ENOMEM;

        r = read_events(&rd);
        if (r == -ENOMEM || diags->oom)
                return -ENOMEM;
        if (r < 0 || rd.failed)
                return -EINVAL;

        *ret = TAKE_PTR(rd.stream);
        return 0;
}

int yaml_read_file(const char *path, struct yaml_read_stream **ret, struct yaml_read_diags *diags) {
        return yaml_read_file_at(AT_FDCWD, path, path, ret, diags);
}

int yaml_read_contents_at(int dir_fd, const char *path, const char *name, char **ret_data, size_t *ret_size,
                          struct yaml_read_diags *diags) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        assert(path);
        assert(name);
        assert(ret_data);
        assert(ret_size);
        assert(diags);

        /* O_NONBLOCK: a FIFO named like a manifest must not hang us; regular files ignore it. */
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                (void) yaml_read_diags_add(diags, name, 0, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                (void) yaml_read_diags_add(diags, name, 0, 0, "cannot stat: %s", strerror(-r));
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                (void) yaml_read_diags_add(diags, name, 0, 0, "is a directory, not a file");
                return -EISDIR;
        }
        if (!S_ISREG(st.st_mode)) {
                (void) yaml_read_diags_add(diags, name, 0, 0, "not a regular file");
                return -EINVAL;
        }
        if (st.st_size > (off_t) YAML_READ_MAX_FILE_SIZE) {
                (void) yaml_read_diags_add(diags, name, 0, 0, "larger than %u bytes",
                                           YAML_READ_MAX_FILE_SIZE);
                return -EFBIG;
        }

        /* Read up to the limit plus one byte, whatever fstat said: the file may grow meanwhile. */
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t want = (size_t) st.st_size + 1;;) {
                ssize_t k = read(fd, buf + size, want - size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        (void) yaml_read_diags_add(diags, name, 0, 0, "cannot read: %s", strerror(-r));
                        return r;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size == want) {
                        char *b;

                        if (want > YAML_READ_MAX_FILE_SIZE) {
                                (void) yaml_read_diags_add(diags, name, 0, 0, "larger than %u bytes",
                                                           YAML_READ_MAX_FILE_SIZE);
                                return -EFBIG;
                        }
                        want = MIN(want * 2, (size_t) YAML_READ_MAX_FILE_SIZE + 1);
                        b = realloc(buf, want);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
        }
        buf[size] = '\0'; /* there is room: the buffer holds one byte more than was read */
        *ret_data = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int yaml_read_file_at(int dir_fd, const char *path, const char *name, struct yaml_read_stream **ret,
                      struct yaml_read_diags *diags) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r;

        /* The file is closed before parsing: a directory walk holds at most one descriptor at a
         * time. */
        r = yaml_read_contents_at(dir_fd, path, name, &buf, &size, diags);
        if (r < 0)
                return r;
        return yaml_read_buffer(name, buf, size, ret, diags);
}

/* Optimal string alignment distance, cut off early: returns a value > limit as soon as the
 * distance is known to exceed it. Words longer than 64 bytes are never suggested. */
static size_t edit_distance(const char *a, const char *b, size_t limit) {
        size_t la = strlen(a), lb = strlen(b);
        size_t d[65][65];

        if (la > 64 || lb > 64)
                return limit + 1;
        if ((la > lb ? la - lb : lb - la) > limit)
                return limit + 1;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        size_t v = MIN(MIN(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);

                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = MIN(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return d[la][lb];
}

const char *yaml_read_suggest(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = 3;

        for (size_t i = 0; i < n; i++) {
                size_t d = edit_distance(word, candidates[i], 2);

                if (d < best_d && d < strlen(word) && d < strlen(candidates[i])) {
                        best = candidates[i];
                        best_d = d;
                }
        }
        return best;
}

char *yaml_read_path_key(char *buf, size_t size, const char *prefix, const char *key) {
        if (isempty(prefix))
                (void) snprintf(buf, size, "%s", key);
        else
                (void) snprintf(buf, size, "%s.%s", prefix, key);
        return buf;
}

char *yaml_read_path_index(char *buf, size_t size, const char *prefix, size_t index) {
        (void) snprintf(buf, size, "%s[%zu]", strempty(prefix), index);
        return buf;
}

int yaml_read_mapping_slots(const struct yaml_read_node *map, const char *file, const char *path,
                            const char *const *keys, size_t n_keys, const struct yaml_read_node **ret_values,
                            struct yaml_read_diags *d) {
        bool unknown = false;

        assert(map);
        assert(map->kind == YAML_READ_MAPPING);

        for (size_t i = 0; i < n_keys; i++)
                ret_values[i] = NULL;

        for (size_t i = 0; i + 1 < map->n_children; i += 2) {
                const struct yaml_read_node *k = map->children[i];
                const char *hint;
                size_t j;
                int r;

                for (j = 0; j < n_keys; j++)
                        if (streq(k->value, keys[j]))
                                break;
                if (j < n_keys) {
                        ret_values[j] = map->children[i + 1];
                        continue;
                }

                unknown = true;
                hint = yaml_read_suggest(k->value, keys, n_keys);
                r = yaml_read_diags_add(d, file, k->line, k->column, "unknown key '%s%s%.*s%s'%s%s%s",
                                        strempty(path), isempty(path) ? "" : ".",
                                        (int) MIN(k->length, (size_t) QUOTED_KEY_MAX), k->value,
                                        k->length > QUOTED_KEY_MAX ? "..." : "",
                                        hint ? " (did you mean '" : "", strempty(hint), hint ? "'?)" : "");
                if (r < 0)
                        return r;
        }
        return unknown ? -EINVAL : 0;
}
