/* decide.h: transactions through the cascade, without Kafka: the scorer's
 * core, as the daemon and the backtest drive it.
 *
 * rules -> GBDT -> MLP on the GBDT's band -> cascade (scorer/cascade.h),
 * with each stage timed (monotonic clock, latency only; no decision reads
 * it).  A batch is decided stage by stage: rules for every transaction,
 * then one GBDT call for all that reach it (XGBoost's fixed cost per call,
 * about 10 us, is shared; each transaction's gbdt_latency_ns is its share
 * of that call), then the MLP and the cascade per transaction, then one
 * contributions call for the reviews and blocks the model decided.  The
 * decisions do not depend on how transactions are grouped into batches.
 *
 * A model is used only when its feature_schema_hash equals the vector's
 * and the vector has as many values: otherwise the transaction is decided
 * as if no model were loaded (degraded) and schema_mismatch is set for the
 * caller to count.  Rules read the features only when they were compiled
 * against the vector's schema (rules_schema_hash).
 *
 * Reason codes: the rule that fired (if any), then, for a review or block
 * decided by a model, the features with the largest positive contributions
 * to the GBDT margin, largest first, at most reasons_max.  Strings in a
 * result are borrowed from the rules and the model.
 */
#ifndef FRAUD_SCORER_DECIDE_H
#define FRAUD_SCORER_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/score.pb-c.h"
#include "scorer/cascade.h"
#include "scorer/rules.h"
#include "scorer/serving.h"

struct decide_config {
        struct cascade_costs costs;
        size_t reasons_max; /* < FRAUD_SCORER_REASONS_MAX */
};

/* One transaction, borrowed from its FeatureVector. */
struct decide_tx {
        struct rules_tx rules;
        uint64_t schema_hash;
        const double *values;
        size_t n_values;
        int64_t amount_minor;
};

struct decide_result {
        struct cascade_output cascade;
        const char *reasons[FRAUD_SCORER_REASONS_MAX];
        size_t n_reasons;
        uint32_t rules_ns, gbdt_ns, neural_ns;
        const char *gbdt_version, *neural_version; /* "" when none ran */
        const char *rules_version;                 /* "" without rules */
        bool schema_mismatch;                      /* a model was loaded but did not fit */
        bool features_missing;                     /* rules over features met other features */
        int model_error;                           /* 0, or a GBDT failure (-errno): degraded */
        struct cascade_input input;                /* what the cascade was given */
};

/* The decision configuration of the scorer settings (costs, degraded
 * decision, reasons). */
void decide_config_from_settings(struct decide_config *cfg,
                                 const struct fraud_settings_scorer *sc);

/* Fills tx from fv (borrowing its strings and values). */
void decide_tx_from_vector(const Fraud__FeatureVector *fv, struct decide_tx *tx);

/* Decides the n transactions of txs into res (n entries).  rules and model
 * may be NULL.  model's scratch buffers are used, so a model serves one
 * decide_batch() at a time. */
void decide_batch(const struct decide_config *cfg, const struct rules *rules,
                  uint64_t rules_schema_hash, struct serving *model, const struct decide_tx *txs,
                  size_t n, struct decide_result *res);

/* decide_batch() of one transaction. */
void decide_run(const struct decide_config *cfg, const struct rules *rules,
                uint64_t rules_schema_hash, struct serving *model, const struct decide_tx *tx,
                struct decide_result *res);

/* Fills score (initialised here) from fv and res.  score borrows strings
 * from both, and reasons (an array of FRAUD_SCORER_REASONS_MAX) becomes its
 * reason_codes. */
void decide_score_fill(const Fraud__FeatureVector *fv, const struct decide_result *res, bool shadow,
                       char **reasons, Fraud__Score *score);

#endif
