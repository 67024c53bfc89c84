#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-event.h>

#include "cluster.h"
#include "backoff.h"
#include "http.h"
#include "json-scan.h"
#include "plan.h"
#include "util.h"

/* How much of a server's text we quote in a message. */
#define ERROR_TEXT_MAX 1024
#define ERROR_LINE_MAX 200
/* Integers a JSON number (a double) holds exactly are below 2^53. */
#define JSON_INT_MAX 9007199254740992.0
/* Retry timers may fire this much late, to coalesce wake-ups. */
#define RETRY_TIMER_ACCURACY_USEC USEC_PER_MSEC

static inline void cJSON_Deletep(cJSON **p) {
        if (*p)
                cJSON_Delete(*p);
}

/* ---- Small helpers ---- */

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
static char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

/* Sets *reterr (when not NULL) to a formatted message and returns 'error'; -ENOMEM when even the
 * message cannot be allocated. */
static int fail(char **reterr, int error, const char *fmt, ...) _printf_(3, 4);
static int fail(char **reterr, int error, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        if (!reterr)
                return error;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        free(*reterr);
        *reterr = s;
        return error;
}

/* Copies at most 'max' bytes of s[0..n) for a message: control characters (and DEL) become \xNN,
 * a cut never splits a UTF-8 sequence, and a cut text ends in "...". Stops at a newline when
 * 'first_line' is set. */
static char *escape_text(const char *s, size_t n, size_t max, bool first_line) {
        size_t l = 0;
        char *out, *p;
        bool cut = false;

        for (size_t i = 0; i < n; i++) {
                if (first_line && (s[i] == '\n' || s[i] == '\r')) {
                        n = i;
                        break;
                }
        }
        if (n > max) {
                n = max;
                while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                        n--;
                cut = true;
        }

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                l += ch < 0x20 || ch == 0x7f ? 4 : 1;
        }

        out = malloc(l + (cut ? 3 : 0) + 1);
        if (!out)
                return NULL;

        p = out;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];

                if (ch < 0x20 || ch == 0x7f)
                        p += sprintf(p, "\\x%02x", ch);
                else
                        *p++ = (char) ch;
        }
        if (cut)
                p = stpcpy(p, "...");
        *p = '\0';
        return out;
}

static char *escape_str(const char *s) {
        return escape_text(s, strlen(s), ERROR_TEXT_MAX, false);
}

/* JSON cannot carry a NUL byte, and cJSON would cut a string holding "\u0000" short, silently
 * turning id "a\u0000b" into "a": refuse both. Backslashes only occur as escapes inside strings in
 * valid JSON, so a flat scan is exact. memchr() finds the NULs and then each backslash, so the
 * bytes in between cost nothing per byte here. */
static bool json_has_nul(const char *s, size_t n) {
        const char *end = s + n;

        if (memchr(s, '\0', n))
                return true;
        /* Each step skips the escaped character too, so that "\\u0000" is no NUL. */
        for (const char *p = s; (p = memchr(p, '\\', (size_t) (end - p))); p += 2) {
                if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
                        return true;
                if (end - p < 2)
                        break;
        }
        return false;
}

static int json_parse(const char *body, size_t size, cJSON **ret, char **reterr) {
        const char *end = NULL;
        cJSON *j;

        if (!body || size == 0)
                return fail(reterr, -EBADMSG, "The response body is empty");
        if (json_has_nul(body, size))
                return fail(reterr, -EBADMSG, "The response holds a NUL character");

        j = cJSON_ParseWithLengthOpts(body, size, &end, false);
        if (!j)
                return fail(reterr, -EBADMSG, "The response is not valid JSON (at byte %zu)",
                            (size_t) ((cJSON_GetErrorPtr() ?: body) - body));

        for (; end && end < body + size; end++)
                if (!strchr(" \t\r\n", *end)) {
                        cJSON_Delete(j);
                        return fail(reterr, -EBADMSG, "The response has data after its JSON value");
                }

        *ret = j;
        return 0;
}

/* A non-negative integer that a double holds exactly. */
static bool json_get_uint(const cJSON *j, uint64_t *ret) {
        double d;

        if (!cJSON_IsNumber(j))
                return false;
        d = j->valuedouble;
        if (!(d >= 0 && d < JSON_INT_MAX) || (double) (uint64_t) d != d)
                return false;
        *ret = (uint64_t) d;
        return true;
}

/* An optional string field: a string, or null/missing (NULL). Other types are an error. */
static int json_get_optional_string(const cJSON *obj, const char *key, const char *where, char **ret,
                                    char **reterr) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        if (!v || cJSON_IsNull(v)) {
                *ret = NULL;
                return 0;
        }
        if (!cJSON_IsString(v))
                return fail(reterr, -EBADMSG, "%s'%s' is not a string", where, key);
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

/* ---- Base64 (Cloud id, Basic auth) ---- */

static const char base64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

/* Decodes standard or URL-safe base64, padding optional. Returns the NUL-terminated bytes. */
static int base64_decode(const char *s, char **ret, size_t *ret_size) {
        size_t n = strlen(s), pad = 0, o = 0;
        _cleanup_free_ char *out = NULL;
        uint32_t acc = 0;
        unsigned bits = 0;

        while (n > 0 && s[n - 1] == '=' && pad < 2) {
                n--;
                pad++;
        }
        if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
                return -EINVAL;

        out = malloc(n / 4 * 3 + 3 + 1);
        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                int v = base64_value(s[i]);

                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char) ((acc >> bits) & 0xFF);
                }
        }
        /* Leftover bits must be zero padding of the last character. */
        if ((acc & ((1u << bits) - 1)) != 0)
                return -EINVAL;

        out[o] = '\0';
        *ret = TAKE_PTR(out);
        *ret_size = o;
        return 0;
}

static char *base64_encode(const char *s, size_t n) {
        char *out = malloc((n + 2) / 3 * 4 + 1), *p;

        if (!out)
                return NULL;

        p = out;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) (unsigned char) s[i] << 16;

                if (i + 1 < n)
                        v |= (uint32_t) (unsigned char) s[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char) s[i + 2];
                *p++ = base64_chars[(v >> 18) & 63];
                *p++ = base64_chars[(v >> 12) & 63];
                *p++ = i + 1 < n ? base64_chars[(v >> 6) & 63] : '=';
                *p++ = i + 2 < n ? base64_chars[v & 63] : '=';
        }
        *p = '\0';
        return out;
}

/* ---- Requests: URLs, ids, versions ---- */

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

int cluster_url_normalize(const char *url, char **ret, char **reterr_message) {
        const char *authority, *slash;
        size_t n;
        char *s;

        assert(ret);

        if (!url || url[0] == '\0')
                return fail(reterr_message, -EINVAL, "No cluster URL given");

        if (strncasecmp(url, "https://", 8) == 0)
                authority = url + 8;
        else if (strncasecmp(url, "http://", 7) == 0)
                authority = url + 7;
        else
                return fail(reterr_message, -EINVAL, "The cluster URL must start with http:// or https://");

        slash = strchr(authority, '/');
        n = slash ? (size_t) (slash - authority) : strlen(authority);
        /* Checked first, so that no message below can quote a password. */
        if (memchr(authority, '@', n))
                return fail(reterr_message, -EINVAL,
                            "The cluster URL must not hold credentials: use an API key, password or "
                            "bearer token file");
        for (const char *p = url; *p; p++)
                if ((unsigned char) *p <= 0x20 || *p == 0x7f)
                        return fail(reterr_message, -EINVAL,
                                    "The cluster URL holds a space or control character");
        if (n == 0)
                return fail(reterr_message, -EINVAL, "The cluster URL '%s' names no host", url);
        if (strpbrk(url, "?#"))
                return fail(reterr_message, -EINVAL,
                            "The cluster URL '%s' must not hold a query or fragment", url);

        s = strdup(url);
        if (!s)
                return -ENOMEM;
        for (n = strlen(s); n > 0 && s[n - 1] == '/'; n--)
                s[n - 1] = '\0';

        *ret = s;
        return 0;
}

static bool valid_chars(const char *s, size_t n, const char *extra) {
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      strchr(extra, c)) ||
                    c == '\0')
                        return false;
        }
        return true;
}

/* Splits "name[:port]" at its last colon. Returns the port (0 when none), or -EINVAL. */
static int split_port(char *s, unsigned *ret_port) {
        char *colon = strrchr(s, ':');
        unsigned port = 0;

        if (!colon) {
                *ret_port = 0;
                return 0;
        }
        if (colon[1] == '\0' || strlen(colon + 1) > 5)
                return -EINVAL;
        for (const char *p = colon + 1; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                port = port * 10 + (unsigned) (*p - '0');
        }
        if (port == 0 || port > 65535)
                return -EINVAL;

        *colon = '\0';
        *ret_port = port;
        return 0;
}

