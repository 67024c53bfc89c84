#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "util.h"

static int fsync_dir(const char *path) {
        _cleanup_close_ int fd = -1;

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

/* The folder that holds 'path' (no trailing slash): "/" for "/x", "." for "x". */
static char *parent_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        while (slash > path && slash[-1] == '/')
                slash--;
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

/* Creates the folder 'path', whose parent exists, with mode 0700, and makes the new entry durable.
 * Returns 0 when the folder was already there (or something else stands there: the caller's checks
 * see it), 1 when it was created, or a negative errno. */
static int mkdir_durable(const char *path) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (mkdir(path, 0700) < 0)
                return errno == EEXIST ? 0 : negative_errno();

        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* mkdir() applied the umask: make it 0700 exactly, so that we can use what we created. */
        if (fchmod(fd, 0700) < 0)
                return negative_errno();
        if (fsync(fd) < 0)
                return negative_errno();

        /* The new name lives in the parent: without syncing it, a crash may lose the folder. */
        parent = parent_of(path);
        if (!parent)
                return -ENOMEM;
        r = fsync_dir(parent);
        if (r < 0)
                return r;
        return 1;
}

static int mkdir_parents_durable(const char *path) {
        _cleanup_free_ char *p = NULL;
        size_t l;
        int r;

        p = strdup(path);
        if (!p)
                return -ENOMEM;
        l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
                p[--l] = '\0';

        for (char *s = p + 1; *s; s++) {
                if (*s != '/' || s[-1] == '/')
                        continue;
                *s = '\0';
                r = mkdir_durable(p);
                *s = '/';
                if (r < 0)
                        return r;
        }
        r = mkdir_durable(p);
        return r < 0 ? r : 0;
}

static int set_hint(char **reterr_hint, const char *fmt, ...) _printf_(2, 3);
static int set_hint(char **reterr_hint, const char *fmt, ...) {
        va_list ap;
        char *h;
        int r;

        if (!reterr_hint)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&h, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *reterr_hint = h;
        return 0;
}

/* Whether the missing 'path' could be created: its nearest existing ancestor is a folder that we
 * may write and search. */
static int check_creatable(const char *path, char **reterr_hint) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;
        char *slash;

        if (!p)
                return -ENOMEM;
        for (;;) {
                slash = strrchr(p, '/');
                if (!slash)
                        return 0; /* relative, under the working folder: as mkdir would find it */
                if (slash == p) {
                        p[1] = '\0';
                } else
                        *slash = '\0';
                if (stat(p, &st) >= 0)
                        break;
                if (errno != ENOENT)
                        return negative_errno();
                if (streq(p, "/"))
                        return -ENOENT;
        }
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (faccessat(AT_FDCWD, p, W_OK | X_OK, AT_EACCESS) < 0) {
                int r = negative_errno();

                if (r == -EACCES && set_hint(reterr_hint, "install -d -m 0700 -o %lu '%s'",
                                             (unsigned long) geteuid(), path) < 0)
                        return -ENOMEM;
                return r;
        }
        return 0;
}

/* Checks what stat() said of the existing 'path' (see fs_dir_prepare_private()). */
static int check_private(const char *path, const struct stat *st, char **reterr_hint);

int fs_dir_check_private(const char *path, char **reterr_hint) {
        struct stat st;

        assert(path);

        if (path[0] == '\0')
                return -ENOENT;
        if (stat(path, &st) < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                return check_creatable(path, reterr_hint);
        }
        return check_private(path, &st, reterr_hint);
}

int fs_dir_prepare_private(const char *path, char **reterr_hint) {
        struct stat st;
        int r;

        assert(path);

        if (path[0] == '\0')
                return -ENOENT;

        /* The common case, every start but the first: nothing to create. */
        if (stat(path, &st) < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                r = mkdir_parents_durable(path);
                if (r < 0)
                        return r;
                if (stat(path, &st) < 0)
                        return negative_errno();
        }
        return check_private(path, &st, reterr_hint);
}

static int check_private(const char *path, const struct stat *st, char **reterr_hint) {
        if (!S_ISDIR(st->st_mode))
                return -ENOTDIR;
        if (st->st_uid != geteuid()) {
                if (reterr_hint) {
                        char *h;

                        if (asprintf(&h, "chown %lu '%s'", (unsigned long) geteuid(), path) < 0)
                                return -ENOMEM;
                        *reterr_hint = h;
                }
                return -EPERM;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                if (reterr_hint) {
                        char *h;

                        if (asprintf(&h, "chmod go-w '%s'", path) < 0)
                                return -ENOMEM;
                        *reterr_hint = h;
                }
                return -EPERM;
        }
        /* With the effective ids, which the checks above use too (access() takes the real ones). */
        if (faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) < 0)
                return negative_errno();
        return 0;
}

