/* replay.c: `fraudctl replay` -- a payments history through the
 * Kafka-connected daemons, with the day barrier that makes their scores
 * equal to `fraudctl backtest`'s.
 *
 * What is published: every line of the transactions file as raw JSON on
 * topics.raw, keyed by transaction id (a JSON line as it is; a CSV line as
 * an object of its header's names and its non-empty cells; a line that
 * does not split as CSV as its bytes, which ingest rejects), and every
 * chargeback as a fraud.Chargeback on topics.chargebacks, keyed by
 * transaction id.  Order: tools/offline.h's DAY order, the backtest's.
 *
 * The day barrier, before the first payment of each event-time day:
 *   1. every payment published so far has its Score (read from
 *      topics.scores);
 *   2. the day's chargebacks are published;
 *   3. the stages are quiet: the groups of velocity (on chargebacks), the
 *      labeler (on its three inputs) and the trainer (on labels) have
 *      committed offsets at the end of those partitions.  The labeler
 *      commits only once no due label waits, the trainer only after the
 *      days its labels made due are trained and announced, so by then
 *      every model the backtest would have trained here is in the
 *      registry and on topics.models; the scorer reads that topic to its
 *      end before the day's first payment.
 * A barrier that does not complete within --barrier-seconds is reported
 * and passed (the run goes on; parity is then not expected).  A model
 * announced while a day runs (its training became due inside the day,
 * which the barrier cannot place) is reported too.
 *
 * Flow control: at most --in-flight payments published and not yet
 * scored, so that unconsumed data stays far below the embedded broker's
 * retention (5 MiB per partition).  --speed S paces the payments at S
 * seconds of event time per second (default: as fast as the pipeline
 * goes).
 *
 * Outputs, as the backtest's: scores.csv (one row per payment, in the
 * order the Scores arrived), report.json and report.html (tools/report.h),
 * with a summary of what was published, scored, rejected to dlq and
 * scored twice.
 */
#include "tools/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/connect.h"
#include "lib/atomicfile.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/time.h"
#include "proto/dead_letter.pb-c.h"
#include "proto/model.pb-c.h"
#include "proto/score.pb-c.h"
#include "tools/offline.h"
#include "tools/report.h"
#include "tools/report_html.h"

#define REPLAY_ERR_MAX        (2 * PATH_MAX)
#define REPLAY_JSON_MAX       (2 * FRAUD_INGEST_RECORD_BYTES_MAX + 64)
#define REPLAY_IN_FLIGHT      5000 /* default --in-flight */
#define REPLAY_BARRIER_S      600  /* default --barrier-seconds */
#define REPLAY_POLL_MS        20
#define REPLAY_QUIET_CHECK_MS 100 /* between two looks at the groups' offsets */
#define REPLAY_QUERY_MS       5000
#define REPLAY_HEADER_COLS    FRAUD_INGEST_FIELDS_MAX
#define REPLAY_WATCHED        8 /* (group, topic) pairs of the barrier */

struct replay_args {
        const char *transactions, *chargebacks, *out, *mapping, *key, *speed, *in_flight,
                *barrier, *title;
};

/* A payment published: its id hash, and whether its Score came. */
struct slot {
        uint64_t id; /* 0: free */
        uint8_t scored;
};

struct replay {
        const struct replay_args *a;
        const struct fraud_settings *s;
        struct fraud_connect prod_conn, cons_conn;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer; /* scores, dlq, models */
        int64_t start[3][FRAUD_KAFKA_PARTITIONS_MAX]; /* where the consumer starts */
        struct slot *slots;
        size_t cap;
        uint64_t published, expected, scored, twice, foreign, dlq, dlq_raw, chargebacks;
        uint64_t announced_in_day, barriers_late;
        bool in_day; /* between a barrier and the next */
        const char *header_names[REPLAY_HEADER_COLS];
        size_t n_header;
        char *header_copy;
        char *json;
        uint8_t *pack;
        double speed;
        int64_t first_event_us, t0_ns;
        long in_flight_max, barrier_s;
        struct report *report;
        FILE *csv;
        char *err;
        size_t err_size;
};

