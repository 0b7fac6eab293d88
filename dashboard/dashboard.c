/* dashboard.c: see dashboard.h.
 *
 * Ownership: struct dashboard owns the view, the page's server, the
 * consumer and the producer, the state buffer and its metrics; it borrows
 * the settings.  A consumed message is borrowed until the next poll; its
 * input is done as soon as the view took it (nothing is produced from a
 * record), so offsets advance at once.  A verdict's Chargeback is produced
 * without an input: its delivery is awaited where it is sent.
 */
#include "dashboard/dashboard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/connect.h"
#include "common/featureset.h"
#include "common/stage.h"
#include "dashboard/jsonout.h"
#include "dashboard/view.h"
#include "dashboard/web.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/time.h"

#define DASHBOARD_TOPICS         4
#define DASHBOARD_CHARGEBACK_MAX 2048 /* bytes of one packed verdict */
#define DASHBOARD_NS_PER_MS      INT64_C(1000000)

struct dashboard_metrics {
        struct fraud_metrics *registry;
        uint64_t *records[VIEW_INPUTS], *rejected[VIEW_INPUTS];
        uint64_t *duplicates, *shadow, *rows_streamed, *rows_skipped;
        uint64_t *queue_added, *queue_dropped, *queue_closed, *queue_closed_elsewhere;
        uint64_t *verdicts[2], *verdicts_failed;
        uint64_t *page_requests, *page_errors, *page_streams_opened, *page_streams_ended;
        double *queue_size, *page_streams, *partitions;
};

struct dashboard {
        const struct fraud_settings *s; /* borrowed */
        struct fraud_featureset features;
        struct view *view;
        struct web *web;
        struct fraud_connect conn_producer, conn_consumer;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
        const char *topics[DASHBOARD_TOPICS]; /* by enum view_input */
        int assigned[DASHBOARD_TOPICS];       /* partitions assigned, per topic */
        int64_t next_rows_ns, next_state_ns;
        char *state; /* DASHBOARD_STATE_BYTES_MAX */
        uint64_t verdicts[2], verdicts_failed;
        struct dashboard_metrics m;
        char error[DASHBOARD_ERR_MAX];
};

static int dashboard_fail(struct dashboard *d, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int dashboard_fail(struct dashboard *d, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->error, sizeof(d->error), fmt, ap);
        va_end(ap);
        return r;
}

static int dashboard_topic(const struct dashboard *d, const char *topic) {
        for (int i = 0; i < DASHBOARD_TOPICS; i++)
                if (strcmp(d->topics[i], topic) == 0)
                        return i;
        return -1;
}

/* ---- verdicts (called by the page's server, in the loop's thread) ---- */

static unsigned dashboard_answer(char *answer, size_t size, unsigned code, const char *id,
                                 const char *status, const char *verdict, const char *detail) {
        struct jsonout j;

        jsonout_init(&j, answer, size);
        jsonout_object_begin(&j);
        jsonout_kv_string(&j, "transaction_id", id);
        jsonout_kv_string(&j, "status", status);
        if (verdict)
                jsonout_kv_string(&j, "verdict", verdict);
        if (detail)
                jsonout_kv_string(&j, "detail", detail);
        jsonout_object_end(&j);
        if (!jsonout_ok(&j))
                snprintf(answer, size, "{\"status\":\"%s\"}", status);
        return code;
}

/* Produces cb and waits for its delivery report.  0 or -errno. */
static int dashboard_publish(struct dashboard *d, const struct view_chargeback *cb) {
        uint8_t buf[DASHBOARD_CHARGEBACK_MAX];
        const char *key = cb->card_hash[0] ? cb->card_hash : cb->transaction_id;
        struct fraud_kafka_counters before, after;
        struct fraud_kafka_record rec = {
                .topic = d->s->topics.chargebacks,
                .partition = -1,
                .key = key,
                .key_size = strlen(key),
                .value = buf,
        };
        int r;

        if (fraud__chargeback__get_packed_size(&cb->msg) > sizeof(buf))
                return -EMSGSIZE;
        rec.value_size = fraud__chargeback__pack(&cb->msg, buf);
        fraud_kafka_producer_counters(d->producer, &before);
        r = fraud_kafka_producer_send(d->producer, &rec, NULL);
        if (r >= 0)
                r = fraud_kafka_producer_flush(d->producer, DASHBOARD_VERDICT_FLUSH_MS);
        fraud_kafka_producer_counters(d->producer, &after);
        if (r >= 0 && after.delivery_failed > before.delivery_failed)
                r = after.last_error < 0 ? after.last_error : -EIO;
        return r;
}

