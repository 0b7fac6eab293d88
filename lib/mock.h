/* mock.h: librdkafka's mock cluster on loopback, for tests and fraud-broker.
 *
 * fraud_mock_new() starts N mock brokers (ids 1..N) inside this process,
 * each listening on 127.0.0.1 on an ephemeral port chosen by the kernel;
 * fraud_mock_bootstrap() gives the "HOST:PORT,..." list any Kafka client
 * (ours, kcat) connects to.  Topics are created explicitly with a partition
 * count (replication min(N, 3)); the mock cluster has no CreateTopics admin
 * API.  It does create a topic a client asks for that does not exist (4
 * partitions), even when the client sets allow.auto.create.topics=false
 * (its Metadata API is too old for that flag), so a misspelt topic name
 * shows up as a new topic rather than an error.  Everything lives in
 * memory and is gone after fraud_mock_free().
 *
 * Known limits of the mock (librdkafka 2.0, as measured for DESIGN.md
 * section 5): each partition keeps at most 5 MiB or 100,000 batches (the
 * oldest are dropped, so a consumer that falls behind sees an offset
 * reset); each fetch returns one batch per partition; an idle fetch waits
 * the full fetch.wait.max.ms; its transaction support is partial, so no
 * exactly-once claim rests on it; a member joining a group that another
 * member just left waits up to session.timeout.ms for the rebalance (the
 * tests shorten it); ports change on every start.
 * Hence lz4/zstd compression, small linger.ms and fetch.wait.max.ms (1-5
 * ms, never 0), enough partitions, and flow control in replay.
 *
 * The cluster runs on librdkafka's own threads; these functions are called
 * from one thread.  Failures return -errno; nothing is logged.
 */
#ifndef FRAUD_MOCK_H
#define FRAUD_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

struct fraud_mock;

/* Starts brokers (1..FRAUD_MOCK_BROKERS_MAX) mock brokers.  On success *out
 * owns the cluster (stop with fraud_mock_free()).  -EINVAL for a bad count,
 * -ENOMEM, or -EIO when librdkafka cannot start it. */
int fraud_mock_new(int brokers, struct fraud_mock **out);

/* Stops every broker and frees m; clients still connected see the brokers
 * go down.  fraud_mock_free(NULL) is a no-op. */
void fraud_mock_free(struct fraud_mock *m);

/* Creates topic with partitions (1..FRAUD_MOCK_PARTITIONS_MAX) partitions.
 * 0, -EINVAL for a bad name or count, or the mapped librdkafka error. */
int fraud_mock_topic_create(struct fraud_mock *m, const char *topic, int partitions);

/* "127.0.0.1:PORT[,127.0.0.1:PORT...]".  Borrowed; valid until free. */
const char *fraud_mock_bootstrap(const struct fraud_mock *m);

int fraud_mock_brokers(const struct fraud_mock *m);

/* The librdkafka mock cluster itself, for fault injection in tests
 * (rd_kafka_mock_push_request_errors(), rd_kafka_mock_broker_set_down(),
 * ...).  Borrowed; valid until free. */
rd_kafka_mock_cluster_t *fraud_mock_cluster(struct fraud_mock *m);

#endif
