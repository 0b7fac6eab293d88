/* derive.c: see derive.h.
 *
 * The delay: z ~ N(0, 1) by Box-Muller from two uniforms of splitmix64
 * over FNV-1a(id) ^ seed; delay = median * exp(sigma * z) days, at least
 * one hour, at most max_days.  The chargebacks are collected in memory
 * (one per fraud: a small share of the log) and sorted by arrival before
 * they are written.
 */
#include "tools/derive.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/time.h"

#define DERIVE_SIGMA_DEFAULT 0.8
#define DERIVE_MIN_US        (3600 * FRAUD_USEC_PER_SEC)

int derive_delay_parse(const char *s, double *median_days, double *sigma) {
        char *end;

        *median_days = strtod(s, &end);
        *sigma = DERIVE_SIGMA_DEFAULT;
        if (end == s || !(*median_days > 0) || *median_days > 3650)
                return -EINVAL;
        if (*end == ':') {
                const char *p = end + 1;
                *sigma = strtod(p, &end);
                if (end == p || !(*sigma >= 0) || *sigma > 5)
                        return -EINVAL;
        }
        return *end ? -EINVAL : 0;
}

static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

int64_t derive_delay_us(const struct derive_options *o, const char *id) {
        uint64_t state = fraud_hash_fnv1a_str(id) ^ o->seed;
        double u1 = ((double)(splitmix64(&state) >> 11) + 0.5) / 9007199254740992.0;
        double u2 = (double)(splitmix64(&state) >> 11) / 9007199254740992.0;
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        double days = o->median_days * exp(o->sigma * z);
        int64_t us = (int64_t)(days * (double)FRAUD_USEC_PER_DAY);
        int64_t max = (int64_t)(o->max_days * (double)FRAUD_USEC_PER_DAY);

        return us < DERIVE_MIN_US ? DERIVE_MIN_US : us > max ? max : us;
}

struct derived {
        struct offline_chargeback *cb;
        size_t n, cap;
        const struct derive_options *o;
};

static int derived_row(void *opaque, const struct offline_row *row) {
        struct derived *d = opaque;
        struct offline_chargeback *c;

        if (row->is_fraud != 1)
                return 0;
        if (d->n == d->cap) {
                size_t cap = d->cap ? 2 * d->cap : 1024;
                void *p = realloc(d->cb, cap * sizeof(*d->cb));
                if (!p)
                        return -ENOMEM;
                d->cb = p;
                d->cap = cap;
        }
        c = &d->cb[d->n++];
        memset(c, 0, sizeof(*c));
        c->tx_time_us = row->tx->event_time_us;
        c->arrival_us = c->tx_time_us + derive_delay_us(d->o, row->tx->transaction_id);
        c->line = d->n;
        snprintf(c->tx_id, sizeof(c->tx_id), "%s", row->tx->transaction_id);
        snprintf(c->merchant, sizeof(c->merchant), "%s", row->tx->merchant_id);
        snprintf(c->terminal, sizeof(c->terminal), "%s", row->tx->terminal_id);
        return 0;
}

static int by_arrival(const void *a, const void *b) {
        const struct offline_chargeback *x = a, *y = b;

        if (x->arrival_us != y->arrival_us)
                return x->arrival_us < y->arrival_us ? -1 : 1;
        return x->line < y->line ? -1 : x->line > y->line;
}

int derive_chargebacks(const struct derive_options *o, FILE *out, uint64_t *n, char *err,
                       size_t err_size) {
        struct offline_options read = *o->read;
        struct derived d = {.o = o};
        struct offline_counts k;
        char t1[FRAUD_TIME_ISO8601_MAX], t2[FRAUD_TIME_ISO8601_MAX];
        int r;

        read.chargebacks = NULL;
        read.no_features = true;
        read.all_lines = false;
        read.on_day = NULL;
        r = offline_run(&read, derived_row, &d, &k, err, err_size);
        *n = 0;
        if (r == 0) {
                qsort(d.cb, d.n, sizeof(*d.cb), by_arrival);
                fputs("chargeback_id,transaction_id,timestamp,transaction_timestamp,merchant_id,"
                      "terminal_id\n",
                      out);
                for (size_t i = 0; i < d.n; i++) {
                        fraud_time_format_iso8601(d.cb[i].arrival_us, t1);
                        fraud_time_format_iso8601(d.cb[i].tx_time_us, t2);
                        fprintf(out, "%s,%s,%s,%s,%s,%s\n", d.cb[i].tx_id, d.cb[i].tx_id, t1,
                                t2, d.cb[i].merchant, d.cb[i].terminal);
                }
                *n = d.n;
                if (ferror(out)) {
                        snprintf(err, err_size, "write error");
                        r = -EIO;
                }
        }
        free(d.cb);
        return r;
}
