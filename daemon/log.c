#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "escape.h"
#include "util.h"

#define LOG_LINE_MAX   4096 /* bytes of message kept; longer ones are cut with "..." */
#define LOG_FIELDS_MAX 32

/* Where journald listens (sd_journal_sendv() sends there). For the tests only, the variable
 * below names another path to look for instead, so that a test can make the journal look absent
 * on a host that has one. */
#define JOURNAL_SOCKET_PATH     "/run/systemd/journal/socket"
#define JOURNAL_SOCKET_TEST_ENV "CONNECTOR_RECONCILER_TEST_JOURNAL_SOCKET"

static enum log_target log_target = LOG_TARGET_AUTO;
static enum log_target log_resolved = _LOG_TARGET_MAX;
static int log_max_level = LOG_INFO;
static bool journal_noted;       /* the note that the journal is unavailable was printed */
static const char *log_instance; /* --instance: INSTANCE= on every journal entry, or NULL */

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

void log_set_instance(const char *name) {
        log_instance = name;
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

static const char *journal_socket(void) {
        return getenv(JOURNAL_SOCKET_TEST_ENV) ?: JOURNAL_SOCKET_PATH;
}

/* Says once, on stderr, that the journal cannot take the log and why: the lines that follow are
 * there instead of lost. */
static void note_journal_unavailable(const char *what, int error) {
        if (journal_noted)
                return;
        journal_noted = true;
        (void) fprintf(stderr, "The journal is not available (%s: %s): logging to standard error instead\n",
                       what, strerror(error < 0 ? -error : error));
}

enum log_target log_get_target(void) {
        if (log_resolved == _LOG_TARGET_MAX) {
                if (log_target == LOG_TARGET_AUTO)
                        log_resolved = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
                else
                        log_resolved = log_target;

                /* --log-target journal with no journald (a container, a chroot, early boot): the
                 * lines would be dropped, one by one, in silence. */
                if (log_resolved == LOG_TARGET_JOURNAL && access(journal_socket(), F_OK) < 0) {
                        note_journal_unavailable(journal_socket(), errno);
                        log_resolved = LOG_TARGET_CONSOLE;
                }
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

static void write_console(const char *message, const struct log_field *fields, size_t n_fields);

static void write_journal(int level, int error, const char *message_id, const struct log_field *fields,
                          size_t n_fields, const char *message) {
        /* One allocated "KEY=value" string per field: a log call costs no large stack frame. */
        char *buf[LOG_FIELDS_MAX + 5];
        struct iovec iov[LOG_FIELDS_MAX + 5];
        size_t n = 0;
        bool failed = false;
        int r = -ENOMEM;

        buf[n++] = strdup_printf("PRIORITY=%d", level);
        buf[n++] = strdup_printf("MESSAGE=%s", message);
        if (message_id)
                buf[n++] = strdup_printf("MESSAGE_ID=%s", message_id);
        if (error != 0)
                buf[n++] = strdup_printf("ERRNO=%d", error < 0 ? -error : error);
        if (log_instance)
                buf[n++] = strdup_printf("INSTANCE=%s", log_instance);
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
        /* sd_journal_sendv() reports success when the socket is missing (it "fails silently if
         * the journal is not available"): look for it first, a stat per line. */
        if (!failed && access(journal_socket(), F_OK) < 0) {
                note_journal_unavailable(journal_socket(), errno);
                failed = true;
        }
        if (!failed) {
                r = sd_journal_sendv(iov, (int) n);
                if (r < 0)
                        note_journal_unavailable("sd_journal_sendv()", r);
        }
        if (r < 0)
                /* Out of memory, or the journal is gone (journald stopped or restarting): the line
                 * goes to stderr rather than nowhere; the next one tries the journal again. */
                write_console(message, fields, n_fields);

        for (size_t i = 0; i < n; i++)
                free(buf[i]);
}

static void write_console(const char *message, const struct log_field *fields, size_t n_fields) {
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
        else
                write_console(message, fields, n_fields);

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
