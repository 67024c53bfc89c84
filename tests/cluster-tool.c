/* cluster-tool: drives the cluster client from the shell, for the integration tests and the
 * benchmarks. Results go to stdout as JSON lines, errors and retries to stderr; exit 0 when every
 * operation succeeded (a delete that found nothing to delete counts as success), 1 otherwise, 2 on
 * a usage error.
 *
 *   cluster-tool --url URL [--api-key-file F | --basic-user U --password-file F | --bearer-file F]
 *                [--ca-file F] [--client-cert F --client-key F] [--insecure] [--page-size N]
 *                [--max-attempts N] [--initial-delay-ms N] [--max-delay-ms N] [--timeout-ms N]
 *                [--connect-timeout-ms N] [--in-flight N] [--max-body-bytes N]
 *                [--max-result-window N]
 *                [--max-result-window N] [--expected-uuid UUID]
 *                info | identify | list | get ID | sync-jobs ID
 *                | delete ID [--delete-sync-jobs] [--hard] [--guard] | delete-many ID...
 *
 * Lines: info {"version","major","minor","patch","build_flavor","cluster_name","cluster_uuid"};
 * identify: that of the first GET /, then that of a second one (cluster_identify()); list one
 * {"id","name","service_type","index_name","deleted"} per connector, then {"complete","count",
 * "listed","attempts","incomplete_reason"}; get {"id",...,"body"} with the raw body as a string;
 * sync-jobs {"id","jobs":[ids],"foreign","json"}; delete {"id","result"} with result "deleted",
 * "deleted_partly", "already_gone", "changed" or "failed" (then "status", "error").
 * A delete does what the executor does before it: with --guard it reads the connector first and
 * hands its document to the delete (a retried DELETE goes out only to that document); with
 * --delete-sync-jobs on 8.12-8.13 it lists the connector's sync jobs first and has them deleted
 * after it. */

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "cluster.h"
#include "util.h"

static size_t pending = 0;
static unsigned failures = 0;

static void print_json(cJSON *j) {
        char *s = cJSON_PrintUnformatted(j);

        if (!s) {
                fputs("cluster-tool: out of memory\n", stderr);
                exit(EXIT_FAILURE);
        }
        puts(s);
        fflush(stdout);
        free(s);
        cJSON_Delete(j);
}

static void add_string(cJSON *j, const char *key, const char *value) {
        if (value)
                (void) cJSON_AddStringToObject(j, key, value);
        else
                (void) cJSON_AddNullToObject(j, key);
}

static void report_error(const char *what, int error, const struct cluster_error *err) {
        fprintf(stderr, "Failed to %s: %s%s%s (%s)\n", what, err && err->request ? err->request : "",
                err && err->request ? ": " : "", err && err->message ? err->message : "no details",
                strerror(-error));
        failures++;
}

static void on_retry(struct cluster *c, const struct cluster_retry *r, void *userdata) {
        fprintf(stderr, "Retrying %s: attempt %u of %u failed (%s), next in %" PRIu64 " ms\n", r->request,
                r->attempt, r->max_attempts, r->message, r->delay_usec / USEC_PER_MSEC);
}

static void on_info(struct cluster *c, int error, const struct cluster_info *info,
                    const struct cluster_error *err, void *userdata) {
        pending--;
        if (error < 0) {
                report_error("get the cluster's version", error, err);
                return;
        }

        cJSON *j = cJSON_CreateObject();
        add_string(j, "version", info->version);
        (void) cJSON_AddNumberToObject(j, "major", info->major);
        (void) cJSON_AddNumberToObject(j, "minor", info->minor);
        (void) cJSON_AddNumberToObject(j, "patch", info->patch);
        add_string(j, "build_flavor", info->build_flavor);
        add_string(j, "cluster_name", info->cluster_name);
        add_string(j, "cluster_uuid", info->cluster_uuid);
        print_json(j);
}

