/* store.c: the RocksDB state store (see store.h for the contract).
 *
 * Layout.  Three column families: "default" holds the stage's state,
 * "offsets" the consumed Kafka offsets, "meta" a few named values.  An
 * offset key is the topic's bytes, one NUL byte, then the partition as a
 * 4-byte big-endian integer, so keys sort by (topic, partition) and no
 * topic is a prefix of another's keys (topic names contain no NUL).  An
 * offset value is the next offset as an 8-byte big-endian integer.
 *
 * Atomicity.  State and offsets reach RocksDB in one WriteBatch, written
 * to the WAL as one record with the WAL always on; recovery replays up to
 * the last whole record (point-in-time recovery, set explicitly rather
 * than left to the default), so a crash leaves all of a batch or none.
 * With sync_commit the WAL is fsynced before commit returns, so a
 * committed batch also survives power loss; without it, only a process
 * crash.
 *
 * Bounded memory.  One LRU block cache holds data, index and filter
 * blocks of every column family; the memtables of all column families
 * together are capped at twice write_buffer_bytes; RocksDB's info LOG
 * files are capped in size and number.  Batches are capped in operations
 * and bytes (lib/bounds.h) and checked before anything is added, so a
 * refused operation leaves the batch as it was.
 *
 * Errors.  RocksDB reports failures as malloc'd strings ("IO error: ...:
 * Permission denied").  store_fail_rocks() is the one place that turns
 * them into -errno (strerror text first, then the RocksDB status name)
 * and keeps the text in s->error.  Nothing here logs or exits.
 */
#include "lib/store.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "lib/bounds.h"

enum { STORE_CF_STATE, STORE_CF_OFFSETS, STORE_CF_META, STORE_CF_COUNT };

static const char *const store_cf_names[STORE_CF_COUNT] = {"default", "offsets", "meta"};

#define STORE_OFFSET_KEY_MAX   (FRAUD_KAFKA_TOPIC_NAME_MAX + 1 + 4)
#define STORE_OFFSET_VALUE_LEN 8

struct fraud_store {
        rocksdb_t *db;
        rocksdb_options_t *options;
        rocksdb_block_based_table_options_t *table;
        rocksdb_cache_t *cache;
        rocksdb_column_family_handle_t *cf[STORE_CF_COUNT];
        rocksdb_readoptions_t *read;
        rocksdb_writeoptions_t *write;      /* commits: WAL on, sync per options */
        rocksdb_writeoptions_t *write_sync; /* meta: WAL on, always synced */
        char error[FRAUD_STORE_ERROR_MAX];
};

struct fraud_store_batch {
        struct fraud_store *store; /* borrowed */
        rocksdb_writebatch_t *wb;  /* owned */
        size_t ops;
        size_t bytes;
};

struct fraud_store_iter {
        struct fraud_store *store;   /* borrowed */
        rocksdb_readoptions_t *read; /* owned; points into lower/upper below */
        rocksdb_iterator_t *it;      /* owned */
        char lower[FRAUD_STORE_KEY_MAX];
        char upper[FRAUD_STORE_KEY_MAX];
};

/* ---- errors ---- */

/* RocksDB messages end with strerror() text for system errors; those are
 * matched first.  Then the status name that starts every message. */
static const struct {
        const char *text;
        int err;
} store_errors[] = {
        {"No space left on device", ENOSPC},
        {"Permission denied", EACCES},
        {"Read-only file system", EROFS},
        {"Not a directory", ENOTDIR},
        {"Is a directory", EISDIR},
        {"No such file or directory", ENOENT},
        {"Too many open files", EMFILE},
        {"File exists", EEXIST},
        {"Directory exists", EEXIST},
        {"No locks available", EBUSY},               /* LOCK held in this process */
        {"Resource temporarily unavailable", EBUSY}, /* LOCK held elsewhere */
        {"Corruption", EBADMSG},
        {"Invalid argument", EINVAL},
        {"Not implemented", ENOTSUP},
        {"NotFound", ENOENT},
        {"Resource busy", EBUSY},
        {"Operation timed out", ETIMEDOUT},
        {"Try again", EAGAIN},
        {"Shutdown in progress", ESHUTDOWN},
        {"Operation aborted", ECANCELED},
        {"Memory limit", ENOMEM},
        {"IO error", EIO},
};

