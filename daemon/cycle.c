#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>

#include "backup.h"
#include "cluster.h"
#include "cycle.h"
#include "exec.h"
#include "fs-util.h"
#include "git-fetch.h"
#include "git-source.h"
#include "lifecycle.h"
#include "log.h"
#include "manifest.h"
#include "manifest-source.h"
#include "messages.h"
#include "state.h"
#include "util.h"

struct cycle {
        sd_event *event;
        const struct config *config;
        bool plan_only;
        bool dry_run;
        unsigned page_size;
        bool max_deletions_set;
        uint64_t max_deletions;
        bool max_updates_set;
        uint64_t max_updates;
        const struct plan_file *saved_plan;
        void (*show_plan)(const struct cycle_result *r);
        char id[33]; /* CYCLE_ID */

        /* safety.confirm_removed_sets and --confirm-removed-set together; strings borrowed */
        char **confirmed;
        size_t n_confirmed;

        int lock_fd;
        /* A Git source (config->git.enabled): where it is read from, the fetch running, the
         * commit read (revision[0] is '\0' until then) and whether its fetch failed (stale). */
        const char *revision_ref; /* --revision, or NULL */
        bool fetch_now;
        struct git_source_options git;
        char *mirror;
        struct git_fetch *fetch;
        char revision[GIT_SOURCE_ID_SIZE];
        bool stale;
        struct manifest *manifest;
        char digest[8 + 2 * MANIFEST_DIGEST_SIZE]; /* "sha256:<hex>" */
        struct state *state;                       /* what earlier cycles saw: never NULL once read */
        struct cluster *cluster;
        struct cluster_listing *listing;
        char **live_escaped; /* prune_backups(): the listed connectors' escaped ids, sorted */
        size_t n_live_escaped;
        struct exec *exec;
        /* Creating and converging (lifecycle.h): the survey's plan, then its carrying out. */
        struct lifecycle *lifecycle;
        struct converge_plan changes;
        const struct lifecycle_result *lifecycle_result; /* once applied; borrowed from 'lifecycle' */
        unsigned only;                                   /* --only: enum cycle_only bits; 0: everything */
        bool identified;                 /* GET / was asked again right before the first write */
        bool applying;                   /* the lifecycle's changes are being carried out */
        sd_event_source *apply_grace;    /* stopping: the changes on the wire get this long */
        enum cycle_status delete_status; /* how the deletions ended, before the changes */
        bool delete_carried_out;
        struct backup_record record;
        uint64_t plan_realtime_usec; /* the plan's "now" */

        sd_event_source *defer;
        sd_event_source *timeout;
        bool stopping;
        usec_t start_usec; /* CLOCK_MONOTONIC */

        struct cycle_result result;
        void (*done)(struct cycle *c, struct cycle_result *r, void *userdata);
        void (*progress)(size_t done, size_t total, void *userdata);
        void *userdata;
};

void cycle_cluster_options(const struct config *c, struct cluster_options *o) {
        cluster_options_init(o);
        o->url = c->url;
        o->auth = c->auth;
        o->api_key = c->auth == CLUSTER_AUTH_API_KEY ? c->secret : NULL;
        o->username = c->username;
        o->password = c->auth == CLUSTER_AUTH_BASIC ? c->secret : NULL;
        o->bearer_token = c->auth == CLUSTER_AUTH_BEARER ? c->secret : NULL;
        o->ca_file = c->ca_file.path;
        o->client_cert_file = c->client_cert_file.path;
        o->client_key_file = c->client_key_file.path;
        o->verify_tls = c->verify_tls;
        o->connect_timeout_usec = c->connect_timeout_usec;
        o->request_timeout_usec = c->request_timeout_usec;
        o->max_result_window = c->max_result_window;
        o->max_in_flight = c->concurrency;
        o->expected_uuid = c->cluster_uuid;
        o->proxy = c->proxy;
        o->retry = (struct backoff_policy){
                .max_attempts = c->retry_max_attempts,
                .initial_delay_usec = c->retry_initial_delay_usec,
                .max_delay_usec = c->retry_max_delay_usec,
        };
}

static void cycle_log(struct cycle *c, int level, int error, const char *message_id, const char *fmt, ...)
        _printf_(5, 6);
static void cycle_log(struct cycle *c, int level, int error, const char *message_id, const char *fmt, ...) {
        const struct log_field f[] = { { "CYCLE_ID", c->id }, { "REVISION", c->revision } };
        va_list ap;

        va_start(ap, fmt);
        (void) log_eventv(level, error, message_id, f, c->revision[0] ? 2 : 1, fmt, ap);
        va_end(ap);
}

static void summary_printf(struct cycle *c, const char *fmt, ...) _printf_(2, 3);
static void summary_printf(struct cycle *c, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(c->result.summary, sizeof c->result.summary, fmt, ap);
        va_end(ap);
}

static void finish(struct cycle *c, enum cycle_status status) {
        struct cycle_result *r = &c->result;
        static const char *const names[_CYCLE_STATUS_MAX] = {
                [CYCLE_OK] = "ok",           [CYCLE_FAILED] = "failed", [CYCLE_INVALID] = "invalid",
                [CYCLE_BLOCKED] = "blocked", [CYCLE_BUSY] = "busy",     [CYCLE_RETRY] = "retry",
        };
        char deleted[24], failed[24];
        size_t len;
        struct log_field end[] = {
                { "CYCLE_ID", c->id }, { "RESULT", names[status] }, { "DELETED", deleted },
                { "FAILED", failed },  { "REVISION", c->revision },
        };

        c->timeout = sd_event_source_disable_unref(c->timeout);
        r->status = status;
        r->duration_usec = now_usec(CLOCK_MONOTONIC) - c->start_usec;
        len = strlen(r->summary);
        (void) snprintf(r->summary + len, sizeof r->summary - len, "; took %" PRIu64 ".%01" PRIu64 " s",
                        r->duration_usec / USEC_PER_SEC,
                        r->duration_usec % USEC_PER_SEC / (USEC_PER_SEC / 10));
        len = strlen(r->summary);
        if (c->revision[0])
                (void) snprintf(r->summary + len, sizeof r->summary - len, "; manifests at %.12s%s",
                                c->revision, c->stale ? " (stale: the fetch failed)" : "");
        if (c->cluster)
                r->http = *cluster_get_http_counts(c->cluster);
        (void) snprintf(deleted, sizeof deleted, "%zu", r->deleted);
        (void) snprintf(failed, sizeof failed, "%zu", r->failed);
        log_event(status == CYCLE_OK ? LOG_INFO : LOG_WARNING, 0, MESSAGE_CYCLE_END, end,
                  ELEMENTSOF(end) - !c->revision[0], "Cycle ended: %s", r->summary);

        /* The last thing done with 'c': the callback may free it. */
        c->done(c, r, c->userdata);
}

static void trip(struct cycle *c, enum cycle_guard g) {
        c->result.guards |= 1u << g;
}

static void summarize_plan(struct cycle *c) {
        struct cycle_result *r = &c->result;
        const struct plan *p = r->plan;
        char extra[256] = "";
        size_t n = 0;

#define EXTRA(...) \
        (n +=      \
         (size_t) snprintf(extra + MIN(n, sizeof extra), sizeof extra - MIN(n, sizeof extra), __VA_ARGS__))
        if (p->counts[PLAN_WAITING] > 0)
                EXTRA(", %zu waiting", p->counts[PLAN_WAITING]);
        if (r->changed > 0)
                EXTRA(", %zu changed since the listing", r->changed);
        if (r->not_deleted > 0)
                EXTRA(", %zu not deleted (%s)", r->not_deleted, r->timed_out ? "timed out" : "stopped");
        if (r->unknown > 0)
                EXTRA(", %zu of unknown outcome", r->unknown);
        if (r->changes) {
                const struct converge_plan *cp = r->changes;

                if (c->plan_only)
                        EXTRA(", %zu to create, %zu to update", cp->counts[CONVERGE_CREATE],
                              cp->counts[CONVERGE_UPDATE]);
                else if (c->dry_run)
                        EXTRA(", would create %zu, would update %zu", r->would_create, r->would_update);
                else
                        EXTRA(", created %zu, updated %zu", r->created, r->updated);
                if (r->change_failed > 0)
                        EXTRA(", %zu failed to create or update", r->change_failed);
                if (r->change_unknown > 0)
                        EXTRA(", %zu creates or updates of unknown outcome", r->change_unknown);
                if (cp->counts[CONVERGE_AWAITING] > 0)
                        EXTRA(", %zu awaiting schema", cp->counts[CONVERGE_AWAITING]);
                if (cp->counts[CONVERGE_DRIFT] > 0)
                        EXTRA(", %zu drifted", cp->counts[CONVERGE_DRIFT]);
                if (cp->counts[CONVERGE_SOFT_DELETED] > 0)
                        EXTRA(", %zu soft-deleted", cp->counts[CONVERGE_SOFT_DELETED]);
                if (cp->counts[CONVERGE_FAILED] > 0)
                        EXTRA(", %zu unreadable", cp->counts[CONVERGE_FAILED]);
        }
        (void) n;
#undef EXTRA

        if (c->plan_only)
                summary_printf(
                        c,
                        "planned %zu to delete, %zu to keep, %zu missing, %zu unmanaged, %zu protected%s%s",
                        p->counts[PLAN_DELETE], p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                        p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED], extra,
                        p->blocked ? " (blocked)" : "");
        else if (c->dry_run)
                summary_printf(
                        c,
                        "dry run: would delete %zu, kept %zu, %zu missing, %zu unmanaged, %zu protected%s",
                        r->would_delete, p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                        p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED], extra);
        else
                summary_printf(
                        c,
                        "deleted %zu, already gone %zu, failed %zu, kept %zu, %zu missing, %zu unmanaged, "
                        "%zu protected%s",
                        r->deleted, r->already_gone, r->failed, p->counts[PLAN_KEEP],
                        p->counts[PLAN_MISSING], p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED],
                        extra);
}

