/* Printing a plan: the JSON object (parsed back with cJSON and compared field by field, escaping
 * included), the text for people (exact golden strings), the blocked forms and write errors. */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "report.h"
#include "tap.h"
#include "util.h"

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static bool endswith(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && streq(s + n - m, suffix);
}

#define SETS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_SETS   ((const char *const[]){ NULL })

static struct plan *plan_new(const char *blocked) {
        struct plan *p = calloc(1, sizeof(struct plan));

        if (!p)
                abort();
        if (blocked && !(p->blocked = strdup(blocked)))
                abort();
        return p;
}

/* Appends an item; the report follows the items' order, so callers add them in plan order. */
static void add(struct plan *p, enum plan_kind kind, const char *id, const char *const *sets, bool sync,
                bool hard, const char *reason) {
        struct plan_item *it;

        p->items = realloc(p->items, (p->n_items + 1) * sizeof(struct plan_item));
        if (!p->items)
                abort();
        it = p->items + p->n_items++;
        *it = (struct plan_item){ .kind = kind, .delete_sync_jobs = sync, .hard = hard };
        it->id = strdup(id);
        it->reason = reason ? strdup(reason) : NULL;
        while (sets[it->n_sets])
                it->n_sets++;
        it->sets = calloc(it->n_sets + 1, sizeof(char *));
        if (!it->id || (reason && !it->reason) || !it->sets)
                abort();
        for (size_t i = 0; i < it->n_sets; i++)
                if (!(it->sets[i] = strdup(sets[i])))
                        abort();
        p->counts[kind]++;
}

typedef int (*report_fn)(FILE *f, const struct plan *p);

/* Runs a report into memory; returns the output (owned by the caller) and the return value. */
static char *capture(report_fn fn, const struct plan *p, int *ret_r) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                abort();
        *ret_r = fn(f, p);
        if (fclose(f) != 0)
                abort();
        return buf;
}

static struct plan *small_plan(const char *blocked) {
        struct plan *p = plan_new(blocked);

        add(p, PLAN_DELETE, "team-a-old", SETS("team-a"), true, true, NULL);
        add(p, PLAN_DELETE, "team-a-tmp", SETS("team-a", "team-b"), false, false, NULL);
        add(p, PLAN_DELETE, "x-hard", SETS("A"), false, true, NULL);
        add(p, PLAN_DELETE, "x-sync", SETS("A"), true, false, NULL);
        add(p, PLAN_KEEP, "team-a-hr", SETS("team-a"), false, false, NULL);
        add(p, PLAN_MISSING, "team-a-gone", SETS("team-a"), false, false,
            "declared, but soft-deleted in the cluster (deleted: true)");
        add(p, PLAN_MISSING, "team-a-wiki", SETS("team-a"), false, false, NULL);
        add(p, PLAN_UNMANAGED, "other", NO_SETS, false, false, NULL);
        add(p, PLAN_PROTECTED, "team-b-old", SETS("team-b"), false, false,
            "set 'team-b' has prune.enabled: false");
        return p;
}

static const char *const json_top_keys[] = { "format_version", "cluster",    "manifests", "revision",
                                             "blocked",        "blocked_by", "delete",    "waiting",
                                             "protected",      "missing",    "keep",      "unmanaged" };
static const char *const json_item_keys[] = {
        "id",        "name",    "service_type",     "index_name",   "sets",
        "locations", "reason",  "delete_sync_jobs", "hard",         "permanent",
        "purge",     "dropped", "purge_at",         "orphan_since", "deletable_at",
};

static bool json_str_is(const cJSON *o, const char *key, const char *want) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!want)
                return cJSON_IsNull(v);
        return cJSON_IsString(v) && streq(v->valuestring, want);
}

static bool json_bool_is(const cJSON *o, const char *key, bool want) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsBool(v) && !!cJSON_IsTrue(v) == want;
}

static bool json_time_set(const cJSON *o, const char *key, bool want) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return want ? cJSON_IsString(v) : cJSON_IsNull(v);
}

/* Compares a parsed JSON report with the plan it came from, every field and the key order.
 * 'ids' (NULL for none) maps item i's id to what the JSON must hold instead (invalid UTF-8).
 * Returns NULL or what differs. */
