/* world.h: what the trainer daemon's tests share (test_trainer.c,
 * test_gate.c): librdkafka's mock cluster with the topics, a temporary
 * directory for the label stores and the registry, the settings of a
 * trainer, labels published as the labeler would publish them, a trainer
 * stepped until its counters arrive, and topics read back.
 *
 * Header-only (static inline) like kit.h, so each test program stays one
 * source file.
 */
#ifndef FRAUD_TESTS_TRAINER_WORLD_H
#define FRAUD_TESTS_TRAINER_WORLD_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "proto/label.pb-c.h"
#include "proto/model.pb-c.h"
#include "tests/testing.h"
#include "tests/trainer/kit.h"
#include "trainer/trainer.h"

#define WORLD_WAIT_MS  60000
#define WORLD_PER_DAY  150
#define WORLD_MSGS_MAX 64

static const char *const world_topics[] = {"labels",      "labels.b", "models",       "dlq",
                                           "tx.features", "scores",   "scores.shadow"};

struct world {
        struct fraud_mock *mock;
        struct fraud_kafka_producer *producer;
        struct fraud_featureset fs;
        char root[64], registry[128];
};

static inline int64_t now_ms(void) {
        return fraud_time_mono_ns() / 1000000;
}

static inline void world_start(struct world *w) {
        struct fraud_kafka_options o;
        char err[512] = "";

        memset(w, 0, sizeof(*w));
        kit_featureset(&w->fs);
        ck_assert_int_eq(fraud_mock_new(1, &w->mock), 0);
        for (size_t i = 0; i < sizeof(world_topics) / sizeof(world_topics[0]); i++)
                ck_assert_int_eq(fraud_mock_topic_create(w->mock, world_topics[i], 1), 0);
        snprintf(w->root, sizeof(w->root), "/tmp/fraud-trainer-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(w->root));
        snprintf(w->registry, sizeof(w->registry), "%s/registry", w->root);
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(w->mock);
        ck_assert_msg(fraud_kafka_producer_new(&o, &w->producer, err, sizeof(err)) == 0, "%s", err);
}

static inline void world_stop(struct world *w) {
        fraud_kafka_producer_free(w->producer);
        fraud_mock_free(w->mock);
        ck_assert_int_eq(testing_tree_remove(w->root), 0);
}

/* Settings of trainer `name` (its state dir and group) reading topic. */
static inline void settings_load(struct world *w, struct fraud_settings *s, const char *name,
                                 const char *topic, int warmup_days) {
        char path[256], err[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.yaml", w->root, name);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  bootstrap_servers: \"%s\"\n  session_timeout_ms: 6000\n"
                "topics:\n  labels: \"%s\"\n"
                "velocity:\n  window_spans_sec: [\"" KIT_SPANS "\"]\n"
                "trainer:\n  group_id: \"%s\"\n  state_dir: \"%s/%s-state\"\n"
                "  registry_dir: \"%s\"\n  gbdt_rounds: 12\n  gbdt_max_depth: 3\n"
                "  mlp_hidden: 8\n  mlp_hidden_layers: 1\n  mlp_epochs: 3\n  threads: 1\n"
                "  window_days: 6\n  label_maturity_days: 1\n  holdout_days: 1\n"
                "  evict_margin_days: 1\n"
                "  warmup_days: %d\n  label_lateness_sec: 0\n  gate_min_train_frauds: 20\n"
                "  gate_min_holdout_frauds: 5\n  precision_k: 10\n  band_share: 0.1\n",
                fraud_mock_bootstrap(w->mock), topic, name, w->root, name, w->registry,
                warmup_days);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_msg(fraud_settings_load(s, path, err, sizeof(err)) == 0, "%s", err);
}

static inline void topic_send(struct world *w, const char *topic, const char *key, const void *v,
                              size_t n) {
        struct fraud_kafka_record rec = {topic, -1, key, strlen(key), v, n};
        ck_assert_int_eq(fraud_kafka_producer_send(w->producer, &rec, NULL), 0);
}

/* Publishes labels [from, to) of the history as the labeler would. */
static inline void labels_publish(struct world *w, const char *topic, uint64_t seed,
                                  const struct kit_label *h, size_t from, size_t to) {
        static uint8_t buf[4096];
        Fraud__Label l = FRAUD__LABEL__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        Fraud__Transaction tx = FRAUD__TRANSACTION__INIT;
        double values[41];

        for (size_t i = from; i < to; i++) {
                kit_payment(seed, h[i].payment, values, 41);
                tx.transaction_id = (char *)h[i].tx_id;
                tx.card_hash = (char *)h[i].card;
                tx.event_time_us = h[i].event_us;
                fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
                fv.transaction_id = (char *)h[i].tx_id;
                fv.transaction = &tx;
                fv.feature_schema_hash = w->fs.hash;
                fv.n_values = 41;
                fv.values = values;
                l.schema_version = LABEL_SCHEMA_VERSION;
                l.transaction_id = (char *)h[i].tx_id;
                l.features = &fv;
                l.value = h[i].value;
                l.status = h[i].status;
                l.event_time_us = h[i].event_us;
                l.known_at_us = h[i].known_us;
                topic_send(w, topic, h[i].tx_id, buf, fraud__label__pack(&l, buf));
        }
        ck_assert_int_eq(fraud_kafka_producer_flush(w->producer, WORLD_WAIT_MS), 0);
}

/* The first label known at or after t. */
static inline size_t labels_before(const struct kit_label *h, size_t n, int64_t t) {
        size_t i = 0;

        while (i < n && h[i].known_us < t)
                i++;
        return i;
}

/* Messages read back from topics: each one's topic and value (copied). */
struct got {
        int n;
        char topic[WORLD_MSGS_MAX][16];
        uint8_t *value[WORLD_MSGS_MAX];
        size_t size[WORLD_MSGS_MAX];
};

/* Every message of the topics from the start, in one consumer group (a
 * group join costs the mock about 3 s): until `want` arrived, then 1 s
 * more for any extra. */
static inline void topics_read(struct world *w, const char *const *t, size_t nt, int want,
                               struct got *g) {
        static int seq;
        struct fraud_kafka_consumer_spec spec = {
                .topics = t, .topics_count = nt, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c;
        char group[32];
        int64_t deadline = now_ms() + 20000;

        memset(g, 0, sizeof(*g));
        snprintf(group, sizeof(group), "reader-%d", seq++);
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(w->mock);
        o.group_id = group;
        ck_assert_int_eq(fraud_kafka_consumer_new(&o, &spec, &c, NULL, 0), 0);
        while (now_ms() < deadline) {
                const struct fraud_kafka_message *m;
                int n = fraud_kafka_consumer_poll_batch(c, &m, 100);
                for (int i = 0; i < n; i++) {
                        ck_assert_int_lt(g->n, WORLD_MSGS_MAX);
                        snprintf(g->topic[g->n], sizeof(g->topic[0]), "%s", m[i].topic);
                        g->value[g->n] = malloc(m[i].value_size + 1);
                        memcpy(g->value[g->n], m[i].value, m[i].value_size);
                        g->size[g->n++] = m[i].value_size;
                        fraud_kafka_input_done(m[i].input);
                }
                if (g->n >= want && deadline > now_ms() + 1000)
                        deadline = now_ms() + 1000;
        }
        fraud_kafka_consumer_free(c);
}

static inline void got_release(struct got *g) {
        for (int i = 0; i < g->n; i++)
                free(g->value[i]);
}

/* The announcements among g, in order, into a (WORLD_MSGS_MAX); their count. */
static inline int announcements_of(const struct got *g, Fraud__ModelAnnouncement **a) {
        int n = 0;

        for (int i = 0; i < g->n; i++)
                if (!strcmp(g->topic[i], "models")) {
                        a[n] = fraud__model_announcement__unpack(NULL, g->size[i], g->value[i]);
                        ck_assert_ptr_nonnull(a[n]);
                        n++;
                }
        return n;
}

static inline int count_of(const struct got *g, const char *topic) {
        int n = 0;

        for (int i = 0; i < g->n; i++)
                n += !strcmp(g->topic[i], topic);
        return n;
}

/* The first midnight at or after first_known + warmup days. */
static inline int64_t first_cutoff(const struct kit_label *h, int warmup_days) {
        int64_t t = h[0].known_us + warmup_days * KIT_DAY, d = fraud_time_day_start_us(t);
        return d == t ? d : d + KIT_DAY;
}

/* Steps until the counters reach the wanted ones (labels, days done,
 * duplicates, rejected), then checks they did. */
static inline void steps_until_all(struct trainer *t, const struct trainer_counters *want) {
        struct trainer_counters k;
        int64_t deadline = now_ms() + WORLD_WAIT_MS;

        do {
                ck_assert_msg(trainer_step(t, 50) >= 0, "%s", trainer_error(t));
                trainer_counters(t, &k);
        } while ((k.labels < want->labels || k.rounds + k.days_skipped < want->rounds ||
                  k.duplicates < want->duplicates || k.rejected < want->rejected) &&
                 now_ms() < deadline);
        ck_assert_uint_eq(k.labels, want->labels);
        ck_assert_uint_eq(k.rounds + k.days_skipped, want->rounds);
        ck_assert_uint_eq(k.duplicates, want->duplicates);
        ck_assert_uint_eq(k.rejected, want->rejected);
        ck_assert_uint_eq(k.days_skipped, 0);
}

static inline void version_of(int64_t cutoff, char *v, size_t size) {
        int64_t y;
        unsigned mo, d;

        fraud_time_civil_from_days(fraud_time_day_index(cutoff) - 1, &y, &mo, &d);
        snprintf(v, size, "train-%04lld%02u%02u", (long long)y, mo, d);
}

#endif
