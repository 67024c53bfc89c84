#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cluster-decode.h"
#include "escape.h"
#include "json-scan.h"
#include "plan.h"
#include "cjson-util.h"
#include "util.h"

/* How much of a server's text we quote in a message. */
#define ERROR_LINE_MAX 200

/* ---- Small helpers ---- */

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
                _cleanup_free_ char *line = escape_text(body, size, ERROR_LINE_MAX, ESCAPE_FIRST_LINE);

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
        /* What the plan reads. */
        FIELD_ID,
        FIELD_NAME,
        FIELD_SERVICE_TYPE,
        FIELD_INDEX_NAME,
        FIELD_DELETED,
        /* Only noted, to tell a connector document from anything else: Elasticsearch writes
         * these three into every connector it stores (Connector.toXContent), booleans and a
         * string; a connector's 'error' is a string or null, an error body's an object (or a
         * string beside a numeric 'status'). */
        FIELD_IS_NATIVE,
        FIELD_STATUS,
        FIELD_SYNC_NOW,
        FIELD_ERROR,
        _FIELD_MAX,
        _FIELD_OTHER = -1,
};

#define FIELD_BIT(f) (1u << (f))

static const char *const connector_field_names[_FIELD_MAX] = {
        [FIELD_ID] = "id",
        [FIELD_NAME] = "name",
        [FIELD_SERVICE_TYPE] = "service_type",
        [FIELD_INDEX_NAME] = "index_name",
        [FIELD_DELETED] = "deleted",
        [FIELD_IS_NATIVE] = "is_native",
        [FIELD_STATUS] = "status",
        [FIELD_SYNC_NOW] = "sync_now",
        [FIELD_ERROR] = "error",
};

