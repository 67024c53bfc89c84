/* A connector's DELETE (DELETE /_connector/<id>, with the parameters the server's version takes),
 * the GET that a DELETE waits for before it is sent again, and a connector's sync jobs: their
 * listing (every page of GET /_connector/_sync_job), and on 8.12-8.13 their deletion once the
 * connector is gone. They run on the engine in cluster.c, through cluster-internal.h. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-internal.h"
#include "cluster.h"
#include "util.h"

const char *cluster_delete_result_to_string(enum cluster_delete_result r) {
        static const char *const table[_CLUSTER_DELETE_RESULT_MAX] = {
                [CLUSTER_DELETED] = "deleted",           [CLUSTER_DELETED_PARTLY] = "deleted_partly",
                [CLUSTER_ALREADY_GONE] = "already_gone", [CLUSTER_CHANGED] = "changed",
                [CLUSTER_DELETE_FAILED] = "failed",
        };

        return r >= 0 && r < _CLUSTER_DELETE_RESULT_MAX ? table[r] : NULL;
}

struct cluster_sync_jobs *cluster_sync_jobs_free(struct cluster_sync_jobs *j) {
        if (!j)
                return NULL;
        strv_free(j->ids);
        free(j->json);
        free(j);
        return NULL;
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

        if (!cluster_call_ok(call, resp))
                return;
        r = cluster_decode_sync_job_page(resp->body, resp->body_size, &page, &msg);
        if (r < 0)
                return cluster_call_fail_body(call, resp, r, msg);

        for (size_t i = 0; i < page.n_jobs; i++) {
                /* Only the jobs that say they are this connector's: a server or proxy that dropped
                 * the filter must not get another connector's jobs deleted. */
                if (!streq_ptr(page.jobs[i].connector_id, op->id)) {
                        j->n_foreign++;
                        continue;
                }
                r = sync_jobs_add(op, resp->body, &page.jobs[i]);
                if (r < 0) {
                        cluster_call_free(call);
                        return cluster_op_fail_message(op, r, NULL, NULL);
                }
        }
        cluster_call_free(call);

        if (page.count > c->max_result_window) {
                _cleanup_free_ char *id = cluster_escape_str(op->id), *m = NULL;

                if (id)
                        m = strdup_printf("Connector '%s' has %" PRIu64
                                          " sync jobs; the list API shows at most %" PRIu64
                                          " (index.max_result_window), so they cannot all be read",
                                          id, page.count, c->max_result_window);
                return cluster_op_fail_message(op, -EOVERFLOW, NULL, m);
        }

        op->sync_from += c->page_size;
        if (op->sync_from < page.count && op->sync_from < c->max_result_window) {
                r = sync_jobs_send(op);
                if (r < 0)
                        cluster_op_fail_message(op, r, NULL, "Failed to start the request");
                return;
        }

        if (j->n_ids == 0) {
                free(j->json);
                j->json = strdup("[]");
                if (!j->json)
                        return cluster_op_fail_message(op, -ENOMEM, NULL, NULL);
                j->json_size = 2;
        } else {
                j->json[j->json_size++] = ']';
                j->json[j->json_size] = '\0';
        }

        cb = op->callback;
        userdata = op->userdata;
        op->jobs = NULL;
        cluster_op_free(op);
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
        return cluster_call_start(c, op, "GET", path, NULL, sync_jobs_page_done, NULL);
}

int cluster_sync_jobs_begin(struct op *op) {
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

        cluster_op_free(op);
        cb.delete(c, error, result, err, userdata);
}

static void sync_delete_done(struct call *call, struct http_response *resp) {
        struct op *op = call->op;
        _cleanup_(cluster_error_done) struct cluster_error err = {};
        _cleanup_free_ char *msg = NULL;
        int r = 0;

        /* 404: gone already (e.g. deleted along with something else): fine. */
        if (!cluster_response_is_gone(resp)) {
                r = cluster_response_check(call, resp, &err);
                if (r >= 0) {
                        r = cluster_decode_acknowledged(resp->body, resp->body_size, &msg);
                        if (r < 0)
                                r = cluster_body_error(call, resp, r, msg, &err);
                }
        }
        if (r < 0 && op->sync_error == 0) {
                op->sync_error = r;
                op->sync_err = err;
                err = (struct cluster_error){};
        }
        cluster_call_free(call);

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
                r = path ? cluster_call_start(op->cluster, op, "DELETE", path, NULL, sync_delete_done, NULL)
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

/* Whether the answer to the connector's DELETE, or to the GET before it is sent again, is a 2xx
 * from Elasticsearch. When it is not, the call is freed and the op moves on: a 404 (the connector
 * is gone already) ends it as CLUSTER_ALREADY_GONE once its sync jobs are deleted, anything else
 * fails it (see cluster_call_ok()). */
static bool delete_answer_ok(struct call *call, const struct http_response *resp) {
        struct op *op = call->op;

        if (cluster_response_is_gone(resp)) {
                cluster_call_free(call);
                delete_connector_done(op, CLUSTER_ALREADY_GONE);
                return false;
        }
        return cluster_call_ok(call, resp);
}

static void delete_done(struct call *call, struct http_response *resp) {
        _cleanup_free_ char *msg = NULL;
        struct op *op = call->op;
        int r;

        if (!delete_answer_ok(call, resp))
                return;
        /* Done only when Elasticsearch says so. */
        r = cluster_decode_acknowledged(resp->body, resp->body_size, &msg);
        if (r < 0)
                return cluster_call_fail_body(call, resp, r, msg);
        cluster_call_free(call);
        delete_connector_done(op, CLUSTER_DELETED);
}

/* The GET before a DELETE is sent again: it goes out only to the document that was backed up. */
static void verify_done(struct call *call, struct http_response *resp) {
        struct op *op = call->op;
        struct call *del = op->delete_call;
        _cleanup_free_ char *id = NULL;

        assert(del);

        if (!delete_answer_ok(call, resp))
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
                cluster_call_free(call);
                return op_finish_delete(op, 0, CLUSTER_CHANGED, &err);
        }
        cluster_call_free(call);

        if (op->cluster->no_retry)
                return cluster_op_fail_message(op, -ECANCELED, del->request,
                                               "Not sent again: the cycle is stopping");
        cluster_call_resend(del);
}

void cluster_delete_verify(struct call *del) {
        struct op *op = del->op;
        _cleanup_free_ char *path = NULL;
        int r;

        r = cluster_connector_path(op->id, &path);
        if (r >= 0)
                r = cluster_call_start(op->cluster, op, "GET", path, NULL, verify_done, NULL);
        if (r < 0)
                cluster_op_fail_message(op, r, NULL, "Failed to read the connector again before its DELETE");
}

int cluster_delete_prepare(struct op *op, const struct cluster_delete_options *o) {
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
        if ((o->expected_body && !op->expected_body) || (o->n_sync_job_ids > 0 && !op->sync_ids))
                return -ENOMEM;
        return 0;
}

int cluster_delete_begin(struct op *op) {
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
        return cluster_call_start(op->cluster, op, "DELETE", op->delete_path, NULL, delete_done,
                                  &op->delete_call);
}
