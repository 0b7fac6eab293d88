/* fraud-scorer: Stage 3 of 5: consumes FeatureVector from tx.features and
 * ModelAnnouncement from models, produces Score to scores (and a
 * challenger's to scores.shadow).
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, signals, the loop over scorer_step() of scorer/scorer.h).
 * SIGTERM and SIGINT finish the batch, flush, store offsets, log the
 * counters and exit 0; SIGHUP reloads the rules file.  Exit status:
 * EX_CONFIG when the stage cannot start (settings, rules file, model
 * directory or Kafka: scorer.h); a delivery failure exits EX_TEMPFAIL so
 * that a restart resumes at the last stored offset.  Operations
 * (common/stage.h): /metrics (the scorer's registry after the daemon's
 * own), /healthz and /readyz on scorer.http_listen, systemd's READY=1,
 * WATCHDOG=1, STOPPING=1; ready once open() returned (scorer_new() loads
 * the rules and the configured models before it returns).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "common/stage.h"
#include "lib/log.h"
#include "scorer/scorer.h"

#define SCORER_DRAIN_MS 10000 /* wait for the last deliveries at shutdown */

static volatile sig_atomic_t reload_requested;

static void on_reload(int sig) {
        (void)sig;
        reload_requested = 1;
}

static void scorer_main_prepare(const struct fraud_settings *s) {
        struct sigaction sa;

        (void)s;
        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_reload;
        sigaction(SIGHUP, &sa, NULL);
}

static int scorer_main_open(const struct fraud_settings *s, void **stage, char *err,
                            size_t err_size) {
        struct scorer *sc = NULL;
        int r = scorer_new(s, &sc, err, err_size);

        *stage = sc;
        return r < 0 ? -EINVAL : 0; /* what fails at start, the operator asked for */
}

static void scorer_main_announce(const struct fraud_settings *s, const void *stage) {
        (void)stage;
        fraud_log_notice("scoring %s into %s", s->topics.features, s->topics.scores);
}

static int scorer_main_step(void *stage, int timeout_ms) {
        if (reload_requested) {
                reload_requested = 0;
                scorer_reload_request(stage);
        }
        return scorer_step(stage, timeout_ms);
}

/* A failed step has logged why. */
static int scorer_main_run(void *stage, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = stage,
                .step = scorer_main_step,
                .consumer = scorer_consumer(stage),
                .partitions = "a partition of the features topic",
        };

        return fraud_stage_loop(&loop, stop);
}

static void stats_log(const struct scorer *s) {
        struct scorer_stats st;

        scorer_stats(s, &st);
        fraud_log_notice(
                "consumed %llu, scored %llu (degraded %llu), shadow %llu, duplicates %llu, "
                "rejected %llu, models loaded %llu refused %llu, rules loaded %llu "
                "refused %llu",
                (unsigned long long)st.consumed, (unsigned long long)st.scored,
                (unsigned long long)st.degraded, (unsigned long long)st.shadow_scored,
                (unsigned long long)st.duplicates, (unsigned long long)st.rejected,
                (unsigned long long)st.models_loaded, (unsigned long long)st.models_refused,
                (unsigned long long)st.rules_reloaded, (unsigned long long)st.rules_failed);
}

static int scorer_main_close(void *stage) {
        int r = scorer_drain(stage, SCORER_DRAIN_MS);

        stats_log(stage);
        scorer_free(stage);
        return r;
}

static void scorer_main_free(void *stage) {
        stats_log(stage);
        scorer_free(stage);
}

static const struct fraud_metrics *scorer_main_metrics(void *stage) {
        return scorer_metrics(stage);
}

static bool scorer_main_ready(const void *stage, char *why, size_t why_size) {
        return scorer_ready(stage, why, why_size);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-scorer",
                .info.place = "Stage 3 of 5: consumes FeatureVector from tx.features and "
                              "ModelAnnouncement from models, produces Score to scores.",
                .info.section = "scorer",
                .prepare = scorer_main_prepare,
                .open = scorer_main_open,
                .announce = scorer_main_announce,
                .run = scorer_main_run,
                .close = scorer_main_close,
                .free = scorer_main_free,
                .fail_status = EX_TEMPFAIL,
                .metrics = scorer_main_metrics,
                .ready = scorer_main_ready,
        };

        return fraud_stage_main(&stage, argc, argv);
}
