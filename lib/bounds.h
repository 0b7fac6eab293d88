/* bounds.h: every named maximum of the system, in one place.
 *
 * Each buffer, queue, batch and window has a limit here (TigerBeetle style):
 * code that fills something checks it against its maximum and fails with
 * -ENOBUFS / -E2BIG rather than growing without bound.  Limits that an
 * operator may tune are config keys whose range is bounded by these.
 */
#ifndef FRAUD_BOUNDS_H
#define FRAUD_BOUNDS_H

/* ---- log ---- */
#define FRAUD_LOG_LINE_MAX 1024 /* bytes in one log line */

/* ---- arena ---- */
#define FRAUD_ARENA_BLOCK_MIN 4096         /* smallest block an arena grows by */
#define FRAUD_ARENA_BYTES_MAX (256u << 20) /* largest arena */

/* ---- metrics ---- */
#define FRAUD_METRICS_MAX           256 /* metrics in one registry */
#define FRAUD_METRICS_NAME_MAX      96  /* bytes of a metric name */
#define FRAUD_METRICS_LABELS_MAX    128 /* bytes of a label set, e.g. {reason="x"} */
#define FRAUD_METRICS_HELP_MAX      160 /* bytes of a help text */
#define FRAUD_HISTOGRAM_BUCKETS_MAX 32  /* finite buckets of a histogram */

/* ---- time ---- */
#define FRAUD_TIME_ISO8601_MAX 32 /* "2026-01-01T00:00:00.000000Z" + NUL */

/* ---- config (lib/config.c) ---- */
#define FRAUD_CONFIG_FILE_BYTES_MAX   (1 << 20) /* bytes of a config file */
#define FRAUD_CONFIG_KEYS_MAX         256       /* rows (sections and keys) of a key table */
#define FRAUD_CONFIG_NAME_MAX         64        /* bytes of a section or key name, or a choice */
#define FRAUD_CONFIG_STRING_BYTES_MAX 4096      /* bytes of a string value or list item */
#define FRAUD_CONFIG_LIST_ITEMS_MAX   256       /* items of a list value */
#define FRAUD_CONFIG_ERR_MAX          512       /* bytes of an error message buffer */

/* ---- settings (common/settings.c): upper ends of the tunable ranges ---- */
#define FRAUD_SETTINGS_MESSAGE_BYTES_MAX (4 << 20) /* under the embedded broker's 5 MiB */
/* (batch, partitions, brokers and topic names use the kafka limits below) */
/* @config-bounds */

/* ---- kafka (lib/kafka.c) ---- */
#define FRAUD_KAFKA_PROPS_MAX               32    /* pass-through librdkafka properties */
#define FRAUD_KAFKA_TOPICS_MAX              16    /* topics one consumer subscribes to */
#define FRAUD_KAFKA_TOPIC_NAME_MAX          249   /* bytes of a topic name (Kafka's own limit) */
#define FRAUD_KAFKA_PARTITIONS_MAX          1024  /* partitions one consumer tracks at once */
#define FRAUD_KAFKA_INFLIGHT_MAX            65536 /* consumed inputs whose outputs await delivery */
#define FRAUD_KAFKA_CONSUME_BATCH_MAX       4096  /* messages returned by one consumer poll */
#define FRAUD_KAFKA_PRODUCE_BATCH_MAX       100000  /* batch.num.messages */
#define FRAUD_KAFKA_PRODUCE_QUEUE_MAX       1000000 /* queue.buffering.max.messages */
#define FRAUD_KAFKA_LINGER_MS_MAX           100     /* linger.ms (1..this; never 0) */
#define FRAUD_KAFKA_FETCH_WAIT_MS_MAX       100     /* fetch.wait.max.ms (1..this; never 0) */
#define FRAUD_KAFKA_DELIVERY_TIMEOUT_MS_MAX 900000  /* message.timeout.ms */
#define FRAUD_KAFKA_COMMIT_INTERVAL_MS_MAX  60000   /* auto.commit.interval.ms */
#define FRAUD_KAFKA_ERRSTR_MAX              512     /* bytes of a kept error text */
#define FRAUD_KAFKA_REVOKE_FLUSH_MS         10000   /* wait for outputs of revoked partitions */
#define FRAUD_KAFKA_CLOSE_FLUSH_MS          10000   /* wait for outputs when a client closes */
#define FRAUD_KAFKA_QUEUE_FULL_RETRIES      100     /* produce attempts while the queue is full */
#define FRAUD_MOCK_BROKERS_MAX              16      /* brokers of the embedded mock cluster */
#define FRAUD_MOCK_PARTITIONS_MAX           1024    /* partitions of one mock topic */
#define FRAUD_MOCK_TOPICS_MAX               64      /* topics fraud-broker creates */
/* @kafka-bounds */

