/* The files of a manifests path, as one snapshot: the walk of a folder (its order, its links and
 * loops, its depth), each file read whole once and added to the digest, and the look for a Git
 * operation in progress in the repository that holds the path. No YAML here: manifest.c parses
 * what the snapshot hands it. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "manifest-walk.h"
#include "manifest.h"
#include "sha256.h"
#include "util.h"
#include "yaml-read.h"

_Static_assert(MANIFEST_DIGEST_SIZE == SHA256_DIGEST_SIZE, "the digest is a SHA-256");

int manifest_grow(void **array, size_t *allocated, size_t need, size_t size) {
        size_t n;
        void *a;

        if (need <= *allocated)
                return 0;
        n = MAX(need, MAX(*allocated * 2, (size_t) 8));
        a = reallocarray(*array, n, size);
        if (!a)
                return -ENOMEM;
        *array = a;
        *allocated = n;
        return 0;
}

static bool is_manifest_name(const char *name) {
        size_t n = strlen(name);

        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 4 && streq(name + n - 4, ".yml"));
}

struct walker {
        struct yaml_read_diags *errors;
        /* The top folder, opened once: every path below is read relative to it. */
        int dir_fd;
        char **files; /* relative paths */
        size_t n_files;
        size_t n_allocated;
        /* The folders from the top down to the one being read, to detect symlink loops. */
        dev_t devs[MANIFEST_MAX_DIR_DEPTH + 1];
        ino_t inos[MANIFEST_MAX_DIR_DEPTH + 1];
        size_t depth;
};

