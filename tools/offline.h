/* offline.h: the offline driver shared by `fraudctl features` and
 * `fraudctl evaluate`: transaction and chargeback files, in event-time
 * order, through ingest's and velocity's pure cores, one FeatureVector at a
 * time.
 *
 *   transactions file  a CSV with a header, or JSON lines (one object per
 *                      line; told apart by a first line starting with
 *                      '{'), read through the column mapping
 *                      (ingest/mapping.h) and normalized with the card hash
 *                      key (ingest/normalize.h), exactly as fraud-ingest
 *                      does with tx.raw; columns the mapping does not name
 *                      are ignored, except the simulator's ground truth
 *                      (is_fraud, scenario), which is handed to the caller
 *                      for evaluation only and never reaches the features
 *                      or the label.
 *   chargebacks file   a CSV with a header naming at least transaction_id,
 *                      timestamp (when the chargeback arrived, ISO 8601),
 *                      and merchant_id or terminal_id; transaction_timestamp
 *                      and chargeback_id are used when present.  Every
 *                      record is an issuer chargeback (fraud.Chargeback of
 *                      kind CHARGEBACK), as `fraudctl generate` publishes
 *                      it.
 *
 * Order: the chargebacks are read first, into memory, and sorted by
 * arrival time (stable).  Transactions are then streamed in file order;
 * before a transaction of time t, every chargeback that arrived at or
 * before t is given to its terminal's window (a chargeback and a payment at
 * the same instant: the chargeback first, as the simulator interleaves
 * them on Kafka).  Features are computed by velocity/features.h on
 * windows from velocity/entities.h (in memory, no RocksDB), with the spans,
 * label delay and window, lateness and history limit of the velocity
 * settings: the daemon's values, with one instance and one partition.  The
 * cache is never committed, so it never evicts: every entity's history is
 * exact, and memory grows with the number of entities (checked against
 * FRAUD_VELOCITY_CACHE_ENTITIES_MAX).
 *
 * A log without transaction ids (the mapping maps transaction_id to "")
 * names each payment "L" + its line number.  A transaction id seen before
 * is not taken again (counted as a
 * duplicate), as fraud-ingest drops a repeated id.
 *
 * Label of a row (for training): 1 when a chargeback of that transaction
 * arrived before label_cutoff_us, else 0.  It is known from the whole
 * chargebacks file at once, which is what a training set built after the
 * cutoff knows; it is never the truth column.
 *
 * Rejections: a transaction or chargeback that does not parse or
 * normalize is counted (by reason for transactions) and the first
 * OFFLINE_REJECTS_SHOWN of each file are described on diag as
 * "FILE:LINE: reason: detail".  Nothing is dropped silently.
 */
#ifndef FRAUD_OFFLINE_H
#define FRAUD_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/settings.h"
#include "ingest/mapping.h"
#include "ingest/normalize.h"
#include "proto/chargeback.pb-c.h"
#include "proto/transaction.pb-c.h"
#include "velocity/features.h"

#define OFFLINE_REJECTS_SHOWN    10        /* rejected records described, per file */
#define OFFLINE_CHARGEBACKS_MAX  (1 << 24) /* chargebacks held in memory */
#define OFFLINE_LINE_BYTES_MAX   FRAUD_INGEST_RECORD_BYTES_MAX /* bytes of one record line */
#define OFFLINE_CHECK_EVERY_ROWS 4096      /* transactions between two looks at the cache size */
#define OFFLINE_TIME_ALL         INT64_MAX /* until_us / label_cutoff_us: no limit */
#define OFFLINE_ERR_MAX          1024      /* bytes of an error message */
#define OFFLINE_OPTIONS_MAX      16        /* --NAME VALUE options of one command */

/* When chargebacks reach the velocity windows.
 *
 * ARRIVAL: before the first transaction at or after the chargeback's
 * arrival (exact, for `fraudctl features` and `fraudctl evaluate`).
 *
 * DAY: at the start of the chargeback's delivery day, before the first
 * transaction of that day (offline_chargeback_day()): its arrival day, or,
 * when its transaction is on that day or later (or its time is unknown),
 * the day after the transaction's (the arrival's).  This is the day
 * barrier of `fraudctl backtest` and `fraudctl replay`: a replay can
 * publish a day's chargebacks and wait until the stages have taken them
 * before the day's payments, so the Kafka-connected daemons see the same
 * order as the backtest.  Features are the same as with ARRIVAL, since a
 * window counts only chargebacks that arrived by the payment's time and
 * about payments at least velocity.label_delay_sec (>= one day) older;
 * a chargeback deferred one day is about a payment of that same day. */
enum offline_cb_order {
        OFFLINE_CB_ARRIVAL = 0,
        OFFLINE_CB_DAY,
};

