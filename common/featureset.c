/* featureset.c: see featureset.h. */
#include "common/featureset.h"

uint64_t fraud_featureset_hash(const char *const *names, size_t n) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < n; i++) {
                for (const unsigned char *p = (const unsigned char *)names[i]; *p; p++) {
                        h ^= *p;
                        h *= UINT64_C(0x100000001b3);
                }
                h ^= '\n';
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}
