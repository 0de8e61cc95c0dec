// The dashboard: pages rendered from the server's API v1 (the same types the CLI prints), and
// every entry verified in the reader's browser (WebCrypto Ed25519 and SHA-256), trusting the
// server for nothing it shows as verified. No library, no request beyond this server.
"use strict";

const state = { lang: "en", messages: {}, asOf: null };

// ---- Translations (Fluent syntax, one message per line) ----

function parseFtl(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const at = line.indexOf(" = ");
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 3);
  }
  return out;
}

function t(key, args) {
  let s = state.messages[key];
  if (s === undefined) return key;
  for (const [k, v] of Object.entries(args || {})) s = s.split(`{ $${k} }`).join(String(v));
  return s;
}

async function loadLanguage(lang) {
  const res = await fetch(`/dashboard/i18n/${lang}.ftl`);
  state.messages = parseFtl(await res.text());
  state.lang = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  document.title = t("title");
}

// ---- Formatting ----

function locale() { return state.lang === "uk" ? "uk-UA" : "en-GB"; }

function money(text, currency) {
  if (text === null || text === undefined) return "–";
  const n = Number(text);
  if (!Number.isFinite(n)) return String(text);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n) + (currency ? " " + currency : "");
}

function percent(x) {
  if (x === null || x === undefined) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(Number(x));
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(path) {
  const res = await fetch(path);
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${path}: ${detail}`);
  }
  return res.json();
}

// ---- Downloads: every table as CSV, every chart as SVG and PNG, all made here ----

function save(name, blob) {
  const a = el("a", { download: name, href: URL.createObjectURL(blob) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

// A button (keyboard-reachable) that makes a file when pressed.
function downloadButton(label, name, make) {
  const b = el("button", { type: "button", class: "download", "data-download": name, text: label });
  b.addEventListener("click", async () => {
    try { save(name, await make()); } catch (e) { b.textContent = t("download-failed", { message: e.message }); }
  });
  return b;
}

const slug = (s) => String(s).trim().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").toLowerCase() || "table";
const csvQuote = (v) => /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);

// A table's CSV, read from the table itself: a cell's raw value (`data-value`: exact decimals,
// ratios) where it has one, else its text without the synthetic mark; a last column names the
// figures of the row that rest on synthetic data.
function tableCsv(table) {
  const text = (c) => c.dataset.value ?? [...c.childNodes].filter((n) => !(n.classList && n.classList.contains("mark"))).map((n) => n.textContent).join("").trim();
  const head = [...table.querySelectorAll("thead tr:last-child th")].map(text);
  const rows = [...table.querySelectorAll("tbody tr")].map((tr) => {
    const cells = [...tr.children];
    const marked = cells.filter((c) => c.querySelector(".mark")).map((c) => c.dataset.field || head[cells.indexOf(c)]);
    return [...cells.map(text), marked.join(" ")];
  });
  return [[...head, t("col-synthetic")], ...rows].map((r) => r.map(csvQuote).join(",")).join("\n") + "\n";
}

// Every table of the page gets its CSV download (after the box it scrolls in).
function csvEverywhere(root) {
  for (const table of root.querySelectorAll("table")) {
    if (table.dataset.csv) continue;
    table.dataset.csv = "1";
    const box = table.closest(".scroll") || table;
    const heading = box.previousElementSibling?.tagName === "H2" ? box.previousElementSibling.textContent : "";
    const name = table.dataset.table || table.querySelector("caption")?.textContent || heading || "table";
    // A box that scrolls is reached by the keyboard, and named.
    if (box !== table) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name);
    }
    box.after(
      downloadButton(t("download-csv"), `${slug(name)}.csv`, async () => new Blob([tableCsv(table)], { type: "text/csv;charset=utf-8" })));
  }
}

const markSpan = () => el("span", { class: "mark", title: t("synthetic-legend") }, "*");

// ---- Overview ----

const FIGURES = ["due", "allocated", "reported", "confirmed", "arrears"];

function figureCell(row, field, currency) {
  const marked = (row.synthetic_figures || []).includes(field);
  const td = el("td", { "data-field": field, "data-value": row[field] ?? "" }, money(row[field], null));
  if (marked) {
    td.classList.add("synthetic");
    td.append(markSpan());
  }
  return td;
}

function statusTable(report, keyLabel, caption, link, withTotal = true) {
  const header = [keyLabel, ...FIGURES.map((f) => t("col-" + f)), t("col-on-time")];
  const table = el("table", { "data-table": caption }, el("caption", { text: `${caption} (${report.currency})` }));
  table.append(el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { scope: "col", text: h })))));
  const body = el("tbody");
  // A total row only under every row (not under a selection, where it would mislead).
  const total = withTotal ? { ...report.total, key: t("total") } : null;
  const rows = total ? [...report.rows, total] : report.rows;
  for (const r of rows) {
    const name = link && r !== total ? el("a", { href: link(r.key), text: r.key }) : r.key;
    const tr = el("tr", { "data-key": r.key }, el("th", { scope: "row" }, name));
    for (const f of FIGURES) tr.append(figureCell(r, f, report.currency));
    tr.append(el("td", { "data-field": "on_time_rate", "data-value": r.on_time_rate ?? "" }, percent(r.on_time_rate)));
    body.append(tr);
  }
  table.append(body);
  return el("section", {}, el("div", { class: "scroll" }, table));
}

async function overview(main, asOf) {
  const q = `as_of=${asOf}`;
  const byPillarAsked = api(`/v1/status?${q}&by=pillar`);
  // The chart's figures are asked at once, beside the tables' (the last point is the tables').
  const series = overTimeFigures(asOf, byPillarAsked);
  const [byGuarantor, byPillar, byCommitment] = await Promise.all([
    api(`/v1/status?${q}&by=guarantor`), byPillarAsked, api(`/v1/status?${q}&by=commitment`),
  ]);
  main.replaceChildren(el("h2", { text: t("overview-title", { date: asOf }) }),
    el("p", { text: t("from-entries", { n: byGuarantor.log_size }) }));
  main.append(el("h2", { text: t("by-guarantor") }),
    statusTable(byGuarantor, t("col-guarantor"), t("by-guarantor"), (g) => `#/guarantor/${encodeURIComponent(g)}?as_of=${asOf}`));
  main.append(el("h2", { text: t("by-pillar") }), statusTable(byPillar, t("col-pillar"), t("by-pillar")));
  const largest = { ...byCommitment, rows: [...byCommitment.rows].sort((a, b) => Number(b.arrears) - Number(a.arrears)).slice(0, 10) };
  main.append(el("h2", { text: t("largest-arrears") }),
    statusTable(largest, t("col-commitment"), t("largest-arrears"), (c) => `#/explain/${encodeURIComponent(c)}?as_of=${asOf}`, false));
  main.append(el("p", { class: "legend", text: t("synthetic-legend") }), el("p", { class: "legend", text: t("on-time-legend") }));
  main.append(el("h2", { text: t("over-time") }), overTime(await series));
}

// ---- Charts: drawn as SVG here, no library ----

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// The top of an axis: `v` rounded up so that its four even steps are round numbers.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 1.2, 1.6, 2, 3, 4, 6, 8, 10].map((m) => m * p).find((m) => m >= v * 0.9999) ?? 10 * p;
}

const compact = (v) => new Intl.NumberFormat(locale(), { notation: "compact", maximumFractionDigits: 1 }).format(v);

// A chart in its figure, with its caption and its downloads: SVG, and PNG drawn from the SVG
// onto a canvas here.
function chartFigure(title, chart, unit) {
  const name = slug(title);
  return el("figure", { "data-chart": title }, chart, el("figcaption", { text: unit ? `${title} (${unit})` : title }),
    el("p", { class: "downloads" },
      downloadButton(t("download-svg"), `${name}.svg`, async () => new Blob([svgText(chart)], { type: "image/svg+xml" })), " ",
      downloadButton(t("download-png"), `${name}.png`, () => pngBlob(chart))));
}

