/* window.c: see window.h.
 *
 * Queries walk the history backwards from the newest event at or before t
 * once, snapshotting the running count, sum, max and distinct counts each
 * time the walk crosses a span's left edge, so all spans cost one pass over
 * the longest.  Distinct values go into open-addressed sets whose slots are
 * stamped with a generation, so a query never clears them.
 *
 * A query without attributes (a terminal's: hundreds of events, nothing
 * but counts, sums and maxima) reads the window's index instead, described
 * at struct window_index: per span a search started where the span's edge
 * was last time, a subtraction and a step along the peaks.
 *
 * Store format (little-endian): u8 version, u8 kind, u16 0, u32 events,
 * u32 chargebacks, i64 newest_us; per event i64 t_us, i64 amount and the
 * kind's attributes as u64; per chargeback i64 tx_time_us, i64 arrival_us,
 * u64 tx.
 */
#include "velocity/window.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_FORMAT          1
#define WINDOW_HEADER_SIZE     20
#define WINDOW_PREFETCH_EVENTS 64 /* newest events of a walked window prefetched */

struct window_slot {
        uint64_t key;
        uint32_t gen;
};

/* The index of a window queried without attributes.  Events are numbered:
 * event i is number seq + i (modulo 2^32), and seq grows by one each time
 * the oldest event is dropped, so a number names the same event for as long
 * as it is held and no later event is inserted before it.
 *   pre    per slot, the sum of the amounts of the events before it plus a
 *          base, modulo 2^64 (total: of all the events): the sum of events
 *          [lo, n) is total - pre[slot of lo], which is the int64 sum of a
 *          walk whenever that one does not overflow (both are the true sum
 *          modulo 2^64);
 *   peak   the events whose amount is larger than every later event's
 *          (number and amount), oldest first, in a ring that doubles when
 *          full (a handful for random amounts; n at most): their amounts
 *          decrease, and an event that is not a peak is at most a later
 *          peak, so the largest amount of events [lo, n) is that of the
 *          first peak at or after lo;
 *   edge   the numbers where each span's left edge (and window_label()'s
 *          two edges) fell last time.  Consecutive queries of a window move
 *          their edges by a few events, so a search starts there and widens
 *          by doubling steps.  A hint only: any value gives the same answers.
 * Appending the newest event updates pre and peak in amortized O(1),
 * dropping the oldest in O(1).  A late event (inserted before the newest)
 * or a new ring (growth) makes them invalid until the next query rebuilds
 * them in one pass; a decode starts without an index.  A query before the
 * newest event (a late transaction) walks the events instead.
 */
struct window_peak {
        int64_t amount;
        uint32_t seq;
};

struct window_index {
        bool valid; /* pre, total and peak describe the events */
        uint32_t seq;
        uint32_t cap; /* slots of pre: the window's cap when built */
        uint32_t peak_head, peak_n, peak_cap;
        uint64_t total;
        uint64_t *pre;
        struct window_peak *peak;
        uint32_t edge[FRAUD_FEATURESET_SPANS_MAX + 2]; /* the spans', then the label's */
};

#define WINDOW_EDGE_LABEL FRAUD_FEATURESET_SPANS_MAX

/* The largest window (a card's: 5 attributes, no chargebacks) and a
 * terminal's with every chargeback fit one store value. */
_Static_assert(WINDOW_HEADER_SIZE + (size_t)FRAUD_VELOCITY_HISTORY_EVENTS_MAX * (16 + 8 * 5) <=
                       FRAUD_STORE_VALUE_MAX,
               "a card window must fit a store value");
_Static_assert(WINDOW_HEADER_SIZE + (size_t)FRAUD_VELOCITY_HISTORY_EVENTS_MAX * (16 + 8) +
                               (size_t)FRAUD_VELOCITY_CHARGEBACKS_MAX * 24 <=
                       FRAUD_STORE_VALUE_MAX,
               "a terminal window must fit a store value");

