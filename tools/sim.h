/* sim.h: the synthetic payments simulator (pure core of `fraudctl generate`).
 *
 * A world of customers (home country and time zone, one or two cards,
 * devices, a home IP, favourite merchants, a spending profile), merchants
 * (an MCC, a country, terminals, a channel mix) and five fraud scenarios,
 * turned into one stream of events in event-time order: transactions, and
 * the chargebacks that arrive weeks after some of them.  No I/O, no wall
 * clock, no global state: the same struct sim_config gives the same events,
 * byte for byte, wherever libm's exp and log agree (any glibc build of the
 * same version, on any architecture).  tools/sim.c explains the model.
 *
 * Times are milliseconds since the Unix epoch, UTC (the files print
 * milliseconds).  Amounts are in minor units of the transaction's currency
 * (the merchant's); JPY has no minor unit.
 *
 * Chargeback delay (event time from the payment to the chargeback): a
 * lognormal with median SIM_CHARGEBACK_DELAY_MEDIAN_DAYS and log-space
 * standard deviation SIM_CHARGEBACK_DELAY_SIGMA, truncated (resampled) to
 * [SIM_CHARGEBACK_DELAY_MIN_DAYS, SIM_CHARGEBACK_DELAY_MAX_DAYS].  A share
 * SIM_FRAUD_UNCHARGED_SHARE of frauds is never charged back; a share
 * SIM_FRIENDLY_FRAUD_RATE of legitimate payments is (friendly fraud).
 */
#ifndef FRAUD_SIM_H
#define FRAUD_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/bounds.h"

#define SIM_CHARGEBACK_DELAY_MEDIAN_DAYS 20.0
#define SIM_CHARGEBACK_DELAY_SIGMA       0.8
#define SIM_CHARGEBACK_DELAY_MIN_DAYS    1.0
#define SIM_CHARGEBACK_DELAY_MAX_DAYS    120.0
#define SIM_FRAUD_UNCHARGED_SHARE        0.12   /* frauds never charged back */
#define SIM_FRIENDLY_FRAUD_RATE          0.0005 /* legitimate payments charged back */

/* The smallest world in which every scenario can happen. */
#define SIM_CUSTOMERS_MIN  10
#define SIM_MERCHANTS_MIN  50
#define SIM_FRAUD_RATE_MAX 0.5

#define SIM_ID_MAX  32 /* bytes of any id string, NUL included */
#define SIM_PAN_LEN 16 /* digits of a card number */
#define SIM_IP_MAX  16 /* "255.255.255.255" + NUL */

enum sim_scenario {
        SIM_SCENARIO_LEGIT = 0,
        SIM_SCENARIO_STOLEN_CARD,
        SIM_SCENARIO_CARD_TESTING,
        SIM_SCENARIO_COMPROMISED_TERMINAL,
        SIM_SCENARIO_ACCOUNT_TAKEOVER,
        SIM_SCENARIO_FRAUD_RING,
        SIM_SCENARIO_COUNT,
};

enum sim_channel {
        SIM_CHANNEL_CARD_PRESENT = 0,
        SIM_CHANNEL_CONTACTLESS,
        SIM_CHANNEL_ECOMMERCE,
        SIM_CHANNEL_ATM,
        SIM_CHANNEL_MOTO,
        SIM_CHANNEL_COUNT,
};

struct sim_config {
        uint32_t days;      /* 1..FRAUD_SIM_DAYS_MAX */
        uint32_t customers; /* SIM_CUSTOMERS_MIN..FRAUD_SIM_CUSTOMERS_MAX */
        uint32_t merchants; /* SIM_MERCHANTS_MIN..FRAUD_SIM_MERCHANTS_MAX */
        uint64_t seed;      /* any value */
        double fraud_rate;  /* share of transactions that are fraud, 0..SIM_FRAUD_RATE_MAX */
        int64_t start_ms;   /* first simulated instant: a UTC midnight */
};

/* One payment.  Strings are NUL-terminated; the const char * members point
 * to static strings. */
