/* Tests for scorer/scorer.c: the daemon's loop against librdkafka's mock
 * cluster (lib/mock.h): FeatureVectors in, Scores out, one Score per unique
 * transaction id, bad input to dlq, model swaps through ModelAnnouncements
 * and the refusal of a model of another feature schema.  Waits are bounded
 * loops over scorer_step() and consumer polls. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/schema.h"
#include "common/settings.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/model.pb-c.h"
#include "proto/score.pb-c.h"
#include "scorer/scorer.h"
#include "tests/scorer/kit.h"
#include "tests/testing.h"

#define WAIT_MS    30000
#define SCORES_MAX 256

static const char *const topics[] = {"tx.features", "scores", "scores.shadow", "models", "dlq"};

struct world {
        struct fraud_mock *mock;
        struct fraud_settings settings;
        struct fraud_kafka_producer *producer;
        struct scorer *scorer;
        char parent[64], m1[128];
};

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setting_set(char **field, const char *value) {
        free(*field);
        *field = strdup(value);
        ck_assert_ptr_nonnull(*field);
}

static void world_start(struct world *w) {
        struct fraud_kafka_options o;
        char err[512] = "";

        memset(w, 0, sizeof(*w));
        ck_assert_int_eq(fraud_mock_new(1, &w->mock), 0);
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
                ck_assert_int_eq(fraud_mock_topic_create(w->mock, topics[i], 2), 0);
        snprintf(w->parent, sizeof(w->parent), "/tmp/scorer-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(w->parent));
        kit_model_write(w->m1, sizeof(w->m1), w->parent, "m1", 3, 10, 1);
        ck_assert_int_eq(fraud_settings_init(&w->settings), 0);
        setting_set(&w->settings.kafka.bootstrap_servers, fraud_mock_bootstrap(w->mock));
        setting_set(&w->settings.scorer.model_dir, w->m1);
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(w->mock);
        ck_assert_msg(fraud_kafka_producer_new(&o, &w->producer, err, sizeof(err)) == 0, "%s", err);
}

static void world_stop(struct world *w) {
        scorer_free(w->scorer);
        fraud_kafka_producer_free(w->producer);
        fraud_settings_release(&w->settings);
        fraud_mock_free(w->mock);
        kit_rm_rf(w->parent);
}

static void topic_send(struct world *w, const char *topic, const char *key, const void *v,
                       size_t n) {
        struct fraud_kafka_record rec = {topic, -1, key, strlen(key), v, n};
        ck_assert_int_eq(fraud_kafka_producer_send(w->producer, &rec, NULL), 0);
        ck_assert_int_eq(fraud_kafka_producer_flush(w->producer, WAIT_MS), 0);
}

/* Produces the FeatureVector of transaction id (row i of the kit's data). */
static void vector_send(struct world *w, const char *id, size_t i) {
        static float x[64 * KIT_FEATURES], y[64];
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        double values[KIT_FEATURES];
        uint8_t buf[1024];
        char card[32];

        kit_data(23, 64, x, y);
        for (size_t j = 0; j < KIT_FEATURES; j++)
                values[j] = x[(i % 64) * KIT_FEATURES + j];
        snprintf(card, sizeof(card), "card-%zu", i % 7);
        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = (char *)id;
        t.card_hash = card;
        t.amount_minor = 1000 + (int64_t)i * 100;
        t.currency = (char *)"EUR";
        t.event_time_us = INT64_C(1767225600000000) + (int64_t)i;
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = (char *)id;
        fv.transaction = &t;
        fv.feature_schema_hash = kit_hash();
        fv.values = values;
        fv.n_values = KIT_FEATURES;
        topic_send(w, "tx.features", card, buf, fraud__feature_vector__pack(&fv, buf));
}

static void announce(struct world *w, const char *dir, const char *version, uint64_t hash) {
        Fraud__ModelAnnouncement a = FRAUD__MODEL_ANNOUNCEMENT__INIT;
        uint8_t buf[1024];

        a.schema_version = MODEL_ANNOUNCEMENT_SCHEMA_VERSION;
        a.model_version = (char *)version;
        a.role = FRAUD__MODEL_ROLE__MODEL_ROLE_CHAMPION;
        a.registry_path = (char *)dir;
        a.feature_schema_hash = hash;
        topic_send(w, "models", "fraud", buf, fraud__model_announcement__pack(&a, buf));
}

static void scorer_start(struct world *w) {
        char err[512] = "";
        ck_assert_msg(scorer_new(&w->settings, &w->scorer, err, sizeof(err)) == 0, "%s", err);
}

/* Steps the scorer until it consumed `consumed` vectors and delivered. */
static void steps_until(struct world *w, uint64_t consumed) {
        struct scorer_stats st;
        int64_t deadline = now_ms() + WAIT_MS;

        do {
                ck_assert_int_ge(scorer_step(w->scorer, 50), 0);
                scorer_stats(w->scorer, &st);
        } while (st.consumed < consumed && now_ms() < deadline);
        ck_assert_uint_eq(st.consumed, consumed);
        ck_assert_int_eq(scorer_drain(w->scorer, WAIT_MS), 0);
}

