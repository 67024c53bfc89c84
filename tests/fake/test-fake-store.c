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
#include "fake-syncjob.h"
#include "fake-update.h"
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
#define PAGE                                                                                               \
        "{\"count\":2,\"results\":[{\"id\":\"a\",\"configuration\":{\"k\":{\"value\":\"v\",\"order\":1}}," \
        "\"deleted\":false,\"index_name\":\"search-a\",\"name\":\"A\",\"service_type\":\"s3\",\"status\":" \
        "\"connected\"},{\"id\":\"b\",\"index_name\":null,\"name\":\"B\",\"service_type\":\"gd\","         \
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

/* Seeding completes a connector with the members Elasticsearch always stores. */
static void test_seed_defaults(void) {
        static const char seed[] =
                "{\"connectors\":[{\"id\":\"bare\",\"name\":\"Bare\"},"
                "{\"id\":\"native\",\"is_native\":true},"
                "{\"id\":\"given\",\"is_native\":true,\"status\":\"connected\",\"sync_now\":true,"
                "\"deleted\":true},"
                "{\"id\":\"nulls\",\"is_native\":null,\"status\":null}],"
                "\"sync_jobs\":[{\"id\":\"j\",\"connector\":{\"id\":\"bare\"}}]}";
        struct fake_store *s = NULL;
        char *err = NULL;

        if (fake_store_new(&s) < 0)
                abort();
        ok(fake_store_load(s, seed, strlen(seed), "seed", &err) == 0,
           "a seed of incomplete connectors loads");
        is_str(fake_store_get_connector(s, "bare")->source,
               "{\"name\":\"Bare\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false}",
               "8.x: a connector lacking is_native, status, sync_now gets the creation defaults");
        is_str(fake_store_get_connector(s, "native")->source,
               "{\"is_native\":true,\"status\":\"needs_configuration\",\"sync_now\":false}",
               "a native connector starts in needs_configuration");
        is_str(fake_store_get_connector(s, "given")->source,
               "{\"is_native\":true,\"status\":\"connected\",\"sync_now\":true,\"deleted\":true}",
               "members given keep their values");
        ok(fake_store_get_connector(s, "given")->deleted, "a given deleted: true still marks it");
        is_str(fake_store_get_connector(s, "nulls")->source,
               "{\"is_native\":null,\"status\":null,\"sync_now\":false}", "given nulls are kept as given");
        is_str(fake_store_get_sync_job(s, "j")->source, "{\"connector\":{\"id\":\"bare\"}}",
               "sync jobs are stored as given");
        ok(fake_store_put_connector(s, "put", "{\"name\":\"P\"}") == 1 &&
                   streq(fake_store_get_connector(s, "put")->source, "{\"name\":\"P\"}"),
           "a connector put whole (PUT builds it complete) is not touched");

        fake_store_set_soft_deletes(s, true);
        fake_store_clear(s);
        ok(fake_store_load(s, seed, strlen(seed), "seed", &err) == 0, "9.x: the seed loads again");
        is_str(fake_store_get_connector(s, "bare")->source,
               "{\"name\":\"Bare\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false,"
               "\"deleted\":false}",
               "9.x: deleted: false too (clear keeps the setting)");
        ok(!fake_store_get_connector(s, "bare")->deleted, "and it is live");
        s = fake_store_free(s);

        is_int(fake_store_check(seed, strlen(seed), "seed", &err), 0,
               "fake_store_check accepts a good seed");
        is_int(fake_store_check("{\"connectors\":[{}]}", 19, "m", &err), -EINVAL, "and refuses a bad one");
        is_str(err, "m: connectors[0]: \"id\" must be a non-empty string", "as loading does");
        free(err);
}

