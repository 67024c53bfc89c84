/* cluster.c's pure parts: id escaping, versions and the delete parameters each
 * accepts, status -> errno, error bodies into messages, and the decoding of GET /, list pages
 * (whole and as filter_path leaves them), connector documents and sync-job pages from canned
 * bodies (tests/data/cluster/ and inline), and the paging logic that tells a complete listing
 * from one whose pages disagreed. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "tap.h"
#include "util.h"

static char *read_data(const char *name, size_t *ret_size) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char *buf;
        long n;

        assert(asprintf(&path, "%s/tests/data/cluster/%s", getenv("top_srcdir") ?: ".", name) >= 0);
        f = fopen(path, "re");
        if (!f) {
                diag("cannot open %s", path);
                exit(EXIT_FAILURE);
        }
        assert(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        assert(n >= 0);
        rewind(f);
        buf = malloc((size_t) n + 1);
        assert(buf);
        assert(fread(buf, 1, (size_t) n, f) == (size_t) n);
        buf[n] = '\0';
        *ret_size = (size_t) n;
        return buf;
}

static char *mfree_str(char *s) {
        free(s);
        return NULL;
}

static void test_escape(void) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "team-a-hr", "team-a-hr" },
                { "A.b_c~d-9", "A.b_c~d-9" },
                { "a b", "a%20b" },
                { "a/b", "a%2Fb" },
                { "100%", "100%25" },
                { "what?", "what%3F" },
                { "#1", "%231" },
                { "a+b", "a%2Bb" },
                { "é", "%C3%A9" },
                { "✓", "%E2%9C%93" },
                { ":@&=;,'!$()*", "%3A%40%26%3D%3B%2C%27%21%24%28%29%2A" },
                { ".", "%2E" },
                { "..", "%2E%2E" },
                { "...", "%2E%2E%2E" },
                { "a..", "a.." },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = cluster_escape_segment(table[i].in);
                is_str(s, table[i].out, "id '%s' escapes to one segment '%s'", table[i].in, table[i].out);
        }
}

static void test_versions(void) {
        static const struct {
                const char *in;
                int r;
                unsigned major, minor, patch;
        } table[] = {
                { "8.13.4", 0, 8, 13, 4 },     { "9.1.3", 0, 9, 1, 3 },
                { "8.12", 0, 8, 12, 0 },       { "8.15.0-SNAPSHOT", 0, 8, 15, 0 },
                { "10.0.0", 0, 10, 0, 0 },     { "8", -EINVAL, 0, 0, 0 }, /* major.minor at least */
                { "", -EINVAL, 0, 0, 0 },      { "eight", -EINVAL, 0, 0, 0 },
                { "8.x", -EINVAL, 0, 0, 0 },   { "8.13.4.1", -EINVAL, 0, 0, 0 },
                { "8.13 ", -EINVAL, 0, 0, 0 }, { "99999999999.0", -EINVAL, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                unsigned a = 0, b = 0, c = 0;
                int r = cluster_parse_version(table[i].in, &a, &b, &c);

                is_int(r, table[i].r, "version '%s' %s", table[i].in,
                       table[i].r == 0 ? "parses" : "is refused");
                if (r == 0)
                        ok(a == table[i].major && b == table[i].minor && c == table[i].patch,
                           "version '%s' is %u.%u.%u", table[i].in, table[i].major, table[i].minor,
                           table[i].patch);
        }
}

static struct cluster_info info_of(const char *version, const char *flavor) {
        struct cluster_info info = { .version = strdup(version),
                                     .build_flavor = flavor ? strdup(flavor) : NULL };

        assert(info.version && (!flavor || info.build_flavor));
        assert(cluster_parse_version(info.version, &info.major, &info.minor, &info.patch) == 0);
        return info;
}

