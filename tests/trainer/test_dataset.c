/* test_dataset.c: tests of trainer/dataset.c -- label versions, the label
 * at a cutoff, the store encoding, the training-set window -- and the
 * leakage test: for training sets at several cutoffs over a history with
 * late corrections, cut by trainer/round.c as the daemon cuts them, no
 * training row carries a label known after the cutoff, a row corrected
 * after the cutoff trains with its provisional label, and no holdout row
 * is in the training part. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/settings.h"
#include "tests/testing.h"
#include "tests/trainer/kit.h"
#include "trainer/dataset.h"
#include "trainer/round.h"

static const int64_t H = FRAUD_USEC_PER_HOUR;

static struct dataset_row *row_new(const char *id, int64_t event_us, size_t n_values) {
        struct dataset_row *r = calloc(1, sizeof(*r));

        ck_assert_ptr_nonnull(r);
        snprintf(r->tx_id, sizeof(r->tx_id), "%s", id);
        r->event_time_us = event_us;
        r->card = 77;
        r->schema_hash = 0xabc;
        r->n_values = n_values;
        for (size_t i = 0; i < n_values; i++)
                r->values[i] = (double)i * 0.5 - 1;
        return r;
}

static int add(struct dataset_row *r, int64_t known, uint8_t value, uint8_t status) {
        const struct dataset_version v = {known, value, status};
        return dataset_row_version_add(r, &v);
}

START_TEST(test_dataset_version_equal_in_status_and_value_is_a_duplicate) {
        struct dataset_row *r = row_new("t1", KIT_T0, 3);

        ck_assert_int_eq(add(r, KIT_T0 + 7 * KIT_DAY, DATASET_LEGIT, DATASET_PROVISIONAL), 0);
        ck_assert_int_eq(add(r, KIT_T0 + 9 * KIT_DAY, DATASET_LEGIT, DATASET_PROVISIONAL), 1);
        ck_assert_uint_eq(r->n_versions, 1);
        ck_assert_int_eq(r->versions[0].known_at_us, KIT_T0 + 7 * KIT_DAY);
        ck_assert_int_eq(add(r, KIT_T0 + 20 * KIT_DAY, DATASET_FRAUD, DATASET_CORRECTED), 0);
        ck_assert_int_eq(add(r, KIT_T0 + 20 * KIT_DAY, DATASET_LEGIT, DATASET_CORRECTED), 0);
        ck_assert_int_eq(add(r, KIT_T0 + 20 * KIT_DAY, DATASET_FRAUD, DATASET_CORRECTED), 1);
        ck_assert_uint_eq(r->n_versions, 3);
        for (int i = 0; r->n_versions < FRAUD_TRAINER_LABEL_VERSIONS_MAX; i++) {
                r->versions[r->n_versions++] = (struct dataset_version){i, 1, 1};
        }
        ck_assert_int_eq(add(r, KIT_T0, DATASET_UNKNOWN, DATASET_CONFIRMED), -E2BIG);
        free(r);
}
END_TEST

START_TEST(test_dataset_label_at_cutoff_is_latest_version_known_by_then) {
        struct dataset_row *r = row_new("t1", KIT_T0, 3);
        const int64_t prov = KIT_T0 + 7 * KIT_DAY, corr = KIT_T0 + 30 * KIT_DAY;

        ck_assert_int_eq(dataset_row_label_at(r, corr), -1); /* no version at all */
        add(r, prov, DATASET_LEGIT, DATASET_PROVISIONAL);
        add(r, corr, DATASET_FRAUD, DATASET_CORRECTED);
        ck_assert_int_eq(dataset_row_label_at(r, prov - 1), -1);
        ck_assert_int_eq(dataset_row_label_at(r, prov), 0); /* known_at == cutoff counts */
        ck_assert_int_eq(dataset_row_label_at(r, corr - 1), 0);
        ck_assert_int_eq(dataset_row_label_at(r, corr), 1);
        ck_assert_int_eq(dataset_row_label_at(r, INT64_MAX), 1);
        /* A tie in known_at goes to the later arrival. */
        add(r, corr, DATASET_LEGIT, DATASET_CONFIRMED);
        ck_assert_int_eq(dataset_row_label_at(r, corr), 0);
        free(r);
        r = row_new("t2", KIT_T0, 3);
        add(r, KIT_T0, DATASET_UNKNOWN, DATASET_CONFIRMED);
        ck_assert_ptr_nonnull(dataset_row_version_at(r, KIT_T0));
        ck_assert_int_eq(dataset_row_label_at(r, KIT_T0 + 100 * KIT_DAY), -1); /* blocked */
        free(r);
}
END_TEST

