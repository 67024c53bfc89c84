/* json-scan.c: which bodies are JSON (RFC 8259, valid UTF-8, no NUL, at most 1000 levels deep)
 * and where the first fault is; the tokens of a body, skipping values, and reading back what a
 * caller keeps: strings with every escape decoded, member names compared through escapes, counts
 * as cJSON's doubles hold them. What list pages and documents make of it is in test-cluster.c. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-scan.h"
#include "tap.h"
#include "util.h"

/* A literal with its size, so that NUL bytes inside it count. */
#define S(s) s, sizeof(s) - 1

/* Reads the whole body; returns what json_scan_finish() said, with the error and its offset. */
static int scan_all(const char *body, size_t size, enum json_scan_error *ret_error, size_t *ret_offset) {
        struct json_scan s;
        int r;

        r = json_scan_init(&s, body, size);
        if (r >= 0)
                r = json_scan_finish(&s);
        *ret_error = s.error;
        *ret_offset = s.error_offset;
        return r;
}

static void test_valid(void) {
        static const struct {
                const char *in;
                size_t size;
                const char *what;
        } table[] = {
                { S("0"), "zero" },
                { S("-0"), "minus zero" },
                { S("1e5"), "an exponent" },
                { S("1E+5"), "a capital exponent with a sign" },
                { S("1e-5"), "a negative exponent" },
                { S("-12.5e-07"), "sign, fraction, exponent with leading zeros" },
                { S("1e999999"), "a huge exponent (grammar only: the value is infinite)" },
                { S("-1e-999999"), "a huge negative exponent" },
                { S("123456789012345678901234567890123456789012345678901234567890123456789"),
                  "a number longer than any double" },
                { S("0.000"), "a fraction of zeros" },
                { S("true"), "true" },
                { S("false"), "false" },
                { S("null"), "null" },
                { S("\"\""), "an empty string" },
                { S("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), "every short escape" },
                { S("\"\\u0001 \\u001F \\u007f \\u00e9 \\u20AC \\uFFFF \\uFEFF\""), "\\u escapes" },
                { S("\"\\uD83D\\uDE00 \\udbff\\udfff \\uD800\\uDC00\""), "surrogate pairs, either case" },
                { S("\"\x7f\""), "DEL, not a control character in JSON" },
                { S("\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf\""),
                  "UTF-8 at the edges of 2 and 3 bytes" },
                { S("\"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\""),
                  "UTF-8 of 4 bytes up to U+10FFFF" },
                { S("[]"), "an empty array" },
                { S("{}"), "an empty object" },
                { S(" \t\r\n[ 1 ,\t\"a\" ,\r\n{ \"k\" : [ ] } ] \n"), "whitespace everywhere it may be" },
                { S("{\"a\":1,\"a\":2}"), "a member given twice (the caller's to refuse)" },
                { S("{\"\":{\"\":[[],{},\"\",0,-0.0]}}"), "empty names and nested empties" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                enum json_scan_error e;
                size_t off;

                is_int(scan_all(table[i].in, table[i].size, &e, &off), 0, "valid: %s", table[i].what);
        }
}

static void test_invalid(void) {
        static const struct {
                const char *in;
                size_t size;
                enum json_scan_error error;
                size_t offset;
                const char *what;
        } table[] = {
                { S(""), JSON_SCAN_EMPTY, 0, "an empty body" },
                { S("   "), JSON_SCAN_TRUNCATED, 3, "whitespace only" },
                /* Numbers */
                { S("01"), JSON_SCAN_BAD_NUMBER, 1, "a leading zero" },
                { S("[-01]"), JSON_SCAN_BAD_NUMBER, 3, "a leading zero after a minus" },
                { S("[00]"), JSON_SCAN_BAD_NUMBER, 2, "two zeros" },
                { S("[1.]"), JSON_SCAN_BAD_NUMBER, 3, "a point without digits" },
                { S("1."), JSON_SCAN_TRUNCATED, 2, "a point at the end" },
                { S("[.5]"), JSON_SCAN_UNEXPECTED, 1, "a point first" },
                { S("[1.e5]"), JSON_SCAN_BAD_NUMBER, 3, "a point then an exponent" },
                { S("[1e]"), JSON_SCAN_BAD_NUMBER, 3, "an exponent without digits" },
                { S("[1e+]"), JSON_SCAN_BAD_NUMBER, 4, "an exponent sign without digits" },
                { S("[1.5.3]"), JSON_SCAN_BAD_NUMBER, 4, "two points" },
                { S("[1e5e5]"), JSON_SCAN_BAD_NUMBER, 4, "two exponents" },
                { S("[-]"), JSON_SCAN_BAD_NUMBER, 2, "a minus alone" },
                { S("-"), JSON_SCAN_TRUNCATED, 1, "a minus at the end" },
                { S("[+1]"), JSON_SCAN_UNEXPECTED, 1, "a plus sign" },
                { S("[--1]"), JSON_SCAN_BAD_NUMBER, 2, "two minus signs" },
                { S("[0x10]"), JSON_SCAN_UNEXPECTED, 2, "hex" },
                { S("[NaN]"), JSON_SCAN_UNEXPECTED, 1, "NaN" },
                { S("[-Infinity]"), JSON_SCAN_BAD_NUMBER, 2, "-Infinity" },
                /* Strings */
                { S("\"\\x\""), JSON_SCAN_BAD_ESCAPE, 1, "\\x" },
                { S("\"\\U0041\""), JSON_SCAN_BAD_ESCAPE, 1, "\\U" },
                { S("\"\\'\""), JSON_SCAN_BAD_ESCAPE, 1, "\\'" },
                { S("\"\\u12\""), JSON_SCAN_BAD_ESCAPE, 1, "\\u with 2 hex digits" },
                { S("\"\\u12g4\""), JSON_SCAN_BAD_ESCAPE, 1, "\\u with a non-hex digit" },
                { S("\"\\uZZZZ\""), JSON_SCAN_BAD_ESCAPE, 1, "\\uZZZZ (cJSON read it as U+0000)" },
                { S("\"\\u00"), JSON_SCAN_TRUNCATED, 5, "\\u cut by the end" },
                { S("\"\\"), JSON_SCAN_TRUNCATED, 2, "a backslash at the end" },
                { S("\"\\u0000\""), JSON_SCAN_NUL, 1, "\\u0000" },
                { S("\"ab\\u0000\""), JSON_SCAN_NUL, 3, "\\u0000 after text" },
                { S("\"\\uDC00\""), JSON_SCAN_BAD_SURROGATE, 1, "a low surrogate alone" },
                { S("\"\\uD800\""), JSON_SCAN_BAD_SURROGATE, 1, "a high surrogate alone" },
                { S("\"\\uD800x\""), JSON_SCAN_BAD_SURROGATE, 1, "a high surrogate then text" },
                { S("\"\\uD800\\u0041\""), JSON_SCAN_BAD_SURROGATE, 1, "a high surrogate then no low one" },
                { S("\"\\uD800\\uD800\""), JSON_SCAN_BAD_SURROGATE, 1, "two high surrogates" },
                { S("\"\\uDE00\\uD83D\""), JSON_SCAN_BAD_SURROGATE, 1, "a pair in the wrong order" },
                { S("\"\\uD800\\n\""), JSON_SCAN_BAD_SURROGATE, 1, "a high surrogate then another escape" },
                { S("\"\\uD800\\uDCZZ\""), JSON_SCAN_BAD_ESCAPE, 7, "a low half with a non-hex digit" },
                { S("\"\\uD800\\uDC"), JSON_SCAN_TRUNCATED, 11, "a pair cut by the end" },
                { S("\"a\tb\""), JSON_SCAN_CONTROL, 2, "a raw tab in a string (cJSON takes it)" },
                { S("\"a\nb\""), JSON_SCAN_CONTROL, 2, "a raw newline in a string" },
                { S("\"\x01\""), JSON_SCAN_CONTROL, 1, "a raw U+0001" },
                { S("\"\x1f\""), JSON_SCAN_CONTROL, 1, "a raw U+001F" },
                { S("\"a\0\""), JSON_SCAN_NUL, 2, "a raw NUL in a string" },
                { S("\"abc"), JSON_SCAN_TRUNCATED, 4, "a string without its end" },
                { S("\"abcdefghijklmnop"), JSON_SCAN_TRUNCATED, 17, "a long string without its end" },
                { S("'a'"), JSON_SCAN_UNEXPECTED, 0, "single quotes" },
                /* UTF-8 (cJSON passes any bytes; Elasticsearch writes only valid UTF-8) */
                { S("\"\xff\""), JSON_SCAN_BAD_UTF8, 1, "0xFF" },
                { S("\"abcdefgh\x80\""), JSON_SCAN_BAD_UTF8, 9,
                  "a continuation byte alone, after 8 plain ones" },
                { S("\"\xc0\xaf\""), JSON_SCAN_BAD_UTF8, 1, "an overlong '/' of 2 bytes" },
                { S("\"\xc1\xbf\""), JSON_SCAN_BAD_UTF8, 1, "an overlong of 2 bytes" },
                { S("\"\xe0\x80\xaf\""), JSON_SCAN_BAD_UTF8, 1, "an overlong of 3 bytes" },
                { S("\"\xf0\x80\x80\xaf\""), JSON_SCAN_BAD_UTF8, 1, "an overlong of 4 bytes" },
                { S("\"\xed\xa0\x80\""), JSON_SCAN_BAD_UTF8, 1, "an encoded surrogate" },
                { S("\"\xf4\x90\x80\x80\""), JSON_SCAN_BAD_UTF8, 1, "past U+10FFFF" },
                { S("\"\xf5\x80\x80\x80\""), JSON_SCAN_BAD_UTF8, 1, "a lead byte 0xF5" },
                { S("\"\xc3\""), JSON_SCAN_BAD_UTF8, 1, "a lead byte then the quote" },
                { S("\"\xe6\xbc\""), JSON_SCAN_BAD_UTF8, 1, "3 bytes cut to 2" },
                { S("\"\xe6\xbc"), JSON_SCAN_TRUNCATED, 3, "3 bytes cut by the end" },
                { S("[\xc3\xa9]"), JSON_SCAN_UNEXPECTED, 1, "UTF-8 outside a string" },
                /* Literals */
                { S("tru"), JSON_SCAN_TRUNCATED, 3, "true cut short" },
                { S("[trUe]"), JSON_SCAN_UNEXPECTED, 3, "tRUE" },
                { S("True"), JSON_SCAN_UNEXPECTED, 0, "True" },
                { S("[nul]"), JSON_SCAN_UNEXPECTED, 4, "nul" },
                { S("[falsey]"), JSON_SCAN_UNEXPECTED, 6, "falsey" },
                { S("[undefined]"), JSON_SCAN_UNEXPECTED, 1, "undefined" },
                /* Structure */
                { S("[1,]"), JSON_SCAN_UNEXPECTED, 3, "a trailing comma in an array" },
                { S("[,1]"), JSON_SCAN_UNEXPECTED, 1, "a leading comma" },
                { S("{\"a\":1,}"), JSON_SCAN_UNEXPECTED, 7, "a trailing comma in an object" },
                { S("{\"a\" 1}"), JSON_SCAN_UNEXPECTED, 5, "no colon" },
                { S("{\"a\"::1}"), JSON_SCAN_UNEXPECTED, 5, "two colons" },
                { S("{a:1}"), JSON_SCAN_UNEXPECTED, 1, "a bare name" },
                { S("{1:1}"), JSON_SCAN_UNEXPECTED, 1, "a number as a name" },
                { S("{\"a\":}"), JSON_SCAN_UNEXPECTED, 5, "a member without a value" },
                { S("{\"a\"}"), JSON_SCAN_UNEXPECTED, 4, "a name alone" },
                { S("[1 2]"), JSON_SCAN_UNEXPECTED, 3, "no comma" },
                { S("[1}"), JSON_SCAN_UNEXPECTED, 2, "an array closed as an object" },
                { S("{\"a\":1]"), JSON_SCAN_UNEXPECTED, 6, "an object closed as an array" },
                { S("]"), JSON_SCAN_UNEXPECTED, 0, "a close first" },
                { S("["), JSON_SCAN_TRUNCATED, 1, "an open array" },
                { S("{"), JSON_SCAN_TRUNCATED, 1, "an open object" },
                { S("{\"a\""), JSON_SCAN_TRUNCATED, 4, "a name at the end" },
                { S("{\"a\":"), JSON_SCAN_TRUNCATED, 5, "a colon at the end" },
                { S("[1,"), JSON_SCAN_TRUNCATED, 3, "a comma at the end" },
                { S("[[[]]"), JSON_SCAN_TRUNCATED, 5, "one close too few" },
                /* After the value */
                { S("{} x"), JSON_SCAN_TRAILING, 3, "text after the value" },
                { S("{}{}"), JSON_SCAN_TRAILING, 2, "two values" },
                { S("1 2"), JSON_SCAN_TRAILING, 2, "two numbers" },
                { S("[]]"), JSON_SCAN_TRAILING, 2, "one close too many" },
                { S("{}\f"), JSON_SCAN_TRAILING, 2, "a form feed after the value" },
                { S("{} \0"), JSON_SCAN_NUL, 3, "a NUL after the value" },
                { S("\0{}"), JSON_SCAN_NUL, 0, "a NUL first" },
                /* Whitespace RFC 8259 does not have (cJSON skips every byte up to 0x20) */
                { S("\f{}"), JSON_SCAN_UNEXPECTED, 0, "a form feed first" },
                { S("[\v1]"), JSON_SCAN_UNEXPECTED, 1, "a vertical tab" },
                { S("{\"a\":\x01 1}"), JSON_SCAN_UNEXPECTED, 5, "a control character between tokens" },
                { S("[1\xc2\xa0]"), JSON_SCAN_UNEXPECTED, 2, "a no-break space" },
                { S("\xef\xbb\xbf{}"), JSON_SCAN_UNEXPECTED, 0, "a byte order mark (cJSON skips it)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                enum json_scan_error e = JSON_SCAN_OK;
                size_t off = 0;
                int r = scan_all(table[i].in, table[i].size, &e, &off);

                ok(r == -EBADMSG && e == table[i].error && off == table[i].offset,
                   "invalid: %s: %s at byte %zu (got %d, %s at byte %zu)", table[i].what,
                   json_scan_error_to_string(table[i].error), table[i].offset, r,
                   strna(json_scan_error_to_string(e)), off);
        }

        for (enum json_scan_error e = JSON_SCAN_OK + 1; e < _JSON_SCAN_ERROR_MAX; e++)
                ok(json_scan_error_to_string(e) != NULL, "error %d has words", e);
        ok(!json_scan_error_to_string(JSON_SCAN_OK) && !json_scan_error_to_string(_JSON_SCAN_ERROR_MAX),
           "OK and out of range have none");
}

/* n arrays, or n objects each the value of member "a", nested. */
static char *nested(unsigned n, bool objects, size_t *ret_size) {
        size_t open = objects ? 5 : 1, size = (size_t) n * (open + 1) + (objects ? 1 : 0);
        char *s = malloc(size + 1), *p = s;

        assert(s);
        for (unsigned i = 0; i < n; i++)
                p = stpcpy(p, objects ? "{\"a\":" : "[");
        if (objects) {
                /* The innermost member needs a value. */
                *p++ = '0';
        }
        for (unsigned i = 0; i < n; i++)
                *p++ = objects ? '}' : ']';
        *p = '\0';
        assert((size_t) (p - s) == size);
        *ret_size = size;
        return s;
}

static void test_depth(void) {
        for (int objects = 0; objects <= 1; objects++) {
                _cleanup_free_ char *ok_body = NULL, *deep_body = NULL;
                enum json_scan_error e;
                size_t size, off;

                ok_body = nested(JSON_SCAN_DEPTH_MAX, objects, &size);
                is_int(scan_all(ok_body, size, &e, &off), 0, "%u nested %s: accepted", JSON_SCAN_DEPTH_MAX,
                       objects ? "objects" : "arrays");

                deep_body = nested(JSON_SCAN_DEPTH_MAX + 1, objects, &size);
                ok(scan_all(deep_body, size, &e, &off) == -EBADMSG && e == JSON_SCAN_TOO_DEEP &&
                           off == (size_t) JSON_SCAN_DEPTH_MAX * (objects ? 5 : 1),
                   "%u nested %s: refused at the one too many (%s at byte %zu)", JSON_SCAN_DEPTH_MAX + 1,
                   objects ? "objects" : "arrays", strna(json_scan_error_to_string(e)), off);
        }

        /* Depth is nesting, not count: many siblings at depth 2 are fine. */
        _cleanup_free_ char *wide = malloc(3 * 5000 + 3);
        enum json_scan_error e;
        size_t off;
        char *p = wide;

        assert(wide);
        *p++ = '[';
        for (unsigned i = 0; i < 5000; i++)
                p = stpcpy(p, i ? ",[]" : "[]");
        *p++ = ']';
        is_int(scan_all(wide, (size_t) (p - wide), &e, &off), 0, "5000 sibling arrays: accepted");
}

static void test_tokens(void) {
        static const char body[] = " {\"a\" : [1, \"x\\n\", true, false, null, {}], \"b\":-0.5e1 } ";
        static const struct {
                enum json_scan_token_type type;
                size_t offset;
                const char *text;
        } want[] = {
                { JSON_SCAN_OBJECT_BEGIN, 1, NULL },  { JSON_SCAN_KEY, 2, "a" },
                { JSON_SCAN_ARRAY_BEGIN, 8, NULL },   { JSON_SCAN_NUMBER, 9, "1" },
                { JSON_SCAN_STRING, 12, "x\\n" },     { JSON_SCAN_TRUE, 19, NULL },
                { JSON_SCAN_FALSE, 25, NULL },        { JSON_SCAN_NULL, 32, NULL },
                { JSON_SCAN_OBJECT_BEGIN, 38, NULL }, { JSON_SCAN_OBJECT_END, 39, NULL },
                { JSON_SCAN_ARRAY_END, 40, NULL },    { JSON_SCAN_KEY, 43, "b" },
                { JSON_SCAN_NUMBER, 47, "-0.5e1" },   { JSON_SCAN_OBJECT_END, 54, NULL },
                { JSON_SCAN_END, 56, NULL },          { JSON_SCAN_END, 56, NULL },
        };
        struct json_scan s;
        struct json_scan_token t;

        assert_se(json_scan_init(&s, body, strlen(body)) == 0);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                bool same;

                assert_se(json_scan_next(&s, &t) == 0);
                same = t.type == want[i].type && t.offset == want[i].offset &&
                       (!want[i].text ||
                        (t.size == strlen(want[i].text) && memcmp(t.start, want[i].text, t.size) == 0));
                ok(same, "token %zu: type %d at byte %zu (got type %d at byte %zu)", i, want[i].type,
                   want[i].offset, t.type, t.offset);
        }
        assert_se(json_scan_init(&s, body, strlen(body)) == 0);
        assert_se(json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0);
        ok(!t.escaped, "a name without escapes says so");
        assert_se(json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0);
        ok(t.type == JSON_SCAN_STRING && t.escaped, "a string with an escape says so");

        /* Skipping: a whole array, an object, and nothing for a scalar. */
        static const char doc[] =
                "{\"skip\":[1,{\"id\":\"inner\"},[[]]],\"obj\":{\"id\":{}},\"n\":5,\"id\":\"top\"}";
        const char *seen[8] = {};
        size_t n_seen = 0;

        assert_se(json_scan_init(&s, doc, strlen(doc)) == 0);
        assert_se(json_scan_next(&s, &t) == 0 && t.type == JSON_SCAN_OBJECT_BEGIN);
        for (;;) {
                struct json_scan_token k, v;

                assert_se(json_scan_next(&s, &k) == 0);
                if (k.type == JSON_SCAN_OBJECT_END)
                        break;
                assert(k.type == JSON_SCAN_KEY && n_seen < ELEMENTSOF(seen));
                seen[n_seen++] = k.start;
                assert_se(json_scan_next(&s, &v) == 0);
                assert_se(json_scan_skip(&s, &v) == 0);
        }
        ok(n_seen == 4 && memcmp(seen[0], "skip", 4) == 0 && memcmp(seen[1], "obj", 3) == 0 &&
                   memcmp(seen[2], "n", 1) == 0 && memcmp(seen[3], "id", 2) == 0,
           "skipping each value leaves exactly the 4 top-level names");
        is_int(json_scan_next(&s, &t), 0, "then the end");
        ok(t.type == JSON_SCAN_END, "which is JSON_SCAN_END");

        /* Skipping checks what it skips. */
        static const char bad[] = "{\"skip\":[1,{\"id\":\"a\tb\"}],\"id\":\"top\"}";
        assert_se(json_scan_init(&s, bad, strlen(bad)) == 0);
        assert_se(json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0);
        is_int(json_scan_skip(&s, &t), -EBADMSG, "skipping an invalid value fails");
        ok(s.error == JSON_SCAN_CONTROL && s.error_offset == 19, "with the fault and where it is");
        is_int(json_scan_next(&s, &t), -EBADMSG, "and every later call fails too");
        is_int(json_scan_finish(&s), -EBADMSG, "finish as well");

        /* finish from the middle checks the rest. */
        assert_se(json_scan_init(&s, doc, strlen(doc)) == 0);
        assert_se(json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0);
        is_int(json_scan_finish(&s), 0, "finish from inside an array reads to the end");
        static const char cut[] = "{\"a\":[1,2,{\"b\":3}";
        assert_se(json_scan_init(&s, cut, strlen(cut)) == 0);
        assert_se(json_scan_next(&s, &t) == 0 && json_scan_next(&s, &t) == 0);
        ok(json_scan_finish(&s) == -EBADMSG && s.error == JSON_SCAN_TRUNCATED &&
                   s.error_offset == strlen(cut),
           "finish from inside a cut body finds the cut");
}

/* The first string token of 'body' (a JSON string). */
static struct json_scan_token first_string(const char *body, size_t size) {
        struct json_scan s;
        struct json_scan_token t = {};

        assert_se(json_scan_init(&s, body, size) == 0);
        assert_se(json_scan_next(&s, &t) == 0);
        assert(t.type == JSON_SCAN_STRING);
        return t;
}

static void test_strings(void) {
        static const struct {
                const char *in;
                size_t size;
                const char *out;
                size_t out_size;
        } table[] = {
                { S("\"plain\""), S("plain") },
                { S("\"\""), S("") },
                { S("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), S("\"\\/\b\f\n\r\t") },
                { S("\"\\u0001\\u001f\\u007F\""), S("\x01\x1f\x7f") },
                { S("\"\\u0080\\u07ff\""), S("\xc2\x80\xdf\xbf") },
                { S("\"\\u0800\\u20ac\\uFFFF\""), S("\xe0\xa0\x80\xe2\x82\xac\xef\xbf\xbf") },
                { S("\"\\uD800\\uDC00\\uD83D\\uDE00\\uDBFF\\uDFFF\""),
                  S("\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf") },
                { S("\"caf\\u00e9 \xc3\xa9 \xe6\xbc\xa2\""), S("caf\xc3\xa9 \xc3\xa9 \xe6\xbc\xa2") },
                { S("\"a\\\\u0000b\""), S("a\\u0000b") },
                { S("\"ends in an escape\\n\""), S("ends in an escape\n") },
                { S("\"\\nstarts with one\""), S("\nstarts with one") },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct json_scan_token t = first_string(table[i].in, table[i].size);
                _cleanup_free_ char *d = NULL;

                is_int(json_scan_string_dup(&t, &d), 0, "string #%zu decodes", i);
                ok(d && strlen(d) == table[i].out_size && memcmp(d, table[i].out, table[i].out_size) == 0,
                   "string #%zu decodes to its %zu bytes", i, table[i].out_size);
        }

        static const struct {
                const char *in;
                const char *name;
                bool equal;
        } names[] = {
                { "\"id\"", "id", true },
                { "\"\\u0069d\"", "id", true },
                { "\"\\u0069\\u0064\"", "id", true },
                { "\"i\\u0064\"", "id", true },
                { "\"\\u0049d\"", "id", false },
                { "\"idx\"", "id", false },
                { "\"i\"", "id", false },
                { "\"\"", "id", false },
                { "\"\"", "", true },
                { "\"i\\u0064x\"", "id", false },
                { "\"\\u00e9\"", "\xc3\xa9", true },
                { "\"\\u00e9\"", "\xc3", false },
                { "\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", true },
                { "\"caf\\u00e9\"", "caf\xc3\xa9x", false },
                { "\"a\\\"b\"", "a\"b", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct json_scan_token t = first_string(names[i].in, strlen(names[i].in));

                is_int(json_scan_string_equal(&t, names[i].name), names[i].equal, "%s %s '%s'", names[i].in,
                       names[i].equal ? "is" : "is not", names[i].name);
        }
}

static void test_uint(void) {
        static const struct {
                const char *in;
                bool ok;
                uint64_t value;
        } table[] = {
                { "0", true, 0 },
                { "-0", true, 0 }, /* cJSON: -0.0, which is >= 0 */
                { "7", true, 7 },
                { "1e3", true, 1000 },
                { "1.0", true, 1 },
                { "0.5e1", true, 5 },
                { "100e-2", true, 1 },
                { "1E+2", true, 100 },
                { "9007199254740991", true, UINT64_C(9007199254740991) },
                { "9007199254740992", false, 0 }, /* 2^53: the next one is no longer exact */
                { "9007199254740993", false, 0 },
                { "12345678901234567", false, 0 },
                { "1.5", false, 0 },
                { "-1", false, 0 },
                { "-0.0", true, 0 },
                { "-1e-400", true, 0 }, /* strtod() underflows to -0.0, as cJSON read it */
                { "1e300", false, 0 },
                { "1e400", false, 0 },
                { "1.0000000000000000000000000000000000000000000000000000000000000000000000", true, 1 },
                { "1.0000000000000000000000000000000000000000000000000000000000000000000001", true, 1 },
                { "4503599627370496.5", true, UINT64_C(4503599627370496) }, /* a tie: to even */
                { "4503599627370496.5000000000000000000000000000000000000000000000000000000001", true,
                  UINT64_C(4503599627370497) },
                { "0.1e1", true, 1 },
                { "1.5e0000000000000000000000000000000000000000000000000000000000000000000001", true, 15 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct json_scan s;
                struct json_scan_token t;
                uint64_t v = 12345;
                int r;

                assert_se(json_scan_init(&s, table[i].in, strlen(table[i].in)) == 0);
                assert_se(json_scan_next(&s, &t) == 0 && t.type == JSON_SCAN_NUMBER);
                r = json_scan_get_uint(&t, &v);
                if (table[i].ok)
                        ok(r == 1 && v == table[i].value,
                           "%s is the count %" PRIu64 " (got %d, %" PRIu64 ")", table[i].in, table[i].value,
                           r, v);
                else
                        ok(r == 0 && v == 12345, "%s is no count, and nothing is written", table[i].in);
        }

        struct json_scan s;
        struct json_scan_token t;
        uint64_t v;

        assert_se(json_scan_init(&s, "\"1\"", 3) == 0);
        assert_se(json_scan_next(&s, &t) == 0);
        is_int(json_scan_get_uint(&t, &v), 0, "a string is no count");
}

int main(void) {
        test_valid();
        test_invalid();
        test_depth();
        test_tokens();
        test_strings();
        test_uint();
        return done();
}
