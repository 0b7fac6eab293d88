/* Tests for scorer/expr.c: precedence, arithmetic, comparisons, the
 * three-valued logic of unknowns (division by zero, missing features),
 * and compile errors with their column. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "scorer/expr.h"
#include "tests/testing.h"

static const char *const names[] = {"a", "b", "zero", "card_count_1h"};
static const struct expr_schema schema = {names, 4};
static const double values[] = {2.0, 3.0, 0.0, 12.0};

static struct expr_env env_of(const double *v, size_t n) {
        struct expr_env env = {.features = v, .n_features = n};
        env.tx[EXPR_TX_AMOUNT] = 15000;
        env.tx[EXPR_TX_MCC] = 5411;
        env.tx[EXPR_TX_HOUR] = 3;
        return env;
}

/* The value of text over values. */
static double value_of(const char *text) {
        struct expr e;
        struct expr_env env = env_of(values, 4);
        char err[256] = "";
        double v;

        ck_assert_msg(expr_compile(&e, text, &schema, err, sizeof(err)) == 0, "%s: %s", text, err);
        v = expr_eval(&e, &env);
        expr_release(&e);
        return v;
}

static int compile_error(const char *text, char *err, size_t size) {
        struct expr e;
        int r = expr_compile(&e, text, &schema, err, size);
        if (r == 0)
                expr_release(&e);
        return r;
}

START_TEST(test_expr_multiplication_binds_tighter_than_addition) {
        ck_assert_double_eq(value_of("a + b * 2"), 8.0);
        ck_assert_double_eq(value_of("(a + b) * 2"), 10.0);
        ck_assert_double_eq(value_of("a - b - 1"), -2.0);
        ck_assert_double_eq(value_of("12 / a / b"), 2.0);
        ck_assert_double_eq(value_of("-a * -b"), 6.0);
}
END_TEST

START_TEST(test_expr_and_binds_tighter_than_or) {
        ck_assert_double_eq(value_of("true or true and false"), 1.0);
        ck_assert_double_eq(value_of("(true or true) and false"), 0.0);
        ck_assert_double_eq(value_of("not false and false"), 0.0);
        ck_assert_double_eq(value_of("not (false and false)"), 1.0);
}
END_TEST

START_TEST(test_expr_comparisons_bind_looser_than_arithmetic) {
        ck_assert_double_eq(value_of("a + 1 == b"), 1.0);
        ck_assert_double_eq(value_of("a * b >= 6 and b < 3.5"), 1.0);
        ck_assert_double_eq(value_of("a != 2"), 0.0);
        ck_assert_double_eq(value_of("a <= 1.999"), 0.0);
        ck_assert_double_eq(value_of("card_count_1h > 10"), 1.0);
}
END_TEST

START_TEST(test_expr_reads_transaction_fields) {
        ck_assert_double_eq(value_of("tx.amount > 10000 and tx.mcc == 5411"), 1.0);
        ck_assert_double_eq(value_of("tx.hour"), 3.0);
}
END_TEST

START_TEST(test_expr_numbers_with_exponent_and_fraction) {
        ck_assert_double_eq(value_of("1.5e3 + .5"), 1500.5);
        ck_assert_double_eq(value_of("2E-1 * 10"), 2.0);
}
END_TEST

START_TEST(test_expr_division_by_zero_is_unknown_and_never_true) {
        struct expr e;
        struct expr_env env = env_of(values, 4);
        char err[128];

        ck_assert(isnan(value_of("a / zero")));
        ck_assert(isnan(value_of("a / zero > 1")));
        ck_assert(isnan(value_of("not (a / zero > 1)")));
        ck_assert_int_eq(expr_compile(&e, "not (a / zero > 1)", &schema, err, sizeof(err)), 0);
        ck_assert(!expr_true(&e, &env));
        expr_release(&e);
}
END_TEST

START_TEST(test_expr_unknown_or_true_is_true_and_unknown_and_false_is_false) {
        ck_assert_double_eq(value_of("a / zero > 1 or a == 2"), 1.0);
        ck_assert_double_eq(value_of("a / zero > 1 and a == 3"), 0.0);
        ck_assert(isnan(value_of("a / zero > 1 and a == 2")));
        ck_assert(isnan(value_of("a / zero > 1 or a == 3")));
}
END_TEST

START_TEST(test_expr_missing_feature_is_unknown) {
        struct expr e;
        struct expr_env none = env_of(NULL, 0);
        const double with_nan[] = {NAN, 3.0, 0.0, 1.0};
        struct expr_env nan_env = env_of(with_nan, 4);
        char err[128];

        ck_assert_int_eq(expr_compile(&e, "a > 1 or tx.amount > 100", &schema, err, sizeof(err)),
                         0);
        ck_assert(e.uses_features);
        ck_assert(expr_true(&e, &none)); /* the known half decides */
        expr_release(&e);
        ck_assert_int_eq(expr_compile(&e, "a > 1", &schema, err, sizeof(err)), 0);
        ck_assert(!expr_true(&e, &none));
        ck_assert(isnan(expr_eval(&e, &nan_env)));
        expr_release(&e);
}
END_TEST

START_TEST(test_expr_unknown_feature_names_its_column) {
        char err[256];

        ck_assert_int_eq(compile_error("a > 1 and nosuch < 2", err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "column 11: unknown feature 'nosuch'");
        ck_assert_int_eq(compile_error("tx.nosuch > 1", err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "column 1: unknown transaction field 'tx.nosuch'");
}
END_TEST

START_TEST(test_expr_syntax_errors_are_refused_with_column) {
        const char *bad[] = {"a >", "(a > 1", "a > 1)", "a < b < 3", "a + * b",
                             "",    "a $ b",  "1.2.3",  "and a",     "a b"};
        char err[256];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_msg(compile_error(bad[i], err, sizeof(err)) == -EINVAL, "accepted '%s'",
                              bad[i]);
                ck_assert_msg(strncmp(err, "column ", 7) == 0, "%s: %s", bad[i], err);
        }
}
END_TEST

START_TEST(test_expr_nesting_beyond_limit_is_refused) {
        char text[FRAUD_SCORER_EXPR_DEPTH_MAX * 2 + 8], err[256];
        size_t n = 0;

        for (int i = 0; i < FRAUD_SCORER_EXPR_DEPTH_MAX + 1; i++)
                text[n++] = '(';
        text[n++] = 'a';
        for (int i = 0; i < FRAUD_SCORER_EXPR_DEPTH_MAX + 1; i++)
                text[n++] = ')';
        text[n] = '\0';
        ck_assert_int_eq(compile_error(text, err, sizeof(err)), -E2BIG);
        ck_assert_double_eq(value_of("((((a))))"), 2.0);
}
END_TEST

TESTING_MAIN("expr", test_expr_multiplication_binds_tighter_than_addition,
             test_expr_and_binds_tighter_than_or, test_expr_comparisons_bind_looser_than_arithmetic,
             test_expr_reads_transaction_fields, test_expr_numbers_with_exponent_and_fraction,
             test_expr_division_by_zero_is_unknown_and_never_true,
             test_expr_unknown_or_true_is_true_and_unknown_and_false_is_false,
             test_expr_missing_feature_is_unknown, test_expr_unknown_feature_names_its_column,
             test_expr_syntax_errors_are_refused_with_column,
             test_expr_nesting_beyond_limit_is_refused)
