/* queue.h: the review queue -- payments the scorer sent to REVIEW, waiting
 * for an analyst's verdict -- and the bounded map it is made of.
 *
 * struct queue_map is a map from a string key (a transaction id, shorter
 * than DASHBOARD_ID_MAX bytes) to a fixed-size value, in insertion order,
 * with a fixed capacity: when full, adding a key drops the oldest entry.
 * Entries live in one array of slots linked oldest to newest (a removal
 * from the middle unlinks its slot and gives it back), indexed by an
 * open-addressing hash table with linear probing, at least twice the
 * capacity, whose deletions shift entries back (no tombstones).  Memory
 * is fixed at creation.  The dashboard uses it three times: the open
 * review items, the details of recent transactions waiting for their
 * Score, and the Score ids seen recently (value size 0: a set).
 *
 * struct queue is the review queue proper.  An item is opened by a Score
 * decided REVIEW (queue_add) and closed by a verdict: the analyst's, given
 * on this page (queue_close), or one seen on the chargebacks topic
 * (queue_note_verdict: given by another dashboard, or by this one before
 * a restart).  Verdicts are remembered -- the first one for an id wins --
 * for DASHBOARD_CLOSED_PER_SLOT times the capacity ids, so that
 *   - a second submission of the same verdict is recognised (idempotent),
 *     and one of the other verdict is refused by the caller;
 *   - a REVIEW Score read after its verdict (re-sent by the scorer, or
 *     read again after a restart, when the dashboard rewinds the topics)
 *     does not reopen the item.
 * A full queue drops its oldest item and counts it (dropped): an analyst
 * never sees it, which the page says.  Re-sent Scores of an open item are
 * counted (duplicates) and change nothing.
 *
 * Pure: no I/O, no clock (times are the caller's), one thread.  Items and
 * values are owned by the map; pointers to them stay valid until that
 * entry is removed or dropped.
 */
#ifndef FRAUD_DASHBOARD_QUEUE_H
#define FRAUD_DASHBOARD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard/limits.h"

/* ---- the bounded insertion-ordered map ---- */

struct queue_map;

#define QUEUE_MAP_BEGIN UINT32_MAX /* a fresh iteration cursor */

/* capacity 1..(1 << 24); -EINVAL, -ENOMEM. */
int queue_map_new(size_t capacity, size_t value_size, struct queue_map **out);
/* NULL is a no-op. */
void queue_map_free(struct queue_map *m);

/* Adds key (newest) with a zeroed value and sets *value to it: 0.  When
 * key is there already: 1, *value is its value, nothing moves.  *dropped
 * (may be NULL) says whether the oldest entry was dropped to make room.
 * -EINVAL for an empty key or one of DASHBOARD_ID_MAX bytes or more. */
int queue_map_put(struct queue_map *m, const char *key, void **value, bool *dropped);

/* The value of key, or NULL. */
void *queue_map_get(const struct queue_map *m, const char *key);

/* Removes key: 0, or -ENOENT. */
int queue_map_remove(struct queue_map *m, const char *key);

size_t queue_map_count(const struct queue_map *m);
size_t queue_map_capacity(const struct queue_map *m);

/* Iterates newest to oldest: start with *cursor = QUEUE_MAP_BEGIN; each
 * call returns the next value (its key in *key when key is not NULL), or
 * NULL at the end.  The map must not change during an iteration. */
void *queue_map_next(const struct queue_map *m, uint32_t *cursor, const char **key);

/* ---- the review queue ---- */

enum queue_verdict {
        QUEUE_VERDICT_NONE = 0,
        QUEUE_VERDICT_FRAUD,
        QUEUE_VERDICT_LEGIT,
};

/* What the transaction itself says (from tx.features), when known. */
struct queue_details {
        char merchant_id[DASHBOARD_TEXT_MAX];
        char terminal_id[DASHBOARD_TEXT_MAX];
        char customer_id[DASHBOARD_TEXT_MAX];
        char country[3];    /* ISO 3166-1 alpha-2 */
        char card_last4[5]; /* "" when the source did not give it */
        char card_bin[7];
        uint32_t mcc;
        int channel; /* Fraud__Channel */
};

/* One payment waiting for a verdict: its Score, and its details once seen. */
struct queue_item {
        char transaction_id[DASHBOARD_ID_MAX];
        char card_hash[DASHBOARD_ID_MAX];
        int64_t event_time_us;  /* of the payment */
        int64_t scored_time_us; /* the scorer's wall clock */
        int64_t amount_minor;
        char currency[4];
        double probability;
        int stage; /* Fraud__Stage */
        bool degraded;
        char gbdt_version[DASHBOARD_TEXT_MAX];
        char neural_version[DASHBOARD_TEXT_MAX];
        char rules_version[DASHBOARD_TEXT_MAX];
        size_t n_reasons;
        char reasons[DASHBOARD_REASONS_MAX][DASHBOARD_TEXT_MAX];
        bool has_details;
        struct queue_details details;
};

struct queue_counters {
        uint64_t added;          /* items opened */
        uint64_t duplicates;     /* REVIEW Scores of an item already open */
        uint64_t reopen_refused; /* REVIEW Scores of an id already closed */
        uint64_t dropped;        /* oldest items dropped from a full queue */
        uint64_t closed;         /* items closed here (queue_close) */
        uint64_t verdicts_seen;  /* verdicts noted from the topic */
        uint64_t closed_by_seen; /* open items those verdicts closed */
};

struct queue;

/* capacity 1..DASHBOARD_QUEUE_MAX; -EINVAL, -ENOMEM. */
int queue_new(size_t capacity, struct queue **out);
void queue_free(struct queue *q);

/* Opens item (copied): 0 added (the oldest dropped if the queue was
 * full), 1 already open (a duplicate: nothing changes), 2 already closed
 * (nothing changes), -EINVAL for a bad transaction id. */
int queue_add(struct queue *q, const struct queue_item *item);

/* The open item of id, or NULL. */
struct queue_item *queue_find(const struct queue *q, const char *id);

/* The verdict remembered for id, QUEUE_VERDICT_NONE when none. */
enum queue_verdict queue_verdict_of(const struct queue *q, const char *id);

/* Closes the open item id with verdict (FRAUD or LEGIT), remembering it:
 * 0, or -ENOENT when id is not open, -EINVAL for a bad verdict. */
int queue_close(struct queue *q, const char *id, enum queue_verdict verdict);

/* A verdict seen on the chargebacks topic: remembered unless one is
 * already (the first wins), and the open item id, if any, closed.  1 when
 * an open item was closed, 0 when none was, -EINVAL for a bad id or
 * verdict. */
int queue_note_verdict(struct queue *q, const char *id, enum queue_verdict verdict);

size_t queue_count(const struct queue *q);
size_t queue_capacity(const struct queue *q);

/* Iterates open items newest first (see queue_map_next()). */
const struct queue_item *queue_next(const struct queue *q, uint32_t *cursor);

void queue_counters(const struct queue *q, struct queue_counters *out);

/* "fraud", "legit", "none". */
const char *queue_verdict_name(enum queue_verdict v);
/* Parses "fraud" or "legit" (also "legitimate"): the verdict, or NONE. */
enum queue_verdict queue_verdict_parse(const char *s);

#endif
