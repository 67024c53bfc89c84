#pragma once

/* The config file (connector-reconciler.yaml(5)): YAML -> struct config, plain C types only.
 * Strict: unknown keys, wrong types, values out of range and missing required keys are errors,
 * all reported in one pass as "FILE:LINE:COLUMN: message" naming the key by its dotted path.
 * Loading reads no secret (the `validate` command is offline and needs none); the secrets are
 * read by a second, separate call. Nothing here logs above debug: the caller prints the lists. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "util.h"
#include "yaml-read.h"

/* The defaults of cluster.connect_timeout, cluster.request_timeout, cluster.max_result_window,
 * concurrency and the retry keys are the cluster client's (cluster.h's CLUSTER_*_DEFAULT). */
/* cluster.max_result_window: the connector index's index.max_result_window, which limits how far
 * the list API pages (Elasticsearch's default 10000); raise it only together with the index
 * setting. The cap keeps a typo from asking for absurd pages of memory. */
#define CONFIG_MAX_RESULT_WINDOW_MAX  10000000U
#define CONFIG_DEFAULT_INTERVAL_USEC  (5 * USEC_PER_MINUTE)
#define CONFIG_DEFAULT_JITTER_PERCENT 10U
#define CONFIG_MAX_CONCURRENCY        64U
#define CONFIG_MAX_RETRY_MAX_ATTEMPTS 1000U
#define CONFIG_DEFAULT_MAX_DELETIONS  10U
#define CONFIG_DEFAULT_MAX_UPDATES    10U
#define CONFIG_UNLIMITED              UINT64_MAX /* safety.max_deletions: "unlimited"; equals PLAN_UNLIMITED */
#define CONFIG_DEFAULT_BACKUP_DIR     "/var/lib/connector-reconciler/deleted"
/* state_dir when neither the key nor $STATE_DIRECTORY gives one. */
#define CONFIG_DEFAULT_STATE_DIR          "/var/lib/connector-reconciler"
#define CONFIG_DEFAULT_CYCLE_TIMEOUT_USEC USEC_PER_HOUR
/* backup_retention's default: 30 days. */
#define CONFIG_DEFAULT_BACKUP_RETENTION_USEC (30 * 24 * USEC_PER_HOUR)
/* cycle_timeout's limit: 7 days, written 168h since durations have no unit for days. */
#define CONFIG_MAX_CYCLE_TIMEOUT_USEC (168 * USEC_PER_HOUR)
/* cluster.cluster_uuid: Elasticsearch's are 22 characters of URL-safe base64; the limit leaves
 * room without letting a typo run on. */
#define CONFIG_MAX_CLUSTER_UUID_LENGTH 64U
#define CONFIG_MAX_SECRET_SIZE         (64U * 1024U) /* bytes of a secret file */

/* A file a `*_file` key names. */
struct config_file {
        char *path;      /* resolved (see below); NULL when the key is absent */
        const char *key; /* the key's dotted path, e.g. "cluster.api_key_file" (static) */
        unsigned line;   /* where its value is written in the config file */
        unsigned column;
        bool credential; /* found through $CREDENTIALS_DIRECTORY */
};

/* `manifests` as a mapping (connector-reconciler.yaml(5)): a Git repository's commit. */
struct config_git {
        bool enabled; /* false: `manifests` is a path, and nothing below is set */
        /* manifests.git: a URL to fetch (https://, http://, git://, ssh://, file://; as written,
         * without credentials) when 'remote', else a local repository's path, resolved. */
        char *url;
        bool remote;
        char *ref;  /* manifests.ref as written; NULL: the remote's (or the repository's) HEAD */
        char *path; /* manifests.path: a folder in the commit, "" for its root; no '/' at either
                     * end, no empty, "." or ".." component */
        usec_t fetch_interval_usec;              /* manifests.fetch_interval; 0: every cycle */
        struct config_file ssh_key_file;         /* manifests.ssh_key_file */
        struct config_file known_hosts_file;     /* manifests.known_hosts_file */
        struct config_file token_file;           /* manifests.token_file */
        struct config_file allowed_signers_file; /* manifests.verify.allowed_signers_file */
        char *token; /* token_file's secret: NULL until config_load_secrets(); wiped when freed */
};