function viewBox(chart) { return chart.getAttribute("viewBox").split(" ").map(Number); }

// The chart as a standalone SVG file: its own size, font and white background.
function svgText(chart) {
  const copy = chart.cloneNode(true);
  const [, , w, h] = viewBox(chart);
  copy.setAttribute("width", w);
  copy.setAttribute("height", h);
  copy.setAttribute("font-family", "DejaVu Sans, Arial, sans-serif");
  copy.insertBefore(svg("rect", { width: w, height: h, fill: "#fff" }), copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

// The chart as PNG: its SVG drawn onto a canvas at twice its size.
function pngBlob(chart, scale = 2) {
  const [, , w, h] = viewBox(chart);
  const url = URL.createObjectURL(new Blob([svgText(chart)], { type: "image/svg+xml" }));
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = el("canvas", { width: w * scale, height: h * scale });
      const g = canvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("canvas"))), "image/png");
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("SVG")); };
    img.src = url;
  });
}

function svgRoot(title, W, H) {
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": title, xmlns: SVG });
  chart.append(svg("title", {}, title));
  return chart;
}

// A legend of coloured swatches in one row at the top.
function legendRow(chart, x0, items) {
  items.forEach((s, n) => {
    const x = x0 + n * 170;
    chart.append(svg("rect", { x, y: 6, width: 14, height: 10, fill: s.color, "fill-opacity": s.opacity ?? 1 }));
    chart.append(svg("text", { x: x + 19, y: 15, "font-size": 12, fill: "#1a1a1a" }, s.label));
  });
}

// Lines of `series` ([{label, color, values}]) over `dates`, with a legend and its downloads.
function lineChart(title, dates, series, currency) {
  const W = 800, H = 320, L = 90, R = 30, T = 16, B = 40;
  const max = niceMax(Math.max(...series.flatMap((s) => s.values)));
  const x = (i) => L + (dates.length < 2 ? 0 : (i * (W - L - R)) / (dates.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const chart = svgRoot(title, W, H);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#ddd" }));
    chart.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#333" }, compact(v)));
  }
  const step = Math.max(1, Math.ceil(dates.length / 7));
  dates.forEach((d, i) => {
    if (i % step === 0) {
      chart.append(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#333" }, d));
    }
  });
  series.forEach((s, n) => {
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": ["", "6 3", "2 3", "10 4 2 4"][n % 4] }));
    chart.append(svg("text", { x: L + 8 + n * 170, y: H - 6, "font-size": 12, fill: s.color }, `— ${s.label}`));
  });
  return chartFigure(title, chart, currency);
}

// Horizontal bars: one group per label, one bar per series ([{label, color, values}]).
function barChart(title, labels, series) {
  const W = 800, L = 150, R = 70, T = 26, B = 26, bar = 11;
  const rowH = 8 + series.length * bar;
  const H = T + Math.max(1, labels.length) * rowH + B;
  const max = niceMax(Math.max(...series.flatMap((s) => s.values.filter(Number.isFinite))));
  const x = (v) => L + ((W - L - R) * Math.max(0, v)) / max;
  const chart = svgRoot(title, W, H);
  legendRow(chart, L, series);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    chart.append(svg("line", { x1: x(v), x2: x(v), y1: T, y2: H - B, stroke: "#ddd" }));
    chart.append(svg("text", { x: x(v), y: H - B + 15, "text-anchor": "middle", "font-size": 11, fill: "#333" }, compact(v)));
  }
  labels.forEach((label, i) => {
    const y0 = T + i * rowH + 4;
    const short = String(label).length > 22 ? String(label).slice(0, 21) + "…" : String(label);
    chart.append(svg("text", { x: L - 6, y: y0 + (series.length * bar) / 2 + 4, "text-anchor": "end", "font-size": 11, fill: "#1a1a1a" }, short));
    series.forEach((s, n) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      const r = svg("rect", { x: L, y: y0 + n * bar, width: Math.max(0.5, x(v) - L), height: bar - 2, fill: s.color });
      r.append(svg("title", {}, `${label}, ${s.label}: ${money(v, null)}`));
      chart.append(r);
    });
  });
  return chart;
}

// A fan chart: the band from P5 to P95, the median, and the requirement, over years.
function fanChart(title, years, line) {
  const W = 800, H = 320, L = 90, R = 30, T = 26, B = 28;
  const pick = (f) => line.years.map((y) => (y[f] === null || y[f] === undefined ? null : Number(y[f])));
  const [req, p5, p50, p95] = ["requirement", "p5", "p50", "p95"].map(pick);
  const max = niceMax(Math.max(...req.filter((v) => v !== null), ...p95));
  const x = (i) => L + (years.length < 2 ? (W - L - R) / 2 : (i * (W - L - R)) / (years.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const chart = svgRoot(title, W, H);
  legendRow(chart, L, [
    { label: t("stress-band"), color: "#0b4ea2", opacity: 0.25 },
    { label: "P50", color: "#0b4ea2" },
    { label: t("stress-requirement"), color: "#a30000" },
  ]);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#ddd" }));
    chart.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#333" }, compact(v)));
  }
  years.forEach((d, i) => chart.append(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#333" }, d)));
  const band = [...p95.map((v, i) => `${x(i)},${y(v)}`), ...p5.map((v, i) => `${x(i)},${y(v)}`).reverse()].join(" ");
  chart.append(svg("polygon", { points: band, fill: "#0b4ea2", "fill-opacity": 0.25, stroke: "none" }));
  chart.append(svg("polyline", { points: p50.map((v, i) => `${x(i)},${y(v)}`).join(" "), fill: "none", stroke: "#0b4ea2", "stroke-width": 2.5 }));
  const needed = req.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
  if (needed.length) chart.append(svg("polyline", { points: needed.join(" "), fill: "none", stroke: "#a30000", "stroke-width": 2, "stroke-dasharray": "6 3" }));
  for (const [i, v] of p50.entries()) chart.append(svg("circle", { cx: x(i), cy: y(v), r: 3, fill: "#0b4ea2" }));
  return chart;
}

// The quarter ends from the compact's first year to `asOf`, and `asOf` itself.
function quarterEnds(firstYear, asOf) {
  const out = [];
  for (let y = firstYear; y <= Number(asOf.slice(0, 4)); y++) {
    for (const md of ["03-31", "06-30", "09-30", "12-31"]) {
      const d = `${y}-${md}`;
      if (d < asOf) out.push(d);
    }
  }
  out.push(asOf);
  return out;
}

// The status by pillar at each quarter end and on `asOf` (`last`, asked already).
async function overTimeFigures(asOf, last) {
  const head = await api("/v1/log");
  const adopted = head.adopted_on || asOf;
  const dates = quarterEnds(Number(adopted.slice(0, 4)), asOf).filter((d) => d >= adopted);
  const reports = await Promise.all(dates.map((d) => (d === asOf ? last : api(`/v1/status?as_of=${d}&by=pillar`))));
  return dates.map((d, i) => [d, reports[i]]).filter(([, r]) => r);
}

function overTime(kept) {
  const pick = (f) => kept.map(([, r]) => Number(r.total[f]));
  const currency = kept.length ? kept[kept.length - 1][1].currency : "";
  return lineChart(t("over-time"), kept.map(([d]) => d), [
    { label: t("col-due"), color: "#555", values: pick("due") },
    { label: t("col-allocated"), color: "#0b4ea2", values: pick("allocated") },
    { label: t("col-confirmed"), color: "#0a6b2a", values: pick("confirmed") },
  ], currency);
}

// ---- Burden sharing ----

async function burden(main, asOf) {
  const year = Number(asOf.slice(0, 4)) - (asOf.slice(5) < "12-31" ? 1 : 0);
  const b = await api(`/v1/burden?year=${year}`);
  const fields = ["fair_share", "allocated", "confirmed", "gap"];
  const header = [t("col-party"), t("col-gdp-share"), ...fields.map((f) => t("col-" + f.replace("_", "-"))), t("col-pct-gdp")];
  const body = el("tbody");
  for (const r of b.rows) {
    const tr = el("tr", { "data-key": r.party }, el("th", { scope: "row", text: r.party }), el("td", { "data-value": r.gdp_share, text: percent(r.gdp_share) }));
    for (const f of fields) tr.append(figureCell(r, f, b.currency));
    tr.append(el("td", { "data-value": r.pct_gdp, text: percent(r.pct_gdp / 100) }));
    body.append(tr);
  }
  const table = el("table", { "data-table": "burden" }, el("caption", { text: `${t("burden-title", { year })} (${b.currency})` }),
    el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { scope: "col", text: h })))), body);
  const chart = barChart(t("burden-chart", { year }), b.rows.map((r) => r.party), [
    { label: t("col-fair-share"), color: "#555", values: b.rows.map((r) => Number(r.fair_share)) },
    { label: t("col-allocated"), color: "#0b4ea2", values: b.rows.map((r) => Number(r.allocated)) },
    { label: t("col-confirmed"), color: "#0a6b2a", values: b.rows.map((r) => Number(r.confirmed)) },
  ]);
  main.replaceChildren(el("h2", { text: t("burden-title", { year }) }),
    el("p", { text: t("burden-baseline", { baseline: money(b.baseline, b.currency) }) }),
    el("p", {}, `${t("formula")}: ${b.formula} `, b.source ? el("a", { href: b.source, rel: "noreferrer", text: t("source") }) : null),
    el("div", { class: "scroll" }, table),
    el("p", { class: "legend", text: t("gap-legend") }), el("p", { class: "legend", text: t("synthetic-legend") }),
    chartFigure(t("burden-chart", { year }), chart, b.currency));
}

