/* fraud-velocity: Stage 2 of 5: consumes Transaction from tx.normalized and
 * Chargeback from chargebacks, produces FeatureVector to tx.features (and
 * rejected input to dlq); state in RocksDB (velocity.state_dir).
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, signals, the loop of velocity.c, a clean shutdown on SIGTERM
 * or SIGINT: finish the batch, wait for deliveries, write state and
 * offsets, leave the group, close RocksDB).  Exit status: 0 after a clean
 * stop, EX_CONFIG for a bad configuration, EX_UNAVAILABLE when Kafka or the
 * store cannot be opened, EX_SOFTWARE when the loop fails (the restart
 * resumes from the last checkpoint).  Operations (common/stage.h):
 * /metrics, /healthz and /readyz on velocity.http_listen, ready once an
 * input partition is assigned; systemd's READY=1, WATCHDOG=1, STOPPING=1.
 */
#include "common/stage.h"
#include "lib/log.h"
#include "velocity/velocity.h"

FRAUD_STAGE_DEFINE(velocity)

static void velocity_main_announce(const struct fraud_settings *s, const void *stage) {
        (void)s;
        fraud_log_notice("running; feature schema %016llx",
                         (unsigned long long)velocity_schema_hash(stage));
}

static bool velocity_main_ready(const void *stage, char *why, size_t why_size) {
        return velocity_ready(stage, why, why_size);
}

static const struct fraud_metrics *velocity_main_metrics(void *stage) {
        return velocity_metrics(stage);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-velocity",
                .info.place = "Stage 2 of 5: consumes Transaction from tx.normalized and "
                              "Chargeback from chargebacks, produces FeatureVector to "
                              "tx.features.",
                .info.section = "velocity",
                FRAUD_STAGE_CALLS(velocity),
                .announce = velocity_main_announce,
                .ready = velocity_main_ready,
                .metrics = velocity_main_metrics,
        };

        return fraud_stage_main(&stage, argc, argv);
}
