/* test_store.c: tests of lib/store.c against real RocksDB databases.
 *
 * Every test works in its own subdirectory of one temporary directory made
 * with mkdtemp; an unchecked fixture (run in the parent process, so also
 * after a failed test) creates it before the tests and removes it after.
 * The crash test forks a writer that commits batches in a loop, kills it
 * with SIGKILL at a moment chosen from a seed printed on failure, and
 * checks that the reopened store holds whole batches only.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "lib/store.h"
#include "tests/testing.h"

static char test_root[PATH_MAX];

static void root_create(void) {
        const char *tmp = getenv("TMPDIR");
        int n = snprintf(test_root, sizeof test_root, "%s/fraud-store-XXXXXX",
                         tmp && tmp[0] ? tmp : "/tmp");

        ck_assert(n > 0 && (size_t)n < sizeof test_root);
        ck_assert_ptr_nonnull(mkdtemp(test_root));
}

static void root_remove(void) {
        testing_tree_remove(test_root);
}

static void path_in_root(char *out, size_t size, const char *name) {
        int n = snprintf(out, size, "%s/%s", test_root, name);

        ck_assert(n > 0 && (size_t)n < size);
}

static struct fraud_store *store_open_ok(const char *path, bool sync) {
        struct fraud_store_options o;
        struct fraud_store *s = NULL;
        char err[FRAUD_STORE_ERROR_MAX];
        int r;

        fraud_store_options_init(&o);
        o.block_cache_bytes = (size_t)4 << 20;
        o.write_buffer_bytes = (size_t)1 << 20;
        o.sync_commit = sync;
        r = fraud_store_open(&s, path, &o, err, sizeof err);
        ck_assert_msg(r == 0, "open %s: %d %s", path, r, err);
        ck_assert_ptr_nonnull(s);
        return s;
}

static void put_str(struct fraud_store_batch *b, const char *k, const char *v) {
        ck_assert_int_eq(fraud_store_batch_put(b, k, strlen(k), v, strlen(v)), 0);
}

static void assert_value(struct fraud_store *s, const char *k, const char *v) {
        char buf[64];
        int r = fraud_store_get(s, k, strlen(k), buf, sizeof buf);

        ck_assert_msg(r == (int)strlen(v), "get %s: %d", k, r);
        ck_assert_mem_eq(buf, v, strlen(v));
}

static void assert_absent(struct fraud_store *s, const char *k) {
        char buf[64];

        ck_assert_int_eq(fraud_store_get(s, k, strlen(k), buf, sizeof buf), -ENOENT);
}

static void assert_offset(struct fraud_store *s, const char *topic, int32_t partition,
                          int64_t want) {
        int64_t got = -1;

        ck_assert_int_eq(fraud_store_offset_get(s, topic, partition, &got), 0);
        ck_assert_int_eq(got, want);
}

/* ---- durability ---- */

START_TEST(test_store_batch_state_and_offsets_survive_reopen_together) {
        char path[PATH_MAX];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        int64_t off;

        path_in_root(path, sizeof path, "reopen");
        s = store_open_ok(path, true);
        b = fraud_store_batch_new(s);
        ck_assert_ptr_nonnull(b);
        put_str(b, "card/1", "a");
        put_str(b, "card/2", "bb");
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx.normalized", 0, 42), 0);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx.normalized", 3, 7), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_uint_eq(fraud_store_batch_count(b), 0);
        fraud_store_batch_free(b);
        ck_assert_int_eq(fraud_store_close(s), 0);

        s = store_open_ok(path, true);
        assert_value(s, "card/1", "a");
        assert_value(s, "card/2", "bb");
        assert_offset(s, "tx.normalized", 0, 42);
        assert_offset(s, "tx.normalized", 3, 7);
        ck_assert_int_eq(fraud_store_offset_get(s, "tx.normalized", 1, &off), -ENOENT);
        ck_assert_int_eq(fraud_store_close(s), 0);
}
END_TEST

