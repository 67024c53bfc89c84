#pragma once

/* Pure helpers of the fake cluster: a growable string, JSON string escaping, Elasticsearch's URL
 * decoding, glob matching, Lucene's Levenshtein distance, base64, a seeded PRNG. libc only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable NUL-terminated string. Appends never fail: an allocation failure sets 'oom', later
 * appends are ignored and sb_steal() reports -ENOMEM. Zero-initialise before use. */
struct strbuf {
        char *s;
        size_t len;
        size_t cap;
        bool oom;
};

void sb_append(struct strbuf *sb, const char *data, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a quoted JSON string, escaped as Jackson escapes it. */
void sb_json_string(struct strbuf *sb, const char *s, size_t n);
/* Appends a quoted JSON string, or null when s is NULL. */
void sb_json_cstr(struct strbuf *sb, const char *s);
/* Cuts the string back to its first 'len' bytes (len <= sb->len). */
void sb_truncate(struct strbuf *sb, size_t len);
/* Frees the contents and zeroes the buffer. */
void sb_done(struct strbuf *sb);
/* Hands the string to *ret (the caller frees it) and resets sb; -ENOMEM after an allocation
 * failure (then sb is freed too). */
int sb_steal(struct strbuf *sb, char **ret);

/* Decodes one URL component as Elasticsearch's RestUtils.decodeComponent() does: "%XX" escapes,
 * "%%" as "%", '+' as a space only when plus_as_space (query strings), bytes that are not valid
 * UTF-8 as U+FFFD. On a malformed escape returns -EINVAL and, when reterr_message is set, the
 * message Elasticsearch gives (malloc'd). *ret is malloc'd, the caller frees it. */
int es_url_decode(const char *s, size_t n, bool plus_as_space, char **ret, char **reterr_message);

/* Replaces every byte sequence that is not valid UTF-8 with U+FFFD, as Java's decoder does. */
int utf8_sanitize(const char *s, size_t n, char **ret);

/* Wildcard match: '*' any run of characters (also '/'), '?' exactly one UTF-8 character and,
 * when backslash_escape, '\' makes the next character literal. */
bool glob_match(const char *pattern, const char *s, bool backslash_escape);

/* Lucene's LevenshteinDistance.getDistance(target, other): 1 - edits / max(length), on UTF-16
 * code units as in Java. Used for Elasticsearch's "did you mean" parameter suggestions. */
float lucene_levenshtein(const char *target, const char *other);

/* Standard base64 (RFC 4648) as Java's Base64.getDecoder(): padding optional, anything else
 * outside the alphabet is an error (-EINVAL). *ret is NUL-terminated and malloc'd. */
int base64_decode(const char *s, size_t n, char **ret, size_t *ret_len);
int base64_encode(const void *data, size_t n, char **ret);

/* splitmix64: a small, seedable, repeatable pseudo-random generator. */
uint64_t prng_next(uint64_t *state);
/* A uniform double in [0, 1). */
double prng_double(uint64_t *state);

/* Compares UTF-8 strings by their bytes, which is code point order (Lucene's BytesRef order). */
int utf8_cmp(const char *a, const char *b);

/* Writes the current UTC time as "2024-05-01T12:34:56.789Z" into buf (at least 32 bytes). */
void iso8601_now(char *buf, size_t size);
