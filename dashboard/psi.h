/* psi.h: drift of a distribution against a reference, as the population
 * stability index.
 *
 *   PSI = sum over bins i of (a_i - e_i) * ln(a_i / e_i)
 *
 * where e_i is the share of the reference in bin i and a_i the share of
 * the recent window.  The usual reading (psi_band_of()): below 0.1 the
 * distribution is stable, 0.1 to 0.25 a moderate shift worth a look, above
 * 0.25 a significant one (retrain, or find what changed upstream).
 *
 * Bins are the reference's own quantiles: psi_edges() cuts a reference
 * sample at its j/bins quantiles (j = 1 .. bins-1), so each bin holds
 * about the same share of the reference; equal cut points are merged,
 * so a variable with few distinct values (a flag, a count that is
 * mostly 0) gets fewer, wider bins rather than empty ones.  A value x
 * falls in bin i = the number of cut points below it (x equal to a cut
 * point stays in the lower bin).  Missing values (NaN) have a bin of their
 * own, after the others: a feature that starts to be missing is a drift
 * too.  An empty bin would make the logarithm infinite, so every share
 * is smoothed: (count + 0.5) / (total + 0.5 * bins).  With both samples
 * of size N from the same distribution and B bins, PSI is about
 * (B - 1) * 2 / N (0.0036 for 10 bins and 5,000 records), well below 0.1.
 *
 * struct psi_set tracks several variables observed together (a Score's
 * probability; the values of a FeatureVector): the first reference_n
 * observations form the reference (kept until complete, then reduced to
 * cut points and bin counts), every later one enters a sliding window of
 * the last window_n, whose bin counts are kept up to date as it slides.
 * The PSI of a variable is defined once the window is full.  Memory:
 * vars * reference_n doubles while the reference is collected, then
 * vars * window_n bytes plus the counts.
 *
 * Pure: no I/O, no clock; deterministic.  One thread.
 */
#ifndef FRAUD_DASHBOARD_PSI_H
#define FRAUD_DASHBOARD_PSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard/limits.h"

#define PSI_STABLE_BELOW      0.1  /* PSI < this: stable */
#define PSI_SIGNIFICANT_ABOVE 0.25 /* PSI > this: significant */
#define PSI_BINS_MAX          DASHBOARD_PSI_BINS_MAX
#define PSI_SLOTS_MAX         (PSI_BINS_MAX + 1) /* bins and the missing bin */
#define PSI_VARS_MAX          1024
#define PSI_RECORDS_MAX       DASHBOARD_PSI_RECORDS_MAX

enum psi_band {
        PSI_BAND_STABLE,      /* < 0.1 */
        PSI_BAND_MODERATE,    /* 0.1 .. 0.25 */
        PSI_BAND_SIGNIFICANT, /* > 0.25 */
};

/* The band of a PSI value (NaN: stable, nothing to say yet). */
enum psi_band psi_band_of(double psi);
/* "stable", "moderate", "significant". */
const char *psi_band_name(enum psi_band band);

/* Sorts sample (n values, none NaN) and writes its cut points for bins
 * bins (2..PSI_BINS_MAX) to edges (bins - 1 entries): the sample at ranks
 * j * n / bins, j = 1 .. bins-1, each written only when greater than the
 * previous one.  Returns how many it wrote (0 when n is 0). */
size_t psi_edges(double *sample, size_t n, size_t bins, double *edges);

/* The bin of x: the number of cut points below x (0 .. n_edges), or
 * n_edges + 1 when x is NaN. */
size_t psi_bin(const double *edges, size_t n_edges, double x);

/* PSI of two histograms of the same bins (counts), smoothed as above.
 * NaN when either is empty. */
double psi_index(const uint64_t *expected, const uint64_t *actual, size_t bins);

struct psi_set;

/* vars 1..PSI_VARS_MAX, reference_n and window_n 1..PSI_RECORDS_MAX, bins
 * 2..PSI_BINS_MAX.  -EINVAL, -ENOMEM. */
int psi_set_new(size_t vars, size_t reference_n, size_t window_n, size_t bins,
                struct psi_set **out);
/* NULL is a no-op. */
void psi_set_free(struct psi_set *s);

/* One observation of every variable: values[vars] (borrowed). */
void psi_set_add(struct psi_set *s, const double *values);

size_t psi_set_vars(const struct psi_set *s);
/* Observations in the reference so far (reference_n once complete). */
size_t psi_set_reference_count(const struct psi_set *s);
/* Observations in the window (window_n once full). */
size_t psi_set_window_count(const struct psi_set *s);
/* The reference is complete and the window full. */
bool psi_set_ready(const struct psi_set *s);
/* The PSI of variable var, or NaN before psi_set_ready(). */
double psi_set_value(const struct psi_set *s, size_t var);
/* Variable var's bins with their counts (for a chart): the number of
 * slots (bins + the missing bin), copied into reference and window
 * (PSI_SLOTS_MAX entries each), or 0 before the reference is complete. */
size_t psi_set_counts(const struct psi_set *s, size_t var, uint64_t *reference, uint64_t *window);

#endif
