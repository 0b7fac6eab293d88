/* test_velocity.c: velocity against a brute-force recomputation from the
 * raw log, without Kafka and through the stage on the mock cluster.
 *
 * The log is the simulator's (tools/sim.h): over 100,000 transactions and
 * their chargebacks, in event-time order.  The brute force keeps, per
 * entity, the list of its transactions and recomputes every feature of
 * every transaction by scanning that list, comparing ids as strings; it
 * shares nothing with velocity but the schema's positions and the currency
 * table.
 *
 *   - pure: every transaction goes through features.c on the windows of
 *     entities.c (no store); every value, label features included, must
 *     equal the brute force exactly.
 *   - stage: the log is produced to tx.normalized and chargebacks (one
 *     partition each) while the built fraud-velocity daemon runs on a
 *     RocksDB directory with a small cache (so windows are evicted and read
 *     back); the child is killed with SIGKILL twice mid-stream and
 *     restarted on the same directory.  Every vector read from tx.features,
 *     duplicates included, must equal the brute force (the label features
 *     excepted: which chargebacks precede a transaction depends on how the
 *     two topics interleave), and every transaction must have one.
 *   - bad input: garbage on tx.normalized goes to dlq, the next transaction
 *     still gets its vector.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/schema.h"
#include "common/settings.h"
#include "lib/kafka.h"
#include "lib/mock.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "tools/sim.h"
#include "velocity/entities.h"
#include "velocity/features.h"
#include "velocity/velocity.h"

#include "lib/hash.h"
#include "tests/testing.h"

#define LOG_TRANSACTIONS_MIN 100000
#define LIST_SLOTS           (1u << 18) /* brute-force entity table */
#define STAGE_LAG_MAX        4000       /* produced, not yet seen on tx.features */
#define WAIT_MS              600000

static const int64_t spans_sec[] = {60, 600, 3600, 86400, 604800, 2592000};
#define LABEL_DELAY_SEC  (7 * 86400)
#define LABEL_WINDOW_SEC (30 * 86400)

/* ---- the log ---- */

struct log {
        struct sim_event *ev;
        size_t n, n_tx;
        size_t *tx_event;    /* transaction index -> event index */
        int64_t *cb_arrival; /* transaction index -> earliest chargeback arrival */
        int64_t *cents;      /* transaction index -> amount in EUR cents */
        int64_t *t_us;       /* transaction index -> event time */
};

static const Fraud__Channel channel_of[SIM_CHANNEL_COUNT] = {
        [SIM_CHANNEL_CARD_PRESENT] = FRAUD__CHANNEL__CHANNEL_CARD_PRESENT,
        [SIM_CHANNEL_CONTACTLESS] = FRAUD__CHANNEL__CHANNEL_CONTACTLESS,
        [SIM_CHANNEL_ECOMMERCE] = FRAUD__CHANNEL__CHANNEL_ECOMMERCE,
        [SIM_CHANNEL_ATM] = FRAUD__CHANNEL__CHANNEL_ATM,
        [SIM_CHANNEL_MOTO] = FRAUD__CHANNEL__CHANNEL_MOTO,
};

static size_t tx_index_of(const char *transaction_id) {
        const char *p = strrchr(transaction_id, '_');
        ck_assert_ptr_nonnull(p);
        return (size_t)strtoull(p + 1, NULL, 10) - 1;
}