static void test_check_version(void) {
        static const struct {
                const char *version, *flavor;
                int r;
        } table[] = {
                { "8.11.1", "default", -EOPNOTSUPP },
                { "7.17.20", NULL, -EOPNOTSUPP },
                { "8.12.0", "default", 0 },
                { "8.13.4", "default", 0 },
                { "9.1.3", "default", 0 },
                { "8.11.0", "serverless", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(cluster_info_done) struct cluster_info info =
                        info_of(table[i].version, table[i].flavor);
                _cleanup_free_ char *m = NULL;

                is_int(cluster_check_version(&info, &m), table[i].r, "Elasticsearch %s (%s) %s",
                       table[i].version, strna(table[i].flavor),
                       table[i].r == 0 ? "is accepted" : "is refused");
                if (table[i].r < 0) {
                        _cleanup_free_ char *want = NULL;

                        assert(asprintf(&want,
                                        "Elasticsearch %s is too old: the connector API needs 8.12 or later",
                                        table[i].version) >= 0);
                        is_str(m, want, "and the message says so");
                }
        }
}

static void test_delete_path(void) {
        static const struct {
                const char *version;
                bool dsj, hard;
                const char *path;
                bool by_client;
        } table[] = {
                { "8.12.0", false, false, "/_connector/a%2Fb", false },
                { "8.13.4", false, false, "/_connector/a%2Fb", false },
                { "8.13.4", true, false, "/_connector/a%2Fb", true },
                { "8.13.4", false, true, "/_connector/a%2Fb", false },
                { "8.13.4", true, true, "/_connector/a%2Fb", true },
                { "8.14.0", true, false, "/_connector/a%2Fb?delete_sync_jobs=true", false },
                { "8.19.0", false, false, "/_connector/a%2Fb", false },
                { "8.19.0", true, false, "/_connector/a%2Fb?delete_sync_jobs=true", false },
                { "8.19.0", false, true, "/_connector/a%2Fb", false },
                { "8.19.0", true, true, "/_connector/a%2Fb?delete_sync_jobs=true", false },
                { "9.0.0", false, true, "/_connector/a%2Fb?hard=true", false },
                { "9.1.3", false, false, "/_connector/a%2Fb", false },
                { "9.1.3", true, false, "/_connector/a%2Fb?delete_sync_jobs=true", false },
                { "9.1.3", false, true, "/_connector/a%2Fb?hard=true", false },
                { "9.1.3", true, true, "/_connector/a%2Fb?delete_sync_jobs=true&hard=true", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(cluster_info_done) struct cluster_info info = info_of(table[i].version, NULL);
                _cleanup_free_ char *path = NULL;
                bool by_client = !table[i].by_client;

                is_int(cluster_delete_path(&info, "a/b", table[i].dsj, table[i].hard, &path, &by_client), 0,
                       "%s delete_sync_jobs=%s hard=%s: builds", table[i].version, yes_no(table[i].dsj),
                       yes_no(table[i].hard));
                is_str(path, table[i].path, "%s delete_sync_jobs=%s hard=%s: %s", table[i].version,
                       yes_no(table[i].dsj), yes_no(table[i].hard), table[i].path);
                is_int(by_client, table[i].by_client, "%s delete_sync_jobs=%s: the client %s the sync jobs",
                       table[i].version, yes_no(table[i].dsj), table[i].by_client ? "deletes" : "leaves");
        }
}

static void test_status(void) {
        static const struct {
                int status, error;
        } table[] = {
                { 200, 0 },          { 201, 0 },       { 301, -EREMCHG },   { 400, -EINVAL },
                { 401, -EACCES },    { 403, -EPERM },  { 404, -ENOENT },    { 405, -EOPNOTSUPP },
                { 409, -EBUSY },     { 418, -EPROTO }, { 429, -EBUSY },     { 500, -EREMOTEIO },
                { 502, -EREMOTEIO }, { 503, -EAGAIN }, { 504, -ETIMEDOUT },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                is_int(cluster_status_to_errno(table[i].status), table[i].error, "status %d is errno %d",
                       table[i].status, table[i].error);
}

static void test_errors(void) {
        static const struct {
                int status;
                const char *file, *body;
                const char *type, *message;
        } table[] = {
                { 401, "error-401.json", NULL, "security_exception",
                  "401 security_exception: unable to authenticate user [x] for REST request [/_connector]" },
                { 404, "error-404.json", NULL, "resource_not_found_exception",
                  "404 resource_not_found_exception: connector [nope] not found" },
                { 405, "error-405.json", NULL, NULL,
                  "405 Incorrect HTTP method for uri [/_connector/x] and method [POST], allowed: [GET, "
                  "DELETE, PUT]" },
                { 400, "error-window.json", NULL, "search_phase_execution_exception",
                  "400 search_phase_execution_exception: all shards failed (root cause: "
                  "illegal_argument_exception: "
                  "Result window is too large, from + size must be less than or equal to: [10000] but was "
                  "[10100]. "
                  "See the scroll api for a more efficient way to request large data sets. This limit can "
                  "be set "
                  "by changing the [index.max_result_window] index level setting.)" },
                { 502, "page-html.txt", NULL, NULL, "502 <html>" },
                { 503, NULL, "", NULL, "503 Service Unavailable" },
                { 500, NULL, "\n\nsecond line", NULL, "500 Internal Server Error" },
                { 429, NULL,
                  "{\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"rejected\\u001b["
                  "31m\\nnext\"},\"status\":429}",
                  "es_rejected_execution_exception",
                  "429 es_rejected_execution_exception: rejected\\x1b[31m\\nnext" },
                { 400, NULL,
                  "{\"error\":{\"root_cause\":[{\"type\":\"x_exception\",\"reason\":\"only the "
                  "root\"}]},\"status\":400}",
                  "x_exception", "400 x_exception: only the root" },
                { 400, NULL,
                  "{\"error\":{\"type\":\"a\",\"caused_by\":{\"type\":\"b\",\"reason\":\"deeper\"}}}", "a",
                  "400 a (root cause: b: deeper)" },
                { 418, NULL, "{\"error\": 42}", NULL, "418 {\"error\": 42}" },
                { 500, NULL, "plain text\x01 with a control char\nand a second line", NULL,
                  "500 plain text\\x01 with a control char" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *buf = NULL, *type = NULL, *m = NULL;
                const char *body = table[i].body;
                size_t size = body ? strlen(body) : 0;

                if (table[i].file)
                        body = buf = read_data(table[i].file, &size);

                is_int(cluster_decode_error(table[i].status, body, size, &type, &m), 0,
                       "error body #%zu decodes", i);
                is_str(type, table[i].type, "error body #%zu: type", i);
                is_str(m, table[i].message, "error body #%zu: message", i);
        }

        /* A long non-JSON body is cut to its first 200 bytes. */
        _cleanup_free_ char *big = malloc(5001), *type = NULL, *m = NULL;
        assert(big);
        memset(big, 'x', 5000);
        big[5000] = '\0';
        assert(cluster_decode_error(500, big, 5000, &type, &m) == 0);
        ok(m && strlen(m) == 4 + 200 + 3 && strcmp(m + strlen(m) - 3, "...") == 0,
           "a long body is cut to 200 bytes and ends in '...'");
}

static void test_list_pages(void) {
        static const struct {
                const char *file;
                int r;
                const char *message_part;
        } bad[] = {
                { "page-huge-count.json", -EBADMSG, "'count' is not a non-negative integer" },
                { "page-count-2-53.json", -EBADMSG, "'count' is not a non-negative integer" },
                { "page-count-negative.json", -EBADMSG, "'count' is not a non-negative integer" },
                { "page-count-fraction.json", -EBADMSG, "'count' is not a non-negative integer" },
                { "page-count-string.json", -EBADMSG, "'count' is not a non-negative integer" },
                { "page-count-missing.json", -EBADMSG, "no 'count'" },
                { "page-results-object.json", -EBADMSG, "'results' is not an array" },
                { "page-result-not-object.json", -EBADMSG, "results[1]: is not an object" },
                { "page-id-missing.json", -EBADMSG, "results[1]: has no 'id'" },
                { "page-id-number.json", -EBADMSG, "results[0]: 'id' is not a string" },
                { "page-id-nul.json", -EBADMSG, "NUL" },
                { "page-name-number.json", -EBADMSG, "results[0]: 'name' is not a string" },
                { "page-deleted-string.json", -EBADMSG, "results[0]: 'deleted' is not a boolean" },
                { "page-truncated.json", -EBADMSG, "not valid JSON" },
                { "page-trailing-garbage.json", -EBADMSG, "data after" },
                { "page-not-object.json", -EBADMSG, "not a JSON object" },
                { "page-html.txt", -EBADMSG, "not valid JSON" },
        };
        struct cluster_page page = {};
        _cleanup_free_ char *body = NULL, *m = NULL;
        size_t size;

        body = read_data("page-mixed.json", &size);
        is_int(cluster_decode_list_page(body, size, &page, &m), 0,
               "a page with nulls, missing fields, 9.x 'deleted' and non-ASCII decodes");
        is_int((intmax_t) page.count, 5, "count 5");
        is_int((intmax_t) page.n_connectors, 5, "5 connectors");
        is_str(page.connectors[0].id, "team-a-hr", "a full document: id");
        is_str(page.connectors[0].name, "HR drive", "a full document: name");
        is_str(page.connectors[0].service_type, "google_drive", "a full document: service_type");
        is_str(page.connectors[0].index_name, "search-a-hr", "a full document: index_name");
        ok(!page.connectors[0].deleted, "a full document: deleted false");
        ok(!page.connectors[1].name && !page.connectors[1].service_type && !page.connectors[1].index_name &&
                   !page.connectors[1].deleted,
           "nulls decode as NULL / false");
        ok(!page.connectors[2].name && !page.connectors[2].service_type && !page.connectors[2].index_name &&
                   !page.connectors[2].deleted,
           "missing fields decode as NULL / false");
        ok(page.connectors[3].deleted, "a 9.x 'deleted: true' is decoded");
        is_str(page.connectors[4].id, "ünï/cødé ✓", "a UTF-8 id arrives byte for byte");
        is_str(page.connectors[4].name, "Prüfung é漢字", "a UTF-8 name arrives byte for byte");
        cluster_page_done(&page);
        free(body);

        body = read_data("page-escaped.json", &size);
        is_int(cluster_decode_list_page(body, size, &page, &m), 0, "a page with \\u escapes decodes");
        is_str(page.connectors[0].id, "café \xF0\x9F\x98\x80", "\\u00e9 and a surrogate pair become UTF-8");
        is_str(page.connectors[0].name, "tab\there", "\\t is a tab");
        is_str(page.connectors[0].index_name, "a/b", "\\/ is a slash");
        cluster_page_done(&page);
        free(body);

        body = read_data("page-empty.json", &size);
        is_int(cluster_decode_list_page(body, size, &page, &m), 0, "an empty page decodes");
        ok(page.count == 0 && page.n_connectors == 0, "count 0, no connectors");
        cluster_page_done(&page);
        free(body);
        body = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = read_data(bad[i].file, &size), *msg = NULL;

                is_int(cluster_decode_list_page(b, size, &page, &msg), bad[i].r, "%s is refused",
                       bad[i].file);
                ok(msg && strstr(msg, bad[i].message_part), "%s: the message says '%s' ('%s')", bad[i].file,
                   bad[i].message_part, strna(msg));
        }

        is_int(cluster_decode_list_page("", 0, &page, &m), -EBADMSG, "an empty body is refused");
        is_int(cluster_decode_list_page("{\"count\":0,\"results\":[]}\0x", 26, &page, &m), -EBADMSG,
               "a raw NUL byte in the body is refused");

        /* Filtered by filter_path, Elasticsearch leaves an empty 'results' out: an empty page. */
        body = read_data("page-results-missing.json", &size);
        is_int(cluster_decode_list_page(body, size, &page, &m), 0, "a page without 'results' decodes");
        ok(page.count == 1 && page.n_connectors == 0 && page.connectors,
           "as count 1 and no connectors (got count %" PRIu64 ", %zu connectors)", page.count,
           page.n_connectors);
        cluster_page_done(&page);
        free(body);
        body = NULL;
}

/* Bodies as Elasticsearch sends them filtered by CLUSTER_LIST_FILTER_PATH, and the cases only a
 * reader that picks members out of the stream can get wrong. */
static void test_list_pages_filtered(void) {
        static const struct {
                const char *body;
                const char *message_part;
        } bad[] = {
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"id\":\"b\"}]}",
                  "results[0]: 'id' is given twice" },
                { "{\"count\":2,\"results\":[{\"id\":\"a\"},{\"id\":\"b\",\"deleted\":false,\"deleted\":"
                  "true}]}",
                  "results[1]: 'deleted' is given twice" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"index_name\":null,\"index_name\":\"x\"}]}",
                  "results[0]: 'index_name' is given twice" },
                { "{\"count\":1,\"count\":1,\"results\":[]}", "The response's 'count' is given twice" },
                { "{\"count\":0,\"results\":[],\"results\":[]}", "The response's 'results' is given twice" },
                { "{\"count\":0,\"results\":null}", "The response's 'results' is not an array" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"index_name\":[\"x\"]}]}",
                  "results[0]: 'index_name' is not a string" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"service_type\":true}]}",
                  "results[0]: 'service_type' is not a string" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"deleted\":0}]}",
                  "results[0]: 'deleted' is not a boolean" },
                { "{\"count\":1,\"results\":[[]]}", "results[0]: is not an object" },
                { "{\"count\":\"1\",\"results\":[]}", "'count' is not a non-negative integer" },
                { "{\"count\":-1,\"results\":[]}", "'count' is not a non-negative integer" },
                { "{\"results\":[]}", "The response has no 'count'" },
                /* Names escaped are the same names. */
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"\\u0069d\":\"b\"}]}",
                  "results[0]: 'id' is given twice" },
                /* The JSON is checked whole before what it says: a later syntax error wins. */
                { "{\"count\":1,\"results\":[{\"id\":7}], \"x\": [1,]}",
                  "not valid JSON (at byte 41: an unexpected character)" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\",\"id\":\"b\"}]} x", "data after its JSON value" },
                /* What a cJSON tree let through: refused now. */
                { "{\"count\":1,\"results\":[{\"id\":\"a\\uZZZZ\"}]}", "an invalid escape" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\tb\"}]}", "a control character in a string" },
                { "{\"count\":1,\"results\":[{\"id\":\"a\xff\"}]}", "invalid UTF-8" },
                { "{\"count\":01,\"results\":[]}", "a malformed number" },
                { "\xef\xbb\xbf{\"count\":0,\"results\":[]}", "not valid JSON (at byte 0" },
                { "{\"count\":0,\f\"results\":[]}", "not valid JSON (at byte 11" },
        };
        struct cluster_page page = {};
        _cleanup_free_ char *m = NULL;
        const char *body;

        body = "{\"count\":3,\"results\":[{\"id\":\"team-a-hr\",\"name\":\"HR drive\",\"service_type\":"
               "\"google_drive\",\"index_name\":\"search-a-hr\",\"deleted\":false},{\"id\":\"nulls\","
               "\"name\":null,\"service_type\":null,\"index_name\":null,\"deleted\":true},{\"id\":\"only-"
               "id\"}]}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, &m), 0, "a filtered page decodes");
        is_int((intmax_t) page.count, 3, "filtered: count 3");
        is_int((intmax_t) page.n_connectors, 3, "filtered: 3 connectors");
        is_str(page.connectors[0].id, "team-a-hr", "filtered: id");
        is_str(page.connectors[0].name, "HR drive", "filtered: name");
        is_str(page.connectors[0].service_type, "google_drive", "filtered: service_type");
        is_str(page.connectors[0].index_name, "search-a-hr", "filtered: index_name");
        ok(!page.connectors[0].deleted && page.connectors[1].deleted, "filtered: deleted false, then true");
        ok(!page.connectors[1].name && !page.connectors[1].service_type && !page.connectors[1].index_name,
           "filtered: nulls decode as NULL");
        ok(!page.connectors[2].name && !page.connectors[2].index_name && !page.connectors[2].deleted,
           "filtered: an id alone decodes");
        cluster_page_done(&page);

        body = "{\"count\":0}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, &m), 0, "a filtered empty page decodes");
        ok(page.count == 0 && page.n_connectors == 0, "as count 0 and no connectors");
        cluster_page_done(&page);

        /* Members of the same names deeper down, or outside 'results', are not the connector's. */
        body = "{\"took\":{\"count\":\"x\",\"results\":5},\"results\":[{\"configuration\":{\"id\":\"deep\","
               "\"id\":\"twice\",\"deleted\":\"no\"},\"filtering\":[{\"id\":\"DEFAULT\",\"name\":7}],\"id\":"
               "\"top\","
               "\"pipeline\":{\"name\":\"pipe\"}}],\"count\":1,\"id\":\"not-a-connector\"}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, &m), 0,
               "a page with same-named members deeper down decodes");
        ok(page.count == 1 && page.n_connectors == 1, "count after results: 1 connector");
        is_str(page.connectors[0].id, "top", "the connector's own id, not a nested one");
        ok(!page.connectors[0].name && !page.connectors[0].deleted, "nested name and deleted are not taken");
        cluster_page_done(&page);

        /* Escaped names are the names, as cJSON compared them. */
        body = "{\"c\\u006funt\":1,\"results\":[{\"\\u0069\\u0064\":\"x\\\"y\",\"n\\u0061me\":\"\\u00e9\"}]"
               "}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, &m), 0, "escaped member names decode");
        ok(page.count == 1 && page.n_connectors == 1, "escaped 'count' is the count");
        is_str(page.connectors[0].id, "x\"y", "escaped 'id' is the id");
        is_str(page.connectors[0].name, "\xc3\xa9", "escaped 'name' is the name");
        cluster_page_done(&page);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *msg = NULL;

                is_int(cluster_decode_list_page(bad[i].body, strlen(bad[i].body), &page, &msg), -EBADMSG,
                       "bad filtered page #%zu is refused", i);
                ok(msg && strstr(msg, bad[i].message_part),
                   "bad filtered page #%zu: the message says '%s' ('%s')", i, bad[i].message_part,
                   strna(msg));
        }

        /* A page whose 'results' is missing while 'count' says there are connectors: the listing is
         * incomplete, not silently short. */
        _cleanup_(cluster_lister_freep) struct cluster_lister *l = NULL;
        _cleanup_(cluster_listing_freep) struct cluster_listing *listing = NULL;
        uint64_t from = 0;
        unsigned size = 0;

        assert(cluster_lister_new(&l, 2, 10000) == 0);
        assert(cluster_lister_next(l, &from, &size, NULL) == 1);
        body = "{\"count\":3,\"results\":[{\"id\":\"a\"},{\"id\":\"b\"}]}";
        assert(cluster_decode_list_page(body, strlen(body), &page, NULL) == 0);
        assert(cluster_lister_add(l, &page) == 0);
        is_int(cluster_lister_next(l, &from, &size, NULL), 1, "count 3 in pages of 2: a second page");
        body = "{\"count\":3}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, NULL), 0,
               "which comes without 'results'");
        assert(cluster_lister_add(l, &page) == 0);
        is_int(cluster_lister_next(l, &from, &size, NULL), 0, "and is the last");
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(!listing->complete, "the listing is incomplete");
        ok(listing->incomplete_reason &&
                   strstr(listing->incomplete_reason,
                          "the page at from=2 held 0 connectors where 1 were expected"),
           "and says the page came up short ('%s')", strna(listing->incomplete_reason));
        is_int((intmax_t) listing->n_connectors, 2, "with what did arrive");
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* The same where the count is only a lower bound (10,000) and the window goes past it: the
         * page without 'results' is short, which ends the paging, and fewer than the count
         * arrived. */
        assert(cluster_lister_new(&l, 5000, 20000) == 0);
        assert(cluster_lister_next(l, &from, &size, NULL) == 1);
        struct cluster_page full = { .count = CLUSTER_TOTAL_HITS_EXACT_MAX,
                                     .connectors = calloc(5000, sizeof(struct plan_connector)) };
        assert(full.connectors);
        for (unsigned i = 0; i < 5000; i++)
                assert(asprintf(&full.connectors[full.n_connectors++].id, "c%06u", i) >= 0);
        assert(cluster_lister_add(l, &full) == 0);
        is_int(cluster_lister_next(l, &from, &size, NULL), 1, "count 10000 in pages of 5000: a second page");
        body = "{\"count\":10000}";
        is_int(cluster_decode_list_page(body, strlen(body), &page, NULL), 0,
               "which comes without 'results'");
        assert(cluster_lister_add(l, &page) == 0);
        is_int(cluster_lister_next(l, &from, &size, NULL), 0, "a short page: the last");
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(!listing->complete && listing->incomplete_reason &&
                   strstr(listing->incomplete_reason,
                          "5000 distinct connectors arrived where the count says 10000"),
           "incomplete, fewer than the count ('%s')", strna(listing->incomplete_reason));
}

