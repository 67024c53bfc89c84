#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "util.h"

/* The units of a duration, largest first: a compound duration goes down this list. */
static const struct {
        const char *unit;
        usec_t usec;
} units[] = {
        { "h", USEC_PER_HOUR },
        { "m", USEC_PER_MINUTE },
        { "s", USEC_PER_SEC },
        { "ms", USEC_PER_MSEC },
};

int duration_parse(const char *s, usec_t *ret) {
        usec_t total = 0;
        size_t next = 0; /* the largest unit still allowed */

        assert(s);

        if (!*s)
                return -EINVAL;
        while (*s) {
                uint64_t v = 0;
                size_t n = 0, u;

                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                for (; isdigit((unsigned char) *s); s++) {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*s - '0');
                }
                while (s[n] >= 'a' && s[n] <= 'z')
                        n++;
                if (n == 0)
                        return -EINVAL;
                for (u = next; u < ELEMENTSOF(units); u++)
                        if (strlen(units[u].unit) == n && strncmp(s, units[u].unit, n) == 0)
                                break;
                if (u >= ELEMENTSOF(units))
                        return -EINVAL;
                if (v > (USEC_INFINITY - 1) / units[u].usec || total > USEC_INFINITY - 1 - v * units[u].usec)
                        return -ERANGE;
                total += v * units[u].usec;
                next = u + 1;
                s += n;
        }
        *ret = total;
        return 0;
}

/* Writes a duration the way the config file does ("168h", "1h30m"): whole milliseconds only. */
void duration_format(usec_t u, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(units) && n < size; i++) {
                if (u < units[i].usec)
                        continue;
                n += (size_t) snprintf(buf + n, size - n, "%" PRIu64 "%s", u / units[i].usec, units[i].unit);
                u %= units[i].usec;
        }
}
