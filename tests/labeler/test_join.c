/* Tests for labeler/join.c over the in-memory store (labeler/memstore.c):
 * one fact per test for each rule of join.h (maturity, horizon,
 * chargebacks before and after maturity, blocked payments, reviews,
 * chargebacks before their transaction, unknown transactions, duplicates,
 * lateness, rejections), then the simulator's stream (tools/sim.h) with
 * injected duplicates, repeated chargebacks and chargebacks for
 * transactions that never come: every transaction's labels must equal the
 * brute force of tests/labeler/kit.h, label for label, and the counts
 * must reconcile, before and after the last horizon passes. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/join.h"
#include "labeler/memstore.h"
#include "tests/labeler/kit.h"
#include "tests/testing.h"

#define MATURITY_US (7 * KIT_DAY_US)
#define HORIZON_US  (120 * KIT_DAY_US)
#define T0          KIT_T0_US

struct fx {
        struct memstore *m;
        struct join *j;
        struct kit_out out;
        int64_t offset;
        int64_t lateness_us;
};

static void fx_open(struct fx *f) {
        struct join_config c = {MATURITY_US, HORIZON_US, f->lateness_us,
                                FRAUD_LABELER_FEATURES_BYTES_MAX};
        struct join_store st;
        struct join_sink sink = kit_sink(&f->out);

        memstore_join_store(f->m, &st);
        ck_assert_int_eq(join_new(&c, &st, &sink, &f->j), 0);
}

static void fx_init(struct fx *f, int64_t lateness_us) {
        memset(f, 0, sizeof(*f));
        f->lateness_us = lateness_us;
        ck_assert_int_eq(memstore_new(1u << 20, &f->m), 0);
        fx_open(f);
}

static void fx_release(struct fx *f) {
        join_free(f->j);
        memstore_free(f->m);
        kit_out_release(&f->out);
}

static int fx_input(struct fx *f, enum join_kind kind, const uint8_t *buf, size_t size) {
        struct join_input in = {kind, buf, size, 0, f->offset++, NULL};
        return join_input(f->j, &in);
}

static void fx_tx(struct fx *f, const char *id, int64_t t, int decision) {
        uint8_t buf[KIT_MSG_MAX];

        ck_assert_int_eq(
                fx_input(f, JOIN_FEATURES, buf, kit_features_pack(buf, id, "card-1", t, 500)), 0);
        if (decision != KIT_NO_SCORE)
                ck_assert_int_eq(fx_input(f, JOIN_SCORE, buf,
                                          kit_score_pack(buf, id, "card-1", t, decision)),
                                 0);
}

static void fx_cb(struct fx *f, const char *id, const char *cb_id, int64_t e, int64_t tx_t,
                  int kind) {
        uint8_t buf[KIT_MSG_MAX];

        ck_assert_int_eq(fx_input(f, JOIN_CHARGEBACK, buf,
                                  kit_chargeback_pack(buf, id, cb_id, e, tx_t, kind)),
                         0);
}

/* Moves the latest event time to t and settles what is due. */
static void fx_clock(struct fx *f, int64_t t) {
        ck_assert_int_eq(join_time_observe(f->j, t), 0);
        kit_drain(f->j);
}

/* The watermark reaches exactly t. */
static void fx_watermark(struct fx *f, int64_t t) {
        fx_clock(f, t + f->lateness_us);
        ck_assert_int_eq(join_watermark(f->j), t);
}

static struct join_counters fx_counters(const struct fx *f) {
        struct join_counters k;
        join_counters(f->j, &k);
        return k;
}

static void expect_label(const struct fx *f, size_t i, const char *id, int value, int status,
                         int64_t known_us) {
        const struct kit_label *l;

        ck_assert_uint_gt(f->out.n_labels, i);
        l = &f->out.labels[i];
        ck_assert_str_eq(l->id, id);
        ck_assert_int_eq(l->value, value);
        ck_assert_int_eq(l->status, status);
        ck_assert_int_eq(l->known_us, known_us);
}

/* ---- maturity and horizon ---- */

START_TEST(test_join_maturity_gives_a_provisional_legit_label_on_the_watermark) {
        struct fx f;
        uint8_t buf[KIT_MSG_MAX];

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_watermark(&f, T0 + MATURITY_US - 1);
        ck_assert_uint_eq(f.out.n_labels, 0);
        fx_watermark(&f, T0 + MATURITY_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        ck_assert_int_eq(f.out.labels[0].decision, KIT_ALLOW);
        ck_assert_int_eq(f.out.labels[0].event_us, T0);
        ck_assert_uint_eq(f.out.labels[0].features_hash,
                          fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, buf,
                                           kit_features_pack(buf, "t1", "card-1", T0, 500)));
        fx_release(&f);
}
END_TEST

START_TEST(test_join_horizon_confirms_legit_and_removes_the_state) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_REVIEW);
        fx_watermark(&f, T0 + HORIZON_US - 1);
        ck_assert_uint_eq(f.out.n_labels, 1);
        ck_assert_uint_eq(join_records(f.j), 1);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 1, "t1", KIT_LEGIT, KIT_CONFIRMED, T0 + HORIZON_US);
        ck_assert_uint_eq(join_records(f.j), 0);
        ck_assert_uint_eq(memstore_records(f.m), 0);
        ck_assert_uint_eq(fx_counters(&f).records_finished, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_before_maturity_confirms_fraud_without_provisional) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + 2 * KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0 + 2 * KIT_DAY_US);
        ck_assert_uint_eq(join_records(f.j), 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_after_maturity_corrects_the_provisional_label) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_watermark(&f, T0 + 20 * KIT_DAY_US);
        fx_cb(&f, "t1", "cb1", T0 + 30 * KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        expect_label(&f, 1, "t1", KIT_FRAUD, KIT_CORRECTED, T0 + 30 * KIT_DAY_US);
        ck_assert_uint_eq(fx_counters(&f).labels_corrected, 1);
        ck_assert_uint_eq(join_records(f.j), 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_at_the_maturity_instant_comes_first) {
        struct fx f;

        fx_init(&f, 0);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + MATURITY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + MATURITY_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0 + MATURITY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_dated_before_its_payment_is_known_at_the_payment) {
        struct fx f;

        fx_init(&f, 0);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 - KIT_HOUR_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0);
        fx_release(&f);
}
END_TEST

/* ---- blocked payments, reviews, missing scores ---- */

