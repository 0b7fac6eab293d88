/* view.c: see view.h.
 *
 * Ownership: struct view owns the review queue, the details cache (a
 * queue_map of struct queue_details by transaction id), the set of Score
 * ids seen (a queue_map of no value), the per-minute stats, the two drift
 * sets and the buffer of decision rows.  Decoded messages live for one
 * call.  Rows are rendered when their Score arrives (its details known
 * then or never, for the row) into rows[], which starts with '[' and is
 * closed by view_rows_take().
 */
#include "dashboard/view.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "dashboard/psi.h"
#include "dashboard/stats.h"
#include "lib/time.h"
#include "proto/feature_vector.pb-c.h"
#include "proto/label.pb-c.h"
#include "proto/score.pb-c.h"

#define VIEW_LATENCY_MINUTES 5 /* the latency table covers the last minutes */

struct view {
        struct view_config c;
        struct fraud_featureset features; /* c.features points here */
        struct queue *queue;
        struct queue_map *details; /* struct queue_details by transaction id */
        struct queue_map *seen;    /* Score ids (no value) */
        struct stats *stats;
        struct psi_set *score_drift;   /* 1 variable: the probability */
        struct psi_set *feature_drift; /* NULL before the first FeatureVector */
        size_t drift_features;         /* its number of variables */
        bool drift_names_known;        /* the vectors' hash is the configured schema's */
        int64_t reference_since_us;    /* wall clock of the score reference's first record */
        char reference_model[DASHBOARD_TEXT_MAX];
        int64_t started_us;     /* first input's wall clock, 0 before */
        int64_t event_time_us;  /* latest event time of a Score */
        int64_t scored_time_us; /* latest scorer's wall clock on a Score */
        double tokens;          /* rows that may be streamed now */
        int64_t tokens_us;      /* when tokens were last refilled */
        char *rows;             /* DASHBOARD_ROWS_BYTES_MAX */
        size_t rows_len, rows_count;
        struct view_counters k;
};

/* ---- names ---- */

const char *view_decision_name(int decision) {
        static const char *const names[] = {"UNSPECIFIED", "ALLOW", "REVIEW", "BLOCK"};

        return decision >= 0 && decision < 4 ? names[decision] : names[0];
}

const char *view_stage_name(int stage) {
        static const char *const names[] = {"none", "rules", "gbdt", "neural"};

        return stage >= 0 && stage < 4 ? names[stage] : names[0];
}

const char *view_channel_name(int channel) {
        static const char *const names[] = {"unspecified", "card_present", "contactless",
                                            "ecommerce",   "moto",         "atm"};

        return channel >= 0 && channel < 6 ? names[channel] : names[0];
}

static void view_copy(char *dst, size_t size, const char *src) {
        snprintf(dst, size, "%s", src ? src : "");
}

/* ---- lifecycle ---- */

static bool view_config_ok(const struct view_config *c) {
        return c->review_queue_max >= 1 && c->review_queue_max <= DASHBOARD_QUEUE_MAX &&
               c->history_minutes >= 1 && c->history_minutes <= DASHBOARD_HISTORY_MINUTES_MAX &&
               c->psi_reference_records >= 1 &&
               c->psi_reference_records <= DASHBOARD_PSI_RECORDS_MAX &&
               c->psi_window_records >= 1 && c->psi_window_records <= DASHBOARD_PSI_RECORDS_MAX &&
               c->psi_bins >= 2 && c->psi_bins <= DASHBOARD_PSI_BINS_MAX &&
               c->stream_per_sec_max >= 1 &&
               c->stream_per_sec_max <= DASHBOARD_STREAM_PER_SEC_MAX && c->features;
}

int view_new(const struct view_config *c, struct view **out) {
        struct view *v;
        int r;

        *out = NULL;
        if (!view_config_ok(c))
                return -EINVAL;
        if (!(v = calloc(1, sizeof(*v))))
                return -ENOMEM;
        v->c = *c;
        v->features = *c->features;
        v->c.features = &v->features;
        v->tokens = (double)c->stream_per_sec_max;
        r = queue_new(c->review_queue_max, &v->queue);
        if (r >= 0)
                r = queue_map_new(DASHBOARD_DETAILS_MAX, sizeof(struct queue_details), &v->details);
        if (r >= 0)
                r = queue_map_new(DASHBOARD_DEDUP_MAX, 0, &v->seen);
        if (r >= 0)
                r = stats_new(c->history_minutes, &v->stats);
        if (r >= 0)
                r = psi_set_new(1, c->psi_reference_records, c->psi_window_records, c->psi_bins,
                                &v->score_drift);
        if (r >= 0 && !(v->rows = malloc(DASHBOARD_ROWS_BYTES_MAX)))
                r = -ENOMEM;
        if (r < 0) {
                view_free(v);
                return r;
        }
        *out = v;
        return 0;
}

