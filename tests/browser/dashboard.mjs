// dashboard.mjs: the dashboard's page in headless Chromium, driven by
// Playwright, against running daemons (tests/browser/run.sh starts them).
//
// It fails unless, in this order:
//   1. the page loads with no script error and no Content-Security-Policy
//      violation, and its event stream opens;
//   2. live decision rows arrive and keep arriving (the count grows);
//   3. the charts are drawn (SVG bars in "decisions per minute");
//   4. a payment appears in the review queue; a click on "fraud" closes
//      it (the row leaves, the page says so);
//   5. the same verdict sent again is answered "already_closed" and the
//      other verdict 409 (idempotent, first verdict wins);
//   6. the chargebacks topic, read with kcat (not with our code), holds a
//      Chargeback of kind REVIEW_FRAUD for that transaction, with id
//      "review-<id>", the payment's event time and amount, and the
//      verdict's time near the wall clock.
//
// Environment: DASHBOARD_URL, BOOTSTRAP (Kafka bootstrap), CHROMIUM
// (default /usr/bin/chromium), SCREENSHOT (a PNG path: a full-page
// screenshot at the end), SETTLE_SECONDS (wait before the screenshot).
import { spawnSync } from "node:child_process";
import { chromium } from "playwright-core";

const url = process.env.DASHBOARD_URL;
const bootstrap = process.env.BOOTSTRAP;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const KIND_REVIEW_FRAUD = 2n;

function fail(what) {
  console.error("dashboard.mjs: FAIL: " + what);
  process.exit(1);
}

function step(what) {
  console.log("dashboard.mjs: " + what);
}

/* ---- protobuf, just enough for a Chargeback (proto/chargeback.proto) ---- */

function varint(buf, at) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (at >= buf.length) throw new Error("truncated varint");
    const b = buf[at++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, at];
    shift += 7n;
  }
}

function chargeback(buf) {
  const out = {};
  let at = 0;
  while (at < buf.length) {
    let key, v;
    [key, at] = varint(buf, at);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (wire === 0) {
      [v, at] = varint(buf, at);
      out[field] = v;
    } else if (wire === 2) {
      [v, at] = varint(buf, at);
      out[field] = buf.subarray(at, at + Number(v)).toString("utf8");
      at += Number(v);
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new Error("wire type " + wire);
    }
  }
  return {
    transaction_id: out[2] || "", chargeback_id: out[3] || "",
    event_time_us: out[4] || 0n, transaction_time_us: out[5] || 0n,
    amount_minor: out[6] || 0n, kind: out[9] || 0n,
  };
}

/* Every Chargeback on the topic, read with kcat: %R is each payload's
 * length as a big-endian 32-bit integer, then the payload. */
function chargebacks() {
  const r = spawnSync("kcat", ["-b", bootstrap, "-t", "chargebacks", "-C", "-e", "-q",
    "-f", "%R%s"], { maxBuffer: 256 << 20, timeout: 60000 });
  if (r.status !== 0) fail("kcat: " + (r.stderr || "").toString());
  const all = [];
  for (let at = 0; at + 4 <= r.stdout.length;) {
    const n = r.stdout.readInt32BE(at);
    at += 4;
    if (n < 0) continue;
    all.push(chargeback(r.stdout.subarray(at, at + n)));
    at += n;
  }
  return all;
}

/* ---- the page ---- */

async function rowsReceived(page) {
  return Number((await page.textContent("#rows-count")).replace(/,/g, ""));
}

async function verdictAgain(page, id, verdict) {
  return page.evaluate(async ([id, verdict]) => {
    const r = await fetch("/reviews/" + encodeURIComponent(id), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ verdict }),
    });
    return { code: r.status, body: await r.json() };
  }, [id, verdict]);
}

