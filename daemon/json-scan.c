#include <assert.h>
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-scan.h"
#include "util.h"

/* Integers a double holds exactly are below 2^53. */
#define DOUBLE_INT_LIMIT (UINT64_C(1) << 53)
/* Numbers up to this long are copied out for strtod() on the stack; longer ones (which
 * Elasticsearch does not send for a count) on the heap. */
#define NUMBER_TEXT_STACK_MAX 63

enum {
        STATE_VALUE,        /* a value comes next: at the start, after ':' */
        STATE_ARRAY_FIRST,  /* after '[': a value or ']' */
        STATE_OBJECT_FIRST, /* after '{': a member's name or '}' */
        STATE_AFTER_VALUE,  /* ',' or the end of the open container, or of the body */
        STATE_DONE,         /* the value is complete and nothing but whitespace followed */
};

/* The bytes a string holds as they are: printable ASCII but the quote and the backslash. Control
 * characters, the quote, the backslash and the bytes of UTF-8 sequences take the slow path. */
static const uint8_t plain_string_byte[256] = {
        [0x20 ... 0x21] = 1,
        [0x23 ... 0x5b] = 1,
        [0x5d ... 0x7f] = 1,
};

/* The bytes of x (8 bytes of a string, loaded in machine order) that are not plain_string_byte
 * ones, flagged by their high bit: a quote, a backslash, below 0x20 or from 0x80. Exact up to
 * the lowest flagged byte, which is the first special one (above it, a borrow may flag more):
 * (v - ONES) & ~v flags the bytes that are zero in v (the quote, the backslash, XORed away);
 * x - 0x20 * ONES borrows, and sets the high bit, only in a byte below 0x20 and above one that
 * is; x's own high bits are the bytes from 0x80. */
static uint64_t special_bytes(uint64_t x) {
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');

        return (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | (x - ones * 0x20) | x) &
               highs;
}

static int scan_fail(struct json_scan *s, enum json_scan_error e, const char *at) {
        s->error = e;
        s->error_offset = (size_t) (at - s->body);
        return -EBADMSG;
}

