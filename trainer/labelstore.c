/* labelstore.c: see labelstore.h.
 *
 * Pending rows are remembered by a 64-bit hash of their key in an
 * open-addressing set of FRAUD_TRAINER_PENDING_SLOTS slots; a false
 * positive only costs an early commit.  The set is cleared on every commit
 * and is never more than half full: a batch commits early when it is.
 */
#include "trainer/labelstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/store.h"

#define LABELSTORE_FORMAT   "trainer-labels-1"
#define LABELSTORE_MARKS    "M.marks"
#define LABELSTORE_MARKS_SZ 24

_Static_assert(DATASET_VALUE_MAX <= FRAUD_STORE_VALUE_MAX, "a row fits one store value");
_Static_assert(DATASET_KEY_MAX <= FRAUD_STORE_KEY_MAX, "a row key fits one store key");

struct labelstore {
        struct fraud_store *store;
        struct fraud_store_batch *batch;
        uint64_t pending[FRAUD_TRAINER_PENDING_SLOTS]; /* key hashes; 0 = empty */
        size_t n_pending;
        struct dataset_row row; /* scratch of one read-modify-write */
        uint8_t value[DATASET_VALUE_MAX];
};

static int format_check(struct labelstore *s, const char *dir, char *err, size_t err_size) {
        char format[64] = "";
        int r = fraud_store_meta_get(s->store, "format", format, sizeof(format) - 1);

        if (r == -ENOENT)
                r = fraud_store_meta_put(s->store, "format", LABELSTORE_FORMAT,
                                         strlen(LABELSTORE_FORMAT));
        else if (r >= 0 && strcmp(format, LABELSTORE_FORMAT) != 0)
                r = -EPROTO;
        if (r < 0)
                snprintf(err, err_size, "%s: not a trainer label store of format %s (%s)", dir,
                         LABELSTORE_FORMAT, strerror(-r));
        return r < 0 ? r : 0;
}

int labelstore_open(const char *dir, bool sync_commit, struct labelstore **out, char *err,
                    size_t err_size) {
        struct fraud_store_options o;
        struct labelstore *s = calloc(1, sizeof(*s));
        int r;

        *out = NULL;
        if (!s) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        fraud_store_options_init(&o);
        o.sync_commit = sync_commit;
        r = fraud_store_open(&s->store, dir, &o, err, err_size);
        if (r >= 0)
                r = format_check(s, dir, err, err_size);
        if (r >= 0 && !(s->batch = fraud_store_batch_new(s->store))) {
                snprintf(err, err_size, "out of memory");
                r = -ENOMEM;
        }
        if (r < 0) {
                labelstore_close(s);
                return r;
        }
        *out = s;
        return 0;
}

void labelstore_close(struct labelstore *s) {
        if (!s)
                return;
        fraud_store_batch_free(s->batch);
        fraud_store_close(s->store);
        free(s);
}

const char *labelstore_error(const struct labelstore *s) {
        return fraud_store_error(s->store);
}

/* ---- pending rows ---- */

static bool pending_has(const struct labelstore *s, uint64_t h) {
        for (size_t i = h % FRAUD_TRAINER_PENDING_SLOTS; s->pending[i];
             i = (i + 1) % FRAUD_TRAINER_PENDING_SLOTS)
                if (s->pending[i] == h)
                        return true;
        return false;
}

static void pending_add(struct labelstore *s, uint64_t h) {
        size_t i = h % FRAUD_TRAINER_PENDING_SLOTS;

        while (s->pending[i] && s->pending[i] != h)
                i = (i + 1) % FRAUD_TRAINER_PENDING_SLOTS;
        if (!s->pending[i])
                s->n_pending++;
        s->pending[i] = h;
}

/* Commits what is pending, without offsets (see labelstore.h). */
static int pending_commit(struct labelstore *s) {
        int r = fraud_store_batch_count(s->batch) ? fraud_store_batch_commit(s->batch) : 0;

        if (r == 0) {
                memset(s->pending, 0, sizeof(s->pending));
                s->n_pending = 0;
        }
        return r;
}

/* ---- rows ---- */

/* Puts the encoded scratch row at key, committing first when the batch is
 * full. */
static int row_put(struct labelstore *s, const uint8_t *key, size_t key_len, uint64_t h) {
        int n = dataset_row_encode(&s->row, s->value, sizeof(s->value)), r;

        if (n < 0)
                return n;
        r = fraud_store_batch_put(s->batch, key, key_len, s->value, (size_t)n);
        if (r == -E2BIG && (r = pending_commit(s)) == 0)
                r = fraud_store_batch_put(s->batch, key, key_len, s->value, (size_t)n);
        if (r == 0)
                pending_add(s, h);
        return r;
}

