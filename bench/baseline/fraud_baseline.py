#!/usr/bin/python3
"""fraud_baseline.py: the decision path as a team would usually build it.

The baseline the benchmarks compare the C pipeline against: one Python
process with Debian's confluent-kafka, redis-py (hiredis) and xgboost that does the
job of fraud-ingest + fraud-velocity + fraud-scorer.  It consumes the raw
JSON payments of tx.raw (the records the simulator publishes), validates
them, keeps velocity in Redis sorted sets, builds a feature vector, scores
it with an XGBoost Booster and produces a JSON score to an output topic.

Design (what a competent team writes, neither a strawman nor tuned):

- Consume: one partition, one consumer in a group.  The loop blocks in
  poll() for the first message, then takes what else has arrived with
  consume(num_messages=BATCH_MAX, timeout=0): librdkafka's consume() waits
  its whole timeout unless the batch fills, so a plain consume(N, t) would
  add up to t of latency at low rates.  Client settings are the ones the
  embedded broker wants (lz4, linger.ms and fetch.wait.max.ms of 2 ms), as
  the C daemons use.
- Validate: json.loads, then one check per field (required text fields,
  ISO 8601 UTC time, ISO 4217 currency and its decimals, a positive amount
  in minor units, 13..19 digit PAN with its Luhn check, MCC, ISO 3166
  country, channel, optional device and IP).  A bad record goes to the dead
  letter topic with its reason and its bytes, never dropped silently.  The
  PAN and the device id are replaced by keyed BLAKE2b hashes at once, so no
  card number reaches Redis.
- Velocity: one sorted set per entity (card, terminal, device, IP; device
  and IP only when present), member "txid|amount_eur_cents|merchant",
  score = event time in ms, over spans of 1 min, 1 h, 24 h, 7 d and 30 d.
  Per transaction one Redis pipeline (no MULTI), for each entity: ZADD,
  ZREMRANGEBYSCORE (drop what is older than the longest span), one
  ZRANGEBYSCORE WITHSCORES, PEXPIRE (idle entities go away).  The card's
  range covers 30 d (a card has tens of events): its counts, amount sums
  and distinct merchants for every span come from it in one backward pass
  in Python.  A terminal has hundreds of events in 30 d, so for the
  terminal, device and IP the range covers 24 h (counts and sums up to
  24 h) and two ZCOUNTs give the 7 d and 30 d counts on the server.
  Windows are on event time, (t - w, t], the current payment included.  A
  redelivered payment adds the same member again, which ZADD ignores, so
  replays do not double count.  One pipeline, so one round trip, per
  transaction: the usual shape.  (Redis runs a pipeline's commands in
  order, so one pipeline per batch would also let payments of one card in
  a batch see each other, with far fewer round trips: the optimisation
  such a team would make next; not made here.)
- Score: the feature rows of a batch go through Booster.inplace_predict in
  one call.  The Booster is trained by this process at start-up on a
  simulated, labelled history (--history, the simulator's JSONL with its
  is_fraud truth column): the history is replayed through the same
  validation and Redis velocity code, so training and serving features are
  computed by one function, and Redis is emptied before serving.  Two
  rules come first (a card-testing burst blocks, a card's 24 h spend over
  5,000 EUR goes to review); otherwise the probability decides: block at
  BLOCK_AT, review at REVIEW_AT, else allow.
- Produce: one JSON object per payment to the score topic, keyed by
  transaction id: id, probability, decision, reason, the producer
  timestamp of the raw record (Kafka CreateTime, ms), and this process's
  receive and score times (wall clock, us).  Producer with idempotence,
  acks=all, lz4, linger.ms=2.
- Offsets: auto-commit with enable.auto.offset.store=false; a batch's
  offsets are stored after its scores are handed to the producer (not
  after their delivery reports): at-least-once except for what is still in
  the producer's queue at a crash.
- One process, one core: Python's interpreter lock keeps the work on one
  core; more throughput would need more partitions and more processes.

Usage: fraud_baseline.py --bootstrap HOST:PORT --redis-socket PATH
                         --history FILE [--topic-in T] [--topic-out T]
                         [--topic-dlq T] [--group G]
SIGTERM or SIGINT: finish the batch, flush the producer, close, print a
summary on stderr.
"""

import argparse
import datetime
import hashlib
import ipaddress
import json
import re
import signal
import sys
import time

import numpy as np
import redis
import xgboost as xgb
from confluent_kafka import Consumer, KafkaError, Producer

