/* Tests for scorer/rules.c and scorer/rulebook.c: the rules file, its
 * lists and their order, limits, first match in file order, load errors
 * with file:line, and reloading that keeps the previous rules when the new
 * file is broken. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/featureset.h"
#include "scorer/rulebook.h"
#include "scorer/rules.h"
#include "tests/testing.h"

static const char *const names[] = {"card_tx_count_1h", "card_amount_24h", "merchant_fraud_rate"};
static const struct expr_schema schema = {names, 3};

static const char good[] = "version: \"v1\"\n"
                           "deny:\n"
                           "  device: [dev-bad]\n"
                           "  ip: [\"10.0.0.66\"]\n"
                           "allow:\n"
                           "  card_hash: [card-vip]\n"
                           "  merchant: [m-trusted, m-also]\n"
                           "rules:\n"
                           "  - name: burst\n"
                           "    when: \"card_tx_count_1h > 10 and tx.amount > 20000\"\n"
                           "    action: block\n"
                           "  - name: amount_24h\n"
                           "    feature: card_amount_24h\n"
                           "    max: 500000\n"
                           "    action: review\n"
                           "  - name: risky_merchant_to_models\n"
                           "    when: \"merchant_fraud_rate > 0.05\"\n"
                           "    action: continue\n"
                           "  - name: small_night\n"
                           "    when: \"tx.hour < 5\"\n"
                           "    action: allow\n";

static struct rules *parse_ok(const char *text) {
        struct rules *r = NULL;
        char err[512] = "";

        ck_assert_msg(
                rules_parse("rules.yaml", text, strlen(text), &schema, &r, err, sizeof(err)) == 0,
                "%s", err);
        return r;
}

/* The error text of a file that must not load. */
static void parse_fails(const char *text, const char *want) {
        struct rules *r = NULL;
        char err[512] = "";

        ck_assert_int_lt(
                rules_parse("rules.yaml", text, strlen(text), &schema, &r, err, sizeof(err)), 0);
        ck_assert_ptr_null(r);
        ck_assert_msg(strstr(err, want) != NULL, "got '%s', want '%s'", err, want);
}

/* A transaction with values f (3 features) and the given keys. */
static struct rules_tx tx_of(const double *f, const char *card, const char *device,
                             const char *merchant, double amount, double hour) {
        struct rules_tx tx = {.keys = {card, device, "10.0.0.1", "411111", merchant}};
        tx.env.features = f;
        tx.env.n_features = f ? 3 : 0;
        tx.env.tx[EXPR_TX_AMOUNT] = amount;
        tx.env.tx[EXPR_TX_HOUR] = hour;
        return tx;
}

static struct rules_result eval(const struct rules *r, struct rules_tx tx) {
        struct rules_result res;
        rules_evaluate(r, &tx, &res);
        return res;
}

/* Asserts the action and reason (NULL: none) of tx. */
static void expect(const struct rules *r, struct rules_tx tx, enum rules_action action,
                   const char *reason) {
        struct rules_result res = eval(r, tx);

        ck_assert_int_eq(res.action, action);
        if (reason)
                ck_assert_str_eq(res.reason ? res.reason : "(none)", reason);
        else
                ck_assert_ptr_null(res.reason);
}

START_TEST(test_rules_file_loads_version_rules_and_lists) {
        struct rules *r = parse_ok(good);

        ck_assert_str_eq(rules_version(r), "v1");
        ck_assert_uint_eq(rules_count(r), 4);
        ck_assert_uint_eq(rules_list_items(r), 5);
        rules_free(r);
}
END_TEST

START_TEST(test_rules_deny_list_wins_over_allow_list) {
        struct rules *r = parse_ok(good);
        const double f[] = {1, 100, 0};

        expect(r, tx_of(f, "card-vip", "dev-bad", "m1", 100, 12), RULES_BLOCK, "deny.device");
        expect(r, tx_of(f, "card-vip", "dev-ok", "m1", 100, 12), RULES_ALLOW, "allow.card_hash");
        rules_free(r);
}
END_TEST

START_TEST(test_rules_allow_list_wins_over_rules) {
        struct rules *r = parse_ok(good);
        const double f[] = {50, 100, 0};

        expect(r, tx_of(f, "c1", "d1", "m-also", 90000, 12), RULES_ALLOW, "allow.merchant");
        rules_free(r);
}
END_TEST

START_TEST(test_rules_first_matching_rule_in_file_order_decides) {
        struct rules *r = parse_ok(good);
        const double both[] = {50, 900000, 0}; /* burst and amount_24h both fire */

        expect(r, tx_of(both, "c1", "d1", "m1", 90000, 12), RULES_BLOCK, "burst");
        expect(r, tx_of(both, "c1", "d1", "m1", 100, 12), RULES_REVIEW, "amount_24h");
        rules_free(r);
}
END_TEST

