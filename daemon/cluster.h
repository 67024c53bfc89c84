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
#include "plan.h"
#include "util.h"

#define CLUSTER_PAGE_SIZE_DEFAULT 100u /* the list API's own default size */
#define CLUSTER_PAGE_SIZE_MAX 10000u   /* from + size may never pass the result window */
/* index.max_result_window's default: from + size may not pass it. */
#define CLUSTER_MAX_RESULT_WINDOW_DEFAULT 10000u
/* The list API's 'count' is a search's total hits, which Elasticsearch counts exactly only up to
 * this many (track_total_hits defaults to 10,000): a count of this much means "at least". */
#define CLUSTER_TOTAL_HITS_EXACT_MAX 10000u
/* What each list page asks for (Elasticsearch's response filtering): the count and the five
 * fields the plan reads of each connector, some 150 bytes a connector instead of some 7 KiB. */
#define CLUSTER_LIST_FILTER_PATH \
        "filter_path=count,results.id,results.name,results.service_type,results.index_name,results.deleted"
#define CLUSTER_CONNECT_TIMEOUT_USEC_DEFAULT (5 * USEC_PER_SEC)
#define CLUSTER_REQUEST_TIMEOUT_USEC_DEFAULT (30 * USEC_PER_SEC)
#define CLUSTER_MAX_IN_FLIGHT_DEFAULT 2u
#define CLUSTER_RETRY_MAX_ATTEMPTS_DEFAULT 5u
#define CLUSTER_RETRY_INITIAL_DELAY_USEC_DEFAULT (500 * USEC_PER_MSEC)
#define CLUSTER_RETRY_MAX_DELAY_USEC_DEFAULT (30 * USEC_PER_SEC)

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
        const char *url;      /* http(s)://host[:port][/prefix]; or NULL and cloud_id */
        const char *cloud_id; /* Elastic Cloud id, "name:base64(host$es_uuid$kibana_uuid)" */
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
        size_t max_body_bytes; /* a larger response body fails with -EFBIG */
};

/* Fills *o with the defaults above (verify_tls true, no auth, no url). */
void cluster_options_init(struct cluster_options *o);

/* Why a request failed. Strings are owned by the struct. */
struct cluster_error {
        int status;    /* HTTP status, 0 when no response arrived */
        char *type;    /* Elasticsearch's error type, e.g. "security_exception", or NULL */
        char *message; /* for a person, e.g. "401 security_exception: unable to authenticate ..." */
        char *request; /* "METHOD /path?query" (no host, no secret, no filter_path), or NULL */
};

void cluster_error_done(struct cluster_error *e);

/* What GET / says. Strings are owned by the struct and may be NULL except 'version'. */
struct cluster_info {
        char *version; /* "9.1.3" */
        unsigned major, minor, patch;
        char *build_flavor; /* "default", "serverless", ... */
        char *name;
        char *cluster_name;
        char *cluster_uuid;
};

void cluster_info_done(struct cluster_info *i);

/* Every connector the cluster listed, sorted by id (bytewise), each id once. 'complete' is false
 * when the pages disagreed (a count that changed, a short page, fewer distinct ids than the
 * count); 'incomplete_reason' then says what.
 * A listing that shifts while we page can only hide connectors from us, never invent one, so
 * what is in 'connectors' did exist: the caller decides what an incomplete listing may do. */
struct cluster_listing {
        struct plan_connector *connectors;
        size_t n_connectors;
        uint64_t count; /* the last page's 'count' */
        bool complete;
        char *incomplete_reason; /* NULL when complete */
};

struct cluster_listing *cluster_listing_free(struct cluster_listing *l);
DEFINE_CLEANUP_FUNC(struct cluster_listing *, cluster_listing_free);

/* One connector document: the body exactly as the cluster sent it (for the backup written before
 * a delete) and what we decoded from it. */
struct cluster_document {
        char *body; /* NUL-terminated; body_size excludes the NUL */
        size_t body_size;
        struct plan_connector connector;
};

struct cluster_document *cluster_document_free(struct cluster_document *d);
DEFINE_CLEANUP_FUNC(struct cluster_document *, cluster_document_free);

