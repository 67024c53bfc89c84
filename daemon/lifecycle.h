#pragma once

/* Creating and converging the declared connectors of the sets with spec.lifecycle, in two steps
 * of a cycle, on the cluster client:
 *   survey: from the plan (which ids are listed, which missing) and GET /_connector/<id> of every
 *     declared connector that may need an update, what each needs (converge.h's converge_plan);
 *   apply: each change carried out, every one decided again right before it is sent: a create
 *     only after GET (with include_deleted on 9.x) answered 404, an update only for the fields
 *     that still differ on a connector read again. Nothing but the update endpoints and the
 *     create is ever sent; a create never goes to an id that exists.
 * Logs each creation, update, failure and wait with its MESSAGE_ID and the CYCLE_ID. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "converge.h"
#include "manifest.h"
#include "plan.h"

/* After this many cycles waiting for its configuration schema, a created connector is a warning. */
#define LIFECYCLE_AWAITING_WARN_CYCLES 10u

struct lifecycle;

struct lifecycle_options {
        const struct manifest *manifest; /* borrowed until the lifecycle is freed, like the rest */
        const struct plan *plan;
        /* The connectors this program created that wait for their schema (state.h's creating),
         * sorted by id. */
        const struct plan_deleted *creating;
        size_t n_creating;
        const char *secrets_dir; /* where {secret: NAME} is read; NULL: none */
        unsigned concurrency;    /* connectors worked on at once */
        const char *cycle_id;
        uint64_t now_usec; /* CLOCK_REALTIME, for the creating list */
        bool do_create;    /* --only: creations are carried out */
        bool do_update;    /* --only: updates are carried out */
        /* Called once right before the first request that writes: 1 to go on, 0 with *ret_reason
         * (owned by the callee) to write nothing, or a negative errno. */
        int (*may_write)(char **ret_reason, void *userdata);
        void *userdata;
};

/* The outcomes counted by kind of change, for the metrics. */
enum lifecycle_outcome {
        LIFECYCLE_OK,
        LIFECYCLE_ERROR,   /* failed, or of unknown outcome */
        LIFECYCLE_SKIPPED, /* changed since the survey, or left by a stop */
        _LIFECYCLE_OUTCOME_MAX,
};

enum {
        LIFECYCLE_CREATES,
        LIFECYCLE_UPDATES,
        _LIFECYCLE_KINDS_MAX,
};

struct lifecycle_result {
        size_t outcomes[_LIFECYCLE_KINDS_MAX][_LIFECYCLE_OUTCOME_MAX];
        size_t created;
        size_t updated;
        size_t failed;
        size_t changed;      /* not done: it changed since the survey (created or deleted by another) */
        size_t would_create; /* dry run */
        size_t would_update; /* dry run */
        size_t not_done;     /* stopped (lifecycle_stop()) before it was done */
        size_t unknown;      /* a request on the wire at lifecycle_abort(): its outcome is not known */
        char *halted;        /* may_write said no: why (owned) */
        struct plan_deleted *creating; /* the new creating list, sorted by id (owned) */
        size_t n_creating;
};

/* Starts the survey. 'done' runs once from the loop with 0 and the plan filled in 'ret_plan'
 * (owned by the caller; may be partly filled on error), or a negative errno. */
int lifecycle_survey(struct lifecycle **ret, struct cluster *cluster, const struct lifecycle_options *o,
                     struct converge_plan *ret_plan,
                     void (*done)(struct lifecycle *l, int error, void *userdata), void *userdata);

/* Carries out the survey's plan (dry_run: logs what it would do, sends nothing). 'done' runs once
 * from the loop; the result is borrowed from the lifecycle. */
int lifecycle_apply(struct lifecycle *l, bool dry_run,
                    void (*done)(struct lifecycle *l, const struct lifecycle_result *r, void *userdata),
                    void *userdata);

/* Starts no new request: the changes under way end after their request on the wire, the others
 * are left (counted in not_done). 'done' runs as usual. */
void lifecycle_stop(struct lifecycle *l);

/* After lifecycle_stop(), once the grace is over and the caller cancelled the cluster's requests
 * (cluster_cancel(): no callback runs for them): the changes still on the wire are counted as of
 * unknown outcome and logged, and 'done' runs now. */
void lifecycle_abort(struct lifecycle *l);

/* Whether any set creates or updates. */
bool lifecycle_wanted(const struct manifest *m);

/* Reads secret 'name' from 'dir' (a regular file, symbolic links followed, at most 64 KiB, one
 * trailing newline stripped, no NUL byte). 0 with *ret_value (wipe it), or a negative errno with
 * *reterr_message naming the file: -ENOKEY without a folder, -EBADFD for no regular file, -EFBIG,
 * -EBADMSG for a NUL byte, or the errno of opening or reading it. */
int lifecycle_read_secret(const char *dir, const char *name, char **ret_value, char **reterr_message);

struct lifecycle *lifecycle_free(struct lifecycle *l);
DEFINE_CLEANUP_FUNC(struct lifecycle *, lifecycle_free);
