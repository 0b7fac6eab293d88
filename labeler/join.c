/* join.c: see join.h.
 *
 * One record per transaction id, decoded into j->rec (pointers into
 * j->rbuf, the input being applied, or j->id) and encoded back into j->wbuf
 * after every change.  The record remembers the time of its entry in the
 * due index (due_us), so a change of its next milestone deletes the old
 * entry and puts the new one.  Record layout (little-endian, version 1):
 *
 *   u8 version, flags, value, status, decision, statements
 *   i64 tx_us, due_us
 *   u8 card length, card bytes
 *   u32 features length, the packed FeatureVector
 *   per statement: u8 kind, applied; u32 partition; i64 offset, event_us;
 *                  u8 id length, id; u16 original length, original bytes
 *
 * Applied statements keep their id (for duplicates) and drop their bytes.
 */
#include "labeler/join.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "lib/arena.h"
#include "proto/chargeback.pb-c.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/label.pb-c.h"
#include "proto/score.pb-c.h"

#define JOIN_NONE           INT64_MAX /* no due entry */
#define JOIN_RECORD_VERSION 1
#define JOIN_CLOCK_BYTES    16

/* Worst encoded record, checked against its named limit. */
#define JOIN_RECORD_WORST                                                                          \
        (6 + 16 + 1 + FRAUD_LABELER_ID_MAX + 4 + FRAUD_LABELER_FEATURES_BYTES_MAX +                \
         FRAUD_LABELER_STATEMENTS_MAX *                                                            \
                 (2 + 4 + 16 + 1 + FRAUD_LABELER_ID_MAX + 2 + FRAUD_LABELER_CHARGEBACK_BYTES_MAX))
_Static_assert(JOIN_RECORD_WORST <= FRAUD_LABELER_RECORD_BYTES_MAX, "a record fits its limit");
_Static_assert(FRAUD_LABELER_CHARGEBACK_BYTES_MAX <= UINT16_MAX, "held bytes fit a u16");

enum { REC_FEATURES = 1, REC_SCORE = 2, REC_MATURED = 4 };

enum join_step_kind { STEP_STATEMENT, STEP_MATURITY, STEP_HORIZON, STEP_GIVE_UP };

struct join_step {
        int64_t time;
        enum join_step_kind what;
        int index; /* statement */
};

struct join_statement {
        int64_t event_us, offset;
        int32_t partition;
        uint8_t kind, applied, id_len;
        uint16_t original_len;
        const char *id;
        const uint8_t *original;
};

struct join_record {
        bool is_new; /* not in the store yet */
        uint8_t flags, value, status, decision, n, card_len;
        int64_t tx_us;  /* of the transaction; a hint until REC_FEATURES */
        int64_t due_us; /* of its entry in the due index, or JOIN_NONE */
        const char *card;
        const uint8_t *features;
        uint32_t features_len;
        struct join_statement st[FRAUD_LABELER_STATEMENTS_MAX];
};

struct join {
        struct join_config cfg;
        struct join_store store;
        struct join_sink sink;
        int64_t max_event_us; /* INT64_MIN before the first event */
        int64_t settled_us;   /* every milestone up to here is applied (not kept) */
        uint64_t records;
        bool clock_dirty;
        struct join_counters k;
        struct join_record rec;
        char id[FRAUD_LABELER_ID_MAX + 1];   /* the record's transaction id */
        char card[FRAUD_LABELER_ID_MAX + 1]; /* NUL-terminated for a label */
        char detail[FRAUD_LABELER_DETAIL_MAX];
        struct join_due due[FRAUD_LABELER_ADVANCE_CHUNK];
        uint8_t rbuf[FRAUD_LABELER_RECORD_BYTES_MAX];
        uint8_t wbuf[FRAUD_LABELER_RECORD_BYTES_MAX];
        struct fraud_arena arena; /* the decoded input; reset after each */
        ProtobufCAllocator alloc;
};

