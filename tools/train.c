/* train.c: `fraudctl train` (see train.h for the input, the split, the
 * thresholds and the output).
 *
 * Design.  This file is the CSV front end of the training round: it reads
 * the file into a struct train_table and hands its rows to trainer/round.c,
 * which cuts them by time, fits, evaluates and writes the model directory
 * -- the same code the trainer daemon runs on rows from its label store.
 * Here the holdout ends with the day of the latest event and the label
 * cutoff is that event's time.
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
#include <sysexits.h>

#include "common/cli.h"
#include "lib/bounds.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "trainer/round.h"

#define TRAIN_ERR_MAX    (FRAUD_TRAINER_ERR_MAX + 64) /* bytes of an error message */
#define TRAIN_ROWS_FIRST 4096 /* rows allocated before the table first grows */

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
/* One run                                                              */
/* ------------------------------------------------------------------ */

struct run {
        const struct fraud_settings *settings; /* borrowed */
        const char *input, *out_dir, *version, *parent;
        int64_t holdout_days;
        struct train_table table;
        struct round_rows rows; /* views of table */
        struct round round;
        char err[TRAIN_ERR_MAX];
};

static void run_release(struct run *r) {
        round_release(&r->round);
        train_table_release(&r->table);
}

static int out_of_memory(struct run *r) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return EX_OSERR;
}

/* Exit status of a round's failure; its reason goes to r->err. */
static int run_failed(struct run *r, int ret, int status) {
        snprintf(r->err, sizeof(r->err), "%s", r->round.err);
        return ret == -ENOMEM ? EX_OSERR : status;
}

static int run_read(struct run *r) {
        FILE *in = fopen(r->input, "r");
        int64_t last = INT64_MIN;
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
        r->rows = (struct round_rows){
                .n_rows = r->table.n_rows,
                .n_features = r->table.n_features,
                .names = (const char(*)[FRAUD_MODELFILE_NAME_MAX])r->table.names,
                .x = r->table.x,
                .label = r->table.label,
                .time_us = r->table.time_us,
                .card = r->table.card,
                .rows_rejected = r->table.rows_rejected,
        };
        round_init(&r->round, r->settings, &r->rows);
        ret = round_split(&r->round, fraud_time_day_index(last), r->holdout_days);
        if (ret == -EDOM) {
                snprintf(r->err, sizeof(r->err), "%s; try another --holdout-days", r->round.err);
                return EX_DATAERR;
        }
        return ret < 0 ? out_of_memory(r) : 0;
}

static int run_fit(struct run *r) {
        int ret = round_fit(&r->round);

        if (ret == 0)
                ret = round_evaluate(&r->round);
        return ret < 0 ? run_failed(r, ret, EX_SOFTWARE) : 0;
}

static int run_write(struct run *r) {
        const struct round_meta meta = {.version = r->version,
                                        .parent = r->parent,
                                        .label_cutoff_us = INT64_MIN,
                                        .status = "candidate",
                                        .status_reason = "trained by fraudctl train"};
        struct fraud_modelfile *m = malloc(sizeof(*m));
        int ret;

        if (!m)
                return out_of_memory(r);
        round_modelfile(&r->round, &meta, m);
        ret = round_write(&r->round, r->out_dir, m);
        free(m);
        return ret < 0 ? run_failed(r, ret, EX_CANTCREAT) : 0;
}

/* ------------------------------------------------------------------ */
/* Report and command line                                              */
/* ------------------------------------------------------------------ */

static void run_print(const struct run *r) {
        const struct round *d = &r->round;
        char first[FRAUD_TIME_ISO8601_MAX], cut[FRAUD_TIME_ISO8601_MAX],
                last[FRAUD_TIME_ISO8601_MAX];

        fraud_time_format_iso8601(d->train.first_us, first);
        fraud_time_format_iso8601(d->holdout.first_us, cut);
        fraud_time_format_iso8601(d->holdout.last_us, last);
        printf("rows: %zu read, %zu rejected; training %zu (%zu frauds) from %.10s, holdout %zu "
               "(%zu frauds) %.10s to %.10s\n",
               r->table.n_rows, r->table.rows_rejected, d->train.n, d->train.frauds, first,
               d->holdout.n, d->holdout.frauds, cut, last);
        printf("class weight %.4g; mlp loss %.4f -> %.4f\n", d->gbdt_report.pos_weight,
               d->mlp_report.loss_initial, d->mlp_report.loss_final);
        printf("block_threshold %.6g, band [%.6g, %.6g], review_threshold %.6g\n",
               d->candidate.block_threshold, d->candidate.band_low, d->candidate.band_high,
               d->candidate.review_threshold);
        printf("%-8s %8s %8s %8s %8s %8s %14s %14s\n", "holdout", "auc_roc", "avg_prec", "card_p@k",
               "recall", "fpr", "savings", "savings_bayes");
        for (int k = 0; k < EVALUATE_MODELS; k++) {
                const struct evaluate_scores *s = &d->candidate.scores[k];

                printf("%-8s %8.4f %8.4f %8.4f %8.4f %8.5f %14.2f %14.2f\n", round_model_names[k],
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
