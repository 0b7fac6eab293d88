/* trainer.c: see trainer.h.
 *
 * Ownership: struct trainer owns the label store, the producer, the
 * consumer and its buffers; it borrows the settings.  A round's rows,
 * models and metadata live only for the call that trains the day.
 */
#include "trainer/trainer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/connect.h"
#include "common/featureset.h"
#include "common/schema.h"
#include "common/stage.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/label.pb-c.h"
#include "trainer/announce.h"
#include "trainer/daily.h"
#include "trainer/gate.h"
#include "trainer/labelstore.h"
#include "trainer/registry.h"
#include "trainer/round.h"

#define TRAINER_LOG_EVERY_US      (10 * FRAUD_USEC_PER_SEC)
#define TRAINER_POLL_INTERVAL_MAX 86400000 /* librdkafka's max.poll.interval.ms ceiling */

_Static_assert(FRAUD_FEATURESET_NAME_MAX == FRAUD_MODELFILE_NAME_MAX,
               "feature names are model names");

struct trainer {
        const struct fraud_settings *s; /* borrowed */
        struct fraud_featureset fs;     /* the served schema, from velocity.window_spans_sec */
        struct schedule_config sched;
        struct schedule_marks marks;
        struct labelstore *store;
        struct fraud_connect conn_producer, conn_consumer;
        char poll_interval[24];
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
        struct dataset_row row; /* the label being taken */
        uint8_t *out;           /* one packed dead letter */
        size_t out_size;
        struct fraud_kafka_offset ready[FRAUD_KAFKA_PARTITIONS_MAX];
        uint64_t failed_seen;
        int assigned; /* labels partitions assigned, their offsets read from the store */
        struct trainer_counters k;
        char error[FRAUD_TRAINER_ERR_MAX];
};

static int trainer_fail(struct trainer *t, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int trainer_fail(struct trainer *t, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(t->error, sizeof(t->error), fmt, ap);
        va_end(ap);
        return r;
}

int trainer_priority_lower(int nice) {
        return setpriority(PRIO_PROCESS, 0, nice) < 0 ? -errno : 0;
}

/* ---- setup ---- */

static int trainer_config(struct trainer *t, char *err, size_t err_size) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        char why[128];
        size_t n;
        int r;

        r = fraud_featureset_spans_parse(t->s->velocity.window_spans_sec, spans,
                                         FRAUD_FEATURESET_SPANS_MAX, &n, why, sizeof(why));
        if (r < 0 || (r = fraud_featureset_build(spans, n, &t->fs)) < 0) {
                snprintf(err, err_size, "velocity.window_spans_sec: %s", r < 0 ? why : "invalid");
                return r;
        }
        if (c->window_days - c->label_maturity_days <= c->holdout_days) {
                snprintf(err, err_size,
                         "trainer.window_days (%lld) leaves no training day after "
                         "label_maturity_days (%lld) and holdout_days (%lld)",
                         (long long)c->window_days, (long long)c->label_maturity_days,
                         (long long)c->holdout_days);
                return -EINVAL;
        }
        t->sched =
                (struct schedule_config){.warmup_days = c->warmup_days,
                                         .lateness_us = c->label_lateness_sec * FRAUD_USEC_PER_SEC,
                                         .wall_hour = (int)c->schedule_wall_hour};
        t->out_size = (size_t)t->s->kafka.message_bytes_max;
        if (!(t->out = malloc(t->out_size))) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static int trainer_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct trainer *t = opaque;
        int r = labelstore_offset(t->store, topic, partition, offset);

        if (r == -ENOENT) {
                *offset = FRAUD_KAFKA_OFFSET_BEGINNING; /* first start: every label */
                r = 0;
        }
        if (r == 0)
                t->assigned++;
        return r;
}

static void trainer_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct trainer *t = opaque;

        (void)topic;
        (void)partition;
        (void)offset;
        if (t->assigned > 0)
                t->assigned--;
}

