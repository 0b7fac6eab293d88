/* bench_pipeline.c: the Kafka-connected decision path, end to end, at fixed
 * offered rates through the embedded broker.
 *
 *   bench_pipeline [--rates R1,R2,...] [--seconds N] [--warmup N]
 *                  [--model-dir DIR | --no-model] [--keep]
 *                  [--yaml 'kafka: {linger_ms: 1}'] [--beside CMD]
 *
 * Five processes, as in production on one machine: fraud-broker (the
 * embedded broker), fraud-ingest, fraud-velocity, fraud-scorer (the built
 * executables beside this one, started with a temporary configuration),
 * and this program, which is both the payments source and the downstream
 * reader of `scores`.  It publishes simulated payments as raw JSON on
 * tx.raw (the simulator of `fraudctl generate`, no chargebacks) at each
 * offered rate for --seconds (default 20), after --warmup seconds
 * (default 5) at the first rate that are not counted, and reads every
 * Score as it arrives.
 *
 * End-to-end latency of a payment = the instant its Score is read from
 * `scores` minus the instant its raw record was handed to the producer
 * (one monotonic clock, one process): every hop and every queue of the
 * pipeline, both producer lingers, the broker and the last fetch.  Per
 * rate it prints the payments sent and scored, the sustained throughput
 * (scores read per second of the measured window) and latency p50, p99,
 * p99.9 and max, exact (sorted), and the part from ingest to scorer from
 * the Score's own wall-clock stamps.
 *
 * --beside CMD measures each rate a second time while CMD runs (through
 * /bin/sh, stopped after the measurement if still running): e.g. a
 * training, to see what it costs the decision path on the same machine.
 *
 * Models: like ./run-demo.sh, the scorer gets a GBDT and an MLP trained on
 * 35 simulated days before the stream (fraudctl generate, features, train;
 * about a minute), so every stage of the cascade runs; --model-dir reuses
 * a model directory, --no-model runs rules only.  The rules are
 * deploy/config/rules.yaml.  Nothing is asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/procs.h"
#include "common/connect.h"
#include "common/settings.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/time.h"
#include "proto/score.pb-c.h"
#include "tools/generate.h"
#include "tools/sim.h"

#define PIPE_RATES_MAX   16
#define PIPE_DAEMONS     3
#define PIPE_START_MAX_S 90 /* for the first Score after the daemons start */
#define PIPE_DRAIN_MAX_S 30 /* for the last Scores of a rate */
#define PIPE_TABLE_BITS  23 /* payments remembered: 8 M slots */
#define PIPE_HASH_KEY    "000102030405060708090a0b0c0d0e0f"

static const char *const pipe_daemons[PIPE_DAEMONS] = {
        "ingest/fraud-ingest", "velocity/fraud-velocity", "scorer/fraud-scorer"};

/* One payment in flight: the hash of its id, when it was sent, which rate
 * phase sent it (0: warm-up or probe, not counted). */
struct pipe_slot {
        uint64_t id_hash;
        int64_t sent_ns;
        int64_t sent_us; /* wall clock, to split the latency with the Score's stamps */
        uint8_t phase;
        uint8_t scored;
};

struct pipe_phase {
        double rate;
        bool beside; /* measured while --beside ran */
        uint64_t sent, scored;
        int64_t first_sent_ns, last_scored_ns;
        double *latency_ms; /* scored entries */
        /* The same latency in three parts, from the Score's wall-clock
         * stamps: publish to ingest, ingest to scorer, scorer to reader. */
        double *part_ms[3];
        size_t n_parts;
};

struct pipe {
        struct procs procs;
        char config[PROCS_PATH_MAX];
        const char *model_dir;
        const char *extra_yaml; /* --yaml: more sections of the configuration */
        bool no_model;
        double rates[PIPE_RATES_MAX];
        size_t n_rates;
        unsigned seconds, warmup;
        struct pipe_slot *table;
        const char *beside; /* --beside: a command run beside a second measurement */
        size_t n_phases;    /* measured phases: a rate, or a rate twice with --beside */
        struct pipe_phase phases[2 * PIPE_RATES_MAX + 1];
        struct procs_client kafka;
        struct sim *sim;
        uint64_t unknown_scores, duplicate_scores;
};

static struct pipe_slot *pipe_slot(struct pipe *p, const char *id, bool insert) {
        uint64_t h = fraud_hash_fnv1a_str(id) | 1;
        size_t mask = ((size_t)1 << PIPE_TABLE_BITS) - 1;

