/* stage.c: see stage.h.
 *
 * The operations of a daemon (endpoint, notifications, its own metrics)
 * live in one struct fraud_stage_ops that fraud_stage_main() makes before
 * open() and frees after close(); fraud_stage_loop() finds it through the
 * process-wide fraud_stage_ops, NULL when no daemon runs the loop.  Its
 * registry is updated by the loop's thread only, like a stage's.
 */
#include "common/stage.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "common/cli.h"
#include "common/schema.h"
#include "lib/bounds.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/time.h"

#ifndef FRAUD_VERSION
#define FRAUD_VERSION "unknown"
#endif

/* The reason open() gives: the longest any stage writes (a path and why). */
_Static_assert(FRAUD_TRAINER_ERR_MAX >= FRAUD_CONFIG_ERR_MAX &&
                       FRAUD_TRAINER_ERR_MAX >= FRAUD_SCORER_ERR_MAX,
               "a stage's error text fits");

static volatile sig_atomic_t fraud_stage_stop;

/* The daemon's own metrics (stage.h lists them). */
struct fraud_stage_ops_metrics {
        double *ready;
        uint64_t *steps, *records;
        struct fraud_histogram *step_seconds;
        uint64_t *kafka_consumed, *kafka_failed, *kafka_resets, *kafka_errors;
        uint64_t *http_connections, *http_errors, *http_responses[FRAUD_HTTP_STATUSES];
        uint64_t *notify_errors;
        double *lag[FRAUD_METRICS_MAX]; /* fraud_kafka_consumer_lag_records, each partition's */
        size_t lags;
};

struct fraud_stage_ops {
        const struct fraud_stage *decl;
        void *stage;                                 /* NULL until open() returned */
        const struct fraud_kafka_consumer *consumer; /* the running loop's, or NULL */
        struct fraud_http *http;                     /* NULL: no endpoint */
        struct fraud_notify notify;
        struct fraud_metrics *metrics;
        struct fraud_stage_ops_metrics m;
        bool ready;
        char why[FRAUD_STAGE_WHY_MAX];
        uint64_t steps, records;
};

static struct fraud_stage_ops *fraud_stage_ops;

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

/* ---- operations: metrics ---- */

static int fraud_stage_ops_metrics_init(struct fraud_stage_ops *o, const char *daemon) {
        struct fraud_stage_ops_metrics *m = &o->m;
        char labels[FRAUD_METRICS_LABELS_MAX];
        double *build, *start;
        struct timespec ts;

        if (fraud_metrics_new(&o->metrics) < 0)
                return -ENOMEM;
        snprintf(labels, sizeof(labels), "{version=\"%s\",daemon=\"%s\"}", FRAUD_VERSION, daemon);
        build = fraud_metrics_gauge(o->metrics, "fraud_build_info", labels,
                                    "Always 1: the version and daemon as labels.");
        start = fraud_metrics_gauge(o->metrics, "process_start_time_seconds", "",
                                    "Start time of the process since the epoch, in seconds.");
        m->ready = fraud_metrics_gauge(o->metrics, "fraud_stage_ready", "",
                                       "1 while the stage is ready (/readyz), else 0.");
        m->steps = fraud_metrics_counter(o->metrics, "fraud_stage_steps_total", "",
                                         "Steps of the stage's loop.");
        m->records = fraud_metrics_counter(o->metrics, "fraud_stage_records_total", "",
                                           "Input records the loop's steps took.");
        m->notify_errors = fraud_metrics_counter(
                o->metrics, "fraud_notify_errors_total", "",
                "Notifications to the service manager that its socket refused.");
        m->step_seconds = fraud_metrics_histogram(
                o->metrics, "fraud_stage_step_duration_seconds", "",
                "Duration of one step: the wait for input (at most 0.1 s) and its processing.",
                fraud_metrics_latency_buckets, fraud_metrics_latency_buckets_count);
        if (!build || !start || !m->ready || !m->steps || !m->records || !m->step_seconds ||
            !m->notify_errors)
                return -ENOMEM;
        *build = 1;
        clock_gettime(CLOCK_REALTIME, &ts);
        *start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        return 0;
}

