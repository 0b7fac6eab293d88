/* test_ingest.c: the ingest stage end to end against librdkafka's mock
 * cluster and a RocksDB store in a temporary directory.
 *
 * Publishes simulated valid records, malformed ones (one per reason, each
 * with the reason it must get) and duplicates to tx.raw; runs the stage
 * until it has consumed them all; then reads tx.normalized and dlq back and
 * checks that exactly the valid unique records arrived, each malformed one
 * is in dlq with its reason, and the counts reconcile.  Then restarts the
 * stage on the same store under another consumer group (so only the
 * offsets in RocksDB can say where to resume) and checks that nothing is
 * consumed or produced twice.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/ingest.h"
#include "lib/mock.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "tests/testing.h"
#include "tools/generate.h"
#include "tools/sim.h"

#define WAIT_MS   60000
#define N_VALID   300
#define N_DUP     25
#define N_VALID_2 40
#define WEEK_US   (7 * INT64_C(86400000000))
#define KEY_HEX   "00112233445566778899aabbccddeeff"
#define BAD_PAN   "4147008301893186"
#define RAW_FORMAT                                                                                 \
        "{\"transaction_id\":\"%s\",\"timestamp\":\"2026-01-01T08:15:02.123Z\",\"amount\":%s,"     \
        "\"currency\":\"%s\",\"pan\":\"%s\",\"customer_id\":\"C1\",\"merchant_id\":\"M1\","        \
        "\"terminal_id\":\"M1-01\",\"mcc\":\"5999\",\"country\":\"%s\",\"channel\":\"%s\","        \
        "\"device_id\":\"\",\"ip\":\"%s\"}"

/* A malformed record and the reason the stage must give it. */
struct bad_record {
        const char *id; /* the dlq's transaction_id: "" when unreadable */
        const char *amount, *currency, *pan, *country, *channel, *ip;
        const char *raw; /* used instead of RAW_FORMAT when set */
        const char *reason;
};

/* Over FRAUD_INGEST_RECORD_BYTES_MAX, and over what a dead letter keeps. */
static char big_raw[FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX + 4096];

static const struct bad_record bad_records[] = {
        {"", .raw = big_raw, .reason = "too_large"},
        {"", .raw = "not json at all", .reason = "bad_json"},
        {"", .raw = "{\"transaction_id\":\"tx_cut\",\"amount\":\"1", .reason = "bad_json"},
        {"", .raw = "{\"transaction_id\":\"tx_n\",\"amount\":{\"v\":1}}", .reason = "nested_json"},
        {"", .raw = "{\"transaction_id\":\"tx_\xc3\x28\"}", .reason = "bad_utf8"},
        {"", .raw = "", .reason = "bad_json"},
        {"tx_b1", "\"abc\"", "EUR", "4147008301893185", "IT", "ecommerce", "",
         .reason = "bad_amount"},
        {"tx_b2", "\"-5.00\"", "EUR", "4147008301893185", "IT", "moto", "",
         .reason = "amount_not_positive"},
        {"tx_b3", "\"1.234\"", "EUR", "4147008301893185", "IT", "atm", "",
         .reason = "amount_too_precise"},
        {"tx_b4", "\"10.00\"", "ZZZ", "4147008301893185", "IT", "atm", "",
         .reason = "unknown_currency"},
        {"tx_b5", "\"10.00\"", "EUR", BAD_PAN, "IT", "atm", "", .reason = "pan_checksum"},
        {"tx_b6", "\"10.00\"", "EUR", "4147008301893185", "QQ", "atm", "",
         .reason = "unknown_country"},
        {"tx_b7", "\"10.00\"", "EUR", "4147008301893185", "IT", "swipe", "",
         .reason = "unknown_channel"},
        {"tx_b8", "\"10.00\"", "EUR", "4147008301893185", "IT", "atm", "1.2.3", .reason = "bad_ip"},
        {"tx_b9", "10.00e0", "EUR", "4147008301893185", "IT", "atm", "", .reason = "bad_amount"},
};

#define N_BAD (sizeof(bad_records) / sizeof(bad_records[0]))

struct fixture {
        struct fraud_mock *mock;
        struct fraud_kafka_producer *producer;
        char dir[64];
        char state[128];
        char ids[N_VALID + N_VALID_2][SIM_ID_MAX];
        char json[N_VALID + N_VALID_2][FRAUD_GENERATE_LINE_MAX];
        size_t json_len[N_VALID + N_VALID_2];
        int normalized_seen[N_VALID + N_VALID_2]; /* times each id came out */
        int bad_seen[N_BAD];
};

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void options(struct fraud_kafka_options *o, struct fixture *fx, const char *group) {
        fraud_kafka_options_init(o);
        o->bootstrap_servers = fraud_mock_bootstrap(fx->mock);
        o->group_id = group;
        if (group) {
                ck_assert_int_eq(fraud_kafka_options_property_add(o, "session.timeout.ms", "6000"),
                                 0);
                ck_assert_int_eq(
                        fraud_kafka_options_property_add(o, "heartbeat.interval.ms", "1000"), 0);
        }
}