static const uint8_t window_kind_attrs[FRAUD_FEATURESET_ENTITIES] = {
        [FRAUD_FEATURESET_CARD] = 5,
        [FRAUD_FEATURESET_TERMINAL] = 1,
        [FRAUD_FEATURESET_DEVICE] = 2,
        [FRAUD_FEATURESET_IP] = 2,
};

void window_init(struct window *w, enum fraud_featureset_entity kind) {
        memset(w, 0, sizeof(*w));
        w->kind = kind;
        w->newest_us = INT64_MIN;
}

static void window_index_free(struct window_index *ix) {
        if (!ix)
                return;
        free(ix->pre);
        free(ix->peak);
        free(ix);
}

void window_release(struct window *w) {
        free(w->pt);
        free(w->attr);
        free(w->cb);
        window_index_free(w->ix);
        window_init(w, w->kind);
}

static inline uint32_t window_slot(const struct window *w, uint32_t i) {
        return (w->head + i) & (w->cap - 1);
}

static inline const struct window_point *window_at(const struct window *w, uint32_t i) {
        return &w->pt[window_slot(w, i)];
}

static inline uint64_t *window_attrs(const struct window *w, uint32_t slot) {
        return &w->attr[(size_t)slot * window_kind_attrs[w->kind]];
}

/* Copies slot from (of src) into slot to (of w); src may be w. */
static void window_copy(struct window *w, uint32_t to, const struct window *src, uint32_t from) {
        w->pt[to] = src->pt[from];
        memcpy(window_attrs(w, to), window_attrs(src, from),
               window_kind_attrs[w->kind] * sizeof(uint64_t));
}

static int window_alloc(struct window *w, uint32_t cap) {
        w->pt = malloc((size_t)cap * sizeof(*w->pt));
        w->attr = malloc((size_t)cap * window_kind_attrs[w->kind] * sizeof(uint64_t) + 1);
        w->cap = cap;
        w->head = 0;
        return w->pt && w->attr ? 0 : -ENOMEM;
}

/* Number of events with t_us <= t among [lo, hi), plus lo: a binary
 * search whose step is a conditional move, not a branch (the times it
 * compares are as good as random). */
static uint32_t window_search(const struct window *w, int64_t t, uint32_t lo, uint32_t hi) {
        uint32_t len = hi - lo;

        if (len == 0)
                return lo;
        while (len > 1) {
                uint32_t half = len / 2;
                lo = window_at(w, lo + half)->t_us <= t ? lo + half : lo;
                len -= half;
        }
        return lo + (window_at(w, lo)->t_us <= t);
}

/* Number of events with t_us <= t.  Events mostly come in time order, so
 * the newest is tried first. */
static uint32_t window_upper_bound(const struct window *w, int64_t t) {
        if (w->n == 0 || window_at(w, w->n - 1)->t_us <= t)
                return w->n;
        return window_search(w, t, 0, w->n - 1);
}

/* Number of events with t_us <= t, searched outward from event i by
 * doubling steps, then by halving: O(log d) for an answer d events away. */
static uint32_t window_upper_bound_from(const struct window *w, int64_t t, uint32_t i) {
        uint32_t lo, hi, step = 1;

        if (i > w->n)
                i = w->n;
        if (i < w->n && window_at(w, i)->t_us <= t) {
                for (lo = i + 1;; lo = hi + 1, step *= 2) { /* the answer is in [lo, n] */
                        hi = lo + step - 1;
                        if (hi >= w->n || window_at(w, hi)->t_us > t)
                                break;
                }
                return window_search(w, t, lo, hi < w->n ? hi : w->n);
        }
        if (i == 0 || window_at(w, i - 1)->t_us <= t)
                return i;
        for (hi = i - 1;; hi -= step, step *= 2) { /* the answer is in [0, hi], t[hi] > t */
                if (hi < step) {
                        lo = 0;
                        break;
                }
                if (window_at(w, hi - step)->t_us <= t) {
                        lo = hi - step + 1;
                        break;
                }
        }
        return window_search(w, t, lo, hi);
}