START_TEST(test_store_uncommitted_batch_leaves_neither_state_nor_offset) {
        char path[PATH_MAX];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        int64_t off;

        path_in_root(path, sizeof path, "uncommitted");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        ck_assert_ptr_nonnull(b);
        put_str(b, "card/1", "a");
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx", 0, 1), 0);
        fraud_store_batch_free(b);
        ck_assert_int_eq(fraud_store_close(s), 0);

        s = store_open_ok(path, false);
        assert_absent(s, "card/1");
        ck_assert_int_eq(fraud_store_offset_get(s, "tx", 0, &off), -ENOENT);
        fraud_store_close(s);
}
END_TEST

/* ---- a killed writer ---- */

enum {
        CRASH_KEYS = 64, /* keys rewritten by every batch */
        CRASH_PAD = 500, /* so one batch (~33 KiB) spans WAL blocks */
        CRASH_VALUE = 8 + CRASH_PAD,
        CRASH_ROUNDS = 5,
};

static void crash_value(unsigned char *v, int64_t n, int k) {
        for (int i = 7; i >= 0; i--)
                v[7 - i] = (unsigned char)((uint64_t)n >> (8 * i));
        memset(v + 8, (int)((n + k) & 0xff), CRASH_PAD);
}

/* The child: commits batch n = stored offset + 1, + 2, ... until killed,
 * reporting each committed n on fd.  Never returns. */
static void crash_writer(const char *path, int fd, bool sync) {
        struct fraud_store_options o;
        struct fraud_store *s = NULL;
        struct fraud_store_batch *b;
        unsigned char v[CRASH_VALUE];
        char key[16];
        int64_t n = 0;

        alarm(60); /* in case the parent never kills it */
        fraud_store_options_init(&o);
        o.write_buffer_bytes = (size_t)1 << 20;
        o.sync_commit = sync;
        if (fraud_store_open(&s, path, &o, NULL, 0) < 0)
                _exit(2);
        if (fraud_store_offset_get(s, "tx", 0, &n) < 0)
                n = 0;
        b = fraud_store_batch_new(s);
        if (!b)
                _exit(3);
        for (n++;; n++) {
                for (int k = 0; k < CRASH_KEYS; k++) {
                        int kl = snprintf(key, sizeof key, "w/%03d", k);

                        crash_value(v, n, k);
                        if (fraud_store_batch_put(b, key, (size_t)kl, v, sizeof v) < 0)
                                _exit(4);
                }
                if (fraud_store_batch_set_offset(b, "tx", 0, n) < 0 ||
                    fraud_store_batch_commit(b) < 0)
                        _exit(5);
                if (write(fd, &n, sizeof n) < 0 && errno != EAGAIN)
                        _exit(6);
        }
}

/* Reads one reported batch number; 0 at end of file. */
static int crash_read(int fd, int64_t *n) {
        size_t got = 0;

        while (got < sizeof *n) {
                ssize_t r = read(fd, (char *)n + got, sizeof *n - got);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return 0;
                got += (size_t)r;
        }
        return 1;
}

/* Runs the writer until it has reported `wait` batches, lets it run for a
 * few more microseconds, kills it; returns the last batch it reported. */
static int64_t crash_round_run(const char *path, bool sync, int wait, useconds_t delay_usec) {
        int fds[2], status;
        int64_t n, last = 0;
        pid_t pid;

        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                fcntl(fds[1], F_SETFL, O_NONBLOCK);
                crash_writer(path, fds[1], sync);
        }
        close(fds[1]);
        for (int i = 0; i < wait; i++) {
                ck_assert_msg(crash_read(fds[0], &n), "writer stopped early");
                last = n;
        }
        usleep(delay_usec);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "writer exited by itself, status %d", status);
        while (crash_read(fds[0], &n))
                last = n;
        close(fds[0]);
        return last;
}

