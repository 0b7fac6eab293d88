/* test_evaluate.c: tests of trainer/evaluate.c on small cases computed by
 * hand: AUC-ROC and average precision (ties included), recall and false
 * positive rate, card precision@k (a card once per day), the cost model
 * and its optimal threshold. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "lib/time.h"
#include "trainer/evaluate.h"

#include "tests/testing.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_evaluate_auc_of_distinct_scores) {
        /* Pairs (positive, negative) ranked right: 0.35 > 0.1; 0.8 > both: 3 of 4. */
        const double s[] = {0.1, 0.4, 0.35, 0.8};
        const uint8_t y[] = {0, 0, 1, 1};
        double auc;

        ck_assert_int_eq(evaluate_auc_roc(s, y, N(s), &auc), 0);
        ck_assert_double_eq_tol(auc, 0.75, 1e-12);
}
END_TEST

START_TEST(test_evaluate_auc_counts_tied_pair_as_half) {
        /* 0.9+ beats both negatives (2), 0.5+ ties 0.5- (0.5) and beats 0.1- (1). */
        const double s[] = {0.9, 0.5, 0.5, 0.1};
        const uint8_t y[] = {1, 1, 0, 0};
        const double all_tied[] = {0.5, 0.5, 0.5, 0.5};
        const uint8_t y2[] = {0, 1, 0, 1};
        double auc;

        ck_assert_int_eq(evaluate_auc_roc(s, y, N(s), &auc), 0);
        ck_assert_double_eq_tol(auc, 3.5 / 4, 1e-12);
        ck_assert_int_eq(evaluate_auc_roc(all_tied, y2, N(all_tied), &auc), 0);
        ck_assert_double_eq_tol(auc, 0.5, 1e-12);
}
END_TEST

START_TEST(test_evaluate_average_precision_of_distinct_scores) {
        /* Ranked: 0.8+ (P 1, R 1/2), 0.4-, 0.35+ (P 2/3, R 1): 1/2 + 1/3. */
        const double s[] = {0.1, 0.4, 0.35, 0.8};
        const uint8_t y[] = {0, 0, 1, 1};
        double ap;

        ck_assert_int_eq(evaluate_average_precision(s, y, N(s), &ap), 0);
        ck_assert_double_eq_tol(ap, 0.5 + 1.0 / 3, 1e-12);
}
END_TEST

START_TEST(test_evaluate_average_precision_takes_tied_scores_as_one_step) {
        /* 0.9+ (P 1, R 1/2); the 0.5 group {+, -} as one step (P 2/3, R 1).
         * Taking the positive of the group first would give 1/2 + 1/2. */
        const double s[] = {0.9, 0.5, 0.5, 0.1};
        const uint8_t y[] = {1, 0, 1, 0};
        double ap;

        ck_assert_int_eq(evaluate_average_precision(s, y, N(s), &ap), 0);
        ck_assert_double_eq_tol(ap, 0.5 + 1.0 / 3, 1e-12);
}
END_TEST

START_TEST(test_evaluate_ranking_metrics_need_both_classes) {
        const double s[] = {0.1, 0.9};
        const uint8_t y[] = {1, 1};
        const double bad[] = {NAN, 0.9};
        const uint8_t y2[] = {0, 1};
        double v;

        ck_assert_int_eq(evaluate_auc_roc(s, y, N(s), &v), -EDOM);
        ck_assert_int_eq(evaluate_average_precision(s, y, N(s), &v), -EDOM);
        ck_assert_int_eq(evaluate_auc_roc(bad, y2, N(bad), &v), -EINVAL);
}
END_TEST

