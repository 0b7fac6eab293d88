/* fraud-trainer: Stage 5 of 5: consumes Label from labels, produces ModelAnnouncement to models
 * once per event-time day.
 *
 * Only the run skeleton lives here; the stage's loop is not built yet in
 * this version, so the daemon takes its configuration and stops with
 * EX_UNAVAILABLE (README, Status).
 */
#include "common/stage.h"

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-trainer",
                .place = "Stage 5 of 5: consumes Label from labels, produces ModelAnnouncement to "
                         "models once per event-time day.",
        };

        return fraud_stage_main_unbuilt(&info, argc, argv);
}
