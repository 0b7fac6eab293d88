/* Tests for labeler/dbstore.c on a RocksDB in a temporary directory: reads
 * see the pending changes, the due index merges committed and pending
 * entries in order and skips deleted ones, the overlay still fits one
 * write batch when dbstore_full() says stop, and the simulator's stream
 * through the join over RocksDB (committed every few hundred events, the
 * store closed and reopened midway) gives exactly the labels and
 * rejections of the in-memory run, in the same order. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/dbstore.h"
#include "labeler/join.h"
#include "labeler/memstore.h"
#include "lib/store.h"
#include "tests/labeler/kit.h"
#include "tests/testing.h"

#define MATURITY_US (7 * KIT_DAY_US)
#define HORIZON_US  (120 * KIT_DAY_US)

struct db {
        char dir[PATH_MAX];
        struct fraud_store *s;
        struct fraud_store_batch *b;
        struct dbstore *d;
        struct join_store js;
};

static void db_open(struct db *db) {
        struct fraud_store_options o;
        char err[256] = "";

        fraud_store_options_init(&o);
        o.sync_commit = false;
        ck_assert_msg(fraud_store_open(&db->s, db->dir, &o, err, sizeof(err)) == 0, "%s", err);
        db->b = fraud_store_batch_new(db->s);
        ck_assert_ptr_nonnull(db->b);
        ck_assert_int_eq(dbstore_new(db->s, &db->d), 0);
        dbstore_join_store(db->d, &db->js);
}

static void db_init(struct db *db) {
        const char *tmp = getenv("TMPDIR");

        memset(db, 0, sizeof(*db));
        snprintf(db->dir, sizeof(db->dir), "%s/labeler-dbstore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(db->dir));
        db_open(db);
}

static void db_commit(struct db *db) {
        ck_assert_int_eq(dbstore_write(db->d, db->b), 0);
        if (fraud_store_batch_count(db->b) > 0)
                ck_assert_int_eq(fraud_store_batch_commit(db->b), 0);
        dbstore_clear(db->d);
}

static void db_close(struct db *db) {
        dbstore_free(db->d);
        fraud_store_batch_free(db->b);
        ck_assert_int_eq(fraud_store_close(db->s), 0);
}

static void db_release(struct db *db) {
        db_close(db);
        testing_tree_remove(db->dir);
}

START_TEST(test_dbstore_reads_see_pending_changes_and_commits) {
        struct db db;
        char buf[16];

        db_init(&db);
        ck_assert_int_eq(db.js.clock_get(db.js.ctx, buf, sizeof(buf)), -ENOENT);
        ck_assert_int_eq(db.js.record_put(db.js.ctx, "t1", 2, "xyz", 3), 0);
        ck_assert_int_eq(db.js.clock_put(db.js.ctx, "0123456789abcdef", 16), 0);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, sizeof(buf)), 3);
        ck_assert_int_eq(memcmp(buf, "xyz", 3), 0);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, 2), -ENOBUFS);
        db_commit(&db);
        ck_assert_uint_eq(dbstore_pending_keys(db.d), 0);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, sizeof(buf)), 3);
        ck_assert_int_eq(db.js.clock_get(db.js.ctx, buf, sizeof(buf)), 16);
        ck_assert_int_eq(db.js.record_del(db.js.ctx, "t1", 2), 0);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, sizeof(buf)), -ENOENT);
        db_close(&db); /* the delete was never committed */
        db_open(&db);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, sizeof(buf)), 3);
        ck_assert_int_eq(db.js.record_del(db.js.ctx, "t1", 2), 0);
        db_commit(&db);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, "t1", 2, buf, sizeof(buf)), -ENOENT);
        db_release(&db);
}
END_TEST

static void expect_due(const struct join_due *d, int64_t due, const char *id) {
        ck_assert_int_eq(d->due_us, due);
        ck_assert_uint_eq(d->id_len, strlen(id));
        ck_assert_int_eq(memcmp(d->id, id, d->id_len), 0);
}

START_TEST(test_dbstore_due_take_merges_committed_and_pending_in_order) {
        struct join_due out[8];
        struct db db;
        void *c;

        db_init(&db);
        c = db.js.ctx;
        ck_assert_int_eq(db.js.due_put(c, 30, "c", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 10, "a", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 20, "bb", 2), 0);
        db_commit(&db);
        ck_assert_int_eq(db.js.due_put(c, 20, "b", 1), 0);
        ck_assert_int_eq(db.js.due_del(c, 10, "a", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 5, "z", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 26, "y", 1), 0);
        ck_assert_int_eq(db.js.due_take(c, 25, out, 2), 2);
        expect_due(&out[0], 5, "z");
        expect_due(&out[1], 20, "b");
        ck_assert_int_eq(db.js.due_take(c, 25, out, 8), 1);
        expect_due(&out[0], 20, "bb");
        ck_assert_int_eq(db.js.due_take(c, 25, out, 8), 0);
        db_commit(&db);
        ck_assert_int_eq(db.js.due_take(c, INT64_MAX - 1, out, 8), 2);
        expect_due(&out[0], 26, "y");
        expect_due(&out[1], 30, "c");
        db_commit(&db);
        ck_assert_int_eq(db.js.due_take(c, INT64_MAX - 1, out, 8), 0);
        db_release(&db);
}
END_TEST

/* A take that stops at max leaves entries on both sides of where it
 * stopped in RocksDB and in the overlay; after the commit every one of
 * them must still be found, in order. */
