#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "json-scan.h"
#include "json-write.h"
#include "plan-file.h"
#include "util.h"

/* ---- writing ---- */

struct writer {
        const struct plan *plan;
        const struct plan_file_context *ctx;
};

static int write_plan(FILE *f, void *userdata) {
        const struct writer *w = userdata;
        const struct plan *p = w->plan;
        bool first = true;

        (void) fprintf(f,
                       "{\"format\":\"%s\",\"format_version\":%d,\n\"cluster\":{\"url\":", PLAN_FILE_FORMAT,
                       PLAN_FILE_FORMAT_VERSION);
        json_write_string(f, w->ctx->url);
        (void) fputs(",\"name\":", f);
        json_write_string(f, w->ctx->cluster_name);
        (void) fputs(",\"uuid\":", f);
        json_write_string(f, w->ctx->cluster_uuid);
        (void) fputs(",\"version\":", f);
        json_write_string(f, w->ctx->es_version);
        (void) fputs("},\n\"manifests\":{\"digest\":", f);
        json_write_string(f, w->ctx->manifests_digest);
        (void) fputs("},\n\"blocked\":", f);
        json_write_string(f, p->blocked);
        (void) fputs(",\n\"delete\":[", f);
        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;

                if (it->kind != PLAN_DELETE)
                        continue;
                (void) fputs(first ? "\n{\"id\":" : ",\n{\"id\":", f);
                first = false;
                json_write_string(f, it->id);
                (void) fprintf(f, ",\"delete_sync_jobs\":%s,\"hard\":%s,\"purge\":%s,\"sets\":[",
                               it->delete_sync_jobs ? "true" : "false", it->hard ? "true" : "false",
                               it->purge ? "true" : "false");
                for (size_t j = 0; j < it->n_sets; j++) {
                        if (j > 0)
                                (void) fputc(',', f);
                        json_write_string(f, it->sets[j]);
                }
                (void) fputs("]}", f);
        }
        (void) fputs(first ? "]}\n" : "\n]}\n", f);
        return 0;
}

int plan_file_write(const char *path, const struct plan *p, const struct plan_file_context *ctx) {
        _cleanup_free_ char *dir = NULL;
        const char *slash, *name;
        struct writer w = { .plan = p, .ctx = ctx };

        assert(path);
        assert(p);
        assert(ctx);

        slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
        if (!*name)
                return -EINVAL;
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        return fs_write_atomic_stream(dir, name, 0644, write_plan, &w);
}

/* ---- reading ---- */

static int next(struct json_scan *s, struct json_scan_token *t, char **reterr_message) {
        if (json_scan_next(s, t) >= 0)
                return 0;
        return reterr_printf(reterr_message, -EBADMSG, "not valid JSON at byte %zu: %s", s->error_offset,
                             strna(json_scan_error_to_string(s->error)));
}

/* The next value, which must be a string (or null when 'null_ok': *ret stays NULL). */
static int read_string(struct json_scan *s, const char *what, bool null_ok, char **ret,
                       char **reterr_message) {
        struct json_scan_token t;
        int r;

        r = next(s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type == JSON_SCAN_NULL && null_ok)
                return 0;
        if (t.type != JSON_SCAN_STRING)
                return reterr_printf(reterr_message, -EBADMSG, "'%s' is not a string%s", what,
                                     null_ok ? " or null" : "");
        return json_scan_string_dup(&t, ret);
}

static int read_bool(struct json_scan *s, const char *what, bool *ret, char **reterr_message) {
        struct json_scan_token t;
        int r;

        r = next(s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_TRUE && t.type != JSON_SCAN_FALSE)
                return reterr_printf(reterr_message, -EBADMSG, "'%s' is not true or false", what);
        *ret = t.type == JSON_SCAN_TRUE;
        return 0;
}

/* After a key: the next token must open an object (or an array, with 'array'). */
static int expect_open(struct json_scan *s, const char *what, bool array, char **reterr_message) {
        struct json_scan_token t;
        int r;

        r = next(s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != (array ? JSON_SCAN_ARRAY_BEGIN : JSON_SCAN_OBJECT_BEGIN))
                return reterr_printf(reterr_message, -EBADMSG, "'%s' is not an %s", what,
                                     array ? "array" : "object");
        return 0;
}

/* Reads the members of an object whose '{' was read: each key must be one of 'keys' (n of them),
 * given once, and is handed to 'member' (index into keys). All must be there unless 'optional'
 * has its bit. */