/* ---- What earlier cycles saw ---- */

static void load_state(struct cycle *c) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = state_load(c->config->state_dir, &c->state, &msg);
        if (r >= 0)
                return;
        if (r == -EBADMSG)
                cycle_log(c, LOG_WARNING, r, MESSAGE_STATE_INVALID,
                          "The state file '%s/%s' is not valid (%s): starting every orphan's clock anew, "
                          "with no "
                          "record of the last cycle's sets",
                          c->config->state_dir, STATE_FILE_NAME, strna(msg));
        else if (r != -ENOENT)
                cycle_log(c, LOG_WARNING, r, MESSAGE_STATE_INVALID,
                          "Failed to read the state file '%s/%s', starting every orphan's clock anew: %m",
                          c->config->state_dir, STATE_FILE_NAME);
        /* An empty state: a lost state restarts every clock; it never shortens one. */
        c->state = state_free(c->state);
        if (state_new(&c->state) < 0)
                c->state = NULL;
}

/* Whether the listing should show soft-deleted connectors (on 9.0 and later): when a set may purge
 * them (prune.purge_after), so that the plan sees the ones due. */
static bool wants_soft_deleted(const struct cycle *c) {
        for (size_t i = 0; i < c->manifest->n_sets; i++) {
                const struct plan_set *s = &c->manifest->sets[i];

                /* ... or when a set creates: a declared id that is a tombstone is not created over. */
                if ((s->prune_enabled && s->purge_after_usec > 0) || s->lifecycle.create)
                        return true;
        }
        return false;
}

/* Whether 'it' is an orphan protected because this program deleted it lately and it is back. */
static bool item_returned(const struct plan_item *it) {
        return it && it->kind == PLAN_PROTECTED && it->reason && streq(it->reason, PLAN_REASON_RETURNED);
}

/* Says, every cycle, which connectors came back after this program deleted them: something
 * re-creates them, and someone should decide. */
static void log_returned(struct cycle *c) {
        const struct plan *p = c->result.plan;

        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;
                const struct log_field f[] = { { "CYCLE_ID", c->id }, { "CONNECTOR_ID", it->id } };

                if (!item_returned(it))
                        continue;
                (void) log_event(
                        LOG_WARNING, 0, MESSAGE_CONNECTOR_RETURNED, f, ELEMENTSOF(f),
                        "Connector '%s' is back after this program deleted it: something re-creates "
                        "it (an Elastic Agent re-creates hard-deleted connectors); not deleting it "
                        "again until it is declared, no longer owned, or gone",
                        it->id);
        }
}

/* The connectors deleted lately, for the next cycle: those this cycle deleted (deleted_usec now),
 * and of the earlier ones, those back and protected or listed soft-deleted (kept while they are
 * listed so, the soft-deleted ones until their purge) and those not listed for fewer than
 * PLAN_DELETED_CYCLES cycles. An earlier one without a deleted_usec gets now: a purge's clock
 * starts late, never early. Sorted by id, each once; the strings are borrowed. *ret is NULL (and
 * *ret_n 0) when there are none. Returns 0 or -ENOMEM. */
static int deleted_lately(struct cycle *c, struct plan_deleted **ret, size_t *ret_n) {
        const struct plan *p = c->result.plan;
        const struct plan_deleted *old = c->state ? c->state->deleted : NULL;
        size_t n_old = c->state ? c->state->n_deleted : 0, n_new = 0, n = 0, i = 0, j = 0;
        const struct plan_item *deletes = p->items; /* PLAN_DELETE comes first, sorted by id */
        uint64_t now = c->plan_realtime_usec;
        _cleanup_free_ struct plan_deleted *a = NULL;

        for (size_t k = 0; c->exec && k < p->counts[PLAN_DELETE]; k++)
                if (exec_get_outcome(c->exec, deletes + k) == EXEC_DELETED)
                        n_new++;
        *ret = NULL;
        *ret_n = 0;
        if (n_old + n_new == 0)
                return 0;
        a = calloc(n_old + n_new, sizeof(*a));
        if (!a)
                return -ENOMEM;

        /* A merge of two sorted lists: the one deleted now wins over its earlier record. */
        while (i < n_old || j < p->counts[PLAN_DELETE]) {
                const struct plan_item *d = j < p->counts[PLAN_DELETE] ? deletes + j : NULL;
                int cmp = i >= n_old ? 1 : !d ? -1 : strcmp(old[i].id, d->id);

                if (cmp >= 0) {
                        if (c->exec && exec_get_outcome(c->exec, d) == EXEC_DELETED)
                                a[n++] = (struct plan_deleted){ .id = d->id, .deleted_usec = now };
                        j++;
                        if (cmp == 0)
                                i++;
                        continue;
                }

                const struct plan_item *it = plan_find(p, old[i].id);
                bool listed = it && it->connector && !it->connector->deleted;
                bool soft = it && it->connector && it->connector->deleted;

                if (listed ? item_returned(it) : soft || old[i].cycles_absent + 1 < PLAN_DELETED_CYCLES)
                        a[n++] = (struct plan_deleted){
                                .id = old[i].id,
                                .cycles_absent = listed || soft ? 0 : old[i].cycles_absent + 1,
                                .deleted_usec = old[i].deleted_usec ?: now,
                        };
                i++;
        }
        if (n > 0) {
                *ret = TAKE_PTR(a);
                *ret_n = n;
        }
        return 0;
}

static void save_revision(struct cycle *c);

/* Remembers the orphans still to delete (with since when), the connectors deleted lately and,
 * when the plan was carried out, which set declared what. Returns 0 or a negative errno, logged. */
static int save_state(struct cycle *c, bool carried_out) {
        const struct plan *p = c->result.plan;
        _cleanup_free_ struct plan_orphan_seen *orphans = NULL;
        _cleanup_free_ struct plan_prior *prior = NULL;
        _cleanup_free_ struct plan_deleted *deleted = NULL;
        struct state s = {};
        size_t n = 0;
        int r;

        r = deleted_lately(c, &deleted, &s.n_deleted);
        if (r < 0)
                return log_error_errno(r, "Failed to save the state: %m");
        s.deleted = deleted;

        orphans =
                calloc(MAX(p->counts[PLAN_DELETE] + p->counts[PLAN_WAITING], (size_t) 1), sizeof(*orphans));
        if (!orphans)
                return log_error_errno(-ENOMEM, "Failed to save the state: %m");
        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;

                if (it->kind != PLAN_DELETE && it->kind != PLAN_WAITING)
                        continue;
                /* A connector gone now, or no orphan any more, starts its clock anew should it
                 * come back. */
                if (it->kind == PLAN_DELETE && c->exec) {
                        enum exec_outcome o = exec_get_outcome(c->exec, it);

                        if (o == EXEC_DELETED || o == EXEC_ALREADY_GONE || o == EXEC_CHANGED)
                                continue;
                }
                orphans[n++] = (struct plan_orphan_seen){ .id = it->id, .since_usec = it->since_usec };
        }
        s.orphans = orphans;
        s.n_orphans = n;

        if (carried_out) {
                const struct manifest *m = c->manifest;
                size_t k = 0;

                prior = calloc(MAX(m->n_declared, (size_t) 1), sizeof(*prior));
                if (!prior)
                        return log_error_errno(-ENOMEM, "Failed to save the state: %m");
                for (size_t i = 0; i < m->n_sets; i++)
                        for (size_t j = 0; j < m->sets[i].n_connectors; j++)
                                prior[k++] = (struct plan_prior){
                                        .id = m->sets[i].connectors[j].id,
                                        .set = m->sets[i].name,
                                };
                s.prior = prior;
                s.n_prior = k;
                s.have_prior = true;
        } else if (c->state) {
                s.prior = c->state->prior;
                s.n_prior = c->state->n_prior;
                s.have_prior = c->state->have_prior;
        }

        if (c->lifecycle_result) {
                s.creating = c->lifecycle_result->creating;
                s.n_creating = c->lifecycle_result->n_creating;
        } else if (c->state) {
                s.creating = c->state->creating;
                s.n_creating = c->state->n_creating;
        }

        r = state_save(c->config->state_dir, &s);
        if (r >= 0 && carried_out)
                save_revision(c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_STATE_INVALID, "Failed to save the state to '%s/%s': %m",
                          c->config->state_dir, STATE_FILE_NAME);
                return r;
        }
        return 0;
}

