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
#include "util.h"

/* On SIGTERM the DELETEs on the wire get this long to be answered, and the whole stop this long:
 * systemd's stop, and an operator's Ctrl-C, expect a second at most. */
#define STOP_GRACE_USEC (700 * USEC_PER_MSEC)
#define STOP_DEADLINE_USEC USEC_PER_SEC
/* A cycle cut short by a change of its manifests is tried again this soon, then twice as late
 * each time it happens again in a row, up to the interval. */
#define RETRY_SOON_USEC (5 * USEC_PER_SEC)
/* A cycle past its cycle_timeout ends within its requests' timeout; one that has not ended this
 * long after that (or after as long again as its cycle_timeout, when that is shorter) is stuck,
 * most likely on a backup write hanging in the file system, and the watchdog stops. */
#define STUCK_MARGIN_USEC (60 * USEC_PER_SEC)

struct daemon {
        sd_event *event;
        const struct loop_options *options;
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
};

static void log_diags(int level, const struct yaml_read_diags *d) {
        for (size_t i = 0; i < d->n_items; i++)
                log_full(level | LOG_ESCAPED, "%s", d->items[i].text);
}

int loop_load_config(const struct loop_options *o, bool secrets, struct config **ret) {
        _cleanup_(config_freep) struct config *c = NULL;
        struct yaml_read_diags warnings = {}, errors = {};
        int r;

        r = config_load(o->config_path, o->manifests_override, &c, &warnings, &errors);
        if (r >= 0 && secrets)
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

static int block_signals(void) {
        sigset_t ss;

        if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGTERM) < 0 || sigaddset(&ss, SIGINT) < 0 ||
            sigaddset(&ss, SIGHUP) < 0)
                return -EINVAL;
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return negative_errno();
        return 0;
}

static void notify_status(const char *fmt, ...) _printf_(1, 2);
static void notify_status(const char *fmt, ...) {
        char status[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(status, sizeof status, fmt, ap);
        va_end(ap);
        (void) sd_notifyf(false, "STATUS=%s", status);
}

static int start_cycle(struct daemon *d);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        int r;

        r = start_cycle(d);
        if (r < 0) {
                log_error_errno(r, "Failed to start a cycle: %m");
                return sd_event_exit(d->event, 1);
        }
        return 0;
}

/* Arms the timer of the next cycle: a jittered interval from now, or 'delay' when not 0. */
static int arm_timer(struct daemon *d, usec_t delay) {
        usec_t next, accuracy;
        int r;

        if (delay == 0)
                delay = jittered_interval(d->config);
        next = usec_add(now_usec(CLOCK_BOOTTIME), delay);

        /* Up to a second late, to coalesce wake-ups, but never late by much of a short wait. */
        accuracy = MAX(MIN(USEC_PER_SEC, delay / 10), USEC_PER_MSEC);
        d->next_cycle_realtime = usec_add(now_usec(CLOCK_REALTIME), delay);
        if (!d->timer) {
                r = sd_event_add_time(d->event, &d->timer, CLOCK_BOOTTIME, next, accuracy, on_timer, d);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(d->timer, next);
                if (r >= 0)
                        r = sd_event_source_set_time_accuracy(d->timer, accuracy);
                if (r < 0)
                        return r;
        }
        return sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

static void format_clock(char *buf, size_t size, usec_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                (void) snprintf(buf, size, "@%" PRIu64, realtime_usec / USEC_PER_SEC);
}

static void on_cycle_done(struct cycle *c, struct cycle_result *res, void *userdata) {
        struct daemon *d = userdata;
        usec_t delay = 0;
        char next[64];
        int r;

        d->cycles++;
        d->stuck_timer = sd_event_source_disable_unref(d->stuck_timer);
        /* A stuck cycle turned the watchdog off; it ended after all. */
        (void) sd_event_set_watchdog(d->event, true);

        if (d->stopping) {
                d->cycle = cycle_free(d->cycle);
                (void) sd_event_exit(d->event, 0);
                return;
        }

        if (d->pending_config) {
                config_free(d->config);
                d->config = TAKE_PTR(d->pending_config);
        }

        /* Cut short by the manifests changing under it: soon again, not a whole interval later. */
        if (res->status == CYCLE_RETRY) {
                delay = MIN(RETRY_SOON_USEC << MIN(d->retries, 20u), d->config->interval_usec);
                d->retries++;
        } else
                d->retries = 0;

        r = arm_timer(d, delay);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the cycle timer: %m");
                (void) sd_event_exit(d->event, 1);
        }
        format_clock(next, sizeof next, d->next_cycle_realtime);
        notify_status("Cycle %u: %s; next cycle at %s", d->cycles, res->summary, next);

        /* The last use of the cycle: it is freed here, from inside its own callback. */
        d->cycle = cycle_free(d->cycle);
        /* The listing and the plan are gone until the next cycle: give their pages back, so that
         * an idle daemon holds little memory (measured: RssAnon 6.2 MiB -> 1.8 MiB after a cycle
         * of 1,000 connectors). */
        (void) malloc_trim(0);
}

