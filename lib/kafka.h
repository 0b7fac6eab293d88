/* kafka.h: producer and consumer over librdkafka, with offsets stored only
 * after delivery.
 *
 * Delivery semantics are set here, in code, never left to librdkafka's
 * defaults.  Producer: enable.idempotence=true, acks=all,
 * max.in.flight.requests.per.connection=5, compression (lz4 unless told
 * otherwise), linger.ms and batch limits from the options, message.timeout.ms
 * bounded, murmur2_random partitioner (the Java client's, so any client
 * places a card on the same partition).  Consumer:
 * enable.auto.offset.store=false, enable.auto.commit=true (librdkafka commits
 * only what this module stored), auto.offset.reset=error unless the consumer
 * reads an external topic, range assignment (co-partitioned topics such as
 * tx.normalized and chargebacks land on the same consumer), fetch.wait.max.ms
 * from the options, isolation.level=read_committed, partition EOF off.
 * Both: allow.auto.create.topics=false (topics are created on purpose;
 * the embedded mock broker ignores this, see lib/mock.h).  These keys are
 * reserved: a pass-through property that names one of them is refused with
 * -EINVAL.  Pass-through properties (SASL, TLS, debug, ...) are applied
 * first.
 *
 * Offsets after delivery (DESIGN.md section 4).  Every message a consumer
 * returns carries a struct fraud_kafka_input, a slot in the consumer's
 * tracker.  The stage passes it to fraud_kafka_producer_send() for each
 * output it produces from that message and then calls
 * fraud_kafka_input_done() (at once for an input with no output: rejected,
 * filtered).  An input is complete when it is done and every output it
 * produced has a successful delivery report.  Per partition the tracker
 * keeps its inputs in offset order and advances the partition's ready
 * offset (last complete offset + 1, the next offset to consume) only over a
 * prefix of complete inputs, so offsets are stored in order even when
 * deliveries arrive out of order.  fraud_kafka_consumer_offsets_ready()
 * lists the offsets that moved (a stateful stage puts them into its RocksDB
 * write batch); fraud_kafka_consumer_offsets_store() hands them to
 * librdkafka, whose auto commit or fraud_kafka_consumer_commit() writes
 * them to the group.
 *
 * A failed delivery (librdkafka has retried until message.timeout.ms, or
 * the error is permanent) is counted (delivery_failed, in both the
 * producer's and the consumer's counters) and pins its input: no offset of
 * that partition at or beyond it is ever stored by this consumer.  The
 * stage is expected to stop (store what is ready, exit non-zero); on
 * restart it resumes at the last stored offset and produces the outputs
 * again.  Transport is at-least-once; consumers de-duplicate by
 * transaction id.
 *
 * Rebalances: on assignment an optional hook supplies the start offset of
 * each partition (a stateful stage returns the offsets in its RocksDB
 * store, so a restart resumes there, not at the group's commit; on a first
 * start with an empty store it returns FRAUD_KAFKA_OFFSET_BEGINNING on
 * purpose, since an internal topic's reset policy is "error").  On
 * revocation the consumer flushes its linked producer (bounded by
 * FRAUD_KAFKA_REVOKE_FLUSH_MS), tells an optional hook the final ready
 * offset, stores and commits, and forgets the partitions.
 *
 * Errors: functions that can fail return >= 0 on success and -errno on
 * failure; librdkafka error codes are translated once, by
 * fraud_kafka_errno().  Asynchronous errors (an offset reset, a broker
 * error, a failed commit) are counted in struct fraud_kafka_counters, whose
 * last_error holds the latest as -errno; the text of the latest is kept for
 * a caller that logs it.  This module never logs: librdkafka's own log
 * lines go to the options' log callback (or nowhere), served in the
 * caller's thread by the poll functions.  A client is used by one thread
 * (librdkafka keeps its own threads).
 */
#ifndef FRAUD_KAFKA_H
#define FRAUD_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "lib/bounds.h"

/* Start offsets an assignment hook may give besides an absolute offset. */
#define FRAUD_KAFKA_OFFSET_COMMITTED RD_KAFKA_OFFSET_INVALID /* group's */
#define FRAUD_KAFKA_OFFSET_BEGINNING RD_KAFKA_OFFSET_BEGINNING
#define FRAUD_KAFKA_OFFSET_END       RD_KAFKA_OFFSET_END

