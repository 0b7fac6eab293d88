/* bench_velocity.c: velocity update and feature emission, per transaction.
 *
 * Simulated transactions (tools/sim.h; 30 days, 5,000 customers by
 * default) are packed as Transaction messages first; then each is timed
 * through what the stage does with it: unpack, reduce (features.c), find
 * the four windows (entities.c), add and query (window.c), pack the
 * FeatureVector.  Chargebacks are applied as they come, untimed.  Two runs:
 *
 *   pure     the cache alone, large enough for every entity (no store);
 *   rocksdb  a RocksDB store in a temporary directory behind a cache of
 *            --cache entities (default 20,000: most cards miss and are read
 *            back), committing every 10,000 transactions; the commit
 *            (encode, write batch, WAL without fsync) is timed apart and
 *            reported per transaction.
 *
 * Prints p50, p99 and mean in microseconds per transaction.  Asserts
 * nothing.  Usage: bench_velocity [customers] [cache_entities]
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "lib/store.h"
#include "lib/time.h"
#include "proto/feature_vector.pb-c.h"
#include "tools/sim.h"
#include "velocity/entities.h"
#include "velocity/features.h"

#define BENCH_COMMIT_EVERY 10000 /* velocity.checkpoint_records' default */
#define BENCH_OUT_BYTES    (64 << 10)

struct bench_input {
        uint8_t *packed; /* Transaction, or NULL for a chargeback */
        size_t size;
        struct window_chargeback cb;
        char terminal[SIM_ID_MAX];
};

static const Fraud__Channel bench_channels[SIM_CHANNEL_COUNT] = {
        [SIM_CHANNEL_CARD_PRESENT] = FRAUD__CHANNEL__CHANNEL_CARD_PRESENT,
        [SIM_CHANNEL_CONTACTLESS] = FRAUD__CHANNEL__CHANNEL_CONTACTLESS,
        [SIM_CHANNEL_ECOMMERCE] = FRAUD__CHANNEL__CHANNEL_ECOMMERCE,
        [SIM_CHANNEL_ATM] = FRAUD__CHANNEL__CHANNEL_ATM,
        [SIM_CHANNEL_MOTO] = FRAUD__CHANNEL__CHANNEL_MOTO,
};

static void bench_pack(struct sim_transaction *s, struct bench_input *in) {
        Fraud__Transaction t = FRAUD__TRANSACTION__INIT;

        t.schema_version = TRANSACTION_SCHEMA_VERSION;
        t.transaction_id = s->transaction_id;
        t.event_time_us = s->time_ms * 1000;
        t.amount_minor = s->amount_minor;
        t.currency = (char *)s->currency;
        t.card_hash = s->pan;
        t.customer_id = s->customer_id;
        t.merchant_id = s->merchant_id;
        t.terminal_id = s->terminal_id;
        t.mcc = s->mcc;
        t.country = (char *)s->country;
        t.channel = bench_channels[s->channel];
        t.device_id = s->device_id;
        t.ip = s->ip;
        in->size = fraud__transaction__get_packed_size(&t);
        in->packed = malloc(in->size);
        if (!in->packed)
                abort();
        fraud__transaction__pack(&t, in->packed);
}

static size_t bench_generate(uint32_t customers, struct bench_input **out) {
        struct sim_config c;
        struct sim *s;
        struct sim_event ev;
        size_t n = 0, cap = 1 << 16;
        struct bench_input *in = malloc(cap * sizeof(*in));

        sim_config_default(&c);
        c.customers = customers;
        if (!in || sim_new(&c, &s) < 0)
                abort();
        while (sim_next(s, &ev) == 1) {
                if (n == cap && !(in = realloc(in, (cap *= 2) * sizeof(*in))))
                        abort();
                memset(&in[n], 0, sizeof(in[n]));
                if (ev.kind == SIM_EVENT_TRANSACTION) {
                        bench_pack(&ev.tx, &in[n]);
                } else {
                        in[n].cb.tx =
                                features_hash(ev.cb.transaction_id, strlen(ev.cb.transaction_id));
                        in[n].cb.tx_time_us = ev.cb.transaction_time_ms * 1000;
                        in[n].cb.arrival_us = ev.cb.time_ms * 1000;
                        snprintf(in[n].terminal, sizeof(in[n].terminal), "%s", ev.cb.terminal_id);
                }
                n++;
        }
        sim_free(s);
        *out = in;
        return n;
}

struct bench_run {
        const struct features_config *cfg;
        struct entities *e;
        struct fraud_store *store; /* NULL: pure */
        struct fraud_store_batch *batch;
        struct window_scratch scratch;
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        uint8_t out[BENCH_OUT_BYTES];
        int64_t *ns; /* per transaction */
        size_t n;
        int64_t commit_ns;
};

