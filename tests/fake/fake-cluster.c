/* fake-cluster: a fake Elasticsearch cluster serving the connector API, for the tests, the
 * benchmarks and the demo. Test equipment, never installed.
 *
 * Command line (stable; scripts depend on it):
 *   fake-cluster [OPTIONS]
 *     --port N               listen on 127.0.0.1:N; 0 (the default) picks a free port
 *     --port-file FILE       once listening, write the port there (atomically: FILE.tmp, rename)
 *     --seed FILE            initial documents: {"connectors": [DOC...], "sync_jobs": [DOC...]},
 *                            each as GET returns it, with its "id" (a sync job also with
 *                            "connector": {"id": ...}); a connector lacking is_native, status,
 *                            sync_now (or on 9.x deleted) gets Elasticsearch's creation default
 *     --version X.Y.Z        the Elasticsearch version to be (default 9.1.3): before 8.14 DELETE
 *                            takes no parameter, 8.14 adds delete_sync_jobs, 8.15 adds PUT
 *                            _connector without an id, 9.0 makes DELETE a soft delete and adds
 *                            hard and include_deleted; the update endpoints (_name, ...) come
 *                            with 8.12 to 8.15 (tests/fake/README.md)
 *     --api-key KEY          require "Authorization: ApiKey KEY" (KEY as sent: base64 of id:secret)
 *     --basic USER:PASS      accept HTTP Basic authentication with these credentials
 *     --bearer TOKEN         accept "Authorization: Bearer TOKEN"
 *     --api-key-read-only KEY, --basic-read-only USER:PASS
 *                            accept a credential whose role may read connectors and sync jobs
 *                            but not manage them: every other connector action is a 403
 *                            security_exception worded as the version words it (KEY must be
 *                            base64 of id:secret; the key's owner is "elastic", the user's role
 *                            "connector_reader")
 *                            (with none of these, security is off: no credentials needed)
 *     --faults FILE          fault rules, {"faults": [RULE...]} (see tests/fake/README.md): match
 *                            on method, path, count, skip, probability; act with delay_ms,
 *                            status (retry_after, type, reason), body (content_type), drop,
 *                            malformed, truncate, trickle_bytes_per_sec, product_header: false,
 *                            mutate (connectors, sync_jobs, delete_connectors, delete_sync_jobs,
 *                            cluster: changes the store or cluster identity as the rule takes
 *                            the request)
 *     --fault-seed N         seed of the fault probabilities and generated ids (default 1)
 *     --log FILE             the request log: one JSON object a line, written per request
 *     --tls-cert FILE, --tls-key FILE   serve HTTPS only, with this PEM certificate and key
 *     --no-product-header    leave out "X-elastic-product: Elasticsearch" (a server that is not
 *                            Elasticsearch, for a client's product check)
 *     --cluster-uuid UUID    the cluster_uuid GET / reports (default ZmFrZS1jbHVzdGVyLXV1aWQ)
 *     --cluster-name NAME    the cluster_name GET / reports (default fake-cluster)
 *     --max-result-window N  index.max_result_window (default 10000)
 *     --parent-pid PID       exit when that process is gone (checked twice a second)
 *     -h, --help
 *   SIGTERM or SIGINT: stop, exit 0. Exit 1 on a start-up error (message on stderr naming the
 *   file and key).
 *
 * Request log (--log): each line is one object with
 *   "seq" (1, 2, ...), "time" (UTC, ISO 8601), "method", "raw_path" (the path as received, still
 *   percent-encoded), "raw_query" (as received, or null), "path" (decoded, null if it does not
 *   decode), "query" (the decoded parameters as an object of strings; null if malformed),
 *   "connector_id" / "sync_job_id" (decoded, when the endpoint names one, else null), "status"
 *   (null when the connection was dropped), "auth" ("ApiKey", "Basic", "Bearer", "other" or
 *   null: the scheme only, never the credentials), "user_agent" (the User-Agent header as sent,
 *   or null), "fault" (null, or {"rule", "action", ...};
 *   "mutated": true when the rule's mutation was applied),
 *   "control" (true for the /_fake endpoints), "body" (the request body as a string, or null).
 *
 * Control endpoints (no authentication, never faulted, logged with "control": true):
 *   GET    /_fake/state       {"version", "cluster_uuid", "cluster_name", "connectors": [every
 *                              document, soft-deleted too], "sync_jobs": [...], "secrets": [{"id",
 *                              "value"}...], "faults": [...],
 *                              "requests": N}
 *   POST   /_fake/connectors  add documents, same JSON as --seed; answers {"connectors": N, ...}
 *   DELETE /_fake/connectors  remove every connector, sync job and connector secret
 *   POST   /_fake/cluster     {"cluster_uuid": S, "cluster_name": S} (either optional): what GET /
 *                              reports from now on; answers both
 *   GET    /_fake/faults      the rules with their remaining count and skip
 *   POST   /_fake/faults      replace the rules (same JSON as --faults)
 *   DELETE /_fake/faults      remove every rule
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fake-api.h"
#include "fake-fault.h"
#include "fake-store.h"
#include "fake-util.h"
#include "util.h"

/* Elasticsearch's http.max_content_length is 100mb; the fake keeps less in memory. */
#define MAX_BODY_BYTES    (16u * 1024u * 1024u)
#define PARENT_CHECK_MSEC 500
/* How long a trickled response sleeps between chunks. */
#define TRICKLE_TICK_MSEC 100