struct fraud_kafka_producer;
struct fraud_kafka_consumer;
struct fraud_kafka_tracker;
struct fraud_kafka_input;

/* ---- error mapping ---- */

/* Translates a librdkafka error code to 0 or -errno:
 *   NO_ERROR                                    0
 *   timeouts (local, request, message)          -ETIMEDOUT
 *   local queue full                            -ENOBUFS
 *   message too large                           -EMSGSIZE
 *   unknown topic or partition                  -ENOENT
 *   invalid argument / configuration            -EINVAL
 *   offset out of range, auto offset reset      -ERANGE
 *   no stored offset, partition EOF             -ENODATA
 *   transport failure, all brokers down         -ECONNRESET, -ENOTCONN
 *   name resolution                             -EHOSTUNREACH
 *   authorization, authentication, SSL          -EACCES, -EACCES, -EPROTO
 *   leader moving, not enough replicas, rebalance in progress -EAGAIN
 *   corrupt or invalid message                  -EBADMSG
 *   producer fenced, sequence errors            -EPROTO
 *   fatal (idempotence broken)                  -ENOTRECOVERABLE
 *   purged, destroyed                           -ECANCELED, -ESHUTDOWN
 *   not implemented / unsupported version       -ENOTSUP
 *   anything else                               -EIO */
int fraud_kafka_errno(rd_kafka_resp_err_t err);

/* ---- options ---- */

struct fraud_kafka_property {
        const char *key;   /* borrowed */
        const char *value; /* borrowed */
};

/* What to do when a consumer has no valid offset for a partition.  ERROR
 * (the zero value) is for internal topics: the partition stops and the
 * reset is counted.  EARLIEST is for external input topics (tx.raw). */
enum fraud_kafka_reset {
        FRAUD_KAFKA_RESET_ERROR = 0,
        FRAUD_KAFKA_RESET_EARLIEST,
};

/* Client settings shared by producers and consumers.  Strings are borrowed
 * for the duration of the _new call only (librdkafka copies them). */
struct fraud_kafka_options {
        const char *bootstrap_servers; /* "host:port,..."; required */
        const char *client_id;         /* default "fraud" */
        const char *group_id;          /* required by consumers */
        const char *compression;       /* lz4 (default), zstd, gzip, snappy, none */
        int linger_ms;                 /* 1..FRAUD_KAFKA_LINGER_MS_MAX; default 2 */
        int fetch_wait_max_ms;         /* 1..FRAUD_KAFKA_FETCH_WAIT_MS_MAX; default 2 */
        int delivery_timeout_ms;       /* message.timeout.ms; default 30000 */
        int produce_batch_max;         /* batch.num.messages; default 10000 */
        int produce_queue_max;         /* queue.buffering.max.messages; default 100000 */
        int consume_batch_max;         /* messages per poll; default 500 */
        int inflight_max;              /* tracked inputs; default 16384 */
        int auto_commit_interval_ms;   /* default 1000 */
        size_t props_count;
        struct fraud_kafka_property props[FRAUD_KAFKA_PROPS_MAX];
        /* librdkafka's log lines (level is a syslog priority), called from the
         * poll functions in the caller's thread.  NULL: dropped. */
        void (*log_cb)(void *opaque, int level, const char *facility, const char *text);
        void *log_opaque;
};

/* Fills *o with the defaults above; bootstrap_servers and group_id NULL. */
void fraud_kafka_options_init(struct fraud_kafka_options *o);

/* Appends a pass-through property (borrowed).  -ENOBUFS when
 * FRAUD_KAFKA_PROPS_MAX are set, -EINVAL for a reserved key. */
int fraud_kafka_options_property_add(struct fraud_kafka_options *o, const char *key,
                                     const char *value);

/* Checks ranges, required fields and reserved keys; 0 or -EINVAL, with the
 * reason in err when err is not NULL. */
int fraud_kafka_options_check(const struct fraud_kafka_options *o, bool consumer, char *err,
                              size_t err_size);

/* ---- counters ---- */

