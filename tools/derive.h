/* derive.h: chargebacks for a log that only flags its frauds.
 *
 * Many historical logs (public datasets, exports of a case system) carry a
 * fraud flag per payment and no chargeback file.  A backtest needs the
 * chargebacks -- when each fraud became known -- to label honestly, so
 * they are derived: every flagged payment gets one chargeback, arriving
 * after a delay drawn from a log-normal distribution (median and sigma in
 * days: most chargebacks come within weeks, a long tail later, as the
 * simulator's do), capped below the labeler's horizon.  The draw is a
 * deterministic function of the transaction id and the seed: the same log
 * gives the same file.
 *
 * Output: the chargebacks CSV tools/offline.h reads (chargeback_id,
 * transaction_id, timestamp = arrival, transaction_timestamp, merchant_id,
 * terminal_id), sorted by arrival.
 */
#ifndef FRAUD_DERIVE_H
#define FRAUD_DERIVE_H

#include <stdint.h>
#include <stdio.h>

#include "tools/offline.h"

struct derive_options {
        const struct offline_options *read; /* the transactions, as a backtest reads them */
        double median_days, sigma;          /* of the delay; median > 0, sigma >= 0 */
        double max_days;                    /* the cap (labeler horizon - 1) */
        uint64_t seed;
};

/* Parses "MEDIAN[:SIGMA]" (days; SIGMA default 0.8).  0 or -EINVAL. */
int derive_delay_parse(const char *s, double *median_days, double *sigma);

/* The delay in microseconds of the chargeback of transaction id. */
int64_t derive_delay_us(const struct derive_options *o, const char *id);

/* Writes the chargebacks of every flagged payment to out.  *n their
 * count.  0, or -errno with the reason in err. */
int derive_chargebacks(const struct derive_options *o, FILE *out, uint64_t *n, char *err,
                       size_t err_size);

#endif
