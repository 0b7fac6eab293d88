/* view.h: the dashboard's idea -- what the analyst's page shows, built
 * from the records of four topics -- without Kafka or HTTP.
 *
 * Inputs (view_input(), the bytes as received):
 *   Score          (scores)       a decision: counted per minute (outcome,
 *                  cascade stage, latencies, score), streamed to the page
 *                  as a row, and, when REVIEW, opened in the review queue.
 *                  Re-sent Scores (the same transaction id among the last
 *                  DASHBOARD_DEDUP_MAX) are counted and dropped; shadow
 *                  Scores (a challenger's) are counted and dropped.
 *   FeatureVector  (tx.features)  the payment's details (merchant,
 *                  terminal, country, channel, card's last digits), kept
 *                  for DASHBOARD_DETAILS_MAX payments until their Score
 *                  comes (a Score that comes first gets them when they
 *                  do), and its feature values, for drift.
 *   Label          (labels)       counted per minute by value, and by the
 *                  decision it judges (the outcome table).
 *   Chargeback     (chargebacks)  counted per minute by kind; a review
 *                  verdict (REVIEW_FRAUD, REVIEW_LEGIT) closes its item.
 * A record that does not decode, or whose schema version or transaction
 * id is wrong, is counted as rejected and otherwise ignored: the page is
 * a view, and the stage that owns the topic has its own dead letters.
 *
 * Drift (dashboard/psi.h): the PSI of the score (the deciding stage's
 * probability) and of every feature, against a reference.  The model
 * directory holds no training distribution (model.yaml has metadata and
 * metrics only: common/modelfile.h), so the reference is the first
 * psi_reference_records records this dashboard reads after it starts
 * (it rewinds the topics at start, so these are the most recent ones
 * then), and the window the last psi_window_records after them.  The
 * state says so, with the model versions the reference was taken under.
 * Feature names come from the configured feature schema when the vectors'
 * schema hash matches it, else they are feature_<i>; a vector of another
 * length than the first restarts the features' drift.
 *
 * Time: now_us is the caller's wall clock when the record arrived (the
 * per-minute charts: dashboard/stats.h explains why).  Nothing else here
 * reads a clock; the same inputs with the same times give the same state.
 *
 * Verdicts: view_review() decides what an analyst's verdict on an item
 * does, and fills the Chargeback that records it; the caller publishes it
 * and, once delivered, calls view_review_commit(), which closes the item.
 * The Chargeback: kind REVIEW_FRAUD or REVIEW_LEGIT, chargeback_id
 * "review-<transaction id>" (one per transaction: a verdict published
 * twice is one statement to the labeler, which de-duplicates by
 * chargeback id), transaction_time_us the payment's event time, amount,
 * currency and card hash from the Score, merchant and terminal ids from
 * the details when known, reason "analyst review", event_time_us now_us.
 * Why the wall clock there: the verdict is an event of its own, made by a
 * person at the moment of the click; its event time is when it happened,
 * as a payment's is the terminal's clock when it was made and a
 * chargeback's the issuer's when it was sent.  No earlier time would be
 * true (the analyst did not know before), and a later one is not known.
 * Everything downstream then runs on that recorded time, so replays of
 * the chargebacks topic stay deterministic.  The caveat: a verdict on a
 * replayed or simulated stream, whose event time is not today, carries
 * today's time, and moves the labeler's and velocity's watermarks to it;
 * the state shows the stream's event time beside the wall clock so the
 * page can warn.
 *
 * Ownership: inputs are borrowed for the call.  One thread.
 */
#ifndef FRAUD_DASHBOARD_VIEW_H
#define FRAUD_DASHBOARD_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/featureset.h"
#include "dashboard/jsonout.h"
#include "dashboard/limits.h"
#include "dashboard/queue.h"
#include "proto/chargeback.pb-c.h"

#define VIEW_REVIEW_REASON    "analyst review"
#define VIEW_REVIEW_ID_PREFIX "review-"
#define VIEW_ROW_BYTES_MAX    2048 /* one decision row */

