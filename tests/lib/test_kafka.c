/* test_kafka.c: lib/kafka.c against librdkafka's mock cluster (lib/mock.c),
 * and its offset tracker as a pure structure.
 *
 * Every Kafka test starts its own mock cluster inside its own forked test
 * process, so no state leaks between tests.  Waits are bounded loops over
 * the poll functions (WAIT_MS), never sleeps that merely hope.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/kafka.h"
#include "lib/mock.h"
#include "tests/testing.h"

#define WAIT_MS         20000
#define PRODUCE_API_KEY 0 /* Kafka protocol ApiKey of ProduceRequest */

/* ---- helpers ---- */

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct fraud_mock *mock_with_topics(int brokers, const char *const *topics, size_t n,
                                           int partitions) {
        struct fraud_mock *m = NULL;
        ck_assert_int_eq(fraud_mock_new(brokers, &m), 0);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(fraud_mock_topic_create(m, topics[i], partitions), 0);
        return m;
}

static void options_for(struct fraud_kafka_options *o, struct fraud_mock *m, const char *group) {
        fraud_kafka_options_init(o);
        o->bootstrap_servers = fraud_mock_bootstrap(m);
        o->group_id = group;
}

static struct fraud_kafka_producer *producer_for(struct fraud_mock *m) {
        struct fraud_kafka_options o;
        struct fraud_kafka_producer *p = NULL;
        char err[256] = "";

        options_for(&o, m, NULL);
        ck_assert_msg(fraud_kafka_producer_new(&o, &p, err, sizeof err) == 0, "%s", err);
        return p;
}

static struct fraud_kafka_consumer *consumer_for(struct fraud_mock *m, const char *group,
                                                 const struct fraud_kafka_consumer_spec *spec) {
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c = NULL;
        char err[256] = "";

        options_for(&o, m, group);
        /* The mock group coordinator waits up to session.timeout.ms - 1 s
         * before it rebalances a group that a member just left. */
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "session.timeout.ms", "6000"), 0);
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "heartbeat.interval.ms", "1000"), 0);
        ck_assert_msg(fraud_kafka_consumer_new(&o, spec, &c, err, sizeof err) == 0, "%s", err);
        return c;
}

/* Produces "v0".."v{n-1}" to topic partition 0 and waits for delivery. */
static void produce_values(struct fraud_mock *m, const char *topic, int n) {
        struct fraud_kafka_producer *p = producer_for(m);
        struct fraud_kafka_counters k;
        char v[16];

        for (int i = 0; i < n; i++) {
                int len = snprintf(v, sizeof v, "v%d", i);
                struct fraud_kafka_record rec = {topic, 0, "k", 1, v, (size_t)len};
                ck_assert_int_eq(fraud_kafka_producer_send(p, &rec, NULL), 0);
        }
        ck_assert_int_eq(fraud_kafka_producer_flush(p, WAIT_MS), 0);
        fraud_kafka_producer_counters(p, &k);
        ck_assert_uint_eq(k.delivered, (uint64_t)n);
        fraud_kafka_producer_free(p);
}

/* Polls until want messages arrived, recording their offsets; completes
 * (done, no output) the first complete of them and leaves the rest open. */
static void poll_offsets(struct fraud_kafka_consumer *c, int want, int64_t *offsets, int complete) {
        const struct fraud_kafka_message *msgs;
        int64_t deadline = now_ms() + WAIT_MS;
        int got = 0;

        while (got < want && now_ms() < deadline) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                ck_assert_int_le(got + n, want);
                for (int i = 0; i < n; i++) {
                        if (got < complete)
                                fraud_kafka_input_done(msgs[i].input);
                        offsets[got++] = msgs[i].offset;
                }
        }
        ck_assert_int_eq(got, want);
}

static int assign_beginning(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        (void)opaque;
        (void)topic;
        (void)partition;
        *offset = FRAUD_KAFKA_OFFSET_BEGINNING;
        return 0;
}

