/* velocity.c: see velocity.h.
 *
 * Ownership: struct velocity owns the store, the write batch, the entity
 * cache, the producer, the consumer and its buffers; it borrows the
 * settings.  Decoded messages live only for the call that handles them.
 */
#include "velocity/velocity.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/connect.h"
#include "common/schema.h"
#include "common/stage.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/store.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "velocity/entities.h"
#include "velocity/features.h"

#define VELOCITY_STORE_FORMAT "velocity-window-1"
#define VELOCITY_LOG_EVERY_US (10 * FRAUD_USEC_PER_SEC)

/* The counters of struct velocity_counters as Prometheus counters. */
static const struct {
        const char *name, *labels, *help;
        size_t offset;
} velocity_counter_rows[] = {
        {"velocity_vectors_total", "", "FeatureVectors produced to the features topic.",
         offsetof(struct velocity_counters, transactions)},
        {"velocity_duplicates_total", "", "Transactions already in their card's window.",
         offsetof(struct velocity_counters, duplicates)},
        {"velocity_chargebacks_total", "{result=\"recorded\"}",
         "Chargebacks consumed, by what became of them.",
         offsetof(struct velocity_counters, chargebacks)},
        {"velocity_chargebacks_total", "{result=\"repeated\"}", "",
         offsetof(struct velocity_counters, chargebacks_repeated)},
        {"velocity_chargebacks_total", "{result=\"ignored\"}", "",
         offsetof(struct velocity_counters, chargebacks_ignored)},
        {"velocity_chargebacks_total", "{result=\"unmatched\"}", "",
         offsetof(struct velocity_counters, chargebacks_unmatched)},
        {"velocity_rejected_total", "", "Inputs sent to the dlq, all reasons.",
         offsetof(struct velocity_counters, rejected)},
        {"velocity_currency_unknown_total", "", "Amounts whose currency could not be converted.",
         offsetof(struct velocity_counters, currency_unknown)},
        {"velocity_history_truncated_total", "",
         "Events dropped from a window for velocity.history_events_max.",
         offsetof(struct velocity_counters, history_truncated)},
        {"velocity_checkpoints_total", "", "RocksDB commits of windows and offsets.",
         offsetof(struct velocity_counters, checkpoints)},
};
#define VELOCITY_COUNTERS (sizeof(velocity_counter_rows) / sizeof(velocity_counter_rows[0]))

struct velocity_metrics {
        struct fraud_metrics *registry;
        uint64_t *counters[VELOCITY_COUNTERS];
        double *partitions, *entities, *events;
        struct fraud_histogram *batch_seconds, *checkpoint_seconds;
        struct fraud_stage_store_gauges store;
};

struct velocity {
        const struct fraud_settings *s; /* borrowed */
        struct features_config cfg;
        struct fraud_store *store;
        struct fraud_store_batch *batch;
        struct entities *entities;
        struct window_scratch scratch;
        struct fraud_connect conn_producer, conn_consumer;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        uint8_t *out;    /* one packed output message */
        size_t out_size; /* kafka.message_bytes_max */
        struct fraud_kafka_offset ready[FRAUD_KAFKA_PARTITIONS_MAX];
        uint64_t failed_seen;     /* delivery failures already known */
        int64_t since_checkpoint; /* input records processed since the last one */
        int64_t checkpoint_ns;    /* monotonic time of the last one */
        int assigned;             /* input partitions assigned, offsets read from RocksDB */
        struct velocity_counters k;
        struct velocity_metrics m;
        char error[FRAUD_KAFKA_ERRSTR_MAX];
};

static int velocity_fail(struct velocity *v, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int velocity_fail(struct velocity *v, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(v->error, sizeof(v->error), fmt, ap);
        va_end(ap);
        return r;
}

/* ---- setup ---- */

static int velocity_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct velocity *v = opaque;
        int r = fraud_store_offset_get(v->store, topic, partition, offset);

        if (r == -ENOENT) {
                *offset = FRAUD_KAFKA_OFFSET_BEGINNING; /* first start: all of it */
                r = 0;
        }
        if (r == 0)
                v->assigned++;
        return r;
}

/* Only counted: the checkpoint writes the offsets of what was processed. */
static void velocity_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct velocity *v = opaque;

        (void)topic;
        (void)partition;
        (void)offset;
        if (v->assigned > 0)
                v->assigned--;
}

