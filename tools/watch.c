/* watch.c: see watch.h.
 *
 * Design.  One loop: poll a batch, decode each Score, fold it into the
 * totals and the current second's tallies, mark the input done (nothing is
 * produced, so its offset is complete at once), and print when a wall-clock
 * second has passed.  Duplicates are recognised by a 64-bit hash of the
 * transaction id in an open-addressing set of fixed capacity
 * (--max-transactions); once the set is full, further ids are counted as
 * unique without being remembered, and the summary says so.
 */
#include "tools/watch.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/connect.h"
#include "lib/hash.h"
#include "lib/kafka.h"
#include "lib/metrics.h"
#include "lib/time.h"
#include "proto/score.pb-c.h"

#define WATCH_SET_DEFAULT (1u << 22) /* transaction ids remembered for duplicates */
#define WATCH_SET_MAX     (1u << 28)
#define WATCH_POLL_MS     100

static volatile sig_atomic_t watch_stop;

static void watch_on_signal(int sig) {
        (void)sig;
        watch_stop = 1;
}

/* Counts of one period (a second, or the whole run). */
struct tally {
        uint64_t scores;
        uint64_t decision[4]; /* by Fraud__Decision */
        uint64_t stage[4];    /* by Fraud__Stage */
        uint64_t degraded;
        struct fraud_histogram latency; /* seconds, ingest to score */
};

struct watch {
        struct tally second, total;
        uint64_t duplicates, undecodable, unremembered;
        uint64_t *set; /* id hashes, 0 = empty */
        size_t set_cap, set_used;
        bool from_beginning;
        long seconds;
        uint64_t expect;
};

static void tally_init(struct tally *t) {
        memset(t, 0, sizeof(*t));
        t->latency.nbuckets = fraud_metrics_latency_buckets_count;
        memcpy(t->latency.upper, fraud_metrics_latency_buckets,
               sizeof(double) * fraud_metrics_latency_buckets_count);
}

/* true when id was seen before; remembers it otherwise (if there is room). */
static bool watch_seen(struct watch *w, const char *id) {
        uint64_t h = fraud_hash_fnv1a_str(id);
        size_t i;

        if (h == 0)
                h = 1; /* 0 marks an empty slot */
        i = (size_t)h & (w->set_cap - 1);

        while (w->set[i] != 0) {
                if (w->set[i] == h)
                        return true;
                i = (i + 1) & (w->set_cap - 1);
        }
        if (w->set_used * 4 >= w->set_cap * 3) {
                w->unremembered++;
                return false;
        }
        w->set[i] = h;
        w->set_used++;
        return false;
}

static void tally_add(struct tally *t, const Fraud__Score *s, double latency_sec) {
        t->scores++;
        t->decision[(unsigned)s->decision & 3]++;
        t->stage[(unsigned)s->stage & 3]++;
        t->degraded += s->degraded;
        if (latency_sec >= 0)
                fraud_histogram_observe(&t->latency, latency_sec);
}

