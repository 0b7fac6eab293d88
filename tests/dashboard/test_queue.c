/* Tests for dashboard/queue.c: the bounded insertion-ordered map and the
 * review queue built on it. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dashboard/queue.h"
#include "tests/testing.h"

static struct queue_item item(const char *id, int64_t amount) {
        struct queue_item it;

        memset(&it, 0, sizeof(it));
        snprintf(it.transaction_id, sizeof(it.transaction_id), "%s", id);
        it.amount_minor = amount;
        return it;
}

/* The ids of the open items, newest first, joined by spaces. */
static const char *open_ids(const struct queue *q) {
        static char buf[1024];
        const struct queue_item *it;
        uint32_t cursor = QUEUE_MAP_BEGIN;
        size_t n = 0;

        buf[0] = '\0';
        while ((it = queue_next(q, &cursor)))
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
                                      it->transaction_id);
        ck_assert_ptr_null(queue_next(q, &cursor)); /* stays at the end */
        return buf;
}

START_TEST(test_queue_review_item_opens_once) {
        struct queue *q;
        struct queue_item a = item("tx-1", 100), again = item("tx-1", 999);
        struct queue_counters k;

        ck_assert_int_eq(queue_new(4, &q), 0);
        ck_assert_int_eq(queue_add(q, &a), 0);
        ck_assert_int_eq(queue_add(q, &again), 1);
        ck_assert_uint_eq(queue_count(q), 1);
        ck_assert_int_eq(queue_find(q, "tx-1")->amount_minor, 100); /* the first stays */
        queue_counters(q, &k);
        ck_assert_uint_eq(k.added, 1);
        ck_assert_uint_eq(k.duplicates, 1);
        queue_free(q);
}
END_TEST

START_TEST(test_queue_full_queue_drops_the_oldest_and_counts_it) {
        struct queue *q;
        struct queue_counters k;
        char id[16];

        ck_assert_int_eq(queue_new(3, &q), 0);
        for (int i = 1; i <= 5; i++) {
                struct queue_item it;
                snprintf(id, sizeof(id), "tx-%d", i);
                it = item(id, i);
                ck_assert_int_eq(queue_add(q, &it), 0);
        }
        ck_assert_str_eq(open_ids(q), "tx-5 tx-4 tx-3");
        ck_assert_ptr_null(queue_find(q, "tx-1"));
        queue_counters(q, &k);
        ck_assert_uint_eq(k.dropped, 2);
        ck_assert_uint_eq(queue_capacity(q), 3);
        queue_free(q);
}
END_TEST