static const char *const join_codes[JOIN_REJECT_REASONS] = {
        [JOIN_REJECT_BAD_PROTOBUF] = "bad_protobuf",
        [JOIN_REJECT_BAD_SCHEMA_VERSION] = "bad_schema_version",
        [JOIN_REJECT_MISSING_TRANSACTION] = "missing_transaction",
        [JOIN_REJECT_BAD_ID] = "bad_id",
        [JOIN_REJECT_BAD_TIME] = "bad_time",
        [JOIN_REJECT_BAD_KIND] = "bad_kind",
        [JOIN_REJECT_BAD_DECISION] = "bad_decision",
        [JOIN_REJECT_SHADOW_SCORE] = "shadow_score",
        [JOIN_REJECT_TOO_LARGE] = "too_large",
        [JOIN_REJECT_TOO_OLD] = "too_old",
        [JOIN_REJECT_TOO_MANY_CHARGEBACKS] = "too_many_chargebacks",
        [JOIN_REJECT_UNKNOWN_TRANSACTION] = "unknown_transaction",
        [JOIN_REJECT_AFTER_HORIZON] = "after_horizon",
};

const char *join_reject_code(enum join_reject_reason r) {
        return (unsigned)r < JOIN_REJECT_REASONS ? join_codes[r] : "unknown";
}

/* ---- the record codec ---- */

struct join_writer {
        uint8_t *p;
        size_t len, cap;
};

static void put_bytes(struct join_writer *w, const void *d, size_t n) {
        assert(n <= w->cap - w->len); /* JOIN_RECORD_WORST is checked at compile time */
        if (n)
                memcpy(w->p + w->len, d, n);
        w->len += n;
}

static void put_uint(struct join_writer *w, uint64_t v, size_t n) {
        uint8_t b[8];

        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)(v >> (8 * i));
        put_bytes(w, b, n);
}

struct join_reader {
        const uint8_t *p;
        size_t len, pos;
        bool bad;
};

static const uint8_t *get_bytes(struct join_reader *r, size_t n) {
        const uint8_t *at = r->p + r->pos;

        if (r->bad || n > r->len - r->pos) {
                r->bad = true;
                return NULL;
        }
        r->pos += n;
        return at;
}

static uint64_t get_uint(struct join_reader *r, size_t n) {
        const uint8_t *b = get_bytes(r, n);
        uint64_t v = 0;

        for (size_t i = 0; b && i < n; i++)
                v |= (uint64_t)b[i] << (8 * i);
        return v;
}

static size_t record_encode(const struct join_record *rec, uint8_t *buf, size_t cap) {
        struct join_writer w = {buf, 0, cap};

        put_uint(&w, JOIN_RECORD_VERSION, 1);
        put_uint(&w, rec->flags, 1);
        put_uint(&w, rec->value, 1);
        put_uint(&w, rec->status, 1);
        put_uint(&w, rec->decision, 1);
        put_uint(&w, rec->n, 1);
        put_uint(&w, (uint64_t)rec->tx_us, 8);
        put_uint(&w, (uint64_t)rec->due_us, 8);
        put_uint(&w, rec->card_len, 1);
        put_bytes(&w, rec->card, rec->card_len);
        put_uint(&w, rec->features_len, 4);
        put_bytes(&w, rec->features, rec->features_len);
        for (int i = 0; i < rec->n; i++) {
                const struct join_statement *s = &rec->st[i];
                put_uint(&w, s->kind, 1);
                put_uint(&w, s->applied, 1);
                put_uint(&w, (uint32_t)s->partition, 4);
                put_uint(&w, (uint64_t)s->offset, 8);
                put_uint(&w, (uint64_t)s->event_us, 8);
                put_uint(&w, s->id_len, 1);
                put_bytes(&w, s->id, s->id_len);
                put_uint(&w, s->original_len, 2);
                put_bytes(&w, s->original, s->original_len);
        }
        return w.len;
}

static void statement_decode(struct join_reader *r, struct join_statement *s) {
        s->kind = (uint8_t)get_uint(r, 1);
        s->applied = (uint8_t)get_uint(r, 1);
        s->partition = (int32_t)(uint32_t)get_uint(r, 4);
        s->offset = (int64_t)get_uint(r, 8);
        s->event_us = (int64_t)get_uint(r, 8);
        s->id_len = (uint8_t)get_uint(r, 1);
        s->id = (const char *)get_bytes(r, s->id_len);
        s->original_len = (uint16_t)get_uint(r, 2);
        s->original = get_bytes(r, s->original_len);
        if (s->id_len > FRAUD_LABELER_ID_MAX || s->kind == 0 ||
            s->kind > FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT)
                r->bad = true;
}

