#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-request.h"
#include "util.h"

/* ---- Requests: ids, versions, statuses ---- */

char *cluster_escape_segment(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        bool dots_only = s[0] != '\0';
        size_t n = 0;
        char *out, *p;

        assert(s);

        for (const char *i = s; *i; i++)
                if (*i != '.')
                        dots_only = false;

        for (const char *i = s; *i; i++) {
                unsigned char ch = (unsigned char) *i;
                bool keep = !dots_only &&
                            ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                             (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~');
                n += keep ? 1 : 3;
        }

        out = malloc(n + 1);
        if (!out)
                return NULL;

        p = out;
        for (const char *i = s; *i; i++) {
                unsigned char ch = (unsigned char) *i;
                bool keep = !dots_only &&
                            ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                             (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~');

                if (keep)
                        *p++ = (char) ch;
                else {
                        *p++ = '%';
                        *p++ = hex[ch >> 4];
                        *p++ = hex[ch & 15];
                }
        }
        *p = '\0';
        return out;
}

static bool is_serverless(const struct cluster_info *info) {
        return info->build_flavor && streq(info->build_flavor, "serverless");
}

bool cluster_version_at_least(const struct cluster_info *info, unsigned major, unsigned minor) {
        if (is_serverless(info))
                return true;
        return info->major > major || (info->major == major && info->minor >= minor);
}

int cluster_check_version(const struct cluster_info *info, char **reterr_message) {
        _cleanup_free_ char *v = NULL;

        assert(info);

        if (cluster_version_at_least(info, 8, 12))
                return 0;

        v = cluster_escape_str(strempty(info->version));
        if (!v)
                return -ENOMEM;
        return reterr_printf(reterr_message, -EOPNOTSUPP,
                             "Elasticsearch %s is too old: the connector API needs 8.12 or later", v);
}

int cluster_delete_path(const struct cluster_info *info, const char *id, bool delete_sync_jobs, bool hard,
                        char **ret_path, bool *ret_sync_jobs_by_client) {
        _cleanup_free_ char *e = NULL;
        bool params_dsj, params_hard;
        char *path;

        assert(info);
        assert(id);
        assert(ret_path);
        assert(ret_sync_jobs_by_client);

        e = cluster_escape_segment(id);
        if (!e)
                return -ENOMEM;

        /* 8.14 added delete_sync_jobs, 9.0 added hard (before 9.0 every delete is for good);
         * sending either to a version that does not know it is a 400. */
        params_dsj = delete_sync_jobs && cluster_version_at_least(info, 8, 14);
        params_hard = hard && cluster_version_at_least(info, 9, 0);

        path = strdup_printf("/_connector/%s%s%s%s", e, params_dsj || params_hard ? "?" : "",
                             params_dsj ? "delete_sync_jobs=true" : "",
                             params_hard ? (params_dsj ? "&hard=true" : "hard=true") : "");
        if (!path)
                return -ENOMEM;

        *ret_path = path;
        *ret_sync_jobs_by_client = delete_sync_jobs && !params_dsj;
        return 0;
}

int cluster_status_to_errno(int status) {
        if (status >= 200 && status <= 299)
                return 0;

        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
                return -EACCES;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 405:
                return -EOPNOTSUPP;
        case 408:
                return -ETIMEDOUT;
        case 409:
                return -EBUSY;
        case 413:
                return -E2BIG;
        case 429:
                return -EBUSY;
        case 503:
                return -EAGAIN;
        case 504:
                return -ETIMEDOUT;
        }

        if (status >= 300 && status <= 399)
                return -EREMCHG;
        if (status >= 400 && status <= 499)
                return -EPROTO;
        return -EREMOTEIO;
}
