#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fake-filter.h"
#include "fake-util.h"
#include "util.h"

/* Deeper JSON is refused: cJSON, which parsed every document the fake stores, stops at 1000 too.
 * A path name at depth d only ever matches a name nested d deep, so paths are kept to this many
 * names as well: the rest could never match. */
#define MAX_DEPTH 1000u

/* ---- the paths, as a tree (FilterPath.compile()) ---- */

struct node {
        char *name;           /* one name of a path; NULL at the root */
        bool final;           /* a path ends here: what this name matches is matched whole */
        bool wildcard;        /* the name holds a '*' (Glob.globMatch()) */
        bool double_wildcard; /* the name is "**": in force again at each level below a match */
        struct node **children;
        size_t n_children;
};

static struct node *node_free(struct node *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_children; i++)
                node_free(n->children[i]);
        free(n->children);
        free(n->name);
        free(n);
        return NULL;
}

static inline void node_freep(struct node **n) {
        node_free(*n);
}

/* Takes ownership of 'name' (NULL for the root), also on failure. */
static struct node *node_new(char *name, bool final) {
        struct node *n = calloc(1, sizeof(*n));

        if (!n) {
                free(name);
                return NULL;
        }
        n->name = name;
        n->final = final;
        n->wildcard = name && strchr(name, '*');
        n->double_wildcard = name && streq(name, "**");
        return n;
}

static struct node *node_child(const struct node *n, const char *name) {
        for (size_t i = 0; i < n->n_children; i++)
                if (streq(n->children[i]->name, name))
                        return n->children[i];
        return NULL;
}

/* Adds a child, replacing one of the same name (a HashMap.put()). Takes ownership of 'child'. */
static int node_put(struct node *n, struct node *child) {
        struct node **v;

        for (size_t i = 0; i < n->n_children; i++)
                if (streq(n->children[i]->name, child->name)) {
                        node_free(n->children[i]);
                        n->children[i] = child;
                        return 0;
                }
        v = realloc(n->children, (n->n_children + 1) * sizeof(*v));
        if (!v) {
                node_free(child);
                return -ENOMEM;
        }
        n->children = v;
        n->children[n->n_children++] = child;
        return 0;
}