/* ---- connect (common/connect.c) ---- */
#define FRAUD_CONNECT_BOOTSTRAP_MAX 1024 /* bytes of a bootstrap server list */

/* ---- store (lib/store.c) ---- */
#define FRAUD_STORE_KEY_MAX                512         /* bytes of a state or meta key */
#define FRAUD_STORE_VALUE_MAX              (1u << 20)  /* bytes of a state or meta value */
#define FRAUD_STORE_BATCH_OPS_MAX          65536       /* operations in one write batch */
#define FRAUD_STORE_BATCH_BYTES_MAX        (64u << 20) /* key + value bytes in one write batch */
#define FRAUD_STORE_ERROR_MAX              512         /* bytes of the last error text */
#define FRAUD_STORE_BLOCK_CACHE_BYTES_MAX  ((size_t)16 << 30) /* block cache */
#define FRAUD_STORE_WRITE_BUFFER_BYTES_MIN ((size_t)64 << 10) /* one memtable */
#define FRAUD_STORE_WRITE_BUFFER_BYTES_MAX ((size_t)1 << 30)  /* one memtable */
#define FRAUD_STORE_OPEN_FILES_MIN         20                 /* RocksDB clips below this anyway */
#define FRAUD_STORE_OPEN_FILES_MAX         65536              /* table files held open */
#define FRAUD_STORE_LOG_FILES_MAX          4                  /* RocksDB info LOG files kept */
#define FRAUD_STORE_LOG_FILE_BYTES_MAX     ((size_t)16 << 20) /* one info LOG file */
/* @store-bounds */

/* ---- ingest (ingest/) ---- */
#define FRAUD_INGEST_RECORD_BYTES_MAX   8192 /* bytes of one raw record: JSON object or CSV line */
#define FRAUD_INGEST_FIELDS_MAX         64   /* members of a JSON object, columns of a CSV row */
#define FRAUD_INGEST_NAME_BYTES_MAX     64   /* bytes of a JSON key or a CSV column name */
#define FRAUD_INGEST_ID_BYTES_MAX       64   /* bytes of an id (transaction, customer, merchant, ...) */
#define FRAUD_INGEST_IP_BYTES_MAX       46   /* INET6_ADDRSTRLEN, NUL included */
#define FRAUD_INGEST_DETAIL_MAX         192  /* bytes of a rejection's human detail */
#define FRAUD_INGEST_AMOUNT_MINOR_MAX   INT64_C(999999999999999) /* 10^15 - 1 minor units */
#define FRAUD_INGEST_DEDUP_WINDOW_SEC_MAX (400 * 86400) /* ingest.dedup_window_sec */
#define FRAUD_INGEST_PRUNE_BATCH_MAX    4096 /* expired ids deleted in one write batch */
#define FRAUD_INGEST_LOG_INTERVAL_SEC_MAX 86400 /* ingest.log_interval_sec */
#define FRAUD_INGEST_MAPPING_BYTES_MAX  (64 << 10) /* bytes of a column mapping file */
#define FRAUD_INGEST_DLQ_ORIGINAL_BYTES_MAX (16 << 10) /* original bytes kept in a dead letter */
#define FRAUD_INGEST_COMMIT_RECORDS_MAX 8192 /* records consumed before one flush and commit */
#define FRAUD_INGEST_COMMIT_INTERVAL_MS_MAX 60000 /* ingest.commit_interval_ms */

/* ---- labeler (labeler/) ---- */
#define FRAUD_LABELER_ID_MAX               128   /* bytes of a transaction, card or chargeback id */
#define FRAUD_LABELER_FEATURES_BYTES_MAX   16384 /* bytes of a FeatureVector kept for its labels */
#define FRAUD_LABELER_CHARGEBACK_BYTES_MAX 2048  /* bytes of one held Chargeback (kept for dlq) */
#define FRAUD_LABELER_STATEMENTS_MAX       8     /* chargebacks and reviews kept per transaction */
/* bytes of one encoded record (labeler/join.c checks its worst case against it) */
#define FRAUD_LABELER_RECORD_BYTES_MAX                                                             \
        (64 + FRAUD_LABELER_ID_MAX + FRAUD_LABELER_FEATURES_BYTES_MAX +                            \
         FRAUD_LABELER_STATEMENTS_MAX *                                                            \
                 (32 + FRAUD_LABELER_ID_MAX + FRAUD_LABELER_CHARGEBACK_BYTES_MAX))