void view_free(struct view *v) {
        if (!v)
                return;
        queue_free(v->queue);
        queue_map_free(v->details);
        queue_map_free(v->seen);
        stats_free(v->stats);
        psi_set_free(v->score_drift);
        psi_set_free(v->feature_drift);
        free(v->rows);
        free(v);
}

/* ---- decision rows ---- */

static void view_row_details(struct jsonout *j, const struct queue_details *d) {
        jsonout_kv_string(j, "merchant_id", d->merchant_id);
        jsonout_kv_string(j, "terminal_id", d->terminal_id);
        jsonout_kv_string(j, "customer_id", d->customer_id);
        jsonout_kv_string(j, "country", d->country);
        jsonout_kv_string(j, "card_last4", d->card_last4);
        jsonout_kv_string(j, "card_bin", d->card_bin);
        jsonout_kv_uint(j, "mcc", d->mcc);
        jsonout_kv_string(j, "channel", view_channel_name(d->channel));
}

static void view_row_render(struct jsonout *j, const Fraud__Score *s,
                            const struct queue_details *d) {
        jsonout_object_begin(j);
        jsonout_kv_string(j, "id", s->transaction_id);
        jsonout_kv_int(j, "event_time_us", s->event_time_us);
        jsonout_kv_int(j, "scored_time_us", s->scored_time_us);
        jsonout_kv_string(j, "decision", view_decision_name(s->decision));
        jsonout_key(j, "probability");
        jsonout_double(j, s->probability);
        jsonout_kv_string(j, "stage", view_stage_name(s->stage));
        jsonout_kv_int(j, "amount_minor", s->amount_minor);
        jsonout_kv_string(j, "currency", s->currency);
        jsonout_kv_bool(j, "degraded", s->degraded);
        jsonout_kv_int(j, "e2e_us",
                       s->ingest_time_us > 0 && s->scored_time_us >= s->ingest_time_us
                               ? s->scored_time_us - s->ingest_time_us
                               : -1);
        jsonout_kv_string(j, "model", s->gbdt_version);
        jsonout_key(j, "reasons");
        jsonout_array_begin(j);
        for (size_t i = 0; i < s->n_reason_codes && i < DASHBOARD_REASONS_MAX; i++)
                jsonout_string_n(j, s->reason_codes[i], DASHBOARD_TEXT_MAX - 1);
        jsonout_array_end(j);
        if (d)
                view_row_details(j, d);
        jsonout_object_end(j);
}

/* Streams the row of s unless over the rate (a token bucket of one
 * second) or the buffer's size. */
static void view_row_add(struct view *v, const Fraud__Score *s, const struct queue_details *d,
                         int64_t now_us) {
        char row[VIEW_ROW_BYTES_MAX];
        struct jsonout j;
        double cap = (double)v->c.stream_per_sec_max;

        if (now_us > v->tokens_us) {
                v->tokens += (double)(now_us - v->tokens_us) / 1e6 * cap;
                v->tokens = v->tokens > cap ? cap : v->tokens;
                v->tokens_us = now_us;
        }
        jsonout_init(&j, row, sizeof(row));
        view_row_render(&j, s, d);
        if (v->tokens < 1 || !jsonout_ok(&j) ||
            v->rows_len + jsonout_len(&j) + 3 > DASHBOARD_ROWS_BYTES_MAX) {
                v->k.rows_skipped++;
                return;
        }
        v->tokens -= 1;
        v->rows[v->rows_len++] = v->rows_count ? ',' : '[';
        memcpy(v->rows + v->rows_len, row, jsonout_len(&j));
        v->rows_len += jsonout_len(&j);
        v->rows_count++;
        v->k.rows_streamed++;
}

size_t view_rows_take(struct view *v, const char **text) {
        size_t len;

        if (v->rows_count == 0) {
                *text = NULL;
                return 0;
        }
        v->rows[v->rows_len++] = ']';
        v->rows[v->rows_len] = '\0';
        *text = v->rows;
        len = v->rows_len;
        v->rows_len = 0;
        v->rows_count = 0;
        return len;
}

/* ---- inputs ---- */

static bool view_id_ok(const char *id) {
        size_t n = id ? strnlen(id, DASHBOARD_ID_MAX) : 0;

        return n > 0 && n < DASHBOARD_ID_MAX;
}

