/* bench_loop.c: the closed loop over simulated months, through the
 * Kafka-connected daemons: decisions, late labels, daily retraining, and
 * the scorer taking up each promoted model.
 *
 *   bench_loop [--days N] [--customers N] [--merchants N] [--seed N]
 *              [--warmup-days N] [--rate N] [--yaml TEXT] [--keep]
 *
 * Seven processes: fraud-broker, fraud-ingest, fraud-velocity,
 * fraud-scorer (no model at first: rules only, degraded), fraud-labeler,
 * fraud-trainer (a fresh registry), and this program, which publishes the
 * simulator's stream (`fraudctl generate`'s: transactions as raw JSON on
 * tx.raw, chargebacks as protobuf on chargebacks, in event-time order, at
 * most --rate messages per second) and reads every Score.
 *
 * A barrier at each event-time day boundary keeps the loop where it would
 * be in live operation: before the first event of day d it waits until
 * every transaction published so far has its Score and, once the trainer's
 * warm-up is over, until the registry holds a version trained at the
 * cutoff of day d - 1's start (labels known by then; the labels of day
 * d - 1 itself are complete only once day d's events move the watermark).
 * A barrier that waits longer than --barrier-seconds (default 300; a day
 * the trainer skips leaves no version) is reported and passed.
 *
 * Report: every version in the registry (label cutoff, status and reason,
 * holdout metrics), then per event-time week the live decisions against
 * the simulator's truth (which never reaches the pipeline): transactions,
 * frauds, the GBDT version that served most of them, degraded share,
 * average precision of the served probability, recall and false-positive
 * rate of block.  Nothing is asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/procs.h"
#include "common/connect.h"
#include "common/modelfile.h"
#include "common/settings.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/time.h"
#include "proto/score.pb-c.h"
#include "tools/generate.h"
#include "tools/sim.h"
#include "trainer/evaluate.h"

#define LOOP_TABLE_BITS    23 /* transactions remembered: 8 M slots */
#define LOOP_VERSIONS_MAX  512
#define LOOP_DAYS_MAX      400
#define LOOP_DAY_US        INT64_C(86400000000)
#define LOOP_SCORED_WAIT_S 120

static const char *const loop_daemons[] = {"ingest/fraud-ingest", "velocity/fraud-velocity",
                                           "scorer/fraud-scorer", "labeler/fraud-labeler",
                                           "trainer/fraud-trainer"};

/* One published transaction and what the pipeline decided. */
struct loop_tx {
        uint64_t id_hash; /* 0: empty slot */
        uint16_t day;
        uint8_t is_fraud, scored, decision, degraded;
        uint16_t version; /* index in versions + 1; 0: none */
        float probability;
};

struct loop {
        struct procs procs;
        char config[PROCS_PATH_MAX], registry[PROCS_PATH_MAX];
        struct sim_config sim_cfg;
        unsigned warmup_days, barrier_s;
        double rate;
        const char *extra_yaml;
        struct loop_tx *table;
        char versions[LOOP_VERSIONS_MAX][FRAUD_MODELFILE_VERSION_MAX];
        size_t n_versions;
        uint64_t published_tx, scored, duplicates, unknown;
        struct procs_client kafka;
        struct sim *sim;
        uint8_t buf[FRAUD_GENERATE_LINE_MAX];
};

static struct loop_tx *loop_slot(struct loop *l, const char *id, bool insert) {
        uint64_t h = fraud_hash_fnv1a_str(id) | 1;
        size_t mask = ((size_t)1 << LOOP_TABLE_BITS) - 1;

        for (size_t i = h & mask;; i = (i + 1) & mask) {
                if (l->table[i].id_hash == h)
                        return &l->table[i];
                if (l->table[i].id_hash == 0) {
                        if (!insert)
                                return NULL;
                        l->table[i].id_hash = h;
                        return &l->table[i];
                }
        }
}

static uint16_t loop_version(struct loop *l, const char *v) {
        if (!v || !v[0])
                return 0;
        for (size_t i = 0; i < l->n_versions; i++)
                if (strcmp(l->versions[i], v) == 0)
                        return (uint16_t)(i + 1);
        if (l->n_versions == LOOP_VERSIONS_MAX)
                return 0;
        snprintf(l->versions[l->n_versions++], FRAUD_MODELFILE_VERSION_MAX, "%s", v);
        return (uint16_t)l->n_versions;
}

/* ---- configuration and processes ---- */