static void log_load(struct log *l) {
        struct sim_config c;
        struct sim *s;
        size_t cap = 1 << 17;
        int r;

        memset(l, 0, sizeof(*l));
        sim_config_default(&c);
        c.customers = 2200;
        c.merchants = 300;
        c.fraud_rate = 0.02;
        c.seed = 7;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        l->ev = malloc(cap * sizeof(*l->ev));
        l->tx_event = malloc(cap * sizeof(*l->tx_event));
        ck_assert(l->ev && l->tx_event);
        while ((r = sim_next(s, &l->ev[l->n])) == 1) {
                if (l->ev[l->n].kind == SIM_EVENT_TRANSACTION) {
                        ck_assert_uint_eq(tx_index_of(l->ev[l->n].tx.transaction_id), l->n_tx);
                        l->tx_event[l->n_tx++] = l->n;
                }
                if (++l->n == cap) {
                        cap *= 2;
                        l->ev = realloc(l->ev, cap * sizeof(*l->ev));
                        l->tx_event = realloc(l->tx_event, cap * sizeof(*l->tx_event));
                        ck_assert(l->ev && l->tx_event);
                }
        }
        ck_assert_int_eq(r, 0);
        sim_free(s);
        ck_assert_uint_ge(l->n_tx, LOG_TRANSACTIONS_MIN);
        l->cb_arrival = malloc(l->n_tx * sizeof(*l->cb_arrival));
        l->cents = malloc(l->n_tx * sizeof(*l->cents));
        l->t_us = malloc(l->n_tx * sizeof(*l->t_us));
        ck_assert(l->cb_arrival && l->cents && l->t_us);
        for (size_t i = 0; i < l->n_tx; i++) {
                const struct sim_transaction *t = &l->ev[l->tx_event[i]].tx;
                l->cb_arrival[i] = INT64_MAX;
                l->t_us[i] = t->time_ms * 1000;
                ck_assert_int_eq(
                        features_currency_to_ref(t->currency, t->amount_minor, &l->cents[i]), 0);
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct sim_chargeback *cb = &l->ev[i].cb;
                size_t t;
                if (l->ev[i].kind != SIM_EVENT_CHARGEBACK)
                        continue;
                t = tx_index_of(cb->transaction_id);
                if (cb->time_ms * 1000 < l->cb_arrival[t])
                        l->cb_arrival[t] = cb->time_ms * 1000;
        }
}

static void log_free(struct log *l) {
        free(l->ev);
        free(l->tx_event);
        free(l->cb_arrival);
        free(l->cents);
        free(l->t_us);
}

static const struct sim_transaction *log_tx(const struct log *l, size_t i) {
        return &l->ev[l->tx_event[i]].tx;
}

/* The Transaction of a simulated payment; borrows its strings. */
static void tx_proto(const struct sim_transaction *s, Fraud__Transaction *t) {
        fraud__transaction__init(t);
        t->schema_version = TRANSACTION_SCHEMA_VERSION;
        t->transaction_id = (char *)s->transaction_id;
        t->event_time_us = s->time_ms * 1000;
        t->amount_minor = s->amount_minor;
        t->currency = (char *)s->currency;
        t->card_hash = (char *)s->pan;
        t->customer_id = (char *)s->customer_id;
        t->merchant_id = (char *)s->merchant_id;
        t->terminal_id = (char *)s->terminal_id;
        t->mcc = s->mcc;
        t->country = (char *)s->country;
        t->channel = channel_of[s->channel];
        t->device_id = (char *)s->device_id;
        t->ip = (char *)s->ip;
}

static void cb_proto(const struct sim_chargeback *s, Fraud__Chargeback *c) {
        fraud__chargeback__init(c);
        c->schema_version = CHARGEBACK_SCHEMA_VERSION;
        c->transaction_id = (char *)s->transaction_id;
        c->chargeback_id = (char *)s->chargeback_id;
        c->event_time_us = s->time_ms * 1000;
        c->transaction_time_us = s->transaction_time_ms * 1000;
        c->amount_minor = s->amount_minor;
        c->currency = (char *)s->currency;
        c->reason = (char *)s->reason;
        c->kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK;
        c->merchant_id = (char *)s->merchant_id;
        c->terminal_id = (char *)s->terminal_id;
}

/* ---- the brute force ---- */

struct list {
        char key[SIM_ID_MAX + 2]; /* kind letter + id; "" when the slot is free */
        size_t *tx;
        size_t n, cap;
};

struct brute {
        const struct log *log;
        struct fraud_featureset fs;
        struct list *lists;   /* LIST_SLOTS */
        const char **vals[2]; /* scratch for distinct counts, cap_vals each */
        size_t cap_vals;
};

static struct list *brute_list(struct brute *b, char kind, const char *id) {
        char key[SIM_ID_MAX + 2];
        size_t h = 5381;