static struct {
        struct fake_store *store;
        struct fake_api *api;
        struct fake_faults *faults;
        struct fake_version version;
        bool product_header;
        int log_fd;
        uint64_t seq;
        pthread_mutex_t lock; /* store, api, faults, seq */
        pthread_mutex_t log_lock;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
} g = {
        .log_fd = -1,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .log_lock = PTHREAD_MUTEX_INITIALIZER,
        .stop_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Per request: the raw target (from MHD's URI log callback) and the body as it arrives. */
struct request {
        char *raw_target;
        struct strbuf body;
        bool too_large;
        bool started; /* MHD called us for the headers already */
};

static void request_free(struct request *r) {
        if (!r)
                return;
        free(r->raw_target);
        sb_done(&r->body);
        free(r);
}

/* Sleeps up to 'ms', returning early (true) when the server is stopping. */
static bool sleep_interruptible(long ms) {
        struct timespec deadline;
        bool stopping;

        (void) clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += ms / 1000;
        deadline.tv_nsec += (ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&g.stop_lock);
        while (!g.stopping)
                if (pthread_cond_timedwait(&g.stop_cond, &g.stop_lock, &deadline) == ETIMEDOUT)
                        break;
        stopping = g.stopping;
        pthread_mutex_unlock(&g.stop_lock);
        return stopping;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con) {
        struct request *r = calloc(1, sizeof(*r));

        if (r) {
                r->raw_target = strdup(uri);
                if (!r->raw_target) {
                        free(r);
                        r = NULL;
                }
        }
        return r;
}

static void request_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                              enum MHD_RequestTerminationCode toe) {
        request_free(*con_cls);
        *con_cls = NULL;
}

struct log_entry {
        const char *method;
        const struct request *req;
        const struct fake_response *resp; /* NULL for control requests and dropped connections */
        int status;                       /* 0: none sent */
        const struct fake_fault_action *fault;
        bool control;
        const char *path;
        const char *auth;
        const char *user_agent; /* the User-Agent header as sent, or NULL */
};

static void write_log(const struct log_entry *e) {
        const char *q = strchr(e->req->raw_target, '?');
        char now[40];
        struct strbuf sb = {};
        uint64_t seq;

        pthread_mutex_lock(&g.lock);
        seq = ++g.seq;
        pthread_mutex_unlock(&g.lock);
        if (g.log_fd < 0)
                return;
        iso8601_now(now, sizeof(now));
        sb_printf(&sb, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"method\":", seq, now);
        sb_json_cstr(&sb, e->method);
        sb_puts(&sb, ",\"raw_path\":");
        sb_json_string(&sb, e->req->raw_target, strcspn(e->req->raw_target, "?"));
        sb_puts(&sb, ",\"raw_query\":");
        if (q)
                sb_json_cstr(&sb, q + 1);
        else
                sb_puts(&sb, "null");
        sb_puts(&sb, ",\"path\":");
        sb_json_cstr(&sb, e->path);
        sb_puts(&sb, ",\"query\":");
        sb_puts(&sb, e->resp && e->resp->query_json ? e->resp->query_json : "null");
        sb_puts(&sb, ",\"connector_id\":");
        sb_json_cstr(&sb, e->resp ? e->resp->connector_id : NULL);
        sb_puts(&sb, ",\"sync_job_id\":");
        sb_json_cstr(&sb, e->resp ? e->resp->sync_job_id : NULL);
        if (e->status)
                sb_printf(&sb, ",\"status\":%d", e->status);
        else
                sb_puts(&sb, ",\"status\":null");
        sb_puts(&sb, ",\"auth\":");
        sb_json_cstr(&sb, e->auth);
        sb_puts(&sb, ",\"user_agent\":");
        if (e->user_agent) {
                _cleanup_free_ char *clean = NULL;

                /* As the body: the log stays valid JSON whatever bytes a client sends. */
                if (utf8_sanitize(e->user_agent, strlen(e->user_agent), &clean) == 0)
                        sb_json_cstr(&sb, clean);
                else
                        sb_puts(&sb, "null");
        } else
                sb_puts(&sb, "null");
        sb_puts(&sb, ",\"fault\":");
        if (e->fault)
                fake_fault_action_json(&sb, e->fault);
        else
                sb_puts(&sb, "null");
        sb_printf(&sb, ",\"control\":%s,\"body\":", e->control ? "true" : "false");
        if (e->req->body.len > 0) {
                _cleanup_free_ char *clean = NULL;

                if (utf8_sanitize(e->req->body.s, e->req->body.len, &clean) == 0)
                        sb_json_cstr(&sb, clean);
                else
                        sb_puts(&sb, "null");
        } else
                sb_puts(&sb, "null");
        sb_puts(&sb, "}\n");
        if (sb.oom) {
                sb_done(&sb);
                return;
        }
        /* One write per line under a lock: lines never interleave and are on disk per request. */
        pthread_mutex_lock(&g.log_lock);
        for (size_t off = 0; off < sb.len;) {
                ssize_t n = write(g.log_fd, sb.s + off, sb.len - off);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                off += (size_t) n;
        }
        pthread_mutex_unlock(&g.log_lock);
        sb_done(&sb);
}

/* The body of a trickled or truncated response. */
struct slow_body {
        char *data;
        size_t len;
        size_t send_len; /* truncate: how much to send before failing */
        long rate;       /* trickle: bytes per second */
};

static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max) {
        struct slow_body *b = cls;
        size_t chunk;

        if (pos >= b->send_len)
                return pos >= b->len ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
        chunk = MIN(max, b->send_len - (size_t) pos);
        if (b->rate > 0) {
                size_t per_tick = MAX((size_t) b->rate * TRICKLE_TICK_MSEC / 1000, (size_t) 1);

                if (sleep_interruptible(TRICKLE_TICK_MSEC))
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                chunk = MIN(chunk, per_tick);
        }
        memcpy(buf, b->data + pos, chunk);
        return (ssize_t) chunk;
}

