/* bench_generate.c: how fast `fraudctl generate` produces data.
 *
 *   bench_generate [CUSTOMERS [DAYS]]      (default 100000 customers, 30 days:
 *                                           about 4.8 million transactions)
 *
 * Three runs over the same world (seed 1, fraud rate 0.005, 1000 merchants
 * per 10000 customers):
 *   1. the simulator alone: sim_next() to the end, nothing formatted;
 *   2. CSV files written to a fresh temporary directory ($TMPDIR or /tmp);
 *   3. the same as JSONL.
 * Each prints transactions per second of wall time on the monotonic clock
 * and, for the files, MB per second of bytes written (to the page cache:
 * no fsync, which measures this code rather than the disk).  Nothing is
 * asserted; the files are removed afterwards.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/time.h"
#include "tools/generate.h"
#include "tools/sim.h"

static int arg_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v < min || v > max)
                return -EINVAL;
        *out = (uint32_t)v;
        return 0;
}

static double seconds_since(int64_t t0_ns) {
        return (double)(fraud_time_mono_ns() - t0_ns) / 1e9;
}

static int bench_simulator(const struct sim_config *c) {
        struct sim_event ev;
        struct sim *s;
        int64_t t0 = fraud_time_mono_ns();
        double sec;
        int r;

        if ((r = sim_new(c, &s)) < 0)
                return r;
        while ((r = sim_next(s, &ev)) > 0)
                ;
        sec = seconds_since(t0);
        if (r == 0)
                printf("simulator only     %9llu transactions %7llu chargebacks  %6.2f s  "
                       "%6.2f M tx/s\n",
                       (unsigned long long)sim_stats(s)->transactions,
                       (unsigned long long)sim_stats(s)->chargebacks, sec,
                       (double)sim_stats(s)->transactions / sec / 1e6);
        sim_free(s);
        return r;
}

static void files_remove(const char *dir, enum generate_format format) {
        const char *ext = format == GENERATE_FORMAT_CSV ? "csv" : "jsonl";
        char path[4096];

        snprintf(path, sizeof(path), "%s/transactions.%s", dir, ext);
        unlink(path);
        snprintf(path, sizeof(path), "%s/chargebacks.%s", dir, ext);
        unlink(path);
}

static int bench_files(const struct sim_config *c, const char *dir, enum generate_format format) {
        struct generate_options o;
        struct generate_summary sum;
        char err[256];
        int64_t t0;
        double sec;
        int r;

        generate_options_default(&o);
        o.sim = *c;
        o.format = format;
        o.out_dir = dir;
        t0 = fraud_time_mono_ns();
        r = generate_files(&o, &sum, err, sizeof(err));
        sec = seconds_since(t0);
        if (r < 0) {
                fprintf(stderr, "bench_generate: %s\n", err);
                return r;
        }
        printf("%-18s %9llu transactions %7llu chargebacks  %6.2f s  %6.2f M tx/s  %6.1f MB/s "
               "(%.0f MB)\n",
               format == GENERATE_FORMAT_CSV ? "csv files" : "jsonl files",
               (unsigned long long)sum.transactions, (unsigned long long)sum.chargebacks, sec,
               (double)sum.transactions / sec / 1e6, (double)sum.bytes / sec / 1e6,
               (double)sum.bytes / 1e6);
        files_remove(dir, format);
        return 0;
}

int main(int argc, char **argv) {
        struct sim_config c;
        const char *tmp = getenv("TMPDIR");
        char dir[4096];
        int r;

        sim_config_default(&c);
        c.customers = 100000;
        if ((argc > 1 &&
             arg_u32(argv[1], SIM_CUSTOMERS_MIN, FRAUD_SIM_CUSTOMERS_MAX, &c.customers) < 0) ||
            (argc > 2 && arg_u32(argv[2], 1, FRAUD_SIM_DAYS_MAX, &c.days) < 0) || argc > 3) {
                fprintf(stderr, "usage: bench_generate [CUSTOMERS [DAYS]]\n");
                return 2;
        }
        c.merchants = c.customers / 10 < SIM_MERCHANTS_MIN ? SIM_MERCHANTS_MIN : c.customers / 10;
        snprintf(dir, sizeof(dir), "%s/bench_generate.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
                perror("bench_generate: mkdtemp");
                return 1;
        }
        printf("bench_generate: %u customers, %u merchants, %u days, one core\n", c.customers,
               c.merchants, c.days);
        r = bench_simulator(&c);
        if (r >= 0)
                r = bench_files(&c, dir, GENERATE_FORMAT_CSV);
        if (r >= 0)
                r = bench_files(&c, dir, GENERATE_FORMAT_JSONL);
        rmdir(dir);
        if (r < 0)
                fprintf(stderr, "bench_generate: %s\n", strerror(-r));
        return r < 0 ? 1 : 0;
}
