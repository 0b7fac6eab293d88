/* labeler.c: see labeler.h.
 *
 * Ownership: struct labeler owns the store, its write batch, the overlay
 * (dbstore), the join, the producer, the consumer and the output buffer;
 * it borrows the settings.  A consumed message is borrowed until the next
 * poll; it is the tag the join hands back with each output of that input,
 * so the output is tied to it in the consumer's tracker and a rejection
 * keeps the input's key.  Outputs of the watermark's advance have no input
 * (tag NULL): the checkpoint waits for them like for the others.
 */
#include "labeler/labeler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/connect.h"
#include "common/schema.h"
#include "common/stage.h"
#include "labeler/dbstore.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/store.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"

#define LABELER_STORE_FORMAT "labeler-join-1"
#define LABELER_LOG_EVERY_US (10 * FRAUD_USEC_PER_SEC)

#define LABELER_ROW(name, labels, help, field)                                                     \
        { name, labels, help, offsetof(struct labeler_counters, field) }

/* The counters of struct labeler_counters (and its join's) as Prometheus
 * counters; a name's help is given on its first row. */
static const struct {
        const char *name, *labels, *help;
        size_t offset;
} labeler_counter_rows[] = {
        LABELER_ROW("labeler_consumed_total", "", "Messages consumed, all topics.", consumed),
        LABELER_ROW("labeler_labels_total", "", "Labels produced.", labels),
        LABELER_ROW("labeler_dead_letters_total", "", "Inputs sent to the dlq.", dead_letters),
        LABELER_ROW("labeler_advanced_total", "", "Due records settled by the watermark.",
                    advanced),
        LABELER_ROW("labeler_checkpoints_total", "", "RocksDB commits of state and offsets.",
                    checkpoints),
        LABELER_ROW("labeler_inputs_total", "{kind=\"features\"}", "Inputs joined, by kind.",
                    join.features),
        LABELER_ROW("labeler_inputs_total", "{kind=\"scores\"}", "", join.scores),
        LABELER_ROW("labeler_inputs_total", "{kind=\"chargebacks\"}", "", join.chargebacks),
        LABELER_ROW("labeler_duplicates_total", "{kind=\"features\"}",
                    "Inputs seen before, by kind.", join.features_duplicate),
        LABELER_ROW("labeler_duplicates_total", "{kind=\"scores\"}", "", join.scores_duplicate),
        LABELER_ROW("labeler_duplicates_total", "{kind=\"chargebacks\"}", "",
                    join.chargebacks_duplicate),
        LABELER_ROW("labeler_scores_late_total", "", "Scores behind the watermark.",
                    join.scores_late),
        LABELER_ROW("labeler_scores_orphaned_total", "", "Scores of no known transaction.",
                    join.scores_orphaned),
        LABELER_ROW("labeler_chargebacks_held_total", "",
                    "Chargebacks that arrived before their transaction.", join.chargebacks_held),
        LABELER_ROW("labeler_chargebacks_late_total", "",
                    "Chargebacks made before the watermark at their arrival.",
                    join.chargebacks_late),
        LABELER_ROW("labeler_chargebacks_repeated_total", "",
                    "Fraud chargebacks on a transaction already labelled fraud.",
                    join.chargebacks_repeated),
        LABELER_ROW("labeler_label_versions_total", "{status=\"provisional\"}",
                    "Labels emitted, by status.", join.labels_provisional),
        LABELER_ROW("labeler_label_versions_total", "{status=\"confirmed_legit\"}", "",
                    join.labels_confirmed_legit),
        LABELER_ROW("labeler_label_versions_total", "{status=\"confirmed_unknown\"}", "",
                    join.labels_confirmed_unknown),
        LABELER_ROW("labeler_label_versions_total", "{status=\"confirmed_fraud\"}", "",
                    join.labels_confirmed_fraud),
        LABELER_ROW("labeler_label_versions_total", "{status=\"corrected\"}", "",
                    join.labels_corrected),
        LABELER_ROW("labeler_records_finished_total", "", "Transactions removed at their horizon.",
                    join.records_finished),
};
#define LABELER_COUNTERS (sizeof(labeler_counter_rows) / sizeof(labeler_counter_rows[0]))

