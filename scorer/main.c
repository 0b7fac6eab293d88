/* fraud-scorer: Stage 3 of 5: consumes FeatureVector from tx.features and ModelAnnouncement from
 * models, produces Score to scores.
 *
 * Only the run skeleton lives here; the stage's loop is not built yet in
 * this version, so the daemon takes its configuration and stops with
 * EX_UNAVAILABLE (README, Status).
 */
#include "common/stage.h"

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-scorer",
                .place = "Stage 3 of 5: consumes FeatureVector from tx.features and "
                         "ModelAnnouncement from models, produces Score to scores.",
        };

        return fraud_stage_main_unbuilt(&info, argc, argv);
}
