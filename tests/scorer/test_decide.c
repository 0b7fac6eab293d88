/* Tests for scorer/serving.c and scorer/decide.c: a model directory made
 * here (tests/scorer/kit.h) served through the whole cascade: degraded
 * mode, schema mismatch, the GBDT and MLP stages, reason codes, and the
 * Score they fill. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scorer/decide.h"
#include "tests/scorer/kit.h"
#include "tests/testing.h"

#define ROWS 400

static char parent[64], dir[128];
static float x[ROWS * KIT_FEATURES], y[ROWS];
static const struct decide_config cfg = {
        .costs = {.false_positive = 500,
                  .false_negative = 10000,
                  .review_ratio = 0.5,
                  .degraded_decision = CASCADE_ALLOW},
        .reasons_max = 3,
};

static struct serving *model_load(int with_mlp) {
        struct serving *s = NULL;
        char err[512] = "";

        snprintf(parent, sizeof(parent), "/tmp/decide-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(parent));
        kit_model_write(dir, sizeof(dir), parent, "m1", 3, 20, with_mlp);
        ck_assert_msg(serving_load(dir, 1, &s, err, sizeof(err)) == 0, "%s", err);
        kit_data(17, ROWS, x, y);
        return s;
}

static void model_drop(struct serving *s) {
        serving_free(s);
        kit_rm_rf(parent);
}

static void tx_of(size_t i, double *row, struct decide_tx *tx) {
        for (size_t j = 0; j < KIT_FEATURES; j++)
                row[j] = x[i * KIT_FEATURES + j];
        memset(tx, 0, sizeof(*tx));
        tx->schema_hash = kit_hash();
        tx->values = row;
        tx->n_values = KIT_FEATURES;
        tx->amount_minor = 5000;
        tx->rules.env.tx[EXPR_TX_AMOUNT] = 5000;
}

/* The first row whose GBDT probability is (or is not) in the band. */
static size_t row_find(struct serving *s, int in_band, double lo_p) {
        double row[KIT_FEATURES], p;
        struct decide_tx tx;

        for (size_t i = 0; i < ROWS; i++) {
                tx_of(i, row, &tx);
                ck_assert_int_eq(booster_predict(s->gbdt, row, &p), 0);
                if ((p >= s->meta.band_low && p <= s->meta.band_high) == in_band && p >= lo_p)
                        return i;
        }
        ck_abort_msg("no such row");
        return 0;
}

START_TEST(test_decide_without_model_allows_degraded) {
        double row[KIT_FEATURES];
        struct decide_tx tx;
        struct decide_result res;

        kit_data(17, ROWS, x, y);
        tx_of(0, row, &tx);
        decide_run(&cfg, NULL, 0, NULL, &tx, &res);
        ck_assert_int_eq(res.cascade.decision, CASCADE_ALLOW);
        ck_assert_int_eq(res.cascade.stage, CASCADE_STAGE_RULES);
        ck_assert(res.cascade.degraded);
        ck_assert_str_eq(res.gbdt_version, "");
}
END_TEST

START_TEST(test_decide_refuses_model_for_vector_of_other_schema) {
        struct serving *s = model_load(0);
        double row[KIT_FEATURES];
        struct decide_tx tx;
        struct decide_result res;

        tx_of(0, row, &tx);
        tx.schema_hash ^= 1;
        decide_run(&cfg, NULL, 0, s, &tx, &res);
        ck_assert(res.schema_mismatch);
        ck_assert(res.cascade.degraded);
        ck_assert_int_eq(res.cascade.stage, CASCADE_STAGE_RULES);
        ck_assert_uint_eq(res.gbdt_ns, 0);
        model_drop(s);
}
END_TEST

START_TEST(test_decide_outside_band_decides_on_gbdt_probability) {
        struct serving *s = model_load(1);
        size_t i = row_find(s, 0, 0.0);
        double row[KIT_FEATURES], p;
        struct decide_tx tx;
        struct decide_result res;

        tx_of(i, row, &tx);
        ck_assert_int_eq(booster_predict(s->gbdt, row, &p), 0);
        decide_run(&cfg, NULL, 0, s, &tx, &res);
        ck_assert_int_eq(res.cascade.stage, CASCADE_STAGE_GBDT);
        ck_assert_double_eq(res.cascade.probability, p);
        ck_assert(!res.cascade.degraded);
        ck_assert_str_eq(res.gbdt_version, "m1");
        ck_assert_str_eq(res.neural_version, "m1");
        ck_assert_uint_eq(res.neural_ns, 0);
        model_drop(s);
}
END_TEST

