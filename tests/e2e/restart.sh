#!/bin/sh
# restart.sh: stages stopped and restarted while `fraudctl replay` runs lose
# nothing and change nothing.  Every payment is scored; after
# de-duplication by transaction id (replay keeps the first Score of each id)
# every decision, probability (to 1e-6) and model version equals
# `fraudctl backtest`'s on the same files; the model registry the trainer
# wrote is identical to the backtest's, file for file; and every day
# barrier completes, i.e. each restarted stage catches up and says so in
# its group's committed offsets.
#
# The setup is parity.sh's (broker, the five daemons, a generated month,
# the backtest as the reference).  While the replay runs, this script works
# through a schedule of faults, one at a time, each once the replay has
# passed a given day barrier (it logs one line per barrier) and a pause of
# 0 to 0.5 s, while the day's payments flow (a day takes a fraction of a
# second of CPU per stage); the trainer's SIGKILL waits instead until it
# uses CPU, which after its warm-up means a training round:
#   1. SIGTERM to ingest, velocity, scorer, labeler, trainer and the scorer
#      again: each must exit 0 (a clean shutdown);
#   2. SIGKILL to velocity, the labeler, the trainer, the scorer, ingest
#      and velocity again.
# Each stage is restarted at once with the same configuration.  Re-sent
# Scores are allowed (at-least-once transport): the replay counts them as
# "scored twice" and exits 1, which is accepted only when its summary says
# every payment was scored.  The test also fails when a fault could not be
# placed (the replay ended first), when a daemon dies on its own, or when a
# daemon does not stop cleanly on SIGTERM at the end.
#
#   FRAUD_BUILD_ROOT, FRAUD_SOURCE_ROOT  set by meson test
#   KEEP=1                               keep the working folder (one log
#                                        per process, the faults in
#                                        faults.log)
# shellcheck disable=SC2317 # functions called from the exit trap
# shellcheck disable=SC2034 # pid_NAME variables are read through eval
set -eu

build=${FRAUD_BUILD_ROOT:?}
src=${FRAUD_SOURCE_ROOT:?}
dir=$(mktemp -d /tmp/fraud-restart-XXXXXX)
barrier_s=120
hz=$(getconf CLK_TCK)
stages="ingest velocity scorer labeler trainer"
pid_broker="" pid_replay=""
for n in $stages; do eval "pid_$n=''"; done

