/* Tests for tools/sim.c and tools/generate.c: determinism, the fraud mix,
 * the chargeback delay distribution, the shape of each scenario, the files,
 * and Kafka mode's use of the shared settings (against the mock cluster).
 *
 * Most tests read one dataset (5,000 customers, 500 merchants, 30 days,
 * fraud rate 0.02: about 245,000 payments and 5,000 frauds) built once per
 * test process.  Tolerances, chosen against this size (the run is
 * deterministic, so they guard the model, not luck):
 * - overall fraud share: within 10 % (relative) of --fraud-rate; at rates
 *   0.3 and 0.5 (2,000 customers) within 5 %; in a 200-customer world,
 *   where a whole episode is a visible part of the budget, within 25 %;
 * - each scenario's count: within 15 % of its share of all fraud (the
 *   budget is spent in whole episodes of up to ~40 payments);
 * - chargeback delay: empirical median within 5 % and 90th percentile
 *   within 7 % of the truncated lognormal's (about 3 standard errors), and
 *   the share above 100 days within 40 % of its 0.97 % (a clamp instead of
 *   a truncation would make it 2.2 %);
 * - frauds never charged back: 12 % +- 3 points; friendly fraud: 0.05 % of
 *   legitimate payments +- 40 % (about 120 expected).
 */
#include <check.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/mock.h"
#include "tests/testing.h"
#include "tools/generate.h"
#include "tools/sim.h"

#define DAY_MS INT64_C(86400000)

struct row {
        int64_t time_ms;
        int64_t amount_minor;
        char pan[SIM_PAN_LEN + 1];
        char device_id[SIM_ID_MAX];
        char terminal_id[SIM_ID_MAX];
        char customer_id[SIM_ID_MAX];
        const char *currency;
        unsigned mcc;
        enum sim_channel channel;
        enum sim_scenario scenario;
        bool has_ip;
};

struct dataset {
        struct row *rows;
        size_t n;
        double *delays_days; /* of every chargeback */
        size_t cbs;
        size_t fraud_cbs;
        size_t friendly_cbs;
        bool cb_order_ok; /* chargebacks in non-decreasing time */
        struct sim_stats stats;
};

static struct sim_config dataset_config(void) {
        struct sim_config c;

        sim_config_default(&c);
        c.customers = 5000;
        c.merchants = 500;
        c.days = 30;
        c.seed = 7;
        c.fraud_rate = 0.02;
        return c;
}

static void dataset_add_tx(struct dataset *d, const struct sim_transaction *tx) {
        struct row *r = &d->rows[d->n++];

        r->time_ms = tx->time_ms;
        r->amount_minor = tx->amount_minor;
        memcpy(r->pan, tx->pan, sizeof(r->pan));
        memcpy(r->device_id, tx->device_id, sizeof(r->device_id));
        memcpy(r->terminal_id, tx->terminal_id, sizeof(r->terminal_id));
        memcpy(r->customer_id, tx->customer_id, sizeof(r->customer_id));
        r->currency = tx->currency;
        r->mcc = tx->mcc;
        r->channel = tx->channel;
        r->scenario = tx->scenario;
        r->has_ip = tx->ip[0] != '\0';
}

static void dataset_add_cb(struct dataset *d, const struct sim_chargeback *cb, int64_t *last) {
        d->delays_days[d->cbs++] = (double)(cb->time_ms - cb->transaction_time_ms) / (double)DAY_MS;
        d->fraud_cbs += cb->is_fraud;
        d->friendly_cbs += !cb->is_fraud;
        if (cb->time_ms < *last)
                d->cb_order_ok = false;
        *last = cb->time_ms;
}

static struct dataset the_dataset;

/* Runs the simulator over dataset_config() into the_dataset; false on any
 * failure.  Called once by main() before the tests fork, so that every
 * test inherits the result instead of rebuilding it. */
static bool dataset_build(void) {
        struct dataset *d = &the_dataset;
        struct sim_config c = dataset_config();
        struct sim_event ev;
        struct sim *s;
        size_t cap = 400000;
        int64_t last_cb = INT64_MIN;
        int r;

        d->rows = malloc(cap * sizeof(*d->rows));
        d->delays_days = malloc(cap * sizeof(*d->delays_days));
        d->cb_order_ok = true;
        if (!d->rows || !d->delays_days || sim_new(&c, &s) < 0)
                return false;
        while ((r = sim_next(s, &ev)) > 0 && d->n < cap && d->cbs < cap) {
                if (ev.kind == SIM_EVENT_TRANSACTION)
                        dataset_add_tx(d, &ev.tx);
                else
                        dataset_add_cb(d, &ev.cb, &last_cb);
        }
        d->stats = *sim_stats(s);
        sim_free(s);
        return r == 0;
}

static const struct dataset *dataset(void) {
        ck_assert_msg(the_dataset.stats.transactions > 0 &&
                              the_dataset.n == the_dataset.stats.transactions &&
                              the_dataset.cbs == the_dataset.stats.chargebacks,
                      "the dataset could not be built");
        return &the_dataset;
}

/* ---- determinism and files ---- */