START_TEST(test_decide_band_is_rescored_by_mlp) {
        struct serving *s = model_load(1);
        size_t i = row_find(s, 1, 0.0);
        double row[KIT_FEATURES], q;
        struct decide_tx tx;
        struct decide_result res;

        tx_of(i, row, &tx);
        q = fraud_mlp_forward(&s->mlp, row, s->mlp_scratch);
        decide_run(&cfg, NULL, 0, s, &tx, &res);
        ck_assert_int_eq(res.cascade.stage, CASCADE_STAGE_NEURAL);
        ck_assert_double_eq(res.cascade.probability, q);
        model_drop(s);
}
END_TEST

START_TEST(test_decide_model_block_names_top_contributing_features) {
        struct serving *s = model_load(0);
        size_t i = row_find(s, 0, 0.75);
        double row[KIT_FEATURES], c[KIT_FEATURES + 1];
        struct decide_tx tx;
        struct decide_result res;

        tx_of(i, row, &tx);
        decide_run(&cfg, NULL, 0, s, &tx, &res);
        ck_assert_int_eq(res.cascade.decision, CASCADE_BLOCK);
        ck_assert_int_ge(res.n_reasons, 1);
        ck_assert_int_le(res.n_reasons, 3);
        ck_assert_int_eq(booster_contributions(s->gbdt, row, c), 0);
        for (size_t k = 0; k < res.n_reasons; k++) {
                size_t f = 0;
                while (strcmp(kit_names[f], res.reasons[k]) != 0)
                        f++;
                ck_assert(c[f] > 0);
                for (size_t other = 0; other < KIT_FEATURES; other++) {
                        int listed = 0;
                        for (size_t m = 0; m <= k; m++)
                                listed |= strcmp(kit_names[other], res.reasons[m]) == 0;
                        ck_assert_msg(listed || c[other] <= c[f], "%s outranks %s",
                                      kit_names[other], res.reasons[k]);
                }
        }
        model_drop(s);
}
END_TEST

START_TEST(test_decide_continue_rule_reason_comes_before_features) {
        struct serving *s = model_load(0);
        size_t i = row_find(s, 0, 0.75);
        const char *const names[] = {"card_tx_count_1h"};
        const struct expr_schema schema = {names, 1};
        const char *text = "version: r9\nrules:\n  - {name: to_models, action: continue, "
                           "when: \"tx.amount > 0\"}\n";
        struct rules *rules;
        double row[KIT_FEATURES];
        struct decide_tx tx;
        struct decide_result res;
        char err[256];

        ck_assert_int_eq(
                rules_parse("r.yaml", text, strlen(text), &schema, &rules, err, sizeof(err)), 0);
        tx_of(i, row, &tx);
        decide_run(&cfg, rules, kit_hash(), s, &tx, &res);
        ck_assert_int_eq(res.cascade.decision, CASCADE_BLOCK);
        ck_assert_str_eq(res.reasons[0], "to_models");
        ck_assert_int_ge(res.n_reasons, 2);
        ck_assert_str_eq(res.rules_version, "r9");
        rules_free(rules);
        model_drop(s);
}
END_TEST

