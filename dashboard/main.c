/* fraud-dashboard: the analyst's view, beside stage 3: consumes Score from
 * scores, FeatureVector from tx.features, Label from labels and
 * Chargeback from chargebacks; serves one web page (live decisions, the
 * review queue, charts, drift); produces Chargeback (REVIEW_FRAUD,
 * REVIEW_LEGIT) to chargebacks when an analyst closes a review.
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, signals, the loop of dashboard.c, a clean shutdown on
 * SIGTERM or SIGINT: finish the step, store offsets, leave the group,
 * stop the page).  Exit status: 0 after a clean stop, EX_CONFIG for a bad
 * configuration or page address, EX_UNAVAILABLE when Kafka cannot be
 * reached or the page's port is taken, EX_SOFTWARE when the loop fails.
 * Operations (common/stage.h): /metrics, /healthz and /readyz on
 * dashboard.http_listen, ready once a partition of every topic it reads
 * is assigned; systemd's READY=1, WATCHDOG=1, STOPPING=1.  The page is on
 * dashboard.page_listen (dashboard/web.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/stage.h"
#include "dashboard/dashboard.h"
#include "lib/http.h"
#include "lib/log.h"

FRAUD_STAGE_DEFINE(dashboard)

/* "page on http://HOST:PORT/": the line a script looks for (port 0 in the
 * settings: the port the system gave). */
static void dashboard_main_announce(const struct fraud_settings *s, const void *stage) {
        char host[FRAUD_HTTP_HOST_MAX + 1] = "";
        uint16_t port = 0;
        bool v6;

        fraud_http_listen_parse(s->dashboard.page_listen, host, &port, NULL, 0);
        v6 = strchr(host, ':') != NULL;
        fraud_log_notice("page on http://%s%s%s:%u/ (reading %s, %s, %s, %s)", v6 ? "[" : "", host,
                         v6 ? "]" : "", (unsigned)dashboard_page_port(stage), s->topics.scores,
                         s->topics.features, s->topics.labels, s->topics.chargebacks);
}

static bool dashboard_main_ready(const void *stage, char *why, size_t why_size) {
        return dashboard_ready(stage, why, why_size);
}

static const struct fraud_metrics *dashboard_main_metrics(void *stage) {
        return dashboard_metrics(stage);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-dashboard",
                .info.place = "The analyst's view: consumes Score from scores, FeatureVector from "
                              "tx.features, Label from labels and Chargeback from chargebacks; "
                              "serves the page; produces review verdicts to chargebacks.",
                .info.section = "dashboard",
                FRAUD_STAGE_CALLS(dashboard),
                .announce = dashboard_main_announce,
                .ready = dashboard_main_ready,
                .metrics = dashboard_main_metrics,
        };

        return fraud_stage_main(&stage, argc, argv);
}