/* window_upper_bound() started at edge e's last place, which it updates. */
static uint32_t window_upper_bound_edge(struct window *w, int64_t t, int e) {
        struct window_index *ix = w->ix;
        uint32_t i;

        if (!ix)
                return window_upper_bound(w, t);
        i = window_upper_bound_from(w, t, ix->edge[e] - ix->seq);
        ix->edge[e] = ix->seq + i;
        return i;
}

/* ---- the index (struct window_index) ---- */

static inline struct window_peak *window_peak(const struct window_index *ix, uint32_t k) {
        return &ix->peak[(ix->peak_head + k) & (ix->peak_cap - 1)];
}

/* Doubles the ring of peaks (full).  -ENOMEM. */
static int window_index_grow(struct window_index *ix) {
        uint32_t cap = ix->peak_cap ? 2 * ix->peak_cap : 8;
        struct window_peak *peak = malloc((size_t)cap * sizeof(*peak));

        if (!peak)
                return -ENOMEM;
        for (uint32_t k = 0; k < ix->peak_n; k++)
                peak[k] = *window_peak(ix, k);
        free(ix->peak);
        ix->peak = peak;
        ix->peak_cap = cap;
        ix->peak_head = 0;
        return 0;
}

/* Adds event i, the newest, to the index.  -ENOMEM (the index is then
 * invalid). */
static int window_index_push(struct window *w, uint32_t i) {
        struct window_index *ix = w->ix;
        int64_t amount = window_at(w, i)->amount;

        ix->pre[window_slot(w, i)] = ix->total;
        ix->total += (uint64_t)amount;
        while (ix->peak_n > 0 && window_peak(ix, ix->peak_n - 1)->amount <= amount)
                ix->peak_n--;
        if (ix->peak_n == ix->peak_cap && window_index_grow(ix) < 0) {
                ix->valid = false;
                return -ENOMEM;
        }
        *window_peak(ix, ix->peak_n++) = (struct window_peak){amount, ix->seq + i};
        return 0;
}

/* w's index, rebuilt from the events when it is not valid; NULL without
 * memory for it (the caller walks the events).  w holds events. */
static struct window_index *window_index_get(struct window *w) {
        struct window_index *ix = w->ix;

        assert(w->n > 0);
        if (!ix && !(ix = w->ix = calloc(1, sizeof(*ix))))
                return NULL;
        if (ix->valid)
                return ix;
        if (ix->cap != w->cap) {
                free(ix->pre);
                ix->pre = malloc((size_t)w->cap * sizeof(*ix->pre));
                ix->cap = ix->pre ? w->cap : 0;
                if (!ix->pre)
                        return NULL;
        }
        ix->total = 0;
        ix->peak_head = ix->peak_n = 0;
        for (uint32_t i = 0; i < w->n; i++)
                if (window_index_push(w, i) < 0)
                        return NULL;
        ix->valid = true;
        return ix;
}

/* ---- changes ---- */

static int window_grow(struct window *w, uint32_t events_max) {
        uint32_t cap = w->cap ? w->cap * 2 : 8;
        struct window old = *w;

        while (cap / 2 >= events_max && cap > 8)
                cap /= 2; /* never beyond the power of two that holds events_max */
        if (cap <= w->cap)
                return 0;
        if (window_alloc(w, cap) < 0) {
                free(w->pt);
                free(w->attr);
                *w = old;
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < w->n; i++)
                window_copy(w, i, &old, window_slot(&old, i));
        free(old.pt);
        free(old.attr);
        if (w->ix)
                w->ix->valid = false; /* its arrays have the old ring's size */
        return 0;
}

static void window_drop_oldest(struct window *w) {
        struct window_index *ix = w->ix;

        if (ix) {
                if (ix->valid && window_peak(ix, 0)->seq == ix->seq) {
                        ix->peak_head = (ix->peak_head + 1) & (ix->peak_cap - 1);
                        ix->peak_n--;
                }
                ix->seq++;
        }
        w->head = (w->head + 1) & (w->cap - 1);
        w->n--;
}

