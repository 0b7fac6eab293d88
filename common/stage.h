/* stage.h: what every stage daemon shares: its main() (command line,
 * settings, logging, signals, exit status), its run loop, the dead letter
 * of a rejected input, and the delivery and shutdown steps of a stage that
 * stores offsets after delivery.
 *
 * main().  Each stage's main.c declares its stage (a struct fraud_stage:
 * how to open, run, close and free its stage object) and returns
 * fraud_stage_main().  That parses the command line into settings and opens
 * the log at the configured level (common/cli.h), calls prepare(), makes
 * SIGTERM and SIGINT set the stop flag, opens the stage, logs the notice
 * line that says it runs, runs it until the stop flag is set, then closes
 * it (a clean shutdown: finish the step, wait for deliveries, store
 * offsets, leave the group) or, when run() failed, frees it without a
 * clean shutdown, and releases the settings.  Exit status (sysexits.h):
 *   0               a clean stop after SIGTERM or SIGINT;
 *   EX_USAGE, ...   from the command line (common/cli.h);
 *   EX_CONFIG       open() said the settings are bad (-EINVAL), or the
 *                   HTTP listen address does not resolve;
 *   EX_UNAVAILABLE  open() failed otherwise: Kafka, a store or a registry
 *                   cannot be opened; or the HTTP endpoint cannot listen
 *                   (its port taken);
 *   EX_SOFTWARE     run() or close() failed (or the stage's fail_status):
 *                   a restart resumes at the last stored offsets.
 *
 * The run loop.  fraud_stage_loop() steps a stage, waiting at most
 * FRAUD_STAGE_STEP_MS for input so that a signal is seen soon, logs an
 * error each time its consumer counts another offset reset (lost data:
 * DESIGN.md section 4), and a progress line at a fixed interval.
 *
 * Operations (DESIGN.md section 7), for every daemon alike:
 *   - an HTTP endpoint (lib/http.h) on <section>.http_listen ("" : none),
 *     started before open() so that it answers while the stage starts:
 *     /metrics renders the daemon's own metrics (below) and then the
 *     stage's registry (the metrics hook), /healthz says whether the loop
 *     steps (a step may take up to the stall hook's limit), /readyz
 *     whether the ready hook says so.  A bind failure (the port taken)
 *     stops the daemon with EX_UNAVAILABLE; port 0 logs the port it got.
 *   - systemd's notifications (lib/notify.h) when $NOTIFY_SOCKET is set:
 *     READY=1 when the stage first becomes ready, WATCHDOG=1 from the
 *     loop, STATUS= with readiness and progress, STOPPING=1 as soon as
 *     the loop ends on SIGTERM or SIGINT, before the clean shutdown
 *     (finish the step, flush, store offsets, close RocksDB), which is
 *     unchanged.
 *   - the daemon's own metrics: fraud_build_info{version,daemon},
 *     process_start_time_seconds, fraud_stage_ready, fraud_stage_steps_total,
 *     fraud_stage_records_total (the sum of what steps returned),
 *     fraud_stage_step_duration_seconds, the loop's consumer's counters
 *     (fraud_kafka_consumed_total, fraud_kafka_delivery_failed_total,
 *     fraud_kafka_offset_resets_total, fraud_kafka_errors_total), and the
 *     endpoint's (fraud_http_connections_total,
 *     fraud_http_responses_total{code}, fraud_http_errors_total) and
 *     fraud_notify_errors_total (notifications the socket refused).
 * The hooks run in the loop's thread, after a step; the endpoint's thread
 * only serves what the loop handed over (lib/http.h).  A loop run outside
 * fraud_stage_main() (the tests') does none of this.
 *
 * Single-threaded like the stages; the signal handlers only set a flag.
 */
#ifndef FRAUD_STAGE_H
#define FRAUD_STAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "lib/http.h"
#include "lib/kafka.h"
#include "lib/metrics.h"
#include "lib/store.h"
#include "proto/dead_letter.pb-c.h"

#define FRAUD_STAGE_STEP_MS 100 /* longest wait for input in one step */
/* A step longer than this plus kafka.delivery_timeout_ms (the longest a
 * checkpoint waits for its delivery reports) means the loop stalled. */
#define FRAUD_STAGE_STALL_MS 60000
#define FRAUD_STAGE_WHY_MAX  FRAUD_HTTP_REASON_MAX /* bytes of a readiness reason */

struct fraud_stage_info {
        const char *name;    /* "fraud-ingest" */
        const char *place;   /* "Stage 1 of 5: consumes ..., produces ..." */
        const char *section; /* its settings section, "ingest": <section>.http_listen */
};

