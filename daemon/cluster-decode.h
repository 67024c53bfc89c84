#pragma once

/* What the cluster says, decoded: error bodies, GET /, list pages, connector documents and
 * sync-job pages. Pure (no I/O, no libcurl, no libsystemd), so that the unit tests and the fuzzers
 * link it alone. On failure the decoders return a negative errno and, where they take one, set
 * *reterr_message (owned by the caller) to a sentence saying what is wrong. cJSON stays inside. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "escape.h"
#include "plan.h"
#include "util.h"

/* How much of a server's text a message quotes. */
#define CLUSTER_ERROR_TEXT_MAX 1024

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

/* One connector document: the body exactly as the cluster sent it (for the backup written before
 * a delete) and what we decoded from it. */
struct cluster_document {
        char *body; /* NUL-terminated; body_size excludes the NUL */
        size_t body_size;
        struct plan_connector connector;
};

struct cluster_document *cluster_document_free(struct cluster_document *d);
DEFINE_CLEANUP_FUNC(struct cluster_document *, cluster_document_free);

/* Parses "X.Y.Z" (a suffix such as "-SNAPSHOT" is allowed; Z may be missing). */
int cluster_parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor, unsigned *ret_patch);

/* Decodes GET / (version.number required). */
int cluster_decode_info(const char *body, size_t size, struct cluster_info *ret, char **reterr_message);

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
 * cluster_decode_list_page() for one connector, and checks that it is that connector's document:
 * an 'id' equal to 'expected_id', no top-level 'error', and the members Elasticsearch writes into
 * every connector it stores ('is_native', 'status', 'sync_now', whatever their values). Anything
 * else is -EBADMSG: such a body must never become a backup. */
int cluster_decode_connector(const char *body, size_t size, const char *expected_id,
                             struct plan_connector *ret, char **reterr_message);

/* One sync job of a page of GET /_connector/_sync_job. */
struct cluster_sync_job {
        char *id;
        char *connector_id; /* its 'connector.id', or NULL when the job has none */
        size_t offset;      /* where its object is in the page's body, for the connector's backup */
        size_t size;
};

struct cluster_sync_job_page {
        uint64_t count;
        struct cluster_sync_job *jobs;
        size_t n_jobs;
};

void cluster_sync_job_page_done(struct cluster_sync_job_page *p);

/* Decodes a page of GET /_connector/_sync_job, with the body rules of cluster_decode_list_page():
 * an object with 'count' and an array 'results' of objects, each with a non-empty string 'id' and
 * a 'connector' object (or null) whose 'id' (string or null) names the job's connector. The caller
 * keeps only the jobs of the connector it asked for: a server or proxy that dropped the
 * connector_id filter must not get another connector's jobs deleted. */
int cluster_decode_sync_job_page(const char *body, size_t size, struct cluster_sync_job_page *ret,
                                 char **reterr_message);

/* Decodes the answer to a DELETE: Elasticsearch's AcknowledgedResponse, an object holding
 * "acknowledged": true. Anything else (false, missing, not JSON) is -EBADMSG: the deletion is not
 * confirmed. */
int cluster_decode_acknowledged(const char *body, size_t size, char **reterr_message);

/* Decodes the answer to a PUT of a connector or of one of its update endpoints: an object whose
 * "result" is a string ("created", "updated", ...), given once; *ret gets a copy. Anything else is
 * -EBADMSG with the reason. */
int cluster_decode_put_result(const char *body, size_t size, char **ret, char **reterr_message);

/* Frees the contents of n connectors and the array. */
void cluster_connectors_free(struct plan_connector *a, size_t n);

/* A server's string (or an id) for a message: escaped as escape.h says, cut after
 * CLUSTER_ERROR_TEXT_MAX bytes. A new string, or NULL when out of memory. */
static inline char *cluster_escape_str(const char *s) {
        return escape_text(s, strlen(s), CLUSTER_ERROR_TEXT_MAX, 0);
}
