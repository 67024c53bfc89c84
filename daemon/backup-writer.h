#pragma once

/* The backup writer: a thread that writes batches of backups (backup_write_batch()) while the
 * loop goes on with requests, signals and the watchdog. It writes and syncs files and nothing
 * else: no logging, no sd-event, no curl. It reports each batch back through an eventfd watched on
 * the loop. Measured to pay for itself: writing and syncing backups took 58% of the loop's time
 * when it wrote them itself, while the requests in flight waited (docs/BENCHMARKS.md). */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "backup.h"
#include "util.h"

/* The most backups in one batch (one sync of the folder covers them all). */
#define BACKUP_WRITER_BATCH_MAX 32

struct backup_writer;

/* One backup to write: what the writer is handed (and owns from then on) and what it reports. */
struct backup_writer_item {
        char *id;   /* the connector id (owned) */
        char *body; /* the backup's bytes (owned) */
        size_t size;
        void *userdata; /* the caller's, passed back */
        int error;      /* after the batch: 0 or a negative errno */
        char *path;     /* after the batch: the backup's path (owned by the writer until taken) */
};

/* Creates a writer for the folder 'dir' (copied) on 'event' (referenced). 'done' runs from the
 * loop after each batch the thread wrote, with the batch's items (borrowed: take 'path' by setting
 * it to NULL). The thread starts with the first batch. Returns 0 or a negative errno. */
int backup_writer_new(struct backup_writer **ret, sd_event *event, const char *dir,
                      void (*done)(struct backup_writer *w, struct backup_writer_item *items, size_t n,
                                   void *userdata),
                      void *userdata);

/* Hands a batch of 1 to BACKUP_WRITER_BATCH_MAX items to the writer, which takes their 'id' and
 * 'body' (set to NULL in 'items'), all stamped with the wall time 'realtime_usec'. Returns 1: the
 * thread writes it and 'done' runs later; 0: no thread could be started (the error is in
 * *reterr_thread when not NULL), so the batch was written here and now and 'done' already ran;
 * -EBUSY while a batch is being written. */
int backup_writer_submit(struct backup_writer *w, struct backup_writer_item *items, size_t n,
                         usec_t realtime_usec, int *reterr_thread);

/* Whether a batch is being written. */
bool backup_writer_busy(const struct backup_writer *w);

/* Ends the thread once the batch it writes (if any) is written whole, waiting for it at most
 * 'timeout_usec', and frees the writer; 'done' does not run again. When the batch is not written
 * in time (a file system that hangs), returns -ETIMEDOUT and leaves the thread running with the
 * writer, which it then owns (a process about to exit lets it be; that batch's backups may appear
 * later and their connectors stay undeleted). Returns 0 otherwise. Accepts NULL. */
int backup_writer_free(struct backup_writer *w, usec_t timeout_usec);
