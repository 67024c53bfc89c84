#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake-store.h"
#include "fake-util.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

enum doc_kind {
        DOC_CONNECTOR,
        DOC_SYNC_JOB,
        DOC_SECRET,
};

/* Documents by id (chained hash) plus a dense array for scans. */
struct table {
        struct fake_doc **items;
        size_t n;
        size_t cap;
        struct fake_doc **buckets;
        size_t n_buckets; /* a power of two */
};

struct fake_store {
        struct table connectors;
        struct table sync_jobs;
        struct table secrets;
        uint64_t next_seq;
        bool sync_job_index_exists;
        bool secret_index_exists;
        bool soft_deletes; /* connectors have "deleted" (9.x) */

        /* Every connector in list order, and the live ones (not soft-deleted) in the same order:
         * built by the first listing that needs them after a write, invalid again after the next
         * write to a connector. The arrays are kept for reuse. */
        const struct fake_doc **sorted;
        const struct fake_doc **sorted_live;
        size_t n_sorted;
        size_t n_sorted_live;
        size_t sorted_cap;
        bool sorted_valid;
};

static uint64_t hash_string(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 1099511628211ULL;
        }
        return h;
}

static void doc_free(struct fake_doc *d) {
        if (!d)
                return;
        free(d->id);
        free(d->source);
        free(d->index_name);
        free(d->name);
        free(d->service_type);
        free(d->description);
        free(d->connector_id);
        free(d->created_at);
        free(d->status);
        free(d->job_type);
        free(d);
}
DEFINE_CLEANUP_FUNC(struct fake_doc *, doc_free);

static void table_clear(struct table *t) {
        for (size_t i = 0; i < t->n; i++)
                doc_free(t->items[i]);
        free(t->items);
        free(t->buckets);
        *t = (struct table){};
}

static struct fake_doc *table_get(const struct table *t, const char *id) {
        if (t->n_buckets == 0)
                return NULL;
        for (struct fake_doc *d = t->buckets[hash_string(id) & (t->n_buckets - 1)]; d; d = d->next_in_bucket)
                if (streq(d->id, id))
                        return d;
        return NULL;
}

static int table_rehash(struct table *t, size_t n_buckets) {
        struct fake_doc **b = calloc(n_buckets, sizeof(*b));

        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++) {
                struct fake_doc *d = t->items[i];
                size_t k = hash_string(d->id) & (n_buckets - 1);

                d->next_in_bucket = b[k];
                b[k] = d;
        }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = n_buckets;
        return 0;
}

/* Takes ownership of d on success. The id must not be in the table yet. */
static int table_add(struct table *t, struct fake_doc *d) {
        size_t k;
        int r;

        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                struct fake_doc **items = realloc(t->items, cap * sizeof(*items));

                if (!items)
                        return -ENOMEM;
                t->items = items;
                t->cap = cap;
        }
        if (t->n + 1 > t->n_buckets) {
                r = table_rehash(t, t->n_buckets ? t->n_buckets * 2 : 64);
                if (r < 0)
                        return r;
        }
        d->slot = t->n;
        t->items[t->n++] = d;
        k = hash_string(d->id) & (t->n_buckets - 1);
        d->next_in_bucket = t->buckets[k];
        t->buckets[k] = d;
        return 0;
}

static void table_remove(struct table *t, struct fake_doc *d) {
        struct fake_doc **p = &t->buckets[hash_string(d->id) & (t->n_buckets - 1)];

        while (*p != d)
                p = &(*p)->next_in_bucket;
        *p = d->next_in_bucket;
        /* Swap-remove: the array's order does not matter, listings sort by seq. */
        t->items[d->slot] = t->items[t->n - 1];
        t->items[d->slot]->slot = d->slot;
        t->n--;
        doc_free(d);
}

/* Every change to a connector goes through here: the list order is computed again when needed. */
static void connectors_changed(struct fake_store *s) {
        s->sorted_valid = false;
}

static void sorted_free(struct fake_store *s) {
        free(s->sorted);
        free(s->sorted_live);
        s->sorted = s->sorted_live = NULL;
        s->n_sorted = s->n_sorted_live = s->sorted_cap = 0;
        s->sorted_valid = false;
}

