/* backtest.c: see backtest.h.
 *
 * Design.  struct engine holds every stage's core state: the rules and the
 * serving model (scorer), the join and its memory store (labeler), the
 * labelled rows, the schedule marks and the featureset (trainer).
 * tools/offline.c reads the files and runs ingest's and velocity's cores,
 * calling back at each day barrier (engine_day) and for each payment with
 * its vector (engine_row).  The labeler's sink feeds the trainer's rows
 * (rows_add), exactly what fraud-trainer does with each Label; after
 * every labeler input the trainer trains the days that became due.
 *
 * The trainer's rows mirror trainer/labelstore.c: keyed by transaction id,
 * a row keeps the features of its first label and gains one version per
 * later label (trainer/dataset.h); selection offers the rows of a window
 * in (event time, id) order; eviction after each day drops rows older
 * than the window and its margin.  Rows are kept compact (their own
 * values only) and expanded into one struct dataset_row when offered.
 *
 * Ownership: the engine owns everything it allocates; the options and
 * the settings are borrowed.  Every path frees through engine_release().
 */
#include "tools/backtest.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "labeler/join.h"
#include "labeler/labeler.h"
#include "labeler/memstore.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/score.pb-c.h"
#include "scorer/rulebook.h"
#include "scorer/serving.h"
#include "trainer/registry.h"
#include "trainer/schedule.h"

#define BACKTEST_ROWS_FIRST   (1 << 16) /* row slots before the first growth */
#define BACKTEST_PACK_BYTES   (1 << 16) /* one packed FeatureVector, Score or Chargeback */
#define BACKTEST_RECORDS_MAX  FRAUD_LABELER_MEMORY_RECORDS_MAX
#define BACKTEST_PROGRESS_ROWS 65536 /* lines between two progress calls */
#define BACKTEST_BATCH        256   /* payments decided together (<= FRAUD_SCORER_BATCH_MAX) */
#define BACKTEST_STRINGS      1024  /* bytes of one payment's copied strings */

_Static_assert(BACKTEST_BATCH <= FRAUD_SCORER_BATCH_MAX, "a batch fits the model's scratch");

/* The most a pending payment's packed FeatureVector can take: its strings
 * (the transaction id twice), its values, and at most 11 bytes of tag and
 * varint for each of the vector's and the transaction's other fields. */
#define BACKTEST_FV_BYTES_MAX (2 * BACKTEST_STRINGS + FRAUD_FEATURESET_FEATURES_MAX * 8 + 64 * 11)
_Static_assert(BACKTEST_FV_BYTES_MAX <= BACKTEST_PACK_BYTES, "a vector packs without a size check");

/* A payment waiting in the batch: its transaction and vector, copied. */
struct pending {
        Fraud__Transaction tx;
        Fraud__FeatureVector fv;
        char strings[BACKTEST_STRINGS]; /* tx's strings */
        char scenario[32];
        int is_fraud;
        size_t line;
        double values[]; /* the featureset's n */
};

/* A labelled payment, as the trainer keeps it. */
struct brow {
        char *tx_id; /* in the same allocation, after the values */
        uint64_t id_hash;
        int64_t event_time_us;
        uint64_t card, schema_hash;
        uint16_t n_values, n_versions;
        struct dataset_version versions[FRAUD_TRAINER_LABEL_VERSIONS_MAX];
        double values[]; /* n_values */
};

