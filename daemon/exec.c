#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "backup-writer.h"
#include "exec.h"
#include "log.h"
#include "messages.h"
#include "util.h"

/* How many connectors may be between their GET and their DELETE at once (documents read and
 * waiting for their backup, backups written and waiting for a DELETE slot), and how many bytes
 * of documents may wait: this bounds memory whatever the plan's size. */
#define EXEC_HELD_MAX       64
#define EXEC_HELD_BYTES_MAX (16U * 1024U * 1024U)
/* How often, at most, the 'may_delete' hook is asked while DELETEs go out. */
#define EXEC_GATE_INTERVAL_USEC USEC_PER_SEC
/* How long freeing the executor waits for the backup writer's batch. */
#define EXEC_WRITER_STOP_USEC (500 * USEC_PER_MSEC)

enum op_state {
        OP_QUEUED,  /* not started */
        OP_READING, /* its GET, then (8.12-8.13) its sync-job listing, in flight */
        OP_BACKUP,  /* read, waiting for its backup (in 'backups' or with the writer) */
        OP_READY,   /* backed up, waiting for a DELETE slot (in 'ready') */
        OP_DELETING,
        OP_DONE,
};

struct exec_op {
        struct exec *exec;
        const struct plan_item *item; /* borrowed from the plan */
        enum op_state state;
        enum exec_outcome outcome;
        bool delete_sync_jobs, hard;  /* as decided again on the document */
        struct cluster_document *doc; /* read, until its DELETE is sent */
        struct cluster_sync_jobs *jobs;
        usec_t read_realtime_usec;
        char *backup_path;           /* once written; logged with the deletion */
        struct exec_op *prev, *next; /* in 'backups' or 'ready' */
};

struct op_list {
        struct exec_op *head, *tail;
        size_t n;
};

struct exec {
        sd_event *event;
        struct cluster *cluster;
        const struct plan *plan;
        char *backup_dir;
        char cycle_id[33];
        unsigned concurrency;
        const struct backup_record *record;
        struct exec_hooks hooks;
        bool jobs_by_client; /* 8.12-8.13: we list and delete the sync jobs ourselves */

        struct exec_op *ops; /* one per PLAN_DELETE item, in plan order */
        size_t n_ops;
        size_t next;            /* the next op to read */
        unsigned reading;       /* ops whose GET or sync-job listing is in flight */
        unsigned deleting;      /* DELETEs in flight */
        size_t held;            /* ops read and not yet deleting */
        size_t held_bytes;      /* their documents */
        struct op_list backups; /* read, waiting for their backup */
        struct op_list ready;   /* backed up, waiting for a DELETE slot */
        struct backup_writer *writer;

        usec_t gate_checked_usec; /* when may_delete last said yes (CLOCK_MONOTONIC); 0: never */
        usec_t progress_usec;     /* when progress was last reported, or the start (CLOCK_MONOTONIC) */
        bool halted;              /* may_delete said no */
        char *halt_reason;        /* why (NULL when out of memory) */
        bool stopping;            /* exec_stop() */
        bool abandon_writer;      /* exec_stop() with a deadline: the writer's batch is not awaited */
        sd_event_source *stop_timer;
        bool finishing;  /* 'done' is being called: start nothing more */
        bool submitting; /* in backup_writer_submit(), which may report the batch at once */

        sd_event_source *defer; /* the first start_more(), from the loop */

        struct exec_result result;
        void (*done)(struct exec *e, const struct exec_result *r, void *userdata);
        void *userdata;
};

static void list_push(struct op_list *l, struct exec_op *op) {
        LIST_APPEND(l->head, l->tail, op);
        l->n++;
}

static struct exec_op *list_pop(struct op_list *l) {
        struct exec_op *op = l->head;

        if (!op)
                return NULL;
        LIST_REMOVE(l->head, l->tail, op);
        l->n--;
        return op;
}

/* The journal fields every connector event carries. */
struct op_fields {
        struct log_field f[12];
        size_t n;
        char status[16];
};

