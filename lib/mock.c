/* mock.c: librdkafka's mock cluster on loopback (see mock.h).
 *
 * A mock cluster needs an rd_kafka_t for its bookkeeping: this file makes a
 * producer with no bootstrap servers whose only job is to own the cluster.
 * Its log lines (it complains that it has no brokers to talk to) are
 * dropped; it never produces anything.
 */
#include "lib/mock.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "lib/kafka.h"

struct fraud_mock {
        rd_kafka_t *rk; /* owns cluster */
        rd_kafka_mock_cluster_t *cluster;
        int brokers;
};

static void mock_log_drop(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

static rd_kafka_t *mock_handle_new(void) {
        char why[FRAUD_KAFKA_ERRSTR_MAX];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        if (!conf)
                return NULL;
        rd_kafka_conf_set_log_cb(conf, mock_log_drop);
        /* The mock brokers' accepted sockets take their options from this
         * handle: without TCP_NODELAY a response written in two pieces waits
         * for the client's delayed ACK, about 40 ms per request. */
        if (rd_kafka_conf_set(conf, "socket.nagle.disable", "true", why, sizeof why) !=
            RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk;
}

int fraud_mock_new(int brokers, struct fraud_mock **out) {
        struct fraud_mock *m;

        assert(out);
        if (brokers < 1 || brokers > FRAUD_MOCK_BROKERS_MAX)
                return -EINVAL;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->brokers = brokers;
        m->rk = mock_handle_new();
        if (!m->rk)
                goto fail_free;
        m->cluster = rd_kafka_mock_cluster_new(m->rk, brokers);
        if (!m->cluster)
                goto fail_handle;
        *out = m;
        return 0;

fail_handle:
        rd_kafka_destroy(m->rk);
fail_free:
        free(m);
        return -EIO;
}

void fraud_mock_free(struct fraud_mock *m) {
        if (!m)
                return;
        rd_kafka_mock_cluster_destroy(m->cluster);
        rd_kafka_destroy(m->rk);
        free(m);
}

int fraud_mock_topic_create(struct fraud_mock *m, const char *topic, int partitions) {
        size_t len = topic ? strnlen(topic, FRAUD_KAFKA_TOPIC_NAME_MAX + 1) : 0;
        int replicas = m->brokers < 3 ? m->brokers : 3;

        assert(m);
        if (len == 0 || len > FRAUD_KAFKA_TOPIC_NAME_MAX || partitions < 1 ||
            partitions > FRAUD_MOCK_PARTITIONS_MAX)
                return -EINVAL;
        return fraud_kafka_errno(
                rd_kafka_mock_topic_create(m->cluster, topic, partitions, replicas));
}

const char *fraud_mock_bootstrap(const struct fraud_mock *m) {
        assert(m);
        return rd_kafka_mock_cluster_bootstraps(m->cluster);
}

int fraud_mock_brokers(const struct fraud_mock *m) {
        assert(m);
        return m->brokers;
}

rd_kafka_mock_cluster_t *fraud_mock_cluster(struct fraud_mock *m) {
        assert(m);
        return m->cluster;
}
