/* Tests for lib/notify.c: a datagram socket bound in a temporary folder
 * (and one in the abstract namespace) plays systemd; NOTIFY_SOCKET,
 * WATCHDOG_USEC and WATCHDOG_PID point the library at it.  Each test runs
 * in its own process (Check forks), so the environment it sets is its
 * own. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/notify.h"
#include "lib/time.h"

#include "tests/testing.h"

struct listener {
        char dir[64];
        char path[96]; /* fits sun_path */
        int fd;
};

/* Binds a datagram socket: a path in a fresh folder, or an abstract name
 * ("@..." in NOTIFY_SOCKET). */
static void listener_open(struct listener *l, bool abstract) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        socklen_t len;

        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(l->fd, 0);
        if (abstract) {
                l->dir[0] = '\0';
                snprintf(l->path, sizeof(l->path), "@fraud-notify-test-%d", (int)getpid());
                memcpy(a.sun_path + 1, l->path + 1, strlen(l->path) - 1);
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
        } else {
                snprintf(l->dir, sizeof(l->dir), "/tmp/fraud-notify-XXXXXX");
                ck_assert_ptr_nonnull(mkdtemp(l->dir));
                snprintf(l->path, sizeof(l->path), "%s/notify", l->dir);
                snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->path);
                len = sizeof(a);
        }
        ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&a, len), 0);
        ck_assert_int_eq(setenv("NOTIFY_SOCKET", l->path, 1), 0);
}

static void listener_close(struct listener *l) {
        close(l->fd);
        if (l->dir[0])
                testing_tree_remove(l->dir);
}

