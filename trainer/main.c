/* fraud-trainer: Stage 5 of 5: consumes Label from labels, produces
 * ModelAnnouncement to models once per event-time day; labels in RocksDB
 * (trainer.state_dir), models in the registry (trainer.registry_dir).
 *
 * Only the run skeleton lives here: settings, priority, signals, the loop
 * of trainer.c, a clean shutdown on SIGTERM or SIGINT (finish the step --
 * a round in progress completes first --, write labels and offsets, leave
 * the group, close RocksDB).  The process lowers its priority to
 * trainer.nice before any thread starts, so librdkafka's and XGBoost's
 * threads run at it too and a scorer on the same machine keeps its
 * latency.  Exit status: 0 after a clean stop, EX_CONFIG for a bad
 * configuration, EX_UNAVAILABLE when Kafka, the store or the registry
 * cannot be opened, EX_SOFTWARE when the loop fails (the restart resumes
 * from the stored offsets).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/stage.h"
#include "lib/bounds.h"
#include "lib/log.h"
#include "trainer/trainer.h"

static volatile sig_atomic_t trainer_stop;

static void on_signal(int sig) {
        (void)sig;
        trainer_stop = 1;
}

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-trainer",
                .place = "Stage 5 of 5: consumes Label from labels, produces ModelAnnouncement to "
                         "models once per event-time day.",
        };
        struct sigaction sa;
        struct fraud_settings settings;
        struct trainer *t = NULL;
        char err[FRAUD_TRAINER_ERR_MAX];
        int status = fraud_stage_start(&info, &argc, argv, &settings);
        int r;

        if (status != FRAUD_CLI_RUN)
                return status;
        if ((r = trainer_priority_lower((int)settings.trainer.nice)) < 0)
                fraud_log_warning("cannot lower the priority to nice %lld: %s",
                                  (long long)settings.trainer.nice, strerror(-r));
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if ((r = trainer_new(&settings, &t, err, sizeof(err))) < 0) {
                fraud_log_err("%s", err);
                fraud_settings_release(&settings);
                return r == -EINVAL ? EX_CONFIG : EX_UNAVAILABLE;
        }
        fraud_log_notice("running: labels from %s, registry %s", settings.topics.labels,
                         settings.trainer.registry_dir);
        if (trainer_run(t, &trainer_stop) < 0) {
                fraud_log_err("stopping: %s", trainer_error(t));
                trainer_free(t);
                fraud_settings_release(&settings);
                return EX_SOFTWARE;
        }
        r = trainer_close(t);
        fraud_settings_release(&settings);
        return r < 0 ? EX_SOFTWARE : 0;
}
