/* bench_train.c: how long training takes and how much memory it needs.
 *
 *   bench_train [ROWS [FEATURES [THREADS]]]   (default 200000 rows, 30
 *                                              features, 2 threads)
 *
 * A synthetic, imbalanced set (about 1 % positives; the label depends on a
 * non-linear mix of five features plus noise; the rest are noise) from a
 * fixed seed, then the trainer's two fits with the default settings
 * (trainer section of common/settings.c): GBDT (XGBoost, hist, 200 rounds,
 * depth 6) and MLP (2 x 32, 20 epochs, Adam), then holdout AUC-ROC of both
 * on a second set.  Prints, per phase, wall time on the monotonic clock and
 * CPU time (getrusage, all threads), and the process's peak resident memory
 * (ru_maxrss).  Asserts nothing.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "common/settings.h"
#include "lib/bounds.h"
#include "lib/time.h"
#include "trainer/evaluate.h"
#include "trainer/fit.h"

#define BENCH_FEATURES_MAX 512 /* columns of the synthetic set */

struct set {
        double *x;
        uint8_t *y;
        size_t n, d;
};

static uint64_t lcg(uint64_t *s) {
        *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        return *s >> 11;
}

static double unit(uint64_t *s) {
        return (double)lcg(s) * 0x1.0p-53;
}

static int set_make(struct set *s, size_t n, size_t d, uint64_t seed) {
        s->n = n;
        s->d = d;
        s->x = malloc(n * d * sizeof(double));
        s->y = malloc(n);
        if (!s->x || !s->y)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                double *r = s->x + i * d, z;

                for (size_t j = 0; j < d; j++)
                        r[j] = unit(&seed);
                z = 3 * r[0] * r[1] + 2 * (r[2] > 0.9) + sin(6 * r[3]) + r[4 % d] + unit(&seed);
                s->y[i] = z > 4.1;
        }
        return 0;
}

static void set_free(struct set *s) {
        free(s->x);
        free(s->y);
}

static double seconds_since(int64_t t0_ns) {
        return (double)(fraud_time_mono_ns() - t0_ns) / 1e9;
}

/* User + system CPU seconds of the process so far (all threads): on a busy
 * machine wall time overstates the work, this does not. */
static double cpu_seconds(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long peak_rss_mib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss / 1024;
}

static size_t arg_size(const char *s, size_t min, size_t max, size_t def) {
        char *end;
        unsigned long long v;

        if (!s)
                return def;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max) {
                fprintf(stderr, "bench_train: '%s' not in [%zu, %zu], using %zu\n", s, min, max,
                        def);
                return def;
        }
        return (size_t)v;
}

static void report_auc(const char *what, const double *p, const struct set *t) {
        double auc = NAN;

        evaluate_auc_roc(p, t->y, t->n, &auc);
        printf("  %-5s holdout AUC-ROC %.4f\n", what, auc);
}

static int bench_gbdt(const struct fraud_settings_trainer *s, const struct set *train,
                      const struct set *test, double *p) {
        const struct fit_data d = {train->x, train->y, train->n, train->d};
        const struct fit_gbdt_params gp = {.rounds = (uint32_t)s->gbdt_rounds,
                                           .max_depth = (uint32_t)s->gbdt_max_depth,
                                           .eta = s->gbdt_eta,
                                           .pos_weight = 0,
                                           .threads = (uint32_t)s->threads,
                                           .seed = 1};
        struct fit_report rep;
        BoosterHandle b;
        char err[256];
        int64_t t0 = fraud_time_mono_ns();
        double c0 = cpu_seconds();
        int r = fit_gbdt(&d, &gp, &b, &rep, err, sizeof(err));

        if (r < 0) {
                fprintf(stderr, "bench_train: gbdt: %s\n", err);
                return r;
        }
        printf("gbdt  %3lld rounds depth %lld, %lld threads: train %.2f s wall, %.2f s CPU; peak "
               "RSS %ld MiB\n",
               (long long)s->gbdt_rounds, (long long)s->gbdt_max_depth, (long long)s->threads,
               seconds_since(t0), cpu_seconds() - c0, peak_rss_mib());
        t0 = fraud_time_mono_ns();
        r = fit_gbdt_predict(b, test->x, test->n, test->d, p, err, sizeof(err));
        printf("  predict %zu rows: %.2f s (%.2f us/row)\n", test->n, seconds_since(t0),
               seconds_since(t0) * 1e6 / (double)test->n);
        fit_gbdt_free(b);
        if (r == 0)
                report_auc("gbdt", p, test);
        return r;
}