START_TEST(test_dataset_row_encoding_round_trips_and_refuses_damage) {
        struct dataset_row *r = row_new("tx-\xc3\xa9-1", -5 * H, 41), *back = calloc(1, sizeof(*r));
        uint8_t key[DATASET_KEY_MAX], value[DATASET_VALUE_MAX];
        size_t kn;
        int vn;

        add(r, 3 * H, DATASET_LEGIT, DATASET_PROVISIONAL);
        add(r, 90 * H, DATASET_FRAUD, DATASET_CORRECTED);
        kn = dataset_key(r, key);
        vn = dataset_row_encode(r, value, sizeof(value));
        ck_assert_int_gt(vn, 0);
        ck_assert_int_eq(dataset_row_decode(back, key, kn, value, (size_t)vn), 0);
        ck_assert_str_eq(back->tx_id, r->tx_id);
        ck_assert_int_eq(back->event_time_us, r->event_time_us);
        ck_assert_uint_eq(back->card, r->card);
        ck_assert_uint_eq(back->schema_hash, r->schema_hash);
        ck_assert_uint_eq(back->n_values, 41);
        ck_assert_int_eq(memcmp(back->values, r->values, 41 * sizeof(double)), 0);
        ck_assert_uint_eq(back->n_versions, 2);
        ck_assert_int_eq(back->versions[1].known_at_us, 90 * H);
        ck_assert_int_eq(back->versions[1].status, DATASET_CORRECTED);
        ck_assert_int_eq(dataset_row_encode(r, value, (size_t)vn - 1), -ENOBUFS);
        ck_assert_int_eq(dataset_row_decode(back, key, kn, value, (size_t)vn - 1), -EBADMSG);
        ck_assert_int_eq(dataset_row_decode(back, key, 9, value, (size_t)vn), -EBADMSG);
        key[8] ^= 1; /* the key's time no longer the value's */
        ck_assert_int_eq(dataset_row_decode(back, key, kn, value, (size_t)vn), -EBADMSG);
        key[8] ^= 1;
        value[1 + 8 + 8 + 8 + 2 + 1 + 8] = 9; /* a version's value out of range */
        ck_assert_int_eq(dataset_row_decode(back, key, kn, value, (size_t)vn), -EBADMSG);
        value[0] = 2; /* another format */
        ck_assert_int_eq(dataset_row_decode(back, key, kn, value, (size_t)vn), -EBADMSG);
        free(r);
        free(back);
}
END_TEST

START_TEST(test_dataset_keys_sort_by_event_time_then_id) {
        const int64_t t[] = {INT64_MIN, -KIT_DAY, -1, 0, 1, KIT_T0, INT64_MAX};
        uint8_t a[DATASET_KEY_MAX], b[DATASET_KEY_MAX];

        for (size_t i = 0; i + 1 < sizeof(t) / sizeof(t[0]); i++) {
                dataset_key_at(t[i], a);
                dataset_key_at(t[i + 1], b);
                ck_assert_msg(memcmp(a, b, 9) < 0, "%zu", i);
        }
        struct dataset_row *x = row_new("a", KIT_T0, 1), *y = row_new("b", KIT_T0, 1);
        size_t nx = dataset_key(x, a), ny = dataset_key(y, b);
        ck_assert_uint_eq(nx, ny);
        ck_assert_int_lt(memcmp(a, b, nx), 0);
        dataset_key_at(KIT_T0 + 1, b);
        ck_assert_int_lt(memcmp(a, b, 9), 0); /* every id at t sorts before t + 1 */
        free(x);
        free(y);
}
END_TEST

