/* kit.h: what the trainer's tests share: a small feature schema, synthetic
 * payments whose fraud depends on a few features, and the label history
 * the labeler would send for them (provisional legitimate labels at
 * maturity, chargebacks, late corrections, blocked payments), in known_at
 * order, with an independent oracle of the label at a cutoff.
 *
 * Header-only (static inline) so each test program stays one source file.
 * Deterministic: every value comes from a fixed generator and the seed.
 */
#ifndef FRAUD_TESTS_TRAINER_KIT_H
#define FRAUD_TESTS_TRAINER_KIT_H

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/featureset.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "trainer/dataset.h"

#define KIT_DAY        FRAUD_USEC_PER_DAY
#define KIT_T0         INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define KIT_SPANS      "3600"                    /* velocity.window_spans_sec of the tests */
#define KIT_LABELS_MAX 16384

/* The schema of one one-hour span (41 features). */
static inline void kit_featureset(struct fraud_featureset *fs) {
        const int64_t spans[] = {3600};

        assert(fraud_featureset_build(spans, 1, fs) == 0);
}

static inline double kit_uniform(uint64_t *st) {
        *st = *st * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        return (double)(*st >> 11) / 9007199254740992.0;
}

/* One payment: n feature values and its truth (about 13 % fraud, driven
 * by features 0, 1 and 2). */
static inline int kit_payment(uint64_t seed, size_t i, double *values, size_t n) {
        uint64_t st = seed * 1000003 + i * 7919 + 1;
        double z;

        for (size_t j = 0; j < n; j++)
                values[j] = kit_uniform(&st);
        z = 3.0 * values[0] + 2.0 * values[1] - 1.5 * values[2] + 0.8 * kit_uniform(&st);
        return z > 3.5;
}

/* One label as the labeler sends it. */
struct kit_label {
        char tx_id[32];
        char card[16];
        int64_t event_us, known_us;
        uint8_t value, status; /* dataset.h's enums (= the proto's) */
        int truth;
        size_t payment; /* index of its payment */
};

/* The label history of `days` days of per_day payments from t0: a fraud
 * is charged back (CONFIRMED fraud) 0.5 day after it happened, or, one in
 * three, first labelled legitimate at maturity and CORRECTED 2.5 days
 * later; a legitimate payment gets PROVISIONAL legitimate at maturity
 * (maturity_days), one in eleven is blocked (UNKNOWN at once).  When
 * shuffle_until > t0, the truth of payments before it is permuted among
 * them (labels that teach nothing).  Sorted by known_at.  Returns the
 * count. */
static inline size_t kit_history(uint64_t seed, int64_t t0, int days, int per_day,
                                 int64_t maturity_days, int64_t shuffle_until,
                                 struct kit_label *out, size_t max) {
        size_t n = 0, total = (size_t)days * (size_t)per_day, shuffled = 0;
        int *truth = malloc(total * sizeof(int));
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        uint64_t st = seed ^ 0x5eed;

        for (size_t i = 0; i < total; i++) {
                truth[i] = kit_payment(seed, i, values, 41);
                if (t0 + (int64_t)(i / (size_t)per_day) * KIT_DAY < shuffle_until)
                        shuffled = i + 1;
        }
        for (size_t i = shuffled; i > 1; i--) { /* Fisher-Yates on the first `shuffled` */
                size_t j = (size_t)(kit_uniform(&st) * (double)i);
                int tmp = truth[i - 1];
                truth[i - 1] = truth[j];
                truth[j] = tmp;
        }
        for (size_t i = 0; i < total; i++) {
                int64_t ev = t0 + (int64_t)(i / (size_t)per_day) * KIT_DAY +
                             (int64_t)(i % (size_t)per_day) * (KIT_DAY / per_day);
                struct kit_label l = {.event_us = ev, .truth = truth[i], .payment = i};
                int two = truth[i] && i % 3 == 0;

                snprintf(l.tx_id, sizeof(l.tx_id), "tx-%06zu", i);
                snprintf(l.card, sizeof(l.card), "card-%zu", i % 97);
                assert(n + 2 <= max);
                if (!truth[i] && i % 11 == 5) {
                        l.known_us = ev;
                        l.value = DATASET_UNKNOWN;
                        l.status = DATASET_CONFIRMED;
                        out[n++] = l;
                        continue;
                }
                l.known_us = truth[i] && !two ? ev + KIT_DAY / 2 : ev + maturity_days * KIT_DAY;
                l.value = truth[i] && !two ? DATASET_FRAUD : DATASET_LEGIT;
                l.status = truth[i] && !two ? DATASET_CONFIRMED : DATASET_PROVISIONAL;
                out[n++] = l;
                if (two) {
                        l.known_us = ev + maturity_days * KIT_DAY + 5 * KIT_DAY / 2;
                        l.value = DATASET_FRAUD;
                        l.status = DATASET_CORRECTED;
                        out[n++] = l;
                }
        }
        free(truth);
        for (size_t i = 1; i < n; i++) /* stable insertion sort by known_at */
                for (size_t j = i; j > 0 && out[j - 1].known_us > out[j].known_us; j--) {
                        struct kit_label tmp = out[j];
                        out[j] = out[j - 1];
                        out[j - 1] = tmp;
                }
        return n;
}

/* The oracle: the label of payment p at cutoff (1, 0, or -1 none), from the
 * history alone -- the latest known_at <= cutoff, later in the list on a
 * tie; UNKNOWN is none. */
static inline int kit_label_at(const struct kit_label *h, size_t n, size_t p, int64_t cutoff) {
        const struct kit_label *best = NULL;

        for (size_t i = 0; i < n; i++)
                if (h[i].payment == p && h[i].known_us <= cutoff &&
                    (!best || h[i].known_us >= best->known_us))
                        best = &h[i];
        if (!best || best->value == DATASET_UNKNOWN)
                return -1;
        return best->value == DATASET_FRAUD;
}

/* The dataset row of label i of the history (its one version). */
static inline void kit_row(uint64_t seed, const struct kit_label *l, uint64_t schema_hash,
                           struct dataset_row *r) {
        memset(r, 0, sizeof(*r));
        memcpy(r->tx_id, l->tx_id, sizeof(l->tx_id));
        r->event_time_us = l->event_us;
        r->card = fraud_hash_fnv1a_str(l->card);
        r->schema_hash = schema_hash;
        r->n_values = 41;
        kit_payment(seed, l->payment, r->values, 41);
        r->n_versions = 1;
        r->versions[0] = (struct dataset_version){l->known_us, l->value, l->status};
}

#endif