struct engine {
        const struct backtest_options *o;
        struct backtest_counts *k;
        char *err;
        size_t err_size;
        /* scorer */
        struct decide_config decide;
        struct rulebook *rules;
        uint64_t rules_schema_hash;
        struct serving *model;
        /* labeler */
        struct memstore *mem;
        struct join *join;
        int64_t now_us; /* event time of the input being taken */
        /* trainer */
        struct fraud_featureset fs;
        struct schedule_config sched;
        struct schedule_marks marks;
        struct brow **rows; /* n_rows used of cap_rows */
        size_t n_rows, cap_rows;
        size_t *index; /* open addressing over rows by id hash; SIZE_MAX: free */
        size_t index_cap;
        struct dataset_row scratch; /* one row expanded for dataset_table_offer() */
        uint64_t days_due;          /* days the schedule made due, for the cadence */
        /* the batch the scorer decides together */
        struct pending **batch; /* BACKTEST_BATCH */
        size_t n_batch;
        struct decide_tx *dtx;
        struct decide_result *res;
        /* buffers */
        uint8_t *pack;
};

static int fail(struct engine *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct engine *e, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(e->err, e->err_size, fmt, ap);
        va_end(ap);
        return r;
}

static uint64_t mono_ns(void) {
        return (uint64_t)fraud_time_mono_ns();
}

static uint64_t cpu_ns(void) {
        return (uint64_t)fraud_time_cpu_ns();
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "packed doubles are read in place (fv_scan)");

/* ---- the trainer's rows ---- */

static size_t index_find(const struct engine *e, const char *id, uint64_t h) {
        size_t mask = e->index_cap - 1;

        for (size_t i = h & mask;; i = (i + 1) & mask) {
                size_t at = e->index[i];

                if (at == SIZE_MAX || (e->rows[at]->id_hash == h && strcmp(e->rows[at]->tx_id, id) == 0))
                        return i;
        }
}

/* Rebuilds the index for cap slots (a power of two, > 2 * rows). */
static int index_rebuild(struct engine *e, size_t cap) {
        size_t *idx = malloc(cap * sizeof(*idx));

        if (!idx)
                return -ENOMEM;
        for (size_t i = 0; i < cap; i++)
                idx[i] = SIZE_MAX;
        free(e->index);
        e->index = idx;
        e->index_cap = cap;
        for (size_t r = 0; r < e->n_rows; r++)
                e->index[index_find(e, e->rows[r]->tx_id, e->rows[r]->id_hash)] = r;
        return 0;
}

static int rows_reserve(struct engine *e) {
        if (e->n_rows == e->cap_rows) {
                size_t cap = e->cap_rows ? 2 * e->cap_rows : BACKTEST_ROWS_FIRST;
                void *p = realloc(e->rows, cap * sizeof(*e->rows));

                if (!p)
                        return -ENOMEM;
                e->rows = p;
                e->cap_rows = cap;
        }
        if (2 * (e->n_rows + 1) > e->index_cap)
                return index_rebuild(e, e->index_cap ? 2 * e->index_cap : 2 * BACKTEST_ROWS_FIRST);
        return 0;
}

/* The schema hash (field 4) and the values (field 5, packed doubles) of a
 * packed FeatureVector, read in place: what the trainer keeps of it.  The
 * rest is skipped by wire type.  0, or -EBADMSG. */
static int fv_scan(const uint8_t *p, size_t n, uint64_t *hash, const uint8_t **values,
                   size_t *n_values) {
        const uint8_t *end = p + n;

        *values = NULL;
        *n_values = 0;
        while (p < end) {
                uint64_t key = 0, v = 0;
                int shift = 0;

                while (p < end && shift < 64) { /* the key */
                        key |= (uint64_t)(*p & 0x7f) << shift;
                        shift += 7;
                        if (!(*p++ & 0x80))
                                break;
                }
                if ((key & 7) == 0 || (key & 7) == 2) { /* a varint, or a length */
                        for (shift = 0; p < end && shift < 64; shift += 7) {
                                v |= (uint64_t)(*p & 0x7f) << shift;
                                if (!(*p++ & 0x80))
                                        break;
                        }
                }
                if ((key & 7) == 0 && key >> 3 == 4)
                        *hash = v;
                else if ((key & 7) == 2 && (size_t)(end - p) < v)
                        return -EBADMSG;
                else if ((key & 7) == 2 && key >> 3 == 5 && v % 8 == 0)
                        *values = p, *n_values = (size_t)v / 8;
                if ((key & 7) == 2)
                        p += v;
                else if ((key & 7) == 1 || (key & 7) == 5)
                        p += (key & 7) == 1 ? 8 : 4;
                else if ((key & 7) != 0)
                        return -EBADMSG;
        }
        return p == end ? 0 : -EBADMSG;
}

