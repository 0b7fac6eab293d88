/* fraud-labeler: Stage 4 of 5: consumes FeatureVector from tx.features,
 * Score from scores and Chargeback from chargebacks, produces Label to
 * labels (and rejected input to dlq); state in RocksDB
 * (labeler.state_dir).
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, signals, the loop of labeler.c, a clean shutdown on SIGTERM
 * or SIGINT: finish the step, wait for deliveries, write state and
 * offsets, leave the group, close RocksDB).  Exit status: 0 after a clean
 * stop, EX_CONFIG for a bad configuration, EX_UNAVAILABLE when Kafka or the
 * store cannot be opened, EX_SOFTWARE when the loop fails (the restart
 * resumes from the last checkpoint).  Operations (common/stage.h):
 * /metrics, /healthz and /readyz on labeler.http_listen, ready once an
 * input partition is assigned; systemd's READY=1, WATCHDOG=1, STOPPING=1.
 */
#include "common/stage.h"
#include "labeler/labeler.h"
#include "lib/log.h"

FRAUD_STAGE_DEFINE(labeler)

static void labeler_main_announce(const struct fraud_settings *s, const void *stage) {
        (void)stage;
        fraud_log_notice("labelling into %s: maturity %lld days, horizon %lld days, lateness "
                         "%lld s",
                         s->topics.labels, (long long)s->labeler.maturity_days,
                         (long long)s->labeler.horizon_days, (long long)s->labeler.lateness_sec);
}

static bool labeler_main_ready(const void *stage, char *why, size_t why_size) {
        return labeler_ready(stage, why, why_size);
}

static const struct fraud_metrics *labeler_main_metrics(void *stage) {
        return labeler_metrics(stage);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-labeler",
                .info.place = "Stage 4 of 5: consumes FeatureVector from tx.features, Score "
                              "from scores and Chargeback from chargebacks, produces Label to "
                              "labels.",
                .info.section = "labeler",
                FRAUD_STAGE_CALLS(labeler),
                .announce = labeler_main_announce,
                .ready = labeler_main_ready,
                .metrics = labeler_main_metrics,
        };

        return fraud_stage_main(&stage, argc, argv);
}