static int fail(struct replay *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct replay *r, int rc, const char *fmt, ...) {
        va_list ap;

        if (r->err[0])
                return rc;
        va_start(ap, fmt);
        vsnprintf(r->err, r->err_size, fmt, ap);
        va_end(ap);
        return rc;
}

/* ---- the payments published ---- */

static struct slot *slot_find(struct replay *r, uint64_t id) {
        size_t mask = r->cap - 1, i;

        for (i = id & mask; r->slots[i].id && r->slots[i].id != id; i = (i + 1) & mask)
                ;
        return &r->slots[i];
}

static int slots_grow(struct replay *r) {
        struct slot *old = r->slots;
        size_t cap = r->cap;

        r->cap = cap ? 2 * cap : 1 << 16;
        r->slots = calloc(r->cap, sizeof(*r->slots));
        if (!r->slots)
                return -ENOMEM;
        for (size_t i = 0; i < cap; i++)
                if (old[i].id)
                        *slot_find(r, old[i].id) = old[i];
        free(old);
        return 0;
}

/* ---- what comes back ---- */

static int score_take(struct replay *r, const struct fraud_kafka_message *m) {
        Fraud__Score *sc = fraud__score__unpack(NULL, m->value_size, m->value);
        struct slot *slot;
        int rc = 0;

        if (!sc || sc->shadow) {
                fraud__score__free_unpacked(sc, NULL);
                return 0;
        }
        slot = slot_find(r, fraud_hash_fnv1a_str(sc->transaction_id));
        if (!slot->id) {
                r->foreign++;
        } else if (slot->scored) {
                r->twice++;
        } else {
                const struct report_score rs = {
                        .transaction_id = sc->transaction_id,
                        .event_time_us = sc->event_time_us,
                        .card_hash = sc->card_hash,
                        .currency = sc->currency,
                        .amount_minor = sc->amount_minor,
                        .probability = sc->probability,
                        .decision = (int)sc->decision,
                        .stage = (int)sc->stage,
                        .degraded = sc->degraded,
                        .model_version = sc->gbdt_version,
                        .latency_us = (sc->rules_latency_ns + sc->gbdt_latency_ns +
                                       sc->neural_latency_ns) /
                                      1000.0,
                };
                slot->scored = 1;
                r->scored++;
                rc = report_csv_row(r->csv, &rs);
                rc = rc < 0 ? rc : report_score_add(r->report, &rs);
        }
        fraud__score__free_unpacked(sc, NULL);
        return rc;
}

static void dlq_take(struct replay *r, const struct fraud_kafka_message *m) {
        Fraud__DeadLetter *d = fraud__dead_letter__unpack(NULL, m->value_size, m->value);

        r->dlq++;
        if (d && strcmp(d->source_topic, r->s->topics.raw) == 0)
                r->dlq_raw++;
        fraud__dead_letter__free_unpacked(d, NULL);
}

static void model_take(struct replay *r, const struct fraud_kafka_message *m) {
        Fraud__ModelAnnouncement *a =
                fraud__model_announcement__unpack(NULL, m->value_size, m->value);

        if (a && r->in_day) {
                r->announced_in_day++;
                fprintf(stderr,
                        "fraudctl replay: model %s announced inside a day (its training "
                        "became due there): the scores around it may differ from a backtest's\n",
                        a->model_version);
        }
        fraud__model_announcement__free_unpacked(a, NULL);
}

/* One poll of everything that comes back.  0 or -errno. */
static int replay_poll(struct replay *r, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(r->consumer, &msgs, timeout_ms);
        int rc = 0;

        if (n < 0)
                return fail(r, n, "consume: %s", fraud_kafka_consumer_error(r->consumer));
        for (int i = 0; i < n; i++) {
                if (strcmp(msgs[i].topic, r->s->topics.scores) == 0 && rc == 0)
                        rc = score_take(r, &msgs[i]);
                else if (strcmp(msgs[i].topic, r->s->topics.dlq) == 0)
                        dlq_take(r, &msgs[i]);
                else
                        model_take(r, &msgs[i]);
                fraud_kafka_input_done(msgs[i].input);
        }
        fraud_kafka_producer_poll(r->producer, 0);
        return rc < 0 ? fail(r, rc, "out of memory") : 0;
}

