/* test_offline.c: tests of tools/offline.c (the offline driver), and of
 * `fraudctl features` and `fraudctl evaluate` around it.
 *
 * A small simulated history (tools/generate.h) is written to a mkdtemp
 * directory and read back through the driver.  The checks that could fail:
 * one vector per transaction, in file order; card and terminal counts and
 * card amount sums equal a brute-force recomputation from the simulator's
 * own events with the window convention (t - w, t]; every vector equals
 * the velocity core's fed directly in the simulator's event order, each
 * payment as its tx.raw JSON (the Kafka path), so the driver's ordering
 * of chargebacks and its CSV reading change nothing; the label is 1 exactly
 * when the simulator's chargeback arrived before the cutoff (so frauds not
 * yet charged back are 0 and the truth column plays no part); a bad line
 * is counted and reported as FILE:LINE; the header of `fraudctl features`
 * is the feature schema; and features -> train -> evaluate runs end to
 * end and prints an average precision in [0, 1].
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/featureset.h"
#include "common/schema.h"
#include "ingest/mapping.h"
#include "lib/time.h"
#include "tools/evaluate_cmd.h"
#include "tools/featurize.h"
#include "tools/generate.h"
#include "tools/offline.h"
#include "tools/sim.h"
#include "tools/train.h"
#include "velocity/entities.h"
#include "velocity/features.h"

#include "tests/testing.h"

#define KEY_HEX    "000102030405060708090a0b0c0d0e0f"
#define DAYS       20
#define CUSTOMERS  800
#define MERCHANTS  80
#define FRAUD_RATE 0.03
#define DAY_US     FRAUD_USEC_PER_DAY

static char root[PATH_MAX];
static char tx_path[PATH_MAX], cb_path[PATH_MAX];

static void in_root(char *out, const char *name) {
        ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", root, name), PATH_MAX);
}

static void sim_config_test(struct sim_config *c) {
        sim_config_default(c);
        c->days = DAYS;
        c->customers = CUSTOMERS;
        c->merchants = MERCHANTS;
        c->fraud_rate = FRAUD_RATE;
        c->seed = 7;
}

/* Writes the history into a fresh directory. */
static void setup(void) {
        const char *tmp = getenv("TMPDIR");
        struct generate_options o;
        struct generate_summary sum;
        char err[512];

        snprintf(root, sizeof(root), "%s/fraud-offline-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(root));
        generate_options_default(&o);
        sim_config_test(&o.sim);
        o.out_dir = root;
        ck_assert_int_eq(generate_files(&o, &sum, err, sizeof(err)), 0);
        ck_assert_uint_gt(sum.chargebacks, 0);
        in_root(tx_path, "transactions.csv");
        in_root(cb_path, "chargebacks.csv");
}

static void teardown(void) {
        ck_assert_int_eq(testing_tree_remove(root), 0);
}

/* ---- the simulator's own view ---- */

struct truth_tx {
        char id[SIM_ID_MAX], pan[SIM_PAN_LEN + 1], terminal[SIM_ID_MAX];
        int64_t t_us, eur_cents, cb_arrival_us; /* INT64_MAX: never charged back */
        bool is_fraud;
};

static int by_id(const void *a, const void *b) {
        return strcmp(((const struct truth_tx *)a)->id, ((const struct truth_tx *)b)->id);
}

/* Every transaction of the test's world in order, with its chargeback. */
static struct truth_tx *truth_read(size_t *n) {
        struct sim_config c;
        struct sim_event ev;
        struct sim *s;
        struct truth_tx *v = NULL, *sorted, key;
        size_t cap = 0;

        sim_config_test(&c);
        ck_assert_int_eq(sim_new(&c, &s), 0);
        *n = 0;
        while (sim_next(s, &ev) == 1) {
                if (ev.kind != SIM_EVENT_TRANSACTION)
                        continue;
                if (*n == cap) {
                        cap = cap ? 2 * cap : 4096;
                        ck_assert_ptr_nonnull(v = realloc(v, cap * sizeof(*v)));
                }
                struct truth_tx *t = &v[(*n)++];
                memset(t, 0, sizeof(*t));
                snprintf(t->id, sizeof(t->id), "%s", ev.tx.transaction_id);
                snprintf(t->pan, sizeof(t->pan), "%s", ev.tx.pan);
                snprintf(t->terminal, sizeof(t->terminal), "%s", ev.tx.terminal_id);
                t->t_us = ev.tx.time_ms * 1000;
                ck_assert_int_eq(
                        features_currency_to_ref(ev.tx.currency, ev.tx.amount_minor, &t->eur_cents),
                        0);
                t->cb_arrival_us = INT64_MAX;
                t->is_fraud = ev.tx.is_fraud;
        }
        sim_free(s);
        /* the chargebacks, by a second pass (they come after their payment) */
        ck_assert_ptr_nonnull(sorted = malloc(*n * sizeof(*sorted)));
        memcpy(sorted, v, *n * sizeof(*sorted));
        qsort(sorted, *n, sizeof(*sorted), by_id);
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (sim_next(s, &ev) == 1) {
                struct truth_tx *hit;
                if (ev.kind != SIM_EVENT_CHARGEBACK)
                        continue;
                snprintf(key.id, sizeof(key.id), "%s", ev.cb.transaction_id);
                hit = bsearch(&key, sorted, *n, sizeof(*sorted), by_id);
                ck_assert_ptr_nonnull(hit);
                if (ev.cb.time_ms * 1000 < hit->cb_arrival_us)
                        hit->cb_arrival_us = ev.cb.time_ms * 1000;
        }
        sim_free(s);
        for (size_t i = 0; i < *n; i++) {
                snprintf(key.id, sizeof(key.id), "%s", v[i].id);
                v[i].cb_arrival_us =
                        ((struct truth_tx *)bsearch(&key, sorted, *n, sizeof(*sorted), by_id))
                                ->cb_arrival_us;
        }
        free(sorted);
        return v;
}

/* ---- rows through the driver ---- */

struct kept {
        size_t n, cap, width;
        char (*id)[SIM_ID_MAX];
        double *x;
        uint8_t *label;
        int8_t *is_fraud;
};

static int keep(void *opaque, const struct offline_row *row) {
        struct kept *k = opaque;

        if (k->n == k->cap) {
                k->cap = k->cap ? 2 * k->cap : 4096;
                k->id = realloc(k->id, k->cap * sizeof(*k->id));
                k->x = realloc(k->x, k->cap * row->n_values * sizeof(double));
                k->label = realloc(k->label, k->cap);
                k->is_fraud = realloc(k->is_fraud, k->cap);
                if (!k->id || !k->x || !k->label || !k->is_fraud)
                        return -ENOMEM;
        }
        k->width = row->n_values;
        snprintf(k->id[k->n], SIM_ID_MAX, "%s", row->tx->transaction_id);
        memcpy(k->x + k->n * k->width, row->values, k->width * sizeof(double));
        k->label[k->n] = row->label;
        k->is_fraud[k->n] = (int8_t)row->is_fraud;
        k->n++;
        return 0;
}

static void kept_release(struct kept *k) {
        free(k->id);
        free(k->x);
        free(k->label);
        free(k->is_fraud);
}

static struct fraud_settings settings;
static struct normalize_key key;

static int drive(struct kept *k, int64_t until, int64_t cutoff, FILE *diag,
                 struct offline_counts *counts) {
        struct offline_options o = {
                .transactions = tx_path,
                .chargebacks = cb_path,
                .key = &key,
                .settings = &settings,
                .until_us = until,
                .label_cutoff_us = cutoff,
                .diag = diag,
        };
        char err[OFFLINE_ERR_MAX];

        ck_assert_int_eq(fraud_settings_load(&settings, NULL, err, sizeof(err)), 0);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
        memset(k, 0, sizeof(*k));
        return offline_run(&o, keep, k, counts, err, sizeof(err));
}

START_TEST(test_offline_card_and_terminal_windows_match_brute_force) {
        struct features_config *cfg = malloc(sizeof(*cfg));
        struct offline_counts counts;
        struct truth_tx *t;
        struct kept k;
        size_t n, checked = 0;
        char err[256];

        setup();
        t = truth_read(&n);
        ck_assert_int_eq(drive(&k, OFFLINE_TIME_ALL, OFFLINE_TIME_ALL, stderr, &counts), 0);
        ck_assert_int_eq(offline_features_config(&settings, cfg, err, sizeof(err)), 0);
        ck_assert_uint_eq(k.n, n); /* one vector per valid transaction */
        ck_assert_uint_eq(counts.tx_rejected, 0);
        ck_assert_uint_eq(k.width, cfg->fs.n);
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_eq(k.id[i], t[i].id);
                for (size_t s = 0; s < cfg->fs.n_spans; s++) {
                        int64_t w = cfg->spans_us[s], count = 0, sum = 0, term = 0;
                        const double *x = k.x + i * k.width;
                        for (size_t j = i + 1; j-- > 0 && t[i].t_us - t[j].t_us < DAY_US * 31;) {
                                bool in = t[j].t_us > t[i].t_us - w && t[j].t_us <= t[i].t_us;
                                bool card = !strcmp(t[j].pan, t[i].pan);
                                count += in && card;
                                sum += in && card ? t[j].eur_cents : 0;
                                term += in && !strcmp(t[j].terminal, t[i].terminal);
                        }
                        ck_assert_int_eq((int64_t)x[fraud_featureset_stat_index(
                                                 &cfg->fs, FRAUD_FEATURESET_CARD,
                                                 FRAUD_FEATURESET_COUNT, s)],
                                         count);
                        ck_assert_int_eq((int64_t)x[fraud_featureset_stat_index(
                                                 &cfg->fs, FRAUD_FEATURESET_CARD,
                                                 FRAUD_FEATURESET_AMOUNT_SUM, s)],
                                         sum);
                        ck_assert_int_eq((int64_t)x[fraud_featureset_stat_index(
                                                 &cfg->fs, FRAUD_FEATURESET_TERMINAL,
                                                 FRAUD_FEATURESET_COUNT, s)],
                                         term);
                }
                checked++;
                if (i > 2000)
                        i += 7; /* a sample of the rest keeps the test quick */
        }
        ck_assert_uint_gt(checked, 2000);
        kept_release(&k);
        free(t);
        free(cfg);
        teardown();
}
END_TEST