/* A token that has no text (a literal, a bracket, the end), at s->p. */
static void bare_token(const struct json_scan *s, enum json_scan_token_type type,
                       struct json_scan_token *t) {
        *t = (struct json_scan_token){
                .type = type,
                .offset = (size_t) (s->p - s->body),
        };
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* RFC 8259's whitespace; nothing else. */
static const char *skip_whitespace(const char *p, const char *end) {
        while (p < end && (unsigned char) *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
                p++;
        return p;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Reads the 4 hex digits after "\u" at p (p[0] is the backslash). */
static int scan_hex4(struct json_scan *s, const char *p, unsigned *ret) {
        unsigned v = 0;

        for (size_t i = 2; i < 6; i++) {
                int h;

                if ((size_t) (s->end - p) <= i)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
                h = hex_value(p[i]);
                if (h < 0)
                        return scan_fail(s, JSON_SCAN_BAD_ESCAPE, p);
                v = v << 4 | (unsigned) h;
        }
        *ret = v;
        return 0;
}

/* Checks the escape at *pp (a backslash inside a string) and moves *pp past it. */
static int scan_escape(struct json_scan *s, const char **pp) {
        const char *p = *pp;
        unsigned code, low;
        int r;

        if (s->end - p < 2)
                return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);

        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
                *pp = p + 2;
                return 0;
        case 'u':
                break;
        default:
                return scan_fail(s, JSON_SCAN_BAD_ESCAPE, p);
        }

        r = scan_hex4(s, p, &code);
        if (r < 0)
                return r;
        /* A C string cannot hold U+0000: cJSON would cut the string there, silently turning id
         * "a\u0000b" into "a". */
        if (code == 0)
                return scan_fail(s, JSON_SCAN_NUL, p);
        if (code >= 0xDC00 && code <= 0xDFFF)
                return scan_fail(s, JSON_SCAN_BAD_SURROGATE, p);
        if (code < 0xD800 || code > 0xDBFF) {
                *pp = p + 6;
                return 0;
        }

        /* A high surrogate: its low half must follow at once. */
        for (size_t i = 6; i < 8; i++) {
                if ((size_t) (s->end - p) <= i)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
                if (p[i] != "\\u"[i - 6])
                        return scan_fail(s, JSON_SCAN_BAD_SURROGATE, p);
        }
        r = scan_hex4(s, p + 6, &low);
        if (r < 0)
                return r;
        if (low < 0xDC00 || low > 0xDFFF)
                return scan_fail(s, JSON_SCAN_BAD_SURROGATE, p);
        *pp = p + 12;
        return 0;
}

/* Checks the UTF-8 sequence at *pp (its first byte is 0x80 or above) and moves *pp past it.
 * RFC 3629's table: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int scan_utf8(struct json_scan *s, const char **pp) {
        const unsigned char *p = (const unsigned char *) *pp;
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n;

        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                n = 2;
        else if (p[0] == 0xE0) {
                n = 3;
                lo = 0xA0;
        } else if ((p[0] >= 0xE1 && p[0] <= 0xEC) || p[0] == 0xEE || p[0] == 0xEF)
                n = 3;
        else if (p[0] == 0xED) {
                n = 3;
                hi = 0x9F;
        } else if (p[0] == 0xF0) {
                n = 4;
                lo = 0x90;
        } else if (p[0] >= 0xF1 && p[0] <= 0xF3)
                n = 4;
        else if (p[0] == 0xF4) {
                n = 4;
                hi = 0x8F;
        } else
                return scan_fail(s, JSON_SCAN_BAD_UTF8, *pp);

        for (size_t i = 1; i < n; i++) {
                if ((size_t) (s->end - *pp) <= i)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
                if (i == 1 ? p[i] < lo || p[i] > hi : (p[i] & 0xC0) != 0x80)
                        return scan_fail(s, JSON_SCAN_BAD_UTF8, *pp);
        }
        *pp += n;
        return 0;
}

/* A string at s->p (its opening quote). */
static int scan_string(struct json_scan *s, enum json_scan_token_type type, struct json_scan_token *t) {
        const char *p = s->p + 1, *end = s->end;
        bool escaped = false;
        int r;

        for (;;) {
                unsigned char c;

                /* 8 bytes a step while none is special; on a little-endian machine the lowest
                 * flag is the first special byte, elsewhere the byte loop finds it. */
                while (end - p >= 8) {
                        uint64_t x, m;

                        memcpy(&x, p, sizeof(x));
                        m = special_bytes(x);
                        if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                p += __builtin_ctzll(m) / 8;
#endif
                                break;
                        }
                        p += 8;
                }
                while (p < end && plain_string_byte[(unsigned char) *p])
                        p++;
                if (p >= end)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, end);

                c = (unsigned char) *p;
                if (c == '"')
                        break;
                if (c == '\\') {
                        r = scan_escape(s, &p);
                        if (r < 0)
                                return r;
                        escaped = true;
                } else if (c < 0x20)
                        /* RFC 8259 wants them escaped. cJSON takes them as they are; Elasticsearch
                         * always escapes them. */
                        return scan_fail(s, JSON_SCAN_CONTROL, p);
                else {
                        r = scan_utf8(s, &p);
                        if (r < 0)
                                return r;
                }
        }

        *t = (struct json_scan_token){
                .type = type,
                .start = s->p + 1,
                .size = (size_t) (p - (s->p + 1)),
                .escaped = escaped,
                .offset = (size_t) (s->p - s->body),
        };
        s->p = p + 1;
        return 0;
}

/* One digit or more at *pp, inside a number: moves *pp past them. Inline: it runs up to three
 * times for each number, and gcc -O2 leaves it a call otherwise. */
static inline int scan_digits(struct json_scan *s, const char **pp) {
        const char *p = *pp;

        if (p >= s->end)
                return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
        if (!is_digit(*p))
                return scan_fail(s, JSON_SCAN_BAD_NUMBER, p);
        while (p < s->end && is_digit(*p))
                p++;
        *pp = p;
        return 0;
}

/* A number at s->p, in RFC 8259's grammar: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int scan_number(struct json_scan *s, struct json_scan_token *t) {
        const char *p = s->p, *end = s->end;
        int r;

        if (*p == '-')
                p++;
        if (p < end && *p == '0')
                p++;
        else {
                r = scan_digits(s, &p);
                if (r < 0)
                        return r;
        }

        if (p < end && *p == '.') {
                p++;
                r = scan_digits(s, &p);
                if (r < 0)
                        return r;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                r = scan_digits(s, &p);
                if (r < 0)
                        return r;
        }
        /* "01", "1.2.3", "1e5e": what follows a number cannot go on like one. */
        if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
                return scan_fail(s, JSON_SCAN_BAD_NUMBER, p);

        *t = (struct json_scan_token){
                .type = JSON_SCAN_NUMBER,
                .start = s->p,
                .size = (size_t) (p - s->p),
                .offset = (size_t) (s->p - s->body),
        };
        s->p = p;
        return 0;
}

