/* cascade.c: see cascade.h. */
#include "scorer/cascade.h"

bool cascade_in_band(const struct cascade_model *m, double p_gbdt) {
        return p_gbdt >= m->band_low && p_gbdt <= m->band_high;
}

double cascade_block_threshold(const struct cascade_costs *c, int64_t amount_minor) {
        double fn =
                c->fn_is_amount ? (double)(amount_minor > 0 ? amount_minor : 0) : c->false_negative;
        double fp = c->false_positive;

        if (fn <= 0.0)
                return 1.0; /* no loss to avoid: never block on probability */
        return fp / (fp + fn);
}

double cascade_review_threshold(const struct cascade_costs *c, double block_threshold,
                                const struct cascade_model *m) {
        if (c->review_ratio > 0.0)
                return c->review_ratio * block_threshold;
        return m->review_threshold < block_threshold ? m->review_threshold : block_threshold;
}

static enum cascade_decision rules_decision(enum rules_action a) {
        switch (a) {
        case RULES_BLOCK:
                return CASCADE_BLOCK;
        case RULES_REVIEW:
                return CASCADE_REVIEW;
        default:
                return CASCADE_ALLOW;
        }
}

static double rules_probability(enum cascade_decision d) {
        return d == CASCADE_BLOCK ? 1.0 : d == CASCADE_REVIEW ? 0.5 : 0.0;
}

void cascade_decide(const struct cascade_costs *c, const struct cascade_input *in,
                    struct cascade_output *out) {
        enum cascade_decision d;
        double p;

        *out = (struct cascade_output){
                .stage = CASCADE_STAGE_RULES, .block_threshold = 1.0, .review_threshold = 1.0};
        if (in->rules_action != RULES_CONTINUE || !in->has_gbdt) {
                d = in->rules_action != RULES_CONTINUE ? rules_decision(in->rules_action)
                                                       : c->degraded_decision;
                out->decision = d;
                out->probability = rules_probability(d);
                out->degraded = in->rules_action == RULES_CONTINUE;
                return;
        }
        p = in->p_gbdt;
        out->stage = CASCADE_STAGE_GBDT;
        if (cascade_in_band(&in->model, in->p_gbdt)) {
                if (in->has_mlp) {
                        p = in->p_mlp;
                        out->stage = CASCADE_STAGE_NEURAL;
                } else {
                        out->degraded = true;
                }
        }
        out->probability = p;
        out->block_threshold = cascade_block_threshold(c, in->amount_minor);
        out->review_threshold = cascade_review_threshold(c, out->block_threshold, &in->model);
        if (p > out->block_threshold)
                out->decision = CASCADE_BLOCK;
        else if (p > out->review_threshold)
                out->decision = CASCADE_REVIEW;
        else
                out->decision = CASCADE_ALLOW;
        out->model_reasons = out->decision != CASCADE_ALLOW;
}
