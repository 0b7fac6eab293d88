/* Tests for dashboard/jsonout.c: the JSON writer's escaping, structure and
 * limits. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "dashboard/jsonout.h"
#include "tests/testing.h"

START_TEST(test_jsonout_places_commas_at_every_depth) {
        char buf[256];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_object_begin(&j);
        jsonout_key(&j, "a");
        jsonout_array_begin(&j);
        jsonout_int(&j, 1);
        jsonout_int(&j, -2);
        jsonout_object_begin(&j);
        jsonout_kv_string(&j, "b", "x");
        jsonout_key(&j, "e");
        jsonout_array_begin(&j);
        jsonout_array_end(&j);
        jsonout_object_end(&j);
        jsonout_array_end(&j);
        jsonout_kv_bool(&j, "c", true);
        jsonout_kv_uint(&j, "d", 18446744073709551615ULL);
        jsonout_kv_double(&j, "p", 0.125);
        jsonout_object_end(&j);
        ck_assert(jsonout_ok(&j));
        ck_assert_str_eq(buf, "{\"a\":[1,-2,{\"b\":\"x\",\"e\":[]}],\"c\":true,"
                              "\"d\":18446744073709551615,\"p\":0.125}");
        ck_assert_uint_eq(jsonout_len(&j), strlen(buf));
}
END_TEST

START_TEST(test_jsonout_escapes_what_json_and_html_need) {
        char buf[256];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_array_begin(&j);
        jsonout_string(&j, "q\"b\\s/\n\t\x01<script>&\x7f");
        jsonout_array_end(&j);
        ck_assert(jsonout_ok(&j));
        ck_assert_str_eq(buf, "[\"q\\\"b\\\\s/\\u000a\\u0009\\u0001\\u003cscript\\u003e"
                              "\\u0026\\u007f\"]");
        ck_assert_ptr_null(strchr(buf, '\n'));
}
END_TEST

/* Well-formed UTF-8 passes; a stray byte, an overlong form, a surrogate or
 * a cut sequence becomes U+FFFD, one per byte refused. */
START_TEST(test_jsonout_keeps_valid_utf8_and_replaces_the_rest) {
        char buf[256];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_array_begin(&j);
        jsonout_string(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb3");
        jsonout_string(&j, "a\xff"
                           "b");
        jsonout_string(&j, "\xc0\xaf");     /* overlong '/' */
        jsonout_string(&j, "\xed\xa0\x80"); /* a surrogate */
        jsonout_string(&j, "\xe2\x82");     /* cut */
        jsonout_array_end(&j);
        ck_assert(jsonout_ok(&j));
        ck_assert_str_eq(buf, "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb3\",\"a\\ufffdb\","
                              "\"\\ufffd\\ufffd\",\"\\ufffd\\ufffd\\ufffd\",\"\\ufffd\\ufffd\"]");
}
END_TEST

START_TEST(test_jsonout_writes_null_for_nan_and_infinity) {
        char buf[64];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_array_begin(&j);
        jsonout_double(&j, NAN);
        jsonout_double(&j, INFINITY);
        jsonout_double_exact(&j, 0.1);
        jsonout_null(&j);
        jsonout_array_end(&j);
        ck_assert(jsonout_ok(&j));
        ck_assert_str_eq(buf, "[null,null,0.10000000000000001,null]");
}
END_TEST

START_TEST(test_jsonout_fails_when_full_and_stays_terminated) {
        char buf[8];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_array_begin(&j);
        jsonout_string(&j, "too long for it");
        jsonout_array_end(&j);
        ck_assert(!jsonout_ok(&j));
        ck_assert_uint_lt(strlen(buf), sizeof(buf));
}
END_TEST

START_TEST(test_jsonout_fails_on_unbalanced_or_misplaced_keys) {
        char buf[64];
        struct jsonout j;

        jsonout_init(&j, buf, sizeof(buf));
        jsonout_object_begin(&j);
        ck_assert(!jsonout_ok(&j)); /* not closed */
        jsonout_key(&j, "a");
        jsonout_object_end(&j); /* a key without a value */
        ck_assert(!jsonout_ok(&j));
        jsonout_init(&j, buf, sizeof(buf));
        jsonout_array_end(&j);
        ck_assert(!jsonout_ok(&j));
        jsonout_init(&j, buf, sizeof(buf));
        for (int i = 0; i < JSONOUT_DEPTH_MAX; i++)
                jsonout_array_begin(&j);
        ck_assert(!jsonout_ok(&j));
}
END_TEST

TESTING_MAIN("jsonout", test_jsonout_places_commas_at_every_depth,
             test_jsonout_escapes_what_json_and_html_need,
             test_jsonout_keeps_valid_utf8_and_replaces_the_rest,
             test_jsonout_writes_null_for_nan_and_infinity,
             test_jsonout_fails_when_full_and_stays_terminated,
             test_jsonout_fails_on_unbalanced_or_misplaced_keys)
