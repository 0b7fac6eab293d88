/* report.c: see report.h.
 *
 * Design.  Payments are kept as fixed-size records in one growing array,
 * in the order they were decided; strings are interned (model versions in
 * a small table) or reduced to 64-bit hashes (transaction id, card).  At
 * the end: the chargebacks are matched to records through a sorted index
 * of id hashes (ids compared only through their hashes: 64-bit FNV-1a,
 * collisions among a few million ids are negligible and would only flip a
 * label), days are cut from the records sorted by event time, and each
 * figure comes from trainer/evaluate.h over the day's arrays.
 *
 * Ownership: struct report owns its arrays; the settings are borrowed.
 */
#include "tools/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomicfile.h"
#include "lib/hash.h"
#include "lib/time.h"
#include "scorer/cascade.h"
#include "tools/report_html.h"
#include "trainer/evaluate.h"
#include "velocity/features.h"

#define REPORT_FIRST 65536 /* records before the first growth */

struct record {
        uint64_t id, card;
        int64_t t_us;
        int64_t amount; /* EUR cents */
        float p, latency_us;
        uint16_t version; /* index into versions; 0: none */
        uint8_t decision, stage, degraded;
        uint8_t fraud;     /* a chargeback is in the file */
        int64_t first_cb;  /* the card's first chargeback arrival (filled at the end) */
};

struct round_copy {
        char version[64], outcome[16], reason[256];
        int64_t cutoff_us;
        double ap, auc;
        size_t train_rows;
};

struct report {
        const struct fraud_settings *s;
        int64_t maturity_us;
        struct record *rec;
        size_t n, cap;
        char (*versions)[64];
        size_t n_versions;
        struct round_copy *rounds;
        size_t n_rounds;
        int64_t latest_us; /* latest event of the run */
        struct report_overall overall;
        /* the label-arrival curve */
        uint64_t arrival[REPORT_ARRIVAL_DAYS + 1], arrival_n;
};

int report_new(const struct fraud_settings *s, int64_t eval_maturity_days, struct report **out) {
        struct report *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->s = s;
        r->maturity_us = eval_maturity_days * FRAUD_USEC_PER_DAY;
        r->latest_us = INT64_MIN;
        r->versions = calloc(REPORT_VERSIONS_MAX, sizeof(*r->versions));
        r->rounds = calloc(REPORT_VERSIONS_MAX, sizeof(*r->rounds));
        if (!r->versions || !r->rounds) {
                report_free(r);
                return -ENOMEM;
        }
        r->n_versions = 1; /* index 0: none */
        *out = r;
        return 0;
}

void report_free(struct report *r) {
        if (!r)
                return;
        free(r->rec);
        free(r->versions);
        free(r->rounds);
        free(r);
}

static uint16_t version_index(struct report *r, const char *v) {
        if (!v || !v[0])
                return 0;
        for (size_t i = r->n_versions; i-- > 1;)
                if (strcmp(r->versions[i], v) == 0)
                        return (uint16_t)i;
        if (r->n_versions == REPORT_VERSIONS_MAX)
                return 0;
        snprintf(r->versions[r->n_versions], sizeof(r->versions[0]), "%s", v);
        return (uint16_t)r->n_versions++;
}

int report_score_add(struct report *r, const struct report_score *s) {
        struct record *c;
        int64_t ref = 0;

        if (r->n == r->cap) {
                size_t cap = r->cap ? 2 * r->cap : REPORT_FIRST;
                void *p = realloc(r->rec, cap * sizeof(*r->rec));

                if (!p)
                        return -ENOMEM;
                r->rec = p;
                r->cap = cap;
        }
        if (features_currency_to_ref(s->currency, s->amount_minor, &ref) < 0)
                ref = 0;
        c = &r->rec[r->n++];
        *c = (struct record){
                .id = fraud_hash_fnv1a_str(s->transaction_id),
                .card = fraud_hash_fnv1a_str(s->card_hash),
                .t_us = s->event_time_us,
                .amount = ref,
                .p = (float)s->probability,
                .latency_us = (float)s->latency_us,
                .version = version_index(r, s->model_version),
                .decision = (uint8_t)s->decision,
                .stage = (uint8_t)s->stage,
                .degraded = s->degraded,
                .first_cb = INT64_MAX,
        };
        if (s->event_time_us > r->latest_us)
                r->latest_us = s->event_time_us;
        return 0;
}

