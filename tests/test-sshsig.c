/* sshsig.c: SSH signatures checked as `ssh-keygen -Y verify` checks them, against the vectors of
 * tests/data/sshsig (made by its generate.sh with ssh-keygen and git, each checked there with
 * ssh-keygen -Y verify): every key type, signatures changed a byte at a time, cut short and put
 * together by hand, the options of an allowed signers file, the lines it refuses, and a signed
 * Git commit as the daemon reads it. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshsig.h"
#include "tap.h"
#include "url.h"
#include "util.h"

#define FILE_NAME   "allowed_signers"
#define COMMIT_TIME UINT64_C(1714564800) /* 2024-05-01T12:00:00Z, the vectors' commit time */

/* A whole file of tests/data/sshsig, NUL-terminated (not counted), owned by the caller. */
static char *slurp(const char *name, size_t *ret_size) {
        FILE *f = fopen(name, "re");
        char *buf = NULL;
        size_t size = 0;
        long n;

        assert_se(f);
        assert_se(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0);
        size = (size_t) n;
        assert_se(buf = malloc(size + 1));
        assert_se(fread(buf, 1, size, f) == size);
        buf[size] = '\0';
        (void) fclose(f);
        if (ret_size)
                *ret_size = size;
        return buf;
}

/* "TYPE BASE64" of a .pub file, owned by the caller. */
static char *pub_key(const char *name) {
        _cleanup_free_ char *path = strdup_printf("%s.pub", name), *text = NULL;
        char *sp;

        assert_se(path && (text = slurp(path, NULL)));
        sp = strchr(text, ' ');
        assert_se(sp && (sp = strchr(sp + 1, ' ')));
        return memdup(text, (size_t) (sp - text));
}

/* The blob of an armored signature, by the test's own reading (owned by the caller). */
static char *unarmor(const char *armored, size_t *ret_size) {
        _cleanup_free_ char *b64 = malloc(strlen(armored) + 1);
        const char *p = strchr(armored, '\n') + 1, *end = strstr(armored, "-----END");
        char *blob = NULL;
        size_t n = 0;

        assert_se(b64);
        for (; p < end; p++)
                if (*p != '\n')
                        b64[n++] = *p;
        b64[n] = '\0';
        assert_se(base64_decode(b64, &blob, ret_size) == 0);
        return blob;
}

/* A blob armored as ssh-keygen does it: lines of 70 characters (owned by the caller). */
static char *armor(const void *blob, size_t size) {
        _cleanup_free_ char *b64 = NULL;
        char *out, *p;
        size_t n;

        assert_se(base64_encode(blob, size, &b64) == 0);
        n = strlen(b64);
        assert_se(out = malloc(n + n / 70 + 100));
        p = stpcpy(out, "-----BEGIN SSH SIGNATURE-----\n");
        for (size_t i = 0; i < n; i += 70) {
                memcpy(p, b64 + i, MIN(70, n - i));
                p += MIN(70, n - i);
                *p++ = '\n';
        }
        (void) strcpy(p, "-----END SSH SIGNATURE-----\n");
        return out;
}

/* 'tmpl' with each "%s" replaced by 'key' and each "%k" by its base64 (after the type), owned by
 * the caller. */
static char *with_key(const char *tmpl, const char *key) {
        const char *b64 = strchr(key, ' ') + 1;
        char *out = malloc(strlen(tmpl) * (strlen(key) + 1) + 1), *p = out;

        assert_se(out);
        for (; *tmpl; tmpl++)
                if (tmpl[0] == '%' && (tmpl[1] == 's' || tmpl[1] == 'k'))
                        p = stpcpy(p, *++tmpl == 's' ? key : b64);
                else
                        *p++ = *tmpl;
        *p = '\0';
        return out;
}

static struct sshsig_signers *signers(const char *text) {
        struct sshsig_signers *s = NULL;
        _cleanup_free_ char *msg = NULL;
        int r = sshsig_signers_parse(FILE_NAME, text, strlen(text), &s, &msg);

        if (r < 0)
                diag("%s: %s", text, strna(msg));
        assert_se(r == 0);
        return s;
}

/* One check: the result, the principal on success, else the message (when want_msg is set: the
 * exact message, or with a leading '~', a part of it). */
