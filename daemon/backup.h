#pragma once

/* Backups of connector documents before they are deleted: one file per document,
 * BACKUP_DIR/<escaped id>.<UTC time>.json, mode 0600, written to a temporary name, fsync'd,
 * linked into place without replacing anything, and the directory fsync'd: once for a whole batch
 * of documents (a group commit), since one sync of the folder makes every new name in it
 * durable. */

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* The backup format (connector-reconciler(8), BACKUPS): version 2 is one JSON object, the
 * connector's document inside it exactly as the cluster sent it. Version 1, written before, was the
 * bare document. */
#define BACKUP_FORMAT_VERSION 2

/* What a backup records beside the document. Strings are borrowed; any may be NULL (written as
 * null) but connector_id. */
struct backup_record {
        const char *connector_id;
        usec_t read_realtime_usec; /* when the document was read (CLOCK_REALTIME) */
        const char *cycle_id;
        const char *cluster_url;
        const char *cluster_name;
        const char *cluster_uuid;
        const char *es_version;
        const char *manifests_path;
        const char *manifests_digest;   /* "sha256:<hex>" of the manifests the plan was made from */
        const char *manifests_revision; /* a Git commit, when the manifests came from one */
        bool delete_sync_jobs;
        bool hard;
        const char *document; /* the connector's document as read: valid JSON */
        size_t document_size;
        const char *sync_jobs; /* its sync jobs as read, a JSON array, or NULL when not read */
        size_t sync_jobs_size;
};

/* Formats a backup (format BACKUP_FORMAT_VERSION): one JSON object on one line, ending in a
 * newline, with "format", "format_version", "connector_id", "read_at" (RFC 3339, UTC,
 * microseconds), "cycle_id", "program", "cluster" {"url", "name", "uuid", "version"}, "manifests"
 * {"path", "digest", "revision"}, "delete" {"delete_sync_jobs", "hard"}, "document" (the bytes as
 * given) and "sync_jobs" (as given, or null). Returns 0 and a new buffer (owned by the caller) and
 * its size, or -ENOMEM. */
int backup_format(const struct backup_record *r, char **ret, size_t *ret_size);

/* Makes sure 'dir' exists as a folder only we can write to (fs_dir_prepare_private(): created with
 * mode 0700, parents included, and synced; refused, with the fix in *reterr_hint, when another
 * user owns it or group or others may write it), and removes the temporary files that writers
 * killed mid-write left (older than an hour). Returns 0, or a negative errno: -ENOTDIR, -EPERM,
 * -EACCES, ... */
int backup_dir_prepare(const char *dir, char **reterr_hint);

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

/* ---- Reading backups back (backup-read.c) ---- */

/* Whether 'name' is the file name of a backup of the connector whose escaped id is 'escaped':
 * "ESCAPED.YYYYMMDDTHHMMSSZ.json" or "ESCAPED.YYYYMMDDTHHMMSSZ.N.json" (N from 2). *ret_stamp and
 * *ret_n (1 for the first form) order the backups of one connector. */
bool backup_name_parse(const char *name, const char *escaped, char ret_stamp[static 17], unsigned *ret_n);

/* The newest backup of connector 'id' in 'dir': the latest stamp, and of one stamp the highest
 * suffix. Returns 0 and *ret_path (owned by the caller), -ENOENT when there is none, or the errno
 * of opening or reading the folder. */
int backup_find_newest(const char *dir, const char *id, char **ret_path);

/* A backup read back. */
struct backup_contents {
        int format_version; /* 2 (an envelope), or 1 (a bare document, written before format 2) */
        char *connector_id; /* the envelope's, or the document's "id" */
        char *document;     /* the connector's document, JSON */
        size_t document_size;
        char *read_at;      /* when it was read (envelope only), or NULL */
        char *es_version;   /* the server's version then (envelope only), or NULL */
        char *cluster_uuid; /* (envelope only), or NULL */
};

void backup_contents_done(struct backup_contents *c);

/* Parses a backup file's bytes: the envelope of format 2, or a bare connector document (format 1).
 * Returns 0, or -EBADMSG with the reason in *reterr_message: not JSON, a format this program does
 * not know (a newer one: the message says so), an envelope without its document, or a document
 * without a string 'id'. */
int backup_parse(const char *buf, size_t size, struct backup_contents *ret, char **reterr_message);

/* Splits a backup's file name, "ESCAPED.YYYYMMDDTHHMMSSZ[.N].json" (N from 2), into the escaped id
 * (*ret_escaped, owned by the caller), the stamp and N (1 without one). Returns 1, 0 when 'name'
 * is no backup's name (a temporary, say), or -ENOMEM. */
int backup_name_split(const char *name, char **ret_escaped, char ret_stamp[static 17], unsigned *ret_n);

/* Removes from 'dir' the backups stamped before 'cutoff_realtime_usec', except the newest of each
 * connector that is_live() says the cluster does not list (it may be the only copy of a deleted
 * connector). is_live() gets a connector's escaped id (backup_escape_id()). Files that are no
 * backups are left alone. *ret_removed counts the files removed. Returns 0, or the negative errno
 * of reading the folder or of the first removal that failed (the others are still tried). */
int backup_prune(const char *dir, uint64_t cutoff_realtime_usec,
                 bool (*is_live)(const char *escaped, void *userdata), void *userdata, size_t *ret_removed);