/* Serves p for ms milliseconds. */
static void serve(struct fraud_kafka_producer *p, int ms) {
        int64_t deadline = now_ms() + ms;
        while (now_ms() < deadline)
                fraud_kafka_producer_poll(p, 20);
}

struct lag_seen {
        int calls;
        int64_t lag;
};

static void lag_record(void *ctx, const char *topic, int32_t partition, int64_t lag) {
        struct lag_seen *s = ctx;

        ck_assert_str_eq(topic, "lagging");
        ck_assert_int_eq(partition, 0);
        s->calls++;
        s->lag = lag;
}

/* The lag is what the consumer has not taken yet: the end of the
 * partition minus its position, from librdkafka's cached watermark. */
START_TEST(test_kafka_consumer_lag_is_end_minus_position) {
        static const char *const topics[] = {"lagging"};
        const struct fraud_kafka_consumer_spec spec = {
                .topics = topics, .topics_count = 1, .assign = assign_beginning};
        struct fraud_mock *m = mock_with_topics(1, topics, 1, 1);
        struct fraud_kafka_options o;
        struct fraud_kafka_consumer *c = NULL;
        const struct fraud_kafka_message *msgs;
        struct lag_seen seen = {0, -2};
        int64_t deadline = now_ms() + WAIT_MS;
        char err[256] = "";
        int got = 0, n;

        produce_values(m, "lagging", 10);
        options_for(&o, m, "lag-group");
        o.consume_batch_max = 4;
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "session.timeout.ms", "6000"), 0);
        ck_assert_msg(fraud_kafka_consumer_new(&o, &spec, &c, err, sizeof err) == 0, "%s", err);
        while (got == 0 && now_ms() < deadline) {
                n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++)
                        fraud_kafka_input_done(msgs[i].input);
                got += n;
        }
        ck_assert_int_gt(got, 0);
        ck_assert_int_le(got, 4);
        ck_assert_int_eq(fraud_kafka_consumer_lag(c, lag_record, &seen), 1);
        ck_assert_int_eq(seen.calls, 1);
        ck_assert_int_eq(seen.lag, 10 - got);
        while (got < 10 && now_ms() < deadline) {
                n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++)
                        fraud_kafka_input_done(msgs[i].input);
                got += n;
        }
        ck_assert_int_eq(got, 10);
        ck_assert_int_eq(fraud_kafka_consumer_lag(c, lag_record, &seen), 1);
        ck_assert_int_eq(seen.lag, 0);
        fraud_kafka_consumer_free(c);
        fraud_mock_free(m);
}
END_TEST

/* ---- Kafka round trip, offset reset ---- */

START_TEST(test_kafka_round_trip_delivers_every_message_in_order) {
        static const char *const topics[] = {"tx.raw"};
        struct fraud_mock *m = mock_with_topics(3, topics, 1, 3);
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_EARLIEST,
        };
        struct fraud_kafka_consumer *c;
        struct fraud_kafka_counters k;
        const struct fraud_kafka_message *msgs;
        int64_t deadline;
        int got = 0;

        produce_values(m, "tx.raw", 20);
        c = consumer_for(m, "round-trip", &spec);
        deadline = now_ms() + WAIT_MS;
        while (got < 20 && now_ms() < deadline) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++, got++) {
                        char want[16];
                        int len = snprintf(want, sizeof want, "v%d", got);
                        ck_assert_str_eq(msgs[i].topic, "tx.raw");
                        ck_assert_int_eq(msgs[i].partition, 0);
                        ck_assert_int_eq(msgs[i].offset, got);
                        ck_assert_uint_eq(msgs[i].value_size, (size_t)len);
                        ck_assert_mem_eq(msgs[i].value, want, (size_t)len);
                        ck_assert_uint_eq(msgs[i].key_size, 1);
                        ck_assert_mem_eq(msgs[i].key, "k", 1);
                        fraud_kafka_input_done(msgs[i].input);
                }
        }
        ck_assert_int_eq(got, 20);
        fraud_kafka_consumer_counters(c, &k);
        ck_assert_uint_eq(k.consumed, 20);
        ck_assert_uint_eq(k.offset_resets, 0);
        fraud_kafka_consumer_free(c);
        fraud_mock_free(m);
}
END_TEST

