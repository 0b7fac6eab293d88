/* velocity.h: the velocity stage object and its loop.
 *
 * consume (tx.normalized, chargebacks) -> process (features.c on the
 * windows of entities.c) -> produce (FeatureVector to tx.features, keyed
 * by card_hash; rejects to dlq) -> wait for the delivery reports -> write
 * the changed windows and the consumed offsets in one RocksDB write batch
 * -> store the offsets in Kafka.
 *
 * Delivery (DESIGN.md section 4): a checkpoint happens every
 * velocity.checkpoint_records input records or velocity.checkpoint_interval_ms
 * after the previous one (whichever comes first; an idle input too), and
 * earlier when the changed state reaches FRAUD_VELOCITY_COMMIT_ENTITIES_MAX
 * entities or FRAUD_VELOCITY_COMMIT_BYTES_MAX bytes (a write batch must
 * hold it all), or when every tracked input awaits its delivery.  Outputs
 * are produced at once; only durability waits.  It first waits for every
 * delivery report, so the offsets it writes are exactly those of the
 * inputs whose effects are in the state it writes: after a crash the store
 * holds a state and the offsets that produced it, and the consumer resumes
 * there (assign hook), recomputing and re-sending the same vectors (the
 * scorer de-duplicates by transaction id).  A failed or timed-out delivery
 * fails the step: nothing more is written, the caller exits non-zero and
 * the restart resumes from the last checkpoint.
 *
 * Bad input (undecodable bytes, a bad schema version, missing ids) goes to
 * dlq with its reason and the original bytes, and is counted; it never
 * stops the loop.  A chargeback the stage cannot use (not fraud, or its
 * transaction unknown to the terminal) is counted, not dead-lettered.
 *
 * Exactness holds with one instance and one partition of tx.normalized:
 * then every entity sees its events in the same order on every run.  With
 * several partitions, card features stay exact (a card lives in one
 * partition); terminal, device and IP windows see the other partitions'
 * events in arrival order.  The label features depend on which chargebacks
 * were processed before the transaction (always filtered to arrival <= t).
 */
#ifndef FRAUD_VELOCITY_H
#define FRAUD_VELOCITY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "lib/metrics.h"

struct velocity;

struct velocity_counters {
        uint64_t transactions;          /* vectors emitted */
        uint64_t duplicates;            /* transactions already in the card's window */
        uint64_t chargebacks;           /* recorded on their terminal */
        uint64_t chargebacks_repeated;  /* a transaction charged back again */
        uint64_t chargebacks_ignored;   /* not fraud (REVIEW_LEGIT) */
        uint64_t chargebacks_unmatched; /* transaction not held by the terminal */
        uint64_t rejected;              /* sent to dlq */
        uint64_t currency_unknown;      /* amounts not converted */
        uint64_t history_truncated;     /* events dropped for history_events_max */
        uint64_t checkpoints;           /* RocksDB commits */
};

/* Opens the store (settings.velocity.state_dir), the producer and the
 * consumer.  s is borrowed and must outlive v.  -errno with the reason in
 * err. */
int velocity_new(const struct fraud_settings *s, struct velocity **out, char *err, size_t err_size);

/* One poll (waiting up to timeout_ms), its processing and its checkpoint.
 * Returns the number of messages processed, or -errno (the stage must
 * stop; the reason is in velocity_error()). */
int velocity_step(struct velocity *v, int timeout_ms);

/* Steps until *stop is set or a step fails; logs progress. */
int velocity_run(struct velocity *v, const volatile sig_atomic_t *stop);

/* Clean shutdown: leaves the group (offsets stored and committed), closes
 * the store, frees v.  Returns the first error met.  NULL: 0. */
int velocity_close(struct velocity *v);

/* Frees without leaving the group or writing anything (as a crash would,
 * minus the leaked memory).  NULL is a no-op. */
void velocity_free(struct velocity *v);

void velocity_counters(const struct velocity *v, struct velocity_counters *out);
const char *velocity_error(const struct velocity *v);
/* The feature schema hash this instance emits. */
uint64_t velocity_schema_hash(const struct velocity *v);

/* The stage's metrics, brought up to date (the counters above, cache and
 * RocksDB sizes, partitions assigned, batch and checkpoint durations):
 * for a /metrics render.  Borrowed. */
const struct fraud_metrics *velocity_metrics(struct velocity *v);

/* Ready once an input partition is assigned, its offset read from RocksDB
 * (open since velocity_new()); else false and why. */
bool velocity_ready(const struct velocity *v, char *why, size_t why_size);

#endif
