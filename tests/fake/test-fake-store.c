/* Unit tests of the fake cluster's pure parts: helpers, response filtering, the store (and its
 * list order after writes), fault rules and the Elasticsearch behaviour of fake-api (driven
 * without HTTP). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-api.h"
#include "fake-fault.h"
#include "fake-filter.h"
#include "fake-store.h"
#include "fake-util.h"
#include "tap.h"
#include "util.h"

static void test_url_decode(void) {
        char *out = NULL, *err = NULL;

        ok(es_url_decode("a%2Fb", 5, false, &out, NULL) == 0 && streq(out, "a/b"),
           "%%2F decodes to a slash");
        free(out);
        ok(es_url_decode("a+b", 3, false, &out, NULL) == 0 && streq(out, "a+b"),
           "'+' stays a plus in a path");
        free(out);
        ok(es_url_decode("a+b", 3, true, &out, NULL) == 0 && streq(out, "a b"), "'+' is a space in a query");
        free(out);
        ok(es_url_decode("100%%", 5, false, &out, NULL) == 0 && streq(out, "100%"),
           "'%%%%' decodes to '%%'");
        free(out);
        ok(es_url_decode("%C3%A9", 6, false, &out, NULL) == 0 && streq(out, "\xc3\xa9"),
           "UTF-8 escapes decode");
        free(out);
        ok(es_url_decode("%FF", 3, false, &out, NULL) == 0 && streq(out, "\xef\xbf\xbd"),
           "invalid UTF-8 becomes U+FFFD");
        free(out);
        is_int(es_url_decode("a%zz", 4, false, &out, &err), -EINVAL, "a bad escape is refused");
        is_str(err, "invalid escape sequence `%zz' at index 1 of: a%zz", "with Elasticsearch's message");
        free(err);
        err = NULL;
        is_int(es_url_decode("ab%", 3, false, &out, &err), -EINVAL, "a trailing '%%' is refused");
        is_str(err, "unterminated escape sequence at end of string: ab%", "with Elasticsearch's message");
        free(err);
        err = NULL;
        is_int(es_url_decode("ab%4", 4, false, &out, &err), -EINVAL, "a partial escape is refused");
        is_str(err, "partial escape sequence at end of string: ab%4", "with Elasticsearch's message");
        free(err);
}

static void test_glob_and_distance(void) {
        ok(glob_match("/_connector/*", "/_connector/a/b", false), "'*' crosses slashes");
        ok(!glob_match("/_connector/*", "/_connector", false), "'*' needs the slash before it");
        ok(glob_match("*search-1*", "my-search-1-x", true), "wildcard query matches inside");
        ok(glob_match("a?c",
                      "a\xc3\xa9"
                      "c",
                      false),
           "'?' takes one UTF-8 character");
        ok(!glob_match("a\\*c", "abc", true), "an escaped '*' is literal");
        ok(glob_match("a\\*c", "a*c", true), "an escaped '*' matches itself");
        ok(lucene_levenshtein("siz", "size") > 0.74f && lucene_levenshtein("siz", "size") < 0.76f,
           "Levenshtein as Lucene computes it: 1 - 1/4");
        ok(lucene_levenshtein("xyz", "size") <= 0.5f, "unrelated names are far apart");
}

static void test_base64_and_json(void) {
        char *out = NULL;
        size_t len;
        struct strbuf sb = {};

        ok(base64_decode("aWQ6c2VjcmV0", 12, &out, &len) == 0 && streq(out, "id:secret"), "base64 decodes");
        free(out);
        ok(base64_decode("aWQ6c2VjcmV0!", 13, &out, &len) == -EINVAL, "base64 refuses stray characters");
        ok(base64_encode("id:secret", 9, &out) == 0 && streq(out, "aWQ6c2VjcmV0"), "base64 encodes");
        free(out);
        sb_json_cstr(&sb, "a\"b\\c\n\x01/");
        is_str(sb.s, "\"a\\\"b\\\\c\\n\\u0001/\"", "JSON strings are escaped as Jackson does");
        sb_done(&sb);
}

/* A page of GET _connector as the fake answers it, and the filter the reconciler lists with. */
#define PAGE \
        "{\"count\":2,\"results\":[{\"id\":\"a\",\"configuration\":{\"k\":{\"value\":\"v\",\"order\":1}}," \
        "\"deleted\":false,\"index_name\":\"search-a\",\"name\":\"A\",\"service_type\":\"s3\",\"status\":" \
        "\"connected\"},{\"id\":\"b\",\"index_name\":null,\"name\":\"B\",\"service_type\":\"gd\"," \
        "\"deleted\":true,\"filtering\":[]}]}"
