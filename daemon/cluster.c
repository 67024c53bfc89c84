#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-event.h>

#include "cluster.h"
#include "backoff.h"
#include "http.h"
#include "plan.h"
#include "url.h"
#include "util.h"

/* Retry timers may fire this much late, to coalesce wake-ups. */
#define RETRY_TIMER_ACCURACY_USEC USEC_PER_MSEC

const char *cluster_delete_result_to_string(enum cluster_delete_result r) {
        static const char *const table[_CLUSTER_DELETE_RESULT_MAX] = {
                [CLUSTER_DELETED] = "deleted",           [CLUSTER_DELETED_PARTLY] = "deleted_partly",
                [CLUSTER_ALREADY_GONE] = "already_gone", [CLUSTER_CHANGED] = "changed",
                [CLUSTER_DELETE_FAILED] = "failed",
        };

        return r >= 0 && r < _CLUSTER_DELETE_RESULT_MAX ? table[r] : NULL;
}

void cluster_options_init(struct cluster_options *o) {
        assert(o);

        *o = (struct cluster_options) {
                .auth = CLUSTER_AUTH_NONE,
                .verify_tls = true,
                .connect_timeout_usec = CLUSTER_CONNECT_TIMEOUT_USEC_DEFAULT,
                .request_timeout_usec = CLUSTER_REQUEST_TIMEOUT_USEC_DEFAULT,
                .max_in_flight = CLUSTER_MAX_IN_FLIGHT_DEFAULT,
                .page_size = CLUSTER_PAGE_SIZE_DEFAULT,
                .max_result_window = CLUSTER_MAX_RESULT_WINDOW_DEFAULT,
                .retry = {
                        .max_attempts = CLUSTER_RETRY_MAX_ATTEMPTS_DEFAULT,
                        .initial_delay_usec = CLUSTER_RETRY_INITIAL_DELAY_USEC_DEFAULT,
                        .max_delay_usec = CLUSTER_RETRY_MAX_DELAY_USEC_DEFAULT,
                },
                .max_body_bytes = HTTP_MAX_BODY_BYTES_DEFAULT,
        };
}

struct cluster_sync_jobs *cluster_sync_jobs_free(struct cluster_sync_jobs *j) {
        if (!j)
                return NULL;
        strv_free(j->ids);
        free(j->json);
        free(j);
        return NULL;
}

/* ---- The client: operations made of calls (one logical HTTP request each, with its retries) ---- */

enum op_kind {
        OP_INFO,
        OP_IDENTIFY,
        OP_LIST,
        OP_GET,
        OP_SYNC_JOBS,
        OP_DELETE,
};

struct call;

union op_callback {
        void (*info)(struct cluster *c, int error, const struct cluster_info *info,
                     const struct cluster_error *err, void *userdata);
        void (*list)(struct cluster *c, int error, struct cluster_listing *listing,
                     const struct cluster_error *err, void *userdata);
        void (*get)(struct cluster *c, int error, struct cluster_document *document,
                    const struct cluster_error *err, void *userdata);
        void (*sync_jobs)(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                          const struct cluster_error *err, void *userdata);
        void (*delete)(struct cluster *c, int error, enum cluster_delete_result result,
                       const struct cluster_error *err, void *userdata);
};

/* Which list of the cluster holds an op. */
enum op_where {
        OP_DETACHED,
        OP_RUNNING,
        OP_WAITING, /* for GET / */
};

struct op {
        struct cluster *cluster;
        struct op *prev, *next; /* in the cluster's list that 'where' names */
        enum op_where where;
        enum op_kind kind;
        uint64_t info_generation; /* which GET / it waits for */

        char *id;
        struct call *calls_head, *calls_tail;

        /* OP_LIST: the listing being taken, and which attempt it is. */
        struct cluster_lister *lister;
        unsigned list_attempt;
        sd_event_source *relist_timer;

        /* OP_SYNC_JOBS: the connector's jobs so far. */
        uint64_t sync_from;
        struct cluster_sync_jobs *jobs;
        size_t jobs_alloc, json_alloc;

        /* OP_DELETE */
        bool delete_sync_jobs, hard;
        char *delete_path;
        struct call *delete_call; /* the connector's DELETE, also while it waits to be resent */
        char *expected_body;      /* the document backed up: a retry goes out only while it still reads so */
        size_t expected_size;
        char **sync_ids; /* 8.12-8.13: the jobs to delete after the connector */
        size_t n_sync_ids;
        enum cluster_delete_result result; /* of the connector's DELETE, while its jobs go */
        size_t sync_pending;
        int sync_error;
        struct cluster_error sync_err;

        union op_callback callback;
        void *userdata;
};

struct call {
        struct cluster *cluster;
        struct op *op;            /* owner; NULL for the shared GET / */
        struct call *prev, *next; /* in op's calls */
        char *request;            /* "METHOD /path?query", for messages */
        char *method;
        char *url;
        unsigned attempt; /* 1-based: the attempt on the wire or the one to come */
        struct http_request *http;
        sd_event_source *timer;
        void (*done)(struct call *call, struct http_response *resp);
};

struct cluster {
        unsigned n_ref;
        bool dead;
        bool no_retry; /* cluster_stop_retrying() */

        sd_event *event;
        struct http_glue *http;
        char *base_url;
        char *auth_header; /* "Authorization: ..." or NULL; wiped on free */
        const char *headers[3];
        char *expected_uuid; /* cluster.cluster_uuid, or NULL */

        struct backoff_policy retry;
        unsigned page_size;
        uint64_t max_result_window;

        struct cluster_info info;
        bool have_info;
        struct call *info_call; /* the GET / in flight, if any */
        uint64_t info_generation;

        struct op *ops_head, *ops_tail;         /* running */
        struct op *waiting_head, *waiting_tail; /* waiting for GET / */

        void (*retry_hook)(struct cluster *c, const struct cluster_retry *r, void *userdata);
        void *retry_hook_userdata;
};

static struct cluster *cluster_ref(struct cluster *c) {
        c->n_ref++;
        return c;
}

static void cluster_unref(struct cluster *c) {
        assert(c->n_ref > 0);
        if (--c->n_ref > 0)
                return;

        c->http = http_glue_free(c->http);
        erase_and_free(c->auth_header);
        free(c->base_url);
        free(c->expected_uuid);
        cluster_info_done(&c->info);
        sd_event_unref(c->event);
        free(c);
}
DEFINE_CLEANUP_FUNC(struct cluster *, cluster_unref);

