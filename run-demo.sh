#!/bin/sh
# run-demo.sh: install what is missing, build, start the embedded broker and
# the decision path (fraud-ingest -> fraud-velocity -> fraud-scorer), the
# labeler and the trainer, and the analysts' dashboard (fraud-dashboard: its
# URL is printed), stream simulated payments and chargebacks into it, and
# print a live summary of the decisions once a second (fraudctl watch).  At
# the end (after --seconds N, or on Ctrl-C) the daemons stop cleanly and a
# summary is printed: published, scored, rejected, decisions by outcome and
# stage.
#
#   ./run-demo.sh [--seconds N] [--rate N] [--keep]
#
#   --seconds N   stop after N seconds (default: run until Ctrl-C)
#   --rate N      simulated payments per second (default 1000)
#   --keep        keep the working folder (logs, state, config)
#
# First it trains the models on a simulated history (fraudctl features and
# fraudctl train), so the scorer starts with a GBDT and an MLP.
set -eu
cd "$(dirname "$0")"
root=$(pwd)
. tools/deps.sh

seconds=""
rate=1000
keep=0
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
        case "$1" in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --rate) rate=${2:?--rate needs a number}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run-demo.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
        esac
done
case "$rate" in ''|*[!0-9]*) echo "run-demo.sh: --rate: not a number: $rate" >&2; exit 64 ;; esac
case "$seconds" in *[!0-9]*) echo "run-demo.sh: --seconds: not a number: $seconds" >&2; exit 64 ;; esac

fraud_deps_install
if [ ! -f build/build.ninja ]; then
        meson setup build >/dev/null
fi
ninja -C build >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/fraud-demo.XXXXXX")
pids=""
broker_pid=""
stop_all() { # the daemons, then the broker they commit their offsets to
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
        for p in $pids; do wait "$p" 2>/dev/null || true; done
        pids=""
        [ -z "$broker_pid" ] || { kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }
        broker_pid=""
}
cleanup() {
        stop_all
        if [ "$keep" -eq 1 ]; then
                echo "working folder kept: $work"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
# Ctrl-C reaches the generator and the watcher (same process group), which
# stop cleanly with their summaries; this shell goes on to print the rest.
trap 'echo' INT

# A fresh card-hash key for this demo; production keeps its key secret.
FRAUD_INGEST_CARD_HASH_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export FRAUD_INGEST_CARD_HASH_KEY

# The first models: a simulated history before the live stream, its
# features computed offline by the same cores as the daemons, labelled only
# by the chargebacks that had arrived when the live stream starts.
echo "training the first models on 35 simulated days of history (about a minute)..."
history="$work/history"
build/tools/fraudctl generate --days 35 --customers 2000 --merchants 300 --seed 2 \
        --start 2025-11-20 --out "$history" >"$work/history.log" 2>&1
build/tools/fraudctl features --transactions "$history/transactions.csv" \
        --chargebacks "$history/chargebacks.csv" --label-cutoff 2026-01-01 \
        --out "$history/rows.csv" >>"$work/history.log" 2>&1
if build/tools/fraudctl train --input "$history/rows.csv" --out "$work/model" \
        --holdout-days 7 >"$work/train.log" 2>&1; then
        model_dir="$work/model"
        grep -iE 'auc|precision' "$work/train.log" | head -n 4 || true
else
        model_dir=""
        echo "training failed (see $work/train.log); the scorer runs on rules alone"
fi

cat >"$work/fraud.yaml" <<EOF
broker:
  bootstrap_file: "$work/bootstrap"
ingest:
  state_dir: "$work/ingest-state"
velocity:
  state_dir: "$work/velocity-state"
scorer:
  rules_file: "$root/deploy/config/rules.yaml"
  model_dir: "$model_dir"
labeler:
  state_dir: "$work/labeler-state"
trainer:
  state_dir: "$work/trainer-state"
  registry_dir: "$work/model-registry"
EOF
config="--config $work/fraud.yaml"

start() { # name, command...: runs in the background, logs to $work/name.log
        name=$1
        shift
        "$@" >"$work/$name.log" 2>&1 &
        pids="$! $pids"
        eval "pid_$name=$!"
}

start broker build/tools/fraud-broker $config
broker_pid=$pid_broker pids="" # stop_all stops it last
for _ in $(seq 100); do
        [ -s "$work/bootstrap" ] && break
        sleep 0.1
done
if [ ! -s "$work/bootstrap" ]; then
        echo "run-demo.sh: fraud-broker did not start:" >&2
        cat "$work/broker.log" >&2
        exit 1
fi
echo "embedded broker: $(cat "$work/bootstrap")"
start ingest build/ingest/fraud-ingest $config
start velocity build/velocity/fraud-velocity $config
start scorer build/scorer/fraud-scorer $config
start labeler build/labeler/fraud-labeler $config
start trainer build/trainer/fraud-trainer $config
start dashboard build/dashboard/fraud-dashboard $config
sleep 1
for d in ingest velocity scorer labeler trainer dashboard; do
        if ! kill -0 "$(eval echo "\$pid_$d")" 2>/dev/null; then
                echo "run-demo.sh: fraud-$d stopped:" >&2
                cat "$work/$d.log" >&2
                exit 1
        fi
done
echo "daemons: fraud-ingest, fraud-velocity, fraud-scorer, fraud-labeler, fraud-trainer," \
        "fraud-dashboard (logs in $work)"
for _ in $(seq 50); do
        url=$(sed -n 's|.*page on \(http://[^ ]*\) .*|\1|p' "$work/dashboard.log")
        [ -n "$url" ] && break
        sleep 0.1
done
echo "dashboard: ${url:-see $work/dashboard.log}"
echo "streaming simulated payments at $rate/s${seconds:+ for $seconds s} (Ctrl-C stops)"

build/tools/fraudctl watch $config >"$work/watch.out" 2>"$work/watch.log" &
watch_pid=$!
tail -f "$work/watch.out" &
tail_pid=$!
set -- --publish --rate "$rate"
[ -n "$seconds" ] && set -- "$@" --seconds "$seconds"
status=0
build/tools/fraudctl generate $config "$@" >"$work/generate.out" 2>&1 || status=$?

# Let the pipeline drain what was published, then stop the watcher.
sleep 3
kill -TERM "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
stop_all

echo
echo "== summary"
tail -n 1 "$work/generate.out"
for d in ingest velocity scorer labeler dashboard; do
        last=$(grep -v '^<7>' "$work/$d.log" | tail -n 1)
        echo "${last#<[0-7]>}"
done
exit "$status"