/* How long after its start a cycle is stuck. */
static usec_t stuck_after(const struct config *c) {
        return usec_add(c->cycle_timeout_usec,
                        usec_add(c->request_timeout_usec, MIN(STUCK_MARGIN_USEC, c->cycle_timeout_usec)));
}

static int on_stuck(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;

        d->stuck_timer = sd_event_source_disable_unref(d->stuck_timer);
        log_event(LOG_CRIT, 0, MESSAGE_WATCHDOG_OFF, NULL, 0,
                  "Cycle %u has not ended %" PRIu64 " ms past its cycle_timeout (a backup write hanging in the file "
                  "system?): stopping the watchdog, so that the service manager restarts the service",
                  d->cycles + 1, (stuck_after(d->config) - d->config->cycle_timeout_usec) / USEC_PER_MSEC);
        (void) sd_event_set_watchdog(d->event, false);
        return 0;
}

static int start_cycle(struct daemon *d) {
        const struct cycle_options co = {
                .config = d->config,
                .dry_run = d->options->dry_run || d->config->dry_run,
                .page_size = d->options->page_size,
                .confirm_removed_sets = d->options->confirm_removed_sets,
                .n_confirm_removed_sets = d->options->n_confirm_removed_sets,
        };
        int r;

        assert(!d->cycle);
        notify_status("Cycle %u running", d->cycles + 1);
        r = cycle_start(&d->cycle, d->event, &co, on_cycle_done, d);
        if (r < 0)
                return r;

        r = sd_event_add_time_relative(d->event, &d->stuck_timer, CLOCK_BOOTTIME, stuck_after(d->config),
                                       USEC_PER_SEC / 10, on_stuck, d);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the stuck cycle timer, ignoring: %m");
        return 0;
}

static int on_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;

        d->stop_timer = sd_event_source_disable_unref(d->stop_timer);
        log_warning("The cycle did not end within the stop's second: leaving it");
        d->cycle = cycle_free(d->cycle);
        return sd_event_exit(d->event, 0);
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        int r;

        if (d->stopping)
                return 0;
        d->stopping = true;
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        log_event(LOG_INFO, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, stopping%s",
                  si->ssi_signo == SIGINT ? "INT" : "TERM", d->cycle ? " (stopping the running cycle)" : "");
        if (!d->cycle)
                return sd_event_exit(d->event, 0);

        /* The DELETEs on the wire are awaited a little, so that their outcome is known and logged;
         * nothing new starts. The cycle's end exits the loop. */
        cycle_stop(d->cycle, STOP_GRACE_USEC);
        r = sd_event_add_time_relative(d->event, &d->stop_timer, CLOCK_MONOTONIC, STOP_DEADLINE_USEC,
                                       10 * USEC_PER_MSEC, on_stop_deadline, d);
        if (r < 0) {
                d->cycle = cycle_free(d->cycle);
                return sd_event_exit(d->event, 0);
        }
        return 0;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_(config_freep) struct config *c = NULL;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading the config",
                          now_usec(CLOCK_MONOTONIC));

        r = loop_load_config(d->options, true, &c);
        if (r < 0)
                log_event(LOG_ERR, r, MESSAGE_RELOAD_FAILED, NULL, 0,
                          "Failed to reload '%s', keeping the last good config", d->options->config_path);
        else {
                log_event(LOG_INFO, 0, MESSAGE_RELOADED, NULL, 0, "Reloaded '%s'%s", d->options->config_path,
                          d->cycle ? "; it applies from the next cycle" : "");
                if (d->cycle) {
                        /* The running cycle borrows the old config: swap when it ends. */
                        config_free(d->pending_config);
                        d->pending_config = TAKE_PTR(c);
                } else {
                        config_free(d->config);
                        d->config = TAKE_PTR(c);
                        /* The interval may have changed: count it from now. */
                        r = arm_timer(d, 0);
                        if (r < 0) {
                                log_error_errno(r, "Failed to arm the cycle timer: %m");
                                (void) sd_event_exit(d->event, 1);
                        }
                }
        }

        /* Always: systemd waits for READY=1 after RELOADING=1. */
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", r < 0 ? "Reload failed, running with the last good config"
                                                              : "Config reloaded");
        return 0;
}

static int setup_event(sd_event **ret, void *userdata, bool reload) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        int r;

        r = block_signals();
        if (r < 0)
                return r;
        r = sd_event_default(&e);
        if (r < 0)
                return r;
        r = sd_event_add_signal(e, NULL, SIGTERM, on_stop, userdata);
        if (r < 0)
                return r;
        r = sd_event_add_signal(e, NULL, SIGINT, on_stop, userdata);
        if (r < 0)
                return r;
        if (reload) {
                r = sd_event_add_signal(e, NULL, SIGHUP, on_reload, userdata);
                if (r < 0)
                        return r;
        }
        /* WATCHDOG=1 at half of WATCHDOG_USEC, for as long as the loop runs. */
        (void) sd_event_set_watchdog(e, true);

        *ret = TAKE_PTR(e);
        return 0;
}

