/* Tests for lib/http.c: the endpoint on 127.0.0.1:0, spoken to with plain
 * sockets: /metrics serves what the loop publishes (a registry's text,
 * fresh when the loop answers the scrape's request), /healthz follows the
 * loop's steps, /readyz the readiness and its reason, 404, 405, 413, an
 * oversized request refused and counted, the connection limit, the listen
 * address's checks and a port in use. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/http.h"
#include "lib/metrics.h"
#include "lib/time.h"

#include "tests/testing.h"

#define RESPONSE_MAX (1 << 20)

struct response {
        int status; /* 0: no status line (the connection closed first) */
        char head[4096];
        char *body; /* NUL-terminated, owned */
};

static int connect_to(uint16_t port) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct timeval tv = {.tv_sec = 5};
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        ck_assert_int_ge(fd, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

/* Reads fd to its end and splits the status line, head and body. */
static void response_read(int fd, struct response *r) {
        char *buf = malloc(RESPONSE_MAX + 1), *end;
        size_t len = 0;
        ssize_t n;

        ck_assert_ptr_nonnull(buf);
        while (len < RESPONSE_MAX && (n = recv(fd, buf + len, RESPONSE_MAX - len, 0)) > 0)
                len += (size_t)n;
        buf[len] = '\0';
        memset(r, 0, sizeof(*r));
        if (sscanf(buf, "HTTP/1.1 %d", &r->status) != 1)
                r->status = 0;
        end = strstr(buf, "\r\n\r\n");
        if (end) {
                snprintf(r->head, sizeof(r->head), "%.*s", (int)(end - buf), buf);
                memmove(buf, end + 4, strlen(end + 4) + 1);
        } else {
                buf[0] = '\0';
        }
        r->body = buf;
}

/* Sends request as it is and reads the whole answer. */
static void http_raw(uint16_t port, const char *request, size_t len, struct response *r) {
        int fd = connect_to(port);

        ck_assert_int_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
        response_read(fd, r);
        close(fd);
}

static void http_do(uint16_t port, const char *method, const char *path, struct response *r) {
        char req[512];
        int n = snprintf(req, sizeof(req),
                         "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method, path);

        http_raw(port, req, (size_t)n, r);
}

static struct fraud_http *server(int64_t stall_ms) {
        struct fraud_http *h;
        char err[256];

        ck_assert_msg(fraud_http_new("127.0.0.1:0", stall_ms, &h, err, sizeof(err)) == 0, "%s",
                      err);
        ck_assert_uint_gt(fraud_http_port(h), 0);
        return h;
}

static char *registry_text(struct fraud_metrics *m) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fraud_metrics_write(m, f), 0);
        fclose(f);
        return buf;
}

START_TEST(test_http_metrics_serves_the_published_registry_text) {
        struct fraud_http *h = server(60000);
        struct fraud_metrics *m;
        struct response r;
        char *text;

        ck_assert_int_eq(fraud_metrics_new(&m), 0);
        *fraud_metrics_counter(m, "x_consumed_total", "", "Consumed.") = 42;
        *fraud_metrics_gauge(m, "x_lag", "{partition=\"0\"}", "Lag.") = 7;
        text = registry_text(m);
        http_do(fraud_http_port(h), "GET", "/metrics", &r);
        ck_assert_int_eq(r.status, 503); /* nothing published yet */
        free(r.body);
        ck_assert_int_eq(fraud_http_metrics_publish(h, text, strlen(text)), 0);
        http_do(fraud_http_port(h), "GET", "/metrics", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, text);
        ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
        free(r.body);
        free(text);
        fraud_metrics_free(m);
        fraud_http_free(h);
}
END_TEST

struct scrape {
        uint16_t port;
        struct response r;
};

static void *scrape_thread(void *arg) {
        struct scrape *s = arg;

        http_do(s->port, "GET", "/metrics", &s->r);
        return NULL;
}

/* A scrape while the loop runs asks for a fresh text and gets the one the
 * loop renders in answer, not the older one. */
