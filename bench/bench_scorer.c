/* bench_scorer.c: microseconds per transaction of the scorer's cascade.
 *
 *   bench_scorer [TRANSACTIONS [TREES]]    (default 100000 transactions,
 *                                           a GBDT of 100 trees of depth 6)
 *
 * On one core (the process is pinned to CPU 0, XGBoost to one thread), over
 * a model directory made as the tests make one (tests/scorer/kit.h: a
 * booster trained on synthetic rows, an MLP, band [0.3, 0.7]) and a rules
 * file of a deny list of 1000 devices, a limit and two expressions:
 * Most rows are made low-risk (one in 50 keeps the training data's
 * values), so most transactions are allowed on the GBDT alone.
 *   1. the cascade: decide_batch() (rules + GBDT + MLP on its band + the
 *      contributions behind a model's review or block) one transaction at
 *      a time, then in batches of 100 and 1000 as the stage decides a
 *      consumed batch (one GBDT call per batch; each transaction counts
 *      its batch's time / batch size), p50/p99/mean, with how many
 *      transactions each stage decided; target 10 µs p50 (DESIGN.md
 *      section 8);
 *   2. for comparison, the raw XGBoost single-row calls: in-place
 *      prediction through the reused proxy (what the scorer does), and a
 *      one-row DMatrix with XGBoosterPredictFromDMatrix (what a naive caller
 *      does), p50/p99.
 * Kafka is not involved.  Nothing is asserted; the model directory is
 * removed afterwards.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"
#include "scorer/decide.h"
#include "tests/scorer/kit.h"

#define BENCH_ROWS        4096 /* distinct synthetic rows, cycled */
#define BENCH_DENY_ITEMS  1000 /* devices on the deny list */
#define BENCH_RULES_BYTES (64 * 1024)
#define BENCH_BATCH_MAX   1000 /* the default kafka.batch_records_max */
#define BENCH_RISKY_EVERY 50   /* one row in this many keeps its risky values */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *ns, size_t n) {
        double sum = 0;

        for (size_t i = 0; i < n; i++)
                sum += (double)ns[i];
        qsort(ns, n, sizeof(ns[0]), cmp_u64);
        printf("%-44s p50 %6.2f µs  p99 %6.2f µs  mean %6.2f µs\n", what, (double)ns[n / 2] / 1e3,
               (double)ns[n * 99 / 100] / 1e3, sum / (double)n / 1e3);
}

/* Transaction i of the cycled rows, its values in row. */
static void bench_tx(const float *x, size_t i, double *row, struct decide_tx *tx) {
        const float *r = x + (i % BENCH_ROWS) * KIT_FEATURES;

        for (size_t j = 0; j < KIT_FEATURES; j++)
                row[j] = r[j];
        memset(tx, 0, sizeof(*tx));
        tx->schema_hash = kit_hash();
        tx->values = row;
        tx->n_values = KIT_FEATURES;
        tx->amount_minor = 500 + (int64_t)(i % 997) * 50;
        tx->rules.keys[RULES_KEY_DEVICE] = "dev-x";
        tx->rules.env.tx[EXPR_TX_AMOUNT] = (double)tx->amount_minor;
}

static struct rules *bench_rules(void) {
        static char text[BENCH_RULES_BYTES];
        const struct expr_schema schema = {kit_names, KIT_FEATURES};
        struct rules *r = NULL;
        char err[512];
        size_t n = (size_t)snprintf(text, sizeof(text), "version: bench\ndeny:\n  device: [");

