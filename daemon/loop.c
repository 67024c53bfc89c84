#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "cycle.h"
#include "log.h"
#include "loop.h"
#include "messages.h"
#include "metrics.h"
#include "util.h"

/* On SIGTERM the DELETEs on the wire get this long to be answered, and the whole stop this long:
 * systemd's stop, and an operator's Ctrl-C, expect a second at most. */
#define STOP_GRACE_USEC    (700 * USEC_PER_MSEC)
#define STOP_DEADLINE_USEC USEC_PER_SEC
/* A cycle cut short by a change of its manifests is tried again this soon, then twice as late
 * each time it happens again in a row, up to the interval. */
#define RETRY_SOON_USEC (5 * USEC_PER_SEC)
/* A cycle past its cycle_timeout ends within its requests' timeout; one that has not ended this
 * long after that (or after as long again as its cycle_timeout, when that is shorter) is stuck,
 * most likely on a backup write hanging in the file system, and the watchdog stops. */
#define STUCK_MARGIN_USEC (60 * USEC_PER_SEC)

/* One per process: the loop of `run` (cycles on a timer) or of `once` and `plan` (one cycle). */
struct manager {
        sd_event *event;
        const struct loop_options *options;
        bool once;      /* one cycle, then exit */
        bool plan_only; /* once: plan, delete nothing, keep no state */
        int (*report)(const struct cycle_result *r, void *userdata); /* once: may be NULL */
        void *report_userdata;

        struct config *config;         /* in use */
        struct config *pending_config; /* loaded by SIGHUP while a cycle ran: used from the next */
        struct cycle *cycle;           /* the running cycle, or NULL */
        sd_event_source *timer;        /* the next cycle */
        sd_event_source *stuck_timer;  /* the running cycle is stuck */
        sd_event_source *stop_timer;   /* the stop's deadline */
        usec_t next_cycle_realtime;
        unsigned cycles;
        unsigned retries; /* cycles in a row cut short by a change of the manifests */
        bool stopping;
        bool cycle_asked;         /* SIGUSR1 came while a cycle ran: the next starts as it ends */
        bool fetch_now;           /* the next cycle was asked for (SIGUSR1): it fetches, whatever
                                   * manifests.fetch_interval says */
        enum cycle_status status; /* how it ended */

        struct metrics metrics; /* metrics.textfile: what the last write said */
        bool metrics_saved;     /* metrics.state was written by this process */
};

static void log_diags(int level, const struct yaml_read_diags *d) {
        for (size_t i = 0; i < d->n_items; i++)
                log_full(level | LOG_ESCAPED, "%s", d->items[i].text);
}

