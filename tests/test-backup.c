/* Backups: id escaping (injective, safe, bounded), atomic writes with mode 0600, no replacing. */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "backup.h"
#include "tap.h"
#include "util.h"

static const struct {
        const char *id;
        const char *escaped;
} escapes[] = {
        { "team-a-hr", "team-a-hr" },
        { "Team_A.v2", "Team_A.v2" },
        { "a/b", "a%2Fb" },
        { "../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd" },
        { ".hidden", "%2Ehidden" },
        { "a b", "a%20b" },
        { "100%", "100%25" },
        { "a?b#c+d", "a%3Fb%23c%2Bd" },
        { "line\nbreak", "line%0Abreak" },
        { "caf\xc3\xa9", "caf%C3%A9" },
        { "%2F", "%252F" },
};

static int count_entries(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        closedir(d);
        return n;
}

static char *read_file(const char *path) {
        static char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return buf;
}

int main(void) {
        char tmpl[] = "/tmp/test-backup.XXXXXX";
        _cleanup_free_ char *dir = NULL, *path1 = NULL, *path2 = NULL, *path3 = NULL;
        const usec_t t = 1795824000ULL * USEC_PER_SEC + 123; /* 2026-11-28T00:00:00Z */
        const char doc[] = "{\"id\":\"a/b\",\"name\":\"x\"}";
        struct stat st;
        char *e;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                e = backup_escape_id(escapes[i].id);
                is_str(e, escapes[i].escaped, "escape '%s'", escapes[i].escaped);
                free(e);
        }

        /* Long ids are cut and hashed: bounded, and two ids sharing a long prefix stay apart. */
        {
                char a[600], b[600];
                _cleanup_free_ char *ea = NULL, *eb = NULL;

                memset(a, 'x', sizeof a - 1);
                a[sizeof a - 1] = '\0';
                memcpy(b, a, sizeof a);
                b[sizeof b - 2] = 'y';
                ea = backup_escape_id(a);
                eb = backup_escape_id(b);
                ok(ea && strlen(ea) <= BACKUP_ID_NAME_MAX, "a long id's name is at most %d bytes",
                   BACKUP_ID_NAME_MAX);
                ok(ea && eb && strcmp(ea, eb) != 0, "long ids differing at the end get different names");
        }
        {
                char a[300];
                _cleanup_free_ char *ea = NULL;

                memset(a, '/', sizeof a - 1);
                a[sizeof a - 1] = '\0';
                ea = backup_escape_id(a);
                ok(ea && strlen(ea) <= BACKUP_ID_NAME_MAX && strchr(ea, '/') == NULL,
                   "a long id of escaped bytes is cut on an escape boundary");
                ok(ea && strstr(ea, "%2F~") != NULL, "the cut keeps whole escapes");
        }

        ok(mkdtemp(tmpl) != NULL, "scratch folder");
        r = asprintf(&dir, "%s/state/deleted", tmpl);
        assert(r > 0);

        is_int(backup_dir_prepare(dir), 0, "backup_dir_prepare creates missing parents");
        ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
           "the backup folder is created with mode 0700");

        is_int(backup_write(dir, "a/b", doc, strlen(doc), t, &path1), 0, "write a backup");
        e = NULL;
        r = asprintf(&e, "%s/a%%2Fb.20261128T000000Z.json", dir);
        assert(r > 0);
        is_str(path1, e, "the backup is named <escaped id>.<UTC time>.json");
        free(e);
        ok(path1 && stat(path1, &st) == 0 && (st.st_mode & 0777) == 0600, "the backup has mode 0600");
        is_str(path1 ? read_file(path1) : NULL, doc, "the backup holds the document byte for byte");

        is_int(backup_write(dir, "a/b", doc, strlen(doc), t, &path2), 0, "a second backup in the same second");
        ok(path2 && path1 && strcmp(path1, path2) != 0 && strstr(path2, ".20261128T000000Z.2.json"),
           "it gets its own name instead of replacing the first");
        is_str(path1 ? read_file(path1) : NULL, doc, "the first backup is untouched");

        is_int(backup_write(dir, "../escape", doc, strlen(doc), t, &path3), 0, "an id holding '../'");
        ok(path3 && strncmp(path3, dir, strlen(dir)) == 0 && strchr(path3 + strlen(dir) + 1, '/') == NULL,
           "stays inside the backup folder");

        is_int(count_entries(dir, "."), 2, "no temporary file is left behind (only . and ..)");

        /* A temporary file left by a writer that was killed goes at the next prepare; one of a
         * live process stays. */
        {
                _cleanup_free_ char *dead = NULL, *live = NULL;
                int fd;

                r = asprintf(&dead, "%s/.x.%d.tmp", dir, 999999999);
                assert(r > 0);
                r = asprintf(&live, "%s/.y.%ld.tmp", dir, (long) getpid());
                assert(r > 0);
                fd = open(dead, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert(fd >= 0);
                close(fd);
                fd = open(live, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert(fd >= 0);
                close(fd);
                is_int(backup_dir_prepare(dir), 0, "prepare a folder holding temporary files");
                ok(access(dead, F_OK) < 0 && errno == ENOENT, "a dead writer's temporary file is removed");
                ok(access(live, F_OK) == 0, "a live writer's temporary file stays");
                (void) unlink(live);
        }

        /* A backup folder that is a file: no backup, and nothing left behind. */
        {
                _cleanup_free_ char *file = NULL;
                int fd;

                r = asprintf(&file, "%s/not-a-dir", tmpl);
                assert(r > 0);
                fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert(fd >= 0);
                close(fd);
                is_int(backup_dir_prepare(file), -ENOTDIR, "a backup_dir that is a file is refused");
                is_int(backup_write(file, "x", doc, strlen(doc), t, NULL), -ENOTDIR,
                       "writing into a file instead of a folder fails");
                (void) unlink(file);
        }

        /* A batch: every document that can be written is, each under its own name, and one that
         * cannot fails alone. The middle one's temporary name is taken by a folder, so its write
         * fails with EEXIST. */
        {
                _cleanup_free_ char *bdir = NULL, *blocker = NULL;
                const char *ids[] = { "batch-1", "batch-2", "batch-3" };
                const char *bodies[] = { "{\"id\":\"batch-1\"}", "{\"id\":\"batch-2\"}", "{\"id\":\"batch-3\"}" };
                struct backup_item items[3];

                r = asprintf(&bdir, "%s/batch", tmpl);
                assert(r > 0);
                is_int(backup_dir_prepare(bdir), 0, "a second backup folder");
                r = asprintf(&blocker, "%s/.batch-2.%ld.tmp", bdir, (long) getpid());
                assert(r > 0);
                ok(mkdir(blocker, 0700) == 0, "a folder stands where batch-2's temporary file would go");

                for (size_t i = 0; i < ELEMENTSOF(items); i++)
                        items[i] = (struct backup_item) { .id = ids[i], .body = bodies[i], .size = strlen(bodies[i]),
                                                          .error = 1 };
                is_int(backup_write_batch(bdir, items, ELEMENTSOF(items), t), 0, "write a batch of three");
                is_int(items[0].error, 0, "the first is written");
                is_str(items[0].path ? read_file(items[0].path) : NULL, bodies[0], "and holds its document");
                is_int(items[1].error, -EEXIST, "the second fails alone");
                ok(items[1].path == NULL, "and has no path");
                is_int(items[2].error, 0, "the third is written after it");
                is_str(items[2].path ? read_file(items[2].path) : NULL, bodies[2], "and holds its document");
                ok(items[2].path && strstr(items[2].path, "/batch-3.20261128T000000Z.json"),
                   "under its own name");
                is_int(count_entries(bdir, "batch-"), 2, "exactly two backups in the folder");
                is_int(count_entries(bdir, ".batch-"), 1, "no temporary file but the blocking folder");
                for (size_t i = 0; i < ELEMENTSOF(items); i++)
                        free(items[i].path);
                (void) rmdir(blocker);

                /* A folder that cannot be opened fails every item, and says so. */
                {
                        _cleanup_free_ char *missing = NULL;

                        r = asprintf(&missing, "%s/missing", tmpl);
                        assert(r > 0);
                        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                                items[i] = (struct backup_item) { .id = ids[i], .body = bodies[i],
                                                                  .size = strlen(bodies[i]) };
                        is_int(backup_write_batch(missing, items, ELEMENTSOF(items), t), -ENOENT,
                               "a batch into a missing folder fails");
                        ok(items[0].error == -ENOENT && items[1].error == -ENOENT && items[2].error == -ENOENT &&
                                   !items[0].path && !items[1].path && !items[2].path,
                           "every item carries the error and no path");
                }
                is_int(backup_write_batch(bdir, NULL, 0, t), 0, "an empty batch does nothing");
        }

        /* Clean up the scratch tree. */
        {
                char cmd[256];

                (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
                r = system(cmd);
                (void) r;
        }
        return done();
}
