/* page.js: the analyst's page.  Reads the event stream /events ("state"
 * once a second, "decisions" as they come), draws the charts as inline SVG
 * (no library), and sends an analyst's verdict as POST /reviews/<id>.
 * Every text from the server goes into the page through textContent,
 * never as HTML. */
"use strict";

const STREAM_ROWS_MAX = 100;   /* rows kept in the live table */
const COLORS = {
  allow: "#2f9e5b", review: "#d99a00", block: "#d64545",
  e2e: "#1d2330", rules: "#7b61ff", gbdt: "#2f80ed", neural: "#00a3a3",
  flagged: "#d64545", fraud: "#7b61ff", reference: "#b8c0cc", recent: "#2f80ed",
};
const SVGNS = "http://www.w3.org/2000/svg";

let rowsReceived = 0;
let pendingRows = [];
let lastState = null;
const queueRows = new Map();   /* transaction id -> <tr> */
const busy = new Set();        /* ids whose verdict is on its way */

/* ---- small helpers ---- */

function $(id) { return document.getElementById(id); }

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function pad(n) { return n < 10 ? "0" + n : String(n); }

/* "2026-01-03 14:22:05" (UTC) from microseconds since the epoch. */
function timeText(us, withDate) {
  if (!us) return "-";
  const d = new Date(us / 1000);
  const t = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  if (!withDate) return t;
  return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + t;
}

function minuteText(us) {
  const d = new Date(us / 1000);
  return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
}

const moneyFormats = new Map();
function money(minor, currency) {
  let f = moneyFormats.get(currency);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat("en", { style: "currency", currency: currency });
    } catch (e) {
      f = null;
    }
    moneyFormats.set(currency, f);
  }
  if (!f) return (minor / 100).toFixed(2) + " " + currency;
  const digits = f.resolvedOptions().maximumFractionDigits;
  return f.format(minor / Math.pow(10, digits));
}

function percent(part, whole) {
  return whole > 0 ? (100 * part / whole).toFixed(part / whole < 0.1 ? 2 : 1) + " %" : "-";
}

/* Microseconds as "850 µs", "12.3 ms", "1.20 s". */
function duration(us) {
  if (us === null || us === undefined || us < 0 || !isFinite(us)) return "-";
  if (us < 1000) return (us < 10 ? us.toFixed(2) : us.toFixed(0)) + " µs";
  if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + " ms";
  return (us / 1e6).toFixed(2) + " s";
}

/* A probability: three decimals, or "< 0.001". */
function prob(p) {
  if (p === null || p === undefined) return "-";
  return p > 0 && p < 0.001 ? "< 0.001" : p.toFixed(3);
}

function number(n) { return n === null || n === undefined ? "-" : n.toLocaleString("en"); }

/* ---- the live decisions ---- */

function placeCell(d) {
  const parts = [];
  if (d.country) parts.push(d.country);
  if (d.channel && d.channel !== "unspecified") parts.push(d.channel.replace("_", " "));
  return parts.join(" · ") || "-";
}

function streamRow(d) {
  const tr = el("tr", "fresh");
  tr.dataset.id = d.id;
  tr.title = d.id;
  tr.append(el("td", null, timeText(d.event_time_us, true)));
  const td = el("td");
  td.append(el("span", "badge " + d.decision, d.decision));
  if (d.degraded) td.append(el("span", "badge degraded", "degraded"));
  tr.append(td);
  tr.append(el("td", "num", money(d.amount_minor, d.currency)));
  tr.append(el("td", null, placeCell(d)));
  tr.append(el("td", "num", prob(d.probability)));
  tr.append(el("td", null, d.stage));
  tr.append(el("td", "reasons", (d.reasons || []).join(", ")));
  tr.append(el("td", "num", d.e2e_us >= 0 ? duration(d.e2e_us) : "-"));
  return tr;
}

function flushRows() {
  const rows = pendingRows;
  pendingRows = [];
  if (!rows.length) return;
  const body = $("stream").tBodies[0];
  const frag = document.createDocumentFragment();
  const from = Math.max(0, rows.length - STREAM_ROWS_MAX);
  for (let i = rows.length - 1; i >= from; i--) frag.append(streamRow(rows[i]));
  body.prepend(frag);
  while (body.rows.length > STREAM_ROWS_MAX) body.deleteRow(body.rows.length - 1);
  $("rows-count").textContent = number(rowsReceived);
}

