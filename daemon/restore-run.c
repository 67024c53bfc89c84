/* The `restore` command: read the backup, make sure the manifests would not delete the connector
 * again, make sure it does not exist, then the create and the update endpoints one at a time (a
 * later step needs the connector an earlier one made), then read it back and compare. Every step
 * is logged with a MESSAGE_ID of its own; what was done is printed as it happens, so that an
 * interrupted restore still says how far it got. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "backup.h"
#include "cluster.h"
#include "config.h"
#include "escape.h"
#include "fs-util.h"
#include "log.h"
#include "loop.h"
#include "manifest.h"
#include "manifest-source.h"
#include "messages.h"
#include "metrics.h"
#include "plan.h"
#include "restore-run.h"
#include "restore.h"
#include "state.h"
#include "util.h"

/* A backup is one document and its sync jobs: far below this. */
#define RESTORE_BACKUP_SIZE_MAX ((size_t) 64 * 1024 * 1024)

struct restorer {
        const struct restore_options *o;
        const char *target; /* the id restored to: --as, or the backup's */

        struct config *config;
        char *backup_path;
        struct backup_contents backup;

        sd_event *event;
        struct cluster *cluster;
        struct restore_plan plan;
        size_t step;         /* the next step to send */
        size_t n_sent;       /* steps the cluster answered */
        bool created;        /* the create was answered: the connector exists now */
        bool from_tombstone; /* no backup: the soft-deleted document in the cluster (9.0+) */
        enum cycle_status status;
};

static void restorer_done(struct restorer *r) {
        cluster_free(r->cluster);
        sd_event_unref(r->event);
        restore_plan_done(&r->plan);
        backup_contents_done(&r->backup);
        free(r->backup_path);
        config_free(r->config);
}

static void rlog(struct restorer *r, int level, int error, const char *message_id, const char *step,
                 const char *fmt, ...) _printf_(6, 7);
static void rlog(struct restorer *r, int level, int error, const char *message_id, const char *step,
                 const char *fmt, ...) {
        struct log_field f[2] = { { "CONNECTOR_ID", r->target } };
        size_t n = 1;
        va_list ap;

        if (step)
                f[n++] = (struct log_field){ "RESTORE_STEP", step };
        va_start(ap, fmt);
        (void) log_eventv(level, error, message_id, f, n, fmt, ap);
        va_end(ap);
}

static void finish(struct restorer *r, enum cycle_status status) {
        r->status = status;
        (void) sd_event_exit(r->event, 0);
}

/* Stops at a failed request: says what was done and what was not, then how to go on. */
static void fail_at_step(struct restorer *r, int error, const struct cluster_error *err) {
        const struct restore_step *s = &r->plan.steps[r->step];

        rlog(r, LOG_ERR, error, MESSAGE_RESTORE_FAILED, s->name, "Restoring '%s' failed at its %s: %s",
             r->target, s->name, err && err->message ? err->message : strerror(-error));
        (void) printf("  %-15s FAILED: %s\n", s->name,
                      err && err->message ? err->message : strerror(-error));
        for (size_t i = r->step + 1; i < r->plan.n_steps; i++)
                (void) printf("  %-15s not sent\n", r->plan.steps[i].name);
        if (r->created)
                (void) printf("The connector exists now, restored in part: fix the cause, delete it (DELETE "
                              "_connector/<id>) and restore again.\n");
        else
                (void) printf("Nothing was changed in the cluster.\n");
        finish(r, CYCLE_FAILED);
}

static void print_check(struct restorer *r, const struct restore_check *check) {
        (void) printf("Read back:\n");
        for (size_t i = 0; i < check->n_fields; i++) {
                const struct restore_field *f = &check->fields[i];

                (void) printf("  %-18s %s", f->field, restore_field_state_to_string(f->state));
                if (f->detail || f->why) {
                        (void) fputs(": ", stdout);
                        (void) escape_fputs(stdout, f->detail ?: f->why, 0);
                }
                (void) putchar('\n');
        }
        (void) printf("Not restored, by design: status, error, last_seen and the sync state (the connector "
                      "service sets them), and the sync job history.\n");
}

