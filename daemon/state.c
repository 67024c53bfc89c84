#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "state.h"
#include "fs-util.h"
#include "json-scan.h"
#include "json-write.h"
#include "plan.h"
#include "utf8.h"
#include "util.h"

/* A member's name quoted in a message is cut to this many bytes: the file is not ours to print. */
#define MESSAGE_KEY_MAX 64

/* The two arrays, which the reader and the writer treat alike but for their second member. */
enum list_kind {
        LIST_ORPHANS,
        LIST_PRIOR,
        LIST_DELETED,
        LIST_CREATING,
        _LIST_KIND_MAX,
};

static const char *const list_names[_LIST_KIND_MAX] = {
        [LIST_ORPHANS] = "orphans",
        [LIST_PRIOR] = "prior",
        [LIST_DELETED] = "deleted",
        [LIST_CREATING] = "creating",
};

static const char *const second_names[_LIST_KIND_MAX] = {
        [LIST_ORPHANS] = "since_usec",
        [LIST_PRIOR] = "set",
        [LIST_DELETED] = "cycles_absent",
        [LIST_CREATING] = "cycles",
};

/* The optional third member of an entry, or NULL. */
static const char *const third_names[_LIST_KIND_MAX] = {
        [LIST_DELETED] = "deleted_usec",
        [LIST_CREATING] = "since_usec",
};

/* ---- the lock ---- */

/* The pid the lock file names ("PID\n"), or 0 when it names none. */
static pid_t read_holder(int fd) {
        char buf[32], *end;
        ssize_t n;
        long pid;

        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        if (buf[0] < '1' || buf[0] > '9')
                return 0;
        errno = 0;
        pid = strtol(buf, &end, 10);
        if (errno != 0 || !streq(end, "\n") || pid <= 0 || (long) (pid_t) pid != pid)
                return 0;
        return (pid_t) pid;
}

/* The lock's holder is the only writer of the state file and of the metrics' counters
 * (metrics.h's METRICS_STATE_FILE_NAME): any temporary of them left in the folder
 * (".state.json.PID.tmp", fs_write_atomic()'s) was left by an instance that crashed. */
static void remove_stale_temporaries(const char *dir) {
        static const char *const prefixes[] = { "." STATE_FILE_NAME ".", ".metrics.state." };
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);

                for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                        if (startswith(de->d_name, prefixes[i]) && l > 4 &&
                            streq(de->d_name + l - 4, ".tmp")) {
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                                break;
                        }
        }
        (void) closedir(d);
}

int state_lock(const char *dir, int *ret_fd, pid_t *reterr_holder) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char buf[32];
        char *p;
        int n, r;

        assert(dir);
        assert(ret_fd);

        if (asprintf(&p, "%s/%s", dir, STATE_LOCK_NAME) < 0)
                return -ENOMEM;
        path = p;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return negative_errno();
                if (reterr_holder)
                        *reterr_holder = read_holder(fd);
                return -EBUSY;
        }

        /* Ours now: the file may still name a holder that crashed. */
        if (ftruncate(fd, 0) < 0)
                return negative_errno();
        n = snprintf(buf, sizeof buf, "%ld\n", (long) getpid());
        assert(n > 0 && (size_t) n < sizeof buf);
        r = fs_write_all(fd, buf, (size_t) n); /* at offset 0: the file was just opened */
        if (r < 0)
                return r;

        remove_stale_temporaries(dir);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void state_unlock(int fd) {
        if (fd < 0)
                return;
        /* Still holding the lock, so no new holder's pid is erased. */
        (void) ftruncate(fd, 0);
        (void) close(fd);
}

/* ---- the state ---- */

int state_new(struct state **ret) {
        struct state *s;

        assert(ret);

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

struct state *state_free(struct state *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_orphans; i++)
                free(s->orphans[i].id);
        free(s->orphans);
        for (size_t i = 0; i < s->n_prior; i++) {
                free(s->prior[i].id);
                free(s->prior[i].set);
        }
        free(s->prior);
        for (size_t i = 0; i < s->n_deleted; i++)
                free(s->deleted[i].id);
        free(s->deleted);
        for (size_t i = 0; i < s->n_creating; i++)
                free(s->creating[i].id);
        free(s->creating);
        free(s);
        return NULL;
}

