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
};

/* Loads the config file and, when 'secrets' is set, the secrets it names, logging every warning
 * and error (each as FILE:LINE:COLUMN: message). Returns 0 and *ret (owned by the caller), or a
 * negative errno after logging. */
int loop_load_config(const struct loop_options *o, bool secrets, struct config **ret);

/* The daemon: READY=1, a cycle at once and then every interval (with jitter) until SIGTERM or
 * SIGINT; SIGHUP reloads the config (keeping the last good one). Returns the exit status: 0 on a
 * clean stop, 2 when the config cannot be loaded at start, 1 on an internal failure. */
int loop_run(const struct loop_options *o);

/* One cycle (`once`, or `plan` with o_cycle->plan_only), stopped early by SIGTERM or SIGINT.
 * 'report' (may be NULL) is called with the result before the cycle is freed. Returns the exit
 * status of connector-reconciler(8). */
int loop_once(const struct loop_options *o, bool plan_only,
              int (*report)(const struct cycle_result *r, void *userdata), void *userdata);