static void view_item_fill(struct queue_item *it, const Fraud__Score *s) {
        memset(it, 0, sizeof(*it));
        view_copy(it->transaction_id, sizeof(it->transaction_id), s->transaction_id);
        view_copy(it->card_hash, sizeof(it->card_hash), s->card_hash);
        it->event_time_us = s->event_time_us;
        it->scored_time_us = s->scored_time_us;
        it->amount_minor = s->amount_minor;
        view_copy(it->currency, sizeof(it->currency), s->currency);
        it->probability = s->probability;
        it->stage = s->stage;
        it->degraded = s->degraded;
        view_copy(it->gbdt_version, sizeof(it->gbdt_version), s->gbdt_version);
        view_copy(it->neural_version, sizeof(it->neural_version), s->neural_version);
        view_copy(it->rules_version, sizeof(it->rules_version), s->rules_version);
        for (size_t i = 0; i < s->n_reason_codes && i < DASHBOARD_REASONS_MAX; i++)
                view_copy(it->reasons[it->n_reasons++], DASHBOARD_TEXT_MAX, s->reason_codes[i]);
}

static void view_score_count(struct view *v, const Fraud__Score *s, int64_t now_us) {
        struct stats_decision d = {
                .decision = s->decision,
                .stage = s->stage,
                .degraded = s->degraded,
                .probability = s->probability,
                .gbdt_version = s->gbdt_version,
                .neural_version = s->neural_version,
                .rules_version = s->rules_version,
        };

        if (s->ingest_time_us > 0 && s->scored_time_us >= s->ingest_time_us)
                d.latency_ns[STATS_E2E] = (s->scored_time_us - s->ingest_time_us) * 1000;
        d.latency_ns[STATS_RULES] = s->rules_latency_ns;
        d.latency_ns[STATS_GBDT] = s->gbdt_latency_ns;
        d.latency_ns[STATS_NEURAL] = s->neural_latency_ns;
        stats_score(v->stats, now_us, &d);
        if (psi_set_reference_count(v->score_drift) == 0) {
                v->reference_since_us = now_us;
                view_copy(v->reference_model, sizeof(v->reference_model), s->gbdt_version);
        }
        psi_set_add(v->score_drift, &s->probability);
        v->event_time_us =
                s->event_time_us > v->event_time_us ? s->event_time_us : v->event_time_us;
        v->scored_time_us =
                s->scored_time_us > v->scored_time_us ? s->scored_time_us : v->scored_time_us;
}

static int view_score(struct view *v, const Fraud__Score *s, int64_t now_us) {
        const struct queue_details *d;
        struct queue_item item;
        void *seen;

        if (s->schema_version != SCORE_SCHEMA_VERSION || !view_id_ok(s->transaction_id))
                return -EBADMSG;
        if (s->shadow) {
                v->k.shadow++;
                return 0;
        }
        if (queue_map_put(v->seen, s->transaction_id, &seen, NULL) == 1) {
                v->k.duplicates++;
                return 0;
        }
        d = queue_map_get(v->details, s->transaction_id);
        view_score_count(v, s, now_us);
        view_row_add(v, s, d, now_us);
        if (s->decision != FRAUD__DECISION__DECISION_REVIEW)
                return 0;
        view_item_fill(&item, s);
        if (d) {
                item.details = *d;
                item.has_details = true;
        }
        queue_add(v->queue, &item);
        return 0;
}

static void view_details_fill(struct queue_details *d, const Fraud__Transaction *t) {
        view_copy(d->merchant_id, sizeof(d->merchant_id), t->merchant_id);
        view_copy(d->terminal_id, sizeof(d->terminal_id), t->terminal_id);
        view_copy(d->customer_id, sizeof(d->customer_id), t->customer_id);
        view_copy(d->country, sizeof(d->country), t->country);
        view_copy(d->card_last4, sizeof(d->card_last4), t->card_last4);
        view_copy(d->card_bin, sizeof(d->card_bin), t->card_bin);
        d->mcc = t->mcc;
        d->channel = t->channel;
}

/* The features' drift set for vectors like fv: kept, or made anew when
 * their length changed.  0 or -ENOMEM. */
