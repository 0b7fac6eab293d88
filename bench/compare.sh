#!/bin/sh
# bench/compare.sh: the Kafka-connected decision path against the baseline a
# team would otherwise build, side by side, in one command.
#
#   bench/compare.sh [--rates R1,R2,...] [--seconds N] [--warmup N] [--build DIR]
#
# 1. Builds the release build folder (default build-bench, set up if
#    missing, as bench/run.sh does) and installs the baseline's Debian
#    packages (FRAUD_BENCH_PACKAGES in tools/deps.sh).
# 2. Runs bench/bench_pipeline: fraud-broker + fraud-ingest + fraud-velocity
#    + fraud-scorer, the payments offered at each rate.
# 3. Runs bench/baseline/driver.py: the same broker, the same simulated
#    payments at the same rates, through bench/baseline/fraud_baseline.py
#    (one Python process: confluent-kafka, Redis sorted sets, XGBoost).
# 4. Prints both outputs as they come, then one table: per offered rate,
#    for each side the payments sent and scored, the sustained throughput
#    (scores read per second of the window) and end-to-end latency p50,
#    p99 and p99.9 (publish to score read), and the ratios: ours/baseline
#    for throughput, baseline/ours for latency.  Then the highest offered
#    rate each side sustains within 5 % (sustained >= 95 % of the offered
#    rate and scored >= 95 % of sent), the throughput measured there and at
#    the top rate, and the ratio of the two sides' sustained throughputs.
#
# The two runs follow each other, never overlap, and each starts its own
# broker.  Figures are printed; nothing is asserted.
set -eu

usage() {
        cat <<'EOF'
usage: bench/compare.sh [--rates R1,R2,...] [--seconds N] [--warmup N] [--build DIR]

  --rates R1,R2,...  offered rates, payments per second, in increasing
                     order, 1..1000000, at most 16 (default 1000,2000,5000,10000,20000)
  --seconds N        seconds measured at each rate, 1..3600 (default 15)
  --warmup N         seconds at the first rate before measuring, 0..3600 (default 5)
  --build DIR        release build folder (default build-bench; set up if missing)

Runs bench/bench_pipeline (the C daemons) and then the Python baseline
(bench/baseline/) at the same rates through the embedded broker, and prints
throughput and end-to-end latency side by side with their ratios.
EOF
}

die() {
        echo "compare.sh: $*" >&2
        echo "Try 'bench/compare.sh --help'." >&2
        exit 64
}

# $1: option name, $2: value, $3..$4: bounds.
check_int() {
        case $2 in
        '' | *[!0-9]*) die "$1: expected an integer from $3 to $4, got '$2'" ;;
        esac
        [ ${#2} -le 7 ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
                die "$1: expected an integer from $3 to $4, got '$2'"
}

check_rates() {
        why=$(echo "$1" | awk -F, '
                function bad(why) { print why; exit 1 }
                {
                        if (NF == 0) bad("empty")
                        if (NF > 16) bad("more than 16 rates")
                        for (i = 1; i <= NF; i++) {
                                if ($i !~ /^[0-9]+(\.[0-9]+)?$/) bad("not a number: \"" $i "\"")
                                if ($i + 0 < 1 || $i + 0 > 1000000) bad("out of 1..1000000: " $i)
                                if (i > 1 && $i + 0 <= prev) bad("not increasing: " $i)
                                prev = $i + 0
                        }
                }') ||
                die "--rates: $why (expected comma-separated increasing rates in 1..1000000, at most 16)"
}

rates=1000,2000,5000,10000,20000
seconds=15
warmup=5
build=build-bench
while [ $# -gt 0 ]; do
        case $1 in
        -h | --help)
                usage
                exit 0
                ;;
        --rates | --seconds | --warmup | --build)
                [ $# -ge 2 ] || die "$1: missing value"
                opt=$1
                val=$2
                shift 2
                ;;
        --rates=* | --seconds=* | --warmup=* | --build=*)
                opt=${1%%=*}
                val=${1#*=}
                shift
                ;;
        *) die "unknown argument: $1" ;;
        esac
        case $opt in
        --rates)
                check_rates "$val"
                rates=$val
                ;;
        --seconds)
                check_int --seconds "$val" 1 3600
                seconds=$val
                ;;
        --warmup)
                check_int --warmup "$val" 0 3600
                warmup=$val
                ;;
        --build)
                [ -n "$val" ] || die "--build: empty folder name"
                build=$val
                ;;
        esac
done

cd "$(dirname "$0")/.."
. tools/deps.sh
fraud_deps_install $FRAUD_BENCH_PACKAGES
out=$(mktemp -d "${TMPDIR:-/tmp}/fraud-compare.XXXXXX")
trap 'rm -rf "$out"' EXIT
if [ ! -d "$build" ]; then
        meson setup "$build" --buildtype=release -Db_ndebug=false >"$out/build.log" 2>&1 || {
                cat "$out/build.log" >&2
                exit 1
        }
fi
# The daemons and the broker too.
meson compile -C "$build" >"$out/build.log" 2>&1 || {
        tail -n 30 "$out/build.log" >&2
        echo "compare.sh: the build failed" >&2
        exit 1
}

# Runs "$@" with its output shown and kept in $out/$name.txt; its exit
# status in $out/$name.status (sh has no pipefail).
run() {
        name=$1
        shift
        { "$@" 2>&1; echo $? >"$out/$name.status"; } | tee "$out/$name.txt"
        [ "$(cat "$out/$name.status")" -eq 0 ] || {
                echo "compare.sh: $name failed (status $(cat "$out/$name.status"))" >&2
                exit 1
        }
}

