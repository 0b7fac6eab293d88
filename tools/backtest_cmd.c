/* backtest_cmd.c: `fraudctl backtest` -- the command line, the progress
 * bar, scores.csv and the report around the engine of tools/backtest.h.
 *
 * Output directory (--out, created; refused when it holds a registry
 * already, so that a run never mixes with an earlier one's models):
 *   scores.csv   one row per decided payment, in decision order:
 *                transaction_id,event_time,card_hash,probability,decision,
 *                stage,model_version,degraded
 *   report.json  tools/report.h's figures
 *   report.html  the same, as a page with plots (tools/report_html.h)
 *   registry/    the model versions the run trained (trainer.registry_dir)
 * The probability is printed with 9 decimals (the parity check compares to
 * 1e-6).  Files are written through lib/atomicfile.h: a failed run leaves
 * no plausible-looking half file.
 *
 * The progress bar is drawn on stderr only when it is a terminal: lines
 * read of the file's lines (counted first), rate, ETA.
 */
#include "tools/backtest_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/cli.h"
#include "lib/atomicfile.h"
#include "lib/time.h"
#include "tools/backtest.h"
#include "tools/derive.h"
#include "tools/report.h"
#include "tools/report_html.h"

#define BTCMD_PATH_MAX      PATH_MAX
#define BTCMD_MATURITY_DAYS 60 /* default --eval-maturity-days */
#define BTCMD_BAR_WIDTH     30
#define BTCMD_ERR_MAX       (2 * PATH_MAX) /* a path and why */

struct btcmd_args {
        const char *transactions, *chargebacks, *out, *mapping, *key, *every, *maturity, *model;
        const char *title, *flag, *delay;
};

struct btcmd {
        const struct btcmd_args *a;
        const char *chargebacks; /* the file used: --chargebacks, or the derived one */
        struct report *report;
        FILE *csv;
        uint64_t total_lines;
        int64_t t0_ns;
        bool tty;
        int error;
};

static const char options_help[] =
        "\n"
        "Input:\n"
        "  --transactions FILE  payments: CSV with a header, or JSON lines, read through\n"
        "                       the column mapping (ground-truth columns is_fraud and\n"
        "                       scenario are never used for decisions)\n"
        "  --chargebacks FILE   chargebacks (CSV: transaction_id, timestamp = arrival,\n"
        "                       merchant_id and/or terminal_id, optional\n"
        "                       transaction_timestamp, chargeback_id)\n"
        "  --mapping FILE       column mapping of the payments (default\n"
        "                       ingest.mapping_file, else our own names)\n"
        "  --card-hash-key HEX  32 hex digits (default ingest.card_hash_key)\n"
        "  --chargebacks-from-flag COLUMN  a log without chargebacks: derive one for\n"
        "                       each payment whose COLUMN (or JSON key) is 1/true/yes,\n"
        "                       into DIR/chargebacks.derived.csv (instead of\n"
        "                       --chargebacks)\n"
        "  --chargeback-delay MEDIAN[:SIGMA]  their delay in days, log-normal\n"
        "                       (default 30:0.8), capped below labeler.horizon_days\n"
        "\n"
        "Run:\n"
        "  --out DIR            where scores.csv, report.json, report.html and the\n"
        "                       model registry go (default backtest-out)\n"
        "  --retrain-every-days N  retrain every Nth day the trainer's schedule makes due\n"
        "                       (default 1: daily, as fraud-trainer; 0: never)\n"
        "  --model-dir DIR      the champion at the start (default scorer.model_dir;\n"
        "                       none: rules only until the first promotion)\n"
        "  --eval-maturity-days N  evaluate only payments at least N days older than the\n"
        "                       run's latest event, whose chargebacks have mostly come\n"
        "                       (default 60)\n"
        "  --title TEXT         the report's title\n"
        "\n"
        "Every stage runs with its settings from --config (velocity windows, rules file,\n"
        "costs, labeler maturity and horizon, trainer window, gate and schedule).\n"
        "Exit status: 0; 64 usage; 65 bad input; 66 input unreadable; 71 out of memory;\n"
        "73 output not writable; 78 bad configuration.\n";

