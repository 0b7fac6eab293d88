/* trainer.h: the trainer stage object and its loop (stage 5 of 5).
 *
 * consume Labels (topics.labels) -> add each version to its row in the
 * label store (trainer/labelstore.h; bad input to dlq) -> wait for the
 * dead letters' delivery -> write rows, schedule marks and consumed offsets
 * in one RocksDB write batch -> store the offsets in Kafka -> when a label
 * day is complete (trainer/schedule.h), one training round for its cutoff.
 *
 * A round at cutoff D (the midnight that ended the day):
 *   1. the training set: rows with a label known by D, event time in
 *      [D - window_days, D - label_maturity_days), of the served feature
 *      schema (trainer/dataset.h), from the committed store;
 *   2. trainer/round.h: the holdout is the last holdout_days of that
 *      range, GBDT and MLP trained on the days before, thresholds set on
 *      the holdout, and the registry's champion scored on the same holdout;
 *   3. trainer/gate.h decides; the version ("train-YYYYMMDD", the last
 *      label day) is written to the registry (trainer/registry.h) as
 *      champion or rejected, with the gate's reason, its lineage (parent:
 *      the champion it was compared with) and metrics;
 *   4. the day is marked done in the store (with the eviction of rows
 *      older than D - window_days - evict_margin_days);
 *   5. a promoted version is announced on topics.models
 *      (trainer/announce.h); the scorer swaps to it between two batches.
 * A day that cannot train (a part without frauds or without legitimate
 * payments, more rows than trainer.rows_max) is logged, counted and marked
 * done: it is not tried again.  A day whose version is in the registry
 * already (a crash after step 3) is marked done without training again.
 *
 * Restart: rows, marks and offsets are one write batch, and the consumer
 * resumes at the stored offsets (assign hook), so no label is lost and no
 * day is trained twice.  At start the registry's champion is announced
 * again: an announcement lost in a crash after step 4, or a change made by
 * `fraudctl model` while Kafka was down, reaches the scorer (which ignores
 * a version it serves already).
 *
 * One instance: a training set needs every label, and a second member of
 * the group would hold only some partitions' labels.
 *
 * The consumer does not poll while a round trains: max.poll.interval.ms is
 * set in code to trainer.round_max_sec plus kafka.session_timeout_ms, so
 * the group keeps the trainer through a round.  One thread; XGBoost
 * trains with trainer.threads threads.
 *
 * Bad input (not a Label, a bad schema version, no transaction id or
 * features, known_at before the event, an unspecified value or status, a
 * non-finite feature) goes to dlq with its reason and is counted; it never
 * stops the loop.  A failed delivery or store write does: the step returns
 * -errno and the daemon exits non-zero.
 */
#ifndef FRAUD_TRAINER_H
#define FRAUD_TRAINER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"

struct trainer;

struct trainer_counters {
        uint64_t labels;        /* label versions added */
        uint64_t duplicates;    /* same transaction, status and value again */
        uint64_t late;          /* known_at at or before a cutoff already trained */
        uint64_t versions_full; /* FRAUD_TRAINER_LABEL_VERSIONS_MAX reached: dropped */
        uint64_t rejected;      /* sent to dlq */
        uint64_t rounds;        /* models trained */
        uint64_t promoted;      /* of which promoted */
        uint64_t gate_rejected; /* of which rejected by the gate */
        uint64_t days_skipped;  /* days that could not train */
        uint64_t announced;     /* ModelAnnouncements delivered */
        uint64_t checkpoints;   /* store commits */
};

/* Opens the store (trainer.state_dir) and the registry
 * (trainer.registry_dir), connects, and announces the registry's champion
 * if there is one.  s is borrowed and must outlive t.  -errno with the
 * reason in err. */
int trainer_new(const struct fraud_settings *s, struct trainer **out, char *err, size_t err_size);

/* One poll (waiting up to timeout_ms), its processing and checkpoint, then
 * at most one training round.  Returns the messages consumed, or -errno
 * (the stage must stop; the reason is in trainer_error()). */
int trainer_step(struct trainer *t, int timeout_ms);

/* Steps until *stop is set or a step fails; logs progress. */
int trainer_run(struct trainer *t, const volatile sig_atomic_t *stop);

/* Clean shutdown: checkpoint, leave the group, close the store, free.
 * Returns the first error met.  NULL: 0. */
int trainer_close(struct trainer *t);

/* Frees without a checkpoint or leaving the group (as a crash would).
 * NULL is a no-op. */
void trainer_free(struct trainer *t);

void trainer_counters(const struct trainer *t, struct trainer_counters *out);
const char *trainer_error(const struct trainer *t);

/* Ready (/readyz, READY=1) once a labels partition is assigned, its offset
 * read from the label store (open since trainer_new()); else false and
 * why. */
bool trainer_ready(const struct trainer *t, char *why, size_t why_size);

/* Lowers the calling thread's scheduling priority to nice (Linux applies
 * nice per thread; threads created afterwards -- librdkafka's, XGBoost's
 * -- inherit it, so call it first).  0 or -errno. */
int trainer_priority_lower(int nice);

#endif
