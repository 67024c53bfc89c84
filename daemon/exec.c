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

/* How many connectors may be between their GET and their DELETE at once (documents read and
 * waiting for their backup, backups written and waiting for a DELETE slot), and how many bytes
 * of documents may wait for their backup: this bounds memory whatever the plan's size. */
#define EXEC_HELD_MAX 64
#define EXEC_HELD_BYTES_MAX (16U * 1024U * 1024U)
/* The most backups written with one sync of the folder. */
#define EXEC_BATCH_MAX 32

struct exec_op {
        struct exec *exec;
        const struct plan_item *item;   /* borrowed from the plan */
        struct cluster_document *doc;   /* read, waiting for its backup */
        char *backup_path;              /* once written; logged with the deletion */
        struct exec_op *next;           /* in the backup or the delete queue */
};

/* A FIFO of operations, linked through exec_op.next. */
struct op_queue {
        struct exec_op *head, *tail;
        size_t n;
};

struct exec {
        struct cluster *cluster;
        const struct plan *plan;
        char *backup_dir;
        char cycle_id[33];
        unsigned concurrency;

        struct exec_op *ops; /* one per PLAN_DELETE item, in plan order */
        size_t n_ops;
        size_t next;         /* the next op to read */
        unsigned gets;       /* GETs in flight */
        unsigned deletes;    /* DELETEs in flight */
        size_t held;         /* ops read and not yet deleting: in 'backups' or 'ready' */
        size_t held_bytes;   /* the documents in 'backups' */
        struct op_queue backups; /* documents waiting for their backup */
        struct op_queue ready;   /* backed up, waiting for a DELETE slot */
        bool finishing;      /* 'done' is being called: start nothing more */

        sd_event_source *defer; /* start_more() from the loop: the first time, and after a batch */
        sd_event_source *flush; /* a batch of backups is due */
        struct exec_result result;
        void (*done)(struct exec *e, const struct exec_result *r, void *userdata);
        void *userdata;
};

static void queue_push(struct op_queue *q, struct exec_op *op) {
        op->next = NULL;
        if (q->tail)
                q->tail->next = op;
        else
                q->head = op;
        q->tail = op;
        q->n++;
}

static struct exec_op *queue_pop(struct op_queue *q) {
        struct exec_op *op = q->head;

        if (!op)
                return NULL;
        q->head = op->next;
        if (!q->head)
                q->tail = NULL;
        op->next = NULL;
        q->n--;
        return op;
}

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

static void on_deleted(struct cluster *c, int error, enum cluster_delete_result result,
                       const struct cluster_error *err, void *userdata) {
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        const struct plan_item *it = op->item;
        struct op_fields of;
        char status[16];

        assert(e->deletes > 0);
        e->deletes--;

        op_fields_init(&of, op);
        op_fields_add(&of, "BACKUP_PATH", op->backup_path);
        switch (result) {
        case CLUSTER_DELETED:
                e->result.deleted++;
                log_event(LOG_NOTICE, 0, MESSAGE_CONNECTOR_DELETED, of.f, of.n,
                          "Deleted connector '%s'%s%s", it->id,
                          it->delete_sync_jobs ? " and its sync jobs" : "",
                          it->hard ? " (hard delete)" : "");
                break;
        case CLUSTER_ALREADY_GONE:
                e->result.already_gone++;
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone when deleted", it->id);
                break;
        default:
                e->result.failed++;
                (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
                if (err && err->status > 0)
                        op_fields_add(&of, "HTTP_STATUS", status);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n, "Failed to delete connector '%s': %s",
                          it->id, err && err->message ? err->message : strerror(-error));
        }
        start_more(e);
}

static void on_document(struct cluster *c, int error, struct cluster_document *document,
                        const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *doc = document;
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        const struct plan_item *it = op->item;
        struct op_fields of;
        char status[16];

        assert(e->gets > 0);
        e->gets--;

        if (error == -ENOENT) {
                e->result.already_gone++;
                op_fields_init(&of, op);
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone before its backup", it->id);
                return start_more(e);
        }
        if (error < 0) {
                e->result.failed++;
                op_fields_init(&of, op);
                (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
                if (err && err->status > 0)
                        op_fields_add(&of, "HTTP_STATUS", status);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to read connector '%s' for its backup, not deleting it: %s", it->id,
                          err && err->message ? err->message : strerror(-error));
                return start_more(e);
        }

        /* No backup, no delete: the document waits for the next batch of backups. */
        e->held++;
        e->held_bytes += doc->body_size;
        op->doc = TAKE_PTR(doc);
        queue_push(&e->backups, op);
        start_more(e);
}

/* Writes the waiting documents' backups, with one sync of the folder for all of them, and queues
 * the connectors whose backup is durable for their DELETE. */
