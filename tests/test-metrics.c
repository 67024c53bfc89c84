/* metrics.c: the text exposition format exactly, label escaping, a cycle's result added, the
 * textfile's atomic write, and metrics.state read back and refused when not exact. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "fs-util.h"
#include "plan.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"

static char *format(const struct metrics *m, const char *version) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        int r;

        assert_se(f);
        r = metrics_format(m, version, f);
        assert_se(fclose(f) == 0);
        is_int(r, 0, "metrics_format() succeeds");
        return text;
}

#define P "connector_reconciler_"

static const char expected_full[] =
        "# HELP " P "build_info The version of connector-reconciler that wrote this file.\n"
        "# TYPE " P "build_info gauge\n" P "build_info{version=\"1.2.3\"} 1\n"
        "# HELP " P "elasticsearch_info The Elasticsearch version and cluster_uuid the last cycle that "
        "reached the cluster saw.\n"
        "# TYPE " P "elasticsearch_info gauge\n" P
        "elasticsearch_info{version=\"8.15.1\",cluster_uuid=\"Rfj3kSBfQ1y2\"} 1\n"
        "# HELP " P "manifests_info The revision of the manifests the last cycle that read them read: a Git "
        "commit, or the digest of their files.\n"
        "# TYPE " P "manifests_info gauge\n" P "manifests_info{revision=\"sha256:abc\"} 1\n"
        "# HELP " P "last_cycle_timestamp_seconds When the last cycle ended, in seconds since the epoch.\n"
        "# TYPE " P "last_cycle_timestamp_seconds gauge\n" P "last_cycle_timestamp_seconds 1700000100.25\n"
        "# HELP " P "last_success_timestamp_seconds When the last successful cycle ended, in seconds since "
        "the epoch; 0 when none did.\n"
        "# TYPE " P "last_success_timestamp_seconds gauge\n" P "last_success_timestamp_seconds 1700000000\n"
        "# HELP " P "cycle_duration_seconds How long the last cycle took, in seconds.\n"
        "# TYPE " P "cycle_duration_seconds gauge\n" P "cycle_duration_seconds 0.000042\n"
        "# HELP " P "cycles_total Cycles that ended, by result.\n"
        "# TYPE " P "cycles_total counter\n" P "cycles_total{result=\"success\"} 5\n" P
        "cycles_total{result=\"failure\"} 2\n" P "cycles_total{result=\"blocked\"} 1\n"
        "# HELP " P "connectors Connectors in the last cycle's plan, by state.\n"
        "# TYPE " P "connectors gauge\n" P "connectors{state=\"declared\"} 1\n" P
        "connectors{state=\"live\"} 2\n" P "connectors{state=\"owned\"} 3\n" P
        "connectors{state=\"orphan\"} 4\n" P "connectors{state=\"missing\"} 5\n" P
        "connectors{state=\"protected\"} 6\n" P "connectors{state=\"unmanaged\"} 7\n" P
        "connectors{state=\"waiting\"} 8\n" P "connectors{state=\"soft_deleted\"} 9\n"
        "# HELP " P "actions_total Actions on connectors, by action and result.\n"
        "# TYPE " P "actions_total counter\n" P "actions_total{action=\"delete\",result=\"ok\"} 3\n" P
        "actions_total{action=\"delete\",result=\"error\"} 1\n" P
        "actions_total{action=\"delete\",result=\"skipped\"} 0\n" P
        "actions_total{action=\"create\",result=\"ok\"} 0\n" P
        "actions_total{action=\"create\",result=\"error\"} 0\n" P
        "actions_total{action=\"create\",result=\"skipped\"} 0\n" P
        "actions_total{action=\"update\",result=\"ok\"} 0\n" P
        "actions_total{action=\"update\",result=\"error\"} 0\n" P
        "actions_total{action=\"update\",result=\"skipped\"} 0\n" P
        "actions_total{action=\"restore\",result=\"ok\"} 0\n" P
        "actions_total{action=\"restore\",result=\"error\"} 0\n" P
        "actions_total{action=\"restore\",result=\"skipped\"} 18446744073709551615\n"
        "# HELP " P
        "guard_tripped Whether a safety guard kept the last cycle from deleting (1) or not (0).\n"
        "# TYPE " P "guard_tripped gauge\n" P "guard_tripped{guard=\"max_deletions\"} 1\n" P
        "guard_tripped{guard=\"allow_empty\"} 0\n" P "guard_tripped{guard=\"removed_set\"} 0\n" P
        "guard_tripped{guard=\"manifests_invalid\"} 0\n" P
        "guard_tripped{guard=\"listing_incomplete\"} 0\n" P "guard_tripped{guard=\"cluster_mismatch\"} 0\n" P
        "guard_tripped{guard=\"backup_unusable\"} 0\n" P "guard_tripped{guard=\"state_unusable\"} 1\n" P
        "guard_tripped{guard=\"plan_mismatch\"} 0\n" P "guard_tripped{guard=\"manifests_stale\"} 0\n" P
        "guard_tripped{guard=\"manifests_unverified\"} 0\n" P "guard_tripped{guard=\"max_updates\"} 0\n"
        "# HELP " P "http_requests_total HTTP requests to the cluster, each attempt, by the class of the "
        "answer's status; error: no answer, or another class.\n"
        "# TYPE " P "http_requests_total counter\n" P "http_requests_total{code_class=\"2xx\"} 40\n" P
        "http_requests_total{code_class=\"4xx\"} 3\n" P "http_requests_total{code_class=\"5xx\"} 2\n" P
        "http_requests_total{code_class=\"error\"} 1\n";

static void fill(struct metrics *m) {
        *m = (struct metrics){
                .cycles = { 5, 2, 1 },
                .http = { 40, 3, 2, 1 },
                .connectors = { 1, 2, 3, 4, 5, 6, 7, 8, 9 },
                .last_success_usec = 1700000000 * USEC_PER_SEC,
                .have_cycle = true,
                .last_cycle_usec = 1700000100 * USEC_PER_SEC + 250000,
                .cycle_duration_usec = 42,
                .guards = 1u << CYCLE_GUARD_MAX_DELETIONS | 1u << CYCLE_GUARD_STATE_UNUSABLE,
        };
        m->actions[METRICS_ACTION_DELETE][METRICS_OUTCOME_OK] = 3;
        m->actions[METRICS_ACTION_DELETE][METRICS_OUTCOME_ERROR] = 1;
        m->actions[METRICS_ACTION_RESTORE][METRICS_OUTCOME_SKIPPED] = UINT64_MAX;
        m->es_version = strdup("8.15.1");
        m->cluster_uuid = strdup("Rfj3kSBfQ1y2");
        m->revision = strdup("sha256:abc");
        assert_se(m->es_version && m->cluster_uuid && m->revision);
}

static void test_format(void) {
        struct metrics m;
        _cleanup_free_ char *text = NULL, *empty = NULL;

        fill(&m);
        text = format(&m, "1.2.3");
        is_str(text, expected_full, "the whole text, every family and label value in order");
        metrics_done(&m);

        /* Nothing known yet: no info families, every counter and gauge present at 0. */
        empty = format(&m, "1.2.3");
        ok(!strstr(empty, "elasticsearch_info") && !strstr(empty, "manifests_info"),
           "no elasticsearch_info or manifests_info when not known");
        ok(strstr(empty, "\n" P "last_success_timestamp_seconds 0\n") &&
                   strstr(empty, "\n" P "cycle_duration_seconds 0\n"),
           "timestamps and durations 0 when none");
        ok(strstr(empty, "\n" P "cycles_total{result=\"blocked\"} 0\n") &&
                   strstr(empty, "\n" P "connectors{state=\"soft_deleted\"} 0\n") &&
                   strstr(empty, "\n" P "guard_tripped{guard=\"state_unusable\"} 0\n") &&
                   strstr(empty, "\n" P "http_requests_total{code_class=\"error\"} 0\n") &&
                   strstr(empty, "\n" P "actions_total{action=\"restore\",result=\"skipped\"} 0\n"),
           "every label value present at 0");
        ok(!strstr(empty, "  ") && !strstr(empty, " \n"), "no double or trailing spaces");
}

