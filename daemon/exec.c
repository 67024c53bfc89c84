#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "backup.h"
#include "exec.h"
#include "log.h"
#include "messages.h"
#include "util.h"

struct exec_op {
        struct exec *exec;
        const struct plan_item *item; /* borrowed from the plan */
        char *backup_path;            /* once written; logged with the deletion */
};

struct exec {
        struct cluster *cluster;
        const struct plan *plan;
        char *backup_dir;
        char cycle_id[33];
        unsigned concurrency;

        struct exec_op *ops; /* one per PLAN_DELETE item, in plan order */
        size_t n_ops;
        size_t next;      /* the next op to start */
        size_t in_flight; /* ops started and not finished */
        bool finishing;   /* 'done' is being called: start nothing more */

        sd_event_source *defer; /* the first start_more(), from the loop */
        struct exec_result result;
        void (*done)(struct exec *e, const struct exec_result *r, void *userdata);
        void *userdata;
};

/* The journal fields every connector event carries. */
struct op_fields {
        struct log_field f[10];
        size_t n;
};

static void op_fields_init(struct op_fields *of, const struct exec_op *op) {
        const struct plan_item *it = op->item;
        const struct plan_connector *c = it->connector;

        *of = (struct op_fields) {};
        of->f[of->n++] = (struct log_field) { "CYCLE_ID", op->exec->cycle_id };
        of->f[of->n++] = (struct log_field) { "CONNECTOR_ID", it->id };
        if (c && c->service_type)
                of->f[of->n++] = (struct log_field) { "CONNECTOR_SERVICE_TYPE", c->service_type };
        if (c && c->index_name)
                of->f[of->n++] = (struct log_field) { "CONNECTOR_INDEX_NAME", c->index_name };
        of->f[of->n++] = (struct log_field) { "DELETE_SYNC_JOBS", it->delete_sync_jobs ? "true" : "false" };
        of->f[of->n++] = (struct log_field) { "HARD", it->hard ? "true" : "false" };
}

static void op_fields_add(struct op_fields *of, const char *key, const char *value) {
        assert(of->n < ELEMENTSOF(of->f));
        of->f[of->n++] = (struct log_field) { key, value };
}

static void start_more(struct exec *e);

static void op_finished(struct exec_op *op) {
        struct exec *e = op->exec;

        assert(e->in_flight > 0);
        e->in_flight--;
        start_more(e);
}

static void on_deleted(struct cluster *c, int error, enum cluster_delete_result result,
                       const struct cluster_error *err, void *userdata) {
        struct exec_op *op = userdata;
        const struct plan_item *it = op->item;
        struct op_fields of;
        char status[16];

        op_fields_init(&of, op);
        op_fields_add(&of, "BACKUP_PATH", op->backup_path);
        switch (result) {
        case CLUSTER_DELETED:
                op->exec->result.deleted++;
                log_event(LOG_NOTICE, 0, MESSAGE_CONNECTOR_DELETED, of.f, of.n,
                          "Deleted connector '%s'%s%s", it->id,
                          it->delete_sync_jobs ? " and its sync jobs" : "",
                          it->hard ? " (hard delete)" : "");
                break;
        case CLUSTER_ALREADY_GONE:
                op->exec->result.already_gone++;
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone when deleted", it->id);
                break;
        default:
                op->exec->result.failed++;
                (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
                if (err && err->status > 0)
                        op_fields_add(&of, "HTTP_STATUS", status);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n, "Failed to delete connector '%s': %s",
                          it->id, err && err->message ? err->message : strerror(-error));
        }
        op_finished(op);
}