BATCH_MAX = 500  # messages per consume()
SPANS_MS = (60_000, 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000)
SPAN_NAMES = ("1m", "1h", "24h", "7d", "30d")
LONGEST_MS = SPANS_MS[-1]
KEY_TTL_MS = LONGEST_MS + 86_400_000  # idle entities expire a day after the window
REVIEW_AT = 0.10
BLOCK_AT = 0.50
TRAIN_ROUNDS = 200
HASH_KEY = b"baseline-card-hash-key-0001"  # in production: from a secret store
RECORD_BYTES_MAX = 4096

CURRENCY_DECIMALS = {
    "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
    "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2,
    "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0,
    "KRW": 0, "KWD": 3, "MAD": 2, "MXN": 2, "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2,
    "OMR": 3, "PEN": 2, "PHP": 2, "PLN": 2, "QAR": 2, "RON": 2, "SAR": 2, "SEK": 2,
    "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0,
    "ZAR": 2,
}
# Units of the currency per euro (static: features must replay identically).
PER_EUR = {
    "EUR": 1.0, "GBP": 0.86, "USD": 1.08, "JPY": 162.0, "CHF": 0.95, "SEK": 11.5,
    "NOK": 11.6, "DKK": 7.46, "PLN": 4.3, "CZK": 25.0, "HUF": 395.0, "RON": 4.97,
    "TRY": 35.0, "BRL": 5.9, "MXN": 19.5, "CNY": 7.8, "CAD": 1.47, "AUD": 1.65,
    "NZD": 1.8, "INR": 90.0, "KRW": 1450.0, "SGD": 1.45, "HKD": 8.4, "ZAR": 20.0,
    "AED": 3.97, "SAR": 4.05, "ILS": 4.0, "THB": 38.0, "IDR": 17500.0,
    "ARS": 1000.0, "CLP": 1000.0, "COP": 4500.0,
}
_COUNTRIES = (
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCH"
    "CICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGN"
    "GPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLI"
    "LKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOM"
    "PAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTD"
    "TFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW")
COUNTRIES = frozenset(_COUNTRIES[i:i + 2] for i in range(0, len(_COUNTRIES), 2))
CHANNELS = ("card_present", "contactless", "ecommerce", "moto", "atm")
REQUIRED = ("transaction_id", "timestamp", "amount", "currency", "pan", "merchant_id",
            "terminal_id", "mcc", "country", "channel")
OPTIONAL = ("customer_id", "device_id", "ip")
ID_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}\Z")
AMOUNT_RE = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,3}))?\Z")
DIGITS_RE = re.compile(r"[0-9]+\Z")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z\Z")

# The card: count, amount sum and distinct merchants over every span; the
# terminal, device and IP: count over every span, amount sum up to 24 h.
N_SHORT = 3  # spans up to FETCH_OTHER_MS
FETCH_OTHER_MS = SPANS_MS[N_SHORT - 1]
LONG_SPANS_MS = SPANS_MS[N_SHORT:]
FEATURES = (
    [f"card_{s}_{n}" for s in ("count", "amount_sum", "merchants_distinct")
     for n in SPAN_NAMES]
    + [f"{e}_{s}_{n}" for e in ("terminal", "device", "ip")
       for s, names in (("count", SPAN_NAMES), ("amount_sum", SPAN_NAMES[:N_SHORT]))
       for n in names]
    + ["amount_eur", "card_amount_ratio_mean_30d", "card_seconds_since_prev", "hour_of_day",
       "is_weekend", "mcc", "has_device", "has_ip"]
    + [f"channel_{c}" for c in CHANNELS])