int cluster_cloud_id_to_url(const char *cloud_id, char **ret_url, char **reterr_message) {
        _cleanup_free_ char *decoded = NULL;
        char *host, *es, *kibana, *extra;
        unsigned host_port, es_port;
        const char *colon;
        size_t size;
        int r;

        assert(cloud_id);
        assert(ret_url);

        colon = strrchr(cloud_id, ':');
        if (!colon)
                return fail(reterr_message, -EINVAL,
                            "The cloud id has no ':' between its name and its encoded part");
        if (colon[1] == '\0')
                return fail(reterr_message, -EINVAL, "The cloud id has nothing after its ':'");

        r = base64_decode(colon + 1, &decoded, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(reterr_message, -EINVAL, "The cloud id's part after ':' is not valid base64");
        if (strlen(decoded) != size)
                return fail(reterr_message, -EINVAL, "The cloud id decodes to a NUL byte");

        host = decoded;
        es = strchr(host, '$');
        if (!es)
                return fail(
                        reterr_message, -EINVAL,
                        "The cloud id names no Elasticsearch cluster (expected host$es_uuid$kibana_uuid)");
        *es++ = '\0';
        kibana = strchr(es, '$');
        if (kibana) {
                *kibana++ = '\0';
                extra = strchr(kibana, '$');
                if (extra)
                        return fail(reterr_message, -EINVAL,
                                    "The cloud id has more parts than host$es_uuid$kibana_uuid");
        }

        if (split_port(host, &host_port) < 0 || split_port(es, &es_port) < 0)
                return fail(reterr_message, -EINVAL, "The cloud id holds an invalid port");
        if (host[0] == '\0')
                return fail(reterr_message, -EINVAL, "The cloud id names no host");
        if (es[0] == '\0')
                return fail(reterr_message, -EINVAL, "The cloud id names no Elasticsearch cluster uuid");
        if (!valid_chars(host, strlen(host), "-.") || !valid_chars(es, strlen(es), "-"))
                return fail(reterr_message, -EINVAL, "The cloud id holds characters a host name cannot");

        /* A port on the uuid is the newer form and wins; 443 is the default. */
        *ret_url = strdup_printf("https://%s.%s:%u", es, host, es_port ?: host_port ?: 443);
        return *ret_url ? 0 : -ENOMEM;
}

int cluster_parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor, unsigned *ret_patch) {
        unsigned v[3] = {};
        const char *p = s;
        int parts = 0;

        assert(s);

        for (parts = 0; parts < 3; parts++) {
                unsigned x = 0;
                const char *start = p;

                while (*p >= '0' && *p <= '9') {
                        if (p - start >= 6)
                                return -EINVAL;
                        x = x * 10 + (unsigned) (*p - '0');
                        p++;
                }
                if (p == start)
                        return -EINVAL;
                v[parts] = x;
                if (*p != '.')
                        break;
                p++;
        }
        if (parts < 1 || (*p != '\0' && *p != '-'))
                return -EINVAL;

        *ret_major = v[0];
        *ret_minor = v[1];
        *ret_patch = v[2];
        return 0;
}

static bool is_serverless(const struct cluster_info *info) {
        return info->build_flavor && streq(info->build_flavor, "serverless");
}

static bool version_at_least(const struct cluster_info *info, unsigned major, unsigned minor) {
        if (is_serverless(info))
                return true;
        return info->major > major || (info->major == major && info->minor >= minor);
}

int cluster_check_version(const struct cluster_info *info, char **reterr_message) {
        _cleanup_free_ char *v = NULL;

        assert(info);

        if (version_at_least(info, 8, 12))
                return 0;

        v = escape_str(strempty(info->version));
        if (!v)
                return -ENOMEM;
        return fail(reterr_message, -EOPNOTSUPP,
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
        params_dsj = delete_sync_jobs && version_at_least(info, 8, 14);
        params_hard = hard && version_at_least(info, 9, 0);

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

/* ---- Decoding ---- */

void cluster_error_done(struct cluster_error *e) {
        if (!e)
                return;
        free(e->type);
        free(e->message);
        free(e->request);
        *e = (struct cluster_error){};
}

void cluster_info_done(struct cluster_info *i) {
        if (!i)
                return;
        free(i->version);
        free(i->build_flavor);
        free(i->name);
        free(i->cluster_name);
        free(i->cluster_uuid);
        *i = (struct cluster_info){};
}

static const char *status_phrase(int status) {
        switch (status) {
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 409:
                return "Conflict";
        case 413:
                return "Content Too Large";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                return "HTTP error";
        }
}

/* "type: reason" of an error object, either part may be missing. */
static int describe_error_object(const cJSON *e, char **ret_type, char **ret_text) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(e, "reason");
        _cleanup_free_ char *t = NULL, *r = NULL;

        if (cJSON_IsString(type)) {
                t = escape_str(type->valuestring);
                if (!t)
                        return -ENOMEM;
        }
        if (cJSON_IsString(reason)) {
                r = escape_str(reason->valuestring);
                if (!r)
                        return -ENOMEM;
        }
        if (!t && !r) {
                *ret_type = *ret_text = NULL;
                return 0;
        }

        *ret_text = strdup_printf("%s%s%s", strempty(t), t && r ? ": " : "", strempty(r));
        if (!*ret_text)
                return -ENOMEM;
        *ret_type = TAKE_PTR(t);
        return 0;
}

int cluster_decode_error(int status, const char *body, size_t size, char **ret_type, char **ret_message) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_free_ char *type = NULL, *text = NULL, *root_type = NULL, *root_text = NULL;
        const cJSON *e;
        char *m;

        assert(ret_type);
        assert(ret_message);

        if (body && size > 0 && json_parse(body, size, &j, NULL) >= 0 && cJSON_IsObject(j) &&
            (e = cJSON_GetObjectItemCaseSensitive(j, "error"))) {
                if (cJSON_IsString(e)) {
                        /* The short form, e.g. 405: {"error": "Incorrect HTTP method ...", "status": 405} */
                        text = escape_str(e->valuestring);
                        if (!text)
                                return -ENOMEM;
                } else if (cJSON_IsObject(e)) {
                        const cJSON *root =
                                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "root_cause"), 0);

                        if (describe_error_object(e, &type, &text) < 0)
                                return -ENOMEM;
                        /* The root cause often says more ("all shards failed" hides "Result window
                         * is too large"); fall back to caused_by. */
                        if (!cJSON_IsObject(root))
                                root = cJSON_GetObjectItemCaseSensitive(e, "caused_by");
                        if (cJSON_IsObject(root) && describe_error_object(root, &root_type, &root_text) < 0)
                                return -ENOMEM;
                        if (!text) {
                                text = TAKE_PTR(root_text);
                                type = TAKE_PTR(root_type);
                        }
                }
        }

        if (text && root_text && !streq(text, root_text))
                m = strdup_printf("%d %s (root cause: %s)", status, text, root_text);
        else if (text)
                m = strdup_printf("%d %s", status, text);
        else if (body && size > 0) {
                _cleanup_free_ char *line = escape_text(body, size, ERROR_LINE_MAX, true);

                if (!line)
                        return -ENOMEM;
                m = line[0] ? strdup_printf("%d %s", status, line)
                            : strdup_printf("%d %s", status, status_phrase(status));
        } else
                m = strdup_printf("%d %s", status, status_phrase(status));
        if (!m)
                return -ENOMEM;

        *ret_type = TAKE_PTR(type);
        *ret_message = m;
        return 0;
}

int cluster_decode_info(const char *body, size_t size, struct cluster_info *ret, char **reterr_message) {
        _cleanup_(cluster_info_done) struct cluster_info info = {};
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *version;
        int r;

        assert(ret);

        r = json_parse(body, size, &j, reterr_message);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return fail(reterr_message, -EBADMSG, "The response is not a JSON object");

        version = cJSON_GetObjectItemCaseSensitive(j, "version");
        if (!cJSON_IsObject(version))
                return fail(reterr_message, -EBADMSG, "The response has no 'version' object");

        r = json_get_optional_string(version, "number", "version.", &info.version, reterr_message);
        if (r < 0)
                return r;
        if (!info.version)
                return fail(reterr_message, -EBADMSG, "The response has no 'version.number'");
        if (cluster_parse_version(info.version, &info.major, &info.minor, &info.patch) < 0) {
                _cleanup_free_ char *v = escape_str(info.version);
                return v ? fail(reterr_message, -EBADMSG, "The version number '%s' is not X.Y.Z", v)
                         : -ENOMEM;
        }

        r = json_get_optional_string(version, "build_flavor", "version.", &info.build_flavor,
                                     reterr_message);
        if (r < 0)
                return r;
        r = json_get_optional_string(j, "name", "", &info.name, reterr_message);
        if (r < 0)
                return r;
        r = json_get_optional_string(j, "cluster_name", "", &info.cluster_name, reterr_message);
        if (r < 0)
                return r;
        r = json_get_optional_string(j, "cluster_uuid", "", &info.cluster_uuid, reterr_message);
        if (r < 0)
                return r;

        *ret = info;
        info = (struct cluster_info){};
        return 0;
}