static char *file_read(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;

        ck_assert_msg(f != NULL, "cannot open %s", path);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        ck_assert_int_ge(n, 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return buf;
}

/* Generates into a new temporary directory; the caller removes it. */
static void files_make(char *dir, size_t dir_size, uint64_t seed, enum generate_format format) {
        struct generate_options o;
        struct generate_summary sum;
        char err[256] = "";
        const char *tmp = getenv("TMPDIR");

        snprintf(dir, dir_size, "%s/test_sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        generate_options_default(&o);
        o.sim.customers = 300;
        o.sim.merchants = 60;
        o.sim.days = 20;
        o.sim.fraud_rate = 0.03;
        o.sim.seed = seed;
        o.format = format;
        o.out_dir = dir;
        ck_assert_msg(generate_files(&o, &sum, err, sizeof(err)) == 0, "%s", err);
        ck_assert_uint_gt(sum.transactions, 1000);
        ck_assert_uint_gt(sum.chargebacks, 50);
}

static char *file_in(const char *dir, const char *name, size_t *len) {
        char path[1024];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return file_read(path, len);
}

static void files_remove(const char *dir) {
        static const char *const names[] = {"transactions.csv", "chargebacks.csv",
                                            "transactions.jsonl", "chargebacks.jsonl"};
        char path[1024];

        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
        ck_assert_int_eq(rmdir(dir), 0); /* nothing else was left behind */
}

static bool files_equal(const char *a, const char *b, const char *name) {
        size_t la, lb;
        char *x = file_in(a, name, &la), *y = file_in(b, name, &lb);
        bool eq = la == lb && memcmp(x, y, la) == 0;

        free(x);
        free(y);
        return eq;
}

START_TEST(test_generate_same_seed_gives_byte_identical_files) {
        char a[512], b[512];

        files_make(a, sizeof(a), 42, GENERATE_FORMAT_CSV);
        files_make(b, sizeof(b), 42, GENERATE_FORMAT_CSV);
        ck_assert(files_equal(a, b, "transactions.csv"));
        ck_assert(files_equal(a, b, "chargebacks.csv"));
        files_remove(a);
        files_remove(b);
}
END_TEST

START_TEST(test_generate_different_seed_gives_different_files) {
        char a[512], b[512];

        files_make(a, sizeof(a), 42, GENERATE_FORMAT_CSV);
        files_make(b, sizeof(b), 43, GENERATE_FORMAT_CSV);
        ck_assert(!files_equal(a, b, "transactions.csv"));
        ck_assert(!files_equal(a, b, "chargebacks.csv"));
        files_remove(a);
        files_remove(b);
}
END_TEST

/* Splits a CSV line (no quoting in these files) into at most max fields. */
static size_t csv_split(char *line, char **fields, size_t max) {
        size_t n = 0;

        fields[n++] = line;
        for (char *p = line; *p && n < max; p++) {
                if (*p == ',') {
                        *p = '\0';
                        fields[n++] = p + 1;
                }
        }
        return n;
}

/* Next line of a buffer, NUL-terminated in place; NULL at the end. */
static char *line_next(char **cursor) {
        char *line = *cursor, *nl;

        if (!*line)
                return NULL;
        nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl); /* every line ends with a newline */
        *nl = '\0';
        *cursor = nl + 1;
        return line;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_generate_every_chargeback_refers_to_one_earlier_transaction) {
        char dir[512], *f[16], *line, *cur, *txbuf, *cbbuf, **ids, **seen;
        size_t len, n = 0, ncb = 0;
        char last_ts[32] = "";

        files_make(dir, sizeof(dir), 5, GENERATE_FORMAT_CSV);
        txbuf = file_in(dir, "transactions.csv", &len);
        cbbuf = file_in(dir, "chargebacks.csv", &len);
        ids = malloc(sizeof(*ids) * 200000);
        seen = malloc(sizeof(*seen) * 200000);
        cur = txbuf;
        ck_assert_str_eq(line_next(&cur),
                         "transaction_id,timestamp,amount,currency,pan,customer_id,"
                         "merchant_id,terminal_id,mcc,country,channel,device_id,"
                         "ip,is_fraud,scenario");
        while ((line = line_next(&cur))) {
                ck_assert_uint_eq(csv_split(line, f, 16), 15);
                ids[n++] = f[0]; /* "id\0timestamp..." : f[1] follows the id's NUL */
        }
        qsort(ids, n, sizeof(*ids), cmp_str);
        cur = cbbuf;
        ck_assert_ptr_nonnull(line_next(&cur));
        while ((line = line_next(&cur))) {
                char **hit;

                ck_assert_uint_eq(csv_split(line, f, 16), 9);
                hit = bsearch(&f[1], ids, n, sizeof(*ids), cmp_str);
                ck_assert_msg(hit != NULL, "chargeback %s: no transaction %s", f[0], f[1]);
                /* the transaction's timestamp is the field after its id */
                ck_assert_str_eq(*hit + strlen(*hit) + 1, f[3]);
                ck_assert_int_gt(strcmp(f[2], f[3]), 0);    /* after the payment */
                ck_assert_int_ge(strcmp(f[2], last_ts), 0); /* sorted by arrival */
                snprintf(last_ts, sizeof(last_ts), "%s", f[2]);
                seen[ncb++] = f[1];
        }
        qsort(seen, ncb, sizeof(*seen), cmp_str);
        for (size_t i = 1; i < ncb; i++)
                ck_assert_str_ne(seen[i - 1], seen[i]); /* at most one per payment */
        ck_assert_uint_gt(ncb, 50);
        free(ids);
        free(seen);
        free(txbuf);
        free(cbbuf);
        files_remove(dir);
}
END_TEST

START_TEST(test_generate_jsonl_holds_the_same_transactions_as_csv) {
        char a[512], b[512], *csv, *json, *cc, *cj, *lc, *lj, *f[16];
        size_t len, lines = 0;

        files_make(a, sizeof(a), 9, GENERATE_FORMAT_CSV);
        files_make(b, sizeof(b), 9, GENERATE_FORMAT_JSONL);
        cc = csv = file_in(a, "transactions.csv", &len);
        cj = json = file_in(b, "transactions.jsonl", &len);
        ck_assert_ptr_nonnull(line_next(&cc));
        while ((lc = line_next(&cc))) {
                char expect[512];

                lj = line_next(&cj);
                ck_assert_ptr_nonnull(lj);
                ck_assert_uint_eq(csv_split(lc, f, 16), 15);
                snprintf(expect, sizeof(expect),
                         "{\"transaction_id\":\"%s\",\"timestamp\":\"%s\",\"amount\":\"%s\","
                         "\"currency\":\"%s\",\"pan\":\"%s\",\"customer_id\":\"%s\","
                         "\"merchant_id\":\"%s\",\"terminal_id\":\"%s\",\"mcc\":\"%s\","
                         "\"country\":\"%s\",\"channel\":\"%s\",\"device_id\":\"%s\",\"ip\":\"%s\","
                         "\"is_fraud\":%s,\"scenario\":\"%s\"}",
                         f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11],
                         f[12], f[13], f[14]);
                ck_assert_str_eq(lj, expect);
                lines++;
        }
        ck_assert_ptr_null(line_next(&cj));
        ck_assert_uint_gt(lines, 1000);
        free(csv);
        free(json);
        files_remove(a);
        files_remove(b);
}
END_TEST

/* The payment the formatting tests print: 12.05 EUR, contactless, in France,
 * at 2026-01-01T08:15:02.123Z, legitimate. */
