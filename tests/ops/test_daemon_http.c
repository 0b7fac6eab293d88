/* Operations of a real daemon: the built fraud-ingest against librdkafka's
 * mock cluster (in this process), with its endpoint on 127.0.0.1:0 and a
 * datagram socket of this test as systemd's $NOTIFY_SOCKET.  It must log
 * the port it got, become ready on /readyz once its partitions are
 * assigned, serve its counters on /metrics as they move (valid and
 * malformed records published here), answer /healthz, send READY=1 and
 * WATCHDOG=1, and on SIGTERM send STOPPING=1 last and exit 0.  And the
 * settings: a bad http_listen is refused at load as FILE:LINE: key. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/settings.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "lib/time.h"

#include "tests/testing.h"

#define OPS_VALID       20
#define OPS_WAIT_NS     INT64_C(60000000000) /* any wait for the daemon */
#define OPS_BODY_MAX    (256 << 10)
#define OPS_MESSAGE_MAX 256

static const char *const ops_malformed[] = {
        "not json at all",
        "{\"transaction_id\":\"bad-1\"}",
        "{\"transaction_id\":\"bad-2\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":\"5.00\","
        "\"currency\":\"XXX\",\"pan\":\"4111111111111111\",\"merchant_id\":\"M1\",\"mcc\":\"5411\","
        "\"country\":\"FR\",\"channel\":\"ecommerce\"}",
};
#define OPS_MALFORMED (int)(sizeof(ops_malformed) / sizeof(ops_malformed[0]))

/* ---- the notification socket ---- */

struct ops_notify {
        int fd;
        size_t n;                   /* messages received */
        long ready_at, stopping_at; /* their first's place in the order, or -1 */
        size_t watchdogs;
        char last[OPS_MESSAGE_MAX];
};

static void ops_notify_open(struct ops_notify *o, const char *dir) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};

        *o = (struct ops_notify){.ready_at = -1, .stopping_at = -1};
        o->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(o->fd, 0);
        snprintf(a.sun_path, sizeof(a.sun_path), "%s/notify", dir);
        ck_assert_int_eq(bind(o->fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(setenv("NOTIFY_SOCKET", a.sun_path, 1), 0);
}

/* The test's systemd: drained at every request to the daemon, so that its
 * queue (net.unix.max_dgram_qlen datagrams) does not fill. */
static struct ops_notify ops_notify;

static void ops_notify_drain(struct ops_notify *o) {
        ssize_t n;

        while ((n = recv(o->fd, o->last, sizeof(o->last) - 1, MSG_DONTWAIT)) > 0) {
                o->last[n] = '\0';
                if (o->ready_at < 0 && strncmp(o->last, "READY=1", 7) == 0)
                        o->ready_at = (long)o->n;
                if (o->stopping_at < 0 && strncmp(o->last, "STOPPING=1", 10) == 0)
                        o->stopping_at = (long)o->n;
                o->watchdogs += strcmp(o->last, "WATCHDOG=1") == 0;
                o->n++;
        }
}

/* ---- a plain HTTP client ---- */

/* GET path on 127.0.0.1:port: the status (0 when the connection failed or
 * closed first), the body into body (body_size bytes, NUL-terminated). */
static int ops_get(uint16_t port, const char *path, char *body, size_t body_size) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct timeval tv = {.tv_sec = 10};
        char req[256], *buf = malloc(OPS_BODY_MAX + 1), *sep;
        size_t len = 0;
        ssize_t n;
        int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;

        ck_assert_ptr_nonnull(buf);
        ck_assert_int_ge(fd, 0);
        if (ops_notify.fd > 0)
                ops_notify_drain(&ops_notify);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     path);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            send(fd, req, (size_t)n, MSG_NOSIGNAL) == n)
                while (len < OPS_BODY_MAX && (n = recv(fd, buf + len, OPS_BODY_MAX - len, 0)) > 0)
                        len += (size_t)n;
        close(fd);
        buf[len] = '\0';
        body[0] = '\0';
        if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
                status = 0;
        if ((sep = strstr(buf, "\r\n\r\n")))
                snprintf(body, body_size, "%s", sep + 4);
        free(buf);
        return status;
}

