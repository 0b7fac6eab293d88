/* fit.c: GBDT through XGBoost's C API and the MLP in plain C (see fit.h).
 *
 * GBDT.  The matrix is converted once to float (what the scorer feeds
 * XGBoost) into a DMatrix with NaN as "missing"; the booster gets every
 * parameter that matters set explicitly (objective, tree method, depth,
 * eta, scale_pos_weight, nthread, seed, verbosity), so a library default
 * changing under us cannot change a model silently.  Prediction is XGBoost's
 * in-place dense prediction, the call the scorer makes, in bounded chunks.
 *
 * MLP.  Weights start uniform in +-sqrt(6 / fan_in) (He), biases at 0, from
 * a splitmix64 stream of the seed; each epoch visits the rows in a
 * Fisher-Yates order from the same stream; each mini-batch's gradient (the
 * mean over its rows of pos_weight-weighted log-loss gradients, from
 * fraud_mlp_backward) takes one Adam step (beta1 0.9, beta2 0.999, eps 1e-8).
 * Everything is sequential double arithmetic (no threads in the MLP), so a
 * seed gives the same bytes run after run; trainer/meson.build also
 * disables floating-point contraction here.
 *
 * Calibration.  Weighting positives by w multiplies the odds a model
 * learns by w (prior shift); subtracting log w from the output's margin
 * undoes it exactly: the GBDT through base_score (pinned to 0.5, margin 0,
 * when training, so the new value 1 / (1 + w) is the whole shift), the MLP
 * through its output bias.
 */
#include "trainer/fit.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"

static_assert(FRAUD_TRAIN_MLP_HIDDEN_LAYERS_MAX == FRAUD_MLP_LAYERS_MAX - 1,
              "trainer.mlp_hidden_layers bound must match common/mlp.h");
static_assert(FRAUD_TRAIN_MLP_WIDTH_MAX == FRAUD_MLP_WIDTH_MAX,
              "trainer.mlp_hidden bound must match common/mlp.h");

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS   1e-8
#define LOSS_EPS   1e-15 /* probabilities clipped to [eps, 1 - eps] in the loss */

/* ---- shared ---- */

int fit_pos_weight(const uint8_t *label, size_t n, double requested, double *out) {
        size_t pos = 0;

        for (size_t i = 0; i < n; i++)
                pos += label[i] != 0;
        if (pos == 0 || pos == n)
                return -EDOM;
        *out = requested > 0 ? requested : (double)(n - pos) / (double)pos;
        return 0;
}

static int data_check(const struct fit_data *d) {
        if (!d || !d->x || !d->label || d->n_rows == 0 || d->n_cols == 0 ||
            d->n_rows > FRAUD_TRAIN_ROWS_MAX || d->n_cols > FRAUD_MLP_WIDTH_MAX)
                return -EINVAL;
        for (size_t i = 0; i < d->n_rows; i++)
                if (d->label[i] > 1)
                        return -EINVAL;
        for (size_t i = 0; i < d->n_rows * d->n_cols; i++)
                if (!isfinite(d->x[i]))
                        return -EINVAL;
        return 0;
}

/* ---- GBDT ---- */

static int xgb_fail(char *err, size_t err_size, const char *what) {
        snprintf(err, err_size, "xgboost: %s: %s", what, XGBGetLastError());
        return -EIO;
}

static void xgb_quiet(void) {
        XGBSetGlobalConfig("{\"verbosity\": 0}");
}

/* Sets an integer (when v is whole) or real parameter; XGBoost takes text. */
static int booster_set(BoosterHandle b, const char *name, double v, char *err, size_t err_size) {
        char value[FRAUD_TRAIN_XGB_PARAM_MAX];

        if (v == floor(v) && fabs(v) < 1e15)
                snprintf(value, sizeof(value), "%.0f", v);
        else
                snprintf(value, sizeof(value), "%.17g", v);
        if (XGBoosterSetParam(b, name, value) != 0)
                return xgb_fail(err, err_size, name);
        return 0;
}

