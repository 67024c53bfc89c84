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

static const char *const json_keys[] = { "delete",    "keep",    "missing", "unmanaged",
                                         "protected", "waiting", "blocked" };

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

/* Compares a parsed JSON report with the plan it came from, every field and the key order.
 * 'ids' (NULL for none) maps item i's id to what the JSON must hold instead (invalid UTF-8).
 * Returns NULL or what differs. */
static const char *json_matches(const cJSON *root, const struct plan *p, const char *const *ids) {
        const cJSON *child;
        size_t k = 0;

        if (!cJSON_IsObject(root))
                return "not an object";
        cJSON_ArrayForEach(child, root) {
                if (k >= ELEMENTSOF(json_keys) || !streq(child->string, json_keys[k]))
                        return "keys differ from connector-reconciler(8)'s, or their order";
                k++;
        }
        if (k != ELEMENTSOF(json_keys))
                return "keys missing";
        if (!json_str_is(root, "blocked", p->blocked))
                return "blocked differs";

        for (int kind = 0; kind < _PLAN_KIND_MAX; kind++) {
                const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, json_keys[kind]);
                const cJSON *e = arr ? arr->child : NULL;
                size_t n_keys;

                if (!cJSON_IsArray(arr))
                        return "a kind is not an array";
                n_keys = kind == PLAN_DELETE      ? 5
                         : kind == PLAN_WAITING   ? 4
                         : kind == PLAN_UNMANAGED ? 1
                         : kind == PLAN_PROTECTED ? 3
                                                  : 2;

                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;
                        const cJSON *sets, *s;
                        size_t n = 0;

                        if ((int) it->kind != kind)
                                continue;
                        if (!cJSON_IsObject(e))
                                return "fewer array elements than items";
                        cJSON_ArrayForEach(s, e) n++;
                        if (n != n_keys)
                                return "an element has other keys than connector-reconciler(8)'s";
                        if (!streq(e->child->string, "id") || !json_str_is(e, "id", ids ? ids[i] : it->id))
                                return "id differs (or is not the first key)";
                        switch (it->kind) {
                        case PLAN_DELETE:
                                if (!json_bool_is(e, "delete_sync_jobs", it->delete_sync_jobs) ||
                                    !json_bool_is(e, "hard", it->hard) ||
                                    !json_bool_is(e, "purge", it->purge))
                                        return "delete flags differ";
                                sets = cJSON_GetObjectItemCaseSensitive(e, "sets");
                                if (!cJSON_IsArray(sets) || (size_t) cJSON_GetArraySize(sets) != it->n_sets)
                                        return "sets differ in number";
                                n = 0;
                                cJSON_ArrayForEach(s, sets) {
                                        if (!cJSON_IsString(s) || !streq(s->valuestring, it->sets[n]))
                                                return "a set name differs";
                                        n++;
                                }
                                break;
                        case PLAN_KEEP:
                        case PLAN_MISSING:
                                if (!json_str_is(e, "set", it->sets[0]))
                                        return "set differs";
                                break;
                        case PLAN_PROTECTED:
                                if (!json_str_is(e, "reason", it->reason))
                                        return "reason differs";
                                if (it->deletable_at_usec > 0
                                            ? !cJSON_IsString(
                                                      cJSON_GetObjectItemCaseSensitive(e, "purge_at"))
                                            : !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "purge_at")))
                                        return "purge_at differs";
                                break;
                        case PLAN_WAITING:
                                sets = cJSON_GetObjectItemCaseSensitive(e, "sets");
                                if (!cJSON_IsArray(sets) ||
                                    (size_t) cJSON_GetArraySize(sets) != it->n_sets ||
                                    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "deletable_at")))
                                        return "waiting sets or deletable_at differ";
                                break;
                        case PLAN_UNMANAGED:
                        case _PLAN_KIND_MAX:
                                break;
                        }
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
        is_str(out,
               "{\"delete\":[{\"id\":\"team-a-old\",\"delete_sync_jobs\":true,\"hard\":true,\"purge\":false,"
               "\"sets\":["
               "\"team-a\"]},"
               "{\"id\":\"team-a-tmp\",\"delete_sync_jobs\":false,\"hard\":false,\"purge\":false,\"sets\":["
               "\"team-a\","
               "\"team-b\"]},"
               "{\"id\":\"x-hard\",\"delete_sync_jobs\":false,\"hard\":true,\"purge\":false,\"sets\":[\"A\"]"
               "},"
               "{\"id\":\"x-sync\",\"delete_sync_jobs\":true,\"hard\":false,\"purge\":false,\"sets\":[\"A\"]"
               "}],"
               "\"keep\":[{\"id\":\"team-a-hr\",\"set\":\"team-a\"}],"
               "\"missing\":[{\"id\":\"team-a-gone\",\"set\":\"team-a\"},{\"id\":\"team-a-wiki\",\"set\":"
               "\"team-a\"}],"
               "\"unmanaged\":[{\"id\":\"other\"}],"
               "\"protected\":[{\"id\":\"team-b-old\",\"reason\":\"set 'team-b' has prune.enabled: "
               "false\",\"purge_at\":null}],"
               "\"waiting\":[],"
               "\"blocked\":null}\n",
               "json, small plan: exact output");
        check_json("small plan", small, NULL);

        out = mfree(out);
        out = capture(report_plan_json, empty, &r);
        is_int(r, 0, "json, empty plan: returns 0");
        is_str(out,
               "{\"delete\":[],\"keep\":[],\"missing\":[],\"unmanaged\":[],\"protected\":[],\"waiting\":[],"
               "\"blocked\":null}\n",
               "json, empty plan: every key, empty arrays, blocked null");
        check_json("empty plan", empty, NULL);

        out = mfree(out);
        out = capture(report_plan_json, blocked, &r);
        ok(r == 0 && strstr(out, ",\"blocked\":\"the plan deletes 4 connectors, more than "
                                 "safety.max_deletions (3)\"}\n"),
           "json, blocked plan: blocked is the reason, last");
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
               "  - delete    team-a-old  (sets: team-a; delete_sync_jobs, hard)\n"
               "  - delete    team-a-tmp  (sets: team-a, team-b)\n"
               "  - delete    x-hard  (sets: A; hard)\n"
               "  - delete    x-sync  (sets: A; delete_sync_jobs)\n"
               "  ~ protected team-b-old  (sets: team-b): set 'team-b' has prune.enabled: false\n"
               "  ! missing   team-a-gone  (set: team-a): declared, but soft-deleted in the cluster "
               "(deleted: true)\n"
               "  ! missing   team-a-wiki  (set: team-a)\n"
               "    keep      team-a-hr  (set: team-a)\n"
               "    unmanaged other\n"
               "Plan: 4 to delete, 1 to keep, 2 missing, 1 unmanaged, 1 protected.\n"
               "Blocked: the plan deletes 4 connectors, more than safety.max_deletions (3)\n",
               "text, small blocked plan: grouped lines, summary, blocked last");

        /* The same plan not blocked: no Blocked line. */
        small->blocked = mfree(small->blocked);
        out = mfree(out);
        out = capture(report_plan_text, small, &r);
        ok(r == 0 && !strstr(out, "Blocked") &&
                   endswith(out, "    unmanaged other\n"
                                 "Plan: 4 to delete, 1 to keep, 2 missing, 1 unmanaged, 1 protected.\n"),
           "text, small plan not blocked: the summary is the last line");

        out = mfree(out);
        out = capture(report_plan_text, empty, &r);
        is_int(r, 0, "text, empty plan: returns 0");
        is_str(out, "Plan: 0 to delete, 0 to keep, 0 missing, 0 unmanaged, 0 protected.\n",
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
               "  - delete    a\\nb  (sets: set\\nname, t\\\\u; delete_sync_jobs)\n"
               "  ~ protected p  (sets: s): line one\\nline two\n"
               "    keep      tab\\there  (set: é)\n"
               "    unmanaged back\\\\slash\n"
               "    unmanaged \\x1b[31mred\\r\n"
               "    unmanaged del\\x7f\\x01\n"
               "    unmanaged bad\\xff\\xc0\n"
               "    unmanaged csi\\u009b\n"
               "    unmanaged rlo\\u202e|ls\\u2028|ps\\u2029|lri\\u2066\n"
               "    unmanaged été日本🙂\n"
               "Plan: 1 to delete, 1 to keep, 0 missing, 7 unmanaged, 1 protected.\n"
               "Blocked: set 'a\\nb' declares no connectors\\x1b[2J\n",
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
                       "  - delete    team-a-hr  (sets: team-a)\n"
                       "  - delete    team-a-wiki  (sets: team-a)\n"
                       "  - delete    café  (sets: team-a)\n"
                       "  ! missing   \\x20team-a-hr\\x20  (set: team-a)\n"
                       "  ! missing   team-a-wiki\\u200b  (set: team-a)\n"
                       "  ! missing   cafe\\u0301  (set: team-a)\n"
                       "  ! missing   a\\u00a0b\\ufeff  (set: set a ): reason \\u202e\n"
                       "Plan: 3 to delete, 0 to keep, 4 missing, 0 unmanaged, 0 protected.\n",
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
               "  - delete    a-old\\n  (sets: team \"a\"; delete_sync_jobs)\n"
               "  ~ protected a-gone  (sets: team \"a\"): soft-deleted in the cluster (deleted: true); not "
               "deleted again\n"
               "  ! missing   a-missing  (set: team \"a\")\n"
               "    keep      a-keep  (set: team \"a\")\n"
               "    unmanaged b\n"
               "Plan: 1 to delete, 1 to keep, 1 missing, 1 unmanaged, 1 protected.\n"
               "Blocked: the plan deletes 1 connector, more than safety.max_deletions (0)\n",
               "built plan: text");
}

int main(void) {
        test_json();
        test_text();
        test_write_errors();
        test_built_plan();
        return done();
}