START_TEST(test_kafka_internal_topic_without_committed_offset_counts_offset_reset) {
        static const char *const topics[] = {"tx.features"};
        struct fraud_mock *m = mock_with_topics(1, topics, 1, 1);
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_ERROR,
        };
        struct fraud_kafka_consumer *c;
        struct fraud_kafka_counters k = {0};
        const struct fraud_kafka_message *msgs;
        int64_t deadline;

        produce_values(m, "tx.features", 3);
        c = consumer_for(m, "fresh-group", &spec);
        deadline = now_ms() + WAIT_MS;
        while (k.offset_resets == 0 && now_ms() < deadline) {
                ck_assert_int_eq(fraud_kafka_consumer_poll_batch(c, &msgs, 100), 0);
                fraud_kafka_consumer_counters(c, &k);
        }
        ck_assert_uint_ge(k.offset_resets, 1);
        ck_assert_int_eq(k.last_error, -ERANGE);
        ck_assert_uint_eq(k.consumed, 0);
        ck_assert_ptr_nonnull(strstr(fraud_kafka_consumer_error(c), "tx.features"));
        fraud_kafka_consumer_free(c);
        fraud_mock_free(m);
}
END_TEST

/* ---- offsets after delivery ---- */

static const char *const io_topics[] = {"in", "out"};

static struct fraud_kafka_consumer *stage_consumer(struct fraud_mock *m,
                                                   struct fraud_kafka_producer *p) {
        struct fraud_kafka_consumer_spec spec = {
                .topics = io_topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_ERROR,
                .producer = p,
                .assign = assign_beginning,
        };
        return consumer_for(m, "stage", &spec);
}

/* Produces one output of input in, then declares in done. */
static void send_output(struct fraud_kafka_producer *p, struct fraud_kafka_input *in) {
        struct fraud_kafka_record rec = {"out", -1, "k", 1, "output", 6};
        ck_assert_int_eq(fraud_kafka_producer_send(p, &rec, in), 0);
        fraud_kafka_input_done(in);
}

/* Polls until want messages arrived; keeps their inputs (valid until done)
 * and offsets. */
static void poll_inputs(struct fraud_kafka_consumer *c, int want, struct fraud_kafka_input **in,
                        int64_t *offsets) {
        const struct fraud_kafka_message *msgs;
        int64_t deadline = now_ms() + WAIT_MS;
        int got = 0;

        while (got < want && now_ms() < deadline) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, 100);
                ck_assert_int_ge(n, 0);
                ck_assert_int_le(got + n, want);
                for (int i = 0; i < n; i++, got++) {
                        in[got] = msgs[i].input;
                        offsets[got] = msgs[i].offset;
                }
        }
        ck_assert_int_eq(got, want);
}

