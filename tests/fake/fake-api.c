#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fake-api.h"
#include "fake-api-internal.h"
#include "fake-secret.h"
#include "fake-syncjob.h"
#include "fake-filter.h"
#include "fake-update.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

/* Elasticsearch's default for track_total_hits: a search counts matches exactly up to this many. */
#define TRACK_TOTAL_HITS_DEFAULT 10000L
/* The concrete index behind the .elastic-connectors alias, named in search shard failures. */
#define CONNECTOR_INDEX FAKE_CONNECTOR_INDEX
#define SYNC_JOB_INDEX  ".elastic-connectors-sync-jobs-v1"
#define NODE_ID         "fake-node-0id0000000000"

struct fake_api {
        struct fake_api_config config;
        struct fake_store *store;
        uint64_t prng;
        char *cluster_uuid;
        char *cluster_name;
};

int fake_version_parse(const char *s, struct fake_version *ret) {
        unsigned v[3];
        int n = 0;

        if (!s || sscanf(s, "%u.%u.%u%n", &v[0], &v[1], &v[2], &n) != 3 || s[n] != 0 ||
            !isdigit((unsigned char) s[0]))
                return -EINVAL;
        *ret = (struct fake_version){ v[0], v[1], v[2] };
        return 0;
}

bool fake_version_at_least(const struct fake_version *v, unsigned major, unsigned minor) {
        return v->major > major || (v->major == major && v->minor >= minor);
}

void fake_response_done(struct fake_response *r) {
        free(r->content_type);
        free(r->body);
        for (size_t i = 0; i < r->n_headers; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
        }
        free(r->path);
        free(r->connector_id);
        free(r->sync_job_id);
        free(r->query_json);
        *r = (struct fake_response){};
}

int fake_response_add_header(struct fake_response *r, const char *name, const char *value) {
        struct fake_header h;

        if (r->n_headers >= FAKE_MAX_HEADERS)
                return -E2BIG;
        h.name = strdup(name);
        h.value = strdup(value);
        if (!h.name || !h.value) {
                free(h.name);
                free(h.value);
                return -ENOMEM;
        }
        r->headers[r->n_headers++] = h;
        return 0;
}

int fake_api_new(struct fake_api **ret, const struct fake_api_config *config, struct fake_store *store,
                 uint64_t seed) {
        struct fake_api *api = calloc(1, sizeof(*api));

        if (!api)
                return -ENOMEM;
        api->config = *config;
        if (api->config.max_result_window <= 0)
                api->config.max_result_window = 10000;
        api->store = store;
        api->prng = seed;
        api->cluster_uuid = strdup(config->cluster_uuid ?: FAKE_CLUSTER_UUID);
        api->cluster_name = strdup(config->cluster_name ?: FAKE_CLUSTER_NAME);
        /* Borrowed strings in the config are not kept: the api owns its copies. */
        api->config.cluster_uuid = api->config.cluster_name = NULL;
        if (!api->cluster_uuid || !api->cluster_name) {
                fake_api_free(api);
                return -ENOMEM;
        }
        *ret = api;
        return 0;
}

struct fake_api *fake_api_free(struct fake_api *api) {
        if (!api)
                return NULL;
        free(api->cluster_uuid);
        free(api->cluster_name);
        free(api);
        return NULL;
}

int fake_api_set_cluster(struct fake_api *api, const char *uuid, const char *name) {
        _cleanup_free_ char *u = NULL, *n = NULL;

        if ((uuid && !(u = strdup(uuid))) || (name && !(n = strdup(name))))
                return -ENOMEM;
        if (u) {
                free(api->cluster_uuid);
                api->cluster_uuid = TAKE_PTR(u);
        }
        if (n) {
                free(api->cluster_name);
                api->cluster_name = TAKE_PTR(n);
        }
        return 0;
}

void fake_api_get_cluster(const struct fake_api *api, const char **ret_uuid, const char **ret_name) {
        *ret_uuid = api->cluster_uuid;
        *ret_name = api->cluster_name;
}

/* ---- error bodies ---- */

int fake_error_body(int status, const char *type, const char *reason, const char *extra, const char *cause,
                    char **ret) {
        struct strbuf sb = {};

        /* Root causes carry an exception's metadata and headers but never its cause. */
        sb_puts(&sb, "{\"error\":{\"root_cause\":[{\"type\":");
        sb_json_cstr(&sb, type);
        sb_puts(&sb, ",\"reason\":");
        sb_json_cstr(&sb, reason);
        if (extra)
                sb_puts(&sb, extra);
        sb_puts(&sb, "}],\"type\":");
        sb_json_cstr(&sb, type);
        sb_puts(&sb, ",\"reason\":");
        sb_json_cstr(&sb, reason);
        if (extra)
                sb_puts(&sb, extra);
        if (cause)
                sb_puts(&sb, cause);
        sb_printf(&sb, "},\"status\":%d}", status);
        return sb_steal(&sb, ret);
}

/* ---- the request being answered ---- */

struct param {
        char *key;
        char *value;
        bool consumed;
};

enum route_id {
        ROUTE_MAIN,
        ROUTE_LIST,
        ROUTE_POST,
        ROUTE_PUT_NO_ID,
        ROUTE_GET,
        ROUTE_PUT,
        ROUTE_DELETE,
        ROUTE_SYNC_JOB_LIST,
        ROUTE_SYNC_JOB_POST,
        ROUTE_SYNC_JOB_GET,
        ROUTE_SYNC_JOB_DELETE,
        ROUTE_UPDATE, /* one per enum fake_update_endpoint from here on */
        ROUTE_SYNC_JOB_ACTION = ROUTE_UPDATE + _FAKE_UPDATE_MAX,  /* one per enum fake_syncjob_endpoint */
        ROUTE_SECRET = ROUTE_SYNC_JOB_ACTION + _FAKE_SYNCJOB_MAX, /* one per enum fake_secret_endpoint */
};

struct ctx {
        struct fake_api *api;
        const struct fake_request *req;
        struct fake_response *resp;
        struct param *params;
        size_t n_params;
        char *raw_path;
        char *path;       /* decoded; may be NULL */
        char *path_param; /* the decoded {connector_id}, {connector_sync_job_id} or {id} */
        const char *path_param_name;
        char *media_params; /* ";k=v" of the Accept header, appended to the response type */
        bool vnd;           /* the client asked for application/vnd.elasticsearch+json */
        bool pretty;
        const char *filter_path; /* the parameter's value (borrowed from params), or NULL */
        /* Who a 403 names, when the credential is a read-only one ("API key id [x] of user [y]",
         * "user [x] with effective roles [y]"); NULL when it may do anything. */
        char *read_only_subject;
        int oom;
};

static void ctx_done(struct ctx *c) {
        for (size_t i = 0; i < c->n_params; i++) {
                free(c->params[i].key);
                free(c->params[i].value);
        }
        free(c->params);
        free(c->raw_path);
        free(c->path);
        free(c->path_param);
        free(c->media_params);
        free(c->read_only_subject);
}

int fake_cluster_parse(const char *json, size_t len, const char *origin, char **ret_uuid, char **ret_name,
                       char **reterr) {
        _cleanup_cjson_ cJSON *j = NULL;
        _cleanup_free_ char *uuid = NULL, *name = NULL;
        const cJSON *it;

        j = cJSON_ParseWithLength(json, len);
        if (!j || !cJSON_IsObject(j)) {
                *reterr = strdup_printf(
                        "%s: must be an object {\"cluster_uuid\": ..., \"cluster_name\": ...}", origin);
                return -EINVAL;
        }
        cJSON_ArrayForEach(it, j) {
                char **slot = streq(it->string, "cluster_uuid")   ? &uuid
                              : streq(it->string, "cluster_name") ? &name
                                                                  : NULL;

                if (!slot) {
                        *reterr = strdup_printf("%s: unknown key \"%s\"", origin, it->string);
                        return -EINVAL;
                }
                if (!cJSON_IsString(it)) {
                        *reterr = strdup_printf("%s: \"%s\" must be a string", origin, it->string);
                        return -EINVAL;
                }
                free(*slot);
                *slot = strdup(it->valuestring);
                if (!*slot)
                        return -ENOMEM;
        }
        *ret_uuid = TAKE_PTR(uuid);
        *ret_name = TAKE_PTR(name);
        return 0;
}

const char *fake_auth_scheme(const char *authorization) {
        static const char *const schemes[] = { "ApiKey", "Basic", "Bearer" };

        if (!authorization)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                size_t l = strlen(schemes[i]);

                if (strncasecmp(authorization, schemes[i], l) == 0 &&
                    (authorization[l] == ' ' || authorization[l] == 0))
                        return schemes[i];
        }
        return "other";
}

/* Sets the response body (takes ownership of 'body'): filtered by filter_path, then
 * pretty-printed, when asked. */
static int reply(struct ctx *c, int status, char *body) {
        _cleanup_free_ char *b = body;
        const char *type = c->vnd ? "application/vnd.elasticsearch+json" : "application/json";

        if (!b)
                return -ENOMEM;
        /* Every body the fake answers with outside 2xx is an error body, which Elasticsearch
         * builds with newErrorBuilder(): that one never filters. */
        if (c->filter_path && status >= 200 && status < 300) {
                char *f = NULL;
                int r = fake_filter_path(b, strlen(b), c->filter_path, &f);

                if (r < 0)
                        return r;
                if (r > 0) {
                        free(b);
                        b = f;
                }
        }
        if (c->pretty) {
                char *p = NULL;
                int r = fake_json_pretty(b, &p);

                if (r < 0)
                        return r;
                free(b);
                b = p;
        }
        c->resp->status = status;
        free(c->resp->body);
        c->resp->body_len = strlen(b);
        c->resp->body = TAKE_PTR(b);
        free(c->resp->content_type);
        c->resp->content_type = strdup_printf("%s%s", type, strempty(c->media_params));
        return c->resp->content_type ? 0 : -ENOMEM;
}

static int reply_error(struct ctx *c, int status, const char *type, const char *reason) {
        char *body = NULL;
        int r = fake_error_body(status, type, reason, NULL, NULL, &body);

        return r < 0 ? r : reply(c, status, body);
}

/* 'extra' goes into the error and its root cause (metadata, headers); 'cause' only into the error. */
static int reply_error_extra(struct ctx *c, int status, const char *type, const char *reason,
                             const char *extra, const char *cause) {
        char *body = NULL;
        int r = fake_error_body(status, type, reason, extra, cause, &body);

        return r < 0 ? r : reply(c, status, body);
}

static int reply_iae(struct ctx *c, const char *reason) {
        return reply_error(c, 400, "illegal_argument_exception", reason);
}

/* RestResponse.createSimpleErrorResponse(): {"error":"...","status":N}. */
static int reply_simple(struct ctx *c, int status, const char *message) {
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        sb_puts(&sb, "{\"error\":");
        sb_json_cstr(&sb, message);
        sb_printf(&sb, ",\"status\":%d}", status);
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, status, body);
}

/* ---- query parameters (RestUtils.decodeQueryString) ---- */

