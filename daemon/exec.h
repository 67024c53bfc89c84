#pragma once

/* The executor: carries out the deletions of a plan, each re-proven at the moment it is made. For
 * each PLAN_DELETE item:
 *   1. GET the connector: the document as the cluster returns it now (cluster_get() checks that
 *      it is that connector's document, from Elasticsearch);
 *   2. decide again on that document (the 'recheck' hook): a connector that changed since the
 *      listing so that it is no longer an orphan to delete is left alone, and the delete_sync_jobs
 *      and hard flags come from this decision;
 *   3. on 8.12-8.13 with delete_sync_jobs, list its sync jobs (they are deleted by us, after it);
 *   4. write its backup (backup_format(): the document, its sync jobs, the cluster and the
 *      manifests) to backup_dir: no backup, no delete;
 *   5. DELETE it, with the document as the one a retried DELETE must still find.
 * Backups are written and DELETEs sent only while the 'may_delete' hook agrees: it is asked
 * before the first, then at most once a second; once it says no, nothing more starts.
 * At most 'concurrency' requests are in flight (GETs, sync-job listings and DELETEs together);
 * reading runs ahead of deleting by a bounded number of documents, whose backups are written in
 * batches by the backup writer's thread (backup-writer.h). A 404 at any step means already gone.
 * One failure does not stop the others. Each outcome is logged here, with the cycle's CYCLE_ID. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "backup.h"
#include "cluster.h"
#include "plan.h"

struct exec;

/* The plans with more deletions than this report their progress (exec_hooks.progress), every
 * this often at most: a person watching `systemctl status` sees a long cycle move, and the log
 * gets a line per interval, not one per connector. */
#define EXEC_PROGRESS_MIN           20
#define EXEC_PROGRESS_INTERVAL_USEC (5 * USEC_PER_SEC)

/* The cycle's say in each deletion. Any member may be NULL (no check). */
struct exec_hooks {
        /* Decides again about 'item' from 'doc', the connector's document just read. Returns 1 when
         * it is still to be deleted, with the flags to delete it with; 0 when not, with
         * *ret_reason (owned by the caller) saying why; or a negative errno. */
        int (*recheck)(const struct plan_item *item, const struct plan_connector *doc,
                       bool *ret_delete_sync_jobs, bool *ret_hard, char **ret_reason, void *userdata);
        /* Whether DELETEs may still be sent: 1, or 0 with *ret_reason (owned by the caller), after
         * which no further request starts; or a negative errno (taken as 0). */
        int (*may_delete)(char **ret_reason, void *userdata);
        /* Progress of a long run: 'done' of the 'total' connectors to delete have ended, whatever
         * their outcome. Called only when total > EXEC_PROGRESS_MIN, first EXEC_PROGRESS_INTERVAL_USEC
         * after exec_start() and then at most once per EXEC_PROGRESS_INTERVAL_USEC (CLOCK_MONOTONIC,
         * checked as the executor's events come in: no timer), never once every connector ended. */
        void (*progress)(size_t done, size_t total, void *userdata);
        void *userdata;
};

struct exec_options {
        const char *backup_dir; /* borrowed for exec_start() only */
        unsigned concurrency;   /* requests in flight at once; 0 counts as 1 */
        const char *cycle_id;   /* copied; 32 hex digits, logged as CYCLE_ID */
        /* What every backup records beside the connector (its connector fields are ignored).
         * Borrowed, with every string in it, until the executor is freed. */
        const struct backup_record *record;
        const struct exec_hooks *hooks; /* copied; may be NULL */
};

/* How the deletion of one connector ended. */
enum exec_outcome {
        EXEC_PENDING,
        EXEC_DELETED, /* its sync jobs too, or not all of them (exec_result.jobs_failed) */
        EXEC_ALREADY_GONE,
        EXEC_FAILED,
        EXEC_CHANGED,
        EXEC_NOT_DELETED,
        EXEC_UNKNOWN,
        _EXEC_OUTCOME_MAX,
};

/* Every connector to delete ends in exactly one of these. */
struct exec_result {
        size_t deleted;
        size_t already_gone;
        size_t failed;      /* backups that could not be written included */
        size_t changed;     /* not deleted: it changed since the listing (or since its backup) */
        size_t not_deleted; /* not deleted: the executor stopped (or was halted) first */
        size_t unknown;     /* its DELETE was sent and no answer came before the stop */
        size_t jobs_failed; /* deleted, but not all of its sync jobs (counted in 'deleted' too) */
        bool stopped;       /* exec_stop() ended it */
        const char *halted; /* why may_delete said no, or NULL; owned by the executor */
};

/* Starts deleting the plan's PLAN_DELETE items through 'cluster' on 'event' (both borrowed; they
 * must outlive the executor). The plan must not be blocked and is borrowed until the executor is
 * freed. 'done' runs exactly once from the event loop, unless the executor is freed first; the
 * executor may be freed from inside it. Returns 0 (with *ret owned by the caller) or a negative
 * errno (nothing started). */
int exec_start(struct exec **ret, sd_event *event, struct cluster *cluster, const struct plan *plan,
               const struct exec_options *o,
               void (*done)(struct exec *e, const struct exec_result *r, void *userdata), void *userdata);

/* Stops early: no new request starts, connectors not yet sent a DELETE are left alone, and the
 * DELETEs in flight are awaited for at most 'grace_usec'; those still unanswered then are logged,
 * each by id, as of unknown outcome. With a finite grace (a process stopping) the batch of backups
 * being written is not awaited either: its connectors are not deleted. With USEC_INFINITY (a
 * cycle past its deadline) both are awaited: the requests end by their timeout, and a write that
 * hangs keeps the executor from ending, which the caller notices. The caller stops the cluster's
 * retries (cluster_stop_retrying()). 'done' runs when it is over. */
void exec_stop(struct exec *e, usec_t grace_usec);

/* How the deletion of 'item' (a PLAN_DELETE item of the executor's plan) ended, or EXEC_PENDING
 * while it goes on. O(log n). */
enum exec_outcome exec_get_outcome(const struct exec *e, const struct plan_item *item);

/* Frees the executor: cancels the cluster's operations (cluster_cancel()) when any of ours is in
 * flight, so no callback of ours runs after this, and ends the backup writer, waiting for the
 * batch it writes (a backup is written whole or not at all; those connectors stay undeleted) for
 * at most half a second: a writer stuck in the file system is left to the process's exit. Accepts
 * NULL; returns NULL. */
struct exec *exec_free(struct exec *e);
DEFINE_CLEANUP_FUNC(struct exec *, exec_free);
