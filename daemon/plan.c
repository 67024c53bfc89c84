#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "util.h"

/* A growing string for the reasons; its own small helper keeps this module free of stdio
 * streams (vsnprintf only formats). */
struct strbuf {
        char *s;
        size_t len;
        size_t cap;
};

static int strbuf_appendf(struct strbuf *b, const char *fmt, ...) _printf_(2, 3);
static int strbuf_appendf(struct strbuf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;

        if (b->len + (size_t) n + 1 > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + (size_t) n + 1);
                char *s = realloc(b->s, cap);

                if (!s)
                        return -ENOMEM;
                b->s = s;
                b->cap = cap;
        }

        va_start(ap, fmt);
        (void) vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

/* An id to sort: a declared one or a listed one, in one array. */
struct ref {
        const char *id;
        size_t pos;   /* < n_decl: declaration ordinal over all sets; else n_decl + input index */
        uint64_t key; /* refs_sort()'s scratch: 8 bytes of the id */
        bool same;    /* after refs_sort(): the id equals the previous ref's */
        bool deleted; /* a listed, soft-deleted connector (copied: reading the input in id order
                       * would cost a cache miss per declared connector) */
};

/* refs_sort(): runs this short are sorted by insertion; ids alike for this many bytes, by
 * qsort_r(), which bounds the recursion. */
#define REFS_INSERTION_MAX   24
#define REFS_RADIX_DEPTH_MAX 256

/* Bytes [depth, depth + 8) of id, big-endian, NUL-padded: such keys order as the ids do
 * (bytewise, as strcmp()). The id must be at least 'depth' bytes long. */
static uint64_t id_key(const char *id, size_t depth) {
        uint64_t k = 0;

        for (size_t i = 0; i < 8; i++) {
                unsigned char c = (unsigned char) id[depth + i];

                if (c == 0)
                        break;
                k |= (uint64_t) c << (56 - 8 * i);
        }
        return k;
}

static int cmp_size(size_t a, size_t b) {
        return a < b ? -1 : a > b;
}

static int ref_cmp_tail(const void *a, const void *b, void *userdata) {
        const struct ref *x = a, *y = b;
        const size_t *depth = userdata;
        int r;

        r = strcmp(x->id + *depth, y->id + *depth);
        if (r != 0)
                return r;
        return cmp_size(x->pos, y->pos);
}

/* Stable sort of refs[0..n) by key: one counting pass for all eight bytes, then a scatter pass
 * per byte, least significant first, skipping the bytes on which all refs agree. tmp has room
 * for n refs. */
static void refs_radix_by_key(struct ref *refs, struct ref *tmp, size_t n) {
        size_t count[8][256] = {};
        struct ref *from = refs, *to = tmp;

        for (size_t i = 0; i < n; i++)
                for (size_t byte = 0; byte < 8; byte++)
                        count[byte][(refs[i].key >> (8 * byte)) & 0xff]++;

        for (size_t byte = 0; byte < 8; byte++) {
                size_t *c = count[byte], sum = 0;
                struct ref *t;

                if (c[(refs[0].key >> (8 * byte)) & 0xff] == n)
                        continue;
                for (size_t v = 0; v < 256; v++) {
                        size_t here = c[v];

                        c[v] = sum;
                        sum += here;
                }
                for (size_t i = 0; i < n; i++)
                        to[c[(from[i].key >> (8 * byte)) & 0xff]++] = from[i];
                t = from;
                from = to;
                to = t;
        }
        if (from != refs)
                memcpy(refs, from, n * sizeof(struct ref));
}

/* Sorts refs[0..n), which share their first 'depth' bytes and come in pos order, by id
 * bytewise, equal ids in pos order, and marks each ref whose id equals its predecessor's. No
 * string comparisons: an MSD radix sort on 8-byte digits of the ids, each digit sorted by a
 * stable LSD radix sort. Each id is read once per 8 bytes of prefix it shares with another, so
 * this costs O(n + distinguishing bytes) and stays in the ref array; comparison sorts spent most
 * of their time on cache misses, comparing ids scattered over the heap O(n log n) times. */
