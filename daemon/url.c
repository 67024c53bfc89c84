#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"
#include "util.h"

/* An Elastic Cloud id's port when neither of its parts names one. */
#define CLOUD_DEFAULT_PORT "443"

/* ---- Base64 ---- */

static const char base64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t size, char **ret) {
        const unsigned char *s = data;
        char *out, *p;

        assert(data || size == 0);
        assert(ret);

        out = malloc((size + 2) / 3 * 4 + 1);
        if (!out)
                return -ENOMEM;

        p = out;
        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) s[i] << 16;

                if (i + 1 < size)
                        v |= (uint32_t) s[i + 1] << 8;
                if (i + 2 < size)
                        v |= s[i + 2];
                *p++ = base64_chars[(v >> 18) & 63];
                *p++ = base64_chars[(v >> 12) & 63];
                *p++ = i + 1 < size ? base64_chars[(v >> 6) & 63] : '=';
                *p++ = i + 2 < size ? base64_chars[v & 63] : '=';
        }
        *p = '\0';
        *ret = out;
        return 0;
}

/* A character's value in standard or URL-safe base64, or -1. */
static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

int base64_decode(const char *s, char **ret, size_t *ret_size) {
        size_t n, pad = 0, o = 0;
        _cleanup_free_ char *out = NULL;
        uint32_t acc = 0;
        unsigned bits = 0;

        assert(s);
        assert(ret);
        assert(ret_size);

        n = strlen(s);
        while (n > 0 && s[n - 1] == '=' && pad < 2) {
                n--;
                pad++;
        }
        /* One character left over is 6 bits, no byte; padding only ever completes a group of four. */
        if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
                return -EINVAL;

        out = malloc(n / 4 * 3 + 2 + 1);
        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                int v = base64_value(s[i]);

                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char) ((acc >> bits) & 0xFF);
                }
        }

        out[o] = '\0';
        *ret = TAKE_PTR(out);
        *ret_size = o;
        return 0;
}

/* ---- URLs ---- */

/* What url_normalize() accepts for each kind, and how its messages are worded. */
struct url_rules {
        const char *const *schemes; /* lower case, each with its "://" */
        size_t n_schemes;
        const char *schemes_text; /* the schemes as a message lists them */
        /* The message refusing credentials shows the value, redacted: always, or only when the
         * scheme is wrong too (with a right scheme the value adds nothing to the message). */
        bool show_redacted_always;
        bool path_allowed; /* else nothing may follow HOST[:PORT] but one '/' */
        bool lower_scheme; /* return the scheme in lower case */
};

static const char *const cluster_schemes[] = { "https://", "http://" };

/* libcurl's proxy schemes (CURLOPT_PROXY); with socks4a and socks5h the proxy resolves host names. */
static const char *const proxy_schemes[] = {
        "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://",
};

static const struct url_rules kind_rules[_URL_KIND_MAX] = {
        [URL_CLUSTER] = {
                .schemes = cluster_schemes,
                .n_schemes = ELEMENTSOF(cluster_schemes),
                .schemes_text = "https:// or http://",
                .path_allowed = true,
        },
        [URL_PROXY] = {
                .schemes = proxy_schemes,
                .n_schemes = ELEMENTSOF(proxy_schemes),
                .schemes_text = "http://, https://, socks4://, socks4a://, socks5:// or socks5h://",
                .show_redacted_always = true,
                .lower_scheme = true,
        },
};

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

        for (const char *c = start; c < end; c++)
                if (*c == '@')
                        at = c;
        if (!at)
                at = strrchr(start, '@');
        if (!at)
                return strdup(s);
        return strdup_printf("%.*s***%s", (int) (start - s), s, at);
}

/* Where the host that starts at 'rest' ends: past a bracketed IPv6 address, or at the ':' or '/'
 * after a host name. NULL when it is neither. */
static const char *host_end(const char *rest, const char *authority_end) {
        const char *end;

        if (*rest == '[') {
                end = memchr(rest, ']', (size_t) (authority_end - rest));
                if (!end || end == rest + 1)
                        return NULL;
                for (const char *c = rest + 1; c < end; c++)
                        if (!isxdigit((unsigned char) *c) && *c != ':' && *c != '.')
                                return NULL;
                return end + 1;
        }

        end = rest + strcspn(rest, ":/");
        if (end > authority_end)
                end = authority_end;
        return valid_host(rest, (size_t) (end - rest)) ? end : NULL;
}

