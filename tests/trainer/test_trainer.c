/* test_trainer.c: tests of trainer/trainer.c, the daemon's loop, against
 * librdkafka's mock cluster (lib/mock.h), RocksDB and a registry in a
 * temporary directory.
 *
 * Days: labels of simulated payments (tests/trainer/kit.h: chargebacks,
 * provisional labels, late corrections, blocked payments) are published
 * in known_at order; a model must be trained at every day boundary after
 * the warmup, on exactly the rows an independent oracle finds at that
 * cutoff, registered with its cutoff and status, and announced when
 * promoted; bad labels go to dlq and a duplicate is ignored; rows beyond
 * the window and its margin are evicted.  After a crash (freed without a
 * final checkpoint) the restarted trainer resumes at its stored offsets:
 * no label is taken twice and no day is trained again.
 * The gate's own end-to-end test is in test_gate.c. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testing.h"
#include "tests/trainer/kit.h"
#include "tests/trainer/world.h"
#include "trainer/labelstore.h"
#include "trainer/registry.h"
#include "trainer/trainer.h"

static double metric(const struct fraud_modelfile *m, const char *name) {
        for (size_t i = 0; i < m->n_metrics; i++)
                if (!strcmp(m->metrics[i].name, name))
                        return m->metrics[i].value;
        ck_abort_msg("no metric %s", name);
        return 0;
}

/* Rows the oracle finds for the training set at D (window 6, maturity 1). */
static size_t oracle_rows(const struct kit_label *h, size_t n, size_t payments, int64_t D) {
        size_t rows = 0;

        for (size_t p = 0; p < payments; p++) {
                int64_t ev = KIT_T0 + (int64_t)(p / WORLD_PER_DAY) * KIT_DAY +
                             (int64_t)(p % WORLD_PER_DAY) * (KIT_DAY / WORLD_PER_DAY);
                rows += ev >= D - 6 * KIT_DAY && ev < D - KIT_DAY && kit_label_at(h, n, p, D) >= 0;
        }
        return rows;
}

static void bad_labels_publish(struct world *w) {
        Fraud__Label l = FRAUD__LABEL__INIT;
        uint8_t buf[256];

        topic_send(w, "labels", "junk", "not a label", 11);
        l.schema_version = LABEL_SCHEMA_VERSION;
        l.transaction_id = (char *)"no-features";
        l.value = FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD;
        l.status = FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED;
        topic_send(w, "labels", "no-features", buf, fraud__label__pack(&l, buf));
}

/* Checks every version of the registry against the oracle; returns the
 * versions announced (ever champion: champion or retired). */
static size_t registry_check(struct world *w, const struct kit_label *h, size_t n, int64_t first,
                             int days) {
        struct fraud_modelfile *m = malloc(sizeof(*m));
        char v[FRAUD_MODELFILE_VERSION_MAX], err[512];
        size_t promoted = 0;

        for (int d = 0; d < days; d++) {
                int64_t D = first + d * KIT_DAY;
                int64_t y;
                unsigned mo, dd;

                fraud_time_civil_from_days(fraud_time_day_index(D) - 1, &y, &mo, &dd);
                snprintf(v, sizeof(v), "train-%04lld%02u%02u", (long long)y, mo, dd);
                ck_assert_msg(registry_read(w->registry, v, m, err, sizeof(err)) == 0, "%s", err);
                ck_assert_int_eq(m->label_cutoff_us, D);
                ck_assert_uint_eq(m->feature_schema_hash, w->fs.hash);
                ck_assert_double_eq(metric(m, "train_rows") + metric(m, "holdout_rows"),
                                    (double)oracle_rows(h, n, 9 * WORLD_PER_DAY, D));
                ck_assert_msg(strcmp(m->status, "rejected") != 0 || m->parent_version[0],
                              "%s rejected without a champion: %s", v, m->status_reason);
                promoted += strcmp(m->status, "rejected") != 0;
        }
        free(m);
        return promoted;
}

/* Checks the announcements against the registry; the last names the
 * CHAMPION pointer, none a rejected version. */
static void announcements_check(struct world *w, Fraud__ModelAnnouncement **a, int n) {
        struct fraud_modelfile *m = malloc(sizeof(*m));
        char dir[PATH_MAX], abs[PATH_MAX], champion[FRAUD_MODELFILE_VERSION_MAX], err[512];

        for (int i = 0; i < n; i++) {
                ck_assert_ptr_nonnull(a[i]);
                ck_assert_int_eq(a[i]->role, FRAUD__MODEL_ROLE__MODEL_ROLE_CHAMPION);
                ck_assert_int_eq(
                        registry_read(w->registry, a[i]->model_version, m, err, sizeof(err)), 0);
                ck_assert_str_ne(m->status, "rejected");
                registry_path(w->registry, a[i]->model_version, dir, sizeof(dir));
                ck_assert_ptr_nonnull(realpath(dir, abs));
                ck_assert_str_eq(a[i]->registry_path, abs);
                ck_assert_uint_eq(a[i]->feature_schema_hash, w->fs.hash);
                ck_assert_uint_eq(a[i]->n_feature_names, 41);
                ck_assert_int_eq(a[i]->label_cutoff_us, m->label_cutoff_us);
                ck_assert_str_eq(a[i]->parent_version, m->parent_version);
        }
        ck_assert_int_eq(
                registry_champion(w->registry, champion, sizeof(champion), err, sizeof(err)), 0);
        ck_assert_str_eq(a[n - 1]->model_version, champion);
        free(m);
}