/* The velocity core fed directly, in the simulator's own event order (the
 * order `fraudctl generate --publish` interleaves them on Kafka), each
 * transaction as its tx.raw JSON through ingest: the vector of every
 * transaction must equal the driver's, value for value. */
struct direct {
        struct features_config cfg;
        struct entities *entities;
        struct window_scratch scratch;
        struct mapping mapping;
        struct mapping_scratch ms;
        struct normalize_tx tx;
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        char buf[FRAUD_GENERATE_LINE_MAX];
};

static void direct_tx(struct direct *d, const struct sim_transaction *st) {
        struct window *w[FRAUD_FEATURESET_ENTITIES] = {NULL};
        struct normalize_rejection rej;
        struct features_ids ids;
        struct features_tx ft;
        const char *why;
        uint64_t truncated = 0;
        size_t len = generate_transaction_json(st, false, d->buf) - 1;

        ck_assert_int_eq(mapping_json_input(&d->mapping, d->buf, len, &d->ms, &rej), 0);
        ck_assert_int_eq(normalize_record(&d->ms.input, &key, &d->tx, &rej), 0);
        ck_assert_int_eq(features_tx_from_proto(&d->tx.msg, &ft, &ids, &why), 0);
        for (int e = 0; e < FRAUD_FEATURESET_ENTITIES; e++)
                if (ids.len[e])
                        ck_assert_int_eq(entities_get(d->entities, e, ids.id[e], ids.len[e], &w[e]),
                                         0);
        ck_assert_int_eq(features_compute(&d->cfg, &ft, w, &d->scratch, d->values, &truncated), 0);
}

