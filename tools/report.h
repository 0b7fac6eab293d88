/* report.h: the figures of a backtest or a replay, from its scores and the
 * chargebacks file, as report.json (the format tools/report_html.h turns
 * into report.html).
 *
 * The report keeps one small record per decided payment (time, card,
 * probability, decision, deciding stage, model version, amount in EUR
 * cents, latency) and, at the end, joins the chargebacks to them by
 * transaction id.  A payment is fraud when a chargeback for it is in the
 * file (what the system will eventually learn), never the simulator's
 * ground truth.
 *
 * Maturity.  A payment is evaluated only when its label is mature by the
 * end of the run: its event time is at least eval_maturity_days before the
 * latest event (payment or chargeback) of the run, so that the
 * chargebacks that will ever come have, for the most part, come; the
 * label-arrival curve in the report shows how large that part is.  The
 * report says how many payments were evaluated and how many were not.
 *
 * Per event-time day and overall, on evaluated payments:
 *   AUC-ROC and average precision of the served probability
 *     (trainer/evaluate.h conventions);
 *   card precision@k: each card once per day with its highest probability,
 *     fraudulent if any of its payments that day is; cards already known
 *     compromised (a chargeback on one of their payments arrived before
 *     the day began) are left out; the k highest are checked;
 *   recall and false-positive rate at the operating threshold: a payment
 *     counts as flagged when the decision is block;
 *   money saved: the cost model of the scorer -- every blocked fraud saves
 *     its C_FN (its amount when scorer.cost_fn_is_amount, else
 *     scorer.cost_false_negative), every blocked legitimate payment costs
 *     C_FP -- in EUR cents.
 * And on every payment: decisions by outcome and by cascade stage,
 * degraded decisions, the model version that served most, latency p50 and
 * p99 of the cascade.  Evaluation gap: the trainer leaves the last
 * trainer.label_maturity_days before each cutoff out of training, and a
 * model serves only after its cutoff, so training and evaluation are
 * separated by that many days (reported as evaluation_gap_days).
 */
#ifndef FRAUD_REPORT_H
#define FRAUD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/settings.h"
#include "tools/offline.h"

#define REPORT_HIST_BINS     20  /* score histogram bins over [0, 1] */
#define REPORT_ARRIVAL_DAYS  120 /* label-arrival curve: days after the payment */
#define REPORT_VERSIONS_MAX  4096
#define REPORT_TITLE_MAX     256

struct report;

/* One payment as it was decided. */
struct report_score {
        const char *transaction_id;
        int64_t event_time_us;
        const char *card_hash;
        const char *currency;
        int64_t amount_minor;
        double probability;
        int decision; /* scorer/cascade.h */
        int stage;
        bool degraded;
        const char *model_version; /* "" none */
        double latency_us;         /* < 0: not measured (replay) */
};

/* One training day as the trainer saw it. */
struct report_round {
        const char *version;
        int64_t label_cutoff_us;
        const char *outcome; /* promoted, rejected, skipped, exists */
        const char *reason;
        double average_precision, auc_roc; /* NAN: not trained */
        size_t train_rows;
};

/* What the run says about itself, for the header of the report. */
struct report_run {
        const char *title;
        const char *transactions, *chargebacks;
        const char *retrain; /* "daily", "every 7 days", "never" */
        uint64_t lines, rejected, duplicates;
        uint64_t labels, rounds, promoted, rejected_models, skipped_days;
        double elapsed_sec, train_sec;
};

int report_new(const struct fraud_settings *s, int64_t eval_maturity_days, struct report **out);
void report_free(struct report *r);

/* Adds one decided payment (copied).  0, -ENOMEM. */
int report_score_add(struct report *r, const struct report_score *s);

/* Adds one training day (copied).  0, -ENOMEM, -E2BIG past REPORT_VERSIONS_MAX. */
int report_round_add(struct report *r, const struct report_round *d);

/* Computes every figure with the chargebacks of the file (path, read through
 * tools/offline.h) and writes report.json to out.  0, or -errno with the
 * reason in err. */
int report_write_json(struct report *r, const struct report_run *run, const char *chargebacks,
                      FILE *out, char *err, size_t err_size);

/* scores.csv, shared by backtest and replay: the header line, and one row
 * per decided payment (transaction_id,event_time,card_hash,probability,
 * decision,stage,model_version,degraded; the probability with 9 decimals).
 * 0 or -EIO. */
/* The p50 and p99 of v[0, n), n > 0, as the sorted order has them at
 * n / 2 and 0.99 (n - 1); in linear time, reordering v. */
void report_quantiles(float *v, size_t n, double *p50, double *p99);

int report_csv_header(FILE *out);
int report_csv_row(FILE *out, const struct report_score *s);

/* report.json and report.html (tools/report_html.h) into dir, each through
 * lib/atomicfile.h.  0, or -errno with the reason in err. */
int report_files_write(struct report *r, const struct report_run *run, const char *chargebacks,
                       const char *dir, char *err, size_t err_size);

/* The overall figures, after report_write_json(), for a summary line. */
struct report_overall {
        uint64_t evaluated, frauds, not_evaluated;
        double auc_roc, average_precision, card_precision, recall, false_positive_rate,
                money_saved;
};
void report_overall(const struct report *r, struct report_overall *out);

#endif
