#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
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

static int get_string(struct parser *p, const struct yaml_read_node *n, const char *path, char **ret) {
        char *s;

        if (!yaml_read_is_string(n))
                return type_error(p, n, path, "a string");
        if (n->length == 0)
                return error_at(p, n, "'%s' must not be empty", path);
        s = strdup(n->value);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int get_bool(struct parser *p, const struct yaml_read_node *n, const char *path, bool *ret) {
        if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_BOOL)
                return type_error(p, n, path, "true or false");
        *ret = tolower((unsigned char) n->value[0]) == 't';
        return 0;
}

/* A non-negative decimal integer in [min, max]. */
static int get_uint(struct parser *p, const struct yaml_read_node *n, const char *path, uint64_t min,
                    uint64_t max, uint64_t *ret) {
        const char *s = n->value;
        uint64_t v = 0;

        if (n->kind != YAML_READ_SCALAR || n->type != YAML_READ_INT)
                return type_error(p, n, path, "an integer");
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
        if (v < min || v > max)
                goto range;
        *ret = v;
        return 0;

range:
        return error_at(p, n, "'%s' must be an integer from %" PRIu64 " to %" PRIu64 ", got '%s'", path, min,
                        max, n->value);
}

static int get_duration(struct parser *p, const struct yaml_read_node *n, const char *path, usec_t *ret) {
        usec_t v;
        int r;

        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && isdigit((unsigned char) n->value[0]))
                return error_at(p, n, "'%s' needs a unit (ms, s, m or h), e.g. '%ss'", path, n->value);
        if (!yaml_read_is_string(n))
                return type_error(p, n, path, "a duration such as 30s");
        r = config_parse_duration(n->value, &v);
        if (r == -ERANGE)
                return error_at(p, n, "'%s' is too long a duration: '%s'", path, n->value);
        if (r < 0)
                return error_at(
                        p, n,
                        "'%s' is not a valid duration: '%s' (write an integer and a unit, ms, s, m or h, "
                        "e.g. 500ms, 30s, 5m, 1h30m)",
                        path, n->value);
        if (v == 0)
                return error_at(p, n, "'%s' must be longer than 0", path);
        *ret = v;
        return 0;
}

