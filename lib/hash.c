/* hash.c: see hash.h. */
#include "lib/hash.h"

#include <string.h>

#define FNV1A_PRIME UINT64_C(0x100000001b3)

uint64_t fraud_hash_fnv1a(uint64_t h, const void *data, size_t size) {
        const unsigned char *p = data;

        for (size_t i = 0; i < size; i++)
                h = (h ^ p[i]) * FNV1A_PRIME;
        return h;
}

uint64_t fraud_hash_fnv1a_str(const char *s) {
        return fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, s, strlen(s));
}
