/* store.h: the RocksDB state store of a stateful stage.
 *
 * A store is one RocksDB database in one directory with three column
 * families:
 *
 *   "default"  the stage's state (window aggregates, join rows); keys and
 *              values are opaque bytes chosen by the stage;
 *   "offsets"  the next Kafka offset to consume per (topic, partition),
 *              written only through fraud_store_batch_set_offset();
 *   "meta"     a few small named values (e.g. the schema version of the
 *              state), written through fraud_store_meta_put().
 *
 * Offsets live in their own column family, so no user key can collide
 * with them and a prefix scan of the state never sees them.  The state and
 * the offsets that produced it are written in one write batch, which
 * RocksDB applies atomically through its write-ahead log: after any crash
 * the store holds either the whole batch or none of it.  On restart a
 * stage seeks its consumer to the stored offsets, never to the group's.
 *
 * Values are read into a buffer the caller owns (fraud_store_get()); a
 * buffer of FRAUD_STORE_VALUE_MAX bytes always suffices, because larger
 * values are refused when written.  Iterator keys and values are borrowed
 * and valid only until the iterator moves or is freed.
 *
 * Errors: functions that can fail return >= 0 on success and -errno on
 * failure; RocksDB's error strings are translated here, and the last one
 * stays readable through fraud_store_error() for a caller that logs it.
 * A store is used by one thread (one stage loop).
 */
#ifndef FRAUD_STORE_H
#define FRAUD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fraud_store;
struct fraud_store_batch;
struct fraud_store_iter;

/* Memory and durability settings.  Memory is bounded by roughly
 * block_cache_bytes (data, index and filter blocks) plus
 * 2 * write_buffer_bytes (memtables of all column families together). */
struct fraud_store_options {
        size_t block_cache_bytes;  /* <= FRAUD_STORE_BLOCK_CACHE_BYTES_MAX */
        size_t write_buffer_bytes; /* one memtable, in the WRITE_BUFFER range */
        int max_open_files;        /* in [OPEN_FILES_MIN, OPEN_FILES_MAX] */
        bool sync_commit;          /* fsync the WAL on every commit */
};

/* Fills *o with the defaults: 64 MiB cache, 16 MiB write buffer,
 * 256 open files, sync_commit on (commits survive power loss). */
void fraud_store_options_init(struct fraud_store_options *o);

/* Opens the store at path, creating the directory and column families
 * when missing.  opts may be NULL for the defaults.  Blocks are compressed
 * with LZ4 when the RocksDB library supports it, else not at all.  On
 * success *out owns the store (release with fraud_store_close()).  On
 * failure returns -errno (-EINVAL for bad options, -EBUSY when another
 * handle holds the store, ...) and, when err is not NULL, writes the
 * reason into err (err_size bytes, always NUL-terminated). */
int fraud_store_open(struct fraud_store **out, const char *path,
                     const struct fraud_store_options *opts, char *err, size_t err_size);

/* Writes the memtables of every column family to table files, so that a
 * reopen replays no WAL.  Returns 0 or -errno (text in fraud_store_error). */
int fraud_store_flush(struct fraud_store *s);

/* Flushes (as fraud_store_flush()) and closes.  Always releases s; returns
 * the flush error if any (committed data is not lost by it: it is still in
 * the WAL); a caller that wants its text calls fraud_store_flush() first.
 * All batches and iterators of s must be freed before.
 * fraud_store_close(NULL) is a no-op returning 0. */
int fraud_store_close(struct fraud_store *s);

/* The text of the last error on s ("" if none).  Borrowed; valid until the
 * next call on s. */
const char *fraud_store_error(const struct fraud_store *s);

/* Copies the value of key into buf (cap bytes).  Returns the value's
 * length, -ENOENT when absent, -ENOBUFS when cap is too small (buf then
 * holds nothing useful), -errno on a read error. */
int fraud_store_get(struct fraud_store *s, const void *key, size_t key_len, void *buf, size_t cap);

/* Reads the next offset to consume of (topic, partition) into
 * *next_offset.  Returns 0, -ENOENT when none is stored, -errno. */
int fraud_store_offset_get(struct fraud_store *s, const char *topic, int32_t partition,
                           int64_t *next_offset);

/* Calls fn for every stored offset, in (topic, partition) order; topic is
 * borrowed for the call.  Returns 0 after the last one, the first non-zero
 * value fn returned (which stops the walk), or -errno. */
int fraud_store_offsets_foreach(struct fraud_store *s,
                                int (*fn)(void *ctx, const char *topic, int32_t partition,
                                          int64_t next_offset),
                                void *ctx);

/* Small named values outside the state, e.g. "schema_version".  key is a
 * NUL-terminated string of at most FRAUD_STORE_KEY_MAX bytes.  put writes
 * at once, synced; get behaves as fraud_store_get(). */
