/* Tests for velocity/window.c: window edges, late events, expiry,
 * truncation, distinct counts, label counts, serialization. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"
#include "velocity/window.h"

#include "tests/testing.h"

#define T0  (INT64_C(20454) * FRAUD_USEC_PER_DAY) /* 2026-01-01 */
#define SEC FRAUD_USEC_PER_SEC

static const int64_t spans[] = {60 * SEC, 3600 * SEC};
static const struct window_limits limits = {.retention_us = 7200 * SEC, .events_max = 64};

static void add(struct window *w, int64_t t, int64_t amount, uint64_t tx, uint64_t a1) {
        struct window_event e = {.t_us = t, .amount = amount, .attr = {tx, a1, 0, 0, 0}};
        ck_assert_int_eq(window_add(w, &limits, &e), 0);
}

static void query(struct window *w, int64_t t, int distinct, struct window_result *r) {
        struct window_scratch s;
        struct window_query q = {
                .t_us = t,
                .spans_us = spans,
                .n_spans = 2,
                .distinct_attr = {distinct, -1},
                .probe_attr = {WINDOW_ATTR_CARD, -1, -1},
                .probe = {7, 0, 0},
        };
        ck_assert_int_eq(window_scratch_init(&s, limits.events_max), 0);
        window_query(w, &q, &s, r);
        window_scratch_release(&s);
}

START_TEST(test_window_excludes_event_at_left_edge) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0 - 60 * SEC, 100, 1, 0);
        add(&w, T0 - 60 * SEC + 1, 10, 2, 0);
        add(&w, T0, 1, 3, 0);
        query(&w, T0, -1, &r);
        ck_assert_int_eq(r.span[0].count, 2);
        ck_assert_int_eq(r.span[0].sum, 11);
        ck_assert_int_eq(r.span[1].count, 3);
        window_release(&w);
}
END_TEST

START_TEST(test_window_includes_event_at_t) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0, 5, 1, 0);
        query(&w, T0, -1, &r);
        ck_assert_int_eq(r.span[0].count, 1);
        ck_assert_int_eq(r.span[0].max, 5);
        query(&w, T0 - 1, -1, &r);
        ck_assert_int_eq(r.span[0].count, 0);
        window_release(&w);
}
END_TEST

START_TEST(test_window_late_event_sees_no_later_event) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0, 100, 1, 0);
        add(&w, T0 - 30 * SEC, 7, 2, 0); /* late: inserted before T0 */
        query(&w, T0 - 30 * SEC, -1, &r);
        ck_assert_int_eq(r.span[0].count, 1);
        ck_assert_int_eq(r.span[0].sum, 7);
        query(&w, T0, -1, &r);
        ck_assert_int_eq(r.span[0].count, 2);
        ck_assert_int_eq(r.prev_us, T0 - 30 * SEC);
        window_release(&w);
}
END_TEST

START_TEST(test_window_max_is_largest_amount_of_each_span) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0 - 600 * SEC, 900, 1, 0);
        add(&w, T0 - 10 * SEC, 30, 2, 0);
        add(&w, T0, 20, 3, 0);
        query(&w, T0, -1, &r);
        ck_assert_int_eq(r.span[0].max, 30);
        ck_assert_int_eq(r.span[1].max, 900);
        ck_assert_int_eq(r.span[1].sum, 950);
        window_release(&w);
}
END_TEST

START_TEST(test_window_query_without_attributes_gives_the_same_spans) {
        struct window_scratch s;
        struct window w;
        struct window_result r;
        struct window_query q = {.t_us = T0,
                                 .spans_us = spans,
                                 .n_spans = 2,
                                 .distinct_attr = {-1, -1},
                                 .probe_attr = {-1, -1, -1}};

        window_init(&w, FRAUD_FEATURESET_TERMINAL);
        add(&w, T0 - 3600 * SEC, 1000, 1, 0); /* on the 1 h edge: out */
        add(&w, T0 - 600 * SEC, 900, 2, 0);
        add(&w, T0 - 60 * SEC, 500, 3, 0); /* on the 1 m edge */
        add(&w, T0 - 10 * SEC, 30, 4, 0);
        add(&w, T0, 20, 5, 0);
        add(&w, T0 + SEC, 7000, 6, 0); /* later than t: out */
        ck_assert_int_eq(window_scratch_init(&s, limits.events_max), 0);
        window_query(&w, &q, &s, &r);
        ck_assert_int_eq(r.span[0].count, 2);
        ck_assert_int_eq(r.span[0].sum, 50);
        ck_assert_int_eq(r.span[0].max, 30);
        ck_assert_int_eq(r.span[1].count, 4);
        ck_assert_int_eq(r.span[1].sum, 1450);
        ck_assert_int_eq(r.span[1].max, 900);
        ck_assert_int_eq(r.prev_us, T0 - 10 * SEC);
        window_scratch_release(&s);
        window_release(&w);
}
END_TEST