static void direct_cb(struct direct *d, struct sim_chargeback *cb) {
        Fraud__Chargeback m = FRAUD__CHARGEBACK__INIT;
        struct window_chargeback wc;
        struct window *w;
        const char *id, *why;
        size_t id_len;

        m.schema_version = CHARGEBACK_SCHEMA_VERSION;
        m.transaction_id = cb->transaction_id;
        m.event_time_us = cb->time_ms * 1000;
        m.transaction_time_us = cb->transaction_time_ms * 1000;
        m.kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK;
        m.merchant_id = cb->merchant_id;
        m.terminal_id = cb->terminal_id;
        ck_assert_int_eq(features_chargeback_from_proto(&m, &wc, &id, &id_len, &why), 0);
        ck_assert_int_eq(entities_get(d->entities, FRAUD_FEATURESET_TERMINAL, id, id_len, &w), 0);
        ck_assert_int_ge(window_chargeback_add(w, &wc), -ENOENT);
}

START_TEST(test_offline_vectors_equal_velocity_core_fed_directly) {
        struct direct *d = calloc(1, sizeof(*d));
        struct offline_counts counts;
        struct sim_config c;
        struct sim_event ev;
        struct sim *s;
        struct kept k;
        size_t i = 0, labelled_features = 0;
        char err[256];

        setup();
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(drive(&k, OFFLINE_TIME_ALL, OFFLINE_TIME_ALL, stderr, &counts), 0);
        ck_assert_int_eq(offline_features_config(&settings, &d->cfg, err, sizeof(err)), 0);
        ck_assert_int_eq(window_scratch_init(&d->scratch, d->cfg.limits[0].events_max), 0);
        ck_assert_int_eq(entities_new(NULL, 1u << 20, 1u << 26, &d->entities), 0);
        mapping_init_default(&d->mapping);
        sim_config_test(&c);
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (sim_next(s, &ev) == 1) {
                if (ev.kind == SIM_EVENT_CHARGEBACK) {
                        direct_cb(d, &ev.cb);
                        continue;
                }
                direct_tx(d, &ev.tx);
                ck_assert_uint_lt(i, k.n);
                ck_assert_str_eq(k.id[i], ev.tx.transaction_id);
                for (size_t f = 0; f < k.width; f++)
                        ck_assert_double_eq(k.x[i * k.width + f], d->values[f]);
                labelled_features +=
                        d->values[fraud_featureset_scalar_index(
                                &d->cfg.fs, FRAUD_FEATURESET_TERMINAL_LABEL_FRAUD)] > 0;
                i++;
        }
        ck_assert_uint_eq(i, k.n);
        ck_assert_uint_gt(labelled_features, 0); /* the chargebacks reached the features */
        sim_free(s);
        entities_free(d->entities);
        window_scratch_release(&d->scratch);
        free(d);
        kept_release(&k);
        teardown();
}
END_TEST

