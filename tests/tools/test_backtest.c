/* Tests for the backtest engine (tools/backtest.c), the DAY order of the
 * offline driver (tools/offline.c) and derived chargebacks
 * (tools/derive.c): the day a chargeback reaches the stages, the same
 * scores on every run of the same files, a decision for every payment, a
 * model trained and serving, delays that are deterministic and
 * distributed as asked, and scores.csv rows exactly as printf would write
 * them. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/time.h"
#include "tests/testing.h"
#include "tools/backtest.h"
#include "tools/derive.h"
#include "tools/generate.h"
#include "tools/report.h"

#define DAY_US FRAUD_USEC_PER_DAY

START_TEST(test_backtest_chargeback_day_defers_same_day_payments) {
        struct offline_chargeback c = {0};

        c.arrival_us = 10 * DAY_US + 5;
        c.tx_time_us = 3 * DAY_US;
        ck_assert_int_eq(offline_chargeback_day(&c), 10); /* an earlier payment: its own day */
        c.tx_time_us = 10 * DAY_US + 1;
        ck_assert_int_eq(offline_chargeback_day(&c), 11); /* the same day: the next one */
        c.tx_time_us = 12 * DAY_US;
        ck_assert_int_eq(offline_chargeback_day(&c), 13); /* before its payment: after it */
        c.tx_time_us = 0;
        ck_assert_int_eq(offline_chargeback_day(&c), 11); /* unknown: the next day */
}
END_TEST

START_TEST(test_derive_delays_are_deterministic_bounded_and_centred) {
        struct derive_options o = {.max_days = 119, .seed = 7};
        double median, sigma, below = 0;
        char id[32];

        ck_assert_int_eq(derive_delay_parse("30:0.5", &median, &sigma), 0);
        ck_assert(median == 30 && sigma == 0.5);
        ck_assert_int_eq(derive_delay_parse("30", &median, &sigma), 0);
        ck_assert_int_eq(derive_delay_parse("0", &median, &sigma), -EINVAL);
        ck_assert_int_eq(derive_delay_parse("30:x", &median, &sigma), -EINVAL);
        o.median_days = 30;
        o.sigma = 0.8;
        for (int i = 0; i < 4000; i++) {
                int64_t d;
                snprintf(id, sizeof(id), "tx-%d", i);
                d = derive_delay_us(&o, id);
                ck_assert_int_eq(d, derive_delay_us(&o, id));
                ck_assert_int_ge(d, 3600 * FRAUD_USEC_PER_SEC);
                ck_assert_int_le(d, 119 * DAY_US);
                below += d < 30 * DAY_US;
        }
        ck_assert_msg(fabs(below / 4000 - 0.5) < 0.04, "share below the median: %f", below / 4000);
}
END_TEST

/* ---- the engine on a generated fortnight ---- */

struct collected {
        uint64_t n, modelled;
        uint64_t hash; /* of every (id, decision, probability), in order */
};

static int collect(void *opaque, const struct backtest_score *s) {
        struct collected *c = opaque;
        char buf[160];

        snprintf(buf, sizeof(buf), "%s %d %.9f", s->tx->transaction_id, (int)s->res->cascade.decision,
                 s->res->cascade.probability);
        c->hash = fraud_hash_fnv1a(c->hash ? c->hash : FRAUD_HASH_FNV1A_INIT, buf, strlen(buf));
        c->n++;
        c->modelled += s->model_version[0] != '\0';
        return 0;
}

static void run_once(const char *dir, const char *registry, struct collected *c,
                     struct backtest_counts *k) {
        static struct fraud_settings s;
        struct normalize_key key;
        char tx[512], cb[512], err[4096] = "";
        struct backtest_options o = {.settings = &s, .transactions = tx, .chargebacks = cb,
                                     .key = &key, .retrain_every_days = 1, .on_score = collect,
                                     .opaque = c};
        char *saved;

        ck_assert_int_eq(fraud_settings_init(&s), 0);
        saved = s.trainer.registry_dir;
        s.trainer.registry_dir = (char *)registry;
        s.trainer.warmup_days = 8;
        s.trainer.holdout_days = 2;
        s.trainer.gate_min_train_frauds = 3;
        s.trainer.gate_min_holdout_frauds = 1;
        s.trainer.threads = 1;
        ck_assert_int_eq(normalize_key_parse("000102030405060708090a0b0c0d0e0f", &key), 0);
        snprintf(tx, sizeof(tx), "%s/transactions.csv", dir);
        snprintf(cb, sizeof(cb), "%s/chargebacks.csv", dir);
        memset(c, 0, sizeof(*c));
        ck_assert_msg(backtest_run(&o, k, err, sizeof(err)) == 0, "%s", err);
        s.trainer.registry_dir = saved;
        fraud_settings_release(&s);
}

