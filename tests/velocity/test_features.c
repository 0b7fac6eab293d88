/* Tests for common/featureset.c (the schema) and velocity/features.c (one
 * transaction to its vector). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/featureset.h"
#include "common/schema.h"
#include "lib/time.h"
#include "velocity/features.h"

#include "tests/testing.h"

#define T0  (INT64_C(20454) * FRAUD_USEC_PER_DAY) /* 2026-01-01, a Thursday */
#define SEC FRAUD_USEC_PER_SEC

static const int64_t default_spans[] = {60, 600, 3600, 86400, 604800, 2592000};

/* ---- featureset ---- */

START_TEST(test_featureset_names_follow_spans_in_documented_order) {
        struct fraud_featureset fs;

        ck_assert_int_eq(fraud_featureset_build(default_spans, 6, &fs), 0);
        ck_assert_uint_eq(fs.n, 20 * 6 + FRAUD_FEATURESET_SCALARS);
        ck_assert_str_eq(fs.names[0], "card_count_1m");
        ck_assert_str_eq(fs.names[5], "card_count_30d");
        ck_assert_str_eq(fs.names[6], "card_amount_sum_1m");
        ck_assert_int_eq(fraud_featureset_find(&fs, "ip_amount_max_7d"),
                         (int)fraud_featureset_stat_index(&fs, FRAUD_FEATURESET_IP,
                                                          FRAUD_FEATURESET_AMOUNT_MAX, 4));
        ck_assert_int_eq(
                fraud_featureset_find(&fs, "device_cards_distinct_1h"),
                (int)fraud_featureset_distinct_index(&fs, FRAUD_FEATURESET_DEVICE_CARDS, 2));
        ck_assert_int_eq(
                fraud_featureset_find(&fs, "card_amount_ratio_mean_30d"),
                (int)fraud_featureset_scalar_index(&fs, FRAUD_FEATURESET_CARD_AMOUNT_RATIO));
        ck_assert_str_eq(fs.names[fs.n - 1], "terminal_label_fraud_rate");
}
END_TEST

START_TEST(test_featureset_hash_is_fnv1a_of_names_and_newlines) {
        const char *const names[] = {"a"};
        struct fraud_featureset fs;
        const char *ptrs[FRAUD_FEATURESET_FEATURES_MAX];

        /* FNV-1a 64 of "a\n". */
        ck_assert_uint_eq(fraud_featureset_hash(names, 1), UINT64_C(0x089bdc07b544e7b2));
        ck_assert_int_eq(fraud_featureset_build(default_spans, 3, &fs), 0);
        for (size_t i = 0; i < fs.n; i++)
                ptrs[i] = fs.names[i];
        ck_assert_uint_eq(fs.hash, fraud_featureset_hash(ptrs, fs.n));
        ck_assert_uint_ne(fs.hash, fraud_featureset_hash(ptrs, fs.n - 1));
}
END_TEST

START_TEST(test_featureset_span_label_uses_largest_whole_unit) {
        char buf[24];

        fraud_featureset_span_label(2592000, buf, sizeof(buf));
        ck_assert_str_eq(buf, "30d");
        fraud_featureset_span_label(7200, buf, sizeof(buf));
        ck_assert_str_eq(buf, "2h");
        fraud_featureset_span_label(600, buf, sizeof(buf));
        ck_assert_str_eq(buf, "10m");
        fraud_featureset_span_label(90, buf, sizeof(buf));
        ck_assert_str_eq(buf, "90s");
}
END_TEST

START_TEST(test_featureset_rejects_spans_not_strictly_increasing) {
        const int64_t bad[] = {60, 60};
        struct fraud_featureset fs;
        char *items[] = {(char *)"60", (char *)"30", NULL};
        char *junk[] = {(char *)"1h", NULL};
        int64_t spans[8];
        char err[128];
        size_t n;

        ck_assert_int_eq(fraud_featureset_build(bad, 2, &fs), -EINVAL);
        ck_assert_int_eq(fraud_featureset_build(bad, 0, &fs), -EINVAL);
        ck_assert_int_eq(fraud_featureset_spans_parse(items, spans, 8, &n, err, sizeof(err)),
                         -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "increasing"));
        ck_assert_int_eq(fraud_featureset_spans_parse(junk, spans, 8, &n, err, sizeof(err)),
                         -EINVAL);
        items[1] = (char *)"120";
        ck_assert_int_eq(fraud_featureset_spans_parse(items, spans, 8, &n, err, sizeof(err)), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(spans[1], 120);
}
END_TEST

