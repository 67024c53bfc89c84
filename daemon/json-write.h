#pragma once

/* Writing JSON for programs and files: strings escaped so that the output is always valid JSON,
 * whatever bytes they hold. libc only. */

#include <stdio.h>

/* Writes s to f as a JSON string, quotes included, or `null` when s is NULL. The quote,
 * backslash, control characters and DEL are escaped; valid UTF-8 is written as is; each byte that
 * does not begin a valid UTF-8 sequence becomes U+FFFD. Errors are left in f's error flag. */
void json_write_string(FILE *f, const char *s);