static int escaped_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool escaped_is_live(const char *escaped, void *userdata) {
        const struct cycle *c = userdata;

        return bsearch(&escaped, c->live_escaped, c->n_live_escaped, sizeof(char *), escaped_cmp);
}

/* backup_retention: removes the backups older than that, but the newest of each connector the
 * cluster does not list, which may be its only copy. Best effort: a failure is logged, the cycle
 * goes on. */
static void prune_backups(struct cycle *c) {
        const struct config *cfg = c->config;
        const struct cluster_listing *l = c->listing;
        uint64_t now = now_usec(CLOCK_REALTIME);
        size_t removed = 0;
        int r;

        if (cfg->backup_retention_usec == 0 || !l || now < cfg->backup_retention_usec)
                return;

        c->live_escaped = calloc(MAX(l->n_connectors, (size_t) 1), sizeof(char *));
        if (!c->live_escaped) {
                log_error_errno(-ENOMEM, "Failed to remove old backups: %m");
                return;
        }
        for (size_t i = 0; i < l->n_connectors; i++) {
                if (l->connectors[i].deleted)
                        continue; /* soft-deleted: its backup may be all that is left to restore from */
                c->live_escaped[c->n_live_escaped] = backup_escape_id(l->connectors[i].id);
                if (!c->live_escaped[c->n_live_escaped]) {
                        log_error_errno(-ENOMEM, "Failed to remove old backups: %m");
                        return;
                }
                c->n_live_escaped++;
        }
        qsort(c->live_escaped, c->n_live_escaped, sizeof(char *), escaped_cmp);

        r = backup_prune(cfg->backup_dir, now - cfg->backup_retention_usec, escaped_is_live, c, &removed);
        if (r == -ENOENT)
                return; /* no backup yet */
        if (r < 0)
                cycle_log(c, LOG_WARNING, r, MESSAGE_BACKUP_FAILED,
                          "Failed to remove some backups older than backup_retention from '%s': %m",
                          cfg->backup_dir);
        if (removed > 0)
                cycle_log(c, LOG_INFO, 0, NULL, "Removed %zu backup%s older than backup_retention from '%s'",
                          removed, removed == 1 ? "" : "s", cfg->backup_dir);
}

/* The cycle is over for the plan (carried out or not): remember what it saw, then finish. */
static void finish_with_state(struct cycle *c, enum cycle_status status, bool carried_out) {
        if (!c->plan_only && !c->dry_run && c->result.plan)
                prune_backups(c);
        if (!c->plan_only && !c->dry_run && c->result.plan && save_state(c, carried_out) < 0) {
                trip(c, CYCLE_GUARD_STATE_UNUSABLE);
                if (status == CYCLE_OK) {
                        status = CYCLE_FAILED;
                        (void) snprintf(c->result.summary + strlen(c->result.summary),
                                        sizeof c->result.summary - strlen(c->result.summary),
                                        "; the state was not saved");
                }
        }
        finish(c, status);
}

static int start_listing(struct cycle *c);

/* ---- The manifests: one snapshot ---- */

static void digest_to_text(const uint8_t d[static MANIFEST_DIGEST_SIZE],
                           char out[static 8 + 2 * MANIFEST_DIGEST_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        char *p = stpcpy(out, "sha256:");

        for (size_t i = 0; i < MANIFEST_DIGEST_SIZE; i++) {
                *p++ = hex[d[i] >> 4];
                *p++ = hex[d[i] & 15];
        }
        *p = '\0';
}

/* Whether the manifests are still the snapshot the plan was made from: no Git operation in
 * progress on them, and the same bytes. Returns 1, or 0 with *ret_reason (owned by the caller). */
static int manifests_unchanged(struct cycle *c, char **ret_reason) {
        struct yaml_read_diags errors = {};
        uint8_t digest[MANIFEST_DIGEST_SIZE];
        char *what = NULL;
        int r;

        if (c->config->git.enabled) {
                char id[GIT_SOURCE_ID_SIZE];
                _cleanup_free_ char *m = NULL;

                /* A commit does not change; the ref may have moved to another since. */
                r = git_source_resolve(&c->git, c->config->git.ref, id, &m);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        *ret_reason =
                                strdup_printf("the manifests' ref cannot be resolved again: %s", strna(m));
                else if (!streq(id, c->revision))
                        *ret_reason = strdup_printf(
                                "the manifests' ref moved from %s to %s during this cycle", c->revision, id);
                else
                        return 1;
                return *ret_reason ? 0 : -ENOMEM;
        }

        r = manifest_git_busy(c->config->manifests, &what);
        if (r > 0) {
                *ret_reason = what;
                return 0;
        }
        if (r < 0)
                log_debug_errno(r, "Failed to look for a Git operation on '%s', ignoring: %m",
                                c->config->manifests);

        r = manifest_digest(c->config->manifests, digest, &errors);
        if (r < 0) {
                *ret_reason = strdup_printf("the manifests at '%s' cannot be read again (%zu errors)",
                                            c->config->manifests, yaml_read_diags_count(&errors));
                yaml_read_diags_done(&errors);
                return 0;
        }
        yaml_read_diags_done(&errors);
        if (memcmp(digest, c->manifest->digest, MANIFEST_DIGEST_SIZE) != 0) {
                *ret_reason = strdup_printf(
                        "the manifests at '%s' changed since this cycle read them (a git pull, "
                        "an editor, a deploy?)",
                        c->config->manifests);
                return 0;
        }
        return 1;
}

/* After a load of the manifests (from 'where', of the commit 'revision' or NULL) into c->manifest
 * returned 'r' with 'errors' (freed here): reports what is wrong and returns -EINVAL (or
 * -ENOMEM); or takes their digest and returns 0. */
static int manifests_loaded(struct cycle *c, int r, struct yaml_read_diags *errors, const char *where,
                            const char *revision) {
        if (r < 0) {
                for (size_t i = 0; i < errors->n_items; i++)
                        cycle_log(c, LOG_ERR | LOG_ESCAPED, 0, NULL, "%s", errors->items[i].text);
                cycle_log(c, LOG_ERR, 0, MESSAGE_MANIFESTS_INVALID,
                          "The manifests %s '%s'%s%s are invalid (%zu errors), deleting nothing",
                          revision ? "in" : "at", where, revision ? " at " : "", strempty(revision),
                          yaml_read_diags_count(errors));
                summary_printf(c, "manifests invalid (%zu errors): deleted nothing",
                               yaml_read_diags_count(errors));
                yaml_read_diags_done(errors);
                return r == -ENOMEM ? r : -EINVAL;
        }
        yaml_read_diags_done(errors);
        for (size_t i = 0; i < c->manifest->skipped.n_items; i++)
                log_full(LOG_DEBUG | LOG_ESCAPED, "%s", c->manifest->skipped.items[i].text);
        digest_to_text(c->manifest->digest, c->digest);
        c->result.manifests_digest = c->digest;
        c->result.manifest = c->manifest;
        return 0;
}

static int load_manifests(struct cycle *c) {
        struct yaml_read_diags errors = {};
        int r;

        r = manifest_load(c->config->manifests, &c->manifest, &errors);
        r = manifests_loaded(c, r, &errors, c->config->manifests, NULL);
        if (r < 0)
                return r;
        log_debug("Read %zu sets declaring %zu connectors from %zu files (%s)", c->manifest->n_sets,
                  c->manifest->n_declared, c->manifest->n_files, c->digest);
        return 0;
}

/* ---- The manifests from a Git commit ---- */

/* The last commit a cycle carried out a plan from, kept in the state folder to notice a ref that
 * was moved back or sideways (a force-push). */
#define REVISION_FILE_NAME "revision"

static void save_revision(struct cycle *c) {
        char line[GIT_SOURCE_ID_SIZE + 1];
        int r;

        if (!c->revision[0] || c->revision_ref)
                return;
        (void) snprintf(line, sizeof line, "%s\n", c->revision);
        r = fs_write_atomic(c->config->state_dir, REVISION_FILE_NAME, line, strlen(line), 0600);
        if (r < 0)
                cycle_log(c, LOG_WARNING, r, NULL, "Failed to record the revision applied in '%s/%s': %m",
                          c->config->state_dir, REVISION_FILE_NAME);
}

/* Warns when the commit read does not descend from the last one applied. */
static void check_ancestry(struct cycle *c) {
        _cleanup_free_ char *path = NULL, *last = NULL;
        size_t size;
        int r;

        path = strdup_printf("%s/%s", c->config->state_dir, REVISION_FILE_NAME);
        if (!path || fs_read_file(path, 4096, &last, &size) < 0)
                return;
        last[strcspn(last, "\n")] = '\0';
        if (strlen(last) != GIT_SOURCE_ID_SIZE - 1 || streq(last, c->revision))
                return;
        r = git_source_descends(&c->git, c->revision, last);
        if (r == 0)
                cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                          "The manifests' ref moved to %s, which does not descend from %s, the commit last "
                          "applied: a force-push, or a ref pointed elsewhere?",
                          c->revision, last);
        else if (r == -ENOENT)
                cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                          "The manifests' ref moved to %s; %s, the commit last applied, is no longer in the "
                          "repository: a force-push?",
                          c->revision, last);
}