/* Every key holds the value of the batch named by the stored offset. */
static void crash_check(const char *path, int64_t reported, unsigned seed) {
        struct fraud_store *s = store_open_ok(path, false);
        struct fraud_store_iter *it;
        unsigned char v[CRASH_VALUE], want[CRASH_VALUE];
        char key[16];
        int64_t off = -1;
        int count = 0;

        ck_assert_int_eq(fraud_store_offset_get(s, "tx", 0, &off), 0);
        ck_assert_msg(off >= reported, "seed %u: offset %lld before reported %lld", seed,
                      (long long)off, (long long)reported);
        for (int k = 0; k < CRASH_KEYS; k++) {
                int kl = snprintf(key, sizeof key, "w/%03d", k);
                int r = fraud_store_get(s, key, (size_t)kl, v, sizeof v);

                crash_value(want, off, k);
                ck_assert_msg(r == CRASH_VALUE && memcmp(v, want, sizeof v) == 0,
                              "seed %u: %s is not from batch %lld", seed, key, (long long)off);
        }
        ck_assert_int_eq(fraud_store_iter_new_prefix(s, "w/", 2, &it), 0);
        for (int r = fraud_store_iter_seek(it, NULL, 0); r > 0; r = fraud_store_iter_next(it))
                count++;
        ck_assert_int_eq(count, CRASH_KEYS);
        fraud_store_iter_free(it);
        ck_assert_int_eq(fraud_store_close(s), 0);
}

START_TEST(test_store_killed_writer_leaves_no_half_batch) {
        unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
        unsigned rng = seed;
        char path[PATH_MAX];

        path_in_root(path, sizeof path, "crash");
        /* Rounds reuse the directory: each also recovers the previous crash. */
        for (int round = 0; round < CRASH_ROUNDS; round++) {
                int wait = 3 + rand_r(&rng) % 40;
                useconds_t delay = (useconds_t)(rand_r(&rng) % 3000);
                int64_t reported = crash_round_run(path, round % 2 == 1, wait, delay);

                crash_check(path, reported, seed);
        }
}
END_TEST

/* ---- reads ---- */

START_TEST(test_store_get_of_missing_key_is_enoent) {
        char path[PATH_MAX];
        struct fraud_store *s;
        struct fraud_store_batch *b;

        path_in_root(path, sizeof path, "missing");
        s = store_open_ok(path, false);
        assert_absent(s, "never-written");
        b = fraud_store_batch_new(s);
        put_str(b, "gone", "x");
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_batch_delete(b, "gone", 4), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        assert_absent(s, "gone");
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_get_into_too_small_buffer_is_enobufs) {
        char path[PATH_MAX], buf[4];
        struct fraud_store *s;
        struct fraud_store_batch *b;

        path_in_root(path, sizeof path, "small");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        put_str(b, "k", "0123456789");
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_get(s, "k", 1, buf, sizeof buf), -ENOBUFS);
        ck_assert_str_ne(fraud_store_error(s), "");
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

/* Collects the keys an iterator visits, joined by '|'. */
static void iter_collect(struct fraud_store_iter *it, char *out, size_t size) {
        size_t used = 0;
        int r;

        out[0] = '\0';
        for (r = fraud_store_iter_seek(it, NULL, 0); r > 0; r = fraud_store_iter_next(it)) {
                size_t len;
                const char *k = fraud_store_iter_key(it, &len);

                ck_assert(used + len + 2 <= size);
                memcpy(out + used, k, len);
                used += len;
                out[used++] = '|';
                out[used] = '\0';
        }
        ck_assert_int_eq(r, 0);
}

