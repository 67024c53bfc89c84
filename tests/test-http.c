/* http.c against a canned responder on a loopback socket, in the same sd-event loop: what is sent
 * (method, User-Agent, headers), what is read back (status, the four headers we keep, the body),
 * the body cap (as the bytes arrive and from Content-Length), redirects not followed, refused
 * connections, timeouts, keep-alive reuse, the in-flight bound and its queue, and freeing with
 * requests pending. Then cluster.c on the same loop: one GET / shared by the operations waiting
 * for it, cancelling mid-backoff, and freeing the client from inside a callback. */

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "cluster.h"
#include "http.h"
#include "tap.h"
#include "util.h"

#define SAFETY_TIMEOUT_USEC (20 * USEC_PER_SEC)

/* One canned answer: to requests whose first line starts with 'prefix'. */
struct route {
        const char *prefix;
        const char *response; /* NULL: never answer */
        unsigned n_requests;
};

/* The responder: answers every request with 'response' (or the first matching route) and closes
 * the connection, unless 'keep_alive' is set. A NULL response accepts and never answers. */
struct responder {
        int fd;
        sd_event_source *source;
        uint16_t port;
        const char *response;
        struct route *routes; /* NULL or ended by a NULL prefix */
        bool keep_alive;
        char last_request[4096];
        unsigned n_requests;
        unsigned n_connections;
};

struct conn {
        struct responder *responder;
        char buf[4096];
        size_t n;
};

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct conn *c = userdata;
        ssize_t k;

        k = read(fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n);
        if (k <= 0) {
                sd_event_source_disable_unref(s);
                close(fd);
                free(c);
                return 0;
        }
        c->n += (size_t) k;
        c->buf[c->n] = '\0';

        const char *end = strstr(c->buf, "\r\n\r\n");
        const char *cl = strcasestr(c->buf, "\r\nContent-Length:");

        if (!end)
                return 0;
        /* A request with a body is answered once the body is here too. */
        if (cl && cl < end && c->n < (size_t) (end + 4 - c->buf) + strtoul(cl + 17, NULL, 10))
                return 0;

        struct responder *r = c->responder;
        const char *response = r->response;

        r->n_requests++;
        memcpy(r->last_request, c->buf, c->n + 1);
        c->n = 0;
        for (struct route *i = r->routes; i && i->prefix; i++)
                if (strncmp(r->last_request, i->prefix, strlen(i->prefix)) == 0) {
                        i->n_requests++;
                        response = i->response;
                        break;
                }
        if (!response)
                return 0;

        (void) !write(fd, response, strlen(response));
        if (r->keep_alive)
                return 0;
        sd_event_source_disable_unref(s);
        close(fd);
        free(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct responder *r = userdata;
        struct conn *c;
        int cfd;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        r->n_connections++;
        c = calloc(1, sizeof(*c));
        assert(c);
        c->responder = r;
        assert_se(sd_event_add_io(sd_event_source_get_event(s), NULL, cfd, EPOLLIN, on_conn, c) >= 0);
        return 0;
}

