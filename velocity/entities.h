/* entities.h: the windows of every entity, as a bounded in-memory cache in
 * front of the RocksDB store.
 *
 * An entity is (kind, id): card_hash, terminal (or merchant) id, device id,
 * IP.  entities_get() returns its window, read from the store on a miss (or
 * empty when the store has none), and marks it changed.  Changed windows
 * stay in memory until entities_write() has put them into a write batch
 * and the caller reports the batch committed (entities_committed()); only
 * then may they be evicted, least recently used first, until at most
 * entities_max entities and events_max events are cached.  Memory is thus
 * bounded by entities_max (+ the entities changed in one batch, at most
 * FRAUD_VELOCITY_COMMIT_ENTITIES_MAX) windows and events_max (+ the events
 * of the batch) events of 24 (terminal; 32 with the index its queries
 * keep, window.h) to 56 (card) bytes, whatever the number of cards.
 *
 * Without a store (store NULL: the backtest engine, the tests), evicting
 * loses an entity's history; size the cache to the data then.
 *
 * Store keys are "w" + kind letter (c, t, d, i) + ':' + id; values are
 * window_encode()'s.  A window pointer stays valid until the next
 * entities_committed() or entities_free(); several may be held at once.
 * One thread.
 */
#ifndef FRAUD_ENTITIES_H
#define FRAUD_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/store.h"
#include "velocity/window.h"

struct entities;

struct entities_stats {
        uint64_t cached; /* entities in memory */
        uint64_t events; /* events in memory */
        uint64_t hits, misses, loads, evictions;
        uint64_t dirty;       /* changed since the last commit */
        uint64_t dirty_bytes; /* their encoded size, plus an event per use: an upper
                               * bound of what entities_write() will put */
};

/* store is borrowed (may be NULL) and must outlive the cache.  A stored
 * window longer than the configured history keeps its events until its
 * next window_add() trims it.  -EINVAL, -ENOMEM. */
int entities_new(struct fraud_store *store, size_t entities_max, size_t events_max,
                 struct entities **out);
/* Frees every window (changes not written are lost).  NULL is a no-op. */
void entities_free(struct entities *e);

/* The window of (kind, id), len 1..FRAUD_VELOCITY_ID_MAX.  0, -EBADMSG for
 * a stored value that does not decode (the store is damaged), -ENOMEM, or a
 * store read error. */
int entities_get(struct entities *e, enum fraud_featureset_entity kind, const char *id, size_t len,
                 struct window **out);

/* Puts every changed window into b (an empty one as a delete: no key is
 * kept for an entity with nothing left).  0, or the batch's error
 * (-E2BIG). */
int entities_write(struct entities *e, struct fraud_store_batch *b);
/* The batch with those windows is committed: they are clean again; evicts
 * down to the limits. */
void entities_committed(struct entities *e);

void entities_stats(const struct entities *e, struct entities_stats *out);

#endif