static void walker_done(struct walker *w) {
        for (size_t i = 0; i < w->n_files; i++)
                free(w->files[i]);
        free(w->files);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *join(const char *dir, const char *name) {
        size_t n = strlen(dir);
        char *s;

        if (n == 0)
                return strdup(name);
        if (asprintf(&s, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return s;
}

/* Lists a folder's entries (dot names skipped), then closes it before anything descends, so
 * that one descriptor at most is open besides the top folder's, whatever the depth. */
static int list_dir(struct walker *w, const char *full, const char *rel, char ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        int fd, r = 0;

        fd = openat(w->dir_fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = negative_errno();
                if (fd >= 0)
                        (void) close(fd);
                (void) yaml_read_diags_add(w->errors, full, 0, 0, "cannot open directory: %s", strerror(-r));
                return -EINVAL;
        }
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                r = negative_errno();
                                (void) closedir(d);
                                (void) yaml_read_diags_add(w->errors, full, 0, 0,
                                                           "cannot read directory: %s", strerror(-r));
                                return -EINVAL;
                        }
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                r = manifest_grow((void **) &names, &allocated, n + 2, sizeof(char *));
                if (r < 0)
                        break;
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                names[++n] = NULL;
        }
        (void) closedir(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

static int walk(struct walker *w, const char *top, const char *rel) {
        _cleanup_free_ char *full = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        full = join(top, rel);
        if (!full)
                return -ENOMEM;
        r = list_dir(w, full, rel, &names, &n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *child_rel = NULL, *child_full = NULL;
                struct stat st;

                child_rel = join(rel, names[i]);
                child_full = join(top, child_rel);
                if (!child_rel || !child_full)
                        return -ENOMEM;

                /* stat(), not lstat(): symbolic links are followed. */
                if (fstatat(w->dir_fd, child_rel, &st, 0) < 0) {
                        r = negative_errno();
                        /* A dangling link, or an entry that vanished: only a manifest's name
                         * matters. Any other failure might hide a folder of manifests. */
                        if (r == -ENOENT && !is_manifest_name(names[i]))
                                continue;
                        r = yaml_read_diags_add(w->errors, child_full, 0, 0, "cannot access: %s",
                                                strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        bool loop = false;

                        for (size_t k = 0; k <= w->depth; k++)
                                if (w->devs[k] == st.st_dev && w->inos[k] == st.st_ino)
                                        loop = true;
                        if (loop) {
                                r = yaml_read_diags_add(
                                        w->errors, child_full, 0, 0,
                                        "directory loop: this folder contains itself (through a "
                                        "symbolic link)");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (w->depth >= MANIFEST_MAX_DIR_DEPTH) {
                                r = yaml_read_diags_add(w->errors, child_full, 0, 0,
                                                        "folders nested deeper than %u levels",
                                                        MANIFEST_MAX_DIR_DEPTH);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        w->depth++;
                        w->devs[w->depth] = st.st_dev;
                        w->inos[w->depth] = st.st_ino;
                        r = walk(w, top, child_rel);
                        w->depth--;
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                if (!is_manifest_name(names[i]))
                        continue;
                if (!S_ISREG(st.st_mode)) {
                        r = yaml_read_diags_add(w->errors, child_full, 0, 0, "not a regular file");
                        if (r < 0)
                                return r;
                        continue;
                }
                r = manifest_grow((void **) &w->files, &w->n_allocated, w->n_files + 1, sizeof(char *));
                if (r < 0)
                        return r;
                w->files[w->n_files++] = TAKE_PTR(child_rel);
        }
        return 0;
}

/* Reading a snapshot of the manifests: the files of a path in the order read, each read whole
 * once, added to the digest, and handed to 'file' (when set) to parse. manifest_load() and
 * manifest_digest() share it, so that both see the same files in the same way. */
struct snapshot {
        struct yaml_read_diags *errors;
        struct sha256_ctx hash;
        int (*file)(void *userdata, char *name, const char *data, size_t size);
        void *userdata;
};

void manifest_snapshot_add(struct sha256_ctx *hash, const char *digest_name, const void *data, size_t size) {
        uint8_t be[8];

        for (unsigned i = 0; i < 8; i++)
                be[i] = (uint8_t) ((uint64_t) size >> (56 - 8 * i));
        sha256_update(hash, digest_name, strlen(digest_name) + 1);
        sha256_update(hash, be, sizeof(be));
        sha256_update(hash, data, size);
}

/* Reads 'rel' below the folder 'dir_fd' (AT_FDCWD: 'rel' is the path given), naming it 'name' in
 * messages (taken) and 'digest_name' in the digest. A file that cannot be read is reported, and
 * the reading goes on. */
static int snapshot_file(struct snapshot *s, int dir_fd, const char *rel, char *name,
                         const char *digest_name) {
        _cleanup_free_ char *owned = name, *data = NULL;
        size_t size;
        int r;

        r = yaml_read_contents_at(dir_fd, rel, name, &data, &size, s->errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* reported */
        manifest_snapshot_add(&s->hash, digest_name, data, size);
        if (!s->file)
                return 0;
        return s->file(s->userdata, TAKE_PTR(owned), data, size);
}

/* Reads every file of 'path' in order, as manifest_snapshot_read() says. */
static int snapshot_read(struct snapshot *s, const char *path) {
        _cleanup_(walker_done) struct walker w = { .errors = s->errors, .dir_fd = -1 };
        _cleanup_close_ int dir_fd = -1;
        size_t n_before = yaml_read_diags_count(s->errors);
        struct stat st;
        int r;

        if (stat(path, &st) < 0) {
                r = negative_errno();
                r = yaml_read_diags_add(s->errors, path, 0, 0, "cannot access: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        if (!S_ISDIR(st.st_mode)) {
                const char *slash = strrchr(path, '/');
                char *p = strdup(path);

                if (!p)
                        return -ENOMEM;
                r = snapshot_file(s, AT_FDCWD, path, p, slash ? slash + 1 : path);
                return r == -ENOMEM ? r : 0;
        }

        /* Everything below is read through this one descriptor: were 'path' a symbolic link that
         * is swapped while we read (git-sync and the like swap it to a new checkout), every file
         * still comes from the one folder, never half from each. */
        dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || fstat(dir_fd, &st) < 0) {
                r = negative_errno();
                r = yaml_read_diags_add(s->errors, path, 0, 0, "cannot open directory: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        w.dir_fd = dir_fd;
        w.devs[0] = st.st_dev;
        w.inos[0] = st.st_ino;
        r = walk(&w, path, "");
        if (r == -ENOMEM)
                return r;
        /* Bytewise order of the whole relative path, not folder by folder: "a-b.yaml" comes
         * before "a/x.yaml" ('-' < '/'). */
        if (w.n_files > 1)
                qsort(w.files, w.n_files, sizeof(char *), strcmp_ptr);
        if (w.n_files == 0 && yaml_read_diags_count(s->errors) == n_before) {
                r = yaml_read_diags_add(s->errors, path, 0, 0,
                                        "no manifest (*.yaml, *.yml) in this directory");
                return r < 0 ? r : -EINVAL;
        }
        for (size_t i = 0; i < w.n_files; i++) {
                char *p = join(path, w.files[i]);

                if (!p)
                        return -ENOMEM;
                r = snapshot_file(s, dir_fd, w.files[i], p, w.files[i]);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

int manifest_snapshot_read(const char *path,
                           int (*file)(void *userdata, char *name, const char *data, size_t size),
                           void *userdata, uint8_t ret_digest[static MANIFEST_DIGEST_SIZE],
                           struct yaml_read_diags *errors) {
        struct snapshot s = { .errors = errors, .file = file, .userdata = userdata };
        int r;

        assert(path);
        assert(errors);

        sha256_init(&s.hash);
        r = snapshot_read(&s, path);
        if (r < 0)
                return r;
        sha256_final(&s.hash, ret_digest);
        return 0;
}

void manifest_snapshot_digest_buffer(const char *name, const void *data, size_t size,
                                     uint8_t ret[static MANIFEST_DIGEST_SIZE]) {
        struct sha256_ctx hash;

        assert(name);

        sha256_init(&hash);
        manifest_snapshot_add(&hash, name, data, size);
        sha256_final(&hash, ret);
}

/* The Git folder that 'dir/.git' names: the folder itself, or the DIR of a file "gitdir: DIR".
 * Returns 1 and sets *ret (owned by the caller), 0 when 'dir' has no '.git', or a negative errno. */
static int git_dir_of(const char *dir, char **ret) {
        _cleanup_free_ char *dot_git = NULL, *content = NULL, *target = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        ssize_t k;
        size_t n;

        dot_git = join(dir, ".git");
        if (!dot_git)
                return -ENOMEM;
        fd = open(dot_git, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode)) {
                *ret = TAKE_PTR(dot_git);
                return 1;
        }
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;

        /* "gitdir: DIR\n", as git writes it for worktrees and submodules: a line, not a file of
         * any size. */
        content = malloc(PATH_MAX + 16);
        if (!content)
                return -ENOMEM;
        do
                k = read(fd, content, PATH_MAX + 15);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        n = (size_t) k;
        content[n] = '\0';
        while (n > 0 && (content[n - 1] == '\n' || content[n - 1] == '\r' || content[n - 1] == ' '))
                content[--n] = '\0';
        if (!startswith(content, "gitdir: ") || n == strlen("gitdir: ") || strlen(content) != n)
                return -EBADMSG;
        target = content[strlen("gitdir: ")] == '/' ? strdup(content + strlen("gitdir: "))
                                                    : join(dir, content + strlen("gitdir: "));
        if (!target)
                return -ENOMEM;
        *ret = TAKE_PTR(target);
        return 1;
}

int manifest_git_busy(const char *path, char **ret_what) {
        /* What git leaves in its folder while it rewrites the work tree, or while a merge, a
         * cherry-pick, a revert or a rebase waits half done. */
        static const char *const markers[] = {
                "index.lock",  "MERGE_HEAD",   "CHERRY_PICK_HEAD",
                "REVERT_HEAD", "rebase-merge", "rebase-apply",
        };
        _cleanup_free_ char *dir = NULL, *git_dir = NULL, *shown = NULL, *found = NULL, *what = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        assert(path);

        dir = realpath(path, NULL);
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                *strrchr(dir, '/') = '\0'; /* realpath() gives an absolute path: there is a '/' */

        for (;;) {
                char *slash;

                if (dir[0] == '\0') /* the file system root, once its '/' is cut */
                        r = git_dir_of("/", &git_dir);
                else
                        r = git_dir_of(dir, &git_dir);
                if (r != 0)
                        break;
                slash = strrchr(dir, '/');
                if (!slash)
                        return 0;
                *slash = '\0';
        }
        if (r < 0)
                return r;

        /* Name it as it is, without "..": worktrees' "gitdir:" lines are absolute, submodules'
         * relative. A Git folder that is gone holds no operation. */
        shown = realpath(git_dir, NULL);
        if (!shown)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        found = calloc(1, 1);
        if (!found)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(markers); i++) {
                _cleanup_free_ char *p = join(shown, markers[i]);
                char *f;

                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                if (asprintf(&f, "%s%s%s", found, len > 0 ? ", " : "", markers[i]) < 0)
                        return -ENOMEM;
                free(found);
                found = f;
                len++;
        }
        if (len == 0)
                return 0;
        if (ret_what) {
                if (asprintf(&what, "a Git operation is in progress in '%s' (%s)", shown, found) < 0)
                        return -ENOMEM;
                *ret_what = TAKE_PTR(what);
        }
        return 1;
}