int url_normalize(const char *url, enum url_kind kind, const char *credentials_hint, char **ret,
                  char **reterr_message) {
        const struct url_rules *rules;
        const char *rest = NULL, *after_host, *authority_end, *start;
        _cleanup_free_ char *shown = NULL;
        char *s;
        size_t len;

        assert(url);
        assert(kind >= 0 && kind < _URL_KIND_MAX);
        assert(ret);

        rules = &kind_rules[kind];
        if (url[0] == '\0')
                return reterr_printf(reterr_message, -EINVAL, "must not be empty");

        shown = url_for_message(url);
        if (!shown)
                return -ENOMEM;
        for (size_t i = 0; i < rules->n_schemes; i++)
                if (strncasecmp(url, rules->schemes[i], strlen(rules->schemes[i])) == 0) {
                        rest = url + strlen(rules->schemes[i]);
                        break;
                }

        /* User info: whatever comes before an '@' in the authority, that is, after "SCHEME://"
         * (or from the start, for a URL with no scheme) and up to the first '/'. */
        start = url_authority(url);
        if (memchr(start, '@', strcspn(start, "/"))) {
                if (!rest || rules->show_redacted_always)
                        return reterr_printf(reterr_message, -EINVAL, "must not carry credentials (%s)%s%s",
                                             shown, credentials_hint ? ": " : "",
                                             strempty(credentials_hint));
                return reterr_printf(reterr_message, -EINVAL, "must not carry credentials%s%s",
                                     credentials_hint ? ": " : "", strempty(credentials_hint));
        }
        if (!rest)
                return reterr_printf(reterr_message, -EINVAL, "must start with %s, got '%s'",
                                     rules->schemes_text, shown);

        for (const char *c = url; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return reterr_printf(reterr_message, -EINVAL,
                                             "must not contain spaces or control characters");
        authority_end = rest + strcspn(rest, "/?#");
        if (strpbrk(url, "?#"))
                return reterr_printf(reterr_message, -EINVAL, "must not have a query or a fragment");

        after_host = host_end(rest, authority_end);
        if (!after_host)
                return reterr_printf(reterr_message, -EINVAL, "has an invalid host name: '%s'", shown);
        if (after_host < authority_end &&
            (*after_host != ':' || !valid_port(after_host + 1, (size_t) (authority_end - after_host - 1))))
                return reterr_printf(reterr_message, -EINVAL, "has an invalid port: '%s'", shown);
        if (!rules->path_allowed && !streq(authority_end, "") && !streq(authority_end, "/"))
                return reterr_printf(reterr_message, -EINVAL,
                                     "must be SCHEME://HOST[:PORT], with no path, got '%s'", shown);

        len = strlen(url);
        while (len > 0 && url[len - 1] == '/' && url + len - 1 >= authority_end)
                len--;
        s = strndup(url, len);
        if (!s)
                return -ENOMEM;
        if (rules->lower_scheme)
                for (char *c = s; c < s + (rest - url); c++)
                        *c = (char) tolower((unsigned char) *c);
        *ret = s;
        return 0;
}

/* ---- Elastic Cloud ids ---- */

/* Splits "HOST[:PORT]" in place at its first ':'. */
static bool split_host_port(char *s, const char **ret_host, const char **ret_port) {
        char *colon = strchr(s, ':');

        if (colon) {
                *colon = '\0';
                if (!valid_port(colon + 1, strlen(colon + 1)))
                        return false;
                *ret_port = colon + 1;
        } else
                *ret_port = NULL;
        *ret_host = s;
        return valid_host(s, strlen(s));
}

/* Turns a decoded cloud id into its URL; changes 'decoded' in place. */
static int cloud_url(char *decoded, char **ret, char **reterr_message) {
        const char *host, *host_port, *es, *es_port;
        char *dollar, *rest, *url;

        dollar = strchr(decoded, '$');
        if (!dollar)
                return reterr_printf(reterr_message, -EINVAL,
                                     "it must decode to 'HOST$ELASTICSEARCH_ID$KIBANA_ID'");
        *dollar = '\0';
        rest = dollar + 1;
        dollar = strchr(rest, '$');
        if (dollar) {
                *dollar = '\0';
                if (strchr(dollar + 1, '$'))
                        return reterr_printf(reterr_message, -EINVAL,
                                             "it has more parts than 'HOST$ELASTICSEARCH_ID$KIBANA_ID'");
        }
        if (!split_host_port(decoded, &host, &host_port) || !split_host_port(rest, &es, &es_port))
                return reterr_printf(reterr_message, -EINVAL,
                                     "it must decode to 'HOST$ELASTICSEARCH_ID$KIBANA_ID'");

        url = strdup_printf("https://%s.%s:%s", es, host, es_port ?: host_port ?: CLOUD_DEFAULT_PORT);
        if (!url)
                return -ENOMEM;
        *ret = url;
        return 0;
}

int url_from_cloud_id(const char *cloud_id, char **ret_url, char **reterr_message) {
        _cleanup_free_ char *decoded = NULL;
        const char *colon;
        size_t size;
        int r;

        assert(cloud_id);
        assert(ret_url);

        /* The base64 part follows the last ':' (base64 has none); the name before it is a label. */
        colon = strrchr(cloud_id, ':');
        if (!colon)
                return reterr_printf(reterr_message, -EINVAL,
                                     "it has no ':' between its name and its base64 part");
        r = base64_decode(colon + 1, &decoded, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reterr_printf(reterr_message, -EINVAL, "the part after ':' is not base64");

        return cloud_url(decoded, ret_url, reterr_message);
}