static int cmp_id_orphan(const void *key, const void *e) {
        return strcmp(key, ((const struct plan_orphan_seen *) e)->id);
}

static int cmp_id_prior(const void *key, const void *e) {
        return strcmp(key, ((const struct plan_prior *) e)->id);
}

const struct plan_orphan_seen *state_find_orphan(const struct state *s, const char *id) {
        assert(s);
        assert(id);

        if (s->n_orphans == 0)
                return NULL;
        return bsearch(id, s->orphans, s->n_orphans, sizeof s->orphans[0], cmp_id_orphan);
}

const struct plan_prior *state_find_prior(const struct state *s, const char *id) {
        assert(s);
        assert(id);

        if (s->n_prior == 0)
                return NULL;
        return bsearch(id, s->prior, s->n_prior, sizeof s->prior[0], cmp_id_prior);
}

/* ---- reading ---- */

static int bad(char **reterr_message, const char *fmt, ...) _printf_(2, 3);
static int bad(char **reterr_message, const char *fmt, ...) {
        va_list ap;
        char *m;
        int r;

        if (!reterr_message)
                return -EBADMSG;
        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *reterr_message = m;
        return -EBADMSG;
}

/* json_scan_next(), with a message when the body is no valid JSON. */
static int next(struct json_scan *s, struct json_scan_token *t, char **reterr_message) {
        if (json_scan_next(s, t) >= 0)
                return 0;
        return bad(reterr_message, "not valid JSON at byte %zu: %s", s->error_offset,
                   strna(json_scan_error_to_string(s->error)));
}

