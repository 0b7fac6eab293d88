/* fraud-ingest: Stage 1 of 5: consumes raw JSON from tx.raw, produces Transaction to tx.normalized
 * and DeadLetter to dlq.
 *
 * Only the run skeleton lives here; the stage's loop is not built yet in
 * this version, so the daemon takes its configuration and stops with
 * EX_UNAVAILABLE (README, Status).
 */
#include "common/stage.h"

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-ingest",
                .place = "Stage 1 of 5: consumes raw JSON from tx.raw, produces Transaction to "
                         "tx.normalized and DeadLetter to dlq.",
        };

        return fraud_stage_main_unbuilt(&info, argc, argv);
}
