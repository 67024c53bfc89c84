#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "sshsig.h"
#include "escape.h"
#include "url.h"
#include "util.h"

#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END   "-----END SSH SIGNATURE-----"
/* PROTOCOL.sshsig: the blob's magic preamble and the one version there is. */
#define SSHSIG_MAGIC   "SSHSIG"
#define SSHSIG_VERSION 1U
/* OpenSSH's bounds on RSA keys: SSH_RSA_MINIMUM_MODULUS_SIZE and SSHBUF_MAX_BIGNUM (bytes). */
#define RSA_MIN_BITS  1024U
#define RSA_MAX_BYTES (16384U / 8U)
/* The longest r or s of an ECDSA signature: the order of P-521 is 521 bits. */
#define ECDSA_MAX_BYTES  66U
#define ED25519_KEY_SIZE 32U
#define ED25519_SIG_SIZE 64U
/* How much of a text taken from a signature or a file a message shows. */
#define SHOW_MAX 64U

DEFINE_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);
DEFINE_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
DEFINE_CLEANUP_FUNC(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free);
DEFINE_CLEANUP_FUNC(OSSL_PARAM *, OSSL_PARAM_free);
DEFINE_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_CLEANUP_FUNC(ECDSA_SIG *, ECDSA_SIG_free);

/* Bytes being read (a blob) or read (a string of it): not owned. */
struct span {
        const uint8_t *p;
        size_t n;
};

enum key_kind { KEY_ED25519, KEY_ECDSA, KEY_RSA };

static const struct key_type {
        const char *name; /* in the blob and in the allowed signers file */
        enum key_kind kind;
        const char *curve;  /* ECDSA: the curve's name in the blob (RFC 5656, 3.1) */
        const char *group;  /* ECDSA: OpenSSL's name of it */
        const char *digest; /* ECDSA: the hash of its signatures (RFC 5656, 6.2.1) */
        size_t point_size;  /* ECDSA: an uncompressed point, the only form OpenSSH reads */
} key_types[] = {
        { "ssh-ed25519", KEY_ED25519, NULL, NULL, NULL, 0 },
        { "ecdsa-sha2-nistp256", KEY_ECDSA, "nistp256", "P-256", "SHA256", 65 },
        { "ecdsa-sha2-nistp384", KEY_ECDSA, "nistp384", "P-384", "SHA384", 97 },
        { "ecdsa-sha2-nistp521", KEY_ECDSA, "nistp521", "P-521", "SHA512", 133 },
        { "ssh-rsa", KEY_RSA, NULL, NULL, NULL, 0 },
};

struct entry {
        char *principals;                   /* as written, without its quotes */
        char *namespaces;                   /* the namespaces= pattern list; NULL: any */
        uint64_t valid_after, valid_before; /* seconds since the epoch; 0: none */
        uint8_t *key;                       /* the key's blob */
        size_t key_size;
        unsigned line;
};

struct sshsig_signers {
        char *file;
        struct entry *entries;
        size_t n_entries, n_allocated;
};

/* ---- The SSH wire format (RFC 4251, 5), every length checked against what is left ---- */

static bool read_u32(struct span *b, uint32_t *ret) {
        if (b->n < 4)
                return false;
        *ret = (uint32_t) b->p[0] << 24 | (uint32_t) b->p[1] << 16 | (uint32_t) b->p[2] << 8 | b->p[3];
        b->p += 4;
        b->n -= 4;
        return true;
}

static bool read_string(struct span *b, struct span *ret) {
        struct span c = *b;
        uint32_t n;

        if (!read_u32(&c, &n) || n > c.n)
                return false;
        *ret = (struct span){ c.p, n };
        *b = (struct span){ c.p + n, c.n - n };
        return true;
}

/* An mpint that is not negative, without its leading zeros, of at most 'max' bytes. */
static bool read_mpint(struct span *b, size_t max, struct span *ret) {
        struct span m;

        if (!read_string(b, &m) || (m.n > 0 && (m.p[0] & 0x80)))
                return false;
        while (m.n > 0 && m.p[0] == 0) {
                m.p++;
                m.n--;
        }
        if (m.n > max)
                return false;
        *ret = m;
        return true;
}