int report_round_add(struct report *r, const struct report_round *d) {
        struct round_copy *c;

        if (r->n_rounds == REPORT_VERSIONS_MAX)
                return -E2BIG;
        c = &r->rounds[r->n_rounds++];
        snprintf(c->version, sizeof(c->version), "%s", d->version);
        snprintf(c->outcome, sizeof(c->outcome), "%s", d->outcome);
        snprintf(c->reason, sizeof(c->reason), "%s", d->reason ? d->reason : "");
        c->cutoff_us = d->label_cutoff_us;
        c->ap = d->average_precision;
        c->auc = d->auc_roc;
        c->train_rows = d->train_rows;
        return 0;
}

/* ---- labels ---- */

/* The records by id: open addressing over id_slots() slots, SIZE_MAX
 * free.  Records go in in index order, so an id (ids are unique: the
 * backtest drops duplicates) finds its first record. */
static size_t id_slots(const struct report *r) {
        size_t cap = 16;

        while (cap < 2 * r->n)
                cap *= 2;
        return cap;
}

static size_t id_home(uint64_t id, size_t cap) {
        return (size_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
}

static void id_index(const struct report *r, size_t *slot, size_t cap) {
        for (size_t i = 0; i < cap; i++)
                slot[i] = SIZE_MAX;
        for (size_t i = 0; i < r->n; i++) {
                size_t h = id_home(r->rec[i].id, cap);

                while (slot[h] != SIZE_MAX && r->rec[slot[h]].id != r->rec[i].id)
                        h = (h + 1) & (cap - 1);
                if (slot[h] == SIZE_MAX)
                        slot[h] = i;
        }
}

static size_t id_find(const struct report *r, const size_t *slot, uint64_t id) {
        size_t cap = id_slots(r), h = id_home(id, cap);

        while (slot[h] != SIZE_MAX && r->rec[slot[h]].id != id)
                h = (h + 1) & (cap - 1);
        return slot[h];
}

/* Marks frauds and the cards' first chargebacks; builds the arrival curve. */
static void labels_apply(struct report *r, const size_t *idx, const struct offline_chargeback *cb,
                         size_t n_cb) {
        for (size_t i = 0; i < n_cb; i++) {
                size_t at = id_find(r, idx, fraud_hash_fnv1a_str(cb[i].tx_id));
                int64_t delay;

                if (cb[i].arrival_us > r->latest_us)
                        r->latest_us = cb[i].arrival_us;
                if (at == SIZE_MAX)
                        continue;
                r->rec[at].fraud = 1;
                delay = (cb[i].arrival_us - r->rec[at].t_us) / FRAUD_USEC_PER_DAY;
                r->arrival[delay < 0 ? 0 : delay > REPORT_ARRIVAL_DAYS ? REPORT_ARRIVAL_DAYS
                                                                         : delay]++;
                r->arrival_n++;
        }
}

/* Each record's first_cb: the earliest chargeback arrival on its card. */
static int cards_compromised(struct report *r, const size_t *idx,
                             const struct offline_chargeback *cb, size_t n_cb) {
        size_t cap = 1;
        uint64_t *key;
        int64_t *first;

        while (cap < 2 * n_cb + 2)
                cap *= 2;
        key = calloc(cap, sizeof(*key));
        first = malloc(cap * sizeof(*first));
        if (!key || !first) {
                free(key);
                free(first);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_cb; i++) {
                size_t at = id_find(r, idx, fraud_hash_fnv1a_str(cb[i].tx_id)), h;

                if (at == SIZE_MAX)
                        continue;
                for (h = r->rec[at].card & (cap - 1); key[h] && key[h] != r->rec[at].card;
                     h = (h + 1) & (cap - 1))
                        ;
                if (!key[h] || cb[i].arrival_us < first[h])
                        first[h] = cb[i].arrival_us;
                key[h] = r->rec[at].card;
        }
        for (size_t i = 0; i < r->n; i++) {
                size_t h;

                for (h = r->rec[i].card & (cap - 1); key[h] && key[h] != r->rec[i].card;
                     h = (h + 1) & (cap - 1))
                        ;
                r->rec[i].first_cb = key[h] ? first[h] : INT64_MAX;
        }
        free(key);
        free(first);
        return 0;
}

/* ---- figures ---- */

/* The arrays of one set of records, for trainer/evaluate.h. */
struct cut {
        double *p, *fn;
        uint8_t *label, *flag;
        int64_t *t;
        uint64_t *card;
        float *lat;
        size_t n, n_cp; /* n_cp: the first n_cp entries of the cp arrays */
        double *cp_p;
        uint8_t *cp_label;
        int64_t *cp_t;
        uint64_t *cp_card;
};

struct figures {
        uint64_t n, evaluated, frauds;
        double auc, ap, cp, recall, fpr, saved;
        uint64_t decision[4], stage[4], degraded;
        double p50, p99;
        uint16_t version;
};

static int cut_alloc(struct cut *c, size_t n) {
        memset(c, 0, sizeof(*c));
        c->p = malloc((n + 1) * sizeof(double));
        c->fn = malloc((n + 1) * sizeof(double));
        c->label = malloc(n + 1);
        c->flag = malloc(n + 1);
        c->t = malloc((n + 1) * sizeof(int64_t));
        c->card = malloc((n + 1) * sizeof(uint64_t));
        c->lat = malloc((n + 1) * sizeof(float));
        c->cp_p = malloc((n + 1) * sizeof(double));
        c->cp_label = malloc(n + 1);
        c->cp_t = malloc((n + 1) * sizeof(int64_t));
        c->cp_card = malloc((n + 1) * sizeof(uint64_t));
        return c->p && c->fn && c->label && c->flag && c->t && c->card && c->lat && c->cp_p &&
                               c->cp_label && c->cp_t && c->cp_card
                       ? 0
                       : -ENOMEM;
}

static void cut_free(struct cut *c) {
        free(c->p);
        free(c->fn);
        free(c->label);
        free(c->flag);
        free(c->t);
        free(c->card);
        free(c->lat);
        free(c->cp_p);
        free(c->cp_label);
        free(c->cp_t);
        free(c->cp_card);
}

/* Moves the k-th smallest of v[0, n) to v[k], smaller ones before it and
 * larger ones after (Hoare's selection, median-of-three pivot): a
 * quantile in linear time, the value a sort would put there. */
static void float_select(float *v, size_t n, size_t k) {
        size_t lo = 0, hi = n - 1;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
                float a = v[lo], b = v[mid], c = v[hi], pivot, t;

                pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
                while (i <= j) {
                        while (v[i] < pivot)
                                i++;
                        while (v[j] > pivot)
                                j--;
                        if (i <= j) {
                                t = v[i], v[i] = v[j], v[j] = t;
                                i++;
                                if (j-- == 0)
                                        break;
                        }
                }
                if (k <= j && j != SIZE_MAX)
                        hi = j;
                else if (k >= i)
                        lo = i;
                else
                        return; /* v[j + 1, i) all equal the pivot */
        }
}

