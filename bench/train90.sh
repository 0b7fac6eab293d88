#!/bin/sh
# bench/train90.sh: what the daily training costs on 90 days of the default
# simulation (10,000 customers, 1,000 merchants: about 1.4 million payments),
# and what it costs the decision path running beside it.
#
#   bench/train90.sh [BUILD_DIR]     (default build-bench, as bench/run.sh)
#
# 1. fraudctl generate 90 days, fraudctl features labelled by the
#    chargebacks known at their end; then
#    fraudctl train under /usr/bin/time: wall time and peak memory (maximum
#    resident set size) of one training round with the default trainer
#    settings (trainer.threads 2, 200 trees, MLP 2x32, 20 epochs);
# 2. bench_pipeline at 2,000 payments/s, alone and then beside the same
#    training run as the trainer daemon runs it: nice 10, one XGBoost
#    thread (trainer.nice, trainer.threads 1).
# Figures are printed; nothing is asserted.  The working folder (about
# 3 GB) is removed at the end.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
if [ ! -d "$build" ]; then
        meson setup "$build" --buildtype=release -Db_ndebug=false >/dev/null
fi
meson compile -C "$build" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/fraud-train90.XXXXXX")
trap 'rm -rf "$work"' EXIT
ctl="$build/tools/fraudctl"
export FRAUD_INGEST_CARD_HASH_KEY=000102030405060708090a0b0c0d0e0f

echo "== simulating 90 days of the default world"
"$ctl" generate --days 90 --start 2026-01-01 --out "$work/data"
"$ctl" features --transactions "$work/data/transactions.csv" \
        --chargebacks "$work/data/chargebacks.csv" --label-cutoff 2026-04-01 \
        --out "$work/rows.csv" >"$work/features.log" 2>&1
echo "training rows: $(($(wc -l <"$work/rows.csv") - 1)) ($(du -h "$work/rows.csv" | cut -f1) of CSV)"

echo "== one training round (fraudctl train, default trainer settings)"
/usr/bin/time -v "$ctl" train --input "$work/rows.csv" --out "$work/model" \
        >"$work/train.log" 2>"$work/time.log"
sed -n "/^holdout/,+3p" "$work/train.log"
grep -E "Elapsed \(wall|Maximum resident|User time|System time" "$work/time.log"

echo "== the decision path at 2,000/s, alone and beside the same training (nice 10, 1 thread)"
cat >"$work/beside.yaml" <<EOF
trainer:
  threads: 1
EOF
"$build/bench/bench_pipeline" --rates 2000 --seconds 60 --model-dir "$work/model" \
        --beside "nice -n 10 $(pwd)/$ctl train --config $work/beside.yaml --input $work/rows.csv --out $work/model-beside"
