#pragma once

/* The one policy for text printed for people: the log, the text plan, parse error messages.
 * Whatever a string holds, what is printed stays on its line, cannot drive the terminal, and
 * shows every character that a reader could not otherwise see or tell apart:
 *
 *   - printable characters, valid UTF-8 included, pass as they are;
 *   - a backslash becomes "\\", so that every escape below is unambiguous;
 *   - LF, CR and TAB become "\n", "\r" and "\t"; the other C0 controls and DEL become "\xHH";
 *   - each byte that does not begin a valid UTF-8 sequence becomes "\xHH";
 *   - C1 controls, format characters (General_Category Cf: zero width spaces and joiners,
 *     bidirectional controls, the byte order mark, ...), every White_Space character but U+0020
 *     (no-break and other spaces, the line and paragraph separators) and combining diacritical
 *     marks become "\uHHHH", or "\UHHHHHHHH" above U+FFFF;
 *   - with ESCAPE_EDGE_SPACE (for ids), the spaces (U+0020) that begin or end the text become
 *     "\x20", so that 'team-a-hr ' prints as team-a-hr\x20.
 *
 * Hex digits are lowercase. The output is always valid UTF-8. libc only. */

#include <stddef.h>
#include <stdio.h>

enum escape_flags {
        ESCAPE_EDGE_SPACE = 1 << 0, /* a leading or trailing U+0020 as "\x20" */
        ESCAPE_FIRST_LINE = 1 << 1, /* stop before the first LF or CR, with no mark */
};

/* The longest escape of one character, "\UHHHHHHHH". */
#define ESCAPE_MAX_SEQUENCE 10U
/* What a cut text ends with. */
#define ESCAPE_CUT_MARK "..."

/* Escapes the 'n' bytes at s (no NUL needed; a NUL byte is a control, "\x00") into a new string,
 * owned by the caller. With 'max' below what is left to print, only the characters that lie
 * wholly within the first 'max' input bytes are kept, and "..." is appended: a cut never splits
 * a UTF-8 sequence. Pass SIZE_MAX for no cut. With ESCAPE_FIRST_LINE, the text stops before its
 * first LF or CR, unmarked; ESCAPE_EDGE_SPACE then applies to that line, and a text cut by 'max'
 * gets its trailing spaces escaped too, before the "...". Returns NULL when out of memory. */
char *escape_text(const char *s, size_t n, size_t max, enum escape_flags flags);

/* As escape_text() with no cut, for a NUL-terminated string. */
char *escape_string(const char *s, enum escape_flags flags);

/* Writes the NUL-terminated string s to f, escaped, the bytes between escapes in one go. Returns
 * 0, or a negative errno when writing failed (f's error flag is then set too). */
int escape_fputs(FILE *f, const char *s, enum escape_flags flags);

/* Writes the NUL-terminated string s, escaped, into the 'size' bytes at buf (size >= 4), always
 * NUL-terminated. When the whole does not fit, as many whole escapes and characters as leave room
 * for "..." are written, then "...": neither an escape nor a UTF-8 sequence is ever split.
 * Returns the length written (without the NUL). For a fixed buffer on the stack, as in log.c. */
size_t escape_to_buffer(char *buf, size_t size, const char *s, enum escape_flags flags);