void report_quantiles(float *v, size_t n, double *p50, double *p99) {
        size_t a = n / 2, b = (size_t)(0.99 * (double)(n - 1));

        float_select(v, n, a);
        if (b > a)
                float_select(v + a + 1, n - a - 1, b - a - 1);
        else if (b < a)
                float_select(v, a, b);
        *p50 = v[a];
        *p99 = v[b];
}

/* Counts over every record of [from, to), and the evaluated ones into c. */
static void cut_fill(const struct report *r, const struct record *rec, size_t from, size_t to,
                     struct cut *c, struct figures *f) {
        const struct fraud_settings_scorer *sc = &r->s->scorer;
        uint32_t used[REPORT_VERSIONS_MAX] = {0};
        size_t nl = 0;

        memset(f, 0, sizeof(*f));
        c->n = c->n_cp = 0;
        for (size_t i = from; i < to; i++) {
                const struct record *x = &rec[i];

                f->n++;
                f->decision[x->decision & 3]++;
                f->stage[x->stage & 3]++;
                f->degraded += x->degraded;
                used[x->version]++;
                if (x->latency_us >= 0)
                        c->lat[nl++] = x->latency_us;
                if (x->t_us > r->latest_us - r->maturity_us)
                        continue;
                c->p[c->n] = x->p;
                c->label[c->n] = x->fraud;
                c->flag[c->n] = x->decision == CASCADE_BLOCK;
                c->fn[c->n] = sc->cost_fn_is_amount ? (double)x->amount : sc->cost_false_negative;
                c->t[c->n] = x->t_us;
                c->card[c->n] = x->card;
                c->n++;
                if (x->first_cb < fraud_time_day_index(x->t_us) * FRAUD_USEC_PER_DAY)
                        continue; /* the card is known compromised */
                c->cp_p[c->n_cp] = x->p;
                c->cp_label[c->n_cp] = x->fraud;
                c->cp_t[c->n_cp] = x->t_us;
                c->cp_card[c->n_cp] = x->card;
                c->n_cp++;
        }
        for (size_t v = 1; v < r->n_versions; v++)
                if (used[v] > used[f->version])
                        f->version = (uint16_t)v;
        f->p50 = f->p99 = NAN;
        if (nl)
                report_quantiles(c->lat, nl, &f->p50, &f->p99);
}