START_TEST(test_decide_batch_decides_as_one_at_a_time) {
        static double rows[ROWS][KIT_FEATURES];
        static struct decide_tx txs[ROWS];
        static struct decide_result batch[ROWS];
        struct serving *s = model_load(1);
        const char *const names[] = {"card_tx_count_1h"};
        const struct expr_schema schema = {names, 1};
        const char *text = "version: r\nrules:\n  - {name: many, action: review, "
                           "when: \"card_tx_count_1h > 18\"}\n";
        struct rules *rules;
        struct decide_result one;
        char err[256];
        size_t stages[4] = {0};

        ck_assert_int_eq(
                rules_parse("r.yaml", text, strlen(text), &schema, &rules, err, sizeof(err)), 0);
        for (size_t i = 0; i < ROWS; i++)
                tx_of(i, rows[i], &txs[i]);
        txs[3].schema_hash ^= 1; /* one the model cannot score */
        decide_batch(&cfg, rules, kit_hash(), s, txs, ROWS, batch);
        for (size_t i = 0; i < ROWS; i++) {
                decide_run(&cfg, rules, kit_hash(), s, &txs[i], &one);
                ck_assert_int_eq(batch[i].cascade.decision, one.cascade.decision);
                ck_assert_int_eq(batch[i].cascade.stage, one.cascade.stage);
                ck_assert_double_eq(batch[i].cascade.probability, one.cascade.probability);
                ck_assert_uint_eq(batch[i].n_reasons, one.n_reasons);
                for (size_t k = 0; k < one.n_reasons; k++)
                        ck_assert_str_eq(batch[i].reasons[k], one.reasons[k]);
                stages[batch[i].cascade.stage]++;
        }
        ck_assert(batch[3].schema_mismatch);
        ck_assert_uint_gt(stages[CASCADE_STAGE_RULES], 1); /* every stage was exercised */
        ck_assert_uint_gt(stages[CASCADE_STAGE_GBDT], 0);
        ck_assert_uint_gt(stages[CASCADE_STAGE_NEURAL], 0);
        rules_free(rules);
        model_drop(s);
}
END_TEST

START_TEST(test_serving_refuses_mlp_of_other_width) {
        struct serving *s = NULL;
        const uint32_t sizes[] = {3, 1};
        struct fraud_mlp mlp;
        char path[256], err[512] = "";

        snprintf(parent, sizeof(parent), "/tmp/decide-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(parent));
        kit_model_write(dir, sizeof(dir), parent, "m2", 3, 5, 0);
        snprintf(path, sizeof(path), "%s/mlp.bin", dir);
        ck_assert_int_eq(fraud_mlp_init(&mlp, 1, sizes), 0);
        ck_assert_int_eq(fraud_mlp_save(&mlp, path), 0);
        fraud_mlp_release(&mlp);
        ck_assert_int_eq(serving_load(dir, 1, &s, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, "3 inputs, model.yaml lists 6 features") != NULL, "%s", err);
        kit_rm_rf(parent);
}
END_TEST

START_TEST(test_decide_score_carries_transaction_and_decision) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        struct decide_result res = {.cascade = {.decision = CASCADE_REVIEW,
                                                .stage = CASCADE_STAGE_NEURAL,
                                                .probability = 0.42},
                                    .reasons = {"burst"},
                                    .n_reasons = 1,
                                    .rules_ns = 11,
                                    .gbdt_version = "g",
                                    .neural_version = "n",
                                    .rules_version = "r"};
        char *reasons[FRAUD_SCORER_REASONS_MAX];
        Fraud__Score score;

        t.card_hash = (char *)"card";
        t.amount_minor = 1234;
        t.currency = (char *)"EUR";
        t.event_time_us = 77;
        fv.transaction_id = (char *)"tx-1";
        fv.transaction = &t;
        decide_score_fill(&fv, &res, true, reasons, &score);
        ck_assert_str_eq(score.transaction_id, "tx-1");
        ck_assert_str_eq(score.card_hash, "card");
        ck_assert_int_eq(score.amount_minor, 1234);
        ck_assert_int_eq(score.event_time_us, 77);
        ck_assert_int_eq(score.decision, FRAUD__DECISION__DECISION_REVIEW);
        ck_assert_int_eq(score.stage, FRAUD__STAGE__STAGE_NEURAL);
        ck_assert_uint_eq(score.n_reason_codes, 1);
        ck_assert_str_eq(score.reason_codes[0], "burst");
        ck_assert(score.shadow);
        ck_assert(!score.degraded);
        ck_assert_uint_eq(score.rules_latency_ns, 11);
}
END_TEST

TESTING_MAIN("decide", test_decide_without_model_allows_degraded,
             test_decide_refuses_model_for_vector_of_other_schema,
             test_decide_outside_band_decides_on_gbdt_probability,
             test_decide_band_is_rescored_by_mlp,
             test_decide_model_block_names_top_contributing_features,
             test_decide_continue_rule_reason_comes_before_features,
             test_decide_batch_decides_as_one_at_a_time, test_serving_refuses_mlp_of_other_width,
             test_decide_score_carries_transaction_and_decision)