// ---- Activations ----

async function activations(main) {
  const list = await api("/v1/activations");
  main.replaceChildren(el("h2", { text: t("nav-activations") }));
  if (!list.length) {
    main.append(el("p", { text: t("no-activation") }));
    return;
  }
  for (const a of list) {
    const title = `${t("col-entry")} ${a.entry}: ${a.summary ?? a.trigger.on} (${a.declared_at})${a.withdrawn ? " — " + t("withdrawn") : ""}`;
    const body = el("tbody");
    for (const q of a.asked) {
      body.append(el("tr", { "data-state": q.state }, el("th", { scope: "row", text: q.guarantor }), el("td", { text: q.agreement }),
        el("td", { text: `${q.hours} h` }), el("td", { text: q.deadline }), el("td", { text: t("state-" + q.state) }),
        el("td", { text: q.answered_at ?? "–" })));
    }
    const header = ["col-guarantor", "col-agreement", "col-hours", "col-deadline", "col-state", "col-answered"].map((k) => el("th", { scope: "col", text: t(k) }));
    main.append(el("h2", {}, el("a", { href: `#/entry/${a.entry}`, text: title })),
      el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...header)), body)));
    if (a.surges.length) {
      const sb = el("tbody");
      for (const x of a.surges) {
        sb.append(el("tr", {}, el("th", { scope: "row", text: x.commitment }), el("td", { text: x.guarantor }),
          el("td", { "data-field": "amount", "data-value": x.amount }, money(x.amount, null), x.synthetic ? markSpan() : null), el("td", { text: x.due })));
      }
      const sh = ["col-commitment", "col-guarantor", "col-surge", "col-due-on"].map((k) => el("th", { scope: "col", text: t(k) }));
      main.append(el("h2", { text: t("surges") }), el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...sh)), sb)));
    }
  }
  main.append(el("p", { class: "legend", text: t("synthetic-legend") }));
}

// ---- Stress ----

async function stress(main, params) {
  const without = params.get("without") || "US";
  const delay = params.get("delay") || "0";
  const scenarios = params.get("scenarios") || "1000";
  const seed = params.get("seed") || "7";
  const rows = await api(`/v1/agreements`);
  const guarantors = [...new Set(rows.map((r) => r.guarantor))].sort();
  const chosen = new Set(without.split(",").filter(Boolean));
  const form = el("form", { id: "stress-form" });
  const select = el("select", { id: "without", multiple: "", size: "6" });
  for (const g of guarantors) {
    const o = el("option", { value: g, text: g });
    if (chosen.has(g)) o.selected = true;
    select.append(o);
  }
  const field = (id, label, value, min, max) => el("p", {}, el("label", { for: id, text: label + " " }),
    el("input", { id, type: "number", value, min, max }));
  form.append(el("p", {}, el("label", { for: "without", text: t("stress-without") + " " }), select),
    field("delay", t("stress-delay"), delay, 0, 120), field("scenarios", t("stress-scenarios"), scenarios, 1, 10000),
    field("seed", t("stress-seed"), seed, 0, 2 ** 31), el("button", { type: "submit", text: t("stress-run") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const w = [...select.selectedOptions].map((o) => o.value).join(",");
    const v = (id) => document.getElementById(id).value;
    location.hash = `/stress?without=${w}&delay=${v("delay")}&scenarios=${v("scenarios")}&seed=${v("seed")}`;
  });
  main.replaceChildren(el("h2", { text: t("nav-stress") }), form);
  const r = await api(`/v1/stress?without=${encodeURIComponent(without)}&delay=${delay}&scenarios=${scenarios}&seed=${seed}`);
  main.append(el("h2", { text: t("stress-what-if", { without: r.what_if.without.join(", ") }) }));
  const fields = ["requirement", "before", "after", "gap_before", "gap_after"];
  for (const line of r.what_if.lines) {
    const body = el("tbody");
    for (const y of line.years) {
      const tr = el("tr", {}, el("th", { scope: "row", text: String(y.year) }));
      for (const f of fields) tr.append(figureCell(y, f, null));
      body.append(tr);
    }
    const head = [t("col-year"), ...fields.map((f) => t("stress-" + f.replace("_", "-")))].map((h) => el("th", { scope: "col", text: h }));
    main.append(el("div", { class: "scroll" }, el("table", {}, el("caption", { text: `${line.pillar} (${line.measure})` }), el("thead", {}, el("tr", {}, ...head)), body)));
    // A line the what-if opens a gap in: its requirement and what is scheduled before and after.
    if (line.years.some((y) => Number(y.gap_before) > 0 || Number(y.gap_after) > 0)) {
      const years = line.years.map((y) => String(y.year));
      const pick = (f) => line.years.map((y) => Number(y[f] ?? 0));
      main.append(lineChart(`${t("stress-what-if-chart")}: ${line.pillar} (${line.measure})`, years, [
        { label: t("stress-requirement"), color: "#a30000", values: pick("requirement") },
        { label: t("stress-before"), color: "#555", values: pick("before") },
        { label: t("stress-after"), color: "#0b4ea2", values: pick("after") },
      ], null));
    }
  }
  for (const rb of r.rebalance || []) {
    const body = el("tbody");
    for (const p of rb.parts) body.append(el("tr", {}, el("th", { scope: "row", text: p.guarantor }), el("td", { "data-value": p.gdp_share, text: percent(p.gdp_share) }), el("td", { "data-field": "amount", "data-value": p.amount }, money(p.amount, null), rb.synthetic ? markSpan() : null)));
    const head = ["col-guarantor", "col-gdp-share", "stress-extra"].map((k) => el("th", { scope: "col", text: t(k) }));
    main.append(el("h2", { text: t("stress-rebalance", { pillar: rb.pillar, year: rb.year, gap: money(rb.extra_gap, rb.measure) }) }),
      el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...head)), body)));
  }
  if (r.monte_carlo) {
    main.append(el("h2", { text: t("stress-monte-carlo", { n: r.monte_carlo.scenarios, seed: r.monte_carlo.seed }) }));
    for (const line of r.monte_carlo.lines) {
      const years = line.years.map((y) => String(y.year));
      const title = `${line.pillar} (${line.measure})`;
      main.append(chartFigure(title, fanChart(title, years, line), null));
      const fields = ["requirement", "scheduled", "mean", "p5", "p50", "p95"];
      const body = el("tbody");
      for (const y of line.years) {
        const tr = el("tr", { "data-key": String(y.year) }, el("th", { scope: "row", text: String(y.year) }));
        for (const f of fields) tr.append(figureCell(y, f, null));
        tr.append(el("td", { "data-field": "p_meet", "data-value": y.p_meet ?? "" }, percent(y.p_meet)));
        body.append(tr);
      }
      const head = [t("col-year"), ...fields.map((f) => t("mc-" + f)), t("mc-p-meet")].map((h) => el("th", { scope: "col", text: h }));
      main.append(el("div", { class: "scroll" }, el("table", { "data-table": `monte-carlo ${line.pillar} ${line.measure}` },
        el("caption", { text: `${title}: ${t("mc-table")}` }), el("thead", {}, el("tr", {}, ...head)), body)));
    }
    main.append(el("p", { class: "legend", text: t("stress-legend") }));
  }
  main.append(el("p", { class: "legend", text: t("synthetic-legend") }));
}

