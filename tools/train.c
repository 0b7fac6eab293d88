/* train.c: `fraudctl train` (see train.h for the input, the split, the
 * thresholds and the output).
 *
 * Design.  This file is the I/O around the trainer's pure modules: it
 * reads the CSV into a struct train_table, cuts it by time into two
 * struct part (training, holdout; rows copied, file order kept), hands the
 * training part to trainer/fit.c, scores the holdout, asks
 * trainer/evaluate.c for metrics, threshold and band, and writes the model
 * directory.  The stage-5 daemon will do the same from labels instead of a
 * file, with the same fit and evaluate calls.
 *
 * Failure: nothing is written to DIR until both models are trained and
 * evaluated; gbdt.json and mlp.bin are written before model.yaml, so a
 * model.yaml always describes complete artifacts.  A failed run may leave
 * gbdt.json or mlp.bin without model.yaml, which no reader takes for a
 * model.
 */
#include "tools/train.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/featureset.h"
#include "lib/bounds.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "trainer/evaluate.h"
#include "trainer/fit.h"

#define TRAIN_ERR_MAX    (PATH_MAX + 512) /* bytes of an error message (a path and why) */
#define TRAIN_ROWS_FIRST 4096             /* rows allocated before the table first grows */
#define TRAIN_PATH_MAX   PATH_MAX

/* ------------------------------------------------------------------ */
/* Reading the CSV                                                      */
/* ------------------------------------------------------------------ */

/* Where the three special columns are; -1 until the header names them. */
struct layout {
        long label, event_time, card;
        size_t n_columns;
        long *feature_of; /* column -> feature index, or -1 for a special column */
};