# Whether process $1 runs (a zombie, ended but not yet waited for, does
# not).
alive() {
        [ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
                [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Waits up to $2 seconds for process $1 to end; 1 if it still runs.
gone() {
        i=0
        while alive "$1"; do
                [ "$i" -lt $(($2 * 10)) ] || return 1
                sleep 0.1
                i=$((i + 1))
        done
}

# Stops the processes named (pid_NAME): SIGTERM, SIGKILL after 30 s.
stop() {
        for n in "$@"; do
                eval "p=\$pid_$n"
                if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
        done
        for n in "$@"; do
                eval "p=\$pid_$n"
                [ -n "$p" ] || continue
                if ! gone "$p" 30; then
                        echo "$n ($p) ignores SIGTERM: killed"
                        kill -KILL "$p" 2>/dev/null || true
                fi
                wait "$p" 2>/dev/null || true
                eval "pid_$n=''"
        done
}

cleanup() {
        # shellcheck disable=SC2086 # a list of names
        stop replay $stages
        stop broker # last: the stages flush to it while they stop
        if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
        echo "restart: $*"
        grep -v AUTOCREATE "$dir/replay.log" 2>/dev/null | tail -5
        for n in $stages; do
                echo "== $n"
                tail -5 "$dir/$n.log" 2>/dev/null
        done
        exit 1
}

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
  warmup_days: 10
  holdout_days: 3
  gate_min_train_frauds: 5
  gate_min_holdout_frauds: 2
  threads: 1
  http_listen: "127.0.0.1:0"
YAML

t0=$(date +%s)
"$build/tools/fraudctl" generate --out "$dir/data" --days 30 --customers 300 \
        --merchants 60 --seed 11 --fraud-rate 0.02 >/dev/null
"$build/tools/fraudctl" backtest --config "$dir/fraud.yaml" \
        --transactions "$dir/data/transactions.csv" --chargebacks "$dir/data/chargebacks.csv" \
        --out "$dir/backtest" >"$dir/backtest.log" 2>&1 || {
        cat "$dir/backtest.log"
        exit 1
}

start() { # name; its log is appended to across restarts
        case $1 in
        broker) prog=tools/fraud-broker ;;
        *) prog=$1/fraud-$1 ;;
        esac
        "$build/$prog" --config "$dir/fraud.yaml" >>"$dir/$1.log" 2>&1 &
        eval "pid_$1=\$!"
}
start broker
for i in $(seq 100); do
        [ -s "$dir/bootstrap" ] && break
        [ "$i" -lt 100 ] || die "no bootstrap file from fraud-broker"
        sleep 0.1
done
for n in $stages; do start "$n"; done

"$build/tools/fraudctl" replay --config "$dir/fraud.yaml" \
        --transactions "$dir/data/transactions.csv" --chargebacks "$dir/data/chargebacks.csv" \
        --out "$dir/replay" --barrier-seconds "$barrier_s" >"$dir/replay.log" 2>&1 &
pid_replay=$!

barriers() { # day barriers the replay has passed (late ones included)
        grep -c '^fraudctl replay: [0-9-]*: .*barrier' "$dir/replay.log" || true
}

# Waits until the replay has passed $1 barriers.
barrier_wait() {
        i=0
        while [ "$(barriers)" -lt "$1" ]; do
                alive "$pid_replay" || die "the replay ended before barrier $1: a fault not placed"
                [ "$i" -lt 6000 ] || die "no barrier $1 after 10 minutes"
                sleep 0.1
                i=$((i + 1))
        done
}

# CPU time of process $1 so far, in clock ticks (utime + stime).
cpu_ticks() {
        # shellcheck disable=SC2046 # the fields after "pid (comm) "
        set -- $(sed 's/.*) //' "/proc/$1/stat")
        echo $((${12} + ${13}))
}

# Waits up to $2 seconds until process $1 works: at least a fifth of a
# CPU over 0.2 s.  1 if it did not.
busy_wait() {
        last=$(cpu_ticks "$1")
        i=0
        while [ "$i" -lt $(($2 * 5)) ]; do
                sleep 0.2
                alive "$1" || die "process $1 ended while awaited"
                now=$(cpu_ticks "$1")
                [ $((now - last)) -lt $((hz / 25)) ] || return 0
                last=$now
                i=$((i + 1))
        done
        return 1
}

# Every process of the pipeline still runs (none died on its own).
all_alive() {
        q=""
        for a in broker $stages; do
                eval "q=\$pid_$a"
                alive "$q" || die "$a ($q) died on its own (see $a.log)"
        done
}

# One fault: after barrier $1 and a pause of $2 seconds ("busy": until the
# stage works, 60 s at most), signal $3 to stage $4, which is then
# restarted.
fault() {
        barrier_wait "$1"
        eval "p=\$pid_$4"
        if [ "$2" != busy ]; then
                sleep "$2"
                how="after $2 s"
        elif busy_wait "$p" 60; then
                how="while busy"
        else
                how="idle for 60 s"
        fi
        alive "$pid_replay" || die "the replay ended before SIG$3 to $4: a fault not placed"
        all_alive
        kill -"$3" "$p"
        gone "$p" 120 || die "$4 ($p) still runs 120 s after SIG$3"
        status=0
        wait "$p" 2>/dev/null || status=$?
        case $3 in
        TERM) want=0 ;; # a clean shutdown
        *) want=137 ;;
        esac
        line="barrier $(barriers): SIG$3 to $4 ($p) $how: exit $status"
        echo "$line" >>"$dir/faults.log"
        echo "==== restart.sh: $line; restarting" >>"$dir/$4.log"
        [ "$status" = "$want" ] || die "$line, expected $want"
        start "$4"
        faults=$((faults + 1))
}

faults=0
fault 3 0.1 TERM ingest
fault 5 0.2 TERM velocity
fault 7 0.1 TERM scorer
fault 9 0.2 TERM labeler
fault 11 0.5 TERM trainer
fault 13 0.3 TERM scorer
fault 15 0.1 KILL velocity
fault 17 0.2 KILL labeler
fault 19 busy KILL trainer
fault 21 0.1 KILL scorer
fault 23 0 KILL ingest
fault 25 0.3 KILL velocity
cat "$dir/faults.log"

