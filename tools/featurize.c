/* featurize.c: `fraudctl features` (see featurize.h for the output).
 *
 * Design.  The command line and the output only: the offline driver
 * (tools/offline.c) does the reading, normalizing, ordering and feature
 * computation, and calls featurize_row() per vector.  Numbers are
 * formatted by hand when they are integers (almost every feature is a
 * count or a sum of cents), with "%.17g" otherwise, so a row reads back
 * as the exact doubles velocity computed.  The file goes through
 * lib/atomicfile.h: a failed run leaves no plausible-looking half file.
 */
#include "tools/featurize.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "lib/atomicfile.h"
#include "lib/time.h"

#define FEATURIZE_INT_EXACT_MAX 9007199254740992.0 /* 2^53: integers beyond are not exact */
#define FEATURIZE_NUMBER_MAX    32                 /* bytes of one formatted number */

int featurize_header(const struct fraud_featureset *fs, FILE *out) {
        fputs("label,event_time,card", out);
        for (size_t i = 0; i < fs->n; i++) {
                putc(',', out);
                fputs(fs->names[i], out);
        }
        putc('\n', out);
        return ferror(out) ? -EIO : 0;
}

/* Formats v so that strtod gives v back. */
static void number_put(double v, FILE *out) {
        char buf[FEATURIZE_NUMBER_MAX];
        int n = 0;

        if (v == trunc(v) && fabs(v) < FEATURIZE_INT_EXACT_MAX) {
                long long i = (long long)v;
                unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;

                do {
                        buf[n++] = (char)('0' + u % 10);
                        u /= 10;
                } while (u);
                if (i < 0)
                        putc('-', out);
                while (n > 0)
                        putc(buf[--n], out);
                return;
        }
        snprintf(buf, sizeof(buf), "%.17g", v);
        fputs(buf, out);
}

int featurize_row(const struct offline_row *row, FILE *out) {
        char when[FRAUD_TIME_ISO8601_MAX];

        fraud_time_format_iso8601(row->tx->event_time_us, when);
        fprintf(out, "%d,%s,%s", row->label ? 1 : 0, when, row->tx->card_hash);
        for (size_t i = 0; i < row->n_values; i++) {
                putc(',', out);
                number_put(row->values[i], out);
        }
        putc('\n', out);
        return ferror(out) ? -EIO : 0;
}

static int on_row(void *opaque, const struct offline_row *row) {
        return featurize_row(row, opaque);
}

/* ---- command line ---- */

struct featurize_args {
        const char *transactions, *chargebacks, *out, *mapping, *key, *until, *cutoff;
};

static const char options_help[] =
        "\n"
        "Input and output:\n"
        "  --transactions FILE  payments (CSV; ground-truth columns is_fraud and scenario\n"
        "                       are ignored)\n"
        "  --chargebacks FILE   chargebacks (CSV: transaction_id, timestamp = arrival,\n"
        "                       merchant_id and/or terminal_id)\n"
        "  --out FILE           training rows: label,event_time,card,<features>\n"
        "  --mapping FILE       column mapping of the payments (default\n"
        "                       ingest.mapping_file, else our own names)\n"
        "  --card-hash-key HEX  32 hex digits (default ingest.card_hash_key or\n"
        "                       FRAUD_INGEST_CARD_HASH_KEY; required)\n"
        "  --until YYYY-MM-DD   stop at the first payment on or after that day\n"
        "  --label-cutoff YYYY-MM-DD  a row is labelled 1 when a chargeback of it\n"
        "                       arrived before that day (default: --until, else every\n"
        "                       chargeback in the file)\n"
        "\n"
        "Features are computed with the velocity settings (window_spans_sec,\n"
        "label_delay_sec, label_window_sec, allowed_lateness_sec, history_events_max).\n"
        "Exit status: 0; 64 usage; 65 bad input; 66 input unreadable; 71 out of\n"
        "memory; 73 output not writable; 78 bad configuration.\n";

static int args_parse(struct featurize_args *a, int argc, char **argv, char *err, size_t n) {
        const struct offline_option opts[] = {
                {"transactions", &a->transactions, true},
                {"chargebacks", &a->chargebacks, true},
                {"out", &a->out, true},
                {"mapping", &a->mapping, false},
                {"card-hash-key", &a->key, false},
                {"until", &a->until, false},
                {"label-cutoff", &a->cutoff, false},
        };

        return offline_options_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, err, n);
}

