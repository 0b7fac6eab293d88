/* keymap.c: see keymap.h.  Slots point to items allocated with their key
 * and value in one block; a slot's ideal position is hash & mask. */
#include "labeler/keymap.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/hash.h"

#define KEYMAP_SLOTS_MIN  64
#define KEYMAP_HUGE_BYTES (2u << 20) /* a huge page */
#define KEYMAP_MEMO_BYTES 64         /* longest key whose hash is remembered */

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
        /* The key last hashed by a lend or a change, and its hash: the
         * same key often comes twice in a row (a put after a lend that
         * found nothing, a lend after a put). */
        uint8_t memo[KEYMAP_MEMO_BYTES];
        size_t memo_len; /* SIZE_MAX: none */
        uint64_t memo_hash;
};

/* A zeroed table of cap slots.  A large one asks for huge pages: a
 * lookup lands on a random slot, and with small pages it misses the TLB
 * as well as the cache. */
static struct keymap_slot *keymap_slots_new(size_t cap) {
        size_t bytes = cap * sizeof(struct keymap_slot);
        void *p;

        if (bytes < KEYMAP_HUGE_BYTES)
                return calloc(cap, sizeof(struct keymap_slot));
        p = aligned_alloc(KEYMAP_HUGE_BYTES, bytes); /* cap is a power of two */
        if (!p)
                return NULL;
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it, small pages */
        return memset(p, 0, bytes);
}

int keymap_new(size_t keys_max, size_t bytes_max, struct keymap **out) {
        struct keymap *m;

        if (!keys_max || !bytes_max)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cap = KEYMAP_SLOTS_MIN;
        m->slots = keymap_slots_new(m->cap);
        if (!m->slots) {
                free(m);
                return -ENOMEM;
        }
        m->keys_max = keys_max;
        m->bytes_max = bytes_max;
        m->memo_len = SIZE_MAX;
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

static uint64_t keymap_hash_memo(struct keymap *m, const void *key, size_t key_len) {
        uint64_t h;

        if (key_len == m->memo_len && memcmp(key, m->memo, key_len) == 0)
                return m->memo_hash;
        h = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len);
        if (key_len <= sizeof(m->memo)) {
                memcpy(m->memo, key, key_len);
                m->memo_len = key_len;
                m->memo_hash = h;
        }
        return h;
}

uint8_t *keymap_value(struct keymap *m, const void *key, size_t key_len, size_t *value_len) {
        struct keymap_item *it =
                m->slots[keymap_find(m, keymap_hash_memo(m, key, key_len), key, key_len)].it;

        if (!it || it->removed)
                return NULL;
        *value_len = it->value_len;
        return it->data + it->key_len;
}

uint64_t keymap_hash(const void *key, size_t key_len) {
        return fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, key, key_len);
}

void keymap_prefetch_slot(const struct keymap *m, uint64_t hash) {
        __builtin_prefetch(&m->slots[hash & (m->cap - 1)]);
}

void keymap_prefetch(struct keymap *m, const void *key, size_t key_len) {
        keymap_prefetch_slot(m, keymap_hash_memo(m, key, key_len));
}

/* The item of the first slot of hash's run that has its hash (the one a
 * lookup most likely wants), or NULL. */
static const struct keymap_item *keymap_guess(const struct keymap *m, uint64_t hash) {
        size_t mask = m->cap - 1;

        for (size_t i = hash & mask; m->slots[i].it; i = (i + 1) & mask)
                if (m->slots[i].hash == hash)
                        return m->slots[i].it;
        return NULL;
}

void keymap_prefetch_item(const struct keymap *m, uint64_t hash) {
        const struct keymap_item *it = keymap_guess(m, hash);

        if (it)
                __builtin_prefetch(it);
}

void keymap_prefetch_value(const struct keymap *m, uint64_t hash) {
        const struct keymap_item *it = keymap_guess(m, hash);
        size_t size = it ? sizeof(*it) + it->key_len + it->value_len : 0;

        for (size_t at = 64; at < size; at += 64) /* the head's line came before */
                __builtin_prefetch((const uint8_t *)it + at);
}

static int keymap_grow(struct keymap *m) {
        size_t cap = m->cap * 2;
        struct keymap_slot *slots = keymap_slots_new(cap);
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

/* Inserts or replaces key's entry with room for vlen bytes of value, not
 * written: 0 with *out, -ENOBUFS beyond the limits, -ENOMEM. */
static int keymap_place(struct keymap *m, const void *key, size_t key_len, size_t vlen,
                        bool removed, struct keymap_item **out) {
        uint64_t h = keymap_hash_memo(m, key, key_len);
        size_t i = keymap_find(m, h, key, key_len);
        struct keymap_item *old = m->slots[i].it, *it;
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
        free(old);
        m->slots[i] = (struct keymap_slot){h, it};
        m->count += !old && !before_kept;
        m->bytes = m->bytes - before + key_len + vlen;
        *out = it;
        return 0;
}

int keymap_put(struct keymap *m, const void *key, size_t key_len, const void *value,
               size_t value_len, bool removed) {
        size_t vlen = removed ? 0 : value_len;
        struct keymap_item *it;
        int r = keymap_place(m, key, key_len, vlen, removed, &it);

        if (r == 0 && vlen)
                memcpy(it->data + key_len, value, vlen);
        return r;
}

int keymap_reserve(struct keymap *m, const void *key, size_t key_len, size_t value_len,
                   uint8_t **value) {
        struct keymap_item *it;
        int r = keymap_place(m, key, key_len, value_len, false, &it);

        if (r == 0)
                *value = it->data + key_len;
        return r;
}

int keymap_forget(struct keymap *m, const void *key, size_t key_len) {
        size_t mask = m->cap - 1;
        size_t i = keymap_find(m, keymap_hash_memo(m, key, key_len), key, key_len);

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
