/* test_train.c: tests of tools/train.c, `fraudctl train`: the CSV reader
 * (header rules, bad rows counted and reported, valid rows kept) and the
 * whole subcommand on a small simulated history (tools/sim.h), whose
 * model directory must load back: gbdt.json in XGBoost, mlp.bin, and
 * model.yaml through common/modelfile.h.
 *
 * Features of the simulated CSV are what one payment shows on its own
 * (amount, hour, channel, MCC, device and IP presence): enough signal for
 * the models to beat chance, computed here so the test needs no velocity
 * stage.  Files go to a mkdtemp directory, removed at the end. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mlp.h"
#include "common/modelfile.h"
#include "lib/time.h"
#include "tools/sim.h"
#include "tools/train.h"
#include "trainer/fit.h"

#include "tests/testing.h"

static char root[PATH_MAX];

static void root_make(void) {
        const char *tmp = getenv("TMPDIR");

        snprintf(root, sizeof(root), "%s/fraud-train-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void root_remove(void) {
        ck_assert_int_eq(testing_tree_remove(root), 0);
}

static void in_root(char *out, const char *name) {
        ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", root, name), PATH_MAX);
}

/* Reads text through train_table_read, diagnostics into diag. */
static int table_from(struct train_table *t, const char *text, char *diag, size_t diag_size) {
        FILE *in = fmemopen((void *)text, strlen(text), "r");
        FILE *d = fmemopen(diag, diag_size, "w");
        char err[512];
        int r;

        r = train_table_read(t, in, "t.csv", d, err, sizeof(err));
        fclose(in);
        fclose(d);
        return r;
}

START_TEST(test_train_table_keeps_valid_rows_and_counts_bad_ones) {
        const char *csv = "f1,label,event_time,card,f2\n"
                          "1.5,0,2026-01-01T00:00:00Z,c1,2\n"
                          "x,0,2026-01-01T00:00:01Z,c1,2\n" /* line 3: not a number */
                          "1,2,2026-01-01T00:00:02Z,c1,2\n" /* line 4: label */
                          "\n"
                          "1,1,2026-13-01,c1,2\n"                     /* line 6: time */
                          "1,1,2026-01-02,,2\n"                       /* line 7: card */
                          "1,1,2026-01-02,c2\n"                       /* line 8: fields */
                          "-3e2,1,2026-01-02T10:00:00+01:00,c2,inf\n" /* line 9: inf */
                          "-3e2,1,2026-01-02T10:00:00+01:00,c2,0.25\n";
        char diag[2048] = "";
        struct train_table t;

        ck_assert_int_eq(table_from(&t, csv, diag, sizeof(diag)), 0);
        ck_assert_uint_eq(t.n_features, 2);
        ck_assert_str_eq(t.names[0], "f1");
        ck_assert_str_eq(t.names[1], "f2");
        ck_assert_uint_eq(t.n_rows, 2);
        ck_assert_uint_eq(t.rows_rejected, 6);
        ck_assert_double_eq(t.x[0], 1.5);
        ck_assert_double_eq(t.x[1], 2);
        ck_assert_double_eq(t.x[2], -300);
        ck_assert_double_eq(t.x[3], 0.25);
        ck_assert_int_eq(t.label[1], 1);
        ck_assert_int_eq(t.time_us[1], t.time_us[0] + FRAUD_USEC_PER_DAY + 9 * FRAUD_USEC_PER_HOUR);
        ck_assert_uint_ne(t.card[0], t.card[1]);
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:3: rejected: not a finite number ('x')"));
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:4: rejected: label is not 0 or 1"));
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:6: rejected: event_time"));
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:7: rejected: card is empty"));
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:8: rejected: wrong number of fields"));
        ck_assert_ptr_nonnull(strstr(diag, "t.csv:9: rejected: not a finite number ('inf')"));
        train_table_release(&t);
}
END_TEST