START_TEST(test_dbstore_entries_left_by_a_partial_take_are_found_after_a_commit) {
        struct join_due out[8];
        struct db db;
        void *c;

        db_init(&db);
        c = db.js.ctx;
        ck_assert_int_eq(db.js.due_put(c, 10, "a", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 40, "d", 1), 0);
        db_commit(&db);
        ck_assert_int_eq(db.js.due_put(c, 5, "p", 1), 0);
        ck_assert_int_eq(db.js.due_put(c, 6, "q", 1), 0);
        ck_assert_int_eq(db.js.due_take(c, 30, out, 1), 1);
        expect_due(&out[0], 5, "p");
        db_commit(&db);
        ck_assert_int_eq(db.js.due_take(c, 30, out, 1), 1);
        expect_due(&out[0], 6, "q");
        ck_assert_int_eq(db.js.due_take(c, 30, out, 8), 1);
        expect_due(&out[0], 10, "a");
        db_commit(&db);
        ck_assert_int_eq(db.js.due_put(c, 20, "b", 1), 0); /* below where takes reached */
        db_commit(&db);
        ck_assert_int_eq(db.js.due_take(c, 50, out, 8), 2);
        expect_due(&out[0], 20, "b");
        expect_due(&out[1], 40, "d");
        db_release(&db);
}
END_TEST

START_TEST(test_dbstore_pending_changes_fit_one_batch_when_full_says_stop) {
        static uint8_t value[FRAUD_LABELER_RECORD_BYTES_MAX];
        struct db db;
        char id[32];
        int n = 0;

        db_init(&db);
        while (!dbstore_full(db.d)) {
                snprintf(id, sizeof(id), "t%d", n++);
                ck_assert_int_eq(db.js.record_put(db.js.ctx, id, strlen(id), value, sizeof(value)),
                                 0);
                ck_assert_int_eq(db.js.due_put(db.js.ctx, n, id, strlen(id)), 0);
        }
        ck_assert_int_gt(n, 100);
        ck_assert_uint_le(dbstore_pending_bytes(db.d), FRAUD_LABELER_PENDING_BYTES_MAX);
        db_commit(&db);
        snprintf(id, sizeof(id), "t%d", n - 1);
        ck_assert_int_eq(db.js.record_get(db.js.ctx, id, strlen(id), value, sizeof(value)),
                         (int)sizeof(value));
        db_release(&db);
}
END_TEST

/* ---- the simulator's stream, in memory and over RocksDB ---- */

static struct join *join_open(const struct join_store *st, struct kit_out *out) {
        struct join_config c = {MATURITY_US, HORIZON_US, KIT_HOUR_US,
                                FRAUD_LABELER_FEATURES_BYTES_MAX};
        struct join_sink sink = kit_sink(out);
        struct join *j = NULL;

        ck_assert_int_eq(join_new(&c, st, &sink, &j), 0);
        return j;
}

static void run_memory(const struct kit_sim *s, struct kit_out *out) {
        struct memstore *m = NULL;
        struct join_store st;
        struct join *j;
        int64_t offset = 0;

        ck_assert_int_eq(memstore_new(1u << 20, &m), 0);
        memstore_join_store(m, &st);
        j = join_open(&st, out);
        for (size_t i = 0; i < s->n; i++) {
                kit_sim_feed(j, &s->ev[i], &offset);
                if (i % 50 == 0)
                        kit_drain(j);
        }
        kit_drain(j);
        join_free(j);
        memstore_free(m);
}

static uint64_t run_rocksdb(const struct kit_sim *s, struct kit_out *out) {
        struct db db;
        struct join *j;
        int64_t offset = 0;
        uint64_t records;

        db_init(&db);
        j = join_open(&db.js, out);
        for (size_t i = 0; i < s->n; i++) {
                ck_assert(!dbstore_full(db.d));
                kit_sim_feed(j, &s->ev[i], &offset);
                if (i % 50 == 0)
                        kit_drain(j);
                if (i % 317 == 0)
                        db_commit(&db);
                if (i == s->n / 2) { /* a restart: what was committed, nothing else */
                        kit_drain(j);
                        db_commit(&db);
                        join_free(j);
                        db_close(&db);
                        db_open(&db);
                        j = join_open(&db.js, out);
                }
        }
        kit_drain(j);
        db_commit(&db);
        records = join_records(j);
        join_free(j);
        db_release(&db);
        return records;
}

START_TEST(test_dbstore_sim_run_equals_the_in_memory_run_across_commits_and_a_reopen) {
        struct kit_out mem = {0}, rdb = {0};
        struct kit_sim s;
        uint64_t records;

        kit_sim_load(&s, 300, 5);
        run_memory(&s, &mem);
        records = run_rocksdb(&s, &rdb);
        ck_assert_uint_gt(mem.n_labels, 5000);
        ck_assert_uint_gt(records, 1000);
        ck_assert_uint_eq(rdb.n_labels, mem.n_labels);
        for (size_t i = 0; i < mem.n_labels; i++)
                ck_assert_msg(kit_label_equal(&rdb.labels[i], &mem.labels[i]),
                              "label %zu (%s) differs", i, mem.labels[i].id);
        ck_assert_uint_eq(rdb.n_rejects, mem.n_rejects);
        printf("sim: %zu transactions, %zu labels, %llu records open at the end\n", s.n_tx,
               mem.n_labels, (unsigned long long)records);
        kit_out_release(&mem);
        kit_out_release(&rdb);
        free(s.ev);
}
END_TEST

TESTING_MAIN("dbstore", test_dbstore_reads_see_pending_changes_and_commits,
             test_dbstore_due_take_merges_committed_and_pending_in_order,
             test_dbstore_entries_left_by_a_partial_take_are_found_after_a_commit,
             test_dbstore_pending_changes_fit_one_batch_when_full_says_stop,
             test_dbstore_sim_run_equals_the_in_memory_run_across_commits_and_a_reopen)
