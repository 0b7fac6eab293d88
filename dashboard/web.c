/* web.c: the page's HTTP server (see web.h for the contract and why it
 * runs inside the loop).
 *
 * Requests.  libmicrohttpd calls web_answer() once when the headers are
 * in (a struct web_request is attached to the request then), once per
 * piece of body (kept up to WEB_BODY_BYTES_MAX, the rest only noted), and
 * once more at the end, when web_route() answers.  The request's struct
 * is freed when libmicrohttpd says the request is complete.
 *
 * Streams.  A struct web_stream per open event stream (a fixed table).
 * Its response is a content reader (web_stream_read()) that copies frames
 * from the ring into libmicrohttpd's buffer: first the "retry" line, then
 * frames from the latest state on.  When it has nothing to copy it
 * suspends its connection (allowed from a content reader) and returns 0;
 * web_send() resumes every suspended stream.  Frame seq lives in
 * frames[seq % WEB_FRAMES_MAX] while seq >= next_seq - WEB_FRAMES_MAX.
 * Before the daemon stops, every suspended stream is resumed (stopping
 * with suspended connections is not allowed); stopping then frees each
 * stream through its response's free callback.
 *
 * The listen socket is made here and handed to libmicrohttpd, as
 * lib/http.c does, so that a bind failure says its errno and port 0
 * reports the port it got.  (lib/http.c keeps its own as a static
 * function; exporting it would let this file drop its copy.)
 */
#include "dashboard/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "dashboard/limits.h"
#include "dashboard/page_assets.h"
#include "lib/http.h"

#define WEB_STREAM_BLOCK_BYTES (16u << 10) /* what a stream copies at once */
#define WEB_NO_STATE           UINT64_MAX
#define WEB_STR_(x)            #x
#define WEB_STR(x)             WEB_STR_(x)

#define WEB_JSON "application/json; charset=utf-8"
#define WEB_TEXT "text/plain; charset=utf-8"
#define WEB_CSP                                                                                    \
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const char web_hello[] = "retry: " WEB_STR(WEB_RETRY_MS) "\n\n";

struct web_frame {
        char *text;
        size_t len;
};

struct web_stream {
        struct web *w;
        struct MHD_Connection *conn;
        bool used, suspended;
        size_t hello_off; /* bytes of web_hello sent */
        uint64_t seq;     /* the next frame to send */
        size_t off;       /* bytes of it sent */
};

struct web_request {
        size_t len;
        bool too_big;
        char body[WEB_BODY_BYTES_MAX + 1];
};

struct web {
        struct MHD_Daemon *daemon;
        uint16_t port;
        struct web_hooks hooks;
        struct web_frame frames[WEB_FRAMES_MAX];
        uint64_t next_seq;  /* of the next frame */
        uint64_t state_seq; /* of the latest state frame, WEB_NO_STATE before */
        char *state;        /* the latest state (JSON), for GET /api/state */
        size_t state_len;
        struct web_stream streams[WEB_STREAMS_MAX];
        struct web_counters k;
};

static int web_fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int web_fail(char *err, size_t err_size, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
        return r;
}


/* ---- answers ---- */

/* Queues r (taken) with status code; counts it.  allow: the Allow header
 * of a 405 (NULL: none). */
static enum MHD_Result web_queue_allow(struct web *w, struct MHD_Connection *c, unsigned code,
                                       struct MHD_Response *r, const char *type,
                                       const char *allow) {
        enum MHD_Result q = MHD_NO;

        if (!r)
                return MHD_NO;
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
            MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
            MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
            (!allow || MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES))
                q = MHD_queue_response(c, code, r);
        MHD_destroy_response(r);
        if (q == MHD_YES) {
                w->k.requests++;
                w->k.errors += code >= 400;
        }
        return q;
}

static enum MHD_Result web_queue(struct web *w, struct MHD_Connection *c, unsigned code,
                                 struct MHD_Response *r, const char *type) {
        return web_queue_allow(w, c, code, r, type,
                               code == MHD_HTTP_METHOD_NOT_ALLOWED ? "GET" : NULL);
}

static struct MHD_Response *web_copy(const char *data, size_t len, const char *cache) {
        struct MHD_Response *r =
                MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);

        if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache) != MHD_YES) {
                MHD_destroy_response(r);
                return NULL;
        }
        return r;
}

static enum MHD_Result web_json(struct web *w, struct MHD_Connection *c, unsigned code,
                                const char *json) {
        return web_queue(w, c, code, web_copy(json, strlen(json), "no-store"), WEB_JSON);
}

