/* Creating and converging declared connectors: see lifecycle.h. The order of a create's requests
 * and why a create is never sent to an id that exists: docs/design.md, "Creating and converging". */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "lifecycle.h"
#include "log.h"
#include "messages.h"
#include "util.h"

#define SECRET_MAX_BYTES (64u * 1024u)

/* A declared connector the survey reads. */
struct candidate {
        size_t set, connector;
        bool creating; /* in the creating list: this program's create waits to be completed */
};

/* One change carried out, or one connector surveyed. */
struct job {
        struct lifecycle *l;
        struct job *prev, *next_job; /* the jobs in flight */
        size_t index;                /* into the candidates (survey) or the plan's changes (apply) */
        struct converge_diff diff;
        size_t next_request;
        bool over_tombstone; /* a create: the GET right before found the id soft-deleted */
};

struct lifecycle {
        sd_event *event;
        struct cluster *cluster;
        struct lifecycle_options o;
        struct converge_plan *plan;
        size_t n_changes_allocated;

        struct candidate *candidates;
        size_t n_candidates;
        size_t next, running;
        bool applying;
        bool dry_run;
        bool stopping;
        struct job *jobs; /* in flight: freed with the lifecycle when the cluster was cancelled */

        /* The creating list being built: ids kept (with their new count) and added. */
        struct plan_deleted *creating;
        size_t n_creating, n_creating_allocated;

        struct lifecycle_result result;
        sd_event_source *defer;
        void (*survey_done)(struct lifecycle *l, int error, void *userdata);
        void (*apply_done)(struct lifecycle *l, const struct lifecycle_result *r, void *userdata);
        void *userdata;
        int error;
};

bool lifecycle_wanted(const struct manifest *m) {
        for (size_t i = 0; i < m->n_sets; i++)
                if (m->sets[i].lifecycle.create || m->sets[i].lifecycle.update)
                        return true;
        return false;
}

int lifecycle_read_secret(const char *dir, const char *name, char **ret_value, char **reterr_message) {
        _cleanup_free_ char *path = NULL;
        char *buf = NULL;
        size_t n = 0;
        int r;

        if (!dir)
                return reterr_printf(reterr_message, -ENOKEY,
                                     "secret '%s': no secrets folder (set secrets_dir in the config, or run "
                                     "with systemd's LoadCredential=, which sets $CREDENTIALS_DIRECTORY)",
                                     name);
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        /* Read as the config's secret files are: a regular file, symbolic links followed. */
        r = fs_read_file(path, SECRET_MAX_BYTES, &buf, &n);
        if (r == -EINVAL)
                return reterr_printf(reterr_message, -EBADFD, "the secret '%s' is not a regular file", path);
        if (r == -EFBIG)
                return reterr_printf(reterr_message, r, "the secret '%s' is larger than %u bytes", path,
                                     SECRET_MAX_BYTES);
        if (r < 0)
                return reterr_printf(reterr_message, r, "cannot read the secret '%s': %s", path,
                                     strerror(-r));
        /* One trailing newline is not part of the secret: editors and `echo` add one. */
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        if (memchr(buf, '\0', n)) {
                explicit_bzero(buf, n);
                free(buf);
                return reterr_printf(reterr_message, -EBADMSG, "the secret '%s' holds a NUL byte", path);
        }
        *ret_value = buf;
        return 0;
}

static int get_secret(const char *name, char **ret_value, char **reterr_message, void *userdata) {
        struct lifecycle *l = userdata;

        return lifecycle_read_secret(l->o.secrets_dir, name, ret_value, reterr_message);
}

