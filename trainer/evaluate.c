/* evaluate.c: ranking metrics, card precision@k and the cost model (see
 * evaluate.h for the definitions).
 *
 * Design.  Every ranking metric walks the payments once in descending score
 * order, one group of equal scores at a time: ties are handled by the
 * group, never by where a sort happened to put them.  The order is computed
 * by a stable radix sort of (score, index) pairs, so it is total and
 * deterministic: score descending, then index.
 * Memory: two arrays of n pairs (or one of n card-day records) per call, freed
 * before returning.
 */
#include "trainer/evaluate.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"

struct ranked {
        double score;
        size_t idx;
};

/* The sort key of a finite score: ascending as the score descends, and
 * one key for -0.0 and 0.0, which compare equal. */
static uint64_t ranked_key(double score) {
        uint64_t b;

        if (score == 0.0)
                score = 0.0;
        memcpy(&b, &score, sizeof(b));
        b = b >> 63 ? ~b : b | UINT64_C(1) << 63; /* ascending with the score */
        return ~b;
}

/* Sorts v by score, high first, ties in index order: a stable least
 * significant digit radix sort (eight passes of a byte, those where every
 * key has the same byte skipped) of pairs that start in index order.
 * tmp: n pairs of scratch. */
static void ranked_sort(struct ranked *v, struct ranked *tmp, size_t n) {
        size_t count[8][256] = {{0}};
        struct ranked *from = v, *to = tmp, *t;

        for (size_t i = 0; i < n; i++) {
                uint64_t k = ranked_key(v[i].score);

                for (int d = 0; d < 8; d++)
                        count[d][(k >> (8 * d)) & 0xff]++;
        }
        for (int d = 0; d < 8; d++) {
                size_t at = 0;

                if (count[d][(ranked_key(v[0].score) >> (8 * d)) & 0xff] == n)
                        continue; /* one byte for all: the pass would change nothing */
                for (int b = 0; b < 256; b++) {
                        size_t c = count[d][b];

                        count[d][b] = at;
                        at += c;
                }
                for (size_t i = 0; i < n; i++)
                        to[count[d][(ranked_key(from[i].score) >> (8 * d)) & 0xff]++] = from[i];
                t = from, from = to, to = t;
        }
        if (from != v)
                memcpy(v, from, n * sizeof(*v));
}

/* The payments high score first; NULL with *r set on failure. */
static struct ranked *ranked_new(const double *score, size_t n, int *r) {
        struct ranked *v = malloc((n ? 2 * n : 1) * sizeof(*v));

        *r = 0;
        if (!v) {
                *r = -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(score[i])) {
                        free(v);
                        *r = -EINVAL;
                        return NULL;
                }
                v[i] = (struct ranked){score[i], i};
        }
        if (n > 0)
                ranked_sort(v, v + n, n);
        return v;
}

void evaluate_rank(const double *score, size_t *idx, size_t n) {
        int r;
        struct ranked *v = ranked_new(score, n, &r);

        for (size_t i = 0; i < n; i++) /* the index order if ranking failed */
                idx[i] = v ? v[i].idx : i;
        free(v);
}

static void class_counts(const uint8_t *label, size_t n, uint64_t *pos, uint64_t *neg) {
        *pos = 0;
        for (size_t i = 0; i < n; i++)
                *pos += label[i] != 0;
        *neg = n - *pos;
}

/* Positives and negatives of the tie group starting at v[*i]; advances *i. */
static void group_next(const struct ranked *v, const uint8_t *label, size_t n, size_t *i,
                       uint64_t *pos, uint64_t *neg) {
        size_t j = *i;

        *pos = *neg = 0;
        for (; j < n && v[j].score == v[*i].score; j++) {
                if (label[v[j].idx])
                        ++*pos;
                else
                        ++*neg;
        }
        *i = j;
}

/* AUC-ROC and average precision in one walk down the ranking, a tie group
 * at a time.  -EDOM when a class is absent. */
static int ranking_metrics(const double *score, const uint8_t *label, size_t n, double *auc,
                           double *ap) {
        uint64_t P, N, tp = 0, fp = 0;
        struct ranked *v;
        double pairs = 0;
        int r;

        class_counts(label, n, &P, &N);
        if (P == 0 || N == 0)
                return -EDOM;
        if (!(v = ranked_new(score, n, &r)))
                return r;
        *ap = 0;
        for (size_t i = 0; i < n;) {
                uint64_t gp, gn;

                group_next(v, label, n, &i, &gp, &gn);
                pairs += (double)gn * ((double)tp + 0.5 * (double)gp); /* tp: positives above */
                tp += gp;
                fp += gn;
                if (gp > 0)
                        *ap += (double)gp / (double)P * ((double)tp / (double)(tp + fp));
        }
        free(v);
        *auc = pairs / ((double)P * (double)N);
        return 0;
}

int evaluate_ranking(const double *score, const uint8_t *label, size_t n, double *auc, double *ap) {
        return ranking_metrics(score, label, n, auc, ap);
}