static void test_escaping(void) {
        struct metrics m = {};
        _cleanup_free_ char *text = NULL;

        m.es_version = strdup("8.\"x\"\\y\nz");
        m.cluster_uuid = strdup("a\\\\b");
        m.revision = strdup("sha256:\"\n");
        assert_se(m.es_version && m.cluster_uuid && m.revision);
        text = format(&m, "v\"1\\\n");
        ok(strstr(text, "\n" P "build_info{version=\"v\\\"1\\\\\\n\"} 1\n"), "build_info's version escaped");
        ok(strstr(text,
                  "\n" P "elasticsearch_info{version=\"8.\\\"x\\\"\\\\y\\nz\",cluster_uuid=\"a\\\\\\\\b\"} "
                  "1\n"),
           "elasticsearch_info's labels escaped: quote, backslash, newline");
        ok(strstr(text, "\n" P "manifests_info{revision=\"sha256:\\\"\\n\"} 1\n"), "manifests_info escaped");
        metrics_done(&m);

        /* A cluster that names no uuid: an empty label value. */
        m.es_version = strdup("9.0.0");
        assert_se(m.es_version);
        free(text);
        text = format(&m, "1");
        ok(strstr(text, "\n" P "elasticsearch_info{version=\"9.0.0\",cluster_uuid=\"\"} 1\n"),
           "no cluster_uuid: an empty label value");
        metrics_done(&m);
}

