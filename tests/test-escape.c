/* The escaping policy for text printed for people (escape.h), one table row per case, and the
 * Unicode classes it rests on (utf8.h).
 *
 * Each row gives an input (its bytes, NULs included), the flags (edge: ESCAPE_EDGE_SPACE, line:
 * ESCAPE_FIRST_LINE), a cut after 'max' input bytes (none unless .cut is set), and the expected
 * output of escape_text(). Every row without a cut or a NUL is also written by escape_fputs() and
 * escape_to_buffer(), which must give the same text. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "tap.h"
#include "utf8.h"
#include "util.h"

#define IN(s) .in = (s), .n = sizeof(s) - 1

struct row {
        const char *name;
        const char *in;
        size_t n;
        enum escape_flags flags;
        bool cut;
        size_t max;
        const char *want;
};

static const struct row rows[] = {
        /* Printable text passes. */
        { "ascii", IN("team-a-hr"), 0, false, 0, "team-a-hr" },
        { "empty", IN(""), 0, false, 0, "" },
        { "punctuation", IN("a:b/c?d=e&f'g\"h`i~j|k{l}"), 0, false, 0, "a:b/c?d=e&f'g\"h`i~j|k{l}" },
        { "inner spaces", IN("with spaces, and:colons"), 0, false, 0, "with spaces, and:colons" },
        { "edge spaces without the flag", IN(" a "), 0, false, 0, " a " },
        { "utf-8 letters", IN("été日本🙂Ünïcödé-ид-コネクタ"), 0, false, 0,
          "été日本🙂Ünïcödé-ид-コネクタ" },
        { "neighbours of the classes pass", IN("¡®Ͱ‐\xe2\x81\xa5\xef\xbf\xbd\xef\xb8\xb0"), 0, false, 0,
          "¡®Ͱ‐\xe2\x81\xa5\xef\xbf\xbd\xef\xb8\xb0" },

        /* Backslash, so that every escape is unambiguous. */
        { "backslash", IN("a\\b\\x20"), 0, false, 0, "a\\\\b\\\\x20" },

        /* C0 controls and DEL. */
        { "lf cr tab", IN("a\nb\rc\td"), 0, false, 0, "a\\nb\\rc\\td" },
        { "escape sequence", IN("\x1b[31mred\x1b[0m"), 0, false, 0, "\\x1b[31mred\\x1b[0m" },
        { "other c0", IN("\x01\x07\x08\x0b\x0c\x1f"), 0, false, 0, "\\x01\\x07\\x08\\x0b\\x0c\\x1f" },
        { "nul", IN("a\0b"), 0, false, 0, "a\\x00b" },
        { "del", IN("del\x7f"), 0, false, 0, "del\\x7f" },

        /* C1 controls. */
        { "c1", IN("\xc2\x80|\xc2\x85|\xc2\x9b|\xc2\x9f"), 0, false, 0, "\\u0080|\\u0085|\\u009b|\\u009f" },

        /* Format characters (Cf). */
        { "soft hyphen",
          IN("team\xc2\xad"
             "a"),
          0, false, 0, "team\\u00ada" },
        { "zero width",
          IN("a\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d"
             "b"),
          0, false, 0, "a\\u200b\\u200c\\u200db" },
        { "bidi marks", IN("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), 0, false, 0, "\\u200e\\u200f\\u061c" },
        { "bidi embeddings and overrides",
          IN("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae"), 0, false, 0,
          "\\u202a\\u202b\\u202c\\u202d\\u202e" },
        { "bidi isolates", IN("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9"), 0, false, 0,
          "\\u2066\\u2067\\u2068\\u2069" },
        { "word joiner, invisible operators", IN("\xe2\x81\xa0\xe2\x81\xa4\xe2\x81\xaf"), 0, false, 0,
          "\\u2060\\u2064\\u206f" },
        { "byte order mark",
          IN("\xef\xbb\xbf"
             "a"),
          0, false, 0, "\\ufeffa" },
        { "arabic, syriac, mongolian",
          IN("\xd8\x80\xd8\x85\xdb\x9d\xdc\x8f\xe0\xa2\x90\xe0\xa3\xa2\xe1\xa0\x8e"), 0, false, 0,
          "\\u0600\\u0605\\u06dd\\u070f\\u0890\\u08e2\\u180e" },
        { "interlinear annotations", IN("\xef\xbf\xb9\xef\xbf\xbb"), 0, false, 0, "\\ufff9\\ufffb" },
        { "above the bmp", IN("\xf0\x91\x82\xbd\xf0\x91\x83\x8d\xf0\x93\x90\xb0\xf0\x93\x90\xbf"), 0, false,
          0, "\\U000110bd\\U000110cd\\U00013430\\U0001343f" },
        { "shorthand, musical", IN("\xf0\x9b\xb2\xa0\xf0\x9b\xb2\xa3\xf0\x9d\x85\xb3\xf0\x9d\x85\xba"), 0,
          false, 0, "\\U0001bca0\\U0001bca3\\U0001d173\\U0001d17a" },
        { "tags", IN("\xf3\xa0\x80\x81\xf3\xa0\x80\xa0\xf3\xa0\x81\xbf"), 0, false, 0,
          "\\U000e0001\\U000e0020\\U000e007f" },

        /* White_Space other than U+0020, line and paragraph separators included. */
        { "no-break spaces",
          IN("a\xc2\xa0"
             "b\xe2\x80\xaf"
             "c"),
          0, false, 0, "a\\u00a0b\\u202fc" },
        { "typographic spaces",
          IN("\xe2\x80\x80\xe2\x80\x85\xe2\x80\x8a\xe1\x9a\x80\xe2\x81\x9f\xe3\x80\x80"), 0, false, 0,
          "\\u2000\\u2005\\u200a\\u1680\\u205f\\u3000" },
        { "line and paragraph separators", IN("ls\xe2\x80\xa8ps\xe2\x80\xa9"), 0, false, 0,
          "ls\\u2028ps\\u2029" },

        /* Combining diacritical marks. */
        { "nfd", IN("cafe\xcc\x81"), 0, false, 0, "cafe\\u0301" },
        { "combining blocks", IN("\xcc\x80\xcd\xaf\xe1\xaa\xb0\xe1\xab\xbf\xe1\xb7\x80\xe1\xb7\xbf"), 0,
          false, 0, "\\u0300\\u036f\\u1ab0\\u1aff\\u1dc0\\u1dff" },
        { "combining for symbols, half marks", IN("\xe2\x83\x90\xe2\x83\xbf\xef\xb8\xa0\xef\xb8\xaf"), 0,
          false, 0, "\\u20d0\\u20ff\\ufe20\\ufe2f" },

        /* Bytes that do not begin valid UTF-8. */
        { "invalid bytes", IN("bad\xff\xfe\xf5\xc1"), 0, false, 0, "bad\\xff\\xfe\\xf5\\xc1" },
        { "lone continuation",
          IN("\x80"
             "a\xbf"),
          0, false, 0, "\\x80a\\xbf" },
        { "overlong", IN("\xc0\xaf\xe0\x80\xaf"), 0, false, 0, "\\xc0\\xaf\\xe0\\x80\\xaf" },
        { "surrogate", IN("\xed\xa0\x80"), 0, false, 0, "\\xed\\xa0\\x80" },
        { "above U+10FFFF", IN("\xf4\x90\x80\x80"), 0, false, 0, "\\xf4\\x90\\x80\\x80" },
        { "truncated at the end", IN("a\xe2\x80"), 0, false, 0, "a\\xe2\\x80" },
        { "truncated by a nul", IN("\xe2\x80\0"), 0, false, 0, "\\xe2\\x80\\x00" },
        { "truncated then valid",
          IN("\xe2\x80"
             "b\xe2\x80\x8b"),
          0, false, 0, "\\xe2\\x80b\\u200b" },

        /* The edge flag. */
        { "edge: trailing space", IN("team-a-hr "), ESCAPE_EDGE_SPACE, false, 0, "team-a-hr\\x20" },
        { "edge: leading space", IN(" team-a-hr"), ESCAPE_EDGE_SPACE, false, 0, "\\x20team-a-hr" },
        { "edge: runs at both ends, inner ones kept", IN("  a  b  "), ESCAPE_EDGE_SPACE, false, 0,
          "\\x20\\x20a  b\\x20\\x20" },
        { "edge: spaces only", IN("   "), ESCAPE_EDGE_SPACE, false, 0, "\\x20\\x20\\x20" },
        { "edge: one space", IN(" "), ESCAPE_EDGE_SPACE, false, 0, "\\x20" },
        { "edge: nothing to do", IN("a b"), ESCAPE_EDGE_SPACE, false, 0, "a b" },
        { "edge: empty", IN(""), ESCAPE_EDGE_SPACE, false, 0, "" },
        { "edge: other white space as always", IN("\ta\xc2\xa0"), ESCAPE_EDGE_SPACE, false, 0,
          "\\ta\\u00a0" },
        { "edge: a space behind an invisible character", IN("a \xe2\x80\x8b"), ESCAPE_EDGE_SPACE, false, 0,
          "a \\u200b" },

        /* Cuts after max input bytes, never inside a sequence. */
        { "cut: ascii", IN("abcdef"), 0, true, 3, "abc..." },
        { "cut: exactly the length is no cut", IN("abcdef"), 0, true, 6, "abcdef" },
        { "cut: more than the length", IN("abcdef"), 0, true, 100, "abcdef" },
        { "cut: max 0", IN("abc"), 0, true, 0, "..." },
        { "cut: max 0, empty", IN(""), 0, true, 0, "" },
        { "cut: before a sequence that crosses max", IN("ab日本"), 0, true, 4, "ab..." },
        { "cut: after a whole sequence", IN("ab日本"), 0, true, 5, "ab日..." },
        { "cut: a 4-byte sequence", IN("🙂🙂"), 0, true, 7, "🙂..." },
        { "cut: input bytes, not output", IN("\x01\x02\x03"), 0, true, 2, "\\x01\\x02..." },
        { "cut: invalid bytes one at a time", IN("a\xff\xe2\x80"), 0, true, 3, "a\\xff\\xe2..." },
        { "cut: an escaped sequence whole",
          IN("a\xe2\x80\x8b"
             "b"),
          0, true, 4, "a\\u200b..." },
        { "cut: edge spaces before the mark", IN("ab  cd"), ESCAPE_EDGE_SPACE, true, 4, "ab\\x20\\x20..." },

        /* The first line only. */
        { "line: lf", IN("line one\nline two"), ESCAPE_FIRST_LINE, false, 0, "line one" },
        { "line: cr lf", IN("a\r\nb"), ESCAPE_FIRST_LINE, false, 0, "a" },
        { "line: empty first line", IN("\nb"), ESCAPE_FIRST_LINE, false, 0, "" },
        { "line: one line", IN("a\tb"), ESCAPE_FIRST_LINE, false, 0, "a\\tb" },
        { "line: with the edge flag", IN("a \nb"), ESCAPE_FIRST_LINE | ESCAPE_EDGE_SPACE, false, 0,
          "a\\x20" },
        { "line: cut within the line", IN("abcdef\ng"), ESCAPE_FIRST_LINE, true, 3, "abc..." },
        { "line: the line ends at max", IN("abc\ndef"), ESCAPE_FIRST_LINE, true, 3, "abc" },
        { "line: U+2028 is not a line end here",
          IN("a\xe2\x80\xa8"
             "b"),
          ESCAPE_FIRST_LINE, false, 0, "a\\u2028b" },
};

static void test_row(const struct row *r) {
        _cleanup_free_ char *got = NULL, *written = NULL;
        size_t size = 0;

        got = escape_text(r->in, r->n, r->cut ? r->max : SIZE_MAX, r->flags);
        if (!is_str(got, r->want, "escape_text: %s", r->name))
                return;
        if (r->cut || r->flags & ESCAPE_FIRST_LINE || memchr(r->in, '\0', r->n))
                return;

        {
                FILE *f = open_memstream(&written, &size);
                int k;

                if (!f)
                        abort();
                k = escape_fputs(f, r->in, r->flags);
                (void) fclose(f);
                ok(k == 0 && streq(written, r->want), "escape_fputs: %s", r->name);
        }
        {
                char buf[512];
                size_t n = escape_to_buffer(buf, sizeof(buf), r->in, r->flags);

                ok(n == strlen(r->want) && streq(buf, r->want), "escape_to_buffer: %s", r->name);
        }
}

static void test_string(void) {
        _cleanup_free_ char *a = escape_string(" x\n", ESCAPE_EDGE_SPACE);

        is_str(a, "\\x20x\\n", "escape_string: a NUL-terminated string, no cut");
}

static void test_buffer(void) {
        static const struct {
                const char *in;
                size_t size;
                const char *want;
        } cases[] = {
                { "abcdefg", 8, "abcdefg" },  /* 7 bytes fit in 8 with the NUL */
                { "abcdefgh", 8, "abcd..." }, /* one more does not: cut, with room for "..." */
                { "abcdefghij", 8, "abcd..." },
                { "\x01\x02", 8, "\\x01..." }, /* "\x01\x02" needs 8: an escape is never split */
                { "\x01\x02", 9, "\\x01\\x02" },
                { "ab日本", 8, "ab..." }, /* 8 bytes: a sequence is never split either */
                { "ab日本", 9, "ab日本" },
                { "ab\xe2\x80\x8b", 8, "ab..." }, /* "ab\u200b" needs 9 bytes */
                { "ab\xe2\x80\x8b", 9, "ab\\u200b" },
                { "", 4, "" },
                { "abcd", 4, "..." },
                { "abc", 4, "abc" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[64];
                size_t n;

                memset(buf, 'Z', sizeof(buf));
                n = escape_to_buffer(buf, cases[i].size, cases[i].in, 0);
                ok(n == strlen(cases[i].want) && streq(buf, cases[i].want) && buf[cases[i].size] == 'Z',
                   "escape_to_buffer: '%s' in %zu bytes gives '%s' (got '%s')", cases[i].want, cases[i].size,
                   cases[i].want, buf);
        }
}

static void test_write_error(void) {
        FILE *f = fopen("/dev/full", "we");

        if (!f) {
                ok(true, "# SKIP no /dev/full: escape_fputs write error");
                return;
        }
        (void) setvbuf(f, NULL, _IONBF, 0);
        is_int(escape_fputs(f, "a\nb", 0), -ENOSPC, "escape_fputs: a write error is returned as -ENOSPC");
        (void) fclose(f);
}

/* Encodes cp as UTF-8 into buf (room for 5); returns the length. */
static size_t encode(uint32_t cp, char *buf) {
        size_t n;

        if (cp < 0x80) {
                buf[0] = (char) cp;
                n = 1;
        } else if (cp < 0x800) {
                buf[0] = (char) (0xc0 | cp >> 6);
                buf[1] = (char) (0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                buf[0] = (char) (0xe0 | cp >> 12);
                buf[1] = (char) (0x80 | (cp >> 6 & 0x3f));
                buf[2] = (char) (0x80 | (cp & 0x3f));
                n = 3;
        } else {
                buf[0] = (char) (0xf0 | cp >> 18);
                buf[1] = (char) (0x80 | (cp >> 12 & 0x3f));
                buf[2] = (char) (0x80 | (cp >> 6 & 0x3f));
                buf[3] = (char) (0x80 | (cp & 0x3f));
                n = 4;
        }
        buf[n] = '\0';
        return n;
}

/* The classes, counted over every code point, against the counts of the Unicode 15.1 data files;
 * then every code point through the escaper: each one of a class becomes "\uHHHH" (or
 * "\UHHHHHHHH"), each other one passes as it is (ASCII aside). */
static void test_classes(void) {
        size_t format = 0, white = 0, control = 0, combining = 0, separators = 0, named = 0, decoded = 0;
        bool named_ok = true, escapes_ok = true;

        for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
                char buf[5], out[16];
                bool hidden;
                uint32_t back;
                size_t n;

                format += utf8_is_format(cp);
                white += utf8_is_white_space(cp);
                control += utf8_is_control(cp);
                combining += utf8_is_combining_mark(cp);
                separators += utf8_is_line_separator(cp);
                if (utf8_name(cp)) {
                        named++;
                        /* Every name is of a character that some class escapes or of SPACE. */
                        if (!(utf8_is_format(cp) || utf8_is_white_space(cp) || utf8_is_control(cp)))
                                named_ok = false;
                }
                if (cp < 0x80 || (cp >= 0xd800 && cp <= 0xdfff))
                        continue;
                n = encode(cp, buf);
                if (utf8_decode_n(buf, n, &back) == n && back == cp)
                        decoded++;
                (void) escape_to_buffer(out, sizeof(out), buf, 0);
                hidden = utf8_is_format(cp) || utf8_is_white_space(cp) || utf8_is_control(cp) ||
                         utf8_is_combining_mark(cp);
                if (hidden) {
                        char want[16];

                        (void) snprintf(want, sizeof(want), cp > 0xffff ? "\\U%08x" : "\\u%04x",
                                        (unsigned) cp);
                        if (!streq(out, want))
                                escapes_ok = false;
                } else if (!streq(out, buf))
                        escapes_ok = false;
        }
        is_int(format, 170, "utf8_is_format: the 170 Cf of Unicode 15.1");
        is_int(white, 25, "utf8_is_white_space: the 25 White_Space of Unicode 15.1");
        is_int(control, 65, "utf8_is_control: the 65 Cc");
        is_int(combining, 112 + 80 + 64 + 48 + 16, "utf8_is_combining_mark: the five blocks");
        is_int(separators, 2, "utf8_is_line_separator: U+2028 and U+2029");
        ok(named_ok && named > 40, "utf8_name: %zu names, each of an escaped character or SPACE", named);
        is_int(decoded, 0x110000 - 0x80 - 0x800, "utf8_decode_n: every scalar value round-trips");
        ok(escapes_ok, "every code point: escaped exactly when in a class, else passed as is");

        ok(utf8_is_format(0x200b) && utf8_is_format(0xfeff) && utf8_is_format(0xad) &&
                   utf8_is_format(0xe0001) && !utf8_is_format(0x2065) && !utf8_is_format(0x13440) &&
                   !utf8_is_format(0x20),
           "utf8_is_format: members and neighbours");
        ok(utf8_is_white_space(0x20) && utf8_is_white_space(0x85) && utf8_is_white_space(0x3000) &&
                   !utf8_is_white_space(0x200b) && !utf8_is_white_space(0x180e) &&
                   !utf8_is_white_space(0xfeff),
           "utf8_is_white_space: zero width space, U+180E and the BOM are not White_Space");
        is_str(utf8_name(0x20), "SPACE", "utf8_name: SPACE");
        is_str(utf8_name(0x200b), "ZERO WIDTH SPACE", "utf8_name: ZERO WIDTH SPACE");
        is_str(utf8_name(0xfeff), "ZERO WIDTH NO-BREAK SPACE", "utf8_name: the byte order mark");
        is_str(utf8_name(0x9), "CHARACTER TABULATION", "utf8_name: a control's alias");
        ok(!utf8_name('a') && !utf8_name(0x10ffff), "utf8_name: NULL for others");
}

static void test_decode_bounds(void) {
        uint32_t cp = 0;

        is_int(utf8_decode_n("\xe2\x80\x8b", 3, &cp), 3, "utf8_decode_n: a whole sequence");
        is_int(cp, 0x200b, "utf8_decode_n: its code point");
        is_int(utf8_decode_n("\xe2\x80\x8b", 2, &cp), 0, "utf8_decode_n: a sequence past 'size' is invalid");
        is_int(utf8_decode_n("\0", 1, &cp), 1, "utf8_decode_n: NUL is U+0000");
        is_int(utf8_decode("\xe2\x80", &cp), 0, "utf8_decode: stops at the NUL");
        ok(utf8_is_valid_n("a\0é", 4) && !utf8_is_valid_n("a\xe9", 2) && utf8_is_valid_n("", 0),
           "utf8_is_valid_n");
}

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                test_row(rows + i);
        test_string();
        test_buffer();
        test_write_error();
        test_classes();
        test_decode_bounds();
        return done();
}