START_TEST(test_rules_continue_rule_stops_evaluation_with_its_reason) {
        struct rules *r = parse_ok(good);
        const double f[] = {1, 100, 0.2};

        /* small_night would fire too, later in the file */
        expect(r, tx_of(f, "c1", "d1", "m1", 100, 2), RULES_CONTINUE, "risky_merchant_to_models");
        rules_free(r);
}
END_TEST

START_TEST(test_rules_nothing_firing_continues_without_reason) {
        struct rules *r = parse_ok(good);
        const double f[] = {1, 100, 0};
        struct rules_result res = eval(r, tx_of(f, "c1", "d1", "m1", 100, 12));

        ck_assert_int_eq(res.action, RULES_CONTINUE);
        ck_assert_ptr_null(res.reason);
        ck_assert(!res.features_missing);
        rules_free(r);
}
END_TEST

START_TEST(test_rules_limit_fires_above_max_not_at_max) {
        struct rules *r = parse_ok(good);
        const double at[] = {1, 500000, 0}, above[] = {1, 500000.5, 0};

        ck_assert_int_eq(eval(r, tx_of(at, "c", "d", "m", 1, 12)).action, RULES_CONTINUE);
        ck_assert_int_eq(eval(r, tx_of(above, "c", "d", "m", 1, 12)).action, RULES_REVIEW);
        rules_free(r);
}
END_TEST

START_TEST(test_rules_limit_with_min_and_max_fires_outside_range) {
        const char *text = "version: x\nrules:\n  - name: lim\n    feature: card_tx_count_1h\n"
                           "    min: 2\n    max: 5\n    action: review\n";
        struct rules *r = parse_ok(text);
        const double lo[] = {1, 0, 0}, in[] = {2, 0, 0}, hi[] = {6, 0, 0};

        ck_assert_int_eq(eval(r, tx_of(lo, "c", "d", "m", 1, 12)).action, RULES_REVIEW);
        ck_assert_int_eq(eval(r, tx_of(in, "c", "d", "m", 1, 12)).action, RULES_CONTINUE);
        ck_assert_int_eq(eval(r, tx_of(hi, "c", "d", "m", 1, 12)).action, RULES_REVIEW);
        rules_free(r);
}
END_TEST

START_TEST(test_rules_without_features_skip_feature_rules_and_say_so) {
        struct rules *r = parse_ok(good);
        struct rules_result res = eval(r, tx_of(NULL, "c1", "d1", "m1", 90000, 3));

        ck_assert_int_eq(res.action, RULES_ALLOW); /* small_night reads only tx fields */
        ck_assert_str_eq(res.reason, "small_night");
        ck_assert(res.features_missing);
        rules_free(r);
}
END_TEST

START_TEST(test_rules_unknown_feature_is_load_error_with_line) {
        parse_fails("version: x\nrules:\n  - name: a\n    action: block\n"
                    "    when: \"nosuch > 1\"\n",
                    "rules.yaml:5: rules[0]: when: column 1: unknown feature 'nosuch'");
        parse_fails("version: x\nrules:\n  - name: a\n    action: block\n"
                    "    feature: nosuch\n    max: 3\n",
                    "rules.yaml:5: rules[0]: feature: column 1: unknown feature 'nosuch'");
}
END_TEST

START_TEST(test_rules_malformed_files_are_refused_with_line) {
        parse_fails("rules: []\n", "rules.yaml:1: version: required");
        parse_fails("version: x\nbogus: 1\n", "rules.yaml:2: file: unknown key 'bogus'");
        parse_fails("version: x\ndeny:\n  phone: [1]\n", "rules.yaml:3: deny: unknown list");
        parse_fails("version: x\nrules:\n  - name: a\n    action: maybe\n    when: \"true\"\n",
                    "rules.yaml:4: rules[0]: action must be");
        parse_fails("version: x\nrules:\n  - name: a\n    action: block\n",
                    "rules.yaml:3: rules[0]: exactly one of when and feature");
        parse_fails("version: x\nrules:\n  - {name: a, action: block, when: \"true\"}\n"
                    "  - {name: a, action: allow, when: \"true\"}\n",
                    "rules.yaml:4: rules[1]: rule name 'a' used twice");
        parse_fails("version: x\nrules:\n  - name: a\n    action: block\n    feature: "
                    "card_tx_count_1h\n    max: lots\n",
                    "rules.yaml:6: rules[0]: 'lots' is not a finite number");
        parse_fails("version: x\nrules: [\n", "rules.yaml:");
        parse_fails("version: x\nrules:\n  - name: a\n    action: block\n    when: \"1 +\"\n",
                    "rules.yaml:5: rules[0]: when: column 4: unexpected end of expression");
}
END_TEST

/* ---- rulebook: reloading ---- */

