/* generate.c: `fraudctl generate` (see generate.h for the formats).
 *
 * Design.  The simulator (tools/sim.c) yields events in event-time order;
 * this file only lays them out.  Each record (transaction, chargeback) has
 * one table of fields, name and kind of value, that writes the CSV header,
 * the CSV lines and the JSON objects alike.  Lines are formatted by hand
 * straight into a FRAUD_GENERATE_BUFFER_BYTES buffer per file (no stdio, no
 * printf per field) and written with write(2) when the buffer cannot take
 * another FRAUD_GENERATE_LINE_MAX bytes: that is what lets file output run
 * at over a million transactions a second on one core.
 *
 * Files are written as DIR/.NAME.PID.tmp and renamed to DIR/NAME only when
 * complete, so a failed or interrupted run never leaves a plausible-looking
 * truncated file.  Output is deterministic: the same flags give the same
 * bytes (no clock, and no setting, reaches the files).
 *
 * The command line is the shared one (common/cli.h) followed by the
 * subcommand's own flags; the settings serve only Kafka mode, whose client
 * common/connect.h builds from the kafka section (--bootstrap replacing the
 * configured servers) and whose topics default to topics.raw and
 * topics.chargebacks.
 *
 * Kafka mode publishes the same stream through lib/kafka.h: transactions as
 * the JSON object of the JSONL format without is_fraud and scenario (the
 * ground truth never reaches the pipeline), chargebacks as protobuf
 * fraud.Chargeback (kind CHARGEBACK, card_hash empty: the simulator does not
 * know ingest's key); both keyed by transaction id, never by PAN.  Message i
 * is due at start + i / rate on the monotonic clock; the wait serves the
 * producer's delivery reports.  SIGINT and SIGTERM (handled only while
 * publishing, previous handlers restored after) stop the loop; the producer
 * is then flushed for up to FRAUD_KAFKA_CLOSE_FLUSH_MS, longer than its
 * delivery timeout (PUBLISH_DELIVERY_TIMEOUT_MS), and the summary counts
 * what was delivered and what failed.
 */
#include "tools/generate.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/connect.h"
#include "common/schema.h"
#include "lib/kafka.h"
#include "lib/time.h"
#include "proto/chargeback.pb-c.h"
#include "tools/faults.h"

#define DAY_MS         INT64_C(86400000)
#define HELP_BYTES_MAX 8192 /* the --help text of the subcommand's own options */
#define WAIT_SLICE_MS  100  /* longest wait between two looks at the stop flag */
/* The most kafka.delivery_timeout_ms this tool uses (the settings' default,
 * 30 s, is for the stages): shorter than the final flush, so when the flush
 * returns every message has been delivered or has failed, the summary is
 * exact and freeing the producer does not wait again.  A shorter configured
 * timeout is kept. */
#define PUBLISH_DELIVERY_TIMEOUT_MS (FRAUD_KAFKA_CLOSE_FLUSH_MS - 1000)

/* ------------------------------------------------------------------ */
/* Formatting                                                           */
/* ------------------------------------------------------------------ */

static char *put_str(char *p, const char *s) {
        while (*s)
                *p++ = *s++;
        return p;
}

static char *put_u64(char *p, uint64_t v) {
        char tmp[20];
        int n = 0;

        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v != 0);
        while (n > 0)
                *p++ = tmp[--n];
        return p;
}

static char *put_2(char *p, unsigned v) {
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return p + 2;
}

static char *put_amount(char *p, int64_t minor, unsigned decimals) {
        uint64_t v;

        if (minor < 0)
                *p++ = '-';
        v = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
        if (decimals == 0)
                return put_u64(p, v);
        p = put_u64(p, v / 100);
        *p++ = '.';
        return put_2(p, (unsigned)(v % 100));
}

char *generate_timestamp(int64_t time_ms, char *p) {
        int64_t day = time_ms / DAY_MS, ms = time_ms % DAY_MS, year;
        unsigned month, mday, s;

        if (ms < 0) {
                ms += DAY_MS;
                day--;
        }
        fraud_time_civil_from_days(day, &year, &month, &mday);
        p = put_2(p, (unsigned)(year / 100));
        p = put_2(p, (unsigned)(year % 100));
        *p++ = '-';
        p = put_2(p, month);
        *p++ = '-';
        p = put_2(p, mday);
        *p++ = 'T';
        s = (unsigned)(ms / 1000);
        p = put_2(p, s / 3600);
        *p++ = ':';
        p = put_2(p, s / 60 % 60);
        *p++ = ':';
        p = put_2(p, s % 60);
        *p++ = '.';
        *p++ = (char)('0' + ms % 1000 / 100);
        p = put_2(p, (unsigned)(ms % 100));
        *p++ = 'Z';
        return p;
}

/* The mcc as four digits. */
static char *put_mcc(char *p, unsigned mcc) {
        p = put_2(p, mcc / 100 % 100);
        return put_2(p, mcc % 100);
}

/* ------------------------------------------------------------------ */
/* Records: one field table each, for CSV and JSON alike                */
/* ------------------------------------------------------------------ */

/* How a field's value is stored in its record and written. */
enum field_kind {
        FIELD_CHARS,    /* char[] */
        FIELD_STRING,   /* const char * to a static string */
        FIELD_TIME,     /* int64_t milliseconds, as generate_timestamp() */
        FIELD_AMOUNT,   /* int64_t minor units, with the record's currency_decimals */
        FIELD_MCC,      /* unsigned, four digits */
        FIELD_CHANNEL,  /* enum sim_channel, by name */
        FIELD_SCENARIO, /* enum sim_scenario, by name */
        FIELD_FLAG,     /* bool as 0 or 1: the one value JSON does not quote */
};

struct field {
        const char *name; /* CSV header and JSON key */
        enum field_kind kind;
        size_t at; /* offset of the value in the record */
};