enum view_input {
        VIEW_SCORE,
        VIEW_FEATURES,
        VIEW_LABEL,
        VIEW_CHARGEBACK,
        VIEW_INPUTS,
};

struct view_config {
        size_t review_queue_max;      /* 1..DASHBOARD_QUEUE_MAX */
        size_t history_minutes;       /* 1..DASHBOARD_HISTORY_MINUTES_MAX */
        size_t psi_reference_records; /* 1..DASHBOARD_PSI_RECORDS_MAX */
        size_t psi_window_records;    /* 1..DASHBOARD_PSI_RECORDS_MAX */
        size_t psi_bins;              /* 2..DASHBOARD_PSI_BINS_MAX */
        size_t stream_per_sec_max; /* rows streamed per second, 1..DASHBOARD_STREAM_PER_SEC_MAX */
        const struct fraud_featureset *features; /* the served schema; copied */
};

struct view_counters {
        uint64_t inputs[VIEW_INPUTS];         /* records taken */
        uint64_t rejected[VIEW_INPUTS];       /* undecodable or invalid */
        uint64_t duplicates;                  /* re-sent Scores */
        uint64_t shadow;                      /* challenger Scores */
        uint64_t rows_streamed, rows_skipped; /* decision rows over the rate or size limit */
        uint64_t drift_restarts;              /* the features' drift restarted: another length */
};

/* What an analyst's verdict does (view_review()). */
enum view_review {
        VIEW_REVIEW_PUBLISH = 0, /* publish *out, then view_review_commit() */
        VIEW_REVIEW_SAME,        /* closed before with this verdict: nothing to do */
        VIEW_REVIEW_CONFLICT,    /* closed before with the other verdict */
        VIEW_REVIEW_UNKNOWN,     /* not in the queue, no verdict remembered */
};

/* A Chargeback for a verdict, with the strings it points to. */
struct view_chargeback {
        Fraud__Chargeback msg;
        char transaction_id[DASHBOARD_ID_MAX];
        char chargeback_id[DASHBOARD_ID_MAX + sizeof(VIEW_REVIEW_ID_PREFIX)];
        char currency[4];
        char card_hash[DASHBOARD_ID_MAX];
        char merchant_id[DASHBOARD_TEXT_MAX];
        char terminal_id[DASHBOARD_TEXT_MAX];
        char reason[sizeof(VIEW_REVIEW_REASON)];
};

struct view;

/* -EINVAL for a value out of range, -ENOMEM. */
int view_new(const struct view_config *c, struct view **out);
void view_free(struct view *v);

/* One record of kind as received (borrowed).  0, or -EBADMSG when it is
 * rejected (counted). */
int view_input(struct view *v, enum view_input kind, const void *data, size_t size, int64_t now_us);

/* Renders the whole state as one JSON object into j. */
void view_state(const struct view *v, int64_t now_us, struct jsonout *j);

/* The decision rows taken since the last call, as a JSON array ("[...]",
 * NUL-terminated, valid until the next view_input()) in *text; returns its
 * length, 0 when there is no row (then *text is NULL). */
size_t view_rows_take(struct view *v, const char **text);

/* What the verdict on id does; for VIEW_REVIEW_PUBLISH fills *out.
 * *previous is the remembered verdict for SAME and CONFLICT.  -EINVAL for
 * a verdict other than FRAUD or LEGIT. */
int view_review(const struct view *v, const char *id, enum queue_verdict verdict, int64_t now_us,
                struct view_chargeback *out, enum queue_verdict *previous);

/* The verdict's Chargeback was delivered: the item closes.  0 or -ENOENT. */
int view_review_commit(struct view *v, const char *id, enum queue_verdict verdict);

void view_counters(const struct view *v, struct view_counters *out);
const struct queue *view_queue(const struct view *v);

/* "ALLOW", "REVIEW", "BLOCK", "UNSPECIFIED". */
const char *view_decision_name(int decision);
/* "rules", "gbdt", "neural", "none". */
const char *view_stage_name(int stage);
/* "card_present", "contactless", "ecommerce", "moto", "atm", "unspecified". */
const char *view_channel_name(int channel);

#endif
