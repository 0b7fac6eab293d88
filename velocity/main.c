/* fraud-velocity: Stage 2 of 5: consumes Transaction from tx.normalized and Chargeback from
 * chargebacks, produces FeatureVector to tx.features.
 *
 * Only the run skeleton lives here; the stage's loop is not built yet in
 * this version, so the daemon takes its configuration and stops with
 * EX_UNAVAILABLE (README, Status).
 */
#include "common/stage.h"

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-velocity",
                .place = "Stage 2 of 5: consumes Transaction from tx.normalized and Chargeback "
                         "from chargebacks, produces FeatureVector to tx.features.",
        };

        return fraud_stage_main_unbuilt(&info, argc, argv);
}