static void tx_sample(struct sim_transaction *tx) {
        memset(tx, 0, sizeof(*tx));
        snprintf(tx->transaction_id, sizeof(tx->transaction_id), "tx_1");
        tx->time_ms = INT64_C(20454) * DAY_MS + ((8 * 60 + 15) * 60 + 2) * 1000 + 123;
        tx->amount_minor = 1205;
        tx->currency = "EUR";
        tx->currency_decimals = 2;
        snprintf(tx->pan, sizeof(tx->pan), "4970100000000000");
        tx->mcc = 742;
        tx->country = "FR";
        tx->channel = SIM_CHANNEL_CONTACTLESS;
}

START_TEST(test_generate_formats_amounts_with_the_currency_decimals) {
        struct sim_transaction tx;
        char buf[FRAUD_GENERATE_LINE_MAX];
        size_t n;

        tx_sample(&tx);
        n = generate_transaction_csv(&tx, buf);
        buf[n] = '\0';
        ck_assert_str_eq(buf, "tx_1,2026-01-01T08:15:02.123Z,12.05,EUR,4970100000000000,,,,0742,"
                              "FR,contactless,,,0,legit\n");
        tx.amount_minor = 5;
        n = generate_transaction_csv(&tx, buf);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(strstr(buf, ",0.05,EUR,"));
        tx.amount_minor = 1250;
        tx.currency = "JPY";
        tx.currency_decimals = 0;
        n = generate_transaction_csv(&tx, buf);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(strstr(buf, ",1250,JPY,"));
}
END_TEST

START_TEST(test_generate_kafka_json_leaves_out_the_ground_truth) {
        struct sim_transaction tx;
        char buf[FRAUD_GENERATE_LINE_MAX];
        size_t n;

        tx_sample(&tx);
        tx.is_fraud = true;
        tx.scenario = SIM_SCENARIO_FRAUD_RING;
        n = generate_transaction_json(&tx, false, buf);
        buf[n] = '\0';
        ck_assert_str_eq(buf,
                         "{\"transaction_id\":\"tx_1\",\"timestamp\":\"2026-01-01T08:15:02.123Z\","
                         "\"amount\":\"12.05\",\"currency\":\"EUR\",\"pan\":\"4970100000000000\","
                         "\"customer_id\":\"\",\"merchant_id\":\"\",\"terminal_id\":\"\","
                         "\"mcc\":\"0742\",\"country\":\"FR\",\"channel\":\"contactless\","
                         "\"device_id\":\"\",\"ip\":\"\"}\n");
        n = generate_transaction_json(&tx, true, buf);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(
                strstr(buf, ",\"ip\":\"\",\"is_fraud\":1,\"scenario\":\"fraud_ring\"}\n"));
}
END_TEST

#define ARGS_MAX 16

/* Parses a NULL-terminated list of literals through a mutable copy, as a
 * real argv is. */
static int parse_list(struct generate_options *o, const char *const *list, char *err,
                      size_t err_size) {
        static char store[ARGS_MAX][64];
        char *argv[ARGS_MAX];
        int argc = 0;

        for (; argc < ARGS_MAX && list[argc]; argc++) {
                snprintf(store[argc], sizeof(store[argc]), "%s", list[argc]);
                argv[argc] = store[argc];
        }
        return generate_options_parse(o, argc, argv, err, err_size);
}

struct bad_args {
        const char *argv[7];
};

START_TEST(test_generate_rejects_bad_flags_with_a_reason) {
        static const struct bad_args bad[] = {
                {{"generate"}},
                {{"generate", "--out", "d", "--bootstrap", "h:1"}},
                {{"generate", "--out", "d", "--days", "0"}},
                {{"generate", "--out", "d", "--days", "3661"}},
                {{"generate", "--out", "d", "--days", "12x"}},
                {{"generate", "--out", "d", "--days", "-1"}},
                {{"generate", "--out", "d", "--customers", "5"}},
                {{"generate", "--out", "d", "--merchants", "10"}},
                {{"generate", "--out", "d", "--seed", "18446744073709551616"}},
                {{"generate", "--out", "d", "--fraud-rate", "0.6"}},
                {{"generate", "--out", "d", "--fraud-rate", "nan"}},
                {{"generate", "--out", "d", "--start", "2026-02-30"}},
                {{"generate", "--out", "d", "--start", "2026-1-1"}},
                {{"generate", "--out", "d", "--format", "xml"}},
                {{"generate", "--out", "d", "--rate", "10"}},
                {{"generate", "--bootstrap", "localhost"}},
                {{"generate", "--bootstrap", "localhost:70000"}},
                {{"generate", "--bootstrap", "h:1", "--format", "csv"}},
                {{"generate", "--bootstrap", "h:1", "--topic-raw", "a b"}},
                {{"generate", "--bootstrap", "h:1", "--rate", "0"}},
                {{"generate", "--out", "d", "--days", "2", "--days", "3"}},
                {{"generate", "--out", "d", "--bogus", "1"}},
                {{"generate", "--out"}},
                {{"generate", "stray", "--out", "d"}},
                {{"generate", "--out", "d", "--publish"}},
                {{"generate", "--publish=yes"}},
                {{"generate", "--publish", "--format", "jsonl"}},
                {{"generate", "--publish", "--", "--out", "d"}},
        };
        struct generate_options o;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                char err[256] = "";

                ck_assert_msg(parse_list(&o, bad[i].argv, err, sizeof(err)) == -EINVAL,
                              "case %zu accepted", i);
                ck_assert_msg(err[0] != '\0', "case %zu: no reason given", i);
        }
}
END_TEST

