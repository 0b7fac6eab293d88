/* dbstore.h: the join's state in RocksDB, for the daemon.
 *
 * Implements labeler/join.h's store interface over a lib/store.h store,
 * in its state column family:
 *
 *   'r' + transaction id               the record (join.c's encoding)
 *   'd' + due time (8 bytes, big-endian) + transaction id
 *                                      the due index, empty values, in
 *                                      time order (event times are > 0)
 *   'w'                                the join's clock
 *
 * Changes are not written at once: they wait in an overlay (a keymap of
 * puts and tombstones) that every read consults first, until the stage
 * has the delivery reports of what they produced; then dbstore_write()
 * adds them to the write batch that also holds the consumed offsets, and
 * after the commit dbstore_clear() empties the overlay.  The overlay is
 * the only memory that grows with the input, bounded by
 * FRAUD_LABELER_PENDING_KEYS_MAX keys and FRAUD_LABELER_PENDING_BYTES_MAX
 * bytes (both fit one write batch): the stage checks dbstore_full()
 * before every input and every advance and checkpoints first when it is.
 * Reads of committed state go to RocksDB (its block cache); due_take()
 * merges the committed index with the overlay's puts and skips entries the
 * overlay deleted.  It starts at a floor below which every committed entry
 * is known taken, so it does not wade through the deletes RocksDB keeps
 * until compaction (the index is a queue); the floor lives in memory and
 * starts at the beginning of the index when the store opens.  One
 * thread.
 */
#ifndef FRAUD_LABELER_DBSTORE_H
#define FRAUD_LABELER_DBSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "labeler/join.h"
#include "lib/store.h"

struct dbstore;

/* s is borrowed and must outlive d.  0 or -ENOMEM. */
int dbstore_new(struct fraud_store *s, struct dbstore **out);
/* dbstore_free(NULL) is a no-op; pending changes are dropped. */
void dbstore_free(struct dbstore *d);

/* The store interface over d, for join_new(); d must outlive the join. */
void dbstore_join_store(struct dbstore *d, struct join_store *out);

/* Adds every pending change to b (which must have room for them: see
 * dbstore_full()).  0 or the batch's -errno. */
int dbstore_write(struct dbstore *d, struct fraud_store_batch *b);
/* Forgets the pending changes after their batch was committed. */
void dbstore_clear(struct dbstore *d);

/* Pending changes: keys and key + value bytes. */
size_t dbstore_pending_keys(const struct dbstore *d);
size_t dbstore_pending_bytes(const struct dbstore *d);
/* true when an input or an advance chunk might not fit any more. */
bool dbstore_full(const struct dbstore *d);

#endif
