#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "fs-util.h"
#include "plan.h"
#include "url.h"
#include "util.h"
#include "yaml-read.h"

/* Room for a dotted key path in messages; longer ones are cut. */
#define PATH_BUF 256

static const char *const auth_names[_CLUSTER_AUTH_MAX] = {
        [CLUSTER_AUTH_NONE] = "none",
        [CLUSTER_AUTH_API_KEY] = "api_key",
        [CLUSTER_AUTH_BASIC] = "basic",
        [CLUSTER_AUTH_BEARER] = "bearer",
};

const char *config_auth_to_string(enum cluster_auth a) {
        if (a < 0 || a >= _CLUSTER_AUTH_MAX)
                return NULL;
        return auth_names[a];
}

static void file_done(struct config_file *f) {
        free(f->path);
        f->path = NULL;
}

struct config *config_free(struct config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->url);
        free(c->cloud_id);
        free(c->username);
        file_done(&c->secret_file);
        erase_and_free(c->secret);
        file_done(&c->ca_file);
        file_done(&c->client_cert_file);
        file_done(&c->client_key_file);
        free(c->manifests);
        free(c->git.url);
        free(c->git.ref);
        free(c->git.path);
        file_done(&c->git.ssh_key_file);
        file_done(&c->git.known_hosts_file);
        file_done(&c->git.token_file);
        file_done(&c->git.allowed_signers_file);
        erase_and_free(c->git.token);
        free(c->backup_dir);
        free(c->cluster_uuid);
        free(c->proxy);
        free(c->state_dir);
        free(c->secrets_dir);
        free(c->metrics_textfile);
        strv_free(c->confirm_removed_sets);
        free(c);
        return NULL;
}

struct parser {
        const char *file;     /* the config file, as given */
        char *dir;            /* its folder, or NULL when it has none (relative to the cwd) */
        const char *cred_dir; /* $CREDENTIALS_DIRECTORY, or NULL */
        struct yaml_read_diags *errors;
        struct yaml_read_diags *warnings;
};

static int error_at(struct parser *p, const struct yaml_read_node *n, const char *fmt, ...) _printf_(3, 4);
static int error_at(struct parser *p, const struct yaml_read_node *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = yaml_read_diags_addv(p->errors, p->file, n->line, n->column, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static int type_error(struct parser *p, const struct yaml_read_node *n, const char *path, const char *want) {
        return yaml_read_type_error(p->errors, p->file, n, path, want);
}

/* Config keys as tables, in the manner of systemd's ConfigTableItem. Each mapping of the file (the
 * top, cluster, retry, safety) is a table of its keys: the key's dotted path (for messages; the
 * key is its last part), the function that reads its value, and where that function stores it,
 * an offset into struct config. parse_table() sorts a mapping's values into the table's slots
 * (reporting unknown keys), then calls the function of each key present, in table order. What
 * involves several keys (one excludes or needs another, or decides whether another is read at
 * all) is written out after that loop, in the section's function. */
struct config_key;

/* Reads the value 'n' of the key 'k' into 'data': the struct config plus k->offset. Returns 0
 * once stored; -EINVAL after reporting what is wrong with the value (nothing is stored); -ENOMEM.
 * A string stored replaces (and frees) what the field held. */
typedef int (*config_key_parse_t)(struct parser *p, const struct yaml_read_node *n,
                                  const struct config_key *k, void *data);

struct config_key {
        const char *path;         /* dotted, e.g. "cluster.url": the key is what follows the last dot;
                                   * for messages and struct config_file (static) */
        config_key_parse_t parse; /* NULL: read by the section's rules after the loop */
        size_t offset;            /* of the field in struct config; 0 (the whole config) for a parser
                                   * that fills several fields, or a section */
        uint64_t min, max;        /* integers: their range; durations: the longest, 0 for no limit */
};

/* A key stored in one field. */
#define KEY(p, parser, field) \
        { .path = (p), .parse = (parser), .offset = offsetof(struct config, field) }
/* The same, with a range. */
#define KEY_RANGE(p, parser, field, lo, hi)                                                            \
        {                                                                                              \
                .path = (p), .parse = (parser), .offset = offsetof(struct config, field), .min = (lo), \
                .max = (hi)                                                                            \
        }
/* A key whose parser gets the whole struct config: a section, or a key that fills several fields. */
#define KEY_CONFIG(p, parser) \
        { .path = (p), .parse = (parser), .offset = 0 }
/* A key read by the section's rules after the loop. */
#define KEY_RULE(p) \
        { .path = (p) }

static const char *key_name(const struct config_key *k) {
        const char *dot = strrchr(k->path, '.');

        return dot ? dot + 1 : k->path;
}

/* The most keys one table may hold. */
#define TABLE_MAX 32U

/* Stores 's' (owned) in a string field, freeing what the field held. Returns 0. */
static int set_string(char **field, char *s) {
        free(*field);
        *field = s;
        return 0;
}

static int get_string(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                      void *data) {
        char **ret = data, *s;

        if (!yaml_read_is_string(n))
                return type_error(p, n, k->path, "a string");
        if (n->length == 0)
                return error_at(p, n, "'%s' must not be empty", k->path);
        s = strdup(n->value);
        if (!s)
                return -ENOMEM;
        return set_string(ret, s);
}

static int get_bool(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                    void *data) {
        bool *ret = data;

        if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_BOOL)
                return type_error(p, n, k->path, "true or false");
        *ret = tolower((unsigned char) n->value[0]) == 't';
        return 0;
}

/* A non-negative decimal integer in [k->min, k->max], into a uint64_t. */
static int get_uint64(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                      void *data) {
        const char *s = n->value;
        uint64_t *ret = data, v = 0;

        if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_INT)
                return type_error(p, n, k->path, "an integer");
        if (*s == '+')
                s++;
        if (*s == '-' || !isdigit((unsigned char) *s) ||
            (s[0] == '0' && s[1] && !isdigit((unsigned char) s[1])))
                goto range;
        for (; *s; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        goto range;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        if (v < k->min || v > k->max)
                goto range;
        *ret = v;
        return 0;

range:
        return error_at(p, n, "'%s' must be an integer from %" PRIu64 " to %" PRIu64 ", got '%s'", k->path,
                        k->min, k->max, n->value);
}

/* As get_uint64(), into an unsigned (k->max fits one). */
static int get_unsigned(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        void *data) {
        unsigned *ret = data;
        uint64_t v;
        int r;

        assert(k->max <= UINT_MAX);

        r = get_uint64(p, n, k, &v);
        if (r < 0)
                return r;
        *ret = (unsigned) v;
        return 0;
}

/* Reads a duration, 0 included; 'want' names what is expected when the value is no string. */
static int read_duration(struct parser *p, const struct yaml_read_node *n, const char *path,
                         const char *want, usec_t *ret) {
        int r;

        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && isdigit((unsigned char) n->value[0]))
                return error_at(p, n, "'%s' needs a unit (ms, s, m or h), e.g. '%ss'", path, n->value);
        if (!yaml_read_is_string(n))
                return type_error(p, n, path, want);
        r = duration_parse(n->value, ret);
        if (r == -ERANGE)
                return error_at(p, n, "'%s' is too long a duration: '%s'", path, n->value);
        if (r < 0)
                return error_at(
                        p, n,
                        "'%s' is not a valid duration: '%s' (write an integer and a unit, ms, s, m or h, "
                        "e.g. 500ms, 30s, 5m, 1h30m)",
                        path, n->value);
        return 0;
}

