#pragma once

/* Logging: native journald (sd_journal_sendv) or one line an event on stderr.
 * The only globals besides main.c's arg_* are the level and target kept here. */

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

enum log_target {
        LOG_TARGET_AUTO, /* journal when $JOURNAL_STREAM names our stderr, else console */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_CONSOLE,
        _LOG_TARGET_MAX,
};

/* One structured journal field, e.g. { "CONNECTOR_ID", id }. Both strings are borrowed. */
struct log_field {
        const char *key;
        const char *value;
};

void log_set_target(enum log_target t);
/* The instance this process serves (--instance, one cluster of several on a host), added as
 * INSTANCE= to every journal entry; NULL for none. 'name' is borrowed for the process's life. */
void log_set_instance(const char *name);
enum log_target log_get_target(void); /* the resolved target: JOURNAL or CONSOLE */
int log_target_from_string(const char *s);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Or'ed into a level: the message is text escaped already, as escape.h does it (the messages of
 * struct yaml_read_diags), and is logged as it is. */
#define LOG_ESCAPED 0x100

/* Logs a message at 'level' (LOG_ERR ... LOG_DEBUG). 'error' is a negative errno or 0; when
 * non-zero it is added as ERRNO= and "%m" in fmt prints it. The message is escaped as escape.h
 * says (controls, invisible and format characters, separators, combining marks, bytes that are
 * not UTF-8, and the backslash), so that data (connector ids) can neither forge a log line nor
 * hide in one. Returns 'error'. */
int log_internal(int level, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As log_internal(), with a MESSAGE_ID (32 hex digits, may be NULL) and extra fields. */
int log_event(int level, int error, const char *message_id, const struct log_field *fields, size_t n_fields,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));

int log_eventv(int level, int error, const char *message_id, const struct log_field *fields, size_t n_fields,
               const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#define log_full_errno(level, error, ...)                                                              \
        ({                                                                                             \
                int _l = (level), _e = (error);                                                        \
                (_l & ~LOG_ESCAPED) <= log_get_max_level() ? log_internal(_l, _e, __VA_ARGS__) : (_e); \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, error, __VA_ARGS__)