static void refs_sort(struct ref *refs, struct ref *tmp, size_t n, size_t depth) {
        if (n < 2)
                return;

        if (depth >= REFS_RADIX_DEPTH_MAX) {
                qsort_r(refs, n, sizeof(struct ref), ref_cmp_tail, &depth);
                for (size_t i = 1; i < n; i++)
                        refs[i].same = streq(refs[i].id + depth, refs[i - 1].id + depth);
                return;
        }

        for (size_t i = 0; i < n; i++)
                refs[i].key = id_key(refs[i].id, depth);

        if (n <= REFS_INSERTION_MAX)
                for (size_t i = 1; i < n; i++) {
                        struct ref r = refs[i];
                        size_t j = i;

                        for (; j > 0 && refs[j - 1].key > r.key; j--)
                                refs[j] = refs[j - 1];
                        refs[j] = r;
                }
        else
                refs_radix_by_key(refs, tmp, n);

        /* A run of equal keys holding the end of the ids (a NUL byte) is a run of equal ids;
         * any other run is sorted on by the next digit. */
        for (size_t i = 0, j; i < n; i = j) {
                j = i + 1;
                while (j < n && refs[j].key == refs[i].key)
                        j++;
                if ((refs[i].key & 0xff) == 0)
                        for (size_t k = i + 1; k < j; k++)
                                refs[k].same = true;
                else
                        refs_sort(refs + i, tmp + i, j - i, depth + 8);
        }
}

static int set_name_cmp(const void *a, const void *b) {
        const struct plan_set *const *x = a, *const *y = b;

        return strcmp((*x)->name, (*y)->name);
}

/* As startswith(), without measuring the prefix first: this runs (sets x prefixes) times per
 * listed connector, and most prefixes differ from the id within a few bytes. */
static bool has_prefix(const char *s, const char *prefix) {
        for (; *prefix; s++, prefix++)
                if (*s != *prefix)
                        return false;
        return true;
}

static bool strv_has_prefix_of(char *const *prefixes, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (has_prefix(s, prefixes[i]))
                        return true;
        return false;
}

static bool strv_contains(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* Every key of the selector must match; an absent key (n == 0) matches everything. A NULL
 * field cannot match a list. id is c's id (a copy the caller has at hand, in cache). */
static bool set_owns(const struct plan_set *s, const char *id, const struct plan_connector *c) {
        if (s->n_id_prefixes > 0 && !strv_has_prefix_of(s->id_prefixes, s->n_id_prefixes, id))
                return false;
        if (s->n_service_types > 0 &&
            (!c->service_type || !strv_contains(s->service_types, s->n_service_types, c->service_type)))
                return false;
        if (s->n_index_name_prefixes > 0 &&
            (!c->index_name ||
             !strv_has_prefix_of(s->index_name_prefixes, s->n_index_name_prefixes, c->index_name)))
                return false;
        return true;
}

static bool strv_valid(char *const *l, size_t n) {
        if (n > 0 && !l)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!l[i])
                        return false;
        return true;
}

static int validate_input(const struct plan_set *sets, size_t n_sets, const struct plan_connector *actual,
                          size_t n_actual) {
        for (size_t i = 0; i < n_sets; i++) {
                const struct plan_set *s = sets + i;

                if (!s->name)
                        return -EINVAL;
                if (!strv_valid(s->id_prefixes, s->n_id_prefixes) ||
                    !strv_valid(s->service_types, s->n_service_types) ||
                    !strv_valid(s->index_name_prefixes, s->n_index_name_prefixes))
                        return -EINVAL;
                if (s->n_connectors > 0 && !s->connectors)
                        return -EINVAL;
                for (size_t j = 0; j < s->n_connectors; j++)
                        if (!s->connectors[j].id)
                                return -EINVAL;
        }
        for (size_t i = 0; i < n_actual; i++)
                if (!actual[i].id)
                        return -EINVAL;
        return 0;
}

static void item_done(struct plan_item *it) {
        free(it->id);
        for (size_t i = 0; i < it->n_sets; i++)
                free(it->sets[i]);
        free(it->sets);
        free(it->reason);
}

/* Copies the names of the given sets into it->sets, sorted, each name once. 'owners' is
 * scratch space and gets reordered. */
static int item_set_names(struct plan_item *it, const struct plan_set **owners, size_t n_owners) {
        assert(!it->sets);
        assert(n_owners > 0);

        qsort(owners, n_owners, sizeof(owners[0]), set_name_cmp);

        it->sets = calloc(n_owners, sizeof(char *));
        if (!it->sets)
                return -ENOMEM;
        for (size_t i = 0; i < n_owners; i++) {
                if (it->n_sets > 0 && streq(it->sets[it->n_sets - 1], owners[i]->name))
                        continue;
                it->sets[it->n_sets] = strdup(owners[i]->name);
                if (!it->sets[it->n_sets])
                        return -ENOMEM;
                it->n_sets++;
        }
        return 0;
}

