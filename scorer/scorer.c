/* scorer.c: see scorer.h. */
#include "scorer/scorer.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/connect.h"
#include "common/featureset.h"
#include "common/schema.h"
#include "common/stage.h"
#include "lib/arena.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/model.pb-c.h"
#include "scorer/decide.h"
#include "scorer/recent.h"
#include "scorer/rulebook.h"

#define SCORER_COMMITTED_TIMEOUT_MS 5000 /* group offset lookup on assignment */
#define SCORER_DLQ_SLACK_BYTES      4096 /* a DeadLetter's bytes besides the original */
#define SCORER_CATCH_UP_MS          2000 /* longest wait for the models topic at a new day */
#define SCORER_MODELS_FETCH_WAIT_MS 100  /* models consumer: FRAUD_KAFKA_FETCH_WAIT_MS_MAX */

_Static_assert(FRAUD_FEATURESET_FEATURES_MAX <= FRAUD_MODELFILE_FEATURES_MAX,
               "a model can list every feature of a schema");

enum { ROLE_CHAMPION, ROLE_CHALLENGER, ROLES };

/* The latest announcement of one role, not applied yet. */
struct scorer_next {
        bool pending;
        char dir[PATH_MAX];
        char version[FRAUD_MODELFILE_VERSION_MAX];
        uint64_t hash;
};

#define SCORER_MODEL_INFO_MAX 64 /* model versions shown by scorer_model_info, newest kept */

struct scorer_counters {
        uint64_t *consumed, *scored, *shadow_scored, *duplicates, *rejected, *degraded;
        uint64_t *schema_mismatch, *rules_reloaded, *rules_failed, *models_loaded, *models_refused;
        double *model_loaded;
        uint64_t *decisions[4][4]; /* [decision][stage], cascade.h values 1..3 */
        struct fraud_histogram *stage_seconds[4]; /* [stage]: that stage's share of a decision */
        struct fraud_histogram *batch_seconds, *end_to_end_seconds;
        double *model_info;        /* the champion's scorer_model_info gauge */
        unsigned model_info_count; /* versions registered so far */
};

/* The accepted vectors of one consumed batch (batch_records_max each). */
struct scorer_batch {
        size_t cap;
        const struct fraud_kafka_message **msg;
        Fraud__FeatureVector **fv; /* in the arena */
        struct decide_tx *tx;
        struct decide_result *res;
};

struct scorer {
        const struct fraud_settings *settings; /* borrowed */
        struct fraud_connect conn_producer, conn_features, conn_models;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *features, *models;
        char models_group[FRAUD_SCORER_GROUP_ID_MAX];
        struct rulebook *rules;
        uint64_t rules_schema_hash;
        struct serving *model[ROLES];
        struct scorer_next next[ROLES];
        struct recent *recent;
        struct decide_config cfg;
        struct scorer_batch batch;
        struct fraud_arena arena; /* decoded input of one batch */
        ProtobufCAllocator alloc;
        uint8_t *buf; /* one packed output */
        size_t buf_cap;
        bool vector_seen;     /* vector_hash is known */
        int64_t day_latest;   /* latest event-time day decided; INT64_MIN before the first */
        uint64_t vector_hash; /* of the last FeatureVector */
        bool reload;
        int assigned; /* partitions of the features topic assigned */
        struct fraud_metrics *metrics;
        struct scorer_counters n;
};

/* ---- set-up ---- */


static const char *const metric_decisions[4] = {"", "allow", "review", "block"};
static const char *const metric_stages[4] = {"", "rules", "gbdt", "neural"};

/* Decisions by outcome and stage, latency by stage, per batch and end to
 * end. */
