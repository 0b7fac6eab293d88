/* gate.h: the quality gate a newly trained model passes to be promoted.
 * Pure: no I/O, deterministic.
 *
 * The challenger is judged on its holdout by its cascade's figures (what
 * the scorer acts on), the champion on the same holdout at its own
 * thresholds (trainer/round.h, round_compare).  It is promoted only if
 * every check passes:
 *
 *   train_frauds   >= min_train_frauds
 *   holdout_frauds >= min_holdout_frauds
 *   auc_roc        >= min_auc
 *   average_precision >= ap_ratio x the champion's     (with a champion)
 *
 * Without a champion (the first model, or one that cannot be compared) the
 * absolute checks decide alone.  A figure that is not a number fails its
 * check.  The reason names every check that failed, with the figures, or
 * says why the model passed: it is logged and kept as the model's
 * status_reason in the registry.
 */
#ifndef FRAUD_GATE_H
#define FRAUD_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gate_config {
        double ap_ratio;
        uint64_t min_train_frauds, min_holdout_frauds;
        double min_auc;
};

struct gate_input {
        uint64_t train_frauds, holdout_frauds;
        double auc_roc, average_precision; /* the challenger's cascade on the holdout */
        bool has_champion;
        double champion_average_precision; /* the champion's cascade, same holdout */
        const char *champion_version;      /* for the reason; borrowed */
};

enum gate_verdict {
        GATE_REJECT,
        GATE_PROMOTE,
};

/* The verdict, and why into reason (reason_size bytes, always
 * NUL-terminated, cut if it must be). */
enum gate_verdict gate_decide(const struct gate_config *c, const struct gate_input *in,
                              char *reason, size_t reason_size);

#endif
