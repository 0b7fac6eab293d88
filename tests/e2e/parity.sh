#!/bin/sh
# parity.sh: `fraudctl replay` through the Kafka-connected daemons and
# `fraudctl backtest` in one process, on the same generated month, give the
# same decision and the same probability (to 1e-6) for every payment.
#
# Seven processes: fraud-broker, the five stage daemons (rules, no model at
# first: the trainer promotes the first one once its warm-up is over, then
# retrains every day) and fraudctl replay; the backtest runs before them on
# the same files and settings.  The test fails when a payment is missing
# from either side, scored twice, decided differently or given a
# probability more than 1e-6 apart, or when no model ever served (a
# rules-only month would prove little).
#
#   FRAUD_BUILD_ROOT, FRAUD_SOURCE_ROOT  set by meson test
#   KEEP=1                               keep the working folder
set -eu

build=${FRAUD_BUILD_ROOT:?}
src=${FRAUD_SOURCE_ROOT:?}
dir=$(mktemp -d /tmp/fraud-parity-XXXXXX)
pids=""
broker=""

# The daemons first (they leave their groups through the broker), the
# broker last; a daemon still there after 30 s is killed.
cleanup() {
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
        for i in $(seq 300); do
                alive=""
                for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
                [ -z "$alive" ] && break
                sleep 0.1
        done
        for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
        [ -n "$broker" ] && kill -TERM "$broker" 2>/dev/null || true
        wait 2>/dev/null || true
        if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

unset FRAUD_KAFKA_BOOTSTRAP
export FRAUD_INGEST_CARD_HASH_KEY=000102030405060708090a0b0c0d0e0f
cat >"$dir/fraud.yaml" <<YAML
kafka:
  session_timeout_ms: 6000
broker:
  bootstrap_file: "$dir/bootstrap"
ingest:
  state_dir: "$dir/ingest"
  http_listen: "127.0.0.1:0"
velocity:
  state_dir: "$dir/velocity"
  http_listen: "127.0.0.1:0"
scorer:
  rules_file: "$src/deploy/config/rules.yaml"
  http_listen: "127.0.0.1:0"
labeler:
  state_dir: "$dir/labeler"
  http_listen: "127.0.0.1:0"
trainer:
  state_dir: "$dir/trainer"
  registry_dir: "$dir/registry"
  http_listen: "127.0.0.1:0"
  warmup_days: 10
  holdout_days: 3
  gate_min_train_frauds: 5
  gate_min_holdout_frauds: 2
  threads: 1
YAML

"$build/tools/fraudctl" generate --out "$dir/data" --days 30 --customers 300 \
        --merchants 60 --seed 11 --fraud-rate 0.02 >/dev/null
"$build/tools/fraudctl" backtest --config "$dir/fraud.yaml" \
        --transactions "$dir/data/transactions.csv" --chargebacks "$dir/data/chargebacks.csv" \
        --out "$dir/backtest" >"$dir/backtest.log" 2>&1 || {
        cat "$dir/backtest.log"
        exit 1
}

start() { # name, program
        "$build/$2" --config "$dir/fraud.yaml" >"$dir/$1.log" 2>&1 &
        pids="$! $pids"
}
"$build/tools/fraud-broker" --config "$dir/fraud.yaml" >"$dir/broker.log" 2>&1 &
broker=$!
for i in $(seq 100); do [ -s "$dir/bootstrap" ] && break; sleep 0.1; done
start ingest ingest/fraud-ingest
start velocity velocity/fraud-velocity
start scorer scorer/fraud-scorer
start labeler labeler/fraud-labeler
start trainer trainer/fraud-trainer

"$build/tools/fraudctl" replay --config "$dir/fraud.yaml" \
        --transactions "$dir/data/transactions.csv" --chargebacks "$dir/data/chargebacks.csv" \
        --out "$dir/replay" --barrier-seconds 120 >"$dir/replay.log" 2>&1 || {
        tail -20 "$dir/replay.log"
        for n in scorer trainer labeler; do echo "== $n"; tail -5 "$dir/$n.log"; done
        exit 1
}
tail -1 "$dir/replay.log"

# Both files: transaction_id,event_time,card_hash,probability,decision,stage,model_version,...
awk -F, '
        FNR == 1 { next }
        FILENAME == ARGV[1] { p[$1] = $4; d[$1] = $5; v[$1] = $7; n1++; next }
        {
                n2++
                if (!($1 in p)) { missing++; if (missing <= 5) print "only in replay: " $1; next }
                seen[$1]++
                diff = p[$1] - $4; if (diff < 0) diff = -diff
                if (d[$1] != $5 || diff > 1e-6) {
                        bad++
                        if (bad <= 10) print "differs: " $1 " backtest " d[$1] " " p[$1] " " v[$1] \
                                             " replay " $5 " " $4 " " $7
                }
                if ($7 != "") modelled++
        }
        END {
                for (id in p) if (!(id in seen)) { absent++; if (absent <= 5) print "only in backtest: " id }
                printf "parity: %d payments in the backtest, %d in the replay, %d decided by a model; " \
                       "%d differ, %d only in the replay, %d only in the backtest\n",
                       n1, n2, modelled, bad, missing, absent
                exit (bad || missing || absent || n1 == 0 || n1 != n2 || modelled == 0) ? 1 : 0
        }' "$dir/backtest/scores.csv" "$dir/replay/scores.csv"