static void check_verify(const struct sshsig_signers *s, const char *ns, const char *sig, size_t sig_size,
                         const char *data, size_t data_size, uint64_t t, int want,
                         const char *want_principal, const char *want_msg, const char *what) {
        _cleanup_free_ char *principal = NULL, *msg = NULL;
        int r = sshsig_verify(s, ns, sig, sig_size, data, data_size, t, &principal, &msg);

        if (!is_int(r, want, "%s: %s", what,
                    want == 1   ? "verified"
                    : want == 0 ? "not verified"
                                : "refused"))
                diag("message: %s", strna(msg));
        if (want == 1) {
                is_str(principal, want_principal, "%s: principal", what);
                ok(!msg, "%s: no message (%s)", what, strna(msg));
        } else if (want_msg && want_msg[0] == '~')
                ok(msg && strstr(msg, want_msg + 1), "%s: the message says '%s' (%s)", what, want_msg + 1,
                   strna(msg));
        else if (want_msg)
                is_str(msg, want_msg, "%s: message", what);
}

/* The vectors' signed data, tests/data/sshsig/data. */
static const char *signed_data;
static size_t signed_size;

/* The signature file of the data by 'sig' with 's', as check_verify() checks it. */
static void check_file(const struct sshsig_signers *s, const char *ns, const char *sig, uint64_t t, int want,
                       const char *want_principal, const char *want_msg, const char *what) {
        _cleanup_free_ char *path = strdup_printf("data.%s.sig", sig), *text = NULL;
        size_t size;

        assert_se(path && (text = slurp(path, &size)));
        check_verify(s, ns, text, size, signed_data, signed_size, t, want, want_principal, want_msg, what);
}

static const struct {
        const char *sig;
        const char *principal;
} good[] = {
        { "ed25519", "ed25519@example.com" },   { "ed25519-sha256", "ed25519@example.com" },
        { "ecdsa256", "ecdsa256@example.com" }, { "ecdsa384", "ecdsa384@example.com" },
        { "ecdsa521", "ecdsa521@example.com" }, { "rsa", "rsa@example.com" },
        { "rsa-sha2-256", "rsa@example.com" },
};

static void test_key_types(const struct sshsig_signers *s) {
        _cleanup_free_ char *flipped = memdup(signed_data, signed_size);

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                check_file(s, "git", good[i].sig, COMMIT_TIME, 1, good[i].principal, NULL, good[i].sig);

        /* One byte of the data changed. */
        assert_se(flipped);
        flipped[0] ^= 1;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *path = strdup_printf("data.%s.sig", good[i].sig), *text = NULL,
                                    *what = NULL;
                size_t size;

                assert_se(path && (text = slurp(path, &size)));
                assert_se(what = strdup_printf("%s, data changed a byte", good[i].sig));
                check_verify(s, "git", text, size, flipped, signed_size, COMMIT_TIME, 0, NULL,
                             "~bad signature by key SHA256:", what);
        }
        /* No data at all; no principal or message wanted. */
        {
                _cleanup_free_ char *text = slurp("data.ed25519.sig", NULL);

                is_int(sshsig_verify(s, "git", text, strlen(text), NULL, 0, COMMIT_TIME, NULL, NULL), 0,
                       "ed25519, no data: not verified");
                is_int(sshsig_verify(s, "git", text, strlen(text), signed_data, signed_size, COMMIT_TIME,
                                     NULL, NULL),
                       1, "ed25519: verified, with no principal or message wanted");
        }
}

