/* libFuzzer target: the escaping policy (escape.h) and the id check (manifest_check_id()) on
 * arbitrary bytes. Checks that whatever goes in:
 *   - the output is valid UTF-8 and holds no control, format, separator, White_Space other than
 *     U+0020, combining mark or invalid byte; with ESCAPE_EDGE_SPACE, no space at either end;
 *   - the output unescapes back to exactly the input (or its first line): nothing is lost and no
 *     two inputs print alike;
 *   - a cut keeps the characters wholly within the first 'max' bytes, never part of one, and says
 *     so with "...";
 *   - escape_to_buffer() gives a prefix of the whole that fits, cut between escapes, and
 *     escape_fputs() the whole;
 *   - an id manifest_check_id() accepts is valid UTF-8 without those characters and without white
 *     space at either end, and one it refuses is refused for a character of the class it names. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "manifest.h"
#include "utf8.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool shows(uint32_t cp) {
        return !utf8_is_control(cp) && !utf8_is_format(cp) && !utf8_is_line_separator(cp) &&
               !(utf8_is_white_space(cp) && cp != ' ') && !utf8_is_combining_mark(cp);
}

/* Every character of the output shows. */
static void check_output(const char *out, enum escape_flags flags) {
        size_t n = strlen(out);

        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t k = utf8_decode_n(out + i, n - i, &cp);

                assert(k > 0);
                assert(shows(cp));
                i += k;
        }
        if (flags & ESCAPE_EDGE_SPACE)
                assert(n == 0 || (out[0] != ' ' && out[n - 1] != ' '));
}

