#pragma once

/* One reconciliation cycle, asynchronous on an sd-event loop:
 *   take the state folder's lock (one instance at a time) -> read every manifest (one snapshot,
 *   with its digest) and what earlier cycles saw -> learn the cluster's identity and version and
 *   list its connectors (a consistent listing, or none) -> plan (orphan grace, removed sets, the
 *   safety limits) -> stop there (`plan`), log what would be deleted (dry run), or: check that the
 *   cluster is still the same one and the manifests still the snapshot, then back up and delete
 *   the orphans (exec.c), each decided again on its document -> remember what was seen.
 * Logs its events with one CYCLE_ID. Bounded by the config's cycle_timeout. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "plan-file.h"
#include "plan.h"

enum cycle_status {
        CYCLE_OK,      /* everything done (or planned) */
        CYCLE_FAILED,  /* the cluster could not be listed or trusted, a delete failed, the cycle timed
                        * out or was stopped, or the state could not be kept */
        CYCLE_INVALID, /* a manifest (or the config's secrets) could not be read: nothing deleted */
        CYCLE_BLOCKED, /* a safety stop: nothing deleted */
        CYCLE_BUSY,    /* another instance holds the state folder's lock: nothing done */
        CYCLE_RETRY,   /* the manifests changed, or a Git operation ran on them, during the cycle:
                        * nothing (more) deleted; worth trying again soon */
        _CYCLE_STATUS_MAX,
};

/* The safety stops and refusals that keep a cycle from deleting: bits (1u << guard) of struct
 * cycle_result's guards, for the metrics. */
enum cycle_guard {
        CYCLE_GUARD_MAX_DELETIONS,        /* the plan deletes more than safety.max_deletions */
        CYCLE_GUARD_ALLOW_EMPTY,          /* an emptied set owns connectors (prune.allow_empty) */
        CYCLE_GUARD_REMOVED_SET,          /* a set that declared connectors is gone, unconfirmed */
        CYCLE_GUARD_MANIFESTS_INVALID,    /* a manifest could not be read */
        CYCLE_GUARD_LISTING_INCOMPLETE,   /* no consistent listing, or more than the result window */
        CYCLE_GUARD_CLUSTER_MISMATCH,     /* GET / named another cluster (-ESTALE) */
        CYCLE_GUARD_BACKUP_UNUSABLE,      /* the backup folder could not be prepared */
        CYCLE_GUARD_STATE_UNUSABLE,       /* the state folder could not be prepared, locked or written */
        CYCLE_GUARD_PLAN_MISMATCH,        /* the live plan is not the saved one (--plan FILE) */
        CYCLE_GUARD_MANIFESTS_STALE,      /* the Git source could not be fetched */
        CYCLE_GUARD_MANIFESTS_UNVERIFIED, /* its commit is not signed as manifests.verify asks */
        CYCLE_GUARD_MAX_UPDATES,          /* the plan creates or updates more than safety.max_updates */
        _CYCLE_GUARD_MAX,
};

/* --only: which kinds of change a cycle carries out (bits; 0 for all). */
enum cycle_only {
        CYCLE_ONLY_CREATE = 1u << 0,
        CYCLE_ONLY_UPDATE = 1u << 1,
        CYCLE_ONLY_DELETE = 1u << 2,
};

struct cluster_info;
struct converge_plan;
struct manifest;

struct cycle_result {
        enum cycle_status status;
        struct plan *plan; /* NULL unless the cycle got that far; owned by the cycle, valid until
                            * the cycle is freed (it points into the cycle's listing) */
        const struct cluster_info *cluster; /* what GET / said, or NULL; owned by the cycle */
        const char *cluster_url;            /* owned by the cycle; NULL before the client exists */
        const char *manifests_digest;       /* "sha256:<hex>", or NULL before the manifests were read */
        const struct manifest *manifest;    /* the manifests planned from (owned by the cycle), or NULL */
        const char *revision; /* the Git commit the manifests were read from, or NULL (a folder) */
        bool revision_stale;  /* that commit is the last fetched: the fetch failed */
        size_t deleted;
        size_t already_gone;
        size_t failed;
        size_t changed;      /* not deleted: changed since the listing */
        size_t not_deleted;  /* not deleted: the cycle stopped, or the manifests changed, first */
        size_t unknown;      /* DELETEs sent and unanswered at the stop */
        size_t would_delete; /* dry run */
        /* Creating and converging (spec.lifecycle): the changes planned (owned by the cycle; NULL
         * when no set creates or updates, or before the survey), then what was done. */
        const struct converge_plan *changes;
        size_t created;
        size_t updated;
        size_t change_failed;  /* creates and updates that failed */
        size_t change_changed; /* not done: changed since the survey */
        size_t change_unknown; /* stopped with its request unanswered */
        /* The same by kind, for the metrics: [0] creates, [1] updates; each [ok, error, skipped]
         * (lifecycle.h's outcomes, copied). */
        size_t change_outcomes[2][3];
        size_t would_create; /* dry run */
        size_t would_update; /* dry run */
        pid_t lock_holder;   /* CYCLE_BUSY: the other instance's pid, 0 when unknown */
        bool timed_out;
        bool stopped;
        unsigned guards;                 /* the enum cycle_guard bits that tripped */
        usec_t duration_usec;            /* from cycle_start() to the end (CLOCK_MONOTONIC) */
        struct cluster_http_counts http; /* this cycle's answers from the cluster */
        char summary[512]; /* one line for STATUS= and the log, e.g. "deleted 3, kept 12, ..." */
};