#define RECONCILER_FILTER \
        "count,results.id,results.name,results.service_type,results.index_name,results.deleted"

static void test_filter_path(void) {
        static const struct {
                const char *json;
                const char *filter;
                const char *want; /* NULL: filter_path names no path, the body is left alone */
                const char *what;
        } cases[] = {
                { PAGE, RECONCILER_FILTER,
                  "{\"count\":2,\"results\":[{\"id\":\"a\",\"deleted\":false,\"index_name\":\"search-a\","
                  "\"name\":\"A\",\"service_type\":\"s3\"},{\"id\":\"b\",\"index_name\":null,\"name\":\"B\","
                  "\"service_type\":\"gd\",\"deleted\":true}]}",
                  "the reconciler's filter: five fields of each result, in order, a null kept" },
                { "{\"count\":0,\"results\":[]}", RECONCILER_FILTER, "{\"count\":0}",
                  "an empty page keeps only its count: the emptied array is dropped" },
                { "{\"count\":0,\"results\":[]}", "results", "{\"results\":[]}",
                  "an empty array matched whole stays" },
                { PAGE, "results.id", "{\"results\":[{\"id\":\"a\"},{\"id\":\"b\"}]}",
                  "arrays are transparent: the path applies to each element" },
                { PAGE, "results.*_type",
                  "{\"results\":[{\"service_type\":\"s3\"},{\"service_type\":\"gd\"}]}",
                  "'*' is a wildcard inside a name" },
                { PAGE, "results.configuration.*.value",
                  "{\"results\":[{\"configuration\":{\"k\":{\"value\":\"v\"}}}]}",
                  "'*' stands for exactly one level; elements left empty are dropped" },
                { PAGE, "**.value", "{\"results\":[{\"configuration\":{\"k\":{\"value\":\"v\"}}}]}",
                  "'**' stands for any number of levels" },
                { "{\"id\":1,\"a\":{\"id\":2,\"b\":{\"id\":3}}}", "**.id",
                  "{\"a\":{\"id\":2,\"b\":{\"id\":3}}}",
                  "'**' stands for one level at least: it does not match a top-level name" },
                { "{\"tags\":[\"x\",\"y\"],\"n\":[[1,2],[3]]}", "tags,n",
                  "{\"tags\":[\"x\",\"y\"],\"n\":[[1,2],[3]]}", "arrays of scalars matched whole" },
                { "{\"tags\":[\"x\",\"y\"],\"k\":1}", "tags.x,k", "{\"k\":1}",
                  "a path that goes on below scalars keeps none of them" },
                { "{\"tags\":[\"x\",\"y\"],\"k\":1}", "-tags.x", "{\"tags\":[\"x\",\"y\"],\"k\":1}",
                  "and excludes none of them" },
                { "{\"a\":{\"b\":{\"c\":{}},\"d\":[{},[]]},\"e\":1}", "a.b.c.x,a.d.x,e", "{\"e\":1}",
                  "objects and arrays left empty are dropped, nested ones too" },
                { "{\"a\":{\"b\":{\"c\":1}}}", "x", "{}", "a body that keeps nothing is {}" },
                { PAGE, "-results.configuration,-results.status,-results.filtering,-count",
                  "{\"results\":[{\"id\":\"a\",\"deleted\":false,\"index_name\":\"search-a\",\"name\":\"A\","
                  "\"service_type\":\"s3\"},{\"id\":\"b\",\"index_name\":null,\"name\":\"B\","
                  "\"service_type\":\"gd\",\"deleted\":true}]}",
                  "'-' excludes" },
                { "{\"a\":{},\"b\":{\"x\":1},\"c\":[],\"d\":[{\"x\":1}]}", "-*.x", "{\"a\":{},\"c\":[]}",
                  "excluding keeps what was empty already and drops what it emptied" },
                { "{\"a\":{\"x\":1,\"y\":2},\"b\":3}", "a,-a.x", "{\"a\":{\"y\":2}}",
                  "inclusive and exclusive together: included and not excluded" },
                { "{\"a\":{\"x\":1},\"b\":3}", "a,-a.x", "{}",
                  "what the exclusion empties of what the inclusion kept is dropped" },
                { "{\"a\":1,\"b\":2}", "-a,a", "{}", "excluded wins over included" },
                { "{\"b\":1,\"a\":2,\"c\":3}", "c,a", "{\"a\":2,\"c\":3}",
                  "the document's key order is kept" },
                { "{\"a\":{\"b\":1},\"a.b\":2}", "a\\.b", "{\"a.b\":2}", "'\\.' is a dot inside a name" },
                { "{\"a\":{\"b\":1},\"a.b\":2}", "a.b", "{\"a\":{\"b\":1}}", "a dot separates names" },
                { "{\"a\\u0062\":1,\"c\":2}", "ab", "{\"a\\u0062\":1}",
                  "names are matched unescaped and written as they were" },
                { "{\"n\":1.50e+3,\"t\":true,\"z\":null,\"s\":\"\\u00e9\\n\"}", "*",
                  "{\"n\":1.50e+3,\"t\":true,\"z\":null,\"s\":\"\\u00e9\\n\"}",
                  "values are copied as written" },
                { "{ \"a\" : [ 1 , { \"b\" : 2 } ] }", "a", "{\"a\":[1,{\"b\":2}]}",
                  "the result is compact" },
                { PAGE, " count ,, results.id ", "{\"count\":2,\"results\":[{\"id\":\"a\"},{\"id\":\"b\"}]}",
                  "paths are trimmed, empty ones ignored" },
                { PAGE, "", NULL, "an empty filter_path filters nothing" },
                { PAGE, " , ,", NULL, "nor do only commas and blanks" },
                { "{\"a\":{\"b\":1}}", "-", "{\"a\":{\"b\":1}}", "a lone '-' excludes nothing" },
        };
        char *out = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = fake_filter_path(cases[i].json, strlen(cases[i].json), cases[i].filter, &out);

                if (!cases[i].want)
                        is_int(r, 0, "filter_path '%s': %s", cases[i].filter, cases[i].what);
                else if (is_int(r, 1, "filter_path '%s' filters", cases[i].filter))
                        is_str(out, cases[i].want, "filter_path '%s': %s", cases[i].filter, cases[i].what);
                else
                        ok(false, "filter_path '%s': %s", cases[i].filter, cases[i].what);
                free(out);
                out = NULL;
        }
        is_int(fake_filter_path("{\"a\":", 5, "a", &out), -EINVAL, "a body that is not JSON is refused");
        is_int(fake_filter_path("{\"a\":1,}", 8, "a", &out), -EINVAL, "a trailing comma too");
}

