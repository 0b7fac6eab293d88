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
 *
 * A store that lends its records (record_lend, the in-memory one) is not
 * copied from: j->rec points into the stored bytes, and a change that
 * leaves everything after the fixed-size head alone (a Score, maturity,
 * a label, a new due time: the common case) rewrites the head in place,
 * with no encode and no put.  A change of the card, the features or the
 * statements (rec->reshaped) encodes the whole record into j->wbuf and
 * puts it, as with a store that copies; a new record is encoded straight
 * into the bytes the store allocates for it (record_alloc).
 *
 * A FeatureVector or a Score is read in place when it is plainly well
 * formed and valid (features_peek(), score_peek()); anything else goes
 * through protobuf-c's unpack and the checks, which alone decide what is
 * rejected.
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
#define JOIN_RECORD_HEAD    22 /* version .. due_us: the bytes rewritten in place */
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
        bool is_new;   /* not in the store yet */
        bool reshaped; /* card, features or statements changed since the load */
        uint8_t *lent; /* the stored bytes, when the store lends them */
        size_t lent_len;
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

static void record_encode_head(const struct join_record *rec, struct join_writer *w) {
        put_uint(w, JOIN_RECORD_VERSION, 1);
        put_uint(w, rec->flags, 1);
        put_uint(w, rec->value, 1);
        put_uint(w, rec->status, 1);
        put_uint(w, rec->decision, 1);
        put_uint(w, rec->n, 1);
        put_uint(w, (uint64_t)rec->tx_us, 8);
        put_uint(w, (uint64_t)rec->due_us, 8);
}