/* The fields of a record in file order.  The ground truth comes last, after
 * the n_public fields that Kafka messages carry. */
struct record_format {
        const struct field *fields;
        size_t n;
        size_t n_public;
        size_t decimals_at; /* offset of the record's currency_decimals */
};

#define TX(member)      offsetof(struct sim_transaction, member)
#define CB(member)      offsetof(struct sim_chargeback, member)
#define TX_TRUTH_FIELDS 2 /* is_fraud and scenario, the last two */

static const struct field transaction_fields[] = {
        {"transaction_id", FIELD_CHARS, TX(transaction_id)},
        {"timestamp", FIELD_TIME, TX(time_ms)},
        {"amount", FIELD_AMOUNT, TX(amount_minor)},
        {"currency", FIELD_STRING, TX(currency)},
        {"pan", FIELD_CHARS, TX(pan)},
        {"customer_id", FIELD_CHARS, TX(customer_id)},
        {"merchant_id", FIELD_CHARS, TX(merchant_id)},
        {"terminal_id", FIELD_CHARS, TX(terminal_id)},
        {"mcc", FIELD_MCC, TX(mcc)},
        {"country", FIELD_STRING, TX(country)},
        {"channel", FIELD_CHANNEL, TX(channel)},
        {"device_id", FIELD_CHARS, TX(device_id)},
        {"ip", FIELD_CHARS, TX(ip)},
        {"is_fraud", FIELD_FLAG, TX(is_fraud)},
        {"scenario", FIELD_SCENARIO, TX(scenario)},
};

static const struct field chargeback_fields[] = {
        {"chargeback_id", FIELD_CHARS, CB(chargeback_id)},
        {"transaction_id", FIELD_CHARS, CB(transaction_id)},
        {"timestamp", FIELD_TIME, CB(time_ms)},
        {"transaction_timestamp", FIELD_TIME, CB(transaction_time_ms)},
        {"amount", FIELD_AMOUNT, CB(amount_minor)},
        {"currency", FIELD_STRING, CB(currency)},
        {"reason", FIELD_STRING, CB(reason)},
        {"merchant_id", FIELD_CHARS, CB(merchant_id)},
        {"terminal_id", FIELD_CHARS, CB(terminal_id)},
};

#define FIELDS_OF(t) (sizeof(t) / sizeof((t)[0]))

static const struct record_format transaction_format = {
        transaction_fields, FIELDS_OF(transaction_fields),
        FIELDS_OF(transaction_fields) - TX_TRUTH_FIELDS, TX(currency_decimals)};
static const struct record_format chargeback_format = {
        chargeback_fields, FIELDS_OF(chargeback_fields), FIELDS_OF(chargeback_fields),
        CB(currency_decimals)};

#undef TX
#undef CB
#undef FIELDS_OF

/* Writes the value of field f of rec, a record of fmt. */
static char *field_put(char *p, const struct record_format *fmt, const struct field *f,
                       const char *rec) {
        const char *v = rec + f->at;

        switch (f->kind) {
        case FIELD_CHARS:
                return put_str(p, v);
        case FIELD_STRING:
                return put_str(p, *(const char *const *)v);
        case FIELD_TIME:
                return generate_timestamp(*(const int64_t *)v, p);
        case FIELD_AMOUNT:
                return put_amount(p, *(const int64_t *)v,
                                  *(const unsigned *)(rec + fmt->decimals_at));
        case FIELD_MCC:
                return put_mcc(p, *(const unsigned *)v);
        case FIELD_CHANNEL:
                return put_str(p, sim_channel_name(*(const enum sim_channel *)v));
        case FIELD_SCENARIO:
                return put_str(p, sim_scenario_name(*(const enum sim_scenario *)v));
        case FIELD_FLAG:
                *p = *(const bool *)v ? '1' : '0';
                return p + 1;
        }
        assert(!"unknown field kind");
        return p;
}

/* The CSV header line. */
static size_t record_header(const struct record_format *fmt, char *buf) {
        char *p = buf;

        for (size_t i = 0; i < fmt->n; i++) {
                p = put_str(p, fmt->fields[i].name);
                *p++ = ',';
        }
        p[-1] = '\n';
        return (size_t)(p - buf);
}

static size_t record_csv(const struct record_format *fmt, const void *rec, char *buf) {
        char *p = buf;

        for (size_t i = 0; i < fmt->n; i++) {
                p = field_put(p, fmt, &fmt->fields[i], rec);
                *p++ = ',';
        }
        p[-1] = '\n';
        assert(p - buf <= FRAUD_GENERATE_LINE_MAX);
        return (size_t)(p - buf);
}

/* One JSON object of the first n fields, and a newline. */
static size_t record_json(const struct record_format *fmt, size_t n, const void *rec, char *buf) {
        char *p = buf;

        *p++ = '{';
        for (size_t i = 0; i < n; i++) {
                const struct field *f = &fmt->fields[i];
                bool quoted = f->kind != FIELD_FLAG;

                *p++ = '"';
                p = put_str(p, f->name);
                *p++ = '"';
                *p++ = ':';
                if (quoted)
                        *p++ = '"';
                p = field_put(p, fmt, f, rec);
                if (quoted)
                        *p++ = '"';
                *p++ = ',';
        }
        p[-1] = '}';
        *p++ = '\n';
        assert(p - buf <= FRAUD_GENERATE_LINE_MAX);
        return (size_t)(p - buf);
}

size_t generate_transaction_csv(const struct sim_transaction *tx, char *buf) {
        return record_csv(&transaction_format, tx, buf);
}

size_t generate_transaction_json(const struct sim_transaction *tx, bool with_truth, char *buf) {
        const struct record_format *fmt = &transaction_format;

        return record_json(fmt, with_truth ? fmt->n : fmt->n_public, tx, buf);
}

size_t generate_chargeback_csv(const struct sim_chargeback *cb, char *buf) {
        return record_csv(&chargeback_format, cb, buf);
}

