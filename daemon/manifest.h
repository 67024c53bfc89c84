#pragma once

/* Manifests (connector-reconciler-manifest(5)): a file, or a directory walked for *.yaml and
 * *.yml, of ConnectorSet documents -> struct plan_set, with the file, line and column each set
 * and each declared connector came from. Strict: any error anywhere (syntax, schema, unknown key,
 * duplicate id or set name across files, an empty file, a missing or unreadable path) fails the
 * whole load, and every error is reported in one pass as "FILE:LINE:COLUMN: message". Nothing
 * here logs above debug: the caller prints the list. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "yaml-read.h"

/* Documents whose apiVersion is in another group than this are not ours (manifest_load()). */
#define MANIFEST_API_GROUP   "connector-reconciler"
#define MANIFEST_API_VERSION MANIFEST_API_GROUP "/v1"
#define MANIFEST_KIND        "ConnectorSet"
/* Connector ids are document _ids in the .elastic-connectors index, and Elasticsearch refuses an
 * _id longer than 512 bytes (IndexRequest validation). */
#define MANIFEST_MAX_ID_BYTES 512U
/* Directories nested deeper than this below the manifests path are refused. */
#define MANIFEST_MAX_DIR_DEPTH 64U
/* Bytes of the digest of a snapshot of the manifests: a SHA-256. */
#define MANIFEST_DIGEST_SIZE 32U

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
        /* The snapshot read: a SHA-256 over, for each file in the order read, its path below the
         * manifests path (for a file given directly: its name, the part after the last '/'), a
         * NUL, its size as 8 bytes big-endian, and its bytes, exactly as parsed. */
        uint8_t digest[MANIFEST_DIGEST_SIZE];
        /* What was read and left alone as not ours (see manifest_load()), in the order read, one
         * message each: "FILE:LINE:COLUMN: skipped: kind K, apiVersion A (not a connector-reconciler
         * document)" for a document, "FILE: skipped: a kustomization file" for a file. */
        struct yaml_read_diags skipped;
};

/* Reads the manifests at 'path': a regular file (read whatever its name), or a directory, walked
 * recursively for regular files named *.yaml or *.yml. Names starting with '.' are skipped,
 * files and folders alike. So that a manifests folder may live in a Kubernetes or kustomize
 * repository, what is not ours is skipped (listed in m->skipped, not parsed further): a file
 * named kustomization.yaml or kustomization.yml, and a document whose apiVersion is a string that
 * does not start with MANIFEST_API_GROUP "/". A document with our group and another version or
 * kind, or with no apiVersion, stays an error; so does a snapshot in which everything was
 * skipped (no ConnectorSet at all: a manifests path pointing at the wrong repository). Symbolic links are followed, to files and to folders; a folder
 * reached again below itself (a loop) is an error. Files are read one at a time (one descriptor
 * open at once), in bytewise order of their path below 'path', each read whole before it is
 * parsed; m->digest is computed over the very bytes parsed. Messages name files as 'path'
 * joined with that relative path.
 * Returns 0 and sets *ret (owned by the caller, free with manifest_free()); -EINVAL after adding
 * every error to 'errors'; -ENOMEM. Nothing is returned unless everything was valid. */
int manifest_load(const char *path, struct manifest **ret, struct yaml_read_diags *errors);

/* A file of a snapshot read elsewhere than from a path: a Git commit's (git-source.h). */
struct manifest_file {
        const char *name; /* in messages, and its path below the manifests path in the digest */
        const void *data;
        size_t size;
};

/* As manifest_load() for the 'n' files of a snapshot already read, in the order to parse them
 * (bytewise order of their names, as the walk of a folder gives). n may not be 0. */
int manifest_load_files(const struct manifest_file *files, size_t n, struct manifest **ret,
                        struct yaml_read_diags *errors);

/* As manifest_load() for one file's contents in memory, named 'file' in messages (and in the
 * digest). For tests and fuzzing. */