START_TEST(test_kafka_input_offset_is_stored_only_after_its_output_is_delivered) {
        struct fraud_mock *m = mock_with_topics(1, io_topics, 2, 1);
        struct fraud_kafka_producer *p;
        struct fraud_kafka_consumer *c;
        struct fraud_kafka_offset ready[4];
        struct fraud_kafka_input *in;
        int64_t offset = -1, committed = 0;

        produce_values(m, "in", 1);
        p = producer_for(m);
        c = stage_consumer(m, p);
        poll_inputs(c, 1, &in, &offset);
        ck_assert_int_eq(offset, 0);

        /* The broker answers the next ProduceRequest only after 3 s. */
        ck_assert_int_eq(rd_kafka_mock_broker_push_request_error_rtts(
                                 fraud_mock_cluster(m), 1, PRODUCE_API_KEY, 1,
                                 RD_KAFKA_RESP_ERR_NO_ERROR, 3000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        send_output(p, in);
        serve(p, 1000);
        ck_assert_int_eq(fraud_kafka_producer_outstanding(p), 1);
        ck_assert_int_eq(fraud_kafka_consumer_offsets_ready(c, ready, 4), 0);
        ck_assert_int_eq(fraud_kafka_consumer_commit(c), 0);
        ck_assert_int_eq(fraud_kafka_consumer_committed(c, "in", 0, &committed, WAIT_MS), 0);
        ck_assert_int_eq(committed, FRAUD_KAFKA_OFFSET_COMMITTED);

        ck_assert_int_eq(fraud_kafka_producer_flush(p, WAIT_MS), 0);
        ck_assert_int_eq(fraud_kafka_consumer_offsets_ready(c, ready, 4), 1);
        ck_assert_str_eq(ready[0].topic, "in");
        ck_assert_int_eq(ready[0].partition, 0);
        ck_assert_int_eq(ready[0].offset, 1);
        ck_assert_int_eq(fraud_kafka_consumer_commit(c), 0);
        ck_assert_int_eq(fraud_kafka_consumer_committed(c, "in", 0, &committed, WAIT_MS), 0);
        ck_assert_int_eq(committed, 1);
        ck_assert_int_eq(fraud_kafka_consumer_offsets_ready(c, ready, 4), 0);

        fraud_kafka_consumer_free(c);
        fraud_kafka_producer_free(p);
        fraud_mock_free(m);
}
END_TEST

START_TEST(test_kafka_failed_delivery_keeps_later_input_offsets_unstored) {
        struct fraud_mock *m = mock_with_topics(1, io_topics, 2, 1);
        struct fraud_kafka_producer *p;
        struct fraud_kafka_consumer *c;
        struct fraud_kafka_counters pk, ck;
        struct fraud_kafka_offset ready[4];
        struct fraud_kafka_input *in[2];
        int64_t offsets[2], committed = 0;

        produce_values(m, "in", 2);
        p = producer_for(m);
        c = stage_consumer(m, p);
        poll_inputs(c, 2, in, offsets);
        ck_assert_int_eq(offsets[0], 0);
        ck_assert_int_eq(offsets[1], 1);

        /* Output of input 0: the broker refuses it for good. */
        rd_kafka_mock_push_request_errors(fraud_mock_cluster(m), PRODUCE_API_KEY, 1,
                                          RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
        send_output(p, in[0]);
        ck_assert_int_eq(fraud_kafka_producer_flush(p, WAIT_MS), 0);
        fraud_kafka_producer_counters(p, &pk);
        ck_assert_uint_eq(pk.delivery_failed, 1);
        ck_assert_int_eq(pk.last_error, -EMSGSIZE);

        /* Output of input 1 is delivered, yet offset 2 must not be stored. */
        send_output(p, in[1]);
        ck_assert_int_eq(fraud_kafka_producer_flush(p, WAIT_MS), 0);
        fraud_kafka_producer_counters(p, &pk);
        ck_assert_uint_eq(pk.delivered, 1);

        fraud_kafka_consumer_counters(c, &ck);
        ck_assert_uint_eq(ck.delivery_failed, 1);
        ck_assert_int_eq(fraud_kafka_consumer_offsets_ready(c, ready, 4), 0);
        ck_assert_int_eq(fraud_kafka_consumer_commit(c), 0);
        ck_assert_int_eq(fraud_kafka_consumer_committed(c, "in", 0, &committed, WAIT_MS), 0);
        ck_assert_int_eq(committed, FRAUD_KAFKA_OFFSET_COMMITTED);

        fraud_kafka_consumer_free(c);
        fraud_kafka_producer_free(p);
        fraud_mock_free(m);
}
END_TEST

/* ---- restart from caller-supplied offsets ---- */

struct hook_log {
        int64_t start; /* what assign supplies */
        int assigned;
        int64_t revoked_at; /* offset revoke was told */
};

static int assign_from_log(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct hook_log *h = opaque;
        ck_assert_str_eq(topic, "tx.normalized");
        ck_assert_int_eq(partition, 0);
        h->assigned++;
        *offset = h->start;
        return 0;
}

static void revoke_to_log(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct hook_log *h = opaque;
        (void)topic;
        (void)partition;
        h->revoked_at = offset;
}

START_TEST(test_kafka_restart_resumes_from_offset_supplied_by_assign_hook) {
        static const char *const topics[] = {"tx.normalized"};
        struct fraud_mock *m = mock_with_topics(1, topics, 1, 1);
        struct hook_log first = {FRAUD_KAFKA_OFFSET_BEGINNING, 0, -1};
        struct hook_log second = {7, 0, -1};
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_ERROR,
                .assign = assign_from_log,
                .commit_assigned = true,
                .revoke = revoke_to_log,
                .opaque = &first,
        };
        struct fraud_kafka_consumer *c;
        int64_t offsets[10], committed = 0;

        produce_values(m, "tx.normalized", 10);

        /* First run: inputs 0..2 complete, 3..9 still open; close commits 3. */
        c = consumer_for(m, "velocity", &spec);
        poll_offsets(c, 10, offsets, 3);
        ck_assert_int_eq(offsets[0], 0);
        ck_assert_int_eq(fraud_kafka_consumer_close(c), 0);
        fraud_kafka_consumer_free(c);
        ck_assert_int_eq(first.assigned, 1);
        ck_assert_int_eq(first.revoked_at, 3);

        /* Restart: the group has 3 committed, the caller's store says 7. */
        spec.opaque = &second;
        c = consumer_for(m, "velocity", &spec);
        poll_offsets(c, 3, offsets, 3);
        ck_assert_int_eq(second.assigned, 1);
        ck_assert_int_eq(offsets[0], 7);
        ck_assert_int_eq(offsets[1], 8);
        ck_assert_int_eq(offsets[2], 9);
        /* The group's offset follows where the stage resumed, before any
         * new input is stored (lag and a replay's barrier read it). */
        ck_assert_int_eq(fraud_kafka_consumer_committed(c, "tx.normalized", 0, &committed, WAIT_MS),
                         0);
        ck_assert_int_eq(committed, 7);
        fraud_kafka_consumer_free(c);
        ck_assert_int_eq(second.revoked_at, 10);
        fraud_mock_free(m);
}
END_TEST

/* ---- error mapping, options ---- */

START_TEST(test_kafka_errno_maps_librdkafka_errors_to_negative_errno) {
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR_NO_ERROR), 0);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), -ETIMEDOUT);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR__QUEUE_FULL), -ENOBUFS);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), -EMSGSIZE);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), -ENOENT);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET), -ERANGE);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR__FATAL), -ENOTRECOVERABLE);
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT), -ECANCELED);
}
END_TEST