static void on_document(struct cluster *c, int error, struct cluster_document *document,
                        const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *doc = document;
        _cleanup_free_ char *path = NULL;
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        const struct plan_item *it = op->item;
        struct op_fields of;
        char status[16];
        int r;

        op_fields_init(&of, op);

        if (error == -ENOENT) {
                e->result.already_gone++;
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone before its backup", it->id);
                return op_finished(op);
        }
        if (error < 0) {
                e->result.failed++;
                (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
                if (err && err->status > 0)
                        op_fields_add(&of, "HTTP_STATUS", status);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to read connector '%s' for its backup, not deleting it: %s", it->id,
                          err && err->message ? err->message : strerror(-error));
                return op_finished(op);
        }

        /* No backup, no delete. */
        r = backup_write(e->backup_dir, it->id, doc->body, doc->body_size, now_usec(CLOCK_REALTIME), &path);
        if (r < 0) {
                e->result.failed++;
                log_event(LOG_ERR, r, MESSAGE_BACKUP_FAILED, of.f, of.n,
                          "Failed to write the backup of connector '%s' to '%s', not deleting it: %m", it->id,
                          e->backup_dir);
                return op_finished(op);
        }
        op_fields_add(&of, "BACKUP_PATH", path);
        log_event(LOG_DEBUG, 0, NULL, of.f, of.n, "Backed up connector '%s' to '%s'", it->id, path);
        op->backup_path = TAKE_PTR(path);

        r = cluster_delete(e->cluster, it->id, it->delete_sync_jobs, it->hard, on_deleted, op);
        if (r < 0) {
                e->result.failed++;
                log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n, "Failed to start deleting connector '%s': %m",
                          it->id);
                return op_finished(op);
        }
}

static void finish(struct exec *e) {
        e->finishing = true;
        /* The last thing done with 'e': the callback may free it. */
        e->done(e, &e->result, e->userdata);
}

static void start_more(struct exec *e) {
        if (e->finishing)
                return;

        while (e->in_flight < e->concurrency && e->next < e->n_ops) {
                struct exec_op *op = &e->ops[e->next++];
                int r;

                e->in_flight++;
                r = cluster_get(e->cluster, op->item->id, on_document, op);
                if (r < 0) {
                        struct op_fields of;

                        e->in_flight--;
                        e->result.failed++;
                        op_fields_init(&of, op);
                        log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Failed to start reading connector '%s': %m", op->item->id);
                }
        }

        if (e->in_flight == 0 && e->next >= e->n_ops)
                finish(e);
}

static int on_defer_start(sd_event_source *s, void *userdata) {
        struct exec *e = userdata;

        e->defer = sd_event_source_unref(e->defer);
        start_more(e);
        return 0;
}

int exec_start(struct exec **ret, sd_event *event, struct cluster *cluster, const struct plan *plan,
               const struct exec_options *o,
               void (*done)(struct exec *e, const struct exec_result *r, void *userdata), void *userdata) {
        _cleanup_(exec_freep) struct exec *e = NULL;
        size_t n = 0;
        int r;

        assert(ret);
        assert(cluster);
        assert(plan);
        assert(!plan->blocked);
        assert(o && o->backup_dir && o->cycle_id);
        assert(done);

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->cluster = cluster;
        e->plan = plan;
        e->concurrency = MAX(o->concurrency, 1u);
        e->done = done;
        e->userdata = userdata;
        (void) snprintf(e->cycle_id, sizeof e->cycle_id, "%s", o->cycle_id);
        e->backup_dir = strdup(o->backup_dir);
        if (!e->backup_dir)
                return -ENOMEM;

        e->ops = calloc(MAX(plan->counts[PLAN_DELETE], (size_t) 1), sizeof *e->ops);
        if (!e->ops)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_items; i++)
                if (plan->items[i].kind == PLAN_DELETE)
                        e->ops[n++] = (struct exec_op) { .exec = e, .item = &plan->items[i] };
        e->n_ops = n;

        /* Start from the loop, so that 'done' never runs before we returned. */
        r = sd_event_add_defer(event, &e->defer, on_defer_start, e);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(e);
        return 0;
}

struct exec *exec_free(struct exec *e) {
        if (!e)
                return NULL;
        if (e->in_flight > 0)
                cluster_cancel(e->cluster);
        (void) sd_event_source_disable_unref(e->defer);
        for (size_t i = 0; i < e->n_ops; i++)
                free(e->ops[i].backup_path);
        free(e->ops);
        free(e->backup_dir);
        free(e);
        return NULL;
}
