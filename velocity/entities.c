/* entities.c: see entities.h.
 *
 * An open-addressed table (linear probing, backward-shift deletion) of
 * entity pointers, sized at creation to twice the most entities that can be
 * cached at once, so it never grows and a probe always ends; a doubly
 * linked LRU list; a singly linked list of the entities changed since the
 * last commit.  The event total is brought up to date at each commit (the
 * windows change outside this file, in features_compute()).
 */
#include "velocity/entities.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "velocity/features.h"

#define ENTITIES_KEY_MAX (3 + FRAUD_VELOCITY_ID_MAX)

struct entity {
        struct window w;
        uint64_t hash;
        struct entity *prev, *next; /* LRU, most recent first */
        struct entity *dirty_next;
        bool dirty;
        uint32_t counted; /* events of w included in stats.events */
        uint8_t key_len;
        char key[ENTITIES_KEY_MAX]; /* the store key */
};

struct entities {
        struct fraud_store *store; /* borrowed, may be NULL */
        size_t entities_max, events_max;
        struct entity **table;
        uint32_t bits, used;
        struct entity *head, *tail;
        struct entity *dirty;
        uint8_t *buf; /* FRAUD_STORE_VALUE_MAX bytes for reads and encodes */
        struct entities_stats st;
};

static const char entities_letter[FRAUD_FEATURESET_ENTITIES] = {'c', 't', 'd', 'i'};

int entities_new(struct fraud_store *store, size_t entities_max, size_t events_max,
                 struct entities **out) {
        struct entities *e;
        size_t slots = 2 * (entities_max + FRAUD_VELOCITY_COMMIT_ENTITIES_MAX);

        if (entities_max < 1 || entities_max > FRAUD_VELOCITY_CACHE_ENTITIES_MAX || events_max < 1)
                return -EINVAL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->store = store;
        e->entities_max = entities_max;
        e->events_max = events_max;
        e->bits = 4;
        while (((size_t)1 << e->bits) < slots)
                e->bits++;
        e->table = calloc((size_t)1 << e->bits, sizeof(*e->table));
        e->buf = malloc(FRAUD_STORE_VALUE_MAX);
        if (!e->table || !e->buf) {
                entities_free(e);
                return -ENOMEM;
        }
        *out = e;
        return 0;
}

void entities_free(struct entities *e) {
        if (!e)
                return;
        for (struct entity *n = e->head, *next; n; n = next) {
                next = n->next;
                window_release(&n->w);
                free(n);
        }
        free(e->table);
        free(e->buf);
        free(e);
}

static uint32_t entities_slot(const struct entities *e, uint64_t hash) {
        return (uint32_t)((hash * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - e->bits));
}

static struct entity **entities_find(struct entities *e, uint64_t hash, const char *key,
                                     size_t len) {
        uint32_t mask = (UINT32_C(1) << e->bits) - 1;

        for (uint32_t i = entities_slot(e, hash);; i = (i + 1) & mask) {
                struct entity *n = e->table[i];
                if (!n || (n->hash == hash && n->key_len == len && memcmp(n->key, key, len) == 0))
                        return &e->table[i];
        }
}

/* Backward-shift deletion: later entries of the probe run move up. */
static void entities_unlink_table(struct entities *e, struct entity *n) {
        uint32_t mask = (UINT32_C(1) << e->bits) - 1;
        uint32_t i = (uint32_t)(entities_find(e, n->hash, n->key, n->key_len) - e->table);

        e->table[i] = NULL;
        for (uint32_t j = (i + 1) & mask; e->table[j]; j = (j + 1) & mask) {
                uint32_t home = entities_slot(e, e->table[j]->hash);
                /* Move j up to i unless its home lies cyclically in (i, j]. */
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        e->table[i] = e->table[j];
                        e->table[j] = NULL;
                        i = j;
                }
        }
        e->used--;
}

static void entities_lru_unlink(struct entities *e, struct entity *n) {
        if (n->prev)
                n->prev->next = n->next;
        else
                e->head = n->next;
        if (n->next)
                n->next->prev = n->prev;
        else
                e->tail = n->prev;
        n->prev = n->next = NULL;
}