static unsigned dashboard_on_review(void *ctx, const char *id, const char *word, char *answer,
                                    size_t size) {
        struct dashboard *d = ctx;
        enum queue_verdict verdict = queue_verdict_parse(word), previous;
        struct view_chargeback cb;
        int r;

        if (verdict == QUEUE_VERDICT_NONE)
                return dashboard_answer(answer, size, 400, id, "bad_verdict", NULL,
                                        "the verdict is fraud or legit");
        r = view_review(d->view, id, verdict, fraud_time_now_us(), &cb, &previous);
        if (r == VIEW_REVIEW_SAME)
                return dashboard_answer(answer, size, 200, id, "already_closed",
                                        queue_verdict_name(previous), NULL);
        if (r == VIEW_REVIEW_CONFLICT)
                return dashboard_answer(answer, size, 409, id, "closed_with_other_verdict",
                                        queue_verdict_name(previous), NULL);
        if (r != VIEW_REVIEW_PUBLISH)
                return dashboard_answer(answer, size, 404, id, "not_in_queue", NULL, NULL);
        r = dashboard_publish(d, &cb);
        if (r < 0) {
                d->verdicts_failed++;
                fraud_log_warning("verdict on %s not published: %s (%s)", id, strerror(-r),
                                  fraud_kafka_producer_error(d->producer));
                return dashboard_answer(answer, size, 503, id, "not_published",
                                        queue_verdict_name(verdict), strerror(-r));
        }
        view_review_commit(d->view, id, verdict);
        d->verdicts[verdict == QUEUE_VERDICT_FRAUD ? 0 : 1]++;
        fraud_log_info("review of %s closed: %s (%s)", id, queue_verdict_name(verdict),
                       cb.chargeback_id);
        return dashboard_answer(answer, size, 200, id, "published", queue_verdict_name(verdict),
                                cb.chargeback_id);
}

/* ---- setup ---- */

static int dashboard_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct dashboard *d = opaque;
        int t = dashboard_topic(d, topic);
        int64_t rewind = d->s->dashboard.rewind_records;

        (void)partition;
        if (t >= 0)
                d->assigned[t]++;
        *offset = rewind > 0 ? RD_KAFKA_OFFSET_TAIL(rewind) : FRAUD_KAFKA_OFFSET_END;
        return 0;
}

static void dashboard_revoke(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        struct dashboard *d = opaque;
        int t = dashboard_topic(d, topic);

        (void)partition;
        (void)offset;
        if (t >= 0 && d->assigned[t] > 0)
                d->assigned[t]--;
}

static int dashboard_open_kafka(struct dashboard *d, char *err, size_t err_size) {
        const struct fraud_settings *s = d->s;
        struct fraud_kafka_consumer_spec spec = {
                .topics = d->topics,
                .topics_count = DASHBOARD_TOPICS,
                .reset = FRAUD_KAFKA_RESET_EARLIEST,
                .assign = dashboard_assign,
                .revoke = dashboard_revoke,
                .opaque = d,
        };
        int r;

        r = fraud_connect_init(&d->conn_producer, s, NULL, false, err, err_size);
        if (r >= 0)
                r = fraud_kafka_producer_new(&d->conn_producer.options, &d->producer, err,
                                             err_size);
        if (r >= 0)
                r = fraud_connect_init(&d->conn_consumer, s, s->dashboard.group_id, true, err,
                                       err_size);
        spec.producer = d->producer;
        if (r >= 0)
                r = fraud_kafka_consumer_new(&d->conn_consumer.options, &spec, &d->consumer, err,
                                             err_size);
        return r;
}

/* The served feature schema, for the drift table's names. */
static int dashboard_features(struct dashboard *d, char *err, size_t err_size) {
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        size_t n;
        int r = fraud_featureset_spans_parse(d->s->velocity.window_spans_sec, spans,
                                             FRAUD_FEATURESET_SPANS_MAX, &n, err, err_size);

        if (r >= 0 && fraud_featureset_build(spans, n, &d->features) < 0) {
                snprintf(err, err_size, "velocity.window_spans_sec: not a feature schema");
                r = -EINVAL;
        }
        return r;
}