static int store_errno_from_text(const char *text) {
        for (size_t i = 0; i < sizeof store_errors / sizeof store_errors[0]; i++)
                if (strstr(text, store_errors[i].text))
                        return store_errors[i].err;
        return EIO;
}

__attribute__((format(printf, 3, 4))) static int store_fail(struct fraud_store *s, int err,
                                                            const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->error, sizeof s->error, fmt, ap);
        va_end(ap);
        return -err;
}

/* Takes ownership of rerr (RocksDB's malloc'd message) and frees it. */
static int store_fail_rocks(struct fraud_store *s, const char *what, char *rerr) {
        int err = store_errno_from_text(rerr);

        store_fail(s, err, "%s: %s", what, rerr);
        rocksdb_free(rerr);
        return -err;
}

const char *fraud_store_error(const struct fraud_store *s) {
        return s->error;
}

/* ---- open and close ---- */

void fraud_store_options_init(struct fraud_store_options *o) {
        o->block_cache_bytes = (size_t)64 << 20;
        o->write_buffer_bytes = (size_t)16 << 20;
        o->max_open_files = 256;
        o->sync_commit = true;
}

static int store_options_check(struct fraud_store *s, const struct fraud_store_options *o) {
        if (o->block_cache_bytes > FRAUD_STORE_BLOCK_CACHE_BYTES_MAX)
                return store_fail(s, EINVAL, "block_cache_bytes %zu above %zu",
                                  o->block_cache_bytes, FRAUD_STORE_BLOCK_CACHE_BYTES_MAX);
        if (o->write_buffer_bytes < FRAUD_STORE_WRITE_BUFFER_BYTES_MIN ||
            o->write_buffer_bytes > FRAUD_STORE_WRITE_BUFFER_BYTES_MAX)
                return store_fail(s, EINVAL, "write_buffer_bytes %zu not in [%zu, %zu]",
                                  o->write_buffer_bytes, FRAUD_STORE_WRITE_BUFFER_BYTES_MIN,
                                  FRAUD_STORE_WRITE_BUFFER_BYTES_MAX);
        if (o->max_open_files < FRAUD_STORE_OPEN_FILES_MIN ||
            o->max_open_files > FRAUD_STORE_OPEN_FILES_MAX)
                return store_fail(s, EINVAL, "max_open_files %d not in [%d, %d]", o->max_open_files,
                                  FRAUD_STORE_OPEN_FILES_MIN, FRAUD_STORE_OPEN_FILES_MAX);
        return 0;
}

/* Straight-line construction of every RocksDB options object of s. */
static void store_options_build(struct fraud_store *s, const struct fraud_store_options *o) {
        rocksdb_options_t *ro = rocksdb_options_create();

        s->cache = rocksdb_cache_create_lru(o->block_cache_bytes);
        s->table = rocksdb_block_based_options_create();
        rocksdb_block_based_options_set_block_cache(s->table, s->cache);
        rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->table, 1);
        /* The table options take ownership of the filter policy. */
        rocksdb_block_based_options_set_filter_policy(s->table,
                                                      rocksdb_filterpolicy_create_bloom(10));
        rocksdb_options_set_block_based_table_factory(ro, s->table);

        rocksdb_options_set_create_if_missing(ro, 1);
        rocksdb_options_set_create_missing_column_families(ro, 1);
        rocksdb_options_set_write_buffer_size(ro, o->write_buffer_bytes);
        rocksdb_options_set_max_write_buffer_number(ro, 2);
        rocksdb_options_set_db_write_buffer_size(ro, 2 * o->write_buffer_bytes);
        rocksdb_options_set_max_open_files(ro, o->max_open_files);
        rocksdb_options_set_keep_log_file_num(ro, FRAUD_STORE_LOG_FILES_MAX);
        rocksdb_options_set_max_log_file_size(ro, FRAUD_STORE_LOG_FILE_BYTES_MAX);
        rocksdb_options_set_wal_recovery_mode(ro, rocksdb_point_in_time_recovery);
        rocksdb_options_set_paranoid_checks(ro, 1);
        rocksdb_options_set_compression(ro, rocksdb_lz4_compression);
        s->options = ro;

        s->read = rocksdb_readoptions_create();
        s->write = rocksdb_writeoptions_create();
        rocksdb_writeoptions_disable_WAL(s->write, 0);
        rocksdb_writeoptions_set_sync(s->write, o->sync_commit);
        s->write_sync = rocksdb_writeoptions_create();
        rocksdb_writeoptions_disable_WAL(s->write_sync, 0);
        rocksdb_writeoptions_set_sync(s->write_sync, 1);
}

