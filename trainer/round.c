/* round.c: one training round (see round.h).
 *
 * Design.  The round is a struct that each phase fills in turn; a phase
 * may assume the previous ones succeeded, and round_release() frees
 * whatever was made, wherever the sequence stopped.  Metrics and params
 * are named here, once, for every caller's model.yaml.
 */
#include "trainer/round.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/featureset.h"
#include "lib/time.h"

const char *const round_model_names[EVALUATE_MODELS] = {"gbdt", "mlp", "cascade"};

static int round_fail(struct round *r, int ret, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int round_fail(struct round *r, int ret, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->err, sizeof(r->err), fmt, ap);
        va_end(ap);
        return ret;
}

static void part_release(struct round_part *p) {
        free(p->x);
        free(p->label);
        free(p->time_us);
        free(p->card);
        free(p->row);
        memset(p, 0, sizeof(*p));
}

/* Which part row i is in: 0 training, 1 holdout, -1 neither. */
static int part_of(const struct round *r, size_t i) {
        int64_t day = fraud_time_day_index(r->rows->time_us[i]);

        return day > r->last_day ? -1 : day > r->last_day - r->holdout_days ? 1 : 0;
}

/* Copies the rows of the part (0 training, 1 holdout). */
static int part_take(struct round_part *p, const struct round *r, int which) {
        const struct round_rows *t = r->rows;
        size_t k = 0, d = t->n_features, n;

        memset(p, 0, sizeof(*p));
        for (size_t i = 0; i < t->n_rows; i++)
                p->n += part_of(r, i) == which;
        n = p->n ? p->n : 1;
        p->x = malloc(n * d * sizeof(double));
        p->label = malloc(n);
        p->time_us = malloc(n * sizeof(int64_t));
        p->card = malloc(n * sizeof(uint64_t));
        p->row = malloc(n * sizeof(size_t));
        if (!p->x || !p->label || !p->time_us || !p->card || !p->row) {
                part_release(p);
                return -ENOMEM;
        }
        p->first_us = INT64_MAX;
        p->last_us = INT64_MIN;
        for (size_t i = 0; i < t->n_rows; i++) {
                if (part_of(r, i) != which)
                        continue;
                memcpy(p->x + k * d, t->x + i * d, d * sizeof(double));
                p->label[k] = t->label[i];
                p->time_us[k] = t->time_us[i];
                p->card[k] = t->card[i];
                p->row[k] = i;
                p->frauds += t->label[i];
                p->first_us = t->time_us[i] < p->first_us ? t->time_us[i] : p->first_us;
                p->last_us = t->time_us[i] > p->last_us ? t->time_us[i] : p->last_us;
                k++;
        }
        return 0;
}

void round_init(struct round *r, const struct fraud_settings *s, const struct round_rows *rows) {
        memset(r, 0, sizeof(*r));
        r->settings = s;
        r->rows = rows;
}

void round_release(struct round *r) {
        part_release(&r->train);
        part_release(&r->holdout);
        fit_gbdt_free(r->gbdt);
        r->gbdt = NULL;
        fraud_mlp_release(&r->mlp);
        for (int k = 0; k < EVALUATE_MODELS; k++) {
                free(r->p[k]);
                r->p[k] = NULL;
        }
        free(r->fn_each);
        r->fn_each = NULL;
}

int round_split(struct round *r, int64_t last_day, int64_t holdout_days) {
        r->last_day = last_day;
        r->holdout_days = holdout_days;
        if (part_take(&r->train, r, 0) < 0 || part_take(&r->holdout, r, 1) < 0)
                return round_fail(r, -ENOMEM, "out of memory");
        if (r->train.frauds == 0 || r->train.frauds == r->train.n || r->holdout.frauds == 0 ||
            r->holdout.frauds == r->holdout.n)
                return round_fail(r, -EDOM,
                                  "training (%zu rows, %zu frauds) and holdout (%zu rows, %zu "
                                  "frauds) both need frauds and legitimate payments",
                                  r->train.n, r->train.frauds, r->holdout.n, r->holdout.frauds);
        return 0;
}

