/* sim.c: the synthetic payments simulator (see sim.h for the API).
 *
 * The world, built once by sim_new() from the seed:
 * - Countries: FR DE ES IT NL (EUR), GB (GBP), US (USD, four time zones),
 *   JP (JPY, no minor unit) are home to customers and merchants; BR RO TR
 *   CN MX host only online merchants pricing in USD (cross-border
 *   e-commerce, and where stolen cards are spent).  A payment is in the
 *   merchant's currency.
 * - Customers: a home country and UTC offset, one card (70 %) or two, one
 *   or two devices, a home IP, six favourite physical merchants near home
 *   and three online ones (chosen by merchant popularity, a lognormal), a
 *   typical amount (lognormal, median 30 EUR), a rate (lognormal, median
 *   1.4 payments a day), a share of online spending, a weekend factor, and
 *   now and then a trip abroad (card-present spending in another country:
 *   "foreign" alone is not fraud).
 * - Cards: Luhn-valid 16-digit PANs on plausible issuer BINs of the home
 *   country (Visa 4..., Mastercard 5..., JCB 35...); the account digits are
 *   an affine permutation of the card index, so PANs never collide.
 * - Merchants: an MCC (grocery 5411, restaurants 5812, fast food 5814,
 *   fuel 5541, pharmacy 5912, department store 5311, electronics 5732,
 *   e-commerce 5999, digital goods 5816, taxi 4121, airline 4511, hotel
 *   7011, ATM 6011), physical or online, 1..FRAUD_SIM_TERMINALS_MAX
 *   terminals.  Physical payments are contactless (below the country's
 *   contactless limit, with the country's contactless share) or
 *   card-present; ATMs dispense round amounts; online payments are
 *   e-commerce or MOTO and carry a device and an IP.
 * - Rhythm: the hour is drawn from a local-time profile (night low,
 *   lunch and evening peaks; weekends start later and stay flatter), the
 *   count per customer-day is Poisson with a weekday factor (Friday and
 *   Saturday busiest, Sunday quietest).
 *
 * Fraud scenarios (is_fraud = 1, scenario column = the name).  Each has a
 * budget, sim_scenario_share() of fraud_rate / (1 - fraud_rate) times the
 * legitimate payments generated so far; episodes start on a day while the
 * scenario's budget covers half a typical episode, and spend it, so every
 * count tracks its share to within about half an episode.  The exception:
 * compromised_terminal needs cards copied at a skimmer (once per card);
 * budget it cannot spend within three days goes to the other scenarios, so
 * at high rates in small worlds the overall rate holds and its share falls.
 * - stolen_card (30 %): a card's details are sold; 3..8 e-commerce payments
 *   within hours at high-value online merchants in another country, on a
 *   new device and an IP of that country; median amount 250 EUR or 4x the
 *   customer's typical amount, whichever is higher.
 * - card_testing (20 %): a bot on one device and a hosting IP tries 1..3
 *   cards at one small online merchant: 4..12 payments of 0.50..2.00 EUR
 *   seconds apart, then one large purchase (median 450 EUR) minutes later.
 * - compromised_terminal (20 %): a physical terminal (grocery, fuel, ATM,
 *   restaurant, department store, electronics) is fitted with a skimmer for
 *   2..6 days; every chip or swipe payment there is legitimate, but its card
 *   is copied.  From a day later on, a cash-out crew uses the copies
 *   elsewhere: ATM withdrawals and electronics purchases, card-present, in
 *   another country (often the US, where magstripe fallback works), many
 *   cards in a few hours.  The terminal's own payments stay legitimate (the
 *   common point of purchase is what an analyst looks for); the frauds are
 *   the counterfeit payments.
 * - account_takeover (15 %): a customer's online account is taken over: a
 *   new device and a new IP (a residential proxy at home, or a hosting IP),
 *   2..6 e-commerce payments over hours at high-value online merchants of
 *   the home country, on any of the customer's cards; median amount 150 EUR
 *   or 6x the typical amount, whichever is higher.
 * - fraud_ring (15 %): 2..5 devices and 2..4 IPs shared across 8..30 cards
 *   of different customers, buying at 2..4 online merchants of one country
 *   over 1..5 days.
 *
 * Chargebacks: a fraud is charged back with probability 1 -
 * SIM_FRAUD_UNCHARGED_SHARE, a legitimate payment with probability
 * SIM_FRIENDLY_FRAUD_RATE.  The delay is lognormal (median 20 days, sigma
 * 0.8 in log space) truncated to [1, 120] days by resampling, so its median
 * is 19.8 days and its 90th percentile 53.1 days.  Reason codes: 10.4
 * (fraud, card absent), 10.1 (counterfeit card present: every card-present
 * fraud here is a compromised_terminal cash-out); friendly fraud 10.4 or
 * 13.1 (half each) when card absent, 13.1 otherwise.
 *
 * Event-time order.  The generator works in steps, one local calendar day
 * each (-1 .. days, so that every time zone covers the UTC span); each
 * step appends payments to a pending buffer.  Nothing a later step makes is
 * earlier than the next day's UTC midnight minus 12 hours, so after step k
 * the pending events before that instant are sorted (radix sort on
 * time << 24 | buffer index: ties broken by generation order) and
 * released; the rest carries over.  Events outside [start, start + days)
 * are dropped.  Chargebacks are decided as their payments are released and
 * wait in a min-heap on (time, payment sequence), merged into the stream.
 *
 * Determinism: four xoshiro256** streams (world, legitimate, fraud,
 * chargeback) seeded through splitmix64 from the seed.  Floating point is
 * IEEE 754 double without contraction (tools/meson.build builds this file
 * with -ffp-contract=off, so no fused multiply-add differs by platform);
 * beyond that, results depend only on libm's exp and log.  Ranged
 * integers use the multiply-shift map on 32 random bits (a bias below
 * n / 2^32, immaterial here).
 *
 * Errors are sticky: a full buffer or a failed allocation deep in a step
 * sets s->error, and sim_next() returns it from then on.
 */
#include "tools/sim.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS               INT64_C(86400000)
#define HOUR_MS              INT64_C(3600000)
#define MINUTE_MS            INT64_C(60000)
#define NONE                 UINT32_MAX
#define FAVOURITES_PHYSICAL  6
#define FAVOURITES_ONLINE    3
#define FAVOURITES           (FAVOURITES_PHYSICAL + FAVOURITES_ONLINE)
#define KEY_INDEX_BITS       24 /* FRAUD_SIM_PENDING_EVENTS_MAX == 1 << 24 */
#define KEY_INDEX_MASK       ((UINT64_C(1) << KEY_INDEX_BITS) - 1)
#define EPISODES_PER_DAY_MAX 4096 /* guards a scenario loop */
#define SKIM_MAX_AGE_MS      (60 * DAY_MS)
#define CASH_OUT_CARDS_MAX   25

/* What the sort key and the fixed-width ids rely on. */
_Static_assert(FRAUD_SIM_PENDING_EVENTS_MAX <= (1 << KEY_INDEX_BITS), "index fits the sort key");
_Static_assert((FRAUD_SIM_DAYS_MAX + 2) * DAY_MS < (INT64_C(1) << (64 - KEY_INDEX_BITS)),
               "event time fits the sort key");
_Static_assert(FRAUD_SIM_CUSTOMERS_MAX <= 99999999, "customer ids have 8 digits");
_Static_assert(FRAUD_SIM_MERCHANTS_MAX <= 9999999, "merchant ids have 7 digits");
_Static_assert(FRAUD_SIM_TERMINALS_MAX <= 99, "terminal numbers have 2 digits");

/* ------------------------------------------------------------------ */
/* Random numbers                                                       */
/* ------------------------------------------------------------------ */

struct rng {
        uint64_t s[4];
        double spare;
        bool has_spare;
};

static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t x) {
        return splitmix64(&x);
}

static void rng_seed(struct rng *r, uint64_t *sm) {
        for (int i = 0; i < 4; i++)
                r->s[i] = splitmix64(sm);
        r->has_spare = false;
        r->spare = 0.0;
}