int loop_run(const struct loop_options *o) {
        struct daemon d = { .options = o };
        int r, code;

        r = loop_load_config(o, true, &d.config);
        if (r < 0) {
                log_error_errno(r, "Failed to load the config '%s', exiting", o->config_path);
                return 2;
        }

        r = setup_event(&d.event, &d, true);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                code = 1;
                goto finish;
        }

        log_event(LOG_INFO, 0, MESSAGE_STARTED, NULL, 0, "Started: a cycle every %" PRIu64 " %s (jitter %u%%)%s",
                  d.config->interval_usec >= USEC_PER_SEC ? d.config->interval_usec / USEC_PER_SEC
                                                           : d.config->interval_usec / USEC_PER_MSEC,
                  d.config->interval_usec >= USEC_PER_SEC ? "s" : "ms", d.config->jitter_percent,
                  o->dry_run || d.config->dry_run ? ", dry run" : "");
        (void) sd_notify(false, "READY=1\nSTATUS=Started");

        r = start_cycle(&d);
        if (r < 0) {
                log_error_errno(r, "Failed to start a cycle: %m");
                code = 1;
                goto finish;
        }

        r = sd_event_loop(d.event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                code = 1;
        } else
                code = r;

finish:
        if (!d.stopping)
                (void) sd_notify(false, "STOPPING=1");
        d.cycle = cycle_free(d.cycle);
        (void) sd_event_source_disable_unref(d.timer);
        (void) sd_event_source_disable_unref(d.stuck_timer);
        (void) sd_event_source_disable_unref(d.stop_timer);
        sd_event_unref(d.event);
        config_free(d.pending_config);
        config_free(d.config);
        return code;
}

struct once {
        sd_event *event;
        struct cycle *cycle;
        sd_event_source *stop_timer;
        bool stopping;
        int code;
        int (*report)(const struct cycle_result *r, void *userdata);
        void *userdata;
};

static void on_once_done(struct cycle *c, struct cycle_result *res, void *userdata) {
        struct once *w = userdata;
        int r = 0;

        w->code = cycle_status_to_exit(res->status);
        if (w->report && !w->stopping)
                r = w->report(res, w->userdata);
        if (r < 0 && w->code == 0)
                w->code = 1;
        w->cycle = cycle_free(w->cycle);
        (void) sd_event_exit(w->event, 0);
}

static int on_once_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        struct once *w = userdata;

        w->stop_timer = sd_event_source_disable_unref(w->stop_timer);
        log_warning("The cycle did not end within the stop's second: leaving it");
        w->cycle = cycle_free(w->cycle);
        w->code = 1;
        return sd_event_exit(w->event, 0);
}

static int on_once_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct once *w = userdata;
        int r;

        if (w->stopping)
                return 0;
        w->stopping = true;
        log_event(LOG_WARNING, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, stopping the cycle",
                  si->ssi_signo == SIGINT ? "INT" : "TERM");
        /* The cycle ends with what it did, said (and the exit status 1). */
        cycle_stop(w->cycle, STOP_GRACE_USEC);
        r = sd_event_add_time_relative(w->event, &w->stop_timer, CLOCK_MONOTONIC, STOP_DEADLINE_USEC,
                                       10 * USEC_PER_MSEC, on_once_stop_deadline, w);
        if (r < 0) {
                w->cycle = cycle_free(w->cycle);
                w->code = 1;
                return sd_event_exit(w->event, 0);
        }
        return 0;
}

int loop_once(const struct loop_options *o, bool plan_only,
              int (*report)(const struct cycle_result *r, void *userdata), void *userdata) {
        _cleanup_(config_freep) struct config *config = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        struct once w = { .code = 1, .report = report, .userdata = userdata };
        struct cycle_options co;
        int r;

        r = loop_load_config(o, true, &config);
        if (r < 0)
                return 2;

        r = block_signals();
        if (r >= 0)
                r = sd_event_default(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, on_once_stop, &w);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, on_once_stop, &w);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                return 1;
        }
        (void) sd_event_set_watchdog(e, true);
        w.event = e;

        co = (struct cycle_options){
                .config = config,
                .plan_only = plan_only,
                .dry_run = o->dry_run || config->dry_run,
                .page_size = o->page_size,
                .confirm_removed_sets = o->confirm_removed_sets,
                .n_confirm_removed_sets = o->n_confirm_removed_sets,
        };
        r = cycle_start(&w.cycle, e, &co, on_once_done, &w);
        if (r < 0) {
                log_error_errno(r, "Failed to start the cycle: %m");
                return 1;
        }

        r = sd_event_loop(e);
        w.cycle = cycle_free(w.cycle);
        (void) sd_event_source_disable_unref(w.stop_timer);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return 1;
        }
        return w.code;
}