static int add_param(struct ctx *c, char *key, char *value) {
        struct param *p;

        for (size_t i = 0; i < c->n_params; i++)
                if (streq(c->params[i].key, key)) {
                        /* A map: the last value wins. */
                        free(c->params[i].value);
                        c->params[i].value = value;
                        free(key);
                        return 0;
                }
        p = realloc(c->params, (c->n_params + 1) * sizeof(*p));
        if (!p) {
                free(key);
                free(value);
                return -ENOMEM;
        }
        c->params = p;
        c->params[c->n_params++] = (struct param){ .key = key, .value = value };
        return 0;
}

static int decode_query(struct ctx *c, const char *q, char **reterr) {
        size_t len = strcspn(q, "#"), pos = 0, i;
        char *name = NULL;
        int r;

        for (i = 0; i <= len; i++) {
                char ch = i < len ? q[i] : '&';

                if (ch == '=' && !name && i < len) {
                        if (pos != i) {
                                r = es_url_decode(q + pos, i - pos, true, &name, reterr);
                                if (r < 0)
                                        return r;
                        }
                        pos = i + 1;
                } else if (ch == '&' || ch == ';') {
                        char *value = NULL, *key = NULL;

                        if (!name && pos != i) {
                                r = es_url_decode(q + pos, i - pos, true, &key, reterr);
                                if (r < 0)
                                        return r;
                                value = strdup("");
                                if (!value) {
                                        free(key);
                                        return -ENOMEM;
                                }
                                r = add_param(c, key, value);
                        } else if (name) {
                                r = es_url_decode(q + pos, i - pos, true, &value, reterr);
                                if (r < 0) {
                                        free(name);
                                        return r;
                                }
                                r = add_param(c, name, value);
                                name = NULL;
                        } else
                                r = 0;
                        if (r < 0)
                                return r;
                        pos = i + 1;
                }
        }
        free(name);
        return 0;
}

static struct param *find_param(struct ctx *c, const char *key) {
        for (size_t i = 0; i < c->n_params; i++)
                if (streq(c->params[i].key, key))
                        return &c->params[i];
        return NULL;
}

/* RestRequest.param(): marks the parameter consumed, present or not. */
static const char *param_str(struct ctx *c, const char *key) {
        struct param *p = find_param(c, key);

        if (!p) {
                /* Remember the name: consumed parameters are the "did you mean" candidates. */
                char *k = strdup(key), *v = NULL;

                if (!k || add_param(c, k, v) < 0) {
                        c->oom = -ENOMEM;
                        return NULL;
                }
                p = &c->params[c->n_params - 1];
        }
        p->consumed = true;
        return p->value;
}

static bool has_text(const char *s) {
        for (; s && *s; s++)
                if (!isspace((unsigned char) *s))
                        return true;
        return false;
}

/* RestRequest.paramAsBoolean(): empty means true, blank the default, else only true/false. */
static int param_bool(struct ctx *c, const char *key, bool def, bool *ret) {
        const char *v = param_str(c, key);
        _cleanup_free_ char *m = NULL;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (v[0] == 0) {
                *ret = true;
                return 0;
        }
        if (!has_text(v)) {
                *ret = def;
                return 0;
        }
        if (streq(v, "true") || streq(v, "false")) {
                *ret = streq(v, "true");
                return 0;
        }
        m = strdup_printf("Failed to parse value [%s] as only [true] or [false] are allowed.", v);
        return m ? reply_iae(c, m) ?: 1 : -ENOMEM;
}

/* Java's Integer.parseInt(s, 10). */
static bool java_parse_int(const char *s, int *ret) {
        long long v = 0;
        bool neg = false;
        const char *p = s;

        if (*p == '-' || *p == '+') {
                neg = *p == '-';
                p++;
        }
        if (!*p)
                return false;
        for (; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (*p - '0');
                if (v > (long long) INT_MAX + 1)
                        return false;
        }
        if (neg)
                v = -v;
        if (v > INT_MAX || v < INT_MIN)
                return false;
        *ret = (int) v;
        return true;
}

/* RestRequest.paramAsInt(). Returns 1 after answering with the error. */
static int param_int(struct ctx *c, const char *key, int def, int *ret) {
        const char *v = param_str(c, key);
        _cleanup_free_ char *m = NULL, *extra = NULL;
        struct strbuf sb = {};
        int r;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (java_parse_int(v, ret))
                return 0;
        m = strdup_printf("Failed to parse int parameter [%s] with value [%s]", key, v);
        sb_puts(&sb, ",\"caused_by\":{\"type\":\"number_format_exception\",\"reason\":");
        {
                _cleanup_free_ char *nfe = strdup_printf("For input string: \"%s\"", v);

                sb_json_cstr(&sb, nfe);
        }
        sb_puts(&sb, "}");
        r = sb_steal(&sb, &extra);
        if (r < 0 || !m)
                return -ENOMEM;
        {
                /* The root cause is the IllegalArgumentException itself, without its cause. */
                struct strbuf body = {};
                char *b = NULL;

                sb_puts(&body,
                        "{\"error\":{\"root_cause\":[{\"type\":\"illegal_argument_exception\",\"reason\":");
                sb_json_cstr(&body, m);
                sb_puts(&body, "}],\"type\":\"illegal_argument_exception\",\"reason\":");
                sb_json_cstr(&body, m);
                sb_puts(&body, extra);
                sb_puts(&body, "},\"status\":400}");
                r = sb_steal(&body, &b);
                if (r < 0)
                        return r;
                r = reply(c, 400, b);
        }
        return r < 0 ? r : 1;
}

/* RestRequest.paramAsStringArray(): String.split(",") (trailing empty strings dropped). */
static int param_list(struct ctx *c, const char *key, char ***ret, size_t *ret_n) {
        const char *v = param_str(c, key);
        char **l = NULL;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!v || !*v)
                return 0;
        l = calloc(strlen(v) + 2, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (const char *p = v;;) {
                size_t k = strcspn(p, ",");

                l[n] = strndup(p, k);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
                if (!p[k])
                        break;
                p += k + 1;
        }
        while (n > 0 && l[n - 1][0] == 0) {
                free(l[--n]);
                l[n] = NULL;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* BaseRestHandler: unconsumed parameters are an error, with "did you mean" suggestions. */
static int check_unconsumed(struct ctx *c) {
        _cleanup_free_ struct param **bad = NULL;
        struct strbuf sb = {};
        _cleanup_free_ char *m = NULL;
        size_t nbad = 0;
        int r;

        bad = calloc(c->n_params + 1, sizeof(*bad));
        if (!bad)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_params; i++)
                if (!c->params[i].consumed && c->params[i].value)
                        bad[nbad++] = &c->params[i];
        if (nbad == 0)
                return 0;
        /* A TreeSet: sorted by name (Java's String order, code units; equal to bytes for ASCII). */
        for (size_t i = 1; i < nbad; i++)
                for (size_t k = i; k > 0 && strcmp(bad[k - 1]->key, bad[k]->key) > 0; k--) {
                        struct param *t = bad[k];

                        bad[k] = bad[k - 1];
                        bad[k - 1] = t;
                }
        sb_printf(&sb, "request [%s] contains unrecognized parameter%s: ", c->path ? c->path : c->raw_path,
                  nbad > 1 ? "s" : "");
        for (size_t i = 0; i < nbad; i++) {
                struct cand {
                        float d;
                        const char *k;
                } cands[64];
                size_t nc = 0;

                for (size_t k = 0; k < c->n_params && nc < ELEMENTSOF(cands); k++) {
                        float d;

                        if (!c->params[k].consumed)
                                continue;
                        d = lucene_levenshtein(bad[i]->key, c->params[k].key);
                        if (d > 0.5f)
                                cands[nc++] = (struct cand){ d, c->params[k].key };
                }
                /* By distance, best first, then by name. */
                for (size_t a = 1; a < nc; a++)
                        for (size_t b = a; b > 0; b--) {
                                struct cand *x = &cands[b - 1], *y = &cands[b];
                                bool swap = x->d < y->d || (x->d == y->d && strcmp(x->k, y->k) > 0);
                                struct cand t;

                                if (!swap)
                                        break;
                                t = *x;
                                *x = *y;
                                *y = t;
                        }
                if (i > 0)
                        sb_puts(&sb, ", ");
                sb_printf(&sb, "[%s]", bad[i]->key);
                if (nc == 1)
                        sb_printf(&sb, " -> did you mean [%s]?", cands[0].k);
                else if (nc > 1) {
                        sb_puts(&sb, " -> did you mean any of [");
                        for (size_t a = 0; a < nc; a++)
                                sb_printf(&sb, "%s%s", a ? ", " : "", cands[a].k);
                        sb_puts(&sb, "]?");
                }
        }
        r = sb_steal(&sb, &m);
        if (r < 0)
                return r;
        r = reply_iae(c, m);
        return r < 0 ? r : 1;
}

/* BaseRestHandler: a body the handler did not read is an error. */
static int check_no_body(struct ctx *c) {
        _cleanup_free_ char *m = NULL;
        int r;

        if (c->req->body_len == 0)
                return 0;
        m = strdup_printf("request [%s %s] does not support having a body", c->req->method,
                          c->path ? c->path : c->raw_path);
        if (!m)
                return -ENOMEM;
        r = reply_iae(c, m);
        return r < 0 ? r : 1;
}

/* After a handler read its parameters: unrecognized ones, then an unexpected body. */
static int finish_params(struct ctx *c, bool reads_body) {
        int r;

        if (c->oom)
                return c->oom;
        r = check_unconsumed(c);
        if (r != 0)
                return r;
        return reads_body ? 0 : check_no_body(c);
}

/* ---- what fake-api-internal.h lends the endpoint modules ---- */

/* struct fake_ctx is never defined: it names a struct ctx for the modules outside this file. */
static struct ctx *ctx_of(struct fake_ctx *c) {
        return (struct ctx *) c;
}

static const struct ctx *const_ctx_of(const struct fake_ctx *c) {
        return (const struct ctx *) c;
}

const struct fake_version *fake_ctx_version(const struct fake_ctx *c) {
        return &const_ctx_of(c)->api->config.version;
}

struct fake_store *fake_ctx_store(struct fake_ctx *c) {
        return ctx_of(c)->api->store;
}

const struct fake_request *fake_ctx_request(const struct fake_ctx *c) {
        return const_ctx_of(c)->req;
}

const char *fake_ctx_path_param(const struct fake_ctx *c) {
        return const_ctx_of(c)->path_param;
}

const char *fake_ctx_param(struct fake_ctx *c, const char *key) {
        return param_str(ctx_of(c), key);
}

int fake_ctx_finish_params(struct fake_ctx *c, bool reads_body) {
        return finish_params(ctx_of(c), reads_body);
}

int fake_ctx_reply(struct fake_ctx *c, int status, char *body) {
        return reply(ctx_of(c), status, body);
}

int fake_ctx_reply_error(struct fake_ctx *c, int status, const char *type, const char *reason,
                         const char *extra, const char *cause) {
        return reply_error_extra(ctx_of(c), status, type, reason, extra, cause);
}

/* ---- authorization ---- */

/* What the read-only role may do: the actions of ClusterPrivilegeResolver's
 * MONITOR_CONNECTOR_PATTERN. */
static bool connector_read_action(const char *action) {
        return streq(action, "get") || streq(action, "list") || streq(action, "sync_job/get") ||
               streq(action, "sync_job/list");
}

/* AuthorizationService denies with AuthorizationDenialMessages.actionDenied(): "action [NAME]
 * is unauthorized for SUBJECT", the index action's failure context ("on indices [...]"), and
 * the privileges that would grant it, least first (ClusterPrivilegeResolver.sortByAccessLevel).
 * The action names changed twice: cluster:admin/xpack/connector/... in 8.12, which only manage
 * and all granted; indices:data/read|write/xpack/connector/... on the connector (or sync job)
 * index from 8.13 (pull request 105289, merged for 8.13), granted by index privileges; and from
 * 9.0 the cluster names again, granted by monitor_connector and manage_connector (pull request
 * 119863). The secrets stayed cluster actions, which manage_connector leaves out. */
static int authorize(struct ctx *c, const char *action) {
        const struct fake_version *v = &c->api->config.version;
        const char *who = c->read_only_subject, *secret = startswith(action, "secret/");
        _cleanup_free_ char *m = NULL;
        int r;

        if (!who || connector_read_action(action))
                return 0;
        if (secret)
                m = strdup_printf("action [cluster:admin/xpack/connector/%s] is unauthorized for %s, this "
                                  "action is granted by the cluster privileges [%s,manage,all]",
                                  action, who,
                                  streq(secret, "get") ? "read_connector_secrets"
                                                       : "write_connector_secrets");
        else if (fake_version_at_least(v, 8, 13) && !fake_version_at_least(v, 9, 0))
                /* RBACEngine denies before resolving the request's index: the context names it as
                 * the request does. */
                m = strdup_printf("action [indices:data/write/xpack/connector/%s] is unauthorized for %s "
                                  "on indices [%s], this action is granted by the index privileges "
                                  "[write,all]",
                                  action, who,
                                  startswith(action, "sync_job/") ? SYNC_JOB_INDEX : CONNECTOR_INDEX);
        else
                m = strdup_printf("action [cluster:admin/xpack/connector/%s] is unauthorized for %s, this "
                                  "action is granted by the cluster privileges [%s]",
                                  action, who,
                                  fake_version_at_least(v, 9, 0) ? "manage_connector,manage,all"
                                                                 : "manage,all");
        if (!m)
                return -ENOMEM;
        r = reply_error(c, 403, "security_exception", m);
        return r < 0 ? r : 1;
}

int fake_ctx_authorize(struct fake_ctx *c, const char *action) {
        return authorize(ctx_of(c), action);
}

/* ---- documents in responses ---- */

static void append_doc(struct strbuf *sb, const struct fake_doc *d) {
        sb_puts(sb, "{\"id\":");
        sb_json_cstr(sb, d->id);
        if (!streq(d->source, "{}")) {
                sb_puts(sb, ",");
                sb_puts(sb, d->source + 1);
        } else
                sb_puts(sb, "}");
}

static int reply_not_found(struct ctx *c, const char *reason) {
        return reply_error(c, 404, "resource_not_found_exception", reason);
}

/* GET and DELETE of a missing connector. 8.12's ConnectorIndexService named the bare id (new
 * ResourceNotFoundException(connectorId), read in the release that had only the 8.12 endpoints);
 * later ones word it "connector [ID] not found" (connectorNotFoundErrorMsg). */
static int reply_connector_not_found(struct ctx *c, const char *id) {
        _cleanup_free_ char *m = NULL;

        if (!fake_version_at_least(&c->api->config.version, 8, 13))
                return reply_not_found(c, id);
        m = strdup_printf("connector [%s] not found", id);
        return m ? reply_not_found(c, m) : -ENOMEM;
}

/* The search behind a list fails when from + size passes index.max_result_window. */
static int check_result_window(struct ctx *c, int from, int size, const char *index) {
        long long window = (long long) from + size;
        _cleanup_free_ char *m = NULL;
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        if (window <= c->api->config.max_result_window)
                return 0;
        m = strdup_printf(
                "Result window is too large, from + size must be less than or equal to: [%ld] but was "
                "[%lld]. "
                "See the scroll api for a more efficient way to request large data sets. This limit can be "
                "set by changing the [index.max_result_window] index level setting.",
                c->api->config.max_result_window, window);
        if (!m)
                return -ENOMEM;
        sb_puts(&sb, "{\"error\":{\"root_cause\":[{\"type\":\"illegal_argument_exception\",\"reason\":");
        sb_json_cstr(&sb, m);
        sb_puts(&sb, "}],\"type\":\"search_phase_execution_exception\",\"reason\":\"all shards failed\","
                     "\"phase\":\"query\",\"grouped\":true,\"failed_shards\":[{\"shard\":0,\"index\":");
        sb_json_cstr(&sb, index);
        sb_puts(&sb,
                ",\"node\":\"" NODE_ID "\",\"reason\":{\"type\":\"illegal_argument_exception\",\"reason\":");
        sb_json_cstr(&sb, m);
        sb_puts(&sb, "}}],\"caused_by\":{\"type\":\"illegal_argument_exception\",\"reason\":");
        sb_json_cstr(&sb, m);
        sb_puts(&sb, ",\"caused_by\":{\"type\":\"illegal_argument_exception\",\"reason\":");
        sb_json_cstr(&sb, m);
        sb_puts(&sb, "}}},\"status\":400}");
        r = sb_steal(&sb, &body);
        if (r < 0)
                return r;
        r = reply(c, 400, body);
        return r < 0 ? r : 1;
}

/* PageParams: negative values are refused after every parameter was read. */
static int check_page(struct ctx *c, int from, int size) {
        int r;

        if (from < 0)
                r = reply_iae(c, "Parameter [from] cannot be < 0");
        else if (size < 0)
                r = reply_iae(c, "Parameter [size] cannot be < 0");
        else
                return 0;
        return r < 0 ? r : 1;
}

/* A list's answer: 'total' matches in all, 'docs' the n of this page. */
static int reply_results(struct ctx *c, const struct fake_doc **docs, size_t n, size_t total) {
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        /* count is the search's total hits, which Elasticsearch counts exactly only up to 10,000. */
        sb_printf(&sb, "{\"count\":%ld,\"results\":[", (long) MIN(total, (size_t) TRACK_TOTAL_HITS_DEFAULT));
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        sb_puts(&sb, ",");
                append_doc(&sb, docs[i]);
        }
        sb_puts(&sb, "]}");
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, 200, body);
}