/* A stage daemon.  stage is the stage object open() made. */
struct fraud_stage {
        struct fraud_stage_info info;
        /* Optional: runs first after the settings, before any thread starts. */
        void (*prepare)(const struct fraud_settings *s);
        /* Makes the stage object; s is borrowed and outlives it.  0, or
         * -errno with the reason in err: -EINVAL for bad settings, another
         * -errno when something it needs cannot be opened. */
        int (*open)(const struct fraud_settings *s, void **stage, char *err, size_t err_size);
        /* Optional: logs the notice line that says the stage runs (NULL:
         * "running: " and info.place). */
        void (*announce)(const struct fraud_settings *s, const void *stage);
        /* Runs until *stop is set: 0, or -errno when the stage must stop. */
        int (*run)(void *stage, const volatile sig_atomic_t *stop);
        /* Optional: why run() failed, logged as "stopping: ..." (NULL: run()
         * or the stage logged it). */
        const char *(*error)(const void *stage);
        /* Clean shutdown after run() returned 0; frees the stage.  0 or
         * -errno (the stage logs why). */
        int (*close)(void *stage);
        /* Frees the stage after run() failed. */
        void (*free)(void *stage);
        /* main()'s status when run() or close() fails; 0: EX_SOFTWARE. */
        int fail_status;
        /* Optional: whether the stage is ready (/readyz, READY=1), asked
         * after every step; when not, why (a short phrase: "waiting for a
         * partition of tx.raw") in why.  NULL: ready once open() returned. */
        bool (*ready)(const void *stage, char *why, size_t why_size);
        /* Optional: the stage's metrics, its gauges brought up to date, for
         * a /metrics render.  NULL: the daemon's own metrics only. */
        const struct fraud_metrics *(*metrics)(void *stage);
        /* Optional: the longest a step may take before /healthz reports a
         * stall, in ms.  NULL: FRAUD_STAGE_STALL_MS + kafka.delivery_timeout_ms. */
        int64_t (*stall_ms)(const struct fraud_settings *s);
};

/* The whole main() of the stage decl declares, as above.  Returns its exit
 * status. */
int fraud_stage_main(const struct fraud_stage *decl, int argc, char **argv);

/* For a stage object in the house vocabulary -- struct NAME, NAME_new(s,
 * &object, err, err_size), NAME_run(object, stop), NAME_error(object),
 * NAME_close(object) (the clean shutdown, which frees) and
 * NAME_free(object) -- FRAUD_STAGE_DEFINE(NAME) defines the callbacks of
 * its struct fraud_stage (static functions NAME_stage_open, ...) that
 * FRAUD_STAGE_CALLS(NAME) names in the declaration: the adapters from the
 * stage's types to void *, written once. */
#define FRAUD_STAGE_DEFINE(NAME)                                                                   \
        static int NAME##_stage_open(const struct fraud_settings *s, void **stage, char *err,      \
                                     size_t err_size) {                                            \
                struct NAME *object = NULL;                                                        \
                int r = NAME##_new(s, &object, err, err_size);                                     \
                *stage = object;                                                                   \
                return r;                                                                          \
        }                                                                                          \
        static int NAME##_stage_run(void *stage, const volatile sig_atomic_t *stop) {              \
                return NAME##_run(stage, stop);                                                    \
        }                                                                                          \
        static const char *NAME##_stage_error(const void *stage) {                                 \
                return NAME##_error(stage);                                                        \
        }                                                                                          \
        static int NAME##_stage_close(void *stage) {                                               \
                return NAME##_close(stage);                                                        \
        }                                                                                          \
        static void NAME##_stage_free(void *stage) {                                               \
                NAME##_free(stage);                                                                \
        }

#define FRAUD_STAGE_CALLS(NAME)                                                                    \
        .open = NAME##_stage_open, .run = NAME##_stage_run, .error = NAME##_stage_error,           \
        .close = NAME##_stage_close, .free = NAME##_stage_free

/* What fraud_stage_loop() steps. */
struct fraud_stage_loop {
        void *stage;                              /* passed to step and progress */
        int (*step)(void *stage, int timeout_ms); /* >= 0, or -errno: stop */
        void (*progress)(const void *stage);      /* logs a progress line; NULL: none */
        int64_t progress_every_us;
        /* Whose offset resets are logged as errors ("offset reset on
         * <partitions> (data lost?): ..."); NULL: none are watched. */
        const struct fraud_kafka_consumer *consumer;
        const char *partitions; /* "an input partition" */
};

/* Steps until *stop is set or a step fails.  0, or the failed step's
 * -errno. */
int fraud_stage_loop(const struct fraud_stage_loop *loop, const volatile sig_atomic_t *stop);

/* RocksDB's size as gauges of a stage's registry:
 * fraud_store_sst_bytes, fraud_store_live_data_bytes,
 * fraud_store_memtable_bytes. */
struct fraud_stage_store_gauges {
        double *sst, *live, *memtable;
};

/* Registers the gauges in m.  0 or -ENOMEM (the registry is full). */
int fraud_stage_store_gauges_init(struct fraud_stage_store_gauges *g, struct fraud_metrics *m);

/* Sets them from store (NULL or an error: left as they were). */
void fraud_stage_store_gauges_update(struct fraud_stage_store_gauges *g, struct fraud_store *store);

/* Fills d for input m that stage rejects: the reason code and reason, the
 * transaction id ("" for NULL), where m came from, m's bytes as the
 * original (the caller may cut or drop them) and the rejection time (wall
 * clock).  d borrows every string and m's bytes. */
void fraud_stage_dead_letter(Fraud__DeadLetter *d, const char *stage,
                             const struct fraud_kafka_message *m, const char *tx_id,
                             const char *code, const char *reason);

/* Waits up to flush_ms for the delivery report of everything p produced,
 * then fails if a delivery failed since the last call (*failed_seen follows
 * c's delivery_failed counter).  0, or -errno with the reason in error. */
int fraud_stage_deliveries_wait(struct fraud_kafka_producer *p,
                                const struct fraud_kafka_consumer *c, int flush_ms,
                                uint64_t *failed_seen, char *error, size_t error_size);

/* The end of a clean shutdown, after the last checkpoint, whose result is
 * r: leaves the group (c's offsets stored and committed), flushes store
 * (NULL: none), logs the first error (its reason in error).  Returns r, or
 * the first error after it; the caller still frees its stage. */
int fraud_stage_leave(struct fraud_kafka_consumer *c, struct fraud_store *store, int r, char *error,
                      size_t error_size);

#endif
