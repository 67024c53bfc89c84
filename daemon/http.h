#pragma once

/* HTTP on the sd-event loop: one libcurl multi handle driven through its socket interface
 * (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION on sd_event io and time sources), so nothing blocks and
 * signals and the watchdog are served mid-request. Keep-alive connections are reused across
 * requests; at most 'max_in_flight' requests run at once and the rest wait in a FIFO queue.
 * Redirects are never followed. libcurl types stay in http.c; CURLcode is turned into a negative
 * errno here and nowhere else. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "util.h"

#define HTTP_MAX_BODY_BYTES_DEFAULT ((size_t) 64 * 1024 * 1024)

struct http_glue;
struct http_request;

struct http_options {
        const char *ca_file;          /* NULL: the system's CA store */
        const char *client_cert_file; /* NULL: no client certificate */
        const char *client_key_file;
        const char *proxy;           /* NULL: no proxy, the proxy environment variables ignored */
        bool verify_tls;             /* peer and host name; true unless a test or the user says so */
        usec_t connect_timeout_usec; /* 0: libcurl's default (300 s) */
        usec_t request_timeout_usec; /* the whole transfer; 0: none */
        size_t max_body_bytes;       /* 0: HTTP_MAX_BODY_BYTES_DEFAULT */
        unsigned max_in_flight;      /* 0 counts as 1 */
};

/* What a finished request delivers. Strings are NUL-terminated and owned by the request; they
 * live until the callback returns, except 'body', which the callback may take (set it to NULL). */
struct http_response {
        int error;                 /* 0, or a negative errno when the transfer failed (see http.c) */
        const char *error_message; /* libcurl's text when error < 0, else NULL */
        long status;               /* HTTP status of the last response, 0 when none arrived */
        char *body;                /* NUL-terminated (the NUL is not counted in body_size) */
        size_t body_size;
        const char *product; /* X-elastic-product, or NULL */
        const char *retry_after;
        const char *location;
        const char *content_type;
};

/* Creates the glue on 'event' (which it references). The option strings are copied. Returns 0 and
 * *ret (owned by the caller), or a negative errno. */
int http_glue_new(struct http_glue **ret, sd_event *event, const struct http_options *o);

/* Aborts every request, running or queued, without calling their callbacks, and frees the glue.
 * Safe from inside a request callback. Accepts NULL; returns NULL. */
struct http_glue *http_glue_free(struct http_glue *g);
DEFINE_CLEANUP_FUNC(struct http_glue *, http_glue_free);

/* Queues a request without a body; it starts from the event loop once fewer than max_in_flight
 * run. 'method' is "GET" or "DELETE" (or any token); 'url' must already be escaped; 'headers' is a
 * NULL-terminated list of "Name: value" lines or NULL (copied into buffers the request wipes when
 * it is freed). 'callback' runs exactly once, from the event loop, unless the request is cancelled
 * or the glue freed first (a request libcurl refuses fails through it too); the request is freed
 * right after it returns. The returned handle (optional, may be NULL) is borrowed and valid until
 * then. Returns 0 or a negative errno (-ENOMEM: nothing was queued, no callback). */
int http_request_start(struct http_glue *g, const char *method, const char *url, const char *const *headers,
                       void (*callback)(struct http_response *response, void *userdata), void *userdata,
                       struct http_request **ret);

/* As http_request_start(), with 'body_size' bytes of 'body' sent as the request's body (copied, and
 * wiped when the request is freed: it may hold secrets); 'headers' should give its Content-Type.
 * 'body' NULL sends none. */
int http_request_start_body(struct http_glue *g, const char *method, const char *url,
                            const char *const *headers, const void *body, size_t body_size,
                            void (*callback)(struct http_response *response, void *userdata), void *userdata,
                            struct http_request **ret);

/* Aborts one request (running or queued) and frees it; its callback is not called. Must not be
 * called from that request's own callback. Accepts NULL. */
void http_request_cancel(struct http_request *r);

/* The number of requests running (handed to libcurl) and waiting in the queue. */
size_t http_glue_running(const struct http_glue *g);
size_t http_glue_queued(const struct http_glue *g);

/* Maps a libcurl result code (a CURLcode, as int so this header needs no curl types) to a
 * negative errno, 0 for success. Exposed for the tests. */
int http_curl_code_to_errno(int code);
