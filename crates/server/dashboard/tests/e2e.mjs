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

// The digits a cell shows, and the API's figure rounded as the page rounds it.
const digits = (text) => (text || "").replace(/[^0-9-]/g, "");
const whole = (v) => String(Math.round(Number(v)));
async function cell(page, table, key, field) {
  return page.locator(`table[data-table="${table}"] tr[data-key="${key}"] td[data-field="${field}"]`).first().textContent();
}
async function same(page, name, table, key, field, want) {
  const shown = await cell(page, table, key, field);
  if (digits(shown) !== whole(want)) fail(`${name}: ${table} ${key} ${field} shows ${shown}, the API gives ${want}`);
}

// Every table has its CSV download, every chart its SVG and PNG downloads; one of each is
// made and read back.
async function downloads(page, name) {
  const tables = await page.locator("main table").count();
  const csv = await page.locator("main button[data-download$='.csv']").count();
  if (tables !== csv) fail(`${name}: ${tables} tables, ${csv} CSV downloads`);
  const charts = await page.locator("main figure[data-chart]").count();
  for (const ext of ["svg", "png"]) {
    const n = await page.locator(`main figure[data-chart] button[data-download$='.${ext}']`).count();
    if (n !== charts) fail(`${name}: ${charts} charts, ${n} ${ext.toUpperCase()} downloads`);
  }
  const take = async (selector) => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator(selector).first().click()]);
    return readFileSync(await download.path());
  };
  if (tables) {
    const text = (await take("main button[data-download$='.csv']")).toString("utf8");
    if (text.split("\n").length < 2 || !text.includes(",")) fail(`${name}: the CSV download is empty: ${text.slice(0, 80)}`);
  }
  if (charts) {
    const svgText = (await take("main figure[data-chart] button[data-download$='.svg']")).toString("utf8");
    if (!svgText.startsWith("<svg")) fail(`${name}: the SVG download is not SVG: ${svgText.slice(0, 40)}`);
    const png = await take("main figure[data-chart] button[data-download$='.png']");
    if (png.length < 1000 || png.readUInt32BE(0) !== 0x89504e47) fail(`${name}: the PNG download is not a PNG (${png.length} bytes)`);
  }
}

