#pragma once

/* Retry timing, pure: no clock, no randomness of its own, no I/O, no logging. The caller passes the
 * attempt number, the server's Retry-After value, the wall time "now" (for an HTTP-date) and one
 * uniformly distributed random draw; the answer is a delay.
 *
 * The delay after failed attempt n (1-based) is drawn uniformly from [0, min(max_delay,
 * initial_delay * 2^(n-1))] ("full jitter"). A valid Retry-After replaces that computed delay, also
 * when it is longer than max_delay, but never beyond BACKOFF_RETRY_AFTER_MAX_USEC: a longer one is
 * clamped to 5 minutes. An invalid Retry-After (not delta-seconds, not an HTTP-date) is ignored and
 * the computed delay is used. An HTTP-date in the past means "retry now" (0). */

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Longest wait a server's Retry-After can impose: 5 minutes (connector-reconciler(8), FAILING CLOSED). */
#define BACKOFF_RETRY_AFTER_MAX_USEC (5 * USEC_PER_MINUTE)

struct backoff_policy {
        unsigned max_attempts; /* attempts in all, the first one included; 0 counts as 1 */
        usec_t initial_delay_usec;
        usec_t max_delay_usec;
};

/* The computed (jittered) delay after failed attempt 'attempt' (1-based; 0 counts as 1):
 * 'random' mapped onto [0, min(max_delay, initial_delay * 2^(attempt-1))]. */
usec_t backoff_jitter_delay(const struct backoff_policy *p, unsigned attempt, uint64_t random);

/* Parses a Retry-After header value: delta-seconds ("120") or an HTTP-date in any of the three
 * forms of RFC 9110 section 5.6.7 (IMF-fixdate, RFC 850, asctime), read against 'now_wall_usec'
 * (CLOCK_REALTIME). Surrounding blanks are allowed. Returns 0 and the delay in *ret_usec (clamped to
 * BACKOFF_RETRY_AFTER_MAX_USEC; 0 for a date in the past), or -EINVAL for anything else. */
int backoff_parse_retry_after(const char *value, usec_t now_wall_usec, usec_t *ret_usec);

/* Decides what follows failed attempt 'attempt' (1-based). Returns 0 when the attempts are used up
 * (no retry); 1 with the delay before the next attempt in *ret_delay_usec otherwise: a valid
 * 'retry_after' (may be NULL) replaces the computed delay as the header comment above says. */
int backoff_next(const struct backoff_policy *p, unsigned attempt, const char *retry_after,
                 usec_t now_wall_usec, uint64_t random, usec_t *ret_delay_usec);

/* Is the outcome of a request worth retrying? 'error' is the transfer's negative errno (0 when a
 * response arrived), 'status' the HTTP status (looked at only when error is 0). Retried: connection
 * failures, timeouts, dropped connections (-ECONNREFUSED, -ECONNRESET, -ECONNABORTED, -EPIPE,
 * -ETIMEDOUT, -EHOSTUNREACH, -ENETUNREACH, -ENETDOWN, -EHOSTDOWN, -ENOTCONN) and statuses 429, 502,
 * 503, 504. Everything else is final: 500 and other statuses, -EBADMSG (malformed bodies),
 * -EKEYREJECTED (TLS verification), -EFBIG (body too large), -EPROTO. */
bool backoff_is_transient(int error, int status);
