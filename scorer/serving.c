/* serving.c: see serving.h. */
#include "scorer/serving.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"

static int serving_mlp_load(struct serving *s, const char *dir, char *err, size_t err_size) {
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "%s/mlp.bin", dir);
        r = fraud_mlp_load(&s->mlp, path);
        if (r < 0) {
                s->meta.has_mlp = false;
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        if (s->mlp.sizes[0] != s->meta.n_features) {
                snprintf(err, err_size, "%s: %u inputs, model.yaml lists %zu features", path,
                         s->mlp.sizes[0], s->meta.n_features);
                return -EINVAL;
        }
        s->mlp_scratch = calloc(fraud_mlp_scratch_size(&s->mlp), sizeof(double));
        return s->mlp_scratch ? 0 : -ENOMEM;
}

int serving_load(const char *dir, int nthread, struct serving **out, char *err, size_t err_size) {
        char path[PATH_MAX];
        struct serving *s;
        int r;

        *out = NULL;
        if (snprintf(path, sizeof(path), "%s/gbdt.json", dir) >= (int)sizeof(path)) {
                snprintf(err, err_size, "%s: path too long", dir);
                return -ENAMETOOLONG;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = fraud_modelfile_read(&s->meta, dir, err, err_size);
        if (r >= 0)
                r = booster_load(path, s->meta.n_features, nthread, &s->gbdt, err, err_size);
        if (r >= 0 && s->meta.has_mlp)
                r = serving_mlp_load(s, dir, err, err_size);
        if (r >= 0) {
                s->batch_rows = calloc(FRAUD_SCORER_BATCH_MAX, sizeof(s->batch_rows[0]));
                s->batch_index = calloc(FRAUD_SCORER_BATCH_MAX, sizeof(s->batch_index[0]));
                s->batch_p = calloc(FRAUD_SCORER_BATCH_MAX, sizeof(s->batch_p[0]));
                if (!s->batch_rows || !s->batch_index || !s->batch_p)
                        r = -ENOMEM;
        }
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, err_size, "%s: out of memory", dir);
                serving_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void serving_free(struct serving *s) {
        if (!s)
                return;
        booster_free(s->gbdt);
        if (s->meta.has_mlp)
                fraud_mlp_release(&s->mlp);
        free(s->mlp_scratch);
        free(s->contrib);
        free(s->batch_rows);
        free(s->batch_index);
        free(s->batch_p);
        free(s);
}
