/* test_gate.c: tests of trainer/gate.c, the quality gate: each check on
 * its own at its boundary, without a champion, with figures that are not
 * numbers, every failed check named in the reason, and a reason buffer
 * too small.
 *
 * And the gate in the daemon, on librdkafka's mock cluster: a trainer
 * (its own state and labels topic, the registry of a first trainer that
 * promoted a champion on clean labels) learns from labels shuffled before
 * its holdout.  Its challenger must be rejected against that champion,
 * the registry must keep the champion, nothing may be announced for the
 * challenger, and a scorer on the same cluster must keep serving the
 * champion. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "proto/score.pb-c.h"
#include "scorer/scorer.h"
#include "tests/testing.h"
#include "tests/trainer/world.h"
#include "trainer/gate.h"
#include "trainer/registry.h"

static const struct gate_config cfg = {
        .ap_ratio = 0.98, .min_train_frauds = 50, .min_holdout_frauds = 10, .min_auc = 0.6};

/* A challenger that passes every check against a champion of AP 0.5. */
static struct gate_input good(void) {
        return (struct gate_input){.train_frauds = 50,
                                   .holdout_frauds = 10,
                                   .auc_roc = 0.6,
                                   .average_precision = 0.49,
                                   .has_champion = true,
                                   .champion_average_precision = 0.5,
                                   .champion_version = "train-20260110"};
}

START_TEST(test_gate_promotes_at_every_boundary) {
        struct gate_input in = good();
        char why[256];

        /* 0.49 >= 0.98 x 0.5 = 0.49 exactly; frauds and AUC at their minimum. */
        in.average_precision = 0.98 * 0.5;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_PROMOTE);
        ck_assert_ptr_nonnull(strstr(why, "champion train-20260110"));
}
END_TEST

START_TEST(test_gate_rejects_each_check_alone) {
        char why[256];

        for (int c = 0; c < 4; c++) {
                struct gate_input in = good();
                const char *named = c == 0   ? "training frauds"
                                    : c == 1 ? "holdout frauds"
                                    : c == 2 ? "AUC-ROC"
                                             : "average precision";

                if (c == 0)
                        in.train_frauds = 49;
                else if (c == 1)
                        in.holdout_frauds = 9;
                else if (c == 2)
                        in.auc_roc = nextafter(0.6, 0);
                else
                        in.average_precision = nextafter(0.98 * 0.5, 0);
                ck_assert_msg(gate_decide(&cfg, &in, why, sizeof(why)) == GATE_REJECT, "case %d",
                              c);
                ck_assert_msg(strstr(why, named) != NULL, "case %d: %s", c, why);
                ck_assert_msg(strchr(why, ';') == NULL, "only one check failed: %s", why);
        }
}
END_TEST

START_TEST(test_gate_without_champion_uses_absolute_checks_only) {
        struct gate_input in = good();
        char why[256];

        in.has_champion = false;
        in.average_precision = 0.01; /* far below the champion it does not have */
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_PROMOTE);
        ck_assert_ptr_nonnull(strstr(why, "no champion"));
        in.auc_roc = 0.59;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
}
END_TEST

START_TEST(test_gate_names_every_failed_check) {
        const struct gate_input in = {.train_frauds = 3,
                                      .holdout_frauds = 1,
                                      .auc_roc = 0.5,
                                      .average_precision = 0.1,
                                      .has_champion = true,
                                      .champion_average_precision = 0.6,
                                      .champion_version = "v7"};
        char why[512];

        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
        ck_assert_str_eq(why, "3 training frauds < 50; 1 holdout frauds < 10; AUC-ROC 0.5000 < "
                              "0.6000; average precision 0.1000 < 0.98 x champion v7's 0.6000");
}
END_TEST

START_TEST(test_gate_rejects_figures_that_are_not_numbers) {
        struct gate_input in = good();
        char why[256];

        in.auc_roc = NAN;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
        in = good();
        in.average_precision = NAN;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
        in = good();
        in.champion_average_precision = NAN;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
}
END_TEST