/* One chargeback as read from its file. */
struct offline_chargeback {
        int64_t arrival_us, tx_time_us; /* tx_time_us 0: not in the file */
        uint64_t tx_hash;               /* features_hash() of the transaction id */
        char tx_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char cb_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char merchant[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char terminal[FRAUD_INGEST_ID_BYTES_MAX + 1];
        size_t line;
};

/* The day index (lib/time.h) at whose start DAY order delivers c. */
int64_t offline_chargeback_day(const struct offline_chargeback *c);

/* c as the fraud.Chargeback fraud-velocity and fraud-labeler consume (kind
 * CHARGEBACK); *out borrows c's strings. */
void offline_chargeback_proto(const struct offline_chargeback *c, Fraud__Chargeback *out);

struct offline_options {
        const char *transactions;              /* path */
        const char *chargebacks;               /* path; NULL: none */
        const struct mapping *mapping;         /* transactions' mapping; NULL: the identity */
        const struct normalize_key *key;       /* the card hash key */
        const struct fraud_settings *settings; /* velocity section */
        int64_t until_us;        /* stop at the first transaction at or after; OFFLINE_TIME_ALL */
        int64_t label_cutoff_us; /* chargebacks arriving before count; OFFLINE_TIME_ALL: all */
        FILE *diag;              /* rejections and warnings; NULL: not described */
        enum offline_cb_order cb_order;
        /* DAY order: called at each day barrier (every day from the first
         * transaction's to the last one's, in order), after the day's
         * chargebacks reached the windows, with those chargebacks in
         * delivery order.  NULL: none.  < 0 stops the run. */
        int (*on_day)(void *opaque, int64_t day_start_us, const struct offline_chargeback *cbs,
                      size_t n);
        bool no_features; /* skip velocity: rows carry no values (replay) */
        bool all_lines;   /* on_row also for rejected lines and duplicates (tx NULL) */
        const char *fraud_column; /* the ground-truth flag's column or key; NULL: is_fraud */
};

/* One transaction's vector, borrowed for the callback. */
struct offline_row {
        const Fraud__Transaction *tx;
        const double *values;
        size_t n_values;
        uint64_t schema_hash;
        bool label;           /* a chargeback arrived before the cutoff */
        int is_fraud;         /* ground truth: 0, 1, or -1 when the file has none */
        const char *scenario; /* ground truth: "" when the file has none */
        size_t line;          /* in the transactions file */
        const char *raw;      /* the line as read (no line end) */
        size_t raw_len;
        bool json;            /* the file is JSON lines (else CSV with a header) */
        const char *header;   /* CSV: the header line; NULL for JSON */
        const struct mapping_cells *cells; /* CSV: the line's cells, when it split */
        const char *reject;   /* all_lines: the reason code of a rejected line, else NULL */
};

struct offline_counts {
        uint64_t tx_lines, tx_rejected, tx_duplicates, tx_late, tx_currency_unknown;
        uint64_t tx_by_reason[NORMALIZE_REASON_COUNT];
        uint64_t rows, rows_labelled;
        uint64_t cb_lines, cb_rejected, cb_recorded, cb_unmatched, cb_repeated;
        uint64_t history_truncated;
        uint64_t entities; /* entity windows at the end */
};

/* The features configuration of the velocity settings (spans, label delay
 * and window, lateness, history limit).  0, or -EINVAL with the reason. */
int offline_features_config(const struct fraud_settings *s, struct features_config *c, char *err,
                            size_t err_size);

/* The card hash key: hex (a command-line flag) when not NULL, else the
 * settings' ingest.card_hash_key (FRAUD_INGEST_CARD_HASH_KEY).  0, or
 * -EINVAL with the reason. */
int offline_key_get(const char *hex, const struct fraud_settings *s, struct normalize_key *key,
                    char *err, size_t err_size);

/* The mapping file path when not NULL, else the settings'
 * ingest.mapping_file, else the identity.  0 or -errno with the reason. */
int offline_mapping_get(const char *path, const struct fraud_settings *s, struct mapping *m,
                        char *err, size_t err_size);

/* "YYYY-MM-DD" (exactly) -> its UTC midnight.  0 or -EINVAL. */
int offline_day_parse(const char *s, int64_t *out_us);

/* A command's --NAME VALUE options, each stored (borrowed from argv) in its
 * slot; required ones must be given. */
struct offline_option {
        const char *name;
        const char **slot;
        bool required;
};

/* Parses argv (after the shared options of common/cli.h) into the slots of
 * opts[0..n).  -EINVAL with the reason in err: an unknown or incomplete
 * option, an unexpected argument, a missing required option. */
int offline_options_parse(const struct offline_option *opts, size_t n, int argc, char **argv,
                          char *err, size_t err_size);

/* Runs the files through the cores, calling on_row for every transaction
 * that yields a vector (duplicates and rejects do not), in file order.
 * on_row returning < 0 stops the run with that value.  *counts is filled
 * either way.  0, or -errno with the reason in err (a file unreadable, a
 * bad header, out of memory, too many entities). */
int offline_run(const struct offline_options *o,
                int (*on_row)(void *opaque, const struct offline_row *row), void *opaque,
                struct offline_counts *counts, char *err, size_t err_size);

/* Reads the chargebacks file o->chargebacks alone (rejections counted in
 * counts, described on o->diag), sorted as o->cb_order says, into *out
 * (*n entries; the caller frees it).  0 or -errno with the reason. */
int offline_chargebacks_load(const struct offline_options *o, struct offline_chargeback **out,
                             size_t *n, struct offline_counts *counts, char *err,
                             size_t err_size);

/* Prints the counts as a few lines (what was read, rejected by reason,
 * chargebacks used). */
void offline_counts_print(const struct offline_counts *c, FILE *out);

#endif
