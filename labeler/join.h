/* join.h: the labeler's idea: features, scores and chargebacks joined by
 * transaction id, on event time, into Labels that say when they became
 * known.  Pure: no I/O, no clock, no Kafka; the state lives behind a store
 * interface the caller provides (labeler/dbstore.h over RocksDB for the
 * daemon, labeler/memstore.h in memory for tests and the backtest), the
 * outputs go to a sink the caller provides.  Deterministic: the same
 * inputs in the same order through the same store content give the same
 * outputs, byte for byte.
 *
 * Inputs (join_input(), the bytes as received on the topic):
 *   FeatureVector  (tx.features)  the row the scorer saw: opens the
 *                  transaction's record at its event time t.
 *   Score          (scores)       the decision taken; the first one counts.
 *   Chargeback     (chargebacks)  a statement made at its event time e:
 *                  CHARGEBACK and REVIEW_FRAUD say fraud, REVIEW_LEGIT
 *                  says legitimate.
 *
 * Time.  The watermark is the latest event time seen (of any input) minus
 * the allowed lateness; it only moves forward and is kept in the store.
 * Every decision is taken on the watermark, never on arrival: a record's
 * milestones are applied in event-time order once the watermark reaches
 * them, so input that is at most `lateness` late gives the same labels
 * as input in order, whatever the interleaving of topics and partitions.
 * Milestones of a transaction at t, with M = t + maturity and
 * H = t + horizon (at equal times in this order):
 *   statement at e (each held until the watermark reaches max(e, t)):
 *     fraud: nothing emitted yet -> FRAUD CONFIRMED, known_at e;
 *            a legit or unknown label emitted -> FRAUD CORRECTED, known_at e;
 *            already fraud -> counted (chargebacks_repeated), ignored.
 *     legit: nothing emitted yet, or only a provisional label ->
 *            LEGIT CONFIRMED, known_at e; otherwise counted (reviews_ignored).
 *   M, if nothing was emitted yet: PROVISIONAL, value LEGIT, or UNKNOWN when
 *     the decision was BLOCK (a blocked payment never gets a chargeback),
 *     known_at M.
 *   H: if the last label is provisional, CONFIRMED, value LEGIT (UNKNOWN
 *     when the decision is BLOCK), known_at H; statements still held
 *     (made after H) go to dlq (after_horizon); the record is removed.
 * So a transaction's labels are one of: FRAUD CONFIRMED; PROVISIONAL then
 * CONFIRMED; PROVISIONAL then CORRECTED; LEGIT CONFIRMED (review) possibly
 * after PROVISIONAL, possibly followed by FRAUD CORRECTED.  A label without
 * a Score by then carries DECISION_UNSPECIFIED (counted,
 * labels_undecided) and its value is decided as for an allowed payment.
 *
 * The mess.  A statement or a Score whose transaction has not arrived
 * opens a record that holds it until the FeatureVector arrives or the
 * horizon of the transaction (its transaction_time_us, else the event time
 * of the statement or score) passes; then held statements go to dlq
 * (unknown_transaction) and a held Score is counted (scores_orphaned).  A
 * statement whose transaction is older than anything kept (its horizon is
 * behind the watermark and no record exists) goes to dlq at once
 * (unknown_transaction); a FeatureVector that old too (too_old); a Score
 * that old is counted (scores_late).  A statement with a chargeback_id
 * already seen for that transaction is counted (chargebacks_duplicate) and
 * ignored, as are a second FeatureVector (features_duplicate) and a second
 * Score (scores_duplicate).  Undecodable or invalid input goes to dlq with
 * a stable reason code (join_reject_code()), counted per reason, never a
 * crash; the original bytes go with it.
 *
 * Re-sent output.  A record and its due entry are written in the same
 * store operations as the input that changed them; the daemon commits them
 * with the consumed offsets in one RocksDB batch after the labels were
 * delivered.  After a crash the stage resumes at the committed state and
 * offsets and emits the same labels again (same transaction id, status,
 * value, known_at and bytes, for input within the lateness): consumers
 * de-duplicate by transaction id + status + value.
 *
 * Store.  Records are opaque bytes keyed by transaction id (encoded here,
 * at most FRAUD_LABELER_RECORD_BYTES_MAX); the due index holds one entry
 * (due time, transaction id) per record, the time of its next milestone,
 * so join_advance() finds what matured without scanning every record.  A
 * store may delete due entries lazily: the core checks every taken entry
 * against its record and skips stale ones.  The clock (latest event time
 * and the number of records) is kept in the store too.
 *
 * Ownership: inputs are borrowed for the call; outputs passed to the sink
 * are borrowed for the callback.  A sink or store error is returned as is
 * (the caller stops; the state it has not committed is lost, which is
 * safe).  A corrupt record is -EBADMSG.  One thread.
 */