START_TEST(test_dataset_offer_takes_window_schema_and_label_into_account) {
        const int64_t D = KIT_T0 + 30 * KIT_DAY;
        struct dataset_window w;
        struct dataset_table t;
        struct dataset_row *r = row_new("x", 0, 3);

        dataset_window_at(D, 10, 2, 0xabc, 3, &w);
        ck_assert_int_eq(w.start_us, D - 10 * KIT_DAY);
        ck_assert_int_eq(w.end_us, D - 2 * KIT_DAY);
        dataset_table_init(&t, 3, 2);
        add(r, D - KIT_DAY, DATASET_FRAUD, DATASET_CONFIRMED);
        r->event_time_us = w.start_us - 1; /* before the window */
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 0);
        r->event_time_us = w.end_us; /* the end is excluded */
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 0);
        r->event_time_us = w.start_us; /* the start is included */
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 1);
        ck_assert_int_eq(t.label[0], 1);
        ck_assert_double_eq(t.x[1], -0.5);
        ck_assert_uint_eq(t.row_id[0], fraud_hash_fnv1a_str("x"));
        r->schema_hash = 0xabd;
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 0);
        ck_assert_uint_eq(t.skipped_schema, 1);
        r->schema_hash = 0xabc;
        r->versions[0].known_at_us = D + 1; /* known after the cutoff */
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 0);
        ck_assert_uint_eq(t.skipped_unlabelled, 1);
        r->versions[0] = (struct dataset_version){D, DATASET_UNKNOWN, DATASET_CONFIRMED};
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 0);
        ck_assert_uint_eq(t.skipped_unknown, 1);
        r->versions[0] = (struct dataset_version){D, DATASET_LEGIT, DATASET_PROVISIONAL};
        r->event_time_us = w.end_us - 1;
        snprintf(r->tx_id, sizeof(r->tx_id), "newest");
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), 1);
        ck_assert_str_eq(t.newest_tx, "newest");
        ck_assert_int_eq(dataset_table_offer(&t, &w, r), -E2BIG); /* rows_max 2 */
        ck_assert_uint_eq(t.n_rows, 2);
        dataset_table_release(&t);
        free(r);
}
END_TEST

/* ---- leakage ---- */

#define LEAK_DAYS     16
#define LEAK_PER_DAY  120
#define LEAK_WINDOW   9
#define LEAK_MATURITY 2
#define LEAK_HOLDOUT  2

/* The stored rows of a history: every version merged in arrival order. */
static struct dataset_row *rows_of(const struct kit_label *h, size_t n, size_t payments,
                                   uint64_t schema) {
        struct dataset_row *rows = calloc(payments, sizeof(*rows));
        struct dataset_row one;

        for (size_t i = 0; i < n; i++) {
                struct dataset_row *r = &rows[h[i].payment];
                kit_row(9, &h[i], schema, &one);
                if (r->n_versions == 0)
                        *r = one;
                else
                        ck_assert_int_eq(dataset_row_version_add(r, &one.versions[0]), 0);
        }
        return rows;
}

/* Checks one cutoff; returns how many training rows were corrected to
 * fraud after it (and so must train as legitimate). */
