/* The connector API client's engine: operations made of calls (one logical HTTP request each),
 * their retries on loop timers, the errors they end with, and the GET / every operation waits for.
 * Then the small operations (GET / again, the listing's pages, one connector's document), the
 * public entry points, and the client's life cycle. A connector's DELETE and its sync jobs are in
 * cluster-delete.c. */

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
#include "cluster-internal.h"
#include "backoff.h"
#include "http.h"
#include "plan.h"
#include "url.h"
#include "util.h"

/* Retry timers may fire this much late, to coalesce wake-ups. */
#define RETRY_TIMER_ACCURACY_USEC USEC_PER_MSEC

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

/* ---- The client: operations made of calls (see cluster-internal.h) ---- */

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

void cluster_call_free(struct call *call) {
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

void cluster_op_free(struct op *op) {
        struct cluster *c;

        if (!op)
                return;

        c = op->cluster;
        if (op->where == OP_WAITING)
                LIST_REMOVE(c->waiting_head, c->waiting_tail, op);
        else if (op->where == OP_RUNNING)
                LIST_REMOVE(c->ops_head, c->ops_tail, op);

        while (op->calls_head)
                cluster_call_free(op->calls_head);
        cluster_lister_free(op->lister);
        (void) sd_event_source_disable_unref(op->relist_timer);
        cluster_sync_jobs_free(op->jobs);
        strv_free(op->sync_ids);
        cluster_error_done(&op->sync_err);
        free(op->expected_body);
        free(op->delete_path);
        free(op->put_endpoint);
        if (op->put_body) {
                explicit_bzero(op->put_body, op->put_size); /* a configuration may hold secrets */
                free(op->put_body);
        }
        free(op->id);
        free(op);
}

static void on_http_done(struct http_response *resp, void *userdata);

static int call_send(struct call *call) {
        struct cluster *c = call->cluster;

        assert(!call->http);
        if (call->body)
                return http_request_start_body(c->http, call->method, call->url, c->body_headers, call->body,
                                               call->body_size, on_http_done, call, &call->http);
        return http_request_start(c->http, call->method, call->url, c->headers, on_http_done, call,
                                  &call->http);
}

static int call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                      const char *hidden_query, char *body, size_t body_size,
                      void (*done)(struct call *call, struct http_response *resp), struct call **ret);

void cluster_call_resend(struct call *call) {
        int r;

        r = call_send(call);
        if (r < 0) {
                struct http_response resp = {
                        .error = r,
                        .error_message = "Failed to start the request again",
                };
                call->done(call, &resp);
        }
}

int cluster_call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                       const char *hidden_query, void (*done)(struct call *call, struct http_response *resp),
                       struct call **ret) {
        return call_start(c, op, method, path, hidden_query, NULL, 0, done, ret);
}

int cluster_call_start_body(struct cluster *c, struct op *op, const char *method, const char *path,
                            char *body, size_t body_size,
                            void (*done)(struct call *call, struct http_response *resp), struct call **ret) {
        assert(body);
        return call_start(c, op, method, path, NULL, body, body_size, done, ret);
}

