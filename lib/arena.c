/* arena.c: see arena.h.  Blocks form a singly linked chain, newest first;
 * each allocation is carved from the head block or a new block at least
 * twice the previous one (bounded by the arena's limit). */
#include "lib/arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"

#define ARENA_ALIGN 16

struct fraud_arena_block {
        struct fraud_arena_block *next;
        size_t size; /* usable bytes after the header */
        size_t used;
        _Alignas(ARENA_ALIGN) unsigned char data[];
};

void fraud_arena_init(struct fraud_arena *a, size_t bytes_max) {
        *a = (struct fraud_arena){.bytes_max = bytes_max ? bytes_max : FRAUD_ARENA_BYTES_MAX};
}

void fraud_arena_release(struct fraud_arena *a) {
        struct fraud_arena_block *b = a->head, *next;

        for (; b; b = next) {
                next = b->next;
                free(b);
        }
        a->head = NULL;
        a->bytes_reserved = 0;
        a->bytes_used = 0;
}

static struct fraud_arena_block *arena_grow(struct fraud_arena *a, size_t need) {
        size_t size = a->head ? a->head->size * 2 : FRAUD_ARENA_BLOCK_MIN;
        struct fraud_arena_block *b;

        if (size < need)
                size = need;
        if (a->bytes_reserved + size > a->bytes_max) {
                size = a->bytes_max - a->bytes_reserved;
                if (a->bytes_reserved >= a->bytes_max || size < need)
                        return NULL;
        }
        b = malloc(sizeof(*b) + size);
        if (!b)
                return NULL;
        b->next = a->head;
        b->size = size;
        b->used = 0;
        a->head = b;
        a->bytes_reserved += size;
        return b;
}

void *fraud_arena_alloc(struct fraud_arena *a, size_t size) {
        struct fraud_arena_block *b = a->head;
        size_t rounded;
        void *p;

        if (size == 0 || size > a->bytes_max)
                return NULL;
        rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (!b || b->size - b->used < rounded) {
                b = arena_grow(a, rounded);
                if (!b)
                        return NULL;
        }
        p = b->data + b->used;
        b->used += rounded;
        a->bytes_used += rounded;
        assert(((uintptr_t)p % ARENA_ALIGN) == 0);
        return p;
}

void *fraud_arena_memdup(struct fraud_arena *a, const void *p, size_t size) {
        void *q = fraud_arena_alloc(a, size);

        if (q)
                memcpy(q, p, size);
        return q;
}

char *fraud_arena_strndup(struct fraud_arena *a, const char *s, size_t len) {
        char *q = fraud_arena_alloc(a, len + 1);

        if (q) {
                memcpy(q, s, len);
                q[len] = '\0';
        }
        return q;
}

void fraud_arena_reset(struct fraud_arena *a) {
        struct fraud_arena_block *keep = a->head, *b, *next;

        /* Keep the newest block: sizes double, so it is normally the largest. */
        if (!keep)
                return;
        for (b = keep->next; b; b = next) {
                next = b->next;
                free(b);
        }
        keep->next = NULL;
        keep->used = 0;
        a->bytes_reserved = keep->size;
        a->bytes_used = 0;
}

void *fraud_arena_alloc_cb(void *arena, size_t size) {
        return fraud_arena_alloc(arena, size ? size : 1);
}

void fraud_arena_free_cb(void *arena, void *p) {
        (void)arena;
        (void)p; /* released with the arena's reset */
}
