/* booster.c: see booster.h. */
#include "scorer/booster.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "lib/bounds.h"

#define BOOSTER_IFACE_MAX  192 /* bytes of the row's array interface JSON */
#define BOOSTER_CONFIG_MAX 192 /* bytes of a predict config */

#define PREDICT_CONFIG(type)                                                                       \
        "{\"type\": " #type ", \"training\": false, \"iteration_begin\": 0, "                      \
        "\"iteration_end\": 0, \"strict_shape\": false, \"cache_id\": 0, \"missing\": NaN}"

struct booster {
        BoosterHandle handle;
        DMatrixHandle proxy;
        size_t n_features;
        float *rows; /* rows_cap * n_features; the proxy's data */
        size_t rows_cap;
        char iface[BOOSTER_IFACE_MAX];
        char error[FRAUD_SCORER_ERR_MAX];
};

static int xgb_fail(struct booster *b, const char *what) {
        snprintf(b->error, sizeof(b->error), "%s: %s", what, XGBGetLastError());
        return -EIO;
}

static int booster_open(struct booster *b, const char *path, int nthread) {
        char threads[16];
        bst_ulong n = 0;

        snprintf(threads, sizeof(threads), "%d", nthread);
        if (XGBoosterCreate(NULL, 0, &b->handle) != 0)
                return xgb_fail(b, "XGBoosterCreate");
        if (XGBoosterLoadModel(b->handle, path) != 0)
                return xgb_fail(b, path);
        if (XGBoosterSetParam(b->handle, "nthread", threads) != 0)
                return xgb_fail(b, "nthread");
        if (XGBoosterGetNumFeature(b->handle, &n) != 0)
                return xgb_fail(b, "XGBoosterGetNumFeature");
        if ((size_t)n != b->n_features) {
                snprintf(b->error, sizeof(b->error), "%s: %llu features, the model lists %zu", path,
                         (unsigned long long)n, b->n_features);
                return -EINVAL;
        }
        if (XGProxyDMatrixCreate(&b->proxy) != 0)
                return xgb_fail(b, "XGProxyDMatrixCreate");
        return 0;
}

int booster_load(const char *path, size_t n_features, int nthread, struct booster **out, char *err,
                 size_t err_size) {
        struct booster *b = calloc(1, sizeof(*b));
        int r;

        *out = NULL;
        if (!b)
                return -ENOMEM;
        b->n_features = n_features;
        r = booster_open(b, path, nthread);
        if (r < 0) {
                snprintf(err, err_size, "%s", b->error);
                booster_free(b);
                return r;
        }
        *out = b;
        return 0;
}

void booster_free(struct booster *b) {
        if (!b)
                return;
        if (b->proxy)
                XGDMatrixFree(b->proxy);
        if (b->handle)
                XGBoosterFree(b->handle);
        free(b->rows);
        free(b);
}

/* Copies n rows (1..FRAUD_SCORER_BATCH_MAX) into the proxy's buffer (as
 * float, what XGBoost reads) and points the array interface at them. */
static int rows_set(struct booster *b, const double *const *rows, size_t n) {
        if (n == 0 || n > FRAUD_SCORER_BATCH_MAX)
                return -EINVAL;
        if (n > b->rows_cap) {
                float *bigger = realloc(b->rows, n * b->n_features * sizeof(float));
                if (!bigger)
                        return -ENOMEM;
                b->rows = bigger;
                b->rows_cap = n;
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < b->n_features; j++)
                        b->rows[i * b->n_features + j] = (float)rows[i][j];
        snprintf(b->iface, sizeof(b->iface),
                 "{\"data\": [%ju, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                 "\"version\": 3}",
                 (uintmax_t)(uintptr_t)b->rows, n, b->n_features);
        return 0;
}

int booster_predict_rows(struct booster *b, const double *const *rows, size_t n, double *p) {
        bst_ulong const *shape;
        bst_ulong dim;
        float const *res;
        int r = rows_set(b, rows, n);

        if (r < 0)
                return r;
        if (XGBoosterPredictFromDense(b->handle, b->iface, PREDICT_CONFIG(0), b->proxy, &shape,
                                      &dim, &res) != 0)
                return xgb_fail(b, "XGBoosterPredictFromDense");
        for (size_t i = 0; i < n; i++)
                p[i] = res[i];
        return 0;
}

int booster_predict(struct booster *b, const double *row, double *p) {
        return booster_predict_rows(b, &row, 1, p);
}

int booster_contributions_rows(struct booster *b, const double *const *rows, size_t n,
                               double *contrib) {
        DMatrixHandle m;
        bst_ulong const *shape;
        bst_ulong dim;
        float const *res;
        int r = rows_set(b, rows, n);

        if (r < 0)
                return r;
        if (XGDMatrixCreateFromMat(b->rows, (bst_ulong)n, (bst_ulong)b->n_features, NAN, &m) != 0)
                return xgb_fail(b, "XGDMatrixCreateFromMat");
        if (XGBoosterPredictFromDMatrix(b->handle, m, PREDICT_CONFIG(2), &shape, &dim, &res) != 0)
                r = xgb_fail(b, "XGBoosterPredictFromDMatrix");
        else
                for (size_t i = 0; i < n * (b->n_features + 1); i++)
                        contrib[i] = res[i];
        XGDMatrixFree(m);
        return r;
}

int booster_contributions(struct booster *b, const double *row, double *contrib) {
        return booster_contributions_rows(b, &row, 1, contrib);
}

size_t booster_features(const struct booster *b) {
        return b->n_features;
}

const char *booster_error(const struct booster *b) {
        return b->error;
}