struct labeler_metrics {
        struct fraud_metrics *registry;
        uint64_t *counters[LABELER_COUNTERS];
        uint64_t *rejected[JOIN_REJECT_REASONS];
        double *partitions, *records, *watermark;
        struct fraud_histogram *batch_seconds, *checkpoint_seconds;
        struct fraud_stage_store_gauges store;
};

struct labeler {
        const struct fraud_settings *s; /* borrowed */
        struct fraud_store *store;
        struct fraud_store_batch *batch;
        struct dbstore *db;
        struct join *join;
        struct fraud_connect conn_producer, conn_consumer;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
        uint8_t *out;    /* one packed output message */
        size_t out_size; /* kafka.message_bytes_max */
        struct fraud_kafka_offset ready[FRAUD_KAFKA_PARTITIONS_MAX];
        uint64_t failed_seen; /* delivery failures already known */
        bool dirty;           /* state or offsets changed since the last checkpoint */
        bool backlog;         /* due records were left for the next step */
        int assigned;         /* input partitions assigned, offsets read from RocksDB */
        struct labeler_counters k;
        struct labeler_metrics m;
        char error[FRAUD_KAFKA_ERRSTR_MAX];
};

static int labeler_fail(struct labeler *l, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int labeler_fail(struct labeler *l, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(l->error, sizeof(l->error), fmt, ap);
        va_end(ap);
        return r;
}

static const char *labeler_topic(const struct labeler *l, enum join_kind kind) {
        if (kind == JOIN_FEATURES)
                return l->s->topics.features;
        return kind == JOIN_SCORE ? l->s->topics.scores : l->s->topics.chargebacks;
}

/* ---- outputs (the join's sink) ---- */

static int labeler_send(struct labeler *l, const char *topic, const void *key, size_t key_size,
                        size_t size, const struct fraud_kafka_message *from) {
        struct fraud_kafka_record rec = {
                .topic = topic,
                .partition = -1,
                .key = key_size ? key : NULL,
                .key_size = key_size,
                .value = l->out,
                .value_size = size,
        };
        int r = fraud_kafka_producer_send(l->producer, &rec, from ? from->input : NULL);

        if (r < 0)
                return labeler_fail(l, r, "produce to %s: %s", topic,
                                    fraud_kafka_producer_error(l->producer));
        return 0;
}

static int labeler_on_label(void *ctx, const struct join_label *lab, void *tag) {
        struct labeler *l = ctx;
        const char *key = lab->card_hash[0] ? lab->card_hash : lab->transaction_id;
        int n = join_label_pack(lab, l->out, l->out_size);

        if (n < 0) /* labeler_join_config() bounds the FeatureVector so that it fits */
                return labeler_fail(l, n, "label of %s does not fit %zu bytes", lab->transaction_id,
                                    l->out_size);
        l->k.labels++;
        return labeler_send(l, l->s->topics.labels, key, strlen(key), (size_t)n, tag);
}

static int labeler_on_reject(void *ctx, const struct join_reject *r, void *tag) {
        struct labeler *l = ctx;
        const struct fraud_kafka_message *m = tag;
        const struct fraud_kafka_message source = {
                .topic = labeler_topic(l, r->kind),
                .partition = r->partition,
                .offset = r->offset,
                .value = r->original,
                .value_size = r->original_size,
        };
        Fraud__DeadLetter d;
        const void *key = m ? m->key : r->transaction_id;
        size_t key_size = m ? (m->key ? m->key_size : 0) : strlen(r->transaction_id);

        fraud_stage_dead_letter(&d, "labeler", &source, r->transaction_id,
                                join_reject_code(r->reason), r->detail);
        if (fraud__dead_letter__get_packed_size(&d) > l->out_size)
                d.original.len = 0; /* the input fitted; its envelope may not */
        l->k.dead_letters++;
        fraud_log_warning("rejected %s[%d]@%lld: %s: %s", d.source_topic, (int)r->partition,
                          (long long)r->offset, d.reason_code, r->detail);
        return labeler_send(l, l->s->topics.dlq, key, key_size,
                            fraud__dead_letter__pack(&d, l->out), m);
}

/* ---- setup ---- */

int labeler_join_config(const struct fraud_settings *s, struct join_config *out, char *err,
                        size_t err_size) {
        const struct fraud_settings_labeler *c = &s->labeler;
        size_t fit = (size_t)s->kafka.message_bytes_max - FRAUD_LABELER_LABEL_OVERHEAD_BYTES;

        if (c->maturity_days >= c->horizon_days) {
                snprintf(err, err_size,
                         "labeler.maturity_days (%lld) must be less than "
                         "labeler.horizon_days (%lld)",
                         (long long)c->maturity_days, (long long)c->horizon_days);
                return -EINVAL;
        }
        *out = (struct join_config){
                .maturity_us = c->maturity_days * FRAUD_USEC_PER_DAY,
                .horizon_us = c->horizon_days * FRAUD_USEC_PER_DAY,
                .lateness_us = c->lateness_sec * FRAUD_USEC_PER_SEC,
                .features_bytes_max = fit < FRAUD_LABELER_FEATURES_BYTES_MAX
                                              ? fit
                                              : FRAUD_LABELER_FEATURES_BYTES_MAX,
        };
        return 0;
}

static int labeler_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct labeler *l = opaque;
        int r = fraud_store_offset_get(l->store, topic, partition, offset);

        if (r == -ENOENT) {
                *offset = FRAUD_KAFKA_OFFSET_BEGINNING; /* first start: all of it */
                r = 0;
        }
        if (r == 0)
                l->assigned++;
        return r;
}

