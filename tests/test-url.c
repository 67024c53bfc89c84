/* url.c: base64 both ways, cluster and proxy URLs, and Elastic Cloud ids, with the reasons given
 * for what is refused. tests/test-config.c checks the same through the config file, with the
 * messages as they are printed there. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "url.h"
#include "util.h"

static void test_base64_encode(void) {
        /* RFC 4648's test vectors, and bytes that use '+' and '/'. */
        static const struct {
                const char *in;
                size_t size;
                const char *out;
        } table[] = {
                { "", 0, "" },
                { "f", 1, "Zg==" },
                { "fo", 2, "Zm8=" },
                { "foo", 3, "Zm9v" },
                { "foob", 4, "Zm9vYg==" },
                { "fooba", 5, "Zm9vYmE=" },
                { "foobar", 6, "Zm9vYmFy" },
                { "elastic:changeme", 16, "ZWxhc3RpYzpjaGFuZ2VtZQ==" },
                { "\x00\xff\xfe", 3, "AP/+" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL;

                is_int(base64_encode(table[i].in, table[i].size, &s), 0, "base64 #%zu encodes", i);
                is_str(s, table[i].out, "base64 #%zu is '%s'", i, table[i].out);
        }
}

static void test_base64_decode(void) {
        static const struct {
                const char *in;
                int r;
                const char *out;
                size_t size;
        } table[] = {
                { "", 0, "", 0 },
                { "Zg==", 0, "f", 1 },
                { "Zg", 0, "f", 1 }, /* padding is optional */
                { "Zm8=", 0, "fo", 2 },
                { "Zm8", 0, "fo", 2 },
                { "Zm9vYmFy", 0, "foobar", 6 },
                { "AP/+", 0, "\x00\xff\xfe", 3 },
                { "AP_-", 0, "\x00\xff\xfe", 3 }, /* URL-safe */
                { "+/8=", 0, "\xfb\xff", 2 },
                { "-_8", 0, "\xfb\xff", 2 },
                { "Zh==", 0, "f", 1 },       /* bits past the last byte are ignored */
                { "Zg=", -EINVAL, NULL, 0 }, /* padding that does not complete a group of four */
                { "Zm8==", -EINVAL, NULL, 0 },
                { "Zg===", -EINVAL, NULL, 0 },
                { "Zg=a", -EINVAL, NULL, 0 },
                { "Z", -EINVAL, NULL, 0 }, /* six bits: no byte */
                { "Zm9vY", -EINVAL, NULL, 0 },
                { "Zm 8", -EINVAL, NULL, 0 },
                { "Zm8!", -EINVAL, NULL, 0 },
                { "====", -EINVAL, NULL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL;
                size_t size = SIZE_MAX;
                int r = base64_decode(table[i].in, &s, &size);

                is_int(r, table[i].r, "base64 '%s': %d", table[i].in, table[i].r);
                if (table[i].out)
                        ok(s && size == table[i].size && memcmp(s, table[i].out, size) == 0 &&
                                   s[size] == '\0',
                           "base64 '%s': %zu bytes as expected, and a NUL after them", table[i].in,
                           table[i].size);
                else
                        ok(!s && size == SIZE_MAX, "base64 '%s': nothing returned", table[i].in);
        }
}

static void test_url(void) {
        static const struct {
                const char *in, *out, *message_part;
        } table[] = {
                { "http://localhost:9200", "http://localhost:9200", NULL },
                { "https://es.example.net:9200/", "https://es.example.net:9200", NULL },
                { "HTTPS://es.example.net/proxy/es//", "HTTPS://es.example.net/proxy/es", NULL },
                { "http://[::1]:9200", "http://[::1]:9200", NULL },
                { "ftp://es.example.net", NULL, "must start with https:// or http://" },
                { "es.example.net:9200", NULL, "must start with https:// or http://" },
                { "http://", NULL, "has an invalid host name" },
                { "http:///x", NULL, "has an invalid host name" },
                { "https://elastic:hunter2@es.example.net", NULL, "must not carry credentials" },
                { "http://es.example.net/?pretty", NULL, "query or a fragment" },
                { "http://es.example.net/#x", NULL, "query or a fragment" },
                { "http://es example.net", NULL, "spaces or control characters" },
                { "http://es.example.net\n", NULL, "spaces or control characters" },
                { "", NULL, "must not be empty" },
                /* A host name: letters, digits, '-', '.' and '_'; a port from 1 to 65535. */
                { "http://es_1.example-net:1/", "http://es_1.example-net:1", NULL },
                { "http://es.example.net:65535", "http://es.example.net:65535", NULL },
                { "http://es!.example.net", NULL, "has an invalid host name" },
                { "http://[::1", NULL, "has an invalid host name" },
                { "http://es.example.net:0", NULL, "has an invalid port" },
                { "http://es.example.net:65536", NULL, "has an invalid port" },
                { "http://es.example.net:", NULL, "has an invalid port" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL, *m = NULL;
                int r = url_normalize(table[i].in, URL_CLUSTER, NULL, &s, &m);

                /* By number: one of them holds a newline, which must not reach the TAP output. */
                if (table[i].out) {
                        is_int(r, 0, "URL #%zu is accepted", i);
                        is_str(s, table[i].out, "URL #%zu becomes '%s'", i, table[i].out);
                } else {
                        is_int(r, -EINVAL, "URL #%zu is refused", i);
                        ok(m && strstr(m, table[i].message_part), "and the message says '%s' ('%s')",
                           table[i].message_part, strna(m));
                        ok(!m || !strstr(m, "hunter2"), "and the message holds no password");
                }
        }
}

/* The wording of the messages that show the value, and the caller's hint. */
static void test_url_messages(void) {
        static const struct {
                const char *in;
                enum url_kind kind;
                const char *hint, *message;
        } table[] = {
                { "https://elastic:hunter2@es.example.net", URL_CLUSTER, "use a key",
                  "must not carry credentials: use a key" },
                { "https://elastic:hunter2@es.example.net", URL_CLUSTER, NULL,
                  "must not carry credentials" },
                { "htps://elastic:hunter2@es.example.net/", URL_CLUSTER, "use a key",
                  "must not carry credentials (htps://***@es.example.net/): use a key" },
                { "elastic:hunter2@es.example.net", URL_CLUSTER, NULL,
                  "must not carry credentials (***@es.example.net)" },
                { "http://user:hunter2@p", URL_PROXY, "none",
                  "must not carry credentials (http://***@p): none" },
                { "ftp://es.example.net", URL_CLUSTER, NULL,
                  "must start with https:// or http://, got 'ftp://es.example.net'" },
                { "p:3128", URL_PROXY, NULL,
                  "must start with http://, https://, socks4://, socks4a://, socks5:// or socks5h://, got "
                  "'p:3128'" },
                { "https://es.example.net:99999/", URL_CLUSTER, NULL,
                  "has an invalid port: 'https://es.example.net:99999/'" },
                { "http://p:3128/x", URL_PROXY, NULL,
                  "must be SCHEME://HOST[:PORT], with no path, got 'http://p:3128/x'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL, *m = NULL;
                int r = url_normalize(table[i].in, table[i].kind, table[i].hint, &s, &m);

                is_int(r, -EINVAL, "URL '%s' is refused", table[i].in);
                is_str(m, table[i].message, "with the message '%s'", table[i].message);
        }
}

static void test_proxy(void) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "http://p", "http://p" },
                { "HTTPS://Proxy.Example.NET:8443/", "https://Proxy.Example.NET:8443" },
                { "socks4a://p:1080/", "socks4a://p:1080" },
                { "socks5://[::1]:1080", "socks5://[::1]:1080" },
                { "SOCKS5H://p", "socks5h://p" },
                { "socks6://p", NULL },
                { "http://p//", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL;
                int r = url_normalize(table[i].in, URL_PROXY, NULL, &s, NULL);

                if (table[i].out)
                        ok(r == 0 && streq_ptr(s, table[i].out), "proxy '%s' becomes '%s'", table[i].in,
                           table[i].out);
                else
                        ok(r == -EINVAL && !s, "proxy '%s' is refused", table[i].in);
        }
}

static void test_cloud_id(void) {
        static const struct {
                const char *in, *out, *message_part;
        } table[] = {
                { "staging:"
                  "dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiRjNmMyY2E2ZDA0M"
                  "jI0OWFmMGNjN2Q3YTllOTYyNTc0Mw==",
                  "https://cec6f261a74bf24ce33bb8811b84294f.us-east-1.aws.found.io:443", NULL },
                { "staging:"
                  "dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiRjNmMyY2E2ZDA0M"
                  "jI0OWFmMGNjN2Q3YTllOTYyNTc0Mw",
                  "https://cec6f261a74bf24ce33bb8811b84294f.us-east-1.aws.found.io:443",
                  NULL }, /* no padding */
                { ":dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiRjNmMyY2E2ZDA0"
                  "MjI0OWFmMGNjN2Q3YTllOTYyNTc0Mw==",
                  "https://cec6f261a74bf24ce33bb8811b84294f.us-east-1.aws.found.io:443",
                  NULL }, /* no name */
                { "my:deployment:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbzo5MjQzJGFiYzEyMyRkZWY0NTY=",
                  "https://abc123.eu-west-1.aws.found.io:9243",
                  NULL }, /* port on the host, ':' in the name */
                { "x:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMxMjM6OTI0NCRkZWY0NTY=",
                  "https://abc123.eu-west-1.aws.found.io:9244", NULL }, /* port on the uuid */
                { "x:aG9zdC5leGFtcGxlJHV1aWQx", "https://uuid1.host.example:443",
                  NULL }, /* no kibana part */
                { "no-colon-at-all", NULL, "no ':'" },
                { "name:", NULL, "must decode to" },
                { "name:!!!not base64!!!", NULL, "not base64" },
                { "name:aG9zdC5leGFtcGxl=", NULL, "not base64" }, /* bad padding */
                { "name:aG9zdC5leGFtcGxl", NULL, "must decode to" },
                { "name:JHV1aWQka2li", NULL, "must decode to" },                     /* no host */
                { "name:aG9zdC5leGFtcGxlJCRraWI=", NULL, "must decode to" },         /* no uuid */
                { "name:aG9zdC5leGFtcGxlOjk5OTk5JHUkaw==", NULL, "must decode to" }, /* port 99999 */
                { "name:aCR1JGskZXh0cmE=", NULL, "more parts" },
                { "name:aCBvc3QkdSRr", NULL, "must decode to" }, /* a space in the host */
                { "name:aC94JHUkaw==", NULL, "must decode to" }, /* a '/' in the host */
                /* Host names as url_normalize() reads them; a port as written; a NUL ends it. */
                { "x:aF94JHVfMS5hJGs=", "https://u_1.a.h_x:443", NULL },
                { "x:aDowNDQzJHUkaw==", "https://u.h:0443", NULL },
                { "x:aCR1ACR4JHk=", "https://u.h:443", NULL },
                { "x:aCR1Og==", NULL, "must decode to" }, /* an empty port */
                { "x:Wzo6MV0kdSRr", NULL, "must decode to" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL, *m = NULL;
                int r = url_from_cloud_id(table[i].in, &s, &m);

                if (table[i].out) {
                        is_int(r, 0, "cloud id #%zu decodes", i);
                        is_str(s, table[i].out, "cloud id #%zu gives '%s'", i, table[i].out);
                } else {
                        is_int(r, -EINVAL, "cloud id '%s' is refused", table[i].in);
                        ok(m && strstr(m, table[i].message_part), "and the message says '%s' ('%s')",
                           table[i].message_part, strna(m));
                }
        }
}

int main(void) {
        test_base64_encode();
        test_base64_decode();
        test_url();
        test_url_messages();
        test_proxy();
        test_cloud_id();
        return done();
}