START_TEST(test_offline_label_is_chargeback_before_cutoff_never_truth) {
        int64_t start = 0, cutoff, until;
        struct offline_counts counts;
        size_t n, fraud_unlabelled = 0, labelled = 0;
        struct truth_tx *t;
        struct kept k;

        setup();
        t = truth_read(&n);
        ck_assert_int_eq(offline_day_parse("2026-01-01", &start), 0);
        until = start + 15 * DAY_US;
        cutoff = start + 12 * DAY_US;
        ck_assert_int_eq(drive(&k, until, cutoff, stderr, &counts), 0);
        ck_assert_uint_gt(k.n, 0);
        for (size_t i = 0; i < n; i++) {
                if (t[i].t_us >= until) {
                        ck_assert_uint_eq(k.n, i); /* stopped at the first one past until */
                        break;
                }
                ck_assert_str_eq(k.id[i], t[i].id);
                ck_assert_int_eq(k.label[i], t[i].cb_arrival_us < cutoff);
                ck_assert_int_eq(k.is_fraud[i], t[i].is_fraud);
                fraud_unlabelled += t[i].is_fraud && !k.label[i];
                labelled += k.label[i];
        }
        ck_assert_uint_gt(labelled, 0);
        ck_assert_uint_gt(fraud_unlabelled, 0); /* frauds not charged back yet: 0 */
        ck_assert_uint_eq(counts.rows_labelled, labelled);
        kept_release(&k);
        free(t);
        teardown();
}
END_TEST

