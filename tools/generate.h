/* generate.h: `fraudctl generate`, the simulator's output side.
 *
 * Drives tools/sim.c and writes what it yields, either as files
 * (DIR/transactions.csv and DIR/chargebacks.csv, or .jsonl) or to Kafka
 * (each transaction as JSON on topics.raw, keyed by transaction id, without
 * the ground truth; each chargeback as a protobuf fraud.Chargeback on
 * topics.chargebacks, keyed by transaction id), interleaved in event-time
 * order and paced at --rate messages per second.
 *
 * Like every program of the system it takes the shared command line
 * (common/cli.h: --config FILE, --dump-config, --help) and its settings.
 * Kafka mode uses the settings' Kafka client (common/connect.h): the
 * configured bootstrap servers, or else the address the embedded broker
 * wrote to broker.bootstrap_file, with SASL/TLS, linger and compression from
 * the kafka section.  --bootstrap replaces the configured servers, and
 * --topic-raw / --topic-chargebacks the configured topics.
 *
 * Output formats.  Both files have a header line (CSV) or one JSON object
 * per line (JSONL) with the same field names:
 *   transactions: transaction_id, timestamp, amount, currency, pan,
 *     customer_id, merchant_id, terminal_id, mcc, country, channel,
 *     device_id, ip, is_fraud, scenario
 *   chargebacks: chargeback_id, transaction_id, timestamp,
 *     transaction_timestamp, amount, currency, reason, merchant_id,
 *     terminal_id
 * Timestamps are ISO 8601 UTC with milliseconds ("2026-01-01T08:15:02.123Z"),
 * amounts decimal strings in major units with the currency's decimals
 * ("12.34" EUR, "1250" JPY), mcc four digits.  In JSON every value is a
 * string except is_fraud (0 or 1).  No field ever holds a comma, a quote or
 * a backslash, so CSV needs no quoting and JSON no escaping.  One field
 * table per record in generate.c makes the header, the CSV lines and the
 * JSON keys, so the three cannot disagree.
 */
#ifndef FRAUD_GENERATE_H
#define FRAUD_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "tools/sim.h"

enum generate_format {
        GENERATE_FORMAT_CSV = 0,
        GENERATE_FORMAT_JSONL,
};

/* What the command line asked for (the shared options excepted).  Strings
 * are borrowed from argv; NULL means "not given". */
struct generate_options {
        struct sim_config sim;
        enum generate_format format;
        const char *out_dir;           /* file mode when set */
        bool publish;                  /* Kafka mode: --publish or --bootstrap */
        const char *bootstrap;         /* "host:port[,...]" over the settings' servers */
        const char *topic_raw;         /* NULL: the settings' topics.raw */
        const char *topic_chargebacks; /* NULL: the settings' topics.chargebacks */
        double rate_per_sec;           /* Kafka mode: messages per second, default 1000 */
        uint32_t seconds;              /* Kafka mode: 0 = until the simulated span ends */
        double malformed_share;        /* Kafka mode: tools/faults.h, 0 = none */
        double duplicate_share;
};

struct generate_summary {
        uint64_t transactions;
        uint64_t frauds;
        uint64_t chargebacks;
        uint64_t bytes;     /* file mode: bytes written, both files */
        uint64_t published; /* Kafka mode: messages accepted by the producer */
        uint64_t delivered; /*   with a successful delivery report */
        uint64_t failed;    /*   failed to send or to deliver */
        uint64_t malformed; /*   malformed records published on purpose */
        uint64_t duplicates; /*  transactions published twice on purpose */
        bool interrupted;   /*   stopped by SIGINT or SIGTERM */
};

void generate_options_default(struct generate_options *o);

/* Parses the subcommand's own arguments, as fraud_cli_parse() leaves them
 * (argv[0] is the subcommand's name).  Returns 0, or -EINVAL with a
 * one-line reason in err. */
int generate_options_parse(struct generate_options *o, int argc, char **argv, char *err,
                           size_t err_size);

/* Writes the two files into o->out_dir (created if missing; each file is
 * written under a temporary name and renamed when complete).  0 or -errno
 * with the reason in err. */
int generate_files(const struct generate_options *o, struct generate_summary *sum, char *err,
                   size_t err_size);

/* Publishes with the Kafka client of settings (borrowed), o overriding its
 * servers and topics, until the stream ends, o->seconds pass, or
 * SIGINT/SIGTERM arrives; then flushes and fills *sum.  0 or -errno with
 * the reason in err: -ENOENT when no servers are configured and the
 * bootstrap file does not exist, -EINVAL for unusable Kafka settings. */
int generate_publish(const struct generate_options *o, const struct fraud_settings *settings,
                     struct generate_summary *sum, char *err, size_t err_size);

/* The subcommand: the shared command line, then its own; runs, prints the
 * summary on stdout and errors on stderr.  Returns the process exit status
 * (0, or a sysexits.h code, listed in --help). */
int generate_main(int argc, char **argv);

/* Line formatters (no trailing NUL; a line ends with '\n').  buf holds at
 * least FRAUD_GENERATE_LINE_MAX bytes; the length written is returned. */
size_t generate_transaction_csv(const struct sim_transaction *tx, char *buf);
size_t generate_transaction_json(const struct sim_transaction *tx, bool with_truth, char *buf);
size_t generate_chargeback_csv(const struct sim_chargeback *cb, char *buf);
size_t generate_chargeback_json(const struct sim_chargeback *cb, char *buf);

/* The chargeback as the protobuf fraud.Chargeback published on
 * topics.chargebacks (kind CHARGEBACK, card_hash empty: the simulator does
 * not know ingest's key), into buf (FRAUD_GENERATE_LINE_MAX bytes); the
 * length written is returned. */
size_t generate_chargeback_protobuf(const struct sim_chargeback *cb, uint8_t *buf);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes, no NUL); returns buf + 24. */
char *generate_timestamp(int64_t time_ms, char *buf);

#endif