/* A row for the label, its id stored after its values.  Without values
 * (keep_values false: the run never trains) the row still keeps the
 * label's versions, so labels are counted and deduplicated as when it
 * trains, without holding a copy of every vector that no round reads. */
static struct brow *brow_new(const struct join_label *l, uint64_t h, bool keep_values) {
        size_t id_len = strlen(l->transaction_id) + 1, n_values, n_kept;
        const uint8_t *values;
        uint64_t hash = 0;
        struct brow *b;

        if (fv_scan(l->features, l->features_size, &hash, &values, &n_values) < 0 ||
            n_values == 0 || n_values > FRAUD_FEATURESET_FEATURES_MAX)
                return NULL;
        n_kept = keep_values ? n_values : 0;
        if (!(b = malloc(sizeof(*b) + n_kept * sizeof(double) + id_len)))
                return NULL;
        b->tx_id = (char *)(b->values + n_kept);
        memcpy(b->tx_id, l->transaction_id, id_len);
        b->id_hash = h;
        b->event_time_us = l->event_time_us;
        b->card = fraud_hash_fnv1a_str(l->card_hash);
        b->schema_hash = hash;
        b->n_values = (uint16_t)n_kept;
        b->n_versions = 0;
        memcpy(b->values, values, n_kept * sizeof(double)); /* little-endian IEEE, as packed */
        return b;
}

/* The label's version into its row (created with the label's features when
 * new): 0 added, 1 duplicate, -E2BIG versions full, -EBADMSG a label the
 * trainer would refuse, -ENOMEM. */
static int rows_add(struct engine *e, const struct join_label *l) {
        const struct dataset_version v = {.known_at_us = l->known_at_us,
                                          .value = (uint8_t)l->value,
                                          .status = (uint8_t)l->status};
        uint64_t h = fraud_hash_fnv1a_str(l->transaction_id);
        struct brow *b;
        size_t slot;
        int r;

        if ((r = rows_reserve(e)) < 0)
                return r;
        slot = index_find(e, l->transaction_id, h);
        if (e->index[slot] != SIZE_MAX) {
                b = e->rows[e->index[slot]];
                for (size_t i = 0; i < b->n_versions; i++)
                        if (b->versions[i].value == v.value && b->versions[i].status == v.status)
                                return 1;
                if (b->n_versions == FRAUD_TRAINER_LABEL_VERSIONS_MAX)
                        return -E2BIG;
                b->versions[b->n_versions++] = v;
                return 0;
        }
        if (!l->card_hash[0] || !(b = brow_new(l, h, e->o->retrain_every_days > 0)))
                return -EBADMSG;
        b->versions[b->n_versions++] = v;
        e->index[slot] = e->n_rows;
        e->rows[e->n_rows++] = b;
        return 0;
}

/* Drops the rows older than before_us (labelstore_evict). */
static int rows_evict(struct engine *e, int64_t before_us) {
        size_t kept = 0;

        for (size_t i = 0; i < e->n_rows; i++) {
                if (e->rows[i]->event_time_us < before_us) {
                        free(e->rows[i]);
                } else {
                        e->rows[kept++] = e->rows[i];
                }
        }
        if (kept == e->n_rows)
                return 0;
        e->n_rows = kept;
        return index_rebuild(e, e->index_cap);
}

static int brow_by_key(const void *a, const void *b) {
        const struct brow *x = *(const struct brow *const *)a, *y = *(const struct brow *const *)b;

        if (x->event_time_us != y->event_time_us)
                return x->event_time_us < y->event_time_us ? -1 : 1;
        return strcmp(x->tx_id, y->tx_id);
}