static void slow_free(void *cls) {
        struct slow_body *b = cls;

        free(b->data);
        free(b);
}

/* Queues a response; takes ownership of 'body'. */
static enum MHD_Result queue(struct MHD_Connection *con, int status, char *body, size_t len,
                             const char *content_type, const struct fake_response *resp,
                             const struct fake_fault_action *fault) {
        struct MHD_Response *r;
        enum MHD_Result ret;

        if (fault && (fault->truncate || fault->trickle_bytes_per_sec)) {
                struct slow_body *b = calloc(1, sizeof(*b));

                if (!b) {
                        free(body);
                        return MHD_NO;
                }
                *b = (struct slow_body){ .data = body,
                                         .len = len,
                                         .send_len = fault->truncate ? len / 2 : len,
                                         .rate = fault->trickle_bytes_per_sec };
                r = MHD_create_response_from_callback(len, 4096, slow_reader, b, slow_free);
                if (!r) {
                        slow_free(b);
                        return MHD_NO;
                }
        } else {
                r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
                if (!r) {
                        free(body);
                        return MHD_NO;
                }
        }
        if (g.product_header && !(fault && fault->no_product_header))
                (void) MHD_add_response_header(r, "X-elastic-product", "Elasticsearch");
        if (content_type)
                (void) MHD_add_response_header(r, "content-type", content_type);
        if (resp)
                for (size_t i = 0; i < resp->n_headers; i++)
                        (void) MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
        if (fault && fault->retry_after)
                (void) MHD_add_response_header(r, "Retry-After", fault->retry_after);
        ret = MHD_queue_response(con, (unsigned) status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result queue_text(struct MHD_Connection *con, int status, const char *text) {
        char *b = strdup(text);

        if (!b)
                return MHD_NO;
        return queue(con, status, b, strlen(b), "application/json", NULL, NULL);
}

static enum MHD_Result control_reply(struct MHD_Connection *con, const char *method, struct request *req,
                                     int status, char *body) {
        struct log_entry e = { .method = method,
                               .req = req,
                               .status = status,
                               .control = true,
                               .user_agent =
                                       MHD_lookup_connection_value(con, MHD_HEADER_KIND, "User-Agent") };
        _cleanup_free_ char *path = NULL;
        enum MHD_Result ret;

        (void) fake_request_path(req->raw_target, &path);
        e.path = path;
        ret = body ? queue(con, status, body, strlen(body), "application/json", NULL, NULL) : MHD_NO;
        write_log(&e);
        return ret;
}

static char *control_error(const char *message) {
        struct strbuf sb = {};
        char *s = NULL;

        sb_puts(&sb, "{\"error\":");
        sb_json_cstr(&sb, message);
        sb_puts(&sb, "}");
        return sb_steal(&sb, &s) < 0 ? NULL : s;
}

static void append_docs(struct strbuf *sb, const struct fake_doc **docs, size_t n) {
        sb_puts(sb, "[");
        for (size_t i = 0; i < n; i++) {
                sb_puts(sb, i ? ",{\"id\":" : "{\"id\":");
                sb_json_cstr(sb, docs[i]->id);
                if (!streq(docs[i]->source, "{}")) {
                        sb_puts(sb, ",");
                        sb_puts(sb, docs[i]->source + 1);
                } else
                        sb_puts(sb, "}");
        }
        sb_puts(sb, "]");
}

static enum MHD_Result handle_control(struct MHD_Connection *con, const char *method, struct request *req) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        struct strbuf sb = {};
        char *body = NULL;
        int status = 200, r = 0;

        (void) fake_request_path(req->raw_target, &path);
        pthread_mutex_lock(&g.lock);
        if (streq_ptr(path, "/_fake/state") && streq(method, "GET")) {
                _cleanup_free_ const struct fake_doc **c = NULL, **j = NULL, **sec = NULL;
                size_t nc = 0, nj = 0, ns = 0;

                if (fake_store_all_connectors(g.store, &c, &nc) < 0 ||
                    fake_store_all_sync_jobs(g.store, &j, &nj) < 0 ||
                    fake_store_all_secrets(g.store, &sec, &ns) < 0)
                        sb.oom = true;
                else {
                        const char *uuid, *name;

                        fake_api_get_cluster(g.api, &uuid, &name);
                        sb_printf(&sb, "{\"version\":\"%u.%u.%u\",\"cluster_uuid\":", g.version.major,
                                  g.version.minor, g.version.patch);
                        sb_json_cstr(&sb, uuid);
                        sb_puts(&sb, ",\"cluster_name\":");
                        sb_json_cstr(&sb, name);
                        sb_puts(&sb, ",\"connectors\":");
                        append_docs(&sb, c, nc);
                        sb_puts(&sb, ",\"sync_jobs\":");
                        append_docs(&sb, j, nj);
                        sb_puts(&sb, ",\"secrets\":");
                        append_docs(&sb, sec, ns);
                        sb_puts(&sb, ",\"faults\":");
                        fake_faults_json(g.faults, &sb);
                        sb_printf(&sb, ",\"requests\":%" PRIu64 "}", g.seq);
                }
        } else if (streq_ptr(path, "/_fake/connectors") && streq(method, "POST")) {
                size_t c0 = fake_store_n_connectors(g.store), j0 = fake_store_n_sync_jobs(g.store);

                r = fake_store_load(g.store, strempty(req->body.s), req->body.len, "request body", &err);
                if (r == 0)
                        sb_printf(&sb, "{\"connectors\":%zu,\"sync_jobs\":%zu}",
                                  fake_store_n_connectors(g.store) - c0,
                                  fake_store_n_sync_jobs(g.store) - j0);
        } else if (streq_ptr(path, "/_fake/connectors") && streq(method, "DELETE")) {
                fake_store_clear(g.store);
                sb_puts(&sb, "{\"acknowledged\":true}");
        } else if (streq_ptr(path, "/_fake/cluster") && streq(method, "POST")) {
                _cleanup_free_ char *uuid = NULL, *name = NULL;

                r = fake_cluster_parse(strempty(req->body.s), req->body.len, "request body", &uuid, &name,
                                       &err);
                if (r == 0)
                        r = fake_api_set_cluster(g.api, uuid, name);
                if (r == 0) {
                        const char *u, *n;

                        fake_api_get_cluster(g.api, &u, &n);
                        sb_puts(&sb, "{\"cluster_uuid\":");
                        sb_json_cstr(&sb, u);
                        sb_puts(&sb, ",\"cluster_name\":");
                        sb_json_cstr(&sb, n);
                        sb_puts(&sb, "}");
                }
        } else if (streq_ptr(path, "/_fake/faults") && streq(method, "GET")) {
                sb_puts(&sb, "{\"faults\":");
                fake_faults_json(g.faults, &sb);
                sb_puts(&sb, "}");
        } else if (streq_ptr(path, "/_fake/faults") && streq(method, "POST")) {
                r = fake_faults_set(g.faults, strempty(req->body.s), req->body.len, "request body", &err);
                if (r == 0)
                        sb_puts(&sb, "{\"acknowledged\":true}");
        } else if (streq_ptr(path, "/_fake/faults") && streq(method, "DELETE")) {
                fake_faults_clear(g.faults);
                sb_puts(&sb, "{\"acknowledged\":true}");
        } else {
                status = 404;
                err = strdup("no such control endpoint (GET /_fake/state, POST|DELETE /_fake/connectors, "
                             "POST /_fake/cluster, GET|POST|DELETE /_fake/faults)");
                r = -ENOENT;
        }
        pthread_mutex_unlock(&g.lock);
        if (r == -EINVAL)
                status = 400;
        if (r < 0) {
                if (status == 200)
                        status = 500;
                sb_done(&sb);
                body = control_error(err ? err : strerror(-r));
        } else if (sb_steal(&sb, &body) < 0)
                body = NULL;
        return control_reply(con, method, req, status, body);
}

/* Applies a fault's mutation; the caller holds g.lock. The documents were checked when the rule
 * was set, so only memory can fail. Each write keeps the store's list order (it is sorted
 * again after a write to the connectors). */
static int apply_mutation(const struct fake_mutation *m) {
        int r;

        if (m->documents) {
                _cleanup_free_ char *err = NULL;

                r = fake_store_load(g.store, m->documents, strlen(m->documents), "mutate", &err);
                if (r < 0)
                        return r;
        }
        for (char **id = m->delete_connectors; id && *id; id++)
                (void) fake_store_remove_connector(g.store, *id); /* -ENOENT: not there, ignored */
        for (char **id = m->delete_sync_jobs; id && *id; id++)
                (void) fake_store_remove_sync_job(g.store, *id);
        return fake_api_set_cluster(g.api, m->cluster_uuid, m->cluster_name);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls) {
        struct request *req = *con_cls;
        struct fake_fault_action fault = {};
        struct fake_response resp = {};
        struct fake_request fr;
        _cleanup_free_ char *path = NULL;
        bool faulted = false;
        enum MHD_Result ret;
        int r;

        if (!req)
                return MHD_NO; /* out of memory in uri_log() */
        if (!req->started) {
                /* Answering before MHD read the whole request would cost the connection its keep-alive. */
                req->started = true;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                if (req->body.len + *upload_data_size > MAX_BODY_BYTES)
                        req->too_large = true;
                else
                        sb_append(&req->body, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->body.oom)
                return MHD_NO;
        if (req->too_large)
                return queue_text(con, 413,
                                  "{\"error\":\"request body is larger than the fake cluster keeps\"}");

        if (startswith(req->raw_target, "/_fake/") || streq(req->raw_target, "/_fake"))
                return handle_control(con, method, req);

        (void) fake_request_path(req->raw_target, &path);
        pthread_mutex_lock(&g.lock);
        r = fake_faults_match(g.faults, method, path, &fault);
        pthread_mutex_unlock(&g.lock);
        if (r < 0)
                return MHD_NO;
        faulted = r > 0;

        if (faulted && fault.delay_ms > 0 && sleep_interruptible(fault.delay_ms)) {
                fake_fault_action_done(&fault);
                return MHD_NO;
        }
        if (faulted && fault.mutate) {
                /* The world changes now, before the request is carried out or answered. */
                pthread_mutex_lock(&g.lock);
                r = apply_mutation(fault.mutate);
                pthread_mutex_unlock(&g.lock);
                if (r < 0) {
                        fake_fault_action_done(&fault);
                        return MHD_NO;
                }
                fault.mutated = true;
        }
        if (faulted && (fault.drop || fault.status)) {
                /* The request never reaches the cluster. */
                struct log_entry e = {
                        .method = method,
                        .req = req,
                        .fault = &fault,
                        .path = path,
                        .user_agent = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "User-Agent"),
                };

                e.auth =
                        fake_auth_scheme(MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization"));
                if (fault.drop) {
                        write_log(&e);
                        fake_fault_action_done(&fault);
                        return MHD_NO;
                } else {
                        const char *type = fault.error_type, *reason = fault.reason, *dt, *dr;
                        char *body = NULL;

                        fake_fault_default_error(fault.status, &dt, &dr);
                        if (fault.body)
                                body = strdup(fault.body);
                        else if (fake_error_body(fault.status, type ? type : dt, reason ? reason : dr, NULL,
                                                 NULL, &body) < 0)
                                body = NULL;
                        if (!body) {
                                fake_fault_action_done(&fault);
                                return MHD_NO;
                        }
                        e.status = fault.status;
                        ret = queue(con, fault.status, body, strlen(body),
                                    fault.content_type ? fault.content_type : "application/json", NULL,
                                    &fault);
                        write_log(&e);
                        fake_fault_action_done(&fault);
                        return ret;
                }
        }

        fr = (struct fake_request){
                .method = method,
                .raw_target = req->raw_target,
                .authorization = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization"),
                .accept = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Accept"),
                .content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type"),
                .body = req->body.s,
                .body_len = req->body.len,
        };
        pthread_mutex_lock(&g.lock);
        r = fake_api_handle(g.api, &fr, &resp);
        pthread_mutex_unlock(&g.lock);
        if (r < 0) {
                fake_fault_action_done(&fault);
                return MHD_NO;
        }
        {
                struct log_entry e = { .method = method,
                                       .req = req,
                                       .resp = &resp,
                                       .status = resp.status,
                                       .fault = faulted ? &fault : NULL,
                                       .path = resp.path,
                                       .auth = resp.auth_scheme,
                                       .user_agent = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                                                 "User-Agent") };
                const char *content_type = resp.content_type;
                char *body;
                size_t len;

                if (faulted && fault.malformed) {
                        static const char garbage[] = "{\"count\": 1, \"results\": [ <html>not JSON";

                        body = strdup(garbage);
                        len = sizeof(garbage) - 1;
                        e.status = 200;
                        content_type = "application/json";
                } else if (faulted && fault.body) {
                        /* Carried out, and answered with its own status and headers but this body. */
                        body = strdup(fault.body);
                        len = strlen(fault.body);
                        content_type = fault.content_type ? fault.content_type : "application/json";
                } else {
                        body = TAKE_PTR(resp.body);
                        len = resp.body_len;
                }
                if (!body)
                        ret = MHD_NO;
                else
                        ret = queue(con, e.status, body, len, content_type,
                                    faulted && fault.malformed ? NULL : &resp, faulted ? &fault : NULL);
                write_log(&e);
        }
        fake_response_done(&resp);
        fake_fault_action_done(&fault);
        return ret;
}

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        struct strbuf sb = {};
        char buf[65536];

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        sb_done(&sb);
                        return -errno;
                }
                if (n == 0)
                        break;
                sb_append(&sb, buf, (size_t) n);
        }
        *ret_len = sb.len;
        return sb_steal(&sb, ret);
}