static void file_write(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

/* Moves path's modification time forward so a rewrite within the same
 * clock tick is still seen as a change. */
static void touch_later(const char *path, int seconds) {
        struct timespec ts[2];
        clock_gettime(CLOCK_REALTIME, &ts[0]);
        ts[0].tv_sec += seconds;
        ts[1] = ts[0];
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_rulebook_broken_file_keeps_previous_rules) {
        char dir[] = "/tmp/rulebook-XXXXXX", path[64], err[512];
        struct rulebook *b;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/rules.yaml", dir);
        file_write(path, good);
        ck_assert_int_eq(rulebook_new(path, &b), 0);
        ck_assert_int_eq(rulebook_schema_set(b, names, 3, err, sizeof(err)), 0);
        ck_assert_int_eq(rulebook_refresh(b, false, err, sizeof(err)), 1);
        ck_assert_int_eq(rulebook_refresh(b, false, err, sizeof(err)), 0); /* unchanged */
        file_write(path, "version: v2\nrules:\n  - name: x\n    action: block\n"
                         "    when: \"nosuch > 1\"\n");
        touch_later(path, 5);
        ck_assert_int_eq(rulebook_refresh(b, false, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "rules.yaml:5: rules[0]: when:") != NULL, "%s", err);
        ck_assert_str_eq(rules_version(rulebook_rules(b)), "v1");
        ck_assert_int_eq(rulebook_refresh(b, false, err, sizeof(err)), 0); /* said once */
        file_write(path, "version: v3\n");
        touch_later(path, 10);
        ck_assert_int_eq(rulebook_refresh(b, false, err, sizeof(err)), 1);
        ck_assert_str_eq(rules_version(rulebook_rules(b)), "v3");
        rulebook_free(b);
        unlink(path);
        rmdir(dir);
}
END_TEST

START_TEST(test_rulebook_new_schema_without_a_used_feature_keeps_rules) {
        char dir[] = "/tmp/rulebook-XXXXXX", path[64], err[512];
        const char *const other[] = {"card_tx_count_1h"};
        struct rulebook *b;
        const struct rules *before;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/rules.yaml", dir);
        file_write(path, good);
        ck_assert_int_eq(rulebook_new(path, &b), 0);
        ck_assert_int_eq(rulebook_schema_set(b, names, 3, err, sizeof(err)), 0);
        ck_assert_int_eq(rulebook_refresh(b, true, err, sizeof(err)), 1);
        before = rulebook_rules(b);
        ck_assert_int_eq(rulebook_schema_set(b, other, 1, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "unknown feature 'card_amount_24h'") != NULL, "%s", err);
        ck_assert_ptr_eq(rulebook_rules(b), before);
        rulebook_free(b);
        unlink(path);
        rmdir(dir);
}
END_TEST

START_TEST(test_rulebook_without_path_has_no_rules) {
        struct rulebook *b;
        char err[64];

        ck_assert_int_eq(rulebook_new("", &b), 0);
        ck_assert_int_eq(rulebook_refresh(b, true, err, sizeof(err)), 0);
        ck_assert_ptr_null(rulebook_rules(b));
        rulebook_free(b);
        rulebook_free(NULL);
}
END_TEST

START_TEST(test_rules_example_file_loads_against_default_schema) {
        static struct fraud_featureset fs;
        const int64_t spans[] = {60, 600, 3600, 86400, 604800, 2592000};
        const char *fnames[FRAUD_FEATURESET_FEATURES_MAX];
        char path[4096], err[512] = "";
        struct rulebook *b;

        ck_assert_int_eq(fraud_featureset_build(spans, 6, &fs), 0);
        for (size_t i = 0; i < fs.n; i++)
                fnames[i] = fs.names[i];
        snprintf(path, sizeof(path), "%s/deploy/config/rules.yaml", testing_source_root());
        ck_assert_int_eq(rulebook_new(path, &b), 0);
        ck_assert_int_eq(rulebook_schema_set(b, fnames, fs.n, err, sizeof(err)), 0);
        ck_assert_msg(rulebook_refresh(b, true, err, sizeof(err)) == 1, "%s", err);
        ck_assert_uint_eq(rules_count(rulebook_rules(b)), 6);
        rulebook_free(b);
}
END_TEST

TESTING_MAIN("rules", test_rules_file_loads_version_rules_and_lists,
             test_rules_deny_list_wins_over_allow_list, test_rules_allow_list_wins_over_rules,
             test_rules_first_matching_rule_in_file_order_decides,
             test_rules_continue_rule_stops_evaluation_with_its_reason,
             test_rules_nothing_firing_continues_without_reason,
             test_rules_limit_fires_above_max_not_at_max,
             test_rules_limit_with_min_and_max_fires_outside_range,
             test_rules_without_features_skip_feature_rules_and_say_so,
             test_rules_unknown_feature_is_load_error_with_line,
             test_rules_malformed_files_are_refused_with_line,
             test_rulebook_broken_file_keeps_previous_rules,
             test_rulebook_new_schema_without_a_used_feature_keeps_rules,
             test_rulebook_without_path_has_no_rules,
             test_rules_example_file_loads_against_default_schema)
