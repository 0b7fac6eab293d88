/* ingest.h: the ingest stage object and its loop.
 *
 * Consumes raw JSON from the raw topic (external: a partition without a
 * stored offset starts at the group's commit, else at the earliest
 * message), reads each record through the column mapping (mapping.h) and
 * normalizes it (normalize.h), and produces:
 *
 *   - a valid record, the first time its transaction id is seen, as
 *     fraud.Transaction to the normalized topic, keyed by card_hash;
 *   - an invalid record as fraud.DeadLetter to the dlq topic (reason code,
 *     detail, the original bytes with card numbers masked and cut to
 *     FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX, source topic, partition and
 *     offset), keyed by the source key, counted by reason;
 *   - a duplicate (an id already seen within the dedup horizon): nothing.
 *     It is counted (ingest_duplicates_total), not dead-lettered: at-least-
 *     once producers upstream make duplicates routine, the first copy went
 *     through, and dlq is for input someone must look at.
 *
 * Every consumed record is exactly one of normalized, rejected, duplicate.
 * The first valid record with an id wins: a later record with the same id
 * is a duplicate whatever else it says.  Rejected records are not
 * de-duplicated (each copy is dead-lettered).
 *
 * De-duplication state (RocksDB, lib/store.h), keys in the default column
 * family:
 *   "s" id                      -> event time (8 bytes, big-endian): seen ids
 *   "t" event time (BE) id      -> "": the same ids in event-time order
 *   "w"                         -> the largest event time seen (BE)
 * An id is kept while its event time is within dedup_window of the
 * largest event time seen (event time, never the wall clock); each batch
 * deletes up to FRAUD_INGEST_PRUNE_BATCH_MAX expired ids through the time
 * index.  A record older than the horizon whose id was already pruned is
 * passed on as new: downstream stages de-duplicate by id as well.
 *
 * One batch: poll (and poll again without waiting while records keep
 * coming, up to FRAUD_INGEST_COMMIT_RECORDS_MAX) -> per record parse,
 * normalize, dedup, produce (or dead-letter) -> flush the producer (every
 * delivery report in) -> one RocksDB write batch with the batch's seen ids,
 * the pruned ids, the largest event time and the consumed offsets -> store
 * the offsets in Kafka.  A partition revoked while a batch is in hand has
 * its outputs flushed by the consumer and its ready offset put into the
 * pending write batch (the revoke hook).  A delivery failure or a store error fails the batch
 * before its write batch is committed: nothing of it is recorded as seen or consumed, the stage
 * stops, and a restart reprocesses it (at-least-once; outputs may repeat, ids are never marked seen
 * without their offsets).  On partition assignment the consumer seeks to the offsets in RocksDB.
 */
#ifndef FRAUD_INGEST_H
#define FRAUD_INGEST_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "ingest/mapping.h"
#include "ingest/normalize.h"
#include "lib/kafka.h"
#include "lib/metrics.h"
#include "lib/store.h"

struct ingest;

/* Everything an ingest stage needs; borrowed for ingest_new() only. */
struct ingest_config {
        const struct fraud_kafka_options *consumer; /* group_id set */
        const struct fraud_kafka_options *producer;
        const char *topic_raw;
        const char *topic_normalized;
        const char *topic_dlq;
        const char *state_dir;
        const struct fraud_store_options *store; /* NULL: defaults */
        const struct normalize_key *card_key;
        const struct mapping *mapping; /* NULL: the identity mapping */
        int64_t dedup_window_us;       /* > 0 */
        int flush_timeout_ms;          /* wait for a batch's delivery reports */
        int commit_interval_ms;        /* longest a group stays open; 0: one poll */
};

struct ingest_counts {
        uint64_t consumed;
        uint64_t normalized;
        uint64_t rejected;
        uint64_t duplicates;
        uint64_t pruned; /* seen ids deleted past the horizon */
        uint64_t rejected_by_reason[NORMALIZE_REASON_COUNT];
};

/* Opens the store, creates the producer and the consumer (subscribed).  On
 * success *out owns a new stage (release with ingest_free()); on failure
 * -errno with the reason in err. */
int ingest_new(const struct ingest_config *cfg, struct ingest **out, char *err, size_t err_size);

/* The config of the settings' ingest section and kafka client.  Keeps what
 * it builds (client options, key, mapping) in *holder, which must outlive
 * *cfg; -EINVAL with the reason in err for a missing or bad card hash key,
 * a bad mapping file or unusable Kafka settings. */
struct ingest_holder;
int ingest_holder_new(const struct fraud_settings *s, struct ingest_holder **holder,
                      struct ingest_config *cfg, char *err, size_t err_size);
void ingest_holder_free(struct ingest_holder *h);

/* Runs one batch, waiting up to timeout_ms for the first record.  Returns
 * the records consumed (0 when idle) or -errno: the batch failed (see
 * above) and the stage must stop; ingest_error() says why. */
int ingest_poll(struct ingest *g, int timeout_ms);

/* Polls until *stop is set or a batch fails (its -errno is returned);
 * logs the summary line every log_interval_sec. */
int ingest_run(struct ingest *g, int64_t log_interval_sec, const volatile sig_atomic_t *stop);

/* Leaves the group (storing what is complete), closes the store.  0 or the
 * first -errno.  Idempotent; ingest_free() calls it. */
int ingest_close(struct ingest *g);

/* Closes (if not closed) and frees.  ingest_free(NULL) is a no-op. */
void ingest_free(struct ingest *g);

void ingest_counts(const struct ingest *g, struct ingest_counts *out);

/* The stage's metrics (counters by reason included).  Borrowed. */
const struct fraud_metrics *ingest_metrics(const struct ingest *g);

/* The same, its gauges brought up to date first (partitions assigned,
 * RocksDB's size): for a /metrics render. */
const struct fraud_metrics *ingest_metrics_refresh(struct ingest *g);

/* Ready once a partition of the raw topic is assigned (its offset read
 * from RocksDB, which is open since ingest_new()); else false and why. */
bool ingest_ready(const struct ingest *g, char *why, size_t why_size);

/* The reason of the last failure ("" if none).  Borrowed. */
const char *ingest_error(const struct ingest *g);

/* Logs one summary line of the counts (info). */
void ingest_log_summary(const struct ingest *g);

#endif