static double pct(uint64_t part, uint64_t whole) {
        return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void tally_print(const struct tally *t, const char *label, double per_sec) {
        if (t->scores == 0) {
                printf("%s %7.0f/s\n", label, per_sec);
                fflush(stdout);
                return;
        }
        printf("%s %7.0f/s  allow %5.1f%% review %4.1f%% block %4.1f%%  "
               "rules %5.1f%% gbdt %5.1f%% mlp %4.1f%%  degraded %5.1f%%  "
               "ingest->score p50 %.2f ms p99 %.2f ms\n",
               label, per_sec, pct(t->decision[FRAUD__DECISION__DECISION_ALLOW], t->scores),
               pct(t->decision[FRAUD__DECISION__DECISION_REVIEW], t->scores),
               pct(t->decision[FRAUD__DECISION__DECISION_BLOCK], t->scores),
               pct(t->stage[FRAUD__STAGE__STAGE_RULES], t->scores),
               pct(t->stage[FRAUD__STAGE__STAGE_GBDT], t->scores),
               pct(t->stage[FRAUD__STAGE__STAGE_NEURAL], t->scores), pct(t->degraded, t->scores),
               1e3 * fraud_histogram_quantile(&t->latency, 0.5),
               1e3 * fraud_histogram_quantile(&t->latency, 0.99));
        fflush(stdout);
}

static void watch_message(struct watch *w, const struct fraud_kafka_message *m, int64_t now_us) {
        Fraud__Score *s = fraud__score__unpack(NULL, m->value_size, m->value);

        if (!s || !s->transaction_id) {
                w->undecodable++;
        } else if (s->shadow || watch_seen(w, s->transaction_id)) {
                w->duplicates += !s->shadow;
        } else {
                double lat = s->ingest_time_us > 0 && s->scored_time_us >= s->ingest_time_us
                                     ? (double)(s->scored_time_us - s->ingest_time_us) / 1e6
                                     : -1;
                (void)now_us;
                tally_add(&w->second, s, lat);
                tally_add(&w->total, s, lat);
        }
        if (s)
                fraud__score__free_unpacked(s, NULL);
        fraud_kafka_input_done(m->input);
}

static int watch_assign(void *opaque, const char *topic, int32_t partition, int64_t *offset) {
        const struct watch *w = opaque;

        (void)topic;
        (void)partition;
        *offset = w->from_beginning ? FRAUD_KAFKA_OFFSET_BEGINNING : FRAUD_KAFKA_OFFSET_END;
        return 0;
}

static bool watch_done(const struct watch *w, int64_t start_ns, int64_t now_ns) {
        if (watch_stop)
                return true;
        if (w->seconds > 0 && now_ns - start_ns >= (int64_t)w->seconds * 1000000000)
                return true;
        return w->expect > 0 && w->total.scores >= w->expect;
}

static int watch_loop(struct watch *w, struct fraud_kafka_consumer *c) {
        int64_t start = fraud_time_mono_ns(), tick = start;
        const struct fraud_kafka_message *msgs;
        long n_sec = 0;

        while (!watch_done(w, start, fraud_time_mono_ns())) {
                int n = fraud_kafka_consumer_poll_batch(c, &msgs, WATCH_POLL_MS);
                int64_t now_us = fraud_time_now_us();

                if (n < 0 && n != -ENOBUFS) {
                        fprintf(stderr, "fraudctl watch: %s\n", fraud_kafka_consumer_error(c));
                        return EX_UNAVAILABLE;
                }
                for (int i = 0; i < n; i++)
                        watch_message(w, &msgs[i], now_us);
                fraud_kafka_consumer_offsets_store(c);
                if (fraud_time_mono_ns() - tick >= 1000000000) {
                        char label[32];

                        tick += 1000000000;
                        snprintf(label, sizeof(label), "t=%3lds", ++n_sec);
                        tally_print(&w->second, label, (double)w->second.scores);
                        tally_init(&w->second);
                }
        }
        return 0;
}

static void watch_summary(const struct watch *w, double elapsed_sec) {
        const struct tally *t = &w->total;

        printf("scored: %" PRIu64 " transactions (allow %" PRIu64 ", review %" PRIu64
               ", block %" PRIu64 "); duplicates %" PRIu64 ", undecodable %" PRIu64 "\n",
               t->scores, t->decision[FRAUD__DECISION__DECISION_ALLOW],
               t->decision[FRAUD__DECISION__DECISION_REVIEW],
               t->decision[FRAUD__DECISION__DECISION_BLOCK], w->duplicates, w->undecodable);
        tally_print(t, "total", elapsed_sec > 0 ? (double)t->scores / elapsed_sec : 0);
        if (w->unremembered)
                printf("note: %" PRIu64 " ids past --max-transactions were not checked for "
                       "duplicates\n",
                       w->unremembered);
}

#define WATCH_OPTIONS_HELP                                                                         \
        "      --seconds N           stop after N seconds (default: until SIGINT/SIGTERM)\n"       \
        "      --expect N            stop once N distinct transactions were scored\n"              \
        "      --from-beginning      read the topic from its start, not its end\n"                 \
        "      --topic T             the topic to read (default topics.scores)\n"                  \
        "      --max-transactions N  ids remembered to count duplicates (default 4194304)\n"       \
        "\n"                                                                                       \
        "Exit status: 0, 64 bad usage, 69 Kafka unavailable, 78 bad configuration.\n"

static int watch_number(const char *name, const char *s, long long max, long long *out) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > max) {
                fprintf(stderr, "fraudctl watch: %s: '%s' is not a number in 1..%lld\n", name, s,
                        max);
                return -EINVAL;
        }
        *out = v;
        return 0;
}