/* daily.h's select: the window's rows in (event time, id) order. */
static int rows_select(void *ctx, const struct dataset_window *w, struct dataset_table *t,
                       char *err, size_t err_size) {
        struct engine *e = ctx;
        struct brow **pick = malloc((e->n_rows + 1) * sizeof(*pick));
        size_t n = 0;
        int r = 0;

        if (!pick) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < e->n_rows; i++)
                if (e->rows[i]->event_time_us >= w->start_us &&
                    e->rows[i]->event_time_us < w->end_us)
                        pick[n++] = e->rows[i];
        qsort(pick, n, sizeof(*pick), brow_by_key);
        for (size_t i = 0; i < n && r >= 0; i++) {
                struct dataset_row *d = &e->scratch;
                const struct brow *b = pick[i];

                snprintf(d->tx_id, sizeof(d->tx_id), "%s", b->tx_id);
                d->event_time_us = b->event_time_us;
                d->card = b->card;
                d->schema_hash = b->schema_hash;
                d->n_values = b->n_values;
                memcpy(d->values, b->values, b->n_values * sizeof(double));
                d->n_versions = b->n_versions;
                memcpy(d->versions, b->versions, b->n_versions * sizeof(b->versions[0]));
                r = dataset_table_offer(t, w, d);
        }
        free(pick);
        return r < 0 ? r : 0;
}

/* ---- the scorer's model ---- */

/* Compiles the rules against names (what fraud-scorer does when a model
 * brings its features); a failure keeps the rules as they were. */
static void rules_schema_apply(struct engine *e, const char *const *names, size_t n) {
        char why[FRAUD_SCORER_ERR_MAX];
        uint64_t hash = fraud_featureset_hash(names, n);

        if (!e->rules || hash == e->rules_schema_hash)
                return;
        if (rulebook_schema_set(e->rules, names, n, why, sizeof(why)) < 0) {
                if (e->o->diag)
                        fprintf(e->o->diag, "rules do not compile against the model's features, "
                                            "previous rules kept: %s\n",
                                why);
                return;
        }
        e->rules_schema_hash = hash;
}

/* Loads dir as the serving champion (fraud-scorer's model_install). */
static int model_install(struct engine *e, const char *dir) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];
        struct serving *m = NULL;
        char why[FRAUD_SCORER_ERR_MAX];
        int r = serving_load(dir, (int)e->o->settings->scorer.gbdt_threads, &m, why, sizeof(why));

        if (r == 0 && m->meta.feature_schema_hash != e->fs.hash) {
                snprintf(why, sizeof(why), "%s: feature schema does not match the vectors'", dir);
                serving_free(m);
                r = -EINVAL;
        }
        if (r < 0 && !e->model && e->k->scored == 0) /* the starting model: fatal */
                return fail(e, r, "%s", why);
        if (r < 0) {
                e->k->model_load_failures++;
                if (e->o->diag)
                        fprintf(e->o->diag, "model refused, current kept: %s\n", why);
                return 0;
        }
        serving_free(e->model);
        e->model = m;
        for (size_t i = 0; i < m->meta.n_features; i++)
                names[i] = m->meta.feature_names[i];
        rules_schema_apply(e, names, m->meta.n_features);
        return 0;
}

/* ---- the trainer ---- */

/* Whether the cadence trains the nth due day (1-based). */
static bool cadence_trains(const struct engine *e, uint64_t nth) {
        int every = e->o->retrain_every_days;

        return every > 0 && (nth - 1) % (uint64_t)every == 0;
}

/* One due day: trained (or skipped by the cadence), then marked done and
 * the rows evicted, as fraud-trainer's trainer_day() does. */