/* Only counted: the checkpoint writes the offsets of what was processed. */
static void labeler_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct labeler *l = opaque;

        (void)topic;
        (void)partition;
        (void)offset;
        if (l->assigned > 0)
                l->assigned--;
}

static int labeler_metrics_counters_init(struct labeler_metrics *m) {
        char labels[FRAUD_METRICS_LABELS_MAX];

        for (size_t i = 0; i < LABELER_COUNTERS; i++)
                if (!(m->counters[i] = fraud_metrics_counter(
                              m->registry, labeler_counter_rows[i].name,
                              labeler_counter_rows[i].labels, labeler_counter_rows[i].help)))
                        return -ENOMEM;
        for (int i = 0; i < JOIN_REJECT_REASONS; i++) {
                snprintf(labels, sizeof(labels), "{reason=\"%s\"}", join_reject_code(i));
                if (!(m->rejected[i] =
                              fraud_metrics_counter(m->registry, "labeler_rejected_reason_total",
                                                    labels, "Inputs sent to the dlq, by reason.")))
                        return -ENOMEM;
        }
        return 0;
}

static int labeler_metrics_init(struct labeler_metrics *m) {
        struct fraud_metrics *r;

        if (fraud_metrics_new(&m->registry) < 0 || labeler_metrics_counters_init(m) < 0)
                return -ENOMEM;
        r = m->registry;
        m->partitions = fraud_metrics_gauge(r, "fraud_kafka_partitions_assigned", "",
                                            "Input partitions assigned to this instance.");
        m->records = fraud_metrics_gauge(r, "labeler_records_open", "",
                                         "Transactions within their horizon, and held inputs.");
        m->watermark = fraud_metrics_gauge(r, "labeler_watermark_seconds", "",
                                           "The event-time watermark, seconds since the epoch.");
        m->batch_seconds = fraud_metrics_histogram(
                r, "labeler_batch_duration_seconds", "",
                "One step with input or due records, from the poll's return to its checkpoint.",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        m->checkpoint_seconds = fraud_metrics_histogram(
                r, "labeler_checkpoint_duration_seconds", "",
                "One checkpoint: delivery reports awaited, RocksDB write batch, offsets stored.",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        if (!m->partitions || !m->records || !m->watermark || !m->batch_seconds ||
            !m->checkpoint_seconds)
                return -ENOMEM;
        return fraud_stage_store_gauges_init(&m->store, r);
}

static int labeler_open_kafka(struct labeler *l, char *err, size_t err_size) {
        const struct fraud_settings *s = l->s;
        const char *topics[] = {s->topics.features, s->topics.scores, s->topics.chargebacks};
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 3,
                .reset = FRAUD_KAFKA_RESET_ERROR,
                .assign = labeler_assign,
                .commit_assigned = true,
                .revoke = labeler_revoke,
                .opaque = l,
        };
        int r;

        r = fraud_connect_init(&l->conn_producer, s, NULL, false, err, err_size);
        if (r >= 0)
                r = fraud_kafka_producer_new(&l->conn_producer.options, &l->producer, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&l->conn_consumer, s, s->labeler.group_id, true, err,
                                       err_size);
        spec.producer = l->producer;
        if (r >= 0)
                r = fraud_kafka_consumer_new(&l->conn_consumer.options, &spec, &l->consumer, err,
                                             err_size);
        return r;
}

static int labeler_open_store(struct labeler *l, const struct join_config *cfg, char *err,
                              size_t err_size) {
        const struct join_sink sink = {labeler_on_label, labeler_on_reject, l};
        struct fraud_store_options o;
        struct join_store js;
        char format[64] = "";
        int r;

        fraud_store_options_init(&o);
        o.sync_commit = l->s->labeler.sync_commit;
        r = fraud_store_open(&l->store, l->s->labeler.state_dir, &o, err, err_size);
        if (r < 0)
                return r;
        r = fraud_store_meta_get(l->store, "format", format, sizeof(format) - 1);
        if (r == -ENOENT)
                r = fraud_store_meta_put(l->store, "format", LABELER_STORE_FORMAT,
                                         strlen(LABELER_STORE_FORMAT));
        else if (r >= 0 && strcmp(format, LABELER_STORE_FORMAT) != 0)
                r = -EPROTO;
        if (r >= 0 &&
            (!(l->batch = fraud_store_batch_new(l->store)) || dbstore_new(l->store, &l->db) < 0))
                r = -ENOMEM;
        if (r >= 0) {
                dbstore_join_store(l->db, &js);
                r = join_new(cfg, &js, &sink, &l->join);
        }
        if (r < 0)
                snprintf(err, err_size, "%s: cannot use as the labeler's state of format %s (%s)",
                         l->s->labeler.state_dir, LABELER_STORE_FORMAT, strerror(-r));
        return r;
}

int labeler_new(const struct fraud_settings *s, struct labeler **out, char *err, size_t err_size) {
        struct labeler *l = calloc(1, sizeof(*l));
        struct join_config cfg;
        int r;

        if (!l) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        l->s = s;
        l->out_size = (size_t)s->kafka.message_bytes_max;
        l->out = malloc(l->out_size);
        r = l->out && labeler_metrics_init(&l->m) == 0 ? labeler_join_config(s, &cfg, err, err_size)
                                                       : -ENOMEM;
        if (r == -ENOMEM)
                snprintf(err, err_size, "out of memory");
        if (r >= 0) /* first: no state directory is made for a daemon that cannot connect */
                r = labeler_open_kafka(l, err, err_size);
        if (r >= 0) /* before the first poll, whose assignment reads the offsets */
                r = labeler_open_store(l, &cfg, err, err_size);
        if (r < 0) {
                labeler_free(l);
                return r;
        }
        *out = l;
        return 0;
}

void labeler_free(struct labeler *l) {
        if (!l)
                return;
        fraud_kafka_consumer_free(l->consumer);
        fraud_kafka_producer_free(l->producer);
        join_free(l->join);
        dbstore_free(l->db);
        fraud_store_batch_free(l->batch);
        fraud_store_close(l->store);
        fraud_metrics_free(l->m.registry);
        free(l->out);
        free(l);
}

/* ---- checkpoint ---- */

static int labeler_checkpoint(struct labeler *l) {
        int64_t start_ns = fraud_time_mono_ns();
        int n, r;

        r = fraud_stage_deliveries_wait(l->producer, l->consumer, FRAUD_LABELER_FLUSH_MS,
                                        &l->failed_seen, l->error, sizeof(l->error));
        if (r < 0)
                return r;
        n = fraud_kafka_consumer_offsets_ready(l->consumer, l->ready, FRAUD_KAFKA_PARTITIONS_MAX);
        r = n < 0 ? n : dbstore_write(l->db, l->batch);
        for (int i = 0; r >= 0 && i < n; i++)
                r = fraud_store_batch_set_offset(l->batch, l->ready[i].topic, l->ready[i].partition,
                                                 l->ready[i].offset);
        if (r >= 0 && fraud_store_batch_count(l->batch) > 0)
                r = fraud_store_batch_commit(l->batch);
        if (r < 0) {
                fraud_store_batch_clear(l->batch);
                return labeler_fail(l, r, "state commit: %s (%s)", strerror(-r),
                                    fraud_store_error(l->store));
        }
        dbstore_clear(l->db);
        l->k.checkpoints++;
        l->dirty = false;
        fraud_histogram_observe(l->m.checkpoint_seconds,
                                (double)(fraud_time_mono_ns() - start_ns) / 1e9);
        /* Kafka learns the offsets only once no due label waits: a group
         * offset at the end of every input then means that every label due
         * so far was delivered (fraudctl replay's day barrier relies on
         * it).  Restarts resume from the store's offsets, written above. */
        if (l->backlog)
                return 0;
        r = fraud_kafka_consumer_offsets_store(l->consumer);
        return r < 0 ? labeler_fail(l, r, "offsets store: %s",
                                    fraud_kafka_consumer_error(l->consumer))
                     : 0;
}

/* ---- one step ---- */

static int labeler_message(struct labeler *l, const struct fraud_kafka_message *m) {
        struct join_input in = {
                .kind = strcmp(m->topic, l->s->topics.features) == 0 ? JOIN_FEATURES
                        : strcmp(m->topic, l->s->topics.scores) == 0 ? JOIN_SCORE
                                                                     : JOIN_CHARGEBACK,
                .data = m->value,
                .size = m->value ? m->value_size : 0,
                .partition = m->partition,
                .offset = m->offset,
                .tag = (void *)m,
        };
        int r = join_input(l->join, &in);

        fraud_kafka_input_done(m->input);
        l->k.consumed++;
        l->dirty = true;
        if (r < 0 && !l->error[0])
                labeler_fail(l, r, "%s[%d]@%lld: %s", m->topic, (int)m->partition,
                             (long long)m->offset, strerror(-r));
        return r;
}

/* Settles due records, at most labeler.advance_records_max. */
static int labeler_advance(struct labeler *l) {
        size_t budget = (size_t)l->s->labeler.advance_records_max, total = 0;
        size_t ask = 1;
        int n = 1, r;

        l->backlog = false;
        while ((size_t)n == ask) {
                if (total == budget) {
                        l->backlog = true;
                        break;
                }
                if (dbstore_full(l->db) && (r = labeler_checkpoint(l)) < 0)
                        return r;
                ask = budget - total < FRAUD_LABELER_ADVANCE_CHUNK ? budget - total
                                                                   : FRAUD_LABELER_ADVANCE_CHUNK;
                n = join_advance(l->join, ask);
                if (n < 0)
                        return l->error[0] ? n : labeler_fail(l, n, "advance: %s", strerror(-n));
                total += (size_t)n;
                l->dirty |= n > 0;
        }
        l->k.advanced += total;
        return (int)total;
}

int labeler_step(struct labeler *l, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(l->consumer, &msgs, l->backlog ? 0 : timeout_ms);
        int64_t start_ns = fraud_time_mono_ns();
        int taken, r;

        if (n == -ENOBUFS) /* every tracker slot awaits a delivery */
                return labeler_checkpoint(l);
        if (n < 0)
                return labeler_fail(l, n, "consume: %s", fraud_kafka_consumer_error(l->consumer));
        for (int i = 0; i < n; i++) {
                if (dbstore_full(l->db) && (r = labeler_checkpoint(l)) < 0)
                        return r;
                r = labeler_message(l, &msgs[i]);
                if (r < 0)
                        return r;
        }
        taken = labeler_advance(l);
        if (taken < 0)
                return taken;
        fraud_kafka_producer_poll(l->producer, 0);
        if (l->dirty && (r = labeler_checkpoint(l)) < 0)
                return r;
        if (n + taken > 0)
                fraud_histogram_observe(l->m.batch_seconds,
                                        (double)(fraud_time_mono_ns() - start_ns) / 1e9);
        return n + taken;
}

/* ---- run, close ---- */

static void labeler_log_progress(const void *stage) {
        const struct labeler *l = stage;
        char wm[FRAUD_TIME_ISO8601_MAX] = "none";
        int64_t w = join_watermark(l->join);
        struct fraud_kafka_counters kc;
        struct join_counters jc;
        uint64_t rejected = 0;

        fraud_kafka_consumer_counters(l->consumer, &kc);
        join_counters(l->join, &jc);
        for (int i = 0; i < JOIN_REJECT_REASONS; i++)
                rejected += jc.rejected[i];
        if (w != INT64_MIN)
                fraud_time_format_iso8601(w, wm);
        fraud_log_info("consumed=%llu labels=%llu rejected=%llu records=%llu watermark=%s "
                       "checkpoints=%llu offset_resets=%llu",
                       (unsigned long long)l->k.consumed, (unsigned long long)l->k.labels,
                       (unsigned long long)rejected, (unsigned long long)join_records(l->join), wm,
                       (unsigned long long)l->k.checkpoints, (unsigned long long)kc.offset_resets);
}

static int labeler_loop_step(void *stage, int timeout_ms) {
        return labeler_step(stage, timeout_ms);
}

int labeler_run(struct labeler *l, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = l,
                .step = labeler_loop_step,
                .progress = labeler_log_progress,
                .progress_every_us = LABELER_LOG_EVERY_US,
                .consumer = l->consumer,
                .partitions = "an input partition",
        };

        return fraud_stage_loop(&loop, stop);
}