#define FRAUD_LABELER_LABEL_OVERHEAD_BYTES 512   /* a Label's bytes besides its FeatureVector */
#define FRAUD_LABELER_DAYS_MAX             3660  /* labeler.maturity_days, labeler.horizon_days */
#define FRAUD_LABELER_LATENESS_SEC_MAX     (30 * 86400) /* labeler.lateness_sec */
#define FRAUD_LABELER_TIME_US_MAX          INT64_C(7258118400000000) /* latest event time: 2200 */
#define FRAUD_LABELER_ADVANCE_CHUNK        256   /* due records taken from the index at once */
#define FRAUD_LABELER_ADVANCE_RECORDS_MAX  65536 /* labeler.advance_records_max */
#define FRAUD_LABELER_PENDING_KEYS_MAX     60000 /* state keys changed in one write batch */
#define FRAUD_LABELER_PENDING_BYTES_MAX    (32u << 20) /* state bytes changed in one write batch */
#define FRAUD_LABELER_MEMORY_RECORDS_MAX   50000000 /* records of the in-memory store (backtest) */
#define FRAUD_LABELER_FLUSH_MS             30000 /* wait for a checkpoint's deliveries */
#define FRAUD_LABELER_DETAIL_MAX           192   /* bytes of a rejection's human detail */

/* ---- trainer (trainer/, tools/train.c) ---- */
#define FRAUD_TRAIN_ROWS_MAX            10000000 /* labelled rows in one training run */
#define FRAUD_TRAIN_LINE_MAX            65536    /* bytes of one training CSV line */
#define FRAUD_TRAIN_BAD_ROWS_SHOWN      10       /* rejected rows whose reason is printed */
#define FRAUD_TRAIN_GBDT_ROUNDS_MAX     10000    /* trainer.gbdt_rounds */
#define FRAUD_TRAIN_GBDT_DEPTH_MAX      16       /* trainer.gbdt_max_depth */
#define FRAUD_TRAIN_THREADS_MAX         64       /* trainer.threads */
#define FRAUD_TRAIN_MLP_HIDDEN_LAYERS_MAX 3    /* FRAUD_MLP_LAYERS_MAX - 1 (common/mlp.h) */
#define FRAUD_TRAIN_MLP_WIDTH_MAX       1024     /* FRAUD_MLP_WIDTH_MAX (common/mlp.h) */
#define FRAUD_TRAIN_MLP_EPOCHS_MAX      1000     /* trainer.mlp_epochs */
#define FRAUD_TRAIN_MLP_BATCH_MAX       65536    /* trainer.mlp_batch_rows */
#define FRAUD_TRAIN_HOLDOUT_DAYS_MAX    365      /* trainer.holdout_days */
#define FRAUD_TRAIN_PRECISION_K_MAX     100000   /* trainer.precision_k */
#define FRAUD_TRAIN_PREDICT_CHUNK_ROWS  4096     /* rows converted to float per XGBoost call */
#define FRAUD_TRAIN_XGB_PARAM_MAX       64       /* bytes of one formatted XGBoost parameter */
#define FRAUD_TRAIN_XGB_JSON_MAX        256      /* bytes of an XGBoost array or predict config */
#define FRAUD_TRAINER_DAYS_MAX          400      /* trainer.window_days and the other day counts */
#define FRAUD_TRAINER_LATENESS_SEC_MAX  86400    /* trainer.label_lateness_sec */
#define FRAUD_TRAINER_ROUND_SEC_MAX     86000    /* trainer.round_max_sec (max.poll.interval.ms <= 24 h) */
#define FRAUD_TRAINER_NICE_MAX          19       /* trainer.nice */
#define FRAUD_TRAINER_LABEL_VERSIONS_MAX 8       /* label versions kept per transaction */
#define FRAUD_TRAINER_TXID_MAX          128      /* bytes of a transaction id, NUL included */
#define FRAUD_TRAINER_PENDING_SLOTS     8192     /* rows staged in one write batch (2 x consume batch) */
#define FRAUD_TRAINER_REGISTRY_VERSIONS_MAX 4096 /* versions one registry listing reads */
#define FRAUD_TRAINER_REASON_MAX        256      /* bytes of a gate or status reason */
#define FRAUD_TRAINER_ERR_MAX           4608     /* bytes of an error text (a path and why) */
#define FRAUD_TRAINER_FLUSH_MS          30000    /* wait for dead letters' deliveries */
#define FRAUD_TRAINER_ANNOUNCE_MS       10000    /* wait for a ModelAnnouncement's delivery */

