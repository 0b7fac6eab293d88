/* siphash.h: SipHash-2-4, the keyed pseudorandom function of Aumasson and
 * Bernstein ("SipHash: a fast short-input PRF", 2012), with its 64-bit and
 * its 128-bit output.
 *
 * Ingest uses the 128-bit form as the card hash: the card number, keyed by
 * a secret 128-bit key, gives an id that is stable for a key, that no one
 * without the key can link back to the card number, and that changes
 * entirely with the key.  Written here from the paper (no third-party code);
 * tests/ingest/test_siphash.c checks it against the reference vectors.
 * Pure: no I/O, no state, no failure.
 */
#ifndef FRAUD_SIPHASH_H
#define FRAUD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16

/* out receives 8 bytes (siphash_64) or 16 bytes (siphash_128), in the byte
 * order of the reference implementation (little-endian words). */
void siphash_64(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len, uint8_t out[8]);
void siphash_128(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len, uint8_t out[16]);

#endif
