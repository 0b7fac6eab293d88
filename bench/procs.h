/* procs.h: the processes of a benchmark that runs the built daemons, as an
 * operator runs them: found beside the benchmark's own executable, started
 * with posix_spawn (never a fork of a process that has librdkafka threads),
 * output to a log file each, stopped with SIGTERM.
 *
 * A benchmark owns one struct procs: its working folder (a fresh temporary
 * one, removed at the end unless kept), the build and source trees, the
 * embedded broker and up to PROCS_MAX daemons.  Errors are printed on
 * stderr with the benchmark's name and returned as -1: a benchmark stops at
 * the first. */
#ifndef FRAUD_BENCH_PROCS_H
#define FRAUD_BENCH_PROCS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/connect.h"
#include "common/settings.h"
#include "lib/kafka.h"

#define PROCS_MAX      8
#define PROCS_PATH_MAX 1024

struct procs {
        const char *name; /* the benchmark's, for messages */
        char build[PROCS_PATH_MAX], source[PROCS_PATH_MAX], work[PROCS_PATH_MAX];
        char bootstrap[FRAUD_CONNECT_BOOTSTRAP_MAX];
        pid_t broker;
        pid_t daemons[PROCS_MAX];
        size_t n_daemons;
        bool keep;
};

/* Finds the trees (build: this executable's grandparent; source:
 * FRAUD_SOURCE_ROOT or the working directory) and makes the working
 * folder.  0 or -1. */
int procs_init(struct procs *p, const char *name);

/* out = dir/name (PROCS_PATH_MAX bytes); a longer path stops the program. */
void procs_path(char *out, const char *dir, const char *name);

/* Starts argv (argv[0] an absolute path), stdout and stderr appended to
 * log.  The pid, or -1. */
pid_t procs_spawn(const char *const argv[], const char *log);

/* Runs argv to its end; 0 when it exited with status 0, else -1. */
int procs_run(const char *const argv[], const char *log);

/* Starts fraud-broker with config and waits for its bootstrap file
 * (work/bootstrap, which config must name as broker.bootstrap_file). */
int procs_broker_start(struct procs *p, const char *config);

/* Starts the built daemon rel (e.g. "ingest/fraud-ingest") with config,
 * its log in the working folder. */
int procs_daemon_start(struct procs *p, const char *rel, const char *config);

/* The benchmark's own Kafka client: the settings of the daemons'
 * configuration, a producer, and a consumer of topics.scores from its
 * start (group: the benchmark's name), so no Score is missed however late
 * the group is joined. */
struct procs_client {
        struct fraud_settings settings;
        struct fraud_connect prod_conn, cons_conn;
        struct fraud_kafka_producer *producer;
        struct fraud_kafka_consumer *consumer;
};

/* Opens c from config.  0 or -1 (the reason printed). */
int procs_client_open(struct procs_client *c, const struct procs *p, const char *config);
void procs_client_close(struct procs_client *c);

/* SIGTERM to every daemon, last started first, then the broker; waits for
 * each.  Then removes the working folder unless p->keep. */
void procs_release(struct procs *p);

#endif
