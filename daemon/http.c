#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include "http.h"
#include "log.h"
#include "util.h"

#define HTTP_USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION
/* sd-event may fire a timer up to its accuracy late, to coalesce wake-ups. libcurl's deadlines
 * during a transfer are a millisecond or a few apart, so a coarser accuracy would add up to that
 * much latency to requests (measured when 0 ms timeouts still went through this timer: 1 ms
 * accuracy held one-at-a-time requests to ~850 a second). */
#define HTTP_TIMER_ACCURACY_USEC ((usec_t) 1)

/* One socket libcurl asked us to watch. */
struct http_io {
        struct http_glue *glue;
        sd_event_source *source;
        struct http_io *prev, *next;
};

struct http_request {
        struct http_glue *glue;
        struct http_request *prev, *next; /* in the glue's running or queued list */
        bool running;                     /* handed to the multi handle */

        CURL *easy;
        char *method;
        char *url;
        char *header_buf; /* the header lines, NUL-separated; wiped on free (may hold secrets) */
        size_t header_buf_size;
        struct curl_slist *header_nodes; /* our own array, pointing into header_buf */
        char *request_body;              /* what goes out, or NULL; wiped on free (may hold secrets) */
        size_t request_body_size;

        char error_buffer[CURL_ERROR_SIZE];
        char *body;
        size_t body_size, body_alloc;
        bool body_too_big, body_oom;
        char *product, *retry_after, *location, *content_type;

        void (*callback)(struct http_response *response, void *userdata);
        void *userdata;
};

struct http_glue {
        unsigned n_ref;
        bool dead; /* http_glue_free() ran while we were dispatching */

        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *kick; /* libcurl's 0 ms timeouts */
        sd_event_source *pump; /* defer source: moves queued requests to libcurl */
        struct http_io *ios_head, *ios_tail;

        struct http_request *running_head, *running_tail;
        size_t n_running;
        struct http_request *queued_head, *queued_tail;
        size_t n_queued;

        char *ca_file, *client_cert_file, *client_key_file;
        char *proxy; /* NULL: no proxy at all, whatever the environment says */
        bool verify_tls;
        long connect_timeout_ms, request_timeout_ms;
        size_t max_body_bytes;
        unsigned max_in_flight;
};

