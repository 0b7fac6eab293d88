/* metrics.h: counters, gauges and histograms with Prometheus text exposition.
 *
 * A registry holds at most FRAUD_METRICS_MAX metrics, registered at start-up;
 * registration hands back a pointer that stays valid for the registry's
 * life, and the hot loop updates through it with plain stores (a stage is
 * one thread).  Several metrics may share a name with different label sets
 * ({reason="bad_amount"}); the exposition groups them under one HELP/TYPE.
 * Histograms have fixed upper bounds given at registration (cumulative
 * buckets on output, as Prometheus expects) and can estimate a quantile for
 * summaries printed by tools.
 */
#ifndef FRAUD_METRICS_H
#define FRAUD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/bounds.h"

enum fraud_metric_type {
        FRAUD_METRIC_COUNTER,
        FRAUD_METRIC_GAUGE,
        FRAUD_METRIC_HISTOGRAM,
};

struct fraud_histogram {
        size_t nbuckets;
        double upper[FRAUD_HISTOGRAM_BUCKETS_MAX];        /* ascending, finite */
        uint64_t counts[FRAUD_HISTOGRAM_BUCKETS_MAX + 1]; /* last is +Inf */
        uint64_t count;
        double sum;
};

struct fraud_metric {
        enum fraud_metric_type type;
        char name[FRAUD_METRICS_NAME_MAX];
        char labels[FRAUD_METRICS_LABELS_MAX]; /* "" or {k="v",...} */
        char help[FRAUD_METRICS_HELP_MAX];
        union {
                uint64_t counter;
                double gauge;
                struct fraud_histogram histogram;
        } v;
};

struct fraud_metrics;

int fraud_metrics_new(struct fraud_metrics **out);
void fraud_metrics_free(struct fraud_metrics *m);

/* Each returns the metric, or NULL when the registry is full, the name is not
 * a valid Prometheus name, labels are not "" or "{...}", or the same name was
 * registered with another type.  Registering the same name and labels twice
 * returns the first. */
uint64_t *fraud_metrics_counter(struct fraud_metrics *m, const char *name, const char *labels,
                                const char *help);
double *fraud_metrics_gauge(struct fraud_metrics *m, const char *name, const char *labels,
                            const char *help);
struct fraud_histogram *fraud_metrics_histogram(struct fraud_metrics *m, const char *name,
                                                const char *labels, const char *help,
                                                const double *upper, size_t nbuckets);

/* Latency buckets in seconds from 1 µs to 10 s, roughly 1-2.5-5 per decade. */
extern const double fraud_metrics_latency_buckets[];
extern const size_t fraud_metrics_latency_buckets_count;

void fraud_histogram_observe(struct fraud_histogram *h, double value);
/* Linear interpolation inside the bucket holding quantile q (0..1), as
 * Prometheus's histogram_quantile() does; NAN when empty. */
double fraud_histogram_quantile(const struct fraud_histogram *h, double q);

/* Writes the text exposition format (version 0.0.4).  Returns bytes written
 * or -EIO. */
int fraud_metrics_write(const struct fraud_metrics *m, FILE *f);

#endif
