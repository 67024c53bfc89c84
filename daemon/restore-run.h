#pragma once

/* The `restore` command: puts a deleted connector back from its backup. See
 * connector-reconciler(8), RESTORING A CONNECTOR. */

#include <stdbool.h>

#include "cycle.h"

struct restore_options {
        const char *config_path;
        const char *manifests_override; /* --manifests, or NULL */
        const char *id;                 /* the connector whose backup is read */
        const char *from;               /* --from: that backup file instead of the newest, or NULL */
        const char *as_id;              /* --as: restore under this id instead, or NULL */
        bool dry_run;                   /* print the requests, send no write */
        bool force;                     /* restore even when the manifests would delete it again */
};

/* Restores one connector and prints what was done to stdout. Returns CYCLE_OK when everything
 * restorable was restored (or, with dry_run, would be sent); CYCLE_BLOCKED when the manifests would
 * delete the connector again (without force); CYCLE_INVALID for a config, manifests or backup that
 * cannot be read; CYCLE_FAILED when the connector exists, a request failed, or a field reads back
 * otherwise. main.c turns that into the exit status. */
enum cycle_status restore_run(const struct restore_options *o);
