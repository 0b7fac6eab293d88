/* Tests for ingest/rawjson.c: the strict flat JSON object parser. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ingest/rawjson.h"
#include "tests/testing.h"

static struct rawjson_object obj;
static char detail[128];

static enum rawjson_error parse_n(const char *s, size_t len) {
        enum rawjson_error e;
        int rc = rawjson_parse(&obj, s, len, &e, detail, sizeof(detail));

        ck_assert_int_eq(rc == 0, e == RAWJSON_OK);
        if (rc < 0)
                ck_assert_msg(detail[0] != '\0', "no detail for %s", s);
        return e;
}

static enum rawjson_error parse(const char *s) {
        return parse_n(s, strlen(s));
}

/* Each of cases (a NULL-terminated list) must fail, or pass, with want. */
static void expect_all(enum rawjson_error want, const char *const *cases) {
        for (size_t i = 0; cases[i]; i++)
                ck_assert_msg(parse(cases[i]) == want, "case %zu: %s", i, cases[i]);
}

START_TEST(test_rawjson_reads_simulator_record) {
        const char *s = "{\"transaction_id\":\"tx_1\",\"timestamp\":\"2026-01-01T08:15:02.123Z\","
                        "\"amount\":\"63.89\",\"device_id\":\"\",\"is_fraud\":0}";
        const struct rawjson_member *m;

        ck_assert_int_eq(parse(s), RAWJSON_OK);
        ck_assert_uint_eq(obj.count, 5);
        m = rawjson_find(&obj, "amount");
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(m->kind, RAWJSON_STRING);
        ck_assert_str_eq(m->value, "63.89");
        m = rawjson_find(&obj, "is_fraud");
        ck_assert_int_eq(m->kind, RAWJSON_NUMBER);
        ck_assert_str_eq(m->value, "0");
        ck_assert_uint_eq(rawjson_find(&obj, "device_id")->value_len, 0);
        ck_assert_ptr_null(rawjson_find(&obj, "pan"));
}
END_TEST