static void test_store(void) {
        static const char seed[] =
                "{\"connectors\":["
                "{\"id\":\"c\",\"index_name\":\"search-b\",\"name\":\"C\",\"service_type\":\"s3\"},"
                "{\"id\":\"a\",\"index_name\":\"search-a\",\"name\":\"A\",\"service_type\":\"gd\"},"
                "{\"id\":\"n\",\"name\":\"no index\"},"
                "{\"id\":\"b\",\"index_name\":\"search-b\",\"name\":\"B\",\"description\":\"xyz\"}],"
                "\"sync_jobs\":[{\"id\":\"j1\",\"connector\":{\"id\":\"a\"},\"created_at\":\"2024-01-01\"},"
                "{\"id\":\"j2\",\"connector\":{\"id\":\"a\"},\"created_at\":\"2024-02-01\"},"
                "{\"id\":\"j3\",\"connector\":{\"id\":\"c\"}}]}";
        struct fake_store *s = NULL;
        const struct fake_doc **docs = NULL;
        struct fake_connector_query q = {};
        char *err = NULL;
        size_t n;

        ok(fake_store_new(&s) == 0, "store created");
        ok(fake_store_load(s, seed, strlen(seed), "seed.json", &err) == 0, "seed loads");
        is_int((intmax_t) fake_store_n_connectors(s), 4, "four connectors");
        ok(fake_store_list_connectors(s, &q, &docs, &n) == 0 && n == 4, "list all");
        ok(n == 4 && streq(docs[0]->id, "a") && streq(docs[1]->id, "c") && streq(docs[2]->id, "b") &&
                   streq(docs[3]->id, "n"),
           "sorted by index_name, ties in write order, missing last");
        free(docs);
        ok(!strstr(fake_store_get_connector(s, "a")->source, "\"id\""), "the id is not part of the source");

        {
                const char *const one[] = { "search-b" };
                struct fake_connector_query f = { .index_names = one, .n_index_names = 1 };

                ok(fake_store_list_connectors(s, &f, &docs, &n) == 0 && n == 2, "index_name filter");
                free(docs);
        }
        {
                struct fake_connector_query f = { .query = "yz" };

                ok(fake_store_list_connectors(s, &f, &docs, &n) == 0 && n == 1 && streq(docs[0]->id, "b"),
                   "query matches the description");
                free(docs);
        }

        ok(fake_store_soft_delete_connector(s, "c") == 0, "soft delete");
        ok(fake_store_get_connector(s, "c")->deleted, "soft-deleted connector is marked");
        ok(strstr(fake_store_get_connector(s, "c")->source, "\"deleted\":true") != NULL,
           "its source says deleted");
        ok(fake_store_list_connectors(s, &q, &docs, &n) == 0 && n == 3, "soft-deleted ones are hidden");
        free(docs);
        q.include_deleted = true;
        ok(fake_store_list_connectors(s, &q, &docs, &n) == 0 && n == 4 && streq(docs[2]->id, "c"),
           "include_deleted shows them; the rewrite moved it after its tie");
        free(docs);

        is_int((intmax_t) fake_store_remove_sync_jobs_of(s, "a"), 2, "sync jobs of a connector removed");
        is_int((intmax_t) fake_store_n_sync_jobs(s), 1, "the other connector's job stays");
        is_int(fake_store_remove_connector(s, "zz"), -ENOENT, "removing a missing connector");

        is_int(fake_store_load(s, "{\"connectors\":[{\"name\":1}]}", 27, "x.json", &err), -EINVAL,
               "a connector without id is refused");
        is_str(err, "x.json: connectors[0]: \"id\" must be a non-empty string",
               "the error names file and key");
        free(err);
        err = NULL;
        is_int(fake_store_load(s, "{\n  \"connectors\": [,]}", 22, "y.json", &err), -EINVAL,
               "bad JSON refused");
        is_str(err, "y.json:2:18: invalid JSON", "with its line and column");
        free(err);
        s = fake_store_free(s);
}