static int view_drift_features(struct view *v, const Fraud__FeatureVector *fv) {
        size_t n = fv->n_values;
        int r;

        if (v->feature_drift && n == v->drift_features)
                return 0;
        if (v->feature_drift)
                v->k.drift_restarts++;
        psi_set_free(v->feature_drift);
        v->feature_drift = NULL;
        v->drift_features = 0;
        r = psi_set_new(n, v->c.psi_reference_records, v->c.psi_window_records, v->c.psi_bins,
                        &v->feature_drift);
        if (r < 0)
                return r;
        v->drift_features = n;
        v->drift_names_known = fv->feature_schema_hash == v->features.hash && n == v->features.n;
        return 0;
}

static int view_features(struct view *v, const Fraud__FeatureVector *fv) {
        const Fraud__Transaction *t = fv->transaction;
        struct queue_details *d;
        struct queue_item *item;

        if (fv->schema_version != FEATURE_VECTOR_SCHEMA_VERSION ||
            !view_id_ok(fv->transaction_id) || !t)
                return -EBADMSG;
        if (queue_map_put(v->details, fv->transaction_id, (void **)&d, NULL) == 0)
                view_details_fill(d, t);
        item = queue_find(v->queue, fv->transaction_id);
        if (item && !item->has_details) {
                view_details_fill(&item->details, t);
                item->has_details = true;
        }
        if (fv->n_values > 0 && fv->n_values <= PSI_VARS_MAX && view_drift_features(v, fv) >= 0)
                psi_set_add(v->feature_drift, fv->values);
        return 0;
}

static enum queue_verdict view_verdict_of_kind(Fraud__ChargebackKind kind) {
        if (kind == FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD)
                return QUEUE_VERDICT_FRAUD;
        if (kind == FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT)
                return QUEUE_VERDICT_LEGIT;
        return QUEUE_VERDICT_NONE;
}

static int view_chargeback(struct view *v, const Fraud__Chargeback *c, int64_t now_us) {
        enum queue_verdict verdict;

        if (c->schema_version != CHARGEBACK_SCHEMA_VERSION || !view_id_ok(c->transaction_id))
                return -EBADMSG;
        stats_chargeback(v->stats, now_us, c->kind);
        verdict = view_verdict_of_kind(c->kind);
        if (verdict != QUEUE_VERDICT_NONE)
                queue_note_verdict(v->queue, c->transaction_id, verdict);
        return 0;
}

static int view_label(struct view *v, const Fraud__Label *l, int64_t now_us) {
        if (l->schema_version != LABEL_SCHEMA_VERSION || !view_id_ok(l->transaction_id))
                return -EBADMSG;
        stats_label(v->stats, now_us, l->value, l->decision);
        return 0;
}

/* Decodes and takes one record; 0 or -EBADMSG. */
static int view_decode(struct view *v, enum view_input kind, const uint8_t *data, size_t size,
                       int64_t now_us) {
        int r = -EBADMSG;

        switch (kind) {
        case VIEW_SCORE: {
                Fraud__Score *s = fraud__score__unpack(NULL, size, data);
                r = s ? view_score(v, s, now_us) : -EBADMSG;
                fraud__score__free_unpacked(s, NULL);
                break;
        }
        case VIEW_FEATURES: {
                Fraud__FeatureVector *fv = fraud__feature_vector__unpack(NULL, size, data);
                r = fv ? view_features(v, fv) : -EBADMSG;
                fraud__feature_vector__free_unpacked(fv, NULL);
                break;
        }
        case VIEW_LABEL: {
                Fraud__Label *l = fraud__label__unpack(NULL, size, data);
                r = l ? view_label(v, l, now_us) : -EBADMSG;
                fraud__label__free_unpacked(l, NULL);
                break;
        }
        case VIEW_CHARGEBACK: {
                Fraud__Chargeback *c = fraud__chargeback__unpack(NULL, size, data);
                r = c ? view_chargeback(v, c, now_us) : -EBADMSG;
                fraud__chargeback__free_unpacked(c, NULL);
                break;
        }
        default:
                break;
        }
        return r;
}

int view_input(struct view *v, enum view_input kind, const void *data, size_t size,
               int64_t now_us) {
        int r;

        if (kind < 0 || kind >= VIEW_INPUTS)
                return -EINVAL;
        if (v->started_us == 0)
                v->started_us = now_us;
        v->k.inputs[kind]++;
        r = data ? view_decode(v, kind, data, size, now_us) : -EBADMSG;
        if (r < 0)
                v->k.rejected[kind]++;
        return r;
}

/* ---- verdicts ---- */