static int call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                      const char *hidden_query, char *body, size_t body_size,
                      void (*done)(struct call *call, struct http_response *resp), struct call **ret) {
        struct call *call;
        int r;

        call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->cluster = c;
        call->body = body;
        call->body_size = body_size;
        call->attempt = 1;
        call->done = done;
        call->method = strdup(method);
        call->request = strdup_printf("%s %s", method, path);
        call->url = strdup_printf("%s%s%s", c->base_url, path, strempty(hidden_query));
        if (!call->method || !call->request || !call->url) {
                cluster_call_free(call);
                return -ENOMEM;
        }

        r = call_send(call);
        if (r < 0) {
                cluster_call_free(call);
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

bool cluster_response_is_gone(const struct http_response *resp) {
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

int cluster_response_check(const struct call *call, const struct http_response *resp,
                           struct cluster_error *ret) {
        if (resp->error < 0 || resp->status < 200 || resp->status > 299)
                return response_to_error(call, resp, ret);
        if (!from_elasticsearch(resp))
                return not_elasticsearch_error(call, resp, ret);
        return 0;
}

static int oom_error(const struct call *call, struct cluster_error *ret) {
        *ret = (struct cluster_error){
                .request = call ? strdup(call->request) : NULL,
                .message = strdup("Out of memory"),
        };
        return -ENOMEM;
}

int cluster_body_error(const struct call *call, const struct http_response *resp, int error, const char *why,
                       struct cluster_error *ret) {
        if (error == -ENOMEM)
                return oom_error(call, ret);
        *ret = (struct cluster_error){
                .status = (int) resp->status,
                .request = strdup(call->request),
                .message =
                        strdup_printf("Malformed response (%ld): %s", resp->status, why ?: "cannot decode"),
        };
        return ret->request && ret->message ? error : -ENOMEM;
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct call *call = userdata;

        call->timer = sd_event_source_disable_unref(call->timer);
        call->attempt++;

        /* A DELETE whose answer did not come is sent again only once the connector reads as it did
         * when it was backed up: meanwhile it may have been deleted and created anew, or changed. */
        if (call->op && call->op->delete_call == call && call->op->expected_body) {
                cluster_delete_verify(call);
                return 0;
        }

        cluster_call_resend(call);
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

static enum cluster_code_class code_class(const struct http_response *resp) {
        if (resp->error < 0)
                return CLUSTER_CODE_ERROR;
        switch (resp->status / 100) {
        case 2:
                return CLUSTER_CODE_2XX;
        case 4:
                return CLUSTER_CODE_4XX;
        case 5:
                return CLUSTER_CODE_5XX;
        default:
                return CLUSTER_CODE_ERROR;
        }
}

static void on_http_done(struct http_response *resp, void *userdata) {
        struct call *call = userdata;
        struct cluster *c = call->cluster;

        call->http = NULL; /* freed by http.c once we return */
        c->http_counts.responses[code_class(resp)]++;

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
        cluster_op_free(op);

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
        case OP_PUT:
                cb.put(c, error, NULL, err, userdata);
                break;
        }
}

void cluster_op_fail_message(struct op *op, int error, const char *request, const char *message) {
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

        r = cluster_response_check(call, resp, &err);
        assert(r < 0);
        cluster_call_free(call);
        op_fail(op, r, &err);
}

void cluster_call_fail_body(struct call *call, const struct http_response *resp, int r, const char *why) {
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        struct op *op = call->op;

        r = cluster_body_error(call, resp, r, why, &err);
        cluster_call_free(call);
        op_fail(op, r, &err);
}

bool cluster_call_ok(struct call *call, const struct http_response *resp) {
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

        r = cluster_response_check(call, resp, reterr);
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
        if (r < 0)
                return cluster_body_error(call, resp, r, msg, reterr);

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
        cluster_call_free(call);

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

                        cluster_op_free(op);
                        cb.info(c, 0, &c->info, NULL, userdata);
                        continue;
                }
                r = op_begin(op);
                if (r < 0)
                        cluster_op_fail_message(op, r, NULL, "Failed to start the request");
        }
}

/* Puts 'op' in the waiting list, sending GET / unless one is on its way. */
static int op_wait_info(struct op *op) {
        struct cluster *c = op->cluster;
        int r;

        if (!c->info_call) {
                r = cluster_call_start(c, NULL, "GET", "/", NULL, info_done, &c->info_call);
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
        cluster_call_free(call);
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
                return cluster_op_fail_message(op, -ESTALE, "GET /", m);
        }

        cluster_info_done(&c->info);
        c->info = info;
        info = (struct cluster_info){};

        cb = op->callback;
        userdata = op->userdata;
        cluster_op_free(op);
        cb.info(c, 0, &c->info, NULL, userdata);
}

static int identify_begin(struct op *op) {
        return cluster_call_start(op->cluster, op, "GET", "/", NULL, identify_done, NULL);
}

/* ---- GET /_connector pages ---- */

static void list_page_done(struct call *call, struct http_response *resp);

static int list_send(struct op *op, uint64_t from, unsigned size) {
        /* Before 9.0 nothing is soft-deleted, and the parameter is unknown (a 400). */
        bool deleted = op->include_deleted && cluster_version_at_least(&op->cluster->info, 9, 0);
        _cleanup_free_ char *path = strdup_printf("/_connector?from=%" PRIu64 "&size=%u%s", from, size,
                                                  deleted ? "&include_deleted=true" : "");

        if (!path)
                return -ENOMEM;
        /* The same on every page, so messages leave it out: they say which page. */
        return cluster_call_start(op->cluster, op, "GET", path, "&" CLUSTER_LIST_FILTER_PATH, list_page_done,
                                  NULL);
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
                cluster_op_fail_message(op, r, NULL, "Failed to start the request");
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
                return cluster_op_fail_message(op, -EAGAIN, "GET /_connector", m);
        }

        (void) backoff_next(&c->retry, op->list_attempt, NULL, now_usec(CLOCK_REALTIME), random_u64(),
                            &delay);
        r = sd_event_add_time(c->event, &op->relist_timer, CLOCK_MONOTONIC,
                              usec_add(now_usec(CLOCK_MONOTONIC), delay), RETRY_TIMER_ACCURACY_USEC,
                              on_relist_timer, op);
        if (r < 0)
                return cluster_op_fail_message(op, r, NULL, "Failed to arm a timer");
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

        if (!cluster_call_ok(call, resp))
                return;

        r = cluster_decode_list_page(resp->body, resp->body_size, &page, &msg);
        if (r < 0)
                return cluster_call_fail_body(call, resp, r, msg);
        cluster_call_free(call);

        r = cluster_lister_add(op->lister, &page);
        if (r < 0)
                return cluster_op_fail_message(op, r, NULL, NULL);

        r = cluster_lister_next(op->lister, &from, &size, &msg);
        if (r < 0)
                return cluster_op_fail_message(op, r, NULL, msg);
        if (r > 0) {
                r = list_send(op, from, size);
                if (r < 0)
                        cluster_op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        r = cluster_lister_finish(op->lister, &listing);
        if (r < 0)
                return cluster_op_fail_message(op, r, NULL, NULL);
        if (!listing->complete)
                return list_inconsistent(op, listing);
        listing->attempts = op->list_attempt;

        cb = op->callback;
        userdata = op->userdata;
        cluster_op_free(op);
        cb.list(c, 0, listing, NULL, userdata);
}

/* ---- GET /_connector/<id> ---- */

int cluster_connector_path(const char *id, char **ret) {
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

        if (!cluster_call_ok(call, resp))
                return;

        doc = calloc(1, sizeof(*doc));
        if (!doc)
                return cluster_call_fail_body(call, resp, -ENOMEM, NULL);
        r = cluster_decode_connector(resp->body, resp->body_size, op->id, &doc->connector, &msg);
        if (r < 0)
                return cluster_call_fail_body(call, resp, r, msg);
        /* The bytes exactly as they came: they become the backup. */
        doc->body = TAKE_PTR(resp->body);
        doc->body_size = resp->body_size;
        cluster_call_free(call);

        cb = op->callback;
        userdata = op->userdata;
        cluster_op_free(op);
        cb.get(c, 0, TAKE_PTR(doc), NULL, userdata);
}

static int get_begin(struct op *op) {
        _cleanup_free_ char *path = NULL, *full = NULL;
        int r;

        r = cluster_connector_path(op->id, &path);
        if (r < 0)
                return r;
        /* Before 9.0 nothing is soft-deleted, and the parameter is unknown (a 400). */
        if (op->include_deleted && cluster_version_at_least(&op->cluster->info, 9, 0)) {
                full = strdup_printf("%s?include_deleted=true", path);
                if (!full)
                        return -ENOMEM;
        }
        return cluster_call_start(op->cluster, op, "GET", full ?: path, NULL, get_done, NULL);
}

/* ---- PUT /_connector/<id>[/<endpoint>] ---- */

static void put_done(struct call *call, struct http_response *resp) {
        _cleanup_free_ char *result = NULL, *msg = NULL;
        struct op *op = call->op;
        struct cluster *c = op->cluster;
        union op_callback cb;
        void *userdata;
        int r;

        if (!cluster_call_ok(call, resp))
                return;
        r = cluster_decode_put_result(resp->body, resp->body_size, &result, &msg);
        if (r < 0)
                return cluster_call_fail_body(call, resp, r, msg);
        cluster_call_free(call);

        cb = op->callback;
        userdata = op->userdata;
        cluster_op_free(op);
        cb.put(c, 0, result, NULL, userdata);
}

static int put_begin(struct op *op) {
        _cleanup_free_ char *path = NULL, *full = NULL;
        int r;

        r = cluster_connector_path(op->id, &path);
        if (r < 0)
                return r;
        if (op->put_endpoint) {
                full = strdup_printf("%s/%s", path, op->put_endpoint);
                if (!full)
                        return -ENOMEM;
        }
        return cluster_call_start_body(op->cluster, op, "PUT", full ?: path, op->put_body, op->put_size,
                                       put_done, NULL);
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
                return cluster_sync_jobs_begin(op);
        case OP_DELETE:
                return cluster_delete_begin(op);
        case OP_PUT:
                return put_begin(op);
        case OP_INFO:
                break;
        }
        assert(false);
        return -EINVAL;
}

