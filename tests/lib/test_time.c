/* Tests for lib/time.c: calendar arithmetic, ISO 8601 parsing, watermarks. */
#include <check.h>
#include <stdlib.h>

#include "lib/bounds.h"
#include "lib/time.h"

#include "tests/testing.h"

START_TEST(test_time_days_from_civil_matches_known_dates) {
        ck_assert_int_eq(fraud_time_days_from_civil(1970, 1, 1), 0);
        ck_assert_int_eq(fraud_time_days_from_civil(2000, 3, 1), 11017);
        ck_assert_int_eq(fraud_time_days_from_civil(2026, 1, 1), 20454);
        ck_assert_int_eq(fraud_time_days_from_civil(1969, 12, 31), -1);
}
END_TEST

START_TEST(test_time_civil_round_trips_every_day_for_two_centuries) {
        for (int64_t d = -36524; d < 36524 * 2; d++) {
                int64_t y;
                unsigned m, day;
                fraud_time_civil_from_days(d, &y, &m, &day);
                ck_assert_int_eq(fraud_time_days_from_civil(y, m, day), d);
        }
}
END_TEST

START_TEST(test_time_parse_accepts_fraction_and_offset) {
        int64_t t;

        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-01T00:00:00Z", &t), 0);
        ck_assert_int_eq(t, INT64_C(20454) * FRAUD_USEC_PER_DAY);
        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-01T08:15:02.123Z", &t), 0);
        ck_assert_int_eq(t, INT64_C(20454) * FRAUD_USEC_PER_DAY + 8 * FRAUD_USEC_PER_HOUR +
                                    15 * FRAUD_USEC_PER_MIN + 2 * FRAUD_USEC_PER_SEC + 123000);
        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-01T02:00:00+02:00", &t), 0);
        ck_assert_int_eq(t, INT64_C(20454) * FRAUD_USEC_PER_DAY);
        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-01", &t), 0);
        ck_assert_int_eq(t, INT64_C(20454) * FRAUD_USEC_PER_DAY);
}
END_TEST

START_TEST(test_time_parse_rejects_impossible_dates) {
        int64_t t;
        const char *bad[] = {"2026-13-01",
                             "2026-04-31T00:00:00Z",
                             "2025-02-29",
                             "2026-01-01T24:00:00Z",
                             "2026-01-01T00:60:00Z",
                             "26-01-01",
                             "2026-01-01T00:00:00.Z",
                             "2026-01-01T00:00:00Zjunk",
                             "",
                             "abc"};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(fraud_time_parse_iso8601(bad[i], &t) < 0, "accepted %s", bad[i]);
        ck_assert_int_eq(fraud_time_parse_iso8601("2024-02-29", &t), 0);
}
END_TEST

START_TEST(test_time_format_then_parse_is_identity) {
        char buf[FRAUD_TIME_ISO8601_MAX];
        int64_t t;

        for (int64_t x = -FRAUD_USEC_PER_DAY * 400; x < FRAUD_USEC_PER_DAY * 30000;
             x += 7777777777 + 13) {
                fraud_time_format_iso8601(x, buf);
                ck_assert_int_eq(fraud_time_parse_iso8601(buf, &t), 0);
                ck_assert_int_eq(t, x);
        }
}
END_TEST

START_TEST(test_time_weekday_and_hour_of_known_instant) {
        int64_t t;

        /* 2026-01-03 is a Saturday. */
        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-03T23:59:59.999Z", &t), 0);
        ck_assert_int_eq(fraud_time_weekday(t), 6);
        ck_assert_int_eq(fraud_time_hour_of_day(t), 23);
        ck_assert_int_eq(fraud_time_weekday(-1), 3); /* 1969-12-31, Wednesday */
        ck_assert_int_eq(fraud_time_hour_of_day(-1), 23);
}
END_TEST

START_TEST(test_watermark_flags_events_older_than_lateness) {
        struct fraud_watermark w;

        fraud_watermark_init(&w, 10);
        ck_assert(!fraud_watermark_is_late(&w, 0));
        fraud_watermark_observe(&w, 100);
        fraud_watermark_observe(&w, 50);
        ck_assert_int_eq(fraud_watermark_value(&w), 90);
        ck_assert(fraud_watermark_is_late(&w, 89));
        ck_assert(!fraud_watermark_is_late(&w, 90));
}
END_TEST

TESTING_MAIN("time", test_time_days_from_civil_matches_known_dates,
             test_time_civil_round_trips_every_day_for_two_centuries,
             test_time_parse_accepts_fraction_and_offset, test_time_parse_rejects_impossible_dates,
             test_time_format_then_parse_is_identity, test_time_weekday_and_hour_of_known_instant,
             test_watermark_flags_events_older_than_lateness)