static int decision_metrics_register(struct scorer *s) {
        struct fraud_metrics *m = s->metrics;
        const double *b = fraud_metrics_latency_buckets;
        size_t nb = fraud_metrics_latency_buckets_count;
        char labels[64];

        for (int d = 1; d < 4; d++)
                for (int st = 1; st < 4; st++) {
                        snprintf(labels, sizeof(labels), "{decision=\"%s\",stage=\"%s\"}",
                                 metric_decisions[d], metric_stages[st]);
                        if (!(s->n.decisions[d][st] = fraud_metrics_counter(
                                      m, "scorer_decisions_total", labels,
                                      "Scores by decision and the cascade stage that decided.")))
                                return -ENOMEM;
                }
        for (int st = 1; st < 4; st++) {
                snprintf(labels, sizeof(labels), "{stage=\"%s\"}", metric_stages[st]);
                if (!(s->n.stage_seconds[st] = fraud_metrics_histogram(
                              m, "scorer_stage_latency_seconds", labels,
                              "Time a decision spent in a cascade stage (the GBDT's share of its "
                              "batch call).",
                              b, nb)))
                        return -ENOMEM;
        }
        s->n.batch_seconds = fraud_metrics_histogram(
                m, "scorer_batch_duration_seconds", "",
                "One consumed batch: decode, decide, produce the Scores.", b, nb);
        s->n.end_to_end_seconds = fraud_metrics_histogram(
                m, "scorer_end_to_end_latency_seconds", "",
                "Ingest's receipt of a payment to its Score being produced (wall clocks).", b, nb);
        return s->n.batch_seconds && s->n.end_to_end_seconds ? 0 : -ENOMEM;
}

/* The champion's version as scorer_model_info{role,version} 1, the
 * previous one's set to 0 (at most SCORER_MODEL_INFO_MAX versions are
 * registered; later ones show in scorer_models_loaded_total only). */
static void model_info_set(struct scorer *s, const char *version) {
        char labels[FRAUD_METRICS_LABELS_MAX];
        double *g;

        if (s->n.model_info)
                *s->n.model_info = 0;
        s->n.model_info = NULL;
        if (s->n.model_info_count >= SCORER_MODEL_INFO_MAX ||
            snprintf(labels, sizeof(labels), "{role=\"champion\",version=\"%s\"}", version) >=
                    (int)sizeof(labels))
                return;
        g = fraud_metrics_gauge(s->metrics, "scorer_model_info", labels,
                                "1 for the model version serving as champion.");
        if (g) {
                s->n.model_info_count++;
                *g = 1;
                s->n.model_info = g;
        }
}

static void decision_observe(struct scorer *s, const Fraud__FeatureVector *fv,
                             const struct decide_result *r, int64_t now_us) {
        unsigned d = (unsigned)r->cascade.decision & 3, st = (unsigned)r->cascade.stage & 3;

        (*s->n.decisions[d][st])++;
        fraud_histogram_observe(s->n.stage_seconds[1], r->rules_ns / 1e9);
        if (r->gbdt_version[0])
                fraud_histogram_observe(s->n.stage_seconds[2], r->gbdt_ns / 1e9);
        if (r->neural_version[0] && st == 3)
                fraud_histogram_observe(s->n.stage_seconds[3], r->neural_ns / 1e9);
        if (fv->transaction->ingest_time_us > 0 && now_us >= fv->transaction->ingest_time_us)
                fraud_histogram_observe(s->n.end_to_end_seconds,
                                        (double)(now_us - fv->transaction->ingest_time_us) / 1e6);
}

static int counters_register(struct scorer *s) {
        struct fraud_metrics *m = s->metrics;
        struct {
                uint64_t **slot;
                const char *name, *help;
        } rows[] = {
                {&s->n.consumed, "scorer_consumed_total", "FeatureVectors consumed."},
                {&s->n.scored, "scorer_scored_total", "Scores produced."},
                {&s->n.shadow_scored, "scorer_shadow_scored_total", "Challenger Scores produced."},
                {&s->n.duplicates, "scorer_duplicates_total", "Re-sent inputs dropped."},
                {&s->n.rejected, "scorer_rejected_total", "Bad inputs sent to dlq."},
                {&s->n.degraded, "scorer_degraded_total", "Scores decided with fewer stages."},
                {&s->n.schema_mismatch, "scorer_schema_mismatch_total",
                 "Vectors whose feature schema the model does not have."},
                {&s->n.rules_reloaded, "scorer_rules_reloaded_total", "Rules files loaded."},
                {&s->n.rules_failed, "scorer_rules_failed_total",
                 "Rules files refused (previous rules kept)."},
                {&s->n.models_loaded, "scorer_models_loaded_total", "Models swapped in."},
                {&s->n.models_refused, "scorer_models_refused_total",
                 "Models refused (current model kept)."},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                if (!(*rows[i].slot = fraud_metrics_counter(m, rows[i].name, "", rows[i].help)))
                        return -ENOMEM;
        s->n.model_loaded = fraud_metrics_gauge(m, "scorer_model_loaded", "",
                                                "1 when a champion model serves, 0 when degraded.");
        return s->n.model_loaded ? decision_metrics_register(s) : -ENOMEM;
}

/* Starts a partition at the group's commit, or at its beginning when the
 * group never committed there (a first start of this stateless stage). */
static int features_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct scorer *s = opaque;
        int64_t committed = FRAUD_KAFKA_OFFSET_COMMITTED;
        int r = fraud_kafka_consumer_committed(s->features, topic, partition, &committed,
                                               SCORER_COMMITTED_TIMEOUT_MS);

        if (r < 0 && r != -ENODATA)
                return r;
        *offset = committed >= 0 ? committed : FRAUD_KAFKA_OFFSET_BEGINNING;
        s->assigned++;
        return 0;
}

