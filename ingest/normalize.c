/* normalize.c: raw fields -> fraud.Transaction (see normalize.h).
 *
 * One checker per field, called in the documented order by
 * normalize_record(); each copies its normalized text into struct
 * normalize_tx and sets the message field, or fills the rejection.  The
 * reference tables (ISO 4217 decimals, ISO 3166-1 alpha-2 codes) are
 * constants here; the country table is one sorted string of pairs searched
 * by bisection.  Amounts never pass through floating point.
 */
#include "ingest/normalize.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/schema.h"
#include "lib/time.h"

#define NORMALIZE_DEVICE_DOMAIN  "device:"  /* hashed before a device id */
#define NORMALIZE_CARD_ID_DOMAIN "card-id:" /* hashed before a card id (card_number: id) */

/* ---- reference tables ---- */

static const struct {
        char code[4];
        int decimals;
} normalize_currencies[] = {
        /* sorted by code: looked up by bisection */
        {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"BGN", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2},
        {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CZK", 2}, {"DKK", 2}, {"EGP", 2},
        {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
        {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"MAD", 2}, {"MXN", 2},
        {"MYR", 2}, {"NGN", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PEN", 2}, {"PHP", 2},
        {"PLN", 2}, {"QAR", 2}, {"RON", 2}, {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"THB", 2},
        {"TND", 3}, {"TRY", 2}, {"TWD", 2}, {"UAH", 2}, {"USD", 2}, {"VND", 0}, {"ZAR", 2},
};

/* Every officially assigned ISO 3166-1 alpha-2 code, sorted. */
static const char normalize_countries[] =
        "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCH"
        "CICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGN"
        "GPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLI"
        "LKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOM"
        "PAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTD"
        "TFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

static const char *const normalize_channels[] = {
        [FRAUD__CHANNEL__CHANNEL_CARD_PRESENT] = "card_present",
        [FRAUD__CHANNEL__CHANNEL_CONTACTLESS] = "contactless",
        [FRAUD__CHANNEL__CHANNEL_ECOMMERCE] = "ecommerce",
        [FRAUD__CHANNEL__CHANNEL_MOTO] = "moto",
        [FRAUD__CHANNEL__CHANNEL_ATM] = "atm",
};

static const char *const normalize_field_names[NORMALIZE_FIELD_COUNT] = {
        "transaction_id", "timestamp",   "amount",      "currency", "pan",
        "customer_id",    "merchant_id", "terminal_id", "mcc",      "country",
        "channel",        "device_id",   "ip",
};

static const char *const normalize_reason_codes[NORMALIZE_REASON_COUNT] = {
        "ok",
        "bad_json",
        "bad_utf8",
        "nested_json",
        "duplicate_field",
        "too_large",
        "bad_csv",
        "missing_field",
        "bad_type",
        "bad_transaction_id",
        "bad_timestamp",
        "unknown_currency",
        "bad_amount",
        "amount_not_positive",
        "amount_too_precise",
        "amount_overflow",
        "bad_pan",
        "pan_checksum",
        "bad_customer_id",
        "bad_merchant_id",
        "bad_terminal_id",
        "bad_mcc",
        "unknown_country",
        "unknown_channel",
        "bad_device_id",
        "bad_ip",
};

#define NORMALIZE_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

const char *normalize_field_name(enum normalize_field f) {
        return (unsigned)f < NORMALIZE_FIELD_COUNT ? normalize_field_names[f] : "?";
}

const char *normalize_reason_code(enum normalize_reason r) {
        return (unsigned)r < NORMALIZE_REASON_COUNT ? normalize_reason_codes[r] : "?";
}

size_t normalize_currency_count(void) {
        return NORMALIZE_COUNTOF(normalize_currencies);
}

size_t normalize_country_count(void) {
        return (sizeof(normalize_countries) - 1) / 2;
}

int normalize_currency_decimals(const char *code) {
        size_t lo = 0, hi = NORMALIZE_COUNTOF(normalize_currencies);

        while (lo < hi) { /* the table is sorted */
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(normalize_currencies[mid].code, code);

                if (c == 0)
                        return normalize_currencies[mid].decimals;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

bool normalize_country_known(const char *code) {
        size_t lo = 0, hi = normalize_country_count();

        if (strlen(code) != 2)
                return false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = memcmp(normalize_countries + 2 * mid, code, 2);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

bool normalize_luhn_valid(const char *digits, size_t len) {
        unsigned sum = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned d = (unsigned)(digits[len - 1 - i] - '0');
                if (i % 2 == 1)
                        d = d * 2 > 9 ? d * 2 - 9 : d * 2;
                sum += d;
        }
        return sum % 10 == 0;
}

void normalize_mask_pans(char *buf, size_t len) {
        size_t i = 0;

        while (i < len) {
                size_t run = 0;
                while (i + run < len && buf[i + run] >= '0' && buf[i + run] <= '9')
                        run++;
                if (run >= 13 && run <= 19)
                        memset(buf + i + 6, '*', run - 10);
                i += run ? run : 1;
        }
}

int normalize_key_parse(const char *hex, struct normalize_key *out) {
        if (strlen(hex) != 2 * SIPHASH_KEY_BYTES)
                return -EINVAL;
        for (size_t i = 0; i < 2 * SIPHASH_KEY_BYTES; i++) {
                char h = hex[i];
                int d = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
                if (d < 0)
                        return -EINVAL;
                if (i % 2 == 0)
                        out->bytes[i / 2] = (uint8_t)(d << 4);
                else
                        out->bytes[i / 2] |= (uint8_t)d;
        }
        return 0;
}

int normalize_reject(struct normalize_rejection *rej, enum normalize_reason reason, const char *fmt,
                     ...) {
        va_list ap;

        rej->reason = reason;
        va_start(ap, fmt);
        vsnprintf(rej->detail, sizeof(rej->detail), fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

/* ---- field checkers ---- */

/* The text of a field that must be text (or, when numbers_ok, a number):
 * NULL with *rc set when absent or of the wrong type.  An empty text is
 * absent. */
static const struct normalize_value *normalize_get(const struct normalize_input *in,
                                                   enum normalize_field f, bool required,
                                                   bool numbers_ok, struct normalize_rejection *rej,
                                                   int *rc) {
        const struct normalize_value *v = &in->fields[f];

        *rc = 0;
        if (v->kind == NORMALIZE_ABSENT || (v->kind == NORMALIZE_TEXT && v->len == 0)) {
                if (required)
                        *rc = normalize_reject(rej, NORMALIZE_MISSING_FIELD, "%s is missing",
                                               normalize_field_name(f));
                return NULL;
        }
        if (v->kind == NORMALIZE_BOOL || (v->kind == NORMALIZE_NUMBER && !numbers_ok)) {
                *rc = normalize_reject(rej, NORMALIZE_BAD_TYPE, "%s: expected %s",
                                       normalize_field_name(f),
                                       numbers_ok ? "a string or a number" : "a string");
                return NULL;
        }
        return v;
}

/* An id: 1..FRAUD_INGEST_ID_BYTES_MAX bytes of printable ASCII, no space. */
static int normalize_id(const struct normalize_input *in, enum normalize_field f, bool required,
                        enum normalize_reason bad, char *out, char **msg_field,
                        struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v = normalize_get(in, f, required, false, rej, &rc);

        out[0] = '\0';
        *msg_field = out;
        if (!v)
                return rc;
        if (v->len > FRAUD_INGEST_ID_BYTES_MAX)
                return normalize_reject(rej, bad, "%s: longer than %d bytes",
                                        normalize_field_name(f), FRAUD_INGEST_ID_BYTES_MAX);
        for (size_t i = 0; i < v->len; i++)
                if (v->text[i] <= ' ' || v->text[i] > '~')
                        return normalize_reject(rej, bad, "%s: byte %zu is not printable ASCII",
                                                normalize_field_name(f), i);
        memcpy(out, v->text, v->len + 1);
        return 0;
}

/* Digits only, into *out; -1 when not all digits or too many. */
static int normalize_digits(const char *s, size_t len, size_t max_digits, int64_t *out) {
        int64_t v = 0;

        if (len == 0 || len > max_digits)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

static int normalize_timestamp(const struct normalize_input *in, struct normalize_tx *out,
                               struct normalize_rejection *rej) {
        static const int64_t unit_us[] = {
                [NORMALIZE_TIME_EPOCH_S] = FRAUD_USEC_PER_SEC,
                [NORMALIZE_TIME_EPOCH_MS] = 1000,
                [NORMALIZE_TIME_EPOCH_US] = 1,
        };
        bool iso = in->time_format == NORMALIZE_TIME_ISO8601;
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_TIMESTAMP, true, !iso, rej, &rc);
        int64_t t;

        if (!v)
                return rc;
        if (iso) {
                rc = fraud_time_parse_iso8601(v->text, &t);
        } else if ((rc = normalize_digits(v->text, v->len, 18, &t)) == 0) {
                int64_t unit = unit_us[in->time_format];
                t = t < NORMALIZE_EVENT_TIME_MAX_US / unit ? t * unit : NORMALIZE_EVENT_TIME_MAX_US;
        }
        if (rc < 0)
                return normalize_reject(rej, NORMALIZE_BAD_TIMESTAMP, "timestamp: not %s",
                                        iso ? "ISO 8601" : "an epoch integer");
        if (t < NORMALIZE_EVENT_TIME_MIN_US || t >= NORMALIZE_EVENT_TIME_MAX_US)
                return normalize_reject(rej, NORMALIZE_BAD_TIMESTAMP,
                                        "timestamp: outside 1970-01-01..2200-01-01");
        out->msg.event_time_us = t;
        return 0;
}

/* Upper-cases an ASCII code of exactly n letters into out; -1 otherwise. */
static int normalize_code(const struct normalize_value *v, size_t n, char *out) {
        if (v->len != n)
                return -1;
        for (size_t i = 0; i < n; i++) {
                char c = v->text[i];
                if (c >= 'a' && c <= 'z')
                        c = (char)(c - 'a' + 'A');
                if (c < 'A' || c > 'Z')
                        return -1;
                out[i] = c;
        }
        out[n] = '\0';
        return 0;
}

static int normalize_currency(const struct normalize_input *in, struct normalize_tx *out,
                              int *decimals, struct normalize_rejection *rej) {
        const struct normalize_value *v = &in->fields[NORMALIZE_FIELD_CURRENCY];
        struct normalize_value def;
        int rc;

        if ((v->kind == NORMALIZE_ABSENT || (v->kind == NORMALIZE_TEXT && v->len == 0)) &&
            in->default_currency && in->default_currency[0]) {
                def = (struct normalize_value){NORMALIZE_TEXT, in->default_currency,
                                               strlen(in->default_currency)};
                v = &def;
        } else if (!(v = normalize_get(in, NORMALIZE_FIELD_CURRENCY, true, false, rej, &rc))) {
                return rc;
        }
        if (normalize_code(v, 3, out->currency) < 0 ||
            (*decimals = normalize_currency_decimals(out->currency)) < 0)
                return normalize_reject(rej, NORMALIZE_UNKNOWN_CURRENCY,
                                        "currency: '%.8s' is not in the ISO 4217 table", v->text);
        out->msg.currency = out->currency;
        return 0;
}

/* Decimal major units -> minor units: digits[.digits], exact. */
static int normalize_amount(const struct normalize_input *in, int decimals,
                            struct normalize_tx *out, struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_AMOUNT, true, true, rej, &rc);
        const char *p, *end;
        bool negative;
        int64_t minor = 0;
        int frac = -1; /* decimals consumed after '.', -1 before it */

        if (!v)
                return rc;
        p = v->text;
        end = p + v->len;
        negative = *p == '-';
        p += negative;
        if (p == end || *p < '0' || *p > '9' || strspn(p, "0123456789.") != (size_t)(end - p))
                return normalize_reject(rej, NORMALIZE_BAD_AMOUNT, "amount: not a decimal number");
        for (; p < end; p++) {
                if (*p == '.' && frac < 0 && p + 1 < end) {
                        frac = 0;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return normalize_reject(rej, NORMALIZE_BAD_AMOUNT,
                                                "amount: not a decimal number");
                if (frac >= decimals) {
                        if (*p != '0')
                                return normalize_reject(rej, NORMALIZE_AMOUNT_TOO_PRECISE,
                                                        "amount: more than %d decimals for %s",
                                                        decimals, out->currency);
                        continue;
                }
                if (minor > (FRAUD_INGEST_AMOUNT_MINOR_MAX - (*p - '0')) / 10)
                        return normalize_reject(rej, NORMALIZE_AMOUNT_OVERFLOW,
                                                "amount: over %lld minor units",
                                                (long long)FRAUD_INGEST_AMOUNT_MINOR_MAX);
                minor = minor * 10 + (*p - '0');
                frac += frac >= 0;
        }
        for (int i = frac < 0 ? 0 : frac; i < decimals; i++) {
                if (minor > FRAUD_INGEST_AMOUNT_MINOR_MAX / 10)
                        return normalize_reject(rej, NORMALIZE_AMOUNT_OVERFLOW,
                                                "amount: over %lld minor units",
                                                (long long)FRAUD_INGEST_AMOUNT_MINOR_MAX);
                minor *= 10;
        }
        if (negative || minor == 0)
                return normalize_reject(rej, NORMALIZE_AMOUNT_NOT_POSITIVE,
                                        "amount: must be greater than zero");
        out->msg.amount_minor = minor;
        return 0;
}

static void normalize_hex(const uint8_t *h, size_t n, char *out) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[h[i] >> 4];
                out[2 * i + 1] = hex[h[i] & 15];
        }
        out[2 * n] = '\0';
}

/* A device id leaves as its keyed hash too (DESIGN.md: hashed card and
 * device ids): SipHash-2-4-64 of "device:" + the id under the card key, 16
 * hex digits.  The prefix keeps a device id from ever hashing like a card
 * number.  Empty stays empty (no device). */
static void normalize_device_hash(const struct normalize_key *key, struct normalize_tx *out) {
        char buf[sizeof(NORMALIZE_DEVICE_DOMAIN) + FRAUD_INGEST_ID_BYTES_MAX];
        size_t n = strlen(out->device_id);
        uint8_t h[8];

        if (n == 0)
                return;
        memcpy(buf, NORMALIZE_DEVICE_DOMAIN, sizeof(NORMALIZE_DEVICE_DOMAIN) - 1);
        memcpy(buf + sizeof(NORMALIZE_DEVICE_DOMAIN) - 1, out->device_id, n);
        siphash_64(key->bytes, buf, sizeof(NORMALIZE_DEVICE_DOMAIN) - 1 + n, h);
        normalize_hex(h, sizeof(h), out->device_id);
}

/* Printable ASCII, no space. */
static bool normalize_id_ok(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~')
                        return false;
        return true;
}

/* A card or account id in place of the card number: its keyed hash, in
 * its own domain so that it never equals a card number's. */
static int normalize_card_id(const struct normalize_value *v, const struct normalize_key *key,
                             struct normalize_tx *out, struct normalize_rejection *rej) {
        char buf[sizeof(NORMALIZE_CARD_ID_DOMAIN) - 1 + FRAUD_INGEST_ID_BYTES_MAX];
        uint8_t h[16];

        if (v->len == 0 || v->len > FRAUD_INGEST_ID_BYTES_MAX || !normalize_id_ok(v->text, v->len))
                return normalize_reject(rej, NORMALIZE_BAD_PAN,
                                        "pan: not a card id (1 to %d printable ASCII, no space)",
                                        FRAUD_INGEST_ID_BYTES_MAX);
        memcpy(buf, NORMALIZE_CARD_ID_DOMAIN, sizeof(NORMALIZE_CARD_ID_DOMAIN) - 1);
        memcpy(buf + sizeof(NORMALIZE_CARD_ID_DOMAIN) - 1, v->text, v->len);
        siphash_128(key->bytes, buf, sizeof(NORMALIZE_CARD_ID_DOMAIN) - 1 + v->len, h);
        normalize_hex(h, sizeof(h), out->card_hash);
        out->card_bin[0] = out->card_last4[0] = '\0';
        out->msg.card_hash = out->card_hash;
        out->msg.card_bin = out->card_bin;
        out->msg.card_last4 = out->card_last4;
        return 0;
}

/* The card number: digits only, 13..19 of them, Luhn-valid; it leaves as
 * its keyed hash, BIN and last four. */
static int normalize_pan(const struct normalize_input *in, const struct normalize_key *key,
                         struct normalize_tx *out, struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_PAN, true, true, rej, &rc);
        uint8_t h[16];

        if (!v)
                return rc;
        if (in->pan_is_id)
                return normalize_card_id(v, key, out, rej);
        if (v->len < 13 || v->len > 19 || strspn(v->text, "0123456789") != v->len)
                return normalize_reject(rej, NORMALIZE_BAD_PAN,
                                        "pan: not 13 to 19 digits (%zu bytes)", v->len);
        if (!normalize_luhn_valid(v->text, v->len))
                return normalize_reject(rej, NORMALIZE_PAN_CHECKSUM, "pan: Luhn check failed");
        siphash_128(key->bytes, v->text, v->len, h);
        normalize_hex(h, sizeof(h), out->card_hash);
        memcpy(out->card_bin, v->text, 6);
        out->card_bin[6] = '\0';
        memcpy(out->card_last4, v->text + v->len - 4, 5);
        out->msg.card_hash = out->card_hash;
        out->msg.card_bin = out->card_bin;
        out->msg.card_last4 = out->card_last4;
        return 0;
}

static int normalize_mcc(const struct normalize_input *in, struct normalize_tx *out,
                         struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_MCC, true, true, rej, &rc);
        int64_t mcc;

        if (!v)
                return rc;
        if ((v->kind == NORMALIZE_TEXT && v->len != 4) ||
            normalize_digits(v->text, v->len, 4, &mcc) < 0 || mcc == 0)
                return normalize_reject(rej, NORMALIZE_BAD_MCC, "mcc: not four digits 0001..9999");
        out->msg.mcc = (uint32_t)mcc;
        return 0;
}

static int normalize_country(const struct normalize_input *in, struct normalize_tx *out,
                             struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_COUNTRY, true, false, rej, &rc);

        if (!v)
                return rc;
        if (normalize_code(v, 2, out->country) < 0 || !normalize_country_known(out->country))
                return normalize_reject(rej, NORMALIZE_UNKNOWN_COUNTRY,
                                        "country: '%.8s' is not an ISO 3166-1 alpha-2 code",
                                        v->text);
        out->msg.country = out->country;
        return 0;
}

static int normalize_channel(const struct normalize_input *in, struct normalize_tx *out,
                             struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_CHANNEL, true, false, rej, &rc);

        if (!v)
                return rc;
        for (size_t i = 1; i < NORMALIZE_COUNTOF(normalize_channels); i++)
                if (strcasecmp(v->text, normalize_channels[i]) == 0) {
                        out->msg.channel = (Fraud__Channel)i;
                        return 0;
                }
        return normalize_reject(rej, NORMALIZE_UNKNOWN_CHANNEL,
                                "channel: '%.16s' is not card_present, contactless, ecommerce, "
                                "moto or atm",
                                v->text);
}

/* Optional IPv4 or IPv6, written back in canonical form. */
static int normalize_ip(const struct normalize_input *in, struct normalize_tx *out,
                        struct normalize_rejection *rej) {
        int rc;
        const struct normalize_value *v =
                normalize_get(in, NORMALIZE_FIELD_IP, false, false, rej, &rc);
        unsigned char addr[16];
        int family;

        out->ip[0] = '\0';
        out->msg.ip = out->ip;
        if (!v)
                return rc;
        family = strchr(v->text, ':') ? AF_INET6 : AF_INET;
        if (v->len >= FRAUD_INGEST_IP_BYTES_MAX || inet_pton(family, v->text, addr) != 1 ||
            !inet_ntop(family, addr, out->ip, sizeof(out->ip)))
                return normalize_reject(rej, NORMALIZE_BAD_IP,
                                        "ip: '%.48s' is not an IPv4 or IPv6 address", v->text);
        return 0;
}

int normalize_record(const struct normalize_input *in, const struct normalize_key *key,
                     struct normalize_tx *out, struct normalize_rejection *rej) {
        Fraud__Transaction *m = &out->msg;
        int decimals = 0;
        int rc;

        *m = (Fraud__Transaction)FRAUD__TRANSACTION__INIT;
        m->schema_version = TRANSACTION_SCHEMA_VERSION;
        rej->reason = NORMALIZE_OK;
        rej->detail[0] = '\0';
        if ((rc = normalize_id(in, NORMALIZE_FIELD_TRANSACTION_ID, true,
                               NORMALIZE_BAD_TRANSACTION_ID, out->transaction_id,
                               &m->transaction_id, rej)) < 0 ||
            (rc = normalize_timestamp(in, out, rej)) < 0 ||
            (rc = normalize_currency(in, out, &decimals, rej)) < 0 ||
            (rc = normalize_amount(in, decimals, out, rej)) < 0 ||
            (rc = normalize_pan(in, key, out, rej)) < 0 ||
            (rc = normalize_id(in, NORMALIZE_FIELD_CUSTOMER_ID, false, NORMALIZE_BAD_CUSTOMER_ID,
                               out->customer_id, &m->customer_id, rej)) < 0 ||
            (rc = normalize_id(in, NORMALIZE_FIELD_MERCHANT_ID, true, NORMALIZE_BAD_MERCHANT_ID,
                               out->merchant_id, &m->merchant_id, rej)) < 0 ||
            (rc = normalize_id(in, NORMALIZE_FIELD_TERMINAL_ID, true, NORMALIZE_BAD_TERMINAL_ID,
                               out->terminal_id, &m->terminal_id, rej)) < 0 ||
            (rc = normalize_mcc(in, out, rej)) < 0 || (rc = normalize_country(in, out, rej)) < 0 ||
            (rc = normalize_channel(in, out, rej)) < 0 ||
            (rc = normalize_id(in, NORMALIZE_FIELD_DEVICE_ID, false, NORMALIZE_BAD_DEVICE_ID,
                               out->device_id, &m->device_id, rej)) < 0 ||
            (rc = normalize_ip(in, out, rej)) < 0)
                return rc;
        normalize_device_hash(key, out);
        return 0;
}
