/* bench_ingest.c: how long ingest's pure core takes per record.
 *
 *   bench_ingest [RECORDS]        (default 200000 simulated transactions)
 *
 * Generates the records first (the simulator's JSON, as tx.raw carries it,
 * and its CSV rows), then times on the monotonic clock, one core, no I/O:
 *   1. JSON: parse (rawjson) + mapping + normalize (with the card hash);
 *   2. CSV: split + mapping + normalize;
 *   3. JSON + normalize + protobuf packing of the Transaction (what the
 *      stage does per record before it hands the bytes to librdkafka);
 *   4. a rejected record (bad amount): parse + normalize up to the reason.
 * Prints microseconds per record and records per second.  Kafka and
 * RocksDB costs are not included: the daemon test and the pipeline
 * benchmark measure those.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/mapping.h"
#include "ingest/normalize.h"
#include "lib/time.h"
#include "tools/generate.h"
#include "tools/sim.h"

#define BENCH_RECORDS_MAX 2000000
#define BENCH_KEY_HEX     "000102030405060708090a0b0c0d0e0f"
#define BENCH_HEADER                                                                               \
        "transaction_id,timestamp,amount,currency,pan,customer_id,merchant_id,terminal_id,mcc,"    \
        "country,channel,device_id,ip,is_fraud,scenario"

struct bench_lines {
        char *text;     /* all lines, back to back */
        size_t *offset; /* start of line i */
        size_t *len;    /* length of line i, without its '\n' */
        size_t n;
};

enum bench_mode { BENCH_JSON, BENCH_CSV, BENCH_JSON_PACK };

static int bench_generate(size_t n, struct bench_lines *json, struct bench_lines *csv) {
        struct sim_config c;
        struct sim *s;
        struct sim_event *ev = malloc(sizeof(*ev));
        struct bench_lines *all[] = {json, csv};
        int r;

        for (int k = 0; k < 2; k++) {
                all[k]->text = malloc(n * FRAUD_GENERATE_LINE_MAX);
                all[k]->offset = malloc(n * sizeof(size_t));
                all[k]->len = malloc(n * sizeof(size_t));
                all[k]->n = 0;
                if (!all[k]->text || !all[k]->offset || !all[k]->len || !ev)
                        return -ENOMEM;
        }
        sim_config_default(&c);
        c.days = 60;
        if ((r = sim_new(&c, &s)) < 0)
                return r;
        while (json->n < n && (r = sim_next(s, ev)) > 0) {
                size_t i = json->n;
                if (ev->kind != SIM_EVENT_TRANSACTION)
                        continue;
                json->offset[i] = i ? json->offset[i - 1] + json->len[i - 1] + 1 : 0;
                json->len[i] =
                        generate_transaction_json(&ev->tx, false, json->text + json->offset[i]) - 1;
                csv->offset[i] = i ? csv->offset[i - 1] + csv->len[i - 1] + 1 : 0;
                csv->len[i] = generate_transaction_csv(&ev->tx, csv->text + csv->offset[i]) - 1;
                json->n++;
                csv->n++;
        }
        sim_free(s);
        free(ev);
        return r < 0 ? r : 0;
}

/* Runs every line through the mode's path; returns the rejected count. */
static size_t bench_pass(enum bench_mode mode, const struct bench_lines *l, struct mapping *m,
                         struct mapping_scratch *sc, const struct normalize_key *key,
                         struct normalize_tx *tx, uint64_t *bytes) {
        static uint8_t out[1024];
        struct normalize_rejection rej;
        size_t rejected = 0;

        for (size_t i = 0; i < l->n; i++) {
                const char *line = l->text + l->offset[i];
                int r = mode == BENCH_CSV ? mapping_csv_input(m, line, l->len[i], sc, &rej)
                                          : mapping_json_input(m, line, l->len[i], sc, &rej);
                if (r == 0)
                        r = normalize_record(&sc->input, key, tx, &rej);
                if (r < 0)
                        rejected++;
                else if (mode == BENCH_JSON_PACK)
                        *bytes += fraud__transaction__pack(&tx->msg, out);
        }
        return rejected;
}

static void bench_report(const char *name, size_t n, size_t rejected, int64_t t0) {
        double sec = (double)(fraud_time_mono_ns() - t0) / 1e9;

        printf("%-34s %8zu records %6zu rejected  %7.3f us/record  %6.2f M records/s\n", name, n,
               rejected, sec * 1e6 / (double)n, (double)n / sec / 1e6);
}

int main(int argc, char **argv) {
        static const char *const names[] = {"json: parse + normalize", "csv: split + normalize",
                                            "json: parse + normalize + pack"};
        struct bench_lines json, csv;
        struct mapping m;
        struct mapping_scratch *sc = malloc(sizeof(*sc));
        struct normalize_tx *tx = malloc(sizeof(*tx));
        struct normalize_key key;
        char err[256], *end;
        unsigned long n = argc > 1 ? strtoul(argv[1], &end, 10) : 200000;
        uint64_t bytes = 0;

        if (argc > 2 || n == 0 || n > BENCH_RECORDS_MAX || (argc > 1 && *end != '\0')) {
                fprintf(stderr, "usage: bench_ingest [RECORDS (1..%d)]\n", BENCH_RECORDS_MAX);
                return 64;
        }
        if (!sc || !tx || bench_generate(n, &json, &csv) < 0 ||
            normalize_key_parse(BENCH_KEY_HEX, &key) < 0) {
                fprintf(stderr, "bench_ingest: cannot generate the records\n");
                return 1;
        }
        mapping_init_default(&m);
        if (mapping_csv_header(&m, BENCH_HEADER, strlen(BENCH_HEADER), err, sizeof(err)) < 0) {
                fprintf(stderr, "bench_ingest: %s\n", err);
                return 1;
        }
        for (int mode = BENCH_JSON; mode <= BENCH_JSON_PACK; mode++) {
                const struct bench_lines *l = mode == BENCH_CSV ? &csv : &json;
                int64_t t0;
                size_t rejected;

                bench_pass(mode, l, &m, sc, &key, tx, &bytes); /* warm up */
                t0 = fraud_time_mono_ns();
                rejected = bench_pass(mode, l, &m, sc, &key, tx, &bytes);
                bench_report(names[mode], l->n, rejected, t0);
        }
        {
                /* The same records with the amount spoiled: the rejection path. */
                for (size_t i = 0; i < json.n; i++) {
                        char *a = strstr(json.text + json.offset[i], "\"amount\":\"");
                        if (a)
                                a[10] = 'x';
                }
                int64_t t0 = fraud_time_mono_ns();
                size_t rejected = bench_pass(BENCH_JSON, &json, &m, sc, &key, tx, &bytes);
                bench_report("json: rejected (bad_amount)", json.n, rejected, t0);
        }
        return 0;
}