int round_fit(struct round *r) {
        const struct fraud_settings_trainer *s = &r->settings->trainer;
        const struct fit_data d = {r->train.x, r->train.label, r->train.n, r->rows->n_features};
        const struct fit_gbdt_params gp = {.rounds = (uint32_t)s->gbdt_rounds,
                                           .max_depth = (uint32_t)s->gbdt_max_depth,
                                           .eta = s->gbdt_eta,
                                           .pos_weight = s->pos_weight,
                                           .threads = (uint32_t)s->threads,
                                           .seed = (uint64_t)s->seed};
        const struct fit_mlp_params mp = {.hidden_layers = (uint32_t)s->mlp_hidden_layers,
                                          .hidden = (uint32_t)s->mlp_hidden,
                                          .epochs = (uint32_t)s->mlp_epochs,
                                          .batch_rows = (uint32_t)s->mlp_batch_rows,
                                          .learning_rate = s->mlp_learning_rate,
                                          .pos_weight = s->pos_weight,
                                          .seed = (uint64_t)s->seed};
        int ret;

        ret = fit_gbdt(&d, &gp, &r->gbdt, &r->gbdt_report, r->err, sizeof(r->err));
        if (ret == 0)
                ret = fit_gbdt_calibrate(r->gbdt, r->gbdt_report.pos_weight, r->err,
                                         sizeof(r->err));
        if (ret < 0)
                return ret;
        ret = fit_mlp(&d, &mp, &r->mlp, &r->mlp_report);
        if (ret < 0)
                return round_fail(r, ret, "mlp: %s", strerror(-ret));
        fit_mlp_calibrate(&r->mlp, r->mlp_report.pos_weight);
        return 0;
}

/* Scores of n rows of x by a GBDT and an MLP (NULL: none) into pg, pm. */
static int scores_compute(struct round *r, BoosterHandle gbdt, const struct fraud_mlp *mlp,
                          const double *x, size_t n, double *pg, double *pm) {
        size_t d = r->rows->n_features;
        double *scratch = NULL;
        int ret;

        if (mlp && !(scratch = malloc(fraud_mlp_scratch_size(mlp) * sizeof(double))))
                return round_fail(r, -ENOMEM, "out of memory");
        ret = fit_gbdt_predict(gbdt, x, n, d, pg, r->err, sizeof(r->err));
        for (size_t i = 0; ret == 0 && mlp && i < n; i++)
                pm[i] = fraud_mlp_forward(mlp, x + i * d, scratch);
        free(scratch);
        return ret;
}

/* C_FN per holdout row when the scorer takes it from the amount. */
static int costs_set(struct round *r) {
        const struct fraud_settings_scorer *s = &r->settings->scorer;
        long amount = -1;

        r->costs = (struct evaluate_costs){.false_positive = s->cost_false_positive,
                                           .false_negative = s->cost_false_negative};
        for (size_t f = 0; s->cost_fn_is_amount && f < r->rows->n_features; f++)
                if (!strcmp(r->rows->names[f], "amount"))
                        amount = (long)f;
        if (amount < 0)
                return 0;
        if (!(r->fn_each = malloc((r->holdout.n ? r->holdout.n : 1) * sizeof(double))))
                return round_fail(r, -ENOMEM, "out of memory");
        for (size_t i = 0; i < r->holdout.n; i++)
                r->fn_each[i] = fmax(0, r->holdout.x[i * r->rows->n_features + (size_t)amount]);
        r->costs.false_negative_each = r->fn_each;
        return 0;
}

static struct evaluate_holdout holdout_of(const struct round *r) {
        return (struct evaluate_holdout){r->holdout.label, r->holdout.time_us, r->holdout.card,
                                         r->holdout.n};
}