static int velocity_metrics_init(struct velocity_metrics *m) {
        struct fraud_metrics *r;

        if (fraud_metrics_new(&m->registry) < 0)
                return -ENOMEM;
        r = m->registry;
        for (size_t i = 0; i < VELOCITY_COUNTERS; i++)
                if (!(m->counters[i] = fraud_metrics_counter(r, velocity_counter_rows[i].name,
                                                             velocity_counter_rows[i].labels,
                                                             velocity_counter_rows[i].help)))
                        return -ENOMEM;
        m->partitions = fraud_metrics_gauge(r, "fraud_kafka_partitions_assigned", "",
                                            "Input partitions assigned to this instance.");
        m->entities = fraud_metrics_gauge(r, "velocity_entities_cached", "",
                                          "Entity windows held in memory.");
        m->events = fraud_metrics_gauge(r, "velocity_events_cached", "",
                                        "Events held in memory, all windows.");
        m->batch_seconds = fraud_metrics_histogram(
                r, "velocity_batch_duration_seconds", "",
                "One consumed batch, from the poll's return to its last output queued (a "
                "checkpoint included when one was due).",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        m->checkpoint_seconds = fraud_metrics_histogram(
                r, "velocity_checkpoint_duration_seconds", "",
                "One checkpoint: delivery reports awaited, RocksDB write batch, offsets stored.",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        if (!m->partitions || !m->entities || !m->events || !m->batch_seconds ||
            !m->checkpoint_seconds)
                return -ENOMEM;
        return fraud_stage_store_gauges_init(&m->store, r);
}

static int velocity_config(struct velocity *v, char *err, size_t err_size) {
        const struct fraud_settings_velocity *c = &v->s->velocity;
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        char why[128];
        size_t n;
        int r;

        r = fraud_featureset_spans_parse(c->window_spans_sec, spans, FRAUD_FEATURESET_SPANS_MAX, &n,
                                         why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "velocity.window_spans_sec: %s", why);
                return r;
        }
        r = features_config_init(&v->cfg, spans, n, c->label_delay_sec, c->label_window_sec,
                                 c->allowed_lateness_sec, (uint32_t)c->history_events_max);
        if (r < 0) {
                snprintf(err, err_size, "velocity: invalid window configuration");
                return r;
        }
        v->out_size = (size_t)v->s->kafka.message_bytes_max;
        v->out = malloc(v->out_size);
        if (!v->out || window_scratch_init(&v->scratch, (uint32_t)c->history_events_max) < 0) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static int velocity_open_store(struct velocity *v, char *err, size_t err_size) {
        struct fraud_store_options o;
        char format[64] = "";
        int r;

        fraud_store_options_init(&o);
        o.sync_commit = v->s->velocity.sync_commit;
        r = fraud_store_open(&v->store, v->s->velocity.state_dir, &o, err, err_size);
        if (r < 0)
                return r;
        r = fraud_store_meta_get(v->store, "format", format, sizeof(format) - 1);
        if (r == -ENOENT)
                r = fraud_store_meta_put(v->store, "format", VELOCITY_STORE_FORMAT,
                                         strlen(VELOCITY_STORE_FORMAT));
        else if (r >= 0 && strcmp(format, VELOCITY_STORE_FORMAT) != 0)
                r = -EPROTO;
        if (r < 0) {
                snprintf(err, err_size, "%s: not a velocity state of format %s (%s)",
                         v->s->velocity.state_dir, VELOCITY_STORE_FORMAT, strerror(-r));
                return r;
        }
        v->batch = fraud_store_batch_new(v->store);
        r = entities_new(v->store, (size_t)v->s->velocity.cache_entities_max,
                         (size_t)v->s->velocity.cache_events_max, &v->entities);
        if (!v->batch || r < 0) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static int velocity_open_kafka(struct velocity *v, char *err, size_t err_size) {
        const struct fraud_settings *s = v->s;
        const char *topics[] = {s->topics.normalized, s->topics.chargebacks};
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 2,
                .reset = FRAUD_KAFKA_RESET_ERROR,
                .assign = velocity_assign,
                .commit_assigned = true,
                .revoke = velocity_revoke,
                .opaque = v,
        };
        int r;

        r = fraud_connect_init(&v->conn_producer, s, NULL, false, err, err_size);
        if (r >= 0)
                r = fraud_kafka_producer_new(&v->conn_producer.options, &v->producer, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&v->conn_consumer, s, s->velocity.group_id, true, err,
                                       err_size);
        spec.producer = v->producer;
        if (r >= 0)
                r = fraud_kafka_consumer_new(&v->conn_consumer.options, &spec, &v->consumer, err,
                                             err_size);
        return r;
}

int velocity_new(const struct fraud_settings *s, struct velocity **out, char *err,
                 size_t err_size) {
        struct velocity *v = calloc(1, sizeof(*v));
        int r;

        if (!v) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        v->s = s;
        r = velocity_config(v, err, err_size);
        if (r >= 0 && (r = velocity_metrics_init(&v->m)) < 0)
                snprintf(err, err_size, "out of memory");
        if (r >= 0) /* first: no state directory is made for a daemon that cannot connect */
                r = velocity_open_kafka(v, err, err_size);
        if (r >= 0) /* before the first poll, whose assignment reads the offsets */
                r = velocity_open_store(v, err, err_size);
        if (r < 0) {
                velocity_free(v);
                return r;
        }
        *out = v;
        return 0;
}

void velocity_free(struct velocity *v) {
        if (!v)
                return;
        fraud_kafka_consumer_free(v->consumer);
        fraud_kafka_producer_free(v->producer);
        entities_free(v->entities);
        fraud_store_batch_free(v->batch);
        fraud_store_close(v->store);
        window_scratch_release(&v->scratch);
        fraud_metrics_free(v->m.registry);
        free(v->out);
        free(v);
}

/* ---- output ---- */

static int velocity_send(struct velocity *v, const char *topic, const char *key,
                         const struct fraud_kafka_message *m, size_t size) {
        struct fraud_kafka_record rec = {
                .topic = topic,
                .partition = -1,
                .key = key,
                .key_size = key ? strlen(key) : 0,
                .value = v->out,
                .value_size = size,
        };
        int r = fraud_kafka_producer_send(v->producer, &rec, m->input);

        if (r < 0)
                return velocity_fail(v, r, "produce to %s: %s", topic,
                                     fraud_kafka_producer_error(v->producer));
        return 0;
}

/* velocity_rejected_reason_total{reason=code}, registered at its first
 * use (the codes are a fixed set in features.c and here). */
static void velocity_reject_count(struct velocity *v, const char *code) {
        char labels[FRAUD_METRICS_LABELS_MAX];
        uint64_t *c;

        snprintf(labels, sizeof(labels), "{reason=\"%s\"}", code);
        c = fraud_metrics_counter(v->m.registry, "velocity_rejected_reason_total", labels,
                                  "Inputs sent to the dlq, by reason.");
        if (c)
                (*c)++;
}

/* Sends m to dlq with its reason.  The original key stays the key. */
static int velocity_reject(struct velocity *v, const struct fraud_kafka_message *m,
                           const char *tx_id, const char *code, const char *reason) {
        Fraud__DeadLetter d;
        char key[FRAUD_VELOCITY_ID_MAX + 1] = "";
        size_t size;

        fraud_stage_dead_letter(&d, "velocity", m, tx_id, code, reason);
        if (fraud__dead_letter__get_packed_size(&d) > v->out_size)
                d.original.len = 0; /* cannot exceed the input, which fitted; be safe */
        size = fraud__dead_letter__pack(&d, v->out);
        if (m->key && m->key_size < sizeof(key))
                memcpy(key, m->key, m->key_size);
        v->k.rejected++;
        velocity_reject_count(v, code);
        fraud_log_warning("rejected %s[%d]@%lld: %s: %s", m->topic, (int)m->partition,
                          (long long)m->offset, code, reason);
        return velocity_send(v, v->s->topics.dlq, key[0] ? key : NULL, m, size);
}

static int velocity_emit(struct velocity *v, const struct fraud_kafka_message *m,
                         Fraud__Transaction *t) {
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;

        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = t->transaction_id;
        fv.transaction = t;
        fv.feature_schema_hash = v->cfg.fs.hash;
        fv.n_values = v->cfg.fs.n;
        fv.values = v->values;
        fv.velocity_time_us = fraud_time_now_us();
        if (fraud__feature_vector__get_packed_size(&fv) > v->out_size)
                return velocity_reject(v, m, t->transaction_id, "too_large",
                                       "feature vector larger than kafka.message_bytes_max");
        v->k.transactions++;
        return velocity_send(v, v->s->topics.features, t->card_hash, m,
                             fraud__feature_vector__pack(&fv, v->out));
}

/* ---- input ---- */

static int velocity_windows(struct velocity *v, const struct features_ids *ids,
                            struct window *w[FRAUD_FEATURESET_ENTITIES]) {
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++) {
                int r;
                w[k] = NULL;
                if (!ids->len[k])
                        continue;
                r = entities_get(v->entities, k, ids->id[k], ids->len[k], &w[k]);
                if (r < 0)
                        return velocity_fail(v, r, "state of %.*s: %s", (int)ids->len[k],
                                             ids->id[k], strerror(-r));
        }
        return 0;
}

static int velocity_transaction(struct velocity *v, const struct fraud_kafka_message *m) {
        Fraud__Transaction *t = fraud__transaction__unpack(NULL, m->value_size, m->value);
        struct window *w[FRAUD_FEATURESET_ENTITIES];
        struct features_ids ids;
        struct features_tx tx;
        const char *why = "";
        int r;

        if (!t)
                return velocity_reject(v, m, NULL, "bad_protobuf", "not a Transaction");
        if (features_tx_from_proto(t, &tx, &ids, &why) < 0) {
                r = velocity_reject(v, m, t->transaction_id, why, "invalid Transaction");
                goto free_t;
        }
        r = velocity_windows(v, &ids, w);
        if (r < 0)
                goto free_t;
        r = features_compute(&v->cfg, &tx, w, &v->scratch, v->values, &v->k.history_truncated);
        if (r < 0) {
                velocity_fail(v, r, "features of %s: out of memory", t->transaction_id);
        } else if (r == 1) {
                v->k.duplicates++;
                r = 0;
        } else {
                v->k.currency_unknown += !tx.currency_known;
                r = velocity_emit(v, m, t);
        }
free_t:
        fraud__transaction__free_unpacked(t, NULL);
        return r;
}

static int velocity_chargeback(struct velocity *v, const struct fraud_kafka_message *m) {
        Fraud__Chargeback *c = fraud__chargeback__unpack(NULL, m->value_size, m->value);
        struct window_chargeback cb;
        struct window *w;
        const char *id = NULL, *why = "";
        size_t id_len = 0;
        int r;

        if (!c)
                return velocity_reject(v, m, NULL, "bad_protobuf", "not a Chargeback");
        r = features_chargeback_from_proto(c, &cb, &id, &id_len, &why);
        if (r < 0) {
                r = velocity_reject(v, m, c->transaction_id, why, "invalid Chargeback");
        } else if (r == 1) {
                v->k.chargebacks_ignored++;
                r = 0;
        } else if ((r = entities_get(v->entities, FRAUD_FEATURESET_TERMINAL, id, id_len, &w)) < 0) {
                velocity_fail(v, r, "state of %s: %s", id, strerror(-r));
        } else {
                r = window_chargeback_add(w, &cb);
                if (r == -ENOENT)
                        v->k.chargebacks_unmatched++;
                else if (r == 1)
                        v->k.chargebacks_repeated++;
                else if (r == 0)
                        v->k.chargebacks++;
                r = r == -ENOMEM ? velocity_fail(v, r, "chargeback: out of memory") : 0;
        }
        fraud__chargeback__free_unpacked(c, NULL);
        return r;
}

static int velocity_message(struct velocity *v, const struct fraud_kafka_message *m) {
        int r;

        if (strcmp(m->topic, v->s->topics.normalized) == 0)
                r = velocity_transaction(v, m);
        else
                r = velocity_chargeback(v, m);
        fraud_kafka_input_done(m->input);
        return r;
}

/* ---- checkpoint ---- */

static int velocity_checkpoint(struct velocity *v) {
        int64_t start_ns = fraud_time_mono_ns();
        int n, r;

        r = fraud_stage_deliveries_wait(v->producer, v->consumer, FRAUD_VELOCITY_FLUSH_MS,
                                        &v->failed_seen, v->error, sizeof(v->error));
        if (r < 0)
                return r;
        n = fraud_kafka_consumer_offsets_ready(v->consumer, v->ready, FRAUD_KAFKA_PARTITIONS_MAX);
        r = n < 0 ? n : entities_write(v->entities, v->batch);
        for (int i = 0; r >= 0 && i < n; i++)
                r = fraud_store_batch_set_offset(v->batch, v->ready[i].topic, v->ready[i].partition,
                                                 v->ready[i].offset);
        if (r >= 0 && fraud_store_batch_count(v->batch) > 0)
                r = fraud_store_batch_commit(v->batch);
        if (r < 0) {
                fraud_store_batch_clear(v->batch);
                return velocity_fail(v, r, "state commit: %s (%s)", strerror(-r),
                                     fraud_store_error(v->store));
        }
        entities_committed(v->entities);
        v->k.checkpoints++;
        v->since_checkpoint = 0;
        v->checkpoint_ns = fraud_time_mono_ns();
        fraud_histogram_observe(v->m.checkpoint_seconds,
                                (double)(v->checkpoint_ns - start_ns) / 1e9);
        r = fraud_kafka_consumer_offsets_store(v->consumer);
        return r < 0 ? velocity_fail(v, r, "offsets store: %s",
                                     fraud_kafka_consumer_error(v->consumer))
                     : 0;
}

static bool velocity_state_full(const struct velocity *v) {
        struct entities_stats st;

        entities_stats(v->entities, &st);
        return st.dirty + FRAUD_FEATURESET_ENTITIES > FRAUD_VELOCITY_COMMIT_ENTITIES_MAX ||
               st.dirty_bytes > FRAUD_VELOCITY_COMMIT_BYTES_MAX;
}

/* After checkpoint_records records, or checkpoint_interval_ms after the
 * last checkpoint when anything is pending (busy or idle input alike): a
 * checkpoint pauses the loop for a delivery round trip and a commit, so it
 * is not taken on every idle poll. */
static bool velocity_checkpoint_due(const struct velocity *v) {
        const struct fraud_settings_velocity *c = &v->s->velocity;

        if (v->since_checkpoint >= c->checkpoint_records)
                return true;
        return v->since_checkpoint > 0 &&
               fraud_time_mono_ns() - v->checkpoint_ns >= c->checkpoint_interval_ms * 1000000;
}

int velocity_step(struct velocity *v, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(v->consumer, &msgs, timeout_ms);
        int64_t start_ns = fraud_time_mono_ns();
        int r;

        if (n == -ENOBUFS) /* every tracker slot awaits a delivery */
                return velocity_checkpoint(v);
        if (n < 0)
                return velocity_fail(v, n, "consume: %s", fraud_kafka_consumer_error(v->consumer));
        for (int i = 0; i < n; i++) {
                if (velocity_state_full(v) && (r = velocity_checkpoint(v)) < 0)
                        return r;
                r = velocity_message(v, &msgs[i]);
                if (r < 0)
                        return r;
                v->since_checkpoint++;
        }
        fraud_kafka_producer_poll(v->producer, 0);
        if (velocity_checkpoint_due(v) &&
            (r = velocity_checkpoint(v)) < 0)
                return r;
        if (n > 0)
                fraud_histogram_observe(v->m.batch_seconds,
                                        (double)(fraud_time_mono_ns() - start_ns) / 1e9);
        return n;
}

/* ---- run, close ---- */

static void velocity_log_progress(const void *stage) {
        const struct velocity *v = stage;
        struct fraud_kafka_counters kc;
        struct entities_stats st;

        fraud_kafka_consumer_counters(v->consumer, &kc);
        entities_stats(v->entities, &st);
        fraud_log_info("transactions=%llu duplicates=%llu chargebacks=%llu rejected=%llu "
                       "truncated=%llu entities=%llu events=%llu offset_resets=%llu",
                       (unsigned long long)v->k.transactions, (unsigned long long)v->k.duplicates,
                       (unsigned long long)v->k.chargebacks, (unsigned long long)v->k.rejected,
                       (unsigned long long)v->k.history_truncated, (unsigned long long)st.cached,
                       (unsigned long long)st.events, (unsigned long long)kc.offset_resets);
}

static int velocity_loop_step(void *stage, int timeout_ms) {
        return velocity_step(stage, timeout_ms);
}

int velocity_run(struct velocity *v, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = v,
                .step = velocity_loop_step,
                .progress = velocity_log_progress,
                .progress_every_us = VELOCITY_LOG_EVERY_US,
                .consumer = v->consumer,
                .partitions = "an input partition",
        };

        return fraud_stage_loop(&loop, stop);
}