struct fraud_kafka_counters {
        uint64_t produced;        /* messages accepted by producer_send */
        uint64_t delivered;       /* successful delivery reports */
        uint64_t delivery_failed; /* failed delivery reports (producer); failed
                                   * inputs (consumer) */
        uint64_t consumed;        /* messages returned by poll_batch */
        uint64_t offset_resets;   /* partitions without a valid offset */
        uint64_t errors;          /* other asynchronous errors */
        int last_error;           /* latest of the above as -errno; 0 if none */
};

/* ---- producer ---- */

/* One message to produce.  Borrowed; key and value are copied. */
struct fraud_kafka_record {
        const char *topic;
        int32_t partition; /* -1: by key */
        const void *key;
        size_t key_size;
        const void *value;
        size_t value_size;
};

/* On success *out owns a new producer (release with
 * fraud_kafka_producer_free()).  On failure -errno and, if err is not NULL,
 * the reason in err (always NUL-terminated). */
int fraud_kafka_producer_new(const struct fraud_kafka_options *opts,
                             struct fraud_kafka_producer **out, char *err, size_t err_size);

/* Flushes (bounded by FRAUD_KAFKA_CLOSE_FLUSH_MS) and destroys; messages
 * still undelivered then are dropped without a report (they may or may not
 * have reached the broker).  Every consumer that names p must be freed
 * first.  fraud_kafka_producer_free(NULL) is a no-op. */
void fraud_kafka_producer_free(struct fraud_kafka_producer *p);

/* Queues one message.  from is the input it was produced from (borrowed,
 * may be NULL): its offset will not be stored before this message's
 * delivery report.  When librdkafka's queue is full, serves delivery reports
 * and retries up to FRAUD_KAFKA_QUEUE_FULL_RETRIES times.  Returns 0,
 * -ENOBUFS (queue still full), -EMSGSIZE, -ENOTRECOVERABLE after a fatal
 * producer error, or another -errno. */
int fraud_kafka_producer_send(struct fraud_kafka_producer *p, const struct fraud_kafka_record *rec,
                              struct fraud_kafka_input *from);

/* Serves delivery reports and events, waiting up to timeout_ms for the
 * first.  Returns the number of events served. */
