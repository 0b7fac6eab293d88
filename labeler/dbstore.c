/* dbstore.c: see dbstore.h. */
#include "labeler/dbstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/keymap.h"

#define DBSTORE_RECORD      'r'
#define DBSTORE_DUE         'd'
#define DBSTORE_CLOCK       'w'
#define DBSTORE_DUE_KEY_MAX (1 + 8 + FRAUD_LABELER_ID_MAX)

/* What one advance chunk (each record: its value, the taken entry, a new
 * entry, a deleted one) or one input may add to the overlay. */
#define DBSTORE_ROOM_KEYS (4 * FRAUD_LABELER_ADVANCE_CHUNK + 8)
#define DBSTORE_ROOM_BYTES                                                                         \
        ((size_t)(FRAUD_LABELER_ADVANCE_CHUNK + 1) *                                               \
         (FRAUD_LABELER_RECORD_BYTES_MAX + 4 * DBSTORE_DUE_KEY_MAX))

_Static_assert(FRAUD_LABELER_RECORD_BYTES_MAX <= FRAUD_STORE_VALUE_MAX, "a record is a value");
_Static_assert(DBSTORE_DUE_KEY_MAX <= FRAUD_STORE_KEY_MAX, "a due key is a key");
_Static_assert(FRAUD_LABELER_PENDING_KEYS_MAX + FRAUD_KAFKA_PARTITIONS_MAX <=
                       FRAUD_STORE_BATCH_OPS_MAX,
               "the overlay and the offsets fit one write batch");
_Static_assert(FRAUD_LABELER_PENDING_BYTES_MAX + 2 * DBSTORE_ROOM_BYTES <=
                       FRAUD_STORE_BATCH_BYTES_MAX,
               "the overlay fits one write batch");
_Static_assert(DBSTORE_ROOM_BYTES < FRAUD_LABELER_PENDING_BYTES_MAX / 2, "room for some work");

/* A candidate of due_take(): from RocksDB or from the overlay. */
struct dbstore_cand {
        struct join_due due;
        bool committed;
};

struct dbstore {
        struct fraud_store *s; /* borrowed */
        struct keymap *overlay;
        /* Due entries put since the last clear (some deleted since): the
         * overlay's side of the index, without walking the whole overlay. */
        struct join_due *dues;
        size_t n_dues, cap_dues;
        /* Every committed due entry below this key is taken (its delete is
         * committed or pending): takes start here instead of wading
         * through the deletes RocksDB keeps until compaction. */
        uint8_t floor[DBSTORE_DUE_KEY_MAX + 1];
        size_t floor_len;
        struct dbstore_cand cand[FRAUD_LABELER_ADVANCE_CHUNK];
};

int dbstore_new(struct fraud_store *s, struct dbstore **out) {
        struct dbstore *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->s = s;
        d->floor[0] = DBSTORE_DUE;
        d->floor_len = 1;
        if (keymap_new(FRAUD_LABELER_PENDING_KEYS_MAX, FRAUD_LABELER_PENDING_BYTES_MAX,
                       &d->overlay) < 0) {
                free(d);
                return -ENOMEM;
        }
        *out = d;
        return 0;
}

void dbstore_free(struct dbstore *d) {
        if (!d)
                return;
        keymap_free(d->overlay);
        free(d->dues);
        free(d);
}

size_t dbstore_pending_keys(const struct dbstore *d) {
        return keymap_count(d->overlay);
}

size_t dbstore_pending_bytes(const struct dbstore *d) {
        return keymap_bytes(d->overlay);
}

bool dbstore_full(const struct dbstore *d) {
        return keymap_count(d->overlay) + DBSTORE_ROOM_KEYS > FRAUD_LABELER_PENDING_KEYS_MAX ||
               d->n_dues + DBSTORE_ROOM_KEYS > FRAUD_LABELER_PENDING_KEYS_MAX ||
               keymap_bytes(d->overlay) + DBSTORE_ROOM_BYTES > FRAUD_LABELER_PENDING_BYTES_MAX;
}

/* ---- keys ---- */

static size_t key_record(uint8_t *k, const char *id, size_t id_len) {
        k[0] = DBSTORE_RECORD;
        memcpy(k + 1, id, id_len);
        return 1 + id_len;
}