static void op_fields_init(struct op_fields *of, const struct exec_op *op) {
        const struct plan_item *it = op->item;
        const struct plan_connector *c = op->doc ? &op->doc->connector : it->connector;

        *of = (struct op_fields){};
        of->f[of->n++] = (struct log_field){ "CYCLE_ID", op->exec->cycle_id };
        of->f[of->n++] = (struct log_field){ "CONNECTOR_ID", it->id };
        if (c && c->service_type)
                of->f[of->n++] = (struct log_field){ "CONNECTOR_SERVICE_TYPE", c->service_type };
        if (c && c->index_name)
                of->f[of->n++] = (struct log_field){ "CONNECTOR_INDEX_NAME", c->index_name };
        of->f[of->n++] = (struct log_field){ "DELETE_SYNC_JOBS", op->delete_sync_jobs ? "true" : "false" };
        of->f[of->n++] = (struct log_field){ "HARD", op->hard ? "true" : "false" };
        if (it->purge)
                of->f[of->n++] = (struct log_field){ "PURGE", "true" };
        if (op->backup_path)
                of->f[of->n++] = (struct log_field){ "BACKUP_PATH", op->backup_path };
        if (op->exec->record->manifests_revision)
                of->f[of->n++] = (struct log_field){ "REVISION", op->exec->record->manifests_revision };
}

static void op_fields_status(struct op_fields *of, const struct cluster_error *err) {
        if (!err || err->status <= 0)
                return;
        assert(of->n < ELEMENTSOF(of->f));
        (void) snprintf(of->status, sizeof of->status, "%d", err->status);
        of->f[of->n++] = (struct log_field){ "HTTP_STATUS", of->status };
}

static const char *error_text(int error, const struct cluster_error *err) {
        return err && err->message ? err->message : strerror(-error);
}

/* Ends an op with its outcome, counted: it holds nothing any more. */
static void op_end(struct exec_op *op, enum exec_outcome outcome) {
        struct exec *e = op->exec;
        size_t *counter[_EXEC_OUTCOME_MAX] = {
                [EXEC_DELETED] = &e->result.deleted,         [EXEC_ALREADY_GONE] = &e->result.already_gone,
                [EXEC_FAILED] = &e->result.failed,           [EXEC_CHANGED] = &e->result.changed,
                [EXEC_NOT_DELETED] = &e->result.not_deleted, [EXEC_UNKNOWN] = &e->result.unknown,
        };

        assert(outcome > EXEC_PENDING && outcome < _EXEC_OUTCOME_MAX);
        assert(op->outcome == EXEC_PENDING);
        op->outcome = outcome;
        (*counter[outcome])++;

        if (op->state == OP_BACKUP || op->state == OP_READY) {
                assert(e->held > 0);
                e->held--;
        }
        if (op->doc) {
                if (op->state == OP_BACKUP || op->state == OP_READY)
                        e->held_bytes -= op->doc->body_size;
                op->doc = cluster_document_free(op->doc);
        }
        op->jobs = cluster_sync_jobs_free(op->jobs);
        op->state = OP_DONE;
}

static void start_more(struct exec *e);

/* Whether the connector is certainly still there after its DELETE: the DELETE was not sent again
 * because the connector changed since its backup, or Elasticsearch refused it outright (a 4xx
 * other than 404, 408 and 429; a resend goes out only after a GET found the connector as backed
 * up, so an earlier attempt cannot have deleted it). No answer, a timeout or a 5xx leave the
 * outcome unknown. */
static bool delete_refused(enum cluster_delete_result result, const struct cluster_error *err) {
        if (result == CLUSTER_CHANGED)
                return true;
        if (result != CLUSTER_DELETE_FAILED || !err)
                return false;
        return err->status >= 400 && err->status < 500 && err->status != 404 && err->status != 408 &&
               err->status != 429;
}

/* The backup of a connector that was not deleted is no copy of anything gone: removed, so that a
 * DELETE refused every cycle does not leave a file per cycle. */
