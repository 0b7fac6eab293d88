/* Tests for dashboard/view.c: the dashboard's records in, its review queue,
 * decision rows, verdicts and state out -- packed protobuf as on the
 * topics, no Kafka. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/featureset.h"
#include "common/schema.h"
#include "dashboard/view.h"
#include "proto/chargeback.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/label.pb-c.h"
#include "proto/score.pb-c.h"
#include "tests/testing.h"

#define NOW INT64_C(1764867600000000) /* wall clock of the tests */
#define TX  INT64_C(1767225600000000) /* 2026-01-01, the payments' event time */

static struct fraud_featureset features;

static struct view *view_make(size_t queue_max, size_t per_sec) {
        const int64_t spans[] = {60, 3600, 86400};
        struct view_config c = {
                .review_queue_max = queue_max,
                .history_minutes = 10,
                .psi_reference_records = 100,
                .psi_window_records = 100,
                .psi_bins = 10,
                .stream_per_sec_max = per_sec,
                .features = &features,
        };
        struct view *v;

        ck_assert_int_eq(fraud_featureset_build(spans, 3, &features), 0);
        ck_assert_int_eq(view_new(&c, &v), 0);
        return v;
}

static int feed_score(struct view *v, const char *id, Fraud__Decision d, double p, int64_t now) {
        Fraud__Score s = FRAUD__SCORE__INIT;
        char *reasons[] = {(char *)"device_hopping", (char *)"gbdt"};
        uint8_t buf[1024];

        s.schema_version = SCORE_SCHEMA_VERSION;
        s.transaction_id = (char *)id;
        s.card_hash = (char *)"c0ffee00c0ffee00c0ffee00c0ffee00";
        s.event_time_us = TX + 1000;
        s.amount_minor = 12345;
        s.currency = (char *)"EUR";
        s.decision = d;
        s.probability = p;
        s.stage = FRAUD__STAGE__STAGE_GBDT;
        s.gbdt_version = (char *)"v7";
        s.rules_version = (char *)"r1";
        s.n_reason_codes = 2;
        s.reason_codes = reasons;
        s.ingest_time_us = now - 9000;
        s.scored_time_us = now - 1000;
        s.gbdt_latency_ns = 4000;
        return view_input(v, VIEW_SCORE, buf, fraud__score__pack(&s, buf), now);
}

static int feed_features(struct view *v, const char *id, double amount) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        double values[FRAUD_FEATURESET_FEATURES_MAX] = {0};
        uint8_t buf[8192];

        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = (char *)id;
        t.merchant_id = (char *)"M-0042";
        t.terminal_id = (char *)"T-0042-1";
        t.customer_id = (char *)"C-9";
        t.country = (char *)"FR";
        t.card_last4 = (char *)"4242";
        t.card_bin = (char *)"424242";
        t.mcc = 5411;
        t.channel = FRAUD__CHANNEL__CHANNEL_ECOMMERCE;
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = (char *)id;
        fv.transaction = &t;
        fv.feature_schema_hash = features.hash;
        values[0] = amount;
        fv.n_values = features.n;
        fv.values = values;
        return view_input(v, VIEW_FEATURES, buf, fraud__feature_vector__pack(&fv, buf), NOW);
}

static int feed_verdict(struct view *v, const char *id, Fraud__ChargebackKind kind) {
        Fraud__Chargeback c = FRAUD__CHARGEBACK__INIT;
        uint8_t buf[512];

        c.schema_version = CHARGEBACK_SCHEMA_VERSION;
        c.transaction_id = (char *)id;
        c.chargeback_id = (char *)"elsewhere-1";
        c.event_time_us = NOW;
        c.kind = kind;
        return view_input(v, VIEW_CHARGEBACK, buf, fraud__chargeback__pack(&c, buf), NOW);
}

static size_t count_of(const char *text, const char *needle) {
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

START_TEST(test_view_review_score_opens_an_item_with_its_transaction_details) {
        struct view *v = view_make(10, 100);
        const struct queue_item *it;

        ck_assert_int_eq(feed_features(v, "tx-1", 12345), 0);
        ck_assert_int_eq(feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW), 0);
        ck_assert_int_eq(feed_score(v, "tx-2", FRAUD__DECISION__DECISION_ALLOW, 0.01, NOW), 0);
        ck_assert_uint_eq(queue_count(view_queue(v)), 1);
        it = queue_find(view_queue(v), "tx-1");
        ck_assert_ptr_nonnull(it);
        ck_assert(it->has_details);
        ck_assert_str_eq(it->details.merchant_id, "M-0042");
        ck_assert_str_eq(it->details.card_last4, "4242");
        ck_assert_str_eq(it->details.country, "FR");
        ck_assert_int_eq(it->details.channel, FRAUD__CHANNEL__CHANNEL_ECOMMERCE);
        ck_assert_int_eq(it->amount_minor, 12345);
        ck_assert_str_eq(it->gbdt_version, "v7");
        ck_assert_uint_eq(it->n_reasons, 2);
        ck_assert_str_eq(it->reasons[0], "device_hopping");
        view_free(v);
}
END_TEST

