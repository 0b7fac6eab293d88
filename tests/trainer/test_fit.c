/* test_fit.c: tests of trainer/fit.c: the GBDT learns separable data,
 * predicts the same after a save/load round trip, reacts to class
 * weighting; the MLP lowers its loss and learns XOR; both give identical
 * bytes for the same seed.  Data are generated in the test from a fixed
 * seed; a few rounds and epochs keep it fast. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer/evaluate.h"
#include "trainer/fit.h"

#include "tests/testing.h"

#define COLS 4

struct set {
        double *x;
        uint8_t *y;
        size_t n;
};

static double unit(uint64_t *s) { /* uniform in [0, 1): a 64-bit LCG's top bits */
        *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        return (double)(*s >> 11) * 0x1.0p-53;
}

/* label = 1 when x0 + x1 + noise * u > 1.6: about 8 % positives; noise 0
 * makes it separable. */
static struct set set_make(size_t n, double noise, uint64_t seed) {
        struct set s = {calloc(n * COLS, sizeof(double)), calloc(n, 1), n};

        for (size_t i = 0; i < n; i++) {
                double *r = s.x + i * COLS;

                for (int j = 0; j < COLS; j++)
                        r[j] = unit(&seed);
                s.y[i] = r[0] + r[1] + noise * (unit(&seed) - 0.5) > 1.6;
        }
        return s;
}

static void set_free(struct set *s) {
        free(s->x);
        free(s->y);
}

static struct fit_data view(const struct set *s) {
        return (struct fit_data){s->x, s->y, s->n, COLS};
}

static const struct fit_gbdt_params gbdt_params = {
        .rounds = 20, .max_depth = 4, .eta = 0.3, .pos_weight = 0, .threads = 2, .seed = 7};

static BoosterHandle gbdt_fit_ok(const struct set *s, const struct fit_gbdt_params *p) {
        struct fit_data d = view(s);
        BoosterHandle b;
        char err[256];
        int r = fit_gbdt(&d, p, &b, NULL, err, sizeof(err));

        ck_assert_msg(r == 0, "fit_gbdt: %d %s", r, err);
        return b;
}

static double *gbdt_scores(BoosterHandle b, const struct set *s) {
        double *p = calloc(s->n, sizeof(double));
        char err[256];

        ck_assert_msg(fit_gbdt_predict(b, s->x, s->n, COLS, p, err, sizeof(err)) == 0, "%s", err);
        return p;
}

START_TEST(test_fit_gbdt_reaches_high_auc_on_separable_data) {
        struct set train = set_make(3000, 0, 1), test = set_make(1000, 0, 2);
        BoosterHandle b = gbdt_fit_ok(&train, &gbdt_params);
        double *p = gbdt_scores(b, &test), auc;

        ck_assert_int_eq(evaluate_auc_roc(p, test.y, test.n, &auc), 0);
        ck_assert_msg(auc > 0.98, "auc %f", auc);
        free(p);
        fit_gbdt_free(b);
        set_free(&train);
        set_free(&test);
}
END_TEST

/* XGBoost's own prediction path: a DMatrix of floats, PredictFromDMatrix. */
static double *xgboost_scores(BoosterHandle b, const struct set *s) {
        static const char config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                     "\"iteration_end\": 0, \"strict_shape\": false}";
        float *xf = calloc(s->n * COLS, sizeof(float));
        double *p = calloc(s->n, sizeof(double));
        const bst_ulong *shape;
        const float *out;
        DMatrixHandle dm;
        bst_ulong dim;

        for (size_t i = 0; i < s->n * COLS; i++)
                xf[i] = (float)s->x[i];
        ck_assert_int_eq(XGDMatrixCreateFromMat(xf, s->n, COLS, NAN, &dm), 0);
        ck_assert_int_eq(XGBoosterPredictFromDMatrix(b, dm, config, &shape, &dim, &out), 0);
        ck_assert_uint_eq(shape[0], s->n);
        for (size_t i = 0; i < s->n; i++)
                p[i] = out[i];
        XGDMatrixFree(dm);
        free(xf);
        return p;
}

START_TEST(test_fit_gbdt_predictions_survive_save_load) {
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX], path[PATH_MAX + 16], err[256];
        struct set train = set_make(2000, 0.3, 3), test = set_make(5000, 0.3, 4);
        BoosterHandle b = gbdt_fit_ok(&train, &gbdt_params), back;
        double *before = gbdt_scores(b, &test), *after;

        snprintf(dir, sizeof(dir), "%s/fraud-fit-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/gbdt.json", dir);
        ck_assert_int_eq(fit_gbdt_save(b, path, err, sizeof(err)), 0);
        ck_assert_msg(fit_gbdt_load(path, 1, &back, err, sizeof(err)) == 0, "%s", err);
        after = xgboost_scores(back, &test);
        for (size_t i = 0; i < test.n; i++)
                ck_assert_msg(fabs(before[i] - after[i]) <= 1e-6, "row %zu: %.9f vs %.9f", i,
                              before[i], after[i]);
        free(after);
        after = gbdt_scores(back, &test);
        for (size_t i = 0; i < test.n; i++)
                ck_assert_double_eq_tol(before[i], after[i], 1e-6);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(dir), 0);
        ck_assert_int_lt(fit_gbdt_load(path, 1, &back, err, sizeof(err)), 0);
        free(before);
        free(after);
        fit_gbdt_free(b);
        set_free(&train);
        set_free(&test);
}
END_TEST

