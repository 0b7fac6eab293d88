/* window.h: the event history of one entity (a card, a terminal, a device
 * or an IP) and the sliding-window aggregates over it, on event time.
 *
 * Pure: no I/O, no clock, no global state; the same calls give the same
 * answers.  The backtest engine drives it without Kafka, velocity.c through
 * the RocksDB-backed cache of entities.c.
 *
 * A window keeps the entity's events in ascending event time in a ring of
 * at most limits->events_max events (grown by doubling).  Invariants:
 *   - events are sorted by t_us; an event is inserted after every event of
 *     the same or an earlier time (a late event goes to its place, so the
 *     events of one time keep their arrival order);
 *   - an event with t_us <= newest_us - retention_us is dropped (expired):
 *     no window of a transaction that is at most the allowed lateness
 *     behind the entity's newest event can reach it;
 *   - when events_max would be exceeded the oldest event is dropped and
 *     window_add() reports it (truncated): the entity's longest windows then
 *     undercount, which the stage counts and logs.
 *
 * Window convention (lib/time.h): the window of span w at t is (t - w, t]:
 * an event exactly w old is out, an event at t (the current one, once
 * added) is in.  A query sees the events added before it whose time is in
 * the window; a late transaction therefore sees only what had been
 * processed, never an event later than itself.
 *
 * Terminals also keep the chargebacks of their transactions (unordered, at
 * most FRAUD_VELOCITY_CHARGEBACKS_MAX, the oldest by transaction time
 * dropped beyond), for the label-derived features of window_label().
 *
 * A window queried without attributes (a terminal) also keeps an index
 * derived from its events (running sums, the running maxima, where each
 * span's edge fell last time: see window.c), so such a query costs a few
 * steps whatever the history's length.  The index is never stored: it is
 * built by the first such query and rebuilt after what it cannot follow
 * (a late event, a decode); queries and window_label() therefore update the
 * window they read, and answer exactly as a walk over the events would.
 *
 * Ownership: a window owns its arrays and index; window_release() frees
 * them.
 */
#ifndef FRAUD_WINDOW_H
#define FRAUD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/featureset.h"
#include "lib/bounds.h"

/* Attributes an event carries (hashes; 0 = none).  Which are stored
 * depends on the entity: card all five, device and ip TX and CARD,
 * terminal TX only. */
enum window_attr {
        WINDOW_ATTR_TX = 0,       /* the transaction id */
        WINDOW_ATTR_MERCHANT = 1, /* card */
        WINDOW_ATTR_CARD = 1,     /* device, ip */
        WINDOW_ATTR_COUNTRY = 2,  /* card */
        WINDOW_ATTR_DEVICE = 3,   /* card */
        WINDOW_ATTR_IP = 4,       /* card */
        WINDOW_ATTRS = 5,
};

#define WINDOW_PROBES 3 /* attribute values a query counts in its longest span */

struct window_event {
        int64_t t_us;
        int64_t amount; /* reference minor units (velocity/features.h) */
        uint64_t attr[WINDOW_ATTRS];
};

struct window_chargeback {
        int64_t tx_time_us; /* event time of the disputed transaction */
        int64_t arrival_us; /* when the chargeback was received */
        uint64_t tx;        /* hash of the transaction id */
};

/* The time and amount of an event, apart from its attributes, so a scan
 * over a long history reads 16 bytes per event. */
struct window_point {
        int64_t t_us;
        int64_t amount;
};

struct window_index;

struct window {
        enum fraud_featureset_entity kind;
        uint32_t head, n, cap;   /* event i is in slot (head + i) & (cap - 1) */
        struct window_point *pt; /* owned; cap slots; cap is 0 or a power of two */
        uint64_t *attr;          /* owned; cap * (the kind's attributes) */
        uint32_t n_cb, cap_cb;
        struct window_chargeback *cb; /* owned */
        int64_t newest_us;            /* latest event time added; INT64_MIN if none */
        struct window_index *ix;      /* owned; NULL until a query without attributes */
};

struct window_limits {
        int64_t retention_us; /* > 0 */
        uint32_t events_max;  /* 1..FRAUD_VELOCITY_HISTORY_EVENTS_MAX */
};

void window_init(struct window *w, enum fraud_featureset_entity kind);
/* Frees the arrays; w is then empty (window_init state).  Idempotent. */
void window_release(struct window *w);

/* Inserts e in time order and drops what expired.  Returns the number of
 * unexpired events dropped because of events_max (0 normally), or -ENOMEM
 * (w unchanged). */
int window_add(struct window *w, const struct window_limits *lim, const struct window_event *e);

/* Whether an event of time t_us with transaction hash tx is held. */
bool window_contains(const struct window *w, int64_t t_us, uint64_t tx);

/* Records a chargeback of a transaction this (terminal) window holds.
 * Returns 0 when added, 1 when the transaction already had one (the
 * earliest arrival is kept), -ENOENT when the transaction is not held
 * (unknown, expired or truncated: not recorded), -ENOMEM. */
int window_chargeback_add(struct window *w, const struct window_chargeback *c);

/* Scratch memory for distinct counts, sized for events_max; reused by
 * every query (one per thread).  -ENOMEM. */
struct window_scratch {
        uint32_t gen, bits;
        struct window_slot *slots[2]; /* owned */
};
int window_scratch_init(struct window_scratch *s, uint32_t events_max);
void window_scratch_release(struct window_scratch *s);

struct window_query {
        int64_t t_us;
        const int64_t *spans_us; /* ascending, n_spans of them */
        size_t n_spans;
        int distinct_attr[2];          /* attributes counted distinct per span; -1: none */
        int probe_attr[WINDOW_PROBES]; /* -1: none */
        uint64_t probe[WINDOW_PROBES]; /* values counted over the longest span */
};

struct window_stats {
        int64_t count, sum, max; /* max 0 when count is 0 */
        uint32_t distinct[2];
};

struct window_result {
        struct window_stats span[FRAUD_FEATURESET_SPANS_MAX];
        uint32_t probe_hits[WINDOW_PROBES]; /* events in the longest span with that value */
        int64_t prev_us; /* time of the event before the newest one at or before t_us,
                          * within the longest span; INT64_MIN if none */
};

/* Starts loading what a query of w will read first, so that the memory
 * loads of several windows overlap.  Changes nothing. */
void window_prefetch(const struct window *w);

/* Aggregates, per span, the events with time in (t - span, t] (out->span
 * beyond q->n_spans is left as it was).  Changes w's index only, never its
 * events; without memory for the index, the query walks the events. */
void window_query(struct window *w, const struct window_query *q, struct window_scratch *s,
                  struct window_result *out);

/* The label-derived counts at t: transactions with time in
 * (t - delay - length, t - delay], and how many of them have a chargeback
 * received at or before t. */
struct window_label {
        int64_t tx_count, fraud_count;
};
void window_label(struct window *w, int64_t t_us, int64_t delay_us, int64_t length_us,
                  struct window_label *out);

/* Serialization for the store, little-endian, versioned.  encoded_size is
 * exact; encode writes that many bytes into buf (cap at least that).
 * decode replaces w's content (w initialised); -EBADMSG for a value that is
 * not a window of this kind, -E2BIG beyond events_max, -ENOMEM. */
size_t window_encoded_size(const struct window *w);
size_t window_encode(const struct window *w, uint8_t *buf, size_t cap);
int window_decode(struct window *w, const uint8_t *buf, size_t len, uint32_t events_max);

#endif
