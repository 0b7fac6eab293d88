#!/bin/sh
# run-demo.sh: install what is missing, build, start the embedded broker and
# stream simulated payments and chargebacks into it; at the end (after
# --seconds N, or on Ctrl-C) print a summary, with the topics read back by an
# independent Kafka client (kcat).
#
#   ./run-demo.sh [--seconds N] [--rate N] [--keep]
#
#   --seconds N   stop after N seconds (default: run until Ctrl-C)
#   --rate N      simulated payments per second (default 1000)
#   --keep        keep the working folder (broker log, bootstrap file)
#
# The pipeline's stage daemons join this demo as they are built (README,
# Status).
set -eu
cd "$(dirname "$0")"
. tools/deps.sh

seconds=""
rate=1000
keep=0
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
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
broker_pid=""
cleanup() {
        if [ -n "$broker_pid" ]; then
                kill -TERM "$broker_pid" 2>/dev/null || true
                wait "$broker_pid" 2>/dev/null || true
        fi
        if [ "$keep" -eq 1 ]; then
                echo "working folder kept: $work"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
# Ctrl-C reaches the generator (same process group), which stops cleanly and
# prints its summary; this shell goes on to print the rest.
trap 'echo' INT

build/tools/fraud-broker --bootstrap-file "$work/bootstrap" >"$work/broker.out" 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do
        [ -s "$work/bootstrap" ] && break
        sleep 0.1
done
if [ ! -s "$work/bootstrap" ]; then
        echo "run-demo.sh: fraud-broker did not start:" >&2
        cat "$work/broker.log" >&2
        exit 1
fi
bootstrap=$(cat "$work/bootstrap")
echo "embedded broker: $bootstrap"
echo "streaming simulated payments at $rate/s${seconds:+ for $seconds s} (Ctrl-C stops)"

set -- --bootstrap "$bootstrap" --rate "$rate"
[ -n "$seconds" ] && set -- "$@" --seconds "$seconds"
status=0
build/tools/fraudctl generate "$@" || status=$?

count() { # topic: messages the broker still holds (it keeps 5 MiB per partition)
        kcat -b "$bootstrap" -t "$1" -C -e -q -f 'x\n' 2>/dev/null | wc -l
}
echo "read back by kcat: tx.raw $(count tx.raw) messages, chargebacks $(count chargebacks) messages"
echo "one payment as published:"
kcat -b "$bootstrap" -t tx.raw -C -o -1 -c 1 -e -q 2>/dev/null | head -c 600
echo
exit "$status"