static enum MHD_Result web_error(struct web *w, struct MHD_Connection *c, unsigned code,
                                 const char *why) {
        char body[256];

        snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why); /* why: our literals only */
        return web_json(w, c, code, body);
}

static enum MHD_Result web_asset(struct web *w, struct MHD_Connection *c, const char *name) {
        static const struct {
                const char *suffix, *type;
        } types[] = {{".html", "text/html; charset=utf-8"},
                     {".css", "text/css; charset=utf-8"},
                     {".js", "text/javascript; charset=utf-8"}};
        const char *type = "application/octet-stream";
        struct MHD_Response *r;

        for (size_t i = 0; i < page_assets_files_count; i++) {
                if (strcmp(page_assets_files[i].name, name) != 0)
                        continue;
                for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
                        size_t n = strlen(name), s = strlen(types[t].suffix);
                        if (n > s && strcmp(name + n - s, types[t].suffix) == 0)
                                type = types[t].type;
                }
                r = MHD_create_response_from_buffer(page_assets_files[i].size,
                                                    (void *)page_assets_files[i].data,
                                                    MHD_RESPMEM_PERSISTENT);
                if (r &&
                    (MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") !=
                             MHD_YES ||
                     MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP) != MHD_YES)) {
                        MHD_destroy_response(r);
                        r = NULL;
                }
                return web_queue(w, c, MHD_HTTP_OK, r, type);
        }
        return web_error(w, c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result web_api_state(struct web *w, struct MHD_Connection *c) {
        if (!w->state)
                return web_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no state yet");
        return web_queue(w, c, MHD_HTTP_OK, web_copy(w->state, w->state_len, "no-store"), WEB_JSON);
}

/* ---- event streams ---- */

static uint64_t web_oldest(const struct web *w) {
        return w->next_seq > WEB_FRAMES_MAX ? w->next_seq - WEB_FRAMES_MAX : 0;
}

static size_t web_copy_out(char *buf, size_t max, const char *from, size_t len, size_t *off) {
        size_t take = len - *off < max ? len - *off : max;

        memcpy(buf, from + *off, take);
        *off += take;
        return take;
}

static ssize_t web_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        struct web_stream *st = cls;
        struct web *w = st->w;
        size_t n = 0;

        (void)pos;
        if (st->hello_off < sizeof(web_hello) - 1)
                n += web_copy_out(buf, max, web_hello, sizeof(web_hello) - 1, &st->hello_off);
        while (n < max && st->seq < w->next_seq) {
                const struct web_frame *f;
                if (st->seq < web_oldest(w)) { /* fell behind: the page reconnects */
                        if (n > 0)
                                break;
                        w->k.streams_ended++;
                        return MHD_CONTENT_READER_END_OF_STREAM;
                }
                f = &w->frames[st->seq % WEB_FRAMES_MAX];
                n += web_copy_out(buf + n, max - n, f->text, f->len, &st->off);
                if (st->off == f->len) {
                        st->seq++;
                        st->off = 0;
                }
        }
        if (n > 0)
                return (ssize_t)n;
        MHD_suspend_connection(st->conn);
        st->suspended = true;
        return 0;
}

static void web_stream_free(void *cls) {
        struct web_stream *st = cls;

        st->used = false;
        st->suspended = false;
        st->w->k.streams_now--;
}

static enum MHD_Result web_stream_open(struct web *w, struct MHD_Connection *c) {
        struct web_stream *st = NULL;
        struct MHD_Response *r;

        for (size_t i = 0; i < WEB_STREAMS_MAX && !st; i++)
                if (!w->streams[i].used)
                        st = &w->streams[i];
        if (!st)
                return web_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event streams");
        *st = (struct web_stream){.w = w, .conn = c, .used = true};
        st->seq = w->state_seq != WEB_NO_STATE && w->state_seq >= web_oldest(w) ? w->state_seq
                                                                                : w->next_seq;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, WEB_STREAM_BLOCK_BYTES,
                                              web_stream_read, st, web_stream_free);
        if (!r) {
                st->used = false;
                return MHD_NO;
        }
        w->k.streams_opened++;
        w->k.streams_now++; /* web_stream_free() takes it back, whatever happens next */
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
            MHD_add_response_header(r, "X-Accel-Buffering", "no") != MHD_YES) {
                MHD_destroy_response(r);
                return MHD_NO;
        }
        return web_queue(w, c, MHD_HTTP_OK, r, "text/event-stream; charset=utf-8");
}