/* A page of a list that is all there: 'from' and 'size' pick it out of the n docs. */
static int reply_page(struct ctx *c, const struct fake_doc **docs, size_t n, int from, int size) {
        size_t start = MIN((size_t) from, n);

        return reply_results(c, docs + start, MIN((size_t) size, n - start), n);
}

/* ---- handlers ---- */

static int handle_main(struct ctx *c) {
        const struct fake_version *v = &c->api->config.version;
        char lucene[16], wire[16], index[16];
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        r = finish_params(c, false);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Lucene shipped with each minor release (a guess for versions not listed). */
        static const struct {
                unsigned major, minor;
                const char *lucene;
        } lucenes[] = {
                { 8, 12, "9.9.2" },  { 8, 13, "9.10.0" }, { 8, 14, "9.10.0" }, { 8, 15, "9.11.1" },
                { 8, 16, "9.12.0" }, { 8, 17, "9.12.0" }, { 8, 18, "9.12.1" }, { 8, 19, "9.12.2" },
                { 9, 0, "10.1.0" },  { 9, 1, "10.2.2" },  { 9, 2, "10.3.1" },
        };
        (void) snprintf(lucene, sizeof(lucene), "%s", v->major >= 9 ? "10.2.2" : "9.12.2");
        for (size_t i = 0; i < ELEMENTSOF(lucenes); i++)
                if (lucenes[i].major == v->major && lucenes[i].minor == v->minor)
                        (void) snprintf(lucene, sizeof(lucene), "%s", lucenes[i].lucene);
        /* Wire compatibility reaches back to the last minor of the previous major. */
        (void) snprintf(wire, sizeof(wire), "%u.%u.0", v->major ? v->major - 1 : 0,
                        v->major == 9 ? 19u : 17u);
        (void) snprintf(index, sizeof(index), "%u.0.0", v->major ? v->major - 1 : 0);
        sb_puts(&sb, "{\"name\":\"fake-node-0\",\"cluster_name\":");
        sb_json_cstr(&sb, c->api->cluster_name);
        sb_puts(&sb, ",\"cluster_uuid\":");
        sb_json_cstr(&sb, c->api->cluster_uuid);
        sb_printf(&sb,
                  ",\"version\":{\"number\":\"%u.%u.%u\",\"build_flavor\":\"default\",\"build_type\":"
                  "\"docker\","
                  "\"build_hash\":\"0000000000000000000000000000000000000000\","
                  "\"build_date\":\"2025-01-01T00:00:00.000000000Z\",\"build_snapshot\":false,"
                  "\"lucene_version\":\"%s\",\"minimum_wire_compatibility_version\":\"%s\","
                  "\"minimum_index_compatibility_version\":\"%s\"},\"tagline\":\"You Know, for Search\"}",
                  v->major, v->minor, v->patch, lucene, wire, index);
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, 200, body);
}