size_t generate_chargeback_json(const struct sim_chargeback *cb, char *buf) {
        return record_json(&chargeback_format, chargeback_format.n, cb, buf);
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */
/* ------------------------------------------------------------------ */

void generate_options_default(struct generate_options *o) {
        memset(o, 0, sizeof(*o));
        sim_config_default(&o->sim);
        o->format = GENERATE_FORMAT_CSV;
        o->rate_per_sec = 1000;
}

/* The subcommand's own options, for --help (after the shared ones). */
static void help_format(char *buf, size_t size) {
        int n = snprintf(
                buf, size,
                "\n"
                "Where to (one of):\n"
                "  --out DIR            write DIR/transactions.csv and DIR/chargebacks.csv\n"
                "                       (created if missing; replaced if present)\n"
                "  --publish            publish to the configured Kafka: kafka.bootstrap_servers\n"
                "                       (FRAUD_KAFKA_BOOTSTRAP), or else the embedded broker's\n"
                "                       address in broker.bootstrap_file (fraud-broker.bootstrap\n"
                "                       in the working directory by default)\n"
                "  --bootstrap H:P[,..] publish to these brokers, over the configured ones;\n"
                "                       the rest of the kafka section (SASL/TLS, linger,\n"
                "                       compression) still applies\n"
                "\n"
                "World:\n"
                "  --days N             simulated days, 1..%d (default 30)\n"
                "  --customers N        customers, %d..%d (default 10000)\n"
                "  --merchants N        merchants, %d..%d (default 1000)\n"
                "  --seed N             random seed, 0..2^64-1 (default 1)\n"
                "  --fraud-rate F       share of transactions that are fraud, 0..%g (default "
                "0.005)\n"
                "  --start YYYY-MM-DD   first day, UTC (default 2026-01-01)\n"
                "\n"
                "Files:\n"
                "  --format csv|jsonl   file format (default csv)\n"
                "\n"
                "Kafka: transactions as JSON (no is_fraud, no scenario), chargebacks as\n"
                "protobuf fraud.Chargeback, both keyed by transaction_id, interleaved in\n"
                "event-time order.  A message not delivered within kafka.delivery_timeout_ms,\n"
                "at most %d s here, counts as failed.\n"
                "  --rate R             messages per second, up to %d (default 1000)\n"
                "  --seconds N          stop after N seconds (default: when the simulated span\n"
                "                       and its chargebacks are all published)\n"
                "  --topic-raw NAME     transaction topic (default: topics.raw, tx.raw)\n"
                "  --topic-chargebacks NAME  chargeback topic (default: topics.chargebacks,\n"
                "                       chargebacks)\n"
                "  --malformed-share F  after a transaction, publish with probability F a\n"
                "                       malformed copy under the id <id>-malformed (in turn:\n"
                "                       cut JSON, no amount, currency XXX, amount -5.00, bad\n"
                "                       PAN check digit, bad timestamp), 0..0.5 (default 0)\n"
                "  --duplicate-share F  after a transaction, publish it again with probability\n"
                "                       F, same id and bytes, 0..0.5 (default 0); both draws\n"
                "                       leave the simulated stream itself unchanged\n"
                "  SIGINT or SIGTERM stop publishing; a summary (published, delivered, failed)\n"
                "  is printed either way.\n"
                "\n"
                "Exit status:\n"
                "  0   done; in Kafka mode, every message delivered\n"
                "  64  bad command line\n"
                "  69  Kafka unavailable (no bootstrap servers and no bootstrap file, brokers\n"
                "      unreachable) or a message not delivered\n"
                "  70  a simulator bound was reached (see lib/bounds.h)\n"
                "  71  out of memory\n"
                "  74  a file could not be written\n"
                "  78  bad configuration: --config file, environment, Kafka settings\n"
                "\n"
                "Fraud scenarios (the scenario column; is_fraud = 1), shares of all fraud:\n"
                "  stolen_card 30%%           3-8 e-commerce payments in hours, abroad, new "
                "device\n"
                "  card_testing 20%%          4-12 payments of 0.50-2.00 EUR at one shop, seconds\n"
                "                            apart, then one large purchase; 1-3 cards per bot\n"
                "  compromised_terminal 20%%  a skimmer on a terminal for 2-6 days; from a day\n"
                "                            later, the copied cards are cashed out elsewhere\n"
                "                            (ATM, electronics, card present); the terminal's\n"
                "                            own payments are legitimate\n"
                "  account_takeover 15%%      new device and IP, 2-6 high e-commerce payments\n"
                "  fraud_ring 15%%            2-5 devices and 2-4 IPs shared by 8-30 cards at\n"
                "                            2-4 merchants over 1-5 days\n"
                "\n"
                "Chargebacks: %.0f%% of frauds and %.2f%% of legitimate payments (friendly\n"
                "fraud) are charged back.  Delay after the payment: lognormal, median %.0f\n"
                "days, sigma %.1f (log space), truncated to %.0f..%.0f days (median 19.8 days,\n"
                "90th percentile 53.1 days).  Reason codes: 10.4 fraud card absent, 10.1\n"
                "counterfeit card present, 13.1 not received / not as agreed (friendly).\n"
                "The chargebacks file is sorted by the time each chargeback arrives and\n"
                "includes those arriving after the last transaction.\n",
                FRAUD_SIM_DAYS_MAX, SIM_CUSTOMERS_MIN, FRAUD_SIM_CUSTOMERS_MAX, SIM_MERCHANTS_MIN,
                FRAUD_SIM_MERCHANTS_MAX, SIM_FRAUD_RATE_MAX, PUBLISH_DELIVERY_TIMEOUT_MS / 1000,
                FRAUD_GENERATE_RATE_MAX, 100.0 * (1.0 - SIM_FRAUD_UNCHARGED_SHARE),
                100.0 * SIM_FRIENDLY_FRAUD_RATE, SIM_CHARGEBACK_DELAY_MEDIAN_DAYS,
                SIM_CHARGEBACK_DELAY_SIGMA, SIM_CHARGEBACK_DELAY_MIN_DAYS,
                SIM_CHARGEBACK_DELAY_MAX_DAYS);

        assert(n > 0 && (size_t)n < size);
}

/* A decimal integer in [min, max], nothing else: no sign, no spaces. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static int parse_double(const char *s, double min, double max, double *out) {
        char *end;
        double v;

        if (s[0] == '\0' || isspace((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static int parse_date(const char *s, int64_t *out_ms) {
        int64_t us;

        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        for (int i = 0; i < 10; i++)
                if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
                        return -EINVAL;
        if (fraud_time_parse_iso8601(s, &us) < 0 || us < 0 || us / 1000 > FRAUD_SIM_START_MS_MAX)
                return -EINVAL;
        *out_ms = us / 1000;
        return 0;
}

/* Kafka's rule for topic names. */
static bool topic_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > FRAUD_KAFKA_TOPIC_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

/* "host:port[,host:port...]" with ports 1..65535. */
static bool bootstrap_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= FRAUD_CONNECT_BOOTSTRAP_MAX)
                return false;
        while (*s) {
                const char *end = strchr(s, ','), *colon;
                size_t len = end ? (size_t)(end - s) : strlen(s);
                char port[8];
                uint64_t v;

                colon = memrchr(s, ':', len);
                if (!colon || colon == s || (size_t)(s + len - colon - 1) >= sizeof(port))
                        return false;
                memcpy(port, colon + 1, (size_t)(s + len - colon - 1));
                port[s + len - colon - 1] = '\0';
                if (parse_u64(port, 1, 65535, &v) < 0)
                        return false;
                s += len + (end != NULL);
                if (end && *s == '\0')
                        return false;
        }
        return true;
}

