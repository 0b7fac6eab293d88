#!/bin/sh
# bench/backtest.sh: fraudctl backtest throughput, retraining included and
# excluded, on one core.
#
#   bench/backtest.sh [--days N] [--customers N] [--merchants N] [--runs N] [BUILD_DIR]
#
# Generates a world (default: the simulator's default population of 10,000
# customers and 1,000 merchants over 30 days, about 480,000 payments), then:
#   1. a backtest from nothing, retraining every day the trainer's schedule
#      makes due (warm-up trainer.warmup_days = 21): throughput with and
#      without the training rounds' time;
#   2. a backtest with that run's champion from the start and no retraining,
#      pinned to one CPU (taskset -c 0): the steady state of the five cores
#      with a model (GBDT and MLP) deciding; --runs times (default 3), since
#      a shared machine makes single runs noisy.
# Each run prints its throughput three ways: per second of wall time, per
# CPU-second of the scoring loop, and per CPU-second of the whole process
# until its outputs are written (end to end); training is excluded from
# the last two.  Prints the figures; asserts nothing.  The build is
# optimized (release).
set -eu
cd "$(dirname "$0")/.."

days=30 customers=10000 merchants=1000 runs=3 build=build-bench pin=""
while [ $# -gt 0 ]; do
        case "$1" in
        --days) days=$2; shift 2 ;;
        --customers) customers=$2; shift 2 ;;
        --merchants) merchants=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/backtest.sh: unknown option $1" >&2; exit 64 ;;
        *) build=$1; shift ;;
        esac
done

if [ ! -d "$build" ]; then
        meson setup "$build" --buildtype=release -Db_ndebug=false >/dev/null
fi
meson compile -C "$build" tools/fraudctl >/dev/null
fraudctl=$build/tools/fraudctl

work=$(mktemp -d /tmp/fraud-bench-backtest-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/fraud.yaml" <<YAML
ingest:
  card_hash_key: "000102030405060708090a0b0c0d0e0f"
scorer:
  rules_file: "$(pwd)/deploy/config/rules.yaml"
trainer:
  threads: 1
YAML

"$fraudctl" generate --out "$work/data" --days "$days" --customers "$customers" \
        --merchants "$merchants" --seed 1
backtest() { # out dir, then fraudctl backtest's extra options
        out=$1
        shift
        $pin "$fraudctl" backtest --config "$work/fraud.yaml" \
                --transactions "$work/data/transactions.csv" \
                --chargebacks "$work/data/chargebacks.csv" --out "$work/$out" "$@" 2>/dev/null
}
echo "== daily retraining, from no model"
backtest daily
champion=$(cat "$work/daily/registry/CHAMPION" 2>/dev/null || true)
if [ -z "$champion" ]; then
        echo "no model was promoted: the steady-state run needs one (more --days?)" >&2
        exit 1
fi
echo "== the champion $champion from the start, no retraining, on one CPU (taskset -c 0)"
pin="taskset -c 0"
i=1
while [ "$i" -le "$runs" ]; do
        echo "-- run $i of $runs"
        backtest steady --retrain-every-days 0 --model-dir "$work/daily/registry/$champion"
        i=$((i + 1))
done
