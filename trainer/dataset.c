/* dataset.c: see dataset.h.
 *
 * The record format (version 1), little-endian:
 *   u8 format, i64 event_time_us, u64 card, u64 schema_hash, u16 n_values,
 *   u8 n_versions, n_versions x (i64 known_at_us, u8 value, u8 status),
 *   n_values x f64.
 * A reader refuses any other format byte, count or length.
 */
#include "trainer/dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

#define DATASET_FORMAT     1
#define DATASET_ROWS_FIRST 4096 /* rows allocated before a table first grows */

int dataset_row_version_add(struct dataset_row *r, const struct dataset_version *v) {
        for (size_t i = 0; i < r->n_versions; i++)
                if (r->versions[i].status == v->status && r->versions[i].value == v->value)
                        return 1;
        if (r->n_versions == FRAUD_TRAINER_LABEL_VERSIONS_MAX)
                return -E2BIG;
        r->versions[r->n_versions++] = *v;
        return 0;
}

const struct dataset_version *dataset_row_version_at(const struct dataset_row *r,
                                                     int64_t cutoff_us) {
        const struct dataset_version *best = NULL;

        for (size_t i = 0; i < r->n_versions; i++) {
                const struct dataset_version *v = &r->versions[i];

                if (v->known_at_us <= cutoff_us && (!best || v->known_at_us >= best->known_at_us))
                        best = v;
        }
        return best;
}

int dataset_row_label_at(const struct dataset_row *r, int64_t cutoff_us) {
        const struct dataset_version *v = dataset_row_version_at(r, cutoff_us);

        if (!v || v->value == DATASET_UNKNOWN)
                return -1;
        return v->value == DATASET_FRAUD;
}

/* ---- encoding ---- */

static void put_u64(uint8_t **p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                *(*p)++ = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t **p) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v |= (uint64_t)(*(*p)++) << (8 * i);
        return v;
}

static void put_time_be(uint8_t *p, int64_t t) {
        uint64_t v = (uint64_t)t ^ (UINT64_C(1) << 63);

        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int64_t get_time_be(const uint8_t *p) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return (int64_t)(v ^ (UINT64_C(1) << 63));
}

size_t dataset_key_at(int64_t t_us, uint8_t *key) {
        key[0] = DATASET_KEY_PREFIX;
        put_time_be(key + 1, t_us);
        return 9;
}

size_t dataset_key(const struct dataset_row *r, uint8_t *key) {
        size_t n = strnlen(r->tx_id, FRAUD_TRAINER_TXID_MAX - 1);

        dataset_key_at(r->event_time_us, key);
        memcpy(key + 9, r->tx_id, n);
        return 9 + n;
}

static size_t encoded_size(const struct dataset_row *r) {
        return 1 + 8 + 8 + 8 + 2 + 1 + 10 * r->n_versions + 8 * r->n_values;
}

int dataset_row_encode(const struct dataset_row *r, uint8_t *buf, size_t cap) {
        uint8_t *p = buf;

        if (r->n_values > FRAUD_FEATURESET_FEATURES_MAX ||
            r->n_versions > FRAUD_TRAINER_LABEL_VERSIONS_MAX || encoded_size(r) > cap)
                return -ENOBUFS;
        *p++ = DATASET_FORMAT;
        put_u64(&p, (uint64_t)r->event_time_us);
        put_u64(&p, r->card);
        put_u64(&p, r->schema_hash);
        *p++ = (uint8_t)(r->n_values & 0xff);
        *p++ = (uint8_t)(r->n_values >> 8);
        *p++ = (uint8_t)r->n_versions;
        for (size_t i = 0; i < r->n_versions; i++) {
                put_u64(&p, (uint64_t)r->versions[i].known_at_us);
                *p++ = r->versions[i].value;
                *p++ = r->versions[i].status;
        }
        for (size_t i = 0; i < r->n_values; i++) {
                uint64_t bits;

                memcpy(&bits, &r->values[i], sizeof(bits));
                put_u64(&p, bits);
        }
        return (int)(p - buf);
}

static bool version_valid(const struct dataset_version *v) {
        return v->value >= DATASET_LEGIT && v->value <= DATASET_UNKNOWN &&
               v->status >= DATASET_PROVISIONAL && v->status <= DATASET_CORRECTED;
}

/* The header fields and the counts; the caller checks the length. */
static int decode_head(struct dataset_row *r, const uint8_t **p) {
        if (*(*p)++ != DATASET_FORMAT)
                return -EBADMSG;
        r->event_time_us = (int64_t)get_u64(p);
        r->card = get_u64(p);
        r->schema_hash = get_u64(p);
        r->n_values = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
        r->n_versions = (*p)[2];
        *p += 3;
        return r->n_values <= FRAUD_FEATURESET_FEATURES_MAX && r->n_versions >= 1 &&
                               r->n_versions <= FRAUD_TRAINER_LABEL_VERSIONS_MAX
                       ? 0
                       : -EBADMSG;
}