static void connector_done(struct plan_connector *c) {
        free(c->id);
        free(c->name);
        free(c->service_type);
        free(c->index_name);
        *c = (struct plan_connector){};
}

static void connectors_free(struct plan_connector *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                connector_done(&a[i]);
        free(a);
}

/* ---- List pages and connector documents: read with json-scan.c, which checks the whole body
 * and allocates nothing but the strings we keep. ---- */

/* Where a connector is, for messages: "results[3]: " in a list page, "The document's " for one
 * document (index < 0). Only formatted when a message needs it. */
static const char *connector_where(char buf[static 64], ssize_t index) {
        if (index < 0)
                return "The document's ";
        (void) snprintf(buf, 64, "results[%zd]: ", index);
        return buf;
}

enum connector_field {
        FIELD_ID,
        FIELD_NAME,
        FIELD_SERVICE_TYPE,
        FIELD_INDEX_NAME,
        FIELD_DELETED,
        _FIELD_MAX,
        _FIELD_OTHER = -1,
};

static const char *const connector_field_names[_FIELD_MAX] = {
        [FIELD_ID] = "id",
        [FIELD_NAME] = "name",
        [FIELD_SERVICE_TYPE] = "service_type",
        [FIELD_INDEX_NAME] = "index_name",
        [FIELD_DELETED] = "deleted",
};

static enum connector_field connector_field_from_key(const struct json_scan_token *key) {
        /* Most members are none of ours: their length alone says so, without a comparison. */
        if (!key->escaped) {
                switch (key->size) {
                case 2:
                case 4:
                case 7:
                case 10:
                case 12:
                        break;
                default:
                        return _FIELD_OTHER;
                }
        }
        for (enum connector_field f = 0; f < _FIELD_MAX; f++)
                if (json_scan_string_equal(key, connector_field_names[f]))
                        return f;
        return _FIELD_OTHER;
}

/* Reads the members of a connector object whose '{' was the last token read, up to its '}'.
 * Returns 0, -ENOMEM, or -EBADMSG: with *reterr set when the JSON is valid so far but not a
 * connector, with s->error set when it is not JSON. */
static int scan_connector_object(struct json_scan *s, ssize_t index, struct plan_connector *ret,
                                 char **reterr) {
        _cleanup_(connector_done) struct plan_connector c = {};
        char where[64];
        unsigned seen = 0;
        int r;

        for (;;) {
                struct json_scan_token key, v;
                enum connector_field f;
                char **slot;

                r = json_scan_next(s, &key);
                if (r < 0)
                        return r;
                if (key.type == JSON_SCAN_OBJECT_END)
                        break;
                assert(key.type == JSON_SCAN_KEY);

                r = json_scan_next(s, &v);
                if (r < 0)
                        return r;

                f = connector_field_from_key(&key);
                if (f == _FIELD_OTHER) {
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* cJSON took the first of two; which one Elasticsearch meant is anyone's guess. */
                if (seen & (1u << f))
                        return fail(reterr, -EBADMSG, "%s'%s' is given twice", connector_where(where, index),
                                    connector_field_names[f]);
                seen |= 1u << f;

                if (f == FIELD_DELETED) {
                        if (v.type == JSON_SCAN_TRUE || v.type == JSON_SCAN_FALSE)
                                c.deleted = v.type == JSON_SCAN_TRUE;
                        else if (v.type != JSON_SCAN_NULL)
                                return fail(reterr, -EBADMSG, "%s'deleted' is not a boolean",
                                            connector_where(where, index));
                        continue;
                }

                slot = f == FIELD_ID             ? &c.id
                       : f == FIELD_NAME         ? &c.name
                       : f == FIELD_SERVICE_TYPE ? &c.service_type
                                                 : &c.index_name;
                if (v.type == JSON_SCAN_STRING) {
                        r = json_scan_string_dup(&v, slot);
                        if (r < 0)
                                return r;
                } else if (v.type != JSON_SCAN_NULL)
                        return fail(reterr, -EBADMSG, "%s'%s' is not a string",
                                    connector_where(where, index), connector_field_names[f]);
        }

        *ret = c;
        c = (struct plan_connector){};
        return 0;
}

/* Turns a failed scan into the message: what the JSON itself is wrong with. */
static int scan_error(const struct json_scan *s, char **reterr) {
        switch (s->error) {
        case JSON_SCAN_EMPTY:
                return fail(reterr, -EBADMSG, "The response body is empty");
        case JSON_SCAN_NUL:
                return fail(reterr, -EBADMSG, "The response holds a NUL character");
        case JSON_SCAN_TRAILING:
                return fail(reterr, -EBADMSG, "The response has data after its JSON value");
        case JSON_SCAN_TOO_DEEP:
                return fail(reterr, -EBADMSG,
                            "The response nests more than %u arrays and objects (at byte %zu)",
                            JSON_SCAN_DEPTH_MAX, s->error_offset);
        default:
                return fail(reterr, -EBADMSG, "The response is not valid JSON (at byte %zu: %s)",
                            s->error_offset, strna(json_scan_error_to_string(s->error)));
        }
}

/* The end of a decoder: -EBADMSG from a body that is valid JSON so far but not what we want
 * keeps its message only if the rest of the body is valid JSON too, as it did when cJSON read the
 * whole body first. */
static int scan_result(struct json_scan *s, int r, char **reterr) {
        if (r != -EBADMSG)
                return r;
        if (s->error == JSON_SCAN_OK && json_scan_finish(s) >= 0)
                return r;
        return scan_error(s, reterr);
}

void cluster_page_done(struct cluster_page *p) {
        if (!p)
                return;
        connectors_free(p->connectors, p->n_connectors);
        *p = (struct cluster_page){};
}

/* The envelope of a sync-job page: the object, its count and its results array. */
static int decode_page_envelope(const cJSON *j, uint64_t *ret_count, const cJSON **ret_results,
                                char **reterr) {
        const cJSON *count, *results;

        if (!cJSON_IsObject(j))
                return fail(reterr, -EBADMSG, "The response is not a JSON object");

        count = cJSON_GetObjectItemCaseSensitive(j, "count");
        if (!count)
                return fail(reterr, -EBADMSG, "The response has no 'count'");
        if (!json_get_uint(count, ret_count))
                return fail(reterr, -EBADMSG, "The response's 'count' is not a non-negative integer");

        results = cJSON_GetObjectItemCaseSensitive(j, "results");
        if (!results)
                return fail(reterr, -EBADMSG, "The response has no 'results'");
        if (!cJSON_IsArray(results))
                return fail(reterr, -EBADMSG, "The response's 'results' is not an array");

        *ret_results = results;
        return 0;
}

/* Reads the elements of 'results' (its '[' was the last token read) into the page. */
static int scan_results(struct json_scan *s, struct cluster_page *page, char **reterr) {
        size_t n_alloc = 0;
        int r;

        for (;;) {
                struct json_scan_token t;

                r = json_scan_next(s, &t);
                if (r < 0)
                        return r;
                if (t.type == JSON_SCAN_ARRAY_END)
                        return 0;
                if (t.type != JSON_SCAN_OBJECT_BEGIN)
                        return fail(reterr, -EBADMSG, "results[%zu]: is not an object", page->n_connectors);

                if (page->n_connectors >= n_alloc) {
                        size_t a = MAX(n_alloc * 2, (size_t) 16);
                        struct plan_connector *p = reallocarray(page->connectors, a, sizeof(*p));

                        if (!p)
                                return -ENOMEM;
                        page->connectors = p;
                        n_alloc = a;
                }
                r = scan_connector_object(s, (ssize_t) page->n_connectors,
                                          &page->connectors[page->n_connectors], reterr);
                if (r < 0)
                        return r;
                if (!page->connectors[page->n_connectors++].id)
                        return fail(reterr, -EBADMSG, "results[%zu]: has no 'id'", page->n_connectors - 1);
        }
}

/* Starts reading 'body', which must be one JSON object: 'what' names it in the message. */
static int scan_open_object(struct json_scan *s, const char *body, size_t size, const char *what,
                            char **reterr) {
        struct json_scan_token t;
        int r;

        r = json_scan_init(s, body, size);
        if (r < 0)
                return r;
        r = json_scan_next(s, &t);
        if (r < 0)
                return r;
        if (t.type != JSON_SCAN_OBJECT_BEGIN)
                return fail(reterr, -EBADMSG, "%s is not a JSON object", what);
        return 0;
}

static int scan_list_page(struct json_scan *s, const char *body, size_t size, struct cluster_page *page,
                          char **reterr) {
        bool have_count = false, have_results = false;
        int r;

        r = scan_open_object(s, body, size, "The response", reterr);
        if (r < 0)
                return r;

        for (;;) {
                struct json_scan_token key, v;

                r = json_scan_next(s, &key);
                if (r < 0)
                        return r;
                if (key.type == JSON_SCAN_OBJECT_END)
                        break;
                r = json_scan_next(s, &v);
                if (r < 0)
                        return r;

                if (json_scan_string_equal(&key, "count")) {
                        if (have_count)
                                return fail(reterr, -EBADMSG, "The response's 'count' is given twice");
                        have_count = true;
                        r = json_scan_get_uint(&v, &page->count);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return fail(reterr, -EBADMSG,
                                            "The response's 'count' is not a non-negative integer");
                } else if (json_scan_string_equal(&key, "results")) {
                        if (have_results)
                                return fail(reterr, -EBADMSG, "The response's 'results' is given twice");
                        have_results = true;
                        if (v.type != JSON_SCAN_ARRAY_BEGIN)
                                return fail(reterr, -EBADMSG, "The response's 'results' is not an array");
                        r = scan_results(s, page, reterr);
                        if (r < 0)
                                return r;
                } else {
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                }
        }

        r = json_scan_finish(s);
        if (r < 0)
                return r;
        if (!have_count)
                return fail(reterr, -EBADMSG, "The response has no 'count'");
        /* A missing 'results' is an empty page: response filtering (filter_path) leaves an empty
         * array out. The lister compares what arrived with 'count'. */
        if (!page->connectors) {
                page->connectors = calloc(1, sizeof(struct plan_connector));
                if (!page->connectors)
                        return -ENOMEM;
        }
        return 0;
}

int cluster_decode_list_page(const char *body, size_t size, struct cluster_page *ret,
                             char **reterr_message) {
        _cleanup_(cluster_page_done) struct cluster_page page = {};
        struct json_scan s;
        int r;

        assert(ret);

        r = scan_list_page(&s, body, size, &page, reterr_message);
        if (r < 0)
                return scan_result(&s, r, reterr_message);

        *ret = page;
        page = (struct cluster_page){};
        return 0;
}

static int scan_connector_document(struct json_scan *s, const char *body, size_t size,
                                   const char *expected_id, struct plan_connector *ret, char **reterr) {
        _cleanup_(connector_done) struct plan_connector c = {};
        int r;

        r = scan_open_object(s, body, size, "The document", reterr);
        if (r < 0)
                return r;
        r = scan_connector_object(s, -1, &c, reterr);
        if (r < 0)
                return r;
        r = json_scan_finish(s);
        if (r < 0)
                return r;

        if (!c.id) {
                c.id = strdup(expected_id);
                if (!c.id)
                        return -ENOMEM;
        } else if (!streq(c.id, expected_id)) {
                _cleanup_free_ char *got = escape_str(c.id);
                return got ? fail(reterr, -EBADMSG, "The document's id is '%s', not the one asked for", got)
                           : -ENOMEM;
        }

        *ret = c;
        c = (struct plan_connector){};
        return 0;
}

int cluster_decode_connector(const char *body, size_t size, const char *expected_id,
                             struct plan_connector *ret, char **reterr_message) {
        struct json_scan s;
        int r;

        assert(expected_id);
        assert(ret);

        r = scan_connector_document(&s, body, size, expected_id, ret, reterr_message);
        if (r < 0)
                return scan_result(&s, r, reterr_message);
        return 0;
}

int cluster_decode_sync_job_page(const char *body, size_t size, uint64_t *ret_count, char ***ret_ids,
                                 size_t *ret_n_ids, char **reterr_message) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        const cJSON *results, *item;
        uint64_t count = 0;
        size_t n = 0;
        int r;

        assert(ret_count);
        assert(ret_ids);
        assert(ret_n_ids);

        r = json_parse(body, size, &j, reterr_message);
        if (r < 0)
                return r;
        r = decode_page_envelope(j, &count, &results, reterr_message);
        if (r < 0)
                return r;

        ids = calloc((size_t) cJSON_GetArraySize(results) + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;

        cJSON_ArrayForEach(item, results) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");

                if (!cJSON_IsObject(item))
                        return fail(reterr_message, -EBADMSG, "results[%zu]: is not an object", n);
                if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
                        return fail(reterr_message, -EBADMSG, "results[%zu]: has no string 'id'", n);
                ids[n] = strdup(id->valuestring);
                if (!ids[n])
                        return -ENOMEM;
                n++;
        }

        *ret_count = count;
        *ret_ids = TAKE_PTR(ids);
        *ret_n_ids = n;
        return 0;
}