// ---- The tracker's views, from the signed record: aid by donor, by group, by year, units by
// category and donor, a data explorer; the Kiel tracker's own figures beside ours ----

const AID = ["due", "allocated", "reported", "confirmed", "arrears"];
const UNITS = ["due", "confirmed", "arrears"];

// Rows summed by `key` (a list of key cells): figures in whole cents (the API's rows are to the
// cent, so the sums are exact), the synthetic marks of the rows summed united.
function sumBy(rows, key, fields = AID) {
  const out = new Map();
  for (const r of rows) {
    const keys = key(r);
    const k = keys.join("\u0000");
    if (!out.has(k)) out.set(k, { keys, synthetic_figures: [], cents: Object.fromEntries(fields.map((f) => [f, 0])) });
    const s = out.get(k);
    for (const f of fields) s.cents[f] += Math.round(Number(r[f]) * 100);
    for (const m of r.synthetic_figures || []) if (!s.synthetic_figures.includes(m)) s.synthetic_figures.push(m);
  }
  return [...out.values()].map((s) => {
    for (const f of fields) s[f] = (s.cents[f] / 100).toFixed(2);
    delete s.cents;
    return s;
  });
}

// The share of what fell due that is confirmed.
const fulfilled = (r) => (Number(r.due) > 0 ? Number(r.confirmed) / Number(r.due) : null);

// A table of summed rows: key columns (`heads`, each row's `keys`; the first a row header,
// linked when `link` gives an address), the figures, and `extra` columns ({head, cell(row)}).
function figuresTable(name, caption, heads, rows, fields, { link, extra = [], total } = {}) {
  const head = [...heads, ...fields.map((f) => t("col-" + f)), ...extra.map((x) => x.head)];
  const body = el("tbody");
  const all = total ? [...rows, { ...total, keys: [t("total"), ...heads.slice(1).map(() => "")], isTotal: true }] : rows;
  for (const r of all) {
    const [first, ...more] = r.keys;
    const href = link && !r.isTotal ? link(r) : null;
    const tr = el("tr", { "data-key": r.keys.join("/") }, el("th", { scope: "row" }, href ? el("a", { href, text: first }) : first));
    for (const k of more) tr.append(el("td", { class: "text", text: String(k) }));
    for (const f of fields) tr.append(figureCell(r, f, null));
    for (const x of extra) tr.append(x.cell(r));
    body.append(tr);
  }
  return el("div", { class: "scroll" }, el("table", { "data-table": name }, el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ...head.map((h, i) => el("th", { scope: "col", class: i > 0 && i < heads.length ? "text" : null, text: h })))), body));
}

const percentCell = (v) => el("td", { "data-field": "fulfilled", "data-value": v === null ? "" : v.toFixed(4) }, percent(v));
const moneyCell = (field, v) => el("td", { "data-field": field, "data-value": v === null ? "" : v.toFixed(2) }, v === null ? "–" : money(v, null));
const fulfilledColumn = () => ({ head: t("col-fulfilled"), cell: (r) => percentCell(fulfilled(r)) });

