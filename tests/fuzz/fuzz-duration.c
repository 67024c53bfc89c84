/* libFuzzer target: the two time parsers on one input, each checked against what it must return.
 *
 * duration_parse() is compared with a second, deliberately plain reading of the grammar
 * (optional terms <digits>h, <digits>m, <digits>s, <digits>ms in that order, at least one, the
 * total below USEC_INFINITY): both must accept the same inputs with the same value.
 *
 * backoff_parse_retry_after() is read at three wall times a second and an hour apart: an accepted
 * value is never longer than BACKOFF_RETRY_AFTER_MAX_USEC, delta-seconds give exactly their
 * value (capped), and a later "now" never gives a longer wait. backoff_next() with that value
 * never waits longer than the larger of max_delay and the cap.
 *
 * Seeded with the durations of tests/data/config and the Retry-After values of the cluster
 * client's tests. Crashes, sanitizer reports and failed checks fail. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "duration.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_USEC (UINT64_C(1700000000) * USEC_PER_SEC) /* 2023-11-14T22:13:20Z */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* The reference reading of a duration. Returns true and the value when valid. */
static bool reference_duration(const char *s, usec_t *ret) {
        static const struct {
                const char *unit;
                usec_t usec;
        } terms[] = {
                { "h", USEC_PER_HOUR },
                { "m", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
        };
        unsigned __int128 total = 0;
        size_t n_terms = 0;

        for (size_t t = 0; t < ELEMENTSOF(terms) && *s; t++) {
                const char *p = s;
                unsigned __int128 v = 0;
                size_t l = strlen(terms[t].unit);

                while (is_digit(*p)) {
                        /* Saturate far above any valid total instead of overflowing. */
                        v = v > (unsigned __int128) UINT64_MAX ? v : v * 10 + (unsigned) (*p - '0');
                        p++;
                }
                if (p == s || strncmp(p, terms[t].unit, l) != 0 || (p[l] >= 'a' && p[l] <= 'z'))
                        continue; /* not this term: maybe a later one */
                total += v * terms[t].usec;
                if (total >= (unsigned __int128) USEC_INFINITY)
                        return false;
                s = p + l;
                n_terms++;
        }
        if (*s || n_terms == 0)
                return false;
        *ret = (usec_t) total;
        return true;
}

/* Delta-seconds as RFC 9110 writes them, after the blanks the parser allows around them. The
 * parser reads at most RETRY_AFTER_MAX_LENGTH bytes between the blanks; anything longer is
 * invalid, digits or not. */
#define RETRY_AFTER_MAX_LENGTH 63
static bool is_delta_seconds(const char *s, uint64_t *ret_seconds) {
        uint64_t v = 0;
        size_t n = 0;

        while (*s == ' ' || *s == '\t')
                s++;
        for (; is_digit(*s); s++, n++)
                v = v > 1000000 ? v : v * 10 + (uint64_t) (*s - '0');
        while (*s == ' ' || *s == '\t')
                s++;
        if (*s || n == 0 || n > RETRY_AFTER_MAX_LENGTH)
                return false;
        *ret_seconds = v;
        return true;
}

static void check_duration(const char *s) {
        usec_t got = 0, want = 0;
        bool valid;
        int r;

        r = duration_parse(s, &got);
        valid = reference_duration(s, &want);
        assert(r == 0 || r == -EINVAL || r == -ERANGE);
        assert((r == 0) == valid);
        if (valid)
                assert(got == want);
}

static void check_retry_after(const char *s) {
        static const usec_t nows[] = { NOW_USEC, NOW_USEC + USEC_PER_SEC, NOW_USEC + USEC_PER_HOUR };
        const struct backoff_policy policy = {
                .max_attempts = 3,
                .initial_delay_usec = 500 * USEC_PER_MSEC,
                .max_delay_usec = 30 * USEC_PER_SEC,
        };
        usec_t d[ELEMENTSOF(nows)], next;
        uint64_t seconds;
        int r[ELEMENTSOF(nows)];

        for (size_t i = 0; i < ELEMENTSOF(nows); i++) {
                r[i] = backoff_parse_retry_after(s, nows[i], &d[i]);
                assert(r[i] == 0 || r[i] == -EINVAL);
                assert(r[i] < 0 || d[i] <= BACKOFF_RETRY_AFTER_MAX_USEC);
        }
        /* The same text is valid or not whatever the time. */
        assert(r[0] == r[1] && r[1] == r[2]);

        if (is_delta_seconds(s, &seconds)) {
                assert(r[0] == 0);
                for (size_t i = 0; i < ELEMENTSOF(nows); i++)
                        assert(d[i] == MIN(seconds * USEC_PER_SEC, BACKOFF_RETRY_AFTER_MAX_USEC));
        } else if (r[0] == 0)
                /* An HTTP-date: waiting longer never makes the wait longer. */
                assert(d[0] >= d[1] && d[1] >= d[2]);

        for (unsigned attempt = 0; attempt <= policy.max_attempts; attempt++)
                if (backoff_next(&policy, attempt, s, nows[0], UINT64_MAX, &next) > 0)
                        assert(next <= MAX(policy.max_delay_usec, BACKOFF_RETRY_AFTER_MAX_USEC));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;

        /* Both parsers take a C string; an input with a NUL inside is not one. */
        if (memchr(data, 0, size))
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        check_duration(s);
        check_retry_after(s);
        return 0;
}