START_TEST(test_generate_accepts_every_flag_in_both_spellings) {
        static const char *const argv[] = {
                "generate",       "--days=7",   "--customers",          "200",
                "--merchants=80", "--seed",     "18446744073709551615", "--fraud-rate=0.1",
                "--start",        "2024-02-29", "--format=jsonl",       "--out",
                "somewhere",      NULL};
        static const char *const kafka[] = {
                "generate",    "--bootstrap",       "a:1,b:9092",          "--rate", "2.5",
                "--seconds=9", "--topic-raw=raw.x", "--topic-chargebacks", "cb",     NULL};
        static const char *const publish[] = {"generate", "--publish", "--rate", "10", NULL};
        struct generate_options o;
        char err[256] = "";

        ck_assert_int_eq(parse_list(&o, argv, err, sizeof(err)), 0);
        ck_assert_uint_eq(o.sim.days, 7);
        ck_assert_uint_eq(o.sim.customers, 200);
        ck_assert_uint_eq(o.sim.merchants, 80);
        ck_assert(o.sim.seed == UINT64_MAX);
        ck_assert_double_eq(o.sim.fraud_rate, 0.1);
        ck_assert(o.sim.start_ms == INT64_C(19782) * DAY_MS); /* 2024-02-29 */
        ck_assert_int_eq(o.format, GENERATE_FORMAT_JSONL);
        ck_assert_str_eq(o.out_dir, "somewhere");
        ck_assert_int_eq(parse_list(&o, kafka, err, sizeof(err)), 0);
        ck_assert_str_eq(o.bootstrap, "a:1,b:9092");
        ck_assert_double_eq(o.rate_per_sec, 2.5);
        ck_assert_uint_eq(o.seconds, 9);
        ck_assert_str_eq(o.topic_raw, "raw.x");
        ck_assert_str_eq(o.topic_chargebacks, "cb");
        ck_assert(o.publish);
        ck_assert_ptr_null(o.out_dir);
        ck_assert_int_eq(parse_list(&o, publish, err, sizeof(err)), 0);
        ck_assert(o.publish);
        ck_assert_ptr_null(o.bootstrap);         /* the settings' servers */
        ck_assert_ptr_null(o.topic_raw);         /* the settings' topics.raw */
        ck_assert_ptr_null(o.topic_chargebacks); /* the settings' topics.chargebacks */
        ck_assert_double_eq(o.rate_per_sec, 10);
}
END_TEST

/* ---- Kafka mode and the shared settings ---- */

#define PUBLISH_PARTITIONS 2

/* Replaces a string of the settings (they own their strings). */
static void settings_string_set(char **field, const char *value) {
        free(*field);
        *field = strdup(value);
        ck_assert_ptr_nonnull(*field);
}

/* A file name in a new temporary directory; the file is not created. */
struct tmp_file {
        char dir[512];
        char path[600];
};

static void tmp_file_make(struct tmp_file *t, const char *name) {
        const char *tmp = getenv("TMPDIR");

        snprintf(t->dir, sizeof(t->dir), "%s/test_sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(t->dir));
        snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
}

static void tmp_file_write(const struct tmp_file *t, const char *text) {
        FILE *f = fopen(t->path, "w");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

/* Removes the file, if written, and the directory, which must then be
 * empty. */
static void tmp_file_remove(const struct tmp_file *t) {
        unlink(t->path);
        ck_assert_int_eq(rmdir(t->dir), 0);
}

/* A small world, published as fast as the producer takes it. */
static void publish_options(struct generate_options *o, const char *bootstrap) {
        const char *const with[] = {"generate", "--bootstrap",  bootstrap, "--rate",
                                    "1000000",  "--days",       "3",       "--customers",
                                    "20",       "--fraud-rate", "0.3",     NULL};
        const char *const without[] = {"generate",     "--publish", "--rate",      "1000000",
                                       "--days",       "3",         "--customers", "20",
                                       "--fraud-rate", "0.3",       NULL};
        char err[256] = "";

        ck_assert_msg(parse_list(o, bootstrap ? with : without, err, sizeof(err)) == 0, "%s", err);
}

/* Messages in topic, over its partitions, as the brokers count them. */
static int64_t topic_messages(const char *bootstrap, const char *topic) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        int64_t total = 0;
        rd_kafka_t *rk;

        ck_assert_int_eq(
                rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)),
                RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        for (int p = 0; p < PUBLISH_PARTITIONS; p++) {
                int64_t lo, hi;

                ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000),
                                 RD_KAFKA_RESP_ERR_NO_ERROR);
                total += hi - lo;
        }
        rd_kafka_destroy(rk);
        return total;
}

/* Settings pointing at topics of their own on a new mock cluster. */
static struct fraud_mock *publish_cluster(struct fraud_settings *s) {
        struct fraud_mock *m;

        ck_assert_int_eq(fraud_settings_init(s), 0);
        settings_string_set(&s->topics.raw, "settings.raw");
        settings_string_set(&s->topics.chargebacks, "settings.chargebacks");
        ck_assert_int_eq(fraud_mock_new(1, &m), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, s->topics.raw, PUBLISH_PARTITIONS), 0);
        ck_assert_int_eq(fraud_mock_topic_create(m, s->topics.chargebacks, PUBLISH_PARTITIONS), 0);
        return m;
}

static void publish_check(const struct generate_summary *sum, const struct fraud_settings *s,
                          const char *bootstrap) {
        ck_assert_uint_gt(sum->transactions, 50);
        ck_assert_uint_gt(sum->chargebacks, 5);
        ck_assert_uint_eq(sum->delivered, sum->transactions + sum->chargebacks);
        ck_assert_uint_eq(sum->failed, 0);
        ck_assert_int_eq(topic_messages(bootstrap, s->topics.raw), (int64_t)sum->transactions);
        ck_assert_int_eq(topic_messages(bootstrap, s->topics.chargebacks),
                         (int64_t)sum->chargebacks);
}

START_TEST(test_generate_publish_without_bootstrap_file_names_it_and_the_remedies) {
        struct generate_options o;
        struct generate_summary sum;
        struct fraud_settings s;
        struct tmp_file boot;
        char err[1024] = "";

        tmp_file_make(&boot, "fraud-broker.bootstrap"); /* never written */
        ck_assert_int_eq(fraud_settings_init(&s), 0);
        settings_string_set(&s.broker.bootstrap_file, boot.path);
        publish_options(&o, NULL);
        ck_assert_int_eq(generate_publish(&o, &s, &sum, err, sizeof(err)), -ENOENT);
        ck_assert_msg(strstr(err, boot.path) != NULL, "%s", err);
        ck_assert_msg(strstr(err, "fraud-broker") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "FRAUD_KAFKA_BOOTSTRAP") != NULL, "%s", err);
        ck_assert_uint_eq(sum.transactions + sum.published, 0); /* nothing started */
        fraud_settings_release(&s);
        tmp_file_remove(&boot);
}
END_TEST

