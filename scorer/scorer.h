/* scorer.h: the scorer stage object and its loop (stage 3 of 5).
 *
 * One step, between batches: read the models topic (every announcement
 * so far, keeping only the latest per role), load and swap the announced
 * models, re-stat the rules file; then one batch: consume FeatureVectors,
 * decide them together (scorer/decide.h: one GBDT call per batch), produce its Score to
 * topics.scores keyed by card_hash (and the challenger's to topics.scores_shadow), produce rejected
 * input to topics.dlq, and store the offsets whose outputs were delivered (lib/kafka.h tracker).
 * Nothing is swapped in the middle of a batch, so one batch is scored by one set of rules and
 * models.
 *
 * Models: a ModelAnnouncement names a directory; the model is loaded
 * beside the current one and swapped in only when it loaded completely and
 * its feature_schema_hash equals the announcement's and the hash of the
 * FeatureVectors seen so far; otherwise it is refused (counted, logged)
 * and the current model stays.  No model: rules only, every Score
 * degraded.  Every scorer instance reads the whole models topic from the
 * start in a consumer group of its own (group_id.models.HOST.PID), so all
 * instances serve the latest model, a restart included; it commits
 * nothing there.
 *
 * Features: the group scorer.group_id reads topics.features from the
 * group's committed offsets, or from the beginning of a partition the
 * group never committed.  Re-sent inputs (same transaction id within the
 * last scorer.dedup_window) are dropped, counted.  Bad input (not a
 * FeatureVector, unknown schema version, no transaction or id) goes to
 * dlq with its reason code and is counted; it never stops the stage.  A
 * failed delivery does: scorer_step() returns -EIO and the caller exits;
 * a restart resumes at the last stored offset.
 *
 * Errors: -errno.  Logs what an operator needs (model swaps and refusals,
 * rules reloads and their file:line errors).  One thread.
 */
#ifndef FRAUD_SCORER_SCORER_H
#define FRAUD_SCORER_SCORER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "lib/kafka.h"
#include "lib/metrics.h"

struct scorer;

struct scorer_stats {
        uint64_t consumed, scored, shadow_scored, duplicates, rejected, degraded;
        uint64_t schema_mismatch, rules_reloaded, rules_failed, models_loaded, models_refused;
};

/* Connects to Kafka and loads scorer.rules_file, scorer.model_dir and
 * scorer.challenger_dir.  settings are borrowed and must outlive the
 * scorer.  A rules file or model directory that fails at start is an error
 * (-errno, reason in err): the operator asked for it. */
int scorer_new(const struct fraud_settings *settings, struct scorer **out, char *err,
               size_t err_size);

/* Closes the consumers (final offsets stored and committed) and frees.
 * scorer_free(NULL) is a no-op. */
void scorer_free(struct scorer *s);

/* One step as above, waiting up to timeout_ms for input.  Returns the
 * number of FeatureVectors consumed, or -errno when the stage must stop. */
int scorer_step(struct scorer *s, int timeout_ms);

/* The next step reloads the rules file even if it looks unchanged (SIGHUP). */
void scorer_reload_request(struct scorer *s);

/* Waits for outstanding deliveries and stores the ready offsets. */
int scorer_drain(struct scorer *s, int timeout_ms);

void scorer_stats(const struct scorer *s, struct scorer_stats *out);
/* Ready (/readyz, READY=1) once rules or a champion model are loaded and a
 * partition of the features topic is assigned; else false and why. */
bool scorer_ready(const struct scorer *s, char *why, size_t why_size);

/* The consumer of the features topic, for the run loop's offset-reset
 * watch and Kafka metrics.  Borrowed. */
const struct fraud_kafka_consumer *scorer_consumer(const struct scorer *s);

/* The metrics registry (Prometheus text through lib/metrics.h).  Borrowed. */
struct fraud_metrics *scorer_metrics(struct scorer *s);

#endif