START_TEST(test_view_details_that_come_after_the_score_fill_the_item) {
        struct view *v = view_make(10, 100);
        const struct queue_item *it;

        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        it = queue_find(view_queue(v), "tx-1");
        ck_assert(!it->has_details);
        feed_features(v, "tx-1", 1);
        ck_assert(it->has_details);
        ck_assert_str_eq(it->details.terminal_id, "T-0042-1");
        view_free(v);
}
END_TEST

START_TEST(test_view_resent_score_counts_once) {
        struct view *v = view_make(10, 100);
        struct view_counters k;
        struct jsonout j;
        static char state[1 << 20];

        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        view_counters(v, &k);
        ck_assert_uint_eq(k.inputs[VIEW_SCORE], 2);
        ck_assert_uint_eq(k.duplicates, 1);
        ck_assert_uint_eq(k.rows_streamed, 1);
        jsonout_init(&j, state, sizeof(state));
        view_state(v, NOW, &j);
        ck_assert(jsonout_ok(&j));
        ck_assert_msg(strstr(state, "\"review\":1,") != NULL, "%s", state);
        view_free(v);
}
END_TEST

/* The verdict's Chargeback, field by field; then idempotence. */
START_TEST(test_view_verdict_makes_a_review_chargeback_and_closes_once) {
        struct view *v = view_make(10, 100);
        struct view_chargeback cb;
        enum queue_verdict prev;

        feed_features(v, "tx-1", 1);
        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        ck_assert_int_eq(view_review(v, "tx-1", QUEUE_VERDICT_FRAUD, NOW + 5, &cb, &prev),
                         VIEW_REVIEW_PUBLISH);
        ck_assert_int_eq(cb.msg.kind, FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD);
        ck_assert_str_eq(cb.msg.transaction_id, "tx-1");
        ck_assert_str_eq(cb.msg.chargeback_id, "review-tx-1");
        ck_assert_int_eq(cb.msg.event_time_us, NOW + 5);
        ck_assert_int_eq(cb.msg.transaction_time_us, TX + 1000);
        ck_assert_int_eq(cb.msg.amount_minor, 12345);
        ck_assert_str_eq(cb.msg.currency, "EUR");
        ck_assert_str_eq(cb.msg.card_hash, "c0ffee00c0ffee00c0ffee00c0ffee00");
        ck_assert_str_eq(cb.msg.merchant_id, "M-0042");
        ck_assert_str_eq(cb.msg.terminal_id, "T-0042-1");
        ck_assert_uint_eq(cb.msg.schema_version, CHARGEBACK_SCHEMA_VERSION);
        /* Not closed until the caller says it was delivered. */
        ck_assert_ptr_nonnull(queue_find(view_queue(v), "tx-1"));
        ck_assert_int_eq(view_review_commit(v, "tx-1", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_ptr_null(queue_find(view_queue(v), "tx-1"));
        ck_assert_int_eq(view_review(v, "tx-1", QUEUE_VERDICT_FRAUD, NOW, &cb, &prev),
                         VIEW_REVIEW_SAME);
        ck_assert_int_eq(view_review(v, "tx-1", QUEUE_VERDICT_LEGIT, NOW, &cb, &prev),
                         VIEW_REVIEW_CONFLICT);
        ck_assert_int_eq(prev, QUEUE_VERDICT_FRAUD);
        ck_assert_int_eq(view_review(v, "tx-9", QUEUE_VERDICT_LEGIT, NOW, &cb, &prev),
                         VIEW_REVIEW_UNKNOWN);
        ck_assert_int_eq(view_review(v, "tx-9", QUEUE_VERDICT_NONE, NOW, &cb, &prev), -EINVAL);
        view_free(v);
}
END_TEST

START_TEST(test_view_legit_verdict_has_its_kind_and_no_details_when_unseen) {
        struct view *v = view_make(10, 100);
        struct view_chargeback cb;
        enum queue_verdict prev;

        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        ck_assert_int_eq(view_review(v, "tx-1", QUEUE_VERDICT_LEGIT, NOW, &cb, &prev),
                         VIEW_REVIEW_PUBLISH);
        ck_assert_int_eq(cb.msg.kind, FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT);
        ck_assert_str_eq(cb.msg.merchant_id, "");
        view_free(v);
}
END_TEST

/* Another dashboard's verdict, read from chargebacks, closes the item; an
 * issuer chargeback does not. */
START_TEST(test_view_verdict_read_from_the_topic_closes_the_item) {
        struct view *v = view_make(10, 100);

        feed_score(v, "tx-1", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        feed_score(v, "tx-2", FRAUD__DECISION__DECISION_REVIEW, 0.6, NOW);
        ck_assert_int_eq(
                feed_verdict(v, "tx-1", FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT), 0);
        ck_assert_int_eq(
                feed_verdict(v, "tx-2", FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK), 0);
        ck_assert_ptr_null(queue_find(view_queue(v), "tx-1"));
        ck_assert_ptr_nonnull(queue_find(view_queue(v), "tx-2"));
        view_free(v);
}
END_TEST

START_TEST(test_view_rejects_and_counts_what_does_not_decode) {
        struct view *v = view_make(10, 100);
        const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
        struct view_counters k;

        ck_assert_int_eq(view_input(v, VIEW_SCORE, junk, sizeof(junk), NOW), -EBADMSG);
        ck_assert_int_eq(view_input(v, VIEW_LABEL, NULL, 0, NOW), -EBADMSG);
        ck_assert_int_eq(feed_score(v, "", FRAUD__DECISION__DECISION_REVIEW, 0.5, NOW), -EBADMSG);
        view_counters(v, &k);
        ck_assert_uint_eq(k.rejected[VIEW_SCORE], 2);
        ck_assert_uint_eq(k.rejected[VIEW_LABEL], 1);
        ck_assert_uint_eq(queue_count(view_queue(v)), 0);
        view_free(v);
}
END_TEST

/* At most stream_per_sec_max rows a second reach the page; the charts
 * still count every decision. */
START_TEST(test_view_rows_are_limited_per_second) {
        struct view *v = view_make(10, 10);
        struct view_counters k;
        const char *rows;
        char id[16];
        size_t len;

        for (int i = 0; i < 100; i++) {
                snprintf(id, sizeof(id), "tx-%d", i);
                feed_score(v, id, FRAUD__DECISION__DECISION_ALLOW, 0.01, NOW);
        }
        len = view_rows_take(v, &rows);
        ck_assert_uint_gt(len, 0);
        ck_assert_int_eq(rows[0], '[');
        ck_assert_int_eq(rows[len - 1], ']');
        ck_assert_uint_eq(count_of(rows, "\"id\":"), 10);
        ck_assert_uint_eq(view_rows_take(v, &rows), 0);
        ck_assert_ptr_null(rows);
        feed_score(v, "later", FRAUD__DECISION__DECISION_ALLOW, 0.01, NOW + 500000); /* +5 tokens */
        ck_assert_uint_eq(count_of((view_rows_take(v, &rows), rows), "\"id\":\"later\""), 1);
        view_counters(v, &k);
        ck_assert_uint_eq(k.rows_streamed, 11);
        ck_assert_uint_eq(k.rows_skipped, 90);
        view_free(v);
}
END_TEST

/* After the reference and the window, the state carries PSI values and the
 * features' names; a drifted amount is the worst feature. */
START_TEST(test_view_state_reports_drift_by_feature_name) {
        struct view *v = view_make(10, 100);
        static char state[1 << 20];
        struct jsonout j;
        char id[16];

        for (int i = 0; i < 200; i++) {
                snprintf(id, sizeof(id), "tx-%d", i);
                feed_features(v, id, i < 100 ? i % 50 : 1000 + i);
                feed_score(v, id, FRAUD__DECISION__DECISION_ALLOW, (i % 10) / 10.0, NOW);
        }
        jsonout_init(&j, state, sizeof(state));
        view_state(v, NOW, &j);
        ck_assert(jsonout_ok(&j));
        /* values[0] (card_count_1m here) drifted; every other feature is 0. */
        ck_assert_msg(strstr(state, "\"worst\":[{\"name\":\"card_count_1m\"") != NULL &&
                              strstr(state, "\"significant\":1}") != NULL,
                      "%.600s", strstr(state, "\"drift\""));
        ck_assert_ptr_nonnull(strstr(state, "\"status\":\"ready\""));
        ck_assert_ptr_nonnull(strstr(state, "\"band\":\"significant\""));
        view_free(v);
}
END_TEST

START_TEST(test_view_refuses_a_bad_config) {
        struct view_config c = {0};
        struct view *v;

        ck_assert_int_eq(view_new(&c, &v), -EINVAL);
        ck_assert_ptr_null(v);
        ck_assert_str_eq(view_decision_name(2), "REVIEW");
        ck_assert_str_eq(view_decision_name(99), "UNSPECIFIED");
        ck_assert_str_eq(view_stage_name(3), "neural");
        ck_assert_str_eq(view_channel_name(5), "atm");
}
END_TEST

TESTING_MAIN("view", test_view_review_score_opens_an_item_with_its_transaction_details,
             test_view_details_that_come_after_the_score_fill_the_item,
             test_view_resent_score_counts_once,
             test_view_verdict_makes_a_review_chargeback_and_closes_once,
             test_view_legit_verdict_has_its_kind_and_no_details_when_unseen,
             test_view_verdict_read_from_the_topic_closes_the_item,
             test_view_rejects_and_counts_what_does_not_decode,
             test_view_rows_are_limited_per_second, test_view_state_reports_drift_by_feature_name,
             test_view_refuses_a_bad_config)