static void call_free(struct call *call) {
        if (!call)
                return;

        if (call->op) {
                LIST_REMOVE(call->op->calls_head, call->op->calls_tail, call);
                if (call->op->delete_call == call)
                        call->op->delete_call = NULL;
        }
        http_request_cancel(call->http);
        (void) sd_event_source_disable_unref(call->timer);
        free(call->request);
        free(call->method);
        free(call->url);
        free(call);
}

static void op_free(struct op *op) {
        struct cluster *c;

        if (!op)
                return;

        c = op->cluster;
        if (op->where == OP_WAITING)
                LIST_REMOVE(c->waiting_head, c->waiting_tail, op);
        else if (op->where == OP_RUNNING)
                LIST_REMOVE(c->ops_head, c->ops_tail, op);

        while (op->calls_head)
                call_free(op->calls_head);
        cluster_lister_free(op->lister);
        (void) sd_event_source_disable_unref(op->relist_timer);
        cluster_sync_jobs_free(op->jobs);
        strv_free(op->sync_ids);
        cluster_error_done(&op->sync_err);
        free(op->expected_body);
        free(op->delete_path);
        free(op->id);
        free(op);
}
DEFINE_CLEANUP_FUNC(struct op *, op_free);

static void on_http_done(struct http_response *resp, void *userdata);

static int call_send(struct call *call) {
        assert(!call->http);
        return http_request_start(call->cluster->http, call->method, call->url, call->cluster->headers,
                                  on_http_done, call, &call->http);
}

/* Creates a call for 'op' (NULL: the cluster's GET /) and sends it. 'hidden_query' (or NULL) goes
 * on the URL after 'path''s query but not into the request's description in messages. Returns 0
 * or a negative errno (nothing sent, nothing left behind). */
static int call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                      const char *hidden_query, void (*done)(struct call *call, struct http_response *resp),
                      struct call **ret) {
        struct call *call;
        int r;

        call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->cluster = c;
        call->attempt = 1;
        call->done = done;
        call->method = strdup(method);
        call->request = strdup_printf("%s %s", method, path);
        call->url = strdup_printf("%s%s%s", c->base_url, path, strempty(hidden_query));
        if (!call->method || !call->request || !call->url) {
                call_free(call);
                return -ENOMEM;
        }

        r = call_send(call);
        if (r < 0) {
                call_free(call);
                return r;
        }

        if (op) {
                call->op = op;
                LIST_APPEND(op->calls_head, op->calls_tail, call);
        }
        if (ret)
                *ret = call;
        return 0;
}

/* What the official clients check: an answer without "X-elastic-product: Elasticsearch" is not
 * Elasticsearch's, whatever its status and body say (a proxy, a load balancer's error page, a
 * gateway). */
static bool from_elasticsearch(const struct http_response *resp) {
        return resp->product && streq(resp->product, "Elasticsearch");
}

/* Whether an answer is Elasticsearch's 404: the connector (or job) is not there. */
static bool is_gone(const struct http_response *resp) {
        return resp->error >= 0 && resp->status == 404 && from_elasticsearch(resp);
}

static int not_elasticsearch_error(const struct call *call, const struct http_response *resp,
                                   struct cluster_error *ret) {
        _cleanup_free_ char *p = resp->product ? cluster_escape_str(resp->product) : NULL;

        if (resp->product && !p)
                return -ENOMEM;
        *ret = (struct cluster_error){
                .status = (int) resp->status,
                .request = strdup(call->request),
                .message =
                        p ? strdup_printf("%ld from a server that is not Elasticsearch (X-elastic-product "
                                          "is '%s'): a proxy or another server answered",
                                          resp->status, p)
                          : strdup_printf("%ld from a server that is not Elasticsearch (no "
                                          "X-elastic-product header): a proxy or another server answered",
                                          resp->status),
        };
        return ret->request && ret->message ? -EPROTONOSUPPORT : -ENOMEM;
}

/* Fills *ret from a failed attempt (a transfer error or a non-2xx status). Returns the errno. */
static int response_to_error(const struct call *call, const struct http_response *resp,
                             struct cluster_error *ret) {
        int error;

        *ret = (struct cluster_error){};
        if (resp->error >= 0 && resp->status == 404 && !from_elasticsearch(resp))
                /* Not "gone": nobody who knows said so. */
                return not_elasticsearch_error(call, resp, ret);

        ret->request = strdup(call->request);
        if (!ret->request)
                return -ENOMEM;

        if (resp->error < 0) {
                /* A transfer that broke after its headers may carry a status; it is not what
                 * happened, so it is not reported. */
                ret->message = strdup(resp->error_message ?: "The transfer failed");
                return ret->message ? resp->error : -ENOMEM;
        }

        ret->status = (int) resp->status;
        error = cluster_status_to_errno((int) resp->status);
        assert(error < 0);

        if (resp->status >= 300 && resp->status <= 399) {
                _cleanup_free_ char *l = resp->location ? cluster_escape_str(resp->location) : NULL;

                if (resp->location && !l)
                        return -ENOMEM;
                ret->message = strdup_printf("%ld redirect to '%s' not followed: point the configuration "
                                             "at the cluster itself",
                                             resp->status, l ?: "(no Location)");
                return ret->message ? error : -ENOMEM;
        }

        if (cluster_decode_error((int) resp->status, resp->body, resp->body_size, &ret->type,
                                 &ret->message) < 0)
                return -ENOMEM;
        return error;
}

/* Checks that an answer is a 2xx from Elasticsearch: returns 0, or fills *ret and returns the
 * errno of what it is instead. */
static int response_check(const struct call *call, const struct http_response *resp,
                          struct cluster_error *ret) {
        if (resp->error < 0 || resp->status < 200 || resp->status > 299)
                return response_to_error(call, resp, ret);
        if (!from_elasticsearch(resp))
                return not_elasticsearch_error(call, resp, ret);
        return 0;
}

/* Fills *ret for a response whose body we could not use. */
static int bad_body_error(const struct call *call, const struct http_response *resp, int error,
                          const char *why, struct cluster_error *ret) {
        *ret = (struct cluster_error){
                .status = (int) resp->status,
                .request = strdup(call->request),
                .message =
                        strdup_printf("Malformed response (%ld): %s", resp->status, why ?: "cannot decode"),
        };
        return ret->request && ret->message ? error : -ENOMEM;
}

