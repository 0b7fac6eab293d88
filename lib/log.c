/* log.c: see log.h.  Process-wide state is three words (ident, level, fd),
 * set once at start-up by the stage's main.c; stages are single-threaded,
 * librdkafka's threads never call in here. */
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"

static const char *log_ident = "fraud";
static enum fraud_log_level log_max_level = FRAUD_LOG_INFO;
static int log_fd = STDERR_FILENO;

static const char *const log_level_names[] = {
        [FRAUD_LOG_ERR] = "err",   [FRAUD_LOG_WARNING] = "warning", [FRAUD_LOG_NOTICE] = "notice",
        [FRAUD_LOG_INFO] = "info", [FRAUD_LOG_DEBUG] = "debug",
};

void fraud_log_open(const char *ident, enum fraud_log_level max_level) {
        const char *slash = ident ? strrchr(ident, '/') : NULL;

        log_ident = slash ? slash + 1 : (ident ? ident : "fraud");
        log_max_level = max_level;
}

void fraud_log_set_level(enum fraud_log_level max_level) {
        log_max_level = max_level;
}

enum fraud_log_level fraud_log_get_level(void) {
        return log_max_level;
}

int fraud_log_level_parse(const char *name, enum fraud_log_level *out) {
        for (int l = FRAUD_LOG_ERR; l <= FRAUD_LOG_DEBUG; l++)
                if (name && strcmp(name, log_level_names[l]) == 0) {
                        *out = (enum fraud_log_level)l;
                        return 0;
                }
        return -EINVAL;
}

void fraud_log_set_fd(int fd) {
        log_fd = fd < 0 ? STDERR_FILENO : fd;
}

int fraud_log_format(char *buf, int size, enum fraud_log_level level, const char *ident,
                     const char *fmt, va_list ap) {
        int n, m;

        n = snprintf(buf, (size_t)size, "<%d>%s: ", (int)level, ident);
        if (n < 0 || n >= size - 1)
                n = 0;
        m = vsnprintf(buf + n, (size_t)(size - n), fmt, ap);
        if (m < 0)
                m = 0;
        if (n + m >= size - 1) {
                /* Cut: keep room for "...\n" and the NUL. */
                n = size - 5;
                memcpy(buf + n, "...", 3);
                n += 3;
        } else {
                n += m;
        }
        for (int i = 0; i < n; i++)
                if (buf[i] == '\n' || buf[i] == '\r')
                        buf[i] = ' ';
        buf[n++] = '\n';
        buf[n] = '\0';
        return n;
}

void fraud_log(enum fraud_log_level level, const char *fmt, ...) {
        char line[FRAUD_LOG_LINE_MAX];
        int saved_errno = errno;
        va_list ap;
        int n;

        if (level > log_max_level)
                return;
        va_start(ap, fmt);
        n = fraud_log_format(line, (int)sizeof(line), level, log_ident, fmt, ap);
        va_end(ap);
        /* Best effort: a full stderr must not stop the pipeline. */
        if (write(log_fd, line, (size_t)n) < 0) {
        }
        errno = saved_errno;
}