/* ---- the barrier ---- */

static int64_t now_ms(void) {
        return fraud_time_mono_ns() / 1000000;
}

/* Waits until every payment published has its Score.  0, or -ETIMEDOUT
 * after seconds, or -errno. */
static int scores_wait(struct replay *r, long seconds) {
        int64_t deadline = now_ms() + seconds * 1000;
        int rc = 0;

        fraud_kafka_producer_flush(r->producer, REPLAY_QUERY_MS);
        while (rc == 0 && r->scored < r->expected && now_ms() < deadline)
                rc = replay_poll(r, REPLAY_POLL_MS);
        return rc < 0 ? rc : r->scored < r->expected ? -ETIMEDOUT : 0;
}

/* Whether every partition of (group, topic) has its committed offset at
 * the end: 1 yes, 0 no, -errno. */
static int group_quiet(struct replay *r, const char *group, const char *topic) {
        char why[512];

        for (int32_t p = 0; p < (int32_t)r->s->topics.partitions; p++) {
                int64_t committed, end;
                int rc = fraud_kafka_group_position(&r->cons_conn.options, group, topic, p,
                                                    REPLAY_QUERY_MS, &committed, &end, why,
                                                    sizeof(why));
                if (rc < 0)
                        return fail(r, rc, "%s", why);
                if (end > 0 && committed < end)
                        return 0;
        }
        return 1;
}

/* Waits until velocity, the labeler and the trainer have taken everything
 * (see the file's comment).  0, -ETIMEDOUT, -errno. */
static int stages_wait(struct replay *r, long seconds) {
        const struct fraud_settings *s = r->s;
        const char *watch[][2] = {
                {s->velocity.group_id, s->topics.chargebacks},
                {s->labeler.group_id, s->topics.chargebacks},
                {s->labeler.group_id, s->topics.features},
                {s->labeler.group_id, s->topics.scores},
                {s->trainer.group_id, s->topics.labels},
        };
        int64_t deadline = now_ms() + seconds * 1000;
        size_t n = sizeof(watch) / sizeof(watch[0]), i = 0;
        int rc = 0;

        while (i < n && now_ms() < deadline) {
                rc = group_quiet(r, watch[i][0], watch[i][1]);
                if (rc < 0)
                        return rc;
                if (rc == 1) {
                        i++;
                        continue;
                }
                i = 0; /* a later stage may add to an earlier one's input: look again */
                rc = replay_poll(r, REPLAY_QUIET_CHECK_MS);
                if (rc < 0)
                        return rc;
        }
        return i < n ? -ETIMEDOUT : 0;
}

static int chargebacks_publish(struct replay *r, const struct offline_chargeback *cbs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                Fraud__Chargeback m;
                struct fraud_kafka_record rec = {.partition = -1, .topic = r->s->topics.chargebacks};
                int rc;

                offline_chargeback_proto(&cbs[i], &m);
                rec.key = cbs[i].tx_id;
                rec.key_size = strlen(cbs[i].tx_id);
                rec.value = r->pack;
                rec.value_size = fraud__chargeback__pack(&m, r->pack);
                while ((rc = fraud_kafka_producer_send(r->producer, &rec, NULL)) == -ENOBUFS)
                        fraud_kafka_producer_poll(r->producer, REPLAY_POLL_MS);
                /* ids are bounded: a chargeback always fits r->pack */
                if (rc < 0)
                        return fail(r, rc, "publish chargeback: %s",
                                    fraud_kafka_producer_error(r->producer));
                r->chargebacks++;
        }
        return fraud_kafka_producer_flush(r->producer, REPLAY_QUERY_MS);
}

