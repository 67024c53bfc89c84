#pragma once

/* Private to the connector API client (cluster*.c): what the engine in cluster.c (operations made
 * of calls, their retries, how they end) shares with cluster-delete.c (a connector's DELETE and its
 * sync jobs). Callers outside use cluster.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "backoff.h"
#include "cluster.h"
#include "http.h"
#include "util.h"

/* ---- The client: operations made of calls (one logical HTTP request each, with its retries) ---- */

enum op_kind {
        OP_INFO,
        OP_IDENTIFY,
        OP_LIST,
        OP_GET,
        OP_SYNC_JOBS,
        OP_DELETE,
        OP_PUT,
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
        void (*put)(struct cluster *c, int error, const char *result, const struct cluster_error *err,
                    void *userdata);
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

        /* OP_GET, OP_LIST: with include_deleted=true (9.0+): soft-deleted connectors are found too. */
        bool include_deleted;

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

        /* OP_PUT: the endpoint after the connector's path (or NULL) and the JSON body. */
        char *put_endpoint;
        char *put_body;
        size_t put_size;

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
        char *body; /* what a PUT sends (owned by the op), or NULL */
        size_t body_size;
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
        const char *body_headers[4]; /* headers, and the Content-Type of a body */
        char *expected_uuid;         /* cluster.cluster_uuid, or NULL */

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

        struct cluster_http_counts http_counts; /* every answer that reached on_http_done() */
};

/* ---- The engine (cluster.c). Every path that ends an op ends with the user's callback, after
 * which nothing touches the op or the cluster (the callback may free either). ---- */

/* Frees a call: its request is cancelled, its retry timer too, and its op no longer holds it.
 * Accepts NULL. */
void cluster_call_free(struct call *call);

/* Frees an op and every call it owns, and takes it out of the cluster's lists. No callback runs.
 * Accepts NULL. */
void cluster_op_free(struct op *op);
DEFINE_CLEANUP_FUNC(struct op *, cluster_op_free);

/* Creates a call for 'op' (NULL: the cluster's GET /) and sends it. 'hidden_query' (or NULL) goes
 * on the URL after 'path''s query but not into the request's description in messages. *ret
 * (optional) borrows the call, which 'op' owns. Returns 0 or a negative errno (nothing sent,
 * nothing left behind). */
int cluster_call_start(struct cluster *c, struct op *op, const char *method, const char *path,
                       const char *hidden_query, void (*done)(struct call *call, struct http_response *resp),
                       struct call **ret);

/* As cluster_call_start(), for a request with a JSON body: 'body' (body_size bytes, owned by 'op',
 * which outlives the call) is sent with each attempt. */
int cluster_call_start_body(struct cluster *c, struct op *op, const char *method, const char *path,
                            char *body, size_t body_size,
                            void (*done)(struct call *call, struct http_response *resp), struct call **ret);

/* Sends 'call' again, now; when that cannot start, its 'done' runs at once with a failed transfer. */
void cluster_call_resend(struct call *call);

/* Whether an answer is Elasticsearch's 404: the connector (or job) is not there. */
bool cluster_response_is_gone(const struct http_response *resp);

/* Checks that an answer is a 2xx from Elasticsearch: returns 0, or fills *ret and returns the
 * errno of what it is instead. */
int cluster_response_check(const struct call *call, const struct http_response *resp,
                           struct cluster_error *ret);

/* Fills *ret for a response whose body we could not use: 'error' as the decoder returned it, with
 * 'why' (NULL: "cannot decode"), or -ENOMEM. Returns the errno. */
int cluster_body_error(const struct call *call, const struct http_response *resp, int error, const char *why,
                       struct cluster_error *ret);

/* Fails 'op' with a message of our own (no HTTP status): 'request' (or NULL) and 'message' (NULL:
 * "Out of memory") are copied. */
void cluster_op_fail_message(struct op *op, int error, const char *request, const char *message);

/* Fails the op of 'call' (and frees the call) with a body the decoder refused (r, why). */
void cluster_call_fail_body(struct call *call, const struct http_response *resp, int r, const char *why);

/* Whether the answer is a 2xx from Elasticsearch; when it is not, the call is freed and its op
 * fails with what the answer was instead: a transfer error, an error status, or an answer that is
 * not Elasticsearch's. */
bool cluster_call_ok(struct call *call, const struct http_response *resp);

/* The path of connector 'id' (escaped), "/_connector/<id>", in *ret (owned by the caller).
 * Returns 0 or -ENOMEM. */
int cluster_connector_path(const char *id, char **ret);

/* ---- The operations of cluster-delete.c, which the engine starts ---- */

/* Starts an OP_SYNC_JOBS op, once the server's version is known: sends the GET of its first page.
 * Returns 0 or a negative errno (nothing sent). */
int cluster_sync_jobs_begin(struct op *op);

/* Copies into an OP_DELETE op what it keeps of 'o'. Returns 0 or -ENOMEM (what was copied is left
 * for cluster_op_free()). */
int cluster_delete_prepare(struct op *op, const struct cluster_delete_options *o);

/* Starts an OP_DELETE op, once the server's version is known: sends the connector's DELETE with
 * the parameters that version takes. Returns 0 or a negative errno (nothing sent). */
int cluster_delete_begin(struct op *op);

/* The connector's DELETE ('del', its op's delete_call) is due to be sent again: first a GET, and
 * the DELETE goes only to the connector exactly as it was backed up. When the GET cannot start,
 * the op fails. */
void cluster_delete_verify(struct call *del);