static void window_expire(struct window *w, const struct window_limits *lim) {
        int64_t edge = w->newest_us - lim->retention_us;

        while (w->n > 0 && window_at(w, 0)->t_us <= edge)
                window_drop_oldest(w);
        for (uint32_t i = 0; i < w->n_cb;) {
                if (w->cb[i].tx_time_us <= edge)
                        w->cb[i] = w->cb[--w->n_cb];
                else
                        i++;
        }
}

int window_add(struct window *w, const struct window_limits *lim, const struct window_event *e) {
        int truncated = 0;
        uint32_t pos;

        assert(lim->events_max >= 1 && lim->retention_us > 0);
        if (w->n == w->cap && w->cap < lim->events_max && window_grow(w, lim->events_max) < 0)
                return -ENOMEM;
        while (w->n >= lim->events_max || w->n == w->cap) {
                window_drop_oldest(w);
                truncated++;
        }
        pos = window_upper_bound(w, e->t_us);
        for (uint32_t i = w->n; i > pos; i--)
                window_copy(w, window_slot(w, i), w, window_slot(w, i - 1));
        w->pt[window_slot(w, pos)] = (struct window_point){e->t_us, e->amount};
        memcpy(window_attrs(w, window_slot(w, pos)), e->attr,
               window_kind_attrs[w->kind] * sizeof(uint64_t));
        w->n++;
        if (w->ix && w->ix->valid) {
                if (pos == w->n - 1)
                        window_index_push(w, pos); /* on failure, rebuilt when queried */
                else
                        w->ix->valid = false; /* the later events were shifted */
        }
        if (e->t_us > w->newest_us)
                w->newest_us = e->t_us;
        window_expire(w, lim);
        return truncated;
}

bool window_contains(const struct window *w, int64_t t_us, uint64_t tx) {
        for (uint32_t i = window_upper_bound(w, t_us); i-- > 0;) {
                if (window_at(w, i)->t_us != t_us)
                        break;
                if (window_attrs(w, window_slot(w, i))[WINDOW_ATTR_TX] == tx)
                        return true;
        }
        return false;
}

int window_chargeback_add(struct window *w, const struct window_chargeback *c) {
        size_t oldest = 0;

        if (!window_contains(w, c->tx_time_us, c->tx))
                return -ENOENT;
        for (uint32_t i = 0; i < w->n_cb; i++) {
                if (w->cb[i].tx == c->tx && w->cb[i].tx_time_us == c->tx_time_us) {
                        if (c->arrival_us < w->cb[i].arrival_us)
                                w->cb[i].arrival_us = c->arrival_us;
                        return 1;
                }
                if (w->cb[i].tx_time_us < w->cb[oldest].tx_time_us)
                        oldest = i;
        }
        if (w->n_cb == FRAUD_VELOCITY_CHARGEBACKS_MAX) {
                w->cb[oldest] = *c;
                return 0;
        }
        if (w->n_cb == w->cap_cb) {
                uint32_t cap = w->cap_cb ? w->cap_cb * 2 : 4;
                struct window_chargeback *cb = realloc(w->cb, (size_t)cap * sizeof(*cb));
                if (!cb)
                        return -ENOMEM;
                w->cb = cb;
                w->cap_cb = cap;
        }
        w->cb[w->n_cb++] = *c;
        return 0;
}

/* ---- queries ---- */

void window_prefetch(const struct window *w) {
        const struct window_index *ix = w->ix;
        uint32_t na = window_kind_attrs[w->kind];
        uint32_t k = w->n < WINDOW_PREFETCH_EVENTS ? w->n : WINDOW_PREFETCH_EVENTS;

        if (ix && ix->valid) {
                /* The newest event, the peaks and the events and sums where the
                 * edges were last time: next to where they will be. */
                k = 1;
                if (ix->peak_n > 0)
                        __builtin_prefetch(window_peak(ix, ix->peak_n - 1));
                for (size_t e = 0; e < sizeof(ix->edge) / sizeof(ix->edge[0]); e++) {
                        uint32_t i = ix->edge[e] - ix->seq;
                        if (i < w->n) {
                                __builtin_prefetch(window_at(w, i));
                                __builtin_prefetch(&ix->pre[window_slot(w, i)]);
                        }
                }
        }
        for (uint32_t i = w->n - k; i < w->n; i++) {
                uint32_t slot = window_slot(w, i);
                __builtin_prefetch(&w->pt[slot]);
                __builtin_prefetch(&w->attr[(size_t)slot * na]);
        }
}