/* Each byte of each blob changed, and each byte of the armor: never verified, always explained. */
static void test_flipped(const struct sshsig_signers *s) {
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *path = strdup_printf("data.%s.sig", good[i].sig), *text = NULL,
                                    *blob = NULL;
                size_t size, blob_size, n_zero = 0, n_einval = 0, n_bad = 0;

                assert_se(path && (text = slurp(path, &size)) && (blob = unarmor(text, &blob_size)));
                for (size_t k = 0; k < blob_size; k++) {
                        _cleanup_free_ char *armored = NULL, *msg = NULL;
                        int r;

                        blob[k] ^= 1;
                        armored = armor(blob, blob_size);
                        blob[k] ^= 1;
                        r = sshsig_verify(s, "git", armored, strlen(armored), signed_data, signed_size,
                                          COMMIT_TIME, NULL, &msg);
                        n_zero += r == 0 && msg;
                        n_einval += r == -EINVAL && msg;
                        if ((r != 0 && r != -EINVAL) || !msg) {
                                diag("byte %zu: %d, %s", k, r, strna(msg));
                                n_bad++;
                        }
                }
                ok(n_bad == 0,
                   "%s: each of the %zu bytes of the blob changed: %zu not verified, %zu malformed",
                   good[i].sig, blob_size, n_zero, n_einval);

                n_bad = 0;
                for (size_t k = 0; k < size; k++) {
                        _cleanup_free_ char *msg = NULL;
                        int r;

                        text[k] ^= 1;
                        r = sshsig_verify(s, "git", text, size, signed_data, signed_size, COMMIT_TIME, NULL,
                                          &msg);
                        text[k] ^= 1;
                        if ((r != 0 && r != -EINVAL) || !msg) {
                                diag("armor byte %zu: %d, %s", k, r, strna(msg));
                                n_bad++;
                        }
                }
                ok(n_bad == 0, "%s: each of the %zu bytes of the armor changed: never verified", good[i].sig,
                   size);
        }
}

static void test_truncated(const struct sshsig_signers *s) {
        _cleanup_free_ char *text = NULL, *blob = NULL;
        size_t size, blob_size, footer, n_bad = 0;

        assert_se((text = slurp("data.ed25519.sig", &size)) && (blob = unarmor(text, &blob_size)));
        footer = (size_t) (strstr(text, "-----END SSH SIGNATURE-----") - text) +
                 strlen("-----END SSH SIGNATURE-----");
        for (size_t n = 0; n <= size; n++) {
                _cleanup_free_ char *msg = NULL;
                int r = sshsig_verify(s, "git", text, n, signed_data, signed_size, COMMIT_TIME, NULL, &msg);

                if (r != (n < footer ? -EINVAL : 1) || (r < 0 && !msg)) {
                        diag("cut to %zu bytes: %d, %s", n, r, strna(msg));
                        n_bad++;
                }
        }
        ok(n_bad == 0, "armor cut short: malformed until the end of its END line, verified from there");

        n_bad = 0;
        for (size_t n = 0; n < blob_size; n++) {
                _cleanup_free_ char *armored = armor(blob, n), *msg = NULL;
                int r = sshsig_verify(s, "git", armored, strlen(armored), signed_data, signed_size,
                                      COMMIT_TIME, NULL, &msg);

                if (r != -EINVAL || !msg) {
                        diag("blob cut to %zu bytes: %d, %s", n, r, strna(msg));
                        n_bad++;
                }
        }
        ok(n_bad == 0, "each of the %zu shorter blobs: malformed", blob_size);

        {
                _cleanup_free_ char *crlf = malloc(2 * size + 1), *trailing = strdup_printf("%s \n\n", text);
                size_t n = 0;

                assert_se(crlf && trailing);
                for (size_t i = 0; i < size; i++) {
                        if (text[i] == '\n')
                                crlf[n++] = '\r';
                        crlf[n++] = text[i];
                }
                check_verify(s, "git", crlf, n, signed_data, signed_size, COMMIT_TIME, 1,
                             "ed25519@example.com", NULL, "CRLF line ends");
                check_verify(s, "git", trailing, strlen(trailing), signed_data, signed_size, COMMIT_TIME, 1,
                             "ed25519@example.com", NULL, "blank lines after the END line");
                trailing[strlen(trailing) - 1] = 'x';
                check_verify(s, "git", trailing, strlen(trailing), signed_data, signed_size, COMMIT_TIME,
                             -EINVAL, NULL, "signature: text after '-----END SSH SIGNATURE-----'",
                             "text after the END line");
                check_verify(s, "git", text + 1, size - 1, signed_data, signed_size, COMMIT_TIME, -EINVAL,
                             NULL, "signature does not begin with '-----BEGIN SSH SIGNATURE-----'",
                             "no BEGIN line");
        }
}

/* The parts of a blob, and a blob put together from them. */
struct parts {
        char magic[7];
        uint32_t version;
        char *key, *ns, *reserved, *hash, *sig; /* each a string of the blob, with its length */
        size_t key_n, ns_n, reserved_n, hash_n, sig_n;
        const char *trailing;
};