int evaluate_auc_roc(const double *score, const uint8_t *label, size_t n, double *out) {
        double ap;

        return ranking_metrics(score, label, n, out, &ap);
}

int evaluate_average_precision(const double *score, const uint8_t *label, size_t n, double *out) {
        double auc;

        return ranking_metrics(score, label, n, &auc, out);
}

void evaluate_confusion_at(const double *score, const uint8_t *label, size_t n, double threshold,
                           struct evaluate_confusion *c) {
        *c = (struct evaluate_confusion){0};
        for (size_t i = 0; i < n; i++) {
                bool flagged = score[i] > threshold;

                if (label[i] && flagged)
                        c->tp++;
                else if (label[i])
                        c->fn++;
                else if (flagged)
                        c->fp++;
                else
                        c->tn++;
        }
}

double evaluate_recall(const struct evaluate_confusion *c) {
        return c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0;
}

double evaluate_false_positive_rate(const struct evaluate_confusion *c) {
        return c->fp + c->tn ? (double)c->fp / (double)(c->fp + c->tn) : 0;
}

static double cost_fn(const struct evaluate_costs *c, size_t i) {
        return c->false_negative_each ? c->false_negative_each[i] : c->false_negative;
}

/* What flagging payment i saves (negative for a legitimate one). */
static double cost_saved(const struct evaluate_costs *c, const uint8_t *label, size_t i) {
        return label[i] ? cost_fn(c, i) : -c->false_positive;
}

double evaluate_cost_savings(const double *score, const uint8_t *label, size_t n, double threshold,
                             const struct evaluate_costs *costs) {
        double saved = 0;

        for (size_t i = 0; i < n; i++)
                if (score[i] > threshold)
                        saved += cost_saved(costs, label, i);
        return saved;
}

double evaluate_bayes_threshold(double false_positive, double false_negative) {
        return false_negative > 0 ? false_positive / (false_positive + false_negative) : 1.0;
}

double evaluate_cost_savings_bayes(const double *score, const uint8_t *label, size_t n,
                                   const struct evaluate_costs *costs) {
        double saved = 0;

        for (size_t i = 0; i < n; i++)
                if (score[i] > evaluate_bayes_threshold(costs->false_positive, cost_fn(costs, i)))
                        saved += cost_saved(costs, label, i);
        return saved;
}

int evaluate_cost_optimal_threshold(const double *score, const uint8_t *label, size_t n,
                                    const struct evaluate_costs *costs, double *threshold,
                                    double *savings) {
        double best = 0, here = 0; /* flagging nothing saves nothing */
        struct ranked *v;
        int r;

        if (!(v = ranked_new(score, n, &r)))
                return r;
        *threshold = n > 0 ? v[0].score : 1.0;
        for (size_t i = 0; i < n;) {
                size_t j = i;

                for (; j < n && v[j].score == v[i].score; j++)
                        here += cost_saved(costs, label, v[j].idx);
                if (here > best) {
                        best = here;
                        *threshold = j < n ? (v[i].score + v[j].score) / 2 : v[i].score / 2;
                }
                i = j;
        }
        free(v);
        *savings = best;
        return 0;
}

int evaluate_band(const double *score, size_t n, double threshold, double share, double *low,
                  double *high) {
        size_t m = (size_t)llround(share * (double)n), below = 0, start;
        struct ranked *v;
        int r;

        if (!(share >= 0 && share <= 1))
                return -EINVAL;
        *low = *high = threshold;
        if (m == 0)
                return 0;
        if (!(v = ranked_new(score, n, &r))) /* descending */
                return r;
        while (below < n && v[n - 1 - below].score <= threshold)
                below++;
        /* Ascending position i is v[n - 1 - i]; the window is [start, start + m). */
        start = below > m / 2 ? below - m / 2 : 0;
        if (start + m > n)
                start = n - m;
        *low = fmin(v[n - 1 - start].score, threshold);
        *high = fmax(v[n - start - m].score, threshold);
        free(v);
        return 0;
}

/* ---- card precision@k ---- */

/* One card on one day. */
struct card_day {
        int64_t day;
        uint64_t card;
        double score;  /* highest of the day */
        uint8_t fraud; /* any payment of the day */
};

static int card_day_by_key(const void *a, const void *b) {
        const struct card_day *x = a, *y = b;

        if (x->day != y->day)
                return x->day < y->day ? -1 : 1;
        return (x->card > y->card) - (x->card < y->card);
}

/* Day ascending, then score descending, then card ascending. */
static int card_day_by_rank(const void *a, const void *b) {
        const struct card_day *x = a, *y = b;

        if (x->day != y->day)
                return x->day < y->day ? -1 : 1;
        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return (x->card > y->card) - (x->card < y->card);
}

/* Collapses v (sorted by key) to one record per card and day; returns the
 * count. */
