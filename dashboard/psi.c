/* psi.c: see psi.h.
 *
 * A set's memory: sample (vars x reference_n doubles, variable-major so
 * that each variable's sample sorts in place) until the reference is
 * complete; then, per variable, its cut points, the reference's counts
 * and the window's counts; and the window itself as a ring of window_n
 * rows of vars bytes (each a bin index, < PSI_SLOTS_MAX).
 */
#include "dashboard/psi.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(PSI_SLOTS_MAX <= 255, "a bin index fits a byte");

struct psi_var {
        size_t n_edges;
        double edges[PSI_BINS_MAX - 1];
        uint64_t reference[PSI_SLOTS_MAX];
        uint64_t window[PSI_SLOTS_MAX];
};

struct psi_set {
        size_t vars, reference_n, window_n, bins;
        size_t collected;    /* reference observations so far */
        double *sample;      /* NULL once the reference is complete */
        struct psi_var *var; /* vars */
        unsigned char *ring; /* window_n rows of vars bin indices */
        size_t ring_head;    /* next row to write (the oldest when full) */
        size_t ring_count;
};

enum psi_band psi_band_of(double psi) {
        if (psi > PSI_SIGNIFICANT_ABOVE)
                return PSI_BAND_SIGNIFICANT;
        if (psi >= PSI_STABLE_BELOW)
                return PSI_BAND_MODERATE;
        return PSI_BAND_STABLE;
}

const char *psi_band_name(enum psi_band band) {
        switch (band) {
        case PSI_BAND_MODERATE:
                return "moderate";
        case PSI_BAND_SIGNIFICANT:
                return "significant";
        default:
                return "stable";
        }
}

static int psi_double_cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

size_t psi_edges(double *sample, size_t n, size_t bins, double *edges) {
        size_t k = 0;

        if (n == 0 || bins < 2)
                return 0;
        qsort(sample, n, sizeof(sample[0]), psi_double_cmp);
        for (size_t j = 1; j < bins; j++) {
                double cut = sample[j * n / bins];
                if (k == 0 || cut > edges[k - 1])
                        edges[k++] = cut;
        }
        return k;
}

size_t psi_bin(const double *edges, size_t n_edges, double x) {
        size_t lo = 0, hi = n_edges;

        if (isnan(x))
                return n_edges + 1;
        while (lo < hi) { /* the first cut point >= x */
                size_t mid = lo + (hi - lo) / 2;
                if (edges[mid] < x)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

double psi_index(const uint64_t *expected, const uint64_t *actual, size_t bins) {
        double te = 0, ta = 0, psi = 0;

        for (size_t i = 0; i < bins; i++) {
                te += (double)expected[i];
                ta += (double)actual[i];
        }
        if (te == 0 || ta == 0)
                return NAN;
        for (size_t i = 0; i < bins; i++) {
                double e = ((double)expected[i] + 0.5) / (te + 0.5 * (double)bins);
                double a = ((double)actual[i] + 0.5) / (ta + 0.5 * (double)bins);
                psi += (a - e) * log(a / e);
        }
        return psi;
}

/* ---- a set of variables ---- */

int psi_set_new(size_t vars, size_t reference_n, size_t window_n, size_t bins,
                struct psi_set **out) {
        struct psi_set *s;

        *out = NULL;
        if (vars == 0 || vars > PSI_VARS_MAX || reference_n == 0 || reference_n > PSI_RECORDS_MAX ||
            window_n == 0 || window_n > PSI_RECORDS_MAX || bins < 2 || bins > PSI_BINS_MAX)
                return -EINVAL;
        if (!(s = calloc(1, sizeof(*s))))
                return -ENOMEM;
        *s = (struct psi_set){
                .vars = vars, .reference_n = reference_n, .window_n = window_n, .bins = bins};
        s->sample = malloc(vars * reference_n * sizeof(s->sample[0]));
        s->var = calloc(vars, sizeof(s->var[0]));
        s->ring = malloc(vars * window_n);
        if (!s->sample || !s->var || !s->ring) {
                psi_set_free(s);
                return -ENOMEM;
        }
        *out = s;
        return 0;
}

void psi_set_free(struct psi_set *s) {
        if (!s)
                return;
        free(s->sample);
        free(s->var);
        free(s->ring);
        free(s);
}

/* Variable v's cut points and reference counts from its sample. */
static void psi_var_reduce(struct psi_set *s, size_t v, double *sample) {
        struct psi_var *pv = &s->var[v];
        size_t known = 0;

        for (size_t i = 0; i < s->reference_n; i++) /* NaN first out: counted apart */
                if (!isnan(sample[i]))
                        sample[known++] = sample[i];
        pv->n_edges = psi_edges(sample, known, s->bins, pv->edges);
        for (size_t i = 0; i < known; i++)
                pv->reference[psi_bin(pv->edges, pv->n_edges, sample[i])]++;
        pv->reference[pv->n_edges + 1] = s->reference_n - known;
}

static void psi_window_add(struct psi_set *s, const double *values) {
        unsigned char *row = s->ring + s->ring_head * s->vars;

        for (size_t v = 0; v < s->vars; v++) {
                struct psi_var *pv = &s->var[v];
                if (s->ring_count == s->window_n)
                        pv->window[row[v]]--;
                row[v] = (unsigned char)psi_bin(pv->edges, pv->n_edges, values[v]);
                pv->window[row[v]]++;
        }
        s->ring_head = (s->ring_head + 1) % s->window_n;
        if (s->ring_count < s->window_n)
                s->ring_count++;
}

void psi_set_add(struct psi_set *s, const double *values) {
        if (!s->sample) {
                psi_window_add(s, values);
                return;
        }
        for (size_t v = 0; v < s->vars; v++)
                s->sample[v * s->reference_n + s->collected] = values[v];
        if (++s->collected < s->reference_n)
                return;
        for (size_t v = 0; v < s->vars; v++)
                psi_var_reduce(s, v, s->sample + v * s->reference_n);
        free(s->sample);
        s->sample = NULL;
}

size_t psi_set_vars(const struct psi_set *s) {
        return s->vars;
}

size_t psi_set_reference_count(const struct psi_set *s) {
        return s->collected;
}

size_t psi_set_window_count(const struct psi_set *s) {
        return s->ring_count;
}

bool psi_set_ready(const struct psi_set *s) {
        return !s->sample && s->ring_count == s->window_n;
}

double psi_set_value(const struct psi_set *s, size_t var) {
        const struct psi_var *pv = &s->var[var];

        if (!psi_set_ready(s))
                return NAN;
        return psi_index(pv->reference, pv->window, pv->n_edges + 2);
}

size_t psi_set_counts(const struct psi_set *s, size_t var, uint64_t *reference, uint64_t *window) {
        const struct psi_var *pv = &s->var[var];
        size_t slots = pv->n_edges + 2;

        if (s->sample)
                return 0;
        memcpy(reference, pv->reference, slots * sizeof(reference[0]));
        memcpy(window, pv->window, slots * sizeof(window[0]));
        return slots;
}
