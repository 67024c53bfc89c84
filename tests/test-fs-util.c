/* fs-util: private folders (created with their parents, 0700, refused when others may write or
 * own them), atomic file replacement (old or new content, mode exact, no temporary left), whole
 * file reads. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fs-util.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"

static char scratch[] = "/tmp/test-fs-util.XXXXXX";

static char *path_join(const char *a, const char *b) {
        char *p;

        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

static mode_t mode_of(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return (mode_t) -1;
        return st.st_mode & 07777;
}

static bool is_dir(const char *path) {
        struct stat st;

        return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void write_file(const char *path, const char *content) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert(fd >= 0);
        if (write(fd, content, strlen(content)) != (ssize_t) strlen(content))
                abort();
        close(fd);
}

static void test_dir_prepare(void) {
        _cleanup_free_ char *a = path_join(scratch, "a"), *ab = path_join(scratch, "a/b"),
                            *abc = path_join(scratch, "a/b/c"), *odd = path_join(scratch, "x//y/"),
                            *xy = path_join(scratch, "x/y"), *hint = NULL;
        mode_t old_umask;

        /* A umask that would leave a new folder 0500 (not writable): the mode must be 0700 anyway. */
        old_umask = umask(0277);
        is_int(fs_dir_prepare_private(abc, &hint), 0, "a folder is created with its missing parents");
        umask(old_umask);
        ok(is_dir(a) && is_dir(ab) && is_dir(abc), "each missing folder of the path exists");
        ok(mode_of(a) == 0700 && mode_of(ab) == 0700 && mode_of(abc) == 0700,
           "each is mode 0700, whatever the umask (got %o %o %o)", (unsigned) mode_of(a),
           (unsigned) mode_of(ab), (unsigned) mode_of(abc));
        ok(hint == NULL, "no hint on success");
        is_int(fs_dir_prepare_private(abc, &hint), 0, "an existing private folder is fine");

        is_int(fs_dir_prepare_private(odd, NULL), 0, "doubled and trailing slashes are fine");
        ok(is_dir(xy) && mode_of(xy) == 0700, "and make the folder they name");

        /* Group- or world-writable: refused, with the command that fixes it. */
        {
                static const mode_t modes[] = { 0770, 0702, 0720, 0777 };

                for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                        _cleanup_free_ char *d = NULL, *want = NULL;

                        if (asprintf(&d, "%s/writable-%o", scratch, (unsigned) modes[i]) < 0 ||
                            asprintf(&want, "chmod go-w '%s'", d) < 0)
                                abort();
                        assert_se(mkdir(d, 0700) == 0 && chmod(d, modes[i]) == 0);
                        hint = NULL;
                        is_int(fs_dir_prepare_private(d, &hint), -EPERM, "a folder of mode %o is refused",
                               (unsigned) modes[i]);
                        is_str(hint, want, "with the hint to chmod it");
                        free(hint);
                        hint = NULL;
                }
        }

        /* Writable by group or others through a symlink: the target is what counts, the path the
         * caller gave is what the hint names. */
        {
                _cleanup_free_ char *target = path_join(scratch, "shared"),
                                    *link = path_join(scratch, "link"),
                                    *good_link = path_join(scratch, "good-link"), *want = NULL;

                if (asprintf(&want, "chmod go-w '%s'", link) < 0)
                        abort();
                assert_se(mkdir(target, 0700) == 0 && chmod(target, 0775) == 0);
                assert_se(symlink(target, link) == 0);
                assert_se(symlink(abc, good_link) == 0);
                is_int(fs_dir_prepare_private(good_link, &hint), 0,
                       "a symlink to a private folder is followed");
                is_int(fs_dir_prepare_private(link, &hint), -EPERM,
                       "a symlink to a group-writable folder is refused");
                is_str(hint, want, "with the hint naming the path given");
                free(hint);
                hint = NULL;
        }

        /* Another owner. */
        if (geteuid() == 0) {
                _cleanup_free_ char *d = path_join(scratch, "theirs"), *want = NULL;

                if (asprintf(&want, "chown 0 '%s'", d) < 0)
                        abort();
                assert_se(mkdir(d, 0700) == 0);
                assert_se(chown(d, 65534, 65534) == 0);
                is_int(fs_dir_prepare_private(d, &hint), -EPERM, "a folder owned by uid 65534 is refused");
                is_str(hint, want, "with the hint to chown it to us");
                free(hint);
                hint = NULL;
                is_int(fs_dir_prepare_private(d, NULL), -EPERM, "the hint is optional");
        } else {
                ok(true, "# SKIP not root: cannot chown a folder to another user");
                ok(true, "# SKIP not root");
                ok(true, "# SKIP not root");
        }

        /* Ours and private, but not writable by us: checked with the effective uid, in a child
         * that drops root (root may write anywhere). */
        if (geteuid() == 0) {
                _cleanup_free_ char *d = path_join(scratch, "read-only");
                pid_t pid;
                int status;

                assert_se(chmod(scratch, 0755) == 0);
                assert_se(mkdir(d, 0500) == 0 && chmod(d, 0500) == 0);
                assert_se(chown(d, 65534, 65534) == 0);
                pid = fork();
                assert(pid >= 0);
                if (pid == 0) {
                        if (setgid(65534) < 0 || setuid(65534) < 0)
                                _exit(100);
                        _exit(-fs_dir_prepare_private(d, NULL));
                }
                assert_se(waitpid(pid, &status, 0) == pid);
                ok(WIFEXITED(status) && WEXITSTATUS(status) == EACCES,
                   "a folder of ours without write permission fails with EACCES (child exit %d)",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                assert_se(chmod(scratch, 0700) == 0);
        } else
                ok(true, "# SKIP not root: cannot drop to another user");

        /* A file where the folder should be, or above it. */
        {
                _cleanup_free_ char *f = path_join(scratch, "file"), *below = path_join(scratch, "file/sub");

                write_file(f, "x");
                is_int(fs_dir_prepare_private(f, &hint), -ENOTDIR, "a file in the folder's place: ENOTDIR");
                is_int(fs_dir_prepare_private(below, &hint), -ENOTDIR,
                       "a file in a parent's place: ENOTDIR");
                ok(hint == NULL, "no hint for those");
        }
}

