/* fraud-broker: the embedded Kafka broker for one machine (tests, demo, CI).
 *
 * Runs librdkafka's mock cluster (lib/mock.c) on loopback, creates the
 * pipeline's topics, prints "bootstrap=HOST:PORT[,HOST:PORT...]" on stdout
 * (flushed), writes the bare HOST:PORT list to the bootstrap file that
 * clients read when kafka.bootstrap_servers is empty (broker.bootstrap_file,
 * or --bootstrap-file), and stays up until SIGTERM or SIGINT; then it
 * removes that file, stops the cluster and exits 0.  Exit 1 when the
 * cluster cannot start, 64 on a usage error, 78 on a bad configuration.
 *
 * Design: SIGTERM and SIGINT are blocked before the cluster starts, so
 * librdkafka's threads inherit the mask and the main thread collects the
 * signal with sigwait(); no handler runs in signal context.  The bootstrap
 * file is written atomically (lib/atomicfile.h): a reader never sees half a
 * line.  Everything lives in memory: a restart
 * starts empty, on new ports.  Known limits of the mock are in lib/mock.h.
 *
 * Topic names, partitions, brokers and the bootstrap file come from the
 * shared settings (--config FILE, common/cli.h); the flags override them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sysexits.h>

#include "common/cli.h"
#include "common/settings.h"
#include "lib/atomicfile.h"
#include "lib/bounds.h"
#include "lib/log.h"
#include "lib/mock.h"

struct broker_args {
        int brokers;
        int partitions;
        size_t topics_count;
        char topics[FRAUD_MOCK_TOPICS_MAX][FRAUD_KAFKA_TOPIC_NAME_MAX + 1];
        char bootstrap_file[PATH_MAX]; /* "" : none */
};

#define BROKER_SUMMARY                                                                  \
        "Runs an in-memory Kafka cluster (librdkafka's mock brokers) on 127.0.0.1,\n"     \
        "creates the pipeline topics, prints bootstrap=HOST:PORT[,...] on stdout,\n"      \
        "writes it to the bootstrap file and serves until SIGTERM or SIGINT.\n"            \
        "Data is kept in memory only; ports change on every start."

#define BROKER_OPTIONS_HELP                                                             \
        "      --topics A,B,C         topics to create (default: every topics.* name)\n" \
        "      --partitions N         partitions per topic (default topics.partitions)\n" \
        "      --brokers N            mock brokers (default broker.brokers)\n"           \
        "      --bootstrap-file FILE  where to write HOST:PORT[,...] (default\n"        \
        "                             broker.bootstrap_file)\n"                           \
        "\n"                                                                             \
        "Limits of the embedded broker: each partition keeps at most 5 MiB or\n"       \
        "100,000 batches (the oldest are dropped); a fetch returns one batch per\n"    \
        "partition; an idle fetch waits the full fetch.wait.max.ms; no transactions.\n"

static int broker_parse_int(const char *name, const char *s, int max, int *out) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max) {
                fraud_log_err("%s: '%s' is not a number in 1..%d", name, s, max);
                return -EINVAL;
        }
        *out = (int)v;
        return 0;
}

/* Kafka's legal topic characters: ASCII letters, digits, '.', '_', '-'. */
static int broker_topic_add(struct broker_args *a, const char *name, size_t len) {
        if (len == 0 || len > FRAUD_KAFKA_TOPIC_NAME_MAX) {
                fraud_log_err("--topics: empty name or longer than %d bytes",
                              FRAUD_KAFKA_TOPIC_NAME_MAX);
                return -EINVAL;
        }
        if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") < len) {
                fraud_log_err("--topics: '%.*s': only letters, digits, '.', '_', '-'", (int)len,
                              name);
                return -EINVAL;
        }
        if (a->topics_count == FRAUD_MOCK_TOPICS_MAX) {
                fraud_log_err("--topics: more than %d topics", FRAUD_MOCK_TOPICS_MAX);
                return -EINVAL;
        }
        memcpy(a->topics[a->topics_count], name, len);
        a->topics[a->topics_count][len] = '\0';
        a->topics_count++;
        return 0;
}

/* Splits "a,b,c" into a->topics (replacing what was there). */
static int broker_topics_parse(struct broker_args *a, const char *list) {
        const char *p = list;

        a->topics_count = 0;
        for (;;) {
                size_t len = strcspn(p, ",");
                int r = broker_topic_add(a, p, len);
                if (r < 0)
                        return r;
                if (p[len] == '\0')
                        return 0;
                p += len + 1;
        }
}

/* The defaults: every topic of the settings, their partitions, brokers and
 * bootstrap file.  The settings admit only valid names and ranges. */
static int broker_args_defaults(struct broker_args *a, const struct fraud_settings *s) {
        const char *const topics[] = {
                s->topics.raw,         s->topics.normalized, s->topics.features,
                s->topics.scores,      s->topics.scores_shadow, s->topics.chargebacks,
                s->topics.labels,      s->topics.models,     s->topics.dlq,
        };
        int r = 0;

        memset(a, 0, sizeof *a);
        a->brokers = (int)s->broker.brokers;
        a->partitions = (int)s->topics.partitions;
        if (snprintf(a->bootstrap_file, sizeof a->bootstrap_file, "%s",
                     s->broker.bootstrap_file) >= (int)sizeof a->bootstrap_file)
                return -ENAMETOOLONG;
        for (size_t i = 0; r == 0 && i < sizeof topics / sizeof topics[0]; i++)
                r = broker_topic_add(a, topics[i], strlen(topics[i]));
        return r;
}

