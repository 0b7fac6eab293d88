/* Tests for ingest/siphash.c: the reference vectors of the SipHash paper's
 * implementation (key 00..0f, message 00..(n-1)) for both output sizes,
 * covering empty input, partial and whole 8-byte blocks. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "ingest/siphash.h"
#include "tests/testing.h"

static const uint8_t ref_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void message(uint8_t *in, size_t n) {
        for (size_t i = 0; i < n; i++)
                in[i] = (uint8_t)i;
}

START_TEST(test_siphash_128_matches_reference_vectors) {
        static const struct {
                size_t len;
                uint8_t out[16];
        } v[] = {
                {0,
                 {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7,
                  0x55, 0x02, 0x93}},
                {1,
                 {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b,
                  0x22, 0xfc, 0x45}},
                {7,
                 {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f,
                  0xf0, 0x82, 0x39}},
                {8,
                 {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3,
                  0x14, 0x97, 0xb4}},
                {9,
                 {0x26, 0x44, 0x99, 0x06, 0x0a, 0xd9, 0xba, 0xab, 0xc4, 0x7f, 0x8b, 0x02, 0xbb,
                  0x6d, 0x71, 0xed}},
                {15,
                 {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97,
                  0xcf, 0xc3, 0xd9}},
                {16,
                 {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85,
                  0x23, 0x05, 0x77}},
                {63,
                 {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97,
                  0x3f, 0xbd, 0x7c}},
        };
        uint8_t in[64], out[16];

        message(in, sizeof(in));
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                siphash_128(ref_key, in, v[i].len, out);
                ck_assert_msg(memcmp(out, v[i].out, 16) == 0, "length %zu", v[i].len);
        }
}
END_TEST

START_TEST(test_siphash_64_matches_reference_vectors) {
        static const uint8_t empty[8] = {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72};
        static const uint8_t fifteen[8] = {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1};
        uint8_t in[15], out[8];

        message(in, sizeof(in));
        siphash_64(ref_key, in, 0, out);
        ck_assert_mem_eq(out, empty, 8);
        siphash_64(ref_key, in, 15, out);
        ck_assert_mem_eq(out, fifteen, 8);
}
END_TEST

START_TEST(test_siphash_changes_with_every_key_bit) {
        uint8_t key[16], base[16], out[16];

        siphash_128(ref_key, "4147008301893185", 16, base);
        for (int bit = 0; bit < 128; bit++) {
                memcpy(key, ref_key, 16);
                key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                siphash_128(key, "4147008301893185", 16, out);
                ck_assert_msg(memcmp(out, base, 16) != 0, "bit %d", bit);
        }
}
END_TEST

TESTING_MAIN("siphash", test_siphash_128_matches_reference_vectors,
             test_siphash_64_matches_reference_vectors, test_siphash_changes_with_every_key_bit)