/* Simulated payments as tx.raw carries them. */
static void generate(struct fixture *fx) {
        struct sim_config c;
        struct sim *s = NULL;
        struct sim_event *ev = malloc(sizeof(*ev));
        int n = 0;

        sim_config_default(&c);
        c.days = 2;
        c.customers = 300;
        c.merchants = 60;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (n < N_VALID + N_VALID_2 && sim_next(s, ev) == 1) {
                if (ev->kind != SIM_EVENT_TRANSACTION)
                        continue;
                memcpy(fx->ids[n], ev->tx.transaction_id, SIM_ID_MAX);
                fx->json_len[n] = generate_transaction_json(&ev->tx, false, fx->json[n]) - 1;
                n++;
        }
        ck_assert_int_eq(n, N_VALID + N_VALID_2);
        sim_free(s);
        free(ev);
}

static void fixture_setup(struct fixture *fx) {
        struct fraud_kafka_options o;
        char err[256];

        memset(big_raw, ' ', sizeof(big_raw) - 1);
        big_raw[0] = '{';
        big_raw[sizeof(big_raw) - 2] = '}';
        ck_assert_int_eq(fraud_mock_new(1, &fx->mock), 0);
        ck_assert_int_eq(fraud_mock_topic_create(fx->mock, "tx.raw", 3), 0);
        ck_assert_int_eq(fraud_mock_topic_create(fx->mock, "tx.normalized", 3), 0);
        ck_assert_int_eq(fraud_mock_topic_create(fx->mock, "dlq", 1), 0);
        options(&o, fx, NULL);
        ck_assert_msg(fraud_kafka_producer_new(&o, &fx->producer, err, sizeof(err)) == 0, "%s",
                      err);
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-ingest-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
        generate(fx);
}

static void fixture_teardown(struct fixture *fx) {
        fraud_kafka_producer_free(fx->producer);
        fraud_mock_free(fx->mock);
        testing_tree_remove(fx->dir);
}

static void publish(struct fixture *fx, const char *key, const char *value, size_t len) {
        struct fraud_kafka_record rec = {"tx.raw", -1, key, strlen(key), len ? value : NULL, len};
        ck_assert_int_eq(fraud_kafka_producer_send(fx->producer, &rec, NULL), 0);
}

static void publish_valid(struct fixture *fx, int i) {
        publish(fx, fx->ids[i], fx->json[i], fx->json_len[i]);
}

static void publish_bad(struct fixture *fx) {
        char buf[1024];

        for (size_t i = 0; i < N_BAD; i++) {
                const struct bad_record *b = &bad_records[i];
                int n = b->raw ? 0
                               : snprintf(buf, sizeof(buf), RAW_FORMAT, b->id, b->amount,
                                          b->currency, b->pan, b->country, b->channel, b->ip);
                publish(fx, b->id[0] ? b->id : "bad", b->raw ? b->raw : buf,
                        b->raw ? strlen(b->raw) : (size_t)n);
        }
}

static void flush(struct fixture *fx) {
        ck_assert_int_eq(fraud_kafka_producer_flush(fx->producer, WAIT_MS), 0);
}

static struct ingest *stage_new(struct fixture *fx, const char *group, int64_t window_us) {
        struct fraud_kafka_options co, po;
        struct normalize_key key;
        struct ingest *g = NULL;
        char err[512];
        struct ingest_config cfg = {
                .consumer = &co,
                .producer = &po,
                .topic_raw = "tx.raw",
                .topic_normalized = "tx.normalized",
                .topic_dlq = "dlq",
                .state_dir = fx->state,
                .card_key = &key,
                .dedup_window_us = window_us,
                .flush_timeout_ms = WAIT_MS,
        };

        options(&co, fx, group);
        options(&po, fx, NULL);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
        ck_assert_msg(ingest_new(&cfg, &g, err, sizeof(err)) == 0, "%s", err);
        return g;
}

/* Polls until the stage consumed want records, then a little more to show
 * it consumes nothing else. */
