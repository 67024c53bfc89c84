#pragma once

/* The executor: carries out the deletions of a plan. For each PLAN_DELETE item: GET the
 * connector (the document as the cluster returns it now), write it to backup_dir (backup.c), then
 * DELETE it with the item's delete_sync_jobs and hard. No backup, no delete. At most
 * 'concurrency' requests (GETs and DELETEs together) are in flight; reading runs ahead of
 * deleting by a bounded number of documents, whose backups are written in batches with one sync
 * of the folder each, by a thread of the executor's own (the only other thread: it writes files
 * and touches nothing else), so that the loop goes on with requests, signals and the watchdog
 * while the disk works. A 404 at either step means already gone. One failure does not stop the
 * others. Each outcome is logged here, with the cycle's CYCLE_ID. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "cluster.h"
#include "plan.h"

struct exec;

struct exec_options {
        const char *backup_dir; /* borrowed for exec_start() only */
        unsigned concurrency;   /* requests (GET or DELETE) in flight at once; 0 counts as 1 */
        const char *cycle_id;   /* copied; 32 hex digits, logged as CYCLE_ID */
};

struct exec_result {
        size_t deleted;
        size_t already_gone;
        size_t failed; /* backups that could not be written included */
};

/* Starts deleting the plan's PLAN_DELETE items through 'cluster' on 'event' (both borrowed; it must outlive the
 * executor). The plan must not be blocked and is borrowed until 'done' runs. 'done' runs exactly
 * once from the event loop, unless the executor is freed first; the executor may be freed from
 * inside it. Returns 0 (with *ret owned by the caller) or a negative errno (nothing started). */
int exec_start(struct exec **ret, sd_event *event, struct cluster *cluster, const struct plan *plan,
               const struct exec_options *o,
               void (*done)(struct exec *e, const struct exec_result *r, void *userdata), void *userdata);

/* Stops the executor: cancels the cluster's operations (cluster_cancel()) when any of ours is in
 * flight, so no callback of ours runs after this, waits for the batch of backups being written
 * (a backup is written whole or not at all, so stopping leaves nothing half-written; those
 * connectors stay undeleted), and frees it. Accepts NULL; returns NULL. */
struct exec *exec_free(struct exec *e);
DEFINE_CLEANUP_FUNC(struct exec *, exec_free);