/* Replaces line number line_no (1: the header) of path with text. */
static void line_replace(const char *path, size_t line_no, const char *text) {
        FILE *in = fopen(path, "r"), *out;
        char tmp[PATH_MAX], buf[FRAUD_GENERATE_LINE_MAX + 2];
        size_t at = 0;

        ck_assert_ptr_nonnull(in);
        in_root(tmp, "edit.tmp");
        ck_assert_ptr_nonnull(out = fopen(tmp, "w"));
        while (fgets(buf, sizeof(buf), in))
                fputs(++at == line_no ? text : buf, out);
        fclose(in);
        ck_assert_int_eq(fclose(out), 0);
        ck_assert_int_eq(rename(tmp, path), 0);
}

START_TEST(test_offline_bad_lines_counted_with_file_and_line) {
        char diag[4096] = "", want[PATH_MAX + 64];
        struct offline_counts counts;
        struct truth_tx *t;
        struct kept k;
        FILE *d;
        size_t n;

        setup();
        t = truth_read(&n);
        line_replace(tx_path, 5,
                     "tx_bad_1,2026-01-01T01:00:00.000Z,10.00,EUR,4111111111111112,"
                     "C1,M1,M1-01,5411,FR,card_present,,,0,legit\n");
        line_replace(cb_path, 2, "cb_bad,tx_x,not-a-time,2026-01-01,1.00,EUR,10.4,M1,M1-01\n");
        ck_assert_ptr_nonnull(d = fmemopen(diag, sizeof(diag), "w"));
        ck_assert_int_eq(drive(&k, OFFLINE_TIME_ALL, OFFLINE_TIME_ALL, d, &counts), 0);
        fclose(d);
        ck_assert_uint_eq(counts.tx_rejected, 1);
        ck_assert_uint_eq(counts.tx_by_reason[NORMALIZE_PAN_CHECKSUM], 1);
        ck_assert_uint_eq(counts.cb_rejected, 1);
        ck_assert_uint_eq(k.n, n - 1);
        snprintf(want, sizeof(want), "%s:5: rejected: pan_checksum", tx_path);
        ck_assert_ptr_nonnull(strstr(diag, want));
        snprintf(want, sizeof(want), "%s:2: rejected: bad_timestamp", cb_path);
        ck_assert_ptr_nonnull(strstr(diag, want));
        ck_assert_ptr_null(strstr(diag, "4111111111111112")); /* never the card number */
        kept_release(&k);
        free(t);
        teardown();
}
END_TEST

static const char *config_text = "trainer:\n"
                                 "  gbdt_rounds: 20\n"
                                 "  gbdt_max_depth: 4\n"
                                 "  mlp_hidden: 8\n"
                                 "  mlp_hidden_layers: 1\n"
                                 "  mlp_epochs: 3\n"
                                 "  holdout_days: 4\n";

