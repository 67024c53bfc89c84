#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "fs-util.h"
#include "json-write.h"
#include "util.h"

#define BACKUP_SUFFIX_MAX     1000 /* ".2" ... ".999": more backups of one id in one second is a bug */
#define BACKUP_STALE_TMP_USEC USEC_PER_HOUR

static bool is_safe_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
}

static uint64_t fnv1a64(const char *s) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                h ^= *p;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

char *backup_escape_id(const char *id) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(id);
        char *e, *o;

        assert(id);

        e = malloc(n * 3 + 1);
        if (!e)
                return NULL;
        o = e;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) id[i];

                if (is_safe_char(c) && !(i == 0 && c == '.'))
                        *o++ = (char) c;
                else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = '\0';

        if ((size_t) (o - e) > BACKUP_ID_NAME_MAX) {
                /* Cut at an escape boundary so that the kept part still reads as escaped. */
                size_t cut = BACKUP_ID_NAME_MAX - 17;

                while (cut > 0 && (e[cut - 1] == '%' || (cut > 1 && e[cut - 2] == '%')))
                        cut--;
                (void) snprintf(e + cut, 18, "~%016llx", (unsigned long long) fnv1a64(id));
        }
        return e;
}

/* Removes the temporary files ".<escaped id>.<pid>.tmp" that writers killed mid-write left. A
 * writer takes milliseconds to write one, so one older than BACKUP_STALE_TMP_USEC is left over
 * whatever process made it: a pid says nothing about a writer in another pid namespace sharing
 * the folder, whose file must not be removed while it writes. */
static void remove_stale_temporaries(const char *dir) {
        DIR *d = opendir(dir);
        usec_t now = now_usec(CLOCK_REALTIME);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                size_t l = strlen(name);
                struct stat st;

                if (name[0] != '.' || l < 6 || strcmp(name + l - 4, ".tmp") != 0)
                        continue;
                if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (timespec_to_usec(&st.st_mtim) + BACKUP_STALE_TMP_USEC < now)
                        (void) unlinkat(dirfd(d), name, 0);
        }
        (void) closedir(d);
}

int backup_dir_prepare(const char *dir, char **reterr_hint) {
        int r;

        assert(dir);

        r = fs_dir_prepare_private(dir, reterr_hint);
        if (r < 0)
                return r;
        remove_stale_temporaries(dir);
        return 0;
}

/* Writes one document under its final name in dir_fd, the folder not yet fsync'd. Returns 0 with
 * the name in 'name', or a negative errno with nothing left behind. */
static int write_one(int dir_fd, const char *stamp, const struct backup_item *item, char *name,
                     size_t name_size) {
        _cleanup_free_ char *escaped = NULL, *tmp_name = NULL;
        int r;

        escaped = backup_escape_id(item->id);
        if (!escaped)
                return -ENOMEM;

        /* A dot name, so that a crash between write and rename leaves nothing that looks like a
         * backup; the pid keeps concurrent runs apart. */
        if (asprintf(&tmp_name, ".%s.%ld.tmp", escaped, (long) getpid()) < 0)
                return -ENOMEM;
        (void) unlinkat(dir_fd, tmp_name, 0); /* left over by a crash of a process with our pid */

        r = fs_create_synced(dir_fd, tmp_name, item->body, item->size, 0600);
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp_name, 0);
                return r;
        }

        for (unsigned i = 1;; i++) {
                if (i >= BACKUP_SUFFIX_MAX) {
                        r = -EEXIST;
                        break;
                }
                if (i == 1)
                        (void) snprintf(name, name_size, "%s.%s.json", escaped, stamp);
                else
                        (void) snprintf(name, name_size, "%s.%s.%u.json", escaped, stamp, i);

                /* link() + unlink() rather than rename(): rename would replace an existing backup. */
                if (linkat(dir_fd, tmp_name, dir_fd, name, 0) >= 0) {
                        r = 0;
                        break;
                }
                if (errno != EEXIST) {
                        r = negative_errno();
                        break;
                }
        }
        (void) unlinkat(dir_fd, tmp_name, 0);
        return r;
}

