/* time.c: see time.h.  Calendar conversions follow Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms" (public domain), exact for
 * every date in int64 range that matters here. */
#include "lib/time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/bounds.h"

int64_t fraud_time_now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * FRAUD_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t fraud_time_mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

int64_t fraud_time_cpu_ns(void) {
        struct rusage u;

        if (getrusage(RUSAGE_SELF, &u) < 0)
                return 0;
        return ((int64_t)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * INT64_C(1000000000) +
               ((int64_t)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000;
}

static int64_t floor_div(int64_t a, int64_t b) {
        int64_t q = a / b;

        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t fraud_time_days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = floor_div(y, 400);
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + doe - 719468;
}

void fraud_time_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day) {
        z += 719468;
        int64_t era = floor_div(z, 146097);
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
        unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

        *year = yoe + era * 400 + (m <= 2);
        *month = m;
        *day = d;
}

int64_t fraud_time_day_index(int64_t t_us) {
        return floor_div(t_us, FRAUD_USEC_PER_DAY);
}

int64_t fraud_time_day_start_us(int64_t t_us) {
        return fraud_time_day_index(t_us) * FRAUD_USEC_PER_DAY;
}

int fraud_time_hour_of_day(int64_t t_us) {
        return (int)((t_us - fraud_time_day_start_us(t_us)) / FRAUD_USEC_PER_HOUR);
}

int fraud_time_weekday(int64_t t_us) {
        /* 1970-01-01 was a Thursday (ISO 4). */
        int64_t w = (fraud_time_day_index(t_us) + 3) % 7;

        return (int)(w < 0 ? w + 7 : w) + 1;
}

static unsigned days_in_month(int64_t y, unsigned m) {
        static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly n digits at *p. */
static int read_digits(const char **p, int n, int64_t *out) {
        int64_t v = 0;

        for (int i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return -EINVAL;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *out = v;
        return 0;
}

static int parse_fraction(const char **p, int64_t *us) {
        int64_t scale = 100000;
        int digits = 0;

        *us = 0;
        if (**p != '.')
                return 0;
        (*p)++;
        while (**p >= '0' && **p <= '9') {
                if (++digits > 9)
                        return -EINVAL;
                if (digits <= 6) {
                        *us += (**p - '0') * scale;
                        scale /= 10;
                }
                (*p)++;
        }
        return digits == 0 ? -EINVAL : 0;
}

static int parse_offset(const char **p, int64_t *offset_us) {
        int64_t hh, mm;
        int sign;

        *offset_us = 0;
        if (**p == 'Z' || **p == 'z') {
                (*p)++;
                return 0;
        }
        if (**p == '\0')
                return 0; /* no designator: UTC by convention */
        if (**p != '+' && **p != '-')
                return -EINVAL;
        sign = **p == '-' ? -1 : 1;
        (*p)++;
        if (read_digits(p, 2, &hh) < 0)
                return -EINVAL;
        if (**p == ':')
                (*p)++;
        if (read_digits(p, 2, &mm) < 0 || hh > 23 || mm > 59)
                return -EINVAL;
        *offset_us = sign * (hh * FRAUD_USEC_PER_HOUR + mm * FRAUD_USEC_PER_MIN);
        return 0;
}

int fraud_time_parse_iso8601(const char *s, int64_t *out_us) {
        int64_t y, mo, d, h = 0, mi = 0, se = 0, frac = 0, off = 0;
        const char *p = s;

        if (!s || read_digits(&p, 4, &y) < 0 || *p++ != '-' || read_digits(&p, 2, &mo) < 0 ||
            *p++ != '-' || read_digits(&p, 2, &d) < 0)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo))
                return -EINVAL;
        if (*p == 'T' || *p == 't' || *p == ' ') {
                p++;
                if (read_digits(&p, 2, &h) < 0 || *p++ != ':' || read_digits(&p, 2, &mi) < 0 ||
                    *p++ != ':' || read_digits(&p, 2, &se) < 0)
                        return -EINVAL;
                if (h > 23 || mi > 59 || se > 59)
                        return -EINVAL;
                if (parse_fraction(&p, &frac) < 0 || parse_offset(&p, &off) < 0)
                        return -EINVAL;
        }
        if (*p != '\0')
                return -EINVAL;
        *out_us = fraud_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * FRAUD_USEC_PER_DAY +
                  h * FRAUD_USEC_PER_HOUR + mi * FRAUD_USEC_PER_MIN + se * FRAUD_USEC_PER_SEC +
                  frac - off;
        return 0;
}

/* Writes v as exactly width decimal digits (v < 10^width). */
static char *put_digits(char *p, uint32_t v, int width) {
        for (int i = width - 1; i >= 0; i--, v /= 10)
                p[i] = (char)('0' + v % 10);
        return p + width;
}

/* Digit by digit rather than snprintf: backtests write one per payment. */
void fraud_time_format_iso8601(int64_t t_us, char *buf) {
        int64_t day = fraud_time_day_index(t_us), y;
        int64_t rem = t_us - day * FRAUD_USEC_PER_DAY; /* in [0, a day) */
        unsigned m, d;
        char *p = buf;

        fraud_time_civil_from_days(day, &y, &m, &d);
        if (y < 0 || y > 9999) {
                snprintf(buf, FRAUD_TIME_ISO8601_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ",
                         (long long)y, m, d, (int)(rem / FRAUD_USEC_PER_HOUR),
                         (int)(rem / FRAUD_USEC_PER_MIN % 60), (int)(rem / FRAUD_USEC_PER_SEC % 60),
                         (int)(rem % FRAUD_USEC_PER_SEC));
                return;
        }
        p = put_digits(p, (uint32_t)y, 4);
        *p++ = '-';
        p = put_digits(p, m, 2);
        *p++ = '-';
        p = put_digits(p, d, 2);
        *p++ = 'T';
        p = put_digits(p, (uint32_t)(rem / FRAUD_USEC_PER_HOUR), 2);
        *p++ = ':';
        p = put_digits(p, (uint32_t)(rem / FRAUD_USEC_PER_MIN % 60), 2);
        *p++ = ':';
        p = put_digits(p, (uint32_t)(rem / FRAUD_USEC_PER_SEC % 60), 2);
        *p++ = '.';
        p = put_digits(p, (uint32_t)(rem % FRAUD_USEC_PER_SEC), 6);
        *p++ = 'Z';
        *p = '\0';
}

void fraud_watermark_init(struct fraud_watermark *w, int64_t lateness_us) {
        *w = (struct fraud_watermark){.max_event_us = INT64_MIN, .lateness_us = lateness_us};
}

void fraud_watermark_observe(struct fraud_watermark *w, int64_t event_us) {
        if (!w->seen || event_us > w->max_event_us)
                w->max_event_us = event_us;
        w->seen = true;
}

int64_t fraud_watermark_value(const struct fraud_watermark *w) {
        return w->seen ? w->max_event_us - w->lateness_us : INT64_MIN;
}

bool fraud_watermark_is_late(const struct fraud_watermark *w, int64_t event_us) {
        return w->seen && event_us < fraud_watermark_value(w);
}