/* Formats the reason into err; returns -EINVAL. */
static int invalid(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int invalid(char *err, size_t err_size, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Splits line (modified in place) at commas into at most max fields;
 * returns the count, or max + 1 when there are more. */
static size_t fields_split(char *line, char **fields, size_t max) {
        size_t n = 0;

        for (char *p = line;; p++) {
                if (n == max)
                        return max + 1;
                fields[n++] = p;
                p = strchr(p, ',');
                if (!p)
                        return n;
                *p = '\0';
        }
}

static void line_chomp(char *line) {
        size_t n = strlen(line);

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
}

static int header_column(struct train_table *t, struct layout *lay, size_t col, const char *name,
                         char *err, size_t err_size) {
        long *special = !strcmp(name, "label")        ? &lay->label
                        : !strcmp(name, "event_time") ? &lay->event_time
                        : !strcmp(name, "card")       ? &lay->card
                                                      : NULL;

        lay->feature_of[col] = -1;
        if (special) {
                if (*special >= 0)
                        return invalid(err, err_size, "header: column '%s' twice", name);
                *special = (long)col;
                return 0;
        }
        if (name[0] == '\0' || strlen(name) >= FRAUD_MODELFILE_NAME_MAX)
                return invalid(err, err_size, "header: column %zu: empty or longer than %d bytes",
                               col + 1, FRAUD_MODELFILE_NAME_MAX - 1);
        for (size_t f = 0; f < t->n_features; f++)
                if (!strcmp(t->names[f], name))
                        return invalid(err, err_size, "header: feature '%s' twice", name);
        if (t->n_features == FRAUD_MODELFILE_FEATURES_MAX)
                return invalid(err, err_size, "header: more than %d features",
                               FRAUD_MODELFILE_FEATURES_MAX);
        strcpy(t->names[t->n_features], name);
        lay->feature_of[col] = (long)t->n_features++;
        return 0;
}

static int header_parse(struct train_table *t, struct layout *lay, char *line, char *err,
                        size_t err_size) {
        char *fields[FRAUD_MODELFILE_FEATURES_MAX + 3];
        size_t n = fields_split(line, fields, FRAUD_MODELFILE_FEATURES_MAX + 3);
        int r = 0;

        if (n > FRAUD_MODELFILE_FEATURES_MAX + 3)
                return invalid(err, err_size, "header: more than %d features",
                               FRAUD_MODELFILE_FEATURES_MAX);
        t->names = calloc(n, sizeof(*t->names));
        lay->feature_of = calloc(n, sizeof(long));
        if (!t->names || !lay->feature_of)
                return -ENOMEM;
        lay->n_columns = n;
        for (size_t c = 0; r == 0 && c < n; c++)
                r = header_column(t, lay, c, fields[c], err, err_size);
        if (r == 0 && (lay->label < 0 || lay->event_time < 0 || lay->card < 0 || !t->n_features))
                r = invalid(err, err_size,
                            "header: needs columns label, event_time, card and "
                            "at least one feature");
        return r;
}

static int table_grow(struct train_table *t) {
        size_t cap = t->capacity ? 2 * t->capacity : TRAIN_ROWS_FIRST;
        void *p;

        if (t->n_rows < t->capacity)
                return 0;
        if (t->n_rows >= FRAUD_TRAIN_ROWS_MAX)
                return -E2BIG;
        if (cap > FRAUD_TRAIN_ROWS_MAX)
                cap = FRAUD_TRAIN_ROWS_MAX;
        if (!(p = realloc(t->x, cap * t->n_features * sizeof(double))))
                return -ENOMEM;
        t->x = p;
        if (!(p = realloc(t->label, cap)))
                return -ENOMEM;
        t->label = p;
        if (!(p = realloc(t->time_us, cap * sizeof(int64_t))))
                return -ENOMEM;
        t->time_us = p;
        if (!(p = realloc(t->card, cap * sizeof(uint64_t))))
                return -ENOMEM;
        t->card = p;
        t->capacity = cap;
        return 0;
}

static bool number_parse(const char *s, double *out) {
        char *end;

        if (s[0] == '\0' || isspace((unsigned char)s[0]))
                return false;
        errno = 0;
        *out = strtod(s, &end);
        return errno == 0 && *end == '\0' && isfinite(*out);
}

/* Parses one data line into row t->n_rows (space ensured by the caller);
 * on a bad row returns false with the reason in why. */
static bool row_parse(struct train_table *t, const struct layout *lay, char *line, const char **why,
                      const char **what) {
        char *fields[FRAUD_MODELFILE_FEATURES_MAX + 3];
        size_t n = fields_split(line, fields, lay->n_columns), row = t->n_rows;
        double *x = t->x + row * t->n_features;

        *what = "";
        *why = "wrong number of fields";
        if (n != lay->n_columns)
                return false;
        for (size_t c = 0; c < n; c++) {
                *what = fields[c];
                *why = "not a finite number";
                if (lay->feature_of[c] >= 0 && !number_parse(fields[c], &x[lay->feature_of[c]]))
                        return false;
        }
        *what = fields[lay->label];
        *why = "label is not 0 or 1";
        if (strcmp(*what, "0") != 0 && strcmp(*what, "1") != 0)
                return false;
        t->label[row] = (*what)[0] == '1';
        *what = fields[lay->event_time];
        *why = "event_time is not ISO 8601";
        if (fraud_time_parse_iso8601(*what, &t->time_us[row]) < 0)
                return false;
        *what = fields[lay->card];
        *why = "card is empty";
        if ((*what)[0] == '\0')
                return false;
        t->card[row] = fraud_hash_fnv1a_str(*what);
        return true;
}

static void row_reject(struct train_table *t, FILE *diag, const char *name, size_t line_no,
                       const char *why, const char *what) {
        if (diag && t->rows_rejected < FRAUD_TRAIN_BAD_ROWS_SHOWN)
                fprintf(diag, "%s:%zu: rejected: %s%s%.40s%s\n", name, line_no, why,
                        what[0] ? " ('" : "", what, what[0] ? "')" : "");
        t->rows_rejected++;
}

/* Skips the rest of an over-long line. */
static void line_skip(FILE *in) {
        int c;

        while ((c = getc(in)) != EOF && c != '\n')
                ;
}

static int rows_read(struct train_table *t, const struct layout *lay, FILE *in, const char *name,
                     FILE *diag, char *line) {
        const char *why, *what;
        size_t line_no = 1;
        int r;

        while (fgets(line, FRAUD_TRAIN_LINE_MAX, in)) {
                bool whole = strchr(line, '\n') || feof(in);

                line_no++;
                if (!whole) {
                        line_skip(in);
                        row_reject(t, diag, name, line_no, "line too long", "");
                        continue;
                }
                line_chomp(line);
                if (line[0] == '\0')
                        continue;
                if ((r = table_grow(t)) < 0)
                        return r;
                if (row_parse(t, lay, line, &why, &what))
                        t->n_rows++;
                else
                        row_reject(t, diag, name, line_no, why, what);
        }
        return ferror(in) ? -EIO : 0;
}

int train_table_read(struct train_table *t, FILE *in, const char *name, FILE *diag, char *err,
                     size_t err_size) {
        struct layout lay = {.label = -1, .event_time = -1, .card = -1};
        char *line = malloc(FRAUD_TRAIN_LINE_MAX);
        int r = 0;

        memset(t, 0, sizeof(*t));
        snprintf(err, err_size, "%s: out of memory", name);
        if (!line)
                return -ENOMEM;
        if (!fgets(line, FRAUD_TRAIN_LINE_MAX, in) || !strchr(line, '\n')) {
                snprintf(err, err_size, "%s: no header line, or one over %d bytes", name,
                         FRAUD_TRAIN_LINE_MAX - 1);
                r = ferror(in) ? -EIO : -EINVAL;
        }
        if (r == 0) {
                line_chomp(line);
                r = header_parse(t, &lay, line, err, err_size);
        }
        if (r == 0 && (r = rows_read(t, &lay, in, name, diag, line)) < 0)
                snprintf(err, err_size, "%s: %s", name,
                         r == -E2BIG ? "more rows than FRAUD_TRAIN_ROWS_MAX" : strerror(-r));
        if (r == 0 && t->n_rows == 0) {
                snprintf(err, err_size, "%s: no valid row", name);
                r = -EINVAL;
        }
        free(lay.feature_of);
        free(line);
        if (r < 0)
                train_table_release(t);
        return r;
}

void train_table_release(struct train_table *t) {
        free(t->names);
        free(t->x);
        free(t->label);
        free(t->time_us);
        free(t->card);
        memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* The time split                                                       */
/* ------------------------------------------------------------------ */

/* Rows of the table, copied; arrays owned. */
struct part {
        size_t n, frauds;
        double *x;
        uint8_t *label;
        int64_t *time_us;
        uint64_t *card;
        int64_t first_us, last_us;
};

static void part_release(struct part *p) {
        free(p->x);
        free(p->label);
        free(p->time_us);
        free(p->card);
        memset(p, 0, sizeof(*p));
}

/* Copies the rows whose day is (holdout ? after : at or before) cut_day. */
static int part_take(struct part *p, const struct train_table *t, int64_t cut_day, bool holdout) {
        size_t k = 0, d = t->n_features;

        memset(p, 0, sizeof(*p));
        for (size_t i = 0; i < t->n_rows; i++)
                p->n += (fraud_time_day_index(t->time_us[i]) > cut_day) == holdout;
        p->x = malloc((p->n ? p->n : 1) * d * sizeof(double));
        p->label = malloc(p->n ? p->n : 1);
        p->time_us = malloc((p->n ? p->n : 1) * sizeof(int64_t));
        p->card = malloc((p->n ? p->n : 1) * sizeof(uint64_t));
        if (!p->x || !p->label || !p->time_us || !p->card) {
                part_release(p);
                return -ENOMEM;
        }
        p->first_us = INT64_MAX;
        p->last_us = INT64_MIN;
        for (size_t i = 0; i < t->n_rows; i++) {
                if ((fraud_time_day_index(t->time_us[i]) > cut_day) != holdout)
                        continue;
                memcpy(p->x + k * d, t->x + i * d, d * sizeof(double));
                p->label[k] = t->label[i];
                p->time_us[k] = t->time_us[i];
                p->card[k] = t->card[i];
                p->frauds += t->label[i];
                p->first_us = t->time_us[i] < p->first_us ? t->time_us[i] : p->first_us;
                p->last_us = t->time_us[i] > p->last_us ? t->time_us[i] : p->last_us;
                k++;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* One run                                                              */
/* ------------------------------------------------------------------ */

static const char *const model_names[EVALUATE_MODELS] = {"gbdt", "mlp", "cascade"};

struct run {
        const struct fraud_settings *settings; /* borrowed */
        const char *input, *out_dir, *version, *parent;
        int64_t holdout_days;
        struct train_table table;
        struct part train, holdout;
        BoosterHandle gbdt;
        struct fraud_mlp mlp;
        struct fit_report gbdt_report, mlp_report;
        double *p[EVALUATE_MODELS]; /* holdout scores */
        double *fn_each;            /* holdout C_FN per row (the amount), or NULL */
        struct evaluate_candidate candidate;
        char err[TRAIN_ERR_MAX];
};

static void run_release(struct run *r) {
        train_table_release(&r->table);
        part_release(&r->train);
        part_release(&r->holdout);
        fit_gbdt_free(r->gbdt);
        fraud_mlp_release(&r->mlp);
        for (int k = 0; k < EVALUATE_MODELS; k++)
                free(r->p[k]);
        free(r->fn_each);
}

static int out_of_memory(struct run *r) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return EX_OSERR;
}

static int run_read(struct run *r) {
        FILE *in = fopen(r->input, "r");
        int64_t last = INT64_MIN, cut;
        int ret;

        if (!in) {
                snprintf(r->err, sizeof(r->err), "%s: %s", r->input, strerror(errno));
                return EX_NOINPUT;
        }
        ret = train_table_read(&r->table, in, r->input, stderr, r->err, sizeof(r->err));
        fclose(in);
        if (ret < 0)
                return ret == -ENOMEM ? EX_OSERR : ret == -EIO ? EX_IOERR : EX_DATAERR;
        for (size_t i = 0; i < r->table.n_rows; i++)
                last = r->table.time_us[i] > last ? r->table.time_us[i] : last;
        cut = fraud_time_day_index(last) - r->holdout_days;
        if (part_take(&r->train, &r->table, cut, false) < 0 ||
            part_take(&r->holdout, &r->table, cut, true) < 0)
                return out_of_memory(r);
        if (r->train.frauds == 0 || r->train.frauds == r->train.n || r->holdout.frauds == 0 ||
            r->holdout.frauds == r->holdout.n) {
                snprintf(r->err, sizeof(r->err),
                         "training (%zu rows, %zu frauds) and holdout (%zu rows, %zu frauds) "
                         "both need frauds and legitimate payments; try another --holdout-days",
                         r->train.n, r->train.frauds, r->holdout.n, r->holdout.frauds);
                return EX_DATAERR;
        }
        return 0;
}

static int run_fit(struct run *r) {
        const struct fraud_settings_trainer *s = &r->settings->trainer;
        const struct fit_data d = {r->train.x, r->train.label, r->train.n, r->table.n_features};
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
                return ret == -ENOMEM ? EX_OSERR : EX_SOFTWARE;
        ret = fit_mlp(&d, &mp, &r->mlp, &r->mlp_report);
        if (ret < 0) {
                snprintf(r->err, sizeof(r->err), "mlp: %s", strerror(-ret));
                return ret == -ENOMEM ? EX_OSERR : EX_SOFTWARE;
        }
        fit_mlp_calibrate(&r->mlp, r->mlp_report.pos_weight);
        return 0;
}

/* Holdout scores of the GBDT and the MLP (the cascade's come with the band,
 * in run_evaluate). */
static int run_score(struct run *r) {
        size_t n = r->holdout.n, d = r->table.n_features;
        double *scratch = malloc(fraud_mlp_scratch_size(&r->mlp) * sizeof(double));
        int ret = 0;

        for (int k = 0; k < EVALUATE_MODELS; k++)
                r->p[k] = calloc(n, sizeof(double));
        if (!scratch || !r->p[EVALUATE_GBDT] || !r->p[EVALUATE_MLP] || !r->p[EVALUATE_CASCADE]) {
                free(scratch);
                return out_of_memory(r);
        }
        ret = fit_gbdt_predict(r->gbdt, r->holdout.x, n, d, r->p[EVALUATE_GBDT], r->err,
                               sizeof(r->err));
        for (size_t i = 0; ret == 0 && i < n; i++)
                r->p[EVALUATE_MLP][i] = fraud_mlp_forward(&r->mlp, r->holdout.x + i * d, scratch);
        free(scratch);
        return ret < 0 ? EX_SOFTWARE : 0;
}

/* C_FN per holdout row when the scorer takes it from the amount. */
static int run_costs(struct run *r, struct evaluate_costs *c) {
        const struct fraud_settings_scorer *s = &r->settings->scorer;
        long amount = -1;

        *c = (struct evaluate_costs){.false_positive = s->cost_false_positive,
                                     .false_negative = s->cost_false_negative};
        for (size_t f = 0; s->cost_fn_is_amount && f < r->table.n_features; f++)
                if (!strcmp(r->table.names[f], "amount"))
                        amount = (long)f;
        if (amount < 0)
                return 0;
        if (!(r->fn_each = malloc((r->holdout.n ? r->holdout.n : 1) * sizeof(double))))
                return out_of_memory(r);
        for (size_t i = 0; i < r->holdout.n; i++)
                r->fn_each[i] = fmax(0, r->holdout.x[i * r->table.n_features + (size_t)amount]);
        c->false_negative_each = r->fn_each;
        return 0;
}

static int run_evaluate(struct run *r) {
        const struct evaluate_holdout h = {r->holdout.label, r->holdout.time_us, r->holdout.card,
                                           r->holdout.n};
        struct evaluate_costs costs;
        int ret = run_costs(r, &costs);

        if (ret != 0)
                return ret;
        ret = evaluate_candidate(&h, r->p[EVALUATE_GBDT], r->p[EVALUATE_MLP],
                                 r->settings->trainer.band_share,
                                 (size_t)r->settings->trainer.precision_k, &costs,
                                 r->p[EVALUATE_CASCADE], &r->candidate);
        if (ret < 0) {
                snprintf(r->err, sizeof(r->err), "evaluation: %s", strerror(-ret));
                return ret == -ENOMEM ? EX_OSERR : EX_SOFTWARE;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* The model directory                                                  */
/* ------------------------------------------------------------------ */

static void entry_add(struct fraud_modelfile_entry *e, size_t *n, const char *prefix,
                      const char *name, double value) {
        snprintf(e[*n].name, sizeof(e[*n].name), "%s%s%s", prefix, prefix[0] ? "_" : "", name);
        e[*n].value = value;
        ++*n;
}

static void modelfile_metrics(const struct run *r, struct fraud_modelfile *m) {
        for (int k = 0; k < EVALUATE_MODELS; k++) {
                const struct evaluate_scores *s = &r->candidate.scores[k];
                const char *p = model_names[k];

                entry_add(m->metrics, &m->n_metrics, p, "auc_roc", s->auc_roc);
                entry_add(m->metrics, &m->n_metrics, p, "average_precision", s->average_precision);
                entry_add(m->metrics, &m->n_metrics, p, "card_precision_at_k", s->card_precision);
                entry_add(m->metrics, &m->n_metrics, p, "recall", s->recall);
                entry_add(m->metrics, &m->n_metrics, p, "false_positive_rate",
                          s->false_positive_rate);
                entry_add(m->metrics, &m->n_metrics, p, "cost_savings", s->savings);
                entry_add(m->metrics, &m->n_metrics, p, "cost_savings_bayes", s->savings_bayes);
        }
        entry_add(m->metrics, &m->n_metrics, "", "train_rows", (double)r->train.n);
        entry_add(m->metrics, &m->n_metrics, "", "train_frauds", (double)r->train.frauds);
        entry_add(m->metrics, &m->n_metrics, "", "holdout_rows", (double)r->holdout.n);
        entry_add(m->metrics, &m->n_metrics, "", "holdout_frauds", (double)r->holdout.frauds);
        entry_add(m->metrics, &m->n_metrics, "", "rows_rejected", (double)r->table.rows_rejected);
        entry_add(m->metrics, &m->n_metrics, "", "mlp_loss_initial", r->mlp_report.loss_initial);
        entry_add(m->metrics, &m->n_metrics, "", "mlp_loss_final", r->mlp_report.loss_final);
}

static void modelfile_params(const struct run *r, struct fraud_modelfile *m) {
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
                m->params[m->n_params++] = e[i];
}

static void modelfile_fill(const struct run *r, struct fraud_modelfile *m) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];
        char day[FRAUD_TIME_ISO8601_MAX];

        memset(m, 0, sizeof(*m));
        fraud_time_format_iso8601(r->holdout.last_us, day);
        if (r->version)
                snprintf(m->version, sizeof(m->version), "%s", r->version);
        else
                snprintf(m->version, sizeof(m->version), "train-%.4s%.2s%.2s", day, day + 5,
                         day + 8);
        snprintf(m->parent_version, sizeof(m->parent_version), "%s", r->parent ? r->parent : "");
        m->created_at_us = m->label_cutoff_us = m->data_end_us = r->holdout.last_us;
        m->data_start_us = r->train.first_us;
        m->n_features = r->table.n_features;
        for (size_t f = 0; f < m->n_features; f++) {
                memcpy(m->feature_names[f], r->table.names[f], FRAUD_MODELFILE_NAME_MAX);
                names[f] = r->table.names[f];
        }
        m->feature_schema_hash = fraud_featureset_hash(names, m->n_features);
        m->block_threshold = r->candidate.block_threshold;
        m->review_threshold = r->candidate.review_threshold;
        m->band_low = r->candidate.band_low;
        m->band_high = r->candidate.band_high;
        modelfile_metrics(r, m);
        modelfile_params(r, m);
        snprintf(m->status, sizeof(m->status), "candidate");
        snprintf(m->status_reason, sizeof(m->status_reason), "trained by fraudctl train");
        m->has_mlp = true;
}

static int run_write(struct run *r) {
        char path[TRAIN_PATH_MAX];
        struct fraud_modelfile *m;
        int ret;

        if (strlen(r->out_dir) + sizeof("/model.yaml.tmp") > sizeof(path)) {
                snprintf(r->err, sizeof(r->err), "%s: %s", r->out_dir, strerror(ENAMETOOLONG));
                return EX_CANTCREAT;
        }
        if (mkdir(r->out_dir, 0755) < 0 && errno != EEXIST) {
                snprintf(r->err, sizeof(r->err), "%s: %s", r->out_dir, strerror(errno));
                return EX_CANTCREAT;
        }
        snprintf(path, sizeof(path), "%s/gbdt.json", r->out_dir);
        if (fit_gbdt_save(r->gbdt, path, r->err, sizeof(r->err)) < 0)
                return EX_CANTCREAT;
        snprintf(path, sizeof(path), "%s/mlp.bin", r->out_dir);
        if ((ret = fraud_mlp_save(&r->mlp, path)) < 0) {
                snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(-ret));
                return EX_CANTCREAT;
        }
        if (!(m = malloc(sizeof(*m))))
                return out_of_memory(r);
        modelfile_fill(r, m);
        if ((ret = fraud_modelfile_write(m, r->out_dir)) < 0)
                snprintf(r->err, sizeof(r->err), "%s/model.yaml: %s", r->out_dir, strerror(-ret));
        free(m);
        return ret < 0 ? EX_CANTCREAT : 0;
}

/* ------------------------------------------------------------------ */
/* Report and command line                                              */
/* ------------------------------------------------------------------ */

static void run_print(const struct run *r) {
        char first[FRAUD_TIME_ISO8601_MAX], cut[FRAUD_TIME_ISO8601_MAX],
                last[FRAUD_TIME_ISO8601_MAX];

        fraud_time_format_iso8601(r->train.first_us, first);
        fraud_time_format_iso8601(r->holdout.first_us, cut);
        fraud_time_format_iso8601(r->holdout.last_us, last);
        printf("rows: %zu read, %zu rejected; training %zu (%zu frauds) from %.10s, holdout %zu "
               "(%zu frauds) %.10s to %.10s\n",
               r->table.n_rows, r->table.rows_rejected, r->train.n, r->train.frauds, first,
               r->holdout.n, r->holdout.frauds, cut, last);
        printf("class weight %.4g; mlp loss %.4f -> %.4f\n", r->gbdt_report.pos_weight,
               r->mlp_report.loss_initial, r->mlp_report.loss_final);
        printf("block_threshold %.6g, band [%.6g, %.6g], review_threshold %.6g\n",
               r->candidate.block_threshold, r->candidate.band_low, r->candidate.band_high,
               r->candidate.review_threshold);
        printf("%-8s %8s %8s %8s %8s %8s %14s %14s\n", "holdout", "auc_roc", "avg_prec", "card_p@k",
               "recall", "fpr", "savings", "savings_bayes");
        for (int k = 0; k < EVALUATE_MODELS; k++) {
                const struct evaluate_scores *s = &r->candidate.scores[k];

                printf("%-8s %8.4f %8.4f %8.4f %8.4f %8.5f %14.2f %14.2f\n", model_names[k],
                       s->auc_roc, s->average_precision, s->card_precision, s->recall,
                       s->false_positive_rate, s->savings, s->savings_bayes);
        }
}

static const char options_help[] =
        "\n"
        "Training:\n"
        "  -i, --input FILE     labelled feature rows: CSV with a header of feature\n"
        "                       names and columns label (0/1), event_time (ISO 8601)\n"
        "                       and card\n"
        "  -o, --out DIR        model directory to write (created if missing)\n"
        "  --holdout-days N     hold out the last N event-time days (default\n"
        "                       trainer.holdout_days)\n"
        "  --version NAME       model version (default train-YYYYMMDD, the last day)\n"
        "  --parent NAME        parent model version (default none)\n"
        "\n"
        "Exit status: 0; 64 usage; 65 bad data; 66 input unreadable; 70 training\n"
        "failed; 71 out of memory; 73 output not writable; 74 read error; 78 bad\n"
        "configuration.\n";

static int options_parse(struct run *r, int argc, char **argv) {
        static const struct option longopts[] = {
                {"input", required_argument, NULL, 'i'},
                {"out", required_argument, NULL, 'o'},
                {"holdout-days", required_argument, NULL, 'H'},
                {"version", required_argument, NULL, 'V'},
                {"parent", required_argument, NULL, 'P'},
                {NULL, 0, NULL, 0},
        };
        int c;

        optind = 0; /* a fresh scan on every call (tests call this more than once) */
        while ((c = getopt_long(argc, argv, "+i:o:", longopts, NULL)) != -1) {
                char *end;

                switch (c) {
                case 'i':
                        r->input = optarg;
                        break;
                case 'o':
                        r->out_dir = optarg;
                        break;
                case 'V':
                        r->version = optarg;
                        break;
                case 'P':
                        r->parent = optarg;
                        break;
                case 'H':
                        errno = 0;
                        r->holdout_days = strtoll(optarg, &end, 10);
                        if (errno || *end || !isdigit((unsigned char)optarg[0]) ||
                            r->holdout_days < 1 || r->holdout_days > FRAUD_TRAIN_HOLDOUT_DAYS_MAX)
                                return invalid(r->err, sizeof(r->err),
                                               "--holdout-days: expected 1 to %d, got '%s'",
                                               FRAUD_TRAIN_HOLDOUT_DAYS_MAX, optarg);
                        break;
                default:
                        return invalid(r->err, sizeof(r->err), "bad option");
                }
        }
        if (optind < argc)
                return invalid(r->err, sizeof(r->err), "unexpected '%s'", argv[optind]);
        if (!r->input || !r->out_dir)
                return invalid(r->err, sizeof(r->err), "--input and --out are required");
        if (r->version && (!r->version[0] || strlen(r->version) >= FRAUD_MODELFILE_VERSION_MAX))
                return invalid(r->err, sizeof(r->err), "--version: 1 to %d bytes",
                               FRAUD_MODELFILE_VERSION_MAX - 1);
        if (r->parent && strlen(r->parent) >= FRAUD_MODELFILE_VERSION_MAX)
                return invalid(r->err, sizeof(r->err), "--parent: at most %d bytes",
                               FRAUD_MODELFILE_VERSION_MAX - 1);
        return 0;
}

static int run_all(struct run *r) {
        int status = run_read(r);

        if (status == 0)
                status = run_fit(r);
        if (status == 0)
                status = run_score(r);
        if (status == 0)
                status = run_evaluate(r);
        if (status == 0)
                status = run_write(r);
        if (status == 0) {
                run_print(r);
                printf("wrote %s\n", r->out_dir);
        }
        return status;
}

int train_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Trains a GBDT and a neural model from labelled feature rows, "
                           "evaluates them on the\nlast days (by event time), chooses "
                           "thresholds and the ambiguous band, and writes\na model directory.",
                .options_help = options_help,
                .args_extra = true,
        };
        struct fraud_settings settings;
        struct run *r;
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        if (!(r = calloc(1, sizeof(*r)))) {
                fraud_settings_release(&settings);
                return EX_OSERR;
        }
        r->settings = &settings;
        r->holdout_days = settings.trainer.holdout_days;
        if (options_parse(r, argc, argv) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], r->err, argv[0]);
                status = EX_USAGE;
        } else if ((status = run_all(r)) != 0) {
                fprintf(stderr, "%s: %s\n", argv[0], r->err[0] ? r->err : "failed");
        }
        run_release(r);
        free(r);
        fraud_settings_release(&settings);
        return status;
}