static size_t leak_check(const struct kit_label *h, size_t n, const struct dataset_row *rows,
                         const uint64_t *ids, int64_t D, const struct fraud_settings *s) {
        struct dataset_window w;
        struct dataset_table t;
        struct round_rows rr = {0};
        struct round rd;
        size_t corrected_later = 0, expected = 0;
        int64_t last_day;

        dataset_window_at(D, LEAK_WINDOW, LEAK_MATURITY, 0xfeed, 41, &w);
        dataset_table_init(&t, 41, 100000);
        for (size_t p = 0; p < LEAK_DAYS * LEAK_PER_DAY; p++) {
                ck_assert_int_ge(dataset_table_offer(&t, &w, &rows[p]), 0);
                expected += rows[p].event_time_us >= w.start_us &&
                            rows[p].event_time_us < w.end_us && kit_label_at(h, n, p, D) >= 0;
        }
        ck_assert_uint_eq(t.n_rows, expected); /* every usable row, no other */
        rr = (struct round_rows){.n_rows = t.n_rows,
                                 .n_features = 41,
                                 .x = t.x,
                                 .label = t.label,
                                 .time_us = t.time_us,
                                 .card = t.card};
        round_init(&rd, s, &rr);
        last_day = fraud_time_day_index(w.end_us) - 1;
        ck_assert_int_eq(round_split(&rd, last_day, LEAK_HOLDOUT), 0);
        for (size_t i = 0; i < rd.train.n; i++) {
                uint64_t id = t.row_id[rd.train.row[i]];
                size_t p = 0;

                while (ids[p] != id) /* the payment of the training row */
                        p++;
                ck_assert_int_eq(rd.train.label[i], kit_label_at(h, n, p, D));
                ck_assert_int_le(dataset_row_version_at(&rows[p], D)->known_at_us, D);
                ck_assert_int_le(fraud_time_day_index(rd.train.time_us[i]),
                                 last_day - LEAK_HOLDOUT);
                for (size_t k = 0; k < rows[p].n_versions; k++)
                        if (rows[p].versions[k].status == DATASET_CORRECTED &&
                            rows[p].versions[k].known_at_us > D) {
                                ck_assert_int_eq(rd.train.label[i], 0);
                                corrected_later++;
                        }
                for (size_t j = 0; j < rd.holdout.n; j++)
                        ck_assert_uint_ne(t.row_id[rd.holdout.row[j]], id);
        }
        for (size_t j = 0; j < rd.holdout.n; j++)
                ck_assert_int_gt(fraud_time_day_index(rd.holdout.time_us[j]),
                                 last_day - LEAK_HOLDOUT);
        ck_assert_uint_eq(rd.train.n + rd.holdout.n, t.n_rows);
        round_release(&rd);
        dataset_table_release(&t);
        return corrected_later;
}

START_TEST(test_dataset_training_sets_never_hold_labels_known_after_cutoff) {
        static struct kit_label h[KIT_LABELS_MAX];
        struct fraud_settings s;
        size_t n = kit_history(9, KIT_T0, LEAK_DAYS, LEAK_PER_DAY, LEAK_MATURITY, 0, h,
                               KIT_LABELS_MAX);
        struct dataset_row *rows = rows_of(h, n, LEAK_DAYS * LEAK_PER_DAY, 0xfeed);
        uint64_t ids[LEAK_DAYS * LEAK_PER_DAY];
        size_t corrected_later = 0;

        for (size_t p = 0; p < LEAK_DAYS * LEAK_PER_DAY; p++)
                ids[p] = fraud_hash_fnv1a_str(rows[p].tx_id);
        ck_assert_int_eq(fraud_settings_init(&s), 0);
        for (int d = LEAK_WINDOW - 2; d <= LEAK_DAYS + 1; d++) /* cutoffs: every midnight */
                corrected_later += leak_check(h, n, rows, ids, KIT_T0 + d * KIT_DAY, &s);
        ck_assert_uint_gt(corrected_later, 10); /* the case the test is about did occur */
        fraud_settings_release(&s);
        free(rows);
}
END_TEST

TESTING_MAIN("dataset", test_dataset_version_equal_in_status_and_value_is_a_duplicate,
             test_dataset_label_at_cutoff_is_latest_version_known_by_then,
             test_dataset_row_encoding_round_trips_and_refuses_damage,
             test_dataset_keys_sort_by_event_time_then_id,
             test_dataset_offer_takes_window_schema_and_label_into_account,
             test_dataset_training_sets_never_hold_labels_known_after_cutoff)