static int bench_mlp(const struct fraud_settings_trainer *s, const struct set *train,
                     const struct set *test, double *p) {
        const struct fit_data d = {train->x, train->y, train->n, train->d};
        const struct fit_mlp_params mp = {.hidden_layers = (uint32_t)s->mlp_hidden_layers,
                                          .hidden = (uint32_t)s->mlp_hidden,
                                          .epochs = (uint32_t)s->mlp_epochs,
                                          .batch_rows = (uint32_t)s->mlp_batch_rows,
                                          .learning_rate = s->mlp_learning_rate,
                                          .pos_weight = 0,
                                          .seed = 1};
        struct fit_report rep;
        struct fraud_mlp m;
        double *scratch;
        int64_t t0 = fraud_time_mono_ns();
        double c0 = cpu_seconds();
        int r = fit_mlp(&d, &mp, &m, &rep);

        if (r < 0)
                return r;
        printf("mlp   %lld x %lld, %lld epochs: train %.2f s wall, %.2f s CPU (loss %.4f -> "
               "%.4f); peak RSS %ld MiB\n",
               (long long)s->mlp_hidden_layers, (long long)s->mlp_hidden, (long long)s->mlp_epochs,
               seconds_since(t0), cpu_seconds() - c0, rep.loss_initial, rep.loss_final,
               peak_rss_mib());
        scratch = malloc(fraud_mlp_scratch_size(&m) * sizeof(double));
        t0 = fraud_time_mono_ns();
        for (size_t i = 0; scratch && i < test->n; i++)
                p[i] = fraud_mlp_forward(&m, test->x + i * test->d, scratch);
        printf("  forward %zu rows: %.2f s (%.3f us/row)\n", test->n, seconds_since(t0),
               seconds_since(t0) * 1e6 / (double)test->n);
        report_auc("mlp", p, test);
        free(scratch);
        fraud_mlp_release(&m);
        return 0;
}

int main(int argc, char **argv) {
        size_t rows = arg_size(argc > 1 ? argv[1] : NULL, 1000, FRAUD_TRAIN_ROWS_MAX, 200000);
        size_t cols = arg_size(argc > 2 ? argv[2] : NULL, 1, BENCH_FEATURES_MAX, 30);
        size_t threads = arg_size(argc > 3 ? argv[3] : NULL, 1, FRAUD_TRAIN_THREADS_MAX, 2);
        struct fraud_settings settings;
        struct set train = {0}, test = {0};
        double *p = NULL;
        int r;

        if (fraud_settings_init(&settings) < 0)
                return 1;
        settings.trainer.threads = (int64_t)threads;
        r = set_make(&train, rows, cols, 1);
        if (r == 0)
                r = set_make(&test, rows / 4, cols, 2);
        if (r == 0 && !(p = malloc(test.n * sizeof(double))))
                r = -ENOMEM;
        if (r == 0) {
                printf("bench_train: %zu training rows x %zu features, %zu holdout rows; peak "
                       "RSS %ld MiB before training\n",
                       rows, cols, test.n, peak_rss_mib());
                r = bench_gbdt(&settings.trainer, &train, &test, p);
        }
        if (r == 0)
                r = bench_mlp(&settings.trainer, &train, &test, p);
        free(p);
        set_free(&train);
        set_free(&test);
        fraud_settings_release(&settings);
        return r < 0 ? 1 : 0;
}
