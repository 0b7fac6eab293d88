/* fraud-labeler: Stage 4 of 5: consumes FeatureVector from tx.features,
 * Score from scores and Chargeback from chargebacks, produces Label to
 * labels (and rejected input to dlq); state in RocksDB
 * (labeler.state_dir).
 *
 * Only the run skeleton lives here: settings, signals, the loop of
 * labeler.c, a clean shutdown on SIGTERM or SIGINT (finish the step, wait
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
#include "labeler/labeler.h"
#include "lib/log.h"

static volatile sig_atomic_t labeler_stop;

static void on_signal(int sig) {
        (void)sig;
        labeler_stop = 1;
}

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-labeler",
                .place = "Stage 4 of 5: consumes FeatureVector from tx.features, Score from "
                         "scores and Chargeback from chargebacks, produces Label to labels.",
        };
        struct sigaction sa;
        struct fraud_settings settings;
        struct labeler *l = NULL;
        char err[FRAUD_CONFIG_ERR_MAX];
        int status = fraud_stage_start(&info, &argc, argv, &settings);
        int r;

        if (status != FRAUD_CLI_RUN)
                return status;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        r = labeler_new(&settings, &l, err, sizeof(err));
        if (r < 0) {
                fraud_log_err("%s", err);
                fraud_settings_release(&settings);
                return r == -EINVAL ? EX_CONFIG : EX_UNAVAILABLE;
        }
        fraud_log_notice("labelling into %s: maturity %lld days, horizon %lld days, lateness "
                         "%lld s",
                         settings.topics.labels, (long long)settings.labeler.maturity_days,
                         (long long)settings.labeler.horizon_days,
                         (long long)settings.labeler.lateness_sec);
        r = labeler_run(l, &labeler_stop);
        if (r < 0) {
                fraud_log_err("stopping: %s", labeler_error(l));
                labeler_free(l);
                fraud_settings_release(&settings);
                return EX_SOFTWARE;
        }
        r = labeler_close(l);
        fraud_settings_release(&settings);
        return r < 0 ? EX_SOFTWARE : 0;
}