/* Opens the database; retries without compression when this RocksDB
 * library was built without LZ4. */
static int store_open_db(struct fraud_store *s, const char *path) {
        const rocksdb_options_t *cf_opts[STORE_CF_COUNT];
        char *rerr = NULL;

        for (int i = 0; i < STORE_CF_COUNT; i++)
                cf_opts[i] = s->options;
        s->db = rocksdb_open_column_families(s->options, path, STORE_CF_COUNT, store_cf_names,
                                             cf_opts, s->cf, &rerr);
        if (!s->db && rerr && strstr(rerr, "not linked")) {
                rocksdb_free(rerr);
                rerr = NULL;
                rocksdb_options_set_compression(s->options, rocksdb_no_compression);
                s->db = rocksdb_open_column_families(s->options, path, STORE_CF_COUNT,
                                                     store_cf_names, cf_opts, s->cf, &rerr);
        }
        if (!s->db && rerr)
                return store_fail_rocks(s, "open", rerr);
        if (!s->db)
                return store_fail(s, EIO, "open %s: failed", path);
        return 0;
}

/* Releases everything s owns, in reverse order of creation. */
static void store_release(struct fraud_store *s) {
        for (int i = 0; i < STORE_CF_COUNT; i++)
                if (s->cf[i])
                        rocksdb_column_family_handle_destroy(s->cf[i]);
        if (s->db)
                rocksdb_close(s->db);
        if (s->write_sync)
                rocksdb_writeoptions_destroy(s->write_sync);
        if (s->write)
                rocksdb_writeoptions_destroy(s->write);
        if (s->read)
                rocksdb_readoptions_destroy(s->read);
        if (s->options)
                rocksdb_options_destroy(s->options);
        if (s->table)
                rocksdb_block_based_options_destroy(s->table);
        if (s->cache)
                rocksdb_cache_destroy(s->cache);
        free(s);
}

int fraud_store_open(struct fraud_store **out, const char *path,
                     const struct fraud_store_options *opts, char *err, size_t err_size) {
        struct fraud_store_options defaults;
        struct fraud_store *s;
        int r;

        assert(out && path);
        *out = NULL;
        if (err && err_size)
                err[0] = '\0';
        s = calloc(1, sizeof *s);
        if (!s) {
                if (err && err_size)
                        snprintf(err, err_size, "open %s: out of memory", path);
                return -ENOMEM;
        }
        if (!opts) {
                fraud_store_options_init(&defaults);
                opts = &defaults;
        }
        r = store_options_check(s, opts);
        if (r >= 0) {
                store_options_build(s, opts);
                r = store_open_db(s, path);
        }
        if (r < 0) {
                if (err && err_size)
                        snprintf(err, err_size, "%s", s->error);
                store_release(s);
                return r;
        }
        *out = s;
        return 0;
}

int fraud_store_flush(struct fraud_store *s) {
        rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
        int r = 0;

        rocksdb_flushoptions_set_wait(fo, 1);
        for (int i = 0; i < STORE_CF_COUNT && r == 0; i++) {
                char *rerr = NULL;

                rocksdb_flush_cf(s->db, fo, s->cf[i], &rerr);
                if (rerr)
                        r = store_fail_rocks(s, "flush", rerr);
        }
        rocksdb_flushoptions_destroy(fo);
        return r;
}

int fraud_store_close(struct fraud_store *s) {
        int r;

        if (!s)
                return 0;
        r = fraud_store_flush(s);
        store_release(s);
        return r;
}

/* ---- reads ---- */