static int on_day(void *opaque, int64_t day_start_us, const struct offline_chargeback *cbs,
                  size_t n) {
        struct replay *r = opaque;
        char day[FRAUD_TIME_ISO8601_MAX];
        int64_t t0 = now_ms();
        int rc;

        r->in_day = false;
        rc = scores_wait(r, r->barrier_s);
        if (rc == 0)
                rc = chargebacks_publish(r, cbs, n);
        if (rc == 0)
                rc = stages_wait(r, r->barrier_s - (now_ms() - t0) / 1000);
        fraud_time_format_iso8601(day_start_us, day);
        day[10] = '\0';
        if (rc == -ETIMEDOUT) {
                r->barriers_late++;
                fprintf(stderr, "fraudctl replay: %s: barrier not complete after %ld s (%" PRIu64
                                " of %" PRIu64 " scored); going on\n",
                        day, r->barrier_s, r->scored, r->expected);
                rc = 0;
        } else if (rc == 0) {
                fprintf(stderr, "fraudctl replay: %s: %zu chargebacks; barrier %.1f s; %" PRIu64
                                " scored\n",
                        day, n, (double)(now_ms() - t0) / 1000.0, r->scored);
        }
        r->in_day = true;
        return rc;
}

/* ---- the payments ---- */

/* The line as the raw JSON ingest consumes, into r->json; its length. */
static size_t json_of(struct replay *r, const struct offline_row *row) {
        size_t n = 0, cap = REPLAY_JSON_MAX;

        if (row->json || !row->cells || row->cells->count != r->n_header) {
                memcpy(r->json, row->raw, row->raw_len);
                return row->raw_len;
        }
        r->json[n++] = '{';
        for (size_t c = 0; c < row->cells->count; c++) {
                const char *v = row->cells->cell[c];

                if (!row->cells->len[c] || n + 2 * row->cells->len[c] + 64 > cap)
                        continue;
                n += (size_t)snprintf(r->json + n, cap - n, "%s\"%s\":\"", n > 1 ? "," : "",
                                      r->header_names[c]);
                for (size_t i = 0; i < row->cells->len[c]; i++) {
                        if (v[i] == '"' || v[i] == '\\')
                                r->json[n++] = '\\';
                        r->json[n++] = v[i];
                }
                r->json[n++] = '"';
        }
        r->json[n++] = '}';
        return n;
}

static void pace(struct replay *r, int64_t event_us) {
        int64_t due_ns;

        if (r->speed <= 0)
                return;
        if (r->first_event_us == INT64_MIN)
                r->first_event_us = event_us;
        due_ns = r->t0_ns + (int64_t)((double)(event_us - r->first_event_us) * 1000.0 / r->speed);
        while (fraud_time_mono_ns() < due_ns)
                replay_poll(r, 1);
}

static int header_split(struct replay *r, const char *header) {
        char *p;

        if (!header || r->header_copy)
                return 0;
        if (!(r->header_copy = strdup(header)))
                return -ENOMEM;
        for (p = r->header_copy; p && r->n_header < REPLAY_HEADER_COLS;) {
                char *end = strchr(p, ',');

                r->header_names[r->n_header++] = p;
                if (end)
                        *end++ = '\0';
                p = end;
        }
        return 0;
}

static int on_row(void *opaque, const struct offline_row *row) {
        struct replay *r = opaque;
        struct fraud_kafka_record rec = {.partition = -1, .topic = r->s->topics.raw};
        int rc = header_split(r, row->header);

        if (rc < 0 || row->raw_len == 0) /* a line too long is not published */
                return rc;
        if (row->tx)
                pace(r, row->tx->event_time_us);
        while (rc == 0 && (int64_t)(r->expected - r->scored) >= r->in_flight_max)
                rc = replay_poll(r, REPLAY_POLL_MS);
        if (rc == 0 && row->tx) {
                struct slot *slot;

                if (2 * (r->expected + 1) > r->cap && (rc = slots_grow(r)) < 0)
                        return rc;
                slot = slot_find(r, fraud_hash_fnv1a_str(row->tx->transaction_id));
                slot->id = fraud_hash_fnv1a_str(row->tx->transaction_id);
                r->expected++;
                rec.key = row->tx->transaction_id;
                rec.key_size = strlen(row->tx->transaction_id);
        }
        rec.value = r->json;
        rec.value_size = json_of(r, row);
        while (rc == 0) { /* a full producer queue waits for deliveries */
                rc = fraud_kafka_producer_send(r->producer, &rec, NULL);
                if (rc != -ENOBUFS)
                        break;
                rc = replay_poll(r, REPLAY_POLL_MS);
        }
        if (rc < 0)
                return fail(r, rc, "publish: %s", fraud_kafka_producer_error(r->producer));
        r->published++;
        return 0;
}