/* An unknown member's name for a message: quoted and escaped, cut to MESSAGE_KEY_MAX bytes. */
static int quote_key(const struct json_scan_token *key, char **ret) {
        _cleanup_free_ char *k = NULL, *q = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        r = json_scan_string_dup(key, &k);
        if (r < 0)
                return r;
        if (strlen(k) > MESSAGE_KEY_MAX)
                k[MESSAGE_KEY_MAX] = '\0'; /* a cut sequence shows as U+FFFD */

        f = open_memstream(&q, &size);
        if (!f)
                return -ENOMEM;
        json_write_string(f, k);
        r = ferror(f);
        if (fclose(f) != 0 || r != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(q);
        return 0;
}

static int bad_member(char **reterr_message, const struct json_scan_token *key, const char *where) {
        _cleanup_free_ char *q = NULL;
        int r;

        r = quote_key(key, &q);
        if (r < 0)
                return r;
        if (where)
                return bad(reterr_message, "'%s' has an unknown member %s", where, q);
        return bad(reterr_message, "unknown member %s", q);
}

/* A number token written in digits only (the scanner already refused leading zeros). Returns 1 and
 * *ret, 0 when it is no such number, -ERANGE when it does not fit 64 bits. */
static int parse_u64(const struct json_scan_token *t, uint64_t *ret) {
        uint64_t v = 0;

        if (t->type != JSON_SCAN_NUMBER || t->size == 0)
                return 0;
        for (size_t i = 0; i < t->size; i++) {
                unsigned d = (unsigned) (t->start[i] - '0');

                if (d > 9)
                        return 0;
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 1;
}

/* Reads a non-empty string value of at most 'max' bytes (0: no limit) into *ret; list, index and
 * member name it in messages ("orphans[3].id"). */
static int read_string(struct json_scan *s, const char *list, size_t index, const char *member, size_t max,
                       char **ret, char **reterr_message) {
        _cleanup_free_ char *v = NULL;
        struct json_scan_token t;
        size_t l;
        int r;

        r = next(s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_STRING)
                return bad(reterr_message, "'%s[%zu].%s' is not a string", list, index, member);
        r = json_scan_string_dup(&t, &v);
        if (r < 0)
                return r;
        l = strlen(v);
        if (l == 0)
                return bad(reterr_message, "'%s[%zu].%s' is empty", list, index, member);
        if (max > 0 && l > max)
                return bad(reterr_message, "'%s[%zu].%s' is longer than %zu bytes", list, index, member,
                           max);
        *ret = TAKE_PTR(v);
        return 0;
}

/* Reads the integer member 'member' of entry 'index' of 'list', its key read already. */
static int read_u64(struct json_scan *s, const char *list, size_t index, const char *member, uint64_t *ret,
                    char **reterr_message) {
        struct json_scan_token v;
        int r;

        r = next(s, &v, reterr_message);
        if (r < 0)
                return r;
        r = parse_u64(&v, ret);
        if (r == -ERANGE)
                return bad(reterr_message, "'%s[%zu].%s' is larger than %" PRIu64, list, index, member,
                           UINT64_MAX);
        if (r == 0)
                return bad(reterr_message, "'%s[%zu].%s' is not a non-negative integer", list, index,
                           member);
        return 0;
}

/* Reads one entry, after its '{', into *ret_id and *ret_set or *ret_since, and for "deleted" and
 * "creating" its optional third member into *ret_deleted_usec (0 when absent). */
static int read_entry(struct json_scan *s, enum list_kind kind, size_t index, char **ret_id, char **ret_set,
                      uint64_t *ret_since, uint64_t *ret_deleted_usec, char **reterr_message) {
        const char *list = list_names[kind], *second = second_names[kind], *third = third_names[kind];
        _cleanup_free_ char *id = NULL, *set = NULL;
        bool have_second = false, have_deleted_usec = false;
        uint64_t since = 0, deleted_usec = 0;
        int r;

        for (;;) {
                struct json_scan_token key;

                r = next(s, &key, reterr_message);
                if (r < 0)
                        return r;
                if (key.type == JSON_SCAN_OBJECT_END)
                        break;
                assert(key.type == JSON_SCAN_KEY);

                if (json_scan_string_equal(&key, "id")) {
                        if (id)
                                return bad(reterr_message, "'%s[%zu].id' is given twice", list, index);
                        r = read_string(s, list, index, "id", STATE_ID_MAX, &id, reterr_message);
                        if (r < 0)
                                return r;
                } else if (json_scan_string_equal(&key, second)) {
                        if (have_second)
                                return bad(reterr_message, "'%s[%zu].%s' is given twice", list, index,
                                           second);
                        have_second = true;
                        if (kind == LIST_PRIOR)
                                r = read_string(s, list, index, "set", 0, &set, reterr_message);
                        else
                                r = read_u64(s, list, index, second, &since, reterr_message);
                        if (r < 0)
                                return r;
                } else if (third && json_scan_string_equal(&key, third)) {
                        if (have_deleted_usec)
                                return bad(reterr_message, "'%s[%zu].%s' is given twice", list, index,
                                           third);
                        have_deleted_usec = true;
                        r = read_u64(s, list, index, third, &deleted_usec, reterr_message);
                        if (r < 0)
                                return r;
                } else {
                        char where[32];

                        (void) snprintf(where, sizeof where, "%s[%zu]", list, index);
                        return bad_member(reterr_message, &key, where);
                }
        }

        if (!id)
                return bad(reterr_message, "'%s[%zu].id' is missing", list, index);
        if (!have_second)
                return bad(reterr_message, "'%s[%zu].%s' is missing", list, index, second);

        *ret_id = TAKE_PTR(id);
        if (kind == LIST_PRIOR)
                *ret_set = TAKE_PTR(set);
        else
                *ret_since = since;
        *ret_deleted_usec = deleted_usec;
        return 0;
}

/* Makes room for 'need' elements of 'size' bytes in 'array', which has room for *allocated:
 * returns the array, moved or not, or NULL on OOM (the old array is left as it was). */
static void *grow(void *array, size_t *allocated, size_t need, size_t size) {
        size_t a;
        void *p;

        if (need <= *allocated)
                return array;
        a = MAX(need, *allocated * 2);
        a = MAX(a, (size_t) 64);
        if (a > SIZE_MAX / size)
                return NULL;
        p = realloc(array, a * size);
        if (!p)
                return NULL;
        *allocated = a;
        return p;
}

/* Reads one array, its name read already, into the state. */
static int read_list(struct json_scan *s, enum list_kind kind, struct state *st, char **reterr_message) {
        const char *list = list_names[kind];
        struct json_scan_token t;
        size_t allocated = 0;
        int r;

        r = next(s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_ARRAY_BEGIN)
                return bad(reterr_message, "'%s' is not an array", list);

        for (size_t i = 0;; i++) {
                const char *previous;
                char *id = NULL, *set = NULL;
                uint64_t since = 0, deleted_usec = 0;
                int c;

                r = next(s, &t, reterr_message);
                if (r < 0)
                        return r;
                if (t.type == JSON_SCAN_ARRAY_END)
                        break;
                if (t.type != JSON_SCAN_OBJECT_BEGIN)
                        return bad(reterr_message, "'%s[%zu]' is not an object", list, i);

                r = read_entry(s, kind, i, &id, &set, &since, &deleted_usec, reterr_message);
                if (r < 0)
                        return r;

                if (kind == LIST_ORPHANS) {
                        struct plan_orphan_seen *a;

                        previous = i > 0 ? st->orphans[i - 1].id : NULL;
                        a = grow(st->orphans, &allocated, i + 1, sizeof st->orphans[0]);
                        if (a) {
                                st->orphans = a;
                                a[st->n_orphans++] =
                                        (struct plan_orphan_seen){ .id = id, .since_usec = since };
                        }
                        r = a ? 0 : -ENOMEM;
                } else if (kind == LIST_DELETED || kind == LIST_CREATING) {
                        struct plan_deleted **list_p = kind == LIST_DELETED ? &st->deleted : &st->creating;
                        size_t *n_p = kind == LIST_DELETED ? &st->n_deleted : &st->n_creating;
                        struct plan_deleted *a;

                        previous = i > 0 ? (*list_p)[i - 1].id : NULL;
                        a = grow(*list_p, &allocated, i + 1, sizeof a[0]);
                        if (a) {
                                *list_p = a;
                                a[(*n_p)++] = (struct plan_deleted){
                                        .id = id,
                                        .cycles_absent = since,
                                        .deleted_usec = deleted_usec,
                                };
                        }
                        r = a ? 0 : -ENOMEM;
                } else {
                        struct plan_prior *a;

                        previous = i > 0 ? st->prior[i - 1].id : NULL;
                        a = grow(st->prior, &allocated, i + 1, sizeof st->prior[0]);
                        if (a) {
                                st->prior = a;
                                a[st->n_prior++] = (struct plan_prior){ .id = id, .set = set };
                        }
                        r = a ? 0 : -ENOMEM;
                }
                if (r < 0) {
                        free(id);
                        free(set);
                        return r;
                }

                /* Sorted and unique, which the lookups need and a file we wrote always is. */
                c = previous ? strcmp(previous, id) : -1;
                if (c == 0)
                        return bad(reterr_message, "'%s[%zu].id' repeats '%s[%zu].id'", list, i, list,
                                   i - 1);
                if (c > 0)
                        return bad(reterr_message,
                                   "'%s[%zu].id' sorts before '%s[%zu].id' (ids must be sorted)", list, i,
                                   list, i - 1);
        }
        return 0;
}

static int parse_state(const char *body, size_t size, struct state **ret, char **reterr_message) {
        _cleanup_(state_freep) struct state *st = NULL;
        struct json_scan s;
        struct json_scan_token t;
        bool have_version = false, have_orphans = false, have_deleted = false, have_creating = false;
        int r;

        r = state_new(&st);
        if (r < 0)
                return r;

        r = json_scan_init(&s, body, size);
        if (r < 0)
                return bad(reterr_message, "not valid JSON at byte %zu: %s", s.error_offset,
                           strna(json_scan_error_to_string(s.error)));
        r = next(&s, &t, reterr_message);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_OBJECT_BEGIN)
                return bad(reterr_message, "not a JSON object");

        for (;;) {
                struct json_scan_token key;

                r = next(&s, &key, reterr_message);
                if (r < 0)
                        return r;
                if (key.type == JSON_SCAN_OBJECT_END)
                        break;
                assert(key.type == JSON_SCAN_KEY);

                if (!have_version) {
                        struct json_scan_token v;
                        uint64_t version;

                        if (!json_scan_string_equal(&key, "format_version"))
                                return bad(reterr_message, "'format_version' is not the first member");
                        r = next(&s, &v, reterr_message);
                        if (r < 0)
                                return r;
                        if (parse_u64(&v, &version) <= 0)
                                return bad(reterr_message, "'format_version' is not %d",
                                           STATE_FORMAT_VERSION);
                        if (version != STATE_FORMAT_VERSION)
                                return bad(reterr_message,
                                           "format_version %" PRIu64 " is not supported (only %d)", version,
                                           STATE_FORMAT_VERSION);
                        have_version = true;
                } else if (json_scan_string_equal(&key, "format_version"))
                        return bad(reterr_message, "'format_version' is given twice");
                else if (json_scan_string_equal(&key, "orphans")) {
                        if (have_orphans)
                                return bad(reterr_message, "'orphans' is given twice");
                        have_orphans = true;
                        r = read_list(&s, LIST_ORPHANS, st, reterr_message);
                        if (r < 0)
                                return r;
                } else if (json_scan_string_equal(&key, "prior")) {
                        if (st->have_prior)
                                return bad(reterr_message, "'prior' is given twice");
                        st->have_prior = true;
                        r = read_list(&s, LIST_PRIOR, st, reterr_message);
                        if (r < 0)
                                return r;
                } else if (json_scan_string_equal(&key, "deleted")) {
                        if (have_deleted)
                                return bad(reterr_message, "'deleted' is given twice");
                        have_deleted = true;
                        r = read_list(&s, LIST_DELETED, st, reterr_message);
                        if (r < 0)
                                return r;
                } else if (json_scan_string_equal(&key, "creating")) {
                        if (have_creating)
                                return bad(reterr_message, "'creating' is given twice");
                        have_creating = true;
                        r = read_list(&s, LIST_CREATING, st, reterr_message);
                        if (r < 0)
                                return r;
                } else
                        return bad_member(reterr_message, &key, NULL);
        }
        if (!have_version)
                return bad(reterr_message, "'format_version' is missing");
        if (!have_orphans)
                return bad(reterr_message, "'orphans' is missing");

        if (json_scan_finish(&s) < 0)
                return bad(reterr_message, "not valid JSON at byte %zu: %s", s.error_offset,
                           strna(json_scan_error_to_string(s.error)));

        *ret = TAKE_PTR(st);
        return 0;
}

int state_load(const char *dir, struct state **ret, char **reterr_message) {
        _cleanup_free_ char *path = NULL, *body = NULL;
        size_t size;
        char *p;
        int r;

        assert(dir);
        assert(ret);

        if (asprintf(&p, "%s/%s", dir, STATE_FILE_NAME) < 0)
                return -ENOMEM;
        path = p;

        r = fs_read_file(path, STATE_FILE_SIZE_MAX, &body, &size);
        if (r == -EFBIG)
                return bad(reterr_message, "larger than %zu bytes", STATE_FILE_SIZE_MAX);
        if (r == -EINVAL)
                return bad(reterr_message, "not a regular file");
        if (r < 0)
                return r;

        return parse_state(body, size, ret, reterr_message);
}

/* ---- writing ---- */

static bool utf8_is_valid(const char *s) {
        while (*s) {
                uint32_t cp;
                size_t n;

                if ((unsigned char) *s < 0x80) {
                        s++;
                        continue;
                }
                n = utf8_decode(s, &cp);
                if (n == 0)
                        return false;
                s += n;
        }
        return true;
}

/* Whether 's' reads back as written: not NULL, not empty, at most 'max' bytes (0: no limit),
 * valid UTF-8 (json_write_string() writes U+FFFD for a byte that is not). */
static bool string_is_valid(const char *s, size_t max) {
        if (!s || s[0] == '\0')
                return false;
        if (max > 0 && strnlen(s, max + 1) > max)
                return false;
        return utf8_is_valid(s);
}

/* An id to sort: where its entry is in the array. */
struct ref {
        const char *id;
        size_t index;
        bool same; /* once sorted: the id equals the previous ref's */
};

static int ref_cmp(const void *a, const void *b) {
        const struct ref *x = a, *y = b;
        int r = strcmp(x->id, y->id);

        if (r != 0)
                return r;
        return (x->index > y->index) - (x->index < y->index);
}

/* Sorts refs[0..n), given in index order, by id (bytewise; equal ids in index order) and marks
 * each ref whose id equals its predecessor's, unless they are in order already: one pass finds
 * out, in the common case of a state that state_load() gave. O(n log n) comparisons otherwise
 * (measured 15 to 30 ms for 50,000 ids). */
static int refs_sort_if_needed(struct ref *refs, size_t n) {
        bool sorted = true;

        for (size_t i = 1; i < n && sorted; i++) {
                int c = strcmp(refs[i - 1].id, refs[i].id);

                refs[i].same = c == 0;
                sorted = c <= 0;
        }
        if (sorted)
                return 0;

        qsort(refs, n, sizeof *refs, ref_cmp);
        for (size_t i = 1; i < n; i++)
                refs[i].same = streq(refs[i - 1].id, refs[i].id);
        return 0;
}

/* json_write_string(), without its per-character work for the common string that needs no
 * escape: the same output, since state_save() checked that every string is valid UTF-8, which
 * json_write_string() writes as it is. */
static void write_string(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        for (; *p; p++)
                if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
                        json_write_string(f, s);
                        return;
                }
        (void) fputc('"', f);
        (void) fwrite(s, 1, (size_t) ((const char *) p - s), f);
        (void) fputc('"', f);
}

