/* daily.h: one day of the trainer -- the training set at a cutoff, a
 * round (trainer/round.h), the quality gate (trainer/gate.h) and the
 * registry (trainer/registry.h) -- shared by the trainer daemon and
 * `fraudctl backtest`, so that a backtest retrains exactly as the daemon
 * does.  The caller supplies the labelled rows (the daemon's RocksDB label
 * store, the backtest's memory) through a select function that offers
 * every row of the window's event-time range to the table in key order:
 * event time, then transaction id (trainer/dataset.h).
 *
 * A day whose version is in the registry already is not trained again
 * (DAILY_EXISTS).  A day that cannot train -- too many rows, a part
 * without frauds, a fit that fails -- is DAILY_SKIPPED with the reason;
 * later days may train.  Otherwise the version is written to the registry,
 * as champion when the gate promotes it (DAILY_PROMOTED), else as rejected
 * with the gate's reason (DAILY_REJECTED).  Every outcome is logged at
 * notice level, as the daemon always did.
 *
 * Errors (-errno, with the reason in err): the select function's own
 * failures other than -E2BIG and -ENOMEM (those skip the day), the
 * registry's write failures, out of memory.  The stage then stops.
 */
#ifndef FRAUD_DAILY_H
#define FRAUD_DAILY_H

#include <stddef.h>
#include <stdint.h>

#include "common/featureset.h"
#include "common/modelfile.h"
#include "common/settings.h"
#include "lib/bounds.h"
#include "trainer/dataset.h"

enum daily_outcome {
        DAILY_PROMOTED = 0,
        DAILY_REJECTED,
        DAILY_SKIPPED,
        DAILY_EXISTS,
};

/* Offers the rows of w to t, in key order.  0 or -errno (err filled). */
struct daily_rows {
        int (*select)(void *ctx, const struct dataset_window *w, struct dataset_table *t,
                      char *err, size_t err_size);
        void *ctx;
};

struct daily_result {
        enum daily_outcome outcome;
        char version[FRAUD_MODELFILE_VERSION_MAX];
        char champion[FRAUD_MODELFILE_VERSION_MAX]; /* compared with; "" when none */
        char reason[FRAUD_TRAINER_REASON_MAX];      /* the gate's, or why skipped */
        char newest_tx[FRAUD_TRAINER_TXID_MAX];     /* of the latest row chosen */
        size_t train_rows, train_frauds, holdout_rows, holdout_frauds;
        double average_precision, auc_roc; /* the cascade on its holdout; NAN when skipped */
};

/* "train-YYYYMMDD" of the last label day before the cutoff. */
void daily_version(int64_t cutoff_us, char *out, size_t size);

const char *daily_outcome_name(enum daily_outcome o);

/* Trains the day at cutoff_us over the rows of the schema fs.  settings
 * (trainer and scorer sections) and fs are borrowed. */
int daily_run(const struct fraud_settings *s, const struct fraud_featureset *fs,
              const struct daily_rows *rows, int64_t cutoff_us, struct daily_result *out,
              char *err, size_t err_size);

#endif