static int dashboard_open_view(struct dashboard *d, char *err, size_t err_size) {
        const struct fraud_settings_dashboard *c = &d->s->dashboard;
        const struct view_config vc = {
                .review_queue_max = (size_t)c->review_queue_max,
                .history_minutes = (size_t)c->history_minutes,
                .psi_reference_records = (size_t)c->psi_reference_records,
                .psi_window_records = (size_t)c->psi_window_records,
                .psi_bins = (size_t)c->psi_bins,
                .stream_per_sec_max = (size_t)c->stream_per_sec_max,
                .features = &d->features,
        };
        int r = dashboard_features(d, err, err_size);

        if (r >= 0 && (r = view_new(&vc, &d->view)) < 0)
                snprintf(err, err_size, "the dashboard's view: %s", strerror(-r));
        if (r >= 0 && !(d->state = malloc(DASHBOARD_STATE_BYTES_MAX))) {
                snprintf(err, err_size, "out of memory");
                r = -ENOMEM;
        }
        return r;
}

#define DASHBOARD_COUNTER(field, name, labels, help)                                               \
        (m->field = fraud_metrics_counter(m->registry, name, labels, help))
#define DASHBOARD_GAUGE(field, name, help)                                                         \
        (m->field = fraud_metrics_gauge(m->registry, name, "", help))

static int dashboard_metrics_init(struct dashboard *d) {
        static const char *const inputs[VIEW_INPUTS] = {
                "{topic=\"scores\"}", "{topic=\"features\"}", "{topic=\"labels\"}",
                "{topic=\"chargebacks\"}"};
        struct dashboard_metrics *m = &d->m;
        bool ok = fraud_metrics_new(&m->registry) >= 0;

        for (int i = 0; ok && i < VIEW_INPUTS; i++)
                ok = DASHBOARD_COUNTER(records[i], "dashboard_records_total", inputs[i],
                                       "Records read, by topic.") &&
                     DASHBOARD_COUNTER(rejected[i], "dashboard_rejected_total", inputs[i],
                                       "Records that did not decode or were invalid, by topic.");
        ok = ok &&
             DASHBOARD_COUNTER(duplicates, "dashboard_scores_duplicate_total", "",
                               "Re-sent Scores, dropped.") &&
             DASHBOARD_COUNTER(shadow, "dashboard_scores_shadow_total", "",
                               "Challenger Scores, not shown.") &&
             DASHBOARD_COUNTER(rows_streamed, "dashboard_rows_streamed_total", "",
                               "Decision rows sent to the page.") &&
             DASHBOARD_COUNTER(rows_skipped, "dashboard_rows_skipped_total", "",
                               "Decision rows over dashboard.stream_per_sec_max, not sent.") &&
             DASHBOARD_COUNTER(queue_added, "dashboard_review_items_total", "",
                               "Review items opened.") &&
             DASHBOARD_COUNTER(queue_dropped, "dashboard_review_dropped_total", "",
                               "Oldest review items dropped from a full queue.") &&
             DASHBOARD_COUNTER(queue_closed, "dashboard_review_closed_total", "",
                               "Review items closed on this page.") &&
             DASHBOARD_COUNTER(queue_closed_elsewhere, "dashboard_review_closed_elsewhere_total",
                               "", "Review items closed by a verdict read from chargebacks.") &&
             DASHBOARD_COUNTER(verdicts[0], "dashboard_verdicts_total", "{verdict=\"fraud\"}",
                               "Verdicts published.") &&
             DASHBOARD_COUNTER(verdicts[1], "dashboard_verdicts_total", "{verdict=\"legit\"}",
                               "") &&
             DASHBOARD_COUNTER(verdicts_failed, "dashboard_verdicts_failed_total", "",
                               "Verdicts whose Chargeback was not delivered.") &&
             DASHBOARD_COUNTER(page_requests, "dashboard_page_requests_total", "",
                               "Requests the page's server answered.") &&
             DASHBOARD_COUNTER(page_errors, "dashboard_page_errors_total", "",
                               "Requests answered with a 4xx or 5xx status.") &&
             DASHBOARD_COUNTER(page_streams_opened, "dashboard_page_streams_total", "",
                               "Event streams opened.") &&
             DASHBOARD_COUNTER(page_streams_ended, "dashboard_page_streams_behind_total", "",
                               "Event streams ended for falling behind.") &&
             DASHBOARD_GAUGE(queue_size, "dashboard_review_queue_size", "Open review items.") &&
             DASHBOARD_GAUGE(page_streams, "dashboard_page_streams", "Event streams open.") &&
             DASHBOARD_GAUGE(partitions, "dashboard_partitions_assigned",
                             "Partitions assigned, all topics.");
        return ok ? 0 : -ENOMEM;
}

