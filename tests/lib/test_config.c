/* Tests for lib/config.c: a small key table of every type, read from YAML
 * text, files and the environment, every rejection checked by its exact
 * "file:line: section.key: reason" text, and the dump read back. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "lib/config.h"

#include "tests/testing.h"

struct test_conf {
        struct {
                int64_t count;
                double ratio;
                bool enabled;
                char *name;
                char *mode;
                char *token;
                char **hosts;
        } main;
        struct {
                int64_t port;
                int64_t pin;
        } net;
};

#define T struct test_conf
static const struct fraud_config_key test_keys[] = {
        FRAUD_CONFIG_SECTION("main", "The main section."),
        FRAUD_CONFIG_INT(T, main.count, 10, 1, 100, "A count."),
        FRAUD_CONFIG_DOUBLE(T, main.ratio, 0.5, 0, 1, "A ratio."),
        FRAUD_CONFIG_BOOL(T, main.enabled, false, "A switch."),
        FRAUD_CONFIG_STRING(T, main.name, "alpha", 1, 16, "A name.", .env = "TEST_CONFIG_NAME"),
        FRAUD_CONFIG_CHOICE(T, main.mode, "fast", "fast|slow", "A mode."),
        FRAUD_CONFIG_STRING(T, main.token, "", 0, 64, "A secret.", .env = "TEST_CONFIG_TOKEN",
                            .flags = FRAUD_CONFIG_SECRET),
        FRAUD_CONFIG_LIST(T, main.hosts, "a, b", 3, "Hosts.", .env = "TEST_CONFIG_HOSTS"),
        FRAUD_CONFIG_SECTION("net", "The network section."),
        FRAUD_CONFIG_INT(T, net.port, 8080, 1, 65535, "A port.", .env = "TEST_CONFIG_PORT"),
        FRAUD_CONFIG_INT(T, net.pin, 0, 0, 9999, "A secret number.", .env = "TEST_CONFIG_PIN",
                         .flags = FRAUD_CONFIG_SECRET),
};
#undef T

static const struct fraud_config_table test_table = {
        .help = "test.yaml: a table for the tests.\n\nSecond paragraph.",
        .keys = test_keys,
        .n_keys = sizeof(test_keys) / sizeof(test_keys[0]),
};

static char err[FRAUD_CONFIG_ERR_MAX];

/* Defaults, then yaml as the file "test.yaml". */
static int test_apply(struct test_conf *c, const char *yaml) {
        ck_assert_int_eq(fraud_config_init(&test_table, c), 0);
        err[0] = '\0';
        return fraud_config_buffer_apply(&test_table, c, "test.yaml", yaml, strlen(yaml), err,
                                         sizeof(err));
}

/* yaml must be rejected with exactly the message want. */
static void test_reject(const char *yaml, const char *want) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, yaml), -EINVAL);
        ck_assert_str_eq(err, want);
        fraud_config_release(&test_table, &c);
}