static bool span_eq(struct span s, const char *t) {
        return s.n == strlen(t) && memcmp(s.p, t, s.n) == 0;
}

static void put_string(uint8_t **p, const void *s, size_t n) {
        (*p)[0] = (uint8_t) (n >> 24);
        (*p)[1] = (uint8_t) (n >> 16);
        (*p)[2] = (uint8_t) (n >> 8);
        (*p)[3] = (uint8_t) n;
        memcpy(*p + 4, s, n);
        *p += 4 + n;
}

/* Base64 as OpenSSH's b64_pton() reads it: the standard alphabet, padded, the unused bits of the
 * last character zero; that is, exactly what base64_encode() gives back. */
static int base64_decode_strict(const char *s, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ char *bytes = NULL, *again = NULL;
        size_t n;
        int r;

        r = base64_decode(s, &bytes, &n);
        if (r < 0)
                return r;
        r = base64_encode(bytes, n, &again);
        if (r < 0)
                return r;
        if (!streq(again, s))
                return -EINVAL;
        *ret = (uint8_t *) TAKE_PTR(bytes);
        *ret_size = n;
        return 0;
}

/* ---- Keys and signatures ---- */

static const struct key_type *key_type_of(struct span name) {
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (span_eq(name, key_types[i].name))
                        return &key_types[i];
        return NULL;
}

/* "SHA256:" and the unpadded base64 of the blob's SHA-256, as ssh-keygen -l shows a key. */
static int fingerprint(struct span key, char **ret) {
        _cleanup_free_ char *b64 = NULL;
        uint8_t h[32];
        int r;

        if (EVP_Digest(key.p, key.n, h, NULL, EVP_sha256(), NULL) != 1)
                return -EIO;
        r = base64_encode(h, sizeof(h), &b64);
        if (r < 0)
                return r;
        b64[strcspn(b64, "=")] = '\0';
        *ret = strdup_printf("SHA256:%s", b64);
        return *ret ? 0 : -ENOMEM;
}

/* An EC key on t's curve with the point 'a' ('b' unused), or an RSA key of exponent 'a' and
 * modulus 'b'. NULL when OpenSSL refuses it (or is out of memory: it does not say which). */
static EVP_PKEY *key_from_params(const struct key_type *t, struct span a, struct span b) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(BN_freep) BIGNUM *e = NULL, *n = NULL;
        EVP_PKEY *pkey = NULL;

        if (!bld)
                return NULL;
        if (t->kind == KEY_ECDSA) {
                if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, t->group, 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, a.p, a.n))
                        return NULL;
        } else {
                e = BN_bin2bn(a.p, (int) a.n, NULL);
                n = BN_bin2bn(b.p, (int) b.n, NULL);
                if (!e || !n || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n))
                        return NULL;
        }
        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, t->kind == KEY_ECDSA ? "EC" : "RSA", NULL);
        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return NULL;
        return pkey;
}

static int key_error(const char **reterr_reason, const char *reason) {
        *reterr_reason = reason;
        return -EINVAL;
}

/* Reads a public key blob (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4) as OpenSSH does: nothing may
 * follow the key, an EC point must be uncompressed and lie on its curve. Returns 0, the type and
 * the key (*ret may be NULL: only checks), or -EINVAL with a reason (static text). */
static int key_load(struct span b, const struct key_type **ret_type, EVP_PKEY **ret,
                    const char **reterr_reason) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        const struct key_type *t;
        struct span name, x, y;

        if (!read_string(&b, &name))
                return key_error(reterr_reason, "truncated key");
        t = key_type_of(name);
        if (!t)
                return key_error(reterr_reason, "unsupported key type");
        switch (t->kind) {
        case KEY_ED25519:
                if (!read_string(&b, &x) || x.n != ED25519_KEY_SIZE || b.n != 0)
                        return key_error(reterr_reason, "malformed Ed25519 key");
                pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.p, x.n);
                break;
        case KEY_ECDSA:
                if (!read_string(&b, &x) || !span_eq(x, t->curve) || !read_string(&b, &y) ||
                    y.n != t->point_size || y.p[0] != POINT_CONVERSION_UNCOMPRESSED || b.n != 0)
                        return key_error(reterr_reason, "malformed ECDSA key");
                pkey = key_from_params(t, y, y); /* OpenSSL refuses a point off the curve */
                break;
        case KEY_RSA:
                /* e, then n; n's bits counted from its first byte, which is not 0 */
                if (!read_mpint(&b, RSA_MAX_BYTES, &x) || !read_mpint(&b, RSA_MAX_BYTES, &y) || b.n != 0)
                        return key_error(reterr_reason, "malformed RSA key");
                if (y.n == 0 || 8 * (y.n - 1) + (size_t) (32 - __builtin_clz(y.p[0])) < RSA_MIN_BITS)
                        return key_error(reterr_reason, "RSA key shorter than 1024 bits");
                pkey = key_from_params(t, x, y);
                break;
        }
        if (!pkey)
                return key_error(reterr_reason, "invalid key (refused by OpenSSL)");
        *ret_type = t;
        if (ret)
                *ret = TAKE_PTR(pkey);
        return 0;
}