/* Runs main(argc, argv) with stdout into the file at out; its status. */
static int run_captured(int (*main_fn)(int, char **), char **argv, const char *out) {
        int argc = 0, fd, saved, status;

        while (argv[argc])
                argc++;
        fflush(stdout);
        ck_assert_int_ge(fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
        ck_assert_int_ge(saved = dup(STDOUT_FILENO), 0);
        ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
        close(fd);
        status = main_fn(argc, argv);
        fflush(stdout);
        ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
        close(saved);
        return status;
}

static char *file_text(const char *path) {
        FILE *f = fopen(path, "r");
        char *text = calloc(1, 1 << 20);

        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(text);
        fread(text, 1, (1 << 20) - 1, f);
        fclose(f);
        return text;
}

/* The header `fraudctl features` wrote is label,event_time,card and the
 * schema's names. */
static void header_check(const char *rows) {
        struct features_config *cfg = malloc(sizeof(*cfg));
        char err[256], *text = file_text(rows), *p = text;

        ck_assert_int_eq(fraud_settings_load(&settings, NULL, err, sizeof(err)), 0);
        ck_assert_int_eq(offline_features_config(&settings, cfg, err, sizeof(err)), 0);
        ck_assert_int_eq(strncmp(p, "label,event_time,card,", 22), 0);
        p += 22;
        for (size_t i = 0; i < cfg->fs.n; i++) {
                size_t len = strlen(cfg->fs.names[i]);
                ck_assert_int_eq(strncmp(p, cfg->fs.names[i], len), 0);
                ck_assert_int_eq(p[len], i + 1 < cfg->fs.n ? ',' : '\n');
                p += len + 1;
        }
        free(text);
        free(cfg);
}

START_TEST(test_offline_features_train_evaluate_end_to_end) {
        char rows[PATH_MAX], model[PATH_MAX], config[PATH_MAX], out[PATH_MAX];
        char *text, *all;
        double ap = -1;
        FILE *f;

        setup();
        in_root(rows, "rows.csv");
        in_root(model, "model");
        in_root(config, "fraud.yaml");
        in_root(out, "stdout.txt");
        ck_assert_ptr_nonnull(f = fopen(config, "w"));
        fputs(config_text, f);
        ck_assert_int_eq(fclose(f), 0);
        char *features[] = {(char *)"fraudctl features",
                            (char *)"--config",
                            config,
                            (char *)"--transactions",
                            tx_path,
                            (char *)"--chargebacks",
                            cb_path,
                            (char *)"--out",
                            rows,
                            (char *)"--card-hash-key",
                            (char *)KEY_HEX,
                            NULL};
        ck_assert_int_eq(run_captured(featurize_main, features, out), 0);
        header_check(rows);
        char *train[] = {(char *)"fraudctl train",
                         (char *)"--config",
                         config,
                         (char *)"--input",
                         rows,
                         (char *)"--out",
                         model,
                         NULL};
        ck_assert_int_eq(run_captured(train_main, train, out), 0);
        char *evaluate[] = {(char *)"fraudctl evaluate",
                            (char *)"--config",
                            config,
                            (char *)"--model",
                            model,
                            (char *)"--transactions",
                            tx_path,
                            (char *)"--chargebacks",
                            cb_path,
                            (char *)"--from",
                            (char *)"2026-01-15",
                            (char *)"--card-hash-key",
                            (char *)KEY_HEX,
                            NULL};
        ck_assert_int_eq(run_captured(evaluate_cmd_main, evaluate, out), 0);
        text = file_text(out);
        ck_assert_ptr_nonnull(all = strstr(text, "\nall "));
        ck_assert_int_eq(sscanf(all, " all %*u %lf", &ap), 1);
        ck_assert(ap >= 0.0 && ap <= 1.0);
        ck_assert_ptr_nonnull(strstr(text, "decided by: rules"));
        ck_assert_ptr_nonnull(strstr(text, "stolen_card"));
        free(text);
        teardown();
}
END_TEST

TESTING_MAIN("offline", test_offline_card_and_terminal_windows_match_brute_force,
             test_offline_vectors_equal_velocity_core_fed_directly,
             test_offline_label_is_chargeback_before_cutoff_never_truth,
             test_offline_bad_lines_counted_with_file_and_line,
             test_offline_features_train_evaluate_end_to_end)
