/* End to end: the three decision-path daemons (fraud-ingest, fraud-velocity,
 * fraud-scorer, the built executables) as separate processes.  Valid,
 * malformed and duplicate raw payments go in on tx.raw; every valid
 * transaction must come out as exactly one Score (after de-duplication by
 * id), every malformed one as a DeadLetter with its reason, duplicates
 * nowhere, and the counts must reconcile:
 * published = scored + rejected + duplicates.  SIGTERM then stops every
 * daemon with status 0.
 *
 * Two tests: one on librdkafka's mock cluster inside this process, with
 * hand-made records; one with nothing but the built programs, as an
 * operator runs them: fraud-broker, the three daemons and
 * `fraudctl generate --publish` injecting malformed records and duplicates
 * (tools/faults.h), five processes, reconciled against the generator's own
 * summary and ingest's counters. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/connect.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/score.pb-c.h"
#include "tools/faults.h"

#include "tests/testing.h"

#define E2E_VALID      300
#define E2E_DUPLICATES 30
#define E2E_SET_BITS   15 /* ids remembered: 32768 slots */
#define E2E_ID_MAX     48

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

/* Runs FRAUD_BUILD_ROOT/argv[0] with argv, stdout and stderr to out (NULL:
 * this process's). */
static pid_t e2e_run(const char *const argv[], const char *out) {
        char path[1024];
        pid_t pid;

        snprintf(path, sizeof(path), "%s/%s", getenv("FRAUD_BUILD_ROOT"), argv[0]);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;

                if (out && (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
                        _exit(126);
                execv(path, (char *const *)argv);
                _exit(127);
        }
        return pid;
}

/* The distinct ids seen (open addressing), and how often one came again. */
struct e2e_seen {
        char ids[1 << E2E_SET_BITS][E2E_ID_MAX];
        size_t n;
        size_t duplicates;
};

static void e2e_seen_add(struct e2e_seen *s, const char *id) {
        size_t mask = ((size_t)1 << E2E_SET_BITS) - 1;
        size_t i = (size_t)fraud_hash_fnv1a_str(id) & mask;

        ck_assert_uint_lt(strlen(id), E2E_ID_MAX);
        for (; s->ids[i][0]; i = (i + 1) & mask)
                if (strcmp(s->ids[i], id) == 0) {
                        s->duplicates++;
                        return;
                }
        ck_assert_uint_lt(s->n, mask / 2);
        snprintf(s->ids[i], E2E_ID_MAX, "%s", id);
        s->n++;
}

/* Every id of s, in no order: calls f for each. */
static void e2e_seen_each(const struct e2e_seen *s, void (*f)(const char *id)) {
        for (size_t i = 0; i < ((size_t)1 << E2E_SET_BITS); i++)
                if (s->ids[i][0])
                        f(s->ids[i]);
}

/* Dead letters by reason code. */
struct e2e_dead {
        char reason[16][32];
        size_t count[16];
        size_t n, total;
};

static void e2e_dead_add(struct e2e_dead *d, const char *reason) {
        size_t i = 0;

        while (i < d->n && strcmp(d->reason[i], reason) != 0)
                i++;
        if (i == d->n) {
                ck_assert_uint_lt(d->n, 16);
                snprintf(d->reason[d->n++], sizeof(d->reason[0]), "%s", reason);
        }
        d->count[i]++;
        d->total++;
}

static size_t e2e_dead_count(const struct e2e_dead *d, const char *reason) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->reason[i], reason) == 0)
                        return d->count[i];
        return 0;
}

static void e2e_take(const struct fraud_kafka_message *m, struct e2e_seen *scores,
                     struct e2e_dead *dead) {
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
                e2e_dead_add(dead, d->reason_code);
                fraud__dead_letter__free_unpacked(d, NULL);
        }
        fraud_kafka_input_done(m->input);
}