int loop_load_config(const char *path, const char *manifests_override, struct config **ret) {
        _cleanup_(config_freep) struct config *c = NULL;
        struct yaml_read_diags warnings = {}, errors = {};
        int r;

        r = config_load(path, manifests_override, &c, &warnings, &errors);
        if (r >= 0)
                r = config_load_secrets(c, &warnings, &errors);
        log_diags(LOG_WARNING, &warnings);
        log_diags(LOG_ERR, &errors);
        if (r >= 0 && yaml_read_diags_count(&errors) > 0)
                r = -EINVAL;
        yaml_read_diags_done(&warnings);
        yaml_read_diags_done(&errors);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

static usec_t jittered_interval(const struct config *c) {
        /* interval * (1 +- jitter): uniformly spread over [interval - j, interval + j]. */
        usec_t j = c->interval_usec / 100 * c->jitter_percent;
        usec_t span = 2 * j + 1;

        if (j == 0)
                return c->interval_usec;
        return c->interval_usec - j + random_u64() % span;
}

/* STATUS=, after "NAME: " with --instance NAME. */
static void notify_status(const struct manager *m, const char *fmt, ...) _printf_(2, 3);
static void notify_status(const struct manager *m, const char *fmt, ...) {
        char status[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(status, sizeof status, fmt, ap);
        va_end(ap);
        if (m->options->instance)
                (void) sd_notifyf(false, "STATUS=%s: %s", m->options->instance, status);
        else
                (void) sd_notifyf(false, "STATUS=%s", status);
}

static int start_cycle(struct manager *m);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        int r;

        r = start_cycle(m);
        if (r < 0) {
                log_error_errno(r, "Failed to start a cycle: %m");
                m->status = CYCLE_FAILED;
                return sd_event_exit(m->event, 0);
        }
        return 0;
}

/* Arms the timer of the next cycle: a jittered interval from now, or 'delay' when not 0. */
static int arm_timer(struct manager *m, usec_t delay) {
        usec_t next, accuracy;
        int r;

        if (delay == 0)
                delay = jittered_interval(m->config);
        next = usec_add(now_usec(CLOCK_BOOTTIME), delay);

        /* Up to a second late, to coalesce wake-ups, but never late by much of a short wait. */
        accuracy = MAX(MIN(USEC_PER_SEC, delay / 10), USEC_PER_MSEC);
        m->next_cycle_realtime = usec_add(now_usec(CLOCK_REALTIME), delay);
        if (!m->timer) {
                r = sd_event_add_time(m->event, &m->timer, CLOCK_BOOTTIME, next, accuracy, on_timer, m);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(m->timer, next);
                if (r >= 0)
                        r = sd_event_source_set_time_accuracy(m->timer, accuracy);
                if (r < 0)
                        return r;
        }
        return sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static void format_clock(char *buf, size_t size, usec_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                (void) snprintf(buf, size, "@%" PRIu64, realtime_usec / USEC_PER_SEC);
}

/* `once` and `plan`: the cycle's status is the process's; the report comes last. */
static void once_done(struct manager *m, struct cycle_result *res) {
        m->status = res->status;
        if (m->report && !m->stopping && m->report(res, m->report_userdata) < 0 && m->status == CYCLE_OK)
                m->status = CYCLE_FAILED;
        m->cycle = cycle_free(m->cycle);
        (void) sd_event_exit(m->event, 0);
}

static void write_metrics_textfile(struct manager *m) {
        int r;

        r = metrics_write_textfile(m->config->metrics_textfile, &m->metrics, PACKAGE_VERSION,
                                   m->options->instance);
        if (r < 0)
                log_warning_errno(r, "Failed to write the metrics to '%s', ignoring: %m",
                                  m->config->metrics_textfile);
}

/* metrics.textfile: the counters read again from the state folder (another instance may have run
 * cycles since), the cycle added, both files written. Only for a cycle that took the state
 * folder's lock, or tried to: not `plan`, not a dry run (which keep no state), not a cycle that
 * another instance kept out (which counts its own). */
static void record_metrics(struct manager *m, const struct cycle_result *res) {
        const struct config *c = m->config;
        _cleanup_free_ char *msg = NULL;
        int r;

        if (!c->metrics_textfile || m->plan_only || m->options->dry_run || c->dry_run ||
            res->status == CYCLE_BUSY)
                return;

        r = metrics_load(c->state_dir, &m->metrics, &msg);
        if (r < 0) {
                if (r == -EBADMSG)
                        log_warning("The metrics counters '%s/%s' are not valid (%s): starting them at 0",
                                    c->state_dir, METRICS_STATE_FILE_NAME, strna(msg));
                else if (r != -ENOENT || m->metrics_saved)
                        log_warning_errno(
                                r, "Failed to read the metrics counters '%s/%s', starting them at 0: %m",
                                c->state_dir, METRICS_STATE_FILE_NAME);
                metrics_reset_counters(&m->metrics);
        }
        r = metrics_add_cycle(&m->metrics, res, now_usec(CLOCK_REALTIME));
        if (r < 0)
                log_warning_errno(r, "Failed to record the cycle in the metrics, ignoring: %m");
        r = metrics_save(c->state_dir, &m->metrics);
        if (r < 0)
                log_warning_errno(r, "Failed to save the metrics counters to '%s/%s', ignoring: %m",
                                  c->state_dir, METRICS_STATE_FILE_NAME);
        else
                m->metrics_saved = true;
        write_metrics_textfile(m);
}

static void on_cycle_done(struct cycle *c, struct cycle_result *res, void *userdata) {
        struct manager *m = userdata;
        usec_t delay = 0;
        char next[64];
        int r;

        m->cycles++;
        m->stuck_timer = sd_event_source_disable_unref(m->stuck_timer);
        /* A stuck cycle turned the watchdog off; it ended after all. */
        (void) sd_event_set_watchdog(m->event, true);
        record_metrics(m, res);

        if (m->once)
                return once_done(m, res);

        if (m->stopping) {
                m->cycle = cycle_free(m->cycle);
                (void) sd_event_exit(m->event, 0);
                return;
        }

        if (m->pending_config) {
                config_free(m->config);
                m->config = TAKE_PTR(m->pending_config);
        }

        /* Cut short by the manifests changing under it: soon again, not a whole interval later. */
        if (res->status == CYCLE_RETRY) {
                delay = MIN(RETRY_SOON_USEC << MIN(m->retries, 20u), m->config->interval_usec);
                m->retries++;
        } else
                m->retries = 0;
        /* Asked for during this cycle (SIGUSR1): the change that asked may have come too late for
         * it, so another runs at once. */
        if (m->cycle_asked) {
                m->cycle_asked = false;
                m->fetch_now = true;
                delay = 1;
        }

        r = arm_timer(m, delay);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the cycle timer: %m");
                m->status = CYCLE_FAILED;
                (void) sd_event_exit(m->event, 0);
        }
        format_clock(next, sizeof next, m->next_cycle_realtime);
        notify_status(m, "Cycle %u: %s; next cycle at %s", m->cycles, res->summary, next);

        /* The last use of the cycle: it is freed here, from inside its own callback. */
        m->cycle = cycle_free(m->cycle);
        /* The listing and the plan are gone until the next cycle: give their pages back, so that
         * an idle daemon holds little memory (measured: RssAnon 6.2 MiB -> 1.8 MiB after a cycle
         * of 1,000 connectors). */
        (void) malloc_trim(0);
}

/* A long run of deletions: `systemctl status` shows how far it got. */
static void on_cycle_progress(size_t done, size_t total, void *userdata) {
        struct manager *m = userdata;

        notify_status(m, "Cycle %u: deleting %zu of %zu", m->cycles + 1, done, total);
}

/* How long after its start a cycle is stuck. */
static usec_t stuck_after(const struct config *c) {
        return usec_add(c->cycle_timeout_usec,
                        usec_add(c->request_timeout_usec, MIN(STUCK_MARGIN_USEC, c->cycle_timeout_usec)));
}

static int on_stuck(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        m->stuck_timer = sd_event_source_disable_unref(m->stuck_timer);
        log_event(LOG_CRIT, 0, MESSAGE_WATCHDOG_OFF, NULL, 0,
                  "Cycle %u has not ended %" PRIu64
                  " ms past its cycle_timeout (a backup write hanging in the file "
                  "system?): stopping the watchdog, so that the service manager restarts the service",
                  m->cycles + 1, (stuck_after(m->config) - m->config->cycle_timeout_usec) / USEC_PER_MSEC);
        (void) sd_event_set_watchdog(m->event, false);
        return 0;
}

static int start_cycle(struct manager *m) {
        const struct cycle_options co = {
                .config = m->config,
                .plan_only = m->plan_only,
                .dry_run = m->options->dry_run || m->config->dry_run,
                .page_size = m->options->page_size,
                .confirm_removed_sets = m->options->confirm_removed_sets,
                .n_confirm_removed_sets = m->options->n_confirm_removed_sets,
                .progress = on_cycle_progress,
                .max_deletions_set = m->options->max_deletions_set,
                .max_deletions = m->options->max_deletions,
                .max_updates_set = m->options->max_updates_set,
                .max_updates = m->options->max_updates,
                .only = m->options->only,
                .saved_plan = m->options->saved_plan,
                .revision = m->options->revision,
                .show_plan = m->options->show_plan,
                .fetch_now = m->fetch_now,
        };
        int r;

        assert(!m->cycle);
        m->fetch_now = false;
        if (!m->once)
                notify_status(m, "Cycle %u running", m->cycles + 1);
        r = cycle_start(&m->cycle, m->event, &co, on_cycle_done, m);
        if (r < 0)
                return r;
        /* `once` has no watchdog to stop: its unit's TimeoutStartSec= bounds it. */
        if (m->once)
                return 0;

        r = sd_event_add_time_relative(m->event, &m->stuck_timer, CLOCK_BOOTTIME, stuck_after(m->config),
                                       USEC_PER_SEC / 10, on_stuck, m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the stuck cycle timer, ignoring: %m");
        return 0;
}

/* Leaves the running cycle where it is and exits the loop: the daemon stopped as asked, while a
 * single cycle did not end. */
static int stop_now(struct manager *m) {
        m->cycle = cycle_free(m->cycle);
        if (m->once)
                m->status = CYCLE_FAILED;
        return sd_event_exit(m->event, 0);
}

static int on_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
        log_warning("The cycle did not end within the stop's second: leaving it");
        return stop_now(m);
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        const char *sig = si->ssi_signo == SIGINT ? "INT" : "TERM";
        int r;

        if (m->stopping)
                return 0;
        m->stopping = true;
        if (m->once)
                /* The cycle ends with what it did, said (and the exit status 1). */
                log_event(LOG_WARNING, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, stopping the cycle",
                          sig);
        else {
                (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
                log_event(LOG_INFO, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, stopping%s", sig,
                          m->cycle ? " (stopping the running cycle)" : "");
        }
        if (!m->cycle)
                return sd_event_exit(m->event, 0);

        /* The DELETEs on the wire are awaited a little, so that their outcome is known and logged;
         * nothing new starts. The cycle's end exits the loop. */
        cycle_stop(m->cycle, STOP_GRACE_USEC);
        r = sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC, STOP_DEADLINE_USEC,
                                       10 * USEC_PER_MSEC, on_stop_deadline, m);
        if (r < 0)
                return stop_now(m);
        return 0;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        _cleanup_(config_freep) struct config *c = NULL;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading the config",
                          now_usec(CLOCK_MONOTONIC));

        r = loop_load_config(m->options->config_path, m->options->manifests_override, &c);
        if (r < 0)
                log_event(LOG_ERR, r, MESSAGE_RELOAD_FAILED, NULL, 0,
                          "Failed to reload '%s', keeping the last good config", m->options->config_path);
        else {
                log_event(LOG_INFO, 0, MESSAGE_RELOADED, NULL, 0, "Reloaded '%s'%s", m->options->config_path,
                          m->cycle ? "; it applies from the next cycle" : "");
                if (m->cycle) {
                        /* The running cycle borrows the old config: swap when it ends. */
                        config_free(m->pending_config);
                        m->pending_config = TAKE_PTR(c);
                } else {
                        config_free(m->config);
                        m->config = TAKE_PTR(c);
                        /* The interval may have changed: count it from now. */
                        r = arm_timer(m, 0);
                        if (r < 0) {
                                log_error_errno(r, "Failed to arm the cycle timer: %m");
                                m->status = CYCLE_FAILED;
                                (void) sd_event_exit(m->event, 0);
                        }
                }
        }

        /* Always: systemd waits for READY=1 after RELOADING=1. */
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s",
                          r < 0 ? "Reload failed, running with the last good config" : "Config reloaded");
        return 0;
}