static int args_parse(struct btcmd_args *a, int argc, char **argv, char *err, size_t n) {
        const struct offline_option opts[] = {
                {"transactions", &a->transactions, true},
                {"chargebacks", &a->chargebacks, false},
                {"out", &a->out, false},
                {"mapping", &a->mapping, false},
                {"card-hash-key", &a->key, false},
                {"retrain-every-days", &a->every, false},
                {"eval-maturity-days", &a->maturity, false},
                {"model-dir", &a->model, false},
                {"title", &a->title, false},
                {"chargebacks-from-flag", &a->flag, false},
                {"chargeback-delay", &a->delay, false},
        };
        int r = offline_options_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, err, n);

        if (r == 0 && !a->out)
                a->out = "backtest-out";
        if (r == 0 && a->flag && a->chargebacks) {
                snprintf(err, n, "--chargebacks and --chargebacks-from-flag exclude each other");
                r = -EINVAL;
        }
        return r;
}

static int number_parse(const char *flag, const char *s, long max, long *out, char *err,
                        size_t n) {
        char *end;

        errno = 0;
        *out = strtol(s, &end, 10);
        if (errno || end == s || *end || *out < 0 || *out > max) {
                snprintf(err, n, "%s: expected a whole number 0..%ld, got '%s'", flag, max, s);
                return -EINVAL;
        }
        return 0;
}

/* ---- progress ---- */

static uint64_t lines_count(const char *path) {
        char buf[1 << 16];
        uint64_t n = 0;
        size_t got;
        FILE *f = fopen(path, "r");

        if (!f)
                return 0;
        while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
                for (size_t i = 0; i < got; i++)
                        n += buf[i] == '\n';
        fclose(f);
        return n;
}

static void progress(void *opaque, uint64_t lines, int64_t event_us) {
        struct btcmd *b = opaque;
        double sec = (double)(fraud_time_mono_ns() - b->t0_ns) / 1e9, share, rate;
        char when[FRAUD_TIME_ISO8601_MAX], bar[BTCMD_BAR_WIDTH + 1];
        int fill;

        if (!b->tty || b->total_lines == 0 || sec <= 0)
                return;
        share = (double)lines / (double)b->total_lines;
        share = share > 1 ? 1 : share;
        rate = (double)lines / sec;
        fill = (int)(share * BTCMD_BAR_WIDTH);
        for (int i = 0; i < BTCMD_BAR_WIDTH; i++)
                bar[i] = i < fill ? '#' : '.';
        bar[BTCMD_BAR_WIDTH] = '\0';
        fraud_time_format_iso8601(event_us, when);
        when[10] = '\0';
        fprintf(stderr, "\r[%s] %3.0f%% %s  %.0f tx/s  ETA %.0f s   ", bar, 100 * share, when,
                rate, rate > 0 ? (double)(b->total_lines - lines) / rate : 0.0);
}

/* ---- outputs ---- */

static int on_score(void *opaque, const struct backtest_score *s) {
        struct btcmd *b = opaque;
        const struct cascade_output *c = &s->res->cascade;
        const struct report_score rs = {
                .transaction_id = s->tx->transaction_id,
                .event_time_us = s->tx->event_time_us,
                .card_hash = s->tx->card_hash,
                .currency = s->tx->currency,
                .amount_minor = s->tx->amount_minor,
                .probability = c->probability,
                .decision = (int)c->decision,
                .stage = (int)c->stage,
                .degraded = c->degraded,
                .model_version = s->model_version,
                .latency_us = (double)s->latency_ns / 1000.0,
        };

        int r = report_csv_row(b->csv, &rs);

        return r < 0 ? r : report_score_add(b->report, &rs);
}