async function tracker(main, params, asOf) {
  const aid = await api(`/v1/aid?as_of=${asOf}`);
  // The tracker counts in EUR: a compact that reports in another currency has nothing beside it.
  const rec = aid.currency === "EUR" ? await api("/v1/reconcile/kiel").catch(() => null) : null;
  const g = params.get("guarantor") || "", p = params.get("pillar") || "";
  const from = params.get("from") || "", to = params.get("to") || "";
  const inPeriod = (y) => (!from || y >= Number(from)) && (!to || y <= Number(to));
  const chosen = (r) => (!g || r.guarantor === g) && (!p || r.pillar === p) && inPeriod(r.year);
  const rows = aid.rows.filter(chosen);
  const units = aid.units.filter(chosen);
  const category = Object.fromEntries(aid.pillars.map((x) => [x.id, x.category]));
  const party = Object.fromEntries(aid.guarantors.map((x) => [x.code, x]));
  const groupName = Object.fromEntries(aid.groups.map((x) => [x.id, x.name]));
  const cats = p ? [category[p]].filter(Boolean) : [...new Set(Object.values(category).filter(Boolean))];
  const kiel = rec ? rec.lines.filter((l) => (!g || l.party === g) && inPeriod(l.year) && cats.includes(l.category)) : [];
  // The tracker's allocations summed by a key of its lines; null where it has no line.
  const kielBy = (key) => {
    const m = new Map();
    for (const l of kiel) m.set(key(l), (m.get(key(l)) || 0) + Number(l.tracker));
    return (k) => (m.has(k) ? m.get(k) : null);
  };
  // The tracker's column of a table: its figure per row, and under them their sum.
  const KIEL = (of, rows) => ({ head: t("col-kiel"), cell: (r) => {
    if (!r.isTotal) return moneyCell("kiel", of(r));
    const known = rows.map(of).filter((v) => v !== null);
    return moneyCell("kiel", known.length ? known.reduce((n, v) => n + v, 0) : null);
  } });
  const FULFILLED = fulfilledColumn();
  const cur = aid.currency;
  const sum = (list, fields = AID) => sumBy(list, () => ["total"], fields)[0] || Object.fromEntries(fields.map((f) => [f, "0.00"]));

  // The data explorer's filters: the URL carries them.
  const years = [...new Set([...aid.rows, ...aid.units].map((r) => r.year))].sort();
  const select = (id, label, options, value) => {
    const sel = el("select", { id: `f-${id}` });
    sel.append(el("option", { value: "", text: t("all") }));
    for (const [v, text] of options) {
      const o = el("option", { value: String(v), text });
      if (String(v) === value) o.selected = true;
      sel.append(o);
    }
    sel.addEventListener("change", () => {
      const q = new URLSearchParams({ as_of: asOf });
      for (const f of ["guarantor", "pillar", "from", "to"]) { const v = document.getElementById(`f-${f}`).value; if (v) q.set(f, v); }
      location.hash = `/tracker?${q}`;
    });
    return el("span", { class: "filter" }, el("label", { for: `f-${id}`, text: label + " " }), sel, " ");
  };
  const donors = [...new Set(aid.rows.map((r) => r.guarantor))].sort();
  const filters = el("fieldset", { class: "filters" }, el("legend", { text: t("explorer-filters") }),
    select("guarantor", t("col-guarantor"), donors.map((d) => [d, `${d} — ${party[d]?.name ?? d}`]), g),
    select("pillar", t("col-pillar"), aid.pillars.map((x) => [x.id, x.name]), p),
    select("from", t("filter-from"), years.map((y) => [y, String(y)]), from),
    select("to", t("filter-to"), years.map((y) => [y, String(y)]), to));
  main.replaceChildren(el("h2", { text: t("aid-title", { date: asOf }) }), el("p", { text: t("aid-intro", { n: aid.log_size }) }), filters,
    el("p", { class: "legend", text: rec ? t("kiel-period", { source: rec.source, from: rec.from, to: rec.to, date: rec.as_of }) : t("no-kiel") }),
    el("p", { class: "legend", text: t("synthetic-legend") }));

  // By donor.
  const byDonor = sumBy(rows, (r) => [r.guarantor]).sort((a, b) => Number(b.allocated) - Number(a.allocated));
  const kielParty = kielBy((l) => l.party);
  main.append(el("h2", { text: t("aid-by-donor") }),
    figuresTable("aid-by-donor", `${t("aid-by-donor")} (${cur})`, [t("col-guarantor")], byDonor, AID,
      { link: (r) => `#/guarantor/${encodeURIComponent(r.keys[0])}?as_of=${asOf}`, extra: [KIEL((r) => kielParty(r.keys[0]), byDonor), FULFILLED], total: sum(rows) }),
    chartFigure(t("aid-by-donor"), barChart(t("aid-by-donor"), byDonor.map((r) => r.keys[0]), [
      { label: t("col-allocated"), color: "#0b4ea2", values: byDonor.map((r) => Number(r.allocated)) },
      { label: t("col-confirmed"), color: "#0a6b2a", values: byDonor.map((r) => Number(r.confirmed)) },
      { label: t("col-kiel"), color: "#b35900", values: byDonor.map((r) => kielParty(r.keys[0]) ?? NaN) },
    ]), cur));

  // By group of donors, and NATO allies beside the others.
  const groupOf = (code) => party[code]?.group ?? "-";
  const natoOf = (code) => (party[code]?.nato ? t("group-nato") : t("group-other"));
  const byGroup = sumBy(rows, (r) => [groupName[groupOf(r.guarantor)] ?? groupOf(r.guarantor)]);
  const kielGroup = kielBy((l) => groupName[groupOf(l.party)] ?? groupOf(l.party));
  const byNato = sumBy(rows, (r) => [natoOf(r.guarantor)]);
  const kielNato = kielBy((l) => natoOf(l.party));
  const both = [...byGroup, ...byNato];
  main.append(el("h2", { text: t("aid-by-group") }),
    figuresTable("aid-by-group", `${t("aid-by-group")} (${cur})`, [t("col-group")], byGroup, AID, { extra: [KIEL((r) => kielGroup(r.keys[0]), byGroup), FULFILLED] }),
    figuresTable("aid-by-nato", `${t("aid-by-nato")} (${cur})`, [t("col-group")], byNato, AID, { extra: [KIEL((r) => kielNato(r.keys[0]), byNato), FULFILLED] }),
    chartFigure(t("aid-by-group"), barChart(t("aid-by-group"), both.map((r) => r.keys[0]), [
      { label: t("col-due"), color: "#555", values: both.map((r) => Number(r.due)) },
      { label: t("col-allocated"), color: "#0b4ea2", values: both.map((r) => Number(r.allocated)) },
      { label: t("col-confirmed"), color: "#0a6b2a", values: both.map((r) => Number(r.confirmed)) },
    ]), cur));

  // Over time: each year's figures, and the totals so far.
  const byYear = sumBy(rows, (r) => [String(r.year)]).sort((a, b) => a.keys[0].localeCompare(b.keys[0]));
  const kielYear = kielBy((l) => String(l.year));
  let running = 0;
  const soFar = { head: t("col-confirmed-so-far"), cell: (r) => { if (r.isTotal) return el("td"); running += Number(r.confirmed); return moneyCell("confirmed_so_far", running); } };
  main.append(el("h2", { text: t("aid-over-time") }),
    figuresTable("aid-over-time", `${t("aid-over-time")} (${cur})`, [t("col-year")], byYear, AID, { extra: [KIEL((r) => kielYear(r.keys[0]), byYear), soFar], total: sum(rows) }));
  let acc = { due: 0, allocated: 0, confirmed: 0 };
  const cumulative = byYear.map((r) => (acc = { due: acc.due + Number(r.due), allocated: acc.allocated + Number(r.allocated), confirmed: acc.confirmed + Number(r.confirmed) }));
  main.append(chartFigure(t("aid-over-time"), barChart(t("aid-over-time"), byYear.map((r) => r.keys[0]), [
    { label: t("col-due"), color: "#555", values: byYear.map((r) => Number(r.due)) },
    { label: t("col-allocated"), color: "#0b4ea2", values: byYear.map((r) => Number(r.allocated)) },
    { label: t("col-confirmed"), color: "#0a6b2a", values: byYear.map((r) => Number(r.confirmed)) },
    { label: t("col-kiel"), color: "#b35900", values: byYear.map((r) => kielYear(r.keys[0]) ?? NaN) },
  ]), cur));
  if (byYear.length > 1) {
    main.append(lineChart(t("aid-cumulative"), byYear.map((r) => r.keys[0]), [
      { label: t("col-due"), color: "#555", values: cumulative.map((c) => c.due) },
      { label: t("col-allocated"), color: "#0b4ea2", values: cumulative.map((c) => c.allocated) },
      { label: t("col-confirmed"), color: "#0a6b2a", values: cumulative.map((c) => c.confirmed) },
    ], cur));
  }

  // Units (equipment counted in its own unit, never added to money): by category and donor.
  main.append(el("h2", { text: t("aid-units") }), el("p", { class: "legend", text: t("units-legend") }));
  const byUnit = sumBy(units, (u) => [u.unit, u.guarantor], UNITS).sort((a, b) => a.keys.join().localeCompare(b.keys.join()));
  if (!byUnit.length) main.append(el("p", { text: t("no-units") }));
  else {
    main.append(figuresTable("aid-units", t("aid-units"), [t("col-unit"), t("col-guarantor")], byUnit, UNITS, { extra: [FULFILLED] }));
    for (const unit of [...new Set(byUnit.map((r) => r.keys[0]))]) {
      const mine = byUnit.filter((r) => r.keys[0] === unit);
      const title = `${t("aid-unit-chart")}: ${unit}`;
      main.append(chartFigure(title, barChart(title, mine.map((r) => r.keys[1]), [
        { label: t("col-due"), color: "#555", values: mine.map((r) => Number(r.due)) },
        { label: t("col-confirmed"), color: "#0a6b2a", values: mine.map((r) => Number(r.confirmed)) },
      ]), unit));
    }
  }

  // The data explorer: every commitment's year that the filters keep.
  const explorer = sumBy(rows, (r) => [r.guarantor, r.pillar, r.commitment, String(r.year)])
    .sort((a, b) => a.keys.join().localeCompare(b.keys.join()));
  main.append(el("h2", { text: t("aid-explorer") }), el("p", { text: t("explorer-count", { n: explorer.length }) }),
    figuresTable("explorer", `${t("aid-explorer")} (${cur})`, [t("col-guarantor"), t("col-pillar"), t("col-commitment"), t("col-year")], explorer, AID,
      { link: (r) => `#/guarantor/${encodeURIComponent(r.keys[0])}?as_of=${asOf}`, extra: [FULFILLED], total: sum(rows) }));
  // The commitments of the explorer lead to their entries.
  for (const tr of main.querySelectorAll("table[data-table='explorer'] tbody tr")) {
    const cell = tr.children[2];
    const id = cell?.textContent;
    if (id && explorer.some((r) => r.keys[2] === id)) cell.replaceChildren(el("a", { href: `#/explain/${encodeURIComponent(id)}?as_of=${asOf}`, text: id }));
  }

  // Ours beside the Kiel tracker, by donor, year and category.
  if (rec) {
    const fields = ["tracker", "log_allocated", "log_confirmed", "outside", "difference"];
    const body = el("tbody");
    for (const l of kiel) {
      const tr = el("tr", { "data-key": `${l.party}/${l.year}/${l.category}` }, el("th", { scope: "row", text: l.party }), el("td", { text: String(l.year) }), el("td", { class: "text", text: l.category }));
      for (const f of fields) tr.append(figureCell(l, f, null));
      tr.append(el("td", { class: "text", text: l.explained || "" }));
      body.append(tr);
    }
    const head = [t("col-party"), t("col-year"), t("col-category"), ...fields.map((f) => t("tracker-" + f.replace("_", "-"))), t("tracker-explained")].map((h) => el("th", { scope: "col", text: h }));
    main.append(el("h2", { text: t("tracker-reconcile") }),
      el("div", { class: "scroll" }, el("table", { "data-table": "tracker" }, el("caption", { text: `${t("tracker-reconcile")} (${rec.currency})` }), el("thead", {}, el("tr", {}, ...head)), body)),
      el("p", { class: "legend", text: t("tracker-legend") }));
  }
}