/* SIGUSR1 (`run`): a cycle now, for a Git hook or a CI job after a merge; while one runs, the
 * next starts as soon as it ends. */
static int on_cycle_now(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        int r;

        if (m->stopping)
                return 0;
        if (m->cycle) {
                log_info("Received SIGUSR1 while cycle %u runs: the next cycle starts as it ends",
                         m->cycles + 1);
                m->cycle_asked = true;
                return 0;
        }
        log_info("Received SIGUSR1: starting a cycle now");
        m->fetch_now = true;
        if (m->timer)
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        r = start_cycle(m);
        if (r < 0) {
                log_error_errno(r, "Failed to start a cycle: %m");
                m->status = CYCLE_FAILED;
                return sd_event_exit(m->event, 0);
        }
        return 0;
}

/* The event loop both commands share: SIGTERM and SIGINT stop, SIGHUP reloads and SIGUSR1 starts
 * a cycle (`run` only), and WATCHDOG=1 goes out at half of WATCHDOG_USEC for as long as the loop
 * runs. */
static int setup_event(struct manager *m) {
        sigset_t ss;
        int r;

        if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGTERM) < 0 || sigaddset(&ss, SIGINT) < 0 ||
            sigaddset(&ss, SIGHUP) < 0 || sigaddset(&ss, SIGUSR1) < 0)
                return -EINVAL;
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return negative_errno();

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_stop, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGINT, on_stop, m);
        if (r < 0)
                return r;
        if (!m->once) {
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
                if (r < 0)
                        return r;
                r = sd_event_add_signal(m->event, NULL, SIGUSR1, on_cycle_now, m);
                if (r < 0)
                        return r;
        }
        (void) sd_event_set_watchdog(m->event, true);
        return 0;
}

