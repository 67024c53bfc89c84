#pragma once

/* The plan: desired connector sets + the cluster's actual connectors + safety policy -> what one
 * cycle does with each connector, and why. Pure: no I/O, no clock, no randomness, no logging, no
 * globals. These types are also what the manifest reader produces and the cluster client fills. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_UNLIMITED UINT64_MAX /* safety.max_deletions: unlimited */

/* A connector a set declares (manifest `spec.connectors[]`). Only `id` decides anything; the
 * other fields are recorded for drift reports and may be NULL. */
struct plan_declared {
        char *id;
        char *name;
        char *service_type;
        char *index_name;
        char *description;
};

/* One ConnectorSet. A selector list that is NULL (n_* == 0) matches everything for that key;
 * a non-empty list matches when any item matches. The manifest reader refuses empty lists. */
struct plan_set {
        char *name;
        char **id_prefixes;
        size_t n_id_prefixes;
        char **service_types;
        size_t n_service_types;
        char **index_name_prefixes;
        size_t n_index_name_prefixes;
        bool prune_enabled;    /* default true */
        bool delete_sync_jobs; /* default false */
        bool hard;             /* default false */
        bool allow_empty;      /* default false */
        struct plan_declared *connectors;
        size_t n_connectors;
};

/* A connector as listed by the cluster: only the fields the plan and the logs need. Any string
 * may be NULL (a null or missing field in the document). */
struct plan_connector {
        char *id;
        char *name;
        char *service_type;
        char *index_name;
        bool deleted; /* soft-deleted (Elasticsearch 9.0+, `deleted: true`) */
};

struct plan_policy {
        uint64_t max_deletions; /* PLAN_UNLIMITED for no limit */
};

enum plan_kind {
        PLAN_DELETE,
        PLAN_KEEP,
        PLAN_MISSING,
        PLAN_UNMANAGED,
        PLAN_PROTECTED,
        _PLAN_KIND_MAX,
};

/* One decision about one connector id. Strings are owned by the plan. */
struct plan_item {
        enum plan_kind kind;
        char *id;
        const struct plan_connector *connector; /* borrowed from the input; NULL for PLAN_MISSING */
        bool delete_sync_jobs;                  /* PLAN_DELETE: every owning set says so */
        bool hard;                              /* PLAN_DELETE: every owning set says so */
        char **sets;     /* PLAN_DELETE/PROTECTED: owning sets; KEEP/MISSING: the declaring set */
        size_t n_sets;
        char *reason;    /* PLAN_PROTECTED: why; NULL otherwise */
};

struct plan {
        struct plan_item *items; /* sorted by kind, then by id (bytewise) */
        size_t n_items;
        size_t counts[_PLAN_KIND_MAX];
        char *blocked; /* NULL, or why the cycle deletes nothing (allow_empty, max_deletions) */
};

/* Builds the plan. The inputs are borrowed and must outlive the plan (items point at actual
 * connectors). Ids declared twice across sets are the manifest reader's error to report; here
 * the first declaring set wins. Returns 0 and sets *ret (owned by the caller), or -ENOMEM. */
int plan_build(const struct plan_set *sets, size_t n_sets, const struct plan_connector *actual,
               size_t n_actual, const struct plan_policy *policy, struct plan **ret);

struct plan *plan_free(struct plan *p);
static inline void plan_freep(struct plan **p) {
        if (*p)
                (void) plan_free(*p);
}

const char *plan_kind_to_string(enum plan_kind k);

/* Frees the contents of a set, a declared connector or an actual connector (not the struct). */
void plan_set_done(struct plan_set *s);
void plan_declared_done(struct plan_declared *d);
void plan_connector_done(struct plan_connector *c);