struct sim_transaction {
        char transaction_id[SIM_ID_MAX]; /* "tx_<run>_<12-digit sequence>" */
        int64_t time_ms;                 /* event time */
        int64_t amount_minor;
        const char *currency; /* ISO 4217 alpha-3 */
        unsigned currency_decimals;
        char pan[SIM_PAN_LEN + 1]; /* Luhn-valid */
        char customer_id[SIM_ID_MAX];
        char merchant_id[SIM_ID_MAX];
        char terminal_id[SIM_ID_MAX];
        unsigned mcc;
        const char *country; /* ISO 3166-1 alpha-2 of the merchant */
        enum sim_channel channel;
        char device_id[SIM_ID_MAX]; /* "" when the channel has no device */
        char ip[SIM_IP_MAX];        /* "" when the channel has no IP */
        bool is_fraud;              /* ground truth: evaluation only */
        enum sim_scenario scenario; /* ground truth: evaluation only */
};

/* A chargeback received about an earlier transaction of the same stream. */
struct sim_chargeback {
        char chargeback_id[SIM_ID_MAX]; /* "cb_<run>_<12-digit sequence>" */
        char transaction_id[SIM_ID_MAX];
        int64_t time_ms; /* when it was received */
        int64_t transaction_time_ms;
        int64_t amount_minor; /* the whole payment is disputed */
        const char *currency;
        unsigned currency_decimals;
        const char *reason; /* Visa-style reason code: "10.4", "13.1", ... */
        char merchant_id[SIM_ID_MAX];
        char terminal_id[SIM_ID_MAX];
        bool is_fraud; /* the payment was fraud (false: friendly fraud) */
};

enum sim_event_kind {
        SIM_EVENT_TRANSACTION = 1,
        SIM_EVENT_CHARGEBACK,
};

/* Filled by sim_next(); only the member named by kind is valid. */
struct sim_event {
        enum sim_event_kind kind;
        struct sim_transaction tx;
        struct sim_chargeback cb;
};

/* Counts of what sim_next() has returned so far. */
struct sim_stats {
        uint64_t transactions;
        uint64_t frauds;
        uint64_t by_scenario[SIM_SCENARIO_COUNT];
        uint64_t chargebacks;
        uint64_t chargebacks_friendly; /* on legitimate payments */
};

struct sim;

/* The defaults of `fraudctl generate`: 30 days from 2026-01-01, 10,000
 * customers, 1,000 merchants, seed 1, fraud rate 0.005. */
void sim_config_default(struct sim_config *c);

/* 0, or -EINVAL with *why (static text) naming the field out of range. */
int sim_config_check(const struct sim_config *c, const char **why);

/* Builds the world.  On success *out owns a new simulator (release with
 * sim_free()); -EINVAL for a bad config, -ENOMEM. */
int sim_new(const struct sim_config *c, struct sim **out);
void sim_free(struct sim *s);

/* Fills *ev with the next event in event-time order (a chargeback and a
 * transaction at the same millisecond: the chargeback first).  Returns 1, 0
 * at the end of the stream, or -E2BIG / -ENOBUFS / -ENOMEM when a bound in
 * lib/bounds.h or memory ran out (the simulator is then spent).
 * Transactions cover [start_ms, start_ms + days); chargebacks follow their
 * payments by up to SIM_CHARGEBACK_DELAY_MAX_DAYS, so the stream ends with
 * the chargebacks that arrive after the last payment. */
int sim_next(struct sim *s, struct sim_event *ev);

/* Borrowed from s, updated by every sim_next(). */
const struct sim_stats *sim_stats(const struct sim *s);

/* "legit", "stolen_card", ...; "card_present", "contactless", ... */
const char *sim_scenario_name(enum sim_scenario sc);
const char *sim_channel_name(enum sim_channel ch);

/* The share of fraudulent transactions each scenario is budgeted (they add
 * up to 1; 0 for SIM_SCENARIO_LEGIT). */
double sim_scenario_share(enum sim_scenario sc);

#endif