int window_scratch_init(struct window_scratch *s, uint32_t events_max) {
        memset(s, 0, sizeof(*s));
        s->bits = 4;
        while ((UINT32_C(1) << s->bits) < 2 * events_max)
                s->bits++;
        for (int d = 0; d < 2; d++) {
                s->slots[d] = calloc((size_t)1 << s->bits, sizeof(struct window_slot));
                if (!s->slots[d]) {
                        window_scratch_release(s);
                        return -ENOMEM;
                }
        }
        return 0;
}

void window_scratch_release(struct window_scratch *s) {
        free(s->slots[0]);
        free(s->slots[1]);
        memset(s, 0, sizeof(*s));
}

static void window_scratch_next(struct window_scratch *s) {
        if (++s->gen == 0) {
                for (int d = 0; d < 2; d++)
                        memset(s->slots[d], 0, ((size_t)1 << s->bits) * sizeof(struct window_slot));
                s->gen = 1;
        }
}

/* Adds key to a set of 2^bits slots stamped gen (bits <= s->bits: a
 * query over n events uses about 2n slots, which stay in cache); 1 when it
 * was not there.  Whether a value is new is as good as random, so it is
 * not a branch: a slot that is free or holds key is (re)written alike. */
static unsigned window_scratch_insert(struct window_slot *slots, uint32_t gen, unsigned bits,
                                      uint64_t key) {
        uint32_t mask = (UINT32_C(1) << bits) - 1;
        uint32_t i = (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - bits));

        for (;; i = (i + 1) & mask) {
                struct window_slot *slot = &slots[i];
                bool empty = slot->gen != gen;
                if (empty | (slot->key == key)) {
                        slot->gen = gen;
                        slot->key = key;
                        return empty;
                }
        }
}

/* Spans without attributes at the newest event or after (end == n), from
 * the index.  Returns the longest span's first event. */
static uint32_t window_query_index(struct window *w, const struct window_index *ix,
                                   const struct window_query *q, struct window_result *out) {
        uint32_t lo = w->n, k = ix->peak_n;

        for (size_t j = 0; j < q->n_spans; j++) {
                struct window_stats *st = &out->span[j];

                lo = window_upper_bound_edge(w, q->t_us - q->spans_us[j], (int)j);
                *st = (struct window_stats){0};
                if (lo == w->n)
                        continue;
                st->count = w->n - lo;
                st->sum = (int64_t)(ix->total - ix->pre[window_slot(w, lo)]);
                while (k > 0 && window_peak(ix, k - 1)->seq - ix->seq >= lo)
                        k--; /* spans ascend, so lo only falls */
                st->max = window_peak(ix, k)->amount;
        }
        return lo;
}

/* Spans without attributes before the newest event: each an index range,
 * walked by a tight loop over points for the sum and max.  Returns the
 * longest span's first event. */
static uint32_t window_query_walk(struct window *w, const struct window_query *q, uint32_t end,
                                  struct window_result *out) {
        struct window_stats acc = {0};
        uint32_t hi = end, lo = end;

        for (size_t j = 0; j < q->n_spans; j++) {
                lo = window_upper_bound_edge(w, q->t_us - q->spans_us[j], (int)j);
                assert(lo <= hi); /* spans ascend */
                for (uint32_t i = lo; i < hi; i++) {
                        int64_t amount = window_at(w, i)->amount;
                        if (acc.count == 0 || amount > acc.max)
                                acc.max = amount;
                        acc.count++;
                        acc.sum += amount;
                }
                out->span[j] = acc;
                hi = lo;
        }
        return lo;
}