/* A duration longer than 0, and no longer than k->max when that is set. */
static int get_duration(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        void *data) {
        usec_t *ret = data, v = 0;
        int r;

        r = read_duration(p, n, k->path, "a duration such as 30s", &v);
        if (r < 0)
                return r;
        if (v == 0)
                return error_at(p, n, "'%s' must be longer than 0", k->path);
        if (k->max > 0 && v > k->max) {
                char max[64];

                duration_format(k->max, max, sizeof(max));
                /* Durations have no unit for days: say how many days the limit is. */
                if (k->max % (24 * USEC_PER_HOUR) == 0)
                        return error_at(p, n, "'%s' must be at most %s (%" PRIu64 " days), got '%s'",
                                        k->path, max, k->max / (24 * USEC_PER_HOUR), n->value);
                return error_at(p, n, "'%s' must be at most %s, got '%s'", k->path, max, n->value);
        }
        *ret = v;
        return 0;
}

/* A duration longer than 0, or "off" for 0. */
static int get_duration_or_off(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                               void *data) {
        usec_t *ret = data, v = 0;
        int r;

        /* A plain off is a YAML 1.1 boolean to the reader, but here it can only mean the word. */
        if (n->kind == YAML_READ_SCALAR && (n->type == YAML_READ_STRING || n->type == YAML_READ_BOOL_1_1) &&
            streq(n->value, "off")) {
                *ret = 0;
                return 0;
        }
        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && n->value[0] &&
            n->value[strspn(n->value, "0")] == 0)
                goto zero;
        r = read_duration(p, n, k->path, "a duration such as 1h, or off", &v);
        if (r < 0)
                return r;
        if (v == 0)
                goto zero;
        *ret = v;
        return 0;

zero:
        return error_at(p, n, "'%s' must be longer than 0: write 'off' to turn it off", k->path);
}

static int get_percent(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                       void *data) {
        unsigned *ret = data, v = 0;
        const char *s;

        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && isdigit((unsigned char) n->value[0]))
                return error_at(p, n, "'%s' needs a '%%' sign, e.g. '%s%%'", k->path, n->value);
        if (!yaml_read_is_string(n))
                return type_error(p, n, k->path, "a percentage such as 10%");
        s = n->value;
        if (!isdigit((unsigned char) *s))
                goto invalid;
        for (; isdigit((unsigned char) *s); s++) {
                v = v * 10 + (unsigned) (*s - '0');
                if (v > 100)
                        goto invalid;
        }
        if (!streq(s, "%"))
                goto invalid;
        *ret = v;
        return 0;

invalid:
        return error_at(p, n, "'%s' must be a percentage from 0%% to 100%%, e.g. 10%%, got '%s'", k->path,
                        n->value);
}