START_TEST(test_backtest_decides_every_payment_the_same_on_every_run) {
        char dir[] = "/tmp/fraud-bt-XXXXXX", reg1[300], reg2[300], cmd[400], err[512];
        struct generate_options g;
        struct generate_summary sum;
        struct collected a, b;
        struct backtest_counts ka, kb;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        generate_options_default(&g);
        g.sim.days = 18;
        g.sim.customers = 200;
        g.sim.merchants = 50;
        g.sim.fraud_rate = 0.03;
        g.out_dir = dir;
        ck_assert_msg(generate_files(&g, &sum, err, sizeof(err)) == 0, "%s", err);
        snprintf(reg1, sizeof(reg1), "%s/r1", dir);
        snprintf(reg2, sizeof(reg2), "%s/r2", dir);
        run_once(dir, reg1, &a, &ka);
        run_once(dir, reg2, &b, &kb);
        ck_assert_int_eq(a.n, sum.transactions);
        ck_assert_int_eq(a.n, b.n);
        ck_assert_uint_eq(a.hash, b.hash);
        ck_assert_int_gt(ka.labels, 0);
        ck_assert_int_gt(ka.rounds, 0);         /* the trainer trained days */
        ck_assert_int_eq(ka.rounds, kb.rounds);
        ck_assert_int_gt(a.modelled, 0);        /* and a model decided some payments */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The row report_csv_row writes for probability p, and printf's. */
static void csv_rows(double p, char *got, size_t got_size, char *want, size_t want_size) {
        const struct report_score s = {.transaction_id = "tx1",
                                       .event_time_us = 1767225602123456,
                                       .card_hash = "c9",
                                       .probability = p,
                                       .decision = 2,
                                       .stage = 3,
                                       .model_version = "m1"};
        FILE *f = fmemopen(got, got_size, "w");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(report_csv_row(f, &s), 0);
        fclose(f);
        snprintf(want, want_size, "tx1,2026-01-01T00:00:02.123456Z,c9,%.9f,review,neural,m1,0\n",
                 p);
}

START_TEST(test_report_csv_row_writes_probabilities_as_printf_does) {
        /* ties at the ninth digit (k / 1024 ends in ...5 at the tenth),
         * carries into the integer part, the edges of the fast path, and
         * values printf must write itself */
        double fixed[] = {0.0,
                          1.0,
                          0.5,
                          1.0 / 1024,
                          3.0 / 1024,
                          0.9999999995,
                          0.99999999949,
                          1e-10,
                          5e-10,
                          5.000000001e-10,
                          1e-300,
                          4.9e-324,
                          1023.9999999999,
                          1024.0,
                          -0.0,
                          -0.25,
                          NAN,
                          INFINITY,
                          12345.678,
                          0.123456789012};
        char got[256], want[256];
        uint64_t x = 88172645463325252u;

        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                csv_rows(fixed[i], got, sizeof(got), want, sizeof(want));
                ck_assert_str_eq(got, want);
        }
        { /* an id longer than the row buffer */
                char id[700], row[1024];
                struct report_score s = {.transaction_id = id,
                                         .event_time_us = 0,
                                         .card_hash = "c",
                                         .probability = 0.25,
                                         .decision = 3,
                                         .stage = 1,
                                         .model_version = "",
                                         .degraded = true};
                FILE *f;

                memset(id, 'x', sizeof(id) - 1);
                id[sizeof(id) - 1] = '\0';
                f = fmemopen(row, sizeof(row), "w");
                ck_assert_ptr_nonnull(f);
                ck_assert_int_eq(report_csv_row(f, &s), 0);
                fclose(f);
                snprintf(want, sizeof(want),
                         "1970-01-01T00:00:00.000000Z,c,0.250000000,block,rules,,1\n");
                ck_assert_int_eq(strlen(row), sizeof(id) - 1 + 1 + strlen(want));
                ck_assert(strncmp(row, id, sizeof(id) - 1) == 0 && row[sizeof(id) - 1] == ',');
                ck_assert_str_eq(row + sizeof(id), want);
        }
        for (int i = 0; i < 200000; i++) { /* random doubles in [0, 1), and exact multiples */
                double p;

                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                p = i % 2 ? (double)(x >> 11) / 9007199254740992.0
                          : (double)(x % 1048576) / (double)(1u << (x % 21));
                csv_rows(p, got, sizeof(got), want, sizeof(want));
                ck_assert_str_eq(got, want);
        }
}
END_TEST

static int float_order(const void *a, const void *b) {
        float x = *(const float *)a, y = *(const float *)b;

        return x < y ? -1 : x > y;
}

START_TEST(test_report_quantiles_are_those_of_the_sorted_order) {
        float v[3000], sorted[3000];
        uint64_t x = 2463534242u;

        for (int round = 0; round < 20000; round++) {
                size_t n = 1 + (size_t)(round % 3 == 0 ? x % 3000 : x % 40);
                double p50, p99;

                for (size_t i = 0; i < n; i++) { /* few values, ascending, descending, random */
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        v[i] = round % 4 == 0   ? (float)(x % 3)
                               : round % 4 == 1 ? (float)i
                               : round % 4 == 2 ? (float)(n - i)
                                                : (float)(x % 100000) / 7.0f;
                }
                memcpy(sorted, v, n * sizeof(float));
                qsort(sorted, n, sizeof(float), float_order);
                report_quantiles(v, n, &p50, &p99);
                ck_assert(p50 == sorted[n / 2]);
                ck_assert(p99 == sorted[(size_t)(0.99 * (double)(n - 1))]);
        }
}
END_TEST

TESTING_MAIN("backtest", test_backtest_chargeback_day_defers_same_day_payments,
             test_derive_delays_are_deterministic_bounded_and_centred,
             test_backtest_decides_every_payment_the_same_on_every_run,
             test_report_csv_row_writes_probabilities_as_printf_does,
             test_report_quantiles_are_those_of_the_sorted_order)