static int booster_configure(BoosterHandle b, const struct fit_gbdt_params *p, double pos_weight,
                             char *err, size_t n) {
        const struct {
                const char *name;
                double value;
        } numeric[] = {
                {"base_score", 0.5}, /* margin 0: fit_gbdt_calibrate() relies on it */
                {"max_depth", p->max_depth},
                {"eta", p->eta},
                {"scale_pos_weight", pos_weight},
                {"nthread", p->threads},
                {"seed", (double)(p->seed % 2147483648u)}, /* XGBoost's seed is a 32-bit int */
        };

        int r = 0;

        if (XGBoosterSetParam(b, "objective", "binary:logistic") != 0 ||
            XGBoosterSetParam(b, "tree_method", "hist") != 0 ||
            XGBoosterSetParam(b, "verbosity", "0") != 0)
                return xgb_fail(err, n, "set parameters");
        for (size_t i = 0; r == 0 && i < sizeof(numeric) / sizeof(numeric[0]); i++)
                r = booster_set(b, numeric[i].name, numeric[i].value, err, n);
        return r;
}

static int dmatrix_build(const struct fit_data *d, uint32_t threads, DMatrixHandle *out, char *err,
                         size_t err_size) {
        size_t cells = d->n_rows * d->n_cols;
        float *xf = malloc(cells * sizeof(float));
        float *yf = malloc(d->n_rows * sizeof(float));
        int r = 0;

        if (!xf || !yf) {
                r = -ENOMEM;
                goto free_buffers;
        }
        for (size_t i = 0; i < cells; i++)
                xf[i] = (float)d->x[i];
        for (size_t i = 0; i < d->n_rows; i++)
                yf[i] = d->label[i];
        if (XGDMatrixCreateFromMat_omp(xf, d->n_rows, d->n_cols, NAN, out, (int)threads) != 0) {
                r = xgb_fail(err, err_size, "create DMatrix");
                goto free_buffers;
        }
        if (XGDMatrixSetFloatInfo(*out, "label", yf, d->n_rows) != 0) {
                r = xgb_fail(err, err_size, "set labels");
                XGDMatrixFree(*out);
        }
free_buffers:
        free(xf);
        free(yf);
        return r;
}

static int gbdt_check(const struct fit_gbdt_params *p) {
        if (p->rounds < 1 || p->rounds > FRAUD_TRAIN_GBDT_ROUNDS_MAX || p->max_depth < 1 ||
            p->max_depth > FRAUD_TRAIN_GBDT_DEPTH_MAX || !(p->eta > 0) || p->eta > 1 ||
            p->threads < 1 || p->threads > FRAUD_TRAIN_THREADS_MAX || !(p->pos_weight >= 0) ||
            !isfinite(p->pos_weight))
                return -EINVAL;
        return 0;
}

int fit_gbdt(const struct fit_data *d, const struct fit_gbdt_params *p, BoosterHandle *out,
             struct fit_report *rep, char *err, size_t err_size) {
        DMatrixHandle dm;
        BoosterHandle b = NULL;
        double pw;
        int r;

        *out = NULL;
        snprintf(err, err_size, "invalid parameters or data");
        if ((r = gbdt_check(p)) < 0 || (r = data_check(d)) < 0)
                return r;
        if ((r = fit_pos_weight(d->label, d->n_rows, p->pos_weight, &pw)) < 0) {
                snprintf(err, err_size, "the training set holds one class only");
                return r;
        }
        xgb_quiet();
        if ((r = dmatrix_build(d, p->threads, &dm, err, err_size)) < 0)
                return r;
        if (XGBoosterCreate(&dm, 1, &b) != 0)
                r = xgb_fail(err, err_size, "create booster");
        if (r == 0)
                r = booster_configure(b, p, pw, err, err_size);
        for (uint32_t i = 0; r == 0 && i < p->rounds; i++)
                if (XGBoosterUpdateOneIter(b, (int)i, dm) != 0)
                        r = xgb_fail(err, err_size, "boosting round");
        XGDMatrixFree(dm);
        if (r < 0) {
                fit_gbdt_free(b);
                return r;
        }
        if (rep)
                *rep = (struct fit_report){
                        .pos_weight = pw, .loss_initial = NAN, .loss_final = NAN};
        *out = b;
        err[0] = '\0';
        return 0;
}

