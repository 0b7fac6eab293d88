/* notify.c: see notify.h.  The protocol: each message is "KEY=VALUE"
 * lines in one datagram on an AF_UNIX socket; an abstract address is the
 * name after '@' with a NUL byte first; $WATCHDOG_USEC is a decimal count
 * of microseconds, meant for the process $WATCHDOG_PID names (any process
 * when unset). */
#include "lib/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A positive decimal number that fits uint64_t; 0 otherwise. */
static uint64_t notify_decimal(const char *s) {
        uint64_t v = 0;

        if (!s || !*s)
                return 0;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
                        return 0;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        return v;
}

/* The socket address of path ("/..." or "@..."); false when unusable. */
static bool notify_address(struct fraud_notify *n, const char *path) {
        size_t len = strlen(path);

        n->addr.sun_family = AF_UNIX;
        if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(n->addr.sun_path))
                return false;
        memcpy(n->addr.sun_path, path, len);
        if (path[0] == '@') {
                n->addr.sun_path[0] = '\0';
                n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        } else {
                n->addr.sun_path[len] = '\0';
                n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        }
        return true;
}

void fraud_notify_init(struct fraud_notify *n) {
        const char *path = getenv("NOTIFY_SOCKET");
        const char *pid = getenv("WATCHDOG_PID");

        memset(n, 0, sizeof(*n));
        n->fd = -1;
        if (!path || !path[0])
                return;
        n->enabled = notify_address(n, path);
        if (!n->enabled) {
                n->errors++;
                return;
        }
        if (!pid || notify_decimal(pid) == (uint64_t)getpid())
                n->watchdog_usec = notify_decimal(getenv("WATCHDOG_USEC"));
}

void fraud_notify_release(struct fraud_notify *n) {
        if (n->fd >= 0)
                close(n->fd);
        n->fd = -1;
}

/* Sends text; 1 when sent, 0 without a socket, -errno (counted). */
static int notify_send(struct fraud_notify *n, const char *text) {
        if (!n->enabled)
                return 0;
        if (n->fd < 0) {
                n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (n->fd < 0) {
                        n->errors++;
                        return -errno;
                }
        }
        if (sendto(n->fd, text, strlen(text), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
                   n->addr_len) < 0) {
                n->errors++;
                return -errno;
        }
        return 1;
}

/* "WHAT\nSTATUS=status" (the status cut to FRAUD_NOTIFY_STATUS_MAX). */
static int notify_with_status(struct fraud_notify *n, const char *what, const char *status) {
        char text[FRAUD_NOTIFY_STATUS_MAX + 64];

        if (status && status[0])
                snprintf(text, sizeof(text), "%s\nSTATUS=%.*s", what, FRAUD_NOTIFY_STATUS_MAX,
                         status);
        else
                snprintf(text, sizeof(text), "%s", what);
        return notify_send(n, text);
}

int fraud_notify_ready(struct fraud_notify *n, const char *status) {
        int r;

        if (n->ready_sent || !n->enabled)
                return 0;
        r = notify_with_status(n, "READY=1", status);
        if (r > 0)
                n->ready_sent = true;
        return r;
}

int fraud_notify_watchdog(struct fraud_notify *n, int64_t now_ns) {
        int64_t half_ns = (int64_t)(n->watchdog_usec / 2) * 1000;
        int r;

        if (!n->enabled || n->watchdog_usec == 0)
                return 0;
        if (n->watchdog_sent_ns != 0 && now_ns - n->watchdog_sent_ns < half_ns)
                return 0;
        r = notify_send(n, "WATCHDOG=1");
        if (r > 0)
                n->watchdog_sent_ns = now_ns;
        return r;
}

int fraud_notify_status(struct fraud_notify *n, int64_t now_ns, bool force, const char *status) {
        char text[FRAUD_NOTIFY_STATUS_MAX + 16];
        int r;

        if (!n->enabled)
                return 0;
        if (!force && n->status_sent_ns != 0 &&
            now_ns - n->status_sent_ns < (int64_t)FRAUD_NOTIFY_STATUS_INTERVAL_MS * 1000000)
                return 0;
        snprintf(text, sizeof(text), "STATUS=%.*s", FRAUD_NOTIFY_STATUS_MAX, status);
        r = notify_send(n, text);
        if (r > 0)
                n->status_sent_ns = now_ns;
        return r;
}

int fraud_notify_stopping(struct fraud_notify *n, const char *status) {
        return notify_with_status(n, "STOPPING=1", status);
}
