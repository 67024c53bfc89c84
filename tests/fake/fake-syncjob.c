/* The connector sync job actions: see fake-syncjob.h.
 *
 * Sources (elastic/elasticsearch, x-pack/plugin/ent-search/.../application/connector/syncjob/):
 * the Rest*ConnectorSyncJob*Action handlers (which read a body, and how), the action classes'
 * Request parsers and validate() (CancelConnectorSyncJobAction, CheckInConnectorSyncJobAction,
 * ClaimConnectorSyncJobAction, UpdateConnectorSyncJobErrorAction,
 * UpdateConnectorSyncJobIngestionStatsAction, ConnectorSyncJobConstants), ConnectorSyncJobIndexService
 * (what each action writes, which ones read the job first), ConnectorSyncJobStateMachine and
 * ConnectorSyncJobInvalidStatusTransitionException, ConnectorSyncStatus, and the YAML REST tests
 * of the sync job APIs (40_connector_sync_job_cancel, 70_connector_sync_job_update_stats,
 * 90_connector_sync_job_claim). Two versions of ConnectorSyncJobIndexService could be read: the
 * first (8.12 development: cancel and error write without reading the job) and one from 8.15 on
 * (with claim; cancel and error read the job and check the transition). What the releases
 * between did is inferred from the pull requests that changed them, and the comments say so.
 *
 * Common to every action:
 * - The body, where there is one, is read by the action's strict ConstructingObjectParser (the
 *   update endpoints' parser, fake_update_read_body()); a body where none is read is refused.
 * - Then the request's validate(): an empty id is "[connector_sync_job_id] of the connector sync
 *   job cannot be null or empty.".
 * - A missing sync job is a 404 resource_not_found_exception. The actions that read the job first
 *   (getConnectorSyncJob()) name only the id once the sync job index exists, and "connector sync
 *   job [ID] not found" before (DelegatingIndexNotFoundOrDocumentMissingActionListener turns the
 *   IndexNotFoundException into it); the others send an UpdateRequest, whose
 *   DocumentMissingException that listener always turns into "connector sync job [ID] not found".
 * - The partial document is merged as an UpdateRequest merges it (fake_update_merge()), answered
 *   {"result": "updated"}, or "noop" when nothing changed. The documents are Map.of() (the JVM's
 *   order varies: declaration order here) or a HashMap (its order, fake_java_hash_order()).
 * - Timestamps set by the service are Instant.now(), written as "2024-05-01T12:00:00.000Z". */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fake-syncjob.h"
#include "fake-api-internal.h"
#include "fake-store.h"
#include "fake-update.h"
#include "fake-util.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

/* ConnectorSyncStatus, in declaration order, as toString() writes each. */
static const char *const sync_statuses[] = { "canceling",   "canceled", "completed", "error",
                                             "in_progress", "pending",  "suspended" };

/* ConnectorSyncJobStateMachine.VALID_TRANSITIONS. */
static const struct {
        const char *from;
        const char *to[4];
} transitions[] = {
        { "pending", { "in_progress", "canceled" } },
        { "in_progress", { "canceling", "completed", "suspended", "error" } },
        { "completed", {} },
        { "suspended", { "in_progress", "canceled" } },
        { "canceling", { "canceled", "error" } },
        { "canceled", {} },
        { "error", {} },
};

bool fake_syncjob_transition_valid(const char *from, const char *to) {
        for (size_t i = 0; i < ELEMENTSOF(transitions); i++) {
                if (!streq(transitions[i].from, from))
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(transitions[i].to) && transitions[i].to[k]; k++)
                        if (streq(transitions[i].to[k], to))
                                return true;
                return false;
        }
        return false;
}

/* One request to a sync job action. */
struct call {
        struct fake_ctx *c;
        enum fake_syncjob_endpoint endpoint;
        const struct fake_version *v;
        const char *id;
        cJSON *body; /* the parsed request body */
        struct strbuf invalid;
        unsigned n_invalid;
};

static bool at_least(const struct call *k, unsigned major, unsigned minor) {
        return fake_version_at_least(k->v, major, minor);
}

