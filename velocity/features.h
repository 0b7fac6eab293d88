/* features.h: one transaction in, its feature vector out: the idea of the
 * velocity stage, on the windows of window.h.
 *
 * Pure: no I/O, no clock.  The caller finds the windows of the
 * transaction's entities (card; terminal = terminal_id, else merchant_id;
 * device; ip; a window is NULL when the transaction has no such id) and
 * features_compute() adds the transaction to each, then reads the vector
 * in the order of common/featureset.h.  The current transaction is
 * included in every window: (t - span, t].
 *
 * Definitions (exact, so a brute-force recomputation can check them):
 *   amounts       in the reference currency, EUR cents, converted per
 *                 transaction with the static table in features.c
 *                 (llround(amount_minor * 100 / (10^decimals * units per
 *                 EUR))), so sums over a card that pays in several
 *                 currencies mean something; integer sums are exact.  A
 *                 currency not in the table counts as amount 0 and sets
 *                 currency_unknown (counted by the stage).
 *   <e>_count_<s>, _amount_sum_, _amount_mean_ (sum / count),
 *   _amount_max_  over the entity's events in (t - s, t]; 0 when the
 *                 entity is absent.
 *   card_merchants_distinct_<s>, card_countries_distinct_<s>,
 *   device_cards_distinct_<s>, ip_cards_distinct_<s>: distinct values in
 *                 (t - s, t] (ids compared by 64-bit FNV-1a hash).
 *   card_seconds_since_prev  t minus the time of the card's previous
 *                 transaction, in seconds, capped at the longest span (also
 *                 when there is none).
 *   card_amount_ratio_mean_<longest>  amount / the card's mean amount over
 *                 the longest span (1 when that mean is 0).
 *   hour_of_day   0..23, UTC; is_night: hour in [0, 6) UTC (the card
 *                 holder's time zone is not known here); is_weekend:
 *                 Saturday or Sunday, UTC.
 *   channel_*     one-hot of Transaction.channel (all 0 if unspecified).
 *   mcc           the merchant category code as a number.
 *   has_device, has_ip  whether the transaction carries one.
 *   card_new_device, card_new_country, card_new_ip: 1 when no earlier
 *                 transaction of the card within (t - longest, t] had the
 *                 same value (0 when the transaction has none).
 *   terminal_label_tx_count  the terminal's transactions with time in
 *                 (t - delay - window, t - delay];
 *   terminal_label_fraud_count  those of them with a fraud chargeback
 *                 whose arrival time is <= t and which was processed
 *                 before this transaction;
 *   terminal_label_fraud_rate  fraud_count / tx_count (0 when tx_count is
 *                 0).
 * The label rule thus uses only what was known at t twice over: the
 * chargeback had arrived by t, and it is about a payment at least `delay`
 * old, whose label had time to mature, so training rows and served rows
 * mean the same thing.  A chargeback of kind REVIEW_LEGIT is not fraud and
 * is ignored; UNSPECIFIED is taken as a plain chargeback.  A chargeback
 * whose transaction the terminal does not hold (unknown, expired) is not
 * recorded (counted by the stage).
 *
 * A transaction whose id the card already holds (same time, same id hash)
 * is a duplicate from upstream: nothing changes and no vector is computed.
 */
#ifndef FRAUD_FEATURES_H
#define FRAUD_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/featureset.h"
#include "proto/chargeback.pb-c.h"
#include "proto/transaction.pb-c.h"
#include "velocity/window.h"

struct features_config {
        struct fraud_featureset fs;
        int64_t spans_us[FRAUD_FEATURESET_SPANS_MAX];
        int64_t label_delay_us, label_window_us;
        struct window_limits limits[FRAUD_FEATURESET_ENTITIES]; /* per entity kind */
};

/* Builds the schema and limits.  Retention: longest span + lateness, for a
 * terminal max(longest span, delay + window) + lateness.  -EINVAL for bad
 * spans (see fraud_featureset_build) or values out of range. */
int features_config_init(struct features_config *c, const int64_t *spans_sec, size_t n_spans,
                         int64_t label_delay_sec, int64_t label_window_sec, int64_t lateness_sec,
                         uint32_t events_max);

/* A transaction reduced to what the windows need. */
struct features_tx {
        uint64_t tx; /* hash of transaction_id */
        int64_t t_us;
        int64_t amount; /* EUR cents; 0 when the currency is unknown */
        bool currency_known;
        uint64_t merchant, country, device, ip, card; /* hashes; 0: none */
        uint32_t mcc;
        int channel; /* Fraud__Channel */
};

/* The entity ids of a transaction, borrowed from it; len 0: absent. */
struct features_ids {
        const char *id[FRAUD_FEATURESET_ENTITIES];
        size_t len[FRAUD_FEATURESET_ENTITIES];
};

/* FNV-1a 64 of len bytes; never 0 for len > 0 (0 means "none"). */
uint64_t features_hash(const char *s, size_t len);

/* EUR cents of amount_minor in currency code.  0, -ENOENT for a currency
 * not in the table, -ERANGE for an amount beyond 2^53 cents. */
int features_currency_to_ref(const char *code, int64_t amount_minor, int64_t *out);

/* Checks and reduces a decoded Transaction (borrowed by *ids).  -EINVAL
 * with *why a stable reason code: "bad_schema_version", "no_transaction_id",
 * "no_card", "bad_event_time", "id_too_long". */
int features_tx_from_proto(const Fraud__Transaction *t, struct features_tx *out,
                           struct features_ids *ids, const char **why);

/* Checks and reduces a decoded Chargeback: *out and the terminal's id
 * (terminal_id, else merchant_id; borrowed).  0, 1 for a kind that is not
 * fraud (ignored), -EINVAL with *why ("bad_schema_version",
 * "no_transaction_id", "no_terminal", "bad_event_time", "id_too_long"). */
int features_chargeback_from_proto(const Fraud__Chargeback *c, struct window_chargeback *out,
                                   const char **id, size_t *id_len, const char **why);

/* Adds tx to the windows w[kind] (NULL: absent; w[CARD] required) and
 * writes c->fs.n values to out.  Returns 0, 1 for a duplicate (nothing
 * changed, out untouched), or -ENOMEM (the windows may hold the
 * transaction partly: the caller stops).  *truncated grows by the events
 * dropped for events_max. */
int features_compute(const struct features_config *c, const struct features_tx *tx,
                     struct window *const w[FRAUD_FEATURESET_ENTITIES], struct window_scratch *s,
                     double *out, uint64_t *truncated);

#endif
