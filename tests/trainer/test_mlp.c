/* test_mlp.c: tests of common/mlp.c, the neural model shared by trainer
 * and scorer: shape checks, a forward pass computed by hand, the backward
 * pass against finite differences, and the mlp.bin format (exact round
 * trip, corrupted, short and long files refused).  Files go to a mkdtemp
 * directory under $TMPDIR (or /tmp), removed by the test that made it. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mlp.h"
#include "tests/testing.h"

/* 2 -> 2 -> 1 with hand-picked parameters (see the forward test). */
static void tiny_init(struct fraud_mlp *m) {
        static const uint32_t sizes[] = {2, 2, 1};
        static const double params[] = {
                1,    -1, 0.5, 0.5, /* W1, output-major */
                0.5,  -2,           /* b1 */
                2,    3,            /* W2 */
                0.25,               /* b2 */
        };

        ck_assert_int_eq(fraud_mlp_init(m, 2, sizes), 0);
        ck_assert_uint_eq(m->n_params, sizeof(params) / sizeof(params[0]));
        memcpy(m->params, params, sizeof(params));
        m->mean[0] = 1;
        m->std[0] = 2;
}

static void file_path(char *dir, char *path, size_t size) {
        const char *tmp = getenv("TMPDIR");

        snprintf(dir, PATH_MAX, "%s/fraud-mlp-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, size, "%s/mlp.bin", dir);
}

static void file_remove(const char *dir, const char *path) {
        unlink(path);
        ck_assert_int_eq(rmdir(dir), 0);
}

static long file_bytes(const char *path, unsigned char *buf, size_t size) {
        FILE *f = fopen(path, "rb");
        size_t n;

        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, size, f);
        fclose(f);
        return (long)n;
}

static void file_write(const char *path, const unsigned char *buf, size_t n) {
        FILE *f = fopen(path, "wb");

        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_mlp_init_rejects_bad_shapes) {
        struct fraud_mlp m;
        const uint32_t two_out[] = {3, 2}, wide[] = {FRAUD_MLP_WIDTH_MAX + 1, 1},
                       zero[] = {3, 0, 1}, ok[] = {3, 4, 1};

        ck_assert_int_eq(fraud_mlp_init(&m, 1, two_out), -EINVAL);
        ck_assert_int_eq(fraud_mlp_init(&m, 1, wide), -EINVAL);
        ck_assert_int_eq(fraud_mlp_init(&m, 2, zero), -EINVAL);
        ck_assert_int_eq(fraud_mlp_init(&m, 0, ok), -EINVAL);
        ck_assert_int_eq(fraud_mlp_init(&m, FRAUD_MLP_LAYERS_MAX + 1, ok), -EINVAL);
        ck_assert_int_eq(fraud_mlp_init(&m, 2, ok), 0);
        ck_assert_uint_eq(m.n_params, 3 * 4 + 4 + 4 + 1);
        ck_assert_uint_eq(fraud_mlp_scratch_size(&m), 3 + 4 + 1);
        fraud_mlp_release(&m);
        fraud_mlp_release(&m); /* idempotent */
        fraud_mlp_release(NULL);
}
END_TEST

START_TEST(test_mlp_forward_equals_hand_computation) {
        struct fraud_mlp m;
        const double x[] = {3, 1};
        double scratch[5], p;

        tiny_init(&m);
        ck_assert_uint_eq(fraud_mlp_scratch_size(&m), 5);
        /* standardised: ((3 - 1) / 2, (1 - 0) / 1) = (1, 1)
         * hidden: relu(1 - 1 + 0.5) = 0.5, relu(0.5 + 0.5 - 2) = 0
         * output: sigmoid(2 * 0.5 + 3 * 0 + 0.25) = sigmoid(1.25) */
        p = fraud_mlp_forward(&m, x, scratch);
        ck_assert_double_eq_tol(p, 1.0 / (1.0 + exp(-1.25)), 1e-15);
        ck_assert_double_eq(scratch[0], 1);
        ck_assert_double_eq(scratch[1], 1);
        ck_assert_double_eq(scratch[2], 0.5);
        ck_assert_double_eq(scratch[3], 0);
        ck_assert_double_eq(scratch[4], p);
        fraud_mlp_release(&m);
}
END_TEST

static double logit_at(const struct fraud_mlp *m, const double *x, double *scratch) {
        double p = fraud_mlp_forward(m, x, scratch);

        return log(p / (1 - p));
}