static void drop_backup(struct exec_op *op) {
        if (!op->backup_path)
                return;
        if (unlink(op->backup_path) < 0 && errno != ENOENT) {
                log_warning_errno(-errno,
                                  "Failed to remove the backup %s of connector '%s', which was not "
                                  "deleted: %m",
                                  op->backup_path, op->item->id);
                return;
        }
        log_info("Removed the backup %s: connector '%s' was not deleted", op->backup_path, op->item->id);
        free(op->backup_path);
        op->backup_path = NULL;
}

/* Whether Elasticsearch refused the request for the credential's privileges: a 403
 * security_exception (a proxy's 403 has another body). */
static bool forbidden(const struct cluster_error *err) {
        return err && err->status == 403 && streq_ptr(err->type, "security_exception");
}

static void on_deleted(struct cluster *c, int error, enum cluster_delete_result result,
                       const struct cluster_error *err, void *userdata) {
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        const char *id = op->item->id;
        enum exec_outcome outcome;
        struct op_fields of;

        assert(e->deleting > 0);
        e->deleting--;

        op_fields_init(&of, op);
        switch (result) {
        case CLUSTER_DELETED:
        case CLUSTER_DELETED_PARTLY:
                outcome = EXEC_DELETED;
                log_event(LOG_NOTICE, 0, MESSAGE_CONNECTOR_DELETED, of.f, of.n, "Deleted connector '%s'%s%s",
                          id, op->delete_sync_jobs ? " and its sync jobs" : "",
                          op->item->purge ? " for good (hard delete), soft-deleted by this program "
                                            "longer than prune.purge_after ago"
                          : op->hard      ? " (hard delete)"
                                          : "");
                if (result == CLUSTER_DELETED_PARTLY) {
                        e->result.jobs_failed++;
                        op_fields_status(&of, err);
                        log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Failed to delete every sync job of connector '%s' (all are in its "
                                  "backup): %s",
                                  id, error_text(error, err));
                }
                break;
        case CLUSTER_ALREADY_GONE:
                outcome = EXEC_ALREADY_GONE;
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone when deleted", id);
                break;
        case CLUSTER_CHANGED:
                outcome = EXEC_CHANGED;
                log_event(LOG_NOTICE, 0, MESSAGE_CONNECTOR_CHANGED, of.f, of.n, "%s",
                          err && err->message ? err->message
                                              : "Connector changed since its backup, not deleted");
                break;
        default:
                outcome = EXEC_FAILED;
                op_fields_status(&of, err);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to delete connector '%s': %s", id, error_text(error, err));
                if (forbidden(err) && !e->halted) {
                        /* Every other DELETE would be refused alike: one clear message instead. */
                        e->halted = true;
                        e->halt_reason = strdup(
                                "the cluster's credential may not delete connectors (403 "
                                "security_exception); give it the privilege Elasticsearch names above (see "
                                "connector-reconciler(8), PRIVILEGES) and the next cycle deletes them");
                        log_event(LOG_ERR, 0, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Stopping the deletions of this cycle: %s", strna(e->halt_reason));
                }
        }
        if (delete_refused(result, err))
                drop_backup(op);
        op_end(op, outcome);
        start_more(e);
}

/* The document is read (and its sync jobs, where we delete them): it waits for its backup. */
static void op_read_done(struct exec_op *op) {
        struct exec *e = op->exec;

        op->state = OP_BACKUP;
        e->held++;
        e->held_bytes += op->doc->body_size;
        list_push(&e->backups, op);
}

/* The op ends before its DELETE was sent: the connector is still there, so its backup, if one
 * was written, goes too (a DELETE in flight is not ended here). */
static void op_not_deleted(struct exec_op *op) {
        drop_backup(op);
        op_end(op, EXEC_NOT_DELETED);
}

static void on_sync_jobs(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                         const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_sync_jobs_freep) struct cluster_sync_jobs *j = jobs;
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        struct op_fields of;

        assert(e->reading > 0);
        e->reading--;

        if (e->stopping || e->halted) {
                op_not_deleted(op);
                return start_more(e);
        }
        op_fields_init(&of, op);
        if (error < 0 && !e->jobs_by_client) {
                /* 8.14+: the cluster deletes the jobs itself; the list is only their record. */
                op_fields_status(&of, err);
                log_event(LOG_WARNING, error, NULL, of.f, of.n,
                          "Failed to list the sync jobs of connector '%s' for its backup, deleting it "
                          "without them in its backup: %s",
                          op->item->id, error_text(error, err));
                op_read_done(op);
                return start_more(e);
        }
        if (error < 0) {
                op_fields_status(&of, err);
                log_event(
                        LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                        "Failed to list the sync jobs of connector '%s' for its backup, not deleting it: %s",
                        op->item->id, error_text(error, err));
                op_end(op, EXEC_FAILED);
                return start_more(e);
        }
        if (j->n_foreign > 0)
                log_event(LOG_WARNING, 0, NULL, of.f, of.n,
                          "Listing the sync jobs of connector '%s' returned %zu of other connectors: they "
                          "are left "
                          "alone",
                          op->item->id, j->n_foreign);
        op->jobs = TAKE_PTR(j);
        op_read_done(op);
        start_more(e);
}

