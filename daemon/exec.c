#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-event.h>
#include <unistd.h>

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

        sd_event_source *defer; /* the first start_more(), from the loop */

        /* The batch of backups being written, by the writer thread. The loop fills 'items' and
         * 'batch' before handing them over under 'lock' and reads the results after the writer
         * said it is done ('event_fd'), under 'lock' again; meanwhile only the writer touches
         * them. */
        struct backup_item items[EXEC_BATCH_MAX];
        struct exec_op *batch[EXEC_BATCH_MAX];
        size_t n_batch;
        usec_t batch_realtime_usec;
        bool writing; /* a batch is with the writer (the loop's view) */

        pthread_t writer;
        bool writer_started;
        bool writer_failed; /* could not be started: backups are written on the loop's thread */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool job;  /* under 'lock': a batch waits to be written, or is being written */
        bool quit; /* under 'lock': the writer is to end once no batch waits */
        int event_fd;
        sd_event_source *event_source; /* the writer wrote a batch */
        sd_event *event;

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

/* Moves up to EXEC_BATCH_MAX waiting documents into the batch. */
static void batch_fill(struct exec *e) {
        e->n_batch = 0;
        while (e->n_batch < EXEC_BATCH_MAX && e->backups.head) {
                struct exec_op *op = queue_pop(&e->backups);

                e->batch[e->n_batch] = op;
                e->items[e->n_batch] = (struct backup_item) {
                        .id = op->item->id,
                        .body = op->doc->body,
                        .size = op->doc->body_size,
                };
                e->n_batch++;
        }
        e->batch_realtime_usec = now_usec(CLOCK_REALTIME);
}

/* The batch is written: logs each backup and queues the connectors whose backup is durable for
 * their DELETE. */
static void batch_done(struct exec *e) {
        for (size_t i = 0; i < e->n_batch; i++) {
                struct exec_op *op = e->batch[i];
                struct op_fields of;

                e->held_bytes -= op->doc->body_size;
                op->doc = cluster_document_free(op->doc);
                op_fields_init(&of, op);
                if (e->items[i].error < 0) {
                        e->held--;
                        e->result.failed++;
                        log_event(LOG_ERR, e->items[i].error, MESSAGE_BACKUP_FAILED, of.f, of.n,
                                  "Failed to write the backup of connector '%s' to '%s', not deleting it: %m",
                                  op->item->id, e->backup_dir);
                        continue;
                }
                op->backup_path = TAKE_PTR(e->items[i].path);
                op_fields_add(&of, "BACKUP_PATH", op->backup_path);
                log_event(LOG_DEBUG, 0, NULL, of.f, of.n, "Backed up connector '%s' to '%s'", op->item->id,
                          op->backup_path);
                queue_push(&e->ready, op);
        }
        e->n_batch = 0;
}

/* The writer thread: writes each batch handed over, then says so through event_fd. It touches
 * nothing but the batch's items and the fields under 'lock'; it logs nothing. */
static void *writer_main(void *userdata) {
        struct exec *e = userdata;
        const uint64_t one = 1;

        (void) pthread_mutex_lock(&e->lock);
        for (;;) {
                while (!e->job && !e->quit)
                        (void) pthread_cond_wait(&e->cond, &e->lock);
                if (!e->job)
                        break;

                /* A batch handed over is always written whole, also when asked to quit. */
                (void) pthread_mutex_unlock(&e->lock);
                (void) backup_write_batch(e->backup_dir, e->items, e->n_batch, e->batch_realtime_usec);
                (void) pthread_mutex_lock(&e->lock);
                e->job = false;
                while (write(e->event_fd, &one, sizeof one) < 0 && errno == EINTR)
                        ;
        }
        (void) pthread_mutex_unlock(&e->lock);
        return NULL;
}

static int on_batch_written(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct exec *e = userdata;
        uint64_t n;
        ssize_t k;
        bool job;

        k = read(e->event_fd, &n, sizeof n); /* resets the counter; EAGAIN when already read */
        (void) k;
        (void) pthread_mutex_lock(&e->lock);
        job = e->job;
        (void) pthread_mutex_unlock(&e->lock);
        if (job || !e->writing)
                return 0;

        e->writing = false;
        batch_done(e);
        start_more(e);
        return 0;
}