static void features_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct scorer *s = opaque;

        (void)topic;
        (void)partition;
        (void)offset;
        if (s->assigned > 0)
                s->assigned--;
}

static int models_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        (void)opaque;
        (void)topic;
        (void)partition;
        *offset = FRAUD_KAFKA_OFFSET_BEGINNING;
        return 0;
}

static int kafka_open(struct scorer *s, char *err, size_t err_size) {
        const struct fraud_settings *st = s->settings;
        const char *features_topics[] = {st->topics.features};
        const char *models_topics[] = {st->topics.models};
        char host[64] = "host";
        struct fraud_kafka_consumer_spec spec = {.topics = features_topics,
                                                 .topics_count = 1,
                                                 .assign = features_assign,
                                                 .revoke = features_revoke,
                                                 .opaque = s};
        int r;

        gethostname(host, sizeof(host) - 1);
        snprintf(s->models_group, sizeof(s->models_group), "%s.models.%s.%ld", st->scorer.group_id,
                 host, (long)getpid());
        r = fraud_connect_init(&s->conn_producer, st, NULL, false, err, err_size);
        if (r >= 0)
                r = fraud_kafka_producer_new(&s->conn_producer.options, &s->producer, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&s->conn_features, st, st->scorer.group_id, true, err,
                                       err_size);
        spec.producer = s->producer;
        if (r >= 0)
                r = fraud_kafka_consumer_new(&s->conn_features.options, &spec, &s->features, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&s->conn_models, st, s->models_group, true, err, err_size);
        /* Models are rare and need no millisecond: a long idle fetch spares the
         * embedded broker, whose idle fetches always wait the full time. */
        s->conn_models.options.fetch_wait_max_ms = SCORER_MODELS_FETCH_WAIT_MS;
        spec = (struct fraud_kafka_consumer_spec){
                .topics = models_topics, .topics_count = 1, .assign = models_assign, .opaque = s};
        if (r >= 0)
                r = fraud_kafka_consumer_new(&s->conn_models.options, &spec, &s->models, err,
                                             err_size);
        return r;
}

/* ---- models and rules, between batches ---- */

static const char *const role_names[ROLES] = {"champion", "challenger"};

/* Compiles the rules against names; a failure keeps the rules as they were. */
static void rules_schema_apply(struct scorer *s, const char *const *names, size_t n) {
        char err[FRAUD_SCORER_ERR_MAX];
        uint64_t hash = fraud_featureset_hash(names, n);

        if (hash == s->rules_schema_hash)
                return;
        if (rulebook_schema_set(s->rules, names, n, err, sizeof(err)) < 0) {
                (*s->n.rules_failed)++;
                fraud_log_err("rules do not compile against the model's features, previous rules "
                              "kept: %s",
                              err);
                return;
        }
        s->rules_schema_hash = hash;
}

