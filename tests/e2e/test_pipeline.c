/* End to end: the three decision-path daemons (fraud-ingest, fraud-velocity,
 * fraud-scorer, the built executables) as separate processes on librdkafka's
 * mock cluster.  Valid, malformed and duplicate raw payments go in on
 * tx.raw; every valid transaction must come out as exactly one Score (after
 * de-duplication by id), every malformed one as a DeadLetter with its
 * reason, duplicates nowhere, and the counts must reconcile:
 * published = scored + rejected + duplicates.  SIGTERM then stops every
 * daemon with status 0. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/kafka.h"
#include "lib/mock.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/score.pb-c.h"

#include "tests/testing.h"

#define E2E_VALID      300
#define E2E_DUPLICATES 30
#define E2E_SET_MAX    1024

static const char *const e2e_topics[] = {"tx.raw", "tx.normalized", "tx.features",
                                         "scores", "scores.shadow", "chargebacks",
                                         "labels", "models",        "dlq"};

static const char *const e2e_malformed[] = {
        "not json at all",
        "{\"transaction_id\":\"bad-1\"}",
        "{\"transaction_id\":\"bad-2\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":\"-5\","
        "\"currency\":\"EUR\",\"pan\":\"4111111111111111\",\"merchant_id\":\"M1\",\"mcc\":\"5411\","
        "\"country\":\"FR\",\"channel\":\"ecommerce\"}",
        "{\"transaction_id\":\"bad-3\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":\"5.00\","
        "\"currency\":\"XXX\",\"pan\":\"4111111111111111\",\"merchant_id\":\"M1\",\"mcc\":\"5411\","
        "\"country\":\"FR\",\"channel\":\"ecommerce\"}",
        "{\"transaction_id\":\"bad-4\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":\"5.00\","
        "\"currency\":\"EUR\",\"pan\":\"4111111111111112\",\"merchant_id\":\"M1\",\"mcc\":\"5411\","
        "\"country\":\"FR\",\"channel\":\"ecommerce\"}",
};
#define E2E_MALFORMED (sizeof(e2e_malformed) / sizeof(e2e_malformed[0]))

/* Luhn check digit for the 15 digits of body. */
static char e2e_luhn(const char *body) {
        int sum = 0;

        for (int i = 14, dbl = 1; i >= 0; i--, dbl = !dbl) {
                int d = (body[i] - '0') * (dbl ? 2 : 1);
                sum += d > 9 ? d - 9 : d;
        }
        return (char)('0' + (10 - sum % 10) % 10);
}

static int e2e_valid(char *buf, size_t size, int i) {
        char pan[17];

        snprintf(pan, sizeof(pan), "411111%09d", i % 40);
        pan[15] = e2e_luhn(pan);
        pan[16] = '\0';
        return snprintf(
                buf, size,
                "{\"transaction_id\":\"e2e-%04d\",\"timestamp\":\"2026-01-01T%02d:%02d:00Z\","
                "\"amount\":\"%d.%02d\",\"currency\":\"EUR\",\"pan\":\"%s\","
                "\"customer_id\":\"C%d\",\"merchant_id\":\"M%d\",\"terminal_id\":\"M%d-1\","
                "\"mcc\":\"5411\",\"country\":\"FR\",\"channel\":\"ecommerce\","
                "\"device_id\":\"d%d\",\"ip\":\"192.0.2.%d\"}",
                i, i / 60 % 24, i % 60, 5 + i % 200, i % 100, pan, i % 40, i % 7, i % 7, i % 40,
                1 + i % 200);
}

static void e2e_send(struct fraud_kafka_producer *p, const char *value) {
        const struct fraud_kafka_record rec = {.topic = "tx.raw",
                                               .partition = -1,
                                               .key = value,
                                               .key_size = 8,
                                               .value = value,
                                               .value_size = strlen(value)};

        ck_assert_int_ge(fraud_kafka_producer_send(p, &rec, NULL), 0);
}

/* Publishes the valid records, the malformed ones and the duplicates. */
static void e2e_publish(const char *bootstrap) {
        struct fraud_kafka_options o;
        struct fraud_kafka_producer *p;
        char buf[1024];

        fraud_kafka_options_init(&o);
        o.bootstrap_servers = bootstrap;
        ck_assert_int_eq(fraud_kafka_producer_new(&o, &p, NULL, 0), 0);
        for (int i = 0; i < E2E_VALID; i++) {
                e2e_valid(buf, sizeof(buf), i);
                e2e_send(p, buf);
                if (i < (int)E2E_MALFORMED)
                        e2e_send(p, e2e_malformed[i]);
        }
        for (int i = 0; i < E2E_DUPLICATES; i++) {
                e2e_valid(buf, sizeof(buf), i * 7);
                e2e_send(p, buf);
        }
        ck_assert_int_eq(fraud_kafka_producer_flush(p, 20000), 0);
        fraud_kafka_producer_free(p);
}

static pid_t e2e_spawn(const char *exe, const char *config) {
        char path[1024];
        pid_t pid;

        snprintf(path, sizeof(path), "%s/%s", getenv("FRAUD_BUILD_ROOT"), exe);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                execl(path, path, "--config", config, (char *)NULL);
                _exit(127);
        }
        return pid;
}

struct e2e_seen {
        char ids[E2E_SET_MAX][32];
        size_t n;
        size_t duplicates;
};