START_TEST(test_join_blocked_payment_is_unknown_never_legit) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_BLOCK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 0, "t1", KIT_UNKNOWN, KIT_PROVISIONAL, T0 + MATURITY_US);
        expect_label(&f, 1, "t1", KIT_UNKNOWN, KIT_CONFIRMED, T0 + HORIZON_US);
        ck_assert_int_eq(f.out.labels[1].decision, KIT_BLOCK);
        ck_assert_uint_eq(fx_counters(&f).labels_confirmed_unknown, 1);
        ck_assert_uint_eq(fx_counters(&f).labels_confirmed_legit, 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_on_blocked_payment_still_makes_it_fraud) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_BLOCK);
        fx_cb(&f, "t1", "cb1", T0 + 3 * KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0 + 3 * KIT_DAY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_review_legit_confirms_legit_at_its_time) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_REVIEW);
        fx_cb(&f, "t1", "rv1", T0 + 2 * KIT_DAY_US, T0, KIT_REVIEW_LEGIT);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_CONFIRMED, T0 + 2 * KIT_DAY_US);
        ck_assert_uint_eq(join_records(f.j), 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_review_legit_on_blocked_payment_confirms_legit) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_BLOCK);
        fx_watermark(&f, T0 + 10 * KIT_DAY_US);
        fx_cb(&f, "t1", "rv1", T0 + 11 * KIT_DAY_US, T0, KIT_REVIEW_LEGIT);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 0, "t1", KIT_UNKNOWN, KIT_PROVISIONAL, T0 + MATURITY_US);
        expect_label(&f, 1, "t1", KIT_LEGIT, KIT_CONFIRMED, T0 + 11 * KIT_DAY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_review_fraud_after_maturity_is_a_correction) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_REVIEW);
        fx_watermark(&f, T0 + 9 * KIT_DAY_US);
        fx_cb(&f, "t1", "rv1", T0 + 10 * KIT_DAY_US, T0, KIT_REVIEW_FRAUD);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 1, "t1", KIT_FRAUD, KIT_CORRECTED, T0 + 10 * KIT_DAY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_after_review_legit_corrects_it) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_REVIEW);
        fx_cb(&f, "t1", "rv1", T0 + KIT_DAY_US, T0, KIT_REVIEW_LEGIT);
        fx_cb(&f, "t1", "cb1", T0 + 40 * KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_CONFIRMED, T0 + KIT_DAY_US);
        expect_label(&f, 1, "t1", KIT_FRAUD, KIT_CORRECTED, T0 + 40 * KIT_DAY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_review_legit_after_fraud_is_ignored) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_REVIEW);
        fx_cb(&f, "t1", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_cb(&f, "t1", "rv1", T0 + 2 * KIT_DAY_US, T0, KIT_REVIEW_LEGIT);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        ck_assert_uint_eq(fx_counters(&f).reviews_ignored, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_label_without_a_score_is_undecided_and_counted) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_NO_SCORE);
        fx_watermark(&f, T0 + MATURITY_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        ck_assert_int_eq(f.out.labels[0].decision, FRAUD__DECISION__DECISION_UNSPECIFIED);
        ck_assert_uint_eq(fx_counters(&f).labels_undecided, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_score_after_the_first_label_decides_the_later_ones) {
        struct fx f;
        uint8_t buf[KIT_MSG_MAX];

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_NO_SCORE);
        fx_watermark(&f, T0 + MATURITY_US);
        ck_assert_int_eq(
                fx_input(&f, JOIN_SCORE, buf, kit_score_pack(buf, "t1", "card-1", T0, KIT_BLOCK)),
                0);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 1, "t1", KIT_UNKNOWN, KIT_CONFIRMED, T0 + HORIZON_US);
        ck_assert_int_eq(f.out.labels[1].decision, KIT_BLOCK);
        ck_assert_uint_eq(fx_counters(&f).scores_after_label, 1);
        fx_release(&f);
}
END_TEST

/* ---- the mess ---- */

START_TEST(test_join_chargeback_before_its_transaction_is_held_until_it_arrives) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_cb(&f, "t1", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + 2 * KIT_DAY_US);
        ck_assert_uint_eq(f.out.n_labels, 0);
        ck_assert_uint_eq(f.out.n_rejects, 0);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_held, 1);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0 + KIT_DAY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_for_a_transaction_never_seen_goes_to_dlq_at_its_horizon) {
        struct fx f;
        uint8_t buf[KIT_MSG_MAX];
        size_t size = kit_chargeback_pack(buf, "ghost", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);

        fx_init(&f, KIT_HOUR_US);
        ck_assert_int_eq(fx_input(&f, JOIN_CHARGEBACK, buf, size), 0);
        fx_watermark(&f, T0 + HORIZON_US - 1);
        ck_assert_uint_eq(f.out.n_rejects, 0);
        ck_assert_uint_eq(join_records(f.j), 1);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_rejects, 1);
        ck_assert_int_eq(f.out.rejects[0].reason, JOIN_REJECT_UNKNOWN_TRANSACTION);
        ck_assert_int_eq(f.out.rejects[0].kind, JOIN_CHARGEBACK);
        ck_assert_str_eq(f.out.rejects[0].id, "ghost");
        ck_assert_uint_eq(f.out.rejects[0].original_size, size);
        ck_assert_uint_eq(fx_counters(&f).rejected[JOIN_REJECT_UNKNOWN_TRANSACTION], 1);
        ck_assert_uint_eq(join_records(f.j), 0);
        ck_assert_uint_eq(f.out.n_labels, 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_chargeback_older_than_anything_kept_goes_to_dlq_at_once) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_clock(&f, T0 + 200 * KIT_DAY_US);
        fx_cb(&f, "old", "cb1", T0 + 200 * KIT_DAY_US, T0, KIT_CHARGEBACK);
        ck_assert_uint_eq(f.out.n_rejects, 1);
        ck_assert_int_eq(f.out.rejects[0].reason, JOIN_REJECT_UNKNOWN_TRANSACTION);
        ck_assert_uint_eq(join_records(f.j), 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_transaction_older_than_the_horizon_goes_to_dlq) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_clock(&f, T0 + 200 * KIT_DAY_US);
        fx_tx(&f, "old", T0, KIT_NO_SCORE);
        ck_assert_uint_eq(f.out.n_rejects, 1);
        ck_assert_int_eq(f.out.rejects[0].reason, JOIN_REJECT_TOO_OLD);
        ck_assert_uint_eq(join_records(f.j), 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_statement_made_after_the_horizon_goes_to_dlq) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + HORIZON_US + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US + 2 * KIT_DAY_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 1, "t1", KIT_LEGIT, KIT_CONFIRMED, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_rejects, 1);
        ck_assert_int_eq(f.out.rejects[0].reason, JOIN_REJECT_AFTER_HORIZON);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_duplicate_chargeback_id_is_counted_and_ignored) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + 2 * KIT_DAY_US);
        fx_cb(&f, "t1", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_cb(&f, "t1", "cb1", T0 + 3 * KIT_DAY_US, T0, KIT_REVIEW_LEGIT);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_duplicate, 2);
        ck_assert_uint_eq(fx_counters(&f).chargebacks, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_second_fraud_chargeback_is_counted_and_ignored) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        fx_cb(&f, "t1", "cb2", T0 + 20 * KIT_DAY_US, T0, KIT_REVIEW_FRAUD);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_repeated, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_duplicate_features_and_scores_keep_the_first) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_tx(&f, "t1", T0, KIT_BLOCK);
        fx_watermark(&f, T0 + MATURITY_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        ck_assert_uint_eq(fx_counters(&f).features_duplicate, 1);
        ck_assert_uint_eq(fx_counters(&f).scores_duplicate, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_more_chargebacks_than_kept_go_to_dlq) {
        struct fx f;
        char id[16];

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        for (int i = 0; i <= FRAUD_LABELER_STATEMENTS_MAX; i++) {
                snprintf(id, sizeof(id), "cb%d", i);
                fx_cb(&f, "t1", id, T0 + KIT_DAY_US, T0, KIT_CHARGEBACK);
        }
        ck_assert_uint_eq(f.out.n_rejects, 1);
        ck_assert_int_eq(f.out.rejects[0].reason, JOIN_REJECT_TOO_MANY_CHARGEBACKS);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_eq(f.out.n_labels, 1);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_repeated, FRAUD_LABELER_STATEMENTS_MAX - 1);
        fx_release(&f);
}
END_TEST

/* ---- lateness ---- */

/* The chargeback (made before maturity) arrives after a later event has
 * pushed the latest event time past maturity, but by less than the
 * lateness: the labels are those of the in-order stream. */
START_TEST(test_join_input_late_within_lateness_gives_the_in_order_labels) {
        struct fx f;

        fx_init(&f, 2 * KIT_DAY_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_tx(&f, "t2", T0 + MATURITY_US + KIT_DAY_US, KIT_ALLOW);
        fx_cb(&f, "t1", "cb1", T0 + MATURITY_US - KIT_HOUR_US, T0, KIT_CHARGEBACK);
        fx_watermark(&f, T0 + HORIZON_US);
        ck_assert_uint_ge(f.out.n_labels, 1);
        expect_label(&f, 0, "t1", KIT_FRAUD, KIT_CONFIRMED, T0 + MATURITY_US - KIT_HOUR_US);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_late, 0);
        fx_release(&f);
}
END_TEST

/* The same stream with a lateness shorter than the delay: maturity was
 * decided before the chargeback arrived, which then corrects it. */
