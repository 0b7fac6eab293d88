/* memstore.c: see memstore.h.
 *
 * Records are lent to the core (record_lend), which reads them and changes
 * their head in place, so a record that keeps its length is neither copied
 * out nor put back; a new record is written where it is kept
 * (record_alloc).
 *
 * The due heap is 4-ary: a pop sifts down half as many levels as in a
 * binary heap, and the four children of an entry share one cache line
 * (16-byte entries; the array starts 3 entries before a 64-byte boundary,
 * so children 4i+1..4i+4 are aligned).  An entry names its id by a slot
 * in a pool of FRAUD_LABELER_ID_MAX-byte ids with a free list, instead of
 * a malloc'd copy per entry; a slot is freed when its entry is taken.
 * Entries are taken in (due time, id) order whatever the heap's shape:
 * equal entries are alike, so the core sees the same sequence.
 */
#include "labeler/memstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/keymap.h"

/* Due entries a record may leave in the heap over its life: one per
 * change of its next milestone (inputs and milestones), stale or not. */
#define MEMSTORE_DUE_PER_RECORD (2 * FRAUD_LABELER_STATEMENTS_MAX + 4)
#define MEMSTORE_HEAP_MIN       1024
#define MEMSTORE_HEAP_PAD       3 /* entries before the first child group's line */

_Static_assert(MEMSTORE_DUE_PER_RECORD <= UINT32_MAX / FRAUD_LABELER_MEMORY_RECORDS_MAX,
               "an id slot fits a u32");

struct memstore_due {
        int64_t due_us;
        uint32_t slot; /* of its id in ids */
        uint8_t id_len;
};
_Static_assert(sizeof(struct memstore_due) == 16, "four entries per cache line");

struct memstore {
        struct keymap *records;
        void *heap_mem;            /* owns heap */
        struct memstore_due *heap; /* heap_mem + MEMSTORE_HEAP_PAD */
        char (*ids)[FRAUD_LABELER_ID_MAX];
        uint32_t *free_slots; /* a stack of unused slots of ids */
        size_t n, cap, heap_max, n_free;
        uint8_t clock[16];
        size_t clock_len; /* 0: none yet */
};

int memstore_new(size_t records_max, struct memstore **out) {
        struct memstore *m;

        if (!records_max || records_max > FRAUD_LABELER_MEMORY_RECORDS_MAX)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->heap_max = records_max * MEMSTORE_DUE_PER_RECORD;
        if (keymap_new(records_max, records_max * FRAUD_LABELER_RECORD_BYTES_MAX, &m->records) <
            0) {
                free(m);
                return -ENOMEM;
        }
        *out = m;
        return 0;
}

void memstore_free(struct memstore *m) {
        if (!m)
                return;
        free(m->heap_mem);
        free(m->ids);
        free(m->free_slots);
        keymap_free(m->records);
        free(m);
}

size_t memstore_records(const struct memstore *m) {
        return keymap_count(m->records);
}

size_t memstore_due_entries(const struct memstore *m) {
        return m->n;
}

/* ---- records and clock ---- */

static int memstore_record_get(void *ctx, const char *id, size_t id_len, void *buf, size_t cap) {
        struct memstore *m = ctx;
        struct keymap_entry e;

        if (!keymap_get(m->records, id, id_len, &e))
                return -ENOENT;
        if (e.value_len > cap)
                return -ENOBUFS;
        memcpy(buf, e.value, e.value_len);
        return (int)e.value_len;
}

static int memstore_record_lend(void *ctx, const char *id, size_t id_len, uint8_t **out) {
        struct memstore *m = ctx;
        size_t len;

        *out = keymap_value(m->records, id, id_len, &len);
        return *out ? (int)len : -ENOENT;
}

static void memstore_record_prefetch(void *ctx, const char *id, size_t id_len) {
        struct memstore *m = ctx;

        keymap_prefetch(m->records, id, id_len);
}

static int memstore_record_put(void *ctx, const char *id, size_t id_len, const void *v,
                               size_t len) {
        struct memstore *m = ctx;

        return keymap_put(m->records, id, id_len, v, len, false);
}

static int memstore_record_alloc(void *ctx, const char *id, size_t id_len, size_t len,
                                 uint8_t **out) {
        struct memstore *m = ctx;

        return keymap_reserve(m->records, id, id_len, len, out);
}

static int memstore_record_del(void *ctx, const char *id, size_t id_len) {
        struct memstore *m = ctx;

        keymap_forget(m->records, id, id_len);
        return 0;
}

static int memstore_clock_get(void *ctx, void *buf, size_t cap) {
        struct memstore *m = ctx;

        if (!m->clock_len)
                return -ENOENT;
        if (m->clock_len > cap)
                return -ENOBUFS;
        memcpy(buf, m->clock, m->clock_len);
        return (int)m->clock_len;
}

static int memstore_clock_put(void *ctx, const void *v, size_t len) {
        struct memstore *m = ctx;

        if (len == 0 || len > sizeof(m->clock))
                return -EINVAL;
        memcpy(m->clock, v, len);
        m->clock_len = len;
        return 0;
}

/* ---- the due heap ---- */

static bool due_less(const struct memstore *m, const struct memstore_due *a,
                     const struct memstore_due *b) {
        size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
        int c;

        if (a->due_us != b->due_us)
                return a->due_us < b->due_us;
        c = memcmp(m->ids[a->slot], m->ids[b->slot], n);
        return c < 0 || (c == 0 && a->id_len < b->id_len);
}

