/* test_round.c: tests of trainer/round.c beyond what `fraudctl train`'s
 * tests cover: the split's day boundaries, the metadata a caller sets,
 * and the champion comparison -- a model compared with itself on its own
 * holdout gets its own figures, and a model of other features is refused.
 * Model directories go to a mkdtemp directory, removed at the end. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/settings.h"
#include "tests/testing.h"
#include "tests/trainer/kit.h"
#include "trainer/round.h"

#define ROWS_PER_DAY 150
#define DAYS         6

struct data {
        struct fraud_featureset fs;
        double x[DAYS * ROWS_PER_DAY * 41];
        uint8_t label[DAYS * ROWS_PER_DAY];
        int64_t time_us[DAYS * ROWS_PER_DAY];
        uint64_t card[DAYS * ROWS_PER_DAY];
        struct round_rows rows;
};

static struct data *data_new(void) {
        struct data *d = calloc(1, sizeof(*d));
        size_t n = DAYS * ROWS_PER_DAY;

        ck_assert_ptr_nonnull(d);
        kit_featureset(&d->fs);
        for (size_t i = 0; i < n; i++) {
                d->label[i] = (uint8_t)kit_payment(4, i, d->x + i * 41, 41);
                d->time_us[i] = KIT_T0 + (int64_t)(i / ROWS_PER_DAY) * KIT_DAY +
                                (int64_t)(i % ROWS_PER_DAY) * 1000;
                d->card[i] = i % 50;
        }
        d->rows = (struct round_rows){.n_rows = n,
                                      .n_features = 41,
                                      .names = (const char(*)[FRAUD_MODELFILE_NAME_MAX])d->fs.names,
                                      .x = d->x,
                                      .label = d->label,
                                      .time_us = d->time_us,
                                      .card = d->card};
        return d;
}

static struct fraud_settings *settings_new(void) {
        struct fraud_settings *s = malloc(sizeof(*s));

        ck_assert_int_eq(fraud_settings_init(s), 0);
        s->trainer.gbdt_rounds = 10;
        s->trainer.gbdt_max_depth = 3;
        s->trainer.mlp_hidden = 8;
        s->trainer.mlp_hidden_layers = 1;
        s->trainer.mlp_epochs = 3;
        s->trainer.threads = 1;
        return s;
}

START_TEST(test_round_split_holds_out_last_days_and_drops_later_ones) {
        struct data *d = data_new();
        struct fraud_settings *s = settings_new();
        int64_t d0 = fraud_time_day_index(KIT_T0);
        struct round r;

        round_init(&r, s, &d->rows);
        ck_assert_int_eq(round_split(&r, d0 + 4, 2), 0); /* day 5 in neither part */
        ck_assert_uint_eq(r.train.n, 3 * ROWS_PER_DAY);
        ck_assert_uint_eq(r.holdout.n, 2 * ROWS_PER_DAY);
        ck_assert_int_eq(r.holdout.first_us, KIT_T0 + 3 * KIT_DAY);
        ck_assert_int_eq(fraud_time_day_index(r.holdout.last_us), d0 + 4);
        ck_assert_int_eq(r.train.last_us, KIT_T0 + 2 * KIT_DAY + (ROWS_PER_DAY - 1) * 1000);
        for (size_t i = 0; i < r.holdout.n; i++)
                ck_assert_int_eq(r.holdout.time_us[i], d->time_us[r.holdout.row[i]]);
        round_release(&r);
        round_init(&r, s, &d->rows);
        ck_assert_int_eq(round_split(&r, d0 + 8, 2), -EDOM); /* an empty holdout */
        ck_assert_ptr_nonnull(strstr(r.err, "holdout (0 rows"));
        round_release(&r);
        fraud_settings_release(s);
        free(s);
        free(d);
}
END_TEST

START_TEST(test_round_champion_compared_with_itself_scores_the_same) {
        struct data *d = data_new();
        struct fraud_settings *s = settings_new();
        struct fraud_modelfile *m = malloc(sizeof(*m));
        const struct fraud_modelfile_entry extra[] = {{"window_days", 9}};
        const struct round_meta meta = {.version = "v1",
                                        .parent = "v0",
                                        .label_cutoff_us = KIT_T0 + 6 * KIT_DAY,
                                        .status = "rejected",
                                        .status_reason = "why not",
                                        .params_extra = extra,
                                        .n_params_extra = 1};
        char root[] = "/tmp/fraud-round-XXXXXX", dir[PATH_MAX];
        struct round r;

        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(dir, sizeof(dir), "%s/v1", root);
        round_init(&r, s, &d->rows);
        ck_assert_int_eq(round_split(&r, fraud_time_day_index(KIT_T0) + 5, 2), 0);
        ck_assert_int_eq(round_fit(&r), 0);
        ck_assert_int_eq(round_evaluate(&r), 0);
        round_modelfile(&r, &meta, m);
        ck_assert_int_eq(m->label_cutoff_us, KIT_T0 + 6 * KIT_DAY);
        ck_assert_int_eq(m->created_at_us, m->label_cutoff_us);
        ck_assert_str_eq(m->parent_version, "v0");
        ck_assert_str_eq(m->status, "rejected");
        ck_assert_str_eq(m->params[m->n_params - 1].name, "window_days");
        ck_assert_uint_eq(m->feature_schema_hash, d->fs.hash);
        ck_assert_msg(round_write(&r, dir, m) == 0, "%s", r.err);
        ck_assert_msg(round_compare(&r, dir) == 0, "%s", r.err);
        ck_assert(r.has_champion);
        ck_assert_str_eq(r.champion.version, "v1");
        for (int k = 0; k < EVALUATE_MODELS; k++) {
                ck_assert_double_eq_tol(r.champion.eval.scores[k].average_precision,
                                        r.candidate.scores[k].average_precision, 1e-9);
                ck_assert_double_eq_tol(r.champion.eval.scores[k].recall,
                                        r.candidate.scores[k].recall, 1e-9);
        }
        round_modelfile(&r, &meta, m); /* now with the champion's figures */
        ck_assert_str_eq(m->metrics[m->n_metrics - 6].name, "champion_cascade_average_precision");
        /* another schema: names differ */
        snprintf(m->feature_names[3], sizeof(m->feature_names[3]), "renamed");
        m->feature_schema_hash = 0;
        {
                const char *names[64];
                for (size_t i = 0; i < m->n_features; i++)
                        names[i] = m->feature_names[i];
                m->feature_schema_hash = fraud_featureset_hash(names, m->n_features);
        }
        ck_assert_int_eq(fraud_modelfile_write(m, dir), 0);
        ck_assert_int_eq(round_compare(&r, dir), -EINVAL);
        ck_assert(!r.has_champion);
        ck_assert_ptr_nonnull(strstr(r.err, "renamed"));
        round_release(&r);
        ck_assert_int_eq(testing_tree_remove(root), 0);
        fraud_settings_release(s);
        free(s);
        free(m);
        free(d);
}
END_TEST

TESTING_MAIN("round", test_round_split_holds_out_last_days_and_drops_later_ones,
             test_round_champion_compared_with_itself_scores_the_same)
