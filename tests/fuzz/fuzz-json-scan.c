/* libFuzzer target, differential: json-scan.c (and the list page and document decoders built on
 * it) against cJSON (and the decoders as they were when they read a cJSON tree), on any input.
 *
 * - A body the scanner accepts, cJSON accepts.
 * - A body cJSON accepts and the scanner refuses has one of the documented faults, and the bytes
 *   where the scanner says it is show it: a raw control character in a string, invalid UTF-8, a
 *   number RFC 8259 does not allow (01, 1., 1.e5), whitespace RFC 8259 does not have, a byte order
 *   mark, a \u escape without 4 hex digits (which cJSON reads as U+0000), a NUL byte right after a
 *   backslash (which the old check stepped over).
 * - A list page or document the new decoders accept, the old ones accept with the same count and
 *   the same five fields of each connector, except a page without 'results' (an empty page now).
 * - One the old decoders accept and the new ones refuse is invalid as above, or gives one of the
 *   members read twice in one object (cJSON took the first).
 * - Every refusal comes with a message.
 * A broken rule prints what it was and aborts. Seeded with tests/fuzz/corpus/fuzz-json-scan. */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-decode.h"
#include "json-scan.h"
#include "plan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond, ...)                                                           \
        do {                                                                         \
                if (!(cond)) {                                                       \
                        fprintf(stderr, "fuzz-json-scan: rule broken: %s: ", #cond); \
                        fprintf(stderr, __VA_ARGS__);                                \
                        fputc('\n', stderr);                                         \
                        abort();                                                     \
                }                                                                    \
        } while (0)

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static const char *const fields[] = { "id",        "name",   "service_type", "index_name", "deleted",
                                      "is_native", "status", "sync_now",     "error" };

/* ---- The reference: cJSON, as cluster.c used it ---- */

/* The old NUL check, byte by byte. */
static bool ref_has_nul(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\0')
                        return true;
                if (s[i] == '\\' && i + 1 < n) {
                        if (s[i + 1] == 'u' && i + 5 < n && s[i + 2] == '0' && s[i + 3] == '0' &&
                            s[i + 4] == '0' && s[i + 5] == '0')
                                return true;
                        i++;
                }
        }
        return false;
}

/* Returns the tree, or NULL with *ret_fail_at where cJSON (or the trailing check) stopped. */
static cJSON *ref_parse(const char *body, size_t size, size_t *ret_fail_at) {
        const char *end = NULL;
        cJSON *j;

        *ret_fail_at = 0;
        if (size == 0 || ref_has_nul(body, size))
                return NULL;
        j = cJSON_ParseWithLengthOpts(body, size, &end, false);
        if (!j) {
                const char *e = cJSON_GetErrorPtr();

                *ret_fail_at = e ? (size_t) (e - body) : 0;
                return NULL;
        }
        for (; end && end < body + size; end++)
                if (!strchr(" \t\r\n", *end)) {
                        *ret_fail_at = (size_t) (end - body);
                        cJSON_Delete(j);
                        return NULL;
                }
        return j;
}

static bool ref_get_uint(const cJSON *j, uint64_t *ret) {
        double d;

        if (!cJSON_IsNumber(j))
                return false;
        d = j->valuedouble;
        if (!(d >= 0 && d < 9007199254740992.0) || (double) (uint64_t) d != d)
                return false;
        *ret = (uint64_t) d;
        return true;
}

static int ref_string(const cJSON *o, const char *key, char **ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *ret = NULL;
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsString(v))
                return -EBADMSG;
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static int ref_connector(const cJSON *o, struct plan_connector *ret) {
        struct plan_connector c = {};
        const cJSON *deleted;

        if (!cJSON_IsObject(o))
                return -EBADMSG;
        if (ref_string(o, "id", &c.id) < 0 || ref_string(o, "name", &c.name) < 0 ||
            ref_string(o, "service_type", &c.service_type) < 0 ||
            ref_string(o, "index_name", &c.index_name) < 0)
                goto bad;
        deleted = cJSON_GetObjectItemCaseSensitive(o, "deleted");
        if (deleted && !cJSON_IsNull(deleted)) {
                if (!cJSON_IsBool(deleted))
                        goto bad;
                c.deleted = cJSON_IsTrue(deleted);
        }
        *ret = c;
        return 0;
bad:
        plan_connector_done(&c);
        return -EBADMSG;
}

/* A connector document, as cluster_decode_connector() wants it beyond what ref_connector()
 * reads: an id, an 'error' that is a string or null, and what every connector has. */
static int ref_document(const cJSON *o, struct plan_connector *ret) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
        int r;

        r = ref_connector(o, ret);
        if (r < 0)
                return r;
        if ((e && !cJSON_IsString(e) && !cJSON_IsNull(e)) || !ret->id ||
            !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "is_native")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "status")) ||
            !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "sync_now"))) {
                plan_connector_done(ret);
                return -EBADMSG;
        }
        return 0;
}