static int trainer_open_kafka(struct trainer *t, char *err, size_t err_size) {
        const struct fraud_settings *s = t->s;
        const char *topics[] = {s->topics.labels};
        struct fraud_kafka_consumer_spec spec = {.topics = topics,
                                                 .topics_count = 1,
                                                 .reset = FRAUD_KAFKA_RESET_ERROR,
                                                 .assign = trainer_assign,
                                                 .revoke = trainer_revoke,
                                                 .opaque = t};
        long long interval = s->trainer.round_max_sec * 1000 + s->kafka.session_timeout_ms;
        int r;

        /* A round runs between two polls: without this the group would
         * evict the trainer after librdkafka's default of 5 minutes. */
        snprintf(t->poll_interval, sizeof(t->poll_interval), "%lld",
                 interval < TRAINER_POLL_INTERVAL_MAX ? interval : TRAINER_POLL_INTERVAL_MAX);
        r = fraud_connect_init(&t->conn_producer, s, NULL, false, err, err_size);
        if (r >= 0)
                r = fraud_kafka_producer_new(&t->conn_producer.options, &t->producer, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&t->conn_consumer, s, s->trainer.group_id, true, err,
                                       err_size);
        if (r >= 0 &&
            (r = fraud_kafka_options_property_add(&t->conn_consumer.options, "max.poll.interval.ms",
                                                  t->poll_interval)) < 0)
                snprintf(err, err_size, "kafka: cannot set max.poll.interval.ms");
        spec.producer = t->producer;
        if (r >= 0)
                r = fraud_kafka_consumer_new(&t->conn_consumer.options, &spec, &t->consumer, err,
                                             err_size);
        return r;
}