/* The manifests of the commit the ref names, as load_manifests() reads a folder's. */
static int load_git(struct cycle *c) {
        const struct config_git *g = &c->config->git;
        const struct log_field f[] = { { "CYCLE_ID", c->id } };
        _cleanup_(git_snapshot_freep) struct git_snapshot *snap = NULL;
        _cleanup_free_ char *message = NULL;
        struct yaml_read_diags errors = {};
        const char *ref = c->revision_ref ? c->revision_ref : g->ref;
        int r;

        r = git_source_read(&c->git, ref, g->path, &snap, &message);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_event(LOG_ERR, r, MESSAGE_MANIFESTS_INVALID, f, ELEMENTSOF(f),
                          "The manifests in '%s' (%s%s%s) cannot be read, deleting nothing: %s", g->url,
                          ref ? "ref " : "", ref ? ref : "HEAD", c->stale ? ", as last fetched" : "",
                          strna(message));
                summary_printf(c, "manifests unreadable: deleted nothing");
                return -EINVAL;
        }
        memcpy(c->revision, snap->revision, sizeof c->revision);
        c->result.revision = c->revision;

        {
                _cleanup_free_ char *principal = NULL, *why = NULL;

                r = manifest_source_verify(c->config, snap, &principal, &why);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0) {
                        cycle_log(c, LOG_ERR, 0, MESSAGE_MANIFESTS_INVALID,
                                  "The manifests in '%s' are not from a commit signed as "
                                  "manifests.verify asks, deleting nothing: %s",
                                  g->url, strna(why));
                        summary_printf(c, "manifests unverified: deleted nothing");
                        return -EPERM;
                }
                if (principal)
                        cycle_log(c, LOG_INFO, 0, NULL, "Commit %s is signed by '%s' (manifests.verify)",
                                  c->revision, principal);
        }

        r = manifest_load_files(snap->files, snap->n_files, &c->manifest, &errors);
        r = manifests_loaded(c, r, &errors, g->url, c->revision);
        if (r < 0)
                return r;
        cycle_log(c, LOG_INFO, 0, NULL,
                  "Read %zu sets declaring %zu connectors from %zu files of commit %s%s",
                  c->manifest->n_sets, c->manifest->n_declared, c->manifest->n_files, c->revision,
                  c->stale ? " (stale: the last fetched)" : "");
        check_ancestry(c);
        return 0;
}

/* After the manifests were read, from wherever: what earlier cycles saw, then the listing. */
static void after_manifests(struct cycle *c) {
        int r;

        if (c->stale && !c->plan_only) {
                trip(c, CYCLE_GUARD_MANIFESTS_STALE);
                summary_printf(c, "the manifests could not be fetched: deleted nothing");
                finish(c, CYCLE_FAILED);
                return;
        }
        load_state(c);
        r = start_listing(c);
        if (r < 0)
                finish(c, CYCLE_FAILED);
}

static void git_loaded(struct cycle *c) {
        int r;

        r = load_git(c);
        if (r < 0 && c->stale && r != -ENOMEM) {
                /* Nothing fetched that could be read: the fetch's failure, not the manifests'. */
                trip(c, CYCLE_GUARD_MANIFESTS_STALE);
                summary_printf(c, "the manifests could not be fetched: deleted nothing");
                finish(c, CYCLE_FAILED);
                return;
        }
        if (r < 0) {
                if (r == -EPERM)
                        trip(c, CYCLE_GUARD_MANIFESTS_UNVERIFIED);
                else if (r != -ENOMEM)
                        trip(c, CYCLE_GUARD_MANIFESTS_INVALID);
                finish(c, r == -ENOMEM ? CYCLE_FAILED : CYCLE_INVALID);
                return;
        }
        after_manifests(c);
}

/* The stamp beside the mirror whose time is that of the last fetch that worked. */
static char *fetched_stamp(const struct cycle *c) {
        return strdup_printf("%s.fetched", c->mirror);
}

static bool fetch_due(const struct cycle *c) {
        _cleanup_free_ char *stamp = NULL;
        struct stat st;
        usec_t then, now = now_usec(CLOCK_REALTIME);

        if (c->config->git.fetch_interval_usec == 0 || c->git.extra_ref || c->fetch_now)
                return true;
        stamp = fetched_stamp(c);
        if (!stamp || stat(stamp, &st) < 0)
                return true;
        then = (usec_t) st.st_mtim.tv_sec * USEC_PER_SEC + (usec_t) st.st_mtim.tv_nsec / 1000;
        return then > now || now - then >= c->config->git.fetch_interval_usec;
}

static void on_fetched(struct git_fetch *f, int error, const char *message, void *userdata) {
        struct cycle *c = userdata;
        _cleanup_free_ char *stamp = NULL;

        if (error < 0) {
                c->stale = true;
                c->result.revision_stale = true;
                cycle_log(c, LOG_ERR, error, MESSAGE_MANIFESTS_INVALID,
                          "Fetching the manifests from '%s' failed: %s; the last fetched commit stays, and "
                          "%s",
                          c->config->git.url, message,
                          c->plan_only ? "the plan is made from it (stale)" : "nothing is deleted");
        } else {
                _cleanup_close_ int fd = -1;

                stamp = fetched_stamp(c);
                fd = stamp ? open(stamp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600) : -1;
                if (fd >= 0)
                        (void) futimens(fd, NULL);
                log_debug("Fetched '%s' into '%s'", c->config->git.url, c->mirror);
        }
        /* 'message' is the fetch's: freed with it. */
        c->fetch = git_fetch_free(c->fetch);
        git_loaded(c);
}