START_TEST(test_join_input_later_than_lateness_corrects_what_was_decided) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_tx(&f, "t2", T0 + MATURITY_US + KIT_DAY_US, KIT_ALLOW);
        kit_drain(f.j);
        fx_cb(&f, "t1", "cb1", T0 + MATURITY_US - KIT_HOUR_US, T0, KIT_CHARGEBACK);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 0, "t1", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        expect_label(&f, 1, "t1", KIT_FRAUD, KIT_CORRECTED, T0 + MATURITY_US - KIT_HOUR_US);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_late, 1);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_watermark_is_the_latest_event_minus_lateness_and_never_moves_back) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        ck_assert_int_eq(join_watermark(f.j), INT64_MIN);
        fx_tx(&f, "t1", T0 + KIT_DAY_US, KIT_ALLOW);
        ck_assert_int_eq(join_watermark(f.j), T0 + KIT_DAY_US - KIT_HOUR_US);
        fx_tx(&f, "t2", T0, KIT_ALLOW);
        ck_assert_int_eq(join_watermark(f.j), T0 + KIT_DAY_US - KIT_HOUR_US);
        fx_release(&f);
}
END_TEST

/* ---- state ---- */

START_TEST(test_join_new_join_on_the_same_store_resumes_the_clock_and_records) {
        struct fx f;

        fx_init(&f, KIT_HOUR_US);
        fx_tx(&f, "t1", T0, KIT_ALLOW);
        fx_tx(&f, "t2", T0 + KIT_DAY_US, KIT_BLOCK);
        join_free(f.j);
        fx_open(&f);
        ck_assert_int_eq(join_watermark(f.j), T0 + KIT_DAY_US - KIT_HOUR_US);
        ck_assert_uint_eq(join_records(f.j), 2);
        fx_watermark(&f, T0 + KIT_DAY_US + MATURITY_US);
        ck_assert_uint_eq(f.out.n_labels, 2);
        expect_label(&f, 1, "t2", KIT_UNKNOWN, KIT_PROVISIONAL, T0 + KIT_DAY_US + MATURITY_US);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_corrupt_record_is_an_error_not_a_label) {
        struct fx f;
        struct join_store st;

        fx_init(&f, KIT_HOUR_US);
        memstore_join_store(f.m, &st);
        ck_assert_int_eq(st.record_put(st.ctx, "t1", 2, "\x01\x02", 2), 0);
        ck_assert_int_eq(join_time_observe(f.j, T0), 0);
        {
                uint8_t buf[KIT_MSG_MAX];
                ck_assert_int_eq(
                        fx_input(&f, JOIN_FEATURES, buf, kit_features_pack(buf, "t1", "c", T0, 1)),
                        -EBADMSG);
        }
        fx_release(&f);
}
END_TEST

START_TEST(test_join_advance_settles_at_most_what_it_is_asked) {
        struct fx f;
        char id[16];

        fx_init(&f, 0);
        for (int i = 0; i < 40; i++) {
                snprintf(id, sizeof(id), "t%02d", i);
                fx_tx(&f, id, T0 + i, KIT_ALLOW);
        }
        ck_assert_int_eq(join_time_observe(f.j, T0 + MATURITY_US + 100), 0);
        ck_assert_int_eq(join_advance(f.j, 10), 10);
        ck_assert_uint_eq(f.out.n_labels, 10);
        expect_label(&f, 9, "t09", KIT_LEGIT, KIT_PROVISIONAL, T0 + 9 + MATURITY_US);
        ck_assert_int_eq(join_advance(f.j, 100), 30);
        ck_assert_int_eq(join_advance(f.j, 100), 0);
        ck_assert_uint_eq(f.out.n_labels, 40);
        fx_release(&f);
}
END_TEST

/* ---- rejections ---- */

/* Feeds one bad input and checks the reason of the rejection it became. */
static void expect_rejected(struct fx *f, enum join_kind kind, const void *data, size_t size,
                            enum join_reject_reason want) {
        size_t before = f->out.n_rejects;
        struct join_input in = {kind, data, size, 3, f->offset++, NULL};

        ck_assert_int_eq(join_input(f->j, &in), 0);
        ck_assert_uint_eq(f->out.n_rejects, before + 1);
        ck_assert_msg(f->out.rejects[before].reason == want, "%s, not %s",
                      join_reject_code(f->out.rejects[before].reason), join_reject_code(want));
        ck_assert_int_eq(f->out.rejects[before].kind, kind);
        ck_assert_uint_eq(f->out.rejects[before].original_size, size);
}

START_TEST(test_join_bad_input_goes_to_dlq_with_its_reason) {
        struct fx f;
        uint8_t buf[KIT_MSG_MAX];
        Fraud__Score s = FRAUD__SCORE__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;

        fx_init(&f, KIT_HOUR_US);
        expect_rejected(&f, JOIN_CHARGEBACK, "\xff\xff\xff", 3, JOIN_REJECT_BAD_PROTOBUF);
        expect_rejected(&f, JOIN_FEATURES, "", 0, JOIN_REJECT_BAD_SCHEMA_VERSION);
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = (char *)"t1";
        expect_rejected(&f, JOIN_FEATURES, buf, fraud__feature_vector__pack(&fv, buf),
                        JOIN_REJECT_MISSING_TRANSACTION);
        s.schema_version = SCORE_SCHEMA_VERSION;
        s.transaction_id = (char *)"t1";
        s.event_time_us = T0;
        expect_rejected(&f, JOIN_SCORE, buf, fraud__score__pack(&s, buf), JOIN_REJECT_BAD_DECISION);
        s.decision = FRAUD__DECISION__DECISION_ALLOW;
        s.shadow = true;
        expect_rejected(&f, JOIN_SCORE, buf, fraud__score__pack(&s, buf), JOIN_REJECT_SHADOW_SCORE);
        expect_rejected(&f, JOIN_CHARGEBACK, buf, kit_chargeback_pack(buf, "t1", "cb", T0, T0, 0),
                        JOIN_REJECT_BAD_KIND);
        expect_rejected(&f, JOIN_CHARGEBACK, buf,
                        kit_chargeback_pack(buf, "t1", "", T0, T0, KIT_CHARGEBACK),
                        JOIN_REJECT_BAD_ID);
        expect_rejected(&f, JOIN_CHARGEBACK, buf,
                        kit_chargeback_pack(buf, "t1", "cb", -5, T0, KIT_CHARGEBACK),
                        JOIN_REJECT_BAD_TIME);
        expect_rejected(&f, JOIN_FEATURES, buf, kit_features_pack(buf, "t1", "c", 0, 1),
                        JOIN_REJECT_BAD_TIME);
        ck_assert_uint_eq(fx_counters(&f).rejected[JOIN_REJECT_BAD_PROTOBUF], 1);
        ck_assert_uint_eq(fx_counters(&f).rejected[JOIN_REJECT_BAD_TIME], 2);
        ck_assert_int_eq(join_watermark(f.j), INT64_MIN); /* rejected input moves no time */
        ck_assert_uint_eq(join_records(f.j), 0);
        ck_assert_uint_eq(f.out.n_labels, 0);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_feature_vector_too_large_for_a_label_goes_to_dlq) {
        struct fx f;
        struct join_config c = {MATURITY_US, HORIZON_US, 0, 16};
        struct join_store st;
        struct join_sink sink;
        uint8_t buf[KIT_MSG_MAX];

        fx_init(&f, 0);
        join_free(f.j);
        sink = kit_sink(&f.out);
        memstore_join_store(f.m, &st);
        ck_assert_int_eq(join_new(&c, &st, &sink, &f.j), 0);
        expect_rejected(&f, JOIN_FEATURES, buf, kit_features_pack(buf, "t1", "card-1", T0, 5),
                        JOIN_REJECT_TOO_LARGE);
        fx_release(&f);
}
END_TEST