START_TEST(test_train_table_refuses_bad_headers) {
        const char *bad[] = {
                "f1,event_time,card\n1,2026-01-01,c\n",              /* no label */
                "label,event_time,card\n1,2026-01-01,c\n",           /* no feature */
                "f1,f1,label,event_time,card\n1,1,1,2026-01-01,c\n", /* feature twice */
                "f1,label,label,event_time,card\n1,1,1,2026-01-01,c\n",
                "f1,,label,event_time,card\n1,1,1,2026-01-01,c\n", /* empty name */
                "",
                "f1,label,event_time,card\nx,1,2026-01-01,c\n", /* no valid row */
        };
        char diag[1024];
        struct train_table t;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_msg(table_from(&t, bad[i], diag, sizeof(diag)) == -EINVAL, "case %zu", i);
                ck_assert_ptr_null(t.x);
        }
}
END_TEST

/* Writes a simulated history as training CSV; returns the rows written. */
static size_t history_write(const char *path, uint32_t days) {
        struct sim_config c;
        struct sim_event ev;
        struct sim *s;
        size_t rows = 0;
        FILE *f = fopen(path, "w");

        ck_assert_ptr_nonnull(f);
        sim_config_default(&c);
        c.days = days;
        c.customers = 300;
        c.merchants = 60;
        c.fraud_rate = 0.05;
        c.seed = 3;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        fprintf(f, "amount,hour_of_day,channel_ecommerce,channel_card_present,channel_atm,mcc,"
                   "has_device,has_ip,label,event_time,card\n");
        while (sim_next(s, &ev) == 1) {
                const struct sim_transaction *tx = &ev.tx;
                char when[FRAUD_TIME_ISO8601_MAX];

                if (ev.kind != SIM_EVENT_TRANSACTION)
                        continue;
                fraud_time_format_iso8601(tx->time_ms * 1000, when);
                fprintf(f, "%lld,%d,%d,%d,%d,%u,%d,%d,%d,%s,%s\n", (long long)tx->amount_minor,
                        fraud_time_hour_of_day(tx->time_ms * 1000),
                        tx->channel == SIM_CHANNEL_ECOMMERCE,
                        tx->channel == SIM_CHANNEL_CARD_PRESENT, tx->channel == SIM_CHANNEL_ATM,
                        tx->mcc, tx->device_id[0] != '\0', tx->ip[0] != '\0', tx->is_fraud, when,
                        tx->pan);
                rows++;
        }
        fprintf(f, "1,2,3\n"); /* one bad row: counted, not fatal */
        sim_free(s);
        ck_assert_int_eq(fclose(f), 0);
        return rows;
}

static const char *config_text = "trainer:\n"
                                 "  gbdt_rounds: 20\n"
                                 "  gbdt_max_depth: 4\n"
                                 "  mlp_hidden: 8\n"
                                 "  mlp_hidden_layers: 1\n"
                                 "  mlp_epochs: 5\n"
                                 "  band_share: 0.1\n";

static int train_run(const char *csv, const char *out, const char *config, const char *days) {
        char *argv[] = {(char *)"fraudctl train",
                        (char *)"--config",
                        (char *)config,
                        (char *)"--input",
                        (char *)csv,
                        (char *)"--out",
                        (char *)out,
                        (char *)"--holdout-days",
                        (char *)days,
                        (char *)"--version",
                        (char *)"v-test",
                        NULL};

        return train_main(11, argv);
}

static double metric(const struct fraud_modelfile *m, const char *name) {
        for (size_t i = 0; i < m->n_metrics; i++)
                if (!strcmp(m->metrics[i].name, name))
                        return m->metrics[i].value;
        ck_abort_msg("no metric %s", name);
        return NAN;
}