static int trainer_day(struct engine *e, int64_t cutoff_us) {
        const struct fraud_settings_trainer *c = &e->o->settings->trainer;
        const struct daily_rows rows = {.select = rows_select, .ctx = e};
        struct daily_result res = {.outcome = DAILY_SKIPPED};
        uint64_t t0 = mono_ns(), c0 = cpu_ns();
        char dir[PATH_MAX];
        int r = 0;

        if (cadence_trains(e, ++e->days_due)) {
                r = daily_run(e->o->settings, &e->fs, &rows, cutoff_us, &res, e->err, e->err_size);
                if (r < 0)
                        return r;
                e->k->rounds += res.outcome == DAILY_PROMOTED || res.outcome == DAILY_REJECTED;
                e->k->promoted += res.outcome == DAILY_PROMOTED;
                e->k->rejected += res.outcome == DAILY_REJECTED;
                e->k->skipped += res.outcome == DAILY_SKIPPED;
                if (res.outcome == DAILY_PROMOTED &&
                    registry_path(c->registry_dir, res.version, dir, sizeof(dir)) == 0)
                        model_install(e, dir);
        } else {
                daily_version(cutoff_us, res.version, sizeof(res.version));
                snprintf(res.reason, sizeof(res.reason), "not a retraining day (every %d)",
                         e->o->retrain_every_days);
                res.average_precision = res.auc_roc = NAN;
        }
        e->marks.last_cutoff_us = cutoff_us;
        r = rows_evict(e, cutoff_us - (c->window_days + c->evict_margin_days) * FRAUD_USEC_PER_DAY);
        if (r < 0)
                return fail(e, r, "out of memory");
        e->k->train_ns += mono_ns() - t0;
        e->k->train_cpu_ns += cpu_ns() - c0;
        if (e->o->on_round) {
                const struct backtest_round br = {.cutoff_us = cutoff_us, .at_us = e->now_us,
                                                  .result = &res, .train_ns = mono_ns() - t0};
                if ((r = e->o->on_round(e->o->opaque, &br)) < 0)
                        return fail(e, r, "round output: %s", strerror(-r));
        }
        return 0;
}

/* Every day due now, in order (fraud-trainer after each batch of labels). */
static int trainer_catch_up(struct engine *e) {
        int64_t cutoff;
        int r;

        if (e->o->retrain_every_days == 0)
                return 0;
        while ((cutoff = schedule_due(&e->sched, &e->marks, INT64_MIN)) != SCHEDULE_NONE)
                if ((r = trainer_day(e, cutoff)) < 0)
                        return r;
        return 0;
}

/* ---- the labeler ---- */

static int sink_label(void *ctx, const struct join_label *l, void *tag) {
        struct engine *e = ctx;
        int r = rows_add(e, l);

        (void)tag;
        if (r == 1 || r == -E2BIG) { /* the trainer counts and drops both */
                e->k->label_duplicates++;
                return 0;
        }
        if (r == -EBADMSG)
                return fail(e, r, "%s: a label without usable features", l->transaction_id);
        if (r < 0)
                return fail(e, r, "out of memory");
        e->k->labels++;
        schedule_observe(&e->marks, l->known_at_us);
        return 0;
}

static int sink_reject(void *ctx, const struct join_reject *j, void *tag) {
        struct engine *e = ctx;

        (void)tag;
        e->k->labeler_rejected++;
        if (e->o->diag && e->k->labeler_rejected <= OFFLINE_REJECTS_SHOWN)
                fprintf(e->o->diag, "labeler: %s: %s: %s\n", j->transaction_id,
                        join_reject_code(j->reason), j->detail);
        return 0;
}

/* One input to the labeler, its due labels, then the days due. */
static int labeler_take(struct engine *e, enum join_kind kind, size_t size) {
        const struct join_input in = {.kind = kind, .data = e->pack, .size = size};
        int r = join_input(e->join, &in);

        while (r >= 0 && (r = join_advance(e->join, FRAUD_LABELER_ADVANCE_CHUNK)) ==
                                 FRAUD_LABELER_ADVANCE_CHUNK)
                ;
        if (r < 0)
                return e->err[0] ? r : fail(e, r, "labeler: %s", strerror(-r));
        return trainer_catch_up(e);
}

