/* Tests for lib/metrics.c: registration rules, exposition text, quantiles. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"

#include "tests/testing.h"

static char *render(struct fraud_metrics *m) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fraud_metrics_write(m, f), 0);
        fclose(f);
        return buf;
}

START_TEST(test_metrics_label_sets_share_one_help_and_type) {
        struct fraud_metrics *m;
        char *out;

        ck_assert_int_eq(fraud_metrics_new(&m), 0);
        uint64_t *a = fraud_metrics_counter(m, "x_rejected_total", "{reason=\"a\"}", "Rejected.");
        double *g = fraud_metrics_gauge(m, "x_lag", "", "Lag.");
        uint64_t *b = fraud_metrics_counter(m, "x_rejected_total", "{reason=\"b\"}", "Rejected.");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        *a += 2;
        *b += 5;
        *g = 1.5;
        out = render(m);
        ck_assert_str_eq(out, "# HELP x_rejected_total Rejected.\n"
                              "# TYPE x_rejected_total counter\n"
                              "x_rejected_total{reason=\"a\"} 2\n"
                              "x_rejected_total{reason=\"b\"} 5\n"
                              "# HELP x_lag Lag.\n"
                              "# TYPE x_lag gauge\n"
                              "x_lag 1.5\n");
        free(out);
        fraud_metrics_free(m);
}
END_TEST

START_TEST(test_metrics_rejects_bad_names_and_type_changes) {
        struct fraud_metrics *m;

        ck_assert_int_eq(fraud_metrics_new(&m), 0);
        ck_assert_ptr_null(fraud_metrics_counter(m, "9bad", "", ""));
        ck_assert_ptr_null(fraud_metrics_counter(m, "bad-name", "", ""));
        ck_assert_ptr_null(fraud_metrics_counter(m, "ok", "reason=x", ""));
        ck_assert_ptr_nonnull(fraud_metrics_counter(m, "ok", "", ""));
        ck_assert_ptr_null(fraud_metrics_gauge(m, "ok", "", ""));
        ck_assert_ptr_eq(fraud_metrics_counter(m, "ok", "", ""),
                         fraud_metrics_counter(m, "ok", "", ""));
        fraud_metrics_free(m);
        fraud_metrics_free(NULL);
}
END_TEST

START_TEST(test_metrics_registry_is_bounded) {
        struct fraud_metrics *m;
        char name[32];

        ck_assert_int_eq(fraud_metrics_new(&m), 0);
        for (int i = 0; i < FRAUD_METRICS_MAX; i++) {
                snprintf(name, sizeof(name), "m%d", i);
                ck_assert_ptr_nonnull(fraud_metrics_counter(m, name, "", ""));
        }
        ck_assert_ptr_null(fraud_metrics_counter(m, "one_more", "", ""));
        fraud_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_buckets_are_cumulative_with_le_label) {
        struct fraud_metrics *m;
        const double upper[] = {1, 2, 4};
        char *out;

        ck_assert_int_eq(fraud_metrics_new(&m), 0);
        struct fraud_histogram *h =
                fraud_metrics_histogram(m, "lat", "{stage=\"s\"}", "L.", upper, 3);
        ck_assert_ptr_nonnull(h);
        fraud_histogram_observe(h, 0.5);
        fraud_histogram_observe(h, 1.0); /* le: lands in the first bucket */
        fraud_histogram_observe(h, 3);
        fraud_histogram_observe(h, 9);
        out = render(m);
        ck_assert_ptr_nonnull(strstr(out, "lat_bucket{stage=\"s\",le=\"1\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(out, "lat_bucket{stage=\"s\",le=\"2\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(out, "lat_bucket{stage=\"s\",le=\"4\"} 3\n"));
        ck_assert_ptr_nonnull(strstr(out, "lat_bucket{stage=\"s\",le=\"+Inf\"} 4\n"));
        ck_assert_ptr_nonnull(strstr(out, "lat_sum{stage=\"s\"} 13.5\n"));
        ck_assert_ptr_nonnull(strstr(out, "lat_count{stage=\"s\"} 4\n"));
        free(out);
        fraud_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_quantile_interpolates_inside_bucket) {
        struct fraud_histogram h = {.nbuckets = 2, .upper = {10, 20}};

        ck_assert(isnan(fraud_histogram_quantile(&h, 0.5)));
        for (int i = 0; i < 100; i++)
                fraud_histogram_observe(&h, i < 50 ? 5 : 15);
        ck_assert_double_eq_tol(fraud_histogram_quantile(&h, 0.5), 10.0, 1e-9);
        ck_assert_double_eq_tol(fraud_histogram_quantile(&h, 0.75), 15.0, 1e-9);
        ck_assert_double_eq_tol(fraud_histogram_quantile(&h, 0.25), 5.0, 1e-9);
}
END_TEST

TESTING_MAIN("metrics", test_metrics_label_sets_share_one_help_and_type,
             test_metrics_rejects_bad_names_and_type_changes, test_metrics_registry_is_bounded,
             test_histogram_buckets_are_cumulative_with_le_label,
             test_histogram_quantile_interpolates_inside_bucket)