int view_review(const struct view *v, const char *id, enum queue_verdict verdict, int64_t now_us,
                struct view_chargeback *out, enum queue_verdict *previous) {
        const struct queue_item *it;
        Fraud__Chargeback *m = &out->msg;

        if (verdict != QUEUE_VERDICT_FRAUD && verdict != QUEUE_VERDICT_LEGIT)
                return -EINVAL;
        *previous = queue_verdict_of(v->queue, id);
        if (*previous != QUEUE_VERDICT_NONE)
                return *previous == verdict ? VIEW_REVIEW_SAME : VIEW_REVIEW_CONFLICT;
        if (!(it = queue_find(v->queue, id)))
                return VIEW_REVIEW_UNKNOWN;
        memset(out, 0, sizeof(*out));
        view_copy(out->transaction_id, sizeof(out->transaction_id), it->transaction_id);
        snprintf(out->chargeback_id, sizeof(out->chargeback_id), "%s%s", VIEW_REVIEW_ID_PREFIX,
                 it->transaction_id);
        view_copy(out->currency, sizeof(out->currency), it->currency);
        view_copy(out->card_hash, sizeof(out->card_hash), it->card_hash);
        view_copy(out->merchant_id, sizeof(out->merchant_id),
                  it->has_details ? it->details.merchant_id : "");
        view_copy(out->terminal_id, sizeof(out->terminal_id),
                  it->has_details ? it->details.terminal_id : "");
        view_copy(out->reason, sizeof(out->reason), VIEW_REVIEW_REASON);
        *m = (Fraud__Chargeback)FRAUD__CHARGEBACK__INIT;
        m->schema_version = CHARGEBACK_SCHEMA_VERSION;
        m->transaction_id = out->transaction_id;
        m->chargeback_id = out->chargeback_id;
        m->event_time_us = now_us; /* the verdict's own time: see view.h */
        m->transaction_time_us = it->event_time_us;
        m->amount_minor = it->amount_minor;
        m->currency = out->currency;
        m->reason = out->reason;
        m->kind = verdict == QUEUE_VERDICT_FRAUD
                          ? FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD
                          : FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT;
        m->card_hash = out->card_hash;
        m->merchant_id = out->merchant_id;
        m->terminal_id = out->terminal_id;
        return VIEW_REVIEW_PUBLISH;
}

int view_review_commit(struct view *v, const char *id, enum queue_verdict verdict) {
        return queue_close(v->queue, id, verdict);
}

void view_counters(const struct view *v, struct view_counters *out) {
        *out = v->k;
}

const struct queue *view_queue(const struct view *v) {
        return v->queue;
}

/* ---- the state ---- */

static void view_state_minute(struct jsonout *j, const struct stats_minute *b, int64_t start_us) {
        static const char *const series[STATS_SERIES] = {"e2e", "rules", "gbdt", "neural"};
        uint64_t hist[STATS_LATENCY_BUCKETS];
        char key[32];

        jsonout_object_begin(j);
        jsonout_kv_int(j, "t", start_us);
        if (b) {
                jsonout_kv_uint(j, "allow", b->decisions[FRAUD__DECISION__DECISION_ALLOW]);
                jsonout_kv_uint(j, "review", b->decisions[FRAUD__DECISION__DECISION_REVIEW]);
                jsonout_kv_uint(j, "block", b->decisions[FRAUD__DECISION__DECISION_BLOCK]);
                jsonout_kv_uint(j, "rules", b->stages[FRAUD__STAGE__STAGE_RULES]);
                jsonout_kv_uint(j, "gbdt", b->stages[FRAUD__STAGE__STAGE_GBDT]);
                jsonout_kv_uint(j, "neural", b->stages[FRAUD__STAGE__STAGE_NEURAL]);
                jsonout_kv_uint(j, "degraded", b->degraded);
                jsonout_kv_uint(j, "labels_fraud",
                                b->labels[FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD]);
                jsonout_kv_uint(j, "labels_legit",
                                b->labels[FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT]);
                jsonout_kv_uint(j, "labels_unknown",
                                b->labels[FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN]);
                jsonout_kv_uint(j, "chargebacks",
                                b->chargebacks[FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK]);
                jsonout_kv_uint(
                        j, "reviews_fraud",
                        b->chargebacks[FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_FRAUD]);
                jsonout_kv_uint(
                        j, "reviews_legit",
                        b->chargebacks[FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_REVIEW_LEGIT]);
                for (int s = 0; s < STATS_SERIES; s++) {
                        for (size_t k = 0; k < STATS_LATENCY_BUCKETS; k++)
                                hist[k] = b->latency[s][k];
                        snprintf(key, sizeof(key), "%s_p50_us", series[s]);
                        jsonout_kv_double(j, key, stats_latency_quantile(hist, 0.5) / 1e3);
                        snprintf(key, sizeof(key), "%s_p99_us", series[s]);
                        jsonout_kv_double(j, key, stats_latency_quantile(hist, 0.99) / 1e3);
                }
        }
        jsonout_object_end(j);
}