/* with_cp false leaves f->cp to the caller. */
static void figures_compute(const struct report *r, struct cut *c, struct figures *f,
                            bool with_cp) {
        const struct fraud_settings_scorer *sc = &r->s->scorer;
        uint64_t tp = 0, fp = 0, pos = 0;
        int k = (int)r->s->trainer.precision_k;

        f->evaluated = c->n;
        f->saved = 0;
        for (size_t i = 0; i < c->n; i++) {
                pos += c->label[i];
                tp += c->label[i] && c->flag[i];
                fp += !c->label[i] && c->flag[i];
                if (c->flag[i])
                        f->saved += c->label[i] ? c->fn[i] : -sc->cost_false_positive;
        }
        f->frauds = pos;
        f->recall = pos ? (double)tp / (double)pos : NAN;
        f->fpr = c->n > pos ? (double)fp / (double)(c->n - pos) : NAN;
        if (evaluate_ranking(c->p, c->label, c->n, &f->auc, &f->ap) < 0)
                f->auc = f->ap = NAN;
        if (!with_cp)
                return;
        if (c->n_cp == 0 || evaluate_card_precision_at_k(c->cp_p, c->cp_label, c->cp_t, c->cp_card,
                                                         c->n_cp, (size_t)k, &f->cp) < 0)
                f->cp = NAN;
}

/* ---- JSON ---- */

static void json_str(FILE *o, const char *s) {
        putc('"', o);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\')
                        fprintf(o, "\\%c", ch);
                else if (ch < 0x20)
                        fprintf(o, "\\u%04x", ch);
                else
                        putc(ch, o);
        }
        putc('"', o);
}

static void json_num(FILE *o, double v) {
        if (isfinite(v))
                fprintf(o, "%.10g", v);
        else
                fputs("null", o);
}

static void json_time(FILE *o, int64_t t_us) {
        char buf[FRAUD_TIME_ISO8601_MAX];

        if (t_us == INT64_MIN || t_us == INT64_MAX) {
                fputs("null", o);
                return;
        }
        fraud_time_format_iso8601(t_us, buf);
        json_str(o, buf);
}

static void json_day(FILE *o, int64_t day) {
        int64_t y;
        unsigned mo, d;

        fraud_time_civil_from_days(day, &y, &mo, &d);
        fprintf(o, "\"%04lld-%02u-%02u\"", (long long)y, mo, d);
}