/* The flags left after the shared ones (common/cli.h).  Returns 0 to run or
 * -EINVAL on a usage error (already reported). */
static int broker_args_parse(int argc, char **argv, struct broker_args *a) {
        static const struct option longopts[] = {
                {"topics", required_argument, NULL, 't'},
                {"partitions", required_argument, NULL, 'p'},
                {"brokers", required_argument, NULL, 'b'},
                {"bootstrap-file", required_argument, NULL, 'f'},
                {NULL, 0, NULL, 0},
        };
        int opt, r = 0;

        opterr = 0;
        while (r == 0 && (opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (opt) {
                case 't':
                        r = broker_topics_parse(a, optarg);
                        break;
                case 'p':
                        r = broker_parse_int("--partitions", optarg, FRAUD_MOCK_PARTITIONS_MAX,
                                             &a->partitions);
                        break;
                case 'b':
                        r = broker_parse_int("--brokers", optarg, FRAUD_MOCK_BROKERS_MAX,
                                             &a->brokers);
                        break;
                case 'f':
                        if (snprintf(a->bootstrap_file, sizeof a->bootstrap_file, "%s",
                                     optarg) >= (int)sizeof a->bootstrap_file) {
                                fraud_log_err("--bootstrap-file: path too long");
                                r = -EINVAL;
                        }
                        break;
                default:
                        fraud_log_err("unknown or incomplete option '%s' (see --help)",
                                      argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (r == 0 && optind < argc) {
                fraud_log_err("unexpected argument '%s' (see --help)", argv[optind]);
                r = -EINVAL;
        }
        return r;
}

/* Writes "bootstrap\n" to path; readers never see half a line. */
static int broker_bootstrap_file_write(const char *path, const char *bootstrap) {
        char line[FRAUD_CONNECT_BOOTSTRAP_MAX + 1];
        int n = snprintf(line, sizeof line, "%s\n", bootstrap);

        if (n < 0 || (size_t)n >= sizeof line)
                return -ENAMETOOLONG;
        return fraud_atomicfile_write(path, line, (size_t)n);
}

static int broker_topics_create(struct fraud_mock *m, const struct broker_args *a) {
        for (size_t i = 0; i < a->topics_count; i++) {
                int r = fraud_mock_topic_create(m, a->topics[i], a->partitions);
                if (r < 0) {
                        fraud_log_err("topic %s: %s", a->topics[i], strerror(-r));
                        return r;
                }
        }
        return 0;
}

/* Starts the cluster and announces it; on success *out owns the cluster. */
static int broker_start(const struct broker_args *a, struct fraud_mock **out) {
        struct fraud_mock *m;
        const char *bootstrap;
        int r = fraud_mock_new(a->brokers, &m);

        if (r < 0) {
                fraud_log_err("cannot start the mock cluster: %s", strerror(-r));
                return r;
        }
        r = broker_topics_create(m, a);
        if (r < 0)
                goto fail_mock;
        bootstrap = fraud_mock_bootstrap(m);
        if (a->bootstrap_file[0] != '\0') {
                r = broker_bootstrap_file_write(a->bootstrap_file, bootstrap);
                if (r < 0) {
                        fraud_log_err("%s: %s", a->bootstrap_file, strerror(-r));
                        goto fail_mock;
                }
        }
        printf("bootstrap=%s\n", bootstrap);
        if (fflush(stdout) != 0)
                fraud_log_warning("stdout: %s (bootstrap not announced there)", strerror(errno));
        fraud_log_info("serving %zu topics x %d partitions on %d broker(s) at %s", a->topics_count,
                       a->partitions, a->brokers, bootstrap);
        *out = m;
        return 0;

fail_mock:
        fraud_mock_free(m);
        return r;
}

/* Settings, then flags; returns FRAUD_CLI_RUN or main()'s exit status. */
static int broker_setup(int argc, char **argv, struct broker_args *args) {
        const struct fraud_cli cli = {
                .summary = BROKER_SUMMARY,
                .options_help = BROKER_OPTIONS_HELP,
                .args_extra = true,
        };
        struct fraud_settings settings;
        enum fraud_log_level level = FRAUD_LOG_INFO;
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        fraud_log_level_parse(settings.log.level, &level);
        fraud_log_open("fraud-broker", level);
        status = broker_args_defaults(args, &settings) < 0 ||
                                 broker_args_parse(argc, argv, args) < 0
                         ? EX_USAGE
                         : FRAUD_CLI_RUN;
        fraud_settings_release(&settings);
        return status;
}

int main(int argc, char **argv) {
        struct broker_args args;
        struct fraud_mock *mock = NULL;
        sigset_t stop;
        int r, sig = 0;

        fraud_log_open("fraud-broker", FRAUD_LOG_INFO);
        r = broker_setup(argc, argv, &args);
        if (r != FRAUD_CLI_RUN)
                return r;

        /* Before any librdkafka thread exists, so they all inherit the mask. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (broker_start(&args, &mock) < 0)
                return EXIT_FAILURE;
        do {
                r = sigwait(&stop, &sig);
        } while (r == EINTR);
        fraud_log_info("signal %d: shutting down", sig);

        if (args.bootstrap_file[0] != '\0' && unlink(args.bootstrap_file) < 0 && errno != ENOENT)
                fraud_log_warning("%s: %s", args.bootstrap_file, strerror(errno));
        fraud_mock_free(mock);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