START_TEST(test_join_label_pack_embeds_the_feature_vector_as_received) {
        uint8_t fvbuf[KIT_MSG_MAX], buf[KIT_MSG_MAX + FRAUD_LABELER_LABEL_OVERHEAD_BYTES];
        size_t fvn = kit_features_pack(fvbuf, "t1", "card-9", T0, 1234);
        struct join_label l = {"t1",          "card-9",   fvbuf, fvn,   KIT_FRAUD,
                               KIT_CORRECTED, KIT_REVIEW, T0,    T0 + 9};
        int n = join_label_pack(&l, buf, sizeof(buf));
        Fraud__Label *m;

        ck_assert_int_gt(n, (int)fvn);
        ck_assert_int_eq(join_label_pack(&l, buf, (size_t)n - 1), -ENOBUFS);
        m = fraud__label__unpack(NULL, (size_t)n, buf);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(m->schema_version, LABEL_SCHEMA_VERSION);
        ck_assert_str_eq(m->transaction_id, "t1");
        ck_assert_int_eq(m->value, KIT_FRAUD);
        ck_assert_int_eq(m->status, KIT_CORRECTED);
        ck_assert_int_eq(m->decision, KIT_REVIEW);
        ck_assert_int_eq(m->event_time_us, T0);
        ck_assert_int_eq(m->known_at_us, T0 + 9);
        ck_assert_ptr_nonnull(m->features);
        ck_assert_uint_eq(fraud__feature_vector__get_packed_size(m->features), fvn);
        ck_assert_str_eq(m->features->transaction->card_hash, "card-9");
        ck_assert_uint_eq(m->features->n_values, 2);
        ck_assert(m->features->values[0] == 1234.0);
        fraud__label__free_unpacked(m, NULL);
}
END_TEST

/* ---- the light read of FeatureVectors and Scores ----
 *
 * The join reads a plainly well-formed input in place and leaves anything
 * else to protobuf-c: whatever the bytes, the outcome (the rejection and
 * its reason, or the values kept) must be protobuf-c's.  The oracle here
 * unpacks with protobuf-c and applies the checks of join.h; the inputs are
 * full messages as the stages send them, hand-made oddities, and random
 * mutations of both. */

#define PEEK_BUF     4096
#define PEEK_MUTANTS 3000

struct peek_out {
        size_t labels, rejects;
        enum join_reject_reason reason;
        char id[FRAUD_LABELER_ID_MAX + 1], card[FRAUD_LABELER_ID_MAX + 1];
        int decision;
        int64_t event_us;
        uint64_t features_hash;
};

static int peek_on_label(void *ctx, const struct join_label *l, void *tag) {
        struct peek_out *o = ctx;

        (void)tag;
        o->labels++;
        snprintf(o->id, sizeof(o->id), "%s", l->transaction_id);
        snprintf(o->card, sizeof(o->card), "%s", l->card_hash);
        o->decision = l->decision;
        o->event_us = l->event_time_us;
        o->features_hash = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, l->features, l->features_size);
        return 0;
}

static int peek_on_reject(void *ctx, const struct join_reject *r, void *tag) {
        struct peek_out *o = ctx;

        (void)tag;
        o->rejects++;
        o->reason = r->reason;
        return 0;
}

struct peek_run {
        struct memstore *m;
        struct join *j;
        struct peek_out out;
};

static void peek_open(struct peek_run *r) {
        struct join_config c = {MATURITY_US, HORIZON_US, 0, FRAUD_LABELER_FEATURES_BYTES_MAX};
        struct join_sink sink = {peek_on_label, peek_on_reject, &r->out};
        struct join_store st;

        memset(r, 0, sizeof(*r));
        ck_assert_int_eq(memstore_new(16, &r->m), 0);
        memstore_join_store(r->m, &st);
        ck_assert_int_eq(join_new(&c, &st, &sink, &r->j), 0);
}

static void peek_close(struct peek_run *r) {
        join_free(r->j);
        memstore_free(r->m);
}

static void peek_input(struct peek_run *r, enum join_kind kind, const uint8_t *buf, size_t n) {
        struct join_input in = {kind, buf, n, 0, 1, NULL};

        ck_assert_int_eq(join_input(r->j, &in), 0);
}

static bool peek_id_ok(const char *id) {
        return strlen(id) > 0 && strlen(id) <= FRAUD_LABELER_ID_MAX;
}

static bool peek_time_ok(int64_t t) {
        return t > 0 && t <= FRAUD_LABELER_TIME_US_MAX;
}

/* Brings the watermark to event + maturity when that is a valid time:
 * true when the record's label came out. */
static bool peek_mature(struct peek_run *r, int64_t event_us) {
        if (event_us > FRAUD_LABELER_TIME_US_MAX - MATURITY_US)
                return false;
        ck_assert_int_eq(join_time_observe(r->j, event_us + MATURITY_US), 0);
        kit_drain(r->j);
        ck_assert_uint_eq(r->out.labels, 1);
        return true;
}

/* The size of the record of id: a new record keeps the card and the
 * FeatureVector after a head of 22 bytes (join.c's layout). */
static void peek_expect_record(struct peek_run *r, const char *id, const char *card, size_t n) {
        static uint8_t rec[FRAUD_LABELER_RECORD_BYTES_MAX];
        struct join_store st;

        memstore_join_store(r->m, &st);
        ck_assert_int_eq(st.record_get(st.ctx, id, strlen(id), rec, sizeof(rec)),
                         (int)(22 + 1 + strlen(card) + 4 + n));
}

/* The join's outcome for a FeatureVector equals protobuf-c's and the
 * checks'; 1 when it was accepted, 0 when rejected. */
static int peek_expect_features(const uint8_t *buf, size_t n) {
        Fraud__FeatureVector *fv = fraud__feature_vector__unpack(NULL, n, buf);
        const Fraud__Transaction *t = fv ? fv->transaction : NULL;
        int want = -1;
        struct peek_run r;

        if (!fv)
                want = JOIN_REJECT_BAD_PROTOBUF;
        else if (fv->schema_version != FEATURE_VECTOR_SCHEMA_VERSION)
                want = JOIN_REJECT_BAD_SCHEMA_VERSION;
        else if (!t)
                want = JOIN_REJECT_MISSING_TRANSACTION;
        else if (!peek_id_ok(fv->transaction_id) || strlen(t->card_hash) > FRAUD_LABELER_ID_MAX)
                want = JOIN_REJECT_BAD_ID;
        else if (!peek_time_ok(t->event_time_us))
                want = JOIN_REJECT_BAD_TIME;
        peek_open(&r);
        peek_input(&r, JOIN_FEATURES, buf, n);
        if (want >= 0) {
                ck_assert_uint_eq(r.out.rejects, 1);
                ck_assert_msg((int)r.out.reason == want, "%s, protobuf-c says %s",
                              join_reject_code(r.out.reason),
                              join_reject_code((enum join_reject_reason)want));
        } else {
                ck_assert_uint_eq(r.out.rejects, 0);
                ck_assert_int_eq(join_watermark(r.j), t->event_time_us);
                peek_expect_record(&r, fv->transaction_id, t->card_hash, n);
                if (peek_mature(&r, t->event_time_us)) {
                        ck_assert_str_eq(r.out.id, fv->transaction_id);
                        ck_assert_str_eq(r.out.card, t->card_hash);
                        ck_assert_int_eq(r.out.event_us, t->event_time_us);
                        ck_assert_uint_eq(r.out.features_hash,
                                          fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, buf, n));
                }
        }
        peek_close(&r);
        fraud__feature_vector__free_unpacked(fv, NULL);
        return want < 0;
}

/* As peek_expect_features(), for a Score: its decision shows on the label
 * of a FeatureVector of the same id sent after it. */
static int peek_expect_score(const uint8_t *buf, size_t n) {
        Fraud__Score *s = fraud__score__unpack(NULL, n, buf);
        uint8_t fv[KIT_MSG_MAX];
        int want = -1;
        struct peek_run r;

        if (!s)
                want = JOIN_REJECT_BAD_PROTOBUF;
        else if (s->schema_version != SCORE_SCHEMA_VERSION)
                want = JOIN_REJECT_BAD_SCHEMA_VERSION;
        else if (!peek_id_ok(s->transaction_id))
                want = JOIN_REJECT_BAD_ID;
        else if (!peek_time_ok(s->event_time_us))
                want = JOIN_REJECT_BAD_TIME;
        else if ((int)s->decision < KIT_ALLOW || (int)s->decision > KIT_BLOCK)
                want = JOIN_REJECT_BAD_DECISION;
        else if (s->shadow)
                want = JOIN_REJECT_SHADOW_SCORE;
        peek_open(&r);
        peek_input(&r, JOIN_SCORE, buf, n);
        if (want >= 0) {
                ck_assert_uint_eq(r.out.rejects, 1);
                ck_assert_msg((int)r.out.reason == want, "%s, protobuf-c says %s",
                              join_reject_code(r.out.reason),
                              join_reject_code((enum join_reject_reason)want));
        } else {
                ck_assert_uint_eq(r.out.rejects, 0);
                ck_assert_int_eq(join_watermark(r.j), s->event_time_us);
                peek_input(&r, JOIN_FEATURES, fv,
                           kit_features_pack(fv, s->transaction_id, "c", s->event_time_us, 1));
                ck_assert_uint_eq(r.out.rejects, 0);
                if (peek_mature(&r, s->event_time_us)) {
                        ck_assert_str_eq(r.out.id, s->transaction_id);
                        ck_assert_int_eq(r.out.decision, s->decision);
                }
        }
        peek_close(&r);
        fraud__score__free_unpacked(s, NULL);
        return want < 0;
}