class Reject(Exception):
    """A record that fails validation: reason code and detail."""

    def __init__(self, reason, detail=""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


# ---- validation ----

def luhn_ok(pan):
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def keyed_hash(domain, value):
    return hashlib.blake2b(value.encode(), key=HASH_KEY, digest_size=16,
                           person=domain).hexdigest()


def parse_time_ms(text):
    if not TIME_RE.match(text):
        raise Reject("bad_timestamp", text[:40])
    try:
        t = datetime.datetime.fromisoformat(text)  # "Z" is understood from 3.11
    except ValueError:
        raise Reject("bad_timestamp", text[:40]) from None
    return int(t.timestamp() * 1000)


def parse_amount(text, currency):
    if currency not in CURRENCY_DECIMALS:
        raise Reject("unknown_currency", currency[:8])
    if text.startswith("-"):
        raise Reject("amount_not_positive", text[:24])
    m = AMOUNT_RE.match(text)
    if not m:
        raise Reject("bad_amount", text[:24])
    decimals = CURRENCY_DECIMALS[currency]
    frac = m.group(2) or ""
    if len(frac) > decimals:
        raise Reject("amount_too_precise", text[:24])
    minor = int(m.group(1)) * 10 ** decimals + int((frac + "000")[:decimals] or "0")
    if minor <= 0:
        raise Reject("amount_not_positive", text[:24])
    return minor


def validate(raw):
    """Raw record bytes -> dict of normalized fields, or raises Reject."""
    if len(raw) > RECORD_BYTES_MAX:
        raise Reject("too_large", str(len(raw)))
    try:
        rec = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise Reject("bad_json", str(e)[:80]) from None
    if not isinstance(rec, dict):
        raise Reject("bad_json", "not an object")
    for f in REQUIRED:
        v = rec.get(f)
        if v is None or v == "":
            raise Reject("missing_field", f)
        if not isinstance(v, str):
            raise Reject("bad_type", f)
    for f in OPTIONAL:
        if rec.get(f) is not None and not isinstance(rec[f], str):
            raise Reject("bad_type", f)
    txid = rec["transaction_id"]
    if not ID_RE.match(txid):
        raise Reject("bad_transaction_id", txid[:40])
    for f in ("merchant_id", "terminal_id"):
        if not ID_RE.match(rec[f]):
            raise Reject("bad_" + f, rec[f][:40])
    currency = rec["currency"]
    minor = parse_amount(rec["amount"], currency)
    per_eur = PER_EUR.get(currency)
    pan = rec["pan"]
    if not (13 <= len(pan) <= 19 and DIGITS_RE.match(pan)):
        raise Reject("bad_pan", "")
    if not luhn_ok(pan):
        raise Reject("pan_checksum", "")
    mcc = rec["mcc"]
    if len(mcc) != 4 or not DIGITS_RE.match(mcc):
        raise Reject("bad_mcc", mcc[:8])
    if rec["country"] not in COUNTRIES:
        raise Reject("unknown_country", rec["country"][:8])
    if rec["channel"] not in CHANNELS:
        raise Reject("unknown_channel", rec["channel"][:16])
    device = rec.get("device_id") or ""
    if device and not ID_RE.match(device):
        raise Reject("bad_device_id", device[:40])
    ip = rec.get("ip") or ""
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise Reject("bad_ip", ip[:40]) from None
    ts = parse_time_ms(rec["timestamp"])
    return {
        "id": txid,
        "ts": ts,
        "minor": minor,
        "currency": currency,
        # No reference rate for the currency: its amount features are 0.
        "eur_cents": round(minor * 100 / (10 ** CURRENCY_DECIMALS[currency] * per_eur))
        if per_eur else 0,
        "card": keyed_hash(b"card", pan),
        "merchant": rec["merchant_id"],
        "terminal": rec["terminal_id"],
        "mcc": int(mcc),
        "channel": rec["channel"],
        "device": keyed_hash(b"device", device) if device else "",
        "ip": ip,
    }


# ---- velocity in Redis ----

def entity_keys(tx):
    keys = [("card", "v:c:" + tx["card"]), ("terminal", "v:t:" + tx["terminal"])]
    if tx["device"]:
        keys.append(("device", "v:d:" + tx["device"]))
    if tx["ip"]:
        keys.append(("ip", "v:i:" + tx["ip"]))
    return keys


def velocity_member(tx):
    return f'{tx["id"]}|{tx["eur_cents"]}|{tx["merchant"]}'


def velocity_update(r, tx):
    """Adds tx to its entities' sets, in one pipeline, and returns
    {entity: (events, long_counts)}: the events of the card in
    (t - 30 d, t] and of the other entities in (t - 24 h, t], as
    [(member, score)] in ascending time, and for the other entities the
    ZCOUNTs of the spans longer than 24 h (a busy terminal has hundreds of
    events in 30 d: moving them all for every payment would cost more than
    the rest of the work)."""
    ts = tx["ts"]
    member = velocity_member(tx)
    keys = entity_keys(tx)
    pipe = r.pipeline(transaction=False)
    for name, key in keys:
        pipe.zadd(key, {member: ts})
        pipe.zremrangebyscore(key, "-inf", ts - LONGEST_MS)
        fetch_ms = LONGEST_MS if name == "card" else FETCH_OTHER_MS
        pipe.zrangebyscore(key, f"({ts - fetch_ms}", ts, withscores=True)
        if name != "card":
            for span in LONG_SPANS_MS:
                pipe.zcount(key, f"({ts - span}", ts)
        pipe.pexpire(key, KEY_TTL_MS)
    replies = pipe.execute()
    out, i = {}, 0
    for name, _ in keys:
        n_long = 0 if name == "card" else len(LONG_SPANS_MS)
        out[name] = (replies[i + 2], replies[i + 3:i + 3 + n_long])
        i += 4 + n_long
    return out


def span_stats(events, ts, n_spans, with_merchants):
    """Counts, amount sums (EUR cents) and distinct merchants of the first
    n_spans spans.  The spans are nested and the events come in ascending
    time, so one backward pass accumulates them."""
    counts, sums, merchants = [], [], []
    count = total = 0
    seen = set()
    for member, score in reversed(events):
        age = ts - score
        while len(counts) < n_spans and age >= SPANS_MS[len(counts)]:
            counts.append(count)
            sums.append(total)
            merchants.append(len(seen))
        if len(counts) == n_spans:
            break
        _, cents, merchant = member.split(b"|", 2)
        count += 1
        total += int(cents)
        if with_merchants:
            seen.add(merchant)
    while len(counts) < n_spans:
        counts.append(count)
        sums.append(total)
        merchants.append(len(seen))
    return counts, sums, merchants


def feature_row(tx, windows):
    """The feature vector of tx (order: FEATURES) from its windows."""
    ts = tx["ts"]
    card_events = windows["card"][0]
    counts, sums, merchants = span_stats(card_events, ts, len(SPANS_MS), True)
    row = counts + sums + merchants
    for entity in ("terminal", "device", "ip"):
        if entity not in windows:
            row.extend([0] * (len(SPANS_MS) + N_SHORT))
            continue
        events, long_counts = windows[entity]
        counts, sums, _ = span_stats(events, ts, N_SHORT, False)
        row.extend(counts + long_counts + sums)
    own = velocity_member(tx).encode()
    prev = [s for m, s in card_events if m != own]
    mean_30d = row[2 * len(SPANS_MS) - 1] / row[len(SPANS_MS) - 1]  # the card is counted
    t = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc)
    row.extend([
        tx["eur_cents"],
        tx["eur_cents"] / mean_30d if mean_30d else 1.0,
        (ts - max(prev)) / 1000 if prev else -1,
        t.hour,
        1 if t.weekday() >= 5 else 0,
        tx["mcc"],
        1 if tx["device"] else 0,
        1 if tx["ip"] else 0,
    ])
    row.extend(1 if tx["channel"] == c else 0 for c in CHANNELS)
    return row


