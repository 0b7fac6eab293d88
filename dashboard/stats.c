/* stats.c: see stats.h.
 *
 * The ring: minute m (whole minutes since the epoch) lives in slot
 * m % minutes; latest is the newest minute counted.  Moving to a later
 * minute clears the slots it skips over, so a slot holds its minute's
 * counts or is empty (start_us INT64_MIN).  The version list is kept most
 * recently seen first: a hit moves its entry to the front.
 */
#include "dashboard/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_EMPTY INT64_MIN

struct stats {
        size_t minutes;
        struct stats_minute *ring;
        int64_t latest; /* newest minute counted; -1 before the first */
        size_t n_versions;
        struct stats_version versions[DASHBOARD_VERSIONS_MAX];
        uint64_t outcomes[STATS_KINDS][STATS_KINDS];
};

static int stats_kind(int v) {
        return v >= 0 && v < STATS_KINDS ? v : 0;
}

int stats_new(size_t minutes, struct stats **out) {
        struct stats *st;

        *out = NULL;
        if (minutes == 0 || minutes > DASHBOARD_HISTORY_MINUTES_MAX)
                return -EINVAL;
        if (!(st = calloc(1, sizeof(*st))))
                return -ENOMEM;
        st->minutes = minutes;
        st->latest = -1;
        if (!(st->ring = calloc(minutes, sizeof(st->ring[0])))) {
                free(st);
                return -ENOMEM;
        }
        for (size_t i = 0; i < minutes; i++)
                st->ring[i].start_us = STATS_EMPTY;
        *out = st;
        return 0;
}

void stats_free(struct stats *st) {
        if (!st)
                return;
        free(st->ring);
        free(st);
}

static int64_t stats_minute_of(int64_t t_us) {
        int64_t m = t_us / STATS_MINUTE_US;

        return t_us < 0 && m * STATS_MINUTE_US != t_us ? m - 1 : m;
}

/* The bucket for now_us, moving the ring forward when needed. */
static struct stats_minute *stats_bucket(struct stats *st, int64_t now_us) {
        int64_t m = stats_minute_of(now_us);
        struct stats_minute *b;

        if (m < 0)
                m = 0;
        if (m <= st->latest) {
                m = st->latest;
        } else {
                int64_t from = st->latest < 0 || m - st->latest > (int64_t)st->minutes
                                       ? m - (int64_t)st->minutes + 1
                                       : st->latest + 1;
                for (int64_t k = from; k <= m; k++) {
                        if (k < 0)
                                continue;
                        b = &st->ring[(size_t)(k % (int64_t)st->minutes)];
                        memset(b, 0, sizeof(*b));
                        b->start_us = STATS_EMPTY;
                }
                st->latest = m;
        }
        b = &st->ring[(size_t)(m % (int64_t)st->minutes)];
        b->start_us = m * STATS_MINUTE_US;
        return b;
}

size_t stats_latency_bucket(int64_t ns) {
        double b;

        if (ns < 1)
                return 0;
        b = floor(log2((double)ns) * STATS_LATENCY_PER_OCTAVE) -
            STATS_LATENCY_MIN_LOG2 * STATS_LATENCY_PER_OCTAVE;
        if (b < 0)
                return 0;
        return b >= STATS_LATENCY_BUCKETS ? STATS_LATENCY_BUCKETS - 1 : (size_t)b;
}

double stats_latency_quantile(const uint64_t *hist, double q) {
        uint64_t total = 0, seen = 0;
        double rank;

        for (size_t i = 0; i < STATS_LATENCY_BUCKETS; i++)
                total += hist[i];
        if (total == 0)
                return NAN;
        rank = ceil(q * (double)total);
        if (rank < 1)
                rank = 1;
        for (size_t i = 0; i < STATS_LATENCY_BUCKETS; i++) {
                seen += hist[i];
                if ((double)seen >= rank)
                        return exp2(((double)i + 0.5) / STATS_LATENCY_PER_OCTAVE +
                                    STATS_LATENCY_MIN_LOG2);
        }
        return NAN; /* not reached: seen ends at total */
}

