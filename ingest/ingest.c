/* ingest.c: the ingest stage object and its consume -> normalize ->
 * produce -> store-offsets loop (see ingest.h for the delivery design).
 *
 * Per batch, memory comes from an arena reset at the batch's end (encoded
 * outputs, masked dlq copies, the ids of the batch's in-memory seen set);
 * the parser's scratch and the normalized transaction live in the stage
 * object and are reused record by record.  The in-memory set catches a
 * duplicate inside the batch, whose first copy is not in RocksDB yet.
 */
#include "ingest/ingest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/connect.h"
#include "common/schema.h"
#include "common/stage.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"

/* Slots of the batch's seen set: a power of two, twice the largest group. */
#define INGEST_SEEN_SLOTS    (2 * FRAUD_INGEST_COMMIT_RECORDS_MAX)
#define INGEST_KEY_SEEN      's'
#define INGEST_KEY_TIME      't'
#define INGEST_KEY_MAX_EVENT "w"
#define INGEST_STAGE_NAME    "ingest"

_Static_assert((INGEST_SEEN_SLOTS & (INGEST_SEEN_SLOTS - 1)) == 0, "seen slots: a power of two");
_Static_assert(FRAUD_KAFKA_CONSUME_BATCH_MAX <= FRAUD_INGEST_COMMIT_RECORDS_MAX,
               "one poll fits in a batch");
_Static_assert((uint64_t)FRAUD_KAFKA_CONSUME_BATCH_MAX * 2 *
                               (FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX + 1024) <
                       FRAUD_ARENA_BYTES_MAX / 4 * 3,
               "one poll of dead letters fits in three quarters of the arena");

/* Owns its clients, store, write batch, metrics and arena; the consumer
 * borrows the producer (freed after it). */
