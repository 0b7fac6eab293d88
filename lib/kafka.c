/* kafka.c: producer and consumer over librdkafka, with offsets stored only
 * after delivery (see kafka.h for the contract).
 *
 * Layout: error mapping; options and the librdkafka configuration built
 * from them; the tracker (pure); the client base shared by producer and
 * consumer (callbacks, counters, last error); the producer; the consumer.
 *
 * The tracker.  A fixed pool of input slots with a free list, and a table of
 * partitions, each holding a FIFO (linked through the slots) of its inputs
 * in consumption order.  Invariants:
 *   - a slot is in exactly one of: the free list, one partition FIFO, or
 *     no list at all (an orphan of a forgotten partition);
 *   - a partition's ready offset only grows (until its offsets go back) and
 *     equals the offset after its last popped input; an input is popped
 *     only from the head, only when done, with no output pending and no
 *     failed output.  A failed input is never popped: it pins the
 *     partition until the partition is forgotten;
 *   - an orphan is freed when done with no output pending;
 *   - deliveries only change counts, so order of reports does not matter.
 * Every operation is O(1) except advancing, which pops each input once.
 *
 * Threads: librdkafka runs its own, but every callback of this file (delivery
 * reports, rebalances, errors, logs when a log callback is set) is served from
 * the poll functions, in the caller's single thread, so nothing here locks.
 */
#include "lib/kafka.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_NONE UINT32_MAX

/* ======================================================================
 * Error mapping
 * ====================================================================== */

static const struct {
        rd_kafka_resp_err_t err;
        int errnum;
} errno_table[] = {
        {RD_KAFKA_RESP_ERR__TIMED_OUT, ETIMEDOUT},
        {RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, ETIMEDOUT},
        {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, ETIMEDOUT},
        {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, ETIMEDOUT},
        {RD_KAFKA_RESP_ERR__QUEUE_FULL, ENOBUFS},
        {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, EMSGSIZE},
        {RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, EMSGSIZE},
        {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, ENOENT},
        {RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, ENOENT},
        {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, ENOENT},
        {RD_KAFKA_RESP_ERR__NOENT, ENOENT},
        {RD_KAFKA_RESP_ERR__INVALID_ARG, EINVAL},
        {RD_KAFKA_RESP_ERR__INVALID_TYPE, EINVAL},
        {RD_KAFKA_RESP_ERR_INVALID_CONFIG, EINVAL},
        {RD_KAFKA_RESP_ERR_INVALID_REQUEST, EINVAL},
        {RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, ERANGE},
        {RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, ERANGE},
        {RD_KAFKA_RESP_ERR__NO_OFFSET, ENODATA},
        {RD_KAFKA_RESP_ERR__PARTITION_EOF, ENODATA},
        {RD_KAFKA_RESP_ERR__TRANSPORT, ECONNRESET},
        {RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, ECONNRESET},
        {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, ENOTCONN},
        {RD_KAFKA_RESP_ERR__RESOLVE, EHOSTUNREACH},
        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, EACCES},
        {RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, EACCES},
        {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, EACCES},
        {RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, EACCES},
        {RD_KAFKA_RESP_ERR__AUTHENTICATION, EACCES},
        {RD_KAFKA_RESP_ERR__SSL, EPROTO},
        {RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, EAGAIN},
        {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, EAGAIN},
        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, EAGAIN},
        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, EAGAIN},
        {RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, EAGAIN},
        {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, EAGAIN},
        {RD_KAFKA_RESP_ERR__BAD_MSG, EBADMSG},
        {RD_KAFKA_RESP_ERR_INVALID_MSG, EBADMSG},
        {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, EPROTO},
        {RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER, EPROTO},
        {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, EPROTO},
        {RD_KAFKA_RESP_ERR__FENCED, EPROTO},
        {RD_KAFKA_RESP_ERR__FATAL, ENOTRECOVERABLE},
        {RD_KAFKA_RESP_ERR__PURGE_QUEUE, ECANCELED},
        {RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, ECANCELED},
        {RD_KAFKA_RESP_ERR__DESTROY, ESHUTDOWN},
        {RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, ENOTSUP},
        {RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, ENOTSUP},
};

int fraud_kafka_errno(rd_kafka_resp_err_t err) {
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        for (size_t i = 0; i < sizeof errno_table / sizeof errno_table[0]; i++)
                if (errno_table[i].err == err)
                        return -errno_table[i].errnum;
        return -EIO;
}

static void err_set(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t err_size, const char *fmt, ...) {
        va_list ap;

        if (!err || err_size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
}

/* ======================================================================
 * Options
 * ====================================================================== */

/* Keys this file sets; a pass-through property may not name them (nor
 * their aliases), so delivery semantics are never changed by accident. */
static const char *const reserved_keys[] = {
        "bootstrap.servers",
        "metadata.broker.list",
        "client.id",
        "group.id",
        "enable.idempotence",
        "acks",
        "request.required.acks",
        "max.in.flight.requests.per.connection",
        "max.in.flight",
        "compression.codec",
        "compression.type",
        "partitioner",
        "linger.ms",
        "queue.buffering.max.ms",
        "batch.num.messages",
        "queue.buffering.max.messages",
        "message.timeout.ms",
        "delivery.timeout.ms",
        "delivery.report.only.error",
        "allow.auto.create.topics",
        "enable.auto.offset.store",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "auto.offset.reset",
        "partition.assignment.strategy",
        "fetch.wait.max.ms",
        "fetch.min.bytes",
        "enable.partition.eof",
        "isolation.level",
        "log.queue",
        "transactional.id",
};

static const char *const compressions[] = {"lz4", "zstd", "gzip", "snappy", "none"};

static bool key_reserved(const char *key) {
        for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
                if (strcmp(key, reserved_keys[i]) == 0)
                        return true;
        return false;
}

static bool compression_known(const char *name) {
        for (size_t i = 0; i < sizeof compressions / sizeof compressions[0]; i++)
                if (strcmp(name, compressions[i]) == 0)
                        return true;
        return false;
}

void fraud_kafka_options_init(struct fraud_kafka_options *o) {
        assert(o);
        *o = (struct fraud_kafka_options){
                .client_id = "fraud",
                .compression = "lz4",
                .linger_ms = 2,
                .fetch_wait_max_ms = 2,
                .delivery_timeout_ms = 30000,
                .produce_batch_max = 10000,
                .produce_queue_max = 100000,
                .consume_batch_max = 500,
                .inflight_max = 16384,
                .auto_commit_interval_ms = 1000,
        };
}

int fraud_kafka_options_property_add(struct fraud_kafka_options *o, const char *key,
                                     const char *value) {
        assert(o);
        if (!key || !value || key_reserved(key))
                return -EINVAL;
        if (o->props_count >= FRAUD_KAFKA_PROPS_MAX)
                return -ENOBUFS;
        o->props[o->props_count++] = (struct fraud_kafka_property){key, value};
        return 0;
}

static bool in_range(int v, int lo, int hi) {
        return v >= lo && v <= hi;
}

static int options_check_ranges(const struct fraud_kafka_options *o, char *err, size_t err_size) {
        const struct {
                const char *name;
                int value;
                int max;
        } ranges[] = {
                {"linger_ms", o->linger_ms, FRAUD_KAFKA_LINGER_MS_MAX},
                {"fetch_wait_max_ms", o->fetch_wait_max_ms, FRAUD_KAFKA_FETCH_WAIT_MS_MAX},
                {"delivery_timeout_ms", o->delivery_timeout_ms,
                 FRAUD_KAFKA_DELIVERY_TIMEOUT_MS_MAX},
                {"produce_batch_max", o->produce_batch_max, FRAUD_KAFKA_PRODUCE_BATCH_MAX},
                {"produce_queue_max", o->produce_queue_max, FRAUD_KAFKA_PRODUCE_QUEUE_MAX},
                {"consume_batch_max", o->consume_batch_max, FRAUD_KAFKA_CONSUME_BATCH_MAX},
                {"inflight_max", o->inflight_max, FRAUD_KAFKA_INFLIGHT_MAX},
                {"auto_commit_interval_ms", o->auto_commit_interval_ms,
                 FRAUD_KAFKA_COMMIT_INTERVAL_MS_MAX},
        };

        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
                if (!in_range(ranges[i].value, 1, ranges[i].max)) {
                        err_set(err, err_size, "%s: %d not in 1..%d", ranges[i].name,
                                ranges[i].value, ranges[i].max);
                        return -EINVAL;
                }
        }
        return 0;
}