static const char *take(const char **p, size_t *ret_n) {
        const uint8_t *u = (const uint8_t *) *p;
        const char *s = *p + 4;

        *ret_n = (size_t) u[0] << 24 | (size_t) u[1] << 16 | (size_t) u[2] << 8 | u[3];
        *p = s + *ret_n;
        return s;
}

static void put(char **p, const void *s, size_t n) {
        uint8_t *u = (uint8_t *) *p;

        u[0] = (uint8_t) (n >> 24);
        u[1] = (uint8_t) (n >> 16);
        u[2] = (uint8_t) (n >> 8);
        u[3] = (uint8_t) n;
        memcpy(*p + 4, s, n);
        *p += 4 + n;
}

static struct parts split(const char *blob) {
        struct parts x = { .version = 1 };
        const char *p = blob + 10, *s;

        memcpy(x.magic, blob, 6);
        s = take(&p, &x.key_n);
        x.key = memdup(s, x.key_n);
        s = take(&p, &x.ns_n);
        x.ns = memdup(s, x.ns_n);
        s = take(&p, &x.reserved_n);
        x.reserved = memdup(s, x.reserved_n);
        s = take(&p, &x.hash_n);
        x.hash = memdup(s, x.hash_n);
        s = take(&p, &x.sig_n);
        x.sig = memdup(s, x.sig_n);
        return x;
}

static char *join(const struct parts *x) {
        _cleanup_free_ char *blob = malloc(100 + x->key_n + x->ns_n + x->reserved_n + x->hash_n + x->sig_n);
        char *p = blob;

        assert_se(blob);
        memcpy(p, x->magic, 6);
        p[6] = (char) (x->version >> 24);
        p[7] = (char) (x->version >> 16);
        p[8] = (char) (x->version >> 8);
        p[9] = (char) x->version;
        p += 10;
        put(&p, x->key, x->key_n);
        put(&p, x->ns, x->ns_n);
        put(&p, x->reserved, x->reserved_n);
        put(&p, x->hash, x->hash_n);
        put(&p, x->sig, x->sig_n);
        if (x->trailing)
                p = stpcpy(p, x->trailing);
        return armor(blob, (size_t) (p - blob));
}

static void parts_done(struct parts *x) {
        free(x->key);
        free(x->ns);
        free(x->reserved);
        free(x->hash);
        free(x->sig);
}

static void replace(char **s, size_t *n, const void *with, size_t with_n) {
        free(*s);
        assert_se(*s = memdup(with, with_n));
        *n = with_n;
}

static void check_parts(const struct sshsig_signers *s, const struct parts *x, int want,
                        const char *want_msg, const char *what) {
        _cleanup_free_ char *armored = join(x);

        check_verify(s, "git", armored, strlen(armored), signed_data, signed_size, COMMIT_TIME, want,
                     "ed25519@example.com", want_msg, what);
}