static void be64_put(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static size_t key_due(uint8_t *k, int64_t due_us, const char *id, size_t id_len) {
        k[0] = DBSTORE_DUE;
        be64_put(k + 1, (uint64_t)due_us);
        memcpy(k + 9, id, id_len);
        return 9 + id_len;
}

/* 0, or -EBADMSG for a key that is not a due entry. */
static int due_from_key(const uint8_t *k, size_t len, struct join_due *out) {
        if (len < 10 || len > DBSTORE_DUE_KEY_MAX || k[0] != DBSTORE_DUE)
                return -EBADMSG;
        out->due_us = (int64_t)be64_get(k + 1);
        out->id_len = (uint8_t)(len - 9);
        memcpy(out->id, k + 9, len - 9);
        return 0;
}

/* ---- reads through the overlay ---- */

static int overlay_read(struct dbstore *d, const uint8_t *k, size_t klen, void *buf, size_t cap) {
        struct keymap_entry e;

        if (keymap_get(d->overlay, k, klen, &e)) {
                if (e.removed)
                        return -ENOENT;
                if (e.value_len > cap)
                        return -ENOBUFS;
                memcpy(buf, e.value, e.value_len);
                return (int)e.value_len;
        }
        return fraud_store_get(d->s, k, klen, buf, cap);
}

static int dbstore_record_get(void *ctx, const char *id, size_t id_len, void *buf, size_t cap) {
        uint8_t k[1 + FRAUD_LABELER_ID_MAX];

        return overlay_read(ctx, k, key_record(k, id, id_len), buf, cap);
}

static int dbstore_record_put(void *ctx, const char *id, size_t id_len, const void *v, size_t len) {
        struct dbstore *d = ctx;
        uint8_t k[1 + FRAUD_LABELER_ID_MAX];

        return keymap_put(d->overlay, k, key_record(k, id, id_len), v, len, false);
}

static int dbstore_record_del(void *ctx, const char *id, size_t id_len) {
        struct dbstore *d = ctx;
        uint8_t k[1 + FRAUD_LABELER_ID_MAX];

        return keymap_put(d->overlay, k, key_record(k, id, id_len), NULL, 0, true);
}

static int dbstore_clock_get(void *ctx, void *buf, size_t cap) {
        const uint8_t k = DBSTORE_CLOCK;

        return overlay_read(ctx, &k, 1, buf, cap);
}

static int dbstore_clock_put(void *ctx, const void *v, size_t len) {
        struct dbstore *d = ctx;
        const uint8_t k = DBSTORE_CLOCK;

        return keymap_put(d->overlay, &k, 1, v, len, false);
}

static int dbstore_due_put(void *ctx, int64_t due_us, const char *id, size_t id_len) {
        struct dbstore *d = ctx;
        uint8_t k[DBSTORE_DUE_KEY_MAX];
        struct join_due *e;

        if (d->n_dues == d->cap_dues) {
                size_t cap = d->cap_dues ? 2 * d->cap_dues : 1024;
                if (d->n_dues >= FRAUD_LABELER_PENDING_KEYS_MAX)
                        return -ENOBUFS;
                e = realloc(d->dues, cap * sizeof(*e));
                if (!e)
                        return -ENOMEM;
                d->dues = e;
                d->cap_dues = cap;
        }
        e = &d->dues[d->n_dues++];
        e->due_us = due_us;
        e->id_len = (uint8_t)id_len;
        memcpy(e->id, id, id_len);
        return keymap_put(d->overlay, k, key_due(k, due_us, id, id_len), "", 0, false);
}

static int dbstore_due_del(void *ctx, int64_t due_us, const char *id, size_t id_len) {
        struct dbstore *d = ctx;
        uint8_t k[DBSTORE_DUE_KEY_MAX];

        return keymap_put(d->overlay, k, key_due(k, due_us, id, id_len), NULL, 0, true);
}

/* ---- the due index: committed entries merged with the overlay ---- */

static int due_cmp(const struct join_due *a, const struct join_due *b) {
        size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
        int c;

        if (a->due_us != b->due_us)
                return a->due_us < b->due_us ? -1 : 1;
        c = memcmp(a->id, b->id, n);
        return c ? c : (int)a->id_len - (int)b->id_len;
}

/* Inserts e into the sorted c[0..*n), keeping the max smallest; an entry
 * already there (the same key put twice) is not added again. */
static void cand_insert(struct dbstore_cand *c, size_t *n, size_t max,
                        const struct dbstore_cand *e) {
        size_t i = *n;

        for (size_t k = 0; k < *n; k++)
                if (due_cmp(&c[k].due, &e->due) == 0)
                        return;
        if (*n == max && due_cmp(&e->due, &c[max - 1].due) >= 0)
                return;
        if (*n < max)
                (*n)++;
        for (; i > 0 && due_cmp(&e->due, &c[i - 1].due) < 0; i--)
                if (i < max)
                        c[i] = c[i - 1];
        c[i] = *e;
}

/* The first max committed entries from the floor up to upto_us that the
 * overlay leaves alone (an overlay put of the same key is found among
 * the pending ones), into out; *exhausted when none is left beyond. */
static int due_committed(struct dbstore *d, int64_t upto_us, struct join_due *out, size_t max,
                         size_t *n, bool *exhausted) {
        uint8_t hi[9];
        struct fraud_store_iter *it = NULL;
        int r;

        hi[0] = DBSTORE_DUE;
        be64_put(hi + 1, (uint64_t)upto_us + 1);
        r = fraud_store_iter_new(d->s, d->floor, d->floor_len, hi, sizeof(hi), &it);
        if (r < 0)
                return r;
        for (r = fraud_store_iter_seek(it, NULL, 0); r == 1 && *n < max;
             r = fraud_store_iter_next(it)) {
                struct keymap_entry e;
                size_t klen;
                const uint8_t *k = fraud_store_iter_key(it, &klen);
                if (keymap_get(d->overlay, k, klen, &e))
                        continue;
                r = due_from_key(k, klen, &out[*n]);
                if (r < 0)
                        break;
                (*n)++;
        }
        *exhausted = r == 0;
        fraud_store_iter_free(it);
        return r < 0 ? r : 0;
}

/* The pending puts up to upto_us merged into d->cand[0..*n). */
static void due_pending(struct dbstore *d, int64_t upto_us, size_t max, size_t *n) {
        uint8_t k[DBSTORE_DUE_KEY_MAX];

        for (size_t i = 0; i < d->n_dues; i++) {
                const struct join_due *p = &d->dues[i];
                struct keymap_entry e;
                if (p->due_us > upto_us ||
                    !keymap_get(d->overlay, k, key_due(k, p->due_us, p->id, p->id_len), &e) ||
                    e.removed)
                        continue;
                cand_insert(d->cand, n, max, &(struct dbstore_cand){*p, false});
        }
}

/* Byte order of keys, as RocksDB's. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
        int c = memcmp(a, b, alen < blen ? alen : blen);

        return c ? c : (alen > blen) - (alen < blen);
}

static void floor_set(struct dbstore *d, const uint8_t *k, size_t len) {
        memcpy(d->floor, k, len);
        d->floor_len = len;
}

/* After a take of n candidates, c of them collected from RocksDB into
 * committed[]: the floor rises past what was taken from RocksDB, never
 * past a committed entry left for the next take. */
static void floor_after_take(struct dbstore *d, const struct join_due *committed, size_t c,
                             size_t n, bool exhausted, int64_t upto_us) {
        uint8_t k[DBSTORE_DUE_KEY_MAX + 1];
        size_t kept = 0, len;

        for (size_t i = 0; i < n; i++)
                kept += d->cand[i].committed;
        if (kept < c) { /* committed[kept] was pushed out by pending entries */
                len = key_due(k, committed[kept].due_us, committed[kept].id,
                              committed[kept].id_len);
        } else if (exhausted) {
                k[0] = DBSTORE_DUE;
                be64_put(k + 1, (uint64_t)upto_us + 1);
                len = 9;
        } else if (c > 0) { /* just above the last one taken */
                len = key_due(k, committed[c - 1].due_us, committed[c - 1].id,
                              committed[c - 1].id_len);
                k[len++] = 0;
        } else {
                return;
        }
        if (key_cmp(k, len, d->floor, d->floor_len) > 0) /* it only rises here */
                floor_set(d, k, len);
}

static int dbstore_due_take(void *ctx, int64_t upto_us, struct join_due *out, size_t max) {
        struct dbstore *d = ctx;
        size_t c = 0, n;
        bool exhausted = false;
        int r;

        if (max > FRAUD_LABELER_ADVANCE_CHUNK)
                max = FRAUD_LABELER_ADVANCE_CHUNK;
        if (max == 0)
                return 0;
        r = due_committed(d, upto_us, out, max, &c, &exhausted);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c; i++)
                d->cand[i] = (struct dbstore_cand){out[i], true};
        n = c;
        due_pending(d, upto_us, max, &n);
        floor_after_take(d, out, c, n, exhausted, upto_us);
        for (size_t i = 0; i < n; i++)
                out[i] = d->cand[i].due;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = dbstore_due_del(d, out[i].due_us, out[i].id, out[i].id_len);
        return r < 0 ? r : (int)n;
}