static void on_identified(struct cluster *c, int error, const struct cluster_info *info,
                          const struct cluster_error *err, void *userdata) {
        if (error < 0) {
                pending--;
                report_error("identify the cluster again", error, err);
                return;
        }
        on_info(c, error, info, err, userdata);
}

static void on_first_info(struct cluster *c, int error, const struct cluster_info *info,
                          const struct cluster_error *err, void *userdata) {
        int r;

        on_info(c, error, info, err, userdata);
        if (error < 0)
                return;
        r = cluster_identify(c, on_identified, NULL);
        if (r < 0) {
                fprintf(stderr, "Failed to start: %s\n", strerror(-r));
                failures++;
                return;
        }
        pending++;
}

static cJSON *connector_json(const struct plan_connector *pc) {
        cJSON *j = cJSON_CreateObject();

        add_string(j, "id", pc->id);
        add_string(j, "name", pc->name);
        add_string(j, "service_type", pc->service_type);
        add_string(j, "index_name", pc->index_name);
        (void) cJSON_AddBoolToObject(j, "deleted", pc->deleted);
        return j;
}

static void on_list(struct cluster *c, int error, struct cluster_listing *listing,
                    const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_listing_freep) struct cluster_listing *l = listing;
        cJSON *j;

        pending--;
        if (error < 0) {
                report_error("list connectors", error, err);
                return;
        }

        for (size_t i = 0; i < l->n_connectors; i++)
                print_json(connector_json(&l->connectors[i]));

        j = cJSON_CreateObject();
        (void) cJSON_AddBoolToObject(j, "complete", l->complete);
        (void) cJSON_AddNumberToObject(j, "count", (double) l->count);
        (void) cJSON_AddNumberToObject(j, "listed", (double) l->n_connectors);
        (void) cJSON_AddNumberToObject(j, "attempts", l->attempts);
        add_string(j, "incomplete_reason", l->incomplete_reason);
        print_json(j);
}

static void on_get(struct cluster *c, int error, struct cluster_document *document,
                   const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = document;
        cJSON *j;

        pending--;
        if (error < 0) {
                report_error("get the connector", error, err);
                return;
        }

        j = connector_json(&d->connector);
        add_string(j, "body", d->body);
        print_json(j);
}

static void on_delete(struct cluster *c, int error, enum cluster_delete_result result,
                      const struct cluster_error *err, void *userdata) {
        const char *id = userdata;
        cJSON *j = cJSON_CreateObject();

        pending--;
        add_string(j, "id", id);
        add_string(j, "result", cluster_delete_result_to_string(result));
        if (error < 0) {
                (void) cJSON_AddNumberToObject(j, "status", err ? err->status : 0);
                add_string(j, "error", err ? err->message : NULL);
                _cleanup_free_ char *what = NULL;

                if (asprintf(&what, "delete '%s'", id) < 0)
                        what = NULL;
                report_error(what ?: "delete", error, err);
        }
        print_json(j);
}

static void on_sync_jobs(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                         const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_sync_jobs_freep) struct cluster_sync_jobs *sj = jobs;
        cJSON *j, *ids;

        pending--;
        if (error < 0) {
                report_error("list the sync jobs", error, err);
                return;
        }
        j = cJSON_CreateObject();
        add_string(j, "id", userdata);
        ids = cJSON_AddArrayToObject(j, "jobs");
        for (size_t i = 0; i < sj->n_ids; i++)
                (void) cJSON_AddItemToArray(ids, cJSON_CreateString(sj->ids[i]));
        (void) cJSON_AddNumberToObject(j, "foreign", (double) sj->n_foreign);
        add_string(j, "json", sj->json);
        print_json(j);
}

/* A delete as the executor makes it: the document read first (--guard), the sync jobs listed
 * first where we delete them ourselves (--delete-sync-jobs on 8.12-8.13). */
struct del {
        char *id; /* argv's */
        bool delete_sync_jobs, hard, guard;
        bool have_doc, have_jobs;
        struct cluster_document *doc;
        struct cluster_sync_jobs *jobs;
};