START_TEST(test_window_counts_distinct_values_per_span) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_DEVICE);
        add(&w, T0 - 1000 * SEC, 1, 1, 7);
        add(&w, T0 - 900 * SEC, 1, 2, 8);
        add(&w, T0 - 20 * SEC, 1, 3, 7);
        add(&w, T0, 1, 4, 7);
        query(&w, T0, WINDOW_ATTR_CARD, &r);
        ck_assert_uint_eq(r.span[0].distinct[0], 1);
        ck_assert_uint_eq(r.span[1].distinct[0], 2);
        ck_assert_uint_eq(r.probe_hits[0], 3); /* value 7 over the longest span */
        window_release(&w);
}
END_TEST

START_TEST(test_window_expires_events_beyond_retention) {
        struct window w;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0 - 7200 * SEC, 1, 1, 0);
        add(&w, T0 - 7199 * SEC, 1, 2, 0);
        add(&w, T0, 1, 3, 0);
        ck_assert_uint_eq(w.n, 2);
        ck_assert(!window_contains(&w, T0 - 7200 * SEC, 1));
        ck_assert(window_contains(&w, T0 - 7199 * SEC, 2));
        window_release(&w);
}
END_TEST

START_TEST(test_window_drops_oldest_beyond_events_max_and_reports_it) {
        const struct window_limits small = {.retention_us = 7200 * SEC, .events_max = 3};
        struct window w;
        int dropped = 0;

        window_init(&w, FRAUD_FEATURESET_TERMINAL);
        for (int i = 0; i < 5; i++) {
                struct window_event e = {.t_us = T0 + i, .amount = 1, .attr = {(uint64_t)i + 1}};
                int r = window_add(&w, &small, &e);
                ck_assert_int_ge(r, 0);
                dropped += r;
        }
        ck_assert_int_eq(dropped, 2);
        ck_assert_uint_eq(w.n, 3);
        ck_assert(!window_contains(&w, T0 + 1, 2));
        ck_assert(window_contains(&w, T0 + 2, 3));
        window_release(&w);
}
END_TEST

START_TEST(test_window_prev_is_none_for_first_event) {
        struct window w;
        struct window_result r;

        window_init(&w, FRAUD_FEATURESET_CARD);
        add(&w, T0, 1, 1, 0);
        query(&w, T0, -1, &r);
        ck_assert(r.prev_us == INT64_MIN);
        window_release(&w);
}
END_TEST

/* A terminal with payments at T0 - 10 days .. T0; label delay 7 days,
 * window 2 days: payments in (T0 - 9d, T0 - 7d] count. */
static void label_terminal(struct window *w) {
        const struct window_limits lim = {.retention_us = 30 * FRAUD_USEC_PER_DAY,
                                          .events_max = 64};
        window_init(w, FRAUD_FEATURESET_TERMINAL);
        for (int d = 10; d >= 0; d--) {
                struct window_event e = {.t_us = T0 - d * FRAUD_USEC_PER_DAY,
                                         .amount = 1,
                                         .attr = {(uint64_t)(100 + d)}};
                ck_assert_int_eq(window_add(w, &lim, &e), 0);
        }
}

static void label_at(struct window *w, int64_t t, struct window_label *l) {
        window_label(w, t, 7 * FRAUD_USEC_PER_DAY, 2 * FRAUD_USEC_PER_DAY, l);
}