static const char *json_matches(const cJSON *root, const struct plan *p, const char *const *ids) {
        const cJSON *child;
        size_t k = 0;

        if (!cJSON_IsObject(root))
                return "not an object";
        cJSON_ArrayForEach(child, root) {
                if (k >= ELEMENTSOF(json_top_keys) || !streq(child->string, json_top_keys[k]))
                        return "keys differ from connector-reconciler(8)'s, or their order";
                k++;
        }
        if (k != ELEMENTSOF(json_top_keys))
                return "keys missing";
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "format_version")) ||
            cJSON_GetObjectItemCaseSensitive(root, "format_version")->valueint != REPORT_FORMAT_VERSION)
                return "format_version differs";
        if (!json_str_is(root, "blocked", p->blocked))
                return "blocked differs";
        if ((size_t) cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "blocked_by")) !=
            p->n_block_reasons)
                return "blocked_by differs in number";

        for (int kind = 0; kind < _PLAN_KIND_MAX; kind++) {
                const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, plan_kind_to_string(kind));
                const cJSON *e = arr ? arr->child : NULL;

                if (!cJSON_IsArray(arr))
                        return "a kind is not an array";

                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;
                        const cJSON *sets, *s;
                        size_t n = 0;

                        if ((int) it->kind != kind)
                                continue;
                        if (!cJSON_IsObject(e))
                                return "fewer array elements than items";
                        cJSON_ArrayForEach(s, e) {
                                if (n >= ELEMENTSOF(json_item_keys) || !streq(s->string, json_item_keys[n]))
                                        return "an element's keys differ from connector-reconciler(8)'s";
                                n++;
                        }
                        if (n != ELEMENTSOF(json_item_keys))
                                return "an element lacks keys";
                        if (!json_str_is(e, "id", ids ? ids[i] : it->id))
                                return "id differs";
                        if (!json_str_is(e, "name", it->connector ? it->connector->name : NULL) ||
                            !json_str_is(e, "service_type",
                                         it->connector ? it->connector->service_type : NULL) ||
                            !json_str_is(e, "index_name", it->connector ? it->connector->index_name : NULL))
                                return "the connector's fields differ";
                        if (!json_bool_is(e, "delete_sync_jobs", it->delete_sync_jobs) ||
                            !json_bool_is(e, "hard", it->hard) || !json_bool_is(e, "purge", it->purge))
                                return "flags differ";
                        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "reason")))
                                return "no reason";
                        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "locations")) ||
                            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "dropped")))
                                return "locations or dropped not arrays";
                        sets = cJSON_GetObjectItemCaseSensitive(e, "sets");
                        if (!cJSON_IsArray(sets) || (size_t) cJSON_GetArraySize(sets) != it->n_sets)
                                return "sets differ in number";
                        n = 0;
                        cJSON_ArrayForEach(s, sets) {
                                if (!cJSON_IsString(s) || !streq(s->valuestring, it->sets[n]))
                                        return "a set name differs";
                                n++;
                        }
                        if (!json_time_set(e, "purge_at",
                                           it->kind == PLAN_PROTECTED && it->deletable_at_usec > 0) ||
                            !json_time_set(e, "deletable_at",
                                           it->kind == PLAN_WAITING && it->deletable_at_usec > 0) ||
                            !json_time_set(e, "orphan_since",
                                           (it->kind == PLAN_DELETE || it->kind == PLAN_WAITING) &&
                                                   it->since_usec > 0))
                                return "times differ";
                        e = e->next;
                }
                if (e)
                        return "more array elements than items";
        }
        return NULL;
}

/* One line, ended by a newline; no raw control character inside. */
static bool one_line(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || s[n - 1] != '\n')
                return false;
        for (size_t i = 0; i + 1 < n; i++)
                if ((unsigned char) s[i] < 0x20)
                        return false;
        return true;
}

static void check_json(const char *what, const struct plan *p, const char *const *ids) {
        _cleanup_free_ char *out = NULL;
        cJSON *root;
        const char *bad;
        int r;

        out = capture(report_plan_json, p, &r);
        is_int(r, 0, "json, %s: returns 0", what);
        ok(one_line(out), "json, %s: one line, no raw control characters", what);
        root = cJSON_Parse(out);
        if (!ok(root, "json, %s: parses", what)) {
                diag("output: %s", out);
                return;
        }
        bad = json_matches(root, p, ids);
        if (!ok(!bad, "json, %s: every field matches the plan", what))
                diag("%s; output: %s", bad, out);
        cJSON_Delete(root);
}