function onDecisions(ev) {
  const rows = JSON.parse(ev.data);
  rowsReceived += rows.length;
  const first = pendingRows.length === 0;
  pendingRows.push(...rows);
  if (pendingRows.length > STREAM_ROWS_MAX) pendingRows.splice(0, pendingRows.length - STREAM_ROWS_MAX);
  if (first) requestAnimationFrame(flushRows);
}

/* ---- the review queue ---- */

function toast(text, bad) {
  const t = $("toast");
  t.textContent = text;
  t.className = bad ? "toast bad" : "toast";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

async function sendVerdict(id, verdict, tr) {
  if (busy.has(id)) return;
  busy.add(id);
  for (const b of tr.querySelectorAll("button")) b.disabled = true;
  let answer = {}, status = 0;
  try {
    const r = await fetch("/reviews/" + encodeURIComponent(id), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ verdict: verdict }),
    });
    status = r.status;
    answer = await r.json().catch(() => ({}));
  } catch (e) {
    answer = { status: "network error" };
  }
  busy.delete(id);
  if (status === 200) {
    toast((answer.status === "published" ? "closed as " : "already closed as ") +
          (answer.verdict || verdict) + ": " + id);
    tr.remove();
    queueRows.delete(id);
    $("queue-empty").hidden = queueRows.size > 0;
    return;
  }
  toast("not closed (" + (answer.status || status) + "): " + id, true);
  for (const b of tr.querySelectorAll("button")) b.disabled = false;
}

function queueRow(it) {
  const tr = el("tr", "fresh");
  tr.dataset.id = it.id;
  const d = it.details || {};
  const t = el("td", null, timeText(it.event_time_us, true));
  t.append(el("span", "id", it.id));
  tr.append(t);
  tr.append(el("td", "num", money(it.amount_minor, it.currency)));
  const ids = el("td", "ids", it.details ? d.merchant_id : "details not seen");
  if (it.details) ids.append(el("span", "id", (d.terminal_id || "") + (d.mcc ? " · mcc " + d.mcc : "")));
  tr.append(ids);
  const where = el("td", null, it.details ? placeCell(d) : "-");
  where.append(el("span", "id", d.card_last4 ? "card •••• " + d.card_last4 : "card -"));
  tr.append(where);
  const score = el("td", "num", prob(it.probability));
  score.append(el("span", "id", it.stage + (it.degraded ? ", degraded" : "")));
  tr.append(score);
  const model = el("td", null, it.gbdt_version || "no model");
  model.append(el("span", "id", "rules " + (it.rules_version || "-")));
  tr.append(model);
  tr.append(el("td", "reasons", (it.reasons || []).join(", ")));
  const act = el("td", "verdict");
  const fraud = el("button", "fraud", "fraud");
  const legit = el("button", "legit", "legitimate");
  fraud.dataset.verdict = "fraud";
  legit.dataset.verdict = "legit";
  fraud.addEventListener("click", () => sendVerdict(it.id, "fraud", tr));
  legit.addEventListener("click", () => sendVerdict(it.id, "legit", tr));
  act.append(fraud, legit);
  tr.append(act);
  return tr;
}

/* Keeps the rows of items still open (a click in progress is not lost),
 * adds the new ones in order, newest first. */
function renderQueue(q) {
  const body = $("queue").tBodies[0];
  const open = new Set(q.items.map((it) => it.id));
  for (const [id, tr] of queueRows) {
    if (!open.has(id) && !busy.has(id)) {
      tr.remove();
      queueRows.delete(id);
    }
  }
  let before = body.firstChild;
  for (const it of q.items) {
    let tr = queueRows.get(it.id);
    if (!tr) {
      tr = queueRow(it);
      queueRows.set(it.id, tr);
    }
    if (tr !== before) body.insertBefore(tr, before);
    before = tr.nextSibling;
  }
  $("queue-empty").hidden = queueRows.size > 0;
  $("kpi-queue").textContent = number(q.size);
  $("kpi-queue-sub").textContent = "of " + number(q.max) + (q.dropped ? ", " + number(q.dropped) + " dropped" : "");
  let note = q.size > q.items.length ? "newest " + q.items.length + " of " + number(q.size) : number(q.size) + " open";
  note += " · " + number(q.closed) + " closed here, " + number(q.closed_elsewhere) + " elsewhere";
  if (q.dropped) note += " · " + number(q.dropped) + " dropped unseen (queue full)";
  $("queue-note").textContent = note;
}

