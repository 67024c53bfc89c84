#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "backup.h"
#include "cluster.h"
#include "cycle.h"
#include "exec.h"
#include "log.h"
#include "manifest.h"
#include "messages.h"
#include "util.h"

struct cycle {
        sd_event *event;
        const struct config *config;
        bool plan_only;
        bool dry_run;
        unsigned page_size;
        char id[33]; /* CYCLE_ID */

        struct manifest *manifest;
        struct cluster *cluster;
        struct cluster_listing *listing;
        struct exec *exec;
        sd_event_source *defer;

        struct cycle_result result;
        void (*done)(struct cycle *c, struct cycle_result *r, void *userdata);
        void *userdata;
};

int cycle_status_to_exit(enum cycle_status s) {
        switch (s) {
        case CYCLE_OK:
                return 0;
        case CYCLE_FAILED:
                return 1;
        case CYCLE_INVALID:
                return 2;
        case CYCLE_BLOCKED:
                return 3;
        default:
                return 1;
        }
}

void cycle_cluster_options(const struct config *c, struct cluster_options *o) {
        static const enum cluster_auth auth[_CONFIG_AUTH_MAX] = {
                [CONFIG_AUTH_NONE] = CLUSTER_AUTH_NONE,
                [CONFIG_AUTH_API_KEY] = CLUSTER_AUTH_API_KEY,
                [CONFIG_AUTH_BASIC] = CLUSTER_AUTH_BASIC,
                [CONFIG_AUTH_BEARER] = CLUSTER_AUTH_BEARER,
        };

        cluster_options_init(o);
        o->url = c->url;
        o->auth = auth[c->auth];
        o->api_key = c->auth == CONFIG_AUTH_API_KEY ? c->secret : NULL;
        o->username = c->username;
        o->password = c->auth == CONFIG_AUTH_BASIC ? c->secret : NULL;
        o->bearer_token = c->auth == CONFIG_AUTH_BEARER ? c->secret : NULL;
        o->ca_file = c->ca_file.path;
        o->client_cert_file = c->client_cert_file.path;
        o->client_key_file = c->client_key_file.path;
        o->verify_tls = c->verify_tls;
        o->connect_timeout_usec = c->connect_timeout_usec;
        o->request_timeout_usec = c->request_timeout_usec;
        o->max_result_window = c->max_result_window;
        o->max_in_flight = c->concurrency;
        o->retry = (struct backoff_policy) {
                .max_attempts = c->retry_max_attempts,
                .initial_delay_usec = c->retry_initial_delay_usec,
                .max_delay_usec = c->retry_max_delay_usec,
        };
}

static void cycle_log(struct cycle *c, int level, int error, const char *message_id, const char *fmt, ...)
        _printf_(5, 6);
static void cycle_log(struct cycle *c, int level, int error, const char *message_id, const char *fmt, ...) {
        const struct log_field f[] = { { "CYCLE_ID", c->id } };
        va_list ap;

        va_start(ap, fmt);
        (void) log_eventv(level, error, message_id, f, ELEMENTSOF(f), fmt, ap);
        va_end(ap);
}

static void finish(struct cycle *c, enum cycle_status status) {
        struct cycle_result *r = &c->result;
        static const char *const names[_CYCLE_STATUS_MAX] = {
                [CYCLE_OK] = "ok",
                [CYCLE_FAILED] = "failed",
                [CYCLE_INVALID] = "invalid",
                [CYCLE_BLOCKED] = "blocked",
        };
        char deleted[24], failed[24];
        struct log_field end[] = {
                { "CYCLE_ID", c->id },
                { "RESULT", names[status] },
                { "DELETED", deleted },
                { "FAILED", failed },
        };

        r->status = status;
        (void) snprintf(deleted, sizeof deleted, "%zu", r->deleted);
        (void) snprintf(failed, sizeof failed, "%zu", r->failed);
        log_event(status == CYCLE_OK ? LOG_INFO : LOG_WARNING, 0, MESSAGE_CYCLE_END, end, ELEMENTSOF(end),
                  "Cycle ended: %s", r->summary);

        /* The last thing done with 'c': the callback may free it. */
        c->done(c, r, c->userdata);
}