static void json_figures(FILE *o, const struct report *r, const struct figures *f, bool day) {
        fprintf(o, "\"transactions\": %llu, \"evaluated\": %llu, \"frauds\": %llu, \"auc_roc\": ",
                (unsigned long long)f->n, (unsigned long long)f->evaluated,
                (unsigned long long)f->frauds);
        json_num(o, f->auc);
        fputs(", \"average_precision\": ", o);
        json_num(o, f->ap);
        fputs(", \"card_precision_at_k\": ", o);
        json_num(o, f->cp);
        fputs(", \"recall\": ", o);
        json_num(o, f->recall);
        fputs(", \"false_positive_rate\": ", o);
        json_num(o, f->fpr);
        fputs(", \"money_saved\": ", o);
        json_num(o, f->saved);
        if (!day)
                return;
        fprintf(o,
                ", \"decisions\": {\"allow\": %llu, \"review\": %llu, \"block\": %llu}, "
                "\"stages\": {\"rules\": %llu, \"gbdt\": %llu, \"neural\": %llu}, "
                "\"degraded\": %llu, \"model_version\": ",
                (unsigned long long)f->decision[CASCADE_ALLOW],
                (unsigned long long)f->decision[CASCADE_REVIEW],
                (unsigned long long)f->decision[CASCADE_BLOCK],
                (unsigned long long)f->stage[CASCADE_STAGE_RULES],
                (unsigned long long)f->stage[CASCADE_STAGE_GBDT],
                (unsigned long long)f->stage[CASCADE_STAGE_NEURAL],
                (unsigned long long)f->degraded);
        json_str(o, r->versions[f->version]);
        fputs(", \"latency_usec\": {\"p50\": ", o);
        json_num(o, f->p50);
        fputs(", \"p99\": ", o);
        json_num(o, f->p99);
        fputs("}", o);
}

