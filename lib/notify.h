/* notify.h: the service manager's notifications (sd_notify(3)'s protocol),
 * for a daemon that systemd runs as Type=notify with a watchdog.
 *
 * When $NOTIFY_SOCKET names a socket (a path, or an abstract name when it
 * begins with '@'), each message is one datagram sent to it; when it is
 * unset (a daemon run by hand, in a container, in a test) every call here
 * is a no-op returning 0.
 *
 *   READY=1      once, when the daemon is ready (the same condition as its
 *                /readyz); a refused one may be sent again;
 *   WATCHDOG=1   from the daemon's loop, at most every half of the
 *                interval systemd asked for ($WATCHDOG_USEC, for this
 *                process when $WATCHDOG_PID is unset or names it), so a
 *                loop that stops stepping is killed and restarted;
 *   STATUS=...   a one-line progress summary for `systemctl status`, at
 *                most every FRAUD_NOTIFY_STATUS_INTERVAL_MS;
 *   STOPPING=1   when the daemon begins its shutdown.
 *
 * The protocol is written here rather than taken from libsystemd because
 * sd_notify() sends on a blocking socket: a service manager (or a test)
 * that reads slowly would stall the stage's loop, the very thing the
 * watchdog watches.  Here the socket is non-blocking: a message that does
 * not fit the receiver's queue is refused at once (-EAGAIN) and counted.
 *
 * The state (the socket, the watchdog interval, when each message was last
 * sent) lives in a struct fraud_notify the caller owns and releases; one
 * thread uses it.  Nothing here logs.
 */
#ifndef FRAUD_NOTIFY_H
#define FRAUD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FRAUD_NOTIFY_STATUS_MAX         200  /* bytes of a STATUS= text */
#define FRAUD_NOTIFY_STATUS_INTERVAL_MS 5000 /* shortest time between two STATUS= */

struct fraud_notify {
        bool enabled; /* $NOTIFY_SOCKET names a usable socket */
        int fd;       /* the sending socket, -1 until the first message */
        struct sockaddr_un addr;
        socklen_t addr_len;
        uint64_t watchdog_usec;   /* 0: no watchdog for this process */
        int64_t watchdog_sent_ns; /* monotonic time of the last WATCHDOG=1; 0: none */
        int64_t status_sent_ns;   /* of the last STATUS=; 0: none */
        bool ready_sent;
        uint64_t errors; /* messages refused, and an unusable $NOTIFY_SOCKET */
};

/* Reads the environment ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID).
 * A $NOTIFY_SOCKET that is neither a path nor an abstract name, or too
 * long, disables the notifications and counts one error. */
void fraud_notify_init(struct fraud_notify *n);

/* Closes the socket.  Idempotent. */
void fraud_notify_release(struct fraud_notify *n);

/* READY=1 with a STATUS= line, until one was sent.  1 when sent now, 0
 * when not (sent before, or no socket), -errno. */
int fraud_notify_ready(struct fraud_notify *n, const char *status);

/* WATCHDOG=1 when half the watchdog interval has passed since the last
 * one (now_ns: fraud_time_mono_ns()).  1 when sent, 0 when not due, no
 * watchdog or no socket, -errno. */
int fraud_notify_watchdog(struct fraud_notify *n, int64_t now_ns);

/* STATUS=status when FRAUD_NOTIFY_STATUS_INTERVAL_MS have passed since the
 * last one, or at once when force.  1 when sent, 0 when not, -errno. */
int fraud_notify_status(struct fraud_notify *n, int64_t now_ns, bool force, const char *status);

/* STOPPING=1 with a STATUS= line.  1 when sent, 0 without a socket, -errno. */
int fraud_notify_stopping(struct fraud_notify *n, const char *status);

#endif