/* ---- the daemon ---- */

static pid_t ops_start(const char *config, const char *log) {
        char exe[1024];
        pid_t pid;

        snprintf(exe, sizeof(exe), "%s/ingest/fraud-ingest", getenv("FRAUD_BUILD_ROOT"));
        pid = fork(); /* exec at once: this process has librdkafka threads */
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no daemon */
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(126);
                execl(exe, exe, "--config", config, (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* The port the daemon logged ("http endpoint on 127.0.0.1:PORT"). */
static uint16_t ops_port_from_log(const char *log) {
        int64_t deadline = fraud_time_mono_ns() + OPS_WAIT_NS;
        char line[1024];
        unsigned port;

        while (fraud_time_mono_ns() < deadline) {
                FILE *f = fopen(log, "r");
                while (f && fgets(line, sizeof(line), f)) {
                        const char *at = strstr(line, "http endpoint on 127.0.0.1:");
                        if (at && sscanf(at, "http endpoint on 127.0.0.1:%u", &port) == 1) {
                                fclose(f);
                                return (uint16_t)port;
                        }
                }
                if (f)
                        fclose(f);
                usleep(50000);
        }
        ck_abort_msg("no port in %s", log);
        return 0;
}

static void ops_config(const char *dir, char *path, size_t size) {
        FILE *f;

        snprintf(path, size, "%s/fraud.yaml", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  session_timeout_ms: 6000\n"
                "ingest:\n  state_dir: \"%s/ingest\"\n  commit_interval_ms: 50\n"
                "  http_listen: \"127.0.0.1:0\"\n",
                dir);
        ck_assert_int_eq(fclose(f), 0);
}

/* Luhn check digit for the 15 digits of body. */
static char ops_luhn(const char *body) {
        int sum = 0;

        for (int i = 14, dbl = 1; i >= 0; i--, dbl = !dbl) {
                int d = (body[i] - '0') * (dbl ? 2 : 1);
                sum += d > 9 ? d - 9 : d;
        }
        return (char)('0' + (10 - sum % 10) % 10);
}

static void ops_send(struct fraud_kafka_producer *p, const char *value) {
        const struct fraud_kafka_record rec = {"tx.raw", -1, value, 8, value, strlen(value)};

        ck_assert_int_eq(fraud_kafka_producer_send(p, &rec, NULL), 0);
}

static void ops_publish(const char *bootstrap) {
        struct fraud_kafka_options o;
        struct fraud_kafka_producer *p;
        char buf[1024], pan[17];

        fraud_kafka_options_init(&o);
        o.bootstrap_servers = bootstrap;
        ck_assert_int_eq(fraud_kafka_producer_new(&o, &p, NULL, 0), 0);
        for (int i = 0; i < OPS_VALID; i++) {
                snprintf(pan, sizeof(pan), "411111%09d", i);
                pan[15] = ops_luhn(pan);
                pan[16] = '\0';
                snprintf(
                        buf, sizeof(buf),
                        "{\"transaction_id\":\"ops-%04d\",\"timestamp\":\"2026-01-01T00:%02d:00Z\","
                        "\"amount\":\"%d.50\",\"currency\":\"EUR\",\"pan\":\"%s\","
                        "\"customer_id\":\"C%d\",\"merchant_id\":\"M%d\","
                        "\"terminal_id\":\"M%d-1\",\"mcc\":\"5411\",\"country\":\"FR\","
                        "\"channel\":\"ecommerce\",\"device_id\":\"d%d\","
                        "\"ip\":\"192.0.2.%d\"}",
                        i, i, 10 + i, pan, i, i % 3, i % 3, i, 1 + i);
                ops_send(p, buf);
        }
        for (int i = 0; i < OPS_MALFORMED; i++)
                ops_send(p, ops_malformed[i]);
        ck_assert_int_eq(fraud_kafka_producer_flush(p, 20000), 0);
        fraud_kafka_producer_free(p);
}

/* Polls /metrics until it has line (a whole line), within OPS_WAIT_NS. */
static void ops_metrics_wait(uint16_t port, const char *line, char *body, size_t size) {
        int64_t deadline = fraud_time_mono_ns() + OPS_WAIT_NS;
        char want[256];

        snprintf(want, sizeof(want), "\n%s\n", line);
        while (fraud_time_mono_ns() < deadline) {
                if (ops_get(port, "/metrics", body, size) == 200 && strstr(body, want))
                        return;
                usleep(100000);
        }
        ck_abort_msg("/metrics never had \"%s\":\n%.3000s", line, body);
}

static void ops_assert_line(const char *body, const char *line) {
        const char *stage = strstr(body, "# HELP ingest_");
        char want[256];

        snprintf(want, sizeof(want), "\n%s", line);
        ck_assert_msg(strstr(body, want), "no \"%s\" in /metrics; its stage part:\n%.3000s", line,
                      stage ? stage : body);
}

static void ops_wait_ready(uint16_t port) {
        int64_t deadline = fraud_time_mono_ns() + OPS_WAIT_NS;
        char body[512];
        int status = 0;

        while (fraud_time_mono_ns() < deadline) {
                status = ops_get(port, "/readyz", body, sizeof(body));
                ck_assert_msg(status == 200 ||
                                      (status == 503 && strncmp(body, "not ready: ", 11) == 0),
                              "/readyz %d %s", status, body);
                if (status == 200)
                        break;
                usleep(100000);
        }
        ck_assert_int_eq(status, 200);
        ck_assert_str_eq(body, "ready\n");
}

static void ops_check_metrics(uint16_t port) {
        static char body[OPS_BODY_MAX];
        char line[128];

        snprintf(line, sizeof(line), "ingest_consumed_total %d", OPS_VALID + OPS_MALFORMED);
        ops_metrics_wait(port, line, body, sizeof(body));
        snprintf(line, sizeof(line), "ingest_normalized_total %d", OPS_VALID);
        ops_assert_line(body, line);
        snprintf(line, sizeof(line), "ingest_rejected_total %d", OPS_MALFORMED);
        ops_assert_line(body, line);
        snprintf(line, sizeof(line), "fraud_kafka_consumed_total %d", OPS_VALID + OPS_MALFORMED);
        ops_assert_line(body, line);
        ops_assert_line(body, "fraud_build_info{version=\"");
        ops_assert_line(body, "process_start_time_seconds 1");
        ops_assert_line(body, "fraud_stage_ready 1");
        ops_assert_line(body, "fraud_kafka_partitions_assigned 2");
        ops_assert_line(body, "fraud_kafka_consumer_lag_records{topic=\"tx.raw\",partition=\"0\"} 0");
        ops_assert_line(body, "fraud_kafka_consumer_lag_records{topic=\"tx.raw\",partition=\"1\"} 0");
        ops_assert_line(body, "fraud_store_sst_bytes ");
        ops_assert_line(body, "ingest_batch_duration_seconds_count ");
        ops_assert_line(body, "fraud_stage_step_duration_seconds_count ");
        ops_assert_line(body, "# TYPE ingest_rejected_reason_total counter");
}

START_TEST(test_daemon_ingest_serves_metrics_health_readiness_and_notifies) {
        struct ops_notify *notify = &ops_notify;
        char dir[] = "/tmp/fraud-ops-XXXXXX", config[256], log[256], body[512];
        struct fraud_mock *m;
        uint16_t port;
        pid_t pid;
        int status;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ops_config(dir, config, sizeof(config));
        snprintf(log, sizeof(log), "%s/ingest.log", dir);
        ck_assert_int_eq(fraud_mock_new(1, &m), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, "tx.raw", 2), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, "tx.normalized", 2), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, "dlq", 2), 0);
        setenv("FRAUD_KAFKA_BOOTSTRAP", fraud_mock_bootstrap(m), 1);
        setenv("FRAUD_INGEST_CARD_HASH_KEY", "000102030405060708090a0b0c0d0e0f", 1);
        ops_notify_open(notify, dir);
        setenv("WATCHDOG_USEC", "400000", 1); /* a WATCHDOG=1 every 200 ms */
        unsetenv("WATCHDOG_PID");

        pid = ops_start(config, log);
        port = ops_port_from_log(log);
        ck_assert_uint_gt(port, 0);
        ops_wait_ready(port);
        ops_publish(fraud_mock_bootstrap(m));
        ops_check_metrics(port);
        ck_assert_int_eq(ops_get(port, "/healthz", body, sizeof(body)), 200);
        ck_assert_str_eq(body, "ok\n");
        ck_assert_int_eq(ops_get(port, "/nowhere", body, sizeof(body)), 404);

        kill(pid, SIGTERM);
        while (waitpid(pid, &status, WNOHANG) == 0) {
                ops_notify_drain(notify);
                usleep(10000);
        }
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
        ops_notify_drain(notify);
        ck_assert_int_ge(notify->ready_at, 0);
        ck_assert_uint_gt(notify->watchdogs, 0);
        ck_assert_int_gt(notify->stopping_at, notify->ready_at);
        ck_assert_msg(strncmp(notify->last, "STOPPING=1", 10) == 0, "last: %s", notify->last);
        close(notify->fd);
        notify->fd = 0;
        fraud_mock_free(m);
        testing_tree_remove(dir);
}
END_TEST