START_TEST(test_http_metrics_scrape_gets_the_text_rendered_for_it) {
        struct fraud_http *h = server(60000);
        struct scrape s = {.port = fraud_http_port(h)};
        int64_t deadline = fraud_time_mono_ns() + INT64_C(5000000000), now;
        pthread_t t;

        fraud_http_step(h, fraud_time_mono_ns()); /* the loop runs */
        ck_assert_int_eq(fraud_http_metrics_publish(h, "old 1\n", 6), 0);
        ck_assert(!fraud_http_metrics_wanted(h, fraud_time_mono_ns()));
        ck_assert_int_eq(pthread_create(&t, NULL, scrape_thread, &s), 0);
        while (!fraud_http_metrics_wanted(h, fraud_time_mono_ns()) &&
               fraud_time_mono_ns() < deadline)
                usleep(1000);
        ck_assert(fraud_http_metrics_wanted(h, fraud_time_mono_ns()));
        ck_assert_int_eq(fraud_http_metrics_publish(h, "fresh 2\n", 8), 0);
        ck_assert(!fraud_http_metrics_wanted(h, fraud_time_mono_ns()));
        pthread_join(t, NULL);
        ck_assert_int_eq(s.r.status, 200);
        ck_assert_str_eq(s.r.body, "fresh 2\n");
        free(s.r.body);
        /* Scraped: a new text every FRAUD_HTTP_METRICS_REFRESH_MS, for a
         * while, even with no scrape waiting. */
        now = fraud_time_mono_ns();
        ck_assert(!fraud_http_metrics_wanted(h, now));
        ck_assert(fraud_http_metrics_wanted(h, now + (int64_t)FRAUD_HTTP_METRICS_REFRESH_MS *
                                                               1000000));
        ck_assert(!fraud_http_metrics_wanted(h, now + (int64_t)FRAUD_HTTP_SCRAPED_MS * 1000000));
        fraud_http_free(h);
}
END_TEST

/* A loop that does not render within the wait leaves the scrape the last
 * text. */
START_TEST(test_http_metrics_busy_loop_serves_the_last_text) {
        struct fraud_http *h = server(60000);
        struct response r;
        int64_t start;

        fraud_http_step(h, fraud_time_mono_ns());
        ck_assert_int_eq(fraud_http_metrics_publish(h, "last 3\n", 7), 0);
        start = fraud_time_mono_ns();
        http_do(fraud_http_port(h), "GET", "/metrics", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "last 3\n");
        ck_assert_int_ge(fraud_time_mono_ns() - start,
                         (int64_t)FRAUD_HTTP_METRICS_WAIT_MS * 1000000);
        free(r.body);
        fraud_http_free(h);
}
END_TEST

START_TEST(test_http_healthz_fails_when_the_last_step_is_older_than_the_limit) {
        struct fraud_http *h = server(1000);
        struct response r;

        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200); /* starting: alive */
        ck_assert_str_eq(r.body, "ok\n");
        free(r.body);
        fraud_http_step(h, fraud_time_mono_ns() - INT64_C(3000000000)); /* 3 s ago */
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_msg(strncmp(r.body, "stalled: the last step began 3", 30) == 0, "%s", r.body);
        free(r.body);
        fraud_http_step(h, fraud_time_mono_ns());
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        free(r.body);
        fraud_http_step(h, fraud_time_mono_ns() - INT64_C(3000000000));
        fraud_http_stopping(h); /* shutting down: alive */
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        free(r.body);
        fraud_http_free(h);
}
END_TEST