/* ---- charts ---- */

function chartBox(id) {
  const s = $(id);
  const w = Math.max(200, s.clientWidth || 500), h = Math.max(120, s.clientHeight || 190);
  s.setAttribute("viewBox", "0 0 " + w + " " + h);
  s.replaceChildren();
  return { s, w, h, l: 52, r: 10, t: 8, b: 20 };
}

/* An axis label for a power of ten of microseconds: "100 µs", "10 ms", "1 s". */
function durationTick(us) {
  if (us < 1000) return +us.toPrecision(3) + " µs";
  if (us < 1e6) return +(us / 1000).toPrecision(3) + " ms";
  return +(us / 1e6).toPrecision(3) + " s";
}

/* The minutes worth drawing: from the first with data (at least the last
 * ten), so a dashboard that just started does not draw an empty hour. */
function recentMinutes(minutes) {
  const busy = (m) => (m.allow || m.review || m.block || m.labels_fraud || m.labels_legit || m.labels_unknown);
  let first = minutes.findIndex(busy);
  if (first < 0) first = minutes.length;
  return minutes.slice(Math.max(0, Math.min(first, minutes.length - 10)));
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function yAxis(c, max, fmt) {
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4, y = c.h - c.b - (c.h - c.t - c.b) * i / 4;
    c.s.append(svg("line", { x1: c.l, x2: c.w - c.r, y1: y, y2: y, class: "grid-line" }));
    c.s.append(svg("text", { x: c.l - 5, y: y + 3, "text-anchor": "end" }, fmt(v)));
  }
}

function xLabels(c, minutes) {
  const n = minutes.length, step = Math.max(1, Math.ceil(n / 6));
  const bw = (c.w - c.l - c.r) / n;
  for (let i = n - 1; i >= 0; i -= step) {
    c.s.append(svg("text", { x: c.l + bw * (i + 0.5), y: c.h - 6, "text-anchor": "middle" }, minuteText(minutes[i].t)));
  }
}

function legend(id, entries) {
  const box = $(id);
  box.replaceChildren();
  for (const [name, color] of entries) {
    const s = el("span");
    const i = el("i");
    i.style.background = color;
    s.append(i, document.createTextNode(name));
    box.append(s);
  }
}

function drawDecisions(minutes) {
  const c = chartBox("chart-decisions");
  const keys = ["allow", "review", "block"];
  const max = niceMax(Math.max(1, ...minutes.map((m) => (m.allow || 0) + (m.review || 0) + (m.block || 0))));
  yAxis(c, max, (v) => number(Math.round(v)));
  const bw = (c.w - c.l - c.r) / minutes.length, ph = c.h - c.t - c.b;
  minutes.forEach((m, i) => {
    let y = c.h - c.b;
    for (const k of keys) {
      const v = m[k] || 0;
      if (!v) continue;
      const hgt = ph * v / max;
      y -= hgt;
      const r = svg("rect", { x: c.l + bw * i + bw * 0.1, y: y, width: Math.max(1, bw * 0.8), height: hgt, fill: COLORS[k] });
      r.append(svg("title", {}, minuteText(m.t) + " " + k + ": " + v));
      c.s.append(r);
    }
  });
  xLabels(c, minutes);
  legend("legend-decisions", keys.map((k) => [k, COLORS[k]]));
}

function polyline(c, minutes, values, max, color, log) {
  const bw = (c.w - c.l - c.r) / minutes.length, ph = c.h - c.t - c.b;
  let d = "";
  values.forEach((v, i) => {
    if (v === null || v === undefined || !isFinite(v)) return;
    let f = log ? (Math.log10(Math.max(v, max.lo)) - Math.log10(max.lo)) / (Math.log10(max.hi) - Math.log10(max.lo)) : v / max;
    f = Math.min(1, Math.max(0, f));
    const x = c.l + bw * (i + 0.5), y = c.h - c.b - ph * f;
    d += (d && values[i - 1] !== null && values[i - 1] !== undefined ? " L" : " M") + x.toFixed(1) + " " + y.toFixed(1);
    c.s.append(svg("circle", { cx: x, cy: y, r: 2, fill: color }));
  });
  if (d) c.s.append(svg("path", { d: d, fill: "none", stroke: color, "stroke-width": 1.8 }));
}

