/* test_model_cmd.c: tests of tools/model_cmd.c, `fraudctl model`, on a
 * registry in a temporary directory: list and show describe it, promote
 * and rollback change it and announce the change on the models topic of
 * librdkafka's mock cluster, and without Kafka the change stays with a
 * message that the scorer was not told and how to tell it. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/featureset.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "lib/time.h"
#include "proto/model.pb-c.h"
#include "tests/testing.h"
#include "tools/model_cmd.h"
#include "trainer/registry.h"

static char root[64], registry[PATH_MAX], config[PATH_MAX], out[PATH_MAX], errf[PATH_MAX];

/* One version: status, reason, parent and a cascade AP. */
static void version_add(const char *version, const char *status, const char *reason,
                        const char *parent, double ap) {
        const char *names[] = {"amount", "hour_of_day"};
        struct fraud_modelfile *m = calloc(1, sizeof(*m));
        char staging[PATH_MAX], err[512];

        snprintf(m->version, sizeof(m->version), "%s", version);
        snprintf(m->parent_version, sizeof(m->parent_version), "%s", parent);
        m->n_features = 2;
        for (int i = 0; i < 2; i++)
                snprintf(m->feature_names[i], sizeof(m->feature_names[i]), "%s", names[i]);
        m->feature_schema_hash = fraud_featureset_hash(names, 2);
        m->block_threshold = 0.5;
        m->review_threshold = m->band_low = 0.3;
        m->band_high = 0.7;
        m->label_cutoff_us = INT64_C(1767225600000000);
        snprintf(m->metrics[0].name, sizeof(m->metrics[0].name), "cascade_average_precision");
        m->metrics[0].value = ap;
        m->n_metrics = 1;
        snprintf(m->status, sizeof(m->status), "%s", status);
        snprintf(m->status_reason, sizeof(m->status_reason), "%s", reason);
        ck_assert_int_eq(registry_staging_path(registry, version, staging, sizeof(staging)), 0);
        ck_assert_int_eq(mkdir(staging, 0755), 0);
        ck_assert_int_eq(fraud_modelfile_write(m, staging), 0);
        ck_assert_msg(registry_install(registry, version, err, sizeof(err)) == 0, "%s", err);
        free(m);
}

/* The temporary registry: v1 champion, v2 rejected, v3 candidate (parent
 * v1); the config points Kafka at bootstrap, or nowhere when NULL. */