/* The endpoint's counters, registered once the endpoint exists. */
static int fraud_stage_ops_http_metrics_init(struct fraud_stage_ops *o) {
        struct fraud_stage_ops_metrics *m = &o->m;
        char labels[32];

        m->http_connections = fraud_metrics_counter(o->metrics, "fraud_http_connections_total", "",
                                                    "Connections to the HTTP endpoint.");
        m->http_errors = fraud_metrics_counter(
                o->metrics, "fraud_http_errors_total", "",
                "Connections closed without an answer (too large, malformed, timed out).");
        for (int i = 0; i < FRAUD_HTTP_STATUSES; i++) {
                snprintf(labels, sizeof(labels), "{code=\"%d\"}", fraud_http_status_code(i));
                m->http_responses[i] =
                        fraud_metrics_counter(o->metrics, "fraud_http_responses_total", labels,
                                              "Answers of the HTTP endpoint, by status code.");
                if (!m->http_responses[i])
                        return -ENOMEM;
        }
        return m->http_connections && m->http_errors ? 0 : -ENOMEM;
}

/* The loop's consumer's counters, registered when a loop has one. */
static void fraud_stage_ops_kafka_update(struct fraud_stage_ops *o) {
        struct fraud_stage_ops_metrics *m = &o->m;
        struct fraud_kafka_counters kc;

        if (!o->consumer)
                return;
        if (!m->kafka_consumed) {
                m->kafka_consumed = fraud_metrics_counter(o->metrics, "fraud_kafka_consumed_total",
                                                          "", "Messages the consumer returned.");
                m->kafka_failed =
                        fraud_metrics_counter(o->metrics, "fraud_kafka_delivery_failed_total", "",
                                              "Inputs whose outputs failed to be delivered.");
                m->kafka_resets = fraud_metrics_counter(
                        o->metrics, "fraud_kafka_offset_resets_total", "",
                        "Partitions found without a valid offset (data lost?).");
                m->kafka_errors = fraud_metrics_counter(o->metrics, "fraud_kafka_errors_total", "",
                                                        "Other asynchronous Kafka errors.");
        }
        if (!m->kafka_consumed || !m->kafka_failed || !m->kafka_resets || !m->kafka_errors)
                return;
        fraud_kafka_consumer_counters(o->consumer, &kc);
        *m->kafka_consumed = kc.consumed;
        *m->kafka_failed = kc.delivery_failed;
        *m->kafka_resets = kc.offset_resets;
        *m->kafka_errors = kc.errors;
}

/* fraud_kafka_consumer_lag_records{topic,partition}, registered as the
 * loop's consumer's partitions appear (while the registry has room); a
 * partition no longer assigned shows -1, as one whose lag is not known
 * yet. */
static void fraud_stage_ops_lag_one(void *ctx, const char *topic, int32_t partition,
                                    int64_t lag) {
        struct fraud_stage_ops *o = ctx;
        struct fraud_stage_ops_metrics *m = &o->m;
        char labels[FRAUD_METRICS_LABELS_MAX];
        size_t i = 0;
        double *g;
        int n = snprintf(labels, sizeof(labels), "{topic=\"%s\",partition=\"%d\"}", topic,
                         (int)partition);

        if (n < 0 || (size_t)n >= sizeof(labels))
                return;
        g = fraud_metrics_gauge(o->metrics, "fraud_kafka_consumer_lag_records", labels,
                                "Messages after the consumer's position in each assigned "
                                "partition; -1: not known yet, or no longer assigned.");
        if (!g)
                return; /* the registry is full */
        while (i < m->lags && m->lag[i] != g)
                i++;
        if (i == m->lags)
                m->lag[m->lags++] = g; /* fewer gauges than FRAUD_METRICS_MAX */
        *g = (double)lag;
}