/* ---- raw protobuf for the hand-made oddities ---- */

static size_t raw_varint(uint8_t *p, uint64_t v) {
        size_t n = 0;

        do {
                p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        return n;
}

static size_t raw_tag(uint8_t *p, unsigned field, unsigned wire) {
        return raw_varint(p, (uint64_t)field << 3 | wire);
}

static size_t raw_bytes(uint8_t *p, unsigned field, const void *d, size_t n) {
        size_t k = raw_tag(p, field, 2);

        k += raw_varint(p + k, n);
        memcpy(p + k, d, n);
        return k + n;
}

/* A Transaction and a FeatureVector with every field set, as velocity
 * sends them. */
static size_t full_transaction_pack(uint8_t *buf, const char *id, const char *card, int64_t t_us) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;

        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = (char *)id;
        t.event_time_us = t_us;
        t.amount_minor = 4225;
        t.currency = (char *)"GBP";
        t.card_hash = (char *)card;
        t.card_last4 = (char *)"8307";
        t.card_bin = (char *)"475100";
        t.customer_id = (char *)"C00009168";
        t.merchant_id = (char *)"M0000575";
        t.terminal_id = (char *)"M0000575-01";
        t.mcc = 5812;
        t.country = (char *)"GB";
        t.channel = FRAUD__CHANNEL__CHANNEL_CONTACTLESS;
        t.device_id = (char *)"dev-1";
        t.ip = (char *)"192.0.2.1";
        t.ingest_time_us = t_us + 5;
        return fraud__transaction__pack(&t, buf);
}

/* The FeatureVector of id[0..id_len) around tx[0..tx_len) (raw, so that
 * tests can bend them), with 141 values packed, or one field each when
 * !packed. */
static size_t full_features_raw(uint8_t *buf, const char *id, size_t id_len, const uint8_t *tx,
                                size_t tx_len, bool packed) {
        double values[141];
        size_t n = 0;

        for (int i = 0; i < 141; i++)
                values[i] = i * 1.25 - 7;
        n += raw_tag(buf + n, 1, 0);
        n += raw_varint(buf + n, FEATURE_VECTOR_SCHEMA_VERSION);
        n += raw_bytes(buf + n, 2, id, id_len);
        n += raw_bytes(buf + n, 3, tx, tx_len);
        n += raw_tag(buf + n, 4, 0);
        n += raw_varint(buf + n, KIT_SCHEMA);
        if (packed) {
                n += raw_bytes(buf + n, 5, values, sizeof(values));
        } else {
                for (int i = 0; i < 141; i++) {
                        n += raw_tag(buf + n, 5, 1);
                        memcpy(buf + n, &values[i], 8);
                        n += 8;
                }
        }
        n += raw_tag(buf + n, 6, 0);
        n += raw_varint(buf + n, (uint64_t)T0 + 11);
        ck_assert_uint_le(n, PEEK_BUF);
        return n;
}

static size_t full_features_pack(uint8_t *buf, const char *id, const char *card, int64_t t_us) {
        uint8_t tx[512];

        return full_features_raw(buf, id, strlen(id), tx, full_transaction_pack(tx, id, card, t_us),
                                 true);
}

static size_t full_score_pack(uint8_t *buf, const char *id, int64_t t_us, int decision) {
        Fraud__Score s = FRAUD__SCORE__INIT;
        char *reasons[] = {(char *)"velocity_1h", (char *)"new_device"};

        s.schema_version = SCORE_SCHEMA_VERSION;
        s.transaction_id = (char *)id;
        s.card_hash = (char *)"c0ffee";
        s.event_time_us = t_us;
        s.amount_minor = 4225;
        s.currency = (char *)"GBP";
        s.decision = (Fraud__Decision)decision;
        s.probability = 0.125;
        s.stage = FRAUD__STAGE__STAGE_GBDT;
        s.gbdt_version = (char *)"gbdt-20260228";
        s.neural_version = (char *)"mlp-20260228";
        s.rules_version = (char *)"rules-3";
        s.n_reason_codes = 2;
        s.reason_codes = reasons;
        s.degraded = true;
        s.rules_latency_ns = 1200;
        s.gbdt_latency_ns = 34000;
        s.neural_latency_ns = 56000;
        s.ingest_time_us = t_us + 3;
        s.scored_time_us = t_us + 9;
        return fraud__score__pack(&s, buf);
}

/* buf[0..n) with one random change; the new size. */
static size_t peek_mutate(uint8_t *buf, size_t n, uint64_t *rng) {
        static const uint8_t odd[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12, 0x1a,
                                      0x20, 0x29, 0x2a, 0x30, 0x38, 0x41, 0x78, 0x88};
        uint64_t x = *rng = *rng * 6364136223846793005u + 1442695040888963407u;
        size_t at = n ? (size_t)(x >> 33) % n : 0;
        uint8_t b = (uint8_t)(x >> 13);

        switch ((x >> 8) % 7) {
        case 0:
                if (n)
                        buf[at] = b;
                return n;
        case 1:
                if (n)
                        buf[at] = odd[(x >> 20) % sizeof(odd)];
                return n;
        case 2:
                return at; /* truncated */
        case 3:
                if (n + 1 > PEEK_BUF)
                        return n;
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = b;
                return n + 1;
        case 4:
                if (!n)
                        return n;
                memmove(buf + at, buf + at + 1, n - at - 1);
                return n - 1;
        case 5: { /* a span again at the end: fields twice */
                size_t len = 1 + (x >> 40) % 24;
                if (at + len > n || n + len > PEEK_BUF)
                        return n;
                memcpy(buf + n, buf + at, len);
                return n + len;
        }
        default:
                if (n)
                        buf[at] ^= (uint8_t)(1u << ((x >> 20) % 8));
                return n;
        }
}

/* Hand-made FeatureVectors at the edges of the light read: what it
 * must decline, what it may read. */
