#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-lister.h"
#include "util.h"

/* ---- The lister: paging and the consistency of the pages ---- */

struct lister_item {
        struct plan_connector connector;
        uint64_t seq; /* arrival order: the later copy of a duplicate wins */
};

struct cluster_lister {
        unsigned page_size;
        uint64_t window;

        bool asked, have_count, last_page_short;
        uint64_t count;
        uint64_t next_from;
        uint64_t asked_from;
        unsigned asked_size;

        struct lister_item *items;
        size_t n_items, n_alloc;
        uint64_t seq;

        char *reason;       /* the first thing that disagreed; NULL while nothing did */
        unsigned n_reasons; /* how many things disagreed: a long listing can shift on every page */
};

int cluster_lister_new(struct cluster_lister **ret, unsigned page_size, uint64_t max_result_window) {
        struct cluster_lister *l;

        assert(ret);

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->window = MAX(max_result_window, (uint64_t) 1);
        l->page_size = page_size == 0 ? CLUSTER_PAGE_SIZE_DEFAULT : MIN(page_size, CLUSTER_PAGE_SIZE_MAX);
        *ret = l;
        return 0;
}

struct cluster_lister *cluster_lister_free(struct cluster_lister *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_items; i++)
                plan_connector_done(&l->items[i].connector);
        free(l->items);
        free(l->reason);
        free(l);
        return NULL;
}

