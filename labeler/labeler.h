/* labeler.h: the labeler stage object and its loop (stage 4 of 5).
 *
 * One step: consume a batch from tx.features, scores and chargebacks
 * (one consumer group, labeler.group_id) -> join each message
 * (labeler/join.h: decode, validate, update the transaction's record,
 * settle it up to the watermark) -> advance the watermark over the due
 * index, at most labeler.advance_records_max records per step -> produce
 * every Label to topics.labels, keyed by the card hash (the transaction id
 * when the FeatureVector had none), and every rejection to topics.dlq
 * (stage "labeler", keyed by the input's key) -> wait for every delivery
 * report -> write the changed records, the due index, the clock and the
 * consumed offsets in one RocksDB write batch (labeler/dbstore.h) -> store
 * the offsets in Kafka.  A step also checkpoints early when the pending
 * changes approach what one write batch holds (dbstore_full()).
 *
 * Delivery (DESIGN.md section 4): the offsets written are exactly those of
 * the inputs whose effects are in the state written, and only after the
 * outputs were delivered.  On assignment the consumer starts at the
 * offsets in RocksDB (the beginning on a first start).  After a crash the
 * labeler resumes there and produces again the labels of the lost step:
 * identical ones (same transaction id, status, value, known_at, bytes)
 * as long as the input it consumes again, in whatever order its topics
 * and partitions interleave this time, stays within labeler.lateness_sec
 * of event time (join.h, Time).  A consumer de-duplicates labels by
 * transaction id + status + value: a transaction has at most one label per
 * status and value.  (Re-sent DeadLetters differ in rejected_time_us.)  A
 * failed or timed-out delivery fails the step: the caller exits non-zero
 * and the restart resumes from the last checkpoint.
 *
 * Memory: bounded by the settings whatever the number of transactions:
 * records live in RocksDB, the overlay of one step is bounded
 * (labeler/dbstore.h), a batch is kafka.batch_records_max messages.
 *
 * One instance: the state is one RocksDB keyed by transaction id with the
 * offsets of every partition, and chargebacks keyed by transaction id
 * need not land on their card's partition; a second member of the group
 * would miss part of the join.  (The plan of ARCHITECTURE.md for velocity,
 * a changelog per partition and a repartition by transaction id, applies.)
 */
#ifndef FRAUD_LABELER_H
#define FRAUD_LABELER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "lib/metrics.h"
#include "labeler/join.h"

struct labeler;

struct labeler_counters {
        uint64_t consumed;     /* messages */
        uint64_t labels;       /* Labels produced */
        uint64_t dead_letters; /* DeadLetters produced */
        uint64_t advanced;     /* due entries taken */
        uint64_t checkpoints;  /* RocksDB commits */
        struct join_counters join;
};

/* The join's configuration from settings (days and seconds to
 * microseconds; the largest FeatureVector that still fits a Label in
 * kafka.message_bytes_max).  -EINVAL with the reason in err when
 * maturity_days >= horizon_days. */
int labeler_join_config(const struct fraud_settings *s, struct join_config *out, char *err,
                        size_t err_size);

/* Opens the producer, the consumer and the store (labeler.state_dir).  s
 * is borrowed and must outlive l.  -errno with the reason in err. */
int labeler_new(const struct fraud_settings *s, struct labeler **out, char *err, size_t err_size);

/* One step as above, waiting up to timeout_ms for input (not at all while
 * due records remain).  Returns the messages consumed plus the due entries
 * taken, or -errno (the stage must stop; the reason is in
 * labeler_error()). */
int labeler_step(struct labeler *l, int timeout_ms);

/* Steps until *stop is set or a step fails; logs progress. */
int labeler_run(struct labeler *l, const volatile sig_atomic_t *stop);

/* Clean shutdown: a last checkpoint, leaves the group, flushes and closes
 * the store, frees l.  Returns the first error met.  NULL: 0. */
int labeler_close(struct labeler *l);

/* Frees without a last checkpoint (as a crash would, minus the leaked
 * memory).  NULL is a no-op. */
void labeler_free(struct labeler *l);

void labeler_counters(const struct labeler *l, struct labeler_counters *out);
int64_t labeler_watermark(const struct labeler *l);
/* Open records (transactions within their horizon, held inputs). */
uint64_t labeler_records(const struct labeler *l);
const char *labeler_error(const struct labeler *l);

/* The stage's metrics, brought up to date (the counters above by kind,
 * status and reason, open records, watermark, RocksDB's size, partitions
 * assigned, step and checkpoint durations): for a /metrics render.
 * Borrowed. */
const struct fraud_metrics *labeler_metrics(struct labeler *l);

/* Ready once an input partition is assigned, its offset read from RocksDB
 * (open since labeler_new()); else false and why. */
bool labeler_ready(const struct labeler *l, char *why, size_t why_size);

#endif