static int predict_chunk(BoosterHandle b, const float *xf, size_t rows, size_t cols, double *out,
                         char *err, size_t err_size) {
        static const char config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                     "\"iteration_end\": 0, \"strict_shape\": false, "
                                     "\"missing\": NaN, \"cache_id\": 0}";
        char array[FRAUD_TRAIN_XGB_JSON_MAX];
        const bst_ulong *shape;
        bst_ulong dim;
        const float *res;

        snprintf(array, sizeof(array),
                 "{\"data\": [%ju, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                 "\"version\": 3}",
                 (uintmax_t)(uintptr_t)xf, rows, cols);
        if (XGBoosterPredictFromDense(b, array, config, NULL, &shape, &dim, &res) != 0)
                return xgb_fail(err, err_size, "predict");
        if (dim < 1 || shape[0] != rows) {
                snprintf(err, err_size, "xgboost: predict: unexpected output shape");
                return -EIO;
        }
        for (size_t i = 0; i < rows; i++)
                out[i] = res[i];
        return 0;
}

int fit_gbdt_predict(BoosterHandle b, const double *x, size_t n_rows, size_t n_cols, double *out,
                     char *err, size_t err_size) {
        float *xf = malloc((size_t)FRAUD_TRAIN_PREDICT_CHUNK_ROWS * n_cols * sizeof(float));
        int r = 0;

        if (!xf)
                return -ENOMEM;
        for (size_t start = 0; r == 0 && start < n_rows; start += FRAUD_TRAIN_PREDICT_CHUNK_ROWS) {
                size_t rows = n_rows - start;

                if (rows > FRAUD_TRAIN_PREDICT_CHUNK_ROWS)
                        rows = FRAUD_TRAIN_PREDICT_CHUNK_ROWS;
                for (size_t i = 0; i < rows * n_cols; i++)
                        xf[i] = (float)x[start * n_cols + i];
                r = predict_chunk(b, xf, rows, n_cols, out + start, err, err_size);
        }
        free(xf);
        return r;
}

int fit_gbdt_save(BoosterHandle b, const char *path, char *err, size_t err_size) {
        if (XGBoosterSaveModel(b, path) != 0)
                return xgb_fail(err, err_size, path);
        return 0;
}

int fit_gbdt_load(const char *path, uint32_t threads, BoosterHandle *out, char *err,
                  size_t err_size) {
        BoosterHandle b;
        int r = 0;

        *out = NULL;
        xgb_quiet();
        if (XGBoosterCreate(NULL, 0, &b) != 0)
                return xgb_fail(err, err_size, "create booster");
        if (XGBoosterLoadModel(b, path) != 0)
                r = xgb_fail(err, err_size, path);
        if (r == 0)
                r = booster_set(b, "nthread", threads, err, err_size);
        if (r < 0) {
                XGBoosterFree(b);
                return r;
        }
        *out = b;
        return 0;
}

int fit_gbdt_bytes(BoosterHandle b, char **out, size_t *len, char *err, size_t err_size) {
        const char *buf;
        bst_ulong n;

        if (XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &n, &buf) != 0)
                return xgb_fail(err, err_size, "save to buffer");
        if (!(*out = malloc(n + 1)))
                return -ENOMEM;
        memcpy(*out, buf, n);
        (*out)[n] = '\0';
        *len = n;
        return 0;
}

double fit_calibrated(double p, double pos_weight) {
        return p / (p + pos_weight * (1 - p));
}

int fit_gbdt_calibrate(BoosterHandle b, double pos_weight, char *err, size_t err_size) {
        /* The margin moves from logit(0.5) = 0 to -log(w): base_score 1 / (1 + w). */
        return booster_set(b, "base_score", fit_calibrated(0.5, pos_weight), err, err_size);
}

