/* kit.h: what the labeler's tests share: the three input messages packed
 * the way velocity, the scorer and the chargeback feed pack them, a sink
 * that records what the join emits, the simulator's stream as join inputs,
 * and the brute force: the labels a transaction must get, computed from
 * its times alone (join.h's rules written out once more, independently of
 * join.c's record and milestone machinery).
 *
 * Header-only (static inline) so each test program stays one source file.
 */
#ifndef FRAUD_TESTS_LABELER_KIT_H
#define FRAUD_TESTS_LABELER_KIT_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "labeler/join.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "proto/chargeback.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/label.pb-c.h"
#include "proto/score.pb-c.h"
#include "tools/sim.h"

#define KIT_T0_US    INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define KIT_DAY_US   FRAUD_USEC_PER_DAY
#define KIT_HOUR_US  FRAUD_USEC_PER_HOUR
#define KIT_MSG_MAX  1024 /* bytes of one packed test input */
#define KIT_NONE     INT64_MAX
#define KIT_SCHEMA   UINT64_C(0x1abe1e4) /* feature_schema_hash of the test vectors */
#define KIT_NO_SCORE 0                   /* kit_decision(): no Score is sent */

enum {
        KIT_PROVISIONAL = FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL,
        KIT_CONFIRMED = FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED,
        KIT_CORRECTED = FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED,
        KIT_LEGIT = FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT,
        KIT_FRAUD = FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD,
        KIT_UNKNOWN = FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN,
        KIT_ALLOW = FRAUD__DECISION__DECISION_ALLOW,
        KIT_REVIEW = FRAUD__DECISION__DECISION_REVIEW,
        KIT_BLOCK = FRAUD__DECISION__DECISION_BLOCK,
        KIT_CHARGEBACK = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK,
        KIT_REVIEW_FRAUD = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD,
        KIT_REVIEW_LEGIT = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT
};

/* ---- inputs ---- */

/* A FeatureVector of two values derived from amount_minor. */
static inline size_t kit_features_pack(uint8_t *buf, const char *id, const char *card, int64_t t_us,
                                       int64_t amount_minor) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        double values[2] = {(double)amount_minor, (double)(amount_minor % 97)};

        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = (char *)id;
        t.event_time_us = t_us;
        t.amount_minor = amount_minor;
        t.currency = (char *)"EUR";
        t.card_hash = (char *)card;
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = (char *)id;
        fv.transaction = &t;
        fv.feature_schema_hash = KIT_SCHEMA;
        fv.n_values = 2;
        fv.values = values;
        ck_assert_uint_le(fraud__feature_vector__get_packed_size(&fv), KIT_MSG_MAX);
        return fraud__feature_vector__pack(&fv, buf);
}

static inline size_t kit_score_pack(uint8_t *buf, const char *id, const char *card, int64_t t_us,
                                    int decision) {
        Fraud__Score s = FRAUD__SCORE__INIT;

        s.schema_version = SCORE_SCHEMA_VERSION;
        s.transaction_id = (char *)id;
        s.card_hash = (char *)card;
        s.event_time_us = t_us;
        s.decision = (Fraud__Decision)decision;
        s.probability = 0.5;
        return fraud__score__pack(&s, buf);
}

static inline size_t kit_chargeback_pack(uint8_t *buf, const char *id, const char *cb_id,
                                         int64_t e_us, int64_t tx_us, int kind) {
        Fraud__Chargeback c = FRAUD__CHARGEBACK__INIT;

        c.schema_version = CHARGEBACK_SCHEMA_VERSION;
        c.transaction_id = (char *)id;
        c.chargeback_id = (char *)cb_id;
        c.event_time_us = e_us;
        c.transaction_time_us = tx_us;
        c.amount_minor = 100;
        c.currency = (char *)"EUR";
        c.reason = (char *)"10.4";
        c.kind = (Fraud__ChargebackKind)kind;
        return fraud__chargeback__pack(&c, buf);
}

/* ---- a sink that records ---- */

struct kit_label {
        char id[FRAUD_LABELER_ID_MAX + 1];
        int value, status, decision;
        int64_t event_us, known_us;
        uint64_t features_hash; /* FNV-1a of the embedded FeatureVector bytes */
};

struct kit_reject {
        char id[FRAUD_LABELER_ID_MAX + 1];
        enum join_reject_reason reason;
        enum join_kind kind;
        size_t original_size;
};