static void peek_features_oddities(const uint8_t *base, size_t n_base) {
        uint8_t buf[PEEK_BUF], tx[1024], other[256];
        const char *id = "tx_be49d2fb_000000000001";
        size_t n, k, tx_n = full_transaction_pack(tx, id, "c0ffee", T0);
        char card[FRAUD_LABELER_ID_MAX + 2];

        /* Not packed; the kit's small vector; no transaction; empty. */
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, id, strlen(id), tx, tx_n, false)),
                1);
        ck_assert_int_eq(peek_expect_features(buf, kit_features_pack(buf, id, "", T0, 5)), 1);
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, id, strlen(id), tx, 0, true)), 0);
        ck_assert_int_eq(peek_expect_features(buf, 0), 0);
        /* The same field twice: the last id; a transaction merged into the
         * first, whose card stays. */
        memcpy(buf, base, n_base);
        n = n_base + raw_bytes(buf + n_base, 2, "tx_2", 4);
        ck_assert_int_eq(peek_expect_features(buf, n), 1);
        k = full_transaction_pack(other, "x", "", T0 + 5);
        memcpy(buf, base, n_base);
        n = n_base + raw_bytes(buf + n_base, 3, other, k);
        ck_assert_int_eq(peek_expect_features(buf, n), 1);
        /* Unknown fields, in the vector and in the transaction. */
        memcpy(buf, base, n_base);
        n = n_base + raw_bytes(buf + n_base, 30, "?", 1);
        ck_assert_int_eq(peek_expect_features(buf, n), 1);
        k = tx_n + raw_tag(tx + tx_n, 18, 0);
        tx[k++] = 1;
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, id, strlen(id), tx, k, true)), 1);
        /* Packed values of a length that is not a multiple of 8. */
        memcpy(buf, base, n_base);
        n = n_base + raw_bytes(buf + n_base, 5, "1234567", 7);
        ck_assert_int_eq(peek_expect_features(buf, n), 0);
        /* A schema version past 32 bits and past 16; a time past 64 bits. */
        n = raw_tag(buf, 1, 0);
        n += raw_varint(buf + n, (UINT64_C(1) << 32) | FEATURE_VECTOR_SCHEMA_VERSION);
        memcpy(buf + n, base + 2, n_base - 2); /* base without its version */
        ck_assert_int_eq(peek_expect_features(buf, n + n_base - 2), 1);
        n = raw_tag(buf, 1, 0);
        n += raw_varint(buf + n, (UINT64_C(1) << 16) | FEATURE_VECTOR_SCHEMA_VERSION);
        memcpy(buf + n, base + 2, n_base - 2);
        ck_assert_int_eq(peek_expect_features(buf, n + n_base - 2), 0);
        k = full_transaction_pack(tx, id, "c0ffee", 0); /* no time: it comes last */
        k += raw_tag(tx + k, 3, 0);
        k += raw_varint(tx + k, (uint64_t)T0 | UINT64_C(1) << 63);
        tx[k - 1] |= 0x7e; /* bits 64..69 of the varint: dropped */
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, id, strlen(id), tx, k, true)), 0);
        /* A NUL in the id or the card; a card of the longest and too long. */
        tx_n = full_transaction_pack(tx, id, "c0ffee", T0);
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, "t\0x", 3, tx, tx_n, true)), 1);
        k = full_transaction_pack(tx, id, "", T0);
        k += raw_bytes(tx + k, 6, "c\0d", 3);
        ck_assert_int_eq(
                peek_expect_features(buf, full_features_raw(buf, id, strlen(id), tx, k, true)), 1);
        memset(card, 'a', sizeof(card) - 1);
        card[sizeof(card) - 1] = '\0';
        ck_assert_int_eq(peek_expect_features(buf, full_features_pack(buf, id, card, T0)), 0);
        card[FRAUD_LABELER_ID_MAX] = '\0';
        ck_assert_int_eq(peek_expect_features(buf, full_features_pack(buf, id, card, T0)), 1);
        /* Tags and lengths in longer forms than needed: a length of 6
         * bytes is more than protobuf-c reads. */
        buf[0] = 0x88;
        buf[1] = 0x00;
        buf[2] = FEATURE_VECTOR_SCHEMA_VERSION;
        memcpy(buf + 3, base + 2, n_base - 2);
        ck_assert_int_eq(peek_expect_features(buf, n_base + 1), 1);
        for (size_t extra = 1; extra <= 5; extra++) {
                memcpy(buf, base, 2); /* the schema version */
                buf[2] = 0x12;        /* field 2, length-delimited */
                buf[3] = (uint8_t)(base[3] | 0x80);
                memset(buf + 4, 0x80, extra - 1);
                buf[3 + extra] = 0x00;
                memcpy(buf + 4 + extra, base + 4, n_base - 4);
                ck_assert_int_eq(peek_expect_features(buf, n_base + extra), extra < 5);
        }
}

START_TEST(test_join_light_read_of_a_feature_vector_agrees_with_protobuf_c) {
        uint8_t base[PEEK_BUF], buf[PEEK_BUF];
        size_t n_base = full_features_pack(base, "tx_be49d2fb_000000000001", "c0ffee", T0), n;
        uint64_t rng = 7;
        int accepted = 0, total = 0;

        ck_assert_int_eq(peek_expect_features(base, n_base), 1);
        peek_features_oddities(base, n_base);
        for (int i = 0; i < PEEK_MUTANTS; i++) {
                memcpy(buf, base, n_base);
                n = peek_mutate(buf, n_base, &rng);
                if (i % 3 == 0)
                        n = peek_mutate(buf, n, &rng);
                accepted += peek_expect_features(buf, n);
                total++;
        }
        ck_assert_int_gt(accepted, total / 4);
        ck_assert_int_lt(accepted, total - total / 10);
}
END_TEST

START_TEST(test_join_light_read_of_a_score_agrees_with_protobuf_c) {
        uint8_t base[PEEK_BUF], buf[PEEK_BUF];
        const char *id = "tx_be49d2fb_000000000001";
        size_t n_base = full_score_pack(base, id, T0, KIT_REVIEW), n, k;
        uint64_t rng = 11;
        int accepted = 0, total = 0;

        ck_assert_int_eq(peek_expect_score(base, n_base), 1);
        ck_assert_int_eq(peek_expect_score(buf, kit_score_pack(buf, id, "c", T0, KIT_BLOCK)), 1);
        /* A decision past 32 bits and past 8, a shadow bool in a long form. */
        n = full_score_pack(buf, id, T0, 0); /* no decision field */
        k = n + raw_tag(buf + n, 7, 0);
        k += raw_varint(buf + k, (UINT64_C(1) << 32) | KIT_ALLOW);
        ck_assert_int_eq(peek_expect_score(buf, k), 1);
        k = n + raw_tag(buf + n, 7, 0);
        k += raw_varint(buf + k, (UINT64_C(1) << 8) | KIT_ALLOW);
        ck_assert_int_eq(peek_expect_score(buf, k), 0);
        memcpy(buf, base, n_base);
        n = n_base + raw_tag(buf + n_base, 15, 0);
        buf[n++] = 0x80;
        buf[n++] = 0x00;
        ck_assert_int_eq(peek_expect_score(buf, n), 1);
        buf[n - 1] = 0x01;
        ck_assert_int_eq(peek_expect_score(buf, n), 0);
        buf[n - 2] = 0x02; /* a bool of 2 */
        ck_assert_int_eq(peek_expect_score(buf, n - 1), 0);
        /* A tag in a longer form: field 3 (a string) as a varint. */
        n = kit_score_pack(buf, id, "c", T0, KIT_ALLOW); /* no field 19 either */
        memcpy(buf + n, "\x98\x00\x05", 3);
        ck_assert_int_eq(peek_expect_score(buf, n + 3), 0);
        /* Varints of 10 bytes and of 11 (more than protobuf-c reads). */
        n = kit_score_pack(buf, id, "c", T0, KIT_ALLOW); /* no amount */
        n += raw_tag(buf + n, 5, 0);
        memset(buf + n, 0xff, 9);
        buf[n + 9] = 0x01;
        ck_assert_int_eq(peek_expect_score(buf, n + 10), 1);
        buf[n + 9] = 0xff;
        buf[n + 10] = 0x00;
        ck_assert_int_eq(peek_expect_score(buf, n + 11), 0);
        /* The same id twice, a reason code more. */
        memcpy(buf, base, n_base);
        n = n_base + raw_bytes(buf + n_base, 2, "tx_2", 4);
        n += raw_bytes(buf + n, 13, "again", 5);
        ck_assert_int_eq(peek_expect_score(buf, n), 1);
        for (int i = 0; i < PEEK_MUTANTS; i++) {
                memcpy(buf, base, n_base);
                n = peek_mutate(buf, n_base, &rng);
                if (i % 3 == 0)
                        n = peek_mutate(buf, n, &rng);
                accepted += peek_expect_score(buf, n);
                total++;
        }
        ck_assert_int_gt(accepted, total / 10);
        ck_assert_int_lt(accepted, total - total / 10);
}
END_TEST

/* ---- records changed in place ---- */

/* The sim's stream through a memstore that lends its records (changed in
 * place, new ones written where they are kept) and through one seen as a
 * store that copies (every record encoded whole and put): the same
 * labels, rejects and record bytes. */
static void fx_open_copying(struct fx *f) {
        struct join_config c = {MATURITY_US, HORIZON_US, f->lateness_us,
                                FRAUD_LABELER_FEATURES_BYTES_MAX};
        struct join_store st;
        struct join_sink sink = kit_sink(&f->out);

        memstore_join_store(f->m, &st);
        st.record_lend = NULL;
        st.record_alloc = NULL;
        st.record_prefetch = NULL;
        ck_assert_int_eq(join_new(&c, &st, &sink, &f->j), 0);
}