        for (size_t i = h & mask;; i = (i + 1) & mask) {
                if (p->table[i].id_hash == h)
                        return &p->table[i];
                if (p->table[i].id_hash == 0) {
                        if (!insert)
                                return NULL;
                        p->table[i].id_hash = h;
                        return &p->table[i];
                }
        }
}

/* ---- processes ---- */

/* The first models, as ./run-demo.sh makes them. */
static int pipe_train(struct pipe *p, char *model) {
        char ctl[PROCS_PATH_MAX], hist[PROCS_PATH_MAX], tx[PROCS_PATH_MAX], cb[PROCS_PATH_MAX];
        char rows[PROCS_PATH_MAX], log[PROCS_PATH_MAX];

        procs_path(ctl, p->procs.build, "tools/fraudctl");
        procs_path(hist, p->procs.work, "history");
        procs_path(tx, hist, "transactions.csv");
        procs_path(cb, hist, "chargebacks.csv");
        procs_path(rows, hist, "rows.csv");
        procs_path(log, p->procs.work, "train.log");
        procs_path(model, p->procs.work, "model");
        printf("training the first models on 35 simulated days (about a minute)...\n");
        fflush(stdout);

        const char *const gen[] = {ctl,       "generate",    "--days", "35",     "--customers",
                                   "2000",    "--merchants", "300",    "--seed", "2",
                                   "--start", "2025-11-20",  "--out",  hist,     NULL};
        const char *const feat[] = {
                ctl, "features",       "--transactions", tx,      "--chargebacks",
                cb,  "--label-cutoff", "2026-01-01",     "--out", rows,
                NULL};
        const char *const train[] = {ctl,   "train",          "--input", rows, "--out",
                                     model, "--holdout-days", "7",       NULL};

        if (procs_run(gen, log) < 0 || procs_run(feat, log) < 0 || procs_run(train, log) < 0)
                return -1;
        return 0;
}

static int pipe_config(struct pipe *p, const char *model) {
        const char *w = p->procs.work;
        FILE *f;

        procs_path(p->config, w, "fraud.yaml");
        f = fopen(p->config, "w");
        if (!f)
                return -errno;
        fprintf(f,
                "broker:\n  bootstrap_file: \"%s/bootstrap\"\n"
                "ingest:\n  state_dir: \"%s/ingest-state\"\n  http_listen: \"127.0.0.1:0\"\n"
                "velocity:\n  state_dir: \"%s/velocity-state\"\n  http_listen: \"127.0.0.1:0\"\n"
                "scorer:\n  rules_file: \"%s/deploy/config/rules.yaml\"\n  model_dir: \"%s\"\n"
                "  http_listen: \"127.0.0.1:0\"\n",
                w, w, w, p->procs.source, model);
        if (p->extra_yaml)
                fprintf(f, "%s\n", p->extra_yaml);
        return fclose(f) == 0 ? 0 : -EIO;
}

static int pipe_start(struct pipe *p) {
        if (procs_broker_start(&p->procs, p->config) < 0)
                return -1;
        for (int i = 0; i < PIPE_DAEMONS; i++)
                if (procs_daemon_start(&p->procs, pipe_daemons[i], p->config) < 0)
                        return -1;
        return 0;
}

/* ---- Kafka ---- */

/* The next simulated payment, sent now as raw JSON. */
static int pipe_send(struct pipe *p, uint8_t phase) {
        static char line[FRAUD_GENERATE_LINE_MAX];
        struct sim_event ev;
        struct pipe_slot *slot;
        size_t len;
        int r;

        do {
                if ((r = sim_next(p->sim, &ev)) <= 0)
                        return r < 0 ? r : -ENODATA;
        } while (ev.kind != SIM_EVENT_TRANSACTION);
        len = generate_transaction_json(&ev.tx, false, line);
        const struct fraud_kafka_record rec = {
                .topic = p->kafka.settings.topics.raw,
                .partition = -1,
                .key = ev.tx.transaction_id,
                .key_size = strlen(ev.tx.transaction_id),
                .value = line,
                .value_size = len - 1, /* without the newline */
        };
        slot = pipe_slot(p, ev.tx.transaction_id, true);
        slot->sent_ns = fraud_time_mono_ns();
        slot->sent_us = fraud_time_now_us();
        slot->phase = phase;
        if ((r = fraud_kafka_producer_send(p->kafka.producer, &rec, NULL)) < 0)
                return r;
        p->phases[phase].sent++;
        if (!p->phases[phase].first_sent_ns)
                p->phases[phase].first_sent_ns = slot->sent_ns;
        return 0;
}