static void test_fault_new_keys(void) {
        static const char rules[] =
                "{\"faults\":["
                "{\"path\":\"/a\",\"status\":502,\"body\":\"Bad Gateway\",\"content_type\":\"text/plain\","
                "\"retry_after\":\"1\"},"
                "{\"path\":\"/b\",\"body\":\"{}\"},"
                "{\"path\":\"/c\",\"product_header\":false},"
                "{\"path\":\"/d\",\"mutate\":{\"connectors\":[{\"id\":\"x\",\"name\":\"X\"}],"
                "\"sync_jobs\":[{\"id\":\"j\",\"connector\":{\"id\":\"x\"}}],"
                "\"delete_connectors\":[\"y\",\"z\"],\"delete_sync_jobs\":[\"k\"],"
                "\"cluster\":{\"cluster_uuid\":\"U\",\"cluster_name\":\"N\"}},\"status\":503},"
                "{\"path\":\"/e\",\"mutate\":{\"delete_connectors\":[\"q\"]},\"product_header\":true}]}";
        static const struct {
                const char *rules;
                const char *error;
        } bad[] = {
                { "[{\"body\":\"x\",\"drop\":true}]",
                  "r.json: faults[0]: \"body\" excludes \"drop\", \"malformed\" and \"truncate\"" },
                { "[{\"body\":\"x\",\"malformed\":true}]",
                  "r.json: faults[0]: \"body\" excludes \"drop\", \"malformed\" and \"truncate\"" },
                { "[{\"status\":500},{\"truncate\":true,\"body\":\"x\"}]",
                  "r.json: faults[1]: \"body\" excludes \"drop\", \"malformed\" and \"truncate\"" },
                { "[{\"body\":{}}]", "r.json: faults[0]: \"body\" has an invalid value" },
                { "[{\"body\":\"x\",\"content_type\":1}]",
                  "r.json: faults[0]: \"content_type\" has an invalid value" },
                { "[{\"status\":500,\"content_type\":\"text/plain\"}]",
                  "r.json: faults[0]: \"content_type\" needs a \"body\"" },
                { "[{\"status\":500,\"body\":\"x\",\"reason\":\"r\"}]",
                  "r.json: faults[0]: \"type\" and \"reason\" shape the error body, \"body\" replaces it: "
                  "give "
                  "one or the other" },
                { "[{\"body\":\"x\",\"retry_after\":\"1\"}]",
                  "r.json: faults[0]: \"retry_after\", \"type\" and \"reason\" need a \"status\"" },
                { "[{\"product_header\":\"no\"}]",
                  "r.json: faults[0]: \"product_header\" has an invalid value" },
                { "[{\"product_header\":true}]",
                  "r.json: faults[0]: no action (one of \"status\", \"body\", \"delay_ms\", \"drop\", "
                  "\"malformed\", \"truncate\", \"trickle_bytes_per_sec\", \"product_header\": false, "
                  "\"mutate\")" },
                { "[{\"mutate\":[]}]", "r.json: faults[0]: \"mutate\" must be an object" },
                { "[{\"mutate\":{\"connector\":[]}}]",
                  "r.json: faults[0]: mutate: unknown key \"connector\"" },
                { "[{\"mutate\":{\"connectors\":{}}}]",
                  "r.json: faults[0]: mutate: \"connectors\" must be an array" },
                { "[{\"status\":500},{\"mutate\":{\"connectors\":[{\"id\":\"a\"},{\"name\":\"b\"}]}}]",
                  "r.json: faults[1]: mutate: connectors[1]: \"id\" must be a non-empty string" },
                { "[{\"mutate\":{\"sync_jobs\":[{\"id\":\"j\"}]}}]",
                  "r.json: faults[0]: mutate: sync_jobs[0]: \"connector.id\" must be a string" },
                { "[{\"mutate\":{\"delete_connectors\":[\"a\",1]}}]",
                  "r.json: faults[0]: mutate: \"delete_connectors\" must be an array of non-empty strings" },
                { "[{\"mutate\":{\"delete_sync_jobs\":[\"\"]}}]",
                  "r.json: faults[0]: mutate: \"delete_sync_jobs\" must be an array of non-empty strings" },
                { "[{\"mutate\":{\"delete_sync_jobs\":\"k\"}}]",
                  "r.json: faults[0]: mutate: \"delete_sync_jobs\" must be an array of non-empty strings" },
                { "[{\"mutate\":{\"cluster\":{\"uuid\":\"u\"}}}]",
                  "r.json: faults[0]: mutate: cluster: unknown key \"uuid\"" },
                { "[{\"mutate\":{\"cluster\":{\"cluster_name\":7}}}]",
                  "r.json: faults[0]: mutate: cluster: \"cluster_name\" must be a string" },
                { "[{\"mutate\":{\"cluster\":\"u\"}}]", "r.json: faults[0]: mutate: cluster: must be an "
                                                        "object {\"cluster_uuid\": ..., \"cluster_name\": "
                                                        "...}" },
        };
        struct fake_faults *f = NULL;
        struct fake_fault_action a = {};
        struct strbuf sb = {};
        char *err = NULL;

        ok(fake_faults_new(&f, 1) == 0 && fake_faults_set(f, rules, strlen(rules), "r.json", &err) == 0,
           "rules with body, content_type, product_header and mutate parse");
        if (err)
                diag("%s", err);

        is_int(fake_faults_match(f, "GET", "/a", &a), 1, "body with status: matched");
        ok(a.status == 502 && streq_ptr(a.body, "Bad Gateway") && streq_ptr(a.content_type, "text/plain") &&
                   streq_ptr(a.retry_after, "1") && !a.no_product_header && !a.mutate,
           "body with status: the status, body, content type and Retry-After");
        fake_fault_action_json(&sb, &a);
        is_str(sb.s,
               "{\"rule\":0,\"action\":\"status\",\"status\":502,\"retry_after\":\"1\",\"body\":true,"
               "\"content_type\":\"text/plain\"}",
               "body with status: as the log records it");
        sb_done(&sb);
        fake_fault_action_done(&a);

        is_int(fake_faults_match(f, "DELETE", "/b", &a), 1, "body alone: matched");
        ok(a.status == 0 && streq_ptr(a.body, "{}") && !a.content_type, "body alone: no status, the body");
        fake_fault_action_json(&sb, &a);
        is_str(sb.s, "{\"rule\":1,\"action\":\"body\",\"body\":true}", "body alone: as the log records it");
        sb_done(&sb);
        fake_fault_action_done(&a);

        is_int(fake_faults_match(f, "GET", "/c", &a), 1, "product_header false: matched");
        ok(a.no_product_header && a.status == 0 && !a.body, "product_header false: an action of its own");
        fake_fault_action_json(&sb, &a);
        is_str(sb.s, "{\"rule\":2,\"action\":\"product_header\",\"product_header\":false}",
               "product_header false: as the log records it");
        sb_done(&sb);
        fake_fault_action_done(&a);

        is_int(fake_faults_match(f, "GET", "/d", &a), 1, "mutate: matched");
        /* The action is the caller's own: replacing the rules must not take it away. */
        ok(fake_faults_set(f, "{\"faults\":[]}", 13, "r.json", &err) == 0,
           "the rules are replaced meanwhile");
        ok(a.mutate && a.status == 503, "mutate: with its status");
        if (a.mutate) {
                is_str(a.mutate->documents,
                       "{\"connectors\":[{\"id\":\"x\",\"name\":\"X\"}],\"sync_jobs\":[{\"id\":\"j\","
                       "\"connector\":{\"id\":\"x\"}}]}",
                       "mutate: the documents to add, as a seed");
                ok(a.mutate->delete_connectors && streq_ptr(a.mutate->delete_connectors[0], "y") &&
                           streq_ptr(a.mutate->delete_connectors[1], "z") && !a.mutate->delete_connectors[2],
                   "mutate: the connectors to delete");
                ok(a.mutate->delete_sync_jobs && streq_ptr(a.mutate->delete_sync_jobs[0], "k") &&
                           !a.mutate->delete_sync_jobs[1],
                   "mutate: the sync jobs to delete");
                ok(streq_ptr(a.mutate->cluster_uuid, "U") && streq_ptr(a.mutate->cluster_name, "N"),
                   "mutate: the cluster identity");
        }
        fake_fault_action_json(&sb, &a);
        is_str(sb.s, "{\"rule\":3,\"action\":\"status\",\"status\":503,\"mutate\":true}",
               "a rule's mutation is shown");
        sb_done(&sb);
        a.mutated = true;
        fake_fault_action_json(&sb, &a);
        is_str(sb.s, "{\"rule\":3,\"action\":\"status\",\"status\":503,\"mutated\":true}",
               "an applied one is logged as mutated");
        sb_done(&sb);
        fake_fault_action_done(&a);

        ok(fake_faults_set(f, rules, strlen(rules), "r.json", &err) == 0, "the rules again");
        is_int(fake_faults_match(f, "GET", "/e", &a), 1, "mutate alone: matched");
        ok(a.mutate && !a.mutate->documents && !a.mutate->delete_sync_jobs && !a.mutate->cluster_uuid &&
                   !a.mutate->cluster_name && !a.no_product_header,
           "mutate alone: only what it names; product_header true is the default");
        fake_fault_action_json(&sb, &a);
        is_str(sb.s, "{\"rule\":4,\"action\":\"mutate\",\"mutate\":true}",
               "mutate alone: the action's name");
        sb_done(&sb);
        fake_fault_action_done(&a);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *doc = NULL;

                if (asprintf(&doc, "{\"faults\":%s}", bad[i].rules) < 0)
                        abort();
                err = NULL;
                is_int(fake_faults_set(f, doc, strlen(doc), "r.json", &err), -EINVAL, "refused: %s",
                       bad[i].rules);
                is_str(err, bad[i].error, "with the rule and the key");
                free(err);
        }
        is_int(fake_faults_match(f, "GET", "/c", &a), 1, "a refused rule set leaves the rules as they were");
        ok(a.no_product_header, "the earlier rule still applies");
        fake_fault_action_done(&a);
        f = fake_faults_free(f);
}