/* Bytes in the UTF-8 sequence led by 'c' (1 for a stray byte). */
static size_t utf8_len(unsigned char c) {
        return c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static bool line_terminator(const char *s, size_t n) {
        return (n == 1 && (s[0] == '\n' || s[0] == '\r')) || (n == 2 && memcmp(s, "\xc2\x85", 2) == 0) ||
               (n == 3 && (memcmp(s, "\xe2\x80\xa8", 3) == 0 || memcmp(s, "\xe2\x80\xa9", 3) == 0));
}

/* One name of a path. When it holds an escaped dot, FilterPath unescapes it with
 * replaceAll("\\\\.", "."): a regular expression that turns a backslash and whatever character
 * follows it (a line terminator excepted) into a dot, so "a\\xb" becomes "a.b" too. */
static char *path_name(const char *s, size_t n, bool escapes) {
        struct strbuf sb = {};
        char *name = NULL;

        if (!escapes)
                return strndup(s, n);
        for (size_t i = 0; i < n;) {
                if (s[i] == '\\' && i + 1 < n) {
                        size_t k = MIN(utf8_len((unsigned char) s[i + 1]), n - i - 1);

                        if (!line_terminator(s + i + 1, k)) {
                                sb_append(&sb, ".", 1);
                                i += 1 + k;
                                continue;
                        }
                }
                sb_append(&sb, s + i, 1);
                i++;
        }
        return sb_steal(&sb, &name) < 0 ? NULL : name;
}

/* FilterPathBuilder.insertNode(): splits at the first dot that is not escaped, unless the path
 * starts with it (".a" is one name); a shorter path that ends at a name makes the longer ones
 * through it moot. */
static int insert(struct node *root, const char *f, size_t n) {
        struct node *node = root;

        for (unsigned depth = 0; depth < MAX_DEPTH; depth++) {
                size_t split = 0;
                bool escapes = false;
                struct node *child;
                char *name;

                for (size_t i = 0; i < n; i++) {
                        if (f[i] == '.') {
                                split = i;
                                break;
                        }
                        if (f[i] == '\\' && i + 1 < n && f[i + 1] == '.') {
                                i++;
                                escapes = true;
                        }
                }
                if (split == 0) {
                        name = path_name(f, n, escapes);
                        if (!name)
                                return -ENOMEM;
                        child = node_new(name, true);
                        return child ? node_put(node, child) : -ENOMEM;
                }
                name = path_name(f, split, escapes);
                if (!name)
                        return -ENOMEM;
                child = node_child(node, name);
                if (child)
                        free(name);
                else {
                        int r;

                        child = node_new(name, false);
                        if (!child)
                                return -ENOMEM;
                        r = node_put(node, child);
                        if (r < 0)
                                return r;
                }
                if (child->final)
                        return 0;
                node = child;
                f += split + 1;
                n -= split + 1;
        }
        return 0;
}

static bool java_blank(char c) {
        return (unsigned char) c <= ' ';
}

/* Splits filter_path as Strings.tokenizeByCommaToSet() does (each trimmed as String.trim() does,
 * empty ones dropped) and files each under the inclusive or the exclusive tree. A tree is NULL
 * when no path goes to it; *ret_any says whether any path was given. */
static int compile(const char *filter_path, struct node **ret_include, struct node **ret_exclude,
                   bool *ret_any) {
        _cleanup_(node_freep) struct node *include = NULL, *exclude = NULL;
        const char *p = filter_path;
        bool any = false;
        int r;

        while (p && *p) {
                size_t n = strcspn(p, ",");
                const char *s = p, *e = p + n;
                struct node **tree;

                p = *e ? e + 1 : e;
                while (s < e && java_blank(*s))
                        s++;
                while (e > s && java_blank(e[-1]))
                        e--;
                if (s == e)
                        continue;
                any = true;
                tree = *s == '-' ? &exclude : &include;
                if (*s == '-')
                        s++;
                if (!*tree && !(*tree = node_new(NULL, false)))
                        return -ENOMEM;
                /* FilterPath.compile() trims again (after the '-') and skips what is left empty. */
                while (s < e && java_blank(*s))
                        s++;
                if (s == e)
                        continue;
                r = insert(*tree, s, (size_t) (e - s));
                if (r < 0)
                        return r;
        }
        *ret_include = TAKE_PTR(include);
        *ret_exclude = TAKE_PTR(exclude);
        *ret_any = any;
        return 0;
}

/* ---- matching a name (FilterPath.matches(), FilterPathBasedFilter.evaluate()) ---- */

/* The paths in force at one level of the document. */
struct level {
        const struct node **v;
        size_t n;
        size_t cap;
};

static void level_done(struct level *l) {
        free(l->v);
}

static int level_add(struct level *l, const struct node *node) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] == node)
                        return 0; /* the same path twice matches the same names */
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 8;
                const struct node **v = realloc(l->v, cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = node;
        return 0;
}

/* Glob.globMatch(): '*' stands for any run of characters, nothing else is special. */
static bool star_match(const char *pattern, const char *s, size_t n) {
        const char *star = NULL;
        size_t i = 0, resume = 0;

        while (i < n) {
                if (*pattern == '*') {
                        star = pattern++;
                        resume = i;
                } else if (*pattern && *pattern == s[i]) {
                        pattern++;
                        i++;
                } else if (star) {
                        pattern = star + 1;
                        i = ++resume;
                } else
                        return false;
        }
        while (*pattern == '*')
                pattern++;
        return *pattern == 0;
}

/* How the paths in force at a level take a name there. */
enum match {
        MATCH_NONE,    /* no path goes through the name */
        MATCH_WHOLE,   /* a path ends at the name */
        MATCH_PARTIAL, /* paths go on below it: those are in *next */
};

/* Matches a name (n bytes) against the children of each path node in force: a final child that
 * matches ends there; the others that match, and a "**" node itself, go on into *next. */
