#include <assert.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#else
#define HAVE_SHA_NI 0
#endif

#include "sha256.h"

/* FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
 * primes. */
static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n)   (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)  ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x)     (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)     (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)     (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)     (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t load_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

/* One round, with the working variables renamed instead of moved (6.2.2 step 3). */
#define ROUND(a, b, c, d, e, f, g, h, i)                                         \
        do {                                                                     \
                uint32_t t1 = BSIG1(e) + CH(e, f, g) + K[i] + w[15 & (i)] + (h); \
                (d) += t1;                                                       \
                (h) = t1 + BSIG0(a) + MAJ(a, b, c);                              \
        } while (0)

/* The message schedule (6.2.2 step 1), kept as a ring of 16 words: word i replaces word i - 16. */
static inline void schedule(uint32_t w[static 16], unsigned i) {
        w[i & 15] += SSIG1(w[(i + 14) & 15]) + w[(i + 9) & 15] + SSIG0(w[(i + 1) & 15]);
}

/* Hashes n whole blocks at p into the state (6.2.2). */
static void compress(uint32_t state[static 8], const uint8_t *p, size_t n) {
        for (; n > 0; n--, p += SHA256_BLOCK_SIZE) {
                uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5],
                         g = state[6], h = state[7];
                uint32_t w[16];

                for (unsigned i = 0; i < 16; i++)
                        w[i] = load_be32(p + 4 * i);
                for (unsigned i = 0; i < 64; i += 8) {
                        if (i >= 16)
                                for (unsigned j = i; j < i + 8; j++)
                                        schedule(w, j);
                        ROUND(a, b, c, d, e, f, g, h, i + 0);
                        ROUND(h, a, b, c, d, e, f, g, i + 1);
                        ROUND(g, h, a, b, c, d, e, f, i + 2);
                        ROUND(f, g, h, a, b, c, d, e, i + 3);
                        ROUND(e, f, g, h, a, b, c, d, i + 4);
                        ROUND(d, e, f, g, h, a, b, c, i + 5);
                        ROUND(c, d, e, f, g, h, a, b, i + 6);
                        ROUND(b, c, d, e, f, g, h, a, i + 7);
                }
                state[0] += a;
                state[1] += b;
                state[2] += c;
                state[3] += d;
                state[4] += e;
                state[5] += f;
                state[6] += g;
                state[7] += h;
        }
}

#if HAVE_SHA_NI
/* Whether the CPU has the SHA extensions and the SSSE3 and SSE4.1 instructions used with them. */
static bool cpu_has_sha_ni(void) {
        unsigned a, b, c, d;

        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
                return false;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
                return false;
        return b & (1U << 29); /* CPUID.(EAX=7, ECX=0):EBX.SHA */
}

/* Hashes n whole blocks at p into the state with the SHA extensions, in the shape of Intel's
 * reference code ("Intel SHA Extensions", 2013). The state is kept as ABEF and CDGH; each group
 * of four rounds takes four words of the schedule, which sha256msg1 and sha256msg2 compute
 * ahead in a ring of four registers. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_sha_ni(uint32_t state[static 8],
                                                                        const uint8_t *p, size_t n) {
        const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i state0, state1, tmp;

        tmp = _mm_loadu_si128((const __m128i *) &state[0]);
        state1 = _mm_loadu_si128((const __m128i *) &state[4]);
        tmp = _mm_shuffle_epi32(tmp, 0xb1);          /* CDAB */
        state1 = _mm_shuffle_epi32(state1, 0x1b);    /* EFGH */
        state0 = _mm_alignr_epi8(tmp, state1, 8);    /* ABEF */
        state1 = _mm_blend_epi16(state1, tmp, 0xf0); /* CDGH */

        for (; n > 0; n--, p += SHA256_BLOCK_SIZE) {
                const __m128i abef = state0, cdgh = state1;
                __m128i w[4], m;

#pragma GCC unroll 16
                for (unsigned g = 0; g < 16; g++) {
                        if (g < 4)
                                w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (p + 16 * g)),
                                                        byte_swap);
                        m = _mm_add_epi32(w[g % 4], _mm_loadu_si128((const __m128i *) &K[4 * g]));
                        state1 = _mm_sha256rnds2_epu32(state1, state0, m);
                        if (g >= 3 && g <= 14) {
                                /* The words of group g + 1. */
                                tmp = _mm_alignr_epi8(w[g % 4], w[(g + 3) % 4], 4);
                                w[(g + 1) % 4] = _mm_add_epi32(w[(g + 1) % 4], tmp);
                                w[(g + 1) % 4] = _mm_sha256msg2_epu32(w[(g + 1) % 4], w[g % 4]);
                        }
                        m = _mm_shuffle_epi32(m, 0x0e);
                        state0 = _mm_sha256rnds2_epu32(state0, state1, m);
                        if (g >= 1 && g <= 12)
                                /* The first half of the words of group g + 3. */
                                w[(g + 3) % 4] = _mm_sha256msg1_epu32(w[(g + 3) % 4], w[g % 4]);
                }
                state0 = _mm_add_epi32(state0, abef);
                state1 = _mm_add_epi32(state1, cdgh);
        }

        tmp = _mm_shuffle_epi32(state0, 0x1b);       /* FEBA */
        state1 = _mm_shuffle_epi32(state1, 0xb1);    /* DCHG */
        state0 = _mm_blend_epi16(tmp, state1, 0xf0); /* DCBA */
        state1 = _mm_alignr_epi8(state1, tmp, 8);    /* HGFE */
        _mm_storeu_si128((__m128i *) &state[0], state0);
        _mm_storeu_si128((__m128i *) &state[4], state1);
}
#endif