static int loop_config(struct loop *l) {
        const char *w = l->procs.work;
        FILE *f;

        procs_path(l->config, w, "fraud.yaml");
        procs_path(l->registry, w, "registry");
        f = fopen(l->config, "w");
        if (!f)
                return -errno;
        fprintf(f,
                "kafka:\n  session_timeout_ms: 6000\n"
                "topics:\n  partitions: 2\n"
                "broker:\n  bootstrap_file: \"%s/bootstrap\"\n"
                "ingest:\n  state_dir: \"%s/ingest\"\n  http_listen: \"127.0.0.1:0\"\n"
                "velocity:\n  state_dir: \"%s/velocity\"\n  http_listen: \"127.0.0.1:0\"\n"
                "scorer:\n  rules_file: \"%s/deploy/config/rules.yaml\"\n"
                "  http_listen: \"127.0.0.1:0\"\n"
                "labeler:\n  state_dir: \"%s/labeler\"\n  http_listen: \"127.0.0.1:0\"\n"
                "trainer:\n  state_dir: \"%s/trainer\"\n  registry_dir: \"%s\"\n"
                "  http_listen: \"127.0.0.1:0\"\n"
                "  warmup_days: %u\n  threads: 1\n  gbdt_rounds: 80\n  gbdt_max_depth: 5\n"
                "  mlp_epochs: 6\n",
                w, w, w, l->procs.source, w, w, l->registry, l->warmup_days);
        if (l->extra_yaml)
                fprintf(f, "%s\n", l->extra_yaml);
        return fclose(f) == 0 ? 0 : -EIO;
}

static int loop_start(struct loop *l) {
        if (procs_broker_start(&l->procs, l->config) < 0)
                return -1;
        for (size_t i = 0; i < sizeof(loop_daemons) / sizeof(*loop_daemons); i++)
                if (procs_daemon_start(&l->procs, loop_daemons[i], l->config) < 0)
                        return -1;
        return 0;
}

/* ---- Scores ---- */

static void loop_score(struct loop *l, const struct fraud_kafka_message *m) {
        Fraud__Score *s = fraud__score__unpack(NULL, m->value_size, m->value);
        struct loop_tx *t = s ? loop_slot(l, s->transaction_id, false) : NULL;

        if (!t) {
                l->unknown++;
        } else if (t->scored) {
                l->duplicates++;
        } else {
                t->scored = 1;
                t->decision = (uint8_t)s->decision;
                t->degraded = s->degraded;
                t->probability = (float)s->probability;
                t->version = loop_version(l, s->gbdt_version);
                l->scored++;
        }
        if (s)
                fraud__score__free_unpacked(s, NULL);
        fraud_kafka_input_done(m->input);
}

static int loop_poll(struct loop *l, int timeout_ms) {
        const struct fraud_kafka_message *msgs;
        int n = fraud_kafka_consumer_poll_batch(l->kafka.consumer, &msgs, timeout_ms);

        if (n < 0 && n != -ENOBUFS) {
                fprintf(stderr, "bench_loop: %s\n", fraud_kafka_consumer_error(l->kafka.consumer));
                return n;
        }
        for (int i = 0; i < n; i++)
                loop_score(l, &msgs[i]);
        fraud_kafka_producer_poll(l->kafka.producer, 0);
        return 0;
}

/* ---- the barrier ---- */

/* The latest label cutoff of any version in the registry (0: none). */
static int64_t loop_latest_cutoff(const struct loop *l) {
        DIR *d = opendir(l->registry);
        struct dirent *e;
        int64_t latest = 0;

        if (!d)
                return 0;
        while ((e = readdir(d))) {
                struct fraud_modelfile *m;
                char dir[PROCS_PATH_MAX], err[256];

                if (e->d_name[0] == '.' || strcmp(e->d_name, "CHAMPION") == 0)
                        continue;
                m = malloc(sizeof(*m));
                procs_path(dir, l->registry, e->d_name);
                if (m && fraud_modelfile_read(m, dir, err, sizeof(err)) == 0 &&
                    m->label_cutoff_us > latest)
                        latest = m->label_cutoff_us;
                free(m);
        }
        closedir(d);
        return latest;
}

/* Whether the trainer has dealt with the cutoff at want: a version trained
 * at it or later is in the registry, or its log names the day's version
 * ("train-YYYYMMDD" of the day before the cutoff), which it also does for a
 * day it skipped (no frauds yet, say) and registered nothing. */
