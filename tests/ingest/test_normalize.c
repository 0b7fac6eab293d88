/* Tests for ingest/normalize.c: every field rule, every rejection reason,
 * exact minor units for every currency of the table the issue names, and
 * the card number kept out of the output. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/schema.h"
#include "ingest/normalize.h"
#include "lib/time.h"
#include "tests/testing.h"

#define KEY_HEX  "000102030405060708090a0b0c0d0e0f"
#define GOOD_PAN "4147008301893185"

static const char *const good[NORMALIZE_FIELD_COUNT] = {
        [NORMALIZE_FIELD_TRANSACTION_ID] = "tx_1_000000000001",
        [NORMALIZE_FIELD_TIMESTAMP] = "2026-01-01T08:15:02.123Z",
        [NORMALIZE_FIELD_AMOUNT] = "63.89",
        [NORMALIZE_FIELD_CURRENCY] = "EUR",
        [NORMALIZE_FIELD_PAN] = GOOD_PAN,
        [NORMALIZE_FIELD_CUSTOMER_ID] = "C00005906",
        [NORMALIZE_FIELD_MERCHANT_ID] = "M0000504",
        [NORMALIZE_FIELD_TERMINAL_ID] = "M0000504-01",
        [NORMALIZE_FIELD_MCC] = "5999",
        [NORMALIZE_FIELD_COUNTRY] = "IT",
        [NORMALIZE_FIELD_CHANNEL] = "ecommerce",
        [NORMALIZE_FIELD_DEVICE_ID] = "9ec15c34d15e1264",
        [NORMALIZE_FIELD_IP] = "73.117.5.56",
};

static struct normalize_input in;
static struct normalize_tx tx;
static struct normalize_rejection rej;
static struct normalize_key key;

static void set(enum normalize_field f, enum normalize_kind kind, const char *text) {
        in.fields[f] = (struct normalize_value){kind, text, text ? strlen(text) : 0};
}

/* The good record, with nothing overridden. */
static void reset(void) {
        memset(&in, 0, sizeof(in));
        for (int f = 0; f < NORMALIZE_FIELD_COUNT; f++)
                set(f, NORMALIZE_TEXT, good[f]);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
}

static int run(void) {
        return normalize_record(&in, &key, &tx, &rej);
}

START_TEST(test_normalize_accepts_simulator_record_field_by_field) {
        int64_t t;

        reset();
        ck_assert_int_eq(run(), 0);
        ck_assert_int_eq(rej.reason, NORMALIZE_OK);
        ck_assert_int_eq(fraud_time_parse_iso8601("2026-01-01T08:15:02.123Z", &t), 0);
        ck_assert_uint_eq(tx.msg.schema_version, TRANSACTION_SCHEMA_VERSION);
        ck_assert_str_eq(tx.msg.transaction_id, "tx_1_000000000001");
        ck_assert_int_eq(tx.msg.event_time_us, t);
        ck_assert_int_eq(tx.msg.amount_minor, 6389);
        ck_assert_str_eq(tx.msg.currency, "EUR");
        ck_assert_uint_eq(strlen(tx.msg.card_hash), 32);
        ck_assert_uint_eq(strspn(tx.msg.card_hash, "0123456789abcdef"), 32);
        ck_assert_str_eq(tx.msg.card_bin, "414700");
        ck_assert_str_eq(tx.msg.card_last4, "3185");
        ck_assert_str_eq(tx.msg.customer_id, "C00005906");
        ck_assert_str_eq(tx.msg.merchant_id, "M0000504");
        ck_assert_str_eq(tx.msg.terminal_id, "M0000504-01");
        ck_assert_uint_eq(tx.msg.mcc, 5999);
        ck_assert_str_eq(tx.msg.country, "IT");
        ck_assert_int_eq(tx.msg.channel, FRAUD__CHANNEL__CHANNEL_ECOMMERCE);
        /* the device id's keyed hash, not the id */
        ck_assert_uint_eq(strlen(tx.msg.device_id), 16);
        ck_assert_uint_eq(strspn(tx.msg.device_id, "0123456789abcdef"), 16);
        ck_assert_str_ne(tx.msg.device_id, "9ec15c34d15e1264");
        ck_assert_str_eq(tx.msg.ip, "73.117.5.56");
        ck_assert_int_eq(tx.msg.ingest_time_us, 0);
}
END_TEST