function drawRates(minutes) {
  const c = chartBox("chart-rates");
  const flagged = minutes.map((m) => {
    const n = (m.allow || 0) + (m.review || 0) + (m.block || 0);
    return n ? ((m.review || 0) + (m.block || 0)) / n : null;
  });
  const fraud = minutes.map((m) => {
    const n = (m.labels_fraud || 0) + (m.labels_legit || 0) + (m.labels_unknown || 0);
    return n ? (m.labels_fraud || 0) / n : null;
  });
  const max = niceMax(Math.max(0.01, ...flagged.filter((v) => v !== null), ...fraud.filter((v) => v !== null)));
  yAxis(c, max, (v) => (100 * v).toFixed(max < 0.05 ? 1 : 0) + "%");
  polyline(c, minutes, flagged, max, COLORS.flagged, false);
  polyline(c, minutes, fraud, max, COLORS.fraud, false);
  xLabels(c, minutes);
  legend("legend-rates", [["review + block, of decisions", COLORS.flagged], ["fraud, of labels emitted", COLORS.fraud]]);
}

function drawLatency(minutes) {
  const c = chartBox("chart-latency");
  const series = [["end to end", "e2e", COLORS.e2e], ["rules", "rules", COLORS.rules], ["gbdt", "gbdt", COLORS.gbdt], ["neural", "neural", COLORS.neural]];
  const all = [];
  for (const [, k] of series) for (const m of minutes) if (m[k + "_p99_us"] > 0) all.push(m[k + "_p99_us"]);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.1, Math.min(...all, 1e9)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(lo * 10, ...all, 1))));
  const ph = c.h - c.t - c.b;
  const decades = Math.round(Math.log10(hi / lo));
  for (let i = 0; i <= decades; i++) {
    const y = c.h - c.b - ph * i / decades;
    c.s.append(svg("line", { x1: c.l, x2: c.w - c.r, y1: y, y2: y, class: "grid-line" }));
    c.s.append(svg("text", { x: c.l - 5, y: y + 3, "text-anchor": "end" }, durationTick(lo * Math.pow(10, i))));
  }
  for (const [, k, color] of series) polyline(c, minutes, minutes.map((m) => m[k + "_p99_us"]), { lo, hi }, color, true);
  xLabels(c, minutes);
  legend("legend-latency", series.map(([name, , color]) => [name, color]));
}

function drawScores(bins) {
  const c = chartBox("chart-scores");
  const total = bins.reduce((a, b) => a + b, 0);
  /* Logarithmic: the few high scores stay visible beside the many low ones. */
  const top = Math.max(1, Math.ceil(Math.log10(Math.max(1, ...bins) + 1)));
  const ph = c.h - c.t - c.b, bw = (c.w - c.l - c.r) / bins.length;
  const scale = (v) => Math.log10(v + 1) / top;
  for (let i = 0; i <= top; i++) {
    const y = c.h - c.b - ph * i / top;
    c.s.append(svg("line", { x1: c.l, x2: c.w - c.r, y1: y, y2: y, class: "grid-line" }));
    c.s.append(svg("text", { x: c.l - 5, y: y + 3, "text-anchor": "end" }, i === 0 ? "0" : number(Math.pow(10, i))));
  }
  bins.forEach((v, i) => {
    const hgt = ph * scale(v);
    const r = svg("rect", { x: c.l + bw * i + 1, y: c.h - c.b - hgt, width: Math.max(1, bw - 2), height: hgt, fill: COLORS.recent });
    r.append(svg("title", {}, (i / bins.length).toFixed(2) + "–" + ((i + 1) / bins.length).toFixed(2) + ": " + v));
    c.s.append(r);
  });
  for (let i = 0; i <= 4; i++) {
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    c.s.append(svg("text", { x: c.l + (c.w - c.l - c.r) * i / 4, y: c.h - 6, "text-anchor": anchor }, (i / 4).toFixed(2)));
  }
  $("score-note").textContent = number(total) + " decisions, log scale";
}