static void on_document(struct cluster *c, int error, struct cluster_document *document,
                        const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *doc = document;
        _cleanup_free_ char *reason = NULL;
        struct exec_op *op = userdata;
        struct exec *e = op->exec;
        const struct plan_item *it = op->item;
        struct op_fields of;
        int r;

        assert(e->reading > 0);
        e->reading--;

        if (e->stopping || e->halted) {
                op_not_deleted(op);
                return start_more(e);
        }
        if (error == -ENOENT) {
                op_fields_init(&of, op);
                log_event(LOG_INFO, 0, MESSAGE_CONNECTOR_GONE, of.f, of.n,
                          "Connector '%s' was already gone before its backup", it->id);
                op_end(op, EXEC_ALREADY_GONE);
                return start_more(e);
        }
        if (error < 0) {
                op_fields_init(&of, op);
                op_fields_status(&of, err);
                log_event(LOG_ERR, error, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to read connector '%s' for its backup, not deleting it: %s", it->id,
                          error_text(error, err));
                op_end(op, EXEC_FAILED);
                return start_more(e);
        }

        op->doc = TAKE_PTR(doc);
        op->read_realtime_usec = now_usec(CLOCK_REALTIME);

        /* The plan was made from the listing, which may be minutes old: decide again on what the
         * connector is now. */
        r = e->hooks.recheck ? e->hooks.recheck(it, &op->doc->connector, &op->delete_sync_jobs, &op->hard,
                                                &reason, e->hooks.userdata)
                             : 1;
        op_fields_init(&of, op);
        if (r < 0) {
                log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to decide again about connector '%s', not deleting it: %m", it->id);
                op_end(op, EXEC_FAILED);
                return start_more(e);
        }
        if (r == 0) {
                log_event(LOG_NOTICE, 0, MESSAGE_CONNECTOR_CHANGED, of.f, of.n,
                          "Connector '%s' changed since the listing, not deleting it: %s", it->id,
                          strna(reason));
                op_end(op, EXEC_CHANGED);
                return start_more(e);
        }

        if (op->delete_sync_jobs) {
                /* Its jobs go into its backup first: on 8.12-8.13 we delete them after it, from
                 * 8.14 on the cluster does, and the backup is all that is left of them. */
                r = cluster_list_sync_jobs(e->cluster, it->id, on_sync_jobs, op);
                if (r < 0) {
                        log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Failed to start listing the sync jobs of connector '%s': %m", it->id);
                        op_end(op, EXEC_FAILED);
                        return start_more(e);
                }
                e->reading++;
                return;
        }

        op_read_done(op);
        start_more(e);
}