static char *path_join(const char *dir, const char *name) {
        char *s;

        if (streq(dir, "/"))
                return asprintf(&s, "/%s", name) < 0 ? NULL : s;
        return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

/* Resolves a path value: absolute as written; for *_file keys (is_file) a bare name means a
 * systemd credential when $CREDENTIALS_DIRECTORY is set; anything else is relative to the
 * config file's folder. */
static int resolve_path(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        bool is_file, char **ret, bool *ret_credential) {
        _cleanup_free_ char *v = NULL;
        bool credential = false;
        char *s;
        int r;

        r = get_string(p, n, k, &v);
        if (r < 0)
                return r;
        if (v[0] == '/')
                s = TAKE_PTR(v);
        else if (is_file && p->cred_dir && !strchr(v, '/') && !streq(v, ".") && !streq(v, "..")) {
                s = path_join(p->cred_dir, v);
                credential = true;
        } else if (p->dir)
                s = path_join(p->dir, v);
        else
                s = TAKE_PTR(v);
        if (!s)
                return -ENOMEM;
        *ret = s;
        if (ret_credential)
                *ret_credential = credential;
        return 0;
}

/* A path other than a *_file key's, into a char *. */
static int get_path(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                    void *data) {
        char **ret = data, *s;
        int r;

        r = resolve_path(p, n, k, false, &s, NULL);
        if (r < 0)
                return r;
        return set_string(ret, s);
}

/* A *_file key, into a struct config_file. */
static int get_file(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                    void *data) {
        struct config_file *f = data;

        f->key = k->path;
        f->line = n->line;
        f->column = n->column;
        free(f->path);
        f->path = NULL;
        return resolve_path(p, n, k, true, &f->path, &f->credential);
}

/* Sorts the mapping's values into slots by the table's keys ('v' has n_table of them; unknown
 * keys are reported), then reads each key present that has a parser, in table order. Returns 0,
 * or -ENOMEM; what was wrong was reported. */
static int parse_table(struct parser *p, const struct yaml_read_node *map, const char *path,
                       const struct config_key *table, size_t n_table, const struct yaml_read_node **v,
                       struct config *c) {
        const char *keys[TABLE_MAX];
        int r;

        assert(n_table <= TABLE_MAX);

        for (size_t i = 0; i < n_table; i++)
                keys[i] = key_name(&table[i]);
        r = yaml_read_mapping_slots(map, p->file, path, keys, n_table, v, p->errors);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < n_table; i++) {
                if (!v[i] || !table[i].parse)
                        continue;
                r = table[i].parse(p, v[i], &table[i], (uint8_t *) c + table[i].offset);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* The mapping under the key 'k' (cluster, retry, safety), by parse_table(). Returns as it does, or
 * -EINVAL when the value is no mapping (reported). */
static int parse_section(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                         const struct config_key *table, size_t n_table, const struct yaml_read_node **v,
                         struct config *c) {
        if (map->kind != YAML_READ_MAPPING)
                return type_error(p, map, k->path, "a mapping");
        return parse_table(p, map, k->path, table, n_table, v, c);
}

/* A URL value: url.c checks it, and the message names the key and where it is written. A value
 * that is no string, or an empty one, is reported as get_string() reports it. */
static int get_url(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                   enum url_kind kind, const char *credentials_hint, char **ret) {
        _cleanup_free_ char *m = NULL;
        char *s = NULL;
        int r;

        if (!yaml_read_is_string(n) || n->length == 0)
                return get_string(p, n, k, ret);
        r = url_normalize(n->value, kind, credentials_hint, &s, &m);
        if (r == -EINVAL)
                return error_at(p, n, "'%s' %s", k->path, m);
        if (r < 0)
                return r;
        return set_string(ret, s);
}

/* cluster.proxy: libcurl's proxy URL. */
static int get_proxy(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                     void *data) {
        return get_url(p, n, k, URL_PROXY, "a proxy that needs them is not supported", data);
}

/* cluster.cluster_uuid: what GET / reports as cluster_uuid, a UUID in URL-safe base64. */
static int get_cluster_uuid(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                            void *data) {
        static const char uuid_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        _cleanup_free_ char *s = NULL;
        char **ret = data;
        int r;

        r = get_string(p, n, k, &s);
        if (r < 0)
                return r;
        assert(s);
        /* Elasticsearch's "unknown" UUID (Metadata.UNKNOWN_CLUSTER_UUID): what GET / says before the
         * cluster state is recovered, so any cluster might report it. */
        if (streq(s, "_na_"))
                return error_at(
                        p, n,
                        "'%s' must not be '_na_', which Elasticsearch reports before the cluster state "
                        "is recovered: write the cluster_uuid that GET / reports once the cluster is up",
                        k->path);
        if (strlen(s) > CONFIG_MAX_CLUSTER_UUID_LENGTH || s[strspn(s, uuid_chars)] != 0)
                return error_at(
                        p, n,
                        "'%s' is not a valid cluster UUID: '%s' (use 1 to %u letters, digits, '_' and "
                        "'-', as GET / reports it in cluster_uuid)",
                        k->path, s, CONFIG_MAX_CLUSTER_UUID_LENGTH);
        return set_string(ret, TAKE_PTR(s));
}

/* The username for basic authentication. */
static int get_username(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        void *data) {
        char **ret = data;
        int r;

        r = get_string(p, n, k, ret);
        if (r < 0)
                return r;
        /* Basic auth joins user and password with ':' (RFC 7617), so a user id cannot hold one. */
        if (strchr(*ret, ':'))
                return error_at(p, n, "'%s' must not contain ':'", k->path);
        return 0;
}

enum {
        CLUSTER_URL,
        CLUSTER_CLOUD_ID,
        CLUSTER_API_KEY_FILE,
        CLUSTER_USERNAME,
        CLUSTER_PASSWORD_FILE,
        CLUSTER_BEARER_TOKEN_FILE,
        CLUSTER_CA_FILE,
        CLUSTER_VERIFY_TLS,
        CLUSTER_CLIENT_CERT_FILE,
        CLUSTER_CLIENT_KEY_FILE,
        CLUSTER_CONNECT_TIMEOUT,
        CLUSTER_REQUEST_TIMEOUT,
        CLUSTER_MAX_RESULT_WINDOW,
        CLUSTER_CLUSTER_UUID,
        CLUSTER_PROXY,
        _CLUSTER_MAX,
};

static const struct config_key cluster_keys[_CLUSTER_MAX] = {
        /* Where: exactly one of url and cloud_id, read by the rules. */
        [CLUSTER_URL] = KEY_RULE("cluster.url"),
        [CLUSTER_CLOUD_ID] = KEY_RULE("cluster.cloud_id"),
        /* Who: only the first method's secret file is read, by the rules. */
        [CLUSTER_API_KEY_FILE] = KEY_RULE("cluster.api_key_file"),
        [CLUSTER_USERNAME] = KEY("cluster.username", get_username, username),
        [CLUSTER_PASSWORD_FILE] = KEY_RULE("cluster.password_file"),
        [CLUSTER_BEARER_TOKEN_FILE] = KEY_RULE("cluster.bearer_token_file"),
        [CLUSTER_CA_FILE] = KEY("cluster.ca_file", get_file, ca_file),
        [CLUSTER_VERIFY_TLS] = KEY("cluster.verify_tls", get_bool, verify_tls),
        [CLUSTER_CLIENT_CERT_FILE] = KEY("cluster.client_cert_file", get_file, client_cert_file),
        [CLUSTER_CLIENT_KEY_FILE] = KEY("cluster.client_key_file", get_file, client_key_file),
        [CLUSTER_CONNECT_TIMEOUT] = KEY("cluster.connect_timeout", get_duration, connect_timeout_usec),
        [CLUSTER_REQUEST_TIMEOUT] = KEY("cluster.request_timeout", get_duration, request_timeout_usec),
        [CLUSTER_MAX_RESULT_WINDOW] = KEY_RANGE("cluster.max_result_window", get_uint64, max_result_window,
                                                1, CONFIG_MAX_RESULT_WINDOW_MAX),
        [CLUSTER_CLUSTER_UUID] = KEY("cluster.cluster_uuid", get_cluster_uuid, cluster_uuid),
        [CLUSTER_PROXY] = KEY("cluster.proxy", get_proxy, proxy),
};

/* The position of a key in a mapping, for "conflicts with" messages. */
static const struct yaml_read_node *key_of(const struct yaml_read_node *map,
                                           const struct yaml_read_node *value) {
        for (size_t i = 1; i < map->n_children; i += 2)
                if (map->children[i] == value)
                        return map->children[i - 1];
        return value;
}

static int parse_cluster(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                         void *data) {
        const struct yaml_read_node *v[_CLUSTER_MAX] = {}, *auth = NULL;
        const char *auth_key = NULL;
        struct config *c = data;
        int r;

        r = parse_section(p, map, k, cluster_keys, _CLUSTER_MAX, v, c);
        if (r < 0)
                return r;

        /* Where: url or cloud_id, exactly one; neither is read when both are given. */
        if (v[CLUSTER_URL] && v[CLUSTER_CLOUD_ID]) {
                const struct yaml_read_node *second = v[CLUSTER_URL]->line > v[CLUSTER_CLOUD_ID]->line
                                                              ? v[CLUSTER_URL]
                                                              : v[CLUSTER_CLOUD_ID];

                r = error_at(p, key_of(map, second),
                             "'cluster.url' and 'cluster.cloud_id' exclude each other: give one");
                if (r == -ENOMEM)
                        return r;
        } else if (v[CLUSTER_URL]) {
                r = get_url(p, v[CLUSTER_URL], &cluster_keys[CLUSTER_URL], URL_CLUSTER,
                            "use 'cluster.username' and 'cluster.password_file', or another *_file key",
                            &c->url);
                if (r == -ENOMEM)
                        return r;
        } else if (v[CLUSTER_CLOUD_ID]) {
                _cleanup_free_ char *m = NULL;

                r = get_string(p, v[CLUSTER_CLOUD_ID], &cluster_keys[CLUSTER_CLOUD_ID], &c->cloud_id);
                if (r >= 0) {
                        r = url_from_cloud_id(c->cloud_id, &c->url, &m);
                        if (r == -EINVAL)
                                r = error_at(p, v[CLUSTER_CLOUD_ID],
                                             "'cluster.cloud_id' is not a valid cloud id: %s", m);
                }
                if (r == -ENOMEM)
                        return r;
        } else {
                r = error_at(p, map, "'cluster' needs 'url' or 'cloud_id'");
                if (r == -ENOMEM)
                        return r;
        }

        /* Who: at most one authentication method. */
        static const struct {
                int slot;
                enum cluster_auth auth;
        } methods[] = {
                { CLUSTER_API_KEY_FILE, CLUSTER_AUTH_API_KEY },
                { CLUSTER_PASSWORD_FILE, CLUSTER_AUTH_BASIC },
                { CLUSTER_USERNAME, CLUSTER_AUTH_BASIC },
                { CLUSTER_BEARER_TOKEN_FILE, CLUSTER_AUTH_BEARER },
        };
        c->auth = CLUSTER_AUTH_NONE;
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                const struct yaml_read_node *n = v[methods[i].slot];

                if (!n)
                        continue;
                if (c->auth != CLUSTER_AUTH_NONE && c->auth != methods[i].auth) {
                        const struct yaml_read_node *later = n->line > auth->line ? n : auth;

                        r = error_at(p, key_of(map, later),
                                     "'%s' and '%s' are two authentication methods: give one", auth_key,
                                     cluster_keys[methods[i].slot].path);
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                if (c->auth == CLUSTER_AUTH_NONE) {
                        auth = n;
                        auth_key = cluster_keys[methods[i].slot].path;
                }
                c->auth = methods[i].auth;
        }

        /* Keys that need another: basic authentication's two (unless another method was given: two
         * methods were reported above), and a client certificate and its key. */
        static const struct {
                int slot, needs;
                bool basic;
                const char *hint;
        } pairs[] = {
                { CLUSTER_USERNAME, CLUSTER_PASSWORD_FILE, true, "" },
                { CLUSTER_PASSWORD_FILE, CLUSTER_USERNAME, true, "" },
                { CLUSTER_CLIENT_CERT_FILE, CLUSTER_CLIENT_KEY_FILE, false, ": give both or neither" },
                { CLUSTER_CLIENT_KEY_FILE, CLUSTER_CLIENT_CERT_FILE, false, ": give both or neither" },
        };
        bool other_method = v[CLUSTER_API_KEY_FILE] || v[CLUSTER_BEARER_TOKEN_FILE];
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                if (!v[pairs[i].slot] || v[pairs[i].needs] || (pairs[i].basic && other_method))
                        continue;
                r = error_at(p, key_of(map, v[pairs[i].slot]), "'%s' needs '%s'%s",
                             cluster_keys[pairs[i].slot].path, cluster_keys[pairs[i].needs].path,
                             pairs[i].hint);
                if (r == -ENOMEM)
                        return r;
        }

        /* The secret file of the first method (a second one was reported above). */
        static const int secret_slots[] = { CLUSTER_API_KEY_FILE, CLUSTER_PASSWORD_FILE,
                                            CLUSTER_BEARER_TOKEN_FILE };
        for (size_t i = 0; i < ELEMENTSOF(secret_slots); i++)
                if (v[secret_slots[i]]) {
                        r = get_file(p, v[secret_slots[i]], &cluster_keys[secret_slots[i]], &c->secret_file);
                        if (r == -ENOMEM)
                                return r;
                        break;
                }

        if (c->auth != CLUSTER_AUTH_NONE && c->url && strncasecmp(c->url, "http://", 7) == 0 &&
            p->warnings) {
                r = yaml_read_error(
                        p->warnings, p->file, v[CLUSTER_URL],
                        "'cluster.url' is plain http: credentials will cross the network unencrypted");
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

enum {
        RETRY_MAX_ATTEMPTS,
        RETRY_INITIAL_DELAY,
        RETRY_MAX_DELAY,
        _RETRY_MAX,
};

static const struct config_key retry_keys[_RETRY_MAX] = {
        [RETRY_MAX_ATTEMPTS] = KEY_RANGE("retry.max_attempts", get_unsigned, retry_max_attempts, 1,
                                         CONFIG_MAX_RETRY_MAX_ATTEMPTS),
        [RETRY_INITIAL_DELAY] = KEY("retry.initial_delay", get_duration, retry_initial_delay_usec),
        [RETRY_MAX_DELAY] = KEY("retry.max_delay", get_duration, retry_max_delay_usec),
};

static int parse_retry(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                       void *data) {
        const struct yaml_read_node *v[_RETRY_MAX] = {};
        struct config *c = data;
        int r;

        r = parse_section(p, map, k, retry_keys, _RETRY_MAX, v, c);
        if (r < 0)
                return r;
        if (c->retry_initial_delay_usec > c->retry_max_delay_usec) {
                /* Point at whichever of the two was written; both defaults cannot disagree. */
                r = error_at(p, v[RETRY_INITIAL_DELAY] ?: v[RETRY_MAX_DELAY] ?: map,
                             "'retry.initial_delay' must not be longer than 'retry.max_delay'");
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* safety.max_deletions: an integer in [k->min, k->max], or "unlimited". */
static int get_max_deletions(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                             void *data) {
        uint64_t *ret = data;

        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_STRING && streq(n->value, "unlimited")) {
                *ret = CONFIG_UNLIMITED;
                return 0;
        }
        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && isdigit((unsigned char) n->value[0]))
                return get_uint64(p, n, k, ret);
        return error_at(p, n, "'%s' must be a non-negative integer or \"unlimited\", got '%s'", k->path,
                        n->kind == YAML_READ_SCALAR     ? n->value
                        : n->kind == YAML_READ_SEQUENCE ? "[...]"
                                                        : "{...}");
}

/* A list item and its index, for finding repeats. */
struct item_ref {
        const struct yaml_read_node *node;
        size_t index;
};

/* Orders items by text, then by index. */
static int item_ref_cmp(const void *a, const void *b) {
        const struct item_ref *x = a, *y = b;
        int c = strcmp(x->node->value, y->node->value);

        if (c != 0)
                return c;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* safety.confirm_removed_sets: a list of set names, none twice, into the config's
 * confirm_removed_sets and n_confirm_removed_sets. */
static int get_set_names(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                         void *data) {
        _cleanup_free_ struct item_ref *refs = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct config *c = data;
        char path[PATH_BUF];
        size_t n_refs = 0;
        bool bad = false;
        int r;

        if (n->kind != YAML_READ_SEQUENCE)
                return type_error(p, n, k->path, "a list of set names");
        if (n->n_children == 0)
                return 0;

        refs = reallocarray(NULL, n->n_children, sizeof(*refs));
        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                const struct yaml_read_node *item = n->children[i];

                yaml_read_path_index(path, sizeof(path), k->path, i);
                if (!yaml_read_is_string(item))
                        r = type_error(p, item, path, "a string");
                else if (!plan_set_name_is_valid(item->value))
                        r = error_at(p, item,
                                     "'%s' is not a valid set name: '%s' (use 1 to %u lowercase letters, "
                                     "digits and '-', starting and ending with a letter or digit)",
                                     path, item->value, PLAN_SET_NAME_MAX);
                else {
                        refs[n_refs++] = (struct item_ref){ .node = item, .index = i };
                        continue;
                }
                if (r == -ENOMEM)
                        return r;
                bad = true;
        }
        /* A name given twice: reported at each later one. Sorting keeps it O(n log n). */
        qsort(refs, n_refs, sizeof(*refs), item_ref_cmp);
        for (size_t i = 1, head = 0; i < n_refs; i++) {
                if (!streq(refs[i].node->value, refs[head].node->value)) {
                        head = i;
                        continue;
                }
                yaml_read_path_index(path, sizeof(path), k->path, refs[i].index);
                r = error_at(p, refs[i].node, "'%s' repeats '%s' (first at line %u, column %u)", path,
                             refs[i].node->value, refs[head].node->line, refs[head].node->column);
                if (r == -ENOMEM)
                        return r;
                bad = true;
        }
        if (bad)
                return -EINVAL;

        names = reallocarray(NULL, n->n_children + 1, sizeof(*names));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                names[i] = strdup(n->children[i]->value);
                if (!names[i])
                        return -ENOMEM; /* names[i] == NULL ends the list for strv_free() */
        }
        names[n->n_children] = NULL;
        strv_free(c->confirm_removed_sets);
        c->confirm_removed_sets = TAKE_PTR(names);
        c->n_confirm_removed_sets = n->n_children;
        return 0;
}

enum {
        SAFETY_MAX_DELETIONS,
        SAFETY_MAX_UPDATES,
        SAFETY_ORPHAN_GRACE,
        SAFETY_CONFIRM_REMOVED_SETS,
        _SAFETY_MAX,
};

static const struct config_key safety_keys[_SAFETY_MAX] = {
        [SAFETY_MAX_DELETIONS] =
                KEY_RANGE("safety.max_deletions", get_max_deletions, max_deletions, 0, CONFIG_UNLIMITED - 1),
        [SAFETY_MAX_UPDATES] =
                KEY_RANGE("safety.max_updates", get_max_deletions, max_updates, 0, CONFIG_UNLIMITED - 1),
        [SAFETY_ORPHAN_GRACE] = KEY("safety.orphan_grace", get_duration_or_off, orphan_grace_usec),
        [SAFETY_CONFIRM_REMOVED_SETS] = KEY_CONFIG("safety.confirm_removed_sets", get_set_names),
};

static int parse_safety(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                        void *data) {
        const struct yaml_read_node *v[_SAFETY_MAX] = {};

        return parse_section(p, map, k, safety_keys, _SAFETY_MAX, v, data);
}

/* metrics.textfile: an absolute path whose last component ends in ".prom" and has a name before
 * it: node_exporter's textfile collector reads only such files, and the temporary written beside it
 * must not be one. */
static int get_textfile(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        void *data) {
        _cleanup_free_ char *v = NULL;
        const char *base;
        size_t l;
        int r;

        r = get_string(p, n, k, &v);
        if (r < 0)
                return r;
        assert(v);
        base = strrchr(v, '/');
        l = base ? strlen(base + 1) : 0;
        if (v[0] != '/')
                return error_at(p, n, "'%s' must be an absolute path, got '%s'", k->path, v);
        if (l <= strlen(".prom") || !streq(base + 1 + l - strlen(".prom"), ".prom"))
                return error_at(p, n,
                                "'%s' must name a file ending in '.prom' (node_exporter's textfile "
                                "collector reads no other), got '%s'",
                                k->path, v);
        return set_string(data, TAKE_PTR(v));
}

enum {
        METRICS_TEXTFILE,
        _METRICS_MAX,
};

static const struct config_key metrics_keys[_METRICS_MAX] = {
        [METRICS_TEXTFILE] = KEY("metrics.textfile", get_textfile, metrics_textfile),
};

static int parse_metrics(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                         void *data) {
        const struct yaml_read_node *v[_METRICS_MAX] = {};

        return parse_section(p, map, k, metrics_keys, _METRICS_MAX, v, data);
}

/* ---- manifests: a path, or a Git repository's commit ---- */

/* The URL schemes manifests.git fetches from. */
static const char *const git_schemes[] = { "https://", "http://", "git://", "ssh://", "file://" };

static const char *git_scheme(const char *v) {
        for (size_t i = 0; i < ELEMENTSOF(git_schemes); i++)
                if (strncmp(v, git_schemes[i], strlen(git_schemes[i])) == 0)
                        return git_schemes[i];
        return NULL;
}

/* manifests.git: a URL of one of git_schemes, without a password, or a local path. */
static int get_git_url(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                       void *data) {
        struct config_git *g = data;
        _cleanup_free_ char *v = NULL;
        const char *scheme, *authority, *end, *at;
        int r;

        r = get_string(p, n, k, &v);
        if (r < 0)
                return r;
        assert(v);
        if (strpbrk(v, " \t\r\n"))
                return error_at(p, n, "'%s' must not hold white space, got '%s'", k->path, v);
        if (!strstr(v, "://")) {
                /* user@host:path, scp's form, reads like a path: say how to write it. */
                const char *colon = strchr(v, ':'), *slash = strchr(v, '/');

                if (colon && (!slash || colon < slash))
                        return error_at(p, n,
                                        "'%s' looks like scp's form 'HOST:PATH'; write ssh://HOST/PATH",
                                        k->path);
                g->remote = false;
                return resolve_path(p, n, k, false, &g->url, NULL);
        }
        scheme = git_scheme(v);
        if (!scheme)
                return error_at(p, n,
                                "'%s' must be an https://, http://, git://, ssh:// or file:// URL, or a "
                                "path, got '%s'",
                                k->path, v);
        authority = v + strlen(scheme);
        end = authority + strcspn(authority, "/?#");
        at = memchr(authority, '@', (size_t) (end - authority));
        if (at && memchr(authority, ':', (size_t) (at - authority)))
                /* Never echo it: the part before '@' holds a password. */
                return error_at(p, n,
                                "'%s' holds a password in its URL; put it in manifests.token_file instead",
                                k->path);
        if (end == authority && !streq(scheme, "file://"))
                return error_at(p, n, "'%s' has no host: '%s'", k->path, v);
        g->remote = true;
        return set_string(&g->url, TAKE_PTR(v));
}

/* manifests.path: a folder in the repository, written without './' games. */
static int get_git_path(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                        void *data) {
        _cleanup_free_ char *v = NULL;
        char *s, *out;
        int r;

        r = get_string(p, n, k, &v);
        if (r < 0)
                return r;
        assert(v);
        /* Components separated by '/', none empty, '.' or '..'; one '/' at either end is fine. */
        s = v + (v[0] == '/');
        out = v;
        for (;;) {
                size_t l = strcspn(s, "/");

                if (l == 0 && s[0] == '\0' && out == v)
                        break; /* "/" alone: the root */
                if (l == 0 && s[0] == '\0')
                        break; /* a trailing '/' */
                if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
                        return error_at(p, n,
                                        "'%s' must be a folder in the repository, without empty, '.' or "
                                        "'..' parts, got '%s'",
                                        k->path, n->value);
                if (out != v)
                        *out++ = '/';
                memmove(out, s, l);
                out += l;
                s += l;
                if (*s == '/')
                        s++;
                if (*s == '\0')
                        break;
        }
        *out = '\0';
        return set_string(data, TAKE_PTR(v));
}

/* manifests.ref: a branch, a tag, a full ref name or a commit id. */
static int get_git_ref(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                       void *data) {
        if (yaml_read_is_string(n) && (strpbrk(n->value, " ~^:?*[\\") || n->value[0] == '-' ||
                                       strstr(n->value, "..") || strstr(n->value, "@{")))
                return error_at(p, n, "'%s' must be a branch, a tag or a commit id, got '%s'", k->path,
                                n->value);
        return get_string(p, n, k, data);
}

enum {
        VERIFY_ALLOWED_SIGNERS_FILE,
        _VERIFY_MAX,
};

static const struct config_key verify_keys[_VERIFY_MAX] = {
        [VERIFY_ALLOWED_SIGNERS_FILE] =
                KEY("manifests.verify.allowed_signers_file", get_file, git.allowed_signers_file),
};

static int parse_verify(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                        void *data) {
        const struct yaml_read_node *v[_VERIFY_MAX] = {};
        int r;

        r = parse_section(p, map, k, verify_keys, _VERIFY_MAX, v, data);
        if (r < 0)
                return r;
        if (!v[VERIFY_ALLOWED_SIGNERS_FILE])
                return error_at(p, map, "'%s' needs 'allowed_signers_file'", k->path);
        return 0;
}

enum {
        GIT_URL,
        GIT_REF,
        GIT_PATH,
        GIT_FETCH_INTERVAL,
        GIT_SSH_KEY_FILE,
        GIT_KNOWN_HOSTS_FILE,
        GIT_TOKEN_FILE,
        GIT_VERIFY,
        _GIT_MAX,
};

static const struct config_key git_keys[_GIT_MAX] = {
        [GIT_URL] = KEY("manifests.git", get_git_url, git),
        [GIT_REF] = KEY("manifests.ref", get_git_ref, git.ref),
        [GIT_PATH] = KEY("manifests.path", get_git_path, git.path),
        [GIT_FETCH_INTERVAL] = KEY("manifests.fetch_interval", get_duration_or_off, git.fetch_interval_usec),
        [GIT_SSH_KEY_FILE] = KEY("manifests.ssh_key_file", get_file, git.ssh_key_file),
        [GIT_KNOWN_HOSTS_FILE] = KEY("manifests.known_hosts_file", get_file, git.known_hosts_file),
        [GIT_TOKEN_FILE] = KEY("manifests.token_file", get_file, git.token_file),
        [GIT_VERIFY] = KEY_CONFIG("manifests.verify", parse_verify),
};

/* Which keys of git_keys a URL of each kind takes: a local repository is not fetched. */
static int check_git(struct parser *p, const struct yaml_read_node *map, const struct yaml_read_node **v,
                     struct config *c) {
        const struct config_git *g = &c->git;
        const char *scheme;
        int r = 0;

        if (!v[GIT_URL])
                return error_at(p, map,
                                "'manifests' as a mapping needs 'git': the repository's URL or path");
        if (!g->url)
                return -EINVAL; /* reported */
        scheme = g->remote ? git_scheme(g->url) : NULL;
        if (!g->remote && v[GIT_FETCH_INTERVAL])
                r = error_at(p, v[GIT_FETCH_INTERVAL],
                             "'manifests.fetch_interval' applies to a URL; a local repository is read in "
                             "place, not fetched");
        else if (v[GIT_TOKEN_FILE] && (!scheme || (!streq(scheme, "https://") && !streq(scheme, "http://"))))
                r = error_at(p, v[GIT_TOKEN_FILE], "'manifests.token_file' applies to an https:// URL only");
        else if (v[GIT_SSH_KEY_FILE] && (!scheme || !streq(scheme, "ssh://")))
                r = error_at(p, v[GIT_SSH_KEY_FILE],
                             "'manifests.ssh_key_file' applies to an ssh:// URL only");
        else if (v[GIT_KNOWN_HOSTS_FILE] && (!scheme || !streq(scheme, "ssh://")))
                r = error_at(p, v[GIT_KNOWN_HOSTS_FILE],
                             "'manifests.known_hosts_file' applies to an ssh:// URL only");
        else if (scheme && streq(scheme, "ssh://") && !v[GIT_KNOWN_HOSTS_FILE])
                r = error_at(p, map,
                             "an ssh:// 'manifests.git' needs 'known_hosts_file': the server's host key is "
                             "never taken on trust");
        if (r < 0)
                return r;
        if (v[GIT_TOKEN_FILE] && streq_ptr(scheme, "http://") && p->warnings) {
                r = yaml_read_diags_add(
                        p->warnings, p->file, v[GIT_URL]->line, v[GIT_URL]->column,
                        "'manifests.git' is plain http: the token will cross the network unencrypted");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* manifests: a path (a file or a folder), or a mapping naming a Git repository. */
static int get_manifests(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                         void *data) {
        const struct yaml_read_node *v[_GIT_MAX] = {};
        struct config *c = data;
        int r;

        if (n->kind != YAML_READ_MAPPING)
                return get_path(p, n, k, &c->manifests);
        c->git.enabled = true;
        r = parse_table(p, n, k->path, git_keys, _GIT_MAX, v, c);
        if (r < 0)
                return r;
        r = check_git(p, n, v, c);
        if (r < 0)
                return r;
        if (!c->git.path) {
                c->git.path = strdup("");
                if (!c->git.path)
                        return -ENOMEM;
        }
        c->manifests = strdup(c->git.url);
        return c->manifests ? 0 : -ENOMEM;
}

enum {
        TOP_CLUSTER,
        TOP_MANIFESTS,
        TOP_INTERVAL,
        TOP_JITTER,
        TOP_CONCURRENCY,
        TOP_RETRY,
        TOP_SAFETY,
        TOP_DRY_RUN,
        TOP_BACKUP_DIR,
        TOP_STATE_DIR,
        TOP_SECRETS_DIR,
        TOP_CYCLE_TIMEOUT,
        TOP_BACKUP_RETENTION,
        TOP_METRICS,
        _TOP_MAX,
};

static const struct config_key top_keys[_TOP_MAX] = {
        [TOP_CLUSTER] = KEY_CONFIG("cluster", parse_cluster),
        [TOP_MANIFESTS] = KEY_CONFIG("manifests", get_manifests),
        [TOP_INTERVAL] = KEY("interval", get_duration, interval_usec),
        [TOP_JITTER] = KEY("jitter", get_percent, jitter_percent),
        [TOP_CONCURRENCY] = KEY_RANGE("concurrency", get_unsigned, concurrency, 1, CONFIG_MAX_CONCURRENCY),
        [TOP_RETRY] = KEY_CONFIG("retry", parse_retry),
        [TOP_SAFETY] = KEY_CONFIG("safety", parse_safety),
        [TOP_DRY_RUN] = KEY("dry_run", get_bool, dry_run),
        [TOP_BACKUP_DIR] = KEY("backup_dir", get_path, backup_dir),
        [TOP_STATE_DIR] = KEY("state_dir", get_path, state_dir),
        [TOP_SECRETS_DIR] = KEY("secrets_dir", get_path, secrets_dir),
        [TOP_CYCLE_TIMEOUT] = KEY_RANGE("cycle_timeout", get_duration, cycle_timeout_usec, 0,
                                        CONFIG_MAX_CYCLE_TIMEOUT_USEC),
        [TOP_BACKUP_RETENTION] = KEY("backup_retention", get_duration_or_off, backup_retention_usec),
        [TOP_METRICS] = KEY_CONFIG("metrics", parse_metrics),
};

/* The folder systemd made for the service's state: the first of $STATE_DIRECTORY's paths
 * (StateDirectory= may list several, joined by ':'). */
static int default_state_dir(char **ret) {
        const char *e = getenv("STATE_DIRECTORY");
        size_t n = e ? strcspn(e, ":") : 0;
        char *s;

        s = n > 0 ? strndup(e, n) : strdup(CONFIG_DEFAULT_STATE_DIR);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The folder systemd made for the backups: the second of $STATE_DIRECTORY's paths, as the units
 * list them (StateDirectory=connector-reconciler connector-reconciler/deleted, or
 * connector-reconciler/%i connector-reconciler/%i/deleted for an instance); else
 * CONFIG_DEFAULT_BACKUP_DIR. NULL on ENOMEM. */
static char *default_backup_dir(void) {
        const char *e = getenv("STATE_DIRECTORY"), *second = e ? strchr(e, ':') : NULL;
        size_t n = second ? strcspn(second + 1, ":") : 0;

        return n > 0 ? strndup(second + 1, n) : strdup(CONFIG_DEFAULT_BACKUP_DIR);
}

static int config_set_defaults(struct config *c) {
        const char *cred;

        c->verify_tls = true;
        c->connect_timeout_usec = CLUSTER_CONNECT_TIMEOUT_USEC_DEFAULT;
        c->request_timeout_usec = CLUSTER_REQUEST_TIMEOUT_USEC_DEFAULT;
        c->max_result_window = CLUSTER_MAX_RESULT_WINDOW_DEFAULT;
        c->interval_usec = CONFIG_DEFAULT_INTERVAL_USEC;
        c->jitter_percent = CONFIG_DEFAULT_JITTER_PERCENT;
        c->concurrency = CLUSTER_MAX_IN_FLIGHT_DEFAULT;
        c->retry_max_attempts = CLUSTER_RETRY_MAX_ATTEMPTS_DEFAULT;
        c->retry_initial_delay_usec = CLUSTER_RETRY_INITIAL_DELAY_USEC_DEFAULT;
        c->retry_max_delay_usec = CLUSTER_RETRY_MAX_DELAY_USEC_DEFAULT;
        c->max_deletions = CONFIG_DEFAULT_MAX_DELETIONS;
        c->max_updates = CONFIG_DEFAULT_MAX_UPDATES;
        c->dry_run = false;
        c->cycle_timeout_usec = CONFIG_DEFAULT_CYCLE_TIMEOUT_USEC;
        c->orphan_grace_usec = 0;
        c->backup_retention_usec = CONFIG_DEFAULT_BACKUP_RETENTION_USEC;
        c->backup_dir = default_backup_dir();
        if (!c->backup_dir)
                return -ENOMEM;
        cred = getenv("CREDENTIALS_DIRECTORY");
        if (cred && *cred) {
                c->secrets_dir = strdup(cred);
                if (!c->secrets_dir)
                        return -ENOMEM;
        }
        return default_state_dir(&c->state_dir);
}

static int parse_root(struct parser *p, const struct yaml_read_node *root, const char *manifests_override,
                      struct config *c) {
        const struct yaml_read_node *v[_TOP_MAX] = {};
        char buf[128];
        int r;

        if (root->kind == YAML_READ_SCALAR && root->type == YAML_READ_NULL)
                return error_at(p, root, "the config file is empty");
        if (root->kind != YAML_READ_MAPPING)
                return error_at(p, root, "the config file must be a mapping of keys, got %s",
                                yaml_read_describe(root, buf, sizeof(buf)));
        r = parse_table(p, root, "", top_keys, _TOP_MAX, v, c);
        if (r < 0)
                return r;
        if (v[TOP_BACKUP_DIR]) {
                c->backup_dir_line = v[TOP_BACKUP_DIR]->line;
                c->backup_dir_column = v[TOP_BACKUP_DIR]->column;
        }
        if (v[TOP_STATE_DIR]) {
                c->state_dir_line = v[TOP_STATE_DIR]->line;
                c->state_dir_column = v[TOP_STATE_DIR]->column;
        }

        if (!v[TOP_CLUSTER]) {
                r = error_at(p, root, "missing required key 'cluster'");
                if (r == -ENOMEM)
                        return r;
        }
        if (!v[TOP_MANIFESTS] && !manifests_override) {
                r = error_at(p, root, "missing required key 'manifests' (or give --manifests)");
                if (r == -ENOMEM)
                        return r;
        }
        if (manifests_override) {
                /* A path given on the command line: the files there, whatever the key said. */
                c->git.enabled = false;
                free(c->manifests);
                c->manifests = strdup(manifests_override);
                if (!c->manifests)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_stream(const char *path, const struct yaml_read_stream *s, const char *manifests_override,
                        struct config **ret, struct yaml_read_diags *warnings,
                        struct yaml_read_diags *errors) {
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *dir = NULL;
        const char *slash, *cred;
        size_t n_before = yaml_read_diags_count(errors), n_items_before = errors->n_items;
        struct parser p = {
                .file = path,
                .errors = errors,
                .warnings = warnings,
        };
        int r;

        slash = strrchr(path, '/');
        if (slash) {
                dir = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
                if (!dir)
                        return -ENOMEM;
        }
        p.dir = dir;
        cred = getenv("CREDENTIALS_DIRECTORY");
        p.cred_dir = cred && *cred ? cred : NULL;

        if (s->n_documents == 0) {
                r = yaml_read_diags_add(errors, path, 0, 0, "the config file is empty");
                return r < 0 ? r : -EINVAL;
        }
        if (s->n_documents > 1) {
                r = yaml_read_error(errors, path, s->documents[1],
                                    "the config file must hold one YAML document, not %zu", s->n_documents);
                return r;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        r = config_set_defaults(c);
        if (r < 0)
                return r;

        r = parse_root(&p, s->documents[0], manifests_override, c);
        yaml_read_diags_sort(errors, n_items_before);
        if (r == -ENOMEM || errors->oom || (warnings && warnings->oom))
                return -ENOMEM;
        if (yaml_read_diags_count(errors) > n_before)
                return -EINVAL;

        *ret = TAKE_PTR(c);
        return 0;
}

int config_parse(const char *path, const void *data, size_t size, const char *manifests_override,
                 struct config **ret, struct yaml_read_diags *warnings, struct yaml_read_diags *errors) {
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = NULL;
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        r = yaml_read_buffer(path, data, size, &s, errors);
        if (r < 0)
                return r;
        return parse_stream(path, s, manifests_override, ret, warnings, errors);
}

int config_load(const char *path, const char *manifests_override, struct config **ret,
                struct yaml_read_diags *warnings, struct yaml_read_diags *errors) {
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = NULL;
        int r;

        assert(path);
        assert(ret);
        assert(errors);

        r = yaml_read_file(path, &s, errors);
        if (r < 0)
                return r;
        return parse_stream(path, s, manifests_override, ret, warnings, errors);
}

static int file_error(struct config *c, struct yaml_read_diags *d, const struct config_file *f,
                      const char *fmt, ...) _printf_(4, 5);
static int file_error(struct config *c, struct yaml_read_diags *d, const struct config_file *f,
                      const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        k = yaml_read_diags_add(d, c->path, f->line, f->column, "'%s': %s", f->key, m);
        return k < 0 ? k : -EINVAL;
}

/* Opens a file a *_file key names, as a regular file; checks its mode when it holds a secret. */
static int open_checked(struct config *c, const struct config_file *f, bool secret, struct stat *ret_st,
                        struct yaml_read_diags *warnings, struct yaml_read_diags *errors) {
        _cleanup_close_ int fd = -1;
        int r;

        /* O_NONBLOCK: a FIFO in the way must not hang us. */
        fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                return file_error(c, errors, f, "cannot open '%s'%s: %s", f->path,
                                  f->credential ? " (a credential in $CREDENTIALS_DIRECTORY)" : "",
                                  strerror(-r));
        }
        if (fstat(fd, ret_st) < 0) {
                r = negative_errno();
                return file_error(c, errors, f, "cannot stat '%s': %s", f->path, strerror(-r));
        }
        if (!S_ISREG(ret_st->st_mode))
                return file_error(c, errors, f, "'%s' is not a regular file", f->path);
        if (secret && (ret_st->st_mode & (S_IRGRP | S_IROTH)) && warnings) {
                r = yaml_read_diags_add(warnings, c->path, f->line, f->column,
                                        "'%s': secret file '%s' is readable by group or others (mode %04o); "
                                        "chmod go-rwx it",
                                        f->key, f->path, (unsigned) (ret_st->st_mode & 07777));
                if (r < 0)
                        return r;
        }
        return TAKE_FD(fd);
}

static int read_secret(struct config *c, const struct config_file *f, struct yaml_read_diags *warnings,
                       struct yaml_read_diags *errors, char **ret) {
        _cleanup_close_ int fd = -1;
        size_t size = 0, cap = CONFIG_MAX_SECRET_SIZE + 2;
        bool too_large;
        struct stat st;
        char *buf;
        int r = 0;

        fd = open_checked(c, f, true, &st, warnings, errors);
        if (fd < 0)
                return fd;

        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        /* One byte past the limit tells an oversized file; one more keeps room for the NUL. */
        while (size < cap - 1) {
                ssize_t k = read(fd, buf + size, cap - 1 - size);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = negative_errno();
                if (k <= 0)
                        break;
                size += (size_t) k;
        }
        too_large = size > CONFIG_MAX_SECRET_SIZE;
        /* One trailing newline is not part of the secret: editors and `echo` add one. */
        if (size > 0 && buf[size - 1] == '\n')
                size--;
        buf[size] = 0;

        if (r < 0)
                r = file_error(c, errors, f, "cannot read '%s': %s", f->path, strerror(-r));
        else if (too_large)
                r = file_error(c, errors, f, "'%s' is larger than %u bytes", f->path,
                               CONFIG_MAX_SECRET_SIZE);
        else if (size == 0)
                r = file_error(c, errors, f, "'%s' is empty", f->path);
        else if (memchr(buf, 0, size) || strpbrk(buf, "\r\n"))
                r = file_error(c, errors, f, "'%s' holds a line break or a NUL byte inside the secret",
                               f->path);
        else {
                *ret = buf;
                return 0;
        }
        /* All of it, not just up to a NUL: a secret may have been read past one. */
        explicit_bzero(buf, cap);
        free(buf);
        return r;
}

int config_load_secrets(struct config *c, struct yaml_read_diags *warnings, struct yaml_read_diags *errors) {
        const struct config_file *tls[] = { &c->ca_file, &c->client_cert_file, &c->client_key_file };
        size_t n_before = yaml_read_diags_count(errors);
        char *secret = NULL;
        int r;

        assert(c);
        assert(errors);

        erase_and_free(c->secret);
        c->secret = NULL;
        if (c->secret_file.path) {
                r = read_secret(c, &c->secret_file, warnings, errors, &secret);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        c->secret = secret;
        }
        erase_and_free(c->git.token);
        c->git.token = NULL;
        if (c->git.enabled && c->git.token_file.path) {
                r = read_secret(c, &c->git.token_file, warnings, errors, &secret);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        c->git.token = secret;
        }
        if (c->git.enabled) {
                const struct config_file *git_files[] = { &c->git.ssh_key_file, &c->git.known_hosts_file,
                                                          &c->git.allowed_signers_file };

                for (size_t i = 0; i < ELEMENTSOF(git_files); i++) {
                        _cleanup_close_ int fd = -1;
                        struct stat st;

                        if (!git_files[i]->path)
                                continue;
                        fd = open_checked(c, git_files[i], git_files[i] == &c->git.ssh_key_file, &st,
                                          warnings, errors);
                        if (fd == -ENOMEM)
                                return fd;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(tls); i++) {
                _cleanup_close_ int fd = -1;
                struct stat st;

                if (!tls[i]->path)
                        continue;
                fd = open_checked(c, tls[i], tls[i] == &c->client_key_file, &st, warnings, errors);
                if (fd == -ENOMEM)
                        return fd;
        }
        if (errors->oom || (warnings && warnings->oom))
                return -ENOMEM;
        if (yaml_read_diags_count(errors) > n_before) {
                erase_and_free(c->secret);
                c->secret = NULL;
                erase_and_free(c->git.token);
                c->git.token = NULL;
                return -EINVAL;
        }
        return 0;
}

static int check_folder(const struct config *c, const char *key, const char *path, unsigned line,
                        unsigned column, struct yaml_read_diags *errors) {
        _cleanup_free_ char *hint = NULL;
        int r;

        r = fs_dir_check_private(path, &hint);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                return 0;
        r = yaml_read_diags_add(errors, c->path, line, column,
                                "%s %s'%s' is unusable: %s (`once` would delete nothing); fix it with: %s%s"
                                "set %s to a folder this user owns or may create",
                                key, line == 0 ? "(the default) " : "", path, strerror(-r), strempty(hint),
                                hint ? ", or " : "", key);
        return r < 0 ? r : -EINVAL;
}

int config_check_folders(const struct config *c, struct yaml_read_diags *errors) {
        int r, k;

        assert(c);
        r = check_folder(c, "backup_dir", c->backup_dir, c->backup_dir_line, c->backup_dir_column, errors);
        if (r == -ENOMEM)
                return r;
        k = check_folder(c, "state_dir", c->state_dir, c->state_dir_line, c->state_dir_column, errors);
        if (k == -ENOMEM)
                return k;
        return r < 0 ? r : k;
}
