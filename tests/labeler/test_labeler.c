/* Tests for labeler/labeler.c, the stage on librdkafka's mock cluster
 * (lib/mock.h): FeatureVectors, Scores and Chargebacks published to their
 * topics (two partitions each, keyed by card) in event-time order, the
 * stage object stepped in-process until it has consumed what was
 * published, Labels read back from the labels topic.
 *
 *   - restart: a clean stop at a third of the stream, a copy of the
 *     RocksDB directory, a second instance that runs CRASH_EVENTS further
 *     and stops, the copy put back (the state of a crash after those
 *     labels were delivered but before their state was committed), and a
 *     third instance that resumes there, consumes those events again (in
 *     whatever interleaving of topics and partitions: they span less than
 *     the lateness) and runs to the end.  Every label the brute force
 *     (tests/labeler/kit.h) expects must be on the topic, no other, each
 *     (transaction, status, value) re-sent only with the same bytes, and
 *     some must have been re-sent (the crash was real).
 *   - bad input on each topic goes to dlq with its reason and the stage
 *     goes on.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labeler/labeler.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "proto/dead_letter.pb-c.h"
#include "tests/labeler/kit.h"
#include "tests/testing.h"

#define WAIT_MS      60000
#define TXS          360               /* transactions of the main stream */
#define CLOCKS       240               /* four a day after them, to move the watermark */
#define SPAN_US      (20 * KIT_DAY_US) /* of the main stream */
#define CHUNK_EVENTS 10                /* events published between two waits */
#define CRASH_EVENTS 50                /* consumed twice: about 2.7 days of the main stream */
#define MATURITY_D   7
#define HORIZON_D    30
#define LATENESS_S   (4 * 86400)
#define EVENTS_MAX   (2 * (TXS + CLOCKS))
#define LABELS_MAX   (4 * (TXS + CLOCKS))

static const char *const topics[] = {"tx.features", "scores", "chargebacks", "labels", "dlq"};

struct env {
        struct fraud_mock *mock;
        struct fraud_settings settings;
        char dir[PATH_MAX], backup[PATH_MAX];
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *reader;
        struct labeler *l;
        uint64_t published; /* messages */
};

static int64_t now_ms(void) {
        return fraud_time_mono_ns() / 1000000;
}

static void set_string(char **field, const char *value) {
        free(*field);
        *field = strdup(value);
        ck_assert_ptr_nonnull(*field);
}