/* ---- setup ---- */

static int start_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        struct replay *r = opaque;
        int t = strcmp(topic, r->s->topics.scores) == 0 ? 0
                : strcmp(topic, r->s->topics.dlq) == 0  ? 1
                                                        : 2;

        *offset = partition >= 0 && partition < FRAUD_KAFKA_PARTITIONS_MAX
                          ? r->start[t][partition]
                          : FRAUD_KAFKA_OFFSET_END;
        return 0;
}

/* Where the consumer starts: the end of scores and dlq now (what earlier
 * runs left there is not ours), the beginning of models (announcements
 * are only watched). */
static int starts_read(struct replay *r) {
        const char *topics[2] = {r->s->topics.scores, r->s->topics.dlq};
        char why[512];

        for (int t = 0; t < 2; t++)
                for (int32_t p = 0; p < (int32_t)r->s->topics.partitions; p++) {
                        int64_t committed;
                        int rc = fraud_kafka_group_position(&r->cons_conn.options,
                                                            r->cons_conn.options.group_id,
                                                            topics[t], p, REPLAY_QUERY_MS,
                                                            &committed, &r->start[t][p], why,
                                                            sizeof(why));
                        if (rc < 0)
                                return fail(r, rc, "%s", why);
                }
        for (int p = 0; p < FRAUD_KAFKA_PARTITIONS_MAX; p++)
                r->start[2][p] = FRAUD_KAFKA_OFFSET_END;
        return 0;
}

static int kafka_open(struct replay *r) {
        const char *topics[3] = {r->s->topics.scores, r->s->topics.dlq, r->s->topics.models};
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics, .topics_count = 3, .assign = start_assign, .opaque = r};
        char group[64];
        int rc;

        snprintf(group, sizeof(group), "fraudctl-replay.%ld", (long)getpid());
        rc = fraud_connect_init(&r->prod_conn, r->s, NULL, false, r->err, r->err_size);
        if (rc == 0)
                rc = fraud_connect_init(&r->cons_conn, r->s, group, true, r->err, r->err_size);
        if (rc == 0)
                rc = fraud_kafka_producer_new(&r->prod_conn.options, &r->producer, r->err,
                                              r->err_size);
        if (rc == 0)
                rc = starts_read(r);
        if (rc == 0)
                rc = fraud_kafka_consumer_new(&r->cons_conn.options, &spec, &r->consumer, r->err,
                                              r->err_size);
        return rc;
}

static void replay_release(struct replay *r) {
        if (r->consumer)
                fraud_kafka_consumer_close(r->consumer);
        fraud_kafka_consumer_free(r->consumer);
        if (r->producer)
                fraud_kafka_producer_flush(r->producer, REPLAY_QUERY_MS);
        fraud_kafka_producer_free(r->producer);
        free(r->slots);
        free(r->header_copy);
        free(r->json);
        free(r->pack);
        report_free(r->report);
}

/* ---- the command ---- */

