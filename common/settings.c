/* settings.c: the key table of struct fraud_settings (see settings.h).
 *
 * The table reads like the file it describes: a section row, then its keys,
 * in the order fraud_settings_dump() writes them.  Each row names the field
 * (which is also the key), the default, the range and one or two sentences
 * of help that end up as comments in deploy/config/fraud.yaml.  Upper ends of
 * ranges that bound memory are named in lib/bounds.h.
 */
#include "common/settings.h"

#include "dashboard/limits.h"
#include "lib/bounds.h"
#include "lib/http.h"

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
                         "How long the producer waits to fill a batch: every hop of the "
                         "pipeline waits up to this long. The embedded broker wants 2 to 5 ms "
                         "(it returns one batch per partition per fetch, so batches that are "
                         "too small make a consumer fall behind); 0 is not allowed."),
        FRAUD_CONFIG_INT(S, kafka.fetch_wait_max_ms, 2, 1, 500,
                         "Longest a fetch waits for data. An idle fetch on the embedded broker "
                         "always waits this long, even when data arrives meanwhile, so keep it "
                         "small."),
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
        FRAUD_CONFIG_INT(S, topics.partitions, 1, 1, FRAUD_MOCK_PARTITIONS_MAX,
                         "Partitions of each topic the embedded broker creates. One process per "
                         "stage reads one partition best: the embedded broker returns one batch "
                         "per partition per fetch and handles every produced batch on one "
                         "thread, so one partition makes the fewest, largest batches. More "
                         "partitions allow more processes per stage."),

        FRAUD_CONFIG_SECTION("broker", "The embedded broker (fraud-broker): librdkafka's mock "
                                       "cluster on loopback, for one machine, tests and demos. "
                                       "Unused when kafka.bootstrap_servers is set."),
        FRAUD_CONFIG_STRING(S, broker.bootstrap_file, "fraud-broker.bootstrap", 1, PATH_MAX_,
                            "File where the broker writes its address and clients read it; "
                            "relative to the working directory."),
        FRAUD_CONFIG_INT(S, broker.brokers, 1, 1, FRAUD_MOCK_BROKERS_MAX,
                         "Brokers in the mock cluster."),

        FRAUD_CONFIG_SECTION("ingest", "Stage 1 (fraud-ingest): validates and normalizes raw "
                                       "transactions, hashes the card number, drops duplicates."),
        FRAUD_CONFIG_STRING(S, ingest.group_id, "fraud-ingest", 1, 255,
                            "Consumer group of the ingest processes."),
        FRAUD_CONFIG_STRING(S, ingest.state_dir, "ingest-state", 1, PATH_MAX_,
                            "RocksDB directory: the transaction ids seen and the offsets "
                            "consumed; relative to the working directory."),
        FRAUD_CONFIG_STRING(S, ingest.card_hash_key, "", 0, 32,
                            "Key of the card number hash: 32 hex digits (128 bits). Required; "
                            "changing it changes every card id downstream. Prefer the "
                            "environment variable to writing it here.",
                            .env = "FRAUD_INGEST_CARD_HASH_KEY", .flags = FRAUD_CONFIG_SECRET),
        FRAUD_CONFIG_STRING(S, ingest.mapping_file, "", 0, PATH_MAX_,
                            "Column mapping (YAML, see deploy/config/mapping.yaml) from the raw "
                            "JSON's names to ours. Empty: the raw JSON uses our names."),
        FRAUD_CONFIG_INT(S, ingest.dedup_window_sec, 604800, 60,
                         FRAUD_INGEST_DEDUP_WINDOW_SEC_MAX,
                         "Event-time horizon of duplicate detection: a transaction id seen "
                         "within this many seconds of the latest event time is not passed on "
                         "again."),
        FRAUD_CONFIG_INT(S, ingest.commit_interval_ms, 500, 1, FRAUD_INGEST_COMMIT_INTERVAL_MS_MAX,
                         "Longest a group of consumed records stays open before its delivery "
                         "reports are awaited and its seen ids and offsets committed in one "
                         "RocksDB batch. Records flow on while a group is open; only the commit "
                         "pauses the loop, so a longer interval pauses it less often, and after "
                         "a crash about this much input is sent again."),
        FRAUD_CONFIG_INT(S, ingest.log_interval_sec, 60, 1, FRAUD_INGEST_LOG_INTERVAL_SEC_MAX,
                         "Seconds (wall clock) between two summary lines in the log."),

        FRAUD_CONFIG_STRING(S, ingest.http_listen, "127.0.0.1:9101", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-ingest serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),
        /* @ingest-keys */
        FRAUD_CONFIG_SECTION("velocity", "Stage 2 (fraud-velocity): sliding-window aggregates per "
                                         "card, terminal, device and IP, on event time, kept in "
                                         "RocksDB; emits the feature vector of every transaction."),
        FRAUD_CONFIG_STRING(S, velocity.group_id, "fraud-velocity", 1, 255,
                            "Consumer group of the velocity instances."),
        FRAUD_CONFIG_STRING(S, velocity.state_dir, "velocity-state", 1, PATH_MAX_,
                            "RocksDB directory of the window state and the consumed offsets."),
        FRAUD_CONFIG_LIST(S, velocity.window_spans_sec, "60,600,3600,86400,604800,2592000",
                          FRAUD_FEATURESET_SPANS_MAX,
                          "Window spans in seconds, strictly increasing; each names its "
                          "features (60 is _1m, 86400 is _1d). A window of span w at event time t "
                          "is (t - w, t], the current transaction included. Changing the list "
                          "changes the feature schema: models must be retrained."),
        FRAUD_CONFIG_INT(S, velocity.label_delay_sec, 604800, 0, FRAUD_VELOCITY_LABEL_SEC_MAX,
                         "Verification delay of the label-derived features: the terminal's "
                         "chargeback share covers payments in (t - delay - window, t - delay]."),
        FRAUD_CONFIG_INT(S, velocity.label_window_sec, 2592000, 1, FRAUD_VELOCITY_LABEL_SEC_MAX,
                         "Length of the payment window of the label-derived features."),
        FRAUD_CONFIG_INT(S, velocity.allowed_lateness_sec, 300, 0, 86400,
                         "How far behind an entity's newest event a late transaction may be and "
                         "still see every event of its windows; history is kept this much longer."),
        FRAUD_CONFIG_INT(S, velocity.history_events_max, 8192, 16,
                         FRAUD_VELOCITY_HISTORY_EVENTS_MAX,
                         "Most events one entity keeps. Beyond it the oldest are dropped and "
                         "counted (velocity_history_truncated_total): that entity's longest "
                         "windows then undercount."),
        FRAUD_CONFIG_INT(S, velocity.cache_entities_max, 200000, 16,
                         FRAUD_VELOCITY_CACHE_ENTITIES_MAX,
                         "Entity states held in memory in front of RocksDB (least recently used "
                         "evicted after each commit)."),
        FRAUD_CONFIG_INT(S, velocity.cache_events_max, 4000000, 1024,
                         FRAUD_VELOCITY_CACHE_EVENTS_MAX,
                         "Events held in memory over all cached entities (24 to 56 bytes "
                         "each); with cache_entities_max it bounds the memory of the cache."),
        FRAUD_CONFIG_INT(S, velocity.checkpoint_records, 10000, 1,
                         FRAUD_VELOCITY_CHECKPOINT_RECORDS_MAX,
                         "Input records between two checkpoints (changed windows and offsets "
                         "written in one RocksDB batch, after their outputs are delivered). "
                         "Fewer checkpoints rewrite busy terminals less often; after a crash "
                         "about this many vectors are sent again."),
        FRAUD_CONFIG_INT(S, velocity.checkpoint_interval_ms, 1000, 1,
                         FRAUD_VELOCITY_CHECKPOINT_INTERVAL_MS_MAX,
                         "Longest time between two checkpoints while records arrive, and after "
                         "the last one when the input falls idle. A checkpoint pauses the loop "
                         "for a delivery round trip and a commit, so this bounds how often "
                         "transactions wait behind one."),
        FRAUD_CONFIG_BOOL(S, velocity.sync_commit, true,
                          "fsync RocksDB's log on every commit, so a power loss loses no "
                          "committed state."),

        FRAUD_CONFIG_STRING(S, velocity.http_listen, "127.0.0.1:9102", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-velocity serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),
        /* @velocity-keys */
        FRAUD_CONFIG_SECTION("scorer", "The scorer (stage 3): rules, then the GBDT, then the neural "
                                       "model on the GBDT's ambiguous band. Costs are in minor "
                                       "units of the transaction's currency."),
        FRAUD_CONFIG_STRING(S, scorer.group_id, "fraud-scorer", 1, 255,
                            "Consumer group of the scorer instances."),
        FRAUD_CONFIG_STRING(S, scorer.rules_file, "", 0, PATH_MAX_,
                            "Rules file (YAML, see deploy/config/rules.yaml), reloaded on SIGHUP "
                            "and when it changes. Empty: no rules."),
        FRAUD_CONFIG_STRING(S, scorer.model_dir, "", 0, PATH_MAX_,
                            "Model directory (model.yaml, gbdt.json, mlp.bin) loaded at start, "
                            "before any announcement on topics.models. Empty: none."),
        FRAUD_CONFIG_STRING(S, scorer.challenger_dir, "", 0, PATH_MAX_,
                            "Challenger model directory scored in shadow to topics.scores_shadow "
                            "from the start. Empty: none until one is announced."),
        FRAUD_CONFIG_INT(S, scorer.gbdt_threads, 1, 1, FRAUD_SCORER_GBDT_THREADS_MAX,
                         "Threads XGBoost uses for one prediction. One row gains nothing from "
                         "more; scale with processes."),
        FRAUD_CONFIG_DOUBLE(S, scorer.cost_false_positive, 500.0, 0.0, 1e12,
                            "Cost of declining a legitimate payment (C_FP)."),
        FRAUD_CONFIG_DOUBLE(S, scorer.cost_false_negative, 10000.0, 0.0, 1e12,
                            "Cost of accepting a fraudulent payment (C_FN), unless "
                            "cost_fn_is_amount. Block when p > C_FP / (C_FP + C_FN)."),
        FRAUD_CONFIG_BOOL(S, scorer.cost_fn_is_amount, true,
                          "C_FN is the payment's own amount: large payments are blocked at "
                          "lower probabilities."),
        FRAUD_CONFIG_DOUBLE(S, scorer.review_ratio, 0.5, 0.0, 1.0,
                            "Review when p > review_ratio * block threshold. 0: use the model's "
                            "review_threshold instead (capped at the block threshold)."),
        FRAUD_CONFIG_CHOICE(S, scorer.degraded_decision, "allow", "allow|review|block",
                            "Decision when no rule decides and no model is loaded."),
        FRAUD_CONFIG_INT(S, scorer.dedup_window, 100000, 1, FRAUD_SCORER_DEDUP_MAX,
                         "Recent transaction ids remembered to drop re-sent inputs."),
        FRAUD_CONFIG_INT(S, scorer.reasons_max, 3, 0, FRAUD_SCORER_REASONS_MAX - 1,
                         "Features named as reasons of a review or block decided by a model "
                         "(those that pushed the GBDT score up most)."),

        FRAUD_CONFIG_STRING(S, scorer.http_listen, "127.0.0.1:9103", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-scorer serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),
        /* @scorer-keys */
        /* @labeler-keys */
        FRAUD_CONFIG_SECTION("labeler", "Stage 4 (fraud-labeler): joins the scored feature rows "
                                        "with chargebacks and analysts' reviews by transaction "
                                        "id, on event time, and emits a Label with the time it "
                                        "became known."),
        FRAUD_CONFIG_STRING(S, labeler.group_id, "fraud-labeler", 1, 255,
                            "Consumer group of the labeler."),
        FRAUD_CONFIG_STRING(S, labeler.state_dir, "labeler-state", 1, PATH_MAX_,
                            "RocksDB directory of the open transactions, the index of what "
                            "falls due when, and the consumed offsets."),
        FRAUD_CONFIG_INT(S, labeler.maturity_days, 7, 1, FRAUD_LABELER_DAYS_MAX,
                         "Event-time days after a payment without a chargeback at which it gets "
                         "a provisional legitimate label (unknown if it was blocked)."),
        FRAUD_CONFIG_INT(S, labeler.horizon_days, 120, 2, FRAUD_LABELER_DAYS_MAX,
                         "Event-time days after a payment up to which a chargeback still makes "
                         "it fraud; then its label is final and its state removed. Greater "
                         "than maturity_days."),
        FRAUD_CONFIG_INT(S, labeler.lateness_sec, 3600, 0, FRAUD_LABELER_LATENESS_SEC_MAX,
                         "Allowed lateness: the watermark is the latest event time seen minus "
                         "this. Maturity and horizon are decided on the watermark; input up to "
                         "this late gives the same labels as input in order."),
        FRAUD_CONFIG_INT(S, labeler.advance_records_max, 4096, 1,
                         FRAUD_LABELER_ADVANCE_RECORDS_MAX,
                         "Most transactions matured or finalized in one step when the watermark "
                         "moves; the rest follow in the next steps."),
        FRAUD_CONFIG_BOOL(S, labeler.sync_commit, true,
                          "fsync RocksDB's log on every commit, so a power loss loses no "
                          "committed state."),

        FRAUD_CONFIG_STRING(S, labeler.http_listen, "127.0.0.1:9104", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-labeler serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),

        FRAUD_CONFIG_SECTION("trainer", "Stage 5 (fraud-trainer) and `fraudctl train`: fitting the "
                                        "GBDT and the neural model, and the time-based holdout on "
                                        "which thresholds are set under the scorer's cost model "
                                        "(scorer.cost_*)."),
        FRAUD_CONFIG_INT(S, trainer.gbdt_rounds, 200, 1, FRAUD_TRAIN_GBDT_ROUNDS_MAX,
                         "Boosting rounds (trees) of the GBDT."),
        FRAUD_CONFIG_INT(S, trainer.gbdt_max_depth, 6, 1, FRAUD_TRAIN_GBDT_DEPTH_MAX,
                         "Deepest tree of the GBDT."),
        FRAUD_CONFIG_DOUBLE(S, trainer.gbdt_eta, 0.1, 0.001, 1.0,
                            "Learning rate (shrinkage) of the GBDT."),
        FRAUD_CONFIG_INT(S, trainer.threads, 2, 1, FRAUD_TRAIN_THREADS_MAX,
                         "Threads XGBoost trains and predicts with; set explicitly, never "
                         "'all cores'."),
        FRAUD_CONFIG_INT(S, trainer.mlp_hidden_layers, 2, 1, FRAUD_TRAIN_MLP_HIDDEN_LAYERS_MAX,
                         "Hidden layers of the neural model."),
        FRAUD_CONFIG_INT(S, trainer.mlp_hidden, 32, 1, FRAUD_TRAIN_MLP_WIDTH_MAX,
                         "Units in each hidden layer of the neural model (ReLU)."),
        FRAUD_CONFIG_INT(S, trainer.mlp_epochs, 20, 1, FRAUD_TRAIN_MLP_EPOCHS_MAX,
                         "Passes of Adam over the training set."),
        FRAUD_CONFIG_INT(S, trainer.mlp_batch_rows, 256, 1, FRAUD_TRAIN_MLP_BATCH_MAX,
                         "Rows in one mini-batch of the neural model."),
        FRAUD_CONFIG_DOUBLE(S, trainer.mlp_learning_rate, 0.003, 1e-6, 1.0,
                            "Adam step size of the neural model."),
        FRAUD_CONFIG_DOUBLE(S, trainer.pos_weight, 0.0, 0.0, 1e6,
                            "Weight of a fraud row against a legitimate one in both models' "
                            "loss. 0: negatives / positives of the training set (balanced)."),
        FRAUD_CONFIG_INT(S, trainer.seed, 1, 0, INT64_MAX,
                         "Seed of both models: the same data and settings give the same model "
                         "bytes."),
        FRAUD_CONFIG_INT(S, trainer.holdout_days, 7, 1, FRAUD_TRAIN_HOLDOUT_DAYS_MAX,
                         "The most recent event-time days (UTC) held out for evaluation; the "
                         "split is by time, never shuffled."),
        FRAUD_CONFIG_INT(S, trainer.precision_k, 100, 1, FRAUD_TRAIN_PRECISION_K_MAX,
                         "k of card precision@k: the cards an investigator checks per day."),
        FRAUD_CONFIG_DOUBLE(S, trainer.band_share, 0.05, 0.0, 0.5,
                            "Share of holdout payments, those whose GBDT score ranks nearest the "
                            "block threshold, that make up the ambiguous band the neural model "
                            "re-scores."),
        FRAUD_CONFIG_STRING(S, trainer.group_id, "fraud-trainer", 1, 255,
                            "Consumer group of the trainer on topics.labels."),
        FRAUD_CONFIG_STRING(S, trainer.state_dir, "trainer-state", 1, PATH_MAX_,
                            "RocksDB directory of every label version received and the consumed "
                            "offsets; relative to the working directory."),
        FRAUD_CONFIG_STRING(S, trainer.registry_dir, "model-registry", 1, PATH_MAX_,
                            "Model registry: one directory per version (model.yaml, gbdt.json, "
                            "mlp.bin) and the file CHAMPION naming the version in service. The "
                            "scorer loads models from here: share it with the scorer's machine."),
        FRAUD_CONFIG_INT(S, trainer.window_days, 90, 2, FRAUD_TRAINER_DAYS_MAX,
                         "Rolling window of a training set: payments of the last window_days "
                         "event-time days before the daily cutoff."),
        FRAUD_CONFIG_INT(S, trainer.label_maturity_days, 7, 0, FRAUD_TRAINER_DAYS_MAX,
                         "The most recent days before the cutoff left out of the training set: "
                         "their legitimate labels are not known yet, only their early "
                         "chargebacks. Keep it at labeler.maturity_days. 0: none left out."),
        FRAUD_CONFIG_INT(S, trainer.evict_margin_days, 7, 0, FRAUD_TRAINER_DAYS_MAX,
                         "Labelled payments are kept this many days beyond the window, then "
                         "deleted from the trainer's store."),
        FRAUD_CONFIG_INT(S, trainer.warmup_days, 21, 0, FRAUD_TRAINER_DAYS_MAX,
                         "Days of labels (from the first label's known_at) before the first "
                         "model is trained."),
        FRAUD_CONFIG_INT(S, trainer.label_lateness_sec, 300, 0, FRAUD_TRAINER_LATENESS_SEC_MAX,
                         "A label day is complete when the labels' known_at watermark minus "
                         "this lateness passes its end (midnight UTC); then it is trained on."),
        FRAUD_CONFIG_INT(S, trainer.schedule_wall_hour, -1, -1, 23,
                         "Live operation only: at this UTC hour of the wall clock, train on the "
                         "current label day if no label after its midnight has arrived yet. "
                         "Ignored while the labels lag the wall clock by over two days (a "
                         "replay). -1: event time only, as replays need."),
        FRAUD_CONFIG_DOUBLE(S, trainer.gate_ap_ratio, 0.98, 0.0, 10.0,
                            "Quality gate: a new model is promoted only if its average precision "
                            "on the holdout is at least this times the champion's on the same "
                            "holdout."),
        FRAUD_CONFIG_INT(S, trainer.gate_min_train_frauds, 50, 1, FRAUD_TRAIN_ROWS_MAX,
                         "Quality gate: frauds the training set must hold."),
        FRAUD_CONFIG_INT(S, trainer.gate_min_holdout_frauds, 10, 1, FRAUD_TRAIN_ROWS_MAX,
                         "Quality gate: frauds the holdout must hold for its figures to count."),
        FRAUD_CONFIG_DOUBLE(S, trainer.gate_min_auc, 0.6, 0.0, 1.0,
                            "Quality gate: lowest AUC-ROC on the holdout, with or without a "
                            "champion."),
        FRAUD_CONFIG_INT(S, trainer.nice, 10, 0, FRAUD_TRAINER_NICE_MAX,
                         "Scheduling priority (nice) of the trainer process, so that scoring on "
                         "the same machine keeps its latency while a model trains."),
        FRAUD_CONFIG_INT(S, trainer.round_max_sec, 3600, 60, FRAUD_TRAINER_ROUND_SEC_MAX,
                         "Longest a training round may take. The consumer does not poll while "
                         "it trains: its max.poll.interval.ms is set to this plus "
                         "kafka.session_timeout_ms, so the group keeps the trainer."),
        FRAUD_CONFIG_INT(S, trainer.rows_max, 2000000, 1000, FRAUD_TRAIN_ROWS_MAX,
                         "Most labelled payments in one training set (8 bytes per feature "
                         "each); a larger set skips the day with an error."),

        FRAUD_CONFIG_STRING(S, trainer.http_listen, "127.0.0.1:9105", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-trainer serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),
        /* @trainer-keys */

        FRAUD_CONFIG_SECTION("dashboard", "The analyst's dashboard (fraud-dashboard): one web page "
                                          "with the live decisions, the review queue, charts and "
                                          "drift, read from scores, tx.features, labels and "
                                          "chargebacks; analysts' verdicts go to chargebacks."),
        FRAUD_CONFIG_STRING(S, dashboard.group_id, "fraud-dashboard", 1, 255,
                            "Consumer group of the dashboard. Every dashboard must read every "
                            "partition: give each instance its own group."),
        FRAUD_CONFIG_STRING(S, dashboard.http_listen, "127.0.0.1:9106", 0, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-dashboard serves /metrics (Prometheus), "
                            "/healthz and /readyz over HTTP: an IPv4 address, [IPv6] or a host "
                            "name; port 0 takes any free port (logged). Empty: no endpoint.",
                            .check = fraud_http_listen_check),
        FRAUD_CONFIG_STRING(S, dashboard.page_listen, "127.0.0.1:8106", 1, FRAUD_HTTP_LISTEN_MAX,
                            "host:port where fraud-dashboard serves the analysts' page (same "
                            "forms; port 0: any free port, logged). It has no authentication: "
                            "keep it on loopback or behind a proxy that authenticates.",
                            .check = fraud_http_listen_check),
        FRAUD_CONFIG_INT(S, dashboard.review_queue_max, 1000, 1, DASHBOARD_QUEUE_MAX,
                         "Most payments waiting for review; when full, the oldest is dropped "
                         "(and counted on the page)."),
        FRAUD_CONFIG_INT(S, dashboard.history_minutes, 60, 1, DASHBOARD_HISTORY_MINUTES_MAX,
                         "Minutes (wall clock) of history in the charts."),
        FRAUD_CONFIG_INT(S, dashboard.psi_reference_records, 5000, 100, DASHBOARD_PSI_RECORDS_MAX,
                         "Drift reference: the model directory holds no training distribution, "
                         "so the first this many scores and feature vectors read after the "
                         "start are the reference."),
        FRAUD_CONFIG_INT(S, dashboard.psi_window_records, 5000, 100, DASHBOARD_PSI_RECORDS_MAX,
                         "Drift window: the PSI compares the last this many records with the "
                         "reference."),
        FRAUD_CONFIG_INT(S, dashboard.psi_bins, 10, 2, DASHBOARD_PSI_BINS_MAX,
                         "Bins of the PSI: the reference's quantiles (plus one for missing "
                         "values)."),
        FRAUD_CONFIG_INT(S, dashboard.rewind_records, 10000, 0, DASHBOARD_REWIND_RECORDS_MAX,
                         "At start, read this many records back from the end of every "
                         "partition, so the page and the review queue show the recent past; 0: "
                         "only what comes next."),
        FRAUD_CONFIG_INT(S, dashboard.stream_per_sec_max, 200, 1, DASHBOARD_STREAM_PER_SEC_MAX,
                         "Most decision rows per second sent live to each page; the rest are "
                         "counted, not sent (the charts count every decision)."),
        /* @dashboard-keys */

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