        snprintf(key, sizeof(key), "%c%s", kind, id);
        for (const char *p = key; *p; p++)
                h = h * 33 + (unsigned char)*p;
        for (size_t i = h % LIST_SLOTS;; i = (i + 1) % LIST_SLOTS) {
                struct list *li = &b->lists[i];
                if (li->key[0] == '\0')
                        snprintf(li->key, sizeof(li->key), "%s", key);
                if (strcmp(li->key, key) == 0)
                        return li;
        }
}

static void list_push(struct list *li, size_t tx) {
        if (li->n == li->cap) {
                li->cap = li->cap ? 2 * li->cap : 16;
                li->tx = realloc(li->tx, li->cap * sizeof(*li->tx));
                ck_assert_ptr_nonnull(li->tx);
        }
        li->tx[li->n++] = tx;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t distinct(const char **v, size_t n) {
        size_t d = 0;
        qsort(v, n, sizeof(*v), cmp_str);
        for (size_t i = 0; i < n; i++)
                d += i == 0 || strcmp(v[i], v[i - 1]) != 0;
        return d;
}

/* Which string of a payment a distinct count or a "new" flag compares. */
enum brute_field { F_MERCHANT, F_COUNTRY, F_CARD, F_DEVICE, F_IP };

static const char *field(const struct sim_transaction *t, enum brute_field f) {
        switch (f) {
        case F_MERCHANT:
                return t->merchant_id;
        case F_COUNTRY:
                return t->country;
        case F_CARD:
                return t->pan;
        case F_DEVICE:
                return t->device_id;
        default:
                return t->ip;
        }
}

/* Entity kind e of list li, at payment x: count, sum, mean, max per span,
 * and the distinct counts d0, d1 (-1: none) into out. */
static void brute_entity(struct brute *b, const struct list *li, enum fraud_featureset_entity e,
                         size_t x, const int distincts[2][2], double *out) {
        const struct log *l = b->log;
        int64_t t = l->t_us[x];

        if (li->n > b->cap_vals) {
                b->cap_vals = 2 * li->n;
                for (int d = 0; d < 2; d++) {
                        b->vals[d] = realloc(b->vals[d], b->cap_vals * sizeof(char *));
                        ck_assert_ptr_nonnull(b->vals[d]);
                }
        }
        for (size_t s = 0; s < b->fs.n_spans; s++) {
                int64_t count = 0, sum = 0, max = 0;
                for (size_t m = li->n; m-- > 0;) {
                        int64_t c = l->cents[li->tx[m]];
                        if (l->t_us[li->tx[m]] <= t - spans_sec[s] * FRAUD_USEC_PER_SEC)
                                break;
                        for (int d = 0; d < 2; d++)
                                if (distincts[d][0] >= 0)
                                        b->vals[d][count] =
                                                field(log_tx(l, li->tx[m]), distincts[d][1]);
                        max = count == 0 || c > max ? c : max;
                        count++;
                        sum += c;
                }
                out[fraud_featureset_stat_index(&b->fs, e, FRAUD_FEATURESET_COUNT, s)] = count;
                out[fraud_featureset_stat_index(&b->fs, e, FRAUD_FEATURESET_AMOUNT_SUM, s)] = sum;
                out[fraud_featureset_stat_index(&b->fs, e, FRAUD_FEATURESET_AMOUNT_MEAN, s)] =
                        (double)sum / (double)count;
                out[fraud_featureset_stat_index(&b->fs, e, FRAUD_FEATURESET_AMOUNT_MAX, s)] = max;
                for (int d = 0; d < 2; d++)
                        if (distincts[d][0] >= 0)
                                out[fraud_featureset_distinct_index(&b->fs, distincts[d][0], s)] =
                                        (double)distinct(b->vals[d], (size_t)count);
        }
}

/* 1 when no earlier payment of the card within the longest span had the
 * same (non-empty) value of f. */
static double brute_new(struct brute *b, const struct list *card, size_t x, enum brute_field f) {
        const struct sim_transaction *now = log_tx(b->log, x);
        int64_t edge = now->time_ms * 1000 - spans_sec[5] * FRAUD_USEC_PER_SEC;

        if (field(now, f)[0] == '\0')
                return 0.0;
        for (size_t m = card->n - 1; m-- > 0;) {
                const struct sim_transaction *o = log_tx(b->log, card->tx[m]);
                if (o->time_ms * 1000 <= edge)
                        break;
                if (strcmp(field(o, f), field(now, f)) == 0)
                        return 0.0;
        }
        return 1.0;
}

static void brute_card(struct brute *b, const struct list *card, size_t x, double *out) {
        const struct sim_transaction *now = log_tx(b->log, x);
        const struct fraud_featureset *fs = &b->fs;
        int64_t cap = spans_sec[5] * FRAUD_USEC_PER_SEC, since = cap;
        double mean = out[fraud_featureset_stat_index(fs, FRAUD_FEATURESET_CARD,
                                                      FRAUD_FEATURESET_AMOUNT_MEAN, 5)];

        if (card->n > 1) {
                int64_t d = (now->time_ms - log_tx(b->log, card->tx[card->n - 2])->time_ms) * 1000;
                since = d < cap ? d : cap;
        }
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_SECONDS_SINCE_PREV)] =
                (double)since / 1e6;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_AMOUNT_RATIO)] =
                mean != 0.0 ? (double)b->log->cents[x] / mean : 1.0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_DEVICE)] =
                brute_new(b, card, x, F_DEVICE);
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_COUNTRY)] =
                brute_new(b, card, x, F_COUNTRY);
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_IP)] =
                brute_new(b, card, x, F_IP);
}

