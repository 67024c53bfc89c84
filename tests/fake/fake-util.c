#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-util.h"
#include "util.h"

static bool sb_reserve(struct strbuf *sb, size_t extra) {
        size_t need, cap;
        char *p;

        if (sb->oom)
                return false;
        need = sb->len + extra + 1;
        if (need <= sb->cap)
                return true;
        cap = sb->cap ? sb->cap : 256;
        while (cap < need)
                cap *= 2;
        p = realloc(sb->s, cap);
        if (!p) {
                sb->oom = true;
                return false;
        }
        sb->s = p;
        sb->cap = cap;
        return true;
}

void sb_append(struct strbuf *sb, const char *data, size_t n) {
        if (!sb_reserve(sb, n))
                return;
        memcpy(sb->s + sb->len, data, n);
        sb->len += n;
        sb->s[sb->len] = 0;
}

void sb_puts(struct strbuf *sb, const char *s) {
        sb_append(sb, s, strlen(s));
}

void sb_printf(struct strbuf *sb, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                sb->oom = true;
                return;
        }
        if (!sb_reserve(sb, (size_t) n))
                return;
        va_start(ap, fmt);
        (void) vsnprintf(sb->s + sb->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        sb->len += (size_t) n;
}

void sb_truncate(struct strbuf *sb, size_t len) {
        if (len >= sb->len)
                return;
        sb->len = len;
        if (sb->s)
                sb->s[len] = 0;
}

void sb_json_string(struct strbuf *sb, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;

        sb_append(sb, "\"", 1);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[7];

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                sb_append(sb, s + start, i - start);
                start = i + 1;
                switch (c) {
                case '"':
                        sb_append(sb, "\\\"", 2);
                        break;
                case '\\':
                        sb_append(sb, "\\\\", 2);
                        break;
                case '\b':
                        sb_append(sb, "\\b", 2);
                        break;
                case '\t':
                        sb_append(sb, "\\t", 2);
                        break;
                case '\n':
                        sb_append(sb, "\\n", 2);
                        break;
                case '\f':
                        sb_append(sb, "\\f", 2);
                        break;
                case '\r':
                        sb_append(sb, "\\r", 2);
                        break;
                default:
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 15];
                        sb_append(sb, esc, 6);
                }
        }
        sb_append(sb, s + start, n - start);
        sb_append(sb, "\"", 1);
}

void sb_json_cstr(struct strbuf *sb, const char *s) {
        if (!s)
                sb_puts(sb, "null");
        else
                sb_json_string(sb, s, strlen(s));
}

void sb_done(struct strbuf *sb) {
        free(sb->s);
        *sb = (struct strbuf){};
}

int sb_steal(struct strbuf *sb, char **ret) {
        if (sb->oom) {
                sb_done(sb);
                return -ENOMEM;
        }
        if (!sb->s) {
                sb->s = strdup("");
                if (!sb->s)
                        return -ENOMEM;
        }
        *ret = sb->s;
        *sb = (struct strbuf){};
        return 0;
}

