/* fraud-labeler: Stage 4 of 5: consumes FeatureVector from tx.features and Chargeback from
 * chargebacks, produces Label to labels.
 *
 * Only the run skeleton lives here; the stage's loop is not built yet in
 * this version, so the daemon takes its configuration and stops with
 * EX_UNAVAILABLE (README, Status).
 */
#include "common/stage.h"

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-labeler",
                .place = "Stage 4 of 5: consumes FeatureVector from tx.features and Chargeback "
                         "from chargebacks, produces Label to labels.",
        };

        return fraud_stage_main_unbuilt(&info, argc, argv);
}