static void entities_lru_front(struct entities *e, struct entity *n) {
        n->next = e->head;
        if (e->head)
                e->head->prev = n;
        e->head = n;
        if (!e->tail)
                e->tail = n;
}

static int entities_load(struct entities *e, struct entity *n) {
        int len;

        if (!e->store)
                return 0;
        len = fraud_store_get(e->store, n->key, n->key_len, e->buf, FRAUD_STORE_VALUE_MAX);
        if (len == -ENOENT)
                return 0;
        if (len < 0)
                return len;
        e->st.loads++;
        return window_decode(&n->w, e->buf, (size_t)len, FRAUD_VELOCITY_HISTORY_EVENTS_MAX);
}

static int entities_create(struct entities *e, enum fraud_featureset_entity kind, uint64_t hash,
                           const char *key, size_t key_len, struct entity **out) {
        struct entity *n;
        int r;

        if (e->used >= (UINT32_C(1) << e->bits) * 3 / 4)
                return -ENOBUFS; /* more changed entities than a batch may hold */
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        window_init(&n->w, kind);
        n->hash = hash;
        n->key_len = (uint8_t)key_len;
        memcpy(n->key, key, key_len);
        r = entities_load(e, n);
        if (r < 0) {
                window_release(&n->w);
                free(n);
                return r;
        }
        *entities_find(e, hash, key, key_len) = n;
        e->used++;
        e->st.cached++;
        e->st.misses++;
        n->counted = n->w.n;
        e->st.events += n->w.n;
        *out = n;
        return 0;
}

int entities_get(struct entities *e, enum fraud_featureset_entity kind, const char *id, size_t len,
                 struct window **out) {
        char key[ENTITIES_KEY_MAX];
        struct entity *n;
        uint64_t hash;
        int r;

        if (len < 1 || len > FRAUD_VELOCITY_ID_MAX)
                return -EINVAL;
        key[0] = 'w';
        key[1] = entities_letter[kind];
        key[2] = ':';
        memcpy(key + 3, id, len);
        hash = features_hash(key, len + 3);
        n = *entities_find(e, hash, key, len + 3);
        if (n) {
                e->st.hits++;
                entities_lru_unlink(e, n);
        } else {
                r = entities_create(e, kind, hash, key, len + 3, &n);
                if (r < 0)
                        return r;
        }
        entities_lru_front(e, n);
        if (!n->dirty) {
                n->dirty = true;
                n->dirty_next = e->dirty;
                e->dirty = n;
                e->st.dirty++;
                e->st.dirty_bytes += window_encoded_size(&n->w);
        }
        e->st.dirty_bytes += sizeof(struct window_event); /* what one use may add */
        *out = &n->w;
        return 0;
}

int entities_write(struct entities *e, struct fraud_store_batch *b) {
        for (struct entity *n = e->dirty; n; n = n->dirty_next) {
                size_t size;
                int r;

                if (n->w.n == 0 && n->w.n_cb == 0) { /* all expired, or never any */
                        r = fraud_store_batch_delete(b, n->key, n->key_len);
                } else {
                        size = window_encode(&n->w, e->buf, FRAUD_STORE_VALUE_MAX);
                        r = size ? fraud_store_batch_put(b, n->key, n->key_len, e->buf, size)
                                 : -E2BIG;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static void entities_evict(struct entities *e) {
        while (e->tail && !e->tail->dirty &&
               (e->st.cached > e->entities_max || e->st.events > e->events_max)) {
                struct entity *n = e->tail;
                entities_lru_unlink(e, n);
                entities_unlink_table(e, n);
                e->st.events -= n->counted;
                e->st.cached--;
                e->st.evictions++;
                window_release(&n->w);
                free(n);
        }
}

void entities_committed(struct entities *e) {
        for (struct entity *n = e->dirty, *next; n; n = next) {
                next = n->dirty_next;
                e->st.events = e->st.events - n->counted + n->w.n;
                n->counted = n->w.n;
                n->dirty = false;
                n->dirty_next = NULL;
        }
        e->dirty = NULL;
        e->st.dirty = 0;
        e->st.dirty_bytes = 0;
        entities_evict(e);
}

void entities_stats(const struct entities *e, struct entities_stats *out) {
        *out = e->st;
}