static void fraud_stage_ops_lag_update(struct fraud_stage_ops *o) {
        for (size_t i = 0; i < o->m.lags; i++)
                *o->m.lag[i] = -1;
        if (o->consumer)
                fraud_kafka_consumer_lag(o->consumer, fraud_stage_ops_lag_one, o);
}

/* Renders the daemon's metrics, then the stage's, and hands the text to
 * the endpoint. */
static void fraud_stage_ops_render(struct fraud_stage_ops *o) {
        const struct fraud_metrics *stage = NULL;
        struct fraud_http_counters hc;
        char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        fraud_http_counters(o->http, &hc);
        *o->m.http_connections = hc.connections;
        *o->m.http_errors = hc.errors;
        for (int i = 0; i < FRAUD_HTTP_STATUSES; i++)
                *o->m.http_responses[i] = hc.responses[i];
        *o->m.ready = o->ready ? 1 : 0;
        *o->m.steps = o->steps;
        *o->m.records = o->records;
        *o->m.notify_errors = o->notify.errors;
        fraud_stage_ops_kafka_update(o);
        fraud_stage_ops_lag_update(o);
        if (o->stage && o->decl->metrics)
                stage = o->decl->metrics(o->stage);
        f = open_memstream(&text, &len);
        if (!f)
                return;
        r = fraud_metrics_write(o->metrics, f);
        if (r >= 0 && stage)
                r = fraud_metrics_write(stage, f);
        if (fclose(f) == 0 && r >= 0)
                fraud_http_metrics_publish(o->http, text, len);
        free(text);
}
/* ---- operations: readiness, notifications, the endpoint ---- */

/* STATUS= for systemctl status: readiness and progress. */
static void fraud_stage_ops_status(struct fraud_stage_ops *o, bool force) {
        char status[FRAUD_STAGE_WHY_MAX + 16]; /* notify cuts it to FRAUD_NOTIFY_STATUS_MAX */

        if (!o->notify.enabled)
                return;
        if (o->ready)
                snprintf(status, sizeof(status), "ready: %llu records in %llu steps",
                         (unsigned long long)o->records, (unsigned long long)o->steps);
        else
                snprintf(status, sizeof(status), "not ready: %s", o->why);
        fraud_notify_status(&o->notify, fraud_time_mono_ns(), force, status);
}

/* Asks the stage whether it is ready; a change goes to the endpoint, the
 * log and the service manager (READY=1 the first time). */
static void fraud_stage_ops_readiness(struct fraud_stage_ops *o) {
        char why[FRAUD_STAGE_WHY_MAX] = "";
        bool ready = o->decl->ready ? o->decl->ready(o->stage, why, sizeof(why)) : true;

        if (ready == o->ready && strcmp(why, o->why) == 0)
                return;
        o->ready = ready;
        snprintf(o->why, sizeof(o->why), "%s", ready ? "" : why);
        if (o->http)
                fraud_http_ready_set(o->http, ready, o->why);
        if (ready && !o->notify.ready_sent)
                fraud_log_notice("ready");
        else if (ready)
                fraud_log_info("ready again");
        else
                fraud_log_info("not ready: %s", o->why);
        if (ready)
                fraud_notify_ready(&o->notify, "ready");
        fraud_stage_ops_status(o, true);
}

/* After a step that began at start_ns and returned r (>= 0). */
static void fraud_stage_ops_after_step(struct fraud_stage_ops *o, int64_t start_ns, int r) {
        int64_t now = fraud_time_mono_ns();

        o->steps++;
        o->records += (uint64_t)r;
        fraud_histogram_observe(o->m.step_seconds, (double)(now - start_ns) / 1e9);
        fraud_stage_ops_readiness(o);
        if (o->ready && !o->notify.ready_sent) /* refused before: again */
                fraud_notify_ready(&o->notify, "ready");
        fraud_notify_watchdog(&o->notify, now);
        fraud_stage_ops_status(o, false);
        if (o->http && fraud_http_metrics_wanted(o->http, now))
                fraud_stage_ops_render(o);
}

