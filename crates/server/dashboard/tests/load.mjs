// The overview's load time in headless Chromium: from `page.goto` to its charts drawn (the
// status tables and the over-time chart rendered), in a fresh page each run.
// Usage: node load.mjs URL AS_OF [RUNS]   (playwright-core from the e2e's node_modules)
import { chromium } from "playwright-core";

const [url, asOf, runs = "3"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
for (let i = 0; i < Number(runs); i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const start = Date.now();
  await page.goto(`${url}/#/overview?as_of=${asOf}`);
  await page.waitForSelector("figure[data-chart] svg polyline", { timeout: 120000 });
  const ms = Date.now() - start;
  times.push(ms);
  console.log(`overview load to charts drawn: ${ms} ms${errors.length ? ` (errors: ${errors.join("; ")})` : ""}`);
  await page.close();
}
await browser.close();
console.log(`runs: ${times.join(", ")} ms`);
