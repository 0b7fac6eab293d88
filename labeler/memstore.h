/* memstore.h: the join's state in memory, for the backtest and the tests.
 *
 * Implements labeler/join.h's store interface without RocksDB: records in a
 * keymap (labeler/keymap.h), lent to the core to be read and changed in
 * place, the due index as a 4-ary min-heap of (due time, transaction id)
 * whose deletes are lazy (join.c skips stale entries when it takes them),
 * the clock in the struct.  Nothing is written anywhere; memory grows with
 * the open records (those within the horizon), bounded by records_max:
 * beyond it a put fails with -ENOBUFS.
 */
#ifndef FRAUD_LABELER_MEMSTORE_H
#define FRAUD_LABELER_MEMSTORE_H

#include <stddef.h>

#include "labeler/join.h"

struct memstore;

/* records_max: 1..FRAUD_LABELER_MEMORY_RECORDS_MAX.  0, -EINVAL, -ENOMEM. */
int memstore_new(size_t records_max, struct memstore **out);
/* memstore_free(NULL) is a no-op. */
void memstore_free(struct memstore *m);

/* The store interface over m, for join_new(); m must outlive the join. */
void memstore_join_store(struct memstore *m, struct join_store *out);

/* Records held, and due entries in the heap (stale ones included). */
size_t memstore_records(const struct memstore *m);
size_t memstore_due_entries(const struct memstore *m);

#endif