struct kit_out {
        struct kit_label *labels;
        size_t n_labels, cap_labels;
        struct kit_reject *rejects;
        size_t n_rejects, cap_rejects;
};

static inline void *kit_grow(void *p, size_t *cap, size_t n, size_t size) {
        if (n < *cap)
                return p;
        *cap = *cap ? 2 * *cap : 256;
        p = realloc(p, *cap * size);
        ck_assert_ptr_nonnull(p);
        return p;
}

static inline int kit_on_label(void *ctx, const struct join_label *l, void *tag) {
        struct kit_out *o = ctx;
        struct kit_label *k;

        (void)tag;
        o->labels = kit_grow(o->labels, &o->cap_labels, o->n_labels, sizeof(*o->labels));
        k = &o->labels[o->n_labels++];
        snprintf(k->id, sizeof(k->id), "%s", l->transaction_id);
        k->value = l->value;
        k->status = l->status;
        k->decision = l->decision;
        k->event_us = l->event_time_us;
        k->known_us = l->known_at_us;
        k->features_hash = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, l->features, l->features_size);
        return 0;
}

static inline int kit_on_reject(void *ctx, const struct join_reject *r, void *tag) {
        struct kit_out *o = ctx;
        struct kit_reject *k;

        (void)tag;
        o->rejects = kit_grow(o->rejects, &o->cap_rejects, o->n_rejects, sizeof(*o->rejects));
        k = &o->rejects[o->n_rejects++];
        snprintf(k->id, sizeof(k->id), "%s", r->transaction_id);
        k->reason = r->reason;
        k->kind = r->kind;
        k->original_size = r->original_size;
        return 0;
}

static inline bool kit_label_equal(const struct kit_label *a, const struct kit_label *b) {
        return strcmp(a->id, b->id) == 0 && a->value == b->value && a->status == b->status &&
               a->decision == b->decision && a->event_us == b->event_us &&
               a->known_us == b->known_us && a->features_hash == b->features_hash;
}

static inline struct join_sink kit_sink(struct kit_out *o) {
        return (struct join_sink){kit_on_label, kit_on_reject, o};
}

static inline void kit_out_release(struct kit_out *o) {
        free(o->labels);
        free(o->rejects);
        memset(o, 0, sizeof(*o));
}

/* ---- the brute force ---- */

/* One transaction as the brute force sees it. */
struct kit_tx {
        int64_t t_us;
        int decision;     /* KIT_NO_SCORE when no Score came */
        int64_t fraud_us; /* first fraud statement, KIT_NONE if none */
};

struct kit_expect {
        int value, status;
        int64_t known_us;
};

/* The labels of tx with known_at <= wm (all when wm is KIT_NONE), in
 * emission order; returns their count (0..2). */
static inline size_t kit_expected(const struct kit_tx *tx, int64_t maturity_us, int64_t horizon_us,
                                  int64_t wm, struct kit_expect out[2]) {
        int64_t m = tx->t_us + maturity_us, h = tx->t_us + horizon_us;
        int64_t f = tx->fraud_us < tx->t_us ? tx->t_us : tx->fraud_us;
        int v = tx->decision == KIT_BLOCK ? KIT_UNKNOWN : KIT_LEGIT;
        struct kit_expect all[2];
        size_t n = 0, k = 0;

        if (tx->fraud_us != KIT_NONE && f <= m) {
                all[n++] = (struct kit_expect){KIT_FRAUD, KIT_CONFIRMED, f};
        } else {
                all[n++] = (struct kit_expect){v, KIT_PROVISIONAL, m};
                if (tx->fraud_us != KIT_NONE && f <= h)
                        all[n++] = (struct kit_expect){KIT_FRAUD, KIT_CORRECTED, f};
                else
                        all[n++] = (struct kit_expect){v, KIT_CONFIRMED, h};
        }
        for (size_t i = 0; i < n; i++)
                if (wm == KIT_NONE || all[i].known_us <= wm)
                        out[k++] = all[i];
        return k;
}

/* ---- the simulator's stream ---- */

struct kit_sim {
        struct sim_event *ev;
        size_t n, n_tx;
};

static inline size_t kit_tx_index(const char *transaction_id) {
        const char *p = strrchr(transaction_id, '_');

        ck_assert_ptr_nonnull(p);
        return (size_t)strtoull(p + 1, NULL, 10) - 1;
}