static void stats_version_note(struct stats *st, int64_t now_us, const struct stats_decision *d) {
        struct stats_version v = {.first_us = now_us};
        size_t i;

        for (i = 0; i < st->n_versions; i++) {
                const struct stats_version *e = &st->versions[i];
                if (strcmp(e->gbdt, d->gbdt_version) == 0 &&
                    strcmp(e->neural, d->neural_version) == 0 &&
                    strcmp(e->rules, d->rules_version) == 0)
                        break;
        }
        if (i < st->n_versions) {
                v = st->versions[i];
        } else {
                snprintf(v.gbdt, sizeof(v.gbdt), "%s", d->gbdt_version);
                snprintf(v.neural, sizeof(v.neural), "%s", d->neural_version);
                snprintf(v.rules, sizeof(v.rules), "%s", d->rules_version);
                if (st->n_versions < DASHBOARD_VERSIONS_MAX)
                        st->n_versions++;
                i = st->n_versions - 1; /* full: the least recently seen goes */
        }
        v.last_us = now_us;
        v.count++;
        memmove(&st->versions[1], &st->versions[0], i * sizeof(st->versions[0]));
        st->versions[0] = v;
}

void stats_score(struct stats *st, int64_t now_us, const struct stats_decision *d) {
        struct stats_minute *b = stats_bucket(st, now_us);

        b->decisions[stats_kind(d->decision)]++;
        b->stages[stats_kind(d->stage)]++;
        b->degraded += d->degraded;
        if (d->probability >= 0 && d->probability <= 1) {
                size_t bin = (size_t)(d->probability * STATS_SCORE_BINS);
                b->score[bin < STATS_SCORE_BINS ? bin : STATS_SCORE_BINS - 1]++;
        }
        for (int s = 0; s < STATS_SERIES; s++)
                if (d->latency_ns[s] > 0)
                        b->latency[s][stats_latency_bucket(d->latency_ns[s])]++;
        stats_version_note(st, now_us, d);
}

void stats_label(struct stats *st, int64_t now_us, int value, int decision) {
        stats_bucket(st, now_us)->labels[stats_kind(value)]++;
        st->outcomes[stats_kind(decision)][stats_kind(value)]++;
}

void stats_chargeback(struct stats *st, int64_t now_us, int kind) {
        stats_bucket(st, now_us)->chargebacks[stats_kind(kind)]++;
}

size_t stats_minutes(const struct stats *st) {
        return st->minutes;
}

const struct stats_minute *stats_minute(const struct stats *st, int64_t now_us, size_t i) {
        int64_t m = stats_minute_of(now_us) - (int64_t)(st->minutes - 1 - i);
        const struct stats_minute *b;

        if (i >= st->minutes || m < 0)
                return NULL;
        b = &st->ring[(size_t)(m % (int64_t)st->minutes)];
        return b->start_us == m * STATS_MINUTE_US ? b : NULL;
}

void stats_latency_merge(const struct stats *st, int64_t now_us, size_t last, enum stats_series s,
                         uint64_t *hist) {
        if (last > st->minutes)
                last = st->minutes;
        for (size_t i = st->minutes - last; i < st->minutes; i++) {
                const struct stats_minute *b = stats_minute(st, now_us, i);
                for (size_t k = 0; b && k < STATS_LATENCY_BUCKETS; k++)
                        hist[k] += b->latency[s][k];
        }
}

void stats_score_histogram(const struct stats *st, int64_t now_us, uint64_t *out) {
        for (size_t i = 0; i < st->minutes; i++) {
                const struct stats_minute *b = stats_minute(st, now_us, i);
                for (size_t k = 0; b && k < STATS_SCORE_BINS; k++)
                        out[k] += b->score[k];
        }
}

size_t stats_versions(const struct stats *st, const struct stats_version **out) {
        *out = st->versions;
        return st->n_versions;
}

void stats_outcomes(const struct stats *st, uint64_t out[STATS_KINDS][STATS_KINDS]) {
        memcpy(out, st->outcomes, sizeof(st->outcomes));
}
