/* queue.c: see queue.h.
 *
 * struct queue_map: slots[i] holds a key and the links of the live list
 * (oldest = head, newest = tail) or, for a free slot, of the free list;
 * values[i] is slot i's value (stride bytes, 8-aligned).  The hash table
 * holds slot indices (NIL when empty).  A value of size 0 is represented
 * by its slot's address, so that a set still answers non-NULL.
 */
#include "dashboard/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

#define NIL           UINT32_MAX       /* no slot (QUEUE_MAP_BEGIN as a cursor) */
#define CURSOR_END    (UINT32_MAX - 1) /* a cursor past the oldest entry */
#define QUEUE_MAP_MAX (1u << 24)       /* slots of one map */

struct queue_map_slot {
        char key[DASHBOARD_ID_MAX];
        uint32_t prev, next; /* live list: older, newer; free list: next */
};

struct queue_map {
        size_t capacity, count, stride;
        struct queue_map_slot *slots;
        unsigned char *values;
        uint32_t *buckets; /* slot index or NIL */
        size_t mask;       /* buckets - 1 */
        uint32_t oldest, newest, free;
};

struct queue {
        struct queue_map *open;   /* struct queue_item */
        struct queue_map *closed; /* one enum queue_verdict as a byte */
        struct queue_counters k;
};

/* ---- the map ---- */

static size_t queue_map_home(const struct queue_map *m, const char *key) {
        uint64_t h = fraud_hash_fnv1a_str(key);

        return (size_t)(h ^ (h >> 29)) & m->mask;
}

static bool queue_key_ok(const char *key) {
        size_t n = key ? strnlen(key, DASHBOARD_ID_MAX) : 0;

        return n > 0 && n < DASHBOARD_ID_MAX;
}