int http_curl_code_to_errno(int code) {
        switch ((CURLcode) code) {
        case CURLE_OK:
                return 0;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EPROTONOSUPPORT;
        case CURLE_URL_MALFORMAT:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_UNKNOWN_OPTION:
                return -EINVAL;
        case CURLE_NOT_BUILT_IN:
                return -EOPNOTSUPP;
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_INTERFACE_FAILED:
                return -EADDRNOTAVAIL;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_SSL_SHUTDOWN_FAILED:
                return -ECONNRESET;
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                return -EPIPE;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
                /* Verification and certificate setup: never retried (backoff.c). */
                return -EKEYREJECTED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CIPHER:
        case CURLE_USE_SSL_FAILED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_PROXY:
                return -EPROTO;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_BAD_CONTENT_ENCODING:
                return -EBADMSG;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_TOO_MANY_REDIRECTS:
                return -ELOOP;
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
                return -EACCES;
        case CURLE_AGAIN:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

static struct http_glue *glue_ref(struct http_glue *g) {
        g->n_ref++;
        return g;
}

static void glue_destroy(struct http_glue *g) {
        /* Cleaning up the multi handle may call the socket callback (CURL_POLL_REMOVE) for sockets
         * it still holds, so the io list goes only after it. */
        if (g->multi)
                (void) curl_multi_cleanup(g->multi);
        while (g->ios_head) {
                struct http_io *io = g->ios_head;

                LIST_REMOVE(g->ios_head, g->ios_tail, io);
                (void) sd_event_source_disable_unref(io->source);
                free(io);
        }
        (void) sd_event_source_disable_unref(g->timer);
        (void) sd_event_source_disable_unref(g->kick);
        (void) sd_event_source_disable_unref(g->pump);
        sd_event_unref(g->event);
        free(g->ca_file);
        free(g->proxy);
        free(g->client_cert_file);
        free(g->client_key_file);
        free(g);
        curl_global_cleanup();
}

static void glue_unref(struct http_glue *g) {
        assert(g->n_ref > 0);
        if (--g->n_ref == 0)
                glue_destroy(g);
}
DEFINE_CLEANUP_FUNC(struct http_glue *, glue_unref);

static void request_free(struct http_request *r) {
        if (!r)
                return;

        if (r->easy)
                curl_easy_cleanup(r->easy);
        free(r->method);
        free(r->url);
        if (r->header_buf) {
                explicit_bzero(r->header_buf, r->header_buf_size);
                free(r->header_buf);
        }
        free(r->header_nodes);
        if (r->request_body) {
                explicit_bzero(r->request_body, r->request_body_size);
                free(r->request_body);
        }
        free(r->body);
        free(r->product);
        free(r->retry_after);
        free(r->location);
        free(r->content_type);
        free(r);
}
DEFINE_CLEANUP_FUNC(struct http_request *, request_free);

/* Takes a request out of whichever list holds it, and out of libcurl. */
static void request_detach(struct http_request *r) {
        struct http_glue *g = r->glue;

        if (r->running) {
                (void) curl_multi_remove_handle(g->multi, r->easy);
                LIST_REMOVE(g->running_head, g->running_tail, r);
                g->n_running--;
                r->running = false;
        } else {
                LIST_REMOVE(g->queued_head, g->queued_tail, r);
                g->n_queued--;
        }
}

/* Moves queued requests to libcurl while there is room. Runs only from the event loop (a finished
 * request, or the pump source), so a request libcurl refuses can fail through its callback. */
static int request_setup(struct http_request *r);

static void glue_pump(struct http_glue *g) {
        while (!g->dead && g->queued_head && g->n_running < g->max_in_flight) {
                struct http_request *r = g->queued_head;
                int k;

                LIST_REMOVE(g->queued_head, g->queued_tail, r);
                g->n_queued--;

                /* The easy handle is made only now: a queued request costs its strings, not
                 * libcurl's per-transfer state. */
                k = request_setup(r);
                if (k >= 0 && curl_multi_add_handle(g->multi, r->easy) != CURLM_OK)
                        k = -ENOMEM;
                if (k < 0) {
                        /* Only on OOM or a bug: fail this one request like any other. */
                        struct http_response resp = {
                                .error = k,
                                .error_message = "Failed to hand the request to libcurl",
                        };

                        r->callback(&resp, r->userdata);
                        request_free(r);
                        continue;
                }

                LIST_APPEND(g->running_head, g->running_tail, r);
                g->n_running++;
                r->running = true;
        }
}

static int on_pump(sd_event_source *s, void *userdata) {
        _cleanup_(glue_unrefp) struct http_glue *g = glue_ref(userdata);

        glue_pump(g);
        return 0;
}

/* Arms the pump for the next loop iteration (never runs a callback from the caller's stack). */
static int glue_schedule_pump(struct http_glue *g) {
        int r;

        if (g->pump)
                return sd_event_source_set_enabled(g->pump, SD_EVENT_ONESHOT);

        r = sd_event_add_defer(g->event, &g->pump, on_pump, g);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(g->pump, "curl-pump");
        return sd_event_source_set_enabled(g->pump, SD_EVENT_ONESHOT);
}

static void request_finish(struct http_request *r, CURLcode code) {
        struct http_response resp = {};
        long status = 0;

        request_detach(r);

        (void) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);

        resp.error = http_curl_code_to_errno(code);
        if (r->body_too_big) {
                resp.error = -EFBIG;
                (void) snprintf(r->error_buffer, sizeof(r->error_buffer),
                                "Response body larger than %zu bytes", r->glue->max_body_bytes);
        } else if (r->body_oom)
                resp.error = -ENOMEM;
        else if (code == CURLE_FILESIZE_EXCEEDED)
                (void) snprintf(r->error_buffer, sizeof(r->error_buffer),
                                "Response body larger than %zu bytes (Content-Length)",
                                r->glue->max_body_bytes);
        if (resp.error < 0)
                resp.error_message = r->error_buffer[0] ? r->error_buffer : curl_easy_strerror(code);

        resp.status = status;
        resp.body = r->body;
        resp.body_size = r->body_size;
        resp.product = r->product;
        resp.retry_after = r->retry_after;
        resp.location = r->location;
        resp.content_type = r->content_type;

        log_debug("HTTP %s %s: %s%ld", r->method, r->url, resp.error < 0 ? "failed, " : "",
                  resp.error < 0 ? (long) resp.error : status);

        r->callback(&resp, r->userdata);

        /* The callback may have taken the body. */
        r->body = resp.body;
        request_free(r);
}

static void glue_check_finished(struct http_glue *g) {
        CURLMsg *msg;
        int left;

        while (!g->dead && (msg = curl_multi_info_read(g->multi, &left))) {
                char *p = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;

                (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
                assert(p);
                request_finish((struct http_request *) p, msg->data.result);
        }

        glue_pump(g);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(glue_unrefp) struct http_glue *g = glue_ref(userdata);
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;

        if (curl_multi_socket_action(g->multi, fd, action, &running) != CURLM_OK)
                log_debug("Failed to hand a socket event to libcurl, ignoring");

        glue_check_finished(g);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(glue_unrefp) struct http_glue *g = glue_ref(userdata);
        int running;

        if (curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_debug("Failed to hand a timeout to libcurl, ignoring");

        glue_check_finished(g);
        return 0;
}

static int socket_callback(CURL *easy, curl_socket_t s, int what, void *userdata, void *socketp) {
        struct http_glue *g = userdata;
        struct http_io *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        (void) curl_multi_assign(g->multi, s, NULL);
                        LIST_REMOVE(g->ios_head, g->ios_tail, io);
                        (void) sd_event_source_disable_unref(io->source);
                        free(io);
                }
                return 0;
        }

        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io->source, events) < 0 ||
                    sd_event_source_set_enabled(io->source, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        io = calloc(1, sizeof(*io));
        if (!io)
                return -1;
        io->glue = g;

        r = sd_event_add_io(g->event, &io->source, s, events, on_io, g);
        if (r < 0) {
                free(io);
                return -1;
        }
        (void) sd_event_source_set_description(io->source, "curl-io");

        if (curl_multi_assign(g->multi, s, io) != CURLM_OK) {
                (void) sd_event_source_disable_unref(io->source);
                free(io);
                return -1;
        }

        LIST_APPEND(g->ios_head, g->ios_tail, io);
        return 0;
}

static int on_kick(sd_event_source *s, void *userdata) {
        return on_timer(s, 0, userdata);
}

/* libcurl's timer. A timeout of 0 ms (every new transfer asks for one) runs from a defer source,
 * which costs no system call. A later one arms the timer, but only moves it when the deadline
 * comes sooner than the armed one: an early wake-up is harmless (curl then reports its real
 * deadline), and not moving the timer on every call spares sd-event from re-programming its
 * timerfd many times per request. */
static int timer_callback(CURLM *multi, long timeout_ms, void *userdata) {
        struct http_glue *g = userdata;
        usec_t when, armed;
        int enabled;

        if (timeout_ms < 0) {
                if (g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0)
                        return -1;
                if (g->kick && sd_event_source_set_enabled(g->kick, SD_EVENT_OFF) < 0)
                        return -1;
                return 0;
        }

        if (timeout_ms == 0) {
                if (g->kick)
                        return sd_event_source_set_enabled(g->kick, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
                if (sd_event_add_defer(g->event, &g->kick, on_kick, g) < 0)
                        return -1;
                (void) sd_event_source_set_description(g->kick, "curl-kick");
                return 0;
        }

        when = usec_add(now_usec(CLOCK_MONOTONIC), (usec_t) timeout_ms * USEC_PER_MSEC);

        if (g->timer) {
                if (sd_event_source_get_enabled(g->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF &&
                    sd_event_source_get_time(g->timer, &armed) >= 0 && armed <= when)
                        return 0;
                if (sd_event_source_set_time(g->timer, when) < 0 ||
                    sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_add_time(g->event, &g->timer, CLOCK_MONOTONIC, when, HTTP_TIMER_ACCURACY_USEC, on_timer,
                              g) < 0)
                return -1;
        (void) sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

static int strdup_opt(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int http_glue_new(struct http_glue **ret, sd_event *event, const struct http_options *o) {
        _cleanup_(glue_unrefp) struct http_glue *g = NULL;
        long max;

        assert(ret);
        assert(event);
        assert(o);

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;

        g = calloc(1, sizeof(*g));
        if (!g) {
                curl_global_cleanup();
                return -ENOMEM;
        }
        g->n_ref = 1;
        g->event = sd_event_ref(event);
        g->verify_tls = o->verify_tls;
        g->connect_timeout_ms = (long) MIN(o->connect_timeout_usec / USEC_PER_MSEC, (usec_t) LONG_MAX);
        g->request_timeout_ms = (long) MIN(o->request_timeout_usec / USEC_PER_MSEC, (usec_t) LONG_MAX);
        if (o->connect_timeout_usec > 0 && g->connect_timeout_ms == 0)
                g->connect_timeout_ms = 1;
        if (o->request_timeout_usec > 0 && g->request_timeout_ms == 0)
                g->request_timeout_ms = 1;
        g->max_body_bytes = o->max_body_bytes > 0 ? o->max_body_bytes : HTTP_MAX_BODY_BYTES_DEFAULT;
        g->max_in_flight = MAX(o->max_in_flight, 1u);

        if (strdup_opt(o->ca_file, &g->ca_file) < 0 ||
            strdup_opt(o->client_cert_file, &g->client_cert_file) < 0 ||
            strdup_opt(o->client_key_file, &g->client_key_file) < 0 || strdup_opt(o->proxy, &g->proxy) < 0)
                return -ENOMEM;

        g->multi = curl_multi_init();
        if (!g->multi)
                return -ENOMEM;

        /* Every request to the one cluster shares the connection cache; the in-flight bound is
         * also the bound on connections, so finished requests leave their connection for the
         * next one instead of opening more. */
        max = (long) g->max_in_flight;
        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, socket_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, timer_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, max) != CURLM_OK)
                return -EIO;

        *ret = TAKE_PTR(g);
        return 0;
}

struct http_glue *http_glue_free(struct http_glue *g) {
        if (!g)
                return NULL;

        /* No callback runs after this point: every request is dropped silently. When we are inside
         * a dispatch (a callback freeing the glue), the dispatcher holds a reference and the last
         * unref destroys the glue once it unwinds. */
        g->dead = true;
        while (g->running_head)
                http_request_cancel(g->running_head);
        while (g->queued_head)
                http_request_cancel(g->queued_head);

        glue_unref(g);
        return NULL;
}

static bool header_name_is(const char *line, size_t n, const char *name, const char **ret_value,
                           size_t *ret_size) {
        size_t l = strlen(name);

        if (n <= l || strncasecmp(line, name, l) != 0 || line[l] != ':')
                return false;

        line += l + 1;
        n -= l + 1;
        while (n > 0 && (*line == ' ' || *line == '\t')) {
                line++;
                n--;
        }
        while (n > 0 &&
               (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r' || line[n - 1] == '\n'))
                n--;

        *ret_value = line;
        *ret_size = n;
        return true;
}

static size_t header_callback(char *buffer, size_t size, size_t nitems, void *userdata) {
        struct http_request *r = userdata;
        size_t n = size * nitems;
        const char *const names[] = { "X-elastic-product", "Retry-After", "Location", "Content-Type" };
        char **fields[] = { &r->product, &r->retry_after, &r->location, &r->content_type };

        if (n >= 5 && strncmp(buffer, "HTTP/", 5) == 0) {
                /* A new response (after a 1xx): forget the previous one's headers. */
                for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                        free(*fields[i]);
                        *fields[i] = NULL;
                }
                return n;
        }

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *v;
                char *copy;
                size_t l;

                if (!header_name_is(buffer, n, names[i], &v, &l))
                        continue;

                copy = strndup(v, l);
                if (!copy) {
                        r->body_oom = true;
                        return 0; /* aborts the transfer */
                }
                free(*fields[i]);
                *fields[i] = copy;
                break;
        }

        return n;
}

static size_t write_callback(char *ptr, size_t size, size_t nmemb, void *userdata) {
        struct http_request *r = userdata;
        size_t n = size * nmemb, max = r->glue->max_body_bytes;

        /* The cap is enforced as the bytes arrive: a body over it aborts the transfer (-EFBIG)
         * before we ever hold more than the cap. */
        if (n > max - r->body_size) {
                r->body_too_big = true;
                return 0;
        }

        if (r->body_size + n + 1 > r->body_alloc) {
                size_t a = MAX(r->body_alloc * 2, r->body_size + n + 1);
                char *b;

                a = MIN(a, max + 1);
                b = realloc(r->body, a);
                if (!b) {
                        r->body_oom = true;
                        return 0;
                }
                r->body = b;
                r->body_alloc = a;
        }

        memcpy(r->body + r->body_size, ptr, n);
        r->body_size += n;
        r->body[r->body_size] = '\0';
        return n;
}

/* Copies the caller's headers, and 'extra' (or NULL) after them, into the request. */
static int request_set_headers(struct http_request *r, const char *const *headers, const char *extra) {
        size_t n = 0, size = 0, i = 0;
        char *p;

        for (const char *const *h = headers; h && *h; h++) {
                n++;
                size += strlen(*h) + 1;
        }
        if (extra) {
                n++;
                size += strlen(extra) + 1;
        }
        if (n == 0)
                return 0;

        r->header_buf = malloc(size);
        r->header_nodes = calloc(n, sizeof(struct curl_slist));
        if (!r->header_buf || !r->header_nodes)
                return -ENOMEM;
        r->header_buf_size = size;

        p = r->header_buf;
        for (const char *const *h = headers; h && *h; h++, i++) {
                size_t l = strlen(*h) + 1;

                memcpy(p, *h, l);
                r->header_nodes[i].data = p;
                p += l;
        }
        if (extra) {
                memcpy(p, extra, strlen(extra) + 1);
                r->header_nodes[i].data = p;
        }
        for (i = 0; i + 1 < n; i++)
                r->header_nodes[i].next = &r->header_nodes[i + 1];
        return 0;
}

static int request_setup(struct http_request *r) {
        struct http_glue *g = r->glue;
        CURL *c;

        r->easy = c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        if (curl_easy_setopt(c, CURLOPT_URL, r->url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PRIVATE, (char *) r) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->error_buffer) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, HTTP_USER_AGENT) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            /* The path goes out as built: no dot-segment squashing behind our back. */
            curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_callback) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, r) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_callback) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERDATA, r) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) g->max_body_bytes) != CURLE_OK)
                return -EIO;

        if (!streq(r->method, "GET") && curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method) != CURLE_OK)
                return -EIO;
        if (r->header_nodes && curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->header_nodes) != CURLE_OK)
                return -EIO;
        /* The body goes out with the method given (CURLOPT_CUSTOMREQUEST), its Content-Type from
         * the caller's headers; libcurl does not copy it, the request owns it until freed. */
        if (r->request_body && (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                                 (curl_off_t) r->request_body_size) != CURLE_OK ||
                                curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->request_body) != CURLE_OK))
                return -EIO;
        if (g->connect_timeout_ms > 0 &&
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, g->connect_timeout_ms) != CURLE_OK)
                return -EIO;
        if (g->request_timeout_ms > 0 &&
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, g->request_timeout_ms) != CURLE_OK)
                return -EIO;

        /* libcurl reads http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY from the environment unless
         * told otherwise; "" turns that off, so that a shell's or a host's proxy variables never
         * route the cluster's traffic (and its credentials) through a proxy nobody configured. */
        if (curl_easy_setopt(c, CURLOPT_PROXY, g->proxy ?: "") != CURLE_OK)
                return -EIO;
        /* With a proxy, NO_PROXY from the environment would still send some hosts around it. */
        if (g->proxy && curl_easy_setopt(c, CURLOPT_NOPROXY, "") != CURLE_OK)
                return -EIO;
        if (g->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, g->ca_file) != CURLE_OK)
                return -EIO;
        if (g->client_cert_file && curl_easy_setopt(c, CURLOPT_SSLCERT, g->client_cert_file) != CURLE_OK)
                return -EIO;
        if (g->client_key_file && curl_easy_setopt(c, CURLOPT_SSLKEY, g->client_key_file) != CURLE_OK)
                return -EIO;
        if (curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, g->verify_tls ? 1L : 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, g->verify_tls ? 2L : 0L) != CURLE_OK)
                return -EIO;

        return 0;
}