static int start_git(struct cycle *c) {
        const struct config *cfg = c->config;
        int r;

        manifest_source_git_options(cfg, NULL, &c->git);
        if (c->revision_ref && startswith(c->revision_ref, "refs/"))
                c->git.extra_ref = c->revision_ref;
        if (!cfg->git.remote) {
                git_loaded(c);
                return 0;
        }
        c->mirror = git_source_mirror_path(cfg->state_dir, cfg->git.url);
        if (!c->mirror)
                return -ENOMEM;
        c->git.mirror = c->mirror;
        if (!fetch_due(c)) {
                log_debug("Not fetching '%s': fetched less than manifests.fetch_interval ago", cfg->git.url);
                git_loaded(c);
                return 0;
        }
        r = git_fetch_start(&c->fetch, c->event, &c->git, cfg->request_timeout_usec, on_fetched, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to start fetching '%s': %m", cfg->git.url);
                summary_printf(c, "failed to start fetching the manifests: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* ---- The executor's hooks ---- */

static int hook_recheck(const struct plan_item *item, const struct plan_connector *doc,
                        bool *ret_delete_sync_jobs, bool *ret_hard, char **ret_reason, void *userdata) {
        struct cycle *c = userdata;
        struct plan_recheck rc;
        size_t set, conn;
        int r;

        r = plan_recheck(c->manifest->sets, c->manifest->n_sets, item, doc,
                         manifest_find(c->manifest, doc->id, &set, &conn), &rc);
        if (r < 0)
                return r;
        if (!rc.delete) {
                *ret_reason = TAKE_PTR(rc.reason);
                plan_recheck_done(&rc);
                return 0;
        }
        *ret_delete_sync_jobs = rc.delete_sync_jobs;
        *ret_hard = rc.hard;
        plan_recheck_done(&rc);
        return 1;
}

static int hook_may_delete(char **ret_reason, void *userdata) {
        return manifests_unchanged(userdata, ret_reason);
}

static void hook_progress(size_t done, size_t total, void *userdata) {
        struct cycle *c = userdata;

        cycle_log(c, LOG_INFO, 0, NULL, "Deleting connectors: %zu of %zu done, %" PRIu64 " s so far", done,
                  total, (now_usec(CLOCK_MONOTONIC) - c->start_usec) / USEC_PER_SEC);
        if (c->progress)
                c->progress(done, total, c->userdata);
}

/* ---- The cycle's steps ---- */

static void start_changes(struct cycle *c, enum cycle_status status, bool carried_out);

static void on_exec_done(struct exec *e, const struct exec_result *er, void *userdata) {
        struct cycle *c = userdata;
        struct cycle_result *r = &c->result;
        enum cycle_status status;

        r->deleted = er->deleted;
        r->already_gone = er->already_gone;
        r->failed = er->failed + er->jobs_failed;
        r->changed = er->changed;
        r->not_deleted = er->not_deleted;
        r->unknown = er->unknown;
        summarize_plan(c);

        /* Where to look before a restore, without searching the log for each BACKUP_PATH. */
        if (r->deleted + r->unknown > 0) {
                size_t n = r->deleted + r->unknown;
                char unknown[64] = "";

                if (r->unknown > 0)
                        (void) snprintf(unknown, sizeof unknown, " (and of the %zu of unknown outcome)",
                                        r->unknown);
                cycle_log(c, LOG_INFO, 0, NULL, "%s of the %zu deleted connector%s%s %s in '%s'",
                          n == 1 ? "The backup" : "Backups", r->deleted, r->deleted == 1 ? "" : "s", unknown,
                          n == 1 ? "is" : "are", c->config->backup_dir);
        }

        if (er->halted) {
                cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                          "Stopped deleting: %s; %zu connectors were left for the next cycle", er->halted,
                          er->not_deleted);
                status = CYCLE_RETRY;
        } else if (r->timed_out || r->stopped || r->failed > 0 || r->unknown > 0)
                status = CYCLE_FAILED;
        else
                status = CYCLE_OK;

        /* The plan was carried out unless something cut it short. */
        if (er->halted || er->stopped)
                return finish_with_state(c, status, false);
        start_changes(c, status, true);
}

/* What in the config to look at for an error the config can cause and fix: a refused credential
 * (401), a credential without the privileges (403), a certificate that did not verify. Written to
 * 'buf' as "; ..." (empty for any other error). */
static void cluster_error_hint(const struct cycle *c, int error, const struct cluster_error *err, char *buf,
                               size_t size) {
        const struct config *cfg = c->config;
        const struct config_file *sf = &cfg->secret_file;
        char at[32] = "";

        buf[0] = '\0';
        if (sf->path && sf->line > 0)
                (void) snprintf(at, sizeof at, ":%u", sf->line);

        if (err && err->status == 401) {
                if (cfg->auth == CLUSTER_AUTH_NONE)
                        (void) snprintf(
                                buf, size,
                                "; the cluster wants credentials and none are configured: set "
                                "cluster.api_key_file (or cluster.username and cluster.password_file) "
                                "in %s",
                                cfg->path);
                else if (cfg->auth == CLUSTER_AUTH_BASIC)
                        (void) snprintf(buf, size,
                                        "; the cluster refused the user: check cluster.username and "
                                        "cluster.password_file in %s%s",
                                        cfg->path, at);
                else
                        (void) snprintf(buf, size, "; the cluster refused the credential: check %s in %s%s",
                                        strna(sf->key), cfg->path, at);
        } else if (err && err->status == 403)
                (void) snprintf(buf, size,
                                "; the credential%s%s lacks a privilege: listing needs monitor and "
                                "monitor_connector, deleting manage_connector (see PRIVILEGES in "
                                "connector-reconciler(8))",
                                sf->key ? " in " : "", strempty(sf->key));
        else if (error == -EKEYREJECTED) {
                if (cfg->ca_file.path)
                        (void) snprintf(buf, size,
                                        "; the cluster's certificate did not verify against cluster.ca_file "
                                        "'%s' (%s:%u): check that it holds the CA that signed it, or "
                                        "cluster.verify_tls",
                                        cfg->ca_file.path, cfg->path, cfg->ca_file.line);
                else
                        (void) snprintf(
                                buf, size,
                                "; the cluster's certificate did not verify against the system's CAs: "
                                "set cluster.ca_file in %s to the CA that signed it (or, not "
                                "advised, cluster.verify_tls: false)",
                                cfg->path);
        }
}

static void log_cluster_error(struct cycle *c, int error, const struct cluster_error *err,
                              const char *what) {
        char status[16], hint[512];
        const struct log_field f[] = {
                { "CYCLE_ID", c->id },
                { "HTTP_STATUS", status },
        };
        const char *text = err && err->message ? err->message : strerror(-error);

        (void) snprintf(status, sizeof status, "%d", err ? err->status : 0);
        cluster_error_hint(c, error, err, hint, sizeof hint);
        log_event(LOG_ERR, error, error == -ESTALE ? MESSAGE_CLUSTER_MISMATCH : MESSAGE_CLUSTER_FAILED, f,
                  err && err->status > 0 ? 2 : 1, "Failed to %s %s, deleting nothing: %s%s", what,
                  cluster_get_url(c->cluster), text, hint);
        summary_printf(c, "failed to %s the cluster: %s", what, text);
}

/* GET / again, right before the first write, failed: or named another cluster. Nothing written. */
static void reidentify_failed(struct cycle *c, int error, const struct cluster_error *err) {
        if (error == -ESTALE)
                trip(c, CYCLE_GUARD_CLUSTER_MISMATCH);
        log_cluster_error(c, error, err, "check again the identity of");
        finish_with_state(c, CYCLE_FAILED, false);
}

static void start_deleting(struct cycle *c) {
        const struct cluster_info *info = cluster_get_info(c->cluster);
        const struct exec_hooks hooks = {
                .recheck = hook_recheck,
                .may_delete = hook_may_delete,
                .progress = hook_progress,
                .userdata = c,
        };
        struct exec_options eo;
        int r;

        c->record = (struct backup_record){
                .cycle_id = c->id,
                .cluster_url = cluster_get_url(c->cluster),
                .cluster_name = info ? info->cluster_name : NULL,
                .cluster_uuid = info ? info->cluster_uuid : NULL,
                .es_version = info ? info->version : NULL,
                .manifests_path = c->config->manifests,
                .manifests_digest = c->digest,
                .manifests_revision = c->revision[0] ? c->revision : NULL,
        };
        eo = (struct exec_options){
                .backup_dir = c->config->backup_dir,
                .concurrency = c->config->concurrency,
                .cycle_id = c->id,
                .record = &c->record,
                .hooks = &hooks,
        };
        r = exec_start(&c->exec, c->event, c->cluster, c->result.plan, &eo, on_exec_done, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to start deleting: %m");
                summary_printf(c, "failed to start deleting: %s", strerror(-r));
                return finish_with_state(c, CYCLE_FAILED, false);
        }
}

/* The cluster answered GET / again right before the first DELETE. */
static void on_identified(struct cluster *cl, int error, const struct cluster_info *info,
                          const struct cluster_error *err, void *userdata) {
        struct cycle *c = userdata;
        _cleanup_free_ char *reason = NULL;
        int r;

        if (error < 0)
                return reidentify_failed(c, error, err);

        c->identified = true;
        /* The manifests, read again right before the first DELETE: the plan stands only on the
         * snapshot it was made from. */
        r = manifests_unchanged(c, &reason);
        if (r <= 0) {
                cycle_log(c, LOG_WARNING, r, MESSAGE_MANIFESTS_CHANGED,
                          "Deleting nothing: %s; trying again soon", reason ? reason : strerror(-r));
                summary_printf(c, "deleted nothing: %s", reason ? reason : strerror(-r));
                c->result.not_deleted = c->result.plan->counts[PLAN_DELETE];
                return finish_with_state(c, CYCLE_RETRY, false);
        }
        start_deleting(c);
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
                f[n++] = (struct log_field){ "CYCLE_ID", c->id };
                f[n++] = (struct log_field){ "CONNECTOR_ID", it->id };
                if (pc && pc->service_type)
                        f[n++] = (struct log_field){ "CONNECTOR_SERVICE_TYPE", pc->service_type };
                f[n++] = (struct log_field){ "DELETE_SYNC_JOBS", it->delete_sync_jobs ? "true" : "false" };
                f[n++] = (struct log_field){ "HARD", it->hard ? "true" : "false" };
                log_event(LOG_NOTICE, 0, MESSAGE_WOULD_DELETE, f, n, "Dry run: would delete connector '%s'",
                          it->id);
                c->result.would_delete++;
        }
}

static void log_identity(struct cycle *c, const struct cluster_listing *listing) {
        const struct cluster_info *info = cluster_get_info(c->cluster);
        const struct log_field f[] = {
                { "CYCLE_ID", c->id },
                { "CLUSTER_NAME", strempty(info->cluster_name) },
                { "CLUSTER_UUID", strempty(info->cluster_uuid) },
                { "ES_VERSION", info->version },
        };
        char attempts[64] = "";

        if (listing->attempts > 1)
                (void) snprintf(attempts, sizeof attempts, " (consistent at the %u%s listing)",
                                listing->attempts,
                                listing->attempts == 2   ? "nd"
                                : listing->attempts == 3 ? "rd"
                                                         : "th");
        log_event(LOG_INFO, 0, MESSAGE_CLUSTER_IDENTITY, f, ELEMENTSOF(f),
                  "Listed %zu connectors of cluster '%s' (cluster_uuid %s, Elasticsearch %s) at %s%s",
                  listing->n_connectors, strna(info->cluster_name), strna(info->cluster_uuid), info->version,
                  cluster_get_url(c->cluster), attempts);
}

static bool only(const struct cycle *c, enum cycle_only kind) {
        return c->only == 0 || (c->only & kind);
}

/* Whether this cycle carries out the creates (CYCLE_ONLY_CREATE) or the updates
 * (CYCLE_ONLY_UPDATE) it plans: --only may leave them out, and a saved plan holds deletions only,
 * so that what it does not show is not done. */
static bool writes_kind(const struct cycle *c, enum cycle_only kind) {
        return only(c, kind) && !c->saved_plan;
}

/* The creates and updates this cycle carries out: what safety.max_updates counts. */
static size_t writes_planned(const struct cycle *c) {
        return (writes_kind(c, CYCLE_ONLY_CREATE) ? c->changes.counts[CONVERGE_CREATE] : 0) +
               (writes_kind(c, CYCLE_ONLY_UPDATE) ? c->changes.counts[CONVERGE_UPDATE] : 0);
}

static int hook_may_write(char **ret_reason, void *userdata) {
        return manifests_unchanged(userdata, ret_reason);
}

static void on_changes_done(struct lifecycle *l, const struct lifecycle_result *lr, void *userdata) {
        struct cycle *c = userdata;
        struct cycle_result *r = &c->result;
        enum cycle_status status = c->delete_status;

        (void) l;
        c->lifecycle_result = lr;
        r->created = lr->created;
        r->updated = lr->updated;
        r->change_failed = lr->failed;
        r->change_changed = lr->changed;
        r->would_create = lr->would_create;
        r->would_update = lr->would_update;
        r->change_unknown = lr->unknown;
        static_assert(sizeof r->change_outcomes == sizeof lr->outcomes &&
                              ELEMENTSOF(r->change_outcomes) == _LIFECYCLE_KINDS_MAX &&
                              ELEMENTSOF(r->change_outcomes[0]) == _LIFECYCLE_OUTCOME_MAX &&
                              LIFECYCLE_OK == 0 && LIFECYCLE_ERROR == 1 && LIFECYCLE_SKIPPED == 2,
                      "cycle_result's change_outcomes is lifecycle_result's outcomes");
        memcpy(r->change_outcomes, lr->outcomes, sizeof r->change_outcomes);
        c->apply_grace = sd_event_source_disable_unref(c->apply_grace);
        if (lr->halted) {
                cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                          "Creating and updating nothing: %s; trying again soon", lr->halted);
                if (status == CYCLE_OK)
                        status = CYCLE_RETRY;
        } else if ((lr->failed > 0 || lr->not_done > 0 || lr->unknown > 0 ||
                    c->changes.counts[CONVERGE_FAILED] > 0 || c->result.stopped || c->result.timed_out) &&
                   status == CYCLE_OK)
                status = CYCLE_FAILED;
        summarize_plan(c);
        if (c->dry_run)
                return finish(c, status);
        finish_with_state(c, status, c->delete_carried_out);
}

