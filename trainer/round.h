/* round.h: one training round, shared by `fraudctl train` (rows from a CSV
 * file) and the trainer daemon (rows from its label store at a cutoff):
 *
 *   labelled rows in memory -> time split (round_split) -> GBDT and MLP
 *   fitted and calibrated (round_fit) -> holdout scored, metrics,
 *   cost-optimal block threshold and band (round_evaluate) -> optionally the
 *   champion scored on the same holdout (round_compare) -> model.yaml
 *   metadata (round_modelfile) -> model directory (round_write).
 *
 * Split: by event time, never shuffled.  The holdout is the holdout_days
 * UTC days ending with day last_day (day indices since the epoch); every
 * earlier row trains, and a later one is in neither part.  Both parts need
 * frauds and legitimate payments.  Rows are copied into the parts in their
 * input order, each with its index in the input (part.row), so a caller can
 * tell which rows trained and which were held out.
 *
 * Training: trainer/fit.h with the trainer settings (class weighting taken
 * back out, so both models give probabilities).  Thresholds, under the
 * scorer's cost model (scorer.cost_false_positive; C_FN is the row's
 * `amount` feature when scorer.cost_fn_is_amount is set and such a feature
 * exists, else scorer.cost_false_negative): block_threshold is the GBDT's
 * empirical cost-optimal threshold on the holdout, the band the
 * trainer.band_share of holdout payments ranking nearest it, the review
 * threshold the band's low end (trainer/evaluate.h, evaluate_candidate).
 *
 * Everything but round_compare (reads a model directory) and round_write
 * (writes one) is computation on memory.  The same rows and settings give
 * the same model bytes.  Errors: -errno with the reason in r->err:
 * -EDOM (a part lacks a class), -ENOMEM, -EIO (XGBoost), -EINVAL, and the
 * file system's for the two functions that touch files.
 *
 * Ownership: struct round owns its parts, models and scores; it borrows
 * the settings and the rows, which must outlive it.
 */
#ifndef FRAUD_ROUND_H
#define FRAUD_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgboost/c_api.h>

#include "common/mlp.h"
#include "common/modelfile.h"
#include "common/settings.h"
#include "lib/bounds.h"
#include "trainer/evaluate.h"
#include "trainer/fit.h"

/* The labelled rows of one round.  Borrowed views. */
struct round_rows {
        size_t n_rows, n_features;
        const char (*names)[FRAUD_MODELFILE_NAME_MAX]; /* n_features, the model's order */
        const double *x;                               /* n_rows * n_features, row-major */
        const uint8_t *label;                          /* 0 or 1 */
        const int64_t *time_us;                        /* event time */
        const uint64_t *card;                          /* any stable card id */
        size_t rows_rejected;                          /* reported as a metric only */
};

/* One side of the split; rows copied, arrays owned. */
struct round_part {
        size_t n, frauds;
        double *x;
        uint8_t *label;
        int64_t *time_us;
        uint64_t *card;
        size_t *row; /* index of each row in struct round_rows */
        int64_t first_us, last_us;
};

/* What the caller says about the version it writes. */
struct round_meta {
        const char *version;     /* NULL: "train-YYYYMMDD" of the last holdout day */
        const char *parent;      /* NULL or "": none */
        int64_t label_cutoff_us; /* INT64_MIN: the latest event time */
        const char *status;      /* candidate, champion, rejected (modelfile.h) */
        const char *status_reason;
        const struct fraud_modelfile_entry *params_extra; /* appended to the params */
        size_t n_params_extra;
};

/* The champion's figures on the round's holdout (round_compare). */
struct round_champion {
        char version[FRAUD_MODELFILE_VERSION_MAX];
        struct evaluate_candidate eval; /* its own thresholds, scores on our holdout */
};

struct round {
        const struct fraud_settings *settings; /* borrowed */
        const struct round_rows *rows;         /* borrowed */
        int64_t last_day, holdout_days;
        struct round_part train, holdout;
        BoosterHandle gbdt;
        struct fraud_mlp mlp;
        struct fit_report gbdt_report, mlp_report;
        double *p[EVALUATE_MODELS]; /* holdout scores */
        double *fn_each;            /* holdout C_FN per row (the amount), or NULL */
        struct evaluate_costs costs;
        struct evaluate_candidate candidate;
        bool has_champion;
        struct round_champion champion;
        char err[FRAUD_TRAINER_ERR_MAX];
};

/* "gbdt", "mlp", "cascade": the prefixes of the metrics in model.yaml. */
extern const char *const round_model_names[EVALUATE_MODELS];

/* r = an empty round over rows.  Always succeeds; round_release() after. */
void round_init(struct round *r, const struct fraud_settings *s, const struct round_rows *rows);
void round_release(struct round *r);

/* Cuts the rows by time (see above).  -EDOM when the training part or the
 * holdout lacks frauds or legitimate payments. */
int round_split(struct round *r, int64_t last_day, int64_t holdout_days);

/* Fits and calibrates both models on the training part. */
int round_fit(struct round *r);

/* Scores the holdout with both models and sets r->candidate: thresholds,
 * band and the figures of the GBDT, the MLP and the cascade. */
int round_evaluate(struct round *r);

/* After round_evaluate (the same costs): loads the model directory dir (a
 * champion) and scores the same holdout with it at its own thresholds into
 * r->champion (r->has_champion set).
 * -EINVAL with the reason in r->err when its features are not the rows'
 * (another schema: the two cannot be compared), -ENOENT, -EIO. */
int round_compare(struct round *r, const char *dir);

/* The model.yaml of this round into *m (taken as uninitialised): names
 * and schema hash, thresholds, data range, label cutoff, every metric
 * (with the champion's cascade as champion_* when compared), params. */
void round_modelfile(const struct round *r, const struct round_meta *meta,
                     struct fraud_modelfile *m);

/* Writes dir (created when missing, one level): gbdt.json, mlp.bin, then
 * model.yaml, so a model.yaml always describes complete artifacts. */
int round_write(struct round *r, const char *dir, const struct fraud_modelfile *m);

#endif
