/* Tests for scorer/recent.c: the bounded window of recent transaction ids. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/bounds.h"
#include "scorer/recent.h"
#include "tests/testing.h"

START_TEST(test_recent_second_sighting_is_a_duplicate) {
        struct recent *r;

        ck_assert_int_eq(recent_new(4, &r), 0);
        ck_assert_int_eq(recent_check_add(r, "tx-1"), 0);
        ck_assert_int_eq(recent_check_add(r, "tx-2"), 0);
        ck_assert_int_eq(recent_check_add(r, "tx-1"), 1);
        ck_assert_uint_eq(recent_count(r), 2);
        recent_free(r);
}
END_TEST

START_TEST(test_recent_forgets_the_oldest_when_full) {
        struct recent *r;

        ck_assert_int_eq(recent_new(3, &r), 0);
        ck_assert_int_eq(recent_check_add(r, "a"), 0);
        ck_assert_int_eq(recent_check_add(r, "b"), 0);
        ck_assert_int_eq(recent_check_add(r, "c"), 0);
        ck_assert_int_eq(recent_check_add(r, "d"), 0); /* a is forgotten */
        ck_assert_int_eq(recent_check_add(r, "b"), 1);
        ck_assert_int_eq(recent_check_add(r, "a"), 0);
        ck_assert_uint_eq(recent_count(r), 3);
        recent_free(r);
}
END_TEST

/* Random ids through a small window against a reference FIFO: an id is a
 * duplicate exactly while it is among the last CAP distinct ids added
 * (exercises probe runs and backward-shift deletion). */
START_TEST(test_recent_window_matches_reference_over_many_evictions) {
        enum { CAP = 64, RANGE = 200, N = 50000 };
        int fifo[CAP], head = 0, count = 0;
        uint64_t st = 1;
        struct recent *r;
        char id[32];

        ck_assert_int_eq(recent_new(CAP, &r), 0);
        for (int i = 0; i < N; i++) {
                int v, want = 0;
                st = st * 6364136223846793005ULL + 1442695040888963407ULL;
                v = (int)((st >> 33) % RANGE);
                for (int k = 0; k < count; k++)
                        want |= fifo[k] == v;
                snprintf(id, sizeof(id), "tx-%d", v);
                ck_assert_int_eq(recent_check_add(r, id), want);
                if (!want) {
                        fifo[head] = v;
                        head = (head + 1) % CAP;
                        count += count < CAP;
                }
        }
        recent_free(r);
}
END_TEST

START_TEST(test_recent_refuses_empty_and_overlong_ids) {
        struct recent *r;
        char id[FRAUD_SCORER_TXID_MAX + 1];

        ck_assert_int_eq(recent_new(2, &r), 0);
        ck_assert_int_eq(recent_check_add(r, ""), -EINVAL);
        memset(id, 'x', FRAUD_SCORER_TXID_MAX);
        id[FRAUD_SCORER_TXID_MAX] = '\0';
        ck_assert_int_eq(recent_check_add(r, id), -EINVAL);
        id[FRAUD_SCORER_TXID_MAX - 1] = '\0';
        ck_assert_int_eq(recent_check_add(r, id), 0);
        recent_free(r);
        ck_assert_int_eq(recent_new(0, &r), -EINVAL);
        ck_assert_int_eq(recent_new(FRAUD_SCORER_DEDUP_MAX + 1, &r), -EINVAL);
        recent_free(NULL);
}
END_TEST

TESTING_MAIN("recent", test_recent_second_sighting_is_a_duplicate,
             test_recent_forgets_the_oldest_when_full,
             test_recent_window_matches_reference_over_many_evictions,
             test_recent_refuses_empty_and_overlong_ids)
