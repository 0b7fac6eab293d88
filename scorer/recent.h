/* recent.h: the transaction ids seen recently, to drop re-sent inputs.
 *
 * A bounded window of the last `capacity` distinct ids, in arrival order:
 * a ring of fixed slots (FRAUD_SCORER_TXID_MAX bytes each, the ids
 * themselves, so two ids never collide) indexed by an open-addressing hash
 * table with linear probing, twice the capacity, whose deletions shift
 * entries back (no tombstones).  When full, the oldest id is forgotten.
 * Memory is fixed at creation: capacity * (FRAUD_SCORER_TXID_MAX + 8)
 * bytes.  It lives in memory only: after a restart the window is empty, so
 * a duplicate across a restart reaches the scores topic, whose consumers
 * de-duplicate by transaction id (DESIGN.md section 4).  Pure.
 */
#ifndef FRAUD_SCORER_RECENT_H
#define FRAUD_SCORER_RECENT_H

#include <stddef.h>

struct recent;

/* capacity in 1..FRAUD_SCORER_DEDUP_MAX; -EINVAL, -ENOMEM. */
int recent_new(size_t capacity, struct recent **out);
/* recent_free(NULL) is a no-op. */
void recent_free(struct recent *r);

/* 1 if id is in the window (nothing changes), 0 if it was not (it is added,
 * the oldest dropped when full), -EINVAL for an empty id or one of
 * FRAUD_SCORER_TXID_MAX bytes or more. */
int recent_check_add(struct recent *r, const char *id);

size_t recent_count(const struct recent *r);

#endif