/* The loop ended: not ready any more, STOPPING=1 before the shutdown.
 * failure: why run() failed, or NULL after a signal. */
static void fraud_stage_ops_stopping(struct fraud_stage_ops *o, const char *failure) {
        char status[FRAUD_NOTIFY_STATUS_MAX]; /* a failure's text is cut */

        if (o->http)
                fraud_http_stopping(o->http);
        if (failure)
                snprintf(status, sizeof(status), "stopping after a failure: %s", failure);
        else
                snprintf(status, sizeof(status),
                         "stopping: finishing the step, storing offsets, closing");
        fraud_notify_stopping(&o->notify, status);
}

/* The value of the string key "<section>.http_listen" ("" without a
 * section). */
static const char *fraud_stage_listen(const struct fraud_settings *s, const char *section) {
        char name[2 * FRAUD_CONFIG_NAME_MAX];

        if (!section)
                return "";
        snprintf(name, sizeof(name), "%s.http_listen", section);
        for (size_t i = 0; i < fraud_settings_table.n_keys; i++) {
                const struct fraud_config_key *k = &fraud_settings_table.keys[i];
                if (k->type == FRAUD_CONFIG_TYPE_STRING && strcmp(k->name, name) == 0)
                        return *(char *const *)((const char *)s + k->offset);
        }
        assert(!"a stage's section has an http_listen key");
        return "";
}

static int64_t fraud_stage_stall_ms(const struct fraud_stage *decl,
                                    const struct fraud_settings *s) {
        if (decl->stall_ms)
                return decl->stall_ms(s);
        return FRAUD_STAGE_STALL_MS + s->kafka.delivery_timeout_ms;
}

static void fraud_stage_ops_free(struct fraud_stage_ops *o) {
        if (!o)
                return;
        fraud_notify_release(&o->notify);
        fraud_http_free(o->http);
        fraud_metrics_free(o->metrics);
        free(o);
}

/* Starts the endpoint on address, logs where, publishes a first text. */
static int fraud_stage_ops_http_start(struct fraud_stage_ops *o, const char *address,
                                      int64_t stall_ms, char *err, size_t err_size) {
        char host[FRAUD_HTTP_HOST_MAX + 1] = "";
        uint16_t port = 0;
        int r = fraud_http_new(address, stall_ms, &o->http, err, err_size);

        if (r < 0)
                return r;
        if (fraud_stage_ops_http_metrics_init(o) < 0) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        fraud_http_ready_set(o->http, false, "starting");
        fraud_stage_ops_render(o);
        fraud_http_listen_parse(address, host, &port, NULL, 0);
        fraud_log_notice("http endpoint on %s%s%s:%u (/metrics, /healthz, /readyz)",
                         strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
                         (unsigned)fraud_http_port(o->http));
        return 0;
}

/* The daemon's operations, before open().  0, or -errno with the reason
 * in err (-EADDRINUSE: the port is taken). */
