/* Tests for dashboard/stats.c: per-minute counts, latency quantiles, model
 * versions and outcomes. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/stats.h"
#include "proto/score.pb-c.h"
#include "tests/testing.h"

#define MIN STATS_MINUTE_US
#define T0  (INT64_C(29000000) * MIN) /* a minute boundary in 2025 */

static struct stats_decision decision(int d, double p, const char *gbdt) {
        struct stats_decision x = {
                .decision = d,
                .stage = FRAUD__STAGE__STAGE_GBDT,
                .probability = p,
                .gbdt_version = gbdt,
                .neural_version = "",
                .rules_version = "r1",
        };
        return x;
}

START_TEST(test_stats_counts_land_in_their_minute) {
        struct stats *st;
        struct stats_decision a = decision(FRAUD__DECISION__DECISION_ALLOW, 0.01, "v1");
        struct stats_decision b = decision(FRAUD__DECISION__DECISION_BLOCK, 0.97, "v1");
        const struct stats_minute *m;

        ck_assert_int_eq(stats_new(3, &st), 0);
        stats_score(st, T0 + 5, &a);
        stats_score(st, T0 + MIN - 1, &b);
        stats_score(st, T0 + MIN, &a); /* the next minute */
        stats_label(st, T0 + MIN, 2, FRAUD__DECISION__DECISION_ALLOW);
        stats_chargeback(st, T0 + MIN, 2);
        m = stats_minute(st, T0 + MIN + 30, 1);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(m->start_us, T0);
        ck_assert_uint_eq(m->decisions[FRAUD__DECISION__DECISION_ALLOW], 1);
        ck_assert_uint_eq(m->decisions[FRAUD__DECISION__DECISION_BLOCK], 1);
        ck_assert_uint_eq(m->score[0], 1);
        ck_assert_uint_eq(m->score[STATS_SCORE_BINS - 1], 1); /* 0.97 in the last bin */
        m = stats_minute(st, T0 + MIN + 30, 2);
        ck_assert_uint_eq(m->decisions[FRAUD__DECISION__DECISION_ALLOW], 1);
        ck_assert_uint_eq(m->labels[2], 1);
        ck_assert_uint_eq(m->chargebacks[2], 1);
        ck_assert_ptr_null(stats_minute(st, T0 + MIN + 30, 0)); /* nothing two minutes back */
        /* Three minutes later the first minute has left the history. */
        m = stats_minute(st, T0 + 3 * MIN, 0);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(m->start_us, T0 + MIN);
        ck_assert_ptr_null(stats_minute(st, T0 + 4 * MIN, 0));
        stats_free(st);
}
END_TEST

START_TEST(test_stats_a_gap_longer_than_the_history_clears_it) {
        struct stats *st;
        struct stats_decision a = decision(FRAUD__DECISION__DECISION_ALLOW, 0.5, "v1");
        uint64_t bins[STATS_SCORE_BINS] = {0}, total = 0;

        ck_assert_int_eq(stats_new(4, &st), 0);
        for (int i = 0; i < 4; i++)
                stats_score(st, T0 + i * MIN, &a);
        stats_score(st, T0 + 100 * MIN, &a);
        stats_score_histogram(st, T0 + 100 * MIN, bins);
        for (int i = 0; i < STATS_SCORE_BINS; i++)
                total += bins[i];
        ck_assert_uint_eq(total, 1);
        for (size_t i = 0; i < 3; i++)
                ck_assert_ptr_null(stats_minute(st, T0 + 100 * MIN, i));
        stats_free(st);
}
END_TEST

/* A clock set back counts in the newest minute rather than rewriting an
 * older one. */
START_TEST(test_stats_clock_set_back_counts_in_the_newest_minute) {
        struct stats *st;
        struct stats_decision a = decision(FRAUD__DECISION__DECISION_REVIEW, 0.5, "v1");
        const struct stats_minute *m;

        ck_assert_int_eq(stats_new(10, &st), 0);
        stats_score(st, T0 + 5 * MIN, &a);
        stats_score(st, T0 + 2 * MIN, &a);
        m = stats_minute(st, T0 + 5 * MIN, 9);
        ck_assert_uint_eq(m->decisions[FRAUD__DECISION__DECISION_REVIEW], 2);
        ck_assert_ptr_null(stats_minute(st, T0 + 5 * MIN, 6));
        stats_free(st);
}
END_TEST

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

/* Log-uniform latencies from 100 ns to 10 s: every quantile read from the
 * histogram is within 9 % of the exact one. */