static void pipe_score(struct pipe *p, const struct fraud_kafka_message *m, int64_t now_ns,
                       int64_t now_us) {
        Fraud__Score *s = fraud__score__unpack(NULL, m->value_size, m->value);
        struct pipe_slot *slot = s ? pipe_slot(p, s->transaction_id, false) : NULL;

        if (!slot) {
                p->unknown_scores++;
        } else if (slot->scored) {
                p->duplicate_scores++;
        } else {
                struct pipe_phase *ph = &p->phases[slot->phase];

                slot->scored = 1;
                ph->latency_ms[ph->scored++] = (double)(now_ns - slot->sent_ns) / 1e6;
                ph->last_scored_ns = now_ns;
                if (s->ingest_time_us > 0 && s->scored_time_us >= s->ingest_time_us) {
                        ph->part_ms[0][ph->n_parts] =
                                (double)(s->ingest_time_us - slot->sent_us) / 1e3;
                        ph->part_ms[1][ph->n_parts] =
                                (double)(s->scored_time_us - s->ingest_time_us) / 1e3;
                        ph->part_ms[2][ph->n_parts++] = (double)(now_us - s->scored_time_us) / 1e3;
                }
        }
        if (s)
                fraud__score__free_unpacked(s, NULL);
        fraud_kafka_input_done(m->input);
}

static int pipe_poll(struct pipe *p, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(p->kafka.consumer, &msgs, timeout_ms);
        int64_t now = fraud_time_mono_ns(), now_us = fraud_time_now_us();

        if (n < 0 && n != -ENOBUFS) {
                fprintf(stderr, "bench_pipeline: %s\n",
                        fraud_kafka_consumer_error(p->kafka.consumer));
                return n;
        }
        for (int i = 0; i < n; i++)
                pipe_score(p, &msgs[i], now, now_us);
        fraud_kafka_producer_poll(p->kafka.producer, 0);
        return n > 0 ? n : 0;
}

/* Sleeps until the monotonic instant due_ns, 1 ms at most, so that Scores
 * are read at least once a millisecond. */
static void pipe_sleep_until(int64_t due_ns) {
        int64_t left = due_ns - fraud_time_mono_ns();
        struct timespec ts;

        if (left <= 0)
                return;
        if (left > 1000000)
                left = 1000000;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        nanosleep(&ts, NULL);
}

/* Sends at rate for seconds, as phase, reading Scores in between. */
static int pipe_offer(struct pipe *p, uint8_t phase, double rate, unsigned seconds) {
        int64_t start = fraud_time_mono_ns(), end = start + (int64_t)seconds * 1000000000;
        uint64_t sent = 0;
        int r;

        for (int64_t now = start; now < end; now = fraud_time_mono_ns()) {
                uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9) + 1;

                while (sent < due) {
                        if ((r = pipe_send(p, phase)) < 0)
                                return r;
                        sent++;
                }
                if ((r = pipe_poll(p, 0)) < 0)
                        return r;
                pipe_sleep_until(start + (int64_t)((double)sent * 1e9 / rate));
        }
        return 0;
}

/* Until every payment of phase has its Score, or max_s seconds. */
static void pipe_drain(struct pipe *p, uint8_t phase, unsigned max_s) {
        int64_t end = fraud_time_mono_ns() + (int64_t)max_s * 1000000000;

        while (p->phases[phase].scored < p->phases[phase].sent && fraud_time_mono_ns() < end)
                if (pipe_poll(p, 5) < 0)
                        return;
}

/* One payment at a time until the first Score: the daemons have joined. */
static int pipe_wait_ready(struct pipe *p) {
        int64_t start = fraud_time_mono_ns(), end = start + INT64_C(1000000000) * PIPE_START_MAX_S;

        while (p->phases[0].scored == 0 && fraud_time_mono_ns() < end) {
                if (pipe_send(p, 0) < 0)
                        return -1;
                for (int i = 0; i < 20 && p->phases[0].scored == 0; i++)
                        if (pipe_poll(p, 10) < 0)
                                return -1;
        }
        if (p->phases[0].scored == 0) {
                fprintf(stderr, "bench_pipeline: no Score after %d s (logs in %s)\n",
                        PIPE_START_MAX_S, p->procs.work);
                return -1;
        }
        printf("pipeline ready after %.1f s\n", (double)(fraud_time_mono_ns() - start) / 1e9);
        return 0;
}

/* ---- report ---- */

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double quantile(const double *v, size_t n, double q) {
        size_t i = (size_t)(q * (double)n);

        return n ? v[i < n ? i : n - 1] : 0;
}