static int lister_note(struct cluster_lister *l, const char *fmt, ...) _printf_(2, 3);
static int lister_note(struct cluster_lister *l, const char *fmt, ...) {
        va_list ap;
        int r;

        /* The first disagreement says what happened; the rest are only counted, so that the
         * message stays one line however many pages shifted. */
        if (l->n_reasons++ > 0)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&l->reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                l->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* A count at Elasticsearch's exact-count limit is only a lower bound. */
static bool lister_count_is_lower_bound(const struct cluster_lister *l) {
        return l->count >= CLUSTER_TOTAL_HITS_EXACT_MAX;
}

int cluster_lister_next(struct cluster_lister *l, uint64_t *ret_from, unsigned *ret_size,
                        char **reterr_message) {
        assert(l);
        assert(ret_from);
        assert(ret_size);

        if (!l->asked) {
                l->asked = true;
                l->asked_from = 0;
                l->asked_size = (unsigned) MIN((uint64_t) l->page_size, l->window);
                *ret_from = l->asked_from;
                *ret_size = l->asked_size;
                return 1;
        }

        assert(l->have_count); /* a page must be fed before asking for the next one */

        if (!lister_count_is_lower_bound(l)) {
                if (l->count > l->window)
                        return reterr_printf(reterr_message, -EOVERFLOW,
                                             "The cluster holds %" PRIu64
                                             " connectors; the list API shows at most %" PRIu64
                                             " (index.max_result_window), so the listing is incomplete",
                                             l->count, l->window);
                if (l->next_from >= l->count || l->next_from >= l->window)
                        return 0;
        } else {
                /* "At least count": when the window cannot go past it, we cannot see them all; when
                 * it can, page on until a short page says the end has come. */
                if (l->window <= l->count)
                        return reterr_printf(reterr_message, -EOVERFLOW,
                                             "The cluster holds at least %" PRIu64
                                             " connectors (Elasticsearch counts no "
                                             "further); the list API shows at most %" PRIu64
                                             " (index.max_result_window), so the listing is incomplete",
                                             l->count, l->window);
                if (l->last_page_short)
                        return 0;
                if (l->next_from >= l->window)
                        return reterr_printf(
                                reterr_message, -EOVERFLOW,
                                "The cluster holds more than %" PRIu64 " connectors; the list API shows at "
                                "most %" PRIu64 " (index.max_result_window), so the listing is incomplete",
                                l->window, l->window);
        }

        l->asked_from = l->next_from;
        l->asked_size = (unsigned) MIN((uint64_t) l->page_size, l->window - l->next_from);
        *ret_from = l->asked_from;
        *ret_size = l->asked_size;
        return 1;
}

int cluster_lister_add(struct cluster_lister *l, struct cluster_page *page) {
        uint64_t expected;

        assert(l);
        assert(page);
        assert(l->asked);

        if (l->have_count && page->count != l->count &&
            lister_note(l, "the connector count changed from %" PRIu64 " to %" PRIu64 " while listing",
                        l->count, page->count) < 0)
                return -ENOMEM;
        l->count = page->count;
        l->have_count = true;
        l->last_page_short = page->n_connectors < l->asked_size;

        expected =
                page->count > l->asked_from ? MIN((uint64_t) l->asked_size, page->count - l->asked_from) : 0;
        if (!lister_count_is_lower_bound(l) && page->n_connectors != expected &&
            lister_note(l,
                        "the page at from=%" PRIu64 " held %zu connectors where %" PRIu64 " were expected",
                        l->asked_from, page->n_connectors, expected) < 0)
                return -ENOMEM;

        if (page->n_connectors > l->n_alloc - l->n_items) {
                size_t a = MAX(l->n_alloc * 2, l->n_items + page->n_connectors);
                struct lister_item *items = reallocarray(l->items, a, sizeof(struct lister_item));

                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->n_alloc = a;
        }
        for (size_t i = 0; i < page->n_connectors; i++) {
                l->items[l->n_items++] = (struct lister_item){
                        .connector = page->connectors[i],
                        .seq = l->seq++,
                };
                page->connectors[i] = (struct plan_connector){};
        }
        cluster_page_done(page);

        l->next_from = l->asked_from + l->asked_size;
        return 0;
}

static int lister_item_compare(const void *a, const void *b) {
        const struct lister_item *x = a, *y = b;
        int r = strcmp(x->connector.id, y->connector.id);

        if (r != 0)
                return r;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int cluster_lister_finish(struct cluster_lister *l, struct cluster_listing **ret) {
        struct cluster_listing *listing;
        size_t n = 0;

        assert(l);
        assert(ret);

        listing = calloc(1, sizeof(*listing));
        if (!listing)
                return -ENOMEM;
        listing->connectors = calloc(MAX(l->n_items, (size_t) 1), sizeof(struct plan_connector));
        if (!listing->connectors) {
                free(listing);
                return -ENOMEM;
        }

        /* O(n log n) in connectors; n <= the result window. Of each id's copies (a listing
         * sorted by a non-unique index_name may show one twice as it shifts) the last one wins. */
        if (l->n_items > 0)
                qsort(l->items, l->n_items, sizeof(struct lister_item), lister_item_compare);
        for (size_t i = 0; i < l->n_items; i++) {
                if (i + 1 < l->n_items && streq(l->items[i].connector.id, l->items[i + 1].connector.id)) {
                        plan_connector_done(&l->items[i].connector);
                        continue;
                }
                listing->connectors[n++] = l->items[i].connector;
                l->items[i].connector = (struct plan_connector){};
        }
        l->n_items = 0;
        listing->n_connectors = n;
        listing->count = l->count;

        /* With a count that is only a lower bound, more than it is no disagreement. */
        if ((lister_count_is_lower_bound(l) ? n < l->count : n != l->count) &&
            lister_note(l, "%zu distinct connectors arrived where the count says %" PRIu64, n, l->count) < 0)
                goto oom;

        listing->complete = l->n_reasons == 0;
        if (l->n_reasons > 1) {
                char *more = strdup_printf("%s (and %u more disagreements)", l->reason, l->n_reasons - 1);

                if (!more)
                        goto oom;
                free(l->reason);
                l->reason = more;
        }
        listing->incomplete_reason = TAKE_PTR(l->reason);
        *ret = listing;
        return 0;

oom:
        (void) cluster_listing_free(listing);
        return -ENOMEM;
}

struct cluster_listing *cluster_listing_free(struct cluster_listing *l) {
        if (!l)
                return NULL;
        cluster_connectors_free(l->connectors, l->n_connectors);
        free(l->incomplete_reason);
        free(l);
        return NULL;
}