function drawDriftBins(psi) {
  const c = chartBox("chart-drift");
  if (!psi || !psi.reference_bins) {
    c.s.append(svg("text", { x: c.w / 2, y: c.h / 2, "text-anchor": "middle" }, "waiting for the reference"));
    return;
  }
  legend("legend-drift", [["reference", COLORS.reference], ["recent", COLORS.recent]]);
  const share = (a) => { const t = a.reduce((x, y) => x + y, 0) || 1; return a.map((v) => v / t); };
  const ref = share(psi.reference_bins), win = share(psi.window_bins);
  const max = niceMax(Math.max(...ref, ...win, 0.01));
  yAxis(c, max, (v) => (100 * v).toFixed(0) + "%");
  const n = ref.length, bw = (c.w - c.l - c.r) / n, ph = c.h - c.t - c.b;
  for (let i = 0; i < n; i++) {
    const pairs = [[ref[i], COLORS.reference, 0], [win[i], COLORS.recent, 1]];
    for (const [v, color, k] of pairs) {
      const hgt = ph * v / max;
      c.s.append(svg("rect", { x: c.l + bw * i + bw * 0.1 + k * bw * 0.4, y: c.h - c.b - hgt, width: Math.max(1, bw * 0.38), height: hgt, fill: color }));
    }
    c.s.append(svg("text", { x: c.l + bw * (i + 0.5), y: c.h - 6, "text-anchor": "middle" }, i === n - 1 ? "missing" : String(i + 1)));
  }
}

/* ---- tables ---- */

function fillTable(id, rows) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const cells of rows) {
    const tr = el("tr");
    for (const c of cells) {
      if (c instanceof Node) { const td = el("td"); td.append(c); tr.append(td); }
      else if (typeof c === "object" && c !== null) tr.append(el("td", c.cls, c.text));
      else tr.append(el("td", null, c));
    }
    body.append(tr);
  }
}

function bandBadge(band) {
  return band ? el("span", "badge " + band, band) : el("span", "note", "-");
}

function psiBar(psi) {
  const b = el("span", "bar");
  const v = psi === null ? 0 : Math.min(1, psi / 0.5);
  b.style.width = Math.max(2, Math.round(120 * v)) + "px";
  b.style.background = psi === null ? "#ccc" : psi > 0.25 ? COLORS.block : psi >= 0.1 ? COLORS.review : COLORS.allow;
  return b;
}

function driftStatus(set, what) {
  if (set.status === "ready") return null;
  if (set.status === "waiting") return "waiting for " + what;
  if (set.status === "reference") return "collecting the reference: " + number(set.reference_count) + " records";
  return "filling the window: " + number(set.window_count) + " records";
}

function renderDrift(dr) {
  const rows = [];
  const sp = dr.score.psi;
  const scoreWait = driftStatus(dr.score, "scores");
  rows.push([{ text: "score (probability)" }, { cls: "num", text: sp.psi === null ? "-" : sp.psi.toFixed(3) }, psiBar(sp.psi), scoreWait ? el("span", "note", scoreWait) : bandBadge(sp.band)]);
  for (const f of dr.features.worst) {
    rows.push([{ text: f.name }, { cls: "num", text: f.psi === null ? "-" : f.psi.toFixed(3) }, psiBar(f.psi), bandBadge(f.band)]);
  }
  const featWait = driftStatus(dr.features, "feature vectors");
  if (featWait) rows.push([{ text: "features" }, "", "", el("span", "note", featWait)]);
  fillTable("drift", rows);
  let note = "Reference: the first " + number(dr.reference_records) + " records read since " +
    timeText(dr.reference_since_us, true) + " UTC" + (dr.reference_model ? " (model " + dr.reference_model + ")" : "") +
    "; the model directory holds no training distribution. Recent: the last " + number(dr.window_records) +
    " records, " + dr.bins + " quantile bins of the reference plus one for missing values.";
  $("drift-note").textContent = note;
  const f = dr.features;
  $("drift-bands").textContent = f.status === "ready"
    ? number(f.variables) + " features: " + f.stable + " stable, " + f.moderate + " moderate, " + f.significant + " significant" + (f.names_known ? "" : " (names unknown: another feature schema)")
    : "";
  $("kpi-psi").textContent = sp.psi === null ? "-" : sp.psi.toFixed(3);
  $("kpi-psi-band").textContent = scoreWait || sp.band;
  $("kpi-features").textContent = f.status === "ready" ? number(f.moderate + f.significant) : "-";
  $("kpi-features-sub").textContent = f.status === "ready" ? "of " + number(f.variables) + " moderate or worse" : (featWait || "");
  drawDriftBins(sp);
}