static void test_cluster_parse(void) {
        char *uuid = NULL, *name = NULL, *err = NULL;

        is_int(fake_cluster_parse("{\"cluster_name\":\"n\"}", 20, "b", &uuid, &name, &err), 0,
               "a cluster identity with only a name");
        ok(!uuid && streq_ptr(name, "n"), "the uuid is left unset");
        free(name);
        is_int(fake_cluster_parse("{\"cluster_uuid\":\"u\",\"cluster_name\":\"n\"}", 39, "b", &uuid, &name,
                                  &err),
               0, "with both");
        ok(streq_ptr(uuid, "u") && streq_ptr(name, "n"), "both are read");
        free(uuid);
        free(name);
        is_int(fake_cluster_parse("[]", 2, "b", &uuid, &name, &err), -EINVAL, "not an object");
        is_str(err, "b: must be an object {\"cluster_uuid\": ..., \"cluster_name\": ...}", "is refused");
        free(err);
        is_int(fake_cluster_parse("{\"cluster_uuid\":null}", 21, "b", &uuid, &name, &err), -EINVAL,
               "a null uuid");
        is_str(err, "b: \"cluster_uuid\" must be a string", "is refused");
        free(err);
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
        if (fake_store_new(&e->store) < 0)
                abort();
        /* As fake-cluster sets it up. */
        fake_store_set_soft_deletes(e->store, fake_version_at_least(&cfg.version, 9, 0));
        if (fake_store_load(e->store, seed, strlen(seed), "seed", &err) < 0 ||
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
               "{\"count\":2,\"results\":[{\"id\":\"b\",\"index_name\":\"i-b\",\"name\":\"B\",\"is_native\":"
               "false,\"status\":\"created\",\"sync_now\":false,\"deleted\":false}]}",
               "count is the total, results the page (the seeded connector completed)");
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

        is_int(call(&e, "GET", "/", NULL, NULL), 200, "GET /");
        ok(e.resp.body && strstr(e.resp.body, "\"cluster_name\":\"fake-cluster\",\"cluster_uuid\":"
                                              "\"ZmFrZS1jbHVzdGVyLXV1aWQ\""),
           "reports the default cluster name and uuid");
        ok(fake_api_set_cluster(e.api, "new\"uuid", NULL) == 0, "the uuid is changed");
        is_int(call(&e, "GET", "/", NULL, NULL), 200, "GET / again");
        ok(e.resp.body &&
                   strstr(e.resp.body, "\"cluster_name\":\"fake-cluster\",\"cluster_uuid\":\"new\\\"uuid\""),
           "reports the new uuid (escaped) and the name unchanged");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 200, "9.x soft delete");
        is_str(e.resp.body, "{\"acknowledged\":true}", "is acknowledged");
        is_int(call(&e, "GET", "/_connector/a", NULL, NULL), 404, "hides the connector");
        is_int(call(&e, "GET", "/_connector/a?include_deleted", NULL, NULL), 200,
               "include_deleted (empty = true)");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 404, "a second soft delete is a 404");
        is_int(call(&e, "DELETE", "/_connector/a?hard=true&delete_sync_jobs=true", NULL, NULL), 200,
               "a hard delete removes a soft-deleted one");
        is_str(e.resp.body, "{\"acknowledged\":true}", "and is acknowledged");
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
        is_str(e.resp.body, "{\"acknowledged\":true}", "acknowledged");
        is_int(call(&e, "GET", "/_connector/b", NULL, NULL), 200, "8.13 GET");
        is_str(e.resp.body,
               "{\"id\":\"b\",\"index_name\":\"i-b\",\"name\":\"B\",\"is_native\":false,\"status\":"
               "\"created\",\"sync_now\":false}",
               "8.x: a seeded connector is completed without deleted");
        is_int(call(&e, "DELETE", "/_connector/_sync_job/j", NULL, NULL), 200, "a sync job delete");
        is_str(e.resp.body, "{\"acknowledged\":true}", "is acknowledged");
        is_int(call(&e, "DELETE", "/_connector/a", NULL, NULL), 404, "for good");
        is_int(call(&e, "PUT", "/_connector", NULL, "{}"), 405, "8.13 has no PUT _connector");
        is_str(header(&e.resp, "Allow"), "GET,POST", "Allow says what there is");
        env_done(&e);

        {
                char uuid[] = "u-1";
                struct fake_api_config cfg = { .cluster_uuid = uuid, .cluster_name = "prod" };

                if (fake_store_new(&e.store) < 0 || fake_api_new(&e.api, &cfg, e.store, 1) < 0)
                        abort();
                uuid[0] = 'x'; /* the api keeps a copy */
                e.resp = (struct fake_response){};
                is_int(call(&e, "GET", "/", NULL, NULL), 200, "GET / with a configured identity");
                ok(e.resp.body && strstr(e.resp.body, "\"cluster_name\":\"prod\",\"cluster_uuid\":\"u-1\""),
                   "reports the configured name and uuid");
                env_done(&e);
        }

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

