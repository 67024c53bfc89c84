/* The state folder: the lock (one holder across processes and across opens in one process, named
 * by pid, freed by unlock or exit), state.json round trips of awkward ids, every kind of corrupt
 * file refused with its message, and the time 50,000 entries of each kind take. */

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "state.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"

static char scratch[] = "/tmp/test-state.XXXXXX";

static char *path_join(const char *a, const char *b) {
        char *p;

        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

static char *make_dir(const char *name) {
        char *d = path_join(scratch, name);

        assert_se(mkdir(d, 0700) == 0);
        return d;
}

static void write_file(const char *path, const char *content, size_t size) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert(fd >= 0);
        if (write(fd, content, size) != (ssize_t) size)
                abort();
        close(fd);
}

/* The whole file in a new string (test helper, not fs_read_file()). */
static char *slurp(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *m;
        int c;

        if (!f)
                return NULL;
        m = open_memstream(&buf, &size);
        assert(m);
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        fclose(f);
        fclose(m);
        return buf;
}

static usec_t cpu_now(void) {
        return now_usec(CLOCK_PROCESS_CPUTIME_ID);
}

/* ---- the lock ---- */

/* In a child: tries the lock and exits 0 when it got -EBUSY naming 'want_holder', else 1. */
static bool child_sees_busy(const char *dir, pid_t want_holder) {
        pid_t pid = fork(), holder = -1;
        int status, fd = -1;

        assert(pid >= 0);
        if (pid == 0) {
                int r = state_lock(dir, &fd, &holder);

                _exit(r == -EBUSY && holder == want_holder ? 0 : 1);
        }
        assert_se(waitpid(pid, &status, 0) == pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* test_lock()'s strings: globals, so that the forked children, which _exit() with them allocated,
 * hold them reachable for valgrind's leak check. */
static char *lock_dir, *lock_path, *lock_want;

static void test_lock(void) {
        const char *dir, *lock, *want;
        char *content;
        pid_t holder = -1;
        struct stat st;
        int fd = -1, fd2 = -1;

        dir = lock_dir = make_dir("lock");
        lock = lock_path = path_join(dir, "lock");
        if (asprintf(&lock_want, "%ld\n", (long) getpid()) < 0)
                abort();
        want = lock_want;

        {
                _cleanup_free_ char *stale = path_join(dir, ".state.json.999999.tmp"),
                                    *stale_metrics = path_join(dir, ".metrics.state.999999.tmp"),
                                    *other = path_join(dir, ".other.999999.tmp");
                int t;

                t = open(stale, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_se(t >= 0);
                close(t);
                t = open(stale_metrics, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_se(t >= 0);
                close(t);
                t = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_se(t >= 0);
                close(t);
                is_int(state_lock(dir, &fd, &holder), 0, "take the lock");
                ok(access(stale, F_OK) < 0, "a crashed instance's temporary state file is removed");
                ok(access(stale_metrics, F_OK) < 0, "and its temporary metrics counters");
                ok(access(other, F_OK) == 0, "other files are not");
                assert_se(unlink(other) == 0);
        }
        ok(fd >= 0, "and get its fd");
        ok(holder == -1, "the holder is not touched on success");
        content = slurp(lock);
        is_str(content, want, "the lock file names our pid");
        free(content);
        ok(stat(lock, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
           "the lock file is 0600");
        ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is close-on-exec");

        is_int(state_lock(dir, &fd2, &holder), -EBUSY, "a second lock from the same process: EBUSY");
        is_int(holder, getpid(), "naming us as the holder");
        ok(fd2 == -1, "and no fd");
        holder = -1;
        is_int(state_lock(dir, &fd2, NULL), -EBUSY, "the holder is optional");
        ok(child_sees_busy(dir, getpid()), "a forked child gets EBUSY naming us");

        state_unlock(fd);
        content = slurp(lock);
        is_str(content, "", "unlock empties the lock file");
        free(content);
        is_int(state_lock(dir, &fd, &holder), 0, "the lock is free again after unlock");
        state_unlock(fd);
        state_unlock(-1); /* nothing */

        /* A holder that exits without unlocking (a crash): its lock dies with it. */
        {
                int to_child[2], from_child[2];
                pid_t pid;
                char c;
                int status;

                assert_se(pipe(to_child) == 0 && pipe(from_child) == 0);
                pid = fork();
                assert(pid >= 0);
                if (pid == 0) {
                        int cfd = -1;

                        close(to_child[1]);
                        close(from_child[0]);
                        c = state_lock(dir, &cfd, NULL) == 0 ? 'y' : 'n';
                        if (write(from_child[1], &c, 1) != 1)
                                _exit(1);
                        /* Until the parent closes its end; then exit without unlocking. */
                        while (read(to_child[0], &c, 1) > 0)
                                ;
                        _exit(0);
                }
                close(to_child[0]);
                close(from_child[1]);
                ok(read(from_child[0], &c, 1) == 1 && c == 'y', "a child takes the lock");
                is_int(state_lock(dir, &fd, &holder), -EBUSY, "then we get EBUSY");
                is_int(holder, pid, "naming the child");
                close(to_child[1]);
                assert_se(waitpid(pid, &status, 0) == pid);
                close(from_child[0]);
                content = slurp(lock);
                ok(content && atol(content) == (long) pid, "the exited child's pid is still in the file");
                free(content);
                is_int(state_lock(dir, &fd, &holder), 0, "the lock is free once the holder has exited");
                content = slurp(lock);
                is_str(content, want, "and the file names us instead");
                free(content);
                state_unlock(fd);
        }

        /* A free lock whose file holds something longer than our pid (a crashed holder's): it is
         * replaced whole. */
        write_file(lock, "2147483647000\n", 14);
        is_int(state_lock(dir, &fd, &holder), 0, "a free lock whose file names a long gone holder");
        content = slurp(lock);
        is_str(content, want, "the file names us, and nothing else");
        free(content);
        state_unlock(fd);

        /* A holder that has not written its pid yet, or a file of garbage: the holder is 0. */
        {
                static const char *const contents[] = { "", "garbage\n", "12x\n", "-5\n", "0\n", "123" };

                fd2 = open(lock, O_RDWR | O_CLOEXEC);
                assert_se(fd2 >= 0 && flock(fd2, LOCK_EX | LOCK_NB) == 0);
                for (size_t i = 0; i < ELEMENTSOF(contents); i++) {
                        write_file(lock, contents[i], strlen(contents[i]));
                        holder = -1;
                        is_int(state_lock(dir, &fd, &holder), -EBUSY, "held, the file holding contents[%zu]",
                               i);
                        is_int(holder, 0, "the holder cannot be named: 0");
                }
                close(fd2);
        }

        {
                _cleanup_free_ char *missing = path_join(scratch, "missing"),
                                    *ldir = make_dir("lock-symlink"), *llock = path_join(ldir, "lock"),
                                    *target = path_join(ldir, "target");

                is_int(state_lock(missing, &fd, &holder), -ENOENT, "a missing folder: ENOENT");
                assert_se(symlink(target, llock) == 0);
                is_int(state_lock(ldir, &fd, &holder), -ELOOP, "a lock file that is a symlink: ELOOP");
                ok(access(target, F_OK) < 0, "and nothing is created where it points");
        }

        free(lock_dir);
        free(lock_path);
        free(lock_want);
}

/* ---- state.json ---- */

static struct state *make_state(size_t n_orphans, size_t n_prior, bool have_prior) {
        struct state *s = NULL;

        assert_se(state_new(&s) == 0);
        s->orphans = calloc(MAX(n_orphans, (size_t) 1), sizeof s->orphans[0]);
        s->prior = calloc(MAX(n_prior, (size_t) 1), sizeof s->prior[0]);
        assert(s->orphans && s->prior);
        s->have_prior = have_prior;
        return s;
}

static void add_orphan(struct state *s, const char *id, uint64_t since) {
        s->orphans[s->n_orphans].id = strdup(id);
        assert(s->orphans[s->n_orphans].id);
        s->orphans[s->n_orphans++].since_usec = since;
}

static void add_prior(struct state *s, const char *id, const char *set) {
        s->prior[s->n_prior].id = strdup(id);
        s->prior[s->n_prior].set = strdup(set);
        assert(s->prior[s->n_prior].id && s->prior[s->n_prior].set);
        s->n_prior++;
}

static bool sorted_unique(const struct state *s) {
        for (size_t i = 1; i < s->n_orphans; i++)
                if (strcmp(s->orphans[i - 1].id, s->orphans[i].id) >= 0)
                        return false;
        for (size_t i = 1; i < s->n_prior; i++)
                if (strcmp(s->prior[i - 1].id, s->prior[i].id) >= 0)
                        return false;
        return true;
}

static void test_empty(void) {
        _cleanup_free_ char *dir = make_dir("empty"), *file = path_join(dir, STATE_FILE_NAME), *text = NULL;
        _cleanup_(state_freep) struct state *s = NULL, *l = NULL;
        char *message = NULL;
        struct stat st;

        is_int(state_load(dir, &l, &message), -ENOENT, "no state file: ENOENT");
        ok(!l && !message, "no state and no message");

        assert_se(state_new(&s) == 0);
        ok(s->n_orphans == 0 && s->n_prior == 0 && !s->have_prior && !s->orphans && !s->prior,
           "a new state is empty, with no prior recorded");
        ok(!state_find_orphan(s, "x") && !state_find_prior(s, "x"), "nothing is found in it");

        is_int(state_save(dir, s), 0, "save an empty state without prior");
        text = slurp(file);
        is_str(text, "{\"format_version\":1,\"orphans\":[]}\n", "written exactly");
        free(text);
        ok(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "the state file is 0600");
        is_int(state_load(dir, &l, &message), 0, "load it");
        ok(l && l->n_orphans == 0 && l->n_prior == 0 && !l->have_prior, "prior absent: have_prior false");
        l = state_free(l);
        ok(l == NULL, "state_free returns NULL");

        s->have_prior = true;
        is_int(state_save(dir, s), 0, "save an empty state with an empty prior");
        text = slurp(file);
        is_str(text, "{\"format_version\":1,\"orphans\":[],\"prior\":[]}\n", "written exactly");
        is_int(state_load(dir, &l, &message), 0, "load it");
        ok(l && l->n_prior == 0 && l->have_prior, "prior empty: have_prior true");
        ok(l && !state_find_prior(l, "x"), "and nothing in it");
        ok(message == NULL, "no message on success");
}

static void test_exact_format(void) {
        _cleanup_free_ char *dir = make_dir("exact"), *file = path_join(dir, STATE_FILE_NAME), *text = NULL;
        _cleanup_(state_freep) struct state *s = make_state(3, 3, true);

        /* Out of order, with a repeated id in each array. */
        add_orphan(s, "b\"q", 20);
        add_orphan(s, "a", 1);
        add_orphan(s, "b\"q", 30);
        add_prior(s, "z", "set-2");
        add_prior(s, "a", "set-1");
        add_prior(s, "z", "set-3");
        is_int(state_save(dir, s), 0, "save a small state given out of order");
        text = slurp(file);
        is_str(text,
               "{\"format_version\":1,\"orphans\":[\n"
               "{\"id\":\"a\",\"since_usec\":1},\n"
               "{\"id\":\"b\\\"q\",\"since_usec\":30}\n"
               "],\"prior\":[\n"
               "{\"id\":\"a\",\"set\":\"set-1\"},\n"
               "{\"id\":\"z\",\"set\":\"set-2\"}\n"
               "]}\n",
               "written sorted, one entry a line; a repeated orphan keeps its latest time, a repeated "
               "prior its first set");
        ok(s->orphans[0].since_usec == 20 && streq(s->prior[0].set, "set-2"),
           "the state saved is not changed");

        /* In order already (no sort), with repeated ids: written once all the same. */
        {
                _cleanup_(state_freep) struct state *t = make_state(4, 3, true);

                add_orphan(t, "a", 5);
                add_orphan(t, "a", 7);
                add_orphan(t, "a", 6);
                add_orphan(t, "b", 1);
                add_prior(t, "a", "first");
                add_prior(t, "a", "second");
                add_prior(t, "b", "s");
                is_int(state_save(dir, t), 0, "save a state in order with repeated ids");
                free(text);
                text = slurp(file);
                is_str(text,
                       "{\"format_version\":1,\"orphans\":[\n"
                       "{\"id\":\"a\",\"since_usec\":7},\n"
                       "{\"id\":\"b\",\"since_usec\":1}\n"
                       "],\"prior\":[\n"
                       "{\"id\":\"a\",\"set\":\"first\"},\n"
                       "{\"id\":\"b\",\"set\":\"s\"}\n"
                       "]}\n",
                       "each id written once: the latest time, the first set");
        }
}

static void test_round_trip(void) {
        _cleanup_free_ char *dir = make_dir("round-trip"), *file = path_join(dir, STATE_FILE_NAME),
                            *first = NULL, *second = NULL;
        _cleanup_(state_freep) struct state *s = make_state(32, 32, true), *l = NULL;
        char long_utf8[STATE_ID_MAX + 1], long_ctl[STATE_ID_MAX + 1], too_long[STATE_ID_MAX + 2];
        const char *ids[] = {
                "plain",
                "with \"quotes\"",
                "back\\slash\\\\",
                "line\nbreak\ttab\rcr\x01"
                "ctl\x1f\x7f"
                "del\b\f",
                "u2028:\xe2\x80\xa8 u2029:\xe2\x80\xa9",
                "emoji \xf0\x9f\x98\x80 and U+10FFFF \xf4\x8f\xbf\xbf and U+FFFF \xef\xbf\xbf",
                "caf\xc3\xa9",
                "Z",
                "a",
                "/slash</script>",
                "\\u0041 is not an escape here",
                long_utf8,
                long_ctl,
        };
        char *message = NULL;

        /* 512 bytes each: 256 two-byte characters; 512 control characters (6 bytes each escaped). */
        for (size_t i = 0; i < STATE_ID_MAX; i += 2)
                memcpy(long_utf8 + i, "\xc3\xa9", 2);
        long_utf8[STATE_ID_MAX] = '\0';
        memset(long_ctl, '\x01', STATE_ID_MAX);
        long_ctl[STATE_ID_MAX] = '\0';

        /* In reverse, so that the save sorts. */
        for (size_t i = ELEMENTSOF(ids); i > 0; i--) {
                add_orphan(s, ids[i - 1], UINT64_C(1700000000000000) + i);
                add_prior(s, ids[i - 1], ids[ELEMENTSOF(ids) - i]);
        }
        add_orphan(s, "max", UINT64_MAX);
        add_prior(s, "max", "set \"quoted\" \xe2\x80\xa8");

        is_int(state_save(dir, s), 0, "save awkward ids");
        is_int(state_load(dir, &l, &message), 0, "load them");
        if (message)
                diag("%s", message);
        ok(l && l->n_orphans == ELEMENTSOF(ids) + 1 && l->n_prior == ELEMENTSOF(ids) + 1 && l->have_prior,
           "every entry is back");
        ok(l && sorted_unique(l), "sorted by id, each once");
        ok(l && strcmp(l->orphans[0].id, "Z") < 0 && streq(l->orphans[l->n_orphans - 1].id, long_utf8),
           "bytewise: control characters first, then 'Z', ..., non-ASCII last");
        for (size_t i = 0; l && i < s->n_orphans; i++) {
                const struct plan_orphan_seen *o = state_find_orphan(l, s->orphans[i].id);
                const struct plan_prior *p = state_find_prior(l, s->prior[i].id);

                ok(o && o != &s->orphans[i] && streq(o->id, s->orphans[i].id) &&
                           o->since_usec == s->orphans[i].since_usec,
                   "orphan %zu comes back exactly", i);
                ok(p && streq(p->id, s->prior[i].id) && streq(p->set, s->prior[i].set),
                   "prior %zu comes back exactly", i);
        }
        ok(l && !state_find_orphan(l, "plai") && !state_find_orphan(l, "plainer") &&
                   !state_find_prior(l, ""),
           "ids that are not there are not found");

        /* Saving what was loaded writes the same bytes. */
        first = slurp(file);
        is_int(state_save(dir, l), 0, "save what was loaded");
        second = slurp(file);
        ok(first && second && streq(first, second), "the file is byte for byte the same");

        /* What would not read back as written is refused, and nothing is written. */
        memset(too_long, 'x', STATE_ID_MAX + 1);
        too_long[STATE_ID_MAX + 1] = '\0';
        {
                static const struct {
                        const char *id, *set;
                } bad[] = {
                        { "", "s" },
                        { "bad utf-8 \xff", "s" },
                        { "overlong \xc0\xaf", "s" },
                        { "surrogate \xed\xa0\x80", "s" },
                        { "cut \xe2\x80", "s" },
                        { "ok", "" },
                        { "ok", "bad \xfe" },
                        { NULL, "s" },
                        { "ok", NULL },
                };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_(state_freep) struct state *t = make_state(1, 1, true);

                        t->prior[0] = (struct plan_prior){ .id = bad[i].id ? strdup(bad[i].id) : NULL,
                                                           .set = bad[i].set ? strdup(bad[i].set) : NULL };
                        t->n_prior = 1;
                        is_int(state_save(dir, t), -EINVAL, "prior entry bad[%zu] is refused", i);
                        if (i >= 5)
                                continue;
                        t->have_prior = false;
                        t->orphans[0] =
                                (struct plan_orphan_seen){ .id = strdup(bad[i].id), .since_usec = 1 };
                        t->n_orphans = 1;
                        is_int(state_save(dir, t), -EINVAL, "orphan id bad[%zu] is refused", i);
                }
                {
                        _cleanup_(state_freep) struct state *t = make_state(1, 1, false);

                        add_orphan(t, too_long, 1);
                        is_int(state_save(dir, t), -EINVAL, "an id of %d bytes is refused",
                               STATE_ID_MAX + 1);
                        /* Without have_prior, prior entries are not written, so not checked. */
                        t->orphans[0].id[STATE_ID_MAX] = '\0';
                        add_prior(t, "", "");
                        is_int(state_save(dir, t), 0,
                               "an id of %d bytes is fine; prior not recorded is ignored", STATE_ID_MAX);
                }
                free(second);
                second = slurp(file);
                ok(second && strstr(second, "xxxx\",\"since_usec\":1}") && !strstr(second, "prior"),
                   "only the saves that succeeded wrote the file");
        }
}

static void test_hand_written(void) {
        _cleanup_free_ char *dir = make_dir("hand"), *file = path_join(dir, STATE_FILE_NAME);
        _cleanup_(state_freep) struct state *l = NULL;
        const char text[] = " {\n  \"format_version\" : 1.0e0 ,\n"
                            "  \"prior\": [ { \"set\": \"s\\u00e9t\", \"id\": \"\\u0041\" } ],\n"
                            "  \"orphans\": [\n"
                            "    { \"since_usec\": 0, \"id\": "
                            "\"\\u00e9\\ud83d\\ude00\\u2028\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\" }\n"
                            "  ]\n}\n";
        char *message = NULL;

        write_file(file, text, strlen(text));
        is_int(state_load(dir, &l, &message), -EBADMSG, "a format_version of 1.0e0 is refused");
        is_str(message, "'format_version' is not 1", "'format_version' is not 1");
        free(message);
        message = NULL;

        {
                _cleanup_free_ char *fixed = strdup(text);
                char *v = strstr(fixed, "1.0e0");

                memcpy(v, "1    ", 5);
                write_file(file, fixed, strlen(fixed));
        }
        is_int(state_load(dir, &l, &message), 0, "a pretty-printed file, members in any order, \\u escapes");
        if (message)
                diag("%s", message);
        ok(l && l->n_orphans == 1 && l->orphans[0].since_usec == 0 &&
                   streq(l->orphans[0].id, "\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\"\\/\b\f\n\r\t\x01"),
           "the escapes are decoded into UTF-8");
        ok(l && l->have_prior && l->n_prior == 1 && streq(l->prior[0].id, "A") &&
                   streq(l->prior[0].set, "s\xc3\xa9t"),
           "in prior too");
}

/* The connectors deleted lately: optional, written only when there are some, read strictly. */
static void test_deleted(void) {
        _cleanup_free_ char *dir = make_dir("deleted"), *file = path_join(dir, STATE_FILE_NAME);
        _cleanup_(state_freep) struct state *s = NULL, *l = NULL;
        char a[] = "a", b[] = "b\n", z[] = "z";
        struct plan_deleted d[] = { { .id = a, .cycles_absent = 0, .deleted_usec = 1700000000000000 },
                                    { .id = b, .cycles_absent = 2 } };
        char *message = NULL;

        assert_se(state_new(&s) >= 0);
        is_int(state_save(dir, s), 0, "a state without deleted connectors is saved");
        ok(!strstr(read_small_file(file) ?: "deleted", "deleted"), "and the file has no 'deleted' member");

        s->deleted = d;
        s->n_deleted = ELEMENTSOF(d);
        is_int(state_save(dir, s), 0, "two deleted connectors are saved");
        is_str(read_small_file(file),
               "{\"format_version\":1,\"orphans\":[],\"deleted\":[\n{\"id\":\"a\",\"cycles_absent\":0,"
               "\"deleted_usec\":1700000000000000},\n"
               "{\"id\":\"b\\n\",\"cycles_absent\":2}\n]}\n",
               "one a line, after the orphans; deleted_usec only when known");
        is_int(state_load(dir, &l, &message), 0, "and read back");
        ok(l && l->n_deleted == 2 && streq(l->deleted[0].id, "a") && l->deleted[0].cycles_absent == 0 &&
                   l->deleted[0].deleted_usec == 1700000000000000 && streq(l->deleted[1].id, "b\n") &&
                   l->deleted[1].cycles_absent == 2 && l->deleted[1].deleted_usec == 0,
           "as they were");

        d[0].id = z;
        is_int(state_save(dir, s), -EINVAL, "deleted connectors out of order are refused");
        d[0].id = b;
        is_int(state_save(dir, s), -EINVAL, "an id given twice is refused");
        s->deleted = NULL;
        s->n_deleted = 0;

        {
                static const struct {
                        const char *text;
                        const char *message;
                } bad[] = {
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[],\"deleted\":[]}",
                          "'deleted' is given twice" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[{\"id\":\"b\",\"cycles_"
                          "absent\":1},"
                          "{\"id\":\"a\",\"cycles_absent\":1}]}",
                          "'deleted[1].id' sorts before 'deleted[0].id' (ids must be sorted)" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[{\"id\":\"a\"}]}",
                          "'deleted[0].cycles_absent' is missing" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[{\"id\":\"a\",\"cycles_"
                          "absent\":-1}]}",
                          "'deleted[0].cycles_absent' is not a non-negative integer" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":{}}",
                          "'deleted' is not an array" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[{\"id\":\"a\",\"cycles_"
                          "absent\":1,\"deleted_usec\":1.5}]}",
                          "'deleted[0].deleted_usec' is not a non-negative integer" },
                        { "{\"format_version\":1,\"orphans\":[],\"deleted\":[{\"id\":\"a\",\"cycles_"
                          "absent\":1,\"deleted_usec\":1,\"deleted_usec\":1}]}",
                          "'deleted[0].deleted_usec' is given twice" },
                        { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1,"
                          "\"deleted_usec\":1}]}",
                          "'orphans[0]' has an unknown member \"deleted_usec\"" },
                };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_(state_freep) struct state *x = NULL;

                        free(message);
                        message = NULL;
                        write_file(file, bad[i].text, strlen(bad[i].text));
                        is_int(state_load(dir, &x, &message), -EBADMSG, "refused: %s", bad[i].text);
                        is_str(message, bad[i].message, "because %s", bad[i].message);
                }
        }
        free(message);
}

static void test_corrupt(void) {
        static const struct {
                const char *text;
                const char *message; /* exact, or "A*B": starts with A, ends with B */
        } cases[] = {
                { "", "not valid JSON at byte 0: no data" },
                { "   ", "not valid JSON*" },
                { "{\"format_version\":1,\"orphans\":[]",
                  "not valid JSON at byte 32: the data ends inside the value" },
                { "{\"format_version\":1,\"orphans\":[]} x",
                  "not valid JSON at byte 34: data after the value" },
                { "{\"format_version\":1,\"orphans\":[]}{}",
                  "not valid JSON at byte 33: data after the value" },
                { "{\"format_version\":1,\"orphans\":[],}", "not valid JSON*" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\xff\",\"since_usec\":1}]}",
                  "not valid JSON at byte 39: invalid UTF-8" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\\u0000\",\"since_usec\":1}]}",
                  "not valid JSON*a NUL character" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\\ud800\",\"since_usec\":1}]}",
                  "not valid JSON*half a surrogate pair" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\nb\",\"since_usec\":1}]}",
                  "not valid JSON*a control character in a string" },
                { "\xef\xbb\xbf{\"format_version\":1,\"orphans\":[]}", "not valid JSON at byte 0*" },
                { "[]", "not a JSON object" },
                { "null", "not a JSON object" },
                { "{}", "'format_version' is missing" },
                { "{\"orphans\":[],\"format_version\":1}", "'format_version' is not the first member" },
                { "{\"format_version\":2,\"orphans\":[]}", "format_version 2 is not supported (only 1)" },
                { "{\"format_version\":0,\"orphans\":[]}", "format_version 0 is not supported (only 1)" },
                { "{\"format_version\":\"1\",\"orphans\":[]}", "'format_version' is not 1" },
                { "{\"format_version\":-1,\"orphans\":[]}", "'format_version' is not 1" },
                { "{\"format_version\":1}", "'orphans' is missing" },
                { "{\"format_version\":1,\"prior\":[]}", "'orphans' is missing" },
                { "{\"format_version\":1,\"format_version\":1,\"orphans\":[]}",
                  "'format_version' is given twice" },
                { "{\"format_version\":1,\"orphans\":[],\"orphans\":[]}", "'orphans' is given twice" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[],\"prior\":[]}",
                  "'prior' is given twice" },
                { "{\"format_version\":1,\"orphans\":[],\"extra\":1}", "unknown member \"extra\"" },
                { "{\"format_version\":1,\"orphans\":[],\"a\\nb\\u2028\":1}",
                  "unknown member \"a\\nb\xe2\x80\xa8\"" },
                { "{\"format_version\":1,\"orphans\":[],"
                  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}",
                  "unknown member \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"" },
                { "{\"format_version\":1,\"orphans\":{}}", "'orphans' is not an array" },
                { "{\"format_version\":1,\"orphans\":null}", "'orphans' is not an array" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":\"x\"}", "'prior' is not an array" },
                { "{\"format_version\":1,\"orphans\":[1]}", "'orphans[0]' is not an object" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1},[]]}",
                  "'orphans[1]' is not an object" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":1,\"since_usec\":1}]}",
                  "'orphans[0].id' is not a string" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":null,\"since_usec\":1}]}",
                  "'orphans[0].id' is not a string" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"\",\"since_usec\":1}]}",
                  "'orphans[0].id' is empty" },
                { "{\"format_version\":1,\"orphans\":[{\"since_usec\":1}]}", "'orphans[0].id' is missing" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\"}]}",
                  "'orphans[0].since_usec' is missing" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"id\":\"b\",\"since_usec\":1}]}",
                  "'orphans[0].id' is given twice" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1,\"since_usec\":1}]}",
                  "'orphans[0].since_usec' is given twice" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1,\"set\":\"s\"}]}",
                  "'orphans[0]' has an unknown member \"set\"" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1},{\"id\":\"b\",\"since_"
                  "usec\":1},"
                  "{\"id\":\"c\",\"since_usec\":1},{\"id\":\"d\",\"since_usec\":\"1\"}]}",
                  "'orphans[3].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":-1}]}",
                  "'orphans[0].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":-0}]}",
                  "'orphans[0].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1.5}]}",
                  "'orphans[0].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1e3}]}",
                  "'orphans[0].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":true}]}",
                  "'orphans[0].since_usec' is not a non-negative integer" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":18446744073709551616}]}",
                  "'orphans[0].since_usec' is larger than 18446744073709551615" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"a\",\"since_usec\":1},{\"id\":\"a\",\"since_"
                  "usec\":2}]}",
                  "'orphans[1].id' repeats 'orphans[0].id'" },
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"b\",\"since_usec\":1},{\"id\":\"a\",\"since_"
                  "usec\":2}]}",
                  "'orphans[1].id' sorts before 'orphans[0].id' (ids must be sorted)" },
                /* Bytewise: 0xC3 sorts after 'a' (a signed comparison would put it first). */
                { "{\"format_version\":1,\"orphans\":[{\"id\":\"\xc3\xa9\",\"since_usec\":1},{\"id\":\"a\","
                  "\"since_usec\":2}]}",
                  "'orphans[1].id' sorts before 'orphans[0].id' (ids must be sorted)" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\"}]}",
                  "'prior[0].set' is missing" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"set\":\"s\"}]}",
                  "'prior[0].id' is missing" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\",\"set\":1}]}",
                  "'prior[0].set' is not a string" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\",\"set\":\"\"}]}",
                  "'prior[0].set' is empty" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\",\"set\":\"s\",\"since_"
                  "usec\":1}]}",
                  "'prior[0]' has an unknown member \"since_usec\"" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\",\"set\":\"s\"},{\"id\":"
                  "\"a\",\"set\":\"t\"}]}",
                  "'prior[1].id' repeats 'prior[0].id'" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"b\",\"set\":\"s\"},{\"id\":"
                  "\"a\",\"set\":\"t\"}]}",
                  "'prior[1].id' sorts before 'prior[0].id' (ids must be sorted)" },
                { "{\"format_version\":1,\"orphans\":[],\"prior\":[{\"id\":\"a\",\"set\":\"s\",\"set\":"
                  "\"t\"}]}",
                  "'prior[0].set' is given twice" },
        };
        _cleanup_free_ char *dir = make_dir("corrupt"), *file = path_join(dir, STATE_FILE_NAME);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct state *l = NULL;
                char *message = NULL;
                size_t n = strlen(cases[i].message);
                bool prefix = strchr(cases[i].message, '*') != NULL;
                bool matches;

                write_file(file, cases[i].text, strlen(cases[i].text));
                is_int(state_load(dir, &l, &message), -EBADMSG, "corrupt file %zu refused", i);
                ok(l == NULL, "no state for it");
                if (prefix) {
                        const char *star = strchr(cases[i].message, '*');
                        size_t a = (size_t) (star - cases[i].message), b = n - a - 1;

                        matches = message && strncmp(message, cases[i].message, a) == 0 &&
                                  strlen(message) >= a + b &&
                                  strncmp(message + strlen(message) - b, star + 1, b) == 0;
                } else
                        matches = message && streq(message, cases[i].message);
                if (!ok(matches, "with the message: %s", cases[i].message))
                        diag("got: %s", strna(message));
                free(message);
                state_free(l);
        }

        /* Too long an id; the message is optional; a state file that is a folder. */
        {
                _cleanup_free_ char *text = NULL, *message = NULL;
                struct state *l = NULL;
                char id[STATE_ID_MAX + 2];

                memset(id, 'x', sizeof id - 1);
                id[sizeof id - 1] = '\0';
                if (asprintf(&text, "{\"format_version\":1,\"orphans\":[{\"id\":\"%s\",\"since_usec\":1}]}",
                             id) < 0)
                        abort();
                write_file(file, text, strlen(text));
                is_int(state_load(dir, &l, &message), -EBADMSG, "an id of %d bytes is refused",
                       STATE_ID_MAX + 1);
                is_str(message, "'orphans[0].id' is longer than 512 bytes", "with its message");
                is_int(state_load(dir, &l, NULL), -EBADMSG, "without a message pointer too");

                free(message);
                message = NULL;
                assert_se(unlink(file) == 0 && mkdir(file, 0700) == 0);
                is_int(state_load(dir, &l, &message), -EBADMSG, "a state file that is a folder is refused");
                is_str(message, "not a regular file", "with its message");
                assert_se(rmdir(file) == 0);
        }
}