static void brute_label(struct brute *b, const struct list *term, size_t x, double *out) {
        int64_t t = b->log->t_us[x];
        int64_t hi = t - LABEL_DELAY_SEC * FRAUD_USEC_PER_SEC;
        int64_t lo = hi - LABEL_WINDOW_SEC * FRAUD_USEC_PER_SEC;
        int64_t n = 0, fraud = 0;

        for (size_t m = term->n; m-- > 0;) {
                int64_t to = b->log->t_us[term->tx[m]];
                if (to <= lo)
                        break;
                if (to > hi)
                        continue;
                n++;
                fraud += b->log->cb_arrival[term->tx[m]] <= t;
        }
        out[fraud_featureset_scalar_index(&b->fs, FRAUD_FEATURESET_TERMINAL_LABEL_TX)] = n;
        out[fraud_featureset_scalar_index(&b->fs, FRAUD_FEATURESET_TERMINAL_LABEL_FRAUD)] = fraud;
        out[fraud_featureset_scalar_index(&b->fs, FRAUD_FEATURESET_TERMINAL_LABEL_RATE)] =
                n ? (double)fraud / (double)n : 0.0;
}

static void brute_scalars(struct brute *b, size_t x, double *out) {
        const struct sim_transaction *s = log_tx(b->log, x);
        const struct fraud_featureset *fs = &b->fs;
        int64_t t = s->time_ms * 1000;
        int hour = (int)((t / FRAUD_USEC_PER_HOUR) % 24);
        int64_t day = t / FRAUD_USEC_PER_DAY; /* 1970-01-01 was a Thursday */
        static const enum fraud_featureset_scalar channel[SIM_CHANNEL_COUNT] = {
                [SIM_CHANNEL_CARD_PRESENT] = FRAUD_FEATURESET_CHANNEL_CARD_PRESENT,
                [SIM_CHANNEL_CONTACTLESS] = FRAUD_FEATURESET_CHANNEL_CONTACTLESS,
                [SIM_CHANNEL_ECOMMERCE] = FRAUD_FEATURESET_CHANNEL_ECOMMERCE,
                [SIM_CHANNEL_ATM] = FRAUD_FEATURESET_CHANNEL_ATM,
                [SIM_CHANNEL_MOTO] = FRAUD_FEATURESET_CHANNEL_MOTO,
        };

        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_AMOUNT)] = (double)b->log->cents[x];
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HOUR)] = hour;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_IS_NIGHT)] = hour < 6;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_IS_WEEKEND)] =
                (day + 3) % 7 >= 5; /* Saturday, Sunday */
        out[fraud_featureset_scalar_index(fs, channel[s->channel])] = 1.0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_MCC)] = s->mcc;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HAS_DEVICE)] = s->device_id[0] != 0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HAS_IP)] = s->ip[0] != 0;
}

