/* http.c: the operations endpoint (see http.h for the contract and why it
 * answers from libmicrohttpd's thread).
 *
 * Sharing between the two threads:
 *   - step_ns, phase, ready, wanted and the counters are atomics: the loop
 *     stores, the server's thread loads (counters the other way round);
 *   - the metrics text, its generation and the readiness reason are under
 *     lock; a scrape waits on fresh (a condition variable on the monotonic
 *     clock) for a generation newer than the one it found.
 * The server's thread copies what it serves into the response while it
 * holds the lock, so the loop may replace the text at any time.
 *
 * The listen socket is made here (socket, SO_REUSEADDR, bind, listen) and
 * handed to libmicrohttpd, so that a failure to bind reports its errno
 * (address in use, permission) and port 0 tells the port it got.
 *
 * Per connection, libmicrohttpd's socket context points to a small
 * struct http_conn that remembers whether the connection got an answer
 * of ours; one closed without is an error.  Every callback runs on the
 * one server thread.
 */
#include "lib/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define HTTP_BACKLOG 64

#define HTTP_TEXT_PLAIN   "text/plain; charset=utf-8"
#define HTTP_TEXT_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct fraud_http {
        struct MHD_Daemon *daemon;
        uint16_t port;
        int64_t stall_ns;
        _Atomic int64_t step_ns; /* monotonic start of the loop's last step */
        _Atomic int phase;       /* enum fraud_http_phase */
        _Atomic bool ready;
        _Atomic bool wanted;          /* a scrape waits for a fresh text */
        _Atomic int64_t scraped_ns;   /* monotonic time of the last scrape; 0: none */
        _Atomic int64_t published_ns; /* of the last text published */
        _Atomic uint64_t connections, errors, responses[FRAUD_HTTP_STATUSES];
        pthread_mutex_t lock;
        pthread_cond_t fresh;
        /* under lock */
        char *text; /* NULL before the first publish */
        size_t text_len;
        uint64_t generation;
        char why[FRAUD_HTTP_REASON_MAX];
};

struct http_conn {
        bool answered;
};

static const int http_status_codes[FRAUD_HTTP_STATUSES] = {200, 404, 405, 413, 503};

int fraud_http_status_code(enum fraud_http_status s) {
        return s < FRAUD_HTTP_STATUSES ? http_status_codes[s] : 0;
}

__attribute__((format(printf, 4, 5))) static int http_fail(char *buf, size_t size, int rc,
                                                           const char *fmt, ...) {
        va_list ap;

        if (buf && size) {
                va_start(ap, fmt);
                vsnprintf(buf, size, fmt, ap);
                va_end(ap);
        }
        return rc;
}

/* ---- the listen address ---- */

static bool http_host_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
}

/* The port after the last ':' (decimal, 0..65535, no sign). */
static int http_port_parse(const char *s, uint16_t *port, char *why, size_t why_size) {
        unsigned long v = 0;

        if (!*s)
                return http_fail(why, why_size, -EINVAL, "no port after ':'");
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9' || p - s >= 5)
                        return http_fail(why, why_size, -EINVAL, "port '%.8s' is not 0 to 65535",
                                         s);
                v = v * 10 + (unsigned long)(*p - '0');
        }
        if (v > 65535)
                return http_fail(why, why_size, -EINVAL, "port %lu is not 0 to 65535", v);
        *port = (uint16_t)v;
        return 0;
}

int fraud_http_listen_parse(const char *address, char *host, uint16_t *port, char *why,
                            size_t why_size) {
        const char *colon, *start = address, *end;

        if (strlen(address) > FRAUD_HTTP_LISTEN_MAX)
                return http_fail(why, why_size, -EINVAL, "longer than %d bytes",
                                 FRAUD_HTTP_LISTEN_MAX);
        colon = strrchr(address, ':');
        if (!colon)
                return http_fail(why, why_size, -EINVAL, "expected host:port, like 127.0.0.1:9101");
        end = colon;
        if (address[0] == '[') { /* [v6]:port */
                if (colon == address || colon[-1] != ']')
                        return http_fail(why, why_size, -EINVAL,
                                         "expected [address]:port for IPv6");
                start = address + 1;
                end = colon - 1;
        }
        for (const char *p = start; p < end; p++)
                if (!http_host_char(*p) && !(start != address && (*p == ':' || *p == '%')))
                        return http_fail(why, why_size, -EINVAL,
                                         "bad character '%c' in host (IPv6 goes in brackets: "
                                         "[::1]:9101)",
                                         *p);
        if (end == start)
                return http_fail(why, why_size, -EINVAL, "no host before ':'");
        if (end - start > FRAUD_HTTP_HOST_MAX)
                return http_fail(why, why_size, -EINVAL, "host longer than %d bytes",
                                 FRAUD_HTTP_HOST_MAX);
        memcpy(host, start, (size_t)(end - start));
        host[end - start] = '\0';
        return http_port_parse(colon + 1, port, why, why_size);
}

