/* features.c: see features.h.
 *
 * The reference-rate table is static on purpose: features must replay to the
 * same values, so the rates cannot follow a live feed.  They are the
 * simulator's rates for EUR, GBP, USD and JPY and rounded reference rates
 * for the others; a change of the table changes feature values and wants a
 * retrained model, like a change of the feature schema.
 */
#include "velocity/features.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/schema.h"
#include "lib/hash.h"
#include "lib/time.h"

struct features_currency {
        char code[4];
        unsigned decimals; /* ISO 4217 minor unit */
        double per_eur;    /* units of the currency per euro */
};

static const struct features_currency features_currencies[] = {
        {"EUR", 2, 1.0},     {"GBP", 2, 0.86},   {"USD", 2, 1.08},   {"JPY", 0, 162.0},
        {"CHF", 2, 0.95},    {"SEK", 2, 11.5},   {"NOK", 2, 11.6},   {"DKK", 2, 7.46},
        {"PLN", 2, 4.3},     {"CZK", 2, 25.0},   {"HUF", 2, 395.0},  {"RON", 2, 4.97},
        {"TRY", 2, 35.0},    {"BRL", 2, 5.9},    {"MXN", 2, 19.5},   {"CNY", 2, 7.8},
        {"CAD", 2, 1.47},    {"AUD", 2, 1.65},   {"NZD", 2, 1.8},    {"INR", 2, 90.0},
        {"KRW", 0, 1450.0},  {"SGD", 2, 1.45},   {"HKD", 2, 8.4},    {"ZAR", 2, 20.0},
        {"AED", 2, 3.97},    {"SAR", 2, 4.05},   {"ILS", 2, 4.0},    {"THB", 2, 38.0},
        {"IDR", 2, 17500.0}, {"ARS", 2, 1000.0}, {"CLP", 0, 1000.0}, {"COP", 2, 4500.0},
};

uint64_t features_hash(const char *s, size_t len) {
        uint64_t h;

        if (len == 0)
                return 0;
        h = fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, s, len);
        return h ? h : 1;
}

int features_currency_to_ref(const char *code, int64_t amount_minor, int64_t *out) {
        for (size_t i = 0; i < sizeof(features_currencies) / sizeof(features_currencies[0]); i++) {
                const struct features_currency *c = &features_currencies[i];
                double cents;

                if (strcmp(code, c->code) != 0)
                        continue;
                cents = (double)amount_minor * 100.0 / (pow(10.0, c->decimals) * c->per_eur);
                if (!(fabs(cents) < 9007199254740992.0))
                        return -ERANGE;
                *out = llround(cents);
                return 0;
        }
        return -ENOENT;
}

int features_config_init(struct features_config *c, const int64_t *spans_sec, size_t n_spans,
                         int64_t label_delay_sec, int64_t label_window_sec, int64_t lateness_sec,
                         uint32_t events_max) {
        int64_t longest, label;

        memset(c, 0, sizeof(*c));
        if (fraud_featureset_build(spans_sec, n_spans, &c->fs) < 0)
                return -EINVAL;
        if (label_delay_sec < 0 || label_delay_sec > FRAUD_VELOCITY_LABEL_SEC_MAX ||
            label_window_sec < 1 || label_window_sec > FRAUD_VELOCITY_LABEL_SEC_MAX ||
            lateness_sec < 0 || lateness_sec > FRAUD_VELOCITY_LABEL_SEC_MAX || events_max < 1 ||
            events_max > FRAUD_VELOCITY_HISTORY_EVENTS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_spans; i++)
                c->spans_us[i] = spans_sec[i] * FRAUD_USEC_PER_SEC;
        c->label_delay_us = label_delay_sec * FRAUD_USEC_PER_SEC;
        c->label_window_us = label_window_sec * FRAUD_USEC_PER_SEC;
        longest = c->spans_us[n_spans - 1];
        label = c->label_delay_us + c->label_window_us;
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++) {
                int64_t keep = k == FRAUD_FEATURESET_TERMINAL && label > longest ? label : longest;
                c->limits[k].retention_us = keep + lateness_sec * FRAUD_USEC_PER_SEC;
                c->limits[k].events_max = events_max;
        }
        return 0;
}

/* ---- input ---- */

static int features_id(struct features_ids *ids, enum fraud_featureset_entity e, const char *s) {
        size_t len = s ? strlen(s) : 0;

        if (len > FRAUD_VELOCITY_ID_MAX)
                return -EINVAL;
        ids->id[e] = len ? s : NULL;
        ids->len[e] = len;
        return 0;
}