static void start_applying(struct cycle *c) {
        int r;

        c->applying = true;
        r = lifecycle_apply(c->lifecycle, c->dry_run, on_changes_done, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to start creating and updating: %m");
                summary_printf(c, "failed to start creating and updating: %s", strerror(-r));
                if (c->dry_run)
                        return finish(c, CYCLE_FAILED);
                return finish_with_state(c, CYCLE_FAILED, false);
        }
}

/* GET / again right before the first create or update, when no delete asked it already. */
static void on_identified_for_changes(struct cluster *cl, int error, const struct cluster_info *info,
                                      const struct cluster_error *err, void *userdata) {
        struct cycle *c = userdata;

        (void) cl;
        (void) info;
        if (error < 0)
                return reidentify_failed(c, error, err);
        c->identified = true;
        start_applying(c);
}

/* The deletions are over ('status', and whether the plan was carried out): now the creations and
 * updates, when a set asks for them. */
static void start_changes(struct cycle *c, enum cycle_status status, bool carried_out) {
        int r;

        c->delete_status = status;
        c->delete_carried_out = carried_out;
        if (!c->lifecycle) {
                summarize_plan(c);
                if (c->dry_run)
                        return finish(c, status);
                return finish_with_state(c, status, carried_out);
        }
        if (writes_planned(c) == 0 || c->dry_run || c->identified)
                return start_applying(c);
        r = cluster_identify(c->cluster, on_identified_for_changes, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_CLUSTER_FAILED, "Failed to check the cluster again: %m");
                summary_printf(c, "failed to check the cluster again: %s", strerror(-r));
                return finish_with_state(c, CYCLE_FAILED, false);
        }
}

static void after_plan(struct cycle *c);
static void on_surveyed(struct lifecycle *l, int error, void *userdata);

static void on_listed(struct cluster *cl, int error, struct cluster_listing *listing,
                      const struct cluster_error *err, void *userdata) {
        struct cycle *c = userdata;
        const struct config *cfg = c->config;
        struct plan_policy policy;
        int r;

        if (error < 0) {
                c->result.cluster = cluster_get_info(cl);
                if (error == -ESTALE)
                        trip(c, CYCLE_GUARD_CLUSTER_MISMATCH);
                else if ((error == -EAGAIN || error == -EOVERFLOW) && (!err || err->status == 0))
                        /* Not an answer's status (a 503 is -EAGAIN too): the listing's own
                         * refusal, inconsistent pages or more than the result window. */
                        trip(c, CYCLE_GUARD_LISTING_INCOMPLETE);
                log_cluster_error(c, error, err, "list the connectors of");
                return finish(c, CYCLE_FAILED);
        }
        c->listing = listing;
        c->result.cluster = cluster_get_info(cl);
        log_identity(c, listing);

        policy = (struct plan_policy){
                .max_deletions = c->max_deletions_set ? c->max_deletions : cfg->max_deletions,
                .orphan_grace_usec = cfg->orphan_grace_usec,
                .now_usec = c->plan_realtime_usec = now_usec(CLOCK_REALTIME),
                .seen = c->state ? c->state->orphans : NULL,
                .n_seen = c->state ? c->state->n_orphans : 0,
                .prior = c->state && c->state->have_prior ? c->state->prior : NULL,
                .n_prior = c->state && c->state->have_prior ? c->state->n_prior : 0,
                .confirmed_removed = c->confirmed,
                .n_confirmed_removed = c->n_confirmed,
                .deleted = c->state ? c->state->deleted : NULL,
                .n_deleted = c->state ? c->state->n_deleted : 0,
        };
        r = plan_build(c->manifest->sets, c->manifest->n_sets, listing->connectors, listing->n_connectors,
                       &policy, &c->result.plan);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to plan: %m");
                summary_printf(c, "planning failed: %s", strerror(-r));
                return finish(c, CYCLE_FAILED);
        }

        if (!lifecycle_wanted(c->manifest))
                return after_plan(c);
        {
                const struct lifecycle_options lo = {
                        .manifest = c->manifest,
                        .plan = c->result.plan,
                        .creating = c->state ? c->state->creating : NULL,
                        .n_creating = c->state ? c->state->n_creating : 0,
                        .secrets_dir = cfg->secrets_dir,
                        .concurrency = cfg->concurrency,
                        .cycle_id = c->id,
                        .now_usec = c->plan_realtime_usec,
                        .do_create = writes_kind(c, CYCLE_ONLY_CREATE),
                        .do_update = writes_kind(c, CYCLE_ONLY_UPDATE),
                        .may_write = hook_may_write,
                        .userdata = c,
                };

                r = lifecycle_survey(&c->lifecycle, cl, &lo, &c->changes, on_surveyed, c);
        }
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to read the declared connectors: %m");
                summary_printf(c, "reading the declared connectors failed: %s", strerror(-r));
                return finish(c, CYCLE_FAILED);
        }
}

/* The survey of the sets with spec.lifecycle is done: the plan is whole. */
static void on_surveyed(struct lifecycle *l, int error, void *userdata) {
        struct cycle *c = userdata;
        const struct config *cfg = c->config;
        int r;

        (void) l;
        if (error < 0) {
                cycle_log(c, LOG_ERR, error, NULL, "Failed to read the declared connectors: %m");
                summary_printf(c, "reading the declared connectors failed: %s", strerror(-error));
                return finish(c, CYCLE_FAILED);
        }
        c->result.changes = &c->changes;
        if (c->saved_plan && c->changes.counts[CONVERGE_CREATE] + c->changes.counts[CONVERGE_UPDATE] > 0)
                cycle_log(
                        c, LOG_NOTICE, 0, NULL,
                        "Creating and updating nothing: the saved plan '%s' holds deletions only; run once "
                        "without --plan to create %zu and update %zu",
                        c->saved_plan->path, c->changes.counts[CONVERGE_CREATE],
                        c->changes.counts[CONVERGE_UPDATE]);
        r = plan_block_max_updates(c->result.plan, writes_planned(c),
                                   c->max_updates_set ? c->max_updates : cfg->max_updates);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to plan: %m");
                summary_printf(c, "planning failed: %s", strerror(-r));
                return finish(c, CYCLE_FAILED);
        }
        after_plan(c);
}

