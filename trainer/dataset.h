/* dataset.h: the trainer's labelled payments and the choice of a training
 * set at a cutoff.  Pure: no I/O, no clock, deterministic; the label store
 * (trainer/labelstore.h) keeps these rows in RocksDB, a backtest can keep
 * them in memory, and both choose training sets with the same functions.
 *
 * A row is one transaction as the scorer saw it (its FeatureVector's
 * values, schema hash, event time and card) with every label version the
 * labeler sent for it, in arrival order.  A correction never rewrites
 * history: a late chargeback adds a version (CORRECTED, fraud, known_at
 * weeks later) beside the provisional legitimate one.  A version equal to
 * one the row has (same status and value) is a duplicate and is not added.
 *
 * The label of a row at cutoff D is its latest version with known_at <= D
 * (ties in known_at: the later arrival): fraud 1, legitimate 0; a row whose
 * versions are all later than D, or whose version at D is UNKNOWN (a
 * blocked payment, whose truth never comes), has no label at D and never
 * trains.
 *
 * The training set at D (struct dataset_window): rows with a label at D
 * whose event time is in [D - window_days, D - maturity_days), of the
 * feature schema the trainer serves.  The last maturity_days are left out
 * because their legitimate labels cannot be known by D yet: only early
 * chargebacks would show, a set of frauds only.
 *
 * Store encoding: key 'R', the event time (8 bytes, big-endian with the
 * sign bit flipped, so keys sort by time), the transaction id; value a
 * versioned little-endian record of the row.  Rows sort by event time, so a
 * window is a key range and eviction a range delete.
 */
#ifndef FRAUD_DATASET_H
#define FRAUD_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

enum dataset_value {
        DATASET_LEGIT = 1,
        DATASET_FRAUD = 2,
        DATASET_UNKNOWN = 3,
};

enum dataset_status {
        DATASET_PROVISIONAL = 1,
        DATASET_CONFIRMED = 2,
        DATASET_CORRECTED = 3,
};

struct dataset_version {
        int64_t known_at_us;
        uint8_t value;  /* enum dataset_value */
        uint8_t status; /* enum dataset_status */
};

struct dataset_row {
        char tx_id[FRAUD_TRAINER_TXID_MAX];
        int64_t event_time_us;
        uint64_t card;        /* FNV-1a 64 of the card hash */
        uint64_t schema_hash; /* of the FeatureVector */
        size_t n_values;
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        size_t n_versions;
        struct dataset_version versions[FRAUD_TRAINER_LABEL_VERSIONS_MAX]; /* arrival order */
};

#define DATASET_KEY_PREFIX 'R'
#define DATASET_KEY_MAX    (1 + 8 + FRAUD_TRAINER_TXID_MAX)
#define DATASET_VALUE_MAX                                                                          \
        (1 + 8 + 8 + 8 + 2 + 1 + 10 * FRAUD_TRAINER_LABEL_VERSIONS_MAX +                           \
         8 * FRAUD_FEATURESET_FEATURES_MAX)

/* Adds v to r: 0 added, 1 duplicate (nothing changed), -E2BIG when r
 * holds FRAUD_TRAINER_LABEL_VERSIONS_MAX versions already. */
int dataset_row_version_add(struct dataset_row *r, const struct dataset_version *v);

/* The version that holds at cutoff_us, or NULL when none was known by then. */
const struct dataset_version *dataset_row_version_at(const struct dataset_row *r,
                                                     int64_t cutoff_us);

/* 1 fraud, 0 legitimate, -1 no label at cutoff_us (see above). */
int dataset_row_label_at(const struct dataset_row *r, int64_t cutoff_us);

/* The key of r into key (DATASET_KEY_MAX bytes); returns its length. */
size_t dataset_key(const struct dataset_row *r, uint8_t *key);
/* The key prefix of every row with event time >= t_us, as a range bound:
 * 9 bytes into key. */
size_t dataset_key_at(int64_t t_us, uint8_t *key);

/* Encodes r (value only; the key holds the id) into buf (cap bytes);
 * returns the length or -ENOBUFS. */
int dataset_row_encode(const struct dataset_row *r, uint8_t *buf, size_t cap);
/* The row of a key and value; -EBADMSG for anything malformed. */
int dataset_row_decode(struct dataset_row *r, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len);

/* ---- a training set at a cutoff ---- */

struct dataset_window {
        int64_t cutoff_us;    /* D */
        int64_t start_us;     /* D - window_days */
        int64_t end_us;       /* D - maturity_days (excluded) */
        uint64_t schema_hash; /* the feature schema rows must have */
        size_t n_features;
};

void dataset_window_at(int64_t cutoff_us, int64_t window_days, int64_t maturity_days,
                       uint64_t schema_hash, size_t n_features, struct dataset_window *w);

/* The rows chosen so far, in the shape a training round takes (arrays
 * owned, grown on demand up to rows_max rows), and what was passed over. */
struct dataset_table {
        size_t n_rows, n_features, capacity, rows_max;
        double *x;
        uint8_t *label;
        int64_t *time_us;
        uint64_t *card;
        uint64_t *row_id;                       /* FNV-1a 64 of the transaction id, for lineage */
        size_t skipped_unlabelled;              /* in the window, no version known by the cutoff */
        size_t skipped_unknown;                 /* in the window, UNKNOWN at the cutoff */
        size_t skipped_schema;                  /* in the window, of another feature schema */
        char newest_tx[FRAUD_TRAINER_TXID_MAX]; /* of the latest event chosen */
        int64_t newest_us;
};

void dataset_table_init(struct dataset_table *t, size_t n_features, size_t rows_max);
void dataset_table_release(struct dataset_table *t);

/* Offers r for the training set of w: 1 appended, 0 passed over (outside
 * the window, or counted as above), -E2BIG beyond rows_max, -ENOMEM. */
int dataset_table_offer(struct dataset_table *t, const struct dataset_window *w,
                        const struct dataset_row *r);

#endif
