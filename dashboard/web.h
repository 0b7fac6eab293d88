/* web.h: the analyst's page of fraud-dashboard over HTTP (libmicrohttpd),
 * served from the stage's own loop.
 *
 *   GET  /                the page (page.html), /page.css, /page.js: built
 *                         into the binary (dashboard/page_assets.c, made by
 *                         tools/embed.py), nothing fetched from elsewhere
 *   GET  /events          the live event stream (Server-Sent Events): first
 *                         the latest "state", then every event the loop
 *                         sends (web_send(), web_state()) as it sends it
 *   GET  /api/state       the latest state (JSON), 503 before the first
 *   POST /reviews/<id>    an analyst's verdict on the review item <id>:
 *                         body {"verdict":"fraud"} or {"verdict":"legit"},
 *                         Content-Type application/json; the hook decides
 *                         and answers (JSON)
 *   anything else         404; a method a path does not take: 405 (Allow).
 *
 * One thread.  Unlike the operations endpoint (lib/http.h), which answers
 * from libmicrohttpd's own thread so that /healthz answers whatever the
 * loop does, this server runs inside the stage's loop (libmicrohttpd's
 * "external" mode): web_run() serves whatever is pending, waiting at most
 * its argument for something to arrive.  So the hooks run in the loop's
 * thread and read and change the stage's state directly, without a lock;
 * a verdict is decided, published and answered in one call.  The cost: an
 * answer waits for the loop's current step (a batch of records, a few
 * milliseconds), which a person at a page does not notice.
 *
 * The event stream: each event is one frame ("event: NAME\ndata:
 * JSON\n\n"), kept in a ring of WEB_FRAMES_MAX frames that every stream
 * reads at its own pace.  A stream that has sent everything is suspended
 * (it costs nothing) and resumed by the next frame.  A stream that falls
 * so far behind that its next frame has left the ring (a slow network) is
 * ended, and counted; the browser's EventSource reconnects after the
 * "retry" delay and starts again from the latest state.  At most
 * WEB_STREAMS_MAX streams at once (more: 503).
 *
 * Safety: the page is served with a Content-Security-Policy that allows
 * only its own script, style and connections ('self'), and nosniff.  A
 * verdict must come as application/json, which a page of another origin
 * cannot send without a CORS preflight that this server refuses (405), and
 * a request whose Origin names another host than its Host is refused
 * (403): no cross-site request can close a review.  There is no
 * authentication: listen on loopback (the default) or behind a proxy that
 * authenticates the analysts.
 *
 * Limits: WEB_CONNECTIONS_MAX connections at once, WEB_CONNECTION_BYTES_MAX
 * of libmicrohttpd's memory per connection (the request line and headers
 * must fit in it), WEB_BODY_BYTES_MAX of body (else 413),
 * WEB_TIMEOUT_SEC of idleness (an event stream sends a state every
 * second, so it never idles).
 *
 * Errors: -errno, with the reason in err.  Nothing here logs.
 */
#ifndef FRAUD_DASHBOARD_WEB_H
#define FRAUD_DASHBOARD_WEB_H

#include <stddef.h>
#include <stdint.h>

#define WEB_CONNECTIONS_MAX      32          /* connections at once, streams included */
#define WEB_STREAMS_MAX          16          /* event streams at once */
#define WEB_FRAMES_MAX           64          /* event frames kept for the streams */
#define WEB_FRAME_BYTES_MAX      (8u << 20)  /* one event frame */
#define WEB_CONNECTION_BYTES_MAX (64u << 10) /* libmicrohttpd's memory per connection */
#define WEB_BODY_BYTES_MAX       256         /* a verdict's body */
#define WEB_ANSWER_BYTES_MAX     1024        /* a verdict's answer */
#define WEB_TIMEOUT_SEC          30          /* an idle connection is closed after this */
#define WEB_RETRY_MS             2000        /* the streams' reconnection delay (SSE retry) */

struct web;

/* What the page asks of the stage, called from web_run() in the loop's
 * thread. */
struct web_hooks {
        /* A verdict on the review item id ("fraud" or "legit" as given):
         * returns the HTTP status and writes the JSON answer (NUL-terminated)
         * into answer. */
        unsigned (*review)(void *ctx, const char *id, const char *verdict, char *answer,
                           size_t answer_size);
        void *ctx;
};

struct web_counters {
        uint64_t connections;    /* accepted */
        uint64_t requests;       /* answered, event streams included */
        uint64_t errors;         /* answered 4xx or 5xx */
        uint64_t reviews;        /* verdict requests that reached the hook */
        uint64_t streams_opened; /* event streams */
        uint64_t streams_now;    /* open now */
        uint64_t streams_ended;  /* ended for falling behind */
        uint64_t frames;         /* event frames sent to the ring */
};

/* Starts serving on address ("host:port", port 0: any free port; see
 * lib/http.h for the form).  hooks is copied.  0, or -errno with the
 * reason in err: -EINVAL (bad or unresolvable address), -EADDRINUSE,
 * -EACCES, -ENOMEM, -EIO (libmicrohttpd did not start). */
int web_new(const char *address, const struct web_hooks *hooks, struct web **out, char *err,
            size_t err_size);

/* Ends every stream and stops.  NULL is a no-op. */
void web_free(struct web *w);

/* The bound port. */
uint16_t web_port(const struct web *w);

/* Serves what is pending, waiting up to wait_ms (0: not at all) for
 * something to arrive.  0, or -EIO when libmicrohttpd fails. */
int web_run(struct web *w, int wait_ms);

/* Sends event `event` with data (one line of JSON, len bytes, copied) to
 * every stream.  0, -EMSGSIZE beyond WEB_FRAME_BYTES_MAX, -ENOMEM. */
int web_send(struct web *w, const char *event, const char *data, size_t len);

/* The latest state: sent as event "state", answered to GET /api/state and
 * sent first to every new stream.  As web_send(). */
int web_state(struct web *w, const char *data, size_t len);

void web_counters(const struct web *w, struct web_counters *out);

/* Parses a verdict's body: {"verdict":"WORD"} with any JSON white space;
 * copies WORD (letters only, shorter than size) into verdict.  0, or
 * -EINVAL.  (Exported for its tests.) */
int web_verdict_parse(const char *body, size_t len, char *verdict, size_t size);

/* Whether id is acceptable in /reviews/<id>: 1..DASHBOARD_ID_MAX-1 bytes,
 * printable ASCII, no '/'.  (Exported for its tests.) */
int web_id_ok(const char *id);

#endif