static void e2e_seen_add(struct e2e_seen *s, const char *id) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->ids[i], id) == 0) {
                        s->duplicates++;
                        return;
                }
        ck_assert_uint_lt(s->n, E2E_SET_MAX);
        snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", id);
}

static void e2e_take(const struct fraud_kafka_message *m, struct e2e_seen *scores,
                     struct e2e_seen *dead) {
        if (strcmp(m->topic, "scores") == 0) {
                Fraud__Score *s = fraud__score__unpack(NULL, m->value_size, m->value);
                ck_assert_ptr_nonnull(s);
                e2e_seen_add(scores, s->transaction_id);
                fraud__score__free_unpacked(s, NULL);
        } else {
                Fraud__DeadLetter *d = fraud__dead_letter__unpack(NULL, m->value_size, m->value);
                ck_assert_ptr_nonnull(d);
                ck_assert_str_eq(d->stage, "ingest");
                ck_assert_str_ne(d->reason_code, "");
                ck_assert_uint_gt(d->original.len, 0);
                /* One dead letter per malformed record: count by reason code. */
                ck_assert_uint_lt(dead->n, E2E_SET_MAX);
                snprintf(dead->ids[dead->n++], sizeof(dead->ids[0]), "%s", d->reason_code);
                fraud__dead_letter__free_unpacked(d, NULL);
        }
        fraud_kafka_input_done(m->input);
}

/* Reads scores and dlq until the expected counts arrived or 120 s passed. */
static void e2e_collect(const char *bootstrap, struct e2e_seen *scores, struct e2e_seen *dead) {
        const char *topics[] = {"scores", "dlq"};
        const struct fraud_kafka_consumer_spec spec = {
                .topics = topics, .topics_count = 2, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c;
        const struct fraud_kafka_message *msgs;
        int64_t deadline = fraud_time_mono_ns() + INT64_C(120000000000);

        fraud_kafka_options_init(&o);
        o.bootstrap_servers = bootstrap;
        o.group_id = "e2e-collector";
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "session.timeout.ms", "6000"), 0);
        ck_assert_int_eq(fraud_kafka_consumer_new(&o, &spec, &c, NULL, 0), 0);
        while (fraud_time_mono_ns() < deadline &&
               (scores->n < E2E_VALID || dead->n < E2E_MALFORMED)) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 200);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++)
                        e2e_take(&msgs[i], scores, dead);
        }
        /* A little longer: anything extra (a duplicate) would show now. */
        for (int64_t end = fraud_time_mono_ns() + INT64_C(3000000000);
             fraud_time_mono_ns() < end;) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 200);
                for (int i = 0; i < n; i++)
                        e2e_take(&msgs[i], scores, dead);
        }
        fraud_kafka_consumer_free(c);
}

static void e2e_config(char *path, size_t size, const char *dir) {
        FILE *f;

        snprintf(path, size, "%s/fraud.yaml", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  session_timeout_ms: 6000\n"
                "ingest:\n  state_dir: \"%s/ingest\"\n"
                "velocity:\n  state_dir: \"%s/velocity\"\n",
                dir, dir);
        ck_assert_int_eq(fclose(f), 0);
}

static int e2e_stop(pid_t pid) {
        int status;

        kill(pid, SIGTERM);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_pipeline_scores_every_valid_transaction_once_and_reconciles) {
        static struct e2e_seen scores, dead;
        char dir[] = "/tmp/fraud-e2e-XXXXXX", config[256];
        struct fraud_mock *m;
        pid_t pids[3];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        e2e_config(config, sizeof(config), dir);
        ck_assert_int_eq(fraud_mock_new(1, &m), 0);
        for (size_t i = 0; i < sizeof(e2e_topics) / sizeof(e2e_topics[0]); i++)
                ck_assert_int_eq(fraud_mock_topic_create(m, e2e_topics[i], 2), 0);
        setenv("FRAUD_KAFKA_BOOTSTRAP", fraud_mock_bootstrap(m), 1);
        setenv("FRAUD_INGEST_CARD_HASH_KEY", "000102030405060708090a0b0c0d0e0f", 1);
        pids[0] = e2e_spawn("ingest/fraud-ingest", config);
        pids[1] = e2e_spawn("velocity/fraud-velocity", config);
        pids[2] = e2e_spawn("scorer/fraud-scorer", config);

        e2e_publish(fraud_mock_bootstrap(m));
        e2e_collect(fraud_mock_bootstrap(m), &scores, &dead);

        ck_assert_uint_eq(scores.n, E2E_VALID);
        ck_assert_uint_eq(dead.n, E2E_MALFORMED);
        for (size_t i = 0; i < scores.n; i++)
                ck_assert_msg(strncmp(scores.ids[i], "e2e-", 4) == 0, "scored %s", scores.ids[i]);
        /* published = scored + rejected + duplicates */
        ck_assert_uint_eq(E2E_VALID + E2E_MALFORMED + E2E_DUPLICATES,
                          scores.n + dead.n + E2E_DUPLICATES + scores.duplicates);
        ck_assert_uint_eq(scores.duplicates, 0);
        for (int i = 2; i >= 0; i--)
                ck_assert_int_eq(e2e_stop(pids[i]), 0);
        fraud_mock_free(m);
        ck_assert_int_eq(testing_tree_remove(dir), 0);
}
END_TEST

TESTING_MAIN("pipeline", test_pipeline_scores_every_valid_transaction_once_and_reconciles)