int round_evaluate(struct round *r) {
        const struct evaluate_holdout h = holdout_of(r);
        size_t n = r->holdout.n ? r->holdout.n : 1;
        int ret;

        for (int k = 0; k < EVALUATE_MODELS; k++)
                if (!(r->p[k] = calloc(n, sizeof(double))))
                        return round_fail(r, -ENOMEM, "out of memory");
        ret = scores_compute(r, r->gbdt, &r->mlp, r->holdout.x, r->holdout.n, r->p[EVALUATE_GBDT],
                             r->p[EVALUATE_MLP]);
        if (ret == 0)
                ret = costs_set(r);
        if (ret < 0)
                return ret;
        ret = evaluate_candidate(&h, r->p[EVALUATE_GBDT], r->p[EVALUATE_MLP],
                                 r->settings->trainer.band_share,
                                 (size_t)r->settings->trainer.precision_k, &r->costs,
                                 r->p[EVALUATE_CASCADE], &r->candidate);
        return ret < 0 ? round_fail(r, ret, "evaluation: %s", strerror(-ret)) : 0;
}

/* ---- the champion on the same holdout ---- */

/* The model files of dir, checked against the rows' feature names. */
struct loaded {
        struct fraud_modelfile *meta;
        BoosterHandle gbdt;
        struct fraud_mlp mlp;
        bool has_mlp;
};

static void loaded_release(struct loaded *l) {
        free(l->meta);
        fit_gbdt_free(l->gbdt);
        if (l->has_mlp)
                fraud_mlp_release(&l->mlp);
}

static int champion_load(struct round *r, const char *dir, struct loaded *l) {
        char path[PATH_MAX];
        int ret;

        if (!(l->meta = malloc(sizeof(*l->meta))))
                return round_fail(r, -ENOMEM, "out of memory");
        ret = fraud_modelfile_read(l->meta, dir, r->err, sizeof(r->err));
        if (ret < 0)
                return ret;
        if (l->meta->n_features != r->rows->n_features)
                return round_fail(r, -EINVAL, "%s: %zu features, the rows have %zu", dir,
                                  l->meta->n_features, r->rows->n_features);
        for (size_t f = 0; f < l->meta->n_features; f++)
                if (strcmp(l->meta->feature_names[f], r->rows->names[f]) != 0)
                        return round_fail(r, -EINVAL, "%s: feature %zu is %s, the rows' is %s", dir,
                                          f, l->meta->feature_names[f], r->rows->names[f]);
        if (snprintf(path, sizeof(path), "%s/gbdt.json", dir) >= (int)sizeof(path))
                return round_fail(r, -ENAMETOOLONG, "%s: path too long", dir);
        ret = fit_gbdt_load(path, (uint32_t)r->settings->trainer.threads, &l->gbdt, r->err,
                            sizeof(r->err));
        if (ret < 0 || !l->meta->has_mlp)
                return ret;
        snprintf(path, sizeof(path), "%s/mlp.bin", dir);
        if ((ret = fraud_mlp_load(&l->mlp, path)) < 0)
                return round_fail(r, ret, "%s: %s", path, strerror(-ret));
        l->has_mlp = true;
        if (l->mlp.sizes[0] != r->rows->n_features)
                return round_fail(r, -EINVAL, "%s: %u inputs for %zu features", path,
                                  l->mlp.sizes[0], r->rows->n_features);
        return 0;
}