enum cluster_delete_result {
        CLUSTER_DELETED,
        CLUSTER_ALREADY_GONE, /* 404: nothing to delete; not a failure (error is 0) */
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

/* Creates a client on 'event' (referenced). Checks the options: a url or a cloud_id (not both),
 * http or https only, no credentials or query in the url, secrets without control characters.
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

/* What GET / said, once it succeeded; NULL before. Borrowed. */
const struct cluster_info *cluster_get_info(const struct cluster *c);

/* GET /: checks the server is Elasticsearch (X-elastic-product) of version 8.12 or later and
 * records its version. Every other operation does this first by itself when it has not been done
 * yet (no further request goes to a server that fails it). 'info' is borrowed for the callback. */
int cluster_info(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, const struct cluster_info *info,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata);

/* Lists every connector: GET /_connector?from=N&size=S&<CLUSTER_LIST_FILTER_PATH> page after page
 * (include_deleted is never sent, so 9.x hides soft-deleted connectors; filter_path is left out of
 * the request in messages, which say which page). Fails with -EOVERFLOW when the cluster holds more
 * connectors than the result window lets us see, or at least as many as it (a count at the
 * exact-count limit), after the first page. On success 'listing' is owned by the callback (free
 * it with cluster_listing_free()). */
int cluster_list(struct cluster *c,
                 void (*callback)(struct cluster *c, int error, struct cluster_listing *listing,
                                  const struct cluster_error *err, void *userdata),
                 void *userdata);

/* GET /_connector/<id>. -ENOENT when the cluster has no such connector. On success 'document'
 * is owned by the callback (free it with cluster_document_free()). 'id' is copied. */
int cluster_get(struct cluster *c, const char *id,
                void (*callback)(struct cluster *c, int error, struct cluster_document *document,
                                 const struct cluster_error *err, void *userdata),
                void *userdata);

/* Deletes connector 'id' (copied). delete_sync_jobs: 8.14+ gets delete_sync_jobs=true; on
 * 8.12-8.13, which have no such parameter, the connector's sync jobs are listed (all pages of
 * GET /_connector/_sync_job?connector_id=<id>) and each deleted before the connector. hard: 9.0+
 * gets hard=true (earlier versions always delete for good). A parameter is never sent as false.
 * The result: CLUSTER_DELETED, CLUSTER_ALREADY_GONE (404, error 0) or CLUSTER_DELETE_FAILED
 * (error < 0, err set). */
int cluster_delete(struct cluster *c, const char *id, bool delete_sync_jobs, bool hard,
                   void (*callback)(struct cluster *c, int error, enum cluster_delete_result result,
                                    const struct cluster_error *err, void *userdata),
                   void *userdata);

/* ---- Pure helpers (no I/O): request building and response decoding, exposed for the unit tests
 * and the fuzzer. On failure they return a negative errno and, where they take one, set
 * *reterr_message (owned by the caller) to a sentence saying what is wrong. ---- */

/* Percent-encodes 's' as one URL path segment or query value: every byte but the unreserved
 * characters (A-Z a-z 0-9 - . _ ~) becomes %XX; a segment made only of dots ("." or "..") is
 * encoded whole so that nothing on the way treats it as a dot segment. Returns a new string or
 * NULL on OOM. */
char *cluster_escape_segment(const char *s);

/* Checks a base URL and returns it without trailing slashes (new string in *ret). */
int cluster_url_normalize(const char *url, char **ret, char **reterr_message);

/* Decodes an Elastic Cloud id, "name:base64(host[:port]$es_uuid[:port]$kibana_uuid)", into
 * "https://es_uuid.host:port" (port 443 unless one is given). */
int cluster_cloud_id_to_url(const char *cloud_id, char **ret_url, char **reterr_message);

/* Parses "X.Y.Z" (a suffix such as "-SNAPSHOT" is allowed; Z may be missing). */
int cluster_parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor, unsigned *ret_patch);

/* Decodes GET / (version.number required). */
int cluster_decode_info(const char *body, size_t size, struct cluster_info *ret, char **reterr_message);

/* Refuses a server older than 8.12 ("Elasticsearch 8.11.1 is too old: the connector API needs
 * 8.12 or later"): -EOPNOTSUPP. A serverless project (build_flavor "serverless", which reports a
 * fixed 8.11.0) is accepted as the newest API generation. */
int cluster_check_version(const struct cluster_info *info, char **reterr_message);

/* The path and query of DELETE /_connector/<id> for that server: delete_sync_jobs=true only from
 * 8.14, hard=true only from 9.0. *ret_sync_jobs_by_client is true when delete_sync_jobs was asked
 * of a server that has no such parameter (8.12-8.13): the client must delete them itself. */
