/* backoff.c: growth per attempt, cap, jitter bounds over many seeded draws, the attempt limit,
 * Retry-After in all its forms, and which outcomes are transient. */

#include <errno.h>
#include <stdint.h>

#include "backoff.h"
#include "tap.h"
#include "util.h"

/* 1994-11-06 08:49:37 UTC, the date of RFC 9110's examples. */
#define RFC_DATE_EPOCH 784111777ULL

static uint64_t splitmix64(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

static void test_growth(void) {
        static const struct backoff_policy p = {
                .max_attempts = 10,
                .initial_delay_usec = 100 * USEC_PER_MSEC,
                .max_delay_usec = USEC_PER_SEC,
        };
        static const struct {
                unsigned attempt;
                usec_t cap;
        } table[] = {
                { 0, 100 * USEC_PER_MSEC }, /* 0 counts as 1 */
                { 1, 100 * USEC_PER_MSEC }, { 2, 200 * USEC_PER_MSEC }, { 3, 400 * USEC_PER_MSEC },
                { 4, 800 * USEC_PER_MSEC }, { 5, USEC_PER_SEC }, /* capped */
                { 6, USEC_PER_SEC },        { 64, USEC_PER_SEC },       { 100000, USEC_PER_SEC },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                /* A draw equal to the cap maps to the cap, one above it wraps to 0: the range is
                 * exactly [0, cap]. */
                is_int((intmax_t) backoff_jitter_delay(&p, table[i].attempt, table[i].cap),
                       (intmax_t) table[i].cap, "attempt %u: the largest delay is %" PRIu64 " us",
                       table[i].attempt, table[i].cap);
                is_int((intmax_t) backoff_jitter_delay(&p, table[i].attempt, table[i].cap + 1), 0,
                       "attempt %u: the draw wraps above the cap", table[i].attempt);
        }
}

static void test_edges(void) {
        struct backoff_policy p = { .max_attempts = 5,
                                    .initial_delay_usec = 0,
                                    .max_delay_usec = USEC_PER_SEC };

        is_int((intmax_t) backoff_jitter_delay(&p, 3, UINT64_MAX), 0, "initial delay 0 gives 0");

        p = (struct backoff_policy){ .max_attempts = 5,
                                     .initial_delay_usec = USEC_PER_HOUR,
                                     .max_delay_usec = USEC_INFINITY - 1 };
        ok(backoff_jitter_delay(&p, 200, USEC_INFINITY - 1) == USEC_INFINITY - 1,
           "doubling saturates instead of overflowing");

        p = (struct backoff_policy){ .max_attempts = 5,
                                     .initial_delay_usec = 5 * USEC_PER_SEC,
                                     .max_delay_usec = USEC_PER_SEC };
        is_int((intmax_t) backoff_jitter_delay(&p, 1, USEC_PER_SEC), (intmax_t) USEC_PER_SEC,
               "an initial delay above the maximum is capped from the first attempt");
}

static void test_jitter_distribution(void) {
        static const struct backoff_policy p = {
                .max_attempts = 10,
                .initial_delay_usec = 100 * USEC_PER_MSEC,
                .max_delay_usec = 30 * USEC_PER_SEC,
        };
        uint64_t seed = 42;

        for (unsigned attempt = 1; attempt <= 12; attempt += 3) {
                usec_t cap = MIN(p.initial_delay_usec << (attempt - 1), p.max_delay_usec);
                usec_t lo = USEC_INFINITY, hi = 0;
                double sum = 0;
                bool in_range = true;
                const unsigned n = 20000;

                for (unsigned i = 0; i < n; i++) {
                        usec_t d = backoff_jitter_delay(&p, attempt, splitmix64(&seed));

                        in_range = in_range && d <= cap;
                        lo = MIN(lo, d);
                        hi = MAX(hi, d);
                        sum += (double) d;
                }

                ok(in_range, "attempt %u: %u draws all within [0, %" PRIu64 "]", attempt, n, cap);
                ok(lo < cap / 100 && hi > cap - cap / 100,
                   "attempt %u: the draws cover the whole range (full jitter)", attempt);
                ok(sum / n > cap * 0.47 && sum / n < cap * 0.53,
                   "attempt %u: the mean is about half the cap", attempt);
        }
}

static void test_attempt_limit(void) {
        struct backoff_policy p = { .max_attempts = 3,
                                    .initial_delay_usec = USEC_PER_SEC,
                                    .max_delay_usec = 10 * USEC_PER_SEC };
        usec_t d = 12345;

        is_int(backoff_next(&p, 1, NULL, 0, 0, &d), 1, "3 attempts: retry after the 1st");
        is_int(backoff_next(&p, 2, NULL, 0, 0, &d), 1, "3 attempts: retry after the 2nd");
        d = 12345;
        is_int(backoff_next(&p, 3, NULL, 0, 0, &d), 0, "3 attempts: no retry after the 3rd");
        is_int((intmax_t) d, 12345, "no retry leaves the delay alone");
        is_int(backoff_next(&p, 3, "1", 0, 0, &d), 0, "a Retry-After does not add attempts");

        p.max_attempts = 1;
        is_int(backoff_next(&p, 1, NULL, 0, 0, &d), 0, "1 attempt: never a retry");
        p.max_attempts = 0;
        is_int(backoff_next(&p, 1, NULL, 0, 0, &d), 0, "0 attempts counts as 1");
}

static void test_retry_after(void) {
        const usec_t now = RFC_DATE_EPOCH * USEC_PER_SEC - 37 * USEC_PER_SEC; /* 08:49:00 */
        static const struct {
                const char *value;
                int ret;
                usec_t delay;
        } table[] = {
                { "1", 0, USEC_PER_SEC },
                { "0", 0, 0 },
                { "120", 0, 120 * USEC_PER_SEC },
                { "300", 0, 300 * USEC_PER_SEC },
                { "400", 0, 300 * USEC_PER_SEC }, /* clamped to 5 minutes */
                { "99999999999999999999999999", 0, 300 * USEC_PER_SEC },
                { " 7\t", 0, 7 * USEC_PER_SEC },
                { "007", 0, 7 * USEC_PER_SEC },
                { "Sun, 06 Nov 1994 08:49:37 GMT", 0, 37 * USEC_PER_SEC },  /* IMF-fixdate */
                { "Sunday, 06-Nov-94 08:49:37 GMT", 0, 37 * USEC_PER_SEC }, /* RFC 850 */
                { "Sun Nov  6 08:49:37 1994", 0, 37 * USEC_PER_SEC },       /* asctime */
                { "sun, 06 nov 1994 08:49:37 GMT", 0, 37 * USEC_PER_SEC },  /* names in any case */
                { "Sun, 06 Nov 1994 08:48:00 GMT", 0, 0 },                  /* in the past */
                { "Sun, 06 Nov 1994 08:49:00 GMT", 0, 0 },                  /* now */
                { "Sun, 06 Nov 1994 09:49:37 GMT", 0, 300 * USEC_PER_SEC }, /* an hour: clamped */
                { "Thu, 01 Jan 2037 00:00:00 GMT", 0, 300 * USEC_PER_SEC },
                { "Tue, 29 Feb 1994 08:49:37 GMT", -EINVAL, 0 }, /* no such day */
                { "Sun, 31 Nov 1994 08:49:37 GMT", -EINVAL, 0 },
                { "Sun, 06 Nov 1994 24:49:37 GMT", -EINVAL, 0 },
                { "Sun, 06 Nov 1994 08:49:37 UTC", -EINVAL, 0 },
                { "Sun, 06 Nov 1994 08:49:37", -EINVAL, 0 },
                { "Sun, 06 Foo 1994 08:49:37 GMT", -EINVAL, 0 },
                { "Sun, 06 Nov 1994 08:49:37 GMT x", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "   ", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "1.5", -EINVAL, 0 },
                { "1s", -EINVAL, 0 },
                { "+3", -EINVAL, 0 },
                { "soon", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                usec_t d = 4242;
                int r = backoff_parse_retry_after(table[i].value, now, &d);

                is_int(r, table[i].ret, "Retry-After '%s' %s", table[i].value,
                       table[i].ret == 0 ? "parses" : "is refused");
                if (table[i].ret == 0)
                        is_int((intmax_t) d, (intmax_t) table[i].delay,
                               "Retry-After '%s' waits %" PRIu64 " us", table[i].value, table[i].delay);
        }

        /* The fraction of the current second already gone comes off a date's delay. */
        usec_t d = 0;
        is_int(backoff_parse_retry_after("Sun, 06 Nov 1994 08:49:02 GMT", now + USEC_PER_SEC / 4, &d), 0,
               "a date two seconds ahead parses");
        is_int((intmax_t) d, (intmax_t) (USEC_PER_SEC * 7 / 4), "and waits 1.75 s from 08:49:00.25");

        /* RFC 850's two-digit year is read against now: more than 50 years ahead means the past. */
        is_int(backoff_parse_retry_after("Friday, 01-Jan-55 00:00:00 GMT", now, &d), 0,
               "an RFC 850 date in '55 parses");
        is_int((intmax_t) d, 0, "'55 seen from 1994 is 1955, in the past");
        is_int(backoff_parse_retry_after("Saturday, 01-Jan-00 00:00:00 GMT", now, &d), 0,
               "an RFC 850 date in '00 parses");
        is_int((intmax_t) d, (intmax_t) (300 * USEC_PER_SEC), "'00 seen from 1994 is 2000, in the future");
}

static void test_next_with_retry_after(void) {
        static const struct backoff_policy p = {
                .max_attempts = 5,
                .initial_delay_usec = 100 * USEC_PER_MSEC,
                .max_delay_usec = USEC_PER_SEC,
        };
        const usec_t now = RFC_DATE_EPOCH * USEC_PER_SEC;
        usec_t d;

        is_int(backoff_next(&p, 1, "120", now, 0, &d), 1, "a retry with Retry-After: 120");
        is_int((intmax_t) d, (intmax_t) (120 * USEC_PER_SEC),
               "Retry-After replaces the delay, also above max_delay");
        is_int(backoff_next(&p, 1, "400", now, 0, &d), 1, "a retry with Retry-After: 400");
        is_int((intmax_t) d, (intmax_t) BACKOFF_RETRY_AFTER_MAX_USEC,
               "a Retry-After above 5 minutes is clamped to 5 minutes");
        is_int(backoff_next(&p, 1, "0", now, 99999, &d), 1, "a retry with Retry-After: 0");
        is_int((intmax_t) d, 0, "Retry-After: 0 retries at once");
        is_int(backoff_next(&p, 2, "garbage", now, 150 * USEC_PER_MSEC, &d), 1,
               "a retry with a garbage Retry-After");
        is_int((intmax_t) d, (intmax_t) (150 * USEC_PER_MSEC),
               "a garbage Retry-After is ignored: the computed delay is used");
        is_int(backoff_next(&p, 2, NULL, now, 150 * USEC_PER_MSEC, &d), 1, "a retry without Retry-After");
        is_int((intmax_t) d, (intmax_t) (150 * USEC_PER_MSEC),
               "without Retry-After the computed delay is used");
}

static void test_transient(void) {
        static const struct {
                int error, status;
                bool transient;
        } table[] = {
                { 0, 200, false },
                { 0, 400, false },
                { 0, 401, false },
                { 0, 403, false },
                { 0, 404, false },
                { 0, 409, false },
                { 0, 429, true },
                { 0, 500, false },
                { 0, 501, false },
                { 0, 502, true },
                { 0, 503, true },
                { 0, 504, true },
                { -ECONNREFUSED, 0, true },
                { -ECONNRESET, 0, true },
                { -ECONNABORTED, 0, true },
                { -EPIPE, 200, true }, /* a body cut short: the error decides, not the status */
                { -ETIMEDOUT, 0, true },
                { -EHOSTUNREACH, 0, true },
                { -ENETUNREACH, 0, true },
                { -EBADMSG, 200, false },    /* malformed JSON */
                { -EKEYREJECTED, 0, false }, /* TLS verification */
                { -EPROTO, 0, false },
                { -EFBIG, 200, false },
                { -ENOMEM, 0, false },
                { -EINVAL, 503, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                is_int(backoff_is_transient(table[i].error, table[i].status), table[i].transient,
                       "error %d status %d is %s", table[i].error, table[i].status,
                       table[i].transient ? "retried" : "final");
}

int main(void) {
        test_growth();
        test_edges();
        test_jitter_distribution();
        test_attempt_limit();
        test_retry_after();
        test_next_with_retry_after();
        test_transient();
        return done();
}
