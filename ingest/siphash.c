/* siphash.c: SipHash-2-4 (see siphash.h).
 *
 * The state is four 64-bit words initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes"; each 8-byte little-endian block is
 * absorbed with two SipRounds, the last block carries the length in its top
 * byte, and finalisation runs four SipRounds (after xoring 0xff into v2, or
 * 0xee for the 128-bit form, whose second half xors 0xdd into v1 and runs
 * four more).
 */
#include "ingest/siphash.h"

#include <stdbool.h>

static uint64_t siphash_rotl(uint64_t x, unsigned b) {
        return (x << b) | (x >> (64 - b));
}

static uint64_t siphash_load64(const uint8_t *p) {
        uint64_t v = 0;

        for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static void siphash_store64(uint8_t *p, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void siphash_rounds(uint64_t v[4], int n) {
        for (int i = 0; i < n; i++) {
                v[0] += v[1];
                v[1] = siphash_rotl(v[1], 13);
                v[1] ^= v[0];
                v[0] = siphash_rotl(v[0], 32);
                v[2] += v[3];
                v[3] = siphash_rotl(v[3], 16);
                v[3] ^= v[2];
                v[0] += v[3];
                v[3] = siphash_rotl(v[3], 21);
                v[3] ^= v[0];
                v[2] += v[1];
                v[1] = siphash_rotl(v[1], 17);
                v[1] ^= v[2];
                v[2] = siphash_rotl(v[2], 32);
        }
}

static void siphash_absorb(uint64_t v[4], uint64_t m) {
        v[3] ^= m;
        siphash_rounds(v, 2);
        v[0] ^= m;
}

static void siphash_run(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len,
                        uint8_t *out, bool wide) {
        const uint8_t *p = in;
        uint64_t k0 = siphash_load64(key), k1 = siphash_load64(key + 8);
        uint64_t v[4] = {k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
                         k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573)};
        uint64_t last = (uint64_t)(len & 0xff) << 56;
        size_t full = len - len % 8;

        if (wide)
                v[1] ^= 0xee;
        for (size_t i = 0; i < full; i += 8)
                siphash_absorb(v, siphash_load64(p + i));
        for (size_t i = 0; i < len % 8; i++)
                last |= (uint64_t)p[full + i] << (8 * i);
        siphash_absorb(v, last);

        v[2] ^= wide ? 0xee : 0xff;
        siphash_rounds(v, 4);
        siphash_store64(out, v[0] ^ v[1] ^ v[2] ^ v[3]);
        if (!wide)
                return;
        v[1] ^= 0xdd;
        siphash_rounds(v, 4);
        siphash_store64(out + 8, v[0] ^ v[1] ^ v[2] ^ v[3]);
}

void siphash_64(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len, uint8_t out[8]) {
        siphash_run(key, in, len, out, false);
}

void siphash_128(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len,
                 uint8_t out[16]) {
        siphash_run(key, in, len, out, true);
}