/* Adds payment x to its entities' lists and writes its vector. */
static void brute_next(struct brute *b, size_t x, double *out) {
        static const char letters[FRAUD_FEATURESET_ENTITIES] = {'c', 't', 'd', 'i'};
        static const int distincts[FRAUD_FEATURESET_ENTITIES][2][2] = {
                {{FRAUD_FEATURESET_CARD_MERCHANTS, F_MERCHANT},
                 {FRAUD_FEATURESET_CARD_COUNTRIES, F_COUNTRY}},
                {{-1, 0}, {-1, 0}},
                {{FRAUD_FEATURESET_DEVICE_CARDS, F_CARD}, {-1, 0}},
                {{FRAUD_FEATURESET_IP_CARDS, F_CARD}, {-1, 0}},
        };
        const struct sim_transaction *s = log_tx(b->log, x);
        const char *ids[FRAUD_FEATURESET_ENTITIES] = {s->pan, s->terminal_id, s->device_id, s->ip};

        memset(out, 0, b->fs.n * sizeof(*out));
        for (int e = 0; e < FRAUD_FEATURESET_ENTITIES; e++) {
                struct list *li;
                if (ids[e][0] == '\0')
                        continue;
                li = brute_list(b, letters[e], ids[e]);
                list_push(li, x);
                brute_entity(b, li, e, x, distincts[e], out);
                if (e == FRAUD_FEATURESET_CARD)
                        brute_card(b, li, x, out);
                if (e == FRAUD_FEATURESET_TERMINAL)
                        brute_label(b, li, x, out);
        }
        brute_scalars(b, x, out);
}

static void brute_init(struct brute *b, const struct log *l) {
        memset(b, 0, sizeof(*b));
        b->log = l;
        ck_assert_int_eq(fraud_featureset_build(spans_sec, 6, &b->fs), 0);
        b->lists = calloc(LIST_SLOTS, sizeof(*b->lists));
        ck_assert_ptr_nonnull(b->lists);
}

static void brute_release(struct brute *b) {
        for (size_t i = 0; i < LIST_SLOTS; i++)
                free(b->lists[i].tx);
        free(b->lists);
        free(b->vals[0]);
        free(b->vals[1]);
}

static void expect_equal(const struct fraud_featureset *fs, size_t x, const double *want,
                         const double *got) {
        for (size_t i = 0; i < fs->n; i++)
                ck_assert_msg(want[i] == got[i], "transaction %zu: %s is %.17g, brute force %.17g",
                              x, fs->names[i], got[i], want[i]);
}

/* FNV-1a 64 over the bit patterns of the values, label features left out. */
static uint64_t vector_hash(const struct fraud_featureset *fs, const double *v) {
        size_t label0 = fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_TERMINAL_LABEL_TX);
        uint64_t h = FRAUD_HASH_FNV1A_INIT;

        for (size_t i = 0; i < fs->n; i++)
                if (i < label0 || i >= label0 + 3)
                        h = fraud_hash_fnv1a(h, &v[i], sizeof(double));
        return h;
}

/* ---- pure ---- */

