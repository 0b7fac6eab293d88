/* Tests for lib/log.c: line format, cutting, levels. */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "lib/log.h"

#include "tests/testing.h"

static int format(char *buf, int size, enum fraud_log_level level, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = fraud_log_format(buf, size, level, "fraud-test", fmt, ap);
        va_end(ap);
        return n;
}

START_TEST(test_log_line_has_syslog_priority_prefix_and_one_newline) {
        char buf[FRAUD_LOG_LINE_MAX];
        int n = format(buf, (int)sizeof(buf), FRAUD_LOG_WARNING, "a\nb %d", 7);

        ck_assert_str_eq(buf, "<4>fraud-test: a b 7\n");
        ck_assert_int_eq(n, (int)strlen(buf));
}
END_TEST

START_TEST(test_log_long_message_is_cut_with_ellipsis) {
        char buf[64];
        char big[200];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        int n = format(buf, (int)sizeof(buf), FRAUD_LOG_ERR, "%s", big);
        ck_assert_int_eq(n, 63);
        ck_assert_int_eq(buf[62], '\n');
        ck_assert(memcmp(buf + 59, "...", 3) == 0);
}
END_TEST

START_TEST(test_log_drops_lines_above_the_level) {
        int fds[2];
        char buf[256] = {0};

        ck_assert_int_eq(pipe(fds), 0);
        fraud_log_open("/usr/bin/fraud-test", FRAUD_LOG_NOTICE);
        fraud_log_set_fd(fds[1]);
        fraud_log_info("hidden");
        fraud_log_err("shown %s", "here");
        fraud_log_set_fd(-1);
        close(fds[1]);
        ck_assert_int_gt(read(fds[0], buf, sizeof(buf) - 1), 0);
        ck_assert_str_eq(buf, "<3>fraud-test: shown here\n");
        close(fds[0]);
}
END_TEST

START_TEST(test_log_level_parse_accepts_names_only) {
        enum fraud_log_level l;

        ck_assert_int_eq(fraud_log_level_parse("debug", &l), 0);
        ck_assert_int_eq(l, FRAUD_LOG_DEBUG);
        ck_assert_int_lt(fraud_log_level_parse("verbose", &l), 0);
        ck_assert_int_lt(fraud_log_level_parse(NULL, &l), 0);
}
END_TEST

TESTING_MAIN("log", test_log_line_has_syslog_priority_prefix_and_one_newline,
             test_log_long_message_is_cut_with_ellipsis, test_log_drops_lines_above_the_level,
             test_log_level_parse_accepts_names_only)