struct members {
        const char *where; /* "cluster", "delete[3]", or "" for the top */
        const char *const *keys;
        size_t n;
        unsigned optional;
        int (*member)(struct json_scan *s, size_t k, const char *path, void *userdata,
                      char **reterr_message);
        void *userdata;
};

static int read_members(struct json_scan *s, const struct members *m, char **reterr_message) {
        unsigned seen = 0;
        char path[128];
        int r;

        assert(m->n <= 16);
        for (;;) {
                struct json_scan_token key;
                size_t k;

                r = next(s, &key, reterr_message);
                if (r < 0)
                        return r;
                if (key.type == JSON_SCAN_OBJECT_END)
                        break;
                for (k = 0; k < m->n; k++)
                        if (json_scan_string_equal(&key, m->keys[k]))
                                break;
                if (k == m->n) {
                        _cleanup_free_ char *name = NULL;

                        r = json_scan_string_dup(&key, &name);
                        if (r < 0)
                                return r;
                        return reterr_printf(reterr_message, -EBADMSG, "unknown member '%.64s' in %s", name,
                                             *m->where ? m->where : "the plan");
                }
                (void) snprintf(path, sizeof path, "%s%s%s", m->where, *m->where ? "." : "", m->keys[k]);
                if (seen & (1u << k))
                        return reterr_printf(reterr_message, -EBADMSG, "'%s' is given twice", path);
                seen |= 1u << k;
                r = m->member(s, k, path, m->userdata, reterr_message);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < m->n; k++)
                if (!(seen & (1u << k)) && !(m->optional & (1u << k)))
                        return reterr_printf(reterr_message, -EBADMSG, "'%s%s%s' is missing", m->where,
                                             *m->where ? "." : "", m->keys[k]);
        return 0;
}

static int cluster_member(struct json_scan *s, size_t k, const char *path, void *userdata,
                          char **reterr_message) {
        struct plan_file *f = userdata;
        char **fields[] = { &f->url, &f->cluster_name, &f->cluster_uuid, &f->es_version };

        return read_string(s, path, true, fields[k], reterr_message);
}

static int manifests_member(struct json_scan *s, size_t k, const char *path, void *userdata,
                            char **reterr_message) {
        struct plan_file *f = userdata;

        return read_string(s, path, false, &f->manifests_digest, reterr_message);
}

static int delete_member(struct json_scan *s, size_t k, const char *path, void *userdata,
                         char **reterr_message) {
        struct plan_file_delete *d = userdata;
        struct json_scan_token t;
        int r;

        switch (k) {
        case 0:
                r = read_string(s, path, false, &d->id, reterr_message);
                if (r >= 0 && !*d->id)
                        r = reterr_printf(reterr_message, -EBADMSG, "'%s' is empty", path);
                return r;
        case 1:
                return read_bool(s, path, &d->delete_sync_jobs, reterr_message);
        case 2:
                return read_bool(s, path, &d->hard, reterr_message);
        case 3:
                return read_bool(s, path, &d->purge, reterr_message);
        default:
                /* The sets are for people: checked to be strings, not kept. */
                r = expect_open(s, path, true, reterr_message);
                while (r >= 0) {
                        r = next(s, &t, reterr_message);
                        if (r < 0 || t.type == JSON_SCAN_ARRAY_END)
                                break;
                        if (t.type != JSON_SCAN_STRING)
                                r = reterr_printf(reterr_message, -EBADMSG,
                                                  "'%s' holds something other than strings", path);
                }
                return r;
        }
}

static int read_deletes(struct json_scan *s, struct plan_file *f, char **reterr_message) {
        static const char *const keys[] = { "id", "delete_sync_jobs", "hard", "purge", "sets" };
        size_t allocated = 0;
        int r;

        r = expect_open(s, "delete", true, reterr_message);
        if (r < 0)
                return r;
        for (size_t i = 0;; i++) {
                struct json_scan_token t;
                struct plan_file_delete d = {};
                char where[32];

                r = next(s, &t, reterr_message);
                if (r < 0)
                        return r;
                if (t.type == JSON_SCAN_ARRAY_END)
                        return 0;
                if (t.type != JSON_SCAN_OBJECT_BEGIN)
                        return reterr_printf(reterr_message, -EBADMSG, "'delete[%zu]' is not an object", i);
                (void) snprintf(where, sizeof where, "delete[%zu]", i);
                r = read_members(s,
                                 &(struct members){ .where = where,
                                                    .keys = keys,
                                                    .n = ELEMENTSOF(keys),
                                                    .member = delete_member,
                                                    .userdata = &d },
                                 reterr_message);
                if (r < 0) {
                        free(d.id);
                        return r;
                }
                if (i > 0 && strcmp(f->deletes[i - 1].id, d.id) >= 0) {
                        free(d.id);
                        return reterr_printf(reterr_message, -EBADMSG,
                                             "'delete[%zu].id' is not after 'delete[%zu].id' (ids must be "
                                             "sorted, each once)",
                                             i, i - 1);
                }
                if (i >= allocated) {
                        size_t a = MAX(allocated * 2, (size_t) 16);
                        struct plan_file_delete *p = reallocarray(f->deletes, a, sizeof(*p));

                        if (!p) {
                                free(d.id);
                                return -ENOMEM;
                        }
                        f->deletes = p;
                        allocated = a;
                }
                f->deletes[f->n_deletes++] = d;
        }
}

