/* keymap.h: a bounded hash map from byte keys to byte values, owning a
 * copy of both.
 *
 * Open addressing with linear probing and backward-shift deletion over
 * FNV-1a (lib/hash.h), kept at most half full (it doubles when needed).
 * An entry may be a tombstone (removed, no value): the RocksDB store of the
 * labeler (dbstore.c) records pending deletes that way, while the
 * in-memory store (memstore.c) forgets keys instead.  Limits: keys_max
 * entries and bytes_max key + value bytes; an insert beyond either fails
 * with -ENOBUFS and leaves the map unchanged.  Entries handed out are
 * borrowed until the map next changes.  One thread.
 */
#ifndef FRAUD_LABELER_KEYMAP_H
#define FRAUD_LABELER_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keymap;

struct keymap_entry {
        const uint8_t *key;
        size_t key_len;
        const uint8_t *value; /* NULL for a tombstone */
        size_t value_len;
        bool removed;
};

/* 0, -EINVAL for zero limits, -ENOMEM. */
int keymap_new(size_t keys_max, size_t bytes_max, struct keymap **out);
/* keymap_free(NULL) is a no-op. */
void keymap_free(struct keymap *m);

/* 1 with *out filled, 0 when key is absent. */
int keymap_get(const struct keymap *m, const void *key, size_t key_len, struct keymap_entry *out);
/* The value of key, lent for reading and for writing in place (its length
 * stays), until the map next changes; NULL when key is absent or a
 * tombstone.  Saves a copy out and a put back for a value changed in
 * place. */
uint8_t *keymap_value(struct keymap *m, const void *key, size_t key_len, size_t *value_len);
/* Prefetching, hints only: they change nothing.  For a batch of lookups,
 * one step per key at a time, each step fetching what the next one reads:
 * keymap_hash() and keymap_prefetch_slot(), keymap_prefetch_item() (the
 * head of the item, found from the slot), keymap_prefetch_value() (all of
 * it, found from the head), then the lookup.  Spaced out like this, the
 * cache misses of the batch overlap instead of following one another. */
uint64_t keymap_hash(const void *key, size_t key_len);
void keymap_prefetch_slot(const struct keymap *m, uint64_t hash);
void keymap_prefetch_item(const struct keymap *m, uint64_t hash);
void keymap_prefetch_value(const struct keymap *m, uint64_t hash);
/* For one lookup: keymap_prefetch_slot() of key, whose hash the next lend
 * or change of key reuses. */
void keymap_prefetch(struct keymap *m, const void *key, size_t key_len);
/* Inserts or replaces key's entry with value (removed: a tombstone, value
 * ignored).  0, -ENOBUFS beyond the limits, -ENOMEM. */
int keymap_put(struct keymap *m, const void *key, size_t key_len, const void *value,
               size_t value_len, bool removed);
/* As keymap_put() of value_len bytes that the caller then writes at
 * *value (lent until the map next changes), instead of copying them. */
int keymap_reserve(struct keymap *m, const void *key, size_t key_len, size_t value_len,
                   uint8_t **value);
/* Forgets key entirely.  1 when it was there, 0 otherwise. */
int keymap_forget(struct keymap *m, const void *key, size_t key_len);

/* Walks the entries in no particular order: start with *cursor = 0; false
 * after the last.  The map must not change during a walk. */
bool keymap_next(const struct keymap *m, size_t *cursor, struct keymap_entry *out);

size_t keymap_count(const struct keymap *m);
/* Key + value bytes held. */
size_t keymap_bytes(const struct keymap *m);
/* Forgets every entry (the table keeps its size). */
void keymap_clear(struct keymap *m);

#endif