START_TEST(test_normalize_maps_every_channel_in_any_case) {
        static const struct {
                const char *name;
                Fraud__Channel ch;
        } v[] = {
                {"card_present", FRAUD__CHANNEL__CHANNEL_CARD_PRESENT},
                {"contactless", FRAUD__CHANNEL__CHANNEL_CONTACTLESS},
                {"ecommerce", FRAUD__CHANNEL__CHANNEL_ECOMMERCE},
                {"moto", FRAUD__CHANNEL__CHANNEL_MOTO},
                {"ATM", FRAUD__CHANNEL__CHANNEL_ATM},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                reset();
                set(NORMALIZE_FIELD_CHANNEL, NORMALIZE_TEXT, v[i].name);
                ck_assert_int_eq(run(), 0);
                ck_assert_int_eq(tx.msg.channel, v[i].ch);
        }
}
END_TEST

START_TEST(test_normalize_converts_amounts_to_exact_minor_units) {
        static const struct {
                const char *amount, *currency;
                int64_t minor;
        } v[] = {
                {"63.89", "EUR", 6389},     {"1200", "JPY", 1200},
                {"1.5", "EUR", 150},        {"0.01", "USD", 1},
                {"1200.00", "JPY", 1200},   {"007.10", "GBP", 710},
                {"19.99", "CHF", 1999},     {"250", "SEK", 25000},
                {"99.9", "NOK", 9990},      {"10.05", "DKK", 1005},
                {"1.23", "PLN", 123},       {"500", "CZK", 50000},
                {"1000", "HUF", 100000},    {"12.34", "CAD", 1234},
                {"0.5", "AUD", 50},         {"79.90", "BRL", 7990},
                {"1500.50", "MXN", 150050}, {"999", "INR", 99900},
                {"88.8", "cny", 8880},      {"1.234", "BHD", 1234},
                {"0.10", "USD", 10},        {"9999999999999.99", "EUR", INT64_C(999999999999999)},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                reset();
                set(NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, v[i].amount);
                set(NORMALIZE_FIELD_CURRENCY, NORMALIZE_TEXT, v[i].currency);
                ck_assert_msg(run() == 0, "%s %s: %s", v[i].amount, v[i].currency, rej.detail);
                ck_assert_int_eq(tx.msg.amount_minor, v[i].minor);
        }
}
END_TEST

START_TEST(test_normalize_takes_json_numbers_for_amount_and_mcc) {
        reset();
        set(NORMALIZE_FIELD_AMOUNT, NORMALIZE_NUMBER, "63.89");
        set(NORMALIZE_FIELD_MCC, NORMALIZE_NUMBER, "742");
        ck_assert_int_eq(run(), 0);
        ck_assert_int_eq(tx.msg.amount_minor, 6389);
        ck_assert_uint_eq(tx.msg.mcc, 742);
}
END_TEST