/* A bound socket; listening (and served) when 'serve' is set, closed (refusing) otherwise. */
static uint16_t responder_start(sd_event *e, struct responder *r, bool serve) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof(sa);

        r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert(r->fd >= 0);
        assert_se(bind(r->fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        assert_se(getsockname(r->fd, (struct sockaddr *) &sa, &l) == 0);
        r->port = ntohs(sa.sin_port);
        if (serve) {
                assert_se(listen(r->fd, 16) == 0);
                assert_se(sd_event_add_io(e, &r->source, r->fd, EPOLLIN, on_accept, r) >= 0);
        } else {
                close(r->fd);
                r->fd = -1;
        }
        return r->port;
}

static void responder_stop(struct responder *r) {
        r->source = sd_event_source_disable_unref(r->source);
        if (r->fd >= 0)
                close(r->fd);
        r->fd = -1;
}

struct result {
        bool done;
        int error;
        long status;
        char *body;
        char *product, *retry_after, *location, *content_type, *message;
};

static char *strdup_null(const char *s) {
        return s ? strdup(s) : NULL;
}

static void on_done(struct http_response *resp, void *userdata) {
        struct result *r = userdata;

        r->done = true;
        r->error = resp->error;
        r->status = resp->status;
        r->body = TAKE_PTR(resp->body); /* the callback may take the body */
        r->product = strdup_null(resp->product);
        r->retry_after = strdup_null(resp->retry_after);
        r->location = strdup_null(resp->location);
        r->content_type = strdup_null(resp->content_type);
        r->message = strdup_null(resp->error_message);
}

static void result_done(struct result *r) {
        free(r->body);
        free(r->product);
        free(r->retry_after);
        free(r->location);
        free(r->content_type);
        free(r->message);
        *r = (struct result){};
}

static void run_until(sd_event *e, const bool *flag) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + SAFETY_TIMEOUT_USEC;

        while (!*flag && now_usec(CLOCK_MONOTONIC) < deadline)
                assert_se(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
}

static char *url_for(uint16_t port, const char *path) {
        char *s;

        assert_se(asprintf(&s, "http://127.0.0.1:%u%s", port, path) >= 0);
        return s;
}

static void test_codes(void) {
        static const struct {
                int code, error;
        } table[] = {
                { CURLE_OK, 0 },
                { CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT },
                { CURLE_COULDNT_CONNECT, -ECONNREFUSED },
                { CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH },
                { CURLE_RECV_ERROR, -ECONNRESET },
                { CURLE_GOT_NOTHING, -ECONNRESET },
                { CURLE_SEND_ERROR, -EPIPE },
                { CURLE_PARTIAL_FILE, -EPIPE },
                { CURLE_PEER_FAILED_VERIFICATION, -EKEYREJECTED },
                { CURLE_SSL_CACERT_BADFILE, -EKEYREJECTED },
                { CURLE_SSL_CONNECT_ERROR, -EPROTO },
                { CURLE_FILESIZE_EXCEEDED, -EFBIG },
                { CURLE_OUT_OF_MEMORY, -ENOMEM },
                { CURLE_URL_MALFORMAT, -EINVAL },
                { CURLE_UNSUPPORTED_PROTOCOL, -EPROTONOSUPPORT },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                is_int(http_curl_code_to_errno(table[i].code), table[i].error, "CURLcode %d maps to %d",
                       table[i].code, table[i].error);
}

static void test_exchange(sd_event *e) {
        struct responder resp = {
                .response = "HTTP/1.1 200 OK\r\n"
                            "x-elastic-product: Elasticsearch\r\n"
                            "content-type: application/json\r\n"
                            "Retry-After:   3  \r\n"
                            "Content-Length: 11\r\n"
                            "Connection: close\r\n"
                            "\r\n"
                            "{\"a\": true}",
        };
        const char *const headers[] = { "Accept: application/json", "Authorization: ApiKey c2VjcmV0", NULL };
        _cleanup_(http_glue_freep) struct http_glue *g = NULL;
        struct http_options o = { .verify_tls = true, .request_timeout_usec = 5 * USEC_PER_SEC };
        struct result r = {};
        _cleanup_free_ char *url = NULL;

        url = url_for(responder_start(e, &resp, true), "/_connector/a%2Fb?hard=true");
        assert_se(http_glue_new(&g, e, &o) >= 0);
        is_int(http_request_start(g, "DELETE", url, headers, on_done, &r, NULL), 0, "a request starts");
        run_until(e, &r.done);

        ok(r.done, "the request finishes");
        is_int(r.error, 0, "no transfer error");
        is_int(r.status, 200, "status 200");
        is_str(r.body, "{\"a\": true}", "the body arrives whole");
        is_str(r.product, "Elasticsearch", "X-elastic-product is read whatever the case of its name");
        is_str(r.content_type, "application/json", "Content-Type is read");
        is_str(r.retry_after, "3", "Retry-After is read, blanks trimmed");
        ok(!r.location, "no Location");
        ok(strncmp(resp.last_request, "DELETE /_connector/a%2Fb?hard=true HTTP/1.1\r\n", 45) == 0,
           "the method and the escaped path go out as given");
        ok(strstr(resp.last_request, "\r\nUser-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION "\r\n") != NULL,
           "the User-Agent names the package and its version");
        ok(strstr(resp.last_request, "\r\nAccept: application/json\r\n") != NULL, "our headers are sent");
        ok(strstr(resp.last_request, "\r\nAuthorization: ApiKey c2VjcmV0\r\n") != NULL,
           "the authorization is sent");
        result_done(&r);
        responder_stop(&resp);
}

static void test_body(sd_event *e) {
        struct responder resp = {
                .response = "HTTP/1.1 200 OK\r\n"
                            "x-elastic-product: Elasticsearch\r\n"
                            "Content-Length: 20\r\n"
                            "Connection: close\r\n"
                            "\r\n"
                            "{\"result\":\"updated\"}",
        };
        const char *const headers[] = { "Content-Type: application/json", NULL };
        char body[2048];
        _cleanup_(http_glue_freep) struct http_glue *g = NULL;
        struct http_options o = { .verify_tls = true, .request_timeout_usec = 5 * USEC_PER_SEC };
        struct result r = {};
        _cleanup_free_ char *url = NULL, *want = NULL;

        (void) snprintf(body, sizeof body, "{\"name\":\"caf\xc3\xa9\",\"pad\":\"%0*d\"}", 1900, 0);
        url = url_for(responder_start(e, &resp, true), "/_connector/a/_name");
        assert_se(http_glue_new(&g, e, &o) >= 0);
        is_int(http_request_start_body(g, "PUT", url, headers, body, strlen(body), on_done, &r, NULL), 0,
               "a request with a body starts");
        run_until(e, &r.done);

        is_int(r.status, 200, "it is answered");
        ok(strncmp(resp.last_request, "PUT /_connector/a/_name HTTP/1.1\r\n",
                   strlen("PUT /_connector/a/_name HTTP/1.1\r\n")) == 0,
           "as a PUT");
        assert_se(asprintf(&want, "\r\nContent-Length: %zu\r\n", strlen(body)) > 0);
        ok(strstr(resp.last_request, want) != NULL, "with the body's length");
        ok(strstr(resp.last_request, "\r\nContent-Type: application/json\r\n") != NULL,
           "with the caller's Content-Type, not a form's");
        ok(strlen(resp.last_request) >= strlen(body) &&
                   streq(resp.last_request + strlen(resp.last_request) - strlen(body), body),
           "and the body byte for byte");
        result_done(&r);
        responder_stop(&resp);
}

static void test_cap_and_redirect(sd_event *e) {
        static const struct {
                const char *response;
                int error;
                long status;
                const char *location;
                const char *what;
        } table[] = {
                { "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                  "0123456789012345678901234567890123456789012345678901234567890123456789",
                  -EFBIG, 200, NULL, "a body over the cap, without Content-Length, fails as it arrives" },
                { "HTTP/1.1 200 OK\r\nContent-Length: 70\r\nConnection: close\r\n\r\n"
                  "0123456789012345678901234567890123456789012345678901234567890123456789",
                  -EFBIG, 200, NULL, "a Content-Length over the cap fails before the body" },
                { "HTTP/1.1 200 OK\r\nContent-Length: 64\r\nConnection: close\r\n\r\n"
                  "0123456789012345678901234567890123456789012345678901234567890123",
                  0, 200, NULL, "a body of exactly the cap passes" },
                { "HTTP/1.1 301 Moved Permanently\r\nLocation: http://elsewhere.invalid/\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n",
                  0, 301, "http://elsewhere.invalid/",
                  "a redirect is not followed: its status and Location come back" },
                { "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"short\":", -EPIPE,
                  200, NULL, "a body shorter than its Content-Length is a dropped connection" },
                { "", -ECONNRESET, 0, NULL, "a connection closed without a byte is reset" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct responder resp = { .response = table[i].response };
                _cleanup_(http_glue_freep) struct http_glue *g = NULL;
                struct http_options o = { .max_body_bytes = 64, .request_timeout_usec = 5 * USEC_PER_SEC };
                struct result r = {};
                _cleanup_free_ char *url = NULL;

                url = url_for(responder_start(e, &resp, true), "/");
                assert_se(http_glue_new(&g, e, &o) >= 0);
                assert_se(http_request_start(g, "GET", url, NULL, on_done, &r, NULL) >= 0);
                run_until(e, &r.done);

                is_int(r.error, table[i].error, "%s: error", table[i].what);
                if (table[i].error == 0)
                        is_int(r.status, table[i].status, "%s: status", table[i].what);
                else
                        ok(r.message && r.message[0], "%s: a message says why ('%s')", table[i].what,
                           strna(r.message));
                is_str(r.location, table[i].location, "%s: Location", table[i].what);
                is_int(resp.n_requests, 1, "%s: one request, nothing followed", table[i].what);
                result_done(&r);
                responder_stop(&resp);
        }
}

static void test_refused_and_timeout(sd_event *e) {
        struct responder closed = {}, silent = { .response = NULL };
        _cleanup_(http_glue_freep) struct http_glue *g = NULL;
        struct http_options o = { .request_timeout_usec = 300 * USEC_PER_MSEC };
        struct result r = {};
        _cleanup_free_ char *url = NULL, *url2 = NULL;

        assert_se(http_glue_new(&g, e, &o) >= 0);

        url = url_for(responder_start(e, &closed, false), "/");
        assert_se(http_request_start(g, "GET", url, NULL, on_done, &r, NULL) >= 0);
        run_until(e, &r.done);
        is_int(r.error, -ECONNREFUSED, "a closed port is -ECONNREFUSED");
        result_done(&r);

        url2 = url_for(responder_start(e, &silent, true), "/");
        assert_se(http_request_start(g, "GET", url2, NULL, on_done, &r, NULL) >= 0);
        run_until(e, &r.done);
        is_int(r.error, -ETIMEDOUT, "a server that never answers is cut off: -ETIMEDOUT");
        ok(r.message && strstr(r.message, "imed out"), "curl's text says so ('%s')", strna(r.message));
        result_done(&r);
        responder_stop(&silent);
}

static void test_queue(sd_event *e) {
        struct responder silent = { .response = NULL };
        struct http_glue *g = NULL;
        struct http_options o = { .max_in_flight = 2, .request_timeout_usec = 10 * USEC_PER_SEC };
        struct result r[5] = {};
        _cleanup_free_ char *url = NULL;
        unsigned n_done = 0;

        url = url_for(responder_start(e, &silent, true), "/");
        assert_se(http_glue_new(&g, e, &o) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                assert_se(http_request_start(g, "GET", url, NULL, on_done, &r[i], NULL) >= 0);

        is_int((intmax_t) http_glue_queued(g), 5, "requests wait in the queue until the loop runs");
        for (unsigned i = 0; i < 50 && silent.n_requests < 2; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
        is_int((intmax_t) http_glue_running(g), 2, "two run: the in-flight bound");
        is_int((intmax_t) http_glue_queued(g), 3, "three wait");
        is_int(silent.n_connections, 2, "two connections, no more");

        g = http_glue_free(g);
        for (unsigned i = 0; i < 5; i++)
                assert_se(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                n_done += r[i].done;
        is_int(n_done, 0, "freeing the glue calls no callback");
        responder_stop(&silent);
}

static void test_keep_alive(sd_event *e) {
        struct responder resp = {
                .response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                .keep_alive = true,
        };
        _cleanup_(http_glue_freep) struct http_glue *g = NULL;
        struct http_options o = { .request_timeout_usec = 5 * USEC_PER_SEC };
        _cleanup_free_ char *url = NULL;

        url = url_for(responder_start(e, &resp, true), "/");
        assert_se(http_glue_new(&g, e, &o) >= 0);
        for (unsigned i = 0; i < 3; i++) {
                struct result r = {};

                assert_se(http_request_start(g, "GET", url, NULL, on_done, &r, NULL) >= 0);
                run_until(e, &r.done);
                is_int(r.status, 200, "keep-alive request %u answered", i + 1);
                result_done(&r);
        }
        is_int(resp.n_requests, 3, "three requests");
        is_int(resp.n_connections, 1, "over one connection, kept alive");
        responder_stop(&resp);
}

#define INFO_RESPONSE                                                                               \
        "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\nContent-Type: application/json\r\n" \
        "Content-Length: 30\r\n\r\n{\"version\":{\"number\":\"9.1.3\"}}"

struct outcome {
        unsigned n_callbacks, n_retries;
        int error;
        bool free_cluster; /* the callback frees the client */
        struct cluster **cluster;
};

static void on_get(struct cluster *c, int error, struct cluster_document *d, const struct cluster_error *err,
                   void *userdata) {
        struct outcome *o = userdata;

        o->n_callbacks++;
        o->error = error;
        cluster_document_free(d);
        if (o->free_cluster)
                *o->cluster = cluster_free(*o->cluster);
}

static void on_list(struct cluster *c, int error, struct cluster_listing *l, const struct cluster_error *err,
                    void *userdata) {
        struct outcome *o = userdata;

        o->n_callbacks++;
        o->error = error;
        cluster_listing_free(l);
}

static void on_retry(struct cluster *c, const struct cluster_retry *r, void *userdata) {
        struct outcome *o = userdata;

        o->n_retries++;
}

static struct cluster *client_for(sd_event *e, uint16_t port) {
        struct cluster *c = NULL;
        struct cluster_options o;
        _cleanup_free_ char *url = url_for(port, "");

        cluster_options_init(&o);
        o.url = url;
        o.page_size = 2;
        o.retry.initial_delay_usec = 10 * USEC_PER_MSEC;
        assert_se(cluster_new(&c, e, &o, NULL) >= 0);
        return c;
}

static void run_for(sd_event *e, usec_t usec) {
        usec_t end = now_usec(CLOCK_MONOTONIC) + usec;

        while (now_usec(CLOCK_MONOTONIC) < end)
                assert_se(sd_event_run(e, 20 * USEC_PER_MSEC) >= 0);
}

static void test_cluster_shared_info(sd_event *e) {
        struct route routes[] = {
                { .prefix = "GET / ", .response = INFO_RESPONSE },
                { .prefix = "GET /_connector/a ",
                  .response =
                          "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\nContent-Length: 64\r\n\r\n"
                          "{\"id\":\"a\",\"is_native\":false,\"status\":\"created\",\"sync_now\":false}" },
                {},
        };
        struct responder resp = { .routes = routes };
        struct outcome o[5] = {};
        struct cluster *c;
        unsigned n = 0, ok_count = 0;
        bool all = false;
        const char *ids[] = { "a", "a", "a", "a", "a" };

        c = client_for(e, responder_start(e, &resp, true));
        for (size_t i = 0; i < ELEMENTSOF(o); i++)
                assert_se(cluster_get(c, ids[i], on_get, &o[i]) >= 0);
        while (!all) {
                usec_t deadline = now_usec(CLOCK_MONOTONIC) + SAFETY_TIMEOUT_USEC;

                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
                n = 0;
                for (size_t i = 0; i < ELEMENTSOF(o); i++)
                        n += o[i].n_callbacks;
                all = n == ELEMENTSOF(o) || now_usec(CLOCK_MONOTONIC) > deadline;
        }
        for (size_t i = 0; i < ELEMENTSOF(o); i++)
                ok_count += o[i].n_callbacks == 1 && o[i].error == 0;
        is_int(ok_count, 5, "five gets started before the version was known all succeed");
        is_int(routes[0].n_requests, 1, "they share one GET /");
        is_int(routes[1].n_requests, 5, "then one GET each");
        ok(cluster_get_info(c) && cluster_get_info(c)->major == 9, "the version is kept");
        cluster_free(c);
        responder_stop(&resp);
}

static void test_cluster_cancel(sd_event *e) {
        struct route routes[] = {
                { .prefix = "GET / ", .response = INFO_RESPONSE },
                { .prefix = "GET /_connector?",
                  .response = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: "
                              "0\r\n\r\n" },
                { .prefix = "GET /_connector/", .response = NULL }, /* hangs */
                {},
        };
        struct responder resp = { .routes = routes };
        struct outcome o = {}, hanging = {}, freeing = {};
        struct cluster *c;

        c = client_for(e, responder_start(e, &resp, true));
        cluster_set_retry_hook(c, on_retry, &o);
        assert_se(cluster_list(c, false, on_list, &o) >= 0);
        for (unsigned i = 0; i < 200 && o.n_retries == 0; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
        is_int(o.n_retries, 1, "a 503 with Retry-After: 30 schedules a retry");
        assert_se(cluster_get(c, "x", on_get, &hanging) >= 0);
        for (unsigned i = 0; i < 200 && routes[2].n_requests == 0; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);

        cluster_cancel(c);
        run_for(e, 200 * USEC_PER_MSEC);
        is_int(o.n_callbacks + hanging.n_callbacks, 0,
               "cancelling mid-backoff and mid-request calls no callback");
        is_int(routes[1].n_requests, 1, "and the retry never goes out");

        /* The client stays usable; a callback that frees it stops everything else silently. */
        freeing = (struct outcome){ .free_cluster = true, .cluster = &c };
        hanging = (struct outcome){};
        routes[2].response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_se(cluster_get(c, "y", on_get, &freeing) >= 0);
        assert_se(cluster_list(c, false, on_list, &hanging) >= 0);
        for (unsigned i = 0; i < 200 && freeing.n_callbacks == 0; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
        is_int(freeing.n_callbacks, 1, "after a cancel the client works again");
        ok(!c, "the callback freed the client");
        run_for(e, 200 * USEC_PER_MSEC);
        is_int(hanging.n_callbacks, 0, "the operation left in flight gets no callback");
        responder_stop(&resp);
}

struct delete_outcome {
        unsigned n_callbacks;
        int error;
        enum cluster_delete_result result;
};

static void on_delete(struct cluster *c, int error, enum cluster_delete_result result,
                      const struct cluster_error *err, void *userdata) {
        struct delete_outcome *o = userdata;

        o->n_callbacks++;
        o->error = error;
        o->result = result;
}

/* A 200 from Elasticsearch with this JSON body, as a new string. */
static char *es_ok(const char *body) {
        char *r = strdup_printf(
                "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\nContent-Length: %zu\r\n\r\n%s",
                strlen(body), body);

        assert(r);
        return r;
}

static void on_sync_jobs(struct cluster *c, int error, struct cluster_sync_jobs *jobs,
                         const struct cluster_error *err, void *userdata) {
        struct cluster_sync_jobs **ret = userdata;

        assert(error >= 0);
        *ret = jobs;
}

static void test_cluster_sync_jobs_8_13(sd_event *e) {
        _cleanup_free_ char
                *info = es_ok("{\"version\":{\"number\":\"8.13.4\"}}"),
                *page1 = es_ok("{\"count\":3,\"results\":[{\"id\":\"j1\",\"connector\":{\"id\":\"c/1\"}},"
                               "{\"id\":\"j2\",\"connector\":{\"id\":\"c/1\"}}]}"),
                *page2 = es_ok("{\"count\":3,\"results\":[{\"id\":\"j2\",\"connector\":{\"id\":\"c/1\"}},"
                               "{\"id\":\"jx\",\"connector\":{\"id\":\"other\"}}]}"),
                *ack = es_ok("{\"acknowledged\":true}");
        /* Pages of 2 that overlap (the listing shifted): j2 is on both; jx is another connector's
         * (a server that dropped the filter). */
        struct route routes[] = {
                { .prefix = "GET / ", .response = info },
                { .prefix = "GET /_connector/_sync_job?connector_id=c%2F1&from=0&size=2 ",
                  .response = page1 },
                { .prefix = "GET /_connector/_sync_job?connector_id=c%2F1&from=2&size=2 ",
                  .response = page2 },
                { .prefix = "DELETE /_connector/_sync_job/", .response = ack },
                { .prefix = "DELETE /_connector/c%2F1 ", .response = ack },
                {},
        };
        struct responder resp = { .routes = routes };
        struct delete_outcome o = {};
        struct cluster_sync_jobs *jobs = NULL;
        struct cluster_delete_options d;
        struct cluster *c;

        c = client_for(e, responder_start(e, &resp, true));
        assert_se(cluster_list_sync_jobs(c, "c/1", on_sync_jobs, &jobs) >= 0);
        for (unsigned i = 0; i < 400 && !jobs; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
        if (!ok(jobs, "8.13: the sync jobs of c/1 are listed"))
                return;
        is_int(routes[1].n_requests + routes[2].n_requests, 2, "both sync-job pages are read");
        ok(jobs->n_ids == 2 && streq(jobs->ids[0], "j1") && streq(jobs->ids[1], "j2") && !jobs->ids[2],
           "a job on two pages is kept once; another connector's job is left out");
        is_int(jobs->n_foreign, 1, "and counted as another connector's");
        is_str(jobs->json,
               "[{\"id\":\"j1\",\"connector\":{\"id\":\"c/1\"}},{\"id\":\"j2\",\"connector\":{\"id\":\"c/"
               "1\"}}]",
               "the jobs' documents, as sent, make one JSON array for the backup");
        is_int(routes[3].n_requests + routes[4].n_requests, 0, "listing deletes nothing");

        d = (struct cluster_delete_options){
                .delete_sync_jobs = true,
                .sync_job_ids = (const char *const *) jobs->ids,
                .n_sync_job_ids = jobs->n_ids,
        };
        assert_se(cluster_delete(c, "c/1", &d, on_delete, &o) >= 0);
        cluster_sync_jobs_free(jobs);
        for (unsigned i = 0; i < 400 && o.n_callbacks == 0; i++)
                assert_se(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
        is_int(o.n_callbacks, 1, "8.13: a delete with sync jobs finishes");
        ok(o.error == 0 && o.result == CLUSTER_DELETED, "and deletes the connector");
        is_int(routes[4].n_requests, 1, "the connector first, once, without parameters");
        is_int(routes[3].n_requests, 2, "then each of its jobs listed, once");
        ok(strncmp(resp.last_request, "DELETE /_connector/_sync_job/", 29) == 0,
           "a job's delete comes last");
        cluster_free(c);
        responder_stop(&resp);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        assert_se(sd_event_new(&e) >= 0);

        test_codes();
        test_exchange(e);
        test_body(e);
        test_cap_and_redirect(e);
        test_refused_and_timeout(e);
        test_queue(e);
        test_keep_alive(e);
        test_cluster_shared_info(e);
        test_cluster_cancel(e);
        test_cluster_sync_jobs_8_13(e);
        return done();
}