static int handle_list(struct ctx *c) {
        _cleanup_strv_free_ char **index_names = NULL, **names = NULL, **types = NULL;
        _cleanup_free_ const struct fake_doc **docs = NULL;
        struct fake_connector_query q = {};
        size_t n_index_names, n_names, n_types, n, total;
        bool include_deleted = false;
        int from, size, r;

        /* In the order RestListConnectorAction reads them: the first bad one is reported. */
        if ((r = param_int(c, "from", 0, &from)) != 0 || (r = param_int(c, "size", 100, &size)) != 0)
                return r < 0 ? r : 0;
        if ((r = param_list(c, "index_name", &index_names, &n_index_names)) < 0 ||
            (r = param_list(c, "connector_name", &names, &n_names)) < 0 ||
            (r = param_list(c, "service_type", &types, &n_types)) < 0)
                return r;
        q.query = param_str(c, "query");
        if (fake_version_at_least(&c->api->config.version, 9, 0)) {
                r = param_bool(c, "include_deleted", false, &include_deleted);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if ((r = check_page(c, from, size)) != 0 || (r = finish_params(c, false)) != 0 ||
            (r = authorize(c, "list")) != 0 ||
            (r = check_result_window(c, from, size, CONNECTOR_INDEX)) != 0)
                return r < 0 ? r : 0;
        q.index_names = (const char *const *) index_names;
        q.n_index_names = n_index_names;
        q.names = (const char *const *) names;
        q.n_names = n_names;
        q.service_types = (const char *const *) types;
        q.n_service_types = n_types;
        /* Before 9.0 there is no soft delete: nothing is hidden. */
        q.include_deleted = include_deleted || !fake_version_at_least(&c->api->config.version, 9, 0);
        r = fake_store_page_connectors(c->api->store, &q, (size_t) from, (size_t) size, &docs, &n, &total);
        if (r < 0)
                return r;
        return reply_results(c, docs, n, total);
}

static int handle_get(struct ctx *c) {
        const struct fake_doc *d;
        bool include_deleted = false;
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        (void) param_str(c, "connector_id");
        if (fake_version_at_least(&c->api->config.version, 9, 0)) {
                r = param_bool(c, "include_deleted", false, &include_deleted);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if ((r = finish_params(c, false)) != 0 || (r = authorize(c, "get")) != 0)
                return r < 0 ? r : 0;
        d = fake_store_get_connector(c->api->store, c->path_param);
        if (!d || (d->deleted && !include_deleted && fake_version_at_least(&c->api->config.version, 9, 0)))
                return reply_connector_not_found(c, c->path_param);
        append_doc(&sb, d);
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, 200, body);
}

static int handle_delete(struct ctx *c) {
        const struct fake_version *v = &c->api->config.version;
        bool hard = false, delete_sync_jobs = false;
        const struct fake_doc *d;
        int r;

        (void) param_str(c, "connector_id");
        if (fake_version_at_least(v, 9, 0)) {
                r = param_bool(c, "hard", false, &hard);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (fake_version_at_least(v, 8, 14)) {
                r = param_bool(c, "delete_sync_jobs", false, &delete_sync_jobs);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if ((r = finish_params(c, false)) != 0 || (r = authorize(c, "delete")) != 0)
                return r < 0 ? r : 0;
        d = fake_store_get_connector(c->api->store, c->path_param);
        if (!fake_version_at_least(v, 9, 0) || hard) {
                if (!d)
                        return reply_connector_not_found(c, c->path_param);
                r = fake_store_remove_connector(c->api->store, c->path_param);
        } else {
                /* A soft delete reads the connector first: a soft-deleted one is "not found". */
                if (!d || d->deleted)
                        return reply_connector_not_found(c, c->path_param);
                r = fake_store_soft_delete_connector(c->api->store, c->path_param);
        }
        if (r < 0)
                return r;
        if (delete_sync_jobs)
                (void) fake_store_remove_sync_jobs_of(c->api->store, c->path_param);
        return reply(c, 200, strdup("{\"acknowledged\":true}"));
}

/* Where a token starts in the body, as Jackson reports it: "[line:column]". */
static void json_location(const char *body, size_t len, const char *at, unsigned *ret_line,
                          unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (const char *p = body; p < at && p < body + len; p++) {
                if (*p == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* Finds the n-th top-level member of a JSON object text: the start of its name and of its value.
 * The text is known to parse. */
static void member_location(const char *s, size_t len, int n, const char **ret_name,
                            const char **ret_value) {
        const char *p = s, *end = s + len;
        int depth = 0, member = -1;

        *ret_name = *ret_value = s;
        for (; p < end; p++) {
                char ch = *p;

                if (ch == '"') {
                        const char *start = p;

                        for (p++; p < end && *p != '"'; p++)
                                if (*p == '\\')
                                        p++;
                        if (depth == 1) {
                                const char *q = p + 1;

                                while (q < end && isspace((unsigned char) *q))
                                        q++;
                                if (q < end && *q == ':') {
                                        member++;
                                        if (member == n) {
                                                *ret_name = start;
                                                for (q++; q < end && isspace((unsigned char) *q); q++)
                                                        ;
                                                *ret_value = q;
                                                return;
                                        }
                                }
                        }
                } else if (ch == '{' || ch == '[')
                        depth++;
                else if (ch == '}' || ch == ']')
                        depth--;
        }
}

const char *fake_jackson_token(const cJSON *v) {
        if (cJSON_IsNumber(v))
                return "VALUE_NUMBER";
        if (cJSON_IsBool(v))
                return "VALUE_BOOLEAN";
        if (cJSON_IsNull(v))
                return "VALUE_NULL";
        if (cJSON_IsArray(v))
                return "START_ARRAY";
        if (cJSON_IsObject(v))
                return "START_OBJECT";
        return "VALUE_STRING";
}

static int reply_parse_error(struct ctx *c, unsigned line, unsigned col, const char *message) {
        _cleanup_free_ char *m = strdup_printf("[%u:%u] %s", line, col, message);
        int r;

        if (!m)
                return -ENOMEM;
        r = reply_error(c, 400, "x_content_parse_exception", m);
        return r < 0 ? r : 1;
}

/* SuggestingErrorOnUnknown: "[parser] unknown field [x]", with "did you mean" the declared fields
 * closest to it by Lucene's Levenshtein distance (above 0.5), best first, then by name.
 * 'fields' as parse_body() takes it. */
static char *unknown_field_message(const char *parser, const char *name, const char *const *fields) {
        struct cand {
                float d;
                const char *k;
        } cands[16];
        struct strbuf sb = {};
        char *m = NULL;
        size_t n = 0;

        for (size_t i = 0; fields[i] && n < ELEMENTSOF(cands); i += 2) {
                float d = lucene_levenshtein(name, fields[i]);
                size_t k = n++;

                if (d <= 0.5f) {
                        n--;
                        continue;
                }
                /* Insertion sort: by distance, best first, then by name. */
                for (; k > 0 && (cands[k - 1].d < d ||
                                 (cands[k - 1].d == d && strcmp(cands[k - 1].k, fields[i]) > 0));
                     k--)
                        cands[k] = cands[k - 1];
                cands[k] = (struct cand){ d, fields[i] };
        }
        sb_printf(&sb, "[%s] unknown field [%s]", parser, name);
        if (n == 1)
                sb_printf(&sb, " did you mean [%s]?", cands[0].k);
        else if (n > 1) {
                sb_puts(&sb, " did you mean any of [");
                for (size_t i = 0; i < n; i++)
                        sb_printf(&sb, "%s%s", i ? ", " : "", cands[i].k);
                sb_puts(&sb, "]?");
        }
        return sb_steal(&sb, &m) < 0 ? NULL : m;
}

/* Parses a request body with an ObjectParser's strictness: known fields of the right type only.
 * 'fields' alternates names and kinds ('s' string, 'b' boolean). Returns 1 after answering. */
static int parse_body(struct ctx *c, const char *parser, const char *const *fields, cJSON **ret) {
        _cleanup_cjson_ cJSON *j = NULL;
        const char *body = c->req->body, *end = NULL;
        size_t len = c->req->body_len;
        const cJSON *it;
        int n = 0;

        j = cJSON_ParseWithLengthOpts(body, len, &end, false);
        if (!j) {
                unsigned line, col;
                const char *at = cJSON_GetErrorPtr();

                json_location(body, len, at ? at : body, &line, &col);
                return reply_parse_error(c, line, col,
                                         "Unexpected character or end-of-input: the body is not valid JSON");
        }
        if (!cJSON_IsObject(j)) {
                _cleanup_free_ char *m = strdup_printf("[%s] Expected START_OBJECT but was: %s", parser,
                                                       fake_jackson_token(j));

                return m ? reply_parse_error(c, 1, 1, m) : -ENOMEM;
        }
        cJSON_ArrayForEach(it, j) {
                const char *name_at, *value_at;
                const char *kind = NULL;
                unsigned line, col;
                bool ok;

                member_location(body, len, n++, &name_at, &value_at);
                for (size_t i = 0; fields[i]; i += 2)
                        if (streq(fields[i], it->string))
                                kind = fields[i + 1];
                for (const cJSON *prev = j->child; prev != it; prev = prev->next)
                        if (streq(prev->string, it->string)) {
                                _cleanup_free_ char *m = strdup_printf("Duplicate field '%s'", it->string);

                                json_location(body, len, name_at, &line, &col);
                                return m ? reply_parse_error(c, line, col, m) : -ENOMEM;
                        }
                if (!kind) {
                        _cleanup_free_ char *m = unknown_field_message(parser, it->string, fields);

                        json_location(body, len, name_at, &line, &col);
                        return m ? reply_parse_error(c, line, col, m) : -ENOMEM;
                }
                ok = kind[0] == 's'
                             ? cJSON_IsString(it)
                             : cJSON_IsBool(it) || (cJSON_IsString(it) && (streq(it->valuestring, "true") ||
                                                                           streq(it->valuestring, "false")));
                if (!ok) {
                        _cleanup_free_ char *m = strdup_printf("[%s] %s doesn't support values of type: %s",
                                                               parser, it->string, fake_jackson_token(it));

                        json_location(body, len, value_at, &line, &col);
                        return m ? reply_parse_error(c, line, col, m) : -ENOMEM;
                }
        }
        *ret = TAKE_PTR(j);
        return 0;
}

/* A random id as Elasticsearch's UUIDs.base64UUID() makes them: 20 URL-safe base64 characters. */
static void generate_id(struct fake_api *api, char buf[static 21]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        for (size_t i = 0; i < 20; i++)
                buf[i] = alphabet[prng_next(&api->prng) & 63];
        buf[20] = 0;
}

void fake_ctx_generate_id(struct fake_ctx *c, char buf[static 21]) {
        generate_id(ctx_of(c)->api, buf);
}

static const char *json_string_or_null(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The document ConnectorIndexService.createConnector() indexes. */
static int new_connector_source(const struct fake_version *v, const cJSON *req, char **ret) {
        char now[40];
        const char *description = json_string_or_null(req, "description");
        const char *index_name = json_string_or_null(req, "index_name");
        const char *language = json_string_or_null(req, "language");
        const char *name = json_string_or_null(req, "name");
        const char *service_type = json_string_or_null(req, "service_type");
        const cJSON *native = cJSON_GetObjectItemCaseSensitive(req, "is_native");
        bool is_native =
                cJSON_IsTrue(native) || (cJSON_IsString(native) && streq(native->valuestring, "true"));
        struct strbuf sb = {};
        struct strbuf f = {};
        _cleanup_free_ char *filtering_rules = NULL;
        int r;

        iso8601_now(now, sizeof(now));
        sb_printf(&f,
                  "{\"advanced_snippet\":{\"created_at\":\"%s\",\"updated_at\":\"%s\",\"value\":{}},"
                  "\"rules\":[{\"created_at\":\"%s\",\"field\":\"_\",\"id\":\"DEFAULT\",\"order\":0,"
                  "\"policy\":\"include\",\"rule\":\"regex\",\"updated_at\":\"%s\",\"value\":\".*\"}],"
                  "\"validation\":{\"errors\":[],\"state\":\"valid\"}}",
                  now, now, now, now);
        r = sb_steal(&f, &filtering_rules);
        if (r < 0)
                return r;
        sb_puts(&sb, "{\"configuration\":{},\"custom_scheduling\":{}");
        if (description) {
                sb_puts(&sb, ",\"description\":");
                sb_json_cstr(&sb, description);
        }
        sb_printf(&sb, ",\"filtering\":[{\"active\":%s,\"domain\":\"DEFAULT\",\"draft\":%s}]",
                  filtering_rules, filtering_rules);
        if (index_name) {
                sb_puts(&sb, ",\"index_name\":");
                sb_json_cstr(&sb, index_name);
        }
        sb_printf(&sb, ",\"is_native\":%s", is_native ? "true" : "false");
        if (language) {
                sb_puts(&sb, ",\"language\":");
                sb_json_cstr(&sb, language);
        }
        sb_puts(&sb, ",\"name\":");
        sb_json_cstr(&sb, name ? name : "");
        sb_puts(&sb, ",\"scheduling\":{\"access_control\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"},"
                     "\"full\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"},"
                     "\"incremental\":{\"enabled\":false,\"interval\":\"0 0 0 * * ?\"}}");
        if (service_type) {
                sb_puts(&sb, ",\"service_type\":");
                sb_json_cstr(&sb, service_type);
        }
        sb_printf(&sb, ",\"status\":\"%s\",\"sync_now\":false",
                  is_native ? "needs_configuration" : "created");
        if (fake_version_at_least(v, 9, 0))
                sb_puts(&sb, ",\"deleted\":false");
        sb_puts(&sb, "}");
        return sb_steal(&sb, ret);
}

/* The validate() of PutConnectorAction and PostConnectorAction on 9.x (ConnectorActionRequest's
 * validateIndexName() and validateManagedConnectorIndexPrefix(), elastic/elasticsearch#117778):
 * an index name Elasticsearch would refuse, and an Elastic-managed (native) connector on an index
 * without the "content-" prefix. Not modelled before 9.0, whose request validation was not read.
 * 0, 1 after answering, or -ENOMEM. */
static int validate_put(struct ctx *c, const cJSON *req) {
        const char *index_name = json_string_or_null(req, "index_name");
        const cJSON *native = cJSON_GetObjectItemCaseSensitive(req, "is_native");
        _cleanup_free_ char *problem = NULL, *m = NULL;
        struct strbuf sb = {};
        unsigned n = 0;
        int r;

        if (!fake_version_at_least(&c->api->config.version, 9, 0) || !index_name)
                return 0;
        r = fake_index_name_check(index_name, &problem);
        if (r < 0)
                return r;
        sb_puts(&sb, "Validation Failed: ");
        if (r > 0)
                sb_printf(&sb, "%u: [%s] InvalidIndexNameException[Invalid index name [%s], %s];", ++n,
                          index_name, index_name, problem);
        if ((cJSON_IsTrue(native) || (cJSON_IsString(native) && streq(native->valuestring, "true"))) &&
            !startswith(index_name, "content-"))
                sb_printf(&sb,
                          "%u: Index [%s] is invalid. Index attached to an Elastic-managed connector must "
                          "start with the prefix: [content-];",
                          ++n, index_name);
        r = sb_steal(&sb, &m);
        if (r < 0 || n == 0)
                return r;
        r = reply_error(c, 400, "action_request_validation_exception", m);
        return r < 0 ? r : 1;
}

static int handle_put(struct ctx *c, bool with_id) {
        static const char *const fields[] = { "description", "s", "index_name", "s", "is_native",    "b",
                                              "language",    "s", "name",       "s", "service_type", "s",
                                              NULL };
        const struct fake_version *v = &c->api->config.version;
        _cleanup_cjson_ cJSON *j = NULL;
        _cleanup_free_ char *source = NULL, *m = NULL;
        const char *index_name;
        char idbuf[21];
        const char *id;
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        if (with_id)
                (void) param_str(c, "connector_id");
        if (c->req->body_len > 0) {
                r = parse_body(c, "connector_put_request", fields, &j);
                if (r != 0)
                        return r < 0 ? r : 0;
        } else if (!fake_version_at_least(v, 8, 15)) {
                /* Before 8.15 the body was required. */
                r = reply_error(c, 400, "parse_exception", "request body is required");
                return r;
        } else {
                j = cJSON_CreateObject();
                if (!j)
                        return -ENOMEM;
        }
        /* TransportAction.execute(): the request's validate(), then the security filter. */
        if ((r = finish_params(c, true)) != 0 || (r = validate_put(c, j)) != 0 ||
            (r = authorize(c, streq(c->req->method, "POST") ? "post" : "put")) != 0)
                return r < 0 ? r : 0;
        if (with_id)
                id = c->path_param;
        else {
                generate_id(c->api, idbuf);
                id = idbuf;
        }
        index_name = json_string_or_null(j, "index_name");
        if (index_name) {
                /* A live connector elsewhere may not own the same index. */
                const char *const one[] = { index_name };
                struct fake_connector_query q = { .index_names = one, .n_index_names = 1 };
                _cleanup_free_ const struct fake_doc **docs = NULL;
                size_t n;

                r = fake_store_list_connectors(c->api->store, &q, &docs, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        if (!streq(docs[i]->id, id)) {
                                m = strdup_printf("Index name [%s] is used by another connector.",
                                                  index_name);
                                return m ? reply_error(c, 400, "status_exception", m) : -ENOMEM;
                        }
        }
        r = new_connector_source(v, j, &source);
        if (r < 0)
                return r;
        r = fake_store_put_connector(c->api->store, id, source);
        if (r < 0)
                return r;
        sb_puts(&sb, "{\"id\":");
        sb_json_cstr(&sb, id);
        sb_printf(&sb, ",\"result\":\"%s\"}", r == 1 ? "created" : "updated");
        {
                int status = r == 1 ? 201 : 200;

                r = sb_steal(&sb, &body);
                if (r < 0)
                        return r;
                if (!c->resp->connector_id) {
                        c->resp->connector_id = strdup(id);
                        if (!c->resp->connector_id) {
                                free(body);
                                return -ENOMEM;
                        }
                }
                return reply(c, status, body);
        }
}

static const char *const sync_statuses[] = { "canceling",   "canceled", "completed", "error",
                                             "in_progress", "pending",  "suspended" };
static const char *const job_types[] = { "full", "incremental", "access_control" };

static const char *lookup_ci(const char *v, const char *const *table, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(v, table[i]) == 0)
                        return table[i];
        return NULL;
}

static int handle_sync_job_list(struct ctx *c) {
        _cleanup_strv_free_ char **types = NULL;
        _cleanup_free_ const struct fake_doc **docs = NULL;
        _cleanup_free_ char *m = NULL;
        struct fake_sync_job_query q = {};
        const char *status;
        size_t n_types, n;
        int from, size, r;

        if ((r = param_int(c, "from", 0, &from)) != 0 || (r = param_int(c, "size", 100, &size)) != 0)
                return r < 0 ? r : 0;
        q.connector_id = param_str(c, "connector_id");
        status = param_str(c, "status");
        if (status) {
                q.status = lookup_ci(status, sync_statuses, ELEMENTSOF(sync_statuses));
                if (!q.status) {
                        m = strdup_printf("Unknown SyncStatus: %s", status);
                        return m ? reply_iae(c, m) : -ENOMEM;
                }
        }
        r = param_list(c, "job_type", &types, &n_types);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_types; i++) {
                const char *t = lookup_ci(types[i], job_types, ELEMENTSOF(job_types));

                if (!t) {
                        m = strdup_printf("Unknown ConnectorSyncJobType: %s", types[i]);
                        return m ? reply_iae(c, m) : -ENOMEM;
                }
                free(types[i]);
                types[i] = strdup(t);
                if (!types[i])
                        return -ENOMEM;
        }
        if ((r = check_page(c, from, size)) != 0 || (r = finish_params(c, false)) != 0 ||
            (r = authorize(c, "sync_job/list")) != 0 ||
            (r = check_result_window(c, from, size, SYNC_JOB_INDEX)) != 0)
                return r < 0 ? r : 0;
        q.job_types = (const char *const *) types;
        q.n_job_types = n_types;
        r = fake_store_list_sync_jobs(c->api->store, &q, &docs, &n);
        if (r < 0)
                return r;
        return reply_page(c, docs, n, from, size);
}

static int reply_sync_job_not_found(struct ctx *c, const char *id) {
        _cleanup_free_ char *m = NULL;

        /* Elasticsearch names only the id once the index exists. */
        if (fake_store_sync_job_index_exists(c->api->store))
                return reply_not_found(c, id);
        m = strdup_printf("connector sync job [%s] not found", id);
        return m ? reply_not_found(c, m) : -ENOMEM;
}

static int handle_sync_job_get(struct ctx *c) {
        const struct fake_doc *d;
        struct strbuf sb = {};
        char *body = NULL;
        int r;

        (void) param_str(c, "connector_sync_job_id");
        if ((r = finish_params(c, false)) != 0 || (r = authorize(c, "sync_job/get")) != 0)
                return r < 0 ? r : 0;
        d = fake_store_get_sync_job(c->api->store, c->path_param);
        if (!d)
                return reply_sync_job_not_found(c, c->path_param);
        append_doc(&sb, d);
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, 200, body);
}

static int handle_sync_job_delete(struct ctx *c) {
        int r;

        (void) param_str(c, "connector_sync_job_id");
        if ((r = finish_params(c, false)) != 0 || (r = authorize(c, "sync_job/delete")) != 0)
                return r < 0 ? r : 0;
        r = fake_store_remove_sync_job(c->api->store, c->path_param);
        if (r == -ENOENT)
                return reply_sync_job_not_found(c, c->path_param);
        if (r < 0)
                return r;
        return reply(c, 200, strdup("{\"acknowledged\":true}"));
}

static int handle_sync_job_post(struct ctx *c) {
        static const char *const fields[] = { "id", "s", "job_type", "s", "trigger_method", "s", NULL };
        _cleanup_cjson_ cJSON *j = NULL;
        _cleanup_free_ char *m = NULL, *source = NULL;
        const char *connector_id, *job_type, *trigger;
        const struct fake_doc *conn;
        struct strbuf sb = {};
        char id[21], now[40];
        char *body = NULL;
        int r;

        if (c->req->body_len == 0) {
                r = reply_error(c, 400, "parse_exception", "request body is required");
                return r;
        }
        r = parse_body(c, "connector_sync_job_post_request", fields, &j);
        if (r != 0)
                return r < 0 ? r : 0;
        r = finish_params(c, true);
        if (r != 0)
                return r < 0 ? r : 0;
        connector_id = json_string_or_null(j, "id");
        job_type = json_string_or_null(j, "job_type");
        trigger = json_string_or_null(j, "trigger_method");
        if (!connector_id || !*connector_id)
                return reply_error(c, 400, "action_request_validation_exception",
                                   "Validation Failed: 1: [id] of the connector cannot be null or empty;");
        if (job_type && !lookup_ci(job_type, job_types, ELEMENTSOF(job_types))) {
                m = strdup_printf("Unknown ConnectorSyncJobType: %s", job_type);
                return m ? reply_iae(c, m) : -ENOMEM;
        }
        if ((r = authorize(c, "sync_job/post")) != 0)
                return r < 0 ? r : 0;
        conn = fake_store_get_connector(c->api->store, connector_id);
        if (!conn) {
                m = strdup_printf("Connector with id '%s' does not exist.", connector_id);
                return m ? reply_not_found(c, m) : -ENOMEM;
        }
        generate_id(c->api, id);
        iso8601_now(now, sizeof(now));
        sb_puts(&sb, "{\"connector\":{\"id\":");
        sb_json_cstr(&sb, conn->id);
        sb_puts(&sb, ",\"index_name\":");
        sb_json_cstr(&sb, conn->index_name);
        sb_puts(&sb, ",\"service_type\":");
        sb_json_cstr(&sb, conn->service_type);
        sb_printf(&sb,
                  "},\"created_at\":\"%s\",\"deleted_document_count\":0,\"indexed_document_count\":0,"
                  "\"indexed_document_volume\":0,\"job_type\":\"%s\",\"last_seen\":\"%s\",\"status\":"
                  "\"pending\","
                  "\"total_document_count\":0,\"trigger_method\":\"%s\"}",
                  now, job_type ? lookup_ci(job_type, job_types, ELEMENTSOF(job_types)) : "full", now,
                  trigger ? trigger : "on_demand");
        r = sb_steal(&sb, &source);
        if (r < 0)
                return r;
        r = fake_store_put_sync_job(c->api->store, id, source);
        if (r < 0)
                return r;
        sb_puts(&sb, "{\"id\":");
        sb_json_cstr(&sb, id);
        sb_puts(&sb, "}");
        r = sb_steal(&sb, &body);
        return r < 0 ? r : reply(c, 200, body);
}

/* ---- routing (RestController and PathTrie) ---- */

enum method_bit {
        /* RestRequest.Method's declaration order, which EnumSet iterates in. */
        M_GET,
        M_POST,
        M_PUT,
        M_DELETE,
        M_OPTIONS,
        M_HEAD,
        M_PATCH,
        M_TRACE,
        M_CONNECT,
        _M_MAX,
};

static const char *const method_names[_M_MAX] = { "GET",  "POST",  "PUT",   "DELETE", "OPTIONS",
                                                  "HEAD", "PATCH", "TRACE", "CONNECT" };

struct route {
        const char *pattern; /* segments joined by '/', "{name}" a wildcard; "" is the root */
        enum method_bit method;
        enum route_id id;
        unsigned min_major, min_minor;
};

/* The route of an update endpoint (fake-update.c), a sync job action (fake-syncjob.c), a
 * secrets endpoint (fake-secret.c). */
#define UPDATE_ROUTE(endpoint)   ((enum route_id)(ROUTE_UPDATE + (endpoint)))
#define SYNC_JOB_ROUTE(endpoint) ((enum route_id)(ROUTE_SYNC_JOB_ACTION + (endpoint)))
#define SECRET_ROUTE(endpoint)   ((enum route_id)(ROUTE_SECRET + (endpoint)))

static const struct route routes[] = {
        { "", M_GET, ROUTE_MAIN, 0, 0 },
        { "", M_HEAD, ROUTE_MAIN, 0, 0 },
        { "_connector", M_GET, ROUTE_LIST, 0, 0 },
        { "_connector", M_POST, ROUTE_POST, 0, 0 },
        { "_connector", M_PUT, ROUTE_PUT_NO_ID, 8, 15 },
        { "_connector/{connector_id}", M_GET, ROUTE_GET, 0, 0 },
        { "_connector/{connector_id}", M_PUT, ROUTE_PUT, 0, 0 },
        { "_connector/{connector_id}", M_DELETE, ROUTE_DELETE, 0, 0 },
        { "_connector/_sync_job", M_GET, ROUTE_SYNC_JOB_LIST, 0, 0 },
        { "_connector/_sync_job", M_POST, ROUTE_SYNC_JOB_POST, 0, 0 },
        { "_connector/_sync_job/{connector_sync_job_id}", M_GET, ROUTE_SYNC_JOB_GET, 0, 0 },
        { "_connector/_sync_job/{connector_sync_job_id}", M_DELETE, ROUTE_SYNC_JOB_DELETE, 0, 0 },
        { "_connector/{connector_id}/_name", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_NAME), 8, 12 },
        { "_connector/{connector_id}/_configuration", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_CONFIGURATION), 8,
          12 },
        { "_connector/{connector_id}/_scheduling", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_SCHEDULING), 8, 12 },
        { "_connector/{connector_id}/_pipeline", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_PIPELINE), 8, 12 },
        { "_connector/{connector_id}/_filtering", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_FILTERING), 8, 12 },
        { "_connector/{connector_id}/_filtering/_activate", M_PUT,
          UPDATE_ROUTE(FAKE_UPDATE_FILTERING_ACTIVATE), 8, 14 },
        { "_connector/{connector_id}/_filtering/_validation", M_PUT,
          UPDATE_ROUTE(FAKE_UPDATE_FILTERING_VALIDATION), 8, 14 },
        { "_connector/{connector_id}/_index_name", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_INDEX_NAME), 8, 13 },
        { "_connector/{connector_id}/_service_type", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_SERVICE_TYPE), 8, 13 },
        { "_connector/{connector_id}/_native", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_NATIVE), 8, 13 },
        { "_connector/{connector_id}/_api_key_id", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_API_KEY_ID), 8, 13 },
        { "_connector/{connector_id}/_features", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_FEATURES), 8, 15 },
        { "_connector/{connector_id}/_status", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_STATUS), 8, 13 },
        { "_connector/{connector_id}/_error", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_ERROR), 8, 12 },
        { "_connector/{connector_id}/_check_in", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_CHECK_IN), 8, 12 },
        { "_connector/{connector_id}/_last_sync", M_PUT, UPDATE_ROUTE(FAKE_UPDATE_LAST_SYNC), 8, 12 },
        { "_connector/_sync_job/{connector_sync_job_id}/_cancel", M_PUT, SYNC_JOB_ROUTE(FAKE_SYNCJOB_CANCEL),
          8, 12 },
        { "_connector/_sync_job/{connector_sync_job_id}/_check_in", M_PUT,
          SYNC_JOB_ROUTE(FAKE_SYNCJOB_CHECK_IN), 8, 12 },
        { "_connector/_sync_job/{connector_sync_job_id}/_claim", M_PUT, SYNC_JOB_ROUTE(FAKE_SYNCJOB_CLAIM),
          8, 15 },
        { "_connector/_sync_job/{connector_sync_job_id}/_error", M_PUT, SYNC_JOB_ROUTE(FAKE_SYNCJOB_ERROR),
          8, 12 },
        { "_connector/_sync_job/{connector_sync_job_id}/_stats", M_PUT, SYNC_JOB_ROUTE(FAKE_SYNCJOB_STATS),
          8, 12 },
        { "_connector/_secret", M_POST, SECRET_ROUTE(FAKE_SECRET_POST), 8, 13 },
        { "_connector/_secret/{id}", M_GET, SECRET_ROUTE(FAKE_SECRET_GET), 8, 13 },
        { "_connector/_secret/{id}", M_PUT, SECRET_ROUTE(FAKE_SECRET_PUT), 8, 13 },
        { "_connector/_secret/{id}", M_DELETE, SECRET_ROUTE(FAKE_SECRET_DELETE), 8, 13 },
};