START_TEST(test_store_prefix_iterator_visits_exactly_prefix_keys_in_order) {
        static const char *const keys[] = {"card/2", "card",   "a",      "card/10", "card0",
                                           "carc",   "card/1", "card/~", "cards",   "card/\x7f"};
        char path[PATH_MAX], seen[256];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        struct fraud_store_iter *it;
        const void *key;
        size_t len;

        path_in_root(path, sizeof path, "prefix");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                put_str(b, keys[i], "v");
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);

        ck_assert_int_eq(fraud_store_iter_new_prefix(s, "card/", 5, &it), 0);
        iter_collect(it, seen, sizeof seen);
        ck_assert_str_eq(seen, "card/1|card/10|card/2|card/~|card/\x7f|");
        ck_assert_int_eq(fraud_store_iter_seek(it, "card/11", 7), 1);
        key = fraud_store_iter_key(it, &len);
        ck_assert_uint_eq(len, 6);
        ck_assert_mem_eq(key, "card/2", 6);
        fraud_store_iter_free(it);
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_prefix_ending_in_0xff_includes_longer_keys_only) {
        char path[PATH_MAX], seen[64];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        struct fraud_store_iter *it;

        path_in_root(path, sizeof path, "prefixff");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        put_str(b, "x\xff", "v");
        put_str(b, "x\xff\xff", "v");
        put_str(b, "x\xfe", "v");
        put_str(b, "y", "v");
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_iter_new_prefix(s, "x\xff", 2, &it), 0);
        iter_collect(it, seen, sizeof seen);
        ck_assert_str_eq(seen, "x\xff|x\xff\xff|");
        fraud_store_iter_free(it);
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_delete_range_removes_only_keys_in_range) {
        char path[PATH_MAX], seen[64];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        struct fraud_store_iter *it;

        path_in_root(path, sizeof path, "range");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        put_str(b, "k1", "v");
        put_str(b, "k2", "v");
        put_str(b, "k3", "v");
        put_str(b, "k4", "v");
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_batch_delete_range(b, "k2", 2, "k4", 2), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_iter_new(s, NULL, 0, NULL, 0, &it), 0);
        iter_collect(it, seen, sizeof seen);
        ck_assert_str_eq(seen, "k1|k4|");
        fraud_store_iter_free(it);
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_store_batch_over_operation_limit_is_e2big_and_keeps_the_rest) {
        char path[PATH_MAX], key[16], buf[4];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        int kl;

        path_in_root(path, sizeof path, "e2big-ops");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        for (int i = 0; i < FRAUD_STORE_BATCH_OPS_MAX; i++) {
                kl = snprintf(key, sizeof key, "k%06d", i);
                ck_assert_int_eq(fraud_store_batch_put(b, key, (size_t)kl, "v", 1), 0);
        }
        ck_assert_int_eq(fraud_store_batch_put(b, "over", 4, "v", 1), -E2BIG);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx", 0, 1), -E2BIG);
        ck_assert_str_ne(fraud_store_error(s), "");
        ck_assert_uint_eq(fraud_store_batch_count(b), FRAUD_STORE_BATCH_OPS_MAX);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        kl = snprintf(key, sizeof key, "k%06d", FRAUD_STORE_BATCH_OPS_MAX - 1);
        ck_assert_int_eq(fraud_store_get(s, key, (size_t)kl, buf, sizeof buf), 1);
        assert_absent(s, "over");
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_batch_over_byte_limit_is_e2big) {
        char path[PATH_MAX], key[16];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        char *big = calloc(1, FRAUD_STORE_VALUE_MAX + 1);
        size_t fits = FRAUD_STORE_BATCH_BYTES_MAX / (FRAUD_STORE_VALUE_MAX + 8);

        ck_assert_ptr_nonnull(big);
        path_in_root(path, sizeof path, "e2big-bytes");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        ck_assert_int_eq(fraud_store_batch_put(b, "k", 1, big, FRAUD_STORE_VALUE_MAX + 1), -E2BIG);
        ck_assert_uint_eq(fraud_store_batch_count(b), 0);
        for (size_t i = 0; i < fits; i++) {
                snprintf(key, sizeof key, "k%07zu", i);
                ck_assert_int_eq(fraud_store_batch_put(b, key, 8, big, FRAUD_STORE_VALUE_MAX), 0);
        }
        ck_assert_int_eq(fraud_store_batch_put(b, "last", 4, big, FRAUD_STORE_VALUE_MAX), -E2BIG);
        ck_assert_uint_eq(fraud_store_batch_count(b), fits);
        fraud_store_batch_free(b);
        fraud_store_close(s);
        free(big);
}
END_TEST

/* ---- offsets, meta, checkpoints ---- */

struct visits {
        char seen[256];
        int calls;
        int stop_at;
};

static int visit_offset(void *ctx, const char *topic, int32_t partition, int64_t next_offset) {
        struct visits *v = ctx;
        size_t used = strlen(v->seen);

        snprintf(v->seen + used, sizeof v->seen - used, "%s/%d=%lld|", topic, (int)partition,
                 (long long)next_offset);
        return ++v->calls == v->stop_at ? 7 : 0;
}