static void test_documents(void) {
        struct plan_connector c = {};
        _cleanup_free_ char *body = NULL, *m = NULL;
        size_t size;

        body = read_data("connector-full.json", &size);
        is_int(cluster_decode_connector(body, size, "team-a-hr", &c, &m), 0,
               "a full connector document decodes");
        is_str(c.id, "team-a-hr", "its id");
        is_str(c.service_type, "google_drive", "its service_type");
        plan_connector_done(&c);

        is_int(cluster_decode_connector(body, size, "someone-else", &c, &m), -EBADMSG,
               "a document for another id is refused");
        ok(m && strstr(m, "not the one asked for"), "and the message says so");

        /* Only that connector's document may become its backup. */
        is_int(cluster_decode_connector("{\"name\":\"x\"}", 12, "given", &c, &m), -EBADMSG,
               "a document without an id is refused");
        is_str(m, "The document has no 'id'", "and the message says so");

        m = mfree_str(m);
        is_int(cluster_decode_connector("[]", 2, "x", &c, &m), -EBADMSG,
               "a document that is not an object is refused");
        is_str(m, "The document is not a JSON object", "and the message says so");
}

/* Bodies a 2xx may carry that are not a connector's document: each is refused, saying why. */
static void test_documents_not_connectors(void) {
#define BASE "\"is_native\":false,\"status\":\"created\",\"sync_now\":false"
        static const struct {
                const char *name;
                const char *body;
                const char *message; /* NULL: accepted */
        } cases[] = {
                { "the least document Elasticsearch stores", "{\"id\":\"x\"," BASE "}", NULL },
                { "a connector in error: 'error' is its message",
                  "{\"id\":\"x\",\"error\":\"Sync failed\"," BASE "}", NULL },
                { "'error' null", "{\"id\":\"x\",\"error\":null," BASE "}", NULL },
                { "an empty object", "{}", "The document has no 'id'" },
                { "Elasticsearch's error envelope with a 200",
                  "{\"error\":{\"root_cause\":[{\"type\":\"illegal_state_exception\",\"reason\":\"proxy "
                  "says hi\"}],"
                  "\"type\":\"illegal_state_exception\",\"reason\":\"proxy says hi\"},\"status\":200}",
                  "The document's 'error' is neither a string nor null: an error, not a connector" },
                { "the envelope with the id asked for",
                  "{\"id\":\"x\",\"error\":{\"type\":\"t\",\"reason\":\"r\"}," BASE "}",
                  "The document's 'error' is neither a string nor null: an error, not a connector" },
                { "the short error form with the id and a numeric status",
                  "{\"id\":\"x\",\"error\":\"no "
                  "handler\",\"status\":400,\"is_native\":false,\"sync_now\":false}",
                  "The document's 'status' is not a string, as every connector's is" },
                { "an id alone", "{\"id\":\"x\"}",
                  "The document has no 'is_native', which every connector has" },
                { "no status", "{\"id\":\"x\",\"is_native\":false,\"sync_now\":false}",
                  "The document has no 'status', which every connector has" },
                { "no sync_now", "{\"id\":\"x\",\"is_native\":false,\"status\":\"created\"}",
                  "The document has no 'sync_now', which every connector has" },
                { "is_native not a boolean",
                  "{\"id\":\"x\",\"is_native\":\"no\",\"status\":\"created\",\"sync_now\":false}",
                  "The document's 'is_native' is not a boolean, as every connector's is" },
                { "status null", "{\"id\":\"x\",\"is_native\":true,\"status\":null,\"sync_now\":false}",
                  "The document's 'status' is not a string, as every connector's is" },
                { "a list page", "{\"count\":1,\"results\":[{\"id\":\"x\"," BASE "}]}",
                  "The document has no 'id'" },
                { "another connector", "{\"id\":\"y\"," BASE "}",
                  "The document's id is 'y', not the one asked for" },
                { "the id with a trailing space", "{\"id\":\"x \"," BASE "}",
                  "The document's id is 'x ', not the one asked for" },
                { "a DELETE's answer", "{\"acknowledged\":true}", "The document has no 'id'" },
        };
#undef BASE

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct plan_connector c = {};
                _cleanup_free_ char *m = NULL;
                int r = cluster_decode_connector(cases[i].body, strlen(cases[i].body), "x", &c, &m);

                if (!cases[i].message) {
                        is_int(r, 0, "document, %s: accepted", cases[i].name);
                        is_str(c.id, "x", "document, %s: its id", cases[i].name);
                } else {
                        is_int(r, -EBADMSG, "document, %s: refused", cases[i].name);
                        is_str(m, cases[i].message, "document, %s: the message", cases[i].name);
                }
                plan_connector_done(&c);
        }
}