/* The plan is whole: show it (plan), check it, then carry it out. */
static void after_plan(struct cycle *c) {
        const struct config *cfg = c->config;
        struct cluster *cl = c->cluster;
        char *hint = NULL;
        int r;

        if (c->plan_only) {
                summarize_plan(c);
                /* Shown, but a plan from manifests that may be out of date, or with a declared
                 * connector it could not read, is no success. */
                if (c->stale || c->changes.counts[CONVERGE_FAILED] > 0)
                        return finish(c, CYCLE_FAILED);
                return finish(c, c->result.plan->blocked ? CYCLE_BLOCKED : CYCLE_OK);
        }
        log_returned(c);

        if (c->saved_plan) {
                const struct cluster_info *info = cluster_get_info(cl);
                const struct plan_file_context now = {
                        .cluster_uuid = info ? info->cluster_uuid : NULL,
                        .manifests_digest = c->digest,
                };
                _cleanup_free_ char *diff = NULL;

                r = plan_file_matches(c->saved_plan, c->result.plan, &now, &diff);
                if (r < 0) {
                        cycle_log(c, LOG_ERR, r, NULL, "Failed to compare with the saved plan: %m");
                        summary_printf(c, "comparing with the saved plan failed: %s", strerror(-r));
                        return finish(c, CYCLE_FAILED);
                }
                if (r == 0) {
                        trip(c, CYCLE_GUARD_PLAN_MISMATCH);
                        cycle_log(
                                c, LOG_WARNING, 0, MESSAGE_SAFETY_STOP,
                                "Safety stop, deleting nothing: the saved plan '%s' is not what this cycle "
                                "would do: %s; make and review a new one",
                                c->saved_plan->path, diff);
                        summary_printf(c, "safety stop: the saved plan no longer matches: %s", diff);
                        return finish_with_state(c, CYCLE_BLOCKED, false);
                }
                cycle_log(c, LOG_INFO, 0, NULL, "The live plan is the saved plan '%s': %zu to delete",
                          c->saved_plan->path, c->result.plan->counts[PLAN_DELETE]);
        }

        if (c->result.plan->blocked) {
                unsigned by = c->result.plan->blocked_by;

                if (by & PLAN_BLOCK_ALLOW_EMPTY)
                        trip(c, CYCLE_GUARD_ALLOW_EMPTY);
                if (by & PLAN_BLOCK_REMOVED_SET)
                        trip(c, CYCLE_GUARD_REMOVED_SET);
                if (by & PLAN_BLOCK_MAX_DELETIONS)
                        trip(c, CYCLE_GUARD_MAX_DELETIONS);
                if (by & PLAN_BLOCK_MAX_UPDATES)
                        trip(c, CYCLE_GUARD_MAX_UPDATES);
                cycle_log(c, LOG_WARNING, 0, MESSAGE_SAFETY_STOP, "Safety stop, deleting nothing: %s",
                          c->result.plan->blocked);
                summary_printf(c, "safety stop: %s", c->result.plan->blocked);
                return finish_with_state(c, CYCLE_BLOCKED, false);
        }

        if (c->dry_run) {
                if (only(c, CYCLE_ONLY_DELETE))
                        log_dry_run(c);
                return start_changes(c, CYCLE_OK, true);
        }

        if (c->result.plan->counts[PLAN_DELETE] == 0 || !only(c, CYCLE_ONLY_DELETE)) {
                if (c->result.plan->counts[PLAN_DELETE] > 0)
                        cycle_log(
                                c, LOG_NOTICE, 0, NULL,
                                "Deleting none of the %zu connectors to delete: --only leaves deletions out",
                                c->result.plan->counts[PLAN_DELETE]);
                return start_changes(c, CYCLE_OK, c->result.plan->counts[PLAN_DELETE] == 0);
        }
        if (c->show_plan)
                c->show_plan(&c->result);

        /* No backup, no delete: a folder we cannot write to stops every delete up front. */
        r = backup_dir_prepare(cfg->backup_dir, &hint);
        if (r < 0) {
                _cleanup_free_ char *h = hint;

                trip(c, CYCLE_GUARD_BACKUP_UNUSABLE);
                cycle_log(c, LOG_ERR, r, MESSAGE_BACKUP_FAILED,
                          "Failed to prepare the backup folder '%s', deleting nothing: %m%s%s",
                          cfg->backup_dir, h ? "; fix it with: " : "", strempty(h));
                c->result.failed = c->result.plan->counts[PLAN_DELETE];
                summary_printf(c, "backup folder '%s' unusable (%s): deleted nothing", cfg->backup_dir,
                               strerror(-r));
                return finish_with_state(c, CYCLE_FAILED, false);
        }

        /* The cluster must still be the one listed: a load balancer or a DNS name may have moved. */
        r = cluster_identify(c->cluster, on_identified, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_CLUSTER_FAILED, "Failed to check the cluster again: %m");
                summary_printf(c, "failed to check the cluster again: %s", strerror(-r));
                return finish_with_state(c, CYCLE_FAILED, false);
        }
}

static void on_retry(struct cluster *cl, const struct cluster_retry *rt, void *userdata) {
        struct cycle *c = userdata;
        char attempt[16], status[16];
        struct log_field f[4];
        size_t n = 0;

        (void) snprintf(attempt, sizeof attempt, "%u", rt->attempt);
        (void) snprintf(status, sizeof status, "%d", rt->status);
        f[n++] = (struct log_field){ "CYCLE_ID", c->id };
        f[n++] = (struct log_field){ "ATTEMPT", attempt };
        if (rt->status > 0)
                f[n++] = (struct log_field){ "HTTP_STATUS", status };
        if (rt->connector_id)
                f[n++] = (struct log_field){ "CONNECTOR_ID", rt->connector_id };
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
                summary_printf(c, "bad cluster settings: %s", message ?: strerror(-r));
                return r;
        }
        c->result.cluster_url = cluster_get_url(c->cluster);
        cluster_set_retry_hook(c->cluster, on_retry, c);

        if (!c->config->verify_tls)
                cycle_log(c, LOG_WARNING, 0, MESSAGE_TLS_UNVERIFIED,
                          "TLS certificate verification is disabled (cluster.verify_tls: false): the "
                          "cluster's "
                          "identity is not checked");

        r = cluster_list(c->cluster, wants_soft_deleted(c), on_listed, c);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, MESSAGE_CLUSTER_FAILED, "Failed to start listing the cluster: %m");
                summary_printf(c, "failed to list: %s", strerror(-r));
        }
        return r;
}

/* One instance at a time: the state folder's lock, for the cycles that delete. */
static int take_lock(struct cycle *c) {
        _cleanup_free_ char *hint = NULL;
        pid_t holder = 0;
        int r;

        r = fs_dir_prepare_private(c->config->state_dir, &hint);
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL,
                          "Failed to prepare the state folder '%s', deleting nothing: %m%s%s",
                          c->config->state_dir, hint ? "; fix it with: " : "", strempty(hint));
                summary_printf(c, "state folder '%s' unusable (%s): deleted nothing", c->config->state_dir,
                               strerror(-r));
                return r;
        }
        r = state_lock(c->config->state_dir, &c->lock_fd, &holder);
        if (r == -EBUSY) {
                char pid[32] = "";

                if (holder > 0)
                        (void) snprintf(pid, sizeof pid, " (PID %ld)", (long) holder);
                c->result.lock_holder = holder;
                cycle_log(c, LOG_WARNING, 0, MESSAGE_LOCKED,
                          "Another instance%s holds '%s/%s': skipping this cycle, nothing done", pid,
                          c->config->state_dir, STATE_LOCK_NAME);
                summary_printf(c, "skipped: another instance%s holds the lock '%s/%s'", pid,
                               c->config->state_dir, STATE_LOCK_NAME);
                return r;
        }
        if (r < 0) {
                cycle_log(c, LOG_ERR, r, NULL, "Failed to take the lock '%s/%s', deleting nothing: %m",
                          c->config->state_dir, STATE_LOCK_NAME);
                summary_printf(c, "failed to take the lock: %s", strerror(-r));
        }
        return r;
}

/* plan: the folders `once` would use (config_check_folders()), each problem logged as a
 * warning: plan itself writes nothing, and is often run by another user than the service (root,
 * for a look), who sees the problem and the plan both. Returns -ENOMEM only. */
static int check_folders(struct cycle *c) {
        const struct log_field f[] = { { "CYCLE_ID", c->id } };
        struct yaml_read_diags errors = {};
        int r;

        r = config_check_folders(c->config, &errors);
        for (size_t i = 0; i < errors.n_items; i++)
                log_event(LOG_WARNING | LOG_ESCAPED, 0, NULL, f, ELEMENTSOF(f), "%s", errors.items[i].text);
        yaml_read_diags_done(&errors);
        if (r == -ENOMEM)
                summary_printf(c, "out of memory");
        return r == -ENOMEM ? r : 0;
}