enum option_id {
        OPT_DAYS,
        OPT_CUSTOMERS,
        OPT_MERCHANTS,
        OPT_SEED,
        OPT_FRAUD_RATE,
        OPT_START,
        OPT_FORMAT,
        OPT_OUT,
        OPT_PUBLISH,
        OPT_BOOTSTRAP,
        OPT_RATE,
        OPT_SECONDS,
        OPT_TOPIC_RAW,
        OPT_TOPIC_CHARGEBACKS,
        OPT_MALFORMED_SHARE,
        OPT_DUPLICATE_SHARE,
        OPT_COUNT
};

static const char *const option_names[OPT_COUNT] = {
        [OPT_DAYS] = "days",
        [OPT_CUSTOMERS] = "customers",
        [OPT_MERCHANTS] = "merchants",
        [OPT_SEED] = "seed",
        [OPT_FRAUD_RATE] = "fraud-rate",
        [OPT_START] = "start",
        [OPT_FORMAT] = "format",
        [OPT_OUT] = "out",
        [OPT_PUBLISH] = "publish",
        [OPT_BOOTSTRAP] = "bootstrap",
        [OPT_RATE] = "rate",
        [OPT_SECONDS] = "seconds",
        [OPT_TOPIC_RAW] = "topic-raw",
        [OPT_TOPIC_CHARGEBACKS] = "topic-chargebacks",
        [OPT_MALFORMED_SHARE] = "malformed-share",
        [OPT_DUPLICATE_SHARE] = "duplicate-share",
};

/* Options that take no value. */
#define OPTION_FLAGS (1u << OPT_PUBLISH)

static int expect_u64(const char *flag, const char *v, uint64_t min, uint64_t max, uint64_t *out,
                      char *err, size_t err_size) {
        if (parse_u64(v, min, max, out) == 0)
                return 0;
        snprintf(err, err_size, "--%s: expected an integer from %llu to %llu, got '%s'", flag,
                 (unsigned long long)min, (unsigned long long)max, v);
        return -EINVAL;
}

static int expect(bool ok, const char *flag, const char *v, const char *what, char *err,
                  size_t err_size) {
        if (ok)
                return 0;
        snprintf(err, err_size, "--%s: expected %s, got '%s'", flag, what, v);
        return -EINVAL;
}

