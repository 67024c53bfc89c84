/* Reading backups back, for restore: which file is the newest of a connector, and what it holds.
 * The format is in connector-reconciler(8), BACKUPS. */

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "cjson-util.h"
#include "util.h"

static bool all_digits(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return n > 0;
}

bool backup_name_parse(const char *name, const char *escaped, char ret_stamp[static 17], unsigned *ret_n) {
        size_t e = strlen(escaped);
        const char *p, *end;
        unsigned long n = 1;

        if (strncmp(name, escaped, e) != 0 || name[e] != '.')
                return false;
        p = name + e + 1;
        /* YYYYMMDDTHHMMSSZ */
        if (strlen(p) < 16 || !all_digits(p, 8) || p[8] != 'T' || !all_digits(p + 9, 6) || p[15] != 'Z')
                return false;
        memcpy(ret_stamp, p, 16);
        ret_stamp[16] = '\0';
        p += 16;
        end = strrchr(p, '.');
        if (!end || !streq(end, ".json"))
                return false;
        if (p != end) {
                /* ".N" with N from 2, no leading zero */
                char *q;

                if (p[0] != '.' || !all_digits(p + 1, (size_t) (end - p - 1)) || p[1] == '0')
                        return false;
                errno = 0;
                n = strtoul(p + 1, &q, 10);
                if (errno != 0 || q != end || n < 2 || n > UINT_MAX)
                        return false;
        }
        *ret_n = (unsigned) n;
        return true;
}

/* The next entry of 'd' in *ret: 1, 0 at the end, or the negative errno of readdir(). */
static int next_entry(DIR *d, struct dirent **ret) {
        errno = 0;
        *ret = readdir(d);
        if (*ret)
                return 1;
        return errno > 0 ? -errno : 0;
}

int backup_find_newest(const char *dir, const char *id, char **ret_path) {
        _cleanup_free_ char *escaped = NULL, *best = NULL;
        char best_stamp[17] = "";
        unsigned best_n = 0;
        DIR *d;
        struct dirent *de;
        int r = 0;

        assert(dir);
        assert(id);
        assert(ret_path);

        escaped = backup_escape_id(id);
        if (!escaped)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return negative_errno();
        for (;;) {
                char stamp[17];
                unsigned n;
                int c;

                r = next_entry(d, &de);
                if (r <= 0)
                        break;
                assert(de);
                if (!backup_name_parse(de->d_name, escaped, stamp, &n))
                        continue;
                c = strcmp(stamp, best_stamp);
                if (best && (c < 0 || (c == 0 && n <= best_n)))
                        continue;
                free(best);
                best = strdup(de->d_name);
                if (!best) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(best_stamp, stamp, sizeof stamp);
                best_n = n;
        }
        (void) closedir(d);
        if (r < 0)
                return r;
        if (!best)
                return -ENOENT;
        *ret_path = strdup_printf("%s/%s", dir, best);
        return *ret_path ? 0 : -ENOMEM;
}

void backup_contents_done(struct backup_contents *c) {
        if (!c)
                return;
        free(c->connector_id);
        if (c->document) {
                explicit_bzero(c->document, c->document_size); /* it may hold secrets */
                free(c->document);
        }
        free(c->read_at);
        free(c->es_version);
        free(c->cluster_uuid);
        *c = (struct backup_contents){};
}