CARD_COUNT_1M = FEATURES.index("card_count_1m")
CARD_SUM_1M = FEATURES.index("card_amount_sum_1m")
CARD_SUM_24H = FEATURES.index("card_amount_sum_24h")


def rules(row):
    """The hard rules, before the model: (decision, reason) or None."""
    count_1m = row[CARD_COUNT_1M]
    if count_1m >= 5 and row[CARD_SUM_1M] / count_1m < 300:
        return "block", "card_testing_burst"
    if row[CARD_SUM_24H] > 500_000:
        return "review", "card_spend_24h_limit"
    return None


def decide(prob, row):
    hit = rules(row)
    if hit:
        return hit
    if prob >= BLOCK_AT:
        return "block", "model"
    if prob >= REVIEW_AT:
        return "review", "model"
    return "allow", "model"


# ---- training at start-up ----

def train(r, history_path):
    """Replays the labelled history through validate() and Redis velocity,
    trains a Booster on the rows, then empties Redis."""
    t0 = time.monotonic()
    rows, labels, rejected = [], [], 0
    with open(history_path, "rb") as f:
        for line in f:
            truth = json.loads(line).get("is_fraud", 0)
            try:
                tx = validate(line)
            except Reject:
                rejected += 1
                continue
            rows.append(feature_row(tx, velocity_update(r, tx)))
            labels.append(1 if truth else 0)
    r.flushdb()
    if not rows or sum(labels) == 0:
        sys.exit(f"fraud_baseline: {history_path}: no usable labelled history")
    dtrain = xgb.DMatrix(np.asarray(rows, dtype=np.float32), label=np.asarray(labels),
                         feature_names=FEATURES)
    params = {"objective": "binary:logistic", "eval_metric": "aucpr", "max_depth": 6,
              "eta": 0.1, "subsample": 0.8, "tree_method": "hist", "nthread": 1}
    booster = xgb.train(params, dtrain, num_boost_round=TRAIN_ROUNDS)
    print(f"fraud_baseline: trained on {len(rows)} payments ({sum(labels)} fraud, "
          f"{rejected} rejected) in {time.monotonic() - t0:.1f} s", file=sys.stderr,
          flush=True)
    return booster