int fraud_http_listen_check(const char *address, char *why, size_t why_size) {
        char host[FRAUD_HTTP_HOST_MAX + 1];
        uint16_t port;

        if (!address[0])
                return 0;
        return fraud_http_listen_parse(address, host, &port, why, why_size);
}

/* Binds a socket to the first address host resolves to, and listens.
 * The fd, or -errno. */
static int http_bind(const struct addrinfo *ai) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc;

        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
                rc = -errno;
                close(fd);
                return rc;
        }
        return fd;
}

int fraud_http_socket_open(const char *address, uint16_t *bound, char *err, size_t err_size) {
        const struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                       .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
        char host[FRAUD_HTTP_HOST_MAX + 1], service[8], why[128];
        struct sockaddr_storage ss;
        socklen_t ss_len = sizeof(ss);
        struct addrinfo *ai;
        uint16_t port;
        int fd, rc;

        if ((rc = fraud_http_listen_parse(address, host, &port, why, sizeof(why))) < 0)
                return http_fail(err, err_size, rc, "%s: %s", address, why);
        snprintf(service, sizeof(service), "%u", (unsigned)port);
        if ((rc = getaddrinfo(host, service, &hints, &ai)) != 0)
                return http_fail(err, err_size, -EINVAL, "%s: %s", address, gai_strerror(rc));
        fd = http_bind(ai);
        freeaddrinfo(ai);
        if (fd < 0)
                return http_fail(err, err_size, fd, "%s: %s", address, strerror(-fd));
        if (getsockname(fd, (struct sockaddr *)&ss, &ss_len) < 0) {
                rc = -errno;
                close(fd);
                return http_fail(err, err_size, rc, "%s: %s", address, strerror(-rc));
        }
        *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
        return fd;
}

/* ---- answers (the server's thread) ---- */

static int64_t http_mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void http_answered(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

        if (ci && ci->socket_context)
                ((struct http_conn *)ci->socket_context)->answered = true;
}

/* Queues r (taken) with status s; counts it. */
static enum MHD_Result http_queue(struct fraud_http *h, struct MHD_Connection *c,
                                  struct MHD_Response *r, enum fraud_http_status s,
                                  const char *type) {
        enum MHD_Result q = MHD_NO;

        if (!r)
                return MHD_NO;
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
            (s != FRAUD_HTTP_405 ||
             MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET") == MHD_YES))
                q = MHD_queue_response(c, (unsigned)http_status_codes[s], r);
        MHD_destroy_response(r);
        if (q == MHD_YES) {
                atomic_fetch_add_explicit(&h->responses[s], 1, memory_order_relaxed);
                http_answered(c);
        }
        return q;
}

__attribute__((format(printf, 4, 5))) static enum MHD_Result http_text(struct fraud_http *h,
                                                                       struct MHD_Connection *c,
                                                                       enum fraud_http_status s,
                                                                       const char *fmt, ...) {
        char body[FRAUD_HTTP_REASON_MAX + 128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(body, sizeof(body), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t)n >= sizeof(body))
                n = (int)sizeof(body) - 1;
        return http_queue(h, c,
                          MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY),
                          s, HTTP_TEXT_PLAIN);
}

static enum MHD_Result http_healthz(struct fraud_http *h, struct MHD_Connection *c) {
        int64_t age = http_mono_ns() - atomic_load(&h->step_ns);

        if (atomic_load(&h->phase) == FRAUD_HTTP_RUNNING && age > h->stall_ns)
                return http_text(h, c, FRAUD_HTTP_503,
                                 "stalled: the last step began %lld ms ago (limit %lld ms)\n",
                                 (long long)(age / 1000000), (long long)(h->stall_ns / 1000000));
        return http_text(h, c, FRAUD_HTTP_200, "ok\n");
}

static enum MHD_Result http_readyz(struct fraud_http *h, struct MHD_Connection *c) {
        char why[FRAUD_HTTP_REASON_MAX];