struct cycle;

struct cycle_options {
        const struct config *config; /* borrowed until 'done' runs or the cycle is freed */
        bool plan_only;     /* stop after planning (the `plan` command): no lock, no state written */
        bool dry_run;       /* plan and log, delete nothing: no lock, no state written */
        unsigned page_size; /* connectors per list page; 0 for the API's default */
        /* Sets whose disappearance is confirmed for this cycle (--confirm-removed-set), on top of
         * the config's safety.confirm_removed_sets. Borrowed like 'config'. */
        char *const *confirm_removed_sets;
        size_t n_confirm_removed_sets;
        /* A long run of deletions goes on: 'done' of 'total' ended (exec.h's progress hook, which
         * says when), logged by the cycle already. Gets cycle_start()'s 'userdata'. May be NULL. */
        void (*progress)(size_t done, size_t total, void *userdata);
        /* --max-deletions: safety.max_deletions for this cycle (PLAN_UNLIMITED for none) */
        bool max_deletions_set;
        uint64_t max_deletions;
        /* --max-updates: safety.max_updates for this cycle (PLAN_UNLIMITED for none) */
        bool max_updates_set;
        uint64_t max_updates;
        /* --only: the enum cycle_only bits of the changes to carry out; 0 for all */
        unsigned only;
        /* --plan FILE: the saved plan this cycle must match exactly, or it deletes nothing and
         * ends CYCLE_BLOCKED. Borrowed like 'config'. */
        const struct plan_file *saved_plan;
        /* Called once, with the result so far (the plan, the cluster, the manifests), right before
         * the first deletion of a plan that deletes something: `once` on a terminal shows what it
         * is about to do. May be NULL. */
        void (*show_plan)(const struct cycle_result *r);
        /* --revision: read the manifests' Git source at this ref or commit instead of
         * manifests.ref. For plan_only. Borrowed like 'config'. */
        const char *revision;
        /* Fetch the manifests' Git repository whatever manifests.fetch_interval says: the cycle
         * was asked for (SIGUSR1), after a merge say. */
        bool fetch_now;
};

/* Starts a cycle. 'done' runs exactly once from the loop (never from inside cycle_start())
 * unless the cycle is freed first; the result is borrowed from the cycle. The cycle may be freed
 * from inside 'done'. Returns 0 and *ret (owned by the caller), or a negative errno. */
int cycle_start(struct cycle **ret, sd_event *event, const struct cycle_options *o,
                void (*done)(struct cycle *c, struct cycle_result *r, void *userdata), void *userdata);

/* Stops the cycle early (SIGTERM): no new request starts, nothing more is deleted, and the
 * DELETEs already sent are awaited for at most 'grace_usec'; those unanswered then are logged as
 * of unknown outcome. 'done' runs when it is over, from the loop, with the status CYCLE_FAILED
 * and the summary of what was done. */
void cycle_stop(struct cycle *c, usec_t grace_usec);

/* Cancels whatever the cycle is doing (requests in flight, retry timers) and frees it; 'done'
 * is not called. Accepts NULL; returns NULL. */
struct cycle *cycle_free(struct cycle *c);
DEFINE_CLEANUP_FUNC(struct cycle *, cycle_free);

/* The cluster client's options from the config (cluster_options_init() first): the strings are
 * borrowed from 'c', which must outlive cluster_new(). */
void cycle_cluster_options(const struct config *c, struct cluster_options *o);
