#include <stdbool.h>
#include <stdint.h>

#include "json-write.h"
#include "utf8.h"

/* Room for the longest escape written, "\\uXXXX", and its NUL. */
#define ESCAPE_MAX 8

/* Decides how the character at s is written: returns how many bytes it spans and sets *ret to
 * what to write instead (possibly formatted into buf), or to NULL to write the bytes as they are. */
static size_t escape_char(const char *s, char buf[static ESCAPE_MAX], const char **ret) {
        unsigned char c = (unsigned char) *s;
        uint32_t cp;
        size_t n;

        *ret = NULL;
        switch (c) {
        case '"':
                *ret = "\\\"";
                return 1;
        case '\\':
                *ret = "\\\\";
                return 1;
        case '\b':
                *ret = "\\b";
                return 1;
        case '\f':
                *ret = "\\f";
                return 1;
        case '\n':
                *ret = "\\n";
                return 1;
        case '\r':
                *ret = "\\r";
                return 1;
        case '\t':
                *ret = "\\t";
                return 1;
        }
        if (c < 0x20 || c == 0x7f) {
                (void) snprintf(buf, ESCAPE_MAX, "\\u%04x", c);
                *ret = buf;
                return 1;
        }
        n = utf8_decode(s, &cp);
        if (n == 0) {
                *ret = "\\ufffd";
                return 1;
        }
        return n;
}

void json_write_string(FILE *f, const char *s) {
        const char *run; /* bytes that go out as they are, not written yet */
        char buf[ESCAPE_MAX];

        if (!s) {
                (void) fputs("null", f);
                return;
        }

        (void) fputc('"', f);
        for (run = s; *s;) {
                const char *e;
                size_t n = escape_char(s, buf, &e);

                if (e) {
                        (void) fwrite(run, 1, (size_t) (s - run), f);
                        (void) fputs(e, f);
                        run = s + n;
                }
                s += n;
        }
        (void) fwrite(run, 1, (size_t) (s - run), f);
        (void) fputc('"', f);
}
