/* libFuzzer target: SSH signatures as the daemon checks a commit's. The input is split at its
 * first two NUL bytes into an allowed signers file, an armored signature and the signed data
 * (the parts missing are empty); the file goes through sshsig_signers_parse() and, when it is
 * accepted, the signature through sshsig_verify() for namespace "git".
 *
 * Checked: each returns only what its header says (0 or -EINVAL for the file, 1, 0 or -EINVAL
 * for the signature, or -ENOMEM and -EIO), a refused file's message names "FILE:LINE", a signature not
 * verified comes with a message, a verified one with its principal (the first of its entry: no
 * ',') and no message. A signature that verifies verifies nothing else: not the data with one
 * byte changed, nor for another namespace; at another time (the epoch, the end of time) it is
 * verified or not, but never malformed: time only ever decides between the entries of its key.
 *
 * Seeded with the vectors of tests/data/sshsig: the Ed25519, ECDSA and RSA signatures of the
 * data with an allowed signers line for each (with options), and the signed commit. Crashes,
 * sanitizer reports and failed checks fail. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshsig.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TIME_SEC UINT64_C(1714564800) /* 2024-05-01T12:00:00Z, the vectors' commit time */

/* The part of [*p, end) up to the next NUL (or the end), and *p moved past that NUL. */
static const char *part(const char **p, const char *end, size_t *ret_size) {
        const char *s = *p, *nul = memchr(s, 0, (size_t) (end - s));

        *ret_size = (size_t) ((nul ?: end) - s);
        *p = nul ? nul + 1 : end;
        return s;
}

static int verify(const struct sshsig_signers *s, const char *ns, const char *sig, size_t sig_size,
                  const char *d, size_t d_size, uint64_t t, char **ret_principal) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = sshsig_verify(s, ns, sig, sig_size, d, d_size, t, ret_principal, &msg);
        assert(r == 1 || r == 0 || r == -EINVAL || r == -ENOMEM || r == -EIO);
        assert(r == 1 || r == -ENOMEM || r == -EIO || (msg && *msg));
        assert(r != 1 || !msg);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sshsig_signers_freep) struct sshsig_signers *s = NULL;
        _cleanup_free_ char *msg = NULL, *principal = NULL, *changed = NULL;
        const char *p = (const char *) data, *end = p + size, *text, *sig, *d;
        size_t text_size, sig_size, d_size;
        int r;

        text = part(&p, end, &text_size);
        sig = part(&p, end, &sig_size);
        d_size = (size_t) (end - p);
        d = p;

        r = sshsig_signers_parse("fuzz", text, text_size, &s, &msg);
        assert(r == 0 || r == -EINVAL || r == -ENOMEM);
        assert(r != -EINVAL || (msg && startswith(msg, "fuzz:")));
        assert((r == 0) == !!s);
        if (r < 0)
                return 0;

        r = verify(s, "git", sig, sig_size, d, d_size, TIME_SEC, &principal);
        if (r != 1)
                return 0;
        assert(principal && !strchr(principal, ','));

        assert(verify(s, "gitx", sig, sig_size, d, d_size, TIME_SEC, NULL) != 1);
        assert(verify(s, "git", sig, sig_size, d, d_size, 0, NULL) >= 0);
        assert(verify(s, "git", sig, sig_size, d, d_size, UINT64_MAX, NULL) >= 0);
        if (d_size > 0) {
                changed = malloc(d_size);
                if (!changed)
                        return 0;
                memcpy(changed, d, d_size);
                changed[d_size / 2] ^= 1;
                assert(verify(s, "git", sig, sig_size, changed, d_size, TIME_SEC, NULL) != 1);
        }
        return 0;
}