int features_tx_from_proto(const Fraud__Transaction *t, struct features_tx *out,
                           struct features_ids *ids, const char **why) {
        const char *terminal = t->terminal_id && *t->terminal_id ? t->terminal_id : t->merchant_id;
        int r = 0;

        memset(out, 0, sizeof(*out));
        memset(ids, 0, sizeof(*ids));
        if (t->schema_version != TRANSACTION_SCHEMA_VERSION)
                return *why = "bad_schema_version", -EINVAL;
        if (!t->transaction_id || !*t->transaction_id)
                return *why = "no_transaction_id", -EINVAL;
        if (!t->card_hash || !*t->card_hash)
                return *why = "no_card", -EINVAL;
        if (t->event_time_us <= 0)
                return *why = "bad_event_time", -EINVAL;
        r |= features_id(ids, FRAUD_FEATURESET_CARD, t->card_hash);
        r |= features_id(ids, FRAUD_FEATURESET_TERMINAL, terminal);
        r |= features_id(ids, FRAUD_FEATURESET_DEVICE, t->device_id);
        r |= features_id(ids, FRAUD_FEATURESET_IP, t->ip);
        if (r < 0 || strlen(t->transaction_id) > FRAUD_VELOCITY_ID_MAX)
                return *why = "id_too_long", -EINVAL;
        out->tx = features_hash(t->transaction_id, strlen(t->transaction_id));
        out->t_us = t->event_time_us;
        out->currency_known = t->currency && features_currency_to_ref(t->currency, t->amount_minor,
                                                                      &out->amount) == 0;
        if (!out->currency_known)
                out->amount = 0;
        out->merchant = features_hash(t->merchant_id, t->merchant_id ? strlen(t->merchant_id) : 0);
        out->country = features_hash(t->country, t->country ? strlen(t->country) : 0);
        out->card = features_hash(ids->id[FRAUD_FEATURESET_CARD], ids->len[FRAUD_FEATURESET_CARD]);
        out->device =
                features_hash(ids->id[FRAUD_FEATURESET_DEVICE], ids->len[FRAUD_FEATURESET_DEVICE]);
        out->ip = features_hash(ids->id[FRAUD_FEATURESET_IP], ids->len[FRAUD_FEATURESET_IP]);
        out->mcc = t->mcc;
        out->channel = (int)t->channel;
        return 0;
}

int features_chargeback_from_proto(const Fraud__Chargeback *c, struct window_chargeback *out,
                                   const char **id, size_t *id_len, const char **why) {
        const char *terminal = c->terminal_id && *c->terminal_id ? c->terminal_id : c->merchant_id;

        memset(out, 0, sizeof(*out));
        if (c->schema_version != CHARGEBACK_SCHEMA_VERSION)
                return *why = "bad_schema_version", -EINVAL;
        if (!c->transaction_id || !*c->transaction_id)
                return *why = "no_transaction_id", -EINVAL;
        if (!terminal || !*terminal)
                return *why = "no_terminal", -EINVAL;
        if (c->event_time_us <= 0 || c->transaction_time_us <= 0)
                return *why = "bad_event_time", -EINVAL;
        if (strlen(terminal) > FRAUD_VELOCITY_ID_MAX ||
            strlen(c->transaction_id) > FRAUD_VELOCITY_ID_MAX)
                return *why = "id_too_long", -EINVAL;
        *id = terminal;
        *id_len = strlen(terminal);
        out->tx = features_hash(c->transaction_id, strlen(c->transaction_id));
        out->tx_time_us = c->transaction_time_us;
        out->arrival_us = c->event_time_us;
        return c->kind == FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT ? 1 : 0;
}

/* ---- the vector ---- */

static void features_event(const struct features_tx *tx, enum fraud_featureset_entity kind,
                           struct window_event *e) {
        memset(e, 0, sizeof(*e));
        e->t_us = tx->t_us;
        e->amount = tx->amount;
        e->attr[WINDOW_ATTR_TX] = tx->tx;
        if (kind == FRAUD_FEATURESET_CARD) {
                e->attr[WINDOW_ATTR_MERCHANT] = tx->merchant;
                e->attr[WINDOW_ATTR_COUNTRY] = tx->country;
                e->attr[WINDOW_ATTR_DEVICE] = tx->device;
                e->attr[WINDOW_ATTR_IP] = tx->ip;
        } else if (kind != FRAUD_FEATURESET_TERMINAL) {
                e->attr[WINDOW_ATTR_CARD] = tx->card;
        }
}

