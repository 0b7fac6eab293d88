#!/bin/sh
# prometheus.sh: a real Prometheus (Debian's prometheus package) scrapes
# the five stage daemons with the shipped scrape configuration.
#
# Starts fraud-broker and fraud-ingest, fraud-velocity, fraud-scorer,
# fraud-labeler and fraud-trainer (the built binaries, a temporary
# configuration), each endpoint on port 0 (other tests run beside this one;
# the port bound is read from the daemon's "http endpoint on" log line).
# The scrape configuration is deploy/prometheus/prometheus.yml with only
# its targets rewritten to those ports (matched by each target's "stage"
# label) and its intervals cut to 1 s, so the job names, metrics_path and
# labels under test are the shipped ones.  Prometheus listens on port 0
# too (its "Listening on" line tells the port).  Once it is ready, a few
# seconds of simulated payments are published, and its HTTP API is polled
# (python3, urllib) until every stage's target is up and each stage's
# counters came through (the checks are listed in CHECKS below), or
# FRAUD_PROM_WAIT_SEC passes: then the test fails with the targets' health
# and last scrape errors and the queries that were not satisfied.
#
# Exit 77 (meson's skip) only when prometheus is missing and cannot be
# installed; tools/deps.sh lists it (FRAUD_TEST_PACKAGES).
#
#   FRAUD_BUILD_ROOT, FRAUD_SOURCE_ROOT  set by meson test
#   FRAUD_PROM_WAIT_SEC=N                how long to wait for the scrapes (60)
#   KEEP=1                               keep the working folder
set -eu

build=${FRAUD_BUILD_ROOT:?FRAUD_BUILD_ROOT is not set (run through meson test)}
src=${FRAUD_SOURCE_ROOT:?FRAUD_SOURCE_ROOT is not set (run through meson test)}
wait_sec=${FRAUD_PROM_WAIT_SEC:-60}
python=/usr/bin/python3

. "$src/tools/deps.sh"
if ! command -v prometheus >/dev/null 2>&1; then
        fraud_deps_install prometheus || true
        if ! command -v prometheus >/dev/null 2>&1; then
                echo "SKIP: prometheus not installed and not installable (Debian package prometheus)"
                exit 77
        fi
fi

dir=$(mktemp -d /tmp/fraud-prometheus-XXXXXX)
pids=""
broker=""
prom=""

