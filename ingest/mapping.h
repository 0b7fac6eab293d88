/* mapping.h: a column mapping, and raw records read through it into
 * normalize.h's fields.
 *
 * A mapping names, for each of our fields (normalize_field_name()), the key
 * of a JSON object or the column of a CSV file that holds it, so that any
 * historical log can be read; it also says how timestamps are written and,
 * for logs without a currency column, which currency amounts are in.  The
 * default mapping is the identity (our names, ISO 8601, no default
 * currency, ',' as CSV delimiter): what the simulator and tx.raw use.  The
 * file form (deploy/config/mapping.yaml documents it) is YAML:
 *
 *   columns:                  # our field: the source's key or column
 *     transaction_id: tx_id   # "" : the source has no such field
 *   timestamp_format: iso8601 # iso8601 | epoch_s | epoch_ms | epoch_us
 *   default_currency: ""      # ISO 4217 code used when the currency is empty
 *   csv_delimiter: ","
 *   card_number: pan          # pan | id: the pan field holds a card or
 *                             # account identifier, not a card number
 *   defaults:                 # our field: its value when the record has none
 *     mcc: "5999"
 *
 * A minimal log -- a card or customer id, a terminal or merchant id, an
 * amount, a timestamp, a fraud flag -- reads with card_number: id, the id
 * column as pan, and defaults for currency, mcc, country, channel and the
 * missing one of merchant_id / terminal_id (velocity keeps its windows on
 * the terminal id, else the merchant's): deploy/config/mapping-minimal.yaml.
 *
 * Fields not listed keep their own name.  Unknown keys, unknown fields,
 * duplicates, aliases and bad values are refused as "FILE:LINE: key:
 * reason".
 *
 * Records: a JSON object (rawjson.h rules; keys the mapping does not name
 * are ignored, e.g. is_fraud) or a CSV line (RFC 4180 quoting; its cells
 * matched to fields by the header bound with mapping_csv_header(); the cell
 * count must equal the header's).  Either way the result is a struct
 * normalize_input that borrows from the scratch struct, or a rejection with
 * its reason.  Pure apart from mapping_load() reading its file.
 */
#ifndef FRAUD_MAPPING_H
#define FRAUD_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/normalize.h"
#include "ingest/rawjson.h"
#include "lib/bounds.h"

struct mapping {
        char columns[NORMALIZE_FIELD_COUNT][FRAUD_INGEST_NAME_BYTES_MAX + 1]; /* "" : none */
        size_t column_len[NORMALIZE_FIELD_COUNT];
        enum normalize_time_format time_format;
        char default_currency[4]; /* "" : none */
        /* defaults: the text a field takes when the record has none (no
         * column, an empty cell, a missing or null key); "" : none. */
        char defaults[NORMALIZE_FIELD_COUNT][FRAUD_INGEST_NAME_BYTES_MAX + 1];
        size_t default_len[NORMALIZE_FIELD_COUNT];
        bool pan_is_id; /* card_number: id -- the pan field is a card or account id */
        char delimiter;
        /* Bound by mapping_csv_header(): the column of each field, or -1. */
        int column_index[NORMALIZE_FIELD_COUNT];
        size_t csv_columns; /* 0 until a header is bound */
};

/* The cells of one CSV line, decoded into the pool (NUL-terminated). */
struct mapping_cells {
        size_t count;
        const char *cell[FRAUD_INGEST_FIELDS_MAX];
        size_t len[FRAUD_INGEST_FIELDS_MAX];
        char pool[FRAUD_INGEST_RECORD_BYTES_MAX + FRAUD_INGEST_FIELDS_MAX];
};

/* What reading one record needs, reused from record to record (large: keep
 * it in a stage object or on the heap).  input borrows from the rest. */
struct mapping_scratch {
        union {
                struct rawjson_object json;
                struct mapping_cells csv;
        } u;
        struct normalize_input input;
};

/* The identity mapping described above. */
void mapping_init_default(struct mapping *m);

/* Applies the YAML text (len bytes) over the default mapping into *m; name
 * is the file name used in messages.  0, or -EINVAL with "NAME:LINE: key:
 * reason" in err. */
int mapping_parse(struct mapping *m, const char *name, const char *text, size_t len, char *err,
                  size_t err_size);

/* Reads the file at path (at most FRAUD_INGEST_MAPPING_BYTES_MAX) and
 * parses it.  -errno when unreadable (-EFBIG when too large). */
int mapping_load(struct mapping *m, const char *path, char *err, size_t err_size);

/* Binds the CSV header line (with or without its line end) to m: each
 * named column must appear once.  0, or -EINVAL with the reason in err. */
int mapping_csv_header(struct mapping *m, const char *line, size_t len, char *err, size_t err_size);

/* A JSON object -> s->input.  0, or -EBADMSG with *rej filled. */
int mapping_json_input(const struct mapping *m, const char *buf, size_t len,
                       struct mapping_scratch *s, struct normalize_rejection *rej);

/* A CSV line (header bound) -> s->input.  0, or -EBADMSG with *rej filled. */
int mapping_csv_input(const struct mapping *m, const char *line, size_t len,
                      struct mapping_scratch *s, struct normalize_rejection *rej);

#endif