static int fraud_stage_ops_new(const struct fraud_stage *decl, const struct fraud_settings *s,
                               struct fraud_stage_ops **out, char *err, size_t err_size) {
        const char *address = fraud_stage_listen(s, decl->info.section);
        struct fraud_stage_ops *o = calloc(1, sizeof(*o));
        int r;

        *out = NULL;
        if (o)
                fraud_notify_init(&o->notify);
        if (!o || fraud_stage_ops_metrics_init(o, decl->info.name) < 0) {
                fraud_stage_ops_free(o);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        o->decl = decl;
        snprintf(o->why, sizeof(o->why), "starting");
        if (address[0]) {
                r = fraud_stage_ops_http_start(o, address, fraud_stage_stall_ms(decl, s), err,
                                               err_size);
                if (r < 0) {
                        fraud_stage_ops_free(o);
                        return r;
                }
        }
        *out = o;
        return 0;
}

/* ---- main() ---- */

/* Runs the open stage object, then closes or frees it; main()'s status. */
static int fraud_stage_run(const struct fraud_stage *decl, void *stage, struct fraud_stage_ops *o) {
        int fail = decl->fail_status ? decl->fail_status : EX_SOFTWARE;

        if (decl->run(stage, &fraud_stage_stop) < 0) {
                const char *why = decl->error ? decl->error(stage) : "the loop failed";
                fraud_stage_ops_stopping(o, why);
                if (decl->error)
                        fraud_log_err("stopping: %s", why);
                decl->free(stage);
                return fail;
        }
        fraud_stage_ops_stopping(o, NULL);
        return decl->close(stage) < 0 ? fail : 0;
}

int fraud_stage_main(const struct fraud_stage *decl, int argc, char **argv) {
        struct fraud_settings settings;
        struct fraud_stage_ops *ops = NULL;
        char err[FRAUD_TRAINER_ERR_MAX] = "";
        void *stage = NULL;
        int status = fraud_stage_start(&decl->info, &argc, argv, &settings);
        int r;

        if (status != FRAUD_CLI_RUN)
                return status;
        if (decl->prepare)
                decl->prepare(&settings);
        fraud_stage_signals();
        r = fraud_stage_ops_new(decl, &settings, &ops, err, sizeof(err));
        if (r >= 0)
                r = decl->open(&settings, &stage, err, sizeof(err));
        if (r < 0) {
                fraud_log_err("%s", err);
                fraud_stage_ops_free(ops);
                fraud_settings_release(&settings);
                return r == -EINVAL ? EX_CONFIG : EX_UNAVAILABLE;
        }
        ops->stage = stage;
        fraud_stage_ops = ops;
        if (decl->announce)
                decl->announce(&settings, stage);
        else
                fraud_log_notice("running: %s", decl->info.place);
        fraud_stage_ops_readiness(ops);
        status = fraud_stage_run(decl, stage, ops);
        fraud_stage_ops = NULL;
        fraud_stage_ops_free(ops);
        fraud_settings_release(&settings);
        return status;
}

/* ---- the run loop ---- */

int fraud_stage_loop(const struct fraud_stage_loop *loop, const volatile sig_atomic_t *stop) {
        struct fraud_stage_ops *o = fraud_stage_ops;
        int64_t next_log = fraud_time_mono_ns() / 1000 + loop->progress_every_us;
        uint64_t resets = 0;
        int r = 0;

        if (o)
                o->consumer = loop->consumer;
        while (!*stop) {
                struct fraud_kafka_counters kc;
                int64_t start = fraud_time_mono_ns();

                if (o && o->http)
                        fraud_http_step(o->http, start);
                r = loop->step(loop->stage, FRAUD_STAGE_STEP_MS);
                if (r < 0)
                        break;
                if (o)
                        fraud_stage_ops_after_step(o, start, r);
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
        if (o)
                o->consumer = NULL; /* the stage frees it at close */
        return r < 0 ? r : 0;
}

/* ---- RocksDB's size as gauges ---- */

int fraud_stage_store_gauges_init(struct fraud_stage_store_gauges *g, struct fraud_metrics *m) {
        g->sst = fraud_metrics_gauge(m, "fraud_store_sst_bytes", "",
                                     "Bytes of the state store's table files (RocksDB).");
        g->live = fraud_metrics_gauge(m, "fraud_store_live_data_bytes", "",
                                      "RocksDB's estimate of the state store's live data, bytes.");
        g->memtable = fraud_metrics_gauge(m, "fraud_store_memtable_bytes", "",
                                          "Bytes in the state store's memtables (RocksDB).");
        return g->sst && g->live && g->memtable ? 0 : -ENOMEM;
}

void fraud_stage_store_gauges_update(struct fraud_stage_store_gauges *g,
                                     struct fraud_store *store) {
        struct fraud_store_size size;

        if (!store || fraud_store_size(store, &size) < 0)
                return;
        *g->sst = (double)size.sst_bytes;
        *g->live = (double)size.live_data_bytes;
        *g->memtable = (double)size.memtable_bytes;
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