int cluster_delete_path(const struct cluster_info *info, const char *id, bool delete_sync_jobs, bool hard,
                        char **ret_path, bool *ret_sync_jobs_by_client);

/* Maps an HTTP status to a negative errno (0 for 2xx): 400 -EINVAL, 401 -EACCES, 403 -EPERM,
 * 404 -ENOENT, 405 -EOPNOTSUPP, 408 -ETIMEDOUT, 409 -EBUSY, 413 -E2BIG, 429 -EBUSY, 503 -EAGAIN,
 * 504 -ETIMEDOUT, 3xx -EREMCHG, other 4xx -EPROTO, other 5xx -EREMOTEIO. */
int cluster_status_to_errno(int status);

/* Turns an error response into words: Elasticsearch's envelope {"error": {"type", "reason",
 * "root_cause": [...]}, "status"} gives "401 security_exception: unable to ..."; the short form
 * {"error": "text", "status": 405} gives "405 text"; anything else gives the status and the
 * body's first line (cut, control characters escaped), or the status's reason phrase when the
 * body is empty. *ret_type is the error type or NULL. Returns 0 or -ENOMEM. */
int cluster_decode_error(int status, const char *body, size_t size, char **ret_type, char **ret_message);

/* One page of GET /_connector. */
struct cluster_page {
        uint64_t count;
        struct plan_connector *connectors;
        size_t n_connectors;
};

void cluster_page_done(struct cluster_page *p);

/* Decodes a list page, whole or filtered by CLUSTER_LIST_FILTER_PATH: an object with a
 * non-negative integer 'count' and an array 'results' of connector objects (a missing 'results' is
 * an empty page: filtering leaves an empty array out), each with a string 'id'; name, service_type
 * and index_name are strings or null or missing; deleted is a boolean or null or missing. The
 * whole body must be JSON as json-scan.h says (no NUL, no \u0000, valid UTF-8, nesting at most
 * JSON_SCAN_DEPTH_MAX deep). 'count' or 'results', or one of a connector's five members, given
 * twice in its object is refused. Anything else is -EBADMSG. No JSON tree is built: only the
 * strings kept are allocated. */
int cluster_decode_list_page(const char *body, size_t size, struct cluster_page *ret, char **reterr_message);

/* Decodes one connector document (GET /_connector/<id>), with the rules of
 * cluster_decode_list_page() for one connector; its 'id' must be 'expected_id' when it has one, and
 * is set to it when it has none. */
int cluster_decode_connector(const char *body, size_t size, const char *expected_id,
                             struct plan_connector *ret, char **reterr_message);

/* Decodes a page of GET /_connector/_sync_job: *ret_ids (NULL-terminated, owned by the caller)
 * gets the 'id' of each result. */
int cluster_decode_sync_job_page(const char *body, size_t size, uint64_t *ret_count, char ***ret_ids,
                                 size_t *ret_n_ids, char **reterr_message);

/* The paging logic of cluster_list(), pure: which page to ask for next, and what the pages
 * together say. */
struct cluster_lister;

int cluster_lister_new(struct cluster_lister **ret, unsigned page_size, uint64_t max_result_window);
struct cluster_lister *cluster_lister_free(struct cluster_lister *l);
DEFINE_CLEANUP_FUNC(struct cluster_lister *, cluster_lister_free);

/* The next page: returns 1 with *ret_from and *ret_size, 0 when every page has been read, or
 * -EOVERFLOW with *reterr_message when the count passes the result window ("The cluster holds
 * 12034 connectors; the list API shows at most 10000 (index.max_result_window), so the listing is
 * incomplete"), or is a lower bound (CLUSTER_TOTAL_HITS_EXACT_MAX) the window cannot pass ("The
 * cluster holds at least 10000 connectors ..."). With a window above that limit, pages go on
 * after the count until a short page; full pages up to the window are the same error. */
int cluster_lister_next(struct cluster_lister *l, uint64_t *ret_from, unsigned *ret_size,
                        char **reterr_message);

/* Feeds the page asked for by the last cluster_lister_next(); takes its connectors (the page is
 * left empty). Returns 0 or -ENOMEM. */
int cluster_lister_add(struct cluster_lister *l, struct cluster_page *page);

/* Builds the listing (owned by the caller) from every page fed so far. */
int cluster_lister_finish(struct cluster_lister *l, struct cluster_listing **ret);