static void on_read_back(struct cluster *c, int error, struct cluster_document *doc,
                         const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = doc;
        _cleanup_(restore_check_done) struct restore_check check = {};
        _cleanup_free_ char *m = NULL;
        struct restorer *r = userdata;
        int k;

        if (error < 0) {
                rlog(r, LOG_ERR, error, MESSAGE_RESTORE_FAILED, "read-back",
                     "Restored '%s', but reading it back failed: %s", r->target,
                     err && err->message ? err->message : strerror(-error));
                (void) printf("Restored, but reading it back failed: %s\n",
                              err && err->message ? err->message : strerror(-error));
                return finish(r, CYCLE_FAILED);
        }

        k = restore_check_build(r->backup.document, r->backup.document_size, d->body, d->body_size, &r->plan,
                                &check, &m);
        if (k < 0) {
                log_error_errno(k, "Failed to compare the connector read back: %s", m ?: strerror(-k));
                return finish(r, CYCLE_FAILED);
        }
        print_check(r, &check);

        if (check.n_differ > 0) {
                rlog(r, LOG_ERR, 0, MESSAGE_RESTORE_FAILED, "read-back",
                     "Restored '%s', but %zu field%s read%s back otherwise", r->target, check.n_differ,
                     check.n_differ == 1 ? "" : "s", check.n_differ == 1 ? "s" : "");
                (void) printf("Connector '%s' restored in part: %zu field%s differ%s.\n", r->target,
                              check.n_differ, check.n_differ == 1 ? "" : "s",
                              check.n_differ == 1 ? "s" : "");
                return finish(r, CYCLE_FAILED);
        }
        rlog(r, LOG_NOTICE, 0, MESSAGE_RESTORED, NULL,
             "Restored connector '%s' from %s (%zu not restorable)", r->target, r->backup_path,
             check.n_not_restorable);
        (void) printf("Connector '%s' restored.\n", r->target);
        finish(r, CYCLE_OK);
}

static void send_next(struct restorer *r);

static void on_put(struct cluster *c, int error, const char *result, const struct cluster_error *err,
                   void *userdata) {
        struct restorer *r = userdata;
        const struct restore_step *s = &r->plan.steps[r->step];

        if (error < 0)
                return fail_at_step(r, error, err);

        if (!s->endpoint)
                r->created = true;
        r->n_sent++;
        rlog(r, LOG_INFO, 0, MESSAGE_RESTORE_STEP, s->name, "Restoring '%s': %s %s", r->target, s->name,
             result);
        /* On 9.x the GET answers 404 for a soft-deleted connector, whose document the create
         * then overwrites: "updated". */
        (void) printf("  %-15s %s%s\n", s->name, result,
                      !s->endpoint && streq(result, "updated")
                              ? " (over the soft-deleted connector of that id)"
                              : "");
        r->step++;
        send_next(r);
}

static void send_next(struct restorer *r) {
        int k;

        while (r->step < r->plan.n_steps && r->plan.steps[r->step].skipped) {
                const struct restore_step *s = &r->plan.steps[r->step];

                rlog(r, LOG_NOTICE, 0, MESSAGE_RESTORE_STEP, s->name, "Restoring '%s': %s skipped: %s",
                     r->target, s->name, s->skipped);
                (void) printf("  %-15s skipped: %s\n", s->name, s->skipped);
                r->step++;
        }
        if (r->step >= r->plan.n_steps) {
                (void) fflush(stdout);
                k = cluster_get(r->cluster, r->target, on_read_back, r);
                if (k < 0) {
                        log_error_errno(k, "Failed to read the connector back: %m");
                        finish(r, CYCLE_FAILED);
                }
                return;
        }

        k = cluster_put(r->cluster, r->target, r->plan.steps[r->step].endpoint, r->plan.steps[r->step].body,
                        r->plan.steps[r->step].body_size, on_put, r);
        if (k < 0)
                fail_at_step(r, k, NULL);
}

static void print_dry_run(struct restorer *r) {
        (void) printf("Would send (--dry-run, nothing sent):\n");
        for (size_t i = 0; i < r->plan.n_steps; i++) {
                const struct restore_step *s = &r->plan.steps[i];
                _cleanup_free_ char *body = NULL;

                if (s->skipped) {
                        (void) printf("  # %s skipped: %s\n", s->name, s->skipped);
                        continue;
                }
                body = restore_step_body_for_display(s);
                (void) printf("  PUT /_connector/");
                (void) escape_fputs(stdout, r->target, ESCAPE_EDGE_SPACE);
                (void) printf("%s%s %s\n", s->endpoint ? "/" : "", strempty(s->endpoint),
                              body ?: "(out of memory)");
        }
        (void) printf("Then GET /_connector/<id> and a comparison with the backup.\n");
}