START_TEST(test_generate_main_reads_the_bootstrap_file_named_by_config_and_exits_69_without_it) {
        struct tmp_file config;
        char arg0[] = "fraudctl generate", arg1[] = "--config", arg3[] = "--publish";
        char *argv[] = {arg0, arg1, config.path, arg3, NULL};
        char yaml[1024];

        unsetenv("FRAUD_KAFKA_BOOTSTRAP");
        tmp_file_make(&config, "fraud.yaml");
        snprintf(yaml, sizeof(yaml), "broker:\n  bootstrap_file: \"%s/none.bootstrap\"\n",
                 config.dir);
        tmp_file_write(&config, yaml);
        ck_assert_int_eq(generate_main(4, argv), EX_UNAVAILABLE);
        tmp_file_remove(&config);
}
END_TEST

START_TEST(test_generate_publish_uses_the_bootstrap_file_and_topics_of_the_settings) {
        struct generate_options o;
        struct generate_summary sum;
        struct fraud_settings s;
        struct fraud_mock *m = publish_cluster(&s);
        struct tmp_file boot;
        char line[256], err[512] = "";

        tmp_file_make(&boot, "fraud-broker.bootstrap");
        snprintf(line, sizeof(line), "%s\n", fraud_mock_bootstrap(m));
        tmp_file_write(&boot, line);
        settings_string_set(&s.broker.bootstrap_file, boot.path);
        publish_options(&o, NULL);
        ck_assert_msg(generate_publish(&o, &s, &sum, err, sizeof(err)) == 0, "%s", err);
        publish_check(&sum, &s, fraud_mock_bootstrap(m));
        fraud_mock_free(m);
        fraud_settings_release(&s);
        tmp_file_remove(&boot);
}
END_TEST

START_TEST(test_generate_bootstrap_flag_wins_over_the_configured_servers) {
        struct generate_options o;
        struct generate_summary sum;
        struct fraud_settings s;
        struct fraud_mock *m = publish_cluster(&s);
        char err[512] = "";

        settings_string_set(&s.kafka.bootstrap_servers, "127.0.0.1:1"); /* nobody there */
        publish_options(&o, fraud_mock_bootstrap(m));
        ck_assert_msg(generate_publish(&o, &s, &sum, err, sizeof(err)) == 0, "%s", err);
        publish_check(&sum, &s, fraud_mock_bootstrap(m));
        fraud_mock_free(m);
        fraud_settings_release(&s);
}
END_TEST

/* ---- the stream ---- */

START_TEST(test_sim_transactions_are_in_nondecreasing_event_time_within_the_span) {
        const struct dataset *d = dataset();
        struct sim_config c = dataset_config();

        ck_assert_uint_gt(d->n, 100000);
        for (size_t i = 0; i < d->n; i++) {
                ck_assert(d->rows[i].time_ms >= c.start_ms);
                ck_assert(d->rows[i].time_ms < c.start_ms + (int64_t)c.days * DAY_MS);
                if (i > 0)
                        ck_assert(d->rows[i].time_ms >= d->rows[i - 1].time_ms);
        }
        ck_assert(d->cb_order_ok);
}
END_TEST

static bool luhn_valid(const char *pan) {
        int sum = 0, n = (int)strlen(pan);

        for (int i = n - 1, dbl = 0; i >= 0; i--, dbl = !dbl) {
                int v = pan[i] - '0';

                if (v < 0 || v > 9)
                        return false;
                if (dbl && (v *= 2) > 9)
                        v -= 9;
                sum += v;
        }
        return sum % 10 == 0;
}

START_TEST(test_sim_pans_are_16_digit_and_luhn_valid) {
        const struct dataset *d = dataset();

        ck_assert(!luhn_valid("4970100000000001")); /* the check can fail */
        for (size_t i = 0; i < d->n; i++) {
                ck_assert_uint_eq(strlen(d->rows[i].pan), 16);
                ck_assert_msg(luhn_valid(d->rows[i].pan), "%s", d->rows[i].pan);
        }
}
END_TEST

START_TEST(test_sim_channel_matches_mcc_device_and_ip) {
        const struct dataset *d = dataset();
        size_t by_channel[SIM_CHANNEL_COUNT] = {0};

        for (size_t i = 0; i < d->n; i++) {
                const struct row *r = &d->rows[i];
                bool online = r->channel == SIM_CHANNEL_ECOMMERCE;

                by_channel[r->channel]++;
                ck_assert_int_eq(r->channel == SIM_CHANNEL_ATM, r->mcc == 6011);
                ck_assert_int_eq(r->device_id[0] != '\0', online);
                ck_assert_int_eq(r->has_ip, online);
        }
        for (int c = 0; c < SIM_CHANNEL_COUNT; c++)
                ck_assert_msg(by_channel[c] > 100, "channel %s: %zu", sim_channel_name(c),
                              by_channel[c]);
}
END_TEST

START_TEST(test_sim_uses_every_currency_and_jpy_has_no_minor_unit) {
        const struct dataset *d = dataset();
        size_t eur = 0, gbp = 0, usd = 0, jpy = 0;

        for (size_t i = 0; i < d->n; i++) {
                const char *c = d->rows[i].currency;

                eur += !strcmp(c, "EUR");
                gbp += !strcmp(c, "GBP");
                usd += !strcmp(c, "USD");
                if (!strcmp(c, "JPY")) {
                        jpy++;
                        /* a yen amount is whole yen, around 160 per euro */
                        ck_assert(d->rows[i].amount_minor >= 50);
                }
        }
        ck_assert_uint_gt(eur, 1000);
        ck_assert_uint_gt(gbp, 1000);
        ck_assert_uint_gt(usd, 1000);
        ck_assert_uint_gt(jpy, 1000);
}
END_TEST

START_TEST(test_sim_fridays_are_busier_than_sundays) {
        const struct dataset *d = dataset();
        struct sim_config c = dataset_config();
        double per_weekday[7] = {0}, days[7] = {0};

        for (uint32_t k = 0; k < c.days; k++)
                days[(c.start_ms / DAY_MS + k + 4) % 7]++;
        for (size_t i = 0; i < d->n; i++)
                per_weekday[(d->rows[i].time_ms / DAY_MS + 4) % 7]++;
        /* 0 = Sunday, 5 = Friday; the model says 1.15 / 0.88 */
        ck_assert(per_weekday[5] / days[5] > 1.15 * per_weekday[0] / days[0]);
}
END_TEST

/* ---- fraud ---- */

