#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "fs-util.h"
#include "plan.h"
#include "util.h"

#define PREFIX "connector_reconciler_"

static const char *const result_names[_METRICS_RESULT_MAX] = {
        [METRICS_RESULT_SUCCESS] = "success",
        [METRICS_RESULT_FAILURE] = "failure",
        [METRICS_RESULT_BLOCKED] = "blocked",
};

static const char *const state_names[_METRICS_STATE_MAX] = {
        [METRICS_STATE_DECLARED] = "declared",
        [METRICS_STATE_LIVE] = "live",
        [METRICS_STATE_OWNED] = "owned",
        [METRICS_STATE_ORPHAN] = "orphan",
        [METRICS_STATE_MISSING] = "missing",
        [METRICS_STATE_PROTECTED] = "protected",
        [METRICS_STATE_UNMANAGED] = "unmanaged",
        [METRICS_STATE_WAITING] = "waiting",
        [METRICS_STATE_SOFT_DELETED] = "soft_deleted",
};

static const char *const action_names[_METRICS_ACTION_MAX] = {
        [METRICS_ACTION_DELETE] = "delete",
        [METRICS_ACTION_CREATE] = "create",
        [METRICS_ACTION_UPDATE] = "update",
        [METRICS_ACTION_RESTORE] = "restore",
};

static const char *const outcome_names[_METRICS_OUTCOME_MAX] = {
        [METRICS_OUTCOME_OK] = "ok",
        [METRICS_OUTCOME_ERROR] = "error",
        [METRICS_OUTCOME_SKIPPED] = "skipped",
};

static const char *const guard_names[_CYCLE_GUARD_MAX] = {
        [CYCLE_GUARD_MAX_DELETIONS] = "max_deletions",
        [CYCLE_GUARD_ALLOW_EMPTY] = "allow_empty",
        [CYCLE_GUARD_REMOVED_SET] = "removed_set",
        [CYCLE_GUARD_MANIFESTS_INVALID] = "manifests_invalid",
        [CYCLE_GUARD_LISTING_INCOMPLETE] = "listing_incomplete",
        [CYCLE_GUARD_CLUSTER_MISMATCH] = "cluster_mismatch",
        [CYCLE_GUARD_BACKUP_UNUSABLE] = "backup_unusable",
        [CYCLE_GUARD_STATE_UNUSABLE] = "state_unusable",
        [CYCLE_GUARD_PLAN_MISMATCH] = "plan_mismatch",
        [CYCLE_GUARD_MANIFESTS_STALE] = "manifests_stale",
        [CYCLE_GUARD_MANIFESTS_UNVERIFIED] = "manifests_unverified",
        [CYCLE_GUARD_MAX_UPDATES] = "max_updates",
};

static const char *const code_class_names[_CLUSTER_CODE_CLASS_MAX] = {
        [CLUSTER_CODE_2XX] = "2xx",
        [CLUSTER_CODE_4XX] = "4xx",
        [CLUSTER_CODE_5XX] = "5xx",
        [CLUSTER_CODE_ERROR] = "error",
};

void metrics_done(struct metrics *m) {
        assert(m);

        free(m->es_version);
        free(m->cluster_uuid);
        free(m->revision);
        *m = (struct metrics){};
}

void metrics_reset_counters(struct metrics *m) {
        assert(m);

        memset(m->cycles, 0, sizeof m->cycles);
        memset(m->actions, 0, sizeof m->actions);
        memset(m->http, 0, sizeof m->http);
        memset(m->connectors, 0, sizeof m->connectors);
        m->last_success_usec = 0;
}

/* ---- One cycle ---- */