static void on_existing(struct cluster *c, int error, struct cluster_document *doc,
                        const struct cluster_error *err, void *userdata) {
        struct restorer *r = userdata;

        cluster_document_free(doc); /* whether it exists is all that matters */
        if (error >= 0) {
                rlog(r, LOG_ERR, 0, MESSAGE_RESTORE_FAILED, "check", "Connector '%s' exists: not restored",
                     r->target);
                (void) printf("Connector '%s' exists: restore creates a connector, it never overwrites one. "
                              "Delete it first, or restore under another id with --as.\n",
                              r->target);
                return finish(r, CYCLE_FAILED);
        }
        if (error != -ENOENT) {
                log_error_errno(error, "Failed to check whether connector '%s' exists: %s", r->target,
                                err && err->message ? err->message : strerror(-error));
                return finish(r, CYCLE_FAILED);
        }

        if (r->o->dry_run) {
                print_dry_run(r);
                return finish(r, CYCLE_OK);
        }
        /* Between that 404 and the PUT another client could create the connector, and the PUT
         * would overwrite it: Elasticsearch has no create-only PUT for connectors. */
        send_next(r);
}

static enum cycle_status check_manifests(struct restorer *r);
static void start_restore(struct restorer *r, const struct cluster_info *info);

static void on_tombstone(struct cluster *c, int error, struct cluster_document *doc,
                         const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = doc;
        struct restorer *r = userdata;
        enum cycle_status s;

        if (error == -ENOENT) {
                log_error(
                        "No backup of connector '%s' in %s, and no soft-deleted connector of that id in the "
                        "cluster",
                        r->o->id, r->config->backup_dir);
                return finish(r, CYCLE_FAILED);
        }
        if (error < 0) {
                log_error_errno(error, "Failed to read connector '%s': %s", r->o->id,
                                err && err->message ? err->message : strerror(-error));
                return finish(r, CYCLE_FAILED);
        }
        if (!d->connector.deleted) {
                log_error(
                        "Connector '%s' is not deleted, and it has no backup in %s: nothing to restore from",
                        r->o->id, r->config->backup_dir);
                return finish(r, CYCLE_FAILED);
        }

        r->backup = (struct backup_contents){
                .connector_id = strdup(r->o->id),
                .document_size = d->body_size,
        };
        r->backup.document = TAKE_PTR(d->body);
        r->backup_path = strdup("its soft-deleted document in the cluster");
        if (!r->backup.connector_id || !r->backup_path) {
                log_error_errno(-ENOMEM, "Failed to restore: %m");
                return finish(r, CYCLE_FAILED);
        }
        (void) printf("Restoring connector '%s'%s%s%s from its soft-deleted document in the cluster\n",
                      r->o->id, r->o->as_id ? " as '" : "", strempty(r->o->as_id), r->o->as_id ? "'" : "");
        (void) fflush(stdout);

        s = check_manifests(r);
        if (s != CYCLE_OK)
                return finish(r, s);
        start_restore(r, cluster_get_info(c));
}

static void on_info(struct cluster *c, int error, const struct cluster_info *info,
                    const struct cluster_error *err, void *userdata) {
        struct restorer *r = userdata;
        int k;

        if (error < 0) {
                log_error_errno(error, "Failed to reach the cluster: %s",
                                err && err->message ? err->message : strerror(-error));
                return finish(r, CYCLE_FAILED);
        }
        if (r->from_tombstone) {
                if (!cluster_version_at_least(info, 9, 0)) {
                        log_error("No backup of connector '%s' in %s, and Elasticsearch %s keeps no "
                                  "soft-deleted "
                                  "connectors",
                                  r->o->id, r->config->backup_dir, info->version);
                        return finish(r, CYCLE_FAILED);
                }
                k = cluster_get_including_deleted(r->cluster, r->o->id, on_tombstone, r);
                if (k < 0) {
                        log_error_errno(k, "Failed to read connector '%s': %m", r->o->id);
                        finish(r, CYCLE_FAILED);
                }
                return;
        }
        if (r->backup.es_version)
                (void) printf("Backed up from Elasticsearch %s; restoring to %s.\n", r->backup.es_version,
                              info->version);
        start_restore(r, info);
}