START_TEST(test_sim_fraud_share_is_within_10_percent_of_fraud_rate) {
        const struct dataset *d = dataset();
        double share = (double)d->stats.frauds / (double)d->stats.transactions;
        struct sim_config c;
        struct sim_event ev;
        struct sim *s;

        ck_assert_msg(fabs(share - 0.02) <= 0.002, "share %f", share);
        /* and at the default rate */
        sim_config_default(&c);
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (sim_next(s, &ev) > 0)
                ;
        share = (double)sim_stats(s)->frauds / (double)sim_stats(s)->transactions;
        ck_assert_msg(fabs(share - 0.005) <= 0.0005, "share %f", share);
        sim_free(s);
}
END_TEST

static double fraud_share_of(uint32_t customers, uint32_t merchants, uint32_t days, double rate) {
        struct sim_config c;
        struct sim_event ev;
        struct sim *s;
        double share;

        sim_config_default(&c);
        c.customers = customers;
        c.merchants = merchants;
        c.days = days;
        c.fraud_rate = rate;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (sim_next(s, &ev) > 0)
                ;
        share = (double)sim_stats(s)->frauds / (double)sim_stats(s)->transactions;
        sim_free(s);
        return share;
}

/* At high rates compromised_terminal runs out of skimmed cards and hands its
 * budget on; in a tiny world whole episodes could overshoot the budget. */
START_TEST(test_sim_fraud_share_holds_at_high_rates_and_in_a_small_world) {
        double share = fraud_share_of(2000, 200, 30, 0.3);

        ck_assert_msg(fabs(share / 0.3 - 1) <= 0.05, "rate 0.3: %f", share);
        share = fraud_share_of(2000, 200, 30, 0.5);
        ck_assert_msg(fabs(share / 0.5 - 1) <= 0.05, "rate 0.5: %f", share);
        share = fraud_share_of(200, 50, 30, 0.005);
        ck_assert_msg(fabs(share / 0.005 - 1) <= 0.25, "200 customers: %f", share);
}
END_TEST

START_TEST(test_sim_zero_fraud_rate_gives_no_fraud_and_only_friendly_chargebacks) {
        struct sim_config c = dataset_config();
        struct sim_event ev;
        struct sim *s;

        c.fraud_rate = 0;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (sim_next(s, &ev) > 0) {
                if (ev.kind == SIM_EVENT_TRANSACTION)
                        ck_assert(!ev.tx.is_fraud && ev.tx.scenario == SIM_SCENARIO_LEGIT);
                else
                        ck_assert(!ev.cb.is_fraud);
        }
        ck_assert_uint_gt(sim_stats(s)->chargebacks, 0);
        sim_free(s);
}
END_TEST

START_TEST(test_sim_each_scenario_count_is_within_15_percent_of_its_share) {
        const struct dataset *d = dataset();
        double shares = 0;

        for (int sc = 1; sc < SIM_SCENARIO_COUNT; sc++) {
                double expect = sim_scenario_share(sc) * (double)d->stats.frauds;
                double got = (double)d->stats.by_scenario[sc];

                shares += sim_scenario_share(sc);
                ck_assert_msg(fabs(got - expect) <= 0.15 * expect, "%s: %.0f, expected %.0f",
                              sim_scenario_name(sc), got, expect);
        }
        ck_assert_double_eq_tol(shares, 1.0, 1e-9);
        ck_assert_uint_eq(d->stats.by_scenario[SIM_SCENARIO_LEGIT] + d->stats.frauds,
                          d->stats.transactions);
}
END_TEST

static int cmp_row_ptr_pan_device(const void *a, const void *b) {
        const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
        int c = strcmp(x->pan, y->pan);

        return c ? c : strcmp(x->device_id, y->device_id);
}

START_TEST(test_sim_card_testing_ends_each_card_with_a_purchase_far_above_its_tests) {
        const struct dataset *d = dataset();
        const struct row **ct = malloc(d->n * sizeof(*ct));
        struct sim_config c = dataset_config();
        int64_t end_ms = c.start_ms + (int64_t)c.days * DAY_MS;
        size_t n = 0, cards = 0;

        for (size_t i = 0; i < d->n; i++)
                if (d->rows[i].scenario == SIM_SCENARIO_CARD_TESTING)
                        ct[n++] = &d->rows[i];
        /* one group per (card, bot device) */
        qsort(ct, n, sizeof(*ct), cmp_row_ptr_pan_device);
        for (size_t i = 0; i < n;) {
                size_t j = i, latest = i;
                int64_t tests_max = 0;

                while (j < n && !cmp_row_ptr_pan_device(&ct[i], &ct[j]))
                        j++;
                for (size_t k = i; k < j; k++) {
                        ck_assert_int_eq(ct[k]->channel, SIM_CHANNEL_ECOMMERCE);
                        if (ct[k]->time_ms > ct[latest]->time_ms)
                                latest = k;
                }
                for (size_t k = i; k < j; k++)
                        if (k != latest && ct[k]->amount_minor > tests_max)
                                tests_max = ct[k]->amount_minor;
                /* whole episodes only: the end of the span cuts some short */
                if (j - i >= 5 && ct[latest]->time_ms < end_ms - 2 * 3600 * 1000) {
                        ck_assert_msg(ct[latest]->amount_minor > 50 * tests_max,
                                      "%s: %lld after tests up to %lld", ct[i]->pan,
                                      (long long)ct[latest]->amount_minor, (long long)tests_max);
                        cards++;
                }
                i = j;
        }
        ck_assert_uint_gt(cards, 20);
        free(ct);
}
END_TEST

/* "key|value" strings, sorted, for membership tests. */
struct pairs {
        char (*items)[64];
        size_t n;
};

static void pairs_add(struct pairs *p, const char *key, const char *value) {
        snprintf(p->items[p->n++], 64, "%s|%s", key, value);
}

static int cmp_pair(const void *a, const void *b) {
        return strcmp(a, b);
}

static bool pairs_has(const struct pairs *p, const char *key, const char *value) {
        char k[64];

        snprintf(k, sizeof(k), "%s|%s", key, value);
        return bsearch(k, p->items, p->n, sizeof(*p->items), cmp_pair) != NULL;
}