START_TEST(test_kafka_errno_maps_unlisted_error_to_eio) {
        ck_assert_int_eq(fraud_kafka_errno(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS), -EIO);
}
END_TEST

START_TEST(test_kafka_options_reject_zero_linger) {
        struct fraud_kafka_options o;
        char err[128] = "";

        fraud_kafka_options_init(&o);
        o.bootstrap_servers = "127.0.0.1:9092";
        ck_assert_int_eq(fraud_kafka_options_check(&o, false, err, sizeof err), 0);
        o.linger_ms = 0;
        ck_assert_int_eq(fraud_kafka_options_check(&o, false, err, sizeof err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "linger_ms"));
}
END_TEST

START_TEST(test_kafka_options_reject_passthrough_of_delivery_critical_key) {
        struct fraud_kafka_options o;

        fraud_kafka_options_init(&o);
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "sasl.mechanism", "PLAIN"), 0);
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "enable.auto.offset.store", "true"),
                         -EINVAL);
        ck_assert_int_eq(fraud_kafka_options_property_add(&o, "acks", "1"), -EINVAL);
        ck_assert_uint_eq(o.props_count, 1);
}
END_TEST

/* ---- tracker (pure) ---- */

static struct fraud_kafka_input *begin(struct fraud_kafka_tracker *t, const char *topic,
                                       int64_t offset) {
        struct fraud_kafka_input *in = NULL;
        ck_assert_int_eq(fraud_kafka_tracker_begin(t, topic, 0, offset, &in), 0);
        return in;
}