static int scan_literal(struct json_scan *s, const char *word, enum json_scan_token_type type,
                        struct json_scan_token *t) {
        size_t n = strlen(word);

        for (size_t i = 0; i < n; i++) {
                if ((size_t) (s->end - s->p) <= i)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
                if (s->p[i] != word[i])
                        return scan_fail(s, JSON_SCAN_UNEXPECTED, s->p + i);
        }
        bare_token(s, type, t);
        s->p += n;
        return 0;
}

static bool in_object(const struct json_scan *s) {
        unsigned level = s->depth - 1;

        return s->in_object[level / 8] & (1u << (level % 8));
}

static int open_container(struct json_scan *s, bool object, struct json_scan_token *t) {
        unsigned level = s->depth;

        if (level >= JSON_SCAN_DEPTH_MAX)
                return scan_fail(s, JSON_SCAN_TOO_DEEP, s->p);
        if (object)
                s->in_object[level / 8] |= (uint8_t) (1u << (level % 8));
        else
                s->in_object[level / 8] &= (uint8_t) ~(1u << (level % 8));
        s->depth++;

        bare_token(s, object ? JSON_SCAN_OBJECT_BEGIN : JSON_SCAN_ARRAY_BEGIN, t);
        s->p++;
        s->state = object ? STATE_OBJECT_FIRST : STATE_ARRAY_FIRST;
        return 0;
}

static int close_container(struct json_scan *s, struct json_scan_token *t) {
        bare_token(s, in_object(s) ? JSON_SCAN_OBJECT_END : JSON_SCAN_ARRAY_END, t);
        s->depth--;
        s->p++;
        s->state = STATE_AFTER_VALUE;
        return 0;
}

/* A value at s->p (whitespace skipped). */
static int read_value(struct json_scan *s, struct json_scan_token *t) {
        int r;

        if (s->p >= s->end)
                return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);

        switch (*s->p) {
        case '{':
                return open_container(s, true, t);
        case '[':
                return open_container(s, false, t);
        case '"':
                r = scan_string(s, JSON_SCAN_STRING, t);
                break;
        case '-':
        case '0' ... '9':
                r = scan_number(s, t);
                break;
        case 't':
                r = scan_literal(s, "true", JSON_SCAN_TRUE, t);
                break;
        case 'f':
                r = scan_literal(s, "false", JSON_SCAN_FALSE, t);
                break;
        case 'n':
                r = scan_literal(s, "null", JSON_SCAN_NULL, t);
                break;
        default:
                return scan_fail(s, JSON_SCAN_UNEXPECTED, s->p);
        }
        if (r < 0)
                return r;
        s->state = STATE_AFTER_VALUE;
        return 0;
}

/* A member's name and its ':' at s->p (whitespace skipped). */
static int read_key(struct json_scan *s, struct json_scan_token *t) {
        int r;

        if (s->p >= s->end)
                return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
        if (*s->p != '"')
                return scan_fail(s, JSON_SCAN_UNEXPECTED, s->p);
        r = scan_string(s, JSON_SCAN_KEY, t);
        if (r < 0)
                return r;

        s->p = skip_whitespace(s->p, s->end);
        if (s->p >= s->end)
                return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
        if (*s->p != ':')
                return scan_fail(s, JSON_SCAN_UNEXPECTED, s->p);
        s->p++;
        s->state = STATE_VALUE;
        return 0;
}

int json_scan_init(struct json_scan *s, const char *body, size_t size) {
        const char *nul;

        assert(s);

        *s = (struct json_scan){
                .state = STATE_VALUE,
        };
        if (!body || size == 0) {
                s->error = JSON_SCAN_EMPTY;
                return -EBADMSG;
        }
        s->body = s->p = body;
        s->end = body + size;

        /* Once, up front, at memchr()'s speed: the scan below then never meets a NUL byte. */
        nul = memchr(body, '\0', size);
        if (nul)
                return scan_fail(s, JSON_SCAN_NUL, nul);
        return 0;
}