/* The distinct patterns, explicit ones first: PathTrie tries exact nodes before wildcards. */
static const char *const patterns[] = {
        "",
        "_connector",
        "_connector/_sync_job",
        "_connector/_secret",
        "_connector/{connector_id}",
        "_connector/_sync_job/{connector_sync_job_id}",
        /* A wildcard at the end comes before one in the middle (PathTrie's order of modes), and a
         * wildcard among explicit segments is matched after them. */
        "_connector/_secret/{id}",
        "_connector/_sync_job/{connector_sync_job_id}/_cancel",
        "_connector/_sync_job/{connector_sync_job_id}/_check_in",
        "_connector/_sync_job/{connector_sync_job_id}/_claim",
        "_connector/_sync_job/{connector_sync_job_id}/_error",
        "_connector/_sync_job/{connector_sync_job_id}/_stats",
        /* The update endpoints: a path they share with a sync job's is tried as one first. */
        "_connector/{connector_id}/_name",
        "_connector/{connector_id}/_configuration",
        "_connector/{connector_id}/_scheduling",
        "_connector/{connector_id}/_pipeline",
        "_connector/{connector_id}/_filtering",
        "_connector/{connector_id}/_filtering/_activate",
        "_connector/{connector_id}/_filtering/_validation",
        "_connector/{connector_id}/_index_name",
        "_connector/{connector_id}/_service_type",
        "_connector/{connector_id}/_native",
        "_connector/{connector_id}/_api_key_id",
        "_connector/{connector_id}/_features",
        "_connector/{connector_id}/_status",
        "_connector/{connector_id}/_error",
        "_connector/{connector_id}/_check_in",
        "_connector/{connector_id}/_last_sync",
};