int queue_map_new(size_t capacity, size_t value_size, struct queue_map **out) {
        struct queue_map *m;
        size_t buckets = 2;

        *out = NULL;
        if (capacity == 0 || capacity > QUEUE_MAP_MAX)
                return -EINVAL;
        while (buckets < capacity * 2)
                buckets <<= 1;
        if (!(m = calloc(1, sizeof(*m))))
                return -ENOMEM;
        m->capacity = capacity;
        m->stride = (value_size + 7) & ~(size_t)7;
        m->mask = buckets - 1;
        m->slots = calloc(capacity, sizeof(m->slots[0]));
        m->values = m->stride ? calloc(capacity, m->stride) : NULL;
        m->buckets = malloc(buckets * sizeof(m->buckets[0]));
        if (!m->slots || (m->stride && !m->values) || !m->buckets) {
                queue_map_free(m);
                return -ENOMEM;
        }
        memset(m->buckets, 0xff, buckets * sizeof(m->buckets[0]));
        for (size_t i = 0; i < capacity; i++)
                m->slots[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
        m->free = 0;
        m->oldest = m->newest = NIL;
        *out = m;
        return 0;
}

void queue_map_free(struct queue_map *m) {
        if (!m)
                return;
        free(m->slots);
        free(m->values);
        free(m->buckets);
        free(m);
}

static void *queue_map_value(const struct queue_map *m, uint32_t slot) {
        if (!m->stride)
                return (void *)&m->slots[slot];
        return m->values + (size_t)slot * m->stride;
}

/* The bucket holding key, or the empty bucket where it would go. */
static size_t queue_map_bucket(const struct queue_map *m, const char *key) {
        size_t b = queue_map_home(m, key);

        while (m->buckets[b] != NIL && strcmp(m->slots[m->buckets[b]].key, key) != 0)
                b = (b + 1) & m->mask;
        return b;
}

/* Empties bucket b and moves later entries of its probe run back. */
static void queue_map_bucket_delete(struct queue_map *m, size_t b) {
        size_t next = (b + 1) & m->mask;

        m->buckets[b] = NIL;
        while (m->buckets[next] != NIL) {
                size_t home = queue_map_home(m, m->slots[m->buckets[next]].key);
                /* Move back unless home lies cyclically in (b, next]. */
                bool stays = b <= next ? (home > b && home <= next) : (home > b || home <= next);
                if (!stays) {
                        m->buckets[b] = m->buckets[next];
                        m->buckets[next] = NIL;
                        b = next;
                }
                next = (next + 1) & m->mask;
        }
}

/* Unlinks the slot of bucket b from the live list and frees it. */
static void queue_map_delete(struct queue_map *m, size_t b) {
        uint32_t s = m->buckets[b];
        struct queue_map_slot *slot = &m->slots[s];

        queue_map_bucket_delete(m, b);
        if (slot->prev != NIL)
                m->slots[slot->prev].next = slot->next;
        else
                m->oldest = slot->next;
        if (slot->next != NIL)
                m->slots[slot->next].prev = slot->prev;
        else
                m->newest = slot->prev;
        slot->key[0] = '\0';
        slot->next = m->free;
        m->free = s;
        m->count--;
}

int queue_map_put(struct queue_map *m, const char *key, void **value, bool *dropped) {
        size_t b;
        uint32_t s;

        if (dropped)
                *dropped = false;
        if (!queue_key_ok(key))
                return -EINVAL;
        b = queue_map_bucket(m, key);
        if (m->buckets[b] != NIL) {
                *value = queue_map_value(m, m->buckets[b]);
                return 1;
        }
        if (m->count == m->capacity) {
                queue_map_delete(m, queue_map_bucket(m, m->slots[m->oldest].key));
                if (dropped)
                        *dropped = true;
                b = queue_map_bucket(m, key);
        }
        s = m->free;
        m->free = m->slots[s].next;
        memcpy(m->slots[s].key, key, strlen(key) + 1);
        m->slots[s].prev = m->newest;
        m->slots[s].next = NIL;
        if (m->newest != NIL)
                m->slots[m->newest].next = s;
        else
                m->oldest = s;
        m->newest = s;
        m->buckets[b] = s;
        m->count++;
        *value = queue_map_value(m, s);
        if (m->stride)
                memset(*value, 0, m->stride);
        return 0;
}

void *queue_map_get(const struct queue_map *m, const char *key) {
        size_t b;

        if (!queue_key_ok(key))
                return NULL;
        b = queue_map_bucket(m, key);
        return m->buckets[b] == NIL ? NULL : queue_map_value(m, m->buckets[b]);
}

int queue_map_remove(struct queue_map *m, const char *key) {
        size_t b;

        if (!queue_key_ok(key))
                return -ENOENT;
        b = queue_map_bucket(m, key);
        if (m->buckets[b] == NIL)
                return -ENOENT;
        queue_map_delete(m, b);
        return 0;
}

size_t queue_map_count(const struct queue_map *m) {
        return m->count;
}

size_t queue_map_capacity(const struct queue_map *m) {
        return m->capacity;
}

void *queue_map_next(const struct queue_map *m, uint32_t *cursor, const char **key) {
        uint32_t s;

        if (*cursor == CURSOR_END)
                return NULL;
        s = *cursor == QUEUE_MAP_BEGIN ? m->newest : m->slots[*cursor].prev;
        if (s == NIL) {
                *cursor = CURSOR_END;
                return NULL;
        }
        *cursor = s;
        if (key)
                *key = m->slots[s].key;
        return queue_map_value(m, s);
}

/* ---- the review queue ---- */

int queue_new(size_t capacity, struct queue **out) {
        struct queue *q;
        int r;

        *out = NULL;
        if (capacity == 0 || capacity > DASHBOARD_QUEUE_MAX)
                return -EINVAL;
        if (!(q = calloc(1, sizeof(*q))))
                return -ENOMEM;
        r = queue_map_new(capacity, sizeof(struct queue_item), &q->open);
        if (r >= 0)
                r = queue_map_new(capacity * DASHBOARD_CLOSED_PER_SLOT, 1, &q->closed);
        if (r < 0) {
                queue_free(q);
                return r;
        }
        *out = q;
        return 0;
}

void queue_free(struct queue *q) {
        if (!q)
                return;
        queue_map_free(q->open);
        queue_map_free(q->closed);
        free(q);
}

int queue_add(struct queue *q, const struct queue_item *item) {
        bool dropped;
        void *v;
        int r;

        if (!queue_key_ok(item->transaction_id))
                return -EINVAL;
        if (queue_map_get(q->closed, item->transaction_id)) {
                q->k.reopen_refused++;
                return 2;
        }
        r = queue_map_put(q->open, item->transaction_id, &v, &dropped);
        if (r < 0)
                return r;
        if (r == 1) {
                q->k.duplicates++;
                return 1;
        }
        memcpy(v, item, sizeof(*item));
        q->k.added++;
        q->k.dropped += dropped;
        return 0;
}

struct queue_item *queue_find(const struct queue *q, const char *id) {
        return queue_map_get(q->open, id);
}

enum queue_verdict queue_verdict_of(const struct queue *q, const char *id) {
        const unsigned char *v = queue_map_get(q->closed, id);

        return v ? (enum queue_verdict) * v : QUEUE_VERDICT_NONE;
}

/* Remembers verdict for id unless one is already: 0 or -errno. */
static int queue_remember(struct queue *q, const char *id, enum queue_verdict verdict) {
        void *v;
        int r = queue_map_put(q->closed, id, &v, NULL);

        if (r == 0)
                *(unsigned char *)v = (unsigned char)verdict;
        return r < 0 ? r : 0;
}

int queue_close(struct queue *q, const char *id, enum queue_verdict verdict) {
        int r;

        if (verdict != QUEUE_VERDICT_FRAUD && verdict != QUEUE_VERDICT_LEGIT)
                return -EINVAL;
        if (!queue_map_get(q->open, id))
                return -ENOENT;
        r = queue_remember(q, id, verdict);
        if (r < 0)
                return r;
        queue_map_remove(q->open, id);
        q->k.closed++;
        return 0;
}

int queue_note_verdict(struct queue *q, const char *id, enum queue_verdict verdict) {
        int r;

        if (verdict != QUEUE_VERDICT_FRAUD && verdict != QUEUE_VERDICT_LEGIT)
                return -EINVAL;
        r = queue_remember(q, id, verdict);
        if (r < 0)
                return r;
        q->k.verdicts_seen++;
        if (queue_map_remove(q->open, id) < 0)
                return 0;
        q->k.closed_by_seen++;
        return 1;
}

size_t queue_count(const struct queue *q) {
        return queue_map_count(q->open);
}

size_t queue_capacity(const struct queue *q) {
        return queue_map_capacity(q->open);
}

const struct queue_item *queue_next(const struct queue *q, uint32_t *cursor) {
        return queue_map_next(q->open, cursor, NULL);
}

void queue_counters(const struct queue *q, struct queue_counters *out) {
        *out = q->k;
}

const char *queue_verdict_name(enum queue_verdict v) {
        switch (v) {
        case QUEUE_VERDICT_FRAUD:
                return "fraud";
        case QUEUE_VERDICT_LEGIT:
                return "legit";
        default:
                return "none";
        }
}

enum queue_verdict queue_verdict_parse(const char *s) {
        if (strcmp(s, "fraud") == 0)
                return QUEUE_VERDICT_FRAUD;
        if (strcmp(s, "legit") == 0 || strcmp(s, "legitimate") == 0)
                return QUEUE_VERDICT_LEGIT;
        return QUEUE_VERDICT_NONE;
}