/* The query of one entity kind: which attributes are distinct, which probed. */
static void features_query(const struct features_config *c, const struct features_tx *tx,
                           enum fraud_featureset_entity kind, struct window_query *q) {
        memset(q, 0, sizeof(*q));
        q->t_us = tx->t_us;
        q->spans_us = c->spans_us;
        q->n_spans = c->fs.n_spans;
        q->distinct_attr[0] = q->distinct_attr[1] = -1;
        for (int p = 0; p < WINDOW_PROBES; p++)
                q->probe_attr[p] = -1;
        if (kind == FRAUD_FEATURESET_CARD) {
                q->distinct_attr[0] = WINDOW_ATTR_MERCHANT;
                q->distinct_attr[1] = WINDOW_ATTR_COUNTRY;
                q->probe_attr[0] = WINDOW_ATTR_DEVICE, q->probe[0] = tx->device;
                q->probe_attr[1] = WINDOW_ATTR_COUNTRY, q->probe[1] = tx->country;
                q->probe_attr[2] = WINDOW_ATTR_IP, q->probe[2] = tx->ip;
        } else if (kind != FRAUD_FEATURESET_TERMINAL) {
                q->distinct_attr[0] = WINDOW_ATTR_CARD;
        }
}

static void features_spans(const struct features_config *c, enum fraud_featureset_entity kind,
                           const struct window_result *r, double *out) {
        static const int distinct_of[FRAUD_FEATURESET_ENTITIES][2] = {
                [FRAUD_FEATURESET_CARD] = {FRAUD_FEATURESET_CARD_MERCHANTS,
                                           FRAUD_FEATURESET_CARD_COUNTRIES},
                [FRAUD_FEATURESET_TERMINAL] = {-1, -1},
                [FRAUD_FEATURESET_DEVICE] = {FRAUD_FEATURESET_DEVICE_CARDS, -1},
                [FRAUD_FEATURESET_IP] = {FRAUD_FEATURESET_IP_CARDS, -1},
        };
        const struct fraud_featureset *fs = &c->fs;
        int64_t count = 0, sum = 0;
        double mean = 0.0;

        for (size_t s = 0; s < fs->n_spans; s++) {
                const struct window_stats *st = &r->span[s];

                if (st->count != count || st->sum != sum) { /* short spans often repeat */
                        count = st->count;
                        sum = st->sum;
                        mean = count ? (double)sum / (double)count : 0.0;
                }

                out[fraud_featureset_stat_index(fs, kind, FRAUD_FEATURESET_COUNT, s)] =
                        (double)st->count;
                out[fraud_featureset_stat_index(fs, kind, FRAUD_FEATURESET_AMOUNT_SUM, s)] =
                        (double)st->sum;
                out[fraud_featureset_stat_index(fs, kind, FRAUD_FEATURESET_AMOUNT_MEAN, s)] = mean;
                out[fraud_featureset_stat_index(fs, kind, FRAUD_FEATURESET_AMOUNT_MAX, s)] =
                        (double)st->max;
                for (int d = 0; d < 2; d++)
                        if (distinct_of[kind][d] >= 0)
                                out[fraud_featureset_distinct_index(fs, distinct_of[kind][d], s)] =
                                        (double)st->distinct[d];
        }
}

/* The scalars that depend on the transaction alone. */
static void features_scalars(const struct features_config *c, const struct features_tx *tx,
                             double *out) {
        static const enum fraud_featureset_scalar channels[] = {
                [FRAUD__CHANNEL__CHANNEL_CARD_PRESENT] = FRAUD_FEATURESET_CHANNEL_CARD_PRESENT,
                [FRAUD__CHANNEL__CHANNEL_CONTACTLESS] = FRAUD_FEATURESET_CHANNEL_CONTACTLESS,
                [FRAUD__CHANNEL__CHANNEL_ECOMMERCE] = FRAUD_FEATURESET_CHANNEL_ECOMMERCE,
                [FRAUD__CHANNEL__CHANNEL_MOTO] = FRAUD_FEATURESET_CHANNEL_MOTO,
                [FRAUD__CHANNEL__CHANNEL_ATM] = FRAUD_FEATURESET_CHANNEL_ATM,
        };
        const struct fraud_featureset *fs = &c->fs;
        int hour = fraud_time_hour_of_day(tx->t_us);
        int weekday = fraud_time_weekday(tx->t_us);

        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_AMOUNT)] = (double)tx->amount;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CURRENCY_UNKNOWN)] =
                tx->currency_known ? 0.0 : 1.0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HOUR)] = hour;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_IS_NIGHT)] = hour < 6;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_IS_WEEKEND)] = weekday >= 6;
        if (tx->channel > 0 && tx->channel < (int)(sizeof(channels) / sizeof(channels[0])))
                out[fraud_featureset_scalar_index(fs, channels[tx->channel])] = 1.0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_MCC)] = tx->mcc;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HAS_DEVICE)] = tx->device != 0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_HAS_IP)] = tx->ip != 0;
}