/* Creates an op. On failure nothing is left behind. */
static int op_new(struct cluster *c, enum op_kind kind, const char *id, union op_callback callback,
                  void *userdata, struct op **ret) {
        _cleanup_(cluster_op_freep) struct op *op = NULL;

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
        _cleanup_(cluster_op_freep) struct op *op = op_in;
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

int cluster_list(struct cluster *c, bool include_deleted,
                 void (*callback)(struct cluster *c, int error, struct cluster_listing *listing,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata) {
        _cleanup_(cluster_op_freep) struct op *op = NULL;
        int r;

        assert(callback);
        r = op_new(c, OP_LIST, NULL, (union op_callback){ .list = callback }, userdata, &op);
        if (r < 0)
                return r;
        op->include_deleted = include_deleted;
        return op_submit(TAKE_PTR(op));
}

int cluster_get(struct cluster *c, const char *id,
                void (*callback)(struct cluster *c, int error, struct cluster_document *document,
                                 const struct cluster_error *err, void *userdata),
                void *userdata) {
        assert(id);
        assert(callback);
        return op_new_submit(c, OP_GET, id, (union op_callback){ .get = callback }, userdata);
}

int cluster_get_including_deleted(struct cluster *c, const char *id,
                                  void (*callback)(struct cluster *c, int error,
                                                   struct cluster_document *document,
                                                   const struct cluster_error *err, void *userdata),
                                  void *userdata) {
        _cleanup_(cluster_op_freep) struct op *op = NULL;
        int r;

        assert(id);
        assert(callback);

        r = op_new(c, OP_GET, id, (union op_callback){ .get = callback }, userdata, &op);
        if (r < 0)
                return r;
        op->include_deleted = true;
        return op_submit(TAKE_PTR(op));
}

int cluster_put(struct cluster *c, const char *id, const char *endpoint, const char *body, size_t size,
                void (*callback)(struct cluster *c, int error, const char *result,
                                 const struct cluster_error *err, void *userdata),
                void *userdata) {
        _cleanup_(cluster_op_freep) struct op *op = NULL;
        int r;

        assert(id);
        assert(body);
        assert(callback);

        if (endpoint && (endpoint[0] != '_' || strchr(endpoint, '?')))
                return -EINVAL;
        r = op_new(c, OP_PUT, id, (union op_callback){ .put = callback }, userdata, &op);
        if (r < 0)
                return r;
        op->put_body = memdup(body, size);
        op->put_size = size;
        op->put_endpoint = endpoint ? strdup(endpoint) : NULL;
        if (!op->put_body || (endpoint && !op->put_endpoint))
                return -ENOMEM;
        return op_submit(TAKE_PTR(op));
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
        _cleanup_(cluster_op_freep) struct op *op = NULL;
        int r;

        assert(id);
        assert(o);
        assert(callback);

        r = op_new(c, OP_DELETE, id, (union op_callback){ .delete = callback }, userdata, &op);
        if (r < 0)
                return r;
        r = cluster_delete_prepare(op, o);
        if (r < 0)
                return r;
        return op_submit(TAKE_PTR(op));
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
                        cluster_op_fail_message(
                                relist, -ECANCELED, "GET /_connector",
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
        for (size_t i = 0; i < n; i++)
                c->body_headers[i] = c->headers[i];
        c->body_headers[n++] = "Content-Type: application/json";
        c->body_headers[n] = NULL;

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
                cluster_op_free(c->ops_head);
        while (c->waiting_head)
                cluster_op_free(c->waiting_head);
        cluster_call_free(c->info_call);
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

sd_event *cluster_get_event(const struct cluster *c) {
        return c->event;
}

const char *cluster_get_url(const struct cluster *c) {
        assert(c);
        return c->base_url;
}

const struct cluster_http_counts *cluster_get_http_counts(const struct cluster *c) {
        assert(c);
        return &c->http_counts;
}

const struct cluster_info *cluster_get_info(const struct cluster *c) {
        assert(c);
        return c->have_info ? &c->info : NULL;
}