/* The ids of a page, joined by ','. */
static char *page_ids(struct fake_store *s, const struct fake_connector_query *q, size_t from, size_t size,
                      size_t *ret_total) {
        const struct fake_doc **docs = NULL;
        struct strbuf sb = {};
        char *ids = NULL;
        size_t n;

        if (fake_store_page_connectors(s, q, from, size, &docs, &n, ret_total) < 0)
                return NULL;
        sb_puts(&sb, "");
        for (size_t i = 0; i < n; i++)
                sb_printf(&sb, "%s%s", i ? "," : "", docs[i]->id);
        free(docs);
        return sb_steal(&sb, &ids) < 0 ? NULL : ids;
}

static char *connector_source(const char *index_name) {
        struct strbuf sb = {};
        char *source = NULL;

        sb_puts(&sb, "{\"name\":\"n\"");
        if (index_name) {
                sb_puts(&sb, ",\"index_name\":");
                sb_json_cstr(&sb, index_name);
        }
        sb_puts(&sb, "}");
        return sb_steal(&sb, &source) < 0 ? NULL : source;
}

static void put(struct fake_store *s, const char *id, const char *index_name) {
        _cleanup_free_ char *source = connector_source(index_name);

        if (!source || fake_store_put_connector(s, id, source) < 0)
                abort();
}

/* The list order survives writes: each write drops the kept order, the next listing sorts again. */
static void test_store_order_after_writes(void) {
        struct fake_connector_query all = { .include_deleted = true }, live = {};
        const char *const idx_b[] = { "idx-b" };
        struct fake_connector_query by_index = { .index_names = idx_b, .n_index_names = 1 };
        struct fake_store *s = NULL;
        size_t total;
        char *ids;

        if (fake_store_new(&s) < 0)
                abort();
        put(s, "a", "idx-b");
        put(s, "b", "idx-a");
        put(s, "c", "idx-b");
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "b,a,c", "write, list: by index_name, ties in write order");
        free(ids);
        ok(fake_store_remove_connector(s, "a") == 0, "delete");
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "b,c", "list: the deleted one is gone");
        free(ids);
        put(s, "a", "idx-b");
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "b,c,a", "put, list: written again, it comes after its tie");
        free(ids);
        put(s, "d", NULL);
        put(s, "e", "idx-0");
        ids = page_ids(s, &by_index, 1, 5, &total);
        is_str(ids, "a", "a filtered page right after a write (the order not sorted yet)");
        is_int((intmax_t) total, 2, "counts its matches");
        free(ids);
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "e,b,c,a,d", "put, list: missing index_name last");
        free(ids);
        ids = page_ids(s, &by_index, 1, 5, &total);
        is_str(ids, "a", "the same filtered page from the kept order");
        is_int((intmax_t) total, 2, "with the same count");
        free(ids);
        ok(fake_store_soft_delete_connector(s, "c") == 0, "soft delete");
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "e,b,a,d", "list: the soft-deleted one is hidden");
        free(ids);
        ids = page_ids(s, &all, 0, 100, &total);
        is_str(ids, "e,b,a,c,d", "include_deleted: rewritten, it moved after its tie");
        free(ids);
        ids = page_ids(s, &live, 1, 2, &total);
        is_str(ids, "b,a", "a page is a slice of the order");
        is_int((intmax_t) total, 4, "count is the total of matches");
        free(ids);
        ids = page_ids(s, &live, 9, 2, &total);
        is_str(ids, "", "a page past the end is empty");
        free(ids);
        {
                static const char more[] = "{\"connectors\":[{\"id\":\"f\",\"index_name\":\"idx-a\"}]}";
                char *err = NULL;

                ok(fake_store_load(s, more, strlen(more), "more", &err) == 0, "documents added");
        }
        ids = page_ids(s, &live, 0, 100, &total);
        is_str(ids, "e,b,f,a,d", "list: adding documents drops the kept order too");
        free(ids);
        fake_store_clear(s);
        ids = page_ids(s, &all, 0, 100, &total);
        is_str(ids, "", "clear empties the list");
        free(ids);
        put(s, "z", "idx");
        ids = page_ids(s, &all, 0, 100, &total);
        is_str(ids, "z", "and it fills again");
        free(ids);
        s = fake_store_free(s);
}