static void pipe_report(struct pipe_phase *ph) {
        double window = (double)(ph->last_scored_ns - ph->first_sent_ns) / 1e9;

        static const char *const parts[3] = {"publish->ingest", "ingest->scorer", "scorer->read"};

        qsort(ph->latency_ms, ph->scored, sizeof(double), cmp_double);
        printf("%7.0f/s%s  sent %7" PRIu64 "  scored %7" PRIu64 "  sustained %7.0f/s  "
               "p50 %6.2f  p99 %6.2f  p99.9 %6.2f  max %7.2f ms\n",
               ph->rate, ph->beside ? " beside" : "", ph->sent, ph->scored,
               window > 0 ? (double)ph->scored / window : 0,
               quantile(ph->latency_ms, ph->scored, 0.5),
               quantile(ph->latency_ms, ph->scored, 0.99),
               quantile(ph->latency_ms, ph->scored, 0.999),
               ph->scored ? ph->latency_ms[ph->scored - 1] : 0);
        for (int k = 0; k < 3; k++) {
                qsort(ph->part_ms[k], ph->n_parts, sizeof(double), cmp_double);
                printf("           %-16s p50 %6.2f  p99 %6.2f ms\n", parts[k],
                       quantile(ph->part_ms[k], ph->n_parts, 0.5),
                       quantile(ph->part_ms[k], ph->n_parts, 0.99));
        }
        fflush(stdout);
}

/* ---- setup ---- */

static int pipe_rates_parse(struct pipe *p, const char *s) {
        p->n_rates = 0;
        while (*s) {
                char *end;
                double v = strtod(s, &end);

                if (end == s || v < 1 || v > 1e6 || p->n_rates == PIPE_RATES_MAX ||
                    (*end && *end != ','))
                        return -EINVAL;
                p->rates[p->n_rates++] = v;
                s = *end ? end + 1 : end;
        }
        return p->n_rates ? 0 : -EINVAL;
}

static int pipe_args(struct pipe *p, int argc, char **argv) {
        static const struct option opts[] = {
                {"rates", required_argument, NULL, 'r'},
                {"seconds", required_argument, NULL, 's'},
                {"warmup", required_argument, NULL, 'w'},
                {"model-dir", required_argument, NULL, 'm'},
                {"no-model", no_argument, NULL, 'n'},
                {"keep", no_argument, NULL, 'k'},
                {"yaml", required_argument, NULL, 'K'},
                {"beside", required_argument, NULL, 'B'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;

        p->rates[0] = 2000;
        p->n_rates = 1;
        p->seconds = 20;
        p->warmup = 5;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'r' && pipe_rates_parse(p, optarg) < 0) {
                        fprintf(stderr,
                                "bench_pipeline: --rates: comma-separated rates in 1..1e6, "
                                "at most %d\n",
                                PIPE_RATES_MAX);
                        return -EINVAL;
                } else if (c == 's' || c == 'w') {
                        long v = strtol(optarg, NULL, 10);

                        if (v < (c == 's') || v > 3600) {
                                fprintf(stderr, "bench_pipeline: bad --%s\n",
                                        c == 's' ? "seconds" : "warmup");
                                return -EINVAL;
                        }
                        *(c == 's' ? &p->seconds : &p->warmup) = (unsigned)v;
                } else if (c == 'm') {
                        p->model_dir = optarg;
                } else if (c == 'B') {
                        p->beside = optarg;
                } else if (c == 'K') {
                        p->extra_yaml = optarg;
                } else if (c == 'n') {
                        p->no_model = true;
                } else if (c == 'k') {
                        p->procs.keep = true;
                } else if (c == 'h') {
                        printf("usage: bench_pipeline [--rates R1,R2,...] [--seconds N] "
                               "[--warmup N] [--model-dir DIR | --no-model] [--keep]\n"
                               "                      [--yaml TEXT]  (more sections of the "
                               "daemons' configuration, e.g. kafka or topics)\n"
                               "                      [--beside CMD] (each rate measured again "
                               "while CMD runs, e.g. a training)\n");
                        exit(0);
                } else if (c == '?') {
                        return -EINVAL;
                }
        }
        return 0;
}

