/* connect.c: see connect.h. */
#include "common/connect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int fraud_connect_bootstrap_read(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");
        size_t n;
        int r = 0;

        if (!f)
                return -errno;
        if (!fgets(buf, (int)size, f))
                r = ferror(f) ? -EIO : -EINVAL;
        fclose(f);
        if (r < 0)
                return r;
        n = strcspn(buf, "\r\n");
        if (n == strlen(buf) && n == size - 1)
                return -EINVAL; /* no newline in a full buffer: cut */
        buf[n] = '\0';
        return n > 0 ? 0 : -EINVAL;
}

static int connect_bootstrap(struct fraud_connect *c, const struct fraud_settings *s, char *err,
                             size_t err_size) {
        const char *file = s->broker.bootstrap_file;
        int r;

        if (s->kafka.bootstrap_servers[0] != '\0') {
                if (strlen(s->kafka.bootstrap_servers) >= sizeof(c->bootstrap)) {
                        snprintf(err, err_size, "kafka.bootstrap_servers: longer than %zu bytes",
                                 sizeof(c->bootstrap) - 1);
                        return -EINVAL;
                }
                snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", s->kafka.bootstrap_servers);
                return 0;
        }
        r = fraud_connect_bootstrap_read(file, c->bootstrap, sizeof(c->bootstrap));
        if (r == -ENOENT)
                snprintf(err, err_size,
                         "no kafka.bootstrap_servers set and no bootstrap file %s "
                         "(start fraud-broker, or set FRAUD_KAFKA_BOOTSTRAP)",
                         file);
        else if (r < 0)
                snprintf(err, err_size, "%s: cannot read the bootstrap address: %s", file,
                         strerror(-r));
        return r;
}

/* SASL/TLS and the other pass-through properties, only when set. */
static int connect_properties(struct fraud_connect *c, const struct fraud_settings *s,
                              bool consumer) {
        const struct fraud_settings_kafka *k = &s->kafka;
        const struct fraud_kafka_property props[] = {
                {"security.protocol", k->security_protocol},
                {"sasl.mechanism",
                 strncmp(k->security_protocol, "sasl", 4) == 0 ? k->sasl_mechanism : ""},
                {"sasl.username", k->sasl_username},
                {"sasl.password", k->sasl_password},
                {"ssl.ca.location", k->ssl_ca_location},
                {"message.max.bytes", c->message_max},
                {"session.timeout.ms", consumer ? c->session_timeout : ""},
        };
        int r = 0;

        snprintf(c->message_max, sizeof(c->message_max), "%lld", (long long)k->message_bytes_max);
        snprintf(c->session_timeout, sizeof(c->session_timeout), "%lld",
                 (long long)k->session_timeout_ms);
        for (size_t i = 0; r >= 0 && i < sizeof(props) / sizeof(props[0]); i++)
                if (props[i].value[0] != '\0')
                        r = fraud_kafka_options_property_add(&c->options, props[i].key,
                                                             props[i].value);
        return r;
}

int fraud_connect_init(struct fraud_connect *c, const struct fraud_settings *s,
                       const char *group_id, bool consumer, char *err, size_t err_size) {
        struct fraud_kafka_options *o = &c->options;
        int r;

        memset(c, 0, sizeof(*c));
        fraud_kafka_options_init(o);
        r = connect_bootstrap(c, s, err, err_size);
        if (r < 0)
                return r;
        o->bootstrap_servers = c->bootstrap;
        o->client_id = s->kafka.client_id;
        o->group_id = group_id;
        o->compression = s->kafka.compression;
        o->linger_ms = (int)s->kafka.linger_ms;
        o->fetch_wait_max_ms = (int)s->kafka.fetch_wait_max_ms;
        o->delivery_timeout_ms = (int)s->kafka.delivery_timeout_ms;
        o->consume_batch_max = (int)s->kafka.batch_records_max;
        r = connect_properties(c, s, consumer);
        if (r < 0) {
                snprintf(err, err_size, "kafka: too many or reserved client properties");
                return r;
        }
        return fraud_kafka_options_check(o, consumer, err, err_size);
}