/* One case per rejection: a field overridden (kind ABSENT removes it). */
static const struct reject_case {
        const char *name;
        enum normalize_field field;
        enum normalize_kind kind;
        const char *text;
        enum normalize_reason reason;
} reject_cases[] = {
        {"no transaction id", NORMALIZE_FIELD_TRANSACTION_ID, NORMALIZE_ABSENT, NULL,
         NORMALIZE_MISSING_FIELD},
        {"empty merchant", NORMALIZE_FIELD_MERCHANT_ID, NORMALIZE_TEXT, "",
         NORMALIZE_MISSING_FIELD},
        {"no pan", NORMALIZE_FIELD_PAN, NORMALIZE_ABSENT, NULL, NORMALIZE_MISSING_FIELD},
        {"boolean amount", NORMALIZE_FIELD_AMOUNT, NORMALIZE_BOOL, "true", NORMALIZE_BAD_TYPE},
        {"numeric country", NORMALIZE_FIELD_COUNTRY, NORMALIZE_NUMBER, "380", NORMALIZE_BAD_TYPE},
        {"id with space", NORMALIZE_FIELD_TRANSACTION_ID, NORMALIZE_TEXT, "tx 1",
         NORMALIZE_BAD_TRANSACTION_ID},
        {"id too long", NORMALIZE_FIELD_TRANSACTION_ID, NORMALIZE_TEXT,
         "tx_0123456789012345678901234567890123456789012345678901234567890123456789",
         NORMALIZE_BAD_TRANSACTION_ID},
        {"day 32", NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "2026-01-32T00:00:00Z",
         NORMALIZE_BAD_TIMESTAMP},
        {"not a time", NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "yesterday",
         NORMALIZE_BAD_TIMESTAMP},
        {"before 1970", NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "1969-12-31T23:59:59Z",
         NORMALIZE_BAD_TIMESTAMP},
        {"year 2200", NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "2200-01-01T00:00:00Z",
         NORMALIZE_BAD_TIMESTAMP},
        {"unknown currency", NORMALIZE_FIELD_CURRENCY, NORMALIZE_TEXT, "XYZ",
         NORMALIZE_UNKNOWN_CURRENCY},
        {"currency of 4 letters", NORMALIZE_FIELD_CURRENCY, NORMALIZE_TEXT, "EURO",
         NORMALIZE_UNKNOWN_CURRENCY},
        {"amount with comma", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "63,89",
         NORMALIZE_BAD_AMOUNT},
        {"amount with exponent", NORMALIZE_FIELD_AMOUNT, NORMALIZE_NUMBER, "6.389e1",
         NORMALIZE_BAD_AMOUNT},
        {"amount with plus", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "+5", NORMALIZE_BAD_AMOUNT},
        {"amount ends in dot", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "5.", NORMALIZE_BAD_AMOUNT},
        {"amount two dots", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "5.0.1", NORMALIZE_BAD_AMOUNT},
        {"negative amount", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "-63.89",
         NORMALIZE_AMOUNT_NOT_POSITIVE},
        {"zero amount", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "0.00",
         NORMALIZE_AMOUNT_NOT_POSITIVE},
        {"three decimals in EUR", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "1.234",
         NORMALIZE_AMOUNT_TOO_PRECISE},
        {"amount over the limit", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "10000000000000",
         NORMALIZE_AMOUNT_OVERFLOW},
        {"amount past int64", NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "99999999999999999999999",
         NORMALIZE_AMOUNT_OVERFLOW},
        {"pan with letters", NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "4147a08301893185",
         NORMALIZE_BAD_PAN},
        {"pan of 12 digits", NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "414700830189",
         NORMALIZE_BAD_PAN},
        {"pan of 20 digits", NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "41470083018931850000",
         NORMALIZE_BAD_PAN},
        {"pan with spaces", NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "4147 0083 0189 3185",
         NORMALIZE_BAD_PAN},
        {"pan Luhn", NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "4147008301893186",
         NORMALIZE_PAN_CHECKSUM},
        {"customer with tab", NORMALIZE_FIELD_CUSTOMER_ID, NORMALIZE_TEXT, "C\t1",
         NORMALIZE_BAD_CUSTOMER_ID},
        {"merchant non-ASCII", NORMALIZE_FIELD_MERCHANT_ID, NORMALIZE_TEXT, "M\xc3\xa9",
         NORMALIZE_BAD_MERCHANT_ID},
        {"terminal with space", NORMALIZE_FIELD_TERMINAL_ID, NORMALIZE_TEXT, "T 1",
         NORMALIZE_BAD_TERMINAL_ID},
        {"no terminal", NORMALIZE_FIELD_TERMINAL_ID, NORMALIZE_ABSENT, NULL,
         NORMALIZE_MISSING_FIELD},
        {"mcc of 3 digits", NORMALIZE_FIELD_MCC, NORMALIZE_TEXT, "599", NORMALIZE_BAD_MCC},
        {"mcc 0000", NORMALIZE_FIELD_MCC, NORMALIZE_TEXT, "0000", NORMALIZE_BAD_MCC},
        {"mcc letters", NORMALIZE_FIELD_MCC, NORMALIZE_TEXT, "59a9", NORMALIZE_BAD_MCC},
        {"mcc number too big", NORMALIZE_FIELD_MCC, NORMALIZE_NUMBER, "10000", NORMALIZE_BAD_MCC},
        {"country UK", NORMALIZE_FIELD_COUNTRY, NORMALIZE_TEXT, "UK", NORMALIZE_UNKNOWN_COUNTRY},
        {"country ITA", NORMALIZE_FIELD_COUNTRY, NORMALIZE_TEXT, "ITA", NORMALIZE_UNKNOWN_COUNTRY},
        {"channel pos", NORMALIZE_FIELD_CHANNEL, NORMALIZE_TEXT, "pos", NORMALIZE_UNKNOWN_CHANNEL},
        {"device with space", NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_TEXT, "dev 1",
         NORMALIZE_BAD_DEVICE_ID},
        {"ip of 5 parts", NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "1.2.3.4.5", NORMALIZE_BAD_IP},
        {"ip 256", NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "256.1.1.1", NORMALIZE_BAD_IP},
        {"ipv6 two gaps", NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "2001::db8::1", NORMALIZE_BAD_IP},
        {"ip a name", NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "localhost", NORMALIZE_BAD_IP},
};