static int pipe_alloc(struct pipe *p) {
        size_t per_phase = 0;

        p->table = calloc((size_t)1 << PIPE_TABLE_BITS, sizeof(*p->table));
        if (!p->table)
                return -ENOMEM;
        p->n_phases = p->n_rates * (p->beside ? 2 : 1);
        for (size_t i = 0; i <= p->n_phases; i++) {
                double rate = i ? p->rates[(i - 1) / (p->beside ? 2 : 1)] : p->rates[0];
                unsigned secs = i ? p->seconds : p->warmup + PIPE_START_MAX_S;

                per_phase = (size_t)(rate * secs * 1.1) + 1024;
                if (i == 0)
                        per_phase += (size_t)(rate * 10); /* probes */
                p->phases[i].rate = rate;
                p->phases[i].beside = p->beside && i > 0 && i % 2 == 0;
                p->phases[i].latency_ms = calloc(per_phase, sizeof(double));
                if (!p->phases[i].latency_ms)
                        return -ENOMEM;
                for (int k = 0; k < 3; k++)
                        if (!(p->phases[i].part_ms[k] = calloc(per_phase, sizeof(double))))
                                return -ENOMEM;
        }
        return 0;
}

/* The --beside command, through the shell, its output to beside.log. */
static pid_t pipe_beside_start(struct pipe *p) {
        char log[PROCS_PATH_MAX], cmd[4096];
        const char *const argv[] = {"/bin/sh", "-c", cmd, NULL};

        procs_path(log, p->procs.work, "beside.log");
        if (snprintf(cmd, sizeof(cmd), "exec %s", p->beside) >= (int)sizeof(cmd))
                return -1;
        return procs_spawn(argv, log);
}

/* Stops the --beside command if it still runs, and says how it ended. */
static void pipe_beside_stop(pid_t pid) {
        int status;

        if (pid <= 0)
                return;
        if (waitpid(pid, &status, WNOHANG) == 0) {
                kill(pid, SIGTERM);
                waitpid(pid, &status, 0);
                printf("           (the command beside was still running; stopped)\n");
        } else {
                printf("           (the command beside ended with status %d)\n",
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
}

static int pipe_measure(struct pipe *p) {
        struct sim_config sc;

        sim_config_default(&sc);
        sc.days = FRAUD_SIM_DAYS_MAX;
        if (sim_new(&sc, &p->sim) < 0 || procs_client_open(&p->kafka, &p->procs, p->config) < 0 ||
            pipe_wait_ready(p) < 0)
                return -1;
        if (p->warmup && pipe_offer(p, 0, p->rates[0], p->warmup) < 0)
                return -1;
        pipe_drain(p, 0, PIPE_DRAIN_MAX_S);
        printf("offered    sent / scored, sustained = scores per second of the window, "
               "latency = publish to Score read\n");
        for (size_t i = 1; i <= p->n_phases; i++) {
                struct pipe_phase *ph = &p->phases[i];
                pid_t beside = ph->beside ? pipe_beside_start(p) : 0;
                int r;

                if (beside < 0)
                        return -1;
                r = pipe_offer(p, (uint8_t)i, ph->rate, p->seconds);
                pipe_drain(p, (uint8_t)i, PIPE_DRAIN_MAX_S);
                if (r == 0)
                        pipe_report(ph);
                pipe_beside_stop(beside);
                if (r < 0)
                        return -1;
        }
        if (p->unknown_scores || p->duplicate_scores)
                printf("note: %" PRIu64 " Scores of unknown ids, %" PRIu64 " duplicates\n",
                       p->unknown_scores, p->duplicate_scores);
        return 0;
}

static void pipe_release(struct pipe *p) {
        procs_client_close(&p->kafka);
        procs_release(&p->procs);
        sim_free(p->sim);
        for (size_t i = 0; i <= 2 * PIPE_RATES_MAX; i++) {
                free(p->phases[i].latency_ms);
                for (int k = 0; k < 3; k++)
                        free(p->phases[i].part_ms[k]);
        }
        free(p->table);
}

int main(int argc, char **argv) {
        static struct pipe p;
        char model[PROCS_PATH_MAX] = "";
        int status = 1;

        if (pipe_args(&p, argc, argv) < 0)
                return 64;
        setenv("FRAUD_INGEST_CARD_HASH_KEY", PIPE_HASH_KEY, 1); /* fraudctl features too */
        if (procs_init(&p.procs, "bench_pipeline") < 0)
                goto out;
        if (pipe_alloc(&p) < 0) {
                fprintf(stderr, "bench_pipeline: out of memory\n");
                goto out;
        }
        if (p.model_dir)
                snprintf(model, sizeof(model), "%s", p.model_dir);
        else if (!p.no_model && pipe_train(&p, model) < 0)
                goto out;
        if (pipe_config(&p, model) < 0 || pipe_start(&p) < 0)
                goto out;
        printf("broker %s; ingest, velocity, scorer started (%s)\n", p.procs.bootstrap,
               model[0] ? "GBDT + MLP + rules" : "rules only");
        status = pipe_measure(&p) < 0;
out:
        pipe_release(&p);
        return status;
}