/* An ECDSA signature as SSH writes it (mpint r, mpint s) in DER, as OpenSSL reads it. */
static int ecdsa_to_der(struct span s, uint8_t **ret, size_t *ret_size) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        BIGNUM *br, *bs;
        struct span r, t;
        unsigned char *p;
        int n;

        if (!read_mpint(&s, ECDSA_MAX_BYTES, &r) || !read_mpint(&s, ECDSA_MAX_BYTES, &t) || s.n != 0)
                return -EINVAL;
        sig = ECDSA_SIG_new();
        br = BN_bin2bn(r.p, (int) r.n, NULL);
        bs = BN_bin2bn(t.p, (int) t.n, NULL);
        if (!sig || !br || !bs || ECDSA_SIG_set0(sig, br, bs) != 1) {
                BN_free(br);
                BN_free(bs);
                return -ENOMEM;
        }
        /* br and bs are the signature's now */
        n = i2d_ECDSA_SIG(sig, NULL);
        if (n <= 0)
                return -EIO;
        der = malloc((size_t) n);
        if (!der)
                return -ENOMEM;
        p = der;
        if (i2d_ECDSA_SIG(sig, &p) != n)
                return -EIO;
        *ret = TAKE_PTR(der);
        *ret_size = (size_t) n;
        return 0;
}

/* Checks the SSH signature 'sig' (string algorithm, string signature) by 'pkey', of type 't' and
 * fingerprint 'fpr', over 'tbs'. Returns 1 when it verifies; 0 with the reason when it does not;
 * -EINVAL with the reason when it is malformed; -ENOMEM. */
static int signature_check(const struct key_type *t, EVP_PKEY *pkey, const char *fpr, struct span sig,
                           struct span tbs, char **reterr_message) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *owned = NULL;
        _cleanup_free_ char *shown = NULL;
        const char *digest = t->digest;
        struct span alg, s;
        int r;

        if (!read_string(&sig, &alg) || !read_string(&sig, &s) || sig.n != 0)
                return reterr_printf(reterr_message, -EINVAL, "malformed signature in the SSHSIG blob");
        if (t->kind == KEY_RSA && span_eq(alg, "ssh-rsa"))
                return reterr_printf(reterr_message, 0,
                                     "RSA signature with SHA-1 (ssh-rsa) by key %s, refused", fpr);
        if (t->kind == KEY_RSA && span_eq(alg, "rsa-sha2-256"))
                digest = "SHA256";
        else if (t->kind == KEY_RSA && span_eq(alg, "rsa-sha2-512"))
                digest = "SHA512";
        else if (!span_eq(alg, t->name)) {
                shown = escape_text((const char *) alg.p, alg.n, SHOW_MAX, 0);
                if (!shown)
                        return -ENOMEM;
                return reterr_printf(reterr_message, 0, "signature algorithm '%s' does not fit key %s (%s)",
                                     shown, fpr, t->name);
        }

        switch (t->kind) {
        case KEY_ED25519:
                if (s.n != ED25519_SIG_SIZE)
                        return reterr_printf(reterr_message, -EINVAL, "malformed Ed25519 signature");
                break;
        case KEY_ECDSA:
                r = ecdsa_to_der(s, &owned, &s.n);
                if (r == -EINVAL)
                        return reterr_printf(reterr_message, r, "malformed ECDSA signature");
                if (r < 0)
                        return r;
                s.p = owned;
                break;
        case KEY_RSA: {
                /* OpenSSH pads a short signature with zeros on the left to the modulus' size. */
                size_t size = (size_t) EVP_PKEY_get_size(pkey);

                if (s.n > size)
                        return reterr_printf(reterr_message, -EINVAL, "RSA signature longer than its key");
                owned = calloc(1, size);
                if (!owned)
                        return -ENOMEM;
                memcpy(owned + size - s.n, s.p, s.n);
                s = (struct span){ owned, size };
                break;
        }
        }

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit_ex(ctx, NULL, digest, NULL, NULL, pkey, NULL) != 1)
                return reterr_printf(reterr_message, -EIO, "OpenSSL cannot check a %s signature", t->name);
        if (EVP_DigestVerify(ctx, s.p, s.n, tbs.p, tbs.n) != 1)
                return reterr_printf(reterr_message, 0, "bad signature by key %s", fpr);
        return 1;
}