// ---- Agreements and guarantors ----

async function agreementsPage(main, asOf) {
  const rows = await api(`/v1/agreements?on=${asOf}`);
  const body = el("tbody");
  for (const r of rows) {
    body.append(el("tr", { "data-key": r.id }, el("th", { scope: "row" }, el("a", { href: `#/agreement/${encodeURIComponent(r.id)}?as_of=${asOf}`, text: r.id })),
      el("td", {}, el("a", { href: `#/guarantor/${encodeURIComponent(r.guarantor)}?as_of=${asOf}`, text: r.guarantor })),
      el("td", { text: String(r.version) }), el("td", { text: r.status }), el("td", { text: r.note || "" })));
  }
  const header = ["col-agreement", "col-guarantor", "col-version", "col-state", "col-note"].map((k) => el("th", { scope: "col", text: t(k) }));
  main.replaceChildren(el("h2", { text: t("nav-agreements") }),
    el("div", { class: "scroll" }, el("table", { "data-table": "agreements" }, el("caption", { text: t("agreements-on", { date: asOf }) }), el("thead", {}, el("tr", {}, ...header)), body)));
}

async function agreementPage(main, id, asOf) {
  const page = await api(`/v1/agreements/${encodeURIComponent(id)}?on=${asOf}`);
  const a = page.detail.agreement;
  const source = (url) => url ? el("a", { href: url, rel: "noreferrer", text: t("source") }) : (a.synthetic ? el("span", { class: "synthetic", text: "*" }) : "");
  main.replaceChildren(el("h2", { text: a.title }),
    el("p", {}, `${t("col-guarantor")}: `, el("a", { href: `#/guarantor/${a.guarantor}?as_of=${asOf}`, text: a.guarantor }),
      ` · ${t("col-version")} ${a.version} · ${t("col-state")}: ${page.status} · ${a.in_force_from} – ${a.ends_on} · `, source(a.source)),
    el("p", { class: "legend", text: `sha256:${page.detail.digest}` }));
  const clauses = el("ul");
  for (const c of a.clauses || []) clauses.append(el("li", {}, el("strong", { text: c.id + ": " }), c.quote ? `“${c.quote}” ` : (c.summary || ""), " ", source(c.source)));
  main.append(el("h2", { text: t("clauses") }), clauses);
  const cb = el("tbody");
  for (const c of a.commitments || []) {
    cb.append(el("tr", {}, el("th", { scope: "row" }, el("a", { href: `#/explain/${encodeURIComponent(c.id)}?as_of=${asOf}`, text: c.id })),
      el("td", { class: "text", text: c.pillar }), el("td", { class: "text" }, c.description || "", c.synthetic ? markSpan() : null)));
  }
  const ch = ["col-commitment", "col-pillar", "col-description"].map((k) => el("th", { scope: "col", class: "text", text: t(k) }));
  main.append(el("h2", { text: t("commitments") }), el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...ch)), cb)));
  const sb = el("tbody");
  for (const sig of page.signatures) {
    sb.append(el("tr", {}, el("th", { scope: "row", text: sig.party }), el("td", { text: String(sig.version) }),
      el("td", {}, el("a", { href: `#/entry/${sig.entry}`, text: String(sig.entry) }))));
  }
  const sh = ["col-signer", "col-version", "col-entry"].map((k) => el("th", { scope: "col", text: t(k) }));
  main.append(el("h2", { text: t("signatures") }), el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...sh)), sb)),
    el("p", { class: "legend", text: t("synthetic-legend") }));
}

async function guarantorPage(main, code, asOf) {
  const [rows, status, aid] = await Promise.all([api(`/v1/agreements?on=${asOf}`), api(`/v1/status?as_of=${asOf}&by=commitment`), api(`/v1/aid?as_of=${asOf}`)]);
  const mine = rows.filter((r) => r.guarantor === code);
  const money_ = aid.rows.filter((r) => r.guarantor === code);
  const units = aid.units.filter((r) => r.guarantor === code);
  const ids = new Set([...money_, ...units].map((r) => r.commitment));
  const report = { ...status, rows: status.rows.filter((r) => ids.has(r.key)) };
  const cur = aid.currency;
  const name = aid.guarantors.find((x) => x.code === code)?.name ?? code;
  main.replaceChildren(el("h2", { text: t("guarantor-title", { code: `${name} (${code})`, date: asOf }) }));
  const list = el("ul");
  for (const r of mine) list.append(el("li", {}, el("a", { href: `#/agreement/${encodeURIComponent(r.id)}?as_of=${asOf}`, text: r.id }), ` (${r.status})`));
  main.append(el("h2", { text: t("nav-agreements") }), list,
    el("h2", { text: t("commitments") }),
    statusTable(report, t("col-commitment"), `${code} ${t("commitments")}`, (c) => `#/explain/${encodeURIComponent(c)}?as_of=${asOf}`, false));
  const byCommitment = report.rows.filter((r) => Number(r.due) > 0 || Number(r.confirmed) > 0);
  if (byCommitment.length) {
    const title = t("guarantor-chart-commitments", { code });
    main.append(chartFigure(title, barChart(title, byCommitment.map((r) => r.key), [
      { label: t("col-due"), color: "#555", values: byCommitment.map((r) => Number(r.due)) },
      { label: t("col-allocated"), color: "#0b4ea2", values: byCommitment.map((r) => Number(r.allocated)) },
      { label: t("col-confirmed"), color: "#0a6b2a", values: byCommitment.map((r) => Number(r.confirmed)) },
    ]), cur));
  }
  // Fulfilment per year, and per commitment and year.
  const byYear = sumBy(money_, (r) => [String(r.year)]).sort((a, b) => a.keys[0].localeCompare(b.keys[0]));
  const total = sumBy(money_, () => ["total"])[0];
  main.append(el("h2", { text: t("guarantor-by-year") }),
    figuresTable("guarantor-years", `${t("guarantor-by-year")} (${cur})`, [t("col-year")], byYear, AID, { extra: [fulfilledColumn()], total }));
  if (byYear.length) {
    const title = `${t("guarantor-by-year")}: ${code}`;
    main.append(chartFigure(title, barChart(title, byYear.map((r) => r.keys[0]), [
      { label: t("col-due"), color: "#555", values: byYear.map((r) => Number(r.due)) },
      { label: t("col-allocated"), color: "#0b4ea2", values: byYear.map((r) => Number(r.allocated)) },
      { label: t("col-confirmed"), color: "#0a6b2a", values: byYear.map((r) => Number(r.confirmed)) },
    ]), cur));
  }
  const perYear = sumBy(money_, (r) => [r.commitment, String(r.year)]).sort((a, b) => a.keys.join().localeCompare(b.keys.join()));
  main.append(el("h2", { text: t("guarantor-by-commitment-year") }),
    figuresTable("guarantor-fulfilment", `${t("guarantor-by-commitment-year")} (${cur})`, [t("col-commitment"), t("col-year")], perYear, AID,
      { link: (r) => `#/explain/${encodeURIComponent(r.keys[0])}?as_of=${asOf}`, extra: [fulfilledColumn()] }));
  if (units.length) {
    const byUnit = sumBy(units, (u) => [u.commitment, u.unit, String(u.year)], UNITS);
    main.append(el("h2", { text: t("aid-units") }),
      figuresTable("guarantor-units", t("aid-units"), [t("col-commitment"), t("col-unit"), t("col-year")], byUnit, UNITS,
        { link: (r) => `#/explain/${encodeURIComponent(r.keys[0])}?as_of=${asOf}`, extra: [fulfilledColumn()] }));
  }
  main.append(el("p", { class: "legend", text: t("fulfilled-legend") }), el("p", { class: "legend", text: t("synthetic-legend") }));
}