static void manager_done(struct manager *m) {
        m->cycle = cycle_free(m->cycle);
        (void) sd_event_source_disable_unref(m->timer);
        (void) sd_event_source_disable_unref(m->stuck_timer);
        (void) sd_event_source_disable_unref(m->stop_timer);
        m->event = sd_event_unref(m->event);
        config_free(m->pending_config);
        config_free(m->config);
        metrics_done(&m->metrics);
}

/* Loads the config, sets up the loop, starts the first cycle and runs until the loop exits. */
static void manager_run(struct manager *m) {
        int r;

        r = loop_load_config(m->options->config_path, m->options->manifests_override, &m->config);
        if (r < 0) {
                if (!m->once)
                        log_error_errno(r, "Failed to load the config '%s', exiting",
                                        m->options->config_path);
                m->status = CYCLE_INVALID;
                return;
        }

        m->status = CYCLE_FAILED;
        r = setup_event(m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                return;
        }

        if (!m->once) {
                log_event(LOG_INFO, 0, MESSAGE_STARTED, NULL, 0,
                          "Started: a cycle every %" PRIu64 " %s (jitter %u%%)%s",
                          m->config->interval_usec >= USEC_PER_SEC
                                  ? m->config->interval_usec / USEC_PER_SEC
                                  : m->config->interval_usec / USEC_PER_MSEC,
                          m->config->interval_usec >= USEC_PER_SEC ? "s" : "ms", m->config->jitter_percent,
                          m->options->dry_run || m->config->dry_run ? ", dry run" : "");
                (void) sd_notify(false, "READY=1\nSTATUS=Started");
                /* Until something says otherwise, the daemon stops cleanly. */
                m->status = CYCLE_OK;
        }

        r = start_cycle(m);
        if (r < 0) {
                log_error_errno(r, "Failed to start %s: %m", m->once ? "the cycle" : "a cycle");
                m->status = CYCLE_FAILED;
                return;
        }

        r = sd_event_loop(m->event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                m->status = CYCLE_FAILED;
        }
}

enum cycle_status loop_run(const struct loop_options *o) {
        struct manager m = { .options = o };

        manager_run(&m);
        /* A clean stop leaves the metrics of the last cycle, the stopped one included. */
        if (m.status == CYCLE_OK && m.metrics.have_cycle && m.config->metrics_textfile)
                write_metrics_textfile(&m);
        /* STOPPING=1 once: on_stop sent it already when a signal stopped the daemon. */
        if (!m.stopping && m.status != CYCLE_INVALID)
                (void) sd_notify(false, "STOPPING=1");
        manager_done(&m);
        return m.status;
}

enum cycle_status loop_once(const struct loop_options *o, bool plan_only,
                            int (*report)(const struct cycle_result *r, void *userdata), void *userdata) {
        struct manager m = {
                .options = o,
                .once = true,
                .plan_only = plan_only,
                .report = report,
                .report_userdata = userdata,
        };

        manager_run(&m);
        manager_done(&m);
        return m.status;
}