static inline uint64_t rotl(uint64_t x, int k) {
        return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_u64(struct rng *r) {
        uint64_t *s = r->s;
        uint64_t out = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return out;
}

/* [0, 1) */
static inline double rng_unit(struct rng *r) {
        return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

/* [0, n) for n <= 2^32 */
static inline uint32_t rng_below(struct rng *r, uint64_t n) {
        return (uint32_t)(((rng_u64(r) >> 32) * n) >> 32);
}

/* [lo, hi] */
static inline uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi) {
        return lo + rng_below(r, (uint64_t)hi - lo + 1);
}

static inline int64_t rng_ms(struct rng *r, int64_t span_ms) {
        return (int64_t)(rng_unit(r) * (double)span_ms);
}

static inline bool rng_chance(struct rng *r, double p) {
        return rng_unit(r) < p;
}

/* Standard normal, Marsaglia's polar method. */
static double rng_normal(struct rng *r) {
        double u, v, q;

        if (r->has_spare) {
                r->has_spare = false;
                return r->spare;
        }
        do {
                u = 2.0 * rng_unit(r) - 1.0;
                v = 2.0 * rng_unit(r) - 1.0;
                q = u * u + v * v;
        } while (q >= 1.0 || q == 0.0);
        q = sqrt(-2.0 * log(q) / q);
        r->spare = v * q;
        r->has_spare = true;
        return u * q;
}

static double rng_lognormal(struct rng *r, double median, double sigma) {
        return median * exp(sigma * rng_normal(r));
}

/* Knuth's method; lambda stays below ~30 here. */
static unsigned rng_poisson(struct rng *r, double lambda) {
        double limit = exp(-lambda), p = rng_unit(r);
        unsigned n = 0;

        while (p > limit) {
                n++;
                p *= rng_unit(r);
        }
        return n;
}

static int64_t rng_exponential_ms(struct rng *r, int64_t mean_ms) {
        return (int64_t)(-log(1.0 - rng_unit(r)) * (double)mean_ms);
}

/* ------------------------------------------------------------------ */
/* The world's constants                                                */
/* ------------------------------------------------------------------ */

enum { CUR_EUR, CUR_GBP, CUR_USD, CUR_JPY, CUR_COUNT };

struct currency {
        const char *code;
        unsigned decimals;
        double per_eur;         /* units of this currency per euro */
        int64_t atm_step_minor; /* ATMs dispense multiples of this */
};

static const struct currency currencies[CUR_COUNT] = {
        {"EUR", 2, 1.0, 1000},
        {"GBP", 2, 0.86, 1000},
        {"USD", 2, 1.08, 2000},
        {"JPY", 0, 162.0, 1000},
};

enum { C_FR, C_DE, C_ES, C_IT, C_NL, C_GB, C_US, C_JP, C_BR, C_RO, C_TR, C_CN, C_MX, C_COUNT };
#define HOME_COUNTRIES 8 /* C_FR .. C_JP have customers */
#define BINS_MAX       3
#define IP_OCTETS      4
#define ZONES_MAX      4

struct country {
        const char *code;
        unsigned currency;
        double customer_weight; /* 0: no customers, no physical merchants */
        double contactless_share;
        double contactless_limit_eur;
        const char *bins[BINS_MAX];
        uint8_t ip_octets[IP_OCTETS];    /* plausible first octets, not geolocation */
        int16_t zone_minutes[ZONES_MAX]; /* UTC offsets (no daylight saving) */
        double zone_weight[ZONES_MAX];
};

/* clang-format off */
static const struct country countries[C_COUNT] = {
        {"FR", CUR_EUR, 0.14, 0.60, 50, {"497010", "513100"}, {90, 86, 78, 176}, {60}, {1}},
        {"DE", CUR_EUR, 0.16, 0.45, 50, {"455600", "522100"}, {91, 84, 87, 93}, {60}, {1}},
        {"ES", CUR_EUR, 0.09, 0.65, 50, {"454700", "540400"}, {88, 83, 95, 80}, {60}, {1}},
        {"IT", CUR_EUR, 0.09, 0.60, 50, {"453900", "532500"}, {79, 93, 151, 82}, {60}, {1}},
        {"NL", CUR_EUR, 0.05, 0.75, 50, {"465800", "535600"}, {77, 145, 84, 62}, {60}, {1}},
        {"GB", CUR_GBP, 0.17, 0.80, 116, {"475100", "542400"}, {81, 86, 109, 92}, {0}, {1}},
        {"US", CUR_USD, 0.22, 0.35, 1e9, {"414700", "426600", "517800"}, {73, 98, 24, 67},
         {-300, -360, -420, -480}, {0.47, 0.29, 0.07, 0.17}},
        {"JP", CUR_JPY, 0.08, 0.30, 123, {"356600", "416700"}, {126, 153, 114, 60}, {540}, {1}},
        {"BR", CUR_USD, 0, 0.5, 0, {NULL}, {177, 179, 189, 187}, {-180}, {1}},
        {"RO", CUR_USD, 0, 0.5, 0, {NULL}, {86, 89, 188, 5}, {120}, {1}},
        {"TR", CUR_USD, 0, 0.5, 0, {NULL}, {78, 88, 176, 85}, {180}, {1}},
        {"CN", CUR_USD, 0, 0.5, 0, {NULL}, {36, 58, 61, 183}, {480}, {1}},
        {"MX", CUR_USD, 0, 0.5, 0, {NULL}, {187, 189, 201, 200}, {-360}, {1}},
};
/* clang-format on */

/* Share of merchants in the countries without customers (online only). */
#define FOREIGN_MERCHANT_SHARE 0.06

/* First octets of hosting and VPN ranges, where bots and proxies live. */
static const uint8_t hosting_octets[IP_OCTETS] = {45, 104, 185, 193};

enum {
        K_GROCERY,
        K_RESTAURANT,
        K_FAST_FOOD,
        K_FUEL,
        K_PHARMACY,
        K_DEPARTMENT,
        K_ELECTRONICS,
        K_ECOMMERCE,
        K_DIGITAL,
        K_TAXI,
        K_AIRLINE,
        K_HOTEL,
        K_ATM,
        K_COUNT
};

struct category {
        unsigned mcc;
        double merchant_weight; /* share of merchants */
        double visit;           /* how often a favourite of this kind is visited */
        double amount;          /* times the customer's typical amount (ATM: EUR median) */
        double online_share;    /* share of such merchants selling online only */
        double moto_share;      /* share of their online payments by mail/phone order */
        double terminals;       /* mean terminals of a physical one */
        bool skimmable;         /* a plausible place for a skimmer */
};

static const struct category categories[K_COUNT] = {
        [K_GROCERY] = {5411, 18, 1.00, 1.0, 0.03, 0.00, 4.0, true},
        [K_RESTAURANT] = {5812, 14, 0.60, 1.2, 0.00, 0.00, 1.5, true},
        [K_FAST_FOOD] = {5814, 8, 0.60, 0.35, 0.10, 0.00, 1.5, false},
        [K_FUEL] = {5541, 6, 0.35, 1.6, 0.00, 0.00, 4.0, true},
        [K_PHARMACY] = {5912, 5, 0.25, 0.7, 0.10, 0.00, 1.5, false},
        [K_DEPARTMENT] = {5311, 4, 0.15, 2.0, 0.30, 0.02, 6.0, true},
        [K_ELECTRONICS] = {5732, 4, 0.05, 4.5, 0.60, 0.05, 3.0, true},
        [K_ECOMMERCE] = {5999, 14, 0.45, 1.3, 0.85, 0.03, 1.5, false},
        [K_DIGITAL] = {5816, 7, 0.45, 0.35, 1.00, 0.00, 1.0, false},
        [K_TAXI] = {4121, 5, 0.35, 0.7, 0.70, 0.10, 1.0, false},
        [K_AIRLINE] = {4511, 2, 0.02, 9.0, 1.00, 0.12, 1.0, false},
        [K_HOTEL] = {7011, 4, 0.03, 5.0, 0.50, 0.15, 2.0, false},
        [K_ATM] = {6011, 8, 0.25, 80.0, 0.00, 0.00, 1.3, true},
};

/* Payments per local hour, weekdays and weekends (relative weights). */
/* clang-format off */
static const double hour_weights[2][24] = {
        {0.6, 0.35, 0.2, 0.15, 0.15, 0.3, 0.9, 2.0, 3.2, 3.8, 4.2, 5.2,
         7.0, 6.5, 4.6, 4.4, 4.9, 6.0, 7.2, 7.0, 5.6, 4.0, 2.6, 1.4},
        {1.2, 0.8, 0.5, 0.3, 0.2, 0.2, 0.4, 0.9, 1.8, 3.0, 4.6, 5.8,
         6.6, 6.4, 5.8, 5.6, 5.6, 5.8, 6.4, 6.6, 5.8, 4.6, 3.2, 2.0},
};

/* Volume by weekday, Sunday first (mean 1). */
static const double weekday_factor[7] = {0.88, 0.93, 0.95, 0.97, 1.0, 1.15, 1.12};

static const double scenario_shares[SIM_SCENARIO_COUNT] = {
        [SIM_SCENARIO_STOLEN_CARD] = 0.30,
        [SIM_SCENARIO_CARD_TESTING] = 0.20,
        [SIM_SCENARIO_COMPROMISED_TERMINAL] = 0.20,
        [SIM_SCENARIO_ACCOUNT_TAKEOVER] = 0.15,
        [SIM_SCENARIO_FRAUD_RING] = 0.15,
};

/* Mean payments of one episode (of one card, for a cash-out).  An episode
 * starts only while the budget covers half of one, so a scenario's count
 * stays within half an episode of its budget, even in a tiny world. */
static const double episode_payments[SIM_SCENARIO_COUNT] = {
        [SIM_SCENARIO_STOLEN_CARD] = 5.5,
        [SIM_SCENARIO_CARD_TESTING] = 18,
        [SIM_SCENARIO_COMPROMISED_TERMINAL] = 2,
        [SIM_SCENARIO_ACCOUNT_TAKEOVER] = 4,
        [SIM_SCENARIO_FRAUD_RING] = 38,
};

/* Days of compromised_terminal budget that may wait for skimmed cards. */
#define CASH_OUT_BACKLOG_DAYS 3

static const char *const scenario_names[SIM_SCENARIO_COUNT] = {
        "legit", "stolen_card", "card_testing", "compromised_terminal", "account_takeover",
        "fraud_ring",
};
/* clang-format on */

static const char *const channel_names[SIM_CHANNEL_COUNT] = {
        "card_present", "contactless", "ecommerce", "atm", "moto",
};

enum reason { R_10_1, R_10_4, R_13_1, R_COUNT };
static const char *const reason_codes[R_COUNT] = {"10.1", "10.4", "13.1"};

/* ------------------------------------------------------------------ */
/* The world's state                                                    */
/* ------------------------------------------------------------------ */

struct customer {
        uint32_t fav[FAVOURITES]; /* physical near home, then online */
        uint32_t device[2];       /* device[1] == NONE: only one */
        uint32_t home_ip;
        uint32_t card_first; /* cards are contiguous */
        float typical_eur;
        float rate_per_day;
        float online_share;
        float weekend_factor;
        int32_t trip_end_day; /* last local day of the trip */
        int16_t zone_minutes;
        uint8_t country;
        uint8_t cards;
        uint8_t trip_country; /* C_COUNT: at home */
};

struct card {
        char pan[SIM_PAN_LEN];
        uint32_t customer;
};

struct merchant {
        int64_t skim_start_ms; /* a skimmer on skim_terminal during [start, end) */
        int64_t skim_end_ms;
        float popularity;
        uint8_t country;
        uint8_t category;
        uint8_t online;
        uint8_t terminals;
        uint8_t skim_terminal;
};

/* Merchants drawn by popularity: ids and the running sum of popularity. */
struct pool {
        uint32_t *ids;
        double *cum;
        uint32_t n;
};

/* A payment waiting to be released in event-time order. */
struct pending {
        int64_t time_ms;
        int64_t amount_minor;
        uint32_t card;
        uint32_t merchant;
        uint32_t device; /* NONE: no device */
        uint32_t ip;     /* 0: no IP */
        uint8_t terminal;
        uint8_t channel;
        uint8_t scenario;
};

/* A chargeback waiting for its time. */
struct pending_chargeback {
        int64_t time_ms;
        int64_t tx_time_ms;
        int64_t amount_minor;
        uint64_t tx_seq;
        uint32_t merchant;
        uint8_t terminal;
        uint8_t reason;
        uint8_t is_fraud;
};

/* A card copied by a skimmer, waiting for the cash-out crew. */
struct skim {
        int64_t time_ms;
        uint32_t card;
        uint8_t country;
};

struct sim {
        struct sim_config cfg;
        int64_t start_ms, end_ms, origin_ms;
        int64_t start_day; /* days since the epoch */
        int error;

        struct rng rng_world, rng_legit, rng_fraud, rng_cb;
        double hour_cum[2][24];

        struct customer *customers;
        struct card *cards;
        uint32_t cards_n;
        uint8_t *card_skimmed;
        struct merchant *merchants;
        uint32_t *group_start; /* (country, category, online) -> merchants by_group */
        uint32_t *by_group;
        struct pool physical[C_COUNT], online[C_COUNT], online_all;
        uint32_t devices_next;
        uint64_t device_salt;
        char tx_prefix[16], cb_prefix[16]; /* "tx_<run>_", "cb_<run>_" */

        /* fraud budgets, in payments */
        double credit[SIM_SCENARIO_COUNT];
        double credit_per_day[SIM_SCENARIO_COUNT];
        uint32_t *compromised; /* merchants with a skimmer */
        uint32_t compromised_n;
        double skims_total, compromise_days_total;
        struct skim *skims; /* ring buffer */
        uint32_t skims_head, skims_n;

        /* pending payments: generated, not yet released */
        struct pending *pend, *carry;
        uint64_t *keys, *keys_tmp;
        size_t pend_n, pend_cap;
        size_t emit_pos, emit_end;
        int32_t step; /* next local day to generate */

        struct pending_chargeback *heap;
        size_t heap_n, heap_cap;

        uint64_t tx_seq, cb_seq;
        struct sim_stats stats;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static char *put_dec(char *p, uint64_t v, int width) {
        for (int i = width - 1; i >= 0; i--) {
                p[i] = (char)('0' + v % 10);
                v /= 10;
        }
        return p + width;
}

static char *put_hex(char *p, uint64_t v, int width) {
        static const char digits[] = "0123456789abcdef";

        for (int i = width - 1; i >= 0; i--) {
                p[i] = digits[v & 15];
                v >>= 4;
        }
        return p + width;
}

static int64_t floor_mod(int64_t a, int64_t b) {
        int64_t m = a % b;

        return m < 0 ? m + b : m;
}

static inline int64_t day_ms(const struct sim *s, int32_t k) {
        return s->start_ms + (int64_t)k * DAY_MS;
}

static inline const struct currency *merchant_currency(const struct sim *s, uint32_t m) {
        return &currencies[countries[s->merchants[m].country].currency];
}

static int64_t amount_minor(const struct sim *s, uint32_t m, double eur) {
        const struct currency *c = merchant_currency(s, m);
        double scale = c->decimals == 2 ? 100.0 : 1.0;
        int64_t minor = llround(eur * c->per_eur * scale);

        return minor < 1 ? 1 : minor;
}

static int64_t amount_atm_minor(const struct sim *s, uint32_t m, double eur) {
        const struct currency *c = merchant_currency(s, m);
        double scale = c->decimals == 2 ? 100.0 : 1.0;
        int64_t notes = llround(eur * c->per_eur * scale / (double)c->atm_step_minor);

        return (notes < 2 ? 2 : notes) * c->atm_step_minor;
}

static double clamp(double v, double lo, double hi) {
        return v < lo ? lo : v > hi ? hi : v;
}

static uint32_t ip_from(struct rng *r, const uint8_t octets[IP_OCTETS]) {
        uint32_t first = octets[rng_below(r, IP_OCTETS)];
        uint32_t middle = rng_below(r, 1u << 16);

        return first << 24 | middle << 8 | rng_range(r, 1, 254);
}

static uint32_t ip_in_country(struct rng *r, unsigned country) {
        return ip_from(r, countries[country].ip_octets);
}

static unsigned weighted_index(struct rng *r, const double *w, unsigned n) {
        double total = 0, u;

        for (unsigned i = 0; i < n; i++)
                total += w[i];
        u = rng_unit(r) * total;
        for (unsigned i = 0; i < n; i++) {
                if (u < w[i])
                        return i;
                u -= w[i];
        }
        return n - 1;
}

static uint32_t pool_pick(const struct pool *p, struct rng *r) {
        double u;
        uint32_t lo = 0, hi;

        if (p->n == 0)
                return NONE;
        u = rng_unit(r) * p->cum[p->n - 1];
        hi = p->n - 1;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;

                if (p->cum[mid] > u)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return p->ids[lo];
}

static unsigned group_key(unsigned country, unsigned category, unsigned online) {
        return (country * K_COUNT + category) * 2 + online;
}

/* A uniformly chosen merchant of (country, category, online), or NONE. */
static uint32_t group_pick(const struct sim *s, struct rng *r, unsigned country, unsigned category,
                           unsigned online) {
        unsigned k = group_key(country, category, online);
        uint32_t n = s->group_start[k + 1] - s->group_start[k];

        return n == 0 ? NONE : s->by_group[s->group_start[k] + rng_below(r, n)];
}

/* An online merchant in country of one of the kinds, else any online one
 * there, else any online one. */
static uint32_t online_pick(const struct sim *s, struct rng *r, unsigned country,
                            const unsigned *kinds, unsigned kinds_n) {
        for (unsigned tries = 0; tries < 2 * kinds_n; tries++) {
                uint32_t m = group_pick(s, r, country, kinds[rng_below(r, kinds_n)], 1);

                if (m != NONE)
                        return m;
        }
        if (s->online[country].n > 0)
                return pool_pick(&s->online[country], r);
        return pool_pick(&s->online_all, r);
}

/* A country with customers, by population; never `except` (C_COUNT: none excepted). */
static unsigned home_country_pick(struct rng *r, unsigned except) {
        double w[HOME_COUNTRIES];

        for (unsigned i = 0; i < HOME_COUNTRIES; i++)
                w[i] = i == except ? 0 : countries[i].customer_weight;
        return weighted_index(r, w, HOME_COUNTRIES);
}

/* Any country but `except`; countries without customers weigh three times more. */
static unsigned foreign_country_pick(struct rng *r, unsigned except) {
        double w[C_COUNT];

        for (unsigned i = 0; i < C_COUNT; i++)
                w[i] = i == except ? 0 : i < HOME_COUNTRIES ? 1 : 3;
        return weighted_index(r, w, C_COUNT);
}

/* ------------------------------------------------------------------ */
/* Pending payments and chargebacks                                     */
/* ------------------------------------------------------------------ */

static int pend_grow(struct sim *s) {
        size_t cap = s->pend_cap * 2;
        void *p;

        if (s->pend_cap >= FRAUD_SIM_PENDING_EVENTS_MAX)
                return -E2BIG;
        if (cap > FRAUD_SIM_PENDING_EVENTS_MAX)
                cap = FRAUD_SIM_PENDING_EVENTS_MAX;
        if (!(p = realloc(s->pend, cap * sizeof(*s->pend))))
                return -ENOMEM;
        s->pend = p;
        if (!(p = realloc(s->carry, cap * sizeof(*s->carry))))
                return -ENOMEM;
        s->carry = p;
        if (!(p = realloc(s->keys, cap * sizeof(*s->keys))))
                return -ENOMEM;
        s->keys = p;
        if (!(p = realloc(s->keys_tmp, cap * sizeof(*s->keys_tmp))))
                return -ENOMEM;
        s->keys_tmp = p;
        s->pend_cap = cap;
        return 0;
}

/* Appends p if it falls in the simulated span; true if appended. */
static bool pend_push(struct sim *s, const struct pending *p) {
        int r;

        if (p->time_ms < s->start_ms || p->time_ms >= s->end_ms || s->error)
                return false;
        if (s->pend_n == s->pend_cap && (r = pend_grow(s)) < 0) {
                s->error = r;
                return false;
        }
        s->pend[s->pend_n++] = *p;
        return true;
}

static bool cb_before(const struct pending_chargeback *a, const struct pending_chargeback *b) {
        return a->time_ms < b->time_ms || (a->time_ms == b->time_ms && a->tx_seq < b->tx_seq);
}

static void heap_push(struct sim *s, const struct pending_chargeback *cb) {
        size_t i;

        if (s->heap_n == s->heap_cap) {
                size_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
                void *p;

                if (s->heap_cap >= FRAUD_SIM_PENDING_CHARGEBACKS_MAX) {
                        s->error = -ENOBUFS;
                        return;
                }
                if (cap > FRAUD_SIM_PENDING_CHARGEBACKS_MAX)
                        cap = FRAUD_SIM_PENDING_CHARGEBACKS_MAX;
                if (!(p = realloc(s->heap, cap * sizeof(*s->heap)))) {
                        s->error = -ENOMEM;
                        return;
                }
                s->heap = p;
                s->heap_cap = cap;
        }
        for (i = s->heap_n++; i > 0 && cb_before(cb, &s->heap[(i - 1) / 2]); i = (i - 1) / 2)
                s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[i] = *cb;
}

static struct pending_chargeback heap_pop(struct sim *s) {
        struct pending_chargeback top = s->heap[0], last = s->heap[--s->heap_n];
        size_t i = 0, n = s->heap_n;

        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= n)
                        break;
                if (c + 1 < n && cb_before(&s->heap[c + 1], &s->heap[c]))
                        c++;
                if (!cb_before(&s->heap[c], &last))
                        break;
                s->heap[i] = s->heap[c];
                i = c;
        }
        if (n > 0)
                s->heap[i] = last;
        return top;
}

