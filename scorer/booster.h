/* booster.h: one XGBoost booster serving single rows.
 *
 * Prediction reuses one proxy DMatrix and one row buffer owned by the
 * booster: the rows are copied into the buffer (as float, what XGBoost
 * reads) and XGBoosterPredictFromDense() predicts in place through the
 * proxy, with the config {"type": 0, "training": false, "iteration_begin":
 * 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing":
 * NaN}.  One call costs about 10 µs whatever it predicts (parsing its JSON
 * arguments, dispatch, OpenMP) and then well under 1 µs per row, so the
 * scorer predicts a whole batch's rows in one call (booster_predict_rows,
 * at most FRAUD_SCORER_BATCH_MAX rows; the buffer grows to the largest
 * batch seen).
 * (XGBoost 1.7's XGBoosterPredictFromDMatrix() cannot read a proxy: it
 * fails with "proxy_dmatrix.h: Not implemented"; in-place prediction is
 * the proxy's path.)  The result equals XGBoosterPredictFromDMatrix() on a
 * whole DMatrix of the same rows.
 *
 * Feature contributions (SHAP values, predict type 2) need a real
 * DMatrix: one is made per call (of the rows asked together), so they are
 * asked only for the transactions a model reviews or blocks.  They sum to the margin (the
 * log-odds), the last one being the bias.
 *
 * nthread is set explicitly on the booster.  Errors are -EIO (XGBoost's
 * text kept for booster_error()), -EINVAL for a model whose feature count
 * differs from the expected one, -ENOMEM.  One thread.
 */
#ifndef FRAUD_SCORER_BOOSTER_H
#define FRAUD_SCORER_BOOSTER_H

#include <stddef.h>

struct booster;

/* Loads path (XGBoosterSaveModel JSON) for rows of n_features.  On failure
 * the reason is in err. */
int booster_load(const char *path, size_t n_features, int nthread, struct booster **out, char *err,
                 size_t err_size);

/* booster_free(NULL) is a no-op. */
void booster_free(struct booster *b);

/* The probability of one row of n_features values (NaN: missing). */
int booster_predict(struct booster *b, const double *row, double *p);

/* The probabilities of n rows (1..FRAUD_SCORER_BATCH_MAX) in one call. */
int booster_predict_rows(struct booster *b, const double *const *rows, size_t n, double *p);

/* contrib receives n_features + 1 values: each feature's contribution to
 * the margin, then the bias. */
int booster_contributions(struct booster *b, const double *row, double *contrib);

/* The same for n rows (1..FRAUD_SCORER_BATCH_MAX) in one call: contrib
 * receives n * (n_features + 1) values, row after row. */
int booster_contributions_rows(struct booster *b, const double *const *rows, size_t n,
                               double *contrib);

size_t booster_features(const struct booster *b);

/* XGBoost's text of the last failure. */
const char *booster_error(const struct booster *b);

#endif