static int on_round(void *opaque, const struct backtest_round *r) {
        struct btcmd *b = opaque;
        const struct daily_result *d = r->result;
        const struct report_round rr = {
                .version = d->version,
                .label_cutoff_us = r->cutoff_us,
                .outcome = daily_outcome_name(d->outcome),
                .reason = d->reason,
                .average_precision = d->average_precision,
                .auc_roc = d->auc_roc,
                .train_rows = d->train_rows,
        };

        if (b->tty)
                fprintf(stderr, "\r%-78s\r", "");
        fprintf(stderr, "%s: %s%s%s (%.1f s)\n", d->version, daily_outcome_name(d->outcome),
                d->reason[0] ? ": " : "", d->reason, (double)r->train_ns / 1e9);
        return report_round_add(b->report, &rr);
}

/* ---- the run ---- */

static int out_prepare(const char *dir, char *registry, size_t n, char *err, size_t err_size) {
        struct stat st;

        if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
                snprintf(err, err_size, "%s: %s", dir, strerror(errno));
                return -errno;
        }
        if (snprintf(registry, n, "%s/registry", dir) >= (int)n) {
                snprintf(err, err_size, "%s: path too long", dir);
                return -ENAMETOOLONG;
        }
        if (stat(registry, &st) == 0) {
                snprintf(err, err_size,
                         "%s exists: a backtest starts from an empty registry (remove it, or "
                         "choose another --out)",
                         registry);
                return -EEXIST;
        }
        return 0;
}

static int path_join(char *buf, size_t n, const char *dir, const char *name) {
        return snprintf(buf, n, "%s/%s", dir, name) < (int)n ? 0 : -ENAMETOOLONG;
}

/* end_ns: from the first line read to the outputs written (wall); the
 * process's CPU time is read now, everything it did included. */
static void summary_print(struct btcmd *b, const struct backtest_counts *k, int64_t end_ns) {
        struct report_overall o;
        double sec = (double)k->elapsed_ns / 1e9, train = (double)k->train_ns / 1e9;
        double cpu = (double)fraud_time_cpu_ns() / 1e9, train_cpu = (double)k->train_cpu_ns / 1e9;

        report_overall(b->report, &o);
        printf("fraudctl backtest: %" PRIu64 " payments scored in %.1f s (%.0f tx/s; %.0f tx/s "
               "without the %.1f s of training), %" PRIu64 " rejected, %" PRIu64
               " duplicates\n",
               k->scored, sec, sec > 0 ? (double)k->scored / sec : 0.0,
               sec > train ? (double)k->scored / (sec - train) : 0.0, train,
               k->offline.tx_rejected, k->offline.tx_duplicates);
        printf("  CPU time %.1f s, %.1f s of it training: %.0f tx per CPU-second without "
               "training\n",
               (double)k->cpu_ns / 1e9, (double)k->train_cpu_ns / 1e9,
               k->cpu_ns > k->train_cpu_ns ? (double)k->scored * 1e9 / (double)(k->cpu_ns - k->train_cpu_ns)
                                           : 0.0);
        printf("  end to end, the outputs written: %.1f s, process CPU time %.1f s: %.0f tx per "
               "CPU-second without training\n",
               (double)end_ns / 1e9, cpu,
               cpu > train_cpu ? (double)k->scored / (cpu - train_cpu) : 0.0);
        printf("  labels %" PRIu64 "; days trained %" PRIu64 " (%" PRIu64 " promoted, %" PRIu64
               " rejected), %" PRIu64 " skipped\n",
               k->labels, k->rounds, k->promoted, k->rejected, k->skipped);
        printf("  evaluated %" PRIu64 " payments (%" PRIu64 " frauds; %" PRIu64
               " too recent): AUC-ROC %.4f, AP %.4f, card precision@k %.4f, recall %.4f, "
               "FPR %.5f, saved %.2f EUR\n",
               o.evaluated, o.frauds, o.not_evaluated, o.auc_roc, o.average_precision,
               o.card_precision, o.recall, o.false_positive_rate, o.money_saved / 100.0);
        printf("  %s/scores.csv, %s/report.json, %s/report.html\n", b->a->out, b->a->out,
               b->a->out);
}

