/* http.h: a daemon's operations endpoint: Prometheus metrics, liveness and
 * readiness over HTTP (libmicrohttpd).
 *
 *   GET /metrics   200, the last metrics text the loop published
 *                  (Content-Type: text/plain; version=0.0.4); 503 before
 *                  the first.
 *   GET /healthz   200 "ok" while the loop is alive: it has not started
 *                  yet, it stops, or its last step began at most stall_ms
 *                  ago; else 503 "stalled: ...".
 *   GET /readyz    200 "ready" once the loop said so, else 503 with the
 *                  reason the loop gave ("waiting for ...").
 *   other paths    404;  a method other than GET: 405 (Allow: GET);
 *   a request with a body: 413;  a request line and headers over
 *   FRAUD_HTTP_REQUEST_BYTES_MAX: refused by libmicrohttpd (431 or 414).
 *
 * Threads.  The server answers from libmicrohttpd's own thread
 * (MHD_USE_INTERNAL_POLLING_THREAD), not from the stage's loop.  Serving
 * from the loop (MHD_run() once per step, no thread) would tie every
 * answer to the loop's next step, and a step is not always short: the
 * trainer trains a whole round inside one step (minutes), and any stage
 * waits up to the delivery timeout for its delivery reports at a
 * checkpoint.  A liveness probe that gets no answer for that long kills
 * a healthy daemon (a trainer would never finish a round), and a stuck
 * loop could not even say that it is stuck.  With the thread, /healthz
 * always answers, from the time the loop last stepped.
 *
 * The thread never touches the stage.  It reads only what the loop
 * hands over: the time of the loop's last step and its phase (atomics),
 * the readiness and its reason, and the metrics text, which the loop
 * renders itself (it owns the registries, and a stage's registry is
 * updated with plain stores) and publishes as a whole under a mutex.  The
 * loop renders only when asked: a GET /metrics sets a flag and waits up to
 * FRAUD_HTTP_METRICS_WAIT_MS for a text rendered after its arrival, which
 * the loop makes at the end of its step.  The wait is short, because it
 * holds up the server's one thread (a /healthz behind it), so a loop whose
 * step is longer leaves the scrape the previous text; that text is at most
 * FRAUD_HTTP_METRICS_REFRESH_MS older than the step in progress, because
 * for FRAUD_HTTP_SCRAPED_MS after a scrape the loop also renders that
 * often.  An endpoint nobody scrapes costs the loop one atomic load per
 * step.
 *
 * Limits: FRAUD_HTTP_CONNECTIONS_MAX connections at once (more are
 * closed at accept), FRAUD_HTTP_REQUEST_BYTES_MAX of request line and
 * headers per connection, FRAUD_HTTP_TIMEOUT_SEC of idleness per
 * connection, FRAUD_HTTP_METRICS_BYTES_MAX of metrics text.  Responses are
 * counted by status code; a connection that closes without any answer of
 * ours (refused as too large or malformed, timed out, reset) counts as an
 * error.
 *
 * The listen address is "host:port": a dotted IPv4 address, a bracketed
 * IPv6 address ([::1]:9101) or a host name, resolved once at start (the
 * first address it resolves to is bound); port 0 binds any free port,
 * which fraud_http_port() then tells.  An empty address means no endpoint
 * (the caller does not create one).
 *
 * Errors: -errno, with the reason in err.  Nothing here logs.
 */
#ifndef FRAUD_HTTP_H
#define FRAUD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAUD_HTTP_CONNECTIONS_MAX    16        /* connections served at once */
#define FRAUD_HTTP_REQUEST_BYTES_MAX  8192      /* request line and headers, per connection */
#define FRAUD_HTTP_TIMEOUT_SEC        10        /* an idle connection is closed after this */
#define FRAUD_HTTP_METRICS_BYTES_MAX  (4 << 20) /* one metrics text */
#define FRAUD_HTTP_METRICS_WAIT_MS    250       /* a scrape waits this long for a fresh text */
#define FRAUD_HTTP_METRICS_REFRESH_MS 1000      /* while scraped, a text at least this often */
#define FRAUD_HTTP_SCRAPED_MS         120000    /* "scraped": a scrape came within this long */
#define FRAUD_HTTP_REASON_MAX         256       /* bytes of a readiness reason */
#define FRAUD_HTTP_HOST_MAX           255       /* bytes of the host of a listen address */
#define FRAUD_HTTP_LISTEN_MAX         (FRAUD_HTTP_HOST_MAX + 8) /* "host:65535" and brackets */