static void window_query_points(struct window *w, const struct window_query *q, uint32_t end,
                                struct window_result *out) {
        struct window_index *ix = end > 0 && end == w->n ? window_index_get(w) : NULL;
        uint32_t lo = ix ? window_query_index(w, ix, q, out) : window_query_walk(w, q, end, out);

        if (end >= 2 && end - 2 >= lo)
                out->prev_us = window_at(w, end - 2)->t_us;
}

/* Spans with attributes: the walk back from event end - 1 (see the top of
 * the file), with the query's attributes, probes and sets in locals. */
static void window_query_attrs(const struct window *w, const struct window_query *q,
                               struct window_scratch *s, uint32_t end, struct window_result *out) {
        const int *da = q->distinct_attr, *pa = q->probe_attr;
        struct window_stats acc = {0};
        uint32_t hits[WINDOW_PROBES] = {0};
        unsigned bits = 4; /* of the scratch sets: see window_scratch_insert */
        size_t j = 0;

        window_scratch_next(s);
        while (bits < s->bits && (UINT32_C(1) << bits) < 2 * end)
                bits++;
        for (uint32_t i = end; i-- > 0;) {
                const struct window_point *e = window_at(w, i);
                const uint64_t *attr = window_attrs(w, window_slot(w, i));

                while (j < q->n_spans && e->t_us <= q->t_us - q->spans_us[j])
                        out->span[j++] = acc;
                if (j == q->n_spans)
                        break;
                if (i == end - 2)
                        out->prev_us = e->t_us;
                if (acc.count == 0 || e->amount > acc.max)
                        acc.max = e->amount;
                acc.count++;
                acc.sum += e->amount;
                for (int d = 0; d < 2; d++)
                        if (da[d] >= 0)
                                acc.distinct[d] += window_scratch_insert(s->slots[d], s->gen, bits,
                                                                         attr[da[d]]);
                for (int p = 0; p < WINDOW_PROBES; p++)
                        hits[p] += pa[p] >= 0 && attr[pa[p]] == q->probe[p];
        }
        while (j < q->n_spans)
                out->span[j++] = acc;
        memcpy(out->probe_hits, hits, sizeof(hits));
}

void window_query(struct window *w, const struct window_query *q, struct window_scratch *s,
                  struct window_result *out) {
        uint32_t end = window_upper_bound(w, q->t_us);
        bool attrs = q->distinct_attr[0] >= 0 || q->distinct_attr[1] >= 0;

        for (int p = 0; p < WINDOW_PROBES; p++)
                attrs |= q->probe_attr[p] >= 0;
        assert(q->n_spans >= 1 && q->n_spans <= FRAUD_FEATURESET_SPANS_MAX);
        memset(out->probe_hits, 0, sizeof(out->probe_hits));
        out->prev_us = INT64_MIN;
        if (attrs)
                window_query_attrs(w, q, s, end, out);
        else
                window_query_points(w, q, end, out);
}

void window_label(struct window *w, int64_t t_us, int64_t delay_us, int64_t length_us,
                  struct window_label *out) {
        int64_t hi = t_us - delay_us, lo = hi - length_us;

        out->tx_count = (int64_t)window_upper_bound_edge(w, hi, WINDOW_EDGE_LABEL) -
                        (int64_t)window_upper_bound_edge(w, lo, WINDOW_EDGE_LABEL + 1);
        out->fraud_count = 0;
        for (uint32_t i = 0; i < w->n_cb; i++) {
                const struct window_chargeback *c = &w->cb[i];
                if (c->tx_time_us > lo && c->tx_time_us <= hi && c->arrival_us <= t_us)
                        out->fraud_count++;
        }
}

/* ---- serialization ---- */

static uint8_t *window_put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                *p++ = (uint8_t)(v >> (8 * i));
        return p;
}

static const uint8_t *window_get64(const uint8_t *p, uint64_t *v) {
        *v = 0;
        for (int i = 0; i < 8; i++)
                *v |= (uint64_t)p[i] << (8 * i);
        return p + 8;
}