        if (atomic_load(&h->phase) == FRAUD_HTTP_STOPPING)
                return http_text(h, c, FRAUD_HTTP_503, "not ready: stopping\n");
        if (atomic_load(&h->ready))
                return http_text(h, c, FRAUD_HTTP_200, "ready\n");
        pthread_mutex_lock(&h->lock);
        memcpy(why, h->why, sizeof(why));
        pthread_mutex_unlock(&h->lock);
        return http_text(h, c, FRAUD_HTTP_503, "not ready: %s\n", why[0] ? why : "starting");
}

/* Waits (lock held) up to FRAUD_HTTP_METRICS_WAIT_MS for a text newer than
 * the one there, while a running loop can render one. */
static void http_metrics_wait(struct fraud_http *h) {
        uint64_t seen = h->generation;
        struct timespec deadline;

        if (atomic_load(&h->phase) != FRAUD_HTTP_RUNNING)
                return;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += (long)FRAUD_HTTP_METRICS_WAIT_MS * 1000000;
        deadline.tv_sec += deadline.tv_nsec / 1000000000;
        deadline.tv_nsec %= 1000000000;
        atomic_store(&h->wanted, true);
        atomic_store(&h->scraped_ns, http_mono_ns());
        while (h->generation == seen)
                if (pthread_cond_timedwait(&h->fresh, &h->lock, &deadline) == ETIMEDOUT)
                        break;
}

static enum MHD_Result http_metrics(struct fraud_http *h, struct MHD_Connection *c) {
        struct MHD_Response *r = NULL;
        bool none;

        pthread_mutex_lock(&h->lock);
        http_metrics_wait(h);
        none = !h->text;
        if (!none)
                r = MHD_create_response_from_buffer(h->text_len, h->text, MHD_RESPMEM_MUST_COPY);
        pthread_mutex_unlock(&h->lock);
        if (none)
                return http_text(h, c, FRAUD_HTTP_503, "no metrics yet\n");
        return http_queue(h, c, r, FRAUD_HTTP_200, HTTP_TEXT_METRICS);
}

static bool http_has_body(struct MHD_Connection *c) {
        const char *len =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

        return (len && strcmp(len, "0") != 0) ||
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Every request is answered on the first call, once its headers are in: a
 * body is never read (libmicrohttpd closes the connection after an answer
 * that left one unread). */
static enum MHD_Result http_answer(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **request) {
        struct fraud_http *h = cls;

        (void)version;
        (void)upload_data;
        (void)upload_data_size;
        (void)request;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
                return http_text(h, c, FRAUD_HTTP_405, "method not allowed: only GET\n");
        if (http_has_body(c))
                return http_text(h, c, FRAUD_HTTP_413, "a request body is not accepted\n");
        if (strcmp(url, "/metrics") == 0)
                return http_metrics(h, c);
        if (strcmp(url, "/healthz") == 0)
                return http_healthz(h, c);
        if (strcmp(url, "/readyz") == 0)
                return http_readyz(h, c);
        return http_text(h, c, FRAUD_HTTP_404, "not found: /metrics, /healthz or /readyz\n");
}

static void http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                               enum MHD_ConnectionNotificationCode code) {
        struct fraud_http *h = cls;
        struct http_conn *hc = *socket_context;

        (void)c;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                *socket_context = calloc(1, sizeof(struct http_conn));
                atomic_fetch_add_explicit(&h->connections, 1, memory_order_relaxed);
                return;
        }
        if (!hc || !hc->answered)
                atomic_fetch_add_explicit(&h->errors, 1, memory_order_relaxed);
        free(hc);
        *socket_context = NULL;
}

/* ---- life cycle ---- */

static int http_sync_init(struct fraud_http *h) {
        pthread_condattr_t attr;
        int rc;

        if ((rc = pthread_condattr_init(&attr)) != 0)
                return -rc;
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (rc == 0)
                rc = pthread_cond_init(&h->fresh, &attr);
        pthread_condattr_destroy(&attr);
        if (rc != 0)
                return -rc;
        if ((rc = pthread_mutex_init(&h->lock, NULL)) != 0) {
                pthread_cond_destroy(&h->fresh);
                return -rc;
        }
        return 0;
}