static void view_state_minutes(const struct view *v, int64_t now_us, struct jsonout *j) {
        size_t n = stats_minutes(v->stats);
        int64_t now_minute = now_us - now_us % STATS_MINUTE_US;

        jsonout_key(j, "minutes");
        jsonout_array_begin(j);
        for (size_t i = 0; i < n; i++)
                view_state_minute(j, stats_minute(v->stats, now_us, i),
                                  now_minute - (int64_t)(n - 1 - i) * STATS_MINUTE_US);
        jsonout_array_end(j);
}

static void view_state_latency(const struct view *v, int64_t now_us, struct jsonout *j) {
        static const char *const names[STATS_SERIES] = {"end_to_end", "rules", "gbdt", "neural"};
        static const double qs[] = {0.5, 0.9, 0.99, 0.999};
        static const char *const qnames[] = {"p50_us", "p90_us", "p99_us", "p999_us"};

        jsonout_key(j, "latency");
        jsonout_object_begin(j);
        jsonout_kv_int(j, "minutes", VIEW_LATENCY_MINUTES);
        jsonout_key(j, "series");
        jsonout_array_begin(j);
        for (int s = 0; s < STATS_SERIES; s++) {
                uint64_t hist[STATS_LATENCY_BUCKETS] = {0}, count = 0;
                stats_latency_merge(v->stats, now_us, VIEW_LATENCY_MINUTES, s, hist);
                for (size_t k = 0; k < STATS_LATENCY_BUCKETS; k++)
                        count += hist[k];
                jsonout_object_begin(j);
                jsonout_kv_string(j, "name", names[s]);
                jsonout_kv_uint(j, "count", count);
                for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++)
                        jsonout_kv_double(j, qnames[q], stats_latency_quantile(hist, qs[q]) / 1e3);
                jsonout_object_end(j);
        }
        jsonout_array_end(j);
        jsonout_object_end(j);
}

static void view_state_scores(const struct view *v, int64_t now_us, struct jsonout *j) {
        uint64_t bins[STATS_SCORE_BINS] = {0};
        const struct stats_version *vs;
        size_t n = stats_versions(v->stats, &vs);

        stats_score_histogram(v->stats, now_us, bins);
        jsonout_key(j, "score_bins");
        jsonout_array_begin(j);
        for (size_t i = 0; i < STATS_SCORE_BINS; i++)
                jsonout_uint(j, bins[i]);
        jsonout_array_end(j);
        jsonout_key(j, "versions");
        jsonout_array_begin(j);
        for (size_t i = 0; i < n; i++) {
                jsonout_object_begin(j);
                jsonout_kv_string(j, "gbdt", vs[i].gbdt);
                jsonout_kv_string(j, "neural", vs[i].neural);
                jsonout_kv_string(j, "rules", vs[i].rules);
                jsonout_kv_int(j, "first_us", vs[i].first_us);
                jsonout_kv_int(j, "last_us", vs[i].last_us);
                jsonout_kv_uint(j, "count", vs[i].count);
                jsonout_object_end(j);
        }
        jsonout_array_end(j);
}

static void view_state_outcomes(const struct view *v, struct jsonout *j) {
        uint64_t o[STATS_KINDS][STATS_KINDS];

        stats_outcomes(v->stats, o);
        jsonout_key(j, "outcomes");
        jsonout_array_begin(j);
        for (int d = 1; d < STATS_KINDS; d++) {
                jsonout_object_begin(j);
                jsonout_kv_string(j, "decision", view_decision_name(d));
                jsonout_kv_uint(j, "fraud", o[d][FRAUD__LABEL_VALUE__LABEL_VALUE_FRAUD]);
                jsonout_kv_uint(j, "legit", o[d][FRAUD__LABEL_VALUE__LABEL_VALUE_LEGIT]);
                jsonout_kv_uint(j, "unknown", o[d][FRAUD__LABEL_VALUE__LABEL_VALUE_UNKNOWN]);
                jsonout_object_end(j);
        }
        jsonout_array_end(j);
}

/* waiting (nothing yet), reference (collecting it), window (filling it),
 * ready. */
static const char *view_drift_status(const struct psi_set *s, size_t reference_n) {
        if (!s || psi_set_reference_count(s) == 0)
                return "waiting";
        if (psi_set_reference_count(s) < reference_n)
                return "reference";
        return psi_set_ready(s) ? "ready" : "window";
}