static int store_get_cf(struct fraud_store *s, int cf, const void *key, size_t key_len, void *buf,
                        size_t cap) {
        rocksdb_pinnableslice_t *ps;
        const char *v;
        size_t len;
        char *rerr = NULL;

        if (!key || key_len == 0 || key_len > FRAUD_STORE_KEY_MAX)
                return store_fail(s, EINVAL, "get: key of %zu bytes", key_len);
        ps = rocksdb_get_pinned_cf(s->db, s->read, s->cf[cf], key, key_len, &rerr);
        if (rerr)
                return store_fail_rocks(s, "get", rerr);
        if (!ps)
                return -ENOENT;
        v = rocksdb_pinnableslice_value(ps, &len);
        if (len > cap || len > FRAUD_STORE_VALUE_MAX) {
                rocksdb_pinnableslice_destroy(ps);
                return store_fail(s, len > cap ? ENOBUFS : EBADMSG,
                                  "get: value of %zu bytes, buffer of %zu", len, cap);
        }
        if (len)
                memcpy(buf, v, len);
        rocksdb_pinnableslice_destroy(ps);
        return (int)len;
}

int fraud_store_get(struct fraud_store *s, const void *key, size_t key_len, void *buf, size_t cap) {
        return store_get_cf(s, STORE_CF_STATE, key, key_len, buf, cap);
}

int fraud_store_meta_get(struct fraud_store *s, const char *key, void *buf, size_t cap) {
        return store_get_cf(s, STORE_CF_META, key, key ? strnlen(key, FRAUD_STORE_KEY_MAX + 1) : 0,
                            buf, cap);
}

/* ---- offsets ---- */

/* Encodes the key of (topic, partition) into k; returns its length or
 * -EINVAL. */
static int store_offset_key(struct fraud_store *s, const char *topic, int32_t partition,
                            unsigned char k[STORE_OFFSET_KEY_MAX]) {
        size_t n = topic ? strnlen(topic, FRAUD_KAFKA_TOPIC_NAME_MAX + 1) : 0;
        uint32_t p = (uint32_t)partition;

        if (n == 0 || n > FRAUD_KAFKA_TOPIC_NAME_MAX)
                return store_fail(s, EINVAL, "offset: topic of %zu bytes", n);
        if (partition < 0)
                return store_fail(s, EINVAL, "offset: partition %d", (int)partition);
        memcpy(k, topic, n);
        k[n] = '\0';
        k[n + 1] = (unsigned char)(p >> 24);
        k[n + 2] = (unsigned char)(p >> 16);
        k[n + 3] = (unsigned char)(p >> 8);
        k[n + 4] = (unsigned char)p;
        return (int)(n + 5);
}

static void store_u64_encode(unsigned char out[8], uint64_t v) {
        for (int i = 7; i >= 0; i--, v >>= 8)
                out[i] = (unsigned char)v;
}

static uint64_t store_u64_decode(const unsigned char in[8]) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = (v << 8) | in[i];
        return v;
}

int fraud_store_offset_get(struct fraud_store *s, const char *topic, int32_t partition,
                           int64_t *next_offset) {
        unsigned char k[STORE_OFFSET_KEY_MAX];
        unsigned char v[STORE_OFFSET_VALUE_LEN];
        int klen = store_offset_key(s, topic, partition, k);
        int r;

        if (klen < 0)
                return klen;
        r = store_get_cf(s, STORE_CF_OFFSETS, k, (size_t)klen, v, sizeof v);
        if (r < 0)
                return r == -ENOBUFS ? store_fail(s, EBADMSG, "offset: bad value") : r;
        if (r != STORE_OFFSET_VALUE_LEN || store_u64_decode(v) > INT64_MAX)
                return store_fail(s, EBADMSG, "offset: bad value of %d bytes", r);
        *next_offset = (int64_t)store_u64_decode(v);
        return 0;
}

