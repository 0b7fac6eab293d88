/* Tests for lib/arena.c: alignment, limits, reset. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/bounds.h"

#include "tests/testing.h"

START_TEST(test_arena_allocations_are_aligned_and_disjoint) {
        struct fraud_arena a;
        char *p[100];

        fraud_arena_init(&a, 0);
        for (int i = 0; i < 100; i++) {
                p[i] = fraud_arena_alloc(&a, (size_t)(1 + i * 37));
                ck_assert_ptr_nonnull(p[i]);
                ck_assert_int_eq((uintptr_t)p[i] % 16, 0);
                memset(p[i], i, (size_t)(1 + i * 37));
        }
        for (int i = 0; i < 100; i++)
                for (int j = 0; j < 1 + i * 37; j++)
                        ck_assert_int_eq((unsigned char)p[i][j], i);
        fraud_arena_release(&a);
}
END_TEST

START_TEST(test_arena_refuses_to_grow_past_its_limit) {
        struct fraud_arena a;

        fraud_arena_init(&a, 10000);
        ck_assert_ptr_nonnull(fraud_arena_alloc(&a, 4000));
        ck_assert_ptr_null(fraud_arena_alloc(&a, 8000));
        ck_assert_ptr_nonnull(fraud_arena_alloc(&a, 1000));
        ck_assert_uint_le(a.bytes_reserved, 10000);
        ck_assert_ptr_null(fraud_arena_alloc(&a, 0));
        fraud_arena_release(&a);
}
END_TEST

START_TEST(test_arena_reset_keeps_one_block_and_forgets_usage) {
        struct fraud_arena a;

        fraud_arena_init(&a, 0);
        for (int i = 0; i < 50; i++)
                ck_assert_ptr_nonnull(fraud_arena_alloc(&a, 1000));
        size_t before = a.bytes_reserved;
        fraud_arena_reset(&a);
        ck_assert_uint_eq(a.bytes_used, 0);
        ck_assert_uint_lt(a.bytes_reserved, before);
        ck_assert_uint_ge(a.bytes_reserved, 1000);
        size_t kept = a.bytes_reserved;
        ck_assert_ptr_nonnull(fraud_arena_alloc(&a, 1000));
        ck_assert_uint_eq(a.bytes_reserved, kept);
        ck_assert_ptr_nonnull(fraud_arena_strndup(&a, "abcdef", 3));
        ck_assert_str_eq(fraud_arena_strndup(&a, "abcdef", 3), "abc");
        fraud_arena_release(&a);
        fraud_arena_release(&a); /* twice is harmless */
}
END_TEST

TESTING_MAIN("arena", test_arena_allocations_are_aligned_and_disjoint,
             test_arena_refuses_to_grow_past_its_limit,
             test_arena_reset_keeps_one_block_and_forgets_usage)