/* ---- features ---- */

struct fixture {
        struct features_config c;
        struct window w[FRAUD_FEATURESET_ENTITIES];
        struct window *wp[FRAUD_FEATURESET_ENTITIES];
        struct window_scratch s;
        double out[FRAUD_FEATURESET_FEATURES_MAX];
        uint64_t truncated;
};

static void fixture_init(struct fixture *f) {
        ck_assert_int_eq(
                features_config_init(&f->c, default_spans, 6, 7 * 86400, 30 * 86400, 300, 1024), 0);
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++) {
                window_init(&f->w[k], k);
                f->wp[k] = &f->w[k];
        }
        ck_assert_int_eq(window_scratch_init(&f->s, 1024), 0);
        f->truncated = 0;
}

static void fixture_release(struct fixture *f) {
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++)
                window_release(&f->w[k]);
        window_scratch_release(&f->s);
}

static struct features_tx tx_at(uint64_t id, int64_t t, int64_t amount, uint64_t device) {
        struct features_tx tx = {.tx = id,
                                 .t_us = t,
                                 .amount = amount,
                                 .currency_known = true,
                                 .merchant = 11,
                                 .country = 22,
                                 .device = device,
                                 .card = 33,
                                 .mcc = 5411,
                                 .channel = FRAUD__CHANNEL__CHANNEL_ECOMMERCE};
        return tx;
}

/* Adds tx to the fixture's windows: features_compute()'s result. */
static int compute(struct fixture *f, const struct features_tx *tx) {
        return features_compute(&f->c, tx, f->wp, &f->s, f->out, &f->truncated);
}

static double value(const struct fixture *f, const char *name) {
        int i = fraud_featureset_find(&f->c.fs, name);
        ck_assert_msg(i >= 0, "no feature %s", name);
        return f->out[i];
}

START_TEST(test_features_currency_converts_to_eur_cents) {
        int64_t cents;

        ck_assert_int_eq(features_currency_to_ref("USD", 1080, &cents), 0);
        ck_assert_int_eq(cents, 1000);
        ck_assert_int_eq(features_currency_to_ref("JPY", 1620, &cents), 0);
        ck_assert_int_eq(cents, 1000);
        ck_assert_int_eq(features_currency_to_ref("XXX", 1, &cents), -ENOENT);
}
END_TEST

START_TEST(test_features_sum_and_mean_include_current_transaction) {
        struct fixture f;
        struct features_tx a = tx_at(1, T0, 100, 0), b = tx_at(2, T0 + 30 * SEC, 300, 0);

        fixture_init(&f);
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert_int_eq(compute(&f, &b), 0);
        ck_assert(value(&f, "card_count_1m") == 2.0);
        ck_assert(value(&f, "card_amount_sum_1m") == 400.0);
        ck_assert(value(&f, "terminal_amount_mean_1m") == 200.0);
        ck_assert(value(&f, "card_amount_ratio_mean_30d") == 1.5);
        ck_assert(value(&f, "card_seconds_since_prev") == 30.0);
        ck_assert(value(&f, "channel_ecommerce") == 1.0);
        ck_assert(value(&f, "mcc") == 5411.0);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_duplicate_transaction_changes_nothing) {
        struct fixture f;
        struct features_tx a = tx_at(1, T0, 100, 0);

        fixture_init(&f);
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert_int_eq(compute(&f, &a), 1);
        ck_assert_uint_eq(f.w[FRAUD_FEATURESET_CARD].n, 1);
        ck_assert_uint_eq(f.w[FRAUD_FEATURESET_TERMINAL].n, 1);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_new_device_is_set_only_for_first_use_on_card) {
        struct fixture f;
        struct features_tx a = tx_at(1, T0, 100, 77), b = tx_at(2, T0 + SEC, 100, 77);

        fixture_init(&f);
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert(value(&f, "card_new_device") == 1.0);
        ck_assert(value(&f, "card_new_country") == 1.0);
        ck_assert(value(&f, "card_new_ip") == 0.0); /* no IP */
        ck_assert_int_eq(compute(&f, &b), 0);
        ck_assert(value(&f, "card_new_device") == 0.0);
        ck_assert(value(&f, "card_new_country") == 0.0);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_night_and_weekend_follow_utc) {
        struct fixture f;
        /* 2026-01-03 is a Saturday; 05:59:59 UTC is night, 06:00 is not. */
        struct features_tx a =
                tx_at(1, T0 + 2 * FRAUD_USEC_PER_DAY + 6 * FRAUD_USEC_PER_HOUR - 1, 1, 0);
        struct features_tx b = tx_at(2, T0 + 6 * FRAUD_USEC_PER_HOUR, 1, 0);

        fixture_init(&f);
        ck_assert_int_eq(compute(&f, &b), 0);
        ck_assert(value(&f, "is_night") == 0.0);
        ck_assert(value(&f, "is_weekend") == 0.0);
        ck_assert(value(&f, "hour_of_day") == 6.0);
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert(value(&f, "is_night") == 1.0);
        ck_assert(value(&f, "is_weekend") == 1.0);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_seconds_since_prev_is_capped_at_longest_span) {
        struct fixture f;
        struct features_tx a = tx_at(1, T0, 1, 0);

        fixture_init(&f);
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert(value(&f, "card_seconds_since_prev") == 2592000.0);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_absent_device_leaves_device_features_zero) {
        struct fixture f;
        struct features_tx a = tx_at(1, T0, 100, 0);

        fixture_init(&f);
        f.wp[FRAUD_FEATURESET_DEVICE] = NULL;
        ck_assert_int_eq(compute(&f, &a), 0);
        ck_assert(value(&f, "device_count_30d") == 0.0);
        ck_assert(value(&f, "has_device") == 0.0);
        ck_assert(value(&f, "ip_count_30d") == 1.0);
        ck_assert_uint_eq(f.w[FRAUD_FEATURESET_DEVICE].n, 0);
        fixture_release(&f);
}
END_TEST

