/* recent.c: see recent.h. */
#include "scorer/recent.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "lib/hash.h"

#define EMPTY UINT32_MAX /* a free bucket */

struct recent {
        size_t capacity;
        size_t count;
        size_t head; /* next slot to fill (the oldest when full) */
        char (*slots)[FRAUD_SCORER_TXID_MAX];
        uint32_t *buckets; /* slot index or EMPTY */
        size_t mask;       /* buckets - 1 */
};

static uint64_t hash_id(const char *s) {
        uint64_t h = fraud_hash_fnv1a_str(s);

        return h ^ (h >> 29);
}

int recent_new(size_t capacity, struct recent **out) {
        struct recent *r;
        size_t buckets = 2;

        *out = NULL;
        if (capacity == 0 || capacity > FRAUD_SCORER_DEDUP_MAX)
                return -EINVAL;
        while (buckets < capacity * 2)
                buckets <<= 1;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->capacity = capacity;
        r->mask = buckets - 1;
        r->slots = calloc(capacity, sizeof(r->slots[0]));
        r->buckets = malloc(buckets * sizeof(r->buckets[0]));
        if (!r->slots || !r->buckets) {
                recent_free(r);
                return -ENOMEM;
        }
        memset(r->buckets, 0xff, buckets * sizeof(r->buckets[0]));
        *out = r;
        return 0;
}

void recent_free(struct recent *r) {
        if (!r)
                return;
        free(r->slots);
        free(r->buckets);
        free(r);
}

/* The bucket holding id, or the empty bucket where it would go. */
static size_t bucket_find(const struct recent *r, const char *id) {
        size_t b = (size_t)hash_id(id) & r->mask;

        while (r->buckets[b] != EMPTY && strcmp(r->slots[r->buckets[b]], id) != 0)
                b = (b + 1) & r->mask;
        return b;
}

/* Empties bucket b and moves later entries of its probe run back. */
static void bucket_delete(struct recent *r, size_t b) {
        size_t next = (b + 1) & r->mask;

        r->buckets[b] = EMPTY;
        while (r->buckets[next] != EMPTY) {
                size_t home = (size_t)hash_id(r->slots[r->buckets[next]]) & r->mask;
                /* Move back unless home lies cyclically in (b, next]. */
                bool stays = b <= next ? (home > b && home <= next) : (home > b || home <= next);
                if (!stays) {
                        r->buckets[b] = r->buckets[next];
                        r->buckets[next] = EMPTY;
                        b = next;
                }
                next = (next + 1) & r->mask;
        }
}

int recent_check_add(struct recent *r, const char *id) {
        size_t len = strlen(id), b;

        if (len == 0 || len >= FRAUD_SCORER_TXID_MAX)
                return -EINVAL;
        b = bucket_find(r, id);
        if (r->buckets[b] != EMPTY)
                return 1;
        if (r->count == r->capacity) {
                bucket_delete(r, bucket_find(r, r->slots[r->head]));
                r->count--;
                b = bucket_find(r, id);
        }
        memcpy(r->slots[r->head], id, len + 1);
        r->buckets[b] = (uint32_t)r->head;
        r->head = (r->head + 1) % r->capacity;
        r->count++;
        return 0;
}

size_t recent_count(const struct recent *r) {
        return r->count;
}