int fs_write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t k = write(fd, p, size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

/* Fills the temporary 'fd' with the content: 0 or a negative errno. */
typedef int (*fill_fn)(int fd, void *userdata);

static int write_temporary(int dir_fd, const char *tmp_name, mode_t mode, fill_fn fill, void *userdata) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(dir_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
        if (fd < 0)
                return negative_errno();
        /* The umask may have narrowed the mode; a umask of 0 widens nothing, as we asked for it. */
        if (fchmod(fd, mode & 07777) < 0)
                return negative_errno();
        r = fill(fd, userdata);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return negative_errno();
        /* close() may report a write error of a network file system that fsync() did not. */
        if (close(TAKE_FD(fd)) < 0)
                return negative_errno();
        return 0;
}

static bool name_is_component(const char *name) {
        return name[0] != '\0' && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

static int write_atomic(const char *dir, const char *name, mode_t mode, fill_fn fill, void *userdata) {
        _cleanup_close_ int dir_fd = -1;
        _cleanup_free_ char *tmp_name = NULL;
        char *t;
        int r;

        assert(dir);
        assert(name);

        if (!name_is_component(name))
                return -EINVAL;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return negative_errno();

        /* A dot name, so that a crash between write and rename leaves nothing that looks like the
         * file; the pid keeps concurrent writers apart. */
        if (asprintf(&t, ".%s.%ld.tmp", name, (long) getpid()) < 0)
                return -ENOMEM;
        tmp_name = t;
        (void) unlinkat(dir_fd, tmp_name, 0); /* left over by a crash of a process with our pid */

        r = write_temporary(dir_fd, tmp_name, mode, fill, userdata);
        if (r >= 0 && renameat(dir_fd, tmp_name, dir_fd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp_name, 0);
                return r;
        }

        /* The rename lives in the folder: without syncing it, a crash may bring the old file back. */
        if (fsync(dir_fd) < 0)
                return negative_errno();
        return 0;
}

struct buffer {
        const void *data;
        size_t size;
};

static int fill_buffer(int fd, void *userdata) {
        const struct buffer *b = userdata;

        return fs_write_all(fd, b->data, b->size);
}

int fs_write_atomic(const char *dir, const char *name, const void *data, size_t size, mode_t mode) {
        struct buffer b = { .data = data, .size = size };

        assert(data || size == 0);

        return write_atomic(dir, name, mode, fill_buffer, &b);
}

int fs_create_synced(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        struct buffer b = { .data = data, .size = size };

        assert(name);
        assert(data || size == 0);

        return write_temporary(dir_fd, name, mode, fill_buffer, &b);
}

/* The stream's buffer: large enough that a big file goes out in few write() calls. */
#define STREAM_BUFFER_SIZE ((size_t) 128 * 1024)

struct stream {
        int (*write_fn)(FILE *f, void *userdata);
        void *userdata;
};

static int fill_stream(int fd, void *userdata) {
        const struct stream *st = userdata;
        _cleanup_fclose_ FILE *f = NULL;
        int copy, r;

        /* A copy of the fd for the stream, since fclose() closes it: the caller syncs and closes
         * the original. */
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return negative_errno();
        f = fdopen(copy, "w");
        if (!f) {
                r = negative_errno();
                (void) close(copy);
                return r;
        }
        (void) setvbuf(f, NULL, _IOFBF, STREAM_BUFFER_SIZE);

        r = st->write_fn(f, st->userdata);
        if (r < 0)
                return r;
        if (fflush(f) != 0)
                return negative_errno();
        if (ferror(f))
                return -EIO; /* a write failed earlier and errno is long gone */
        if (fclose(TAKE_PTR(f)) != 0)
                return negative_errno();
        return 0;
}

int fs_write_atomic_stream(const char *dir, const char *name, mode_t mode,
                           int (*write_fn)(FILE *f, void *userdata), void *userdata) {
        struct stream st = { .write_fn = write_fn, .userdata = userdata };

        assert(write_fn);

        return write_atomic(dir, name, mode, fill_stream, &st);
}

int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0, cap;

        assert(path);
        assert(ret);
        assert(max < SIZE_MAX / 2);

        /* O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for a regular
         * file. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uintmax_t) st.st_size > max)
                return -EFBIG;

        /* One byte more than the size, so that the read that sees the end ends the loop and a file
         * that grew meanwhile is noticed. The size may also be 0 or wrong (/proc, /sys). */
        cap = (size_t) st.st_size + 1;
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t k;

                if (n == cap) {
                        size_t c;
                        char *b;

                        if (n > max)
                                return -EFBIG;
                        c = cap > (max + 1) / 2 ? max + 1 : cap * 2;
                        b = realloc(buf, c + 1);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap = c;
                }
                k = read(fd, buf + n, cap - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }

        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}
