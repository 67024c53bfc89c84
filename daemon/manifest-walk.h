#pragma once

/* Private to the manifest reader: what manifest-walk.c (the files of a manifests path, read as one
 * snapshot) gives manifest.c (which parses them). Callers outside use manifest.h. */

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "yaml-read.h"

/* Grows an array of 'size'-byte items to hold at least 'need'; doubles, so appends are O(1)
 * amortised. Returns 0, or -ENOMEM with the array left as it was. */
int manifest_grow(void **array, size_t *allocated, size_t need, size_t size);

/* Reads the files at 'path' as manifest_load() says (the walk, its order and its checks), each
 * read whole once, added to the digest as struct manifest's 'digest' says, and handed to 'file'
 * when it is not NULL: 'file' takes 'name' (the file's name in messages) and borrows the 'size'
 * bytes at 'data', and returns 0, -EINVAL after reporting (the reading goes on) or -ENOMEM. A file
 * that cannot be read is reported, and the reading goes on. Returns 0 and writes the digest of
 * what was read into ret_digest, also when something was reported: compare
 * yaml_read_diags_count() before and after; -EINVAL after reporting when there is nothing to read
 * (a missing path, a folder that cannot be opened or holds no manifest); -ENOMEM. */
int manifest_snapshot_read(const char *path,
                           int (*file)(void *userdata, char *name, const char *data, size_t size),
                           void *userdata, uint8_t ret_digest[static MANIFEST_DIGEST_SIZE],
                           struct yaml_read_diags *errors);

struct sha256_ctx;

/* Adds one file to a snapshot's digest: its name below the manifests path, a NUL, its size (8
 * bytes, big-endian), its bytes. */
void manifest_snapshot_add(struct sha256_ctx *hash, const char *digest_name, const void *data, size_t size);

/* The digest of a snapshot of one file named 'name' holding the 'size' bytes at 'data'. */
void manifest_snapshot_digest_buffer(const char *name, const void *data, size_t size,
                                     uint8_t ret[static MANIFEST_DIGEST_SIZE]);