static void bench_transaction(struct bench_run *b, const struct bench_input *in) {
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        struct window *w[FRAUD_FEATURESET_ENTITIES];
        struct features_ids ids;
        struct features_tx tx;
        uint64_t truncated = 0;
        const char *why;
        Fraud__Transaction *t = fraud__transaction__unpack(NULL, in->size, in->packed);

        if (!t || features_tx_from_proto(t, &tx, &ids, &why) < 0)
                abort();
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++)
                if (!ids.len[k])
                        w[k] = NULL;
                else if (entities_get(b->e, k, ids.id[k], ids.len[k], &w[k]) < 0)
                        abort();
        if (features_compute(b->cfg, &tx, w, &b->scratch, b->values, &truncated) < 0)
                abort();
        fv.schema_version = FEATURE_VECTOR_SCHEMA_VERSION;
        fv.transaction_id = t->transaction_id;
        fv.transaction = t;
        fv.feature_schema_hash = b->cfg->fs.hash;
        fv.n_values = b->cfg->fs.n;
        fv.values = b->values;
        fraud__feature_vector__pack(&fv, b->out);
        fraud__transaction__free_unpacked(t, NULL);
}

static void bench_commit(struct bench_run *b) {
        int64_t t0 = fraud_time_mono_ns();

        if (b->store &&
            (entities_write(b->e, b->batch) < 0 || fraud_store_batch_commit(b->batch) < 0))
                abort();
        entities_committed(b->e);
        b->commit_ns += fraud_time_mono_ns() - t0;
}

static void bench_events(struct bench_run *b, const struct bench_input *in, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct window *w;
                int64_t t0;

                if (!in[i].packed) {
                        if (entities_get(b->e, FRAUD_FEATURESET_TERMINAL, in[i].terminal,
                                         strlen(in[i].terminal), &w) < 0)
                                abort();
                        window_chargeback_add(w, &in[i].cb);
                        continue;
                }
                t0 = fraud_time_mono_ns();
                bench_transaction(b, &in[i]);
                b->ns[b->n++] = fraud_time_mono_ns() - t0;
                if (b->n % BENCH_COMMIT_EVERY == 0)
                        bench_commit(b);
        }
        bench_commit(b);
}

static int bench_cmp(const void *a, const void *b) {
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static void bench_report(const char *name, struct bench_run *b) {
        int64_t total = 0;

        for (size_t i = 0; i < b->n; i++)
                total += b->ns[i];
        qsort(b->ns, b->n, sizeof(*b->ns), bench_cmp);
        printf("velocity %-8s %zu transactions: p50 %.2f us  p99 %.2f us  mean %.2f us  "
               "commit %.2f us/tx\n",
               name, b->n, (double)b->ns[b->n / 2] / 1e3, (double)b->ns[b->n * 99 / 100] / 1e3,
               (double)total / (double)b->n / 1e3, (double)b->commit_ns / (double)b->n / 1e3);
}

static int bench_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
        (void)sb, (void)flag, (void)ftw;
        return remove(path);
}

static void bench_run(const char *name, const struct features_config *cfg,
                      const struct bench_input *in, size_t n, size_t cache) {
        static struct bench_run b;
        char dir[PATH_MAX] = "";
        const char *tmp = getenv("TMPDIR");
        struct fraud_store_options o;
        char err[FRAUD_STORE_ERROR_MAX];

        memset(&b, 0, sizeof(b));
        b.cfg = cfg;
        b.ns = malloc(n * sizeof(*b.ns));
        if (cache) {
                snprintf(dir, sizeof(dir), "%s/bench-velocity-XXXXXX", tmp && *tmp ? tmp : "/tmp");
                fraud_store_options_init(&o);
                o.sync_commit = false;
                if (!mkdtemp(dir) || fraud_store_open(&b.store, dir, &o, err, sizeof(err)) < 0 ||
                    !(b.batch = fraud_store_batch_new(b.store)))
                        abort();
        }
        if (!b.ns || entities_new(b.store, cache ? cache : 10000000, 1000000000, &b.e) < 0 ||
            window_scratch_init(&b.scratch, cfg->limits[0].events_max) < 0)
                abort();
        bench_events(&b, in, n);
        bench_report(name, &b);
        entities_free(b.e);
        fraud_store_batch_free(b.batch);
        fraud_store_close(b.store);
        window_scratch_release(&b.scratch);
        free(b.ns);
        if (dir[0])
                nftw(dir, bench_remove, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv) {
        static const int64_t spans[] = {60, 600, 3600, 86400, 604800, 2592000};
        static struct features_config cfg;
        uint32_t customers = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5000;
        size_t cache = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 20000;
        struct bench_input *in;
        size_t n;

        if (features_config_init(&cfg, spans, 6, 7 * 86400, 30 * 86400, 300, 8192) < 0)
                return 1;
        n = bench_generate(customers, &in);
        bench_run("pure", &cfg, in, n, 0);
        bench_run("rocksdb", &cfg, in, n, cache);
        for (size_t i = 0; i < n; i++)
                free(in[i].packed);
        free(in);
        return 0;
}
