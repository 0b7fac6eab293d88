/* fraud-ingest: Stage 1 of 5: consumes raw JSON from tx.raw, produces
 * Transaction to tx.normalized (keyed by card hash) and DeadLetter to dlq.
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, signals, the stage object of ingest/ingest.h, its loop until
 * SIGTERM or SIGINT), a summary line in the log every
 * ingest.log_interval_sec and at shutdown.  On a signal the batch in hand
 * is finished (its deliveries flushed, its seen ids and offsets committed
 * to RocksDB and stored in Kafka), then the consumer leaves the group and
 * RocksDB is closed.  Exit status: 0 after a signal, EX_CONFIG for bad
 * settings, EX_UNAVAILABLE when the stage cannot start, EX_SOFTWARE when a
 * batch fails (a restart resumes at the last committed offsets).
 *
 * Operations (common/stage.h): /metrics, /healthz and /readyz on
 * ingest.http_listen, ready once a partition of tx.raw is assigned;
 * systemd's READY=1, WATCHDOG=1 and STOPPING=1.
 */
#include <errno.h>
#include <stdio.h>

#include "common/stage.h"
#include "ingest/ingest.h"
#include "lib/log.h"

/* The stage object and what it was built from (one per process). */
static struct ingest_main {
        struct ingest_holder *holder;
        struct ingest *g;
        int64_t log_interval_sec;
} ingest_main_state;

static int ingest_main_open(const struct fraud_settings *s, void **stage, char *err,
                            size_t err_size) {
        struct ingest_main *m = &ingest_main_state;
        struct ingest_config cfg;
        char why[FRAUD_CONFIG_ERR_MAX];
        int r;

        if (ingest_holder_new(s, &m->holder, &cfg, err, err_size) < 0)
                return -EINVAL; /* whatever the reason, the settings' */
        r = ingest_new(&cfg, &m->g, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "cannot start: %s", why);
                ingest_holder_free(m->holder);
                return r == -EINVAL ? -EIO : r; /* the settings were fine: EX_UNAVAILABLE */
        }
        m->log_interval_sec = s->ingest.log_interval_sec;
        *stage = m;
        return 0;
}

static int ingest_main_run(void *stage, const volatile sig_atomic_t *stop) {
        struct ingest_main *m = stage;
        int r = ingest_run(m->g, m->log_interval_sec, stop);

        if (r < 0)
                fraud_log_err("batch failed, stopping: %s", ingest_error(m->g));
        return r;
}

/* The summary line (tests/e2e reads its duplicates=), then the close. */
static int ingest_main_close(void *stage) {
        struct ingest_main *m = stage;
        int r;

        ingest_log_summary(m->g);
        r = ingest_close(m->g);
        if (r < 0)
                fraud_log_err("close: %s", ingest_error(m->g));
        ingest_free(m->g);
        ingest_holder_free(m->holder);
        return r;
}

/* After a failed batch: the same (ingest_close() stores only what is
 * complete). */
static void ingest_main_free(void *stage) {
        ingest_main_close(stage);
}

static bool ingest_main_ready(const void *stage, char *why, size_t why_size) {
        const struct ingest_main *m = stage;

        return ingest_ready(m->g, why, why_size);
}

static const struct fraud_metrics *ingest_main_metrics(void *stage) {
        struct ingest_main *m = stage;

        return ingest_metrics_refresh(m->g);
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-ingest",
                .info.place = "Stage 1 of 5: consumes raw JSON from tx.raw, produces "
                              "Transaction to tx.normalized and DeadLetter to dlq.",
                .info.section = "ingest",
                .open = ingest_main_open,
                .run = ingest_main_run,
                .close = ingest_main_close,
                .free = ingest_main_free,
                .ready = ingest_main_ready,
                .metrics = ingest_main_metrics,
        };

        return fraud_stage_main(&stage, argc, argv);
}
