#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "json-write.h"
#include "utf8.h"
#include "util.h"

/* Room for the longest escape the writers below format, "\uXXXX", and its NUL. */
#define ESCAPE_MAX 8

/* Decides how the character at s is written: returns how many bytes it spans and sets *ret to
 * what to write instead (possibly formatted into buf), or to NULL to write the bytes as they are. */
typedef size_t (*escape_fn)(const char *s, char buf[static ESCAPE_MAX], const char **ret);

static bool text_escape_codepoint(uint32_t cp) {
        return (cp >= 0x80 && cp <= 0x9f) ||     /* C1 controls: CSI and friends */
               cp == 0x200e || cp == 0x200f ||   /* left-to-right, right-to-left marks */
               (cp >= 0x2028 && cp <= 0x202e) || /* line, paragraph separators; bidi embedding */
               (cp >= 0x2066 && cp <= 0x2069);   /* bidi isolates */
}

static size_t text_escape(const char *s, char buf[static ESCAPE_MAX], const char **ret) {
        unsigned char c = (unsigned char) *s;
        uint32_t cp;
        size_t n;

        *ret = NULL;
        switch (c) {
        case '\\':
                *ret = "\\\\";
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
        n = c < 0x20 || c == 0x7f ? 0 : utf8_decode(s, &cp);
        if (n == 0) {
                (void) snprintf(buf, ESCAPE_MAX, "\\x%02x", c);
                *ret = buf;
                return 1;
        }
        if (text_escape_codepoint(cp)) {
                (void) snprintf(buf, ESCAPE_MAX, "\\u%04x", (unsigned) cp);
                *ret = buf;
        }
        return n;
}

/* Writes s through the escape function, the bytes between escapes in one go. */
static void write_escaped(FILE *f, const char *s, escape_fn escape) {
        const char *run = s; /* bytes that go out as they are, not written yet */
        char buf[ESCAPE_MAX];

        while (*s) {
                const char *e;
                size_t n = escape(s, buf, &e);

                if (e) {
                        (void) fwrite(run, 1, (size_t) (s - run), f);
                        (void) fputs(e, f);
                        run = s + n;
                }
                s += n;
        }
        (void) fwrite(run, 1, (size_t) (s - run), f);
}

static void text_string(FILE *f, const char *s) {
        write_escaped(f, s, text_escape);
}

/* Flushes f and reports whether anything written since errno was cleared failed. */
static int finish(FILE *f) {
        if (fflush(f) != 0 || ferror(f))
                return negative_errno();
        return 0;
}

int report_plan_json(FILE *f, const struct plan *p) {
        static const char *const keys[_PLAN_KIND_MAX] = {
                [PLAN_DELETE] = "delete",       [PLAN_KEEP] = "keep",           [PLAN_MISSING] = "missing",
                [PLAN_UNMANAGED] = "unmanaged", [PLAN_PROTECTED] = "protected",
        };

        assert(f);
        assert(p);

        errno = 0;
        (void) fputc('{', f);

        /* DESIGN.md's key order is the plan_kind order. */
        for (int k = 0; k < _PLAN_KIND_MAX; k++) {
                bool first = true;

                (void) fprintf(f, "\"%s\":[", keys[k]);
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if ((int) it->kind != k)
                                continue;
                        (void) fputs(first ? "{\"id\":" : ",{\"id\":", f);
                        first = false;
                        json_write_string(f, it->id);

                        switch (it->kind) {
                        case PLAN_DELETE:
                                (void) fprintf(f, ",\"delete_sync_jobs\":%s,\"hard\":%s,\"sets\":[",
                                               it->delete_sync_jobs ? "true" : "false",
                                               it->hard ? "true" : "false");
                                for (size_t j = 0; j < it->n_sets; j++) {
                                        if (j > 0)
                                                (void) fputc(',', f);
                                        json_write_string(f, it->sets[j]);
                                }
                                (void) fputc(']', f);
                                break;
                        case PLAN_KEEP:
                        case PLAN_MISSING:
                                (void) fputs(",\"set\":", f);
                                json_write_string(f, it->n_sets > 0 ? it->sets[0] : NULL);
                                break;
                        case PLAN_PROTECTED:
                                (void) fputs(",\"reason\":", f);
                                json_write_string(f, it->reason);
                                break;
                        case PLAN_UNMANAGED:
                        case _PLAN_KIND_MAX:
                                break;
                        }
                        (void) fputc('}', f);
                }
                (void) fputs("],", f);
        }

        (void) fputs("\"blocked\":", f);
        json_write_string(f, p->blocked);
        (void) fputs("}\n", f);

        return finish(f);
}

static void text_sets(FILE *f, const struct plan_item *it, const char *label) {
        (void) fprintf(f, "%s: ", label);
        for (size_t j = 0; j < it->n_sets; j++) {
                if (j > 0)
                        (void) fputs(", ", f);
                text_string(f, it->sets[j]);
        }
}

int report_plan_text(FILE *f, const struct plan *p) {
        /* People read what changes first. */
        static const enum plan_kind order[] = {
                PLAN_DELETE, PLAN_PROTECTED, PLAN_MISSING, PLAN_KEEP, PLAN_UNMANAGED,
        };
        static const char marks[_PLAN_KIND_MAX] = {
                [PLAN_DELETE] = '-', [PLAN_PROTECTED] = '~', [PLAN_MISSING] = '!',
                [PLAN_KEEP] = ' ',   [PLAN_UNMANAGED] = ' ',
        };

        assert(f);
        assert(p);

        errno = 0;
        for (size_t o = 0; o < ELEMENTSOF(order); o++)
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if (it->kind != order[o])
                                continue;

                        (void) fprintf(f, "  %c %-9s ", marks[it->kind], plan_kind_to_string(it->kind));
                        text_string(f, it->id);

                        switch (it->kind) {
                        case PLAN_DELETE:
                                (void) fputs("  (", f);
                                text_sets(f, it, "sets");
                                if (it->delete_sync_jobs || it->hard)
                                        (void) fprintf(f, "; %s%s%s",
                                                       it->delete_sync_jobs ? "delete_sync_jobs" : "",
                                                       it->delete_sync_jobs && it->hard ? ", " : "",
                                                       it->hard ? "hard" : "");
                                (void) fputc(')', f);
                                break;
                        case PLAN_PROTECTED:
                                (void) fputs("  (", f);
                                text_sets(f, it, "sets");
                                (void) fputc(')', f);
                                break;
                        case PLAN_KEEP:
                        case PLAN_MISSING:
                                (void) fputs("  (", f);
                                text_sets(f, it, "set");
                                (void) fputc(')', f);
                                break;
                        case PLAN_UNMANAGED:
                        case _PLAN_KIND_MAX:
                                break;
                        }
                        if (it->reason) {
                                (void) fputs(": ", f);
                                text_string(f, it->reason);
                        }
                        (void) fputc('\n', f);
                }

        (void) fprintf(f, "Plan: %zu to delete, %zu to keep, %zu missing, %zu unmanaged, %zu protected.\n",
                       p->counts[PLAN_DELETE], p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                       p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED]);
        if (p->blocked) {
                (void) fputs("Blocked: ", f);
                text_string(f, p->blocked);
                (void) fputc('\n', f);
        }

        return finish(f);
}
