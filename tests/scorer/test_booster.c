/* Tests for scorer/booster.c against XGBoost itself: a tiny booster is
 * trained here on synthetic data and saved as gbdt.json; single-row
 * predictions through the proxy must equal XGBoosterPredictFromDMatrix()
 * on a whole DMatrix of the same rows, and contributions must sum to the
 * margin. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scorer/booster.h"
#include "tests/scorer/kit.h"
#include "tests/testing.h"

#define ROWS 300

static const char *predict_config(int type) {
        return type == 0 ? "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                           "\"iteration_end\": 0, \"strict_shape\": false}"
                         : "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
                           "\"iteration_end\": 0, \"strict_shape\": false}";
}

/* XGBoost's own predictions (type 0 or 1) of rows of x from path. */
static void reference_predict(const char *path, const float *x, int type, float *out) {
        BoosterHandle b;
        DMatrixHandle m;
        bst_ulong const *shape;
        bst_ulong dim;
        float const *res;

        ck_assert_int_eq(XGBoosterCreate(NULL, 0, &b), 0);
        ck_assert_int_eq(XGBoosterLoadModel(b, path), 0);
        ck_assert_int_eq(XGDMatrixCreateFromMat(x, ROWS, KIT_FEATURES, NAN, &m), 0);
        ck_assert_int_eq(
                XGBoosterPredictFromDMatrix(b, m, predict_config(type), &shape, &dim, &res), 0);
        ck_assert_uint_eq(shape[0], ROWS);
        memcpy(out, res, ROWS * sizeof(float));
        XGDMatrixFree(m);
        XGBoosterFree(b);
}

static char dir[64], path[128];

static void model_make(void) {
        snprintf(dir, sizeof(dir), "/tmp/booster-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        kit_gbdt_write(dir, 11, 20, 4);
        snprintf(path, sizeof(path), "%s/gbdt.json", dir);
}

static void row_of(const float *x, size_t i, double *row) {
        for (size_t j = 0; j < KIT_FEATURES; j++)
                row[j] = x[i * KIT_FEATURES + j];
}

START_TEST(test_booster_single_rows_equal_xgboost_whole_matrix) {
        static float x[ROWS * KIT_FEATURES], y[ROWS], want[ROWS];
        struct booster *b;
        char err[512];
        double row[KIT_FEATURES], p, spread = 0;

        model_make();
        kit_data(99, ROWS, x, y);
        x[5 * KIT_FEATURES + 2] = NAN; /* a missing value takes the default branch */
        reference_predict(path, x, 0, want);
        ck_assert_msg(booster_load(path, KIT_FEATURES, 1, &b, err, sizeof(err)) == 0, "%s", err);
        for (size_t i = 0; i < ROWS; i++) {
                row_of(x, i, row);
                ck_assert_int_eq(booster_predict(b, row, &p), 0);
                ck_assert_msg(fabs(p - want[i]) <= 1e-6, "row %zu: %.9g vs %.9g", i, p, want[i]);
                spread += fabs(want[i] - want[0]);
        }
        ck_assert(spread > 1.0); /* the rows really differ */
        booster_free(b);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_booster_batch_of_rows_equals_xgboost_whole_matrix) {
        static float x[ROWS * KIT_FEATURES], y[ROWS], want[ROWS];
        static double rows[ROWS][KIT_FEATURES], p[ROWS];
        const double *ptrs[ROWS];
        struct booster *b;
        char err[512];

        model_make();
        kit_data(31, ROWS, x, y);
        reference_predict(path, x, 0, want);
        for (size_t i = 0; i < ROWS; i++) {
                row_of(x, i, rows[i]);
                ptrs[i] = rows[i];
        }
        ck_assert_int_eq(booster_load(path, KIT_FEATURES, 1, &b, err, sizeof(err)), 0);
        ck_assert_int_eq(booster_predict_rows(b, ptrs, 7, p), 0); /* a smaller batch first */
        ck_assert_int_eq(booster_predict_rows(b, ptrs, ROWS, p), 0);
        for (size_t i = 0; i < ROWS; i++)
                ck_assert_msg(fabs(p[i] - want[i]) <= 1e-6, "row %zu: %.9g vs %.9g", i, p[i],
                              want[i]);
        ck_assert_int_eq(booster_predict_rows(b, ptrs, 0, p), -EINVAL);
        booster_free(b);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_booster_contributions_sum_to_margin) {
        static float x[ROWS * KIT_FEATURES], y[ROWS], margin[ROWS];
        struct booster *b;
        char err[512];
        double row[KIT_FEATURES], c[KIT_FEATURES + 1];

        model_make();
        kit_data(5, ROWS, x, y);
        reference_predict(path, x, 1, margin);
        ck_assert_int_eq(booster_load(path, KIT_FEATURES, 1, &b, err, sizeof(err)), 0);
        for (size_t i = 0; i < 50; i++) {
                double sum = 0;
                row_of(x, i, row);
                ck_assert_int_eq(booster_contributions(b, row, c), 0);
                for (size_t j = 0; j <= KIT_FEATURES; j++)
                        sum += c[j];
                ck_assert_msg(fabs(sum - margin[i]) <= 1e-4, "row %zu: %g vs %g", i, sum,
                              margin[i]);
        }
        booster_free(b);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_booster_refuses_model_with_other_feature_count) {
        struct booster *b = NULL;
        char err[512] = "";

        model_make();
        ck_assert_int_eq(booster_load(path, KIT_FEATURES + 1, 1, &b, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_null(b);
        ck_assert_msg(strstr(err, "6 features, the model lists 7") != NULL, "%s", err);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_booster_unreadable_model_is_eio_with_reason) {
        struct booster *b = NULL;
        char err[512] = "";

        ck_assert_int_eq(booster_load("/nonexistent/gbdt.json", 3, 1, &b, err, sizeof(err)), -EIO);
        ck_assert_ptr_null(b);
        ck_assert_msg(strstr(err, "/nonexistent/gbdt.json") != NULL, "%s", err);
        booster_free(NULL);
}
END_TEST

TESTING_MAIN("booster", test_booster_single_rows_equal_xgboost_whole_matrix,
             test_booster_batch_of_rows_equals_xgboost_whole_matrix,
             test_booster_contributions_sum_to_margin,
             test_booster_refuses_model_with_other_feature_count,
             test_booster_unreadable_model_is_eio_with_reason)