/* Random writes between listings; every page is checked against an order computed apart. */
struct ref_doc {
        char id[8];
        const char *index_name;
        uint64_t seq;
        bool deleted;
        bool present;
};

static int ref_cmp(const void *x, const void *y) {
        const struct ref_doc *a = *(const struct ref_doc *const *) x,
                             *b = *(const struct ref_doc *const *) y;

        if (!a->index_name || !b->index_name) {
                if (a->index_name != b->index_name)
                        return a->index_name ? -1 : 1;
        } else if (strcmp(a->index_name, b->index_name) != 0)
                return strcmp(a->index_name, b->index_name);
        return a->seq < b->seq ? -1 : 1;
}

static void test_store_order_random(void) {
        /* Code point order: "I" < "i", and a UTF-8 name after every ASCII one. */
        static const char *const names[] = { "idx-b", "idx-a", "Idx", "idx-\xc3\xa9", "idx-a0", NULL };
        struct ref_doc docs[40] = {};
        const struct ref_doc *order[ELEMENTSOF(docs)];
        struct fake_store *s = NULL;
        uint64_t prng = 11, seq = 0;
        int wrong = 0, checks = 0;

        if (fake_store_new(&s) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(docs); i++)
                (void) snprintf(docs[i].id, sizeof(docs[i].id), "d%zu", i);
        for (int step = 0; step < 600; step++) {
                struct ref_doc *d = &docs[prng_next(&prng) % ELEMENTSOF(docs)];
                unsigned op = (unsigned) (prng_next(&prng) % 4);

                if (op <= 1) {
                        d->index_name = names[prng_next(&prng) % ELEMENTSOF(names)];
                        put(s, d->id, d->index_name);
                        d->present = true;
                        d->deleted = false;
                        d->seq = ++seq;
                } else if (op == 2 && d->present && !d->deleted) {
                        if (fake_store_soft_delete_connector(s, d->id) < 0)
                                abort();
                        d->deleted = true;
                        d->seq = ++seq;
                } else if (op == 3 && d->present) {
                        if (fake_store_remove_connector(s, d->id) < 0)
                                abort();
                        d->present = false;
                }
                /* Not after every write: some writes come in a row, with no listing between. */
                if (prng_next(&prng) % 3 == 0)
                        continue;
                for (int include_deleted = 0; include_deleted <= 1; include_deleted++) {
                        struct fake_connector_query q = { .include_deleted = include_deleted };
                        size_t n = 0, from = (size_t) (prng_next(&prng) % 12),
                               size = (size_t) (prng_next(&prng) % 12), total;
                        struct strbuf want = {};
                        char *got;

                        for (size_t i = 0; i < ELEMENTSOF(docs); i++)
                                if (docs[i].present && (include_deleted || !docs[i].deleted))
                                        order[n++] = &docs[i];
                        qsort(order, n, sizeof(order[0]), ref_cmp);
                        sb_puts(&want, "");
                        for (size_t i = from, k = 0; i < n && k < size; i++, k++)
                                sb_printf(&want, "%s%s", k ? "," : "", order[i]->id);
                        got = page_ids(s, &q, from, size, &total);
                        checks++;
                        if (!got || !want.s || !streq(got, want.s) || total != n) {
                                if (wrong++ == 0)
                                        diag("step %d: from %zu size %zu: got '%s' of %zu, want '%s' of %zu",
                                             step, from, size, strna(got), total, strna(want.s), n);
                        }
                        free(got);
                        sb_done(&want);
                }
        }
        is_int(wrong, 0, "%d random pages between random writes are in list order", checks);
        s = fake_store_free(s);
}

