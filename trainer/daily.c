/* daily.c: see daily.h.
 *
 * Ownership: struct day owns the table, the round and its models for the
 * one call of daily_run(); the settings, the schema and the rows are
 * borrowed.
 */
#include "trainer/daily.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/time.h"
#include "trainer/gate.h"
#include "trainer/registry.h"
#include "trainer/round.h"

/* The borrowed context of one call. */
struct daily {
        const struct fraud_settings *s;
        const struct fraud_featureset *fs;
        const struct daily_rows *rows;
        char *err;
        size_t err_size;
};

void daily_version(int64_t cutoff_us, char *out, size_t size) {
        int64_t y;
        unsigned mo, d;

        fraud_time_civil_from_days(fraud_time_day_index(cutoff_us) - 1, &y, &mo, &d);
        snprintf(out, size, "train-%04lld%02u%02u", (long long)y, mo, d);
}

const char *daily_outcome_name(enum daily_outcome o) {
        static const char *const names[] = {"promoted", "rejected", "skipped", "exists"};

        return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

/* What one day's round needs besides the round itself. */
struct day {
        int64_t cutoff_us;
        char version[FRAUD_MODELFILE_VERSION_MAX];
        char champion[FRAUD_MODELFILE_VERSION_MAX]; /* "" when none */
        struct dataset_window window;
        struct dataset_table table;
        struct round_rows rows;
        struct round round;
        enum gate_verdict verdict;
        char reason[FRAUD_TRAINER_REASON_MAX];
};


/* The training set of the day into d->table and d->rows. */
static int day_select(struct daily *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        int r;

        dataset_window_at(d->cutoff_us, c->window_days, c->label_maturity_days, t->fs->hash, t->fs->n,
                          &d->window);
        dataset_table_init(&d->table, t->fs->n, (size_t)c->rows_max);
        r = t->rows->select(t->rows->ctx, &d->window, &d->table, t->err, t->err_size);
        if (r < 0)
                return r;
        d->rows = (struct round_rows){
                .n_rows = d->table.n_rows,
                .n_features = t->fs->n,
                .names = (const char(*)[FRAUD_MODELFILE_NAME_MAX])t->fs->names,
                .x = d->table.x,
                .label = d->table.label,
                .time_us = d->table.time_us,
                .card = d->table.card,
                .rows_rejected = d->table.skipped_schema,
        };
        return 0;
}

/* Trains and evaluates; compares with the champion when there is one. */
static int day_train(struct daily *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        char dir[PATH_MAX], err[FRAUD_TRAINER_ERR_MAX];
        int64_t last_day = fraud_time_day_index(d->window.end_us) - 1;
        int r;

        round_init(&d->round, t->s, &d->rows);
        r = round_split(&d->round, last_day, c->holdout_days);
        if (r == 0)
                r = round_fit(&d->round);
        if (r == 0)
                r = round_evaluate(&d->round);
        if (r < 0)
                return r;
        r = registry_champion(c->registry_dir, d->champion, sizeof(d->champion), err, sizeof(err));
        if (r < 0) {
                d->champion[0] = '\0';
                if (r != -ENOENT)
                        fraud_log_warning("no champion to compare with: %s", err);
                return 0;
        }
        registry_path(c->registry_dir, d->champion, dir, sizeof(dir));
        if (round_compare(&d->round, dir) < 0)
                fraud_log_warning("champion %s cannot be compared, judged alone: %s", d->champion,
                                  d->round.err);
        return 0;
}

static void day_judge(struct daily *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        const struct round *r = &d->round;
        const struct evaluate_scores *s = &r->candidate.scores[EVALUATE_CASCADE];
        const struct gate_config g = {.ap_ratio = c->gate_ap_ratio,
                                      .min_train_frauds = (uint64_t)c->gate_min_train_frauds,
                                      .min_holdout_frauds = (uint64_t)c->gate_min_holdout_frauds,
                                      .min_auc = c->gate_min_auc};
        const struct gate_input in = {
                .train_frauds = r->train.frauds,
                .holdout_frauds = r->holdout.frauds,
                .auc_roc = s->auc_roc,
                .average_precision = s->average_precision,
                .has_champion = r->has_champion,
                .champion_average_precision =
                        r->champion.eval.scores[EVALUATE_CASCADE].average_precision,
                .champion_version = r->champion.version,
        };

        d->verdict = gate_decide(&g, &in, d->reason, sizeof(d->reason));
}

/* Writes the version to the registry (staging, then in place) and
 * promotes it when the gate said so. */
static int day_register(struct daily *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        const struct fraud_modelfile_entry extra[] = {
                {"window_days", (double)c->window_days},
                {"label_maturity_days", (double)c->label_maturity_days},
                {"gate_ap_ratio", c->gate_ap_ratio},
                {"gate_min_auc", c->gate_min_auc},
                {"gate_min_train_frauds", (double)c->gate_min_train_frauds},
                {"gate_min_holdout_frauds", (double)c->gate_min_holdout_frauds},
        };
        const bool promote = d->verdict == GATE_PROMOTE;
        const struct round_meta meta = {.version = d->version,
                                        .parent = d->champion,
                                        .label_cutoff_us = d->cutoff_us,
                                        .status = promote ? "champion" : "rejected",
                                        .status_reason = d->reason,
                                        .params_extra = extra,
                                        .n_params_extra = sizeof(extra) / sizeof(extra[0])};
        char staging[PATH_MAX], err[FRAUD_TRAINER_ERR_MAX], previous[FRAUD_MODELFILE_VERSION_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        int r = m ? registry_staging_clear(c->registry_dir, d->version, err, sizeof(err)) : -ENOMEM;

        if (r == 0 && (r = registry_staging_path(c->registry_dir, d->version, staging,
                                                 sizeof(staging))) == 0) {
                round_modelfile(&d->round, &meta, m);
                if ((r = round_write(&d->round, staging, m)) < 0)
                        snprintf(err, sizeof(err), "%s", d->round.err);
        }
        free(m);
        if (r == 0)
                r = registry_install(c->registry_dir, d->version, err, sizeof(err));
        if (r == 0 && promote)
                r = registry_promote(c->registry_dir, d->version, d->reason, previous,
                                     sizeof(previous), err, sizeof(err));
        if (r < 0)
                snprintf(t->err, t->err_size, "registry %s: %s", d->version,
                         r == -ENOMEM ? "out of memory" : err);
        return r;
}

static void day_log(const struct day *d) {
        const struct round *r = &d->round;
        const struct evaluate_scores *s = &r->candidate.scores[EVALUATE_CASCADE];
        const struct evaluate_scores *cs = &r->champion.eval.scores[EVALUATE_CASCADE];

        fraud_log_notice("%s: training %zu rows (%zu frauds), holdout %zu (%zu frauds), passed "
                         "over %zu unlabelled, %zu blocked, %zu of another schema",
                         d->version, r->train.n, r->train.frauds, r->holdout.n, r->holdout.frauds,
                         d->table.skipped_unlabelled, d->table.skipped_unknown,
                         d->table.skipped_schema);
        fraud_log_notice("%s: cascade on the holdout: AUC-ROC %.4f, AP %.4f, card precision@k "
                         "%.4f, recall %.4f, FPR %.5f, savings %.2f",
                         d->version, s->auc_roc, s->average_precision, s->card_precision, s->recall,
                         s->false_positive_rate, s->savings);
        if (r->has_champion)
                fraud_log_notice("%s: champion %s on the same holdout: AUC-ROC %.4f, AP %.4f, "
                                 "card precision@k %.4f, recall %.4f, FPR %.5f, savings %.2f",
                                 d->version, r->champion.version, cs->auc_roc,
                                 cs->average_precision, cs->card_precision, cs->recall,
                                 cs->false_positive_rate, cs->savings);
        fraud_log_notice("%s %s: %s", d->version,
                         d->verdict == GATE_PROMOTE ? "promoted to champion"
                                                    : "rejected, champion kept",
                         d->reason);
}

/* Trains the day: its outcome, or -errno when the stage must stop. */
static int day_run(struct daily *t, struct day *d) {
        int r = day_select(t, d);

        if (r < 0 && r != -E2BIG && r != -ENOMEM)
                return r; /* t->err says why */
        if (r == 0)
                r = day_train(t, d);
        if (r < 0) { /* the data or the fit: this day cannot train, later ones may */
                const char *why = r == -E2BIG       ? "more rows than trainer.rows_max"
                                  : d->round.err[0] ? d->round.err
                                                    : strerror(-r);
                size_t len = strnlen(why, sizeof(d->reason) - 1);

                memcpy(d->reason, why, len); /* cut to fit */
                d->reason[len] = '\0';
                fraud_log_err("%s: day not trained: %s", d->version, d->reason);
                return DAILY_SKIPPED;
        }
        day_judge(t, d);
        if ((r = day_register(t, d)) < 0)
                return r;
        day_log(d);
        return d->verdict == GATE_PROMOTE ? DAILY_PROMOTED : DAILY_REJECTED;
}


static void result_fill(const struct day *d, int outcome, struct daily_result *out) {
        const struct evaluate_scores *s = &d->round.candidate.scores[EVALUATE_CASCADE];
        bool trained = outcome == DAILY_PROMOTED || outcome == DAILY_REJECTED;

        out->outcome = (enum daily_outcome)outcome;
        snprintf(out->version, sizeof(out->version), "%s", d->version);
        snprintf(out->champion, sizeof(out->champion), "%s", d->champion);
        snprintf(out->reason, sizeof(out->reason), "%s", d->reason);
        snprintf(out->newest_tx, sizeof(out->newest_tx), "%s", d->table.newest_tx);
        out->train_rows = d->round.train.n;
        out->train_frauds = d->round.train.frauds;
        out->holdout_rows = d->round.holdout.n;
        out->holdout_frauds = d->round.holdout.frauds;
        out->average_precision = trained ? s->average_precision : NAN;
        out->auc_roc = trained ? s->auc_roc : NAN;
}

int daily_run(const struct fraud_settings *s, const struct fraud_featureset *fs,
              const struct daily_rows *rows, int64_t cutoff_us, struct daily_result *out,
              char *err, size_t err_size) {
        struct daily t = {.s = s, .fs = fs, .rows = rows, .err = err, .err_size = err_size};
        struct fraud_modelfile *m = malloc(sizeof(*m));
        struct day *d = calloc(1, sizeof(*d));
        char why[FRAUD_TRAINER_ERR_MAX];
        int r = m && d ? 0 : -ENOMEM;

        memset(out, 0, sizeof(*out));
        if (r == 0) {
                d->cutoff_us = cutoff_us;
                daily_version(cutoff_us, d->version, sizeof(d->version));
                if (registry_read(s->trainer.registry_dir, d->version, m, why, sizeof(why)) == 0) {
                        fraud_log_notice("%s: in the registry already (%s), day not trained again",
                                         d->version, m->status);
                        snprintf(d->reason, sizeof(d->reason), "in the registry already (%s)",
                                 m->status);
                        r = DAILY_EXISTS;
                } else {
                        r = day_run(&t, d);
                }
                if (r >= 0)
                        result_fill(d, r, out);
                round_release(&d->round);
                dataset_table_release(&d->table);
        }
        if (r == -ENOMEM)
                snprintf(err, err_size, "out of memory");
        free(m);
        free(d);
        return r < 0 ? r : 0;
}