static int watch_args(int argc, char **argv, struct watch *w, const char **topic) {
        static const struct option opts[] = {
                {"seconds", required_argument, NULL, 's'},
                {"expect", required_argument, NULL, 'e'},
                {"from-beginning", no_argument, NULL, 'b'},
                {"topic", required_argument, NULL, 't'},
                {"max-transactions", required_argument, NULL, 'm'},
                {NULL, 0, NULL, 0},
        };
        long long v = WATCH_SET_DEFAULT;
        int c, r = 0;

        opterr = 0;
        while (r == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 's' && (r = watch_number("--seconds", optarg, 31536000, &v)) == 0)
                        w->seconds = (long)v;
                else if (c == 'e' && (r = watch_number("--expect", optarg, INT64_MAX, &v)) == 0)
                        w->expect = (uint64_t)v;
                else if (c == 'm' && (r = watch_number("--max-transactions", optarg,
                                                       WATCH_SET_MAX / 2, &v)) == 0)
                        w->set_cap = (size_t)v;
                else if (c == 'b')
                        w->from_beginning = true;
                else if (c == 't')
                        *topic = optarg;
                else if (c == '?') {
                        fprintf(stderr, "fraudctl watch: unknown or incomplete option '%s'\n",
                                argv[optind - 1]);
                        r = -EINVAL;
                }
        }
        if (r == 0 && optind < argc) {
                fprintf(stderr, "fraudctl watch: unexpected argument '%s'\n", argv[optind]);
                r = -EINVAL;
        }
        return r;
}

/* Power of two, at least 4/3 of the ids to remember. */
static int watch_set_alloc(struct watch *w) {
        size_t cap = 1024;

        while (cap < w->set_cap + w->set_cap / 3)
                cap *= 2;
        w->set_cap = cap;
        w->set = calloc(cap, sizeof(*w->set));
        return w->set ? 0 : -ENOMEM;
}

static int watch_run(struct watch *w, const struct fraud_settings *s, const char *topic) {
        const char *topics[] = {topic};
        const struct fraud_kafka_consumer_spec spec = {
                .topics = topics,
                .topics_count = 1,
                .reset = FRAUD_KAFKA_RESET_EARLIEST,
                .assign = watch_assign,
                .opaque = w,
        };
        struct fraud_kafka_consumer *c;
        struct fraud_connect conn;
        char group[64], err[512];
        int64_t start = fraud_time_mono_ns();
        int r;

        snprintf(group, sizeof(group), "fraudctl-watch-%ld", (long)getpid());
        r = fraud_connect_init(&conn, s, group, true, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "fraudctl watch: %s\n", err);
                return r == -ENOENT ? EX_UNAVAILABLE : EX_CONFIG;
        }
        r = fraud_kafka_consumer_new(&conn.options, &spec, &c, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "fraudctl watch: %s\n", err);
                return EX_UNAVAILABLE;
        }
        r = watch_loop(w, c);
        watch_summary(w, (double)(fraud_time_mono_ns() - start) / 1e9);
        fraud_kafka_consumer_free(c);
        return r;
}

int watch_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Prints a live summary of the decisions on the scores topic.",
                .options_help = WATCH_OPTIONS_HELP,
                .args_extra = true,
        };
        struct fraud_settings settings;
        struct watch w;
        const char *topic = NULL;
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        memset(&w, 0, sizeof(w));
        w.set_cap = WATCH_SET_DEFAULT;
        tally_init(&w.second);
        tally_init(&w.total);
        if (watch_args(argc, argv, &w, &topic) < 0) {
                status = EX_USAGE;
        } else if (watch_set_alloc(&w) < 0) {
                status = EX_OSERR;
        } else {
                signal(SIGINT, watch_on_signal);
                signal(SIGTERM, watch_on_signal);
                status = watch_run(&w, &settings, topic ? topic : settings.topics.scores);
        }
        free(w.set);
        fraud_settings_release(&settings);
        return status;
}
