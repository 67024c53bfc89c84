#pragma once

/* Listing every connector: which page to ask for next, and what the pages together say. Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster-decode.h"

/* The list API's 'count' is a search's total hits, which Elasticsearch counts exactly only up to
 * this many (track_total_hits defaults to 10,000): a count of this much means "at least". */
#define CLUSTER_TOTAL_HITS_EXACT_MAX 10000u
#define CLUSTER_PAGE_SIZE_DEFAULT    100u   /* the list API's own default size */
#define CLUSTER_PAGE_SIZE_MAX        10000u /* from + size may never pass the result window */

/* Every connector the cluster listed, sorted by id (bytewise), each id once. 'complete' is false
 * when the pages disagreed (a count that changed, a short page, fewer distinct ids than the
 * count); 'incomplete_reason' then says what.
 * A listing that shifts while we page can only hide connectors from us, never invent one, so
 * what is in 'connectors' did exist: the caller decides what an incomplete listing may do. */
struct cluster_listing {
        struct plan_connector *connectors;
        size_t n_connectors;
        uint64_t count; /* the last page's 'count' */
        bool complete;
        char *incomplete_reason; /* NULL when complete */
        unsigned attempts;       /* cluster_list(): the listings taken to get this one */
};

struct cluster_listing *cluster_listing_free(struct cluster_listing *l);
DEFINE_CLEANUP_FUNC(struct cluster_listing *, cluster_listing_free);

/* The paging logic of cluster_list(), pure: which page to ask for next, and what the pages
 * together say. */
struct cluster_lister;

int cluster_lister_new(struct cluster_lister **ret, unsigned page_size, uint64_t max_result_window);
struct cluster_lister *cluster_lister_free(struct cluster_lister *l);
DEFINE_CLEANUP_FUNC(struct cluster_lister *, cluster_lister_free);

/* The next page: returns 1 with *ret_from and *ret_size, 0 when every page has been read, or
 * -EOVERFLOW with *reterr_message when the count passes the result window ("The cluster holds
 * 12034 connectors; the list API shows at most 10000 (index.max_result_window), so the listing is
 * incomplete"), or is a lower bound (CLUSTER_TOTAL_HITS_EXACT_MAX) the window cannot pass ("The
 * cluster holds at least 10000 connectors ..."). With a window above that limit, pages go on
 * after the count until a short page; full pages up to the window are the same error. */
int cluster_lister_next(struct cluster_lister *l, uint64_t *ret_from, unsigned *ret_size,
                        char **reterr_message);

/* Feeds the page asked for by the last cluster_lister_next(); takes its connectors (the page is
 * left empty). Returns 0 or -ENOMEM. */
int cluster_lister_add(struct cluster_lister *l, struct cluster_page *page);

/* Builds the listing (owned by the caller) from every page fed so far. */
int cluster_lister_finish(struct cluster_lister *l, struct cluster_listing **ret);
