/* fit.h: fitting the two models of the scorer's cascade from a labelled
 * matrix, shared by the trainer daemon and `fraudctl train`.
 *
 * Input is a row-major matrix of doubles (one row per payment, one column
 * per feature, in the model's feature order) and 0/1 labels.  Fraud is rare,
 * so both models weight a positive row by pos_weight (0 asks for
 * negatives / positives, which balances the two classes' total weight);
 * the odds they learn are over-stated by that factor, which
 * fit_gbdt_calibrate() / fit_mlp_calibrate() take back out after training
 * so that the scorer's cost rule gets probabilities.
 *
 *   GBDT: XGBoost (C API), binary:logistic, tree_method hist, nthread set
 *         explicitly, seed fixed, scale_pos_weight = pos_weight.
 *   MLP:  common/mlp.h, inputs standardised with the training set's mean and
 *         standard deviation, Adam on the weighted log loss, mini-batches in
 *         a per-epoch order drawn from the seed.
 *
 * Determinism: the same data and parameters give the same model bytes (the
 * tests check both models).  Nothing here reads files, clocks or the
 * environment, and nothing logs; XGBoost's own logging is silenced.  Errors
 * from XGBoost are translated here, once, to -EIO with its message in err.
 */
#ifndef FRAUD_FIT_H
#define FRAUD_FIT_H

#include <stddef.h>
#include <stdint.h>

#include <xgboost/c_api.h>

#include "common/mlp.h"

/* Borrowed views; x holds n_rows * n_cols finite values. */
struct fit_data {
        const double *x;
        const uint8_t *label; /* 0 or 1 */
        size_t n_rows, n_cols;
};

struct fit_gbdt_params {
        uint32_t rounds;    /* 1..FRAUD_TRAIN_GBDT_ROUNDS_MAX */
        uint32_t max_depth; /* 1..FRAUD_TRAIN_GBDT_DEPTH_MAX */
        double eta;
        double pos_weight; /* 0: negatives / positives */
        uint32_t threads;  /* 1..FRAUD_TRAIN_THREADS_MAX */
        uint64_t seed;
};

struct fit_mlp_params {
        uint32_t hidden_layers; /* 1..FRAUD_MLP_LAYERS_MAX - 1 */
        uint32_t hidden;        /* units per hidden layer, 1..FRAUD_MLP_WIDTH_MAX */
        uint32_t epochs;
        uint32_t batch_rows;
        double learning_rate; /* Adam step size */
        double pos_weight;    /* 0: negatives / positives */
        uint64_t seed;
};

/* What a fit did, for the report and the model's params. */
struct fit_report {
        double pos_weight;   /* the weight used, after resolving 0 */
        double loss_initial; /* MLP: weighted log loss on the training set before training */
        double loss_final;   /*      and after */
};

/* The positive-row weight: p->pos_weight, or negatives / positives when it
 * is 0.  -EDOM when a class is absent from the labels. */
int fit_pos_weight(const uint8_t *label, size_t n, double requested, double *out);

/* Trains a booster; *out is owned by the caller (fit_gbdt_free).  -EINVAL
 * for bad parameters or data, -EDOM when one class is absent, -ENOMEM, -EIO
 * (XGBoost failed; its reason in err). */
int fit_gbdt(const struct fit_data *d, const struct fit_gbdt_params *p, BoosterHandle *out,
             struct fit_report *rep, char *err, size_t err_size);

/* Probabilities of n_rows rows of n_cols features (row-major doubles, as
 * the features are served: converted to float, like the scorer does) into
 * out.  In-place prediction, FRAUD_TRAIN_PREDICT_CHUNK_ROWS rows at a time. */
int fit_gbdt_predict(BoosterHandle b, const double *x, size_t n_rows, size_t n_cols, double *out,
                     char *err, size_t err_size);

/* XGBoosterSaveModel (JSON when path ends in .json) and its inverse; the
 * loaded booster predicts with `threads` threads. */
int fit_gbdt_save(BoosterHandle b, const char *path, char *err, size_t err_size);
int fit_gbdt_load(const char *path, uint32_t threads, BoosterHandle *out, char *err,
                  size_t err_size);

/* The model as JSON bytes (XGBoosterSaveModelToBuffer); *out malloc'd, the
 * caller frees it.  For determinism checks and lineage hashes. */
int fit_gbdt_bytes(BoosterHandle b, char **out, size_t *len, char *err, size_t err_size);

/* Undoes the class weighting of a model trained with pos_weight w, so its
 * outputs are probabilities again (the scorer's cost rule needs them):
 * afterwards the model outputs fit_calibrated(p, w) where it output p.
 * Call once, after training. */
double fit_calibrated(double p, double pos_weight);
int fit_gbdt_calibrate(BoosterHandle b, double pos_weight, char *err, size_t err_size);
void fit_mlp_calibrate(struct fraud_mlp *m, double pos_weight);

void fit_gbdt_free(BoosterHandle b);

/* Trains an MLP of shape n_cols -> hidden x hidden_layers -> 1 into *out
 * (taken as uninitialised; the caller releases it with fraud_mlp_release).
 * -EINVAL, -EDOM (one class absent), -ENOMEM; on failure *out holds
 * nothing. */
int fit_mlp(const struct fit_data *d, const struct fit_mlp_params *p, struct fraud_mlp *out,
            struct fit_report *rep);

/* Weighted mean log loss of m on d: sum w_i * loss_i / sum w_i, with
 * w = pos_weight for positives and 1 for negatives. */
double fit_mlp_loss(const struct fraud_mlp *m, const struct fit_data *d, double pos_weight);

#endif