static void test_faults(void) {
        struct fake_faults *f = NULL;
        struct fake_fault_action a = {};
        char *err = NULL;
        static const char rules[] =
                "{\"faults\":[{\"method\":\"DELETE\",\"path\":\"/_connector/*\",\"count\":2,"
                "\"skip\":1,\"status\":503,\"retry_after\":\"7\"}]}";
        int applied = 0;

        ok(fake_faults_new(&f, 42) == 0, "fault set created");
        ok(fake_faults_set(f, rules, strlen(rules), "faults.json", &err) == 0, "rules parse");
        is_int(fake_faults_match(f, "GET", "/_connector/a", &a), 0, "another method is not faulted");
        is_int(fake_faults_match(f, "DELETE", "/_connector/a", &a), 0, "skip lets the first one through");
        is_int(fake_faults_match(f, "DELETE", "/_connector/a", &a), 1, "the second one is faulted");
        ok(a.status == 503 && streq_ptr(a.retry_after, "7"), "with the rule's status and Retry-After");
        fake_fault_action_done(&a);
        is_int(fake_faults_match(f, "DELETE", "/_connector/b%2Fc", &a), 1, "the third too");
        fake_fault_action_done(&a);
        is_int(fake_faults_match(f, "DELETE", "/_connector/a", &a), 0, "count exhausted");

        is_int(fake_faults_set(f, "{\"faults\":[{\"path\":\"/\",\"status\":503,\"drop\":true}]}", 50,
                               "r.json", &err),
               -EINVAL, "status and drop together are refused");
        is_str(err,
               "r.json: faults[0]: \"status\", \"drop\", \"malformed\" and \"truncate\" exclude each other",
               "the error names the rule");
        free(err);
        err = NULL;
        is_int(fake_faults_set(f, "{\"faults\":[{\"stauts\":503}]}", 27, "r.json", &err), -EINVAL,
               "typo refused");
        is_str(err, "r.json: faults[0]: unknown key \"stauts\"", "the error names the key");
        free(err);
        f = fake_faults_free(f);

        /* The same seed gives the same choices. */
        for (int round = 0; round < 2; round++) {
                static const char half[] = "{\"faults\":[{\"probability\":0.5,\"status\":500}]}";
                int count = 0;

                ok(fake_faults_new(&f, 7) == 0 && fake_faults_set(f, half, strlen(half), "p", &err) == 0,
                   "probability rule parses");
                for (int i = 0; i < 100; i++) {
                        int r = fake_faults_match(f, "GET", "/", &a);

                        count += r;
                        fake_fault_action_done(&a);
                }
                if (round == 0)
                        applied = count;
                else
                        is_int(count, applied, "the same seed gives the same faults");
                ok(count > 20 && count < 80, "about half the requests are faulted (%d)", count);
                f = fake_faults_free(f);
        }
}

struct env {
        struct fake_store *store;
        struct fake_api *api;
        struct fake_response resp;
};

static void env_init(struct env *e, const char *version, const char *api_key) {
        struct fake_api_config cfg = { .api_key = api_key, .max_result_window = 10000 };
        static const char seed[] = "{\"connectors\":[{\"id\":\"a\",\"index_name\":\"i-a\",\"name\":\"A\"},"
                                   "{\"id\":\"b\",\"index_name\":\"i-b\",\"name\":\"B\"}],"
                                   "\"sync_jobs\":[{\"id\":\"j\",\"connector\":{\"id\":\"a\"}}]}";
        char *err = NULL;

        *e = (struct env){};
        (void) fake_version_parse(version, &cfg.version);
        if (fake_store_new(&e->store) < 0 ||
            fake_store_load(e->store, seed, strlen(seed), "seed", &err) < 0 ||
            fake_api_new(&e->api, &cfg, e->store, 1) < 0)
                abort();
}

static void env_done(struct env *e) {
        fake_response_done(&e->resp);
        e->api = fake_api_free(e->api);
        e->store = fake_store_free(e->store);
}

static int call(struct env *e, const char *method, const char *target, const char *auth, const char *body) {
        struct fake_request req = { .method = method,
                                    .raw_target = target,
                                    .authorization = auth,
                                    .content_type = body ? "application/json" : NULL,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0 };

        fake_response_done(&e->resp);
        if (fake_api_handle(e->api, &req, &e->resp) < 0)
                return -1;
        return e->resp.status;
}

static const char *header(const struct fake_response *r, const char *name) {
        for (size_t i = 0; i < r->n_headers; i++)
                if (streq(r->headers[i].name, name))
                        return r->headers[i].value;
        return NULL;
}