int json_scan_next(struct json_scan *s, struct json_scan_token *ret) {
        assert(s);
        assert(ret);

        if (s->error != JSON_SCAN_OK)
                return -EBADMSG;

        s->p = skip_whitespace(s->p, s->end);

        switch (s->state) {
        case STATE_VALUE:
                return read_value(s, ret);

        case STATE_ARRAY_FIRST:
                if (s->p < s->end && *s->p == ']')
                        return close_container(s, ret);
                return read_value(s, ret);

        case STATE_OBJECT_FIRST:
                if (s->p < s->end && *s->p == '}')
                        return close_container(s, ret);
                return read_key(s, ret);

        case STATE_AFTER_VALUE:
                if (s->depth == 0) {
                        if (s->p < s->end)
                                return scan_fail(s, JSON_SCAN_TRAILING, s->p);
                        s->state = STATE_DONE;
                        bare_token(s, JSON_SCAN_END, ret);
                        return 0;
                }
                if (s->p >= s->end)
                        return scan_fail(s, JSON_SCAN_TRUNCATED, s->end);
                if (*s->p == ',') {
                        s->p = skip_whitespace(s->p + 1, s->end);
                        return in_object(s) ? read_key(s, ret) : read_value(s, ret);
                }
                if (*s->p == (in_object(s) ? '}' : ']'))
                        return close_container(s, ret);
                return scan_fail(s, JSON_SCAN_UNEXPECTED, s->p);

        case STATE_DONE:
                bare_token(s, JSON_SCAN_END, ret);
                return 0;
        }

        assert(false);
        return -EINVAL;
}

int json_scan_skip(struct json_scan *s, const struct json_scan_token *t) {
        struct json_scan_token x;
        unsigned depth;
        int r;

        assert(s);
        assert(t);

        if (t->type != JSON_SCAN_OBJECT_BEGIN && t->type != JSON_SCAN_ARRAY_BEGIN)
                return 0;
        if (s->error != JSON_SCAN_OK)
                return -EBADMSG;

        assert(s->depth > 0);
        depth = s->depth - 1;
        while (s->depth > depth) {
                r = json_scan_next(s, &x);
                if (r < 0)
                        return r;
        }
        return 0;
}

int json_scan_finish(struct json_scan *s) {
        struct json_scan_token x;
        int r;

        assert(s);

        do {
                r = json_scan_next(s, &x);
                if (r < 0)
                        return r;
        } while (x.type != JSON_SCAN_END);
        return 0;
}