static void test_update_rules(void) {
        const char *two[] = { "host", "port" }, *same[] = { "BB", "Aa" }, *abc[] = { "c", "b", "a" };
        const char *grown[] = { "q", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l" };
        char *s = NULL;

        /* Hashes worked out by hand: "host" lands in bucket 8 of 16, "port" in 5; "Aa" and "BB"
         * share 2112; 'q' (113) is bucket 1 of 16 but 17 of 32, where 13 keys put it. */
        fake_java_hash_order(two, 2);
        ok(streq(two[0], "port") && streq(two[1], "host"), "a HashMap iterates port before host");
        fake_java_hash_order(same, 2);
        ok(streq(same[0], "BB") && streq(same[1], "Aa"), "keys of one bucket keep their insertion order");
        fake_java_hash_order(abc, 3);
        ok(streq(abc[0], "a") && streq(abc[1], "b") && streq(abc[2], "c"), "single letters by code");
        fake_java_hash_order(grown, ELEMENTSOF(grown));
        ok(streq(grown[0], "a") && streq(grown[11], "l") && streq(grown[12], "q"),
           "thirteen keys grow the table to 32 buckets");

        static const struct {
                const char *in, *out;
        } dates[] = {
                { "2023-05-25T12:30:00.000Z", "2023-05-25T12:30:00.000Z" },
                { "2024-05-01", "2024-05-01T00:00:00.000Z" },
                { "2024", "2024-01-01T00:00:00.000Z" },
                { "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z" },
                { "2024-05-01T12:00Z", "2024-05-01T12:00:00.000Z" },
                { "2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z" },
                { "2024-02-29T23:59:59.5-0130", "2024-03-01T01:29:59.500Z" },
                { "1700000000000", "2023-11-14T22:13:20.000Z" },
                { "-1", "1969-12-31T23:59:59.999Z" },
        };
        for (size_t i = 0; i < ELEMENTSOF(dates); i++) {
                is_int(fake_instant_normalize(dates[i].in, &s), 0, "the date '%s' reads", dates[i].in);
                is_str(s, dates[i].out, "as the Instant %s", dates[i].out);
                free(s);
                s = NULL;
        }
        is_int(fake_instant_normalize("2023-02-29", &s), -EINVAL, "February 29th of 2023 is no date");
        is_int(fake_instant_normalize("this is not a timestamp", &s), -EINVAL, "words are no date");
        is_int(fake_instant_normalize("2024-05-01 12:00", &s), -EINVAL, "a space instead of T is no date");

        static const struct {
                const char *expr;
                bool valid;
        } crons[] = {
                { "0 0 0 * * ?", true },         { "1 0 0 * * ?", true },
                { "0 0/15 * * * ?", true },      { "0 0 12 ? * MON-FRI", true },
                { "0 0 12 ? * mon,wed", true },  { "0 0 12 ? * 6#3", true },
                { "0 0 12 L * ?", true },        { "0 0 12 15W * ?", true },
                { "0 0 12 ? JAN-MAR 2L", true }, { "0 0 0 * * ? 2030", true },
                { "61 0 0 * * ?", false },       { "0 60 0 * * ?", false },
                { "0 0 24 * * ?", false },       { "0 0 0 * * *", false },
                { "0 0 0 ? * ?", false },        { "0 0 0 * *", false },
                { "0 0 0 * * ? 2030 1", false }, { "x 0 0 * * ?", false },
                { "0 0 0 32 * ?", false },       { "0 0 0 ? * 8", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(crons); i++)
                ok(fake_cron_valid(crons[i].expr) == crons[i].valid, "the cron expression '%s' is %s",
                   crons[i].expr, crons[i].valid ? "valid" : "refused");

        static const struct {
                const char *name, *problem;
        } names[] = {
                { "search-1", NULL },
                { "content-ünï", NULL },
                { "_bad", "must not start with '_', '-', or '+'" },
                { "+bad", "must not start with '_', '-', or '+'" },
                { "a b", "must not contain the following characters [\\, /, *, ?, \", <, >, |,  , ,]" },
                { "a/b", "must not contain the following characters [\\, /, *, ?, \", <, >, |,  , ,]" },
                { "", "must not be empty" },
                { "a#b", "must not contain '#'" },
                { "a:b", "must not contain ':'" },
                { "..", "must not be '.' or '..'" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                is_int(fake_index_name_check(names[i].name, &s), names[i].problem ? 1 : 0,
                       "the index name '%s' is %s", names[i].name, names[i].problem ? "refused" : "taken");
                is_str(s, names[i].problem, "with Elasticsearch's reason");
                free(s);
                s = NULL;
        }
        {
                char longname[301];

                memset(longname, 'a', 300);
                longname[300] = 0;
                is_int(fake_index_name_check(longname, &s), 1, "a 300-byte index name is refused");
                is_str(s, "index name is too long, (300 > 255)", "as too long");
                free(s);
        }
}

/* The update endpoints through fake_api_handle(): the answer, the stored document, and the list
 * order (a rewritten document moves after its ties; a noop writes nothing). */
static void test_update_api(void) {
        static const char more[] = "{\"connectors\":[{\"id\":\"c\",\"index_name\":\"i-a\",\"name\":\"C\"}]}";
        struct env e;
        char *err = NULL;

        env_init(&e, "9.1.3", NULL);
        ok(fake_store_load(e.store, more, strlen(more), "more", &err) == 0, "a second connector on i-a");
        is_int(call(&e, "GET", "/_connector?index_name=i-a&filter_path=results.id", NULL, NULL), 200,
               "list i-a");
        is_str(e.resp.body, "{\"results\":[{\"id\":\"a\"},{\"id\":\"c\"}]}", "a, then c (write order)");
        is_int(call(&e, "PUT", "/_connector/a/_name", NULL, "{\"name\":\"A2\"}"), 200, "rename a");
        is_str(e.resp.body, "{\"result\":\"updated\"}", "updated");
        is_int(call(&e, "GET", "/_connector?index_name=i-a&filter_path=results.id", NULL, NULL), 200,
               "list i-a");
        is_str(e.resp.body, "{\"results\":[{\"id\":\"c\"},{\"id\":\"a\"}]}",
               "the rewritten a moved after c");
        is_int(call(&e, "PUT", "/_connector/c/_name", NULL, "{\"name\":\"C\"}"), 200,
               "rename c to its name");
        is_str(e.resp.body, "{\"result\":\"noop\"}", "a noop");
        is_int(call(&e, "GET", "/_connector?index_name=i-a&filter_path=results.id", NULL, NULL), 200,
               "list i-a");
        is_str(e.resp.body, "{\"results\":[{\"id\":\"c\"},{\"id\":\"a\"}]}", "a noop writes nothing");
        is_int(call(&e, "GET", "/_connector/a?filter_path=name", NULL, NULL), 200, "get a");
        is_str(e.resp.body, "{\"name\":\"A2\"}", "a has its new name");
        is_int(call(&e, "PUT", "/_connector/a/_service_type", NULL, "{\"service_type\":\"s\"}"), 200,
               "a service type");
        is_int(call(&e, "GET", "/_connector/a?filter_path=service_type,status", NULL, NULL), 200, "get a");
        is_str(e.resp.body, "{\"status\":\"created\",\"service_type\":\"s\"}",
               "appended after the others; a created connector stays created");
        is_int(call(&e, "PUT", "/_connector/zz/_name", NULL, "{\"name\":\"x\"}"), 404,
               "a missing connector");
        ok(e.resp.body &&
                   strstr(e.resp.body,
                          "\"type\":\"document_missing_exception\",\"reason\":\"[zz]: document missing\""),
           "is a missing document to an update that does not read it first");
        is_str(e.resp.connector_id, "zz", "the log names the connector");
        env_done(&e);

        env_init(&e, "8.12.2", NULL);
        is_int(call(&e, "PUT", "/_connector/a/_index_name", NULL, "{\"index_name\":\"x\"}"), 400,
               "8.12 has no _index_name");
        is_str(e.resp.body,
               "{\"error\":\"no handler found for uri [/_connector/a/_index_name] and method "
               "[PUT]\",\"status\":400}",
               "no handler");
        env_done(&e);
}

static void test_syncjob_rules(void) {
        static const struct {
                const char *from, *to;
                bool valid;
        } cases[] = {
                { "pending", "in_progress", true },   { "pending", "canceled", true },
                { "pending", "canceling", false },    { "pending", "error", false },
                { "in_progress", "canceling", true }, { "in_progress", "completed", true },
                { "in_progress", "suspended", true }, { "in_progress", "error", true },
                { "in_progress", "canceled", false }, { "suspended", "in_progress", true },
                { "suspended", "canceled", true },    { "suspended", "canceling", false },
                { "canceling", "canceled", true },    { "canceling", "error", true },
                { "canceling", "canceling", false },  { "completed", "error", false },
                { "canceled", "canceling", false },   { "error", "error", false },
                { "pending", "pending", false },      { "PENDING", "in_progress", false },
                { "nonsense", "canceled", false },    { "pending", "nonsense", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                ok(fake_syncjob_transition_valid(cases[i].from, cases[i].to) == cases[i].valid,
                   "sync job %s -> %s is %s", cases[i].from, cases[i].to,
                   cases[i].valid ? "valid" : "refused");
}

static void test_secret_store(void) {
        struct fake_store *s = NULL;
        const struct fake_doc **all = NULL;
        size_t n = 0;

        ok(fake_store_new(&s) == 0, "a store");
        ok(!fake_store_secret_index_exists(s), "no secrets index at first");
        is_int(fake_store_remove_secret(s, "x"), -ENOENT, "removing a missing secret");
        is_int(fake_store_put_secret(s, "x", "v1"), 1, "a new secret is created");
        ok(fake_store_secret_index_exists(s), "the first write creates the index");
        is_int(fake_store_put_secret(s, "y", "say \"hi\""), 1, "a second one");
        is_int(fake_store_put_secret(s, "x", "v2"), 0, "writing x again replaces it");
        is_str(fake_store_get_secret(s, "x")->source, "{\"value\":\"v2\"}", "its whole source");
        is_str(fake_store_get_secret(s, "y")->source, "{\"value\":\"say \\\"hi\\\"\"}", "quotes escaped");
        is_int((int) fake_store_n_secrets(s), 2, "two secrets");
        ok(fake_store_all_secrets(s, &all, &n) == 0 && n == 2 && streq(all[0]->id, "y") &&
                   streq(all[1]->id, "x"),
           "listed in write order: y, then the rewritten x");
        free(all);
        is_int((int) fake_store_n_connectors(s) + (int) fake_store_n_sync_jobs(s), 0, "no other documents");
        is_int(fake_store_remove_secret(s, "y"), 0, "y removed");
        ok(!fake_store_get_secret(s, "y"), "y is gone");
        ok(fake_store_secret_index_exists(s), "the index stays");
        fake_store_clear(s);
        is_int((int) fake_store_n_secrets(s), 0, "clearing the store removes secrets");
        ok(!fake_store_secret_index_exists(s), "and their index");
        s = fake_store_free(s);
}

static void test_syncjob_api(void) {
        struct env e;

        env_init(&e, "9.1.3", NULL);
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_cancel", NULL, NULL), 400, "cancel j (no status)");
        ok(e.resp.body && strstr(e.resp.body, "\"reason\":\"Unknown SyncStatus: null\""),
           "a job without a status cannot be read");
        is_str(e.resp.sync_job_id, "j", "the log names the sync job");
        ok(!e.resp.connector_id, "and no connector");
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_check_in", NULL, NULL), 200, "check in j");
        is_str(e.resp.body, "{\"result\":\"updated\"}", "updated");
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_claim", NULL, "{\"worker_hostname\":\"w\"}"), 200,
               "claim j");
        is_int(call(&e, "GET", "/_connector/_sync_job/j?filter_path=status,worker_hostname", NULL, NULL),
               200, "get j");
        is_str(e.resp.body, "{\"worker_hostname\":\"w\",\"status\":\"in_progress\"}",
               "claimed; the members j lacked appended in a HashMap's order");
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_cancel", NULL, NULL), 200, "cancel j");
        is_int(call(&e, "GET", "/_connector/_sync_job/j?filter_path=status", NULL, NULL), 200, "get j");
        is_str(e.resp.body, "{\"status\":\"canceling\"}", "an in_progress job is canceling");
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_cancel", NULL, "{}"), 400, "a body to _cancel");
        ok(e.resp.body && strstr(e.resp.body, "does not support having a body"), "is refused");
        is_int(call(&e, "DELETE", "/_connector/_secret/s", NULL, NULL), 404, "a secret before the index");
        ok(e.resp.body && strstr(e.resp.body, "\"type\":\"index_not_found_exception\""), "no such index");
        ok(!e.resp.connector_id && !e.resp.sync_job_id,
           "a secret's id is neither a connector's nor a job's");
        is_int(call(&e, "PUT", "/_connector/_secret/s", NULL, "{\"value\":\"v\"}"), 201, "put s");
        is_str(e.resp.body, "{\"result\":\"created\"}", "created");
        is_int(call(&e, "GET", "/_connector/_secret/s", NULL, NULL), 200, "get s");
        is_str(e.resp.body, "{\"id\":\"s\",\"value\":\"v\"}", "its id and value");
        env_done(&e);

        env_init(&e, "8.14.3", NULL);
        is_int(call(&e, "PUT", "/_connector/_sync_job/j/_claim", NULL, "{\"worker_hostname\":\"w\"}"), 400,
               "8.14 has no _claim");
        is_str(e.resp.body,
               "{\"error\":\"no handler found for uri [/_connector/_sync_job/j/_claim] and method "
               "[PUT]\",\"status\":400}",
               "no handler");
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
        test_seed_defaults();
        test_fault_new_keys();
        test_cluster_parse();
        test_api();
        test_update_rules();
        test_update_api();
        test_syncjob_rules();
        test_secret_store();
        test_syncjob_api();
        return done();
}