START_TEST(test_evaluate_recall_and_fpr_flag_scores_above_threshold) {
        const double s[] = {0.9, 0.6, 0.6, 0.5, 0.1};
        const uint8_t y[] = {1, 1, 0, 1, 0};
        struct evaluate_confusion c;

        evaluate_confusion_at(s, y, N(s), 0.5, &c); /* 0.5 itself is not flagged */
        ck_assert_uint_eq(c.tp, 2);
        ck_assert_uint_eq(c.fp, 1);
        ck_assert_uint_eq(c.tn, 1);
        ck_assert_uint_eq(c.fn, 1);
        ck_assert_double_eq_tol(evaluate_recall(&c), 2.0 / 3, 1e-12);
        ck_assert_double_eq_tol(evaluate_false_positive_rate(&c), 0.5, 1e-12);
}
END_TEST

START_TEST(test_evaluate_card_precision_counts_card_once_per_day) {
        /* Day 0: card 1 has two frauds at 0.9 and 0.8, card 2 a legitimate
         * payment at 0.7.  Top 2 cards: 1 (fraud), 2 (not): 1/2.  Counting
         * payments would have found two frauds. */
        const double s[] = {0.9, 0.8, 0.7};
        const uint8_t y[] = {1, 1, 0};
        const int64_t t[] = {0, 3600 * FRAUD_USEC_PER_SEC, 7200 * FRAUD_USEC_PER_SEC};
        const uint64_t card[] = {1, 1, 2};
        double p;

        ck_assert_int_eq(evaluate_card_precision_at_k(s, y, t, card, N(s), 2, &p), 0);
        ck_assert_double_eq_tol(p, 0.5, 1e-12);
}
END_TEST

START_TEST(test_evaluate_card_precision_counts_card_again_on_next_day) {
        /* Card 7, fraud, on day 0 and day 1; card 8 legit both days, higher
         * on day 1 only.  k = 1: day 0 finds card 7 (1), day 1 card 8 (0). */
        const double s[] = {0.9, 0.2, 0.6, 0.8};
        const uint8_t y[] = {1, 0, 1, 0};
        const int64_t t[] = {10, 20, FRAUD_USEC_PER_DAY + 10, FRAUD_USEC_PER_DAY + 20};
        const uint64_t card[] = {7, 8, 7, 8};
        double p;

        ck_assert_int_eq(evaluate_card_precision_at_k(s, y, t, card, N(s), 1, &p), 0);
        ck_assert_double_eq_tol(p, 0.5, 1e-12);
}
END_TEST

START_TEST(test_evaluate_card_is_fraud_when_any_payment_of_day_is) {
        /* Card 3's best score is a legitimate payment, its other one is fraud. */
        const double s[] = {0.9, 0.1, 0.5};
        const uint8_t y[] = {0, 1, 0};
        const int64_t t[] = {1, 2, 3};
        const uint64_t card[] = {3, 3, 4};
        double p;

        ck_assert_int_eq(evaluate_card_precision_at_k(s, y, t, card, N(s), 1, &p), 0);
        ck_assert_double_eq_tol(p, 1.0, 1e-12);
        ck_assert_int_eq(evaluate_card_precision_at_k(s, y, t, card, N(s), 0, &p), -EINVAL);
}
END_TEST

START_TEST(test_evaluate_cost_savings_fixed_and_per_payment) {
        /* Flagged above 0.5: two frauds (amounts 300, 40) and one legit. */
        const double s[] = {0.9, 0.8, 0.7, 0.2, 0.1};
        const uint8_t y[] = {1, 0, 1, 1, 0};
        const double amount[] = {300, 1, 40, 1000, 1};
        struct evaluate_costs costs = {.false_positive = 5, .false_negative = 100};

        ck_assert_double_eq_tol(evaluate_cost_savings(s, y, N(s), 0.5, &costs), 2 * 100 - 5, 1e-9);
        costs.false_negative_each = amount;
        ck_assert_double_eq_tol(evaluate_cost_savings(s, y, N(s), 0.5, &costs), 340 - 5, 1e-9);
}
END_TEST