static int on_defer_start(sd_event_source *s, void *userdata) {
        struct cycle *c = userdata;
        _cleanup_free_ char *busy = NULL;
        int r;

        c->defer = sd_event_source_disable_unref(c->defer);

        /* `plan` previews `once`: a plan that `once` could not carry out, for its folders, is
         * refused before the cluster is asked anything, with the fix. */
        if (c->plan_only && check_folders(c) < 0) {
                finish(c, CYCLE_FAILED);
                return 0;
        }

        if (!c->plan_only && !c->dry_run) {
                r = take_lock(c);
                if (r < 0) {
                        if (r != -EBUSY)
                                trip(c, CYCLE_GUARD_STATE_UNUSABLE);
                        finish(c, r == -EBUSY ? CYCLE_BUSY : CYCLE_FAILED);
                        return 0;
                }
        }

        if (c->revision_ref && !c->config->git.enabled) {
                cycle_log(c, LOG_ERR, 0, NULL,
                          "--revision needs the manifests in Git ('manifests.git'), not the path '%s'",
                          c->config->manifests);
                summary_printf(c, "--revision without a Git source: planned nothing");
                finish(c, CYCLE_INVALID);
                return 0;
        }
        if (c->config->git.enabled) {
                r = start_git(c);
                if (r < 0)
                        finish(c, CYCLE_FAILED);
                return 0;
        }

        /* A checkout, merge or rebase rewriting the files one by one: not now. */
        r = manifest_git_busy(c->config->manifests, &busy);
        if (r > 0) {
                cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                          "Not reading the manifests now: %s; trying again soon", busy);
                summary_printf(c, "deleted nothing: %s", busy);
                finish(c, CYCLE_RETRY);
                return 0;
        }

        r = load_manifests(c);
        if (r < 0) {
                /* A checkout that began while they were read: not the manifests' fault. */
                if (r != -ENOMEM && manifest_git_busy(c->config->manifests, &busy) > 0) {
                        cycle_log(c, LOG_WARNING, 0, MESSAGE_MANIFESTS_CHANGED,
                                  "The manifests were read while a Git operation rewrote them: %s; trying "
                                  "again soon",
                                  busy);
                        summary_printf(c, "deleted nothing: %s", busy);
                        finish(c, CYCLE_RETRY);
                        return 0;
                }
                if (r != -ENOMEM)
                        trip(c, CYCLE_GUARD_MANIFESTS_INVALID);
                finish(c, r == -ENOMEM ? CYCLE_FAILED : CYCLE_INVALID);
                return 0;
        }
        after_manifests(c);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct cycle *c = userdata;

        c->timeout = sd_event_source_disable_unref(c->timeout);
        c->result.timed_out = true;
        cycle_log(c, LOG_ERR, -ETIMEDOUT, MESSAGE_CYCLE_TIMEOUT,
                  "The cycle ran longer than cycle_timeout (%" PRIu64 " s): starting no new request",
                  c->config->cycle_timeout_usec / USEC_PER_SEC);

        if (c->applying) {
                /* The creates and updates on the wire end by their answer or their timeout. */
                cluster_stop_retrying(c->cluster);
                lifecycle_stop(c->lifecycle);
                return 0;
        }
        if (c->exec) {
                /* The DELETEs on the wire end by their answer or their request timeout. */
                cluster_stop_retrying(c->cluster);
                exec_stop(c->exec, USEC_INFINITY);
                return 0;
        }
        /* Listing, or checking the cluster: nothing to wait for. */
        if (c->cluster)
                cluster_cancel(c->cluster);
        summary_printf(c, "timed out after %" PRIu64 " s (cycle_timeout): deleted nothing",
                       c->config->cycle_timeout_usec / USEC_PER_SEC);
        finish_with_state(c, CYCLE_FAILED, false);
        return 0;
}

static int on_defer_stopped(sd_event_source *s, void *userdata) {
        struct cycle *c = userdata;

        c->defer = sd_event_source_disable_unref(c->defer);
        summary_printf(c, "stopped before deleting anything");
        if (c->result.plan)
                c->result.not_deleted = c->result.plan->counts[PLAN_DELETE];
        finish(c, CYCLE_FAILED);
        return 0;
}

/* Stopping while creating and updating: what is still on the wire after the grace is of unknown
 * outcome. */
static int on_apply_grace(sd_event_source *s, uint64_t usec, void *userdata) {
        struct cycle *c = userdata;

        (void) s;
        (void) usec;
        c->apply_grace = sd_event_source_disable_unref(c->apply_grace);
        if (!c->applying || !c->lifecycle || c->lifecycle_result)
                return 0;
        cluster_cancel(c->cluster);
        lifecycle_abort(c->lifecycle);
        return 0;
}

void cycle_stop(struct cycle *c, usec_t grace_usec) {
        assert(c);

        if (c->stopping)
                return;
        c->stopping = true;
        c->result.stopped = true;

        if (c->applying) {
                cluster_stop_retrying(c->cluster);
                lifecycle_stop(c->lifecycle);
                if (sd_event_add_time_relative(c->event, &c->apply_grace, CLOCK_MONOTONIC, grace_usec, 0,
                                               on_apply_grace, c) < 0)
                        on_apply_grace(NULL, 0, c);
                return;
        }
        if (c->exec) {
                cluster_stop_retrying(c->cluster);
                exec_stop(c->exec, grace_usec);
                return;
        }
        /* Nothing deleted yet: nothing to wait for. 'done' runs from the loop. A fetch running is
         * killed: what it would bring is read by no one. */
        c->fetch = git_fetch_free(c->fetch);
        if (c->cluster)
                cluster_cancel(c->cluster);
        c->defer = sd_event_source_disable_unref(c->defer);
        if (sd_event_add_defer(c->event, &c->defer, on_defer_stopped, c) < 0)
                log_warning("Failed to schedule the end of the stopped cycle, ignoring");
}

int cycle_start(struct cycle **ret, sd_event *event, const struct cycle_options *o,
                void (*done)(struct cycle *c, struct cycle_result *r, void *userdata), void *userdata) {
        _cleanup_(cycle_freep) struct cycle *c = NULL;
        const struct config *cfg;
        sd_id128_t id;
        int r;

        assert(ret);
        assert(event);
        assert(o && o->config);
        assert(done);

        cfg = o->config;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->lock_fd = -1;
        c->start_usec = now_usec(CLOCK_MONOTONIC);
        c->event = sd_event_ref(event);
        c->config = cfg;
        c->plan_only = o->plan_only;
        c->dry_run = o->dry_run;
        c->page_size = o->page_size;
        c->max_deletions_set = o->max_deletions_set;
        c->max_deletions = o->max_deletions;
        c->max_updates_set = o->max_updates_set;
        c->max_updates = o->max_updates;
        c->only = o->only;
        c->saved_plan = o->saved_plan;
        c->revision_ref = o->revision;
        c->fetch_now = o->fetch_now;
        c->show_plan = o->show_plan;
        c->done = done;
        c->progress = o->progress;
        c->userdata = userdata;

        c->confirmed = calloc(cfg->n_confirm_removed_sets + o->n_confirm_removed_sets + 1, sizeof(char *));
        if (!c->confirmed)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_confirm_removed_sets; i++)
                c->confirmed[c->n_confirmed++] = cfg->confirm_removed_sets[i];
        for (size_t i = 0; i < o->n_confirm_removed_sets; i++)
                c->confirmed[c->n_confirmed++] = o->confirm_removed_sets[i];

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        (void) sd_id128_to_string(id, c->id);

        r = sd_event_add_defer(event, &c->defer, on_defer_start, c);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(event, &c->timeout, CLOCK_BOOTTIME, cfg->cycle_timeout_usec,
                                       USEC_PER_SEC, on_timeout, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->timeout, "cycle-timeout");

        cycle_log(c, LOG_INFO, 0, MESSAGE_CYCLE_START, "Cycle started%s%s",
                  c->plan_only ? " (plan only)" : "", !c->plan_only && c->dry_run ? " (dry run)" : "");

        *ret = TAKE_PTR(c);
        return 0;
}

struct cycle *cycle_free(struct cycle *c) {
        if (!c)
                return NULL;
        c->exec = exec_free(c->exec);
        c->fetch = git_fetch_free(c->fetch);
        free(c->mirror);
        c->cluster = cluster_free(c->cluster);
        c->lifecycle = lifecycle_free(c->lifecycle); /* after the cluster: no callback runs any more */
        converge_plan_done(&c->changes);
        c->listing = cluster_listing_free(c->listing);
        for (size_t i = 0; i < c->n_live_escaped; i++)
                free(c->live_escaped[i]);
        free(c->live_escaped);
        c->manifest = manifest_free(c->manifest);
        c->state = state_free(c->state);
        c->result.plan = plan_free(c->result.plan);
        (void) sd_event_source_disable_unref(c->defer);
        (void) sd_event_source_disable_unref(c->timeout);
        (void) sd_event_source_disable_unref(c->apply_grace);
        state_unlock(c->lock_fd);
        free(c->confirmed);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
