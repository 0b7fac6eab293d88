/* serving.h: one model version loaded for serving: its metadata
 * (model.yaml), its GBDT (gbdt.json) and, when present, its MLP (mlp.bin).
 *
 * Loading checks everything before anything is used: model.yaml (through
 * common/modelfile.h: hash against names, thresholds, band), the booster's
 * feature count and the MLP's input width against the names.  A model
 * that fails any check is not loaded; the caller keeps the one it has.
 * The struct is read-only for callers once loaded; it owns everything in
 * it.
 */
#ifndef FRAUD_SCORER_SERVING_H
#define FRAUD_SCORER_SERVING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/mlp.h"
#include "common/modelfile.h"
#include "scorer/booster.h"

struct serving {
        struct fraud_modelfile meta;
        struct booster *gbdt;
        struct fraud_mlp mlp; /* when meta.has_mlp */
        double *mlp_scratch;  /* fraud_mlp_scratch_size() doubles */
        double *contrib;      /* contrib_rows * (n_features + 1), grown on demand */
        size_t contrib_rows;
        /* Scratch of one batch, FRAUD_SCORER_BATCH_MAX each (scorer/decide.c). */
        const double **batch_rows;
        size_t *batch_index;
        double *batch_p;
};

/* Loads the model directory dir.  -errno with "where: reason" in err. */
int serving_load(const char *dir, int nthread, struct serving **out, char *err, size_t err_size);

/* serving_free(NULL) is a no-op. */
void serving_free(struct serving *s);

#endif