static enum connector_field connector_field_from_key(const struct json_scan_token *key) {
        /* Most members are none of ours: their length alone says so, without a comparison. */
        if (!key->escaped) {
                switch (key->size) {
                case 2:
                case 4:
                case 5:
                case 6:
                case 7:
                case 8:
                case 9:
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

/* Whether a noted member has the type a connector document gives it. */
static bool noted_type_ok(enum connector_field f, enum json_scan_token_type t) {
        switch (f) {
        case FIELD_IS_NATIVE:
        case FIELD_SYNC_NOW:
                return t == JSON_SCAN_TRUE || t == JSON_SCAN_FALSE;
        case FIELD_STATUS:
                return t == JSON_SCAN_STRING;
        case FIELD_ERROR:
                return t == JSON_SCAN_STRING || t == JSON_SCAN_NULL;
        default:
                return true;
        }
}

/* Reads the next member of an object: its name into *ret_key and the first token of its value
 * into *ret_value. Returns 1, 0 at the object's '}' (then in *ret_key), or -EBADMSG. Inline: it
 * runs for each member of each listed connector, and gcc -O2 leaves it a call otherwise. */
static inline int scan_member(struct json_scan *s, struct json_scan_token *ret_key,
                              struct json_scan_token *ret_value) {
        int r;

        r = json_scan_next(s, ret_key);
        if (r < 0)
                return r;
        if (ret_key->type == JSON_SCAN_OBJECT_END)
                return 0;
        assert(ret_key->type == JSON_SCAN_KEY);

        r = json_scan_next(s, ret_value);
        if (r < 0)
                return r;
        return 1;
}

/* Reads the members of a connector object whose '{' was the last token read, up to its '}'.
 * *ret_seen gets a FIELD_BIT() for each of our fields the object has, and *ret_mistyped one for
 * each noted member whose type is not a connector document's. Returns 0, -ENOMEM, or -EBADMSG:
 * with *reterr set when the JSON is valid so far but not a connector, with s->error set when it is
 * not JSON. */
static int scan_connector_object(struct json_scan *s, ssize_t index, struct plan_connector *ret,
                                 unsigned *ret_seen, unsigned *ret_mistyped, char **reterr) {
        _cleanup_(plan_connector_done) struct plan_connector c = {};
        struct json_scan_token key, v;
        char where[64];
        unsigned seen = 0, mistyped = 0;
        int r;

        while ((r = scan_member(s, &key, &v)) > 0) {
                enum connector_field f;
                char **slot;

                f = connector_field_from_key(&key);
                if (f == _FIELD_OTHER) {
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* cJSON took the first of two; which one Elasticsearch meant is anyone's guess. */
                if (seen & FIELD_BIT(f))
                        return reterr_printf(reterr, -EBADMSG, "%s'%s' is given twice",
                                             connector_where(where, index), connector_field_names[f]);
                seen |= FIELD_BIT(f);

                if (f >= FIELD_IS_NATIVE) {
                        if (!noted_type_ok(f, v.type))
                                mistyped |= FIELD_BIT(f);
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                        continue;
                }

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
        if (r < 0)
                return r;

        *ret = c;
        c = (struct plan_connector){};
        *ret_seen = seen;
        *ret_mistyped = mistyped;
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

/* ---- Pages: a list page and a sync-job page share their envelope ---- */

/* A page's 'results' as they are read: an array of elements of 'size' bytes, 'n' of them read.
 * scan_element() reads the element 'index' from the object whose '{' was 'begin', the last token
 * read, up to its '}', into *ret; on failure it leaves nothing there to free. The decoder moves
 * 'elements' and 'n' into its page whether scan_page() failed or not, so that the page's _done()
 * frees them. */
struct page_results {
        size_t size;
        int (*scan_element)(struct json_scan *s, const struct json_scan_token *begin, size_t index,
                            void *ret, char **reterr);
        void *elements;
        size_t n, n_allocated;
};

/* Reads the elements of 'results' (its '[' was the last token read). */
static int scan_results(struct json_scan *s, struct page_results *results, char **reterr) {
        int r;

        for (;;) {
                struct json_scan_token t;

                r = json_scan_next(s, &t);
                if (r < 0)
                        return r;
                if (t.type == JSON_SCAN_ARRAY_END)
                        return 0;
                if (t.type != JSON_SCAN_OBJECT_BEGIN)
                        return reterr_printf(reterr, -EBADMSG, "results[%zu]: is not an object", results->n);

                if (results->n >= results->n_allocated) {
                        size_t a = MAX(results->n_allocated * 2, (size_t) 16);
                        void *p = reallocarray(results->elements, a, results->size);

                        if (!p)
                                return -ENOMEM;
                        results->elements = p;
                        results->n_allocated = a;
                }
                r = results->scan_element(s, &t, results->n,
                                          (char *) results->elements + results->n * results->size, reterr);
                if (r < 0)
                        return r;
                results->n++;
        }
}

/* Reads a page: one object with a non-negative integer 'count' and an array 'results' of objects,
 * each given once, other members skipped. Returns 1, 0 when the page has no 'results', -ENOMEM, or
 * -EBADMSG: with *reterr set when the JSON is valid so far but not a page, with s->error set when
 * it is not JSON. */
static int scan_page(struct json_scan *s, const char *body, size_t size, uint64_t *ret_count,
                     struct page_results *results, char **reterr) {
        struct json_scan_token key, v;
        bool have_count = false, have_results = false;
        uint64_t count = 0;
        int r;

        r = scan_open_object(s, body, size, "The response", reterr);
        if (r < 0)
                return r;

        while ((r = scan_member(s, &key, &v)) > 0) {
                if (json_scan_string_equal(&key, "count")) {
                        if (have_count)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "The response's 'count' is given twice");
                        have_count = true;
                        r = json_scan_get_uint(&v, &count);
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
                        r = scan_results(s, results, reterr);
                        if (r < 0)
                                return r;
                } else {
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                }
        }
        if (r < 0)
                return r;

        r = json_scan_finish(s);
        if (r < 0)
                return r;
        if (!have_count)
                return reterr_printf(reterr, -EBADMSG, "The response has no 'count'");
        *ret_count = count;
        return have_results;
}

void cluster_page_done(struct cluster_page *p) {
        if (!p)
                return;
        cluster_connectors_free(p->connectors, p->n_connectors);
        *p = (struct cluster_page){};
}

/* Reads one connector of a list page into *ret, a struct plan_connector. */
static int scan_list_connector(struct json_scan *s, const struct json_scan_token *begin, size_t index,
                               void *ret, char **reterr) {
        struct plan_connector *c = ret;
        unsigned seen, mistyped;
        int r;

        r = scan_connector_object(s, (ssize_t) index, c, &seen, &mistyped, reterr);
        if (r < 0)
                return r;
        if (!c->id) {
                plan_connector_done(c);
                return reterr_printf(reterr, -EBADMSG, "results[%zu]: has no 'id'", index);
        }
        return 0;
}

int cluster_decode_list_page(const char *body, size_t size, struct cluster_page *ret,
                             char **reterr_message) {
        _cleanup_(cluster_page_done) struct cluster_page page = {};
        struct page_results results = {
                .size = sizeof(struct plan_connector),
                .scan_element = scan_list_connector,
        };
        struct json_scan s;
        int r;

        assert(ret);

        r = scan_page(&s, body, size, &page.count, &results, reterr_message);
        page.connectors = results.elements;
        page.n_connectors = results.n;
        if (r < 0)
                return scan_result(&s, r, reterr_message);
        /* A missing 'results' is an empty page: response filtering (filter_path) leaves an empty
         * array out. The lister compares what arrived with 'count'. */
        if (!page.connectors) {
                page.connectors = calloc(1, sizeof(struct plan_connector));
                if (!page.connectors)
                        return -ENOMEM;
        }

        *ret = page;
        page = (struct cluster_page){};
        return 0;
}

static int scan_connector_document(struct json_scan *s, const char *body, size_t size,
                                   const char *expected_id, struct plan_connector *ret, char **reterr) {
        _cleanup_(plan_connector_done) struct plan_connector c = {};
        unsigned seen = 0, mistyped = 0;
        int r;

        r = scan_open_object(s, body, size, "The document", reterr);
        if (r < 0)
                return r;
        r = scan_connector_object(s, -1, &c, &seen, &mistyped, reterr);
        if (r < 0)
                return r;
        r = json_scan_finish(s);
        if (r < 0)
                return r;

        /* Whatever answered, it must be this connector's document: an error body, a proxy's page
         * or another connector must never become the backup that lets a DELETE go ahead. */
        if (mistyped & FIELD_BIT(FIELD_ERROR))
                return reterr_printf(
                        reterr, -EBADMSG,
                        "The document's 'error' is neither a string nor null: an error, not a connector");
        if (!c.id)
                return reterr_printf(reterr, -EBADMSG, "The document has no 'id'");
        if (!streq(c.id, expected_id)) {
                _cleanup_free_ char *got = cluster_escape_str(c.id);
                return got ? reterr_printf(reterr, -EBADMSG,
                                           "The document's id is '%s', not the one asked for", got)
                           : -ENOMEM;
        }
        for (enum connector_field f = FIELD_IS_NATIVE; f <= FIELD_SYNC_NOW; f++) {
                if (!(seen & FIELD_BIT(f)))
                        return reterr_printf(reterr, -EBADMSG,
                                             "The document has no '%s', which every connector has",
                                             connector_field_names[f]);
                if (mistyped & FIELD_BIT(f))
                        return reterr_printf(
                                reterr, -EBADMSG, "The document's '%s' is not a %s, as every connector's is",
                                connector_field_names[f], f == FIELD_STATUS ? "string" : "boolean");
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

int cluster_decode_acknowledged(const char *body, size_t size, char **reterr_message) {
        struct json_scan s;
        struct json_scan_token key, v;
        int acknowledged = -1; /* not given */
        int r;

        r = scan_open_object(&s, body, size, "The response", reterr_message);
        while (r >= 0 && (r = scan_member(&s, &key, &v)) > 0) {
                if (!json_scan_string_equal(&key, "acknowledged")) {
                        r = json_scan_skip(&s, &v);
                        continue;
                }
                if (acknowledged >= 0) {
                        r = reterr_printf(reterr_message, -EBADMSG,
                                          "The response's 'acknowledged' is given twice");
                        break;
                }
                acknowledged = v.type == JSON_SCAN_TRUE;
                /* An array or an object says no, and is read past whole. */
                r = json_scan_skip(&s, &v);
        }
        if (r >= 0)
                r = json_scan_finish(&s);
        if (r >= 0 && acknowledged < 0)
                r = reterr_printf(reterr_message, -EBADMSG, "The response has no 'acknowledged': true");
        else if (r >= 0 && acknowledged == 0)
                r = reterr_printf(reterr_message, -EBADMSG,
                                  "The response does not say 'acknowledged': true");
        if (r < 0)
                return scan_result(&s, r, reterr_message);
        return 0;
}

int cluster_decode_put_result(const char *body, size_t size, char **ret, char **reterr_message) {
        _cleanup_free_ char *result = NULL;
        struct json_scan s;
        struct json_scan_token key, v;
        int r;

        assert(ret);

        r = scan_open_object(&s, body, size, "The response", reterr_message);
        while (r >= 0 && (r = scan_member(&s, &key, &v)) > 0) {
                if (!json_scan_string_equal(&key, "result")) {
                        r = json_scan_skip(&s, &v);
                        continue;
                }
                if (result) {
                        r = reterr_printf(reterr_message, -EBADMSG,
                                          "The response's 'result' is given twice");
                        break;
                }
                if (v.type != JSON_SCAN_STRING) {
                        r = reterr_printf(reterr_message, -EBADMSG,
                                          "The response's 'result' is not a string");
                        break;
                }
                r = json_scan_string_dup(&v, &result);
        }
        if (r >= 0)
                r = json_scan_finish(&s);
        if (r >= 0 && !result)
                r = reterr_printf(reterr_message, -EBADMSG, "The response has no 'result'");
        if (r < 0)
                return scan_result(&s, r, reterr_message);
        *ret = TAKE_PTR(result);
        return 0;
}

void cluster_sync_job_page_done(struct cluster_sync_job_page *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_jobs; i++) {
                free(p->jobs[i].id);
                free(p->jobs[i].connector_id);
        }
        free(p->jobs);
        *p = (struct cluster_sync_job_page){};
}

/* Reads the string member 'id' of an object whose '{' was the last token read, up to its '}'. A
 * missing or null id leaves *ret NULL; anything else but a string is refused. */
static int scan_object_id(struct json_scan *s, const char *where, size_t index, char **ret, char **reterr) {
        _cleanup_free_ char *id = NULL;
        struct json_scan_token key, v;
        bool seen = false;
        int r;

        while ((r = scan_member(s, &key, &v)) > 0) {
                if (!json_scan_string_equal(&key, "id")) {
                        r = json_scan_skip(s, &v);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (seen)
                        return reterr_printf(reterr, -EBADMSG, "results[%zu]: '%sid' is given twice", index,
                                             where);
                seen = true;
                if (v.type == JSON_SCAN_STRING) {
                        r = json_scan_string_dup(&v, &id);
                        if (r < 0)
                                return r;
                } else if (v.type != JSON_SCAN_NULL)
                        return reterr_printf(reterr, -EBADMSG, "results[%zu]: '%sid' is not a string", index,
                                             where);
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(id);
        return 0;
}

/* Reads one sync job of a page into *ret, a struct cluster_sync_job. */
static int scan_sync_job(struct json_scan *s, const struct json_scan_token *begin, size_t index, void *ret,
                         char **reterr) {
        _cleanup_free_ char *id = NULL, *connector_id = NULL;
        struct cluster_sync_job *job = ret;
        struct json_scan_token key, v;
        bool have_id = false, have_connector = false;
        int r;

        while ((r = scan_member(s, &key, &v)) > 0) {
                if (json_scan_string_equal(&key, "id")) {
                        if (have_id)
                                return reterr_printf(reterr, -EBADMSG, "results[%zu]: 'id' is given twice",
                                                     index);
                        have_id = true;
                        if (v.type != JSON_SCAN_STRING || v.size == 0)
                                return reterr_printf(reterr, -EBADMSG, "results[%zu]: 'id' is not a string",
                                                     index);
                        r = json_scan_string_dup(&v, &id);
                } else if (json_scan_string_equal(&key, "connector")) {
                        if (have_connector)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "results[%zu]: 'connector' is given twice", index);
                        have_connector = true;
                        if (v.type == JSON_SCAN_OBJECT_BEGIN)
                                r = scan_object_id(s, "connector.", index, &connector_id, reterr);
                        else if (v.type != JSON_SCAN_NULL)
                                return reterr_printf(reterr, -EBADMSG,
                                                     "results[%zu]: 'connector' is not an object", index);
                } else
                        r = json_scan_skip(s, &v);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        if (!id || id[0] == '\0')
                return reterr_printf(reterr, -EBADMSG, "results[%zu]: has no string 'id'", index);
        *job = (struct cluster_sync_job){
                .id = TAKE_PTR(id),
                .connector_id = TAKE_PTR(connector_id),
                .offset = begin->offset,
                .size = key.offset + 1 - begin->offset,
        };
        return 0;
}

int cluster_decode_sync_job_page(const char *body, size_t size, struct cluster_sync_job_page *ret,
                                 char **reterr_message) {
        _cleanup_(cluster_sync_job_page_done) struct cluster_sync_job_page page = {};
        struct page_results results = {
                .size = sizeof(struct cluster_sync_job),
                .scan_element = scan_sync_job,
        };
        struct json_scan s;
        int r;

        assert(ret);

        r = scan_page(&s, body, size, &page.count, &results, reterr_message);
        page.jobs = results.elements;
        page.n_jobs = results.n;
        if (r == 0)
                r = reterr_printf(reterr_message, -EBADMSG, "The response has no 'results'");
        if (r < 0)
                return scan_result(&s, r, reterr_message);

        *ret = page;
        page = (struct cluster_sync_job_page){};
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