/* ---- commit ---- */

int dbstore_write(struct dbstore *d, struct fraud_store_batch *b) {
        struct keymap_entry e;
        size_t cursor = 0;
        int r = 0;

        while (r >= 0 && keymap_next(d->overlay, &cursor, &e))
                r = e.removed ? fraud_store_batch_delete(b, e.key, e.key_len)
                              : fraud_store_batch_put(b, e.key, e.key_len, e.value, e.value_len);
        return r < 0 ? r : 0;
}

void dbstore_clear(struct dbstore *d) {
        uint8_t k[DBSTORE_DUE_KEY_MAX];

        /* Pending puts not taken become committed entries: none may stay
         * below the floor. */
        for (size_t i = 0; i < d->n_dues; i++) {
                const struct join_due *p = &d->dues[i];
                struct keymap_entry e;
                size_t len = key_due(k, p->due_us, p->id, p->id_len);
                if (key_cmp(k, len, d->floor, d->floor_len) < 0 &&
                    keymap_get(d->overlay, k, len, &e) && !e.removed)
                        floor_set(d, k, len);
        }
        d->n_dues = 0;
        keymap_clear(d->overlay);
}

void dbstore_join_store(struct dbstore *d, struct join_store *out) {
        *out = (struct join_store){
                .record_get = dbstore_record_get,
                .record_put = dbstore_record_put,
                .record_del = dbstore_record_del,
                .due_put = dbstore_due_put,
                .due_del = dbstore_due_del,
                .due_take = dbstore_due_take,
                .clock_get = dbstore_clock_get,
                .clock_put = dbstore_clock_put,
                .ctx = d,
        };
}
