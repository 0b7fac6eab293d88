/* arena.h: a per-batch bump allocator.
 *
 * A stage allocates everything one batch needs (decoded messages, encoded
 * outputs, scratch strings) from an arena and releases it all at once with
 * fraud_arena_reset() when the batch is done, so the hot loop never calls
 * free() and cannot leak between batches.  Memory comes in blocks of at
 * least FRAUD_ARENA_BLOCK_MIN; after a reset the largest block is kept and
 * reused.  An arena never grows past its byte limit: allocation then
 * returns NULL, and the caller fails the batch with -ENOMEM.
 */
#ifndef FRAUD_ARENA_H
#define FRAUD_ARENA_H

#include <stddef.h>

struct fraud_arena_block;

struct fraud_arena {
        struct fraud_arena_block *head; /* current block, owns the chain */
        size_t bytes_max;               /* limit over all blocks */
        size_t bytes_reserved;          /* sum of block sizes */
        size_t bytes_used;              /* handed out since the last reset */
};

/* bytes_max 0 means FRAUD_ARENA_BYTES_MAX. */
void fraud_arena_init(struct fraud_arena *a, size_t bytes_max);
void fraud_arena_release(struct fraud_arena *a);

/* 16-byte aligned; NULL when the limit would be exceeded or size is 0. */
void *fraud_arena_alloc(struct fraud_arena *a, size_t size);
void *fraud_arena_memdup(struct fraud_arena *a, const void *p, size_t size);
char *fraud_arena_strndup(struct fraud_arena *a, const char *s, size_t len);

/* An allocator's pair of callbacks over the arena passed as opaque (the
 * shape of protobuf-c's ProtobufCAllocator): allocation never fails for
 * size 0, freeing is a no-op until the reset. */
void *fraud_arena_alloc_cb(void *arena, size_t size);
void fraud_arena_free_cb(void *arena, void *p);

/* Forgets every allocation; keeps the largest block for the next batch. */
void fraud_arena_reset(struct fraud_arena *a);

#endif
