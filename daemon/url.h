#pragma once

/* The one home of what a cluster URL, a proxy URL and an Elastic Cloud id are, and of base64
 * (RFC 4648). config.c checks cluster.url, cluster.proxy and cluster.cloud_id with it; cluster.c
 * checks the URL it is given and encodes Basic credentials with it. Pure: libc and util.h only,
 * no I/O, no logging, so that the fuzzers link it alone.
 *
 * Messages: a refused value gives -EINVAL and a reason in *reterr_message (newly allocated, owned
 * by the caller; may be NULL when the caller wants none). The reason is written to follow the
 * value's name ("must not have a query or a fragment", "has an invalid port: 'https://es:99999'"):
 * the caller names the value and says where it was written. No reason ever shows a URL's user
 * info (a password): where the value is shown, whatever precedes its '@' reads "***". */

#include <stddef.h>

/* Encodes 'size' bytes at 'data' as standard base64 with '=' padding, as Basic authentication
 * sends them. Returns 0 and *ret (NUL-terminated, owned by the caller), or -ENOMEM. */
int base64_encode(const void *data, size_t size, char **ret);

/* Decodes standard or URL-safe base64 ('+' or '-' for 62, '/' or '_' for 63). Padding is
 * optional; when present it is the one or two '=' that complete the last group of four. Bits of
 * the last character past the last whole byte are ignored. Returns 0, *ret (the bytes, followed by
 * a NUL not counted, owned by the caller) and *ret_size; -EINVAL when 's' is not base64; -ENOMEM. */
int base64_decode(const char *s, char **ret, size_t *ret_size);

enum url_kind {
        URL_CLUSTER, /* Elasticsearch: https:// or http://, HOST[:PORT], then a path (a prefix) or not */
        URL_PROXY,   /* libcurl's proxies: http, https, socks4, socks4a, socks5, socks5h; no path */
        _URL_KIND_MAX,
};

/* Checks a URL of that kind: one of its schemes (in any case), a host (a name of letters, digits,
 * '-', '.' and '_', or a bracketed IPv6 address), an optional port from 1 to 65535, and a path
 * only where the kind allows one; no user info, query, fragment, space or control character. User
 * info is looked for first, whatever else is wrong. 'credentials_hint' (may be NULL) says what
 * to do instead of credentials in the URL, and ends the message refusing them. Returns 0 and *ret
 * (owned by the caller): the URL without trailing slashes, a proxy's scheme in lower case; or
 * -EINVAL with the reason (see above), or -ENOMEM. */
int url_normalize(const char *url, enum url_kind kind, const char *credentials_hint, char **ret,
                  char **reterr_message);

/* Turns an Elastic Cloud id, "NAME:BASE64" (NAME may be empty and may hold ':'), into its cluster's
 * URL as Elastic's clients compute it. BASE64 (url-safe or not, see base64_decode()) decodes to
 * "HOST[:PORT]$ES_ID[:PORT][$KIBANA_ID]", read up to a NUL byte if one is there; HOST and ES_ID as
 * url_normalize() reads a host name. The URL is "https://ES_ID.HOST:PORT" with ES_ID's port, else
 * HOST's, else 443, as written. Returns 0 and *ret_url (owned by the caller); -EINVAL with the
 * reason, which follows "is not a valid cloud id: "; -ENOMEM. */
int url_from_cloud_id(const char *cloud_id, char **ret_url, char **reterr_message);