/* Decides about a declared id; c is the listed connector with that id, or NULL, and 'deleted'
 * its soft-deleted flag. */
static int item_declared(struct plan_item *it, const struct plan_set *declaring, const char *id,
                         const struct plan_connector *c, bool deleted) {
        it->id = strdup(id);
        if (!it->id)
                return -ENOMEM;
        it->connector = c;
        if (c && deleted) {
                it->kind = PLAN_MISSING;
                it->reason = strdup("declared, but soft-deleted in the cluster (deleted: true)");
                if (!it->reason)
                        return -ENOMEM;
        } else
                it->kind = c ? PLAN_KEEP : PLAN_MISSING;
        return item_set_names(it, &declaring, 1);
}

static int seen_cmp(const void *key, const void *elem) {
        const struct plan_orphan_seen *e = elem;

        return strcmp(key, e->id);
}

static int deleted_cmp(const void *key, const void *elem) {
        const struct plan_deleted *e = elem;

        return strcmp(key, e->id);
}

/* Since when 'id' is an orphan: what an earlier cycle saw, or now. Never later than now. */
static uint64_t orphan_since(const struct plan_policy *policy, const char *id) {
        const struct plan_orphan_seen *e = NULL;

        if (policy->n_seen > 0)
                e = bsearch(id, policy->seen, policy->n_seen, sizeof(struct plan_orphan_seen), seen_cmp);
        return e && e->since_usec <= policy->now_usec ? e->since_usec : policy->now_usec;
}

static const struct plan_deleted *find_deleted(const struct plan_policy *policy, const char *id) {
        if (!policy || policy->n_deleted == 0)
                return NULL;
        return bsearch(id, policy->deleted, policy->n_deleted, sizeof(struct plan_deleted), deleted_cmp);
}