int http_request_start(struct http_glue *g, const char *method, const char *url, const char *const *headers,
                       void (*callback)(struct http_response *response, void *userdata), void *userdata,
                       struct http_request **ret) {
        return http_request_start_body(g, method, url, headers, NULL, 0, callback, userdata, ret);
}

int http_request_start_body(struct http_glue *g, const char *method, const char *url,
                            const char *const *headers, const void *body, size_t body_size,
                            void (*callback)(struct http_response *response, void *userdata), void *userdata,
                            struct http_request **ret) {
        _cleanup_(request_freep) struct http_request *r = NULL;
        struct http_request *p;
        int k;

        assert(g);
        assert(!g->dead);
        assert(method);
        assert(url);
        assert(callback);

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->glue = g;
        r->callback = callback;
        r->userdata = userdata;
        r->method = strdup(method);
        r->url = strdup(url);
        if (!r->method || !r->url)
                return -ENOMEM;

        /* "Expect:" keeps libcurl from asking for a 100 Continue before a body of a megabyte or more,
         * a wait of a second with a server (or proxy) that does not answer it. */
        k = request_set_headers(r, headers, body ? "Expect:" : NULL);
        if (k < 0)
                return k;
        if (body) {
                r->request_body = memdup(body, body_size);
                if (!r->request_body)
                        return -ENOMEM;
                r->request_body_size = body_size;
        }

        k = glue_schedule_pump(g);
        if (k < 0)
                return k;

        p = TAKE_PTR(r);
        LIST_APPEND(g->queued_head, g->queued_tail, p);
        g->n_queued++;

        if (ret)
                *ret = p;
        return 0;
}

void http_request_cancel(struct http_request *r) {
        struct http_glue *g;

        if (!r)
                return;

        g = r->glue;
        request_detach(r);
        request_free(r);
        if (!g->dead)
                (void) glue_schedule_pump(g);
}

size_t http_glue_running(const struct http_glue *g) {
        assert(g);
        return g->n_running;
}

size_t http_glue_queued(const struct http_glue *g) {
        assert(g);
        return g->n_queued;
}