START_TEST(test_gate_cuts_reason_to_its_buffer) {
        struct gate_input in = good();
        char why[12];

        in.train_frauds = 0;
        in.holdout_frauds = 0;
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_REJECT);
        ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
        ck_assert_int_eq(gate_decide(&cfg, &in, why, 0), GATE_REJECT);
        ck_assert_int_eq(gate_decide(&cfg, &in, why, 1), GATE_REJECT);
        ck_assert_str_eq(why, "");
        in = good();
        ck_assert_int_eq(gate_decide(&cfg, &in, why, 1), GATE_PROMOTE);
        ck_assert_int_eq(gate_decide(&cfg, &in, why, sizeof(why)), GATE_PROMOTE);
}
END_TEST

/* Sends the FeatureVector of payment p of seed to tx.features. */
static void vector_send(struct world *w, uint64_t seed, size_t p) {
        Fraud__Transaction tx = FRAUD__TRANSACTION__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        double values[41];
        uint8_t buf[2048];

        kit_payment(seed, p, values, 41);
        tx.schema_version = TRANSACTION_SCHEMA_VERSION;
        tx.transaction_id = (char *)"probe-1";
        tx.card_hash = (char *)"card-1";
        tx.currency = (char *)"EUR";
        tx.amount_minor = 1000;
        tx.event_time_us = KIT_T0 + 13 * KIT_DAY;
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = tx.transaction_id;
        fv.transaction = &tx;
        fv.feature_schema_hash = w->fs.hash;
        fv.n_values = 41;
        fv.values = values;
        topic_send(w, "tx.features", "card-1", buf, fraud__feature_vector__pack(&fv, buf));
        ck_assert_int_eq(fraud_kafka_producer_flush(w->producer, WORLD_WAIT_MS), 0);
}

/* Steps the scorer for ms; returns its stats then. */
static struct scorer_stats scorer_steps(struct scorer *sc, int ms) {
        struct scorer_stats st;

        for (int64_t end = now_ms() + ms; now_ms() < end;)
                ck_assert_int_ge(scorer_step(sc, 50), 0);
        scorer_stats(sc, &st);
        return st;
}

/* Trainer A on clean labels: one day, whose model must be promoted. */
static void champion_train(struct world *w, char *champion, size_t size) {
        static struct kit_label h[KIT_LABELS_MAX];
        struct fraud_settings s;
        struct trainer *t;
        struct trainer_counters k;
        char err[512];
        size_t n = kit_history(5, KIT_T0, 7, WORLD_PER_DAY, 1, 0, h, KIT_LABELS_MAX);
        size_t cut = labels_before(h, n, first_cutoff(h, 4) + KIT_DAY);

        settings_load(w, &s, "a", "labels", 4);
        labels_publish(w, "labels", 5, h, 0, cut);
        ck_assert_msg(trainer_new(&s, &t, err, sizeof(err)) == 0, "%s", err);
        steps_until_all(t, &(struct trainer_counters){.labels = cut, .rounds = 1});
        trainer_counters(t, &k);
        ck_assert_uint_eq(k.promoted, 1);
        ck_assert_int_eq(trainer_close(t), 0);
        ck_assert_int_eq(registry_champion(w->registry, champion, size, err, sizeof(err)), 0);
        fraud_settings_release(&s);
}

