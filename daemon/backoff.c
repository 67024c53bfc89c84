#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "backoff.h"

usec_t backoff_jitter_delay(const struct backoff_policy *p, unsigned attempt, uint64_t random) {
        usec_t cap;

        assert(p);

        if (attempt == 0)
                attempt = 1;

        /* initial * 2^(attempt-1), saturating at max_delay without overflowing. */
        cap = MIN(p->initial_delay_usec, p->max_delay_usec);
        for (unsigned i = 1; i < attempt && cap < p->max_delay_usec; i++)
                cap = cap > p->max_delay_usec / 2 ? p->max_delay_usec : cap * 2;

        if (cap == 0)
                return 0;
        if (cap == USEC_INFINITY)
                return random;

        /* The modulo bias is below cap / 2^64: a few parts in 10^8 even for hour-long caps. */
        return random % (cap + 1);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static int parse_digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                char c = (*p)[i];

                if (c < '0' || c > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (c - '0');
        }

        *p += n;
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *s) {
        size_t l = strlen(s);

        if (strncmp(*p, s, l) != 0)
                return -EINVAL;
        *p += l;
        return 0;
}

static int parse_name(const char **p, const char *const *names, size_t n_names, size_t len) {
        for (size_t i = 0; i < n_names; i++) {
                size_t l = len > 0 ? len : strlen(names[i]);

                if (strncasecmp(*p, names[i], l) == 0 && (len > 0 || strlen(names[i]) == l)) {
                        *p += l;
                        return (int) i;
                }
        }
        return -EINVAL;
}