        for (int i = 0; i < BENCH_DENY_ITEMS; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%sdev-%d", i ? ", " : "", i);
        snprintf(text + n, sizeof(text) - n,
                 "]\nrules:\n"
                 "  - {name: burst, action: block, when: \"card_tx_count_1h > 19.9 and "
                 "tx.amount > 50000\"}\n"
                 "  - {name: amount_24h, action: review, feature: card_amount_24h, max: 29000}\n"
                 "  - {name: new_country_big, action: continue, when: \"new_country == 1 and "
                 "amount_zscore * 2 > 1.5\"}\n");
        if (rules_parse("bench.yaml", text, strlen(text), &schema, &r, err, sizeof(err)) < 0)
                fprintf(stderr, "bench rules: %s\n", err);
        return r;
}

/* Decides n transactions in batches of `batch` (one decide_batch() call
 * each, as the stage does with a consumed batch); each transaction's
 * figure is its batch's time divided by the batch size. */
static void bench_cascade(struct serving *m, const struct rules *rules, const float *x, size_t n,
                          size_t batch, uint64_t *ns, bool quiet) {
        const struct decide_config cfg = {.costs = {.false_positive = 500,
                                                    .false_negative = 10000,
                                                    .fn_is_amount = true,
                                                    .review_ratio = 0.5,
                                                    .degraded_decision = CASCADE_ALLOW},
                                          .reasons_max = 3};
        static double rows[BENCH_BATCH_MAX][KIT_FEATURES];
        static struct decide_tx txs[BENCH_BATCH_MAX];
        static struct decide_result res[BENCH_BATCH_MAX];
        size_t stages[4] = {0}, decisions[4] = {0};
        char what[64];

        for (size_t done = 0; done + batch <= n; done += batch) {
                int64_t t0;
                uint64_t each;
                for (size_t b = 0; b < batch; b++)
                        bench_tx(x, done + b, rows[b], &txs[b]);
                t0 = fraud_time_mono_ns();
                decide_batch(&cfg, rules, kit_hash(), m, txs, batch, res);
                each = (uint64_t)(fraud_time_mono_ns() - t0) / batch;
                for (size_t b = 0; b < batch; b++) {
                        ns[done + b] = each;
                        stages[res[b].cascade.stage]++;
                        decisions[res[b].cascade.decision]++;
                }
        }
        if (quiet)
                return;
        snprintf(what, sizeof(what), "cascade, batches of %zu, per transaction", batch);
        report(what, ns, n / batch * batch);
        printf("  decided by rules %zu, GBDT %zu, MLP %zu; allow %zu, review %zu, block %zu\n",
               stages[1], stages[2], stages[3], decisions[1], decisions[2], decisions[3]);
}

static void bench_raw(struct serving *m, const char *dir, const float *x, size_t n, uint64_t *ns) {
        static const char cfg[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                  "\"iteration_end\": 0, \"strict_shape\": false}";
        double row[KIT_FEATURES], p;
        char path[4200];
        BoosterHandle b;

        for (size_t i = 0; i < n; i++) {
                const float *r = x + (i % BENCH_ROWS) * KIT_FEATURES;
                int64_t t0 = fraud_time_mono_ns();
                for (size_t j = 0; j < KIT_FEATURES; j++)
                        row[j] = r[j];
                booster_predict(m->gbdt, row, &p);
                ns[i] = (uint64_t)(fraud_time_mono_ns() - t0);
        }
        report("XGBoost in place, reused proxy", ns, n);
        snprintf(path, sizeof(path), "%s/gbdt.json", dir);
        if (XGBoosterCreate(NULL, 0, &b) != 0 || XGBoosterLoadModel(b, path) != 0 ||
            XGBoosterSetParam(b, "nthread", "1") != 0) {
                fprintf(stderr, "%s: %s\n", path, XGBGetLastError());
                return;
        }
        for (size_t i = 0; i < n; i++) {
                const float *r = x + (i % BENCH_ROWS) * KIT_FEATURES;
                bst_ulong const *shape;
                bst_ulong dim;
                float const *res;
                DMatrixHandle one;
                int64_t t0 = fraud_time_mono_ns();
                XGDMatrixCreateFromMat(r, 1, KIT_FEATURES, NAN, &one);
                XGBoosterPredictFromDMatrix(b, one, cfg, &shape, &dim, &res);
                XGDMatrixFree(one);
                ns[i] = (uint64_t)(fraud_time_mono_ns() - t0);
        }
        XGBoosterFree(b);
        report("XGBoost one-row DMatrix + PredictFromDMatrix", ns, n);
}

/* Makes all but one row in BENCH_RISKY_EVERY low-risk, so the decision
 * mix looks like payments (mostly allowed) rather than like the training
 * data (balanced). */
static void bench_rows_calm(float *x) {
        for (size_t i = 0; i < BENCH_ROWS; i++) {
                float *r = x + i * KIT_FEATURES;
                if (i % BENCH_RISKY_EVERY == 0)
                        continue;
                r[0] *= 0.3f;
                r[1] *= 0.3f;
                r[2] *= 0.3f;
                r[5] = 0.0f;
        }
}

static int arg_size(const char *s, size_t min, size_t max, size_t *out) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || errno || *end || v < min || v > max)
                return -EINVAL;
        *out = (size_t)v;
        return 0;
}

int main(int argc, char **argv) {
        static float x[BENCH_ROWS * KIT_FEATURES], y[BENCH_ROWS];
        size_t n = 100000, trees = 100;
        char parent[] = "/tmp/bench-scorer-XXXXXX", dir[128], err[512];
        struct serving *m = NULL;
        struct rules *rules;
        uint64_t *ns;
        cpu_set_t one;

        if ((argc > 1 && arg_size(argv[1], 100, 100000000, &n) < 0) ||
            (argc > 2 && arg_size(argv[2], 1, 2000, &trees) < 0)) {
                fprintf(stderr, "usage: bench_scorer [TRANSACTIONS [TREES]]\n");
                return 64;
        }
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        sched_setaffinity(0, sizeof(one), &one);
        if (!mkdtemp(parent) || !(ns = malloc(n * sizeof(ns[0])))) {
                perror("bench_scorer");
                return 1;
        }
        snprintf(dir, sizeof(dir), "%s/m", parent);
        mkdir(dir, 0700);
        kit_gbdt_write(dir, 3, (int)trees, 6);
        kit_mlp_write(dir);
        {
                struct fraud_modelfile meta;
                kit_meta(&meta, "bench");
                fraud_modelfile_write(&meta, dir);
        }
        if (serving_load(dir, 1, &m, err, sizeof(err)) < 0 || !(rules = bench_rules())) {
                fprintf(stderr, "bench_scorer: %s\n", err);
                return 1;
        }
        kit_data(42, BENCH_ROWS, x, y);
        bench_rows_calm(x);
        printf("%zu transactions, GBDT %zu trees of depth 6 on %d features, MLP %d-8-1, "
               "one core\n",
               n, trees, KIT_FEATURES, KIT_FEATURES);
        bench_cascade(m, rules, x, n / 10, 1, ns, true); /* warm-up */
        bench_cascade(m, rules, x, n, 1, ns, false);
        bench_cascade(m, rules, x, n, 100, ns, false);
        bench_cascade(m, rules, x, n, BENCH_BATCH_MAX, ns, false);
        bench_raw(m, dir, x, n, ns);
        rules_free(rules);
        serving_free(m);
        free(ns);
        kit_rm_rf(parent);
        return 0;
}
