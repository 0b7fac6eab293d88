/* backtest.h: the backtest engine -- the five stage cores in one process,
 * driven in event-time order from a transactions file and a chargebacks
 * file, without Kafka.
 *
 *   ingest    ingest/mapping.h + ingest/normalize.h, ids de-duplicated  }
 *   velocity  velocity/features.h on velocity/entities.h (memory)       } tools/offline.h
 *   scorer    scorer/decide.h with the rules file and the models below
 *   labeler   labeler/join.h on labeler/memstore.h
 *   trainer   trainer/schedule.h + trainer/daily.h over the labels kept
 *             here, writing a model registry on disk
 *
 * Order (tools/offline.h, DAY order): at each event-time day barrier the
 * day's chargebacks go to the velocity windows and to the labeler, the
 * labeler's due labels go to the trainer, and every day the trainer's
 * schedule finds due is trained; a promoted model serves from the next
 * transaction on.  Then the day's payments, each through velocity, the
 * scorer (FeatureVector and Score packed as the daemons send them) and
 * the labeler, whose labels feed the trainer, which trains whenever a day
 * becomes due.  This is the order the Kafka-connected daemons see when
 * `fraudctl replay` drives them (its barrier waits for the trainer and the
 * scorer reads the models topic to its end at each new day), hence the
 * parity of the two: same decision and probability for every payment.
 *
 * Determinism: no wall clock reaches a decision, a label or a model (the
 * FeatureVector's velocity_time_us is 0; latencies are measured but only
 * reported).  The same files and settings give the same scores and the
 * same model bytes.
 *
 * Retraining: every day the trainer's schedule makes due (warm-up and
 * label lateness from the trainer settings, never the wall clock), or
 * every retrain_every_days-th day of them, or never (0).  Training time is
 * measured apart (train_ns) so throughput can be given without it.
 *
 * Outputs go to callbacks: one per decided payment, one per trained (or
 * skipped) day.  The registry is the settings' trainer.registry_dir:
 * versions are written there and read back by the scorer side, exactly as
 * the daemons share it (start from an empty one).  The scorer starts with
 * scorer.model_dir when set, and scorer.rules_file.
 */
#ifndef FRAUD_BACKTEST_H
#define FRAUD_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/settings.h"
#include "ingest/mapping.h"
#include "ingest/normalize.h"
#include "labeler/join.h"
#include "scorer/decide.h"
#include "tools/offline.h"
#include "trainer/daily.h"

/* One decided payment, borrowed for the callback. */
struct backtest_score {
        const Fraud__Transaction *tx;
        const struct decide_result *res; /* decision, stage, probability, reasons */
        const char *model_version;       /* the GBDT's; "" when rules decided alone */
        int is_fraud;                    /* the file's ground truth: 0, 1, -1 unknown */
        const char *scenario;            /* "" unknown */
        uint64_t latency_ns;             /* the cascade's (rules + GBDT + MLP) */
};

/* One trained, rejected or skipped day, borrowed for the callback. */
struct backtest_round {
        int64_t cutoff_us;
        int64_t at_us; /* event time of the input that made it due */
        const struct daily_result *result;
        uint64_t train_ns;
};

struct backtest_options {
        const struct fraud_settings *settings; /* every stage's section; borrowed */
        const char *transactions;              /* path (CSV or JSON lines) */
        const char *chargebacks;               /* path (CSV); NULL: none */
        const struct mapping *mapping;         /* NULL: the identity */
        const struct normalize_key *key;
        int retrain_every_days;     /* 1: every due day; N: every Nth; 0: never */
        bool reason_codes;          /* compute them (XGBoost contributions); they are in
                                     * no output of the command, only in on_score's res */
        FILE *diag;                 /* rejected records described; NULL: not */
        const char *fraud_column;   /* the ground truth's column; NULL: is_fraud */
        int (*on_score)(void *opaque, const struct backtest_score *s);
        int (*on_round)(void *opaque, const struct backtest_round *r);
        void (*on_progress)(void *opaque, uint64_t lines, int64_t event_us);
        void *opaque;
};

struct backtest_counts {
        struct offline_counts offline;
        uint64_t scored, degraded;
        uint64_t labels, label_duplicates;
        uint64_t labeler_rejected; /* inputs the labeler sent to dlq */
        uint64_t rounds, promoted, rejected, skipped;
        uint64_t model_load_failures;
        uint64_t train_ns;   /* wall time in training rounds (and model loads) */
        uint64_t elapsed_ns; /* the whole run */
        uint64_t cpu_ns, train_cpu_ns; /* CPU time (all threads) of the run, of training */
        struct join_counters join;
};

/* Runs the files through the cores.  0, or -errno with the reason in err
 * (a file, the settings, the rules, the registry; a callback's error). */
int backtest_run(const struct backtest_options *o, struct backtest_counts *k, char *err,
                 size_t err_size);

#endif