int dashboard_new(const struct fraud_settings *s, struct dashboard **out, char *err,
                  size_t err_size) {
        struct dashboard *d = calloc(1, sizeof(*d));
        const struct web_hooks hooks = {.review = dashboard_on_review, .ctx = d};
        int r;

        *out = NULL;
        if (!d) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        d->s = s;
        d->topics[VIEW_SCORE] = s->topics.scores;
        d->topics[VIEW_FEATURES] = s->topics.features;
        d->topics[VIEW_LABEL] = s->topics.labels;
        d->topics[VIEW_CHARGEBACK] = s->topics.chargebacks;
        r = dashboard_metrics_init(d) < 0 ? -ENOMEM : 0;
        if (r < 0)
                snprintf(err, err_size, "out of memory");
        if (r >= 0)
                r = dashboard_open_view(d, err, err_size);
        if (r >= 0)
                r = web_new(s->dashboard.page_listen, &hooks, &d->web, err, err_size);
        if (r >= 0)
                r = dashboard_open_kafka(d, err, err_size);
        if (r < 0) {
                dashboard_free(d);
                return r;
        }
        *out = d;
        return 0;
}

void dashboard_free(struct dashboard *d) {
        if (!d)
                return;
        fraud_kafka_consumer_free(d->consumer);
        fraud_kafka_producer_free(d->producer);
        web_free(d->web);
        view_free(d->view);
        fraud_metrics_free(d->m.registry);
        free(d->state);
        free(d);
}

/* ---- one step ---- */

/* Sends the new rows, and the state, when their time has come. */
static void dashboard_send(struct dashboard *d, int64_t mono_ns, int64_t now_us) {
        const char *rows;
        struct jsonout j;
        size_t len;
        int r;

        if (mono_ns >= d->next_rows_ns) {
                d->next_rows_ns = mono_ns + DASHBOARD_ROWS_EVERY_MS * DASHBOARD_NS_PER_MS;
                if ((len = view_rows_take(d->view, &rows)) > 0 &&
                    (r = web_send(d->web, "decisions", rows, len)) < 0)
                        fraud_log_warning("decision rows not sent: %s", strerror(-r));
        }
        if (mono_ns < d->next_state_ns)
                return;
        d->next_state_ns = mono_ns + DASHBOARD_STATE_EVERY_MS * DASHBOARD_NS_PER_MS;
        jsonout_init(&j, d->state, DASHBOARD_STATE_BYTES_MAX);
        view_state(d->view, now_us, &j);
        if (!jsonout_ok(&j)) {
                fraud_log_warning("the state does not fit %u bytes: not sent",
                                  DASHBOARD_STATE_BYTES_MAX);
                return;
        }
        if ((r = web_state(d->web, d->state, jsonout_len(&j))) < 0)
                fraud_log_warning("state not sent: %s", strerror(-r));
}

int dashboard_step(struct dashboard *d, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(d->consumer, &msgs, 0);
        int64_t now_us = fraud_time_now_us();
        int wait;

        if (n < 0)
                return dashboard_fail(d, n, "consume: %s", fraud_kafka_consumer_error(d->consumer));
        for (int i = 0; i < n; i++) {
                int t = dashboard_topic(d, msgs[i].topic);
                if (t >= 0)
                        view_input(d->view, (enum view_input)t, msgs[i].value, msgs[i].value_size,
                                   now_us);
                fraud_kafka_input_done(msgs[i].input);
        }
        if (n > 0 && fraud_kafka_consumer_offsets_store(d->consumer) < 0)
                fraud_log_debug("offsets store: %s", fraud_kafka_consumer_error(d->consumer));
        fraud_kafka_producer_poll(d->producer, 0);
        dashboard_send(d, fraud_time_mono_ns(), now_us);
        wait = timeout_ms < DASHBOARD_IDLE_WAIT_MS ? timeout_ms : DASHBOARD_IDLE_WAIT_MS;
        if (n > 0) /* more may be waiting: serve the page without waiting */
                wait = 0;
        if (web_run(d->web, wait) < 0)
                return dashboard_fail(d, -EIO, "the page's server failed");
        return n;
}