/* ---- The allowed signers file ---- */

/* OpenSSH's match_pattern(): whether 's' matches the 'n' bytes at 'p', where '*' stands for any
 * characters and '?' for one. Greedy with one backtrack point: O(|s| * n) at worst. */
static bool pattern_match(const char *s, const char *p, size_t n) {
        size_t i = 0, j = 0, star = SIZE_MAX, star_i = 0;

        while (s[i]) {
                if (j < n && p[j] == '*') {
                        star = j++;
                        star_i = i;
                } else if (j < n && (p[j] == '?' || p[j] == s[i])) {
                        i++;
                        j++;
                } else if (star != SIZE_MAX) {
                        j = star + 1;
                        i = ++star_i;
                } else
                        return false;
        }
        while (j < n && p[j] == '*')
                j++;
        return j == n;
}

/* OpenSSH's match_pattern_list(): whether 's' matches a pattern of the comma-separated 'list' and
 * matches none of its negated ('!') ones. */
static bool pattern_list_match(const char *s, const char *list) {
        bool positive = false;

        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                bool negated = *p == '!';

                if (pattern_match(s, p + negated, n - negated)) {
                        if (negated)
                                return false;
                        positive = true;
                }
                p += n + (p[n] == ',');
        }
        return positive;
}

static unsigned read_digits(const char *s, size_t n) {
        unsigned v = 0;

        for (size_t i = 0; i < n; i++)
                v = v * 10 + (unsigned) (s[i] - '0');
        return v;
}

/* OpenSSH's parse_absolute_time(): YYYYMMDD[HHMM[SS]], then optionally "Z" or "UTC" (in any
 * case), read as UTC always. Like OpenSSH, refuses times before 1970, and the epoch itself (which
 * it takes for "none"). */
static int parse_time(const char *s, uint64_t *ret) {
        static const unsigned month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        size_t n = strlen(s);
        unsigned y, mo, d, h = 0, mi = 0, sec = 0, yoe, doy;
        uint64_t t;
        bool leap;

        if (n > 1 && strcasecmp(s + n - 1, "z") == 0)
                n--;
        else if (n > 3 && strcasecmp(s + n - 3, "utc") == 0)
                n -= 3;
        if ((n != 8 && n != 12 && n != 14) || strspn(s, "0123456789") < n)
                return -EINVAL;
        y = read_digits(s, 4);
        mo = read_digits(s + 4, 2);
        d = read_digits(s + 6, 2);
        if (n >= 12) {
                h = read_digits(s + 8, 2);
                mi = read_digits(s + 10, 2);
        }
        if (n == 14)
                sec = read_digits(s + 12, 2);
        leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] + (mo == 2 && leap) || h > 23 ||
            mi > 59 || sec > 59)
                return -EINVAL;
        /* Days since 1970-01-01 (Howard Hinnant's days_from_civil(), years from March on). */
        y -= mo <= 2;
        yoe = y % 400;
        doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
        t = ((uint64_t) (y / 400) * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468) * 86400 +
            h * 3600 + mi * 60 + sec;
        if (t == 0)
                return -EINVAL;
        *ret = t;
        return 0;
}