static uint8_t *window_put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                *p++ = (uint8_t)(v >> (8 * i));
        return p;
}

static uint32_t window_get32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t window_event_size(enum fraud_featureset_entity kind) {
        return 16 + 8 * (size_t)window_kind_attrs[kind];
}

size_t window_encoded_size(const struct window *w) {
        return WINDOW_HEADER_SIZE + (size_t)w->n * window_event_size(w->kind) +
               (size_t)w->n_cb * sizeof(struct window_chargeback);
}

size_t window_encode(const struct window *w, uint8_t *buf, size_t cap) {
        size_t size = window_encoded_size(w);
        uint8_t *p = buf;

        if (cap < size)
                return 0;
        *p++ = WINDOW_FORMAT;
        *p++ = (uint8_t)w->kind;
        *p++ = 0;
        *p++ = 0;
        p = window_put32(p, w->n);
        p = window_put32(p, w->n_cb);
        p = window_put64(p, (uint64_t)w->newest_us);
        for (uint32_t i = 0; i < w->n; i++) {
                const struct window_point *e = window_at(w, i);
                const uint64_t *attr = window_attrs(w, window_slot(w, i));
                p = window_put64(p, (uint64_t)e->t_us);
                p = window_put64(p, (uint64_t)e->amount);
                for (int a = 0; a < window_kind_attrs[w->kind]; a++)
                        p = window_put64(p, attr[a]);
        }
        for (uint32_t i = 0; i < w->n_cb; i++) {
                p = window_put64(p, (uint64_t)w->cb[i].tx_time_us);
                p = window_put64(p, (uint64_t)w->cb[i].arrival_us);
                p = window_put64(p, w->cb[i].tx);
        }
        assert((size_t)(p - buf) == size);
        return size;
}

static int window_decode_arrays(struct window *w, uint32_t n, uint32_t n_cb) {
        uint32_t cap = 8;

        while (cap < n)
                cap *= 2;
        w->cb = n_cb ? malloc((size_t)n_cb * sizeof(*w->cb)) : NULL;
        if (window_alloc(w, cap) < 0 || (n_cb && !w->cb))
                return -ENOMEM;
        w->cap_cb = n_cb;
        return 0;
}

int window_decode(struct window *w, const uint8_t *buf, size_t len, uint32_t events_max) {
        enum fraud_featureset_entity kind = w->kind;
        const uint8_t *p = buf + WINDOW_HEADER_SIZE;
        uint32_t n, n_cb;
        uint64_t v;

        if (len < WINDOW_HEADER_SIZE || buf[0] != WINDOW_FORMAT || buf[1] != (uint8_t)kind)
                return -EBADMSG;
        n = window_get32(buf + 4);
        n_cb = window_get32(buf + 8);
        if (n > events_max || n_cb > FRAUD_VELOCITY_CHARGEBACKS_MAX)
                return -E2BIG;
        window_release(w);
        if (len != WINDOW_HEADER_SIZE + (size_t)n * window_event_size(kind) +
                           (size_t)n_cb * sizeof(struct window_chargeback))
                return -EBADMSG;
        if (window_decode_arrays(w, n, n_cb) < 0) {
                window_release(w);
                return -ENOMEM;
        }
        window_get64(buf + 12, &v);
        w->newest_us = (int64_t)v;
        for (w->n = 0; w->n < n; w->n++) {
                struct window_point *e = &w->pt[w->n];
                p = window_get64(p, &v), e->t_us = (int64_t)v;
                p = window_get64(p, &v), e->amount = (int64_t)v;
                for (int a = 0; a < window_kind_attrs[kind]; a++)
                        p = window_get64(p, &window_attrs(w, w->n)[a]);
        }
        for (w->n_cb = 0; w->n_cb < n_cb; w->n_cb++) {
                struct window_chargeback *c = &w->cb[w->n_cb];
                p = window_get64(p, &v), c->tx_time_us = (int64_t)v;
                p = window_get64(p, &v), c->arrival_us = (int64_t)v;
                p = window_get64(p, &c->tx);
        }
        return 0;
}