static void web_streams_resume(struct web *w) {
        for (size_t i = 0; i < WEB_STREAMS_MAX; i++) {
                struct web_stream *st = &w->streams[i];
                if (st->used && st->suspended) {
                        st->suspended = false;
                        MHD_resume_connection(st->conn);
                }
        }
}

/* Appends one frame "event: NAME\ndata: DATA\n\n" to the ring. */
static int web_frame_add(struct web *w, const char *event, const char *data, size_t len) {
        size_t head = strlen("event: \ndata: \n\n") + strlen(event);
        struct web_frame *f = &w->frames[w->next_seq % WEB_FRAMES_MAX];
        char *text;

        if (len > WEB_FRAME_BYTES_MAX - head)
                return -EMSGSIZE;
        if (!(text = malloc(head + len + 1)))
                return -ENOMEM;
        snprintf(text, head + 1, "event: %s\ndata: ", event);
        memcpy(text + head - 2, data, len);
        memcpy(text + head - 2 + len, "\n\n", 3);
        free(f->text);
        f->text = text;
        f->len = head + len;
        w->next_seq++;
        w->k.frames++;
        web_streams_resume(w);
        return 0;
}

int web_send(struct web *w, const char *event, const char *data, size_t len) {
        return web_frame_add(w, event, data, len);
}

int web_state(struct web *w, const char *data, size_t len) {
        char *copy = malloc(len + 1);
        int r;

        if (!copy)
                return -ENOMEM;
        r = web_frame_add(w, "state", data, len);
        if (r < 0) {
                free(copy);
                return r;
        }
        memcpy(copy, data, len);
        copy[len] = '\0';
        free(w->state);
        w->state = copy;
        w->state_len = len;
        w->state_seq = w->next_seq - 1;
        return 0;
}

/* ---- verdicts ---- */

int web_id_ok(const char *id) {
        size_t n = strnlen(id, DASHBOARD_ID_MAX);

        if (n == 0 || n >= DASHBOARD_ID_MAX)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (id[i] <= ' ' || id[i] > '~' || id[i] == '/')
                        return 0;
        return 1;
}

static const char *web_skip_space(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
                p++;
        return p;
}

/* Expects literal at p (after white space): the position after it, or NULL. */
static const char *web_expect(const char *p, const char *end, const char *literal) {
        size_t n = strlen(literal);

        p = p ? web_skip_space(p, end) : NULL;
        if (!p || (size_t)(end - p) < n || memcmp(p, literal, n) != 0)
                return NULL;
        return p + n;
}

int web_verdict_parse(const char *body, size_t len, char *verdict, size_t size) {
        const char *end = body + len, *p = web_expect(body, end, "{");
        size_t n = 0;

        p = web_expect(web_expect(web_expect(p, end, "\"verdict\""), end, ":"), end, "\"");
        if (!p)
                return -EINVAL;
        while (p + n < end && p[n] >= 'a' && p[n] <= 'z')
                n++;
        if (n == 0 || n >= size)
                return -EINVAL;
        memcpy(verdict, p, n);
        verdict[n] = '\0';
        p = web_expect(web_expect(p + n, end, "\""), end, "}");
        return p && web_skip_space(p, end) == end ? 0 : -EINVAL;
}

/* An Origin header, if any, must name the host the request was sent to. */
static bool web_same_origin(struct MHD_Connection *c) {
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        const char *sep;

        if (!origin)
                return true;
        sep = strstr(origin, "://");
        return host && sep && strcasecmp(sep + 3, host) == 0;
}