static void del_next(struct cluster *c, struct del *d);

static void del_fail(struct del *d, const char *what, int error, const struct cluster_error *err) {
        cJSON *j = cJSON_CreateObject();

        pending--;
        d->doc = cluster_document_free(d->doc);
        d->jobs = cluster_sync_jobs_free(d->jobs);
        add_string(j, "id", d->id);
        add_string(j, "result", "failed");
        add_string(j, "error", err ? err->message : NULL);
        report_error(what, error, err);
        print_json(j);
}

static void on_del_doc(struct cluster *c, int error, struct cluster_document *document,
                       const struct cluster_error *err, void *userdata) {
        struct del *d = userdata;

        if (error < 0)
                return del_fail(d, "read the connector before deleting it", error, err);
        d->doc = document;
        d->have_doc = true;
        del_next(c, d);
}

static void on_del_jobs(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                        const struct cluster_error *err, void *userdata) {
        struct del *d = userdata;

        if (error < 0)
                return del_fail(d, "list the sync jobs before deleting", error, err);
        d->jobs = jobs;
        d->have_jobs = true;
        del_next(c, d);
}

static void on_del_info(struct cluster *c, int error, const struct cluster_info *info,
                        const struct cluster_error *err, void *userdata) {
        struct del *d = userdata;

        if (error < 0)
                return del_fail(d, "get the cluster's version", error, err);
        del_next(c, d);
}

static void del_next(struct cluster *c, struct del *d) {
        const struct cluster_info *info = cluster_get_info(c);
        struct cluster_delete_options o;
        int r;

        if (d->guard && !d->have_doc)
                r = cluster_get(c, d->id, on_del_doc, d);
        else if (d->delete_sync_jobs && !info)
                r = cluster_info(c, on_del_info, d);
        else if (d->delete_sync_jobs && !d->have_jobs && !cluster_version_at_least(info, 8, 14))
                r = cluster_list_sync_jobs(c, d->id, on_del_jobs, d);
        else {
                o = (struct cluster_delete_options){
                        .delete_sync_jobs = d->delete_sync_jobs,
                        .hard = d->hard,
                        .expected_body = d->doc ? d->doc->body : NULL,
                        .expected_size = d->doc ? d->doc->body_size : 0,
                        .sync_job_ids = d->jobs ? (const char *const *) d->jobs->ids : NULL,
                        .n_sync_job_ids = d->jobs ? d->jobs->n_ids : 0,
                };
                r = cluster_delete(c, d->id, &o, on_delete, d->id);
                d->doc = cluster_document_free(d->doc);
                d->jobs = cluster_sync_jobs_free(d->jobs);
        }
        if (r < 0) {
                fprintf(stderr, "Failed to start: %s\n", strerror(-r));
                failures++;
                pending--;
        }
}

/* Reads a secret file; one trailing newline is not part of the secret. */
static char *read_secret(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;

        if (!f) {
                fprintf(stderr, "Failed to open '%s': %m\n", path);
                exit(2);
        }
        n = getdelim(&buf, &cap, '\0', f);
        if (n < 0) {
                free(buf);
                buf = strdup("");
                n = 0;
        }
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        return buf;
}

static unsigned long parse_number(const char *s, const char *option) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0') {
                fprintf(stderr, "Invalid number for %s: '%s'\n", option, s);
                exit(2);
        }
        return v;
}

static void usage(void) {
        fputs("Usage: cluster-tool --url URL [OPTIONS] info | identify | list | get ID | sync-jobs ID | "
              "delete ID [--delete-sync-jobs] [--hard] [--guard] | delete-many ID...\n",
              stderr);
        exit(2);
}