static int oom_error(const struct call *call, struct cluster_error *ret) {
        *ret = (struct cluster_error){
                .request = call ? strdup(call->request) : NULL,
                .message = strdup("Out of memory"),
        };
        return -ENOMEM;
}

static void verify_start(struct call *call);

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct call *call = userdata;
        int r;

        call->timer = sd_event_source_disable_unref(call->timer);
        call->attempt++;

        /* A DELETE whose answer did not come is sent again only once the connector reads as it did
         * when it was backed up: meanwhile it may have been deleted and created anew, or changed. */
        if (call->op && call->op->delete_call == call && call->op->expected_body) {
                verify_start(call);
                return 0;
        }

        r = call_send(call);
        if (r < 0) {
                struct http_response resp = {
                        .error = r,
                        .error_message = "Failed to start the request again",
                };
                call->done(call, &resp);
        }
        return 0;
}

/* Tells the retry hook about a retry that is about to be scheduled. */
static void notify_retry(struct cluster *c, const struct cluster_retry *info) {
        if (c->retry_hook)
                c->retry_hook(c, info, c->retry_hook_userdata);
}

/* Arms the retry timer; then tells the hook. Returns < 0 when the timer could not be armed. */
static int call_schedule_retry(struct call *call, const struct http_response *resp, usec_t delay) {
        struct cluster *c = call->cluster;
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        int error, r;

        r = sd_event_add_time(c->event, &call->timer, CLOCK_MONOTONIC,
                              usec_add(now_usec(CLOCK_MONOTONIC), delay), RETRY_TIMER_ACCURACY_USEC,
                              on_retry_timer, call);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(call->timer, "cluster-retry");

        if (!c->retry_hook)
                return 0;

        error = response_to_error(call, resp, &err);
        notify_retry(c, &(struct cluster_retry){
                                .request = call->request,
                                .connector_id = call->op ? call->op->id : NULL,
                                .attempt = call->attempt,
                                .max_attempts = MAX(c->retry.max_attempts, 1u),
                                .error = error,
                                .status = err.status,
                                .message = err.message ?: "Out of memory",
                                .delay_usec = delay,
                        });
        return 0;
}

static void on_http_done(struct http_response *resp, void *userdata) {
        struct call *call = userdata;
        struct cluster *c = call->cluster;

        call->http = NULL; /* freed by http.c once we return */

        if (!c->no_retry && backoff_is_transient(resp->error, (int) resp->status)) {
                usec_t delay;

                if (backoff_next(&c->retry, call->attempt, resp->error < 0 ? NULL : resp->retry_after,
                                 now_usec(CLOCK_REALTIME), random_u64(), &delay) > 0 &&
                    call_schedule_retry(call, resp, delay) >= 0)
                        return; /* nothing may touch call or c after the hook */
        }

        call->done(call, resp);
}

/* ---- Finishing operations. Each path ends with the user's callback, after which nothing
 * touches the op or the cluster (the callback may free either). ---- */

static void op_fail(struct op *op, int error, const struct cluster_error *err) {
        struct cluster *c = op->cluster;
        enum op_kind kind = op->kind;
        union op_callback cb = op->callback;
        void *userdata = op->userdata;

        assert(error < 0);
        op_free(op);

        switch (kind) {
        case OP_INFO:
        case OP_IDENTIFY:
                cb.info(c, error, NULL, err, userdata);
                break;
        case OP_LIST:
                cb.list(c, error, NULL, err, userdata);
                break;
        case OP_GET:
                cb.get(c, error, NULL, err, userdata);
                break;
        case OP_SYNC_JOBS:
                cb.sync_jobs(c, error, NULL, err, userdata);
                break;
        case OP_DELETE:
                cb.delete(c, error, CLUSTER_DELETE_FAILED, err, userdata);
                break;
        }
}

/* Fails 'op' with a message of our own (no HTTP status). */
static void op_fail_message(struct op *op, int error, const char *request, const char *message) {
        _cleanup_(cluster_error_done) struct cluster_error err = {
                .request = request ? strdup(request) : NULL,
                .message = strdup(message ?: "Out of memory"),
        };

        op_fail(op, error, &err);
}

/* Fails the op of 'call' (and frees the call) with what the answer was instead of what we
 * wanted: a transfer error, an error status, or an answer that is not Elasticsearch's. */
static void call_fail(struct call *call, const struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct op *op = call->op;
        int r;

        r = response_check(call, resp, &err);
        assert(r < 0);
        call_free(call);
        op_fail(op, r, &err);
}

/* Fails the op of 'call' (and frees the call) with a body the decoder refused (r, why). */
static void call_fail_body(struct call *call, const struct http_response *resp, int r, const char *why) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct op *op = call->op;

        r = r == -ENOMEM ? oom_error(call, &err) : bad_body_error(call, resp, r, why, &err);
        call_free(call);
        op_fail(op, r, &err);
}

/* Whether the answer is a 2xx from Elasticsearch; when it is not, the op fails (see call_fail()). */
static bool call_ok(struct call *call, const struct http_response *resp) {
        if (resp->error >= 0 && resp->status >= 200 && resp->status <= 299 && from_elasticsearch(resp))
                return true;
        call_fail(call, resp);
        return false;
}

static int op_begin(struct op *op);

/* ---- GET / ---- */