/* Doubles the heap and the id pool; the new slots go to the free list. */
static int heap_grow(struct memstore *m) {
        size_t cap = m->cap ? 2 * m->cap : MEMSTORE_HEAP_MIN;
        size_t bytes = (cap + MEMSTORE_HEAP_PAD) * sizeof(struct memstore_due);
        void *mem = aligned_alloc(64, (bytes + 63) / 64 * 64);
        void *ids = mem ? realloc(m->ids, cap * sizeof(*m->ids)) : NULL;
        uint32_t *free_slots;

        if (!ids) {
                free(mem);
                return -ENOMEM;
        }
        m->ids = ids;
        free_slots = realloc(m->free_slots, cap * sizeof(*free_slots));
        if (!free_slots) {
                free(mem);
                return -ENOMEM;
        }
        m->free_slots = free_slots;
        for (size_t s = cap; s > m->cap; s--)
                m->free_slots[m->n_free++] = (uint32_t)(s - 1);
        if (m->n)
                memcpy((struct memstore_due *)mem + MEMSTORE_HEAP_PAD, m->heap,
                       m->n * sizeof(*m->heap));
        free(m->heap_mem);
        m->heap_mem = mem;
        m->heap = (struct memstore_due *)mem + MEMSTORE_HEAP_PAD;
        m->cap = cap;
        return 0;
}

static int memstore_due_put(void *ctx, int64_t due_us, const char *id, size_t id_len) {
        struct memstore *m = ctx;
        struct memstore_due e = {.due_us = due_us, .id_len = (uint8_t)id_len};
        size_t i;

        if (m->n == m->heap_max)
                return -ENOBUFS;
        if (m->n == m->cap && heap_grow(m) < 0)
                return -ENOMEM;
        e.slot = m->free_slots[--m->n_free];
        memcpy(m->ids[e.slot], id, id_len);
        /* Sift up: parents move down into the hole until e fits. */
        for (i = m->n++; i > 0 && due_less(m, &e, &m->heap[(i - 1) / 4]); i = (i - 1) / 4)
                m->heap[i] = m->heap[(i - 1) / 4];
        m->heap[i] = e;
        return 0;
}

/* Lazy: join.c skips an entry whose record no longer names it. */
static int memstore_due_del(void *ctx, int64_t due_us, const char *id, size_t id_len) {
        (void)ctx;
        (void)due_us;
        (void)id;
        (void)id_len;
        return 0;
}

/* Removes the root: the last entry sifts down from the top. */
static void heap_pop(struct memstore *m) {
        struct memstore_due e;
        size_t i = 0;

        m->free_slots[m->n_free++] = m->heap[0].slot;
        e = m->heap[--m->n];
        for (;;) {
                size_t c = 4 * i + 1, min = c, end = c + 4 < m->n ? c + 4 : m->n;
                if (c >= m->n)
                        break;
                /* The next level's lines, while this one is compared. */
                for (size_t k = 4 * c + 1; k < 4 * end + 1 && k < m->n; k += 4)
                        __builtin_prefetch(&m->heap[k]);
                for (size_t k = c + 1; k < end; k++)
                        if (due_less(m, &m->heap[k], &m->heap[min]))
                                min = k;
                if (!due_less(m, &m->heap[min], &e))
                        break;
                m->heap[i] = m->heap[min];
                i = min;
        }
        m->heap[i] = e;
}

/* The core looks up the record of every entry taken, at once, and hands
 * its features to the sink.  While the heap is popped (its own misses
 * spacing them out), each entry's record is fetched in three steps, each
 * reading what the one before fetched: its slot, the head of its item two
 * pops later, the rest of it two more pops later. */
static int memstore_due_take(void *ctx, int64_t upto_us, struct join_due *out, size_t max) {
        struct memstore *m = ctx;
        uint64_t hash[FRAUD_LABELER_ADVANCE_CHUNK];
        size_t n = 0;

        if (max > FRAUD_LABELER_ADVANCE_CHUNK)
                max = FRAUD_LABELER_ADVANCE_CHUNK;
        for (; n < max && m->n > 0 && m->heap[0].due_us <= upto_us; n++) {
                out[n].due_us = m->heap[0].due_us;
                out[n].id_len = m->heap[0].id_len;
                memcpy(out[n].id, m->ids[m->heap[0].slot], m->heap[0].id_len);
                hash[n] = keymap_hash(out[n].id, out[n].id_len);
                keymap_prefetch_slot(m->records, hash[n]);
                if (n >= 2)
                        keymap_prefetch_item(m->records, hash[n - 2]);
                if (n >= 4)
                        keymap_prefetch_value(m->records, hash[n - 4]);
                heap_pop(m);
                if (m->n) /* the next root's id */
                        __builtin_prefetch(m->ids[m->heap[0].slot]);
        }
        for (size_t i = n > 2 ? n - 2 : 0; i < n; i++)
                keymap_prefetch_item(m->records, hash[i]);
        for (size_t i = n > 4 ? n - 4 : 0; i < n; i++)
                keymap_prefetch_value(m->records, hash[i]);
        return (int)n;
}

void memstore_join_store(struct memstore *m, struct join_store *out) {
        *out = (struct join_store){
                .record_get = memstore_record_get,
                .record_lend = memstore_record_lend,
                .record_prefetch = memstore_record_prefetch,
                .record_put = memstore_record_put,
                .record_alloc = memstore_record_alloc,
                .record_del = memstore_record_del,
                .due_put = memstore_due_put,
                .due_del = memstore_due_del,
                .due_take = memstore_due_take,
                .clock_get = memstore_clock_get,
                .clock_put = memstore_clock_put,
                .ctx = m,
        };
}