/* Announces version (in the registry) as champion; newest_tx may be NULL. */
static int trainer_announce(struct trainer *t, const char *version, const char *newest_tx) {
        char dir[PATH_MAX], err[FRAUD_TRAINER_ERR_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        const char *reg = t->s->trainer.registry_dir;
        int r = m ? registry_read(reg, version, m, err, sizeof(err)) : -ENOMEM;

        if (r == 0 && (r = registry_path(reg, version, dir, sizeof(dir))) < 0)
                snprintf(err, sizeof(err), "%s: bad version name", version);
        if (r == 0)
                r = announce_send(t->producer, t->s->topics.models, m, dir, newest_tx,
                                  FRAUD_TRAINER_ANNOUNCE_MS, err, sizeof(err));
        free(m);
        if (r < 0)
                return trainer_fail(t, r, "announce %s: %s", version,
                                    r == -ENOMEM ? "out of memory" : err);
        t->k.announced++;
        fraud_log_notice("announced champion %s on %s", version, t->s->topics.models);
        return 0;
}

/* The registry's champion, announced again (see trainer.h, Restart). */
static int trainer_announce_champion(struct trainer *t, char *err, size_t err_size) {
        char version[FRAUD_MODELFILE_VERSION_MAX];
        int r = registry_champion(t->s->trainer.registry_dir, version, sizeof(version), err,
                                  err_size);

        if (r == -ENOENT)
                return 0;
        if (r == 0 && (r = trainer_announce(t, version, NULL)) < 0)
                snprintf(err, err_size, "%s", t->error);
        return r;
}

int trainer_new(const struct fraud_settings *s, struct trainer **out, char *err, size_t err_size) {
        struct trainer *t = calloc(1, sizeof(*t));
        int r;

        *out = NULL;
        if (!t) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        t->s = s;
        r = trainer_config(t, err, err_size);
        if (r >= 0)
                r = registry_init(s->trainer.registry_dir, err, err_size);
        if (r >= 0) /* before the consumer, whose assignment reads the offsets */
                r = labelstore_open(s->trainer.state_dir, true, &t->store, err, err_size);
        if (r >= 0 && (r = labelstore_marks(t->store, &t->marks)) < 0)
                snprintf(err, err_size, "%s: marks: %s", s->trainer.state_dir, strerror(-r));
        if (r >= 0)
                r = trainer_open_kafka(t, err, err_size);
        if (r >= 0)
                r = trainer_announce_champion(t, err, err_size);
        if (r < 0) {
                trainer_free(t);
                return r;
        }
        *out = t;
        return 0;
}

void trainer_free(struct trainer *t) {
        if (!t)
                return;
        fraud_kafka_consumer_free(t->consumer);
        fraud_kafka_producer_free(t->producer);
        labelstore_close(t->store);
        free(t->out);
        free(t);
}

/* ---- labels ---- */

static int trainer_reject(struct trainer *t, const struct fraud_kafka_message *m, const char *tx_id,
                          const char *code, const char *reason) {
        Fraud__DeadLetter d;
        struct fraud_kafka_record rec = {t->s->topics.dlq,         -1,     m->key,
                                         m->key ? m->key_size : 0, t->out, 0};
        int r;

        fraud_stage_dead_letter(&d, "trainer", m, tx_id, code, reason);
        if (fraud__dead_letter__get_packed_size(&d) > t->out_size)
                d.original.len = 0;
        rec.value_size = fraud__dead_letter__pack(&d, t->out);
        t->k.rejected++;
        fraud_log_warning("rejected %s[%d]@%lld: %s: %s", m->topic, (int)m->partition,
                          (long long)m->offset, code, reason);
        r = fraud_kafka_producer_send(t->producer, &rec, m->input);
        return r < 0 ? trainer_fail(t, r, "produce to %s: %s", rec.topic,
                                    fraud_kafka_producer_error(t->producer))
                     : 0;
}

/* Why l cannot be used (a dlq reason code), or NULL. */
static const char *label_problem(const Fraud__Label *l, const char **reason) {
        const Fraud__FeatureVector *f = l ? l->features : NULL;

        *reason = "not a Label";
        if (!l)
                return "bad_protobuf";
        *reason = "unknown Label schema_version";
        if (l->schema_version != LABEL_SCHEMA_VERSION)
                return "bad_schema_version";
        *reason = "transaction id empty or too long";
        if (!l->transaction_id[0] || strlen(l->transaction_id) >= FRAUD_TRAINER_TXID_MAX)
                return "bad_transaction_id";
        *reason = "no feature values, or more than a schema holds";
        if (!f || f->n_values == 0 || f->n_values > FRAUD_FEATURESET_FEATURES_MAX)
                return "missing_features";
        *reason = "features without the transaction's card";
        if (!f->transaction || !f->transaction->card_hash[0])
                return "missing_transaction";
        *reason = "value or status unspecified";
        if (l->value < FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT ||
            l->value > FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN ||
            l->status < FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL ||
            l->status > FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED)
                return "bad_label";
        *reason = "known_at before the transaction's event time";
        if (l->known_at_us < l->event_time_us)
                return "bad_known_at";
        *reason = "a feature value is not finite";
        for (size_t i = 0; i < f->n_values; i++)
                if (!isfinite(f->values[i]))
                        return "bad_features";
        return NULL;
}

/* The row of a usable label, with its one version. */
static void row_from_label(struct dataset_row *r, const Fraud__Label *l) {
        const Fraud__FeatureVector *f = l->features;

        snprintf(r->tx_id, sizeof(r->tx_id), "%s", l->transaction_id);
        r->event_time_us = l->event_time_us;
        r->card = fraud_hash_fnv1a_str(f->transaction->card_hash);
        r->schema_hash = f->feature_schema_hash;
        r->n_values = f->n_values;
        memcpy(r->values, f->values, f->n_values * sizeof(double));
        r->n_versions = 1;
        /* The proto's enum values are dataset.h's, by construction. */
        r->versions[0] = (struct dataset_version){.known_at_us = l->known_at_us,
                                                  .value = (uint8_t)l->value,
                                                  .status = (uint8_t)l->status};
}

static int trainer_label(struct trainer *t, const struct fraud_kafka_message *m) {
        Fraud__Label *l = fraud__label__unpack(NULL, m->value_size, m->value);
        const char *reason, *code = label_problem(l, &reason);
        int r = 0;

        if (code) {
                r = trainer_reject(t, m, l ? l->transaction_id : NULL, code, reason);
                goto free_l;
        }
        row_from_label(&t->row, l);
        r = labelstore_add(t->store, &t->row);
        if (r == 1) {
                t->k.duplicates++;
                r = 0;
        } else if (r == -E2BIG) {
                t->k.versions_full++;
                fraud_log_warning("%s: more than %d label versions, this one dropped",
                                  l->transaction_id, FRAUD_TRAINER_LABEL_VERSIONS_MAX);
                r = 0;
        } else if (r < 0) {
                r = trainer_fail(t, r, "store %s: %s (%s)", l->transaction_id, strerror(-r),
                                 labelstore_error(t->store));
        } else {
                t->k.labels++;
                t->k.late += t->marks.last_cutoff_us != SCHEDULE_NONE &&
                             l->known_at_us <= t->marks.last_cutoff_us;
                schedule_observe(&t->marks, l->known_at_us);
        }
free_l:
        fraud__label__free_unpacked(l, NULL);
        return r;
}

_Static_assert((int)FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT == (int)DATASET_LEGIT &&
                       (int)FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD == (int)DATASET_FRAUD &&
                       (int)FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN == (int)DATASET_UNKNOWN,
               "label values");
_Static_assert((int)FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL == (int)DATASET_PROVISIONAL &&
                       (int)FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED == (int)DATASET_CONFIRMED &&
                       (int)FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED == (int)DATASET_CORRECTED,
               "label statuses");

/* ---- checkpoint ---- */

static int trainer_checkpoint(struct trainer *t) {
        int n, r;

        r = fraud_stage_deliveries_wait(t->producer, t->consumer, FRAUD_TRAINER_FLUSH_MS,
                                        &t->failed_seen, t->error, sizeof(t->error));
        if (r < 0)
                return r;
        n = fraud_kafka_consumer_offsets_ready(t->consumer, t->ready, FRAUD_KAFKA_PARTITIONS_MAX);
        r = n < 0 ? n : labelstore_commit(t->store, &t->marks, t->ready, (size_t)n);
        if (r < 0)
                return trainer_fail(t, r, "store commit: %s (%s)", strerror(-r),
                                    labelstore_error(t->store));
        t->k.checkpoints++;
        return 0;
}

/* The offsets committed to the store go to Kafka too, once the day they
 * made due is trained: a group offset at the end of `labels` thus means
 * that every label was taken and every round it called for is done (what
 * fraudctl replay's day barrier waits for).  Restarts resume from the
 * store's offsets, not these. */
static int trainer_offsets_publish(struct trainer *t) {
        int r = fraud_kafka_consumer_offsets_store(t->consumer);

        return r < 0 ? trainer_fail(t, r, "offsets store: %s",
                                    fraud_kafka_consumer_error(t->consumer))
                     : 0;
}

/* ---- one day ---- */

/* The day is done: marks, eviction of rows no later cutoff uses, commit. */
static int day_done(struct trainer *t, int64_t cutoff_us) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        int64_t before = cutoff_us - (c->window_days + c->evict_margin_days) * FRAUD_USEC_PER_DAY;
        int r = labelstore_evict(t->store, before);

        t->marks.last_cutoff_us = cutoff_us;
        if (r == 0)
                r = labelstore_commit(t->store, &t->marks, NULL, 0);
        if (r < 0)
                return trainer_fail(t, r, "store commit: %s (%s)", strerror(-r),
                                    labelstore_error(t->store));
        t->k.checkpoints++;
        return 0;
}

