/* settings.h: the one configuration of the whole system.
 *
 * Every daemon and tool reads the same YAML file into struct fraud_settings,
 * through the key table in settings.c (lib/config.h does the reading).  The
 * struct mirrors the file: one nested struct per section, one field per key,
 * with the same names, so `kafka.linger_ms` in the file is
 * settings.kafka.linger_ms in C.  A section exists only once some code reads
 * it; a stage adds its own section here when it needs one.
 *
 * Layers: built-in defaults, then the file (--config), then the environment
 * (FRAUD_KAFKA_BOOTSTRAP, FRAUD_KAFKA_SASL_PASSWORD).  deploy/config/fraud.yaml
 * is the documented defaults, exactly as fraud_settings_dump() writes them.
 *
 * Ownership: the strings are owned by the struct; fraud_settings_release()
 * frees them.
 */
#ifndef FRAUD_SETTINGS_H
#define FRAUD_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/config.h"

/* The Kafka client every stage uses.  Delivery-critical properties (acks,
 * idempotence, offset storage) are not here: lib/kafka.c sets them in code. */
struct fraud_settings_kafka {
        char *bootstrap_servers; /* "" : read broker.bootstrap_file */
        char *client_id;
        char *security_protocol; /* plaintext, ssl, sasl_plaintext, sasl_ssl */
        char *sasl_mechanism;    /* PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 */
        char *sasl_username;
        char *sasl_password;   /* secret */
        char *ssl_ca_location; /* "" : the system's CA store */
        int64_t linger_ms;
        int64_t fetch_wait_max_ms;
        char *compression; /* none, lz4, zstd, gzip, snappy */
        int64_t batch_records_max;
        int64_t message_bytes_max;
        int64_t delivery_timeout_ms;
        int64_t session_timeout_ms;
};

/* Topic names, one per pipeline edge, and their partition count. */
struct fraud_settings_topics {
        char *raw;
        char *normalized;
        char *features;
        char *scores;
        char *scores_shadow;
        char *chargebacks;
        char *labels;
        char *models;
        char *dlq;
        int64_t partitions;
};

/* The embedded broker (fraud-broker): it creates every topic above with
 * topics.partitions partitions. */
struct fraud_settings_broker {
        char *bootstrap_file; /* where it writes its address, where clients read it */
        int64_t brokers;
};

struct fraud_settings_log {
        char *level; /* err, warning, notice, info, debug (lib/log.h) */
};

/* @ingest-struct */
/* @velocity-struct */
/* @scorer-struct */
/* @trainer-struct */

struct fraud_settings {
        struct fraud_settings_kafka kafka;
        struct fraud_settings_topics topics;
        struct fraud_settings_broker broker;
        struct fraud_settings_log log;
        /* @ingest-field */
        /* @velocity-field */
        /* @scorer-field */
        /* @trainer-field */
};

/* The key table, for callers that walk it (help texts, listing env vars). */
extern const struct fraud_config_table fraud_settings_table;

/* s = the defaults; s is taken as uninitialized.  -ENOMEM (s released). */
int fraud_settings_init(struct fraud_settings *s);

/* s = defaults, then the file at path (none when NULL), then the environment.
 * On failure err holds "FILE:LINE: section.key: reason" (or "env VAR: reason"),
 * the result is -EINVAL or -errno, and s holds nothing to release. */
int fraud_settings_load(struct fraud_settings *s, const char *path, char *err, size_t err_size);

/* Writes s as the documented YAML file (secrets as ""). -EIO on write error. */
int fraud_settings_dump(const struct fraud_settings *s, FILE *out);

/* Frees the strings of s.  Idempotent. */
void fraud_settings_release(struct fraud_settings *s);

#endif