START_TEST(test_velocity_core_equals_brute_force_on_every_transaction) {
        static double want[FRAUD_FEATURESET_FEATURES_MAX], got[FRAUD_FEATURESET_FEATURES_MAX];
        struct features_config c;
        struct entities *e = NULL;
        struct window_scratch s;
        struct brute b;
        struct log l;
        uint64_t truncated = 0;
        size_t x = 0, charged = 0;

        log_load(&l);
        brute_init(&b, &l);
        ck_assert_int_eq(features_config_init(&c, spans_sec, 6, LABEL_DELAY_SEC, LABEL_WINDOW_SEC,
                                              300, FRAUD_VELOCITY_HISTORY_EVENTS_MAX),
                         0);
        ck_assert_int_eq(entities_new(NULL, 1u << 20, 1u << 30, &e), 0);
        ck_assert_int_eq(window_scratch_init(&s, FRAUD_VELOCITY_HISTORY_EVENTS_MAX), 0);
        for (size_t i = 0; i < l.n; i++) {
                struct window *w[FRAUD_FEATURESET_ENTITIES] = {0};
                struct features_ids ids;
                struct features_tx tx;
                const char *why, *id;
                size_t len;

                if (l.ev[i].kind == SIM_EVENT_CHARGEBACK) {
                        Fraud__Chargeback cb;
                        struct window_chargeback wc;
                        cb_proto(&l.ev[i].cb, &cb);
                        ck_assert_int_eq(features_chargeback_from_proto(&cb, &wc, &id, &len, &why),
                                         0);
                        ck_assert_int_eq(entities_get(e, FRAUD_FEATURESET_TERMINAL, id, len, &w[1]),
                                         0);
                        charged += window_chargeback_add(w[1], &wc) == 0;
                        continue;
                }
                Fraud__Transaction t;
                tx_proto(&l.ev[i].tx, &t);
                ck_assert_int_eq(features_tx_from_proto(&t, &tx, &ids, &why), 0);
                for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++)
                        if (ids.len[k])
                                ck_assert_int_eq(entities_get(e, k, ids.id[k], ids.len[k], &w[k]),
                                                 0);
                ck_assert_int_eq(features_compute(&c, &tx, w, &s, got, &truncated), 0);
                brute_next(&b, x, want);
                expect_equal(&c.fs, x, want, got);
                x++;
                if (x % 4096 == 0)
                        entities_committed(e);
        }
        ck_assert_uint_eq(x, l.n_tx);
        ck_assert_uint_eq(truncated, 0);
        ck_assert_uint_gt(charged, 100);
        entities_free(e);
        window_scratch_release(&s);
        brute_release(&b);
        log_free(&l);
}
END_TEST

/* ---- the stage on the mock cluster ---- */

static const char *const topics[] = {"tx.normalized", "chargebacks", "tx.features", "dlq"};
static const int topic_partitions[] = {1, 1, 4, 1};

struct stage_env {
        struct fraud_mock *mock;
        struct fraud_settings settings;
        char dir[PATH_MAX];
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *reader; /* of tx.features or dlq */
};

static void set_string(char **field, const char *value) {
        free(*field);
        *field = strdup(value);
        ck_assert_ptr_nonnull(*field);
}

