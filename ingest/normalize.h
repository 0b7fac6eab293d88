/* normalize.h: one raw transaction's fields -> a normalized Transaction, or
 * a rejection with a stable reason code.  The idea of the ingest stage.
 *
 * Input is a set of named fields as text (struct normalize_input), however
 * they were read: mapping.h fills it from a JSON object (tx.raw, JSONL
 * files) or from a CSV row, so one set of rules serves Kafka, replay and
 * backtest.  Output is a fraud.Transaction whose every field a downstream
 * stage relies on was checked:
 *
 *   transaction_id  required; 1..FRAUD_INGEST_ID_BYTES_MAX printable ASCII,
 *                   no space (also customer, merchant, terminal, device ids)
 *   timestamp       required; ISO 8601 (lib/time.h) or epoch s/ms/us as the
 *                   mapping says; 1970-01-01 <= t < 2200-01-01 UTC
 *   currency        required unless the mapping gives a default; ISO 4217,
 *                   one of the table in normalize.c (any letter case)
 *   amount          required; decimal in major units, a string or a JSON
 *                   number: digits, optionally '.' and digits; no sign,
 *                   exponent or separators.  Minor units = amount *
 *                   10^decimals, exact (integer arithmetic only); more
 *                   decimals than the currency has are refused unless they
 *                   are zeros; must be > 0 and <= FRAUD_INGEST_AMOUNT_MINOR_MAX
 *   pan             required; 13..19 digits passing the Luhn check.  Leaves
 *                   as card_hash (hex SipHash-2-4-128 of the digits under
 *                   the secret key), card_bin (first six) and card_last4.
 *                   When the mapping says the field is an id (a log
 *                   without card numbers): an id as below, leaving as the
 *                   keyed hash of "card-id:" + id, no BIN, no last four
 *   customer_id     optional
 *   merchant_id, terminal_id   required
 *   mcc             required; four digits 0001..9999 (or a JSON number 1..9999)
 *   country         required; ISO 3166-1 alpha-2, assigned codes only
 *   channel         required; card_present, contactless, ecommerce, moto, atm
 *   device_id, ip   optional (absent, null or ""); a device id leaves as its
 *                   keyed hash (16 hex digits of SipHash-2-4-64 of
 *                   "device:" + the id, same key), so the rules' device
 *                   lists hold hashes, like their card lists; ip is IPv4 or
 *                   IPv6 (inet_pton) and leaves in its canonical text form
 *
 * Checks run in that order; the first failure is the rejection.  A detail
 * never quotes the card number.  Pure and deterministic: no I/O, no clock
 * (ingest_time_us is left 0 for the stage to stamp).
 */
#ifndef FRAUD_NORMALIZE_H
#define FRAUD_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/siphash.h"
#include "lib/bounds.h"
#include "proto/transaction.pb-c.h"

/* Event times accepted: [1970-01-01, 2200-01-01) UTC, in microseconds. */
#define NORMALIZE_EVENT_TIME_MIN_US INT64_C(0)
#define NORMALIZE_EVENT_TIME_MAX_US INT64_C(7258118400000000)

enum normalize_field {
        NORMALIZE_FIELD_TRANSACTION_ID,
        NORMALIZE_FIELD_TIMESTAMP,
        NORMALIZE_FIELD_AMOUNT,
        NORMALIZE_FIELD_CURRENCY,
        NORMALIZE_FIELD_PAN,
        NORMALIZE_FIELD_CUSTOMER_ID,
        NORMALIZE_FIELD_MERCHANT_ID,
        NORMALIZE_FIELD_TERMINAL_ID,
        NORMALIZE_FIELD_MCC,
        NORMALIZE_FIELD_COUNTRY,
        NORMALIZE_FIELD_CHANNEL,
        NORMALIZE_FIELD_DEVICE_ID,
        NORMALIZE_FIELD_IP,
        NORMALIZE_FIELD_COUNT,
};

/* Stable reason codes: they name counters and DeadLetter.reason_code, so
 * they are never renamed (normalize_reason_code() gives the text). */
