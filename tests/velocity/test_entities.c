/* Tests for velocity/entities.c: the bounded cache of windows, alone and in
 * front of a RocksDB store in a temporary directory (removed by the test). */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store.h"
#include "velocity/entities.h"

#include "tests/testing.h"

static const struct window_limits limits = {.retention_us = INT64_C(1) << 40, .events_max = 64};

static struct fraud_store *store_in_tmp(char *dir, size_t size) {
        const char *tmp = getenv("TMPDIR");
        struct fraud_store *s = NULL;
        char err[FRAUD_STORE_ERROR_MAX];

        snprintf(dir, size, "%s/fraud-entities-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_msg(fraud_store_open(&s, dir, NULL, err, sizeof(err)) == 0, "%s", err);
        return s;
}

static struct window *get(struct entities *e, enum fraud_featureset_entity kind, const char *id) {
        struct window *w = NULL;
        ck_assert_int_eq(entities_get(e, kind, id, strlen(id), &w), 0);
        ck_assert_int_eq((int)w->kind, (int)kind);
        return w;
}

static void add_event(struct window *w, int64_t t) {
        struct window_event ev = {.t_us = t, .amount = 1, .attr = {(uint64_t)t}};
        ck_assert_int_ge(window_add(w, &limits, &ev), 0);
}

/* Writes the changed windows in one committed batch. */
static void commit(struct entities *e, struct fraud_store *s) {
        struct fraud_store_batch *b = s ? fraud_store_batch_new(s) : NULL;

        if (s) {
                ck_assert_int_eq(entities_write(e, b), 0);
                ck_assert_int_eq(fraud_store_batch_commit(b), 0);
                fraud_store_batch_free(b);
        }
        entities_committed(e);
}

START_TEST(test_entities_same_id_gives_same_window_and_kinds_are_apart) {
        struct entities *e = NULL;
        struct window *a, *b;

        ck_assert_int_eq(entities_new(NULL, 16, 1024, &e), 0);
        a = get(e, FRAUD_FEATURESET_CARD, "x");
        b = get(e, FRAUD_FEATURESET_DEVICE, "x");
        ck_assert_ptr_ne(a, b);
        ck_assert_ptr_eq(get(e, FRAUD_FEATURESET_CARD, "x"), a);
        entities_free(e);
}
END_TEST

START_TEST(test_entities_keep_changed_windows_until_committed_then_evict_lru) {
        struct entities *e = NULL;
        struct entities_stats st;
        char id[16];

        ck_assert_int_eq(entities_new(NULL, 16, 1024, &e), 0);
        for (int i = 0; i < 40; i++) {
                snprintf(id, sizeof(id), "card%d", i);
                add_event(get(e, FRAUD_FEATURESET_CARD, id), i);
        }
        entities_stats(e, &st);
        ck_assert_uint_eq(st.cached, 40);
        ck_assert_uint_eq(st.dirty, 40);
        commit(e, NULL);
        entities_stats(e, &st);
        ck_assert_uint_eq(st.cached, 16);
        ck_assert_uint_eq(st.events, 16);
        ck_assert_uint_eq(st.evictions, 24);
        /* The most recent survive: card39 keeps its event, card0 is new. */
        ck_assert_uint_eq(get(e, FRAUD_FEATURESET_CARD, "card39")->n, 1);
        ck_assert_uint_eq(get(e, FRAUD_FEATURESET_CARD, "card0")->n, 0);
        entities_free(e);
}
END_TEST

START_TEST(test_entities_evict_down_to_events_max) {
        struct entities *e = NULL;
        struct entities_stats st;
        char id[16];

        ck_assert_int_eq(entities_new(NULL, 1000, 10, &e), 0);
        for (int i = 0; i < 5; i++) {
                struct window *w;
                snprintf(id, sizeof(id), "t%d", i);
                w = get(e, FRAUD_FEATURESET_TERMINAL, id);
                for (int j = 0; j < 4; j++)
                        add_event(w, j);
        }
        commit(e, NULL);
        entities_stats(e, &st);
        ck_assert_uint_le(st.events, 10);
        ck_assert_uint_eq(st.cached, 2);
        entities_free(e);
}
END_TEST

START_TEST(test_entities_reload_evicted_window_from_store) {
        char dir[PATH_MAX];
        struct fraud_store *s = store_in_tmp(dir, sizeof(dir));
        struct entities *e = NULL;
        struct entities_stats st;
        struct window *w;
        char id[16];

        ck_assert_int_eq(entities_new(s, 16, 1024, &e), 0);
        for (int i = 0; i < 40; i++) {
                snprintf(id, sizeof(id), "card%d", i);
                w = get(e, FRAUD_FEATURESET_CARD, id);
                add_event(w, 100);
                add_event(w, 200 + i);
        }
        commit(e, s);
        w = get(e, FRAUD_FEATURESET_CARD, "card0");
        ck_assert_uint_eq(w->n, 2);
        ck_assert(window_contains(w, 200, 200));
        entities_stats(e, &st);
        ck_assert_uint_eq(st.loads, 1);
        entities_free(e);
        fraud_store_close(s);
        testing_tree_remove(dir);
}
END_TEST

START_TEST(test_entities_write_no_value_for_an_empty_window) {
        char dir[PATH_MAX];
        struct fraud_store *s = store_in_tmp(dir, sizeof(dir));
        struct entities *e = NULL;
        uint8_t buf[64];

        ck_assert_int_eq(entities_new(s, 16, 1024, &e), 0);
        get(e, FRAUD_FEATURESET_TERMINAL, "empty");
        add_event(get(e, FRAUD_FEATURESET_TERMINAL, "full"), 1);
        commit(e, s);
        ck_assert_int_eq(fraud_store_get(s, "wt:empty", 8, buf, sizeof(buf)), -ENOENT);
        ck_assert_int_gt(fraud_store_get(s, "wt:full", 7, buf, sizeof(buf)), 0);
        entities_free(e);
        fraud_store_close(s);
        testing_tree_remove(dir);
}
END_TEST

START_TEST(test_entities_refuse_empty_or_long_id) {
        struct entities *e = NULL;
        struct window *w;
        char id[FRAUD_VELOCITY_ID_MAX + 2];

        memset(id, 'a', sizeof(id) - 1);
        id[sizeof(id) - 1] = '\0';
        ck_assert_int_eq(entities_new(NULL, 16, 1024, &e), 0);
        ck_assert_int_eq(entities_get(e, FRAUD_FEATURESET_IP, id, 0, &w), -EINVAL);
        ck_assert_int_eq(entities_get(e, FRAUD_FEATURESET_IP, id, strlen(id), &w), -EINVAL);
        ck_assert_int_eq(entities_get(e, FRAUD_FEATURESET_IP, id, strlen(id) - 1, &w), 0);
        entities_free(e);
}
END_TEST

/* ---- random use against a plain model of the LRU cache ---- */

#define MODEL_KEYS 6000

struct model_key {
        enum fraud_featureset_entity kind;
        char id[FRAUD_VELOCITY_ID_MAX + 1];
        bool cached;
        uint64_t used; /* when last got */
        uint32_t events;
};

static uint64_t rnd(uint64_t *state) { /* splitmix64 */
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* What entities_committed() must do: the least recently used go first,
 * while more entities or events than allowed are held. */
static void model_commit(struct model_key *k, size_t entities_max, size_t events_max,
                         uint64_t *evictions) {
        for (;;) {
                struct model_key *lru = NULL;
                size_t cached = 0, events = 0;

                for (int i = 0; i < MODEL_KEYS; i++) {
                        if (!k[i].cached)
                                continue;
                        cached++;
                        events += k[i].events;
                        if (!lru || k[i].used < lru->used)
                                lru = &k[i];
                }
                if (cached <= entities_max && events <= events_max)
                        return;
                lru->cached = false;
                lru->events = 0;
                (*evictions)++;
        }
}

/* Thousands of entities between commits (then evictions empty most of the
 * table: long probe runs shift back), ids of every length and kind, some
 * differing only in their last byte or their kind: every window got must
 * be the model's, with its events, or new after its eviction. */
START_TEST(test_entities_evict_least_recently_used_like_a_model) {
        static struct model_key k[MODEL_KEYS];
        const size_t entities_max = 300, events_max = 2000;
        struct entities *e = NULL;
        struct entities_stats st;
        uint64_t state = 42, evictions = 0;
        int64_t t = 1;

        for (int i = 0; i < MODEL_KEYS; i++) {
                /* Distinct: the number first, then 0 to 120 letters. */
                int len = snprintf(k[i].id, sizeof(k[i].id), "%d.", i);
                for (size_t j = rnd(&state) % 121; j > 0; j--)
                        k[i].id[len++] = (char)('a' + rnd(&state) % 3);
                k[i].kind = (enum fraud_featureset_entity)(rnd(&state) % FRAUD_FEATURESET_ENTITIES);
                if (i % 2 && rnd(&state) % 2) { /* a near twin of the previous */
                        memcpy(k[i].id, k[i - 1].id, sizeof(k[i].id));
                        if (rnd(&state) % 2)
                                k[i].kind = (k[i - 1].kind + 1) % FRAUD_FEATURESET_ENTITIES;
                        else
                                k[i].id[strlen(k[i].id) - 1] ^= 0x20;
                }
        }
        ck_assert_int_eq(entities_new(NULL, entities_max, events_max, &e), 0);
        for (int round = 0; round < 6; round++) {
                int gets = round % 2 ? 20000 : 2000;
                for (int g = 0; g < gets; g++) {
                        /* Skewed: a few keys are used often, as terminals are. */
                        struct model_key *m =
                                &k[rnd(&state) % (rnd(&state) % 4 ? 200 : MODEL_KEYS)];
                        struct window *w = get(e, m->kind, m->id);

                        if (w->n != m->events)
                                ck_abort_msg("round %d get %d: %u events, want %u", round, g, w->n,
                                             m->events);
                        add_event(w, t++);
                        m->cached = true;
                        m->used = (uint64_t)t;
                        m->events += m->events < limits.events_max;
                }
                commit(e, NULL);
                model_commit(k, entities_max, events_max, &evictions);
                entities_stats(e, &st);
                ck_assert_uint_eq(st.evictions, evictions);
                ck_assert_uint_le(st.cached, entities_max);
        }
        entities_free(e);
}
END_TEST

TESTING_MAIN("entities", test_entities_same_id_gives_same_window_and_kinds_are_apart,
             test_entities_keep_changed_windows_until_committed_then_evict_lru,
             test_entities_evict_down_to_events_max, test_entities_reload_evicted_window_from_store,
             test_entities_write_no_value_for_an_empty_window,
             test_entities_refuse_empty_or_long_id,
             test_entities_evict_least_recently_used_like_a_model)