/* The options of the driver from the arguments and settings; *status set
 * on failure. */
static int options_fill(const struct featurize_args *a, const struct fraud_settings *s,
                        struct offline_options *o, struct normalize_key *key, struct mapping *m,
                        char *err, size_t n) {
        *o = (struct offline_options){
                .transactions = a->transactions,
                .chargebacks = a->chargebacks,
                .mapping = m,
                .key = key,
                .settings = s,
                .until_us = OFFLINE_TIME_ALL,
                .label_cutoff_us = OFFLINE_TIME_ALL,
                .diag = stderr,
        };
        if (a->until && offline_day_parse(a->until, &o->until_us) < 0) {
                snprintf(err, n, "--until: expected YYYY-MM-DD, got '%s'", a->until);
                return EX_USAGE;
        }
        o->label_cutoff_us = o->until_us;
        if (a->cutoff && offline_day_parse(a->cutoff, &o->label_cutoff_us) < 0) {
                snprintf(err, n, "--label-cutoff: expected YYYY-MM-DD, got '%s'", a->cutoff);
                return EX_USAGE;
        }
        if (offline_key_get(a->key, s, key, err, n) < 0)
                return a->key ? EX_USAGE : EX_CONFIG;
        if (offline_mapping_get(a->mapping, s, m, err, n) < 0)
                return EX_CONFIG;
        return 0;
}

static int status_of(int r) {
        return r == -ENOMEM ? EX_OSERR : r == -ENOENT || r == -EACCES ? EX_NOINPUT : EX_DATAERR;
}

static int featurize_run(const struct featurize_args *a, const struct fraud_settings *s) {
        char err[OFFLINE_ERR_MAX] = "";
        struct offline_counts counts;
        struct offline_options o;
        struct features_config *cfg = malloc(sizeof(*cfg));
        struct mapping *m = malloc(sizeof(*m));
        struct fraud_atomicfile f;
        struct normalize_key key;
        int status, r;

        status = !cfg || !m ? EX_OSERR : options_fill(a, s, &o, &key, m, err, sizeof(err));
        if (status == 0 && offline_features_config(s, cfg, err, sizeof(err)) < 0)
                status = EX_CONFIG;
        if (status == 0 && (r = fraud_atomicfile_open(&f, a->out)) < 0) {
                snprintf(err, sizeof(err), "%s: %s", a->out, strerror(-r));
                status = EX_CANTCREAT;
        }
        if (status == 0) {
                r = featurize_header(&cfg->fs, f.f);
                if (r == 0)
                        r = offline_run(&o, on_row, f.f, &counts, err, sizeof(err));
                status = r < 0 ? status_of(r) : 0;
                offline_counts_print(&counts, stderr);
                if (status == 0 && (r = fraud_atomicfile_commit(&f)) < 0) {
                        snprintf(err, sizeof(err), "%s: %s", a->out, strerror(-r));
                        status = EX_CANTCREAT;
                }
                if (status != 0)
                        fraud_atomicfile_abort(&f);
        }
        if (status == 0)
                printf("fraudctl features: %llu rows (%llu labelled 1) of %zu features to %s\n",
                       (unsigned long long)counts.rows, (unsigned long long)counts.rows_labelled,
                       cfg->fs.n, a->out);
        else
                fprintf(stderr, "fraudctl features: %s\n", err[0] ? err : "out of memory");
        free(cfg);
        free(m);
        return status;
}

int featurize_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Writes the training rows of a payments history: each payment's "
                           "velocity features as of\nits instant, labelled by the chargebacks "
                           "that arrived before the cutoff.",
                .options_help = options_help,
                .args_extra = true,
        };
        char err[OFFLINE_ERR_MAX];
        struct fraud_settings settings;
        struct featurize_args a;
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        if (args_parse(&a, argc, argv, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], err, argv[0]);
                status = EX_USAGE;
        } else {
                status = featurize_run(&a, &settings);
        }
        fraud_settings_release(&settings);
        return status;
}