/* One segment of a path, pointing into it. */
struct seg {
        const char *s;
        size_t n;
};

#define MAX_SEGMENTS 8 /* more than any route has: a longer path matches none */

/* Splits a raw path as Java's path.split("/") after the leading slash: trailing empty segments
 * are dropped. Returns the number of segments (MAX_SEGMENTS + 1 when there are more). */
static size_t split_path(const char *raw, struct seg segs[static MAX_SEGMENTS + 1]) {
        const char *p = raw;
        size_t n = 0;

        if (*p == '/')
                p++;
        while (*p && n <= MAX_SEGMENTS) {
                size_t k = strcspn(p, "/");

                segs[n++] = (struct seg){ p, k };
                p += k;
                if (*p == '/')
                        p++;
        }
        while (n > 0 && n <= MAX_SEGMENTS && segs[n - 1].n == 0)
                n--;
        return n;
}

static bool seg_is(const struct seg *a, const struct seg *b) {
        return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

/* Whether a pattern matches the segments; *ret_wild is the wildcard segment (n == 0 and s NULL
 * when the pattern has none) and *ret_name its parameter name. */
static bool pattern_matches(const char *pattern, const struct seg *segs, size_t n, struct seg *ret_wild,
                            const char **ret_name) {
        struct seg psegs[MAX_SEGMENTS + 1];
        size_t pn = split_path(pattern, psegs);

        *ret_wild = (struct seg){};
        *ret_name = NULL;
        if (pn != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (psegs[i].n > 0 && psegs[i].s[0] == '{') {
                        *ret_wild = segs[i];
                        *ret_name = strstr(pattern, "{connector_id}")            ? "connector_id"
                                    : strstr(pattern, "{connector_sync_job_id}") ? "connector_sync_job_id"
                                                                                 : "id";
                        continue;
                }
                if (!seg_is(&psegs[i], &segs[i]))
                        return false;
        }
        return true;
}

static bool route_available(const struct fake_api *api, const struct route *r) {
        return fake_version_at_least(&api->config.version, r->min_major, r->min_minor);
}

static unsigned methods_of(const struct fake_api *api, const char *pattern) {
        unsigned m = 0;

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(routes[i].pattern, pattern) && route_available(api, &routes[i]))
                        m |= 1u << routes[i].method;
        return m;
}

static char *methods_list(unsigned mask, const char *sep) {
        struct strbuf sb = {};
        char *s = NULL;
        bool first = true;

        for (int i = 0; i < _M_MAX; i++)
                if (mask & (1u << i)) {
                        sb_printf(&sb, "%s%s", first ? "" : sep, method_names[i]);
                        first = false;
                }
        return sb_steal(&sb, &s) < 0 ? NULL : s;
}

static int reply_405(struct ctx *c, unsigned valid, const char *message) {
        _cleanup_free_ char *allowed = methods_list(valid, ", "), *allow = methods_list(valid, ","),
                            *m = NULL;
        int r;

        if (!allowed || !allow)
                return -ENOMEM;
        if (message)
                m = strdup_printf("%s%s%s%s", message, valid ? ", allowed: [" : "", valid ? allowed : "",
                                  valid ? "]" : "");
        else
                m = strdup_printf("Incorrect HTTP method for uri [%s] and method [%s]%s%s%s",
                                  c->req->raw_target, c->req->method, valid ? ", allowed: [" : "",
                                  valid ? allowed : "", valid ? "]" : "");
        if (!m)
                return -ENOMEM;
        r = reply_simple(c, 405, m);
        if (r < 0 || !valid)
                return r;
        return fake_response_add_header(c->resp, "Allow", allow);
}