// ---- Evidence: explain ----

async function explain(main, commitment, asOf) {
  const x = await api(`/v1/explain/${encodeURIComponent(commitment)}?as_of=${asOf}`);
  main.replaceChildren(el("h2", { text: t("explain-title", { commitment, date: asOf }) }));
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...["col-entry", "col-kind", "col-author"].map((k) => el("th", { scope: "col", text: t(k) })))));
  const body = el("tbody");
  for (const e of x.entries) {
    body.append(el("tr", {}, el("td", {}, el("a", { href: `#/entry/${e.index}`, text: String(e.index) })),
      el("td", {}, e.kind, e.synthetic ? markSpan() : null), el("td", { text: e.author })));
  }
  table.append(body);
  main.append(el("h2", { text: t("entries-behind") }), el("div", { class: "scroll" }, table));
}

// ---- The log ----

async function log(main, before) {
  const head = await api("/v1/log");
  const res = await fetch("/checkpoint");
  const note = await res.text();
  const kept = res.headers.get("compact-cosignatures") || "0; quorum=0";
  const [n, q] = kept.split("; quorum=");
  main.replaceChildren(el("h2", { text: t("log-title") }), el("h2", { text: t("checkpoint") }), el("pre", { text: note }),
    el("p", { text: t("cosignatures", { n, q }) }));
  const page = await api(`/v1/entries?limit=20${before !== undefined ? `&after=${before}` : ""}`);
  const body = el("tbody");
  for (const e of page.entries) {
    body.append(el("tr", {}, el("td", {}, el("a", { href: `#/entry/${e.index}`, text: String(e.index) })),
      el("td", { text: e.kind }), el("td", { text: e.author }), el("td", { text: e.summary }),
      el("td", { text: e.received ?? "" })));
  }
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...["col-entry", "col-kind", "col-author", "statement", "received"].map((k) => el("th", { scope: "col", text: t(k) })))), body);
  main.append(el("h2", { text: t("recent-entries") }), el("div", { class: "scroll" }, table));
  const pager = el("p");
  if (page.next_after !== null && page.next_after !== undefined) pager.append(el("a", { href: `#/log?before=${page.next_after}`, text: t("older") }), " ");
  if (before !== undefined) pager.append(el("a", { href: "#/log", text: t("newer") }));
  main.append(pager);
}

// ---- Verification in the browser ----

const enc = new TextEncoder();
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
const concat = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let i = 0; for (const p of parts) { out.set(p, i); i += p.length; } return out; };
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function ed25519(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (_) { return false; }
}

// A C2SP verifier key `name+id+base64(type || key)`: its name, 4-byte id, type and key.
function vkey(text) {
  const [name, id, ...rest] = text.split("+");
  const raw = b64(rest.join("+"));
  return { name, id: (id || "").toLowerCase(), type: raw[0], key: raw.slice(1) };
}

// The signature lines of a signed note: its text and, per line, name, key id and signature.
function parseNote(note) {
  const at = note.indexOf("\n\n");
  const text = note.slice(0, at + 1);
  const sigs = note.slice(at + 2).split("\n").filter((l) => l.startsWith("\u2014 ")).map((l) => {
    const [, name, sig] = l.split(" ");
    const raw = b64(sig);
    return { name, id: hex(raw.slice(0, 4)), sig: raw.slice(4) };
  });
  const [origin, size, root] = text.split("\n");
  return { text, sigs, origin, size: BigInt(size), root: b64(root) };
}

// JCS (RFC 8785) of what the statements hold: objects with sorted keys, strings, integers.
function jcs(v) {
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (v && typeof v === "object") return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + jcs(v[k])).join(",") + "}";
  return JSON.stringify(v);
}

// RFC 9162 2.1.3.2: the root an inclusion path leads to.
async function rootFromPath(index, size, leafHash, path) {
  let fn = BigInt(index), sn = BigInt(size) - 1n, r = leafHash;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      if ((fn & 1n) === 0n) while (!((fn & 1n) === 1n || fn === 0n)) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

// RFC 9162 2.1.4.2: that the tree of size `first` (root `firstHash`) is a prefix of the tree of
// size `second` (root `secondHash`).
async function consistent(first, second, firstHash, secondHash, proof) {
  let fn = BigInt(first) - 1n, sn = BigInt(second) - 1n;
  if (BigInt(first) === BigInt(second)) return proof.length === 0 && equal(firstHash, secondHash);
  if (first <= 0 || proof.length === 0) return false;
  const path = (BigInt(first) & (BigInt(first) - 1n)) === 0n ? [firstHash, ...proof] : [...proof];
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await sha256(concat(Uint8Array.of(1), c, fr));
      sr = await sha256(concat(Uint8Array.of(1), c, sr));
      if ((fn & 1n) === 0n) while (!((fn & 1n) === 1n || fn === 0n)) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await sha256(concat(Uint8Array.of(1), sr, c));
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && equal(fr, firstHash) && equal(sr, secondHash);
}

const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));

// Whether `statement` (a leaf, parsed) is signed with verifier key `key`: its JCS form without
// `sig` and the log's `received`, the bytes its author signed.
async function signedBy(statement, key) {
  const unsigned = { ...statement }; delete unsigned.sig; delete unsigned.received;
  const k = vkey(key);
  return statement.key === `${k.name}+${k.id}` && await ed25519(k.key, b64(statement.sig), enc.encode(jcs(unsigned)));
}

// The checks of a checkpoint: the operator's signature over its text (the log's origin is the
// key's name), and the witnesses' cosignature/v1 lines (the header line, the time line, the
// text) against the quorum the server names.
async function checkpointChecks(head, note) {
  const op = vkey(head.operator_key);
  const opSig = note.sigs.find((s) => s.name === op.name && s.id === op.id);
  const signed = op.type === 1 && note.origin === op.name && !!opSig && await ed25519(op.key, opSig.sig, enc.encode(note.text));
  let valid = 0;
  for (const w of head.witnesses || []) {
    const k = vkey(w.key);
    const line = note.sigs.find((s) => s.name === w.name && s.id === k.id);
    if (k.type !== 4 || !line || line.sig.length !== 72) continue;
    const time = new DataView(line.sig.buffer, line.sig.byteOffset, 8).getBigUint64(0);
    if (await ed25519(k.key, line.sig.slice(8), enc.encode(`cosignature/v1\ntime ${time}\n${note.text}`))) valid += 1;
  }
  const q = head.quorum || 0;
  return [["check-checkpoint", signed], ["check-cosignatures", valid >= q, { n: valid, q }]];
}

