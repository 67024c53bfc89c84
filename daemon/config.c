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
#include "plan.h"
#include "util.h"
#include "yaml-read.h"

/* Room for a dotted key path in messages; longer ones are cut. */
#define PATH_BUF 256

/* Elastic Cloud: a cloud id is "NAME:BASE64", BASE64 decoding to "HOST[:PORT]$ES_UUID[:PORT]..."
 * (the Kibana part after a second '$' is ignored); the cluster's URL is
 * https://ES_UUID.HOST:PORT, PORT 443 when neither part names one, as Elastic's clients do. */
#define CLOUD_DEFAULT_PORT "443"

static const char *const auth_names[_CONFIG_AUTH_MAX] = {
        [CONFIG_AUTH_NONE] = "none",
        [CONFIG_AUTH_API_KEY] = "api_key",
        [CONFIG_AUTH_BASIC] = "basic",
        [CONFIG_AUTH_BEARER] = "bearer",
};

const char *config_auth_to_string(enum config_auth a) {
        if (a < 0 || a >= _CONFIG_AUTH_MAX)
                return NULL;
        return auth_names[a];
}

static void file_done(struct config_file *f) {
        free(f->path);
        f->path = NULL;
}

/* Wipes 'size' bytes at 'p' (not just up to a NUL) and frees it. */
static void wipe_free(char *p, size_t size) {
        if (!p)
                return;
        explicit_bzero(p, size);
        free(p);
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
        free(c->backup_dir);
        free(c->cluster_uuid);
        free(c->proxy);
        free(c->state_dir);
        strv_free(c->confirm_removed_sets);
        free(c);
        return NULL;
}