static int top_member(struct json_scan *s, size_t k, const char *path, void *userdata,
                      char **reterr_message) {
        static const char *const cluster_keys[] = { "url", "name", "uuid", "version" };
        static const char *const manifests_keys[] = { "digest" };
        struct plan_file *f = userdata;
        _cleanup_free_ char *format = NULL;
        struct json_scan_token t;
        uint64_t v;
        int r;

        switch (k) {
        case 0:
                r = read_string(s, path, false, &format, reterr_message);
                if (r >= 0 && !streq_ptr(format, PLAN_FILE_FORMAT))
                        r = reterr_printf(reterr_message, -EBADMSG,
                                          "'format' is not \"%s\": not a saved plan", PLAN_FILE_FORMAT);
                return r;
        case 1:
                r = next(s, &t, reterr_message);
                if (r < 0)
                        return r;
                r = json_scan_get_uint(&t, &v);
                if (r < 0)
                        return r;
                if (r == 0 || v != PLAN_FILE_FORMAT_VERSION)
                        return reterr_printf(
                                reterr_message, -EBADMSG,
                                "'format_version' is not %d: a plan saved by another version of the "
                                "program; save it again",
                                PLAN_FILE_FORMAT_VERSION);
                return 0;
        case 2:
                r = expect_open(s, path, false, reterr_message);
                if (r < 0)
                        return r;
                return read_members(s,
                                    &(struct members){ .where = "cluster",
                                                       .keys = cluster_keys,
                                                       .n = ELEMENTSOF(cluster_keys),
                                                       .member = cluster_member,
                                                       .userdata = f },
                                    reterr_message);
        case 3:
                r = expect_open(s, path, false, reterr_message);
                if (r < 0)
                        return r;
                return read_members(s,
                                    &(struct members){ .where = "manifests",
                                                       .keys = manifests_keys,
                                                       .n = ELEMENTSOF(manifests_keys),
                                                       .member = manifests_member,
                                                       .userdata = f },
                                    reterr_message);
        case 4:
                return read_string(s, path, true, &f->blocked, reterr_message);
        default:
                return read_deletes(s, f, reterr_message);
        }
}

struct plan_file *plan_file_free(struct plan_file *f) {
        if (!f)
                return NULL;
        free(f->path);
        free(f->url);
        free(f->cluster_name);
        free(f->cluster_uuid);
        free(f->es_version);
        free(f->manifests_digest);
        free(f->blocked);
        for (size_t i = 0; i < f->n_deletes; i++)
                free(f->deletes[i].id);
        free(f->deletes);
        free(f);
        return NULL;
}

int plan_file_load(const char *path, struct plan_file **ret, char **reterr_message) {
        _cleanup_free_ char *body = NULL;
        size_t size;
        int r;

        assert(path);
        assert(ret);

        r = fs_read_file(path, PLAN_FILE_SIZE_MAX, &body, &size);
        if (r < 0)
                return r;
        return plan_file_parse(body, size, path, ret, reterr_message);
}

int plan_file_parse(const char *body, size_t size, const char *path, struct plan_file **ret,
                    char **reterr_message) {
        static const char *const keys[] = { "format",    "format_version", "cluster",
                                            "manifests", "blocked",        "delete" };
        _cleanup_(plan_file_freep) struct plan_file *f = NULL;
        struct json_scan s;
        struct json_scan_token t;
        int r;

        assert(body || size == 0);
        assert(path);
        assert(ret);

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;

        if (json_scan_init(&s, body ?: "", size) < 0)
                return reterr_printf(reterr_message, -EBADMSG, "not valid JSON: %s",
                                     strna(json_scan_error_to_string(s.error)));
        r = next(&s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_OBJECT_BEGIN)
                return reterr_printf(reterr_message, -EBADMSG, "not a JSON object");
        r = read_members(&s,
                         &(struct members){ .where = "",
                                            .keys = keys,
                                            .n = ELEMENTSOF(keys),
                                            .member = top_member,
                                            .userdata = f },
                         reterr_message);
        if (r < 0)
                return r;
        r = next(&s, &t, reterr_message);
        if (r < 0)
                return r;
        assert(t.type == JSON_SCAN_END);

        *ret = TAKE_PTR(f);
        return 0;
}