async function main() {
  if (!url || !bootstrap) fail("DASHBOARD_URL and BOOTSTRAP are required");
  const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
  const browser = await chromium.launch({ executablePath, headless: true, args });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  let conflictsExpected = false; /* step 5 asks for a 409 on purpose */
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (conflictsExpected && m.text().includes("status of 409")) return;
    problems.push("console: " + m.text());
  });

  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("#live.on", { timeout: 20000 });
  step("page loaded, event stream open");

  await page.waitForFunction(() => document.querySelectorAll("#stream tbody tr").length >= 5,
    null, { timeout: 60000 });
  const first = await rowsReceived(page);
  await page.waitForFunction((n) => Number(document.querySelector("#rows-count").textContent.replace(/,/g, "")) > n,
    first, { timeout: 30000 });
  const later = await rowsReceived(page);
  const badge = await page.textContent("#stream tbody tr:first-child .badge");
  if (!["ALLOW", "REVIEW", "BLOCK"].includes(badge)) fail("a row's decision is " + badge);
  step("live rows arrive: " + first + " then " + later + " received");

  await page.waitForFunction(() => document.querySelectorAll("#chart-decisions rect").length > 0,
    null, { timeout: 30000 });
  step("charts drawn");

  await page.waitForSelector("#queue tbody tr", { timeout: 90000 });
  const id = await page.locator("#queue tbody tr").first().getAttribute("data-id");
  const row = page.locator('#queue tbody tr[data-id="' + id.replace(/["\\]/g, "\\$&") + '"]');
  const state = await page.evaluate(async () => (await fetch("/api/state")).json());
  const item = state.queue.items.find((it) => it.id === id);
  if (!item) fail("review item " + id + " is not in /api/state");
  step("review item " + id + " (" + item.amount_minor + " " + item.currency + ")");
  const clicked = Date.now() * 1000;
  await row.locator("button.fraud").click();
  await page.waitForFunction((id) => !document.querySelector('#queue tbody tr[data-id="' + CSS.escape(id) + '"]'),
    id, { timeout: 15000 });
  const toast = await page.textContent("#toast");
  if (!toast.includes("closed as fraud") || !toast.includes(id)) fail("the page says: " + toast);
  step("closed from the page: " + toast);

  conflictsExpected = true;
  const again = await verdictAgain(page, id, "fraud");
  if (again.code !== 200 || again.body.status !== "already_closed") fail("a second fraud verdict: " + JSON.stringify(again));
  const other = await verdictAgain(page, id, "legit");
  if (other.code !== 409) fail("the other verdict afterwards: " + JSON.stringify(other));
  await page.waitForTimeout(200); /* its console line */
  conflictsExpected = false;
  step("a second submission is idempotent (" + again.body.status + "), the other verdict " + other.code);

  const mine = chargebacks().filter((c) => c.transaction_id === id);
  if (mine.length !== 1) fail(mine.length + " chargebacks for " + id + " on the topic, expected 1");
  const c = mine[0];
  if (c.kind !== KIND_REVIEW_FRAUD) fail("kind " + c.kind + ", expected REVIEW_FRAUD (2)");
  if (c.chargeback_id !== "review-" + id) fail("chargeback_id " + c.chargeback_id);
  if (c.transaction_time_us !== BigInt(item.event_time_us)) fail("transaction_time_us " + c.transaction_time_us + " is not the payment's " + item.event_time_us);
  if (c.amount_minor !== BigInt(item.amount_minor)) fail("amount " + c.amount_minor);
  const lag = Number(c.event_time_us) - clicked;
  if (Math.abs(lag) > 120e6) fail("the verdict's time is " + lag / 1e6 + " s from the click");
  step("on the topic: " + JSON.stringify(c, (k, v) => (typeof v === "bigint" ? v.toString() : v)));

  if (process.env.SCREENSHOT) {
    await page.waitForTimeout(1000 * Number(process.env.SETTLE_SECONDS || 0));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    step("screenshot " + process.env.SCREENSHOT);
  }
  if (problems.length) fail(problems.join("; "));
  await browser.close();
  step("ok");
}

main().catch((e) => fail(e.stack || String(e)));
