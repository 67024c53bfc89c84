#pragma once

/* The Elasticsearch connector API client, on top of http.c: learns the server's version (GET /),
 * lists every connector (all pages of GET /_connector), gets one (GET /_connector/<id>) and deletes
 * one (DELETE /_connector/<id>, with only the parameters that version accepts). Asynchronous: each
 * call returns at once and its callback runs later from the sd-event loop. Transient failures are
 * retried per request with backoff.c's delays on loop timers; a hook reports each retry. cJSON
 * stays inside cluster.c; HTTP statuses become errnos here and nowhere else.
 *
 * Callbacks: every one gets 'error' (0 or a negative errno) and, when error < 0, a cluster_error
 * that says what happened in words a person can act on. A callback may start new requests, call
 * cluster_cancel() or free the cluster. Cancelling (cluster_cancel(), cluster_free()) aborts
 * everything in flight and every pending retry timer and calls NO further callbacks. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "backoff.h"
#include "cluster-decode.h"
#include "cluster-lister.h"
#include "cluster-request.h"
#include "plan.h"
#include "util.h"

/* index.max_result_window's default: from + size may not pass it. */
#define CLUSTER_MAX_RESULT_WINDOW_DEFAULT 10000u
/* What each list page asks for (Elasticsearch's response filtering): the count and the five
 * fields the plan reads of each connector, some 150 bytes a connector instead of some 7 KiB. */
#define CLUSTER_LIST_FILTER_PATH \
        "filter_path=count,results.id,results.name,results.service_type,results.index_name,results.deleted"
/* How many times a listing is taken before one whose pages disagree fails the cycle. */
#define CLUSTER_LIST_ATTEMPTS_MAX 3u
/* The options' defaults; the config file's keys default to them too (config.c). */
#define CLUSTER_CONNECT_TIMEOUT_USEC_DEFAULT     (5 * USEC_PER_SEC)
#define CLUSTER_REQUEST_TIMEOUT_USEC_DEFAULT     (30 * USEC_PER_SEC)
#define CLUSTER_MAX_IN_FLIGHT_DEFAULT            2u
#define CLUSTER_RETRY_MAX_ATTEMPTS_DEFAULT       5u
#define CLUSTER_RETRY_INITIAL_DELAY_USEC_DEFAULT (500 * USEC_PER_MSEC)
#define CLUSTER_RETRY_MAX_DELAY_USEC_DEFAULT     (30 * USEC_PER_SEC)

struct cluster;

enum cluster_auth {
        CLUSTER_AUTH_NONE,
        CLUSTER_AUTH_API_KEY, /* "Authorization: ApiKey <api_key>" (the encoded key) */
        CLUSTER_AUTH_BASIC,   /* username + password */
        CLUSTER_AUTH_BEARER,  /* "Authorization: Bearer <bearer_token>" */
        _CLUSTER_AUTH_MAX,
};

/* All strings are borrowed for the duration of cluster_new(), which copies what it keeps. The
 * secrets (api_key, password, bearer_token) are kept in buffers wiped when the cluster is freed,
 * and never appear in a message. */
struct cluster_options {
        const char *url; /* http(s)://host[:port][/prefix], see url_normalize() */
        enum cluster_auth auth;
        const char *api_key;
        const char *username;
        const char *password;
        const char *bearer_token;
        const char *ca_file;
        const char *client_cert_file;
        const char *client_key_file;
        bool verify_tls;
        usec_t connect_timeout_usec;
        usec_t request_timeout_usec;
        unsigned max_in_flight;     /* requests on the wire at once; more wait in a queue */
        unsigned page_size;         /* connectors per list page */
        uint64_t max_result_window; /* the connector index's index.max_result_window */
        struct backoff_policy retry;
        size_t max_body_bytes;     /* a larger response body fails with -EFBIG */
        const char *expected_uuid; /* GET / must report this cluster_uuid (cluster.cluster_uuid), or NULL */
        const char *proxy;         /* NULL: no proxy at all, whatever the environment says */
};

/* Fills *o with the defaults above (verify_tls true, no auth, no url). */
void cluster_options_init(struct cluster_options *o);

enum cluster_delete_result {
        CLUSTER_DELETED,        /* acknowledged (and its sync jobs deleted, where we delete them) */
        CLUSTER_DELETED_PARTLY, /* the connector is gone, some of its sync jobs are not (error < 0) */
        CLUSTER_ALREADY_GONE,   /* 404: nothing to delete; not a failure (error is 0) */
        CLUSTER_CHANGED,        /* not deleted: it changed since its backup (error 0, err says how) */
        CLUSTER_DELETE_FAILED,
        _CLUSTER_DELETE_RESULT_MAX,
};