int fraud_kafka_options_check(const struct fraud_kafka_options *o, bool consumer, char *err,
                              size_t err_size) {
        assert(o);
        if (!o->bootstrap_servers || !o->bootstrap_servers[0]) {
                err_set(err, err_size, "bootstrap_servers: missing");
                return -EINVAL;
        }
        if (consumer && (!o->group_id || !o->group_id[0])) {
                err_set(err, err_size, "group_id: missing");
                return -EINVAL;
        }
        if (!o->client_id || !o->client_id[0]) {
                err_set(err, err_size, "client_id: missing");
                return -EINVAL;
        }
        if (!o->compression || !compression_known(o->compression)) {
                err_set(err, err_size,
                        "compression: %s: not lz4, zstd, gzip, snappy "
                        "or none",
                        o->compression ? o->compression : "(null)");
                return -EINVAL;
        }
        if (o->props_count > FRAUD_KAFKA_PROPS_MAX) {
                err_set(err, err_size, "properties: more than %d", FRAUD_KAFKA_PROPS_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < o->props_count; i++) {
                const struct fraud_kafka_property *p = &o->props[i];
                if (!p->key || !p->value || key_reserved(p->key)) {
                        err_set(err, err_size, "property %s: reserved or incomplete",
                                p->key ? p->key : "(null)");
                        return -EINVAL;
                }
        }
        return options_check_ranges(o, err, err_size);
}

/* ---- librdkafka configuration ---- */

struct setting {
        const char *key;
        const char *value;
};

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t err_size) {
        char why[FRAUD_KAFKA_ERRSTR_MAX];

        if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
                /* The value is left out: it may be a secret. */
                err_set(err, err_size, "%s: %s", key, why);
                return -EINVAL;
        }
        return 0;
}

