/* Tests for labeler/keymap.c: random puts, reserves, tombstones, forgets,
 * values changed in place, prefetches and gets against a brute-force
 * table (growth and backward-shift deletion included), the walk, a table
 * large enough for huge pages, and the limits. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labeler/keymap.h"
#include "tests/testing.h"

#define KEYS 3000 /* distinct keys of the random test */

struct slot {
        int state; /* 0 absent, 1 value, 2 tombstone */
        unsigned value;
};

static size_t key_of(unsigned k, char *buf) {
        return (size_t)snprintf(buf, 32, "key-%u-%u", k, k * 2654435761u);
}

static void check_all(const struct keymap *m, const struct slot *want) {
        size_t count = 0, bytes = 0, walked = 0, cursor = 0;
        struct keymap_entry e;
        char key[32];

        for (unsigned k = 0; k < KEYS; k++) {
                size_t n = key_of(k, key);
                int found = keymap_get(m, key, n, &e);
                ck_assert_int_eq(found, want[k].state != 0);
                if (!found)
                        continue;
                count++;
                bytes += n;
                ck_assert_int_eq(e.removed, want[k].state == 2);
                if (want[k].state == 1) {
                        ck_assert_uint_eq(e.value_len, sizeof(unsigned));
                        ck_assert_int_eq(memcmp(e.value, &want[k].value, sizeof(unsigned)), 0);
                        bytes += sizeof(unsigned);
                }
        }
        ck_assert_uint_eq(keymap_count(m), count);
        ck_assert_uint_eq(keymap_bytes(m), bytes);
        while (keymap_next(m, &cursor, &e))
                walked++;
        ck_assert_uint_eq(walked, count);
}

START_TEST(test_keymap_equals_a_brute_force_over_random_operations) {
        struct slot *want = calloc(KEYS, sizeof(*want));
        struct keymap *m = NULL;
        uint64_t rng = 12345;
        char key[32];

        ck_assert_ptr_nonnull(want);
        ck_assert_int_eq(keymap_new(KEYS, 1u << 24, &m), 0);
        for (int i = 0; i < 200000; i++) {
                unsigned k, op, v;
                uint8_t *lent;
                size_t n, len;
                rng = rng * 6364136223846793005u + 1442695040888963407u;
                k = (unsigned)(rng >> 33) % KEYS;
                op = (unsigned)(rng >> 20) % 7;
                v = (unsigned)rng;
                n = key_of(k, key);
                if (op < 2) {
                        ck_assert_int_eq(keymap_put(m, key, n, &v, sizeof(v), false), 0);
                        want[k] = (struct slot){1, v};
                } else if (op == 2) {
                        ck_assert_int_eq(keymap_put(m, key, n, NULL, 0, true), 0);
                        want[k] = (struct slot){2, 0};
                } else if (op == 3) {
                        ck_assert_int_eq(keymap_forget(m, key, n), want[k].state != 0);
                        want[k] = (struct slot){0, 0};
                } else if (op == 4) {
                        ck_assert_int_eq(keymap_reserve(m, key, n, sizeof(v), &lent), 0);
                        memcpy(lent, &v, sizeof(v));
                        want[k] = (struct slot){1, v};
                } else if (op == 5) { /* changed in place */
                        lent = keymap_value(m, key, n, &len);
                        ck_assert_int_eq(lent != NULL, want[k].state == 1);
                        if (lent) {
                                ck_assert_uint_eq(len, sizeof(v));
                                memcpy(lent, &v, sizeof(v));
                                want[k].value = v;
                        }
                } else { /* hints change nothing */
                        uint64_t h = keymap_hash(key, n);
                        keymap_prefetch(m, key, n);
                        keymap_prefetch_slot(m, h);
                        keymap_prefetch_item(m, h);
                        keymap_prefetch_value(m, h);
                }
                if (i % 20000 == 0)
                        check_all(m, want);
        }
        check_all(m, want);
        keymap_clear(m);
        memset(want, 0, KEYS * sizeof(*want));
        check_all(m, want);
        keymap_free(m);
        free(want);
}
END_TEST

START_TEST(test_keymap_refuses_inserts_beyond_its_limits_and_stays_unchanged) {
        struct keymap *m = NULL;
        struct keymap_entry e;

        ck_assert_int_eq(keymap_new(2, 20, &m), 0);
        ck_assert_int_eq(keymap_put(m, "a", 1, "12345", 5, false), 0);
        ck_assert_int_eq(keymap_put(m, "b", 1, "12345", 5, false), 0);
        ck_assert_int_eq(keymap_put(m, "c", 1, "1", 1, false), -ENOBUFS);
        ck_assert_int_eq(keymap_put(m, "a", 1, "123456789012345", 15, false), -ENOBUFS);
        ck_assert_int_eq(keymap_get(m, "a", 1, &e), 1);
        ck_assert_uint_eq(e.value_len, 5);
        ck_assert_uint_eq(keymap_bytes(m), 12);
        ck_assert_int_eq(keymap_reserve(m, "a", 1, 15, &(uint8_t *){NULL}), -ENOBUFS);
        ck_assert_int_eq(keymap_put(m, "a", 1, NULL, 0, true), 0); /* replacing fits */
        ck_assert_uint_eq(keymap_bytes(m), 7);
        ck_assert_ptr_null(keymap_value(m, "a", 1, &(size_t){0})); /* a tombstone */
        ck_assert_int_eq(keymap_get(m, "c", 1, &e), 0);
        ck_assert_int_eq(keymap_new(0, 1, &(struct keymap *){NULL}), -EINVAL);
        keymap_free(m);
        keymap_free(NULL);
}
END_TEST

/* 200000 keys: a table of 2^19 slots, 8 MiB, on huge pages when it can. */
START_TEST(test_keymap_large_table_finds_every_key) {
        struct keymap *m = NULL;
        struct keymap_entry e;
        char key[32];
        unsigned n = 200000;

        ck_assert_int_eq(keymap_new(n, 1u << 26, &m), 0);
        for (unsigned k = 0; k < n; k++)
                ck_assert_int_eq(keymap_put(m, key, key_of(k, key), &k, sizeof(k), false), 0);
        for (unsigned k = 0; k < n; k++) {
                ck_assert_int_eq(keymap_get(m, key, key_of(k, key), &e), 1);
                ck_assert_int_eq(memcmp(e.value, &k, sizeof(k)), 0);
        }
        for (unsigned k = 0; k < n; k += 2)
                ck_assert_int_eq(keymap_forget(m, key, key_of(k, key)), 1);
        for (unsigned k = 0; k < n; k++)
                ck_assert_int_eq(keymap_get(m, key, key_of(k, key), &e), (int)(k % 2));
        ck_assert_uint_eq(keymap_count(m), n / 2);
        keymap_free(m);
}
END_TEST

TESTING_MAIN("keymap", test_keymap_equals_a_brute_force_over_random_operations,
             test_keymap_large_table_finds_every_key,
             test_keymap_refuses_inserts_beyond_its_limits_and_stays_unchanged)
