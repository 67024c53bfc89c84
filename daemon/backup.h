#pragma once

/* Backups of connector documents before they are deleted: one file per document,
 * BACKUP_DIR/<escaped id>.<UTC time>.json, mode 0600, written to a temporary name, fsync'd,
 * linked into place without replacing anything, and the directory fsync'd: once for a whole batch
 * of documents (a group commit), since one sync of the folder makes every new name in it
 * durable. */

#include <stddef.h>

#include "util.h"

/* Makes sure 'dir' exists as a directory (created with mode 0700 when missing, parents
 * included) that we can write to, and removes the temporary files of writers that were killed
 * (their process is gone). Returns 0, or a negative errno: -ENOTDIR, -EACCES, ... */
int backup_dir_prepare(const char *dir);

/* Escapes a connector id into a file name: bytes outside [A-Za-z0-9_.-] (and a leading '.')
 * become %XX, so every id gives one name that is safe and distinct from every other id's. An
 * escaped id longer than BACKUP_ID_NAME_MAX is cut and followed by '~' and a 64-bit hash of the
 * whole id. Returns a new string (owned by the caller) or NULL on OOM. */
#define BACKUP_ID_NAME_MAX 200
char *backup_escape_id(const char *id);

/* Writes 'body' (n bytes) as the backup of connector 'id', stamped with the wall time
 * 'realtime_usec' (CLOCK_REALTIME). Never replaces an existing file: a second backup within the
 * same second gets a ".2", ".3", ... suffix before ".json". On success returns 0 and, when
 * ret_path is not NULL, the final path (owned by the caller). On failure nothing is left behind
 * (the temporary file is removed) and a negative errno is returned. */
int backup_write(const char *dir, const char *id, const void *body, size_t n, usec_t realtime_usec,
                 char **ret_path);

/* One document of a batch: 'id', 'body' and 'size' are borrowed inputs; 'error' (0 or a
 * negative errno) and 'path' (the final path, owned by the caller; NULL on error) are outputs. */
struct backup_item {
        const char *id;
        const void *body;
        size_t size;
        int error;
        char *path;
};

/* Writes the backups of 'n' documents, all stamped with 'realtime_usec', as backup_write() does
 * for one, with a single fsync() of the folder after the last: each item's 'error' and 'path' say
 * how it went (an item fails alone; a failed folder sync fails every item, and their files are
 * removed). Returns 0, or a negative errno when the folder could not be opened (every item then
 * carries it). A backup is durable once this returns with its 'error' 0. */
int backup_write_batch(const char *dir, struct backup_item *items, size_t n, usec_t realtime_usec);