START_TEST(test_window_label_counts_only_chargebacks_arrived_by_t) {
        struct window w;
        struct window_label l;
        struct window_chargeback cb = {
                .tx_time_us = T0 - 8 * FRAUD_USEC_PER_DAY, .arrival_us = T0 + 1, .tx = 108};

        label_terminal(&w);
        ck_assert_int_eq(window_chargeback_add(&w, &cb), 0);
        label_at(&w, T0, &l);
        ck_assert_int_eq(l.tx_count, 2); /* days 8 and 7; day 9 is on the left edge */
        ck_assert_int_eq(l.fraud_count, 0);
        label_at(&w, T0 + 1, &l);
        ck_assert_int_eq(l.fraud_count, 1);
        window_release(&w);
}
END_TEST

START_TEST(test_window_label_ignores_chargeback_of_payment_younger_than_delay) {
        struct window w;
        struct window_label l;
        struct window_chargeback cb = {
                .tx_time_us = T0 - 6 * FRAUD_USEC_PER_DAY, .arrival_us = T0 - 1, .tx = 106};

        label_terminal(&w);
        ck_assert_int_eq(window_chargeback_add(&w, &cb), 0);
        label_at(&w, T0, &l);
        ck_assert_int_eq(l.fraud_count, 0);
        window_release(&w);
}
END_TEST

START_TEST(test_window_refuses_chargeback_of_unknown_transaction) {
        struct window w;
        struct window_chargeback cb = {
                .tx_time_us = T0 - 8 * FRAUD_USEC_PER_DAY, .arrival_us = T0, .tx = 999};

        label_terminal(&w);
        ck_assert_int_eq(window_chargeback_add(&w, &cb), -ENOENT);
        ck_assert_uint_eq(w.n_cb, 0);
        window_release(&w);
}
END_TEST

START_TEST(test_window_repeated_chargeback_keeps_earliest_arrival) {
        struct window w;
        struct window_label l;
        struct window_chargeback cb = {
                .tx_time_us = T0 - 8 * FRAUD_USEC_PER_DAY, .arrival_us = T0 + 5, .tx = 108};

        label_terminal(&w);
        ck_assert_int_eq(window_chargeback_add(&w, &cb), 0);
        cb.arrival_us = T0;
        ck_assert_int_eq(window_chargeback_add(&w, &cb), 1);
        label_at(&w, T0, &l);
        ck_assert_int_eq(l.fraud_count, 1);
        ck_assert_uint_eq(w.n_cb, 1);
        window_release(&w);
}
END_TEST

START_TEST(test_window_encode_decode_round_trips) {
        struct window w, back;
        struct window_chargeback cb = {
                .tx_time_us = T0 - 8 * FRAUD_USEC_PER_DAY, .arrival_us = T0, .tx = 108};
        uint8_t buf[4096];
        size_t size;

        label_terminal(&w);
        ck_assert_int_eq(window_chargeback_add(&w, &cb), 0);
        size = window_encode(&w, buf, sizeof(buf));
        ck_assert_uint_eq(size, window_encoded_size(&w));
        window_init(&back, FRAUD_FEATURESET_TERMINAL);
        ck_assert_int_eq(window_decode(&back, buf, size, 64), 0);
        ck_assert_uint_eq(back.n, w.n);
        ck_assert_uint_eq(back.n_cb, 1);
        ck_assert_int_eq(back.newest_us, w.newest_us);
        ck_assert(window_contains(&back, T0 - 3 * FRAUD_USEC_PER_DAY, 103));
        ck_assert_int_eq(window_decode(&back, buf, size - 1, 64), -EBADMSG);
        window_release(&back);
        window_init(&back, FRAUD_FEATURESET_CARD);
        ck_assert_int_eq(window_decode(&back, buf, size, 64), -EBADMSG); /* another kind */
        window_release(&back);
        window_release(&w);
}
END_TEST

/* ---- random histories against a plain model ---- */

/* The model: the events a window must hold, kept by the rules of window.h
 * with plain arrays, and every answer recomputed by scanning them. */
struct model {
        int64_t t[256], amount[256];
        uint64_t tx[256];
        uint32_t n;
        int64_t newest;
};

/* ck_assert_* records every check it passes (a write each): too slow for
 * the millions here, which fail only through this. */
