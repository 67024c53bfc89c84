#pragma once

/* Prometheus metrics, for node_exporter's textfile collector (metrics.textfile in the config):
 * what the cycles did, as the text exposition format, written atomically to a "*.prom" file at the
 * end of each cycle; and the counters, kept in the state folder so that they survive restarts and
 * one-shot runs. Nothing here logs: the caller (loop.c) says what failed.
 *
 * The text (metrics_format()): every family with a constant "# HELP" and its "# TYPE", no
 * timestamps on samples, no per-connector labels, every label value of the fixed label sets always
 * present (0 when nothing happened), in a fixed order; label values escaped as the format says
 * (backslash, double quote and newline). connector-reconciler(8) lists the series.
 *
 * STATE_DIR/metrics.state, mode 0600, replaced atomically and durably (fs-util.h): the counters,
 * the last success's time and the last plan's connector counts, one "KEY VALUE" a line:
 *
 *   format_version 1
 *   cycles_total.success 12
 *   ...
 *   actions_total.delete.ok 3
 *   ...
 *   http_requests_total.2xx 140
 *   ...
 *   connectors.declared 7
 *   ...
 *   last_success_timestamp_usec 1700000000123456
 *
 * Read strictly: "format_version 1" first, then every other key exactly once, in any order, and
 * nothing else; a value is an unsigned decimal integer of 64 bits written in digits only (no sign,
 * no leading zero); each line ends with a newline. A file that is not exactly that is refused, and
 * the caller starts the counters again from 0, which Prometheus handles as any counter reset. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster.h"
#include "cycle.h"
#include "util.h"

#define METRICS_STATE_FILE_NAME "metrics.state"
#define METRICS_FORMAT_VERSION  1
/* The largest metrics.state read: it holds under 50 lines of under 64 bytes. */
#define METRICS_STATE_SIZE_MAX ((size_t) 16 * 1024)

enum metrics_result {
        METRICS_RESULT_SUCCESS,
        METRICS_RESULT_FAILURE,
        METRICS_RESULT_BLOCKED,
        _METRICS_RESULT_MAX,
};

/* The last plan's connectors, by state. */
enum metrics_state {
        METRICS_STATE_DECLARED,     /* declared by a set (kept or missing) */
        METRICS_STATE_LIVE,         /* listed, not soft-deleted */
        METRICS_STATE_OWNED,        /* listed, not soft-deleted, and declared or owned by a set */
        METRICS_STATE_ORPHAN,       /* owned, not declared, to delete (the plan's deletes) */
        METRICS_STATE_MISSING,      /* declared, not listed (or listed soft-deleted) */
        METRICS_STATE_PROTECTED,    /* an orphan protected from deletion */
        METRICS_STATE_UNMANAGED,    /* listed, owned by no set */
        METRICS_STATE_WAITING,      /* an orphan waiting for safety.orphan_grace */
        METRICS_STATE_SOFT_DELETED, /* listed with deleted: true (Elasticsearch 9.0+) */
        _METRICS_STATE_MAX,
};

enum metrics_action {
        METRICS_ACTION_DELETE,
        METRICS_ACTION_CREATE,
        METRICS_ACTION_UPDATE,
        METRICS_ACTION_RESTORE,
        _METRICS_ACTION_MAX,
};

enum metrics_outcome {
        METRICS_OUTCOME_OK,
        METRICS_OUTCOME_ERROR,
        METRICS_OUTCOME_SKIPPED,
        _METRICS_OUTCOME_MAX,
};

struct metrics {
        /* Kept in metrics.state. */
        uint64_t cycles[_METRICS_RESULT_MAX];
        uint64_t actions[_METRICS_ACTION_MAX][_METRICS_OUTCOME_MAX];
        uint64_t http[_CLUSTER_CODE_CLASS_MAX];
        uint64_t connectors[_METRICS_STATE_MAX]; /* the last plan's */
        uint64_t last_success_usec;              /* CLOCK_REALTIME; 0: no success recorded */

        /* The last cycle's, in memory only. */
        bool have_cycle;          /* false: no cycle recorded yet (the fields below are 0) */
        uint64_t last_cycle_usec; /* when it ended, CLOCK_REALTIME */
        uint64_t cycle_duration_usec;
        unsigned guards; /* enum cycle_guard bits */
        /* Owned; NULL when unknown. A cycle that does not learn them leaves the earlier ones. */
        char *es_version;
        char *cluster_uuid;
        char *revision; /* the manifests' digest, "sha256:<hex>" */
};

/* Frees the strings of 'm' and zeroes it all. */
void metrics_done(struct metrics *m);

/* Sets the fields kept in metrics.state to 0, leaving the others. */
void metrics_reset_counters(struct metrics *m);

/* Adds the cycle 'r' (borrowed for the call; its status anything but CYCLE_BUSY, which did
 * nothing) that ended at 'end_realtime_usec' to 'm': its result (CYCLE_OK a success, CYCLE_BLOCKED
 * blocked, any other a failure), its deletes (deleted: ok; failed or of unknown outcome: error;
 * already gone, changed since the listing or not deleted as the cycle stopped: skipped), its HTTP
 * answers, its plan's connector counts (when it planned) and its guards, duration, cluster and
 * manifests. Returns 0, or -ENOMEM (then 'm' holds the counters added, and maybe the old strings). */
int metrics_add_cycle(struct metrics *m, const struct cycle_result *r, uint64_t end_realtime_usec);

/* Writes 'm' as the text exposition format to 'f' (borrowed), with build_info's 'version'.
 * Returns 0, or -EIO when the stream's error flag is set afterwards. */
int metrics_format(const struct metrics *m, const char *version, FILE *f);

/* As metrics_format(), with the label instance="INSTANCE" first in every sample when 'instance' is
 * not NULL (--instance: several clusters' files side by side in one collector's folder). Returns
 * as metrics_format() does, or -ENOMEM. */
int metrics_format_instance(const struct metrics *m, const char *version, const char *instance, FILE *f);

/* Replaces the file 'path' (absolute; its last component ends in ".prom") with
 * metrics_format_instance()'s text, mode 0644 so that node_exporter's user may read it, as fs_write_atomic() does: the text
 * goes into ".NAME.PID.tmp" beside it, which the collector ignores (it reads "*.prom" only), is
 * fsync'd and renamed over 'path', and the folder is fsync'd. Returns 0, -EINVAL for a path
 * without a folder, or fs_write_atomic_stream()'s errno. */
int metrics_write_textfile(const char *path, const struct metrics *m, const char *version,
                           const char *instance);

/* Reads DIR/metrics.state into the kept fields of 'm' (the others are left). Returns 0; -ENOENT
 * when there is no such file; -EBADMSG when it is not exactly the format above, with
 * *reterr_message (when not NULL; owned by the caller) saying what is wrong and on which line;
 * or the errno of reading it. On failure 'm' is left as it was. */
int metrics_load(const char *dir, struct metrics *m, char **reterr_message);

/* Writes the kept fields of 'm' as DIR/metrics.state, mode 0600, atomically and durably (see
 * fs_write_atomic()). Returns 0 or a negative errno. */
int metrics_save(const char *dir, const struct metrics *m);