START_TEST(test_evaluate_bayes_savings_use_each_payment_threshold) {
        /* C_FP 10: amount 990 blocks above 0.01, amount 10 above 0.5, 0 never. */
        const double s[] = {0.05, 0.05, 0.6, 0.99};
        const uint8_t y[] = {1, 1, 0, 1};
        const double amount[] = {990, 10, 10, 0};
        const struct evaluate_costs costs = {.false_positive = 10, .false_negative_each = amount};

        ck_assert_double_eq_tol(evaluate_bayes_threshold(5, 100), 5.0 / 105, 1e-15);
        ck_assert_double_eq(evaluate_bayes_threshold(5, 0), 1.0);
        ck_assert_double_eq_tol(evaluate_cost_savings_bayes(s, y, N(s), &costs), 990 - 10, 1e-9);
}
END_TEST

START_TEST(test_evaluate_cost_optimal_threshold_prefers_fewer_flags_on_tie) {
        /* C_FP 1, C_FN 2; savings flagging from the top down:
         * 0.9: 2, 0.8: 1, 0.7: 3, 0.6: 2, 0.5: 1, 0.4: 3 -> down to 0.7 (tie
         * with 0.4), threshold halfway to the next score, 0.65. */
        const double s[] = {0.5, 0.9, 0.4, 0.7, 0.6, 0.8};
        const uint8_t y[] = {0, 1, 1, 1, 0, 0};
        const struct evaluate_costs costs = {.false_positive = 1, .false_negative = 2};
        double t, saved;

        ck_assert_int_eq(evaluate_cost_optimal_threshold(s, y, N(s), &costs, &t, &saved), 0);
        ck_assert_double_eq_tol(t, 0.65, 1e-12);
        ck_assert_double_eq_tol(saved, 3, 1e-12);
        ck_assert_double_eq_tol(evaluate_cost_savings(s, y, N(s), t, &costs), saved, 1e-12);
}
END_TEST

START_TEST(test_evaluate_cost_optimal_threshold_flags_nothing_when_alerts_cost_too_much) {
        const double s[] = {0.5, 0.9, 0.4};
        const uint8_t y[] = {1, 0, 1};
        const struct evaluate_costs costs = {.false_positive = 1000, .false_negative = 1};
        struct evaluate_confusion c;
        double t, saved;

        ck_assert_int_eq(evaluate_cost_optimal_threshold(s, y, N(s), &costs, &t, &saved), 0);
        ck_assert_double_eq(t, 0.9);
        ck_assert_double_eq(saved, 0);
        evaluate_confusion_at(s, y, N(s), t, &c);
        ck_assert_uint_eq(c.tp + c.fp, 0);
}
END_TEST

START_TEST(test_evaluate_cost_optimal_threshold_flags_all_below_lowest) {
        const double s[] = {0.5, 0.9, 0.4};
        const uint8_t y[] = {1, 1, 1};
        const struct evaluate_costs costs = {.false_positive = 1, .false_negative = 1};
        double t, saved;

        ck_assert_int_eq(evaluate_cost_optimal_threshold(s, y, N(s), &costs, &t, &saved), 0);
        ck_assert_double_eq_tol(t, 0.2, 1e-15);
        ck_assert_double_eq(saved, 3);
}
END_TEST