static int evaluate(const struct level *lv, const char *name, size_t n, struct level *next,
                    enum match *ret) {
        int r;

        next->n = 0;
        for (size_t i = 0; i < lv->n; i++) {
                const struct node *f = lv->v[i];

                for (size_t k = 0; k < f->n_children; k++) {
                        const struct node *c = f->children[k];
                        bool hit = c->wildcard ? star_match(c->name, name, n)
                                               : strlen(c->name) == n && memcmp(c->name, name, n) == 0;

                        if (!hit)
                                continue;
                        if (c->final) {
                                *ret = MATCH_WHOLE;
                                return 0;
                        }
                        r = level_add(next, c);
                        if (r < 0)
                                return r;
                }
                if (f->double_wildcard) {
                        r = level_add(next, f);
                        if (r < 0)
                                return r;
                }
        }
        *ret = next->n > 0 ? MATCH_PARTIAL : MATCH_NONE;
        return 0;
}

/* ---- the document ---- */

struct parser {
        const char *s;
        size_t len;
        size_t pos;
};

static void skip_ws(struct parser *p) {
        while (p->pos < p->len &&
               (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
                p->pos++;
}

static bool at(const struct parser *p, char c) {
        return p->pos < p->len && p->s[p->pos] == c;
}

static int hex4(const char *s, unsigned *ret) {
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Moves past a string; p is at its opening quote. */
static int scan_string(struct parser *p) {
        unsigned u;

        for (p->pos++; p->pos < p->len; p->pos++) {
                unsigned char c = (unsigned char) p->s[p->pos];

                if (c == '"') {
                        p->pos++;
                        return 0;
                }
                if (c < 0x20)
                        return -EINVAL;
                if (c != '\\')
                        continue;
                if (++p->pos >= p->len)
                        return -EINVAL;
                c = (unsigned char) p->s[p->pos];
                if (c == 'u') {
                        if (p->len - p->pos < 5 || hex4(p->s + p->pos + 1, &u) < 0)
                                return -EINVAL;
                        p->pos += 4;
                } else if (!strchr("\"\\/bfnrt", c) || c == 0)
                        return -EINVAL;
        }
        return -EINVAL;
}

static void put_utf8(struct strbuf *sb, unsigned cp) {
        char b[4];
        size_t n;

        if (cp < 0x80) {
                b[0] = (char) cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (char) (0xc0 | (cp >> 6));
                b[1] = (char) (0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                b[0] = (char) (0xe0 | (cp >> 12));
                b[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char) (0x80 | (cp & 0x3f));
                n = 3;
        } else {
                b[0] = (char) (0xf0 | (cp >> 18));
                b[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char) (0x80 | (cp & 0x3f));
                n = 4;
        }
        sb_append(sb, b, n);
}

/* The text of a string whose escapes were checked by scan_string(): s and n without the quotes. */
static int decode_string(const char *s, size_t n, struct strbuf *sb) {
        for (size_t i = 0; i < n; i++) {
                unsigned cp, lo;

                if (s[i] != '\\') {
                        sb_append(sb, s + i, 1);
                        continue;
                }
                switch (s[++i]) {
                case 'b':
                        sb_append(sb, "\b", 1);
                        break;
                case 'f':
                        sb_append(sb, "\f", 1);
                        break;
                case 'n':
                        sb_append(sb, "\n", 1);
                        break;
                case 'r':
                        sb_append(sb, "\r", 1);
                        break;
                case 't':
                        sb_append(sb, "\t", 1);
                        break;
                case 'u':
                        (void) hex4(s + i + 1, &cp);
                        i += 4;
                        /* A surrogate pair is one character; a lone surrogate stays what it is. */
                        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
                            s[i + 2] == 'u' && hex4(s + i + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                i += 6;
                        }
                        put_utf8(sb, cp);
                        break;
                default: /* '"', '\\', '/' */
                        sb_append(sb, s + i, 1);
                }
        }
        return sb->oom ? -ENOMEM : 0;
}

static bool digit(const struct parser *p) {
        return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static int scan_number(struct parser *p) {
        if (at(p, '-'))
                p->pos++;
        if (at(p, '0'))
                p->pos++;
        else if (digit(p))
                while (digit(p))
                        p->pos++;
        else
                return -EINVAL;
        if (at(p, '.')) {
                p->pos++;
                if (!digit(p))
                        return -EINVAL;
                while (digit(p))
                        p->pos++;
        }
        if (at(p, 'e') || at(p, 'E')) {
                p->pos++;
                if (at(p, '+') || at(p, '-'))
                        p->pos++;
                if (!digit(p))
                        return -EINVAL;
                while (digit(p))
                        p->pos++;
        }
        return 0;
}

static int scan_literal(struct parser *p) {
        static const char *const literals[] = { "true", "false", "null" };

        for (size_t i = 0; i < ELEMENTSOF(literals); i++) {
                size_t n = strlen(literals[i]);

                if (p->len - p->pos >= n && memcmp(p->s + p->pos, literals[i], n) == 0) {
                        p->pos += n;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Copies one value compactly into 'out', or only moves past it when 'out' is NULL. */
static int copy_value(struct parser *p, struct strbuf *out, unsigned depth) {
        size_t start;
        char open, close;
        int r;

        skip_ws(p);
        if (p->pos >= p->len)
                return -EINVAL;
        open = p->s[p->pos];
        if (open != '{' && open != '[') {
                start = p->pos;
                if (open == '"')
                        r = scan_string(p);
                else if (open == '-' || (open >= '0' && open <= '9'))
                        r = scan_number(p);
                else
                        r = scan_literal(p);
                if (r < 0)
                        return r;
                if (out)
                        sb_append(out, p->s + start, p->pos - start);
                return 0;
        }
        if (depth >= MAX_DEPTH)
                return -EINVAL;
        close = open == '{' ? '}' : ']';
        p->pos++;
        if (out)
                sb_append(out, &open, 1);
        skip_ws(p);
        if (!at(p, close))
                for (;;) {
                        if (open == '{') {
                                skip_ws(p);
                                start = p->pos;
                                if (!at(p, '"') || scan_string(p) < 0)
                                        return -EINVAL;
                                if (out)
                                        sb_append(out, p->s + start, p->pos - start);
                                skip_ws(p);
                                if (!at(p, ':'))
                                        return -EINVAL;
                                p->pos++;
                                if (out)
                                        sb_append(out, ":", 1);
                        }
                        r = copy_value(p, out, depth + 1);
                        if (r < 0)
                                return r;
                        skip_ws(p);
                        if (!at(p, ','))
                                break;
                        p->pos++;
                        if (out)
                                sb_append(out, ",", 1);
                }
        if (!at(p, close))
                return -EINVAL;
        p->pos++;
        if (out)
                sb_append(out, &close, 1);
        return 0;
}

static int filter_container(struct parser *p, const struct level *lv, bool inclusive, bool top,
                            struct strbuf *out, bool *ret_kept, unsigned depth);

/* A value under a name that paths go on below. */
static int filter_value(struct parser *p, const struct level *lv, bool inclusive, struct strbuf *out,
                        bool *ret_kept, unsigned depth) {
        int r;

        skip_ws(p);
        if (at(p, '{') || at(p, '['))
                return filter_container(p, lv, inclusive, false, out, ret_kept, depth);
        /* FilterPathBasedFilter._includeScalar(): no path ends here, so an inclusive filter drops
         * the value and an exclusive one keeps it. */
        r = copy_value(p, inclusive ? NULL : out, depth);
        if (r < 0)
                return r;
        *ret_kept = !inclusive;
        return 0;
}

/* An object or array, p at its opening bracket, filtered by the paths in force at its level.
 * Array elements are filtered as the array is (TokenFilter.includeElement() returns the filter
 * itself). What is dropped is written and then cut off again. */
static int filter_container(struct parser *p, const struct level *lv, bool inclusive, bool top,
                            struct strbuf *out, bool *ret_kept, unsigned depth) {
        char open = p->s[p->pos], close = open == '{' ? '}' : ']';
        size_t mark = out->len, n_in = 0, n_out = 0;
        struct strbuf name = {};
        struct level next = {};
        int r = 0;

        if (depth >= MAX_DEPTH)
                return -EINVAL;
        p->pos++;
        sb_append(out, &open, 1);
        skip_ws(p);
        while (!at(p, close)) {
                size_t item = out->len;
                bool kept = false;

                if (n_out > 0)
                        sb_append(out, ",", 1);
                if (open == '{') {
                        size_t start;
                        const char *key;
                        size_t key_len;
                        enum match m;

                        skip_ws(p);
                        start = p->pos;
                        if (!at(p, '"') || scan_string(p) < 0) {
                                r = -EINVAL;
                                break;
                        }
                        key = p->s + start + 1;
                        key_len = p->pos - start - 2;
                        if (memchr(key, '\\', key_len)) {
                                sb_truncate(&name, 0);
                                r = decode_string(key, key_len, &name);
                                if (r < 0)
                                        break;
                                key = name.s;
                                key_len = name.len;
                        }
                        r = evaluate(lv, key, key_len, &next, &m);
                        if (r < 0)
                                break;
                        sb_append(out, p->s + start, p->pos - start);
                        skip_ws(p);
                        if (!at(p, ':')) {
                                r = -EINVAL;
                                break;
                        }
                        p->pos++;
                        sb_append(out, ":", 1);
                        /* FilterPathBasedFilter.includeProperty(): a whole match takes the value
                         * whole (inclusive) or drops it (exclusive), no match the other way round. */
                        if (m == MATCH_PARTIAL)
                                r = filter_value(p, &next, inclusive, out, &kept, depth + 1);
                        else {
                                kept = (m == MATCH_WHOLE) == inclusive;
                                r = copy_value(p, kept ? out : NULL, depth + 1);
                        }
                } else
                        r = filter_value(p, lv, inclusive, out, &kept, depth + 1);
                if (r < 0)
                        break;
                n_in++;
                if (kept)
                        n_out++;
                else
                        sb_truncate(out, item);
                skip_ws(p);
                if (!at(p, ','))
                        break;
                p->pos++;
                skip_ws(p);
                if (at(p, close)) {
                        r = -EINVAL; /* a trailing comma */
                        break;
                }
        }
        sb_done(&name);
        level_done(&next);
        if (r < 0)
                return r;
        if (!at(p, close))
                return -EINVAL;
        p->pos++;
        sb_append(out, &close, 1);
        /* TokenFilter.includeEmptyObject()/includeEmptyArray(contentsFiltered): an inclusive filter
         * drops what it left empty; an exclusive one drops only what it emptied itself. The
         * top-level object is written apart from the filter and always stays. */
        if (n_out == 0 && !top && (inclusive || n_in > 0)) {
                sb_truncate(out, mark);
                *ret_kept = false;
                return 0;
        }
        *ret_kept = true;
        return 0;
}

static int filter_document(const char *json, size_t len, const struct node *root, bool inclusive,
                           char **ret) {
        struct parser p = { .s = json, .len = len };
        const struct node *top[] = { root };
        struct level lv = { .v = top, .n = 1, .cap = 1 };
        struct strbuf sb = {};
        bool kept;
        int r;

        skip_ws(&p);
        if (at(&p, '{') || at(&p, '['))
                r = filter_container(&p, &lv, inclusive, true, &sb, &kept, 0);
        else
                r = copy_value(&p, &sb, 0);
        skip_ws(&p);
        if (r == 0 && p.pos != p.len)
                r = -EINVAL;
        if (r < 0) {
                sb_done(&sb);
                return r;
        }
        return sb_steal(&sb, ret);
}

int fake_filter_path(const char *json, size_t len, const char *filter_path, char **ret) {
        _cleanup_(node_freep) struct node *include = NULL, *exclude = NULL;
        _cleanup_free_ char *included = NULL, *result = NULL;
        bool any;
        int r;

        r = compile(filter_path, &include, &exclude, &any);
        if (r < 0)
                return r;
        if (!any)
                return 0;
        /* JsonXContentGenerator stacks the inclusive filter on top of the exclusive one: what the
         * inclusive paths let through is what the exclusive ones see. */
        if (include) {
                r = filter_document(json, len, include, true, &included);
                if (r < 0)
                        return r;
                json = included;
                len = strlen(included);
        }
        if (exclude) {
                r = filter_document(json, len, exclude, false, &result);
                if (r < 0)
                        return r;
        } else
                result = TAKE_PTR(included);
        *ret = TAKE_PTR(result);
        return 1;
}