static bool loop_trained(const struct loop *l, int64_t want) {
        char log[PROCS_PATH_MAX], name[32], line[1024];
        time_t t = (time_t)((want - LOOP_DAY_US) / 1000000);
        struct tm tm;
        bool found = false;
        FILE *f;

        if (loop_latest_cutoff(l) >= want)
                return true;
        gmtime_r(&t, &tm);
        strftime(name, sizeof(name), "train-%Y%m%d", &tm);
        procs_path(log, l->procs.work, "fraud-trainer.log");
        if (!(f = fopen(log, "r")))
                return false;
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, name) != NULL;
        fclose(f);
        return found;
}

/* Before day d (0-based) starts. */
static void loop_barrier(struct loop *l, unsigned d) {
        int64_t start = fraud_time_mono_ns(), end = start + (int64_t)l->barrier_s * 1000000000;
        int64_t want = l->sim_cfg.start_ms * 1000 + (int64_t)(d - 1) * LOOP_DAY_US;
        /* The trainer's warm-up counts from its first label, known one
         * maturity period after the first payment (trainer/schedule.h). */
        int64_t first = l->sim_cfg.start_ms * 1000 +
                        (int64_t)(l->warmup_days + l->kafka.settings.labeler.maturity_days + 1) *
                                LOOP_DAY_US;
        bool train = d >= 1 && want >= first;

        while (fraud_time_mono_ns() < end) {
                if (l->scored >= l->published_tx && (!train || loop_trained(l, want)))
                        return;
                if (loop_poll(l, 100) < 0)
                        return;
        }
        printf("day %u: barrier passed after %u s (scored %" PRIu64 " of %" PRIu64
               ", latest cutoff %s)\n",
               d, l->barrier_s, l->scored, l->published_tx,
               loop_trained(l, want) ? "in time" : "missing");
}

/* ---- publishing ---- */

static int loop_send(struct loop *l, const struct sim_event *ev) {
        struct fraud_kafka_record rec = {.partition = -1, .value = l->buf};

        if (ev->kind == SIM_EVENT_TRANSACTION) {
                struct loop_tx *t = loop_slot(l, ev->tx.transaction_id, true);

                t->day = (uint16_t)((ev->tx.time_ms - l->sim_cfg.start_ms) / 86400000);
                t->is_fraud = ev->tx.is_fraud;
                rec.topic = l->kafka.settings.topics.raw;
                rec.key = ev->tx.transaction_id;
                rec.key_size = strlen(ev->tx.transaction_id);
                rec.value_size = generate_transaction_json(&ev->tx, false, (char *)l->buf) - 1;
                l->published_tx++;
        } else {
                rec.topic = l->kafka.settings.topics.chargebacks;
                rec.key = ev->cb.transaction_id;
                rec.key_size = strlen(ev->cb.transaction_id);
                rec.value_size = generate_chargeback_protobuf(&ev->cb, l->buf);
        }
        return fraud_kafka_producer_send(l->kafka.producer, &rec, NULL);
}

static int64_t loop_event_ms(const struct sim_event *ev) {
        return ev->kind == SIM_EVENT_TRANSACTION ? ev->tx.time_ms : ev->cb.time_ms;
}

static int loop_publish(struct loop *l) {
        int64_t t0 = fraud_time_mono_ns(), wall = t0;
        unsigned day = 0;
        uint64_t sent = 0;
        struct sim_event ev;
        int r;

        while ((r = sim_next(l->sim, &ev)) > 0) {
                unsigned d = (unsigned)((loop_event_ms(&ev) - l->sim_cfg.start_ms) / 86400000);

                if (d >= l->sim_cfg.days) /* the chargebacks still to come after the span */
                        break;
                if (d > day) {
                        fraud_kafka_producer_flush(l->kafka.producer, 30000);
                        loop_barrier(l, d);
                        day = d;
                        if (d % 10 == 0) {
                                printf("day %3u: %" PRIu64 " transactions scored, %zu model "
                                       "versions seen, %.0f s\n",
                                       d, l->scored, l->n_versions,
                                       (double)(fraud_time_mono_ns() - wall) / 1e9);
                                fflush(stdout);
                        }
                        t0 = fraud_time_mono_ns();
                        sent = 0;
                }
                if ((r = loop_send(l, &ev)) < 0)
                        return r;
                sent++;
                while ((double)(fraud_time_mono_ns() - t0) < (double)sent * 1e9 / l->rate)
                        if ((r = loop_poll(l, 1)) < 0)
                                return r;
                if ((sent & 63) == 0 && (r = loop_poll(l, 0)) < 0)
                        return r;
        }
        fraud_kafka_producer_flush(l->kafka.producer, 30000);
        loop_barrier(l, day + 1);
        return r;
}

/* ---- report ---- */

