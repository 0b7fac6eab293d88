/* hash.h: FNV-1a 64, the one non-keyed hash of the project.
 *
 * Used where a stable, fast, non-cryptographic hash is wanted: the feature
 * schema hash (common/featureset.c, part of the wire contract), the mlp.bin
 * checksum, hash tables of ids.  Not for anything an adversary chooses to
 * collide with (the card hash is keyed: ingest/siphash.c).
 *
 * fraud_hash_fnv1a() continues from h, so pieces can be hashed in turn:
 *   h = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, a, na);
 *   h = fraud_hash_fnv1a(h, b, nb);
 */
#ifndef FRAUD_HASH_H
#define FRAUD_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FRAUD_HASH_FNV1A_INIT UINT64_C(0xcbf29ce484222325)

uint64_t fraud_hash_fnv1a(uint64_t h, const void *data, size_t size);

/* The hash of a NUL-terminated string, from FRAUD_HASH_FNV1A_INIT. */
uint64_t fraud_hash_fnv1a_str(const char *s);

#endif
