/* Tests for scorer/cascade.c: every path of the decision, the cost model
 * thresholds on both sides, the amount as C_FN, review precedence, the
 * MLP band and degraded modes. */
#include <check.h>
#include <math.h>

#include "scorer/cascade.h"
#include "tests/testing.h"

/* C_FP 500, C_FN 10000 (fixed): block above 500 / 10500. */
static const struct cascade_costs fixed = {.false_positive = 500,
                                           .false_negative = 10000,
                                           .review_ratio = 0.5,
                                           .degraded_decision = CASCADE_ALLOW};
static const struct cascade_model band = {
        .band_low = 0.3, .band_high = 0.7, .review_threshold = 0.01};

static struct cascade_output decide(const struct cascade_costs *c, double p_gbdt, int64_t amount) {
        struct cascade_input in = {.rules_action = RULES_CONTINUE,
                                   .amount_minor = amount,
                                   .has_gbdt = true,
                                   .p_gbdt = p_gbdt,
                                   .model = band};
        struct cascade_output out;
        cascade_decide(c, &in, &out);
        return out;
}

START_TEST(test_cascade_block_threshold_is_cfp_over_cfp_plus_cfn) {
        ck_assert_double_eq_tol(cascade_block_threshold(&fixed, 123), 500.0 / 10500.0, 1e-15);
}
END_TEST

START_TEST(test_cascade_blocks_just_above_threshold_not_at_it) {
        double t = 500.0 / 10500.0;

        ck_assert_int_eq(decide(&fixed, nextafter(t, 1.0), 100).decision, CASCADE_BLOCK);
        ck_assert_int_eq(decide(&fixed, t, 100).decision, CASCADE_REVIEW);
}
END_TEST

START_TEST(test_cascade_reviews_just_above_review_threshold_not_at_it) {
        double r = 0.5 * 500.0 / 10500.0;

        ck_assert_int_eq(decide(&fixed, nextafter(r, 1.0), 100).decision, CASCADE_REVIEW);
        ck_assert_int_eq(decide(&fixed, r, 100).decision, CASCADE_ALLOW);
}
END_TEST

START_TEST(test_cascade_amount_as_cfn_blocks_large_payments_at_lower_probability) {
        struct cascade_costs c = fixed;
        c.fn_is_amount = true;

        /* 100.00 (10000 minor): threshold 500 / 10500; 1000.00: 500 / 100500. */
        ck_assert_double_eq_tol(cascade_block_threshold(&c, 10000), 500.0 / 10500.0, 1e-15);
        ck_assert_double_eq_tol(cascade_block_threshold(&c, 100000), 500.0 / 100500.0, 1e-15);
        ck_assert_int_eq(decide(&c, 0.01, 100000).decision, CASCADE_BLOCK);
        ck_assert_int_eq(decide(&c, 0.01, 10000).decision, CASCADE_ALLOW);
}
END_TEST

START_TEST(test_cascade_zero_amount_is_never_blocked_on_probability) {
        struct cascade_costs c = fixed;
        c.fn_is_amount = true;

        ck_assert_double_eq(cascade_block_threshold(&c, 0), 1.0);
        ck_assert_int_eq(decide(&c, 0.99, 0).decision, CASCADE_REVIEW);
}
END_TEST

START_TEST(test_cascade_review_ratio_zero_defers_to_model_threshold_capped_at_block) {
        struct cascade_costs c = fixed;
        struct cascade_model m = band;
        c.review_ratio = 0.0;

        ck_assert_double_eq(cascade_review_threshold(&c, 0.04, &m), 0.01);
        m.review_threshold = 0.9;
        ck_assert_double_eq(cascade_review_threshold(&c, 0.04, &m), 0.04);
        ck_assert_int_eq(decide(&c, 0.02, 100).decision, CASCADE_REVIEW);
        ck_assert_int_eq(decide(&c, 0.005, 100).decision, CASCADE_ALLOW);
}
END_TEST

START_TEST(test_cascade_review_ratio_overrides_model_threshold) {
        ck_assert_double_eq(cascade_review_threshold(&fixed, 0.04, &band), 0.02);
        ck_assert_int_eq(decide(&fixed, 0.015, 100).decision, CASCADE_ALLOW); /* above model's */
}
END_TEST

