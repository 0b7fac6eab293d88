/* Tests for labeler/keymap.c: random puts, tombstones, forgets and gets
 * against a brute-force table (growth and backward-shift deletion
 * included), the walk, and the limits. */
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
                size_t n;
                rng = rng * 6364136223846793005u + 1442695040888963407u;
                k = (unsigned)(rng >> 33) % KEYS;
                op = (unsigned)(rng >> 20) % 4;
                v = (unsigned)rng;
                n = key_of(k, key);
                if (op < 2) {
                        ck_assert_int_eq(keymap_put(m, key, n, &v, sizeof(v), false), 0);
                        want[k] = (struct slot){1, v};
                } else if (op == 2) {
                        ck_assert_int_eq(keymap_put(m, key, n, NULL, 0, true), 0);
                        want[k] = (struct slot){2, 0};
                } else {
                        ck_assert_int_eq(keymap_forget(m, key, n), want[k].state != 0);
                        want[k] = (struct slot){0, 0};
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
        ck_assert_int_eq(keymap_put(m, "a", 1, NULL, 0, true), 0); /* replacing fits */
        ck_assert_uint_eq(keymap_bytes(m), 7);
        ck_assert_int_eq(keymap_get(m, "c", 1, &e), 0);
        ck_assert_int_eq(keymap_new(0, 1, &(struct keymap *){NULL}), -EINVAL);
        keymap_free(m);
        keymap_free(NULL);
}
END_TEST

TESTING_MAIN("keymap", test_keymap_equals_a_brute_force_over_random_operations,
             test_keymap_refuses_inserts_beyond_its_limits_and_stays_unchanged)