static void test_add_cycle(void) {
        /* A plan of one connector of each kind, and a soft-deleted one kept unmanaged. */
        char d[] = "d", k[] = "k", mi[] = "m", p_[] = "p", s_[] = "s", u[] = "u", w[] = "w";
        char version[] = "8.15.1", uuid[] = "U1";
        struct plan_connector live[6] = {
                { .id = d }, { .id = k }, { .id = p_ }, { .id = u }, { .id = s_, .deleted = true },
                { .id = w },
        };
        struct plan_item items[] = {
                { .kind = PLAN_DELETE, .id = d, .connector = &live[0] },
                { .kind = PLAN_KEEP, .id = k, .connector = &live[1] },
                { .kind = PLAN_MISSING, .id = mi },
                { .kind = PLAN_UNMANAGED, .id = s_, .connector = &live[4] },
                { .kind = PLAN_UNMANAGED, .id = u, .connector = &live[3] },
                { .kind = PLAN_PROTECTED, .id = p_, .connector = &live[2] },
                { .kind = PLAN_WAITING, .id = w, .connector = &live[5] },
        };
        struct plan p = {
                .items = items,
                .n_items = ELEMENTSOF(items),
                .counts = { [PLAN_DELETE] = 1,
                            [PLAN_KEEP] = 1,
                            [PLAN_MISSING] = 1,
                            [PLAN_UNMANAGED] = 2,
                            [PLAN_PROTECTED] = 1,
                            [PLAN_WAITING] = 1 },
        };
        struct cluster_info info = { .version = version, .cluster_uuid = uuid };
        struct cycle_result r = {
                .status = CYCLE_OK,
                .plan = &p,
                .cluster = &info,
                .manifests_digest = "sha256:0011",
                .deleted = 2,
                .already_gone = 1,
                .failed = 1,
                .changed = 1,
                .not_deleted = 1,
                .unknown = 1,
                .guards = 0,
                .duration_usec = 1500000,
                .http = { .responses = { 7, 1, 2, 3 } },
        };
        static const uint64_t want_connectors[_METRICS_STATE_MAX] = {
                [METRICS_STATE_DECLARED] = 2,  [METRICS_STATE_LIVE] = 5,    [METRICS_STATE_OWNED] = 4,
                [METRICS_STATE_ORPHAN] = 1,    [METRICS_STATE_MISSING] = 1, [METRICS_STATE_PROTECTED] = 1,
                [METRICS_STATE_UNMANAGED] = 2, [METRICS_STATE_WAITING] = 1, [METRICS_STATE_SOFT_DELETED] = 1,
        };
        struct metrics m = {};
        bool same = true;

        is_int(metrics_add_cycle(&m, &r, 5000000), 0, "a success added");
        is_int(m.cycles[METRICS_RESULT_SUCCESS], 1, "cycles: 1 success");
        is_int(m.last_success_usec, 5000000, "the last success: the end given");
        is_int(m.last_cycle_usec, 5000000, "the last cycle: the end given");
        is_int(m.cycle_duration_usec, 1500000, "the duration: the cycle's");
        is_int(m.actions[METRICS_ACTION_DELETE][METRICS_OUTCOME_OK], 2, "deletes ok: deleted");
        is_int(m.actions[METRICS_ACTION_DELETE][METRICS_OUTCOME_ERROR], 2,
               "deletes error: failed + unknown");
        is_int(m.actions[METRICS_ACTION_DELETE][METRICS_OUTCOME_SKIPPED], 3,
               "deletes skipped: already gone + changed + not deleted");
        ok(m.http[0] == 7 && m.http[1] == 1 && m.http[2] == 2 && m.http[3] == 3, "HTTP answers added");
        for (size_t i = 0; i < _METRICS_STATE_MAX; i++)
                if (m.connectors[i] != want_connectors[i]) {
                        diag("connectors[%zu]: got %ju, want %ju", i, (uintmax_t) m.connectors[i],
                             (uintmax_t) want_connectors[i]);
                        same = false;
                }
        ok(same, "connectors by state from the plan");
        is_str(m.es_version, "8.15.1", "the cluster's version");
        is_str(m.cluster_uuid, "U1", "the cluster's uuid");
        is_str(m.revision, "sha256:0011", "the manifests' digest");

        /* A failure before the cluster answered or a plan was made: the counts and strings stay. */
        r = (struct cycle_result){
                .status = CYCLE_FAILED,
                .guards = 1u << CYCLE_GUARD_LISTING_INCOMPLETE,
                .http = { .responses = { 0, 0, 4, 0 } },
                .duration_usec = 7,
        };
        is_int(metrics_add_cycle(&m, &r, 6000000), 0, "a failure added");
        ok(m.cycles[METRICS_RESULT_SUCCESS] == 1 && m.cycles[METRICS_RESULT_FAILURE] == 1,
           "cycles: 1 and 1");
        is_int(m.last_success_usec, 5000000, "a failure leaves the last success");
        is_int(m.last_cycle_usec, 6000000, "the last cycle: the failure");
        is_int(m.guards, 1u << CYCLE_GUARD_LISTING_INCOMPLETE, "the guards: the last cycle's");
        is_int(m.http[CLUSTER_CODE_5XX], 6, "5xx: 2 + 4");
        is_int(m.connectors[METRICS_STATE_LIVE], 5, "no plan: the last plan's counts stay");
        is_str(m.es_version, "8.15.1", "no cluster info: the last one stays");
        is_str(m.revision, "sha256:0011", "no digest: the last one stays");

        r = (struct cycle_result){ .status = CYCLE_BLOCKED, .guards = 1u << CYCLE_GUARD_MAX_DELETIONS };
        (void) metrics_add_cycle(&m, &r, 7000000);
        r.status = CYCLE_INVALID;
        (void) metrics_add_cycle(&m, &r, 8000000);
        r.status = CYCLE_RETRY;
        (void) metrics_add_cycle(&m, &r, 9000000);
        ok(m.cycles[METRICS_RESULT_BLOCKED] == 1 && m.cycles[METRICS_RESULT_FAILURE] == 3,
           "blocked counts as blocked; invalid and retry as failures");
        metrics_done(&m);
}