# Other work on the machine skews both sides: say how busy it was.
load() { [ -r /proc/loadavg ] && echo "load average $1: $(cut -d' ' -f1-3 /proc/loadavg)" || true; }

load "before"
echo "== ours: bench_pipeline (fraud-broker, fraud-ingest, fraud-velocity, fraud-scorer)"
run ours "$build/bench/bench_pipeline" --rates "$rates" --seconds "$seconds" --warmup "$warmup"
echo
load "between"
echo "== baseline: bench/baseline/fraud_baseline.py (Python, Redis, XGBoost)"
run baseline /usr/bin/python3 bench/baseline/driver.py --build "$build" --rates "$rates" \
        --seconds "$seconds" --warmup "$warmup"
load "after"
echo

# The table, from the lines both print in bench_pipeline's format:
#   RATE/s  sent N  scored N  sustained N/s  p50 X  p99 X  p99.9 X  max X ms
# and the baseline driver's "driver sent N/s; CPU ...; limit: ..." lines.
awk -v seconds="$seconds" '
function num(s) { sub(/\/s$/, "", s); return s + 0 }
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
function ok(side, r) { return thr[side, r] >= 0.95 * r && scored[side, r] >= 0.95 * sent[side, r] }
FNR == 1 { side = (FILENAME ~ /ours\.txt$/) ? "ours" : "baseline" }
$2 == "sent" && $4 == "scored" && $6 == "sustained" && $1 ~ /^[0-9.]+\/s$/ {
        r = num($1)
        if (!((side, r) in thr) && side == "ours") rates[++n] = r
        sent[side, r] = $3; scored[side, r] = $5; thr[side, r] = num($7)
        p50[side, r] = $9; p99[side, r] = $11; p999[side, r] = $13
        last[side] = r
}
$1 == "driver" && $2 == "sent" { lim[r] = $0; sub(/.*limit: /, "", lim[r]); drv[r] = num($3) }
END {
        if (n == 0) { print "compare.sh: no measured rate in bench_pipeline'"'"'s output"; exit 1 }
        printf "== side by side (%s s per rate; latency = publish to score read, ms)\n", seconds
        printf "%-9s %-9s %8s %8s %11s %8s %8s %8s\n", "offered", "", "sent", "scored",
               "sustained", "p50", "p99", "p99.9"
        for (i = 1; i <= n; i++) {
                r = rates[i]
                for (k = 0; k < 2; k++) {
                        s = k ? "baseline" : "ours"
                        if (!((s, r) in thr)) { printf "%-9s %-9s %s\n", k ? "" : r "/s", s, "(not measured)"; continue }
                        printf "%-9s %-9s %8d %8d %9d/s %8.2f %8.2f %8.2f%s\n", k ? "" : r "/s", s,
                               sent[s, r], scored[s, r], thr[s, r], p50[s, r], p99[s, r], p999[s, r],
                               (k && (r in lim)) ? "   (driver sent " drv[r] "/s; limit: " lim[r] ")" : ""
                }
                if (("baseline", r) in thr)
                        printf "%-9s %-9s %8s %8s %11s %8s %8s %8s\n", "", "ratio", "", "",
                               ratio(thr["ours", r], thr["baseline", r]),
                               ratio(p50["baseline", r], p50["ours", r]),
                               ratio(p99["baseline", r], p99["ours", r]),
                               ratio(p999["baseline", r], p999["ours", r])
        }
        print "           ratio: ours/baseline for sustained throughput, baseline/ours for latency"
        print ""
        print "== maximum sustained throughput (highest offered rate sustained within 5 %:"
        print "   sustained >= 95 % of offered and scored >= 95 % of sent)"
        for (k = 0; k < 2; k++) {
                s = k ? "baseline" : "ours"
                best[s] = 0
                for (i = 1; i <= n; i++)
                        if (((s, rates[i]) in thr) && ok(s, rates[i])) best[s] = rates[i]
                top = last[s]
                printf "  %-9s %s; at the top rate offered (%d/s): %d/s\n", s,
                       best[s] ? sprintf("%d/s (measured %d/s)", best[s], thr[s, best[s]]) : "none of the rates",
                       top, thr[s, top]
        }
        if (best["ours"] && best["baseline"])
                printf "  ours / baseline: %s at the highest rates sustained, %s at the top rate\n",
                       ratio(thr["ours", best["ours"]], thr["baseline", best["baseline"]]),
                       ratio(thr["ours", last["ours"]], thr["baseline", last["baseline"]])
        if (best["ours"] == rates[n])
                print "  note: ours sustains the top rate offered; its maximum lies higher (add rates)"
        if (best["baseline"] == rates[n])
                print "  note: the baseline sustains the top rate offered; its maximum lies higher (add rates)"
        print ""
        print "notes: the baseline is one Python process (one core at most, by the interpreter"
        print "  lock), plus redis-server; ours is three single-threaded daemons (ingest,"
        print "  velocity, scorer) plus librdkafka threads.  Both share one machine"
        print "  with the embedded broker and their load driver: C for ours (bench_pipeline),"
        print "  Python for the baseline (its CPU use is in the driver lines above)."
}' "$out/ours.txt" "$out/baseline.txt"