/* ---- the day barrier and the payments ---- */

/* Copies the strings of t into p->strings, pointing p->tx's at them.
 * false when they do not fit (ids are bounded by ingest: cannot happen). */
static bool pending_copy(struct pending *p, const Fraud__Transaction *t) {
        char **fields[] = {&p->tx.transaction_id, &p->tx.currency,    &p->tx.card_hash,
                           &p->tx.card_last4,     &p->tx.card_bin,    &p->tx.customer_id,
                           &p->tx.merchant_id,    &p->tx.terminal_id, &p->tx.country,
                           &p->tx.device_id,      &p->tx.ip};
        size_t used = 0;

        p->tx = *t;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                size_t len = strlen(*fields[i]) + 1;

                if (used + len > sizeof(p->strings))
                        return false;
                memcpy(p->strings + used, *fields[i], len);
                *fields[i] = p->strings + used;
                used += len;
        }
        return true;
}

/* The payment's vector, Score and report, after the batch was decided:
 * the vector and the Score to the labeler, as the daemons send them. */
static int pending_finish(struct engine *e, struct pending *p, const struct decide_result *res) {
        char *reasons[FRAUD_SCORER_REASONS_MAX];
        Fraud__Score score;
        size_t size;
        int r;

        e->now_us = p->tx.event_time_us;
        e->k->scored++;
        e->k->degraded += res->cascade.degraded;
        if (e->o->on_score) {
                const struct backtest_score s = {
                        .tx = &p->tx, .res = res, .model_version = res->gbdt_version,
                        .is_fraud = p->is_fraud, .scenario = p->scenario,
                        .latency_ns = (uint64_t)res->rules_ns + res->gbdt_ns + res->neural_ns};
                if ((r = e->o->on_score(e->o->opaque, &s)) < 0)
                        return fail(e, r, "score output: %s", strerror(-r));
        }
        size = fraud__feature_vector__pack(&p->fv, e->pack); /* fits: BACKTEST_FV_BYTES_MAX */
        if ((r = labeler_take(e, JOIN_FEATURES, size)) < 0)
                return r;
        decide_score_fill(&p->fv, res, false, reasons, &score);
        if ((size = fraud__score__get_packed_size(&score)) > BACKTEST_PACK_BYTES)
                return fail(e, -E2BIG, "%s: score too large", p->tx.transaction_id);
        fraud__score__pack(&score, e->pack);
        r = labeler_take(e, JOIN_SCORE, size);
        if (r >= 0 && e->o->on_progress && p->line % BACKTEST_PROGRESS_ROWS == 0)
                e->o->on_progress(e->o->opaque, p->line, e->now_us);
        return r;
}

/* Decides the waiting payments together (scorer/decide.h: the same
 * decisions as one by one; XGBoost's fixed cost per call is shared), then
 * finishes each in order.  A day that becomes due while they are finished
 * serves from the next batch: days become due at day barriers, where the
 * batch is empty (tools/offline.h). */
static int batch_flush(struct engine *e) {
        int r = 0;

        for (size_t i = 0; i < e->n_batch; i++)
                decide_tx_from_vector(&e->batch[i]->fv, &e->dtx[i]);
        if (e->n_batch > 0)
                decide_batch(&e->decide, e->rules ? rulebook_rules(e->rules) : NULL,
                             e->rules_schema_hash, e->model, e->dtx, e->n_batch, e->res);
        for (size_t i = 0; i < e->n_batch && r >= 0; i++)
                r = pending_finish(e, e->batch[i], &e->res[i]);
        e->n_batch = 0;
        return r;
}