static int by_time(const void *a, const void *b) {
        const struct record *x = a, *y = b;

        return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

static bool by_time_sorted(const struct record *v, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (v[i].t_us < v[i - 1].t_us)
                        return false;
        return true;
}

/* The days, in order, and the overall figures.  Card precision@k is a
 * mean over days of each day's precision, so the overall one is the mean
 * of the days' own, summed in day order as evaluate.c sums them. */
static int json_days(FILE *o, struct report *r, struct record *sorted, struct cut *c) {
        struct figures f;
        size_t from = 0, cp_days = 0;
        double cp_sum = 0;
        bool cp_failed = false;

        fputs("  \"days\": [", o);
        while (from < r->n) {
                int64_t day = fraud_time_day_index(sorted[from].t_us);
                size_t to = from;

                while (to < r->n && fraud_time_day_index(sorted[to].t_us) == day)
                        to++;
                cut_fill(r, sorted, from, to, c, &f);
                figures_compute(r, c, &f, true);
                if (c->n_cp > 0) {
                        cp_failed |= isnan(f.cp);
                        cp_sum += f.cp;
                        cp_days++;
                }
                fputs(from ? ",\n    {\"day\": " : "\n    {\"day\": ", o);
                json_day(o, day);
                fputs(", ", o);
                json_figures(o, r, &f, true);
                fputs("}", o);
                from = to;
        }
        fputs("\n  ],\n", o);
        cut_fill(r, sorted, 0, r->n, c, &f);
        figures_compute(r, c, &f, false);
        f.cp = cp_days == 0 || cp_failed ? NAN : cp_sum / (double)cp_days;
        r->overall = (struct report_overall){
                .evaluated = f.evaluated, .frauds = f.frauds, .not_evaluated = f.n - f.evaluated,
                .auc_roc = f.auc, .average_precision = f.ap, .card_precision = f.cp,
                .recall = f.recall, .false_positive_rate = f.fpr, .money_saved = f.saved};
        fputs("  \"overall\": {", o);
        json_figures(o, r, &f, false);
        fputs("},\n", o);
        return 0;
}

static void json_histogram(FILE *o, const struct report *r) {
        uint64_t h[2][REPORT_HIST_BINS] = {{0}};

        for (size_t i = 0; i < r->n; i++) {
                int b = (int)(r->rec[i].p * REPORT_HIST_BINS);

                if (r->rec[i].t_us > r->latest_us - r->maturity_us)
                        continue;
                h[r->rec[i].fraud][b < 0 ? 0 : b >= REPORT_HIST_BINS ? REPORT_HIST_BINS - 1 : b]++;
        }
        fputs("  \"score_histogram\": {\"edges\": [", o);
        for (int b = 0; b <= REPORT_HIST_BINS; b++)
                fprintf(o, "%s%.2f", b ? ", " : "", (double)b / REPORT_HIST_BINS);
        for (int cls = 1; cls >= 0; cls--) {
                fprintf(o, "], \"%s\": [", cls ? "fraud" : "legit");
                for (int b = 0; b < REPORT_HIST_BINS; b++)
                        fprintf(o, "%s%llu", b ? ", " : "", (unsigned long long)h[cls][b]);
        }
        fputs("]},\n", o);
}

static void json_arrival(FILE *o, const struct report *r) {
        uint64_t sum = 0;

        fputs("  \"label_arrival\": {\"days\": [", o);
        for (int d = 0; d <= REPORT_ARRIVAL_DAYS; d++)
                fprintf(o, "%s%d", d ? ", " : "", d);
        fputs("], \"share\": [", o);
        for (int d = 0; d <= REPORT_ARRIVAL_DAYS; d++) {
                sum += r->arrival[d];
                fprintf(o, "%s%.6f", d ? ", " : "",
                        r->arrival_n ? (double)sum / (double)r->arrival_n : 0.0);
        }
        fprintf(o, "], \"chargebacks\": %llu},\n", (unsigned long long)r->arrival_n);
}

/* Per version: the first payment it served and how many. */
static void json_models(FILE *o, const struct report *r, const struct record *sorted) {
        fputs("  \"models\": [", o);
        for (size_t i = 0; i < r->n_rounds; i++) {
                const struct round_copy *c = &r->rounds[i];
                int64_t from = INT64_MIN;
                uint64_t served = 0;
                uint16_t v = 0;

                for (size_t k = 1; k < r->n_versions; k++)
                        if (strcmp(r->versions[k], c->version) == 0)
                                v = (uint16_t)k;
                for (size_t k = 0; v && k < r->n; k++)
                        if (sorted[k].version == v) {
                                if (!served)
                                        from = sorted[k].t_us;
                                served++;
                        }
                fputs(i ? ",\n    {\"version\": " : "\n    {\"version\": ", o);
                json_str(o, c->version);
                fputs(", \"label_cutoff\": ", o);
                json_time(o, c->cutoff_us);
                fputs(", \"status\": ", o);
                json_str(o, c->outcome);
                fprintf(o, ", \"promoted\": %s, \"reason\": ",
                        strcmp(c->outcome, "promoted") == 0 ? "true" : "false");
                json_str(o, c->reason);
                fputs(", \"average_precision\": ", o);
                json_num(o, c->ap);
                fputs(", \"auc_roc\": ", o);
                json_num(o, c->auc);
                fprintf(o, ", \"train_rows\": %zu, \"served_from\": ", c->train_rows);
                json_time(o, served ? from : INT64_MIN);
                fprintf(o, ", \"served_transactions\": %llu}", (unsigned long long)served);
        }
        fputs("\n  ],\n", o);
}

static void json_head(FILE *o, const struct report *r, const struct report_run *run) {
        const struct fraud_settings *s = r->s;

        fputs("{\n  \"format\": \"fraud-backtest-report/1\",\n  \"title\": ", o);
        json_str(o, run->title);
        fputs(",\n  \"input\": {\"transactions\": ", o);
        json_str(o, run->transactions);
        fputs(", \"chargebacks\": ", o);
        json_str(o, run->chargebacks ? run->chargebacks : "");
        fputs(", \"first_event\": ", o);
        json_time(o, r->n ? r->rec[0].t_us : INT64_MIN);
        fputs(", \"last_event\": ", o);
        json_time(o, r->latest_us);
        fprintf(o,
                "},\n  \"settings\": {\"label_maturity_days\": %lld, \"evaluation_gap_days\": "
                "%lld, \"eval_maturity_days\": %lld, \"precision_at_k\": %lld, "
                "\"cost_false_positive\": ",
                (long long)s->labeler.maturity_days, (long long)s->trainer.label_maturity_days,
                (long long)(r->maturity_us / FRAUD_USEC_PER_DAY), (long long)s->trainer.precision_k);
        json_num(o, s->scorer.cost_false_positive);
        fputs(", \"cost_false_negative\": ", o);
        json_num(o, s->scorer.cost_false_negative);
        fprintf(o, ", \"cost_fn_is_amount\": %s, \"retrain\": ",
                s->scorer.cost_fn_is_amount ? "true" : "false");
        json_str(o, run->retrain);
        fprintf(o, ", \"warmup_days\": %lld},\n", (long long)s->trainer.warmup_days);
}

static void json_totals(FILE *o, const struct report *r, const struct report_run *run) {
        const struct report_overall *v = &r->overall;

        fprintf(o,
                "  \"totals\": {\"transactions\": %llu, \"rejected\": %llu, \"duplicates\": "
                "%llu, \"scored\": %zu, \"chargebacks\": %llu, \"evaluated\": %llu, "
                "\"not_evaluated_immature\": %llu, \"frauds_evaluated\": %llu, \"labels\": %llu, "
                "\"elapsed_sec\": %.3f, \"tx_per_sec\": %.1f, \"tx_per_sec_without_training\": "
                "%.1f, \"train_sec\": %.3f, \"rounds\": %llu, \"promoted\": %llu, "
                "\"rejected_models\": %llu, \"skipped_days\": %llu}\n}\n",
                (unsigned long long)run->lines, (unsigned long long)run->rejected,
                (unsigned long long)run->duplicates, r->n, (unsigned long long)r->arrival_n,
                (unsigned long long)v->evaluated, (unsigned long long)v->not_evaluated,
                (unsigned long long)v->frauds, (unsigned long long)run->labels, run->elapsed_sec,
                run->elapsed_sec > 0 ? (double)r->n / run->elapsed_sec : 0.0,
                run->elapsed_sec > run->train_sec
                        ? (double)r->n / (run->elapsed_sec - run->train_sec)
                        : 0.0,
                run->train_sec, (unsigned long long)run->rounds,
                (unsigned long long)run->promoted, (unsigned long long)run->rejected_models,
                (unsigned long long)run->skipped_days);
}

static int labels_load(struct report *r, const char *path, char *err, size_t err_size) {
        const struct offline_options o = {.chargebacks = path};
        struct offline_chargeback *cb = NULL;
        struct offline_counts k;
        size_t n_cb = 0, *idx = malloc(id_slots(r) * sizeof(size_t));
        int rc = idx ? 0 : -ENOMEM;

        if (rc == 0 && path)
                rc = offline_chargebacks_load(&o, &cb, &n_cb, &k, err, err_size);
        if (rc == 0) {
                id_index(r, idx, id_slots(r));
                labels_apply(r, idx, cb, n_cb);
                rc = cards_compromised(r, idx, cb, n_cb);
        }
        if (rc == -ENOMEM)
                snprintf(err, err_size, "out of memory");
        free(cb);
        free(idx);
        return rc;
}

int report_write_json(struct report *r, const struct report_run *run, const char *chargebacks,
                      FILE *out, char *err, size_t err_size) {
        struct record *sorted = NULL;
        struct cut c = {0};
        int rc = labels_load(r, chargebacks, err, err_size);

        if (rc < 0)
                return rc;
        sorted = malloc((r->n + 1) * sizeof(*sorted));
        if (!sorted || cut_alloc(&c, r->n) < 0) {
                free(sorted);
                cut_free(&c);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        memcpy(sorted, r->rec, r->n * sizeof(*sorted));
        if (!by_time_sorted(sorted, r->n)) /* a backtest scores in time order: mostly sorted */
                qsort(sorted, r->n, sizeof(*sorted), by_time); /* ties keep no meaning */
        json_head(out, r, run);
        json_days(out, r, sorted, &c);
        json_models(out, r, sorted);
        json_histogram(out, r);
        json_arrival(out, r);
        json_totals(out, r, run);
        cut_free(&c);
        free(sorted);
        if (ferror(out)) {
                snprintf(err, err_size, "write error");
                return -EIO;
        }
        return 0;
}

void report_overall(const struct report *r, struct report_overall *out) {
        *out = r->overall;
}

/* ---- files ---- */

int report_csv_header(FILE *out) {
        fputs("transaction_id,event_time,card_hash,probability,decision,stage,model_version,"
              "degraded\n",
              out);
        return ferror(out) ? -EIO : 0;
}

/* q / 10^9 as "I.FFFFFFFFF". */
static void fixed9_digits(uint64_t q, char *out) {
        uint64_t ip = q / 1000000000u, fp = q % 1000000000u;
        char digits[24];
        int n = 0;

        do
                digits[n++] = (char)('0' + ip % 10);
        while ((ip /= 10) != 0);
        while (n > 0)
                *out++ = digits[--n];
        *out++ = '.';
        for (int i = 8; i >= 0; i--, fp /= 10)
                out[i] = (char)('0' + fp % 10);
        out[9] = '\0';
}

__extension__ typedef unsigned __int128 u128; /* GCC and Clang on 64-bit targets */

/* Writes v in [0, 1024) as printf's "%.9f" does, exactly: v = m * 2^-s,
 * so v * 10^9 = m * 10^9 / 2^s, rounded to nearest, ties to even (glibc's
 * rounding of the exact value).  Backtests write one per payment, and
 * printf's general conversion costs more than the rest of the row.
 * false (nothing written) outside that range or for NaN. */
static bool fixed9(double v, char *out) {
        u128 x, rem, half;
        uint64_t m, q;
        int e, s;

        if (!(v >= 0.0 && v < 1024.0))
                return false;
        if (v == 0.0 && signbit(v))
                return false;                  /* "-0.000000000" */
        m = (uint64_t)ldexp(frexp(v, &e), 53); /* v = m * 2^(e - 53), m < 2^53 exactly */
        s = 53 - e;                            /* > 0: v < 1024 */
        q = 0; /* v == 0, or s >= 84: m * 10^9 < 2^83 <= half, rounds to 0 */
        if (v != 0.0 && s < 84) {
                x = (u128)m * 1000000000u;
                q = (uint64_t)(x >> s);
                rem = x & (((u128)1 << s) - 1);
                half = (u128)1 << (s - 1);
                q += rem > half || (rem == half && (q & 1));
        }
        fixed9_digits(q, out);
        return true;
}

int report_csv_row(FILE *out, const struct report_score *s) {
        static const char *const decisions[4] = {"", "allow", "review", "block"};
        static const char *const stages[4] = {"", "rules", "gbdt", "neural"};
        char when[FRAUD_TIME_ISO8601_MAX], p[32], row[512];
        const char *cells[] = {s->transaction_id,
                               when,
                               s->card_hash,
                               p,
                               decisions[s->decision & 3],
                               stages[s->stage & 3],
                               s->model_version,
                               s->degraded ? "1" : "0"};
        const size_t n_cells = sizeof(cells) / sizeof(cells[0]);
        size_t n = 0;

        fraud_time_format_iso8601(s->event_time_us, when);
        if (!fixed9(s->probability, p))
                snprintf(p, sizeof(p), "%.9f", s->probability);
        for (size_t i = 0; i < n_cells; i++) { /* one write per row */
                size_t len = strlen(cells[i]);

                if (n + len + 1 > sizeof(row)) { /* a long id: what is there, then the cell */
                        fwrite(row, 1, n, out);
                        fwrite(cells[i], 1, len, out);
                        n = len = 0;
                }
                memcpy(row + n, cells[i], len);
                n += len;
                row[n++] = i + 1 < n_cells ? ',' : '\n';
        }
        fwrite(row, 1, n, out);
        return ferror(out) ? -EIO : 0;
}

int report_files_write(struct report *r, const struct report_run *run, const char *chargebacks,
                       const char *dir, char *err, size_t err_size) {
        char path[PATH_MAX];
        struct fraud_atomicfile f;
        char *json = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&json, &len);
        int rc = mem ? report_write_json(r, run, chargebacks, mem, err, err_size) : -ENOMEM;

        if (mem)
                fclose(mem);
        for (int i = 0; rc == 0 && i < 2; i++) { /* report.json, then the page from its bytes */
                if (snprintf(path, sizeof(path), "%s/%s", dir,
                             i ? "report.html" : "report.json") >= (int)sizeof(path))
                        rc = -ENAMETOOLONG;
                else if ((rc = fraud_atomicfile_open(&f, path)) == 0) {
                        rc = i ? report_html_write(f.f, json, len)
                               : (fwrite(json, 1, len, f.f) == len ? 0 : -EIO);
                        rc = rc == 0 ? fraud_atomicfile_commit(&f) : rc;
                        if (rc < 0)
                                fraud_atomicfile_abort(&f);
                }
                if (rc < 0)
                        snprintf(err, err_size, "%s: %s", path, strerror(-rc));
        }
        if (rc == -ENOMEM && !mem)
                snprintf(err, err_size, "out of memory");
        free(json);
        return rc;
}
