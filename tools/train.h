/* train.h: `fraudctl train`, a model version from a labelled CSV file.
 *
 *   fraudctl train [--config FILE] --input FILE --out DIR
 *                  [--holdout-days N] [--version NAME] [--parent NAME]
 *
 * Input: a CSV file whose header names the columns.  Three are required,
 * in any position: label (0 or 1), event_time (ISO 8601, UTC or with an
 * offset) and card (the card's id, for card precision@k); every other
 * column is a feature, a finite decimal number, and the features' order in
 * the header is the model's feature order.  Fields are unquoted (no commas
 * inside); blank lines are skipped.  A row that does not parse is rejected
 * with its line number and reason (the first FRAUD_TRAIN_BAD_ROWS_SHOWN on
 * stderr), counted, and never stops the run; a bad header does.
 *
 * Split: by event time, never shuffled.  The holdout is the last
 * trainer.holdout_days UTC days (--holdout-days overrides), counted back
 * from the day of the latest event; everything before trains.  Both parts
 * need frauds and legitimate payments.
 *
 * Training: one round of trainer/round.h, the code the trainer daemon runs
 * every day: GBDT and MLP (trainer/fit.h) with the trainer settings, both
 * calibrated back to probabilities after class weighting.
 *
 * Thresholds, on the holdout, under the scorer's cost model
 * (scorer.cost_false_positive; C_FN is the row's `amount` feature when
 * scorer.cost_fn_is_amount is set and such a column exists, else
 * scorer.cost_false_negative):
 *   block_threshold   the GBDT's empirical cost-optimal threshold
 *                     (evaluate_cost_optimal_threshold);
 *   band              the trainer.band_share of holdout payments whose GBDT
 *                     score ranks nearest block_threshold (evaluate_band):
 *                     the payments where the GBDT is least sure of the
 *                     decision that matters, with the MLP's load bounded;
 *   review_threshold  band_low: every payment in the band that is not
 *                     blocked is worth a look.
 * The cascade's holdout score is the MLP's inside the band, the GBDT's
 * outside; it is evaluated like the two models.
 *
 * Output: DIR (created when missing) in common/modelfile.h's layout:
 * gbdt.json, mlp.bin, then model.yaml (status candidate, version NAME or
 * "train-YYYYMMDD" of the last day, created_at = label_cutoff = data_end =
 * the latest event time, metrics and parameters), and the metrics on
 * stdout.
 */
#ifndef FRAUD_TRAIN_H
#define FRAUD_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/modelfile.h"

/* The CSV in memory.  Every array is owned (train_table_release). */
struct train_table {
        size_t n_rows, n_features;
        char (*names)[FRAUD_MODELFILE_NAME_MAX]; /* n_features, in header order */
        double *x;                               /* n_rows * n_features, row-major */
        uint8_t *label;
        int64_t *time_us;
        uint64_t *card; /* FNV-1a 64 of the card column */
        size_t rows_rejected;
        size_t capacity; /* rows allocated */
};

/* Reads a whole CSV stream (name is used in messages).  Rejected rows are
 * described on diag (NULL: not at all) and counted.  0, or -EINVAL (bad
 * header, or no valid row) / -E2BIG (more than FRAUD_TRAIN_ROWS_MAX rows)
 * / -ENOMEM / -EIO with the reason in err; t holds nothing on failure. */
int train_table_read(struct train_table *t, FILE *in, const char *name, FILE *diag, char *err,
                     size_t err_size);
void train_table_release(struct train_table *t);

/* The subcommand; returns the exit status (0, or a sysexits.h code). */
int train_main(int argc, char **argv);

#endif