/* Blobs put together by hand from the parts of real ones. */
static void test_crafted(const struct sshsig_signers *s) {
        _cleanup_free_ char *ed = slurp("data.ed25519.sig", NULL), *rsa = slurp("data.rsa.sig", NULL);
        _cleanup_free_ char *ed_blob = NULL, *rsa_blob = NULL;
        _cleanup_(parts_done) struct parts x = {}, y = {};
        size_t n;
        const char *p;

        ed_blob = unarmor(ed, &n);
        rsa_blob = unarmor(rsa, &n);
        x = split(ed_blob);
        check_parts(s, &x, 1, NULL, "put back together");

        x.version = 2;
        check_parts(s, &x, -EINVAL, "SSHSIG version 2, not 1", "version 2");
        x.version = 1;
        memcpy(x.magic, "SSHSIH", 6);
        check_parts(s, &x, -EINVAL, "not an SSH signature (no SSHSIG preamble)", "another magic");
        memcpy(x.magic, "SSHSIG", 6);
        x.trailing = "x";
        check_parts(s, &x, -EINVAL, "malformed SSHSIG blob", "a byte after the blob");
        x.trailing = NULL;
        /* OpenSSH reads the reserved field and signs and checks it empty, whatever it holds. */
        replace(&x.reserved, &x.reserved_n, "x", 1);
        check_parts(s, &x, 1, NULL, "reserved field not empty: ignored, as by OpenSSH");
        replace(&x.hash, &x.hash_n, "sha1", 4);
        check_parts(s, &x, 0, "unsupported hash algorithm 'sha1'", "hash sha1");
        replace(&x.hash, &x.hash_n, "sha512", 6);
        replace(&x.ns, &x.ns_n, "g\x1bt\0", 4);
        check_parts(s, &x, 0, "namespace 'g\\x1bt\\x00', not 'git'", "namespace with controls, escaped");
        replace(&x.ns, &x.ns_n, "git", 3);

        /* The signature in the blob: its algorithm, and something after it. */
        {
                char orig[200], sig[200], *q = sig;
                size_t alg_n, raw_n;
                const char *alg, *raw;

                assert_se(x.sig_n <= sizeof(orig));
                memcpy(orig, x.sig, x.sig_n);
                p = orig;
                alg = take(&p, &alg_n);
                raw = take(&p, &raw_n);
                assert_se(alg_n == 11 && raw_n == 64);
                put(&q, "ssh-rsa", 7);
                put(&q, raw, raw_n);
                replace(&x.sig, &x.sig_n, sig, (size_t) (q - sig));
                check_parts(s, &x, 0, "~signature algorithm 'ssh-rsa' does not fit key SHA256:",
                            "Ed25519 key, ssh-rsa signature");
                q = sig;
                put(&q, alg, alg_n);
                put(&q, raw, raw_n);
                *q++ = 0;
                replace(&x.sig, &x.sig_n, sig, (size_t) (q - sig));
                check_parts(s, &x, -EINVAL, "malformed signature in the SSHSIG blob",
                            "a byte after the signature");
                q = sig;
                put(&q, alg, alg_n);
                put(&q, raw, raw_n - 1);
                replace(&x.sig, &x.sig_n, sig, (size_t) (q - sig));
                check_parts(s, &x, -EINVAL, "malformed Ed25519 signature", "Ed25519 signature of 63 bytes");
        }

        /* An RSA signature made with SHA-1 is refused before it is checked. */
        {
                _cleanup_free_ char *sig = NULL, *armored = NULL;
                size_t alg_n, raw_n;
                const char *raw;
                char *q;

                y = split(rsa_blob);
                p = y.sig;
                (void) take(&p, &alg_n);
                raw = take(&p, &raw_n);
                assert_se(sig = malloc(raw_n + 100));
                q = sig;
                put(&q, "ssh-rsa", 7);
                put(&q, raw, raw_n);
                replace(&y.sig, &y.sig_n, sig, (size_t) (q - sig));
                armored = join(&y);
                check_verify(s, "git", armored, strlen(armored), signed_data, signed_size, COMMIT_TIME, 0,
                             NULL, "~RSA signature with SHA-1 (ssh-rsa) by key SHA256:", "RSA with SHA-1");
        }
}

static void test_namespaces_and_keys(const struct sshsig_signers *s) {
        _cleanup_free_ char *other = slurp("other.fingerprint", NULL), *want = NULL;

        check_file(s, "git", "ed25519-file", COMMIT_TIME, 0, NULL, "namespace 'file', not 'git'",
                   "namespace 'file' checked for 'git'");
        check_file(s, "file", "ed25519-file", COMMIT_TIME, 1, "ed25519@example.com", NULL,
                   "namespace 'file' checked for 'file'");
        check_file(s, "file", "ed25519", COMMIT_TIME, 0, NULL, "namespace 'git', not 'file'",
                   "namespace 'git' checked for 'file'");

        other[strcspn(other, "\n")] = '\0';
        assert_se(want = strdup_printf("signed with key %s, which is not in '" FILE_NAME "'", other));
        check_file(s, "git", "other", COMMIT_TIME, 0, NULL, want,
                   "a key not listed, named by its fingerprint");
}