/* -ENODATA: no 'results' (the one refusal the new decoder turned into an empty page). */
static int ref_list_page(const cJSON *j, struct cluster_page *ret) {
        struct cluster_page page = {};
        const cJSON *results, *item;

        if (!cJSON_IsObject(j) || !ref_get_uint(cJSON_GetObjectItemCaseSensitive(j, "count"), &page.count))
                return -EBADMSG;
        results = cJSON_GetObjectItemCaseSensitive(j, "results");
        if (!results)
                return -ENODATA;
        if (!cJSON_IsArray(results))
                return -EBADMSG;
        page.connectors = calloc((size_t) cJSON_GetArraySize(results) + 1, sizeof(struct plan_connector));
        if (!page.connectors)
                return -ENOMEM;
        cJSON_ArrayForEach(item, results) {
                struct plan_connector *c = &page.connectors[page.n_connectors];

                if (ref_connector(item, c) < 0) {
                        cluster_page_done(&page);
                        return -EBADMSG;
                }
                page.n_connectors++;
                if (!c->id) {
                        cluster_page_done(&page);
                        return -EBADMSG;
                }
        }
        *ret = page;
        return 0;
}

/* Whether 'o' (an object) holds a member 'key' more than once. */
static bool has_twice(const cJSON *o, const char *key) {
        const cJSON *m;
        unsigned n = 0;

        if (!cJSON_IsObject(o))
                return false;
        cJSON_ArrayForEach(m, o) if (m->string && streq(m->string, key)) n++;
        return n > 1;
}

static bool connector_has_twice(const cJSON *o) {
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (has_twice(o, fields[i]))
                        return true;
        return false;
}

static bool page_has_twice(const cJSON *j) {
        const cJSON *item;

        if (has_twice(j, "count") || has_twice(j, "results"))
                return true;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(
                                         j, "results")) if (connector_has_twice(item)) return true;
        return false;
}

/* ---- Independent checks of the documented differences, at the scanner's offset ---- */