static void test_write_atomic(void) {
        _cleanup_free_ char *dir = path_join(scratch, "w"), *f = path_join(scratch, "w/data");
        struct stat st1, st2;
        mode_t old_umask;
        int fd;

        assert_se(mkdir(dir, 0700) == 0);

        old_umask = umask(0);
        is_int(fs_write_atomic(dir, "data", "one", 3, 0600), 0, "write a new file");
        umask(old_umask);
        is_str(read_small_file(f), "one", "it holds what was written");
        is_int(mode_of(f), 0600, "it is mode 0600 with umask 0");
        is_int(count_entries(dir, "."), 0, "no temporary is left");

        /* Replacing: a reader that opened the old file keeps reading the old content, the name
         * gets a new inode with the new content; never a mix. */
        assert_se(stat(f, &st1) == 0);
        fd = open(f, O_RDONLY | O_CLOEXEC);
        assert(fd >= 0);
        is_int(fs_write_atomic(dir, "data", "second", 6, 0600), 0, "replace the file");
        is_str(read_small_file(f), "second", "the name holds the new content");
        assert_se(stat(f, &st2) == 0);
        ok(st1.st_ino != st2.st_ino, "it is a new file renamed over the old, not rewritten in place");
        {
                char buf[16] = { 0 };

                ok(pread(fd, buf, sizeof buf - 1, 0) == 3 && streq(buf, "one"),
                   "a reader of the old file still sees the old content whole");
                close(fd);
        }
        is_int(count_entries(dir, "."), 0, "no temporary is left");

        /* The mode is the one asked for, even when the umask would narrow it. */
        old_umask = umask(0777);
        is_int(fs_write_atomic(dir, "data", "third", 5, 0640), 0, "write with mode 0640 under umask 0777");
        umask(old_umask);
        is_int(mode_of(f), 0640, "the file is mode 0640");

        {
                _cleanup_free_ char *e = path_join(dir, "empty");

                is_int(fs_write_atomic(dir, "empty", NULL, 0, 0600), 0, "an empty file");
                is_str(read_small_file(e), "", "is empty");
        }

        /* A temporary with our pid left by a crash is replaced. */
        {
                _cleanup_free_ char *stale = NULL;

                if (asprintf(&stale, "%s/.data.%ld.tmp", dir, (long) getpid()) < 0)
                        abort();
                write_file(stale, "half-written garbage");
                is_int(fs_write_atomic(dir, "data", "fourth", 6, 0600), 0,
                       "a stale temporary of our pid does not stop the write");
                is_str(read_small_file(f), "fourth", "the new content is in place");
                is_int(count_entries(dir, "."), 0, "and the stale temporary is gone");
        }

        /* Failures leave the old file and no temporary. */
        {
                _cleanup_free_ char *sub = path_join(dir, "sub");

                assert_se(mkdir(sub, 0700) == 0);
                is_int(fs_write_atomic(dir, "sub", "x", 1, 0600), -EISDIR, "the name is a folder: EISDIR");
                ok(is_dir(sub), "the folder is untouched");
                is_int(count_entries(dir, "."), 0, "no temporary is left");
        }
        {
                /* A write that fails halfway: the file size limit stops it after 4 bytes. */
                struct rlimit old_limit, limit = { .rlim_cur = 4, .rlim_max = RLIM_INFINITY };
                void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);

                assert_se(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
                limit.rlim_max = old_limit.rlim_max;
                assert_se(setrlimit(RLIMIT_FSIZE, &limit) == 0);
                is_int(fs_write_atomic(dir, "data", "much too long", 13, 0600), -EFBIG,
                       "a write that fails halfway (RLIMIT_FSIZE): EFBIG");
                assert_se(setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
                signal(SIGXFSZ, old_handler);
                is_str(read_small_file(f), "fourth", "the old content is untouched");
                is_int(count_entries(dir, "."), 0, "no temporary is left");
        }
        {
                _cleanup_free_ char *blocker = NULL;

                /* The temporary's name is taken by a folder (not ours to remove): EEXIST. */
                if (asprintf(&blocker, "%s/.data.%ld.tmp", dir, (long) getpid()) < 0)
                        abort();
                assert_se(mkdir(blocker, 0700) == 0);
                is_int(fs_write_atomic(dir, "data", "fifth", 5, 0600), -EEXIST,
                       "the temporary name is blocked: EEXIST");
                is_str(read_small_file(f), "fourth", "the old content is untouched");
                assert_se(rmdir(blocker) == 0);
        }

        is_int(fs_write_atomic(dir, "a/b", "x", 1, 0600), -EINVAL, "a name with a slash: EINVAL");
        is_int(fs_write_atomic(dir, "..", "x", 1, 0600), -EINVAL, "'..': EINVAL");
        is_int(fs_write_atomic(dir, "", "x", 1, 0600), -EINVAL, "an empty name: EINVAL");
        {
                _cleanup_free_ char *missing = path_join(scratch, "missing");

                is_int(fs_write_atomic(missing, "data", "x", 1, 0600), -ENOENT, "a missing folder: ENOENT");
        }
        is_int(fs_write_atomic(f, "data", "x", 1, 0600), -ENOTDIR, "a file as the folder: ENOTDIR");
}

static int write_numbers(FILE *f, void *userdata) {
        const int *n = userdata;

        for (int i = 0; i < *n; i++)
                fprintf(f, "%d\n", i);
        return 0;
}

static int write_then_fail(FILE *f, void *userdata) {
        fputs("partial", f);
        return -EBADMSG;
}

static void test_write_atomic_stream(void) {
        _cleanup_free_ char *dir = path_join(scratch, "s"), *f = path_join(scratch, "s/data");
        char *content = NULL;
        size_t size = 0;
        int n = 200000; /* about 1.3 MB: many times the stream's buffer */
        bool same = true;

        assert_se(mkdir(dir, 0700) == 0);
        is_int(fs_write_atomic_stream(dir, "data", 0640, write_numbers, &n), 0,
               "write a large file through a stream");
        is_int(fs_read_file(f, 1 << 24, &content, &size), 0, "read it back");
        for (int i = 0, off = 0; content && i < n && same; i++) {
                char line[16];
                int l = snprintf(line, sizeof line, "%d\n", i);

                same = (size_t) (off + l) <= size && memcmp(content + off, line, (size_t) l) == 0;
                off += l;
        }
        ok(content && same && content[size - 1] == '\n' && size == 1288890,
           "all of it, in order (%zu bytes)", size);
        free(content);
        is_int(mode_of(f), 0640, "with the mode asked for");
        is_int(count_entries(dir, "."), 0, "no temporary is left");

        is_int(fs_write_atomic_stream(dir, "data", 0600, write_then_fail, NULL), -EBADMSG,
               "the writer's error is returned");
        ok(fs_read_file(f, 1 << 24, &content, &size) == 0 && size == 1288890, "the old file is untouched");
        free(content);
        is_int(count_entries(dir, "."), 0, "no temporary is left");
        is_int(fs_write_atomic_stream(dir, "..", 0600, write_numbers, &n), -EINVAL, "'..': EINVAL");
}

static void test_create_synced(void) {
        _cleanup_free_ char *dir = path_join(scratch, "c"), *f = path_join(scratch, "c/new");
        _cleanup_close_ int dir_fd = -1;
        mode_t old_umask;

        assert_se(mkdir(dir, 0700) == 0);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_se(dir_fd >= 0);

        old_umask = umask(0777);
        is_int(fs_create_synced(dir_fd, "new", "content", 7, 0600), 0, "create a file under umask 0777");
        umask(old_umask);
        is_str(read_small_file(f), "content", "it holds what was written");
        is_int(mode_of(f), 0600, "with the mode asked for, whatever the umask");

        is_int(fs_create_synced(dir_fd, "new", "other", 5, 0600), -EEXIST,
               "a name that exists: EEXIST (never written through)");
        is_str(read_small_file(f), "content", "the file that was there is untouched");

        {
                _cleanup_free_ char *target = path_join(scratch, "c-target"), *link = path_join(dir, "link");

                assert_se(symlink(target, link) == 0);
                ok(fs_create_synced(dir_fd, "link", "x", 1, 0600) < 0, "a symlink as the name is refused");
                ok(access(target, F_OK) < 0, "and nothing is created where it points");
        }

        {
                _cleanup_close_ int fd = -1;
                static char big[3 * 65536 + 7];

                memset(big, 'b', sizeof big);
                is_int(fs_create_synced(dir_fd, "big", big, sizeof big, 0600), 0,
                       "a file larger than a pipe's buffer");
                fd = openat(dir_fd, "big", O_RDONLY | O_CLOEXEC);
                assert_se(fd >= 0);
                is_int(lseek(fd, 0, SEEK_END), (off_t) sizeof big, "is written whole");
        }
}

static void test_read_file(void) {
        _cleanup_free_ char *dir = path_join(scratch, "r"), *f = path_join(scratch, "r/f"),
                            *e = path_join(scratch, "r/empty"), *fifo = path_join(scratch, "r/fifo"),
                            *link = path_join(scratch, "r/link"), *missing = path_join(scratch, "r/missing");
        char *buf = NULL;
        size_t size = 12345;

        assert_se(mkdir(dir, 0700) == 0);
        write_file(f, "0123456789");
        write_file(e, "");

        is_int(fs_read_file(f, 100, &buf, &size), 0, "read a file");
        is_str(buf, "0123456789", "whole and NUL-terminated");
        is_int(size, 10, "with its size");
        free(buf);
        buf = NULL;

        is_int(fs_read_file(f, 10, &buf, NULL), 0, "a file of exactly max bytes is read");
        is_str(buf, "0123456789", "whole");
        free(buf);
        buf = NULL;

        is_int(fs_read_file(f, 9, &buf, &size), -EFBIG, "a file of max + 1 bytes: EFBIG");
        ok(buf == NULL, "and no buffer");

        is_int(fs_read_file(e, 100, &buf, &size), 0, "an empty file");
        ok(buf && buf[0] == '\0' && size == 0, "is an empty string");
        free(buf);
        buf = NULL;

        /* A file whose size stat() does not tell (0): read until the end all the same. */
        is_int(fs_read_file("/proc/self/status", 1 << 20, &buf, &size), 0,
               "a /proc file, of size 0 to stat()");
        ok(buf && size > 0 && strlen(buf) == size && startswith(buf, "Name:"), "is read whole");
        free(buf);
        buf = NULL;
        is_int(fs_read_file("/proc/self/status", 8, &buf, &size), -EFBIG, "and more than max of it: EFBIG");

        assert_se(symlink(f, link) == 0);
        is_int(fs_read_file(link, 100, &buf, &size), 0, "a symlink to a file is followed");
        free(buf);
        buf = NULL;

        is_int(fs_read_file(missing, 100, &buf, &size), -ENOENT, "a missing file: ENOENT");
        is_int(fs_read_file(dir, 100, &buf, &size), -EINVAL, "a folder: EINVAL");
        assert_se(mkfifo(fifo, 0600) == 0);
        alarm(10); /* a FIFO must not block the open: fail rather than hang */
        is_int(fs_read_file(fifo, 100, &buf, &size), -EINVAL, "a FIFO, without a writer: EINVAL at once");
        alarm(0);
        ok(buf == NULL, "no buffer for any failure");
}

int main(void) {
        ok(mkdtemp(scratch) != NULL, "scratch folder %s", scratch);

        test_dir_prepare();
        test_write_atomic();
        test_write_atomic_stream();
        test_create_synced();
        test_read_file();

        scratch_remove(scratch);
        return done();
}