/* A temporary file holding text; the caller unlinks it. */
static void test_file_write(char *path, size_t size, const char *text) {
        const char *dir = getenv("TMPDIR");
        FILE *f;
        int fd;

        snprintf(path, size, "%s/test_config.XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

static char *test_dump(const struct test_conf *c) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fraud_config_dump(&test_table, c, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

START_TEST(test_config_init_sets_every_default) {
        struct test_conf c;

        ck_assert_int_eq(fraud_config_init(&test_table, &c), 0);
        ck_assert_int_eq(c.main.count, 10);
        ck_assert_double_eq(c.main.ratio, 0.5);
        ck_assert(!c.main.enabled);
        ck_assert_str_eq(c.main.name, "alpha");
        ck_assert_str_eq(c.main.mode, "fast");
        ck_assert_str_eq(c.main.token, "");
        ck_assert_str_eq(c.main.hosts[0], "a");
        ck_assert_str_eq(c.main.hosts[1], "b");
        ck_assert_ptr_null(c.main.hosts[2]);
        ck_assert_int_eq(c.net.port, 8080);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_valid_file_loads_every_type) {
        char path[256];
        struct test_conf c;

        test_file_write(path, sizeof(path),
                        "# a comment\n"
                        "main:\n"
                        "  count: 42\n"
                        "  ratio: 0.25\n"
                        "  enabled: true\n"
                        "  name: 'beta gamma'\n"
                        "  mode: slow\n"
                        "  hosts: [x, \"y\", z]\n"
                        "net:\n"
                        "  port: 9090\n");
        ck_assert_int_eq(fraud_config_init(&test_table, &c), 0);
        ck_assert_int_eq(fraud_config_file_apply(&test_table, &c, path, err, sizeof(err)), 0);
        unlink(path);
        ck_assert_int_eq(c.main.count, 42);
        ck_assert_double_eq(c.main.ratio, 0.25);
        ck_assert(c.main.enabled);
        ck_assert_str_eq(c.main.name, "beta gamma");
        ck_assert_str_eq(c.main.mode, "slow");
        ck_assert_str_eq(c.main.hosts[0], "x");
        ck_assert_str_eq(c.main.hosts[2], "z");
        ck_assert_ptr_null(c.main.hosts[3]);
        ck_assert_int_eq(c.net.port, 9090);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_keys_left_out_keep_their_defaults) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, "net:\n  port: 1\n"), 0);
        ck_assert_int_eq(c.net.port, 1);
        ck_assert_int_eq(c.main.count, 10);
        ck_assert_str_eq(c.main.name, "alpha");
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_empty_file_keeps_defaults) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, "# nothing but a comment\n"), 0);
        ck_assert_int_eq(c.main.count, 10);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_empty_section_keeps_defaults) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, "main:\nnet:\n  port: 2\n"), 0);
        ck_assert_int_eq(c.main.count, 10);
        ck_assert_int_eq(c.net.port, 2);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_unknown_key_rejected_with_its_line) {
        test_reject("main:\n  count: 5\n\n  bogus: 1\n", "test.yaml:4: main.bogus: unknown key");
}
END_TEST

START_TEST(test_config_unknown_section_rejected_with_its_line) {
        test_reject("main:\n  count: 5\nother:\n  x: 1\n", "test.yaml:3: other: unknown section");
}
END_TEST

START_TEST(test_config_key_of_another_section_rejected) {
        test_reject("net:\n  count: 5\n", "test.yaml:2: net.count: unknown key");
}
END_TEST

START_TEST(test_config_word_for_integer_rejected_with_its_line) {
        test_reject("main:\n  ratio: 0.5\n  count: abc\n",
                    "test.yaml:3: main.count: expected an integer, got \"abc\"");
}
END_TEST

START_TEST(test_config_fraction_for_integer_rejected) {
        test_reject("main:\n  count: 1.5\n",
                    "test.yaml:2: main.count: expected an integer, got \"1.5\"");
}
END_TEST

START_TEST(test_config_quoted_number_for_integer_rejected) {
        test_reject("main:\n  count: \"5\"\n",
                    "test.yaml:2: main.count: expected an integer, got the quoted string \"5\"");
}
END_TEST

START_TEST(test_config_missing_value_for_integer_rejected) {
        test_reject("main:\n  count:\n",
                    "test.yaml:2: main.count: expected an integer, got no value");
}
END_TEST

START_TEST(test_config_error_line_is_the_value_line) {
        test_reject("main:\n  count:\n    500\n",
                    "test.yaml:3: main.count: \"500\" is out of range 1..100");
}
END_TEST

START_TEST(test_config_integer_out_of_range_rejected_with_its_line) {
        test_reject("main:\n  count: 0\n", "test.yaml:2: main.count: \"0\" is out of range 1..100");
}
END_TEST

START_TEST(test_config_integer_past_int64_rejected_as_out_of_range) {
        test_reject("net:\n  port: 99999999999999999999\n",
                    "test.yaml:2: net.port: \"99999999999999999999\" is out of range 1..65535");
}
END_TEST

START_TEST(test_config_double_out_of_range_rejected) {
        test_reject("main:\n  ratio: 1.5\n",
                    "test.yaml:2: main.ratio: \"1.5\" is out of range 0..1");
}
END_TEST

START_TEST(test_config_double_rejects_inf_and_nan) {
        test_reject("main:\n  ratio: .inf\n",
                    "test.yaml:2: main.ratio: expected a number, got \".inf\"");
        test_reject("main:\n  ratio: nan\n",
                    "test.yaml:2: main.ratio: expected a number, got \"nan\"");
}
END_TEST

