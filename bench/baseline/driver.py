#!/usr/bin/python3
"""driver.py: the baseline (fraud_baseline.py) at fixed offered rates,
measured the way bench_pipeline measures the C decision path.

  driver.py --build DIR [--rates R1,R2,...] [--seconds N] [--warmup N]
            [--history-days N] [--keep]

Four processes: fraud-broker (the embedded broker of the build DIR, topics
tx.raw, baseline.scores and baseline.dlq, one partition each), redis-server
(on a unix socket in a temporary folder, no RDB snapshots, no AOF), the
baseline consumer, and this program, which is both the payments source and
the reader of the scores.

The payments are the simulator's (`fraudctl generate` with its default
world: 10,000 customers, 1,000 merchants, seed 1, from 2026-01-01), the
JSON objects it publishes to tx.raw: the JSONL lines without the is_fraud
and scenario truth columns.  They are generated to a file first and held in
memory, so that sending costs one produce() call.  The baseline is trained
at its start on a separate labelled history, like bench_pipeline's models:
35 days, 2,000 customers, 300 merchants, seed 2, from 2025-11-20.

Like bench_pipeline: probes one payment at a time until the first score
(the consumer has trained and joined), offers the first rate for --warmup
seconds (not counted), then each rate for --seconds, and waits up to
DRAIN_MAX_S for the last scores of each rate.  Latency of a payment = the
instant its score is read minus the instant its record was handed to the
producer, on one monotonic clock in this process.  Sustained = scores read
per second from the first send to the last score of the rate.  Percentiles
are exact (sorted), with the same index rule as bench_pipeline, and each
rate's line has bench_pipeline's format, so one parser reads both.

Per rate it also prints the rate this driver actually sent at, the CPU
used by each process during the rate and its drain (percent of one core,
from /proc/PID/stat and os.times), and the side that limits: "driver" when
it sent less than 95 % of the offered rate, else "baseline" when fewer
than 95 % of the payments were scored or the sustained rate was under 95 %
of the offered one, else "-".  Nothing is asserted.
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))
TOPICS = ("tx.raw", "baseline.scores", "baseline.dlq")
RATES_MAX = 16
DRAIN_MAX_S = 30      # for the last scores of a rate (bench_pipeline's PIPE_DRAIN_MAX_S)
READY_MAX_S = 90      # for the first score once the consumer is subscribed
TRAIN_MAX_S = 900     # for the consumer's training at start-up
SCORES_BATCH_MAX = 10_000  # scores read per consume()
TX_PER_DAY = 15_000   # fewer than the simulator's default world makes per day
ID_PREFIX = b'{"transaction_id":"'
CLK_TCK = os.sysconf("SC_CLK_TCK")


def die(msg):
    print(f"driver: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_rates(text):
    try:
        rates = [float(x) for x in text.split(",")]
    except ValueError:
        rates = []
    if not rates or len(rates) > RATES_MAX or any(not 1 <= r <= 1e6 for r in rates):
        raise argparse.ArgumentTypeError(
            f"comma-separated rates in 1..1e6, at most {RATES_MAX}")
    return rates


def int_in(lo, hi):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            v = lo - 1
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"an integer from {lo} to {hi}")
        return v
    return parse


def parse_args():
    ap = argparse.ArgumentParser(description="The baseline at fixed offered rates.")
    ap.add_argument("--build", required=True, help="build folder (tools/fraud-broker, "
                    "tools/fraudctl)")
    ap.add_argument("--rates", type=parse_rates, default=[2000.0])
    ap.add_argument("--seconds", type=int_in(1, 3600), default=20, metavar="N")
    ap.add_argument("--warmup", type=int_in(0, 3600), default=5, metavar="N")
    ap.add_argument("--history-days", type=int_in(7, 365), default=35, metavar="N")
    ap.add_argument("--keep", action="store_true", help="keep the working folder")
    return ap.parse_args()


# ---- processes ----

class Procs:
    """The child processes, their logs in the working folder."""

    def __init__(self, work):
        self.work = work
        self.children = {}  # name -> Popen

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.work, name + ".log"), "ab")
        self.children[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, env=env)
        log.close()
        return self.children[name]

    def alive(self, name):
        return self.children[name].poll() is None

    def log_tail(self, name, lines=3):
        with open(os.path.join(self.work, name + ".log"), "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode("utf-8", "replace")

    def cpu_ticks(self):
        ticks = {}
        for name, p in self.children.items():
            try:
                with open(f"/proc/{p.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks[name] = int(fields[11]) + int(fields[12])  # utime + stime
            except OSError:
                ticks[name] = 0
        t = os.times()
        ticks["driver"] = round((t.user + t.system) * CLK_TCK)
        return ticks

    def stop_all(self):
        for name in reversed(list(self.children)):
            p = self.children[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def run_tool(argv, log):
    with open(log, "ab") as f:
        if subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT).returncode != 0:
            die(f"{' '.join(argv[:2])} failed (see {log})")


def generate(args, work, n_needed):
    """The labelled history and the stream, as JSONL files."""
    ctl = os.path.join(args.build, "tools", "fraudctl")
    log = os.path.join(work, "generate.log")
    days = min(3660, math.ceil(n_needed / TX_PER_DAY) + 1)
    run_tool([ctl, "generate", "--days", str(args.history_days), "--customers", "2000",
              "--merchants", "300", "--seed", "2", "--start", "2025-11-20", "--format",
              "jsonl", "--out", os.path.join(work, "history")], log)
    run_tool([ctl, "generate", "--days", str(days), "--format", "jsonl", "--out",
              os.path.join(work, "stream")], log)


def load_stream(path):
    """(ids, records): the transaction id and the published JSON of each
    line, without the truth columns (as `fraudctl generate --publish`)."""
    ids, records = [], []
    with open(path, "rb") as f:
        for line in f:
            cut = line.rfind(b',"is_fraud":')
            if not line.startswith(ID_PREFIX) or cut < 0:
                die(f"{path}: unexpected line {line[:60]!r}")
            ids.append(line[len(ID_PREFIX):line.index(b'"', len(ID_PREFIX))])
            records.append(line[:cut] + b"}")
    return ids, records


def start_services(args, procs, work):
    """fraud-broker, redis-server and the baseline; returns the bootstrap."""
    boot = os.path.join(work, "bootstrap")
    procs.start("fraud-broker", [os.path.join(args.build, "tools", "fraud-broker"),
                                 "--topics", ",".join(TOPICS), "--partitions", "1",
                                 "--bootstrap-file", boot])
    sock = os.path.join(work, "redis.sock")
    procs.start("redis-server", ["/usr/bin/redis-server", "--port", "0", "--unixsocket", sock,
                                 "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                 "--dir", work])
    for _ in range(100):
        if os.path.exists(boot) and os.path.exists(sock):
            break
        time.sleep(0.1)
    else:
        die(f"fraud-broker or redis-server did not start (logs in {work})")
    with open(boot) as f:
        bootstrap = f.read().strip()
    procs.start("baseline", ["/usr/bin/python3", os.path.join(HERE, "fraud_baseline.py"),
                             "--bootstrap", bootstrap, "--redis-socket", sock, "--history",
                             os.path.join(work, "history", "transactions.jsonl")])
    return bootstrap


# ---- measurement ----

class Phase:
    def __init__(self, rate):
        self.rate = rate
        self.sent = self.scored = 0
        self.first_sent_ns = self.last_sent_ns = self.last_scored_ns = 0
        self.latency_ms = []
        self.parts_ms = ([], [], [])


class Driver:
    def __init__(self, bootstrap, ids, records, rates):
        self.ids, self.records, self.next = ids, records, 0
        self.inflight = {}  # id -> (phase index, sent monotonic ns, sent wall us)
        self.phases = [Phase(rates[0])] + [Phase(r) for r in rates]
        self.unknown = 0
        # log_level 4: no notice when the broker goes away at the end.
        common = {"bootstrap.servers": bootstrap, "log_level": 4}
        self.producer = Producer({**common, "linger.ms": 2,
                                  "compression.type": "lz4", "acks": "all",
                                  "enable.idempotence": True,
                                  "queue.buffering.max.messages": 2_000_000})
        self.consumer = Consumer({**common, "group.id": "baseline-driver",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 2})
        self.consumer.assign([TopicPartition(TOPICS[1], 0, OFFSET_BEGINNING)])

    def send(self, phase):
        if self.next == len(self.records):
            die("the generated stream is exhausted")
        i = self.next
        self.next += 1
        now = time.monotonic_ns()
        self.inflight[self.ids[i]] = (phase, now, time.time_ns() // 1000)
        try:
            self.producer.produce(TOPICS[0], self.records[i], self.ids[i])
        except BufferError:
            self.producer.poll(0.01)
            self.producer.produce(TOPICS[0], self.records[i], self.ids[i])
        ph = self.phases[phase]
        ph.sent += 1
        ph.first_sent_ns = ph.first_sent_ns or now
        ph.last_sent_ns = now

    def poll(self, timeout):
        """Reads the scores that have arrived, waiting up to timeout (s) for
        the first: consume() alone would wait its whole timeout."""
        first = self.consumer.poll(timeout) if timeout > 0 else None
        msgs = self.consumer.consume(num_messages=SCORES_BATCH_MAX, timeout=0)
        if first is not None:
            msgs.insert(0, first)
        now, now_us = time.monotonic_ns(), time.time_ns() // 1000
        for m in msgs:
            if m.error():
                continue
            slot = self.inflight.pop(m.key(), None)
            if slot is None:
                self.unknown += 1
                continue
            phase, sent_ns, sent_us = slot
            ph = self.phases[phase]
            ph.scored += 1
            ph.latency_ms.append((now - sent_ns) / 1e6)
            ph.last_scored_ns = now
            score = json.loads(m.value())
            received, scored = score["received_us"], score["scored_us"]
            for k, v in enumerate((received - sent_us, scored - received, now_us - scored)):
                ph.parts_ms[k].append(v / 1e3)
        self.producer.poll(0)
        return len(msgs)

    def offer(self, phase, rate, seconds):
        start = time.monotonic_ns()
        end = start + seconds * 1_000_000_000
        sent = 0
        now = start
        while now < end:
            due = int((now - start) * rate / 1e9) + 1
            while sent < due:
                self.send(phase)
                sent += 1
            self.poll(0)
            left = start + sent * 1e9 / rate - time.monotonic_ns()
            if left > 0:
                time.sleep(min(left, 1e6) / 1e9)
            now = time.monotonic_ns()

    def drain(self, phase, max_s):
        end = time.monotonic() + max_s
        ph = self.phases[phase]
        while ph.scored < ph.sent and time.monotonic() < end:
            self.poll(0.005)

    def wait_ready(self, procs):
        start = time.monotonic()
        while "consuming" not in procs.log_tail("baseline", 20):
            if not procs.alive("baseline"):
                die("the baseline stopped:\n" + procs.log_tail("baseline", 20))
            if time.monotonic() - start > TRAIN_MAX_S:
                die(f"the baseline did not start within {TRAIN_MAX_S} s")
            time.sleep(0.5)
        print(procs.log_tail("baseline", 2).strip(), flush=True)
        subscribed = time.monotonic()
        while self.phases[0].scored == 0:
            if time.monotonic() - subscribed > READY_MAX_S:
                die(f"no score {READY_MAX_S} s after the baseline subscribed")
            self.send(0)
            for _ in range(20):
                if self.poll(0.01) and self.phases[0].scored:
                    break
        print(f"baseline ready after {time.monotonic() - start:.1f} s", flush=True)


# ---- report ----

def quantile(v, q):
    return v[min(int(q * len(v)), len(v) - 1)] if v else 0.0


def report(ph, cpu, seconds):
    window = (ph.last_scored_ns - ph.first_sent_ns) / 1e9
    lat = sorted(ph.latency_ms)
    print(f"{ph.rate:7.0f}/s  sent {ph.sent:7d}  scored {ph.scored:7d}  sustained "
          f"{ph.scored / window if window > 0 else 0:7.0f}/s  p50 {quantile(lat, .5):6.2f}  "
          f"p99 {quantile(lat, .99):6.2f}  p99.9 {quantile(lat, .999):6.2f}  "
          f"max {lat[-1] if lat else 0:7.2f} ms")
    for name, part in zip(("publish->consume", "consume->score", "score->read"),
                          ph.parts_ms):
        part = sorted(part)
        print(f"           {name:<16} p50 {quantile(part, .5):6.2f}  "
              f"p99 {quantile(part, .99):6.2f} ms")
    send_window = (ph.last_sent_ns - ph.first_sent_ns) / 1e9
    send_rate = (ph.sent - 1) / send_window if send_window > 0 else 0
    if send_rate < 0.95 * ph.rate:
        limit = "driver"
    elif window <= 0 or ph.scored / window < 0.95 * ph.rate or ph.scored < 0.95 * ph.sent:
        limit = "baseline"
    else:
        limit = "-"
    print(f"           driver sent {send_rate:7.0f}/s; CPU % of one core over "
          f"{seconds:.0f} s: " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
          + f"; limit: {limit}", flush=True)


def cpu_percent(before, after, seconds):
    return {k: 100.0 * (after[k] - before.get(k, 0)) / CLK_TCK / seconds for k in after}


def measure(args, procs, driver):
    driver.wait_ready(procs)
    if args.warmup:
        driver.offer(0, args.rates[0], args.warmup)
    driver.drain(0, DRAIN_MAX_S)
    print("offered    sent / scored, sustained = scores per second of the window, "
          "latency = publish to score read", flush=True)
    for i, rate in enumerate(args.rates, start=1):
        t0, before = time.monotonic(), procs.cpu_ticks()
        driver.offer(i, rate, args.seconds)
        driver.drain(i, DRAIN_MAX_S)
        elapsed = time.monotonic() - t0
        report(driver.phases[i], cpu_percent(before, procs.cpu_ticks(), elapsed), elapsed)
        if not procs.alive("baseline"):
            die("the baseline stopped:\n" + procs.log_tail("baseline", 20))
    if driver.unknown:
        print(f"note: {driver.unknown} scores of unknown or already scored ids")


def run(args, procs, bootstrap, ids, records):
    """Measures; the driver's clients are gone when it returns, before the
    broker stops (else they report its absence)."""
    driver = Driver(bootstrap, ids, records, args.rates)
    try:
        measure(args, procs, driver)
    finally:
        driver.consumer.close()
        driver.producer.flush(10)


def main():
    args = parse_args()
    for exe in ("tools/fraud-broker", "tools/fraudctl"):
        if not os.access(os.path.join(args.build, exe), os.X_OK):
            die(f"{os.path.join(args.build, exe)}: not built")
    work = tempfile.mkdtemp(prefix="fraud-baseline-")
    procs = Procs(work)
    try:
        n_needed = int((args.warmup * args.rates[0] + args.seconds * sum(args.rates)) * 1.1
                       + 10_000)
        print("generating the history and the stream...", flush=True)
        generate(args, work, n_needed)
        ids, records = load_stream(os.path.join(work, "stream", "transactions.jsonl"))
        bootstrap = start_services(args, procs, work)
        print(f"broker {bootstrap}; redis-server on a unix socket; one baseline process "
              f"(Python: confluent-kafka, redis-py, xgboost), training on "
              f"{args.history_days} simulated days...", flush=True)
        run(args, procs, bootstrap, ids, records)
    finally:
        procs.stop_all()
        if "baseline" in procs.children:
            print(procs.log_tail("baseline", 1).strip())
        if args.keep:
            print(f"working folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
