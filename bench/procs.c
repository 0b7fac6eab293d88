/* procs.c: processes of a benchmark (bench/procs.h). */
#include "bench/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PROCS_BROKER_WAIT_MS 10000

void procs_path(char *out, const char *dir, const char *name) {
        if (snprintf(out, PROCS_PATH_MAX, "%s/%s", dir, name) >= PROCS_PATH_MAX) {
                fprintf(stderr, "bench: path too long: %s/%s\n", dir, name);
                exit(1);
        }
}

int procs_init(struct procs *p, const char *name) {
        char self[PROCS_PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char *slash;

        p->name = name;
        if (n < 0)
                goto fail;
        self[n] = '\0';
        for (int i = 0; i < 2; i++) {
                if (!(slash = strrchr(self, '/')))
                        goto fail;
                *slash = '\0';
        }
        memcpy(p->build, self, strlen(self) + 1);
        if (getenv("FRAUD_SOURCE_ROOT")) {
                if (snprintf(p->source, sizeof(p->source), "%s", getenv("FRAUD_SOURCE_ROOT")) >=
                    (int)sizeof(p->source))
                        goto fail;
        } else if (!getcwd(p->source, sizeof(p->source))) {
                goto fail;
        }
        if (snprintf(p->work, sizeof(p->work), "%s/fraud-%s-XXXXXX", tmp, name) >=
                    (int)sizeof(p->work) ||
            !mkdtemp(p->work))
                goto fail;
        return 0;
fail:
        fprintf(stderr, "%s: cannot set up: %s\n", name, strerror(errno));
        p->work[0] = '\0';
        return -1;
}

pid_t procs_spawn(const char *const argv[], const char *log) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                fprintf(stderr, "bench: cannot start %s: %s\n", argv[0], strerror(r));
                return -1;
        }
        return pid;
}

int procs_run(const char *const argv[], const char *log) {
        pid_t pid = procs_spawn(argv, log);
        int status;

        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench: %s failed (see %s)\n", argv[0], log);
                return -1;
        }
        return 0;
}

int procs_broker_start(struct procs *p, const char *config) {
        char exe[PROCS_PATH_MAX], log[PROCS_PATH_MAX], boot[PROCS_PATH_MAX];
        const char *const argv[] = {exe, "--config", config, NULL};

        procs_path(exe, p->build, "tools/fraud-broker");
        procs_path(log, p->work, "fraud-broker.log");
        procs_path(boot, p->work, "bootstrap");
        if ((p->broker = procs_spawn(argv, log)) < 0)
                return -1;
        for (int ms = 0; ms < PROCS_BROKER_WAIT_MS; ms += 100) {
                if (fraud_connect_bootstrap_read(boot, p->bootstrap, sizeof(p->bootstrap)) == 0)
                        return 0;
                usleep(100000);
        }
        fprintf(stderr, "%s: fraud-broker did not start (see %s)\n", p->name, log);
        return -1;
}

int procs_daemon_start(struct procs *p, const char *rel, const char *config) {
        char exe[PROCS_PATH_MAX], log[PROCS_PATH_MAX], name[128];
        const char *const argv[] = {exe, "--config", config, NULL};
        pid_t pid;

        if (p->n_daemons == PROCS_MAX)
                return -1;
        snprintf(name, sizeof(name), "%s.log", strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel);
        procs_path(exe, p->build, rel);
        procs_path(log, p->work, name);
        if ((pid = procs_spawn(argv, log)) < 0)
                return -1;
        p->daemons[p->n_daemons++] = pid;
        return 0;
}

static void procs_stop(pid_t pid) {
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
}

void procs_release(struct procs *p) {
        while (p->n_daemons > 0)
                procs_stop(p->daemons[--p->n_daemons]);
        procs_stop(p->broker);
        p->broker = 0;
        if (p->keep && p->work[0]) {
                printf("working folder kept: %s\n", p->work);
        } else if (p->work[0]) {
                const char *const rm[] = {"/bin/rm", "-rf", p->work, NULL};

                procs_run(rm, "/dev/null");
        }
        p->work[0] = '\0';
}

static int procs_from_start(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        (void)opaque;
        (void)topic;
        (void)partition;
        *offset = FRAUD_KAFKA_OFFSET_BEGINNING;
        return 0;
}

int procs_client_open(struct procs_client *c, const struct procs *p, const char *config) {
        const char *topics[1];
        struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_EARLIEST,
                .assign = procs_from_start,
        };
        char err[512];
        int r = fraud_settings_load(&c->settings, config, err, sizeof(err));

        topics[0] = c->settings.topics.scores;
        if (r == 0)
                r = fraud_connect_init(&c->prod_conn, &c->settings, NULL, false, err, sizeof(err));
        if (r == 0)
                r = fraud_connect_init(&c->cons_conn, &c->settings, p->name, true, err,
                                       sizeof(err));
        if (r == 0)
                r = fraud_kafka_producer_new(&c->prod_conn.options, &c->producer, err, sizeof(err));
        if (r == 0)
                r = fraud_kafka_consumer_new(&c->cons_conn.options, &spec, &c->consumer, err,
                                             sizeof(err));
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", p->name, err);
                return -1;
        }
        return 0;
}

void procs_client_close(struct procs_client *c) {
        fraud_kafka_consumer_free(c->consumer);
        fraud_kafka_producer_free(c->producer);
        fraud_settings_release(&c->settings);
        c->consumer = NULL;
        c->producer = NULL;
}
