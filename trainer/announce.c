/* announce.c: see announce.h. */
#include "trainer/announce.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "proto/model.pb-c.h"

/* The announcement of m; names point into m, path into the caller's. */
static void announcement_fill(Fraud__ModelAnnouncement *a, const struct fraud_modelfile *m,
                              char *path, const char *newest_tx, char **names) {
        fraud__model_announcement__init(a);
        a->schema_version = MODEL_ANNOUNCEMENT_SCHEMA_VERSION;
        a->transaction_id = (char *)(newest_tx ? newest_tx : "");
        a->model_version = (char *)m->version;
        a->role = FRAUD__MODEL_ROLE__MODEL_ROLE_CHAMPION;
        a->registry_path = path;
        a->gbdt_file = (char *)"gbdt.json";
        a->neural_file = (char *)(m->has_mlp ? "mlp.bin" : "");
        a->metadata_file = (char *)"model.yaml";
        for (size_t i = 0; i < m->n_features; i++)
                names[i] = (char *)m->feature_names[i];
        a->n_feature_names = m->n_features;
        a->feature_names = names;
        a->feature_schema_hash = m->feature_schema_hash;
        a->block_threshold = m->block_threshold;
        a->review_threshold = m->review_threshold;
        a->band_low = m->band_low;
        a->band_high = m->band_high;
        a->data_start_us = m->data_start_us;
        a->data_end_us = m->data_end_us;
        a->label_cutoff_us = m->label_cutoff_us;
        a->parent_version = (char *)m->parent_version;
}

/* Waits for the one message sent; failed_before: the producer's failures
 * before it was sent. */
static int delivery_wait(struct fraud_kafka_producer *p, uint64_t failed_before, int timeout_ms,
                         char *err, size_t err_size) {
        struct fraud_kafka_counters k;
        int r = fraud_kafka_producer_flush(p, timeout_ms);

        if (r < 0) {
                snprintf(err, err_size, "no delivery report within %d ms (is Kafka reachable?)",
                         timeout_ms);
                return r;
        }
        fraud_kafka_producer_counters(p, &k);
        if (k.delivery_failed > failed_before) {
                snprintf(err, err_size, "delivery failed: %s", fraud_kafka_producer_error(p));
                return -EIO;
        }
        return 0;
}

int announce_send(struct fraud_kafka_producer *p, const char *topic,
                  const struct fraud_modelfile *m, const char *dir, const char *newest_tx,
                  int timeout_ms, char *err, size_t err_size) {
        char path[PATH_MAX];
        char **names = calloc(m->n_features ? m->n_features : 1, sizeof(char *));
        Fraud__ModelAnnouncement a;
        struct fraud_kafka_counters k;
        struct fraud_kafka_record rec = {topic, -1, ANNOUNCE_KEY, strlen(ANNOUNCE_KEY), NULL, 0};
        uint8_t *buf = NULL;
        int r = 0;

        if (!names)
                r = -ENOMEM;
        else if (!realpath(dir, path))
                r = -errno;
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", dir, strerror(-r));
                free(names);
                return r;
        }
        announcement_fill(&a, m, path, newest_tx, names);
        rec.value_size = fraud__model_announcement__get_packed_size(&a);
        if (!(buf = malloc(rec.value_size ? rec.value_size : 1)))
                r = -ENOMEM;
        if (r == 0) {
                rec.value = buf;
                fraud__model_announcement__pack(&a, buf);
                fraud_kafka_producer_counters(p, &k);
                r = fraud_kafka_producer_send(p, &rec, NULL);
                if (r < 0)
                        snprintf(err, err_size, "produce to %s: %s", topic, strerror(-r));
                else
                        r = delivery_wait(p, k.delivery_failed, timeout_ms, err, err_size);
        } else {
                snprintf(err, err_size, "out of memory");
        }
        free(buf);
        free(names);
        return r;
}