int labelstore_add(struct labelstore *s, const struct dataset_row *in) {
        uint8_t key[DATASET_KEY_MAX];
        size_t key_len = dataset_key(in, key);
        uint64_t h = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len) | 1;
        int r = 0, n;

        if (in->n_versions != 1)
                return -EINVAL;
        if (pending_has(s, h) || 2 * (s->n_pending + 1) > FRAUD_TRAINER_PENDING_SLOTS)
                r = pending_commit(s);
        if (r < 0)
                return r;
        n = fraud_store_get(s->store, key, key_len, s->value, sizeof(s->value));
        if (n == -ENOENT) {
                s->row = *in;
        } else if (n < 0) {
                return n;
        } else {
                if (dataset_row_decode(&s->row, key, key_len, s->value, (size_t)n) < 0)
                        return -EBADMSG;
                r = dataset_row_version_add(&s->row, &in->versions[0]);
                if (r != 0)
                        return r; /* 1 duplicate, -E2BIG */
        }
        return row_put(s, key, key_len, h);
}

int labelstore_evict(struct labelstore *s, int64_t before_us) {
        uint8_t begin[9], end[9];

        dataset_key_at(INT64_MIN, begin);
        dataset_key_at(before_us, end);
        return fraud_store_batch_delete_range(s->batch, begin, sizeof(begin), end, sizeof(end));
}

/* ---- marks and offsets ---- */

static void marks_encode(const struct schedule_marks *m, uint8_t *p) {
        const int64_t v[3] = {m->first_known_us, m->watermark_us, m->last_cutoff_us};

        for (int k = 0; k < 3; k++)
                for (int i = 0; i < 8; i++)
                        p[8 * k + i] = (uint8_t)((uint64_t)v[k] >> (8 * i));
}

int labelstore_commit(struct labelstore *s, const struct schedule_marks *marks,
                      const struct fraud_kafka_offset *offsets, size_t n) {
        uint8_t m[LABELSTORE_MARKS_SZ];
        int r;

        marks_encode(marks, m);
        r = fraud_store_batch_put(s->batch, LABELSTORE_MARKS, strlen(LABELSTORE_MARKS), m,
                                  sizeof(m));
        if (r == -E2BIG && (r = pending_commit(s)) == 0)
                r = fraud_store_batch_put(s->batch, LABELSTORE_MARKS, strlen(LABELSTORE_MARKS), m,
                                          sizeof(m));
        for (size_t i = 0; r == 0 && i < n; i++)
                r = fraud_store_batch_set_offset(s->batch, offsets[i].topic, offsets[i].partition,
                                                 offsets[i].offset);
        if (r == 0)
                r = pending_commit(s);
        if (r < 0)
                fraud_store_batch_clear(s->batch);
        return r;
}

int labelstore_marks(struct labelstore *s, struct schedule_marks *out) {
        uint8_t m[LABELSTORE_MARKS_SZ];
        int64_t v[3] = {0, 0, 0};
        int r = fraud_store_get(s->store, LABELSTORE_MARKS, strlen(LABELSTORE_MARKS), m, sizeof(m));

        schedule_marks_init(out);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (r != LABELSTORE_MARKS_SZ)
                return -EBADMSG;
        for (int k = 0; k < 3; k++)
                for (int i = 0; i < 8; i++)
                        v[k] = (int64_t)((uint64_t)v[k] | (uint64_t)m[8 * k + i] << (8 * i));
        *out = (struct schedule_marks){v[0], v[1], v[2]};
        return 0;
}

int labelstore_offset(struct labelstore *s, const char *topic, int32_t partition, int64_t *offset) {
        return fraud_store_offset_get(s->store, topic, partition, offset);
}

/* ---- reading rows ---- */

/* Calls fn on every committed row with event time in [from, to). */
static int rows_walk(struct labelstore *s, int64_t from, int64_t to,
                     int (*fn)(void *ctx, const struct dataset_row *r), void *ctx) {
        uint8_t lo[9], hi[9];
        struct fraud_store_iter *it;
        int r;

        dataset_key_at(from, lo);
        dataset_key_at(to, hi);
        if ((r = fraud_store_iter_new(s->store, lo, sizeof(lo), hi, sizeof(hi), &it)) < 0)
                return r;
        for (r = fraud_store_iter_seek(it, NULL, 0); r == 1; r = fraud_store_iter_next(it)) {
                size_t kn, vn;
                const void *k = fraud_store_iter_key(it, &kn), *v = fraud_store_iter_value(it, &vn);

                if (dataset_row_decode(&s->row, k, kn, v, vn) < 0) {
                        r = -EBADMSG;
                        break;
                }
                if ((r = fn(ctx, &s->row)) < 0)
                        break;
        }
        fraud_store_iter_free(it);
        return r < 0 ? r : 0;
}

struct select_ctx {
        const struct dataset_window *w;
        struct dataset_table *t;
};

static int select_one(void *ctx, const struct dataset_row *r) {
        struct select_ctx *c = ctx;
        int ret = dataset_table_offer(c->t, c->w, r);

        return ret < 0 ? ret : 0;
}

int labelstore_select(struct labelstore *s, const struct dataset_window *w,
                      struct dataset_table *t) {
        struct select_ctx c = {w, t};

        return rows_walk(s, w->start_us, w->end_us, select_one, &c);
}

static int count_one(void *ctx, const struct dataset_row *r) {
        (void)r;
        ++*(size_t *)ctx;
        return 0;
}

int labelstore_count(struct labelstore *s, size_t *out) {
        *out = 0;
        return rows_walk(s, INT64_MIN, INT64_MAX, count_one, out);
}