static int option_apply(struct generate_options *o, enum option_id id, const char *v, char *err,
                        size_t n) {
        const char *f = option_names[id];
        uint64_t u = 0;
        int r = 0;

        switch (id) {
        case OPT_DAYS:
                r = expect_u64(f, v, 1, FRAUD_SIM_DAYS_MAX, &u, err, n);
                o->sim.days = (uint32_t)u;
                break;
        case OPT_CUSTOMERS:
                r = expect_u64(f, v, SIM_CUSTOMERS_MIN, FRAUD_SIM_CUSTOMERS_MAX, &u, err, n);
                o->sim.customers = (uint32_t)u;
                break;
        case OPT_MERCHANTS:
                r = expect_u64(f, v, SIM_MERCHANTS_MIN, FRAUD_SIM_MERCHANTS_MAX, &u, err, n);
                o->sim.merchants = (uint32_t)u;
                break;
        case OPT_SEED:
                r = expect_u64(f, v, 0, UINT64_MAX, &o->sim.seed, err, n);
                break;
        case OPT_FRAUD_RATE:
                r = expect(parse_double(v, 0, SIM_FRAUD_RATE_MAX, &o->sim.fraud_rate) == 0, f, v,
                           "a number from 0 to 0.5", err, n);
                break;
        case OPT_START:
                r = expect(parse_date(v, &o->sim.start_ms) == 0, f, v,
                           "a date YYYY-MM-DD from 1970-01-01 to 2200-01-01", err, n);
                break;
        case OPT_FORMAT:
                r = expect(!strcmp(v, "csv") || !strcmp(v, "jsonl"), f, v, "csv or jsonl", err, n);
                o->format = !strcmp(v, "jsonl") ? GENERATE_FORMAT_JSONL : GENERATE_FORMAT_CSV;
                break;
        case OPT_OUT:
                r = expect(v[0] != '\0' && strlen(v) < PATH_MAX - 64, f, v, "a directory", err, n);
                o->out_dir = v;
                break;
        case OPT_PUBLISH:
                o->publish = true;
                break;
        case OPT_BOOTSTRAP:
                r = expect(bootstrap_valid(v), f, v, "HOST:PORT[,HOST:PORT...]", err, n);
                o->bootstrap = v;
                o->publish = true;
                break;
        case OPT_RATE:
                r = expect(parse_double(v, 1e-3, FRAUD_GENERATE_RATE_MAX, &o->rate_per_sec) == 0, f,
                           v, "messages per second from 0.001 to 1000000", err, n);
                break;
        case OPT_SECONDS:
                r = expect_u64(f, v, 1, FRAUD_GENERATE_SECONDS_MAX, &u, err, n);
                o->seconds = (uint32_t)u;
                break;
        case OPT_TOPIC_RAW:
        case OPT_TOPIC_CHARGEBACKS:
                r = expect(topic_valid(v), f, v, "a Kafka topic name ([A-Za-z0-9._-], 1..249)", err,
                           n);
                *(id == OPT_TOPIC_RAW ? &o->topic_raw : &o->topic_chargebacks) = v;
                break;
        case OPT_MALFORMED_SHARE:
        case OPT_DUPLICATE_SHARE:
                r = expect(parse_double(v, 0, FAULTS_SHARE_MAX,
                                        id == OPT_MALFORMED_SHARE ? &o->malformed_share
                                                                  : &o->duplicate_share) == 0,
                           f, v, "a share from 0 to 0.5", err, n);
                break;
        default:
                assert(!"unknown option id");
        }
        return r;
}

/* Rules between flags, once all are known. */
static int options_check(const struct generate_options *o, unsigned given, char *err, size_t n) {
        static const enum option_id kafka_only[] = {OPT_RATE,           OPT_SECONDS,
                                                    OPT_TOPIC_RAW,      OPT_TOPIC_CHARGEBACKS,
                                                    OPT_MALFORMED_SHARE, OPT_DUPLICATE_SHARE};
        const char *why;

        if (!o->out_dir == !o->publish) {
                snprintf(err, n,
                         o->out_dir ? "--out excludes --publish and --bootstrap"
                                    : "one of --out DIR, --publish or --bootstrap HOST:PORT is "
                                      "needed");
                return -EINVAL;
        }
        for (size_t i = 0; o->out_dir && i < sizeof(kafka_only) / sizeof(*kafka_only); i++) {
                if (given & 1u << kafka_only[i]) {
                        snprintf(err, n, "--%s applies to --publish and --bootstrap only",
                                 option_names[kafka_only[i]]);
                        return -EINVAL;
                }
        }
        if (o->publish && (given & 1u << OPT_FORMAT)) {
                snprintf(err, n, "--format applies to --out only (Kafka messages are JSON)");
                return -EINVAL;
        }
        if (sim_config_check(&o->sim, &why) < 0) {
                snprintf(err, n, "%s", why);
                return -EINVAL;
        }
        return 0;
}

static int option_lookup(const char *name, size_t len) {
        for (int i = 0; i < OPT_COUNT; i++)
                if (strlen(option_names[i]) == len && !strncmp(option_names[i], name, len))
                        return i;
        return -1;
}

int generate_options_parse(struct generate_options *o, int argc, char **argv, char *err,
                           size_t err_size) {
        unsigned given = 0;

        generate_options_default(o);
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i], *eq, *value;
                size_t len;
                int id, r;

                if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
                        snprintf(err, err_size, "unexpected argument '%s'", arg);
                        return -EINVAL;
                }
                eq = strchr(arg + 2, '=');
                len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
                if ((id = option_lookup(arg + 2, len)) < 0) {
                        snprintf(err, err_size, "unknown option '%.*s'", (int)len + 2, arg);
                        return -EINVAL;
                }
                if (OPTION_FLAGS & 1u << id) {
                        if (eq) {
                                snprintf(err, err_size, "--%s takes no value", option_names[id]);
                                return -EINVAL;
                        }
                        value = "";
                } else {
                        value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
                }
                if (!value) {
                        snprintf(err, err_size, "--%s: a value is needed", option_names[id]);
                        return -EINVAL;
                }
                if (given & 1u << id) {
                        snprintf(err, err_size, "--%s is given twice", option_names[id]);
                        return -EINVAL;
                }
                if ((r = option_apply(o, (enum option_id)id, value, err, err_size)) < 0)
                        return r;
                given |= 1u << id;
        }
        return options_check(o, given, err, err_size);
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

struct out_file {
        const struct record_format *format; /* of every line */
        int fd;
        size_t len;     /* bytes in buf */
        uint64_t bytes; /* bytes written */
        char *buf;      /* owned, FRAUD_GENERATE_BUFFER_BYTES */
        char path[PATH_MAX];
        char tmp[PATH_MAX]; /* "" until created */
};

static void out_init(struct out_file *f, const struct record_format *format) {
        memset(f, 0, sizeof(*f));
        f->format = format;
        f->fd = -1;
}

static int out_open(struct out_file *f, const char *dir, const char *name, char *err, size_t n) {
        int r;

        if (snprintf(f->path, sizeof(f->path), "%s/%s", dir, name) >= (int)sizeof(f->path) ||
            snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid()) >=
                    (int)sizeof(f->tmp)) {
                f->tmp[0] = '\0';
                snprintf(err, n, "%s: path too long", dir);
                return -ENAMETOOLONG;
        }
        if (!(f->buf = malloc(FRAUD_GENERATE_BUFFER_BYTES))) {
                f->tmp[0] = '\0';
                snprintf(err, n, "out of memory");
                return -ENOMEM;
        }
        if ((f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
                r = -errno;
                snprintf(err, n, "%s: %s", f->tmp, strerror(-r));
                f->tmp[0] = '\0';
                return r;
        }
        return 0;
}