/* ---- The lister: paging and the consistency of the pages ---- */

struct lister_item {
        struct plan_connector connector;
        uint64_t seq; /* arrival order: the later copy of a duplicate wins */
};

struct cluster_lister {
        unsigned page_size;
        uint64_t window;

        bool asked, have_count, last_page_short;
        uint64_t count;
        uint64_t next_from;
        uint64_t asked_from;
        unsigned asked_size;

        struct lister_item *items;
        size_t n_items, n_alloc;
        uint64_t seq;

        char *reason;       /* the first thing that disagreed; NULL while nothing did */
        unsigned n_reasons; /* how many things disagreed: a long listing can shift on every page */
};

int cluster_lister_new(struct cluster_lister **ret, unsigned page_size, uint64_t max_result_window) {
        struct cluster_lister *l;

        assert(ret);

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->window = MAX(max_result_window, (uint64_t) 1);
        l->page_size = page_size == 0 ? CLUSTER_PAGE_SIZE_DEFAULT : MIN(page_size, CLUSTER_PAGE_SIZE_MAX);
        *ret = l;
        return 0;
}

struct cluster_lister *cluster_lister_free(struct cluster_lister *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_items; i++)
                connector_done(&l->items[i].connector);
        free(l->items);
        free(l->reason);
        free(l);
        return NULL;
}