/* Starts the writer thread, with every signal blocked in it: they are the loop's. */
static int writer_start(struct exec *e) {
        sigset_t all, saved;
        int r;

        e->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (e->event_fd < 0)
                return negative_errno();
        r = sd_event_add_io(e->event, &e->event_source, e->event_fd, EPOLLIN, on_batch_written, e);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(e->event_source, "backup-writer");

        (void) sigfillset(&all);
        r = -pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r < 0)
                return r;
        r = -pthread_create(&e->writer, NULL, writer_main, e);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        e->writer_started = true;
        return 0;
}

/* Writes the next batch of backups: on the writer thread, so that the loop goes on with the
 * requests meanwhile (returns 1), or, when no thread could be started, here and now (returns 0,
 * the batch done). */
static int batch_start(struct exec *e) {
        struct op_fields of;
        int r;

        batch_fill(e);
        if (!e->writer_started && !e->writer_failed) {
                r = writer_start(e);
                if (r < 0) {
                        e->writer_failed = true;
                        op_fields_init(&of, e->batch[0]);
                        log_event(LOG_WARNING, r, NULL, of.f, of.n,
                                  "Failed to start the backup writer, writing backups on the loop's thread: %m");
                }
        }
        if (e->writer_failed) {
                (void) backup_write_batch(e->backup_dir, e->items, e->n_batch, e->batch_realtime_usec);
                batch_done(e);
                return 0;
        }

        e->writing = true;
        (void) pthread_mutex_lock(&e->lock);
        e->job = true;
        (void) pthread_cond_signal(&e->cond);
        (void) pthread_mutex_unlock(&e->lock);
        return 1;
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

/* A batch of backups is due, once the writer is free, when it is full, when the DELETEs ready to
 * go could no longer keep every slot busy, or when no document is on its way to join it. Until
 * then documents gather, so that one sync of the folder covers as many as the network brings in
 * the meantime. */
static bool batch_due(const struct exec *e) {
        if (e->writing || e->backups.n == 0)
                return false;
        return e->backups.n >= EXEC_BATCH_MAX || e->ready.n < e->concurrency || e->gets == 0 ||
               !may_read_more(e);
}

static void start_more(struct exec *e) {
        int r;

        if (e->finishing)
                return;

again:
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

        /* Written here and now (no writer thread): DELETEs may start. */
        if (batch_due(e) && batch_start(e) == 0)
                goto again;

        if (e->gets == 0 && e->deletes == 0 && !e->writing && e->backups.n == 0 && e->ready.n == 0 &&
            e->next >= e->n_ops)
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
        e->event_fd = -1;
        r = -pthread_mutex_init(&e->lock, NULL);
        if (r < 0) {
                free(TAKE_PTR(e));
                return r;
        }
        r = -pthread_cond_init(&e->cond, NULL);
        if (r < 0) {
                (void) pthread_mutex_destroy(&e->lock);
                free(TAKE_PTR(e));
                return r;
        }
        e->event = sd_event_ref(event);
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
        if (e->gets + e->deletes > 0)
                cluster_cancel(e->cluster);
        (void) sd_event_source_disable_unref(e->defer);

        /* The writer finishes the batch it has (a backup is written whole or not at all), then
         * ends; what it wrote stays, undeleted. */
        if (e->writer_started) {
                (void) pthread_mutex_lock(&e->lock);
                e->quit = true;
                (void) pthread_cond_signal(&e->cond);
                (void) pthread_mutex_unlock(&e->lock);
                (void) pthread_join(e->writer, NULL);
        }
        for (size_t i = 0; i < e->n_batch; i++)
                free(e->items[i].path);
        (void) sd_event_source_disable_unref(e->event_source);
        if (e->event_fd >= 0)
                (void) close(e->event_fd);
        (void) pthread_cond_destroy(&e->cond);
        (void) pthread_mutex_destroy(&e->lock);
        sd_event_unref(e->event);

        for (size_t i = 0; i < e->n_ops; i++) {
                cluster_document_free(e->ops[i].doc);
                free(e->ops[i].backup_path);
        }
        free(e->ops);
        free(e->backup_dir);
        free(e);
        return NULL;
}
