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

#include <stdbool.h>
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

/* Stage 1, ingest: raw transactions in, normalized ones out, duplicates
 * suppressed over an event-time horizon (ingest/ingest.h). */
struct fraud_settings_ingest {
        char *group_id;
        char *state_dir;     /* RocksDB of the seen transaction ids and offsets */
        char *card_hash_key; /* secret: 32 hex digits, the card hash's 128-bit key */
        char *mapping_file;  /* "" : raw JSON uses our own field names */
        int64_t dedup_window_sec;
        int64_t commit_interval_ms;
        int64_t log_interval_sec;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
};

/* @ingest-struct */
/* Stage 2, velocity: sliding windows per entity on event time, in RocksDB.
 * window_spans_sec is a list of integers (strictly increasing), parsed and
 * checked by fraud_featureset_spans_parse() when the stage starts. */
struct fraud_settings_velocity {
        char *group_id;
        char *state_dir;
        char **window_spans_sec;
        int64_t label_delay_sec;
        int64_t label_window_sec;
        int64_t allowed_lateness_sec;
        int64_t history_events_max;
        int64_t cache_entities_max;
        int64_t cache_events_max;
        int64_t checkpoint_records;
        int64_t checkpoint_interval_ms;
        bool sync_commit;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
};
/* @velocity-struct */
/* The scorer (stage 3): rules, models and the cost model of its decisions.
 * Costs are in minor units of the transaction's currency. */
struct fraud_settings_scorer {
        char *group_id;
        char *rules_file;   /* "" : no rules, every transaction goes to the models */
        char *model_dir;    /* "" : no model until one is announced on topics.models */
        char *challenger_dir; /* "" : no challenger until one is announced */
        int64_t gbdt_threads;
        double cost_false_positive;
        double cost_false_negative;
        bool cost_fn_is_amount;
        double review_ratio; /* 0: the model's review_threshold */
        char *degraded_decision; /* allow, review, block */
        int64_t dedup_window;
        int64_t reasons_max;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
};

/* @scorer-struct */
/* @labeler-struct */
/* Stage 4, labeler: joins features, scores and chargebacks by transaction
 * id in RocksDB, on event time (labeler/join.h explains the rules). */
struct fraud_settings_labeler {
        char *group_id;
        char *state_dir;
        int64_t maturity_days;
        int64_t horizon_days;
        int64_t lateness_sec;
        int64_t advance_records_max;
        bool sync_commit;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
};
/* Stage 5, trainer, and `fraudctl train`: how the GBDT and the MLP are
 * fitted and how the holdout is cut (trainer/fit.h, trainer/evaluate.h,
 * tools/train.h).  Thresholds are set under the scorer's cost model. */
struct fraud_settings_trainer {
        int64_t gbdt_rounds;
        int64_t gbdt_max_depth;
        double gbdt_eta;
        int64_t threads; /* XGBoost's nthread */
        int64_t mlp_hidden_layers;
        int64_t mlp_hidden; /* units of each hidden layer */
        int64_t mlp_epochs;
        int64_t mlp_batch_rows;
        double mlp_learning_rate;
        double pos_weight; /* 0: negatives / positives of the training set */
        int64_t seed;
        int64_t holdout_days;
        int64_t precision_k;
        double band_share;
        /* The daemon (trainer/trainer.h): its label store, registry and schedule. */
        char *group_id;
        char *state_dir;    /* RocksDB of the labels and the consumed offsets */
        char *registry_dir; /* one directory per model version, and the champion pointer */
        int64_t window_days;
        int64_t label_maturity_days;
        int64_t evict_margin_days;
        int64_t warmup_days;
        int64_t label_lateness_sec;
        int64_t schedule_wall_hour; /* -1: event time only */
        double gate_ap_ratio;
        int64_t gate_min_train_frauds;
        int64_t gate_min_holdout_frauds;
        double gate_min_auc;
        int64_t nice;
        int64_t round_max_sec;
        int64_t rows_max;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
};

/* @trainer-struct */
/* The analyst's dashboard (fraud-dashboard, dashboard/dashboard.h): what
 * it keeps, how it reads the topics, where it serves its page.  Upper ends
 * of the ranges are in dashboard/limits.h. */
struct fraud_settings_dashboard {
        char *group_id;
        char *http_listen; /* "host:port" of /metrics, /healthz, /readyz; "": none */
        char *page_listen; /* "host:port" of the analyst's page */
        int64_t review_queue_max;
        int64_t history_minutes;
        int64_t psi_reference_records;
        int64_t psi_window_records;
        int64_t psi_bins;
        int64_t rewind_records;
        int64_t stream_per_sec_max;
};
/* @dashboard-struct */

struct fraud_settings {
        struct fraud_settings_kafka kafka;
        struct fraud_settings_topics topics;
        struct fraud_settings_broker broker;
        struct fraud_settings_log log;
        struct fraud_settings_ingest ingest;
        /* @ingest-field */
        struct fraud_settings_velocity velocity;
        /* @velocity-field */
        struct fraud_settings_scorer scorer;
        /* @scorer-field */
        /* @labeler-field */
        struct fraud_settings_labeler labeler;
        struct fraud_settings_trainer trainer;
        /* @trainer-field */
        struct fraud_settings_dashboard dashboard;
        /* @dashboard-field */
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