static const char *loop_metric(const struct fraud_modelfile *m, const char *name, char *buf,
                               size_t size) {
        for (size_t i = 0; i < m->n_metrics; i++)
                if (strcmp(m->metrics[i].name, name) == 0) {
                        snprintf(buf, size, "%.3f", m->metrics[i].value);
                        return buf;
                }
        return "-";
}

static int loop_cmp_cutoff(const void *a, const void *b) {
        const struct fraud_modelfile *x = *(const struct fraud_modelfile *const *)a;
        const struct fraud_modelfile *y = *(const struct fraud_modelfile *const *)b;

        return x->label_cutoff_us < y->label_cutoff_us ? -1
                                                       : x->label_cutoff_us > y->label_cutoff_us;
}

static void loop_report_versions(const struct loop *l) {
        static struct fraud_modelfile *ms[LOOP_DAYS_MAX];
        DIR *d = opendir(l->registry);
        struct dirent *e;
        size_t n = 0, promoted = 0;

        if (!d) {
                printf("no registry: the trainer trained nothing\n");
                return;
        }
        while ((e = readdir(d)) && n < LOOP_DAYS_MAX) {
                char dir[PROCS_PATH_MAX], err[256];

                if (e->d_name[0] == '.' || strcmp(e->d_name, "CHAMPION") == 0)
                        continue;
                procs_path(dir, l->registry, e->d_name);
                ms[n] = malloc(sizeof(*ms[n]));
                if (ms[n] && fraud_modelfile_read(ms[n], dir, err, sizeof(err)) == 0)
                        n++;
                else
                        free(ms[n]);
        }
        closedir(d);
        qsort(ms, n, sizeof(*ms), loop_cmp_cutoff);
        printf("\nmodel versions (registry), by label cutoff:\n");
        printf("%-24s %-10s %-9s %6s %6s  %s\n", "version", "cutoff", "status", "AP", "AUC",
               "reason");
        for (size_t i = 0; i < n; i++) {
                char cutoff[32], ap[16], auc[16];
                time_t t = (time_t)(ms[i]->label_cutoff_us / 1000000);
                struct tm tm;

                gmtime_r(&t, &tm);
                strftime(cutoff, sizeof(cutoff), "%Y-%m-%d", &tm);
                promoted += strcmp(ms[i]->status, "rejected") != 0;
                printf("%-24s %-10s %-9s %6s %6s  %.70s\n", ms[i]->version, cutoff, ms[i]->status,
                       loop_metric(ms[i], "cascade_average_precision", ap, sizeof(ap)),
                       loop_metric(ms[i], "cascade_auc_roc", auc, sizeof(auc)),
                       ms[i]->status_reason);
                free(ms[i]);
        }
        printf("%zu versions trained, %zu promoted at some point, %zu rejected\n", n, promoted,
               n - promoted);
}

/* The live decisions of days [from, to) against the truth. */
static void loop_report_span(const struct loop *l, unsigned from, unsigned to, double *p,
                             uint8_t *y) {
        size_t n = 0, frauds = 0, degraded = 0, blocked_fraud = 0, blocked_legit = 0;
        size_t by_version[LOOP_VERSIONS_MAX + 1] = {0}, best = 0;
        double ap = 0;

        for (size_t i = 0; i < ((size_t)1 << LOOP_TABLE_BITS); i++) {
                const struct loop_tx *t = &l->table[i];

                if (!t->id_hash || !t->scored || t->day < from || t->day >= to)
                        continue;
                p[n] = t->probability;
                y[n] = t->is_fraud;
                frauds += t->is_fraud;
                degraded += t->degraded;
                by_version[t->version]++;
                if (t->decision == FRAUD__DECISION__DECISION_BLOCK)
                        *(t->is_fraud ? &blocked_fraud : &blocked_legit) += 1;
                n++;
        }
        if (n == 0)
                return;
        for (size_t v = 0; v <= l->n_versions; v++)
                if (by_version[v] > by_version[best])
                        best = v;
        if (frauds > 0 && frauds < n)
                evaluate_average_precision(p, y, n, &ap);
        printf("days %3u-%3u %7zu %6zu  %-24s %5.1f%%  %6.3f  %6.3f  %7.4f\n", from, to - 1, n,
               frauds, best ? l->versions[best - 1] : "(none: rules only)",
               100.0 * (double)degraded / (double)n, ap,
               frauds ? (double)blocked_fraud / (double)frauds : 0,
               (double)blocked_legit / (double)(n - frauds > 0 ? n - frauds : 1));
}

