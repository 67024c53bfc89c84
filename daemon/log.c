#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "escape.h"
#include "util.h"

#define LOG_LINE_MAX   4096 /* bytes of message kept; longer ones are cut with "..." */
#define LOG_FIELDS_MAX 32

static enum log_target log_target = LOG_TARGET_AUTO;
static enum log_target log_resolved = _LOG_TARGET_MAX;
static int log_max_level = LOG_INFO;

static const char *const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_CONSOLE] = "console",
};

int log_target_from_string(const char *s) {
        for (int i = 0; i < _LOG_TARGET_MAX; i++)
                if (streq(s, target_names[i]))
                        return i;
        return -EINVAL;
}

void log_set_target(enum log_target t) {
        log_target = t;
        log_resolved = _LOG_TARGET_MAX;
}

static bool stderr_is_journal(void) {
        /* systemd sets JOURNAL_STREAM=DEV:INO for a service whose stderr is the journal
         * (systemd.exec(5)); compare it with what fd 2 actually is, since children inherit it. */
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char *end;

        if (!e)
                return false;
        errno = 0;
        dev = strtoull(e, &end, 10);
        if (errno != 0 || end == e || *end != ':')
                return false;
        e = end + 1;
        ino = strtoull(e, &end, 10);
        if (errno != 0 || end == e || *end != '\0')
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

enum log_target log_get_target(void) {
        if (log_resolved == _LOG_TARGET_MAX) {
                if (log_target == LOG_TARGET_AUTO)
                        log_resolved = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
                else
                        log_resolved = log_target;
        }
        return log_resolved;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

static void format_message(char *buf, size_t size, int error, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));
static void format_message(char *buf, size_t size, int error, const char *fmt, va_list ap) {
        /* One byte more than the message holds: a text that vsnprintf() had to cut is then too
         * long for 'buf' whatever it holds, so that the escaping marks it cut ("..."), before
         * the place where vsnprintf() may have split a UTF-8 sequence. */
        char raw[LOG_LINE_MAX + 1];

        errno = error < 0 ? -error : error; /* so that %m prints it */
        (void) vsnprintf(raw, sizeof raw, fmt, ap);
        (void) escape_to_buffer(buf, size, raw, 0);
}

static void write_journal(int level, int error, const char *message_id, const struct log_field *fields,
                          size_t n_fields, const char *message) {
        /* One allocated "KEY=value" string per field: a log call costs no large stack frame. */
        char *buf[LOG_FIELDS_MAX + 4];
        struct iovec iov[LOG_FIELDS_MAX + 4];
        size_t n = 0;
        bool failed = false;

        buf[n++] = strdup_printf("PRIORITY=%d", level);
        buf[n++] = strdup_printf("MESSAGE=%s", message);
        if (message_id)
                buf[n++] = strdup_printf("MESSAGE_ID=%s", message_id);
        if (error != 0)
                buf[n++] = strdup_printf("ERRNO=%d", error < 0 ? -error : error);
        for (size_t i = 0; i < n_fields && i < LOG_FIELDS_MAX; i++) {
                char value[LOG_LINE_MAX];

                if (!fields[i].value)
                        continue;
                (void) escape_to_buffer(value, sizeof value, fields[i].value, 0);
                buf[n++] = strdup_printf("%s=%s", fields[i].key, value);
        }

        for (size_t i = 0; i < n; i++) {
                if (!buf[i]) {
                        failed = true;
                        break;
                }
                iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = strlen(buf[i]) };
        }
        if (failed || sd_journal_sendv(iov, (int) n) < 0)
                /* Out of memory, or the journal is gone (shutdown, a test harness): do not lose the
                 * line. */
                (void) fprintf(stderr, "%s\n", message);

        for (size_t i = 0; i < n; i++)
                free(buf[i]);
}

int log_eventv(int level, int error, const char *message_id, const struct log_field *fields, size_t n_fields,
               const char *fmt, va_list ap) {
        char message[LOG_LINE_MAX];
        int saved_errno = errno;
        bool escaped = level & LOG_ESCAPED;

        level &= ~LOG_ESCAPED;
        if (level > log_max_level)
                return error;

        if (escaped) {
                /* Text escaped once already (yaml_read_diags' messages): escaping it again would
                 * double its backslashes. */
                errno = error < 0 ? -error : error;
                (void) vsnprintf(message, sizeof message, fmt, ap);
        } else
                format_message(message, sizeof message, error, fmt, ap);

        if (log_get_target() == LOG_TARGET_JOURNAL)
                write_journal(level, error, message_id, fields, n_fields, message);
        else {
                /* stdout carries only a command's own output; every log line goes to stderr. */
                if (log_max_level >= LOG_DEBUG && n_fields > 0) {
                        (void) fputs(message, stderr);
                        for (size_t i = 0; i < n_fields; i++) {
                                char value[LOG_LINE_MAX];

                                if (!fields[i].value)
                                        continue;
                                (void) escape_to_buffer(value, sizeof value, fields[i].value, 0);
                                (void) fprintf(stderr, " %s=%s", fields[i].key, value);
                        }
                        (void) fputc('\n', stderr);
                } else
                        (void) fprintf(stderr, "%s\n", message);
        }

        errno = saved_errno;
        return error;
}

int log_event(int level, int error, const char *message_id, const struct log_field *fields, size_t n_fields,
              const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_eventv(level, error, message_id, fields, n_fields, fmt, ap);
        va_end(ap);
        return r;
}

int log_internal(int level, int error, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_eventv(level, error, NULL, NULL, 0, fmt, ap);
        va_end(ap);
        return r;
}