/* LSD radix sort of 64-bit keys, 11 bits a pass, ping-ponging between a
 * and tmp; passes where every key has the same digit are skipped. */
static void keys_sort(uint64_t *a, uint64_t *tmp, size_t n) {
        uint64_t *src = a, *dst = tmp, *t;
        size_t count[2048];

        for (int shift = 0; shift < 64 && n > 0; shift += 11) {
                size_t sum = 0;

                memset(count, 0, sizeof(count));
                for (size_t i = 0; i < n; i++)
                        count[(src[i] >> shift) & 2047]++;
                if (count[(src[0] >> shift) & 2047] == n)
                        continue;
                for (size_t d = 0; d < 2048; d++) {
                        size_t c = count[d];

                        count[d] = sum;
                        sum += c;
                }
                for (size_t i = 0; i < n; i++)
                        dst[count[(src[i] >> shift) & 2047]++] = src[i];
                t = src;
                src = dst;
                dst = t;
        }
        if (src != a)
                memcpy(a, src, n * sizeof(*a));
}

/* ------------------------------------------------------------------ */
/* Building the world                                                   */
/* ------------------------------------------------------------------ */

static void pool_release(struct pool *p) {
        free(p->ids);
        free(p->cum);
        p->ids = NULL;
        p->cum = NULL;
        p->n = 0;
}