static void expect_same_record(struct fx *a, struct fx *b, const char *id) {
        static uint8_t va[FRAUD_LABELER_RECORD_BYTES_MAX], vb[FRAUD_LABELER_RECORD_BYTES_MAX];
        struct join_store sa, sb;
        int na, nb;

        memstore_join_store(a->m, &sa);
        memstore_join_store(b->m, &sb);
        na = sa.record_get(sa.ctx, id, strlen(id), va, sizeof(va));
        nb = sb.record_get(sb.ctx, id, strlen(id), vb, sizeof(vb));
        ck_assert_int_eq(na, nb);
        ck_assert_msg(na < 0 || memcmp(va, vb, (size_t)na) == 0, "%s: records differ", id);
}

static void sim_feed_some(struct fx *f, const struct kit_sim *s, size_t from, size_t to) {
        for (size_t i = from; i < to; i++) {
                kit_sim_feed(f->j, &s->ev[i], &f->offset);
                if (s->ev[i].kind == SIM_EVENT_CHARGEBACK && i % 5 == 0)
                        kit_sim_feed(f->j, &s->ev[i], &f->offset); /* a duplicate */
                if (i % 64 == 0)
                        kit_drain(f->j);
        }
        kit_drain(f->j);
}

START_TEST(test_join_records_changed_in_place_equal_the_records_written_whole) {
        struct kit_sim s;
        struct fx a, b;
        size_t compared = 0;

        kit_sim_load(&s, 300, 3);
        fx_init(&a, KIT_HOUR_US);
        memset(&b, 0, sizeof(b));
        b.lateness_us = KIT_HOUR_US;
        ck_assert_int_eq(memstore_new(1u << 20, &b.m), 0);
        fx_open_copying(&b);
        for (size_t at = 0; at < s.n; at += s.n / 4 + 1) {
                size_t to = at + s.n / 4 + 1 < s.n ? at + s.n / 4 + 1 : s.n;
                sim_feed_some(&a, &s, at, to);
                sim_feed_some(&b, &s, at, to);
                for (size_t i = 0; i < s.n; i++)
                        if (s.ev[i].kind == SIM_EVENT_TRANSACTION) {
                                expect_same_record(&a, &b, s.ev[i].tx.transaction_id);
                                compared++;
                        }
        }
        ck_assert_uint_gt(compared, 10000);
        ck_assert_uint_gt(a.out.n_labels, 1000);
        ck_assert_uint_eq(a.out.n_labels, b.out.n_labels);
        for (size_t i = 0; i < a.out.n_labels; i++)
                ck_assert(kit_label_equal(&a.out.labels[i], &b.out.labels[i]));
        ck_assert_uint_eq(a.out.n_rejects, b.out.n_rejects);
        ck_assert_uint_eq(memstore_due_entries(a.m), memstore_due_entries(b.m));
        ck_assert_int_gt(fx_counters(&a).labels_corrected, 0);
        fx_release(&a);
        fx_release(&b);
        free(s.ev);
}
END_TEST

/* ---- the simulator's stream ---- */

struct sim_check {
        struct kit_label got[2];
        size_t n;
};

/* Groups the emitted labels by transaction; a third label of one
 * transaction fails (doubled). */
static struct sim_check *sim_group(const struct kit_out *o, size_t n_tx) {
        struct sim_check *c = calloc(n_tx, sizeof(*c));

        ck_assert_ptr_nonnull(c);
        for (size_t i = 0; i < o->n_labels; i++) {
                size_t x = kit_tx_index(o->labels[i].id);
                ck_assert_uint_lt(x, n_tx);
                ck_assert_msg(c[x].n < 2, "%s: a third label", o->labels[i].id);
                c[x].got[c[x].n++] = o->labels[i];
        }
        return c;
}

/* Every transaction's labels equal the brute force's as of wm; returns
 * the number of transactions whose record must still be open. */
static size_t sim_compare(const struct kit_sim *s, const struct kit_tx *tx, const struct kit_out *o,
                          int64_t wm, struct join_counters *want) {
        struct sim_check *c = sim_group(o, s->n_tx);
        size_t open = 0;

        memset(want, 0, sizeof(*want));
        for (size_t x = 0; x < s->n_tx; x++) {
                struct kit_expect e[2];
                size_t n = kit_expected(&tx[x], MATURITY_US, HORIZON_US, wm, e);
                ck_assert_msg(c[x].n == n, "transaction %zu: %zu labels, brute force %zu", x,
                              c[x].n, n);
                for (size_t i = 0; i < n; i++) {
                        ck_assert_msg(c[x].got[i].value == e[i].value &&
                                              c[x].got[i].status == e[i].status &&
                                              c[x].got[i].known_us == e[i].known_us,
                                      "transaction %zu label %zu differs", x, i);
                        ck_assert_int_eq(c[x].got[i].decision, tx[x].decision);
                        want->labels_provisional += e[i].status == KIT_PROVISIONAL;
                        want->labels_corrected += e[i].status == KIT_CORRECTED;
                        want->labels_confirmed_fraud +=
                                e[i].status == KIT_CONFIRMED && e[i].value == KIT_FRAUD;
                        want->labels_confirmed_legit +=
                                e[i].status == KIT_CONFIRMED && e[i].value == KIT_LEGIT;
                        want->labels_confirmed_unknown +=
                                e[i].status == KIT_CONFIRMED && e[i].value == KIT_UNKNOWN;
                        want->labels_undecided += tx[x].decision == KIT_NO_SCORE;
                }
                open += tx[x].t_us + HORIZON_US > wm;
        }
        free(c);
        return open;
}

static void sim_expect_counters(const struct fx *f, const struct join_counters *want) {
        struct join_counters k = fx_counters(f);

        ck_assert_uint_eq(k.labels_provisional, want->labels_provisional);
        ck_assert_uint_eq(k.labels_corrected, want->labels_corrected);
        ck_assert_uint_eq(k.labels_confirmed_fraud, want->labels_confirmed_fraud);
        ck_assert_uint_eq(k.labels_confirmed_legit, want->labels_confirmed_legit);
        ck_assert_uint_eq(k.labels_confirmed_unknown, want->labels_confirmed_unknown);
        ck_assert_uint_eq(k.labels_undecided, want->labels_undecided);
        ck_assert_uint_eq(f->out.n_labels, want->labels_provisional + want->labels_corrected +
                                                   want->labels_confirmed_fraud +
                                                   want->labels_confirmed_legit +
                                                   want->labels_confirmed_unknown);
}

/* The stream with its mess: every 10th chargeback sent twice, every 7th
 * followed by a second one (another id, same instant), and every 2000th
 * event preceded by a chargeback for a transaction that never comes. */
#define SIM_GHOSTS_MAX 256

static void sim_feed_all(struct fx *f, const struct kit_sim *s, size_t *dups, size_t *repeats,
                         int64_t *ghost_tx, size_t *ghosts) {
        size_t cbs = 0;

        for (size_t i = 0; i < s->n; i++) {
                const struct sim_event *ev = &s->ev[i];
                char id[SIM_ID_MAX + 8];
                if (i % 2000 == 1999) {
                        int64_t t = ev->kind == SIM_EVENT_TRANSACTION ? ev->tx.time_ms * 1000
                                                                      : ev->cb.time_ms * 1000;
                        ck_assert_uint_lt(*ghosts, SIM_GHOSTS_MAX);
                        ghost_tx[*ghosts] = t - 3 * KIT_DAY_US;
                        snprintf(id, sizeof(id), "ghost_%zu", ++*ghosts);
                        fx_cb(f, id, id, t, t - 3 * KIT_DAY_US, KIT_CHARGEBACK);
                }
                kit_sim_feed(f->j, ev, &f->offset);
                if (ev->kind == SIM_EVENT_CHARGEBACK && ++cbs % 10 == 0) {
                        kit_sim_feed(f->j, ev, &f->offset);
                        ++*dups;
                }
                if (ev->kind == SIM_EVENT_CHARGEBACK && cbs % 7 == 0) {
                        snprintf(id, sizeof(id), "%s-2", ev->cb.chargeback_id);
                        fx_cb(f, ev->cb.transaction_id, id, ev->cb.time_ms * 1000,
                              ev->cb.transaction_time_ms * 1000, KIT_REVIEW_FRAUD);
                        ++*repeats;
                }
                if (i % 64 == 0)
                        kit_drain(f->j);
        }
        kit_drain(f->j);
}