START_TEST(test_config_bool_rejects_yes_no_on_off_and_digits) {
        const char *bad[] = {"yes", "no", "on", "off", "1", "0", "y", "tRUE"};
        char yaml[64], want[128];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(yaml, sizeof(yaml), "main:\n  enabled: %s\n", bad[i]);
                snprintf(want, sizeof(want),
                         "test.yaml:2: main.enabled: expected true or false, got \"%s\"", bad[i]);
                test_reject(yaml, want);
        }
}
END_TEST

START_TEST(test_config_bool_accepts_core_schema_spellings) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, "main:\n  enabled: True\n"), 0);
        ck_assert(c.main.enabled);
        fraud_config_release(&test_table, &c);
        ck_assert_int_eq(test_apply(&c, "main:\n  enabled: FALSE\n"), 0);
        ck_assert(!c.main.enabled);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_string_too_long_rejected) {
        test_reject("main:\n  name: abcdefghijklmnopq\n",
                    "test.yaml:2: main.name: too long: 17 bytes, at most 16");
}
END_TEST

START_TEST(test_config_empty_string_rejected_when_minimum_is_one) {
        test_reject("main:\n  name: \"\"\n", "test.yaml:2: main.name: must not be empty");
}
END_TEST

START_TEST(test_config_null_is_the_empty_string_for_a_string_key) {
        struct test_conf c;

        ck_assert_int_eq(test_apply(&c, "main:\n  token:\n"), 0);
        ck_assert_str_eq(c.main.token, "");
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_choice_outside_its_list_rejected) {
        test_reject("main:\n  mode: medium\n",
                    "test.yaml:2: main.mode: \"medium\" is not one of fast, slow");
}
END_TEST

START_TEST(test_config_duplicate_key_rejected_with_both_lines) {
        test_reject("main:\n  count: 5\n  name: x\n  count: 6\n",
                    "test.yaml:4: main.count: duplicate key (first set on line 2)");
}
END_TEST

START_TEST(test_config_duplicate_section_rejected) {
        test_reject("net:\n  port: 1\nmain:\n  count: 2\nnet:\n  port: 3\n",
                    "test.yaml:5: net: duplicate section (first on line 1)");
}
END_TEST

START_TEST(test_config_syntax_error_reported_with_its_line) {
        test_reject("main:\n  count: 5: 6\n",
                    "test.yaml:2: syntax error: mapping values are not allowed in this context");
        test_reject("main:\n  count: 5\n bad: x\n",
                    "test.yaml:3: syntax error: did not find expected key "
                    "(while parsing a block mapping on line 1)");
}
END_TEST

START_TEST(test_config_invalid_utf8_rejected_with_its_line) {
        test_reject("main:\n  count: 5\n  name: \xff\n",
                    "test.yaml:3: syntax error: invalid leading UTF-8 octet");
}
END_TEST

START_TEST(test_config_section_that_is_not_a_mapping_rejected) {
        test_reject("main: 5\n", "test.yaml:1: main: expected a mapping of keys");
}
END_TEST

START_TEST(test_config_top_level_list_rejected) {
        test_reject("- main\n", "test.yaml:1: expected a mapping of sections");
}
END_TEST

START_TEST(test_config_mapping_for_a_scalar_key_rejected) {
        test_reject("main:\n  count:\n    a: 1\n",
                    "test.yaml:3: main.count: expected an integer, got a mapping");
}
END_TEST

START_TEST(test_config_alias_rejected) {
        test_reject("main:\n  name: &n x\n  mode: *n\n",
                    "test.yaml:2: anchors, aliases and tags are not supported");
}
END_TEST

START_TEST(test_config_second_document_rejected) {
        test_reject("main:\n  count: 5\n---\nmain:\n  count: 6\n",
                    "test.yaml:3: only one document is allowed");
}
END_TEST

START_TEST(test_config_list_longer_than_its_maximum_rejected) {
        test_reject("main:\n  hosts: [a, b, c, d]\n", "test.yaml:2: main.hosts: more than 3 items");
}
END_TEST

START_TEST(test_config_scalar_for_a_list_rejected) {
        test_reject("main:\n  hosts: a\n",
                    "test.yaml:2: main.hosts: expected a list of strings, like [a, b]");
}
END_TEST