/* The committed rows of a window (daily.h's select). */
static int trainer_select(void *ctx, const struct dataset_window *w, struct dataset_table *tab,
                          char *err, size_t err_size) {
        struct trainer *t = ctx;
        int r = labelstore_select(t->store, w, tab);

        if (r < 0 && r != -E2BIG && r != -ENOMEM)
                snprintf(err, err_size, "reading the labels: %s (%s)", strerror(-r),
                         labelstore_error(t->store));
        return r;
}

/* One day at cutoff_us, from selection to announcement. */
static int trainer_day(struct trainer *t, int64_t cutoff_us) {
        const struct daily_rows rows = {.select = trainer_select, .ctx = t};
        struct daily_result res;
        int r = daily_run(t->s, &t->fs, &rows, cutoff_us, &res, t->error, sizeof(t->error));

        if (r < 0)
                return r;
        t->k.rounds += res.outcome == DAILY_PROMOTED || res.outcome == DAILY_REJECTED;
        t->k.promoted += res.outcome == DAILY_PROMOTED;
        t->k.gate_rejected += res.outcome == DAILY_REJECTED;
        t->k.days_skipped += res.outcome == DAILY_SKIPPED;
        r = day_done(t, cutoff_us);
        if (r >= 0 && res.outcome == DAILY_PROMOTED)
                r = trainer_announce(t, res.version, res.newest_tx);
        return r;
}