static void view_drift_var(struct jsonout *j, const struct psi_set *s, size_t var, const char *name,
                           bool bins) {
        uint64_t ref[PSI_SLOTS_MAX], win[PSI_SLOTS_MAX];
        double psi = psi_set_value(s, var);
        size_t n;

        jsonout_object_begin(j);
        jsonout_kv_string(j, "name", name);
        jsonout_kv_double(j, "psi", psi);
        jsonout_kv_string(j, "band", isnan(psi) ? "" : psi_band_name(psi_band_of(psi)));
        if (bins && (n = psi_set_counts(s, var, ref, win)) > 0) {
                jsonout_key(j, "reference_bins");
                jsonout_array_begin(j);
                for (size_t i = 0; i < n; i++)
                        jsonout_uint(j, ref[i]);
                jsonout_array_end(j);
                jsonout_key(j, "window_bins");
                jsonout_array_begin(j);
                for (size_t i = 0; i < n; i++)
                        jsonout_uint(j, win[i]);
                jsonout_array_end(j);
        }
        jsonout_object_end(j);
}

/* Opens the object of a drift set (the caller adds to it and closes it). */
static void view_drift_set(const struct view *v, struct jsonout *j, const char *key,
                           const struct psi_set *s) {
        jsonout_key(j, key);
        jsonout_object_begin(j);
        jsonout_kv_string(j, "status", view_drift_status(s, v->c.psi_reference_records));
        jsonout_kv_uint(j, "reference_count", s ? psi_set_reference_count(s) : 0);
        jsonout_kv_uint(j, "window_count", s ? psi_set_window_count(s) : 0);
        jsonout_kv_uint(j, "variables", s ? psi_set_vars(s) : 0);
}

static int view_psi_desc(const void *a, const void *b) {
        double x = ((const double *)a)[0], y = ((const double *)b)[0];

        return (x < y) - (x > y);
}

static void view_state_feature_drift(const struct view *v, struct jsonout *j) {
        const struct psi_set *s = v->feature_drift;
        size_t n = s ? psi_set_vars(s) : 0, shown = 0, bands[3] = {0};
        double(*order)[2] = n ? malloc(n * sizeof(*order)) : NULL;
        char name[FRAUD_FEATURESET_NAME_MAX];

        view_drift_set(v, j, "features", s);
        jsonout_kv_bool(j, "names_known", v->drift_names_known);
        jsonout_key(j, "worst");
        jsonout_array_begin(j);
        for (size_t i = 0; order && i < n; i++) {
                order[i][0] = psi_set_value(s, i);
                order[i][1] = (double)i;
                if (!isnan(order[i][0]))
                        bands[psi_band_of(order[i][0])]++;
        }
        if (order && psi_set_ready(s))
                qsort(order, n, sizeof(*order), view_psi_desc);
        for (size_t i = 0; order && psi_set_ready(s) && i < n && shown < DASHBOARD_FEATURES_SHOWN;
             i++, shown++) {
                size_t var = (size_t)order[i][1];
                if (v->drift_names_known)
                        view_copy(name, sizeof(name), v->features.names[var]);
                else
                        snprintf(name, sizeof(name), "feature_%zu", var);
                view_drift_var(j, s, var, name, false);
        }
        jsonout_array_end(j);
        jsonout_kv_uint(j, "stable", bands[PSI_BAND_STABLE]);
        jsonout_kv_uint(j, "moderate", bands[PSI_BAND_MODERATE]);
        jsonout_kv_uint(j, "significant", bands[PSI_BAND_SIGNIFICANT]);
        jsonout_object_end(j);
        free(order);
}

static void view_state_drift(const struct view *v, struct jsonout *j) {
        jsonout_key(j, "drift");
        jsonout_object_begin(j);
        jsonout_kv_string(j, "reference", "first_records");
        jsonout_kv_uint(j, "reference_records", v->c.psi_reference_records);
        jsonout_kv_uint(j, "window_records", v->c.psi_window_records);
        jsonout_kv_uint(j, "bins", v->c.psi_bins);
        jsonout_kv_int(j, "reference_since_us", v->reference_since_us);
        jsonout_kv_string(j, "reference_model", v->reference_model);
        jsonout_kv_double(j, "stable_below", PSI_STABLE_BELOW);
        jsonout_kv_double(j, "significant_above", PSI_SIGNIFICANT_ABOVE);
        view_drift_set(v, j, "score", v->score_drift);
        jsonout_key(j, "psi");
        view_drift_var(j, v->score_drift, 0, "score", true);
        jsonout_object_end(j);
        view_state_feature_drift(v, j);
        jsonout_object_end(j);
}

