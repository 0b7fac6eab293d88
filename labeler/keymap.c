/* keymap.c: see keymap.h.  Slots point to items allocated with their key
 * and value in one block; a slot's ideal position is hash & mask. */
#include "labeler/keymap.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

#define KEYMAP_SLOTS_MIN 64

struct keymap_item {
        uint64_t hash;
        size_t key_len, value_len;
        bool removed;
        uint8_t data[]; /* key, then value */
};

/* A slot keeps its item's hash, so a probe compares without touching the
 * item (one cache line per probe instead of two). */
struct keymap_slot {
        uint64_t hash;
        struct keymap_item *it; /* NULL: free */
};

struct keymap {
        struct keymap_slot *slots;
        size_t cap, count, bytes; /* cap: a power of two */
        size_t keys_max, bytes_max;
};

int keymap_new(size_t keys_max, size_t bytes_max, struct keymap **out) {
        struct keymap *m;

        if (!keys_max || !bytes_max)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cap = KEYMAP_SLOTS_MIN;
        m->slots = calloc(m->cap, sizeof(*m->slots));
        if (!m->slots) {
                free(m);
                return -ENOMEM;
        }
        m->keys_max = keys_max;
        m->bytes_max = bytes_max;
        *out = m;
        return 0;
}

void keymap_clear(struct keymap *m) {
        for (size_t i = 0; i < m->cap; i++) {
                free(m->slots[i].it);
                m->slots[i] = (struct keymap_slot){0};
        }
        m->count = 0;
        m->bytes = 0;
}

void keymap_free(struct keymap *m) {
        if (!m)
                return;
        keymap_clear(m);
        free(m->slots);
        free(m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t keymap_find(const struct keymap *m, uint64_t h, const void *key, size_t key_len) {
        size_t mask = m->cap - 1;

        for (size_t i = h & mask;; i = (i + 1) & mask) {
                const struct keymap_item *it = m->slots[i].it;
                if (!it || (m->slots[i].hash == h && it->key_len == key_len &&
                            memcmp(it->data, key, key_len) == 0))
                        return i;
        }
}

static void keymap_entry_fill(const struct keymap_item *it, struct keymap_entry *out) {
        out->key = it->data;
        out->key_len = it->key_len;
        out->removed = it->removed;
        out->value = it->removed ? NULL : it->data + it->key_len;
        out->value_len = it->value_len;
}

int keymap_get(const struct keymap *m, const void *key, size_t key_len, struct keymap_entry *out) {
        const struct keymap_item *it = m->slots[keymap_find(
                m, fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len), key, key_len)].it;

        if (!it)
                return 0;
        keymap_entry_fill(it, out);
        return 1;
}

static int keymap_grow(struct keymap *m) {
        size_t cap = m->cap * 2;
        struct keymap_slot *slots = calloc(cap, sizeof(*slots));
        struct keymap_slot *old = m->slots;
        size_t old_cap = m->cap;

        if (!slots)
                return -ENOMEM;
        m->slots = slots;
        m->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].it)
                        slots[keymap_find(m, old[i].hash, old[i].it->data, old[i].it->key_len)] =
                                old[i];
        free(old);
        return 0;
}

int keymap_put(struct keymap *m, const void *key, size_t key_len, const void *value,
               size_t value_len, bool removed) {
        uint64_t h = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len);
        size_t i = keymap_find(m, h, key, key_len);
        struct keymap_item *old = m->slots[i].it, *it;
        size_t vlen = removed ? 0 : value_len;
        size_t before = old ? old->key_len + old->value_len : 0;
        bool before_kept = false;

        if ((!old && m->count >= m->keys_max) || m->bytes - before + key_len + vlen > m->bytes_max)
                return -ENOBUFS;
        if (!old && (m->count + 1) * 2 > m->cap) {
                if (keymap_grow(m) < 0)
                        return -ENOMEM;
                i = keymap_find(m, h, key, key_len);
        }
        /* A record rewritten at about its size keeps its allocation. */
        if (old && malloc_usable_size(old) >= sizeof(*it) + key_len + vlen)
                it = old, old = NULL, before_kept = true;
        else if (!(it = malloc(sizeof(*it) + key_len + vlen)))
                return -ENOMEM;
        *it = (struct keymap_item){
                .hash = h, .key_len = key_len, .value_len = vlen, .removed = removed};
        memcpy(it->data, key, key_len);
        if (vlen)
                memcpy(it->data + key_len, value, vlen);
        free(old);
        m->slots[i] = (struct keymap_slot){h, it};
        m->count += !old && !before_kept;
        m->bytes = m->bytes - before + key_len + vlen;
        return 0;
}

int keymap_forget(struct keymap *m, const void *key, size_t key_len) {
        size_t mask = m->cap - 1;
        size_t i =
                keymap_find(m, fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len), key, key_len);

        if (!m->slots[i].it)
                return 0;
        m->bytes -= m->slots[i].it->key_len + m->slots[i].it->value_len;
        m->count--;
        free(m->slots[i].it);
        m->slots[i] = (struct keymap_slot){0};
        /* Backward shift: move later items of the run into the hole when
         * their ideal slot is not between the hole and them. */
        for (size_t j = (i + 1) & mask; m->slots[j].it; j = (j + 1) & mask) {
                size_t k = m->slots[j].hash & mask;
                if (((j - k) & mask) >= ((j - i) & mask)) {
                        m->slots[i] = m->slots[j];
                        m->slots[j] = (struct keymap_slot){0};
                        i = j;
                }
        }
        return 1;
}

bool keymap_next(const struct keymap *m, size_t *cursor, struct keymap_entry *out) {
        for (; *cursor < m->cap; (*cursor)++)
                if (m->slots[*cursor].it) {
                        keymap_entry_fill(m->slots[(*cursor)++].it, out);
                        return true;
                }
        return false;
}

size_t keymap_count(const struct keymap *m) {
        return m->count;
}

size_t keymap_bytes(const struct keymap *m) {
        return m->bytes;
}