struct config {
        char *path; /* the config file, as given */

        char *url;      /* cluster.url, or the URL cluster.cloud_id decodes to; no trailing '/' */
        char *cloud_id; /* as written, or NULL */
        /* How requests authenticate, at most one method: CLUSTER_AUTH_NONE (an open cluster),
         * CLUSTER_AUTH_API_KEY (cluster.api_key_file), CLUSTER_AUTH_BASIC (cluster.username and
         * cluster.password_file) or CLUSTER_AUTH_BEARER (cluster.bearer_token_file). */
        enum cluster_auth auth;
        char *username;                 /* CLUSTER_AUTH_BASIC only */
        struct config_file secret_file; /* api_key_file, password_file or bearer_token_file */
        /* The secret that file holds: NULL until config_load_secrets(); without the one trailing
         * newline; wiped when the config is freed. */
        char *secret;
        struct config_file ca_file;
        struct config_file client_cert_file;
        struct config_file client_key_file;
        bool verify_tls;
        usec_t connect_timeout_usec;
        usec_t request_timeout_usec;
        uint64_t max_result_window; /* cluster.max_result_window */
        /* cluster.cluster_uuid: the cluster_uuid that GET / must report, compared exactly; any
         * other cluster is refused before anything is listed. 1 to CONFIG_MAX_CLUSTER_UUID_LENGTH
         * of A-Z a-z 0-9 '_' '-', never "_na_". NULL: any cluster. */
        char *cluster_uuid;
        /* cluster.proxy: the proxy for every request to the cluster, "SCHEME://HOST[:PORT]" with
         * SCHEME http, https, socks4, socks4a, socks5 or socks5h in lower case, no credentials, no
         * trailing '/'. NULL: no proxy at all; the proxy environment variables (http_proxy,
         * HTTPS_PROXY, ALL_PROXY, NO_PROXY...) are ignored either way. */
        char *proxy;

        /* manifests: a path (resolved; the override when one was given), or for a Git source the
         * repository as in git.url. */
        char *manifests;
        /* manifests as a mapping: the manifests are read from a commit of a Git repository. */
        struct config_git git;
        usec_t interval_usec;
        unsigned jitter_percent; /* 0..100 */
        unsigned concurrency;    /* 1..CONFIG_MAX_CONCURRENCY */
        unsigned retry_max_attempts;
        usec_t retry_initial_delay_usec;
        usec_t retry_max_delay_usec;
        uint64_t max_deletions; /* CONFIG_UNLIMITED for no limit */
        /* safety.max_updates: more connectors than this to create or update blocks the cycle, as
         * max_deletions does; CONFIG_UNLIMITED for no limit. */
        uint64_t max_updates;
        bool dry_run;
        /* backup_dir: resolved; without the key, the second of the ':'-separated paths in
         * $STATE_DIRECTORY when there is one (the units' StateDirectory= lists it), else
         * CONFIG_DEFAULT_BACKUP_DIR. */
        char *backup_dir;
        /* backup_retention: a backup older than this is removed at the end of a cycle, but never
         * the newest of a connector the cluster does not list (0: off, none is removed). */
        usec_t backup_retention_usec;
        /* state_dir: where the daemon keeps its state (orphans' first-seen times, the sets of the
         * last cycle, the lock that keeps two instances apart). Resolved like backup_dir; without
         * the key, the first of the ':'-separated paths in $STATE_DIRECTORY when that is set and
         * not empty (systemd's StateDirectory=), else CONFIG_DEFAULT_STATE_DIR. */
        char *state_dir;
        /* secrets_dir: where a manifest's {secret: NAME} is read, as SECRETS_DIR/NAME (resolved);
         * without the key, $CREDENTIALS_DIRECTORY when set and not empty (systemd's
         * LoadCredential=), else NULL: a manifest that names a secret cannot be converged. */
        char *secrets_dir;
        /* Where the values of backup_dir and state_dir are written in the config file; line 0
         * when the key is absent (a default). */
        unsigned backup_dir_line, backup_dir_column;
        unsigned state_dir_line, state_dir_column;
        /* cycle_timeout: past it a cycle starts no new request and ends as failed. Longer than 0,
         * at most CONFIG_MAX_CYCLE_TIMEOUT_USEC. */
        usec_t cycle_timeout_usec;
        /* metrics.textfile: the Prometheus text file written at the end of each cycle, for
         * node_exporter's textfile collector (metrics.h): an absolute path ending in ".prom". NULL
         * (the default): no metrics, and no counters kept. */
        char *metrics_textfile;
        /* safety.orphan_grace: an orphan is deleted only once consecutive cycles have seen it as an
         * orphan for at least this long. 0: off, an orphan may be deleted by the cycle that first
         * sees it. */
        usec_t orphan_grace_usec;
        /* safety.confirm_removed_sets: names of sets that took part in the last successful cycle
         * and have since vanished from the manifests, whose connectors may now be deleted (a set
         * that vanished otherwise blocks the cycle). Valid set names (manifest.h), none twice, in
         * the order written. NULL with n 0 when none; else NULL-terminated as well. */
        char **confirm_removed_sets;
        size_t n_confirm_removed_sets;
};

