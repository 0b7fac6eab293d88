/* announce.h: the ModelAnnouncement of a registry version on topics.models,
 * as the scorer expects it (scorer/scorer.h: role champion, registry_path
 * the version's directory, model_version and feature_schema_hash equal to
 * its model.yaml's, or the scorer refuses it).
 *
 * registry_path is made absolute (realpath), so a scorer started in
 * another working directory finds the same files; the registry must be on
 * a file system the scorer sees at the same path.  The message is keyed
 * ANNOUNCE_KEY (one model name, one partition, so announcements keep their
 * order) and sent synchronously: announce_send() returns once the broker
 * acknowledged it, or fails.
 */
#ifndef FRAUD_ANNOUNCE_H
#define FRAUD_ANNOUNCE_H

#include <stddef.h>

#include "common/modelfile.h"
#include "lib/kafka.h"

#define ANNOUNCE_KEY "fraud"

/* Announces m (read from dir) as champion on topic through p, waiting up
 * to timeout_ms for its delivery report.  newest_tx: the newest
 * transaction of the training set (lineage), or NULL.  0, or -errno with
 * the reason in err: -ENOENT (dir), -EMSGSIZE, -ETIMEDOUT (no report in
 * time: is Kafka reachable?), -EIO (delivery failed). */
int announce_send(struct fraud_kafka_producer *p, const char *topic,
                  const struct fraud_modelfile *m, const char *dir, const char *newest_tx,
                  int timeout_ms, char *err, size_t err_size);

#endif
