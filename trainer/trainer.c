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
                return 0;
        }
        return r;
}

static int trainer_open_kafka(struct trainer *t, char *err, size_t err_size) {
        const struct fraud_settings *s = t->s;
        const char *topics[] = {s->topics.labels};
        struct fraud_kafka_consumer_spec spec = {.topics = topics,
                                                 .topics_count = 1,
                                                 .reset = FRAUD_KAFKA_RESET_ERROR,
                                                 .assign = trainer_assign,
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
        r = fraud_kafka_consumer_offsets_store(t->consumer);
        return r < 0 ? trainer_fail(t, r, "offsets store: %s",
                                    fraud_kafka_consumer_error(t->consumer))
                     : 0;
}

/* ---- one day ---- */

/* What one day's round needs besides the round itself. */
struct day {
        int64_t cutoff_us;
        char version[FRAUD_MODELFILE_VERSION_MAX];
        char champion[FRAUD_MODELFILE_VERSION_MAX]; /* "" when none */
        struct dataset_window window;
        struct dataset_table table;
        struct round_rows rows;
        struct round round;
        enum gate_verdict verdict;
        char reason[FRAUD_TRAINER_REASON_MAX];
};

/* "train-YYYYMMDD" of the last label day before the cutoff. */
static void day_version(int64_t cutoff_us, char *out, size_t size) {
        int64_t y;
        unsigned mo, d;

        fraud_time_civil_from_days(fraud_time_day_index(cutoff_us) - 1, &y, &mo, &d);
        snprintf(out, size, "train-%04lld%02u%02u", (long long)y, mo, d);
}

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

/* The training set of the day into d->table and d->rows. */
static int day_select(struct trainer *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        int r;

        dataset_window_at(d->cutoff_us, c->window_days, c->label_maturity_days, t->fs.hash, t->fs.n,
                          &d->window);
        dataset_table_init(&d->table, t->fs.n, (size_t)c->rows_max);
        r = labelstore_select(t->store, &d->window, &d->table);
        if (r < 0)
                return r;
        d->rows = (struct round_rows){
                .n_rows = d->table.n_rows,
                .n_features = t->fs.n,
                .names = (const char(*)[FRAUD_MODELFILE_NAME_MAX])t->fs.names,
                .x = d->table.x,
                .label = d->table.label,
                .time_us = d->table.time_us,
                .card = d->table.card,
                .rows_rejected = d->table.skipped_schema,
        };
        return 0;
}

/* Trains and evaluates; compares with the champion when there is one. */
static int day_train(struct trainer *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        char dir[PATH_MAX], err[FRAUD_TRAINER_ERR_MAX];
        int64_t last_day = fraud_time_day_index(d->window.end_us) - 1;
        int r;

        round_init(&d->round, t->s, &d->rows);
        r = round_split(&d->round, last_day, c->holdout_days);
        if (r == 0)
                r = round_fit(&d->round);
        if (r == 0)
                r = round_evaluate(&d->round);
        if (r < 0)
                return r;
        r = registry_champion(c->registry_dir, d->champion, sizeof(d->champion), err, sizeof(err));
        if (r < 0) {
                d->champion[0] = '\0';
                if (r != -ENOENT)
                        fraud_log_warning("no champion to compare with: %s", err);
                return 0;
        }
        registry_path(c->registry_dir, d->champion, dir, sizeof(dir));
        if (round_compare(&d->round, dir) < 0)
                fraud_log_warning("champion %s cannot be compared, judged alone: %s", d->champion,
                                  d->round.err);
        return 0;
}

static void day_judge(struct trainer *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        const struct round *r = &d->round;
        const struct evaluate_scores *s = &r->candidate.scores[EVALUATE_CASCADE];
        const struct gate_config g = {.ap_ratio = c->gate_ap_ratio,
                                      .min_train_frauds = (uint64_t)c->gate_min_train_frauds,
                                      .min_holdout_frauds = (uint64_t)c->gate_min_holdout_frauds,
                                      .min_auc = c->gate_min_auc};
        const struct gate_input in = {
                .train_frauds = r->train.frauds,
                .holdout_frauds = r->holdout.frauds,
                .auc_roc = s->auc_roc,
                .average_precision = s->average_precision,
                .has_champion = r->has_champion,
                .champion_average_precision =
                        r->champion.eval.scores[EVALUATE_CASCADE].average_precision,
                .champion_version = r->champion.version,
        };

        d->verdict = gate_decide(&g, &in, d->reason, sizeof(d->reason));
}

/* Writes the version to the registry (staging, then in place) and
 * promotes it when the gate said so. */
static int day_register(struct trainer *t, struct day *d) {
        const struct fraud_settings_trainer *c = &t->s->trainer;
        const struct fraud_modelfile_entry extra[] = {
                {"window_days", (double)c->window_days},
                {"label_maturity_days", (double)c->label_maturity_days},
                {"gate_ap_ratio", c->gate_ap_ratio},
                {"gate_min_auc", c->gate_min_auc},
                {"gate_min_train_frauds", (double)c->gate_min_train_frauds},
                {"gate_min_holdout_frauds", (double)c->gate_min_holdout_frauds},
        };
        const bool promote = d->verdict == GATE_PROMOTE;
        const struct round_meta meta = {.version = d->version,
                                        .parent = d->champion,
                                        .label_cutoff_us = d->cutoff_us,
                                        .status = promote ? "champion" : "rejected",
                                        .status_reason = d->reason,
                                        .params_extra = extra,
                                        .n_params_extra = sizeof(extra) / sizeof(extra[0])};
        char staging[PATH_MAX], err[FRAUD_TRAINER_ERR_MAX], previous[FRAUD_MODELFILE_VERSION_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        int r = m ? registry_staging_clear(c->registry_dir, d->version, err, sizeof(err)) : -ENOMEM;

        if (r == 0 && (r = registry_staging_path(c->registry_dir, d->version, staging,
                                                 sizeof(staging))) == 0) {
                round_modelfile(&d->round, &meta, m);
                if ((r = round_write(&d->round, staging, m)) < 0)
                        snprintf(err, sizeof(err), "%s", d->round.err);
        }
        free(m);
        if (r == 0)
                r = registry_install(c->registry_dir, d->version, err, sizeof(err));
        if (r == 0 && promote)
                r = registry_promote(c->registry_dir, d->version, d->reason, previous,
                                     sizeof(previous), err, sizeof(err));
        return r < 0 ? trainer_fail(t, r, "registry %s: %s", d->version,
                                    r == -ENOMEM ? "out of memory" : err)
                     : 0;
}

static void day_log(const struct day *d) {
        const struct round *r = &d->round;
        const struct evaluate_scores *s = &r->candidate.scores[EVALUATE_CASCADE];
        const struct evaluate_scores *cs = &r->champion.eval.scores[EVALUATE_CASCADE];

        fraud_log_notice("%s: training %zu rows (%zu frauds), holdout %zu (%zu frauds), passed "
                         "over %zu unlabelled, %zu blocked, %zu of another schema",
                         d->version, r->train.n, r->train.frauds, r->holdout.n, r->holdout.frauds,
                         d->table.skipped_unlabelled, d->table.skipped_unknown,
                         d->table.skipped_schema);
        fraud_log_notice("%s: cascade on the holdout: AUC-ROC %.4f, AP %.4f, card precision@k "
                         "%.4f, recall %.4f, FPR %.5f, savings %.2f",
                         d->version, s->auc_roc, s->average_precision, s->card_precision, s->recall,
                         s->false_positive_rate, s->savings);
        if (r->has_champion)
                fraud_log_notice("%s: champion %s on the same holdout: AUC-ROC %.4f, AP %.4f, "
                                 "card precision@k %.4f, recall %.4f, FPR %.5f, savings %.2f",
                                 d->version, r->champion.version, cs->auc_roc,
                                 cs->average_precision, cs->card_precision, cs->recall,
                                 cs->false_positive_rate, cs->savings);
        fraud_log_notice("%s %s: %s", d->version,
                         d->verdict == GATE_PROMOTE ? "promoted to champion"
                                                    : "rejected, champion kept",
                         d->reason);
}

/* Trains the day; returns 1 when a champion was promoted, 0 when not
 * (rejected, or a day that cannot train), -errno when the stage must stop. */
static int day_run(struct trainer *t, struct day *d) {
        int r = day_select(t, d);

        if (r < 0 && r != -E2BIG && r != -ENOMEM)
                return trainer_fail(t, r, "%s: reading the labels: %s (%s)", d->version,
                                    strerror(-r), labelstore_error(t->store));
        if (r == 0)
                r = day_train(t, d);
        if (r < 0) { /* the data or the fit: this day cannot train, later ones may */
                t->k.days_skipped++;
                fraud_log_err("%s: day not trained: %s", d->version,
                              r == -E2BIG       ? "more rows than trainer.rows_max"
                              : d->round.err[0] ? d->round.err
                                                : strerror(-r));
                return 0;
        }
        day_judge(t, d);
        if ((r = day_register(t, d)) < 0)
                return r;
        t->k.rounds++;
        *(d->verdict == GATE_PROMOTE ? &t->k.promoted : &t->k.gate_rejected) += 1;
        day_log(d);
        return d->verdict == GATE_PROMOTE;
}

/* One day at cutoff_us, from selection to announcement. */
static int trainer_day(struct trainer *t, int64_t cutoff_us) {
        struct fraud_modelfile *m = malloc(sizeof(*m));
        char err[FRAUD_TRAINER_ERR_MAX], newest[FRAUD_TRAINER_TXID_MAX] = "";
        struct day *d = calloc(1, sizeof(*d));
        int r = m && d ? 0 : -ENOMEM, promoted = 0;

        if (r == 0) {
                d->cutoff_us = cutoff_us;
                day_version(cutoff_us, d->version, sizeof(d->version));
                if (registry_read(t->s->trainer.registry_dir, d->version, m, err, sizeof(err)) == 0)
                        fraud_log_notice("%s: in the registry already (%s), day not trained again",
                                         d->version, m->status);
                else
                        r = promoted = day_run(t, d);
                memcpy(newest, d->table.newest_tx, sizeof(newest));
                round_release(&d->round);
                dataset_table_release(&d->table);
        }
        free(m);
        free(d);
        if (r == -ENOMEM)
                return trainer_fail(t, r, "out of memory");
        if (r >= 0)
                r = day_done(t, cutoff_us);
        if (r >= 0 && promoted > 0) {
                char version[FRAUD_MODELFILE_VERSION_MAX];

                day_version(cutoff_us, version, sizeof(version));
                r = trainer_announce(t, version, newest);
        }
        return r;
}

/* ---- the loop ---- */

int trainer_step(struct trainer *t, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(t->consumer, &msgs, timeout_ms);
        int64_t cutoff;
        int r;

        if (n == -ENOBUFS) /* every tracker slot awaits a delivery */
                return trainer_checkpoint(t);
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
        cutoff = schedule_due(&t->sched, &t->marks, fraud_time_now_us());
        if (cutoff != SCHEDULE_NONE && (r = trainer_day(t, cutoff)) < 0)
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

const char *trainer_error(const struct trainer *t) {
        return t->error;
}