static void model_swap(struct scorer *s, int role, struct serving *m) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];

        serving_free(s->model[role]);
        s->model[role] = m;
        (*s->n.models_loaded)++;
        fraud_log_notice("%s model %s in service (%zu features%s)", role_names[role],
                         m->meta.version, m->meta.n_features, m->meta.has_mlp ? ", MLP" : "");
        if (role != ROLE_CHAMPION)
                return;
        *s->n.model_loaded = 1;
        model_info_set(s, m->meta.version);
        for (size_t i = 0; i < m->meta.n_features; i++)
                names[i] = m->meta.feature_names[i];
        rules_schema_apply(s, names, m->meta.n_features);
}

/* Loads dir for role; swaps it in if it fits (want: the announcement, or
 * NULL).  Returns 0 or -errno with the reason in err (current model kept). */
static int model_install(struct scorer *s, int role, const char *dir,
                         const struct scorer_next *want, char *err, size_t err_size) {
        struct serving *m = NULL;
        int r = serving_load(dir, (int)s->settings->scorer.gbdt_threads, &m, err, err_size);

        if (r < 0)
                return r;
        if (want && (strcmp(want->version, m->meta.version) != 0 ||
                     want->hash != m->meta.feature_schema_hash)) {
                snprintf(err, err_size,
                         "%s: model.yaml is version %s, not the announced %s, or "
                         "its feature schema differs",
                         dir, m->meta.version, want->version);
                r = -EINVAL;
        } else if (s->vector_seen && m->meta.feature_schema_hash != s->vector_hash) {
                snprintf(err, err_size,
                         "%s: feature schema %016llx does not match the FeatureVectors' %016llx",
                         dir, (unsigned long long)m->meta.feature_schema_hash,
                         (unsigned long long)s->vector_hash);
                r = -EINVAL;
        }
        if (r < 0) {
                serving_free(m);
                return r;
        }
        model_swap(s, role, m);
        return 0;
}

static void announcement_take(struct scorer *s, const struct fraud_kafka_message *msg) {
        Fraud__ModelAnnouncement *a =
                fraud__model_announcement__unpack(NULL, msg->value_size, msg->value);
        int role = -1;

        if (a && a->role == FRAUD__MODEL_ROLE__MODEL_ROLE_CHAMPION)
                role = ROLE_CHAMPION;
        else if (a && a->role == FRAUD__MODEL_ROLE__MODEL_ROLE_CHALLENGER)
                role = ROLE_CHALLENGER;
        if (!a || a->schema_version != MODEL_ANNOUNCEMENT_SCHEMA_VERSION || role < 0 ||
            !a->registry_path[0] || strlen(a->registry_path) >= PATH_MAX ||
            strlen(a->model_version) >= FRAUD_MODELFILE_VERSION_MAX) {
                (*s->n.models_refused)++;
                fraud_log_err("models[%d]@%lld: not a usable ModelAnnouncement",
                              (int)msg->partition, (long long)msg->offset);
        } else {
                struct scorer_next *n = &s->next[role];
                n->pending = true;
                n->hash = a->feature_schema_hash;
                snprintf(n->dir, sizeof(n->dir), "%s", a->registry_path);
                snprintf(n->version, sizeof(n->version), "%s", a->model_version);
        }
        fraud__model_announcement__free_unpacked(a, NULL);
}

static void models_refresh(struct scorer *s) {
        const struct fraud_kafka_message *msgs;
        char err[FRAUD_SCORER_ERR_MAX];
        int n = 1;

        for (int i = 0; i < FRAUD_SCORER_MODELS_POLLS_MAX && n > 0; i++) {
                n = fraud_kafka_consumer_poll_batch(s->models, &msgs, 0);
                for (int k = 0; k < n; k++) {
                        announcement_take(s, &msgs[k]);
                        fraud_kafka_input_done(msgs[k].input);
                }
        }
        for (int role = 0; role < ROLES; role++) {
                struct scorer_next *next = &s->next[role];
                if (!next->pending)
                        continue;
                next->pending = false;
                if (s->model[role] && strcmp(s->model[role]->meta.version, next->version) == 0)
                        continue;
                if (model_install(s, role, next->dir, next, err, sizeof(err)) < 0) {
                        (*s->n.models_refused)++;
                        fraud_log_err("%s model %s refused, current kept: %s", role_names[role],
                                      next->version, err);
                }
        }
}

/* Whether the models consumer has read every partition of the models topic
 * up to end offsets asked of the broker now (1), not yet (0), or cannot
 * tell (-errno). */