#ifndef FRAUD_LABELER_JOIN_H
#define FRAUD_LABELER_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

_Static_assert(FRAUD_LABELER_ID_MAX <= 255, "an id's length fits a byte");

enum join_kind {
        JOIN_FEATURES = 0, /* FeatureVector from tx.features */
        JOIN_SCORE,        /* Score from scores */
        JOIN_CHARGEBACK,   /* Chargeback from chargebacks */
        JOIN_KINDS,
};

/* Why an input went to dlq; join_reject_code() gives the stable code. */
enum join_reject_reason {
        JOIN_REJECT_BAD_PROTOBUF = 0,
        JOIN_REJECT_BAD_SCHEMA_VERSION,
        JOIN_REJECT_MISSING_TRANSACTION,
        JOIN_REJECT_BAD_ID,
        JOIN_REJECT_BAD_TIME,
        JOIN_REJECT_BAD_KIND,
        JOIN_REJECT_BAD_DECISION,
        JOIN_REJECT_SHADOW_SCORE,
        JOIN_REJECT_TOO_LARGE,
        JOIN_REJECT_TOO_OLD,
        JOIN_REJECT_TOO_MANY_CHARGEBACKS,
        JOIN_REJECT_UNKNOWN_TRANSACTION,
        JOIN_REJECT_AFTER_HORIZON,
        JOIN_REJECT_REASONS,
};

struct join_config {
        int64_t maturity_us;       /* > 0 */
        int64_t horizon_us;        /* > maturity_us */
        int64_t lateness_us;       /* >= 0 */
        size_t features_bytes_max; /* 1..FRAUD_LABELER_FEATURES_BYTES_MAX */
};

/* One input, borrowed for the call. */
struct join_input {
        enum join_kind kind;
        const void *data; /* the message value as received */
        size_t size;
        int32_t partition; /* where it came from, kept for dlq */
        int64_t offset;
        void *tag; /* handed back with every output this input causes */
};

/* One label, borrowed for the sink's callback.  Values are the proto
 * enums (Fraud__LabelValue, Fraud__LabelStatus, Fraud__Decision). */
struct join_label {
        const char *transaction_id;
        const char *card_hash;   /* "" when the transaction had none */
        const uint8_t *features; /* the packed FeatureVector as received */
        size_t features_size;
        int value, status, decision;
        int64_t event_time_us; /* of the transaction */
        int64_t known_at_us;
};

/* One rejection, borrowed for the sink's callback. */
struct join_reject {
        enum join_reject_reason reason;
        const char *detail;         /* for a human */
        enum join_kind kind;        /* the topic it came from */
        const char *transaction_id; /* "" when unknown */
        const void *original;       /* the bytes as received */
        size_t original_size;
        int32_t partition;
        int64_t offset;
};

/* Where outputs go.  tag is the input's (NULL for outputs of
 * join_advance()).  A negative return stops the call with that error. */
struct join_sink {
        int (*label)(void *ctx, const struct join_label *l, void *tag);
        int (*reject)(void *ctx, const struct join_reject *r, void *tag);
        void *ctx;
};

/* A due entry: the record of transaction id has a milestone at due_us. */
struct join_due {
        int64_t due_us;
        uint8_t id_len;
        char id[FRAUD_LABELER_ID_MAX];
};

