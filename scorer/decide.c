/* decide.c: see decide.h. */
#include "scorer/decide.h"

#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "lib/time.h"

static const char empty[] = "";

static const char *nonnull(const char *s) {
        return s ? s : empty;
}

void decide_tx_from_vector(const Fraud__FeatureVector *fv, struct decide_tx *tx) {
        const Fraud__Transaction *t = fv->transaction;
        int64_t when = t ? t->event_time_us : 0;

        memset(tx, 0, sizeof(*tx));
        tx->schema_hash = fv->feature_schema_hash;
        tx->values = fv->values;
        tx->n_values = fv->n_values;
        if (!t)
                return;
        tx->amount_minor = t->amount_minor;
        tx->rules.keys[RULES_KEY_CARD_HASH] = t->card_hash;
        tx->rules.keys[RULES_KEY_DEVICE] = t->device_id;
        tx->rules.keys[RULES_KEY_IP] = t->ip;
        tx->rules.keys[RULES_KEY_BIN] = t->card_bin;
        tx->rules.keys[RULES_KEY_MERCHANT] = t->merchant_id;
        tx->rules.env.tx[EXPR_TX_AMOUNT] = (double)t->amount_minor;
        tx->rules.env.tx[EXPR_TX_MCC] = t->mcc;
        tx->rules.env.tx[EXPR_TX_CHANNEL] = t->channel;
        tx->rules.env.tx[EXPR_TX_HOUR] = fraud_time_hour_of_day(when);
        tx->rules.env.tx[EXPR_TX_WEEKDAY] = fraud_time_weekday(when);
}

