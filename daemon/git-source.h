#pragma once

/* Manifests read from a commit of a Git repository (connector-reconciler.yaml(5), manifests.git),
 * never from a working tree: a commit is read whole or not at all, so a pull or a checkout half
 * done is invisible. A local repository (a bare one, or a checkout whose .git is read) is read in
 * place; a URL is fetched into a bare mirror, then read from there. The only libgit2 user: no
 * libgit2 type crosses this header. Everything here blocks; git-fetch.h runs a fetch off the
 * loop. Messages never hold a token: none is ever put in a URL. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

/* A commit id as text: 40 hexadecimal digits and a NUL. */
#define GIT_SOURCE_ID_SIZE 41U

struct git_source_options {
        const char *url; /* remote: the URL fetched; else the local repository's path */
        bool remote;
        const char *mirror; /* remote only: the bare mirror's folder (git_source_mirror_path()) */
        const char *token;  /* https: the password of HTTP basic auth, or NULL */
        const char *ssh_key_file;
        const char *known_hosts_file; /* ssh: the server's host key must be listed there */
        const char *ca_file;          /* https: the CAs to trust instead of the system's, or NULL */
        bool verify_tls;
        const char *proxy; /* "SCHEME://HOST[:PORT]", or NULL: none (the environment is ignored) */
        /* A ref to fetch besides branches and tags, e.g. "refs/pull/7/head"; NULL: none. */
        const char *extra_ref;
};

/* One commit's manifests. */
struct git_snapshot {
        char revision[GIT_SOURCE_ID_SIZE];
        int64_t commit_time; /* the committer's time, in seconds since the epoch */
        /* The files below the path asked for, in bytewise order of their path in the repository,
         * which names them; their bytes are owned by the snapshot. */
        struct manifest_file *files;
        size_t n_files;
        void **owned; /* what files[] borrows */
        size_t n_owned;
        /* The commit's signature (its gpgsig header, armored) and the data it signs; NULL and 0 for
         * an unsigned commit. */
        char *signature;
        char *signed_data;
        size_t signed_size;
};

/* The mirror of 'url' below 'state_dir': STATE_DIR/git/HASH.git, HASH the first 16 hexadecimal
 * digits of the URL's SHA-256, so that another URL never shares a mirror. NULL on ENOMEM. */
char *git_source_mirror_path(const char *state_dir, const char *url);

/* Fetches o->url into the mirror (made when missing): its branches and tags (pruned: what the
 * remote deleted is deleted), o->extra_ref, and its HEAD as the mirror's HEAD. Takes a lock
 * beside the mirror so that two fetches never overlap, and removes what a fetch killed midway left
 * locked. Blocks for as long as the network takes: call it from a process that may be killed.
 * Returns 0; a negative errno with *reterr_message (owned by the caller): -EACCES for a refused
 * authentication, -EBUSY when another fetch holds the lock, -EIO otherwise. */
int git_source_fetch(const struct git_source_options *o, char **reterr_message);

/* Resolves 'ref' (NULL: HEAD) to a commit id, in the mirror or the local repository. Returns 0;
 * -ENOENT when there is no such ref or commit; another negative errno; each with
 * *reterr_message. */
int git_source_resolve(const struct git_source_options *o, const char *ref,
                       char ret_id[static GIT_SOURCE_ID_SIZE], char **reterr_message);

/* Reads the manifests of the commit 'ref' resolves to (NULL: HEAD) at 'path' ("": the root): a
 * file there, or the files below the folder there, walked as manifest_load() walks a folder
 * (regular files named *.yaml or *.yml; names starting with '.' skipped), except that nothing
 * that could hold manifests is left unread silently: a symbolic link or a submodule in the way is
 * an error, as is a file larger than YAML_READ_MAX_FILE_SIZE. Returns 0 and sets *ret (free with
 * git_snapshot_free()); -ENOENT (no such ref, or no such path in the commit), -EINVAL (nothing to
 * read, or something that cannot be read), -ENOMEM, -EIO; each but -ENOMEM with *reterr_message. */
int git_source_read(const struct git_source_options *o, const char *ref, const char *path,
                    struct git_snapshot **ret, char **reterr_message);

/* Whether the commit 'id' descends from (or is) 'ancestor'. Returns 1 or 0; -ENOENT when either
 * is unknown to the repository (an ancestor that a force-push left unreferenced may be gone);
 * another negative errno. */
int git_source_descends(const struct git_source_options *o, const char *id, const char *ancestor);

/* libgit2's version, "MAJOR.MINOR.REVISION" (static). */
const char *git_source_version(void);

struct git_snapshot *git_snapshot_free(struct git_snapshot *s);
static inline void git_snapshot_freep(struct git_snapshot **s) {
        if (*s)
                (void) git_snapshot_free(*s);
}