static int on_flush(sd_event_source *s, void *userdata) {
        struct exec *e = userdata;
        struct backup_item items[EXEC_BATCH_MAX];
        struct exec_op *ops[EXEC_BATCH_MAX];
        size_t n = 0;

        (void) sd_event_source_set_enabled(e->flush, SD_EVENT_OFF);

        while (n < EXEC_BATCH_MAX && e->backups.head) {
                struct exec_op *op = queue_pop(&e->backups);

                ops[n] = op;
                items[n] = (struct backup_item) {
                        .id = op->item->id,
                        .body = op->doc->body,
                        .size = op->doc->body_size,
                };
                n++;
        }

        (void) backup_write_batch(e->backup_dir, items, n, now_usec(CLOCK_REALTIME));

        for (size_t i = 0; i < n; i++) {
                struct exec_op *op = ops[i];
                struct op_fields of;

                e->held_bytes -= op->doc->body_size;
                op->doc = cluster_document_free(op->doc);
                op_fields_init(&of, op);
                if (items[i].error < 0) {
                        e->held--;
                        e->result.failed++;
                        log_event(LOG_ERR, items[i].error, MESSAGE_BACKUP_FAILED, of.f, of.n,
                                  "Failed to write the backup of connector '%s' to '%s', not deleting it: %m",
                                  op->item->id, e->backup_dir);
                        continue;
                }
                op->backup_path = items[i].path;
                op_fields_add(&of, "BACKUP_PATH", op->backup_path);
                log_event(LOG_DEBUG, 0, NULL, of.f, of.n, "Backed up connector '%s' to '%s'", op->item->id,
                          op->backup_path);
                queue_push(&e->ready, op);
        }

        start_more(e);
        return 0;
}

static void finish(struct exec *e) {
        e->finishing = true;
        /* The last thing done with 'e': the callback may free it. */
        e->done(e, &e->result, e->userdata);
}

static bool may_read_more(const struct exec *e) {
        return e->next < e->n_ops && e->held + e->gets < EXEC_HELD_MAX &&
               e->held_bytes < EXEC_HELD_BYTES_MAX;
}

/* A batch of backups is due when it is full, when the DELETEs ready to go could no longer keep
 * every slot busy, or when no document is on its way to join it. Until then documents gather, so
 * that one sync of the folder covers as many as the network brings in the meantime. */
static bool batch_due(const struct exec *e) {
        if (e->backups.n == 0)
                return false;
        return e->backups.n >= EXEC_BATCH_MAX || e->ready.n < e->concurrency || e->gets == 0 ||
               !may_read_more(e);
}

static void start_more(struct exec *e) {
        int r;

        if (e->finishing)
                return;

        while (e->gets + e->deletes < e->concurrency) {
                struct exec_op *op;

                /* DELETEs first: they free what reading holds. */
                op = queue_pop(&e->ready);
                if (op) {
                        e->held--;
                        e->deletes++;
                        r = cluster_delete(e->cluster, op->item->id, op->item->delete_sync_jobs, op->item->hard,
                                           on_deleted, op);
                        if (r < 0) {
                                struct op_fields of;

                                e->deletes--;
                                e->result.failed++;
                                op_fields_init(&of, op);
                                op_fields_add(&of, "BACKUP_PATH", op->backup_path);
                                log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                                          "Failed to start deleting connector '%s': %m", op->item->id);
                        }
                        continue;
                }

                if (!may_read_more(e))
                        break;
                op = &e->ops[e->next++];
                e->gets++;
                r = cluster_get(e->cluster, op->item->id, on_document, op);
                if (r < 0) {
                        struct op_fields of;

                        e->gets--;
                        e->result.failed++;
                        op_fields_init(&of, op);
                        log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Failed to start reading connector '%s': %m", op->item->id);
                }
        }

        if (batch_due(e)) {
                r = sd_event_source_set_enabled(e->flush, SD_EVENT_ONESHOT);
                if (r < 0) /* cannot happen for a defer source we own; write the batch now */
                        (void) on_flush(e->flush, e);
                return;
        }

        if (e->gets == 0 && e->deletes == 0 && e->backups.n == 0 && e->ready.n == 0 && e->next >= e->n_ops)
                finish(e);
}

static int on_defer_start(sd_event_source *s, void *userdata) {
        struct exec *e = userdata;

        e->defer = sd_event_source_disable_unref(e->defer);
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

        /* The batch of backups runs after the network events of the same loop iteration were
         * dispatched, so that it takes every document they brought. */
        r = sd_event_add_defer(event, &e->flush, on_flush, e);
        if (r < 0)
                return r;
        (void) sd_event_source_set_priority(e->flush, SD_EVENT_PRIORITY_NORMAL + 10);
        r = sd_event_source_set_enabled(e->flush, SD_EVENT_OFF);
        if (r < 0)
                return r;

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
        if (e->gets + e->deletes > 0)
                cluster_cancel(e->cluster);
        (void) sd_event_source_disable_unref(e->defer);
        (void) sd_event_source_disable_unref(e->flush);
        for (size_t i = 0; i < e->n_ops; i++) {
                cluster_document_free(e->ops[i].doc);
                free(e->ops[i].backup_path);
        }
        free(e->ops);
        free(e->backup_dir);
        free(e);
        return NULL;
}