struct lifecycle *lifecycle_free(struct lifecycle *l) {
        if (!l)
                return NULL;
        /* The cluster is the caller's: cancelling it is the caller's business too. */
        l->defer = sd_event_source_disable_unref(l->defer);
        while (l->jobs) {
                struct job *j = l->jobs;

                l->jobs = j->next_job;
                converge_diff_done(&j->diff);
                free(j);
        }
        free(l->candidates);
        for (size_t i = 0; i < l->n_creating; i++)
                free(l->creating[i].id);
        free(l->creating);
        free(l->result.halted);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

static void log_connector(struct lifecycle *l, int level, int error, const char *message_id,
                          const struct converge_change *ch, const char *fields, const char *fmt, ...)
        _printf_(7, 8);
static void log_connector(struct lifecycle *l, int level, int error, const char *message_id,
                          const struct converge_change *ch, const char *fields, const char *fmt, ...) {
        struct log_field f[4];
        size_t n = 0;
        va_list ap;

        f[n++] = (struct log_field){ "CYCLE_ID", l->o.cycle_id };
        f[n++] = (struct log_field){ "CONNECTOR_ID", ch->id };
        f[n++] = (struct log_field){ "CONNECTOR_SET", ch->set };
        if (fields)
                f[n++] = (struct log_field){ "FIELDS", fields };
        va_start(ap, fmt);
        (void) log_eventv(level, error, message_id, f, n, fmt, ap);
        va_end(ap);
}

/* ---- the creating list ---- */

static int creating_add(struct lifecycle *l, const char *id, uint64_t cycles, uint64_t since_usec) {
        struct plan_deleted *a = l->creating;
        char *copy;

        if (l->n_creating == l->n_creating_allocated) {
                size_t n = MAX(l->n_creating_allocated * 2, (size_t) 8);

                a = reallocarray(l->creating, n, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                l->creating = a;
                l->n_creating_allocated = n;
        }
        copy = strdup(id);
        if (!copy)
                return -ENOMEM;
        a[l->n_creating++] =
                (struct plan_deleted){ .id = copy, .cycles_absent = cycles, .deleted_usec = since_usec };
        return 0;
}

static void creating_remove(struct lifecycle *l, const char *id) {
        for (size_t i = 0; i < l->n_creating; i++)
                if (streq(l->creating[i].id, id)) {
                        free(l->creating[i].id);
                        l->creating[i] = l->creating[--l->n_creating];
                        return;
                }
}

static const struct plan_deleted *creating_find(const struct lifecycle_options *o, const char *id) {
        size_t lo = 0, hi = o->n_creating;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(id, o->creating[mid].id);

                if (c == 0)
                        return &o->creating[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static int deleted_cmp(const void *a, const void *b) {
        return strcmp(((const struct plan_deleted *) a)->id, ((const struct plan_deleted *) b)->id);
}

/* ---- the plan being built ---- */

static struct converge_change *add_change(struct lifecycle *l, enum converge_kind kind, size_t set,
                                          size_t conn) {
        struct converge_plan *p = l->plan;
        const struct plan_set *s = &l->o.manifest->sets[set];
        struct converge_change *ch;

        if (p->n_changes == l->n_changes_allocated) {
                size_t n = MAX(l->n_changes_allocated * 2, (size_t) 16);
                struct converge_change *a = reallocarray(p->changes, n, sizeof(*a));

                if (!a)
                        return NULL;
                p->changes = a;
                l->n_changes_allocated = n;
        }
        ch = &p->changes[p->n_changes];
        *ch = (struct converge_change){
                .kind = kind,
                .set = s->name,
                .set_index = set,
                .connector_index = conn,
        };
        ch->id = strdup(s->connectors[conn].id);
        if (!ch->id)
                return NULL;
        p->n_changes++;
        return ch;
}

static const struct cluster_info *info_of(struct lifecycle *l) {
        return cluster_get_info(l->cluster);
}

/* Counts one change's outcome by its kind, for the metrics. */
static void tally(struct lifecycle *l, const struct converge_change *ch, enum lifecycle_outcome o) {
        l->result.outcomes[ch->kind == CONVERGE_CREATE ? LIFECYCLE_CREATES : LIFECYCLE_UPDATES][o]++;
}

/* ---- jobs ---- */

static struct job *job_new(struct lifecycle *l, size_t index) {
        struct job *j = calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        *j = (struct job){ .l = l, .index = index, .next_job = l->jobs };
        if (l->jobs)
                l->jobs->prev = j;
        l->jobs = j;
        l->running++;
        return j;
}

static void job_free(struct job *j) {
        struct lifecycle *l = j->l;

        if (j->prev)
                j->prev->next_job = j->next_job;
        else
                l->jobs = j->next_job;
        if (j->next_job)
                j->next_job->prev = j->prev;
        converge_diff_done(&j->diff);
        free(j);
        l->running--;
}

/* ---- survey ---- */

static void survey_next(struct lifecycle *l);

static void finish_survey(struct lifecycle *l) {
        converge_plan_sort(l->plan);
        l->survey_done(l, l->error, l->userdata);
}

static void on_surveyed(struct cluster *cl, int error, struct cluster_document *doc,
                        const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = doc;
        struct job *j = userdata;
        struct lifecycle *l = j->l;
        const struct candidate *cand = &l->candidates[j->index];
        const struct plan_set *s = &l->o.manifest->sets[cand->set];
        const struct plan_declared *decl = &s->connectors[cand->connector];
        const struct cluster_info *info = info_of(l);
        const struct converge_secrets secrets = { .get = get_secret, .userdata = l };
        _cleanup_free_ char *message = NULL;
        struct converge_diff diff = {};
        struct converge_change *ch;
        enum converge_kind kind;
        int r;

        (void) cl;
        job_free(j);
        if (error == -ENOENT) {
                /* Gone since the listing: the next cycle sees it missing. */
                survey_next(l);
                return;
        }
        if (error < 0) {
                ch = add_change(l, CONVERGE_FAILED, cand->set, cand->connector);
                if (!ch || asprintf(&ch->error, "cannot read it: %s",
                                    err && err->message ? err->message : strerror(-error)) < 0) {
                        l->error = -ENOMEM;
                        if (ch)
                                ch->error = NULL;
                }
                survey_next(l);
                return;
        }
        r = converge_diff_build(decl->fields, d->body, d->body_size, info->major, info->minor,
                                s->lifecycle.allow_disruptive, &secrets, &diff, &message);
        if (r < 0) {
                ch = add_change(l, CONVERGE_FAILED, cand->set, cand->connector);
                if (!ch || asprintf(&ch->error, "cannot compare it: %s", message ?: strerror(-r)) < 0) {
                        l->error = -ENOMEM;
                        if (ch)
                                ch->error = NULL;
                }
                survey_next(l);
                return;
        }
        if (cand->creating && diff.awaiting_schema)
                kind = CONVERGE_AWAITING;
        else if (diff.n_set > 0 && (s->lifecycle.update || cand->creating))
                kind = CONVERGE_UPDATE;
        else if (diff.n_drift > 0 || diff.awaiting_schema || diff.n_set > 0)
                kind = CONVERGE_DRIFT;
        else {
                /* In line with its manifest: a create is complete. */
                if (cand->creating)
                        creating_remove(l, decl->id);
                converge_diff_done(&diff);
                survey_next(l);
                return;
        }
        ch = add_change(l, kind, cand->set, cand->connector);
        if (!ch) {
                converge_diff_done(&diff);
                l->error = -ENOMEM;
                survey_next(l);
                return;
        }
        ch->diff = diff;
        ch->completing = cand->creating;
        if (kind != CONVERGE_AWAITING && kind != CONVERGE_UPDATE && cand->creating)
                creating_remove(l, decl->id); /* nothing a request may set is left to wait for */
        survey_next(l);
}

static void survey_next(struct lifecycle *l) {
        while (l->error == 0 && l->next < l->n_candidates && l->running < MAX(l->o.concurrency, 1u)) {
                const struct candidate *cand = &l->candidates[l->next];
                struct job *j = job_new(l, l->next);
                int r;

                if (!j) {
                        l->error = -ENOMEM;
                        break;
                }
                l->next++;
                r = cluster_get(l->cluster, l->o.manifest->sets[cand->set].connectors[cand->connector].id,
                                on_surveyed, j);
                if (r < 0) {
                        job_free(j);
                        l->error = r;
                        break;
                }
        }
        if (l->running == 0 && (l->error < 0 || l->next == l->n_candidates))
                finish_survey(l);
}

static int on_defer_survey(sd_event_source *s, void *userdata) {
        struct lifecycle *l = userdata;

        (void) s;
        l->defer = sd_event_source_disable_unref(l->defer);
        survey_next(l);
        return 0;
}

/* Which declared connectors to read, and the changes known from the listing alone. */
static int select_candidates(struct lifecycle *l) {
        const struct manifest *m = l->o.manifest;
        size_t allocated = 0;

        for (size_t i = 0; i < m->n_sets; i++) {
                const struct plan_set *s = &m->sets[i];

                if (!s->lifecycle.create && !s->lifecycle.update)
                        continue;
                for (size_t k = 0; k < s->n_connectors; k++) {
                        const struct plan_declared *d = &s->connectors[k];
                        const struct plan_item *it = plan_find(l->o.plan, d->id);
                        const struct plan_deleted *cr = creating_find(&l->o, d->id);
                        size_t set, conn;
                        int r;

                        /* An id declared twice is the manifests' error; the first declaration wins. */
                        if (!it || !manifest_find(m, d->id, &set, &conn) || set != i || conn != k)
                                continue;
                        if (it->kind == PLAN_MISSING) {
                                if (!s->lifecycle.create)
                                        continue;
                                bool tomb = it->connector && it->connector->deleted;
                                struct converge_change *ch = add_change(
                                        l,
                                        tomb && !s->lifecycle.revive_soft_deleted ? CONVERGE_SOFT_DELETED
                                                                                  : CONVERGE_CREATE,
                                        i, k);

                                if (!ch)
                                        return -ENOMEM;
                                ch->over_soft_deleted = tomb && s->lifecycle.revive_soft_deleted;
                                continue;
                        }
                        if (it->kind != PLAN_KEEP)
                                continue;
                        if (cr && s->lifecycle.create) {
                                /* Waiting, or complete: kept with one more cycle until the survey says. */
                                r = creating_add(l, d->id, cr->cycles_absent + 1, cr->deleted_usec);
                                if (r < 0)
                                        return r;
                        } else if (!s->lifecycle.update)
                                continue;
                        if (l->n_candidates == allocated) {
                                size_t n = MAX(allocated * 2, (size_t) 16);
                                struct candidate *a = reallocarray(l->candidates, n, sizeof(*a));

                                if (!a)
                                        return -ENOMEM;
                                l->candidates = a;
                                allocated = n;
                        }
                        l->candidates[l->n_candidates++] = (struct candidate){
                                .set = i,
                                .connector = k,
                                .creating = cr && s->lifecycle.create,
                        };
                }
        }
        return 0;
}

int lifecycle_survey(struct lifecycle **ret, struct cluster *cluster, const struct lifecycle_options *o,
                     struct converge_plan *ret_plan,
                     void (*done)(struct lifecycle *l, int error, void *userdata), void *userdata) {
        _cleanup_(lifecycle_freep) struct lifecycle *l = NULL;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        *l = (struct lifecycle){
                .event = sd_event_ref(cluster_get_event(cluster)),
                .cluster = cluster,
                .o = *o,
                .plan = ret_plan,
                .survey_done = done,
                .userdata = userdata,
        };
        *ret_plan = (struct converge_plan){};
        r = select_candidates(l);
        if (r < 0)
                return r;
        r = sd_event_add_defer(l->event, &l->defer, on_defer_survey, l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- apply ---- */

static void apply_next(struct lifecycle *l);

static void job_end(struct job *j) {
        struct lifecycle *l = j->l;

        job_free(j);
        apply_next(l);
}

/* A job stopped between two of its requests. */
static void job_stopped(struct job *j) {
        j->l->result.not_done++;
        tally(j->l, &j->l->plan->changes[j->index], LIFECYCLE_SKIPPED);
        job_end(j);
}

static void job_failed(struct job *j, int error, const struct cluster_error *err, const char *what) {
        struct lifecycle *l = j->l;
        const struct converge_change *ch = &l->plan->changes[j->index];

        l->result.failed++;
        tally(l, ch, LIFECYCLE_ERROR);
        log_connector(l, LOG_ERR, error, MESSAGE_CHANGE_FAILED, ch, NULL, "Failed to %s connector '%s': %s",
                      what, ch->id, err && err->message ? err->message : strerror(-error));
        job_end(j);
}

static void send_request(struct job *j);

static void on_put(struct cluster *cl, int error, const char *result, const struct cluster_error *err,
                   void *userdata) {
        struct job *j = userdata;

        (void) cl;
        (void) result;
        if (error < 0) {
                char what[64];

                (void) snprintf(what, sizeof what, "update (%s)",
                                j->diff.requests[j->next_request].endpoint);
                return job_failed(j, error, err, what);
        }
        j->next_request++;
        send_request(j);
}

static void send_request(struct job *j) {
        struct lifecycle *l = j->l;
        struct converge_change *ch = &l->plan->changes[j->index];
        const struct converge_request *rq;
        int r;

        if (j->next_request == j->diff.n_requests) {
                _cleanup_free_ char *names = converge_diff_set_names(&j->diff);

                if (ch->kind == CONVERGE_CREATE)
                        log_connector(l, LOG_NOTICE, 0, MESSAGE_CONNECTOR_UPDATED, ch, names,
                                      "Set the declared fields of the new connector '%s' (set '%s'): %s",
                                      ch->id, ch->set, strna(names));
                else {
                        l->result.updated++;
                        tally(l, ch, LIFECYCLE_OK);
                        log_connector(l, LOG_NOTICE, 0, MESSAGE_CONNECTOR_UPDATED, ch, names,
                                      "Updated connector '%s' (set '%s'): %s", ch->id, ch->set,
                                      strna(names));
                }
                creating_remove(l, ch->id);
                return job_end(j);
        }
        if (l->stopping)
                return job_stopped(j);
        rq = &j->diff.requests[j->next_request];
        r = cluster_put(l->cluster, ch->id, rq->endpoint, rq->body, rq->body_size, on_put, j);
        if (r < 0)
                return job_failed(j, r, NULL, "update");
}

/* The connector read right before its update (or after its create): what still differs is set. */
static void on_read(struct cluster *cl, int error, struct cluster_document *doc,
                    const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = doc;
        struct job *j = userdata;
        struct lifecycle *l = j->l;
        struct converge_change *ch = &l->plan->changes[j->index];
        const struct plan_set *s = &l->o.manifest->sets[ch->set_index];
        const struct converge_secrets secrets = { .get = get_secret, .userdata = l };
        const struct cluster_info *info = info_of(l);
        _cleanup_free_ char *message = NULL;
        int r;

        (void) cl;
        if (error == -ENOENT) {
                l->result.changed++;
                tally(l, ch, LIFECYCLE_SKIPPED);
                log_connector(l, LOG_WARNING, 0, MESSAGE_CONNECTOR_CHANGED, ch, NULL,
                              "Not updating connector '%s': it is gone since the listing", ch->id);
                return job_end(j);
        }
        if (error < 0)
                return job_failed(j, error, err, "read");
        r = converge_diff_build(s->connectors[ch->connector_index].fields, d->body, d->body_size,
                                info->major, info->minor, s->lifecycle.allow_disruptive, &secrets, &j->diff,
                                &message);
        if (r < 0) {
                struct cluster_error e = { .message = message };

                return job_failed(j, r, message ? &e : NULL, "compare");
        }
        if (j->diff.n_requests == 0) {
                if (ch->kind == CONVERGE_UPDATE) {
                        l->result.changed++;
                        tally(l, ch, LIFECYCLE_SKIPPED);
                        log_connector(
                                l, LOG_INFO, 0, MESSAGE_CONNECTOR_CHANGED, ch, NULL,
                                "Not updating connector '%s': its declared fields match since the listing",
                                ch->id);
                }
                if (!j->diff.awaiting_schema)
                        creating_remove(l, ch->id);
                return job_end(j);
        }
        send_request(j);
}

static void on_created(struct cluster *cl, int error, const char *result, const struct cluster_error *err,
                       void *userdata) {
        struct job *j = userdata;
        struct lifecycle *l = j->l;
        struct converge_change *ch = &l->plan->changes[j->index];
        const struct plan_declared *decl =
                &l->o.manifest->sets[ch->set_index].connectors[ch->connector_index];
        bool waits;
        int r;

        if (error < 0)
                return job_failed(j, error, err, "create");
        if (!streq(result, "created") && !(j->over_tombstone && streq(result, "updated"))) {
                /* Elasticsearch answered that it overwrote one: it was created in the instant since
                 * the GET that found none. Said loudly: what it held is lost. */
                l->result.failed++;
                tally(l, ch, LIFECYCLE_ERROR);
                log_connector(
                        l, LOG_ERR, 0, MESSAGE_CHANGE_FAILED, ch, NULL,
                        "Connector '%s' was created by something else between the check and the create, "
                        "and the create overwrote it (Elasticsearch answered '%s')",
                        ch->id, result);
                return job_end(j);
        }
        l->result.created++;
        tally(l, ch, LIFECYCLE_OK);
        waits = converge_declares_configuration(decl->fields);
        log_connector(
                l, LOG_NOTICE, 0, MESSAGE_CONNECTOR_CREATED, ch, NULL,
                "Created connector '%s' (set '%s')%s%s", ch->id, ch->set,
                streq(result, "updated") ? " over its soft-deleted document (revive_soft_deleted)" : "",
                waits ? "; its configuration waits for the connector service to register the schema" : "");
        if (waits) {
                r = creating_add(l, ch->id, 0, l->o.now_usec);
                if (r < 0)
                        l->error = r;
                return job_end(j);
        }
        if (l->stopping)
                return job_stopped(j);
        r = cluster_get(cl, ch->id, on_read, j);
        if (r < 0)
                return job_failed(j, r, NULL, "read after creating");
}

/* The GET right before a create: only a 404 lets it go. */
static void on_create_checked(struct cluster *cl, int error, struct cluster_document *doc,
                              const struct cluster_error *err, void *userdata) {
        _cleanup_(cluster_document_freep) struct cluster_document *d = doc;
        struct job *j = userdata;
        struct lifecycle *l = j->l;
        struct converge_change *ch = &l->plan->changes[j->index];
        const struct plan_declared *decl =
                &l->o.manifest->sets[ch->set_index].connectors[ch->connector_index];
        _cleanup_free_ char *body = NULL;
        size_t size;
        int r;

        /* A tombstone is created over only when the set says so, and only a tombstone. */
        j->over_tombstone = error == 0 && d->connector.deleted &&
                            l->o.manifest->sets[ch->set_index].lifecycle.revive_soft_deleted;
        if (error == 0 && !j->over_tombstone) {
                l->result.changed++;
                tally(l, ch, LIFECYCLE_SKIPPED);
                log_connector(l, LOG_WARNING, 0, MESSAGE_CONNECTOR_CHANGED, ch, NULL,
                              "Not creating connector '%s': it exists now%s; a create would overwrite it",
                              ch->id, d->connector.deleted ? " (soft-deleted)" : "");
                return job_end(j);
        }
        if (error < 0 && error != -ENOENT)
                return job_failed(j, error, err, "check before creating");
        if (l->stopping)
                return job_stopped(j);
        r = converge_create_body(decl->fields, &body, &size);
        if (r < 0)
                return job_failed(j, r, NULL, "create");
        r = cluster_put(cl, ch->id, NULL, body, size, on_created, j);
        if (r < 0)
                return job_failed(j, r, NULL, "create");
}

static void log_would(struct lifecycle *l, const struct converge_change *ch) {
        _cleanup_free_ char *names = converge_diff_set_names(&ch->diff);

        if (ch->kind == CONVERGE_CREATE) {
                l->result.would_create++;
                log_connector(l, LOG_NOTICE, 0, MESSAGE_WOULD_CHANGE, ch, NULL,
                              "Dry run: would create connector '%s' (set '%s')", ch->id, ch->set);
        } else {
                l->result.would_update++;
                log_connector(l, LOG_NOTICE, 0, MESSAGE_WOULD_CHANGE, ch, names,
                              "Dry run: would update connector '%s' (set '%s'): %s", ch->id, ch->set,
                              strna(names));
        }
}

/* What is only reported, once per cycle each. */
static void log_reported(struct lifecycle *l, const struct converge_change *ch) {
        switch (ch->kind) {
        case CONVERGE_AWAITING: {
                const struct plan_deleted *cr = creating_find(&l->o, ch->id);
                uint64_t cycles = cr ? cr->cycles_absent + 1 : 1;

                log_connector(l, cycles >= LIFECYCLE_AWAITING_WARN_CYCLES ? LOG_WARNING : LOG_INFO, 0,
                              MESSAGE_AWAITING_SCHEMA, ch, NULL,
                              "Connector '%s' waits for its configuration schema (%" PRIu64
                              " cycles): is a connector service running for it?",
                              ch->id, cycles);
                break;
        }
        case CONVERGE_DRIFT:
        case CONVERGE_UPDATE: {
                char *names = NULL;
                size_t n = 0;
                FILE *f = open_memstream(&names, &n);

                if (!f)
                        break;
                for (size_t i = 0; i < ch->diff.n_fields; i++) {
                        const struct converge_field *cf = &ch->diff.fields[i];

                        if (cf->state == CONVERGE_SET)
                                continue;
                        (void) fprintf(f, "%s%s (%s)", ftell(f) > 0 ? ", " : "", cf->field,
                                       converge_state_to_string(cf->state));
                }
                (void) fclose(f);
                if (names && names[0])
                        log_connector(
                                l, LOG_WARNING, 0, MESSAGE_CONNECTOR_DRIFT, ch, NULL,
                                "Connector '%s' differs from its manifest where nothing may set it: %s",
                                ch->id, names);
                free(names);
                break;
        }
        case CONVERGE_SOFT_DELETED:
                log_connector(
                        l, LOG_WARNING, 0, MESSAGE_CONNECTOR_DRIFT, ch, NULL,
                        "Not creating connector '%s': it is soft-deleted (deleted: true), and a create "
                        "would overwrite it; delete it for good (hard=true) to let it be created",
                        ch->id);
                break;
        case CONVERGE_FAILED:
                log_connector(l, LOG_ERR, 0, MESSAGE_CHANGE_FAILED, ch, NULL, "Connector '%s': %s", ch->id,
                              strna(ch->error));
                break;
        default:
                break;
        }
}

static void finish_apply(struct lifecycle *l) {
        struct lifecycle_result *r = &l->result;

        if (l->n_creating > 1)
                qsort(l->creating, l->n_creating, sizeof(*l->creating), deleted_cmp);
        r->creating = l->creating;
        r->n_creating = l->n_creating;
        l->apply_done(l, r, l->userdata);
}

static void apply_next(struct lifecycle *l) {
        const struct converge_plan *p = l->plan;

        while (l->error == 0 && !l->result.halted && !l->stopping && l->next < p->n_changes &&
               l->running < MAX(l->o.concurrency, 1u)) {
                const struct converge_change *ch = &p->changes[l->next];
                struct job *j;
                int r;

                if (ch->kind != CONVERGE_CREATE && ch->kind != CONVERGE_UPDATE) {
                        l->next++;
                        continue;
                }
                if ((ch->kind == CONVERGE_CREATE && !l->o.do_create) ||
                    (ch->kind == CONVERGE_UPDATE && !l->o.do_update)) {
                        l->next++;
                        continue;
                }
                if (l->dry_run) {
                        log_would(l, ch);
                        l->next++;
                        continue;
                }
                j = job_new(l, l->next);
                if (!j) {
                        l->error = -ENOMEM;
                        break;
                }
                l->next++;
                if (ch->kind == CONVERGE_CREATE)
                        r = cluster_get_including_deleted(l->cluster, ch->id, on_create_checked, j);
                else
                        r = cluster_get(l->cluster, ch->id, on_read, j);
                if (r < 0) {
                        job_free(j);
                        l->error = r;
                        break;
                }
        }
        if (l->running == 0 &&
            (l->error < 0 || l->result.halted || l->stopping || l->next == p->n_changes)) {
                if (l->stopping)
                        for (size_t i = l->next; i < p->n_changes; i++)
                                if ((p->changes[i].kind == CONVERGE_CREATE && l->o.do_create) ||
                                    (p->changes[i].kind == CONVERGE_UPDATE && l->o.do_update)) {
                                        l->result.not_done++;
                                        tally(l, &p->changes[i], LIFECYCLE_SKIPPED);
                                }
                l->next = p->n_changes;
                finish_apply(l);
        }
}

static int on_defer_apply(sd_event_source *s, void *userdata) {
        struct lifecycle *l = userdata;
        bool writes = false;
        int r;

        (void) s;
        l->defer = sd_event_source_disable_unref(l->defer);
        for (size_t i = 0; i < l->plan->n_changes; i++)
                log_reported(l, &l->plan->changes[i]);
        for (size_t i = 0; i < l->plan->n_changes && !writes; i++) {
                enum converge_kind k = l->plan->changes[i].kind;

                writes =
                        (k == CONVERGE_CREATE && l->o.do_create) || (k == CONVERGE_UPDATE && l->o.do_update);
        }
        if (writes && !l->dry_run && l->o.may_write) {
                r = l->o.may_write(&l->result.halted, l->o.userdata);
                if (r < 0)
                        l->error = r;
                else if (r == 0 && !l->result.halted)
                        l->result.halted = strdup("stopped before writing");
        }
        apply_next(l);
        return 0;
}

void lifecycle_stop(struct lifecycle *l) {
        l->stopping = true;
}

void lifecycle_abort(struct lifecycle *l) {
        const struct converge_plan *p = l->plan;

        l->stopping = true;
        while (l->jobs) {
                const struct converge_change *ch = &p->changes[l->jobs->index];

                l->result.unknown++;
                tally(l, ch, LIFECYCLE_ERROR);
                log_connector(l, LOG_WARNING, 0, MESSAGE_CHANGE_FAILED, ch, NULL,
                              "Stopped with a request for connector '%s' unanswered: whether it was %s is "
                              "not known; the next cycle reads it again",
                              ch->id, ch->kind == CONVERGE_CREATE ? "created" : "updated");
                job_free(l->jobs);
        }
        if (!l->applying || l->defer)
                return; /* nothing started yet: the deferred start finds it stopping */
        apply_next(l);
}

int lifecycle_apply(struct lifecycle *l, bool dry_run,
                    void (*done)(struct lifecycle *l, const struct lifecycle_result *r, void *userdata),
                    void *userdata) {
        int r;

        l->applying = true;
        l->dry_run = dry_run;
        l->next = 0;
        l->running = 0;
        l->apply_done = done;
        l->userdata = userdata;
        r = sd_event_add_defer(l->event, &l->defer, on_defer_apply, l);
        return r < 0 ? r : 0;
}