# The daemons first (a consumer leaving its group commits through the
# broker), then Prometheus, the broker last.
cleanup() {
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
        for p in $pids; do wait "$p" 2>/dev/null || true; done
        [ -z "$prom" ] || { kill -TERM "$prom" 2>/dev/null || true; wait "$prom" 2>/dev/null || true; }
        [ -z "$broker" ] || { kill -TERM "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; }
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
  threads: 1
YAML

# Waits up to 10 s for a sed pattern's first match in a log; prints it.
# Fails when the process pid exits first or the time runs out.
log_wait() { # log, sed expression, pid
        for _ in $(seq 100); do
                v=$(sed -n "$2" "$1" | head -1)
                [ -n "$v" ] && { echo "$v"; return 0; }
                kill -0 "$3" 2>/dev/null || break
                sleep 0.1
        done
        echo "no match for '$2' in $1:" >&2
        tail -20 "$1" >&2
        return 1
}

"$build/tools/fraud-broker" --config "$dir/fraud.yaml" >"$dir/broker.log" 2>&1 &
broker=$!
for _ in $(seq 100); do [ -s "$dir/bootstrap" ] && break; sleep 0.1; done
[ -s "$dir/bootstrap" ] || { echo "fraud-broker did not start:"; cat "$dir/broker.log"; exit 1; }

: >"$dir/ports"
for stage in ingest velocity scorer labeler trainer; do
        "$build/$stage/fraud-$stage" --config "$dir/fraud.yaml" >"$dir/$stage.log" 2>&1 &
        pids="$! $pids"
        port=$(log_wait "$dir/$stage.log" \
                's/.*http endpoint on 127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$!")
        echo "$stage $port" >>"$dir/ports"
done
echo "daemons: $(tr '\n' ' ' <"$dir/ports")"

# The shipped configuration, each target replaced by the port of the stage
# its labels name (the lines between a target and its "stage:" label are
# held back until the stage is known); a target without a stage label, or
# with a stage that no daemon here serves, fails the test.
awk -v ports="$dir/ports" '
        BEGIN { while ((getline l < ports) > 0) { split(l, f, " "); port[f[1]] = f[2] } }
        function fail(why) { print "prometheus.yml: " why > "/dev/stderr"; bad = 1; exit 1 }
        /^[ \t]*- targets:/ { if (held != "") fail("a target without a stage label"); held = $0; rest = ""; next }
        held != "" && /^[ \t]*stage:/ {
                s = $2
                if (!(s in port)) fail("no daemon for stage " s)
                if (!sub(/"[^"]*"/, "\"127.0.0.1:" port[s] "\"", held)) fail("no target in: " held)
                printf "%s\n%s%s\n", held, rest, $0
                held = ""; next
        }
        held != "" { rest = rest $0 "\n"; next }
        { print }
        END { if (!bad && held != "") fail("a target without a stage label") }
' "$src/deploy/prometheus/prometheus.yml" >"$dir/targets.yml"
grep -q "127.0.0.1:" "$dir/targets.yml" || { echo "prometheus.yml: no target rewritten"; exit 1; }
sed 's/^\([ \t]*\)\(scrape_interval\|evaluation_interval\):.*/\1\2: 1s/' \
        "$dir/targets.yml" >"$dir/prometheus.yml"

prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
        --web.listen-address=127.0.0.1:0 --log.level=info >"$dir/prometheus.log" 2>&1 &
prom=$!
port=$(log_wait "$dir/prometheus.log" 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$prom")
url=http://127.0.0.1:$port
echo "prometheus $(prometheus --version 2>&1 | sed -n '1s/.*version \([^ ]*\).*/\1/p') at $url"

# A few seconds of payments, so that the stages' counters move.
started=$(date +%s)
"$build/tools/fraudctl" generate --config "$dir/fraud.yaml" --publish --rate 500 --days 1 \
        --customers 200 --seconds 5 --seed 3 >"$dir/generate.log" 2>&1 || {
        echo "fraudctl generate failed:"; tail -20 "$dir/generate.log"; exit 1
}
tail -1 "$dir/generate.log"

# Every stage of the shipped config up, and its numbers through Prometheus.
# Each check: a PromQL expression, grouped by stage, and the least value
# each stage in its list must show.
status=0
"$python" - "$url" "$wait_sec" <<'PY' || status=$?
import json, sys, time, urllib.parse, urllib.request

url, wait_sec = sys.argv[1], float(sys.argv[2])
STAGES = ["ingest", "velocity", "scorer", "labeler", "trainer"]
CHECKS = [  # (query, stages, least value)
    ('up{job="fraud"}', STAGES, 1),
    ('fraud_build_info{job="fraud"}', STAGES, 1),
    ('fraud_stage_steps_total{job="fraud"}', STAGES, 1),
    ('fraud_stage_ready{job="fraud"}', STAGES, 1),
    ('ingest_consumed_total', ["ingest"], 1),
    ('ingest_normalized_total', ["ingest"], 1),
    ('velocity_vectors_total', ["velocity"], 1),
    ('scorer_scored_total', ["scorer"], 1),
    ('labeler_consumed_total', ["labeler"], 1),
]

def get(path, **query):
    q = "?" + urllib.parse.urlencode(query) if query else ""
    with urllib.request.urlopen(url + path + q, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body["data"]

def targets():
    return {t["labels"].get("stage", "?"): t for t in get("/api/v1/targets")["activeTargets"]}

def check(query, stages, least):
    """'' when every stage shows at least `least`, else what is missing."""
    by_stage = {}
    for r in get("/api/v1/query", query=f"sum by (stage) ({query})")["result"]:
        by_stage[r["metric"].get("stage", "?")] = float(r["value"][1])
    short = [f"{s}={by_stage.get(s, 'absent')}" for s in stages if by_stage.get(s, -1) < least]
    return f"{query} >= {least}: " + ", ".join(short) if short else ""

def daemons_misplaced():
    """Each stage's target is that stage's daemon (fraud_build_info's label)."""
    rs = get("/api/v1/query", query='fraud_build_info{job="fraud"}')["result"]
    got = {r["metric"].get("stage"): r["metric"].get("daemon") for r in rs}
    return [f"target {s} serves daemon {got.get(s)}" for s in STAGES if got.get(s) != "fraud-" + s]

def ready():
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False

deadline = time.monotonic() + wait_sec
while not ready():
    if time.monotonic() > deadline:
        sys.exit(f"FAIL: {url}/-/ready not 200 after {wait_sec:.0f} s")
    time.sleep(0.2)
while True:
    problems = []
    try:
        ts = targets()
        for s in STAGES:
            t = ts.get(s)
            if t is None:
                problems.append(f"no target with stage={s}")
            elif t["health"] != "up":
                problems.append(f"target {s} {t['scrapeUrl']}: {t['health']}: {t['lastError']}")
        if not problems:
            problems = [p for p in (check(*c) for c in CHECKS) if p]
            problems += daemons_misplaced()
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        problems.append(f"prometheus API: {e}")
    if not problems:
        break
    if time.monotonic() > deadline:
        print(f"FAIL after {wait_sec:.0f} s:")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    time.sleep(0.5)

for s, t in sorted(targets().items()):
    print(f"target {s:8} {t['health']} {t['scrapeUrl']} job={t['labels']['job']}")
for query, stages, least in CHECKS:
    rs = get("/api/v1/query", query=f"sum by (stage) ({query})")["result"]
    vals = {r["metric"].get("stage"): r["value"][1] for r in rs}
    print(f"{query}: " + " ".join(f"{s}={vals[s]}" for s in stages))
PY
if [ "$status" -ne 0 ]; then
        for n in prometheus ingest velocity scorer labeler trainer; do echo "== $n"; tail -5 "$dir/$n.log"; done
        exit "$status"
fi
echo "prometheus: every stage up and its counters scraped," \
        "$(($(date +%s) - started)) s after the traffic began"