static void format_time(uint64_t t, char buf[static 32]) {
        struct tm tm;
        time_t tt = (time_t) t;

        if (t > (uint64_t) INT64_MAX || !gmtime_r(&tt, &tm) ||
            strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void) snprintf(buf, 32, "@%" PRIu64, t);
}

#define line_error(reterr, file, line, fmt, ...) \
        reterr_printf(reterr, -EINVAL, "%s:%u: " fmt, file, line, ##__VA_ARGS__)

/* Reads the quoted option value at *p in place, as OpenSSH's opt_dequote(): \" stands for '"'.
 * Returns it and moves *p past it; NULL when it is not quoted. */
static char *dequote(char **p) {
        char *s = *p, *w, *v;

        if (*s != '"')
                return NULL;
        v = w = ++s;
        while (*s && *s != '"') {
                if (s[0] == '\\' && s[1] == '"')
                        s++;
                *w++ = *s++;
        }
        if (*s != '"')
                return NULL;
        *p = s + 1;
        *w = '\0';
        return v;
}

/* The options of an entry, as OpenSSH's sshsigopt_parse() reads them, into 'e'. */
static int parse_options(const char *file, unsigned line, char *o, struct entry *e, char **reterr) {
        for (;;) {
                char *v;

                if (strncasecmp(o, "cert-authority", 14) == 0 && (o[14] == '\0' || o[14] == ','))
                        return line_error(reterr, file, line,
                                          "cert-authority: certificates are not supported");
                if (strncasecmp(o, "namespaces=", 11) == 0) {
                        o += 11;
                        v = dequote(&o);
                        if (!v || e->namespaces)
                                return line_error(reterr, file, line, "namespaces: %s",
                                                  v ? "given twice" : "the value must be quoted");
                        e->namespaces = strdup(v);
                        if (!e->namespaces)
                                return -ENOMEM;
                } else if (strncasecmp(o, "valid-after=", 12) == 0 ||
                           strncasecmp(o, "valid-before=", 13) == 0) {
                        bool after = o[6] == 'a' || o[6] == 'A';
                        uint64_t *t = after ? &e->valid_after : &e->valid_before;

                        o += after ? 12 : 13;
                        v = dequote(&o);
                        if (!v || *t != 0 || parse_time(v, t) < 0)
                                return line_error(reterr, file, line, "%s: %s",
                                                  after ? "valid-after" : "valid-before",
                                                  !v        ? "the value must be quoted"
                                                  : *t != 0 ? "given twice"
                                                            : "not a time YYYYMMDD[HHMM[SS]][Z]");
                } else {
                        _cleanup_free_ char *shown = escape_text(o, strcspn(o, "=,"), SHOW_MAX, 0);

                        if (!shown)
                                return -ENOMEM;
                        return line_error(reterr, file, line, "unknown option or key type '%s'", shown);
                }
                if (*o == '\0')
                        break;
                if (*o != ',' || o[1] == '\0')
                        return line_error(reterr, file, line, "options: a ',' and another option expected");
                o++;
        }
        if (e->valid_after != 0 && e->valid_before != 0 && e->valid_before <= e->valid_after)
                return line_error(reterr, file, line, "valid-before is not after valid-after");
        return 0;
}

/* Cuts the field at *p (up to a blank) and moves *p to the next one. Returns the field. */
static char *next_field(char **p) {
        char *f = *p, *end = f + strcspn(f, " \t");

        *p = end + strspn(end, " \t");
        *end = '\0';
        return f;
}

/* Whether a field is a key type, as opposed to options: OpenSSH's key types are "ssh-*",
 * "ecdsa-*" and "sk-*". */
static bool is_key_type(const char *f) {
        return startswith(f, "ssh-") || startswith(f, "ecdsa-") || startswith(f, "sk-");
}

static void entry_done(struct entry *e) {
        free(e->principals);
        free(e->namespaces);
        free(e->key);
}

/* An entry: the line, NUL-terminated, without its line end and leading blanks, cut up in place. */
static int parse_entry(const char *file, unsigned line, char *p, struct entry *e, char **reterr) {
        _cleanup_free_ char *shown = NULL;
        const struct key_type *t = NULL;
        const char *reason = NULL;
        char *principals, *type;
        int r;

        if (*p == '"') {
                principals = ++p;
                p = strchr(p, '"');
                if (!p || !strchr(" \t", p[1]))
                        return line_error(reterr, file, line, "principals: a '\"' and a blank expected");
                *p++ = '\0';
                p += strspn(p, " \t");
        } else
                principals = next_field(&p);
        if (*principals == '\0' || *principals == ',' || strstr(principals, ",,") ||
            principals[strlen(principals) - 1] == ',')
                return line_error(reterr, file, line, "empty principal");
        if (*p != '\0' && !is_key_type(p)) {
                char *o = p;
                bool quoted = false;

                /* Options end at a blank outside quotes (OpenSSH's sshkey_advance_past_options()). */
                for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++)
                        if (p[0] == '\\' && p[1] == '"')
                                p++;
                        else if (*p == '"')
                                quoted = !quoted;
                if (quoted)
                        return line_error(reterr, file, line, "options: a '\"' is not closed");
                if (*p)
                        *p++ = '\0';
                p += strspn(p, " \t");
                r = parse_options(file, line, o, e, reterr);
                if (r < 0)
                        return r;
        }
        type = next_field(&p);
        if (*type == '\0')
                return line_error(reterr, file, line, "missing key");
        shown = escape_text(type, strlen(type), SHOW_MAX, 0);
        if (!shown)
                return -ENOMEM;
        if (startswith(type, "sk-"))
                return line_error(reterr, file, line, "security keys (%s) are not supported", shown);
        if (strstr(type, "-cert-"))
                return line_error(reterr, file, line, "certificates (%s) are not supported", shown);
        if (!key_type_of((struct span){ (const uint8_t *) type, strlen(type) }))
                return line_error(reterr, file, line, "unsupported key type '%s'", shown);
        if (*p == '\0')
                return line_error(reterr, file, line, "missing key");
        r = base64_decode_strict(next_field(&p), &e->key, &e->key_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return line_error(reterr, file, line, "key: not base64");
        r = key_load((struct span){ e->key, e->key_size }, &t, NULL, &reason);
        if (r < 0)
                return line_error(reterr, file, line, "key: %s", reason);
        if (!streq(t->name, type))
                return line_error(reterr, file, line, "key: a %s key, not %s", t->name, type);
        e->principals = strdup(principals);
        return e->principals ? 0 : -ENOMEM;
}

/* One line: an entry, a comment or a blank line. */
static int parse_line(struct sshsig_signers *s, unsigned line, char *p, char **reterr) {
        struct entry *e;
        int r;

        p += strspn(p, " \t");
        if (*p == '\0' || *p == '#')
                return 0;
        if (s->n_entries == s->n_allocated) {
                size_t n = MAX(s->n_allocated * 2, 8U);

                e = reallocarray(s->entries, n, sizeof(struct entry));
                if (!e)
                        return -ENOMEM;
                s->entries = e;
                s->n_allocated = n;
        }
        e = &s->entries[s->n_entries];
        *e = (struct entry){ .line = line };
        r = parse_entry(s->file, line, p, e, reterr);
        if (r < 0) {
                entry_done(e);
                return r;
        }
        s->n_entries++;
        return 0;
}

struct sshsig_signers *sshsig_signers_free(struct sshsig_signers *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                entry_done(&s->entries[i]);
        free(s->entries);
        free(s->file);
        free(s);
        return NULL;
}

int sshsig_signers_parse(const char *file, const void *data, size_t size, struct sshsig_signers **ret,
                         char **reterr_message) {
        _cleanup_(sshsig_signers_freep) struct sshsig_signers *s = NULL;
        const char *text = data;
        unsigned line = 0;
        int r = 0;

        assert(file);
        assert(data || size == 0);
        assert(ret);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->file = strdup(file);
        if (!s->file)
                return -ENOMEM;
        for (size_t i = 0; i < size && r >= 0;) {
                const char *p = text + i, *nl = memchr(p, '\n', size - i);
                size_t n = nl ? (size_t) (nl - p) : size - i;
                _cleanup_free_ char *copy = NULL;

                i += n + 1;
                line++;
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                if (memchr(p, '\0', n))
                        r = line_error(reterr_message, file, line, "a NUL byte");
                else if (!(copy = memdup(p, n)))
                        r = -ENOMEM;
                else
                        r = parse_line(s, line, copy, reterr_message);
        }
        ERR_clear_error(); /* what OpenSSL queued when it refused a key: the thread's queue is shared */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- Signatures ---- */

/* Takes the armor off: the BEGIN line, base64 with blanks and line ends anywhere, the END line,
 * then blanks at most. Returns 0 and the blob (owned by the caller), or -EINVAL with the reason. */
static int dearmor(const char *s, size_t size, uint8_t **ret, size_t *ret_size, char **reterr) {
        _cleanup_free_ char *b64 = NULL;
        const char *end, *p, *footer;
        size_t n = 0;

        if (size < strlen(ARMOR_BEGIN) || memcmp(s, ARMOR_BEGIN, strlen(ARMOR_BEGIN)) != 0)
                return reterr_printf(reterr, -EINVAL, "signature does not begin with '" ARMOR_BEGIN "'");
        end = s + size;
        p = s + strlen(ARMOR_BEGIN);
        if (p < end && *p == '\r')
                p++;
        if (p >= end || *p != '\n')
                return reterr_printf(reterr, -EINVAL, "signature: no line end after '" ARMOR_BEGIN "'");
        footer = memmem(p, (size_t) (end - p), "\n" ARMOR_END, strlen("\n" ARMOR_END));
        if (!footer)
                return reterr_printf(reterr, -EINVAL, "signature does not end with '" ARMOR_END "'");
        for (const char *q = footer + strlen("\n" ARMOR_END); q < end; q++)
                if (!strchr(" \t\r\n", *q) || *q == '\0')
                        return reterr_printf(reterr, -EINVAL, "signature: text after '" ARMOR_END "'");

        b64 = malloc((size_t) (footer - p) + 1);
        if (!b64)
                return -ENOMEM;
        for (; p < footer; p++)
                if (*p == '\0')
                        return reterr_printf(reterr, -EINVAL, "signature: a NUL byte");
                else if (!strchr(" \t\r\n", *p))
                        b64[n++] = *p;
        b64[n] = '\0';
        if (base64_decode_strict(b64, ret, ret_size) < 0)
                return reterr_printf(reterr, -EINVAL, "signature: not base64");
        return 0;
}

/* Whether entry 'e', of key 'fpr', allows a signature for namespace 'ns' at time 't'. Returns 1;
 * or 0 and why not. */
static int entry_check(const struct sshsig_signers *s, const struct entry *e, const char *fpr,
                       const char *ns, uint64_t t, char **reterr) {
        char when[32];

        if (e->namespaces && !pattern_list_match(ns, e->namespaces))
                return reterr_printf(reterr, 0, "key %s (%s:%u) may not sign for namespace '%s'", fpr,
                                     s->file, e->line, ns);
        if (e->valid_after != 0 && t < e->valid_after) {
                format_time(e->valid_after, when);
                return reterr_printf(reterr, 0, "key %s (%s:%u) is not valid before %s", fpr, s->file,
                                     e->line, when);
        }
        if (e->valid_before != 0 && t > e->valid_before) {
                format_time(e->valid_before, when);
                return reterr_printf(reterr, 0, "key %s (%s:%u) is not valid after %s", fpr, s->file,
                                     e->line, when);
        }
        return 1;
}

static int verify(const struct sshsig_signers *s, const char *sig_namespace, const char *signature,
                  size_t signature_size, const void *data, size_t data_size, uint64_t time_sec,
                  char **ret_principal, char **reterr) {
        _cleanup_free_ uint8_t *blob = NULL, *tbs = NULL;
        _cleanup_free_ char *fpr = NULL, *shown = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        const struct key_type *t = NULL;
        const struct entry *e = NULL;
        const EVP_MD *md = NULL;
        const char *reason = NULL;
        struct span b, key, ns, reserved, hash_alg, sig;
        size_t blob_size = 0;
        uint8_t h[EVP_MAX_MD_SIZE], *q;
        unsigned h_size = 0;
        uint32_t version;
        int r;

        r = dearmor(signature, signature_size, &blob, &blob_size, reterr);
        if (r < 0)
                return r;
        b = (struct span){ blob, blob_size };
        if (b.n < strlen(SSHSIG_MAGIC) || memcmp(b.p, SSHSIG_MAGIC, strlen(SSHSIG_MAGIC)) != 0)
                return reterr_printf(reterr, -EINVAL, "not an SSH signature (no SSHSIG preamble)");
        b.p += strlen(SSHSIG_MAGIC);
        b.n -= strlen(SSHSIG_MAGIC);
        if (!read_u32(&b, &version) || !read_string(&b, &key) || !read_string(&b, &ns) ||
            !read_string(&b, &reserved) || !read_string(&b, &hash_alg) || !read_string(&b, &sig) || b.n != 0)
                return reterr_printf(reterr, -EINVAL, "malformed SSHSIG blob");
        if (version != SSHSIG_VERSION)
                return reterr_printf(reterr, -EINVAL, "SSHSIG version %" PRIu32 ", not 1", version);

        if (!span_eq(ns, sig_namespace)) {
                shown = escape_text((const char *) ns.p, ns.n, SHOW_MAX, 0);
                if (!shown)
                        return -ENOMEM;
                return reterr_printf(reterr, 0, "namespace '%s', not '%s'", shown, sig_namespace);
        }
        if (span_eq(hash_alg, "sha256"))
                md = EVP_sha256();
        else if (span_eq(hash_alg, "sha512"))
                md = EVP_sha512();
        else {
                shown = escape_text((const char *) hash_alg.p, hash_alg.n, SHOW_MAX, 0);
                if (!shown)
                        return -ENOMEM;
                return reterr_printf(reterr, 0, "unsupported hash algorithm '%s'", shown);
        }

        r = fingerprint(key, &fpr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_entries && !e; i++)
                if (s->entries[i].key_size == key.n && memcmp(s->entries[i].key, key.p, key.n) == 0)
                        e = &s->entries[i];
        if (!e)
                return reterr_printf(reterr, 0, "signed with key %s, which is not in '%s'", fpr, s->file);
        /* Only a listed key ever reaches OpenSSL, and it was read when the file was. */
        r = key_load(key, &t, &pkey, &reason);
        if (r < 0)
                return reterr_printf(reterr, r, "key %s: %s", fpr, reason);

        if (EVP_Digest(data, data_size, h, &h_size, md, NULL) != 1)
                return reterr_printf(reterr, -EIO, "OpenSSL cannot hash the data");
        tbs = malloc(strlen(SSHSIG_MAGIC) + 16 + ns.n + hash_alg.n + h_size);
        if (!tbs)
                return -ENOMEM;
        memcpy(tbs, SSHSIG_MAGIC, strlen(SSHSIG_MAGIC));
        q = tbs + strlen(SSHSIG_MAGIC);
        put_string(&q, ns.p, ns.n);
        put_string(&q, "", 0); /* reserved: OpenSSH signs and checks it empty, whatever the blob holds */
        put_string(&q, hash_alg.p, hash_alg.n);
        put_string(&q, h, h_size);
        r = signature_check(t, pkey, fpr, sig, (struct span){ tbs, (size_t) (q - tbs) }, reterr);
        if (r <= 0)
                return r;

        /* The entries of this key in file order, as ssh-keygen reads them: the first that allows
         * this namespace at this time gives the principal; else the first one says why not. */
        for (const struct entry *i = e; i < s->entries + s->n_entries; i++)
                if (i->key_size == key.n && memcmp(i->key, key.p, key.n) == 0 &&
                    entry_check(s, i, fpr, sig_namespace, time_sec, NULL) > 0) {
                        if (ret_principal) {
                                *ret_principal = strndup(i->principals, strcspn(i->principals, ","));
                                if (!*ret_principal)
                                        return -ENOMEM;
                        }
                        return 1;
                }
        return entry_check(s, e, fpr, sig_namespace, time_sec, reterr);
}

int sshsig_verify(const struct sshsig_signers *s, const char *sig_namespace, const void *signature,
                  size_t signature_size, const void *data, size_t data_size, uint64_t time_sec,
                  char **ret_principal, char **reterr_message) {
        int r;

        assert(s);
        assert(sig_namespace);
        assert(signature || signature_size == 0);
        assert(data || data_size == 0);

        r = verify(s, sig_namespace, signature, signature_size, data, data_size, time_sec, ret_principal,
                   reterr_message);
        ERR_clear_error(); /* what OpenSSL queued for a refused signature */
        return r;
}