static unsigned hex_value(const char *s, size_t digits) {
        unsigned v = 0;

        for (size_t i = 0; i < digits; i++) {
                char c = s[i];

                assert((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
                v = v * 16 + (unsigned) (c <= '9' ? c - '0' : c - 'a' + 10);
        }
        return v;
}

/* Undoes the escaping of the 'n' bytes at s into ret (room for n bytes); returns the length. */
static size_t unescape(const char *s, size_t n, char *ret) {
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                uint32_t cp;

                if (s[i] != '\\') {
                        ret[o++] = s[i++];
                        continue;
                }
                assert(i + 1 < n);
                switch (s[i + 1]) {
                case '\\':
                        ret[o++] = '\\';
                        i += 2;
                        break;
                case 'n':
                        ret[o++] = '\n';
                        i += 2;
                        break;
                case 'r':
                        ret[o++] = '\r';
                        i += 2;
                        break;
                case 't':
                        ret[o++] = '\t';
                        i += 2;
                        break;
                case 'x':
                        assert(i + 4 <= n);
                        ret[o++] = (char) hex_value(s + i + 2, 2);
                        i += 4;
                        break;
                case 'u':
                case 'U': {
                        size_t digits = s[i + 1] == 'u' ? 4 : 8;

                        assert(i + 2 + digits <= n);
                        cp = hex_value(s + i + 2, digits);
                        assert(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
                        assert(digits == 4 ? cp <= 0xffff : cp > 0xffff);
                        assert(!shows(cp)); /* only what does not show is escaped so */
                        if (cp < 0x800) {
                                ret[o++] = (char) (0xc0 | cp >> 6);
                                ret[o++] = (char) (0x80 | (cp & 0x3f));
                        } else if (cp < 0x10000) {
                                ret[o++] = (char) (0xe0 | cp >> 12);
                                ret[o++] = (char) (0x80 | (cp >> 6 & 0x3f));
                                ret[o++] = (char) (0x80 | (cp & 0x3f));
                        } else {
                                ret[o++] = (char) (0xf0 | cp >> 18);
                                ret[o++] = (char) (0x80 | (cp >> 12 & 0x3f));
                                ret[o++] = (char) (0x80 | (cp >> 6 & 0x3f));
                                ret[o++] = (char) (0x80 | (cp & 0x3f));
                        }
                        i += 2 + digits;
                        break;
                }
                default:
                        assert(!"an unknown escape");
                }
        }
        return o;
}

/* The output unescapes to the 'n' bytes at want. */
static void check_round_trip(const char *out, const char *want, size_t n) {
        size_t len = strlen(out);
        char *back = malloc(len + 1);
        size_t k;

        assert(back);
        k = unescape(out, len, back);
        assert(k == n && memcmp(back, want, n) == 0);
        free(back);
}

static size_t unit_length(const char *s, size_t n) {
        uint32_t cp;
        size_t k = utf8_decode_n(s, n, &cp);

        return k > 0 ? k : 1;
}

static void check_text(const char *s, size_t size) {
        static const enum escape_flags all_flags[] = {
                0,
                ESCAPE_EDGE_SPACE,
                ESCAPE_FIRST_LINE,
                ESCAPE_EDGE_SPACE | ESCAPE_FIRST_LINE,
        };

        for (size_t f = 0; f < ELEMENTSOF(all_flags); f++) {
                char *out = escape_text(s, size, SIZE_MAX, all_flags[f]);
                size_t line = size;

                assert(out);
                check_output(out, all_flags[f]);
                if (all_flags[f] & ESCAPE_FIRST_LINE)
                        for (size_t i = 0; i < size; i++)
                                if (s[i] == '\n' || s[i] == '\r') {
                                        line = i;
                                        break;
                                }
                check_round_trip(out, s, line);
                free(out);
        }
}

static void check_cut(const char *s, size_t size, size_t max) {
        const size_t mark = strlen(ESCAPE_CUT_MARK);
        char *out = escape_text(s, size, max, 0);
        size_t len;

        assert(out);
        check_output(out, 0);
        len = strlen(out);
        if (size <= max)
                check_round_trip(out, s, size);
        else {
                /* Cut: the characters wholly within the first 'max' bytes, then the mark. */
                char *back;
                size_t k;

                assert(len >= mark && memcmp(out + len - mark, ESCAPE_CUT_MARK, mark) == 0);
                back = malloc(len + 1);
                assert(back);
                k = unescape(out, len - mark, back);
                assert(k <= max && memcmp(back, s, k) == 0);
                /* k is where a character begins, and that character does not fit. */
                for (size_t i = 0; i < k; i += unit_length(s + i, size - i))
                        assert(i + unit_length(s + i, size - i) <= k);
                assert(k + unit_length(s + k, size - k) > max);
                free(back);
        }
        free(out);
}

static void check_writers(const char *s, size_t size, size_t buffer_size) {
        const size_t mark = strlen(ESCAPE_CUT_MARK);
        char *copy = strndup(s, size), *whole, *written = NULL, *buf;
        size_t written_size = 0, n;
        FILE *f;

        assert(copy);
        whole = escape_string(copy, ESCAPE_EDGE_SPACE);
        assert(whole);

        f = open_memstream(&written, &written_size);
        assert(f);
        assert(escape_fputs(f, copy, ESCAPE_EDGE_SPACE) == 0);
        assert(fclose(f) == 0);
        assert(streq(written, whole));

        buf = malloc(buffer_size);
        assert(buf);
        n = escape_to_buffer(buf, buffer_size, copy, ESCAPE_EDGE_SPACE);
        assert(n == strlen(buf) && n < buffer_size);
        if (strlen(whole) < buffer_size)
                assert(streq(buf, whole));
        else {
                /* A prefix of the whole, cut between escapes and characters, and the mark. */
                assert(n >= mark && memcmp(buf + n - mark, ESCAPE_CUT_MARK, mark) == 0);
                assert(memcmp(buf, whole, n - mark) == 0);
                check_output(buf, 0);
                {
                        char *back = malloc(n + 1);
                        size_t k;

                        assert(back);
                        k = unescape(buf, n - mark, back); /* a split escape would fail here */
                        assert(k <= strlen(copy) && memcmp(back, copy, k) == 0);
                        free(back);
                }
        }
        free(buf);
        free(written);
        free(whole);
        free(copy);
}

static void check_id(const char *s, size_t size) {
        struct manifest_id_error e = {};
        uint32_t cp;
        size_t k;

        if (manifest_check_id(s, size, &e) == 0) {
                assert(utf8_is_valid_n(s, size));
                for (size_t i = 0; i < size; i += k) {
                        k = utf8_decode_n(s + i, size - i, &cp);
                        assert(k > 0);
                        assert(!utf8_is_control(cp) && !utf8_is_format(cp) && !utf8_is_line_separator(cp));
                        assert(!utf8_is_white_space(cp) || cp == ' ');
                }
                assert(size == 0 || (s[0] != ' ' && s[size - 1] != ' '));
                return;
        }
        assert(e.offset < size && e.length >= 1 && e.length <= 4 && e.offset + e.length <= size);
        k = utf8_decode_n(s + e.offset, size - e.offset, &cp);
        switch (e.problem) {
        case MANIFEST_ID_INVALID_UTF8:
                assert(k == 0 && e.length == 1 && e.cp == (unsigned char) s[e.offset]);
                break;
        case MANIFEST_ID_CONTROL:
                assert(k == e.length && cp == e.cp && utf8_is_control(cp));
                break;
        case MANIFEST_ID_FORMAT:
                assert(k == e.length && cp == e.cp && utf8_is_format(cp));
                break;
        case MANIFEST_ID_SEPARATOR:
                assert(k == e.length && cp == e.cp && utf8_is_line_separator(cp));
                break;
        case MANIFEST_ID_WHITE_SPACE:
                assert(k == e.length && cp == e.cp && utf8_is_white_space(cp));
                assert(cp != ' ' || e.offset == 0 || e.offset + 1 == size);
                break;
        default:
                assert(!"an unknown problem");
        }
        /* Nothing before it is refused, but maybe a space that the cut made trailing. */
        if (e.offset > 0 && s[e.offset - 1] != ' ')
                assert(manifest_check_id(s, e.offset, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data;

        /* Long inputs teach nothing more, and cost time: the checks are quadratic at worst. */
        if (size > 4096)
                return 0;
        check_text(s, size);
        /* A cut and a buffer size from the input's first byte, so that the fuzzer explores
         * them. */
        check_cut(s, size, size > 0 ? (size_t) data[0] % (size + 1) : 0);
        check_writers(s, size, 4 + (size > 0 ? data[size - 1] % 64 : 0));
        check_id(s, size);
        return 0;
}