static int models_read_to_end(struct scorer *s, int timeout_ms) {
        const char *topic = s->settings->topics.models;
        int64_t end = 0, pos = 0;
        int r;

        for (int32_t p = 0; p < (int32_t)s->settings->topics.partitions; p++) {
                r = fraud_kafka_consumer_end_offset(s->models, topic, p, timeout_ms, &end);
                if (r == 0)
                        r = fraud_kafka_consumer_position(s->models, topic, p, &pos);
                if (r == -ENOENT) /* not assigned yet */
                        return end > 0 ? 0 : 1;
                if (r < 0)
                        return r;
                if (end > 0 && pos < end)
                        return 0;
        }
        return 1;
}

/* A new event-time day: before its first transaction is decided, the
 * models topic is read to its end, so that every model announced before
 * that transaction was published serves it.  Live, this costs one offset
 * query a day; for fraudctl replay it is what makes the model of each day
 * the one a backtest uses (its day barrier waits for the trainer first).
 * Bounded by SCORER_CATCH_UP_MS: a broker that does not answer is logged
 * and the day starts with the models at hand. */
static void models_catch_up(struct scorer *s) {
        int64_t deadline = fraud_time_mono_ns() + (int64_t)SCORER_CATCH_UP_MS * 1000000;
        const struct fraud_kafka_message *msgs;
        int r;

        while ((r = models_read_to_end(s, SCORER_CATCH_UP_MS)) == 0 &&
               fraud_time_mono_ns() < deadline) {
                int n = fraud_kafka_consumer_poll_batch(s->models, &msgs, 10);
                for (int k = 0; k < n; k++) {
                        announcement_take(s, &msgs[k]);
                        fraud_kafka_input_done(msgs[k].input);
                }
        }
        if (r <= 0)
                fraud_log_warning("new day: models topic not read to its end (%s); "
                                  "deciding with the models at hand",
                                  r < 0 ? strerror(-r) : "timed out");
        models_refresh(s);
}

static void rules_loaded(struct scorer *s) {
        const struct rules *rules = rulebook_rules(s->rules);

        (*s->n.rules_reloaded)++;
        fraud_log_notice("rules %s version %s: %zu rules, %zu list items",
                         s->settings->scorer.rules_file, rules_version(rules), rules_count(rules),
                         rules_list_items(rules));
}

static void rules_refresh(struct scorer *s) {
        char err[FRAUD_SCORER_ERR_MAX];
        int r = rulebook_refresh(s->rules, s->reload, err, sizeof(err));

        s->reload = false;
        if (r > 0) {
                rules_loaded(s);
        } else if (r < 0) {
                (*s->n.rules_failed)++;
                fraud_log_err("%s (previous rules kept)", err);
        }
}

/* ---- one batch ---- */

/* Packs msg into s->buf and sends it to topic; from is the input. */
static int send_packed(struct scorer *s, const ProtobufCMessage *msg, const char *topic,
                       const void *key, size_t key_size, struct fraud_kafka_input *from) {
        size_t size = protobuf_c_message_get_packed_size(msg);
        struct fraud_kafka_record rec = {topic, -1, key, key_size, NULL, 0};

        if (size > (size_t)s->settings->kafka.message_bytes_max)
                return -EMSGSIZE;
        if (size > s->buf_cap) {
                uint8_t *bigger = realloc(s->buf, size);
                if (!bigger)
                        return -ENOMEM;
                s->buf = bigger;
                s->buf_cap = size;
        }
        rec.value = s->buf;
        rec.value_size = protobuf_c_message_pack(msg, s->buf);
        return fraud_kafka_producer_send(s->producer, &rec, from);
}

static int reject(struct scorer *s, const struct fraud_kafka_message *m, const char *tx_id,
                  const char *code, const char *reason) {
        Fraud__DeadLetter dl;
        size_t max = (size_t)s->settings->kafka.message_bytes_max - SCORER_DLQ_SLACK_BYTES;

        fraud_stage_dead_letter(&dl, "scorer", m, tx_id, code, reason);
        dl.original.len = m->value_size < max ? m->value_size : max;
        (*s->n.rejected)++;
        fraud_log_debug("%s[%d]@%lld rejected: %s: %s", m->topic, (int)m->partition,
                        (long long)m->offset, code, reason);
        return send_packed(s, &dl.base, s->settings->topics.dlq, m->key, m->key_size, m->input);
}