static void stage_run(struct ingest *g, uint64_t want) {
        struct ingest_counts k;
        int64_t deadline = now_ms() + WAIT_MS, settle;

        do {
                ck_assert_msg(ingest_poll(g, 100) >= 0, "%s", ingest_error(g));
                ingest_counts(g, &k);
        } while (k.consumed < want && now_ms() < deadline);
        ck_assert_uint_eq(k.consumed, want);
        for (settle = now_ms() + 1000; now_ms() < settle;)
                ck_assert_msg(ingest_poll(g, 100) >= 0, "%s", ingest_error(g));
        ingest_counts(g, &k);
        ck_assert_uint_eq(k.consumed, want);
}

/* Reads every message of topic from the beginning (want of them). */
static void read_topic(struct fixture *fx, const char *topic, const char *group, size_t want,
                       void (*fn)(struct fixture *, const struct fraud_kafka_message *)) {
        const char *const t[] = {topic};
        struct fraud_kafka_consumer_spec spec = {
                .topics = t, .topics_count = 1, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c = NULL;
        const struct fraud_kafka_message *msgs;
        char err[256];
        size_t got = 0;
        int64_t deadline = now_ms() + WAIT_MS, settle;

        options(&o, fx, group);
        ck_assert_msg(fraud_kafka_consumer_new(&o, &spec, &c, err, sizeof(err)) == 0, "%s", err);
        settle = deadline;
        while (now_ms() < deadline && now_ms() < settle) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++, got++) {
                        fn(fx, &msgs[i]);
                        fraud_kafka_input_done(msgs[i].input);
                }
                if (got >= want && settle == deadline)
                        settle = now_ms() + 1000; /* anything more would be a duplicate */
        }
        ck_assert_uint_eq(got, want);
        fraud_kafka_consumer_free(c);
}

static int valid_index(struct fixture *fx, const char *id) {
        for (int i = 0; i < N_VALID + N_VALID_2; i++)
                if (strcmp(fx->ids[i], id) == 0)
                        return i;
        return -1;
}

static void check_normalized(struct fixture *fx, const struct fraud_kafka_message *m) {
        Fraud__Transaction *t = fraud__transaction__unpack(NULL, m->value_size, m->value);
        const char *pan;
        int i;

        ck_assert_ptr_nonnull(t);
        i = valid_index(fx, t->transaction_id);
        ck_assert_msg(i >= 0, "unexpected %s", t->transaction_id);
        fx->normalized_seen[i]++;
        ck_assert_uint_eq(m->key_size, strlen(t->card_hash));
        ck_assert_mem_eq(m->key, t->card_hash, m->key_size);
        ck_assert_int_gt(t->ingest_time_us, 0);
        pan = strstr(fx->json[i], "\"pan\":\"") + 7;
        ck_assert_ptr_null(memmem(m->value, m->value_size, pan, 16));
        fraud__transaction__free_unpacked(t, NULL);
}

static void check_dead_letter(struct fixture *fx, const struct fraud_kafka_message *m) {
        Fraud__DeadLetter *d = fraud__dead_letter__unpack(NULL, m->value_size, m->value);
        size_t i;

        ck_assert_ptr_nonnull(d);
        for (i = 0; i < N_BAD; i++) {
                const struct bad_record *b = &bad_records[i];
                size_t kept = strlen(b->raw ? b->raw : "");
                if (kept > FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX)
                        kept = FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX; /* cut, and said so */
                if (b->id[0] ? strcmp(d->transaction_id, b->id) == 0
                             : (d->original.len == kept &&
                                (kept == 0 || memcmp(d->original.data, b->raw, kept) == 0)))
                        break;
        }
        ck_assert_msg(i < N_BAD, "unexpected dead letter %s", d->reason);
        fx->bad_seen[i]++;
        if (bad_records[i].raw == big_raw)
                ck_assert_ptr_nonnull(strstr(d->reason, "original cut to 16384 of"));
        ck_assert_str_eq(d->reason_code, bad_records[i].reason);
        ck_assert_str_eq(d->stage, "ingest");
        ck_assert_str_eq(d->source_topic, "tx.raw");
        ck_assert_int_ge(d->source_offset, 0);
        ck_assert(d->reason[0] != '\0');
        if (d->original.len > 0)
                ck_assert_ptr_null(memmem(d->original.data, d->original.len, BAD_PAN, 16));
        if (strcmp(bad_records[i].reason, "pan_checksum") == 0)
                ck_assert_ptr_nonnull(
                        memmem(d->original.data, d->original.len, "414700******3186", 16));
        fraud__dead_letter__free_unpacked(d, NULL);
}

/* Valid, malformed and duplicate records through a fresh stage. */
static struct ingest *first_run(struct fixture *fx) {
        struct ingest *g;
        struct ingest_counts k;