int round_compare(struct round *r, const char *dir) {
        const struct evaluate_holdout h = holdout_of(r);
        size_t n = r->holdout.n ? r->holdout.n : 1;
        double *pg = calloc(n, sizeof(double)), *pm = calloc(n, sizeof(double)),
               *pc = calloc(n, sizeof(double));
        struct evaluate_candidate t;
        struct loaded l = {0};
        int ret = pg && pm && pc ? 0 : round_fail(r, -ENOMEM, "out of memory");

        r->has_champion = false;
        if (ret == 0)
                ret = champion_load(r, dir, &l);
        if (ret == 0)
                ret = scores_compute(r, l.gbdt, l.has_mlp ? &l.mlp : NULL, r->holdout.x,
                                     r->holdout.n, pg, pm);
        if (ret == 0) {
                t = (struct evaluate_candidate){.block_threshold = l.meta->block_threshold,
                                                .review_threshold = l.meta->review_threshold,
                                                .band_low = l.meta->band_low,
                                                .band_high = l.meta->band_high};
                ret = evaluate_at_thresholds(&h, pg, l.has_mlp ? pm : NULL, &t,
                                             (size_t)r->settings->trainer.precision_k, &r->costs,
                                             pc, &r->champion.eval);
                if (ret < 0)
                        round_fail(r, ret, "%s: evaluation: %s", dir, strerror(-ret));
        }
        if (ret == 0) {
                snprintf(r->champion.version, sizeof(r->champion.version), "%s", l.meta->version);
                r->has_champion = true;
        }
        loaded_release(&l);
        free(pg);
        free(pm);
        free(pc);
        return ret;
}

/* ---- model.yaml ---- */

static void entry_add(struct fraud_modelfile *m, bool metric, const char *prefix, const char *name,
                      double value) {
        struct fraud_modelfile_entry *e = metric ? m->metrics : m->params;
        size_t *n = metric ? &m->n_metrics : &m->n_params;

        /* Every name below fits; extra params beyond the limit are dropped. */
        if (*n == FRAUD_MODELFILE_ENTRIES_MAX ||
            snprintf(e[*n].name, sizeof(e[*n].name), "%s%s%s", prefix, prefix[0] ? "_" : "",
                     name) >= (int)sizeof(e[*n].name))
                return;
        e[*n].value = value;
        ++*n;
}

static void scores_add(struct fraud_modelfile *m, const char *p, const struct evaluate_scores *s) {
        entry_add(m, true, p, "auc_roc", s->auc_roc);
        entry_add(m, true, p, "average_precision", s->average_precision);
        entry_add(m, true, p, "card_precision_at_k", s->card_precision);
        entry_add(m, true, p, "recall", s->recall);
        entry_add(m, true, p, "false_positive_rate", s->false_positive_rate);
        entry_add(m, true, p, "cost_savings", s->savings);
        entry_add(m, true, p, "cost_savings_bayes", s->savings_bayes);
}

static void modelfile_metrics(const struct round *r, struct fraud_modelfile *m) {
        for (int k = 0; k < EVALUATE_MODELS; k++)
                scores_add(m, round_model_names[k], &r->candidate.scores[k]);
        entry_add(m, true, "", "train_rows", (double)r->train.n);
        entry_add(m, true, "", "train_frauds", (double)r->train.frauds);
        entry_add(m, true, "", "holdout_rows", (double)r->holdout.n);
        entry_add(m, true, "", "holdout_frauds", (double)r->holdout.frauds);
        entry_add(m, true, "", "rows_rejected", (double)r->rows->rows_rejected);
        entry_add(m, true, "", "mlp_loss_initial", r->mlp_report.loss_initial);
        entry_add(m, true, "", "mlp_loss_final", r->mlp_report.loss_final);
        if (r->has_champion)
                scores_add(m, "champion_cascade", &r->champion.eval.scores[EVALUATE_CASCADE]);
}