START_TEST(test_config_missing_file_returns_enoent_with_the_path) {
        struct test_conf c;
        int r;

        ck_assert_int_eq(fraud_config_init(&test_table, &c), 0);
        r = fraud_config_file_apply(&test_table, &c, "/nonexistent/test.yaml", err, sizeof(err));
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_str_eq(err, "/nonexistent/test.yaml: No such file or directory");
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_env_overrides_the_file) {
        char path[256];
        struct test_conf c;

        test_file_write(path, sizeof(path), "main:\n  name: fromfile\nnet:\n  port: 1\n");
        ck_assert_int_eq(setenv("TEST_CONFIG_NAME", "fromenv", 1), 0);
        ck_assert_int_eq(fraud_config_load(&test_table, &c, path, err, sizeof(err)), 0);
        unlink(path);
        ck_assert_str_eq(c.main.name, "fromenv");
        ck_assert_int_eq(c.net.port, 1);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_env_bad_value_rejected_with_the_variable) {
        struct test_conf c;

        ck_assert_int_eq(setenv("TEST_CONFIG_PORT", "http", 1), 0);
        ck_assert_int_eq(fraud_config_load(&test_table, &c, NULL, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "env TEST_CONFIG_PORT: expected an integer, got \"http\"");
        ck_assert_ptr_null(c.main.name); /* a failed load leaves nothing to release */
}
END_TEST

START_TEST(test_config_env_list_splits_on_commas) {
        struct test_conf c;

        ck_assert_int_eq(setenv("TEST_CONFIG_HOSTS", "h1:1, h2:2", 1), 0);
        ck_assert_int_eq(fraud_config_load(&test_table, &c, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(c.main.hosts[0], "h1:1");
        ck_assert_str_eq(c.main.hosts[1], "h2:2");
        ck_assert_ptr_null(c.main.hosts[2]);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_dump_never_prints_a_secret) {
        struct test_conf c;
        char *dump;

        ck_assert_int_eq(setenv("TEST_CONFIG_TOKEN", "hunter2", 1), 0);
        ck_assert_int_eq(fraud_config_load(&test_table, &c, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(c.main.token, "hunter2");
        dump = test_dump(&c);
        ck_assert_ptr_null(strstr(dump, "hunter2"));
        ck_assert_ptr_nonnull(strstr(dump, "\n  token: \"\"\n"));
        free(dump);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_secret_not_echoed_in_an_error) {
        struct test_conf c;

        ck_assert_int_eq(setenv("TEST_CONFIG_PIN", "hunter2", 1), 0);
        ck_assert_int_eq(fraud_config_load(&test_table, &c, NULL, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "env TEST_CONFIG_PIN: expected an integer, got a secret value");
}
END_TEST

START_TEST(test_config_dump_has_header_sections_help_and_ranges) {
        const char *head = "# test.yaml: a table for the tests.\n#\n# Second paragraph.\n\n";
        struct test_conf c;
        char *dump;

        ck_assert_int_eq(fraud_config_init(&test_table, &c), 0);
        dump = test_dump(&c);
        ck_assert_msg(!strncmp(dump, head, strlen(head)), "%s", dump);
        ck_assert_ptr_nonnull(strstr(dump, "\n# The main section.\nmain:\n  # A count.\n"
                                           "  # Range: 1..100.\n  count: 10\n"));
        ck_assert_ptr_nonnull(strstr(dump, "  # One of: fast, slow.\n  mode: \"fast\"\n"));
        ck_assert_ptr_nonnull(strstr(dump, "  hosts: [\"a\", \"b\"]\n"));
        free(dump);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_dump_round_trips_every_type) {
        struct test_conf a, b;
        char *dump;

        ck_assert_int_eq(test_apply(&a, "main:\n  count: 42\n  ratio: 0.1\n  enabled: true\n"
                                        "  name: \"q\\\"b\\\\s\\tt\"\n  mode: slow\n"
                                        "  hosts: [\"x,y\", z]\nnet:\n  port: 65535\n"),
                         0);
        dump = test_dump(&a);
        ck_assert_int_eq(test_apply(&b, dump), 0);
        ck_assert_int_eq(b.main.count, 42);
        ck_assert_double_eq(b.main.ratio, 0.1);
        ck_assert(b.main.enabled);
        ck_assert_str_eq(b.main.name, "q\"b\\s\tt");
        ck_assert_str_eq(b.main.mode, "slow");
        ck_assert_str_eq(b.main.hosts[0], "x,y");
        ck_assert_str_eq(b.main.hosts[1], "z");
        ck_assert_int_eq(b.net.port, 65535);
        free(dump);
        fraud_config_release(&test_table, &a);
        fraud_config_release(&test_table, &b);
}
END_TEST

START_TEST(test_config_release_twice_is_harmless) {
        struct test_conf c;

        ck_assert_int_eq(fraud_config_init(&test_table, &c), 0);
        fraud_config_release(&test_table, &c);
        ck_assert_ptr_null(c.main.name);
        ck_assert_ptr_null(c.main.hosts);
        fraud_config_release(&test_table, &c);
}
END_TEST

START_TEST(test_config_diff_names_first_changed_key_of_every_type) {
        struct test_conf a, b;

        ck_assert_int_eq(fraud_config_init(&test_table, &a), 0);
        ck_assert_int_eq(test_apply(&b, "main:\n  hosts: [a, b]\n"), 0);
        ck_assert_ptr_null(fraud_config_diff(&test_table, &a, &b));
        fraud_config_release(&test_table, &b);
        ck_assert_int_eq(test_apply(&b, "main:\n  hosts: [a, c]\n"), 0);
        ck_assert_str_eq(fraud_config_diff(&test_table, &a, &b), "main.hosts");
        fraud_config_release(&test_table, &b);
        ck_assert_int_eq(test_apply(&b, "main:\n  hosts: [a]\n"), 0);
        ck_assert_str_eq(fraud_config_diff(&test_table, &a, &b), "main.hosts");
        fraud_config_release(&test_table, &b);
        ck_assert_int_eq(test_apply(&b, "main:\n  ratio: 0.25\n  enabled: true\n"), 0);
        ck_assert_str_eq(fraud_config_diff(&test_table, &a, &b), "main.ratio");
        b.main.ratio = a.main.ratio;
        ck_assert_str_eq(fraud_config_diff(&test_table, &a, &b), "main.enabled");
        fraud_config_release(&test_table, &b);
        fraud_config_release(&test_table, &a);
}
END_TEST

TESTING_MAIN(
        "config", test_config_diff_names_first_changed_key_of_every_type,
        test_config_init_sets_every_default, test_config_valid_file_loads_every_type,
        test_config_keys_left_out_keep_their_defaults, test_config_empty_file_keeps_defaults,
        test_config_empty_section_keeps_defaults, test_config_unknown_key_rejected_with_its_line,
        test_config_unknown_section_rejected_with_its_line,
        test_config_key_of_another_section_rejected,
        test_config_word_for_integer_rejected_with_its_line,
        test_config_fraction_for_integer_rejected, test_config_quoted_number_for_integer_rejected,
        test_config_missing_value_for_integer_rejected, test_config_error_line_is_the_value_line,
        test_config_integer_out_of_range_rejected_with_its_line,
        test_config_integer_past_int64_rejected_as_out_of_range,
        test_config_double_out_of_range_rejected, test_config_double_rejects_inf_and_nan,
        test_config_bool_rejects_yes_no_on_off_and_digits,
        test_config_bool_accepts_core_schema_spellings, test_config_string_too_long_rejected,
        test_config_empty_string_rejected_when_minimum_is_one,
        test_config_null_is_the_empty_string_for_a_string_key,
        test_config_choice_outside_its_list_rejected,
        test_config_duplicate_key_rejected_with_both_lines, test_config_duplicate_section_rejected,
        test_config_syntax_error_reported_with_its_line,
        test_config_invalid_utf8_rejected_with_its_line,
        test_config_section_that_is_not_a_mapping_rejected, test_config_top_level_list_rejected,
        test_config_mapping_for_a_scalar_key_rejected, test_config_alias_rejected,
        test_config_second_document_rejected, test_config_list_longer_than_its_maximum_rejected,
        test_config_scalar_for_a_list_rejected,
        test_config_missing_file_returns_enoent_with_the_path, test_config_env_overrides_the_file,
        test_config_env_bad_value_rejected_with_the_variable, test_config_env_list_splits_on_commas,
        test_config_dump_never_prints_a_secret, test_config_secret_not_echoed_in_an_error,
        test_config_dump_has_header_sections_help_and_ranges,
        test_config_dump_round_trips_every_type, test_config_release_twice_is_harmless)
