#pragma once

/* The plan: desired connector sets + the cluster's actual connectors + safety policy -> what one
 * cycle does with each connector, and why. Pure: no I/O, no clock, no randomness, no logging, no
 * globals. These types are also what the manifest reader produces and the cluster client fills. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_UNLIMITED UINT64_MAX /* safety.max_deletions: unlimited */

/* A connector a set declares (manifest `spec.connectors[]`). Only `id` decides what is deleted;
 * the other fields are recorded for drift reports and may be NULL. */
struct plan_declared {
        char *id;
        char *name;
        char *service_type;
        char *index_name;
        char *description;
        /* Every field the manifest declares besides the id (name, description, service_type,
         * index_name, language, is_native, pipeline, scheduling, features, filtering,
         * configuration), as one compact JSON object in the shapes the connector API takes, a
         * configuration value from a secret as {"secret": NAME}; NULL when none is declared. What a
         * set with spec.lifecycle creates and converges (converge.h). */
        char *fields;
};

/* spec.lifecycle: what a set does besides pruning. All false by default. */
struct plan_lifecycle {
        bool create;           /* create a declared connector the cluster lacks */
        bool update;           /* set each declared field that differs */
        bool allow_disruptive; /* ... also index_name, service_type and is_native */
        /* create over a soft-deleted connector of a declared id (9.x), its tombstone lost */
        bool revive_soft_deleted;
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
        /* prune.purge_after: how long after this program soft-deleted a connector (Elasticsearch
         * 9.0+, hard false) it deletes it for good; 0 (the default): never. */
        uint64_t purge_after_usec;
        struct plan_lifecycle lifecycle;
        struct plan_declared *connectors;
        size_t n_connectors;
};

/* A connector as listed by the cluster: only the fields the plan and the logs need. Any string
 * but id may be NULL (a null or missing field in the document); a NULL service_type or
 * index_name matches no service_types or index_name_prefixes list. */
struct plan_connector {
        char *id;
        char *name;
        char *service_type;
        char *index_name;
        bool deleted; /* soft-deleted (Elasticsearch 9.0+, `deleted: true`) */
};

/* What earlier cycles saw, kept in the state folder (state.c) and read by the plan. */

/* An orphan and when a cycle first saw it as one (CLOCK_REALTIME, microseconds since the epoch);
 * the sightings since were consecutive. */
struct plan_orphan_seen {
        char *id;
        uint64_t since_usec;
};

/* A connector this program deleted, and how many cycles since have not listed it. While it is
 * listed again it is protected (something re-creates it: an Elastic Agent re-creates connectors
 * that were hard-deleted), instead of deleted again and again. */
struct plan_deleted {
        char *id;
        uint64_t cycles_absent;
        uint64_t deleted_usec; /* when (CLOCK_REALTIME, usec); 0: not known */
};

/* How many cycles a deleted connector is remembered while not listed. */
#define PLAN_DELETED_CYCLES 3u

/* A connector id that set 'set' declared in the last cycle that carried out its plan. */
struct plan_prior {
        char *id;
        char *set;
};

/* The safety rules, and what earlier cycles saw. The arrays are borrowed for plan_build(). */
struct plan_policy {
        uint64_t max_deletions; /* PLAN_UNLIMITED for no limit */

        /* safety.orphan_grace: an orphan is deleted only once it has been one for this long, by
         * consecutive cycles (0: at once). 'seen' (sorted by id, each id once; may be NULL) says
         * since when each was one; an orphan not in it is one since now_usec. */
        uint64_t orphan_grace_usec;
        uint64_t now_usec; /* CLOCK_REALTIME */
        const struct plan_orphan_seen *seen;
        size_t n_seen;

        /* Removed sets: which set declared each id in the last cycle that carried out its plan
         * (sorted by id, each id once; NULL: none recorded), and the names of the sets whose
         * disappearance is confirmed (any order). */
        const struct plan_prior *prior;
        size_t n_prior;
        char *const *confirmed_removed;
        size_t n_confirmed_removed;

        /* The connectors this program deleted lately (sorted by id, each id once; may be NULL): an
         * orphan among them is protected, not deleted again. */
        const struct plan_deleted *deleted;
        size_t n_deleted;
};

enum plan_kind {
        PLAN_DELETE,
        PLAN_KEEP,
        PLAN_MISSING,
        PLAN_UNMANAGED,
        PLAN_PROTECTED,
        PLAN_WAITING, /* an orphan to delete once its grace is over */
        _PLAN_KIND_MAX,
};

