#!/bin/sh
# bench/run.sh: builds the benchmarks and runs them, one after another.
#
#   bench/run.sh [BUILD_DIR]      (default: build-bench, set up if missing)
#   BENCH=bench_scorer bench/run.sh   one benchmark only
#
# Each benchmark prints its own figures and asserts nothing.  The build is
# optimized (release) whatever the default build type, so the figures
# measure the code, not the debug settings.
set -eu

cd "$(dirname "$0")/.."
build=${1:-build-bench}

if [ ! -d "$build" ]; then
        meson setup "$build" --buildtype=release -Db_ndebug=false >/dev/null
fi
meson compile -C "$build" >/dev/null # the daemons too, for bench_pipeline

run() { # name, what it measures
        [ -n "${BENCH:-}" ] && [ "$BENCH" != "$1" ] && return 0
        echo "== $1: $2"
        "$build/bench/$1"
}

run bench_generate "fraudctl generate (simulator, CSV and JSONL files)"
run bench_ingest "ingest: parse + normalize per record (JSON, CSV, rejections)"
run bench_velocity "velocity: window update and feature emission per transaction"
run bench_scorer "scorer: the cascade per transaction, and XGBoost's own single-row call"
run bench_train "trainer: GBDT and MLP training time and peak memory"
run bench_pipeline "the Kafka-connected decision path: end-to-end latency at 2,000 tx/s"
if [ -z "${BENCH:-}" ] || [ "$BENCH" = backtest ]; then
        echo "== backtest: fraudctl backtest throughput, retraining included and excluded"
        bench/backtest.sh "$build"
fi