static void stage_env_init(struct stage_env *env, const char *read_topic) {
        const char *tmp = getenv("TMPDIR");
        struct fraud_kafka_options o;
        const char *read[] = {read_topic};
        struct fraud_kafka_consumer_spec spec = {
                .topics = read, .topics_count = 1, .reset = FRAUD_KAFKA_RESET_EARLIEST};
        char err[256] = "";

        ck_assert_int_eq(fraud_mock_new(1, &env->mock), 0);
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
                ck_assert_int_eq(fraud_mock_topic_create(env->mock, topics[i], topic_partitions[i]),
                                 0);
        snprintf(env->dir, sizeof(env->dir), "%s/fraud-velocity-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(env->dir));
        ck_assert_int_eq(fraud_settings_init(&env->settings), 0);
        set_string(&env->settings.kafka.bootstrap_servers, fraud_mock_bootstrap(env->mock));
        set_string(&env->settings.velocity.state_dir, env->dir);
        env->settings.kafka.session_timeout_ms = 6000;
        env->settings.velocity.history_events_max = FRAUD_VELOCITY_HISTORY_EVENTS_MAX;
        env->settings.velocity.cache_entities_max = 1000;
        env->settings.velocity.sync_commit = false;
        fraud_kafka_options_init(&o);
        o.bootstrap_servers = fraud_mock_bootstrap(env->mock);
        ck_assert_msg(fraud_kafka_producer_new(&o, &env->producer, err, sizeof(err)) == 0, "%s",
                      err);
        o.group_id = "test-reader";
        ck_assert_msg(fraud_kafka_consumer_new(&o, &spec, &env->reader, err, sizeof(err)) == 0,
                      "%s", err);
}

static void stage_env_release(struct stage_env *env) {
        fraud_kafka_consumer_free(env->reader);
        fraud_kafka_producer_free(env->producer);
        fraud_settings_release(&env->settings);
        fraud_mock_free(env->mock);
        testing_tree_remove(env->dir);
}

/* The velocity daemon itself (the built fraud-velocity) in a child process,
 * configured like env->settings.  fork() is followed at once by exec():
 * the parent has librdkafka threads, and a child that went on running
 * code could inherit a lock (the sanitizers' allocator's, say) held by a
 * thread it does not have. */
static pid_t stage_start(struct stage_env *env) {
        char exe[PATH_MAX], config[PATH_MAX];
        FILE *f;
        pid_t pid;

        ck_assert_int_lt(snprintf(exe, sizeof(exe), "%s/velocity/fraud-velocity",
                                  getenv("FRAUD_BUILD_ROOT")),
                         (int)sizeof(exe));
        ck_assert_int_lt(snprintf(config, sizeof(config), "%.*s/fraud.yaml", 1024, env->dir),
                         (int)sizeof(config));
        f = fopen(config, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "kafka:\n  bootstrap_servers: \"%s\"\n  session_timeout_ms: %lld\n"
                "velocity:\n  state_dir: \"%s\"\n  history_events_max: %lld\n"
                "  http_listen: \"127.0.0.1:0\"\n"
                "  cache_entities_max: %lld\n  sync_commit: %s\n",
                env->settings.kafka.bootstrap_servers,
                (long long)env->settings.kafka.session_timeout_ms, env->dir,
                (long long)env->settings.velocity.history_events_max,
                (long long)env->settings.velocity.cache_entities_max,
                env->settings.velocity.sync_commit ? "true" : "false");
        ck_assert_int_eq(fclose(f), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                execl(exe, exe, "--config", config, (char *)NULL);
                _exit(127);
        }
        return pid;
}

static void produce(struct stage_env *env, const char *topic, const char *key, const void *value,
                    size_t size) {
        struct fraud_kafka_record rec = {topic, -1, key, strlen(key), value, size};
        ck_assert_int_eq(fraud_kafka_producer_send(env->producer, &rec, NULL), 0);
}

static void produce_event(struct stage_env *env, const struct sim_event *ev) {
        uint8_t buf[2048];

        if (ev->kind == SIM_EVENT_TRANSACTION) {
                Fraud__Transaction t;
                tx_proto(&ev->tx, &t);
                produce(env, "tx.normalized", ev->tx.pan, buf, fraud__transaction__pack(&t, buf));
        } else {
                Fraud__Chargeback c;
                cb_proto(&ev->cb, &c);
                produce(env, "chargebacks", ev->cb.transaction_id, buf,
                        fraud__chargeback__pack(&c, buf));
        }
}

struct stage_check {
        const struct fraud_featureset *fs;
        uint64_t *want; /* vector_hash() of the brute force, per transaction */
        unsigned char *seen;
        size_t unique, duplicates;
};

static void check_vectors(struct stage_env *env, struct stage_check *k) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(env->reader, &msgs, 20);

        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
                Fraud__FeatureVector *fv =
                        fraud__feature_vector__unpack(NULL, msgs[i].value_size, msgs[i].value);
                size_t x;
                ck_assert_ptr_nonnull(fv);
                ck_assert_uint_eq(fv->feature_schema_hash, k->fs->hash);
                ck_assert_uint_eq(fv->n_values, k->fs->n);
                x = tx_index_of(fv->transaction_id);
                ck_assert_msg(vector_hash(k->fs, fv->values) == k->want[x],
                              "transaction %zu (%s): vector differs from the brute force", x,
                              fv->transaction_id);
                if (k->seen[x]++)
                        k->duplicates++;
                else
                        k->unique++;
                fraud__feature_vector__free_unpacked(fv, NULL);
                fraud_kafka_input_done(msgs[i].input);
        }
}

static void stage_stop(pid_t pid, int sig, int want_status) {
        int status = 0;

        ck_assert_int_eq(kill(pid, sig), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (sig == SIGKILL)
                ck_assert(WIFSIGNALED(status));
        else
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == want_status,
                              "velocity exited with status %d", status);
}