static double flagged_share(const double *p, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                k += p[i] >= 0.5;
        return (double)k / (double)n;
}

START_TEST(test_fit_gbdt_class_weighting_raises_predicted_positive_rate) {
        struct set train = set_make(3000, 0.8, 5), test = set_make(2000, 0.8, 6);
        struct fit_gbdt_params plain = gbdt_params, weighted = gbdt_params;
        BoosterHandle bp, bw;
        double *pp, *pw;
        struct fit_data d = view(&train);
        struct fit_report rep;
        char err[256];

        plain.pos_weight = 1;
        weighted.pos_weight = 0; /* negatives / positives */
        bp = gbdt_fit_ok(&train, &plain);
        ck_assert_int_eq(fit_gbdt(&d, &weighted, &bw, &rep, err, sizeof(err)), 0);
        ck_assert(rep.pos_weight > 5);
        pp = gbdt_scores(bp, &test);
        pw = gbdt_scores(bw, &test);
        ck_assert_msg(flagged_share(pw, test.n) > 1.5 * flagged_share(pp, test.n), "%f vs %f",
                      flagged_share(pw, test.n), flagged_share(pp, test.n));
        free(pp);
        free(pw);
        fit_gbdt_free(bp);
        fit_gbdt_free(bw);
        set_free(&train);
        set_free(&test);
}
END_TEST

START_TEST(test_fit_calibration_takes_class_weight_back_out) {
        struct set train = set_make(2000, 0.8, 15), test = set_make(500, 0.8, 16);
        struct fit_data d = view(&train);
        struct fit_mlp_params mp = {.hidden_layers = 1,
                                    .hidden = 4,
                                    .epochs = 2,
                                    .batch_rows = 64,
                                    .learning_rate = 0.01,
                                    .seed = 1};
        BoosterHandle b = gbdt_fit_ok(&train, &gbdt_params);
        double *raw = gbdt_scores(b, &test), *cal, scratch[COLS + 4 + 1];
        struct fit_report rep;
        struct fraud_mlp m;
        char err[256];

        ck_assert_int_eq(fit_pos_weight(train.y, train.n, 0, &rep.pos_weight), 0);
        ck_assert_int_eq(fit_gbdt_calibrate(b, rep.pos_weight, err, sizeof(err)), 0);
        cal = gbdt_scores(b, &test);
        for (size_t i = 0; i < test.n; i++)
                ck_assert_double_eq_tol(cal[i], fit_calibrated(raw[i], rep.pos_weight), 1e-6);
        ck_assert_int_eq(fit_mlp(&d, &mp, &m, &rep), 0);
        for (size_t i = 0; i < test.n; i++) {
                double p = fraud_mlp_forward(&m, test.x + i * COLS, scratch);

                fit_mlp_calibrate(&m, rep.pos_weight);
                ck_assert_double_eq_tol(fraud_mlp_forward(&m, test.x + i * COLS, scratch),
                                        fit_calibrated(p, rep.pos_weight), 1e-12);
                fit_mlp_calibrate(&m, 1 / rep.pos_weight);
        }
        fraud_mlp_release(&m);
        free(raw);
        free(cal);
        fit_gbdt_free(b);
        set_free(&train);
        set_free(&test);
}
END_TEST

START_TEST(test_fit_gbdt_same_seed_gives_identical_model_bytes) {
        struct set train = set_make(2000, 0.5, 8);
        struct fit_gbdt_params sub = gbdt_params;
        BoosterHandle a = gbdt_fit_ok(&train, &sub), b = gbdt_fit_ok(&train, &sub);
        char *ja, *jb, err[256];
        size_t na, nb;

        ck_assert_int_eq(fit_gbdt_bytes(a, &ja, &na, err, sizeof(err)), 0);
        ck_assert_int_eq(fit_gbdt_bytes(b, &jb, &nb, err, sizeof(err)), 0);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(ja, jb, na), 0);
        free(ja);
        free(jb);
        fit_gbdt_free(a);
        fit_gbdt_free(b);
        set_free(&train);
}
END_TEST