int fake_store_new(struct fake_store **ret) {
        struct fake_store *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->next_seq = 1;
        *ret = s;
        return 0;
}

struct fake_store *fake_store_free(struct fake_store *s) {
        if (!s)
                return NULL;
        table_clear(&s->connectors);
        table_clear(&s->sync_jobs);
        table_clear(&s->secrets);
        sorted_free(s);
        free(s);
        return NULL;
}

void fake_store_clear(struct fake_store *s) {
        table_clear(&s->connectors);
        table_clear(&s->sync_jobs);
        table_clear(&s->secrets);
        sorted_free(s);
        s->sync_job_index_exists = false;
        s->secret_index_exists = false;
}

void fake_store_set_soft_deletes(struct fake_store *s, bool soft_deletes) {
        s->soft_deletes = soft_deletes;
}

static int dup_string_field(const cJSON *o, const char *key, char **ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *ret = NULL;
        if (!cJSON_IsString(v))
                return 0;
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

/* Builds a document from its _source: extracts the fields listings need and drops "id". */
static int doc_build(enum doc_kind kind, const char *id, cJSON *source, struct fake_doc **ret) {
        _cleanup_(doc_freep) struct fake_doc *d = NULL;
        int r;

        if (!cJSON_IsObject(source))
                return -EINVAL;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->id = strdup(id); /* before "id" is dropped: 'id' may point into the source */
        if (!d->id)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(source, "id");
        d->source = cJSON_PrintUnformatted(source);
        if (!d->source)
                return -ENOMEM;
        if (kind == DOC_CONNECTOR) {
                const cJSON *del = cJSON_GetObjectItemCaseSensitive(source, "deleted");

                if ((r = dup_string_field(source, "index_name", &d->index_name)) < 0 ||
                    (r = dup_string_field(source, "name", &d->name)) < 0 ||
                    (r = dup_string_field(source, "service_type", &d->service_type)) < 0 ||
                    (r = dup_string_field(source, "description", &d->description)) < 0)
                        return r;
                d->deleted = cJSON_IsTrue(del);
        } else if (kind == DOC_SYNC_JOB) {
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(source, "connector");

                if ((r = dup_string_field(c, "id", &d->connector_id)) < 0 ||
                    (r = dup_string_field(source, "created_at", &d->created_at)) < 0 ||
                    (r = dup_string_field(source, "status", &d->status)) < 0 ||
                    (r = dup_string_field(source, "job_type", &d->job_type)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(d);
        return 0;
}

/* Stores d, replacing a document with its id. Takes ownership of d. 1: created, 0: replaced. */
static struct table *table_of(struct fake_store *s, enum doc_kind kind) {
        return kind == DOC_CONNECTOR ? &s->connectors : kind == DOC_SYNC_JOB ? &s->sync_jobs : &s->secrets;
}

static int store_doc(struct fake_store *s, enum doc_kind kind, struct fake_doc *d) {
        struct table *t = table_of(s, kind);
        struct fake_doc *old = table_get(t, d->id);
        int r;

        if (kind == DOC_CONNECTOR)
                connectors_changed(s);
        if (old)
                table_remove(t, old);
        d->seq = s->next_seq++;
        r = table_add(t, d);
        if (r < 0) {
                doc_free(d);
                return r;
        }
        if (kind == DOC_SYNC_JOB)
                s->sync_job_index_exists = true;
        if (kind == DOC_SECRET)
                s->secret_index_exists = true;
        return old ? 0 : 1;
}

static int put_json(struct fake_store *s, enum doc_kind kind, const char *id, const char *source_json) {
        _cleanup_cjson_ cJSON *j = NULL;
        struct fake_doc *d = NULL;
        int r;

        j = cJSON_Parse(source_json);
        if (!j)
                return -EINVAL;
        r = doc_build(kind, id, j, &d);
        if (r < 0)
                return r;
        return store_doc(s, kind, d);
}

int fake_store_put_connector(struct fake_store *s, const char *id, const char *source_json) {
        return put_json(s, DOC_CONNECTOR, id, source_json);
}

int fake_store_put_sync_job(struct fake_store *s, const char *id, const char *source_json) {
        return put_json(s, DOC_SYNC_JOB, id, source_json);
}

const struct fake_doc *fake_store_get_connector(const struct fake_store *s, const char *id) {
        return table_get(&s->connectors, id);
}

const struct fake_doc *fake_store_get_sync_job(const struct fake_store *s, const char *id) {
        return table_get(&s->sync_jobs, id);
}

int fake_store_remove_connector(struct fake_store *s, const char *id) {
        struct fake_doc *d = table_get(&s->connectors, id);

        if (!d)
                return -ENOENT;
        connectors_changed(s);
        table_remove(&s->connectors, d);
        return 0;
}

int fake_store_remove_sync_job(struct fake_store *s, const char *id) {
        struct fake_doc *d = table_get(&s->sync_jobs, id);

        if (!d)
                return -ENOENT;
        table_remove(&s->sync_jobs, d);
        return 0;
}

int fake_store_soft_delete_connector(struct fake_store *s, const char *id) {
        _cleanup_cjson_ cJSON *j = NULL;
        struct fake_doc *d = table_get(&s->connectors, id), *nd = NULL;
        int r;

        if (!d)
                return -ENOENT;
        j = cJSON_Parse(d->source);
        if (!j)
                return -ENOMEM; /* we printed it ourselves, so only memory can fail here */
        cJSON_DeleteItemFromObjectCaseSensitive(j, "deleted");
        if (!cJSON_AddTrueToObject(j, "deleted"))
                return -ENOMEM;
        r = doc_build(DOC_CONNECTOR, id, j, &nd);
        if (r < 0)
                return r;
        r = store_doc(s, DOC_CONNECTOR, nd);
        return r < 0 ? r : 0;
}

size_t fake_store_remove_sync_jobs_of(struct fake_store *s, const char *connector_id) {
        size_t removed = 0;

        for (size_t i = 0; i < s->sync_jobs.n;) {
                struct fake_doc *d = s->sync_jobs.items[i];

                if (streq_ptr(d->connector_id, connector_id)) {
                        table_remove(&s->sync_jobs, d); /* moves the last item into slot i */
                        removed++;
                } else
                        i++;
        }
        return removed;
}

bool fake_store_sync_job_index_exists(const struct fake_store *s) {
        return s->sync_job_index_exists;
}

int fake_store_put_secret(struct fake_store *s, const char *id, const char *value) {
        _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
        struct fake_doc *d = NULL;
        int r;

        if (!j || !cJSON_AddStringToObject(j, "value", value))
                return -ENOMEM;
        r = doc_build(DOC_SECRET, id, j, &d);
        if (r < 0)
                return r;
        return store_doc(s, DOC_SECRET, d);
}

const struct fake_doc *fake_store_get_secret(const struct fake_store *s, const char *id) {
        return table_get(&s->secrets, id);
}

int fake_store_remove_secret(struct fake_store *s, const char *id) {
        struct fake_doc *d = table_get(&s->secrets, id);

        if (!d)
                return -ENOENT;
        table_remove(&s->secrets, d);
        return 0;
}

bool fake_store_secret_index_exists(const struct fake_store *s) {
        return s->secret_index_exists;
}

size_t fake_store_n_secrets(const struct fake_store *s) {
        return s->secrets.n;
}

size_t fake_store_n_connectors(const struct fake_store *s) {
        return s->connectors.n;
}

size_t fake_store_n_sync_jobs(const struct fake_store *s) {
        return s->sync_jobs.n;
}

static bool in_list(const char *v, const char *const *list, size_t n) {
        if (n == 0)
                return true;
        if (!v)
                return false;
        for (size_t i = 0; i < n; i++)
                if (streq(v, list[i]))
                        return true;
        return false;
}

static bool has_filters(const struct fake_connector_query *q) {
        return q->n_index_names > 0 || q->n_names > 0 || q->n_service_types > 0 || (q->query && q->query[0]);
}

/* 'pattern' is the query as the wildcard query Elasticsearch runs, "*<query>*", or NULL. */
static bool connector_matches(const struct fake_doc *d, const struct fake_connector_query *q,
                              const char *pattern) {
        if (!q->include_deleted && d->deleted)
                return false;
        if (!in_list(d->index_name, q->index_names, q->n_index_names) ||
            !in_list(d->name, q->names, q->n_names) ||
            !in_list(d->service_type, q->service_types, q->n_service_types))
                return false;
        /* The wildcard query runs on each of the three keyword fields. */
        if (pattern && !(d->index_name && glob_match(pattern, d->index_name, true)) &&
            !(d->name && glob_match(pattern, d->name, true)) &&
            !(d->description && glob_match(pattern, d->description, true)))
                return false;
        return true;
}

static int cmp_seq(const struct fake_doc *a, const struct fake_doc *b) {
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_connectors(const void *x, const void *y) {
        const struct fake_doc *a = *(const struct fake_doc *const *) x,
                              *b = *(const struct fake_doc *const *) y;

        /* A sort on a missing field puts the document last ("_last" is the default). */
        if (!a->index_name != !b->index_name)
                return a->index_name ? -1 : 1;
        if (a->index_name) {
                int c = utf8_cmp(a->index_name, b->index_name);

                if (c != 0)
                        return c;
        }
        return cmp_seq(a, b);
}

static int cmp_sync_jobs(const void *x, const void *y) {
        const struct fake_doc *a = *(const struct fake_doc *const *) x,
                              *b = *(const struct fake_doc *const *) y;

        if (!a->created_at != !b->created_at)
                return a->created_at ? -1 : 1;
        if (a->created_at) {
                int c = strcmp(b->created_at, a->created_at); /* descending */

                if (c != 0)
                        return c;
        }
        return cmp_seq(a, b);
}

static int cmp_by_seq(const void *x, const void *y) {
        return cmp_seq(*(const struct fake_doc *const *) x, *(const struct fake_doc *const *) y);
}

/* Sorts every connector, O(n log n), once after each write to the connectors; the live ones
 * (not soft-deleted) keep that order in an array of their own. */
static int ensure_sorted(struct fake_store *s) {
        size_t n = s->connectors.n, n_live = 0;

        if (s->sorted_valid)
                return 0;
        if (n == 0) {
                s->n_sorted = s->n_sorted_live = 0;
                s->sorted_valid = true;
                return 0;
        }
        if (n > s->sorted_cap) {
                const struct fake_doc **a, **b;

                a = realloc(s->sorted, n * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                s->sorted = a;
                b = realloc(s->sorted_live, n * sizeof(*b));
                if (!b)
                        return -ENOMEM;
                s->sorted_live = b;
                s->sorted_cap = n;
        }
        for (size_t i = 0; i < n; i++)
                s->sorted[i] = s->connectors.items[i];
        qsort(s->sorted, n, sizeof(*s->sorted), cmp_connectors);
        for (size_t i = 0; i < n; i++)
                if (!s->sorted[i]->deleted)
                        s->sorted_live[n_live++] = s->sorted[i];
        s->n_sorted = n;
        s->n_sorted_live = n_live;
        s->sorted_valid = true;
        return 0;
}

int fake_store_page_connectors(struct fake_store *s, const struct fake_connector_query *q, size_t from,
                               size_t size, const struct fake_doc ***ret, size_t *ret_n, size_t *ret_total) {
        _cleanup_free_ const struct fake_doc **v = NULL;
        _cleanup_free_ char *pattern = NULL;
        size_t total = 0, n = 0;
        int r;

        if (q->query && q->query[0] && asprintf(&pattern, "*%s*", q->query) < 0)
                return -ENOMEM;
        if (!has_filters(q) || s->sorted_valid) {
                const struct fake_doc *const *base;
                size_t n_base;

                r = ensure_sorted(s);
                if (r < 0)
                        return r;
                base = q->include_deleted ? s->sorted : s->sorted_live;
                n_base = q->include_deleted ? s->n_sorted : s->n_sorted_live;
                v = malloc(MAX(MIN(size, n_base), 1u) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                if (!has_filters(q)) {
                        /* A plain page: only its own connectors are touched. */
                        total = n_base;
                        for (size_t i = from; i < n_base && n < size; i++)
                                v[n++] = base[i];
                } else
                        /* Filtered: one pass in list order, nothing to sort. */
                        for (size_t i = 0; i < n_base; i++) {
                                if (!connector_matches(base[i], q, pattern))
                                        continue;
                                if (total >= from && n < size)
                                        v[n++] = base[i];
                                total++;
                        }
        } else {
                /* Filtered while the order is stale (PUT checks the index name this way before each
                 * write): sorting the matches alone costs less than sorting everything. */
                v = malloc(MAX(s->connectors.n, 1u) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (size_t i = 0; i < s->connectors.n; i++)
                        if (connector_matches(s->connectors.items[i], q, pattern))
                                v[total++] = s->connectors.items[i];
                qsort(v, total, sizeof(*v), cmp_connectors);
                if (from < total) {
                        n = MIN(size, total - from);
                        memmove(v, v + from, n * sizeof(*v));
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        *ret_total = total;
        return 0;
}

int fake_store_list_connectors(struct fake_store *s, const struct fake_connector_query *q,
                               const struct fake_doc ***ret, size_t *ret_n) {
        size_t n_page;

        return fake_store_page_connectors(s, q, 0, SIZE_MAX, ret, &n_page, ret_n);
}

int fake_store_list_sync_jobs(const struct fake_store *s, const struct fake_sync_job_query *q,
                              const struct fake_doc ***ret, size_t *ret_n) {
        const struct fake_doc **v = malloc(MAX(s->sync_jobs.n, 1u) * sizeof(*v));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < s->sync_jobs.n; i++) {
                const struct fake_doc *d = s->sync_jobs.items[i];

                if (q->connector_id && !streq_ptr(d->connector_id, q->connector_id))
                        continue;
                if (q->status && !streq_ptr(d->status, q->status))
                        continue;
                if (!in_list(d->job_type, q->job_types, q->n_job_types))
                        continue;
                v[n++] = d;
        }
        qsort(v, n, sizeof(*v), cmp_sync_jobs);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int all_docs(const struct table *t, const struct fake_doc ***ret, size_t *ret_n) {
        const struct fake_doc **v = malloc(MAX(t->n, 1u) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                v[i] = t->items[i];
        qsort(v, t->n, sizeof(*v), cmp_by_seq);
        *ret = v;
        *ret_n = t->n;
        return 0;
}

int fake_store_all_connectors(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n) {
        return all_docs(&s->connectors, ret, ret_n);
}

int fake_store_all_sync_jobs(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n) {
        return all_docs(&s->sync_jobs, ret, ret_n);
}

int fake_store_all_secrets(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n) {
        return all_docs(&s->secrets, ret, ret_n);
}

/* Turns cJSON's error position into "line:column" (1-based). */
static void text_position(const char *text, size_t len, const char *at, unsigned *ret_line,
                          unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (const char *p = text; p < at && p < text + len; p++) {
                if (*p == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

struct pending {
        enum doc_kind kind;
        struct fake_doc *doc;
};

/* Connector.toXContent() always writes is_native, status and sync_now, and 9.x deleted: a seeded
 * connector lacking one gets the value ConnectorIndexService.createConnector() gives a new one
 * (a native connector starts in "needs_configuration"). */
static int complete_connector(cJSON *doc, bool soft_deletes) {
        const cJSON *native = cJSON_GetObjectItemCaseSensitive(doc, "is_native");

        if (!native && !cJSON_AddFalseToObject(doc, "is_native"))
                return -ENOMEM;
        if (!cJSON_GetObjectItemCaseSensitive(doc, "status") &&
            !cJSON_AddStringToObject(doc, "status",
                                     cJSON_IsTrue(native) ? "needs_configuration" : "created"))
                return -ENOMEM;
        if (!cJSON_GetObjectItemCaseSensitive(doc, "sync_now") && !cJSON_AddFalseToObject(doc, "sync_now"))
                return -ENOMEM;
        if (soft_deletes && !cJSON_GetObjectItemCaseSensitive(doc, "deleted") &&
            !cJSON_AddFalseToObject(doc, "deleted"))
                return -ENOMEM;
        return 0;
}

static int load_array(const struct fake_store *s, cJSON *root, const char *key, enum doc_kind kind,
                      const char *origin, struct pending *p, size_t *np, char **reterr) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key), *item, *next;
        size_t i = 0;
        int r;

        if (!arr)
                return 0;
        if (!cJSON_IsArray(arr)) {
                *reterr = strdup_printf("%s: \"%s\" must be an array", origin, key);
                return -EINVAL;
        }
        for (item = arr->child; item; item = next) {
                _cleanup_cjson_ cJSON *doc = NULL;
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");

                next = item->next;

                if (!cJSON_IsObject(item)) {
                        *reterr = strdup_printf("%s: %s[%zu]: must be an object", origin, key, i);
                        return -EINVAL;
                }
                if (!cJSON_IsString(id) || id->valuestring[0] == 0) {
                        *reterr = strdup_printf("%s: %s[%zu]: \"id\" must be a non-empty string", origin,
                                                key, i);
                        return -EINVAL;
                }
                if (kind == DOC_SYNC_JOB) {
                        const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "connector");

                        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "id"))) {
                                *reterr = strdup_printf("%s: %s[%zu]: \"connector.id\" must be a string",
                                                        origin, key, i);
                                return -EINVAL;
                        }
                }
                /* Taken out of the tree, not copied: a seed can be hundreds of megabytes. */
                doc = cJSON_DetachItemViaPointer(arr, item);
                if (kind == DOC_CONNECTOR) {
                        r = complete_connector(doc, s->soft_deletes);
                        if (r < 0)
                                return r;
                }
                r = doc_build(kind, cJSON_GetObjectItemCaseSensitive(doc, "id")->valuestring, doc,
                              &p[*np].doc);
                if (r < 0)
                        return r;
                p[(*np)++].kind = kind;
                i++;
        }
        return 0;
}

int fake_store_load(struct fake_store *s, const char *text, size_t len, const char *origin, char **reterr) {
        _cleanup_cjson_ cJSON *root = NULL;
        _cleanup_free_ struct pending *p = NULL;
        const char *end = NULL;
        size_t np = 0, total;
        const cJSON *it;
        int r;

        root = cJSON_ParseWithLengthOpts(text, len, &end, false);
        if (!root) {
                unsigned line, col;

                text_position(text, len, cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : text, &line, &col);
                *reterr = strdup_printf("%s:%u:%u: invalid JSON", origin, line, col);
                return -EINVAL;
        }
        if (!cJSON_IsObject(root)) {
                *reterr = strdup_printf(
                        "%s: must be a JSON object with \"connectors\" and \"sync_jobs\" arrays", origin);
                return -EINVAL;
        }
        cJSON_ArrayForEach(it, root) {
                if (!streq(it->string, "connectors") && !streq(it->string, "sync_jobs")) {
                        *reterr = strdup_printf("%s: unknown key \"%s\"", origin, it->string);
                        return -EINVAL;
                }
        }
        total = (size_t) cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "connectors")) +
                (size_t) cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "sync_jobs"));
        p = calloc(total + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = load_array(s, root, "connectors", DOC_CONNECTOR, origin, p, &np, reterr);
        if (r >= 0)
                r = load_array(s, root, "sync_jobs", DOC_SYNC_JOB, origin, p, &np, reterr);
        if (r < 0) {
                for (size_t i = 0; i < np; i++)
                        doc_free(p[i].doc);
                return r;
        }
        if (cJSON_GetObjectItemCaseSensitive(root, "sync_jobs"))
                s->sync_job_index_exists = true;
        for (size_t i = 0; i < np; i++) {
                r = store_doc(s, p[i].kind, p[i].doc);
                if (r < 0) {
                        for (size_t k = i + 1; k < np; k++)
                                doc_free(p[k].doc);
                        return r;
                }
        }
        return 0;
}

int fake_store_check(const char *text, size_t len, const char *origin, char **reterr) {
        struct fake_store *scratch = NULL;
        int r;

        r = fake_store_new(&scratch);
        if (r < 0)
                return r;
        r = fake_store_load(scratch, text, len, origin, reterr);
        fake_store_free(scratch);
        return r;
}
