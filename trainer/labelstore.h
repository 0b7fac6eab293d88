/* labelstore.h: the trainer's dataset in RocksDB (lib/store.h): every label
 * version of every transaction in the window, the schedule marks and the
 * consumed offsets.
 *
 * State keys (default column family):
 *   'R' time id   one row (trainer/dataset.h: features and label versions)
 *   "M.marks"     the schedule marks (trainer/schedule.h), 24 bytes
 * The consumed offsets live in the store's offsets column family, written
 * in the same write batch as the rows and marks they account for.
 *
 * A row keeps the features of its first label; later labels of the same
 * transaction add their version only.
 *
 * Adding a label is a read-modify-write of its row into a pending write
 * batch.  Before a row already changed in the pending batch is read again,
 * the batch is committed (without offsets): RocksDB reads see only
 * committed data, and committing rows early is safe because applying a
 * label version twice is a no-op (a duplicate).  labelstore_commit()
 * writes the rest, the marks and the offsets at once: after a crash the
 * store holds the rows of every offset it holds, perhaps more, never fewer.
 *
 * Selection reads committed rows only, in key order (event time, then
 * id), through one iterator over the window's key range.  Eviction is one
 * range delete, committed with the next commit.
 *
 * One thread.  Errors: -errno, with RocksDB's reason in labelstore_error().
 */
#ifndef FRAUD_LABELSTORE_H
#define FRAUD_LABELSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kafka.h"
#include "trainer/dataset.h"
#include "trainer/schedule.h"

struct labelstore;

/* Opens (creates) the store in dir.  -errno with the reason in err;
 * -EPROTO for a directory holding another kind of store. */
int labelstore_open(const char *dir, bool sync_commit, struct labelstore **out, char *err,
                    size_t err_size);

/* Flushes and closes; pending changes not committed are dropped (as a
 * crash would).  NULL is a no-op. */
void labelstore_close(struct labelstore *s);

const char *labelstore_error(const struct labelstore *s);

/* Adds the one version of in (a row with n_versions == 1: its features and
 * a label) to the stored row, creating it when new.  0 added, 1 duplicate,
 * -E2BIG when the row holds FRAUD_TRAINER_LABEL_VERSIONS_MAX versions,
 * -EBADMSG for a stored row that does not decode, -errno. */
int labelstore_add(struct labelstore *s, const struct dataset_row *in);

/* Stages the deletion of every row with event time < before_us. */
int labelstore_evict(struct labelstore *s, int64_t before_us);

/* Commits the pending rows and evictions with marks and n offsets. */
int labelstore_commit(struct labelstore *s, const struct schedule_marks *marks,
                      const struct fraud_kafka_offset *offsets, size_t n);

/* The stored marks (schedule_marks_init() values when none). */
int labelstore_marks(struct labelstore *s, struct schedule_marks *out);

/* The next offset to consume of a partition; -ENOENT when none. */
int labelstore_offset(struct labelstore *s, const char *topic, int32_t partition, int64_t *offset);

/* Offers every committed row of the window's event-time range to t
 * (dataset_table_offer).  -E2BIG beyond t->rows_max, -EBADMSG, -errno. */
int labelstore_select(struct labelstore *s, const struct dataset_window *w,
                      struct dataset_table *t);

/* Rows stored (a full scan; for tests and the log). */
int labelstore_count(struct labelstore *s, size_t *out);

#endif