START_TEST(test_store_offsets_foreach_visits_every_offset_by_topic_then_partition) {
        char path[PATH_MAX];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        struct visits v = {.stop_at = 0};

        path_in_root(path, sizeof path, "offsets");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "b", 1, 5), 0);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "a", 10, 3), 0);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "a", 2, 9), 0);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "ab", 0, 1), 0);
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "a", 2, 11), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_offsets_foreach(s, visit_offset, &v), 0);
        ck_assert_str_eq(v.seen, "a/2=11|a/10=3|ab/0=1|b/1=5|");

        memset(&v, 0, sizeof v);
        v.stop_at = 2;
        ck_assert_int_eq(fraud_store_offsets_foreach(s, visit_offset, &v), 7);
        ck_assert_int_eq(v.calls, 2);
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_meta_value_survives_reopen) {
        char path[PATH_MAX], buf[16];
        struct fraud_store *s;

        path_in_root(path, sizeof path, "meta");
        s = store_open_ok(path, false);
        ck_assert_int_eq(fraud_store_meta_put(s, "schema_version", "3", 1), 0);
        ck_assert_int_eq(fraud_store_close(s), 0);
        s = store_open_ok(path, false);
        ck_assert_int_eq(fraud_store_meta_get(s, "schema_version", buf, sizeof buf), 1);
        ck_assert_int_eq(buf[0], '3');
        ck_assert_int_eq(fraud_store_meta_get(s, "other", buf, sizeof buf), -ENOENT);
        assert_absent(s, "schema_version");
        fraud_store_close(s);
}
END_TEST

/* Memtables first, table files after a flush: the figures follow. */
START_TEST(test_store_size_counts_memtables_then_table_files) {
        char path[PATH_MAX], key[16], value[256];
        struct fraud_store_size before, mem, disk;
        struct fraud_store *s;
        struct fraud_store_batch *b;

        path_in_root(path, sizeof path, "size");
        s = store_open_ok(path, false);
        ck_assert_int_eq(fraud_store_size(s, &before), 0);
        ck_assert_uint_eq(before.sst_bytes, 0);
        b = fraud_store_batch_new(s);
        ck_assert_ptr_nonnull(b);
        memset(value, 'v', sizeof value);
        for (int i = 0; i < 1000; i++) {
                snprintf(key, sizeof key, "k%06d", i);
                ck_assert_int_eq(fraud_store_batch_put(b, key, strlen(key), value, sizeof value), 0);
        }
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_size(s, &mem), 0);
        ck_assert_uint_gt(mem.memtable_bytes, before.memtable_bytes + 1000 * sizeof value / 2);
        ck_assert_uint_eq(mem.sst_bytes, 0);
        ck_assert_int_eq(fraud_store_flush(s), 0);
        ck_assert_int_eq(fraud_store_size(s, &disk), 0);
        ck_assert_uint_gt(disk.sst_bytes, 0);
        ck_assert_uint_gt(disk.live_data_bytes, 0);
        fraud_store_batch_free(b);
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_checkpoint_opens_as_store_with_same_contents) {
        char path[PATH_MAX], ckpt[PATH_MAX], buf[8];
        struct fraud_store *s;
        struct fraud_store_batch *b;

        path_in_root(path, sizeof path, "ckpt-src");
        path_in_root(ckpt, sizeof ckpt, "ckpt-dst");
        s = store_open_ok(path, false);
        b = fraud_store_batch_new(s);
        put_str(b, "card/1", "before");
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx", 4, 100), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        ck_assert_int_eq(fraud_store_meta_put(s, "schema_version", "2", 1), 0);
        ck_assert_int_eq(fraud_store_checkpoint(s, ckpt), 0);
        ck_assert_int_eq(fraud_store_checkpoint(s, ckpt), -EEXIST);
        put_str(b, "card/2", "after");
        ck_assert_int_eq(fraud_store_batch_set_offset(b, "tx", 4, 200), 0);
        ck_assert_int_eq(fraud_store_batch_commit(b), 0);
        fraud_store_batch_free(b);
        ck_assert_int_eq(fraud_store_close(s), 0);

        s = store_open_ok(ckpt, false);
        assert_value(s, "card/1", "before");
        assert_absent(s, "card/2");
        assert_offset(s, "tx", 4, 100);
        ck_assert_int_eq(fraud_store_meta_get(s, "schema_version", buf, sizeof buf), 1);
        ck_assert_int_eq(buf[0], '2');
        fraud_store_close(s);
}
END_TEST