START_TEST(test_normalize_rejects_each_case_with_its_reason) {
        const struct reject_case *c = &reject_cases[_i];

        reset();
        set(c->field, c->kind, c->text);
        ck_assert_msg(run() == -EBADMSG, "%s: accepted", c->name);
        ck_assert_msg(rej.reason == c->reason, "%s: got %s (%s), want %s", c->name,
                      normalize_reason_code(rej.reason), rej.detail,
                      normalize_reason_code(c->reason));
        ck_assert_msg(rej.detail[0] != '\0', "%s: no detail", c->name);
        ck_assert_msg(strstr(rej.detail, GOOD_PAN) == NULL, "%s: detail quotes the pan", c->name);
}
END_TEST

START_TEST(test_normalize_reject_cases_cover_every_field_reason) {
        for (int r = NORMALIZE_MISSING_FIELD; r < NORMALIZE_REASON_COUNT; r++) {
                bool covered = false;
                for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++)
                        covered |= reject_cases[i].reason == (enum normalize_reason)r;
                ck_assert_msg(covered, "no case for %s", normalize_reason_code(r));
        }
}
END_TEST

START_TEST(test_normalize_pan_never_appears_in_the_message_bytes) {
        uint8_t buf[1024];
        size_t n;

        reset();
        ck_assert_int_eq(run(), 0);
        n = fraud__transaction__pack(&tx.msg, buf);
        ck_assert_uint_lt(n, sizeof(buf));
        ck_assert_ptr_null(memmem(buf, n, GOOD_PAN, strlen(GOOD_PAN)));
        ck_assert_ptr_null(memmem(buf, n, GOOD_PAN + 6, 6)); /* the hidden middle digits */
}
END_TEST

START_TEST(test_normalize_card_hash_is_stable_and_depends_on_key_and_pan) {
        char first[33], other_key[33];

        reset();
        ck_assert_int_eq(run(), 0);
        memcpy(first, tx.card_hash, 33);
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.card_hash, first);
        ck_assert_int_eq(normalize_key_parse("ffffffffffffffffffffffffffffffff", &key), 0);
        ck_assert_int_eq(run(), 0);
        memcpy(other_key, tx.card_hash, 33);
        ck_assert_str_ne(other_key, first);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
        set(NORMALIZE_FIELD_PAN, NORMALIZE_TEXT, "4111111111111111");
        ck_assert_int_eq(run(), 0);
        ck_assert_str_ne(tx.card_hash, first);
}
END_TEST

