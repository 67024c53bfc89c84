#pragma once

/* A saved plan (`plan --out FILE`), and the check that `once --plan FILE` carries out exactly
 * what was reviewed. Nothing here logs.
 *
 * The file, one JSON object, a deletion a line:
 *
 *   {"format":"connector-reconciler-plan","format_version":1,
 *   "cluster":{"url":URL,"name":NAME,"uuid":UUID,"version":VERSION},
 *   "manifests":{"digest":"sha256:..."},
 *   "blocked":null or "why",
 *   "delete":[
 *   {"id":ID,"delete_sync_jobs":BOOL,"hard":BOOL,"purge":BOOL,"sets":[SET,...]},
 *   ...
 *   ]}
 *
 * Read strictly: exactly these members (any order), "format" and "format_version" as above (a
 * file of another version is refused, not guessed at), the strings of "cluster" each a string
 * or null, "digest" a string, the deletions sorted by id with no id twice. The url is for people;
 * the cluster is told by its uuid. */

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

#define PLAN_FILE_FORMAT         "connector-reconciler-plan"
#define PLAN_FILE_FORMAT_VERSION 1
/* The largest plan file read: a million deletions of long ids. */
#define PLAN_FILE_SIZE_MAX ((size_t) 512 * 1024 * 1024)

/* Where a plan was made. The strings are borrowed; any may be NULL. */
struct plan_file_context {
        const char *url;
        const char *cluster_name;
        const char *cluster_uuid;
        const char *es_version;
        const char *manifests_digest;
};

struct plan_file_delete {
        char *id;
        bool delete_sync_jobs, hard, purge;
};

/* A saved plan as read back. Owns every string. */
struct plan_file {
        char *path; /* as given to plan_file_load() */
        char *url, *cluster_name, *cluster_uuid, *es_version;
        char *manifests_digest;
        char *blocked;                    /* NULL when the plan was not blocked */
        struct plan_file_delete *deletes; /* sorted by id, each once */
        size_t n_deletes;
};

/* Writes the plan 'p' made in 'ctx' (both borrowed) to 'path', atomically and durably (see
 * fs_write_atomic()), mode 0644. Returns 0, or a negative errno: -EINVAL for a path naming a
 * folder ("FILE/" or ""), the errno of writing otherwise. */
int plan_file_write(const char *path, const struct plan *p, const struct plan_file_context *ctx);

/* Reads a saved plan. Returns 0 and *ret (owned by the caller); -EBADMSG when it is not exactly
 * the format above, with *reterr_message (when not NULL; owned by the caller) saying what is wrong
 * and where; -ENOENT, -EFBIG (larger than PLAN_FILE_SIZE_MAX), -ENOMEM, or the errno of reading. */
int plan_file_load(const char *path, struct plan_file **ret, char **reterr_message);

/* As plan_file_load(), from 'size' bytes of 'body' (borrowed) read from 'path' (copied into
 * the result, for messages). */
int plan_file_parse(const char *body, size_t size, const char *path, struct plan_file **ret,
                    char **reterr_message);

struct plan_file *plan_file_free(struct plan_file *f);
static inline void plan_file_freep(struct plan_file **f) {
        if (*f)
                (void) plan_file_free(*f);
}

/* Whether the plan made now ('p', in 'ctx') is the saved one 'f': the same cluster (uuid), the
 * same manifests (digest), not blocked then, and the same deletions with the same flags. Returns 1
 * when it is; 0 when not, with *ret_diff (owned by the caller) saying what differs, the first few
 * differences and how many there are in all; -ENOMEM. Cost: linear in both plans. */
int plan_file_matches(const struct plan_file *f, const struct plan *p, const struct plan_file_context *ctx,
                      char **ret_diff);
