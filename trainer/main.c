/* fraud-trainer: Stage 5 of 5: consumes Label from labels, produces
 * ModelAnnouncement to models once per event-time day; labels in RocksDB
 * (trainer.state_dir), models in the registry (trainer.registry_dir).
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, priority, signals, the loop of trainer.c, a clean shutdown on
 * SIGTERM or SIGINT: finish the step -- a round in progress completes
 * first --, write labels and offsets, leave the group, close RocksDB).
 * The process lowers its priority to trainer.nice before any thread
 * starts, so librdkafka's and XGBoost's threads run at it too and a scorer
 * on the same machine keeps its latency.  Exit status: 0 after a clean
 * stop, EX_CONFIG for a bad configuration, EX_UNAVAILABLE when Kafka, the
 * store or the registry cannot be opened, EX_SOFTWARE when the loop fails
 * (the restart resumes from the stored offsets).
 */
#include <string.h>

#include "common/stage.h"
#include "lib/log.h"
#include "trainer/trainer.h"

static void trainer_main_prepare(const struct fraud_settings *s) {
        int r = trainer_priority_lower((int)s->trainer.nice);

        if (r < 0)
                fraud_log_warning("cannot lower the priority to nice %lld: %s",
                                  (long long)s->trainer.nice, strerror(-r));
}

FRAUD_STAGE_DEFINE(trainer)

static void trainer_main_announce(const struct fraud_settings *s, const void *stage) {
        (void)stage;
        fraud_log_notice("running: labels from %s, registry %s", s->topics.labels,
                         s->trainer.registry_dir);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-trainer",
                .info.place = "Stage 5 of 5: consumes Label from labels, produces "
                              "ModelAnnouncement to models once per event-time day.",
                .prepare = trainer_main_prepare,
                FRAUD_STAGE_CALLS(trainer),
                .announce = trainer_main_announce,
        };

        return fraud_stage_main(&stage, argc, argv);
}