/* ---- comparing ---- */

#define DIFF_SHOWN_MAX 5u

/* The differences found, the first DIFF_SHOWN_MAX of them written to 'out'. */
struct diff {
        FILE *out;
        size_t n;
};

static void diff_add(struct diff *d, const char *fmt, ...) _printf_(2, 3);
static void diff_add(struct diff *d, const char *fmt, ...) {
        va_list ap;

        if (d->n++ >= DIFF_SHOWN_MAX)
                return;
        if (d->n > 1)
                (void) fputs("; ", d->out);
        va_start(ap, fmt);
        (void) vfprintf(d->out, fmt, ap);
        va_end(ap);
}

static const char *flags_text(bool sync, bool hard, bool purge, char buf[static 48]) {
        (void) snprintf(buf, 48, "delete_sync_jobs %s, hard %s%s", sync ? "true" : "false",
                        hard ? "true" : "false", purge ? ", purge" : "");
        return buf;
}

int plan_file_matches(const struct plan_file *f, const struct plan *p, const struct plan_file_context *ctx,
                      char **ret_diff) {
        const struct plan_item *live = p->items; /* PLAN_DELETE first, sorted by id */
        size_t n_live = p->counts[PLAN_DELETE], i = 0, j = 0, size = 0;
        _cleanup_free_ char *text = NULL;
        struct diff d = {};

        assert(f);
        assert(p);
        assert(ctx);
        assert(ret_diff);

        d.out = open_memstream(&text, &size);
        if (!d.out)
                return -ENOMEM;

        if (f->blocked)
                diff_add(&d, "the saved plan was blocked (%s): it deletes nothing", f->blocked);
        if (!streq_ptr(f->cluster_uuid, ctx->cluster_uuid))
                diff_add(&d, "it was made for the cluster %s (cluster_uuid '%s'), this is '%s'",
                         strna(f->cluster_name), strna(f->cluster_uuid), strna(ctx->cluster_uuid));
        if (!streq_ptr(f->manifests_digest, ctx->manifests_digest))
                diff_add(&d, "the manifests changed since (%s then, %s now)", strna(f->manifests_digest),
                         strna(ctx->manifests_digest));

        while (i < f->n_deletes || j < n_live) {
                const struct plan_file_delete *sd = i < f->n_deletes ? f->deletes + i : NULL;
                const struct plan_item *it = j < n_live ? live + j : NULL;
                int c = !sd ? 1 : !it ? -1 : strcmp(sd->id, it->id);
                char then[48], now[48];

                if (c < 0) {
                        const struct plan_item *x;

                        assert(sd);
                        x = plan_find(p, sd->id);

                        diff_add(&d, "'%s' is no longer to be deleted (%s now%s%s)", sd->id,
                                 x ? plan_kind_to_string(x->kind) : "not in the cluster",
                                 x && x->reason ? ": " : "", x && x->reason ? x->reason : "");
                        i++;
                } else if (c > 0) {
                        assert(it);
                        diff_add(&d, "'%s' would be deleted now, and is not in the saved plan", it->id);
                        j++;
                } else {
                        assert(sd && it);
                        if (sd->delete_sync_jobs != it->delete_sync_jobs || sd->hard != it->hard ||
                            sd->purge != it->purge)
                                diff_add(&d, "'%s' would be deleted with %s, the saved plan says %s", sd->id,
                                         flags_text(it->delete_sync_jobs, it->hard, it->purge, now),
                                         flags_text(sd->delete_sync_jobs, sd->hard, sd->purge, then));
                        i++;
                        j++;
                }
        }
        if (d.n > DIFF_SHOWN_MAX)
                (void) fprintf(d.out, "; and %zu more difference%s", d.n - DIFF_SHOWN_MAX,
                               d.n - DIFF_SHOWN_MAX == 1 ? "" : "s");
        if (fclose(d.out) != 0)
                return -ENOMEM;
        if (d.n == 0)
                return 1;
        *ret_diff = TAKE_PTR(text);
        return 0;
}
