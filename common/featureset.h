/* featureset.h: the feature schema shared by velocity (which computes the
 * features), the scorer (which serves models on them) and the trainer
 * (which learns on them).
 *
 * A feature schema is an ordered list of names.  Its identity on the wire is
 * FeatureVector.feature_schema_hash = fraud_featureset_hash(names, n): FNV-1a
 * 64 over each name followed by '\n'.  A model's metadata lists the names it
 * was trained on; the scorer refuses a model whose hash differs from the
 * vectors it receives.
 *
 * The names and their order are built here, once, from the window spans
 * (velocity.window_spans_sec), so every stage that reads the same settings
 * builds the same schema.  The layout, with S spans (ascending) and the span
 * suffix of each (60 s -> "1m", 3600 -> "1h", 86400 -> "1d": the largest
 * whole unit among d, h, m, s):
 *
 *   1. per entity (card, terminal, device, ip), per statistic (count,
 *      amount_sum, amount_mean, amount_max), per span:
 *        card_count_1m ... ip_amount_max_30d                    16 * S
 *   2. per distinct statistic (card_merchants_distinct,
 *      card_countries_distinct, device_cards_distinct,
 *      ip_cards_distinct), per span                              4 * S
 *   3. the scalars of enum fraud_featureset_scalar, in its order.
 *
 * fraud_featureset_stat_index(), _distinct_index() and _scalar_index()
 * give the position of each, so code that fills a vector never counts by
 * hand.  Units and exact definitions are velocity's (velocity/features.h).
 */
#ifndef FRAUD_FEATURESET_H
#define FRAUD_FEATURESET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

enum fraud_featureset_entity {
        FRAUD_FEATURESET_CARD,
        FRAUD_FEATURESET_TERMINAL, /* terminal_id, else merchant_id */
        FRAUD_FEATURESET_DEVICE,
        FRAUD_FEATURESET_IP,
        FRAUD_FEATURESET_ENTITIES,
};

enum fraud_featureset_stat {
        FRAUD_FEATURESET_COUNT,
        FRAUD_FEATURESET_AMOUNT_SUM,
        FRAUD_FEATURESET_AMOUNT_MEAN,
        FRAUD_FEATURESET_AMOUNT_MAX,
        FRAUD_FEATURESET_STATS,
};

enum fraud_featureset_distinct {
        FRAUD_FEATURESET_CARD_MERCHANTS,
        FRAUD_FEATURESET_CARD_COUNTRIES,
        FRAUD_FEATURESET_DEVICE_CARDS,
        FRAUD_FEATURESET_IP_CARDS,
        FRAUD_FEATURESET_DISTINCTS,
};

enum fraud_featureset_scalar {
        FRAUD_FEATURESET_AMOUNT,                  /* "amount" */
        FRAUD_FEATURESET_CURRENCY_UNKNOWN,        /* "currency_unknown" */
        FRAUD_FEATURESET_CARD_SECONDS_SINCE_PREV, /* "card_seconds_since_prev" */
        FRAUD_FEATURESET_CARD_AMOUNT_RATIO,       /* "card_amount_ratio_mean_<longest>" */
        FRAUD_FEATURESET_HOUR,                    /* "hour_of_day" */
        FRAUD_FEATURESET_IS_NIGHT,                /* "is_night" */
        FRAUD_FEATURESET_IS_WEEKEND,              /* "is_weekend" */
        FRAUD_FEATURESET_CHANNEL_CARD_PRESENT,    /* "channel_card_present" */
        FRAUD_FEATURESET_CHANNEL_CONTACTLESS,     /* "channel_contactless" */
        FRAUD_FEATURESET_CHANNEL_ECOMMERCE,       /* "channel_ecommerce" */
        FRAUD_FEATURESET_CHANNEL_MOTO,            /* "channel_moto" */
        FRAUD_FEATURESET_CHANNEL_ATM,             /* "channel_atm" */
        FRAUD_FEATURESET_MCC,                     /* "mcc" */
        FRAUD_FEATURESET_HAS_DEVICE,              /* "has_device" */
        FRAUD_FEATURESET_HAS_IP,                  /* "has_ip" */
        FRAUD_FEATURESET_CARD_NEW_DEVICE,         /* "card_new_device" */
        FRAUD_FEATURESET_CARD_NEW_COUNTRY,        /* "card_new_country" */
        FRAUD_FEATURESET_CARD_NEW_IP,             /* "card_new_ip" */
        FRAUD_FEATURESET_TERMINAL_LABEL_TX,       /* "terminal_label_tx_count" */
        FRAUD_FEATURESET_TERMINAL_LABEL_FRAUD,    /* "terminal_label_fraud_count" */
        FRAUD_FEATURESET_TERMINAL_LABEL_RATE,     /* "terminal_label_fraud_rate" */
        FRAUD_FEATURESET_SCALARS,
};

/* A built schema.  Plain data: copy it freely. */
struct fraud_featureset {
        size_t n_spans;
        int64_t spans_sec[FRAUD_FEATURESET_SPANS_MAX]; /* ascending */
        size_t n;                                      /* features */
        char names[FRAUD_FEATURESET_FEATURES_MAX][FRAUD_FEATURESET_NAME_MAX];
        uint64_t hash; /* fraud_featureset_hash() of names */
};

/* The contract on the wire; never change it. */
uint64_t fraud_featureset_hash(const char *const *names, size_t n);

/* Builds the schema of n spans (1..FRAUD_FEATURESET_SPANS_MAX, strictly
 * increasing, each 1..FRAUD_VELOCITY_SPAN_SEC_MAX seconds) into *out.
 * 0, or -EINVAL for spans outside that. */
int fraud_featureset_build(const int64_t *spans_sec, size_t n, struct fraud_featureset *out);

/* Parses a settings list of decimal seconds ("60", "3600", ...) into spans
 * (max entries).  0, or -EINVAL with the reason in err (the item, and why:
 * not a number, out of range, not increasing, none, too many). */
int fraud_featureset_spans_parse(char *const *items, int64_t *spans, size_t max, size_t *n,
                                 char *err, size_t err_size);

/* The suffix of a span: "30d", "1h", "10m", "45s".  buf of at least 24. */
void fraud_featureset_span_label(int64_t sec, char *buf, size_t size);

size_t fraud_featureset_stat_index(const struct fraud_featureset *fs,
                                   enum fraud_featureset_entity e, enum fraud_featureset_stat st,
                                   size_t span);
size_t fraud_featureset_distinct_index(const struct fraud_featureset *fs,
                                       enum fraud_featureset_distinct d, size_t span);
size_t fraud_featureset_scalar_index(const struct fraud_featureset *fs,
                                     enum fraud_featureset_scalar sc);

/* The index of name, or -ENOENT. */
int fraud_featureset_find(const struct fraud_featureset *fs, const char *name);

#endif
