/* Backups: id escaping (injective, safe, bounded), atomic writes with mode 0600, no replacing. */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "backup.h"
#include "scratch.h"
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

static void *mfree(void *p) {
        free(p);
        return NULL;
}

/* is_live() for backup_prune(): only the connector named by 'userdata' is listed. */
static bool is_live_stub(const char *escaped, void *userdata) {
        return streq(escaped, userdata);
}

/* An empty file 'name' in 'dir'. */
static void write_file_in(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;
        int fd;

        assert_se(asprintf(&p, "%s/%s", dir, name) > 0);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_se(fd >= 0);
        close(fd);
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

        is_int(backup_dir_prepare(dir, NULL), 0, "backup_dir_prepare creates missing parents");
        ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
           "the backup folder is created with mode 0700");

        is_int(backup_write(dir, "a/b", doc, strlen(doc), t, &path1), 0, "write a backup");
        e = NULL;
        r = asprintf(&e, "%s/a%%2Fb.20261128T000000Z.json", dir);
        assert(r > 0);
        is_str(path1, e, "the backup is named <escaped id>.<UTC time>.json");
        free(e);
        ok(path1 && stat(path1, &st) == 0 && (st.st_mode & 0777) == 0600, "the backup has mode 0600");
        is_str(path1 ? read_small_file(path1) : NULL, doc, "the backup holds the document byte for byte");

        is_int(backup_write(dir, "a/b", doc, strlen(doc), t, &path2), 0,
               "a second backup in the same second");
        ok(path2 && path1 && strcmp(path1, path2) != 0 && strstr(path2, ".20261128T000000Z.2.json"),
           "it gets its own name instead of replacing the first");
        is_str(path1 ? read_small_file(path1) : NULL, doc, "the first backup is untouched");

        is_int(backup_write(dir, "../escape", doc, strlen(doc), t, &path3), 0, "an id holding '../'");
        ok(path3 && strncmp(path3, dir, strlen(dir)) == 0 && strchr(path3 + strlen(dir) + 1, '/') == NULL,
           "stays inside the backup folder");

        is_int(count_entries(dir, "."), 0, "no temporary file is left behind");

        /* A temporary file left by a writer that was killed goes at the next prepare, once it is
         * an hour old; a fresh one stays, whatever its pid says: its writer may live in another
         * pid namespace sharing the folder. */
        {
                _cleanup_free_ char *old = NULL, *fresh = NULL, *ours = NULL;
                struct timespec two_hours_ago[2];
                int fd;

                assert_se(asprintf(&old, "%s/.x.%ld.tmp", dir, (long) getpid()) > 0);
                assert_se(asprintf(&fresh, "%s/.y.%d.tmp", dir, 999999999) > 0);
                assert_se(asprintf(&ours, "%s/.z.%ld.tmp", dir, (long) getpid()) > 0);
                for (const char *const *f = (const char *const[]){ old, fresh, ours, NULL }; *f; f++) {
                        fd = open(*f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                        assert_se(fd >= 0);
                        close(fd);
                }
                assert_se(clock_gettime(CLOCK_REALTIME, &two_hours_ago[0]) == 0);
                two_hours_ago[0].tv_sec -= 7200;
                two_hours_ago[1] = two_hours_ago[0];
                assert_se(utimensat(AT_FDCWD, old, two_hours_ago, 0) == 0);
                is_int(backup_dir_prepare(dir, NULL), 0, "prepare a folder holding temporary files");
                ok(access(old, F_OK) < 0 && errno == ENOENT, "a temporary file two hours old is removed");
                ok(access(fresh, F_OK) == 0, "a fresh one of a pid we cannot see stays");
                ok(access(ours, F_OK) == 0, "a fresh one of ours stays");
                (void) unlink(fresh);
                (void) unlink(ours);
        }

        /* A folder others may write to, or that another user owns, is refused with the fix. */
        {
                _cleanup_free_ char *open_dir = NULL, *hint = NULL;

                assert_se(asprintf(&open_dir, "%s/open", tmpl) > 0);
                assert_se(mkdir(open_dir, 0700) == 0 && chmod(open_dir, 0777) == 0);
                is_int(backup_dir_prepare(open_dir, &hint), -EPERM,
                       "a world-writable backup_dir is refused");
                ok(hint && strstr(hint, "chmod go-w") && strstr(hint, open_dir),
                   "with the chmod that fixes it ('%s')", strna(hint));
                (void) rmdir(open_dir);
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
                is_int(backup_dir_prepare(file, NULL), -ENOTDIR, "a backup_dir that is a file is refused");
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
                const char *bodies[] = { "{\"id\":\"batch-1\"}", "{\"id\":\"batch-2\"}",
                                         "{\"id\":\"batch-3\"}" };
                struct backup_item items[3];

                r = asprintf(&bdir, "%s/batch", tmpl);
                assert(r > 0);
                is_int(backup_dir_prepare(bdir, NULL), 0, "a second backup folder");
                r = asprintf(&blocker, "%s/.batch-2.%ld.tmp", bdir, (long) getpid());
                assert(r > 0);
                ok(mkdir(blocker, 0700) == 0, "a folder stands where batch-2's temporary file would go");

                for (size_t i = 0; i < ELEMENTSOF(items); i++)
                        items[i] = (struct backup_item){
                                .id = ids[i], .body = bodies[i], .size = strlen(bodies[i]), .error = 1
                        };
                is_int(backup_write_batch(bdir, items, ELEMENTSOF(items), t), 0, "write a batch of three");
                is_int(items[0].error, 0, "the first is written");
                is_str(items[0].path ? read_small_file(items[0].path) : NULL, bodies[0],
                       "and holds its document");
                is_int(items[1].error, -EEXIST, "the second fails alone");
                ok(items[1].path == NULL, "and has no path");
                is_int(items[2].error, 0, "the third is written after it");
                is_str(items[2].path ? read_small_file(items[2].path) : NULL, bodies[2],
                       "and holds its document");
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
                                items[i] = (struct backup_item){ .id = ids[i],
                                                                 .body = bodies[i],
                                                                 .size = strlen(bodies[i]) };
                        is_int(backup_write_batch(missing, items, ELEMENTSOF(items), t), -ENOENT,
                               "a batch into a missing folder fails");
                        ok(items[0].error == -ENOENT && items[1].error == -ENOENT &&
                                   items[2].error == -ENOENT && !items[0].path && !items[1].path &&
                                   !items[2].path,
                           "every item carries the error and no path");
                }
                is_int(backup_write_batch(bdir, NULL, 0, t), 0, "an empty batch does nothing");
        }

        /* The backup format: the document as read, inside a record of where it came from. */
        {
                _cleanup_free_ char *out = NULL;
                size_t size = 0;
                const char document[] =
                        "{\"id\":\"a/\\\"b\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false}";
                const char jobs[] = "[{\"id\":\"j1\",\"connector\":{\"id\":\"a/\\\"b\"}}]";
                struct backup_record rec = {
                        .connector_id = "a/\"b",
                        .read_realtime_usec = t - 123 + 123456,
                        .cycle_id = "0123456789abcdef0123456789abcdef",
                        .cluster_url = "https://es.example.net:9200",
                        .cluster_name = "prod",
                        .cluster_uuid = "CxIK2jbeTXqpuT5dXy1jTg",
                        .es_version = "8.13.4",
                        .manifests_path = "/srv/gitops",
                        .manifests_digest = "sha256:00ff",
                        .delete_sync_jobs = true,
                        .document = document,
                        .document_size = strlen(document),
                        .sync_jobs = jobs,
                        .sync_jobs_size = strlen(jobs),
                };

                is_int(backup_format(&rec, &out, &size), 0, "backup_format() formats a record");
                is_int(size, out ? strlen(out) : 0, "its size is its length");
                is_str(out,
                       "{\"format\":\"connector-reconciler-backup\",\"format_version\":2,\"connector_id\":"
                       "\"a/\\\"b\","
                       "\"read_at\":\"2026-11-28T00:00:00.123456Z\",\"cycle_id\":"
                       "\"0123456789abcdef0123456789abcdef\","
                       "\"program\":\"" PACKAGE_NAME " " PACKAGE_VERSION
                       "\",\"cluster\":{\"url\":\"https://es.example.net:9200\","
                       "\"name\":\"prod\",\"uuid\":\"CxIK2jbeTXqpuT5dXy1jTg\",\"version\":\"8.13.4\"},"
                       "\"manifests\":"
                       "{\"path\":\"/srv/gitops\",\"digest\":\"sha256:00ff\",\"revision\":null},\"delete\":"
                       "{\"delete_sync_jobs\":true,\"hard\":false},\"document\":{\"id\":\"a/"
                       "\\\"b\",\"is_native\":false,"
                       "\"status\":\"created\",\"sync_now\":false},\"sync_jobs\":[{\"id\":\"j1\","
                       "\"connector\":{\"id\":"
                       "\"a/\\\"b\"}}]}\n",
                       "one line: the record, the document and the sync jobs as given");
                out = mfree(out);
                rec.sync_jobs = NULL;
                rec.cluster_name = NULL;
                is_int(backup_format(&rec, &out, &size), 0, "a record without sync jobs or a cluster name");
                ok(out && strstr(out, "\"name\":null,") && strstr(out, "\"sync_jobs\":null}\n"),
                   "writes null for what it lacks");

                /* Read back: what was written is what restore gets. */
                {
                        _cleanup_(backup_contents_done) struct backup_contents c = {};
                        _cleanup_free_ char *err = NULL;

                        is_int(out ? backup_parse(out, size, &c, &err) : -1, 0,
                               "a backup of format 2 reads back");
                        is_int(c.format_version, 2, "as format 2");
                        is_str(c.connector_id, "a/\"b", "with its connector's id");
                        is_str(c.document, document, "and the document as it was read");
                        is_str(c.es_version, "8.13.4", "the server's version then");
                        is_str(c.cluster_uuid, "CxIK2jbeTXqpuT5dXy1jTg", "the cluster's uuid");
                        is_str(c.read_at, "2026-11-28T00:00:00.123456Z", "and when it was read");
                }
        }

        /* Backups as restore finds them: by name, and by content. */
        {
                static const struct {
                        const char *name;
                        const char *stamp; /* NULL: not a backup of "a.b" */
                        unsigned n;
                } names[] = {
                        { "a.b.20261128T000000Z.json", "20261128T000000Z", 1 },
                        { "a.b.20261128T000000Z.2.json", "20261128T000000Z", 2 },
                        { "a.b.20261128T000000Z.17.json", "20261128T000000Z", 17 },
                        { "a.b.c.20261128T000000Z.json", NULL, 0 }, /* connector "a.b.c" */
                        { "a.20261128T000000Z.json", NULL, 0 },     /* connector "a" */
                        { "a.b.20261128T000000Z.1.json", NULL, 0 }, /* the first has no suffix */
                        { "a.b.20261128T000000Z.02.json", NULL, 0 },
                        { "a.b.20261128T000000Z.json.tmp", NULL, 0 }, /* a temporary */
                        { ".a.b.123.tmp", NULL, 0 },
                        { "a.b.2026112T0000000Z.json", NULL, 0 },
                        { "a.b.20261128T000000Z.x.json", NULL, 0 },
                        { "a.b.20261128T000000Z.99999999999.json", NULL, 0 },
                };

                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        char stamp[17] = "";
                        unsigned n = 0;
                        bool got = backup_name_parse(names[i].name, "a.b", stamp, &n);

                        if (names[i].stamp)
                                ok(got && streq(stamp, names[i].stamp) && n == names[i].n,
                                   "'%s' is backup %u of %s", names[i].name, names[i].n, names[i].stamp);
                        else
                                ok(!got, "'%s' is no backup of 'a.b'", names[i].name);
                }
        }
        {
                _cleanup_free_ char *fdir = NULL, *path = NULL, *p1 = NULL, *p2 = NULL, *p3 = NULL,
                                    *p4 = NULL;
                usec_t t0 = (usec_t) 1795000000 * USEC_PER_SEC;

                assert_se(asprintf(&fdir, "%s/find", tmpl) > 0);
                assert_se(backup_dir_prepare(fdir, NULL) >= 0);
                is_int(backup_find_newest(fdir, "x", &path), -ENOENT, "no backup of a connector: ENOENT");
                assert_se(backup_write(fdir, "x", "{\"id\":\"x\",\"n\":1}", 16, t0, &p1) >= 0);
                assert_se(backup_write(fdir, "x", "{\"id\":\"x\",\"n\":3}", 16, t0 + 2 * USEC_PER_SEC,
                                       &p3) >= 0);
                assert_se(backup_write(fdir, "x", "{\"id\":\"x\",\"n\":4}", 16, t0 + 2 * USEC_PER_SEC,
                                       &p4) >= 0);
                assert_se(backup_write(fdir, "x", "{\"id\":\"x\",\"n\":2}", 16, t0 + USEC_PER_SEC, &p2) >=
                          0);
                assert_se(backup_write(fdir, "x.y", "{\"id\":\"x.y\"}", 13, t0 + 9 * USEC_PER_SEC, NULL) >=
                          0);
                is_int(backup_find_newest(fdir, "x", &path), 0, "four backups of 'x', one of 'x.y'");
                is_str(path, p4, "the newest is the later stamp's second backup, not the other connector's");
        }
        /* Any backup's name, split; and pruning by age. */
        {
                static const struct {
                        const char *name;
                        const char *escaped; /* NULL: no backup's name */
                        const char *stamp;
                        unsigned n;
                } split_names[] = {
                        { "a.20261128T000000Z.json", "a", "20261128T000000Z", 1 },
                        { "a.b.20261128T000000Z.2.json", "a.b", "20261128T000000Z", 2 },
                        { "x.123.20261128T000000Z.json", "x.123", "20261128T000000Z", 1 },
                        { "x.123.20261128T000000Z.45.json", "x.123", "20261128T000000Z", 45 },
                        { "a%2Fb.20261128T000000Z.json", "a%2Fb", "20261128T000000Z", 1 },
                        { ".a.20261128T000000Z.json", NULL, NULL, 0 },
                        { ".20261128T000000Z.json", NULL, NULL, 0 },
                        { "a.20261128T000000Z.1.json", NULL, NULL, 0 },
                        { "a.20261128T000000Z.json.tmp", NULL, NULL, 0 },
                        { ".a.4242.tmp", NULL, NULL, 0 },
                        { "notes.json", NULL, NULL, 0 },
                        { "a.2026112T000000Z.json", NULL, NULL, 0 },
                };

                for (size_t i = 0; i < ELEMENTSOF(split_names); i++) {
                        _cleanup_free_ char *escaped = NULL;
                        char stamp[17] = "";
                        unsigned n = 0;
                        int k = backup_name_split(split_names[i].name, &escaped, stamp, &n);

                        if (split_names[i].escaped)
                                ok(k == 1 && streq(escaped, split_names[i].escaped) &&
                                           streq(stamp, split_names[i].stamp) && n == split_names[i].n,
                                   "'%s' is backup %u of '%s'", split_names[i].name, split_names[i].n,
                                   split_names[i].escaped);
                        else
                                ok(k == 0 && !escaped, "'%s' is no backup's name", split_names[i].name);
                }
        }
        {
                _cleanup_free_ char *pdir = NULL;
                usec_t day = 24 * USEC_PER_HOUR, now = (usec_t) 1795000000 * USEC_PER_SEC;
                size_t removed = 0;
                char live[] = "live";
                struct {
                        const char *id;
                        usec_t age;
                        bool kept;
                } files[] = {
                        { "gone", 40 * day, false }, /* deleted, older than the newest: removed */
                        { "gone", 35 * day, true },  /* deleted, its newest: kept, however old */
                        { "live", 50 * day, false }, /* the cluster lists it again: every old one goes */
                        { "live", 31 * day, false },
                        { "fresh", 2 * day, true }, /* young */
                        { "fresh", 1 * day, true },
                        { "fresh.2", 45 * day, true }, /* another connector, deleted: its newest */
                };
                char *paths[ELEMENTSOF(files)] = {};

                assert_se(asprintf(&pdir, "%s/prune", tmpl) > 0);
                assert_se(backup_dir_prepare(pdir, NULL) >= 0);
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        assert_se(backup_write(pdir, files[i].id, "{}", 2, now - files[i].age, &paths[i]) >=
                                  0);
                write_file_in(pdir, "notes.txt");

                is_int(backup_prune(pdir, now - 30 * day, is_live_stub, live, &removed), 0,
                       "pruning backups older than 30 days");
                is_int(removed, 3, "three are removed");
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        ok((access(paths[i], F_OK) == 0) == files[i].kept, "%s, %s days old: %s",
                           files[i].id,
                           files[i].age == 40 * day   ? "40"
                           : files[i].age == 35 * day ? "35"
                           : files[i].age == 50 * day ? "50"
                           : files[i].age == 31 * day ? "31"
                           : files[i].age == 45 * day ? "45"
                                                      : "a few",
                           files[i].kept ? "kept" : "removed");
                        free(paths[i]);
                }
                ok(count_entries(pdir, "notes.txt") == 1, "a file that is no backup is left alone");
                is_int(backup_prune(pdir, now - 30 * day, is_live_stub, live, &removed), 0, "pruning again");
                is_int(removed, 0, "removes nothing more");
        }
        {
                static const struct {
                        const char *body;
                        const char *error; /* NULL: reads, as format 1 */
                } bodies[] = {
                        { "{\"id\":\"old\",\"name\":\"n\"}", NULL },
                        { "{\"id\":\"old\",\"name\":", "not JSON (a file cut short?)" },
                        { "[]", "not a JSON object" },
                        { "{\"name\":\"n\"}",
                          "neither a backup envelope nor a connector document with an 'id'" },
                        { "{\"format\":\"connector-reconciler-backup\",\"format_version\":3,\"document\":{}"
                          "}",
                          "format_version 3 is newer than this program reads (2)" },
                        { "{\"format\":\"connector-reconciler-backup\",\"format_version\":\"2\"}",
                          "its 'format_version' is not 2" },
                        { "{\"format\":\"other\",\"format_version\":2}", "its 'format' is not a backup's" },
                        { "{\"format\":\"connector-reconciler-backup\",\"format_version\":2,"
                          "\"connector_id\":\"x\",\"document\":null}",
                          "it has no 'document' object" },
                        { "{\"format\":\"connector-reconciler-backup\",\"format_version\":2,"
                          "\"document\":{\"id\":\"x\"}}",
                          "it has no 'connector_id' string" },
                };

                for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                        _cleanup_(backup_contents_done) struct backup_contents c = {};
                        _cleanup_free_ char *err = NULL;
                        int k = backup_parse(bodies[i].body, strlen(bodies[i].body), &c, &err);

                        if (!bodies[i].error) {
                                is_int(k, 0, "a bare document (format 1) reads back");
                                is_int(c.format_version, 1, "as format 1");
                                is_str(c.connector_id, "old", "its id is the document's");
                                ok(!c.es_version && !c.read_at, "and nothing else is known");
                        } else {
                                is_int(k, -EBADMSG, "refused: %s", bodies[i].body);
                                is_str(err, bodies[i].error, "and says why");
                        }
                }
        }

        scratch_remove(tmpl);
        return done();
}
