#pragma once

/* The state folder (the config's state_dir, /var/lib/connector-reconciler by default): the lock
 * that lets one instance at a time act on the cluster, and what earlier cycles saw, which the
 * plan reads (plan.h's struct plan_orphan_seen and struct plan_prior). Nothing here logs.
 *
 * STATE_DIR/lock: an empty file, or the pid of the instance holding it and a newline. The lock
 * is flock(LOCK_EX) on an open file description: it lives as long as the holder's fd, so a crash
 * frees it, and two opens in one process exclude each other as two processes do.
 *
 * STATE_DIR/state.json, mode 0600, replaced atomically and durably (fs-util.h), one entry a line:
 *
 *   {"format_version":1,"orphans":[
 *   {"id":"ID","since_usec":N},
 *   ...
 *   ],"prior":[
 *   {"id":"ID","set":"SET"},
 *   ...
 *   ],"deleted":[
 *   {"id":"ID","cycles_absent":N,"deleted_usec":N},
 *   ...
 *   ],"creating":[
 *   {"id":"ID","cycles":N,"since_usec":N},
 *   ...
 *   ]}
 *
 * Read strictly, as RFC 8259 JSON (json-scan.h) holding exactly this: an object whose first member
 * is "format_version": 1 (so that a file of another version is told apart before anything else in
 * it is read), then "orphans" (required) and "prior" (optional: absent means no cycle that carried
 * out its plan is recorded yet, which differs from an empty list) and "deleted" (optional, left
 * out when empty: the connectors this program deleted lately, plan.h's struct plan_deleted) and
 * "creating" (optional, left out when empty: the connectors this program created whose declared
 * configuration waits for the connector service's schema, in a struct plan_deleted: cycles_absent
 * counts the cycles that found it waiting, deleted_usec is when it was created), no other member,
 * none twice.
 * Each entry is an object with exactly its two members, in any order, and for "deleted" an
 * optional third, "deleted_usec" (when this program deleted it, CLOCK_REALTIME; left out when not
 * known, as in files written before it was kept); "id" is a non-empty string
 * of at most STATE_ID_MAX bytes, "set" a non-empty string, "since_usec", "cycles_absent" and
 * "deleted_usec" a non-negative integer
 * written in digits only (no sign, fraction or exponent) that fits 64 bits. In each array the ids
 * are sorted bytewise, each at most once. A caller treats a file that is not exactly this as empty
 * (and says so): a lost state restarts every clock, it never shortens one. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

#define STATE_FILE_NAME      "state.json"
#define STATE_LOCK_NAME      "lock"
#define STATE_FORMAT_VERSION 1
/* The longest id: Elasticsearch's limit on a document _id, in bytes. */
#define STATE_ID_MAX 512
/* The largest state file read or written: 100,000 entries of the longest ids take about 60 MiB
 * when nothing in them is escaped. */
#define STATE_FILE_SIZE_MAX ((size_t) 128 * 1024 * 1024)

/* What earlier cycles saw. The struct owns its arrays and every string in them. state_load()
 * gives both arrays sorted by id (bytewise) with no id twice, which the lookups need; a caller
 * that fills them itself may leave them in any order for state_save(), but not for the lookups. */
struct state {
        struct plan_orphan_seen *orphans;
        size_t n_orphans;
        struct plan_prior *prior;
        size_t n_prior;
        bool have_prior;              /* false: no "prior" recorded (prior is then NULL and n_prior 0) */
        struct plan_deleted *deleted; /* sorted by id, each once: connectors deleted lately */
        size_t n_deleted;
        /* sorted by id, each once: connectors created and waiting for their configuration schema
         * (cycles_absent: the cycles that found one waiting; deleted_usec: when it was created) */
        struct plan_deleted *creating;
        size_t n_creating;
};

/* Takes the lock of the state folder 'dir' (which must exist): opens or creates DIR/lock (mode
 * 0600, O_NOFOLLOW) and takes flock(LOCK_EX|LOCK_NB) on it, never waiting. On success writes our
 * pid and a newline into the file, in place of what it held, so that another instance can name
 * us, and returns 0 and *ret_fd, the lock: it is held until the fd is closed (state_unlock()), by
 * the process's exit at the latest. The fd is O_CLOEXEC. When another open of the file holds the
 * lock (another process, or this one through another state_lock()), returns -EBUSY and sets
 * *reterr_holder (when not NULL) to the pid the file names, 0 when it names none (the holder has
 * not written it yet, or exited cleanly a moment ago); for a moment after a crash it may name the
 * crashed process. Otherwise a negative errno from open(), flock() or writing the pid. Once it
 * holds the lock it removes the temporary state files that crashed instances left. */
int state_lock(const char *dir, int *ret_fd, pid_t *reterr_holder);

/* Releases the lock state_lock() took: empties the file (best effort, so that a stale pid is not
 * mistaken for a holder) and closes 'fd'. Accepts a negative fd and does nothing then. */
void state_unlock(int fd);

/* Creates an empty state (no orphans, no prior recorded). Returns 0 and *ret (owned by the
 * caller; free with state_free()) or -ENOMEM. */
int state_new(struct state **ret);

/* Frees the state, its arrays and every string in them. Accepts NULL; returns NULL. */
struct state *state_free(struct state *s);
static inline void state_freep(struct state **s) {
        if (*s)
                (void) state_free(*s);
}

/* Reads DIR/state.json, in the format above. Returns 0 and *ret (owned by the caller), with both
 * arrays sorted by id and have_prior saying whether "prior" was there. Returns -ENOENT when
 * there is no state file; -EBADMSG when it is not exactly the format above, with
 * *reterr_message (when not NULL; owned by the caller; set only for -EBADMSG) saying what is
 * wrong and where, e.g. "'orphans[3].since_usec' is not a non-negative integer" (a file larger
 * than STATE_FILE_SIZE_MAX, or not a regular file, is -EBADMSG too); -ENOMEM, or the errno of
 * reading the file. Cost: linear in the file's size (test-state.c measures 50,000 entries of each
 * kind: 6.8 MB). */
int state_load(const char *dir, struct state **ret, char **reterr_message);

/* Writes 's' (borrowed) as DIR/state.json with mode 0600, atomically and durably (see
 * fs_write_atomic()); "prior" only when s->have_prior. The arrays may come in any order: each is
 * written sorted by id, and an id given twice is written once: for orphans with the latest
 * since_usec of its copies (so that a repeat never shortens a wait), for prior with its first copy
 * in the array. Returns 0; -EINVAL, writing nothing, when an id is NULL, empty, longer than
 * STATE_ID_MAX or not valid UTF-8, or a set is NULL, empty or not valid UTF-8 (neither would read
 * back as written); -EFBIG when the file would be larger than STATE_FILE_SIZE_MAX; -ENOMEM, or the
 * errno of writing the file. Cost: linear in the ids' length, plus a radix sort of an array given
 * out of order; the file is written as it is formatted, with no copy of it in memory. */
int state_save(const char *dir, const struct state *s);

/* The orphan entry with this id, borrowed from 's', or NULL. O(log n): s->orphans must be sorted
 * by id (bytewise), as state_load() gives it. */
const struct plan_orphan_seen *state_find_orphan(const struct state *s, const char *id);

/* The prior entry with this id, borrowed from 's', or NULL (always when !s->have_prior). O(log n):
 * s->prior must be sorted by id (bytewise), as state_load() gives it. */
const struct plan_prior *state_find_prior(const struct state *s, const char *id);