static int info_from_response(struct cluster *c, const struct call *call, struct http_response *resp,
                              struct cluster_info *ret, struct cluster_error *reterr) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = response_check(call, resp, reterr);
        if (r < 0) {
                if (r == -EPROTONOSUPPORT) {
                        /* Say where: this is the first thing a misconfigured URL meets. */
                        char *m = strdup_printf("Server at %s is not Elasticsearch: %s", c->base_url,
                                                strna(reterr->message));
                        if (!m)
                                return -ENOMEM;
                        free(reterr->message);
                        reterr->message = m;
                }
                return r;
        }

        r = cluster_decode_info(resp->body, resp->body_size, ret, &msg);
        if (r == -ENOMEM)
                return oom_error(call, reterr);
        if (r < 0)
                return bad_body_error(call, resp, r, msg, reterr);

        r = cluster_check_version(ret, &msg);
        if (r >= 0 && c->expected_uuid && !streq_ptr(ret->cluster_uuid, c->expected_uuid)) {
                _cleanup_free_ char *name = cluster_escape_str(strempty(ret->cluster_name)),
                                    *uuid = cluster_escape_str(strempty(ret->cluster_uuid));

                r = name && uuid
                            ? reterr_printf(&msg, -ESTALE,
                                            "The cluster at %s is '%s' (cluster_uuid '%s'), not the one "
                                            "cluster.cluster_uuid names ('%s'): refusing it",
                                            c->base_url, name, uuid, c->expected_uuid)
                            : -ENOMEM;
        }
        if (r < 0) {
                cluster_info_done(ret);
                if (r == -ENOMEM)
                        return oom_error(call, reterr);
                *reterr = (struct cluster_error){
                        .status = (int) resp->status,
                        .request = strdup(call->request),
                        .message = TAKE_PTR(msg),
                };
                return r;
        }
        return 0;
}

static void info_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_unrefp) struct cluster *c = cluster_ref(call->cluster);
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct cluster_info info = {};
        uint64_t generation = c->info_generation;
        int error;

        error = info_from_response(c, call, resp, &info, &err);
        c->info_call = NULL;
        call_free(call);

        if (error >= 0) {
                cluster_info_done(&c->info);
                c->info = info;
                c->have_info = true;
        }

        /* Every op that waited for this GET / goes on or fails with it. Ops that callbacks start
         * meanwhile queue behind them with a newer generation, or begin at once. */
        while (!c->dead && c->waiting_head && c->waiting_head->info_generation == generation) {
                struct op *op = c->waiting_head;
                int r;

                LIST_REMOVE(c->waiting_head, c->waiting_tail, op);
                LIST_APPEND(c->ops_head, c->ops_tail, op);
                op->where = OP_RUNNING;

                if (error < 0) {
                        op_fail(op, error, &err);
                        continue;
                }
                if (op->kind == OP_INFO) {
                        union op_callback cb = op->callback;
                        void *userdata = op->userdata;

                        op_free(op);
                        cb.info(c, 0, &c->info, NULL, userdata);
                        continue;
                }
                r = op_begin(op);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
        }
}

/* Puts 'op' in the waiting list, sending GET / unless one is on its way. */
static int op_wait_info(struct op *op) {
        struct cluster *c = op->cluster;
        int r;

        if (!c->info_call) {
                r = call_start(c, NULL, "GET", "/", NULL, info_done, &c->info_call);
                if (r < 0)
                        return r;
                c->info_generation++;
        }

        assert(op->where == OP_DETACHED);
        op->where = OP_WAITING;
        op->info_generation = c->info_generation;
        LIST_APPEND(c->waiting_head, c->waiting_tail, op);
        return 0;
}

/* GET / again, for an identity that must not have changed since the first one. */
static void identify_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_(cluster_info_done) struct cluster_info info = {};
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        union op_callback cb;
        void *userdata;
        int r;

        r = info_from_response(c, call, resp, &info, &err);
        call_free(call);
        if (r < 0)
                return op_fail(op, r, &err);

        if (!streq_ptr(info.cluster_uuid, c->info.cluster_uuid)) {
                _cleanup_free_ char *now = cluster_escape_str(strempty(info.cluster_name)),
                                    *now_uuid = cluster_escape_str(strempty(info.cluster_uuid)),
                                    *was = cluster_escape_str(strempty(c->info.cluster_name)),
                                    *was_uuid = cluster_escape_str(strempty(c->info.cluster_uuid)),
                                    *m = NULL;

                if (now && now_uuid && was && was_uuid)
                        m = strdup_printf("The cluster at %s is now '%s' (cluster_uuid '%s'), not '%s' "
                                          "(cluster_uuid '%s') as when it was listed",
                                          c->base_url, now, now_uuid, was, was_uuid);
                return op_fail_message(op, -ESTALE, "GET /", m);
        }

        cluster_info_done(&c->info);
        c->info = info;
        info = (struct cluster_info){};

        cb = op->callback;
        userdata = op->userdata;
        op_free(op);
        cb.info(c, 0, &c->info, NULL, userdata);
}

static int identify_begin(struct op *op) {
        return call_start(op->cluster, op, "GET", "/", NULL, identify_done, NULL);
}

/* ---- GET /_connector pages ---- */

static void list_page_done(struct call *call, struct http_response *resp);

static int list_send(struct op *op, uint64_t from, unsigned size) {
        _cleanup_free_ char *path = strdup_printf("/_connector?from=%" PRIu64 "&size=%u", from, size);

        if (!path)
                return -ENOMEM;
        /* The same on every page, so messages leave it out: they say which page. */
        return call_start(op->cluster, op, "GET", path, "&" CLUSTER_LIST_FILTER_PATH, list_page_done, NULL);
}

/* Starts taking the listing, from its first page. */
static int list_start(struct op *op) {
        uint64_t from;
        unsigned size;
        int r;

        op->lister = cluster_lister_free(op->lister);
        r = cluster_lister_new(&op->lister, op->cluster->page_size, op->cluster->max_result_window);
        if (r < 0)
                return r;
        op->list_attempt++;
        r = cluster_lister_next(op->lister, &from, &size, NULL);
        if (r <= 0) /* cannot happen: the first page is always asked for */
                return r < 0 ? r : -EINVAL;
        return list_send(op, from, size);
}

static int on_relist_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct op *op = userdata;
        int r;

        op->relist_timer = sd_event_source_disable_unref(op->relist_timer);
        r = list_start(op);
        if (r < 0)
                op_fail_message(op, r, NULL, "Failed to start the request");
        return 0;
}

/* The pages of a listing disagreed: take it again after a delay, a few times at most; a listing
 * that never comes out consistent fails. */
