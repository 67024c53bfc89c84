#pragma once

/* SHA-256 as FIPS 180-4 defines it, streaming and in one call. For the digest of a manifest
 * snapshot, not for secrets: no attempt is made at constant time. libc only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32U
#define SHA256_BLOCK_SIZE  64U

struct sha256_ctx {
        uint32_t state[8];
        uint64_t length; /* bytes hashed so far */
        uint8_t buffer[SHA256_BLOCK_SIZE];
        size_t n_buffered;
        /* Use the CPU's SHA instructions (x86-64 SHA extensions), about six times as fast as the
         * portable code: set by sha256_init() when the CPU has them. Tests clear it to check the
         * portable code on the same machine. */
        bool accelerated;
};

/* Starts a new digest in c (no allocation: nothing to free). */
void sha256_init(struct sha256_ctx *c);

/* Adds 'size' bytes at 'data' (NULL when size is 0). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t size);

/* Writes the digest of everything added into ret. c must be initialised again before reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t ret[static SHA256_DIGEST_SIZE]);

/* The digest of 'size' bytes at 'data', in one call. */
void sha256(const void *data, size_t size, uint8_t ret[static SHA256_DIGEST_SIZE]);
