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

#define STOP_EXIT_CANCELLED 1 /* `once` stopped by a signal before its cycle ended */

struct daemon {
        sd_event *event;
        const struct loop_options *options;
        struct config *config;         /* in use */
        struct config *pending_config; /* loaded by SIGHUP while a cycle ran: used from the next */
        struct cycle *cycle;           /* the running cycle, or NULL */
        sd_event_source *timer;        /* the next cycle */
        usec_t next_cycle_realtime;
        unsigned cycles;
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

static int arm_timer(struct daemon *d) {
        usec_t delay = jittered_interval(d->config);
        usec_t next = usec_add(now_usec(CLOCK_BOOTTIME), delay);
        int r;

        d->next_cycle_realtime = usec_add(now_usec(CLOCK_REALTIME), delay);
        if (!d->timer) {
                r = sd_event_add_time(d->event, &d->timer, CLOCK_BOOTTIME, next, USEC_PER_SEC, on_timer, d);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(d->timer, next);
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
        char next[64];
        int r;

        d->cycles++;
        if (d->pending_config) {
                config_free(d->config);
                d->config = TAKE_PTR(d->pending_config);
        }

        r = arm_timer(d);
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

static int start_cycle(struct daemon *d) {
        const struct cycle_options co = {
                .config = d->config,
                .dry_run = d->options->dry_run || d->config->dry_run,
                .page_size = d->options->page_size,
        };

        assert(!d->cycle);
        notify_status("Cycle %u running", d->cycles + 1);
        return cycle_start(&d->cycle, d->event, &co, on_cycle_done, d);
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        log_event(LOG_INFO, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, stopping%s",
                  si->ssi_signo == SIGINT ? "INT" : "TERM", d->cycle ? " (cancelling the running cycle)" : "");
        /* Cancels requests in flight and retry timers; backups are written whole or not at all. */
        d->cycle = cycle_free(d->cycle);
        return sd_event_exit(d->event, 0);
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
                        r = arm_timer(d);
                        if (r < 0)
                                return log_error_errno(r, "Failed to arm the cycle timer: %m");
                }
        }

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

        log_event(LOG_INFO, 0, MESSAGE_STARTED, NULL, 0, "Started: a cycle every %" PRIu64 " s (jitter %u%%)%s",
                  d.config->interval_usec / USEC_PER_SEC, d.config->jitter_percent,
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
        (void) sd_notify(false, "STOPPING=1");
        d.cycle = cycle_free(d.cycle);
        (void) sd_event_source_disable_unref(d.timer);
        sd_event_unref(d.event);
        config_free(d.pending_config);
        config_free(d.config);
        return code;
}

struct once {
        sd_event *event;
        struct cycle *cycle;
        int code;
        int (*report)(const struct cycle_result *r, void *userdata);
        void *userdata;
};

static void on_once_done(struct cycle *c, struct cycle_result *res, void *userdata) {
        struct once *w = userdata;
        int r = 0;

        w->code = cycle_status_to_exit(res->status);
        if (w->report)
                r = w->report(res, w->userdata);
        if (r < 0 && w->code == 0)
                w->code = 1;
        w->cycle = cycle_free(w->cycle);
        (void) sd_event_exit(w->event, 0);
}

static int on_once_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct once *w = userdata;

        log_event(LOG_WARNING, 0, MESSAGE_STOPPING, NULL, 0, "Received SIG%s, cancelling the cycle",
                  si->ssi_signo == SIGINT ? "INT" : "TERM");
        w->cycle = cycle_free(w->cycle);
        w->code = STOP_EXIT_CANCELLED;
        return sd_event_exit(w->event, 0);
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

        co = (struct cycle_options) {
                .config = config,
                .plan_only = plan_only,
                .dry_run = o->dry_run || config->dry_run,
                .page_size = o->page_size,
        };
        r = cycle_start(&w.cycle, e, &co, on_once_done, &w);
        if (r < 0) {
                log_error_errno(r, "Failed to start the cycle: %m");
                return 1;
        }

        r = sd_event_loop(e);
        w.cycle = cycle_free(w.cycle);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return 1;
        }
        return w.code;
}