static void modelfile_params(const struct round *r, const struct round_meta *meta,
                             struct fraud_modelfile *m) {
        const struct fraud_settings_trainer *s = &r->settings->trainer;
        const struct fraud_settings_scorer *c = &r->settings->scorer;
        const struct fraud_modelfile_entry e[] = {
                {"gbdt_rounds", (double)s->gbdt_rounds},
                {"gbdt_max_depth", (double)s->gbdt_max_depth},
                {"gbdt_eta", s->gbdt_eta},
                {"threads", (double)s->threads},
                {"mlp_hidden_layers", (double)s->mlp_hidden_layers},
                {"mlp_hidden", (double)s->mlp_hidden},
                {"mlp_epochs", (double)s->mlp_epochs},
                {"mlp_batch_rows", (double)s->mlp_batch_rows},
                {"mlp_learning_rate", s->mlp_learning_rate},
                {"pos_weight", r->gbdt_report.pos_weight},
                {"seed", (double)s->seed},
                {"holdout_days", (double)r->holdout_days},
                {"precision_k", (double)s->precision_k},
                {"band_share", s->band_share},
                {"cost_false_positive", c->cost_false_positive},
                {"cost_false_negative", c->cost_false_negative},
                {"cost_fn_is_amount", r->fn_each != NULL},
        };

        for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
                entry_add(m, false, "", e[i].name, e[i].value);
        for (size_t i = 0; i < meta->n_params_extra; i++)
                entry_add(m, false, "", meta->params_extra[i].name, meta->params_extra[i].value);
}

void round_modelfile(const struct round *r, const struct round_meta *meta,
                     struct fraud_modelfile *m) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];
        char day[FRAUD_TIME_ISO8601_MAX];

        memset(m, 0, sizeof(*m));
        fraud_time_format_iso8601(r->holdout.last_us, day);
        if (meta->version)
                snprintf(m->version, sizeof(m->version), "%s", meta->version);
        else
                snprintf(m->version, sizeof(m->version), "train-%.4s%.2s%.2s", day, day + 5,
                         day + 8);
        snprintf(m->parent_version, sizeof(m->parent_version), "%s",
                 meta->parent ? meta->parent : "");
        m->label_cutoff_us =
                meta->label_cutoff_us == INT64_MIN ? r->holdout.last_us : meta->label_cutoff_us;
        m->created_at_us = m->label_cutoff_us;
        m->data_start_us = r->train.first_us;
        m->data_end_us = r->holdout.last_us;
        m->n_features = r->rows->n_features;
        for (size_t f = 0; f < m->n_features; f++) {
                memcpy(m->feature_names[f], r->rows->names[f], FRAUD_MODELFILE_NAME_MAX);
                names[f] = r->rows->names[f];
        }
        m->feature_schema_hash = fraud_featureset_hash(names, m->n_features);
        m->block_threshold = r->candidate.block_threshold;
        m->review_threshold = r->candidate.review_threshold;
        m->band_low = r->candidate.band_low;
        m->band_high = r->candidate.band_high;
        modelfile_metrics(r, m);
        modelfile_params(r, meta, m);
        snprintf(m->status, sizeof(m->status), "%s", meta->status ? meta->status : "candidate");
        snprintf(m->status_reason, sizeof(m->status_reason), "%s",
                 meta->status_reason ? meta->status_reason : "");
        m->has_mlp = true;
}

int round_write(struct round *r, const char *dir, const struct fraud_modelfile *m) {
        char path[PATH_MAX];
        int ret;

        if (strlen(dir) + sizeof("/model.yaml.tmp") > sizeof(path))
                return round_fail(r, -ENAMETOOLONG, "%s: %s", dir, strerror(ENAMETOOLONG));
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return round_fail(r, -errno, "%s: %s", dir, strerror(errno));
        snprintf(path, sizeof(path), "%s/gbdt.json", dir);
        if ((ret = fit_gbdt_save(r->gbdt, path, r->err, sizeof(r->err))) < 0)
                return ret;
        snprintf(path, sizeof(path), "%s/mlp.bin", dir);
        if ((ret = fraud_mlp_save(&r->mlp, path)) < 0)
                return round_fail(r, ret, "%s: %s", path, strerror(-ret));
        if ((ret = fraud_modelfile_write(m, dir)) < 0)
                return round_fail(r, ret, "%s/model.yaml: %s", dir, strerror(-ret));
        return 0;
}