void fit_gbdt_free(BoosterHandle b) {
        if (b)
                XGBoosterFree(b);
}

/* ---- MLP ---- */

static uint64_t splitmix64(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform01(uint64_t *state) {
        return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

static void mlp_standardise(struct fraud_mlp *m, const struct fit_data *d) {
        for (size_t j = 0; j < d->n_cols; j++) {
                double sum = 0, sq = 0, mean, var;

                for (size_t i = 0; i < d->n_rows; i++)
                        sum += d->x[i * d->n_cols + j];
                mean = sum / (double)d->n_rows;
                for (size_t i = 0; i < d->n_rows; i++) {
                        double dx = d->x[i * d->n_cols + j] - mean;
                        sq += dx * dx;
                }
                var = sq / (double)d->n_rows;
                m->mean[j] = mean;
                m->std[j] = var > 1e-24 ? sqrt(var) : 1.0;
        }
}

static void mlp_init_weights(struct fraud_mlp *m, uint64_t *rng) {
        double *p = m->params;

        for (uint32_t l = 0; l < m->n_layers; l++) {
                uint32_t in = m->sizes[l], out = m->sizes[l + 1];
                double a = sqrt(6.0 / in);

                for (size_t k = 0; k < (size_t)in * out; k++)
                        *p++ = (2 * uniform01(rng) - 1) * a;
                for (uint32_t o = 0; o < out; o++)
                        *p++ = 0;
        }
}

static int mlp_check(const struct fit_mlp_params *p) {
        if (p->hidden_layers < 1 || p->hidden_layers > FRAUD_MLP_LAYERS_MAX - 1 || p->hidden < 1 ||
            p->hidden > FRAUD_MLP_WIDTH_MAX || p->epochs < 1 ||
            p->epochs > FRAUD_TRAIN_MLP_EPOCHS_MAX || p->batch_rows < 1 ||
            p->batch_rows > FRAUD_TRAIN_MLP_BATCH_MAX || !(p->learning_rate > 0) ||
            !isfinite(p->learning_rate) || !(p->pos_weight >= 0) || !isfinite(p->pos_weight))
                return -EINVAL;
        return 0;
}

/* Working memory of one training run; one allocation per array. */
struct mlp_work {
        double *grad, *adam_m, *adam_v; /* n_params each */
        double *scratch, *delta;        /* fraud_mlp_scratch_size each */
        size_t *order;                  /* n_rows */
};

static void work_free(struct mlp_work *w) {
        free(w->grad);
        free(w->adam_m);
        free(w->adam_v);
        free(w->scratch);
        free(w->delta);
        free(w->order);
}

static int work_alloc(struct mlp_work *w, const struct fraud_mlp *m, size_t n_rows) {
        size_t s = fraud_mlp_scratch_size(m);

        w->grad = calloc(m->n_params, sizeof(double));
        w->adam_m = calloc(m->n_params, sizeof(double));
        w->adam_v = calloc(m->n_params, sizeof(double));
        w->scratch = malloc(s * sizeof(double));
        w->delta = malloc(s * sizeof(double));
        w->order = malloc(n_rows * sizeof(size_t));
        if (!w->grad || !w->adam_m || !w->adam_v || !w->scratch || !w->delta || !w->order) {
                work_free(w);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_rows; i++)
                w->order[i] = i;
        return 0;
}

static void shuffle(size_t *order, size_t n, uint64_t *rng) {
        for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)(splitmix64(rng) % i), t = order[i - 1];

                order[i - 1] = order[j];
                order[j] = t;
        }
}