START_TEST(test_fit_gbdt_refuses_one_class_and_bad_params) {
        struct set s = set_make(100, 0, 9);
        struct fit_gbdt_params p = gbdt_params;
        struct fit_data d = view(&s);
        BoosterHandle b;
        char err[256];

        memset(s.y, 0, s.n);
        ck_assert_int_eq(fit_gbdt(&d, &p, &b, NULL, err, sizeof(err)), -EDOM);
        ck_assert_ptr_null(b);
        s.y[0] = 1;
        p.threads = 0;
        ck_assert_int_eq(fit_gbdt(&d, &p, &b, NULL, err, sizeof(err)), -EINVAL);
        p.threads = 1;
        s.x[3] = NAN;
        ck_assert_int_eq(fit_gbdt(&d, &p, &b, NULL, err, sizeof(err)), -EINVAL);
        set_free(&s);
}
END_TEST

static const struct fit_mlp_params mlp_params = {.hidden_layers = 1,
                                                 .hidden = 16,
                                                 .epochs = 60,
                                                 .batch_rows = 32,
                                                 .learning_rate = 0.01,
                                                 .pos_weight = 1,
                                                 .seed = 11};

START_TEST(test_fit_mlp_training_lowers_the_loss) {
        struct set s = set_make(1000, 0.2, 10);
        struct fit_mlp_params p = mlp_params;
        struct fit_data d = view(&s);
        struct fit_report rep;
        struct fraud_mlp m;

        p.epochs = 10;
        p.pos_weight = 0;
        ck_assert_int_eq(fit_mlp(&d, &p, &m, &rep), 0);
        ck_assert(rep.pos_weight > 5);
        ck_assert_msg(rep.loss_final < 0.6 * rep.loss_initial, "%f -> %f", rep.loss_initial,
                      rep.loss_final);
        ck_assert_double_eq_tol(fit_mlp_loss(&m, &d, rep.pos_weight), rep.loss_final, 1e-12);
        fraud_mlp_release(&m);
        set_free(&s);
}
END_TEST

START_TEST(test_fit_mlp_learns_xor) {
        const size_t n = 400;
        double *x = calloc(n * 2, sizeof(double)), scratch[32];
        uint8_t *y = calloc(n, 1);
        struct fit_data d = {x, y, n, 2};
        struct fraud_mlp m;
        uint64_t seed = 12;
        size_t right = 0;

        for (size_t i = 0; i < n; i++) { /* quadrants: fraud where the signs agree */
                x[2 * i] = 2 * unit(&seed) - 1;
                x[2 * i + 1] = 2 * unit(&seed) - 1;
                y[i] = (x[2 * i] > 0) == (x[2 * i + 1] > 0);
        }
        ck_assert_int_eq(fit_mlp(&d, &mlp_params, &m, NULL), 0);
        for (size_t i = 0; i < n; i++)
                right += (fraud_mlp_forward(&m, x + 2 * i, scratch) >= 0.5) == y[i];
        ck_assert_msg(right >= n * 9 / 10, "%zu of %zu right", right, n);
        fraud_mlp_release(&m);
        free(x);
        free(y);
}
END_TEST

START_TEST(test_fit_mlp_same_seed_gives_identical_parameters) {
        struct set s = set_make(500, 0.5, 13);
        struct fit_mlp_params p = mlp_params;
        struct fit_data d = view(&s);
        struct fraud_mlp a, b, c;

        p.epochs = 3;
        p.hidden_layers = 2;
        ck_assert_int_eq(fit_mlp(&d, &p, &a, NULL), 0);
        ck_assert_int_eq(fit_mlp(&d, &p, &b, NULL), 0);
        p.seed++;
        ck_assert_int_eq(fit_mlp(&d, &p, &c, NULL), 0);
        ck_assert_uint_eq(a.n_params, b.n_params);
        ck_assert_int_eq(memcmp(a.params, b.params, a.n_params * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(a.mean, b.mean, COLS * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(a.std, b.std, COLS * sizeof(double)), 0);
        ck_assert_int_ne(memcmp(a.params, c.params, a.n_params * sizeof(double)), 0);
        fraud_mlp_release(&a);
        fraud_mlp_release(&b);
        fraud_mlp_release(&c);
        set_free(&s);
}
END_TEST

START_TEST(test_fit_mlp_refuses_one_class) {
        struct set s = set_make(50, 0, 14);
        struct fit_data d = view(&s);
        struct fraud_mlp m;

        memset(s.y, 1, s.n);
        ck_assert_int_eq(fit_mlp(&d, &mlp_params, &m, NULL), -EDOM);
        ck_assert_ptr_null(m.params);
        set_free(&s);
}
END_TEST

TESTING_MAIN("fit", test_fit_gbdt_reaches_high_auc_on_separable_data,
             test_fit_gbdt_predictions_survive_save_load,
             test_fit_gbdt_class_weighting_raises_predicted_positive_rate,
             test_fit_calibration_takes_class_weight_back_out,
             test_fit_gbdt_same_seed_gives_identical_model_bytes,
             test_fit_gbdt_refuses_one_class_and_bad_params, test_fit_mlp_training_lowers_the_loss,
             test_fit_mlp_learns_xor, test_fit_mlp_same_seed_gives_identical_parameters,
             test_fit_mlp_refuses_one_class)