static int conf_set_all(rd_kafka_conf_t *conf, const struct setting *s, size_t n, char *err,
                        size_t err_size) {
        for (size_t i = 0; i < n; i++) {
                int r = conf_set(conf, s[i].key, s[i].value, err, err_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int conf_set_int(rd_kafka_conf_t *conf, const char *key, int value, char *err,
                        size_t err_size) {
        char buf[16];

        snprintf(buf, sizeof buf, "%d", value);
        return conf_set(conf, key, buf, err, err_size);
}

/* Pass-through properties first, then everything this file owns. */
static int conf_common(rd_kafka_conf_t *conf, const struct fraud_kafka_options *o, char *err,
                       size_t err_size) {
        const struct setting s[] = {
                {"socket.nagle.disable", "true"}, /* latency; may be overridden */
        };
        int r = conf_set_all(conf, s, sizeof s / sizeof s[0], err, err_size);

        for (size_t i = 0; r >= 0 && i < o->props_count; i++)
                r = conf_set(conf, o->props[i].key, o->props[i].value, err, err_size);
        if (r >= 0)
                r = conf_set(conf, "bootstrap.servers", o->bootstrap_servers, err, err_size);
        if (r >= 0)
                r = conf_set(conf, "client.id", o->client_id, err, err_size);
        if (r >= 0)
                r = conf_set(conf, "allow.auto.create.topics", "false", err, err_size);
        if (r >= 0 && o->log_cb)
                r = conf_set(conf, "log.queue", "true", err, err_size);
        return r;
}

static int conf_producer(rd_kafka_conf_t *conf, const struct fraud_kafka_options *o, char *err,
                         size_t err_size) {
        const struct setting s[] = {
                {"enable.idempotence", "true"},
                {"acks", "all"},
                {"max.in.flight.requests.per.connection", "5"},
                {"compression.codec", o->compression},
                {"partitioner", "murmur2_random"},
                {"delivery.report.only.error", "false"},
        };
        int r = conf_set_all(conf, s, sizeof s / sizeof s[0], err, err_size);

        if (r >= 0)
                r = conf_set_int(conf, "linger.ms", o->linger_ms, err, err_size);
        if (r >= 0)
                r = conf_set_int(conf, "batch.num.messages", o->produce_batch_max, err, err_size);
        if (r >= 0)
                r = conf_set_int(conf, "queue.buffering.max.messages", o->produce_queue_max, err,
                                 err_size);
        if (r >= 0)
                r = conf_set_int(conf, "message.timeout.ms", o->delivery_timeout_ms, err, err_size);
        return r;
}

static int conf_consumer(rd_kafka_conf_t *conf, const struct fraud_kafka_options *o,
                         enum fraud_kafka_reset reset, char *err, size_t err_size) {
        const struct setting s[] = {
                {"group.id", o->group_id},
                {"enable.auto.offset.store", "false"},
                {"enable.auto.commit", "true"},
                {"auto.offset.reset", reset == FRAUD_KAFKA_RESET_EARLIEST ? "earliest" : "error"},
                {"partition.assignment.strategy", "range"},
                {"isolation.level", "read_committed"},
                {"enable.partition.eof", "false"},
                {"fetch.min.bytes", "1"},
        };
        int r = conf_set_all(conf, s, sizeof s / sizeof s[0], err, err_size);

        if (r >= 0)
                r = conf_set_int(conf, "fetch.wait.max.ms", o->fetch_wait_max_ms, err, err_size);
        if (r >= 0)
                r = conf_set_int(conf, "auto.commit.interval.ms", o->auto_commit_interval_ms, err,
                                 err_size);
        return r;
}

/* ======================================================================
 * Tracker
 * ====================================================================== */

struct fraud_kafka_input {
        struct fraud_kafka_tracker *tracker;
        int64_t offset;
        uint32_t pending; /* outputs queued without a delivery report */
        uint32_t next;    /* next slot in the partition FIFO or free list */
        int32_t part;     /* index in tracker->parts; -1: orphan or free */
        bool open;        /* outputs may still be added */
        bool failed;      /* an output's delivery failed */
};

struct tracker_part {
        bool used;
        int32_t partition;
        uint32_t head; /* oldest input not yet complete, or SLOT_NONE */
        uint32_t tail;
        int64_t last_begun; /* offset of the newest input, -1 if none */
        int64_t ready;      /* next offset to consume, -1 if nothing complete */
        int64_t stored;     /* last ready offset handed to storage, -1 if none */
        char topic[FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
};

struct fraud_kafka_tracker {
        struct fraud_kafka_input *slots;
        uint32_t slots_count;
        uint32_t free_head;
        uint32_t free_count;
        uint64_t failed;
        size_t parts_high; /* parts[0..parts_high) were ever used */
        size_t part_hint;  /* last partition looked up */
        /* The producer allowed to carry this tracker's outputs (set by the
         * consumer; NULL for a bare tracker).  Checked by producer_send. */
        const struct fraud_kafka_producer *producer;
        struct tracker_part parts[FRAUD_KAFKA_PARTITIONS_MAX];
};

struct fraud_kafka_tracker *fraud_kafka_tracker_new(size_t inflight_max) {
        struct fraud_kafka_tracker *t;

        if (inflight_max < 1 || inflight_max > FRAUD_KAFKA_INFLIGHT_MAX)
                return NULL;
        t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->slots = calloc(inflight_max, sizeof *t->slots);
        if (!t->slots) {
                free(t);
                return NULL;
        }
        t->slots_count = (uint32_t)inflight_max;
        for (uint32_t i = 0; i < t->slots_count; i++) {
                t->slots[i].tracker = t;
                t->slots[i].part = -1;
                t->slots[i].next = i + 1 < t->slots_count ? i + 1 : SLOT_NONE;
        }
        t->free_head = 0;
        t->free_count = t->slots_count;
        return t;
}

void fraud_kafka_tracker_free(struct fraud_kafka_tracker *t) {
        if (!t)
                return;
        free(t->slots);
        free(t);
}

static uint32_t slot_index(const struct fraud_kafka_input *in) {
        return (uint32_t)(in - in->tracker->slots);
}

static void slot_release(struct fraud_kafka_tracker *t, struct fraud_kafka_input *in) {
        in->part = -1;
        in->open = false;
        in->failed = false;
        in->pending = 0;
        in->next = t->free_head;
        t->free_head = slot_index(in);
        t->free_count++;
}

static bool slot_complete(const struct fraud_kafka_input *in) {
        return !in->open && in->pending == 0 && !in->failed;
}

static int part_find(const struct fraud_kafka_tracker *t, const char *topic, int32_t partition) {
        const struct tracker_part *h = &t->parts[t->part_hint];

        if (h->used && h->partition == partition && strcmp(h->topic, topic) == 0)
                return (int)t->part_hint;
        for (size_t i = 0; i < t->parts_high; i++) {
                const struct tracker_part *p = &t->parts[i];
                if (p->used && p->partition == partition && strcmp(p->topic, topic) == 0)
                        return (int)i;
        }
        return -1;
}

static int part_add(struct fraud_kafka_tracker *t, const char *topic, int32_t partition) {
        size_t i = 0;

        while (i < t->parts_high && t->parts[i].used)
                i++;
        if (i == FRAUD_KAFKA_PARTITIONS_MAX)
                return -ENOBUFS;
        if (i == t->parts_high)
                t->parts_high++;
        t->parts[i] = (struct tracker_part){
                .used = true,
                .partition = partition,
                .head = SLOT_NONE,
                .tail = SLOT_NONE,
                .last_begun = -1,
                .ready = -1,
                .stored = -1,
        };
        memcpy(t->parts[i].topic, topic, strlen(topic) + 1);
        return (int)i;
}

/* Detaches every input of p: complete ones are freed, the others become
 * orphans.  p keeps its identity and offsets. */
static void part_orphan_all(struct fraud_kafka_tracker *t, struct tracker_part *p) {
        uint32_t i = p->head;

        while (i != SLOT_NONE) {
                struct fraud_kafka_input *in = &t->slots[i];
                i = in->next;
                if (!in->open && in->pending == 0) {
                        slot_release(t, in);
                } else {
                        in->part = -1;
                        in->next = SLOT_NONE;
                }
        }
        p->head = p->tail = SLOT_NONE;
}

/* Pops the complete prefix of a partition's FIFO, moving its ready offset. */
static void part_advance(struct fraud_kafka_tracker *t, struct tracker_part *p) {
        while (p->head != SLOT_NONE) {
                struct fraud_kafka_input *in = &t->slots[p->head];
                if (!slot_complete(in))
                        break;
                p->ready = in->offset + 1;
                p->head = in->next;
                if (p->head == SLOT_NONE)
                        p->tail = SLOT_NONE;
                slot_release(t, in);
        }
}

int fraud_kafka_tracker_begin(struct fraud_kafka_tracker *t, const char *topic, int32_t partition,
                              int64_t offset, struct fraud_kafka_input **out) {
        size_t len = topic ? strnlen(topic, FRAUD_KAFKA_TOPIC_NAME_MAX + 1) : 0;
        struct tracker_part *p;
        struct fraud_kafka_input *in;
        int idx, rewound = 0;

        assert(t && out);
        if (len == 0 || len > FRAUD_KAFKA_TOPIC_NAME_MAX || partition < 0 || offset < 0)
                return -EINVAL;
        if (t->free_head == SLOT_NONE)
                return -ENOBUFS;
        idx = part_find(t, topic, partition);
        if (idx < 0)
                idx = part_add(t, topic, partition);
        if (idx < 0)
                return idx;
        t->part_hint = (size_t)idx;
        p = &t->parts[idx];
        if (p->last_begun >= 0 && offset <= p->last_begun) {
                part_orphan_all(t, p);
                p->ready = p->stored = -1;
                rewound = 1;
        }
        in = &t->slots[t->free_head];
        t->free_head = in->next;
        t->free_count--;
        *in = (struct fraud_kafka_input){
                .tracker = t, .offset = offset, .next = SLOT_NONE, .part = idx, .open = true};
        if (p->tail == SLOT_NONE)
                p->head = slot_index(in);
        else
                t->slots[p->tail].next = slot_index(in);
        p->tail = slot_index(in);
        p->last_begun = offset;
        *out = in;
        return rewound;
}

/* Called whenever in may have become complete or releasable. */
static void input_settle(struct fraud_kafka_input *in) {
        struct fraud_kafka_tracker *t = in->tracker;
        struct tracker_part *p;

        if (in->part < 0) {
                if (!in->open && in->pending == 0)
                        slot_release(t, in);
                return;
        }
        p = &t->parts[in->part];
        if (p->head == slot_index(in))
                part_advance(t, p);
}

void fraud_kafka_input_done(struct fraud_kafka_input *in) {
        assert(in && in->open);
        in->open = false;
        input_settle(in);
}

void fraud_kafka_input_output_add(struct fraud_kafka_input *in) {
        assert(in && in->open);
        assert(in->pending < UINT32_MAX);
        in->pending++;
}

void fraud_kafka_input_delivered(struct fraud_kafka_input *in, int err) {
        assert(in && in->pending > 0);
        in->pending--;
        if (err < 0 && !in->failed) {
                in->failed = true;
                in->tracker->failed++;
        }
        input_settle(in);
}

void fraud_kafka_tracker_forget(struct fraud_kafka_tracker *t, const char *topic,
                                int32_t partition) {
        int idx;

        assert(t && topic);
        idx = part_find(t, topic, partition);
        if (idx < 0)
                return;
        part_orphan_all(t, &t->parts[idx]);
        t->parts[idx].used = false;
}

int fraud_kafka_tracker_ready(const struct fraud_kafka_tracker *t, struct fraud_kafka_offset *out,
                              size_t max) {
        size_t n = 0;

        assert(t && (out || max == 0));
        for (size_t i = 0; i < t->parts_high; i++) {
                const struct tracker_part *p = &t->parts[i];
                if (!p->used || p->ready < 0 || p->ready <= p->stored)
                        continue;
                if (n == max)
                        return -ENOBUFS;
                out[n++] = (struct fraud_kafka_offset){p->topic, p->partition, p->ready};
        }
        return (int)n;
}

void fraud_kafka_tracker_stored(struct fraud_kafka_tracker *t,
                                const struct fraud_kafka_offset *offsets, size_t count) {
        assert(t && (offsets || count == 0));
        for (size_t i = 0; i < count; i++) {
                int idx = part_find(t, offsets[i].topic, offsets[i].partition);
                if (idx >= 0 && offsets[i].offset > t->parts[idx].stored)
                        t->parts[idx].stored = offsets[i].offset;
        }
}

int64_t fraud_kafka_tracker_position(const struct fraud_kafka_tracker *t, const char *topic,
                                     int32_t partition) {
        int idx;

        assert(t && topic);
        idx = part_find(t, topic, partition);
        return idx < 0 ? -1 : t->parts[idx].ready;
}

size_t fraud_kafka_tracker_free_slots(const struct fraud_kafka_tracker *t) {
        assert(t);
        return t->free_count;
}

uint64_t fraud_kafka_tracker_failed(const struct fraud_kafka_tracker *t) {
        assert(t);
        return t->failed;
}

/* ======================================================================
 * Client base: what producer and consumer share
 * ====================================================================== */

/* First member of both client structs, so librdkafka's opaque (the outer
 * struct) is also a pointer to it. */
struct client {
        rd_kafka_t *rk;
        struct fraud_kafka_counters counters;
        bool fatal;
        void (*log_cb)(void *opaque, int level, const char *facility, const char *text);
        void *log_opaque;
        char error[FRAUD_KAFKA_ERRSTR_MAX];
};

static void client_error(struct client *cl, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Records err (-errno) as the latest error, with its text.  The caller
 * counts it in the right counter. */
static void client_error(struct client *cl, int err, const char *fmt, ...) {
        va_list ap;

        cl->counters.last_error = err;
        va_start(ap, fmt);
        vsnprintf(cl->error, sizeof cl->error, fmt, ap);
        va_end(ap);
}

static void client_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        const struct client *cl = rd_kafka_opaque(rk);

        if (cl && cl->log_cb)
                cl->log_cb(cl->log_opaque, level, fac, buf);
}

static void client_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
        struct client *cl = opaque;
        char fatal[FRAUD_KAFKA_ERRSTR_MAX];

        cl->counters.errors++;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                cl->fatal = true;
                rd_kafka_fatal_error(rk, fatal, sizeof fatal);
                client_error(cl, -ENOTRECOVERABLE, "fatal: %s", fatal);
                return;
        }
        client_error(cl, fraud_kafka_errno((rd_kafka_resp_err_t)err), "%s: %s",
                     rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void conf_callbacks(rd_kafka_conf_t *conf, struct client *cl,
                           const struct fraud_kafka_options *o) {
        cl->log_cb = o->log_cb;
        cl->log_opaque = o->log_opaque;
        rd_kafka_conf_set_opaque(conf, cl);
        rd_kafka_conf_set_log_cb(conf, client_log_cb);
        rd_kafka_conf_set_error_cb(conf, client_error_cb);
}

/* Creates the handle; takes ownership of conf in every case.  With a log
 * callback, logs go to the main queue so the poll functions serve them in
 * the caller's thread. */
static int client_start(struct client *cl, rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err,
                        size_t err_size) {
        char why[FRAUD_KAFKA_ERRSTR_MAX];

        cl->rk = rd_kafka_new(type, conf, why, sizeof why);
        if (!cl->rk) {
                rd_kafka_conf_destroy(conf);
                err_set(err, err_size, "%s", why);
                return -EINVAL;
        }
        if (cl->log_cb)
                rd_kafka_set_log_queue(cl->rk, NULL);
        return 0;
}

/* ======================================================================
 * Producer
 * ====================================================================== */

struct fraud_kafka_producer {
        struct client cl; /* first */
};

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        struct fraud_kafka_producer *p = opaque;
        struct fraud_kafka_input *in = m->_private;
        int err = fraud_kafka_errno(m->err);

        (void)rk;
        if (err == 0) {
                p->cl.counters.delivered++;
        } else {
                p->cl.counters.delivery_failed++;
                client_error(&p->cl, err, "delivery to %s[%d] failed: %s",
                             rd_kafka_topic_name(m->rkt), (int)m->partition,
                             rd_kafka_err2str(m->err));
        }
        if (in)
                fraud_kafka_input_delivered(in, err);
}

int fraud_kafka_producer_new(const struct fraud_kafka_options *opts,
                             struct fraud_kafka_producer **out, char *err, size_t err_size) {
        struct fraud_kafka_producer *p;
        rd_kafka_conf_t *conf;
        int r;

        assert(opts && out);
        r = fraud_kafka_options_check(opts, false, err, err_size);
        if (r < 0)
                return r;
        p = calloc(1, sizeof *p);
        conf = rd_kafka_conf_new();
        if (!p || !conf) {
                free(p);
                if (conf)
                        rd_kafka_conf_destroy(conf);
                err_set(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = conf_common(conf, opts, err, err_size);
        if (r >= 0)
                r = conf_producer(conf, opts, err, err_size);
        if (r < 0) {
                rd_kafka_conf_destroy(conf);
                free(p);
                return r;
        }
        conf_callbacks(conf, &p->cl, opts);
        rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
        r = client_start(&p->cl, RD_KAFKA_PRODUCER, conf, err, err_size);
        if (r < 0) {
                free(p);
                return r;
        }
        *out = p;
        return 0;
}

void fraud_kafka_producer_free(struct fraud_kafka_producer *p) {
        if (!p)
                return;
        rd_kafka_flush(p->cl.rk, FRAUD_KAFKA_CLOSE_FLUSH_MS);
        rd_kafka_destroy(p->cl.rk);
        free(p);
}

/* librdkafka's produce API takes void * for bytes it only reads (and here
 * copies, RD_KAFKA_MSG_F_COPY); this is the one place const is dropped. */
static void *bytes_unconst(const void *b) {
        return (void *)(uintptr_t)b;
}

static rd_kafka_resp_err_t producer_enqueue(struct fraud_kafka_producer *p,
                                            const struct fraud_kafka_record *rec,
                                            struct fraud_kafka_input *from) {
        rd_kafka_vu_t vu[6] = {
                {.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = rec->topic},
                {.vtype = RD_KAFKA_VTYPE_PARTITION, .u.i32 = rec->partition},
                {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {bytes_unconst(rec->key), rec->key_size}},
                {.vtype = RD_KAFKA_VTYPE_VALUE,
                 .u.mem = {bytes_unconst(rec->value), rec->value_size}},
                {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
                {.vtype = RD_KAFKA_VTYPE_OPAQUE, .u.ptr = from},
        };
        rd_kafka_error_t *e = rd_kafka_produceva(p->cl.rk, vu, 6);
        rd_kafka_resp_err_t code;

        if (!e)
                return RD_KAFKA_RESP_ERR_NO_ERROR;
        code = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
        return code;
}

int fraud_kafka_producer_send(struct fraud_kafka_producer *p, const struct fraud_kafka_record *rec,
                              struct fraud_kafka_input *from) {
        rd_kafka_resp_err_t code;

        assert(p && rec);
        /* A consumer's inputs may only ride on the producer it names, which it
         * purges before freeing them. */
        assert(!from || from->tracker->producer == p);
        if (p->cl.fatal)
                return -ENOTRECOVERABLE;
        if (!rec->topic || !rec->topic[0] || rec->partition < -1 ||
            (!rec->value && rec->value_size) || (!rec->key && rec->key_size))
                return -EINVAL;
        if (from)
                fraud_kafka_input_output_add(from);
        for (int attempt = 0;; attempt++) {
                code = producer_enqueue(p, rec, from);
                if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                    attempt == FRAUD_KAFKA_QUEUE_FULL_RETRIES)
                        break;
                rd_kafka_poll(p->cl.rk, 10);
        }
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (from) /* no report will come for it */
                        from->pending--;
                return fraud_kafka_errno(code);
        }
        p->cl.counters.produced++;
        return 0;
}

int fraud_kafka_producer_poll(struct fraud_kafka_producer *p, int timeout_ms) {
        assert(p);
        return rd_kafka_poll(p->cl.rk, timeout_ms);
}

int fraud_kafka_producer_flush(struct fraud_kafka_producer *p, int timeout_ms) {
        assert(p);
        return fraud_kafka_errno(rd_kafka_flush(p->cl.rk, timeout_ms));
}

int fraud_kafka_producer_outstanding(const struct fraud_kafka_producer *p) {
        assert(p);
        return rd_kafka_outq_len(p->cl.rk);
}

void fraud_kafka_producer_counters(const struct fraud_kafka_producer *p,
                                   struct fraud_kafka_counters *out) {
        assert(p && out);
        *out = p->cl.counters;
}

const char *fraud_kafka_producer_error(const struct fraud_kafka_producer *p) {
        assert(p);
        return p->cl.error;
}

/* Delivers or fails everything p still holds, so no report can arrive
 * later.  Returns true when nothing is outstanding any more. */
static bool producer_drain(struct fraud_kafka_producer *p, int timeout_ms) {
        if (rd_kafka_flush(p->cl.rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
                return true;
        rd_kafka_purge(p->cl.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        return rd_kafka_flush(p->cl.rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* ======================================================================
 * Consumer
 * ====================================================================== */

struct fraud_kafka_consumer {
        struct client cl; /* first */
        struct fraud_kafka_tracker *tracker;
        struct fraud_kafka_producer *producer; /* borrowed, may be NULL */
        int (*assign)(void *opaque, const char *topic, int32_t partition, int64_t *offset);
        void (*revoke)(void *opaque, const char *topic, int32_t partition, int64_t offset);
        void *opaque;
        int failed; /* -errno of the failed state, 0 if none */
        bool closed;
        bool commit_assigned; /* spec->commit_assigned */
        size_t batch_max;
        size_t batch_count;
        rd_kafka_message_t **raw;         /* batch_max; owned */
        struct fraud_kafka_message *msgs; /* batch_max; views into raw */
        struct fraud_kafka_offset ready[FRAUD_KAFKA_PARTITIONS_MAX];
};

static void consumer_fail(struct fraud_kafka_consumer *c, int err) {
        if (c->failed == 0)
                c->failed = err < 0 ? err : -EIO;
}

/* The protocol is NULL while the consumer is not in a group (e.g. an
 * assignment delivered during close, before the first join completed). */
static bool consumer_cooperative(struct fraud_kafka_consumer *c) {
        const char *protocol = rd_kafka_rebalance_protocol(c->cl.rk);

        return protocol && strcmp(protocol, "COOPERATIVE") == 0;
}

/* Commits the positions the assignment hook chose (a stateful stage's
 * offsets from its store): the group's committed offsets then say where
 * the stage stands at once, not where it stood before a crash, even when
 * no new input arrives (consumer lag, the replay's day barrier).  A failed
 * commit is counted and logged; the next commit of stored offsets repairs
 * it. */
static void consumer_assigned_commit(struct fraud_kafka_consumer *c,
                                     const rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts->cnt);
        rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (!list)
                return;
        for (int i = 0; c->commit_assigned && i < parts->cnt; i++)
                if (parts->elems[i].offset >= 0)
                        rd_kafka_topic_partition_list_add(list, parts->elems[i].topic,
                                                          parts->elems[i].partition)
                                ->offset = parts->elems[i].offset;
        if (list->cnt > 0)
                code = rd_kafka_commit(c->cl.rk, list, 1);
        rd_kafka_topic_partition_list_destroy(list);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                c->cl.counters.errors++;
                client_error(&c->cl, fraud_kafka_errno(code), "commit of the assigned offsets: %s",
                             rd_kafka_err2str(code));
        }
}

static void consumer_assign(struct fraud_kafka_consumer *c,
                            rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;

        for (int i = 0; i < parts->cnt && c->failed == 0; i++) {
                rd_kafka_topic_partition_t *tp = &parts->elems[i];
                int r = 0;
                tp->offset = FRAUD_KAFKA_OFFSET_COMMITTED;
                if (c->assign)
                        r = c->assign(c->opaque, tp->topic, tp->partition, &tp->offset);
                if (r < 0) {
                        c->cl.counters.errors++;
                        client_error(&c->cl, r, "assignment hook failed for %s[%d]", tp->topic,
                                     (int)tp->partition);
                        consumer_fail(c, r);
                }
        }
        if (c->failed != 0) {
                if (!consumer_cooperative(c))
                        rd_kafka_assign(c->cl.rk, NULL);
                return;
        }
        if (consumer_cooperative(c)) {
                e = rd_kafka_incremental_assign(c->cl.rk, parts);
                code = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
                rd_kafka_error_destroy(e);
        } else {
                code = rd_kafka_assign(c->cl.rk, parts);
        }
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                c->cl.counters.errors++;
                client_error(&c->cl, fraud_kafka_errno(code), "assign: %s", rd_kafka_err2str(code));
                consumer_fail(c, fraud_kafka_errno(code));
                return;
        }
        consumer_assigned_commit(c, parts);
}

static void consumer_revoke(struct fraud_kafka_consumer *c,
                            rd_kafka_topic_partition_list_t *parts) {
        bool lost = rd_kafka_assignment_lost(c->cl.rk);

        if (c->producer &&
            fraud_kafka_producer_flush(c->producer, FRAUD_KAFKA_REVOKE_FLUSH_MS) < 0) {
                c->cl.counters.errors++;
                client_error(&c->cl, -ETIMEDOUT, "revoke: outputs not delivered in %d ms",
                             FRAUD_KAFKA_REVOKE_FLUSH_MS);
        }
        for (int i = 0; c->revoke && i < parts->cnt; i++)
                c->revoke(c->opaque, parts->elems[i].topic, parts->elems[i].partition,
                          fraud_kafka_tracker_position(c->tracker, parts->elems[i].topic,
                                                       parts->elems[i].partition));
        /* Lost partitions already belong to another member: no commit. */
        if (!lost)
                fraud_kafka_consumer_commit(c);
        for (int i = 0; i < parts->cnt; i++)
                fraud_kafka_tracker_forget(c->tracker, parts->elems[i].topic,
                                           parts->elems[i].partition);
        if (consumer_cooperative(c))
                rd_kafka_error_destroy(rd_kafka_incremental_unassign(c->cl.rk, parts));
        else
                rd_kafka_assign(c->cl.rk, NULL);
}

static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts, void *opaque) {
        struct fraud_kafka_consumer *c = opaque;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                consumer_assign(c, parts);
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                consumer_revoke(c, parts);
        } else {
                c->cl.counters.errors++;
                client_error(&c->cl, fraud_kafka_errno(err), "rebalance: %s",
                             rd_kafka_err2str(err));
                rd_kafka_assign(rk, NULL);
        }
}

static void consumer_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *offsets, void *opaque) {
        struct fraud_kafka_consumer *c = opaque;

        (void)rk;
        (void)offsets;
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return;
        c->cl.counters.errors++;
        client_error(&c->cl, fraud_kafka_errno(err), "commit: %s", rd_kafka_err2str(err));
}

static int consumer_subscribe(struct fraud_kafka_consumer *c,
                              const struct fraud_kafka_consumer_spec *spec, char *err,
                              size_t err_size) {
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t code;

        list = rd_kafka_topic_partition_list_new((int)spec->topics_count);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < spec->topics_count; i++)
                rd_kafka_topic_partition_list_add(list, spec->topics[i], RD_KAFKA_PARTITION_UA);
        code = rd_kafka_subscribe(c->cl.rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                err_set(err, err_size, "subscribe: %s", rd_kafka_err2str(code));
                return fraud_kafka_errno(code);
        }
        return 0;
}

static int spec_check(const struct fraud_kafka_consumer_spec *spec, char *err, size_t err_size) {
        if (spec->topics_count < 1 || spec->topics_count > FRAUD_KAFKA_TOPICS_MAX ||
            !spec->topics) {
                err_set(err, err_size, "topics: need 1..%d", FRAUD_KAFKA_TOPICS_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < spec->topics_count; i++) {
                const char *t = spec->topics[i];
                size_t len = t ? strnlen(t, FRAUD_KAFKA_TOPIC_NAME_MAX + 1) : 0;
                if (len == 0 || len > FRAUD_KAFKA_TOPIC_NAME_MAX) {
                        err_set(err, err_size, "topics: empty or longer than %d bytes",
                                FRAUD_KAFKA_TOPIC_NAME_MAX);
                        return -EINVAL;
                }
        }
        if (spec->reset != FRAUD_KAFKA_RESET_ERROR && spec->reset != FRAUD_KAFKA_RESET_EARLIEST) {
                err_set(err, err_size, "reset: unknown policy");
                return -EINVAL;
        }
        return 0;
}

static struct fraud_kafka_consumer *consumer_alloc(const struct fraud_kafka_options *opts,
                                                   const struct fraud_kafka_consumer_spec *spec) {
        struct fraud_kafka_consumer *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        c->batch_max = (size_t)opts->consume_batch_max;
        c->raw = calloc(c->batch_max, sizeof *c->raw);
        c->msgs = calloc(c->batch_max, sizeof *c->msgs);
        c->tracker = fraud_kafka_tracker_new((size_t)opts->inflight_max);
        if (!c->raw || !c->msgs || !c->tracker) {
                fraud_kafka_tracker_free(c->tracker);
                free(c->msgs);
                free(c->raw);
                free(c);
                return NULL;
        }
        c->producer = spec->producer;
        c->tracker->producer = spec->producer;
        c->assign = spec->assign;
        c->commit_assigned = spec->commit_assigned;
        c->revoke = spec->revoke;
        c->opaque = spec->opaque;
        return c;
}

static void consumer_dealloc(struct fraud_kafka_consumer *c) {
        fraud_kafka_tracker_free(c->tracker);
        free(c->msgs);
        free(c->raw);
        free(c);
}

static int consumer_conf(rd_kafka_conf_t *conf, struct fraud_kafka_consumer *c,
                         const struct fraud_kafka_options *opts, enum fraud_kafka_reset reset,
                         char *err, size_t err_size) {
        int r = conf_common(conf, opts, err, err_size);

        if (r >= 0)
                r = conf_consumer(conf, opts, reset, err, err_size);
        if (r < 0)
                return r;
        conf_callbacks(conf, &c->cl, opts);
        rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
        rd_kafka_conf_set_offset_commit_cb(conf, consumer_commit_cb);
        return 0;
}

int fraud_kafka_consumer_new(const struct fraud_kafka_options *opts,
                             const struct fraud_kafka_consumer_spec *spec,
                             struct fraud_kafka_consumer **out, char *err, size_t err_size) {
        struct fraud_kafka_consumer *c;
        rd_kafka_conf_t *conf;
        int r;

        assert(opts && spec && out);
        r = fraud_kafka_options_check(opts, true, err, err_size);
        if (r >= 0)
                r = spec_check(spec, err, err_size);
        if (r < 0)
                return r;
        c = consumer_alloc(opts, spec);
        conf = c ? rd_kafka_conf_new() : NULL;
        if (!conf) {
                if (c)
                        consumer_dealloc(c);
                err_set(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = consumer_conf(conf, c, opts, spec->reset, err, err_size);
        if (r < 0) {
                rd_kafka_conf_destroy(conf);
                consumer_dealloc(c);
                return r;
        }
        r = client_start(&c->cl, RD_KAFKA_CONSUMER, conf, err, err_size);
        if (r < 0) {
                consumer_dealloc(c);
                return r;
        }
        rd_kafka_poll_set_consumer(c->cl.rk);
        r = consumer_subscribe(c, spec, err, err_size);
        if (r < 0) {
                rd_kafka_destroy(c->cl.rk);
                consumer_dealloc(c);
                return r;
        }
        *out = c;
        return 0;
}

static void consumer_batch_release(struct fraud_kafka_consumer *c) {
        for (size_t i = 0; i < c->batch_count; i++)
                rd_kafka_message_destroy(c->raw[i]);
        c->batch_count = 0;
}

void fraud_kafka_consumer_free(struct fraud_kafka_consumer *c) {
        bool drained = true;

        if (!c)
                return;
        fraud_kafka_consumer_close(c);
        consumer_batch_release(c);
        if (c->producer)
                drained = producer_drain(c->producer, FRAUD_KAFKA_CLOSE_FLUSH_MS);
        rd_kafka_destroy(c->cl.rk);
        if (!drained) {
                /* A delivery report may still reach an input: keep the tracker
                 * (leaked on purpose) rather than let it touch freed memory. */
                c->tracker = NULL;
        }
        consumer_dealloc(c);
}

static int64_t monotonic_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts an error event of the consumer queue; never returned as data. */
static void consumer_event(struct fraud_kafka_consumer *c, const rd_kafka_message_t *m) {
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
        int err = fraud_kafka_errno(m->err);

        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                return;
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
                c->cl.counters.offset_resets++;
        else
                c->cl.counters.errors++;
        client_error(&c->cl, err, "%s[%d]: %s", topic, (int)m->partition,
                     rd_kafka_message_errstr(m));
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                c->cl.fatal = true;
                consumer_fail(c, -ENOTRECOVERABLE);
        }
}

/* Gives message m (owned from here) slot n of the batch and a tracker
 * input.  On failure m is destroyed. */
static int consumer_take(struct fraud_kafka_consumer *c, rd_kafka_message_t *m, size_t n) {
        const char *topic = rd_kafka_topic_name(m->rkt);
        struct fraud_kafka_input *in = NULL;
        int r = fraud_kafka_tracker_begin(c->tracker, topic, m->partition, m->offset, &in);

        if (r < 0) {
                c->cl.counters.errors++;
                client_error(&c->cl, r, "%s[%d]: cannot track offset %lld", topic,
                             (int)m->partition, (long long)m->offset);
                rd_kafka_message_destroy(m);
                return r;
        }
        if (r == 1) {
                c->cl.counters.errors++;
                client_error(&c->cl, -ERANGE, "%s[%d]: offset went back to %lld", topic,
                             (int)m->partition, (long long)m->offset);
        }
        c->raw[n] = m;
        c->msgs[n] = (struct fraud_kafka_message){
                .topic = topic,
                .partition = m->partition,
                .offset = m->offset,
                .timestamp_ms = rd_kafka_message_timestamp(m, NULL),
                .key = m->key,
                .key_size = m->key_len,
                .value = m->payload,
                .value_size = m->len,
                .input = in,
        };
        return 0;
}

int fraud_kafka_consumer_poll_batch(struct fraud_kafka_consumer *c,
                                    const struct fraud_kafka_message **out, int timeout_ms) {
        size_t max, n = 0;
        int r;
        int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);

        assert(c && out);
        consumer_batch_release(c);
        *out = c->msgs;
        if (c->failed)
                return c->failed;
        if (c->closed)
                return -ESHUTDOWN;
        max = fraud_kafka_tracker_free_slots(c->tracker);
        if (max == 0)
                return -ENOBUFS;
        if (max > c->batch_max)
                max = c->batch_max;
        while (n < max && c->failed == 0) {
                int64_t left = deadline - monotonic_ms();
                int wait = n > 0 || left <= 0 ? 0 : (int)left;
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c->cl.rk, wait);
                if (!m) {
                        if (n > 0 || wait == 0)
                                break;
                        continue;
                }
                if (m->err) {
                        consumer_event(c, m);
                        rd_kafka_message_destroy(m);
                        continue;
                }
                r = consumer_take(c, m, n);
                if (r < 0) {
                        consumer_fail(c, r);
                        break;
                }
                n++;
        }
        c->batch_count = n;
        c->cl.counters.consumed += n;
        return n == 0 && c->failed ? c->failed : (int)n;
}

int fraud_kafka_consumer_offsets_ready(const struct fraud_kafka_consumer *c,
                                       struct fraud_kafka_offset *out, size_t max) {
        assert(c);
        return fraud_kafka_tracker_ready(c->tracker, out, max);
}

int fraud_kafka_consumer_offsets_store(struct fraud_kafka_consumer *c) {
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t code;
        size_t stored = 0;
        int n;

        assert(c);
        n = fraud_kafka_tracker_ready(c->tracker, c->ready, FRAUD_KAFKA_PARTITIONS_MAX);
        if (n <= 0)
                return n;
        list = rd_kafka_topic_partition_list_new(n);
        if (!list)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(list, c->ready[i].topic, c->ready[i].partition)
                        ->offset = c->ready[i].offset;
        code = rd_kafka_offsets_store(c->cl.rk, list);
        /* Keep only what librdkafka took (a partition being revoked refuses). */
        for (int i = 0; i < n; i++)
                if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                        c->ready[stored++] = c->ready[i];
        rd_kafka_topic_partition_list_destroy(list);
        fraud_kafka_tracker_stored(c->tracker, c->ready, stored);
        if (stored == 0 && code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                c->cl.counters.errors++;
                client_error(&c->cl, fraud_kafka_errno(code), "offsets store: %s",
                             rd_kafka_err2str(code));
                return fraud_kafka_errno(code);
        }
        return (int)stored;
}

int fraud_kafka_consumer_commit(struct fraud_kafka_consumer *c) {
        rd_kafka_resp_err_t code;
        int r;

        assert(c);
        r = fraud_kafka_consumer_offsets_store(c);
        if (r < 0)
                return r;
        code = rd_kafka_commit(c->cl.rk, NULL, 0);
        if (code == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return 0;
        return fraud_kafka_errno(code);
}

int fraud_kafka_consumer_committed(struct fraud_kafka_consumer *c, const char *topic,
                                   int32_t partition, int64_t *offset, int timeout_ms) {
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t code;

        assert(c && topic && offset);
        list = rd_kafka_topic_partition_list_new(1);
        if (!list)
                return -ENOMEM;
        rd_kafka_topic_partition_list_add(list, topic, partition);
        code = rd_kafka_committed(c->cl.rk, list, timeout_ms);
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
                code = list->elems[0].err;
        *offset = list->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(list);
        return fraud_kafka_errno(code);
}

int fraud_kafka_consumer_end_offset(struct fraud_kafka_consumer *c, const char *topic,
                                    int32_t partition, int timeout_ms, int64_t *out) {
        int64_t low = 0;

        assert(c && topic && out);
        return fraud_kafka_errno(
                rd_kafka_query_watermark_offsets(c->cl.rk, topic, partition, &low, out, timeout_ms));
}

int fraud_kafka_consumer_position(struct fraud_kafka_consumer *c, const char *topic,
                                  int32_t partition, int64_t *out) {
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t code;

        assert(c && topic && out);
        list = rd_kafka_topic_partition_list_new(1);
        if (!list)
                return -ENOMEM;
        rd_kafka_topic_partition_list_add(list, topic, partition);
        code = rd_kafka_position(c->cl.rk, list);
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
                code = list->elems[0].err;
        *out = list->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(list);
        if (code == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
                return -ENOENT;
        return fraud_kafka_errno(code);
}

static int group_client_new(const struct fraud_kafka_options *opts, const char *group,
                            rd_kafka_t **out, char *err, size_t err_size) {
        struct fraud_kafka_options o = *opts;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char why[FRAUD_KAFKA_ERRSTR_MAX];
        int r;

        o.group_id = group;
        if (!conf)
                return -ENOMEM;
        r = conf_common(conf, &o, err, err_size);
        if (r >= 0)
                r = conf_set(conf, "group.id", group, err, err_size);
        if (r >= 0)
                r = conf_set(conf, "enable.auto.commit", "false", err, err_size);
        if (r < 0) {
                rd_kafka_conf_destroy(conf);
                return r;
        }
        *out = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (!*out) {
                rd_kafka_conf_destroy(conf);
                err_set(err, err_size, "%s", why);
                return -EINVAL;
        }
        return 0;
}

int fraud_kafka_group_position(const struct fraud_kafka_options *opts, const char *group,
                               const char *topic, int32_t partition, int timeout_ms,
                               int64_t *committed, int64_t *end, char *err, size_t err_size) {
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR__FAIL;
        rd_kafka_t *rk = NULL;
        int64_t low = 0;
        int r;

        assert(opts && group && topic && committed && end);
        r = group_client_new(opts, group, &rk, err, err_size);
        if (r < 0)
                return r;
        list = rd_kafka_topic_partition_list_new(1);
        if (list) {
                rd_kafka_topic_partition_list_add(list, topic, partition);
                code = rd_kafka_committed(rk, list, timeout_ms);
                if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
                        code = list->elems[0].err;
                *committed = list->elems[0].offset;
                rd_kafka_topic_partition_list_destroy(list);
        }
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
                code = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, end,
                                                        timeout_ms);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
                err_set(err, err_size, "group %s on %s[%d]: %s", group, topic, (int)partition,
                        rd_kafka_err2str(code));
        rd_kafka_destroy(rk);
        return fraud_kafka_errno(code);
}

int fraud_kafka_consumer_lag(const struct fraud_kafka_consumer *c,
                             void (*fn)(void *ctx, const char *topic, int32_t partition,
                                        int64_t lag),
                             void *ctx) {
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t code;
        int n = 0;

        assert(c && fn);
        code = rd_kafka_assignment(c->cl.rk, &parts);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
                return fraud_kafka_errno(code);
        code = rd_kafka_position(c->cl.rk, parts);
        for (; code == RD_KAFKA_RESP_ERR_NO_ERROR && n < parts->cnt; n++) {
                const rd_kafka_topic_partition_t *tp = &parts->elems[n];
                int64_t low = -1, high = -1, lag = -1;

                if (rd_kafka_get_watermark_offsets(c->cl.rk, tp->topic, tp->partition, &low,
                                                   &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                    high >= 0 && tp->offset >= 0)
                        lag = high > tp->offset ? high - tp->offset : 0;
                fn(ctx, tp->topic, tp->partition, lag);
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? n : fraud_kafka_errno(code);
}

int fraud_kafka_consumer_close(struct fraud_kafka_consumer *c) {
        rd_kafka_resp_err_t code;

        assert(c);
        if (c->closed)
                return 0;
        c->closed = true;
        consumer_batch_release(c);
        /* Revocation (through the rebalance callback) flushes the producer,
         * stores and commits; close then leaves the group. */
        code = rd_kafka_consumer_close(c->cl.rk);
        return fraud_kafka_errno(code);
}

void fraud_kafka_consumer_counters(const struct fraud_kafka_consumer *c,
                                   struct fraud_kafka_counters *out) {
        assert(c && out);
        *out = c->cl.counters;
        out->delivery_failed = fraud_kafka_tracker_failed(c->tracker);
}

const char *fraud_kafka_consumer_error(const struct fraud_kafka_consumer *c) {
        assert(c);
        return c->cl.error;
}