/* The port is taken: the daemon stops at start, EX_UNAVAILABLE (69), and
 * says why. */
START_TEST(test_daemon_with_its_port_taken_exits_unavailable) {
        char dir[] = "/tmp/fraud-ops-XXXXXX", config[256], log[256], line[1024];
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t alen = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0), status;
        bool said = false;
        FILE *f;
        pid_t pid;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(listen(fd, 1), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
        snprintf(config, sizeof(config), "%s/fraud.yaml", dir);
        snprintf(log, sizeof(log), "%s/ingest.log", dir);
        f = fopen(config, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "ingest:\n  state_dir: \"%s/ingest\"\n  http_listen: \"127.0.0.1:%u\"\n", dir,
                (unsigned)ntohs(a.sin_port));
        ck_assert_int_eq(fclose(f), 0);
        setenv("FRAUD_KAFKA_BOOTSTRAP", "127.0.0.1:9", 1);
        setenv("FRAUD_INGEST_CARD_HASH_KEY", "000102030405060708090a0b0c0d0e0f", 1);
        pid = ops_start(config, log);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 69, "status %d", status);
        f = fopen(log, "r");
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f))
                said |= strstr(line, "Address already in use") != NULL;
        fclose(f);
        ck_assert_msg(said, "no reason in %s", log);
        close(fd);
        testing_tree_remove(dir);
}
END_TEST

START_TEST(test_settings_bad_http_listen_is_a_file_line_key_error) {
        char dir[] = "/tmp/fraud-ops-XXXXXX", path[256], err[512] = "";
        struct fraud_settings s;
        FILE *f;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/fraud.yaml", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "ingest:\n  group_id: g\n  http_listen: \"127.0.0.1\"\n");
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(fraud_settings_load(&s, path, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "fraud.yaml:3: ingest.http_listen: expected host:port"), "%s",
                      err);

        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "scorer:\n  http_listen: \"[::1]:0\"\ntrainer:\n  http_listen: \"\"\n");
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_msg(fraud_settings_load(&s, path, err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_eq(s.scorer.http_listen, "[::1]:0");
        ck_assert_str_eq(s.trainer.http_listen, "");
        ck_assert_str_eq(s.labeler.http_listen, "127.0.0.1:9104");
        fraud_settings_release(&s);
        testing_tree_remove(dir);
}
END_TEST

TESTING_MAIN("daemon_http", test_settings_bad_http_listen_is_a_file_line_key_error,
             test_daemon_with_its_port_taken_exits_unavailable,
             test_daemon_ingest_serves_metrics_health_readiness_and_notifies)