static int out_flush(struct out_file *f) {
        size_t off = 0;

        while (off < f->len) {
                ssize_t w = write(f->fd, f->buf + off, f->len - off);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                off += (size_t)w;
        }
        f->bytes += f->len;
        f->len = 0;
        return 0;
}

/* Makes room for one more line. */
static inline int out_room(struct out_file *f) {
        return f->len + FRAUD_GENERATE_LINE_MAX <= FRAUD_GENERATE_BUFFER_BYTES ? 0 : out_flush(f);
}

/* Flushes (when asked) and closes; the temporary file stays for
 * out_commit() or out_discard().  Releases the buffer either way. */
static int out_close(struct out_file *f, bool flush, char *err, size_t n) {
        int r = 0;

        if (flush && f->fd >= 0)
                r = out_flush(f);
        if (f->fd >= 0 && close(f->fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                snprintf(err, n, "%s: %s", f->tmp, strerror(-r));
        f->fd = -1;
        free(f->buf);
        f->buf = NULL;
        return r;
}

static int out_commit(struct out_file *f, char *err, size_t n) {
        int r;

        if (rename(f->tmp, f->path) < 0) {
                r = -errno;
                snprintf(err, n, "%s: %s", f->path, strerror(-r));
                return r;
        }
        f->tmp[0] = '\0';
        return 0;
}

static void out_discard(struct out_file *f) {
        if (f->tmp[0])
                unlink(f->tmp);
        f->tmp[0] = '\0';
}

static int dir_ensure(const char *dir, char *err, size_t n) {
        struct stat st;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                int r = -errno;

                snprintf(err, n, "%s: %s", dir, strerror(-r));
                return r;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, n, "%s: not a directory", dir);
                return -ENOTDIR;
        }
        return 0;
}

static const char *sim_error_text(int r) {
        switch (r) {
        case -E2BIG:
                return "too many pending payments (FRAUD_SIM_PENDING_EVENTS_MAX); fewer customers";
        case -ENOBUFS:
                return "too many pending chargebacks (FRAUD_SIM_PENDING_CHARGEBACKS_MAX); lower "
                       "--fraud-rate or fewer customers";
        default:
                return strerror(-r);
        }
}

/* Runs the simulator to its end into the two files. */
static int files_pump(struct sim *s, struct out_file *txf, struct out_file *cbf, bool jsonl,
                      char *err, size_t n) {
        struct sim_event ev;
        int r;

        while ((r = sim_next(s, &ev)) > 0) {
                bool is_tx = ev.kind == SIM_EVENT_TRANSACTION;
                struct out_file *f = is_tx ? txf : cbf;
                const void *rec = is_tx ? (const void *)&ev.tx : (const void *)&ev.cb;
                char *at;

                if ((r = out_room(f)) < 0) {
                        snprintf(err, n, "%s: %s", f->tmp, strerror(-r));
                        return r;
                }
                at = f->buf + f->len;
                f->len += jsonl ? record_json(f->format, f->format->n, rec, at)
                                : record_csv(f->format, rec, at);
        }
        if (r < 0)
                snprintf(err, n, "simulator: %s", sim_error_text(r));
        return r;
}

static void summary_from_stats(struct generate_summary *sum, const struct sim *s) {
        const struct sim_stats *st = sim_stats(s);

        sum->transactions = st->transactions;
        sum->frauds = st->frauds;
        sum->chargebacks = st->chargebacks;
}