static void test_api(void) {
        struct env e;

        ok(fake_version_parse("8.13.4", &(struct fake_version){}) == 0, "8.13.4 parses");
        ok(fake_version_parse("8.13", &(struct fake_version){}) < 0, "8.13 does not");

        env_init(&e, "9.1.3", NULL);
        is_int(call(&e, "GET", "/_connector?from=1&size=1", NULL, NULL), 200, "list");
        is_str(e.resp.body,
               "{\"count\":2,\"results\":[{\"id\":\"b\",\"index_name\":\"i-b\",\"name\":\"B\"}]}",
               "count is the total, results the page");
        is_str(e.resp.content_type, "application/json", "JSON");

        is_int(call(&e, "GET", "/_connector?siz=1", NULL, NULL), 400, "an unknown parameter");
        ok(e.resp.body &&
                   strstr(e.resp.body, "\"reason\":\"request [/_connector] contains unrecognized parameter: "
                                       "[siz] -> did you mean [size]?\""),
           "is named with a suggestion");
        is_int(call(&e, "GET", "/_connector?b=1&a=2", NULL, NULL), 400, "two unknown parameters");
        ok(e.resp.body && strstr(e.resp.body, "contains unrecognized parameters: [a], [b]\""),
           "are listed sorted, without suggestions");
        is_int(call(&e, "GET", "/_connector?size=x", NULL, NULL), 400, "a bad int");
        ok(e.resp.body && strstr(e.resp.body, "Failed to parse int parameter [size] with value [x]") &&
                   strstr(e.resp.body,
                          "\"caused_by\":{\"type\":\"number_format_exception\",\"reason\":\"For input "
                          "string: \\\"x\\\"\"}"),
           "is worded as Elasticsearch words it, with its cause");
        is_int(call(&e, "GET", "/_connector?from=-1", NULL, NULL), 400, "a negative from");
        ok(e.resp.body && strstr(e.resp.body, "\"reason\":\"Parameter [from] cannot be < 0\""),
           "is refused");
        is_int(call(&e, "GET", "/_connector?from=9999&size=2", NULL, NULL), 400, "past the result window");
        ok(e.resp.body && strstr(e.resp.body, "\"type\":\"search_phase_execution_exception\"") &&
                   strstr(e.resp.body, "but was [10001]"),
           "fails as a search does");
        is_int(call(&e, "GET", "/_connector?include_deleted=yes", NULL, NULL), 400, "a bad boolean");
        ok(e.resp.body &&
                   strstr(e.resp.body, "Failed to parse value [yes] as only [true] or [false] are allowed."),
           "is worded as Elasticsearch words it");

        is_int(call(&e, "POST", "/_connector/a", NULL, NULL), 405, "a wrong method");
        is_str(header(&e.resp, "Allow"), "GET,PUT,DELETE", "Allow lists the methods in enum order");
        is_str(e.resp.body,
               "{\"error\":\"Incorrect HTTP method for uri [/_connector/a] and method [POST], allowed: "
               "[GET, PUT, "
               "DELETE]\",\"status\":405}",
               "the 405 body");
        is_int(call(&e, "GET", "/_connector/a/b", NULL, NULL), 400, "no such endpoint");
        is_str(e.resp.body,
               "{\"error\":\"no handler found for uri [/_connector/a/b] and method [GET]\",\"status\":400}",
               "the 400 body");
        is_int(call(&e, "GET", "/_connector/zz", NULL, NULL), 404, "a missing connector");
        ok(e.resp.body && strstr(e.resp.body,
                                 "\"type\":\"resource_not_found_exception\",\"reason\":\"connector [zz] "
                                 "not found\""),
           "is not found");

        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 200, "9.x soft delete");
        is_int(call(&e, "GET", "/_connector/a", NULL, NULL), 404, "hides the connector");
        is_int(call(&e, "GET", "/_connector/a?include_deleted", NULL, NULL), 200,
               "include_deleted (empty = true)");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 404, "a second soft delete is a 404");
        is_int(call(&e, "DELETE", "/_connector/a?hard=true&delete_sync_jobs=true", NULL, NULL), 200,
               "a hard delete removes a soft-deleted one");
        is_int((intmax_t) fake_store_n_sync_jobs(e.store), 0, "with its sync jobs");
        is_int(call(&e, "GET", "/_connector/_sync_job/j", NULL, NULL), 404, "a missing sync job");
        ok(e.resp.body && strstr(e.resp.body, "\"reason\":\"j\""),
           "is named by its id once the index exists");

        is_int(call(&e, "PUT", "/_connector/x%2Fy", NULL, "{\"index_name\":\"i-x\",\"name\":\"X\"}"), 201,
               "PUT creates, the id decoded");
        is_str(e.resp.connector_id, "x/y", "the log gets the decoded id");
        is_str(e.resp.body, "{\"id\":\"x/y\",\"result\":\"created\"}", "created");
        is_int(call(&e, "PUT", "/_connector/x%2Fy", NULL, "{\"index_name\":\"i-x\"}"), 200,
               "PUT again updates");
        is_int(call(&e, "PUT", "/_connector/other", NULL, "{\"index_name\":\"i-x\"}"), 400,
               "an index name in use elsewhere");
        is_int(call(&e, "PUT", "/_connector/q", NULL, "{\"nmae\":\"X\"}"), 400, "an unknown body field");
        ok(e.resp.body && strstr(e.resp.body, "[1:2] [connector_put_request] unknown field [nmae]"),
           "is refused with its location");
        is_int(call(&e, "GET", "/_connector/a%zz", NULL, NULL), 405, "a bad escape in the path");
        is_int(call(&e, "GET", "/?pretty", NULL, NULL), 200, "cluster info");
        ok(e.resp.body && strstr(e.resp.body, "\n  \"tagline\" : \"You Know, for Search\"\n}\n"),
           "pretty-printed");
        is_int(call(&e, "GET", "/_connector?filter_path=count,results.id", NULL, NULL), 200,
               "a filtered list");
        is_str(e.resp.body, "{\"count\":2,\"results\":[{\"id\":\"b\"},{\"id\":\"x/y\"}]}",
               "filter_path keeps what it names");
        is_int(call(&e, "GET", "/?filter_path=version.number&pretty", NULL, NULL), 200,
               "filtered and pretty");
        is_str(e.resp.body, "{\n  \"version\" : {\n    \"number\" : \"9.1.3\"\n  }\n}\n",
               "filter_path first, then pretty");
        is_int(call(&e, "GET", "/?filter_path=none&pretty", NULL, NULL), 200, "nothing kept");
        is_str(e.resp.body, "{ }\n", "an empty object, pretty");
        is_int(call(&e, "GET", "/_connector/zz?filter_path=id", NULL, NULL), 404, "a filtered 404");
        ok(e.resp.body && strstr(e.resp.body, "\"root_cause\":[{\"type\":\"resource_not_found_exception\""),
           "error bodies are not filtered");
        is_int(call(&e, "GET", "/_connector?size=x&filter_path=count", NULL, NULL), 400, "a filtered 400");
        ok(e.resp.body && strstr(e.resp.body, "\"caused_by\":{\"type\":\"number_format_exception\""),
           "is not filtered either");
        env_done(&e);

        env_init(&e, "8.13.4", NULL);
        is_int(call(&e, "DELETE", "/_connector/a?delete_sync_jobs=true", NULL, NULL), 400,
               "8.13 knows no delete_sync_jobs");
        ok(e.resp.body && strstr(e.resp.body, "contains unrecognized parameter: [delete_sync_jobs]"),
           "and says so");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 200, "8.13 deletes");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 404, "for good");
        is_int(call(&e, "PUT", "/_connector", NULL, "{}"), 405, "8.13 has no PUT _connector");
        is_str(header(&e.resp, "Allow"), "GET,POST", "Allow says what there is");
        env_done(&e);

        env_init(&e, "8.19.0", "aWQ6c2VjcmV0");
        is_int(call(&e, "GET", "/_connector", NULL, NULL), 401, "no credentials");
        ok(e.resp.body &&
                   strstr(e.resp.body, "missing authentication credentials for REST request [/_connector]"),
           "are missing");
        is_str(header(&e.resp, "WWW-Authenticate"), "Basic realm=\"security\", charset=\"UTF-8\"",
               "8.15+ puts a comma before the charset");
        is_int(call(&e, "GET", "/_connector", "ApiKey aWQ6b3RoZXI=", NULL), 401, "a wrong secret");
        ok(e.resp.body && strstr(e.resp.body, "API key: invalid credentials for API key [id]"), "is named");
        is_str(e.resp.auth_scheme, "ApiKey", "the scheme is logged");
        is_int(call(&e, "GET", "/_connector", "ApiKey aWQ6c2VjcmV0", NULL), 200, "the right key");
        is_int(call(&e, "DELETE", "/_connector/a?hard=true", "ApiKey aWQ6c2VjcmV0", NULL), 400,
               "8.19 knows no hard");
        is_int(call(&e, "DELETE", "/_connector/a?delete_sync_jobs=true", "ApiKey aWQ6c2VjcmV0", NULL), 200,
               "8.19 deletes with its sync jobs");
        is_int((intmax_t) fake_store_n_sync_jobs(e.store), 0, "the sync jobs are gone");
        env_done(&e);
}

int main(void) {
        test_url_decode();
        test_glob_and_distance();
        test_base64_and_json();
        test_filter_path();
        test_store();
        test_store_order_after_writes();
        test_store_order_random();
        test_faults();
        test_api();
        return done();
}