static size_t utf8_encode(unsigned code, char *out) {
        if (code < 0x80) {
                out[0] = (char) code;
                return 1;
        }
        if (code < 0x800) {
                out[0] = (char) (0xC0 | (code >> 6));
                out[1] = (char) (0x80 | (code & 0x3F));
                return 2;
        }
        if (code < 0x10000) {
                out[0] = (char) (0xE0 | (code >> 12));
                out[1] = (char) (0x80 | ((code >> 6) & 0x3F));
                out[2] = (char) (0x80 | (code & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (code >> 18));
        out[1] = (char) (0x80 | ((code >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((code >> 6) & 0x3F));
        out[3] = (char) (0x80 | (code & 0x3F));
        return 4;
}

static unsigned hex4(const char *p) {
        unsigned v = 0;

        for (size_t i = 0; i < 4; i++)
                v = v << 4 | (unsigned) hex_value(p[i]);
        return v;
}

/* Decodes the escape at *pp, which the scan checked, into out (4 bytes at most); moves *pp past
 * it and returns how many bytes it wrote. */
static size_t decode_escape(const char **pp, char *out) {
        const char *p = *pp;
        unsigned code;

        *pp = p + 2;
        switch (p[1]) {
        case 'b':
                out[0] = '\b';
                return 1;
        case 'f':
                out[0] = '\f';
                return 1;
        case 'n':
                out[0] = '\n';
                return 1;
        case 'r':
                out[0] = '\r';
                return 1;
        case 't':
                out[0] = '\t';
                return 1;
        case 'u':
                break;
        default: /* " \ / */
                out[0] = p[1];
                return 1;
        }

        code = hex4(p + 2);
        *pp = p + 6;
        if (code >= 0xD800 && code <= 0xDBFF) {
                code = 0x10000 + (((code & 0x3FF) << 10) | (hex4(p + 8) & 0x3FF));
                *pp = p + 12;
        }
        return utf8_encode(code, out);
}

bool json_scan_string_equal(const struct json_scan_token *t, const char *s) {
        const char *p, *end;
        size_t n, i = 0;

        assert(t);
        assert(t->type == JSON_SCAN_KEY || t->type == JSON_SCAN_STRING);
        assert(s);

        n = strlen(s);
        if (!t->escaped)
                return t->size == n && memcmp(t->start, s, n) == 0;

        p = t->start;
        end = t->start + t->size;
        while (p < end) {
                char buf[4];
                size_t k;

                if (*p != '\\') {
                        if (i >= n || s[i] != *p)
                                return false;
                        i++;
                        p++;
                        continue;
                }
                k = decode_escape(&p, buf);
                if (k > n - i || memcmp(s + i, buf, k) != 0)
                        return false;
                i += k;
        }
        return i == n;
}

int json_scan_string_dup(const struct json_scan_token *t, char **ret) {
        const char *p, *end;
        char *out, *q;

        assert(t);
        assert(t->type == JSON_SCAN_KEY || t->type == JSON_SCAN_STRING);
        assert(ret);

        /* Decoding never grows a string: \uXXXX (6 bytes) gives 3 at most, a surrogate pair (12) 4,
         * the other escapes (2) one. */
        out = malloc(t->size + 1);
        if (!out)
                return -ENOMEM;

        p = t->start;
        end = t->start + t->size;
        q = out;
        while (p < end) {
                const char *bs = t->escaped ? memchr(p, '\\', (size_t) (end - p)) : NULL;
                size_t n = (size_t) ((bs ?: end) - p);

                memcpy(q, p, n);
                q += n;
                p += n;
                if (!bs)
                        break;
                q += decode_escape(&p, q);
        }
        *q = '\0';

        *ret = out;
        return 0;
}

int json_scan_get_uint(const struct json_scan_token *t, uint64_t *ret) {
        char stack_buf[NUMBER_TEXT_STACK_MAX + 1];
        _cleanup_free_ char *heap_buf = NULL;
        const char *p, *digits;
        size_t n, k, i = 0;
        char *buf, *e;
        double d;

        assert(t);
        assert(ret);

        if (t->type != JSON_SCAN_NUMBER)
                return 0;
        p = t->start;
        n = t->size;

        /* Digits only, the common case: exact without strtod(). The scan allowed no leading zero,
         * so 17 digits or more are at least 10^16, past 2^53; "-0" is the only negative number
         * accepted, as strtod() gives -0.0 for it, which compares equal to 0. */
        digits = n > 0 && p[0] == '-' ? p + 1 : p;
        k = (size_t) (p + n - digits);
        while (i < k && is_digit(digits[i]))
                i++;
        if (i == k && k > 0) {
                uint64_t v = 0;

                if (digits != p) {
                        if (k != 1 || digits[0] != '0')
                                return 0;
                        *ret = 0;
                        return 1;
                }
                if (k > 16)
                        return 0;
                for (i = 0; i < k; i++)
                        v = v * 10 + (uint64_t) (digits[i] - '0');
                if (v >= DOUBLE_INT_LIMIT)
                        return 0;
                *ret = v;
                return 1;
        }

        /* A fraction or an exponent: read as cJSON does, with strtod() on a copy (the body need
         * not end in a NUL) that has the locale's decimal point. Rounding decides ("1.00...01" is
         * 1), so every digit counts: nothing is cut. */
        if (n <= NUMBER_TEXT_STACK_MAX)
                buf = stack_buf;
        else {
                buf = heap_buf = malloc(n + 1);
                if (!heap_buf)
                        return -ENOMEM;
        }
        for (i = 0; i < n; i++)
                buf[i] = p[i] == '.' ? localeconv()->decimal_point[0] : p[i];
        buf[n] = '\0';
        d = strtod(buf, &e);
        if (e != buf + n)
                return 0;
        if (!(d >= 0 && d < (double) DOUBLE_INT_LIMIT) || (double) (uint64_t) d != d)
                return 0;
        *ret = (uint64_t) d;
        return 1;
}

const char *json_scan_error_to_string(enum json_scan_error e) {
        static const char *const table[_JSON_SCAN_ERROR_MAX] = {
                [JSON_SCAN_EMPTY] = "no data",
                [JSON_SCAN_NUL] = "a NUL character",
                [JSON_SCAN_TOO_DEEP] = "arrays and objects nested too deep",
                [JSON_SCAN_TRAILING] = "data after the value",
                [JSON_SCAN_TRUNCATED] = "the data ends inside the value",
                [JSON_SCAN_UNEXPECTED] = "an unexpected character",
                [JSON_SCAN_BAD_NUMBER] = "a malformed number",
                [JSON_SCAN_BAD_ESCAPE] = "an invalid escape",
                [JSON_SCAN_BAD_SURROGATE] = "half a surrogate pair",
                [JSON_SCAN_CONTROL] = "a control character in a string",
                [JSON_SCAN_BAD_UTF8] = "invalid UTF-8",
        };

        return e > JSON_SCAN_OK && e < _JSON_SCAN_ERROR_MAX ? table[e] : NULL;
}