static const char *const month_names[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const day_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const day_names_long[] = {
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

static int parse_time_of_day(const char **p, unsigned *h, unsigned *m, unsigned *s) {
        if (parse_digits(p, 2, h) < 0 || expect(p, ":") < 0 || parse_digits(p, 2, m) < 0 ||
            expect(p, ":") < 0 || parse_digits(p, 2, s) < 0)
                return -EINVAL;
        if (*h > 23 || *m > 59 || *s > 60) /* 60: a leap second */
                return -EINVAL;
        return 0;
}

static bool is_leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int64_t year_of_epoch_seconds(int64_t t) {
        /* Inverse of days_from_civil(), year only. */
        int64_t z = t / 86400 + 719468, era, doe, yoe, y, doy, mp;

        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        return mp >= 10 ? y + 1 : y;
}

/* Parses an HTTP-date into seconds since the epoch. Returns 0 or -EINVAL. */
static int parse_http_date(const char *s, usec_t now_wall_usec, int64_t *ret) {
        static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        unsigned day, year, h, m, sec;
        const char *p = s;
        int64_t y;
        int month;

        if (parse_name(&p, day_names, ELEMENTSOF(day_names), 3) >= 0 && *p == ',') {
                /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
                p++;
                if (expect(&p, " ") < 0 || parse_digits(&p, 2, &day) < 0 || expect(&p, " ") < 0)
                        return -EINVAL;
                month = parse_name(&p, month_names, ELEMENTSOF(month_names), 3);
                if (month < 0 || expect(&p, " ") < 0 || parse_digits(&p, 4, &year) < 0 ||
                    expect(&p, " ") < 0 || parse_time_of_day(&p, &h, &m, &sec) < 0 || expect(&p, " GMT") < 0)
                        return -EINVAL;
                y = year;
        } else if ((p = s, parse_name(&p, day_names_long, ELEMENTSOF(day_names_long), 0) >= 0)) {
                /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
                int64_t now_year;

                if (expect(&p, ", ") < 0 || parse_digits(&p, 2, &day) < 0 || expect(&p, "-") < 0)
                        return -EINVAL;
                month = parse_name(&p, month_names, ELEMENTSOF(month_names), 3);
                if (month < 0 || expect(&p, "-") < 0 || parse_digits(&p, 2, &year) < 0 ||
                    expect(&p, " ") < 0 || parse_time_of_day(&p, &h, &m, &sec) < 0 || expect(&p, " GMT") < 0)
                        return -EINVAL;

                /* RFC 9110: a two-digit year more than 50 years ahead is the most recent past year
                 * with those digits; so the year lands in [now - 49, now + 50]. */
                now_year = year_of_epoch_seconds((int64_t) (now_wall_usec / USEC_PER_SEC));
                y = now_year - now_year % 100 + year;
                if (y > now_year + 50)
                        y -= 100;
                else if (y < now_year - 49)
                        y += 100;
        } else if ((p = s, parse_name(&p, day_names, ELEMENTSOF(day_names), 3) >= 0)) {
                /* asctime: "Sun Nov  6 08:49:37 1994" */
                if (expect(&p, " ") < 0)
                        return -EINVAL;
                month = parse_name(&p, month_names, ELEMENTSOF(month_names), 3);
                if (month < 0 || expect(&p, " ") < 0)
                        return -EINVAL;
                if (*p == ' ') {
                        p++;
                        if (parse_digits(&p, 1, &day) < 0)
                                return -EINVAL;
                } else if (parse_digits(&p, 2, &day) < 0)
                        return -EINVAL;
                if (expect(&p, " ") < 0 || parse_time_of_day(&p, &h, &m, &sec) < 0 || expect(&p, " ") < 0 ||
                    parse_digits(&p, 4, &year) < 0)
                        return -EINVAL;
                y = year;
        } else
                return -EINVAL;

        if (*p != '\0')
                return -EINVAL;
        if (day < 1 || day > mdays[month] + (month == 1 && is_leap(y)))
                return -EINVAL;

        *ret = days_from_civil(y, (unsigned) month + 1, day) * 86400 + h * 3600 + m * 60 + MIN(sec, 59u);
        return 0;
}

int backoff_parse_retry_after(const char *value, usec_t now_wall_usec, usec_t *ret_usec) {
        char buf[64];
        size_t l;

        assert(value);
        assert(ret_usec);

        while (is_blank(*value))
                value++;
        l = strlen(value);
        while (l > 0 && is_blank(value[l - 1]))
                l--;
        if (l == 0 || l >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, value, l);
        buf[l] = '\0';

        if (buf[0] >= '0' && buf[0] <= '9') {
                /* delta-seconds: 1*DIGIT; anything longer than the cap is the cap. */
                uint64_t s = 0;

                for (const char *p = buf; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        if (s <= BACKOFF_RETRY_AFTER_MAX_USEC / USEC_PER_SEC)
                                s = s * 10 + (uint64_t) (*p - '0');
                }
                *ret_usec = MIN(s * USEC_PER_SEC, BACKOFF_RETRY_AFTER_MAX_USEC);
                return 0;
        }

        int64_t t, now = (int64_t) (now_wall_usec / USEC_PER_SEC);
        if (parse_http_date(buf, now_wall_usec, &t) < 0)
                return -EINVAL;

        if (t <= now)
                *ret_usec = 0;
        else if ((uint64_t) (t - now) >= BACKOFF_RETRY_AFTER_MAX_USEC / USEC_PER_SEC)
                *ret_usec = BACKOFF_RETRY_AFTER_MAX_USEC;
        else
                /* Whole seconds from now, minus the part of the current second already gone. */
                *ret_usec = (usec_t) (t - now) * USEC_PER_SEC - now_wall_usec % USEC_PER_SEC;
        return 0;
}

int backoff_next(const struct backoff_policy *p, unsigned attempt, const char *retry_after,
                 usec_t now_wall_usec, uint64_t random, usec_t *ret_delay_usec) {
        usec_t d;

        assert(p);
        assert(ret_delay_usec);

        if (attempt >= MAX(p->max_attempts, 1u))
                return 0;

        if (!retry_after || backoff_parse_retry_after(retry_after, now_wall_usec, &d) < 0)
                d = backoff_jitter_delay(p, attempt, random);

        *ret_delay_usec = d;
        return 1;
}

bool backoff_is_transient(int error, int status) {
        if (error < 0)
                switch (error) {
                case -ECONNREFUSED:
                case -ECONNRESET:
                case -ECONNABORTED:
                case -EPIPE:
                case -ETIMEDOUT:
                case -EHOSTUNREACH:
                case -ENETUNREACH:
                case -ENETDOWN:
                case -EHOSTDOWN:
                case -ENOTCONN:
                        return true;
                default:
                        return false;
                }

        return status == 429 || status == 502 || status == 503 || status == 504;
}