START_TEST(test_normalize_device_hash_is_stable_keyed_and_never_the_card_hash) {
        char first[17];

        reset();
        ck_assert_int_eq(run(), 0);
        memcpy(first, tx.msg.device_id, 17);
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.device_id, first);
        /* another key, another hash */
        ck_assert_int_eq(normalize_key_parse("ffffffffffffffffffffffffffffffff", &key), 0);
        ck_assert_int_eq(run(), 0);
        ck_assert_str_ne(tx.msg.device_id, first);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
        /* another device, another hash */
        set(NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_TEXT, "9ec15c34d15e1265");
        ck_assert_int_eq(run(), 0);
        ck_assert_str_ne(tx.msg.device_id, first);
        /* a device id equal to the card number still hashes apart from it */
        set(NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_TEXT, GOOD_PAN);
        ck_assert_int_eq(run(), 0);
        ck_assert(strncmp(tx.msg.device_id, tx.msg.card_hash, 16) != 0);
        /* no device, no hash */
        set(NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_ABSENT, NULL);
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.device_id, "");
}
END_TEST

START_TEST(test_normalize_key_parse_takes_only_32_hex_digits) {
        struct normalize_key k;

        ck_assert_int_eq(normalize_key_parse("000102030405060708090A0B0C0D0E0F", &k), 0);
        ck_assert_uint_eq(k.bytes[10], 0x0a);
        ck_assert_uint_eq(k.bytes[15], 0x0f);
        ck_assert_int_eq(normalize_key_parse("", &k), -EINVAL);
        ck_assert_int_eq(normalize_key_parse("000102030405060708090a0b0c0d0e0", &k), -EINVAL);
        ck_assert_int_eq(normalize_key_parse("000102030405060708090a0b0c0d0e0g", &k), -EINVAL);
}
END_TEST

START_TEST(test_normalize_tables_hold_assigned_codes_only) {
        static const char *const required[] = {"EUR", "USD", "GBP", "JPY", "CHF", "SEK",
                                               "NOK", "DKK", "PLN", "CZK", "HUF", "CAD",
                                               "AUD", "BRL", "MXN", "INR", "CNY"};

        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
                ck_assert_msg(normalize_currency_decimals(required[i]) >= 0, "%s", required[i]);
        ck_assert_int_eq(normalize_currency_decimals("JPY"), 0);
        ck_assert_int_eq(normalize_currency_decimals("KWD"), 3);
        ck_assert_int_eq(normalize_currency_decimals("AED"), 2); /* the table's ends */
        ck_assert_int_eq(normalize_currency_decimals("ZAR"), 2);
        ck_assert_int_eq(normalize_currency_decimals("AAA"), -1);
        ck_assert_int_eq(normalize_currency_decimals("ZZZ"), -1);
        ck_assert_int_eq(normalize_currency_decimals("eur"), -1);
        ck_assert_uint_eq(normalize_country_count(), 249);
        ck_assert(normalize_country_known("AD"));
        ck_assert(normalize_country_known("IT"));
        ck_assert(normalize_country_known("ZW"));
        ck_assert(!normalize_country_known("UK"));
        ck_assert(!normalize_country_known("XX"));
        ck_assert(!normalize_country_known("I"));
}
END_TEST

START_TEST(test_normalize_luhn_accepts_valid_and_rejects_one_digit_off) {
        ck_assert(normalize_luhn_valid("79927398713", 11));
        ck_assert(!normalize_luhn_valid("79927398710", 11));
        ck_assert(normalize_luhn_valid(GOOD_PAN, 16));
        ck_assert(!normalize_luhn_valid("4147008301893195", 16));
}
END_TEST

START_TEST(test_normalize_mask_pans_keeps_bin_and_last_four) {
        char s[] = "{\"pan\":\"4147008301893185\",\"n\":\"123456789012\",\"m\":"
                   "\"12345678901234567890\"}";

        normalize_mask_pans(s, strlen(s));
        ck_assert_str_eq(s, "{\"pan\":\"414700******3185\",\"n\":\"123456789012\","
                            "\"m\":\"12345678901234567890\"}");
}
END_TEST