/* ---- open failures ---- */

START_TEST(test_store_open_on_unwritable_path_fails_with_errno_and_text) {
        char file[PATH_MAX], path[PATH_MAX], err[FRAUD_STORE_ERROR_MAX];
        static char sentinel;
        struct fraud_store *s = (struct fraud_store *)&sentinel; /* must be reset */
        FILE *f;
        int r;

        /* A path under a regular file cannot be created, even by root. */
        path_in_root(file, sizeof file, "plain-file");
        f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        path_in_root(path, sizeof path, "plain-file/db");
        r = fraud_store_open(&s, path, NULL, err, sizeof err);
        ck_assert_int_lt(r, 0);
        ck_assert_int_eq(r, -ENOTDIR);
        ck_assert_ptr_null(s);
        ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_store_second_open_of_same_path_is_ebusy) {
        char path[PATH_MAX], err[FRAUD_STORE_ERROR_MAX];
        struct fraud_store *s, *t = NULL;

        path_in_root(path, sizeof path, "busy");
        s = store_open_ok(path, false);
        ck_assert_int_eq(fraud_store_open(&t, path, NULL, err, sizeof err), -EBUSY);
        ck_assert_ptr_null(t);
        ck_assert_str_ne(err, "");
        fraud_store_close(s);
}
END_TEST

START_TEST(test_store_open_with_out_of_range_option_is_einval) {
        char path[PATH_MAX], err[FRAUD_STORE_ERROR_MAX];
        struct fraud_store_options o;
        struct fraud_store *s = NULL;

        path_in_root(path, sizeof path, "badopt");
        fraud_store_options_init(&o);
        o.write_buffer_bytes = 1;
        ck_assert_int_eq(fraud_store_open(&s, path, &o, err, sizeof err), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(err, "write_buffer_bytes"));
}
END_TEST

static Suite *store_suite(void) {
        Suite *suite = suite_create("store");
        TCase *tc = tcase_create("store");

        tcase_add_unchecked_fixture(tc, root_create, root_remove);
        tcase_set_timeout(tc, 100);
        tcase_add_test(tc, test_store_batch_state_and_offsets_survive_reopen_together);
        tcase_add_test(tc, test_store_uncommitted_batch_leaves_neither_state_nor_offset);
        tcase_add_test(tc, test_store_killed_writer_leaves_no_half_batch);
        tcase_add_test(tc, test_store_get_of_missing_key_is_enoent);
        tcase_add_test(tc, test_store_get_into_too_small_buffer_is_enobufs);
        tcase_add_test(tc, test_store_prefix_iterator_visits_exactly_prefix_keys_in_order);
        tcase_add_test(tc, test_store_prefix_ending_in_0xff_includes_longer_keys_only);
        tcase_add_test(tc, test_store_delete_range_removes_only_keys_in_range);
        tcase_add_test(tc, test_store_batch_over_operation_limit_is_e2big_and_keeps_the_rest);
        tcase_add_test(tc, test_store_batch_over_byte_limit_is_e2big);
        tcase_add_test(tc, test_store_offsets_foreach_visits_every_offset_by_topic_then_partition);
        tcase_add_test(tc, test_store_meta_value_survives_reopen);
        tcase_add_test(tc, test_store_size_counts_memtables_then_table_files);
        tcase_add_test(tc, test_store_checkpoint_opens_as_store_with_same_contents);
        tcase_add_test(tc, test_store_open_on_unwritable_path_fails_with_errno_and_text);
        tcase_add_test(tc, test_store_second_open_of_same_path_is_ebusy);
        tcase_add_test(tc, test_store_open_with_out_of_range_option_is_einval);
        suite_add_tcase(suite, tc);
        return suite;
}

int main(void) {
        return testing_run(store_suite());
}