/* The writer wrote a batch: each connector whose backup is durable may be deleted. */
static void on_batch_written(struct backup_writer *w, struct backup_writer_item *items, size_t n,
                             void *userdata) {
        struct exec *e = userdata;

        /* Stopped without waiting for this batch: its connectors were counted as not deleted. */
        if (e->finishing)
                return;

        for (size_t i = 0; i < n; i++) {
                struct exec_op *op = items[i].userdata;
                struct op_fields of;

                if (items[i].error < 0) {
                        op_fields_init(&of, op);
                        log_event(
                                LOG_ERR, items[i].error, MESSAGE_BACKUP_FAILED, of.f, of.n,
                                "Failed to write the backup of connector '%s' to '%s', not deleting it: %m",
                                op->item->id, e->backup_dir);
                        op_end(op, EXEC_FAILED);
                        continue;
                }
                op->backup_path = TAKE_PTR(items[i].path);
                if (e->stopping || e->halted) {
                        op_not_deleted(op);
                        continue;
                }
                op_fields_init(&of, op);
                log_event(LOG_DEBUG, 0, NULL, of.f, of.n, "Backed up connector '%s' to '%s'", op->item->id,
                          op->backup_path);
                op->state = OP_READY;
                list_push(&e->ready, op);
        }
        /* Reported from inside batch_start() (no writer thread), whose caller goes on by itself. */
        if (!e->submitting)
                start_more(e);
}

/* Hands the waiting documents, up to a batch, to the writer. Returns 1 when the writer's thread
 * took them, 0 when they were written here and now (the batch is done). */
static int batch_start(struct exec *e) {
        struct backup_writer_item items[BACKUP_WRITER_BATCH_MAX] = {};
        size_t n = 0;
        int thread_error = 0, r;

        while (n < BACKUP_WRITER_BATCH_MAX && e->backups.head) {
                struct exec_op *op = list_pop(&e->backups);
                struct backup_record rec = *e->record;
                struct op_fields of;

                rec.connector_id = op->item->id;
                rec.read_realtime_usec = op->read_realtime_usec;
                rec.delete_sync_jobs = op->delete_sync_jobs;
                rec.hard = op->hard;
                rec.document = op->doc->body;
                rec.document_size = op->doc->body_size;
                rec.sync_jobs = op->jobs ? op->jobs->json : NULL;
                rec.sync_jobs_size = op->jobs ? op->jobs->json_size : 0;

                items[n] = (struct backup_writer_item){ .userdata = op, .id = strdup(op->item->id) };
                r = items[n].id ? backup_format(&rec, &items[n].body, &items[n].size) : -ENOMEM;
                if (r < 0) {
                        free(items[n].id);
                        op_fields_init(&of, op);
                        log_event(LOG_ERR, r, MESSAGE_BACKUP_FAILED, of.f, of.n,
                                  "Failed to write the backup of connector '%s', not deleting it: %m",
                                  op->item->id);
                        op_end(op, EXEC_FAILED);
                        continue;
                }
                n++;
        }
        if (n == 0)
                return 0;

        e->submitting = true;
        r = backup_writer_submit(e->writer, items, n, now_usec(CLOCK_REALTIME), &thread_error);
        e->submitting = false;
        if (thread_error < 0)
                log_event(LOG_WARNING, thread_error, NULL, NULL, 0,
                          "Failed to start the backup writer, writing backups on the loop's thread: %m");
        assert(r >= 0);
        return r;
}

static void finish(struct exec *e) {
        e->finishing = true;
        e->result.halted = e->halted ? e->halt_reason ?: "halted" : NULL;
        assert(e->result.deleted + e->result.already_gone + e->result.failed + e->result.changed +
                       e->result.not_deleted + e->result.unknown ==
               e->n_ops);
        /* The last thing done with 'e': the callback may free it. */
        e->done(e, &e->result, e->userdata);
}

/* Whether DELETEs may still go out: asks the hook before the first and then at most once per
 * EXEC_GATE_INTERVAL_USEC. Once it said no, the executor halts. */
static bool gate_open(struct exec *e) {
        _cleanup_free_ char *reason = NULL;
        usec_t now;
        int r;

        if (e->halted)
                return false;
        if (!e->hooks.may_delete)
                return true;
        now = now_usec(CLOCK_MONOTONIC);
        if (e->gate_checked_usec > 0 && now < e->gate_checked_usec + EXEC_GATE_INTERVAL_USEC)
                return true;

        r = e->hooks.may_delete(&reason, e->hooks.userdata);
        if (r > 0) {
                e->gate_checked_usec = now;
                return true;
        }
        e->halted = true;
        e->halt_reason = r < 0 ? strdup_printf("failed to check: %s", strerror(-r)) : TAKE_PTR(reason);
        return false;
}

