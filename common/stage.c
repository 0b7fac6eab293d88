/* stage.c: see stage.h. */
#include "common/stage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/schema.h"
#include "lib/bounds.h"
#include "lib/log.h"
#include "lib/time.h"

/* The reason open() gives: the longest any stage writes (a path and why). */
_Static_assert(FRAUD_TRAINER_ERR_MAX >= FRAUD_CONFIG_ERR_MAX &&
                       FRAUD_TRAINER_ERR_MAX >= FRAUD_SCORER_ERR_MAX,
               "a stage's error text fits");

static volatile sig_atomic_t fraud_stage_stop;

/* Parses the command line into settings and opens the log at the configured
 * level.  Returns FRAUD_CLI_RUN (settings loaded, the caller releases them)
 * or main()'s exit status (see common/cli.h). */
static int fraud_stage_start(const struct fraud_stage_info *info, int *argc, char **argv,
                             struct fraud_settings *settings) {
        const struct fraud_cli cli = {.summary = info->place};
        enum fraud_log_level level;
        int status;

        status = fraud_cli_parse(&cli, argc, argv, settings);
        if (status != FRAUD_CLI_RUN)
                return status;
        if (fraud_log_level_parse(settings->log.level, &level) < 0)
                level = FRAUD_LOG_INFO; /* the settings table admits only valid names */
        fraud_log_open(info->name, level);
        return FRAUD_CLI_RUN;
}

static void fraud_stage_on_signal(int sig) {
        (void)sig;
        fraud_stage_stop = 1;
}

static void fraud_stage_signals(void) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = fraud_stage_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
}

/* Runs the open stage object, then closes or frees it; main()'s status. */
static int fraud_stage_run(const struct fraud_stage *decl, void *stage) {
        int fail = decl->fail_status ? decl->fail_status : EX_SOFTWARE;

        if (decl->run(stage, &fraud_stage_stop) < 0) {
                if (decl->error)
                        fraud_log_err("stopping: %s", decl->error(stage));
                decl->free(stage);
                return fail;
        }
        return decl->close(stage) < 0 ? fail : 0;
}

int fraud_stage_main(const struct fraud_stage *decl, int argc, char **argv) {
        struct fraud_settings settings;
        char err[FRAUD_TRAINER_ERR_MAX] = "";
        void *stage = NULL;
        int status = fraud_stage_start(&decl->info, &argc, argv, &settings);
        int r;

        if (status != FRAUD_CLI_RUN)
                return status;
        if (decl->prepare)
                decl->prepare(&settings);
        fraud_stage_signals();
        r = decl->open(&settings, &stage, err, sizeof(err));
        if (r < 0) {
                fraud_log_err("%s", err);
                fraud_settings_release(&settings);
                return r == -EINVAL ? EX_CONFIG : EX_UNAVAILABLE;
        }
        if (decl->announce)
                decl->announce(&settings, stage);
        else
                fraud_log_notice("running: %s", decl->info.place);
        status = fraud_stage_run(decl, stage);
        fraud_settings_release(&settings);
        return status;
}

/* ---- the run loop ---- */

int fraud_stage_loop(const struct fraud_stage_loop *loop, const volatile sig_atomic_t *stop) {
        int64_t next_log = fraud_time_mono_ns() / 1000 + loop->progress_every_us;
        uint64_t resets = 0;

        while (!*stop) {
                struct fraud_kafka_counters kc;
                int r = loop->step(loop->stage, FRAUD_STAGE_STEP_MS);

                if (r < 0)
                        return r;
                if (loop->consumer) {
                        fraud_kafka_consumer_counters(loop->consumer, &kc);
                        if (kc.offset_resets > resets) {
                                resets = kc.offset_resets;
                                fraud_log_err("offset reset on %s (data lost?): %s",
                                              loop->partitions,
                                              fraud_kafka_consumer_error(loop->consumer));
                        }
                }
                if (loop->progress && fraud_time_mono_ns() / 1000 >= next_log) {
                        loop->progress(loop->stage);
                        next_log += loop->progress_every_us;
                }
        }
        return 0;
}

/* ---- rejects, delivery, shutdown ---- */

void fraud_stage_dead_letter(Fraud__DeadLetter *d, const char *stage,
                             const struct fraud_kafka_message *m, const char *tx_id,
                             const char *code, const char *reason) {
        *d = (Fraud__DeadLetter)FRAUD__DEAD_LETTER__INIT;
        d->schema_version = DEAD_LETTER_SCHEMA_VERSION;
        d->transaction_id = (char *)(tx_id ? tx_id : "");
        d->stage = (char *)stage;
        d->reason_code = (char *)code;
        d->reason = (char *)reason;
        d->original.data = (uint8_t *)m->value;
        d->original.len = m->value ? m->value_size : 0;
        d->source_topic = (char *)m->topic;
        d->source_partition = m->partition;
        d->source_offset = m->offset;
        d->rejected_time_us = fraud_time_now_us();
}

int fraud_stage_deliveries_wait(struct fraud_kafka_producer *p,
                                const struct fraud_kafka_consumer *c, int flush_ms,
                                uint64_t *failed_seen, char *error, size_t error_size) {
        struct fraud_kafka_counters kc;
        int r = fraud_kafka_producer_flush(p, flush_ms);

        if (r < 0) {
                snprintf(error, error_size, "deliveries not confirmed within %d ms", flush_ms);
                return r;
        }
        fraud_kafka_consumer_counters(c, &kc);
        if (kc.delivery_failed > *failed_seen) {
                *failed_seen = kc.delivery_failed;
                snprintf(error, error_size, "delivery failed: %s", fraud_kafka_producer_error(p));
                return -EIO;
        }
        return 0;
}

int fraud_stage_leave(struct fraud_kafka_consumer *c, struct fraud_store *store, int r, char *error,
                      size_t error_size) {
        int q = fraud_kafka_consumer_close(c);

        if (r >= 0 && q < 0) {
                snprintf(error, error_size, "close: %s", fraud_kafka_consumer_error(c));
                r = q;
        }
        q = store ? fraud_store_flush(store) : 0;
        if (r >= 0 && q < 0) {
                snprintf(error, error_size, "store flush: %s", fraud_store_error(store));
                r = q;
        }
        if (r < 0)
                fraud_log_err("%s", error);
        return r;
}