/* The answer to a DELETE: acknowledged, or not done. */
static void test_acknowledged(void) {
        static const struct {
                const char *body;
                const char *message; /* NULL: acknowledged */
        } cases[] = {
                { "{\"acknowledged\":true}", NULL },
                { "{\"acknowledged\": true, \"extra\": [1]}", NULL },
                { "{}", "The response has no 'acknowledged': true" },
                { "{\"acknowledged\":false}", "The response does not say 'acknowledged': true" },
                { "{\"acknowledged\":\"true\"}", "The response does not say 'acknowledged': true" },
                { "{\"acknowledged\":true,\"acknowledged\":false}",
                  "The response's 'acknowledged' is given twice" },
                { "{\"result\":\"deleted\"}", "The response has no 'acknowledged': true" },
                { "{\"acknowledged\":[]}", "The response does not say 'acknowledged': true" },
                { "{\"acknowledged\":[true]}", "The response does not say 'acknowledged': true" },
                { "{\"acknowledged\":{\"acknowledged\":true}}",
                  "The response does not say 'acknowledged': true" },
                { "{\"acknowledged\":[true],\"acknowledged\":true}",
                  "The response's 'acknowledged' is given twice" },
                { "{\"acknowledged\":[true}", "not valid JSON" },
                { "[true]", "The response is not a JSON object" },
                { "", "The response body is empty" },
                { "<html>OK</html>", "not valid JSON" },
                { "{\"acknowledged\":true} x", "data after its JSON value" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *m = NULL;
                int r = cluster_decode_acknowledged(cases[i].body, strlen(cases[i].body), &m);

                if (!cases[i].message)
                        is_int(r, 0, "DELETE answer '%s': acknowledged", cases[i].body);
                else {
                        is_int(r, -EBADMSG, "DELETE answer '%s': not acknowledged", cases[i].body);
                        ok(m && strstr(m, cases[i].message), "DELETE answer '%s': says '%s'", cases[i].body,
                           cases[i].message);
                }
        }
}

/* The answer to a PUT of a connector or of an update endpoint: its "result", once, a string. */
static void test_put_result(void) {
        static const struct {
                const char *body;
                const char *result;  /* NULL: refused */
                const char *message; /* part of the reason, when refused */
        } cases[] = {
                { "{\"result\":\"updated\"}", "updated", NULL },
                { "{\"id\":\"c\",\"result\":\"created\"}", "created", NULL },
                { "{\"result\":\"noop\",\"x\":{\"y\":[1,{}]}}", "noop", NULL },
                { "{}", NULL, "The response has no 'result'" },
                { "{\"acknowledged\":true}", NULL, "The response has no 'result'" },
                { "{\"result\":true}", NULL, "'result' is not a string" },
                { "{\"result\":[\"updated\"]}", NULL, "'result' is not a string" },
                { "{\"result\":\"updated\",\"result\":\"updated\"}", NULL, "'result' is given twice" },
                { "[]", NULL, "not a JSON object" },
                { "{\"result\":\"updated\"", NULL, "" },
                { "", NULL, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *m = NULL, *result = NULL;
                int r = cluster_decode_put_result(cases[i].body, strlen(cases[i].body), &result, &m);

                if (cases[i].result) {
                        is_int(r, 0, "PUT answer '%s': decoded", cases[i].body);
                        is_str(result, cases[i].result, "PUT answer '%s': result", cases[i].body);
                } else {
                        is_int(r, -EBADMSG, "PUT answer '%s': refused", cases[i].body);
                        ok(m && strstr(m, cases[i].message), "PUT answer '%s': says '%s' ('%s')",
                           cases[i].body, cases[i].message, strna(m));
                        ok(!result, "PUT answer '%s': no result", cases[i].body);
                }
        }
}

/* The document read for a backup: checked whole, its top-level members only. */
static void test_documents_scan(void) {
        static const struct {
                const char *body;
                const char *message_part;
        } bad[] = {
                { "{\"id\":\"x\",\"id\":\"x\"}", "The document's 'id' is given twice" },
                { "{\"id\":\"x\",\"name\":1}", "The document's 'name' is not a string" },
                { "{\"id\":\"x\",\"deleted\":\"yes\"}", "The document's 'deleted' is not a boolean" },
                { "{\"id\":\"y\"}", "The document's id is 'y', not the one asked for" },
                { "{\"id\":\"x\",\"description\":\"a\\u0000b\"}", "The response holds a NUL character" },
                { "{\"id\":\"x\",\"description\":\"\\ud800\"}", "half a surrogate pair" },
                { "{\"id\":\"x\",\"configuration\":{\"a\":{\"value\":1.}}}", "a malformed number" },
                { "{\"id\":\"x\",\"configuration\":{\"a\":[1 2]}}", "an unexpected character" },
                { "{\"id\":\"x\"", "the data ends inside the value" },
                { "{\"id\":\"x\"}\n\n{}", "data after its JSON value" },
                { "\"x\"", "The document is not a JSON object" },
                { "  ", "not valid JSON (at byte 2: the data ends inside the value)" },
        };
        struct plan_connector c = {};
        _cleanup_free_ char *deep = NULL;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *m = NULL;

                is_int(cluster_decode_connector(bad[i].body, strlen(bad[i].body), "x", &c, &m), -EBADMSG,
                       "bad document #%zu is refused", i);
                ok(m && strstr(m, bad[i].message_part), "bad document #%zu: the message says '%s' ('%s')", i,
                   bad[i].message_part, strna(m));
        }

        /* Nesting: the document's object and 999 arrays inside it are 1000 levels, the limit. */
        for (unsigned levels = 999; levels <= 1000; levels++) {
                _cleanup_free_ char *m = NULL;
                char *p;
                int r;

                n = strlen("{\"id\":\"x\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false,"
                           "\"a\":}") +
                    2 * levels;
                deep = malloc(n + 1);
                assert(deep);
                p = stpcpy(deep, "{\"id\":\"x\",\"is_native\":false,\"status\":\"created\",\"sync_now\":"
                                 "false,\"a\":");
                memset(p, '[', levels);
                memset(p + levels, ']', levels);
                strcpy(p + 2 * levels, "}");

                r = cluster_decode_connector(deep, n, "x", &c, &m);
                if (levels == 999) {
                        is_int(r, 0, "1000 levels of nesting decode");
                        is_str(c.id, "x", "and give the id");
                        plan_connector_done(&c);
                } else {
                        is_int(r, -EBADMSG, "1001 levels of nesting are refused");
                        is_str(m, "The response nests more than 1000 arrays and objects (at byte 1067)",
                               "and the message says where");
                }
                deep = mfree_str(deep);
        }

        /* The document as the benchmark's connectors look, escapes and all. */
        const char *body =
                "{\"api_key_id\":null,\"configuration\":{\"id\":{\"value\":\"nested\"}},"
                "\"custom_scheduling\":{},\"description\":\"tab\\there \\\"quoted\\\" \\ud83d\\ude00\","
                "\"features\":{\"incremental_sync\":{\"enabled\":true}},\"id\":\"caf\\u00e9\","
                "\"index_name\":\"search-\\/x\",\"last_seen\":-1.5e-3,\"name\":\"\",\"deleted\":null,"
                "\"is_native\":false,\"status\":\"connected\",\"sync_now\":false}";
        _cleanup_free_ char *m = NULL;

        is_int(cluster_decode_connector(body, strlen(body), "caf\xc3\xa9", &c, &m), 0,
               "a document with escapes and nested ids decodes");
        is_str(c.id, "caf\xc3\xa9", "its id, unescaped, is the one asked for");
        is_str(c.index_name, "search-/x", "\\/ is a slash");
        is_str(c.name, "", "an empty name is an empty string");
        ok(!c.service_type && !c.deleted, "missing service_type, null deleted");
        plan_connector_done(&c);
}

static void test_info(void) {
        struct cluster_info info = {};
        _cleanup_free_ char *body = NULL, *m = NULL;
        size_t size;

        body = read_data("info-8.13.4.json", &size);
        is_int(cluster_decode_info(body, size, &info, &m), 0, "GET / of 8.13.4 decodes");
        is_str(info.version, "8.13.4", "version string");
        ok(info.major == 8 && info.minor == 13 && info.patch == 4, "version numbers");
        is_str(info.build_flavor, "default", "build flavor");
        is_str(info.cluster_name, "es", "cluster name");
        is_int(cluster_check_version(&info, &m), 0, "8.13.4 is accepted");
        cluster_info_done(&info);
        free(body);

        body = read_data("info-8.11.1.json", &size);
        is_int(cluster_decode_info(body, size, &info, &m), 0, "GET / of 8.11.1 decodes");
        is_int(cluster_check_version(&info, &m), -EOPNOTSUPP, "8.11.1 is refused");
        is_str(m, "Elasticsearch 8.11.1 is too old: the connector API needs 8.12 or later",
               "with a clear message");
        cluster_info_done(&info);
        free(body);

        body = read_data("info-serverless.json", &size);
        is_int(cluster_decode_info(body, size, &info, &m), 0, "GET / of a serverless project decodes");
        is_int(cluster_check_version(&info, &m), 0, "serverless is accepted despite its 8.11.0");
        cluster_info_done(&info);
        free(body);

        body = read_data("info-no-version.json", &size);
        is_int(cluster_decode_info(body, size, &info, &m), -EBADMSG, "GET / without a version is refused");
        free(body);

        body = read_data("info-bad-version.json", &size);
        is_int(cluster_decode_info(body, size, &info, &m), -EBADMSG,
               "GET / with a version that is not X.Y.Z is refused");
        ok(m && strstr(m, "'eight'"), "and the message quotes it");
}

static void test_sync_jobs(void) {
        _cleanup_(cluster_sync_job_page_done) struct cluster_sync_job_page page = {};
        _cleanup_free_ char *body = NULL, *m = NULL;
        size_t size;

        body = read_data("sync-jobs.json", &size);
        is_int(cluster_decode_sync_job_page(body, size, &page, &m), 0, "a sync-job page decodes");
        is_int((intmax_t) page.count, 3, "count 3");
        is_int((intmax_t) page.n_jobs, 3, "3 jobs");
        is_str(page.jobs[1].id, "job 2/ü", "ids arrive byte for byte");
        is_str(page.jobs[0].connector_id, "c1", "each with its connector's id");
        ok(page.jobs[2].offset > 0 && page.jobs[2].offset + page.jobs[2].size < size &&
                   body[page.jobs[2].offset] == '{' &&
                   body[page.jobs[2].offset + page.jobs[2].size - 1] == '}',
           "and where its document is in the body");
        cluster_sync_job_page_done(&page);
        free(body);

        body = read_data("sync-jobs-no-id.json", &size);
        is_int(cluster_decode_sync_job_page(body, size, &page, &m), -EBADMSG,
               "a sync job without an id is refused");

        static const struct {
                const char *body;
                const char *message;
        } bad[] = {
                { "{\"count\":1,\"results\":[{\"id\":\"j\",\"connector\":\"c1\"}]}",
                  "'connector' is not an object" },
                { "{\"count\":1,\"results\":[{\"id\":\"j\",\"connector\":{\"id\":5}}]}",
                  "'connector.id' is not a string" },
                { "{\"count\":1,\"results\":[{\"id\":\"j\",\"id\":\"k\"}]}", "'id' is given twice" },
                { "{\"count\":1}", "The response has no 'results'" },
                { "{\"results\":[]}", "The response has no 'count'" },
                { "{\"count\":1,\"results\":[1]}", "results[0]: is not an object" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cluster_sync_job_page p = {};
                _cleanup_free_ char *msg = NULL;

                is_int(cluster_decode_sync_job_page(bad[i].body, strlen(bad[i].body), &p, &msg), -EBADMSG,
                       "sync-job page '%s' is refused", bad[i].body);
                ok(msg && strstr(msg, bad[i].message), "sync-job page '%s': says '%s'", bad[i].body,
                   bad[i].message);
        }

        /* A job without a connector, or of another one, decodes: the client leaves it out. */
        static const char other[] = "{\"count\":2,\"results\":[{\"id\":\"j1\",\"connector\":null},{\"id\":"
                                    "\"j2\",\"connector\":{\"id\":\"c9\"}}]}";
        is_int(cluster_decode_sync_job_page(other, strlen(other), &page, &m), 0,
               "jobs without a connector, or of another one, decode");
        ok(page.n_jobs == 2 && !page.jobs[0].connector_id && streq(page.jobs[1].connector_id, "c9"),
           "with their connector as it is (none, c9)");
}

/* Feeds a page of connectors named by 'ids' (a space-separated list; a name "id=name" sets the
 * connector's name too) with the given count. */
static void feed(struct cluster_lister *l, uint64_t count, const char *ids) {
        struct cluster_page page = { .count = count };
        _cleanup_free_ char *copy = strdup(ids);
        char *save = NULL;

        page.connectors = calloc(64, sizeof(struct plan_connector));
        assert(page.connectors && copy);
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                char *eq = strchr(t, '=');
                struct plan_connector *c = &page.connectors[page.n_connectors++];

                if (eq) {
                        *eq = '\0';
                        c->name = strdup(eq + 1);
                }
                c->id = strdup(t);
        }
        assert(cluster_lister_add(l, &page) == 0);
        ok(page.n_connectors == 0 && !page.connectors, "the lister takes the page's connectors");
}

/* Feeds a page of n connectors named c<first>, c<first+1>, ... with the given count. */
static void feed_many(struct cluster_lister *l, uint64_t count, unsigned first, unsigned n) {
        struct cluster_page page = { .count = count };

        page.connectors = calloc(MAX(n, 1u), sizeof(struct plan_connector));
        assert(page.connectors);
        for (unsigned i = 0; i < n; i++)
                assert(asprintf(&page.connectors[page.n_connectors++].id, "c%06u", first + i) >= 0);
        assert(cluster_lister_add(l, &page) == 0);
}

static void expect_next(struct cluster_lister *l, int want, uint64_t from, unsigned size) {
        uint64_t f = 0;
        unsigned s = 0;
        _cleanup_free_ char *m = NULL;
        int r = cluster_lister_next(l, &f, &s, &m);

        if (want > 0)
                ok(r == 1 && f == from && s == size,
                   "next page: from=%" PRIu64 " size=%u (got %d %" PRIu64 " %u)", from, size, r, f, s);
        else
                is_int(r, want, "next: %d", want);
}

static void test_lister(void) {
        _cleanup_(cluster_lister_freep) struct cluster_lister *l = NULL;
        _cleanup_(cluster_listing_freep) struct cluster_listing *listing = NULL;
        _cleanup_free_ char *m = NULL;
        uint64_t f;
        unsigned s;

        /* Five connectors in pages of two, sorted by id in the result. */
        assert(cluster_lister_new(&l, 2, 10000) == 0);
        expect_next(l, 1, 0, 2);
        feed(l, 5, "e c");
        expect_next(l, 1, 2, 2);
        feed(l, 5, "a d");
        expect_next(l, 1, 4, 2);
        feed(l, 5, "b");
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(listing->complete && !listing->incomplete_reason, "consistent pages: complete");
        is_int((intmax_t) listing->n_connectors, 5, "5 connectors");
        ok(streq(listing->connectors[0].id, "a") && streq(listing->connectors[4].id, "e"), "sorted by id");
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* A connector seen on two pages (the listing shifted): resolved by id, the later copy wins,
         * and the listing says it is incomplete. */
        assert(cluster_lister_new(&l, 2, 10000) == 0);
        expect_next(l, 1, 0, 2);
        feed(l, 4, "a=old b");
        expect_next(l, 1, 2, 2);
        feed(l, 4, "a=new c");
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        is_int((intmax_t) listing->n_connectors, 3, "a duplicate counts once");
        is_str(listing->connectors[0].name, "new", "the later copy of a duplicate wins");
        ok(!listing->complete, "fewer distinct ids than the count: incomplete");
        ok(listing->incomplete_reason && strstr(listing->incomplete_reason,
                                                "3 distinct connectors arrived where the count says 4"),
           "and the reason says so ('%s')", strna(listing->incomplete_reason));
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* The count changes between pages. */
        assert(cluster_lister_new(&l, 2, 10000) == 0);
        expect_next(l, 1, 0, 2);
        feed(l, 4, "a b");
        expect_next(l, 1, 2, 2);
        feed(l, 3, "c");
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(!listing->complete, "a count that changed: incomplete");
        ok(listing->incomplete_reason && strstr(listing->incomplete_reason, "changed from 4 to 3"),
           "and the reason says so ('%s')", strna(listing->incomplete_reason));
        is_int((intmax_t) listing->count, 3, "the last count is reported");
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* A short page. */
        assert(cluster_lister_new(&l, 3, 10000) == 0);
        expect_next(l, 1, 0, 3);
        feed(l, 3, "a b");
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(!listing->complete &&
                   strstr(strempty(listing->incomplete_reason), "held 2 connectors where 3 were expected"),
           "a short page: incomplete, and says so ('%s')", strna(listing->incomplete_reason));
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* The result window bounds the last page, and a count past it is a plain error. */
        assert(cluster_lister_new(&l, 2, 5) == 0);
        expect_next(l, 1, 0, 2);
        feed(l, 5, "a b");
        expect_next(l, 1, 2, 2);
        feed(l, 5, "c d");
        expect_next(l, 1, 4, 1);
        feed(l, 5, "e");
        expect_next(l, 0, 0, 0);
        l = cluster_lister_free(l);

        assert(cluster_lister_new(&l, 2, 5) == 0);
        expect_next(l, 1, 0, 2);
        feed(l, 6, "a b");
        is_int(cluster_lister_next(l, &f, &s, &m), -EOVERFLOW, "a count past the result window is an error");
        is_str(m,
               "The cluster holds 6 connectors; the list API shows at most 5 (index.max_result_window), "
               "so the listing is incomplete",
               "that says how many there are and how many can be seen");
        l = cluster_lister_free(l);

        /* A count at Elasticsearch's exact-count limit means "at least": with the default window
         * nothing more can be seen, a plain error after the first page. */
        assert(cluster_lister_new(&l, 100, CLUSTER_MAX_RESULT_WINDOW_DEFAULT) == 0);
        expect_next(l, 1, 0, 100);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 0, 100);
        m = mfree_str(m);
        is_int(cluster_lister_next(l, &f, &s, &m), -EOVERFLOW,
               "a count of 10000 under a window of 10000 is an error");
        is_str(m,
               "The cluster holds at least 10000 connectors (Elasticsearch counts no further); the list API "
               "shows at most 10000 (index.max_result_window), so the listing is incomplete",
               "that says there may be more than can be seen");
        l = cluster_lister_free(l);

        /* With a larger window, paging goes on past the count until a short page. */
        assert(cluster_lister_new(&l, 5000, 20000) == 0);
        expect_next(l, 1, 0, 5000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 0, 5000);
        expect_next(l, 1, 5000, 5000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 5000, 5000);
        expect_next(l, 1, 10000, 5000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 10000, 5000);
        expect_next(l, 1, 15000, 5000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 15000, 1234);
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        is_int((intmax_t) listing->n_connectors, 16234, "a short page ends it: 16234 listed");
        ok(listing->complete, "more than the (lower-bound) count is no disagreement");
        listing = cluster_listing_free(listing);
        l = cluster_lister_free(l);

        /* ... and full pages up to that window are the error again. */
        assert(cluster_lister_new(&l, 10000, 20000) == 0);
        expect_next(l, 1, 0, 10000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 0, 10000);
        expect_next(l, 1, 10000, 10000);
        feed_many(l, CLUSTER_TOTAL_HITS_EXACT_MAX, 10000, 10000);
        m = mfree_str(m);
        is_int(cluster_lister_next(l, &f, &s, &m), -EOVERFLOW,
               "full pages up to a window of 20000: an error");
        ok(m && strstr(m, "more than 20000 connectors"), "that says so ('%s')", strna(m));
        l = cluster_lister_free(l);

        /* No connectors at all. */
        assert(cluster_lister_new(&l, 100, 10000) == 0);
        expect_next(l, 1, 0, 100);
        feed(l, 0, "");
        expect_next(l, 0, 0, 0);
        assert(cluster_lister_finish(l, &listing) == 0);
        ok(listing->complete && listing->n_connectors == 0, "an empty cluster: complete, nothing listed");
}

int main(void) {
        test_escape();
        test_versions();
        test_check_version();
        test_delete_path();
        test_status();
        test_errors();
        test_list_pages();
        test_list_pages_filtered();
        test_documents();
        test_documents_scan();
        test_documents_not_connectors();
        test_acknowledged();
        test_put_result();
        test_info();
        test_sync_jobs();
        test_lister();
        return done();
}
