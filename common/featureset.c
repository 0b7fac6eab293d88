/* featureset.c: see featureset.h.  Names are built in exactly the order the
 * index functions compute, so a position and its name cannot disagree; the
 * tests check both against known names. */
#include "common/featureset.h"
#include "lib/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const featureset_entities[FRAUD_FEATURESET_ENTITIES] = {"card", "terminal",
                                                                           "device", "ip"};
static const char *const featureset_stats[FRAUD_FEATURESET_STATS] = {"count", "amount_sum",
                                                                     "amount_mean", "amount_max"};
static const char *const featureset_distincts[FRAUD_FEATURESET_DISTINCTS] = {
        "card_merchants_distinct", "card_countries_distinct", "device_cards_distinct",
        "ip_cards_distinct"};
/* NULL: built from the longest span (card_amount_ratio_mean_<span>). */
static const char *const featureset_scalars[FRAUD_FEATURESET_SCALARS] = {
        "amount",
        "currency_unknown",
        "card_seconds_since_prev",
        NULL,
        "hour_of_day",
        "is_night",
        "is_weekend",
        "channel_card_present",
        "channel_contactless",
        "channel_ecommerce",
        "channel_moto",
        "channel_atm",
        "mcc",
        "has_device",
        "has_ip",
        "card_new_device",
        "card_new_country",
        "card_new_ip",
        "terminal_label_tx_count",
        "terminal_label_fraud_count",
        "terminal_label_fraud_rate",
};

uint64_t fraud_featureset_hash(const char *const *names, size_t n) {
        uint64_t h = FRAUD_HASH_FNV1A_INIT;

        for (size_t i = 0; i < n; i++) {
                h = fraud_hash_fnv1a(h, names[i], strlen(names[i]));
                h = fraud_hash_fnv1a(h, "\n", 1);
        }
        return h;
}

void fraud_featureset_span_label(int64_t sec, char *buf, size_t size) {
        static const struct {
                int64_t sec;
                char unit;
        } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};

        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (sec % units[i].sec == 0) {
                        snprintf(buf, size, "%lld%c", (long long)(sec / units[i].sec),
                                 units[i].unit);
                        return;
                }
        }
}

size_t fraud_featureset_stat_index(const struct fraud_featureset *fs,
                                   enum fraud_featureset_entity e, enum fraud_featureset_stat st,
                                   size_t span) {
        return ((size_t)e * FRAUD_FEATURESET_STATS + (size_t)st) * fs->n_spans + span;
}

size_t fraud_featureset_distinct_index(const struct fraud_featureset *fs,
                                       enum fraud_featureset_distinct d, size_t span) {
        return (FRAUD_FEATURESET_ENTITIES * FRAUD_FEATURESET_STATS + (size_t)d) * fs->n_spans +
               span;
}

size_t fraud_featureset_scalar_index(const struct fraud_featureset *fs,
                                     enum fraud_featureset_scalar sc) {
        return (FRAUD_FEATURESET_ENTITIES * FRAUD_FEATURESET_STATS + FRAUD_FEATURESET_DISTINCTS) *
                       fs->n_spans +
               (size_t)sc;
}

static void featureset_name(struct fraud_featureset *fs, size_t i, const char *a, const char *b,
                            int64_t span_sec) {
        char label[24];

        fraud_featureset_span_label(span_sec, label, sizeof(label));
        snprintf(fs->names[i], sizeof(fs->names[i]), "%s%s%s_%s", a, b ? "_" : "", b ? b : "",
                 label);
}

static int featureset_spans_check(const int64_t *spans_sec, size_t n) {
        if (n == 0 || n > FRAUD_FEATURESET_SPANS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (spans_sec[i] < 1 || spans_sec[i] > FRAUD_VELOCITY_SPAN_SEC_MAX)
                        return -EINVAL;
                if (i > 0 && spans_sec[i] <= spans_sec[i - 1])
                        return -EINVAL;
        }
        return 0;
}

int fraud_featureset_build(const int64_t *spans_sec, size_t n, struct fraud_featureset *out) {
        const char *ptrs[FRAUD_FEATURESET_FEATURES_MAX];
        int64_t longest;

        if (featureset_spans_check(spans_sec, n) < 0)
                return -EINVAL;
        memset(out, 0, sizeof(*out));
        out->n_spans = n;
        memcpy(out->spans_sec, spans_sec, n * sizeof(*spans_sec));
        longest = spans_sec[n - 1];
        for (size_t s = 0; s < n; s++) {
                for (int e = 0; e < FRAUD_FEATURESET_ENTITIES; e++)
                        for (int st = 0; st < FRAUD_FEATURESET_STATS; st++)
                                featureset_name(out, fraud_featureset_stat_index(out, e, st, s),
                                                featureset_entities[e], featureset_stats[st],
                                                spans_sec[s]);
                for (int d = 0; d < FRAUD_FEATURESET_DISTINCTS; d++)
                        featureset_name(out, fraud_featureset_distinct_index(out, d, s),
                                        featureset_distincts[d], NULL, spans_sec[s]);
        }
        for (int sc = 0; sc < FRAUD_FEATURESET_SCALARS; sc++) {
                size_t i = fraud_featureset_scalar_index(out, sc);
                if (featureset_scalars[sc])
                        snprintf(out->names[i], sizeof(out->names[i]), "%s",
                                 featureset_scalars[sc]);
                else
                        featureset_name(out, i, "card_amount_ratio_mean", NULL, longest);
        }
        out->n = fraud_featureset_scalar_index(out, FRAUD_FEATURESET_SCALARS);
        for (size_t i = 0; i < out->n; i++)
                ptrs[i] = out->names[i];
        out->hash = fraud_featureset_hash(ptrs, out->n);
        return 0;
}

int fraud_featureset_spans_parse(char *const *items, int64_t *spans, size_t max, size_t *n,
                                 char *err, size_t err_size) {
        size_t count = 0;

        for (; items && items[count]; count++) {
                char *end = NULL;
                long long v;

                if (count == max) {
                        snprintf(err, err_size, "more than %zu spans", max);
                        return -EINVAL;
                }
                errno = 0;
                v = strtoll(items[count], &end, 10);
                if (errno || end == items[count] || *end != '\0' || v < 1 ||
                    v > FRAUD_VELOCITY_SPAN_SEC_MAX) {
                        snprintf(err, err_size, "'%s': not a number of seconds in 1..%d",
                                 items[count], FRAUD_VELOCITY_SPAN_SEC_MAX);
                        return -EINVAL;
                }
                if (count > 0 && v <= spans[count - 1]) {
                        snprintf(err, err_size, "'%s': spans must be strictly increasing",
                                 items[count]);
                        return -EINVAL;
                }
                spans[count] = v;
        }
        if (count == 0) {
                snprintf(err, err_size, "no span");
                return -EINVAL;
        }
        *n = count;
        return 0;
}

int fraud_featureset_find(const struct fraud_featureset *fs, const char *name) {
        for (size_t i = 0; i < fs->n; i++)
                if (strcmp(fs->names[i], name) == 0)
                        return (int)i;
        return -ENOENT;
}
