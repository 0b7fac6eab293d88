/* test_labelstore.c: tests of trainer/labelstore.c against RocksDB in a
 * temporary directory: label versions merge into their row (a duplicate
 * is not stored twice, also within one uncommitted batch), rows, marks and
 * offsets survive a reopen while uncommitted ones do not, the selection
 * from the store equals the pure selection over the same history at every
 * cutoff, eviction drops old rows only, and another store is refused. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store.h"
#include "tests/testing.h"
#include "tests/trainer/kit.h"
#include "trainer/labelstore.h"

static char root[PATH_MAX];
static char err[1024];

static struct labelstore *store_open(void) {
        struct labelstore *s;

        ck_assert_msg(labelstore_open(root, false, &s, err, sizeof(err)) == 0, "%s", err);
        return s;
}

static void root_make(void) {
        snprintf(root, sizeof(root), "/tmp/fraud-labelstore-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static struct dataset_row *label(const char *id, int64_t ev, int64_t known, uint8_t value,
                                 uint8_t status) {
        static struct dataset_row r;

        memset(&r, 0, sizeof(r));
        snprintf(r.tx_id, sizeof(r.tx_id), "%s", id);
        r.event_time_us = ev;
        r.card = 5;
        r.schema_hash = 0x77;
        r.n_values = 2;
        r.values[0] = 1.5;
        r.values[1] = -2;
        r.n_versions = 1;
        r.versions[0] = (struct dataset_version){known, value, status};
        return &r;
}

/* Selects the window [T0, T0 + 30 d) at cutoff into t. */
static void select_all(struct labelstore *s, int64_t cutoff, struct dataset_table *t) {
        struct dataset_window w;

        dataset_window_at(KIT_T0 + 30 * KIT_DAY, 30, 0, 0x77, 2, &w);
        w.cutoff_us = cutoff;
        dataset_table_init(t, 2, 1000);
        ck_assert_int_eq(labelstore_select(s, &w, t), 0);
}