int generate_files(const struct generate_options *o, struct generate_summary *sum, char *err,
                   size_t err_size) {
        bool jsonl = o->format == GENERATE_FORMAT_JSONL;
        struct out_file txf, cbf;
        struct sim *s = NULL;
        int r, r2;

        memset(sum, 0, sizeof(*sum));
        out_init(&txf, &transaction_format);
        out_init(&cbf, &chargeback_format);
        if ((r = dir_ensure(o->out_dir, err, err_size)) < 0)
                return r;
        if ((r = sim_new(&o->sim, &s)) < 0) {
                snprintf(err, err_size, "simulator: %s", strerror(-r));
                return r;
        }
        if ((r = out_open(&txf, o->out_dir, jsonl ? "transactions.jsonl" : "transactions.csv", err,
                          err_size)) < 0 ||
            (r = out_open(&cbf, o->out_dir, jsonl ? "chargebacks.jsonl" : "chargebacks.csv", err,
                          err_size)) < 0)
                goto finish;
        if (!jsonl) {
                txf.len = record_header(txf.format, txf.buf);
                cbf.len = record_header(cbf.format, cbf.buf);
        }
        r = files_pump(s, &txf, &cbf, jsonl, err, err_size);
finish:
        r2 = out_close(&txf, r >= 0, err, err_size);
        r = r < 0 ? r : r2;
        r2 = out_close(&cbf, r >= 0, err, err_size);
        r = r < 0 ? r : r2;
        if (r >= 0 && (r = out_commit(&txf, err, err_size)) >= 0)
                r = out_commit(&cbf, err, err_size);
        if (r < 0) {
                out_discard(&txf);
                out_discard(&cbf);
        }
        summary_from_stats(sum, s);
        sum->bytes = txf.bytes + cbf.bytes;
        sim_free(s);
        return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ */
/* Kafka                                                                */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t publish_stop;

static void publish_on_signal(int sig) {
        (void)sig;
        publish_stop = 1;
}

struct publisher {
        struct fraud_kafka_producer *producer; /* owned */
        const struct generate_options *o;      /* borrowed */
        const char *topic_raw;                 /* borrowed from o or the settings */
        const char *topic_chargebacks;         /* borrowed from o or the settings */
        uint64_t send_failed;                  /* refused by producer_send */
        struct faults faults;                  /* --malformed-share, --duplicate-share */
        uint8_t buf[FRAUD_GENERATE_LINE_MAX];
        char bad[FRAUD_GENERATE_LINE_MAX];
};

size_t generate_chargeback_protobuf(const struct sim_chargeback *cb, uint8_t *buf) {
        Fraud__Chargeback m = FRAUD__CHARGEBACK__INIT;
        char currency[8], reason[8], none[1] = "";

        snprintf(currency, sizeof(currency), "%s", cb->currency);
        snprintf(reason, sizeof(reason), "%s", cb->reason);
        m.schema_version = CHARGEBACK_SCHEMA_VERSION;
        m.transaction_id = (char *)cb->transaction_id; /* packed, never written */
        m.chargeback_id = (char *)cb->chargeback_id;
        m.event_time_us = cb->time_ms * 1000;
        m.transaction_time_us = cb->transaction_time_ms * 1000;
        m.amount_minor = cb->amount_minor;
        m.currency = currency;
        m.reason = reason;
        m.kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK;
        m.card_hash = none;
        m.merchant_id = (char *)cb->merchant_id;
        m.terminal_id = (char *)cb->terminal_id;
        assert(fraud__chargeback__get_packed_size(&m) <= FRAUD_GENERATE_LINE_MAX);
        return fraud__chargeback__pack(&m, buf);
}

/* A duplicate of the transaction in rec, and a malformed record made from
 * it, when the draws say so (tools/faults.h). */
static int publish_faults(struct publisher *pub, struct fraud_kafka_record *rec) {
        int r = 0, n;

        if (faults_duplicate(&pub->faults))
                r = fraud_kafka_producer_send(pub->producer, rec, NULL);
        n = faults_malformed(&pub->faults, (const char *)pub->buf, rec->value_size, pub->bad,
                             sizeof(pub->bad));
        if (r == 0 && n > 0) {
                rec->value = pub->bad;
                rec->value_size = (size_t)n;
                r = fraud_kafka_producer_send(pub->producer, rec, NULL);
        }
        return r < 0 ? r : n < 0 ? n : 0;
}

static int publish_event(struct publisher *pub, struct sim_event *ev) {
        struct fraud_kafka_record rec = {.partition = -1, .value = pub->buf};
        int r;

        if (ev->kind == SIM_EVENT_TRANSACTION) {
                rec.topic = pub->topic_raw;
                rec.key = ev->tx.transaction_id;
                rec.key_size = strlen(ev->tx.transaction_id);
                /* the JSONL line without its newline */
                rec.value_size = generate_transaction_json(&ev->tx, false, (char *)pub->buf) - 1;
                r = fraud_kafka_producer_send(pub->producer, &rec, NULL);
                return r < 0 ? r : publish_faults(pub, &rec);
        } else {
                rec.topic = pub->topic_chargebacks;
                rec.key = ev->cb.transaction_id;
                rec.key_size = strlen(ev->cb.transaction_id);
                rec.value_size = generate_chargeback_protobuf(&ev->cb, pub->buf);
        }
        return fraud_kafka_producer_send(pub->producer, &rec, NULL);
}

/* Waits for the monotonic instant due_ns, serving delivery reports. */
static void publish_wait(struct publisher *pub, int64_t due_ns) {
        for (;;) {
                int64_t left = due_ns - fraud_time_mono_ns();

                if (left <= 0 || publish_stop)
                        return;
                if (left >= 1000000) {
                        int64_t ms = left / 1000000;

                        fraud_kafka_producer_poll(pub->producer,
                                                  (int)(ms < WAIT_SLICE_MS ? ms : WAIT_SLICE_MS));
                } else {
                        struct timespec ts = {0, (long)left};

                        nanosleep(&ts, NULL);
                }
        }
}

/* Message i is due at t0 + i / rate; stops at the end of the stream, after
 * o->seconds, or on a signal. */
static int publish_loop(struct publisher *pub, struct sim *s, char *err, size_t n) {
        int64_t t0 = fraud_time_mono_ns();
        int64_t limit = pub->o->seconds ? t0 + (int64_t)pub->o->seconds * 1000000000 : INT64_MAX;
        double interval_ns = 1e9 / pub->o->rate_per_sec;
        struct sim_event ev;
        int r;

        for (uint64_t i = 0; !publish_stop; i++) {
                double due = (double)t0 + (double)i * interval_ns;

                if (due >= (double)limit)
                        break;
                publish_wait(pub, (int64_t)due);
                if (publish_stop || fraud_time_mono_ns() >= limit)
                        break;
                if ((r = sim_next(s, &ev)) == 0)
                        break;
                if (r < 0) {
                        snprintf(err, n, "simulator: %s", sim_error_text(r));
                        return r;
                }
                if ((r = publish_event(pub, &ev)) < 0) {
                        pub->send_failed++;
                        if (r == -ENOTRECOVERABLE) {
                                snprintf(err, n, "producer: %s",
                                         fraud_kafka_producer_error(pub->producer));
                                return r;
                        }
                }
                if ((i & 255) == 0)
                        fraud_kafka_producer_poll(pub->producer, 0);
        }
        return 0;
}

/* Flushes, then counts: whatever is still outstanding is lost. */
static void publish_finish(struct publisher *pub, struct generate_summary *sum) {
        struct fraud_kafka_counters c;

        fraud_kafka_producer_flush(pub->producer, FRAUD_KAFKA_CLOSE_FLUSH_MS);
        fraud_kafka_producer_counters(pub->producer, &c);
        sum->published = c.produced;
        sum->delivered = c.delivered;
        sum->failed = c.delivery_failed + pub->send_failed +
                      (uint64_t)fraud_kafka_producer_outstanding(pub->producer);
        sum->malformed = pub->faults.malformed;
        sum->duplicates = pub->faults.duplicates;
}

/* The producer options: the settings' Kafka client, with --bootstrap in
 * place of the configured servers when given, and the delivery timeout at
 * most PUBLISH_DELIVERY_TIMEOUT_MS (see there).  c borrows the strings of
 * s and o. */
static int publish_connect(struct fraud_connect *c, const struct generate_options *o,
                           const struct fraud_settings *s, char *err, size_t n) {
        /* A shallow copy: it shares every string of s, and c ends up pointing
         * at those strings and at its own buffers, never into the copy.
         * Nothing writes through it, hence the cast. */
        struct fraud_settings local = *s;
        int r;

        if (o->bootstrap)
                local.kafka.bootstrap_servers = (char *)o->bootstrap;
        if ((r = fraud_connect_init(c, &local, NULL, false, err, n)) < 0)
                return r;
        if (c->options.delivery_timeout_ms > PUBLISH_DELIVERY_TIMEOUT_MS)
                c->options.delivery_timeout_ms = PUBLISH_DELIVERY_TIMEOUT_MS;
        return 0;
}

int generate_publish(const struct generate_options *o, const struct fraud_settings *settings,
                     struct generate_summary *sum, char *err, size_t err_size) {
        struct sigaction sa, old_int, old_term;
        struct fraud_connect conn;
        struct publisher pub = {
                .o = o,
                .topic_raw = o->topic_raw ? o->topic_raw : settings->topics.raw,
                .topic_chargebacks =
                        o->topic_chargebacks ? o->topic_chargebacks : settings->topics.chargebacks,
        };
        struct sim *s = NULL;
        int r;

        memset(sum, 0, sizeof(*sum));
        faults_init(&pub.faults, o->sim.seed, o->malformed_share, o->duplicate_share);
        if ((r = publish_connect(&conn, o, settings, err, err_size)) < 0)
                return r;
        if ((r = sim_new(&o->sim, &s)) < 0) {
                snprintf(err, err_size, "simulator: %s", strerror(-r));
                return r;
        }
        if ((r = fraud_kafka_producer_new(&conn.options, &pub.producer, err, err_size)) < 0)
                goto free_sim;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = publish_on_signal;
        sigemptyset(&sa.sa_mask);
        publish_stop = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        r = publish_loop(&pub, s, err, err_size);
        sum->interrupted = publish_stop;
        publish_finish(&pub, sum);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        fraud_kafka_producer_free(pub.producer);
        summary_from_stats(sum, s);
free_sim:
        sim_free(s);
        return r;
}

/* ------------------------------------------------------------------ */
/* The subcommand                                                       */
/* ------------------------------------------------------------------ */

/* sysexits.h status for a failure of a run (the list in --help). */
static int exit_status(int r, bool kafka) {
        switch (r) {
        case -ENOMEM:
                return EX_OSERR;
        case -E2BIG:
        case -ENOBUFS:
                return EX_SOFTWARE; /* a simulator bound */
        case -EINVAL:
                return kafka ? EX_CONFIG : EX_IOERR; /* unusable Kafka settings */
        default:
                return kafka ? EX_UNAVAILABLE : EX_IOERR;
        }
}

static int run_files(const struct generate_options *o) {
        char err[FRAUD_GENERATE_LINE_MAX] = "";
        struct generate_summary sum;
        int r = generate_files(o, &sum, err, sizeof(err));

        if (r < 0) {
                fprintf(stderr, "fraudctl generate: %s\n", err);
                return exit_status(r, false);
        }
        printf("fraudctl generate: %llu transactions (%llu fraud), %llu chargebacks, %.1f MB in "
               "%s\n",
               (unsigned long long)sum.transactions, (unsigned long long)sum.frauds,
               (unsigned long long)sum.chargebacks, (double)sum.bytes / 1e6, o->out_dir);
        return 0;
}

static int run_publish(const struct generate_options *o, const struct fraud_settings *settings) {
        char err[FRAUD_GENERATE_LINE_MAX] = "";
        struct generate_summary sum;
        int r = generate_publish(o, settings, &sum, err, sizeof(err));

        if (r >= 0 || sum.transactions > 0) /* else nothing was simulated or sent */
                printf("fraudctl generate: published %llu, delivered %llu, failed %llu "
                       "(%llu transactions, %llu chargebacks, %llu malformed, %llu "
                       "duplicates)%s\n",
                       (unsigned long long)sum.published, (unsigned long long)sum.delivered,
                       (unsigned long long)sum.failed, (unsigned long long)sum.transactions,
                       (unsigned long long)sum.chargebacks, (unsigned long long)sum.malformed,
                       (unsigned long long)sum.duplicates, sum.interrupted ? ", interrupted" : "");
        if (r < 0) {
                fprintf(stderr, "fraudctl generate: %s\n", err);
                return exit_status(r, true);
        }
        return sum.failed > 0 ? EX_UNAVAILABLE : 0;
}

int generate_main(int argc, char **argv) {
        static char help[HELP_BYTES_MAX];
        const struct fraud_cli cli = {
                .summary = "Simulates card payments with fraud and late chargebacks into files "
                           "or Kafka,\ndeterministically: the same options give byte-identical "
                           "output.",
                .options_help = help,
                .args_extra = true,
        };
        char err[FRAUD_GENERATE_LINE_MAX] = "";
        struct fraud_settings settings;
        struct generate_options o;
        int status;

        help_format(help, sizeof(help));
        status = fraud_cli_parse(&cli, &argc, argv, &settings);
        if (status != FRAUD_CLI_RUN)
                return status;
        if (generate_options_parse(&o, argc, argv, err, sizeof(err)) < 0) {
                fprintf(stderr, "fraudctl generate: %s\nTry 'fraudctl generate --help'.\n", err);
                status = EX_USAGE;
        } else {
                status = o.out_dir ? run_files(&o) : run_publish(&o, &settings);
        }
        fraud_settings_release(&settings);
        return status;
}