int fraud_http_new(const char *address, int64_t stall_ms, struct fraud_http **out, char *err,
                   size_t err_size) {
        struct fraud_http *h;
        int fd, rc;

        *out = NULL;
        if (stall_ms <= 0)
                return http_fail(err, err_size, -EINVAL, "stall limit must be positive");
        if (!(h = calloc(1, sizeof(*h))))
                return http_fail(err, err_size, -ENOMEM, "out of memory");
        if ((rc = http_sync_init(h)) < 0) {
                free(h);
                return http_fail(err, err_size, rc, "%s", strerror(-rc));
        }
        h->stall_ns = stall_ms * 1000000;
        atomic_store(&h->phase, FRAUD_HTTP_STARTING);
        fd = fraud_http_socket_open(address, &h->port, err, err_size);
        if (fd < 0) {
                fraud_http_free(h);
                return fd;
        }
        /* On failure libmicrohttpd may already have closed fd: it is left as
         * it is rather than risk closing a descriptor another thread has
         * opened since. */
        h->daemon = MHD_start_daemon(
                MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, http_answer, h,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)FRAUD_HTTP_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t)FRAUD_HTTP_REQUEST_BYTES_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)FRAUD_HTTP_TIMEOUT_SEC, MHD_OPTION_NOTIFY_CONNECTION, http_on_connection,
                h, MHD_OPTION_END);
        if (!h->daemon) {
                fraud_http_free(h);
                return http_fail(err, err_size, -EIO, "%s: the HTTP server did not start", address);
        }
        *out = h;
        return 0;
}

void fraud_http_free(struct fraud_http *h) {
        if (!h)
                return;
        if (h->daemon)
                MHD_stop_daemon(h->daemon);
        pthread_cond_destroy(&h->fresh);
        pthread_mutex_destroy(&h->lock);
        free(h->text);
        free(h);
}

uint16_t fraud_http_port(const struct fraud_http *h) {
        return h->port;
}

/* ---- the loop's side ---- */

void fraud_http_step(struct fraud_http *h, int64_t now_ns) {
        atomic_store(&h->step_ns, now_ns);
        if (atomic_load(&h->phase) == FRAUD_HTTP_STARTING)
                atomic_store(&h->phase, FRAUD_HTTP_RUNNING);
}

void fraud_http_stopping(struct fraud_http *h) {
        atomic_store(&h->phase, FRAUD_HTTP_STOPPING);
        atomic_store(&h->ready, false);
        /* wake waiting scrapes: nothing fresher will come */
        pthread_mutex_lock(&h->lock);
        pthread_cond_broadcast(&h->fresh);
        pthread_mutex_unlock(&h->lock);
}

void fraud_http_ready_set(struct fraud_http *h, bool ready, const char *why) {
        pthread_mutex_lock(&h->lock);
        snprintf(h->why, sizeof(h->why), "%s", why ? why : "");
        pthread_mutex_unlock(&h->lock);
        atomic_store(&h->ready, ready);
}

bool fraud_http_metrics_wanted(const struct fraud_http *h, int64_t now_ns) {
        int64_t scraped = atomic_load_explicit(&h->scraped_ns, memory_order_relaxed);

        if (atomic_load_explicit(&h->wanted, memory_order_relaxed))
                return true;
        return scraped != 0 && now_ns - scraped < (int64_t)FRAUD_HTTP_SCRAPED_MS * 1000000 &&
               now_ns - atomic_load_explicit(&h->published_ns, memory_order_relaxed) >=
                       (int64_t)FRAUD_HTTP_METRICS_REFRESH_MS * 1000000;
}

int fraud_http_metrics_publish(struct fraud_http *h, const char *text, size_t len) {
        char *copy, *old;

        if (len > FRAUD_HTTP_METRICS_BYTES_MAX)
                return -EMSGSIZE;
        if (!(copy = malloc(len + 1)))
                return -ENOMEM;
        memcpy(copy, text, len);
        copy[len] = '\0';
        pthread_mutex_lock(&h->lock);
        old = h->text;
        h->text = copy;
        h->text_len = len;
        h->generation++;
        atomic_store(&h->wanted, false);
        atomic_store(&h->published_ns, http_mono_ns());
        pthread_cond_broadcast(&h->fresh);
        pthread_mutex_unlock(&h->lock);
        free(old);
        return 0;
}

void fraud_http_counters(const struct fraud_http *h, struct fraud_http_counters *out) {
        out->connections = atomic_load_explicit(&h->connections, memory_order_relaxed);
        out->errors = atomic_load_explicit(&h->errors, memory_order_relaxed);
        for (int i = 0; i < FRAUD_HTTP_STATUSES; i++)
                out->responses[i] = atomic_load_explicit(&h->responses[i], memory_order_relaxed);
}