/* Fills p with the merchants of country (any when country == C_COUNT)
 * that are online or not. */
static int pool_build(struct sim *s, struct pool *p, unsigned country, unsigned online) {
        uint32_t n = 0;
        double sum = 0;

        for (uint32_t m = 0; m < s->cfg.merchants; m++)
                n += (country == C_COUNT || s->merchants[m].country == country) &&
                     s->merchants[m].online == online;
        p->ids = malloc((n ? n : 1) * sizeof(*p->ids));
        p->cum = malloc((n ? n : 1) * sizeof(*p->cum));
        if (!p->ids || !p->cum)
                return -ENOMEM;
        p->n = 0;
        for (uint32_t m = 0; m < s->cfg.merchants; m++) {
                const struct merchant *me = &s->merchants[m];

                if ((country != C_COUNT && me->country != country) || me->online != online)
                        continue;
                sum += me->popularity;
                p->ids[p->n] = m;
                p->cum[p->n++] = sum;
        }
        return 0;
}

/* The first merchants are fixed so every scenario has somewhere to happen:
 * in each home country a grocery, an online shop and an ATM; in each other
 * country an online digital-goods seller. */
static void merchant_kind(struct sim *s, uint32_t m, unsigned *country, unsigned *category,
                          unsigned *online) {
        static const unsigned fixed[3] = {K_GROCERY, K_ECOMMERCE, K_ATM};
        struct rng *r = &s->rng_world;
        double kw[K_COUNT];

        if (m < 3 * HOME_COUNTRIES) {
                *country = m / 3;
                *category = fixed[m % 3];
                *online = *category == K_ECOMMERCE;
                return;
        }
        if (m < 3 * HOME_COUNTRIES + (C_COUNT - HOME_COUNTRIES)) {
                *country = HOME_COUNTRIES + (m - 3 * HOME_COUNTRIES);
                *category = K_DIGITAL;
                *online = 1;
                return;
        }
        for (unsigned k = 0; k < K_COUNT; k++)
                kw[k] = categories[k].merchant_weight;
        *category = weighted_index(r, kw, K_COUNT);
        if (rng_chance(r, FOREIGN_MERCHANT_SHARE)) {
                *country = HOME_COUNTRIES + rng_below(r, C_COUNT - HOME_COUNTRIES);
                *online = 1;
                if (categories[*category].online_share == 0)
                        *category = K_ECOMMERCE;
                return;
        }
        *country = home_country_pick(r, C_COUNT);
        *online = rng_chance(r, categories[*category].online_share);
}

static int merchants_build(struct sim *s) {
        uint32_t n = s->cfg.merchants, keys = C_COUNT * K_COUNT * 2;

        s->merchants = calloc(n, sizeof(*s->merchants));
        s->group_start = calloc(keys + 1, sizeof(*s->group_start));
        s->by_group = malloc(n * sizeof(*s->by_group));
        if (!s->merchants || !s->group_start || !s->by_group)
                return -ENOMEM;
        for (uint32_t m = 0; m < n; m++) {
                struct merchant *me = &s->merchants[m];
                unsigned country, category, online;
                double terminals;

                merchant_kind(s, m, &country, &category, &online);
                terminals =
                        online ? 1
                               : 1 + rng_poisson(&s->rng_world, categories[category].terminals - 1);
                me->country = (uint8_t)country;
                me->category = (uint8_t)category;
                me->online = (uint8_t)online;
                me->terminals = (uint8_t)clamp(terminals, 1, FRAUD_SIM_TERMINALS_MAX);
                me->popularity = (float)rng_lognormal(&s->rng_world, 1.0, 1.0);
                me->skim_terminal = UINT8_MAX;
                s->group_start[group_key(country, category, online) + 1]++;
        }
        for (uint32_t k = 0; k < keys; k++)
                s->group_start[k + 1] += s->group_start[k];
        {
                uint32_t *fill = malloc(keys * sizeof(*fill));

                if (!fill)
                        return -ENOMEM;
                memcpy(fill, s->group_start, keys * sizeof(*fill));
                for (uint32_t m = 0; m < n; m++) {
                        const struct merchant *me = &s->merchants[m];

                        s->by_group[fill[group_key(me->country, me->category, me->online)]++] = m;
                }
                free(fill);
        }
        return 0;
}

static int pools_build(struct sim *s) {
        int r;

        for (unsigned c = 0; c < C_COUNT; c++) {
                if ((r = pool_build(s, &s->physical[c], c, 0)) < 0 ||
                    (r = pool_build(s, &s->online[c], c, 1)) < 0)
                        return r;
        }
        return pool_build(s, &s->online_all, C_COUNT, 1);
}

/* BIN + 9 account digits + the Luhn check digit. */
static void pan_make(char pan[SIM_PAN_LEN], const char *bin, uint64_t account) {
        int sum = 0;

        memcpy(pan, bin, 6);
        put_dec(pan + 6, account, 9);
        for (int i = SIM_PAN_LEN - 2, dbl = 1; i >= 0; i--, dbl = !dbl) {
                int d = pan[i] - '0';

                if (dbl && (d *= 2) > 9)
                        d -= 9;
                sum += d;
        }
        pan[SIM_PAN_LEN - 1] = (char)('0' + (10 - sum % 10) % 10);
}

static void customer_favourites(struct sim *s, struct customer *c) {
        struct rng *r = &s->rng_world;

        for (unsigned i = 0; i < FAVOURITES_PHYSICAL; i++)
                c->fav[i] = pool_pick(&s->physical[c->country], r);
        for (unsigned i = 0; i < FAVOURITES_ONLINE; i++) {
                const struct pool *p = i < 2 ? &s->online[c->country] : &s->online_all;

                c->fav[FAVOURITES_PHYSICAL + i] = pool_pick(p->n ? p : &s->online_all, r);
        }
}

