#pragma once

/* Manifests (connector-reconciler-manifest(5)): a file, or a directory walked for *.yaml and
 * *.yml, of ConnectorSet documents -> struct plan_set, with the file, line and column each set
 * and each declared connector came from. Strict: any error anywhere (syntax, schema, unknown key,
 * duplicate id or set name across files, an empty file, a missing or unreadable path) fails the
 * whole load, and every error is reported in one pass as "FILE:LINE:COLUMN: message". Nothing
 * here logs above debug: the caller prints the list. */

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "yaml-read.h"

#define MANIFEST_API_VERSION "connector-reconciler/v1"
#define MANIFEST_KIND "ConnectorSet"
/* Connector ids are document _ids in the .elastic-connectors index, and Elasticsearch refuses an
 * _id longer than 512 bytes (IndexRequest validation). */
#define MANIFEST_MAX_ID_BYTES 512U
/* metadata.name: a DNS label (RFC 1123), as Kubernetes names its namespaces: 1 to 63 of a-z, 0-9
 * and '-', starting and ending with a letter or digit. */
#define MANIFEST_MAX_NAME_LENGTH 63U
/* Directories nested deeper than this below the manifests path are refused. */
#define MANIFEST_MAX_DIR_DEPTH 64U

/* A place in a manifest file. 'file' is borrowed from the struct manifest (m->files). */
struct manifest_location {
        const char *file;
        unsigned line;   /* 1-based */
        unsigned column; /* 1-based, in characters */
};

/* Where set i came from: its metadata.name value, and for each declared connector j its id
 * value (connectors[j] describes sets[i].connectors[j]). */
struct manifest_source {
        struct manifest_location set;
        struct manifest_location *connectors;
};

struct manifest_index_entry; /* private: the sorted id index */

struct manifest {
        struct plan_set *sets; /* in the order read: files in bytewise order of their path, then
                                * documents in file order */
        size_t n_sets;
        struct manifest_source *sources; /* sources[i] describes sets[i] */
        char **files;                    /* every file read, in that order */
        size_t n_files;
        size_t n_declared;                  /* connectors declared, all sets together */
        struct manifest_index_entry *index; /* every declared id, sorted, for manifest_find() */
};

/* Reads the manifests at 'path': a regular file (read whatever its name), or a directory, walked
 * recursively for regular files named *.yaml or *.yml. Names starting with '.' are skipped,
 * files and folders alike. Symbolic links are followed, to files and to folders; a folder
 * reached again below itself (a loop) is an error. Files are read one at a time (one descriptor
 * open at once), in bytewise order of their path below 'path'. Messages name files as 'path'
 * joined with that relative path.
 * Returns 0 and sets *ret (owned by the caller, free with manifest_free()); -EINVAL after adding
 * every error to 'errors'; -ENOMEM. Nothing is returned unless everything was valid. */
int manifest_load(const char *path, struct manifest **ret, struct yaml_read_diags *errors);

/* As manifest_load() for one file's contents in memory, named 'file' in messages. For tests and
 * fuzzing. */
int manifest_parse(const char *file, const void *data, size_t size, struct manifest **ret,
                   struct yaml_read_diags *errors);

/* Finds a declared connector by id in O(log n). Returns true and sets *ret_set and
 * *ret_connector (indexes into m->sets and its connectors) when declared. */
bool manifest_find(const struct manifest *m, const char *id, size_t *ret_set, size_t *ret_connector);

/* Frees the manifest, its sets (with plan_set_done()) and locations. Accepts NULL; returns NULL. */
struct manifest *manifest_free(struct manifest *m);
static inline void manifest_freep(struct manifest **m) {
        if (*m)
                (void) manifest_free(*m);
}