static int get_percent(struct parser *p, const struct yaml_read_node *n, const char *path, unsigned *ret) {
        const char *s;
        unsigned v = 0;

        if (n->kind == YAML_READ_SCALAR && n->type == YAML_READ_INT && isdigit((unsigned char) n->value[0]))
                return error_at(p, n, "'%s' needs a '%%' sign, e.g. '%s%%'", path, n->value);
        if (!yaml_read_is_string(n))
                return type_error(p, n, path, "a percentage such as 10%");
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
        return error_at(p, n, "'%s' must be a percentage from 0%% to 100%%, e.g. 10%%, got '%s'", path,
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
static int get_path(struct parser *p, const struct yaml_read_node *n, const char *path, bool is_file,
                    char **ret, bool *ret_credential) {
        _cleanup_free_ char *v = NULL;
        bool credential = false;
        char *s;
        int r;

        r = get_string(p, n, path, &v);
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

static int get_file(struct parser *p, const struct yaml_read_node *n, const char *key,
                    struct config_file *f) {
        f->key = key;
        f->line = n->line;
        f->column = n->column;
        return get_path(p, n, key, true, &f->path, &f->credential);
}

static int check_mapping(struct parser *p, const struct yaml_read_node *n, const char *path) {
        if (n->kind != YAML_READ_MAPPING)
                return type_error(p, n, path, "a mapping");
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

/* Checks a URL: http or https, a host, an optional port and path; no credentials, query or
 * fragment. Returns it without trailing slashes. */
static int check_url(struct parser *p, const struct yaml_read_node *n, char **ret) {
        const char *s = n->value, *rest, *host_end, *authority_end;
        char *url;
        size_t len;

        if (strncasecmp(s, "https://", 8) == 0)
                rest = s + 8;
        else if (strncasecmp(s, "http://", 7) == 0)
                rest = s + 7;
        else
                return error_at(p, n, "'cluster.url' must start with https:// or http://, got '%s'", s);

        for (const char *c = s; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return error_at(p, n, "'cluster.url' must not contain spaces or control characters");
        authority_end = rest + strcspn(rest, "/?#");
        if (memchr(rest, '@', (size_t) (authority_end - rest)))
                return error_at(p, n,
                                "'cluster.url' must not carry credentials: use 'cluster.username' and "
                                "'cluster.password_file', or another *_file key");
        if (strpbrk(s, "?#"))
                return error_at(p, n, "'cluster.url' must not have a query or a fragment");

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
                        return error_at(p, n, "'cluster.url' has an invalid port: '%s'", s);
        }

        len = strlen(s);
        while (len > 0 && s[len - 1] == '/' && s + len - 1 >= authority_end)
                len--;
        url = strndup(s, len);
        if (!url)
                return -ENOMEM;
        *ret = url;
        return 0;

invalid_host:
        return error_at(p, n, "'cluster.url' has an invalid host name: '%s'", s);
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
        _CLUSTER_MAX,
};

static const char *const cluster_keys[_CLUSTER_MAX] = {
        [CLUSTER_URL] = "url",
        [CLUSTER_CLOUD_ID] = "cloud_id",
        [CLUSTER_API_KEY_FILE] = "api_key_file",
        [CLUSTER_USERNAME] = "username",
        [CLUSTER_PASSWORD_FILE] = "password_file",
        [CLUSTER_BEARER_TOKEN_FILE] = "bearer_token_file",
        [CLUSTER_CA_FILE] = "ca_file",
        [CLUSTER_VERIFY_TLS] = "verify_tls",
        [CLUSTER_CLIENT_CERT_FILE] = "client_cert_file",
        [CLUSTER_CLIENT_KEY_FILE] = "client_key_file",
        [CLUSTER_CONNECT_TIMEOUT] = "connect_timeout",
        [CLUSTER_REQUEST_TIMEOUT] = "request_timeout",
        [CLUSTER_MAX_RESULT_WINDOW] = "max_result_window",
};

/* The position of a key in a mapping, for "conflicts with" messages. */
static const struct yaml_read_node *key_of(const struct yaml_read_node *map,
                                           const struct yaml_read_node *value) {
        for (size_t i = 1; i < map->n_children; i += 2)
                if (map->children[i] == value)
                        return map->children[i - 1];
        return value;
}

static int parse_cluster(struct parser *p, const struct yaml_read_node *map, struct config *c) {
        const struct yaml_read_node *v[_CLUSTER_MAX], *auth = NULL;
        const char *auth_key = NULL;
        int r;

        r = check_mapping(p, map, "cluster");
        if (r < 0)
                return r;
        r = yaml_read_mapping_slots(map, p->file, "cluster", cluster_keys, _CLUSTER_MAX, v, p->errors);
        if (r == -ENOMEM)
                return r;

        /* Where: url or cloud_id, exactly one. */
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
                        r = check_url(p, v[CLUSTER_URL], &c->url);
                else
                        r = get_string(p, v[CLUSTER_URL], "cluster.url", &c->url);
                if (r == -ENOMEM)
                        return r;
        } else if (v[CLUSTER_CLOUD_ID]) {
                r = get_string(p, v[CLUSTER_CLOUD_ID], "cluster.cloud_id", &c->cloud_id);
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

                        r = error_at(
                                p, key_of(map, later),
                                "'cluster.%s' and 'cluster.%s' are two authentication methods: give one",
                                auth_key, cluster_keys[methods[i].slot]);
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                if (c->auth == CONFIG_AUTH_NONE) {
                        auth = n;
                        auth_key = cluster_keys[methods[i].slot];
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
        if (v[CLUSTER_USERNAME]) {
                r = get_string(p, v[CLUSTER_USERNAME], "cluster.username", &c->username);
                if (r == -ENOMEM)
                        return r;
                /* Basic auth joins user and password with ':' (RFC 7617), so a user id cannot hold one. */
                if (r >= 0 && strchr(c->username, ':')) {
                        r = error_at(p, v[CLUSTER_USERNAME], "'cluster.username' must not contain ':'");
                        if (r == -ENOMEM)
                                return r;
                }
        }
        /* The secret file of the first method (a second one was reported above). */
        static const struct {
                int slot;
                const char *key;
        } secret_keys[] = {
                { CLUSTER_API_KEY_FILE, "cluster.api_key_file" },
                { CLUSTER_PASSWORD_FILE, "cluster.password_file" },
                { CLUSTER_BEARER_TOKEN_FILE, "cluster.bearer_token_file" },
        };
        for (size_t i = 0; i < ELEMENTSOF(secret_keys); i++)
                if (v[secret_keys[i].slot]) {
                        r = get_file(p, v[secret_keys[i].slot], secret_keys[i].key, &c->secret_file);
                        if (r == -ENOMEM)
                                return r;
                        break;
                }

        /* TLS. */
        if (v[CLUSTER_CA_FILE]) {
                r = get_file(p, v[CLUSTER_CA_FILE], "cluster.ca_file", &c->ca_file);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_VERIFY_TLS]) {
                r = get_bool(p, v[CLUSTER_VERIFY_TLS], "cluster.verify_tls", &c->verify_tls);
                if (r == -ENOMEM)
                        return r;
        }
        if (!!v[CLUSTER_CLIENT_CERT_FILE] != !!v[CLUSTER_CLIENT_KEY_FILE]) {
                bool cert = v[CLUSTER_CLIENT_CERT_FILE];

                r = error_at(p, key_of(map, cert ? v[CLUSTER_CLIENT_CERT_FILE] : v[CLUSTER_CLIENT_KEY_FILE]),
                             "'cluster.%s' needs 'cluster.%s': give both or neither",
                             cert ? "client_cert_file" : "client_key_file",
                             cert ? "client_key_file" : "client_cert_file");
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_CLIENT_CERT_FILE]) {
                r = get_file(p, v[CLUSTER_CLIENT_CERT_FILE], "cluster.client_cert_file",
                             &c->client_cert_file);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_CLIENT_KEY_FILE]) {
                r = get_file(p, v[CLUSTER_CLIENT_KEY_FILE], "cluster.client_key_file", &c->client_key_file);
                if (r == -ENOMEM)
                        return r;
        }

        if (v[CLUSTER_CONNECT_TIMEOUT]) {
                r = get_duration(p, v[CLUSTER_CONNECT_TIMEOUT], "cluster.connect_timeout",
                                 &c->connect_timeout_usec);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_REQUEST_TIMEOUT]) {
                r = get_duration(p, v[CLUSTER_REQUEST_TIMEOUT], "cluster.request_timeout",
                                 &c->request_timeout_usec);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[CLUSTER_MAX_RESULT_WINDOW]) {
                r = get_uint(p, v[CLUSTER_MAX_RESULT_WINDOW], "cluster.max_result_window", 1,
                             CONFIG_MAX_RESULT_WINDOW_MAX, &c->max_result_window);
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

static int parse_retry(struct parser *p, const struct yaml_read_node *map, struct config *c) {
        static const char *const keys[] = { "max_attempts", "initial_delay", "max_delay" };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        uint64_t u;
        int r;

        r = check_mapping(p, map, "retry");
        if (r < 0)
                return r;
        r = yaml_read_mapping_slots(map, p->file, "retry", keys, ELEMENTSOF(keys), v, p->errors);
        if (r == -ENOMEM)
                return r;
        if (v[0]) {
                r = get_uint(p, v[0], "retry.max_attempts", 1, CONFIG_MAX_RETRY_MAX_ATTEMPTS, &u);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        c->retry_max_attempts = (unsigned) u;
        }
        if (v[1]) {
                r = get_duration(p, v[1], "retry.initial_delay", &c->retry_initial_delay_usec);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[2]) {
                r = get_duration(p, v[2], "retry.max_delay", &c->retry_max_delay_usec);
                if (r == -ENOMEM)
                        return r;
        }
        if (c->retry_initial_delay_usec > c->retry_max_delay_usec) {
                /* Point at whichever of the two was written; both defaults cannot disagree. */
                r = error_at(p, v[1] ?: v[2] ?: map,
                             "'retry.initial_delay' must not be longer than 'retry.max_delay'");
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int parse_safety(struct parser *p, const struct yaml_read_node *map, struct config *c) {
        static const char *const keys[] = { "max_deletions" };
        const struct yaml_read_node *v[ELEMENTSOF(keys)];
        int r;

        r = check_mapping(p, map, "safety");
        if (r < 0)
                return r;
        r = yaml_read_mapping_slots(map, p->file, "safety", keys, ELEMENTSOF(keys), v, p->errors);
        if (r == -ENOMEM)
                return r;
        if (!v[0])
                return 0;
        if (v[0]->kind == YAML_READ_SCALAR && v[0]->type == YAML_READ_STRING &&
            streq(v[0]->value, "unlimited")) {
                c->max_deletions = CONFIG_UNLIMITED;
                return 0;
        }
        if (v[0]->kind == YAML_READ_SCALAR && v[0]->type == YAML_READ_INT &&
            isdigit((unsigned char) v[0]->value[0]))
                return get_uint(p, v[0], "safety.max_deletions", 0, CONFIG_UNLIMITED - 1, &c->max_deletions);
        return error_at(p, v[0],
                        "'safety.max_deletions' must be a non-negative integer or \"unlimited\", got '%s'",
                        v[0]->kind == YAML_READ_SCALAR     ? v[0]->value
                        : v[0]->kind == YAML_READ_SEQUENCE ? "[...]"
                                                           : "{...}");
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
        _TOP_MAX,
};

static const char *const top_keys[_TOP_MAX] = {
        [TOP_CLUSTER] = "cluster", [TOP_MANIFESTS] = "manifests",     [TOP_INTERVAL] = "interval",
        [TOP_JITTER] = "jitter",   [TOP_CONCURRENCY] = "concurrency", [TOP_RETRY] = "retry",
        [TOP_SAFETY] = "safety",   [TOP_DRY_RUN] = "dry_run",         [TOP_BACKUP_DIR] = "backup_dir",
};

static void config_set_defaults(struct config *c) {
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
}

static int parse_root(struct parser *p, const struct yaml_read_node *root, const char *manifests_override,
                      struct config *c) {
        const struct yaml_read_node *v[_TOP_MAX];
        char buf[128];
        uint64_t u;
        int r;

        if (root->kind == YAML_READ_SCALAR && root->type == YAML_READ_NULL)
                return error_at(p, root, "the config file is empty");
        if (root->kind != YAML_READ_MAPPING)
                return error_at(p, root, "the config file must be a mapping of keys, got %s",
                                yaml_read_describe(root, buf, sizeof(buf)));
        r = yaml_read_mapping_slots(root, p->file, "", top_keys, _TOP_MAX, v, p->errors);
        if (r == -ENOMEM)
                return r;

        if (v[TOP_CLUSTER])
                r = parse_cluster(p, v[TOP_CLUSTER], c);
        else
                r = error_at(p, root, "missing required key 'cluster'");
        if (r == -ENOMEM)
                return r;

        if (v[TOP_MANIFESTS]) {
                r = get_path(p, v[TOP_MANIFESTS], "manifests", false, &c->manifests, NULL);
                if (r == -ENOMEM)
                        return r;
        } else if (!manifests_override) {
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

        if (v[TOP_INTERVAL]) {
                r = get_duration(p, v[TOP_INTERVAL], "interval", &c->interval_usec);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[TOP_JITTER]) {
                r = get_percent(p, v[TOP_JITTER], "jitter", &c->jitter_percent);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[TOP_CONCURRENCY]) {
                r = get_uint(p, v[TOP_CONCURRENCY], "concurrency", 1, CONFIG_MAX_CONCURRENCY, &u);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        c->concurrency = (unsigned) u;
        }
        if (v[TOP_RETRY]) {
                r = parse_retry(p, v[TOP_RETRY], c);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[TOP_SAFETY]) {
                r = parse_safety(p, v[TOP_SAFETY], c);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[TOP_DRY_RUN]) {
                r = get_bool(p, v[TOP_DRY_RUN], "dry_run", &c->dry_run);
                if (r == -ENOMEM)
                        return r;
        }
        if (v[TOP_BACKUP_DIR])
                r = get_path(p, v[TOP_BACKUP_DIR], "backup_dir", false, &c->backup_dir, NULL);
        else {
                c->backup_dir = strdup(CONFIG_DEFAULT_BACKUP_DIR);
                r = c->backup_dir ? 0 : -ENOMEM;
        }
        if (r == -ENOMEM)
                return r;
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
        config_set_defaults(c);

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