/* Reads scores and dlq until the expected counts arrived or 120 s passed. */
static void e2e_collect(const char *bootstrap, struct e2e_seen *scores, struct e2e_dead *dead,
                        size_t want_scores, size_t want_dead) {
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
               (scores->n < want_scores || dead->total < want_dead)) {
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

static void e2e_assert_valid_id(const char *id) {
        ck_assert_msg(strncmp(id, "e2e-", 4) == 0, "scored %s", id);
}

static void e2e_config(char *path, size_t size, const char *dir) {
        FILE *f;

        snprintf(path, size, "%s/fraud.yaml", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  session_timeout_ms: 6000\n"
                "ingest:\n  state_dir: \"%s/ingest\"\n  http_listen: \"127.0.0.1:0\"\n"
                "velocity:\n  state_dir: \"%s/velocity\"\n  http_listen: \"127.0.0.1:0\"\n"
                "scorer:\n  http_listen: \"127.0.0.1:0\"\n",
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
        static struct e2e_seen scores;
        static struct e2e_dead dead;
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
        pids[0] = e2e_run((const char *const[]){"ingest/fraud-ingest", "--config", config, NULL},
                          NULL);
        pids[1] = e2e_run(
                (const char *const[]){"velocity/fraud-velocity", "--config", config, NULL}, NULL);
        pids[2] = e2e_run((const char *const[]){"scorer/fraud-scorer", "--config", config, NULL},
                          NULL);

        e2e_publish(fraud_mock_bootstrap(m));
        e2e_collect(fraud_mock_bootstrap(m), &scores, &dead, E2E_VALID, E2E_MALFORMED);

        ck_assert_uint_eq(scores.n, E2E_VALID);
        ck_assert_uint_eq(dead.total, E2E_MALFORMED);
        e2e_seen_each(&scores, e2e_assert_valid_id);
        /* published = scored + rejected + duplicates */
        ck_assert_uint_eq(E2E_VALID + E2E_MALFORMED + E2E_DUPLICATES,
                          scores.n + dead.total + E2E_DUPLICATES + scores.duplicates);
        ck_assert_uint_eq(scores.duplicates, 0);
        for (int i = 2; i >= 0; i--)
                ck_assert_int_eq(e2e_stop(pids[i]), 0);
        fraud_mock_free(m);
        ck_assert_int_eq(testing_tree_remove(dir), 0);
}
END_TEST

/* ---- five processes: broker, generator, three daemons ---- */

/* The last line of path that contains what, into line; false if none. */
static bool e2e_grep(const char *path, const char *what, char *line, size_t size) {
        FILE *f = fopen(path, "r");
        char buf[1024];
        bool found = false;

        ck_assert_ptr_nonnull(f);
        while (fgets(buf, sizeof(buf), f))
                if (strstr(buf, what)) {
                        ck_assert_uint_lt(strlen(buf), size);
                        memcpy(line, buf, strlen(buf) + 1);
                        found = true;
                }
        fclose(f);
        return found;
}

static void e2e_assert_generated_id(const char *id) {
        ck_assert_msg(strncmp(id, "tx_", 3) == 0 && !strstr(id, FAULTS_ID_SUFFIX), "scored %s", id);
}

/* What `fraudctl generate` says it published. */
struct e2e_generated {
        unsigned long long published, delivered, failed, transactions, chargebacks, malformed,
                duplicates;
};

static void e2e_generated_read(const char *out, struct e2e_generated *g) {
        char line[512];

        ck_assert(e2e_grep(out, "published", line, sizeof(line)));
        ck_assert_int_eq(sscanf(line,
                                "fraudctl generate: published %llu, delivered %llu, failed %llu "
                                "(%llu transactions, %llu chargebacks, %llu malformed, %llu "
                                "duplicates)",
                                &g->published, &g->delivered, &g->failed, &g->transactions,
                                &g->chargebacks, &g->malformed, &g->duplicates),
                         7);
}

static void e2e_wait_file(const char *path) {
        for (int i = 0; i < 200 && access(path, R_OK) != 0; i++)
                usleep(50000);
        ck_assert_int_eq(access(path, R_OK), 0);
}

START_TEST(test_pipeline_five_processes_reconcile_a_generated_stream_with_faults) {
        static struct e2e_seen scores;
        static struct e2e_dead dead;
        char dir[] = "/tmp/fraud-e2e5-XXXXXX", config[256], boot[256], bootstrap[256];
        char out[6][300], line[512];
        static const char *const names[6] = {"broker", "ingest",   "velocity",
                                             "scorer", "generate", "ingest-end"};
        struct e2e_generated g;
        unsigned long long ingest_duplicates;
        pid_t pids[4], gen;
        FILE *f;
        int status;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        for (int i = 0; i < 6; i++)
                snprintf(out[i], sizeof(out[i]), "%s/%s.log", dir, names[i]);
        snprintf(boot, sizeof(boot), "%s/bootstrap", dir);
        snprintf(config, sizeof(config), "%s/fraud.yaml", dir);
        f = fopen(config, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  session_timeout_ms: 6000\n"
                "topics:\n  partitions: 2\n"
                "broker:\n  bootstrap_file: \"%s\"\n"
                "ingest:\n  state_dir: \"%s/ingest\"\n  http_listen: \"127.0.0.1:0\"\n"
                "velocity:\n  state_dir: \"%s/velocity\"\n  http_listen: \"127.0.0.1:0\"\n"
                "scorer:\n  http_listen: \"127.0.0.1:0\"\n",
                boot, dir, dir);
        ck_assert_int_eq(fclose(f), 0);
        unsetenv("FRAUD_KAFKA_BOOTSTRAP");
        setenv("FRAUD_INGEST_CARD_HASH_KEY", "000102030405060708090a0b0c0d0e0f", 1);

        pids[0] = e2e_run((const char *const[]){"tools/fraud-broker", "--config", config, NULL},
                          out[0]);
        e2e_wait_file(boot);
        ck_assert_int_eq(fraud_connect_bootstrap_read(boot, bootstrap, sizeof(bootstrap)), 0);
        pids[1] = e2e_run((const char *const[]){"ingest/fraud-ingest", "--config", config, NULL},
                          out[1]);
        pids[2] = e2e_run(
                (const char *const[]){"velocity/fraud-velocity", "--config", config, NULL}, out[2]);
        pids[3] = e2e_run((const char *const[]){"scorer/fraud-scorer", "--config", config, NULL},
                          out[3]);
        gen = e2e_run((const char *const[]){"tools/fraudctl",
                                            "generate",
                                            "--config",
                                            config,
                                            "--publish",
                                            "--rate",
                                            "4000",
                                            "--days",
                                            "2",
                                            "--customers",
                                            "300",
                                            "--merchants",
                                            "60",
                                            "--seed",
                                            "5",
                                            "--malformed-share",
                                            "0.02",
                                            "--duplicate-share",
                                            "0.03",
                                            NULL},
                      out[4]);
        ck_assert_int_eq(waitpid(gen, &status, 0), gen);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fraudctl generate: %d",
                      status);
        e2e_generated_read(out[4], &g);
        ck_assert_uint_gt(g.transactions, 1000);
        ck_assert_uint_gt(g.malformed, 6);
        ck_assert_uint_gt(g.duplicates, 6);
        ck_assert_uint_eq(g.failed, 0);
        ck_assert_uint_eq(g.published, g.transactions + g.chargebacks + g.malformed + g.duplicates);

        e2e_collect(bootstrap, &scores, &dead, g.transactions, g.malformed);
        for (int i = 3; i >= 0; i--)
                ck_assert_int_eq(e2e_stop(pids[i]), 0);

        /* Every valid transaction scored once, nothing else scored. */
        ck_assert_uint_eq(scores.n, g.transactions);
        ck_assert_uint_eq(scores.duplicates, 0);
        e2e_seen_each(&scores, e2e_assert_generated_id);
        /* Every malformed record in dlq, with the reason of its defect. */
        ck_assert_uint_eq(dead.total, g.malformed);
        for (int k = 0; k < FAULTS_KIND_COUNT; k++)
                ck_assert_uint_eq(
                        e2e_dead_count(&dead, faults_reason_code(k)),
                        g.malformed / FAULTS_KIND_COUNT +
                                ((unsigned long long)k < g.malformed % FAULTS_KIND_COUNT));
        /* Ingest's own count of duplicates is the generator's. */
        ck_assert(e2e_grep(out[1], "duplicates=", line, sizeof(line)));
        ck_assert_int_eq(sscanf(strstr(line, "duplicates="), "duplicates=%llu", &ingest_duplicates),
                         1);
        ck_assert_uint_eq(ingest_duplicates, g.duplicates);
        /* published = scored + rejected + duplicates (+ the chargebacks) */
        ck_assert_uint_eq(g.published, scores.n + dead.total + ingest_duplicates + g.chargebacks);
        printf("five processes: published %llu = scored %zu + rejected %zu + duplicates %llu + "
               "chargebacks %llu\n",
               g.published, scores.n, dead.total, ingest_duplicates, g.chargebacks);
        ck_assert_int_eq(testing_tree_remove(dir), 0);
}
END_TEST

TESTING_MAIN("pipeline", test_pipeline_scores_every_valid_transaction_once_and_reconciles,
             test_pipeline_five_processes_reconcile_a_generated_stream_with_faults)