/* An answer sent: the handlers return 1 (or -ENOMEM) once they answered. */
static int answered(int r) {
        return r < 0 ? r : 1;
}

static int reply_error(struct call *k, int status, const char *type, const char *reason) {
        return answered(fake_ctx_reply_error(k->c, status, type, reason, NULL, NULL));
}

static void invalid(struct call *k, const char *fmt, ...) _printf_(2, 3);
static void invalid(struct call *k, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0) {
                k->invalid.oom = true;
                return;
        }
        sb_printf(&k->invalid, "%u: %s;", ++k->n_invalid, m);
}

/* ConnectorSyncJobConstants.EMPTY_CONNECTOR_SYNC_JOB_ID_ERROR_MESSAGE, checked first by every
 * request's validate(). */
static void validate_id(struct call *k) {
        if (!*k->id)
                invalid(k, "[connector_sync_job_id] of the connector sync job cannot be null or empty.");
}

/* The end of each action's name, after "xpack/connector/" (CancelConnectorSyncJobAction.NAME, ...). */
static const char *const action_names[_FAKE_SYNCJOB_MAX] = {
        [FAKE_SYNCJOB_CANCEL] = "sync_job/cancel",      [FAKE_SYNCJOB_CHECK_IN] = "sync_job/check_in",
        [FAKE_SYNCJOB_CLAIM] = "sync_job/claim",        [FAKE_SYNCJOB_ERROR] = "sync_job/update_error",
        [FAKE_SYNCJOB_STATS] = "sync_job/update_stats",
};

/* TransportAction.execute(): a request that fails validate() is answered before anything runs;
 * then the security filter authorizes the action. Every action passes here once, before it
 * reads or writes the store. */
static int check_invalid(struct call *k) {
        _cleanup_free_ char *list = NULL, *m = NULL;
        int r;

        if (k->n_invalid == 0 && !k->invalid.oom)
                return fake_ctx_authorize(k->c, action_names[k->endpoint]);
        r = sb_steal(&k->invalid, &list);
        if (r < 0)
                return r;
        m = strdup_printf("Validation Failed: %s", list);
        if (!m)
                return -ENOMEM;
        return reply_error(k, 400, "action_request_validation_exception", m);
}

/* The sync job to change, its stored _source as a new tree. 'read_first': the service reads it
 * with getConnectorSyncJob() first; otherwise the UpdateRequest finds no document. 1 after
 * answering the 404. */
static int load(struct call *k, bool read_first, cJSON **ret) {
        struct fake_store *store = fake_ctx_store(k->c);
        const struct fake_doc *d = fake_store_get_sync_job(store, k->id);
        _cleanup_free_ char *m = NULL;

        if (!d) {
                if (read_first && fake_store_sync_job_index_exists(store))
                        /* GetResponse.isExists() == false: new ResourceNotFoundException(id). */
                        return reply_error(k, 404, "resource_not_found_exception", k->id);
                m = strdup_printf("connector sync job [%s] not found", k->id);
                return m ? reply_error(k, 404, "resource_not_found_exception", m) : -ENOMEM;
        }
        *ret = cJSON_Parse(d->source);
        return *ret ? 0 : -ENOMEM;
}

/* getConnectorSyncJobStatusFromSearchResult(): ConnectorSyncStatus.connectorSyncStatus() of the
 * stored "status", whose IllegalArgumentException (a job stored with another status, or none)
 * is a 400. 1 after answering it. */
static int stored_status(struct call *k, const cJSON *source, const char **ret) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(source, "status");
        const char *text = cJSON_IsString(s) ? s->valuestring : NULL;
        _cleanup_free_ char *m = NULL;

        for (size_t i = 0; text && i < ELEMENTSOF(sync_statuses); i++)
                if (strcasecmp(text, sync_statuses[i]) == 0) {
                        *ret = sync_statuses[i];
                        return 0;
                }
        m = strdup_printf("Unknown SyncStatus: %s", text ? text : "null");
        return m ? reply_error(k, 400, "illegal_argument_exception", m) : -ENOMEM;
}