START_TEST(test_sim_stolen_cards_and_takeovers_use_devices_new_to_the_victim) {
        const struct dataset *d = dataset();
        struct pairs card_dev = {malloc(d->n * 64), 0}, cust_dev = {malloc(d->n * 64), 0};
        size_t checked = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct row *r = &d->rows[i];

                if (r->scenario == SIM_SCENARIO_LEGIT && r->device_id[0]) {
                        pairs_add(&card_dev, r->pan, r->device_id);
                        pairs_add(&cust_dev, r->customer_id, r->device_id);
                }
        }
        qsort(card_dev.items, card_dev.n, sizeof(*card_dev.items), cmp_pair);
        qsort(cust_dev.items, cust_dev.n, sizeof(*cust_dev.items), cmp_pair);
        for (size_t i = 0; i < d->n; i++) {
                const struct row *r = &d->rows[i];

                if (r->scenario != SIM_SCENARIO_STOLEN_CARD &&
                    r->scenario != SIM_SCENARIO_ACCOUNT_TAKEOVER)
                        continue;
                ck_assert_int_eq(r->channel, SIM_CHANNEL_ECOMMERCE);
                ck_assert(!pairs_has(&card_dev, r->pan, r->device_id));
                ck_assert(!pairs_has(&cust_dev, r->customer_id, r->device_id));
                checked++;
        }
        ck_assert_uint_gt(checked, 500);
        free(card_dev.items);
        free(cust_dev.items);
}
END_TEST

START_TEST(test_sim_fraud_ring_devices_are_shared_by_several_cards) {
        const struct dataset *d = dataset();
        const struct row **ring = malloc(d->n * sizeof(*ring));
        size_t n = 0, devices = 0, pairs = 0;

        for (size_t i = 0; i < d->n; i++)
                if (d->rows[i].scenario == SIM_SCENARIO_FRAUD_RING)
                        ring[n++] = &d->rows[i];
        /* count distinct (device, card) pairs and distinct devices */
        for (size_t i = 0; i < n; i++) {
                bool new_device = true, new_pair = true;

                for (size_t j = 0; j < i && (new_device || new_pair); j++) {
                        if (strcmp(ring[j]->device_id, ring[i]->device_id))
                                continue;
                        new_device = false;
                        new_pair = new_pair && strcmp(ring[j]->pan, ring[i]->pan) != 0;
                }
                devices += new_device;
                pairs += new_pair;
        }
        ck_assert_uint_gt(devices, 10);
        ck_assert_msg((double)pairs / (double)devices >= 3.0, "%zu cards over %zu devices", pairs,
                      devices);
        free(ring);
}
END_TEST

struct card_first {
        char pan[SIM_PAN_LEN + 1];
        int64_t first_ms;
};

static int cmp_pan_only(const void *a, const void *b) {
        return strcmp(((const struct card_first *)a)->pan, ((const struct card_first *)b)->pan);
}

static int cmp_card_first(const void *a, const void *b) {
        const struct card_first *x = a, *y = b;
        int c = strcmp(x->pan, y->pan);

        return c ? c : (x->first_ms > y->first_ms) - (x->first_ms < y->first_ms);
}

/* The cards cashed out, each with the time of its first counterfeit use. */
static size_t cashed_out_cards(const struct dataset *d, struct card_first *cards) {
        size_t n = 0, u = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct row *r = &d->rows[i];

                if (r->scenario != SIM_SCENARIO_COMPROMISED_TERMINAL)
                        continue;
                ck_assert(r->channel == SIM_CHANNEL_ATM || r->channel == SIM_CHANNEL_CARD_PRESENT);
                memcpy(cards[n].pan, r->pan, sizeof(cards[n].pan));
                cards[n++].first_ms = r->time_ms;
        }
        qsort(cards, n, sizeof(*cards), cmp_card_first);
        for (size_t i = 0; i < n; i++)
                if (u == 0 || strcmp(cards[u - 1].pan, cards[i].pan))
                        cards[u++] = cards[i];
        return u;
}

/* Every cashed-out card had been used card-present, at least a day before
 * its first counterfeit use, at a terminal where another cashed-out card
 * had been used too: the common point of purchase. */
START_TEST(test_sim_compromised_terminal_cards_share_an_earlier_terminal) {
        const struct dataset *d = dataset();
        struct card_first *cards = malloc(d->n * sizeof(*cards));
        struct pairs visits = {malloc(d->n * 64), 0}, shared = {malloc(d->n * 64), 0};
        size_t nc = cashed_out_cards(d, cards), common = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct row *r = &d->rows[i];
                struct card_first key, *c;

                if (r->scenario != SIM_SCENARIO_LEGIT ||
                    (r->channel != SIM_CHANNEL_CARD_PRESENT && r->channel != SIM_CHANNEL_ATM))
                        continue;
                memcpy(key.pan, r->pan, sizeof(key.pan));
                key.first_ms = INT64_MIN;
                c = bsearch(&key, cards, nc, sizeof(*cards), cmp_pan_only);
                if (c && r->time_ms <= c->first_ms - DAY_MS)
                        pairs_add(&visits, r->terminal_id, r->pan);
        }
        qsort(visits.items, visits.n, sizeof(*visits.items), cmp_pair);
        for (size_t i = 0; i < visits.n;) {
                size_t tlen = (size_t)(strchr(visits.items[i], '|') - visits.items[i]) + 1, j = i;
                size_t pans = 0;

                for (; j < visits.n && !strncmp(visits.items[i], visits.items[j], tlen); j++)
                        pans += j == i || strcmp(visits.items[j - 1], visits.items[j]) != 0;
                for (size_t k = i; pans >= 2 && k < j; k++)
                        pairs_add(&shared, visits.items[k] + tlen, "");
                i = j;
        }
        qsort(shared.items, shared.n, sizeof(*shared.items), cmp_pair);
        for (size_t i = 0; i < shared.n; i++)
                common += i == 0 || strcmp(shared.items[i - 1], shared.items[i]) != 0;
        ck_assert_uint_gt(nc, 50);
        ck_assert_msg(common >= 0.9 * (double)nc, "%zu of %zu cards", common, nc);
        free(cards);
        free(visits.items);
        free(shared.items);
}
END_TEST

/* ---- chargebacks ---- */

static double lognormal_cdf(double x, double median, double sigma) {
        return 0.5 * erfc(-(log(x) - log(median)) / (sigma * sqrt(2.0)));
}

/* The p-quantile of the lognormal truncated to [lo, hi], by bisection. */
static double truncated_quantile(double p) {
        double lo = SIM_CHARGEBACK_DELAY_MIN_DAYS, hi = SIM_CHARGEBACK_DELAY_MAX_DAYS;
        double m = SIM_CHARGEBACK_DELAY_MEDIAN_DAYS, s = SIM_CHARGEBACK_DELAY_SIGMA;
        double flo = lognormal_cdf(lo, m, s), fhi = lognormal_cdf(hi, m, s), a = lo, b = hi;

        for (int i = 0; i < 100; i++) {
                double mid = (a + b) / 2;

                if ((lognormal_cdf(mid, m, s) - flo) / (fhi - flo) < p)
                        a = mid;
                else
                        b = mid;
        }
        return (a + b) / 2;
}

