/* cascade.h: the scorer's decision, from the rules' action and the models'
 * probabilities, under a cost model.
 *
 * Order: a rule that allows, reviews or blocks decides (stage RULES).  A
 * rule that continues, or no rule, hands over to the GBDT.  A GBDT
 * probability inside the model's ambiguous band [band_low, band_high]
 * (both ends included) is re-scored by the MLP, whose probability then
 * decides (stage NEURAL); outside the band the GBDT's decides (stage
 * GBDT).  With no GBDT the settings' degraded decision applies (stage
 * RULES, degraded); a band transaction without an MLP is decided on the
 * GBDT, degraded.
 *
 * Cost model (costs in minor units): blocking a payment of fraud
 * probability p avoids an expected loss p * C_FN and risks (1 - p) * C_FP,
 * so block when p > C_FP / (C_FP + C_FN), strictly.  C_FN is the payment's
 * amount when fn_is_amount, else the fixed cost_false_negative.  With C_FN
 * = 0 (a zero amount) nothing is blocked on probability.  Review when p is
 * above the review threshold and not above the block threshold.  Review
 * threshold precedence: review_ratio > 0 (the operator's setting) gives
 * review_ratio * block threshold; review_ratio = 0 defers to the model's
 * review_threshold, capped at the block threshold.
 *
 * Probability of a rules decision (no model ran): 1 for block, 0.5 for
 * review, 0 for allow.  Pure and total: every input gives an answer.
 */
#ifndef FRAUD_SCORER_CASCADE_H
#define FRAUD_SCORER_CASCADE_H

#include <stdbool.h>
#include <stdint.h>

#include "scorer/rules.h"

/* Values equal to proto/score.proto's Decision and Stage. */
enum cascade_decision {
        CASCADE_ALLOW = 1,
        CASCADE_REVIEW = 2,
        CASCADE_BLOCK = 3,
};

enum cascade_stage {
        CASCADE_STAGE_RULES = 1,
        CASCADE_STAGE_GBDT = 2,
        CASCADE_STAGE_NEURAL = 3,
};

struct cascade_costs {
        double false_positive; /* C_FP >= 0 */
        double false_negative; /* C_FN >= 0 when !fn_is_amount */
        bool fn_is_amount;
        double review_ratio; /* 0..1; 0: the model's review threshold */
        enum cascade_decision degraded_decision;
};

/* The model's own thresholds. */
struct cascade_model {
        double band_low, band_high;
        double review_threshold;
};

struct cascade_input {
        enum rules_action rules_action;
        int64_t amount_minor;
        bool has_gbdt; /* a GBDT scored this transaction */
        double p_gbdt;
        bool has_mlp; /* the MLP scored it (only asked for band transactions) */
        double p_mlp;
        struct cascade_model model; /* when has_gbdt */
};

struct cascade_output {
        enum cascade_decision decision;
        enum cascade_stage stage;
        double probability;
        double block_threshold, review_threshold; /* as applied; 1, 1 for rules */
        bool degraded;
        bool model_reasons; /* a model decided review or block: explain it */
};

/* Whether a GBDT probability goes to the MLP. */
bool cascade_in_band(const struct cascade_model *m, double p_gbdt);

double cascade_block_threshold(const struct cascade_costs *c, int64_t amount_minor);
double cascade_review_threshold(const struct cascade_costs *c, double block_threshold,
                                const struct cascade_model *m);

void cascade_decide(const struct cascade_costs *c, const struct cascade_input *in,
                    struct cascade_output *out);

#endif