/* An ElasticsearchStatusException (400) caused by ConnectorSyncJobInvalidStatusTransitionException,
 * with its message. */
static int reply_invalid_transition(struct call *k, const char *from, const char *to) {
        _cleanup_free_ char *m = NULL, *cause = NULL;
        struct strbuf sb = {};
        int r;

        m = strdup_printf(
                "Invalid transition attempt from [%s] to [%s]. Such a ConnectorSyncStatus transition "
                "is not supported by the Connector Protocol.",
                from, to);
        if (!m)
                return -ENOMEM;
        sb_puts(&sb, ",\"caused_by\":{\"type\":\"connector_sync_job_invalid_status_transition_exception\","
                     "\"reason\":");
        sb_json_cstr(&sb, m);
        sb_puts(&sb, "}");
        if ((r = sb_steal(&sb, &cause)) < 0)
                return r;
        return answered(fake_ctx_reply_error(k->c, 400, "status_exception", m, NULL, cause));
}

/* An UpdateRequest with the partial document 'doc' (consumed): merged, written when it changed,
 * answered as ConnectorUpdateActionResponse. */
static int apply(struct call *k, cJSON *source, cJSON *doc) {
        _cleanup_free_ char *s = NULL;
        int r;

        if (!doc)
                return -ENOMEM;
        r = fake_update_merge(source, doc);
        cJSON_Delete(doc);
        if (r < 0)
                return r;
        if (r > 0) {
                s = cJSON_PrintUnformatted(source);
                if (!s)
                        return -ENOMEM;
                r = fake_store_put_sync_job(fake_ctx_store(k->c), k->id, s);
                if (r < 0)
                        return r;
                return answered(fake_ctx_reply(k->c, 200, strdup("{\"result\":\"updated\"}")));
        }
        return answered(fake_ctx_reply(k->c, 200, strdup("{\"result\":\"noop\"}")));
}

/* Adds a member to a new document; false when out of memory ('v' is taken either way). */
static bool put(cJSON *doc, const char *key, cJSON *v) {
        if (!v)
                return false;
        if (!cJSON_AddItemToObject(doc, key, v)) {
                cJSON_Delete(v);
                return false;
        }
        return true;
}

static bool put_now(cJSON *doc, const char *key) {
        char now[40];

        iso8601_now(now, sizeof(now));
        return put(doc, key, cJSON_CreateString(now));
}

/* A copy of a member of the parsed body, or NULL (absent or null). */
static cJSON *body_copy(const struct call *k, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(k->body, key);

        return v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, true) : NULL;
}

/* Orders a HashMap's members, or frees the document when out of memory. */
static cJSON *hash_ordered(cJSON *doc) {
        if (doc && fake_java_hash_order_object(doc) < 0) {
                cJSON_Delete(doc);
                return NULL;
        }
        return doc;
}

/* ---- the actions ---- */

/* The handlers of _cancel and _check_in read no body: a body is refused. */
static int no_body(struct call *k) {
        return fake_ctx_finish_params(k->c, false);
}

/* 8.12 wrote status canceling and cancelation_requested_at without reading the job; from 8.13
 * (elastic/elasticsearch#105722, merged in February 2024 before the 8.13 branch was cut) the
 * service reads it: a pending or suspended job becomes canceled at once (with
 * cancelation_requested_at, canceled_at and completed_at all now), any other must be allowed to
 * become canceling (in_progress only), else a 400. */