/* a + b, or UINT64_MAX when that overflows: a time that never comes. */
static uint64_t add_saturated(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Decides about a listed, soft-deleted connector that 'n_owners' sets own, none of them with
 * pruning disabled when 'all_prune'; 'purge_after' is the longest purge_after of the owners, 0
 * when one of them has none. 'policy' NULL: a recheck of a purge, which the listing found due. */
static int item_soft_deleted(struct plan_item *it, bool all_prune, uint64_t purge_after, bool sync,
                             const struct plan_policy *policy, bool rechecking_purge) {
        const struct plan_deleted *d = find_deleted(policy, it->id);

        if (all_prune && purge_after > 0 && (rechecking_purge || (d && d->deleted_usec > 0))) {
                uint64_t due = rechecking_purge ? 0 : add_saturated(d->deleted_usec, purge_after);

                if (rechecking_purge || policy->now_usec >= due) {
                        it->kind = PLAN_DELETE;
                        it->purge = it->hard = true;
                        it->delete_sync_jobs = sync;
                        it->since_usec = rechecking_purge ? 0 : d->deleted_usec;
                        return 0;
                }
                it->kind = PLAN_PROTECTED;
                it->deletable_at_usec = due;
                it->reason = strdup(PLAN_REASON_PURGE_AT);
                return it->reason ? 0 : -ENOMEM;
        }
        it->kind = PLAN_PROTECTED;
        it->reason = strdup("soft-deleted in the cluster (deleted: true); not deleted again");
        return it->reason ? 0 : -ENOMEM;
}

/* Decides about a listed connector no set declares; id is a copy of its id. 'owners' (n_sets
 * long) is scratch space. 'policy' (NULL for none) decides between PLAN_DELETE and PLAN_WAITING,
 * and about purges; without it, 'rechecking_purge' says a purge is being decided again. */
static int item_undeclared(struct plan_item *it, const struct plan_set *sets, size_t n_sets, const char *id,
                           const struct plan_connector *c, const struct plan_set **owners,
                           const struct plan_policy *policy, bool rechecking_purge) {
        size_t n_owners = 0, n_no_prune = 0;
        uint64_t purge_after = 0;
        bool sync = true, hard = true, all_purge = true;
        int r;

        assert(c);
        it->id = strdup(id);
        if (!it->id)
                return -ENOMEM;
        it->connector = c;

        for (size_t i = 0; i < n_sets; i++) {
                if (!set_owns(sets + i, id, c))
                        continue;
                owners[n_owners++] = sets + i;
                sync = sync && sets[i].delete_sync_jobs;
                hard = hard && sets[i].hard;
                if (!sets[i].prune_enabled)
                        n_no_prune++;
                all_purge = all_purge && sets[i].purge_after_usec > 0;
                purge_after = MAX(purge_after, sets[i].purge_after_usec);
        }

        if (n_owners == 0) {
                it->kind = PLAN_UNMANAGED;
                return 0;
        }

        r = item_set_names(it, owners, n_owners);
        if (r < 0)
                return r;

        if (c->deleted)
                return item_soft_deleted(it, n_no_prune == 0, all_purge ? purge_after : 0, sync, policy,
                                         rechecking_purge);

        if (n_no_prune == 0 && find_deleted(policy, id)) {
                it->kind = PLAN_PROTECTED;
                it->reason = strdup(PLAN_REASON_RETURNED);
                return it->reason ? 0 : -ENOMEM;
        }

        if (n_no_prune == 0) {
                it->kind = PLAN_DELETE;
                it->delete_sync_jobs = sync;
                it->hard = hard;
                if (policy) {
                        it->since_usec = orphan_since(policy, id);
                        if (policy->orphan_grace_usec > 0 &&
                            policy->now_usec - it->since_usec < policy->orphan_grace_usec) {
                                it->kind = PLAN_WAITING;
                                it->deletable_at_usec = it->since_usec + policy->orphan_grace_usec;
                        }
                }
                return 0;
        }

        /* Protected: the reason names the sets that disable pruning, in name order (item_set_names()
         * left the owners sorted). */
        struct strbuf names = {};
        const char *last = NULL;
        size_t n_named = 0;

        for (size_t i = 0; i < n_owners; i++) {
                if (owners[i]->prune_enabled || (last && streq(last, owners[i]->name)))
                        continue;
                last = owners[i]->name;
                r = strbuf_appendf(&names, "%s'%s'", n_named == 0 ? "" : ", ", last);
                if (r < 0) {
                        free(names.s);
                        return r;
                }
                n_named++;
        }

        it->kind = PLAN_PROTECTED;
        r = asprintf(&it->reason, "%s %s %s prune.enabled: false", n_named == 1 ? "set" : "sets", names.s,
                     n_named == 1 ? "has" : "have");
        free(names.s);
        if (r < 0) {
                it->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* The sets the allow_empty rule applies to: they would block as soon as they own anything. */
static bool set_may_block(const struct plan_set *s) {
        return s->prune_enabled && !s->allow_empty && s->n_connectors == 0;
}

static int prior_cmp(const void *key, const void *elem) {
        const struct plan_prior *e = elem;

        return strcmp(key, e->id);
}

static int name_key_cmp(const void *key, const void *elem) {
        const struct plan_set *const *s = elem;

        return strcmp(key, (*s)->name);
}

/* A set of the last cycle that the manifests hold no more, with its connectors that would go. */
struct removed_set {
        const char *name;
        size_t n;
        const char *example; /* the first such id */
};

/* Appends to p->block_reasons the reason that 'b' holds from 'start' on (past its "; "). */
static int add_block_reason(struct plan *p, enum plan_block rule, const char *set, const struct strbuf *b,
                            size_t start) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        struct plan_block_reason *a;

        if (start > 0)
                start += 2; /* "; " */
        text = strndup(b->s + start, b->len - start);
        if (!text)
                return -ENOMEM;
        if (set) {
                name = strdup(set);
                if (!name)
                        return -ENOMEM;
        }
        a = reallocarray(p->block_reasons, p->n_block_reasons + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        p->block_reasons = a;
        p->block_reasons[p->n_block_reasons++] = (struct plan_block_reason){
                .rule = rule,
                .set = TAKE_PTR(name),
                .text = TAKE_PTR(text),
        };
        return 0;
}

/* Appends to 'b' the reason of each removed set (see plan_build()). 'order' holds the sets
 * sorted by name. */
static int removed_sets_reason(const struct plan_set *const *order, size_t n_sets, struct plan *p,
                               const struct plan_policy *policy, struct strbuf *b) {
        _cleanup_free_ struct removed_set *removed = NULL;
        size_t n_removed = 0;
        int r;

        if (!policy->prior)
                return 0;

        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;
                const struct plan_prior *was;
                bool confirmed = false;
                size_t k;

                if (it->kind != PLAN_DELETE)
                        continue;
                was = policy->n_prior > 0 ? bsearch(it->id, policy->prior, policy->n_prior,
                                                    sizeof(struct plan_prior), prior_cmp)
                                          : NULL;
                if (!was || !was->set ||
                    (n_sets > 0 && bsearch(was->set, order, n_sets, sizeof(order[0]), name_key_cmp)))
                        continue;
                for (size_t j = 0; j < policy->n_confirmed_removed && !confirmed; j++)
                        confirmed = streq_ptr(policy->confirmed_removed[j], was->set);
                if (confirmed)
                        continue;

                /* O(removed sets) per item: a handful at most. */
                for (k = 0; k < n_removed; k++)
                        if (streq(removed[k].name, was->set))
                                break;
                if (k == n_removed) {
                        struct removed_set *a = reallocarray(removed, n_removed + 1, sizeof(*a));

                        if (!a)
                                return -ENOMEM;
                        removed = a;
                        removed[n_removed++] = (struct removed_set){ .name = was->set, .example = it->id };
                }
                removed[k].n++;
        }

        for (size_t k = 0; k < n_removed; k++) {
                size_t start = b->len;

                r = strbuf_appendf(
                        b,
                        "%sset '%s' is gone from the manifests since the last cycle that ran, and %zu "
                        "%s it declared then would now be deleted (such as '%s'); if its removal is "
                        "meant, confirm it (once: --confirm-removed-set %s; in the config: "
                        "safety.confirm_removed_sets)",
                        b->len > 0 ? "; " : "", removed[k].name, removed[k].n,
                        removed[k].n == 1 ? "connector" : "connectors", removed[k].example, removed[k].name);
                if (r < 0)
                        return r;
                r = add_block_reason(p, PLAN_BLOCK_REMOVED_SET, removed[k].name, b, start);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_block_max_updates(struct plan *p, size_t n_writes, uint64_t max_updates) {
        struct strbuf b = {};
        size_t len;
        int r;

        if (max_updates == PLAN_UNLIMITED || n_writes <= max_updates)
                return 0;
        if (p->blocked) {
                r = strbuf_appendf(&b, "%s", p->blocked);
                if (r < 0)
                        return r;
        }
        len = b.len;
        r = strbuf_appendf(&b, "%sthe plan creates or updates %zu %s, more than safety.max_updates (%ju)",
                           b.len > 0 ? "; " : "", n_writes, n_writes == 1 ? "connector" : "connectors",
                           (uintmax_t) max_updates);
        if (r >= 0)
                r = add_block_reason(p, PLAN_BLOCK_MAX_UPDATES, NULL, &b, len);
        if (r < 0) {
                free(b.s);
                return r;
        }
        free(p->blocked);
        p->blocked = b.s;
        p->blocked_by |= PLAN_BLOCK_MAX_UPDATES;
        return 1;
}

/* The blocked reason, or NULL (and *ret and *ret_by untouched) when nothing blocks; *ret_by gets
 * the enum plan_block bits of the rules that block. 'owned' counts, per set, the listed connectors
 * its selector owns. 'order' is n_sets of scratch space. */
static int blocked_reason(const struct plan_set *sets, size_t n_sets, const size_t *owned,
                          const struct plan_set **order, struct plan *p, const struct plan_policy *policy,
                          char **ret, unsigned *ret_by) {
        size_t n_deletes = p->counts[PLAN_DELETE], len;
        struct strbuf b = {};
        unsigned by = 0;
        int r;

        for (size_t i = 0; i < n_sets; i++)
                order[i] = sets + i;
        qsort(order, n_sets, sizeof(order[0]), set_name_cmp);

        for (size_t i = 0; i < n_sets; i++) {
                const struct plan_set *s = order[i];
                size_t n = owned[s - sets];

                if (!set_may_block(s) || n == 0)
                        continue;
                len = b.len;
                r = strbuf_appendf(&b,
                                   "%sset '%s' declares no connectors but owns %zu in the cluster; "
                                   "refusing to delete them all (set prune.allow_empty: true to allow this)",
                                   b.len > 0 ? "; " : "", s->name, n);
                if (r < 0)
                        goto fail;
                r = add_block_reason(p, PLAN_BLOCK_ALLOW_EMPTY, s->name, &b, len);
                if (r < 0)
                        goto fail;
                by |= PLAN_BLOCK_ALLOW_EMPTY;
        }

        len = b.len;
        r = removed_sets_reason(order, n_sets, p, policy, &b);
        if (r < 0)
                goto fail;
        if (b.len > len)
                by |= PLAN_BLOCK_REMOVED_SET;

        if (policy->max_deletions != PLAN_UNLIMITED && n_deletes > policy->max_deletions) {
                len = b.len;
                r = strbuf_appendf(&b, "%sthe plan deletes %zu %s, more than safety.max_deletions (%ju)",
                                   b.len > 0 ? "; " : "", n_deletes,
                                   n_deletes == 1 ? "connector" : "connectors",
                                   (uintmax_t) policy->max_deletions);
                if (r < 0)
                        goto fail;
                r = add_block_reason(p, PLAN_BLOCK_MAX_DELETIONS, NULL, &b, len);
                if (r < 0)
                        goto fail;
                by |= PLAN_BLOCK_MAX_DELETIONS;
        }

        if (b.s) {
                *ret = b.s;
                *ret_by = by;
        }
        return 0;

fail:
        free(b.s);
        return r;
}

/* The plan's working state; freed on every path of plan_build(). */
struct builder {
        const struct plan_policy *policy;
        const struct plan_set *sets;
        size_t n_sets;
        const struct plan_connector *actual;
        size_t n_actual;
        size_t n_decl;
        bool any_may_block; /* some set_may_block(): ownership needs counting */

        char *ids;        /* a copy of every id, in input order: the refs point here */
        struct ref *refs; /* n_decl declared ids, then n_actual listed ones */
        struct ref *tmp;  /* refs_sort()'s scratch */
        size_t *decl_set; /* declaration ordinal -> index of the declaring set */
        const struct plan_set **scratch;
        size_t *owned;           /* per set: listed ids it owns, for the allow_empty rule */
        struct plan_item *items; /* in id order, before grouping by kind */
        size_t n_items;
};

static void builder_done(struct builder *b) {
        free(b->ids);
        free(b->refs);
        free(b->tmp);
        free(b->decl_set);
        free(b->scratch);
        free(b->owned);
        for (size_t i = 0; i < b->n_items; i++)
                item_done(b->items + i);
        free(b->items);
}

/* Allocates the working state and fills the refs, ids copied in input order into one block, so
 * that the sort and the walk, which go in id order, read them from there rather than from all
 * over the heap (a cache miss per id, which was most of the time spent). */
static int builder_init(struct builder *b) {
        size_t n_refs = b->n_decl + b->n_actual, ids_size = 0, n = 0;
        char *w;

        for (size_t i = 0; i < b->n_sets; i++)
                for (size_t j = 0; j < b->sets[i].n_connectors; j++)
                        ids_size += strlen(b->sets[i].connectors[j].id) + 1;
        for (size_t i = 0; i < b->n_actual; i++)
                ids_size += strlen(b->actual[i].id) + 1;

        /* calloc(0, ...) may return NULL: always ask for at least one element. */
        b->ids = malloc(MAX(ids_size, (size_t) 1));
        b->refs = calloc(MAX(n_refs, (size_t) 1), sizeof(struct ref));
        b->tmp = calloc(MAX(n_refs, (size_t) 1), sizeof(struct ref));
        b->decl_set = calloc(MAX(b->n_decl, (size_t) 1), sizeof(size_t));
        b->scratch = calloc(MAX(b->n_sets, (size_t) 1), sizeof(struct plan_set *));
        b->owned = calloc(MAX(b->n_sets, (size_t) 1), sizeof(size_t));
        b->items = calloc(MAX(n_refs, (size_t) 1), sizeof(struct plan_item));
        if (!b->ids || !b->refs || !b->tmp || !b->decl_set || !b->scratch || !b->owned || !b->items)
                return -ENOMEM;

        w = b->ids;
        for (size_t i = 0; i < b->n_sets; i++)
                for (size_t j = 0; j < b->sets[i].n_connectors; j++, n++) {
                        b->decl_set[n] = i;
                        b->refs[n] = (struct ref){ .id = w, .pos = n };
                        w = stpcpy(w, b->sets[i].connectors[j].id) + 1;
                }
        for (size_t i = 0; i < b->n_actual; i++, n++) {
                b->refs[n] = (struct ref){ .id = w, .pos = n, .deleted = b->actual[i].deleted };
                w = stpcpy(w, b->actual[i].id) + 1;
        }
        return 0;
}

/* Decides about one id, given its first declaration d and its first listed copy c (either may
 * be NULL, not both), appending the item. */
static int builder_decide(struct builder *b, const struct ref *d, const struct ref *c) {
        const struct plan_connector *conn = c ? b->actual + (c->pos - b->n_decl) : NULL;
        struct plan_item *it = b->items + b->n_items++;

        /* The allow_empty rule counts every listed id a set owns, declared or not. */
        if (conn && b->any_may_block)
                for (size_t s = 0; s < b->n_sets; s++)
                        if (set_may_block(b->sets + s) && set_owns(b->sets + s, c->id, conn))
                                b->owned[s]++;

        if (d)
                return item_declared(it, b->sets + b->decl_set[d->pos], d->id, conn, c && c->deleted);
        return item_undeclared(it, b->sets, b->n_sets, c->id, conn, b->scratch, b->policy, false);
}

int plan_build(const struct plan_set *sets, size_t n_sets, const struct plan_connector *actual,
               size_t n_actual, const struct plan_policy *policy, struct plan **ret) {
        _cleanup_(builder_done) struct builder b = {
                .policy = policy,
                .sets = sets,
                .n_sets = n_sets,
                .actual = actual,
                .n_actual = n_actual,
        };
        _cleanup_(plan_freep) struct plan *p = NULL;
        size_t n_refs, next[_PLAN_KIND_MAX] = {};
        int r;

        assert(sets || n_sets == 0);
        assert(actual || n_actual == 0);
        assert(policy);
        assert(ret);

        r = validate_input(sets, n_sets, actual, n_actual);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_sets; i++) {
                b.n_decl += sets[i].n_connectors;
                b.any_may_block = b.any_may_block || set_may_block(sets + i);
        }
        n_refs = b.n_decl + n_actual;

        r = builder_init(&b);
        if (r < 0)
                return r;

        /* One sort brings each id's refs together: its declarations first, in the order given (the
         * first declaring set wins), then its listed copies (the first copy decides). The items
         * come out in id order. */
        refs_sort(b.refs, b.tmp, n_refs, 0);
        /* Peak memory is reached while the plan's items are made: drop the scratch first. */
        free(b.tmp);
        b.tmp = NULL;

        for (size_t i = 0; i < n_refs;) {
                const struct ref *d = NULL, *c = NULL;

                do {
                        const struct ref *x = b.refs + i;

                        if (x->pos < b.n_decl)
                                d = d ?: x;
                        else
                                c = c ?: x;
                        i++;
                } while (i < n_refs && b.refs[i].same);

                r = builder_decide(&b, d, c);
                if (r < 0)
                        return r;
        }
        /* The items hold copies of the ids: the sorted refs and their id block are done. */
        free(b.refs);
        b.refs = NULL;
        free(b.ids);
        b.ids = NULL;

        p = calloc(1, sizeof(struct plan));
        if (!p)
                return -ENOMEM;
        p->items = calloc(MAX(b.n_items, (size_t) 1), sizeof(struct plan_item));
        if (!p->items)
                return -ENOMEM;

        /* The items are in id order; a stable distribution by kind keeps that order within each
         * kind, which is the plan's order. */
        for (size_t i = 0; i < b.n_items; i++)
                p->counts[b.items[i].kind]++;
        for (size_t k = 1; k < _PLAN_KIND_MAX; k++)
                next[k] = next[k - 1] + p->counts[k - 1];
        for (size_t i = 0; i < b.n_items; i++)
                p->items[next[b.items[i].kind]++] = b.items[i];
        p->n_items = b.n_items;
        b.n_items = 0; /* the plan owns the items' contents now */

        r = blocked_reason(sets, n_sets, b.owned, b.scratch, p, policy, &p->blocked, &p->blocked_by);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

static int item_id_cmp(const void *key, const void *elem) {
        const struct plan_item *it = elem;

        return strcmp(key, it->id);
}

const struct plan_item *plan_find(const struct plan *p, const char *id) {
        const struct plan_item *base = p->items;

        assert(id);

        /* Sorted by kind, then by id: one search in each kind's run. */
        for (size_t k = 0; k < _PLAN_KIND_MAX; base += p->counts[k], k++) {
                const struct plan_item *it;

                if (p->counts[k] == 0)
                        continue;
                it = bsearch(id, base, p->counts[k], sizeof(struct plan_item), item_id_cmp);
                if (it)
                        return it;
        }
        return NULL;
}

struct plan *plan_free(struct plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_items; i++)
                item_done(p->items + i);
        free(p->items);
        free(p->blocked);
        for (size_t i = 0; i < p->n_block_reasons; i++) {
                free(p->block_reasons[i].set);
                free(p->block_reasons[i].text);
        }
        free(p->block_reasons);
        free(p);
        return NULL;
}

static const char *const plan_kind_table[_PLAN_KIND_MAX] = {
        [PLAN_DELETE] = "delete",       [PLAN_KEEP] = "keep",           [PLAN_MISSING] = "missing",
        [PLAN_UNMANAGED] = "unmanaged", [PLAN_PROTECTED] = "protected", [PLAN_WAITING] = "waiting",
};

const char *plan_kind_to_string(enum plan_kind k) {
        if ((unsigned) k >= _PLAN_KIND_MAX)
                return NULL;
        return plan_kind_table[k];
}

static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

void plan_declared_done(struct plan_declared *d) {
        if (!d)
                return;
        free(d->id);
        free(d->name);
        free(d->service_type);
        free(d->index_name);
        free(d->description);
        free(d->fields);
        *d = (struct plan_declared){};
}

void plan_set_done(struct plan_set *s) {
        if (!s)
                return;
        free(s->name);
        strv_free_n(s->id_prefixes, s->n_id_prefixes);
        strv_free_n(s->service_types, s->n_service_types);
        strv_free_n(s->index_name_prefixes, s->n_index_name_prefixes);
        for (size_t i = 0; i < s->n_connectors; i++)
                plan_declared_done(s->connectors + i);
        free(s->connectors);
        *s = (struct plan_set){};
}

void plan_connector_done(struct plan_connector *c) {
        if (!c)
                return;
        free(c->id);
        free(c->name);
        free(c->service_type);
        free(c->index_name);
        *c = (struct plan_connector){};
}

void plan_recheck_done(struct plan_recheck *r) {
        if (!r)
                return;
        free(r->reason);
        *r = (struct plan_recheck){};
}

/* "'a', 'b'" of an item's sets, or "none". */
static int sets_text(const struct plan_item *it, struct strbuf *b) {
        int r;

        if (it->n_sets == 0)
                return strbuf_appendf(b, "none");
        for (size_t i = 0; i < it->n_sets; i++) {
                r = strbuf_appendf(b, "%s'%s'", i == 0 ? "" : ", ", it->sets[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_recheck(const struct plan_set *sets, size_t n_sets, const struct plan_item *item,
                 const struct plan_connector *c, bool declared, struct plan_recheck *ret) {
        _cleanup_free_ const struct plan_set **owners = NULL;
        struct plan_item now = {};
        struct strbuf b = {};
        bool same = false;
        int r;

        assert(sets || n_sets == 0);
        assert(item);
        assert(c && c->id);
        assert(ret);

        *ret = (struct plan_recheck){};
        if (declared) {
                ret->reason = strdup("the manifests declare it now");
                return ret->reason ? 0 : -ENOMEM;
        }

        owners = calloc(MAX(n_sets, (size_t) 1), sizeof(*owners));
        if (!owners)
                return -ENOMEM;
        r = item_undeclared(&now, sets, n_sets, c->id, c, owners, NULL, item->purge);
        if (r < 0)
                goto finish;

        if (item->purge && !c->deleted) {
                ret->reason = strdup("it is no longer soft-deleted (deleted: false): something restored it");
                r = ret->reason ? 0 : -ENOMEM;
                goto finish;
        }
        if (now.kind == PLAN_DELETE && now.purge == item->purge && now.n_sets == item->n_sets) {
                same = true;
                for (size_t i = 0; i < now.n_sets && same; i++)
                        same = streq(now.sets[i], item->sets[i]);
        }
        if (same) {
                ret->delete = true;
                ret->delete_sync_jobs = now.delete_sync_jobs;
                ret->hard = now.hard;
                goto finish;
        }

        switch (now.kind) {
        case PLAN_UNMANAGED:
                r = strbuf_appendf(&b, "no set owns it now (service_type '%s', index_name '%s')",
                                   strna(c->service_type), strna(c->index_name));
                break;
        case PLAN_PROTECTED:
                r = strbuf_appendf(&b, "it is protected now: %s", strna(now.reason));
                break;
        default:
                r = strbuf_appendf(&b, "the sets that own it are ");
                if (r >= 0)
                        r = sets_text(&now, &b);
                if (r >= 0)
                        r = strbuf_appendf(&b, " now, not ");
                if (r >= 0)
                        r = sets_text(item, &b);
                if (r >= 0)
                        r = strbuf_appendf(&b, " as in the listing");
        }
        if (r >= 0)
                ret->reason = TAKE_PTR(b.s);

finish:
        free(b.s);
        item_done(&now);
        return r < 0 ? r : 0;
}

bool plan_set_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > PLAN_SET_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');

                if (!alnum && (s[i] != '-' || i == 0 || i == n - 1))
                        return false;
        }
        return true;
}