/* The state store.  Every function returns >= 0 on success or -errno. */
struct join_store {
        /* Copies the record of id into buf (cap bytes): its length, or -ENOENT. */
        int (*record_get)(void *ctx, const char *id, size_t id_len, void *buf, size_t cap);
        /* Optional (NULL: the core copies with record_get and writes back
         * with record_put).  Lends the stored bytes of id's record instead:
         * their length, or -ENOENT.  They stay valid until the next
         * record_put, record_alloc or record_del, and the core may change them in place
         * without changing their length; such a change needs no
         * record_put. */
        int (*record_lend)(void *ctx, const char *id, size_t id_len, uint8_t **out);
        /* Optional: a hint that the record of id is wanted next, given
         * while the rest of its input is read. */
        void (*record_prefetch)(void *ctx, const char *id, size_t id_len);
        int (*record_put)(void *ctx, const char *id, size_t id_len, const void *v, size_t len);
        /* Optional: as record_put() of len bytes that the core then writes
         * at *out (lent until its next store call), instead of copying. */
        int (*record_alloc)(void *ctx, const char *id, size_t id_len, size_t len, uint8_t **out);
        int (*record_del)(void *ctx, const char *id, size_t id_len);
        int (*due_put)(void *ctx, int64_t due_us, const char *id, size_t id_len);
        /* May be lazy (a no-op): stale entries are skipped by the core. */
        int (*due_del)(void *ctx, int64_t due_us, const char *id, size_t id_len);
        /* Removes and returns up to max entries with due_us <= upto_us,
         * earliest first (ties by id): their count. */
        int (*due_take)(void *ctx, int64_t upto_us, struct join_due *out, size_t max);
        /* The clock: 16 bytes, or -ENOENT before the first put. */
        int (*clock_get)(void *ctx, void *buf, size_t cap);
        int (*clock_put)(void *ctx, const void *v, size_t len);
        void *ctx;
};

struct join_counters {
        uint64_t features, scores, chargebacks; /* accepted inputs */
        uint64_t features_duplicate, scores_duplicate, scores_late, scores_orphaned;
        uint64_t scores_after_label;    /* a Score after the first label (it still counts) */
        uint64_t chargebacks_duplicate; /* same chargeback_id again */
        uint64_t chargebacks_repeated;  /* fraud on a transaction already labelled fraud */
        uint64_t chargebacks_held;      /* arrived before their transaction */
        uint64_t chargebacks_late;      /* made before the watermark at arrival */
        uint64_t reviews_ignored;       /* legit after a fraud or confirmed label */
        uint64_t labels_provisional, labels_confirmed_legit, labels_confirmed_unknown;
        uint64_t labels_confirmed_fraud, labels_corrected;
        uint64_t labels_undecided; /* any label with DECISION_UNSPECIFIED */
        uint64_t records_finished; /* removed at their horizon */
        uint64_t rejected[JOIN_REJECT_REASONS];
};

struct join;

/* Checks cfg, reads the clock from store.  store and sink are copied;
 * their ctx must outlive j.  -EINVAL for a bad config, -ENOMEM, or the
 * store's error. */
int join_new(const struct join_config *cfg, const struct join_store *store,
             const struct join_sink *sink, struct join **out);
/* join_free(NULL) is a no-op. */
void join_free(struct join *j);

/* Applies one input: decodes and validates it (rejecting what is bad),
 * raises the watermark, updates the transaction's record and settles it:
 * applies its milestones up to where join_advance() last found nothing
 * more due (at most the watermark before this input).  Milestones beyond
 * are left to join_advance(), which takes every record in milestone order,
 * so labels leave in the order of their known_at: a label is followed by
 * an earlier one only when an input arrives later than the watermark (more
 * than the lateness late).  The trainer's daily cutoff relies on it.
 * 0 or -errno. */
int join_input(struct join *j, const struct join_input *in);

/* Raises the latest event time seen to event_us without an input (end of
 * a replay, a backtest's day boundary).  0, or the store's error. */
int join_time_observe(struct join *j, int64_t event_us);

/* Settles up to max (at most FRAUD_LABELER_ADVANCE_CHUNK) records whose
 * next milestone is at or behind the watermark, earliest first.  Returns
 * the number of due entries taken (stale ones included): fewer than asked
 * means nothing more is due.  -errno on a store or sink error. */
int join_advance(struct join *j, size_t max);

/* The watermark; INT64_MIN before the first event. */
int64_t join_watermark(const struct join *j);
/* Records in the store (open transactions and held inputs). */
uint64_t join_records(const struct join *j);
void join_counters(const struct join *j, struct join_counters *out);
/* "bad_protobuf", "too_old", ... */
const char *join_reject_code(enum join_reject_reason r);

/* Packs l as a fraud.Label into buf: the FeatureVector is embedded byte for
 * byte as received (field 3, written last; protobuf readers accept fields
 * in any order).  Returns the size, or -ENOBUFS when cap is too small
 * (FRAUD_LABELER_LABEL_OVERHEAD_BYTES + features_size always suffices). */
int join_label_pack(const struct join_label *l, uint8_t *buf, size_t cap);

#endif