static void adam_step(struct fraud_mlp *m, struct mlp_work *w, double lr, uint64_t t) {
        double c1 = 1 - pow(ADAM_BETA1, (double)t), c2 = 1 - pow(ADAM_BETA2, (double)t);

        for (size_t k = 0; k < m->n_params; k++) {
                double g = w->grad[k];

                w->adam_m[k] = ADAM_BETA1 * w->adam_m[k] + (1 - ADAM_BETA1) * g;
                w->adam_v[k] = ADAM_BETA2 * w->adam_v[k] + (1 - ADAM_BETA2) * g * g;
                m->params[k] -= lr * (w->adam_m[k] / c1) / (sqrt(w->adam_v[k] / c2) + ADAM_EPS);
        }
}

static void mlp_epoch(struct fraud_mlp *m, struct mlp_work *w, const struct fit_data *d,
                      const struct fit_mlp_params *p, double pw, uint64_t *step) {
        for (size_t start = 0; start < d->n_rows; start += p->batch_rows) {
                size_t end = start + p->batch_rows < d->n_rows ? start + p->batch_rows : d->n_rows;

                memset(w->grad, 0, m->n_params * sizeof(double));
                for (size_t k = start; k < end; k++) {
                        size_t i = w->order[k];
                        double prob = fraud_mlp_forward(m, d->x + i * d->n_cols, w->scratch);
                        double weight = d->label[i] ? pw : 1.0;

                        fraud_mlp_backward(m, w->scratch, weight * (prob - d->label[i]), w->grad,
                                           w->delta);
                }
                for (size_t k = 0; k < m->n_params; k++)
                        w->grad[k] /= (double)(end - start);
                adam_step(m, w, p->learning_rate, ++*step);
        }
}

int fit_mlp(const struct fit_data *d, const struct fit_mlp_params *p, struct fraud_mlp *out,
            struct fit_report *rep) {
        uint32_t sizes[FRAUD_MLP_LAYERS_MAX + 1];
        struct mlp_work w;
        uint64_t rng = p->seed, step = 0;
        double pw;
        int r;

        memset(out, 0, sizeof(*out));
        if ((r = mlp_check(p)) < 0 || (r = data_check(d)) < 0)
                return r;
        if ((r = fit_pos_weight(d->label, d->n_rows, p->pos_weight, &pw)) < 0)
                return r;
        sizes[0] = (uint32_t)d->n_cols;
        for (uint32_t l = 1; l <= p->hidden_layers; l++)
                sizes[l] = p->hidden;
        sizes[p->hidden_layers + 1] = 1;
        if ((r = fraud_mlp_init(out, p->hidden_layers + 1, sizes)) < 0)
                return r;
        if ((r = work_alloc(&w, out, d->n_rows)) < 0) {
                fraud_mlp_release(out);
                return r;
        }
        mlp_standardise(out, d);
        mlp_init_weights(out, &rng);
        if (rep)
                rep->loss_initial = fit_mlp_loss(out, d, pw);
        for (uint32_t e = 0; e < p->epochs; e++) {
                shuffle(w.order, d->n_rows, &rng);
                mlp_epoch(out, &w, d, p, pw, &step);
        }
        if (rep) {
                rep->pos_weight = pw;
                rep->loss_final = fit_mlp_loss(out, d, pw);
        }
        work_free(&w);
        return 0;
}

void fit_mlp_calibrate(struct fraud_mlp *m, double pos_weight) {
        m->params[m->n_params - 1] -= log(pos_weight);
}

double fit_mlp_loss(const struct fraud_mlp *m, const struct fit_data *d, double pos_weight) {
        double *scratch = malloc(fraud_mlp_scratch_size(m) * sizeof(double));
        double sum = 0, wsum = 0;

        if (!scratch)
                return NAN;
        for (size_t i = 0; i < d->n_rows; i++) {
                double p = fraud_mlp_forward(m, d->x + i * d->n_cols, scratch);
                double w = d->label[i] ? pos_weight : 1.0;

                p = p < LOSS_EPS ? LOSS_EPS : p > 1 - LOSS_EPS ? 1 - LOSS_EPS : p;
                sum += w * -(d->label[i] ? log(p) : log(1 - p));
                wsum += w;
        }
        free(scratch);
        return sum / wsum;
}