enum normalize_reason {
        NORMALIZE_OK = 0,
        NORMALIZE_BAD_JSON,            /* "bad_json": syntax, truncated, bad escape */
        NORMALIZE_BAD_UTF8,            /* "bad_utf8" */
        NORMALIZE_NESTED_JSON,         /* "nested_json" */
        NORMALIZE_DUPLICATE_FIELD,     /* "duplicate_field" */
        NORMALIZE_TOO_LARGE,           /* "too_large": record, fields or names over limits */
        NORMALIZE_BAD_CSV,             /* "bad_csv": column count, quoting */
        NORMALIZE_MISSING_FIELD,       /* "missing_field" */
        NORMALIZE_BAD_TYPE,            /* "bad_type": e.g. true where text is expected */
        NORMALIZE_BAD_TRANSACTION_ID,  /* "bad_transaction_id" */
        NORMALIZE_BAD_TIMESTAMP,       /* "bad_timestamp" */
        NORMALIZE_UNKNOWN_CURRENCY,    /* "unknown_currency" */
        NORMALIZE_BAD_AMOUNT,          /* "bad_amount": not a decimal number */
        NORMALIZE_AMOUNT_NOT_POSITIVE, /* "amount_not_positive": negative or zero */
        NORMALIZE_AMOUNT_TOO_PRECISE,  /* "amount_too_precise": more decimals than the currency */
        NORMALIZE_AMOUNT_OVERFLOW,     /* "amount_overflow": over FRAUD_INGEST_AMOUNT_MINOR_MAX */
        NORMALIZE_BAD_PAN,             /* "bad_pan": not 13..19 digits */
        NORMALIZE_PAN_CHECKSUM,        /* "pan_checksum": Luhn check failed */
        NORMALIZE_BAD_CUSTOMER_ID,     /* "bad_customer_id" */
        NORMALIZE_BAD_MERCHANT_ID,     /* "bad_merchant_id" */
        NORMALIZE_BAD_TERMINAL_ID,     /* "bad_terminal_id" */
        NORMALIZE_BAD_MCC,             /* "bad_mcc" */
        NORMALIZE_UNKNOWN_COUNTRY,     /* "unknown_country" */
        NORMALIZE_UNKNOWN_CHANNEL,     /* "unknown_channel" */
        NORMALIZE_BAD_DEVICE_ID,       /* "bad_device_id" */
        NORMALIZE_BAD_IP,              /* "bad_ip" */
        NORMALIZE_REASON_COUNT,
};

enum normalize_kind {
        NORMALIZE_ABSENT = 0, /* not in the record, or JSON null */
        NORMALIZE_TEXT,       /* a JSON string or a CSV cell */
        NORMALIZE_NUMBER,     /* a JSON number, as its text */
        NORMALIZE_BOOL,       /* JSON true or false */
};

enum normalize_time_format {
        NORMALIZE_TIME_ISO8601 = 0,
        NORMALIZE_TIME_EPOCH_S,
        NORMALIZE_TIME_EPOCH_MS,
        NORMALIZE_TIME_EPOCH_US,
};

struct normalize_value {
        enum normalize_kind kind;
        const char *text; /* NUL-terminated, borrowed; NULL when absent */
        size_t len;
};

/* One raw record's fields, borrowed from whatever parsed it. */
struct normalize_input {
        struct normalize_value fields[NORMALIZE_FIELD_COUNT];
        enum normalize_time_format time_format;
        const char *default_currency; /* borrowed; NULL or "": none */
        bool pan_is_id; /* the pan field holds a card or account id (mapping.h) */
};

struct normalize_rejection {
        enum normalize_reason reason;
        char detail[FRAUD_INGEST_DETAIL_MAX]; /* one line, never the card number */
};

/* A normalized transaction.  msg's strings point into this struct: fill it
 * with normalize_record() where it will stay, and do not copy it. */
struct normalize_tx {
        Fraud__Transaction msg;
        char transaction_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char currency[4];
        char card_hash[2 * 16 + 1];
        char card_last4[5];
        char card_bin[7];
        char customer_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char merchant_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char terminal_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char country[3];
        char device_id[FRAUD_INGEST_ID_BYTES_MAX + 1];
        char ip[FRAUD_INGEST_IP_BYTES_MAX];
};

/* The card hash key. */
struct normalize_key {
        uint8_t bytes[SIPHASH_KEY_BYTES];
};

/* Parses 32 hex digits (either case).  0, or -EINVAL. */
int normalize_key_parse(const char *hex, struct normalize_key *out);

/* Validates and normalizes in into *out.  Returns 0, or -EBADMSG with *rej
 * filled (out then holds nothing useful).  in and key are borrowed. */
int normalize_record(const struct normalize_input *in, const struct normalize_key *key,
                     struct normalize_tx *out, struct normalize_rejection *rej);

/* Fills *rej (detail formatted like printf) and returns -EBADMSG. */
int normalize_reject(struct normalize_rejection *rej, enum normalize_reason reason, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/* "transaction_id", "timestamp", ...: our field names (the mapping's keys). */
const char *normalize_field_name(enum normalize_field f);
/* "bad_amount", ...; "ok" for NORMALIZE_OK. */
const char *normalize_reason_code(enum normalize_reason r);

/* Decimals of an ISO 4217 code in the table (upper case), or -1. */
int normalize_currency_decimals(const char *code);
/* Whether code is an assigned ISO 3166-1 alpha-2 code (upper case). */
bool normalize_country_known(const char *code);
/* The table sizes, for the tests. */
size_t normalize_currency_count(void);
size_t normalize_country_count(void);
/* Whether digits (len bytes of '0'..'9') pass the Luhn check. */
bool normalize_luhn_valid(const char *digits, size_t len);

/* Masks card-number-like data in raw bytes kept for the dlq: in every run
 * of 13..19 ASCII digits, the digits between the first six and the last
 * four become '*' (PCI DSS display masking).  In place. */
void normalize_mask_pans(char *buf, size_t len);

#endif
