#!/bin/sh
# run.sh: the dashboard in a real browser.  Starts fraud-broker,
# fraud-ingest, fraud-velocity, fraud-scorer and fraud-dashboard (the built
# binaries, a temporary configuration), trains a small first model (so the
# scorer runs its cascade and sends a realistic share to review), publishes
# simulated payments at 200/s, and runs dashboard.mjs: headless Chromium
# (Debian's) driven by Playwright, which loads the page, watches live rows
# arrive, closes a review with the "fraud" button and finds the
# REVIEW_FRAUD Chargeback on the chargebacks topic with kcat.
#
# Needs chromium, node and npm: installed from Debian when missing
# (tools/deps.sh); exits 77 (skipped) only when one is missing and cannot
# be installed.  playwright-core (pinned in package.json and
# package-lock.json) is installed with `npm ci` when node_modules lacks it.
#
#   FRAUD_BUILD_ROOT, FRAUD_SOURCE_ROOT  set by meson test
#   CHROMIUM=PATH                        the browser (default /usr/bin/chromium)
#   SCREENSHOT=FILE                      a full-page PNG at the end
#   SETTLE_SECONDS=N                     wait N s before that screenshot
#   RATE=N                               payments per second (default 200)
#   KEEP=1                               keep the working folder
set -eu

build=${FRAUD_BUILD_ROOT:?}
src=${FRAUD_SOURCE_ROOT:?}
here=$src/tests/browser
chromium=${CHROMIUM:-/usr/bin/chromium}
rate=${RATE:-200}

. "$src/tools/deps.sh"
missing() {
        m=""
        [ -x "$chromium" ] || m="$m chromium"
        command -v node >/dev/null 2>&1 || m="$m nodejs"
        command -v npm >/dev/null 2>&1 || m="$m npm"
        echo "$m"
}
if [ -n "$(missing)" ]; then
        fraud_deps_install $(missing) || true
        if [ -n "$(missing)" ]; then
                echo "skipped: missing and not installable:$(missing)"
                exit 77
        fi
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
        npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi

dir=$(mktemp -d /tmp/fraud-browser-XXXXXX)
pids=""
broker=""
cleanup() {
        # The daemons first, and only then the broker: a consumer that
        # leaves its group commits, which waits for a broker that answers.
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
        for p in $pids; do wait "$p" 2>/dev/null || true; done
        [ -z "$broker" ] || { kill -TERM "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; }
        if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

unset FRAUD_KAFKA_BOOTSTRAP
export FRAUD_INGEST_CARD_HASH_KEY=000102030405060708090a0b0c0d0e0f

# The first model: 20 simulated days before the live stream, labelled by
# the chargebacks known when it starts (as run-demo.sh does, smaller).
"$build/tools/fraudctl" generate --days 20 --customers 1500 --merchants 200 --seed 5 \
        --start 2025-12-12 --out "$dir/history" >"$dir/history.log" 2>&1
"$build/tools/fraudctl" features --transactions "$dir/history/transactions.csv" \
        --chargebacks "$dir/history/chargebacks.csv" --label-cutoff 2026-01-01 \
        --out "$dir/history/rows.csv" >>"$dir/history.log" 2>&1
"$build/tools/fraudctl" train --input "$dir/history/rows.csv" --out "$dir/model" \
        --holdout-days 5 >"$dir/train.log" 2>&1 || {
        cat "$dir/train.log"
        exit 1
}

# Every endpoint on a free port: other tests run beside this one.
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
  model_dir: "$dir/model"
  http_listen: "127.0.0.1:0"
dashboard:
  http_listen: "127.0.0.1:0"
  page_listen: "127.0.0.1:0"
  psi_reference_records: 2000
  psi_window_records: 2000
YAML

start() { # name, program
        "$build/$2" --config "$dir/fraud.yaml" >"$dir/$1.log" 2>&1 &
        pids="$! $pids"
}
"$build/tools/fraud-broker" --config "$dir/fraud.yaml" >"$dir/broker.log" 2>&1 &
broker=$!
for _ in $(seq 100); do [ -s "$dir/bootstrap" ] && break; sleep 0.1; done
[ -s "$dir/bootstrap" ] || { cat "$dir/broker.log"; exit 1; }
start ingest ingest/fraud-ingest
start velocity velocity/fraud-velocity
start scorer scorer/fraud-scorer
start dashboard dashboard/fraud-dashboard
dashboard=${pids%% *}
url=""
for _ in $(seq 100); do
        url=$(sed -n 's|.*page on \(http://[^ ]*\) .*|\1|p' "$dir/dashboard.log")
        [ -n "$url" ] && break
        sleep 0.1
done
[ -n "$url" ] || { echo "fraud-dashboard did not start:"; cat "$dir/dashboard.log"; exit 1; }
echo "dashboard at $url"

"$build/tools/fraudctl" generate --config "$dir/fraud.yaml" --publish --rate "$rate" --days 1 \
        --seed 9 >"$dir/generate.log" 2>&1 &
pids="$! $pids"

status=0
DASHBOARD_URL=$url BOOTSTRAP=$(cat "$dir/bootstrap") CHROMIUM=$chromium \
        node "$here/dashboard.mjs" || status=$?
if [ "$status" -ne 0 ]; then
        for n in dashboard scorer generate; do echo "== $n"; tail -5 "$dir/$n.log"; done
fi

# A clean stop on SIGTERM: exit status 0 (in the sanitized build, also no
# error and no leak at exit).
kill -TERM "$dashboard"
stopped=0
wait "$dashboard" || stopped=$?
if [ "$stopped" -ne 0 ]; then
        echo "fraud-dashboard exited with status $stopped after SIGTERM:"
        tail -n 30 "$dir/dashboard.log"
        status=1
fi
exit "$status"