int dataset_row_decode(struct dataset_row *r, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len) {
        const uint8_t *p = value;

        if (key_len <= 9 || key_len - 9 >= FRAUD_TRAINER_TXID_MAX || key[0] != DATASET_KEY_PREFIX ||
            value_len < 1 + 8 + 8 + 8 + 2 + 1 || decode_head(r, &p) < 0 ||
            value_len != encoded_size(r) || get_time_be(key + 1) != r->event_time_us)
                return -EBADMSG;
        memcpy(r->tx_id, key + 9, key_len - 9);
        r->tx_id[key_len - 9] = '\0';
        for (size_t i = 0; i < r->n_versions; i++) {
                r->versions[i].known_at_us = (int64_t)get_u64(&p);
                r->versions[i].value = *p++;
                r->versions[i].status = *p++;
                if (!version_valid(&r->versions[i]))
                        return -EBADMSG;
        }
        for (size_t i = 0; i < r->n_values; i++) {
                uint64_t bits = get_u64(&p);

                memcpy(&r->values[i], &bits, sizeof(bits));
        }
        return 0;
}

/* ---- a training set at a cutoff ---- */

void dataset_window_at(int64_t cutoff_us, int64_t window_days, int64_t maturity_days,
                       uint64_t schema_hash, size_t n_features, struct dataset_window *w) {
        const int64_t day = INT64_C(86400000000);

        *w = (struct dataset_window){.cutoff_us = cutoff_us,
                                     .start_us = cutoff_us - window_days * day,
                                     .end_us = cutoff_us - maturity_days * day,
                                     .schema_hash = schema_hash,
                                     .n_features = n_features};
}

void dataset_table_init(struct dataset_table *t, size_t n_features, size_t rows_max) {
        memset(t, 0, sizeof(*t));
        t->n_features = n_features;
        t->rows_max = rows_max;
        t->newest_us = INT64_MIN;
}

void dataset_table_release(struct dataset_table *t) {
        free(t->x);
        free(t->label);
        free(t->time_us);
        free(t->card);
        free(t->row_id);
        dataset_table_init(t, t->n_features, t->rows_max);
}

static int table_grow(struct dataset_table *t) {
        size_t cap = t->capacity ? 2 * t->capacity : DATASET_ROWS_FIRST;
        void *p;

        if (t->n_rows < t->capacity)
                return 0;
        if (t->n_rows >= t->rows_max)
                return -E2BIG;
        cap = cap > t->rows_max ? t->rows_max : cap;
        if (!(p = realloc(t->x, cap * (t->n_features ? t->n_features : 1) * sizeof(double))))
                return -ENOMEM;
        t->x = p;
        if (!(p = realloc(t->label, cap)))
                return -ENOMEM;
        t->label = p;
        if (!(p = realloc(t->time_us, cap * sizeof(int64_t))))
                return -ENOMEM;
        t->time_us = p;
        if (!(p = realloc(t->card, cap * sizeof(uint64_t))))
                return -ENOMEM;
        t->card = p;
        if (!(p = realloc(t->row_id, cap * sizeof(uint64_t))))
                return -ENOMEM;
        t->row_id = p;
        t->capacity = cap;
        return 0;
}

int dataset_table_offer(struct dataset_table *t, const struct dataset_window *w,
                        const struct dataset_row *r) {
        size_t i = t->n_rows;
        int label, ret;

        if (r->event_time_us < w->start_us || r->event_time_us >= w->end_us)
                return 0;
        if (r->schema_hash != w->schema_hash || r->n_values != w->n_features ||
            r->n_values != t->n_features) {
                t->skipped_schema++;
                return 0;
        }
        label = dataset_row_label_at(r, w->cutoff_us);
        if (label < 0) {
                const struct dataset_version *v = dataset_row_version_at(r, w->cutoff_us);
                *(v ? &t->skipped_unknown : &t->skipped_unlabelled) += 1;
                return 0;
        }
        if ((ret = table_grow(t)) < 0)
                return ret;
        memcpy(t->x + i * t->n_features, r->values, t->n_features * sizeof(double));
        t->label[i] = (uint8_t)label;
        t->time_us[i] = r->event_time_us;
        t->card[i] = r->card;
        t->row_id[i] = fraud_hash_fnv1a_str(r->tx_id);
        if (r->event_time_us >= t->newest_us) {
                t->newest_us = r->event_time_us;
                memcpy(t->newest_tx, r->tx_id, sizeof(t->newest_tx));
        }
        t->n_rows++;
        return 1;
}