static void summarize_plan(struct cycle *c) {
        struct cycle_result *r = &c->result;
        const struct plan *p = r->plan;

        if (c->plan_only)
                (void) snprintf(r->summary, sizeof r->summary,
                                "planned %zu to delete, %zu to keep, %zu missing, %zu unmanaged, %zu protected%s",
                                p->counts[PLAN_DELETE], p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                                p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED],
                                p->blocked ? " (blocked)" : "");
        else if (c->dry_run)
                (void) snprintf(r->summary, sizeof r->summary,
                                "dry run: would delete %zu, kept %zu, %zu missing, %zu unmanaged, %zu protected",
                                r->would_delete, p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                                p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED]);
        else
                (void) snprintf(r->summary, sizeof r->summary,
                                "deleted %zu, already gone %zu, failed %zu, kept %zu, %zu missing, %zu unmanaged, "
                                "%zu protected",
                                r->deleted, r->already_gone, r->failed, p->counts[PLAN_KEEP],
                                p->counts[PLAN_MISSING], p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED]);
}

static void on_exec_done(struct exec *e, const struct exec_result *er, void *userdata) {
        struct cycle *c = userdata;

        c->result.deleted = er->deleted;
        c->result.already_gone = er->already_gone;
        c->result.failed = er->failed;
        /* 'er' lives in the executor: done with it from here on. */
        c->exec = exec_free(c->exec);
        summarize_plan(c);
        finish(c, c->result.failed > 0 ? CYCLE_FAILED : CYCLE_OK);
}

static void log_dry_run(struct cycle *c) {
        const struct plan *p = c->result.plan;

        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = &p->items[i];
                const struct plan_connector *pc = it->connector;
                struct log_field f[6];
                size_t n = 0;

                if (it->kind != PLAN_DELETE)
                        continue;
                f[n++] = (struct log_field) { "CYCLE_ID", c->id };
                f[n++] = (struct log_field) { "CONNECTOR_ID", it->id };
                if (pc && pc->service_type)
                        f[n++] = (struct log_field) { "CONNECTOR_SERVICE_TYPE", pc->service_type };
                f[n++] = (struct log_field) { "DELETE_SYNC_JOBS", it->delete_sync_jobs ? "true" : "false" };
                f[n++] = (struct log_field) { "HARD", it->hard ? "true" : "false" };
                log_event(LOG_NOTICE, 0, MESSAGE_WOULD_DELETE, f, n, "Dry run: would delete connector '%s'", it->id);
                c->result.would_delete++;
        }
}