START_TEST(test_stats_latency_quantiles_within_nine_percent) {
        enum { N = 20000 };
        static int64_t v[N];
        static const double qs[] = {0.01, 0.5, 0.9, 0.99, 0.999};
        uint64_t hist[STATS_LATENCY_BUCKETS] = {0};
        uint64_t st = 5;

        for (int i = 0; i < N; i++) {
                st = st * 6364136223846793005ULL + 1442695040888963407ULL;
                v[i] = (int64_t)pow(10, 2 + 8 * ((double)(st >> 11) / 9007199254740992.0));
                hist[stats_latency_bucket(v[i])]++;
        }
        qsort(v, N, sizeof(v[0]), cmp_i64);
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
                double exact = (double)v[(size_t)ceil(qs[i] * N) - 1];
                double got = stats_latency_quantile(hist, qs[i]);
                ck_assert_msg(fabs(got / exact - 1) <= 0.09, "q %g: %g against %g", qs[i], got,
                              exact);
        }
}
END_TEST

START_TEST(test_stats_latency_merges_minutes_and_series) {
        struct stats *st;
        struct stats_decision a = decision(FRAUD__DECISION__DECISION_ALLOW, 0.1, "v1");
        uint64_t hist[STATS_LATENCY_BUCKETS] = {0}, gbdt[STATS_LATENCY_BUCKETS] = {0};
        double p50;

        ck_assert_int_eq(stats_new(10, &st), 0);
        a.latency_ns[STATS_E2E] = 5000000; /* 5 ms */
        a.latency_ns[STATS_GBDT] = 4000;   /* 4 us */
        stats_score(st, T0, &a);
        a.latency_ns[STATS_E2E] = 0; /* no value: not counted */
        stats_score(st, T0 + MIN, &a);
        stats_latency_merge(st, T0 + MIN, 5, STATS_E2E, hist);
        stats_latency_merge(st, T0 + MIN, 5, STATS_GBDT, gbdt);
        p50 = stats_latency_quantile(hist, 0.5);
        ck_assert_msg(fabs(p50 / 5e6 - 1) < 0.09, "p50 %g", p50);
        ck_assert_msg(fabs(stats_latency_quantile(gbdt, 1.0) / 4000 - 1) < 0.09, "gbdt");
        memset(hist, 0, sizeof(hist));
        stats_latency_merge(st, T0 + MIN, 1, STATS_E2E, hist); /* the last minute only */
        ck_assert(isnan(stats_latency_quantile(hist, 0.5)));
        stats_free(st);
}
END_TEST

START_TEST(test_stats_versions_most_recent_first_and_bounded) {
        struct stats *st;
        const struct stats_version *v;
        char name[16];
        size_t n;

        ck_assert_int_eq(stats_new(2, &st), 0);
        for (int i = 0; i < DASHBOARD_VERSIONS_MAX + 5; i++) {
                struct stats_decision a;
                snprintf(name, sizeof(name), "v%d", i);
                a = decision(FRAUD__DECISION__DECISION_ALLOW, 0.1, name);
                stats_score(st, T0 + i, &a);
        }
        {
                struct stats_decision a = decision(FRAUD__DECISION__DECISION_ALLOW, 0.1, "v10");
                stats_score(st, T0 + 1000, &a);
        }
        n = stats_versions(st, &v);
        ck_assert_uint_eq(n, DASHBOARD_VERSIONS_MAX);
        ck_assert_str_eq(v[0].gbdt, "v10");
        ck_assert_uint_eq(v[0].count, 2);
        ck_assert_int_eq(v[0].first_us, T0 + 10);
        ck_assert_int_eq(v[0].last_us, T0 + 1000);
        ck_assert_str_eq(v[1].gbdt, "v36");
        ck_assert_str_eq(v[n - 1].gbdt, "v5"); /* v0..v4 were the least recently seen */
        stats_free(st);
}
END_TEST

START_TEST(test_stats_outcomes_by_decision_and_value) {
        struct stats *st;
        uint64_t o[STATS_KINDS][STATS_KINDS];

        ck_assert_int_eq(stats_new(2, &st), 0);
        stats_label(st, T0, 2, FRAUD__DECISION__DECISION_ALLOW);
        stats_label(st, T0, 2, FRAUD__DECISION__DECISION_ALLOW);
        stats_label(st, T0, 1, FRAUD__DECISION__DECISION_REVIEW);
        stats_label(st, T0, 9, 7); /* out of range: unspecified */
        stats_outcomes(st, o);
        ck_assert_uint_eq(o[FRAUD__DECISION__DECISION_ALLOW][2], 2);
        ck_assert_uint_eq(o[FRAUD__DECISION__DECISION_REVIEW][1], 1);
        ck_assert_uint_eq(o[0][0], 1);
        stats_free(st);
        ck_assert_int_eq(stats_new(0, &st), -EINVAL);
        ck_assert_int_eq(stats_new(DASHBOARD_HISTORY_MINUTES_MAX + 1, &st), -EINVAL);
}
END_TEST

TESTING_MAIN("stats", test_stats_counts_land_in_their_minute,
             test_stats_a_gap_longer_than_the_history_clears_it,
             test_stats_clock_set_back_counts_in_the_newest_minute,
             test_stats_latency_quantiles_within_nine_percent,
             test_stats_latency_merges_minutes_and_series,
             test_stats_versions_most_recent_first_and_bounded,
             test_stats_outcomes_by_decision_and_value)