START_TEST(test_evaluate_band_holds_share_nearest_threshold) {
        const double s[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
        double lo, hi;

        /* 4 of 10 around 0.45: two at or below (0.3, 0.4), two above. */
        ck_assert_int_eq(evaluate_band(s, N(s), 0.45, 0.4, &lo, &hi), 0);
        ck_assert_double_eq(lo, 0.3);
        ck_assert_double_eq(hi, 0.6);
        /* Near the top the window slides down and still holds 4. */
        ck_assert_int_eq(evaluate_band(s, N(s), 0.95, 0.4, &lo, &hi), 0);
        ck_assert_double_eq(lo, 0.6);
        ck_assert_double_eq(hi, 0.95);
        ck_assert_int_eq(evaluate_band(s, N(s), 0.45, 0, &lo, &hi), 0);
        ck_assert_double_eq(lo, 0.45);
        ck_assert_double_eq(hi, 0.45);
        ck_assert_int_eq(evaluate_band(s, N(s), 0.45, 1.5, &lo, &hi), -EINVAL);
}
END_TEST

START_TEST(test_evaluate_candidate_rescores_band_with_mlp) {
        /* Cost-optimal: flag 0.6 and above (savings 4; 0.4 ties, flags more):
         * threshold 0.55; 2 of 10 in the band: 0.5 and 0.6. */
        const double g[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
        const double m[] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.99, 0.01, 0.01, 0.01};
        const uint8_t y[] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 1};
        const int64_t t[10] = {0};
        const uint64_t card[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        const struct evaluate_holdout h = {y, t, card, N(y)};
        const struct evaluate_costs costs = {.false_positive = 1, .false_negative = 1};
        struct evaluate_candidate c;
        double cascade[10], auc;

        ck_assert_int_eq(evaluate_candidate(&h, g, m, 0.2, 5, &costs, cascade, &c), 0);
        ck_assert_double_eq_tol(c.block_threshold, 0.55, 1e-12);
        ck_assert_double_eq(c.band_low, 0.5);
        ck_assert_double_eq(c.band_high, 0.6);
        ck_assert_double_eq(c.review_threshold, 0.5);
        for (size_t i = 0; i < N(g); i++)
                ck_assert_double_eq(cascade[i], i == 5 || i == 6 ? m[i] : g[i]);
        ck_assert_int_eq(evaluate_auc_roc(g, y, N(y), &auc), 0);
        ck_assert_double_eq(c.scores[EVALUATE_GBDT].auc_roc, auc);
        ck_assert_double_eq_tol(c.scores[EVALUATE_GBDT].recall, 0.8, 1e-12);
        ck_assert_double_eq_tol(c.scores[EVALUATE_GBDT].savings, 4, 1e-12);
        /* Top 5: the GBDT has the legitimate 0.5 in it, the cascade the fraud 0.4. */
        ck_assert_double_eq_tol(c.scores[EVALUATE_GBDT].card_precision, 4.0 / 5, 1e-12);
        ck_assert_double_eq_tol(c.scores[EVALUATE_CASCADE].card_precision, 1, 1e-12);
        ck_assert_double_eq_tol(c.scores[EVALUATE_MLP].recall, 1.0 / 5, 1e-12);
}
END_TEST

START_TEST(test_evaluate_at_thresholds_uses_the_given_threshold_and_band) {
        const double g[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
        const double m[] = {0.01, 0.01, 0.01, 0.99, 0.99, 0.02, 0.99, 0.01, 0.01, 0.01};
        const uint8_t y[] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 1};
        const int64_t t[10] = {0};
        const uint64_t card[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        const struct evaluate_holdout h = {y, t, card, N(y)};
        const struct evaluate_costs costs = {.false_positive = 1, .false_negative = 1};
        /* a champion's own thresholds: block above 0.35, band [0.3, 0.5] */
        const struct evaluate_candidate own = {.block_threshold = 0.35,
                                               .review_threshold = 0.3,
                                               .band_low = 0.3,
                                               .band_high = 0.5};
        struct evaluate_candidate c;
        double cascade[10];

        ck_assert_int_eq(evaluate_at_thresholds(&h, g, m, &own, 5, &costs, cascade, &c), 0);
        ck_assert_double_eq(c.block_threshold, 0.35);
        ck_assert_double_eq(c.band_high, 0.5);
        for (size_t i = 0; i < N(g); i++) /* band ends included: 0.3, 0.4, 0.5 */
                ck_assert_double_eq(cascade[i], i >= 3 && i <= 5 ? m[i] : g[i]);
        /* GBDT above 0.35: 0.4 .. 0.9, 5 frauds of 5, 1 legitimate (0.5) */
        ck_assert_double_eq_tol(c.scores[EVALUATE_GBDT].recall, 1, 1e-12);
        ck_assert_double_eq_tol(c.scores[EVALUATE_GBDT].false_positive_rate, 1.0 / 5, 1e-12);
        /* cascade: 0.3 (legitimate, MLP 0.99) flagged, 0.5 (MLP 0.02) not */
        ck_assert_double_eq_tol(c.scores[EVALUATE_CASCADE].false_positive_rate, 1.0 / 5, 1e-12);
        ck_assert_double_eq_tol(c.scores[EVALUATE_CASCADE].recall, 1, 1e-12);
        /* no MLP: the cascade is the GBDT, the MLP's figures stay 0 */
        ck_assert_int_eq(evaluate_at_thresholds(&h, g, NULL, &own, 5, &costs, cascade, &c), 0);
        for (size_t i = 0; i < N(g); i++)
                ck_assert_double_eq(cascade[i], g[i]);
        ck_assert_double_eq(c.scores[EVALUATE_MLP].auc_roc, 0);
        ck_assert_double_eq(c.scores[EVALUATE_CASCADE].auc_roc, c.scores[EVALUATE_GBDT].auc_roc);
}
END_TEST

START_TEST(test_evaluate_rank_orders_high_first_ties_by_index) {
        const double s[] = {0.2, 0.9, 0.2, 0.5};
        size_t idx[4];

        evaluate_rank(s, idx, 4);
        ck_assert_uint_eq(idx[0], 1);
        ck_assert_uint_eq(idx[1], 3);
        ck_assert_uint_eq(idx[2], 0);
        ck_assert_uint_eq(idx[3], 2);
}
END_TEST

/* The order a comparison sort gives: score descending, then index. */
static const double *ref_scores;

static int ref_order(const void *a, const void *b) {
        size_t x = *(const size_t *)a, y = *(const size_t *)b;

        if (ref_scores[x] != ref_scores[y])
                return ref_scores[x] > ref_scores[y] ? -1 : 1;
        return (x > y) - (x < y);
}

START_TEST(test_evaluate_rank_equals_a_comparison_sort) {
        static double s[5000];
        static size_t idx[5000], want[5000];
        const double pool[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 4.9e-324, 1e300, -2.5};
        uint64_t x = 88172645463325252u;

        for (int round = 0; round < 300; round++) {
                size_t n = 1 + (size_t)(x % (round % 10 == 0 ? 5000 : 60));

                for (size_t i = 0; i < n; i++) { /* ties, signed zeros, extremes, then random */
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        s[i] = round % 3 == 0   ? pool[x % N(pool)]
                               : round % 3 == 1 ? (double)(x % 7) / 4.0 - 0.5
                                                : (double)(int64_t)x / 1e15;
                        want[i] = i;
                }
                ref_scores = s;
                qsort(want, n, sizeof(size_t), ref_order);
                evaluate_rank(s, idx, n);
                for (size_t i = 0; i < n; i++)
                        ck_assert_uint_eq(idx[i], want[i]);
        }
}
END_TEST

TESTING_MAIN("evaluate", test_evaluate_auc_of_distinct_scores,
             test_evaluate_rank_equals_a_comparison_sort,
             test_evaluate_auc_counts_tied_pair_as_half,
             test_evaluate_average_precision_of_distinct_scores,
             test_evaluate_average_precision_takes_tied_scores_as_one_step,
             test_evaluate_ranking_metrics_need_both_classes,
             test_evaluate_recall_and_fpr_flag_scores_above_threshold,
             test_evaluate_card_precision_counts_card_once_per_day,
             test_evaluate_card_precision_counts_card_again_on_next_day,
             test_evaluate_card_is_fraud_when_any_payment_of_day_is,
             test_evaluate_cost_savings_fixed_and_per_payment,
             test_evaluate_bayes_savings_use_each_payment_threshold,
             test_evaluate_cost_optimal_threshold_prefers_fewer_flags_on_tie,
             test_evaluate_cost_optimal_threshold_flags_nothing_when_alerts_cost_too_much,
             test_evaluate_cost_optimal_threshold_flags_all_below_lowest,
             test_evaluate_band_holds_share_nearest_threshold,
             test_evaluate_candidate_rescores_band_with_mlp,
             test_evaluate_at_thresholds_uses_the_given_threshold_and_band,
             test_evaluate_rank_orders_high_first_ties_by_index)