/* One input with one output queued, done producing. */
static struct fraud_kafka_input *begin_one_output(struct fraud_kafka_tracker *t, int64_t offset) {
        struct fraud_kafka_input *in = begin(t, "t", offset);
        fraud_kafka_input_output_add(in);
        fraud_kafka_input_done(in);
        return in;
}

START_TEST(test_tracker_stores_offsets_in_order_when_deliveries_complete_out_of_order) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(8);
        struct fraud_kafka_input *in[3];
        struct fraud_kafka_offset ready[2];

        for (int i = 0; i < 3; i++)
                in[i] = begin_one_output(t, 10 + i);
        fraud_kafka_input_delivered(in[2], 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 2), 0);
        fraud_kafka_input_delivered(in[1], 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 2), 0);
        fraud_kafka_input_delivered(in[0], 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 2), 1);
        ck_assert_int_eq(ready[0].offset, 13);
        ck_assert_uint_eq(fraud_kafka_tracker_free_slots(t), 8);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_advances_over_prefix_up_to_first_undelivered_input) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(8);
        struct fraud_kafka_input *in[3];
        struct fraud_kafka_offset ready[2];

        for (int i = 0; i < 3; i++)
                in[i] = begin_one_output(t, i);
        fraud_kafka_input_delivered(in[0], 0);
        fraud_kafka_input_delivered(in[2], 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 2), 1);
        ck_assert_int_eq(ready[0].offset, 1);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_completes_input_without_outputs_when_done) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(4);
        struct fraud_kafka_offset ready[1];

        fraud_kafka_input_done(begin(t, "t", 5));
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 1);
        ck_assert_int_eq(ready[0].offset, 6);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_keeps_input_open_until_done_even_when_outputs_delivered) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(4);
        struct fraud_kafka_input *in = begin(t, "t", 0);
        struct fraud_kafka_offset ready[1];

        fraud_kafka_input_output_add(in);
        fraud_kafka_input_delivered(in, 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 0);
        fraud_kafka_input_output_add(in);
        fraud_kafka_input_done(in);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 0);
        fraud_kafka_input_delivered(in, 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 1);
        ck_assert_int_eq(ready[0].offset, 1);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_failed_delivery_pins_partition_offset) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(8);
        struct fraud_kafka_input *a, *b, *c;
        struct fraud_kafka_offset ready[1];

        a = begin_one_output(t, 0);
        b = begin_one_output(t, 1);
        c = begin_one_output(t, 2);
        fraud_kafka_input_delivered(a, 0);
        fraud_kafka_input_delivered(b, -EMSGSIZE);
        fraud_kafka_input_delivered(c, 0);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 1);
        ck_assert_int_eq(ready[0].offset, 1);
        ck_assert_uint_eq(fraud_kafka_tracker_failed(t), 1);
        fraud_kafka_input_done(begin(t, "t", 3));
        ck_assert_int_eq(fraud_kafka_tracker_position(t, "t", 0), 1);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_keeps_partitions_independent) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(8);
        struct fraud_kafka_input *slow = begin_one_output(t, 0);
        struct fraud_kafka_offset ready[2];

        fraud_kafka_input_done(begin(t, "u", 40));
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 2), 1);
        ck_assert_str_eq(ready[0].topic, "u");
        ck_assert_int_eq(ready[0].offset, 41);
        ck_assert_int_eq(fraud_kafka_tracker_position(t, "t", 0), -1);
        fraud_kafka_input_delivered(slow, 0);
        ck_assert_int_eq(fraud_kafka_tracker_position(t, "t", 0), 1);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_reports_only_offsets_moved_since_stored) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(4);
        struct fraud_kafka_offset ready[1];

        fraud_kafka_input_done(begin(t, "t", 0));
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 1);
        fraud_kafka_tracker_stored(t, ready, 1);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 0);
        fraud_kafka_input_done(begin(t, "t", 1));
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 1);
        ck_assert_int_eq(ready[0].offset, 2);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_refuses_input_when_pool_is_full) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(2);
        struct fraud_kafka_input *in = NULL;

        begin(t, "t", 0);
        begin(t, "t", 1);
        ck_assert_uint_eq(fraud_kafka_tracker_free_slots(t), 0);
        ck_assert_int_eq(fraud_kafka_tracker_begin(t, "t", 0, 2, &in), -ENOBUFS);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_forgotten_partition_frees_slots_after_late_delivery) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(2);
        struct fraud_kafka_input *in = begin_one_output(t, 0);
        struct fraud_kafka_offset ready[1];

        fraud_kafka_input_done(begin(t, "t", 1)); /* stays behind in 0 */
        fraud_kafka_tracker_forget(t, "t", 0);
        ck_assert_uint_eq(fraud_kafka_tracker_free_slots(t), 1);
        fraud_kafka_input_delivered(in, 0);
        ck_assert_uint_eq(fraud_kafka_tracker_free_slots(t), 2);
        ck_assert_int_eq(fraud_kafka_tracker_ready(t, ready, 1), 0);
        ck_assert_int_eq(fraud_kafka_tracker_position(t, "t", 0), -1);
        fraud_kafka_tracker_free(t);
}
END_TEST