static int lister_note(struct cluster_lister *l, const char *fmt, ...) _printf_(2, 3);
static int lister_note(struct cluster_lister *l, const char *fmt, ...) {
        va_list ap;
        int r;

        /* The first disagreement says what happened; the rest are only counted, so that the
         * message stays one line however many pages shifted. */
        if (l->n_reasons++ > 0)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&l->reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                l->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* A count at Elasticsearch's exact-count limit is only a lower bound. */
static bool lister_count_is_lower_bound(const struct cluster_lister *l) {
        return l->count >= CLUSTER_TOTAL_HITS_EXACT_MAX;
}

int cluster_lister_next(struct cluster_lister *l, uint64_t *ret_from, unsigned *ret_size,
                        char **reterr_message) {
        assert(l);
        assert(ret_from);
        assert(ret_size);

        if (!l->asked) {
                l->asked = true;
                l->asked_from = 0;
                l->asked_size = (unsigned) MIN((uint64_t) l->page_size, l->window);
                *ret_from = l->asked_from;
                *ret_size = l->asked_size;
                return 1;
        }

        assert(l->have_count); /* a page must be fed before asking for the next one */

        if (!lister_count_is_lower_bound(l)) {
                if (l->count > l->window)
                        return fail(reterr_message, -EOVERFLOW,
                                    "The cluster holds %" PRIu64
                                    " connectors; the list API shows at most %" PRIu64
                                    " (index.max_result_window), so the listing is incomplete",
                                    l->count, l->window);
                if (l->next_from >= l->count || l->next_from >= l->window)
                        return 0;
        } else {
                /* "At least count": when the window cannot go past it, we cannot see them all; when
                 * it can, page on until a short page says the end has come. */
                if (l->window <= l->count)
                        return fail(reterr_message, -EOVERFLOW,
                                    "The cluster holds at least %" PRIu64
                                    " connectors (Elasticsearch counts no "
                                    "further); the list API shows at most %" PRIu64
                                    " (index.max_result_window), so the listing is incomplete",
                                    l->count, l->window);
                if (l->last_page_short)
                        return 0;
                if (l->next_from >= l->window)
                        return fail(
                                reterr_message, -EOVERFLOW,
                                "The cluster holds more than %" PRIu64 " connectors; the list API shows at "
                                "most %" PRIu64 " (index.max_result_window), so the listing is incomplete",
                                l->window, l->window);
        }

        l->asked_from = l->next_from;
        l->asked_size = (unsigned) MIN((uint64_t) l->page_size, l->window - l->next_from);
        *ret_from = l->asked_from;
        *ret_size = l->asked_size;
        return 1;
}

int cluster_lister_add(struct cluster_lister *l, struct cluster_page *page) {
        uint64_t expected;

        assert(l);
        assert(page);
        assert(l->asked);

        if (l->have_count && page->count != l->count &&
            lister_note(l, "the connector count changed from %" PRIu64 " to %" PRIu64 " while listing",
                        l->count, page->count) < 0)
                return -ENOMEM;
        l->count = page->count;
        l->have_count = true;
        l->last_page_short = page->n_connectors < l->asked_size;

        expected =
                page->count > l->asked_from ? MIN((uint64_t) l->asked_size, page->count - l->asked_from) : 0;
        if (!lister_count_is_lower_bound(l) && page->n_connectors != expected &&
            lister_note(l,
                        "the page at from=%" PRIu64 " held %zu connectors where %" PRIu64 " were expected",
                        l->asked_from, page->n_connectors, expected) < 0)
                return -ENOMEM;

        if (page->n_connectors > l->n_alloc - l->n_items) {
                size_t a = MAX(l->n_alloc * 2, l->n_items + page->n_connectors);
                struct lister_item *items = reallocarray(l->items, a, sizeof(struct lister_item));

                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->n_alloc = a;
        }
        for (size_t i = 0; i < page->n_connectors; i++) {
                l->items[l->n_items++] = (struct lister_item){
                        .connector = page->connectors[i],
                        .seq = l->seq++,
                };
                page->connectors[i] = (struct plan_connector){};
        }
        cluster_page_done(page);

        l->next_from = l->asked_from + l->asked_size;
        return 0;
}

static int lister_item_compare(const void *a, const void *b) {
        const struct lister_item *x = a, *y = b;
        int r = strcmp(x->connector.id, y->connector.id);

        if (r != 0)
                return r;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int cluster_lister_finish(struct cluster_lister *l, struct cluster_listing **ret) {
        struct cluster_listing *listing;
        size_t n = 0;

        assert(l);
        assert(ret);

        listing = calloc(1, sizeof(*listing));
        if (!listing)
                return -ENOMEM;
        listing->connectors = calloc(MAX(l->n_items, (size_t) 1), sizeof(struct plan_connector));
        if (!listing->connectors) {
                free(listing);
                return -ENOMEM;
        }

        /* O(n log n) in connectors; n <= the result window. Of each id's copies (a listing
         * sorted by a non-unique index_name may show one twice as it shifts) the last one wins. */
        if (l->n_items > 0)
                qsort(l->items, l->n_items, sizeof(struct lister_item), lister_item_compare);
        for (size_t i = 0; i < l->n_items; i++) {
                if (i + 1 < l->n_items && streq(l->items[i].connector.id, l->items[i + 1].connector.id)) {
                        connector_done(&l->items[i].connector);
                        continue;
                }
                listing->connectors[n++] = l->items[i].connector;
                l->items[i].connector = (struct plan_connector){};
        }
        l->n_items = 0;
        listing->n_connectors = n;
        listing->count = l->count;

        /* With a count that is only a lower bound, more than it is no disagreement. */
        if ((lister_count_is_lower_bound(l) ? n < l->count : n != l->count) &&
            lister_note(l, "%zu distinct connectors arrived where the count says %" PRIu64, n, l->count) < 0)
                goto oom;

        listing->complete = l->n_reasons == 0;
        if (l->n_reasons > 1) {
                char *more = strdup_printf("%s (and %u more disagreements)", l->reason, l->n_reasons - 1);

                if (!more)
                        goto oom;
                free(l->reason);
                l->reason = more;
        }
        listing->incomplete_reason = TAKE_PTR(l->reason);
        *ret = listing;
        return 0;

oom:
        (void) cluster_listing_free(listing);
        return -ENOMEM;
}

struct cluster_listing *cluster_listing_free(struct cluster_listing *l) {
        if (!l)
                return NULL;
        connectors_free(l->connectors, l->n_connectors);
        free(l->incomplete_reason);
        free(l);
        return NULL;
}

struct cluster_document *cluster_document_free(struct cluster_document *d) {
        if (!d)
                return NULL;
        free(d->body);
        connector_done(&d->connector);
        free(d);
        return NULL;
}

const char *cluster_delete_result_to_string(enum cluster_delete_result r) {
        static const char *const table[_CLUSTER_DELETE_RESULT_MAX] = {
                [CLUSTER_DELETED] = "deleted",
                [CLUSTER_ALREADY_GONE] = "already_gone",
                [CLUSTER_DELETE_FAILED] = "failed",
        };

        return r >= 0 && r < _CLUSTER_DELETE_RESULT_MAX ? table[r] : NULL;
}

void cluster_options_init(struct cluster_options *o) {
        assert(o);

        *o = (struct cluster_options) {
                .auth = CLUSTER_AUTH_NONE,
                .verify_tls = true,
                .connect_timeout_usec = CLUSTER_CONNECT_TIMEOUT_USEC_DEFAULT,
                .request_timeout_usec = CLUSTER_REQUEST_TIMEOUT_USEC_DEFAULT,
                .max_in_flight = CLUSTER_MAX_IN_FLIGHT_DEFAULT,
                .page_size = CLUSTER_PAGE_SIZE_DEFAULT,
                .max_result_window = CLUSTER_MAX_RESULT_WINDOW_DEFAULT,
                .retry = {
                        .max_attempts = CLUSTER_RETRY_MAX_ATTEMPTS_DEFAULT,
                        .initial_delay_usec = CLUSTER_RETRY_INITIAL_DELAY_USEC_DEFAULT,
                        .max_delay_usec = CLUSTER_RETRY_MAX_DELAY_USEC_DEFAULT,
                },
                .max_body_bytes = HTTP_MAX_BODY_BYTES_DEFAULT,
        };
}

/* ---- The client: operations made of calls (one logical HTTP request each, with its retries) ---- */

enum op_kind {
        OP_INFO,
        OP_LIST,
        OP_GET,
        OP_DELETE,
};

struct call;

union op_callback {
        void (*info)(struct cluster *c, int error, const struct cluster_info *info,
                     const struct cluster_error *err, void *userdata);
        void (*list)(struct cluster *c, int error, struct cluster_listing *listing,
                     const struct cluster_error *err, void *userdata);
        void (*get)(struct cluster *c, int error, struct cluster_document *document,
                    const struct cluster_error *err, void *userdata);
        void (*delete)(struct cluster *c, int error, enum cluster_delete_result result,
                       const struct cluster_error *err, void *userdata);
};

/* Which list of the cluster holds an op. */
enum op_where {
        OP_DETACHED,
        OP_RUNNING,
        OP_WAITING, /* for GET / */
};

struct op {
        struct cluster *cluster;
        struct op *prev, *next; /* in the cluster's list that 'where' names */
        enum op_where where;
        enum op_kind kind;
        uint64_t info_generation; /* which GET / it waits for */

        char *id;
        bool delete_sync_jobs, hard;
        char *delete_path;

        struct call *calls_head, *calls_tail;

        struct cluster_lister *lister; /* OP_LIST */

        /* OP_DELETE on 8.12-8.13 with delete_sync_jobs: the connector's sync jobs. */
        uint64_t sync_from;
        char **sync_ids;
        size_t n_sync_ids, n_sync_alloc;
        size_t sync_pending;
        int sync_error;
        struct cluster_error sync_err;

        union op_callback callback;
        void *userdata;
};

struct call {
        struct cluster *cluster;
        struct op *op;            /* owner; NULL for the shared GET / */
        struct call *prev, *next; /* in op's calls */
        char *request;            /* "METHOD /path?query", for messages */
        char *method;
        char *url;
        unsigned attempt; /* 1-based: the attempt on the wire or the one to come */
        struct http_request *http;
        sd_event_source *timer;
        void (*done)(struct call *call, struct http_response *resp);
};

struct cluster {
        unsigned n_ref;
        bool dead;

        sd_event *event;
        struct http_glue *http;
        char *base_url;
        char *auth_header; /* "Authorization: ..." or NULL; wiped on free */
        const char *headers[3];

        struct backoff_policy retry;
        unsigned page_size;
        uint64_t max_result_window;

        struct cluster_info info;
        bool have_info;
        struct call *info_call; /* the GET / in flight, if any */
        uint64_t info_generation;

        struct op *ops_head, *ops_tail;         /* running */
        struct op *waiting_head, *waiting_tail; /* waiting for GET / */

        void (*retry_hook)(struct cluster *c, const struct cluster_retry *r, void *userdata);
        void *retry_hook_userdata;
};

static struct cluster *cluster_ref(struct cluster *c) {
        c->n_ref++;
        return c;
}

static void cluster_unref(struct cluster *c) {
        assert(c->n_ref > 0);
        if (--c->n_ref > 0)
                return;

        c->http = http_glue_free(c->http);
        erase_and_free(c->auth_header);
        free(c->base_url);
        cluster_info_done(&c->info);
        sd_event_unref(c->event);
        free(c);
}
DEFINE_CLEANUP_FUNC(struct cluster *, cluster_unref);

static void call_free(struct call *call) {
        if (!call)
                return;

        if (call->op)
                LIST_REMOVE(call->op->calls_head, call->op->calls_tail, call);
        http_request_cancel(call->http);
        (void) sd_event_source_disable_unref(call->timer);
        free(call->request);
        free(call->method);
        free(call->url);
        free(call);
}

static void op_free(struct op *op) {
        struct cluster *c;

        if (!op)
                return;

        c = op->cluster;
        if (op->where == OP_WAITING)
                LIST_REMOVE(c->waiting_head, c->waiting_tail, op);
        else if (op->where == OP_RUNNING)
                LIST_REMOVE(c->ops_head, c->ops_tail, op);

        while (op->calls_head)
                call_free(op->calls_head);
        cluster_lister_free(op->lister);
        strv_free(op->sync_ids);
        cluster_error_done(&op->sync_err);
        free(op->delete_path);
        free(op->id);
        free(op);
}
DEFINE_CLEANUP_FUNC(struct op *, op_free);

static void on_http_done(struct http_response *resp, void *userdata);

static int call_send(struct call *call) {
        assert(!call->http);
        return http_request_start(call->cluster->http, call->method, call->url, call->cluster->headers,
                                  on_http_done, call, &call->http);
}

/* Creates a call for 'op' (NULL: the cluster's GET /) and sends it. 'hidden_query' (or NULL) goes
 * on the URL after 'path''s query but not into the request's description in messages. Returns 0
 * or a negative errno (nothing sent, nothing left behind). */
static int call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                      const char *hidden_query, void (*done)(struct call *call, struct http_response *resp),
                      struct call **ret) {
        struct call *call;
        int r;

        call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->cluster = c;
        call->attempt = 1;
        call->done = done;
        call->method = strdup(method);
        call->request = strdup_printf("%s %s", method, path);
        call->url = strdup_printf("%s%s%s", c->base_url, path, strempty(hidden_query));
        if (!call->method || !call->request || !call->url) {
                call_free(call);
                return -ENOMEM;
        }

        r = call_send(call);
        if (r < 0) {
                call_free(call);
                return r;
        }

        if (op) {
                call->op = op;
                LIST_APPEND(op->calls_head, op->calls_tail, call);
        }
        if (ret)
                *ret = call;
        return 0;
}

/* Fills *ret from a failed attempt (a transfer error or a non-2xx status). Returns the errno. */
static int response_to_error(const struct call *call, const struct http_response *resp,
                             struct cluster_error *ret) {
        int error;

        *ret = (struct cluster_error){};
        ret->request = strdup(call->request);
        if (!ret->request)
                return -ENOMEM;

        if (resp->error < 0) {
                /* A transfer that broke after its headers may carry a status; it is not what
                 * happened, so it is not reported. */
                ret->message = strdup(resp->error_message ?: "The transfer failed");
                return ret->message ? resp->error : -ENOMEM;
        }

        ret->status = (int) resp->status;
        error = cluster_status_to_errno((int) resp->status);
        assert(error < 0);

        if (resp->status >= 300 && resp->status <= 399) {
                _cleanup_free_ char *l = resp->location ? escape_str(resp->location) : NULL;

                if (resp->location && !l)
                        return -ENOMEM;
                ret->message = strdup_printf("%ld redirect to '%s' not followed: point the configuration "
                                             "at the cluster itself",
                                             resp->status, l ?: "(no Location)");
                return ret->message ? error : -ENOMEM;
        }

        if (cluster_decode_error((int) resp->status, resp->body, resp->body_size, &ret->type,
                                 &ret->message) < 0)
                return -ENOMEM;
        return error;
}

/* Fills *ret for a response whose body we could not use. */
static int bad_body_error(const struct call *call, const struct http_response *resp, int error,
                          const char *why, struct cluster_error *ret) {
        *ret = (struct cluster_error){
                .status = (int) resp->status,
                .request = strdup(call->request),
                .message =
                        strdup_printf("Malformed response (%ld): %s", resp->status, why ?: "cannot decode"),
        };
        return ret->request && ret->message ? error : -ENOMEM;
}

static int oom_error(const struct call *call, struct cluster_error *ret) {
        *ret = (struct cluster_error){
                .request = call ? strdup(call->request) : NULL,
                .message = strdup("Out of memory"),
        };
        return -ENOMEM;
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct call *call = userdata;
        int r;

        call->timer = sd_event_source_disable_unref(call->timer);
        call->attempt++;

        r = call_send(call);
        if (r < 0) {
                struct http_response resp = {
                        .error = r,
                        .error_message = "Failed to start the request again",
                };
                call->done(call, &resp);
        }
        return 0;
}

/* Arms the retry timer; then tells the hook. Returns < 0 when the timer could not be armed. */
static int call_schedule_retry(struct call *call, const struct http_response *resp, usec_t delay) {
        struct cluster *c = call->cluster;
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct cluster_retry info;
        int error, r;

        r = sd_event_add_time(c->event, &call->timer, CLOCK_MONOTONIC,
                              usec_add(now_usec(CLOCK_MONOTONIC), delay), RETRY_TIMER_ACCURACY_USEC,
                              on_retry_timer, call);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(call->timer, "cluster-retry");

        if (!c->retry_hook)
                return 0;

        error = response_to_error(call, resp, &err);
        info = (struct cluster_retry){
                .request = call->request,
                .connector_id = call->op ? call->op->id : NULL,
                .attempt = call->attempt,
                .max_attempts = MAX(c->retry.max_attempts, 1u),
                .error = error,
                .status = err.status,
                .message = err.message ?: "Out of memory",
                .delay_usec = delay,
        };
        c->retry_hook(c, &info, c->retry_hook_userdata);
        return 0;
}

static void on_http_done(struct http_response *resp, void *userdata) {
        struct call *call = userdata;
        struct cluster *c = call->cluster;

        call->http = NULL; /* freed by http.c once we return */

        if (backoff_is_transient(resp->error, (int) resp->status)) {
                usec_t delay;

                if (backoff_next(&c->retry, call->attempt, resp->error < 0 ? NULL : resp->retry_after,
                                 now_usec(CLOCK_REALTIME), random_u64(), &delay) > 0 &&
                    call_schedule_retry(call, resp, delay) >= 0)
                        return; /* nothing may touch call or c after the hook */
        }

        call->done(call, resp);
}

/* ---- Finishing operations. Each path ends with the user's callback, after which nothing
 * touches the op or the cluster (the callback may free either). ---- */

static void op_fail(struct op *op, int error, const struct cluster_error *err) {
        struct cluster *c = op->cluster;
        enum op_kind kind = op->kind;
        union op_callback cb = op->callback;
        void *userdata = op->userdata;

        assert(error < 0);
        op_free(op);

        switch (kind) {
        case OP_INFO:
                cb.info(c, error, NULL, err, userdata);
                break;
        case OP_LIST:
                cb.list(c, error, NULL, err, userdata);
                break;
        case OP_GET:
                cb.get(c, error, NULL, err, userdata);
                break;
        case OP_DELETE:
                cb.delete(c, error, CLUSTER_DELETE_FAILED, err, userdata);
                break;
        }
}

/* Fails 'op' with a message of our own (no HTTP status). */
static void op_fail_message(struct op *op, int error, const char *request, const char *message) {
        _cleanup_(cluster_error_done) struct cluster_error err = {
                .request = request ? strdup(request) : NULL,
                .message = strdup(message ?: "Out of memory"),
        };

        op_fail(op, error, &err);
}

static int op_begin(struct op *op);

/* ---- GET / ---- */

static int info_from_response(struct cluster *c, const struct call *call, struct http_response *resp,
                              struct cluster_info *ret, struct cluster_error *reterr) {
        _cleanup_free_ char *msg = NULL;
        int r;

        if (resp->error < 0 || resp->status < 200 || resp->status > 299)
                return response_to_error(call, resp, reterr);

        /* What the official clients check: a server that does not say it is Elasticsearch gets
         * nothing more from us. */
        if (!resp->product || !streq(resp->product, "Elasticsearch")) {
                _cleanup_free_ char *p = resp->product ? escape_str(resp->product) : NULL;

                if (resp->product && !p)
                        return oom_error(call, reterr);
                *reterr = (struct cluster_error){
                        .status = (int) resp->status,
                        .request = strdup(call->request),
                        .message =
                                p ? strdup_printf(
                                            "Server at %s is not Elasticsearch (X-elastic-product is '%s')",
                                            c->base_url, p)
                                  : strdup_printf("Server at %s is not Elasticsearch (no X-elastic-product "
                                                  "header)",
                                                  c->base_url),
                };
                return reterr->message ? -EPROTONOSUPPORT : -ENOMEM;
        }

        r = cluster_decode_info(resp->body, resp->body_size, ret, &msg);
        if (r == -ENOMEM)
                return oom_error(call, reterr);
        if (r < 0)
                return bad_body_error(call, resp, r, msg, reterr);

        r = cluster_check_version(ret, &msg);
        if (r < 0) {
                cluster_info_done(ret);
                if (r == -ENOMEM)
                        return oom_error(call, reterr);
                *reterr = (struct cluster_error){
                        .status = (int) resp->status,
                        .request = strdup(call->request),
                        .message = TAKE_PTR(msg),
                };
                return r;
        }
        return 0;
}

static void info_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_unrefp) struct cluster *c = cluster_ref(call->cluster);
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct cluster_info info = {};
        uint64_t generation = c->info_generation;
        int error;

        error = info_from_response(c, call, resp, &info, &err);
        c->info_call = NULL;
        call_free(call);

        if (error >= 0) {
                cluster_info_done(&c->info);
                c->info = info;
                c->have_info = true;
        }

        /* Every op that waited for this GET / goes on or fails with it. Ops that callbacks start
         * meanwhile queue behind them with a newer generation, or begin at once. */
        while (!c->dead && c->waiting_head && c->waiting_head->info_generation == generation) {
                struct op *op = c->waiting_head;
                int r;

                LIST_REMOVE(c->waiting_head, c->waiting_tail, op);
                LIST_APPEND(c->ops_head, c->ops_tail, op);
                op->where = OP_RUNNING;

                if (error < 0) {
                        op_fail(op, error, &err);
                        continue;
                }
                if (op->kind == OP_INFO) {
                        union op_callback cb = op->callback;
                        void *userdata = op->userdata;

                        op_free(op);
                        cb.info(c, 0, &c->info, NULL, userdata);
                        continue;
                }
                r = op_begin(op);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
        }
}