/* Entries with options, for the Ed25519 key: "%s" stands for its TYPE BASE64. */
static void test_options(void) {
        static const struct {
                const char *line;
                int want;
                const char *msg; /* with '~': a part */
        } table[] = {
                { "a@x %s", 1, NULL },
                { "a@x namespaces=\"git\" %s", 1, NULL },
                { "a@x NameSpaces=\"git\" %s", 1, NULL },
                { "a@x namespaces=\"other,git\" %s", 1, NULL },
                { "a@x namespaces=\"g*\" %s", 1, NULL },
                { "a@x namespaces=\"g?t\" %s", 1, NULL },
                { "a@x namespaces=\"*\" %s", 1, NULL },
                { "a@x namespaces=\"x y,git\" %s", 1, NULL },
                { "a@x namespaces=\"other\" %s", 0, "~(" FILE_NAME ":1) may not sign for namespace 'git'" },
                { "a@x namespaces=\"\" %s", 0, "~may not sign for namespace 'git'" },
                { "a@x namespaces=\"gi\" %s", 0, "~may not sign for namespace 'git'" },
                { "a@x namespaces=\"*,!git\" %s", 0, "~may not sign for namespace 'git'" },
                { "a@x namespaces=\"!git,*\" %s", 0, "~may not sign for namespace 'git'" },
                { "a@x namespaces=\"!file\" %s", 0, "~may not sign for namespace 'git'" },
                { "a@x valid-before=\"20240101\" %s", 0,
                  "~(" FILE_NAME ":1) is not valid after 2024-01-01T00:00:00Z" },
                { "a@x valid-after=\"20270101\" %s", 0,
                  "~(" FILE_NAME ":1) is not valid before 2027-01-01T00:00:00Z" },
                { "a@x valid-after=\"20240501120000Z\" %s", 1, NULL },
                { "a@x valid-after=\"20240501120001z\" %s", 0, "~not valid before 2024-05-01T12:00:01Z" },
                { "a@x valid-before=\"202405011200Z\" %s", 1, NULL },
                { "a@x valid-before=\"20240501115959UTC\" %s", 0, "~not valid after 2024-05-01T11:59:59Z" },
                { "a@x valid-after=\"20240229\",valid-before=\"20250101\" %s", 1, NULL },
                { "a@x Valid-After=\"20240229\",namespaces=\"git\" %s", 1, NULL },
                /* The first entry of the key that allows the signature gives the principal. */
                { "b@x namespaces=\"file\" %s\na@x %s", 1, NULL },
                { "a@x,b@x %s\nb@x %s", 1, NULL },
                { "b@x namespaces=\"file\" %s\nc@x valid-after=\"20300101\" %s", 0,
                  "~(" FILE_NAME ":1) may not sign for namespace 'git'" },
                /* Fields apart by tabs and blanks, CRLF, comments, quoted principals. */
                { "  # a comment\r\n\r\n\t\"a@x\"\t %s   a comment\r\n", 1, NULL },
                { "\"a@x,Alice Smith\" namespaces=\"git\" %s", 1, NULL },
        };
        _cleanup_free_ char *key = pub_key("ed25519"), *sig = slurp("data.ed25519.sig", NULL);

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(sshsig_signers_freep) struct sshsig_signers *s = NULL;
                _cleanup_free_ char *text = NULL, *what = NULL;

                text = with_key(table[i].line, key);
                assert_se(what = strdup_printf("options #%zu '%.40s'", i, table[i].line));
                for (char *c = what; *c; c++)
                        if (*c == '\r' || *c == '\n' || *c == '\t')
                                *c = ' ';
                s = signers(text);
                check_verify(s, "git", sig, strlen(sig), signed_data, signed_size, COMMIT_TIME,
                             table[i].want, "a@x", table[i].msg, what);
        }
        {
                _cleanup_(sshsig_signers_freep) struct sshsig_signers *s = signers("");

                check_verify(s, "git", sig, strlen(sig), signed_data, signed_size, COMMIT_TIME, 0, NULL,
                             "~, which is not in '" FILE_NAME "'", "an empty file: no signer");
        }
}

/* Lines refused, each the fourth of a file (a comment, a blank line and a good entry before it):
 * "%s" stands for the Ed25519 key's TYPE BASE64, "%k" for its BASE64 alone. */