int backup_write_batch(const char *dir, struct backup_item *items, size_t n, usec_t realtime_usec) {
        _cleanup_close_ int dir_fd = -1;
        char stamp[32];
        time_t sec = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;
        size_t written = 0;
        int r;

        assert(dir);
        assert(items || n == 0);

        for (size_t i = 0; i < n; i++) {
                assert(items[i].id);
                assert(items[i].body || items[i].size == 0);
                items[i].error = 0;
                items[i].path = NULL;
        }

        r = -EINVAL;
        if (gmtime_r(&sec, &tm) && strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) > 0) {
                dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = dir_fd < 0 ? negative_errno() : 0;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        items[i].error = r;
                return r;
        }

        for (size_t i = 0; i < n; i++) {
                char name[BACKUP_ID_NAME_MAX + 64];

                r = write_one(dir_fd, stamp, &items[i], name, sizeof name);
                if (r >= 0 && asprintf(&items[i].path, "%s/%s", dir, name) < 0) {
                        items[i].path = NULL;
                        (void) unlinkat(dir_fd, name, 0);
                        r = -ENOMEM;
                }
                items[i].error = r;
                if (r >= 0)
                        written++;
        }
        if (written == 0)
                return 0;

        /* One sync of the folder makes every new name durable at once (a group commit). */
        if (fsync(dir_fd) < 0) {
                r = negative_errno();
                for (size_t i = 0; i < n; i++) {
                        if (items[i].error < 0)
                                continue;
                        (void) unlinkat(dir_fd, strrchr(items[i].path, '/') + 1, 0);
                        free(items[i].path);
                        items[i].path = NULL;
                        items[i].error = r;
                }
        }
        return 0;
}

int backup_write(const char *dir, const char *id, const void *body, size_t n, usec_t realtime_usec,
                 char **ret_path) {
        struct backup_item item = { .id = id, .body = body, .size = n };

        assert(dir);
        assert(id);
        assert(body || n == 0);

        (void) backup_write_batch(dir, &item, 1, realtime_usec);
        if (item.error < 0)
                return item.error;
        if (ret_path)
                *ret_path = item.path;
        else
                free(item.path);
        return 0;
}

int backup_format(const struct backup_record *r, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        time_t sec = (time_t) (r->read_realtime_usec / USEC_PER_SEC);
        char stamp[64] = "";
        size_t size = 0;
        struct tm tm;
        FILE *f;

        assert(r);
        assert(r->connector_id);
        assert(r->document && r->document_size > 0);
        assert(ret);
        assert(ret_size);

        if (gmtime_r(&sec, &tm)) {
                size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

                if (n > 0)
                        (void) snprintf(stamp + n, sizeof stamp - n, ".%06uZ",
                                        (unsigned) (r->read_realtime_usec % USEC_PER_SEC));
        }

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        (void) fprintf(f,
                       "{\"format\":\"connector-reconciler-backup\",\"format_version\":%d,\"connector_id\":",
                       BACKUP_FORMAT_VERSION);
        json_write_string(f, r->connector_id);
        (void) fputs(",\"read_at\":", f);
        json_write_string(f, stamp[0] ? stamp : NULL);
        (void) fputs(",\"cycle_id\":", f);
        json_write_string(f, r->cycle_id);
        (void) fputs(",\"program\":\"" PACKAGE_NAME " " PACKAGE_VERSION "\",\"cluster\":{\"url\":", f);
        json_write_string(f, r->cluster_url);
        (void) fputs(",\"name\":", f);
        json_write_string(f, r->cluster_name);
        (void) fputs(",\"uuid\":", f);
        json_write_string(f, r->cluster_uuid);
        (void) fputs(",\"version\":", f);
        json_write_string(f, r->es_version);
        (void) fputs("},\"manifests\":{\"path\":", f);
        json_write_string(f, r->manifests_path);
        (void) fputs(",\"digest\":", f);
        json_write_string(f, r->manifests_digest);
        (void) fputs(",\"revision\":", f);
        json_write_string(f, r->manifests_revision);
        (void) fprintf(f, "},\"delete\":{\"delete_sync_jobs\":%s,\"hard\":%s},\"document\":",
                       r->delete_sync_jobs ? "true" : "false", r->hard ? "true" : "false");
        (void) fwrite(r->document, 1, r->document_size, f);
        (void) fputs(",\"sync_jobs\":", f);
        if (r->sync_jobs)
                (void) fwrite(r->sync_jobs, 1, r->sync_jobs_size, f);
        else
                (void) fputs("null", f);
        (void) fputs("}\n", f);

        if (ferror(f)) {
                (void) fclose(f);
                return -ENOMEM;
        }
        if (fclose(f) != 0)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
