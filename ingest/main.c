/* fraud-ingest: Stage 1 of 5: consumes raw JSON from tx.raw, produces
 * Transaction to tx.normalized (keyed by card hash) and DeadLetter to dlq.
 *
 * Only the run skeleton lives here: settings, the stage object
 * (ingest/ingest.h), the loop until SIGTERM or SIGINT, a summary line in
 * the log every ingest.log_interval_sec.  On a signal the batch in hand is
 * finished (its deliveries flushed, its seen ids and offsets committed to
 * RocksDB and stored in Kafka), then the consumer leaves the group and
 * RocksDB is closed.  Exit status: 0 after a signal, EX_CONFIG for bad
 * settings, EX_UNAVAILABLE when the stage cannot start, EX_SOFTWARE when a
 * batch fails (a restart resumes at the last committed offsets).
 */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/stage.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "lib/time.h"

#define INGEST_POLL_MS 100 /* longest wait for a batch, so a signal is seen soon */

static volatile sig_atomic_t ingest_stop;

static void ingest_on_signal(int sig) {
        (void)sig;
        ingest_stop = 1;
}

static void ingest_signals(void) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = ingest_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
}

static int ingest_loop(struct ingest *g, int64_t log_interval_sec) {
        int64_t interval_ns = log_interval_sec * 1000000000, next_log;

        next_log = fraud_time_mono_ns() + interval_ns;
        while (!ingest_stop) {
                if (ingest_poll(g, INGEST_POLL_MS) < 0) {
                        fraud_log_err("batch failed, stopping: %s", ingest_error(g));
                        return EX_SOFTWARE;
                }
                if (fraud_time_mono_ns() >= next_log) {
                        ingest_log_summary(g);
                        next_log += interval_ns;
                }
        }
        return 0;
}

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-ingest",
                .place = "Stage 1 of 5: consumes raw JSON from tx.raw, produces Transaction to "
                         "tx.normalized and DeadLetter to dlq.",
        };
        struct fraud_settings settings;
        struct ingest_holder *holder = NULL;
        struct ingest_config cfg;
        struct ingest *g = NULL;
        char err[FRAUD_CONFIG_ERR_MAX];
        int status = fraud_stage_start(&info, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        if (ingest_holder_new(&settings, &holder, &cfg, err, sizeof(err)) < 0) {
                fraud_log_err("%s", err);
                status = EX_CONFIG;
        } else if (ingest_new(&cfg, &g, err, sizeof(err)) < 0) {
                fraud_log_err("cannot start: %s", err);
                status = EX_UNAVAILABLE;
        } else {
                ingest_signals();
                fraud_log_notice("running: %s", info.place);
                status = ingest_loop(g, settings.ingest.log_interval_sec);
                ingest_log_summary(g);
                if (ingest_close(g) < 0) {
                        fraud_log_err("close: %s", ingest_error(g));
                        status = status ? status : EX_SOFTWARE;
                }
        }
        ingest_free(g);
        ingest_holder_free(holder);
        fraud_settings_release(&settings);
        return status;
}