/* 0, or -EBADMSG when buf is not a record of this version. */
static int record_decode(const uint8_t *buf, size_t len, struct join_record *rec) {
        struct join_reader r = {buf, len, 0, false};

        if (get_uint(&r, 1) != JOIN_RECORD_VERSION)
                return -EBADMSG;
        rec->flags = (uint8_t)get_uint(&r, 1);
        rec->value = (uint8_t)get_uint(&r, 1);
        rec->status = (uint8_t)get_uint(&r, 1);
        rec->decision = (uint8_t)get_uint(&r, 1);
        rec->n = (uint8_t)get_uint(&r, 1);
        rec->tx_us = (int64_t)get_uint(&r, 8);
        rec->due_us = (int64_t)get_uint(&r, 8);
        rec->card_len = (uint8_t)get_uint(&r, 1);
        rec->card = (const char *)get_bytes(&r, rec->card_len);
        rec->features_len = (uint32_t)get_uint(&r, 4);
        rec->features = get_bytes(&r, rec->features_len);
        if (rec->n > FRAUD_LABELER_STATEMENTS_MAX || rec->card_len > FRAUD_LABELER_ID_MAX)
                return -EBADMSG;
        for (int i = 0; i < rec->n && !r.bad; i++)
                statement_decode(&r, &rec->st[i]);
        return r.bad || r.pos != len ? -EBADMSG : 0;
}

/* ---- clock and watermark ---- */

int64_t join_watermark(const struct join *j) {
        return j->max_event_us == INT64_MIN ? INT64_MIN : j->max_event_us - j->cfg.lateness_us;
}

/* The watermark has reached t. */
static bool join_passed(const struct join *j, int64_t t) {
        int64_t wm = join_watermark(j);

        return wm != INT64_MIN && t <= wm;
}

static void clock_observe(struct join *j, int64_t event_us) {
        if (event_us > j->max_event_us) {
                j->max_event_us = event_us;
                j->clock_dirty = true;
        }
}

static int clock_save(struct join *j) {
        uint8_t buf[JOIN_CLOCK_BYTES];
        struct join_writer w = {buf, 0, sizeof(buf)};
        int r;

        if (!j->clock_dirty)
                return 0;
        put_uint(&w, (uint64_t)j->max_event_us, 8);
        put_uint(&w, j->records, 8);
        r = j->store.clock_put(j->store.ctx, buf, w.len);
        if (r >= 0)
                j->clock_dirty = false;
        return r < 0 ? r : 0;
}

static int clock_load(struct join *j) {
        uint8_t buf[JOIN_CLOCK_BYTES];
        struct join_reader rd = {buf, sizeof(buf), 0, false};
        int r = j->store.clock_get(j->store.ctx, buf, sizeof(buf));

        j->max_event_us = INT64_MIN;
        j->settled_us = INT64_MIN;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (r != JOIN_CLOCK_BYTES)
                return -EBADMSG;
        j->max_event_us = (int64_t)get_uint(&rd, 8);
        j->records = get_uint(&rd, 8);
        return 0;
}

/* ---- set-up ---- */

int join_new(const struct join_config *cfg, const struct join_store *store,
             const struct join_sink *sink, struct join **out) {
        struct join *j;
        int r;

        if (cfg->maturity_us <= 0 || cfg->horizon_us <= cfg->maturity_us ||
            cfg->horizon_us > (int64_t)FRAUD_LABELER_DAYS_MAX * 86400 * 1000000 ||
            cfg->lateness_us < 0 || cfg->features_bytes_max == 0 ||
            cfg->features_bytes_max > FRAUD_LABELER_FEATURES_BYTES_MAX)
                return -EINVAL;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->cfg = *cfg;
        j->store = *store;
        j->sink = *sink;
        fraud_arena_init(&j->arena, 0);
        j->alloc = (ProtobufCAllocator){fraud_arena_alloc_cb, fraud_arena_free_cb, &j->arena};
        r = clock_load(j);
        if (r < 0) {
                join_free(j);
                return r;
        }
        *out = j;
        return 0;
}

void join_free(struct join *j) {
        if (!j)
                return;
        fraud_arena_release(&j->arena);
        free(j);
}

uint64_t join_records(const struct join *j) {
        return j->records;
}

void join_counters(const struct join *j, struct join_counters *out) {
        *out = j->k;
}

/* ---- outputs ---- */

static int join_label_value(const struct join_record *rec) {
        return rec->decision == FRAUD__DECISION__DECISION_BLOCK
                       ? FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN
                       : FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT;
}