static void view_state_item(struct jsonout *j, const struct queue_item *it) {
        jsonout_object_begin(j);
        jsonout_kv_string(j, "id", it->transaction_id);
        jsonout_kv_int(j, "event_time_us", it->event_time_us);
        jsonout_kv_int(j, "scored_time_us", it->scored_time_us);
        jsonout_kv_int(j, "amount_minor", it->amount_minor);
        jsonout_kv_string(j, "currency", it->currency);
        jsonout_kv_double(j, "probability", it->probability);
        jsonout_kv_string(j, "stage", view_stage_name(it->stage));
        jsonout_kv_bool(j, "degraded", it->degraded);
        jsonout_kv_string(j, "gbdt_version", it->gbdt_version);
        jsonout_kv_string(j, "neural_version", it->neural_version);
        jsonout_kv_string(j, "rules_version", it->rules_version);
        jsonout_key(j, "reasons");
        jsonout_array_begin(j);
        for (size_t i = 0; i < it->n_reasons; i++)
                jsonout_string(j, it->reasons[i]);
        jsonout_array_end(j);
        jsonout_key(j, "details");
        if (it->has_details) {
                jsonout_object_begin(j);
                view_row_details(j, &it->details);
                jsonout_object_end(j);
        } else {
                jsonout_null(j);
        }
        jsonout_object_end(j);
}

static void view_state_queue(const struct view *v, struct jsonout *j) {
        struct queue_counters k;
        const struct queue_item *it;
        uint32_t cursor = QUEUE_MAP_BEGIN;
        size_t shown = 0;

        queue_counters(v->queue, &k);
        jsonout_key(j, "queue");
        jsonout_object_begin(j);
        jsonout_kv_uint(j, "size", queue_count(v->queue));
        jsonout_kv_uint(j, "max", queue_capacity(v->queue));
        jsonout_kv_uint(j, "added", k.added);
        jsonout_kv_uint(j, "dropped", k.dropped);
        jsonout_kv_uint(j, "duplicates", k.duplicates);
        jsonout_kv_uint(j, "reopen_refused", k.reopen_refused);
        jsonout_kv_uint(j, "closed", k.closed);
        jsonout_kv_uint(j, "closed_elsewhere", k.closed_by_seen);
        jsonout_key(j, "items");
        jsonout_array_begin(j);
        while (shown++ < DASHBOARD_QUEUE_SHOWN && (it = queue_next(v->queue, &cursor)))
                view_state_item(j, it);
        jsonout_array_end(j);
        jsonout_object_end(j);
}

static void view_state_counts(const struct view *v, struct jsonout *j) {
        static const char *const names[VIEW_INPUTS] = {"scores", "features", "labels",
                                                       "chargebacks"};

        jsonout_key(j, "counts");
        jsonout_object_begin(j);
        for (int i = 0; i < VIEW_INPUTS; i++)
                jsonout_kv_uint(j, names[i], v->k.inputs[i]);
        jsonout_key(j, "rejected");
        jsonout_object_begin(j);
        for (int i = 0; i < VIEW_INPUTS; i++)
                jsonout_kv_uint(j, names[i], v->k.rejected[i]);
        jsonout_object_end(j);
        jsonout_kv_uint(j, "duplicates", v->k.duplicates);
        jsonout_kv_uint(j, "shadow", v->k.shadow);
        jsonout_kv_uint(j, "rows_streamed", v->k.rows_streamed);
        jsonout_kv_uint(j, "rows_skipped", v->k.rows_skipped);
        jsonout_kv_uint(j, "stream_per_sec_max", v->c.stream_per_sec_max);
        jsonout_object_end(j);
}

void view_state(const struct view *v, int64_t now_us, struct jsonout *j) {
        jsonout_object_begin(j);
        jsonout_kv_int(j, "now_us", now_us);
        jsonout_kv_int(j, "started_us", v->started_us);
        jsonout_kv_int(j, "event_time_us", v->event_time_us);
        jsonout_kv_int(j, "scored_time_us", v->scored_time_us);
        view_state_counts(v, j);
        view_state_minutes(v, now_us, j);
        view_state_latency(v, now_us, j);
        view_state_scores(v, now_us, j);
        view_state_outcomes(v, j);
        view_state_drift(v, j);
        view_state_queue(v, j);
        jsonout_object_end(j);
}