/* Rows of trainer a's store with event time in [from, to). */
static size_t rows_between(struct world *w, int64_t from, int64_t to) {
        struct dataset_window win = {INT64_MAX, from, to, w->fs.hash, 41};
        struct dataset_table t;
        struct labelstore *s;
        char dir[256], err[512];
        size_t n;

        snprintf(dir, sizeof(dir), "%s/a-state", w->root);
        ck_assert_msg(labelstore_open(dir, false, &s, err, sizeof(err)) == 0, "%s", err);
        dataset_table_init(&t, 41, 100000);
        ck_assert_int_eq(labelstore_select(s, &win, &t), 0);
        n = t.n_rows + t.skipped_unknown;
        dataset_table_release(&t);
        labelstore_close(s);
        return n;
}

START_TEST(test_trainer_trains_each_day_registers_announces_and_resumes) {
        static struct kit_label h[KIT_LABELS_MAX];
        static Fraud__ModelAnnouncement *ann[WORLD_MSGS_MAX];
        const char *const read[] = {"models", "dlq"};
        struct world w;
        struct fraud_settings s;
        struct trainer *t;
        struct trainer_counters k1, k2;
        struct got g;
        char err[512];
        /* 9 days of payments; labels until the last day with a full holdout */
        size_t n = kit_history(5, KIT_T0, 9, WORLD_PER_DAY, 1, 0, h, KIT_LABELS_MAX);
        size_t cut = labels_before(h, n, KIT_T0 + 8 * KIT_DAY), promoted;
        size_t end = labels_before(h, n, KIT_T0 + 11 * KIT_DAY);
        int64_t first = first_cutoff(h, 4), before;
        uint64_t days1 =
                (uint64_t)((fraud_time_day_start_us(h[cut - 1].known_us) - first) / KIT_DAY) + 1;
        uint64_t days2 =
                (uint64_t)((fraud_time_day_start_us(h[end - 1].known_us) - first) / KIT_DAY) + 1 -
                days1;
        int got, want;

        world_start(&w);
        settings_load(&w, &s, "a", "labels", 4);
        bad_labels_publish(&w);
        labels_publish(&w, "labels", 5, h, 0, cut);
        labels_publish(&w, "labels", 5, h, 0, 1); /* a duplicate */
        ck_assert_msg(trainer_new(&s, &t, err, sizeof(err)) == 0, "%s", err);
        steps_until_all(t, &(struct trainer_counters){
                                   .labels = cut, .rounds = days1, .duplicates = 1, .rejected = 2});
        trainer_counters(t, &k1);
        trainer_free(t); /* a crash: no checkpoint, no clean close */
        labels_publish(&w, "labels", 5, h, cut, end);
        ck_assert_msg(trainer_new(&s, &t, err, sizeof(err)) == 0, "%s", err);
        steps_until_all(t, &(struct trainer_counters){.labels = end - cut, .rounds = days2});
        trainer_counters(t, &k2);
        ck_assert_int_eq(trainer_close(t), 0);
        /* rows older than window (6) + margin (1) days before the last cutoff are gone */
        before = first + (int64_t)(days1 + days2 - 1) * KIT_DAY - 7 * KIT_DAY;
        ck_assert_int_gt(before, KIT_T0);
        ck_assert_uint_eq(rows_between(&w, INT64_MIN, before), 0);
        ck_assert_uint_eq(rows_between(&w, before, INT64_MAX),
                          (size_t)(9 - (before - KIT_T0) / KIT_DAY) * WORLD_PER_DAY);
        ck_assert_uint_ge(days1, 2);
        ck_assert_uint_eq(days2, 3);
        promoted = registry_check(&w, h, n, first, (int)(days1 + days2));
        ck_assert_uint_eq(promoted, k1.promoted + k2.promoted);
        ck_assert_uint_ge(promoted, 1);
        /* every promotion, and the champion again when the trainer restarted */
        want = (int)promoted + (k1.promoted > 0);
        topics_read(&w, read, 2, want + 2, &g);
        ck_assert_int_eq(count_of(&g, "dlq"), 2);
        got = announcements_of(&g, ann);
        ck_assert_int_eq(got, want);
        announcements_check(&w, ann, got);
        got_release(&g);
        for (int i = 0; i < got; i++)
                fraud__model_announcement__free_unpacked(ann[i], NULL);
        fraud_settings_release(&s);
        world_stop(&w);
}
END_TEST

TESTING_MAIN("trainer", test_trainer_trains_each_day_registers_announces_and_resumes)
