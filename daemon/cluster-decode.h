#pragma once

/* What the cluster says, decoded: error bodies, GET /, list pages, connector documents and
 * sync-job pages. Pure (no I/O, no libcurl, no libsystemd), so that the unit tests and the fuzzers
 * link it alone. On failure the decoders return a negative errno and, where they take one, set
 * *reterr_message (owned by the caller) to a sentence saying what is wrong. cJSON stays inside. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
 * cluster_decode_list_page() for one connector; its 'id' must be 'expected_id' when it has one, and
 * is set to it when it has none. */
int cluster_decode_connector(const char *body, size_t size, const char *expected_id,
                             struct plan_connector *ret, char **reterr_message);

/* Decodes a page of GET /_connector/_sync_job: *ret_ids (NULL-terminated, owned by the caller)
 * gets the 'id' of each result. */
int cluster_decode_sync_job_page(const char *body, size_t size, uint64_t *ret_count, char ***ret_ids,
                                 size_t *ret_n_ids, char **reterr_message);

/* Frees the contents of n connectors and the array. */
void cluster_connectors_free(struct plan_connector *a, size_t n);

/* Copies at most 'max' bytes of s[0..n) for a message: control characters (and DEL) become \xNN,
 * a cut never splits a UTF-8 sequence, and a cut text ends in "...". Stops at a newline when
 * 'first_line' is set. Returns a new string, or NULL when out of memory. */
char *cluster_escape_text(const char *s, size_t n, size_t max, bool first_line);

static inline char *cluster_escape_str(const char *s) {
        return cluster_escape_text(s, strlen(s), CLUSTER_ERROR_TEXT_MAX, false);
}
