/* connect.h: the Kafka client options of a stage, from its settings.
 *
 * Maps the kafka section of fraud.yaml onto lib/kafka.h's options: the
 * bootstrap servers (or, when kafka.bootstrap_servers is empty, the address
 * the embedded broker wrote to broker.bootstrap_file), batching and
 * timeouts, and the SASL/TLS settings passed through to librdkafka.  The
 * delivery-critical properties are not here: lib/kafka.c sets them.
 */
#ifndef FRAUD_CONNECT_H
#define FRAUD_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/settings.h"
#include "lib/bounds.h"
#include "lib/kafka.h"

struct fraud_connect {
        struct fraud_kafka_options options; /* borrows settings and bootstrap */
        char bootstrap[FRAUD_CONNECT_BOOTSTRAP_MAX];
        char session_timeout[24];
        char message_max[24];
};

/* Fills c from s for a client of group_id (NULL for a producer only);
 * consumer adds the consumer-only properties.  c borrows the strings of s,
 * which must outlive it, and must not be moved after this call (options
 * point into it).  -ENOENT when no bootstrap servers are configured and the
 * bootstrap file does not exist (is the embedded broker running?), -EINVAL
 * for an unusable file or value, with the reason in err. */
int fraud_connect_init(struct fraud_connect *c, const struct fraud_settings *s,
                       const char *group_id, bool consumer, char *err, size_t err_size);

/* Reads the first line of a bootstrap file (as fraud-broker writes it) into
 * buf.  -ENOENT, -EINVAL for an empty or too long line, -errno on I/O. */
int fraud_connect_bootstrap_read(const char *path, char *buf, size_t size);

#endif