int fraud_kafka_producer_poll(struct fraud_kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms until every queued message has its delivery report
 * (served).  0, or -ETIMEDOUT with messages still outstanding. */
int fraud_kafka_producer_flush(struct fraud_kafka_producer *p, int timeout_ms);

/* Messages queued or in flight, without a served delivery report. */
int fraud_kafka_producer_outstanding(const struct fraud_kafka_producer *p);

void fraud_kafka_producer_counters(const struct fraud_kafka_producer *p,
                                   struct fraud_kafka_counters *out);

/* Text of the latest error ("" if none).  Borrowed until the next call. */
const char *fraud_kafka_producer_error(const struct fraud_kafka_producer *p);

/* ---- consumer ---- */

/* A next offset to consume, as stored in Kafka and in a RocksDB store. */
struct fraud_kafka_offset {
        const char *topic; /* borrowed from the consumer */
        int32_t partition;
        int64_t offset; /* last complete input + 1 */
};

/* A consumed message.  Borrowed from the consumer until the next
 * fraud_kafka_consumer_poll_batch(), _close() or _free(). */
struct fraud_kafka_message {
        const char *topic;
        int32_t partition;
        int64_t offset;
        int64_t timestamp_ms; /* -1 if the message has none */
        const void *key;      /* NULL if none */
        size_t key_size;
        const void *value;
        size_t value_size;
        struct fraud_kafka_input *input; /* pass to producer_send, then done */
};

/* What a consumer reads and how it hands over partitions.  Borrowed for the
 * _new call, except producer and opaque which must outlive the consumer. */
struct fraud_kafka_consumer_spec {
        const char *const *topics;
        size_t topics_count; /* 1..FRAUD_KAFKA_TOPICS_MAX */
        enum fraud_kafka_reset reset;
        /* The producer that carries this consumer's outputs (may be NULL):
         * flushed on revocation, purged when the consumer is freed. */
        struct fraud_kafka_producer *producer;
        /* Called once per assigned partition; sets *offset to an absolute
         * offset or a FRAUD_KAFKA_OFFSET_* (it starts as _COMMITTED).  A
         * negative return puts the consumer in a failed state (poll_batch then
         * returns that error).  NULL: start from the group's commit. */
        int (*assign)(void *opaque, const char *topic, int32_t partition, int64_t *offset);
        /* Called once per revoked partition after its outputs were flushed;
         * offset is its ready offset, or -1 if nothing was ever complete. */
        void (*revoke)(void *opaque, const char *topic, int32_t partition, int64_t offset);
        void *opaque;
        /* Commit the absolute offsets assign chose as soon as they are
         * assigned: for a stage whose store holds the offsets of a state
         * that is complete (its outputs delivered), so that the group says
         * where it stands after a restart even before new input comes.
         * Not for a stage with work left to do past its stored offsets
         * (the trainer: a due day is trained after the restart). */
        bool commit_assigned;
};

/* Creates a consumer and subscribes it.  On success *out owns it (release
 * with fraud_kafka_consumer_free()); on failure -errno and the reason in
 * err when not NULL. */
int fraud_kafka_consumer_new(const struct fraud_kafka_options *opts,
                             const struct fraud_kafka_consumer_spec *spec,
                             struct fraud_kafka_consumer **out, char *err, size_t err_size);

/* Closes (if not closed yet), purges the linked producer so no delivery
 * report can reach a freed input, and destroys.  NULL is a no-op. */
void fraud_kafka_consumer_free(struct fraud_kafka_consumer *c);

/* Returns up to consume_batch_max messages in *out, waiting up to
 * timeout_ms for the first and taking the rest only if already there.
 * Serves rebalances, errors and logs.  Each message occupies a tracker
 * slot until it is complete: with no free slot, returns -ENOBUFS at once
 * (serve the producer, finish inputs).  Returns the count, or the error
 * that put the consumer in a failed state (an assignment hook error, a
 * fatal client error).  Error messages are not returned: they are
 * counted. */
int fraud_kafka_consumer_poll_batch(struct fraud_kafka_consumer *c,
                                    const struct fraud_kafka_message **out, int timeout_ms);

/* Copies into out (max entries) the partitions whose ready offset moved past
 * the last stored one.  Returns the count, or -ENOBUFS if more than max
 * (size out to FRAUD_KAFKA_PARTITIONS_MAX).  Only fraud_kafka_input_done(),
 * the producer's poll/flush/send and the consumer's poll change the answer,
 * so what a stage writes to its store is what offsets_store() stores next. */
int fraud_kafka_consumer_offsets_ready(const struct fraud_kafka_consumer *c,
                                       struct fraud_kafka_offset *out, size_t max);

/* Stores every ready offset in librdkafka (committed by auto commit or
 * fraud_kafka_consumer_commit()).  Returns the number stored or -errno. */
int fraud_kafka_consumer_offsets_store(struct fraud_kafka_consumer *c);

/* Stores the ready offsets and commits the stored ones, synchronously.
 * 0 (also when there was nothing to commit) or -errno. */
int fraud_kafka_consumer_commit(struct fraud_kafka_consumer *c);

/* Reads the group's committed offset of one partition into *offset
 * (FRAUD_KAFKA_OFFSET_COMMITTED if none).  0 or -errno. */
int fraud_kafka_consumer_committed(struct fraud_kafka_consumer *c, const char *topic,
                                   int32_t partition, int64_t *offset, int timeout_ms);

/* The partition's high watermark (the offset its next message will get),
 * asked of the broker.  0 or -errno. */
int fraud_kafka_consumer_end_offset(struct fraud_kafka_consumer *c, const char *topic,
                                    int32_t partition, int timeout_ms, int64_t *out);

/* The consumer's position on an assigned partition: the offset of the next
 * message a poll will return (FRAUD_KAFKA_OFFSET_COMMITTED before the first
 * fetch).  0, or -ENOENT when the partition is not assigned. */
int fraud_kafka_consumer_position(struct fraud_kafka_consumer *c, const char *topic,
                                  int32_t partition, int64_t *out);

/* Calls fn for every partition assigned to c with its lag: the high
 * watermark librdkafka last saw in a fetch response minus the consumer's
 * position (the offset after the last message a poll returned); -1 while
 * either is not known (no message returned yet from that partition).  No
 * broker round trip: the watermark is librdkafka's cached one, updated by
 * every fetch response.  topic is borrowed for the call.  Returns the
 * number of partitions, or -errno. */
int fraud_kafka_consumer_lag(const struct fraud_kafka_consumer *c,
                             void (*fn)(void *ctx, const char *topic, int32_t partition,
                                        int64_t lag),
                             void *ctx);

/* Commits, leaves the group (revoking through the hooks) and stops
 * fetching.  Idempotent.  0 or the first -errno met. */
int fraud_kafka_consumer_close(struct fraud_kafka_consumer *c);

void fraud_kafka_consumer_counters(const struct fraud_kafka_consumer *c,
                                   struct fraud_kafka_counters *out);

/* Text of the latest error ("" if none).  Borrowed until the next call. */
const char *fraud_kafka_consumer_error(const struct fraud_kafka_consumer *c);

/* ---- observing other groups ----
 *
 * For tools that wait until the stages have consumed what they were given
 * (fraudctl replay's day barrier): the committed offset of a group the
 * caller is not a member of, and a partition's high watermark, through a
 * short-lived client of opts (its group_id is ignored; the group is never
 * joined).  *committed is FRAUD_KAFKA_OFFSET_COMMITTED when the group has
 * committed nothing there.  0 or -errno with the reason in err. */
int fraud_kafka_group_position(const struct fraud_kafka_options *opts, const char *group,
                               const char *topic, int32_t partition, int timeout_ms,
                               int64_t *committed, int64_t *end, char *err, size_t err_size);

/* ---- inputs and the tracker ----
 *
 * The tracker is the pure bookkeeping behind the consumer (no I/O, exported
 * for its tests).  It holds at most inflight_max inputs in a fixed pool and
 * at most FRAUD_KAFKA_PARTITIONS_MAX partitions.  A slot is freed when its
 * input is complete and at the head of its partition, or, for a partition
 * already forgotten (revoked), when it is done and has no output pending, so
 * an input pointer stays valid until its last delivery report and done. */

/* The stage will add no more outputs to in; after this call in may be
 * freed, so it must not be used again. */
void fraud_kafka_input_done(struct fraud_kafka_input *in);

/* One more output of in is queued; its report must follow through
 * fraud_kafka_input_delivered().  Called by producer_send. */
void fraud_kafka_input_output_add(struct fraud_kafka_input *in);

/* The delivery report of one output of in: err 0 on success, else -errno
 * (in is pinned as failed). */
void fraud_kafka_input_delivered(struct fraud_kafka_input *in, int err);

/* NULL when out of memory or inflight_max is not in 1..INFLIGHT_MAX. */
struct fraud_kafka_tracker *fraud_kafka_tracker_new(size_t inflight_max);
/* Frees every slot, pending or not.  NULL is a no-op. */
void fraud_kafka_tracker_free(struct fraud_kafka_tracker *t);

/* Registers the input at offset of (topic, partition), adding the
 * partition if new.  Returns 0, 1 if the offset went back (the partition's
 * inputs are forgotten and it starts again here), -ENOBUFS when the pool or
 * the partition table is full, -EINVAL for a bad topic or offset. */
int fraud_kafka_tracker_begin(struct fraud_kafka_tracker *t, const char *topic, int32_t partition,
                              int64_t offset, struct fraud_kafka_input **out);

/* Forgets a partition (revoked).  Its pending inputs stay valid until they
 * are done and delivered, but no longer move any offset. */
void fraud_kafka_tracker_forget(struct fraud_kafka_tracker *t, const char *topic,
                                int32_t partition);

/* Same contract as fraud_kafka_consumer_offsets_ready(). */
int fraud_kafka_tracker_ready(const struct fraud_kafka_tracker *t, struct fraud_kafka_offset *out,
                              size_t max);

/* Records that offsets (as returned by _ready) were stored. */
void fraud_kafka_tracker_stored(struct fraud_kafka_tracker *t,
                                const struct fraud_kafka_offset *offsets, size_t count);

/* The ready offset of one partition, or -1 if none / unknown. */
int64_t fraud_kafka_tracker_position(const struct fraud_kafka_tracker *t, const char *topic,
                                     int32_t partition);

size_t fraud_kafka_tracker_free_slots(const struct fraud_kafka_tracker *t);
/* Inputs whose delivery failed, since creation. */
uint64_t fraud_kafka_tracker_failed(const struct fraud_kafka_tracker *t);

#endif
