#pragma once

/* Small helpers shared by every module: cleanup attributes, ownership transfer, time. libc only. */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t usec_t;

#define USEC_INFINITY   ((usec_t) UINT64_MAX)
#define USEC_PER_MSEC   ((usec_t) 1000ULL)
#define USEC_PER_SEC    ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE ((usec_t) (60ULL * USEC_PER_SEC))
#define USEC_PER_HOUR   ((usec_t) (60ULL * USEC_PER_MINUTE))
#define NSEC_PER_USEC   ((uint64_t) 1000ULL)

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_         __attribute__((pure))
#define _const_        __attribute__((const))
#define _likely_(x)    (__builtin_expect(!!(x), 1))
#define _unlikely_(x)  (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

/* Takes ownership out of a cleanup variable: returns the pointer and leaves NULL behind. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

/* Defines func##p(type *p), calling func(*p) when *p is set, for use with _cleanup_(). */
#define DEFINE_CLEANUP_FUNC(type, func)       \
        static inline void func##p(type *p) { \
                if (*p)                       \
                        func(*p);             \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
DEFINE_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Overwrites a secret in a way the compiler may not elide, then frees it. Accepts NULL. */
static inline void erase_and_free(char *s) {
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}
DEFINE_CLEANUP_FUNC(char *, erase_and_free);
#define _cleanup_erase_ _cleanup_(erase_and_freep)

/* A copy of n bytes with a NUL after them (not counted); NULL when out of memory. */
static inline void *memdup(const void *p, size_t n) {
        char *q = malloc(n + 1);

        if (!q)
                return NULL;
        memcpy(q, p, n);
        q[n] = '\0';
        return q;
}

/* A new string formatted as printf() would print it; NULL when out of memory. */
static inline char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
static inline char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

/* For functions that explain their failures in a *reterr_message: sets *reterr (when reterr is not
 * NULL; a message already there is freed) to the formatted text and returns 'error', or -ENOMEM
 * when the text cannot be allocated. */
static inline int reterr_printf(char **reterr, int error, const char *fmt, ...) _printf_(3, 4);
static inline int reterr_printf(char **reterr, int error, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        if (!reterr)
                return error;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        free(*reterr);
        *reterr = s;
        return error;
}

static inline int negative_errno(void) {
        /* For libc calls that set errno: never returns 0, so an unset errno cannot pass as success. */
        return errno > 0 ? -errno : -EIO;
}

static inline usec_t timespec_to_usec(const struct timespec *ts) {
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / NSEC_PER_USEC;
}

static inline usec_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return timespec_to_usec(&ts);
}

static inline usec_t usec_add(usec_t a, usec_t b) {
        /* Saturates at USEC_INFINITY instead of wrapping. */
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline const char *yes_no(int b) {
        return b ? "yes" : "no";
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

#define streq(a, b) (strcmp((a), (b)) == 0)

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* A random number for jitter: the kernel's, or a clock-derived one when it has no entropy yet
 * (very early boot), since jitter only spreads load and any value gives a valid delay. */
static inline uint64_t random_u64(void) {
        uint64_t v;

        if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t) sizeof v)
                return v;
        return now_usec(CLOCK_MONOTONIC) * UINT64_C(0x9E3779B97F4A7C15);
}

/* An intrusive doubly linked list kept as head and tail pointers; items have prev and next. */
#define LIST_APPEND(head, tail, item)          \
        do {                                   \
                (item)->prev = (tail);         \
                (item)->next = NULL;           \
                if (tail)                      \
                        (tail)->next = (item); \
                else                           \
                        (head) = (item);       \
                (tail) = (item);               \
        } while (0)

#define LIST_REMOVE(head, tail, item)                      \
        do {                                               \
                if ((item)->prev)                          \
                        (item)->prev->next = (item)->next; \
                else                                       \
                        (head) = (item)->next;             \
                if ((item)->next)                          \
                        (item)->next->prev = (item)->prev; \
                else                                       \
                        (tail) = (item)->prev;             \
                (item)->prev = (item)->next = NULL;        \
        } while (0)
