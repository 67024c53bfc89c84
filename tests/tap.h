#pragma once

/* A small TAP emitter for the unit tests: plan(), ok(), is_int(), is_str(), skip_all(), done().
 * Header-only; each test program includes it once. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* For the test's own setup, whose side effect is needed: assert() would vanish under -DNDEBUG.
 * A failed setup ends the test with a TAP "Bail out!". */
#define assert_se(expr)                                                                           \
        do {                                                                                      \
                if (!(expr)) {                                                                    \
                        printf("Bail out! %s:%d: setup failed: %s\n", __FILE__, __LINE__, #expr); \
                        fflush(stdout);                                                           \
                        abort();                                                                  \
                }                                                                                 \
        } while (0)

static int tap_planned = -1;
static int tap_run = 0;
static int tap_failed = 0;

static inline void plan(int n) {
        tap_planned = n;
        printf("1..%d\n", n);
}

static inline void skip_all(const char *why) {
        printf("1..0 # SKIP %s\n", why);
        exit(0);
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...) {
        va_list ap;

        fputs("# ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
}

static inline bool okv(bool cond, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static inline bool okv(bool cond, const char *fmt, va_list ap) {
        tap_run++;
        if (!cond)
                tap_failed++;
        printf("%s %d - ", cond ? "ok" : "not ok", tap_run);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        fflush(stdout);
        return cond;
}

static inline bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool ok(bool cond, const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = okv(cond, fmt, ap);
        va_end(ap);
        return r;
}

static inline bool is_int(intmax_t got, intmax_t want, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static inline bool is_int(intmax_t got, intmax_t want, const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = okv(got == want, fmt, ap);
        va_end(ap);
        if (!r)
                diag("got %jd, want %jd", got, want);
        return r;
}

static inline bool is_str(const char *got, const char *want, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static inline bool is_str(const char *got, const char *want, const char *fmt, ...) {
        va_list ap;
        bool same = (!got && !want) || (got && want && strcmp(got, want) == 0);
        bool r;

        va_start(ap, fmt);
        r = okv(same, fmt, ap);
        va_end(ap);
        if (!r)
                diag("got '%s', want '%s'", got ? got : "(null)", want ? want : "(null)");
        return r;
}

/* Ends the test: prints the plan when none was given up front; exit status 1 on any failure. */
static inline int done(void) {
        if (tap_planned < 0)
                printf("1..%d\n", tap_run);
        else if (tap_planned != tap_run)
                diag("planned %d tests but ran %d", tap_planned, tap_run);
        return tap_failed > 0 || (tap_planned >= 0 && tap_planned != tap_run) ? 1 : 0;
}