static void count_connectors(const struct plan *p, uint64_t out[static _METRICS_STATE_MAX]) {
        memset(out, 0, sizeof(uint64_t) * _METRICS_STATE_MAX);
        out[METRICS_STATE_DECLARED] = p->counts[PLAN_KEEP] + p->counts[PLAN_MISSING];
        out[METRICS_STATE_ORPHAN] = p->counts[PLAN_DELETE];
        out[METRICS_STATE_MISSING] = p->counts[PLAN_MISSING];
        out[METRICS_STATE_PROTECTED] = p->counts[PLAN_PROTECTED];
        out[METRICS_STATE_UNMANAGED] = p->counts[PLAN_UNMANAGED];
        out[METRICS_STATE_WAITING] = p->counts[PLAN_WAITING];
        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;

                if (!it->connector)
                        continue;
                if (it->connector->deleted) {
                        out[METRICS_STATE_SOFT_DELETED]++;
                        continue;
                }
                out[METRICS_STATE_LIVE]++;
                if (it->kind != PLAN_UNMANAGED)
                        out[METRICS_STATE_OWNED]++;
        }
}

/* Replaces *s with a copy of 'v' when 'v' is not NULL. */
static int replace_string(char **s, const char *v) {
        char *t;

        if (!v)
                return 0;
        t = strdup(v);
        if (!t)
                return -ENOMEM;
        free(*s);
        *s = t;
        return 0;
}

int metrics_add_cycle(struct metrics *m, const struct cycle_result *r, uint64_t end_realtime_usec) {
        uint64_t *deletes = m->actions[METRICS_ACTION_DELETE];
        enum metrics_result result;
        int k;

        assert(m);
        assert(r);
        assert(r->status != CYCLE_BUSY);

        result = r->status == CYCLE_OK        ? METRICS_RESULT_SUCCESS
                 : r->status == CYCLE_BLOCKED ? METRICS_RESULT_BLOCKED
                                              : METRICS_RESULT_FAILURE;
        m->cycles[result]++;
        if (result == METRICS_RESULT_SUCCESS)
                m->last_success_usec = end_realtime_usec;

        deletes[METRICS_OUTCOME_OK] += r->deleted;
        deletes[METRICS_OUTCOME_ERROR] += r->failed + r->unknown;
        deletes[METRICS_OUTCOME_SKIPPED] += r->already_gone + r->changed + r->not_deleted;
        /* cycle_result counts ok, error, skipped in that order, as the metrics do. */
        static_assert(ELEMENTSOF(r->change_outcomes[0]) == _METRICS_OUTCOME_MAX && METRICS_OUTCOME_OK == 0 &&
                              METRICS_OUTCOME_ERROR == 1 && METRICS_OUTCOME_SKIPPED == 2,
                      "the outcomes of creates and updates are the metrics' outcomes");
        for (size_t o = 0; o < _METRICS_OUTCOME_MAX; o++) {
                m->actions[METRICS_ACTION_CREATE][o] += r->change_outcomes[0][o];
                m->actions[METRICS_ACTION_UPDATE][o] += r->change_outcomes[1][o];
        }
        for (size_t i = 0; i < _CLUSTER_CODE_CLASS_MAX; i++)
                m->http[i] += r->http.responses[i];
        if (r->plan)
                count_connectors(r->plan, m->connectors);

        m->have_cycle = true;
        m->last_cycle_usec = end_realtime_usec;
        m->cycle_duration_usec = r->duration_usec;
        m->guards = r->guards;

        if (r->cluster) {
                k = replace_string(&m->es_version, r->cluster->version);
                if (k < 0)
                        return k;
                /* A cluster that names no uuid is another cluster than the one before. */
                free(m->cluster_uuid);
                m->cluster_uuid = NULL;
                k = replace_string(&m->cluster_uuid, r->cluster->cluster_uuid);
                if (k < 0)
                        return k;
        }
        return replace_string(&m->revision, r->revision ? r->revision : r->manifests_digest);
}

/* ---- The text exposition format ---- */

/* A label value: backslash, double quote and newline escaped, as the format requires. */
static void write_label_value(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '\\':
                        (void) fputs("\\\\", f);
                        break;
                case '"':
                        (void) fputs("\\\"", f);
                        break;
                case '\n':
                        (void) fputs("\\n", f);
                        break;
                default:
                        (void) fputc(*s, f);
                }
}