/* The next message, or "" when none is waiting. */
static const char *listener_next(struct listener *l) {
        static char buf[512];
        ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

START_TEST(test_notify_ready_is_sent_once_with_its_status) {
        struct listener l;
        struct fraud_notify n;

        listener_open(&l, false);
        fraud_notify_init(&n);
        ck_assert(n.enabled);
        ck_assert_int_eq(fraud_notify_ready(&n, "ready"), 1);
        ck_assert_str_eq(listener_next(&l), "READY=1\nSTATUS=ready");
        ck_assert_int_eq(fraud_notify_ready(&n, "ready"), 0);
        ck_assert_str_eq(listener_next(&l), "");
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_watchdog_at_most_every_half_interval) {
        struct listener l;
        struct fraud_notify n;
        char pid[16];
        int64_t t0 = fraud_time_mono_ns();

        listener_open(&l, false);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("WATCHDOG_USEC", "200000", 1); /* 200 ms: a ping every 100 ms */
        setenv("WATCHDOG_PID", pid, 1);
        fraud_notify_init(&n);
        ck_assert_uint_eq(n.watchdog_usec, 200000);
        ck_assert_int_eq(fraud_notify_watchdog(&n, t0), 1);
        ck_assert_str_eq(listener_next(&l), "WATCHDOG=1");
        ck_assert_int_eq(fraud_notify_watchdog(&n, t0 + 99000000), 0);
        ck_assert_str_eq(listener_next(&l), "");
        ck_assert_int_eq(fraud_notify_watchdog(&n, t0 + 100000000), 1);
        ck_assert_str_eq(listener_next(&l), "WATCHDOG=1");
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_watchdog_of_another_process_is_not_ours) {
        struct listener l;
        struct fraud_notify n;
        char pid[16];

        listener_open(&l, false);
        snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
        setenv("WATCHDOG_USEC", "200000", 1);
        setenv("WATCHDOG_PID", pid, 1);
        fraud_notify_init(&n);
        ck_assert_uint_eq(n.watchdog_usec, 0);
        ck_assert_int_eq(fraud_notify_watchdog(&n, fraud_time_mono_ns()), 0);
        ck_assert_str_eq(listener_next(&l), "");
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_status_is_rate_limited_unless_forced) {
        struct listener l;
        struct fraud_notify n;
        int64_t t0 = fraud_time_mono_ns();

        listener_open(&l, false);
        fraud_notify_init(&n);
        ck_assert_int_eq(fraud_notify_status(&n, t0, false, "a"), 1);
        ck_assert_str_eq(listener_next(&l), "STATUS=a");
        ck_assert_int_eq(fraud_notify_status(&n, t0 + 1000000, false, "b"), 0);
        ck_assert_str_eq(listener_next(&l), "");
        ck_assert_int_eq(fraud_notify_status(&n, t0 + 2000000, true, "c"), 1);
        ck_assert_str_eq(listener_next(&l), "STATUS=c");
        ck_assert_int_eq(fraud_notify_status(
                                 &n,
                                 t0 + 2000000 + (int64_t)FRAUD_NOTIFY_STATUS_INTERVAL_MS * 1000000,
                                 false, "d"),
                         1);
        ck_assert_str_eq(listener_next(&l), "STATUS=d");
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_stopping_reaches_an_abstract_socket) {
        struct listener l;
        struct fraud_notify n;

        listener_open(&l, true);
        fraud_notify_init(&n);
        ck_assert_int_eq(fraud_notify_ready(&n, NULL), 1);
        ck_assert_str_eq(listener_next(&l), "READY=1");
        ck_assert_int_eq(fraud_notify_stopping(&n, "stopping: storing offsets"), 1);
        ck_assert_str_eq(listener_next(&l), "STOPPING=1\nSTATUS=stopping: storing offsets");
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_without_socket_sends_nothing) {
        struct fraud_notify n;

        unsetenv("NOTIFY_SOCKET");
        setenv("WATCHDOG_USEC", "200000", 1);
        unsetenv("WATCHDOG_PID");
        fraud_notify_init(&n);
        ck_assert(!n.enabled);
        ck_assert_int_eq(fraud_notify_ready(&n, "ready"), 0);
        ck_assert_int_eq(fraud_notify_watchdog(&n, fraud_time_mono_ns()), 0);
        ck_assert_int_eq(fraud_notify_status(&n, fraud_time_mono_ns(), true, "x"), 0);
        ck_assert_int_eq(fraud_notify_stopping(&n, "x"), 0);
        ck_assert_uint_eq(n.errors, 0);
        fraud_notify_release(&n);
}
END_TEST

/* A socket that is gone: the error is returned and counted. */
START_TEST(test_notify_refused_message_is_an_error_counted) {
        struct listener l;
        struct fraud_notify n;

        listener_open(&l, false);
        listener_close(&l); /* the folder and the socket are gone */
        fraud_notify_init(&n);
        ck_assert_int_lt(fraud_notify_ready(&n, "ready"), 0);
        ck_assert_uint_eq(n.errors, 1);
        ck_assert(!n.ready_sent);
        fraud_notify_release(&n);
}
END_TEST

/* A receiver that does not read: once its queue is full, messages are
 * refused at once (never a blocked loop) and counted. */
START_TEST(test_notify_full_queue_refuses_without_blocking) {
        struct listener l;
        struct fraud_notify n;
        int64_t start = fraud_time_mono_ns();
        int r = 0, sent = 0;

        listener_open(&l, false);
        fraud_notify_init(&n);
        while (sent < 100000 && (r = fraud_notify_status(&n, 0, true, "filling")) == 1)
                sent++;
        ck_assert_int_eq(r, -EAGAIN);
        ck_assert_int_gt(sent, 0);
        ck_assert_uint_eq(n.errors, 1);
        ck_assert_int_lt(fraud_time_mono_ns() - start, INT64_C(5000000000));
        ck_assert_str_eq(listener_next(&l), "STATUS=filling"); /* the first ones arrived */
        fraud_notify_release(&n);
        listener_close(&l);
}
END_TEST

START_TEST(test_notify_unusable_socket_name_disables_and_counts) {
        struct fraud_notify n;

        setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
        fraud_notify_init(&n);
        ck_assert(!n.enabled);
        ck_assert_uint_eq(n.errors, 1);
        ck_assert_int_eq(fraud_notify_ready(&n, "ready"), 0);
        fraud_notify_release(&n);
}
END_TEST

TESTING_MAIN("notify", test_notify_ready_is_sent_once_with_its_status,
             test_notify_watchdog_at_most_every_half_interval,
             test_notify_watchdog_of_another_process_is_not_ours,
             test_notify_status_is_rate_limited_unless_forced,
             test_notify_stopping_reaches_an_abstract_socket,
             test_notify_without_socket_sends_nothing,
             test_notify_refused_message_is_an_error_counted,
             test_notify_full_queue_refuses_without_blocking,
             test_notify_unusable_socket_name_disables_and_counts)