static void same(int64_t got, int64_t want, const char *what, uint64_t seed, int step) {
        if (got != want)
                ck_abort_msg("seed %llu step %d: %s: got %lld, want %lld", (unsigned long long)seed,
                             step, what, (long long)got, (long long)want);
}

static uint64_t rnd(uint64_t *state) { /* splitmix64 */
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static int64_t rnd_in(uint64_t *state, int64_t lo, int64_t hi) {
        return lo + (int64_t)(rnd(state) % (uint64_t)(hi - lo + 1));
}

static void model_drop_oldest(struct model *m) {
        memmove(m->t, m->t + 1, (m->n - 1) * sizeof(m->t[0]));
        memmove(m->amount, m->amount + 1, (m->n - 1) * sizeof(m->amount[0]));
        memmove(m->tx, m->tx + 1, (m->n - 1) * sizeof(m->tx[0]));
        m->n--;
}

static int model_add(struct model *m, const struct window_limits *lim, int64_t t, int64_t amount,
                     uint64_t tx) {
        uint32_t pos = 0;
        int truncated = 0;

        for (; m->n >= lim->events_max; truncated++)
                model_drop_oldest(m);
        while (pos < m->n && m->t[pos] <= t)
                pos++;
        memmove(m->t + pos + 1, m->t + pos, (m->n - pos) * sizeof(m->t[0]));
        memmove(m->amount + pos + 1, m->amount + pos, (m->n - pos) * sizeof(m->amount[0]));
        memmove(m->tx + pos + 1, m->tx + pos, (m->n - pos) * sizeof(m->tx[0]));
        m->t[pos] = t, m->amount[pos] = amount, m->tx[pos] = tx;
        m->n++;
        if (t > m->newest)
                m->newest = t;
        while (m->n > 0 && m->t[0] <= m->newest - lim->retention_us)
                model_drop_oldest(m);
        return truncated;
}

static void model_check_query(const struct model *m, const struct window_query *q,
                              const struct window_result *r, uint64_t seed, int step) {
        uint32_t end = 0;
        int64_t longest = q->spans_us[q->n_spans - 1];

        for (size_t j = 0; j < q->n_spans; j++) {
                struct window_stats st = {0};
                for (uint32_t i = 0; i < m->n; i++) {
                        if (m->t[i] > q->t_us || m->t[i] <= q->t_us - q->spans_us[j])
                                continue;
                        st.max = st.count == 0 || m->amount[i] > st.max ? m->amount[i] : st.max;
                        st.count++;
                        st.sum += m->amount[i];
                }
                same(r->span[j].count, st.count, "count", seed, step);
                same(r->span[j].sum, st.sum, "sum", seed, step);
                same(r->span[j].max, st.max, "max", seed, step);
        }
        while (end < m->n && m->t[end] <= q->t_us)
                end++;
        same(r->prev_us, end >= 2 && m->t[end - 2] > q->t_us - longest ? m->t[end - 2] : INT64_MIN,
             "prev_us", seed, step);
}

static void model_check_label(const struct model *m, struct window *w, int64_t t, int64_t delay,
                              int64_t length, uint64_t seed, int step) {
        struct window_label l;
        int64_t count = 0;

        window_label(w, t, delay, length, &l);
        for (uint32_t i = 0; i < m->n; i++)
                count += m->t[i] <= t - delay && m->t[i] > t - delay - length;
        same(l.tx_count, count, "label tx_count", seed, step);
}

/* The window replaced by its own encoding, decoded: what a restart does. */
static void round_trip(struct window *w, uint32_t events_max) {
        static uint8_t buf[64 << 10];
        struct window back;
        size_t size = window_encode(w, buf, sizeof(buf));

        ck_assert_uint_eq(size, window_encoded_size(w));
        window_init(&back, w->kind);
        ck_assert_int_eq(window_decode(&back, buf, size, events_max), 0);
        window_release(w);
        *w = back;
}

/* One random history: late, equal-time and expired-on-arrival events,
 * truncation, growth, round trips, and after each event a query at (or
 * near) its time, without attributes (the index) and with one (the walk),
 * and a label count, all against the model. */
static void random_history(uint64_t seed) {
        uint64_t st = seed;
        struct window_limits lim = {.retention_us = rnd_in(&st, 50, 5000),
                                    .events_max =
                                            (uint32_t)(rnd(&st) % 4 ? rnd_in(&st, 1, 40) : 200)};
        int64_t spans_us[FRAUD_FEATURESET_SPANS_MAX];
        struct window_query q = {.spans_us = spans_us,
                                 .n_spans = (size_t)rnd_in(&st, 1, FRAUD_FEATURESET_SPANS_MAX),
                                 .distinct_attr = {-1, -1},
                                 .probe_attr = {-1, -1, -1}};
        int64_t t = T0, amax = rnd(&st) % 2 ? 10 : INT64_C(1) << 50;
        struct model m = {.newest = INT64_MIN};
        struct window_scratch s;
        struct window_result r;
        struct window w;

        for (size_t j = 0; j < q.n_spans; j++)
                spans_us[j] = (j ? spans_us[j - 1] : 0) + rnd_in(&st, 1, lim.retention_us / 2);
        ck_assert_int_eq(window_scratch_init(&s, lim.events_max), 0);
        window_init(&w, FRAUD_FEATURESET_TERMINAL);
        for (int step = 0; step < 600; step++) {
                int64_t late = rnd(&st) % 8 == 0 ? rnd_in(&st, 0, lim.retention_us * 5 / 4) : 0;
                struct window_event e = {.t_us = t - late,
                                         .amount = rnd_in(&st, -amax / 4, amax),
                                         .attr = {(uint64_t)step + 1}};
                int truncated = model_add(&m, &lim, e.t_us, e.amount, e.attr[0]);

                same(window_add(&w, &lim, &e), truncated, "truncated", seed, step);
                same(w.n, m.n, "events", seed, step);
                same(w.newest_us, m.newest, "newest", seed, step);
                if (rnd(&st) % 16 == 0)
                        round_trip(&w, lim.events_max);
                q.t_us = e.t_us + (rnd(&st) % 4 == 0 ? rnd_in(&st, -lim.retention_us, 100) : 0);
                q.probe_attr[0] = -1;
                window_query(&w, &q, &s, &r);
                model_check_query(&m, &q, &r, seed, step);
                q.probe_attr[0] = WINDOW_ATTR_TX; /* forces the walk over the events */
                window_query(&w, &q, &s, &r);
                model_check_query(&m, &q, &r, seed, step);
                model_check_label(&m, &w, q.t_us, rnd_in(&st, 0, lim.retention_us / 2),
                                  rnd_in(&st, 1, lim.retention_us), seed, step);
                for (uint32_t i = 0; i < m.n; i++)
                        if (rnd(&st) % 32 == 0)
                                same(window_contains(&w, m.t[i], m.tx[i]), 1, "held", seed, step);
                same(window_contains(&w, e.t_us, 0), 0, "not held", seed, step);
                t += rnd(&st) % 3 == 0 ? 0 : rnd_in(&st, 1, lim.retention_us / 8 + 1);
        }
        window_scratch_release(&s);
        window_release(&w);
}

START_TEST(test_window_queries_equal_a_plain_scan_over_random_histories) {
        for (uint64_t seed = 1; seed <= 1000; seed++)
                random_history(seed);
}
END_TEST

TESTING_MAIN("window", test_window_excludes_event_at_left_edge, test_window_includes_event_at_t,
             test_window_late_event_sees_no_later_event,
             test_window_max_is_largest_amount_of_each_span,
             test_window_query_without_attributes_gives_the_same_spans,
             test_window_counts_distinct_values_per_span,
             test_window_expires_events_beyond_retention,
             test_window_drops_oldest_beyond_events_max_and_reports_it,
             test_window_prev_is_none_for_first_event,
             test_window_label_counts_only_chargebacks_arrived_by_t,
             test_window_label_ignores_chargeback_of_payment_younger_than_delay,
             test_window_refuses_chargeback_of_unknown_transaction,
             test_window_repeated_chargeback_keeps_earliest_arrival,
             test_window_encode_decode_round_trips,
             test_window_queries_equal_a_plain_scan_over_random_histories)
