/* SHA-256: the FIPS 180-4 examples (NIST's "Cryptographic Standards and Guidelines: Examples with
 * Intermediate Values", SHA256.pdf and SHA2_Additional.pdf), in one call and streamed in pieces
 * of every size from 1 to 130 bytes, so that each way a piece can meet a block boundary is taken;
 * each with the CPU's SHA instructions when it has them and with the portable code. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"
#include "util.h"

static const struct {
        const char *name;
        const char *text; /* NULL: one million 'a' */
        const char *digest;
} vectors[] = {
        { "empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "448 bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "896 bits",
          "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsm"
          "nopqrs"
          "tnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
        { "one million 'a'", NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static void hex(const uint8_t d[static SHA256_DIGEST_SIZE], char out[static 2 * SHA256_DIGEST_SIZE + 1]) {
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++)
                (void) sprintf(out + 2 * i, "%02x", d[i]);
}

/* The digest of 'n' bytes at 'text' fed in pieces of 'piece' bytes (0: in one sha256_update()),
 * with the portable code or, when the CPU has them, the SHA instructions. */
static void digest(const char *text, size_t n, size_t piece, bool portable,
                   char h[static 2 * SHA256_DIGEST_SIZE + 1]) {
        struct sha256_ctx c;
        uint8_t d[SHA256_DIGEST_SIZE];

        sha256_init(&c);
        if (portable)
                c.accelerated = false;
        if (piece == 0)
                sha256_update(&c, text, n);
        else
                for (size_t i = 0; i < n; i += piece)
                        sha256_update(&c, text + i, MIN(piece, n - i));
        sha256_update(&c, NULL, 0);
        sha256_final(&c, d);
        hex(d, h);
}

int main(void) {
        struct sha256_ctx probe;

        sha256_init(&probe);
        diag("the CPU's SHA instructions: %s",
             probe.accelerated ? "used" : "not available, portable code only");

        for (size_t v = 0; v < ELEMENTSOF(vectors); v++) {
                _cleanup_free_ char *owned = NULL;
                const char *text = vectors[v].text;
                size_t n;
                uint8_t d[SHA256_DIGEST_SIZE];
                char h[2 * SHA256_DIGEST_SIZE + 1];

                if (!text) {
                        owned = malloc(1000000);
                        if (!owned)
                                abort();
                        memset(owned, 'a', 1000000);
                        text = owned;
                        n = 1000000;
                } else
                        n = strlen(text);

                sha256(text, n, d);
                hex(d, h);
                is_str(h, vectors[v].digest, "%s: in one call", vectors[v].name);

                for (int portable = 0; portable <= 1; portable++) {
                        bool all = true;

                        for (size_t piece = 0; piece <= 130; piece++) {
                                digest(text, n, piece, portable, h);
                                if (!streq(h, vectors[v].digest)) {
                                        diag("%s in pieces of %zu bytes: got %s", vectors[v].name, piece, h);
                                        all = false;
                                }
                        }
                        ok(all, "%s: %s, whole and streamed in pieces of 1 to 130 bytes", vectors[v].name,
                           portable ? "portable code" : "as sha256_init() chose");
                }
        }

        /* Every length around the padding boundaries (55, 56, 63, 64 bytes ...): the digests of
         * the first 0 to 200 bytes of a pattern, hashed together, against Python's hashlib
         * (sha256(b"".join(sha256(buf[:n]).digest() for n in range(201)))); and streamed a byte at
         * a time, against one call; and the portable code against the SHA instructions. */
        {
                char buf[200], a[2 * SHA256_DIGEST_SIZE + 1], b[2 * SHA256_DIGEST_SIZE + 1];
                struct sha256_ctx all_digests;
                char h[2 * SHA256_DIGEST_SIZE + 1];
                bool all = true;

                for (size_t i = 0; i < sizeof(buf); i++)
                        buf[i] = (char) (i * 7 + 3);
                sha256_init(&all_digests);
                for (size_t n = 0; n <= sizeof(buf); n++) {
                        uint8_t d[SHA256_DIGEST_SIZE];

                        sha256(buf, n, d);
                        sha256_update(&all_digests, d, sizeof(d));
                        digest(buf, n, 1, false, a);
                        digest(buf, n, 0, true, b);
                        hex(d, h);
                        if (!streq(a, h) || !streq(b, h))
                                all = false;
                }
                {
                        uint8_t d[SHA256_DIGEST_SIZE];

                        sha256_final(&all_digests, d);
                        hex(d, a);
                }
                is_str(a, "3275febb4612d86d586eb9f11cd21e648a9fc7d95e0f6b8d362786e28c9c5b79",
                       "lengths 0 to 200: the digests agree with hashlib's");
                ok(all, "lengths 0 to 200: one call, byte by byte and the portable code agree");
        }
        return done();
}