/* Decides the k accepted vectors of the batch with role's model and sends
 * their Scores. */
static int scores_send(struct scorer *s, size_t k, int role) {
        struct scorer_batch *b = &s->batch;
        char *reasons[FRAUD_SCORER_REASONS_MAX];
        bool shadow = role != ROLE_CHAMPION;
        const char *topic = shadow ? s->settings->topics.scores_shadow : s->settings->topics.scores;
        int64_t now_us = fraud_time_now_us();
        int r = 0;

        decide_batch(&s->cfg, rulebook_rules(s->rules), s->rules_schema_hash, s->model[role], b->tx,
                     k, b->res);
        for (size_t i = 0; i < k && r >= 0; i++) {
                Fraud__Score score;
                decide_score_fill(b->fv[i], &b->res[i], shadow, reasons, &score);
                (*(shadow ? s->n.shadow_scored : s->n.scored))++;
                if (!shadow)
                        decision_observe(s, b->fv[i], &b->res[i], now_us);
                if (!shadow && score.degraded)
                        (*s->n.degraded)++;
                if (!shadow && b->res[i].schema_mismatch)
                        (*s->n.schema_mismatch)++;
                r = send_packed(s, &score.base, topic, score.card_hash, strlen(score.card_hash),
                                b->msg[i]->input);
        }
        return r;
}

/* Problems that send a FeatureVector to dlq; NULL when it is usable. */
static const char *vector_problem(const Fraud__FeatureVector *fv, const char **reason) {
        *reason = "not a FeatureVector";
        if (!fv)
                return "bad_protobuf";
        *reason = "unknown FeatureVector schema_version";
        if (fv->schema_version != FEATURE_VECTOR_SCHEMA_VERSION)
                return "bad_schema_version";
        *reason = "no transaction";
        if (!fv->transaction)
                return "missing_transaction";
        *reason = "transaction id empty or too long";
        if (!fv->transaction_id[0] || strlen(fv->transaction_id) >= FRAUD_SCORER_TXID_MAX)
                return "bad_transaction_id";
        return NULL;
}

/* Decodes m; a usable new vector joins the batch (1), anything else is
 * finished here: rejected to dlq or dropped as a duplicate (0, or -errno
 * when the rejection cannot be produced). */
static int message_take(struct scorer *s, const struct fraud_kafka_message *m, size_t k) {
        Fraud__FeatureVector *fv =
                fraud__feature_vector__unpack(&s->alloc, m->value_size, m->value);
        const char *reason, *code = vector_problem(fv, &reason);
        int r = 0;

        (*s->n.consumed)++;
        if (code) {
                r = reject(s, m, fv ? fv->transaction_id : NULL, code, reason);
        } else if (recent_check_add(s->recent, fv->transaction_id) == 1) {
                (*s->n.duplicates)++;
        } else {
                s->vector_seen = true;
                s->vector_hash = fv->feature_schema_hash;
                s->batch.msg[k] = m;
                s->batch.fv[k] = fv;
                decide_tx_from_vector(fv, &s->batch.tx[k]);
                return 1;
        }
        fraud_kafka_input_done(m->input);
        return r;
}

/* Decides the first k accepted vectors of the batch together, sends their
 * Scores (and shadow Scores), then finishes their inputs. */
static int batch_decide(struct scorer *s, size_t k) {
        int r = 0;

        if (k > 0)
                r = scores_send(s, k, ROLE_CHAMPION);
        if (r >= 0 && k > 0 && s->model[ROLE_CHALLENGER])
                r = scores_send(s, k, ROLE_CHALLENGER);
        for (size_t i = 0; i < k; i++)
                fraud_kafka_input_done(s->batch.msg[i]->input);
        return r;
}

/* Whether the vector in slot k opens a later event-time day than any
 * decided before (the first vector opens one too). */
static bool day_opens(struct scorer *s, size_t k) {
        int64_t day = fraud_time_day_index(s->batch.fv[k]->transaction->event_time_us);

        if (day <= s->day_latest)
                return false;
        s->day_latest = day;
        return true;
}