static void env_init(struct env *e, const char *read_topic) {
        const char *tmp = getenv("TMPDIR");
        const char *read[] = {read_topic};
        struct fraud_kafka_consumer_spec spec = {
                .topics = read, .topics_count = 1, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        struct fraud_kafka_options o;
        char err[256] = "";

        memset(e, 0, sizeof(*e));
        ck_assert_int_eq(fraud_mock_new(1, &e->mock), 0);
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
                ck_assert_int_eq(fraud_mock_topic_create(e->mock, topics[i], i == 4 ? 1 : 2), 0);
        snprintf(e->dir, sizeof(e->dir), "%s/fraud-labeler-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(e->dir));
        snprintf(e->backup, sizeof(e->backup), "%.*s.copy", PATH_MAX - 8, e->dir);
        ck_assert_int_eq(fraud_settings_init(&e->settings), 0);
        set_string(&e->settings.kafka.bootstrap_servers, fraud_mock_bootstrap(e->mock));
        set_string(&e->settings.labeler.state_dir, e->dir);
        e->settings.kafka.session_timeout_ms = 6000;
        e->settings.labeler.maturity_days = MATURITY_D;
        e->settings.labeler.horizon_days = HORIZON_D;
        e->settings.labeler.lateness_sec = LATENESS_S;
        e->settings.labeler.sync_commit = false;
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(e->mock);
        ck_assert_msg(fraud_kafka_producer_new(&o, &e->producer, err, sizeof(err)) == 0, "%s", err);
        o.group_id = "test-reader";
        ck_assert_msg(fraud_kafka_consumer_new(&o, &spec, &e->reader, err, sizeof(err)) == 0, "%s",
                      err);
}

static void env_release(struct env *e) {
        labeler_free(e->l);
        fraud_kafka_consumer_free(e->reader);
        fraud_kafka_producer_free(e->producer);
        fraud_settings_release(&e->settings);
        fraud_mock_free(e->mock);
        testing_tree_remove(e->dir);
        testing_tree_remove(e->backup);
}

static void labeler_start(struct env *e) {
        char err[512] = "";

        ck_assert_msg(labeler_new(&e->settings, &e->l, err, sizeof(err)) == 0, "%s", err);
}

/* Steps until the instance has consumed want messages and settled. */
static void labeler_until(struct env *e, uint64_t want) {
        struct labeler_counters k;
        int64_t deadline = now_ms() + WAIT_MS;
        int r;

        do {
                r = labeler_step(e->l, 20);
                ck_assert_msg(r >= 0, "%s", labeler_error(e->l));
                labeler_counters(e->l, &k);
        } while ((k.consumed < want || r > 0) && now_ms() < deadline);
        ck_assert_uint_eq(k.consumed, want);
}

static void publish(struct env *e, const char *topic, const char *key, const void *v, size_t n) {
        struct fraud_kafka_record rec = {topic, -1, key, strlen(key), v, n};

        ck_assert_int_eq(fraud_kafka_producer_send(e->producer, &rec, NULL), 0);
        e->published++;
}

/* ---- the stream ---- */

struct event {
        int64_t t_us;
        size_t tx; /* index into the transactions */
        bool is_chargeback;
};

struct stream {
        struct kit_tx tx[TXS + CLOCKS];
        struct event ev[EVENTS_MAX];
        size_t n_tx, n;
};

static void tx_id(size_t x, char *buf) {
        snprintf(buf, 32, x < TXS ? "tx_1_%012zu" : "clock_%zu", x < TXS ? x + 1 : x);
}

static void card_of(size_t x, char *buf) {
        snprintf(buf, 32, "card-%zu", x % 13);
}

static int event_cmp(const void *a, const void *b) {
        const struct event *x = a, *y = b;

        if (x->t_us != y->t_us)
                return x->t_us < y->t_us ? -1 : 1;
        return (int)y->is_chargeback - (int)x->is_chargeback;
}

/* Every 6th transaction charged back 2 days after (fraud before
 * maturity), every 6th + 3 after 15 days (a correction); then a clock
 * transaction every 6 hours. */
static void stream_build(struct stream *s) {
        memset(s, 0, sizeof(*s));
        for (size_t x = 0; x < TXS + CLOCKS; x++) {
                struct kit_tx *t = &s->tx[x];
                t->t_us = x < TXS ? KIT_T0_US + (int64_t)x * (SPAN_US / TXS)
                                  : KIT_T0_US + SPAN_US + (int64_t)(x - TXS + 1) * KIT_DAY_US / 4;
                t->decision = x < TXS ? kit_decision(x) : KIT_ALLOW;
                t->fraud_us = KIT_NONE;
                if (x < TXS && x % 6 == 0)
                        t->fraud_us = t->t_us + 2 * KIT_DAY_US;
                if (x < TXS && x % 6 == 3)
                        t->fraud_us = t->t_us + 15 * KIT_DAY_US;
                s->ev[s->n++] = (struct event){t->t_us, x, false};
                if (t->fraud_us != KIT_NONE)
                        s->ev[s->n++] = (struct event){t->fraud_us, x, true};
        }
        s->n_tx = TXS + CLOCKS;
        qsort(s->ev, s->n, sizeof(s->ev[0]), event_cmp);
}

static void publish_event(struct env *e, const struct stream *s, const struct event *ev) {
        const struct kit_tx *t = &s->tx[ev->tx];
        uint8_t buf[KIT_MSG_MAX];
        char id[32], card[32], cb[40];

        tx_id(ev->tx, id);
        card_of(ev->tx, card);
        if (ev->is_chargeback) {
                snprintf(cb, sizeof(cb), "cb-%s", id);
                publish(e, "chargebacks", card, buf,
                        kit_chargeback_pack(buf, id, cb, ev->t_us, t->t_us, KIT_CHARGEBACK));
                return;
        }
        publish(e, "tx.features", card, buf,
                kit_features_pack(buf, id, card, t->t_us, 100 + (int64_t)ev->tx));
        if (t->decision != KIT_NO_SCORE)
                publish(e, "scores", card, buf,
                        kit_score_pack(buf, id, card, t->t_us, t->decision));
}

/* Publishes events [from, to) in chunks, each consumed before the next. */
static void run_events(struct env *e, const struct stream *s, size_t from, size_t to,
                       uint64_t base) {
        for (size_t i = from; i < to;) {
                for (size_t k = 0; k < CHUNK_EVENTS && i < to; k++, i++)
                        publish_event(e, s, &s->ev[i]);
                ck_assert_int_eq(fraud_kafka_producer_flush(e->producer, WAIT_MS), 0);
                labeler_until(e, e->published - base);
        }
}

/* ---- the directory copy (the state as of a checkpoint) ---- */

static void file_copy(const char *from, const char *to) {
        char buf[1 << 16];
        int in = open(from, O_RDONLY), out;
        ssize_t n;

        ck_assert_int_ge(in, 0);
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(out, 0);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                ck_assert_int_eq(write(out, buf, (size_t)n), n);
        ck_assert_int_eq(n, 0);
        close(in);
        ck_assert_int_eq(close(out), 0);
}

/* RocksDB keeps its files in one flat directory. */
static void dir_copy(const char *from, const char *to) {
        DIR *d = opendir(from);
        struct dirent *de;
        char a[PATH_MAX + 256], b[PATH_MAX + 256];

        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(mkdir(to, 0700), 0);
        while ((de = readdir(d)) != NULL) {
                struct stat st;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
                snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
                ck_assert_int_eq(stat(a, &st), 0);
                ck_assert(S_ISREG(st.st_mode));
                file_copy(a, b);
        }
        closedir(d);
}

/* ---- reading the labels back ---- */

struct seen {
        char id[32];
        int status, value;
        uint8_t bytes[KIT_MSG_MAX + FRAUD_LABELER_LABEL_OVERHEAD_BYTES];
        size_t size, copies;
};

struct seen_set {
        struct seen *v; /* LABELS_MAX */
        size_t n, messages;
};

static void seen_add(struct seen_set *set, const struct fraud_kafka_message *m) {
        Fraud__Label *lab = fraud__label__unpack(NULL, m->value_size, m->value);
        char card[32];
        size_t i;

        ck_assert_ptr_nonnull(lab);
        ck_assert_ptr_nonnull(lab->features);
        ck_assert_str_eq(lab->features->transaction_id, lab->transaction_id);
        card_of(lab->transaction_id[0] == 'c' ? (size_t)strtoull(lab->transaction_id + 6, NULL, 10)
                                              : kit_tx_index(lab->transaction_id),
                card);
        ck_assert_uint_eq(m->key_size, strlen(card));
        ck_assert_int_eq(memcmp(m->key, card, m->key_size), 0);
        for (i = 0; i < set->n; i++)
                if (strcmp(set->v[i].id, lab->transaction_id) == 0 &&
                    set->v[i].status == (int)lab->status && set->v[i].value == (int)lab->value)
                        break;
        if (i == set->n) {
                ck_assert_uint_lt(set->n, LABELS_MAX);
                snprintf(set->v[i].id, sizeof(set->v[i].id), "%s", lab->transaction_id);
                set->v[i].status = (int)lab->status;
                set->v[i].value = (int)lab->value;
                ck_assert_uint_le(m->value_size, sizeof(set->v[i].bytes));
                memcpy(set->v[i].bytes, m->value, m->value_size);
                set->v[i].size = m->value_size;
                set->n++;
        } else {
                ck_assert_msg(set->v[i].size == m->value_size &&
                                      memcmp(set->v[i].bytes, m->value, m->value_size) == 0,
                              "%s: a re-sent label differs", lab->transaction_id);
        }
        set->v[i].copies++;
        set->messages++;
        fraud__label__free_unpacked(lab, NULL);
}

static void labels_read(struct env *e, struct seen_set *set, size_t want_distinct) {
        int64_t deadline = now_ms() + WAIT_MS, quiet_until = 0;

        while (now_ms() < deadline && (set->n < want_distinct || now_ms() < quiet_until)) {
                const struct fraud_kafka_message *msgs;
                int n = fraud_kafka_consumer_poll_batch(e->reader, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++) {
                        seen_add(set, &msgs[i]);
                        fraud_kafka_input_done(msgs[i].input);
                }
                if (set->n >= want_distinct && !quiet_until)
                        quiet_until = now_ms() + 1000; /* anything beyond would be extra */
        }
}

/* Every expected label seen, nothing else. */
static void labels_expect(const struct stream *s, const struct seen_set *set, int64_t wm) {
        size_t expected = 0;

        for (size_t x = 0; x < s->n_tx; x++) {
                struct kit_expect want[2];
                size_t n = kit_expected(&s->tx[x], MATURITY_D * KIT_DAY_US, HORIZON_D * KIT_DAY_US,
                                        wm, want);
                char id[32];
                tx_id(x, id);
                for (size_t k = 0; k < n; k++) {
                        size_t i;
                        for (i = 0; i < set->n; i++)
                                if (strcmp(set->v[i].id, id) == 0 &&
                                    set->v[i].status == want[k].status &&
                                    set->v[i].value == want[k].value)
                                        break;
                        ck_assert_msg(i < set->n, "%s: label %zu missing", id, k);
                }
                expected += n;
        }
        ck_assert_uint_eq(set->n, expected);
}

START_TEST(test_labeler_resumes_after_a_crash_without_loss_and_resends_identical_labels) {
        static struct stream s;
        struct seen_set set = {calloc(LABELS_MAX, sizeof(struct seen)), 0, 0};
        struct env e;
        size_t c1, c2, resent = 0;
        uint64_t base;
        int64_t wm;

        ck_assert_ptr_nonnull(set.v);
        stream_build(&s);
        c1 = s.n / 3 / CHUNK_EVENTS * CHUNK_EVENTS;
        c2 = c1 + CRASH_EVENTS;
        ck_assert_int_lt(s.ev[c2].t_us - s.ev[c1].t_us, LATENESS_S * FRAUD_USEC_PER_SEC);
        env_init(&e, "labels");
        labeler_start(&e);
        run_events(&e, &s, 0, c1, 0);
        ck_assert_int_eq(labeler_close(e.l), 0);
        e.l = NULL;
        dir_copy(e.dir, e.backup); /* the checkpoint a crash falls back to */
        base = e.published;
        labeler_start(&e);
        run_events(&e, &s, c1, c2, base);
        labeler_free(e.l); /* the crash, after these labels were delivered */
        e.l = NULL;
        ck_assert_int_eq(testing_tree_remove(e.dir), 0);
        dir_copy(e.backup, e.dir);
        labeler_start(&e);
        labeler_until(&e, e.published - base); /* consumes the lost part again */
        run_events(&e, &s, c2, s.n, base);
        wm = labeler_watermark(e.l);
        ck_assert_int_eq(wm, s.ev[s.n - 1].t_us - LATENESS_S * FRAUD_USEC_PER_SEC);
        ck_assert_int_eq(labeler_close(e.l), 0);
        e.l = NULL;
        labels_read(&e, &set, 1);
        labels_expect(&s, &set, wm);
        for (size_t i = 0; i < set.n; i++)
                resent += set.v[i].copies - 1;
        ck_assert_uint_gt(resent, 10);
        printf("stage: %zu labels, %zu re-sent identical after the crash\n", set.n, resent);
        free(set.v);
        env_release(&e);
}
END_TEST

START_TEST(test_labeler_sends_bad_input_to_dlq_and_goes_on) {
        const char *want_topic[] = {"tx.features", "scores", "chargebacks"};
        struct labeler_counters k;
        struct env e;
        uint8_t buf[KIT_MSG_MAX];
        int found = 0, seen[3] = {0};
        int64_t deadline;

        env_init(&e, "dlq");
        for (int i = 0; i < 3; i++)
                publish(&e, want_topic[i], "card-x", "\xff\xff\xff", 3);
        publish(&e, "tx.features", "card-1", buf,
                kit_features_pack(buf, "t1", "card-1", KIT_T0_US, 7));
        publish(&e, "scores", "card-1", buf,
                kit_score_pack(buf, "t1", "card-1", KIT_T0_US, KIT_ALLOW));
        publish(&e, "tx.features", "card-1", buf,
                kit_features_pack(buf, "t2", "card-1", KIT_T0_US + 12 * KIT_DAY_US, 7));
        ck_assert_int_eq(fraud_kafka_producer_flush(e.producer, WAIT_MS), 0);
        labeler_start(&e);
        labeler_until(&e, e.published);
        labeler_counters(e.l, &k);
        ck_assert_uint_eq(k.join.rejected[JOIN_REJECT_BAD_PROTOBUF], 3);
        ck_assert_uint_eq(k.dead_letters, 3);
        ck_assert_uint_eq(k.labels, 1); /* t1's provisional label */
        ck_assert_uint_eq(k.join.labels_provisional, 1);
        deadline = now_ms() + WAIT_MS;
        while (found < 3 && now_ms() < deadline) {
                const struct fraud_kafka_message *msgs;
                int n = fraud_kafka_consumer_poll_batch(e.reader, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++, found++) {
                        Fraud__DeadLetter *d =
                                fraud__dead_letter__unpack(NULL, msgs[i].value_size, msgs[i].value);
                        ck_assert_ptr_nonnull(d);
                        ck_assert_str_eq(d->stage, "labeler");
                        ck_assert_str_eq(d->reason_code, "bad_protobuf");
                        ck_assert_uint_eq(d->original.len, 3);
                        for (int t = 0; t < 3; t++)
                                seen[t] += strcmp(d->source_topic, want_topic[t]) == 0;
                        ck_assert_uint_eq(msgs[i].key_size, 6);
                        fraud__dead_letter__free_unpacked(d, NULL);
                        fraud_kafka_input_done(msgs[i].input);
                }
        }
        ck_assert_int_eq(found, 3);
        ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
        ck_assert_int_eq(labeler_close(e.l), 0);
        e.l = NULL;
        env_release(&e);
}
END_TEST

TESTING_MAIN("labeler",
             test_labeler_resumes_after_a_crash_without_loss_and_resends_identical_labels,
             test_labeler_sends_bad_input_to_dlq_and_goes_on)