static void label_count(struct join_counters *k, int value, int status, int decision) {
        if (status == FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL)
                k->labels_provisional++;
        else if (status == FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED)
                k->labels_corrected++;
        else if (value == FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD)
                k->labels_confirmed_fraud++;
        else if (value == FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN)
                k->labels_confirmed_unknown++;
        else
                k->labels_confirmed_legit++;
        k->labels_undecided += decision == FRAUD__DECISION__DECISION_UNSPECIFIED;
}

static int label_emit(struct join *j, int value, int status, int64_t known_at_us, void *tag) {
        struct join_record *rec = &j->rec;
        struct join_label l = {
                .transaction_id = j->id,
                .card_hash = j->card,
                .features = rec->features,
                .features_size = rec->features_len,
                .value = value,
                .status = status,
                .decision = rec->decision,
                .event_time_us = rec->tx_us,
                .known_at_us = known_at_us,
        };

        memcpy(j->card, rec->card, rec->card_len);
        j->card[rec->card_len] = '\0';
        rec->value = (uint8_t)value;
        rec->status = (uint8_t)status;
        label_count(&j->k, value, status, rec->decision);
        return j->sink.label(j->sink.ctx, &l, tag);
}

static int reject_vsend(struct join *j, struct join_reject *r, void *tag, const char *fmt,
                        va_list ap) __attribute__((format(printf, 4, 0)));

static int reject_vsend(struct join *j, struct join_reject *r, void *tag, const char *fmt,
                        va_list ap) {
        vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
        r->detail = j->detail;
        j->k.rejected[r->reason]++;
        return j->sink.reject(j->sink.ctx, r, tag);
}

