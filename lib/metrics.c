/* metrics.c: see metrics.h.  The registry is a fixed array searched linearly
 * at registration only; output walks it once per distinct name so that all
 * label sets of a name follow its HELP and TYPE lines. */
#include "lib/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct fraud_metrics {
        size_t count;
        struct fraud_metric items[FRAUD_METRICS_MAX];
};

const double fraud_metrics_latency_buckets[] = {
        1e-6, 2.5e-6, 5e-6,   1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
        5e-3, 1e-2,   2.5e-2, 5e-2, 0.1,    0.25, 0.5,  1,      2.5,  5,    10,
};
const size_t fraud_metrics_latency_buckets_count =
        sizeof(fraud_metrics_latency_buckets) / sizeof(fraud_metrics_latency_buckets[0]);

int fraud_metrics_new(struct fraud_metrics **out) {
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : -ENOMEM;
}

void fraud_metrics_free(struct fraud_metrics *m) {
        free(m);
}

static bool metrics_name_valid(const char *name) {
        if (!name || !*name || strlen(name) >= FRAUD_METRICS_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++) {
                bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                             *p == ':';
                if (!alpha && !(p != name && *p >= '0' && *p <= '9'))
                        return false;
        }
        return true;
}

static bool metrics_labels_valid(const char *labels) {
        size_t n = strlen(labels);

        if (n >= FRAUD_METRICS_LABELS_MAX)
                return false;
        return n == 0 || (n >= 2 && labels[0] == '{' && labels[n - 1] == '}');
}

static struct fraud_metric *metrics_register(struct fraud_metrics *m, enum fraud_metric_type type,
                                             const char *name, const char *labels,
                                             const char *help) {
        struct fraud_metric *x;

        labels = labels ? labels : "";
        if (!metrics_name_valid(name) || !metrics_labels_valid(labels))
                return NULL;
        for (size_t i = 0; i < m->count; i++) {
                x = &m->items[i];
                if (strcmp(x->name, name) != 0)
                        continue;
                if (x->type != type)
                        return NULL;
                if (strcmp(x->labels, labels) == 0)
                        return x;
        }
        if (m->count == FRAUD_METRICS_MAX)
                return NULL;
        x = &m->items[m->count++];
        memset(x, 0, sizeof(*x));
        x->type = type;
        snprintf(x->name, sizeof(x->name), "%s", name);
        snprintf(x->labels, sizeof(x->labels), "%s", labels);
        snprintf(x->help, sizeof(x->help), "%s", help ? help : "");
        return x;
}

uint64_t *fraud_metrics_counter(struct fraud_metrics *m, const char *name, const char *labels,
                                const char *help) {
        struct fraud_metric *x = metrics_register(m, FRAUD_METRIC_COUNTER, name, labels, help);

        return x ? &x->v.counter : NULL;
}

double *fraud_metrics_gauge(struct fraud_metrics *m, const char *name, const char *labels,
                            const char *help) {
        struct fraud_metric *x = metrics_register(m, FRAUD_METRIC_GAUGE, name, labels, help);

        return x ? &x->v.gauge : NULL;
}

struct fraud_histogram *fraud_metrics_histogram(struct fraud_metrics *m, const char *name,
                                                const char *labels, const char *help,
                                                const double *upper, size_t nbuckets) {
        struct fraud_metric *x;

        if (nbuckets == 0 || nbuckets > FRAUD_HISTOGRAM_BUCKETS_MAX)
                return NULL;
        for (size_t i = 1; i < nbuckets; i++)
                if (!(upper[i] > upper[i - 1]))
                        return NULL;
        x = metrics_register(m, FRAUD_METRIC_HISTOGRAM, name, labels, help);
        if (!x)
                return NULL;
        if (x->v.histogram.nbuckets == 0) {
                x->v.histogram.nbuckets = nbuckets;
                memcpy(x->v.histogram.upper, upper, nbuckets * sizeof(*upper));
        }
        return &x->v.histogram;
}