START_TEST(test_http_readyz_is_503_with_the_reason_then_200) {
        struct fraud_http *h = server(60000);
        struct response r;

        fraud_http_ready_set(h, false, "waiting for a partition of tx.raw");
        http_do(fraud_http_port(h), "GET", "/readyz", &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_str_eq(r.body, "not ready: waiting for a partition of tx.raw\n");
        free(r.body);
        fraud_http_ready_set(h, true, "");
        http_do(fraud_http_port(h), "GET", "/readyz", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "ready\n");
        free(r.body);
        fraud_http_stopping(h);
        http_do(fraud_http_port(h), "GET", "/readyz", &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_str_eq(r.body, "not ready: stopping\n");
        free(r.body);
        fraud_http_free(h);
}
END_TEST

START_TEST(test_http_unknown_path_404_other_method_405_body_413_counted) {
        static const char post[] = "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                                   "Connection: close\r\n\r\nabc";
        static const char get_body[] = "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                                       "Connection: close\r\n\r\nabc";
        struct fraud_http *h = server(60000);
        struct fraud_http_counters c;
        struct response r;

        http_do(fraud_http_port(h), "GET", "/nowhere", &r);
        ck_assert_int_eq(r.status, 404);
        free(r.body);
        http_do(fraud_http_port(h), "DELETE", "/metrics", &r);
        ck_assert_int_eq(r.status, 405);
        ck_assert_ptr_nonnull(strstr(r.head, "Allow: GET"));
        free(r.body);
        http_raw(fraud_http_port(h), post, sizeof(post) - 1, &r);
        ck_assert_int_eq(r.status, 405);
        free(r.body);
        http_raw(fraud_http_port(h), get_body, sizeof(get_body) - 1, &r);
        ck_assert_int_eq(r.status, 413);
        free(r.body);
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        free(r.body);
        fraud_http_counters(h, &c);
        ck_assert_uint_eq(c.responses[FRAUD_HTTP_404], 1);
        ck_assert_uint_eq(c.responses[FRAUD_HTTP_405], 2);
        ck_assert_uint_eq(c.responses[FRAUD_HTTP_413], 1);
        ck_assert_uint_eq(c.responses[FRAUD_HTTP_200], 1);
        ck_assert_uint_eq(c.connections, 5);
        fraud_http_free(h);
}
END_TEST

/* A request line and headers over the limit get no answer of ours: the
 * server refuses it, and the connection counts as an error. */
START_TEST(test_http_request_over_the_size_limit_is_refused_and_counted) {
        struct fraud_http *h = server(60000);
        size_t size = 2 * FRAUD_HTTP_REQUEST_BYTES_MAX;
        char *req = malloc(size + 64);
        struct fraud_http_counters c;
        struct response r;
        int n;

        ck_assert_ptr_nonnull(req);
        n = snprintf(req, size, "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Big: ");
        memset(req + n, 'a', size - (size_t)n);
        memcpy(req + size, "\r\n\r\n", 4);
        http_raw(fraud_http_port(h), req, size + 4, &r);
        ck_assert_msg(r.status == 431 || r.status == 414 || r.status == 0, "status %d", r.status);
        free(r.body);
        free(req);
        for (int i = 0; i < 100; i++) { /* the close is seen by the server's thread */
                fraud_http_counters(h, &c);
                if (c.errors > 0)
                        break;
                usleep(10000);
        }
        ck_assert_uint_eq(c.errors, 1);
        ck_assert_uint_eq(c.responses[FRAUD_HTTP_200], 0);
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200); /* still serving */
        free(r.body);
        fraud_http_free(h);
}
END_TEST

/* FRAUD_HTTP_CONNECTIONS_MAX idle connections fill the server: one more
 * is closed unanswered; once they go, requests are answered again. */
START_TEST(test_http_connections_beyond_the_limit_are_closed) {
        struct fraud_http *h = server(60000);
        int fds[FRAUD_HTTP_CONNECTIONS_MAX];
        struct fraud_http_counters c;
        struct response r;

        for (int i = 0; i < FRAUD_HTTP_CONNECTIONS_MAX; i++)
                fds[i] = connect_to(fraud_http_port(h));
        for (int i = 0; i < 200; i++) { /* accepted by the server's thread */
                fraud_http_counters(h, &c);
                if (c.connections == FRAUD_HTTP_CONNECTIONS_MAX)
                        break;
                usleep(10000);
        }
        ck_assert_uint_eq(c.connections, FRAUD_HTTP_CONNECTIONS_MAX);
        http_do(fraud_http_port(h), "GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 0);
        free(r.body);
        for (int i = 0; i < FRAUD_HTTP_CONNECTIONS_MAX; i++)
                close(fds[i]);
        r.status = 0;
        for (int i = 0; i < 100 && r.status != 200; i++) {
                usleep(10000);
                http_do(fraud_http_port(h), "GET", "/healthz", &r);
                free(r.body);
        }
        ck_assert_int_eq(r.status, 200);
        fraud_http_free(h);
}
END_TEST

START_TEST(test_http_listen_address_checks) {
        static const char *const good[] = {"",           "127.0.0.1:9101", "0.0.0.0:0",
                                           "[::1]:9101", "localhost:80",   "metrics.example:65535"};
        static const char *const bad[] = {"127.0.0.1", ":9101",       "127.0.0.1:", "host:65536",
                                          "host:-1",   "host:9x",     "a b:80",     "::1:9101",
                                          "[::1:9101", "host:123456", "[]:80",      "h/x:1"};
        char why[128], host[FRAUD_HTTP_HOST_MAX + 1];
        uint16_t port;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                ck_assert_msg(fraud_http_listen_check(good[i], why, sizeof(why)) == 0, "%s: %s",
                              good[i], why);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                why[0] = '\0';
                ck_assert_msg(fraud_http_listen_check(bad[i], why, sizeof(why)) == -EINVAL,
                              "%s accepted", bad[i]);
                ck_assert_msg(why[0] != '\0', "%s: no reason", bad[i]);
        }
        ck_assert_int_eq(fraud_http_listen_parse("[::1]:9101", host, &port, why, sizeof(why)), 0);
        ck_assert_str_eq(host, "::1");
        ck_assert_uint_eq(port, 9101);
}
END_TEST

START_TEST(test_http_port_in_use_is_eaddrinuse_with_the_reason) {
        struct fraud_http *a = server(60000), *b = NULL;
        char address[64], err[256] = "";

        snprintf(address, sizeof(address), "127.0.0.1:%u", (unsigned)fraud_http_port(a));
        ck_assert_int_eq(fraud_http_new(address, 60000, &b, err, sizeof(err)), -EADDRINUSE);
        ck_assert_ptr_null(b);
        ck_assert_msg(strstr(err, address) && strstr(err, "in use"), "%s", err);
        fraud_http_free(a);
        fraud_http_free(NULL);
}
END_TEST

START_TEST(test_http_serves_ipv6_loopback) {
        struct fraud_http *h;
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        char err[256], buf[256] = "";
        int fd = socket(AF_INET6, SOCK_STREAM, 0);
        ssize_t n;

        ck_assert_int_ge(fd, 0);
        if (fraud_http_new("[::1]:0", 60000, &h, err, sizeof(err)) < 0) {
                close(fd); /* no IPv6 on this host: nothing to test */
                return;
        }
        a.sin6_port = htons(fraud_http_port(h));
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_gt(send(fd, "GET /healthz HTTP/1.0\r\n\r\n", 25, 0), 0);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_nonnull(strstr(buf, " 200 "));
        close(fd);
        fraud_http_free(h);
}
END_TEST

TESTING_MAIN("http", test_http_metrics_serves_the_published_registry_text,
             test_http_metrics_scrape_gets_the_text_rendered_for_it,
             test_http_metrics_busy_loop_serves_the_last_text,
             test_http_healthz_fails_when_the_last_step_is_older_than_the_limit,
             test_http_readyz_is_503_with_the_reason_then_200,
             test_http_unknown_path_404_other_method_405_body_413_counted,
             test_http_request_over_the_size_limit_is_refused_and_counted,
             test_http_connections_beyond_the_limit_are_closed, test_http_listen_address_checks,
             test_http_port_in_use_is_eaddrinuse_with_the_reason, test_http_serves_ipv6_loopback)