static void setup(const char *bootstrap) {
        char prev[64], err[512];
        FILE *f;

        snprintf(root, sizeof(root), "/tmp/fraud-model-cmd-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(registry, sizeof(registry), "%s/registry", root);
        snprintf(config, sizeof(config), "%s/fraud.yaml", root);
        snprintf(out, sizeof(out), "%s/out.txt", root);
        snprintf(errf, sizeof(errf), "%s/err.txt", root);
        ck_assert_int_eq(registry_init(registry, err, sizeof(err)), 0);
        version_add("v1", "candidate", "", "", 0.41);
        version_add("v2", "rejected", "average precision 0.1 < 0.98 x champion v1's 0.41", "v1",
                    0.1);
        version_add("v3", "candidate", "", "v1", 0.45);
        ck_assert_int_eq(
                registry_promote(registry, "v1", "first", prev, sizeof(prev), err, sizeof(err)), 0);
        f = fopen(config, "w");
        ck_assert_ptr_nonnull(f);
        if (bootstrap)
                fprintf(f, "kafka:\n  bootstrap_servers: \"%s\"\n", bootstrap);
        else
                fprintf(f, "broker:\n  bootstrap_file: \"%s/no-broker\"\n", root);
        fprintf(f, "trainer:\n  registry_dir: \"%s\"\n", registry);
        ck_assert_int_eq(fclose(f), 0);
}

/* Runs `fraudctl model ARGS...` (NULL-terminated), stdout and stderr to
 * files; returns the exit status. */
static int run(const char *a1, const char *a2) {
        char *argv[] = {
                (char *)"fraudctl model", (char *)"--config", config, (char *)a1, (char *)a2, NULL};
        int argc = a1 ? (a2 ? 5 : 4) : 3, fo, fe, so, se, status;

        fflush(stdout);
        fflush(stderr);
        ck_assert_int_ge(fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
        ck_assert_int_ge(fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
        so = dup(STDOUT_FILENO);
        se = dup(STDERR_FILENO);
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        close(fo);
        close(fe);
        status = model_cmd_main(argc, argv);
        fflush(stdout);
        fflush(stderr);
        dup2(so, STDOUT_FILENO);
        dup2(se, STDERR_FILENO);
        close(so);
        close(se);
        return status;
}

static char *text(const char *path) {
        static char buf[1 << 16];
        FILE *f = fopen(path, "r");
        size_t n;

        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void champion_is(const char *version) {
        char v[64], err[512];

        ck_assert_int_eq(registry_champion(registry, v, sizeof(v), err, sizeof(err)), 0);
        ck_assert_str_eq(v, version);
}

START_TEST(test_model_cmd_list_and_show_describe_the_registry) {
        char *s;

        setup(NULL);
        ck_assert_int_eq(run("list", NULL), 0);
        s = text(out);
        ck_assert_msg(strstr(s, "* v1 ") && strstr(s, "champion"), "%s", s);
        ck_assert_msg(strstr(s, "  v2 ") && strstr(s, "rejected"), "%s", s);
        ck_assert_ptr_nonnull(strstr(s, "average precision 0.1 < 0.98 x champion v1's 0.41"));
        ck_assert_ptr_nonnull(strstr(s, "0.4500"));
        ck_assert_ptr_nonnull(strstr(s, "2026-01-01"));
        ck_assert(strstr(s, "v1 ") < strstr(s, "v3 ")); /* sorted */
        ck_assert_int_eq(run("show", "v2"), 0);
        s = text(out);
        ck_assert_msg(strstr(s, "/registry/v2\n") && strstr(s, "rejected"), "%s", s);
        ck_assert_ptr_nonnull(strstr(s, "feature_schema_hash"));
        ck_assert_int_eq(run("show", "v1"), 0);
        ck_assert_ptr_nonnull(strstr(text(out), "(champion)"));
        ck_assert_int_eq(run("show", "v9"), 66);
        ck_assert_int_eq(run("show", "../etc"), 65);
        ck_assert_int_eq(run(NULL, NULL), 64);
        ck_assert_int_eq(run("promote", NULL), 64);
        ck_assert_int_eq(run("list", "extra"), 64);
        ck_assert_int_eq(run("frobnicate", NULL), 64);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_model_cmd_promote_without_kafka_keeps_change_and_says_so) {
        char *s;

        setup(NULL);
        ck_assert_int_eq(run("promote", "v3"), 69); /* EX_UNAVAILABLE */
        champion_is("v3");
        ck_assert_ptr_nonnull(strstr(text(out), "champion: v3, retired: v1"));
        s = text(errf);
        ck_assert_msg(strstr(s, "the scorer was not told") &&
                              strstr(s, "fraudctl model promote v3") &&
                              strstr(s, "restart fraud-trainer"),
                      "%s", s);
        ck_assert_int_eq(run("promote", "v9"), 66);
        champion_is("v3");
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_model_cmd_promote_and_rollback_announce_on_models) {
        const char *topics[] = {"models"};
        const struct fraud_kafka_consumer_spec spec = {
                .topics = topics, .topics_count = 1, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        Fraud__ModelAnnouncement *a[2] = {NULL, NULL};
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c;
        struct fraud_mock *mock;
        char abs[PATH_MAX], dir[PATH_MAX];
        int64_t deadline;
        int got = 0;

        ck_assert_int_eq(fraud_mock_new(1, &mock), 0);
        ck_assert_int_eq(fraud_mock_topic_create(mock, "models", 1), 0);
        setup(fraud_mock_bootstrap(mock));
        ck_assert_int_eq(run("promote", "v3"), 0);
        ck_assert_ptr_nonnull(strstr(text(out), "announced v3 on models"));
        ck_assert_int_eq(run("rollback", NULL), 0); /* v3's parent */
        ck_assert_ptr_nonnull(strstr(text(out), "champion: v1, retired: v3"));
        champion_is("v1");
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(mock);
        o.group_id = "reader";
        ck_assert_int_eq(fraud_kafka_consumer_new(&o, &spec, &c, NULL, 0), 0);
        for (deadline = fraud_time_mono_ns() + INT64_C(20000000000);
             got < 2 && fraud_time_mono_ns() < deadline;) {
                const struct fraud_kafka_message *m;
                int n = fraud_kafka_consumer_poll_batch(c, &m, 100);
                for (int i = 0; i < n && got < 2; i++) {
                        a[got++] = fraud__model_announcement__unpack(NULL, m[i].value_size,
                                                                     m[i].value);
                        fraud_kafka_input_done(m[i].input);
                }
        }
        fraud_kafka_consumer_free(c);
        ck_assert_int_eq(got, 2);
        ck_assert_str_eq(a[0]->model_version, "v3");
        ck_assert_str_eq(a[1]->model_version, "v1");
        ck_assert_int_eq(a[1]->role, FRAUD__MODEL_ROLE__MODEL_ROLE_CHAMPION);
        registry_path(registry, "v1", dir, sizeof(dir));
        ck_assert_ptr_nonnull(realpath(dir, abs));
        ck_assert_str_eq(a[1]->registry_path, abs);
        ck_assert_uint_eq(a[1]->n_feature_names, 2);
        for (int i = 0; i < got; i++)
                fraud__model_announcement__free_unpacked(a[i], NULL);
        ck_assert_int_eq(testing_tree_remove(root), 0);
        fraud_mock_free(mock);
}
END_TEST

TESTING_MAIN("model_cmd", test_model_cmd_list_and_show_describe_the_registry,
             test_model_cmd_promote_without_kafka_keeps_change_and_says_so,
             test_model_cmd_promote_and_rollback_announce_on_models)
