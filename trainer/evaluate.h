/* evaluate.h: how good a fraud model is, on scored and labelled payments.
 *
 * Pure functions over borrowed arrays (score in [0, 1], label 0/1): no I/O,
 * deterministic (ties are resolved by a stated rule, never by sort order).
 * Shared by `fraudctl train`, the trainer daemon's quality gate and the
 * backtest report.
 *
 * Conventions:
 *   - A payment is flagged at threshold t when score > t, strictly, as the
 *     scorer does (scorer/cascade.h).
 *   - AUC-ROC counts a tied (positive, negative) pair as one half
 *     (Mann-Whitney).  Average precision is the step-wise sum over distinct
 *     scores, high to low, of (recall gained) x (precision there), tied
 *     scores taken as one step (as scikit-learn computes it).  Both are
 *     -EDOM when a class is absent.
 *   - Card precision@k, per UTC day of event time: each card counted once
 *     per day, with its highest score of the day, fraudulent if any of its
 *     payments that day is; the k highest cards (ties: smaller card id
 *     first) are checked and precision is frauds found / k; the result is
 *     the mean over the days that have payments.
 *   - Cost model (the scorer's): acting on a legitimate payment costs
 *     C_FP, missing a fraud costs C_FN, a fixed cost or each payment's own
 *     (its amount).  Savings are what flagging saves against flagging
 *     nothing: the C_FN of the frauds flagged minus C_FP per legitimate
 *     payment flagged.  For calibrated probabilities the Bayes rule flags
 *     when p > C_FP / (C_FP + C_FN) (what the scorer applies); the
 *     empirical cost-optimal threshold is the single threshold that
 *     maximises savings on the set.
 */
#ifndef FRAUD_EVALUATE_H
#define FRAUD_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

struct evaluate_confusion {
        uint64_t tp, fp, tn, fn;
};

struct evaluate_costs {
        double false_positive;             /* C_FP >= 0 */
        double false_negative;             /* C_FN >= 0, unless false_negative_each */
        const double *false_negative_each; /* NULL, or C_FN of each payment; borrowed */
};

/* -EDOM when a class is absent, -EINVAL for a non-finite score, -ENOMEM. */
int evaluate_auc_roc(const double *score, const uint8_t *label, size_t n, double *out);
int evaluate_average_precision(const double *score, const uint8_t *label, size_t n, double *out);
/* Both from one ranking (half the work of the two calls), the same values. */
int evaluate_ranking(const double *score, const uint8_t *label, size_t n, double *auc, double *ap);

void evaluate_confusion_at(const double *score, const uint8_t *label, size_t n, double threshold,
                           struct evaluate_confusion *c);
/* TP / (TP + FN) and FP / (FP + TN); 0 when the denominator is 0. */
double evaluate_recall(const struct evaluate_confusion *c);
double evaluate_false_positive_rate(const struct evaluate_confusion *c);

/* time_us: event time of each payment; card: its card id (any stable
 * 64-bit id, e.g. a hash).  -EINVAL for k == 0, -ENOMEM; 0 with *out = 0
 * for no payments. */
int evaluate_card_precision_at_k(const double *score, const uint8_t *label, const int64_t *time_us,
                                 const uint64_t *card, size_t n, size_t k, double *out);

/* Savings when flagging score > threshold. */
double evaluate_cost_savings(const double *score, const uint8_t *label, size_t n, double threshold,
                             const struct evaluate_costs *costs);
/* Savings under the Bayes rule, payment by payment (none flagged when its
 * C_FN is 0). */
double evaluate_cost_savings_bayes(const double *score, const uint8_t *label, size_t n,
                                   const struct evaluate_costs *costs);
/* C_FP / (C_FP + C_FN) of a fixed C_FN; 1 when C_FN is 0. */
double evaluate_bayes_threshold(double false_positive, double false_negative);

/* The threshold that maximises savings (costs valid: C_FP, C_FN >= 0):
 * halfway between the lowest score flagged and the highest not flagged (the
 * lowest score / 2 when all are flagged; the highest score when none are);
 * ties go to flagging fewer payments.  *savings receives its savings.
 * -EINVAL for a non-finite score, -ENOMEM. */
int evaluate_cost_optimal_threshold(const double *score, const uint8_t *label, size_t n,
                                    const struct evaluate_costs *costs, double *threshold,
                                    double *savings);

/* The ambiguous band the MLP re-scores: the round(share * n) scores that
 * rank nearest threshold (as many at or below it as above it, the window
 * slid inward at either end), widened to include threshold itself, as
 * [*low, *high].  Bounding the share of payments in the band bounds the
 * MLP's share of the scorer's work.  share 0 or n 0 gives [threshold,
 * threshold].  -EINVAL for a share outside [0, 1] or a non-finite score,
 * -ENOMEM. */
int evaluate_band(const double *score, size_t n, double threshold, double share, double *low,
                  double *high);

/* ---- a candidate on its holdout ---- */

/* The labelled holdout payments; borrowed. */
struct evaluate_holdout {
        const uint8_t *label;
        const int64_t *time_us;
        const uint64_t *card;
        size_t n;
};

/* One model's (or the cascade's) figures on the holdout. */
struct evaluate_scores {
        double auc_roc, average_precision, card_precision; /* card precision@k */
        double recall, false_positive_rate;                /* at the block threshold */
        double savings;                                    /* at the block threshold */
        double savings_bayes;                              /* under the Bayes rule */
};

enum evaluate_model { EVALUATE_GBDT, EVALUATE_MLP, EVALUATE_CASCADE, EVALUATE_MODELS };

/* How the trainer sets a candidate's thresholds, and what they give:
 *   block_threshold   the GBDT's cost-optimal threshold on the holdout;
 *   band              evaluate_band() of the GBDT's scores around it, with
 *                     band_share of the holdout;
 *   review_threshold  band_low: a payment in the band not blocked is worth
 *                     a look.
 * The cascade scores a payment with the MLP inside the band (ends
 * included, as the scorer does) and with the GBDT outside. */
struct evaluate_candidate {
        double block_threshold, review_threshold, band_low, band_high;
        struct evaluate_scores scores[EVALUATE_MODELS];
};

/* Fills *out from the holdout scores of the GBDT and the MLP (n each);
 * p_cascade (n, the caller's) receives the cascade's.  k of card
 * precision@k.  -EDOM when the holdout lacks a class, -EINVAL, -ENOMEM. */
int evaluate_candidate(const struct evaluate_holdout *h, const double *p_gbdt, const double *p_mlp,
                       double band_share, size_t k, const struct evaluate_costs *costs,
                       double *p_cascade, struct evaluate_candidate *out);

/* The same figures for a model whose thresholds are set already (the
 * champion judged on a challenger's holdout, as it serves): t's
 * block_threshold, band_low and band_high are used, not chosen; p_mlp NULL
 * for a model without an MLP (its cascade is then its GBDT and its MLP
 * figures stay 0).  out's thresholds are t's.  -EDOM when the holdout
 * lacks a class, -EINVAL, -ENOMEM. */
int evaluate_at_thresholds(const struct evaluate_holdout *h, const double *p_gbdt,
                           const double *p_mlp, const struct evaluate_candidate *t, size_t k,
                           const struct evaluate_costs *costs, double *p_cascade,
                           struct evaluate_candidate *out);

/* Sorts idx[0..n) by score, highest first, ties by index (deterministic).
 * For callers that rank more than once (the band choice). */
void evaluate_rank(const double *score, size_t *idx, size_t n);

#endif
