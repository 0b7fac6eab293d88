/* log.h: one line per event on stderr, with syslog priority prefixes.
 *
 * Each line is "<N>ident: message\n" where N is the syslog priority (0-7),
 * the form systemd's journal and sd-daemon(3) understand.  A line is
 * formatted into a bounded buffer (FRAUD_LOG_LINE_MAX; longer messages are
 * cut and end in "..."), embedded newlines become spaces, and it is written
 * with a single write(2) so lines from several processes never interleave.
 *
 * Library code (lib/) logs only at debug; stages log what an operator needs.
 */
#ifndef FRAUD_LOG_H
#define FRAUD_LOG_H

#include <stdarg.h>

enum fraud_log_level {
        FRAUD_LOG_ERR = 3,
        FRAUD_LOG_WARNING = 4,
        FRAUD_LOG_NOTICE = 5,
        FRAUD_LOG_INFO = 6,
        FRAUD_LOG_DEBUG = 7,
};

/* ident is borrowed and must outlive logging (a string literal or argv[0]). */
void fraud_log_open(const char *ident, enum fraud_log_level max_level);
void fraud_log_set_level(enum fraud_log_level max_level);
enum fraud_log_level fraud_log_get_level(void);

/* Parses "err", "warning", "notice", "info", "debug"; -EINVAL otherwise. */
int fraud_log_level_parse(const char *name, enum fraud_log_level *out);

/* Redirects lines to fd (tests); -1 restores stderr. */
void fraud_log_set_fd(int fd);

/* Formats one line into buf (always NUL-terminated); returns its length
 * without the NUL.  Pure: used by fraud_log() and by the tests. */
int fraud_log_format(char *buf, int size, enum fraud_log_level level, const char *ident,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

void fraud_log(enum fraud_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define fraud_log_err(...)     fraud_log(FRAUD_LOG_ERR, __VA_ARGS__)
#define fraud_log_warning(...) fraud_log(FRAUD_LOG_WARNING, __VA_ARGS__)
#define fraud_log_notice(...)  fraud_log(FRAUD_LOG_NOTICE, __VA_ARGS__)
#define fraud_log_info(...)    fraud_log(FRAUD_LOG_INFO, __VA_ARGS__)
#define fraud_log_debug(...)   fraud_log(FRAUD_LOG_DEBUG, __VA_ARGS__)

#endif
