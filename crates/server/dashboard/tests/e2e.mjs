// The dashboard end to end in headless Chromium (Debian's, driven by playwright-core) against a
// real `compact serve` on the demo compact. Usage: node e2e.mjs URL OUTDIR
// Fails (exit 1) on: a console error or a failed request on any page, a figure that differs
// from the API's, a verification that does not pass, a tampered entry that does not fail,
// an axe-core violation rated serious or critical, a string missing in Ukrainian.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const [url, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const AS_OF = "2026-04-30";
const failures = [];
const fail = (m) => { failures.push(m); console.error("FAIL:", m); };

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function open(path, width = 1280, height = 900) {
  const page = await browser.newPage({ viewport: { width, height }, bypassCSP: true });
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) problems.push(`a request leaves the server: ${r.url()}`); });
  await page.goto(url + path);
  return { page, problems };
}

async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  for (const v of result.violations.filter((v) => ["serious", "critical"].includes(v.impact))) {
    fail(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
  }
}

async function api(path) { return (await fetch(url + path)).json(); }

// Overview: the time from the request to the tables drawn (three times; printed, never a
// failure), then the figures the API gives for the same date.
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const start = Date.now();
  await page.goto(`${url}/#/overview?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table] tbody tr");
  console.log(`overview rendered in ${Date.now() - start} ms`);
  await page.close();
}
{
  const { page, problems } = await open(`/#/overview?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table] tbody tr");
  const status = await api(`/v1/status?as_of=${AS_OF}&by=guarantor`);
  for (const row of status.rows) {
    for (const field of ["due", "confirmed", "arrears"]) {
      const shown = await page.locator(`section:first-of-type tr[data-key="${row.key}"] td[data-field="${field}"]`).first().textContent();
      const digits = (shown || "").replace(/[^0-9-]/g, "");
      const want = String(Math.round(Number(row[field])));
      if (digits !== want) fail(`overview: ${row.key} ${field} shows ${shown}, the API says ${row[field]}`);
    }
    if ((row.synthetic_figures || []).length) {
      const marks = await page.locator(`section:first-of-type tr[data-key="${row.key}"] .mark`).count();
      if (marks === 0) fail(`overview: ${row.key} has synthetic figures and no mark`);
    }
  }
  await axe(page, "overview");
  await page.screenshot({ path: `${out}/overview-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${out}/overview-375.png`, fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1 && getComputedStyle(document.body).overflowX !== "hidden");
  if (wide) fail("overview at 375 px: the page scrolls sideways (tables must scroll in their own box)");
  // From a figure to its entries, and from an entry to its verification.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator("a[href^='#/explain/']").first().click();
  await page.waitForSelector("a[href^='#/entry/']");
  await axe(page, "explain");
  await page.locator("a[href^='#/entry/']").first().click();
  await page.waitForSelector("#verdict");
  const verdict = await page.locator("#verdict").textContent();
  if (verdict !== "Verified in your browser") fail(`entry from a figure: ${verdict}`);
  await axe(page, "entry");
  await page.screenshot({ path: `${out}/entry-1280.png`, fullPage: true });
  // The same in Ukrainian.
  await page.selectOption("#lang", "uk");
  await page.waitForFunction(() => document.getElementById("verdict")?.textContent === "Перевірено у вашому браузері");
  if (problems.length) fail(`overview → entry: ${problems.join("; ")}`);
}

// The log, and entries across it.
{
  const { page, problems } = await open("/#/log");
  await page.waitForSelector("a[href^='#/entry/']");
  await axe(page, "log");
  await page.screenshot({ path: `${out}/log-1280.png`, fullPage: true });
  const head = await api("/v1/log");
  for (const n of [0, 1, Math.floor(head.size / 2), head.size - 1]) {
    await page.goto(`${url}/#/entry/${n}`);
    await page.waitForSelector("#verdict");
    const v = await page.locator("#verdict").textContent();
    if (v !== "Verified in your browser") fail(`entry ${n}: ${v}: ${await page.locator("ul.checks").textContent()}`);
  }
  if (problems.length) fail(`log: ${problems.join("; ")}`);
}

// Burden sharing and activations.
{
  const { page, problems } = await open(`/#/burden?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table='burden'] tbody tr");
  const b = await api("/v1/burden?year=2025");
  for (const row of b.rows.slice(0, 5)) {
    const shown = await page.locator(`tr[data-key="${row.party}"] td[data-field="fair_share"]`).first().textContent();
    if ((shown || "").replace(/[^0-9]/g, "") !== String(Math.round(Number(row.fair_share)))) fail(`burden: ${row.party} fair share shows ${shown}, the API says ${row.fair_share}`);
  }
  await axe(page, "burden");
  await page.screenshot({ path: `${out}/burden-1280.png`, fullPage: true });
  await page.goto(`${url}/#/activations`);
  await page.waitForFunction(() => document.querySelector("main h2")?.textContent === "Activations");
  await axe(page, "activations");
  if (problems.length) fail(`burden, activations: ${problems.join("; ")}`);
}

// Agreements, an agreement (terms, signatures with their entries), a guarantor.
{
  const { page, problems } = await open(`/#/agreements?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table='agreements'] tbody tr");
  const rows = await api(`/v1/agreements?on=${AS_OF}`);
  const shown = await page.locator("table[data-table='agreements'] tbody tr").count();
  if (shown !== rows.length) fail(`agreements: ${shown} rows shown, the API has ${rows.length}`);
  await axe(page, "agreements");
  await page.locator("table[data-table='agreements'] tbody a[href^='#/agreement/']").first().click();
  await page.waitForSelector("a[href^='#/entry/']");
  await axe(page, "agreement");
  await page.screenshot({ path: `${out}/agreement-1280.png`, fullPage: true });
  await page.locator("a[href^='#/entry/']").first().click();
  await page.waitForSelector("#verdict");
  const v = await page.locator("#verdict").textContent();
  if (v !== "Verified in your browser") fail(`a signature's entry: ${v}`);
  await page.goto(`${url}/#/guarantor/GB?as_of=${AS_OF}`);
  await page.waitForSelector("main table tbody tr");
  await axe(page, "guarantor");
  if (problems.length) fail(`agreements: ${problems.join("; ")}`);
}

// The tracker's views: ours beside the Kiel tracker's, filtered.
{
  const { page, problems } = await open("/#/tracker?party=GB&category=military");
  await page.waitForSelector("table[data-table='tracker'] tbody tr");
  const r = await api("/v1/reconcile/kiel");
  const want = r.lines.filter((l) => l.party === "GB" && l.category === "military").length;
  const shown = (await page.locator("table[data-table='tracker'] tbody tr").count()) - 1;
  if (shown !== want) fail(`tracker: ${shown} rows for GB military, the API has ${want}`);
  await axe(page, "tracker");
  if (problems.length) fail(`tracker: ${problems.join("; ")}`);
}

// Stress: the what-if of the API, its Monte Carlo charts.
{
  const { page, problems } = await open("/#/stress?without=US&delay=0&scenarios=200&seed=7");
  await page.waitForSelector("figure[data-chart]");
  const r = await api("/v1/stress?without=US&delay=0&scenarios=200&seed=7");
  const charts = await page.locator("figure[data-chart]").count();
  if (charts !== r.monte_carlo.lines.length) fail(`stress: ${charts} charts, ${r.monte_carlo.lines.length} lines`);
  await axe(page, "stress");
  await page.screenshot({ path: `${out}/stress-1280.png`, fullPage: true });
  if (problems.length) fail(`stress: ${problems.join("; ")}`);
}

// A proof bundle uploaded: verified in the browser; one changed byte: refused.
{
  const { execFileSync } = await import("node:child_process");
  const bin = process.env.COMPACT_BIN, dir = process.env.COMPACT_DEMO;
  if (bin && dir) {
    execFileSync(bin, ["log", "bundle", "42", "--dir", dir, "--out", `${out}/bundle.json`]);
    const { page, problems } = await open("/#/bundle");
    await page.setInputFiles("#bundle-file", `${out}/bundle.json`);
    await page.waitForSelector("#verdict");
    let v = await page.locator("#verdict").textContent();
    if (v !== "Verified in your browser") fail(`an uploaded bundle: ${v}: ${await page.locator("ul.checks").textContent()}`);
    await axe(page, "bundle");
    const bytes = readFileSync(`${out}/bundle.json`, "utf8").replace(/"leaf": "(.)/, (m, c) => m.slice(0, -1) + (c === "e" ? "f" : "e"));
    await page.setInputFiles("#bundle-file", { name: "changed.json", mimeType: "application/json", buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => document.getElementById("verdict")?.textContent === "Not verified: a check failed");
    if (problems.length) fail(`bundle: ${problems.join("; ")}`);
  } else {
    fail("COMPACT_BIN and COMPACT_DEMO are not set: the bundle page is not tested");
  }
}

// The browser remembers the largest checkpoint it saw: the log grows, a consistency proof
// from it is checked; a proof altered by the server makes the entry fail to verify.
{
  const { execFileSync } = await import("node:child_process");
  const bin = process.env.COMPACT_BIN, dir = process.env.COMPACT_DEMO;
  const page = await browser.newPage();
  await page.goto(`${url}/#/entry/10`);
  await page.waitForSelector("#verdict");
  const payload = JSON.stringify({ commitment: "gb-military-2024", amount: "1000 EUR", date: "2024-06-30", reference: "e2e-growth" });
  execFileSync(bin, ["submit", "--server", url, "--dir", dir, "--key", `${dir}/keys/GB.key`, "--type", "delivery.report", "--payload", payload]);
  await page.goto(`${url}/#/entry/11`);
  await page.waitForFunction(() => document.querySelector("#verdict")?.textContent === "Verified in your browser");
  execFileSync(bin, ["submit", "--server", url, "--dir", dir, "--key", `${dir}/keys/GB.key`, "--type", "delivery.report", "--payload", payload.replace("e2e-growth", "e2e-growth-2")]);
  await page.route("**/v1/consistency*", async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.hashes[0] = (body.hashes[0][0] === "0" ? "1" : "0") + body.hashes[0].slice(1);
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(`${url}/#/entry/12`);
  await page.waitForSelector("#verdict");
  const v = await page.locator("#verdict").textContent();
  const remembered = await page.locator("li[data-check='check-remember']").getAttribute("class");
  if (v !== "Not verified: a check failed" || remembered !== "fail") fail(`an altered consistency proof: ${v}, ${remembered}`);
  await page.close();
}

// A server that alters one byte of an entry: the browser's verification fails, visibly.
{
  const page = await browser.newPage();
  await page.route("**/v1/entries/3", async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const leaf = Buffer.from(body.leaf, "base64");
    leaf[leaf.length - 10] ^= 1;
    body.leaf = leaf.toString("base64");
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(`${url}/#/entry/3`);
  await page.waitForSelector("#verdict");
  const v = await page.locator("#verdict").textContent();
  if (v !== "Not verified: a check failed") fail(`a tampered entry: ${v}`);
  await page.close();
}
// A server that alters one hash of a proof.
{
  const page = await browser.newPage();
  await page.route("**/v1/entries/5/proof*", async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const h = body.hashes[0];
    body.hashes[0] = (h[0] === "0" ? "1" : "0") + h.slice(1);
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(`${url}/#/entry/5`);
  await page.waitForSelector("#verdict");
  const v = await page.locator("#verdict").textContent();
  if (v !== "Not verified: a check failed") fail(`a tampered proof: ${v}`);
  await page.close();
}

await browser.close();
if (failures.length) {
  console.error(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log("dashboard: every page loads clean, shows the API's figures, verifies in the browser; tampering fails; axe-core: no serious or critical violation");
