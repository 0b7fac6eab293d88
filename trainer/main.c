/* fraud-trainer: Stage 5 of 5: consumes Label from labels, produces
 * ModelAnnouncement to models once per event-time day; labels in RocksDB
 * (trainer.state_dir), models in the registry (trainer.registry_dir).
 *
 * Only the run skeleton lives here: the stage as common/stage.h runs it
 * (settings, priority, signals, the loop of trainer.c, a clean shutdown on
 * SIGTERM or SIGINT: finish the step -- a round in progress completes
 * first --, write labels and offsets, leave the group, close RocksDB).
 * The process lowers its priority to trainer.nice before any thread
 * starts, so librdkafka's and XGBoost's threads run at it too and a scorer
 * on the same machine keeps its latency.  Exit status: 0 after a clean
 * stop, EX_CONFIG for a bad configuration, EX_UNAVAILABLE when Kafka, the
 * store or the registry cannot be opened, EX_SOFTWARE when the loop fails
 * (the restart resumes from the stored offsets).
 *
 * Operations (common/stage.h): /metrics, /healthz and /readyz on
 * trainer.http_listen, systemd's READY=1, WATCHDOG=1, STOPPING=1.  A
 * training round runs inside one step, so /healthz allows a step
 * trainer.round_max_sec on top of the usual limit (a systemd WatchdogSec
 * must allow as much).  The metrics are the counters of trainer.h,
 * copied into a registry of this file at each render.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/stage.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "trainer/trainer.h"

#define TRAINER_ROW(name, labels, help, field)                                                     \
        { name, labels, help, offsetof(struct trainer_counters, field) }

/* struct trainer_counters as Prometheus counters; a name's help is given
 * on its first row. */
static const struct {
        const char *name, *labels, *help;
        size_t offset;
} trainer_main_rows[] = {
        TRAINER_ROW("trainer_labels_total", "", "Label versions added to the store.", labels),
        TRAINER_ROW("trainer_labels_ignored_total", "{why=\"duplicate\"}",
                    "Labels not added, by why.", duplicates),
        TRAINER_ROW("trainer_labels_ignored_total", "{why=\"late\"}", "", late),
        TRAINER_ROW("trainer_labels_ignored_total", "{why=\"versions_full\"}", "", versions_full),
        TRAINER_ROW("trainer_rejected_total", "", "Inputs sent to the dlq.", rejected),
        TRAINER_ROW("trainer_rounds_total", "{result=\"promoted\"}",
                    "Models trained, by the gate's decision.", promoted),
        TRAINER_ROW("trainer_rounds_total", "{result=\"rejected\"}", "", gate_rejected),
        TRAINER_ROW("trainer_days_skipped_total", "", "Label days that could not train.",
                    days_skipped),
        TRAINER_ROW("trainer_announced_total", "", "ModelAnnouncements delivered.", announced),
        TRAINER_ROW("trainer_checkpoints_total", "", "Store commits of labels and offsets.",
                    checkpoints),
};
#define TRAINER_MAIN_ROWS (sizeof(trainer_main_rows) / sizeof(trainer_main_rows[0]))

/* The stage object and the registry its counters are shown in. */
static struct trainer_main {
        struct trainer *t;
        struct fraud_metrics *registry;
        uint64_t *counters[TRAINER_MAIN_ROWS];
} trainer_main_state;

static void trainer_main_prepare(const struct fraud_settings *s) {
        int r = trainer_priority_lower((int)s->trainer.nice);

        if (r < 0)
                fraud_log_warning("cannot lower the priority to nice %lld: %s",
                                  (long long)s->trainer.nice, strerror(-r));
}

static int trainer_main_registry(struct trainer_main *m) {
        if (fraud_metrics_new(&m->registry) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < TRAINER_MAIN_ROWS; i++)
                if (!(m->counters[i] = fraud_metrics_counter(m->registry, trainer_main_rows[i].name,
                                                             trainer_main_rows[i].labels,
                                                             trainer_main_rows[i].help)))
                        return -ENOMEM;
        return 0;
}

static int trainer_main_open(const struct fraud_settings *s, void **stage, char *err,
                             size_t err_size) {
        struct trainer_main *m = &trainer_main_state;
        int r;

        if (trainer_main_registry(m) < 0) {
                fraud_metrics_free(m->registry);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = trainer_new(s, &m->t, err, err_size);
        if (r < 0) {
                fraud_metrics_free(m->registry);
                return r;
        }
        *stage = m;
        return 0;
}

static void trainer_main_announce(const struct fraud_settings *s, const void *stage) {
        (void)stage;
        fraud_log_notice("running: labels from %s, registry %s", s->topics.labels,
                         s->trainer.registry_dir);
}

static int trainer_main_run(void *stage, const volatile sig_atomic_t *stop) {
        struct trainer_main *m = stage;

        return trainer_run(m->t, stop);
}

static const char *trainer_main_error(const void *stage) {
        const struct trainer_main *m = stage;

        return trainer_error(m->t);
}

static int trainer_main_close(void *stage) {
        struct trainer_main *m = stage;
        int r = trainer_close(m->t);

        fraud_metrics_free(m->registry);
        return r;
}

static void trainer_main_free(void *stage) {
        struct trainer_main *m = stage;

        trainer_free(m->t);
        fraud_metrics_free(m->registry);
}

static const struct fraud_metrics *trainer_main_metrics(void *stage) {
        struct trainer_main *m = stage;
        struct trainer_counters k;

        trainer_counters(m->t, &k);
        for (size_t i = 0; i < TRAINER_MAIN_ROWS; i++)
                *m->counters[i] =
                        *(const uint64_t *)((const char *)&k + trainer_main_rows[i].offset);
        return m->registry;
}

static bool trainer_main_ready(const void *stage, char *why, size_t why_size) {
        const struct trainer_main *m = stage;

        return trainer_ready(m->t, why, why_size);
}

/* A step may run a whole training round. */
static int64_t trainer_main_stall_ms(const struct fraud_settings *s) {
        return FRAUD_STAGE_STALL_MS + s->kafka.delivery_timeout_ms +
               s->trainer.round_max_sec * 1000;
}

int main(int argc, char **argv) {
        static const struct fraud_stage stage = {
                .info.name = "fraud-trainer",
                .info.place = "Stage 5 of 5: consumes Label from labels, produces "
                              "ModelAnnouncement to models once per event-time day.",
                .info.section = "trainer",
                .prepare = trainer_main_prepare,
                .open = trainer_main_open,
                .announce = trainer_main_announce,
                .run = trainer_main_run,
                .error = trainer_main_error,
                .close = trainer_main_close,
                .free = trainer_main_free,
                .metrics = trainer_main_metrics,
                .stall_ms = trainer_main_stall_ms,
                .ready = trainer_main_ready,
        };

        return fraud_stage_main(&stage, argc, argv);
}