static size_t card_days_merge(struct card_day *v, size_t n) {
        size_t m = 0;

        for (size_t i = 0; i < n; i++) {
                if (m > 0 && v[m - 1].day == v[i].day && v[m - 1].card == v[i].card) {
                        v[m - 1].score = fmax(v[m - 1].score, v[i].score);
                        v[m - 1].fraud |= v[i].fraud;
                } else {
                        v[m++] = v[i];
                }
        }
        return m;
}

int evaluate_card_precision_at_k(const double *score, const uint8_t *label, const int64_t *time_us,
                                 const uint64_t *card, size_t n, size_t k, double *out) {
        struct card_day *v;
        size_t m, days = 0;
        double sum = 0;

        if (k == 0)
                return -EINVAL;
        *out = 0;
        if (n == 0)
                return 0;
        if (!(v = malloc(n * sizeof(*v))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(score[i])) {
                        free(v);
                        return -EINVAL;
                }
                v[i] = (struct card_day){fraud_time_day_index(time_us[i]), card[i], score[i],
                                         label[i] != 0};
        }
        qsort(v, n, sizeof(*v), card_day_by_key);
        m = card_days_merge(v, n);
        qsort(v, m, sizeof(*v), card_day_by_rank);
        for (size_t i = 0; i < m; days++) {
                size_t found = 0, rank = 0;
                int64_t day = v[i].day;

                for (; i < m && v[i].day == day; i++, rank++)
                        if (rank < k)
                                found += v[i].fraud;
                sum += (double)found / (double)k;
        }
        free(v);
        *out = sum / (double)days;
        return 0;
}

/* ---- a candidate on its holdout ---- */

static int scores_at(const struct evaluate_holdout *h, const double *p, double threshold, size_t k,
                     const struct evaluate_costs *c, struct evaluate_scores *s) {
        struct evaluate_confusion conf;
        int r = ranking_metrics(p, h->label, h->n, &s->auc_roc, &s->average_precision);

        if (r == 0)
                r = evaluate_card_precision_at_k(p, h->label, h->time_us, h->card, h->n, k,
                                                 &s->card_precision);
        if (r < 0)
                return r;
        evaluate_confusion_at(p, h->label, h->n, threshold, &conf);
        s->recall = evaluate_recall(&conf);
        s->false_positive_rate = evaluate_false_positive_rate(&conf);
        s->savings = evaluate_cost_savings(p, h->label, h->n, threshold, c);
        s->savings_bayes = evaluate_cost_savings_bayes(p, h->label, h->n, c);
        return 0;
}

int evaluate_candidate(const struct evaluate_holdout *h, const double *p_gbdt, const double *p_mlp,
                       double band_share, size_t k, const struct evaluate_costs *costs,
                       double *p_cascade, struct evaluate_candidate *out) {
        const double *p[EVALUATE_MODELS] = {p_gbdt, p_mlp, p_cascade};
        double saved;
        int r;

        r = evaluate_cost_optimal_threshold(p_gbdt, h->label, h->n, costs, &out->block_threshold,
                                            &saved);
        if (r == 0)
                r = evaluate_band(p_gbdt, h->n, out->block_threshold, band_share, &out->band_low,
                                  &out->band_high);
        if (r < 0)
                return r;
        out->review_threshold = out->band_low;
        for (size_t i = 0; i < h->n; i++) {
                bool in_band = p_gbdt[i] >= out->band_low && p_gbdt[i] <= out->band_high;

                p_cascade[i] = in_band ? p_mlp[i] : p_gbdt[i];
        }
        for (int m = 0; r == 0 && m < EVALUATE_MODELS; m++)
                r = scores_at(h, p[m], out->block_threshold, k, costs, &out->scores[m]);
        return r;
}

int evaluate_at_thresholds(const struct evaluate_holdout *h, const double *p_gbdt,
                           const double *p_mlp, const struct evaluate_candidate *t, size_t k,
                           const struct evaluate_costs *costs, double *p_cascade,
                           struct evaluate_candidate *out) {
        int r = 0;

        memset(out, 0, sizeof(*out));
        out->block_threshold = t->block_threshold;
        out->review_threshold = t->review_threshold;
        out->band_low = t->band_low;
        out->band_high = t->band_high;
        for (size_t i = 0; i < h->n; i++) {
                bool in_band = p_mlp && p_gbdt[i] >= t->band_low && p_gbdt[i] <= t->band_high;

                p_cascade[i] = in_band ? p_mlp[i] : p_gbdt[i];
        }
        r = scores_at(h, p_gbdt, t->block_threshold, k, costs, &out->scores[EVALUATE_GBDT]);
        if (r == 0 && p_mlp)
                r = scores_at(h, p_mlp, t->block_threshold, k, costs, &out->scores[EVALUATE_MLP]);
        if (r == 0)
                r = scores_at(h, p_cascade, t->block_threshold, k, costs,
                              &out->scores[EVALUATE_CASCADE]);
        return r;
}