/* ---- size ---- */

static void test_large(void) {
        const size_t n = 50000;
        _cleanup_free_ char *dir = make_dir("large"), *file = path_join(dir, STATE_FILE_NAME);
        _cleanup_(state_freep) struct state *s = make_state(n, n, true), *l = NULL;
        usec_t save_cpu[3], save_wall[3], load_cpu[3], load_wall[3], resave_cpu[3], resave_wall[3], find_cpu;
        uint64_t x = 88172645463325252ULL;
        bool all_found = true, all_ok = true;
        struct stat st;

        /* Realistic ids (about 40 bytes, the first 18 alike in 1,000 at a time) in a random order,
         * so that a save sorts. */
        for (size_t i = 0; i < n; i++) {
                char id[64], set[32];

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (void) snprintf(id, sizeof id, "team-%02u-connector-%016llx", (unsigned) (x % 50),
                                (unsigned long long) x);
                (void) snprintf(set, sizeof set, "team-%02u", (unsigned) (x % 50));
                add_orphan(s, id, UINT64_C(1760000000000000) + x % UINT64_C(1000000000000));
                add_prior(s, id, set);
        }

        /* Three rounds: the first runs cold (fresh memory, as in a `once` process), the best of
         * the three shows what the code costs without the machine's noise. */
        for (size_t k = 0; k < 3; k++) {
                usec_t wall, cpu;
                char *message = NULL;

                l = state_free(l);
                wall = now_usec(CLOCK_MONOTONIC);
                cpu = cpu_now();
                all_ok = state_save(dir, s) == 0 && all_ok;
                save_cpu[k] = cpu_now() - cpu;
                save_wall[k] = now_usec(CLOCK_MONOTONIC) - wall;

                wall = now_usec(CLOCK_MONOTONIC);
                cpu = cpu_now();
                all_ok = state_load(dir, &l, &message) == 0 && all_ok;
                load_cpu[k] = cpu_now() - cpu;
                load_wall[k] = now_usec(CLOCK_MONOTONIC) - wall;
                free(message);

                wall = now_usec(CLOCK_MONOTONIC);
                cpu = cpu_now();
                all_ok = l && state_save(dir, l) == 0 && all_ok;
                resave_cpu[k] = cpu_now() - cpu;
                resave_wall[k] = now_usec(CLOCK_MONOTONIC) - wall;
        }
        ok(all_ok,
           "save 50,000 orphans and 50,000 prior entries out of order, load them, save them in order");
        ok(l && l->n_orphans == n && l->n_prior == n && sorted_unique(l), "all of them come back, sorted");

        find_cpu = cpu_now();
        for (size_t i = 0; l && i < n; i++) {
                const struct plan_orphan_seen *o = state_find_orphan(l, s->orphans[i].id);
                const struct plan_prior *p = state_find_prior(l, s->prior[i].id);

                if (!o || o->since_usec != s->orphans[i].since_usec || !p || !streq(p->set, s->prior[i].set))
                        all_found = false;
        }
        find_cpu = cpu_now() - find_cpu;
        ok(l && all_found, "every entry is found with its value");

        assert_se(stat(file, &st) == 0);
        diag("state.json with %zu + %zu entries: %lld bytes; CPU (wall) in ms, cold / 2nd / 3rd:", n, n,
             (long long) st.st_size);
#define MS(a) (double) (a) / 1000.0
        diag("save out of order: %.1f (%.1f) / %.1f (%.1f) / %.1f (%.1f), wall with fsync", MS(save_cpu[0]),
             MS(save_wall[0]), MS(save_cpu[1]), MS(save_wall[1]), MS(save_cpu[2]), MS(save_wall[2]));
        diag("load:              %.1f (%.1f) / %.1f (%.1f) / %.1f (%.1f)", MS(load_cpu[0]), MS(load_wall[0]),
             MS(load_cpu[1]), MS(load_wall[1]), MS(load_cpu[2]), MS(load_wall[2]));
        diag("save in order:     %.1f (%.1f) / %.1f (%.1f) / %.1f (%.1f), wall with fsync",
             MS(resave_cpu[0]), MS(resave_wall[0]), MS(resave_cpu[1]), MS(resave_wall[1]), MS(resave_cpu[2]),
             MS(resave_wall[2]));
        diag("2 x %zu lookups:   %.1f", n, MS(find_cpu));
#undef MS
}

int main(void) {
        ok(mkdtemp(scratch) != NULL, "scratch folder %s", scratch);

        test_lock();
        test_empty();
        test_exact_format();
        test_round_trip();
        test_hand_written();
        test_corrupt();
        test_deleted();
        test_large();

        scratch_remove(scratch);
        return done();
}