START_TEST(test_mlp_backward_matches_finite_differences) {
        static const uint32_t sizes[] = {3, 4, 3, 1};
        const double x[] = {0.3, -1.2, 2.0};
        struct fraud_mlp m;
        double scratch[11], delta[11], *grad;

        ck_assert_int_eq(fraud_mlp_init(&m, 3, sizes), 0);
        for (size_t k = 0; k < m.n_params; k++)
                m.params[k] = sin((double)k * 1.7 + 0.3); /* no unit exactly at the kink */
        grad = calloc(m.n_params, sizeof(double));
        fraud_mlp_forward(&m, x, scratch);
        fraud_mlp_backward(&m, scratch, 1.0, grad, delta); /* d logit / d params */
        for (size_t k = 0; k < m.n_params; k++) {
                double keep = m.params[k], up, down, h = 1e-6;

                m.params[k] = keep + h;
                up = logit_at(&m, x, scratch);
                m.params[k] = keep - h;
                down = logit_at(&m, x, scratch);
                m.params[k] = keep;
                ck_assert_msg(fabs((up - down) / (2 * h) - grad[k]) < 1e-6, "param %zu: %g vs %g",
                              k, (up - down) / (2 * h), grad[k]);
        }
        free(grad);
        fraud_mlp_release(&m);
}
END_TEST

START_TEST(test_mlp_save_load_round_trip_is_bit_exact) {
        char dir[PATH_MAX], path[PATH_MAX + 16];
        unsigned char a[512], b[512];
        struct fraud_mlp m, back;
        long na, nb;

        tiny_init(&m);
        m.params[1] = -0x1.23456789abcdep-3; /* a value with every mantissa bit in use */
        file_path(dir, path, sizeof(path));
        ck_assert_int_eq(fraud_mlp_save(&m, path), 0);
        ck_assert_int_eq(fraud_mlp_load(&back, path), 0);
        ck_assert_uint_eq(back.n_layers, m.n_layers);
        ck_assert_int_eq(memcmp(back.sizes, m.sizes, sizeof(m.sizes)), 0);
        ck_assert_int_eq(memcmp(back.mean, m.mean, 2 * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(back.std, m.std, 2 * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(back.params, m.params, m.n_params * sizeof(double)), 0);
        na = file_bytes(path, a, sizeof(a));
        ck_assert_int_eq(fraud_mlp_save(&back, path), 0);
        nb = file_bytes(path, b, sizeof(b));
        ck_assert_int_eq(na, 8 + 4 + 3 * 4 + 2 * 2 * 8 + 9 * 8 + 8);
        ck_assert_int_eq(na, nb);
        ck_assert_int_eq(memcmp(a, b, (size_t)na), 0);
        fraud_mlp_release(&back);
        fraud_mlp_release(&m);
        file_remove(dir, path);
}
END_TEST

START_TEST(test_mlp_load_refuses_corrupted_short_and_long_files) {
        char dir[PATH_MAX], path[PATH_MAX + 16];
        unsigned char good[512], bad[513];
        struct fraud_mlp m;
        long n;

        tiny_init(&m);
        file_path(dir, path, sizeof(path));
        ck_assert_int_eq(fraud_mlp_save(&m, path), 0);
        fraud_mlp_release(&m);
        n = file_bytes(path, good, sizeof(good));
        for (long i = 0; i < n; i += 7) { /* any flipped byte, header or body */
                memcpy(bad, good, (size_t)n);
                bad[i] ^= 0x10;
                file_write(path, bad, (size_t)n);
                ck_assert_msg(fraud_mlp_load(&m, path) == -EINVAL, "byte %ld", i);
                ck_assert_ptr_null(m.params);
        }
        file_write(path, good, (size_t)n - 1);
        ck_assert_int_eq(fraud_mlp_load(&m, path), -EINVAL);
        file_write(path, good, 5);
        ck_assert_int_eq(fraud_mlp_load(&m, path), -EINVAL);
        memcpy(bad, good, (size_t)n);
        bad[n] = 0;
        file_write(path, bad, (size_t)n + 1);
        ck_assert_int_eq(fraud_mlp_load(&m, path), -EINVAL);
        file_write(path, good, (size_t)n);
        ck_assert_int_eq(fraud_mlp_load(&m, path), 0);
        fraud_mlp_release(&m);
        file_remove(dir, path);
        ck_assert_int_eq(fraud_mlp_load(&m, path), -ENOENT);
}
END_TEST

TESTING_MAIN("mlp", test_mlp_init_rejects_bad_shapes, test_mlp_forward_equals_hand_computation,
             test_mlp_backward_matches_finite_differences,
             test_mlp_save_load_round_trip_is_bit_exact,
             test_mlp_load_refuses_corrupted_short_and_long_files)