struct ingest {
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
        struct fraud_store *store;
        struct fraud_store_batch *batch;
        struct fraud_metrics *metrics;
        struct fraud_arena arena;
        struct mapping mapping;
        struct normalize_key key;
        char topic_raw[FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
        char topic_normalized[FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
        char topic_dlq[FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
        int64_t dedup_window_us;
        int flush_timeout_ms;
        int64_t max_event_us; /* INT64_MIN until an event was seen */
        int consume_batch_max;
        int commit_interval_ms;
        int revoke_error; /* a revocation could not record its offset */
        bool closed;
        int assigned; /* partitions assigned, their offsets read from RocksDB */
        /* the counters, in the metrics registry */
        uint64_t *consumed, *normalized, *rejected, *duplicates, *pruned;
        uint64_t *by_reason[NORMALIZE_REASON_COUNT];
        double *partitions;
        struct fraud_histogram *batch_seconds, *commit_seconds;
        struct fraud_stage_store_gauges store_gauges;
        uint64_t delivery_failed_seen;
        const char *batch_ids[INGEST_SEEN_SLOTS]; /* this batch's new ids, in the arena */
        struct mapping_scratch scratch;
        struct normalize_tx tx;
        struct normalize_rejection rej;
        char error[FRAUD_KAFKA_ERRSTR_MAX];
};

static int ingest_fail(struct ingest *g, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int ingest_fail(struct ingest *g, int rc, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(g->error, sizeof(g->error), fmt, ap);
        va_end(ap);
        return rc;
}

/* ---- keys ---- */

static void ingest_be64(uint8_t *p, int64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t ingest_load_be64(const uint8_t *p) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return (int64_t)v;
}

/* "s" id; returns the key length. */
static size_t ingest_seen_key(uint8_t *key, const char *id, size_t len) {
        key[0] = INGEST_KEY_SEEN;
        memcpy(key + 1, id, len);
        return 1 + len;
}

/* "t" time id; returns the key length. */
static size_t ingest_time_key(uint8_t *key, int64_t t, const char *id, size_t len) {
        key[0] = INGEST_KEY_TIME;
        ingest_be64(key + 1, t);
        memcpy(key + 9, id, len);
        return 9 + len;
}

/* ---- the batch's seen set ---- */

static size_t ingest_slot(const struct ingest *g, const char *id, bool *found) {
        uint64_t h = UINT64_C(14695981039346656037);
        size_t i;

        for (const char *p = id; *p; p++)
                h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
        i = (size_t)h & (INGEST_SEEN_SLOTS - 1);
        while (g->batch_ids[i] && strcmp(g->batch_ids[i], id) != 0)
                i = (i + 1) & (INGEST_SEEN_SLOTS - 1);
        *found = g->batch_ids[i] != NULL;
        return i;
}

/* 1 when id was seen (in this batch or in the store), 0 when new, -errno. */
static int ingest_seen(struct ingest *g, const char *id, size_t len) {
        uint8_t key[1 + FRAUD_INGEST_ID_BYTES_MAX], value[8];
        bool found;
        int rc;

        ingest_slot(g, id, &found);
        if (found)
                return 1;
        rc = fraud_store_get(g->store, key, ingest_seen_key(key, id, len), value, sizeof(value));
        if (rc == -ENOENT)
                return 0;
        if (rc < 0)
                return ingest_fail(g, rc, "store: %s", fraud_store_error(g->store));
        return 1;
}

/* Records id as seen at t: in the batch's set and in the write batch. */
static int ingest_remember(struct ingest *g, const char *id, size_t len, int64_t t) {
        uint8_t key[9 + FRAUD_INGEST_ID_BYTES_MAX], value[8];
        bool found;
        size_t slot = ingest_slot(g, id, &found);
        int rc;

        g->batch_ids[slot] = fraud_arena_strndup(&g->arena, id, len);
        if (!g->batch_ids[slot])
                return ingest_fail(g, -ENOMEM, "arena: out of memory");
        ingest_be64(value, t);
        rc = fraud_store_batch_put(g->batch, key, ingest_seen_key(key, id, len), value, 8);
        if (rc == 0)
                rc = fraud_store_batch_put(g->batch, key, ingest_time_key(key, t, id, len), "", 0);
        if (rc < 0)
                return ingest_fail(g, rc, "store batch: %s", strerror(-rc));
        if (t > g->max_event_us)
                g->max_event_us = t;
        return 0;
}

/* Deletes up to FRAUD_INGEST_PRUNE_BATCH_MAX ids older than the horizon. */
static int ingest_prune(struct ingest *g) {
        uint8_t lower[1] = {INGEST_KEY_TIME}, upper[9], seen[1 + FRAUD_INGEST_ID_BYTES_MAX];
        struct fraud_store_iter *it;
        int rc, n = 0;

        if (g->max_event_us == INT64_MIN || g->max_event_us - g->dedup_window_us <= 0)
                return 0;
        ingest_time_key(upper, g->max_event_us - g->dedup_window_us, "", 0);
        rc = fraud_store_iter_new(g->store, lower, sizeof(lower), upper, sizeof(upper), &it);
        if (rc < 0)
                return ingest_fail(g, rc, "store: %s", fraud_store_error(g->store));
        for (rc = fraud_store_iter_seek(it, NULL, 0); rc == 1 && n < FRAUD_INGEST_PRUNE_BATCH_MAX;
             rc = fraud_store_iter_next(it), n++) {
                size_t len;
                const uint8_t *k = fraud_store_iter_key(it, &len);
                size_t id_len = len - 9;
                if (len < 9 || id_len > FRAUD_INGEST_ID_BYTES_MAX)
                        continue; /* not ours: leave it */
                seen[0] = INGEST_KEY_SEEN;
                memcpy(seen + 1, k + 9, id_len);
                if ((rc = fraud_store_batch_delete(g->batch, k, len)) < 0 ||
                    (rc = fraud_store_batch_delete(g->batch, seen, 1 + id_len)) < 0)
                        break;
        }
        fraud_store_iter_free(it);
        if (rc < 0)
                return ingest_fail(g, rc, "store prune: %s", strerror(-rc));
        *g->pruned += (uint64_t)n;
        return 0;
}

/* Queues one output of in (borrowed, copied by librdkafka). */
static int ingest_send(struct ingest *g, const char *topic, const void *key, size_t key_size,
                       const void *value, size_t size, struct fraud_kafka_input *in) {
        struct fraud_kafka_record rec = {topic, -1, key, key_size, value, size};
        int rc = fraud_kafka_producer_send(g->producer, &rec, in);

        if (rc < 0)
                return ingest_fail(g, rc, "produce to %s: %s", topic, strerror(-rc));
        return 0;
}

/* The rejected record's transaction id when it has a readable one, else "". */
static char *ingest_rejected_id(struct ingest *g) {
        static char none[1];
        const struct normalize_value *v = &g->scratch.input.fields[NORMALIZE_FIELD_TRANSACTION_ID];

        if (g->rej.reason < NORMALIZE_MISSING_FIELD || v->kind != NORMALIZE_TEXT ||
            v->len > FRAUD_INGEST_ID_BYTES_MAX || !rawjson_utf8_valid(v->text, v->len))
                return none;
        return fraud_arena_strndup(&g->arena, v->text, v->len);
}

static int ingest_dead_letter(struct ingest *g, const struct fraud_kafka_message *m) {
        Fraud__DeadLetter d;
        size_t kept = m->value_size < FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX
                              ? m->value_size
                              : FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX;
        uint8_t *copy = kept ? fraud_arena_memdup(&g->arena, m->value, kept) : NULL;
        uint8_t *buf;
        char *id;
        size_t size, used = strlen(g->rej.detail);

        if (kept && !copy)
                return ingest_fail(g, -ENOMEM, "arena: out of memory");
        normalize_mask_pans((char *)copy, kept);
        if (kept < m->value_size)
                snprintf(g->rej.detail + used, sizeof(g->rej.detail) - used,
                         " (original cut to %zu of %zu bytes)", kept, m->value_size);
        id = ingest_rejected_id(g);
        if (!id)
                return ingest_fail(g, -ENOMEM, "arena: out of memory");
        fraud_stage_dead_letter(&d, INGEST_STAGE_NAME, m, id, normalize_reason_code(g->rej.reason),
                                g->rej.detail);
        d.original.data = copy; /* masked, cut */
        d.original.len = kept;
        size = fraud__dead_letter__get_packed_size(&d);
        if (!(buf = fraud_arena_alloc(&g->arena, size ? size : 1)))
                return ingest_fail(g, -ENOMEM, "arena: out of memory");
        fraud__dead_letter__pack(&d, buf);
        (*g->rejected)++;
        (*g->by_reason[g->rej.reason])++;
        return ingest_send(g, g->topic_dlq, m->key, m->key_size, buf, size, m->input);
}

/* A valid record: dedup, then Transaction to the normalized topic. */
static int ingest_forward(struct ingest *g, const struct fraud_kafka_message *m) {
        Fraud__Transaction *t = &g->tx.msg;
        size_t id_len = strlen(t->transaction_id), size;
        uint8_t *buf;
        int rc = ingest_seen(g, t->transaction_id, id_len);

        if (rc < 0)
                return rc;
        if (rc == 1) {
                (*g->duplicates)++;
                return 0;
        }
        t->ingest_time_us = fraud_time_now_us();
        size = fraud__transaction__get_packed_size(t);
        if (!(buf = fraud_arena_alloc(&g->arena, size)))
                return ingest_fail(g, -ENOMEM, "arena: out of memory");
        fraud__transaction__pack(t, buf);
        if ((rc = ingest_send(g, g->topic_normalized, t->card_hash, strlen(t->card_hash), buf, size,
                              m->input)) < 0 ||
            (rc = ingest_remember(g, t->transaction_id, id_len, t->event_time_us)) < 0)
                return rc;
        (*g->normalized)++;
        return 0;
}

static int ingest_message(struct ingest *g, const struct fraud_kafka_message *m) {
        const char *value = m->value ? m->value : "";
        int rc;

        (*g->consumed)++;
        memset(&g->scratch.input, 0, sizeof(g->scratch.input));
        rc = mapping_json_input(&g->mapping, value, m->value_size, &g->scratch, &g->rej);
        if (rc == 0)
                rc = normalize_record(&g->scratch.input, &g->key, &g->tx, &g->rej);
        rc = rc == -EBADMSG ? ingest_dead_letter(g, m) : ingest_forward(g, m);
        if (rc == 0)
                fraud_kafka_input_done(m->input);
        return rc;
}

/* Every delivery report of the batch in, then its seen ids, pruning, the
 * largest event time and the offsets in one write batch, then the offsets
 * to Kafka. */
static int ingest_batch_finish(struct ingest *g) {
        struct fraud_kafka_offset offsets[FRAUD_KAFKA_PARTITIONS_MAX];
        struct fraud_kafka_counters k;
        uint8_t max_event[8];
        int rc, n;

        rc = fraud_kafka_producer_flush(g->producer, g->flush_timeout_ms);
        if (rc < 0)
                return ingest_fail(g, rc, "delivery reports still missing after %d ms",
                                   g->flush_timeout_ms);
        fraud_kafka_consumer_counters(g->consumer, &k);
        if (k.delivery_failed != g->delivery_failed_seen) {
                g->delivery_failed_seen = k.delivery_failed;
                return ingest_fail(g, -EIO, "delivery failed: %s",
                                   fraud_kafka_producer_error(g->producer));
        }
        if ((rc = ingest_prune(g)) < 0)
                return rc;
        if (g->max_event_us != INT64_MIN) {
                ingest_be64(max_event, g->max_event_us);
                rc = fraud_store_batch_put(g->batch, INGEST_KEY_MAX_EVENT, 1, max_event, 8);
        }
        n = fraud_kafka_consumer_offsets_ready(g->consumer, offsets, FRAUD_KAFKA_PARTITIONS_MAX);
        if (n < 0)
                rc = n;
        for (int i = 0; rc >= 0 && i < n; i++)
                rc = fraud_store_batch_set_offset(g->batch, offsets[i].topic, offsets[i].partition,
                                                  offsets[i].offset);
        if (rc < 0)
                return ingest_fail(g, rc, "store batch: %s", strerror(-rc));
        if ((rc = fraud_store_batch_commit(g->batch)) < 0)
                return ingest_fail(g, rc, "store commit: %s", fraud_store_error(g->store));
        if ((rc = fraud_kafka_consumer_offsets_store(g->consumer)) < 0)
                return ingest_fail(g, rc, "offsets store: %s",
                                   fraud_kafka_consumer_error(g->consumer));
        return 0;
}

/* Processes what poll_batch returns, and keeps the group open for up to
 * commit_interval_ms from its first record (FRAUD_INGEST_COMMIT_RECORDS_MAX
 * records at most): one flush and one RocksDB commit then serve the whole
 * group.  Records flow on to tx.normalized while the group is open (the
 * producer sends them in the background); only the commit at its end
 * waits, for the delivery round trip and the WAL sync, so the interval sets
 * how often the loop pauses.  A poll of FRAUD_KAFKA_CONSUME_BATCH_MAX dead
 * letters, each up to twice FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX in the
 * arena, fits in the three quarters of it left when accumulation stops at
 * one quarter.  *first_ns: when the first poll returned. */
static int ingest_consume(struct ingest *g, int timeout_ms, int *consumed, int64_t *first_ns) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(g->consumer, &msgs, timeout_ms);
        int64_t close_ns = fraud_time_mono_ns() + (int64_t)g->commit_interval_ms * 1000000;
        int rc = 0;

        *first_ns = fraud_time_mono_ns(); /* the group's first records are in hand */
        *consumed = 0;
        while (n > 0) {
                int64_t left_ms;

                for (int i = 0; rc == 0 && i < n; i++)
                        rc = ingest_message(g, &msgs[i]);
                *consumed += n;
                /* Stop while the next poll surely fits: records and arena. */
                if (rc < 0 || *consumed + g->consume_batch_max > FRAUD_INGEST_COMMIT_RECORDS_MAX ||
                    g->arena.bytes_used > FRAUD_ARENA_BYTES_MAX / 4)
                        return rc;
                fraud_kafka_producer_poll(g->producer, 0);
                left_ms = (close_ns - fraud_time_mono_ns()) / 1000000;
                if (g->commit_interval_ms > 0 && left_ms <= 0)
                        break;
                /* Without an interval: only what is already there. */
                if (left_ms < 0)
                        left_ms = 0;
                n = fraud_kafka_consumer_poll_batch(g->consumer, &msgs,
                                                    (int)(left_ms < timeout_ms ? left_ms
                                                                               : timeout_ms));
        }
        if (n == -ENOBUFS) /* the tracker is full: finish what is in hand */
                return 0;
        if (n < 0)
                return ingest_fail(g, n, "consumer: %s", fraud_kafka_consumer_error(g->consumer));
        return g->revoke_error;
}

int ingest_poll(struct ingest *g, int timeout_ms) {
        int64_t first_ns = 0, commit_ns;
        int consumed;
        int rc = ingest_consume(g, timeout_ms, &consumed, &first_ns);

        if (rc == 0 && consumed > 0) {
                commit_ns = fraud_time_mono_ns();
                rc = ingest_batch_finish(g);
                fraud_histogram_observe(g->commit_seconds,
                                        (double)(fraud_time_mono_ns() - commit_ns) / 1e9);
                fraud_histogram_observe(g->batch_seconds,
                                        (double)(fraud_time_mono_ns() - first_ns) / 1e9);
        }
        if (rc < 0)
                fraud_store_batch_clear(g->batch);
        if (consumed > 0)
                memset(g->batch_ids, 0, sizeof(g->batch_ids));
        fraud_arena_reset(&g->arena);
        return rc < 0 ? rc : consumed;
}

static int ingest_loop_step(void *stage, int timeout_ms) {
        return ingest_poll(stage, timeout_ms);
}

static void ingest_loop_summary(const void *stage) {
        ingest_log_summary(stage);
}

int ingest_run(struct ingest *g, int64_t log_interval_sec, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = g,
                .step = ingest_loop_step,
                .progress = ingest_loop_summary,
                .progress_every_us = log_interval_sec * FRAUD_USEC_PER_SEC,
                .consumer = g->consumer,
                .partitions = "a partition of the raw topic",
        };

        return fraud_stage_loop(&loop, stop);
}

/* ---- life cycle ---- */

/* Starts each partition at the offset in RocksDB; without one, at the
 * group's commit (then the earliest message: tx.raw is external). */
static int ingest_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct ingest *g = opaque;
        int64_t next;
        int rc = fraud_store_offset_get(g->store, topic, partition, &next);

        if (rc == -ENOENT) {
                *offset = FRAUD_KAFKA_OFFSET_COMMITTED;
                g->assigned++;
                return 0;
        }
        if (rc < 0)
                return rc;
        *offset = next;
        g->assigned++;
        return 0;
}

/* A partition leaves while a group is in hand: its outputs are flushed by
 * now, so its ready offset goes into the pending write batch with the seen
 * ids it covers. */
static void ingest_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct ingest *g = opaque;
        int rc;