static void on_listed(struct cluster *cl, int error, struct cluster_listing *listing,
                      const struct cluster_error *err, void *userdata) {
        struct cycle *c = userdata;
        const struct config *cfg = c->config;
        struct plan_policy policy = { .max_deletions = cfg->max_deletions };
        struct exec_options eo;
        int r;

        if (error < 0) {
                char status[16];
                const struct log_field f[] = {
                        { "CYCLE_ID", c->id },
                        { "HTTP_STATUS", status },
                };

                (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
                log_event(LOG_ERR, error, MESSAGE_CLUSTER_FAILED, f, err && err->status > 0 ? 2 : 1,
                          "Failed to list the connectors of %s, deleting nothing: %s", cluster_get_url(cl),
                          err && err->message ? err->message : strerror(-error));
                (void) snprintf(c->result.summary, sizeof c->result.summary, "cluster listing failed: %s",
                                err && err->message ? err->message : strerror(-error));
                return finish(c, CYCLE_FAILED);
        }
        c->listing = listing;

        if (!listing->complete)
                /* A listing that moved while we paged can only have hidden connectors from us:
                 * every orphan in it was seen to exist and is declared by no manifest. */
                cycle_log(c, LOG_WARNING, 0, MESSAGE_CLUSTER_FAILED,
                          "The connector listing changed while it was read (%s); acting only on the %zu connectors seen",
                          strna(listing->incomplete_reason), listing->n_connectors);

        r = plan_build(c->manifest->sets, c->manifest->n_sets, listing->connectors, listing->n_connectors,
                       &policy, &c->result.plan);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to plan: %m");
                (void) snprintf(c->result.summary, sizeof c->result.summary, "planning failed: %s", strerror(-r));
                return finish(c, CYCLE_FAILED);
        }

        if (c->plan_only) {
                summarize_plan(c);
                return finish(c, c->result.plan->blocked ? CYCLE_BLOCKED : CYCLE_OK);
        }

        if (c->result.plan->blocked) {
                cycle_log(c, LOG_WARNING, 0, MESSAGE_SAFETY_STOP, "Safety stop, deleting nothing: %s",
                          c->result.plan->blocked);
                (void) snprintf(c->result.summary, sizeof c->result.summary, "safety stop: %s",
                                c->result.plan->blocked);
                return finish(c, CYCLE_BLOCKED);
        }

        if (c->dry_run) {
                log_dry_run(c);
                summarize_plan(c);
                return finish(c, CYCLE_OK);
        }

        if (c->result.plan->counts[PLAN_DELETE] == 0) {
                summarize_plan(c);
                return finish(c, CYCLE_OK);
        }

        /* No backup, no delete: a folder we cannot write to stops every delete up front. */
        r = backup_dir_prepare(cfg->backup_dir);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_BACKUP_FAILED,
                          "Failed to prepare the backup folder '%s', deleting nothing: %m", cfg->backup_dir);
                c->result.failed = c->result.plan->counts[PLAN_DELETE];
                (void) snprintf(c->result.summary, sizeof c->result.summary,
                                "backup folder '%s' unusable (%s): deleted nothing", cfg->backup_dir, strerror(-r));
                return finish(c, CYCLE_FAILED);
        }

        eo = (struct exec_options) {
                .backup_dir = cfg->backup_dir,
                .concurrency = cfg->concurrency,
                .cycle_id = c->id,
        };
        r = exec_start(&c->exec, c->event, c->cluster, c->result.plan, &eo, on_exec_done, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to start deleting: %m");
                (void) snprintf(c->result.summary, sizeof c->result.summary, "failed to start deleting: %s",
                                strerror(-r));
                return finish(c, CYCLE_FAILED);
        }
}

static void on_retry(struct cluster *cl, const struct cluster_retry *rt, void *userdata) {
        struct cycle *c = userdata;
        char attempt[16], status[16];
        struct log_field f[4];
        size_t n = 0;

        (void) snprintf(attempt, sizeof attempt, "%u", rt->attempt);
        (void) snprintf(status, sizeof status, "%d", rt->status);
        f[n++] = (struct log_field) { "CYCLE_ID", c->id };
        f[n++] = (struct log_field) { "ATTEMPT", attempt };
        if (rt->status > 0)
                f[n++] = (struct log_field) { "HTTP_STATUS", status };
        if (rt->connector_id)
                f[n++] = (struct log_field) { "CONNECTOR_ID", rt->connector_id };
        log_event(LOG_WARNING, rt->error, MESSAGE_RETRY, f, n,
                  "%s failed (attempt %u of %u): %s; retrying in %" PRIu64 " ms", rt->request, rt->attempt,
                  rt->max_attempts, strna(rt->message), rt->delay_usec / USEC_PER_MSEC);
}

