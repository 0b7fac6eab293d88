/* memstore.c: see memstore.h.  Heap entries own a copy of their id. */
#include "labeler/memstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/keymap.h"

/* Due entries a record may leave in the heap over its life: one per
 * change of its next milestone (inputs and milestones), stale or not. */
#define MEMSTORE_DUE_PER_RECORD (2 * FRAUD_LABELER_STATEMENTS_MAX + 4)

struct memstore_due {
        int64_t due_us;
        char *id;
        uint8_t id_len;
};

struct memstore {
        struct keymap *records;
        struct memstore_due *heap;
        size_t n, cap, heap_max;
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
        for (size_t i = 0; i < m->n; i++)
                free(m->heap[i].id);
        free(m->heap);
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

static int memstore_record_put(void *ctx, const char *id, size_t id_len, const void *v,
                               size_t len) {
        struct memstore *m = ctx;

        return keymap_put(m->records, id, id_len, v, len, false);
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

static bool due_less(const struct memstore_due *a, const struct memstore_due *b) {
        size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
        int c;

        if (a->due_us != b->due_us)
                return a->due_us < b->due_us;
        c = memcmp(a->id, b->id, n);
        return c < 0 || (c == 0 && a->id_len < b->id_len);
}

static void heap_swap(struct memstore_due *h, size_t a, size_t b) {
        struct memstore_due t = h[a];

        h[a] = h[b];
        h[b] = t;
}

static int memstore_due_put(void *ctx, int64_t due_us, const char *id, size_t id_len) {
        struct memstore *m = ctx;
        struct memstore_due e = {.due_us = due_us, .id_len = (uint8_t)id_len};

        if (m->n == m->heap_max)
                return -ENOBUFS;
        if (m->n == m->cap) {
                size_t cap = m->cap ? 2 * m->cap : 1024;
                struct memstore_due *h = realloc(m->heap, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                m->heap = h;
                m->cap = cap;
        }
        e.id = malloc(id_len);
        if (!e.id)
                return -ENOMEM;
        memcpy(e.id, id, id_len);
        m->heap[m->n] = e;
        for (size_t i = m->n++; i > 0 && due_less(&m->heap[i], &m->heap[(i - 1) / 2]);
             i = (i - 1) / 2)
                heap_swap(m->heap, i, (i - 1) / 2);
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

static void heap_pop(struct memstore *m) {
        size_t i = 0;

        free(m->heap[0].id);
        m->heap[0] = m->heap[--m->n];
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, min = i;
                if (l < m->n && due_less(&m->heap[l], &m->heap[min]))
                        min = l;
                if (r < m->n && due_less(&m->heap[r], &m->heap[min]))
                        min = r;
                if (min == i)
                        return;
                heap_swap(m->heap, i, min);
                i = min;
        }
}

static int memstore_due_take(void *ctx, int64_t upto_us, struct join_due *out, size_t max) {
        struct memstore *m = ctx;
        size_t n = 0;

        while (n < max && m->n > 0 && m->heap[0].due_us <= upto_us) {
                out[n].due_us = m->heap[0].due_us;
                out[n].id_len = m->heap[0].id_len;
                memcpy(out[n].id, m->heap[0].id, m->heap[0].id_len);
                heap_pop(m);
                n++;
        }
        return (int)n;
}

void memstore_join_store(struct memstore *m, struct join_store *out) {
        *out = (struct join_store){
                .record_get = memstore_record_get,
                .record_put = memstore_record_put,
                .record_del = memstore_record_del,
                .due_put = memstore_due_put,
                .due_del = memstore_due_del,
                .due_take = memstore_due_take,
                .clock_get = memstore_clock_get,
                .clock_put = memstore_clock_put,
                .ctx = m,
        };
}