static int write_port_file(const char *path, unsigned port) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        char buf[16];
        int n;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        n = snprintf(buf, sizeof(buf), "%u\n", port);
        if (write(fd, buf, (size_t) n) != n)
                return errno ? -errno : -EIO;
        if (rename(tmp, path) < 0)
                return -errno;
        return 0;
}

static void help(void) {
        printf("Usage: fake-cluster [OPTIONS]\n"
               "A fake Elasticsearch cluster serving the connector API (test equipment).\n\n"
               "  --port N                listen on 127.0.0.1:N (0, the default: any free port)\n"
               "  --port-file FILE        write the port there once listening\n"
               "  --seed FILE             initial documents {\"connectors\": [...], \"sync_jobs\": [...]}\n"
               "  --version X.Y.Z         Elasticsearch version to be (default 9.1.3)\n"
               "  --api-key KEY           require Authorization: ApiKey KEY\n"
               "  --basic USER:PASS       accept Basic authentication\n"
               "  --bearer TOKEN          accept Authorization: Bearer TOKEN\n"
               "  --api-key-read-only KEY accept an API key that may read connectors, not manage them\n"
               "  --basic-read-only USER:PASS  a user who may read connectors, not manage them\n"
               "  --faults FILE           fault rules {\"faults\": [...]}: method, path, count, skip,\n"
               "                          probability; delay_ms, status, retry_after, type, reason,\n"
               "                          body, content_type, drop, malformed, truncate,\n"
               "                          trickle_bytes_per_sec, product_header, mutate\n"
               "  --fault-seed N          seed for fault probabilities and generated ids (default 1)\n"
               "  --log FILE              request log, one JSON object a line\n"
               "  --tls-cert FILE         serve HTTPS with this PEM certificate (needs --tls-key)\n"
               "  --tls-key FILE          the certificate's PEM key\n"
               "  --no-product-header     omit X-elastic-product: Elasticsearch\n"
               "  --cluster-uuid UUID     the cluster_uuid GET / reports (default " FAKE_CLUSTER_UUID ")\n"
               "  --cluster-name NAME     the cluster_name GET / reports (default " FAKE_CLUSTER_NAME ")\n"
               "  --max-result-window N   index.max_result_window (default 10000)\n"
               "  --parent-pid PID        exit when that process is gone\n"
               "  -h, --help              this help\n");
}

