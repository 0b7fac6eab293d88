/* fraud-scorer: Stage 3 of 5: consumes FeatureVector from tx.features and
 * ModelAnnouncement from models, produces Score to scores (and a
 * challenger's to scores.shadow).
 *
 * Only the run skeleton lives here: settings, signals, the loop over
 * scorer_step() (scorer/scorer.h).  SIGTERM and SIGINT finish the batch,
 * flush, store offsets, log the counters and exit 0; SIGHUP reloads the
 * rules file.  A
 * delivery failure exits non-zero (EX_TEMPFAIL) so that a restart resumes
 * at the last stored offset.
 */
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/stage.h"
#include "lib/log.h"
#include "scorer/scorer.h"

#define SCORER_POLL_MS  100   /* longest wait for input before the next step */
#define SCORER_DRAIN_MS 10000 /* wait for the last deliveries at shutdown */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig) {
        (void)sig;
        stop_requested = 1;
}

static void on_reload(int sig) {
        (void)sig;
        reload_requested = 1;
}

static void signals_install(void) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = on_reload;
        sigaction(SIGHUP, &sa, NULL);
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

static int run(struct scorer *s) {
        int r = 0;

        while (!stop_requested && r >= 0) {
                if (reload_requested) {
                        reload_requested = 0;
                        scorer_reload_request(s);
                }
                r = scorer_step(s, SCORER_POLL_MS);
        }
        if (r >= 0)
                r = scorer_drain(s, SCORER_DRAIN_MS);
        stats_log(s);
        return r < 0 ? EX_TEMPFAIL : 0;
}

int main(int argc, char **argv) {
        static const struct fraud_stage_info info = {
                .name = "fraud-scorer",
                .place = "Stage 3 of 5: consumes FeatureVector from tx.features and "
                         "ModelAnnouncement from models, produces Score to scores.",
        };
        struct fraud_settings settings;
        struct scorer *s = NULL;
        char err[512];
        int status = fraud_stage_start(&info, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        signals_install();
        if (scorer_new(&settings, &s, err, sizeof(err)) < 0) {
                fraud_log_err("%s", err);
                fraud_settings_release(&settings);
                return EX_CONFIG;
        }
        fraud_log_notice("scoring %s into %s", settings.topics.features, settings.topics.scores);
        status = run(s);
        scorer_free(s);
        fraud_settings_release(&settings);
        return status;
}