/* A payment with its vector: into the batch. */
static int engine_row(void *opaque, const struct offline_row *row) {
        struct engine *e = opaque;
        struct pending *p = e->batch[e->n_batch];
        size_t len;

        if (row->n_values != e->fs.n || !pending_copy(p, row->tx))
                return fail(e, -EINVAL, "%s: a vector the engine cannot hold",
                            row->tx->transaction_id);
        memcpy(p->values, row->values, row->n_values * sizeof(double));
        fraud__feature_vector__init(&p->fv);
        p->fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        p->fv.transaction_id = p->tx.transaction_id;
        p->fv.transaction = &p->tx;
        p->fv.feature_schema_hash = row->schema_hash;
        p->fv.n_values = row->n_values;
        p->fv.values = p->values;
        p->is_fraud = row->is_fraud;
        len = strnlen(row->scenario, sizeof(p->scenario) - 1); /* as snprintf would cut it */
        memcpy(p->scenario, row->scenario, len);
        p->scenario[len] = '\0';
        p->line = row->line;
        return ++e->n_batch == BACKTEST_BATCH ? batch_flush(e) : 0;
}

/* The day barrier: the waiting payments first, then the day's chargebacks
 * to the labeler (offline.c gave them to the windows). */
static int engine_day(void *opaque, int64_t day_start_us, const struct offline_chargeback *cbs,
                      size_t n) {
        struct engine *e = opaque;
        int r = batch_flush(e);

        (void)day_start_us;
        for (size_t i = 0; i < n && r >= 0; i++) {
                Fraud__Chargeback m;
                size_t size;

                offline_chargeback_proto(&cbs[i], &m);
                size = fraud__chargeback__get_packed_size(&m);
                if (size > BACKTEST_PACK_BYTES)
                        continue; /* ids are bounded: cannot happen */
                fraud__chargeback__pack(&m, e->pack);
                e->now_us = cbs[i].arrival_us;
                r = labeler_take(e, JOIN_CHARGEBACK, size);
        }
        return r;
}

/* ---- setup ---- */

static int scorer_open(struct engine *e) {
        const struct fraud_settings_scorer *sc = &e->o->settings->scorer;
        const char *names[FRAUD_FEATURESET_FEATURES_MAX];
        char why[FRAUD_SCORER_ERR_MAX];
        int r;

        decide_config_from_settings(&e->decide, sc);
        if (!e->o->reason_codes) /* no output shows them: spare XGBoost's SHAP */
                e->decide.reasons_max = 0;
        e->rules_schema_hash = ~(uint64_t)0;
        if (sc->rules_file[0]) { /* as fraud-scorer starts: the schema, then the file */
                if ((r = rulebook_new(sc->rules_file, &e->rules)) < 0)
                        return fail(e, r, "%s: %s", sc->rules_file, strerror(-r));
                for (size_t i = 0; i < e->fs.n; i++)
                        names[i] = e->fs.names[i];
                rules_schema_apply(e, names, e->fs.n);
                if ((r = rulebook_refresh(e->rules, true, why, sizeof(why))) < 0)
                        return fail(e, r, "%s", why);
        }
        if (sc->model_dir[0] && (r = model_install(e, sc->model_dir)) < 0)
                return r;
        return 0;
}

static int labeler_open(struct engine *e) {
        const struct join_sink sink = {.label = sink_label, .reject = sink_reject, .ctx = e};
        struct join_config cfg;
        struct join_store store;
        char why[256];
        int r = labeler_join_config(e->o->settings, &cfg, why, sizeof(why));

        if (r < 0)
                return fail(e, r, "%s", why);
        if ((r = memstore_new(BACKTEST_RECORDS_MAX, &e->mem)) < 0)
                return fail(e, r, "labeler store: %s", strerror(-r));
        memstore_join_store(e->mem, &store);
        if ((r = join_new(&cfg, &store, &sink, &e->join)) < 0)
                return fail(e, r, "labeler: %s", strerror(-r));
        return 0;
}