static void test_bad_lines(void) {
        static const struct {
                const char *line;
                const char *msg;
        } table[] = {
                { "alice", "missing key" },
                { "alice ssh-ed25519", "missing key" },
                { "alice namespaces=\"git\"", "missing key" },
                { "alice ssh-ed25519 !!!!", "key: not base64" },
                { "alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "key: not base64" }, /* no padding */
                { "alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB==",
                  "key: not base64" }, /* bits past the end */
                { "alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "key: malformed Ed25519 key" },
                { "alice ssh-rsa %k", "key: a ssh-ed25519 key, not ssh-rsa" },
                { "alice foo=\"x\" %s", "unknown option or key type 'foo'" },
                { "alice garbage %s", "unknown option or key type 'garbage'" },
                { "alice no-cert-authority %s", "unknown option or key type 'no-cert-authority'" },
                { "alice namespaces=git %s", "namespaces: the value must be quoted" },
                { "alice namespaces=\"a\",namespaces=\"b\" %s", "namespaces: given twice" },
                { "alice namespaces=\"git %s", "options: a '\"' is not closed" },
                { "alice namespaces=\"git\", %s", "options: a ',' and another option expected" },
                { "alice namespaces=\"git\"x %s", "options: a ',' and another option expected" },
                { "alice valid-after=20240101 %s", "valid-after: the value must be quoted" },
                { "alice valid-after=\"20231301\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"20230229\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"2024010\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"202401011260\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"2024-01-01\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"19691231Z\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-after=\"19700101Z\" %s", "valid-after: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-before=\"20240101X\" %s", "valid-before: not a time YYYYMMDD[HHMM[SS]][Z]" },
                { "alice valid-before=\"20240101\",valid-before=\"20250101\" %s",
                  "valid-before: given twice" },
                { "alice valid-after=\"20250101\",valid-before=\"20250101\" %s",
                  "valid-before is not after valid-after" },
                { "alice cert-authority %s", "cert-authority: certificates are not supported" },
                { "alice namespaces=\"git\",CERT-AUTHORITY %s",
                  "cert-authority: certificates are not supported" },
                { "alice sk-ssh-ed25519@openssh.com %k",
                  "security keys (sk-ssh-ed25519@openssh.com) are not supported" },
                { "alice sk-ecdsa-sha2-nistp256@openssh.com %k",
                  "security keys (sk-ecdsa-sha2-nistp256@openssh.com) are not supported" },
                { "alice ssh-ed25519-cert-v01@openssh.com %k",
                  "certificates (ssh-ed25519-cert-v01@openssh.com) are not supported" },
                { "alice ssh-dss %k", "unsupported key type 'ssh-dss'" },
                { ",alice %s", "empty principal" },
                { "alice,,bob %s", "empty principal" },
                { "alice, %s", "empty principal" },
                { "\"\" %s", "empty principal" },
                { "\"alice %s", "principals: a '\"' and a blank expected" },
                { "\"alice\"x %s", "principals: a '\"' and a blank expected" },
        };
        static char sentinel;
        _cleanup_free_ char *key = pub_key("ed25519");

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct sshsig_signers *s = (struct sshsig_signers *) &sentinel;
                _cleanup_free_ char *line = with_key(table[i].line, key), *text = NULL, *msg = NULL,
                                    *want = NULL;

                assert_se(text = strdup_printf("# signers\n\nok@x %s\n%s\n", key, line));
                assert_se(want = strdup_printf(FILE_NAME ":4: %s", table[i].msg));
                is_int(sshsig_signers_parse(FILE_NAME, text, strlen(text), &s, &msg), -EINVAL,
                       "bad line #%zu refused", i);
                ok(s == (struct sshsig_signers *) &sentinel, "bad line #%zu: *ret left alone", i);
                is_str(msg, want, "bad line #%zu: message", i);
        }
        {
                struct sshsig_signers *s = NULL;
                _cleanup_free_ char *text = NULL, *msg = NULL;

                size_t n;

                assert_se(text = strdup_printf("ok@x %s\r\nalice_ %s\r\n", key, key));
                n = strlen(text);
                strstr(text, "alice_")[5] = '\0';
                is_int(sshsig_signers_parse(FILE_NAME, text, n, &s, &msg), -EINVAL, "a NUL byte refused");
                is_str(msg, FILE_NAME ":2: a NUL byte", "a NUL byte: message");
        }
}

/* Keys that are well formed but refused: an RSA key too short, an EC point off its curve. */
static void test_bad_keys(void) {
        _cleanup_free_ char *ec = pub_key("ecdsa256"), *ec_blob = NULL;
        size_t n;

        {
                /* string "ssh-rsa", mpint e = 65537, mpint n of 1015 bits */
                char blob[4 + 7 + 4 + 3 + 4 + 127], modulus[127], *p = blob;
                _cleanup_free_ char *b64 = NULL, *text = NULL, *msg = NULL;
                struct sshsig_signers *s = NULL;

                memset(modulus, 0xff, sizeof(modulus));
                modulus[0] = 0x7f;
                put(&p, "ssh-rsa", 7);
                put(&p, "\x01\x00\x01", 3);
                put(&p, modulus, sizeof(modulus));
                assert_se(base64_encode(blob, sizeof(blob), &b64) == 0);
                assert_se(text = strdup_printf("alice ssh-rsa %s\n", b64));
                is_int(sshsig_signers_parse(FILE_NAME, text, strlen(text), &s, &msg), -EINVAL,
                       "RSA key of 1015 bits refused");
                is_str(msg, FILE_NAME ":1: key: RSA key shorter than 1024 bits",
                       "RSA key of 1015 bits: message");
        }
        {
                _cleanup_free_ char *b64 = NULL, *text = NULL, *msg = NULL;
                struct sshsig_signers *s = NULL;

                assert_se(base64_decode(strchr(ec, ' ') + 1, &ec_blob, &n) == 0);
                ec_blob[n - 1] ^= 1; /* y changed: the point is off the curve */
                assert_se(base64_encode(ec_blob, n, &b64) == 0);
                assert_se(text = strdup_printf("alice ecdsa-sha2-nistp256 %s\n", b64));
                is_int(sshsig_signers_parse(FILE_NAME, text, strlen(text), &s, &msg), -EINVAL,
                       "ECDSA point off its curve refused");
                is_str(msg, FILE_NAME ":1: key: invalid key (refused by OpenSSL)",
                       "ECDSA point off its curve: message");
        }
}

/* The daemon's use: a commit signed by git, its signature as a gpgsig header holds it, its payload
 * the commit without that header, at the committer time. */
static void test_commit(const struct sshsig_signers *s) {
        _cleanup_free_ char *sig = NULL, *payload = NULL, *t = slurp("commit.time", NULL);
        size_t sig_size, payload_size;
        uint64_t when = strtoull(t, NULL, 10);

        sig = slurp("commit.sig", &sig_size);
        payload = slurp("commit.payload", &payload_size);
        is_int((int64_t) when, (int64_t) COMMIT_TIME, "the commit's time");
        check_verify(s, "git", sig, sig_size, payload, payload_size, when, 1, "ed25519@example.com", NULL,
                     "signed commit");
        /* libgit2's git_commit_extract_signature() gives it without the last line end. */
        check_verify(s, "git", sig, sig_size - 1, payload, payload_size, when, 1, "ed25519@example.com",
                     NULL, "signed commit, no line end after END");
        payload[payload_size - 2] ^= 0x20;
        check_verify(s, "git", sig, sig_size, payload, payload_size, when, 0, NULL, "~bad signature",
                     "signed commit, its message changed");
}

int main(void) {
        _cleanup_(sshsig_signers_freep) struct sshsig_signers *s = NULL;
        _cleanup_free_ char *text = NULL, *msg = NULL, *data = NULL;
        const char *top = getenv("top_srcdir") ?: ".";
        char dir[4096];
        size_t size;

        (void) snprintf(dir, sizeof(dir), "%s/tests/data/sshsig", top);
        if (chdir(dir) < 0)
                skip_all("cannot find tests/data/sshsig (set top_srcdir)");

        data = slurp("data", &signed_size);
        signed_data = data;
        text = slurp(FILE_NAME, &size);
        is_int(sshsig_signers_parse(FILE_NAME, text, size, &s, &msg), 0,
               "the vectors' allowed signers file");
        if (!s)
                diag("%s", strna(msg));
        assert_se(s);
        ok(!sshsig_signers_free(NULL), "sshsig_signers_free(NULL)");

        test_key_types(s);
        test_namespaces_and_keys(s);
        test_flipped(s);
        test_truncated(s);
        test_crafted(s);
        test_options();
        test_bad_lines();
        test_bad_keys();
        test_commit(s);
        return done();
}