static void list_inconsistent(struct op *op, struct cluster_listing *listing) {
        _cleanup_(cluster_listing_freep) struct cluster_listing *l = listing;
        struct cluster *c = op->cluster;
        usec_t delay;
        int r;

        if (op->list_attempt >= CLUSTER_LIST_ATTEMPTS_MAX || c->no_retry) {
                _cleanup_free_ char *m = strdup_printf(
                        "The connector listing changed while it was read, %u times in a row (%s): it cannot "
                        "be trusted",
                        op->list_attempt, strna(l->incomplete_reason));
                return op_fail_message(op, -EAGAIN, "GET /_connector", m);
        }

        (void) backoff_next(&c->retry, op->list_attempt, NULL, now_usec(CLOCK_REALTIME), random_u64(),
                            &delay);
        r = sd_event_add_time(c->event, &op->relist_timer, CLOCK_MONOTONIC,
                              usec_add(now_usec(CLOCK_MONOTONIC), delay), RETRY_TIMER_ACCURACY_USEC,
                              on_relist_timer, op);
        if (r < 0)
                return op_fail_message(op, r, NULL, "Failed to arm a timer");
        (void) sd_event_source_set_description(op->relist_timer, "cluster-relist");

        notify_retry(c, &(struct cluster_retry){
                                .request = "Listing the connectors",
                                .attempt = op->list_attempt,
                                .max_attempts = CLUSTER_LIST_ATTEMPTS_MAX,
                                .error = -EAGAIN,
                                .message = l->incomplete_reason ?: "its pages disagreed",
                                .delay_usec = delay,
                        });
}

static void list_page_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_page_done) struct cluster_page page = {};
        _cleanup_free_ char *msg = NULL;
        struct cluster_listing *listing = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        union op_callback cb;
        void *userdata;
        uint64_t from = 0;
        unsigned size = 0;
        int r;

        if (!call_ok(call, resp))
                return;

        r = cluster_decode_list_page(resp->body, resp->body_size, &page, &msg);
        if (r < 0)
                return call_fail_body(call, resp, r, msg);
        call_free(call);

        r = cluster_lister_add(op->lister, &page);
        if (r < 0)
                return op_fail_message(op, r, NULL, NULL);

        r = cluster_lister_next(op->lister, &from, &size, &msg);
        if (r < 0)
                return op_fail_message(op, r, NULL, msg);
        if (r > 0) {
                r = list_send(op, from, size);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        r = cluster_lister_finish(op->lister, &listing);
        if (r < 0)
                return op_fail_message(op, r, NULL, NULL);
        if (!listing->complete)
                return list_inconsistent(op, listing);
        listing->attempts = op->list_attempt;

        cb = op->callback;
        userdata = op->userdata;
        op_free(op);
        cb.list(c, 0, listing, NULL, userdata);
}

/* ---- GET /_connector/<id> ---- */

static int connector_path(const char *id, char **ret) {
        _cleanup_free_ char *e = cluster_escape_segment(id);

        if (!e)
                return -ENOMEM;
        *ret = strdup_printf("/_connector/%s", e);
        return *ret ? 0 : -ENOMEM;
}

static void get_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_document_freep) struct cluster_document *doc = NULL;
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        union op_callback cb;
        void *userdata;
        int r;

        if (!call_ok(call, resp))
                return;

        doc = calloc(1, sizeof(*doc));
        if (!doc)
                return call_fail_body(call, resp, -ENOMEM, NULL);
        r = cluster_decode_connector(resp->body, resp->body_size, op->id, &doc->connector, &msg);
        if (r < 0)
                return call_fail_body(call, resp, r, msg);
        /* The bytes exactly as they came: they become the backup. */
        doc->body = TAKE_PTR(resp->body);
        doc->body_size = resp->body_size;
        call_free(call);

        cb = op->callback;
        userdata = op->userdata;
        op_free(op);
        cb.get(c, 0, TAKE_PTR(doc), NULL, userdata);
}

static int get_begin(struct op *op) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = connector_path(op->id, &path);
        if (r < 0)
                return r;
        return call_start(op->cluster, op, "GET", path, NULL, get_done, NULL);
}

/* ---- GET /_connector/_sync_job?connector_id=<id>, every page ---- */

static int sync_jobs_send(struct op *op);

/* Appends one job of ours: its id (unless seen already) and its document. */
static int sync_jobs_add(struct op *op, const char *body, struct cluster_sync_job *job) {
        struct cluster_sync_jobs *j = op->jobs;

        /* O(n²) in one connector's jobs, which a page of the listing shifts by a few at most. */
        for (size_t k = 0; k < j->n_ids; k++)
                if (streq(j->ids[k], job->id))
                        return 0;

        if (j->n_ids + 2 > op->jobs_alloc) {
                size_t a = MAX(op->jobs_alloc * 2, (size_t) 8);
                char **p = reallocarray(j->ids, a, sizeof(char *));

                if (!p)
                        return -ENOMEM;
                j->ids = p;
                op->jobs_alloc = a;
        }
        /* "[" doc ("," doc)* "]" and a NUL */
        if (j->json_size + job->size + 3 > op->json_alloc) {
                size_t a = MAX(op->json_alloc * 2, j->json_size + job->size + 3);
                char *p = realloc(j->json, a);

                if (!p)
                        return -ENOMEM;
                j->json = p;
                op->json_alloc = a;
        }
        j->json[j->json_size++] = j->n_ids == 0 ? '[' : ',';
        memcpy(j->json + j->json_size, body + job->offset, job->size);
        j->json_size += job->size;
        j->ids[j->n_ids++] = TAKE_PTR(job->id);
        j->ids[j->n_ids] = NULL;
        return 0;
}