static int cancel(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const char *prev = NULL, *next;
        cJSON *doc;
        int r;

        if ((r = no_body(k)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0)
                return r;
        if (!at_least(k, 8, 13)) {
                if ((r = load(k, false, &source)) != 0)
                        return r;
                doc = cJSON_CreateObject();
                if (!doc || !put(doc, "status", cJSON_CreateString("canceling")) ||
                    !put_now(doc, "cancelation_requested_at")) {
                        cJSON_Delete(doc);
                        return -ENOMEM;
                }
                return apply(k, source, doc);
        }
        if ((r = load(k, true, &source)) != 0 || (r = stored_status(k, source, &prev)) != 0)
                return r;
        next = streq(prev, "pending") || streq(prev, "suspended") ? "canceled" : "canceling";
        if (!fake_syncjob_transition_valid(prev, next))
                return reply_invalid_transition(k, prev, next);
        doc = cJSON_CreateObject();
        if (!doc || !put(doc, "status", cJSON_CreateString(next)) ||
            !put_now(doc, "cancelation_requested_at")) {
                cJSON_Delete(doc);
                return -ENOMEM;
        }
        if (streq(next, "canceled")) {
                /* One Instant for the three timestamps. */
                const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "cancelation_requested_at");

                if (!put(doc, "canceled_at", cJSON_Duplicate(at, true)) ||
                    !put(doc, "completed_at", cJSON_Duplicate(at, true))) {
                        cJSON_Delete(doc);
                        return -ENOMEM;
                }
        }
        return apply(k, source, doc);
}

/* last_seen now, whatever the status. */
static int check_in(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        cJSON *doc;
        int r;

        if ((r = no_body(k)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        doc = cJSON_CreateObject();
        if (!doc || !put_now(doc, "last_seen")) {
                cJSON_Delete(doc);
                return -ENOMEM;
        }
        return apply(k, source, doc);
}

/* 8.15 on (elastic/elasticsearch#109480). The service reads the job first but does not look at
 * its status: any job is claimed, as both versions of the service that could be read do (and
 * ConnectorSyncJobIndexServiceTests has no case refusing one). A HashMap of worker_hostname,
 * status in_progress, last_seen and started_at now, and connector.sync_cursor when given
 * (merged into the stored connector object). */
static int claim(struct call *k) {
        static const struct fake_body_field fields[] = {
                { "worker_hostname", FAKE_BODY_STRING, true },
                { "sync_cursor", FAKE_BODY_MAP, false },
        };
        _cleanup_cjson_ cJSON *source = NULL;
        cJSON *doc, *cursor;
        int r;

        if ((r = fake_update_read_body(k->c, "claim_connector_sync_job", fields, ELEMENTSOF(fields),
                                       &k->body)) != 0)
                return r;
        /* validate() also refuses a null worker_hostname, which the parser never lets through. */
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, true, &source)) != 0)
                return r;
        doc = cJSON_CreateObject();
        if (!doc || !put(doc, "worker_hostname", body_copy(k, "worker_hostname")) ||
            !put(doc, "status", cJSON_CreateString("in_progress")) || !put_now(doc, "last_seen") ||
            !put_now(doc, "started_at")) {
                cJSON_Delete(doc);
                return -ENOMEM;
        }
        cursor = body_copy(k, "sync_cursor");
        if (cursor) {
                cJSON *conn = cJSON_CreateObject();

                if (!conn || !put(conn, "sync_cursor", cursor)) {
                        if (!conn)
                                cJSON_Delete(cursor);
                        cJSON_Delete(conn);
                        cJSON_Delete(doc);
                        return -ENOMEM;
                }
                if (!put(doc, "connector", conn)) {
                        cJSON_Delete(doc);
                        return -ENOMEM;
                }
        }
        return apply(k, source, hash_ordered(doc));
}

/* The error and status error. 8.12 wrote them without reading the job; from 8.13
 * (elastic/elasticsearch#105722, as for _cancel) the service reads it and refuses a job that may
 * not become error (only in_progress and canceling may). The handler reads the body from
 * RestRequest.content(); what it answered without a body could not be read: the fake answers as
 * contentParser() does. */