int manifest_parse(const char *file, const void *data, size_t size, struct manifest **ret,
                   struct yaml_read_diags *errors);

/* Reads the files at 'path' as manifest_load() does (the same walk, order and checks of each file,
 * no YAML parsing) and writes their digest, as struct manifest's 'digest' says, into ret: equal to
 * the m->digest of a load when no file's bytes, name or presence changed since, different
 * otherwise. For reading the manifests again right before acting on them. Returns 0; -EINVAL
 * after adding to 'errors' what could not be read (ret is then left alone); -ENOMEM. */
int manifest_digest(const char *path, uint8_t ret[static MANIFEST_DIGEST_SIZE],
                    struct yaml_read_diags *errors);

/* Looks for a Git operation in progress in the repository that holds 'path' (a file or a folder):
 * walks up from it (symbolic links resolved first) to the first folder with a '.git', a folder,
 * or a file "gitdir: DIR" as worktrees and submodules have (a relative DIR is taken from the
 * folder of that file), and looks in that Git folder for index.lock, MERGE_HEAD,
 * CHERRY_PICK_HEAD, REVERT_HEAD, rebase-merge and rebase-apply. While one is there, a checkout,
 * merge or rebase may be rewriting the files one by one. Returns 1 and sets *ret_what (owned by
 * the caller; when ret_what is not NULL) to e.g. "a Git operation is in progress in
 * '/srv/gitops/.git' (index.lock)"; 0 when none is there, or no repository holds 'path', or
 * 'path' does not exist; a negative errno otherwise (-EBADMSG for a '.git' file without
 * "gitdir: "). */
int manifest_git_busy(const char *path, char **ret_what);

/* Why manifest_check_id() refuses a string. */
enum manifest_id_problem {
        MANIFEST_ID_INVALID_UTF8, /* a byte that does not begin a valid UTF-8 sequence */
        MANIFEST_ID_CONTROL,      /* General_Category Cc: C0 (tab and line feed too), DEL, C1 */
        MANIFEST_ID_FORMAT,       /* General_Category Cf: zero width, bidirectional, BOM ... */
        MANIFEST_ID_SEPARATOR,    /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
        MANIFEST_ID_WHITE_SPACE,  /* U+0020 at either end; other White_Space anywhere */
        _MANIFEST_ID_PROBLEM_MAX,
};

/* The first character that manifest_check_id() refuses. */
struct manifest_id_error {
        enum manifest_id_problem problem;
        size_t offset; /* where it starts, in bytes */
        size_t length; /* its bytes: 1 to 4 (1 for an invalid byte) */
        uint32_t cp;   /* the code point, or the byte's value for MANIFEST_ID_INVALID_UTF8 */
};

/* Checks a connector id, or a selector item, before it is declared: Elasticsearch compares ids
 * bytewise, so a declared id that differs from the real one by a character nobody sees makes the
 * real connector an orphan. Refused: invalid UTF-8, control characters (Cc, so also a line feed
 * that a block scalar ends with), format characters (Cf), line and paragraph separators, White_Space
 * other than U+0020 anywhere (no-break and typographic spaces), and U+0020 at either end. Spaces
 * inside are fine. Takes the 'n' bytes at s (NULs are controls). Pure. Returns 0 when s is
 * acceptable (the empty string is: emptiness is checked apart), or -EINVAL and sets *reterr to the
 * first character refused (scanning from the start; a trailing space is found last). */
int manifest_check_id(const char *s, size_t n, struct manifest_id_error *reterr);

/* Finds a declared connector by id in O(log n). Returns true and sets *ret_set and
 * *ret_connector (indexes into m->sets and its connectors) when declared. */
bool manifest_find(const struct manifest *m, const char *id, size_t *ret_set, size_t *ret_connector);

/* Frees the manifest, its sets (with plan_set_done()) and locations. Accepts NULL; returns NULL. */
struct manifest *manifest_free(struct manifest *m);
static inline void manifest_freep(struct manifest **m) {
        if (*m)
                (void) manifest_free(*m);
}