static bool number_char(char c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* RFC 8259's number, written out once more as a plain left-to-right match. */
static bool rfc_number(const char *s, size_t n) {
        size_t i = 0;

        if (i < n && s[i] == '-')
                i++;
        if (i < n && s[i] == '0')
                i++;
        else if (i < n && s[i] >= '1' && s[i] <= '9')
                while (i < n && s[i] >= '0' && s[i] <= '9')
                        i++;
        else
                return false;
        if (i < n && s[i] == '.') {
                size_t d = ++i;

                while (i < n && s[i] >= '0' && s[i] <= '9')
                        i++;
                if (i == d)
                        return false;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                size_t d;

                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                d = i;
                while (i < n && s[i] >= '0' && s[i] <= '9')
                        i++;
                if (i == d)
                        return false;
        }
        return i == n;
}

/* The run of number characters at 'at', or ending just before it. */
static bool bad_number_near(const char *s, size_t size, size_t at) {
        size_t a, b;

        if (at >= size || !number_char(s[at])) {
                if (at == 0 || !number_char(s[at - 1]))
                        return false;
                at--;
        }
        for (a = at; a > 0 && number_char(s[a - 1]); a--)
                ;
        for (b = at; b < size && number_char(s[b]); b++)
                ;
        return !rfc_number(s + a, b - a);
}

/* Whether the bytes at 'at' start no valid UTF-8 sequence: decoded here by value, then checked
 * for the shortest form, surrogates and the upper bound. */
static bool bad_utf8_at(const unsigned char *s, size_t size, size_t at) {
        unsigned c = s[at], code, n;

        if (c < 0x80)
                return false;
        if ((c & 0xE0) == 0xC0) {
                n = 2;
                code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
                n = 3;
                code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
                n = 4;
                code = c & 0x07;
        } else
                return true;
        if (size - at < n)
                return true;
        for (unsigned i = 1; i < n; i++) {
                if ((s[at + i] & 0xC0) != 0x80)
                        return true;
                code = code << 6 | (s[at + i] & 0x3F);
        }
        if ((n == 2 && code < 0x80) || (n == 3 && code < 0x800) || (n == 4 && code < 0x10000))
                return true;
        return (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF;
}

static bool hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether the scanner's refusal of a body cJSON accepted is one of the documented ones. */
static bool documented(const char *s, size_t size, const struct json_scan *scan) {
        size_t at = scan->error_offset;

        switch (scan->error) {
        case JSON_SCAN_NUL:
                /* The old byte loop stepped over the character after each backslash, a NUL too. */
                return at < size && s[at] == '\0';
        case JSON_SCAN_CONTROL:
                return at < size && (unsigned char) s[at] < 0x20;
        case JSON_SCAN_BAD_UTF8:
                return at < size && bad_utf8_at((const unsigned char *) s, size, at);
        case JSON_SCAN_BAD_NUMBER:
                return bad_number_near(s, size, at);
        case JSON_SCAN_TRUNCATED:
                /* cJSON takes "1." and "-0." whole, at the end of the body. */
                return at == size && bad_number_near(s, size, at);
        case JSON_SCAN_BAD_ESCAPE:
                if (size - at < 6 || s[at] != '\\' || s[at + 1] != 'u')
                        return false;
                return !hex(s[at + 2]) || !hex(s[at + 3]) || !hex(s[at + 4]) || !hex(s[at + 5]);
        case JSON_SCAN_UNEXPECTED:
                if (at == 0 && size >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                        return true;
                return at < size && (unsigned char) s[at] >= 0x01 && (unsigned char) s[at] < 0x20 &&
                       !strchr("\t\n\r", s[at]);
        default:
                return false;
        }
}

static bool same_str(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

static void require_same_connector(const struct plan_connector *a, const struct plan_connector *b,
                                   const char *where, size_t i) {
        REQUIRE(same_str(a->id, b->id), "%s %zu: id '%s' vs '%s'", where, i, strna(a->id), strna(b->id));
        REQUIRE(same_str(a->name, b->name), "%s %zu: name", where, i);
        REQUIRE(same_str(a->service_type, b->service_type), "%s %zu: service_type", where, i);
        REQUIRE(same_str(a->index_name, b->index_name), "%s %zu: index_name", where, i);
        REQUIRE(a->deleted == b->deleted, "%s %zu: deleted", where, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *buf = NULL, *msg = NULL;
        struct cluster_page page = {}, ref_page = {};
        struct plan_connector c = {}, ref_c = {};
        struct json_scan scan;
        size_t ref_fail_at;
        bool valid, ref_valid, doc_dup, page_dup;
        const char *expected_id;
        cJSON *tree;
        int r, ref;

        /* A copy without a NUL after it, so that reading past the end is caught. */
        buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);

        /* The whole body: valid for the scanner, for cJSON. */
        valid = json_scan_init(&scan, buf, size) >= 0 && json_scan_finish(&scan) >= 0;
        REQUIRE(valid == (scan.error == JSON_SCAN_OK), "the error is set exactly on failure");
        tree = ref_parse(buf, size, &ref_fail_at);
        ref_valid = tree != NULL;
        if (valid)
                REQUIRE(ref_valid, "the scanner accepts what cJSON refuses at byte %zu", ref_fail_at);
        if (ref_valid && !valid)
                REQUIRE(documented(buf, size, &scan),
                        "the scanner refuses (%s at byte %zu) what cJSON accepts",
                        strna(json_scan_error_to_string(scan.error)), scan.error_offset);

        page_dup = tree && page_has_twice(tree);
        doc_dup = tree && connector_has_twice(tree);

        /* The list page. */
        r = cluster_decode_list_page(buf, size, &page, &msg);
        REQUIRE(r == 0 || r == -EBADMSG || r == -ENOMEM, "list page: r=%d", r);
        REQUIRE(r != -EBADMSG || msg, "list page: a refusal has a message");
        REQUIRE(r != 0 || valid, "list page: accepted though invalid");
        ref = tree ? ref_list_page(tree, &ref_page) : -EBADMSG;
        if (r == 0) {
                REQUIRE(ref == 0 || ref == -ENODATA, "list page: accepted, the reference refused (%d)", ref);
                if (ref == -ENODATA)
                        REQUIRE(page.n_connectors == 0, "list page: no 'results' but connectors");
                else {
                        REQUIRE(page.count == ref_page.count, "list page: count");
                        REQUIRE(page.n_connectors == ref_page.n_connectors, "list page: how many");
                        for (size_t i = 0; i < page.n_connectors; i++)
                                require_same_connector(&page.connectors[i], &ref_page.connectors[i],
                                                       "result", i);
                }
        } else if (r == -EBADMSG && ref == 0)
                REQUIRE(!valid || (page_dup && strstr(msg, "is given twice")),
                        "list page: refused ('%s'), the reference accepted", msg);
        cluster_page_done(&page);
        if (ref == 0)
                cluster_page_done(&ref_page);
        msg = mfree(msg);

        /* The document: asked for by the id the reference reads, so that success is reached. */
        ref = tree ? ref_document(tree, &ref_c) : -EBADMSG;
        expected_id = ref == 0 ? ref_c.id : "id";
        r = cluster_decode_connector(buf, size, expected_id, &c, &msg);
        REQUIRE(r == 0 || r == -EBADMSG || r == -ENOMEM, "document: r=%d", r);
        REQUIRE(r != -EBADMSG || msg, "document: a refusal has a message");
        REQUIRE(r != 0 || valid, "document: accepted though invalid");
        if (r == 0) {
                REQUIRE(ref == 0, "document: accepted, the reference refused");
                require_same_connector(&c, &ref_c, "document", 0);
        } else if (r == -EBADMSG && ref == 0)
                REQUIRE(!valid || (doc_dup && strstr(msg, "is given twice")),
                        "document: refused ('%s'), the reference accepted", msg);
        if (r == 0)
                plan_connector_done(&c);
        if (ref == 0)
                plan_connector_done(&ref_c);

        cJSON_Delete(tree);
        return 0;
}