const char *cluster_delete_result_to_string(enum cluster_delete_result r);

/* One retry about to be scheduled, for the caller's log. Strings are borrowed for the call. */
struct cluster_retry {
        const char *request;      /* "METHOD /path?query" (no filter_path) */
        const char *connector_id; /* the connector the operation is about, or NULL */
        unsigned attempt;         /* the attempt that just failed, 1-based */
        unsigned max_attempts;
        int error;           /* negative errno of the failure */
        int status;          /* HTTP status, 0 when no response arrived */
        const char *message; /* why it failed */
        usec_t delay_usec;   /* wait before the next attempt */
};

/* Creates a client on 'event' (referenced). Checks the options: a url as url_normalize() accepts
 * a URL_CLUSTER (an Elastic Cloud id is turned into one by url_from_cloud_id() first), secrets
 * without control characters.
 * Returns 0 and *ret (owned by the caller), or a negative errno (-EINVAL with *reterr_message set,
 * owned by the caller, for bad options; -ENOMEM). Sends nothing yet. */
int cluster_new(struct cluster **ret, sd_event *event, const struct cluster_options *o,
                char **reterr_message);

/* Cancels everything (no callback runs), wipes the secrets and frees the client. Safe from
 * inside a callback. Accepts NULL; returns NULL. */
struct cluster *cluster_free(struct cluster *c);
DEFINE_CLEANUP_FUNC(struct cluster *, cluster_free);

/* Aborts every operation in flight and every pending retry; no callback runs for them. The client
 * stays usable. */
void cluster_cancel(struct cluster *c);

/* Installs a function called before each retry is scheduled (NULL removes it). */
void cluster_set_retry_hook(struct cluster *c,
                            void (*hook)(struct cluster *c, const struct cluster_retry *r, void *userdata),
                            void *userdata);

/* The base URL requests go to (no trailing slash); borrowed. */
const char *cluster_get_url(const struct cluster *c);

/* The loop the client runs on; borrowed. */
sd_event *cluster_get_event(const struct cluster *c);

/* What GET / said, once it succeeded; NULL before. Borrowed. */
const struct cluster_info *cluster_get_info(const struct cluster *c);

/* The answers to the client's HTTP requests, by the class of their status, each attempt of a
 * retried request counted: for the metrics. */
enum cluster_code_class {
        CLUSTER_CODE_2XX,
        CLUSTER_CODE_4XX,
        CLUSTER_CODE_5XX,
        CLUSTER_CODE_ERROR, /* no answer (a transfer error, a timeout), or a status of another class */
        _CLUSTER_CODE_CLASS_MAX,
};

struct cluster_http_counts {
        uint64_t responses[_CLUSTER_CODE_CLASS_MAX];
};

/* What the client counted since cluster_new(); borrowed. */
const struct cluster_http_counts *cluster_get_http_counts(const struct cluster *c);

/* GET /: checks the server is Elasticsearch (X-elastic-product) of version 8.12 or later, and the
 * cluster the options' expected_uuid names when set (-ESTALE otherwise), and records its version.
 * Every other operation does this first by itself when it has not been done yet (no further
 * request goes to a server that fails it). 'info' is borrowed for the callback. */
int cluster_info(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata);

/* GET / again, now: the cluster must still be the one that answered the first GET / (the same
 * cluster_uuid), else -ESTALE (a load balancer or a DNS name that moved to another cluster). As
 * cluster_info() when no GET / was done yet. */
int cluster_identify(struct cluster *c,
                     void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                      const struct cluster_error *err, void *userdata),
                     void *userdata);

/* Lists every connector: GET /_connector?from=N&size=S&<CLUSTER_LIST_FILTER_PATH> page after page
 * (on 9.0 and later with include_deleted=true when 'include_deleted', else 9.x hides soft-deleted
 * connectors; filter_path is left out of the request in messages, which say which page). A listing is used only when it is consistent:
 * every page reported the same count and the pages together hold exactly that many distinct
 * connectors. One that is not is taken again after a retry delay (the retry hook is told), up to
 * CLUSTER_LIST_ATTEMPTS_MAX listings; then it fails with -EAGAIN. Fails with -EOVERFLOW when the
 * cluster holds more connectors than the result window lets us see, or at least as many as it (a
 * count at the exact-count limit), after the first page. On success 'listing' (complete) is owned
 * by the callback (free it with cluster_listing_free()). */