void fraud_histogram_observe(struct fraud_histogram *h, double value) {
        size_t lo = 0, hi = h->nbuckets;

        /* First bucket whose upper bound is >= value (le semantics). */
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (h->upper[mid] >= value)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        h->counts[lo]++;
        h->count++;
        h->sum += value;
}

double fraud_histogram_quantile(const struct fraud_histogram *h, double q) {
        double rank = q * (double)h->count, cum = 0;

        if (h->count == 0)
                return NAN;
        for (size_t i = 0; i <= h->nbuckets; i++) {
                double prev = cum;
                cum += (double)h->counts[i];
                if (cum < rank || h->counts[i] == 0)
                        continue;
                if (i == h->nbuckets) /* +Inf bucket: the last finite bound */
                        return h->upper[h->nbuckets - 1];
                double lower = i == 0 ? 0 : h->upper[i - 1];
                return lower + (h->upper[i] - lower) * (rank - prev) / (double)h->counts[i];
        }
        return h->upper[h->nbuckets - 1];
}

/* Merges "le" into an existing label set: {a="b"} + le -> {a="b",le="x"}. */
static void metrics_labels_with_le(char *buf, size_t size, const char *labels, const char *le) {
        size_t n = strlen(labels);

        if (n == 0)
                snprintf(buf, size, "{le=\"%s\"}", le);
        else
                snprintf(buf, size, "%.*s,le=\"%s\"}", (int)(n - 1), labels, le);
}

static int metrics_write_histogram(const struct fraud_metric *x, FILE *f) {
        const struct fraud_histogram *h = &x->v.histogram;
        char lab[FRAUD_METRICS_LABELS_MAX + 32], le[32];
        uint64_t cum = 0;

        for (size_t i = 0; i <= h->nbuckets; i++) {
                cum += h->counts[i];
                if (i < h->nbuckets)
                        snprintf(le, sizeof(le), "%.17g", h->upper[i]);
                else
                        snprintf(le, sizeof(le), "+Inf");
                metrics_labels_with_le(lab, sizeof(lab), x->labels, le);
                if (fprintf(f, "%s_bucket%s %llu\n", x->name, lab, (unsigned long long)cum) < 0)
                        return -EIO;
        }
        if (fprintf(f, "%s_sum%s %.17g\n%s_count%s %llu\n", x->name, x->labels, h->sum, x->name,
                    x->labels, (unsigned long long)h->count) < 0)
                return -EIO;
        return 0;
}

static int metrics_write_one(const struct fraud_metric *x, FILE *f) {
        switch (x->type) {
        case FRAUD_METRIC_COUNTER:
                return fprintf(f, "%s%s %llu\n", x->name, x->labels,
                               (unsigned long long)x->v.counter) < 0
                               ? -EIO
                               : 0;
        case FRAUD_METRIC_GAUGE:
                return fprintf(f, "%s%s %.17g\n", x->name, x->labels, x->v.gauge) < 0 ? -EIO : 0;
        case FRAUD_METRIC_HISTOGRAM:
                return metrics_write_histogram(x, f);
        }
        return -EINVAL;
}

int fraud_metrics_write(const struct fraud_metrics *m, FILE *f) {
        static const char *const type_names[] = {"counter", "gauge", "histogram"};
        long start = ftell(f);

        for (size_t i = 0; i < m->count; i++) {
                const struct fraud_metric *x = &m->items[i];
                bool first = true;

                for (size_t j = 0; j < i && first; j++)
                        first = strcmp(m->items[j].name, x->name) != 0;
                if (!first)
                        continue; /* already written with its first label set */
                if (fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", x->name, x->help, x->name,
                            type_names[x->type]) < 0)
                        return -EIO;
                for (size_t j = i; j < m->count; j++)
                        if (strcmp(m->items[j].name, x->name) == 0 &&
                            metrics_write_one(&m->items[j], f) < 0)
                                return -EIO;
        }
        if (fflush(f) != 0)
                return -EIO;
        return start >= 0 && ftell(f) >= start ? (int)(ftell(f) - start) : 0;
}