static int dispatch(struct ctx *c, enum route_id id) {
        switch (id) {
        case ROUTE_MAIN:
                return handle_main(c);
        case ROUTE_LIST:
                return handle_list(c);
        case ROUTE_POST:
        case ROUTE_PUT_NO_ID:
                return handle_put(c, false);
        case ROUTE_GET:
                return handle_get(c);
        case ROUTE_PUT:
                return handle_put(c, true);
        case ROUTE_DELETE:
                return handle_delete(c);
        case ROUTE_SYNC_JOB_LIST:
                return handle_sync_job_list(c);
        case ROUTE_SYNC_JOB_POST:
                return handle_sync_job_post(c);
        case ROUTE_SYNC_JOB_GET:
                return handle_sync_job_get(c);
        case ROUTE_SYNC_JOB_DELETE:
                return handle_sync_job_delete(c);
        case ROUTE_UPDATE:
        case ROUTE_SYNC_JOB_ACTION:
        case ROUTE_SECRET:
                break;
        }
        if (id >= ROUTE_UPDATE && id < ROUTE_UPDATE + _FAKE_UPDATE_MAX)
                return fake_update_handle((struct fake_ctx *) c,
                                          (enum fake_update_endpoint)(id - ROUTE_UPDATE));
        if (id >= ROUTE_SYNC_JOB_ACTION && id < ROUTE_SYNC_JOB_ACTION + _FAKE_SYNCJOB_MAX)
                return fake_syncjob_handle((struct fake_ctx *) c,
                                           (enum fake_syncjob_endpoint)(id - ROUTE_SYNC_JOB_ACTION));
        if (id >= ROUTE_SECRET && id < ROUTE_SECRET + _FAKE_SECRET_MAX)
                return fake_secret_handle((struct fake_ctx *) c,
                                          (enum fake_secret_endpoint)(id - ROUTE_SECRET));
        return -EINVAL;
}