static bool may_read_more(const struct exec *e) {
        return !e->halted && e->next < e->n_ops && e->held + e->reading < EXEC_HELD_MAX &&
               e->held_bytes < EXEC_HELD_BYTES_MAX;
}

/* A batch of backups is due, once the writer is free, when it is full, when the DELETEs ready to
 * go could no longer keep every slot busy, or when no document is on its way to join it. Until
 * then documents gather, so that one sync of the folder covers as many as the network brings in
 * the meantime. */
static bool batch_due(const struct exec *e) {
        if (backup_writer_busy(e->writer) || e->backups.n == 0)
                return false;
        return e->backups.n >= BACKUP_WRITER_BATCH_MAX || e->ready.n < e->concurrency || e->reading == 0 ||
               !may_read_more(e);
}

/* Ends every op that has not reached its DELETE and is not in flight: they are not deleted. */
static void drop_waiting(struct exec *e) {
        struct exec_op *op;

        while ((op = list_pop(&e->backups)))
                op_not_deleted(op);
        while ((op = list_pop(&e->ready)))
                op_not_deleted(op);
        for (; e->next < e->n_ops; e->next++)
                op_not_deleted(&e->ops[e->next]);
}

/* may_delete said no: nothing more starts, and what waits is not deleted. */
static void halt(struct exec *e) {
        struct log_field f[] = { { "CYCLE_ID", e->cycle_id } };

        log_event(LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED, f, ELEMENTSOF(f),
                  "Stopping the deletions of this cycle: %s", strna(e->halt_reason));
        drop_waiting(e);
}

static void start_delete(struct exec *e, struct exec_op *op) {
        struct cluster_delete_options o = {
                .delete_sync_jobs = op->delete_sync_jobs,
                .hard = op->hard,
                .expected_body = op->doc->body,
                .expected_size = op->doc->body_size,
                .sync_job_ids = op->jobs && e->jobs_by_client ? (const char *const *) op->jobs->ids : NULL,
                .n_sync_job_ids = op->jobs && e->jobs_by_client ? op->jobs->n_ids : 0,
        };
        struct op_fields of;
        int r;

        r = cluster_delete(e->cluster, op->item->id, &o, on_deleted, op);
        if (r < 0) {
                op_fields_init(&of, op);
                log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                          "Failed to start deleting connector '%s': %m", op->item->id);
                op_end(op, EXEC_FAILED);
                return;
        }
        /* The cluster keeps what it needs of the document: it frees what reading holds. */
        e->held--;
        e->held_bytes -= op->doc->body_size;
        op->doc = cluster_document_free(op->doc);
        op->jobs = cluster_sync_jobs_free(op->jobs);
        op->state = OP_DELETING;
        e->deleting++;
}

/* How many ops have ended, whatever their outcome. */
static size_t ops_ended(const struct exec *e) {
        const struct exec_result *r = &e->result;

        return r->deleted + r->already_gone + r->failed + r->changed + r->not_deleted + r->unknown;
}

/* Reports the progress of a long run when it is due: looked at on each event, so it costs a
 * clock read per event and no timer; a run that waits longer than the interval for an answer
 * reports with the answer. */
static void report_progress(struct exec *e) {
        size_t done;
        usec_t now;

        if (!e->hooks.progress || e->n_ops <= EXEC_PROGRESS_MIN)
                return;
        now = now_usec(CLOCK_MONOTONIC);
        if (now < usec_add(e->progress_usec, EXEC_PROGRESS_INTERVAL_USEC))
                return;
        done = ops_ended(e);
        if (done >= e->n_ops)
                return; /* the end says it all */
        e->progress_usec = now;
        e->hooks.progress(done, e->n_ops, e->hooks.userdata);
}