/* 30 days of a small world, in event-time order. */
static inline void kit_sim_load(struct kit_sim *s, uint32_t customers, uint64_t seed) {
        struct sim_config c;
        struct sim *sim;
        size_t cap = 1 << 16;
        int r;

        memset(s, 0, sizeof(*s));
        sim_config_default(&c);
        c.customers = customers;
        c.merchants = 200;
        c.fraud_rate = 0.02;
        c.seed = seed;
        ck_assert_int_eq(sim_new(&c, &sim), 0);
        s->ev = malloc(cap * sizeof(*s->ev));
        ck_assert_ptr_nonnull(s->ev);
        while ((r = sim_next(sim, &s->ev[s->n])) == 1) {
                s->n_tx += s->ev[s->n].kind == SIM_EVENT_TRANSACTION;
                if (++s->n == cap) {
                        cap *= 2;
                        s->ev = realloc(s->ev, cap * sizeof(*s->ev));
                        ck_assert_ptr_nonnull(s->ev);
                }
        }
        ck_assert_int_eq(r, 0);
        sim_free(sim);
}

/* The decision the test's scorer took on transaction i. */
static inline int kit_decision(size_t i) {
        if (i % 97 == 5)
                return KIT_NO_SCORE;
        if (i % 50 == 7)
                return KIT_BLOCK;
        return i % 31 == 3 ? KIT_REVIEW : KIT_ALLOW;
}

/* Feeds one simulated event to j as the daemon would receive it: a
 * transaction as its FeatureVector then its Score (if any), a chargeback
 * as a Chargeback.  *offset numbers the inputs. */
static inline void kit_sim_feed(struct join *j, const struct sim_event *ev, int64_t *offset) {
        uint8_t buf[KIT_MSG_MAX];
        struct join_input in = {.partition = 0};

        if (ev->kind == SIM_EVENT_TRANSACTION) {
                const struct sim_transaction *t = &ev->tx;
                int d = kit_decision(kit_tx_index(t->transaction_id));
                in.kind = JOIN_FEATURES;
                in.data = buf;
                in.size = kit_features_pack(buf, t->transaction_id, t->pan, t->time_ms * 1000,
                                            t->amount_minor);
                in.offset = (*offset)++;
                ck_assert_int_eq(join_input(j, &in), 0);
                if (d == KIT_NO_SCORE)
                        return;
                in.kind = JOIN_SCORE;
                in.size = kit_score_pack(buf, t->transaction_id, t->pan, t->time_ms * 1000, d);
        } else {
                const struct sim_chargeback *c = &ev->cb;
                in.kind = JOIN_CHARGEBACK;
                in.data = buf;
                in.size = kit_chargeback_pack(buf, c->transaction_id, c->chargeback_id,
                                              c->time_ms * 1000, c->transaction_time_ms * 1000,
                                              KIT_CHARGEBACK);
        }
        in.offset = (*offset)++;
        ck_assert_int_eq(join_input(j, &in), 0);
}

/* Settles everything due. */
static inline size_t kit_drain(struct join *j) {
        size_t total = 0;
        int n;

        do {
                n = join_advance(j, FRAUD_LABELER_ADVANCE_CHUNK);
                ck_assert_int_ge(n, 0);
                total += (size_t)n;
        } while (n == FRAUD_LABELER_ADVANCE_CHUNK);
        return total;
}

/* The brute force's view of the stream: per transaction its time, the
 * decision and its first chargeback. */
static inline struct kit_tx *kit_sim_txs(const struct kit_sim *s) {
        struct kit_tx *tx = calloc(s->n_tx, sizeof(*tx));

        ck_assert_ptr_nonnull(tx);
        for (size_t i = 0; i < s->n; i++) {
                const struct sim_event *ev = &s->ev[i];
                size_t x;
                if (ev->kind == SIM_EVENT_TRANSACTION) {
                        x = kit_tx_index(ev->tx.transaction_id);
                        ck_assert_uint_lt(x, s->n_tx);
                        tx[x].t_us = ev->tx.time_ms * 1000;
                        tx[x].decision = kit_decision(x);
                        tx[x].fraud_us = KIT_NONE;
                        continue;
                }
                x = kit_tx_index(ev->cb.transaction_id);
                if (ev->cb.time_ms * 1000 < tx[x].fraud_us)
                        tx[x].fraud_us = ev->cb.time_ms * 1000;
        }
        return tx;
}

#endif