static void test_json(void) {
        _cleanup_(plan_freep) struct plan *small = small_plan(NULL);
        _cleanup_(plan_freep) struct plan *blocked = small_plan("the plan deletes 4 connectors, more than "
                                                                "safety.max_deletions (3)");
        _cleanup_(plan_freep) struct plan *empty = plan_new(NULL);
        _cleanup_(plan_freep) struct plan *esc = plan_new("set 'a\"b' declares\n\tno \\ connectors\x01");
        _cleanup_(plan_freep) struct plan *bad = plan_new(NULL);
        _cleanup_free_ char *out = NULL;
        int r;

        out = capture(report_plan_json, small, &r);
        is_int(r, 0, "json, small plan: returns 0");
        ok(strstr(out,
                  "{\"format_version\":1,\"cluster\":null,\"manifests\":null,\"revision\":null,\"blocked\":"
                  "null,"
                  "\"blocked_by\":[],\"delete\":[{\"id\":\"team-a-old\",\"name\":null,"
                  "\"service_type\":null,\"index_name\":null,\"sets\":[\"team-a\"],\"locations\":[],"
                  "\"reason\":\"orphan of set team-a; hard delete, for good, with its sync jobs\","
                  "\"delete_sync_jobs\":true,\"hard\":true,\"permanent\":true,\"purge\":false,"
                  "\"dropped\":[],\"purge_at\":null,\"orphan_since\":null,\"deletable_at\":null},") == out,
           "json, small plan: format_version first, a delete with every key");
        ok(strstr(out, ",\"keep\":[{\"id\":\"team-a-hr\",\"name\":null,\"service_type\":null,"
                       "\"index_name\":null,\"sets\":[\"team-a\"],\"locations\":[],\"reason\":\"declared "
                       "by set team-a\",\"delete_sync_jobs\":false,\"hard\":false,\"permanent\":null,"
                       "\"purge\":false,\"dropped\":[],\"purge_at\":null,\"orphan_since\":null,"
                       "\"deletable_at\":null}],"),
           "json, small plan: a kept connector has the same keys, sets a list");
        check_json("small plan", small, NULL);

        out = mfree(out);
        out = capture(report_plan_json, empty, &r);
        is_int(r, 0, "json, empty plan: returns 0");
        is_str(out,
               "{\"format_version\":1,\"cluster\":null,\"manifests\":null,\"revision\":null,\"blocked\":"
               "null,\"blocked_by\":[]"
               ","
               "\"delete\":[],\"waiting\":[],\"protected\":[],\"missing\":[],\"keep\":[],\"unmanaged\":[]}"
               "\n",
               "json, empty plan: every key, empty arrays, blocked null");
        check_json("empty plan", empty, NULL);

        out = mfree(out);
        out = capture(report_plan_json, blocked, &r);
        ok(r == 0 && strstr(out, ",\"blocked\":\"the plan deletes 4 connectors, more than "
                                 "safety.max_deletions (3)\",\"blocked_by\":[],"),
           "json, blocked plan: blocked is the reason");
        check_json("blocked plan", blocked, NULL);

        /* Escaping: quotes, backslashes, every kind of control character, multi-byte UTF-8. */
        add(esc, PLAN_DELETE, "q\"uote", SETS("set \"one\"", "set\\two", "set\nthree"), true, false, NULL);
        add(esc, PLAN_DELETE, "back\\slash", SETS("é"), false, true, NULL);
        add(esc, PLAN_KEEP, "ctl\x01\x02\x1f\x7f", SETS("\t"), false, false, NULL);
        add(esc, PLAN_KEEP, "\b\f\n\r\t", SETS("s"), false, false, NULL);
        add(esc, PLAN_MISSING, "é日本🙂", SETS("日本"), false, false, "soft\ndeleted");
        add(esc, PLAN_UNMANAGED, "", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "</script>\u2028", NO_SETS, false, false, NULL);
        add(esc, PLAN_PROTECTED, "p", SETS("s"), false, false, "set 'x\"y' has\r\nprune.enabled: \\false");
        check_json("escaping", esc, NULL);

        out = mfree(out);
        out = capture(report_plan_json, esc, &r);
        ok(strstr(out, "{\"id\":\"ctl\\u0001\\u0002\\u001f\\u007f\",") &&
                   strstr(out, "{\"id\":\"\\b\\f\\n\\r\\t\",") && strstr(out, "{\"id\":\"q\\\"uote\",") &&
                   strstr(out, "{\"id\":\"back\\\\slash\",") && strstr(out, "{\"id\":\"é日本🙂\","),
           "json, escaping: short escapes where JSON has them, \\u00XX for the other controls, UTF-8 as is");

        /* Bytes that are not valid UTF-8: each becomes U+FFFD. */
        static const char *const invalid[][2] = {
                { "bad\xff", "bad\xef\xbf\xbd" },
                { "\x80", "\xef\xbf\xbd" },                                 /* lone continuation */
                { "o\xc0\xafk", "o\xef\xbf\xbd\xef\xbf\xbdk" },             /* overlong '/' */
                { "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong, 3 bytes */
                { "\xf0\x80\x80\xaf",
                  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong, 4 bytes */
                { "\xed\x9f\xbf", "\xed\x9f\xbf" },         /* U+D7FF, the last before the surrogates */
                { "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" }, /* U+10FFFF, the last */
                { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },                 /* surrogate */
                { "\xe6\x97", "\xef\xbf\xbd\xef\xbf\xbd" },                                 /* truncated */
                { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
                { "\xf0\x9f\x99\x82\xff", "\xf0\x9f\x99\x82\xef\xbf\xbd" }, /* valid, then not */
        };
        const char *want_ids[ELEMENTSOF(invalid)];

        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                add(bad, PLAN_UNMANAGED, invalid[i][0], NO_SETS, false, false, NULL);
                want_ids[i] = invalid[i][1];
        }
        check_json("invalid UTF-8", bad, want_ids);
}

static void test_text(void) {
        _cleanup_(plan_freep) struct plan *small = small_plan("the plan deletes 4 connectors, more than "
                                                              "safety.max_deletions (3)");
        _cleanup_(plan_freep) struct plan *empty = plan_new(NULL);
        _cleanup_(plan_freep) struct plan *esc = plan_new("set 'a\nb' declares no connectors\x1b[2J");
        _cleanup_free_ char *out = NULL;
        int r;

        out = capture(report_plan_text, small, &r);
        is_int(r, 0, "text, small blocked plan: returns 0");
        is_str(out,
               "BLOCKED: this cycle deletes nothing, for 1 reason:\n"
               "  1. the plan deletes 4 connectors, more than safety.max_deletions (3)\n"
               "\n"
               "  - delete    team-a-old  set team-a: orphan of set team-a; hard delete, for good, with its "
               "sync jobs\n"
               "  - delete    team-a-tmp  sets team-a, team-b: orphan of sets team-a, team-b; delete (soft "
               "on Elasticsearch 9.x, for good on 8.x), sync jobs kept\n"
               "  - delete    x-hard  set A: orphan of set A; hard delete, for good, sync jobs kept\n"
               "  - delete    x-sync  set A: orphan of set A; delete (soft on Elasticsearch 9.x, for good "
               "on 8.x), with its sync jobs\n"
               "  ! protected team-b-old  set team-b: set 'team-b' has prune.enabled: false\n"
               "  ? missing   team-a-gone  set team-a: declared by set team-a, but soft-deleted in the "
               "cluster (deleted: true)\n"
               "  ? missing   team-a-wiki  set team-a: declared by set team-a, not in the cluster\n"
               "  = keep      team-a-hr  set team-a: declared by set team-a\n"
               "  . unmanaged other: owned by no set: never touched\n"
               "Plan: 4 to delete, 0 waiting, 1 protected, 2 missing, 1 to keep, 1 unmanaged; BLOCKED: "
               "nothing is deleted.\n",
               "text, small blocked plan: grouped lines, summary, blocked last");

        /* The same plan not blocked: no BLOCKED section, the items first. */
        small->blocked = mfree(small->blocked);
        out = mfree(out);
        out = capture(report_plan_text, small, &r);
        ok(r == 0 && !strstr(out, "BLOCKED") && startswith(out, "  - delete    team-a-old  ") &&
                   endswith(out, "  . unmanaged other: owned by no set: never touched\n"
                                 "Plan: 4 to delete, 0 waiting, 1 protected, 2 missing, 1 to keep, 1 "
                                 "unmanaged.\n"),
           "text, small plan not blocked: the summary is the last line");

        out = mfree(out);
        out = capture(report_plan_text, empty, &r);
        is_int(r, 0, "text, empty plan: returns 0");
        is_str(out, "Plan: 0 to delete, 0 waiting, 0 protected, 0 missing, 0 to keep, 0 unmanaged.\n",
               "text, empty plan: only the summary");

        add(esc, PLAN_DELETE, "a\nb", SETS("set\nname", "t\\u"), true, false, NULL);
        add(esc, PLAN_KEEP, "tab\there", SETS("é"), false, false, NULL);
        add(esc, PLAN_UNMANAGED, "back\\slash", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "\x1b[31mred\r", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "del\x7f\x01", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "bad\xff\xc0", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "csi\xc2\x9b", NO_SETS, false, false, NULL);
        add(esc, PLAN_UNMANAGED, "rlo\xe2\x80\xae|ls\xe2\x80\xa8|ps\xe2\x80\xa9|lri\xe2\x81\xa6", NO_SETS,
            false, false, NULL);
        add(esc, PLAN_UNMANAGED, "été日本🙂", NO_SETS, false, false, NULL);
        add(esc, PLAN_PROTECTED, "p", SETS("s"), false, false, "line one\nline two");
        out = mfree(out);
        out = capture(report_plan_text, esc, &r);
        is_int(r, 0, "text, escaping: returns 0");
        is_str(out,
               "BLOCKED: this cycle deletes nothing, for 1 reason:\n"
               "  1. set 'a\\nb' declares no connectors\\x1b[2J\n"
               "\n"
               "  - delete    a\\nb  sets set\\nname, t\\\\u: orphan of sets set\\nname, t\\\\u; delete "
               "(soft on Elasticsearch 9.x, for good on 8.x), with its sync jobs\n"
               "  ! protected p  set s: line one\\nline two\n"
               "  = keep      tab\\there  set é: declared by set é\n"
               "  . unmanaged back\\\\slash: owned by no set: never touched\n"
               "  . unmanaged \\x1b[31mred\\r: owned by no set: never touched\n"
               "  . unmanaged del\\x7f\\x01: owned by no set: never touched\n"
               "  . unmanaged bad\\xff\\xc0: owned by no set: never touched\n"
               "  . unmanaged csi\\u009b: owned by no set: never touched\n"
               "  . unmanaged rlo\\u202e|ls\\u2028|ps\\u2029|lri\\u2066: owned by no set: never touched\n"
               "  . unmanaged été日本🙂: owned by no set: never touched\n"
               "Plan: 1 to delete, 0 waiting, 1 protected, 0 missing, 1 to keep, 7 unmanaged; BLOCKED: "
               "nothing is deleted.\n",
               "text, escaping: one line per connector, controls and invalid UTF-8 escaped, UTF-8 as is");

        /* The audit's near misses: ids that only look alike print differently. Ids get their edge
         * spaces escaped; set names and reasons do not, but the invisible characters in them are. */
        {
                _cleanup_(plan_freep) struct plan *near = plan_new(NULL);

                add(near, PLAN_DELETE, "team-a-hr", SETS("team-a"), false, false, NULL);
                add(near, PLAN_DELETE, "team-a-wiki", SETS("team-a"), false, false, NULL);
                add(near, PLAN_DELETE, "café", SETS("team-a"), false, false, NULL);
                add(near, PLAN_MISSING, " team-a-hr ", SETS("team-a"), false, false, NULL);
                add(near, PLAN_MISSING, "team-a-wiki\xe2\x80\x8b", SETS("team-a"), false, false, NULL);
                add(near, PLAN_MISSING, "cafe\xcc\x81", SETS("team-a"), false, false, NULL);
                add(near, PLAN_MISSING,
                    "a\xc2\xa0"
                    "b\xef\xbb\xbf",
                    SETS("set a "), false, false, "reason \xe2\x80\xae");
                out = mfree(out);
                out = capture(report_plan_text, near, &r);
                is_str(out,
                       "  - delete    team-a-hr  set team-a: orphan of set team-a; delete (soft on "
                       "Elasticsearch 9.x, for good on 8.x), sync jobs kept\n"
                       "  - delete    team-a-wiki  set team-a: orphan of set team-a; delete (soft on "
                       "Elasticsearch 9.x, for good on 8.x), sync jobs kept\n"
                       "  - delete    café  set team-a: orphan of set team-a; delete (soft on Elasticsearch "
                       "9.x, for good on 8.x), sync jobs kept\n"
                       "  ? missing   \\x20team-a-hr\\x20  set team-a: declared by set team-a, not in the "
                       "cluster\n"
                       "  ? missing   team-a-wiki\\u200b  set team-a: declared by set team-a, not in the "
                       "cluster\n"
                       "  ? missing   cafe\\u0301  set team-a: declared by set team-a, not in the cluster\n"
                       "  ? missing   a\\u00a0b\\ufeff  set set a : declared by set set a ; reason \\u202e\n"
                       "Plan: 3 to delete, 0 waiting, 0 protected, 4 missing, 0 to keep, 0 unmanaged.\n",
                       "text, near misses: edge spaces of ids, zero width, combining and no-break "
                       "characters shown");
        }
}

static void test_write_errors(void) {
        _cleanup_(plan_freep) struct plan *p = small_plan(NULL);
        FILE *f;

        f = fopen("/dev/full", "we");
        if (!f) {
                ok(true, "# SKIP no /dev/full: json write error");
                ok(true, "# SKIP no /dev/full: text write error");
                return;
        }
        is_int(report_plan_json(f, p), -ENOSPC, "json: a write error is returned as -ENOSPC");
        (void) fclose(f);

        f = fopen("/dev/full", "we");
        if (!f)
                abort();
        is_int(report_plan_text(f, p), -ENOSPC, "text: a write error is returned as -ENOSPC");
        (void) fclose(f);
}

/* The report of a plan that plan_build() made, to tie the two modules together. */
static void test_built_plan(void) {
        char name[] = "team \"a\"", prefix[] = "a-", keep[] = "a-keep", missing[] = "a-missing",
             old[] = "a-old\n", other[] = "b", gone[] = "a-gone";
        char *a_prefixes[] = { prefix };
        struct plan_declared decl[] = { { .id = keep }, { .id = missing } };
        struct plan_set sets[] = {
                { .name = name,
                  .id_prefixes = a_prefixes,
                  .n_id_prefixes = 1,
                  .prune_enabled = true,
                  .delete_sync_jobs = true,
                  .connectors = decl,
                  .n_connectors = 2 },
        };
        struct plan_connector actual[] = {
                { .id = keep },
                { .id = old },
                { .id = other },
                { .id = gone, .deleted = true },
        };
        struct plan_policy policy = { 0 };
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_free_ char *out = NULL;
        int r;

        r = plan_build(sets, ELEMENTSOF(sets), actual, ELEMENTSOF(actual), &policy, &p);
        if (!is_int(r, 0, "built plan: plan_build() succeeds"))
                return;
        check_json("built plan", p, NULL);
        out = capture(report_plan_text, p, &r);
        is_str(out,
               "BLOCKED: this cycle deletes nothing, for 1 reason:\n"
               "  1. the plan deletes 1 connector, more than safety.max_deletions (0)\n"
               "     fix: check the deletions below; if they are meant, pass --max-deletions 1 once, or "
               "raise safety.max_deletions\n"
               "\n"
               "  - delete    a-old\\n  set team \"a\": orphan of set team \"a\"; delete (soft on "
               "Elasticsearch 9.x, for good on 8.x), with its sync jobs\n"
               "  ! protected a-gone  set team \"a\": soft-deleted in the cluster (deleted: true); not "
               "deleted again\n"
               "  ? missing   a-missing  set team \"a\": declared by set team \"a\", not in the cluster\n"
               "  = keep      a-keep  set team \"a\": declared by set team \"a\"\n"
               "  . unmanaged b: owned by no set: never touched\n"
               "Plan: 1 to delete, 0 waiting, 1 protected, 1 missing, 1 to keep, 1 unmanaged; BLOCKED: "
               "nothing is deleted.\n",
               "built plan: text");
}

/* ---- Golden files: a fixed scenario, as `plan` prints it (tests/data/plan/) ---- */

static struct plan_item *last(struct plan *p) {
        return p->items + p->n_items - 1;
}

static void add_block(struct plan *p, enum plan_block rule, const char *set, const char *text) {
        struct plan_block_reason *a = realloc(p->block_reasons, (p->n_block_reasons + 1) * sizeof(*a));
        char *joined;

        if (!a)
                abort();
        p->block_reasons = a;
        a[p->n_block_reasons] = (struct plan_block_reason){ .rule = rule,
                                                            .set = set ? strdup(set) : NULL,
                                                            .text = strdup(text) };
        if (!a[p->n_block_reasons].text || (set && !a[p->n_block_reasons].set))
                abort();
        p->n_block_reasons++;
        p->blocked_by |= rule;
        if (asprintf(&joined, "%s%s%s", strempty(p->blocked), p->blocked ? "; " : "", text) < 0)
                abort();
        free(p->blocked);
        p->blocked = joined;
}

#define T0        UINT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define HOUR_USEC (UINT64_C(3600) * USEC_PER_SEC)

/* A writable string with static storage, for the char * fields. */
#define S(x) ((char[]){ x })

static const struct plan_connector golden_connectors[] = {
        { .id = S("team-a-old"),
          .name = S("Old drive"),
          .service_type = S("google_drive"),
          .index_name = S("search-a-old") },
        { .id = S("team-a-tmp"),
          .name = S("Scratch"),
          .service_type = S("sharepoint_online"),
          .index_name = S("search-a-tmp") },
        { .id = S("team-b-draft"),
          .name = S("Draft wiki"),
          .service_type = S("confluence"),
          .index_name = S("search-b-draft") },
        { .id = S("team-b-gone"),
          .name = S("Gone"),
          .service_type = S("jira"),
          .index_name = S("search-b-gone"),
          .deleted = true },
        { .id = S("team-a-new"),
          .name = S("New drive"),
          .service_type = S("google_drive"),
          .index_name = S("search-a-new") },
        { .id = S("legacy-jira"),
          .name = S("Legacy Jira"),
          .service_type = S("jira"),
          .index_name = S("legacy-jira") },
        { .id = S("team-b-old"),
          .name = S("Old wiki"),
          .service_type = S("confluence"),
          .index_name = S("search-b-old"),
          .deleted = true },
        { .id = S("team-a-wiki"),
          .name = S("Wiki"),
          .service_type = S("confluence"),
          .index_name = S("search-a-wiki"),
          .deleted = true },
        { .id = S("team-a-intranet"),
          .name = S("Intranet"),
          .service_type = S("sharepoint_online"),
          .index_name = S("search-a-intranet") },
        { .id = S("marketing-crm"), .name = NULL, .service_type = S("salesforce"), .index_name = NULL },
};

static const struct report_set golden_sets[] = {
        { .name = "team-a",
          .file = "manifests/team-a.yaml",
          .line = 4,
          .prune_enabled = true,
          .delete_sync_jobs = true,
          .hard = true },
        { .name = "shared",
          .file = "manifests/shared.yaml",
          .line = 4,
          .prune_enabled = true,
          .delete_sync_jobs = true },
        { .name = "team-b",
          .file = "manifests/team-b.yaml",
          .line = 12,
          .prune_enabled = true,
          .purge_after_usec = 168 * HOUR_USEC },
        { .name = "legacy", .file = "manifests/shared.yaml", .line = 20 },
        { .name = "team-c", .file = "manifests/team-c.yaml", .line = 4, .prune_enabled = true },
};

static const struct report_context golden_ctx = {
        .cluster_url = "http://127.0.0.1:9200",
        .cluster_name = "search-prod",
        .cluster_uuid = "ZmFrZS1jbHVzdGVyLXV1aWQ",
        .es_version = "9.1.3",
        .es_major = 9,
        .manifests_digest = "sha256:ac20fc61cae5fa717e570e0d3fd4bd9d5f18607204e1b6cee2956b6e3c5a65b9",
        .revision = "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
        .sets = golden_sets,
        .n_sets = ELEMENTSOF(golden_sets),
};

/* Every kind, the flags the sets disagree on, a purge, times, and three blocking rules. */
static struct plan *golden_plan(void) {
        struct plan *p = plan_new(NULL);

        add(p, PLAN_DELETE, "team-a-old", SETS("shared", "team-a"), true, false, NULL);
        last(p)->connector = golden_connectors + 0;
        last(p)->since_usec = T0;
        add(p, PLAN_DELETE, "team-a-tmp", SETS("team-a"), true, true, NULL);
        last(p)->connector = golden_connectors + 1;
        last(p)->since_usec = T0;
        add(p, PLAN_DELETE, "team-b-draft", SETS("team-b"), false, false, NULL);
        last(p)->connector = golden_connectors + 2;
        last(p)->since_usec = T0;
        add(p, PLAN_DELETE, "team-b-gone", SETS("team-b"), false, true, NULL);
        last(p)->connector = golden_connectors + 3;
        last(p)->purge = true;
        add(p, PLAN_WAITING, "team-a-new", SETS("team-a"), false, false, NULL);
        last(p)->connector = golden_connectors + 4;
        last(p)->since_usec = T0 + 2 * HOUR_USEC;
        last(p)->deletable_at_usec = T0 + 26 * HOUR_USEC;
        add(p, PLAN_PROTECTED, "legacy-jira", SETS("legacy"), false, false,
            "set 'legacy' has prune.enabled: false");
        last(p)->connector = golden_connectors + 5;
        add(p, PLAN_PROTECTED, "team-b-old", SETS("team-b"), false, false, PLAN_REASON_PURGE_AT);
        last(p)->connector = golden_connectors + 6;
        last(p)->deletable_at_usec = T0 + 100 * HOUR_USEC;
        add(p, PLAN_MISSING, "team-a-hr", SETS("team-a"), false, false, NULL);
        add(p, PLAN_MISSING, "team-a-wiki", SETS("team-a"), false, false,
            "declared, but soft-deleted in the cluster (deleted: true)");
        last(p)->connector = golden_connectors + 7;
        add(p, PLAN_KEEP, "team-a-intranet", SETS("team-a"), false, false, NULL);
        last(p)->connector = golden_connectors + 8;
        add(p, PLAN_UNMANAGED, "marketing-crm", NO_SETS, false, false, NULL);
        last(p)->connector = golden_connectors + 9;

        add_block(
                p, PLAN_BLOCK_ALLOW_EMPTY, "team-c",
                "set 'team-c' declares no connectors but owns 1 in the cluster; refusing to delete them all "
                "(set prune.allow_empty: true to allow this)");
        add_block(p, PLAN_BLOCK_REMOVED_SET, "team-old",
                  "set 'team-old' is gone from the manifests since the last cycle that ran, and 1 connector "
                  "it "
                  "declared then would now be deleted (such as 'team-a-tmp'); if its removal is meant, "
                  "confirm "
                  "it (once: --confirm-removed-set team-old; in the config: safety.confirm_removed_sets)");
        add_block(p, PLAN_BLOCK_MAX_DELETIONS, NULL,
                  "the plan deletes 4 connectors, more than safety.max_deletions (3)");
        return p;
}

typedef int (*report_ctx_fn)(FILE *f, const struct plan *p, const struct report_context *ctx);

static char *capture_ctx(report_ctx_fn fn, const struct plan *p, const struct report_context *ctx) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                abort();
        if (fn(f, p, ctx) < 0)
                abort();
        if (fclose(f) != 0)
                abort();
        return buf;
}

/* Compares 'got' with tests/data/plan/NAME exactly; with REPORT_GOLDEN_UPDATE=1, writes it there
 * first (to review with git diff). */
static void golden(const char *name, const char *got) {
        const char *top = getenv("top_srcdir") ?: ".";
        _cleanup_free_ char *path = NULL, *want = NULL;
        size_t size = 0;
        FILE *f;

        if (asprintf(&path, "%s/tests/data/plan/%s", top, name) < 0)
                abort();
        if (getenv("REPORT_GOLDEN_UPDATE")) {
                f = fopen(path, "we");
                if (!f || fputs(got, f) < 0 || fclose(f) != 0)
                        abort();
        }
        f = fopen(path, "re");
        if (!ok(f, "golden %s: readable", name))
                return;
        want = calloc(1, 1 << 16);
        if (!want)
                abort();
        size = fread(want, 1, (1 << 16) - 1, f);
        (void) fclose(f);
        want[size] = 0;
        is_str(got, want, "golden %s: the output is the file, byte for byte", name);
}

static void test_golden(void) {
        _cleanup_(plan_freep) struct plan *p = golden_plan();
        struct report_context ctx = golden_ctx;
        _cleanup_free_ char *text = NULL, *color = NULL, *json = NULL, *v8 = NULL, *unknown = NULL;
        cJSON *root;

        text = capture_ctx(report_plan_text_ctx, p, &ctx);
        golden("scenario.txt", text);
        ok(!strchr(text, '\033'), "golden: no escape sequence without colour");

        ctx.color = true;
        color = capture_ctx(report_plan_text_ctx, p, &ctx);
        golden("scenario.color.txt", color);
        ok(strstr(color, "\033[31m- delete   \033[0m team-a-old") &&
                   strstr(color, "\033[1;31mBLOCKED:\033[0m"),
           "golden: with colour, marks and BLOCKED in SGR");

        ctx.color = false;
        json = capture_ctx(report_plan_json_ctx, p, &ctx);
        golden("scenario.json", json);
        ok(!strchr(json, '\033'), "golden: JSON never has colours");
        root = cJSON_Parse(json);
        ok(root && !json_matches(root, p, NULL), "golden: the JSON matches the plan");
        cJSON_Delete(root);

        ctx.es_version = "8.19.0";
        ctx.es_major = 8;
        v8 = capture_ctx(report_plan_text_ctx, p, &ctx);
        ok(strstr(v8,
                  "orphan of set team-b; delete for good (Elasticsearch 8.x has no soft delete), sync jobs "
                  "kept\n"),
           "8.x: a delete without hard is for good, and no purge follows");
        ctx.es_version = NULL;
        ctx.es_major = 0;
        unknown = capture_ctx(report_plan_text_ctx, p, &ctx);
        ok(strstr(unknown,
                  "orphan of set team-b; delete (soft on Elasticsearch 9.x, for good on 8.x), sync jobs "
                  "kept\n"),
           "version not known: both outcomes said");
}

int main(void) {
        test_json();
        test_text();
        test_write_errors();
        test_built_plan();
        test_golden();
        return done();
}