/* Reads and checks the config file at 'path', without reading any secret. Relative paths in it
 * (manifests, backup_dir, state_dir, the *_file keys) resolve against the folder holding 'path';
 * a *_file value that is a bare name (no '/') resolves to $CREDENTIALS_DIRECTORY/NAME instead
 * when that variable is set (systemd credentials: write ./NAME for a file beside the config).
 * $STATE_DIRECTORY gives state_dir's default (see struct config). When
 * 'manifests_override' is not NULL it replaces the `manifests` key (which is then optional) and
 * is used as given. Every problem is added to 'errors' (may not be NULL); 'warnings' (may be
 * NULL) gets what is allowed but unwise, e.g. credentials sent over plain http.
 * Returns 0 and sets *ret (owned by the caller; free with config_free()), -EINVAL when errors
 * were reported, -ENOENT etc. when the file cannot be read (reported too), or -ENOMEM. */
int config_load(const char *path, const char *manifests_override, struct config **ret,
                struct yaml_read_diags *warnings, struct yaml_read_diags *errors);

/* As config_load(), from 'size' bytes in memory; 'path' names them in messages and relative
 * paths resolve against its folder. For tests and fuzzing. */
int config_parse(const char *path, const void *data, size_t size, const char *manifests_override,
                 struct config **ret, struct yaml_read_diags *warnings, struct yaml_read_diags *errors);

/* Reads the secret file (if any) into c->secret and manifests.token_file (if any) into c->git.token,
 * and checks that ca_file, client_cert_file, client_key_file and the other files of a Git source
 * (ssh_key_file, known_hosts_file, allowed_signers_file) can be opened. Errors (missing or unreadable file, empty secret, a line break
 * or NUL inside the secret, larger than CONFIG_MAX_SECRET_SIZE) go to 'errors' as
 * "CONFIG:LINE:COLUMN: message" at the key that names the file; a secret file or client key
 * readable by group or others is a warning in 'warnings' (may be NULL). Returns 0, -EINVAL
 * after reporting errors, or -ENOMEM. Calling it again re-reads the secret. */
int config_load_secrets(struct config *c, struct yaml_read_diags *warnings, struct yaml_read_diags *errors);

/* Checks, changing nothing, that backup_dir and state_dir would pass the check `once` makes before
 * it uses them (fs_dir_check_private(): a folder we own that group and others may not write, or
 * one we may create). Each that would not is an error in 'errors' at the key's "CONFIG:LINE:COLUMN"
 * (or "CONFIG:" for a default), with the fix: the command from fs-util.h's hint, or the key to
 * set. Returns 0, -EINVAL after reporting errors, or -ENOMEM. */
int config_check_folders(const struct config *c, struct yaml_read_diags *errors);

/* Frees the config, wiping the secret first. Accepts NULL; returns NULL. */
struct config *config_free(struct config *c);
static inline void config_freep(struct config **c) {
        if (*c)
                (void) config_free(*c);
}

/* "none", "api_key", "basic", "bearer". */
const char *config_auth_to_string(enum cluster_auth a);