struct fraud_http;

/* What the loop is doing, for /healthz and /readyz. */
enum fraud_http_phase {
        FRAUD_HTTP_STARTING, /* before the loop's first step: alive, not ready */
        FRAUD_HTTP_RUNNING,  /* alive while the last step began within stall_ms */
        FRAUD_HTTP_STOPPING, /* shutting down: alive, not ready */
};

/* Responses by status code, and connections that got none. */
enum fraud_http_status {
        FRAUD_HTTP_200,
        FRAUD_HTTP_404,
        FRAUD_HTTP_405,
        FRAUD_HTTP_413,
        FRAUD_HTTP_503,
        FRAUD_HTTP_STATUSES,
};

struct fraud_http_counters {
        uint64_t connections;                    /* accepted */
        uint64_t responses[FRAUD_HTTP_STATUSES]; /* by enum fraud_http_status */
        uint64_t errors;                         /* connections closed without our answer */
};

/* The HTTP status code of s (200, 404, ...). */
int fraud_http_status_code(enum fraud_http_status s);

/* Checks a listen address: "" (no endpoint) or host:port as above.  0, or
 * -EINVAL with the reason in why.  Pure: resolves nothing. */
int fraud_http_listen_check(const char *address, char *why, size_t why_size);

/* A listening TCP socket (close-on-exec, SO_REUSEADDR) on address
 * ("host:port", port 0: any free port), and the port it got in *bound.
 * The fd, or -errno with "address: reason" in err.  For any embedded
 * server that runs its own libmicrohttpd (the dashboard's page). */
int fraud_http_socket_open(const char *address, uint16_t *bound, char *err, size_t err_size);

/* Splits host:port into host (FRAUD_HTTP_HOST_MAX + 1 bytes, brackets
 * removed) and port.  0 or -EINVAL with the reason in why. */
int fraud_http_listen_parse(const char *address, char *host, uint16_t *port, char *why,
                            size_t why_size);

/* Resolves address (not "") and starts serving on it, in the phase
 * STARTING.  stall_ms (> 0) is how long a step may take before /healthz
 * says the loop stalled.  On success *out owns the server (release with
 * fraud_http_free()); -errno (-EADDRINUSE, -EACCES, -EINVAL for a bad or
 * unresolvable address, ...) with the reason in err. */
int fraud_http_new(const char *address, int64_t stall_ms, struct fraud_http **out, char *err,
                   size_t err_size);

/* Stops the server (its thread is joined) and frees.  NULL is a no-op. */
void fraud_http_free(struct fraud_http *h);

/* The bound port (the one chosen when the address asked for port 0). */
uint16_t fraud_http_port(const struct fraud_http *h);

/* ---- from the loop's thread ---- */

/* The loop begins a step now (fraud_time_mono_ns()); from STARTING this
 * makes the phase RUNNING. */
void fraud_http_step(struct fraud_http *h, int64_t now_ns);

/* The loop shuts down: /healthz says ok, /readyz "stopping". */
void fraud_http_stopping(struct fraud_http *h);

/* Ready or not, and why not (copied; cut to FRAUD_HTTP_REASON_MAX). */
void fraud_http_ready_set(struct fraud_http *h, bool ready, const char *why);

/* True when a scrape waits for a fresh metrics text, or when the endpoint
 * is being scraped and the last text is FRAUD_HTTP_METRICS_REFRESH_MS old
 * (now_ns: fraud_time_mono_ns()). */
bool fraud_http_metrics_wanted(const struct fraud_http *h, int64_t now_ns);

/* Publishes a metrics text (copied) and wakes the scrapes that wait for
 * it.  0, -EMSGSIZE beyond FRAUD_HTTP_METRICS_BYTES_MAX, -ENOMEM. */
int fraud_http_metrics_publish(struct fraud_http *h, const char *text, size_t len);

/* A copy of the counters (any thread). */
void fraud_http_counters(const struct fraud_http *h, struct fraud_http_counters *out);

#endif