async function verifyEntry(index) {
  const [entry, head, keys, noteText] = await Promise.all([
    api(`/v1/entries/${index}`), api("/v1/log"), api("/v1/keys"), fetch("/checkpoint").then((r) => r.text()),
  ]);
  const note = parseNote(noteText);
  const proof = await api(`/v1/entries/${index}/proof?size=${note.size}`);
  const checks = [];
  const leaf = b64(entry.leaf);
  const leafHash = await sha256(concat(Uint8Array.of(0), leaf));
  checks.push(["check-leaf", hex(leafHash) === proof.leaf_hash]);
  const root = await rootFromPath(index, note.size, leafHash, proof.hashes.map(fromHex));
  checks.push(["check-inclusion", root !== null && equal(root, note.root) && BigInt(proof.tree_size) === note.size]);
  const op = vkey(head.operator_key);
  checks.push(...await checkpointChecks(head, note));
  // The statement: its author's key, registered in the log, over its signed bytes.
  const st = JSON.parse(new TextDecoder().decode(leaf));
  const row = keys.keys.find((k) => k.key.startsWith(st.key + "+") && k.party === st.author)
    ?? (head.operator_key.startsWith(st.key + "+") ? { key: head.operator_key } : null);
  checks.push(["check-statement", !!row && await signedBy(st, row.key)]);

  // What this browser saw before: never a smaller log, nor another root at the same size.
  const memoryKey = `compact-checkpoint:${note.origin}:${op.id}`;
  const seen = JSON.parse(localStorage.getItem(memoryKey) || "null");
  let extends_ = !seen;
  if (seen && BigInt(seen.size) === note.size) extends_ = seen.root === hex(note.root);
  else if (seen && BigInt(seen.size) < note.size) {
    // A larger log: a consistency proof from the checkpoint seen, checked here.
    const p = await api(`/v1/consistency?old=${seen.size}&new=${note.size}`);
    extends_ = p.old_root === seen.root && await consistent(BigInt(seen.size), note.size, fromHex(seen.root), note.root, p.hashes.map(fromHex));
  }
  checks.push(["check-remember", extends_]);
  if (extends_ && checks.every((c) => c[1])) localStorage.setItem(memoryKey, JSON.stringify({ size: String(note.size), root: hex(note.root) }));
  return { entry, st, checks };
}

// A proof bundle (`compact log bundle`), checked here as `compact log verify-bundle` does, with
// the log's key and the witnesses' keys this server names.
async function verifyBundle(bundle) {
  const head = await api("/v1/log");
  const checks = [];
  if (bundle.format !== "compact-bundle/v1") return [["bundle-format", false]];
  const note = parseNote(bundle.checkpoint);
  checks.push(...await checkpointChecks(head, note));
  const included = async (e) => {
    const leaf = b64(e.leaf);
    const h = await sha256(concat(Uint8Array.of(0), leaf));
    const root = await rootFromPath(e.index, note.size, h, e.proof.hashes.map(fromHex));
    const ok = e.proof.index === e.index && hex(h) === e.proof.leaf_hash && BigInt(e.proof.tree_size) === note.size && root !== null && equal(root, note.root);
    return ok ? JSON.parse(new TextDecoder().decode(leaf)) : null;
  };
  const st = await included(bundle.entry);
  const keys = [];
  for (const k of bundle.keys) keys.push([k.index, await included(k)]);
  checks.push(["check-inclusion", st !== null && keys.every(([, s]) => s !== null)]);
  let ok = false;
  if (st) {
    if (await signedBy(st, head.operator_key)) ok = true;
    else if (st.type === "key.register" && st.payload.role === "root" && await signedBy(st, st.payload.key)) ok = true;
    else {
      for (const [i, k] of keys) {
        if (!k || i >= bundle.entry.index || k.author !== st.author || k.type !== "key.register") continue;
        if (!(await signedBy(st, k.payload.key))) continue;
        // That registration, signed by a root key of the same author registered at or before it.
        for (const [j, r] of keys) {
          if (r && j <= i && r.author === st.author && r.type === "key.register" && r.payload.role === "root" && await signedBy(k, r.payload.key)) ok = true;
        }
      }
    }
  }
  checks.push(["check-statement", ok]);
  return checks;
}

async function bundlePage(main) {
  const input = el("input", { type: "file", id: "bundle-file", accept: "application/json,.json" });
  const result = el("div", { id: "bundle-result" });
  main.replaceChildren(el("h2", { text: t("bundle-title") }), el("p", { text: t("bundle-help") }),
    el("p", {}, el("label", { for: "bundle-file", text: t("bundle-file") + " " }), input), result);
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    let checks;
    try { checks = await verifyBundle(JSON.parse(await file.text())); } catch (_) { checks = [["bundle-format", false]]; }
    const list = el("ul", { class: "checks" });
    for (const [key, good, args] of checks) list.append(el("li", { class: good ? "ok" : "fail" }, t(key, args) + (good ? " ✓" : " ✗")));
    const all = checks.every((c) => c[1]);
    result.replaceChildren(el("p", { id: "verdict", class: all ? "ok" : "fail", role: "status", text: all ? t("verified") : t("not-verified") }), list);
  });
}

async function entryPage(main, index) {
  main.replaceChildren(el("h2", { text: t("entry-title", { n: index }) }), el("p", { text: t("loading") }));
  const { entry, st, checks } = await verifyEntry(index);
  const list = el("ul", { class: "checks" });
  for (const [key, ok, args] of checks) list.append(el("li", { class: ok ? "ok" : "fail", "data-check": key }, t(key, args) + (ok ? " ✓" : " ✗")));
  const all = checks.every((c) => c[1]);
  main.replaceChildren(el("h2", { text: t("entry-title", { n: index }) }),
    el("p", { id: "verdict", class: all ? "ok" : "fail", role: "status", text: all ? t("verified") : t("not-verified") }),
    el("h2", { text: t("verify-title") }), list,
    el("h2", { text: t("statement") }), el("pre", { text: JSON.stringify(entry.statement ?? st, null, 2) }));
}

// ---- Routing ----

function today() { return new Date().toISOString().slice(0, 10); }

async function route() {
  const main = document.getElementById("main");
  const [path, query] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const asOf = params.get("as_of") || state.asOf || today();
  state.asOf = asOf;
  document.getElementById("as-of").value = asOf;
  for (const a of document.querySelectorAll("nav a")) {
    if ((path || "/overview").startsWith(a.getAttribute("href").slice(1))) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    const parts = (path || "/overview").split("/").filter(Boolean);
    if (parts[0] === "log") await log(main, params.get("before") ? Number(params.get("before")) : undefined);
    else if (parts[0] === "entry") await entryPage(main, Number(parts[1]));
    else if (parts[0] === "bundle") await bundlePage(main);
    else if (parts[0] === "explain") await explain(main, decodeURIComponent(parts[1]), asOf);
    else if (parts[0] === "burden") await burden(main, asOf);
    else if (parts[0] === "stress") await stress(main, params);
    else if (parts[0] === "tracker") await tracker(main, params, asOf);
    else if (parts[0] === "agreements") await agreementsPage(main, asOf);
    else if (parts[0] === "agreement") await agreementPage(main, decodeURIComponent(parts[1]), asOf);
    else if (parts[0] === "guarantor") await guarantorPage(main, decodeURIComponent(parts[1]), asOf);
    else if (parts[0] === "activations") await activations(main);
    else await overview(main, asOf);
    csvEverywhere(main);
  } catch (e) {
    main.replaceChildren(el("p", { class: "fail", role: "alert", text: t("error", { message: e.message }) }));
  }
}

async function start() {
  const saved = localStorage.getItem("compact-lang");
  const lang = saved || ((navigator.language || "en").startsWith("uk") ? "uk" : "en");
  document.getElementById("lang").value = lang;
  await loadLanguage(lang);
  document.getElementById("lang").addEventListener("change", async (e) => {
    localStorage.setItem("compact-lang", e.target.value);
    await loadLanguage(e.target.value);
    await route();
  });
  document.getElementById("as-of").addEventListener("change", (e) => {
    const [path] = location.hash.slice(1).split("?");
    location.hash = `${path || "/overview"}?as_of=${e.target.value}`;
  });
  window.addEventListener("hashchange", route);
  await route();
}

start();