/* ---- run, close ---- */

static void dashboard_log_progress(const void *stage) {
        const struct dashboard *d = stage;
        struct view_counters k;
        struct web_counters w;

        view_counters(d->view, &k);
        web_counters(d->web, &w);
        fraud_log_info(
                "scores=%llu features=%llu labels=%llu chargebacks=%llu rejected=%llu "
                "review_queue=%zu verdicts=%llu page_requests=%llu streams=%llu",
                (unsigned long long)k.inputs[VIEW_SCORE],
                (unsigned long long)k.inputs[VIEW_FEATURES],
                (unsigned long long)k.inputs[VIEW_LABEL],
                (unsigned long long)k.inputs[VIEW_CHARGEBACK],
                (unsigned long long)(k.rejected[0] + k.rejected[1] + k.rejected[2] + k.rejected[3]),
                queue_count(view_queue(d->view)),
                (unsigned long long)(d->verdicts[0] + d->verdicts[1]),
                (unsigned long long)w.requests, (unsigned long long)w.streams_now);
}

static int dashboard_loop_step(void *stage, int timeout_ms) {
        return dashboard_step(stage, timeout_ms);
}

int dashboard_run(struct dashboard *d, const volatile sig_atomic_t *stop) {
        const struct fraud_stage_loop loop = {
                .stage = d,
                .step = dashboard_loop_step,
                .progress = dashboard_log_progress,
                .progress_every_us = DASHBOARD_LOG_EVERY_US,
                .consumer = d->consumer,
                .partitions = "a partition the dashboard reads",
        };

        return fraud_stage_loop(&loop, stop);
}

int dashboard_close(struct dashboard *d) {
        int r = fraud_kafka_consumer_offsets_store(d->consumer);

        dashboard_log_progress(d); /* the counts at the stop */
        if (r < 0)
                dashboard_fail(d, r, "offsets store: %s", fraud_kafka_consumer_error(d->consumer));
        r = fraud_stage_leave(d->consumer, NULL, r < 0 ? r : 0, d->error, sizeof(d->error));
        dashboard_free(d);
        return r;
}

const char *dashboard_error(const struct dashboard *d) {
        return d->error;
}

bool dashboard_ready(const struct dashboard *d, char *why, size_t why_size) {
        for (int i = 0; i < DASHBOARD_TOPICS; i++) {
                if (d->assigned[i] == 0) {
                        snprintf(why, why_size, "waiting for a partition of %s", d->topics[i]);
                        return false;
                }
        }
        return true;
}

const struct fraud_metrics *dashboard_metrics(struct dashboard *d) {
        struct dashboard_metrics *m = &d->m;
        struct view_counters k;
        struct queue_counters q;
        struct web_counters w;

        view_counters(d->view, &k);
        queue_counters(view_queue(d->view), &q);
        web_counters(d->web, &w);
        for (int i = 0; i < VIEW_INPUTS; i++) {
                *m->records[i] = k.inputs[i];
                *m->rejected[i] = k.rejected[i];
        }
        *m->duplicates = k.duplicates;
        *m->shadow = k.shadow;
        *m->rows_streamed = k.rows_streamed;
        *m->rows_skipped = k.rows_skipped;
        *m->queue_added = q.added;
        *m->queue_dropped = q.dropped;
        *m->queue_closed = q.closed;
        *m->queue_closed_elsewhere = q.closed_by_seen;
        *m->verdicts[0] = d->verdicts[0];
        *m->verdicts[1] = d->verdicts[1];
        *m->verdicts_failed = d->verdicts_failed;
        *m->page_requests = w.requests;
        *m->page_errors = w.errors;
        *m->page_streams_opened = w.streams_opened;
        *m->page_streams_ended = w.streams_ended;
        *m->queue_size = (double)queue_count(view_queue(d->view));
        *m->page_streams = (double)w.streams_now;
        *m->partitions = d->assigned[0] + d->assigned[1] + d->assigned[2] + d->assigned[3];
        return m->registry;
}

uint16_t dashboard_page_port(const struct dashboard *d) {
        return web_port(d->web);
}