/* Takes the n messages and decides the accepted ones together, except that
 * a vector opening a new event-time day splits the batch: what came before
 * it is decided first, then the models are caught up (models_catch_up). */
static int messages_process(struct scorer *s, const struct fraud_kafka_message *msgs, size_t n) {
        size_t k = 0;
        int r = 0;

        assert(n <= s->batch.cap); /* the consumer returns at most batch_records_max */
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = message_take(s, &msgs[i], k);
                if (r > 0 && day_opens(s, k)) {
                        r = batch_decide(s, k);
                        s->batch.msg[0] = s->batch.msg[k];
                        s->batch.fv[0] = s->batch.fv[k];
                        s->batch.tx[0] = s->batch.tx[k];
                        k = 0;
                        models_catch_up(s);
                        r = r < 0 ? r : 1;
                }
                if (r > 0)
                        k++;
        }
        if (r < 0) { /* the vectors taken are not decided: finish them */
                for (size_t i = 0; i < k; i++)
                        fraud_kafka_input_done(s->batch.msg[i]->input);
                return r;
        }
        return batch_decide(s, k);
}

static int delivery_check(struct scorer *s) {
        struct fraud_kafka_counters k;

        fraud_kafka_consumer_counters(s->features, &k);
        if (k.delivery_failed == 0)
                return 0;
        fraud_log_err("delivery failed (%s): stopping; a restart resumes at the last stored offset",
                      fraud_kafka_producer_error(s->producer));
        return -EIO;
}

static int batch_run(struct scorer *s, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(s->features, &msgs, timeout_ms);
        int64_t t0 = fraud_time_mono_ns();
        int r = 0;

        if (n == -ENOBUFS) { /* every tracker slot awaits delivery */
                fraud_kafka_producer_poll(s->producer, timeout_ms);
                n = 0;
        }
        if (n < 0)
                return n;
        if (n > 0)
                r = messages_process(s, msgs, (size_t)n);
        if (n > 0)
                fraud_histogram_observe(s->n.batch_seconds,
                                        (double)(fraud_time_mono_ns() - t0) / 1e9);
        fraud_kafka_producer_poll(s->producer, 0);
        fraud_kafka_consumer_offsets_store(s->features);
        fraud_arena_reset(&s->arena);
        if (r < 0) {
                fraud_log_err("cannot produce: %s", strerror(-r));
                return r;
        }
        r = delivery_check(s);
        return r < 0 ? r : n;
}

int scorer_step(struct scorer *s, int timeout_ms) {
        models_refresh(s);
        rules_refresh(s);
        return batch_run(s, timeout_ms);
}

void scorer_reload_request(struct scorer *s) {
        s->reload = true;
}

int scorer_drain(struct scorer *s, int timeout_ms) {
        int r = fraud_kafka_producer_flush(s->producer, timeout_ms);

        fraud_kafka_consumer_offsets_store(s->features);
        return r < 0 ? r : delivery_check(s);
}

/* ---- life cycle ---- */

/* The feature schema the settings give velocity (common/featureset.h):
 * the rules compile against it until a model brings its own names.  Models
 * are checked against the FeatureVectors actually seen, not against it. */
static int schema_from_settings(struct scorer *s, char *err, size_t err_size) {
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        const char *names[FRAUD_FEATURESET_FEATURES_MAX];
        struct fraud_featureset *fs = malloc(sizeof(*fs));
        size_t n = 0;
        int r;

        if (!fs)
                return -ENOMEM;
        r = fraud_featureset_spans_parse(s->settings->velocity.window_spans_sec, spans,
                                         FRAUD_FEATURESET_SPANS_MAX, &n, err, err_size);
        if (r >= 0)
                r = fraud_featureset_build(spans, n, fs);
        if (r >= 0) {
                for (size_t i = 0; i < fs->n; i++)
                        names[i] = fs->names[i];
                rules_schema_apply(s, names, fs->n);
        }
        free(fs);
        return r;
}