START_TEST(test_cascade_rule_decisions_skip_the_models) {
        const enum rules_action a[] = {RULES_ALLOW, RULES_REVIEW, RULES_BLOCK};
        const enum cascade_decision d[] = {CASCADE_ALLOW, CASCADE_REVIEW, CASCADE_BLOCK};
        const double p[] = {0.0, 0.5, 1.0};

        for (int i = 0; i < 3; i++) {
                struct cascade_input in = {
                        .rules_action = a[i], .has_gbdt = true, .p_gbdt = 0.99, .model = band};
                struct cascade_output out;
                cascade_decide(&fixed, &in, &out);
                ck_assert_int_eq(out.decision, d[i]);
                ck_assert_int_eq(out.stage, CASCADE_STAGE_RULES);
                ck_assert_double_eq(out.probability, p[i]);
                ck_assert(!out.degraded);
                ck_assert(!out.model_reasons);
        }
}
END_TEST

START_TEST(test_cascade_band_edges_go_to_mlp_and_outside_stays_gbdt) {
        const double inside[] = {0.3, 0.5, 0.7}, outside[] = {nextafter(0.3, 0), 0.71};

        for (int i = 0; i < 3; i++)
                ck_assert(cascade_in_band(&band, inside[i]));
        for (int i = 0; i < 2; i++)
                ck_assert(!cascade_in_band(&band, outside[i]));
}
END_TEST

START_TEST(test_cascade_mlp_probability_decides_in_band) {
        struct cascade_input in = {.rules_action = RULES_CONTINUE,
                                   .amount_minor = 100,
                                   .has_gbdt = true,
                                   .p_gbdt = 0.5,
                                   .has_mlp = true,
                                   .p_mlp = 0.001,
                                   .model = band};
        struct cascade_output out;

        cascade_decide(&fixed, &in, &out);
        ck_assert_int_eq(out.stage, CASCADE_STAGE_NEURAL);
        ck_assert_double_eq(out.probability, 0.001);
        ck_assert_int_eq(out.decision, CASCADE_ALLOW);
        ck_assert(!out.degraded);
}
END_TEST

START_TEST(test_cascade_band_without_mlp_decides_on_gbdt_degraded) {
        struct cascade_output out = decide(&fixed, 0.5, 100);

        ck_assert_int_eq(out.stage, CASCADE_STAGE_GBDT);
        ck_assert_int_eq(out.decision, CASCADE_BLOCK);
        ck_assert(out.degraded);
        ck_assert(out.model_reasons);
        out = decide(&fixed, 0.9, 100);
        ck_assert(!out.degraded);
}
END_TEST

START_TEST(test_cascade_no_model_uses_degraded_decision) {
        struct cascade_costs c = fixed;
        struct cascade_input in = {.rules_action = RULES_CONTINUE};
        struct cascade_output out;

        c.degraded_decision = CASCADE_REVIEW;
        cascade_decide(&c, &in, &out);
        ck_assert_int_eq(out.decision, CASCADE_REVIEW);
        ck_assert_int_eq(out.stage, CASCADE_STAGE_RULES);
        ck_assert(out.degraded);
        ck_assert(!out.model_reasons);
}
END_TEST

START_TEST(test_cascade_model_allow_asks_no_reasons) {
        ck_assert(!decide(&fixed, 0.001, 100).model_reasons);
        ck_assert(decide(&fixed, 0.03, 100).model_reasons);
}
END_TEST

START_TEST(test_cascade_zero_costs_never_divide_by_zero) {
        struct cascade_costs c = {.false_positive = 0, .false_negative = 0};

        ck_assert_double_eq(cascade_block_threshold(&c, 100), 1.0);
        c.false_negative = 10;
        ck_assert_double_eq(cascade_block_threshold(&c, 100), 0.0);
}
END_TEST

TESTING_MAIN("cascade", test_cascade_block_threshold_is_cfp_over_cfp_plus_cfn,
             test_cascade_blocks_just_above_threshold_not_at_it,
             test_cascade_reviews_just_above_review_threshold_not_at_it,
             test_cascade_amount_as_cfn_blocks_large_payments_at_lower_probability,
             test_cascade_zero_amount_is_never_blocked_on_probability,
             test_cascade_review_ratio_zero_defers_to_model_threshold_capped_at_block,
             test_cascade_review_ratio_overrides_model_threshold,
             test_cascade_rule_decisions_skip_the_models,
             test_cascade_band_edges_go_to_mlp_and_outside_stays_gbdt,
             test_cascade_mlp_probability_decides_in_band,
             test_cascade_band_without_mlp_decides_on_gbdt_degraded,
             test_cascade_no_model_uses_degraded_decision, test_cascade_model_allow_asks_no_reasons,
             test_cascade_zero_costs_never_divide_by_zero)
