/* Times the daemon's CPU-bound steps on their own, with the real code (it links the daemon's
 * library), for `make bench` (tests/bench/bench.sh). Each prints one line of key=value pairs:
 *
 *     bench-core load PATH REPS   manifest_load() of PATH (a file or a folder of manifests)
 *     bench-core plan N REPS      plan_build() of N declared connectors in 50 sets against N
 *                                 listed ones: half the listed ones declared, half orphans, so
 *                                 that N / 2 declared ones are missing
 *     bench-core list FILE REPS   cluster_decode_list_page() of FILE (a GET /_connector answer)
 *
 * Times are CLOCK_MONOTONIC; "median_ms" and "min_ms" are over REPS runs. With REPS 1 the program
 * does the work once, for valgrind --tool=callgrind --toggle-collect=FUNCTION. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "manifest.h"
#include "plan.h"
#include "util.h"
#include "yaml-read.h"

#define PLAN_SETS 50U
#define REPS_MAX  1000U

static int cmp_usec(const void *a, const void *b) {
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;

        return x < y ? -1 : x > y;
}

static void print_times(usec_t *t, unsigned reps) {
        qsort(t, reps, sizeof *t, cmp_usec);
        printf(" reps=%u median_ms=%.3f min_ms=%.3f\n", reps, (double) t[reps / 2] / USEC_PER_MSEC,
               (double) t[0] / USEC_PER_MSEC);
}

static int run_load(const char *path, unsigned reps) {
        usec_t t[REPS_MAX];
        size_t n_files = 0, n_sets = 0, n_declared = 0;

        for (unsigned i = 0; i < reps; i++) {
                struct yaml_read_diags errors = {};
                struct manifest *m = NULL;
                usec_t start = now_usec(CLOCK_MONOTONIC);
                int r;

                r = manifest_load(path, &m, &errors);
                t[i] = now_usec(CLOCK_MONOTONIC) - start;
                for (size_t k = 0; k < errors.n_items; k++)
                        fprintf(stderr, "%s\n", errors.items[k].text);
                yaml_read_diags_done(&errors);
                if (r < 0) {
                        fprintf(stderr, "Failed to load the manifests at '%s': %s\n", path, strerror(-r));
                        return 1;
                }
                n_files = m->n_files;
                n_sets = m->n_sets;
                n_declared = m->n_declared;
                manifest_free(m);
        }
        printf("load files=%zu sets=%zu declared=%zu", n_files, n_sets, n_declared);
        print_times(t, reps);
        return 0;
}

/* The synthetic inputs of run_plan() are built with these: running out of memory there ends the
 * program, as nothing can be measured. */
static void *must(void *p) {
        if (!p) {
                fprintf(stderr, "Out of memory\n");
                exit(2);
        }
        return p;
}

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return must(n < 0 ? NULL : s);
}

static char **list_of(char *s) {
        char **l = must(calloc(2, sizeof *l));

        l[0] = s;
        return l;
}

/* The shape of the scenarios (tests/bench/gen-scenario.py): set k owns ids 'team-KK-' and
 * index names 'search-team-KK-' of two service types; listed connector i is in set i % 50 and
 * declared when (i / 50) is even; the declared ids no connector has are 'team-KK-m<i>'. */