static void customer_make(struct sim *s, uint32_t u, uint64_t account_mul, uint64_t account_add) {
        struct rng *r = &s->rng_world;
        struct customer *c = &s->customers[u];
        const struct country *co;
        unsigned bins = 0;

        c->country = (uint8_t)home_country_pick(r, C_COUNT);
        co = &countries[c->country];
        c->zone_minutes = co->zone_minutes[weighted_index(r, co->zone_weight, ZONES_MAX)];
        c->cards = rng_chance(r, 0.3) ? 2 : 1;
        c->card_first = s->cards_n;
        while (bins < BINS_MAX && co->bins[bins])
                bins++;
        for (unsigned i = 0; i < c->cards; i++) {
                struct card *cd = &s->cards[s->cards_n];
                uint64_t account = (s->cards_n * account_mul + account_add) % UINT64_C(1000000000);

                pan_make(cd->pan, co->bins[rng_below(r, bins)], account);
                cd->customer = u;
                s->cards_n++;
        }
        c->device[0] = s->devices_next++;
        c->device[1] = rng_chance(r, 0.5) ? s->devices_next++ : NONE;
        c->home_ip = ip_in_country(r, c->country);
        c->typical_eur = (float)clamp(rng_lognormal(r, 30.0, 0.5), 3, 500);
        c->rate_per_day = (float)clamp(rng_lognormal(r, 1.4, 0.5), 0.1, 8);
        c->online_share = (float)clamp(0.1 + 0.35 * rng_unit(r), 0, 1);
        c->weekend_factor = (float)clamp(rng_lognormal(r, 1.0, 0.25), 0.4, 2);
        c->trip_country = C_COUNT;
        c->trip_end_day = -2;
        customer_favourites(s, c);
}

static int customers_build(struct sim *s) {
        uint32_t n = s->cfg.customers;
        /* 387420489 = 3^18 is prime to 10^9: card index -> account digits
         * is a bijection, so no two cards share a PAN. */
        uint64_t account_mul = 387420489, account_add = rng_u64(&s->rng_world) % 1000000000;

        s->customers = calloc(n, sizeof(*s->customers));
        s->cards = calloc((size_t)n * 2, sizeof(*s->cards));
        s->card_skimmed = calloc((size_t)n * 2, 1);
        if (!s->customers || !s->cards || !s->card_skimmed)
                return -ENOMEM;
        for (uint32_t u = 0; u < n; u++)
                customer_make(s, u, account_mul, account_add);
        return 0;
}

static void run_tag_make(struct sim *s) {
        uint64_t rate_bits, h;
        char *p;

        memcpy(&rate_bits, &s->cfg.fraud_rate, sizeof(rate_bits));
        h = mix64(s->cfg.seed) ^ mix64((uint64_t)s->cfg.start_ms + 1);
        h = mix64(h ^ ((uint64_t)s->cfg.days << 40) ^ ((uint64_t)s->cfg.customers << 8));
        h = mix64(h ^ s->cfg.merchants ^ mix64(rate_bits));
        p = s->tx_prefix;
        memcpy(p, "tx_", 3);
        p = put_hex(p + 3, h >> 32, 8);
        *p++ = '_';
        *p = '\0';
        memcpy(s->cb_prefix, s->tx_prefix, sizeof(s->cb_prefix));
        memcpy(s->cb_prefix, "cb", 2);
}

static void hour_tables_make(struct sim *s) {
        for (int w = 0; w < 2; w++) {
                double sum = 0, total = 0;

                for (int h = 0; h < 24; h++)
                        total += hour_weights[w][h];
                for (int h = 0; h < 24; h++) {
                        sum += hour_weights[w][h];
                        s->hour_cum[w][h] = sum / total;
                }
                s->hour_cum[w][23] = 1.0;
        }
}

/* ------------------------------------------------------------------ */
/* Legitimate payments                                                  */
/* ------------------------------------------------------------------ */

static int64_t local_ms_of_day(struct sim *s, struct rng *r, bool weekend) {
        double u = rng_unit(r);
        int h = 0;

        while (h < 23 && u >= s->hour_cum[weekend][h])
                h++;
        return h * HOUR_MS + rng_ms(r, HOUR_MS);
}

/* One of the customer's favourites in [first, first + n), by visit weight. */
static uint32_t favourite_pick(const struct sim *s, struct rng *r, const struct customer *c,
                               unsigned first, unsigned n) {
        double w[FAVOURITES];

        for (unsigned i = 0; i < n; i++)
                w[i] = categories[s->merchants[c->fav[first + i]].category].visit;
        return c->fav[first + weighted_index(r, w, n)];
}

static uint32_t legit_merchant(struct sim *s, struct rng *r, const struct customer *c,
                               bool online) {
        if (online) {
                if (rng_chance(r, 0.85))
                        return favourite_pick(s, r, c, FAVOURITES_PHYSICAL, FAVOURITES_ONLINE);
                return pool_pick(rng_chance(r, 0.7) && s->online[c->country].n
                                         ? &s->online[c->country]
                                         : &s->online_all,
                                 r);
        }
        if (c->trip_country != C_COUNT)
                return pool_pick(&s->physical[c->trip_country], r);
        if (rng_chance(r, 0.88))
                return favourite_pick(s, r, c, 0, FAVOURITES_PHYSICAL);
        return pool_pick(&s->physical[c->country], r);
}

/* Channel, amount, device and IP of a legitimate payment at p->merchant. */
static void legit_details(struct sim *s, struct rng *r, struct customer *c, struct pending *p) {
        const struct merchant *m = &s->merchants[p->merchant];
        const struct category *k = &categories[m->category];
        double eur;

        p->device = NONE;
        p->ip = 0;
        if (m->category == K_ATM) {
                p->channel = SIM_CHANNEL_ATM;
                p->amount_minor =
                        amount_atm_minor(s, p->merchant, rng_lognormal(r, k->amount, 0.55));
                return;
        }
        eur = clamp(c->typical_eur * k->amount * rng_lognormal(r, 1.0, 0.75), 0.5, 20000);
        p->amount_minor = amount_minor(s, p->merchant, eur);
        if (!m->online) {
                const struct country *co = &countries[m->country];

                p->channel =
                        eur <= co->contactless_limit_eur && rng_chance(r, co->contactless_share)
                                ? SIM_CHANNEL_CONTACTLESS
                                : SIM_CHANNEL_CARD_PRESENT;
                return;
        }
        if (rng_chance(r, k->moto_share)) {
                p->channel = SIM_CHANNEL_MOTO;
                return;
        }
        p->channel = SIM_CHANNEL_ECOMMERCE;
        if (rng_chance(r, 0.003)) /* a new phone or laptop: it stays */
                c->device[1] = s->devices_next++;
        p->device = c->device[1] != NONE && rng_chance(r, 0.3) ? c->device[1] : c->device[0];
        if (c->trip_country != C_COUNT && rng_chance(r, 0.5))
                p->ip = ip_in_country(r, c->trip_country);
        else
                p->ip = rng_chance(r, 0.65) ? c->home_ip : ip_in_country(r, c->country);
}

/* A card-present payment at a terminal with a skimmer copies the card. */
static void skim_check(struct sim *s, const struct pending *p) {
        const struct merchant *m = &s->merchants[p->merchant];
        struct skim *sk;

        if (m->skim_terminal != p->terminal || p->time_ms < m->skim_start_ms ||
            p->time_ms >= m->skim_end_ms ||
            (p->channel != SIM_CHANNEL_CARD_PRESENT && p->channel != SIM_CHANNEL_ATM) ||
            s->card_skimmed[p->card] || s->skims_n == FRAUD_SIM_SKIM_POOL_MAX)
                return;
        s->card_skimmed[p->card] = 1;
        sk = &s->skims[(s->skims_head + s->skims_n++) % FRAUD_SIM_SKIM_POOL_MAX];
        sk->time_ms = p->time_ms;
        sk->card = p->card;
        sk->country = m->country;
        s->skims_total++;
}

static void trip_update(struct rng *r, struct customer *c, int32_t k) {
        if (c->trip_country != C_COUNT && k > c->trip_end_day)
                c->trip_country = C_COUNT;
        if (c->trip_country == C_COUNT && rng_chance(r, 0.004)) {
                unsigned to = home_country_pick(r, C_COUNT);

                if (to != c->country) {
                        c->trip_country = (uint8_t)to;
                        c->trip_end_day = k + (int32_t)rng_range(r, 2, 9);
                }
        }
}

/* The customer's payments on local day k; returns how many were kept. */
static uint64_t legit_customer_day(struct sim *s, uint32_t u, int32_t k, int weekday) {
        struct rng *r = &s->rng_legit;
        struct customer *c = &s->customers[u];
        bool weekend = weekday == 0 || weekday == 6;
        double lambda =
                c->rate_per_day * weekday_factor[weekday] * (weekend ? c->weekend_factor : 1);
        int64_t midnight_utc = day_ms(s, k) - c->zone_minutes * MINUTE_MS;
        unsigned n;
        uint64_t kept = 0;

        trip_update(r, c, k);
        n = rng_poisson(r, lambda);
        for (unsigned i = 0; i < n; i++) {
                struct pending p;

                p.time_ms = midnight_utc + local_ms_of_day(s, r, weekend);
                if (p.time_ms < s->start_ms || p.time_ms >= s->end_ms)
                        continue;
                p.merchant = legit_merchant(s, r, c, rng_chance(r, c->online_share));
                p.card = c->card_first + (c->cards > 1 && rng_chance(r, 0.3));
                p.terminal = (uint8_t)rng_below(r, s->merchants[p.merchant].terminals);
                p.scenario = SIM_SCENARIO_LEGIT;
                legit_details(s, r, c, &p);
                if (s->merchants[p.merchant].skim_terminal != UINT8_MAX)
                        skim_check(s, &p);
                kept += pend_push(s, &p);
        }
        return kept;
}