static enum MHD_Result web_review(struct web *w, struct MHD_Connection *c, const char *id,
                                  const struct web_request *rq) {
        const char *type =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        char verdict[16], answer[WEB_ANSWER_BYTES_MAX];
        unsigned code;

        if (rq->too_big)
                return web_error(w, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
        if (!type || strncasecmp(type, "application/json", strlen("application/json")) != 0)
                return web_error(w, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                 "a verdict is sent as application/json");
        if (!web_same_origin(c))
                return web_error(w, c, MHD_HTTP_FORBIDDEN, "cross-origin request");
        if (!web_id_ok(id))
                return web_error(w, c, MHD_HTTP_BAD_REQUEST, "bad transaction id");
        if (web_verdict_parse(rq->body, rq->len, verdict, sizeof(verdict)) < 0)
                return web_error(w, c, MHD_HTTP_BAD_REQUEST,
                                 "expected {\\\"verdict\\\":\\\"fraud\\\"} or "
                                 "{\\\"verdict\\\":\\\"legit\\\"}");
        w->k.reviews++;
        answer[0] = '\0';
        code = w->hooks.review(w->hooks.ctx, id, verdict, answer, sizeof(answer));
        return web_json(w, c, code, answer[0] ? answer : "{}");
}

/* ---- routing ---- */

#define WEB_REVIEWS "/reviews/"

static enum MHD_Result web_route(struct web *w, struct MHD_Connection *c, const char *url,
                                 const char *method, const struct web_request *rq) {
        bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
        bool review = strncmp(url, WEB_REVIEWS, strlen(WEB_REVIEWS)) == 0;
        bool page = strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0;
        bool known = page || strcmp(url, "/page.css") == 0 || strcmp(url, "/page.js") == 0 ||
                     strcmp(url, "/events") == 0 || strcmp(url, "/api/state") == 0;

        if (review && post)
                return web_review(w, c, url + strlen(WEB_REVIEWS), rq);
        if (review) {
                static const char only[] = "{\"error\":\"POST only\"}";
                return web_queue_allow(w, c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                       web_copy(only, sizeof(only) - 1, "no-store"), WEB_JSON,
                                       "POST");
        }
        if (!known)
                return web_error(w, c, MHD_HTTP_NOT_FOUND, "not found");
        if (!get)
                return web_error(w, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
        if (rq->len > 0 || rq->too_big)
                return web_error(w, c, MHD_HTTP_CONTENT_TOO_LARGE, "a GET takes no body");
        if (strcmp(url, "/events") == 0)
                return web_stream_open(w, c);
        if (strcmp(url, "/api/state") == 0)
                return web_api_state(w, c);
        return web_asset(w, c, page ? "page.html" : url + 1);
}

static enum MHD_Result web_answer(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
        struct web *w = cls;
        struct web_request *rq = *con_cls;

        (void)version;
        if (!rq) { /* the headers are in; the body, if any, follows */
                if (!(rq = calloc(1, sizeof(*rq))))
                        return MHD_NO;
                *con_cls = rq;
                return MHD_YES;
        }
        if (*upload_size > 0) {
                if (rq->len + *upload_size > WEB_BODY_BYTES_MAX) {
                        rq->too_big = true;
                } else {
                        memcpy(rq->body + rq->len, upload, *upload_size);
                        rq->len += *upload_size;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        return web_route(w, c, url, method, rq);
}

static void web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe) {
        (void)cls;
        (void)c;
        (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

static void web_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe) {
        struct web *w = cls;

        (void)c;
        (void)socket_context;
        if (toe == MHD_CONNECTION_NOTIFY_STARTED)
                w->k.connections++;
}

/* ---- lifecycle ---- */

int web_new(const char *address, const struct web_hooks *hooks, struct web **out, char *err,
            size_t err_size) {
        struct web *w;
        int fd;

        *out = NULL;
        if (!(w = calloc(1, sizeof(*w))))
                return web_fail(err, err_size, -ENOMEM, "out of memory");
        w->hooks = *hooks;
        w->state_seq = WEB_NO_STATE;
        fd = fraud_http_socket_open(address, &w->port, err, err_size);
        if (fd < 0) {
                free(w);
                return fd;
        }
        /* On failure libmicrohttpd may already have closed fd: left alone. */
        w->daemon = MHD_start_daemon(
                MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, web_answer, w,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)WEB_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t)WEB_CONNECTION_BYTES_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)WEB_TIMEOUT_SEC, MHD_OPTION_NOTIFY_COMPLETED, web_completed, w,
                MHD_OPTION_NOTIFY_CONNECTION, web_on_connection, w, MHD_OPTION_END);
        if (!w->daemon) {
                free(w);
                return web_fail(err, err_size, -EIO, "%s: the HTTP server did not start", address);
        }
        *out = w;
        return 0;
}

void web_free(struct web *w) {
        if (!w)
                return;
        if (w->daemon) {
                web_streams_resume(w);
                MHD_stop_daemon(w->daemon);
        }
        for (size_t i = 0; i < WEB_FRAMES_MAX; i++)
                free(w->frames[i].text);
        free(w->state);
        free(w);
}

uint16_t web_port(const struct web *w) {
        return w->port;
}

int web_run(struct web *w, int wait_ms) {
        return MHD_run_wait(w->daemon, wait_ms) == MHD_YES ? 0 : -EIO;
}

void web_counters(const struct web *w, struct web_counters *out) {
        *out = w->k;
}