// The page in Ukrainian: its first heading translated, no message key shown for want of a
// translation, and axe-core again.
async function ukrainian(page, name, heading) {
  await page.selectOption("#lang", "uk");
  await page.waitForFunction((h) => document.querySelector("main h2")?.textContent.startsWith(h), heading);
  await page.waitForSelector("main table tbody tr");
  const text = await page.locator("main").innerText();
  const keys = text.match(/(^|[\s(])[a-z]+(-[a-z]+)+(?=[\s:)]|$)/gm)?.filter((k) => /^(col|aid|mc|group|filter|kiel|explorer|guarantor|tracker|units|no|download|fulfilled|burden|stress|check|state|nav)-/.test(k.trim().replace(/^\(/, ""))) ?? [];
  if (keys.length) fail(`${name} in Ukrainian: untranslated ${[...new Set(keys)].join(", ")}`);
  await axe(page, `${name} (uk)`);
  await shots(page, `${name}-uk`);
  await page.selectOption("#lang", "en");
  await page.waitForFunction(() => document.documentElement.lang === "en");
}

// Screenshots at 1280 and 375 px, and no sideways scrolling of the page at 375 px.
async function shots(page, name) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: `${out}/${name}-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${out}/${name}-375.png`, fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  if (wide) fail(`${name} at 375 px: the page scrolls sideways`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

// Overview: the time from the request to its charts drawn (three times; printed, never a
// failure), then the figures the API gives for the same date.
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const start = Date.now();
  await page.goto(`${url}/#/overview?as_of=${AS_OF}`);
  await page.waitForSelector("figure[data-chart] svg polyline");
  console.log(`overview: load to charts drawn in ${Date.now() - start} ms`);
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
  await downloads(page, "overview");
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
  await downloads(page, "explain");
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
  await downloads(page, "log");
  await shots(page, "log");
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
  if (!(await page.locator("figure[data-chart] svg rect").count())) fail("burden: no chart");
  await axe(page, "burden");
  await downloads(page, "burden");
  await shots(page, "burden");
  await page.goto(`${url}/#/activations`);
  await page.waitForFunction(() => document.querySelector("main h2")?.textContent === "Activations");
  await axe(page, "activations");
  await downloads(page, "activations");
  await shots(page, "activations");
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
  await downloads(page, "agreements");
  await page.locator("table[data-table='agreements'] tbody a[href^='#/agreement/']").first().click();
  await page.waitForSelector("a[href^='#/entry/']");
  await axe(page, "agreement");
  await downloads(page, "agreement");
  await shots(page, "agreement");
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

// The tracker's views, from the signed record: by donor, by group, by year, units by category
// and donor, each figure equal to the status report's for the same date; the Kiel tracker's
// figures beside ours; the data explorer filtered.
{
  const { page, problems } = await open(`/#/tracker?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table='explorer'] tbody tr");
  const [byGuarantor, byGroup, byYear, aid, rec] = await Promise.all([
    api(`/v1/status?as_of=${AS_OF}&by=guarantor`), api(`/v1/status?as_of=${AS_OF}&by=group`),
    api(`/v1/status?as_of=${AS_OF}&by=year`), api(`/v1/aid?as_of=${AS_OF}`), api("/v1/reconcile/kiel"),
  ]);
  const donors = new Set(aid.rows.map((r) => r.guarantor));
  for (const row of byGuarantor.rows.filter((r) => donors.has(r.key))) {
    for (const f of ["due", "allocated", "confirmed", "arrears"]) await same(page, "tracker", "aid-by-donor", row.key, f, row[f]);
    if (row.synthetic_figures.length && !(await page.locator(`table[data-table="aid-by-donor"] tr[data-key="${row.key}"] .mark`).count())) {
      fail(`tracker: ${row.key} has synthetic figures and no mark`);
    }
    const kiel = rec.lines.filter((l) => l.party === row.key).reduce((n, l) => n + Number(l.tracker), 0);
    const shown = await cell(page, "aid-by-donor", row.key, "kiel");
    if (rec.lines.some((l) => l.party === row.key) && digits(shown) !== whole(kiel)) fail(`tracker: ${row.key} Kiel shows ${shown}, reconcile gives ${kiel}`);
  }
  const groupName = Object.fromEntries(aid.groups.map((g) => [g.id, g.name]));
  for (const row of byGroup.rows.filter((r) => groupName[r.key])) {
    for (const f of ["due", "allocated", "confirmed"]) await same(page, "tracker", "aid-by-group", groupName[row.key], f, row[f]);
  }
  const years = new Set(aid.rows.map((r) => String(r.year)));
  for (const row of byYear.rows.filter((r) => years.has(r.key))) {
    for (const f of ["due", "allocated", "confirmed", "arrears"]) await same(page, "tracker", "aid-over-time", row.key, f, row[f]);
  }
  for (const u of byGuarantor.units) {
    for (const f of ["due", "confirmed"]) await same(page, "tracker units", "aid-units", `${u.unit}/${u.key}`, f, u[f]);
  }
  const total = await page.locator("table[data-table='explorer'] tr[data-key^='Total'] td[data-field='confirmed']").first().textContent();
  if (digits(total) !== whole(byGuarantor.total.confirmed)) fail(`tracker: the explorer's total confirmed ${total}, the API's ${byGuarantor.total.confirmed}`);
  await axe(page, "tracker");
  await downloads(page, "tracker");
  await shots(page, "tracker");
  // Filtered by guarantor, pillar and period: the rows of the API that the filters keep.
  await page.goto(`${url}/#/tracker?as_of=${AS_OF}&guarantor=GB&pillar=weapons&from=2024&to=2025`);
  await page.waitForFunction(() => document.getElementById("f-guarantor")?.value === "GB");
  await page.waitForSelector("table[data-table='explorer'] tbody tr");
  const want = aid.rows.filter((r) => r.guarantor === "GB" && r.pillar === "weapons" && r.year >= 2024 && r.year <= 2025);
  const shown = (await page.locator("table[data-table='explorer'] tbody tr").count()) - 1;
  if (shown !== want.length) fail(`tracker: ${shown} explorer rows for GB weapons 2024-2025, the API has ${want.length}`);
  const sum = want.reduce((n, r) => n + Number(r.allocated), 0);
  await same(page, "tracker filtered", "aid-by-donor", "GB", "allocated", sum);
  const lines = rec.lines.filter((l) => l.party === "GB" && l.category === "military" && l.year >= 2024 && l.year <= 2025).length;
  const kiel = await page.locator("table[data-table='tracker'] tbody tr").count();
  if (kiel !== lines) fail(`tracker: ${kiel} reconciliation rows for GB weapons (military) 2024-2025, the API has ${lines}`);
  // The filters are reachable by keyboard and change the view.
  await page.focus("#f-pillar");
  await page.keyboard.press("ArrowDown");
  await page.waitForFunction(() => !location.hash.includes("pillar=weapons"));
  await axe(page, "tracker filtered");
  await ukrainian(page, "tracker", "Допомога станом на");
  if (problems.length) fail(`tracker: ${problems.join("; ")}`);
  await page.close();
}

// A guarantor: fulfilment per commitment and per year, equal to the API's rows summed.
{
  const { page, problems } = await open(`/#/guarantor/GB?as_of=${AS_OF}`);
  await page.waitForSelector("table[data-table='guarantor-years'] tbody tr");
  const aid = await api(`/v1/aid?as_of=${AS_OF}`);
  const gb = aid.rows.filter((r) => r.guarantor === "GB");
  for (const y of new Set(gb.map((r) => r.year))) {
    for (const f of ["due", "allocated", "confirmed", "arrears"]) {
      await same(page, "guarantor", "guarantor-years", String(y), f, gb.filter((r) => r.year === y).reduce((n, r) => n + Number(r[f]), 0));
    }
  }
  for (const r of gb.slice(0, 8)) await same(page, "guarantor", "guarantor-fulfilment", `${r.commitment}/${r.year}`, "confirmed", r.confirmed);
  const charts = await page.locator("figure[data-chart]").count();
  if (charts < 2) fail(`guarantor: ${charts} charts`);
  await axe(page, "guarantor fulfilment");
  await downloads(page, "guarantor");
  await shots(page, "guarantor");
  await ukrainian(page, "guarantor", "United Kingdom (GB) станом на");
  if (problems.length) fail(`guarantor: ${problems.join("; ")}`);
  await page.close();
}

// Stress: the what-if of the API, its Monte Carlo charts.
{
  const { page, problems } = await open("/#/stress?without=US&delay=0&scenarios=200&seed=7");
  await page.waitForSelector("figure[data-chart]");
  const r = await api("/v1/stress?without=US&delay=0&scenarios=200&seed=7");
  const charts = await page.locator("figure[data-chart]:has(svg polygon)").count();
  if (charts !== r.monte_carlo.lines.length) fail(`stress: ${charts} fan charts, ${r.monte_carlo.lines.length} lines`);
  const gaps = r.what_if.lines.filter((l) => l.years.some((y) => Number(y.gap_before) > 0 || Number(y.gap_after) > 0)).length;
  const whatIf = await page.locator("figure[data-chart]:not(:has(svg polygon))").count();
  if (whatIf !== gaps) fail(`stress: ${whatIf} what-if charts, ${gaps} lines with a gap`);
  const bands = await page.locator("figure[data-chart] svg polygon").count();
  if (bands !== r.monte_carlo.lines.length) fail(`stress: ${bands} P5-P95 bands, ${r.monte_carlo.lines.length} lines`);
  for (const line of r.monte_carlo.lines) {
    for (const y of line.years) {
      for (const f of ["p5", "p50", "p95"]) await same(page, "stress", `monte-carlo ${line.pillar} ${line.measure}`, String(y.year), f, y[f]);
    }
  }
  await axe(page, "stress");
  await downloads(page, "stress");
  await shots(page, "stress");
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