START_TEST(test_velocity_stage_equals_brute_force_across_two_kill9_restarts) {
        static double want[FRAUD_FEATURESET_FEATURES_MAX];
        struct stage_env env;
        struct stage_check k = {0};
        struct brute b;
        struct log l;
        size_t next = 0, produced = 0, kills = 0;
        int64_t deadline = fraud_time_mono_ns() / 1000000 + WAIT_MS;
        pid_t pid;

        log_load(&l);
        brute_init(&b, &l);
        k.fs = &b.fs;
        k.want = malloc(l.n_tx * sizeof(*k.want));
        k.seen = calloc(l.n_tx, 1);
        ck_assert(k.want && k.seen);
        for (size_t x = 0; x < l.n_tx; x++) {
                brute_next(&b, x, want);
                k.want[x] = vector_hash(&b.fs, want);
        }
        stage_env_init(&env, "tx.features");
        pid = stage_start(&env);
        while (k.unique < l.n_tx) {
                ck_assert_msg(fraud_time_mono_ns() / 1000000 < deadline, "%zu of %zu vectors",
                              k.unique, l.n_tx);
                for (; next < l.n && produced - k.unique < STAGE_LAG_MAX; next++) {
                        produce_event(&env, &l.ev[next]);
                        produced += l.ev[next].kind == SIM_EVENT_TRANSACTION;
                }
                fraud_kafka_producer_poll(env.producer, 0);
                check_vectors(&env, &k);
                if (kills < 2 && k.unique >= l.n_tx * (kills + 1) / 3) {
                        stage_stop(pid, SIGKILL, 0);
                        pid = stage_start(&env);
                        kills++;
                }
        }
        stage_stop(pid, SIGTERM, 0);
        ck_assert_uint_eq(kills, 2);
        printf("stage: %zu transactions, %zu vectors re-sent after the kills\n", k.unique,
               k.duplicates);
        stage_env_release(&env);
        free(k.want);
        free(k.seen);
        brute_release(&b);
        log_free(&l);
}
END_TEST

START_TEST(test_velocity_sends_garbage_to_dlq_and_goes_on) {
        struct stage_env env;
        struct sim_event ev = {.kind = SIM_EVENT_TRANSACTION};
        const struct fraud_kafka_message *msgs;
        struct velocity_counters vc = {0};
        struct velocity *v = NULL;
        Fraud__DeadLetter *d = NULL;
        char err[256] = "";
        int64_t deadline = fraud_time_mono_ns() / 1000000 + 60000;

        stage_env_init(&env, "dlq");
        snprintf(ev.tx.transaction_id, SIM_ID_MAX, "tx_1_000000000001");
        snprintf(ev.tx.pan, sizeof(ev.tx.pan), "4000000000000002");
        snprintf(ev.tx.merchant_id, SIM_ID_MAX, "M1");
        ev.tx.time_ms = INT64_C(1767225600000);
        ev.tx.currency = "EUR";
        ev.tx.country = "FR";
        produce(&env, "tx.normalized", "k", "\xff\xff\xff", 3);
        produce_event(&env, &ev);
        ck_assert_int_eq(fraud_kafka_producer_flush(env.producer, 10000), 0);
        ck_assert_msg(velocity_new(&env.settings, &v, err, sizeof(err)) == 0, "%s", err);
        while (vc.transactions < 1 && fraud_time_mono_ns() / 1000000 < deadline) {
                ck_assert_int_ge(velocity_step(v, 100), 0);
                velocity_counters(v, &vc);
        }
        ck_assert_uint_eq(vc.transactions, 1);
        ck_assert_uint_eq(vc.rejected, 1);
        while (!d && fraud_time_mono_ns() / 1000000 < deadline) {
                int n = fraud_kafka_consumer_poll_batch(env.reader, &msgs, 100);
                ck_assert_int_ge(n, 0);
                for (int i = 0; i < n; i++) {
                        d = fraud__dead_letter__unpack(NULL, msgs[i].value_size, msgs[i].value);
                        fraud_kafka_input_done(msgs[i].input);
                }
        }
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->reason_code, "bad_protobuf");
        ck_assert_str_eq(d->source_topic, "tx.normalized");
        ck_assert_uint_eq(d->original.len, 3);
        fraud__dead_letter__free_unpacked(d, NULL);
        ck_assert_int_eq(velocity_close(v), 0);
        stage_env_release(&env);
}
END_TEST

TESTING_MAIN("velocity", test_velocity_core_equals_brute_force_on_every_transaction,
             test_velocity_stage_equals_brute_force_across_two_kill9_restarts,
             test_velocity_sends_garbage_to_dlq_and_goes_on)
