/* Tests for proto/: every edge message survives an encode/decode round trip
 * with its schema version and transaction id, and nested messages (Label
 * carries the FeatureVector, which carries the Transaction) come back whole. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chargeback.pb-c.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/label.pb-c.h"
#include "proto/model.pb-c.h"
#include "proto/score.pb-c.h"
#include "proto/transaction.pb-c.h"

#include "tests/testing.h"

/* Packs any message, unpacks it with the same descriptor, returns the copy. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *m) {
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n ? n : 1);
        ProtobufCMessage *back;

        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(protobuf_c_message_pack(m, buf), n);
        back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
        free(buf);
        ck_assert_ptr_nonnull(back);
        return back;
}

static void fill_transaction(Fraud__Transaction *t) {
        fraud__transaction__init(t);
        t->schema_version = 1;
        t->transaction_id = (char *)"tx-000001";
        t->event_time_us = INT64_C(1767225600123456);
        t->amount_minor = 123456;
        t->currency = (char *)"EUR";
        t->card_hash = (char *)"9f86d081884c7d65";
        t->card_last4 = (char *)"4242";
        t->card_bin = (char *)"411111";
        t->mcc = 5411;
        t->country = (char *)"FR";
        t->channel = FRAUD__CHANNEL__CHANNEL_ECOMMERCE;
        t->ip = (char *)"192.0.2.7";
}

START_TEST(test_proto_transaction_round_trips_every_field) {
        Fraud__Transaction t;
        fill_transaction(&t);
        Fraud__Transaction *b = (Fraud__Transaction *)round_trip(&t.base);

        ck_assert_uint_eq(b->schema_version, 1);
        ck_assert_str_eq(b->transaction_id, "tx-000001");
        ck_assert_int_eq(b->event_time_us, INT64_C(1767225600123456));
        ck_assert_int_eq(b->amount_minor, 123456);
        ck_assert_str_eq(b->currency, "EUR");
        ck_assert_str_eq(b->card_last4, "4242");
        ck_assert_uint_eq(b->mcc, 5411);
        ck_assert_int_eq(b->channel, FRAUD__CHANNEL__CHANNEL_ECOMMERCE);
        ck_assert_str_eq(b->ip, "192.0.2.7");
        ck_assert_str_eq(b->device_id, ""); /* proto3 default */
        fraud__transaction__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_proto_label_carries_feature_row_and_known_at) {
        Fraud__Transaction t;
        Fraud__FeatureVector fv;
        Fraud__Label l;
        double values[] = {1.0, 0.25, -3.5, 1e300};

        fill_transaction(&t);
        fraud__feature_vector__init(&fv);
        fv.schema_version = 1;
        fv.transaction_id = t.transaction_id;
        fv.transaction = &t;
        fv.feature_schema_hash = UINT64_C(0xfeedfacecafebeef);
        fv.n_values = 4;
        fv.values = values;
        fraud__label__init(&l);
        l.schema_version = 1;
        l.transaction_id = t.transaction_id;
        l.features = &fv;
        l.value = FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD;
        l.status = FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED;
        l.decision = FRAUD__DECISION__DECISION_ALLOW;
        l.known_at_us = t.event_time_us + 86400000000LL * 40;

        Fraud__Label *b = (Fraud__Label *)round_trip(&l.base);
        ck_assert_str_eq(b->transaction_id, "tx-000001");
        ck_assert_ptr_nonnull(b->features);
        ck_assert_ptr_nonnull(b->features->transaction);
        ck_assert_str_eq(b->features->transaction->currency, "EUR");
        ck_assert_uint_eq(b->features->feature_schema_hash, UINT64_C(0xfeedfacecafebeef));
        ck_assert_uint_eq(b->features->n_values, 4);
        for (int i = 0; i < 4; i++)
                ck_assert(b->features->values[i] == values[i]);
        ck_assert_int_eq(b->status, FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED);
        ck_assert_int_eq(b->known_at_us, l.known_at_us);
        fraud__label__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_proto_score_keeps_reason_codes_in_order) {
        Fraud__Score s;
        char *reasons[] = {(char *)"rule:deny_bin", (char *)"gbdt:amount_rel_30d"};

        fraud__score__init(&s);
        s.schema_version = 1;
        s.transaction_id = (char *)"tx-9";
        s.decision = FRAUD__DECISION__DECISION_BLOCK;
        s.stage = FRAUD__STAGE__STAGE_NEURAL;
        s.probability = 0.8125;
        s.n_reason_codes = 2;
        s.reason_codes = reasons;
        s.degraded = 1;
        s.gbdt_latency_ns = 4321;
        Fraud__Score *b = (Fraud__Score *)round_trip(&s.base);
        ck_assert_int_eq(b->decision, FRAUD__DECISION__DECISION_BLOCK);
        ck_assert_int_eq(b->stage, FRAUD__STAGE__STAGE_NEURAL);
        ck_assert(b->probability == 0.8125);
        ck_assert_uint_eq(b->n_reason_codes, 2);
        ck_assert_str_eq(b->reason_codes[1], "gbdt:amount_rel_30d");
        ck_assert(b->degraded);
        ck_assert_uint_eq(b->gbdt_latency_ns, 4321);
        fraud__score__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_proto_dead_letter_keeps_original_bytes_with_nul) {
        Fraud__DeadLetter d;
        uint8_t raw[] = {'{', 0, 0xff, '}'};

        fraud__dead_letter__init(&d);
        d.schema_version = 1;
        d.stage = (char *)"ingest";
        d.reason_code = (char *)"bad_json";
        d.original.len = sizeof(raw);
        d.original.data = raw;
        d.source_offset = 42;
        Fraud__DeadLetter *b = (Fraud__DeadLetter *)round_trip(&d.base);
        ck_assert_uint_eq(b->original.len, 4);
        ck_assert(memcmp(b->original.data, raw, 4) == 0);
        ck_assert_str_eq(b->reason_code, "bad_json");
        ck_assert_int_eq(b->source_offset, 42);
        fraud__dead_letter__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_proto_chargeback_and_model_round_trip) {
        Fraud__Chargeback c;
        Fraud__ModelAnnouncement m;
        char *names[] = {(char *)"card_count_1h", (char *)"amount_minor"};

        fraud__chargeback__init(&c);
        c.schema_version = 1;
        c.transaction_id = (char *)"tx-5";
        c.kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT;
        c.merchant_id = (char *)"m-17";
        Fraud__Chargeback *cb = (Fraud__Chargeback *)round_trip(&c.base);
        ck_assert_int_eq(cb->kind, FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT);
        ck_assert_str_eq(cb->merchant_id, "m-17");
        fraud__chargeback__free_unpacked(cb, NULL);

        fraud__model_announcement__init(&m);
        m.schema_version = 1;
        m.model_version = (char *)"2026-02-01.1";
        m.n_feature_names = 2;
        m.feature_names = names;
        m.band_low = 0.2;
        m.band_high = 0.6;
        Fraud__ModelAnnouncement *mb = (Fraud__ModelAnnouncement *)round_trip(&m.base);
        ck_assert_str_eq(mb->model_version, "2026-02-01.1");
        ck_assert_uint_eq(mb->n_feature_names, 2);
        ck_assert_str_eq(mb->feature_names[0], "card_count_1h");
        ck_assert(mb->band_high == 0.6);
        fraud__model_announcement__free_unpacked(mb, NULL);
}
END_TEST

START_TEST(test_proto_truncated_bytes_are_rejected) {
        Fraud__Transaction t;
        uint8_t buf[256];
        size_t n;

        fill_transaction(&t);
        n = fraud__transaction__pack(&t, buf);
        ck_assert_uint_gt(n, 10);
        ck_assert_ptr_null(fraud__transaction__unpack(NULL, n - 3, buf));
}
END_TEST

TESTING_MAIN("proto", test_proto_transaction_round_trips_every_field,
             test_proto_label_carries_feature_row_and_known_at,
             test_proto_score_keeps_reason_codes_in_order,
             test_proto_dead_letter_keeps_original_bytes_with_nul,
             test_proto_chargeback_and_model_round_trip, test_proto_truncated_bytes_are_rejected)