static void start_more(struct exec *e) {
        int r;

        if (e->finishing)
                return;
        report_progress(e);
        if (e->stopping || e->halted)
                drop_waiting(e);

again:
        while (!e->stopping && e->reading + e->deleting < e->concurrency) {
                struct exec_op *op;

                /* DELETEs first: they free what reading holds. */
                if (e->ready.head) {
                        if (!gate_open(e)) {
                                halt(e);
                                break;
                        }
                        start_delete(e, list_pop(&e->ready));
                        continue;
                }

                if (!may_read_more(e))
                        break;
                op = &e->ops[e->next++];
                op->state = OP_READING;
                /* A purge reads the soft-deleted document, which a plain GET does not find. */
                r = op->item->purge
                            ? cluster_get_including_deleted(e->cluster, op->item->id, on_document, op)
                            : cluster_get(e->cluster, op->item->id, on_document, op);
                if (r < 0) {
                        struct op_fields of;

                        op_fields_init(&of, op);
                        log_event(LOG_ERR, r, MESSAGE_DELETE_FAILED, of.f, of.n,
                                  "Failed to start reading connector '%s': %m", op->item->id);
                        op_end(op, EXEC_FAILED);
                        continue;
                }
                e->reading++;
        }

        /* No backup either once the manifests say no: it would be of a connector not deleted.
         * Written here and now (no writer thread): DELETEs may start. */
        if (!e->stopping && !e->halted && batch_due(e)) {
                if (!gate_open(e))
                        halt(e);
                else if (batch_start(e) == 0)
                        goto again;
        }

        if (e->reading == 0 && e->deleting == 0 && e->backups.n == 0 && e->ready.n == 0 &&
            e->next >= e->n_ops) {
                if (backup_writer_busy(e->writer)) {
                        if (!e->abandon_writer)
                                return;
                        /* A stop with a deadline does not wait for a batch of backups (a file system
                         * may hang): its connectors are not deleted; exec_free() gives the writer a
                         * moment. */
                        for (size_t i = 0; i < e->n_ops; i++)
                                if (e->ops[i].state == OP_BACKUP)
                                        op_not_deleted(&e->ops[i]);
                }
                finish(e);
        }
}

static int on_defer_start(sd_event_source *s, void *userdata) {
        struct exec *e = userdata;

        e->defer = sd_event_source_disable_unref(e->defer);
        start_more(e);
        return 0;
}

/* The grace after exec_stop() is over: what is still in flight is abandoned. */
static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct exec *e = userdata;

        e->stop_timer = sd_event_source_disable_unref(e->stop_timer);
        if (e->reading + e->deleting == 0)
                return 0;

        /* No callback of ours runs after this. */
        cluster_cancel(e->cluster);
        for (size_t i = 0; i < e->n_ops; i++) {
                struct exec_op *op = &e->ops[i];
                struct op_fields of;

                if (op->state == OP_READING)
                        op_not_deleted(op);
                else if (op->state == OP_DELETING) {
                        op_fields_init(&of, op);
                        log_event(LOG_WARNING, 0, MESSAGE_DELETE_UNKNOWN, of.f, of.n,
                                  "The DELETE of connector '%s' was sent and no answer came before the "
                                  "stop: it may "
                                  "or may not be deleted (its backup is '%s')",
                                  op->item->id, strna(op->backup_path));
                        op_end(op, EXEC_UNKNOWN);
                }
        }
        e->reading = e->deleting = 0;
        start_more(e);
        return 0;
}

void exec_stop(struct exec *e, usec_t grace_usec) {
        int r;

        assert(e);

        if (e->finishing || (e->stopping && (grace_usec == USEC_INFINITY || e->abandon_writer)))
                return;
        /* A second stop may shorten the first (SIGTERM after the cycle's deadline), never lengthen it. */
        e->stopping = true;
        e->result.stopped = true;
        if (grace_usec != USEC_INFINITY)
                e->abandon_writer = true;

        if (grace_usec != USEC_INFINITY && e->reading + e->deleting > 0 && !e->stop_timer) {
                r = sd_event_add_time(e->event, &e->stop_timer, CLOCK_MONOTONIC,
                                      usec_add(now_usec(CLOCK_MONOTONIC), grace_usec), USEC_PER_MSEC,
                                      on_stop_timer, e);
                if (r < 0)
                        /* No timer: abandon them now. */
                        (void) on_stop_timer(NULL, 0, e);
                else
                        (void) sd_event_source_set_description(e->stop_timer, "exec-stop");
        }
        /* From the loop, so that 'done' never runs inside this call. */
        if (!e->defer && sd_event_add_defer(e->event, &e->defer, on_defer_start, e) < 0)
                start_more(e);
}

