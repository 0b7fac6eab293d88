/* fraud-velocity: Stage 2 of 5: consumes Transaction from tx.normalized and
 * Chargeback from chargebacks, produces FeatureVector to tx.features (and
 * rejected input to dlq); state in RocksDB (velocity.state_dir).
 *
 * Only the run skeleton lives here: settings, signals, the loop of
 * velocity.c, a clean shutdown on SIGTERM or SIGINT (finish the batch, wait
 * for deliveries, write state and offsets, leave the group, close RocksDB).
 * Exit status: 0 after a clean stop, EX_CONFIG for a bad configuration,
 * EX_UNAVAILABLE when Kafka or the store cannot be opened, EX_SOFTWARE when
 * the loop fails (the restart resumes from the last checkpoint).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/stage.h"
#include "lib/log.h"
#include "velocity/velocity.h"

static volatile sig_atomic_t velocity_stop;

static void on_signal(int sig) {
        (void)sig;
        velocity_stop = 1;
}

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-velocity",
                .place = "Stage 2 of 5: consumes Transaction from tx.normalized and Chargeback "
                         "from chargebacks, produces FeatureVector to tx.features.",
        };
        struct sigaction sa;
        struct fraud_settings settings;
        struct velocity *v = NULL;
        char err[FRAUD_CONFIG_ERR_MAX];
        int status = fraud_stage_start(&info, &argc, argv, &settings);
        int r;

        if (status != FRAUD_CLI_RUN)
                return status;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        r = velocity_new(&settings, &v, err, sizeof(err));
        if (r < 0) {
                fraud_log_err("%s", err);
                fraud_settings_release(&settings);
                return r == -EINVAL ? EX_CONFIG : EX_UNAVAILABLE;
        }
        fraud_log_notice("running; feature schema %016llx",
                         (unsigned long long)velocity_schema_hash(v));
        r = velocity_run(v, &velocity_stop);
        if (r < 0) {
                fraud_log_err("stopping: %s", velocity_error(v));
                velocity_free(v);
                fraud_settings_release(&settings);
                return EX_SOFTWARE;
        }
        r = velocity_close(v);
        fraud_settings_release(&settings);
        return r < 0 ? EX_SOFTWARE : 0;
}