static int parse_long(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char *argv[]) {
        enum {
                OPT_PORT = 0x100,
                OPT_PORT_FILE,
                OPT_SEED,
                OPT_VERSION,
                OPT_API_KEY,
                OPT_BASIC,
                OPT_BEARER,
                OPT_API_KEY_READ_ONLY,
                OPT_BASIC_READ_ONLY,
                OPT_FAULTS,
                OPT_FAULT_SEED,
                OPT_LOG,
                OPT_TLS_CERT,
                OPT_TLS_KEY,
                OPT_NO_PRODUCT_HEADER,
                OPT_MAX_RESULT_WINDOW,
                OPT_PARENT_PID,
                OPT_CLUSTER_UUID,
                OPT_CLUSTER_NAME,
        };
        static const struct option options[] = {
                { "port", required_argument, NULL, OPT_PORT },
                { "port-file", required_argument, NULL, OPT_PORT_FILE },
                { "seed", required_argument, NULL, OPT_SEED },
                { "version", required_argument, NULL, OPT_VERSION },
                { "api-key", required_argument, NULL, OPT_API_KEY },
                { "basic", required_argument, NULL, OPT_BASIC },
                { "bearer", required_argument, NULL, OPT_BEARER },
                { "api-key-read-only", required_argument, NULL, OPT_API_KEY_READ_ONLY },
                { "basic-read-only", required_argument, NULL, OPT_BASIC_READ_ONLY },
                { "faults", required_argument, NULL, OPT_FAULTS },
                { "fault-seed", required_argument, NULL, OPT_FAULT_SEED },
                { "log", required_argument, NULL, OPT_LOG },
                { "tls-cert", required_argument, NULL, OPT_TLS_CERT },
                { "tls-key", required_argument, NULL, OPT_TLS_KEY },
                { "no-product-header", no_argument, NULL, OPT_NO_PRODUCT_HEADER },
                { "max-result-window", required_argument, NULL, OPT_MAX_RESULT_WINDOW },
                { "parent-pid", required_argument, NULL, OPT_PARENT_PID },
                { "cluster-uuid", required_argument, NULL, OPT_CLUSTER_UUID },
                { "cluster-name", required_argument, NULL, OPT_CLUSTER_NAME },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *port_file = NULL, *seed = NULL, *faults_file = NULL, *log_path = NULL, *cert_file = NULL,
                   *key_file = NULL, *version = "9.1.3";
        _cleanup_free_ char *basic_user = NULL, *reader = NULL, *cert = NULL, *key = NULL;
        struct fake_api_config cfg = { .max_result_window = 10000 };
        long port = 0, fault_seed = 1, parent = 0, v;
        struct MHD_Daemon *d;
        const union MHD_DaemonInfo *info;
        struct sockaddr_in addr = {};
        pthread_condattr_t ca;
        sigset_t mask;
        unsigned flags;
        int c, r;

        g.product_header = true;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_PORT:
                        if (parse_long(optarg, 0, 65535, &port) < 0) {
                                fprintf(stderr, "fake-cluster: --port '%s': not a port number\n", optarg);
                                return 1;
                        }
                        break;
                case OPT_PORT_FILE:
                        port_file = optarg;
                        break;
                case OPT_SEED:
                        seed = optarg;
                        break;
                case OPT_VERSION:
                        version = optarg;
                        break;
                case OPT_API_KEY:
                        cfg.api_key = optarg;
                        break;
                case OPT_BASIC: {
                        const char *colon = strchr(optarg, ':');

                        if (!colon) {
                                fprintf(stderr, "fake-cluster: --basic wants USER:PASS\n");
                                return 1;
                        }
                        free(basic_user);
                        basic_user = strndup(optarg, (size_t) (colon - optarg));
                        if (!basic_user)
                                return 1;
                        cfg.basic_user = basic_user;
                        cfg.basic_password = colon + 1;
                        break;
                }
                case OPT_BEARER:
                        cfg.bearer = optarg;
                        break;
                case OPT_API_KEY_READ_ONLY: {
                        _cleanup_free_ char *decoded = NULL;
                        size_t len;

                        /* A 403 names the key's id. */
                        if (base64_decode(optarg, strlen(optarg), &decoded, &len) < 0 ||
                            !memchr(decoded, ':', len) || decoded[0] == ':') {
                                fprintf(stderr,
                                        "fake-cluster: --api-key-read-only wants base64 of id:secret\n");
                                return 1;
                        }
                        cfg.api_key_read_only = optarg;
                        break;
                }
                case OPT_BASIC_READ_ONLY: {
                        const char *colon = strchr(optarg, ':');

                        if (!colon) {
                                fprintf(stderr, "fake-cluster: --basic-read-only wants USER:PASS\n");
                                return 1;
                        }
                        free(reader);
                        reader = strndup(optarg, (size_t) (colon - optarg));
                        if (!reader)
                                return 1;
                        cfg.basic_read_only_user = reader;
                        cfg.basic_read_only_password = colon + 1;
                        break;
                }
                case OPT_FAULTS:
                        faults_file = optarg;
                        break;
                case OPT_FAULT_SEED:
                        if (parse_long(optarg, 0, LONG_MAX, &fault_seed) < 0) {
                                fprintf(stderr, "fake-cluster: --fault-seed '%s': not a number\n", optarg);
                                return 1;
                        }
                        break;
                case OPT_LOG:
                        log_path = optarg;
                        break;
                case OPT_TLS_CERT:
                        cert_file = optarg;
                        break;
                case OPT_TLS_KEY:
                        key_file = optarg;
                        break;
                case OPT_NO_PRODUCT_HEADER:
                        g.product_header = false;
                        break;
                case OPT_MAX_RESULT_WINDOW:
                        if (parse_long(optarg, 1, INT_MAX, &v) < 0) {
                                fprintf(stderr,
                                        "fake-cluster: --max-result-window '%s': not a positive number\n",
                                        optarg);
                                return 1;
                        }
                        cfg.max_result_window = v;
                        break;
                case OPT_PARENT_PID:
                        if (parse_long(optarg, 1, INT_MAX, &parent) < 0) {
                                fprintf(stderr, "fake-cluster: --parent-pid '%s': not a process id\n",
                                        optarg);
                                return 1;
                        }
                        break;
                case OPT_CLUSTER_UUID:
                        cfg.cluster_uuid = optarg;
                        break;
                case OPT_CLUSTER_NAME:
                        cfg.cluster_name = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        fprintf(stderr, "Try 'fake-cluster --help'.\n");
                        return 1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "fake-cluster: unexpected argument '%s'\n", argv[optind]);
                return 1;
        }
        if (fake_version_parse(version, &g.version) < 0) {
                fprintf(stderr, "fake-cluster: --version '%s': want X.Y.Z\n", version);
                return 1;
        }
        cfg.version = g.version;
        if (!cert_file != !key_file) {
                fprintf(stderr, "fake-cluster: --tls-cert and --tls-key go together\n");
                return 1;
        }

        if (fake_store_new(&g.store) < 0 || fake_faults_new(&g.faults, (uint64_t) fault_seed) < 0 ||
            fake_api_new(&g.api, &cfg, g.store, (uint64_t) fault_seed) < 0) {
                fprintf(stderr, "fake-cluster: out of memory\n");
                return 1;
        }
        fake_store_set_soft_deletes(g.store, fake_version_at_least(&g.version, 9, 0));
        if (seed) {
                _cleanup_free_ char *text = NULL, *err = NULL;
                size_t len;

                r = read_file(seed, &text, &len);
                if (r < 0) {
                        fprintf(stderr, "fake-cluster: %s: %s\n", seed, strerror(-r));
                        return 1;
                }
                r = fake_store_load(g.store, text, len, seed, &err);
                if (r < 0) {
                        fprintf(stderr, "fake-cluster: %s\n", err ? err : strerror(-r));
                        return 1;
                }
        }
        /* The seed's text and tree are freed: give their memory back, a seed can be large. */
        (void) malloc_trim(0);
        if (faults_file) {
                _cleanup_free_ char *text = NULL, *err = NULL;
                size_t len;

                r = read_file(faults_file, &text, &len);
                if (r < 0) {
                        fprintf(stderr, "fake-cluster: %s: %s\n", faults_file, strerror(-r));
                        return 1;
                }
                r = fake_faults_set(g.faults, text, len, faults_file, &err);
                if (r < 0) {
                        fprintf(stderr, "fake-cluster: %s\n", err ? err : strerror(-r));
                        return 1;
                }
        }
        if (cert_file) {
                size_t len;

                if ((r = read_file(cert_file, &cert, &len)) < 0 ||
                    (r = read_file(key_file, &key, &len)) < 0) {
                        fprintf(stderr, "fake-cluster: %s: %s\n", cert ? key_file : cert_file, strerror(-r));
                        return 1;
                }
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
                        fprintf(stderr, "fake-cluster: this libmicrohttpd has no TLS support\n");
                        return 1;
                }
        }
        if (log_path) {
                g.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (g.log_fd < 0) {
                        fprintf(stderr, "fake-cluster: %s: %m\n", log_path);
                        return 1;
                }
        }

        (void) pthread_condattr_init(&ca);
        (void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        (void) pthread_cond_init(&g.stop_cond, &ca);
        (void) pthread_condattr_destroy(&ca);

        /* Signals go to the main thread only: block them before MHD starts its threads. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGPIPE);
        (void) pthread_sigmask(SIG_BLOCK, &mask, NULL);

        addr.sin_family = AF_INET;
        addr.sin_port = htons((uint16_t) port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_USE_ERROR_LOG;
        if (cert)
                flags |= MHD_USE_TLS;
        d = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *) &addr, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                             MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 120, MHD_OPTION_CONNECTION_LIMIT,
                             (unsigned) 1000, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 256 * 1024,
                             cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
                             MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "fake-cluster: cannot listen on 127.0.0.1:%ld\n", port);
                return 1;
        }
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        if (!info || info->port == 0) {
                fprintf(stderr, "fake-cluster: cannot tell the port listened on\n");
                MHD_stop_daemon(d);
                return 1;
        }
        if (port_file) {
                r = write_port_file(port_file, info->port);
                if (r < 0) {
                        fprintf(stderr, "fake-cluster: %s: %s\n", port_file, strerror(-r));
                        MHD_stop_daemon(d);
                        return 1;
                }
        }

        for (;;) {
                struct timespec t = { .tv_sec = 0, .tv_nsec = PARENT_CHECK_MSEC * 1000000L };
                int sig = sigtimedwait(&mask, NULL, &t);

                if (sig == SIGTERM || sig == SIGINT)
                        break;
                if (parent > 0 && kill((pid_t) parent, 0) < 0 && errno == ESRCH)
                        break;
        }

        pthread_mutex_lock(&g.stop_lock);
        g.stopping = true;
        pthread_cond_broadcast(&g.stop_cond);
        pthread_mutex_unlock(&g.stop_lock);
        MHD_stop_daemon(d);
        g.api = fake_api_free(g.api);
        g.faults = fake_faults_free(g.faults);
        g.store = fake_store_free(g.store);
        if (g.log_fd >= 0)
                (void) close(g.log_fd);
        return 0;
}