static void family(FILE *f, const char *name, const char *type, const char *help) {
        (void) fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

/* Microseconds as seconds, without trailing zeros: "12", "12.5", "0.000001". */
static void write_seconds(FILE *f, uint64_t usec) {
        uint64_t frac = usec % USEC_PER_SEC;
        int digits = 6;

        (void) fprintf(f, "%" PRIu64, usec / USEC_PER_SEC);
        if (frac == 0)
                return;
        while (frac % 10 == 0) {
                frac /= 10;
                digits--;
        }
        (void) fprintf(f, ".%0*" PRIu64, digits, frac);
}

/* One sample of 'name' whose one label 'label' takes each of 'n' values. */
static void labelled(FILE *f, const char *name, const char *label, const char *const *values,
                     const uint64_t *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                (void) fprintf(f, PREFIX "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, values[i], v[i]);
}

int metrics_format(const struct metrics *m, const char *version, FILE *f) {
        uint64_t guards[_CYCLE_GUARD_MAX];

        assert(m);
        assert(version);
        assert(f);

        family(f, "build_info", "gauge", "The version of connector-reconciler that wrote this file.");
        (void) fputs(PREFIX "build_info{version=\"", f);
        write_label_value(f, version);
        (void) fputs("\"} 1\n", f);

        if (m->es_version) {
                family(f, "elasticsearch_info", "gauge",
                       "The Elasticsearch version and cluster_uuid the last cycle that reached the cluster "
                       "saw.");
                (void) fputs(PREFIX "elasticsearch_info{version=\"", f);
                write_label_value(f, m->es_version);
                (void) fputs("\",cluster_uuid=\"", f);
                write_label_value(f, strempty(m->cluster_uuid));
                (void) fputs("\"} 1\n", f);
        }

        if (m->revision) {
                family(f, "manifests_info", "gauge",
                       "The revision of the manifests the last cycle that read them read: a Git commit, or "
                       "the "
                       "digest of their files.");
                (void) fputs(PREFIX "manifests_info{revision=\"", f);
                write_label_value(f, m->revision);
                (void) fputs("\"} 1\n", f);
        }

        family(f, "last_cycle_timestamp_seconds", "gauge",
               "When the last cycle ended, in seconds since the epoch.");
        (void) fputs(PREFIX "last_cycle_timestamp_seconds ", f);
        write_seconds(f, m->last_cycle_usec);
        (void) fputc('\n', f);

        family(f, "last_success_timestamp_seconds", "gauge",
               "When the last successful cycle ended, in seconds since the epoch; 0 when none did.");
        (void) fputs(PREFIX "last_success_timestamp_seconds ", f);
        write_seconds(f, m->last_success_usec);
        (void) fputc('\n', f);

        family(f, "cycle_duration_seconds", "gauge", "How long the last cycle took, in seconds.");
        (void) fputs(PREFIX "cycle_duration_seconds ", f);
        write_seconds(f, m->cycle_duration_usec);
        (void) fputc('\n', f);

        family(f, "cycles_total", "counter", "Cycles that ended, by result.");
        labelled(f, "cycles_total", "result", result_names, m->cycles, _METRICS_RESULT_MAX);

        family(f, "connectors", "gauge", "Connectors in the last cycle's plan, by state.");
        labelled(f, "connectors", "state", state_names, m->connectors, _METRICS_STATE_MAX);

        family(f, "actions_total", "counter", "Actions on connectors, by action and result.");
        for (size_t a = 0; a < _METRICS_ACTION_MAX; a++)
                for (size_t o = 0; o < _METRICS_OUTCOME_MAX; o++)
                        (void) fprintf(f, PREFIX "actions_total{action=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                                       action_names[a], outcome_names[o], m->actions[a][o]);

        family(f, "guard_tripped", "gauge",
               "Whether a safety guard kept the last cycle from deleting (1) or not (0).");
        for (size_t g = 0; g < _CYCLE_GUARD_MAX; g++)
                guards[g] = (m->guards >> g) & 1u;
        labelled(f, "guard_tripped", "guard", guard_names, guards, _CYCLE_GUARD_MAX);

        family(f, "http_requests_total", "counter",
               "HTTP requests to the cluster, each attempt, by the class of the answer's status; "
               "error: no answer, or another class.");
        labelled(f, "http_requests_total", "code_class", code_class_names, m->http, _CLUSTER_CODE_CLASS_MAX);

        return ferror(f) ? -EIO : 0;
}

/* Copies the exposition 'text' to 'f' with the label instance="NAME" first in every sample. */
static void add_instance(const char *text, const char *instance, FILE *f) {
        for (const char *line = text; *line;) {
                size_t n = strcspn(line, "\n"), name = strcspn(line, "{ \n");

                if (line[0] == '#' || name >= n)
                        (void) fwrite(line, 1, n, f);
                else {
                        (void) fwrite(line, 1, name, f);
                        (void) fputs("{instance=\"", f);
                        write_label_value(f, instance);
                        (void) fputs(line[name] == '{' ? "\"," : "\"}", f);
                        (void) fwrite(line + name + (line[name] == '{'), 1, n - name - (line[name] == '{'),
                                      f);
                }
                line += n;
                if (*line == '\n') {
                        (void) fputc('\n', f);
                        line++;
                }
        }
}

int metrics_format_instance(const struct metrics *m, const char *version, const char *instance, FILE *f) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *mem;
        int r;

        if (!instance)
                return metrics_format(m, version, f);
        mem = open_memstream(&text, &size);
        if (!mem)
                return -ENOMEM;
        r = metrics_format(m, version, mem);
        if (fclose(mem) != 0 || !text)
                return -ENOMEM;
        if (r < 0)
                return r;
        add_instance(text, instance, f);
        return ferror(f) ? -EIO : 0;
}

struct textfile {
        const struct metrics *m;
        const char *version;
        const char *instance;
};

static int write_textfile(FILE *f, void *userdata) {
        const struct textfile *t = userdata;

        return metrics_format_instance(t->m, t->version, t->instance, f);
}

int metrics_write_textfile(const char *path, const struct metrics *m, const char *version,
                           const char *instance) {
        _cleanup_free_ char *dir = NULL;
        struct textfile t = { .m = m, .version = version, .instance = instance };
        const char *slash;

        assert(path);
        assert(m);

        slash = strrchr(path, '/');
        if (!slash || slash[1] == '\0')
                return -EINVAL;
        dir = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        if (!dir)
                return -ENOMEM;
        return fs_write_atomic_stream(dir, slash + 1, 0644, write_textfile, &t);
}

/* ---- metrics.state ---- */

#define KEY_MAX 64

struct kept {
        char key[KEY_MAX];
        uint64_t *value;
};

/* The kept fields of 'm' and their keys, in the order written; returns how many. */
static size_t kept_fields(struct metrics *m, struct kept *out) {
        size_t n = 0;

#define KEPT(v, ...) (void) snprintf(out[n].key, KEY_MAX, __VA_ARGS__), out[n].value = (v), n++
        for (size_t i = 0; i < _METRICS_RESULT_MAX; i++)
                KEPT(&m->cycles[i], "cycles_total.%s", result_names[i]);
        for (size_t a = 0; a < _METRICS_ACTION_MAX; a++)
                for (size_t o = 0; o < _METRICS_OUTCOME_MAX; o++)
                        KEPT(&m->actions[a][o], "actions_total.%s.%s", action_names[a], outcome_names[o]);
        for (size_t i = 0; i < _CLUSTER_CODE_CLASS_MAX; i++)
                KEPT(&m->http[i], "http_requests_total.%s", code_class_names[i]);
        for (size_t i = 0; i < _METRICS_STATE_MAX; i++)
                KEPT(&m->connectors[i], "connectors.%s", state_names[i]);
        KEPT(&m->last_success_usec, "last_success_timestamp_usec");
#undef KEPT
        return n;
}

#define N_KEPT                                                                                        \
        (_METRICS_RESULT_MAX + _METRICS_ACTION_MAX * _METRICS_OUTCOME_MAX + _CLUSTER_CODE_CLASS_MAX + \
         _METRICS_STATE_MAX + 1)

int metrics_save(const char *dir, const struct metrics *m) {
        struct metrics copy = *m; /* kept_fields() hands out pointers; nothing is written through them */
        struct kept kept[N_KEPT];
        _cleanup_free_ char *text = NULL;
        size_t n, size = 0;
        FILE *f;
        int r;

        assert(dir);
        assert(m);

        n = kept_fields(&copy, kept);
        assert(n == N_KEPT);
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        (void) fprintf(f, "format_version %d\n", METRICS_FORMAT_VERSION);
        for (size_t i = 0; i < n; i++)
                (void) fprintf(f, "%s %" PRIu64 "\n", kept[i].key, *kept[i].value);
        r = ferror(f) ? -ENOMEM : 0;
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        return fs_write_atomic(dir, METRICS_STATE_FILE_NAME, text, size, 0600);
}

static int bad(char **reterr_message, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int bad(char **reterr_message, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        if (!reterr_message)
                return -EBADMSG;
        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *reterr_message = line > 0 ? strdup_printf("line %u: %s", line, m) : TAKE_PTR(m);
        return *reterr_message ? -EBADMSG : -ENOMEM;
}

/* An unsigned decimal integer of 64 bits, digits only, no leading zero. */
static bool parse_u64(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return false;
                d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

int metrics_load(const char *dir, struct metrics *m, char **reterr_message) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct metrics parsed = *m;
        struct kept kept[N_KEPT];
        bool seen[N_KEPT] = {};
        size_t size = 0, n;
        unsigned line = 0;
        const char *p, *end;
        int r;

        assert(dir);
        assert(m);

        path = strdup_printf("%s/%s", dir, METRICS_STATE_FILE_NAME);
        if (!path)
                return -ENOMEM;
        r = fs_read_file(path, METRICS_STATE_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return bad(reterr_message, 0, "larger than %zu bytes", METRICS_STATE_SIZE_MAX);
        if (r == -EINVAL)
                return bad(reterr_message, 0, "not a regular file");
        if (r < 0)
                return r;
        if (memchr(text, '\0', size))
                return bad(reterr_message, 0, "holds a NUL byte");
        if (size == 0 || text[size - 1] != '\n')
                return bad(reterr_message, 0, "does not end with a newline");

        n = kept_fields(&parsed, kept);
        for (p = text, end = text + size; p < end; p = strchr(p, '\n') + 1) {
                size_t len = (size_t) (strchr(p, '\n') - p), klen;
                const char *space = memchr(p, ' ', len);
                uint64_t v;
                size_t i;

                line++;
                if (!space)
                        return bad(reterr_message, line, "not \"KEY VALUE\"");
                klen = (size_t) (space - p);
                if (!parse_u64(space + 1, len - klen - 1, &v))
                        return bad(reterr_message, line, "the value is not an unsigned 64-bit integer");
                if (line == 1) {
                        if (klen != strlen("format_version") || memcmp(p, "format_version", klen) != 0)
                                return bad(reterr_message, line, "the first line is not format_version");
                        if (v != METRICS_FORMAT_VERSION)
                                return bad(reterr_message, line, "format_version %" PRIu64 ", not %d", v,
                                           METRICS_FORMAT_VERSION);
                        continue;
                }
                for (i = 0; i < n; i++)
                        if (strlen(kept[i].key) == klen && memcmp(kept[i].key, p, klen) == 0)
                                break;
                if (i == n)
                        return bad(reterr_message, line, "unknown key '%.*s'",
                                   (int) MIN(klen, (size_t) KEY_MAX), p);
                if (seen[i])
                        return bad(reterr_message, line, "'%s' given twice", kept[i].key);
                seen[i] = true;
                *kept[i].value = v;
        }
        for (size_t i = 0; i < n; i++)
                if (!seen[i])
                        return bad(reterr_message, 0, "'%s' is missing", kept[i].key);

        memcpy(m->cycles, parsed.cycles, sizeof m->cycles);
        memcpy(m->actions, parsed.actions, sizeof m->actions);
        memcpy(m->http, parsed.http, sizeof m->http);
        memcpy(m->connectors, parsed.connectors, sizeof m->connectors);
        m->last_success_usec = parsed.last_success_usec;
        return 0;
}