static uint64_t legit_day(struct sim *s, int32_t k) {
        int weekday = (int)floor_mod(s->start_day + k + 4, 7); /* 1970-01-01: Thursday */
        uint64_t kept = 0;

        for (uint32_t u = 0; u < s->cfg.customers; u++)
                kept += legit_customer_day(s, u, k, weekday);
        return kept;
}

/* ------------------------------------------------------------------ */
/* Fraud scenarios                                                      */
/* ------------------------------------------------------------------ */

static const unsigned high_value_online[] = {K_ELECTRONICS, K_AIRLINE, K_ECOMMERCE, K_DIGITAL};

static struct pending fraud_template(uint32_t card, enum sim_scenario sc, enum sim_channel ch) {
        struct pending p;

        memset(&p, 0, sizeof(p));
        p.card = card;
        p.scenario = (uint8_t)sc;
        p.channel = (uint8_t)ch;
        p.device = NONE;
        return p;
}

static const struct customer *card_owner(const struct sim *s, uint32_t card) {
        return &s->customers[s->cards[card].customer];
}

static unsigned fraud_stolen_card(struct sim *s, int64_t day_start) {
        struct rng *r = &s->rng_fraud;
        uint32_t card = rng_below(r, s->cards_n);
        const struct customer *c = card_owner(s, card);
        unsigned country = foreign_country_pick(r, c->country);
        struct pending p = fraud_template(card, SIM_SCENARIO_STOLEN_CARD, SIM_CHANNEL_ECOMMERCE);
        double median = fmax(250.0, 4.0 * c->typical_eur);
        unsigned n = rng_range(r, 3, 8), kept = 0;

        p.device = s->devices_next++;
        p.ip = ip_in_country(r, country);
        p.time_ms = day_start + rng_ms(r, DAY_MS);
        for (unsigned i = 0; i < n; i++) {
                p.merchant = online_pick(s, r, country, high_value_online, 4);
                p.amount_minor =
                        amount_minor(s, p.merchant, fmin(rng_lognormal(r, median, 0.5), 6000));
                kept += pend_push(s, &p);
                p.time_ms += MINUTE_MS + rng_exponential_ms(r, 12 * MINUTE_MS);
        }
        return kept;
}

static unsigned card_testing_one(struct sim *s, struct pending *p, uint32_t tester) {
        static const unsigned big[] = {K_ELECTRONICS, K_ECOMMERCE, K_AIRLINE};
        struct rng *r = &s->rng_fraud;
        unsigned tests = rng_range(r, 4, 12), kept = 0;

        p->merchant = tester;
        for (unsigned i = 0; i < tests; i++) {
                p->amount_minor = amount_minor(s, tester, 0.5 + 1.5 * rng_unit(r));
                kept += pend_push(s, p);
                p->time_ms += 5000 + rng_ms(r, 85000);
        }
        p->time_ms += 5 * MINUTE_MS + rng_ms(r, 55 * MINUTE_MS);
        p->merchant = online_pick(s, r, s->merchants[tester].country, big, 3);
        p->amount_minor =
                amount_minor(s, p->merchant, clamp(rng_lognormal(r, 450, 0.5), 150, 3000));
        kept += pend_push(s, p);
        return kept;
}

static unsigned fraud_card_testing(struct sim *s, int64_t day_start) {
        static const unsigned small[] = {K_DIGITAL, K_ECOMMERCE};
        struct rng *r = &s->rng_fraud;
        uint32_t tester = online_pick(s, r, rng_below(r, C_COUNT), small, 2);
        struct pending p = fraud_template(0, SIM_SCENARIO_CARD_TESTING, SIM_CHANNEL_ECOMMERCE);
        unsigned cards = rng_range(r, 1, 3), kept = 0;

        p.device = s->devices_next++;
        p.ip = ip_from(r, hosting_octets);
        p.time_ms = day_start + rng_ms(r, DAY_MS);
        for (unsigned i = 0; i < cards; i++) {
                p.card = rng_below(r, s->cards_n);
                kept += card_testing_one(s, &p, tester);
                p.time_ms += MINUTE_MS + rng_ms(r, 9 * MINUTE_MS);
        }
        return kept;
}

static unsigned fraud_account_takeover(struct sim *s, int64_t day_start) {
        struct rng *r = &s->rng_fraud;
        const struct customer *c = &s->customers[rng_below(r, s->cfg.customers)];
        struct pending p = fraud_template(0, SIM_SCENARIO_ACCOUNT_TAKEOVER, SIM_CHANNEL_ECOMMERCE);
        double median = fmax(150.0, 6.0 * c->typical_eur);
        unsigned n = rng_range(r, 2, 6), kept = 0;

        p.device = s->devices_next++;
        p.ip = rng_chance(r, 0.7) ? ip_in_country(r, c->country) : ip_from(r, hosting_octets);
        p.time_ms = day_start + rng_ms(r, DAY_MS);
        for (unsigned i = 0; i < n; i++) {
                p.card = c->card_first + rng_below(r, c->cards);
                p.merchant = online_pick(s, r, c->country, high_value_online, 4);
                p.amount_minor =
                        amount_minor(s, p.merchant, clamp(rng_lognormal(r, median, 0.6), 20, 8000));
                kept += pend_push(s, &p);
                p.time_ms += 10 * MINUTE_MS + rng_exponential_ms(r, 3 * HOUR_MS);
        }
        return kept;
}

#define RING_DEVICES_MAX   5
#define RING_IPS_MAX       4
#define RING_MERCHANTS_MAX 4

static unsigned fraud_ring(struct sim *s, int64_t day_start) {
        static const unsigned kinds[] = {K_ECOMMERCE, K_ELECTRONICS, K_DIGITAL};
        struct rng *r = &s->rng_fraud;
        uint32_t devices[RING_DEVICES_MAX], ips[RING_IPS_MAX], merchants[RING_MERCHANTS_MAX];
        unsigned nd = rng_range(r, 2, RING_DEVICES_MAX), ni = rng_range(r, 2, RING_IPS_MAX);
        unsigned nm = rng_range(r, 2, RING_MERCHANTS_MAX), cards = rng_range(r, 8, 30);
        unsigned target = home_country_pick(r, C_COUNT), kept = 0;
        int64_t t0 = day_start + rng_ms(r, DAY_MS), span = rng_range(r, 1, 5) * DAY_MS;
        struct pending p = fraud_template(0, SIM_SCENARIO_FRAUD_RING, SIM_CHANNEL_ECOMMERCE);

        for (unsigned i = 0; i < nd; i++)
                devices[i] = s->devices_next++;
        for (unsigned i = 0; i < ni; i++)
                ips[i] = ip_from(r, hosting_octets);
        for (unsigned i = 0; i < nm; i++)
                merchants[i] = online_pick(s, r, target, kinds, 3);
        for (unsigned i = 0; i < cards; i++) {
                unsigned uses = rng_range(r, 1, 3);

                p.card = rng_below(r, s->cards_n);
                for (unsigned j = 0; j < uses; j++) {
                        p.time_ms = t0 + rng_ms(r, span);
                        p.device = devices[rng_below(r, nd)];
                        p.ip = ips[rng_below(r, ni)];
                        p.merchant = merchants[rng_below(r, nm)];
                        p.amount_minor = amount_minor(s, p.merchant,
                                                      clamp(rng_lognormal(r, 180, 0.6), 20, 3000));
                        kept += pend_push(s, &p);
                }
        }
        return kept;
}

/* Fits a skimmer to a terminal a random customer uses, from the start of
 * the next local day (all time zones) for 2..6 days. */
static void compromise_open(struct sim *s, int32_t k) {
        struct rng *r = &s->rng_fraud;
        const struct customer *c = &s->customers[rng_below(r, s->cfg.customers)];
        unsigned first = rng_below(r, FAVOURITES_PHYSICAL);

        for (unsigned i = 0; i < FAVOURITES_PHYSICAL; i++) {
                uint32_t mi = c->fav[(first + i) % FAVOURITES_PHYSICAL];
                struct merchant *m = &s->merchants[mi];
                int32_t days = (int32_t)rng_range(r, 2, 6);

                if (!categories[m->category].skimmable || m->skim_terminal != UINT8_MAX)
                        continue;
                m->skim_terminal = (uint8_t)rng_below(r, m->terminals);
                m->skim_start_ms = day_ms(s, k + 1) - 12 * HOUR_MS;
                m->skim_end_ms = m->skim_start_ms + days * DAY_MS;
                s->compromised[s->compromised_n++] = mi;
                s->compromise_days_total += days;
                return;
        }
}

/* Removes skimmers that are done, then fits new ones while the skimmed
 * cards are not expected to cover the scenario's budget. */
