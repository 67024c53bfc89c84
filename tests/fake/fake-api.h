#pragma once

/* The fake cluster's Elasticsearch behaviour, without HTTP: one request (method, raw target,
 * the headers that matter, body) in, one response (status, headers, body) out, as the chosen
 * Elasticsearch version answers it: authentication, REST API compatibility headers, routing
 * (405 with Allow, 400 "no handler found"), parameter checks with Elasticsearch's wording, the
 * connector and sync job endpoints, error envelopes. Pure apart from the store it is given and
 * a seeded generator for new ids; the caller serialises calls. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake-store.h"
#include "fake-util.h"

struct fake_version {
        unsigned major;
        unsigned minor;
        unsigned patch;
};

/* Parses "X.Y.Z": 0 or -EINVAL. */
int fake_version_parse(const char *s, struct fake_version *ret);
/* Whether v is at least major.minor. */
bool fake_version_at_least(const struct fake_version *v, unsigned major, unsigned minor);

struct fake_api_config {
        struct fake_version version;
        /* Credentials the cluster accepts; when all are NULL security is off. Borrowed. */
        const char *api_key; /* the encoded key, as sent after "ApiKey " */
        const char *basic_user;
        const char *basic_password;
        const char *bearer;
        /* Credentials of a role that may read connectors but not manage them (the cluster
         * privileges monitor and monitor_connector, or what a version had for them): every
         * other connector action is a 403 security_exception. An API key must be base64 of
         * id:secret (its id is in the message). Borrowed; NULL when not given. */
        const char *api_key_read_only;
        const char *basic_read_only_user;
        const char *basic_read_only_password;
        long max_result_window; /* index.max_result_window, 10000 by default */
        /* What GET / reports (copied); NULL: FAKE_CLUSTER_UUID, FAKE_CLUSTER_NAME. */
        const char *cluster_uuid;
        const char *cluster_name;
};

#define FAKE_CLUSTER_UUID "ZmFrZS1jbHVzdGVyLXV1aWQ"
#define FAKE_CLUSTER_NAME "fake-cluster"

struct fake_request {
        const char *method;        /* "GET", ... */
        const char *raw_target;    /* the request-target as received, still percent-encoded */
        const char *authorization; /* header values, NULL when absent */
        const char *accept;
        const char *content_type;
        const char *body;
        size_t body_len;
};

struct fake_header {
        char *name;
        char *value;
};

#define FAKE_MAX_HEADERS 8

struct fake_response {
        int status;
        char *content_type;
        char *body;
        size_t body_len;
        struct fake_header headers[FAKE_MAX_HEADERS];
        size_t n_headers;

        /* What the request log records. */
        char *path;              /* the decoded path; NULL when it does not decode */
        char *connector_id;      /* decoded, when the endpoint names a connector */
        char *sync_job_id;       /* decoded, when the endpoint names a sync job */
        char *query_json;        /* the decoded query parameters as a JSON object; NULL when malformed */
        const char *auth_scheme; /* "ApiKey", "Basic", "Bearer", "other" or NULL */
};

void fake_response_done(struct fake_response *r);
/* Adds a header (copies both strings): 0 or -ENOMEM/-E2BIG. */
int fake_response_add_header(struct fake_response *r, const char *name, const char *value);

struct fake_api;

/* The store is borrowed and must outlive the api. 'seed' drives generated ids. */
int fake_api_new(struct fake_api **ret, const struct fake_api_config *config, struct fake_store *store,
                 uint64_t seed);
struct fake_api *fake_api_free(struct fake_api *api);

/* Changes the cluster_uuid and cluster_name GET / reports from now on (copied; NULL leaves one
 * as it is): 0 or -ENOMEM (then nothing changed). */
int fake_api_set_cluster(struct fake_api *api, const char *uuid, const char *name);
/* The current ones, owned by the api (valid until the next fake_api_set_cluster()). */
void fake_api_get_cluster(const struct fake_api *api, const char **ret_uuid, const char **ret_name);

/* Parses a cluster identity, {"cluster_uuid": STRING, "cluster_name": STRING} (both optional,
 * nothing else), as POST /_fake/cluster and a fault's "mutate" take it. *ret_uuid and *ret_name
 * are malloc'd, NULL when not given. On error returns -EINVAL and *reterr (malloc'd) names
 * 'origin' and the key. */
int fake_cluster_parse(const char *json, size_t len, const char *origin, char **ret_uuid, char **ret_name,
                       char **reterr);

/* Answers one request into *ret (zeroed first; fake_response_done() frees it). Returns 0, or
 * -ENOMEM (then *ret holds nothing). */
int fake_api_handle(struct fake_api *api, const struct fake_request *req, struct fake_response *ret);

/* The body Elasticsearch sends for an exception: {"error":{"root_cause":[...],"type","reason"},
 * "status"}. 'extra' (JSON members starting with ',', or NULL) is appended inside the error and
 * its root cause (metadata, headers); 'cause' (e.g. ',"caused_by":{...}') only inside the error,
 * as root causes never carry their cause. */
int fake_error_body(int status, const char *type, const char *reason, const char *extra, const char *cause,
                    char **ret);

/* The decoded path of a request-target (plus signs stay), as the request log and fault rules see
 * it; -EINVAL when it does not decode. */
int fake_request_path(const char *raw_target, char **ret);

/* The scheme of an Authorization header value as the log records it: "ApiKey", "Basic",
 * "Bearer", "other", or NULL when absent. Never the credentials. */
const char *fake_auth_scheme(const char *authorization);

/* Re-indents compact JSON as Elasticsearch's ?pretty does (two spaces, " : ", a final newline). */
int fake_json_pretty(const char *json, char **ret);