/* ---- scorer (scorer/) ---- */
#define FRAUD_SCORER_RULES_FILE_BYTES_MAX (1 << 20) /* bytes of a rules file */
#define FRAUD_SCORER_RULES_MAX            1024      /* rules in one rules file */
#define FRAUD_SCORER_RULE_NAME_MAX        64        /* bytes of a rule name (a reason code) */
#define FRAUD_SCORER_RULES_VERSION_MAX    64        /* bytes of a rules file's version */
#define FRAUD_SCORER_LIST_ITEMS_MAX       262144    /* items over all lists of one file */
#define FRAUD_SCORER_LIST_ITEM_MAX        128       /* bytes of one list item */
#define FRAUD_SCORER_EXPR_BYTES_MAX       2048      /* bytes of one rule expression */
#define FRAUD_SCORER_EXPR_OPS_MAX         256       /* compiled operations of one expression */
#define FRAUD_SCORER_EXPR_DEPTH_MAX       32        /* nesting of one expression */
#define FRAUD_SCORER_EXPR_STACK_MAX       64        /* evaluation stack of one expression */
#define FRAUD_SCORER_BATCH_MAX            4096      /* transactions decided together (= a consumed batch) */
#define FRAUD_SCORER_REASONS_MAX          8         /* reason codes in one Score */
#define FRAUD_SCORER_TXID_MAX             128       /* bytes of a transaction id, NUL included */
#define FRAUD_SCORER_DEDUP_MAX            (1 << 20) /* transaction ids remembered */
#define FRAUD_SCORER_GBDT_THREADS_MAX     64        /* XGBoost threads */
#define FRAUD_SCORER_ERR_MAX              512       /* bytes of a load error text */
#define FRAUD_SCORER_GROUP_ID_MAX         512       /* bytes of the models consumer's group id */
#define FRAUD_SCORER_MODELS_POLLS_MAX     16        /* models-topic polls between two batches */

/* ---- velocity (velocity/, common/featureset.c) ---- */
#define FRAUD_FEATURESET_SPANS_MAX            8          /* velocity.window_spans_sec items */
#define FRAUD_FEATURESET_FEATURES_MAX         512        /* features in one schema (= a model's) */
#define FRAUD_FEATURESET_NAME_MAX             64         /* bytes of a feature name, NUL included */
#define FRAUD_VELOCITY_SPAN_SEC_MAX           31622400   /* longest window span: 366 days */
#define FRAUD_VELOCITY_LABEL_SEC_MAX          31622400   /* label delay, label window */
#define FRAUD_VELOCITY_HISTORY_EVENTS_MAX     16384      /* events of one entity (fits a value) */
#define FRAUD_VELOCITY_CHARGEBACKS_MAX        4096       /* chargebacks one terminal keeps */
#define FRAUD_VELOCITY_ID_MAX                 128        /* bytes of an entity or transaction id */
#define FRAUD_VELOCITY_CACHE_ENTITIES_MAX     50000000   /* entity windows held in memory */
#define FRAUD_VELOCITY_CACHE_EVENTS_MAX       2000000000 /* events held in memory, all entities */
#define FRAUD_VELOCITY_COMMIT_ENTITIES_MAX    60000      /* changed entities in one write batch */
#define FRAUD_VELOCITY_COMMIT_BYTES_MAX       (32u << 20) /* state bytes in one write batch */
#define FRAUD_VELOCITY_CHECKPOINT_RECORDS_MAX 1000000    /* input records between checkpoints */
#define FRAUD_VELOCITY_FLUSH_MS               30000      /* wait for a checkpoint's deliveries */
#define FRAUD_VELOCITY_CHECKPOINT_INTERVAL_MS_MAX 60000  /* velocity.checkpoint_interval_ms */
/* @velocity-bounds */

/* ---- simulator (tools/) ---- */
#define FRAUD_SIM_DAYS_MAX                3660    /* simulated days */
#define FRAUD_SIM_CUSTOMERS_MAX           2000000 /* customers of one simulated world */
#define FRAUD_SIM_MERCHANTS_MAX           1000000 /* merchants of one simulated world */
#define FRAUD_SIM_TERMINALS_MAX           16      /* terminals of one merchant */
#define FRAUD_SIM_START_MS_MAX            INT64_C(7258118400000) /* latest start: 2200-01-01 */
#define FRAUD_SIM_PENDING_EVENTS_MAX      (1 << 24) /* payments generated, not yet released */
#define FRAUD_SIM_PENDING_CHARGEBACKS_MAX (1 << 24) /* chargebacks waiting for their time */
#define FRAUD_SIM_SKIM_POOL_MAX           65536     /* skimmed cards awaiting cash-out */
#define FRAUD_SIM_COMPROMISED_MAX         256       /* terminals with a skimmer at once */
#define FRAUD_GENERATE_BUFFER_BYTES       (1 << 20) /* write buffer of one output file */
#define FRAUD_GENERATE_LINE_MAX           1024      /* bytes of one output line or message */
#define FRAUD_GENERATE_RATE_MAX           1000000   /* --rate, messages per second */
#define FRAUD_GENERATE_SECONDS_MAX        31536000  /* --seconds: one year */
/* @sim-bounds */

#endif