status=0
wait "$pid_replay" || status=$?
pid_replay=""
all_alive
grep -v AUTOCREATE "$dir/replay.log" | grep -e 'barrier not complete' -e 'announced inside a day (' || true
summary=$(grep 'records published' "$dir/replay.log" || true)
echo "$summary"
# "... (P payments, ...); S scored, N not scored, T scored twice, ...; L late barriers, ..."
counts=$(echo "$summary" | sed -n 's/.*(\([0-9]*\) payments.* \([0-9]*\) scored, \([0-9]*\) not scored, \([0-9]*\) scored twice.* \([0-9]*\) late barriers.*/\1 \2 \3 \4 \5/p')
[ -n "$counts" ] || die "replay exited $status without its summary"
# shellcheck disable=SC2086 # five numbers
set -- $counts
echo "restart: $faults faults; $1 payments, $2 scored, $3 not scored, $4 scored twice (re-sent)," \
        "$5 late barriers"
if [ "$3" != 0 ] || [ "$2" != "$1" ]; then die "payments without a Score"; fi
[ "$status" = 0 ] || [ "$status" = 1 ] || die "replay exited $status"
late=$5

# The daemons stop cleanly after all this, too.
for n in $stages; do
        eval "p=\$pid_$n"
        kill -TERM "$p"
        gone "$p" 120 || die "$n ($p) still runs 120 s after the final SIGTERM"
        s=0
        wait "$p" || s=$?
        eval "pid_$n=''"
        [ "$s" = 0 ] || die "$n exited $s on the final SIGTERM"
done

# Both files: transaction_id,event_time,card_hash,probability,decision,stage,model_version,...
# replay/scores.csv has the first Score of each id only.
status=0
awk -F, '
        FNR == 1 { next }
        FILENAME == ARGV[1] { p[$1] = $4; d[$1] = $5; v[$1] = $7; n1++; next }
        {
                n2++
                if (!($1 in p)) { missing++; if (missing <= 5) print "only in replay: " $1; next }
                seen[$1]++
                diff = p[$1] - $4; if (diff < 0) diff = -diff
                if (d[$1] != $5 || diff > 1e-6 || v[$1] != $7) {
                        bad++
                        if (bad <= 10) print "differs: " $1 " backtest " d[$1] " " p[$1] " " v[$1] \
                                             " replay " $5 " " $4 " " $7
                }
                if ($7 != "") modelled++
        }
        END {
                for (id in p) if (!(id in seen)) { absent++; if (absent <= 5) print "only in backtest: " id }
                printf "restart: %d payments in the backtest, %d in the replay, %d decided by a model; " \
                       "%d differ, %d only in the replay, %d only in the backtest\n",
                       n1, n2, modelled, bad, missing, absent
                exit (bad || missing || absent || n1 == 0 || n1 != n2 || modelled == 0) ? 1 : 0
        }' "$dir/backtest/scores.csv" "$dir/replay/scores.csv" || status=1

# The trainer's state: the same versions, models, metadata and champion as
# the backtest's registry.
if diff -r "$dir/backtest/registry" "$dir/registry" >"$dir/registry.diff"; then
        echo "restart: the registry equals the backtest's" \
                "($(find "$dir/registry" -mindepth 1 -maxdepth 1 | wc -l) entries)"
else
        head -20 "$dir/registry.diff"
        echo "restart: the registry differs from the backtest's"
        status=1
fi
if [ "$late" != 0 ]; then
        # A barrier waits for the groups of velocity, labeler and trainer to
        # commit the ends of their inputs.  A stage killed after its RocksDB
        # checkpoint and before Kafka learned the offsets resumes at the
        # end of its input and has nothing to commit until new input comes:
        # the barrier then waits out its time.  Decisions, scores and the
        # registry are checked above and do not depend on it; this is
        # reported, not failed (the next step: commit the store's offsets to
        # the group when a stage resumes).
        echo "restart: $late day barriers not complete after $barrier_s s (reported, not a failure)"
fi
echo "restart: $(($(date +%s) - t0)) s"
exit "$status"
