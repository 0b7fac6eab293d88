/* featurize.h: `fraudctl features`, the training rows of a payments history.
 *
 *   fraudctl features [--config FILE] --transactions FILE --chargebacks FILE
 *                     --out FILE [--mapping FILE] [--card-hash-key HEX]
 *                     [--until YYYY-MM-DD] [--label-cutoff YYYY-MM-DD]
 *
 * Runs the files through the offline driver (tools/offline.h: ingest's
 * mapping and normalization, velocity's features, chargebacks at their
 * arrival) and writes one CSV row per feature vector, in the layout
 * `fraudctl train` reads (tools/train.h):
 *
 *   label,event_time,card,<the feature names of common/featureset.h>
 *
 * label: 1 when a chargeback of the transaction arrived before the label
 * cutoff (never the file's is_fraud column, which is ground truth for
 * evaluation only and is not written); event_time: ISO 8601 UTC; card: the
 * card hash.  Values are written so that they read back as the same
 * doubles (integers as integers, the rest with 17 significant digits).
 *
 * --until D stops at the first transaction on or after day D (UTC
 * midnight); --label-cutoff D counts chargebacks that arrived before day D.
 * The cutoff defaults to --until when given (what was known when the data
 * ends), else to every chargeback in the file.  The card hash key comes from
 * --card-hash-key, else ingest.card_hash_key (FRAUD_INGEST_CARD_HASH_KEY);
 * there is no built-in key.  The output goes through lib/atomicfile.h:
 * written beside FILE and renamed over it only when complete.
 */
#ifndef FRAUD_FEATURIZE_H
#define FRAUD_FEATURIZE_H

#include <stdio.h>

#include "tools/offline.h"

/* Writes the header line: label,event_time,card and the names of fs.
 * 0 or -EIO. */
int featurize_header(const struct fraud_featureset *fs, FILE *out);

/* Writes one row.  0 or -EIO. */
int featurize_row(const struct offline_row *row, FILE *out);

/* The subcommand; returns the exit status (0, or a sysexits.h code). */
int featurize_main(int argc, char **argv);

#endif