static void model_dir_check(const char *dir, size_t rows) {
        char path[PATH_MAX], err[512];
        struct fraud_modelfile *m = calloc(1, sizeof(*m));
        struct fraud_mlp mlp;
        BoosterHandle b;

        ck_assert_msg(fraud_modelfile_read(m, dir, err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_eq(m->version, "v-test");
        ck_assert_str_eq(m->status, "candidate");
        ck_assert_uint_eq(m->n_features, 8);
        ck_assert_str_eq(m->feature_names[0], "amount");
        ck_assert_str_eq(m->feature_names[7], "has_ip");
        ck_assert(m->band_low <= m->block_threshold && m->block_threshold <= m->band_high);
        ck_assert_double_eq(m->review_threshold, m->band_low);
        ck_assert_double_eq(metric(m, "train_rows") + metric(m, "holdout_rows"), (double)rows);
        ck_assert_double_eq(metric(m, "rows_rejected"), 1);
        ck_assert_msg(metric(m, "gbdt_auc_roc") > 0.7, "auc %f", metric(m, "gbdt_auc_roc"));
        ck_assert(m->has_mlp);
        in_root(path, "model/gbdt.json");
        ck_assert_msg(fit_gbdt_load(path, 1, &b, err, sizeof(err)) == 0, "%s", err);
        fit_gbdt_free(b);
        in_root(path, "model/mlp.bin");
        ck_assert_int_eq(fraud_mlp_load(&mlp, path), 0);
        ck_assert_uint_eq(mlp.sizes[0], 8);
        fraud_mlp_release(&mlp);
        free(m);
}

/* The temporary root with the settings file written; the paths in it. */
static void run_setup(char *csv, char *out, char *config) {
        FILE *f;

        root_make();
        in_root(csv, "history.csv");
        in_root(out, "model");
        in_root(config, "fraud.yaml");
        f = fopen(config, "w");
        ck_assert_ptr_nonnull(f);
        fputs(config_text, f);
        ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_train_end_to_end_writes_model_dir_that_loads) {
        char csv[PATH_MAX], out[PATH_MAX], config[PATH_MAX];
        size_t rows;

        run_setup(csv, out, config);
        rows = history_write(csv, 12);
        ck_assert_int_eq(train_run(csv, out, config, "3"), 0);
        model_dir_check(out, rows);
        root_remove();
}
END_TEST

/* The whole file, malloc'd; *n its size. */
static char *file_slurp(const char *path, size_t *n) {
        FILE *f = fopen(path, "rb");
        char *buf;
        long size;

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        rewind(f);
        buf = malloc((size_t)size + 1);
        ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        *n = (size_t)size;
        return buf;
}

START_TEST(test_train_same_input_gives_identical_model_files) {
        const char *files[] = {"gbdt.json", "mlp.bin", "model.yaml"};
        char csv[PATH_MAX], out[PATH_MAX], config[PATH_MAX], again[PATH_MAX];

        run_setup(csv, out, config);
        in_root(again, "again");
        history_write(csv, 8);
        ck_assert_int_eq(train_run(csv, out, config, "2"), 0);
        ck_assert_int_eq(train_run(csv, again, config, "2"), 0);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char a[PATH_MAX + 16], b[PATH_MAX + 16];
                size_t na, nb;
                char *x, *y;

                snprintf(a, sizeof(a), "%s/%s", out, files[i]);
                snprintf(b, sizeof(b), "%s/%s", again, files[i]);
                x = file_slurp(a, &na);
                y = file_slurp(b, &nb);
                ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s differs", files[i]);
                free(x);
                free(y);
        }
        root_remove();
}
END_TEST

START_TEST(test_train_refuses_holdout_without_training_days) {
        char csv[PATH_MAX], out[PATH_MAX], config[PATH_MAX];
        struct stat st;

        run_setup(csv, out, config);
        history_write(csv, 3);
        ck_assert_int_eq(train_run(csv, out, config, "3"), 65); /* EX_DATAERR */
        ck_assert_int_eq(stat(out, &st), -1);                   /* nothing written */
        ck_assert_int_eq(train_run(csv, out, config, "0"), 64); /* EX_USAGE */
        root_remove();
}
END_TEST

TESTING_MAIN("train", test_train_table_keeps_valid_rows_and_counts_bad_ones,
             test_train_table_refuses_bad_headers,
             test_train_end_to_end_writes_model_dir_that_loads,
             test_train_same_input_gives_identical_model_files,
             test_train_refuses_holdout_without_training_days)
