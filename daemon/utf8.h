#pragma once

/* UTF-8 as RFC 3629 defines it: decoding one sequence at a time. libc only. */

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s, which holds at least one byte and ends in a NUL somewhere
 * (Unicode's table 3-7 of well-formed sequences: no overlong forms, no surrogates, nothing above
 * U+10FFFF). Returns its length (1 to 4) and sets *ret_cp, or 0 when s does not begin a valid
 * sequence. NUL is never a continuation byte, so this never reads past the terminating NUL. */
size_t utf8_decode(const char *s, uint32_t *ret_cp);