static void compress_blocks(struct sha256_ctx *c, const uint8_t *p, size_t n) {
        if (n == 0)
                return;
#if HAVE_SHA_NI
        if (c->accelerated) {
                compress_sha_ni(c->state, p, n);
                return;
        }
#endif
        compress(c->state, p, n);
}

void sha256_init(struct sha256_ctx *c) {
        /* 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8
         * primes. */
        *c = (struct sha256_ctx){
                .state = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                           0x1f83d9ab, 0x5be0cd19 },
        };
#if HAVE_SHA_NI
        c->accelerated = cpu_has_sha_ni();
#endif
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t size) {
        const uint8_t *p = data;

        assert(c);
        assert(data || size == 0);

        if (size == 0)
                return;
        c->length += size;
        if (c->n_buffered > 0) {
                size_t k = SHA256_BLOCK_SIZE - c->n_buffered;

                if (k > size)
                        k = size;
                memcpy(c->buffer + c->n_buffered, p, k);
                c->n_buffered += k;
                p += k;
                size -= k;
                if (c->n_buffered < SHA256_BLOCK_SIZE)
                        return;
                compress_blocks(c, c->buffer, 1);
                c->n_buffered = 0;
        }
        /* Whole blocks straight from the input, without a copy. */
        compress_blocks(c, p, size / SHA256_BLOCK_SIZE);
        p += size - size % SHA256_BLOCK_SIZE;
        size %= SHA256_BLOCK_SIZE;
        if (size > 0) {
                memcpy(c->buffer, p, size);
                c->n_buffered = size;
        }
}

void sha256_final(struct sha256_ctx *c, uint8_t ret[static SHA256_DIGEST_SIZE]) {
        uint64_t bits;

        assert(c);

        /* 5.1.1: a 1 bit, zeros up to 56 bytes into the last block, the length in bits. */
        bits = c->length * 8;
        c->buffer[c->n_buffered++] = 0x80;
        if (c->n_buffered > SHA256_BLOCK_SIZE - 8) {
                memset(c->buffer + c->n_buffered, 0, SHA256_BLOCK_SIZE - c->n_buffered);
                compress_blocks(c, c->buffer, 1);
                c->n_buffered = 0;
        }
        memset(c->buffer + c->n_buffered, 0, SHA256_BLOCK_SIZE - 8 - c->n_buffered);
        store_be32(c->buffer + SHA256_BLOCK_SIZE - 8, (uint32_t) (bits >> 32));
        store_be32(c->buffer + SHA256_BLOCK_SIZE - 4, (uint32_t) bits);
        compress_blocks(c, c->buffer, 1);

        for (unsigned i = 0; i < 8; i++)
                store_be32(ret + 4 * i, c->state[i]);
        memset(c, 0, sizeof(*c));
}

void sha256(const void *data, size_t size, uint8_t ret[static SHA256_DIGEST_SIZE]) {
        struct sha256_ctx c;

        sha256_init(&c);
        sha256_update(&c, data, size);
        sha256_final(&c, ret);
}
