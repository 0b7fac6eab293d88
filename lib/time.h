/* time.h: event-time helpers.
 *
 * All pipeline time is event time: int64 microseconds since the Unix epoch,
 * UTC, taken from the payment itself.  Calendar arithmetic here is pure
 * (proleptic Gregorian, no time zone database, no locale), so replaying a
 * log gives the same days, hours and windows on any machine.  The wall
 * clock appears only in fraud_time_now_us() and fraud_time_mono_ns(), which
 * are for latency measurement and pacing, never for anything that must
 * replay.
 *
 * Window convention used throughout: a window of w ending at t is (t - w, t],
 * the current event included, an event exactly w old excluded.
 */
#ifndef FRAUD_TIME_H
#define FRAUD_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define FRAUD_USEC_PER_SEC  INT64_C(1000000)
#define FRAUD_USEC_PER_MIN  (60 * FRAUD_USEC_PER_SEC)
#define FRAUD_USEC_PER_HOUR (60 * FRAUD_USEC_PER_MIN)
#define FRAUD_USEC_PER_DAY  (24 * FRAUD_USEC_PER_HOUR)

/* Wall clock (CLOCK_REALTIME) and monotonic clock: latency and pacing only. */
int64_t fraud_time_now_us(void);
int64_t fraud_time_mono_ns(void);
/* CPU time of the process so far, every thread, user and system
 * (getrusage): for throughput per CPU-second on a shared machine. */
int64_t fraud_time_cpu_ns(void);

/* Days since 1970-01-01 for a civil date, and back (Howard Hinnant's
 * algorithms).  month 1..12, day 1..31. */
int64_t fraud_time_days_from_civil(int64_t year, unsigned month, unsigned day);
void fraud_time_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* Floor of t to its UTC day, and the day's index since the epoch. */
int64_t fraud_time_day_start_us(int64_t t_us);
int64_t fraud_time_day_index(int64_t t_us);
/* 0..23 */
int fraud_time_hour_of_day(int64_t t_us);
/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int fraud_time_weekday(int64_t t_us);

/* Parses ISO 8601 in UTC: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS", with an
 * optional fraction of up to 6 digits and a "Z" or "+00:00"/"+HH:MM" offset
 * (converted to UTC).  Also accepts ' ' for 'T'.  -EINVAL on anything else,
 * including out-of-range fields (month 13, day 31 in April, hour 24). */
int fraud_time_parse_iso8601(const char *s, int64_t *out_us);
/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ"; buf of FRAUD_TIME_ISO8601_MAX. */
void fraud_time_format_iso8601(int64_t t_us, char *buf);

/* A watermark: the largest event time seen minus the allowed lateness.
 * Events older than the watermark are late. */
struct fraud_watermark {
        int64_t max_event_us;
        int64_t lateness_us;
        bool seen;
};

void fraud_watermark_init(struct fraud_watermark *w, int64_t lateness_us);
void fraud_watermark_observe(struct fraud_watermark *w, int64_t event_us);
/* INT64_MIN until an event was observed. */
int64_t fraud_watermark_value(const struct fraud_watermark *w);
bool fraud_watermark_is_late(const struct fraud_watermark *w, int64_t event_us);

#endif