static uint32_t elapsed_ns(int64_t since) {
        int64_t d = fraud_time_mono_ns() - since;
        return d < 0 ? 0 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Appends the features that pushed the margin up most, largest first; c
 * holds the transaction's contributions. */
static void reasons_from_contributions(const struct serving *m, const double *c, size_t max,
                                       struct decide_result *res) {
        size_t n = m->meta.n_features;
        bool taken[FRAUD_MODELFILE_FEATURES_MAX] = {false};

        for (size_t k = 0; k < max && res->n_reasons < FRAUD_SCORER_REASONS_MAX; k++) {
                size_t best = n;
                for (size_t i = 0; i < n; i++)
                        if (!taken[i] && c[i] > 0.0 && (best == n || c[i] > c[best]))
                                best = i;
                if (best == n)
                        return;
                taken[best] = true;
                res->reasons[res->n_reasons++] = m->meta.feature_names[best];
        }
}

/* Rules, and whether the model applies; fills the result's input. */
static bool rules_stage(const struct rules *rules, uint64_t rules_schema_hash,
                        const struct serving *model, const struct decide_tx *tx,
                        struct decide_result *res) {
        struct rules_tx rtx = tx->rules;
        struct rules_result rr = {.action = RULES_CONTINUE};
        bool model_fits;

        memset(res, 0, sizeof(*res));
        res->gbdt_version = res->neural_version = res->rules_version = empty;
        res->input.amount_minor = tx->amount_minor;
        if (rules) {
                int64_t t0 = fraud_time_mono_ns();
                if (rules_schema_hash == tx->schema_hash) {
                        rtx.env.features = tx->values;
                        rtx.env.n_features = tx->n_values;
                }
                rules_evaluate(rules, &rtx, &rr);
                res->rules_ns = elapsed_ns(t0);
                res->rules_version = rules_version(rules);
                res->features_missing = rr.features_missing;
                if (rr.reason)
                        res->reasons[res->n_reasons++] = rr.reason;
        }
        res->input.rules_action = rr.action;
        model_fits = model && model->meta.feature_schema_hash == tx->schema_hash &&
                     model->meta.n_features == tx->n_values;
        res->schema_mismatch = model && !model_fits;
        if (model_fits) {
                res->gbdt_version = model->meta.version;
                res->neural_version = model->meta.has_mlp ? model->meta.version : empty;
        }
        return model_fits && rr.action == RULES_CONTINUE;
}

/* One GBDT call for the k transactions listed in m's batch scratch. */
static void gbdt_stage(struct serving *m, size_t k, struct decide_result *res) {
        const struct fraud_modelfile *meta = &m->meta;
        int64_t t0 = fraud_time_mono_ns();
        int r = booster_predict_rows(m->gbdt, m->batch_rows, k, m->batch_p);
        uint32_t share = elapsed_ns(t0) / (uint32_t)k;

        for (size_t j = 0; j < k; j++) {
                struct decide_result *one = &res[m->batch_index[j]];
                one->gbdt_ns = share;
                one->model_error = r;
                if (r < 0)
                        continue;
                one->input.has_gbdt = true;
                one->input.p_gbdt = m->batch_p[j];
                one->input.model = (struct cascade_model){meta->band_low, meta->band_high,
                                                          meta->review_threshold};
        }
}

/* The MLP on the band, and the cascade. */
static void final_stage(const struct decide_config *cfg, struct serving *m,
                        const struct decide_tx *tx, struct decide_result *res) {
        struct cascade_input *in = &res->input;

        if (in->has_gbdt && m->meta.has_mlp && cascade_in_band(&in->model, in->p_gbdt)) {
                int64_t t0 = fraud_time_mono_ns();
                in->p_mlp = fraud_mlp_forward(&m->mlp, tx->values, m->mlp_scratch);
                in->has_mlp = true;
                res->neural_ns = elapsed_ns(t0);
        }
        cascade_decide(&cfg->costs, in, &res->cascade);
}

/* The reasons of the reviews and blocks decided by the model in
 * [start, end): one contributions call for all of them. */
static void reasons_stage(const struct decide_config *cfg, struct serving *m,
                          const struct decide_tx *txs, size_t start, size_t end,
                          struct decide_result *res) {
        size_t k = 0, width = m->meta.n_features + 1;
        int64_t t0;
        uint32_t share;

        for (size_t i = start; i < end; i++) {
                if (!res[i].cascade.model_reasons)
                        continue;
                m->batch_rows[k] = txs[i].values;
                m->batch_index[k++] = i;
        }
        if (k == 0 || cfg->reasons_max == 0)
                return;
        if (k > m->contrib_rows) {
                double *bigger = realloc(m->contrib, k * width * sizeof(double));
                if (!bigger)
                        return; /* no reasons rather than no decision */
                m->contrib = bigger;
                m->contrib_rows = k;
        }
        t0 = fraud_time_mono_ns();
        if (booster_contributions_rows(m->gbdt, m->batch_rows, k, m->contrib) < 0)
                return;
        share = elapsed_ns(t0) / (uint32_t)k;
        for (size_t j = 0; j < k; j++) {
                struct decide_result *one = &res[m->batch_index[j]];
                reasons_from_contributions(m, m->contrib + j * width, cfg->reasons_max, one);
                one->gbdt_ns += share;
        }
}

void decide_batch(const struct decide_config *cfg, const struct rules *rules,
                  uint64_t rules_schema_hash, struct serving *model, const struct decide_tx *txs,
                  size_t n, struct decide_result *res) {
        for (size_t start = 0; start < n; start += FRAUD_SCORER_BATCH_MAX) {
                size_t end =
                        n - start > FRAUD_SCORER_BATCH_MAX ? start + FRAUD_SCORER_BATCH_MAX : n;
                size_t k = 0;

                for (size_t i = start; i < end; i++) {
                        if (!rules_stage(rules, rules_schema_hash, model, &txs[i], &res[i]))
                                continue;
                        model->batch_rows[k] = txs[i].values;
                        model->batch_index[k++] = i;
                }
                if (k > 0)
                        gbdt_stage(model, k, res);
                for (size_t i = start; i < end; i++) {
                        if (res[i].input.has_gbdt)
                                final_stage(cfg, model, &txs[i], &res[i]);
                        else
                                cascade_decide(&cfg->costs, &res[i].input, &res[i].cascade);
                }
                if (k > 0)
                        reasons_stage(cfg, model, txs, start, end, res);
        }
}

void decide_run(const struct decide_config *cfg, const struct rules *rules,
                uint64_t rules_schema_hash, struct serving *model, const struct decide_tx *tx,
                struct decide_result *res) {
        decide_batch(cfg, rules, rules_schema_hash, model, tx, 1, res);
}

void decide_score_fill(const Fraud__FeatureVector *fv, const struct decide_result *res, bool shadow,
                       char **reasons, Fraud__Score *score) {
        const Fraud__Transaction *t = fv->transaction;

        fraud__score__init(score);
        score->schema_version = SCORE_SCHEMA_VERSION;
        score->transaction_id = (char *)nonnull(fv->transaction_id);
        if (t) {
                score->card_hash = (char *)nonnull(t->card_hash);
                score->event_time_us = t->event_time_us;
                score->amount_minor = t->amount_minor;
                score->currency = (char *)nonnull(t->currency);
                score->ingest_time_us = t->ingest_time_us;
        }
        score->decision = (Fraud__Decision)res->cascade.decision;
        score->probability = res->cascade.probability;
        score->stage = (Fraud__Stage)res->cascade.stage;
        score->gbdt_version = (char *)res->gbdt_version;
        score->neural_version = (char *)res->neural_version;
        score->rules_version = (char *)res->rules_version;
        for (size_t i = 0; i < res->n_reasons; i++)
                reasons[i] = (char *)res->reasons[i];
        score->reason_codes = reasons;
        score->n_reason_codes = res->n_reasons;
        score->degraded = res->cascade.degraded || res->schema_mismatch || res->features_missing ||
                          res->model_error < 0;
        score->shadow = shadow;
        score->rules_latency_ns = res->rules_ns;
        score->gbdt_latency_ns = res->gbdt_ns;
        score->neural_latency_ns = res->neural_ns;
        score->scored_time_us = fraud_time_now_us();
}

static enum cascade_decision decision_parse(const char *name) {
        return strcmp(name, "block") == 0    ? CASCADE_BLOCK
               : strcmp(name, "review") == 0 ? CASCADE_REVIEW
                                             : CASCADE_ALLOW;
}

void decide_config_from_settings(struct decide_config *cfg,
                                 const struct fraud_settings_scorer *sc) {
        cfg->costs = (struct cascade_costs){
                .false_positive = sc->cost_false_positive,
                .false_negative = sc->cost_false_negative,
                .fn_is_amount = sc->cost_fn_is_amount,
                .review_ratio = sc->review_ratio,
                .degraded_decision = decision_parse(sc->degraded_decision),
        };
        cfg->reasons_max = (size_t)sc->reasons_max;
}