/* With the document in hand: the plan, then whether the connector exists. */
static void start_restore(struct restorer *r, const struct cluster_info *info) {
        _cleanup_free_ char *m = NULL;
        int k;

        k = restore_plan_build(r->backup.document, r->backup.document_size, info, &r->plan, &m);
        if (k < 0) {
                log_error_errno(k, "Failed to restore from %s: %s", r->backup_path, m ?: strerror(-k));
                return finish(r, k == -ENOMEM ? CYCLE_FAILED : CYCLE_INVALID);
        }
        k = cluster_get(r->cluster, r->target, on_existing, r);
        if (k < 0) {
                log_error_errno(k, "Failed to check whether connector '%s' exists: %m", r->target);
                finish(r, CYCLE_FAILED);
        }
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct restorer *r = userdata;

        log_warning("Interrupted: %zu of %zu requests answered", r->n_sent, r->plan.n_steps);
        (void) printf("Interrupted.%s\n", r->created ? " The connector exists now, restored in part." : "");
        cluster_cancel(r->cluster);
        finish(r, CYCLE_FAILED);
        return 0;
}

/* Whether the manifests would delete the connector as the backup describes it, under its new id:
 * CYCLE_OK when not (or with --force, saying so), CYCLE_BLOCKED (saying which sets own it) when they
 * would. */
static enum cycle_status check_manifests(struct restorer *r) {
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_(plan_connector_done) struct plan_connector conn = {};
        _cleanup_free_ char *msg = NULL;
        struct yaml_read_diags errors = {};
        struct plan_policy policy = { .max_deletions = PLAN_UNLIMITED,
                                      .now_usec = now_usec(CLOCK_REALTIME) };
        char revision[GIT_SOURCE_ID_SIZE];
        char *id;
        int k;

        if (r->o->force) {
                log_warning("--force: not checking whether the manifests would delete '%s' again",
                            r->target);
                return CYCLE_OK;
        }

        k = cluster_decode_connector(r->backup.document, r->backup.document_size, r->backup.connector_id,
                                     &conn, &msg);
        if (k < 0) {
                log_error("The backup %s does not hold connector '%s': %s", r->backup_path,
                          r->backup.connector_id, msg ?: strerror(-k));
                return CYCLE_INVALID;
        }
        id = strdup(r->target);
        if (!id)
                return log_error_errno(-ENOMEM, "Failed to restore: %m"), CYCLE_FAILED;
        free(conn.id);
        conn.id = id;
        conn.deleted = false; /* as it will be: a soft-deleted document is no orphan, a live one is */

        k = manifest_source_load(r->config, NULL, &m, revision, &errors);
        for (size_t i = 0; i < errors.n_items; i++)
                log_full(LOG_ERR | LOG_ESCAPED, "%s", errors.items[i].text);
        yaml_read_diags_done(&errors);
        if (k < 0) {
                log_error("Cannot tell whether the manifests would delete the restored connector again; fix "
                          "them, or restore with --force");
                return CYCLE_INVALID;
        }

        k = plan_build(m->sets, m->n_sets, &conn, 1, &policy, &p);
        if (k < 0)
                return log_error_errno(k, "Failed to plan: %m"), CYCLE_FAILED;
        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = &p->items[i];

                if (!streq(it->id, r->target) || (it->kind != PLAN_DELETE && it->kind != PLAN_WAITING))
                        continue;
                log_error(
                        "Connector '%s' would be deleted again by the next cycle: set%s %s%s%s own%s it and "
                        "no "
                        "manifest declares it. Declare it under 'connectors' in a manifest of that set, or "
                        "restore with --force.",
                        r->target, it->n_sets == 1 ? "" : "s", it->sets[0], it->n_sets > 1 ? " and " : "",
                        it->n_sets > 1 ? it->sets[it->n_sets - 1] : "", it->n_sets == 1 ? "s" : "");
                return CYCLE_BLOCKED;
        }
        return CYCLE_OK;
}

static enum cycle_status read_backup(struct restorer *r) {
        _cleanup_free_ char *buf = NULL, *msg = NULL;
        size_t size;
        int k;

        if (r->o->from) {
                r->backup_path = strdup(r->o->from);
                if (!r->backup_path)
                        return log_error_errno(-ENOMEM, "Failed to restore: %m"), CYCLE_FAILED;
        } else {
                k = backup_find_newest(r->config->backup_dir, r->o->id, &r->backup_path);
                if (k == -ENOENT) {
                        /* On 9.x a soft-deleted connector keeps its document in the cluster. */
                        (void) printf("No backup of connector '%s' in %s: looking for its soft-deleted "
                                      "document in the cluster\n",
                                      r->o->id, r->config->backup_dir);
                        (void) fflush(stdout);
                        r->from_tombstone = true;
                        return CYCLE_OK;
                }
                if (k < 0)
                        return log_error_errno(k, "Failed to read %s: %m", r->config->backup_dir),
                               CYCLE_FAILED;
        }