START_TEST(test_labelstore_versions_merge_and_duplicates_are_not_stored) {
        const int64_t ev = KIT_T0 + KIT_DAY;
        struct schedule_marks m;
        struct dataset_table t;
        struct labelstore *s;
        size_t n;

        root_make();
        s = store_open();
        schedule_marks_init(&m);
        ck_assert_int_eq(labelstore_add(s, label("a", ev, ev + 7 * KIT_DAY, DATASET_LEGIT,
                                                 DATASET_PROVISIONAL)),
                         0);
        /* the same row again within the uncommitted batch */
        ck_assert_int_eq(labelstore_add(s, label("a", ev, ev + 8 * KIT_DAY, DATASET_LEGIT,
                                                 DATASET_PROVISIONAL)),
                         1);
        ck_assert_int_eq(labelstore_add(s, label("a", ev, ev + 20 * KIT_DAY, DATASET_FRAUD,
                                                 DATASET_CORRECTED)),
                         0);
        ck_assert_int_eq(labelstore_add(s, label("b", ev + 1, ev + 7 * KIT_DAY, DATASET_LEGIT,
                                                 DATASET_PROVISIONAL)),
                         0);
        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        ck_assert_int_eq(labelstore_add(s, label("a", ev, ev + 21 * KIT_DAY, DATASET_FRAUD,
                                                 DATASET_CORRECTED)),
                         1); /* across a commit */
        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        ck_assert_int_eq(labelstore_count(s, &n), 0);
        ck_assert_uint_eq(n, 2);
        select_all(s, ev + 10 * KIT_DAY, &t); /* before the correction: legitimate */
        ck_assert_uint_eq(t.n_rows, 2);
        ck_assert_int_eq(t.label[0], 0);
        dataset_table_release(&t);
        select_all(s, ev + 20 * KIT_DAY, &t); /* after it: fraud */
        ck_assert_int_eq(t.label[0], 1);
        ck_assert_int_eq(t.label[1], 0);
        ck_assert_double_eq(t.x[1], -2);
        dataset_table_release(&t);
        labelstore_close(s);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_labelstore_commit_survives_reopen_and_pending_does_not) {
        const struct fraud_kafka_offset off[] = {{"labels", 0, 42}, {"labels", 3, 7}};
        struct schedule_marks m, back;
        struct labelstore *s;
        int64_t o;
        size_t n;

        root_make();
        s = store_open();
        ck_assert_int_eq(labelstore_marks(s, &back), 0);
        ck_assert_int_eq(back.watermark_us, SCHEDULE_NONE);
        ck_assert_int_eq(labelstore_offset(s, "labels", 0, &o), -ENOENT);
        m = (struct schedule_marks){KIT_T0, KIT_T0 + 5, KIT_T0 + KIT_DAY};
        labelstore_add(s, label("a", KIT_T0, KIT_T0, DATASET_LEGIT, DATASET_PROVISIONAL));
        ck_assert_int_eq(labelstore_commit(s, &m, off, 2), 0);
        labelstore_add(s, label("b", KIT_T0, KIT_T0, DATASET_LEGIT, DATASET_PROVISIONAL));
        labelstore_close(s); /* b never committed */
        s = store_open();
        ck_assert_int_eq(labelstore_marks(s, &back), 0);
        ck_assert_int_eq(back.first_known_us, KIT_T0);
        ck_assert_int_eq(back.watermark_us, KIT_T0 + 5);
        ck_assert_int_eq(back.last_cutoff_us, KIT_T0 + KIT_DAY);
        ck_assert_int_eq(labelstore_offset(s, "labels", 3, &o), 0);
        ck_assert_int_eq(o, 7);
        ck_assert_int_eq(labelstore_count(s, &n), 0);
        ck_assert_uint_eq(n, 1);
        labelstore_close(s);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_labelstore_selection_equals_pure_selection_at_every_cutoff) {
        static struct kit_label h[KIT_LABELS_MAX];
        static struct dataset_row rows[10 * 80];
        struct dataset_row one;
        struct schedule_marks m;
        struct labelstore *s;
        size_t n = kit_history(2, KIT_T0, 10, 80, 2, 0, h, KIT_LABELS_MAX);

        root_make();
        s = store_open();
        schedule_marks_init(&m);
        for (size_t i = 0; i < n; i++) {
                kit_row(2, &h[i], 0x99, &one);
                ck_assert_int_eq(labelstore_add(s, &one), 0);
                if (rows[h[i].payment].n_versions == 0)
                        rows[h[i].payment] = one;
                else
                        dataset_row_version_add(&rows[h[i].payment], &one.versions[0]);
                if (i % 97 == 0)
                        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        }
        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        for (int d = 3; d <= 12; d++) {
                struct dataset_window w;
                struct dataset_table a, b;

                dataset_window_at(KIT_T0 + d * KIT_DAY, 5, 1, 0x99, 41, &w);
                dataset_table_init(&a, 41, 100000);
                dataset_table_init(&b, 41, 100000);
                ck_assert_int_eq(labelstore_select(s, &w, &a), 0);
                for (size_t p = 0; p < 10 * 80; p++)
                        dataset_table_offer(&b, &w, &rows[p]); /* payments in time order */
                ck_assert_uint_gt(a.n_rows, 0);
                ck_assert_uint_eq(a.n_rows, b.n_rows);
                ck_assert_uint_eq(a.skipped_unlabelled, b.skipped_unlabelled);
                ck_assert_uint_eq(a.skipped_unknown, b.skipped_unknown);
                ck_assert_int_eq(memcmp(a.label, b.label, a.n_rows), 0);
                ck_assert_int_eq(memcmp(a.row_id, b.row_id, a.n_rows * 8), 0);
                ck_assert_int_eq(memcmp(a.x, b.x, a.n_rows * 41 * sizeof(double)), 0);
                dataset_table_release(&a);
                dataset_table_release(&b);
        }
        labelstore_close(s);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_labelstore_evict_drops_older_rows_only) {
        struct schedule_marks m;
        struct labelstore *s;
        size_t n;

        root_make();
        s = store_open();
        schedule_marks_init(&m);
        labelstore_add(s, label("old", KIT_T0 - 1, KIT_T0, DATASET_LEGIT, DATASET_PROVISIONAL));
        labelstore_add(s, label("edge", KIT_T0, KIT_T0, DATASET_LEGIT, DATASET_PROVISIONAL));
        labelstore_add(s, label("new", KIT_T0 + 9, KIT_T0 + 9, DATASET_FRAUD, DATASET_CONFIRMED));
        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        ck_assert_int_eq(labelstore_evict(s, KIT_T0), 0);
        ck_assert_int_eq(labelstore_count(s, &n), 0);
        ck_assert_uint_eq(n, 3); /* staged, not committed yet */
        ck_assert_int_eq(labelstore_commit(s, &m, NULL, 0), 0);
        ck_assert_int_eq(labelstore_count(s, &n), 0);
        ck_assert_uint_eq(n, 2);
        labelstore_close(s);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_labelstore_refuses_another_stores_directory) {
        struct fraud_store *other;
        struct labelstore *s;

        root_make();
        ck_assert_int_eq(fraud_store_open(&other, root, NULL, err, sizeof(err)), 0);
        ck_assert_int_eq(fraud_store_meta_put(other, "format", "velocity-window-1", 17), 0);
        fraud_store_close(other);
        ck_assert_int_eq(labelstore_open(root, false, &s, err, sizeof(err)), -EPROTO);
        ck_assert_ptr_nonnull(strstr(err, "not a trainer label store"));
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

TESTING_MAIN("labelstore", test_labelstore_versions_merge_and_duplicates_are_not_stored,
             test_labelstore_commit_survives_reopen_and_pending_does_not,
             test_labelstore_selection_equals_pure_selection_at_every_cutoff,
             test_labelstore_evict_drops_older_rows_only,
             test_labelstore_refuses_another_stores_directory)
