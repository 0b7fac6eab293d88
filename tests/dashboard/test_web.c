/* Tests for dashboard/web.c: the page's server on a loopback port, driven
 * by this one thread as the stage's loop drives it (web_run()), spoken to
 * over plain sockets. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/web.h"
#include "tests/testing.h"

#define PUMP_MS 3000 /* longest wait for an answer */

struct hook_calls {
        int calls;
        char id[256], verdict[32];
        unsigned code;
};

static unsigned fake_review(void *ctx, const char *id, const char *verdict, char *answer,
                            size_t size) {
        struct hook_calls *h = ctx;

        h->calls++;
        snprintf(h->id, sizeof(h->id), "%s", id);
        snprintf(h->verdict, sizeof(h->verdict), "%s", verdict);
        snprintf(answer, size, "{\"status\":\"fake\",\"id\":\"%s\"}", id);
        return h->code;
}

static struct web *web_start(struct hook_calls *h) {
        const struct web_hooks hooks = {.review = fake_review, .ctx = h};
        char err[256];
        struct web *w;

        ck_assert_msg(web_new("127.0.0.1:0", &hooks, &w, err, sizeof(err)) == 0, "%s", err);
        ck_assert_uint_gt(web_port(w), 0);
        return w;
}

static int client(const struct web *w) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(web_port(w))};
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
        return fd;
}

static void say(int fd, const char *text) {
        size_t n = strlen(text);

        ck_assert_int_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

static int64_t mono_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serves and reads fd (appending to buf) until want is in buf, the peer
 * closes, or PUMP_MS pass.  Returns whether want was found. */
static int pump(struct web *w, int fd, char *buf, size_t size, const char *want) {
        size_t len = strlen(buf);
        int64_t end = mono_ms() + PUMP_MS;

        while (mono_ms() < end) {
                ssize_t n;
                ck_assert_int_eq(web_run(w, 5), 0);
                n = recv(fd, buf + len, size - 1 - len, 0);
                if (n > 0) {
                        len += (size_t)n;
                        buf[len] = '\0';
                }
                if (want && strstr(buf, want))
                        return 1;
                if (n == 0)
                        return 0;
        }
        return 0;
}

/* One request on a new connection; the answer (headers and body) in buf. */
static void ask(struct web *w, const char *request, char *buf, size_t size, const char *want) {
        int fd = client(w);

        buf[0] = '\0';
        say(fd, request);
        pump(w, fd, buf, size, want);
        close(fd);
}

static char *post(const char *path, const char *type, const char *origin, const char *body) {
        static char req[2048];

        snprintf(req, sizeof(req),
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s%s%sContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 path, type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "",
                 origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "", strlen(body),
                 body);
        return req;
}

START_TEST(test_web_serves_the_page_with_its_policy) {
        struct hook_calls h = {0};
        struct web *w = web_start(&h);
        static char buf[1 << 20];

        ask(w, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf),
            "</html>");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%.200s", buf);
        ck_assert_ptr_nonnull(strstr(buf, "Content-Security-Policy: default-src 'none'"));
        ck_assert_ptr_nonnull(strstr(buf, "text/html"));
        ck_assert_ptr_nonnull(strstr(buf, "<title>Fraud dashboard</title>"));
        ask(w, "GET /page.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf),
            "connect();");
        ck_assert_ptr_nonnull(strstr(buf, "text/javascript"));
        ask(w, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 404", 12) == 0, "%.200s", buf);
        ask(w, "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 405", 12) == 0, "%.200s", buf);
        ck_assert_ptr_nonnull(strstr(buf, "Allow: GET"));
        ask(w, "GET /api/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf),
            "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 503", 12) == 0, "%.200s", buf);
        ck_assert_int_eq(web_state(w, "{\"n\":1}", 7), 0);
        ask(w, "GET /api/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf),
            "{\"n\":1}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%.200s", buf);
        web_free(w);
}
END_TEST

