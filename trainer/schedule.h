/* schedule.h: when the trainer trains -- once per event-time day of the
 * label stream.  Pure: the wall clock is an argument, never read here.
 *
 * Marks (kept with the labels and the offsets, trainer/labelstore.h):
 * first_known_us, the earliest known_at seen; watermark_us, the latest;
 * last_cutoff_us, the cutoff of the last day trained (or skipped).
 *
 * Event time.  A label day ends at midnight UTC.  Day D - 1 is complete
 * when watermark_us - lateness_us >= D, and the cutoff of its training set
 * is D.  Training starts at the first midnight at least warmup_days after
 * first_known_us, and each cutoff after the last one is trained once, in
 * order, one per call: a replay at any speed trains at the same cutoffs as
 * running live did.
 *
 * Wall clock (optional, wall_hour 0..23; -1 off).  When no label after a
 * midnight has arrived, event time alone would wait for the next label;
 * live, the trainer instead trains the day holding the watermark at
 * wall_hour of the wall clock after its end, if that day is the next one
 * due.  Only while the labels are live (the watermark within
 * SCHEDULE_LIVE_US of the wall clock), so a replay is never cut short.
 */
#ifndef FRAUD_SCHEDULE_H
#define FRAUD_SCHEDULE_H

#include <stdint.h>

#define SCHEDULE_NONE INT64_MIN /* no cutoff due; no mark yet */
#define SCHEDULE_LIVE_US                                                                           \
        (INT64_C(2) * 86400000000) /* labels this close to the wall clock are live */

struct schedule_config {
        int64_t warmup_days;
        int64_t lateness_us;
        int wall_hour; /* -1: event time only */
};

struct schedule_marks {
        int64_t first_known_us; /* SCHEDULE_NONE until a label is seen */
        int64_t watermark_us;   /* SCHEDULE_NONE until a label is seen */
        int64_t last_cutoff_us; /* SCHEDULE_NONE until a day is done */
};

void schedule_marks_init(struct schedule_marks *m);

/* Takes one label's known_at into the marks. */
void schedule_observe(struct schedule_marks *m, int64_t known_at_us);

/* The next cutoff to train, or SCHEDULE_NONE when none is due. */
int64_t schedule_due(const struct schedule_config *c, const struct schedule_marks *m,
                     int64_t wall_now_us);

#endif