static int start_listing(struct cycle *c) {
        struct cluster_options o;
        _cleanup_free_ char *message = NULL;
        int r;

        cycle_cluster_options(c->config, &o);
        if (c->page_size > 0)
                o.page_size = c->page_size;
        r = cluster_new(&c->cluster, c->event, &o, &message);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_CLUSTER_FAILED, "Failed to set up the cluster client: %s",
                          message ?: strerror(-r));
                (void) snprintf(c->result.summary, sizeof c->result.summary, "bad cluster settings: %s",
                                message ?: strerror(-r));
                return r;
        }
        cluster_set_retry_hook(c->cluster, on_retry, c);

        if (!c->config->verify_tls)
                cycle_log(c, LOG_WARNING, 0, MESSAGE_TLS_UNVERIFIED,
                          "TLS certificate verification is disabled (cluster.verify_tls: false): the cluster's "
                          "identity is not checked");

        r = cluster_list(c->cluster, on_listed, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_CLUSTER_FAILED, "Failed to start listing the cluster: %m");
                (void) snprintf(c->result.summary, sizeof c->result.summary, "failed to list: %s", strerror(-r));
        }
        return r;
}

static int load_manifests(struct cycle *c) {
        struct yaml_read_diags errors = {};
        int r;

        r = manifest_load(c->config->manifests, &c->manifest, &errors);
        if (r < 0) {
                const struct log_field f[] = { { "CYCLE_ID", c->id } };

                for (size_t i = 0; i < errors.n_items; i++)
                        log_event(LOG_ERR | LOG_ESCAPED, 0, NULL, f, ELEMENTSOF(f), "%s", errors.items[i].text);
                log_event(LOG_ERR, 0, MESSAGE_MANIFESTS_INVALID, f, ELEMENTSOF(f),
                          "The manifests at '%s' are invalid (%zu errors), deleting nothing", c->config->manifests,
                          yaml_read_diags_count(&errors));
                (void) snprintf(c->result.summary, sizeof c->result.summary,
                                "manifests invalid (%zu errors): deleted nothing", yaml_read_diags_count(&errors));
                yaml_read_diags_done(&errors);
                return r == -ENOMEM ? r : -EINVAL;
        }
        yaml_read_diags_done(&errors);
        log_debug("Read %zu sets declaring %zu connectors from %zu files", c->manifest->n_sets,
                  c->manifest->n_declared, c->manifest->n_files);
        return 0;
}

static int on_defer_start(sd_event_source *s, void *userdata) {
        struct cycle *c = userdata;
        int r;

        c->defer = sd_event_source_unref(c->defer);

        r = load_manifests(c);
        if (r < 0) {
                finish(c, r == -ENOMEM ? CYCLE_FAILED : CYCLE_INVALID);
                return 0;
        }
        r = start_listing(c);
        if (r < 0)
                finish(c, CYCLE_FAILED);
        return 0;
}

int cycle_start(struct cycle **ret, sd_event *event, const struct cycle_options *o,
                void (*done)(struct cycle *c, struct cycle_result *r, void *userdata), void *userdata) {
        _cleanup_(cycle_freep) struct cycle *c = NULL;
        sd_id128_t id;
        int r;

        assert(ret);
        assert(event);
        assert(o && o->config);
        assert(done);

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->config = o->config;
        c->plan_only = o->plan_only;
        c->dry_run = o->dry_run;
        c->page_size = o->page_size;
        c->done = done;
        c->userdata = userdata;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        (void) sd_id128_to_string(id, c->id);

        r = sd_event_add_defer(event, &c->defer, on_defer_start, c);
        if (r < 0)
                return r;

        cycle_log(c, LOG_INFO, 0, MESSAGE_CYCLE_START, "Cycle started%s%s",
                  c->plan_only ? " (plan only)" : "", !c->plan_only && c->dry_run ? " (dry run)" : "");

        *ret = TAKE_PTR(c);
        return 0;
}

struct cycle *cycle_free(struct cycle *c) {
        if (!c)
                return NULL;
        c->exec = exec_free(c->exec);
        c->cluster = cluster_free(c->cluster);
        c->listing = cluster_listing_free(c->listing);
        c->manifest = manifest_free(c->manifest);
        c->result.plan = plan_free(c->result.plan);
        (void) sd_event_source_disable_unref(c->defer);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
