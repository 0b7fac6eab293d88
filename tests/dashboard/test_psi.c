/* Tests for dashboard/psi.c: the population stability index, its bins and
 * its sliding window. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "dashboard/psi.h"
#include "tests/testing.h"

/* A deterministic uniform [0, 1) and a normal from it (Box-Muller). */
static double uniform(uint64_t *st) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        return (double)(*st >> 11) / 9007199254740992.0;
}

static double normal(uint64_t *st) {
        double u = uniform(st), v = uniform(st);

        return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* The PSI of reference N(0,1) against N(shift,1), n records each. */
static double shifted_psi(double shift, size_t n) {
        struct psi_set *s;
        uint64_t st = 42;
        double x, psi;

        ck_assert_int_eq(psi_set_new(1, n, n, 10, &s), 0);
        for (size_t i = 0; i < n; i++) {
                x = normal(&st);
                psi_set_add(s, &x);
        }
        for (size_t i = 0; i < n; i++) {
                x = normal(&st) + shift;
                psi_set_add(s, &x);
        }
        ck_assert(psi_set_ready(s));
        psi = psi_set_value(s, 0);
        psi_set_free(s);
        return psi;
}

START_TEST(test_psi_of_identical_histograms_is_zero) {
        const uint64_t a[4] = {10, 20, 30, 40};

        ck_assert_double_eq_tol(psi_index(a, a, 4), 0.0, 1e-12);
}
END_TEST

/* Worked by hand: shares (50.5, 50.5)/101 against (80.5, 20.5)/101. */
START_TEST(test_psi_matches_the_formula_with_its_smoothing) {
        const uint64_t expected[2] = {50, 50}, actual[2] = {80, 20};
        const uint64_t empty[2] = {0, 0};

        ck_assert_double_eq_tol(psi_index(expected, actual, 2), 0.4062868, 1e-6);
        /* Symmetric in the two histograms, as the formula is. */
        ck_assert_double_eq_tol(psi_index(actual, expected, 2), 0.4062868, 1e-6);
        ck_assert(isnan(psi_index(empty, actual, 2)));
}
END_TEST

START_TEST(test_psi_bands_at_their_edges) {
        ck_assert_int_eq(psi_band_of(0.0), PSI_BAND_STABLE);
        ck_assert_int_eq(psi_band_of(0.0999), PSI_BAND_STABLE);
        ck_assert_int_eq(psi_band_of(0.1), PSI_BAND_MODERATE);
        ck_assert_int_eq(psi_band_of(0.25), PSI_BAND_MODERATE);
        ck_assert_int_eq(psi_band_of(0.2501), PSI_BAND_SIGNIFICANT);
        ck_assert_str_eq(psi_band_name(PSI_BAND_SIGNIFICANT), "significant");
        ck_assert_str_eq(psi_band_name(psi_band_of(0.05)), "stable");
}
END_TEST

START_TEST(test_psi_edges_are_the_reference_quantiles) {
        double sample[100], edges[PSI_BINS_MAX];

        for (int i = 0; i < 100; i++)
                sample[i] = 100 - i; /* sorted by psi_edges */
        ck_assert_uint_eq(psi_edges(sample, 100, 4, edges), 3);
        ck_assert_double_eq(edges[0], 26);
        ck_assert_double_eq(edges[1], 51);
        ck_assert_double_eq(edges[2], 76);
        ck_assert_uint_eq(psi_edges(sample, 0, 4, edges), 0);
}
END_TEST

/* A flag that is mostly 0: the ten decile cuts collapse to two bins. */
START_TEST(test_psi_edges_merge_equal_cut_points) {
        double sample[100], edges[PSI_BINS_MAX];

        for (int i = 0; i < 100; i++)
                sample[i] = i < 90 ? 0 : 1;
        ck_assert_uint_eq(psi_edges(sample, 100, 10, edges), 2);
        ck_assert_double_eq(edges[0], 0);
        ck_assert_double_eq(edges[1], 1);
}
END_TEST

START_TEST(test_psi_bin_keeps_a_cut_point_in_the_lower_bin) {
        const double edges[3] = {1, 2, 3};

        ck_assert_uint_eq(psi_bin(edges, 3, 0.5), 0);
        ck_assert_uint_eq(psi_bin(edges, 3, 1), 0);
        ck_assert_uint_eq(psi_bin(edges, 3, 1.0001), 1);
        ck_assert_uint_eq(psi_bin(edges, 3, 3), 2);
        ck_assert_uint_eq(psi_bin(edges, 3, 3.5), 3);
        ck_assert_uint_eq(psi_bin(edges, 3, -INFINITY), 0);
        ck_assert_uint_eq(psi_bin(edges, 3, NAN), 4); /* the missing bin */
        ck_assert_uint_eq(psi_bin(edges, 0, 7), 0);
}
END_TEST

/* Two samples of one distribution: about (bins - 1) * 2 / n, far below
 * 0.1, and not exactly 0. */
START_TEST(test_psi_set_same_distribution_is_stable) {
        double psi = shifted_psi(0, 5000);

        ck_assert_msg(psi > 0 && psi < 0.02, "psi %g", psi);
        ck_assert_int_eq(psi_band_of(psi), PSI_BAND_STABLE);
}
END_TEST

START_TEST(test_psi_set_grows_with_the_shift) {
        double small = shifted_psi(0.1, 5000), half = shifted_psi(0.5, 5000);
        double one = shifted_psi(1.0, 5000);

        ck_assert_msg(small < half && half < one, "%g %g %g", small, half, one);
        ck_assert_int_eq(psi_band_of(small), PSI_BAND_STABLE);
        ck_assert_int_eq(psi_band_of(one), PSI_BAND_SIGNIFICANT);
}
END_TEST

START_TEST(test_psi_set_not_ready_until_the_window_is_full) {
        struct psi_set *s;
        double x = 0.5;

        ck_assert_int_eq(psi_set_new(1, 3, 2, 2, &s), 0);
        for (int i = 0; i < 4; i++) {
                ck_assert(!psi_set_ready(s));
                ck_assert(isnan(psi_set_value(s, 0)));
                psi_set_add(s, &x);
        }
        ck_assert_uint_eq(psi_set_reference_count(s), 3);
        ck_assert_uint_eq(psi_set_window_count(s), 1);
        psi_set_add(s, &x);
        ck_assert(psi_set_ready(s));
        ck_assert(!isnan(psi_set_value(s, 0)));
        psi_set_free(s);
}
END_TEST

/* The window forgets: drifted records that left it no longer count. */
START_TEST(test_psi_set_window_slides) {
        enum { N = 2000 };
        struct psi_set *s;
        uint64_t st = 7;
        double x;

        ck_assert_int_eq(psi_set_new(1, N, N, 10, &s), 0);
        for (int i = 0; i < N; i++) {
                x = uniform(&st);
                psi_set_add(s, &x);
        }
        for (int i = 0; i < N; i++) {
                x = 0.5 + uniform(&st) / 2; /* the upper half only */
                psi_set_add(s, &x);
        }
        ck_assert_int_eq(psi_band_of(psi_set_value(s, 0)), PSI_BAND_SIGNIFICANT);
        for (int i = 0; i < N; i++) {
                x = uniform(&st);
                psi_set_add(s, &x);
        }
        ck_assert_msg(psi_set_value(s, 0) < 0.05, "psi %g", psi_set_value(s, 0));
        psi_set_free(s);
}
END_TEST

/* Variables are independent; values going missing is a drift. */
START_TEST(test_psi_set_tracks_each_variable_and_missing_values) {
        enum { N = 1000 };
        uint64_t ref[PSI_SLOTS_MAX], win[PSI_SLOTS_MAX];
        struct psi_set *s;
        uint64_t st = 3;
        double x[2];
        size_t slots;

        ck_assert_int_eq(psi_set_new(2, N, N, 5, &s), 0);
        for (int i = 0; i < 2 * N; i++) {
                x[0] = uniform(&st);
                x[1] = i >= N && i % 2 ? NAN : uniform(&st);
                psi_set_add(s, x);
        }
        ck_assert_int_eq(psi_band_of(psi_set_value(s, 0)), PSI_BAND_STABLE);
        ck_assert_int_eq(psi_band_of(psi_set_value(s, 1)), PSI_BAND_SIGNIFICANT);
        slots = psi_set_counts(s, 1, ref, win);
        ck_assert_uint_eq(slots, 4 + 2); /* 5 quantile bins and the missing one */
        ck_assert_uint_eq(ref[slots - 1], 0);
        ck_assert_uint_eq(win[slots - 1], N / 2);
        psi_set_free(s);
}
END_TEST

START_TEST(test_psi_set_refuses_bad_sizes) {
        struct psi_set *s;

        ck_assert_int_eq(psi_set_new(0, 10, 10, 10, &s), -EINVAL);
        ck_assert_int_eq(psi_set_new(1, 0, 10, 10, &s), -EINVAL);
        ck_assert_int_eq(psi_set_new(1, 10, PSI_RECORDS_MAX + 1, 10, &s), -EINVAL);
        ck_assert_int_eq(psi_set_new(1, 10, 10, 1, &s), -EINVAL);
        ck_assert_int_eq(psi_set_new(1, 10, 10, PSI_BINS_MAX + 1, &s), -EINVAL);
        ck_assert_ptr_null(s);
        psi_set_free(NULL);
}
END_TEST

TESTING_MAIN("psi", test_psi_of_identical_histograms_is_zero,
             test_psi_matches_the_formula_with_its_smoothing, test_psi_bands_at_their_edges,
             test_psi_edges_are_the_reference_quantiles, test_psi_edges_merge_equal_cut_points,
             test_psi_bin_keeps_a_cut_point_in_the_lower_bin,
             test_psi_set_same_distribution_is_stable, test_psi_set_grows_with_the_shift,
             test_psi_set_not_ready_until_the_window_is_full, test_psi_set_window_slides,
             test_psi_set_tracks_each_variable_and_missing_values, test_psi_set_refuses_bad_sizes)