/* One decision about one connector id. Strings are owned by the plan. */
struct plan_item {
        enum plan_kind kind;
        char *id;
        /* Borrowed from the input. NULL for a PLAN_MISSING id the cluster does not list; for a
         * declared id the cluster lists as soft-deleted (PLAN_MISSING too), that connector. */
        const struct plan_connector *connector;
        bool delete_sync_jobs; /* PLAN_DELETE: every owning set says so */
        bool hard;             /* PLAN_DELETE: every owning set says so, or a purge */
        /* PLAN_DELETE: the hard delete of a connector this program soft-deleted, once every owning
         * set's prune.purge_after has passed (the connector is listed with deleted: true). */
        bool purge;
        /* PLAN_DELETE/PROTECTED: the owning sets; KEEP/MISSING: the declaring set; UNMANAGED:
         * none. Sorted by name (bytewise), no name twice. */
        char **sets;
        size_t n_sets;
        /* PLAN_PROTECTED: why; PLAN_MISSING: why, when the cluster lists the id soft-deleted;
         * NULL otherwise. */
        char *reason;
        /* PLAN_DELETE, PLAN_WAITING: since when it is an orphan (CLOCK_REALTIME, usec). */
        uint64_t since_usec;
        /* PLAN_WAITING: when it becomes deletable; PLAN_PROTECTED with PLAN_REASON_PURGE_AT: when
         * it is purged. */
        uint64_t deletable_at_usec;
};

/* Which rules block a plan: bits of struct plan's blocked_by. */
enum plan_block {
        PLAN_BLOCK_ALLOW_EMPTY = 1u << 0,   /* an emptied set that owns connectors */
        PLAN_BLOCK_REMOVED_SET = 1u << 1,   /* a set removed without confirmation */
        PLAN_BLOCK_MAX_DELETIONS = 1u << 2, /* more deletes than safety.max_deletions */
        PLAN_BLOCK_MAX_UPDATES = 1u << 3,   /* more creates and updates than safety.max_updates */
};

/* One rule that blocks a plan, and its reason. */
struct plan_block_reason {
        enum plan_block rule;
        char *set;  /* the set it is about (owned); NULL for max_deletions */
        char *text; /* the reason, as in struct plan's 'blocked' (owned) */
};

struct plan {
        struct plan_item *items; /* sorted by kind, then by id (bytewise) */
        size_t n_items;
        size_t counts[_PLAN_KIND_MAX];
        char *blocked; /* NULL, or why the cycle deletes nothing (allow_empty, removed sets, max_deletions) */
        unsigned blocked_by; /* the enum plan_block bits of the rules in 'blocked'; 0 when NULL */
        /* The reasons of 'blocked' one by one, in its order (for a report to say each one's fix). */
        struct plan_block_reason *block_reasons;
        size_t n_block_reasons;
};

/* Builds the plan: one item per distinct id, in the cluster or declared. The inputs are borrowed
 * and must outlive the plan (items point at actual connectors).
 *
 * Beyond the semantics of connector-reconciler-manifest(5), the rules where it is silent:
 * - A soft-deleted connector (deleted: true) is never deleted again, but for a purge. Declared,
 *   it is PLAN_MISSING (it exists but does not serve), with a reason. Owned and not declared, it
 *   is PLAN_PROTECTED with the reason "soft-deleted ...", so that `plan` still shows it. Owned by
 *   no set, it is PLAN_UNMANAGED like any other.
 * - Purge: an owned, undeclared, soft-deleted connector that policy->deleted records with a
 *   deleted_usec (this program deleted it then), when every owning set prunes and has a
 *   purge_after, is PLAN_DELETE with hard and purge once the longest of those purge_after has
 *   passed since (now_usec at or after deleted_usec + purge_after), and PLAN_PROTECTED with
 *   PLAN_REASON_PURGE_AT and deletable_at_usec until then. Grace does not apply (it was an
 *   orphan long enough to be deleted once); max_deletions and the removed-set rule do.
 * - A declared id is PLAN_KEEP with the declaring set even when no set's selector owns it.
 * - allow_empty: a set with prune.enabled, no declared connectors and allow_empty false blocks
 *   the cycle when its selector owns any listed connector at all, soft-deleted ones and ones
 *   other sets declare included (the conservative reading: an emptied manifest needs explicit
 *   consent even when this cycle would happen to delete nothing). A set with pruning disabled
 *   never blocks, since it can make nothing deletable.
 * - max_deletions: more PLAN_DELETE items than policy->max_deletions blocks; exactly as many
 *   does not; PLAN_UNLIMITED disables the check. PLAN_WAITING items do not count (yet).
 * - orphan grace: an orphan that would be PLAN_DELETE is PLAN_WAITING while it has been one for
 *   less than orphan_grace_usec. A 'since' later than now (a clock set back) counts as now: a
 *   clock is restarted, never shortened.
 * - removed sets: a PLAN_DELETE item whose id a set declared in the last cycle that carried out
 *   its plan ('prior'), when that set is in the manifests no more and its removal is not
 *   confirmed, blocks the cycle, as an emptied set does: deleting a manifest file is the same
 *   accident as emptying it. The reason names each such set, how many of its connectors would
 *   go, and how to confirm.
 * - When blocked, the PLAN_DELETE items stay (they show what would have been deleted) and
 *   `blocked` holds every reason, joined by "; ": the allow_empty ones by set name, then
 *   max_deletions. The executor deletes nothing when `blocked` is set.
 * - Ids declared twice across sets are the manifest reader's error to report; here the first
 *   declaring set (in the order given) wins. An id the cluster lists twice counts once: the
 *   first copy decides.
 * Cost: about linear in the total length of the ids (a radix sort; ids alike over their first
 * 256 bytes are compared whole), plus every set's selector items for each listed connector no
 * set declares (for each listed one, when a set may block by allow_empty).
 *
 * Returns 0 and sets *ret (owned by the caller); -EINVAL when a set name, a declared id, a
 * selector item or an actual connector's id is NULL; -ENOMEM. */
