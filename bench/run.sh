#!/bin/sh
# bench/run.sh: builds the benchmarks and runs them, one after another.
#
#   bench/run.sh [BUILD_DIR]      (default: build-bench, set up if missing)
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
meson compile -C "$build" bench >/dev/null

echo "== bench_generate: fraudctl generate (simulator, CSV and JSONL files)"
"$build/bench/bench_generate"