function renderLatency(lat) {
  const names = { end_to_end: "ingest to score", rules: "rules", gbdt: "gbdt", neural: "neural" };
  fillTable("latency", lat.series.map((s) => [names[s.name] || s.name, { cls: "num", text: number(s.count) },
    { cls: "num", text: duration(s.p50_us) }, { cls: "num", text: duration(s.p90_us) },
    { cls: "num", text: duration(s.p99_us) }, { cls: "num", text: duration(s.p999_us) }]));
  const e2e = lat.series.find((s) => s.name === "end_to_end");
  $("kpi-e2e").textContent = e2e ? duration(e2e.p99_us) : "-";
  $("kpi-e2e-p50").textContent = e2e && e2e.count ? "p50 " + duration(e2e.p50_us) + ", last 5 min" : "no decision in 5 min";
}

function renderKpis(st) {
  const last = st.minutes.slice(-5);
  let n = 0, block = 0, review = 0;
  for (const m of last) { n += (m.allow || 0) + (m.review || 0) + (m.block || 0); block += m.block || 0; review += m.review || 0; }
  $("kpi-decisions").textContent = number(n);
  $("kpi-rate").textContent = (n / Math.max(1, Math.min(5, (st.now_us - st.started_us) / 6e7)) / 60).toFixed(0) + " per second";
  $("kpi-block").textContent = percent(block, n);
  $("kpi-review").textContent = percent(review, n);
}

function renderState(st) {
  lastState = st;
  $("event-time").textContent = st.event_time_us ? timeText(st.event_time_us, true) : "-";
  $("wall-time").textContent = timeText(st.now_us, true);
  $("clock-warning").hidden = !st.event_time_us || Math.abs(st.now_us - st.event_time_us) < 864e8;
  renderKpis(st);
  renderQueue(st.queue);
  const minutes = recentMinutes(st.minutes);
  drawDecisions(minutes);
  drawRates(minutes);
  drawLatency(minutes);
  renderLatency(st.latency);
  drawScores(st.score_bins);
  renderDrift(st.drift);
  fillTable("versions", st.versions.map((v) => [v.gbdt || "none", v.neural || "none", v.rules || "none",
    { cls: "num", text: number(v.count) }, timeText(v.first_us), timeText(v.last_us)]));
  fillTable("outcomes", st.outcomes.map((o) => [el("span", "badge " + o.decision, o.decision),
    { cls: "num", text: number(o.fraud) }, { cls: "num", text: number(o.legit) }, { cls: "num", text: number(o.unknown) }]));
  const c = st.counts;
  $("rows-skipped").textContent = c.rows_skipped ? " · " + number(c.rows_skipped) + " not streamed (over " + c.stream_per_sec_max + "/s)" : "";
  $("footer").textContent = "read: " + number(c.scores) + " scores, " + number(c.features) + " feature vectors, " +
    number(c.labels) + " labels, " + number(c.chargebacks) + " chargebacks · rejected: " +
    number(c.rejected.scores + c.rejected.features + c.rejected.labels + c.rejected.chargebacks) +
    " · re-sent scores dropped: " + number(c.duplicates) + " · times in UTC · charts per minute of wall clock";
}

/* ---- the event stream ---- */

function connect() {
  const es = new EventSource("/events");
  const live = $("live");
  es.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  es.onerror = () => { live.textContent = "reconnecting"; live.className = "live off"; };
  es.addEventListener("state", (ev) => renderState(JSON.parse(ev.data)));
  es.addEventListener("decisions", onDecisions);
}

window.addEventListener("resize", () => { if (lastState) renderState(lastState); });
connect();
