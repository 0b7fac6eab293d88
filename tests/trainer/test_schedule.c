/* test_schedule.c: tests of trainer/schedule.c: a day is due when the
 * known_at watermark minus the lateness passes its end, training starts
 * after the warmup, each cutoff comes once and in order (a jump of several
 * days trains each), and the optional wall-clock hour trains the current
 * label day only while the labels are live. */
#include <check.h>

#include "lib/time.h"
#include "tests/testing.h"
#include "trainer/schedule.h"

#define DAY  FRAUD_USEC_PER_DAY
#define HOUR FRAUD_USEC_PER_HOUR
#define T0   INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */

static const struct schedule_config event_only = {
        .warmup_days = 3, .lateness_us = HOUR, .wall_hour = -1};

START_TEST(test_schedule_nothing_due_without_labels) {
        struct schedule_marks m;

        schedule_marks_init(&m);
        ck_assert_int_eq(schedule_due(&event_only, &m, T0), SCHEDULE_NONE);
}
END_TEST

START_TEST(test_schedule_first_cutoff_waits_for_warmup_and_lateness) {
        struct schedule_marks m;

        schedule_marks_init(&m);
        schedule_observe(&m, T0 + 10 * HOUR); /* first label: day 0, 10:00 */
        /* warmup 3 days from 10:00 on day 0 ends 10:00 on day 3: first cutoff day 4 */
        schedule_observe(&m, T0 + 4 * DAY + HOUR - 1);
        ck_assert_int_eq(schedule_due(&event_only, &m, 0), SCHEDULE_NONE); /* lateness */
        schedule_observe(&m, T0 + 4 * DAY + HOUR);
        ck_assert_int_eq(schedule_due(&event_only, &m, 0), T0 + 4 * DAY);
        /* a first label at midnight exactly: warmup ends at a midnight */
        schedule_marks_init(&m);
        schedule_observe(&m, T0);
        schedule_observe(&m, T0 + 3 * DAY + HOUR);
        ck_assert_int_eq(schedule_due(&event_only, &m, 0), T0 + 3 * DAY);
}
END_TEST

START_TEST(test_schedule_each_cutoff_once_in_order) {
        struct schedule_marks m;
        int64_t due;

        schedule_marks_init(&m);
        schedule_observe(&m, T0);
        schedule_observe(&m, T0 + 7 * DAY + 2 * HOUR); /* a jump over several midnights */
        for (int64_t want = T0 + 3 * DAY; want <= T0 + 7 * DAY; want += DAY) {
                due = schedule_due(&event_only, &m, 0);
                ck_assert_int_eq(due, want);
                m.last_cutoff_us = due;
        }
        ck_assert_int_eq(schedule_due(&event_only, &m, 0), SCHEDULE_NONE);
        schedule_observe(&m, T0 + 2 * DAY); /* an older label moves nothing back */
        ck_assert_int_eq(m.watermark_us, T0 + 7 * DAY + 2 * HOUR);
        ck_assert_int_eq(m.first_known_us, T0);
        ck_assert_int_eq(schedule_due(&event_only, &m, 0), SCHEDULE_NONE);
}
END_TEST

START_TEST(test_schedule_wall_hour_trains_current_day_only_when_live) {
        const struct schedule_config c = {.warmup_days = 3, .lateness_us = HOUR, .wall_hour = 4};
        struct schedule_marks m;
        const int64_t wm = T0 + 9 * DAY + 20 * HOUR; /* the last label: 20:00 on day 9 */

        schedule_marks_init(&m);
        schedule_observe(&m, T0);
        schedule_observe(&m, wm);
        m.last_cutoff_us = T0 + 9 * DAY; /* day 8 done; day 9 has no label after midnight */
        ck_assert_int_eq(schedule_due(&event_only, &m, T0 + 10 * DAY + 5 * HOUR), SCHEDULE_NONE);
        ck_assert_int_eq(schedule_due(&c, &m, T0 + 10 * DAY + 4 * HOUR - 1), SCHEDULE_NONE);
        ck_assert_int_eq(schedule_due(&c, &m, T0 + 10 * DAY + 4 * HOUR), T0 + 10 * DAY);
        /* a replay: the wall clock far ahead of the labels */
        ck_assert_int_eq(schedule_due(&c, &m, wm + SCHEDULE_LIVE_US), SCHEDULE_NONE);
        /* a day behind: event time first, the wall clock does not skip it */
        m.last_cutoff_us = T0 + 8 * DAY;
        ck_assert_int_eq(schedule_due(&c, &m, T0 + 10 * DAY + 5 * HOUR), T0 + 9 * DAY);
        /* trained already: nothing */
        m.last_cutoff_us = T0 + 10 * DAY;
        ck_assert_int_eq(schedule_due(&c, &m, T0 + 10 * DAY + 5 * HOUR), SCHEDULE_NONE);
}
END_TEST

TESTING_MAIN("schedule", test_schedule_nothing_due_without_labels,
             test_schedule_first_cutoff_waits_for_warmup_and_lateness,
             test_schedule_each_cutoff_once_in_order,
             test_schedule_wall_hour_trains_current_day_only_when_live)