START_TEST(test_join_sim_labels_equal_the_brute_force_and_reconcile) {
        struct kit_sim s;
        struct kit_tx *tx;
        struct join_counters want;
        struct fx f;
        size_t dups = 0, repeats = 0, ghosts = 0, open, charged = 0, caught = 0, ghosts_open = 0;
        int64_t ghost_tx[SIM_GHOSTS_MAX], wm, last;

        kit_sim_load(&s, 600, 11);
        ck_assert_uint_gt(s.n_tx, 10000);
        tx = kit_sim_txs(&s);
        fx_init(&f, KIT_HOUR_US);
        sim_feed_all(&f, &s, &dups, &repeats, ghost_tx, &ghosts);
        /* At the end of the stream: what is due is emitted, the rest open. */
        wm = join_watermark(f.j);
        open = sim_compare(&s, tx, &f.out, wm, &want);
        sim_expect_counters(&f, &want);
        ck_assert_uint_gt(want.labels_corrected, 20);
        ck_assert_uint_gt(want.labels_confirmed_fraud, 5);
        ck_assert_uint_gt(want.labels_confirmed_unknown, 20);
        for (size_t g = 0; g < ghosts; g++)
                ghosts_open += ghost_tx[g] + HORIZON_US > wm;
        ck_assert_uint_gt(ghosts_open, 0);
        ck_assert_uint_lt(ghosts_open, ghosts);
        ck_assert_uint_eq(join_records(f.j), open + ghosts_open);
        ck_assert_uint_eq(memstore_records(f.m), join_records(f.j));
        ck_assert_uint_eq(fx_counters(&f).chargebacks_duplicate, dups);
        ck_assert_uint_eq(fx_counters(&f).rejected[JOIN_REJECT_UNKNOWN_TRANSACTION],
                          ghosts - ghosts_open);
        /* Past every horizon: every record final and gone. */
        last = s.ev[s.n - 1].kind == SIM_EVENT_TRANSACTION ? s.ev[s.n - 1].tx.time_ms * 1000
                                                           : s.ev[s.n - 1].cb.time_ms * 1000;
        fx_clock(&f, last + HORIZON_US + 2 * KIT_HOUR_US);
        sim_compare(&s, tx, &f.out, KIT_NONE, &want);
        sim_expect_counters(&f, &want);
        ck_assert_uint_eq(join_records(f.j), 0);
        ck_assert_uint_eq(memstore_records(f.m), 0);
        ck_assert_uint_eq(memstore_due_entries(f.m), 0);
        ck_assert_uint_eq(fx_counters(&f).rejected[JOIN_REJECT_UNKNOWN_TRANSACTION], ghosts);
        ck_assert_uint_eq(fx_counters(&f).chargebacks_repeated, repeats);
        ck_assert_uint_eq(fx_counters(&f).records_finished, s.n_tx);
        ck_assert_uint_eq(f.out.n_rejects, ghosts);
        /* Every fraud that was charged back ends up labelled fraud. */
        for (size_t i = 0; i < f.out.n_labels; i++)
                caught += f.out.labels[i].value == KIT_FRAUD;
        for (size_t x = 0; x < s.n_tx; x++)
                charged += tx[x].fraud_us != KIT_NONE;
        ck_assert_uint_eq(caught, charged);
        printf("sim: %zu transactions, %zu labels, %llu corrections, %zu duplicates, %zu "
               "repeats, %zu ghosts\n",
               s.n_tx, f.out.n_labels, (unsigned long long)want.labels_corrected, dups, repeats,
               ghosts);
        free(tx);
        free(s.ev);
        fx_release(&f);
}
END_TEST

/* An input that moves the watermark past other records' milestones does not
 * label its own record first: labels leave in known_at order, which the
 * trainer's daily cutoff relies on. */
START_TEST(test_join_labels_leave_in_known_at_order_when_an_input_jumps_the_watermark) {
        struct fx f;

        fx_init(&f, 0);
        fx_tx(&f, "ta", T0, KIT_ALLOW);
        fx_tx(&f, "tb", T0 + KIT_HOUR_US, KIT_ALLOW);
        kit_drain(f.j);
        ck_assert_uint_eq(f.out.n_labels, 0);
        /* tb's chargeback, a day after both maturities: it alone raises the watermark */
        fx_cb(&f, "tb", "cb-b", T0 + MATURITY_US + KIT_DAY_US, T0 + KIT_HOUR_US, KIT_CHARGEBACK);
        kit_drain(f.j);
        ck_assert_uint_eq(f.out.n_labels, 3);
        for (size_t i = 1; i < f.out.n_labels; i++)
                ck_assert_int_le(f.out.labels[i - 1].known_us, f.out.labels[i].known_us);
        expect_label(&f, 0, "ta", KIT_LEGIT, KIT_PROVISIONAL, T0 + MATURITY_US);
        expect_label(&f, 1, "tb", KIT_LEGIT, KIT_PROVISIONAL, T0 + KIT_HOUR_US + MATURITY_US);
        expect_label(&f, 2, "tb", KIT_FRAUD, KIT_CORRECTED, T0 + MATURITY_US + KIT_DAY_US);
        fx_release(&f);
}
END_TEST

TESTING_MAIN("join", test_join_maturity_gives_a_provisional_legit_label_on_the_watermark,
             test_join_labels_leave_in_known_at_order_when_an_input_jumps_the_watermark,
             test_join_horizon_confirms_legit_and_removes_the_state,
             test_join_chargeback_before_maturity_confirms_fraud_without_provisional,
             test_join_chargeback_after_maturity_corrects_the_provisional_label,
             test_join_chargeback_at_the_maturity_instant_comes_first,
             test_join_chargeback_dated_before_its_payment_is_known_at_the_payment,
             test_join_blocked_payment_is_unknown_never_legit,
             test_join_chargeback_on_blocked_payment_still_makes_it_fraud,
             test_join_review_legit_confirms_legit_at_its_time,
             test_join_review_legit_on_blocked_payment_confirms_legit,
             test_join_review_fraud_after_maturity_is_a_correction,
             test_join_chargeback_after_review_legit_corrects_it,
             test_join_review_legit_after_fraud_is_ignored,
             test_join_label_without_a_score_is_undecided_and_counted,
             test_join_score_after_the_first_label_decides_the_later_ones,
             test_join_chargeback_before_its_transaction_is_held_until_it_arrives,
             test_join_chargeback_for_a_transaction_never_seen_goes_to_dlq_at_its_horizon,
             test_join_chargeback_older_than_anything_kept_goes_to_dlq_at_once,
             test_join_transaction_older_than_the_horizon_goes_to_dlq,
             test_join_statement_made_after_the_horizon_goes_to_dlq,
             test_join_duplicate_chargeback_id_is_counted_and_ignored,
             test_join_second_fraud_chargeback_is_counted_and_ignored,
             test_join_duplicate_features_and_scores_keep_the_first,
             test_join_more_chargebacks_than_kept_go_to_dlq,
             test_join_input_late_within_lateness_gives_the_in_order_labels,
             test_join_input_later_than_lateness_corrects_what_was_decided,
             test_join_watermark_is_the_latest_event_minus_lateness_and_never_moves_back,
             test_join_new_join_on_the_same_store_resumes_the_clock_and_records,
             test_join_corrupt_record_is_an_error_not_a_label,
             test_join_advance_settles_at_most_what_it_is_asked,
             test_join_bad_input_goes_to_dlq_with_its_reason,
             test_join_feature_vector_too_large_for_a_label_goes_to_dlq,
             test_join_label_pack_embeds_the_feature_vector_as_received,
             test_join_light_read_of_a_feature_vector_agrees_with_protobuf_c,
             test_join_light_read_of_a_score_agrees_with_protobuf_c,
             test_join_records_changed_in_place_equal_the_records_written_whole,
             test_join_sim_labels_equal_the_brute_force_and_reconcile)
