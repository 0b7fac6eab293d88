/* schedule.c: see schedule.h. */
#include "trainer/schedule.h"

#include "lib/time.h"

void schedule_marks_init(struct schedule_marks *m) {
        *m = (struct schedule_marks){SCHEDULE_NONE, SCHEDULE_NONE, SCHEDULE_NONE};
}

void schedule_observe(struct schedule_marks *m, int64_t known_at_us) {
        if (m->first_known_us == SCHEDULE_NONE || known_at_us < m->first_known_us)
                m->first_known_us = known_at_us;
        if (m->watermark_us == SCHEDULE_NONE || known_at_us > m->watermark_us)
                m->watermark_us = known_at_us;
}

/* The first midnight at or after t. */
static int64_t day_ceil(int64_t t) {
        int64_t start = fraud_time_day_start_us(t);

        return start == t ? t : start + FRAUD_USEC_PER_DAY;
}

int64_t schedule_due(const struct schedule_config *c, const struct schedule_marks *m,
                     int64_t wall_now_us) {
        int64_t start, next, complete, wall_day;

        if (m->first_known_us == SCHEDULE_NONE || m->watermark_us == SCHEDULE_NONE)
                return SCHEDULE_NONE;
        start = day_ceil(m->first_known_us + c->warmup_days * FRAUD_USEC_PER_DAY);
        next = start;
        if (m->last_cutoff_us != SCHEDULE_NONE && m->last_cutoff_us + FRAUD_USEC_PER_DAY > next)
                next = m->last_cutoff_us + FRAUD_USEC_PER_DAY;
        complete = fraud_time_day_start_us(m->watermark_us - c->lateness_us);
        if (next <= complete)
                return next;
        if (c->wall_hour < 0 || wall_now_us - m->watermark_us >= SCHEDULE_LIVE_US)
                return SCHEDULE_NONE;
        wall_day = complete + FRAUD_USEC_PER_DAY; /* the end of the watermark's day */
        if (next == wall_day && wall_now_us >= wall_day + c->wall_hour * FRAUD_USEC_PER_HOUR)
                return wall_day;
        return SCHEDULE_NONE;
}