START_TEST(test_web_verdict_reaches_the_hook) {
        struct hook_calls h = {.code = 200};
        struct web *w = web_start(&h);
        struct web_counters k;
        char buf[4096];

        ask(w, post("/reviews/tx-77", "application/json", NULL, " { \"verdict\" : \"fraud\" } "),
            buf, sizeof(buf), "fake");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%.300s", buf);
        ck_assert_ptr_nonnull(strstr(buf, "{\"status\":\"fake\",\"id\":\"tx-77\"}"));
        ck_assert_int_eq(h.calls, 1);
        ck_assert_str_eq(h.id, "tx-77");
        ck_assert_str_eq(h.verdict, "fraud");
        h.code = 409;
        ask(w,
            post("/reviews/tx%2D78", "application/json; charset=utf-8", "http://127.0.0.1",
                 "{\"verdict\":\"legit\"}"),
            buf, sizeof(buf), "fake");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 409", 12) == 0, "%.300s", buf);
        ck_assert_str_eq(h.id, "tx-78"); /* the path is unescaped */
        ck_assert_str_eq(h.verdict, "legit");
        web_counters(w, &k);
        ck_assert_uint_eq(k.reviews, 2);
        web_free(w);
}
END_TEST

/* What a page of another origin could send is refused before the hook. */
START_TEST(test_web_refuses_verdicts_that_are_not_json_from_this_origin) {
        struct hook_calls h = {.code = 200};
        struct web *w = web_start(&h);
        char big[WEB_BODY_BYTES_MAX + 64], buf[4096];

        ask(w, post("/reviews/tx-1", "text/plain", NULL, "{\"verdict\":\"fraud\"}"), buf,
            sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 415", 12) == 0, "%.300s", buf);
        ask(w,
            post("/reviews/tx-1", "application/json", "http://evil.example",
                 "{\"verdict\":\"fraud\"}"),
            buf, sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 403", 12) == 0, "%.300s", buf);
        ask(w, post("/reviews/tx-1", "application/json", NULL, "verdict=fraud"), buf, sizeof(buf),
            "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 400", 12) == 0, "%.300s", buf);
        memset(big, ' ', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ask(w, post("/reviews/tx-1", "application/json", NULL, big), buf, sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 413", 12) == 0, "%.300s", buf);
        ask(w, "GET /reviews/tx-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf,
            sizeof(buf), "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 405", 12) == 0, "%.300s", buf);
        ck_assert_ptr_nonnull(strstr(buf, "Allow: POST"));
        ck_assert_int_eq(h.calls, 0);
        web_free(w);
}
END_TEST

START_TEST(test_web_stream_sends_the_latest_state_then_every_event) {
        struct hook_calls h = {0};
        struct web *w = web_start(&h);
        static char a[1 << 16], b[1 << 16];
        int fa = client(w), fb;

        say(fa, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert(pump(w, fa, a, sizeof(a), "retry: 2000\n\n"));
        ck_assert_ptr_nonnull(strstr(a, "text/event-stream"));
        ck_assert_int_eq(web_send(w, "decisions", "[0]", 3), 0);
        ck_assert(pump(w, fa, a, sizeof(a), "event: decisions\ndata: [0]\n\n"));
        ck_assert_int_eq(web_state(w, "{\"s\":1}", 7), 0);
        ck_assert(pump(w, fa, a, sizeof(a), "event: state\ndata: {\"s\":1}\n\n"));
        ck_assert_int_eq(web_send(w, "decisions", "[1,2]", 5), 0);
        ck_assert(pump(w, fa, a, sizeof(a), "event: decisions\ndata: [1,2]\n\n"));
        /* A stream opened later starts at the latest state (and what came
         * after it), not before it. */
        fb = client(w);
        say(fb, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert(pump(w, fb, b, sizeof(b), "data: {\"s\":1}\n\n"));
        ck_assert_int_eq(web_send(w, "decisions", "[3]", 3), 0);
        ck_assert(pump(w, fb, b, sizeof(b), "data: [3]\n\n"));
        ck_assert(pump(w, fa, a, sizeof(a), "data: [3]\n\n"));
        ck_assert_ptr_nonnull(strstr(b, "data: [1,2]\n\n"));
        ck_assert_ptr_null(strstr(b, "data: [0]"));
        close(fa);
        close(fb);
        web_free(w);
}
END_TEST

/* Frames sent while a stream does not read leave the ring: the stream
 * ends (the page reconnects) and is counted. */
START_TEST(test_web_stream_that_falls_behind_is_ended) {
        struct hook_calls h = {0};
        struct web *w = web_start(&h);
        struct web_counters k;
        static char a[1 << 16];
        int fa = client(w);

        say(fa, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert(pump(w, fa, a, sizeof(a), "retry: 2000\n\n"));
        for (int i = 0; i < 2 * WEB_FRAMES_MAX; i++)
                ck_assert_int_eq(web_send(w, "decisions", "[0]", 3), 0);
        ck_assert(pump(w, fa, a, sizeof(a), "\r\n0\r\n\r\n")); /* the chunked end */
        ck_assert_ptr_null(strstr(a, "data: [0]"));
        web_counters(w, &k);
        ck_assert_uint_eq(k.streams_ended, 1);
        ck_assert_uint_eq(k.streams_now, 0);
        close(fa);
        web_free(w);
}
END_TEST

START_TEST(test_web_refuses_streams_beyond_its_limit) {
        struct hook_calls h = {0};
        struct web *w = web_start(&h);
        int fds[WEB_STREAMS_MAX];
        static char buf[4096];

        for (int i = 0; i < WEB_STREAMS_MAX; i++) {
                buf[0] = '\0';
                fds[i] = client(w);
                say(fds[i], "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
                ck_assert(pump(w, fds[i], buf, sizeof(buf), "retry:"));
        }
        ask(w, "GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf),
            "}");
        ck_assert_msg(strncmp(buf, "HTTP/1.1 503", 12) == 0, "%.200s", buf);
        for (int i = 0; i < WEB_STREAMS_MAX; i++)
                close(fds[i]);
        web_free(w); /* suspended streams resumed and freed before the stop */
}
END_TEST

START_TEST(test_web_verdict_body_and_id_rules) {
        char v[16];

        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"fraud\"}", 19, v, sizeof(v)), 0);
        ck_assert_str_eq(v, "fraud");
        ck_assert_int_eq(web_verdict_parse("\n{ \"verdict\"\t:\"legit\" }\r\n", 25, v, sizeof(v)),
                         0);
        ck_assert_str_eq(v, "legit");
        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"fraud\",\"x\":1}", 25, v, sizeof(v)),
                         -EINVAL);
        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"\"}", 14, v, sizeof(v)), -EINVAL);
        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"Fraud\"}", 19, v, sizeof(v)), -EINVAL);
        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"fraud\"", 18, v, sizeof(v)), -EINVAL);
        ck_assert_int_eq(web_verdict_parse("{\"verdict\":\"abcdefghijklmnopq\"}", 31, v, 16),
                         -EINVAL);
        ck_assert(web_id_ok("tx-1"));
        ck_assert(!web_id_ok(""));
        ck_assert(!web_id_ok("a/b"));
        ck_assert(!web_id_ok("a b"));
        ck_assert(!web_id_ok("a\x01"));
}
END_TEST

START_TEST(test_web_says_why_it_cannot_listen) {
        const struct web_hooks hooks = {.review = fake_review};
        struct hook_calls h = {0};
        struct web *w = web_start(&h), *w2;
        char err[256], addr[64];

        snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)web_port(w));
        ck_assert_int_eq(web_new(addr, &hooks, &w2, err, sizeof(err)), -EADDRINUSE);
        ck_assert_ptr_nonnull(strstr(err, addr));
        ck_assert_int_eq(web_new("127.0.0.1", &hooks, &w2, err, sizeof(err)), -EINVAL);
        web_free(w);
}
END_TEST

TESTING_MAIN("web", test_web_serves_the_page_with_its_policy, test_web_verdict_reaches_the_hook,
             test_web_refuses_verdicts_that_are_not_json_from_this_origin,
             test_web_stream_sends_the_latest_state_then_every_event,
             test_web_stream_that_falls_behind_is_ended, test_web_refuses_streams_beyond_its_limit,
             test_web_verdict_body_and_id_rules, test_web_says_why_it_cannot_listen)