static int run_plan(size_t n, unsigned reps) {
        static const char *const types[] = { "google_drive", "sharepoint_online" };
        struct plan_set sets[PLAN_SETS] = {};
        struct plan_connector *actual = NULL;
        struct plan_policy policy = { .max_deletions = PLAN_UNLIMITED };
        size_t counts[_PLAN_KIND_MAX] = {};
        usec_t t[REPS_MAX];

        actual = must(calloc(MAX(n, (size_t) 1), sizeof *actual));
        for (unsigned k = 0; k < PLAN_SETS; k++) {
                struct plan_set *s = &sets[k];

                s->name = xasprintf("team-%02u", k);
                s->id_prefixes = list_of(xasprintf("team-%02u-", k));
                s->n_id_prefixes = 1;
                s->service_types = must(calloc(3, sizeof *s->service_types));
                s->service_types[0] = must(strdup(types[0]));
                s->service_types[1] = must(strdup(types[1]));
                s->n_service_types = 2;
                s->index_name_prefixes = list_of(xasprintf("search-team-%02u-", k));
                s->n_index_name_prefixes = 1;
                s->prune_enabled = true;
                s->delete_sync_jobs = true;
                s->connectors = must(calloc(n / PLAN_SETS + 1, sizeof *s->connectors));
        }
        for (size_t i = 0; i < n; i++) {
                struct plan_connector *c = &actual[i];
                struct plan_set *s = &sets[i % PLAN_SETS];

                c->id = xasprintf("team-%02zu-c%06zu", i % PLAN_SETS, i);
                c->name = xasprintf("team-%02zu %s %zu", i % PLAN_SETS, types[i % 3 == 2], i);
                c->service_type = must(strdup(types[i % 3 == 2]));
                c->index_name = xasprintf("search-team-%02zu-c%06zu", i % PLAN_SETS, i);
                if ((i / PLAN_SETS) % 2 == 0)
                        s->connectors[s->n_connectors++].id = must(strdup(c->id));
                else
                        s->connectors[s->n_connectors++].id =
                                xasprintf("team-%02zu-m%06zu", i % PLAN_SETS, i);
        }

        for (unsigned i = 0; i < reps; i++) {
                struct plan *p = NULL;
                usec_t start = now_usec(CLOCK_MONOTONIC);
                int r;

                r = plan_build(sets, PLAN_SETS, actual, n, &policy, &p);
                t[i] = now_usec(CLOCK_MONOTONIC) - start;
                if (r < 0) {
                        fprintf(stderr, "Failed to plan: %s\n", strerror(-r));
                        return 1;
                }
                memcpy(counts, p->counts, sizeof counts);
                plan_free(p);
        }
        printf("plan declared=%zu listed=%zu delete=%zu keep=%zu missing=%zu unmanaged=%zu protected=%zu", n,
               n, counts[PLAN_DELETE], counts[PLAN_KEEP], counts[PLAN_MISSING], counts[PLAN_UNMANAGED],
               counts[PLAN_PROTECTED]);
        print_times(t, reps);

        for (unsigned k = 0; k < PLAN_SETS; k++)
                plan_set_done(&sets[k]);
        for (size_t i = 0; i < n; i++)
                plan_connector_done(&actual[i]);
        free(actual);
        return 0;
}

static int read_all(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t done = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + done, (size_t) st.st_size - done);

                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        buf[done] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = done;
        return 0;
}

static int run_list(const char *path, unsigned reps) {
        _cleanup_free_ char *body = NULL;
        size_t size = 0, n = 0;
        usec_t t[REPS_MAX];
        int r;

        r = read_all(path, &body, &size);
        if (r < 0) {
                fprintf(stderr, "Failed to read '%s': %s\n", path, strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < reps; i++) {
                struct cluster_page page = {};
                _cleanup_free_ char *error = NULL;
                usec_t start = now_usec(CLOCK_MONOTONIC);

                r = cluster_decode_list_page(body, size, &page, &error);
                t[i] = now_usec(CLOCK_MONOTONIC) - start;
                if (r < 0) {
                        fprintf(stderr, "Failed to decode '%s': %s\n", path, error ?: strerror(-r));
                        return 1;
                }
                n = page.n_connectors;
                cluster_page_done(&page);
        }
        printf("list bytes=%zu connectors=%zu", size, n);
        print_times(t, reps);
        return 0;
}

int main(int argc, char **argv) {
        unsigned long reps;
        char *end;

        if (argc != 4) {
                fprintf(stderr, "Usage: %s load PATH REPS | plan N REPS | list FILE REPS\n", argv[0]);
                return 2;
        }
        errno = 0;
        reps = strtoul(argv[3], &end, 10);
        if (errno != 0 || *end || reps < 1 || reps > REPS_MAX) {
                fprintf(stderr, "Invalid REPS '%s': expected 1 to %u\n", argv[3], REPS_MAX);
                return 2;
        }

        if (streq(argv[1], "load"))
                return run_load(argv[2], (unsigned) reps);
        if (streq(argv[1], "list"))
                return run_list(argv[2], (unsigned) reps);
        if (streq(argv[1], "plan")) {
                unsigned long long n;

                errno = 0;
                n = strtoull(argv[2], &end, 10);
                if (errno != 0 || *end || n > 10000000ULL) {
                        fprintf(stderr, "Invalid N '%s'\n", argv[2]);
                        return 2;
                }
                return run_plan((size_t) n, (unsigned) reps);
        }
        fprintf(stderr, "Unknown command '%s'\n", argv[1]);
        return 2;
}