/* P(delay > x) under the truncated lognormal. */
static double truncated_tail(double x) {
        double m = SIM_CHARGEBACK_DELAY_MEDIAN_DAYS, s = SIM_CHARGEBACK_DELAY_SIGMA;
        double flo = lognormal_cdf(SIM_CHARGEBACK_DELAY_MIN_DAYS, m, s);
        double fhi = lognormal_cdf(SIM_CHARGEBACK_DELAY_MAX_DAYS, m, s);

        return (fhi - lognormal_cdf(x, m, s)) / (fhi - flo);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

START_TEST(test_sim_chargeback_delays_follow_the_truncated_lognormal) {
        const struct dataset *d = dataset();
        double *v = malloc(d->cbs * sizeof(*v)), median, p90;
        size_t above;

        ck_assert_uint_gt(d->cbs, 3000);
        memcpy(v, d->delays_days, d->cbs * sizeof(*v));
        qsort(v, d->cbs, sizeof(*v), cmp_double);
        ck_assert(v[0] >= SIM_CHARGEBACK_DELAY_MIN_DAYS);
        ck_assert(v[d->cbs - 1] <= SIM_CHARGEBACK_DELAY_MAX_DAYS);
        median = v[d->cbs / 2];
        p90 = v[d->cbs * 9 / 10];
        /* the documented figures */
        ck_assert_double_eq_tol(truncated_quantile(0.5), 19.8, 0.05);
        ck_assert_double_eq_tol(truncated_quantile(0.9), 53.1, 0.05);
        ck_assert_msg(fabs(median / truncated_quantile(0.5) - 1) < 0.05, "median %f", median);
        ck_assert_msg(fabs(p90 / truncated_quantile(0.9) - 1) < 0.07, "p90 %f", p90);
        /* the tail is truncated (resampled), not clamped: a clamp would pile
         * 1.3 % at the bound and double the share above 100 days */
        for (above = 0; above < d->cbs && v[d->cbs - 1 - above] > 100; above++)
                ;
        ck_assert_msg(fabs((double)above / (double)d->cbs / truncated_tail(100) - 1) < 0.4,
                      "%zu of %zu above 100 days", above, d->cbs);
        free(v);
}
END_TEST

START_TEST(test_sim_uncharged_fraud_share_is_12_percent_within_3_points) {
        const struct dataset *d = dataset();
        double uncharged = 1.0 - (double)d->fraud_cbs / (double)d->stats.frauds;

        ck_assert_msg(fabs(uncharged - SIM_FRAUD_UNCHARGED_SHARE) <= 0.03, "%f", uncharged);
}
END_TEST

START_TEST(test_sim_friendly_fraud_is_near_0_05_percent_of_legitimate_payments) {
        const struct dataset *d = dataset();
        double legit = (double)(d->stats.transactions - d->stats.frauds);
        double rate = (double)d->friendly_cbs / legit;

        ck_assert_uint_eq(d->friendly_cbs, d->stats.chargebacks_friendly);
        ck_assert_msg(fabs(rate / SIM_FRIENDLY_FRAUD_RATE - 1) <= 0.4, "%f", rate);
}
END_TEST

START_TEST(test_sim_new_rejects_a_config_out_of_range) {
        struct sim_config c;
        struct sim *s = (struct sim *)&c;
        const char *why = NULL;

        sim_config_default(&c);
        c.fraud_rate = 0.7;
        ck_assert_int_eq(sim_new(&c, &s), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(sim_config_check(&c, &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        sim_config_default(&c);
        c.start_ms += 1; /* not a midnight */
        ck_assert_int_eq(sim_config_check(&c, NULL), -EINVAL);
        sim_free(NULL);
}
END_TEST

int main(void) {
        const TTest *const fns[] = {
                test_generate_same_seed_gives_byte_identical_files,
                test_generate_different_seed_gives_different_files,
                test_generate_every_chargeback_refers_to_one_earlier_transaction,
                test_generate_jsonl_holds_the_same_transactions_as_csv,
                test_generate_formats_amounts_with_the_currency_decimals,
                test_generate_kafka_json_leaves_out_the_ground_truth,
                test_generate_rejects_bad_flags_with_a_reason,
                test_generate_accepts_every_flag_in_both_spellings,
                test_generate_publish_without_bootstrap_file_names_it_and_the_remedies,
                test_generate_main_reads_the_bootstrap_file_named_by_config_and_exits_69_without_it,
                test_generate_publish_uses_the_bootstrap_file_and_topics_of_the_settings,
                test_generate_bootstrap_flag_wins_over_the_configured_servers,
                test_sim_transactions_are_in_nondecreasing_event_time_within_the_span,
                test_sim_pans_are_16_digit_and_luhn_valid,
                test_sim_channel_matches_mcc_device_and_ip,
                test_sim_uses_every_currency_and_jpy_has_no_minor_unit,
                test_sim_fridays_are_busier_than_sundays,
                test_sim_fraud_share_is_within_10_percent_of_fraud_rate,
                test_sim_fraud_share_holds_at_high_rates_and_in_a_small_world,
                test_sim_zero_fraud_rate_gives_no_fraud_and_only_friendly_chargebacks,
                test_sim_each_scenario_count_is_within_15_percent_of_its_share,
                test_sim_card_testing_ends_each_card_with_a_purchase_far_above_its_tests,
                test_sim_stolen_cards_and_takeovers_use_devices_new_to_the_victim,
                test_sim_fraud_ring_devices_are_shared_by_several_cards,
                test_sim_compromised_terminal_cards_share_an_earlier_terminal,
                test_sim_chargeback_delays_follow_the_truncated_lognormal,
                test_sim_uncharged_fraud_share_is_12_percent_within_3_points,
                test_sim_friendly_fraud_is_near_0_05_percent_of_legitimate_payments,
                test_sim_new_rejects_a_config_out_of_range};

        dataset_build(); /* a failure shows in every test that reads it */
        return testing_run(testing_suite("sim", fns, (int)(sizeof(fns) / sizeof(fns[0]))));
}
