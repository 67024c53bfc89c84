#pragma once

/* UTF-8 as RFC 3629 defines it: decoding one sequence at a time; and the few Unicode properties
 * of code points that decide what a person can see (Unicode 15.1). libc only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s, which holds at least one byte and ends in a NUL somewhere
 * (Unicode's table 3-7 of well-formed sequences: no overlong forms, no surrogates, nothing above
 * U+10FFFF). Returns its length (1 to 4) and sets *ret_cp, or 0 when s does not begin a valid
 * sequence. NUL is never a continuation byte, so this never reads past the terminating NUL. */
size_t utf8_decode(const char *s, uint32_t *ret_cp);

/* As utf8_decode(), for the 'size' bytes at s (size > 0; no NUL needed, and a NUL byte is U+0000):
 * never reads past s[size - 1], and a sequence cut short by the end is invalid (0). */
size_t utf8_decode_n(const char *s, size_t size, uint32_t *ret_cp);

/* Whether the 'size' bytes at s are all valid UTF-8 (U+0000 included). */
bool utf8_is_valid_n(const char *s, size_t size);

/* General_Category Cc: U+0000..U+001F and U+007F..U+009F (C0, DEL, C1). */
bool utf8_is_control(uint32_t cp);

/* General_Category Cf, the format characters: invisible, yet they change the text (zero width
 * space and joiners, bidirectional marks, embeddings, overrides and isolates, the byte order
 * mark, the soft hyphen, tags, ...). The 170 of Unicode 15.1. */
bool utf8_is_format(uint32_t cp);

/* The White_Space property (PropList.txt): U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
bool utf8_is_white_space(uint32_t cp);

/* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR (General_Category Zl, Zp). */
bool utf8_is_line_separator(uint32_t cp);

/* A code point of the combining diacritical mark blocks, which draw on the character before them:
 * U+0300..U+036F, U+1AB0..U+1AFF, U+1DC0..U+1DFF, U+20D0..U+20FF, U+FE20..U+FE2F. */
bool utf8_is_combining_mark(uint32_t cp);

/* The Unicode name (or, for a control character, its usual alias) of the characters a message is
 * most likely to meet: every White_Space character, the common format characters (zero width
 * ones, bidirectional controls, the byte order mark, the soft hyphen) and a few controls. Returns
 * a static string, or NULL for any other code point. */
const char *utf8_name(uint32_t cp);