static int reject_send(struct join *j, struct join_reject *r, void *tag, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int reject_send(struct join *j, struct join_reject *r, void *tag, const char *fmt, ...) {
        va_list ap;
        int ret;

        va_start(ap, fmt);
        ret = reject_vsend(j, r, tag, fmt, ap);
        va_end(ap);
        return ret;
}

/* An input to dlq; tx_id may be NULL. */
static int reject_input(struct join *j, const struct join_input *in, enum join_reject_reason why,
                        const char *tx_id, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int reject_input(struct join *j, const struct join_input *in, enum join_reject_reason why,
                        const char *tx_id, const char *fmt, ...) {
        struct join_reject r = {
                .reason = why,
                .kind = in->kind,
                .transaction_id = tx_id ? tx_id : "",
                .original = in->data,
                .original_size = in->size,
                .partition = in->partition,
                .offset = in->offset,
        };
        va_list ap;
        int ret;

        va_start(ap, fmt);
        ret = reject_vsend(j, &r, in->tag, fmt, ap);
        va_end(ap);
        return ret;
}

/* A held statement to dlq (it is then forgotten). */
static int statement_reject(struct join *j, int i, enum join_reject_reason why, void *tag) {
        struct join_statement *s = &j->rec.st[i];
        struct join_reject r = {
                .reason = why,
                .kind = JOIN_CHARGEBACK,
                .transaction_id = j->id,
                .original = s->original,
                .original_size = s->original_len,
                .partition = s->partition,
                .offset = s->offset,
        };

        s->applied = 1;
        return reject_send(j, &r, tag, "%.*s: %s", (int)s->id_len, s->id,
                           why == JOIN_REJECT_AFTER_HORIZON
                                   ? "made after the transaction's horizon"
                                   : "transaction never seen by its horizon");
}

/* ---- milestones ---- */

static bool statement_before(const struct join_statement *a, const struct join_statement *b) {
        size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
        int c = memcmp(a->id, b->id, n);

        return c < 0 || (c == 0 && a->id_len < b->id_len);
}

/* The record's next milestone (see join.h for the order at equal times). */
static struct join_step record_next(const struct join *j, const struct join_record *rec) {
        struct join_step s = {rec->tx_us + j->cfg.horizon_us, STEP_GIVE_UP, -1};

        if (!(rec->flags & REC_FEATURES))
                return s;
        s.what = STEP_HORIZON;
        if (!(rec->flags & REC_MATURED))
                s = (struct join_step){rec->tx_us + j->cfg.maturity_us, STEP_MATURITY, -1};
        for (int i = 0; i < rec->n; i++) {
                const struct join_statement *st = &rec->st[i];
                int64_t t = st->event_us > rec->tx_us ? st->event_us : rec->tx_us;
                if (st->applied)
                        continue;
                if (t < s.time || (t == s.time && (s.what != STEP_STATEMENT ||
                                                   statement_before(st, &rec->st[s.index]))))
                        s = (struct join_step){t, STEP_STATEMENT, i};
        }
        return s;
}

static bool statement_says_fraud(const struct join_statement *s) {
        return s->kind != FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT;
}

static int statement_apply(struct join *j, int i, int64_t t, void *tag) {
        struct join_record *rec = &j->rec;
        struct join_statement *s = &rec->st[i];

        s->applied = 1;
        s->original = NULL;
        s->original_len = 0;
        if (statement_says_fraud(s)) {
                if (rec->value == FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD) {
                        j->k.chargebacks_repeated++;
                        return 0;
                }
                return label_emit(j, FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD,
                                  rec->status ? FRAUD__LABEL_STATUS__LABEL_STATUS_CORRECTED
                                              : FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED,
                                  t, tag);
        }
        if (rec->status == FRAUD__LABEL_STATUS__LABEL_STATUS_UNSPECIFIED ||
            rec->status == FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL)
                return label_emit(j, FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT,
                                  FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED, t, tag);
        j->k.reviews_ignored++;
        return 0;
}

static int record_mature(struct join *j, int64_t t, void *tag) {
        j->rec.flags |= REC_MATURED;
        if (j->rec.status != FRAUD__LABEL_STATUS__LABEL_STATUS_UNSPECIFIED)
                return 0;
        return label_emit(j, join_label_value(&j->rec),
                          FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL, t, tag);
}

/* The horizon (features seen) or the end of waiting for them. */
static int record_finish(struct join *j, const struct join_step *s, void *tag) {
        struct join_record *rec = &j->rec;
        enum join_reject_reason why = JOIN_REJECT_UNKNOWN_TRANSACTION;
        int r = 0;

        if (s->what == STEP_HORIZON) {
                why = JOIN_REJECT_AFTER_HORIZON;
                j->k.records_finished++;
                if (rec->status == FRAUD__LABEL_STATUS__LABEL_STATUS_PROVISIONAL)
                        r = label_emit(j, join_label_value(rec),
                                       FRAUD__LABEL_STATUS__LABEL_STATUS_CONFIRMED, s->time, tag);
        } else if (rec->flags & REC_SCORE) {
                j->k.scores_orphaned++;
        }
        for (int i = 0; i < rec->n && r >= 0; i++)
                if (!rec->st[i].applied)
                        r = statement_reject(j, i, why, tag);
        return r;
}

/* Applies every milestone up to wm, in order.  1 when the
 * record is finished (to be removed), 0 when it stays, -errno. */
static int record_advance(struct join *j, int64_t wm, void *tag) {

        for (;;) {
                struct join_step s = record_next(j, &j->rec);
                int r;

                if (wm == INT64_MIN || s.time > wm)
                        return 0;
                if (s.what == STEP_STATEMENT)
                        r = statement_apply(j, s.index, s.time, tag);
                else if (s.what == STEP_MATURITY)
                        r = record_mature(j, s.time, tag);
                else
                        return (r = record_finish(j, &s, tag)) < 0 ? r : 1;
                if (r < 0)
                        return r;
        }
}

/* ---- the store ---- */

/* Loads the record of id into j->rec: 1, or 0 with an empty new record. */
static int record_load(struct join *j, const char *id, size_t id_len) {
        int n = j->store.record_get(j->store.ctx, id, id_len, j->rbuf, sizeof(j->rbuf));

        memcpy(j->id, id, id_len);
        j->id[id_len] = '\0';
        memset(&j->rec, 0, sizeof(j->rec));
        j->rec.due_us = JOIN_NONE;
        j->rec.is_new = true;
        if (n == -ENOENT)
                return 0;
        if (n < 0)
                return n;
        j->rec.is_new = false;
        return record_decode(j->rbuf, (size_t)n, &j->rec) < 0 ? -EBADMSG : 1;
}

static int record_save(struct join *j) {
        struct join_record *rec = &j->rec;
        size_t id_len = strlen(j->id);
        int64_t next = record_next(j, rec).time;
        int r = 0;

        if (next != rec->due_us) {
                if (rec->due_us != JOIN_NONE)
                        r = j->store.due_del(j->store.ctx, rec->due_us, j->id, id_len);
                if (r >= 0)
                        r = j->store.due_put(j->store.ctx, next, j->id, id_len);
                rec->due_us = next;
        }
        if (r >= 0)
                r = j->store.record_put(j->store.ctx, j->id, id_len, j->wbuf,
                                        record_encode(rec, j->wbuf, sizeof(j->wbuf)));
        if (r >= 0 && rec->is_new) {
                rec->is_new = false;
                j->records++;
                j->clock_dirty = true;
        }
        return r < 0 ? r : 0;
}

static int record_remove(struct join *j) {
        size_t id_len = strlen(j->id);
        int r = 0;

        if (j->rec.is_new)
                return 0;
        if (j->rec.due_us != JOIN_NONE)
                r = j->store.due_del(j->store.ctx, j->rec.due_us, j->id, id_len);
        if (r >= 0)
                r = j->store.record_del(j->store.ctx, j->id, id_len);
        if (r >= 0) {
                j->records--;
                j->clock_dirty = true;
        }
        return r < 0 ? r : 0;
}

/* Advances the loaded record to wm and stores the result. */
static int record_settle(struct join *j, int64_t wm, void *tag) {
        int r = record_advance(j, wm, tag);

        if (r < 0)
                return r;
        return r == 1 ? record_remove(j) : record_save(j);
}

/* ---- inputs ---- */

static bool id_ok(const char *id) {
        size_t n = id ? strlen(id) : 0;

        return n > 0 && n <= FRAUD_LABELER_ID_MAX;
}

static bool time_ok(int64_t t) {
        return t > 0 && t <= FRAUD_LABELER_TIME_US_MAX;
}

static int features_check(const struct join *j, const Fraud__FeatureVector *fv, size_t size) {
        if (!fv)
                return JOIN_REJECT_BAD_PROTOBUF;
        if (fv->schema_version != FEATURE_VECTOR_SCHEMA_VERSION)
                return JOIN_REJECT_BAD_SCHEMA_VERSION;
        if (!fv->transaction)
                return JOIN_REJECT_MISSING_TRANSACTION;
        if (!id_ok(fv->transaction_id) || strlen(fv->transaction->card_hash) > FRAUD_LABELER_ID_MAX)
                return JOIN_REJECT_BAD_ID;
        if (!time_ok(fv->transaction->event_time_us))
                return JOIN_REJECT_BAD_TIME;
        if (size > j->cfg.features_bytes_max)
                return JOIN_REJECT_TOO_LARGE;
        return -1;
}

static int features_apply(struct join *j, const struct join_input *in,
                          const Fraud__FeatureVector *fv) {
        const Fraud__Transaction *t = fv->transaction;
        int r;

        clock_observe(j, t->event_time_us);
        if (join_passed(j, t->event_time_us + j->cfg.horizon_us))
                return reject_input(j, in, JOIN_REJECT_TOO_OLD, fv->transaction_id,
                                    "transaction older than the horizon behind the watermark");
        r = record_load(j, fv->transaction_id, strlen(fv->transaction_id));
        if (r < 0)
                return r;
        if (j->rec.flags & REC_FEATURES) {
                j->k.features_duplicate++;
                return 0;
        }
        j->rec.flags |= REC_FEATURES;
        j->rec.tx_us = t->event_time_us;
        j->rec.card = t->card_hash;
        j->rec.card_len = (uint8_t)strlen(t->card_hash);
        j->rec.features = in->data;
        j->rec.features_len = (uint32_t)in->size;
        j->k.features++;
        return record_settle(j, j->settled_us, in->tag);
}

static int join_features(struct join *j, const struct join_input *in) {
        Fraud__FeatureVector *fv = fraud__feature_vector__unpack(&j->alloc, in->size, in->data);
        int why = features_check(j, fv, in->size);
        int r;

        if (why >= 0)
                r = reject_input(j, in, (enum join_reject_reason)why,
                                 fv && id_ok(fv->transaction_id) ? fv->transaction_id : NULL,
                                 "invalid FeatureVector");
        else
                r = features_apply(j, in, fv);
        fraud__feature_vector__free_unpacked(fv, &j->alloc);
        return r;
}

static int score_check(const Fraud__Score *s) {
        if (!s)
                return JOIN_REJECT_BAD_PROTOBUF;
        if (s->schema_version != SCORE_SCHEMA_VERSION)
                return JOIN_REJECT_BAD_SCHEMA_VERSION;
        if (!id_ok(s->transaction_id))
                return JOIN_REJECT_BAD_ID;
        if (!time_ok(s->event_time_us))
                return JOIN_REJECT_BAD_TIME;
        if (s->decision != FRAUD__DECISION__DECISION_ALLOW &&
            s->decision != FRAUD__DECISION__DECISION_REVIEW &&
            s->decision != FRAUD__DECISION__DECISION_BLOCK)
                return JOIN_REJECT_BAD_DECISION;
        if (s->shadow)
                return JOIN_REJECT_SHADOW_SCORE;
        return -1;
}

static int score_apply(struct join *j, const struct join_input *in, const Fraud__Score *s) {
        int r;

        clock_observe(j, s->event_time_us);
        r = record_load(j, s->transaction_id, strlen(s->transaction_id));
        if (r < 0)
                return r;
        if (r == 0 && join_passed(j, s->event_time_us + j->cfg.horizon_us)) {
                j->k.scores_late++;
                return 0;
        }
        if (r == 0)
                j->rec.tx_us = s->event_time_us;
        if (j->rec.flags & REC_SCORE) {
                j->k.scores_duplicate++;
                return 0;
        }
        j->rec.flags |= REC_SCORE;
        j->rec.decision = (uint8_t)s->decision;
        j->k.scores++;
        j->k.scores_after_label += j->rec.status != FRAUD__LABEL_STATUS__LABEL_STATUS_UNSPECIFIED;
        return record_settle(j, j->settled_us, in->tag);
}

static int join_score(struct join *j, const struct join_input *in) {
        Fraud__Score *s = fraud__score__unpack(&j->alloc, in->size, in->data);
        int why = score_check(s);
        int r;

        if (why >= 0)
                r = reject_input(j, in, (enum join_reject_reason)why,
                                 s && id_ok(s->transaction_id) ? s->transaction_id : NULL,
                                 "invalid Score");
        else
                r = score_apply(j, in, s);
        fraud__score__free_unpacked(s, &j->alloc);
        return r;
}

static int chargeback_check(const Fraud__Chargeback *c, size_t size) {
        if (!c)
                return JOIN_REJECT_BAD_PROTOBUF;
        if (c->schema_version != CHARGEBACK_SCHEMA_VERSION)
                return JOIN_REJECT_BAD_SCHEMA_VERSION;
        if (!id_ok(c->transaction_id) || !id_ok(c->chargeback_id))
                return JOIN_REJECT_BAD_ID;
        if (!time_ok(c->event_time_us) || c->transaction_time_us < 0 ||
            c->transaction_time_us > FRAUD_LABELER_TIME_US_MAX)
                return JOIN_REJECT_BAD_TIME;
        if (c->kind != FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK &&
            c->kind != FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD &&
            c->kind != FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT)
                return JOIN_REJECT_BAD_KIND;
        if (size > FRAUD_LABELER_CHARGEBACK_BYTES_MAX)
                return JOIN_REJECT_TOO_LARGE;
        return -1;
}

/* 1 when the record already holds a statement with c's chargeback_id. */
static bool statement_seen(const struct join_record *rec, const char *id) {
        size_t n = strlen(id);

        for (int i = 0; i < rec->n; i++)
                if (rec->st[i].id_len == n && memcmp(rec->st[i].id, id, n) == 0)
                        return true;
        return false;
}

static void statement_add(struct join *j, const struct join_input *in, const Fraud__Chargeback *c) {
        struct join_statement *s = &j->rec.st[j->rec.n++];

        *s = (struct join_statement){
                .event_us = c->event_time_us,
                .offset = in->offset,
                .partition = in->partition,
                .kind = (uint8_t)c->kind,
                .id_len = (uint8_t)strlen(c->chargeback_id),
                .original_len = (uint16_t)in->size,
                .id = c->chargeback_id,
                .original = in->data,
        };
}

static int chargeback_apply(struct join *j, const struct join_input *in,
                            const Fraud__Chargeback *c) {
        int64_t e = c->event_time_us, tx = c->transaction_time_us;
        bool late = join_passed(j, e + 1); /* made before the watermark */
        int r;

        clock_observe(j, e);
        r = record_load(j, c->transaction_id, strlen(c->transaction_id));
        if (r < 0)
                return r;
        if (r == 0 && join_passed(j, (tx > 0 && tx < e ? tx : e) + j->cfg.horizon_us))
                return reject_input(j, in, JOIN_REJECT_UNKNOWN_TRANSACTION, c->transaction_id,
                                    "transaction older than anything kept");
        if (r == 0)
                j->rec.tx_us = tx > 0 && tx < e ? tx : e;
        if (statement_seen(&j->rec, c->chargeback_id)) {
                j->k.chargebacks_duplicate++;
                return 0;
        }
        if (j->rec.n == FRAUD_LABELER_STATEMENTS_MAX)
                return reject_input(j, in, JOIN_REJECT_TOO_MANY_CHARGEBACKS, c->transaction_id,
                                    "more than %d chargebacks and reviews for one transaction",
                                    FRAUD_LABELER_STATEMENTS_MAX);
        statement_add(j, in, c);
        j->k.chargebacks++;
        j->k.chargebacks_held += !(j->rec.flags & REC_FEATURES);
        j->k.chargebacks_late += late;
        return record_settle(j, j->settled_us, in->tag);
}

static int join_chargeback(struct join *j, const struct join_input *in) {
        Fraud__Chargeback *c = fraud__chargeback__unpack(&j->alloc, in->size, in->data);
        int why = chargeback_check(c, in->size);
        int r;

        if (why >= 0)
                r = reject_input(j, in, (enum join_reject_reason)why,
                                 c && id_ok(c->transaction_id) ? c->transaction_id : NULL,
                                 "invalid Chargeback");
        else
                r = chargeback_apply(j, in, c);
        fraud__chargeback__free_unpacked(c, &j->alloc);
        return r;
}

int join_input(struct join *j, const struct join_input *in) {
        int r;

        if (in->kind == JOIN_FEATURES)
                r = join_features(j, in);
        else if (in->kind == JOIN_SCORE)
                r = join_score(j, in);
        else if (in->kind == JOIN_CHARGEBACK)
                r = join_chargeback(j, in);
        else
                return -EINVAL;
        fraud_arena_reset(&j->arena);
        return r < 0 ? r : clock_save(j);
}

int join_time_observe(struct join *j, int64_t event_us) {
        if (!time_ok(event_us))
                return -EINVAL;
        clock_observe(j, event_us);
        return clock_save(j);
}

/* ---- the watermark's advance ---- */

static int due_settle(struct join *j, const struct join_due *d) {
        int r;

        if (d->id_len == 0 || d->id_len > FRAUD_LABELER_ID_MAX)
                return -EBADMSG;
        r = record_load(j, d->id, d->id_len);

        if (r <= 0 || j->rec.due_us != d->due_us)
                return r < 0 ? r : 0; /* a stale entry */
        j->rec.due_us = JOIN_NONE;    /* the store took it */
        return record_settle(j, join_watermark(j), NULL);
}

int join_advance(struct join *j, size_t max) {
        int64_t wm = join_watermark(j);
        int n, r = 0;

        if (wm == INT64_MIN || max == 0)
                return 0;
        n = j->store.due_take(j->store.ctx, wm, j->due,
                              max < FRAUD_LABELER_ADVANCE_CHUNK ? max
                                                                : FRAUD_LABELER_ADVANCE_CHUNK);
        if (n < 0)
                return n;
        for (int i = 0; i < n && r >= 0; i++)
                r = due_settle(j, &j->due[i]);
        if (r >= 0 && (size_t)n < (max < FRAUD_LABELER_ADVANCE_CHUNK ? max
                                                                   : FRAUD_LABELER_ADVANCE_CHUNK))
                j->settled_us = wm; /* nothing more is due up to wm */
        if (r >= 0)
                r = clock_save(j);
        return r < 0 ? r : n;
}

/* ---- the Label on the wire ---- */

int join_label_pack(const struct join_label *l, uint8_t *buf, size_t cap) {
        Fraud__Label m = FRAUD__LABEL__INIT;
        uint8_t head[11];
        size_t n, h = 1;
        uint64_t v = l->features_size;

        m.schema_version = LABEL_SCHEMA_VERSION;
        m.transaction_id = (char *)l->transaction_id;
        m.value = (Fraud__LabelValue)l->value;
        m.status = (Fraud__LabelStatus)l->status;
        m.decision = (Fraud__Decision)l->decision;
        m.event_time_us = l->event_time_us;
        m.known_at_us = l->known_at_us;
        head[0] = (3 << 3) | 2; /* field 3, length-delimited */
        do {
                head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        n = fraud__label__get_packed_size(&m);
        if (n + h + l->features_size > cap || n + h + l->features_size > INT32_MAX)
                return -ENOBUFS;
        n = fraud__label__pack(&m, buf);
        memcpy(buf + n, head, h);
        memcpy(buf + n + h, l->features, l->features_size);
        return (int)(n + h + l->features_size);
}
