/* faults.h: damage done on purpose to a published payment stream, so that
 * an end-to-end run can check that the pipeline rejects what it must and
 * scores every valid payment exactly once.
 *
 * `fraudctl generate --publish --malformed-share F --duplicate-share D`
 * draws, after each transaction it publishes, whether to publish a copy of
 * it again (a duplicate: same transaction id, same bytes) and whether to
 * publish a malformed record made from it.  A malformed record has its own
 * transaction id (the original's with FAULTS_ID_SUFFIX), so it is never
 * taken for a duplicate, and one defect each, in turn through
 * enum faults_kind, each of which ingest must reject with the reason code
 * faults_reason_code() names.
 *
 * Pure and deterministic: the draws come from a SplitMix64 sequence of the
 * seed, apart from the simulator's, so the valid stream is the same with
 * and without faults.
 */
#ifndef FRAUD_FAULTS_H
#define FRAUD_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

#define FAULTS_ID_SUFFIX  "-malformed"
#define FAULTS_SHARE_MAX  0.5

enum faults_kind {
        FAULTS_TRUNCATED = 0,   /* the JSON cut in half: bad_json */
        FAULTS_NO_AMOUNT,       /* the amount field removed: missing_field */
        FAULTS_CURRENCY,        /* currency "XXX": unknown_currency */
        FAULTS_NEGATIVE_AMOUNT, /* amount "-5.00": amount_not_positive */
        FAULTS_PAN_CHECKSUM,    /* the PAN's last digit changed: pan_checksum */
        FAULTS_TIMESTAMP,       /* timestamp "yesterday": bad_timestamp */
        FAULTS_KIND_COUNT,
};

struct faults {
        uint64_t state;
        double malformed_share, duplicate_share;
        uint64_t malformed, duplicates; /* drawn so far */
        uint64_t by_kind[FAULTS_KIND_COUNT];
};

/* Shares in [0, FAULTS_SHARE_MAX]. */
void faults_init(struct faults *f, uint64_t seed, double malformed_share, double duplicate_share);

/* Whether to publish the transaction just published once more. */
bool faults_duplicate(struct faults *f);

/* Whether to publish a malformed record after the transaction json (len
 * bytes, the JSON object of `fraudctl generate`'s JSONL format, no
 * newline, under FRAUD_GENERATE_LINE_MAX bytes); if so, writes it to out
 * (size bytes, NUL-terminated) and returns its length, else returns 0.
 * -ENOBUFS when out is too small, -EINVAL when json lacks a field the
 * defect needs. */
int faults_malformed(struct faults *f, const char *json, size_t len, char *out, size_t size);

/* The reason code ingest gives a record with this defect. */
const char *faults_reason_code(enum faults_kind k);

#endif