/* Rules and models named by the settings; any failure is fatal at start. */
static int initial_load(struct scorer *s, char *err, size_t err_size) {
        const struct fraud_settings_scorer *sc = &s->settings->scorer;
        int r = schema_from_settings(s, err, err_size);

        if (r >= 0)
                r = rulebook_refresh(s->rules, true, err, err_size);
        if (r > 0)
                rules_loaded(s);
        if (r >= 0 && sc->model_dir[0])
                r = model_install(s, ROLE_CHAMPION, sc->model_dir, NULL, err, err_size);
        if (r >= 0 && sc->challenger_dir[0])
                r = model_install(s, ROLE_CHALLENGER, sc->challenger_dir, NULL, err, err_size);
        return r;
}

static int batch_alloc(struct scorer_batch *b, size_t n) {
        b->cap = n;
        b->msg = calloc(n, sizeof(b->msg[0]));
        b->fv = calloc(n, sizeof(b->fv[0]));
        b->tx = calloc(n, sizeof(b->tx[0]));
        b->res = calloc(n, sizeof(b->res[0]));
        return b->msg && b->fv && b->tx && b->res ? 0 : -ENOMEM;
}

static void batch_release(struct scorer_batch *b) {
        free(b->msg);
        free(b->fv);
        free(b->tx);
        free(b->res);
}

int scorer_new(const struct fraud_settings *settings, struct scorer **out, char *err,
               size_t err_size) {
        struct scorer *s = calloc(1, sizeof(*s));
        int r;

        *out = NULL;
        if (!s)
                return -ENOMEM;
        s->settings = settings;
        s->rules_schema_hash = ~(uint64_t)0;
        s->day_latest = INT64_MIN;
        fraud_arena_init(&s->arena, 0);
        s->alloc = (ProtobufCAllocator){fraud_arena_alloc_cb, fraud_arena_free_cb, &s->arena};
        decide_config_from_settings(&s->cfg, &settings->scorer);
        r = fraud_metrics_new(&s->metrics);
        if (r >= 0)
                r = counters_register(s);
        if (r >= 0)
                r = batch_alloc(&s->batch, (size_t)settings->kafka.batch_records_max);
        if (r >= 0)
                r = recent_new((size_t)settings->scorer.dedup_window, &s->recent);
        if (r >= 0)
                r = rulebook_new(settings->scorer.rules_file, &s->rules);
        if (r >= 0)
                r = initial_load(s, err, err_size);
        if (r >= 0)
                r = kafka_open(s, err, err_size);
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, err_size, "out of memory");
                scorer_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void scorer_free(struct scorer *s) {
        if (!s)
                return;
        if (s->features) {
                scorer_drain(s, FRAUD_KAFKA_CLOSE_FLUSH_MS);
                fraud_kafka_consumer_close(s->features);
        }
        if (s->models)
                fraud_kafka_consumer_close(s->models);
        fraud_kafka_consumer_free(s->features);
        fraud_kafka_consumer_free(s->models);
        fraud_kafka_producer_free(s->producer);
        for (int role = 0; role < ROLES; role++)
                serving_free(s->model[role]);
        rulebook_free(s->rules);
        recent_free(s->recent);
        fraud_metrics_free(s->metrics);
        fraud_arena_release(&s->arena);
        batch_release(&s->batch);
        free(s->buf);
        free(s);
}

void scorer_stats(const struct scorer *s, struct scorer_stats *out) {
        *out = (struct scorer_stats){
                *s->n.consumed,        *s->n.scored,         *s->n.shadow_scored,
                *s->n.duplicates,      *s->n.rejected,       *s->n.degraded,
                *s->n.schema_mismatch, *s->n.rules_reloaded, *s->n.rules_failed,
                *s->n.models_loaded,   *s->n.models_refused,
        };
}

bool scorer_ready(const struct scorer *s, char *why, size_t why_size) {
        if (!rulebook_rules(s->rules) && !s->model[ROLE_CHAMPION]) {
                snprintf(why, why_size, "no rules and no model loaded");
                return false;
        }
        if (s->assigned == 0) {
                snprintf(why, why_size, "waiting for a partition of %s",
                         s->settings->topics.features);
                return false;
        }
        return true;
}

const struct fraud_kafka_consumer *scorer_consumer(const struct scorer *s) {
        return s->features;
}

struct fraud_metrics *scorer_metrics(struct scorer *s) {
        return s->metrics;
}
