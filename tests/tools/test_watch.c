/* Tests for tools/watch.c (fraudctl watch) against the mock cluster: it
 * counts each transaction once, duplicates and undecodable messages apart,
 * and by decision. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kafka.h"
#include "lib/mock.h"
#include "proto/score.pb-c.h"
#include "tools/watch.h"

#include "tests/testing.h"

static void produce(struct fraud_kafka_producer *p, const void *value, size_t size) {
        const struct fraud_kafka_record rec = {
                .topic = "scores", .partition = 0, .value = value, .value_size = size};

        ck_assert_int_ge(fraud_kafka_producer_send(p, &rec, NULL), 0);
}

static void produce_score(struct fraud_kafka_producer *p, const char *id, Fraud__Decision d) {
        Fraud__Score s;
        uint8_t buf[256];

        fraud__score__init(&s);
        s.schema_version = 1;
        s.transaction_id = (char *)id;
        s.decision = d;
        s.stage = FRAUD__STAGE__STAGE_RULES;
        produce(p, buf, fraud__score__pack(&s, buf));
}

/* Runs fraudctl watch with args, its stdout captured into out. */
static int run_watch(char **argv, int argc, char *out, size_t size) {
        char path[] = "/tmp/fraud-watch-XXXXXX";
        int fd = mkstemp(path), saved = dup(STDOUT_FILENO), status;
        ssize_t n;

        ck_assert_int_ge(fd, 0);
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        status = watch_main(argc, argv);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        n = pread(fd, out, size - 1, 0);
        out[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
        return status;
}

START_TEST(test_watch_counts_each_transaction_once_and_duplicates_apart) {
        struct fraud_mock *m;
        struct fraud_kafka_producer *p;
        struct fraud_kafka_options o;
        char out[8192];
        char *argv[] = {(char *)"fraudctl watch",
                        (char *)"--from-beginning",
                        (char *)"--expect",
                        (char *)"3",
                        (char *)"--seconds",
                        (char *)"60",
                        NULL};

        ck_assert_int_eq(fraud_mock_new(1, &m), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, "scores", 1), 0);
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(m);
        ck_assert_int_eq(fraud_kafka_producer_new(&o, &p, NULL, 0), 0);
        produce_score(p, "tx-1", FRAUD__DECISION__DECISION_ALLOW);
        produce_score(p, "tx-2", FRAUD__DECISION__DECISION_BLOCK);
        produce_score(p, "tx-1", FRAUD__DECISION__DECISION_ALLOW);
        produce(p, "\xff\xff\xff", 3);
        produce_score(p, "tx-3", FRAUD__DECISION__DECISION_REVIEW);
        ck_assert_int_eq(fraud_kafka_producer_flush(p, 10000), 0);
        setenv("FRAUD_KAFKA_BOOTSTRAP", fraud_mock_bootstrap(m), 1);

        ck_assert_int_eq(run_watch(argv, 6, out, sizeof(out)), 0);
        ck_assert_msg(strstr(out, "scored: 3 transactions (allow 1, review 1, block 1); "
                                  "duplicates 1, undecodable 1") != NULL,
                      "output: %s", out);
        fraud_kafka_producer_free(p);
        fraud_mock_free(m);
}
END_TEST

START_TEST(test_watch_rejects_a_bad_number_with_usage_status) {
        char out[1024];
        char *argv[] = {(char *)"fraudctl watch", (char *)"--expect", (char *)"-3", NULL};

        ck_assert_int_eq(run_watch(argv, 3, out, sizeof(out)), 64);
}
END_TEST

TESTING_MAIN("watch", test_watch_counts_each_transaction_once_and_duplicates_apart,
             test_watch_rejects_a_bad_number_with_usage_status)
