#pragma once

/* The event loop of the `run`, `once` and `plan` commands: sd-event with SIGTERM, SIGINT and
 * SIGHUP, the poll timer with jitter, the watchdog, and sd_notify. One thread; nothing blocks. */

#include <stdbool.h>

#include "config.h"
#include "cycle.h"

struct loop_options {
        const char *config_path;
        const char *manifests_override; /* --manifests, or NULL */
        bool dry_run;                   /* --dry-run (or'ed with the config's dry_run) */
        unsigned page_size;             /* 0: the API's default */
        /* --confirm-removed-set NAME (repeatable): borrowed for the loop's life */
        char *const *confirm_removed_sets;
        size_t n_confirm_removed_sets;
        /* --max-deletions N: safety.max_deletions for this run */
        bool max_deletions_set;
        uint64_t max_deletions;
        /* --max-updates N: safety.max_updates for this run */
        bool max_updates_set;
        uint64_t max_updates;
        /* --only KINDS: cycle.h's enum cycle_only bits; 0 for all */
        unsigned only;
        /* --plan FILE: the saved plan the cycle must match (borrowed for the loop's life) */
        const struct plan_file *saved_plan;
        /* `once`: shows the plan before its first deletion (cycle_options.show_plan), or NULL */
        void (*show_plan)(const struct cycle_result *r);
        /* `plan --revision REF`: the Git source's commit to plan from (cycle_options.revision) */
        const char *revision;
        /* --instance NAME: put before STATUS= texts and as the metrics' instance label */
        const char *instance;
};

/* The daemon (`run`): READY=1, a cycle at once and then every interval (with jitter) until
 * SIGTERM or SIGINT; SIGHUP reloads the config (keeping the last good one). Returns how it ended:
 * CYCLE_OK on a clean stop, CYCLE_INVALID when the config cannot be loaded at start, CYCLE_FAILED
 * when the loop itself failed. main.c turns that into the exit status. */
enum cycle_status loop_run(const struct loop_options *o);

/* One cycle (`once`, or `plan` with 'plan_only'), stopped early by SIGTERM or SIGINT. 'report'
 * (may be NULL) is called with the result before the cycle is freed, unless the cycle was stopped;
 * its failure turns a CYCLE_OK into CYCLE_FAILED. Returns the cycle's status: CYCLE_INVALID when
 * the config cannot be loaded, CYCLE_FAILED when the loop failed or the cycle did not end within
 * the stop's second. */
enum cycle_status loop_once(const struct loop_options *o, bool plan_only,
                            int (*report)(const struct cycle_result *r, void *userdata), void *userdata);

/* Loads the config file and the secrets it names, logging every warning and error (each as
 * FILE:LINE:COLUMN: message). Returns 0 and *ret (owned by the caller), or a negative errno after
 * logging. */
int loop_load_config(const char *path, const char *manifests_override, struct config **ret);