int velocity_close(struct velocity *v) {
        int r;

        if (!v)
                return 0;
        r = velocity_checkpoint(v);
        r = fraud_stage_leave(v->consumer, v->store, r, v->error, sizeof(v->error));
        velocity_free(v);
        return r;
}

void velocity_counters(const struct velocity *v, struct velocity_counters *out) {
        *out = v->k;
}

const char *velocity_error(const struct velocity *v) {
        return v->error;
}

uint64_t velocity_schema_hash(const struct velocity *v) {
        return v->cfg.fs.hash;
}

const struct fraud_metrics *velocity_metrics(struct velocity *v) {
        struct velocity_metrics *m = &v->m;
        struct entities_stats st;

        for (size_t i = 0; i < VELOCITY_COUNTERS; i++)
                *m->counters[i] =
                        *(const uint64_t *)((const char *)&v->k + velocity_counter_rows[i].offset);
        entities_stats(v->entities, &st);
        *m->partitions = v->assigned;
        *m->entities = (double)st.cached;
        *m->events = (double)st.events;
        fraud_stage_store_gauges_update(&m->store, v->store);
        return m->registry;
}

bool velocity_ready(const struct velocity *v, char *why, size_t why_size) {
        if (v->assigned > 0)
                return true;
        snprintf(why, why_size, "waiting for a partition of %s", v->s->topics.normalized);
        return false;
}