START_TEST(test_tracker_restarts_partition_when_offset_goes_back) {
        struct fraud_kafka_tracker *t = fraud_kafka_tracker_new(4);
        struct fraud_kafka_input *in = NULL;

        fraud_kafka_input_done(begin(t, "t", 5));
        ck_assert_int_eq(fraud_kafka_tracker_begin(t, "t", 0, 3, &in), 1);
        fraud_kafka_input_done(in);
        ck_assert_int_eq(fraud_kafka_tracker_position(t, "t", 0), 4);
        fraud_kafka_tracker_free(t);
}
END_TEST

static Suite *kafka_suite(void) {
        Suite *s = suite_create("kafka");
        TCase *tracker = tcase_create("tracker");
        TCase *pure = tcase_create("pure");
        TCase *mock = tcase_create("mock");

        tcase_add_test(tracker,
                       test_tracker_stores_offsets_in_order_when_deliveries_complete_out_of_order);
        tcase_add_test(tracker, test_tracker_advances_over_prefix_up_to_first_undelivered_input);
        tcase_add_test(tracker, test_tracker_completes_input_without_outputs_when_done);
        tcase_add_test(tracker,
                       test_tracker_keeps_input_open_until_done_even_when_outputs_delivered);
        tcase_add_test(tracker, test_tracker_failed_delivery_pins_partition_offset);
        tcase_add_test(tracker, test_tracker_keeps_partitions_independent);
        tcase_add_test(tracker, test_tracker_reports_only_offsets_moved_since_stored);
        tcase_add_test(tracker, test_tracker_refuses_input_when_pool_is_full);
        tcase_add_test(tracker, test_tracker_forgotten_partition_frees_slots_after_late_delivery);
        tcase_add_test(tracker, test_tracker_restarts_partition_when_offset_goes_back);
        suite_add_tcase(s, tracker);

        tcase_add_test(pure, test_kafka_errno_maps_librdkafka_errors_to_negative_errno);
        tcase_add_test(pure, test_kafka_errno_maps_unlisted_error_to_eio);
        tcase_add_test(pure, test_kafka_options_reject_zero_linger);
        tcase_add_test(pure, test_kafka_options_reject_passthrough_of_delivery_critical_key);
        suite_add_tcase(s, pure);

        tcase_set_timeout(mock, 60);
        tcase_add_test(mock, test_kafka_round_trip_delivers_every_message_in_order);
        tcase_add_test(mock, test_kafka_consumer_lag_is_end_minus_position);
        tcase_add_test(mock,
                       test_kafka_internal_topic_without_committed_offset_counts_offset_reset);
        tcase_add_test(mock, test_kafka_input_offset_is_stored_only_after_its_output_is_delivered);
        tcase_add_test(mock, test_kafka_failed_delivery_keeps_later_input_offsets_unstored);
        tcase_add_test(mock, test_kafka_restart_resumes_from_offset_supplied_by_assign_hook);
        suite_add_tcase(s, mock);
        return s;
}

int main(void) {
        return testing_run(kafka_suite());
}