        for (int i = 0; i < N_VALID; i++)
                publish_valid(fx, i);
        publish_bad(fx);
        for (int i = 0; i < N_DUP; i++)
                publish_valid(fx, i);
        flush(fx);
        g = stage_new(fx, "fraud-ingest", WEEK_US);
        stage_run(g, N_VALID + N_BAD + N_DUP);
        ingest_counts(g, &k);
        ck_assert_uint_eq(k.normalized, N_VALID);
        ck_assert_uint_eq(k.rejected, N_BAD);
        ck_assert_uint_eq(k.duplicates, N_DUP);
        ck_assert_uint_eq(k.consumed, k.normalized + k.rejected + k.duplicates);
        ck_assert_uint_eq(k.rejected_by_reason[NORMALIZE_BAD_JSON], 3);
        ck_assert_uint_eq(k.rejected_by_reason[NORMALIZE_BAD_AMOUNT], 2);
        return g;
}

START_TEST(test_ingest_passes_valid_records_once_and_dead_letters_the_rest) {
        struct fixture *fx = calloc(1, sizeof(*fx));
        struct ingest *g;

        fixture_setup(fx);
        g = first_run(fx);
        read_topic(fx, "tx.normalized", "check-normalized", N_VALID, check_normalized);
        for (int i = 0; i < N_VALID; i++)
                ck_assert_msg(fx->normalized_seen[i] == 1, "%s seen %d times", fx->ids[i],
                              fx->normalized_seen[i]);
        read_topic(fx, "dlq", "check-dlq", N_BAD, check_dead_letter);
        for (size_t i = 0; i < N_BAD; i++)
                ck_assert_msg(fx->bad_seen[i] == 1, "bad record %zu seen %d times", i,
                              fx->bad_seen[i]);
        ingest_free(g);
        fixture_teardown(fx);
        free(fx);
}
END_TEST

START_TEST(test_ingest_restart_resumes_at_stored_offsets_and_keeps_dedup_state) {
        struct fixture *fx = calloc(1, sizeof(*fx));
        struct ingest_counts k;
        struct ingest *g;

        fixture_setup(fx);
        ingest_free(first_run(fx));

        /* Earlier ids again, and new ones; another group, so that only the
         * offsets in RocksDB can place the consumer. */
        for (int i = N_DUP; i < 2 * N_DUP; i++)
                publish_valid(fx, i);
        for (int i = N_VALID; i < N_VALID + N_VALID_2; i++)
                publish_valid(fx, i);
        flush(fx);
        g = stage_new(fx, "fraud-ingest-restarted", WEEK_US);
        stage_run(g, N_DUP + N_VALID_2);
        ingest_counts(g, &k);
        ck_assert_uint_eq(k.normalized, N_VALID_2);
        ck_assert_uint_eq(k.duplicates, N_DUP);
        ck_assert_uint_eq(k.rejected, 0);
        ingest_free(g);

        read_topic(fx, "tx.normalized", "check-all", N_VALID + N_VALID_2, check_normalized);
        for (int i = 0; i < N_VALID + N_VALID_2; i++)
                ck_assert_msg(fx->normalized_seen[i] == 1, "%s seen %d times", fx->ids[i],
                              fx->normalized_seen[i]);
        fixture_teardown(fx);
        free(fx);
}
END_TEST

START_TEST(test_ingest_forgets_ids_older_than_the_dedup_window) {
        struct fixture *fx = calloc(1, sizeof(*fx));
        struct ingest_counts k;
        struct ingest *g;

        fixture_setup(fx);
        for (int i = 0; i < N_VALID; i++)
                publish_valid(fx, i);
        flush(fx);
        g = stage_new(fx, "fraud-ingest", FRAUD_USEC_PER_SEC);
        stage_run(g, N_VALID);

        /* A later record: its batch prunes every id a second older than it. */
        publish_valid(fx, N_VALID);
        flush(fx);
        stage_run(g, N_VALID + 1);
        ingest_counts(g, &k);
        ck_assert_uint_gt(k.pruned, N_VALID / 2);
        ck_assert_uint_le(k.pruned, N_VALID); /* never the latest one */

        /* The oldest id is forgotten, the latest is not. */
        publish_valid(fx, 0);
        publish_valid(fx, N_VALID);
        flush(fx);
        stage_run(g, N_VALID + 3);
        ingest_counts(g, &k);
        ck_assert_uint_eq(k.normalized, N_VALID + 2);
        ck_assert_uint_eq(k.duplicates, 1);
        ingest_free(g);
        fixture_teardown(fx);
        free(fx);
}
END_TEST

TESTING_MAIN("ingest", test_ingest_passes_valid_records_once_and_dead_letters_the_rest,
             test_ingest_restart_resumes_at_stored_offsets_and_keeps_dedup_state,
             test_ingest_forgets_ids_older_than_the_dedup_window)