START_TEST(test_gate_rejects_shuffled_labels_and_scorer_keeps_champion) {
        static struct kit_label h[KIT_LABELS_MAX];
        static Fraud__ModelAnnouncement *ann[WORLD_MSGS_MAX];
        const char *const read[] = {"models", "scores"};
        const int64_t cutoff = KIT_T0 + 12 * KIT_DAY;
        Fraud__Score *score = NULL;
        struct got g;
        struct world w;
        struct fraud_settings s, ss;
        struct fraud_modelfile *m = malloc(sizeof(*m));
        struct scorer *sc;
        struct scorer_stats st;
        struct trainer *t;
        struct trainer_counters k;
        char err[512], champion[FRAUD_MODELFILE_VERSION_MAX], now[FRAUD_MODELFILE_VERSION_MAX],
                challenger[FRAUD_MODELFILE_VERSION_MAX];
        /* B's training days (before its holdout day) have shuffled labels */
        size_t n = kit_history(6, KIT_T0, 12, WORLD_PER_DAY, 1, cutoff - 2 * KIT_DAY, h,
                               KIT_LABELS_MAX);
        size_t cut = labels_before(h, n, cutoff + KIT_DAY / 2);
        int warmup = (int)((cutoff - first_cutoff(h, 0)) / KIT_DAY), got, loaded;

        world_start(&w);
        champion_train(&w, champion, sizeof(champion));
        settings_load(&w, &ss, "scorer", "labels", 4);
        ck_assert_msg(scorer_new(&ss, &sc, err, sizeof(err)) == 0, "%s", err);
        for (int i = 0; i < 100 && scorer_steps(sc, 100).models_loaded < 1; i++)
                ;
        loaded = (int)scorer_steps(sc, 500).models_loaded;
        ck_assert_int_eq(loaded, 1);
        settings_load(&w, &s, "b", "labels.b", warmup);
        labels_publish(&w, "labels.b", 6, h, 0, cut);
        ck_assert_msg(trainer_new(&s, &t, err, sizeof(err)) == 0, "%s", err);
        steps_until_all(t, &(struct trainer_counters){.labels = cut, .rounds = 1});
        trainer_counters(t, &k);
        ck_assert_int_eq(trainer_close(t), 0);
        ck_assert_uint_eq(k.gate_rejected, 1);
        ck_assert_uint_eq(k.promoted, 0);
        version_of(cutoff, challenger, sizeof(challenger));
        ck_assert_int_eq(registry_read(w.registry, challenger, m, err, sizeof(err)), 0);
        ck_assert_str_eq(m->status, "rejected");
        ck_assert_str_eq(m->parent_version, champion);
        ck_assert_msg(strstr(m->status_reason, "average precision") &&
                              strstr(m->status_reason, champion),
                      "%s", m->status_reason);
        ck_assert_int_eq(registry_champion(w.registry, now, sizeof(now), err, sizeof(err)), 0);
        ck_assert_str_eq(now, champion);
        st = scorer_steps(sc, 1000);
        ck_assert_int_eq((int)st.models_loaded, loaded);
        ck_assert_uint_eq(st.models_refused, 0);
        vector_send(&w, 6, 3);
        for (int i = 0; i < 100 && scorer_steps(sc, 100).consumed < 1; i++)
                ;
        ck_assert_int_eq(scorer_drain(sc, WORLD_WAIT_MS), 0);
        topics_read(&w, read, 2, 3, &g); /* A's promotion, B's start, the Score */
        got = announcements_of(&g, ann);
        ck_assert_int_eq(got, 2);
        for (int i = 0; i < got; i++) {
                ck_assert_str_eq(ann[i]->model_version, champion);
                fraud__model_announcement__free_unpacked(ann[i], NULL);
        }
        ck_assert_int_eq(count_of(&g, "scores"), 1);
        for (int i = 0; i < g.n; i++)
                if (!strcmp(g.topic[i], "scores"))
                        score = fraud__score__unpack(NULL, g.size[i], g.value[i]);
        ck_assert_ptr_nonnull(score);
        ck_assert_str_eq(score->gbdt_version, champion);
        ck_assert(!score->degraded);
        fraud__score__free_unpacked(score, NULL);
        got_release(&g);
        scorer_free(sc);
        fraud_settings_release(&ss);
        fraud_settings_release(&s);
        free(m);
        world_stop(&w);
}
END_TEST

TESTING_MAIN("gate", test_gate_promotes_at_every_boundary, test_gate_rejects_each_check_alone,
             test_gate_without_champion_uses_absolute_checks_only,
             test_gate_names_every_failed_check, test_gate_rejects_figures_that_are_not_numbers,
             test_gate_cuts_reason_to_its_buffer,
             test_gate_rejects_shuffled_labels_and_scorer_keeps_champion)