static size_t record_encode(const struct join_record *rec, uint8_t *buf, size_t cap) {
        struct join_writer w = {buf, 0, cap};

        record_encode_head(rec, &w);
        assert(w.len == JOIN_RECORD_HEAD);
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

/* The length record_encode() gives. */
static size_t record_size(const struct join_record *rec) {
        size_t n = JOIN_RECORD_HEAD + 1 + rec->card_len + 4 + rec->features_len;

        for (int i = 0; i < rec->n; i++)
                n += 25 + rec->st[i].id_len + rec->st[i].original_len;
        return n;
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
        j->rec.reshaped = true;
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
        rec->reshaped = true;
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

/* Loads the record of id into j->rec (borrowing the store's bytes when it
 * lends them): 1, or 0 with an empty new record. */
static int record_load(struct join *j, const char *id, size_t id_len) {
        uint8_t *buf = j->rbuf;
        int n = j->store.record_lend
                        ? j->store.record_lend(j->store.ctx, id, id_len, &buf)
                        : j->store.record_get(j->store.ctx, id, id_len, buf, sizeof(j->rbuf));

        memcpy(j->id, id, id_len);
        j->id[id_len] = '\0';
        /* Statements past rec.n are never read: each is written whole. */
        memset(&j->rec, 0, offsetof(struct join_record, st));
        j->rec.due_us = JOIN_NONE;
        j->rec.is_new = true;
        if (n == -ENOENT)
                return 0;
        if (n < 0)
                return n;
        j->rec.is_new = false;
        if (j->store.record_lend) {
                j->rec.lent = buf;
                j->rec.lent_len = (size_t)n;
        }
        return record_decode(buf, (size_t)n, &j->rec) < 0 ? -EBADMSG : 1;
}

/* Writes the record back: its head in place when nothing after it changed
 * in lent bytes; a new one straight into the store's bytes when it lends
 * them (nothing of it points into the store); else all of it through
 * j->wbuf and record_put. */
static int record_write(struct join *j, size_t id_len) {
        struct join_record *rec = &j->rec;
        struct join_writer w = {rec->lent, 0, JOIN_RECORD_HEAD};
        size_t len, n = 0;
        uint8_t *p;
        int r;

        if (rec->lent && !rec->reshaped) {
                assert(record_size(rec) == rec->lent_len);
                record_encode_head(rec, &w);
                return 0;
        }
        if (rec->is_new && j->store.record_alloc) {
                len = record_size(rec);
                r = j->store.record_alloc(j->store.ctx, j->id, id_len, len, &p);
                if (r >= 0)
                        n = record_encode(rec, p, len);
                assert(r < 0 || n == len);
                return r;
        }
        return j->store.record_put(j->store.ctx, j->id, id_len, j->wbuf,
                                   record_encode(rec, j->wbuf, sizeof(j->wbuf)));
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
                r = record_write(j, id_len);
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

/* ---- the light read ----
 *
 * Of a FeatureVector the join needs the id, the schema version, the
 * transaction's card_hash and event time, of a Score five small fields;
 * protobuf-c's unpack copies every field into the arena (the feature
 * values most, a packed double each).  peek_message() reads a message
 * that is plainly well formed in place and declines anything else, which
 * then goes through protobuf-c as before.  Plainly well formed: only the
 * message's own fields, each with its declared wire type (a repeated
 * double packed or not), a singular field at most once (protobuf-c would
 * keep the last, or merge a message), tags in their shortest form, varints
 * of at most 10 bytes, lengths of at most 3 bytes and within the message.
 * protobuf-c unpacks such a message with the same values: it checks no
 * UTF-8, a uint32 or an enum keeps the low 32 bits of its varint, an int64
 * all of them (bits past 64 dropped), a bool is whether any of its
 * varint's bytes has a bit set.  The peeks then take only what the checks
 * after protobuf-c would accept (ids without a NUL, so that their C strings
 * are the same), and inputs within the size limits (far below the arena's
 * limit), so every rejection still comes from protobuf-c and the checks. */

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2 };

/* What a field must be; PEEK_NONE: not a field of the message. */
enum peek_kind {
        PEEK_NONE = 0,
        PEEK_VARINT,  /* an integer, enum or bool */
        PEEK_I64,     /* a double */
        PEEK_LEN,     /* a string or a message */
        PEEK_DOUBLES, /* repeated double */
        PEEK_STRINGS, /* repeated string */
};

#define PEEK_FIELDS 21 /* field numbers 0..20: a tag of at most 2 bytes */

/* A field as read: p and len are a varint's bytes with its value v, or a
 * length-delimited field's contents. */
struct peek_field {
        uint64_t v;
        const uint8_t *p;
        size_t len;
};

/* A message as read: f[i] is set when bit i of seen is. */
struct peek_message {
        uint32_t seen;
        struct peek_field f[PEEK_FIELDS];
};

static const uint8_t peek_feature_vector[PEEK_FIELDS] = {
        [1] = PEEK_VARINT,  /* schema_version */
        [2] = PEEK_LEN,     /* transaction_id */
        [3] = PEEK_LEN,     /* transaction */
        [4] = PEEK_VARINT,  /* feature_schema_hash */
        [5] = PEEK_DOUBLES, /* values */
        [6] = PEEK_VARINT,  /* velocity_time_us */
};

static const uint8_t peek_transaction[PEEK_FIELDS] = {
        [1] = PEEK_VARINT,  [2] = PEEK_LEN,     [3] = PEEK_VARINT, [4] = PEEK_VARINT,
        [5] = PEEK_LEN,     [6] = PEEK_LEN,     [7] = PEEK_LEN,    [8] = PEEK_LEN,
        [9] = PEEK_LEN,     [10] = PEEK_LEN,    [11] = PEEK_LEN,   [12] = PEEK_VARINT,
        [13] = PEEK_LEN,    [14] = PEEK_VARINT, [15] = PEEK_LEN,   [16] = PEEK_LEN,
        [17] = PEEK_VARINT,
};

static const uint8_t peek_score[PEEK_FIELDS] = {
        [1] = PEEK_VARINT,   [2] = PEEK_LEN,     [3] = PEEK_LEN,     [4] = PEEK_VARINT,
        [5] = PEEK_VARINT,   [6] = PEEK_LEN,     [7] = PEEK_VARINT,  [8] = PEEK_I64,
        [9] = PEEK_VARINT,   [10] = PEEK_LEN,    [11] = PEEK_LEN,    [12] = PEEK_LEN,
        [13] = PEEK_STRINGS, [14] = PEEK_VARINT, [15] = PEEK_VARINT, [16] = PEEK_VARINT,
        [17] = PEEK_VARINT,  [18] = PEEK_VARINT, [19] = PEEK_VARINT, [20] = PEEK_VARINT,
};

/* A varint of at most max bytes in p[0..n): its length, 0 when none.  The
 * value as protobuf-c's parse_uint64() gives it (bits past 64 dropped). */
static size_t peek_varint(const uint8_t *p, size_t n, size_t max, uint64_t *v) {
        uint64_t x = 0;

        if (n && !(p[0] & 0x80)) { /* the common case: one byte */
                *v = p[0];
                return 1;
        }
        for (size_t i = 0; i < n && i < max; i++) {
                x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
                if (!(p[i] & 0x80)) {
                        *v = x;
                        return i + 1;
                }
        }
        return 0;
}

/* A tag in its shortest form for field numbers 0..31: its length, 0 when
 * it is not one.  (No message has a field 0.) */
static size_t peek_tag(const uint8_t *p, size_t n, unsigned *field, unsigned *wire) {
        if (n >= 1 && !(p[0] & 0x80)) {
                *field = p[0] >> 3;
                *wire = p[0] & 7;
                return 1;
        }
        if (n >= 2 && p[1] == 1) {
                *field = 16 | ((p[0] >> 3) & 0xf);
                *wire = p[0] & 7;
                return 2;
        }
        return 0;
}

/* The length of the field of that kind and wire type at p[0..n), its
 * contents in *f; 0 when it is not one. */
static size_t peek_field(const uint8_t *p, size_t n, enum peek_kind kind, unsigned wire,
                         struct peek_field *f) {
        uint64_t v = 0;
        size_t k;

        if (wire == WIRE_VARINT && kind == PEEK_VARINT) {
                k = peek_varint(p, n, 10, &v);
                *f = (struct peek_field){v, p, k};
                return k;
        }
        if (wire == WIRE_I64 && (kind == PEEK_I64 || kind == PEEK_DOUBLES)) {
                *f = (struct peek_field){0, p, 8};
                return n >= 8 ? 8 : 0;
        }
        if (wire != WIRE_LEN || (kind != PEEK_LEN && kind != PEEK_DOUBLES && kind != PEEK_STRINGS))
                return 0;
        k = peek_varint(p, n, 3, &v);
        if (!k || v > n - k || (kind == PEEK_DOUBLES && v % 8))
                return 0;
        *f = (struct peek_field){0, p + k, v};
        return k + v;
}

/* Reads the message in p[0..n) as kinds[] says into *m.  false when it
 * is not plainly well formed. */
static bool peek_message(const uint8_t *p, size_t n, const uint8_t *kinds, struct peek_message *m) {
        uint32_t seen = 0;

        for (size_t at = 0; at < n;) {
                struct peek_field f;
                unsigned field, wire;
                size_t k = peek_tag(p + at, n - at, &field, &wire);
                enum peek_kind kind = k && field < PEEK_FIELDS ? kinds[field] : PEEK_NONE;
                bool repeated = kind == PEEK_DOUBLES || kind == PEEK_STRINGS;

                if (kind == PEEK_NONE || (!repeated && seen & (1u << field)))
                        return false;
                at += k;
                k = peek_field(p + at, n - at, kind, wire, &f);
                if (!k)
                        return false;
                if (!repeated)
                        m->f[field] = f;
                seen |= 1u << field;
                at += k;
        }
        m->seen = seen;
        return true;
}

/* A singular field of a message read; when absent, as protobuf-c's
 * default: 0, or the empty string. */
static struct peek_field peek_get(const struct peek_message *m, unsigned field) {
        return m->seen & (1u << field) ? m->f[field]
                                       : (struct peek_field){0, (const uint8_t *)"", 0};
}

/* A string of min..FRAUD_LABELER_ID_MAX bytes without a NUL: protobuf-c's
 * C string of it has the same bytes and length. */
static bool peek_string(const struct peek_field *f, size_t min) {
        return f->len >= min && f->len <= FRAUD_LABELER_ID_MAX && !memchr(f->p, 0, f->len);
}

/* A bool's varint as protobuf-c reads it: set when any bit of it is. */
static bool peek_bool(const struct peek_field *f) {
        for (size_t i = 0; i < f->len; i++)
                if (f->p[i] & 0x7f)
                        return true;
        return false;
}

/* ---- inputs ---- */

static bool id_ok(const char *id) {
        size_t n = id ? strlen(id) : 0;

        return n > 0 && n <= FRAUD_LABELER_ID_MAX;
}

static bool time_ok(int64_t t) {
        return t > 0 && t <= FRAUD_LABELER_TIME_US_MAX;
}

/* An id read in place, NUL-terminated. */
static const char *id_copy(const struct peek_field *f, char id[FRAUD_LABELER_ID_MAX + 1]) {
        memcpy(id, f->p, f->len);
        id[f->len] = '\0';
        return id;
}

/* What the join keeps of a valid FeatureVector (borrowed from the input
 * or from its unpacked message). */
struct join_features {
        const char *id; /* NUL-terminated */
        const char *card;
        size_t card_len;
        int64_t event_us;
};

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

/* Reads a FeatureVector in place when it is plainly well formed and
 * features_check() would accept it: true with *out filled (the id in
 * id[]), false to leave it to protobuf-c. */
static bool features_peek(const struct join *j, const struct join_input *in,
                          char id[FRAUD_LABELER_ID_MAX + 1], struct join_features *out) {
        struct peek_message fv, tx;
        struct peek_field tx_id, card, event;

        if (in->size > j->cfg.features_bytes_max ||
            !peek_message(in->data, in->size, peek_feature_vector, &fv) ||
            (uint32_t)peek_get(&fv, 1).v != FEATURE_VECTOR_SCHEMA_VERSION || !(fv.seen & (1u << 3)))
                return false;
        tx_id = peek_get(&fv, 2);
        if (!peek_string(&tx_id, 1))
                return false;
        if (j->store.record_prefetch) /* its record comes while the transaction is read */
                j->store.record_prefetch(j->store.ctx, (const char *)tx_id.p, tx_id.len);
        if (!peek_message(fv.f[3].p, fv.f[3].len, peek_transaction, &tx))
                return false;
        card = peek_get(&tx, 6);
        event = peek_get(&tx, 3);
        if (!peek_string(&card, 0) || !time_ok((int64_t)event.v))
                return false;
        *out = (struct join_features){id_copy(&tx_id, id), (const char *)card.p, card.len,
                                      (int64_t)event.v};
        return true;
}

static int features_apply(struct join *j, const struct join_input *in,
                          const struct join_features *f) {
        int r;

        clock_observe(j, f->event_us);
        if (join_passed(j, f->event_us + j->cfg.horizon_us))
                return reject_input(j, in, JOIN_REJECT_TOO_OLD, f->id,
                                    "transaction older than the horizon behind the watermark");
        r = record_load(j, f->id, strlen(f->id));
        if (r < 0)
                return r;
        if (j->rec.flags & REC_FEATURES) {
                j->k.features_duplicate++;
                return 0;
        }
        j->rec.flags |= REC_FEATURES;
        j->rec.reshaped = true;
        j->rec.tx_us = f->event_us;
        j->rec.card = f->card;
        j->rec.card_len = (uint8_t)f->card_len;
        j->rec.features = in->data;
        j->rec.features_len = (uint32_t)in->size;
        j->k.features++;
        return record_settle(j, j->settled_us, in->tag);
}

static int join_features(struct join *j, const struct join_input *in) {
        char id[FRAUD_LABELER_ID_MAX + 1];
        struct join_features f;
        Fraud__FeatureVector *fv;
        int why;

        if (features_peek(j, in, id, &f))
                return features_apply(j, in, &f);
        fv = fraud__feature_vector__unpack(&j->alloc, in->size, in->data);
        why = features_check(j, fv, in->size);
        if (why >= 0)
                return reject_input(j, in, (enum join_reject_reason)why,
                                    fv && id_ok(fv->transaction_id) ? fv->transaction_id : NULL,
                                    "invalid FeatureVector");
        f = (struct join_features){fv->transaction_id, fv->transaction->card_hash,
                                   strlen(fv->transaction->card_hash),
                                   fv->transaction->event_time_us};
        return features_apply(j, in, &f); /* fv goes with the arena's reset */
}

/* What the join keeps of a valid Score. */
struct join_score {
        const char *id; /* NUL-terminated */
        int64_t event_us;
        int decision;
};

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

/* As features_peek(), for a Score and score_check(). */
static bool score_peek(const struct join_input *in, char id[FRAUD_LABELER_ID_MAX + 1],
                       struct join_score *out) {
        struct peek_message s;
        struct peek_field tx_id, shadow;
        int64_t event_us;
        int32_t decision;

        /* A Score is far smaller; a larger one is left to protobuf-c. */
        if (in->size > FRAUD_LABELER_FEATURES_BYTES_MAX ||
            !peek_message(in->data, in->size, peek_score, &s))
                return false;
        tx_id = peek_get(&s, 2);
        shadow = peek_get(&s, 15);
        event_us = (int64_t)peek_get(&s, 4).v;
        decision = (int32_t)(uint32_t)peek_get(&s, 7).v;
        if ((uint32_t)peek_get(&s, 1).v != SCORE_SCHEMA_VERSION || !peek_string(&tx_id, 1) ||
            !time_ok(event_us) ||
            (decision != FRAUD__DECISION__DECISION_ALLOW &&
             decision != FRAUD__DECISION__DECISION_REVIEW &&
             decision != FRAUD__DECISION__DECISION_BLOCK) ||
            peek_bool(&shadow))
                return false;
        *out = (struct join_score){id_copy(&tx_id, id), event_us, decision};
        return true;
}

static int score_apply(struct join *j, const struct join_input *in, const struct join_score *s) {
        int r;

        clock_observe(j, s->event_us);
        r = record_load(j, s->id, strlen(s->id));
        if (r < 0)
                return r;
        if (r == 0 && join_passed(j, s->event_us + j->cfg.horizon_us)) {
                j->k.scores_late++;
                return 0;
        }
        if (r == 0)
                j->rec.tx_us = s->event_us;
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
        char id[FRAUD_LABELER_ID_MAX + 1];
        struct join_score sc;
        Fraud__Score *s;
        int why;

        if (score_peek(in, id, &sc))
                return score_apply(j, in, &sc);
        s = fraud__score__unpack(&j->alloc, in->size, in->data);
        why = score_check(s);
        if (why >= 0)
                return reject_input(j, in, (enum join_reject_reason)why,
                                    s && id_ok(s->transaction_id) ? s->transaction_id : NULL,
                                    "invalid Score");
        sc = (struct join_score){s->transaction_id, s->event_time_us, s->decision};
        return score_apply(j, in, &sc); /* s goes with the arena's reset */
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

        j->rec.reshaped = true;
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
        return r; /* c goes with the arena's reset */
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
