/* modelfile.h: a model version on disk, as the trainer writes it and the
 * scorer loads it.
 *
 * One directory per version (the model registry keeps one per version):
 *
 *   model.yaml   metadata, below
 *   gbdt.json    the gradient-boosted trees (XGBoosterSaveModel, JSON)
 *   mlp.bin      the neural model (common/mlp.h); absent when none
 *
 * model.yaml holds: version, parent_version, created_at (ISO 8601, event
 * time of the training cutoff), feature_names (the ordered list),
 * feature_schema_hash (common/featureset.h), block_threshold,
 * review_threshold, band_low, band_high (GBDT probabilities in
 * [band_low, band_high] are re-scored by the MLP), data_start, data_end,
 * label_cutoff (ISO 8601), metrics (name: value map, e.g. auc_roc,
 * average_precision), params (name: value map of training parameters),
 * status (candidate, champion, rejected, retired) and status_reason.
 * Unknown keys are refused with file:line, like the configuration.
 * has_mlp is not written: the reader sets it when dir/mlp.bin exists.  An
 * empty status is not written either and reads back as "".
 */
#ifndef FRAUD_MODELFILE_H
#define FRAUD_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAUD_MODELFILE_FEATURES_MAX 512 /* feature names in one model */
#define FRAUD_MODELFILE_NAME_MAX 64      /* bytes of a feature, metric or param name */
#define FRAUD_MODELFILE_VERSION_MAX 64   /* bytes of a version string */
#define FRAUD_MODELFILE_ENTRIES_MAX 64   /* metrics, and params, in one model */

struct fraud_modelfile_entry {
        char name[FRAUD_MODELFILE_NAME_MAX];
        double value;
};

struct fraud_modelfile {
        char version[FRAUD_MODELFILE_VERSION_MAX];
        char parent_version[FRAUD_MODELFILE_VERSION_MAX]; /* "" for the first */
        int64_t created_at_us;
        size_t n_features;
        char feature_names[FRAUD_MODELFILE_FEATURES_MAX][FRAUD_MODELFILE_NAME_MAX];
        uint64_t feature_schema_hash;
        double block_threshold;
        double review_threshold;
        double band_low;
        double band_high;
        int64_t data_start_us, data_end_us, label_cutoff_us;
        size_t n_metrics, n_params;
        struct fraud_modelfile_entry metrics[FRAUD_MODELFILE_ENTRIES_MAX];
        struct fraud_modelfile_entry params[FRAUD_MODELFILE_ENTRIES_MAX];
        char status[16];
        char status_reason[256];
        bool has_mlp;
};

/* Writes dir/model.yaml (through a temporary file and rename).  The caller
 * writes gbdt.json and mlp.bin first, so a model.yaml always describes
 * complete artifacts. */
int fraud_modelfile_write(const struct fraud_modelfile *m, const char *dir);

/* Reads dir/model.yaml into *m; checks that feature_schema_hash matches the
 * names and that thresholds and band are within [0, 1] and ordered.
 * -EINVAL with "FILE:LINE: key: reason" in err. */
int fraud_modelfile_read(struct fraud_modelfile *m, const char *dir, char *err, size_t err_size);

#endif