int config_parse_duration(const char *s, usec_t *ret) {
        static const struct {
                const char *unit;
                usec_t usec;
        } units[] = {
                /* Largest first: a compound duration goes down this list. */
                { "h", USEC_PER_HOUR },
                { "m", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
        };
        usec_t total = 0;
        size_t next = 0; /* the largest unit still allowed */

        assert(s);

        if (!*s)
                return -EINVAL;
        while (*s) {
                uint64_t v = 0;
                size_t n = 0, u;

                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                for (; isdigit((unsigned char) *s); s++) {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*s - '0');
                }
                while (s[n] >= 'a' && s[n] <= 'z')
                        n++;
                if (n == 0)
                        return -EINVAL;
                for (u = next; u < ELEMENTSOF(units); u++)
                        if (strlen(units[u].unit) == n && strncmp(s, units[u].unit, n) == 0)
                                break;
                if (u >= ELEMENTSOF(units))
                        return -EINVAL;
                if (v > (USEC_INFINITY - 1) / units[u].usec || total > USEC_INFINITY - 1 - v * units[u].usec)
                        return -ERANGE;
                total += v * units[u].usec;
                next = u + 1;
                s += n;
        }
        *ret = total;
        return 0;
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
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return yaml_read_error(p->errors, p->file, n, "%s", m);
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
#define KEY_RANGE(p, parser, field, lo, hi) \
        { \
                .path = (p), .parse = (parser), .offset = offsetof(struct config, field), .min = (lo), \
                .max = (hi) \
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
        free(*ret);
        *ret = s;
        return 0;
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
        r = config_parse_duration(n->value, ret);
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

/* Writes a duration the way the config file does ("168h", "1h30m"): whole milliseconds only. */
static void format_duration(usec_t u, char *buf, size_t size) {
        static const struct {
                const char *unit;
                usec_t usec;
        } units[] = {
                { "h", USEC_PER_HOUR },
                { "m", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
        };
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(units) && n < size; i++) {
                if (u < units[i].usec)
                        continue;
                n += (size_t) snprintf(buf + n, size - n, "%" PRIu64 "%s", u / units[i].usec, units[i].unit);
                u %= units[i].usec;
        }
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

                format_duration(k->max, max, sizeof(max));
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
        free(*ret);
        *ret = s;
        return 0;
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

static int check_mapping(struct parser *p, const struct yaml_read_node *n, const char *path) {
        if (n->kind != YAML_READ_MAPPING)
                return type_error(p, n, path, "a mapping");
        return 0;
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

/* Decodes standard or URL-safe base64, padding optional. Returns the length, or -EINVAL. */
static ssize_t base64_decode(const char *in, char *out) {
        unsigned acc = 0, bits = 0;
        size_t n = 0, len = strlen(in);

        while (len > 0 && in[len - 1] == '=')
                len--;
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                unsigned v;

                if (c >= 'A' && c <= 'Z')
                        v = (unsigned) (c - 'A');
                else if (c >= 'a' && c <= 'z')
                        v = (unsigned) (c - 'a') + 26;
                else if (c >= '0' && c <= '9')
                        v = (unsigned) (c - '0') + 52;
                else if (c == '+' || c == '-')
                        v = 62;
                else if (c == '/' || c == '_')
                        v = 63;
                else
                        return -EINVAL;
                acc = (acc << 6) | v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char) ((acc >> bits) & 0xff);
                }
        }
        if (bits >= 6)
                return -EINVAL; /* a lone sixth-bit group: not base64 */
        out[n] = 0;
        return (ssize_t) n;
}

static bool valid_host(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-._", s[i]))
                        return false;
        return true;
}

static bool valid_port(const char *s, size_t n) {
        unsigned v = 0;

        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v >= 1 && v <= 65535;
}

/* Splits "HOST[:PORT]" in place. */
static bool split_host_port(char *s, const char **ret_host, const char **ret_port) {
        char *colon = strchr(s, ':');

        if (colon) {
                *colon = 0;
                if (!valid_port(colon + 1, strlen(colon + 1)))
                        return false;
                *ret_port = colon + 1;
        } else
                *ret_port = NULL;
        *ret_host = s;
        return valid_host(s, strlen(s));
}

/* Turns a decoded cloud id, HOST[:PORT]$UUID[:PORT][$KIBANA...], into a URL. Changes 'decoded'
 * in place. Returns -EINVAL when it has not that shape. */
static int cloud_url(char *decoded, char **ret) {
        const char *host, *host_port, *uuid, *uuid_port;
        char *dollar, *rest, *url;

        dollar = strchr(decoded, '$');
        if (!dollar)
                return -EINVAL;
        *dollar = 0;
        rest = dollar + 1;
        dollar = strchr(rest, '$');
        if (dollar)
                *dollar = 0;
        if (!split_host_port(decoded, &host, &host_port) || !split_host_port(rest, &uuid, &uuid_port))
                return -EINVAL;
        if (asprintf(&url, "https://%s.%s:%s", uuid, host, uuid_port ?: host_port ?: CLOUD_DEFAULT_PORT) < 0)
                return -ENOMEM;
        *ret = url;
        return 0;
}

static int cloud_id_to_url(struct parser *p, const struct yaml_read_node *n, char **ret) {
        /* The base64 part follows the last ':' (base64 has none); the name before it is a label. */
        const char *b64 = strrchr(n->value, ':') ? strrchr(n->value, ':') + 1 : n->value;
        _cleanup_free_ char *decoded = NULL;
        int r;

        decoded = malloc(strlen(b64) + 1);
        if (!decoded)
                return -ENOMEM;
        if (base64_decode(b64, decoded) < 0)
                return error_at(
                        p, n,
                        "'cluster.cloud_id' is not a valid cloud id: the part after ':' is not base64");
        r = cloud_url(decoded, ret);
        if (r == -EINVAL)
                return error_at(p, n,
                                "'cluster.cloud_id' is not a valid cloud id: it must decode to "
                                "'HOST$ELASTICSEARCH_ID$KIBANA_ID'");
        return r;
}

/* What check_url() accepts, and how it words its messages. */
struct url_rules {
        const char *path;           /* the key's dotted path */
        const char *const *schemes; /* lower case, each with its "://" */
        size_t n_schemes;
        const char *schemes_text;     /* the schemes as a message lists them */
        const char *credentials_hint; /* what to do instead of credentials in the URL */
        /* The message refusing a value with credentials shows it, credentials redacted: always,
         * or only when its scheme is wrong too (cluster.url's message for a right scheme predates
         * the redaction, and the value adds nothing to it). */
        bool show_redacted_always;
        bool path_allowed; /* else nothing may follow HOST[:PORT] but one '/' */
        bool lower_scheme; /* store the scheme in lower case */
};

static const char *const url_schemes[] = { "https://", "http://" };
static const struct url_rules url_rules = {
        .path = "cluster.url",
        .schemes = url_schemes,
        .n_schemes = ELEMENTSOF(url_schemes),
        .schemes_text = "https:// or http://",
        .credentials_hint = "use 'cluster.username' and 'cluster.password_file', or another *_file key",
        .path_allowed = true,
};

/* libcurl's proxy schemes (CURLOPT_PROXY); with socks4a and socks5h the proxy resolves host names. */
static const char *const proxy_schemes[] = {
        "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://",
};
static const struct url_rules proxy_rules = {
        .path = "cluster.proxy",
        .schemes = proxy_schemes,
        .n_schemes = ELEMENTSOF(proxy_schemes),
        .schemes_text = "http://, https://, socks4://, socks4a://, socks5:// or socks5h://",
        .credentials_hint = "a proxy that needs them is not supported",
        .show_redacted_always = true,
        .lower_scheme = true,
};

/* Where a URL's authority starts: after "SCHEME://" when it starts with a scheme, else at once. */
static const char *url_authority(const char *s) {
        size_t n = 0;

        while (isalnum((unsigned char) s[n]) || (s[n] && strchr("+-.", s[n])))
                n++;
        return startswith(s + n, "://") ? s + n + 3 : s;
}

/* 's' as a message may show it: when it holds an '@', what precedes the '@' that ends its user
 * info (the last '@' before the first '/' after the scheme, else the last '@' of all, in case a
 * password holds a '/') is replaced by "***", so that no message ever shows a password. */
static char *url_for_message(const char *s) {
        const char *start = url_authority(s), *end = start + strcspn(start, "/"), *at = NULL;
        char *m;

        for (const char *c = start; c < end; c++)
                if (*c == '@')
                        at = c;
        if (!at)
                at = strrchr(start, '@');
        if (!at)
                return strdup(s);
        if (asprintf(&m, "%.*s***%s", (int) (start - s), s, at) < 0)
                return NULL;
        return m;
}

/* Checks a URL against 'rules': a scheme of theirs, a host, an optional port, then a path only
 * when they allow one; no user info (credentials), query or fragment. Credentials are looked for
 * first, and a message never shows them. Returns the URL without trailing slashes. */
static int check_url(struct parser *p, const struct yaml_read_node *n, const struct url_rules *rules,
                     char **ret) {
        const char *s = n->value, *rest = NULL, *host_end, *authority_end, *start = url_authority(s);
        _cleanup_free_ char *shown = NULL;
        char *url;
        size_t len;

        shown = url_for_message(s);
        if (!shown)
                return -ENOMEM;
        for (size_t i = 0; i < rules->n_schemes; i++)
                if (strncasecmp(s, rules->schemes[i], strlen(rules->schemes[i])) == 0) {
                        rest = s + strlen(rules->schemes[i]);
                        break;
                }

        /* User info: whatever comes before an '@' in the authority, that is, after "SCHEME://"
         * (or from the start, for a URL with no scheme) and up to the first '/'. */
        if (memchr(start, '@', strcspn(start, "/"))) {
                if (!rest || rules->show_redacted_always)
                        return error_at(p, n, "'%s' must not carry credentials (%s): %s", rules->path, shown,
                                        rules->credentials_hint);
                return error_at(p, n, "'%s' must not carry credentials: %s", rules->path,
                                rules->credentials_hint);
        }
        if (!rest)
                return error_at(p, n, "'%s' must start with %s, got '%s'", rules->path, rules->schemes_text,
                                shown);

        for (const char *c = s; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return error_at(p, n, "'%s' must not contain spaces or control characters",
                                        rules->path);
        authority_end = rest + strcspn(rest, "/?#");
        if (strpbrk(s, "?#"))
                return error_at(p, n, "'%s' must not have a query or a fragment", rules->path);

        if (*rest == '[') {
                /* An IPv6 literal. */
                host_end = memchr(rest, ']', (size_t) (authority_end - rest));
                if (!host_end || host_end == rest + 1)
                        goto invalid_host;
                for (const char *c = rest + 1; c < host_end; c++)
                        if (!isxdigit((unsigned char) *c) && *c != ':' && *c != '.')
                                goto invalid_host;
                host_end++;
        } else {
                host_end = rest + strcspn(rest, ":/");
                if (host_end > authority_end)
                        host_end = authority_end;
                if (!valid_host(rest, (size_t) (host_end - rest)))
                        goto invalid_host;
        }
        if (host_end < authority_end) {
                if (*host_end != ':' || !valid_port(host_end + 1, (size_t) (authority_end - host_end - 1)))
                        return error_at(p, n, "'%s' has an invalid port: '%s'", rules->path, shown);
        }
        if (!rules->path_allowed && !streq(authority_end, "") && !streq(authority_end, "/"))
                return error_at(p, n, "'%s' must be SCHEME://HOST[:PORT], with no path, got '%s'",
                                rules->path, shown);

        len = strlen(s);
        while (len > 0 && s[len - 1] == '/' && s + len - 1 >= authority_end)
                len--;
        url = strndup(s, len);
        if (!url)
                return -ENOMEM;
        if (rules->lower_scheme)
                for (char *c = url; c < url + (rest - s); c++)
                        *c = (char) tolower((unsigned char) *c);
        *ret = url;
        return 0;

invalid_host:
        return error_at(p, n, "'%s' has an invalid host name: '%s'", rules->path, shown);
}

/* cluster.proxy: a URL by proxy_rules. */
static int get_proxy(struct parser *p, const struct yaml_read_node *n, const struct config_key *k,
                     void *data) {
        char **ret = data, *s = NULL;
        int r;

        if (!yaml_read_is_string(n) || n->length == 0)
                return get_string(p, n, k, ret); /* reports the type, or the empty string */
        r = check_url(p, n, &proxy_rules, &s);
        if (r < 0)
                return r;
        free(*ret);
        *ret = s;
        return 0;
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
        free(*ret);
        *ret = TAKE_PTR(s);
        return 0;
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
        const struct yaml_read_node *v[_CLUSTER_MAX], *auth = NULL;
        const char *auth_key = NULL;
        struct config *c = data;
        int r;

        r = check_mapping(p, map, k->path);
        if (r < 0)
                return r;
        r = parse_table(p, map, k->path, cluster_keys, _CLUSTER_MAX, v, c);
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
                if (yaml_read_is_string(v[CLUSTER_URL]) && v[CLUSTER_URL]->length > 0)
                        r = check_url(p, v[CLUSTER_URL], &url_rules, &c->url);
                else
                        r = get_string(p, v[CLUSTER_URL], &cluster_keys[CLUSTER_URL], &c->url);
                if (r == -ENOMEM)
                        return r;
        } else if (v[CLUSTER_CLOUD_ID]) {
                r = get_string(p, v[CLUSTER_CLOUD_ID], &cluster_keys[CLUSTER_CLOUD_ID], &c->cloud_id);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        r = cloud_id_to_url(p, v[CLUSTER_CLOUD_ID], &c->url);
                        if (r == -ENOMEM)
                                return r;
                }
        } else {
                r = error_at(p, map, "'cluster' needs 'url' or 'cloud_id'");
                if (r == -ENOMEM)
                        return r;
        }

        /* Who: at most one authentication method. */
        static const struct {
                int slot;
                enum config_auth auth;
        } methods[] = {
                { CLUSTER_API_KEY_FILE, CONFIG_AUTH_API_KEY },
                { CLUSTER_PASSWORD_FILE, CONFIG_AUTH_BASIC },
                { CLUSTER_USERNAME, CONFIG_AUTH_BASIC },
                { CLUSTER_BEARER_TOKEN_FILE, CONFIG_AUTH_BEARER },
        };
        c->auth = CONFIG_AUTH_NONE;
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                const struct yaml_read_node *n = v[methods[i].slot];

                if (!n)
                        continue;
                if (c->auth != CONFIG_AUTH_NONE && c->auth != methods[i].auth) {
                        const struct yaml_read_node *later = n->line > auth->line ? n : auth;

                        r = error_at(p, key_of(map, later),
                                     "'%s' and '%s' are two authentication methods: give one", auth_key,
                                     cluster_keys[methods[i].slot].path);
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                if (c->auth == CONFIG_AUTH_NONE) {
                        auth = n;
                        auth_key = cluster_keys[methods[i].slot].path;
                }
                c->auth = methods[i].auth;
        }
        if (v[CLUSTER_USERNAME] && !v[CLUSTER_PASSWORD_FILE] && !v[CLUSTER_API_KEY_FILE] &&
            !v[CLUSTER_BEARER_TOKEN_FILE]) {
                r = error_at(p, key_of(map, v[CLUSTER_USERNAME]),
                             "'cluster.username' needs 'cluster.password_file'");
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_PASSWORD_FILE] && !v[CLUSTER_USERNAME] && !v[CLUSTER_API_KEY_FILE] &&
            !v[CLUSTER_BEARER_TOKEN_FILE]) {
                r = error_at(p, key_of(map, v[CLUSTER_PASSWORD_FILE]),
                             "'cluster.password_file' needs 'cluster.username'");
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

        /* TLS: a client certificate and its key, both or neither. */
        if (!!v[CLUSTER_CLIENT_CERT_FILE] != !!v[CLUSTER_CLIENT_KEY_FILE]) {
                bool cert = v[CLUSTER_CLIENT_CERT_FILE];

                r = error_at(p, key_of(map, cert ? v[CLUSTER_CLIENT_CERT_FILE] : v[CLUSTER_CLIENT_KEY_FILE]),
                             "'cluster.%s' needs 'cluster.%s': give both or neither",
                             cert ? "client_cert_file" : "client_key_file",
                             cert ? "client_key_file" : "client_cert_file");
                if (r == -ENOMEM)
                        return r;
        }

        if (c->auth != CONFIG_AUTH_NONE && c->url && strncasecmp(c->url, "http://", 7) == 0 && p->warnings) {
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
        const struct yaml_read_node *v[_RETRY_MAX];
        struct config *c = data;
        int r;

        r = check_mapping(p, map, k->path);
        if (r < 0)
                return r;
        r = parse_table(p, map, k->path, retry_keys, _RETRY_MAX, v, c);
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
        SAFETY_ORPHAN_GRACE,
        SAFETY_CONFIRM_REMOVED_SETS,
        _SAFETY_MAX,
};

static const struct config_key safety_keys[_SAFETY_MAX] = {
        [SAFETY_MAX_DELETIONS] =
                KEY_RANGE("safety.max_deletions", get_max_deletions, max_deletions, 0, CONFIG_UNLIMITED - 1),
        [SAFETY_ORPHAN_GRACE] = KEY("safety.orphan_grace", get_duration_or_off, orphan_grace_usec),
        [SAFETY_CONFIRM_REMOVED_SETS] = KEY_CONFIG("safety.confirm_removed_sets", get_set_names),
};

static int parse_safety(struct parser *p, const struct yaml_read_node *map, const struct config_key *k,
                        void *data) {
        const struct yaml_read_node *v[_SAFETY_MAX];
        int r;

        r = check_mapping(p, map, k->path);
        if (r < 0)
                return r;
        return parse_table(p, map, k->path, safety_keys, _SAFETY_MAX, v, data);
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
        TOP_CYCLE_TIMEOUT,
        _TOP_MAX,
};

static const struct config_key top_keys[_TOP_MAX] = {
        [TOP_CLUSTER] = KEY_CONFIG("cluster", parse_cluster),
        [TOP_MANIFESTS] = KEY("manifests", get_path, manifests),
        [TOP_INTERVAL] = KEY("interval", get_duration, interval_usec),
        [TOP_JITTER] = KEY("jitter", get_percent, jitter_percent),
        [TOP_CONCURRENCY] = KEY_RANGE("concurrency", get_unsigned, concurrency, 1, CONFIG_MAX_CONCURRENCY),
        [TOP_RETRY] = KEY_CONFIG("retry", parse_retry),
        [TOP_SAFETY] = KEY_CONFIG("safety", parse_safety),
        [TOP_DRY_RUN] = KEY("dry_run", get_bool, dry_run),
        [TOP_BACKUP_DIR] = KEY("backup_dir", get_path, backup_dir),
        [TOP_STATE_DIR] = KEY("state_dir", get_path, state_dir),
        [TOP_CYCLE_TIMEOUT] = KEY_RANGE("cycle_timeout", get_duration, cycle_timeout_usec, 0,
                                        CONFIG_MAX_CYCLE_TIMEOUT_USEC),
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

static int config_set_defaults(struct config *c) {
        c->verify_tls = true;
        c->connect_timeout_usec = CONFIG_DEFAULT_CONNECT_TIMEOUT_USEC;
        c->request_timeout_usec = CONFIG_DEFAULT_REQUEST_TIMEOUT_USEC;
        c->max_result_window = CONFIG_DEFAULT_MAX_RESULT_WINDOW;
        c->interval_usec = CONFIG_DEFAULT_INTERVAL_USEC;
        c->jitter_percent = CONFIG_DEFAULT_JITTER_PERCENT;
        c->concurrency = CONFIG_DEFAULT_CONCURRENCY;
        c->retry_max_attempts = CONFIG_DEFAULT_RETRY_MAX_ATTEMPTS;
        c->retry_initial_delay_usec = CONFIG_DEFAULT_RETRY_INITIAL_DELAY_USEC;
        c->retry_max_delay_usec = CONFIG_DEFAULT_RETRY_MAX_DELAY_USEC;
        c->max_deletions = CONFIG_DEFAULT_MAX_DELETIONS;
        c->dry_run = false;
        c->cycle_timeout_usec = CONFIG_DEFAULT_CYCLE_TIMEOUT_USEC;
        c->orphan_grace_usec = 0;
        c->backup_dir = strdup(CONFIG_DEFAULT_BACKUP_DIR);
        if (!c->backup_dir)
                return -ENOMEM;
        return default_state_dir(&c->state_dir);
}

static int parse_root(struct parser *p, const struct yaml_read_node *root, const char *manifests_override,
                      struct config *c) {
        const struct yaml_read_node *v[_TOP_MAX];
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

static int read_secret(struct config *c, struct yaml_read_diags *warnings, struct yaml_read_diags *errors,
                       char **ret) {
        const struct config_file *f = &c->secret_file;
        _cleanup_close_ int fd = -1;
        size_t size = 0, cap = CONFIG_MAX_SECRET_SIZE + 2;
        struct stat st;
        char *buf;
        int r;

        fd = open_checked(c, f, true, &st, warnings, errors);
        if (fd < 0)
                return fd;

        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        /* One byte past the limit tells an oversized file; one more keeps room for the NUL. */
        while (size < cap - 1) {
                ssize_t k = read(fd, buf + size, cap - 1 - size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        wipe_free(buf, cap);
                        return file_error(c, errors, f, "cannot read '%s': %s", f->path, strerror(-r));
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        if (size > CONFIG_MAX_SECRET_SIZE) {
                wipe_free(buf, cap);
                return file_error(c, errors, f, "'%s' is larger than %u bytes", f->path,
                                  CONFIG_MAX_SECRET_SIZE);
        }
        /* One trailing newline is not part of the secret: editors and `echo` add one. */
        if (size > 0 && buf[size - 1] == '\n')
                size--;
        buf[size] = 0;
        if (size == 0) {
                wipe_free(buf, cap);
                return file_error(c, errors, f, "'%s' is empty", f->path);
        }
        if (memchr(buf, 0, size) || strpbrk(buf, "\r\n")) {
                wipe_free(buf, cap);
                return file_error(c, errors, f, "'%s' holds a line break or a NUL byte inside the secret",
                                  f->path);
        }
        *ret = buf;
        return 0;
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
                r = read_secret(c, warnings, errors, &secret);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        c->secret = secret;
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
                return -EINVAL;
        }
        return 0;
}