int labeler_close(struct labeler *l) {
        int r;

        if (!l)
                return 0;
        r = labeler_checkpoint(l);
        r = fraud_stage_leave(l->consumer, l->store, r, l->error, sizeof(l->error));
        labeler_free(l);
        return r;
}

void labeler_counters(const struct labeler *l, struct labeler_counters *out) {
        *out = l->k;
        join_counters(l->join, &out->join);
}

int64_t labeler_watermark(const struct labeler *l) {
        return join_watermark(l->join);
}

uint64_t labeler_records(const struct labeler *l) {
        return join_records(l->join);
}

const char *labeler_error(const struct labeler *l) {
        return l->error;
}

const struct fraud_metrics *labeler_metrics(struct labeler *l) {
        struct labeler_metrics *m = &l->m;
        struct labeler_counters k;
        int64_t w = join_watermark(l->join);

        labeler_counters(l, &k);
        for (size_t i = 0; i < LABELER_COUNTERS; i++)
                *m->counters[i] =
                        *(const uint64_t *)((const char *)&k + labeler_counter_rows[i].offset);
        for (int i = 0; i < JOIN_REJECT_REASONS; i++)
                *m->rejected[i] = k.join.rejected[i];
        *m->partitions = l->assigned;
        *m->records = (double)join_records(l->join);
        if (w != INT64_MIN)
                *m->watermark = (double)w / 1e6;
        fraud_stage_store_gauges_update(&m->store, l->store);
        return m->registry;
}

bool labeler_ready(const struct labeler *l, char *why, size_t why_size) {
        if (l->assigned > 0)
                return true;
        snprintf(why, why_size, "waiting for a partition of %s", l->s->topics.features);
        return false;
}