/* The file whole (the textfile is larger than read_small_file() reads), or NULL. */
static char *read_whole(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf;

        if (!f)
                return NULL;
        buf = calloc(1, 65536);
        if (buf)
                (void) fread(buf, 1, 65535, f); /* calloc's zeros end the string */
        return buf;
}

static void test_textfile(const char *dir) {
        _cleanup_free_ char *path = NULL, *want = NULL;
        struct metrics m;
        struct dirent *de;
        struct stat st;
        _cleanup_free_ char *got = NULL;
        size_t n = 0;
        DIR *d;

        fill(&m);
        want = format(&m, "0.1.0");
        assert_se(asprintf(&path, "%s/cr.prom", dir) > 0);
        is_int(metrics_write_textfile(path, &m, "0.1.0", NULL), 0, "the textfile is written");
        is_int(metrics_write_textfile(path, &m, "0.1.0", NULL), 0, "and replaced");
        got = read_whole(path);
        ok(got && streq(got, want), "it holds the formatted text");
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "mode 0644: node_exporter may read it");

        d = opendir(dir);
        assert_se(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        n++;
                        if (!streq(de->d_name, "cr.prom"))
                                diag("left behind: '%s'", de->d_name);
                }
        closedir(d);
        is_int(n, 1, "no temporary left beside it");

        is_int(metrics_write_textfile("cr.prom", &m, "0.1.0", NULL), -EINVAL,
               "a path without a folder: -EINVAL");
        free(path);
        assert_se(asprintf(&path, "%s/missing/cr.prom", dir) > 0);
        is_int(metrics_write_textfile(path, &m, "0.1.0", NULL), -ENOENT,
               "a folder that does not exist: -ENOENT");
        metrics_done(&m);
}

static void write_state(const char *dir, const char *text) {
        assert_se(fs_write_atomic(dir, METRICS_STATE_FILE_NAME, text, strlen(text), 0600) == 0);
}