int cluster_list(struct cluster *c, bool include_deleted,
                 void (*callback)(struct cluster *c, int error, struct cluster_listing *listing,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata);

/* GET /_connector/<id>: the connector's document, checked to be that connector's (see
 * cluster_decode_connector()) and sent by Elasticsearch. -ENOENT when Elasticsearch says it has no
 * such connector. On success 'document' is owned by the callback (free it with
 * cluster_document_free()). 'id' is copied. */
int cluster_get(struct cluster *c, const char *id,
                void (*callback)(struct cluster *c, int error, struct cluster_document *document,
                                 const struct cluster_error *err, void *userdata),
                void *userdata);

/* As cluster_get(), with include_deleted=true on 9.0 and later, where a soft-deleted connector
 * (document.connector.deleted true) is found too; before 9.0 the same as cluster_get(). */
int cluster_get_including_deleted(struct cluster *c, const char *id,
                                  void (*callback)(struct cluster *c, int error,
                                                   struct cluster_document *document,
                                                   const struct cluster_error *err, void *userdata),
                                  void *userdata);

/* A connector's sync jobs, as cluster_list_sync_jobs() read them. */
struct cluster_sync_jobs {
        char **ids; /* NULL-terminated: the jobs whose connector.id is the connector, each once */
        size_t n_ids;
        char *json; /* those jobs' documents as the cluster sent them, in one JSON array */
        size_t json_size;
        size_t n_foreign; /* jobs listed that belong to other connectors: left out */
};

struct cluster_sync_jobs *cluster_sync_jobs_free(struct cluster_sync_jobs *j);
DEFINE_CLEANUP_FUNC(struct cluster_sync_jobs *, cluster_sync_jobs_free);

/* Every page of GET /_connector/_sync_job?connector_id=<id>. -EOVERFLOW when there are more than
 * the result window shows. On success 'jobs' is owned by the callback. 'id' is copied. */
int cluster_list_sync_jobs(struct cluster *c, const char *id,
                           void (*callback)(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                                            const struct cluster_error *err, void *userdata),
                           void *userdata);

struct cluster_delete_options {
        bool delete_sync_jobs; /* 8.14+: delete_sync_jobs=true; 8.12-8.13: sync_job_ids after it */
        bool hard;             /* 9.0+: hard=true (earlier versions always delete for good) */
        /* The document as it was backed up (borrowed for the call, copied). A DELETE whose answer
         * did not come is sent again only after a GET finds the connector exactly so: else the
         * result is CLUSTER_CHANGED (or CLUSTER_ALREADY_GONE). NULL: sent again blindly. */
        const char *expected_body;
        size_t expected_size;
        /* 8.12-8.13 with delete_sync_jobs: the jobs backed up with the connector, deleted once the
         * connector is (never before: a failed DELETE leaves them). Ignored elsewhere. Copied. */
        const char *const *sync_job_ids;
        size_t n_sync_job_ids;
};

/* Deletes connector 'id' (copied), sending only the parameters the server's version accepts (never
 * one as false). The 2xx must be Elasticsearch's {"acknowledged": true}, else the delete failed.
 * The result: CLUSTER_DELETED, CLUSTER_DELETED_PARTLY (error < 0, err says which jobs failed),
 * CLUSTER_ALREADY_GONE (404, error 0), CLUSTER_CHANGED (error 0, err says why) or
 * CLUSTER_DELETE_FAILED (error < 0, err set). */
int cluster_delete(struct cluster *c, const char *id, const struct cluster_delete_options *o,
                   void (*callback)(struct cluster *c, int error, enum cluster_delete_result result,
                                    const struct cluster_error *err, void *userdata),
                   void *userdata);

/* PUT /_connector/<id> (endpoint NULL: the create, which overwrites a connector that exists) or
 * PUT /_connector/<id>/<endpoint> (an update endpoint: "_name", "_configuration", ...; -EINVAL for
 * anything that does not start with '_'), with the JSON 'body' (size bytes; copied, and wiped when
 * done: a configuration may hold secrets). The answer must be a 2xx from Elasticsearch with a JSON
 * object whose "result" is a string: the callback gets it ("created", "updated", ...; borrowed for
 * the call). Transient failures are retried, as for every request: both the create and the updates
 * set what they carry, so sending one twice ends the same. */
int cluster_put(struct cluster *c, const char *id, const char *endpoint, const char *body, size_t size,
                void (*callback)(struct cluster *c, int error, const char *result,
                                 const struct cluster_error *err, void *userdata),
                void *userdata);

/* From now on no request is retried, and none is sent again: every call waiting for its retry ends
 * now (its operation fails with -ECANCELED, its callback runs), and so does a listing waiting to
 * be taken again. Requests on the wire finish or time out. For a cycle past its deadline, or
 * stopping. */
void cluster_stop_retrying(struct cluster *c);