static int dup_string_or_null(const cJSON *v, char **ret) {
        if (!cJSON_IsString(v))
                return 0;
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

int backup_parse(const char *buf, size_t size, struct backup_contents *ret, char **reterr_message) {
        _cleanup_cjson_ cJSON *j = NULL;
        _cleanup_(backup_contents_done) struct backup_contents c = {};
        const cJSON *format, *doc, *id;
        int r;

        assert(buf);
        assert(ret);

        j = cJSON_ParseWithLength(buf, size);
        if (!j)
                return reterr_printf(reterr_message, -EBADMSG, "not JSON (a file cut short?)");
        if (!cJSON_IsObject(j))
                return reterr_printf(reterr_message, -EBADMSG, "not a JSON object");

        format = cJSON_GetObjectItemCaseSensitive(j, "format");
        if (format) {
                const cJSON *version = cJSON_GetObjectItemCaseSensitive(j, "format_version");
                const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(j, "cluster");

                if (!cJSON_IsString(format) || !streq(format->valuestring, "connector-reconciler-backup"))
                        return reterr_printf(reterr_message, -EBADMSG, "its 'format' is not a backup's");
                if (!cJSON_IsNumber(version) || version->valuedouble != BACKUP_FORMAT_VERSION) {
                        if (cJSON_IsNumber(version) && version->valuedouble > BACKUP_FORMAT_VERSION)
                                return reterr_printf(
                                        reterr_message, -EBADMSG,
                                        "format_version %g is newer than this program reads (%d)",
                                        version->valuedouble, BACKUP_FORMAT_VERSION);
                        return reterr_printf(reterr_message, -EBADMSG, "its 'format_version' is not %d",
                                             BACKUP_FORMAT_VERSION);
                }
                c.format_version = BACKUP_FORMAT_VERSION;
                doc = cJSON_GetObjectItemCaseSensitive(j, "document");
                if (!cJSON_IsObject(doc))
                        return reterr_printf(reterr_message, -EBADMSG, "it has no 'document' object");
                id = cJSON_GetObjectItemCaseSensitive(j, "connector_id");
                if (!cJSON_IsString(id))
                        return reterr_printf(reterr_message, -EBADMSG, "it has no 'connector_id' string");
                r = dup_string_or_null(cJSON_GetObjectItemCaseSensitive(j, "read_at"), &c.read_at);
                if (r >= 0 && cJSON_IsObject(cluster))
                        r = dup_string_or_null(cJSON_GetObjectItemCaseSensitive(cluster, "version"),
                                               &c.es_version);
                if (r >= 0 && cJSON_IsObject(cluster))
                        r = dup_string_or_null(cJSON_GetObjectItemCaseSensitive(cluster, "uuid"),
                                               &c.cluster_uuid);
                if (r < 0)
                        return r;
        } else {
                /* Written before format 2: the document alone. */
                c.format_version = 1;
                doc = j;
                id = cJSON_GetObjectItemCaseSensitive(doc, "id");
                if (!cJSON_IsString(id))
                        return reterr_printf(
                                reterr_message, -EBADMSG,
                                "neither a backup envelope nor a connector document with an 'id'");
        }

        c.connector_id = strdup(id->valuestring);
        c.document = cJSON_PrintUnformatted(doc);
        if (!c.connector_id || !c.document)
                return -ENOMEM;
        c.document_size = strlen(c.document);

        *ret = c;
        c = (struct backup_contents){};
        return 0;
}

int backup_name_split(const char *name, char **ret_escaped, char ret_stamp[static 17], unsigned *ret_n) {
        _cleanup_free_ char *escaped = NULL;
        size_t len = strlen(name), base;
        const char *dot;

        /* From the end: ".json", then ".N" or not, then ".STAMP"; the rest is the escaped id, which
         * may hold dots and digits itself. backup_name_parse() has the last word. */
        /* An escaped id never starts with '.' (backup_escape_id()): such a name is not ours. */
        if (name[0] == '.' || len < 5 || !streq(name + len - 5, ".json"))
                return 0;
        base = len - 5;
        dot = memrchr(name, '.', base);
        if (dot && (size_t) (name + base - dot - 1) > 0 &&
            strspn(dot + 1, "0123456789") == (size_t) (name + base - dot - 1))
                base = (size_t) (dot - name);
        if (base < 1 + 1 + 16 || name[base - 17] != '.')
                return 0;
        escaped = strndup(name, base - 17);
        if (!escaped)
                return -ENOMEM;
        if (!backup_name_parse(name, escaped, ret_stamp, ret_n))
                return 0;
        *ret_escaped = TAKE_PTR(escaped);
        return 1;
}

struct found {
        char *name;
        char *escaped;
        char stamp[17];
        unsigned n;
};

static int found_cmp(const void *a, const void *b) {
        const struct found *x = a, *y = b;
        int c = strcmp(x->escaped, y->escaped);

        if (c == 0)
                c = strcmp(x->stamp, y->stamp);
        if (c == 0)
                c = (x->n > y->n) - (x->n < y->n);
        return c;
}

static int digits(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

/* A stamp "YYYYMMDDTHHMMSSZ" (backup_name_parse() checked its digits) as microseconds since the
 * epoch. */
static uint64_t stamp_usec(const char *stamp) {
        struct tm tm = {
                .tm_year = digits(stamp, 4) - 1900,
                .tm_mon = digits(stamp + 4, 2) - 1,
                .tm_mday = digits(stamp + 6, 2),
                .tm_hour = digits(stamp + 9, 2),
                .tm_min = digits(stamp + 11, 2),
                .tm_sec = digits(stamp + 13, 2),
        };
        time_t t = timegm(&tm);

        return t < 0 ? 0 : (uint64_t) t * USEC_PER_SEC;
}

int backup_prune(const char *dir, uint64_t cutoff_realtime_usec,
                 bool (*is_live)(const char *escaped, void *userdata), void *userdata, size_t *ret_removed) {
        struct found *f = NULL;
        size_t n = 0, allocated = 0, removed = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        assert(dir);
        assert(is_live);

        d = opendir(dir);
        if (!d)
                return negative_errno();
        for (;;) {
                struct found e = {};
                int k;

                r = next_entry(d, &de);
                if (r <= 0)
                        break;
                assert(de);
                k = backup_name_split(de->d_name, &e.escaped, e.stamp, &e.n);
                if (k == 0)
                        continue;
                e.name = k > 0 ? strdup(de->d_name) : NULL;
                if (k > 0 && n == allocated) {
                        size_t a = MAX(allocated * 2, (size_t) 64);
                        struct found *g = reallocarray(f, a, sizeof(*f));

                        if (g) {
                                f = g;
                                allocated = a;
                        }
                }
                if (k < 0 || !e.name || n == allocated) {
                        free(e.name);
                        free(e.escaped);
                        r = -ENOMEM;
                        break;
                }
                f[n++] = e;
        }
        (void) closedir(d);

        if (r >= 0) {
                if (n > 0)
                        qsort(f, n, sizeof(*f), found_cmp);
                for (size_t i = 0; i < n; i++) {
                        bool newest = i + 1 == n || !streq(f[i].escaped, f[i + 1].escaped);
                        _cleanup_free_ char *path = NULL;

                        if (stamp_usec(f[i].stamp) >= cutoff_realtime_usec)
                                continue;
                        if (newest && !is_live(f[i].escaped, userdata))
                                continue;
                        path = strdup_printf("%s/%s", dir, f[i].name);
                        if (!path) {
                                r = -ENOMEM;
                                break;
                        }
                        if (unlink(path) < 0) {
                                if (errno != ENOENT && r >= 0)
                                        r = negative_errno();
                                continue;
                        }
                        removed++;
                }
        }
        for (size_t i = 0; i < n; i++) {
                free(f[i].name);
                free(f[i].escaped);
        }
        free(f);
        if (ret_removed)
                *ret_removed = removed;
        return r;
}