static void test_state(const char *dir) {
        _cleanup_free_ char *path = NULL, *good = NULL, *msg = NULL;
        struct metrics m, back = {}, before;
        struct stat st;
        const char *text;

        is_int(metrics_load(dir, &back, NULL), -ENOENT, "no metrics.state: -ENOENT");

        fill(&m);
        is_int(metrics_save(dir, &m), 0, "saved");
        assert_se(asprintf(&path, "%s/%s", dir, METRICS_STATE_FILE_NAME) > 0);
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
        text = read_small_file(path);
        assert_se(text);
        good = strdup(text);
        assert_se(good);
        ok(startswith(good, "format_version 1\ncycles_total.success 5\ncycles_total.failure 2\n"),
           "the file starts with the version and the cycles");
        ok(strstr(good, "\nactions_total.restore.skipped 18446744073709551615\n") &&
                   strstr(good, "\nhttp_requests_total.2xx 40\n") &&
                   strstr(good, "\nconnectors.soft_deleted 9\n") &&
                   strstr(good, "\nlast_success_timestamp_usec 1700000000000000\n"),
           "one KEY VALUE a line");

        back.last_cycle_usec = 77;
        is_int(metrics_load(dir, &back, NULL), 0, "read back");
        ok(memcmp(back.cycles, m.cycles, sizeof m.cycles) == 0 &&
                   memcmp(back.actions, m.actions, sizeof m.actions) == 0 &&
                   memcmp(back.http, m.http, sizeof m.http) == 0 &&
                   memcmp(back.connectors, m.connectors, sizeof m.connectors) == 0 &&
                   back.last_success_usec == m.last_success_usec,
           "every kept field round-trips");
        is_int(back.last_cycle_usec, 77, "the fields not kept are left");
        ok(!back.es_version && back.guards == 0, "nor are the strings and guards read");

        /* Any order is fine. */
        {
                _cleanup_free_ char *swapped = NULL;
                const char *second = strchr(good, '\n') + 1, *third = strchr(second, '\n') + 1;

                /* the success line last */
                assert_se(asprintf(&swapped, "format_version 1\n%s%.*s", third, (int) (third - second),
                                   second) > 0);
                write_state(dir, swapped);
                back = (struct metrics){};
                is_int(metrics_load(dir, &back, NULL), 0, "lines in another order: read");
                is_int(back.cycles[METRICS_RESULT_SUCCESS], 5, "and the moved line counts");
        }

        static const struct {
                const char *name;
                const char *from, *to; /* a change of the good file: 'from' replaced by 'to' */
                const char *message;
        } bad[] = {
                { "no newline at the end", "last_success_timestamp_usec 1700000000000000\n",
                  "last_success_timestamp_usec 1700000000000000", "does not end with a newline" },
                { "another version", "format_version 1\n", "format_version 2\n",
                  "line 1: format_version 2, not 1" },
                { "no version first", "format_version 1\ncycles_total.success 5\n",
                  "cycles_total.success 5\nformat_version 1\n",
                  "line 1: the first line is not format_version" },
                { "an unknown key", "cycles_total.blocked 1\n", "cycles_total.bogus 1\n",
                  "line 4: unknown key 'cycles_total.bogus'" },
                { "a key twice", "cycles_total.blocked 1\n", "cycles_total.failure 1\n",
                  "line 4: 'cycles_total.failure' given twice" },
                { "a key missing", "cycles_total.blocked 1\n", "", "'cycles_total.blocked' is missing" },
                { "a leading zero", "cycles_total.blocked 1\n", "cycles_total.blocked 01\n",
                  "line 4: the value is not an unsigned 64-bit integer" },
                { "a sign", "cycles_total.blocked 1\n", "cycles_total.blocked +1\n",
                  "line 4: the value is not an unsigned 64-bit integer" },
                { "past 64 bits", "cycles_total.blocked 1\n", "cycles_total.blocked 18446744073709551616\n",
                  "line 4: the value is not an unsigned 64-bit integer" },
                { "no value", "cycles_total.blocked 1\n", "cycles_total.blocked \n",
                  "line 4: the value is not an unsigned 64-bit integer" },
                { "two spaces", "cycles_total.blocked 1\n", "cycles_total.blocked  1\n",
                  "line 4: the value is not an unsigned 64-bit integer" },
                { "no space", "cycles_total.blocked 1\n", "cycles_total.blocked\n",
                  "line 4: not \"KEY VALUE\"" },
                { "an empty line", "cycles_total.blocked 1\n", "cycles_total.blocked 1\n\n",
                  "line 5: not \"KEY VALUE\"" },
                { "a CR", "cycles_total.blocked 1\n", "cycles_total.blocked 1\r\n",
                  "line 4: the value is not an unsigned 64-bit integer" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *t = NULL;
                const char *at = strstr(good, bad[i].from);

                assert_se(at);
                assert_se(asprintf(&t, "%.*s%s%s", (int) (at - good), good, bad[i].to,
                                   at + strlen(bad[i].from)) > 0);
                write_state(dir, t);
                before = (struct metrics){ .cycles = { 9, 9, 9 } };
                back = before;
                free(msg);
                msg = NULL;
                is_int(metrics_load(dir, &back, &msg), -EBADMSG, "%s: -EBADMSG", bad[i].name);
                is_str(msg, bad[i].message, "%s: the message", bad[i].name);
                ok(memcmp(&back, &before, sizeof back) == 0, "%s: nothing read", bad[i].name);
        }

        write_state(dir, "");
        is_int(metrics_load(dir, &back, NULL), -EBADMSG, "an empty file: -EBADMSG");
        assert_se(fs_write_atomic(dir, METRICS_STATE_FILE_NAME, "format_version 1\n\0", 18, 0600) == 0);
        is_int(metrics_load(dir, &back, NULL), -EBADMSG, "a NUL byte: -EBADMSG");
        assert_se(unlink(path) == 0 && mkdir(path, 0700) == 0);
        is_int(metrics_load(dir, &back, NULL), -EBADMSG, "a folder: -EBADMSG");
        assert_se(rmdir(path) == 0);
        metrics_done(&m);
}

/* --instance: the same text, instance="NAME" first in every sample, escaped as a label value. */
static void test_instance(void) {
        _cleanup_free_ char *text = NULL, *got = NULL;
        size_t size = 0, lines = 0, samples = 0;
        struct metrics m;
        FILE *f;
        bool same = true;

        fill(&m);
        text = format(&m, "1.2.3");
        f = open_memstream(&got, &size);
        assert_se(f);
        is_int(metrics_format_instance(&m, "1.2.3", "eu-west.prod", f), 0, "instance: formats");
        assert_se(fclose(f) == 0);
        metrics_done(&m);

        /* Line by line: comments unchanged, samples with the label inserted after the name. */
        for (const char *a = text, *b = got; *a && same; lines++) {
                size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n"), name = strcspn(a, "{ ");
                _cleanup_free_ char *want = NULL;

                if (a[0] == '#')
                        want = strndup(a, na);
                else {
                        samples++;
                        assert_se(asprintf(&want, "%.*s{instance=\"eu-west.prod\"%s%.*s", (int) name, a,
                                           a[name] == '{' ? "," : "}", (int) (na - name - (a[name] == '{')),
                                           a + name + (a[name] == '{')) > 0);
                }
                same = strlen(want) == nb && memcmp(want, b, nb) == 0;
                if (!same)
                        diag("line %zu: got '%.*s', want '%s'", lines + 1, (int) nb, b, want);
                a += na + (a[na] == '\n');
                b += nb + (b[nb] == '\n');
        }
        ok(same && samples > 20,
           "instance: every one of %zu samples labelled, the %zu lines otherwise the same", samples, lines);
        ok(strstr(got, "\n" P "last_cycle_timestamp_seconds{instance=\"eu-west.prod\"} ") != NULL,
           "instance: a sample without labels gets {instance=...}");

        /* Escaped as label values are. */
        memset(&m, 0, sizeof m);
        free(got);
        got = NULL;
        f = open_memstream(&got, &size);
        assert_se(f);
        is_int(metrics_format_instance(&m, "1", "a\"b\\c", f), 0, "instance: formats an odd name");
        assert_se(fclose(f) == 0);
        ok(strstr(got, "{instance=\"a\\\"b\\\\c\"") != NULL, "instance: the value is escaped");
}

int main(void) {
        _cleanup_free_ char *dir = scratch_new("test-metrics");
        _cleanup_free_ char *state = NULL, *text = NULL;

        assert_se(asprintf(&state, "%s/state", dir) > 0 && mkdir(state, 0700) == 0);
        assert_se(asprintf(&text, "%s/textfile", dir) > 0 && mkdir(text, 0755) == 0);

        test_format();
        test_escaping();
        test_instance();
        test_add_cycle();
        test_textfile(text);
        test_state(state);

        scratch_remove(dir);
        return done();
}