/* Elasticsearch refuses bodies it cannot parse before any handler sees them. */
static int check_content_type(struct ctx *c) {
        const char *ct = c->req->content_type;
        _cleanup_free_ char *base = NULL, *m = NULL;
        int r;

        if (c->req->body_len == 0)
                return 0;
        if (!ct) {
                r = reply_simple(c, 406, "Content-Type header is missing");
                return r < 0 ? r : 1;
        }
        base = strndup(ct, strcspn(ct, ";"));
        if (!base)
                return -ENOMEM;
        for (char *p = base; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        /* Strip blanks around the type. */
        while (*base && isspace((unsigned char) base[strlen(base) - 1]))
                base[strlen(base) - 1] = 0;
        if (streq(base, "application/json") || streq(base, "application/vnd.elasticsearch+json"))
                return 0;
        m = strdup_printf("Content-Type header [%s] is not supported", ct);
        if (!m)
                return -ENOMEM;
        r = reply_simple(c, 406, m);
        return r < 0 ? r : 1;
}

static int route(struct ctx *c) {
        struct seg segs[MAX_SEGMENTS + 1];
        size_t n = split_path(c->raw_path, segs);
        enum method_bit method = _M_MAX;
        unsigned valid = 0;
        int r;

        for (int i = 0; i < _M_MAX; i++)
                if (streq(c->req->method, method_names[i]))
                        method = (enum method_bit) i;
        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                struct seg wild;
                const char *name;

                if (pattern_matches(patterns[i], segs, n, &wild, &name))
                        valid |= methods_of(c->api, patterns[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                struct seg wild;
                const char *name;
                unsigned here;

                if (!pattern_matches(patterns[i], segs, n, &wild, &name))
                        continue;
                here = methods_of(c->api, patterns[i]);
                if (name) {
                        _cleanup_free_ char *msg = NULL;

                        free(c->path_param);
                        c->path_param = NULL;
                        r = es_url_decode(wild.s, wild.n, false, &c->path_param, &msg);
                        if (r == -EINVAL)
                                /* An IllegalArgumentException while routing answers 405. */
                                return reply_405(c, valid, msg ? msg : "invalid escape sequence");
                        if (r < 0)
                                return r;
                        c->path_param_name = name;
                }
                if (method < _M_MAX && (here & (1u << method))) {
                        for (size_t k = 0; k < ELEMENTSOF(routes); k++)
                                if (streq(routes[k].pattern, patterns[i]) && routes[k].method == method) {
                                        char **slot = NULL;

                                        if (c->path_param_name && streq(c->path_param_name, "connector_id"))
                                                slot = &c->resp->connector_id;
                                        else if (c->path_param_name &&
                                                 streq(c->path_param_name, "connector_sync_job_id"))
                                                slot = &c->resp->sync_job_id;
                                        if (slot && c->path_param) {
                                                *slot = strdup(c->path_param);
                                                if (!*slot)
                                                        return -ENOMEM;
                                        }
                                        r = check_content_type(c);
                                        if (r != 0)
                                                return r < 0 ? r : 0;
                                        return dispatch(c, routes[k].id);
                                }
                }
                /* handleNoHandlerFound(): only when no pattern takes the method does it answer. */
                if (method < _M_MAX && (valid & (1u << method)))
                        continue;
                if (method == M_OPTIONS) {
                        _cleanup_free_ char *allow = methods_list(valid, ",");

                        c->resp->status = 200;
                        c->resp->content_type = strdup("text/plain; charset=UTF-8");
                        c->resp->body = strdup("");
                        if (!allow || !c->resp->content_type || !c->resp->body)
                                return -ENOMEM;
                        return valid ? fake_response_add_header(c->resp, "Allow", allow) : 0;
                }
                if (valid)
                        return reply_405(c, valid, NULL);
        }
        {
                _cleanup_free_ char *m = strdup_printf("no handler found for uri [%s] and method [%s]",
                                                       c->req->raw_target, c->req->method);

                return m ? reply_simple(c, 400, m) : -ENOMEM;
        }
}

/* ---- authentication ---- */

static const char *www_authenticate_basic(const struct fake_api *api) {
        /* 8.15 put the comma RFC 7617 asks for before the charset. */
        return fake_version_at_least(&api->config.version, 8, 15)
                       ? "Basic realm=\"security\", charset=\"UTF-8\""
                       : "Basic realm=\"security\" charset=\"UTF-8\"";
}

static int reply_401(struct ctx *c, const char *reason, const char *additional) {
        const char *basic = www_authenticate_basic(c->api);
        struct strbuf sb = {};
        _cleanup_free_ char *extra = NULL;
        int r;

        if (additional) {
                sb_puts(&sb, ",\"additional_unsuccessful_credentials\":");
                sb_json_cstr(&sb, additional);
        }
        sb_puts(&sb, ",\"header\":{\"WWW-Authenticate\":[");
        sb_json_cstr(&sb, basic);
        sb_puts(&sb, ",\"Bearer realm=\\\"security\\\"\",\"ApiKey\"]}");
        r = sb_steal(&sb, &extra);
        if (r < 0)
                return r;
        r = reply_error_extra(c, 401, "security_exception", reason, extra, NULL);
        if (r < 0)
                return r;
        if ((r = fake_response_add_header(c->resp, "WWW-Authenticate", basic)) < 0 ||
            (r = fake_response_add_header(c->resp, "WWW-Authenticate", "Bearer realm=\"security\"")) < 0 ||
            (r = fake_response_add_header(c->resp, "WWW-Authenticate", "ApiKey")) < 0)
                return r;
        return 1;
}

/* The user who owns the fake's API keys, and the role of its read-only user: Elasticsearch names
 * them in a 403. Chosen here; a real cluster names the key's creator and the user's roles. */
#define API_KEY_OWNER  "elastic"
#define READ_ONLY_ROLE "connector_reader"

/* Whether the encoded 'key' (base64 of id:secret) has the id 'decoded' starts with, up to its
 * colon at 'id_len'. */
static bool key_has_id(const char *key, const char *decoded, size_t id_len) {
        _cleanup_free_ char *known = NULL;
        size_t len;

        return key && base64_decode(key, strlen(key), &known, &len) == 0 &&
               strncmp(known, decoded, id_len + 1) == 0;
}

/* Returns 0 when authenticated, 1 after answering 401. A read-only credential sets
 * c->read_only_subject. */
static int authenticate(struct ctx *c) {
        const struct fake_api_config *cfg = &c->api->config;
        const char *h = c->req->authorization, *scheme = fake_auth_scheme(h), *cred;
        _cleanup_free_ char *m = NULL, *decoded = NULL;
        const char *unable =
                "unable to authenticate with provided credentials and anonymous access is not allowed "
                "for this request";
        int r;

        if (!cfg->api_key && !cfg->basic_user && !cfg->bearer && !cfg->api_key_read_only &&
            !cfg->basic_read_only_user)
                return 0;
        cred = h ? h + strcspn(h, " ") : NULL;
        while (cred && *cred == ' ')
                cred++;
        if (!h || !has_text(h) || streq(scheme, "other") || !cred || !*cred) {
                m = strdup_printf("missing authentication credentials for REST request [%s]",
                                  c->req->raw_target);
                return m ? reply_401(c, m, NULL) : -ENOMEM;
        }
        if (streq(scheme, "ApiKey")) {
                const char *colon;
                size_t len;

                if (cfg->api_key && streq(cred, cfg->api_key))
                        return 0;
                r = base64_decode(cred, strlen(cred), &decoded, &len);
                if (r == -ENOMEM)
                        return r;
                colon = r == 0 ? strchr(decoded, ':') : NULL;
                if (!colon || colon == decoded) {
                        return reply_401(c, unable, "API key: invalid ApiKey value");
                } else {
                        _cleanup_free_ char *id = strndup(decoded, (size_t) (colon - decoded));
                        size_t id_len = (size_t) (colon - decoded);

                        if (!id)
                                return -ENOMEM;
                        if (cfg->api_key_read_only && streq(cred, cfg->api_key_read_only)) {
                                /* AuthorizationDenialMessages: an API key has privileges, not roles. */
                                c->read_only_subject =
                                        strdup_printf("API key id [%s] of user [" API_KEY_OWNER "]", id);
                                return c->read_only_subject ? 0 : -ENOMEM;
                        }
                        if (key_has_id(cfg->api_key, decoded, id_len) ||
                            key_has_id(cfg->api_key_read_only, decoded, id_len))
                                m = strdup_printf("API key: invalid credentials for API key [%s]", id);
                        else
                                m = strdup_printf("API key: unable to find apikey with id %s", id);
                        return m ? reply_401(c, unable, m) : -ENOMEM;
                }
        }
        if (streq(scheme, "Basic")) {
                _cleanup_free_ char *user = NULL;
                const char *colon;
                size_t len;

                r = base64_decode(cred, strlen(cred), &decoded, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return reply_401(c, "invalid basic authentication header encoding", NULL);
                colon = memchr(decoded, ':', len);
                if (!colon)
                        return reply_401(c, "invalid basic authentication header value", NULL);
                user = strndup(decoded, (size_t) (colon - decoded));
                if (!user)
                        return -ENOMEM;
                if (cfg->basic_user && streq(user, cfg->basic_user) && cfg->basic_password &&
                    streq(colon + 1, cfg->basic_password))
                        return 0;
                if (cfg->basic_read_only_user && streq(user, cfg->basic_read_only_user) &&
                    cfg->basic_read_only_password && streq(colon + 1, cfg->basic_read_only_password)) {
                        c->read_only_subject =
                                strdup_printf("user [%s] with effective roles [" READ_ONLY_ROLE "]", user);
                        return c->read_only_subject ? 0 : -ENOMEM;
                }
                m = strdup_printf("unable to authenticate user [%s] for REST request [%s]", user,
                                  c->req->raw_target);
                return m ? reply_401(c, m, NULL) : -ENOMEM;
        }
        /* Bearer */
        if (cfg->bearer && streq(cred, cfg->bearer))
                return 0;
        return reply_401(c, unable, NULL);
}

/* ---- media types (ParsedMediaType, RestCompatibleVersionHelper) ---- */

struct media {
        bool present;
        char type[128];
        char params[256];    /* ";k=v;k2=v2", lowercased */
        int compatible_with; /* -1 when absent */
};

/* Returns 0, or -EINVAL for a malformed single media type. A media range ("a, b") or the match-all type is
 * treated as absent, as Elasticsearch does. */
static int parse_media(const char *h, struct media *ret) {
        _cleanup_free_ char *lower = NULL;
        char *save = NULL, *elem;
        bool first = true;

        *ret = (struct media){ .compatible_with = -1 };
        if (!h || strchr(h, ',') || streq(h, "*/*"))
                return 0;
        lower = strdup(h);
        if (!lower)
                return -ENOMEM;
        for (char *p = lower; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        for (elem = strtok_r(lower, ";", &save); elem; elem = strtok_r(NULL, ";", &save)) {
                char *s = elem, *e;

                while (isspace((unsigned char) *s))
                        s++;
                e = s + strlen(s);
                while (e > s && isspace((unsigned char) e[-1]))
                        *--e = 0;
                if (first) {
                        char *slash = strchr(s, '/');

                        if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') ||
                            strpbrk(s, " \t\"(),:<=>?@[]{}"))
                                return -EINVAL;
                        (void) snprintf(ret->type, sizeof(ret->type), "%s", s);
                        first = false;
                        continue;
                }
                if (!*s)
                        continue;
                {
                        char *eq = strchr(s, '=');

                        if (!eq || strchr(eq + 1, '=') || eq == s || isspace((unsigned char) eq[-1]) ||
                            !eq[1] || isspace((unsigned char) eq[1]))
                                return -EINVAL;
                        *eq = 0;
                        if (streq(s, "compatible-with")) {
                                char *endp;
                                long v = strtol(eq + 1, &endp, 10);

                                ret->compatible_with = (*endp || v < -128 || v > 127) ? -2 : (int) v;
                        }
                        (void) snprintf(ret->params + strlen(ret->params),
                                        sizeof(ret->params) - strlen(ret->params), ";%s=%s", s, eq + 1);
                }
        }
        ret->present = !first;
        return 0;
}

static int check_media(struct ctx *c, bool *ret_answered) {
        const struct fake_version *v = &c->api->config.version;
        struct media accept, ctype;
        int current = (int) v->major, minimum = (int) v->major - 1, av, cv;
        _cleanup_free_ char *m = NULL;
        bool has_content = c->req->body_len > 0;
        const char *which = NULL;
        int r;

        *ret_answered = false;
        r = parse_media(c->req->accept, &accept);
        if (r == -EINVAL)
                which = "Accept";
        else if (r == 0) {
                r = parse_media(c->req->content_type, &ctype);
                if (r == -EINVAL)
                        which = "Content-Type";
        }
        if (r == -ENOMEM)
                return r;
        if (which) {
                /* RestRequest.MediaTypeHeaderException, caused by ParsedMediaType's complaint. */
                const char *value = streq(which, "Accept") ? c->req->accept : c->req->content_type;
                _cleanup_free_ char *cause = NULL, *extra = NULL;
                struct strbuf sb = {};

                m = strdup_printf("Invalid media-type value on headers [%s]", which);
                cause = strdup_printf("invalid media-type [%s]", value);
                if (!m || !cause)
                        return -ENOMEM;
                sb_puts(&sb, ",\"caused_by\":{\"type\":\"illegal_argument_exception\",\"reason\":");
                sb_json_cstr(&sb, cause);
                sb_puts(&sb, "}");
                r = sb_steal(&sb, &extra);
                if (r < 0)
                        return r;
                *ret_answered = true;
                return reply_error_extra(c, 400, "media_type_header_exception", m, NULL, extra);
        }
        if (accept.present) {
                if (streq(accept.type, "application/vnd.elasticsearch+json"))
                        c->vnd = true;
                free(c->media_params);
                c->media_params = strdup(accept.params);
                if (!c->media_params)
                        return -ENOMEM;
        }
        av = accept.compatible_with == -1 ? current : accept.compatible_with;
        cv = ctype.compatible_with == -1 ? current : ctype.compatible_with;
        if (av > current || av < minimum)
                m = strdup_printf("Accept version must be either version %d or %d, but found %d. Accept=%s",
                                  current, minimum, av, c->req->accept);
        else if (has_content && (cv > current || cv < minimum))
                m = strdup_printf("Content-Type version must be either version %d or %d, but found %d. "
                                  "Content-Type=%s",
                                  current, minimum, cv, c->req->content_type);
        else if (has_content && cv != av)
                m = strdup_printf(
                        "A compatible version is required on both Content-Type and Accept headers if "
                        "either one "
                        "has requested a compatible version and the compatible versions must match. "
                        "Accept=%s, Content-Type=%s",
                        strna(c->req->accept), strna(c->req->content_type));
        else if (has_content && ((accept.compatible_with == -1) != (ctype.compatible_with == -1)))
                m = strdup_printf(
                        "A compatible version is required on both Content-Type and Accept headers if "
                        "either one "
                        "has requested a compatible version. Accept=%s, Content-Type=%s",
                        strna(c->req->accept), strna(c->req->content_type));
        else
                return 0;
        if (!m)
                return -ENOMEM;
        *ret_answered = true;
        {
                /* RestRequest wraps the version check's failure: the outer reason names both headers
                 * (a Java Set.of, whose order varies between JVM runs; this is one of the two). */
                _cleanup_free_ char *extra = NULL;
                struct strbuf sb = {};

                sb_puts(&sb, ",\"caused_by\":{\"type\":\"status_exception\",\"reason\":");
                sb_json_cstr(&sb, m);
                sb_puts(&sb, "}");
                r = sb_steal(&sb, &extra);
                if (r < 0)
                        return r;
                return reply_error_extra(c, 400, "media_type_header_exception",
                                         "Invalid media-type value on headers [Accept, Content-Type]", NULL,
                                         extra);
        }
}

/* ---- the whole request ---- */

static int query_json(struct ctx *c, char **ret) {
        struct strbuf sb = {};

        sb_puts(&sb, "{");
        for (size_t i = 0, k = 0; i < c->n_params; i++) {
                if (!c->params[i].value)
                        continue;
                if (k++)
                        sb_puts(&sb, ",");
                sb_json_cstr(&sb, c->params[i].key);
                sb_puts(&sb, ":");
                sb_json_cstr(&sb, c->params[i].value);
        }
        sb_puts(&sb, "}");
        return sb_steal(&sb, ret);
}

int fake_request_path(const char *raw_target, char **ret) {
        return es_url_decode(raw_target, strcspn(raw_target, "?#"), false, ret, NULL);
}

static int handle(struct ctx *c) {
        const char *q = strchr(c->req->raw_target, '?');
        _cleanup_free_ char *qerr = NULL;
        bool answered;
        bool b;
        int r;

        c->raw_path = strndup(c->req->raw_target, strcspn(c->req->raw_target, "?"));
        if (!c->raw_path)
                return -ENOMEM;
        r = es_url_decode(c->raw_path, strlen(c->raw_path), false, &c->path, NULL);
        if (r == -ENOMEM)
                return r;
        if (c->path && !(c->resp->path = strdup(c->path)))
                return -ENOMEM;
        c->resp->auth_scheme = fake_auth_scheme(c->req->authorization);

        r = decode_query(c, q ? q + 1 : "", &qerr);
        if (r == -ENOMEM)
                return r;
        if (r == 0 && (r = query_json(c, &c->resp->query_json)) < 0)
                return r;

        r = authenticate(c);
        if (r != 0)
                return r < 0 ? r : 0;
        if (qerr) {
                /* A malformed query string fails the request before any handler runs. */
                _cleanup_free_ char *extra = NULL,
                                    *m = strdup_printf("java.lang.IllegalArgumentException: %s", qerr);
                struct strbuf sb = {};

                if (!m)
                        return -ENOMEM;
                sb_puts(&sb, ",\"caused_by\":{\"type\":\"illegal_argument_exception\",\"reason\":");
                sb_json_cstr(&sb, qerr);
                sb_puts(&sb, "}");
                r = sb_steal(&sb, &extra);
                return r < 0 ? r : reply_error_extra(c, 400, "bad_parameter_exception", m, NULL, extra);
        }
        r = check_media(c, &answered);
        if (r < 0 || answered)
                return r;
        /* The channel reads these three for every request; error_trace comes next, on its own. */
        (void) param_str(c, "format");
        c->filter_path = param_str(c, "filter_path");
        if ((r = param_bool(c, "pretty", false, &c->pretty)) != 0 ||
            (r = param_bool(c, "human", false, &b)) != 0)
                return r < 0 ? r : 0;
        {
                const char *et = param_str(c, "error_trace");

                if (et && et[0] && has_text(et) && !streq(et, "true") && !streq(et, "false")) {
                        _cleanup_free_ char *m = strdup_printf(
                                "Failed to parse value [%s] as only [true] or [false] are allowed.", et);

                        return m ? reply_simple(c, 400, m) : -ENOMEM;
                }
        }
        if (c->oom)
                return c->oom;
        return route(c);
}

int fake_api_handle(struct fake_api *api, const struct fake_request *req, struct fake_response *ret) {
        struct fake_response resp = {};
        struct ctx c = { .api = api, .req = req, .resp = &resp };
        int r;

        r = handle(&c);
        ctx_done(&c);
        if (r < 0 || resp.status == 0) {
                fake_response_done(&resp);
                return r < 0 ? r : -EIO;
        }
        *ret = resp;
        return 0;
}

/* ---- ?pretty ---- */

static void pretty_value(struct strbuf *sb, const cJSON *v, int depth) {
        if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
                bool obj = cJSON_IsObject(v);
                const cJSON *it;
                bool first = true;

                if (!v->child) {
                        sb_puts(sb, obj ? "{ }" : "[ ]");
                        return;
                }
                sb_puts(sb, obj ? "{\n" : "[\n");
                cJSON_ArrayForEach(it, v) {
                        if (!first)
                                sb_puts(sb, ",\n");
                        first = false;
                        for (int i = 0; i < depth + 1; i++)
                                sb_puts(sb, "  ");
                        if (obj) {
                                sb_json_cstr(sb, it->string);
                                sb_puts(sb, " : ");
                        }
                        pretty_value(sb, it, depth + 1);
                }
                sb_puts(sb, "\n");
                for (int i = 0; i < depth; i++)
                        sb_puts(sb, "  ");
                sb_puts(sb, obj ? "}" : "]");
                return;
        }
        if (cJSON_IsString(v)) {
                sb_json_cstr(sb, v->valuestring);
                return;
        }
        {
                char *s = cJSON_PrintUnformatted(v);

                if (!s) {
                        sb->oom = true;
                        return;
                }
                sb_puts(sb, s);
                cJSON_free(s);
        }
}

int fake_json_pretty(const char *json, char **ret) {
        _cleanup_cjson_ cJSON *j = cJSON_Parse(json);
        struct strbuf sb = {};

        if (!j)
                return -EINVAL;
        pretty_value(&sb, j, 0);
        sb_puts(&sb, "\n");
        return sb_steal(&sb, ret);
}