static void compromise_manage(struct sim *s, int32_t k) {
        double need = s->credit_per_day[SIM_SCENARIO_COMPROMISED_TERMINAL] / 2.0; /* cards a day */
        double yield = s->compromise_days_total > 0 ? s->skims_total / s->compromise_days_total : 3;
        int64_t now = day_ms(s, k + 1) - 12 * HOUR_MS;
        uint32_t target, kept = 0;

        for (uint32_t i = 0; i < s->compromised_n; i++) {
                struct merchant *m = &s->merchants[s->compromised[i]];

                if (m->skim_end_ms <= now)
                        m->skim_terminal = UINT8_MAX;
                else
                        s->compromised[kept++] = s->compromised[i];
        }
        s->compromised_n = kept;
        if (need <= 0 || s->skims_n > 7 * need)
                return;
        target = (uint32_t)fmin(ceil(1.5 * need / fmax(yield, 0.5)), FRAUD_SIM_COMPROMISED_MAX);
        for (unsigned tries = 0; s->compromised_n < target && tries < 16; tries++)
                compromise_open(s, k);
}

static uint32_t cash_out_merchant(const struct sim *s, struct rng *r, unsigned country,
                                  unsigned category) {
        uint32_t m = group_pick(s, r, country, category, 0);

        return m != NONE ? m : pool_pick(&s->physical[country], r);
}

/* 1..3 counterfeit uses of one card: mostly ATM withdrawals, else a
 * card-present purchase in the store (the channel follows the merchant). */
static unsigned cash_out_card(struct sim *s, uint32_t card, int64_t t, const uint32_t *atms,
                              uint32_t store) {
        struct rng *r = &s->rng_fraud;
        struct pending p = fraud_template(card, SIM_SCENARIO_COMPROMISED_TERMINAL, SIM_CHANNEL_ATM);
        unsigned uses = rng_range(r, 1, 3), kept = 0;

        p.time_ms = t;
        for (unsigned j = 0; j < uses; j++) {
                p.merchant = rng_chance(r, 0.75) ? atms[rng_below(r, 3)] : store;
                if (s->merchants[p.merchant].category == K_ATM) {
                        p.channel = SIM_CHANNEL_ATM;
                        p.amount_minor =
                                amount_atm_minor(s, p.merchant, rng_lognormal(r, 300, 0.3));
                } else {
                        p.channel = SIM_CHANNEL_CARD_PRESENT;
                        p.amount_minor = amount_minor(s, p.merchant,
                                                      clamp(rng_lognormal(r, 600, 0.5), 50, 5000));
                }
                p.terminal = (uint8_t)rng_below(r, s->merchants[p.merchant].terminals);
                kept += pend_push(s, &p);
                p.time_ms += 2 * MINUTE_MS + rng_ms(r, 13 * MINUTE_MS);
        }
        return kept;
}

/* A crew cashes out skimmed cards (copied at least a day earlier) in one
 * country within a few hours; up to `budget` payments. */
static unsigned fraud_cash_out(struct sim *s, int64_t day_start, double budget) {
        struct rng *r = &s->rng_fraud;
        int64_t t0 = day_start + rng_ms(r, DAY_MS);
        uint32_t atms[3], store;
        unsigned country, kept = 0, cards = 0;
        const struct skim *head;

        while (s->skims_n > 0 && s->skims[s->skims_head].time_ms < t0 - SKIM_MAX_AGE_MS) {
                s->skims_head = (s->skims_head + 1) % FRAUD_SIM_SKIM_POOL_MAX;
                s->skims_n--;
        }
        head = &s->skims[s->skims_head];
        if (s->skims_n == 0 || head->time_ms > t0 - DAY_MS)
                return 0;
        country = rng_chance(r, 0.4) && head->country != C_US ? C_US
                                                              : home_country_pick(r, head->country);
        for (unsigned i = 0; i < 3; i++)
                atms[i] = cash_out_merchant(s, r, country, K_ATM);
        store = cash_out_merchant(s, r, country, K_ELECTRONICS);
        while (s->skims_n > 0 && s->skims[s->skims_head].time_ms <= t0 - DAY_MS &&
               cards < CASH_OUT_CARDS_MAX && kept < budget) {
                uint32_t card = s->skims[s->skims_head].card;

                s->skims_head = (s->skims_head + 1) % FRAUD_SIM_SKIM_POOL_MAX;
                s->skims_n--;
                kept += cash_out_card(s, card, t0 + rng_ms(r, 3 * HOUR_MS), atms, store);
                cards++;
        }
        return kept;
}

static unsigned fraud_episode(struct sim *s, enum sim_scenario sc, int64_t day_start) {
        switch (sc) {
        case SIM_SCENARIO_STOLEN_CARD:
                return fraud_stolen_card(s, day_start);
        case SIM_SCENARIO_CARD_TESTING:
                return fraud_card_testing(s, day_start);
        case SIM_SCENARIO_COMPROMISED_TERMINAL:
                return fraud_cash_out(s, day_start, s->credit[sc]);
        case SIM_SCENARIO_ACCOUNT_TAKEOVER:
                return fraud_account_takeover(s, day_start);
        case SIM_SCENARIO_FRAUD_RING:
                return fraud_ring(s, day_start);
        default:
                assert(!"not a fraud scenario");
                return 0;
        }
}

/* Adds the budgets earned by `legit` new legitimate payments. */
static void credit_add(struct sim *s, uint64_t legit) {
        double r = s->cfg.fraud_rate, frauds = (double)legit * r / (1.0 - r);

        for (int sc = 1; sc < SIM_SCENARIO_COUNT; sc++) {
                s->credit[sc] += scenario_shares[sc] * frauds;
                s->credit_per_day[sc] = scenario_shares[sc] * frauds;
        }
}

/* compromised_terminal is the one scenario that can run out of material
 * (cards copied at a skimmer, each at most once).  Budget it could not spend
 * for CASH_OUT_BACKLOG_DAYS goes to the others, by share, so the overall
 * rate holds; at high rates in small worlds its own share falls. */
static void cash_out_backlog_spread(struct sim *s) {
        const enum sim_scenario ct = SIM_SCENARIO_COMPROMISED_TERMINAL;
        double excess = s->credit[ct] - CASH_OUT_BACKLOG_DAYS * s->credit_per_day[ct];

        if (excess <= 0)
                return;
        s->credit[ct] -= excess;
        for (int sc = 1; sc < SIM_SCENARIO_COUNT; sc++)
                if (sc != (int)ct)
                        s->credit[sc] += excess * scenario_shares[sc] / (1.0 - scenario_shares[ct]);
}

static void fraud_day(struct sim *s, int32_t k) {
        for (int sc = 1; sc < SIM_SCENARIO_COUNT; sc++) {
                for (unsigned i = 0;
                     s->credit[sc] >= 0.5 * episode_payments[sc] && i < EPISODES_PER_DAY_MAX; i++) {
                        unsigned kept = fraud_episode(s, (enum sim_scenario)sc, day_ms(s, k));

                        if (kept == 0)
                                break;
                        s->credit[sc] -= kept;
                }
        }
        cash_out_backlog_spread(s);
}

/* ------------------------------------------------------------------ */
/* Steps and release                                                    */
/* ------------------------------------------------------------------ */

/* Generates local day s->step, sorts what is pending and marks the prefix
 * that no later step can precede. */
static void step_run(struct sim *s) {
        int32_t k = s->step++;
        int32_t days = (int32_t)s->cfg.days;
        int64_t threshold;
        uint64_t key_threshold;
        size_t lo, hi;

        credit_add(s, legit_day(s, k));
        if (k < days - 1)
                compromise_manage(s, k);
        if (k >= 0 && k < days)
                fraud_day(s, k);
        for (size_t i = 0; i < s->pend_n; i++)
                s->keys[i] = (uint64_t)(s->pend[i].time_ms - s->origin_ms) << KEY_INDEX_BITS | i;
        keys_sort(s->keys, s->keys_tmp, s->pend_n);
        threshold = s->step > days ? INT64_MAX : day_ms(s, k + 1) - 12 * HOUR_MS;
        key_threshold = threshold >= s->end_ms
                                ? UINT64_MAX
                                : (uint64_t)(threshold - s->origin_ms) << KEY_INDEX_BITS;
        lo = 0;
        hi = s->pend_n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->keys[mid] < key_threshold)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        s->emit_pos = 0;
        s->emit_end = lo;
}

/* Moves the payments not yet released to the front, in sorted order. */
static void pend_compact(struct sim *s) {
        size_t n = 0;
        struct pending *t;

        for (size_t i = s->emit_end; i < s->pend_n; i++)
                s->carry[n++] = s->pend[s->keys[i] & KEY_INDEX_MASK];
        t = s->pend;
        s->pend = s->carry;
        s->carry = t;
        s->pend_n = n;
        s->emit_pos = s->emit_end = 0;
}

static void merchant_ids(uint32_t m, uint8_t terminal, char *merchant_id, char *terminal_id) {
        char *p = merchant_id;

        *p++ = 'M';
        p = put_dec(p, m, 7);
        *p = '\0';
        memcpy(terminal_id, merchant_id, 8);
        p = terminal_id + 8;
        *p++ = '-';
        p = put_dec(p, terminal + 1u, 2);
        *p = '\0';
}

static void seq_id(const char *prefix, uint64_t seq, char *out) {
        size_t n = strlen(prefix);

        memcpy(out, prefix, n);
        put_dec(out + n, seq, 12)[0] = '\0';
}

static void ip_format(uint32_t ip, char *out) {
        char *p = out;

        for (int shift = 24; shift >= 0; shift -= 8) {
                unsigned octet = (ip >> shift) & 255;

                p = put_dec(p, octet, octet >= 100 ? 3 : octet >= 10 ? 2 : 1);
                *p++ = shift ? '.' : '\0';
        }
}