/* Puts 'op' in the waiting list, sending GET / unless one is on its way. */
static int op_wait_info(struct op *op) {
        struct cluster *c = op->cluster;
        int r;

        if (!c->info_call) {
                r = call_start(c, NULL, "GET", "/", NULL, info_done, &c->info_call);
                if (r < 0)
                        return r;
                c->info_generation++;
        }

        assert(op->where == OP_DETACHED);
        op->where = OP_WAITING;
        op->info_generation = c->info_generation;
        LIST_APPEND(c->waiting_head, c->waiting_tail, op);
        return 0;
}

/* ---- GET /_connector pages ---- */

static void list_page_done(struct call *call, struct http_response *resp);

static int list_send(struct op *op, uint64_t from, unsigned size) {
        _cleanup_free_ char *path = strdup_printf("/_connector?from=%" PRIu64 "&size=%u", from, size);

        if (!path)
                return -ENOMEM;
        /* The same on every page, so messages leave it out: they say which page. */
        return call_start(op->cluster, op, "GET", path, "&" CLUSTER_LIST_FILTER_PATH, list_page_done, NULL);
}

static void list_page_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_(cluster_page_done) struct cluster_page page = {};
        _cleanup_free_ char *msg = NULL;
        struct cluster_listing *listing = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        union op_callback cb;
        void *userdata;
        uint64_t from = 0;
        unsigned size = 0;
        int r;

        if (resp->error < 0 || resp->status < 200 || resp->status > 299) {
                r = response_to_error(call, resp, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }

        r = cluster_decode_list_page(resp->body, resp->body_size, &page, &msg);
        if (r < 0) {
                r = r == -ENOMEM ? oom_error(call, &err) : bad_body_error(call, resp, r, msg, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }
        call_free(call);

        r = cluster_lister_add(op->lister, &page);
        if (r < 0) {
                op_fail_message(op, r, NULL, NULL);
                return;
        }

        r = cluster_lister_next(op->lister, &from, &size, &msg);
        if (r < 0) {
                op_fail_message(op, r, NULL, msg);
                return;
        }
        if (r > 0) {
                r = list_send(op, from, size);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        r = cluster_lister_finish(op->lister, &listing);
        if (r < 0) {
                op_fail_message(op, r, NULL, NULL);
                return;
        }

        cb = op->callback;
        userdata = op->userdata;
        op_free(op);
        cb.list(c, 0, listing, NULL, userdata);
}

static int list_begin(struct op *op) {
        uint64_t from;
        unsigned size;
        int r;

        r = cluster_lister_new(&op->lister, op->cluster->page_size, op->cluster->max_result_window);
        if (r < 0)
                return r;
        r = cluster_lister_next(op->lister, &from, &size, NULL);
        if (r <= 0) /* cannot happen: the first page is always asked for */
                return r < 0 ? r : -EINVAL;
        return list_send(op, from, size);
}

/* ---- GET /_connector/<id> ---- */

static void get_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_(cluster_document_freep) struct cluster_document *doc = NULL;
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        int r;

        if (resp->error < 0 || resp->status < 200 || resp->status > 299) {
                r = response_to_error(call, resp, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }

        doc = calloc(1, sizeof(*doc));
        if (!doc) {
                r = oom_error(call, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }

        r = cluster_decode_connector(resp->body, resp->body_size, op->id, &doc->connector, &msg);
        if (r < 0) {
                r = r == -ENOMEM ? oom_error(call, &err) : bad_body_error(call, resp, r, msg, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }
        /* The bytes exactly as they came: they become the backup. */
        doc->body = TAKE_PTR(resp->body);
        doc->body_size = resp->body_size;
        call_free(call);

        union op_callback cb = op->callback;
        void *userdata = op->userdata;
        op_free(op);
        cb.get(c, 0, TAKE_PTR(doc), NULL, userdata);
}

static int get_begin(struct op *op) {
        _cleanup_free_ char *e = cluster_escape_segment(op->id), *path = NULL;

        if (!e)
                return -ENOMEM;
        path = strdup_printf("/_connector/%s", e);
        if (!path)
                return -ENOMEM;
        return call_start(op->cluster, op, "GET", path, NULL, get_done, NULL);
}

/* ---- DELETE /_connector/<id>, and on 8.12-8.13 the sync jobs first ---- */

static void delete_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        enum cluster_delete_result result;
        int r;

        if (resp->error >= 0 && resp->status == 404)
                result = CLUSTER_ALREADY_GONE;
        else if (resp->error >= 0 && resp->status >= 200 && resp->status <= 299)
                result = CLUSTER_DELETED;
        else {
                r = response_to_error(call, resp, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }
        call_free(call);

        union op_callback cb = op->callback;
        void *userdata = op->userdata;
        op_free(op);
        cb.delete(c, 0, result, NULL, userdata);
}

static int delete_send_connector(struct op *op) {
        return call_start(op->cluster, op, "DELETE", op->delete_path, NULL, delete_done, NULL);
}

static void sync_delete_done(struct call *call, struct http_response *resp) {
        struct op *op = call->op;
        int r;

        /* 404: gone already (e.g. deleted along with something else): fine. */
        if (!(resp->error >= 0 && (resp->status == 404 || (resp->status >= 200 && resp->status <= 299))) &&
            op->sync_error == 0)
                op->sync_error = response_to_error(call, resp, &op->sync_err);
        call_free(call);

        assert(op->sync_pending > 0);
        if (--op->sync_pending > 0)
                return;

        if (op->sync_error < 0) {
                _cleanup_(cluster_error_done) struct cluster_error err = op->sync_err;

                op->sync_err = (struct cluster_error){};
                op_fail(op, op->sync_error, &err);
                return;
        }

        r = delete_send_connector(op);
        if (r < 0)
                op_fail_message(op, r, NULL, "Failed to start the request");
}

static int sync_list_send(struct op *op);

static void sync_list_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        size_t n_ids;
        uint64_t count;
        int r;

        if (resp->error < 0 || resp->status < 200 || resp->status > 299) {
                r = response_to_error(call, resp, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }

        r = cluster_decode_sync_job_page(resp->body, resp->body_size, &count, &ids, &n_ids, &msg);
        if (r < 0) {
                r = r == -ENOMEM ? oom_error(call, &err) : bad_body_error(call, resp, r, msg, &err);
                call_free(call);
                op_fail(op, r, &err);
                return;
        }
        call_free(call);

        if (count > c->max_result_window) {
                _cleanup_free_ char *id = escape_str(op->id);
                _cleanup_free_ char *m =
                        id ? strdup_printf(
                                     "Connector '%s' has %" PRIu64
                                     " sync jobs; the list API shows at most %" PRIu64
                                     " (index.max_result_window), so they cannot all be deleted before it",
                                     id, count, c->max_result_window)
                           : NULL;
                op_fail_message(op, -EOVERFLOW, NULL, m);
                return;
        }

        if (n_ids > op->n_sync_alloc - op->n_sync_ids) {
                size_t a = MAX(op->n_sync_alloc * 2, op->n_sync_ids + n_ids) + 1;
                char **p = reallocarray(op->sync_ids, a, sizeof(char *));

                if (!p) {
                        op_fail_message(op, -ENOMEM, NULL, NULL);
                        return;
                }
                op->sync_ids = p;
                op->n_sync_alloc = a - 1;
        }
        for (size_t i = 0; i < n_ids; i++) {
                bool seen = false;

                /* O(n²) in one connector's sync jobs, which a page of the listing shifts by a few
                 * at most: a duplicate is skipped. */
                for (size_t k = 0; k < op->n_sync_ids && !seen; k++)
                        seen = streq(op->sync_ids[k], ids[i]);
                if (seen) {
                        /* Freed here: the list has holes now, which strv_free() would stop at. */
                        ids[i] = mfree(ids[i]);
                        continue;
                }
                op->sync_ids[op->n_sync_ids++] = TAKE_PTR(ids[i]);
                op->sync_ids[op->n_sync_ids] = NULL;
        }

        op->sync_from += c->page_size;
        if (op->sync_from < count && op->sync_from < c->max_result_window) {
                r = sync_list_send(op);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        if (op->n_sync_ids == 0) {
                r = delete_send_connector(op);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        /* All at once: http.c keeps no more than max_in_flight of them on the wire. */
        for (size_t i = 0; i < op->n_sync_ids; i++) {
                _cleanup_free_ char *e = cluster_escape_segment(op->sync_ids[i]), *path = NULL;

                path = e ? strdup_printf("/_connector/_sync_job/%s", e) : NULL;
                r = path ? call_start(c, op, "DELETE", path, NULL, sync_delete_done, NULL) : -ENOMEM;
                if (r < 0) {
                        /* The ones already sent are cancelled with the op. */
                        op_fail_message(op, r, NULL, "Failed to start the request");
                        return;
                }
                op->sync_pending++;
        }
}

static int sync_list_send(struct op *op) {
        struct cluster *c = op->cluster;
        _cleanup_free_ char *e = cluster_escape_segment(op->id), *path = NULL;
        uint64_t size = MIN((uint64_t) c->page_size, c->max_result_window - op->sync_from);

        if (!e)
                return -ENOMEM;
        path = strdup_printf("/_connector/_sync_job?connector_id=%s&from=%" PRIu64 "&size=%" PRIu64, e,
                             op->sync_from, size);
        if (!path)
                return -ENOMEM;
        return call_start(c, op, "GET", path, NULL, sync_list_done, NULL);
}

static int delete_begin(struct op *op) {
        bool by_client;
        int r;

        r = cluster_delete_path(&op->cluster->info, op->id, op->delete_sync_jobs, op->hard, &op->delete_path,
                                &by_client);
        if (r < 0)
                return r;

        if (by_client)
                return sync_list_send(op);
        return delete_send_connector(op);
}

static int op_begin(struct op *op) {
        switch (op->kind) {
        case OP_LIST:
                return list_begin(op);
        case OP_GET:
                return get_begin(op);
        case OP_DELETE:
                return delete_begin(op);
        case OP_INFO:
                break;
        }
        assert(false);
        return -EINVAL;
}

/* Creates an op and starts it: at once when the version is known, else after GET /. On failure
 * nothing is left behind and no callback runs. */
static int op_submit(struct cluster *c, enum op_kind kind, const char *id, bool delete_sync_jobs, bool hard,
                     union op_callback callback, void *userdata) {
        _cleanup_(op_freep) struct op *op = NULL;
        int r;

        assert(c);
        assert(!c->dead);

        if (id && id[0] == '\0')
                return -EINVAL;

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->cluster = c;
        op->kind = kind;
        op->delete_sync_jobs = delete_sync_jobs;
        op->hard = hard;
        op->callback = callback;
        op->userdata = userdata;
        if (id) {
                op->id = strdup(id);
                if (!op->id)
                        return -ENOMEM;
        }

        if (kind == OP_INFO || !c->have_info) {
                r = op_wait_info(op);
                if (r < 0)
                        return r;
                TAKE_PTR(op);
                return 0;
        }

        LIST_APPEND(c->ops_head, c->ops_tail, op);
        op->where = OP_RUNNING;
        r = op_begin(op);
        if (r < 0)
                return r;
        TAKE_PTR(op);
        return 0;
}

int cluster_info(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata) {
        assert(callback);
        return op_submit(c, OP_INFO, NULL, false, false, (union op_callback){ .info = callback }, userdata);
}

int cluster_list(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, struct cluster_listing *listing,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata) {
        assert(callback);
        return op_submit(c, OP_LIST, NULL, false, false, (union op_callback){ .list = callback }, userdata);
}

int cluster_get(struct cluster *c, const char *id,
                void (*callback)(struct cluster *c, int error, struct cluster_document *document,
                                 const struct cluster_error *err, void *userdata),
                void *userdata) {
        assert(id);
        assert(callback);
        return op_submit(c, OP_GET, id, false, false, (union op_callback){ .get = callback }, userdata);
}

int cluster_delete(struct cluster *c, const char *id, bool delete_sync_jobs, bool hard,
                   void (*callback)(struct cluster *c, int error, enum cluster_delete_result result,
                                    const struct cluster_error *err, void *userdata),
                   void *userdata) {
        assert(id);
        assert(callback);
        return op_submit(c, OP_DELETE, id, delete_sync_jobs, hard, (union op_callback){ .delete = callback },
                         userdata);
}

/* ---- Life cycle ---- */

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int build_auth_header(const struct cluster_options *o, char **ret, char **reterr_message) {
        switch (o->auth) {
        case CLUSTER_AUTH_NONE:
                *ret = NULL;
                return 0;

        case CLUSTER_AUTH_API_KEY:
                if (!o->api_key || o->api_key[0] == '\0')
                        return fail(reterr_message, -EINVAL, "The API key is empty");
                if (has_control_chars(o->api_key))
                        return fail(reterr_message, -EINVAL, "The API key holds a control character");
                *ret = strdup_printf("Authorization: ApiKey %s", o->api_key);
                return *ret ? 0 : -ENOMEM;

        case CLUSTER_AUTH_BEARER:
                if (!o->bearer_token || o->bearer_token[0] == '\0')
                        return fail(reterr_message, -EINVAL, "The bearer token is empty");
                if (has_control_chars(o->bearer_token))
                        return fail(reterr_message, -EINVAL, "The bearer token holds a control character");
                *ret = strdup_printf("Authorization: Bearer %s", o->bearer_token);
                return *ret ? 0 : -ENOMEM;

        case CLUSTER_AUTH_BASIC: {
                _cleanup_erase_ char *pair = NULL, *encoded = NULL;

                if (!o->username || o->username[0] == '\0')
                        return fail(reterr_message, -EINVAL, "The user name is empty");
                if (strchr(o->username, ':') || has_control_chars(o->username))
                        return fail(reterr_message, -EINVAL,
                                    "The user name holds a ':' or a control character");
                if (!o->password)
                        return fail(reterr_message, -EINVAL, "No password given");
                if (has_control_chars(o->password))
                        return fail(reterr_message, -EINVAL, "The password holds a control character");

                pair = strdup_printf("%s:%s", o->username, o->password);
                if (!pair)
                        return -ENOMEM;
                encoded = base64_encode(pair, strlen(pair));
                if (!encoded)
                        return -ENOMEM;
                *ret = strdup_printf("Authorization: Basic %s", encoded);
                return *ret ? 0 : -ENOMEM;
        }

        default:
                return fail(reterr_message, -EINVAL, "Unknown authentication kind");
        }
}

int cluster_new(struct cluster **ret, sd_event *event, const struct cluster_options *o,
                char **reterr_message) {
        _cleanup_(cluster_unrefp) struct cluster *c = NULL;
        struct http_options ho;
        size_t n = 0;
        int r;

        assert(ret);
        assert(event);
        assert(o);

        if (!!o->url == !!o->cloud_id)
                return fail(reterr_message, -EINVAL, "Give either a cluster URL or a cloud id");

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->event = sd_event_ref(event);
        c->retry = o->retry;
        c->page_size =
                o->page_size == 0 ? CLUSTER_PAGE_SIZE_DEFAULT : MIN(o->page_size, CLUSTER_PAGE_SIZE_MAX);
        c->max_result_window = o->max_result_window ?: CLUSTER_MAX_RESULT_WINDOW_DEFAULT;

        if (o->url)
                r = cluster_url_normalize(o->url, &c->base_url, reterr_message);
        else
                r = cluster_cloud_id_to_url(o->cloud_id, &c->base_url, reterr_message);
        if (r < 0)
                return r;

        r = build_auth_header(o, &c->auth_header, reterr_message);
        if (r < 0)
                return r;

        c->headers[n++] = "Accept: application/json";
        if (c->auth_header)
                c->headers[n++] = c->auth_header;
        c->headers[n] = NULL;

        ho = (struct http_options){
                .ca_file = o->ca_file,
                .client_cert_file = o->client_cert_file,
                .client_key_file = o->client_key_file,
                .verify_tls = o->verify_tls,
                .connect_timeout_usec = o->connect_timeout_usec,
                .request_timeout_usec = o->request_timeout_usec,
                .max_body_bytes = o->max_body_bytes,
                .max_in_flight = o->max_in_flight,
        };
        r = http_glue_new(&c->http, event, &ho);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

void cluster_cancel(struct cluster *c) {
        if (!c)
                return;

        while (c->ops_head)
                op_free(c->ops_head);
        while (c->waiting_head)
                op_free(c->waiting_head);
        call_free(c->info_call);
        c->info_call = NULL;
}

struct cluster *cluster_free(struct cluster *c) {
        if (!c)
                return NULL;

        cluster_cancel(c);
        c->dead = true;
        c->retry_hook = NULL;
        cluster_unref(c);
        return NULL;
}

void cluster_set_retry_hook(struct cluster *c,
                            void (*hook)(struct cluster *c, const struct cluster_retry *r, void *userdata),
                            void *userdata) {
        assert(c);
        c->retry_hook = hook;
        c->retry_hook_userdata = userdata;
}

const char *cluster_get_url(const struct cluster *c) {
        assert(c);
        return c->base_url;
}

const struct cluster_info *cluster_get_info(const struct cluster *c) {
        assert(c);
        return c->have_info ? &c->info : NULL;
}
