/* settings.c: the key table of struct fraud_settings (see settings.h).
 *
 * The table reads like the file it describes: a section row, then its keys,
 * in the order fraud_settings_dump() writes them.  Each row names the field
 * (which is also the key), the default, the range and one or two sentences
 * of help that end up as comments in deploy/config/fraud.yaml.  Upper ends of
 * ranges that bound memory are named in lib/bounds.h.
 */
#include "common/settings.h"

#include "lib/bounds.h"

#define S          struct fraud_settings
#define PATH_MAX_  FRAUD_CONFIG_STRING_BYTES_MAX
#define TOPIC_MAX_ FRAUD_KAFKA_TOPIC_NAME_MAX

static const struct fraud_config_key settings_keys[] = {
        FRAUD_CONFIG_SECTION("kafka", "Kafka client settings, shared by every stage."),
        FRAUD_CONFIG_STRING(S, kafka.bootstrap_servers, "", 0, 1024,
                            "Comma-separated host:port list of the Kafka cluster. Empty: use the "
                            "embedded broker, whose address is in broker.bootstrap_file.",
                            .env = "FRAUD_KAFKA_BOOTSTRAP"),
        FRAUD_CONFIG_STRING(S, kafka.client_id, "fraud", 1, 255,
                            "Client id the brokers see in their logs and quotas."),
        FRAUD_CONFIG_CHOICE(S, kafka.security_protocol, "plaintext",
                            "plaintext|ssl|sasl_plaintext|sasl_ssl",
                            "How clients reach the brokers (librdkafka security.protocol)."),
        FRAUD_CONFIG_CHOICE(S, kafka.sasl_mechanism, "PLAIN", "PLAIN|SCRAM-SHA-256|SCRAM-SHA-512",
                            "SASL mechanism, used with sasl_plaintext and sasl_ssl."),
        FRAUD_CONFIG_STRING(S, kafka.sasl_username, "", 0, 255, "SASL user name."),
        FRAUD_CONFIG_STRING(S, kafka.sasl_password, "", 0, 1024,
                            "SASL password. Prefer the environment variable to writing it here.",
                            .env = "FRAUD_KAFKA_SASL_PASSWORD", .flags = FRAUD_CONFIG_SECRET),
        FRAUD_CONFIG_STRING(S, kafka.ssl_ca_location, "", 0, PATH_MAX_,
                            "CA certificate file or directory that verifies the brokers. Empty: "
                            "the system's default store."),
        FRAUD_CONFIG_INT(S, kafka.linger_ms, 2, 1, 100,
                         "How long the producer waits to fill a batch. The embedded broker wants "
                         "1 to 5 ms; 0 is not allowed."),
        FRAUD_CONFIG_INT(S, kafka.fetch_wait_max_ms, 2, 1, 500,
                         "Longest a fetch waits for data. An idle fetch on the embedded broker "
                         "always waits this long, so keep it small."),
        FRAUD_CONFIG_CHOICE(S, kafka.compression, "lz4", "none|lz4|zstd|gzip|snappy",
                            "Compression of produced batches. lz4 or zstd keep the embedded "
                            "broker's 5 MiB per partition from filling up."),
        FRAUD_CONFIG_INT(S, kafka.batch_records_max, 1000, 1, FRAUD_KAFKA_CONSUME_BATCH_MAX,
                         "Most records a stage consumes, processes and produces as one batch "
                         "before it stores offsets."),
        FRAUD_CONFIG_INT(S, kafka.message_bytes_max, 1 << 20, 1024,
                         FRAUD_SETTINGS_MESSAGE_BYTES_MAX,
                         "Largest message produced or fetched (librdkafka message.max.bytes)."),
        FRAUD_CONFIG_INT(S, kafka.delivery_timeout_ms, 30000, 1000, 900000,
                         "How long the producer retries a message before it reports the "
                         "delivery failed."),
        FRAUD_CONFIG_INT(S, kafka.session_timeout_ms, 10000, 6000, 300000,
                         "How long the consumer group waits for a silent member before it "
                         "moves that member's partitions to another."),

        FRAUD_CONFIG_SECTION("topics", "Topic names, one per pipeline edge, all keyed by card id."),
        FRAUD_CONFIG_STRING(S, topics.raw, "tx.raw", 1, TOPIC_MAX_,
                            "Raw transactions (JSON), read by ingest."),
        FRAUD_CONFIG_STRING(S, topics.normalized, "tx.normalized", 1, TOPIC_MAX_,
                            "Validated, normalized transactions, from ingest to velocity."),
        FRAUD_CONFIG_STRING(S, topics.features, "tx.features", 1, TOPIC_MAX_,
                            "Feature vectors, from velocity to the scorer."),
        FRAUD_CONFIG_STRING(S, topics.scores, "scores", 1, TOPIC_MAX_, "Decisions of the scorer."),
        FRAUD_CONFIG_STRING(S, topics.scores_shadow, "scores.shadow", 1, TOPIC_MAX_,
                            "Scores of a challenger model, compared with the champion's and "
                            "never acted on."),
        FRAUD_CONFIG_STRING(S, topics.chargebacks, "chargebacks", 1, TOPIC_MAX_,
                            "Chargebacks as they arrive, read by velocity and the labeler."),
        FRAUD_CONFIG_STRING(S, topics.labels, "labels", 1, TOPIC_MAX_,
                            "Labels with the time they became known, from the labeler."),
        FRAUD_CONFIG_STRING(S, topics.models, "models", 1, TOPIC_MAX_,
                            "Models published by the trainer and loaded by the scorer."),
        FRAUD_CONFIG_STRING(S, topics.dlq, "dlq", 1, TOPIC_MAX_,
                            "Rejected input, with the reason and the original bytes."),
        FRAUD_CONFIG_INT(S, topics.partitions, 6, 1, FRAUD_MOCK_PARTITIONS_MAX,
                         "Partitions of each topic the embedded broker creates. More partitions "
                         "allow more processes per stage."),

        FRAUD_CONFIG_SECTION("broker", "The embedded broker (fraud-broker): librdkafka's mock "
                                       "cluster on loopback, for one machine, tests and demos. "
                                       "Unused when kafka.bootstrap_servers is set."),
        FRAUD_CONFIG_STRING(S, broker.bootstrap_file, "fraud-broker.bootstrap", 1, PATH_MAX_,
                            "File where the broker writes its address and clients read it; "
                            "relative to the working directory."),
        FRAUD_CONFIG_INT(S, broker.brokers, 1, 1, FRAUD_MOCK_BROKERS_MAX,
                         "Brokers in the mock cluster."),

        /* @ingest-keys */
        /* @velocity-keys */
        /* @scorer-keys */
        /* @trainer-keys */

        FRAUD_CONFIG_SECTION("log", "Logging: one line per event on stderr."),
        FRAUD_CONFIG_CHOICE(S, log.level, "info", "err|warning|notice|info|debug",
                            "Most verbose priority written."),
};

#undef S
#undef PATH_MAX_
#undef TOPIC_MAX_

const struct fraud_config_table fraud_settings_table = {
        .help = "fraud.yaml: the configuration of the fraud-detection pipeline.\n"
                "\n"
                "Every daemon and tool reads this one file (--config FILE). Each key is shown "
                "with its default; a key left out keeps its default. Unknown keys and bad values "
                "are rejected. Environment variables named below override the file.\n"
                "\n"
                "Written by --dump-config.",
        .keys = settings_keys,
        .n_keys = sizeof(settings_keys) / sizeof(settings_keys[0]),
};

int fraud_settings_init(struct fraud_settings *s) {
        return fraud_config_init(&fraud_settings_table, s);
}

int fraud_settings_load(struct fraud_settings *s, const char *path, char *err, size_t err_size) {
        return fraud_config_load(&fraud_settings_table, s, path, err, err_size);
}

int fraud_settings_dump(const struct fraud_settings *s, FILE *out) {
        return fraud_config_dump(&fraud_settings_table, s, out);
}

void fraud_settings_release(struct fraud_settings *s) {
        fraud_config_release(&fraud_settings_table, s);
}