int plan_build(const struct plan_set *sets, size_t n_sets, const struct plan_connector *actual,
               size_t n_actual, const struct plan_policy *policy, struct plan **ret);

/* Blocks the plan when 'n_writes' (the connectors the cycle would create or update, counted by
 * lifecycle.c) is more than 'max_updates' (PLAN_UNLIMITED: never): appends the reason to 'blocked'
 * and 'block_reasons' with PLAN_BLOCK_MAX_UPDATES. Returns 1 when it blocked, 0, or -ENOMEM. */
int plan_block_max_updates(struct plan *p, size_t n_writes, uint64_t max_updates);

/* What plan_recheck() decides. */
struct plan_recheck {
        bool delete; /* still an orphan to delete, owned by the same sets */
        bool delete_sync_jobs, hard;
        char *reason; /* when not to delete: why (owned) */
};

void plan_recheck_done(struct plan_recheck *r);

/* Decides again about 'item', a PLAN_DELETE decided from the listing, from 'c', the connector as
 * read now ('declared': whether the manifests declare its id). It stays to be deleted only when it
 * is still an orphan of exactly the same sets, all of them pruning, and not soft-deleted; the flags
 * are those of the sets that own it now. Anything else (declared now, owned by another set or by
 * none, protected, soft-deleted) is "changed since the listing", with the reason. A purge
 * (item->purge) is the other way round: it stays one only while the connector is still
 * soft-deleted, owned by exactly the same sets, all of them pruning and each with a purge_after
 * (read with include_deleted, since on 9.x a plain GET answers 404 for it). Grace, purge_after's
 * time, max_deletions and allow_empty are not applied again: they were, on the whole listing.
 * Returns 0 and fills *ret, or -ENOMEM. */
int plan_recheck(const struct plan_set *sets, size_t n_sets, const struct plan_item *item,
                 const struct plan_connector *c, bool declared, struct plan_recheck *ret);

/* The item of 'id', or NULL. O(log n). */
const struct plan_item *plan_find(const struct plan *p, const char *id);

/* The reason of an orphan protected because this program deleted it lately and it is back. */
#define PLAN_REASON_RETURNED                                                                             \
        "deleted by this program in a recent cycle and listed again: something re-creates it (an "       \
        "Elastic Agent re-creates hard-deleted connectors); not deleted again until it is declared, no " \
        "longer owned, or gone"

/* The reason of a connector this program soft-deleted, waiting for prune.purge_after to pass
 * (deletable_at_usec says until when). */
#define PLAN_REASON_PURGE_AT \
        "soft-deleted by this program (deleted: true); deleted for good once prune.purge_after has passed"

/* Frees the plan and everything it owns (not the inputs it borrows). Accepts NULL; returns NULL. */
struct plan *plan_free(struct plan *p);
static inline void plan_freep(struct plan **p) {
        if (*p)
                (void) plan_free(*p);
}

/* "delete", "keep", "missing", "unmanaged", "protected", "waiting"; NULL for anything else. */
const char *plan_kind_to_string(enum plan_kind k);

/* A set's name (metadata.name) is a DNS label (RFC 1123), as Kubernetes names its namespaces: 1 to
 * PLAN_SET_NAME_MAX of a-z, 0-9 and '-', starting and ending with a letter or digit. */
#define PLAN_SET_NAME_MAX 63U
bool plan_set_name_is_valid(const char *s);

/* Frees the contents of a set (its declared connectors included), a declared connector or an
 * actual connector (not the struct itself), and zeroes it, so a second call does nothing. */
void plan_set_done(struct plan_set *s);
void plan_declared_done(struct plan_declared *d);
void plan_connector_done(struct plan_connector *c);