START_TEST(test_rawjson_decodes_every_escape) {
        ck_assert_int_eq(parse("{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"), RAWJSON_OK);
        ck_assert_str_eq(obj.members[0].value, "\"\\/\b\f\n\r\t");
        ck_assert_int_eq(parse("{\"k\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"}"), RAWJSON_OK);
        ck_assert_str_eq(obj.members[0].value, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(test_rawjson_rejects_bad_escapes) {
        static const char *const bad[] = {
                "{\"k\":\"\\x41\"}",
                "{\"k\":\"\\u12g4\"}",
                "{\"k\":\"\\ud83d\"}",
                "{\"k\":\"\\ud83d\\u0041\"}",
                "{\"k\":\"\\ude00\"}",
                "{\"k\":\"\\u0000\"}",
                NULL,
        };

        expect_all(RAWJSON_ERR_ESCAPE, bad);
}
END_TEST

START_TEST(test_rawjson_accepts_raw_multibyte_utf8) {
        ck_assert_int_eq(parse("{\"k\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"),
                         RAWJSON_OK);
        ck_assert_str_eq(obj.members[0].value, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(test_rawjson_rejects_invalid_utf8) {
        const char *bad[] = {
                "{\"k\":\"\xc0\xaf\"}",         /* overlong '/' */
                "{\"k\":\"\xe0\x80\xaf\"}",     /* overlong, three bytes */
                "{\"k\":\"\x80\"}",             /* lone continuation */
                "{\"k\":\"\xed\xa0\x80\"}",     /* UTF-16 surrogate */
                "{\"k\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
                "{\"k\":\"\xe2\x82\"}",         /* cut sequence */
                "{\"k\":\"\xff\"}",
                "{\"k\xc3\":\"v\"}", /* in a key */
                NULL,
        };

        expect_all(RAWJSON_ERR_UTF8, bad);
}
END_TEST

START_TEST(test_rawjson_rejects_duplicate_keys_even_when_escaped) {
        ck_assert_int_eq(parse("{\"a\":\"1\",\"b\":2,\"a\":\"3\"}"), RAWJSON_ERR_DUPLICATE);
        ck_assert_int_eq(parse("{\"a\":\"1\",\"\\u0061\":\"3\"}"), RAWJSON_ERR_DUPLICATE);
}
END_TEST

START_TEST(test_rawjson_reports_every_proper_prefix_as_truncated) {
        const char *s = "{\"a\" : \"b\\u00e9\", \"n\": -12.5e3, \"t\": true, \"z\": null}";

        ck_assert_int_eq(parse(s), RAWJSON_OK);
        for (size_t len = 1; len < strlen(s); len++)
                ck_assert_msg(parse_n(s, len) == RAWJSON_ERR_TRUNCATED, "prefix of %zu bytes", len);
}
END_TEST

START_TEST(test_rawjson_rejects_nesting) {
        ck_assert_int_eq(parse("{\"a\":{\"b\":1}}"), RAWJSON_ERR_NESTED);
        ck_assert_int_eq(parse("{\"a\":[1,2]}"), RAWJSON_ERR_NESTED);
}
END_TEST

START_TEST(test_rawjson_keeps_numbers_as_text_and_rejects_bad_ones) {
        static const char *const bad[] = {"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
                                          "{\"a\":1e}", "{\"a\":-x}", NULL};

        ck_assert_int_eq(parse("{\"a\":-0.5e+3,\"b\":0,\"c\":63.89}"), RAWJSON_OK);
        ck_assert_str_eq(obj.members[0].value, "-0.5e+3");
        ck_assert_str_eq(obj.members[2].value, "63.89");
        expect_all(RAWJSON_ERR_SYNTAX, bad);
}
END_TEST

START_TEST(test_rawjson_reads_literals) {
        ck_assert_int_eq(parse(" \n{ \"t\" : true , \"f\":false,\"n\":null }\r\n"), RAWJSON_OK);
        ck_assert_int_eq(obj.members[0].kind, RAWJSON_TRUE);
        ck_assert_int_eq(obj.members[1].kind, RAWJSON_FALSE);
        ck_assert_int_eq(obj.members[2].kind, RAWJSON_NULL);
}
END_TEST

START_TEST(test_rawjson_rejects_what_is_not_one_object) {
        static const char *const bad[] = {
                "",
                "   ",
                "[1]",
                "\"s\"",
                "{} {}",
                "{\"a\":1,}",
                "{\"a\" 1}",
                "{a:1}",
                "{\"a\":\"tab\there\"}",
                "{\"t\":tru}",
                "{\"t\":nul1}",
                NULL,
        };

        expect_all(RAWJSON_ERR_SYNTAX, bad);
        ck_assert_int_eq(parse("{}"), RAWJSON_OK);
        ck_assert_uint_eq(obj.count, 0);
}
END_TEST

START_TEST(test_rawjson_enforces_size_limits) {
        static char big[FRAUD_INGEST_RECORD_BYTES_MAX + 64];
        char key[FRAUD_INGEST_NAME_BYTES_MAX + 16];
        size_t n = 0;

        n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
        for (int i = 0; i <= FRAUD_INGEST_FIELDS_MAX; i++)
                n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":1", i ? "," : "", i);
        n += (size_t)snprintf(big + n, sizeof(big) - n, "}");
        ck_assert_int_eq(parse(big), RAWJSON_ERR_TOO_LARGE);

        memset(key, 'k', sizeof(key));
        snprintf(big, sizeof(big), "{\"%.*s\":1}", FRAUD_INGEST_NAME_BYTES_MAX + 1, key);
        ck_assert_int_eq(parse(big), RAWJSON_ERR_TOO_LARGE);
        snprintf(big, sizeof(big), "{\"%.*s\":1}", FRAUD_INGEST_NAME_BYTES_MAX, key);
        ck_assert_int_eq(parse(big), RAWJSON_OK);

        memset(big, ' ', sizeof(big));
        big[0] = '{';
        big[FRAUD_INGEST_RECORD_BYTES_MAX] = '}';
        ck_assert_int_eq(parse_n(big, FRAUD_INGEST_RECORD_BYTES_MAX + 1), RAWJSON_ERR_TOO_LARGE);
        big[FRAUD_INGEST_RECORD_BYTES_MAX - 1] = '}';
        ck_assert_int_eq(parse_n(big, FRAUD_INGEST_RECORD_BYTES_MAX), RAWJSON_OK);
}
END_TEST

START_TEST(test_rawjson_fills_the_pool_to_its_limit_without_overflow) {
        static char big[FRAUD_INGEST_RECORD_BYTES_MAX + 1];
        size_t n = 0;

        /* Many one-byte keys and empty values: the most NULs per input byte. */
        n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
        for (int i = 0; i < FRAUD_INGEST_FIELDS_MAX; i++)
                n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"%c%c\":\"\"", i ? "," : "",
                                      'a' + i / 26, 'a' + i % 26);
        n += (size_t)snprintf(big + n, sizeof(big) - n, "}");
        ck_assert_int_eq(parse(big), RAWJSON_OK);
        ck_assert_uint_le(obj.pool_used, sizeof(obj.pool));
}
END_TEST

TESTING_MAIN("rawjson", test_rawjson_reads_simulator_record, test_rawjson_decodes_every_escape,
             test_rawjson_rejects_bad_escapes, test_rawjson_accepts_raw_multibyte_utf8,
             test_rawjson_rejects_invalid_utf8,
             test_rawjson_rejects_duplicate_keys_even_when_escaped,
             test_rawjson_reports_every_proper_prefix_as_truncated, test_rawjson_rejects_nesting,
             test_rawjson_keeps_numbers_as_text_and_rejects_bad_ones, test_rawjson_reads_literals,
             test_rawjson_rejects_what_is_not_one_object, test_rawjson_enforces_size_limits,
             test_rawjson_fills_the_pool_to_its_limit_without_overflow)