START_TEST(test_normalize_reads_epoch_timestamps_in_each_unit) {
        static const struct {
                enum normalize_time_format fmt;
                const char *text;
        } v[] = {
                {NORMALIZE_TIME_EPOCH_S, "1767255302"},
                {NORMALIZE_TIME_EPOCH_MS, "1767255302000"},
                {NORMALIZE_TIME_EPOCH_US, "1767255302000000"},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                reset();
                in.time_format = v[i].fmt;
                set(NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, v[i].text);
                ck_assert_int_eq(run(), 0);
                ck_assert_int_eq(tx.msg.event_time_us, INT64_C(1767255302000000));
        }
        in.time_format = NORMALIZE_TIME_EPOCH_S;
        set(NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "99999999999999999");
        ck_assert_int_eq(run(), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_TIMESTAMP);
        set(NORMALIZE_FIELD_TIMESTAMP, NORMALIZE_TEXT, "2026-01-01");
        ck_assert_int_eq(run(), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_TIMESTAMP);
}
END_TEST

START_TEST(test_normalize_writes_ip_in_canonical_form_and_allows_none) {
        reset();
        set(NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "2001:DB8:0:0::1");
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.ip, "2001:db8::1");
        set(NORMALIZE_FIELD_IP, NORMALIZE_TEXT, "");
        set(NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_ABSENT, NULL);
        set(NORMALIZE_FIELD_CUSTOMER_ID, NORMALIZE_ABSENT, NULL);
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.ip, "");
        ck_assert_str_eq(tx.msg.device_id, "");
        ck_assert_str_eq(tx.msg.customer_id, "");
}
END_TEST

START_TEST(test_normalize_uses_default_currency_only_when_none_given) {
        reset();
        in.default_currency = "JPY";
        set(NORMALIZE_FIELD_CURRENCY, NORMALIZE_TEXT, "");
        set(NORMALIZE_FIELD_AMOUNT, NORMALIZE_TEXT, "1200");
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.currency, "JPY");
        ck_assert_int_eq(tx.msg.amount_minor, 1200);
        set(NORMALIZE_FIELD_CURRENCY, NORMALIZE_TEXT, "EUR");
        ck_assert_int_eq(run(), 0);
        ck_assert_str_eq(tx.msg.currency, "EUR");
        ck_assert_int_eq(tx.msg.amount_minor, 120000);
}
END_TEST

int main(void) {
        Suite *s = suite_create("normalize");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 0);
        tcase_add_test(tc, test_normalize_accepts_simulator_record_field_by_field);
        tcase_add_test(tc, test_normalize_maps_every_channel_in_any_case);
        tcase_add_test(tc, test_normalize_converts_amounts_to_exact_minor_units);
        tcase_add_test(tc, test_normalize_takes_json_numbers_for_amount_and_mcc);
        tcase_add_loop_test(tc, test_normalize_rejects_each_case_with_its_reason, 0,
                            (int)(sizeof(reject_cases) / sizeof(reject_cases[0])));
        tcase_add_test(tc, test_normalize_reject_cases_cover_every_field_reason);
        tcase_add_test(tc, test_normalize_pan_never_appears_in_the_message_bytes);
        tcase_add_test(tc, test_normalize_card_hash_is_stable_and_depends_on_key_and_pan);
        tcase_add_test(tc, test_normalize_device_hash_is_stable_keyed_and_never_the_card_hash);
        tcase_add_test(tc, test_normalize_key_parse_takes_only_32_hex_digits);
        tcase_add_test(tc, test_normalize_tables_hold_assigned_codes_only);
        tcase_add_test(tc, test_normalize_luhn_accepts_valid_and_rejects_one_digit_off);
        tcase_add_test(tc, test_normalize_mask_pans_keeps_bin_and_last_four);
        tcase_add_test(tc, test_normalize_reads_epoch_timestamps_in_each_unit);
        tcase_add_test(tc, test_normalize_writes_ip_in_canonical_form_and_allows_none);
        tcase_add_test(tc, test_normalize_uses_default_currency_only_when_none_given);
        suite_add_tcase(s, tc);
        return testing_run(s);
}