# ---- the loop ----

class Service:
    def __init__(self, args):
        self.args = args
        self.stop = False
        self.r = redis.Redis(unix_socket_path=args.redis_socket)
        self.r.flushdb()
        self.booster = train(self.r, args.history)
        common = {"bootstrap.servers": args.bootstrap}
        self.consumer = Consumer({
            **common, "group.id": args.group, "enable.auto.commit": True,
            "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 2, "fetch.min.bytes": 1})
        self.producer = Producer({
            **common, "enable.idempotence": True, "acks": "all", "linger.ms": 2,
            "compression.type": "lz4", "queue.buffering.max.messages": 1_000_000})
        self.processed = self.rejected = self.batches = 0
        # Where the time goes (s): handle() in all, Redis pipelines, predict.
        self.busy_s = self.redis_s = self.predict_s = 0.0

    def send(self, topic, key, value):
        while True:
            try:
                self.producer.produce(topic, value, key)
                return
            except BufferError:  # queue full: serve delivery reports, retry
                self.producer.poll(0.01)

    def reject(self, msg, e):
        dead = {"reason": e.reason, "detail": e.detail,
                "raw": msg.value().decode("utf-8", "replace")}
        self.send(self.args.topic_dlq, msg.key(), json.dumps(dead))
        self.rejected += 1

    def handle(self, batch):
        received_us = time.time_ns() // 1000
        t0 = time.perf_counter()
        good, rows = [], []
        for msg in batch:
            try:
                tx = validate(msg.value())
            except Reject as e:
                self.reject(msg, e)
                continue
            t = time.perf_counter()
            windows = velocity_update(self.r, tx)
            self.redis_s += time.perf_counter() - t
            rows.append(feature_row(tx, windows))
            good.append((msg, tx))
        if rows:
            t = time.perf_counter()
            probs = self.booster.inplace_predict(np.asarray(rows, dtype=np.float32))
            self.predict_s += time.perf_counter() - t
            scored_us = time.time_ns() // 1000
            for (msg, tx), row, prob in zip(good, rows, probs):
                decision, reason = decide(float(prob), row)
                self.send(self.args.topic_out, tx["id"], json.dumps({
                    "transaction_id": tx["id"], "probability": round(float(prob), 6),
                    "decision": decision, "reason": reason,
                    "producer_ts_ms": msg.timestamp()[1], "received_us": received_us,
                    "scored_us": scored_us}))
        self.producer.poll(0)
        self.consumer.store_offsets(message=batch[-1])
        self.processed += len(batch)
        self.batches += 1
        self.busy_s += time.perf_counter() - t0

    def run(self):
        self.consumer.subscribe([self.args.topic_in])
        print("fraud_baseline: consuming", self.args.topic_in, file=sys.stderr, flush=True)
        while not self.stop:
            first = self.consumer.poll(0.1)
            if first is None:
                self.producer.poll(0)
                continue
            batch = [first] + self.consumer.consume(num_messages=BATCH_MAX - 1, timeout=0)
            errors = [m for m in batch if m.error()]
            for m in errors:
                if m.error().code() != KafkaError._PARTITION_EOF:
                    print("fraud_baseline: consumer:", m.error(), file=sys.stderr, flush=True)
            batch = [m for m in batch if not m.error()]
            if batch:
                self.handle(batch)
        self.producer.flush(10)
        self.consumer.close()
        print(f"fraud_baseline: {self.processed} records, {self.rejected} rejected, "
              f"{self.batches} batches (mean {self.processed / max(self.batches, 1):.1f}); "
              f"busy {self.busy_s:.1f} s: Redis pipelines {self.redis_s:.1f} s, "
              f"predict {self.predict_s:.1f} s, the rest in Python",
              file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--redis-socket", required=True)
    ap.add_argument("--history", required=True,
                    help="labelled JSONL (is_fraud column) to train on at start-up")
    ap.add_argument("--topic-in", default="tx.raw")
    ap.add_argument("--topic-out", default="baseline.scores")
    ap.add_argument("--topic-dlq", default="baseline.dlq")
    ap.add_argument("--group", default="fraud-baseline")
    svc = Service(ap.parse_args())

    def on_signal(*_):
        svc.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    svc.run()


if __name__ == "__main__":
    main()