static int status_of(int r);

/* --chargebacks-from-flag: DIR/chargebacks.derived.csv from the flags. */
static int chargebacks_derive(struct btcmd *b, const struct fraud_settings *s,
                              const struct mapping *m, const struct normalize_key *key,
                              char *path, size_t path_size, char *err, size_t n) {
        const struct offline_options read = {
                .transactions = b->a->transactions, .mapping = m, .key = key, .settings = s,
                .until_us = OFFLINE_TIME_ALL, .label_cutoff_us = OFFLINE_TIME_ALL,
                .fraud_column = b->a->flag};
        struct derive_options o = {.read = &read, .max_days = (double)s->labeler.horizon_days - 1,
                                   .seed = 1};
        struct fraud_atomicfile f;
        uint64_t count = 0;
        int r = 0;

        if (b->a->delay && derive_delay_parse(b->a->delay, &o.median_days, &o.sigma) < 0) {
                snprintf(err, n, "--chargeback-delay: expected MEDIAN[:SIGMA] in days, got '%s'",
                         b->a->delay);
                return EX_USAGE;
        }
        if (!b->a->delay)
                derive_delay_parse("30", &o.median_days, &o.sigma);
        if (path_join(path, path_size, b->a->out, "chargebacks.derived.csv") < 0 ||
            (r = fraud_atomicfile_open(&f, path)) < 0) {
                snprintf(err, n, "%s: cannot write there", b->a->out);
                return EX_CANTCREAT;
        }
        r = derive_chargebacks(&o, f.f, &count, err, n);
        r = r == 0 ? fraud_atomicfile_commit(&f) : r;
        if (r < 0) {
                fraud_atomicfile_abort(&f);
                return status_of(r);
        }
        fprintf(stderr, "fraudctl backtest: %" PRIu64 " chargebacks derived from %s into %s\n",
                count, b->a->flag, path);
        return 0;
}

static int status_of(int r) {
        return r == -ENOMEM                  ? EX_OSERR
               : r == -ENOENT || r == -EACCES ? EX_NOINPUT
               : r == -EINVAL                ? EX_CONFIG
                                             : EX_DATAERR;
}

static int run(struct btcmd *b, struct backtest_options *o, struct fraud_settings *s, char *err,
               size_t n) {
        char path[BTCMD_PATH_MAX], retrain[64];
        struct backtest_counts k;
        struct fraud_atomicfile csv;
        struct report_run run;
        int r = path_join(path, sizeof(path), b->a->out, "scores.csv");

        if (r == 0 && (r = fraud_atomicfile_open(&csv, path)) < 0)
                snprintf(err, n, "%s: %s", path, strerror(-r));
        if (r < 0)
                return EX_CANTCREAT;
        b->csv = csv.f;
        report_csv_header(b->csv);
        b->t0_ns = fraud_time_mono_ns();
        r = backtest_run(o, &k, err, n);
        if (b->tty)
                fprintf(stderr, "\r%-78s\r", "");
        offline_counts_print(&k.offline, stderr);
        if (r < 0) {
                fraud_atomicfile_abort(&csv);
                return status_of(r);
        }
        if ((r = fraud_atomicfile_commit(&csv)) < 0) {
                snprintf(err, n, "%s: %s", path, strerror(-r));
                return EX_CANTCREAT;
        }
        snprintf(retrain, sizeof(retrain), "%s",
                 o->retrain_every_days == 0   ? "never"
                 : o->retrain_every_days == 1 ? "daily"
                                              : "every few due days");
        run = (struct report_run){
                .title = b->a->title ? b->a->title : "Backtest",
                .transactions = b->a->transactions, .chargebacks = b->chargebacks,
                .retrain = retrain, .lines = k.offline.tx_lines, .rejected = k.offline.tx_rejected,
                .duplicates = k.offline.tx_duplicates, .labels = k.labels, .rounds = k.rounds,
                .promoted = k.promoted, .rejected_models = k.rejected, .skipped_days = k.skipped,
                .elapsed_sec = (double)k.elapsed_ns / 1e9, .train_sec = (double)k.train_ns / 1e9};
        if ((r = report_files_write(b->report, &run, b->chargebacks, b->a->out, err, n)) < 0)
                return r == -ENOMEM ? EX_OSERR : EX_CANTCREAT;
        (void)s;
        summary_print(b, &k, fraud_time_mono_ns() - b->t0_ns);
        return 0;
}

