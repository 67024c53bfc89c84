#pragma once

/* One reconciliation cycle, asynchronous on an sd-event loop: read every manifest, learn the
 * cluster's version and list its connectors, plan, check the safety limits, then back up and
 * delete the orphans (exec.c), or stop after planning (`plan`), or log what would be deleted
 * (dry run). Logs its events with one CYCLE_ID. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "plan.h"

enum cycle_status {
        CYCLE_OK,      /* everything done (or planned) */
        CYCLE_FAILED,  /* the cluster could not be listed, or a delete failed */
        CYCLE_INVALID, /* a manifest (or the config's secrets) could not be read: nothing deleted */
        CYCLE_BLOCKED, /* a safety stop: nothing deleted */
        _CYCLE_STATUS_MAX,
};

struct cycle_result {
        enum cycle_status status;
        struct plan *plan; /* NULL unless the cycle got that far; owned by the cycle, valid until
                            * the cycle is freed (it points into the cycle's listing) */
        size_t deleted;
        size_t already_gone;
        size_t failed;
        size_t would_delete; /* dry run */
        char summary[256];   /* one line for STATUS= and the log, e.g. "deleted 3, kept 12, ..." */
};

struct cycle;

struct cycle_options {
        const struct config *config; /* borrowed until 'done' runs or the cycle is freed */
        bool plan_only;              /* stop after planning (the `plan` command) */
        bool dry_run;                /* plan and log, delete nothing */
        unsigned page_size;          /* connectors per list page; 0 for the API's default */
};

/* Starts a cycle. 'done' runs exactly once from the loop (never from inside cycle_start())
 * unless the cycle is freed first; the result is borrowed from the cycle. The cycle may be freed
 * from inside 'done'. Returns 0 and *ret
 * (owned by the caller), or a negative errno. */
int cycle_start(struct cycle **ret, sd_event *event, const struct cycle_options *o,
                void (*done)(struct cycle *c, struct cycle_result *r, void *userdata), void *userdata);

/* Cancels whatever the cycle is doing (requests in flight, retry timers) and frees it; 'done'
 * is not called. Accepts NULL; returns NULL. */
struct cycle *cycle_free(struct cycle *c);
DEFINE_CLEANUP_FUNC(struct cycle *, cycle_free);

/* The exit status of `once` and `plan` for a result: 0, 1, 2 or 3 (connector-reconciler(8)). */
int cycle_status_to_exit(enum cycle_status s);

/* Fills a cluster client's options from the config; strings are borrowed from it. */
struct cluster_options;
void cycle_cluster_options(const struct config *c, struct cluster_options *ret);
