#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cluster-decode.h"
#include "json-scan.h"
#include "plan.h"
#include "util.h"

/* Integers a JSON number (a double) holds exactly are below 2^53. */
#define JSON_INT_MAX 9007199254740992.0
/* How much of a server's text we quote in a message. */
#define ERROR_LINE_MAX 200

static inline void cJSON_Deletep(cJSON **p) {
        if (*p)
                cJSON_Delete(*p);
}

/* ---- Small helpers ---- */

/* Copies at most 'max' bytes of s[0..n) for a message: control characters (and DEL) become \xNN,
 * a cut never splits a UTF-8 sequence, and a cut text ends in "...". Stops at a newline when
 * 'first_line' is set. */
char *cluster_escape_text(const char *s, size_t n, size_t max, bool first_line) {
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
                return reterr_printf(reterr, -EBADMSG, "The response body is empty");
        if (json_has_nul(body, size))
                return reterr_printf(reterr, -EBADMSG, "The response holds a NUL character");

        j = cJSON_ParseWithLengthOpts(body, size, &end, false);
        if (!j)
                return reterr_printf(reterr, -EBADMSG, "The response is not valid JSON (at byte %zu)",
                                     (size_t) ((cJSON_GetErrorPtr() ?: body) - body));

        for (; end && end < body + size; end++)
                if (!strchr(" \t\r\n", *end)) {
                        cJSON_Delete(j);
                        return reterr_printf(reterr, -EBADMSG, "The response has data after its JSON value");
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
                return reterr_printf(reterr, -EBADMSG, "%s'%s' is not a string", where, key);
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
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
                t = cluster_escape_str(type->valuestring);
                if (!t)
                        return -ENOMEM;
        }
        if (cJSON_IsString(reason)) {
                r = cluster_escape_str(reason->valuestring);
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
                        text = cluster_escape_str(e->valuestring);
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
                _cleanup_free_ char *line = cluster_escape_text(body, size, ERROR_LINE_MAX, true);

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
                return reterr_printf(reterr_message, -EBADMSG, "The response is not a JSON object");

        version = cJSON_GetObjectItemCaseSensitive(j, "version");
        if (!cJSON_IsObject(version))
                return reterr_printf(reterr_message, -EBADMSG, "The response has no 'version' object");

        r = json_get_optional_string(version, "number", "version.", &info.version, reterr_message);
        if (r < 0)
                return r;
        if (!info.version)
                return reterr_printf(reterr_message, -EBADMSG, "The response has no 'version.number'");
        if (cluster_parse_version(info.version, &info.major, &info.minor, &info.patch) < 0) {
                _cleanup_free_ char *v = cluster_escape_str(info.version);
                return v ? reterr_printf(reterr_message, -EBADMSG, "The version number '%s' is not X.Y.Z", v)
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

void cluster_connectors_free(struct plan_connector *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                plan_connector_done(&a[i]);
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
        _cleanup_(plan_connector_done) struct plan_connector c = {};
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
                        return reterr_printf(reterr, -EBADMSG, "%s'%s' is given twice",
                                             connector_where(where, index), connector_field_names[f]);
                seen |= 1u << f;

                if (f == FIELD_DELETED) {
                        if (v.type == JSON_SCAN_TRUE || v.type == JSON_SCAN_FALSE)
                                c.deleted = v.type == JSON_SCAN_TRUE;
                        else if (v.type != JSON_SCAN_NULL)
                                return reterr_printf(reterr, -EBADMSG, "%s'deleted' is not a boolean",
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
                        return reterr_printf(reterr, -EBADMSG, "%s'%s' is not a string",
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
                return reterr_printf(reterr, -EBADMSG, "The response body is empty");
        case JSON_SCAN_NUL:
                return reterr_printf(reterr, -EBADMSG, "The response holds a NUL character");
        case JSON_SCAN_TRAILING:
                return reterr_printf(reterr, -EBADMSG, "The response has data after its JSON value");
        case JSON_SCAN_TOO_DEEP:
                return reterr_printf(reterr, -EBADMSG,
                                     "The response nests more than %u arrays and objects (at byte %zu)",
                                     JSON_SCAN_DEPTH_MAX, s->error_offset);
        default:
                return reterr_printf(reterr, -EBADMSG, "The response is not valid JSON (at byte %zu: %s)",
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
        cluster_connectors_free(p->connectors, p->n_connectors);
        *p = (struct cluster_page){};
}

/* The envelope of a sync-job page: the object, its count and its results array. */
static int decode_page_envelope(const cJSON *j, uint64_t *ret_count, const cJSON **ret_results,
                                char **reterr) {
        const cJSON *count, *results;

        if (!cJSON_IsObject(j))
                return reterr_printf(reterr, -EBADMSG, "The response is not a JSON object");

        count = cJSON_GetObjectItemCaseSensitive(j, "count");
        if (!count)
                return reterr_printf(reterr, -EBADMSG, "The response has no 'count'");
        if (!json_get_uint(count, ret_count))
                return reterr_printf(reterr, -EBADMSG,
                                     "The response's 'count' is not a non-negative integer");

        results = cJSON_GetObjectItemCaseSensitive(j, "results");
        if (!results)
                return reterr_printf(reterr, -EBADMSG, "The response has no 'results'");
        if (!cJSON_IsArray(results))
                return reterr_printf(reterr, -EBADMSG, "The response's 'results' is not an array");

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
                        return reterr_printf(reterr, -EBADMSG, "results[%zu]: is not an object",
                                             page->n_connectors);

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
                        return reterr_printf(reterr, -EBADMSG, "results[%zu]: has no 'id'",
                                             page->n_connectors - 1);
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
                return reterr_printf(reterr, -EBADMSG, "%s is not a JSON object", what);
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
                                return reterr_printf(reterr, -EBADMSG,
                                                     "The response's 'count' is given twice");
                        have_count = true;
                        r = json_scan_get_uint(&v, &page->count);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "The response's 'count' is not a non-negative integer");
                } else if (json_scan_string_equal(&key, "results")) {
                        if (have_results)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "The response's 'results' is given twice");
                        have_results = true;
                        if (v.type != JSON_SCAN_ARRAY_BEGIN)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "The response's 'results' is not an array");
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
                return reterr_printf(reterr, -EBADMSG, "The response has no 'count'");
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
        _cleanup_(plan_connector_done) struct plan_connector c = {};
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
                _cleanup_free_ char *got = cluster_escape_str(c.id);
                return got ? reterr_printf(reterr, -EBADMSG,
                                           "The document's id is '%s', not the one asked for", got)
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
                        return reterr_printf(reterr_message, -EBADMSG, "results[%zu]: is not an object", n);
                if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
                        return reterr_printf(reterr_message, -EBADMSG, "results[%zu]: has no string 'id'",
                                             n);
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

struct cluster_document *cluster_document_free(struct cluster_document *d) {
        if (!d)
                return NULL;
        free(d->body);
        plan_connector_done(&d->connector);
        free(d);
        return NULL;
}