static int set_error(struct call *k) {
        static const struct fake_body_field fields[] = {
                { "error", FAKE_BODY_STRING, true },
        };
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *e;
        const char *prev = NULL;
        cJSON *doc;
        int r;

        if ((r = fake_update_read_body(k->c, "connector_sync_job_error_request", fields, ELEMENTSOF(fields),
                                       &k->body)) != 0)
                return r;
        e = cJSON_GetObjectItemCaseSensitive(k->body, "error");
        validate_id(k);
        if (!cJSON_IsString(e) || !*e->valuestring)
                invalid(k, "[error] of the connector sync job cannot be null or empty");
        if ((r = check_invalid(k)) != 0 || (r = load(k, at_least(k, 8, 13), &source)) != 0)
                return r;
        if (at_least(k, 8, 13)) {
                if ((r = stored_status(k, source, &prev)) != 0)
                        return r;
                if (!fake_syncjob_transition_valid(prev, "error"))
                        return reply_invalid_transition(k, prev, "error");
        }
        doc = cJSON_CreateObject();
        if (!doc || !put(doc, "error", cJSON_CreateString(e->valuestring)) ||
            !put(doc, "status", cJSON_CreateString("error"))) {
                cJSON_Delete(doc);
                return -ENOMEM;
        }
        return apply(k, source, doc);
}

/* The ingestion stats: a HashMap (created from a Map.of() of the three counts: capacity 8, which
 * orders these keys as the default 16 does) of the counts, total_document_count when given,
 * last_seen (given, or now) and, 8.15 on (elastic/elasticsearch#109927), metadata when given.
 * 8.12 read last_seen with Instant.parse(), later versions with ConnectorUtils.parseInstant();
 * the fake reads it the later way in every version (Instant.parse()'s stricter syntax and its
 * JDK wording are not modelled). */
static int stats(struct call *k) {
        static const struct fake_body_field fields[] = {
                { "deleted_document_count", FAKE_BODY_LONG, true },
                { "indexed_document_count", FAKE_BODY_LONG, true },
                { "indexed_document_volume", FAKE_BODY_LONG, true },
                { "total_document_count", FAKE_BODY_LONG, false },
                { "last_seen", FAKE_BODY_INSTANT, false },
                { "metadata", FAKE_BODY_MAP, false },
        };
        static const char *const counts[] = { "deleted_document_count", "indexed_document_count",
                                              "indexed_document_volume", "total_document_count" };
        _cleanup_cjson_ cJSON *source = NULL, *doc = NULL;
        cJSON *v;
        int r;

        if ((r = fake_update_read_body(k->c, "connector_sync_job_update_ingestion_stats", fields,
                                       ELEMENTSOF(fields) - (at_least(k, 8, 15) ? 0 : 1), &k->body)) != 0)
                return r;
        validate_id(k);
        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(k->body, counts[i]);

                if (cJSON_IsNumber(n) && n->valuedouble < 0)
                        invalid(k, "[%s] cannot be negative.", counts[i]);
        }
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        doc = cJSON_CreateObject();
        if (!doc)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                if ((v = body_copy(k, counts[i])) && !put(doc, counts[i], v))
                        return -ENOMEM;
        v = body_copy(k, "last_seen");
        if (!(v ? put(doc, "last_seen", v) : put_now(doc, "last_seen")))
                return -ENOMEM;
        if ((v = body_copy(k, "metadata")) && !put(doc, "metadata", v))
                return -ENOMEM;
        return apply(k, source, hash_ordered(TAKE_PTR(doc)));
}

int fake_syncjob_handle(struct fake_ctx *c, enum fake_syncjob_endpoint endpoint) {
        static int (*const handlers[_FAKE_SYNCJOB_MAX])(struct call * k) = {
                [FAKE_SYNCJOB_CANCEL] = cancel, [FAKE_SYNCJOB_CHECK_IN] = check_in,
                [FAKE_SYNCJOB_CLAIM] = claim,   [FAKE_SYNCJOB_ERROR] = set_error,
                [FAKE_SYNCJOB_STATS] = stats,
        };
        struct call k = {
                .c = c,
                .endpoint = endpoint,
                .v = fake_ctx_version(c),
                .id = fake_ctx_path_param(c),
        };
        int r;

        /* RestRequest.param("connector_sync_job_id"), read before the body. */
        (void) fake_ctx_param(c, "connector_sync_job_id");
        r = handlers[endpoint](&k);
        if (k.body)
                cJSON_Delete(k.body);
        sb_done(&k.invalid);
        return r < 0 ? r : 0;
}