/* The scalars read from the card's query. */
static void features_card(const struct features_config *c, const struct features_tx *tx,
                          const struct window_result *r, double *out) {
        const struct fraud_featureset *fs = &c->fs;
        const struct window_stats *longest = &r->span[fs->n_spans - 1];
        int64_t cap_us = c->spans_us[fs->n_spans - 1];
        int64_t since_us = r->prev_us == INT64_MIN || tx->t_us - r->prev_us > cap_us
                                   ? cap_us
                                   : tx->t_us - r->prev_us;
        double mean = longest->count ? (double)longest->sum / (double)longest->count : 0.0;

        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_SECONDS_SINCE_PREV)] =
                (double)since_us / (double)FRAUD_USEC_PER_SEC;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_AMOUNT_RATIO)] =
                mean != 0.0 ? (double)tx->amount / mean : 1.0;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_DEVICE)] =
                tx->device != 0 && r->probe_hits[0] <= 1;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_COUNTRY)] =
                r->probe_hits[1] <= 1;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_CARD_NEW_IP)] =
                tx->ip != 0 && r->probe_hits[2] <= 1;
}

static void features_label(const struct features_config *c, const struct features_tx *tx,
                           struct window *terminal, double *out) {
        const struct fraud_featureset *fs = &c->fs;
        struct window_label l;

        window_label(terminal, tx->t_us, c->label_delay_us, c->label_window_us, &l);
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_TERMINAL_LABEL_TX)] =
                (double)l.tx_count;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_TERMINAL_LABEL_FRAUD)] =
                (double)l.fraud_count;
        out[fraud_featureset_scalar_index(fs, FRAUD_FEATURESET_TERMINAL_LABEL_RATE)] =
                l.tx_count ? (double)l.fraud_count / (double)l.tx_count : 0.0;
}

/* The windows' memory is mostly cold (a card pays every few hours): the
 * loads of all four start at once, the card's (the longest walk) first and
 * its query last, the terminal's (whose prefetch waits for its index) the
 * other way round.  The order changes no value. */
static const enum fraud_featureset_entity features_prefetch_order[FRAUD_FEATURESET_ENTITIES] = {
        FRAUD_FEATURESET_CARD, FRAUD_FEATURESET_DEVICE, FRAUD_FEATURESET_IP,
        FRAUD_FEATURESET_TERMINAL};
static const enum fraud_featureset_entity features_query_order[FRAUD_FEATURESET_ENTITIES] = {
        FRAUD_FEATURESET_DEVICE, FRAUD_FEATURESET_IP, FRAUD_FEATURESET_TERMINAL,
        FRAUD_FEATURESET_CARD};

int features_compute(const struct features_config *c, const struct features_tx *tx,
                     struct window *const w[FRAUD_FEATURESET_ENTITIES], struct window_scratch *s,
                     double *out, uint64_t *truncated) {
        struct window_result r;
        struct window_query q;
        struct window_event e;

        for (int i = 0; i < FRAUD_FEATURESET_ENTITIES; i++)
                if (w[features_prefetch_order[i]])
                        window_prefetch(w[features_prefetch_order[i]]);
        if (window_contains(w[FRAUD_FEATURESET_CARD], tx->t_us, tx->tx))
                return 1;
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++) {
                int n;
                if (!w[k])
                        continue;
                features_event(tx, k, &e);
                n = window_add(w[k], &c->limits[k], &e);
                if (n < 0)
                        return n;
                *truncated += (uint64_t)n;
        }
        memset(out, 0, c->fs.n * sizeof(*out));
        for (int i = 0; i < FRAUD_FEATURESET_ENTITIES; i++) {
                enum fraud_featureset_entity k = features_query_order[i];
                if (!w[k])
                        continue;
                features_query(c, tx, k, &q);
                window_query(w[k], &q, s, &r);
                features_spans(c, k, &r, out);
                if (k == FRAUD_FEATURESET_CARD)
                        features_card(c, tx, &r, out);
                if (k == FRAUD_FEATURESET_TERMINAL)
                        features_label(c, tx, w[k], out);
        }
        features_scalars(c, tx, out);
        return 0;
}