/* Decodes one offsets entry and calls fn with it. */
static int store_offset_visit(struct fraud_store *s, rocksdb_iterator_t *it,
                              int (*fn)(void *, const char *, int32_t, int64_t), void *ctx) {
        char topic[FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
        size_t klen, vlen;
        const unsigned char *k = (const unsigned char *)rocksdb_iter_key(it, &klen);
        const unsigned char *v = (const unsigned char *)rocksdb_iter_value(it, &vlen);
        size_t n = klen >= 5 ? klen - 5 : 0;
        uint32_t p;
        uint64_t off;

        if (n == 0 || n > FRAUD_KAFKA_TOPIC_NAME_MAX || k[n] != '\0' || memchr(k, '\0', n) ||
            vlen != STORE_OFFSET_VALUE_LEN)
                return store_fail(s, EBADMSG, "offsets: malformed entry");
        p = (uint32_t)k[n + 1] << 24 | (uint32_t)k[n + 2] << 16 | (uint32_t)k[n + 3] << 8 |
            (uint32_t)k[n + 4];
        off = store_u64_decode(v);
        if (p > INT32_MAX || off > INT64_MAX)
                return store_fail(s, EBADMSG, "offsets: malformed entry");
        memcpy(topic, k, n);
        topic[n] = '\0';
        return fn(ctx, topic, (int32_t)p, (int64_t)off);
}

int fraud_store_offsets_foreach(struct fraud_store *s,
                                int (*fn)(void *ctx, const char *topic, int32_t partition,
                                          int64_t next_offset),
                                void *ctx) {
        rocksdb_iterator_t *it;
        char *rerr = NULL;
        int r = 0;

        it = rocksdb_create_iterator_cf(s->db, s->read, s->cf[STORE_CF_OFFSETS]);
        for (rocksdb_iter_seek_to_first(it); r == 0 && rocksdb_iter_valid(it);
             rocksdb_iter_next(it))
                r = store_offset_visit(s, it, fn, ctx);
        if (r == 0) {
                rocksdb_iter_get_error(it, &rerr);
                if (rerr)
                        r = store_fail_rocks(s, "offsets", rerr);
        }
        rocksdb_iter_destroy(it);
        return r;
}

/* ---- meta and checkpoints ---- */

int fraud_store_meta_put(struct fraud_store *s, const char *key, const void *value, size_t len) {
        size_t klen = key ? strnlen(key, FRAUD_STORE_KEY_MAX + 1) : 0;
        char *rerr = NULL;

        if (klen == 0 || klen > FRAUD_STORE_KEY_MAX)
                return store_fail(s, EINVAL, "meta: key of %zu bytes", klen);
        if (len > FRAUD_STORE_VALUE_MAX)
                return store_fail(s, E2BIG, "meta: value of %zu bytes", len);
        if (len && !value)
                return store_fail(s, EINVAL, "meta: no value");
        rocksdb_put_cf(s->db, s->write_sync, s->cf[STORE_CF_META], key, klen, len ? value : "", len,
                       &rerr);
        if (rerr)
                return store_fail_rocks(s, "meta", rerr);
        return 0;
}

int fraud_store_checkpoint(struct fraud_store *s, const char *dir) {
        rocksdb_checkpoint_t *cp;
        char *rerr = NULL;

        if (!dir || !dir[0])
                return store_fail(s, EINVAL, "checkpoint: no directory");
        cp = rocksdb_checkpoint_object_create(s->db, &rerr);
        if (rerr)
                return store_fail_rocks(s, "checkpoint", rerr);
        /* 0: always flush memtables first, so the checkpoint needs no WAL. */
        rocksdb_checkpoint_create(cp, dir, 0, &rerr);
        rocksdb_checkpoint_object_destroy(cp);
        if (rerr)
                return store_fail_rocks(s, "checkpoint", rerr);
        return 0;
}

/* RocksDB's integer properties, summed over the column families. */
int fraud_store_size(struct fraud_store *s, struct fraud_store_size *out) {
        static const char *const props[] = {"rocksdb.total-sst-files-size",
                                            "rocksdb.estimate-live-data-size",
                                            "rocksdb.cur-size-all-mem-tables"};
        uint64_t sum[3] = {0, 0, 0};

        for (int p = 0; p < 3; p++)
                for (int cf = 0; cf < STORE_CF_COUNT; cf++) {
                        uint64_t v = 0;
                        if (rocksdb_property_int_cf(s->db, s->cf[cf], props[p], &v) != 0)
                                return store_fail(s, EIO, "size: no property %s", props[p]);
                        sum[p] += v;
                }
        *out = (struct fraud_store_size){
                .sst_bytes = sum[0], .live_data_bytes = sum[1], .memtable_bytes = sum[2]};
        return 0;
}

/* ---- write batches ---- */

struct fraud_store_batch *fraud_store_batch_new(struct fraud_store *s) {
        struct fraud_store_batch *b = calloc(1, sizeof *b);

        assert(s);
        if (!b)
                return NULL;
        b->store = s;
        b->wb = rocksdb_writebatch_create();
        return b;
}

void fraud_store_batch_free(struct fraud_store_batch *b) {
        if (!b)
                return;
        rocksdb_writebatch_destroy(b->wb);
        free(b);
}

void fraud_store_batch_clear(struct fraud_store_batch *b) {
        rocksdb_writebatch_clear(b->wb);
        b->ops = 0;
        b->bytes = 0;
}

size_t fraud_store_batch_count(const struct fraud_store_batch *b) {
        return b->ops;
}

/* Checks that one more operation of the given size fits; counts it. */
static int store_batch_reserve(struct fraud_store_batch *b, size_t bytes) {
        if (b->ops >= FRAUD_STORE_BATCH_OPS_MAX)
                return store_fail(b->store, E2BIG, "batch: %zu operations is the limit", b->ops);
        if (bytes > FRAUD_STORE_BATCH_BYTES_MAX - b->bytes)
                return store_fail(b->store, E2BIG, "batch: %zu + %zu bytes above the limit of %zu",
                                  b->bytes, bytes, (size_t)FRAUD_STORE_BATCH_BYTES_MAX);
        b->ops++;
        b->bytes += bytes;
        return 0;
}

static int store_key_check(struct fraud_store *s, const void *key, size_t key_len) {
        if (!key || key_len == 0)
                return store_fail(s, EINVAL, "batch: empty key");
        if (key_len > FRAUD_STORE_KEY_MAX)
                return store_fail(s, E2BIG, "batch: key of %zu bytes", key_len);
        return 0;
}

int fraud_store_batch_put(struct fraud_store_batch *b, const void *key, size_t key_len,
                          const void *value, size_t len) {
        int r = store_key_check(b->store, key, key_len);

        if (r < 0)
                return r;
        if (len > FRAUD_STORE_VALUE_MAX)
                return store_fail(b->store, E2BIG, "batch: value of %zu bytes", len);
        if (len && !value)
                return store_fail(b->store, EINVAL, "batch: no value");
        r = store_batch_reserve(b, key_len + len);
        if (r < 0)
                return r;
        rocksdb_writebatch_put_cf(b->wb, b->store->cf[STORE_CF_STATE], key, key_len,
                                  len ? value : "", len);
        return 0;
}

int fraud_store_batch_delete(struct fraud_store_batch *b, const void *key, size_t key_len) {
        int r = store_key_check(b->store, key, key_len);

        if (r < 0)
                return r;
        r = store_batch_reserve(b, key_len);
        if (r < 0)
                return r;
        rocksdb_writebatch_delete_cf(b->wb, b->store->cf[STORE_CF_STATE], key, key_len);
        return 0;
}

int fraud_store_batch_delete_range(struct fraud_store_batch *b, const void *begin, size_t begin_len,
                                   const void *end, size_t end_len) {
        int r = store_key_check(b->store, begin, begin_len);

        if (r >= 0)
                r = store_key_check(b->store, end, end_len);
        if (r < 0)
                return r;
        r = store_batch_reserve(b, begin_len + end_len);
        if (r < 0)
                return r;
        rocksdb_writebatch_delete_range_cf(b->wb, b->store->cf[STORE_CF_STATE], begin, begin_len,
                                           end, end_len);
        return 0;
}

int fraud_store_batch_set_offset(struct fraud_store_batch *b, const char *topic, int32_t partition,
                                 int64_t next_offset) {
        unsigned char k[STORE_OFFSET_KEY_MAX];
        unsigned char v[STORE_OFFSET_VALUE_LEN];
        int klen = store_offset_key(b->store, topic, partition, k);
        int r;

        if (klen < 0)
                return klen;
        if (next_offset < 0)
                return store_fail(b->store, EINVAL, "offset: %lld", (long long)next_offset);
        r = store_batch_reserve(b, (size_t)klen + sizeof v);
        if (r < 0)
                return r;
        store_u64_encode(v, (uint64_t)next_offset);
        rocksdb_writebatch_put_cf(b->wb, b->store->cf[STORE_CF_OFFSETS], (const char *)k,
                                  (size_t)klen, (const char *)v, sizeof v);
        return 0;
}

int fraud_store_batch_commit(struct fraud_store_batch *b) {
        char *rerr = NULL;

        if (b->ops == 0)
                return 0;
        rocksdb_write(b->store->db, b->store->write, b->wb, &rerr);
        if (rerr)
                return store_fail_rocks(b->store, "commit", rerr);
        fraud_store_batch_clear(b);
        return 0;
}

/* ---- iterators ---- */

int fraud_store_iter_new(struct fraud_store *s, const void *lower, size_t lower_len,
                         const void *upper, size_t upper_len, struct fraud_store_iter **out) {
        struct fraud_store_iter *it;

        *out = NULL;
        if (lower_len > FRAUD_STORE_KEY_MAX || upper_len > FRAUD_STORE_KEY_MAX ||
            (lower_len && !lower) || (upper_len && !upper))
                return store_fail(s, EINVAL, "iter: bounds of %zu and %zu bytes", lower_len,
                                  upper_len);
        it = calloc(1, sizeof *it);
        if (!it)
                return store_fail(s, ENOMEM, "iter: out of memory");
        it->store = s;
        it->read = rocksdb_readoptions_create();
        if (lower_len) {
                memcpy(it->lower, lower, lower_len);
                rocksdb_readoptions_set_iterate_lower_bound(it->read, it->lower, lower_len);
        }
        if (upper_len) {
                memcpy(it->upper, upper, upper_len);
                rocksdb_readoptions_set_iterate_upper_bound(it->read, it->upper, upper_len);
        }
        it->it = rocksdb_create_iterator_cf(s->db, it->read, s->cf[STORE_CF_STATE]);
        *out = it;
        return 0;
}

int fraud_store_iter_new_prefix(struct fraud_store *s, const void *prefix, size_t prefix_len,
                                struct fraud_store_iter **out) {
        unsigned char upper[FRAUD_STORE_KEY_MAX];
        size_t n = prefix_len;

        *out = NULL;
        if (!prefix || prefix_len == 0 || prefix_len > FRAUD_STORE_KEY_MAX)
                return store_fail(s, EINVAL, "iter: prefix of %zu bytes", prefix_len);
        /* The smallest key above every key with this prefix: drop trailing
         * 0xff bytes and increment the last one left; none left means the
         * range is open above. */
        memcpy(upper, prefix, prefix_len);
        while (n > 0 && upper[n - 1] == 0xff)
                n--;
        if (n > 0)
                upper[n - 1]++;
        return fraud_store_iter_new(s, prefix, prefix_len, n ? upper : NULL, n, out);
}

void fraud_store_iter_free(struct fraud_store_iter *it) {
        if (!it)
                return;
        rocksdb_iter_destroy(it->it);
        rocksdb_readoptions_destroy(it->read);
        free(it);
}

/* 1 on an entry, 0 at the end, -errno when the end was a read error. */
static int store_iter_status(struct fraud_store_iter *it) {
        char *rerr = NULL;

        if (rocksdb_iter_valid(it->it))
                return 1;
        rocksdb_iter_get_error(it->it, &rerr);
        if (rerr)
                return store_fail_rocks(it->store, "iter", rerr);
        return 0;
}

int fraud_store_iter_seek(struct fraud_store_iter *it, const void *key, size_t key_len) {
        if (key)
                rocksdb_iter_seek(it->it, key, key_len);
        else
                rocksdb_iter_seek_to_first(it->it);
        return store_iter_status(it);
}

int fraud_store_iter_next(struct fraud_store_iter *it) {
        if (!rocksdb_iter_valid(it->it))
                return store_iter_status(it);
        rocksdb_iter_next(it->it);
        return store_iter_status(it);
}

bool fraud_store_iter_valid(const struct fraud_store_iter *it) {
        return rocksdb_iter_valid(it->it) != 0;
}

const void *fraud_store_iter_key(const struct fraud_store_iter *it, size_t *len) {
        assert(rocksdb_iter_valid(it->it));
        return rocksdb_iter_key(it->it, len);
}

const void *fraud_store_iter_value(const struct fraud_store_iter *it, size_t *len) {
        assert(rocksdb_iter_valid(it->it));
        return rocksdb_iter_value(it->it, len);
}