static int hex_nibble(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int es_url_decode(const char *s, size_t n, bool plus_as_space, char **ret, char **reterr_message) {
        _cleanup_free_ char *buf = NULL, *orig = NULL;
        size_t pos = 0;

        buf = malloc(n + 1);
        orig = strndup(s, n);
        if (!buf || !orig)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                int hi, lo;

                if (c == '+') {
                        buf[pos++] = plus_as_space ? ' ' : '+';
                        continue;
                }
                if (c != '%') {
                        buf[pos++] = c;
                        continue;
                }
                /* The messages are those of Elasticsearch's RestUtils. */
                if (i == n - 1) {
                        if (reterr_message)
                                *reterr_message = strdup_printf(
                                        "unterminated escape sequence at end of string: %s", orig);
                        return -EINVAL;
                }
                c = s[++i];
                if (c == '%') {
                        buf[pos++] = '%';
                        continue;
                }
                if (i == n - 1) {
                        if (reterr_message)
                                *reterr_message =
                                        strdup_printf("partial escape sequence at end of string: %s", orig);
                        return -EINVAL;
                }
                hi = hex_nibble(c);
                lo = hex_nibble(s[++i]);
                if (hi < 0 || lo < 0) {
                        if (reterr_message)
                                *reterr_message =
                                        strdup_printf("invalid escape sequence `%%%c%c' at index %zu of: %s",
                                                      s[i - 1], s[i], i - 2, orig);
                        return -EINVAL;
                }
                buf[pos++] = (char) (hi * 16 + lo);
        }
        return utf8_sanitize(buf, pos, ret);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not valid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
        uint32_t cp;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

int utf8_sanitize(const char *s, size_t n, char **ret) {
        struct strbuf sb = {};
        size_t i = 0;

        while (i < n) {
                size_t l = utf8_seq_len((const unsigned char *) s + i, n - i);

                if (l == 0) {
                        sb_append(&sb, "\xef\xbf\xbd", 3);
                        i++;
                } else {
                        sb_append(&sb, s + i, l);
                        i += l;
                }
        }
        return sb_steal(&sb, ret);
}

static size_t utf8_char_len(const char *s) {
        size_t l = utf8_seq_len((const unsigned char *) s, strnlen(s, 4));

        return l ? l : 1;
}

bool glob_match(const char *pattern, const char *s, bool backslash_escape) {
        const char *star_p = NULL, *star_s = NULL;

        /* Iterative matching with one backtracking point (the last '*'): linear in practice. */
        while (*s) {
                if (*pattern == '*') {
                        star_p = ++pattern;
                        star_s = s;
                        continue;
                }
                if (*pattern == '?') {
                        pattern++;
                        s += utf8_char_len(s);
                        continue;
                }
                if (*pattern) {
                        const char *lit = pattern;

                        if (backslash_escape && *lit == '\\' && lit[1])
                                lit++;
                        if (*lit == *s) {
                                pattern = lit + 1;
                                s++;
                                continue;
                        }
                }
                if (!star_p)
                        return false;
                pattern = star_p;
                star_s += utf8_char_len(star_s);
                s = star_s;
        }
        while (*pattern == '*')
                pattern++;
        return *pattern == 0;
}

/* Converts UTF-8 into UTF-16 code units, as a Java String holds them. */
static size_t to_utf16(const char *s, uint16_t **ret) {
        size_t n = strlen(s), k = 0;
        uint16_t *u = calloc(2 * n + 1, sizeof(uint16_t));

        if (!u) {
                *ret = NULL;
                return 0;
        }
        for (size_t i = 0; i < n;) {
                const unsigned char *p = (const unsigned char *) s + i;
                size_t l = utf8_seq_len(p, n - i);
                uint32_t cp;

                if (l == 0) {
                        u[k++] = 0xfffd;
                        i++;
                        continue;
                }
                if (l == 1)
                        cp = p[0];
                else if (l == 2)
                        cp = ((uint32_t) (p[0] & 0x1f) << 6) | (p[1] & 0x3f);
                else if (l == 3)
                        cp = ((uint32_t) (p[0] & 0x0f) << 12) | ((uint32_t) (p[1] & 0x3f) << 6) |
                             (p[2] & 0x3f);
                else
                        cp = ((uint32_t) (p[0] & 0x07) << 18) | ((uint32_t) (p[1] & 0x3f) << 12) |
                             ((uint32_t) (p[2] & 0x3f) << 6) | (p[3] & 0x3f);
                if (cp >= 0x10000) {
                        cp -= 0x10000;
                        u[k++] = (uint16_t) (0xd800 + (cp >> 10));
                        u[k++] = (uint16_t) (0xdc00 + (cp & 0x3ff));
                } else
                        u[k++] = (uint16_t) cp;
                i += l;
        }
        *ret = u;
        return k;
}

float lucene_levenshtein(const char *target, const char *other) {
        _cleanup_free_ uint16_t *sa = NULL, *ta = NULL;
        _cleanup_free_ int *p = NULL, *d = NULL;
        size_t n, m;

        n = to_utf16(target, &sa);
        m = to_utf16(other, &ta);
        if (!sa || !ta)
                return 0;
        if (n == 0 || m == 0)
                return n == m ? 1.0f : 0.0f;
        p = calloc(n + 1, sizeof(int));
        d = calloc(n + 1, sizeof(int));
        if (!p || !d)
                return 0;
        for (size_t i = 0; i <= n; i++)
                p[i] = (int) i;
        for (size_t j = 1; j <= m; j++) {
                uint16_t t_j = ta[j - 1];
                int *swap;

                d[0] = (int) j;
                for (size_t i = 1; i <= n; i++) {
                        int cost = sa[i - 1] == t_j ? 0 : 1;

                        d[i] = MIN(MIN(d[i - 1] + 1, p[i] + 1), p[i - 1] + cost);
                }
                swap = p;
                p = d;
                d = swap;
        }
        return 1.0f - ((float) p[n] / (float) MAX(m, n));
}

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *s, size_t n, char **ret, size_t *ret_len) {
        _cleanup_free_ char *out = NULL;
        uint32_t acc = 0;
        size_t k = 0, bits = 0, pad = 0;

        out = malloc(n / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int v;

                if (s[i] == '=') {
                        pad++;
                        continue;
                }
                if (pad > 0)
                        return -EINVAL; /* data after padding */
                v = b64_value(s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[k++] = (char) ((acc >> bits) & 0xff);
                }
        }
        if (bits >= 6 || pad > 2 || (pad > 0 && (n % 4) != 0))
                return -EINVAL;
        out[k] = 0;
        *ret = TAKE_PTR(out);
        if (ret_len)
                *ret_len = k;
        return 0;
}

int base64_encode(const void *data, size_t n, char **ret) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *d = data;
        char *out;
        size_t k = 0;

        out = malloc((n + 2) / 3 * 4 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) d[i] << 16;

                if (i + 1 < n)
                        v |= (uint32_t) d[i + 1] << 8;
                if (i + 2 < n)
                        v |= d[i + 2];
                out[k++] = alphabet[(v >> 18) & 63];
                out[k++] = alphabet[(v >> 12) & 63];
                out[k++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
                out[k++] = i + 2 < n ? alphabet[v & 63] : '=';
        }
        out[k] = 0;
        *ret = out;
        return 0;
}

uint64_t prng_next(uint64_t *state) {
        uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

double prng_double(uint64_t *state) {
        return (double) (prng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

int utf8_cmp(const char *a, const char *b) {
        return strcmp(a, b); /* glibc's strcmp compares as unsigned char: code point order */
}

void iso8601_now(char *buf, size_t size) {
        struct timespec ts;
        struct tm tm;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        (void) gmtime_r(&ts.tv_sec, &tm);
        (void) snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}