static void write_u64(FILE *f, uint64_t v) {
        char buf[20], *p = buf + sizeof buf;

        do {
                *--p = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        (void) fwrite(p, 1, (size_t) (buf + sizeof buf - p), f);
}

struct writer {
        const struct state *state;
        const struct ref *orphans; /* sorted by id */
        const struct ref *prior;   /* sorted by id; NULL without have_prior */
};

static void write_orphans(FILE *f, const struct state *s, const struct ref *refs) {
        bool first = true;

        (void) fputs("\"orphans\":[", f);
        for (size_t i = 0, j; i < s->n_orphans; i = j) {
                const struct plan_orphan_seen *o = &s->orphans[refs[i].index];
                uint64_t since = o->since_usec;

                /* An id given twice: its latest since_usec, so that a repeat never shortens a wait. */
                for (j = i + 1; j < s->n_orphans && refs[j].same; j++)
                        since = MAX(since, s->orphans[refs[j].index].since_usec);

                (void) fputs(first ? "\n{\"id\":" : ",\n{\"id\":", f);
                write_string(f, o->id);
                (void) fputs(",\"since_usec\":", f);
                write_u64(f, since);
                (void) fputc('}', f);
                first = false;
        }
        (void) fputs(first ? "]" : "\n]", f);
}

static void write_prior(FILE *f, const struct state *s, const struct ref *refs) {
        bool first = true;

        (void) fputs(",\"prior\":[", f);
        for (size_t i = 0; i < s->n_prior; i++) {
                const struct plan_prior *p = &s->prior[refs[i].index];

                /* An id given twice: its first copy, which the stable sort puts first. */
                if (refs[i].same)
                        continue;
                (void) fputs(first ? "\n{\"id\":" : ",\n{\"id\":", f);
                write_string(f, p->id);
                (void) fputs(",\"set\":", f);
                write_string(f, p->set);
                (void) fputc('}', f);
                first = false;
        }
        (void) fputs(first ? "]" : "\n]", f);
}

static void write_deleted(FILE *f, enum list_kind kind, const struct plan_deleted *l, size_t n) {
        (void) fprintf(f, ",\"%s\":[", list_names[kind]);
        for (size_t i = 0; i < n; i++) {
                (void) fputs(i == 0 ? "\n{\"id\":" : ",\n{\"id\":", f);
                write_string(f, l[i].id);
                (void) fprintf(f, ",\"%s\":", second_names[kind]);
                write_u64(f, l[i].cycles_absent);
                if (l[i].deleted_usec > 0) {
                        (void) fprintf(f, ",\"%s\":", third_names[kind]);
                        write_u64(f, l[i].deleted_usec);
                }
                (void) fputc('}', f);
        }
        (void) fputs("\n]", f);
}

static int write_state(FILE *f, void *userdata) {
        const struct writer *w = userdata;
        off_t size;

        /* Once, so that the many calls below find the lock theirs (the daemon has threads). */
        flockfile(f);
        (void) fputs("{\"format_version\":", f);
        write_u64(f, STATE_FORMAT_VERSION);
        (void) fputc(',', f);
        write_orphans(f, w->state, w->orphans);
        if (w->prior)
                write_prior(f, w->state, w->prior);
        if (w->state->n_deleted > 0)
                write_deleted(f, LIST_DELETED, w->state->deleted, w->state->n_deleted);
        if (w->state->n_creating > 0)
                write_deleted(f, LIST_CREATING, w->state->creating, w->state->n_creating);
        (void) fputs("}\n", f);
        funlockfile(f);

        /* Never write what state_load() would refuse. */
        size = ftello(f);
        if (size < 0)
                return negative_errno();
        if ((uintmax_t) size > STATE_FILE_SIZE_MAX)
                return -EFBIG;
        return 0;
}

int state_save(const char *dir, const struct state *s) {
        _cleanup_free_ struct ref *orphans = NULL, *prior = NULL;
        struct writer w = { .state = s };
        int r;

        assert(dir);
        assert(s);
        assert(s->orphans || s->n_orphans == 0);
        assert(s->prior || s->n_prior == 0);

        for (size_t i = 0; i < s->n_orphans; i++)
                if (!string_is_valid(s->orphans[i].id, STATE_ID_MAX))
                        return -EINVAL;
        for (size_t i = 0; s->have_prior && i < s->n_prior; i++)
                if (!string_is_valid(s->prior[i].id, STATE_ID_MAX) || !string_is_valid(s->prior[i].set, 0))
                        return -EINVAL;
        /* The caller gives these sorted and unique (they are few). */
        for (size_t i = 0; i < s->n_deleted; i++)
                if (!string_is_valid(s->deleted[i].id, STATE_ID_MAX) ||
                    (i > 0 && strcmp(s->deleted[i - 1].id, s->deleted[i].id) >= 0))
                        return -EINVAL;
        for (size_t i = 0; i < s->n_creating; i++)
                if (!string_is_valid(s->creating[i].id, STATE_ID_MAX) ||
                    (i > 0 && strcmp(s->creating[i - 1].id, s->creating[i].id) >= 0))
                        return -EINVAL;

        orphans = malloc(MAX(s->n_orphans, (size_t) 1) * sizeof *orphans);
        if (!orphans)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_orphans; i++)
                orphans[i] = (struct ref){ .id = s->orphans[i].id, .index = i };
        r = refs_sort_if_needed(orphans, s->n_orphans);
        if (r < 0)
                return r;
        w.orphans = orphans;

        if (s->have_prior) {
                prior = malloc(MAX(s->n_prior, (size_t) 1) * sizeof *prior);
                if (!prior)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_prior; i++)
                        prior[i] = (struct ref){ .id = s->prior[i].id, .index = i };
                r = refs_sort_if_needed(prior, s->n_prior);
                if (r < 0)
                        return r;
                w.prior = prior;
        }

        return fs_write_atomic_stream(dir, STATE_FILE_NAME, 0600, write_state, &w);
}