START_TEST(test_queue_close_removes_the_item_and_remembers_the_verdict) {
        struct queue *q;
        struct queue_item a = item("tx-1", 1), b = item("tx-2", 2);
        struct queue_counters k;

        ck_assert_int_eq(queue_new(4, &q), 0);
        queue_add(q, &a);
        queue_add(q, &b);
        ck_assert_int_eq(queue_close(q, "tx-1", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_ptr_null(queue_find(q, "tx-1"));
        ck_assert_int_eq(queue_verdict_of(q, "tx-1"), QUEUE_VERDICT_FRAUD);
        ck_assert_int_eq(queue_verdict_of(q, "tx-2"), QUEUE_VERDICT_NONE);
        /* The same Score read again (re-sent, or after a restart) does not
         * reopen it; closing again finds nothing open. */
        ck_assert_int_eq(queue_add(q, &a), 2);
        ck_assert_int_eq(queue_close(q, "tx-1", QUEUE_VERDICT_FRAUD), -ENOENT);
        ck_assert_str_eq(open_ids(q), "tx-2");
        queue_counters(q, &k);
        ck_assert_uint_eq(k.closed, 1);
        ck_assert_uint_eq(k.reopen_refused, 1);
        queue_free(q);
}
END_TEST

START_TEST(test_queue_close_refuses_unknown_ids_and_verdicts) {
        struct queue *q;
        struct queue_item a = item("tx-1", 1);

        ck_assert_int_eq(queue_new(2, &q), 0);
        ck_assert_int_eq(queue_close(q, "nope", QUEUE_VERDICT_FRAUD), -ENOENT);
        queue_add(q, &a);
        ck_assert_int_eq(queue_close(q, "tx-1", QUEUE_VERDICT_NONE), -EINVAL);
        ck_assert_ptr_nonnull(queue_find(q, "tx-1"));
        ck_assert_int_eq(queue_verdict_of(q, "nope"), QUEUE_VERDICT_NONE);
        queue_free(q);
}
END_TEST

/* A verdict read from the topic (another dashboard's) closes the open item;
 * the first verdict for an id is the one remembered. */
START_TEST(test_queue_seen_verdict_closes_and_the_first_wins) {
        struct queue *q;
        struct queue_item a = item("tx-1", 1);
        struct queue_counters k;

        ck_assert_int_eq(queue_new(2, &q), 0);
        queue_add(q, &a);
        ck_assert_int_eq(queue_note_verdict(q, "tx-1", QUEUE_VERDICT_LEGIT), 1);
        ck_assert_int_eq(queue_note_verdict(q, "tx-1", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_int_eq(queue_verdict_of(q, "tx-1"), QUEUE_VERDICT_LEGIT);
        ck_assert_uint_eq(queue_count(q), 0);
        queue_counters(q, &k);
        ck_assert_uint_eq(k.verdicts_seen, 2);
        ck_assert_uint_eq(k.closed_by_seen, 1);
        queue_free(q);
}
END_TEST

/* After a restart the topics are read again in any interleaving: a verdict
 * read before its Score keeps the item closed. */
START_TEST(test_queue_verdict_before_its_score_keeps_the_item_closed) {
        struct queue *q;
        struct queue_item a = item("tx-1", 1);

        ck_assert_int_eq(queue_new(2, &q), 0);
        ck_assert_int_eq(queue_note_verdict(q, "tx-1", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_int_eq(queue_add(q, &a), 2);
        ck_assert_uint_eq(queue_count(q), 0);
        queue_free(q);
}
END_TEST

START_TEST(test_queue_iterates_newest_first_after_removals) {
        struct queue *q;
        char id[16];

        ck_assert_int_eq(queue_new(8, &q), 0);
        for (int i = 1; i <= 6; i++) {
                struct queue_item it;
                snprintf(id, sizeof(id), "t%d", i);
                it = item(id, i);
                queue_add(q, &it);
        }
        ck_assert_int_eq(queue_close(q, "t3", QUEUE_VERDICT_LEGIT), 0);
        ck_assert_int_eq(queue_close(q, "t6", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_int_eq(queue_close(q, "t1", QUEUE_VERDICT_FRAUD), 0);
        ck_assert_str_eq(open_ids(q), "t5 t4 t2");
        {
                struct queue_item it = item("t7", 7);
                queue_add(q, &it);
        }
        ck_assert_str_eq(open_ids(q), "t7 t5 t4 t2");
        queue_free(q);
}
END_TEST

/* Random puts and removes on a small map against a plain array kept in
 * insertion order: membership, values and order agree throughout
 * (evictions, probe runs and backward-shift deletion included). */
START_TEST(test_queue_map_matches_a_reference_over_random_operations) {
        enum { CAP = 16, RANGE = 40, N = 40000 };
        int model[CAP], count = 0; /* keys, oldest first */
        struct queue_map *m;
        uint64_t st = 99;
        char key[16];

        ck_assert_int_eq(queue_map_new(CAP, sizeof(int), &m), 0);
        for (int i = 0; i < N; i++) {
                int k, at = -1;
                void *v;
                st = st * 6364136223846793005ULL + 1442695040888963407ULL;
                k = (int)((st >> 33) % RANGE);
                snprintf(key, sizeof(key), "k%d", k);
                for (int j = 0; j < count; j++)
                        if (model[j] == k)
                                at = j;
                if ((st >> 20) % 3 == 0) { /* remove */
                        ck_assert_int_eq(queue_map_remove(m, key), at >= 0 ? 0 : -ENOENT);
                        if (at >= 0) {
                                memmove(&model[at], &model[at + 1],
                                        (size_t)(count - at - 1) * sizeof(int));
                                count--;
                        }
                } else { /* put */
                        bool dropped;
                        ck_assert_int_eq(queue_map_put(m, key, &v, &dropped), at >= 0 ? 1 : 0);
                        if (at >= 0) {
                                ck_assert_int_eq(*(int *)v, k);
                                ck_assert(!dropped);
                        } else {
                                ck_assert(dropped == (count == CAP));
                                if (count == CAP) {
                                        memmove(&model[0], &model[1], (CAP - 1) * sizeof(int));
                                        count--;
                                }
                                model[count++] = k;
                                *(int *)v = k;
                        }
                }
                ck_assert_uint_eq(queue_map_count(m), (size_t)count);
                {
                        uint32_t cursor = QUEUE_MAP_BEGIN;
                        const char *name;
                        for (int j = count - 1; j >= 0; j--) {
                                int *val = queue_map_next(m, &cursor, &name);
                                ck_assert_ptr_nonnull(val);
                                ck_assert_int_eq(*val, model[j]);
                                snprintf(key, sizeof(key), "k%d", model[j]);
                                ck_assert_str_eq(name, key);
                                ck_assert_ptr_eq(queue_map_get(m, key), val);
                        }
                        ck_assert_ptr_null(queue_map_next(m, &cursor, NULL));
                }
        }
        queue_map_free(m);
}
END_TEST

START_TEST(test_queue_map_refuses_empty_and_overlong_keys) {
        struct queue_map *m;
        char key[DASHBOARD_ID_MAX + 1];
        void *v;

        ck_assert_int_eq(queue_map_new(2, 0, &m), 0);
        ck_assert_int_eq(queue_map_put(m, "", &v, NULL), -EINVAL);
        memset(key, 'x', DASHBOARD_ID_MAX);
        key[DASHBOARD_ID_MAX] = '\0';
        ck_assert_int_eq(queue_map_put(m, key, &v, NULL), -EINVAL);
        key[DASHBOARD_ID_MAX - 1] = '\0';
        ck_assert_int_eq(queue_map_put(m, key, &v, NULL), 0);
        ck_assert_ptr_nonnull(queue_map_get(m, key)); /* a set answers non-NULL */
        queue_map_free(m);
        ck_assert_int_eq(queue_map_new(0, 8, &m), -EINVAL);
}
END_TEST

START_TEST(test_queue_verdict_names_round_trip) {
        ck_assert_int_eq(queue_verdict_parse("fraud"), QUEUE_VERDICT_FRAUD);
        ck_assert_int_eq(queue_verdict_parse("legit"), QUEUE_VERDICT_LEGIT);
        ck_assert_int_eq(queue_verdict_parse("legitimate"), QUEUE_VERDICT_LEGIT);
        ck_assert_int_eq(queue_verdict_parse("Fraud"), QUEUE_VERDICT_NONE);
        ck_assert_int_eq(queue_verdict_parse(""), QUEUE_VERDICT_NONE);
        ck_assert_str_eq(queue_verdict_name(QUEUE_VERDICT_FRAUD), "fraud");
        ck_assert_str_eq(queue_verdict_name(QUEUE_VERDICT_LEGIT), "legit");
}
END_TEST

TESTING_MAIN("queue", test_queue_review_item_opens_once,
             test_queue_full_queue_drops_the_oldest_and_counts_it,
             test_queue_close_removes_the_item_and_remembers_the_verdict,
             test_queue_close_refuses_unknown_ids_and_verdicts,
             test_queue_seen_verdict_closes_and_the_first_wins,
             test_queue_verdict_before_its_score_keeps_the_item_closed,
             test_queue_iterates_newest_first_after_removals,
             test_queue_map_matches_a_reference_over_random_operations,
             test_queue_map_refuses_empty_and_overlong_keys, test_queue_verdict_names_round_trip)
