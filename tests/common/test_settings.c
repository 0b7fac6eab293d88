/* Tests for common/settings.c and common/cli.c: the documented defaults, the
 * committed deploy/config/fraud.yaml (byte for byte the dump, and loading
 * back to the defaults, so it cannot go stale), environment overrides,
 * rejections with their file:line, and the shared command line.
 *
 * FRAUD_SETTINGS_REGENERATE=1 makes test_settings_committed_file_equals_the_dump
 * rewrite the committed file instead of comparing it. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/settings.h"
#include "lib/bounds.h"

#include "tests/testing.h"

static char err[FRAUD_CONFIG_ERR_MAX];

/* The environment this process inherited must not leak into a test. */
static void test_env_clear(void) {
        for (size_t i = 0; i < fraud_settings_table.n_keys; i++)
                if (fraud_settings_table.keys[i].env)
                        ck_assert_int_eq(unsetenv(fraud_settings_table.keys[i].env), 0);
}

static void test_committed_path(char *path, size_t size) {
        snprintf(path, size, "%s/deploy/config/fraud.yaml", testing_source_root());
}

static char *test_file_read(const char *path) {
        FILE *f = fopen(path, "r");
        char *buf = malloc(FRAUD_CONFIG_FILE_BYTES_MAX + 1);
        size_t n;

        ck_assert_msg(f != NULL, "cannot open %s", path);
        ck_assert_ptr_nonnull(buf);
        n = fread(buf, 1, FRAUD_CONFIG_FILE_BYTES_MAX, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void test_file_write(char *path, size_t size, const char *text) {
        const char *dir = getenv("TMPDIR");
        FILE *f;
        int fd;

        snprintf(path, size, "%s/test_settings.XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

static char *test_dump(const struct fraud_settings *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fraud_settings_dump(s, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

/* The name of the first key where a and b differ, or NULL. */
static const char *test_settings_differ(const struct fraud_settings *a,
                                        const struct fraud_settings *b) {
        return fraud_config_diff(&fraud_settings_table, a, b);
}

/* Loads yaml as a file; returns the result, err holds the message. */
static int test_settings_load_text(struct fraud_settings *s, const char *yaml, char *path,
                                   size_t size) {
        int r;

        test_file_write(path, size, yaml);
        r = fraud_settings_load(s, path, err, sizeof(err));
        unlink(path);
        return r;
}

START_TEST(test_settings_defaults_are_the_documented_values) {
        struct fraud_settings s;

        test_env_clear();
        ck_assert_int_eq(fraud_settings_load(&s, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(s.kafka.bootstrap_servers, "");
        ck_assert_int_eq(s.kafka.linger_ms, 2);
        ck_assert_int_eq(s.kafka.fetch_wait_max_ms, 2);
        ck_assert_str_eq(s.kafka.compression, "lz4");
        ck_assert_str_eq(s.topics.raw, "tx.raw");
        ck_assert_str_eq(s.topics.normalized, "tx.normalized");
        ck_assert_str_eq(s.topics.features, "tx.features");
        ck_assert_str_eq(s.topics.scores_shadow, "scores.shadow");
        ck_assert_str_eq(s.topics.dlq, "dlq");
        ck_assert_int_eq(s.topics.partitions, 1);
        ck_assert_str_eq(s.broker.bootstrap_file, "fraud-broker.bootstrap");
        ck_assert_int_eq(s.broker.brokers, 1);
        ck_assert_str_eq(s.log.level, "info");
        fraud_settings_release(&s);
}
END_TEST

START_TEST(test_settings_committed_file_equals_the_dump) {
        struct fraud_settings s;
        char path[1024], *dump, *committed;
        FILE *f;

        test_committed_path(path, sizeof(path));
        ck_assert_int_eq(fraud_settings_init(&s), 0);
        dump = test_dump(&s);
        if (getenv("FRAUD_SETTINGS_REGENERATE")) {
                f = fopen(path, "w");
                ck_assert_ptr_nonnull(f);
                ck_assert_int_ge(fputs(dump, f), 0);
                ck_assert_int_eq(fclose(f), 0);
        }
        committed = test_file_read(path);
        ck_assert_msg(strcmp(committed, dump) == 0,
                      "%s is stale: regenerate it with --dump-config (or run this test with "
                      "FRAUD_SETTINGS_REGENERATE=1)",
                      path);
        free(committed);
        free(dump);
        fraud_settings_release(&s);
}
END_TEST

START_TEST(test_settings_committed_file_loads_back_to_the_defaults) {
        struct fraud_settings defaults, loaded;
        char path[1024];
        const char *diff;

        test_env_clear();
        test_committed_path(path, sizeof(path));
        ck_assert_int_eq(fraud_settings_init(&defaults), 0);
        ck_assert_msg(fraud_settings_load(&loaded, path, err, sizeof(err)) == 0, "%s", err);
        diff = test_settings_differ(&defaults, &loaded);
        ck_assert_msg(diff == NULL, "%s differs from its default", diff);
        fraud_settings_release(&defaults);
        fraud_settings_release(&loaded);
}
END_TEST

START_TEST(test_settings_differ_notices_a_changed_key) {
        struct fraud_settings a, b;

        ck_assert_int_eq(fraud_settings_init(&a), 0);
        ck_assert_int_eq(fraud_settings_init(&b), 0);
        b.topics.partitions = 7;
        ck_assert_str_eq(test_settings_differ(&a, &b), "topics.partitions");
        fraud_settings_release(&a);
        fraud_settings_release(&b);
}
END_TEST

START_TEST(test_settings_env_overrides_bootstrap_servers) {
        struct fraud_settings s;
        char path[256];

        test_env_clear();
        ck_assert_int_eq(setenv("FRAUD_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092", 1), 0);
        ck_assert_int_eq(test_settings_load_text(&s, "kafka:\n  bootstrap_servers: file:9092\n",
                                                 path, sizeof(path)),
                         0);
        ck_assert_str_eq(s.kafka.bootstrap_servers, "kafka-1:9092,kafka-2:9092");
        fraud_settings_release(&s);
}
END_TEST

START_TEST(test_settings_env_password_is_loaded_but_never_dumped) {
        struct fraud_settings s;
        char *dump;

        test_env_clear();
        ck_assert_int_eq(setenv("FRAUD_KAFKA_SASL_PASSWORD", "s3cr3t-pw", 1), 0);
        ck_assert_int_eq(fraud_settings_load(&s, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(s.kafka.sasl_password, "s3cr3t-pw");
        dump = test_dump(&s);
        ck_assert_ptr_null(strstr(dump, "s3cr3t-pw"));
        ck_assert_ptr_nonnull(strstr(dump, "\n  sasl_password: \"\"\n"));
        free(dump);
        fraud_settings_release(&s);
}
END_TEST

START_TEST(test_settings_linger_zero_rejected_with_its_line) {
        struct fraud_settings s;
        char path[256], want[512];

        test_env_clear();
        ck_assert_int_eq(test_settings_load_text(&s, "kafka:\n  client_id: x\n  linger_ms: 0\n",
                                                 path, sizeof(path)),
                         -EINVAL);
        snprintf(want, sizeof(want), "%s:3: kafka.linger_ms: \"0\" is out of range 1..100", path);
        ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_settings_misspelled_key_rejected_with_its_line) {
        struct fraud_settings s;
        char path[256], want[512];

        test_env_clear();
        ck_assert_int_eq(test_settings_load_text(&s, "topics:\n  partitions: 3\n  dql: x\n", path,
                                                 sizeof(path)),
                         -EINVAL);
        snprintf(want, sizeof(want), "%s:3: topics.dql: unknown key", path);
        ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_settings_unknown_compression_rejected) {
        struct fraud_settings s;
        char path[256], want[512];

        test_env_clear();
        ck_assert_int_eq(
                test_settings_load_text(&s, "kafka:\n  compression: brotli\n", path, sizeof(path)),
                -EINVAL);
        snprintf(want, sizeof(want),
                 "%s:2: kafka.compression: \"brotli\" is not one of none, lz4, zstd, gzip, snappy",
                 path);
        ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_settings_unknown_log_level_rejected) {
        struct fraud_settings s;
        char path[256], want[512];

        test_env_clear();
        ck_assert_int_eq(
                test_settings_load_text(&s, "log:\n  level: verbose\n", path, sizeof(path)),
                -EINVAL);
        snprintf(want, sizeof(want),
                 "%s:2: log.level: \"verbose\" is not one of err, warning, notice, info, debug",
                 path);
        ck_assert_str_eq(err, want);
}
END_TEST

/* ---- cli ---- */

#define TEST_CLI_ARGS_MAX 8

/* One fraud_cli_parse() call: its status, what it left in argv and printed. */
struct test_cli_run {
        int status, argc;
        char *argv[TEST_CLI_ARGS_MAX + 1]; /* owned copies; the parse reorders them */
        char *copies[TEST_CLI_ARGS_MAX];
        char *out, *err;
        struct fraud_settings settings;
};

/* Parses args (NULL-terminated) as a command line. */
static void test_cli_run(struct test_cli_run *run, bool args_extra, const char *const *args) {
        size_t out_len = 0, err_len = 0;
        struct fraud_cli cli = {.summary = "Does one thing.",
                                .options_help = "      --once         process one batch\n",
                                .args_extra = args_extra};

        test_env_clear();
        *run = (struct test_cli_run){0};
        for (; args[run->argc]; run->argc++) {
                ck_assert_int_lt(run->argc, TEST_CLI_ARGS_MAX);
                run->copies[run->argc] = run->argv[run->argc] = strdup(args[run->argc]);
        }
        cli.out = open_memstream(&run->out, &out_len);
        cli.err = open_memstream(&run->err, &err_len);
        ck_assert(cli.out && cli.err);
        run->status = fraud_cli_parse(&cli, &run->argc, run->argv, &run->settings);
        fclose(cli.out);
        fclose(cli.err);
}

static void test_cli_run_free(struct test_cli_run *run) {
        if (run->status == FRAUD_CLI_RUN)
                fraud_settings_release(&run->settings);
        for (size_t i = 0; i < TEST_CLI_ARGS_MAX; i++)
                free(run->copies[i]);
        free(run->out);
        free(run->err);
}

START_TEST(test_cli_dump_config_prints_the_committed_file) {
        const char *args[] = {"fraud-x", "--dump-config", NULL};
        char path[1024], *committed;
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, 0);
        test_committed_path(path, sizeof(path));
        committed = test_file_read(path);
        ck_assert_msg(strcmp(run.out, committed) == 0, "--dump-config differs from %s", path);
        ck_assert_str_eq(run.err, "");
        free(committed);
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_bad_config_exits_78_with_file_line_key) {
        char path[256], want[512];
        const char *args[] = {"fraud-x", "--config", path, NULL};
        struct test_cli_run run;

        test_file_write(path, sizeof(path), "kafka:\n  linger_ms: 0\n");
        test_cli_run(&run, false, args);
        unlink(path);
        ck_assert_int_eq(run.status, EX_CONFIG);
        snprintf(want, sizeof(want), "%s:2: kafka.linger_ms: \"0\" is out of range 1..100\n", path);
        ck_assert_str_eq(run.err, want);
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_missing_config_file_exits_78) {
        const char *args[] = {"fraud-x", "--config=/nonexistent/fraud.yaml", NULL};
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, EX_CONFIG);
        ck_assert_str_eq(run.err, "/nonexistent/fraud.yaml: No such file or directory\n");
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_unknown_option_exits_64) {
        const char *args[] = {"/usr/bin/fraud-x", "--bogus", NULL};
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, EX_USAGE);
        ck_assert_str_eq(run.err, "fraud-x: unknown option '--bogus'\nTry 'fraud-x --help'.\n");
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_config_without_file_exits_64) {
        const char *args[] = {"fraud-x", "--config", NULL};
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, EX_USAGE);
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_leaves_unknown_arguments_to_the_caller) {
        char path[256];
        const char *args[] = {"fraud-x", "--once", "-c", path, "input.csv", "--", "--config", NULL};
        struct test_cli_run run;

        test_file_write(path, sizeof(path), "topics:\n  partitions: 12\n");
        test_cli_run(&run, true, args);
        unlink(path);
        ck_assert_int_eq(run.status, FRAUD_CLI_RUN);
        ck_assert_int_eq(run.settings.topics.partitions, 12);
        ck_assert_int_eq(run.argc, 5);
        ck_assert_str_eq(run.argv[1], "--once");
        ck_assert_str_eq(run.argv[2], "input.csv");
        ck_assert_str_eq(run.argv[3], "--");
        ck_assert_str_eq(run.argv[4], "--config");
        ck_assert_ptr_null(run.argv[5]);
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_without_config_runs_on_the_defaults) {
        const char *args[] = {"fraud-x", NULL};
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, FRAUD_CLI_RUN);
        ck_assert_int_eq(run.settings.kafka.linger_ms, 2);
        ck_assert_str_eq(run.out, "");
        test_cli_run_free(&run);
}
END_TEST

START_TEST(test_cli_help_shows_options_and_environment) {
        const char *args[] = {"fraud-x", "--dump-config", "--help", NULL};
        struct test_cli_run run;

        test_cli_run(&run, false, args);
        ck_assert_int_eq(run.status, 0);
        ck_assert_msg(!strncmp(run.out, "Usage: fraud-x [OPTIONS]\nDoes one thing.\n", 41), "%s",
                      run.out);
        ck_assert_ptr_nonnull(strstr(run.out, "--once         process one batch\n"));
        ck_assert_ptr_nonnull(strstr(run.out, "FRAUD_KAFKA_BOOTSTRAP"));
        ck_assert_ptr_nonnull(strstr(run.out, "FRAUD_KAFKA_SASL_PASSWORD"));
        test_cli_run_free(&run);
}
END_TEST

TESTING_MAIN("settings", test_settings_defaults_are_the_documented_values,
             test_settings_committed_file_equals_the_dump,
             test_settings_committed_file_loads_back_to_the_defaults,
             test_settings_differ_notices_a_changed_key,
             test_settings_env_overrides_bootstrap_servers,
             test_settings_env_password_is_loaded_but_never_dumped,
             test_settings_linger_zero_rejected_with_its_line,
             test_settings_misspelled_key_rejected_with_its_line,
             test_settings_unknown_compression_rejected, test_settings_unknown_log_level_rejected,
             test_cli_dump_config_prints_the_committed_file,
             test_cli_bad_config_exits_78_with_file_line_key, test_cli_missing_config_file_exits_78,
             test_cli_unknown_option_exits_64, test_cli_config_without_file_exits_64,
             test_cli_leaves_unknown_arguments_to_the_caller,
             test_cli_without_config_runs_on_the_defaults,
             test_cli_help_shows_options_and_environment)