/* Steps the scorer until it has loaded or refused this many models. */
static void steps_until_models(struct world *w, uint64_t loaded, uint64_t refused) {
        struct scorer_stats st;
        int64_t deadline = now_ms() + WAIT_MS;

        do {
                ck_assert_int_ge(scorer_step(w->scorer, 50), 0);
                scorer_stats(w->scorer, &st);
        } while ((st.models_loaded < loaded || st.models_refused < refused) && now_ms() < deadline);
        ck_assert_uint_eq(st.models_loaded, loaded);
        ck_assert_uint_eq(st.models_refused, refused);
}

/* Reads topic from the beginning until `want` messages arrived, then for
 * EXTRA_MS more to catch any beyond them; Scores into out (SCORES_MAX). */
#define EXTRA_MS 1500

static int topic_read(struct world *w, const char *topic, int want, Fraud__Score **out) {
        static int group_seq;
        const char *t[] = {topic};
        struct fraud_kafka_consumer_spec spec = {
                .topics = t, .topics_count = 1, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c;
        char group[32], err[256];
        int64_t deadline = now_ms() + WAIT_MS;
        int got = 0;

        snprintf(group, sizeof(group), "reader-%d", group_seq++);
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(w->mock);
        o.group_id = group;
        ck_assert_int_eq(fraud_kafka_consumer_new(&o, &spec, &c, err, sizeof(err)), 0);
        while (now_ms() < deadline) {
                const struct fraud_kafka_message *msgs;
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                for (int i = 0; i < n && got < SCORES_MAX; i++, got++) {
                        if (out)
                                out[got] = fraud__score__unpack(NULL, msgs[i].value_size,
                                                                msgs[i].value);
                        fraud_kafka_input_done(msgs[i].input);
                }
                if (got >= want && deadline > now_ms() + EXTRA_MS)
                        deadline = now_ms() + EXTRA_MS;
        }
        fraud_kafka_consumer_free(c);
        return got;
}

static void scores_free(Fraud__Score **s, int n) {
        for (int i = 0; i < n; i++)
                fraud__score__free_unpacked(s[i], NULL);
}

START_TEST(test_scorer_daemon_scores_each_unique_transaction_once) {
        static Fraud__Score *scores[SCORES_MAX];
        struct world w;
        struct scorer_stats st;
        char id[32];
        int n;

        world_start(&w);
        for (int i = 0; i < 20; i++) {
                snprintf(id, sizeof(id), "tx-%d", i);
                vector_send(&w, id, (size_t)i);
        }
        vector_send(&w, "tx-3", 3); /* re-sent */
        vector_send(&w, "tx-7", 7);
        topic_send(&w, "tx.features", "k", "not a vector", 12);
        scorer_start(&w);
        steps_until(&w, 23);
        scorer_stats(w.scorer, &st);
        ck_assert_uint_eq(st.duplicates, 2);
        ck_assert_uint_eq(st.rejected, 1);
        n = topic_read(&w, "scores", 20, scores);
        ck_assert_int_eq(n, 20);
        for (int i = 0; i < n; i++) {
                ck_assert_ptr_nonnull(scores[i]);
                ck_assert_str_eq(scores[i]->gbdt_version, "m1");
                ck_assert(!scores[i]->degraded);
                for (int k = 0; k < i; k++)
                        ck_assert_str_ne(scores[i]->transaction_id, scores[k]->transaction_id);
        }
        ck_assert_int_eq(topic_read(&w, "dlq", 1, NULL), 1);
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

START_TEST(test_scorer_daemon_swaps_model_on_announcement) {
        static Fraud__Score *scores[SCORES_MAX];
        struct world w;
        char m2[128], id[32];
        int n, seen_m2 = 0;

        world_start(&w);
        kit_model_write(m2, sizeof(m2), w.parent, "m2", 8, 12, 0);
        scorer_start(&w);
        vector_send(&w, "tx-a", 1);
        steps_until(&w, 1);
        announce(&w, m2, "m2", kit_hash());
        steps_until_models(&w, 2, 0);
        for (int i = 0; i < 5; i++) {
                snprintf(id, sizeof(id), "tx-b%d", i);
                vector_send(&w, id, (size_t)i);
        }
        steps_until(&w, 6);
        n = topic_read(&w, "scores", 6, scores);
        ck_assert_int_eq(n, 6);
        for (int i = 0; i < n; i++) {
                if (strcmp(scores[i]->transaction_id, "tx-a") == 0)
                        ck_assert_str_eq(scores[i]->gbdt_version, "m1");
                else
                        seen_m2 += strcmp(scores[i]->gbdt_version, "m2") == 0;
        }
        ck_assert_int_eq(seen_m2, 5);
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

START_TEST(test_scorer_daemon_refuses_model_of_other_feature_schema) {
        static Fraud__Score *scores[SCORES_MAX];
        struct fraud_modelfile meta;
        struct world w;
        struct scorer_stats st;
        const char *names[KIT_FEATURES];
        char m3[128];
        int n;

        world_start(&w);
        kit_model_write(m3, sizeof(m3), w.parent, "m3", 8, 4, 0);
        kit_meta(&meta, "m3");
        snprintf(meta.feature_names[5], sizeof(meta.feature_names[5]), "renamed");
        for (size_t i = 0; i < KIT_FEATURES; i++)
                names[i] = meta.feature_names[i];
        meta.feature_schema_hash = fraud_featureset_hash(names, KIT_FEATURES);
        ck_assert_int_eq(fraud_modelfile_write(&meta, m3), 0);
        scorer_start(&w);
        vector_send(&w, "tx-a", 1);
        steps_until(&w, 1);
        announce(&w, m3, "m3", meta.feature_schema_hash);
        steps_until_models(&w, 1, 1);
        vector_send(&w, "tx-b", 2);
        steps_until(&w, 2);
        scorer_stats(w.scorer, &st);
        ck_assert_uint_eq(st.models_refused, 1);
        n = topic_read(&w, "scores", 2, scores);
        ck_assert_int_eq(n, 2);
        ck_assert_str_eq(scores[0]->gbdt_version, "m1");
        ck_assert_str_eq(scores[1]->gbdt_version, "m1");
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

START_TEST(test_scorer_daemon_without_model_flags_every_score_degraded) {
        static Fraud__Score *scores[SCORES_MAX];
        struct world w;
        struct scorer_stats st;
        int n;

        world_start(&w);
        setting_set(&w.settings.scorer.model_dir, "");
        scorer_start(&w);
        vector_send(&w, "tx-1", 1);
        vector_send(&w, "tx-2", 2);
        steps_until(&w, 2);
        scorer_stats(w.scorer, &st);
        ck_assert_uint_eq(st.degraded, 2);
        n = topic_read(&w, "scores", 2, scores);
        ck_assert_int_eq(n, 2);
        for (int i = 0; i < n; i++) {
                ck_assert(scores[i]->degraded);
                ck_assert_int_eq(scores[i]->decision, FRAUD__DECISION__DECISION_ALLOW);
                ck_assert_str_eq(scores[i]->gbdt_version, "");
        }
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

START_TEST(test_scorer_daemon_scores_challenger_in_shadow) {
        static Fraud__Score *scores[SCORES_MAX];
        struct world w;
        char c1[128];
        int n;

        world_start(&w);
        kit_model_write(c1, sizeof(c1), w.parent, "c1", 9, 6, 0);
        setting_set(&w.settings.scorer.challenger_dir, c1);
        scorer_start(&w);
        vector_send(&w, "tx-1", 1);
        vector_send(&w, "tx-2", 2);
        steps_until(&w, 2);
        n = topic_read(&w, "scores.shadow", 2, scores);
        ck_assert_int_eq(n, 2);
        for (int i = 0; i < n; i++) {
                ck_assert(scores[i]->shadow);
                ck_assert_str_eq(scores[i]->gbdt_version, "c1");
        }
        scores_free(scores, n);
        n = topic_read(&w, "scores", 2, scores);
        ck_assert_int_eq(n, 2);
        ck_assert(!scores[0]->shadow);
        ck_assert_str_eq(scores[0]->gbdt_version, "m1");
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

START_TEST(test_scorer_daemon_restart_resumes_after_committed_offsets) {
        static Fraud__Score *scores[SCORES_MAX];
        struct world w;
        struct scorer_stats st;
        int n;

        world_start(&w);
        w.settings.kafka.session_timeout_ms = 6000; /* the mock's rejoin waits this long */
        scorer_start(&w);
        vector_send(&w, "tx-1", 1);
        vector_send(&w, "tx-2", 2);
        vector_send(&w, "tx-3", 3);
        steps_until(&w, 3);
        scorer_free(w.scorer); /* stores and commits the offsets */
        vector_send(&w, "tx-4", 4);
        vector_send(&w, "tx-5", 5);
        scorer_start(&w);
        steps_until(&w, 2);
        for (int i = 0; i < 20; i++)
                ck_assert_int_ge(scorer_step(w.scorer, 50), 0);
        scorer_stats(w.scorer, &st);
        ck_assert_uint_eq(st.consumed, 2);
        n = topic_read(&w, "scores", 5, scores);
        ck_assert_int_eq(n, 5);
        scores_free(scores, n);
        world_stop(&w);
}
END_TEST

TESTING_MAIN("scorer", test_scorer_daemon_scores_each_unique_transaction_once,
             test_scorer_daemon_swaps_model_on_announcement,
             test_scorer_daemon_refuses_model_of_other_feature_schema,
             test_scorer_daemon_without_model_flags_every_score_degraded,
             test_scorer_daemon_scores_challenger_in_shadow,
             test_scorer_daemon_restart_resumes_after_committed_offsets)