static const char options_help[] =
        "\n"
        "Input (as fraudctl backtest):\n"
        "  --transactions FILE  payments: CSV with a header, or JSON lines\n"
        "  --chargebacks FILE   chargebacks (CSV)\n"
        "  --mapping FILE       column mapping (default ingest.mapping_file)\n"
        "  --card-hash-key HEX  32 hex digits (default ingest.card_hash_key), to read\n"
        "                       event times as ingest does\n"
        "\n"
        "Run:\n"
        "  --out DIR            scores.csv, report.json, report.html (default replay-out)\n"
        "  --speed S            S seconds of event time per second (default: as fast as\n"
        "                       the pipeline goes)\n"
        "  --in-flight N        payments published and not yet scored, at most (default\n"
        "                       5000): keeps unconsumed data under the broker's retention\n"
        "  --barrier-seconds N  longest wait at a day barrier (default 600)\n"
        "  --title TEXT         the report's title\n"
        "\n"
        "The daemons (fraud-ingest, -velocity, -scorer, -labeler, -trainer) must be\n"
        "running against the same Kafka (kafka.bootstrap_servers or the embedded\n"
        "broker's bootstrap file) with the same topics and group ids as --config says.\n"
        "Exit status: 0 every payment scored; 1 some not scored or scored twice;\n"
        "64 usage; 65 bad input; 69 Kafka unavailable; 73 output not writable; 78 bad\n"
        "configuration.\n";

static int number_get(const char *flag, const char *s, double max, double *out, char *err,
                      size_t n) {
        char *end;

        errno = 0;
        *out = strtod(s, &end);
        if (errno || end == s || *end || !(*out > 0) || *out > max) {
                snprintf(err, n, "%s: expected a number in (0, %g], got '%s'", flag, max, s);
                return -EINVAL;
        }
        return 0;
}

static int args_check(struct replay *r, const struct replay_args *a) {
        double v = 0;

        r->speed = 0;
        r->in_flight_max = REPLAY_IN_FLIGHT;
        r->barrier_s = REPLAY_BARRIER_S;
        if (a->speed && number_get("--speed", a->speed, 1e9, &r->speed, r->err, r->err_size) < 0)
                return -EINVAL;
        if (a->in_flight &&
            number_get("--in-flight", a->in_flight, 1e6, &v, r->err, r->err_size) < 0)
                return -EINVAL;
        r->in_flight_max = a->in_flight ? (long)v : r->in_flight_max;
        if (a->barrier &&
            number_get("--barrier-seconds", a->barrier, 86400, &v, r->err, r->err_size) < 0)
                return -EINVAL;
        r->barrier_s = a->barrier ? (long)v : r->barrier_s;
        return 0;
}

static int outputs_write(struct replay *r, const struct offline_counts *k, double sec) {
        const struct report_run run = {
                .title = r->a->title ? r->a->title : "Replay",
                .transactions = r->a->transactions, .chargebacks = r->a->chargebacks,
                .retrain = "daily (fraud-trainer)", .lines = k->tx_lines,
                .rejected = k->tx_rejected, .duplicates = k->tx_duplicates, .elapsed_sec = sec};

        return report_files_write(r->report, &run, r->a->chargebacks, r->a->out, r->err,
                                  r->err_size);
}

static int replay_files(struct replay *r, const struct normalize_key *key, const struct mapping *m,
                        struct offline_counts *k) {
        const struct offline_options o = {
                .transactions = r->a->transactions, .chargebacks = r->a->chargebacks,
                .mapping = m, .key = key, .settings = r->s, .until_us = OFFLINE_TIME_ALL,
                .label_cutoff_us = OFFLINE_TIME_ALL, .diag = stderr, .cb_order = OFFLINE_CB_DAY,
                .on_day = on_day, .no_features = true, .all_lines = true};
        int rc = offline_run(&o, on_row, r, k, r->err, r->err_size);

        r->in_day = false;
        if (rc == 0 && (rc = scores_wait(r, r->barrier_s)) == -ETIMEDOUT) {
                fprintf(stderr, "fraudctl replay: %" PRIu64 " payments without a Score after %ld s\n",
                        r->expected - r->scored, r->barrier_s);
                rc = 0;
        }
        for (int i = 0; rc == 0 && i < 10; i++) /* late dlq records and duplicates */
                rc = replay_poll(r, 100);
        return rc;
}