static void loop_report(const struct loop *l) {
        size_t cap = (size_t)l->published_tx + 1;
        double *p = malloc(cap * sizeof(*p));
        uint8_t *y = malloc(cap);

        loop_report_versions(l);
        printf("\nlive decisions by event-time week (truth from the simulator):\n");
        printf("%-12s %7s %6s  %-24s %6s  %6s  %6s  %7s\n", "days", "tx", "fraud",
               "GBDT serving most", "degr.", "AP", "recall", "FPR");
        for (unsigned d = 0; p && y && d < l->sim_cfg.days; d += 7)
                loop_report_span(l, d, d + 7 < l->sim_cfg.days ? d + 7 : l->sim_cfg.days, p, y);
        printf("scored %" PRIu64 " of %" PRIu64 " transactions; %" PRIu64
               " duplicate Scores, %" PRIu64 " of unknown ids\n",
               l->scored, l->published_tx, l->duplicates, l->unknown);
        free(p);
        free(y);
}

/* ---- setup ---- */

static int loop_args(struct loop *l, int argc, char **argv) {
        static const struct option opts[] = {
                {"days", required_argument, NULL, 'd'},
                {"customers", required_argument, NULL, 'c'},
                {"merchants", required_argument, NULL, 'm'},
                {"seed", required_argument, NULL, 's'},
                {"warmup-days", required_argument, NULL, 'w'},
                {"rate", required_argument, NULL, 'r'},
                {"barrier-seconds", required_argument, NULL, 'b'},
                {"yaml", required_argument, NULL, 'y'},
                {"keep", no_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        const char *why;
        int c;

        sim_config_default(&l->sim_cfg);
        l->sim_cfg.days = 120;
        l->sim_cfg.customers = 800;
        l->sim_cfg.merchants = 150;
        l->sim_cfg.seed = 11;
        l->warmup_days = 28;
        l->rate = 3000;
        l->barrier_s = 300;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                unsigned long v = optarg ? strtoul(optarg, NULL, 10) : 0;

                switch (c) {
                case 'd':
                        l->sim_cfg.days = (uint32_t)v;
                        break;
                case 'c':
                        l->sim_cfg.customers = (uint32_t)v;
                        break;
                case 'm':
                        l->sim_cfg.merchants = (uint32_t)v;
                        break;
                case 's':
                        l->sim_cfg.seed = v;
                        break;
                case 'w':
                        l->warmup_days = (unsigned)v;
                        break;
                case 'r':
                        l->rate = (double)v;
                        break;
                case 'b':
                        l->barrier_s = (unsigned)v;
                        break;
                case 'y':
                        l->extra_yaml = optarg;
                        break;
                case 'k':
                        l->procs.keep = true;
                        break;
                case 'h':
                        printf("usage: bench_loop [--days N] [--customers N] [--merchants N] "
                               "[--seed N] [--warmup-days N]\n"
                               "                  [--rate N] [--barrier-seconds N] [--yaml TEXT] "
                               "[--keep]\n");
                        exit(0);
                default:
                        return -EINVAL;
                }
        }
        if (sim_config_check(&l->sim_cfg, &why) < 0 || l->sim_cfg.days > LOOP_DAYS_MAX ||
            l->rate < 1) {
                fprintf(stderr, "bench_loop: bad options (%s)\n",
                        sim_config_check(&l->sim_cfg, &why) < 0 ? why : "days or rate");
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char **argv) {
        static struct loop l;
        int status = 1;

        if (loop_args(&l, argc, argv) < 0)
                return 64;
        setenv("FRAUD_INGEST_CARD_HASH_KEY", "000102030405060708090a0b0c0d0e0f", 1);
        l.table = calloc((size_t)1 << LOOP_TABLE_BITS, sizeof(*l.table));
        if (!l.table || procs_init(&l.procs, "bench_loop") < 0)
                goto out;
        if (loop_config(&l) < 0 || loop_start(&l) < 0 ||
            procs_client_open(&l.kafka, &l.procs, l.config) < 0 || sim_new(&l.sim_cfg, &l.sim) < 0)
                goto out;
        printf("%u days, %u customers, warm-up %u days; broker %s; logs in %s\n", l.sim_cfg.days,
               l.sim_cfg.customers, l.warmup_days, l.procs.bootstrap, l.procs.work);
        fflush(stdout);
        if (loop_publish(&l) < 0)
                goto out;
        loop_report(&l);
        status = 0;
out:
        procs_client_close(&l.kafka);
        procs_release(&l.procs);
        sim_free(l.sim);
        free(l.table);
        return status;
}