        k = fs_read_file(r->backup_path, RESTORE_BACKUP_SIZE_MAX, &buf, &size);
        if (k < 0)
                return log_error_errno(k, "Failed to read %s: %m", r->backup_path), CYCLE_INVALID;
        k = backup_parse(buf, size, &r->backup, &msg);
        explicit_bzero(buf, size);
        if (k < 0)
                return log_error_errno(k, "%s is not a backup this program can read: %s", r->backup_path,
                                       msg ?: strerror(-k)),
                       CYCLE_INVALID;
        if (!streq(r->backup.connector_id, r->o->id)) {
                log_error("%s is a backup of connector '%s', not of '%s'", r->backup_path,
                          r->backup.connector_id, r->o->id);
                return CYCLE_INVALID;
        }
        (void) printf("Restoring connector '%s'", r->o->id);
        if (r->o->as_id)
                (void) printf(" as '%s'", r->o->as_id);
        (void) printf(" from %s", r->backup_path);
        if (r->backup.read_at)
                (void) printf(" (read %s)", r->backup.read_at);
        (void) printf("\n");
        (void) fflush(stdout); /* before any message on stderr */
        return CYCLE_OK;
}

/* With metrics.textfile: counts this restore in the counters of the state folder (ok, or error),
 * which the next cycle's metrics file shows. Under the state folder's lock, so that it adds to a
 * cycle's counts and is not lost in them; when a cycle holds the lock, or anything fails, the
 * restore goes uncounted, saying so. */
static void record_metrics(struct restorer *r) {
        const struct config *c = r->config;
        _cleanup_(metrics_done) struct metrics m = {};
        int fd = -1, k;

        if (!c->metrics_textfile || r->o->dry_run)
                return;
        k = state_lock(c->state_dir, &fd, NULL);
        if (k < 0) {
                log_warning_errno(k,
                                  "Failed to lock the state folder '%s', not counting this restore in "
                                  "the metrics: %m",
                                  c->state_dir);
                return;
        }
        k = metrics_load(c->state_dir, &m, NULL);
        if (k < 0 && k != -ENOENT)
                log_warning_errno(k, "Failed to read the metrics counters in '%s', starting them at 0: %m",
                                  c->state_dir);
        if (k < 0)
                metrics_reset_counters(&m);
        m.actions[METRICS_ACTION_RESTORE]
                 [r->status == CYCLE_OK ? METRICS_OUTCOME_OK : METRICS_OUTCOME_ERROR]++;
        k = metrics_save(c->state_dir, &m);
        if (k < 0)
                log_warning_errno(k, "Failed to save the metrics counters in '%s', ignoring: %m",
                                  c->state_dir);
        state_unlock(fd);
}

enum cycle_status restore_run(const struct restore_options *o) {
        _cleanup_(restorer_done) struct restorer r = { .o = o,
                                                       .target = o->as_id ?: o->id,
                                                       .status = CYCLE_FAILED };
        struct cluster_options co;
        _cleanup_free_ char *msg = NULL;
        enum cycle_status s;
        sigset_t ss;
        int k;

        assert(o);
        assert(o->id);

        if (loop_load_config(o->config_path, o->manifests_override, &r.config) < 0)
                return CYCLE_INVALID;

        s = read_backup(&r);
        if (s != CYCLE_OK)
                return s;
        /* From the tombstone, once the soft-deleted document is read. */
        if (!r.from_tombstone) {
                s = check_manifests(&r);
                if (s != CYCLE_OK)
                        return s;
        }

        if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGTERM) < 0 || sigaddset(&ss, SIGINT) < 0 ||
            sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m"), CYCLE_FAILED;
        k = sd_event_new(&r.event);
        if (k >= 0)
                k = sd_event_add_signal(r.event, NULL, SIGTERM, on_signal, &r);
        if (k >= 0)
                k = sd_event_add_signal(r.event, NULL, SIGINT, on_signal, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the event loop: %m"), CYCLE_FAILED;

        cycle_cluster_options(r.config, &co);
        co.max_in_flight = 1;
        k = cluster_new(&r.cluster, r.event, &co, &msg);
        if (k < 0)
                return log_error("Failed to set up the cluster client: %s", msg ?: strerror(-k)),
                       CYCLE_INVALID;
        k = cluster_info(r.cluster, on_info, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to reach the cluster: %m"), CYCLE_FAILED;

        k = sd_event_loop(r.event);
        if (k < 0)
                return log_error_errno(k, "Event loop failed: %m"), CYCLE_FAILED;
        record_metrics(&r);
        if (fflush(stdout) != 0)
                return CYCLE_FAILED;
        return r.status;
}
