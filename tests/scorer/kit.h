/* kit.h: what the scorer's tests and its benchmark share: synthetic data,
 * a tiny XGBoost booster trained on it, and a complete model directory
 * (model.yaml, gbdt.json, mlp.bin) written the way the trainer writes one.
 *
 * Header-only (static inline) so each test program stays one source file.
 * Deterministic: data come from a fixed linear congruential generator.
 */
#ifndef FRAUD_TESTS_SCORER_KIT_H
#define FRAUD_TESTS_SCORER_KIT_H

#include <assert.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "common/featureset.h"
#include "common/mlp.h"
#include "common/modelfile.h"

#define KIT_FEATURES 6   /* features of the synthetic schema */
#define KIT_ROWS     512 /* training rows */

static const char *const kit_names[KIT_FEATURES] = {"card_tx_count_1h",    "card_amount_24h",
                                                    "merchant_fraud_rate", "device_cards_24h",
                                                    "amount_zscore",       "new_country"};

/* Uniform in [0, 1) from *state. */
static inline double kit_uniform(uint64_t *state) {
        *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        return (double)(*state >> 11) / 9007199254740992.0;
}

/* Rows of KIT_FEATURES values; label 1 when a hidden score is high. */
static inline void kit_data(uint64_t seed, size_t rows, float *x, float *y) {
        uint64_t st = seed;
        for (size_t i = 0; i < rows; i++) {
                float *r = x + i * KIT_FEATURES;
                for (size_t j = 0; j < KIT_FEATURES; j++)
                        r[j] = (float)kit_uniform(&st);
                r[0] *= 20.0f;
                r[1] *= 100000.0f;
                r[5] = r[5] > 0.8f ? 1.0f : 0.0f;
                double z =
                        0.15 * r[0] + r[1] / 40000.0 + 3.0 * r[2] + r[5] - 4.0 + kit_uniform(&st);
                y[i] = z > 0.0 ? 1.0f : 0.0f;
        }
}

static inline uint64_t kit_hash(void) {
        return fraud_featureset_hash(kit_names, KIT_FEATURES);
}

/* Trains rounds trees on KIT_ROWS rows of seed and saves dir/gbdt.json. */
static inline void kit_gbdt_write(const char *dir, uint64_t seed, int rounds, int depth) {
        static float x[KIT_ROWS * KIT_FEATURES], y[KIT_ROWS];
        char path[4096], d[16];
        DMatrixHandle m;
        BoosterHandle b;
        int ok = 0;

        kit_data(seed, KIT_ROWS, x, y);
        snprintf(d, sizeof(d), "%d", depth);
        snprintf(path, sizeof(path), "%s/gbdt.json", dir);
        ok |= XGDMatrixCreateFromMat(x, KIT_ROWS, KIT_FEATURES, NAN, &m);
        ok |= XGDMatrixSetFloatInfo(m, "label", y, KIT_ROWS);
        ok |= XGBoosterCreate(&m, 1, &b);
        ok |= XGBoosterSetParam(b, "objective", "binary:logistic");
        ok |= XGBoosterSetParam(b, "nthread", "1");
        ok |= XGBoosterSetParam(b, "max_depth", d);
        ok |= XGBoosterSetParam(b, "seed", "1");
        for (int i = 0; i < rounds; i++)
                ok |= XGBoosterUpdateOneIter(b, i, m);
        ok |= XGBoosterSaveModel(b, path);
        XGBoosterFree(b);
        XGDMatrixFree(m);
        assert(ok == 0);
}

/* An MLP of KIT_FEATURES -> 8 -> 1 with fixed small weights. */
static inline void kit_mlp_write(const char *dir) {
        const uint32_t sizes[] = {KIT_FEATURES, 8, 1};
        struct fraud_mlp mlp;
        char path[4096];
        uint64_t st = 7;

        snprintf(path, sizeof(path), "%s/mlp.bin", dir);
        assert(fraud_mlp_init(&mlp, 2, sizes) == 0);
        for (size_t i = 0; i < mlp.n_params; i++)
                mlp.params[i] = kit_uniform(&st) - 0.5;
        mlp.mean[1] = 50000.0;
        mlp.std[1] = 30000.0;
        mlp.mean[0] = 10.0;
        mlp.std[0] = 6.0;
        assert(fraud_mlp_save(&mlp, path) == 0);
        fraud_mlp_release(&mlp);
}

/* Metadata of a model on the kit's schema. */
static inline void kit_meta(struct fraud_modelfile *m, const char *version) {
        memset(m, 0, sizeof(*m));
        snprintf(m->version, sizeof(m->version), "%s", version);
        m->created_at_us = INT64_C(1767225600000000); /* 2026-01-01 */
        m->n_features = KIT_FEATURES;
        for (size_t i = 0; i < KIT_FEATURES; i++)
                snprintf(m->feature_names[i], sizeof(m->feature_names[i]), "%s", kit_names[i]);
        m->feature_schema_hash = kit_hash();
        m->block_threshold = 0.5;
        m->review_threshold = 0.2;
        m->band_low = 0.3;
        m->band_high = 0.7;
        m->data_start_us = m->created_at_us - INT64_C(86400000000) * 90;
        m->data_end_us = m->created_at_us;
        m->label_cutoff_us = m->created_at_us;
        snprintf(m->status, sizeof(m->status), "champion");
}

/* A complete model directory under parent (created), named version. */
static inline void kit_model_write(char *dir, size_t size, const char *parent, const char *version,
                                   uint64_t seed, int rounds, int with_mlp) {
        struct fraud_modelfile m;

        snprintf(dir, size, "%s/%s", parent, version);
        assert(mkdir(dir, 0700) == 0);
        kit_gbdt_write(dir, seed, rounds, 4);
        if (with_mlp)
                kit_mlp_write(dir);
        kit_meta(&m, version);
        assert(fraud_modelfile_write(&m, dir) == 0);
}

static inline int kit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
        (void)st;
        (void)flag;
        (void)f;
        return remove(path);
}

/* Removes dir and everything below it. */
static inline void kit_rm_rf(const char *dir) {
        nftw(dir, kit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