/* ---- the loop ---- */

int trainer_step(struct trainer *t, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(t->consumer, &msgs, timeout_ms);
        int64_t cutoff;
        int r;

        if (n == -ENOBUFS) { /* every tracker slot awaits a delivery */
                r = trainer_checkpoint(t);
                return r < 0 ? r : trainer_offsets_publish(t);
        }
        if (n < 0)
                return trainer_fail(t, n, "consume: %s", fraud_kafka_consumer_error(t->consumer));
        for (int i = 0; i < n; i++) {
                r = trainer_label(t, &msgs[i]);
                fraud_kafka_input_done(msgs[i].input);
                if (r < 0)
                        return r;
        }
        fraud_kafka_producer_poll(t->producer, 0);
        if (n > 0 && (r = trainer_checkpoint(t)) < 0)
                return r;
        /* Every day due, before the offsets say the labels were taken. */
        while ((cutoff = schedule_due(&t->sched, &t->marks, fraud_time_now_us())) != SCHEDULE_NONE)
                if ((r = trainer_day(t, cutoff)) < 0)
                        return r;
        if (n > 0 && (r = trainer_offsets_publish(t)) < 0)
                return r;
        return n;
}

static void trainer_log_progress(const void *stage) {
        const struct trainer *t = stage;
        char wm[FRAUD_TIME_ISO8601_MAX] = "none";

        if (t->marks.watermark_us != SCHEDULE_NONE)
                fraud_time_format_iso8601(t->marks.watermark_us, wm);
        fraud_log_info("labels=%llu duplicates=%llu late=%llu rejected=%llu rounds=%llu "
                       "promoted=%llu gate_rejected=%llu days_skipped=%llu watermark=%s",
                       (unsigned long long)t->k.labels, (unsigned long long)t->k.duplicates,
                       (unsigned long long)t->k.late, (unsigned long long)t->k.rejected,
                       (unsigned long long)t->k.rounds, (unsigned long long)t->k.promoted,
                       (unsigned long long)t->k.gate_rejected,
                       (unsigned long long)t->k.days_skipped, wm);
}

static int trainer_loop_step(void *stage, int timeout_ms) {
        return trainer_step(stage, timeout_ms);
}

int trainer_run(struct trainer *t, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = t,
                .step = trainer_loop_step,
                .progress = trainer_log_progress,
                .progress_every_us = TRAINER_LOG_EVERY_US,
                .consumer = t->consumer,
                .partitions = "a labels partition",
        };

        return fraud_stage_loop(&loop, stop);
}

int trainer_close(struct trainer *t) {
        int r;

        if (!t)
                return 0;
        r = trainer_checkpoint(t);
        r = fraud_stage_leave(t->consumer, NULL, r, t->error, sizeof(t->error));
        trainer_log_progress(t);
        trainer_free(t);
        return r;
}

void trainer_counters(const struct trainer *t, struct trainer_counters *out) {
        *out = t->k;
}

bool trainer_ready(const struct trainer *t, char *why, size_t why_size) {
        if (t->assigned > 0)
                return true;
        snprintf(why, why_size, "waiting for a partition of %s", t->s->topics.labels);
        return false;
}

const char *trainer_error(const struct trainer *t) {
        return t->error;
}