START_TEST(test_features_rejects_transaction_without_card) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;
        struct features_ids ids;
        struct features_tx tx;
        const char *why = NULL;

        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = (char *)"tx1";
        t.event_time_us = T0;
        t.currency = (char *)"EUR";
        ck_assert_int_eq(features_tx_from_proto(&t, &tx, &ids, &why), -EINVAL);
        ck_assert_str_eq(why, "no_card");
        t.card_hash = (char *)"abc";
        t.terminal_id = (char *)"";
        t.merchant_id = (char *)"M1";
        ck_assert_int_eq(features_tx_from_proto(&t, &tx, &ids, &why), 0);
        ck_assert_str_eq(ids.id[FRAUD_FEATURESET_TERMINAL], "M1");
        ck_assert_ptr_null(ids.id[FRAUD_FEATURESET_DEVICE]);
        t.currency = (char *)"XXX";
        ck_assert_int_eq(features_tx_from_proto(&t, &tx, &ids, &why), 0);
        ck_assert(!tx.currency_known);
        ck_assert_int_eq(tx.amount, 0);
}
END_TEST

START_TEST(test_features_review_legit_chargeback_is_ignored) {
        Fraud__Chargeback c = FRAUD__CHARGEBACK__INIT;
        struct window_chargeback cb;
        const char *id = NULL, *why = NULL;
        size_t len = 0;

        c.schema_version = CHARGEBACK_SCHEMA_VERSION;
        c.transaction_id = (char *)"tx1";
        c.event_time_us = T0;
        c.transaction_time_us = T0 - SEC;
        c.merchant_id = (char *)"M1";
        c.terminal_id = (char *)"M1-01";
        c.kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT;
        ck_assert_int_eq(features_chargeback_from_proto(&c, &cb, &id, &len, &why), 1);
        c.kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK;
        ck_assert_int_eq(features_chargeback_from_proto(&c, &cb, &id, &len, &why), 0);
        ck_assert_str_eq(id, "M1-01");
        ck_assert_int_eq(cb.arrival_us, T0);
        ck_assert_uint_eq(cb.tx, features_hash("tx1", 3));
}
END_TEST

TESTING_MAIN("features", test_featureset_names_follow_spans_in_documented_order,
             test_featureset_hash_is_fnv1a_of_names_and_newlines,
             test_featureset_span_label_uses_largest_whole_unit,
             test_featureset_rejects_spans_not_strictly_increasing,
             test_features_currency_converts_to_eur_cents,
             test_features_sum_and_mean_include_current_transaction,
             test_features_duplicate_transaction_changes_nothing,
             test_features_new_device_is_set_only_for_first_use_on_card,
             test_features_night_and_weekend_follow_utc,
             test_features_seconds_since_prev_is_capped_at_longest_span,
             test_features_absent_device_leaves_device_features_zero,
             test_features_rejects_transaction_without_card,
             test_features_review_legit_chargeback_is_ignored)