int fraud_store_meta_put(struct fraud_store *s, const char *key, const void *value, size_t len);
int fraud_store_meta_get(struct fraud_store *s, const char *key, void *buf, size_t cap);

/* Writes a RocksDB checkpoint of the whole store (state, offsets, meta) to
 * dir, which must not exist yet; its parent must.  Files are hard-linked
 * when dir is on the same file system.  The checkpoint opens as a store. */
int fraud_store_checkpoint(struct fraud_store *s, const char *dir);

/* How big the store is: RocksDB's figures, summed over the column
 * families (state, offsets, meta).  Cheap (no I/O): read on every metrics
 * scrape. */
struct fraud_store_size {
        uint64_t sst_bytes;       /* table files on disk (rocksdb.total-sst-files-size) */
        uint64_t live_data_bytes; /* estimated live data (rocksdb.estimate-live-data-size) */
        uint64_t memtable_bytes;  /* memtables (rocksdb.cur-size-all-mem-tables) */
};

/* 0, or -EIO when RocksDB does not know a property (text in
 * fraud_store_error()). */
int fraud_store_size(struct fraud_store *s, struct fraud_store_size *out);

/* ---- write batches ----
 *
 * A batch collects puts, deletes and offsets and applies them all at once
 * on commit.  It borrows its store (free the batch before closing it) and
 * holds at most FRAUD_STORE_BATCH_OPS_MAX operations and
 * FRAUD_STORE_BATCH_BYTES_MAX key + value bytes: an operation that would
 * exceed either is refused with -E2BIG and the batch stays as it was, so
 * the caller commits what it has and starts again.  Keys are 1 to
 * FRAUD_STORE_KEY_MAX bytes, values at most FRAUD_STORE_VALUE_MAX
 * (-E2BIG beyond).  Within a batch, later operations win. */

/* Returns a new empty batch on s, or NULL when out of memory. */
struct fraud_store_batch *fraud_store_batch_new(struct fraud_store *s);
/* fraud_store_batch_free(NULL) is a no-op; uncommitted operations are
 * dropped. */
void fraud_store_batch_free(struct fraud_store_batch *b);

int fraud_store_batch_put(struct fraud_store_batch *b, const void *key, size_t key_len,
                          const void *value, size_t len);
int fraud_store_batch_delete(struct fraud_store_batch *b, const void *key, size_t key_len);
/* Deletes every state key k with begin <= k < end. */
int fraud_store_batch_delete_range(struct fraud_store_batch *b, const void *begin, size_t begin_len,
                                   const void *end, size_t end_len);
/* Records that the next message to consume from (topic, partition) is
 * next_offset (last processed + 1).  topic: 1 to FRAUD_KAFKA_TOPIC_NAME_MAX
 * bytes; partition and next_offset >= 0. */
int fraud_store_batch_set_offset(struct fraud_store_batch *b, const char *topic, int32_t partition,
                                 int64_t next_offset);

/* Applies the whole batch atomically, WAL on (synced if sync_commit).  On
 * success the batch is emptied for reuse; on failure nothing was applied
 * and the batch is kept unchanged. */
int fraud_store_batch_commit(struct fraud_store_batch *b);
/* Drops every operation of b. */
void fraud_store_batch_clear(struct fraud_store_batch *b);
/* Operations in b. */
size_t fraud_store_batch_count(const struct fraud_store_batch *b);

/* ---- iterators over the state ----
 *
 * An iterator sees the state as it was when it was created (an implicit
 * snapshot) and only the keys within its range, in byte order.  It
 * borrows its store (free it before closing the store).  Seek and next
 * return 1 when positioned on an entry, 0 past the end, -errno on a read
 * error. */

/* Range [lower, upper); a NULL bound (length 0) is open.  Bounds are
 * copied; each at most FRAUD_STORE_KEY_MAX bytes. */
int fraud_store_iter_new(struct fraud_store *s, const void *lower, size_t lower_len,
                         const void *upper, size_t upper_len, struct fraud_store_iter **out);
/* Every key that begins with prefix (0 < prefix_len <= KEY_MAX). */
int fraud_store_iter_new_prefix(struct fraud_store *s, const void *prefix, size_t prefix_len,
                                struct fraud_store_iter **out);
/* fraud_store_iter_free(NULL) is a no-op. */
void fraud_store_iter_free(struct fraud_store_iter *it);

/* Positions at the first key >= key within the range; key NULL positions
 * at the first key of the range. */
int fraud_store_iter_seek(struct fraud_store_iter *it, const void *key, size_t key_len);
int fraud_store_iter_next(struct fraud_store_iter *it);
bool fraud_store_iter_valid(const struct fraud_store_iter *it);
/* The current entry, borrowed until the iterator moves or is freed.  Only
 * when fraud_store_iter_valid(). */
const void *fraud_store_iter_key(const struct fraud_store_iter *it, size_t *len);
const void *fraud_store_iter_value(const struct fraud_store_iter *it, size_t *len);

#endif