static void sync_jobs_page_done(struct call *call, struct http_response *resp) {
        _cleanup_(cluster_sync_job_page_done) struct cluster_sync_job_page page = {};
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        struct cluster_sync_jobs *j = op->jobs;
        union op_callback cb;
        void *userdata;
        int r;

        if (!call_ok(call, resp))
                return;
        r = cluster_decode_sync_job_page(resp->body, resp->body_size, &page, &msg);
        if (r < 0)
                return call_fail_body(call, resp, r, msg);

        for (size_t i = 0; i < page.n_jobs; i++) {
                /* Only the jobs that say they are this connector's: a server or proxy that dropped
                 * the filter must not get another connector's jobs deleted. */
                if (!streq_ptr(page.jobs[i].connector_id, op->id)) {
                        j->n_foreign++;
                        continue;
                }
                r = sync_jobs_add(op, resp->body, &page.jobs[i]);
                if (r < 0) {
                        call_free(call);
                        return op_fail_message(op, r, NULL, NULL);
                }
        }
        call_free(call);

        if (page.count > c->max_result_window) {
                _cleanup_free_ char *id = cluster_escape_str(op->id), *m = NULL;

                if (id)
                        m = strdup_printf("Connector '%s' has %" PRIu64
                                          " sync jobs; the list API shows at most %" PRIu64
                                          " (index.max_result_window), so they cannot all be read",
                                          id, page.count, c->max_result_window);
                return op_fail_message(op, -EOVERFLOW, NULL, m);
        }

        op->sync_from += c->page_size;
        if (op->sync_from < page.count && op->sync_from < c->max_result_window) {
                r = sync_jobs_send(op);
                if (r < 0)
                        op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        if (j->n_ids == 0) {
                free(j->json);
                j->json = strdup("[]");
                if (!j->json)
                        return op_fail_message(op, -ENOMEM, NULL, NULL);
                j->json_size = 2;
        } else {
                j->json[j->json_size++] = ']';
                j->json[j->json_size] = '\0';
        }

        cb = op->callback;
        userdata = op->userdata;
        op->jobs = NULL;
        op_free(op);
        cb.sync_jobs(c, 0, j, NULL, userdata);
}

static int sync_jobs_send(struct op *op) {
        struct cluster *c = op->cluster;
        _cleanup_free_ char *e = cluster_escape_segment(op->id), *path = NULL;
        uint64_t size = MIN((uint64_t) c->page_size, c->max_result_window - op->sync_from);

        if (!e)
                return -ENOMEM;
        path = strdup_printf("/_connector/_sync_job?connector_id=%s&from=%" PRIu64 "&size=%" PRIu64, e,
                             op->sync_from, size);
        if (!path)
                return -ENOMEM;
        return call_start(c, op, "GET", path, NULL, sync_jobs_page_done, NULL);
}

static int sync_jobs_begin(struct op *op) {
        op->jobs = calloc(1, sizeof(struct cluster_sync_jobs));
        if (!op->jobs)
                return -ENOMEM;
        return sync_jobs_send(op);
}

/* ---- DELETE /_connector/<id>, and on 8.12-8.13 its sync jobs after it ---- */

static void op_finish_delete(struct op *op, int error, enum cluster_delete_result result,
                             const struct cluster_error *err) {
        struct cluster *c = op->cluster;
        union op_callback cb = op->callback;
        void *userdata = op->userdata;

        op_free(op);
        cb.delete(c, error, result, err, userdata);
}

static void sync_delete_done(struct call *call, struct http_response *resp) {
        struct op *op = call->op;
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_free_ char *msg = NULL;
        int r = 0;

        /* 404: gone already (e.g. deleted along with something else): fine. */
        if (!is_gone(resp)) {
                r = response_check(call, resp, &err);
                if (r >= 0) {
                        r = cluster_decode_acknowledged(resp->body, resp->body_size, &msg);
                        if (r < 0)
                                r = r == -ENOMEM ? oom_error(call, &err)
                                                 : bad_body_error(call, resp, r, msg, &err);
                }
        }
        if (r < 0 && op->sync_error == 0) {
                op->sync_error = r;
                op->sync_err = err;
                err = (struct cluster_error){};
        }
        call_free(call);

        assert(op->sync_pending > 0);
        if (--op->sync_pending > 0)
                return;

        if (op->sync_error < 0) {
                _cleanup_(cluster_error_done) struct cluster_error e = op->sync_err;

                op->sync_err = (struct cluster_error){};
                return op_finish_delete(op, op->sync_error, CLUSTER_DELETED_PARTLY, &e);
        }
        op_finish_delete(op, 0, op->result, NULL);
}

/* The connector is gone: on 8.12-8.13, its jobs go now, those that were backed up with it. */
static void delete_connector_done(struct op *op, enum cluster_delete_result result) {
        int r;

        op->result = result;
        for (size_t i = 0; i < op->n_sync_ids; i++) {
                _cleanup_free_ char *e = cluster_escape_segment(op->sync_ids[i]), *path = NULL;

                path = e ? strdup_printf("/_connector/_sync_job/%s", e) : NULL;
                /* http.c keeps no more than max_in_flight of them on the wire. */
                r = path ? call_start(op->cluster, op, "DELETE", path, NULL, sync_delete_done, NULL)
                         : -ENOMEM;
                if (r < 0) {
                        /* The ones already sent are cancelled with the op. */
                        _cleanup_(cluster_error_done) struct cluster_error err = {
                                .message = strdup("Failed to start deleting its sync jobs"),
                        };
                        return op_finish_delete(op, r, CLUSTER_DELETED_PARTLY, &err);
                }
                op->sync_pending++;
        }
        if (op->sync_pending == 0)
                op_finish_delete(op, 0, result, NULL);
}

static void delete_done(struct call *call, struct http_response *resp) {
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        int r;

        if (is_gone(resp)) {
                call_free(call);
                return delete_connector_done(op, CLUSTER_ALREADY_GONE);
        }
        if (!call_ok(call, resp))
                return;
        /* Done only when Elasticsearch says so. */
        r = cluster_decode_acknowledged(resp->body, resp->body_size, &msg);
        if (r < 0)
                return call_fail_body(call, resp, r, msg);
        call_free(call);
        delete_connector_done(op, CLUSTER_DELETED);
}

/* The GET before a DELETE is sent again: it goes out only to the document that was backed up. */
static void verify_done(struct call *call, struct http_response *resp) {
        struct op *op = call->op;
        struct call *del = op->delete_call;
        _cleanup_free_ char *id = NULL;
        int r;

        assert(del);

        if (is_gone(resp)) {
                call_free(call);
                return delete_connector_done(op, CLUSTER_ALREADY_GONE);
        }
        if (!call_ok(call, resp))
                return;
        if (resp->body_size != op->expected_size ||
            memcmp(resp->body, op->expected_body, op->expected_size) != 0) {
                _cleanup_(cluster_error_done) struct cluster_error err;

                id = cluster_escape_str(op->id);
                err = (struct cluster_error){
                        .request = strdup(call->request),
                        .message = id ? strdup_printf("Connector '%s' changed while its DELETE waited to be "
                                                      "sent again: it is not the connector that was backed "
                                                      "up, so it is not deleted",
                                                      id)
                                      : NULL,
                };
                call_free(call);
                return op_finish_delete(op, 0, CLUSTER_CHANGED, &err);
        }
        call_free(call);

        if (op->cluster->no_retry)
                return op_fail_message(op, -ECANCELED, del->request,
                                       "Not sent again: the cycle is stopping");
        r = call_send(del);
        if (r < 0) {
                struct http_response failed = {
                        .error = r,
                        .error_message = "Failed to start the request again",
                };
                del->done(del, &failed);
        }
}

static void verify_start(struct call *del) {
        struct op *op = del->op;
        _cleanup_free_ char *path = NULL;
        int r;

        r = connector_path(op->id, &path);
        if (r >= 0)
                r = call_start(op->cluster, op, "GET", path, NULL, verify_done, NULL);
        if (r < 0)
                op_fail_message(op, r, NULL, "Failed to read the connector again before its DELETE");
}

static int delete_begin(struct op *op) {
        bool by_client;
        int r;

        r = cluster_delete_path(&op->cluster->info, op->id, op->delete_sync_jobs, op->hard, &op->delete_path,
                                &by_client);
        if (r < 0)
                return r;
        /* The jobs are deleted by us only where the server cannot (8.12-8.13). */
        if (!by_client) {
                strv_free(op->sync_ids);
                op->sync_ids = NULL;
                op->n_sync_ids = 0;
        }
        return call_start(op->cluster, op, "DELETE", op->delete_path, NULL, delete_done, &op->delete_call);
}

static int op_begin(struct op *op) {
        switch (op->kind) {
        case OP_IDENTIFY:
                return identify_begin(op);
        case OP_LIST:
                return list_start(op);
        case OP_GET:
                return get_begin(op);
        case OP_SYNC_JOBS:
                return sync_jobs_begin(op);
        case OP_DELETE:
                return delete_begin(op);
        case OP_INFO:
                break;
        }
        assert(false);
        return -EINVAL;
}

/* Creates an op. On failure nothing is left behind. */
static int op_new(struct cluster *c, enum op_kind kind, const char *id, union op_callback callback,
                  void *userdata, struct op **ret) {
        _cleanup_(op_freep) struct op *op = NULL;

        assert(c);
        assert(!c->dead);

        if (id && id[0] == '\0')
                return -EINVAL;

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->cluster = c;
        op->kind = kind;
        op->callback = callback;
        op->userdata = userdata;
        if (id) {
                op->id = strdup(id);
                if (!op->id)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(op);
        return 0;
}

/* Starts an op: at once when the version is known, else after GET /. On failure nothing is left
 * behind (the op is freed) and no callback runs. */
static int op_submit(struct op *op_in) {
        _cleanup_(op_freep) struct op *op = op_in;
        struct cluster *c = op->cluster;
        int r;

        if (op->kind == OP_INFO || !c->have_info) {
                r = op_wait_info(op);
                if (r < 0)
                        return r;
                TAKE_PTR(op);
                return 0;
        }

        LIST_APPEND(c->ops_head, c->ops_tail, op);
        op->where = OP_RUNNING;
        r = op_begin(op);
        if (r < 0)
                return r;
        TAKE_PTR(op);
        return 0;
}

static int op_new_submit(struct cluster *c, enum op_kind kind, const char *id, union op_callback callback,
                         void *userdata) {
        struct op *op;
        int r;

        r = op_new(c, kind, id, callback, userdata, &op);
        if (r < 0)
                return r;
        return op_submit(op);
}

int cluster_info(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata) {
        assert(callback);
        return op_new_submit(c, OP_INFO, NULL, (union op_callback){ .info = callback }, userdata);
}

int cluster_identify(struct cluster *c,
                     void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                      const struct cluster_error *err, void *userdata),
                     void *userdata) {
        assert(callback);
        return op_new_submit(c, c->have_info ? OP_IDENTIFY : OP_INFO, NULL,
                             (union op_callback){ .info = callback }, userdata);
}

int cluster_list(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, struct cluster_listing *listing,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata) {
        assert(callback);
        return op_new_submit(c, OP_LIST, NULL, (union op_callback){ .list = callback }, userdata);
}

int cluster_get(struct cluster *c, const char *id,
                void (*callback)(struct cluster *c, int error, struct cluster_document *document,
                                 const struct cluster_error *err, void *userdata),
                void *userdata) {
        assert(id);
        assert(callback);
        return op_new_submit(c, OP_GET, id, (union op_callback){ .get = callback }, userdata);
}

int cluster_list_sync_jobs(struct cluster *c, const char *id,
                           void (*callback)(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                                            const struct cluster_error *err, void *userdata),
                           void *userdata) {
        assert(id);
        assert(callback);
        return op_new_submit(c, OP_SYNC_JOBS, id, (union op_callback){ .sync_jobs = callback }, userdata);
}

int cluster_delete(struct cluster *c, const char *id, const struct cluster_delete_options *o,
                   void (*callback)(struct cluster *c, int error, enum cluster_delete_result result,
                                    const struct cluster_error *err, void *userdata),
                   void *userdata) {
        struct op *op;
        int r;

        assert(id);
        assert(o);
        assert(callback);

        r = op_new(c, OP_DELETE, id, (union op_callback){ .delete = callback }, userdata, &op);
        if (r < 0)
                return r;
        op->delete_sync_jobs = o->delete_sync_jobs;
        op->hard = o->hard;
        if (o->expected_body) {
                op->expected_body = memdup(o->expected_body, o->expected_size);
                op->expected_size = o->expected_size;
        }
        if (o->n_sync_job_ids > 0) {
                op->sync_ids = calloc(o->n_sync_job_ids + 1, sizeof(char *));
                for (size_t i = 0; op->sync_ids && i < o->n_sync_job_ids; i++) {
                        op->sync_ids[i] = strdup(o->sync_job_ids[i]);
                        if (!op->sync_ids[i]) {
                                strv_free(op->sync_ids);
                                op->sync_ids = NULL;
                        }
                }
                op->n_sync_ids = o->n_sync_job_ids;
        }
        if ((o->expected_body && !op->expected_body) || (o->n_sync_job_ids > 0 && !op->sync_ids)) {
                op_free(op);
                return -ENOMEM;
        }
        return op_submit(op);
}

void cluster_stop_retrying(struct cluster *c) {
        /* A callback below may free the cluster: keep it until we are done. */
        cluster_ref(c);
        c->no_retry = true;

        /* Each call waiting for its retry, and each listing waiting to be taken again, ends now
         * with what it last got. A callback may end other ops, or free the cluster: look again
         * from the start each time. */
        while (!c->dead) {
                struct call *waiting = c->info_call && c->info_call->timer ? c->info_call : NULL;
                struct op *relist = NULL;

                for (struct op *op = c->ops_head; op && !waiting && !relist; op = op->next) {
                        if (op->relist_timer)
                                relist = op;
                        for (struct call *call = op->calls_head; call && !waiting; call = call->next)
                                if (call->timer)
                                        waiting = call;
                }
                if (relist) {
                        op_fail_message(relist, -ECANCELED, "GET /_connector",
                                        "The connector listing was not taken again: the cycle is stopping");
                        continue;
                }
                if (!waiting)
                        break;
                waiting->timer = sd_event_source_disable_unref(waiting->timer);
                waiting->done(waiting, &(struct http_response){
                                               .error = -ECANCELED,
                                               .error_message = "Not retried: the cycle is stopping",
                                       });
        }
        cluster_unref(c);
}

/* ---- Life cycle ---- */

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int build_auth_header(const struct cluster_options *o, char **ret, char **reterr_message) {
        switch (o->auth) {
        case CLUSTER_AUTH_NONE:
                *ret = NULL;
                return 0;

        case CLUSTER_AUTH_API_KEY:
                if (!o->api_key || o->api_key[0] == '\0')
                        return reterr_printf(reterr_message, -EINVAL, "The API key is empty");
                if (has_control_chars(o->api_key))
                        return reterr_printf(reterr_message, -EINVAL,
                                             "The API key holds a control character");
                *ret = strdup_printf("Authorization: ApiKey %s", o->api_key);
                return *ret ? 0 : -ENOMEM;

        case CLUSTER_AUTH_BEARER:
                if (!o->bearer_token || o->bearer_token[0] == '\0')
                        return reterr_printf(reterr_message, -EINVAL, "The bearer token is empty");
                if (has_control_chars(o->bearer_token))
                        return reterr_printf(reterr_message, -EINVAL,
                                             "The bearer token holds a control character");
                *ret = strdup_printf("Authorization: Bearer %s", o->bearer_token);
                return *ret ? 0 : -ENOMEM;

        case CLUSTER_AUTH_BASIC: {
                _cleanup_erase_ char *pair = NULL, *encoded = NULL;
                int r;

                if (!o->username || o->username[0] == '\0')
                        return reterr_printf(reterr_message, -EINVAL, "The user name is empty");
                if (strchr(o->username, ':') || has_control_chars(o->username))
                        return reterr_printf(reterr_message, -EINVAL,
                                             "The user name holds a ':' or a control character");
                if (!o->password)
                        return reterr_printf(reterr_message, -EINVAL, "No password given");
                if (has_control_chars(o->password))
                        return reterr_printf(reterr_message, -EINVAL,
                                             "The password holds a control character");

                pair = strdup_printf("%s:%s", o->username, o->password);
                if (!pair)
                        return -ENOMEM;
                r = base64_encode(pair, strlen(pair), &encoded);
                if (r < 0)
                        return r;
                *ret = strdup_printf("Authorization: Basic %s", encoded);
                return *ret ? 0 : -ENOMEM;
        }

        default:
                return reterr_printf(reterr_message, -EINVAL, "Unknown authentication kind");
        }
}

int cluster_new(struct cluster **ret, sd_event *event, const struct cluster_options *o,
                char **reterr_message) {
        _cleanup_(cluster_unrefp) struct cluster *c = NULL;
        _cleanup_free_ char *m = NULL;
        struct http_options ho;
        size_t n = 0;
        int r;

        assert(ret);
        assert(event);
        assert(o);

        if (!o->url)
                return reterr_printf(reterr_message, -EINVAL, "No cluster URL given");

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->event = sd_event_ref(event);
        c->retry = o->retry;
        c->page_size =
                o->page_size == 0 ? CLUSTER_PAGE_SIZE_DEFAULT : MIN(o->page_size, CLUSTER_PAGE_SIZE_MAX);
        c->max_result_window = o->max_result_window ?: CLUSTER_MAX_RESULT_WINDOW_DEFAULT;

        r = url_normalize(o->url, URL_CLUSTER, "use an API key, a password or a bearer token", &c->base_url,
                          &m);
        if (r == -EINVAL)
                return reterr_printf(reterr_message, r, "The cluster URL %s", m);
        if (r < 0)
                return r;

        r = build_auth_header(o, &c->auth_header, reterr_message);
        if (r < 0)
                return r;

        if (o->expected_uuid) {
                c->expected_uuid = strdup(o->expected_uuid);
                if (!c->expected_uuid)
                        return -ENOMEM;
        }

        c->headers[n++] = "Accept: application/json";
        if (c->auth_header)
                c->headers[n++] = c->auth_header;
        c->headers[n] = NULL;

        ho = (struct http_options){
                .ca_file = o->ca_file,
                .client_cert_file = o->client_cert_file,
                .client_key_file = o->client_key_file,
                .verify_tls = o->verify_tls,
                .connect_timeout_usec = o->connect_timeout_usec,
                .request_timeout_usec = o->request_timeout_usec,
                .max_body_bytes = o->max_body_bytes,
                .max_in_flight = o->max_in_flight,
                .proxy = o->proxy,
        };
        r = http_glue_new(&c->http, event, &ho);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

void cluster_cancel(struct cluster *c) {
        if (!c)
                return;

        while (c->ops_head)
                op_free(c->ops_head);
        while (c->waiting_head)
                op_free(c->waiting_head);
        call_free(c->info_call);
        c->info_call = NULL;
}

struct cluster *cluster_free(struct cluster *c) {
        if (!c)
                return NULL;

        cluster_cancel(c);
        c->dead = true;
        c->retry_hook = NULL;
        cluster_unref(c);
        return NULL;
}

void cluster_set_retry_hook(struct cluster *c,
                            void (*hook)(struct cluster *c, const struct cluster_retry *r, void *userdata),
                            void *userdata) {
        assert(c);
        c->retry_hook = hook;
        c->retry_hook_userdata = userdata;
}

const char *cluster_get_url(const struct cluster *c) {
        assert(c);
        return c->base_url;
}

const struct cluster_info *cluster_get_info(const struct cluster *c) {
        assert(c);
        return c->have_info ? &c->info : NULL;
}
