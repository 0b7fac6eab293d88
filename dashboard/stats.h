/* stats.h: what the dashboard counts, minute by minute, for its charts.
 *
 * A ring of history_minutes buckets, one per minute of wall-clock time
 * (the caller passes the time: the dashboard's clock when the record
 * arrived).  The dashboard is a view of what happens now, not state that
 * a replay must reproduce, so its time axis is the operator's clock: a
 * chart of "decisions per minute" means per minute of processing.  (The
 * event time of the stream is shown apart; during a replay or a
 * simulation it runs much faster than the wall clock.)  A bucket counts
 * decisions by outcome and by cascade stage, degraded decisions, labels
 * by value, chargebacks and review verdicts by kind, the histogram of
 * scores (STATS_SCORE_BINS equal bins over [0, 1]) and one latency
 * histogram per series: end to end (ingest to score, from the Score's
 * two wall-clock stamps) and the three stages' own times.
 *
 * Latency histograms are logarithmic: STATS_LATENCY_PER_OCTAVE buckets
 * per doubling from 2^STATS_LATENCY_MIN_LOG2 ns (64 ns) up, so a quantile
 * read from one (the geometric middle of its bucket) is within 9 % of the
 * true value, at any scale from a rules evaluation (~1 us) to a slow
 * pipeline (seconds), in fixed memory.
 *
 * A time earlier than the newest minute seen (the clock was set back)
 * counts in the newest minute; a minute that saw nothing reads as empty.
 * Besides the ring: the model version sets seen (gbdt, neural, rules) with
 * their first and last time and count, the DASHBOARD_VERSIONS_MAX most
 * recently seen; and the labels by the decision they judge, since start.
 *
 * Pure: no I/O, no clock of its own; one thread.
 */
#ifndef FRAUD_DASHBOARD_STATS_H
#define FRAUD_DASHBOARD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard/limits.h"

#define STATS_MINUTE_US          INT64_C(60000000)
#define STATS_SCORE_BINS         20
#define STATS_LATENCY_PER_OCTAVE 4
#define STATS_LATENCY_MIN_LOG2   6   /* the first bucket starts at 64 ns */
#define STATS_LATENCY_BUCKETS    144 /* up to 2^42 ns, about 73 minutes */
#define STATS_KINDS                                                                                \
        4 /* decisions, stages, label values, chargeback kinds:                                    \
           * each enum's 0..3, 0 unspecified */

enum stats_series {
        STATS_E2E,    /* ingest to score, wall clock */
        STATS_RULES,  /* the Score's rules_latency_ns */
        STATS_GBDT,   /* gbdt_latency_ns */
        STATS_NEURAL, /* neural_latency_ns */
        STATS_SERIES,
};

struct stats_minute {
        int64_t start_us;                  /* a multiple of STATS_MINUTE_US */
        uint64_t decisions[STATS_KINDS];   /* by Fraud__Decision */
        uint64_t stages[STATS_KINDS];      /* by Fraud__Stage */
        uint64_t degraded;                 /* decisions with a model missing */
        uint64_t labels[STATS_KINDS];      /* by Fraud__LabelValue */
        uint64_t chargebacks[STATS_KINDS]; /* by Fraud__ChargebackKind */
        uint32_t latency[STATS_SERIES][STATS_LATENCY_BUCKETS];
        uint32_t score[STATS_SCORE_BINS];
};

/* One decision, as stats_score() counts it. */
struct stats_decision {
        int decision; /* Fraud__Decision: out of 0..3 counts as 0 */
        int stage;    /* Fraud__Stage, likewise */
        bool degraded;
        double probability;               /* NaN or outside [0, 1]: not binned */
        int64_t latency_ns[STATS_SERIES]; /* <= 0: that series has no value */
        const char *gbdt_version;         /* "" when none */
        const char *neural_version;
        const char *rules_version;
};

struct stats_version {
        char gbdt[DASHBOARD_TEXT_MAX];
        char neural[DASHBOARD_TEXT_MAX];
        char rules[DASHBOARD_TEXT_MAX];
        int64_t first_us, last_us;
        uint64_t count;
};

struct stats;

/* minutes 1..DASHBOARD_HISTORY_MINUTES_MAX; -EINVAL, -ENOMEM. */
int stats_new(size_t minutes, struct stats **out);
void stats_free(struct stats *st);

void stats_score(struct stats *st, int64_t now_us, const struct stats_decision *d);
/* A Label of value (Fraud__LabelValue) judging decision (Fraud__Decision). */
void stats_label(struct stats *st, int64_t now_us, int value, int decision);
/* A Chargeback of kind (Fraud__ChargebackKind). */
void stats_chargeback(struct stats *st, int64_t now_us, int kind);

size_t stats_minutes(const struct stats *st);

/* Minute i of the history that ends at now_us's minute, 0 the oldest,
 * stats_minutes() - 1 the current one; NULL when nothing was counted in
 * it. */
const struct stats_minute *stats_minute(const struct stats *st, int64_t now_us, size_t i);

/* Adds the latency histogram of series s over the last `last` minutes up
 * to now_us into hist (STATS_LATENCY_BUCKETS entries). */
void stats_latency_merge(const struct stats *st, int64_t now_us, size_t last, enum stats_series s,
                         uint64_t *hist);

/* The q-quantile (0 < q <= 1) of a latency histogram, in ns: the
 * geometric middle of the bucket that holds it; NaN when empty. */
double stats_latency_quantile(const uint64_t *hist, double q);

/* The bucket of a latency of ns nanoseconds (for the tests). */
size_t stats_latency_bucket(int64_t ns);

/* Adds the score histogram of the whole history up to now_us into out
 * (STATS_SCORE_BINS entries). */
void stats_score_histogram(const struct stats *st, int64_t now_us, uint64_t *out);

/* The model version sets seen, most recently seen first. */
size_t stats_versions(const struct stats *st, const struct stats_version **out);

/* Labels since start by the decision they judge and their value:
 * out[decision][value], both 0..STATS_KINDS-1. */
void stats_outcomes(const struct stats *st, uint64_t out[STATS_KINDS][STATS_KINDS]);

#endif