int exec_start(struct exec **ret, sd_event *event, struct cluster *cluster, const struct plan *plan,
               const struct exec_options *o,
               void (*done)(struct exec *e, const struct exec_result *r, void *userdata), void *userdata) {
        _cleanup_(exec_freep) struct exec *e = NULL;
        const struct cluster_info *info;
        size_t n = 0;
        int r;

        assert(ret);
        assert(cluster);
        assert(plan);
        assert(!plan->blocked);
        assert(o && o->backup_dir && o->cycle_id && o->record);
        assert(done);

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->cluster = cluster;
        e->plan = plan;
        e->record = o->record;
        e->concurrency = MAX(o->concurrency, 1u);
        e->done = done;
        e->userdata = userdata;
        if (o->hooks)
                e->hooks = *o->hooks;
        (void) snprintf(e->cycle_id, sizeof e->cycle_id, "%s", o->cycle_id);
        info = cluster_get_info(cluster);
        e->jobs_by_client = info && !cluster_version_at_least(info, 8, 14);
        e->backup_dir = strdup(o->backup_dir);
        if (!e->backup_dir)
                return -ENOMEM;
        r = backup_writer_new(&e->writer, event, o->backup_dir, on_batch_written, e);
        if (r < 0)
                return r;

        e->ops = calloc(MAX(plan->counts[PLAN_DELETE], (size_t) 1), sizeof *e->ops);
        if (!e->ops)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_items; i++)
                if (plan->items[i].kind == PLAN_DELETE)
                        e->ops[n++] = (struct exec_op){
                                .exec = e,
                                .item = &plan->items[i],
                                .delete_sync_jobs = plan->items[i].delete_sync_jobs,
                                .hard = plan->items[i].hard,
                        };
        e->n_ops = n;
        e->progress_usec = now_usec(CLOCK_MONOTONIC);

        /* Start from the loop, so that 'done' never runs before we returned. */
        r = sd_event_add_defer(event, &e->defer, on_defer_start, e);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(e);
        return 0;
}

enum exec_outcome exec_get_outcome(const struct exec *e, const struct plan_item *item) {
        size_t lo = 0, hi = e->n_ops;

        /* The ops are in plan order, so their items' addresses increase. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (e->ops[mid].item == item)
                        return e->ops[mid].outcome;
                if (e->ops[mid].item < item)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return EXEC_PENDING;
}

struct exec *exec_free(struct exec *e) {
        if (!e)
                return NULL;
        if (e->reading + e->deleting > 0)
                cluster_cancel(e->cluster);
        (void) sd_event_source_disable_unref(e->defer);
        (void) sd_event_source_disable_unref(e->stop_timer);

        /* The writer finishes the batch it has (a backup is written whole or not at all), then
         * ends; what it wrote stays, undeleted. */
        if (backup_writer_free(e->writer, EXEC_WRITER_STOP_USEC) == -ETIMEDOUT) {
                struct log_field f[] = { { "CYCLE_ID", e->cycle_id } };

                log_event(LOG_WARNING, -ETIMEDOUT, MESSAGE_BACKUP_FAILED, f, ELEMENTSOF(f),
                          "The backup writer is still writing to '%s' (a file system that hangs?): leaving "
                          "it; the "
                          "connectors of its batch are not deleted",
                          e->backup_dir);
        }
        sd_event_unref(e->event);

        for (size_t i = 0; i < e->n_ops; i++) {
                cluster_document_free(e->ops[i].doc);
                cluster_sync_jobs_free(e->ops[i].jobs);
                free(e->ops[i].backup_path);
        }
        free(e->ops);
        free(e->halt_reason);
        free(e->backup_dir);
        free(e);
        return NULL;
}