/* Decides whether (and when) the payment just released is charged back. */
static void chargeback_decide(struct sim *s, const struct pending *p, uint64_t seq) {
        struct rng *r = &s->rng_cb;
        bool fraud = p->scenario != SIM_SCENARIO_LEGIT;
        bool card_absent = p->channel == SIM_CHANNEL_ECOMMERCE || p->channel == SIM_CHANNEL_MOTO;
        struct pending_chargeback cb;
        double days;

        if (!rng_chance(r, fraud ? 1.0 - SIM_FRAUD_UNCHARGED_SHARE : SIM_FRIENDLY_FRAUD_RATE))
                return;
        do
                days = rng_lognormal(r, SIM_CHARGEBACK_DELAY_MEDIAN_DAYS,
                                     SIM_CHARGEBACK_DELAY_SIGMA);
        while (days < SIM_CHARGEBACK_DELAY_MIN_DAYS || days > SIM_CHARGEBACK_DELAY_MAX_DAYS);
        cb.time_ms = p->time_ms + (int64_t)(days * (double)DAY_MS);
        cb.tx_time_ms = p->time_ms;
        cb.amount_minor = p->amount_minor;
        cb.tx_seq = seq;
        cb.merchant = p->merchant;
        cb.terminal = p->terminal;
        cb.is_fraud = fraud;
        /* all card-present fraud here is counterfeit (compromised_terminal) */
        if (fraud)
                cb.reason = card_absent ? R_10_4 : R_10_1;
        else
                cb.reason = card_absent && rng_chance(r, 0.5) ? R_10_4 : R_13_1;
        heap_push(s, &cb);
}

static void transaction_release(struct sim *s, const struct pending *p,
                                struct sim_transaction *tx) {
        const struct merchant *m = &s->merchants[p->merchant];
        const struct card *cd = &s->cards[p->card];
        const struct currency *cur = merchant_currency(s, p->merchant);
        uint64_t seq = ++s->tx_seq;
        char *q;

        seq_id(s->tx_prefix, seq, tx->transaction_id);
        tx->time_ms = p->time_ms;
        tx->amount_minor = p->amount_minor;
        tx->currency = cur->code;
        tx->currency_decimals = cur->decimals;
        memcpy(tx->pan, cd->pan, SIM_PAN_LEN);
        tx->pan[SIM_PAN_LEN] = '\0';
        q = tx->customer_id;
        *q++ = 'C';
        put_dec(q, cd->customer, 8)[0] = '\0';
        merchant_ids(p->merchant, p->terminal, tx->merchant_id, tx->terminal_id);
        tx->mcc = categories[m->category].mcc;
        tx->country = countries[m->country].code;
        tx->channel = (enum sim_channel)p->channel;
        tx->device_id[0] = '\0';
        if (p->device != NONE)
                put_hex(tx->device_id, mix64(p->device ^ s->device_salt), 16)[0] = '\0';
        tx->ip[0] = '\0';
        if (p->ip != 0)
                ip_format(p->ip, tx->ip);
        tx->scenario = (enum sim_scenario)p->scenario;
        tx->is_fraud = p->scenario != SIM_SCENARIO_LEGIT;
        s->stats.transactions++;
        s->stats.frauds += tx->is_fraud;
        s->stats.by_scenario[p->scenario]++;
        chargeback_decide(s, p, seq);
}

static void chargeback_release(struct sim *s, struct sim_chargeback *out) {
        struct pending_chargeback cb = heap_pop(s);
        const struct currency *cur = merchant_currency(s, cb.merchant);

        seq_id(s->cb_prefix, ++s->cb_seq, out->chargeback_id);
        seq_id(s->tx_prefix, cb.tx_seq, out->transaction_id);
        out->time_ms = cb.time_ms;
        out->transaction_time_ms = cb.tx_time_ms;
        out->amount_minor = cb.amount_minor;
        out->currency = cur->code;
        out->currency_decimals = cur->decimals;
        out->reason = reason_codes[cb.reason];
        merchant_ids(cb.merchant, cb.terminal, out->merchant_id, out->terminal_id);
        out->is_fraud = cb.is_fraud;
        s->stats.chargebacks++;
        s->stats.chargebacks_friendly += !cb.is_fraud;
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

void sim_config_default(struct sim_config *c) {
        memset(c, 0, sizeof(*c));
        c->days = 30;
        c->customers = 10000;
        c->merchants = 1000;
        c->seed = 1;
        c->fraud_rate = 0.005;
        c->start_ms = INT64_C(20454) * DAY_MS; /* 2026-01-01 */
}

int sim_config_check(const struct sim_config *c, const char **why) {
        const char *bad = NULL;

        if (c->days < 1 || c->days > FRAUD_SIM_DAYS_MAX)
                bad = "days out of range";
        else if (c->customers < SIM_CUSTOMERS_MIN || c->customers > FRAUD_SIM_CUSTOMERS_MAX)
                bad = "customers out of range";
        else if (c->merchants < SIM_MERCHANTS_MIN || c->merchants > FRAUD_SIM_MERCHANTS_MAX)
                bad = "merchants out of range";
        else if (!(c->fraud_rate >= 0 && c->fraud_rate <= SIM_FRAUD_RATE_MAX))
                bad = "fraud rate out of range";
        else if (c->start_ms < 0 || c->start_ms > FRAUD_SIM_START_MS_MAX || c->start_ms % DAY_MS)
                bad = "start is not a UTC midnight in range";
        if (why)
                *why = bad;
        return bad ? -EINVAL : 0;
}

static int sim_init(struct sim *s) {
        uint64_t sm = s->cfg.seed;
        int r;

        rng_seed(&s->rng_world, &sm);
        rng_seed(&s->rng_legit, &sm);
        rng_seed(&s->rng_fraud, &sm);
        rng_seed(&s->rng_cb, &sm);
        s->device_salt = splitmix64(&sm);
        s->start_ms = s->cfg.start_ms;
        s->end_ms = s->start_ms + (int64_t)s->cfg.days * DAY_MS;
        s->origin_ms = s->start_ms - 2 * DAY_MS;
        s->start_day = s->start_ms / DAY_MS;
        s->step = -1;
        hour_tables_make(s);
        run_tag_make(s);
        s->compromised = malloc(FRAUD_SIM_COMPROMISED_MAX * sizeof(*s->compromised));
        s->skims = malloc(FRAUD_SIM_SKIM_POOL_MAX * sizeof(*s->skims));
        s->pend_cap = 4096;
        s->pend = malloc(s->pend_cap * sizeof(*s->pend));
        s->carry = malloc(s->pend_cap * sizeof(*s->carry));
        s->keys = malloc(s->pend_cap * sizeof(*s->keys));
        s->keys_tmp = malloc(s->pend_cap * sizeof(*s->keys_tmp));
        if (!s->compromised || !s->skims || !s->pend || !s->carry || !s->keys || !s->keys_tmp)
                return -ENOMEM;
        if ((r = merchants_build(s)) < 0 || (r = pools_build(s)) < 0)
                return r;
        return customers_build(s);
}

int sim_new(const struct sim_config *c, struct sim **out) {
        struct sim *s;
        int r;

        *out = NULL;
        if ((r = sim_config_check(c, NULL)) < 0)
                return r;
        if (!(s = calloc(1, sizeof(*s))))
                return -ENOMEM;
        s->cfg = *c;
        if ((r = sim_init(s)) < 0) {
                sim_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void sim_free(struct sim *s) {
        if (!s)
                return;
        for (unsigned c = 0; c < C_COUNT; c++) {
                pool_release(&s->physical[c]);
                pool_release(&s->online[c]);
        }
        pool_release(&s->online_all);
        free(s->customers);
        free(s->cards);
        free(s->card_skimmed);
        free(s->merchants);
        free(s->group_start);
        free(s->by_group);
        free(s->compromised);
        free(s->skims);
        free(s->pend);
        free(s->carry);
        free(s->keys);
        free(s->keys_tmp);
        free(s->heap);
        free(s);
}

int sim_next(struct sim *s, struct sim_event *ev) {
        while (s->emit_pos == s->emit_end && s->step <= (int32_t)s->cfg.days && !s->error) {
                pend_compact(s);
                step_run(s);
        }
        if (s->error)
                return s->error;
        if (s->emit_pos < s->emit_end) {
                const struct pending *p = &s->pend[s->keys[s->emit_pos] & KEY_INDEX_MASK];

                if (s->heap_n == 0 || p->time_ms < s->heap[0].time_ms) {
                        s->emit_pos++;
                        ev->kind = SIM_EVENT_TRANSACTION;
                        transaction_release(s, p, &ev->tx);
                        return s->error ? s->error : 1;
                }
        }
        if (s->heap_n == 0)
                return 0;
        ev->kind = SIM_EVENT_CHARGEBACK;
        chargeback_release(s, &ev->cb);
        return 1;
}

const struct sim_stats *sim_stats(const struct sim *s) {
        return &s->stats;
}

const char *sim_scenario_name(enum sim_scenario sc) {
        return (unsigned)sc < SIM_SCENARIO_COUNT ? scenario_names[sc] : "unknown";
}

const char *sim_channel_name(enum sim_channel ch) {
        return (unsigned)ch < SIM_CHANNEL_COUNT ? channel_names[ch] : "unknown";
}

double sim_scenario_share(enum sim_scenario sc) {
        return (unsigned)sc < SIM_SCENARIO_COUNT ? scenario_shares[sc] : 0.0;
}