static int backtest_cmd_run(const struct btcmd_args *a, struct fraud_settings *s) {
        char err[BTCMD_ERR_MAX] = "", registry[BTCMD_PATH_MAX], derived[BTCMD_PATH_MAX];
        const char *chargebacks = a->chargebacks;
        char *saved_registry = s->trainer.registry_dir, *saved_model = s->scorer.model_dir;
        struct mapping *m = malloc(sizeof(*m));
        struct btcmd b = {.a = a, .tty = isatty(STDERR_FILENO)};
        struct normalize_key key;
        long every = 1, maturity = BTCMD_MATURITY_DAYS;
        int status = m ? 0 : EX_OSERR;

        if (status == 0 && a->every &&
            number_parse("--retrain-every-days", a->every, 3650, &every, err, sizeof(err)) < 0)
                status = EX_USAGE;
        if (status == 0 && a->maturity &&
            number_parse("--eval-maturity-days", a->maturity, 3650, &maturity, err, sizeof(err)) < 0)
                status = EX_USAGE;
        if (status == 0 && offline_key_get(a->key, s, &key, err, sizeof(err)) < 0)
                status = a->key ? EX_USAGE : EX_CONFIG;
        if (status == 0 && offline_mapping_get(a->mapping, s, m, err, sizeof(err)) < 0)
                status = EX_CONFIG;
        if (status == 0 && out_prepare(a->out, registry, sizeof(registry), err, sizeof(err)) < 0)
                status = EX_CANTCREAT;
        if (status == 0 && report_new(s, maturity, &b.report) < 0)
                status = EX_OSERR;
        if (status == 0 && a->flag)
                status = chargebacks_derive(&b, s, m, &key, derived, sizeof(derived), err,
                                            sizeof(err));
        if (status == 0 && a->flag)
                chargebacks = derived;
        b.chargebacks = chargebacks;
        if (status == 0) {
                struct backtest_options o = {
                        .settings = s, .transactions = a->transactions,
                        .chargebacks = chargebacks, .mapping = m, .key = &key,
                        .retrain_every_days = (int)every, .diag = stderr, .on_score = on_score,
                        .fraud_column = a->flag,
                        .on_round = on_round, .on_progress = progress, .opaque = &b};

                s->trainer.registry_dir = registry;
                if (a->model)
                        s->scorer.model_dir = (char *)a->model;
                b.total_lines = b.tty ? lines_count(a->transactions) : 0;
                status = run(&b, &o, s, err, sizeof(err));
                s->trainer.registry_dir = saved_registry;
                s->scorer.model_dir = saved_model;
        }
        if (status != 0)
                fprintf(stderr, "fraudctl backtest: %s\n", err[0] ? err : "out of memory");
        report_free(b.report);
        free(m);
        return status;
}

int backtest_cmd_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Replays a payments history through the five stage cores in one "
                           "process, in event-time\norder, retraining each day as the trainer "
                           "would, and writes scores.csv and a report.",
                .options_help = options_help,
                .args_extra = true,
        };
        char err[BTCMD_ERR_MAX];
        struct fraud_settings settings;
        struct btcmd_args a = {0};
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        if (args_parse(&a, argc, argv, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], err, argv[0]);
                status = EX_USAGE;
        } else {
                status = backtest_cmd_run(&a, &settings);
        }
        fraud_settings_release(&settings);
        return status;
}