static int trainer_open(struct engine *e) {
        const struct fraud_settings *s = e->o->settings;
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        char why[FRAUD_TRAINER_ERR_MAX];
        size_t n;
        int r = fraud_featureset_spans_parse(s->velocity.window_spans_sec, spans,
                                             FRAUD_FEATURESET_SPANS_MAX, &n, why, sizeof(why));

        if (r < 0 || (r = fraud_featureset_build(spans, n, &e->fs)) < 0)
                return fail(e, -EINVAL, "velocity.window_spans_sec: %s", r < 0 ? why : "invalid");
        e->sched = (struct schedule_config){
                .warmup_days = s->trainer.warmup_days,
                .lateness_us = s->trainer.label_lateness_sec * FRAUD_USEC_PER_SEC,
                .wall_hour = -1, /* event time only: a backtest never reads the clock */
        };
        schedule_marks_init(&e->marks);
        if (e->o->retrain_every_days > 0 &&
            (r = registry_init(s->trainer.registry_dir, why, sizeof(why))) < 0)
                return fail(e, r, "registry %s: %s", s->trainer.registry_dir, why);
        e->pack = malloc(BACKTEST_PACK_BYTES);
        e->batch = calloc(BACKTEST_BATCH, sizeof(*e->batch));
        e->dtx = calloc(BACKTEST_BATCH, sizeof(*e->dtx));
        e->res = calloc(BACKTEST_BATCH, sizeof(*e->res));
        for (size_t i = 0; e->batch && i < BACKTEST_BATCH; i++)
                if (!(e->batch[i] = malloc(sizeof(struct pending) + e->fs.n * sizeof(double))))
                        return fail(e, -ENOMEM, "out of memory");
        if (!e->pack || !e->batch || !e->dtx || !e->res)
                return fail(e, -ENOMEM, "out of memory");
        return 0;
}

static void engine_release(struct engine *e) {
        for (size_t i = 0; i < e->n_rows; i++)
                free(e->rows[i]);
        free(e->rows);
        free(e->index);
        free(e->pack);
        for (size_t i = 0; e->batch && i < BACKTEST_BATCH; i++)
                free(e->batch[i]);
        free(e->batch);
        free(e->dtx);
        free(e->res);
        join_free(e->join);
        memstore_free(e->mem);
        serving_free(e->model);
        rulebook_free(e->rules);
}

int backtest_run(const struct backtest_options *o, struct backtest_counts *k, char *err,
                 size_t err_size) {
        struct engine *e = calloc(1, sizeof(*e));
        struct offline_options off = {
                .transactions = o->transactions,
                .chargebacks = o->chargebacks,
                .mapping = o->mapping,
                .key = o->key,
                .settings = o->settings,
                .until_us = OFFLINE_TIME_ALL,
                .label_cutoff_us = OFFLINE_TIME_ALL,
                .diag = o->diag,
                .cb_order = OFFLINE_CB_DAY,
                .on_day = engine_day,
                .fraud_column = o->fraud_column,
        };
        uint64_t t0 = mono_ns(), c0 = cpu_ns();
        int r;

        memset(k, 0, sizeof(*k));
        if (!e) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        *e = (struct engine){.o = o, .k = k, .err = err, .err_size = err_size};
        err[0] = '\0';
        r = trainer_open(e);
        if (r == 0)
                r = scorer_open(e);
        if (r == 0)
                r = labeler_open(e);
        if (r == 0)
                r = offline_run(&off, engine_row, e, &k->offline, err, err_size);
        if (r == 0)
                r = batch_flush(e);
        if (e->join)
                join_counters(e->join, &k->join);
        k->elapsed_ns = mono_ns() - t0;
        k->cpu_ns = cpu_ns() - c0;
        engine_release(e);
        free(e);
        return r;
}