static int replay_run(struct replay *r, const struct replay_args *a) {
        char path[PATH_MAX];
        struct normalize_key key;
        struct offline_counts k;
        struct fraud_atomicfile csv;
        struct mapping *m = malloc(sizeof(*m));
        int rc;

        r->json = malloc(REPLAY_JSON_MAX);
        r->pack = malloc(REPLAY_JSON_MAX);
        if (!m || !r->json || !r->pack || report_new(r->s, 60, &r->report) < 0) {
                free(m);
                return fail(r, -ENOMEM, "out of memory"), EX_OSERR;
        }
        rc = args_check(r, a);
        if (rc == 0 && offline_key_get(a->key, r->s, &key, r->err, r->err_size) < 0)
                rc = -EINVAL;
        if (rc == 0 && offline_mapping_get(a->mapping, r->s, m, r->err, r->err_size) < 0)
                rc = -EINVAL;
        if (rc < 0) {
                free(m);
                return a->key || a->speed || a->in_flight || a->barrier ? EX_USAGE : EX_CONFIG;
        }
        if ((mkdir(a->out, 0777) < 0 && errno != EEXIST) ||
            snprintf(path, sizeof(path), "%s/scores.csv", a->out) >= (int)sizeof(path) ||
            fraud_atomicfile_open(&csv, path) < 0) {
                free(m);
                return fail(r, -EIO, "%s: cannot write there", a->out), EX_CANTCREAT;
        }
        r->csv = csv.f;
        report_csv_header(r->csv);
        if ((rc = kafka_open(r)) < 0) {
                fraud_atomicfile_abort(&csv);
                free(m);
                return EX_UNAVAILABLE;
        }
        r->first_event_us = INT64_MIN;
        r->t0_ns = fraud_time_mono_ns();
        rc = replay_files(r, &key, m, &k);
        free(m);
        offline_counts_print(&k, stderr);
        if (rc < 0 || (rc = fraud_atomicfile_commit(&csv)) < 0) {
                fraud_atomicfile_abort(&csv);
                return rc == -ENOMEM ? EX_OSERR : EX_DATAERR;
        }
        if (outputs_write(r, &k, (double)(fraud_time_mono_ns() - r->t0_ns) / 1e9) < 0)
                return EX_CANTCREAT;
        printf("fraudctl replay: %" PRIu64 " records published (%" PRIu64 " payments, %" PRIu64
               " chargebacks); %" PRIu64 " scored, %" PRIu64 " not scored, %" PRIu64
               " scored twice, %" PRIu64 " dlq records (%" PRIu64 " from %s); %" PRIu64
               " late barriers, %" PRIu64 " models announced inside a day\n",
               r->published, r->expected, r->chargebacks, r->scored, r->expected - r->scored,
               r->twice, r->dlq, r->dlq_raw, r->s->topics.raw, r->barriers_late,
               r->announced_in_day);
        return r->scored == r->expected && r->twice == 0 ? 0 : 1;
}

static int replay_args_parse(struct replay_args *a, int argc, char **argv, char *err, size_t n) {
        const struct offline_option opts[] = {
                {"transactions", &a->transactions, true},
                {"chargebacks", &a->chargebacks, false},
                {"out", &a->out, false},
                {"mapping", &a->mapping, false},
                {"card-hash-key", &a->key, false},
                {"speed", &a->speed, false},
                {"in-flight", &a->in_flight, false},
                {"barrier-seconds", &a->barrier, false},
                {"title", &a->title, false},
        };
        int rc = offline_options_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, err, n);

        if (rc == 0 && !a->out)
                a->out = "replay-out";
        return rc;
}

int replay_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Publishes a payments history to the Kafka-connected daemons in "
                           "event-time order, with\nflow control and a barrier at each day, "
                           "collects the Scores and writes the backtest's report.",
                .options_help = options_help,
                .args_extra = true,
        };
        char err[REPLAY_ERR_MAX] = "";
        struct fraud_settings settings;
        struct replay_args a = {0};
        struct replay r = {.err = err, .err_size = sizeof(err)};
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        r.a = &a;
        r.s = &settings;
        if (replay_args_parse(&a, argc, argv, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], err, argv[0]);
                status = EX_USAGE;
        } else {
                status = replay_run(&r, &a);
                if (status > 1)
                        fprintf(stderr, "fraudctl replay: %s\n", err[0] ? err : "failed");
        }
        replay_release(&r);
        fraud_settings_release(&settings);
        return status;
}