int main(int argc, char **argv) {
        enum {
                ARG_URL = 0x100,
                ARG_API_KEY_FILE,
                ARG_BASIC_USER,
                ARG_PASSWORD_FILE,
                ARG_BEARER_FILE,
                ARG_CA_FILE,
                ARG_CLIENT_CERT,
                ARG_CLIENT_KEY,
                ARG_INSECURE,
                ARG_PAGE_SIZE,
                ARG_MAX_ATTEMPTS,
                ARG_INITIAL_DELAY_MS,
                ARG_MAX_DELAY_MS,
                ARG_TIMEOUT_MS,
                ARG_CONNECT_TIMEOUT_MS,
                ARG_IN_FLIGHT,
                ARG_MAX_BODY_BYTES,
                ARG_MAX_RESULT_WINDOW,
                ARG_DELETE_SYNC_JOBS,
                ARG_HARD,
                ARG_GUARD,
                ARG_EXPECTED_UUID,
        };
        static const struct option options[] = {
                { "url", required_argument, NULL, ARG_URL },
                { "api-key-file", required_argument, NULL, ARG_API_KEY_FILE },
                { "basic-user", required_argument, NULL, ARG_BASIC_USER },
                { "password-file", required_argument, NULL, ARG_PASSWORD_FILE },
                { "bearer-file", required_argument, NULL, ARG_BEARER_FILE },
                { "ca-file", required_argument, NULL, ARG_CA_FILE },
                { "client-cert", required_argument, NULL, ARG_CLIENT_CERT },
                { "client-key", required_argument, NULL, ARG_CLIENT_KEY },
                { "insecure", no_argument, NULL, ARG_INSECURE },
                { "page-size", required_argument, NULL, ARG_PAGE_SIZE },
                { "max-attempts", required_argument, NULL, ARG_MAX_ATTEMPTS },
                { "initial-delay-ms", required_argument, NULL, ARG_INITIAL_DELAY_MS },
                { "max-delay-ms", required_argument, NULL, ARG_MAX_DELAY_MS },
                { "timeout-ms", required_argument, NULL, ARG_TIMEOUT_MS },
                { "connect-timeout-ms", required_argument, NULL, ARG_CONNECT_TIMEOUT_MS },
                { "in-flight", required_argument, NULL, ARG_IN_FLIGHT },
                { "max-body-bytes", required_argument, NULL, ARG_MAX_BODY_BYTES },
                { "max-result-window", required_argument, NULL, ARG_MAX_RESULT_WINDOW },
                { "delete-sync-jobs", no_argument, NULL, ARG_DELETE_SYNC_JOBS },
                { "guard", no_argument, NULL, ARG_GUARD },
                { "expected-uuid", required_argument, NULL, ARG_EXPECTED_UUID },
                { "hard", no_argument, NULL, ARG_HARD },
                {}
        };
        _cleanup_erase_ char *api_key = NULL, *password = NULL, *bearer = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(cluster_freep) struct cluster *c = NULL;
        _cleanup_free_ char *message = NULL;
        struct cluster_options o;
        bool delete_sync_jobs = false, hard = false, guard = false;
        _cleanup_free_ struct del *dels = NULL;
        size_t n_dels = 0;
        const char *verb;
        int opt, r;

        cluster_options_init(&o);

        /* Options may follow the verb ("delete ID --hard"): getopt permutes. */
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case ARG_URL:
                        o.url = optarg;
                        break;
                case ARG_API_KEY_FILE:
                        api_key = read_secret(optarg);
                        o.auth = CLUSTER_AUTH_API_KEY;
                        o.api_key = api_key;
                        break;
                case ARG_BASIC_USER:
                        o.auth = CLUSTER_AUTH_BASIC;
                        o.username = optarg;
                        break;
                case ARG_PASSWORD_FILE:
                        password = read_secret(optarg);
                        o.password = password;
                        break;
                case ARG_BEARER_FILE:
                        bearer = read_secret(optarg);
                        o.auth = CLUSTER_AUTH_BEARER;
                        o.bearer_token = bearer;
                        break;
                case ARG_CA_FILE:
                        o.ca_file = optarg;
                        break;
                case ARG_CLIENT_CERT:
                        o.client_cert_file = optarg;
                        break;
                case ARG_CLIENT_KEY:
                        o.client_key_file = optarg;
                        break;
                case ARG_INSECURE:
                        o.verify_tls = false;
                        break;
                case ARG_PAGE_SIZE:
                        o.page_size = (unsigned) parse_number(optarg, "--page-size");
                        break;
                case ARG_MAX_ATTEMPTS:
                        o.retry.max_attempts = (unsigned) parse_number(optarg, "--max-attempts");
                        break;
                case ARG_INITIAL_DELAY_MS:
                        o.retry.initial_delay_usec =
                                parse_number(optarg, "--initial-delay-ms") * USEC_PER_MSEC;
                        break;
                case ARG_MAX_DELAY_MS:
                        o.retry.max_delay_usec = parse_number(optarg, "--max-delay-ms") * USEC_PER_MSEC;
                        break;
                case ARG_TIMEOUT_MS:
                        o.request_timeout_usec = parse_number(optarg, "--timeout-ms") * USEC_PER_MSEC;
                        break;
                case ARG_CONNECT_TIMEOUT_MS:
                        o.connect_timeout_usec =
                                parse_number(optarg, "--connect-timeout-ms") * USEC_PER_MSEC;
                        break;
                case ARG_IN_FLIGHT:
                        o.max_in_flight = (unsigned) parse_number(optarg, "--in-flight");
                        break;
                case ARG_MAX_BODY_BYTES:
                        o.max_body_bytes = parse_number(optarg, "--max-body-bytes");
                        break;
                case ARG_MAX_RESULT_WINDOW:
                        o.max_result_window = parse_number(optarg, "--max-result-window");
                        break;
                case ARG_DELETE_SYNC_JOBS:
                        delete_sync_jobs = true;
                        break;
                case ARG_HARD:
                        hard = true;
                        break;
                case ARG_GUARD:
                        guard = true;
                        break;
                case ARG_EXPECTED_UUID:
                        o.expected_uuid = optarg;
                        break;
                default:
                        usage();
                }

        if (optind >= argc || !o.url)
                usage();
        verb = argv[optind++];

        r = sd_event_new(&e);
        if (r < 0) {
                fprintf(stderr, "Failed to create an event loop: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = cluster_new(&c, e, &o, &message);
        if (r < 0) {
                fprintf(stderr, "Failed to set up the client: %s\n", message ?: strerror(-r));
                return 2;
        }
        cluster_set_retry_hook(c, on_retry, NULL);

        if (streq(verb, "info") && optind == argc)
                r = cluster_info(c, on_info, NULL);
        else if (streq(verb, "identify") && optind == argc)
                r = cluster_info(c, on_first_info, NULL);
        else if (streq(verb, "list") && optind == argc)
                r = cluster_list(c, false, on_list, NULL);
        else if (streq(verb, "get") && optind + 1 == argc)
                r = cluster_get(c, argv[optind], on_get, NULL);
        else if (streq(verb, "sync-jobs") && optind + 1 == argc)
                r = cluster_list_sync_jobs(c, argv[optind], on_sync_jobs, argv[optind]);
        else if ((streq(verb, "delete") && optind + 1 == argc) ||
                 (streq(verb, "delete-many") && optind < argc)) {
                /* All at once: the client keeps --in-flight of them on the wire. */
                n_dels = (size_t) (argc - optind);
                dels = calloc(n_dels, sizeof(struct del));
                if (!dels)
                        return EXIT_FAILURE;
                for (size_t i = 0; i < n_dels; i++) {
                        dels[i] = (struct del){
                                .id = argv[optind + (int) i],
                                .delete_sync_jobs = delete_sync_jobs,
                                .hard = hard,
                                .guard = guard,
                        };
                        pending++;
                        del_next(c, &dels[i]);
                }
                r = 0;
                pending--;
        } else
                usage();
        if (r < 0) {
                fprintf(stderr, "Failed to start: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        pending++;

        while (pending > 0) {
                r = sd_event_run(e, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "Failed to run the event loop: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
        }

        return failures > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