        if (g->assigned > 0)
                g->assigned--;
        if (offset < 0 || !g->batch)
                return;
        rc = fraud_store_batch_set_offset(g->batch, topic, partition, offset);
        if (rc < 0)
                g->revoke_error = ingest_fail(g, rc, "store batch: %s", strerror(-rc));
}

/* What an operator watches besides the counts: partitions, time, RocksDB. */
static int ingest_metrics_register_ops(struct ingest *g) {
        g->partitions = fraud_metrics_gauge(g->metrics, "fraud_kafka_partitions_assigned", "",
                                            "Input partitions assigned to this instance.");
        g->batch_seconds = fraud_metrics_histogram(
                g->metrics, "ingest_batch_duration_seconds", "",
                "From a group's first records in hand to its commit (ingest.commit_interval_ms "
                "and the commit).",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        g->commit_seconds = fraud_metrics_histogram(
                g->metrics, "ingest_commit_duration_seconds", "",
                "One commit: delivery reports awaited, RocksDB write batch, offsets stored.",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        if (!g->partitions || !g->batch_seconds || !g->commit_seconds)
                return -ENOMEM;
        return fraud_stage_store_gauges_init(&g->store_gauges, g->metrics);
}

static int ingest_metrics_register(struct ingest *g) {
        char labels[FRAUD_METRICS_LABELS_MAX];
        int rc = fraud_metrics_new(&g->metrics);

        if (rc < 0)
                return rc;
        g->consumed = fraud_metrics_counter(g->metrics, "ingest_consumed_total", "",
                                            "Raw records consumed.");
        g->normalized = fraud_metrics_counter(g->metrics, "ingest_normalized_total", "",
                                              "Transactions produced to the normalized topic.");
        g->duplicates = fraud_metrics_counter(g->metrics, "ingest_duplicates_total", "",
                                              "Records whose transaction id was already seen.");
        g->pruned = fraud_metrics_counter(g->metrics, "ingest_dedup_pruned_total", "",
                                          "Seen ids forgotten past the dedup horizon.");
        g->rejected = fraud_metrics_counter(g->metrics, "ingest_rejected_total", "",
                                            "Records sent to the dlq, all reasons.");
        for (int r = 1; r < NORMALIZE_REASON_COUNT; r++) {
                snprintf(labels, sizeof(labels), "{reason=\"%s\"}", normalize_reason_code(r));
                g->by_reason[r] =
                        fraud_metrics_counter(g->metrics, "ingest_rejected_reason_total", labels,
                                              "Records sent to the dlq, by reason.");
                if (!g->by_reason[r])
                        return -ENOMEM;
        }
        return g->consumed && g->normalized && g->duplicates && g->pruned && g->rejected
                       ? ingest_metrics_register_ops(g)
                       : -ENOMEM;
}

static int ingest_max_event_load(struct ingest *g) {
        uint8_t v[8];
        int rc = fraud_store_get(g->store, INGEST_KEY_MAX_EVENT, 1, v, sizeof(v));

        g->max_event_us = INT64_MIN;
        if (rc == -ENOENT)
                return 0;
        if (rc != 8)
                return rc < 0 ? rc : -EBADMSG;
        g->max_event_us = ingest_load_be64(v);
        return 0;
}

static int ingest_open(struct ingest *g, const struct ingest_config *cfg, char *err,
                       size_t err_size) {
        const char *topics[] = {g->topic_raw};
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_EARLIEST,
                .assign = ingest_assign,
                .commit_assigned = true,
                .revoke = ingest_revoke,
                .opaque = g,
        };
        int rc = fraud_store_open(&g->store, cfg->state_dir, cfg->store, err, err_size);

        if (rc < 0)
                return rc;
        if ((rc = ingest_max_event_load(g)) < 0) {
                snprintf(err, err_size, "%s: unreadable dedup state", cfg->state_dir);
                return rc;
        }
        if (!(g->batch = fraud_store_batch_new(g->store)) || ingest_metrics_register(g) < 0) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        if ((rc = fraud_kafka_producer_new(cfg->producer, &g->producer, err, err_size)) < 0)
                return rc;
        spec.producer = g->producer;
        return fraud_kafka_consumer_new(cfg->consumer, &spec, &g->consumer, err, err_size);
}

int ingest_new(const struct ingest_config *cfg, struct ingest **out, char *err, size_t err_size) {
        struct ingest *g = calloc(1, sizeof(*g));
        int rc;

        *out = NULL;
        if (!g) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        fraud_arena_init(&g->arena, 0);
        if (cfg->mapping)
                g->mapping = *cfg->mapping;
        else
                mapping_init_default(&g->mapping);
        g->key = *cfg->card_key;
        g->dedup_window_us = cfg->dedup_window_us;
        g->flush_timeout_ms = cfg->flush_timeout_ms;
        g->consume_batch_max = cfg->consumer->consume_batch_max;
        g->commit_interval_ms = cfg->commit_interval_ms;
        snprintf(g->topic_raw, sizeof(g->topic_raw), "%s", cfg->topic_raw);
        snprintf(g->topic_normalized, sizeof(g->topic_normalized), "%s", cfg->topic_normalized);
        snprintf(g->topic_dlq, sizeof(g->topic_dlq), "%s", cfg->topic_dlq);
        rc = ingest_open(g, cfg, err, err_size);
        if (rc < 0) {
                g->closed = true; /* nothing consumed: nothing to store */
                ingest_free(g);
                return rc;
        }
        *out = g;
        return 0;
}

int ingest_close(struct ingest *g) {
        int rc = 0, r;

        if (!g || g->closed)
                return 0;
        g->closed = true;
        if (g->consumer && (r = fraud_kafka_consumer_close(g->consumer)) < 0)
                rc = ingest_fail(g, r, "consumer close: %s",
                                 fraud_kafka_consumer_error(g->consumer));
        fraud_store_batch_free(g->batch);
        g->batch = NULL;
        if ((r = fraud_store_close(g->store)) < 0 && rc == 0)
                rc = ingest_fail(g, r, "store close: %s", strerror(-r));
        g->store = NULL;
        return rc;
}

void ingest_free(struct ingest *g) {
        if (!g)
                return;
        ingest_close(g);
        fraud_kafka_consumer_free(g->consumer);
        fraud_kafka_producer_free(g->producer);
        fraud_store_batch_free(g->batch);
        fraud_store_close(g->store);
        fraud_metrics_free(g->metrics);
        fraud_arena_release(&g->arena);
        free(g);
}

void ingest_counts(const struct ingest *g, struct ingest_counts *out) {
        memset(out, 0, sizeof(*out));
        out->consumed = *g->consumed;
        out->normalized = *g->normalized;
        out->rejected = *g->rejected;
        out->duplicates = *g->duplicates;
        out->pruned = *g->pruned;
        for (int r = 1; r < NORMALIZE_REASON_COUNT; r++)
                out->rejected_by_reason[r] = *g->by_reason[r];
}

const struct fraud_metrics *ingest_metrics(const struct ingest *g) {
        return g->metrics;
}

const struct fraud_metrics *ingest_metrics_refresh(struct ingest *g) {
        *g->partitions = g->assigned;
        fraud_stage_store_gauges_update(&g->store_gauges, g->store);
        return g->metrics;
}

bool ingest_ready(const struct ingest *g, char *why, size_t why_size) {
        if (g->assigned > 0)
                return true;
        snprintf(why, why_size, "waiting for a partition of %s", g->topic_raw);
        return false;
}

const char *ingest_error(const struct ingest *g) {
        return g->error;
}

void ingest_log_summary(const struct ingest *g) {
        char reasons[FRAUD_LOG_LINE_MAX / 2] = "";
        size_t used = 0;

        for (int r = 1; r < NORMALIZE_REASON_COUNT; r++) {
                int n;
                if (*g->by_reason[r] == 0 || used >= sizeof(reasons))
                        continue;
                n = snprintf(reasons + used, sizeof(reasons) - used, " %s=%llu",
                             normalize_reason_code(r), (unsigned long long)*g->by_reason[r]);
                used += n > 0 ? (size_t)n : 0;
        }
        fraud_log_info("consumed=%llu normalized=%llu duplicates=%llu rejected=%llu%s",
                       (unsigned long long)*g->consumed, (unsigned long long)*g->normalized,
                       (unsigned long long)*g->duplicates, (unsigned long long)*g->rejected,
                       reasons);
}

/* ---- from the settings ---- */

struct ingest_holder {
        struct fraud_connect consumer;
        struct fraud_connect producer;
        struct normalize_key key;
        struct mapping mapping;
};

int ingest_holder_new(const struct fraud_settings *s, struct ingest_holder **holder,
                      struct ingest_config *cfg, char *err, size_t err_size) {
        struct ingest_holder *h = calloc(1, sizeof(*h));
        int rc;

        *holder = NULL;
        if (!h)
                return -ENOMEM;
        if (normalize_key_parse(s->ingest.card_hash_key, &h->key) < 0) {
                snprintf(err, err_size,
                         "ingest.card_hash_key: expected 32 hex digits (set it, or "
                         "FRAUD_INGEST_CARD_HASH_KEY)");
                rc = -EINVAL;
        } else if (s->ingest.mapping_file[0]) {
                rc = mapping_load(&h->mapping, s->ingest.mapping_file, err, err_size);
        } else {
                mapping_init_default(&h->mapping);
                rc = 0;
        }
        if (rc == 0)
                rc = fraud_connect_init(&h->consumer, s, s->ingest.group_id, true, err, err_size);
        if (rc == 0)
                rc = fraud_connect_init(&h->producer, s, NULL, false, err, err_size);
        if (rc < 0) {
                free(h);
                return rc;
        }
        *cfg = (struct ingest_config){
                .consumer = &h->consumer.options,
                .producer = &h->producer.options,
                .topic_raw = s->topics.raw,
                .topic_normalized = s->topics.normalized,
                .topic_dlq = s->topics.dlq,
                .state_dir = s->ingest.state_dir,
                .card_key = &h->key,
                .mapping = &h->mapping,
                .dedup_window_us = s->ingest.dedup_window_sec * FRAUD_USEC_PER_SEC,
                .flush_timeout_ms = (int)s->kafka.delivery_timeout_ms + 5000,
                .commit_interval_ms = (int)s->ingest.commit_interval_ms,
        };
        *holder = h;
        return 0;
}

void ingest_holder_free(struct ingest_holder *h) {
        free(h);
}
