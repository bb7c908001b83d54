// adloom demo page: builds a POST /creative request from the form, shows the creatives with their
// scores and quality report, and offers downloads. Plain JS, no build step, no dependencies.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const form = $("#form");
const statusEl = $("#status");
const errorBox = $("#error");
const summaryEl = $("#summary");
const gallery = $("#gallery");
const button = $("#generate");

const MAX_SIZES = 10;          // service/schemas.py MAX_SIZES
const MAX_INTERESTS = 10;      // service/schemas.py MAX_INTERESTS
const PHOTO_MAX_SIDE = 2048;   // photos above this are scaled down in the browser before upload
const PHOTO_MAX_BYTES = 6 * 1024 * 1024;

const SIZE_NAMES = {
  medium_rectangle: "Medium rectangle", large_rectangle: "Large rectangle", leaderboard: "Leaderboard",
  billboard: "Billboard", wide_skyscraper: "Wide skyscraper", half_page: "Half page",
  mobile_banner: "Mobile banner", square: "Square", portrait: "Portrait", landscape: "Landscape", story: "Story",
};

// Request field (dotted loc) -> [label shown to the user, id of the form control to highlight].
const FIELDS = {
  "product.title": ["Product title", "title"], "product.description": ["Description", "description"],
  "product.category": ["Category", "category"], "product.price": ["Price", "price"],
  "product.original_price": ["Was price", "original_price"], "product.currency": ["Currency", "currency"],
  "product.image": ["Product photo", "image"], "product": ["Product", "title"],
  "copy.headline": ["Headline", "headline"], "copy.subline": ["Subline", "subline"], "copy.cta": ["Call to action", "cta"],
  "brand.name": ["Brand name", "brand_name"], "brand.logo": ["Logo", "logo"], "brand.colors": ["Brand colours", "use_colors"],
  "brand.font": ["Font", "font"], "audience.interests": ["Audience interests", "interests"],
  "audience.locale": ["Locale", "locale"], "style": ["Style", "style"], "sizes": ["Sizes", "custom_sizes"],
  "variants": ["Variants per size", "variants"], "seed": ["Seed", "seed"], "format": ["Format", "format"],
};

const SCORE_HELP = {
  alignment: "How well the visual matches the product, audience and style (critic model).",
  realism: "How natural the generated visual looks (critic model).",
  legibility: "Text contrast against the background: full marks at WCAG AA (4.5:1) and above.",
  composition: "Layout quality: no overlaps, copy inside the safe margins, nothing cut off.",
};

// --------------------------------------------------------------------------------- small helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

function setState(state) { document.body.dataset.state = state; }

function slug(s) {
  return (s || "creative").toLowerCase().normalize("NFKD").replace(/[^\w\s-]/g, "")
    .trim().replace(/[\s_-]+/g, "-").slice(0, 40) || "creative";
}

function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// A photo straight from a phone can be 20+ MP: scale it down in the browser (keeping PNG
// transparency) so the upload stays well under the server's image limits.
async function imageFileToBase64(file) {
  let bitmap = null;
  try { bitmap = await createImageBitmap(file); } catch { /* let the server say what is wrong */ }
  if (bitmap && (Math.max(bitmap.width, bitmap.height) > PHOTO_MAX_SIDE || file.size > PHOTO_MAX_BYTES)) {
    const k = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * k));
    canvas.height = Math.max(1, Math.round(bitmap.height * k));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const type = file.type === "image/png" ? "image/png" : "image/jpeg";
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.92));
    if (blob) return blobToBase64(blob);
  }
  return blobToBase64(file);
}

// --------------------------------------------------------------------------- zip (stored, no deps)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** files: [{name, bytes: Uint8Array}] -> a .zip Blob (entries stored: PNG/WebP/JPEG are compressed already). */
function makeZip(files) {
  const enc = new TextEncoder();
  const now = new Date();
  const time = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
  const date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  const parts = [], central = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name), crc = crc32(f.bytes), size = f.bytes.length;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); local.setUint16(4, 20, true); local.setUint16(6, 0x0800, true);
    local.setUint16(8, 0, true); local.setUint16(10, time, true); local.setUint16(12, date, true);
    local.setUint32(14, crc, true); local.setUint32(18, size, true); local.setUint32(22, size, true);
    local.setUint16(26, name.length, true); local.setUint16(28, 0, true);
    parts.push(local.buffer, name, f.bytes);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true); cd.setUint16(4, 20, true); cd.setUint16(6, 20, true);
    cd.setUint16(8, 0x0800, true); cd.setUint16(10, 0, true); cd.setUint16(12, time, true);
    cd.setUint16(14, date, true); cd.setUint32(16, crc, true); cd.setUint32(20, size, true);
    cd.setUint32(24, size, true); cd.setUint16(28, name.length, true); cd.setUint32(42, offset, true);
    central.push(cd.buffer, name);
    offset += 30 + name.length + size;
  }
  const cdSize = central.reduce((n, p) => n + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); end.setUint16(8, files.length, true); end.setUint16(10, files.length, true);
  end.setUint32(12, cdSize, true); end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end.buffer], { type: "application/zip" });
}

// ------------------------------------------------------------------------------------ the request

function numberOrUndefined(fd, key) {
  const v = String(fd.get(key) ?? "").trim();
  return v === "" ? undefined : Number(v);
}

function textOrUndefined(fd, key) {
  return String(fd.get(key) ?? "").trim() || undefined;
}

function selectedSizes(fd) {
  const custom = String(fd.get("custom_sizes") || "").split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean);
  return [...fd.getAll("size"), ...custom];
}

/** Checks a marketer can fix before anything is sent; [{field, message}]. */
function checkForm(fd) {
  const problems = [];
  if (!textOrUndefined(fd, "title")) problems.push({ field: "product.title", message: "Product title is required: the generator and the headline start from it." });
  const sizes = selectedSizes(fd);
  if (!sizes.length) problems.push({ field: "sizes", message: "Pick at least one size (or type a custom one such as 640x360)." });
  if (sizes.length > MAX_SIZES) problems.push({ field: "sizes", message: `At most ${MAX_SIZES} sizes per request; ${sizes.length} are selected.` });
  for (const key of ["price", "original_price"]) {
    const v = numberOrUndefined(fd, key);
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push({ field: `product.${key}`, message: `${FIELDS["product." + key][0]} must be a number of 0 or more.` });
  }
  const interests = String(fd.get("interests") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (interests.length > MAX_INTERESTS) problems.push({ field: "audience.interests", message: `At most ${MAX_INTERESTS} interests; ${interests.length} are given.` });
  return problems;
}

async function buildRequest(fd) {
  const product = {
    title: textOrUndefined(fd, "title"), description: textOrUndefined(fd, "description"),
    category: textOrUndefined(fd, "category"), price: numberOrUndefined(fd, "price"),
    original_price: numberOrUndefined(fd, "original_price"),
    currency: textOrUndefined(fd, "currency")?.toUpperCase(),
  };
  const photo = fd.get("image");
  if (photo && photo.size) product.image = await imageFileToBase64(photo);
  const brand = { name: textOrUndefined(fd, "brand_name"), font: fd.get("font") || "sans", colors: [] };
  if (fd.get("use_colors")) {
    brand.colors = fd.getAll("color");
    if (fd.get("use_color3") && fd.get("color3")) brand.colors.push(fd.get("color3"));
    brand.colors = brand.colors.filter(Boolean).map((c) => c.toUpperCase());
  }
  const logo = fd.get("logo");
  if (logo && logo.size) brand.logo = await imageFileToBase64(logo);
  const interests = String(fd.get("interests") || "").split(",").map((s) => s.trim()).filter(Boolean);
  return {
    product,
    copy: { headline: textOrUndefined(fd, "headline"), subline: textOrUndefined(fd, "subline"),
            cta: textOrUndefined(fd, "cta") || "Shop now" },
    brand,
    audience: { interests, locale: textOrUndefined(fd, "locale") || "en-US" },
    style: textOrUndefined(fd, "style"),
    sizes: selectedSizes(fd),
    variants: numberOrUndefined(fd, "variants") ?? 1,
    seed: numberOrUndefined(fd, "seed"),
    format: fd.get("format") || "png",
    campaign: textOrUndefined(fd, "campaign"),
    optimize: Boolean(fd.get("optimize")),
  };
}

// ---------------------------------------------------------------------------------------- errors

class ShownError extends Error {
  constructor(title, problems) { super(title); this.title = title; this.problems = problems; }
}

function fieldOf(loc) {
  // ["body", "audience", "interests", 3] -> {key: "audience.interests", index: 3}
  const path = (loc || []).filter((p) => p !== "body");
  for (let n = path.length; n > 0; n--) {
    if (typeof path[n - 1] !== "string") continue;
    const key = path.slice(0, n).join(".");
    if (FIELDS[key]) return { key, index: path.slice(n).find((p) => typeof p === "number") };
  }
  return { key: path.join(".") || null };
}

function readableMessage(msg) {
  msg = String(msg || "").replace(/^Value error, /, "");
  if (msg === "Field required") return "is required.";
  if (msg === "Extra inputs are not permitted") return "is not a field this service knows.";
  return msg;
}

function problemsFrom(status, body, retryAfter) {
  const detail = body && body.detail;
  if (status === 422 && Array.isArray(detail)) {
    return detail.map((e) => {
      const { key, index } = fieldOf(e.loc);
      const label = FIELDS[key] ? FIELDS[key][0] + (index !== undefined ? ` #${index + 1}` : "") : key || "Request";
      const text = readableMessage(e.msg);
      return { field: key, message: `${label}: ${text}`, note: index !== undefined ? `${label}: ${text}` : text };
    });
  }
  let text = typeof detail === "string" ? detail : "";
  let field = null;
  const m = /^(product\.image|brand\.logo): (.*)$/.exec(text);
  if (m) { field = m[1]; text = `${FIELDS[m[1]][0]}: ${m[2]}`; }
  const hint = {
    400: "The file could not be read as PNG, JPEG or WebP. Try exporting it again.",
    401: "This server needs an API key: open “API key” under Sizes and output and paste it.",
    413: "Too large. Use a smaller photo or logo, or fewer sizes.",
    429: `The service is busy right now. Try again${retryAfter ? ` in ${retryAfter} s` : " in a moment"}.`,
    503: "The service is starting up or restarting. Try again in a few seconds.",
    504: "Generating took too long. Try fewer sizes or variants.",
  }[status];
  const out = [];
  if (text) out.push({ field, message: text });
  if (hint) out.push({ field: status === 401 ? "api_key" : field, message: hint });
  if (!out.length) out.push({ field: null, message: `The service answered HTTP ${status}. Please try again; if it keeps happening, tell the adloom team.` });
  return out;
}

function clearFieldError(input) {
  input.removeAttribute("aria-invalid");
  input.removeAttribute("aria-describedby");
  document.getElementById(`${input.id}-error`)?.remove();
}

function clearErrors() {
  errorBox.hidden = true;
  errorBox.replaceChildren();
  for (const el of $$("[aria-invalid=true]", form)) clearFieldError(el);
}

// Errors show three ways: a summary at the top of the results, the message under each field it
// concerns (the field outlined in red and focused), and a short line next to the Generate button.
function showError(title, problems) {
  clearErrors();
  errorBox.append(h("strong", {}, title), h("ul", {}, problems.map((p) => h("li", {}, p.message))));
  errorBox.hidden = false;
  let first = null;
  for (const p of problems) {
    const id = p.field === "api_key" ? "api_key" : FIELDS[p.field]?.[1];
    const input = id && document.getElementById(id);
    if (!input) continue;
    if (id === "api_key") $("details.advanced").open = true;
    const note = document.getElementById(`${id}-error`);
    if (note) { note.append(" ", p.note || p.message); continue; }
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${id}-error`);
    const anchor = input.closest(".upload, .colours") || input;
    anchor.after(h("p", { class: "field-error", id: `${id}-error` }, p.note || p.message));
    first = first || input;
  }
  statusEl.className = "error";
  statusEl.textContent = problems.length === 1 ? problems[0].message : `${problems.length} problems to fix, marked in red`;
  if (first) {
    first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
  } else {
    errorBox.scrollIntoView({ block: "nearest" });
  }
}

// --------------------------------------------------------------------------------------- results

let objectUrls = [];
let lastDownloads = [];   // [{name, bytes}] of the current result, for "Download all"
let lastReportCsv = "";

function releaseUrls() {
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];
}

function sizeTitle(c) {
  return SIZE_NAMES[c.size] || "Custom size";
}

function pct(x) { return Math.round(Math.max(0, Math.min(1, x)) * 100); }

function grade(x) { return x >= 0.75 ? "good" : x >= 0.5 ? "fair" : "poor"; }

function qualityReport(c) {
  const k = c.checks;
  const items = [];
  const r = k.min_contrast_ratio;
  if (r === null || r === undefined) items.push(["fail", "Text contrast could not be measured: check the copy by eye."]);
  else if (r >= 7) items.push(["pass", `Text contrast ${r.toFixed(1)}:1: excellent (WCAG AAA, 7:1 or more).`]);
  else if (r >= 4.5) items.push(["pass", `Text contrast ${r.toFixed(1)}:1: passes WCAG AA (4.5:1 or more).`]);
  else if (r >= 3) items.push(["warn", `Text contrast ${r.toFixed(1)}:1: fine for large text only (WCAG AA asks 4.5:1).`]);
  else items.push(["fail", `Text contrast ${r.toFixed(1)}:1: too low, some text may be hard to read.`]);
  items.push(k.text_truncated
    ? ["warn", "Some copy was shortened to fit this size: try a shorter headline."]
    : ["pass", "All copy fits without being cut."]);
  items.push(k.overlaps === 0
    ? ["pass", "No overlapping elements; everything stays inside the safe margin."]
    : ["warn", `${k.overlaps} element${k.overlaps === 1 ? "" : "s"} overlap or touch the safe margin.`]);
  return items;
}

function skeletons(req) {
  const frag = [];
  for (const spec of req.sizes) {
    const [w, h_] = sizeOf(spec);
    for (let v = 0; v < (req.variants || 1); v++) {
      frag.push(h("div", { class: `card skeleton${w / h_ >= 2.5 ? " wide" : ""}` },
        h("div", { class: "preview", style: `aspect-ratio:${w}/${h_}` }),
        h("div", { class: "card-body" }, h("div", { class: "line" }), h("div", { class: "line short" }))));
    }
  }
  return h("div", { class: "cards" }, frag);
}

function sizeOf(spec) {
  const named = $(`input[name=size][value="${CSS.escape(spec)}"]`);
  const text = named ? named.nextElementSibling.querySelector("b").textContent : spec;
  const m = /(\d+)\s*[x×X]\s*(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [1, 1];
}

function card(c, isBest, title) {
  const ext = c.format === "jpeg" ? "jpg" : c.format;
  const bytes = base64ToBytes(c.image);
  const url = URL.createObjectURL(new Blob([bytes], { type: `image/${c.format}` }));
  objectUrls.push(url);
  const filename = `${slug(title)}-${c.size}-v${c.variant + 1}.${ext}`;
  lastDownloads.push({ name: filename, bytes });
  c.file = filename;

  const report = qualityReport(c);
  const issues = report.filter(([kind]) => kind !== "pass").length;
  const s = c.scores;
  return h("article", {
    class: `card${c.width / c.height >= 2.5 ? " wide" : ""}`,
    dataset: { size: c.size, width: c.width, height: c.height, variant: c.variant },
  },
    h("div", { class: "preview", style: `aspect-ratio:${c.width}/${c.height}` },
      h("a", { href: url, target: "_blank", rel: "noopener", title: "Open full size" },
        h("img", { src: url, alt: `${sizeTitle(c)} ${c.width}×${c.height}, variant ${c.variant + 1}`,
                   width: c.width, height: c.height, decoding: "async" })),
      isBest ? h("span", { class: "badge" }, "Best") : null),
    h("div", { class: "card-body" },
      h("div", { class: "score-head" },
        h("div", { class: `overall ${grade(s.overall)}`, title: "Overall score out of 100" }, String(pct(s.overall))),
        h("div", {},
          h("div", { class: "score-title" }, "Overall score"),
          h("div", { class: "meta" }, `Variant ${c.variant + 1} · seed ${c.seed}${c.layout ? ` · ${c.layout} layout` : ""}`))),
      h("dl", { class: "scores" }, ["alignment", "realism", "legibility", "composition"].map((name) => [
        h("dt", { title: SCORE_HELP[name] }, name[0].toUpperCase() + name.slice(1)),
        h("dd", { title: SCORE_HELP[name] },
          h("span", { class: "bar" }, h("span", { class: grade(s[name]), style: `width:${pct(s[name])}%` })),
          h("span", { class: "value", dataset: { score: name } }, String(pct(s[name])))),
      ])),
      h("div", { class: "report" },
        h("div", { class: `verdict ${issues ? "warn" : "pass"}` },
          issues ? `Quality report: ${issues} thing${issues === 1 ? "" : "s"} to review` : "Quality report: passes all checks"),
        h("ul", {}, report.map(([kind, text]) => h("li", { class: kind }, text)))),
      h("div", { class: "card-actions" },
        h("a", { class: "button download", href: url, download: filename }, `Download ${ext.toUpperCase()}`),
        h("span", { class: "dims" }, `${c.width}×${c.height} px`)),
      h("div", { class: "card-actions feedback", dataset: { creativeId: c.creative_id } },
        feedbackButton(c, "impression", "+100 impressions", 100),
        feedbackButton(c, "click", "+1 click", 1),
        h("span", { class: "meta", title: "The probability this creative was chosen among its candidates" },
          `${c.arm?.layout ?? ""} · ${c.arm?.scene ?? ""} · p=${c.propensity}`))));
}

// ---------------------------------------------------------------------------------------- feedback

let lastCampaign = null;

function authHeaders() {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = String(new FormData(form).get("api_key") || "").trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

function feedbackButton(c, event, label, count) {
  const b = h("button", { type: "button", class: "button ghost small", dataset: { event } }, label);
  b.addEventListener("click", async () => {
    const key = `demo-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const res = await fetch("/feedback", { method: "POST", headers: authHeaders(), body: JSON.stringify({
      idempotency_key: key, events: [{ creative_id: c.creative_id, event, count }] }) });
    b.classList.toggle("done", res.ok);
    refreshPerformance();
  });
  return b;
}

async function refreshPerformance() {
  if (!lastCampaign) return;
  const res = await fetch(`/performance?campaign=${encodeURIComponent(lastCampaign)}`, { headers: authHeaders() });
  if (!res.ok) return;
  const perf = await res.json();
  const pctText = (x) => `${(100 * x).toFixed(1)} %`;
  const rows = perf.arms.map((a) => h("tr", {},
    h("td", {}, a.arm.layout ?? ""), h("td", {}, a.arm.scene ?? ""), h("td", {}, a.arm.palette ?? ""),
    h("td", {}, a.arm.copy ?? ""), h("td", {}, a.arm.cta ?? ""),
    h("td", { class: "num" }, String(a.impressions)), h("td", { class: "num" }, String(a.clicks)),
    h("td", { class: "num" }, a.impressions ? `${pctText(a.ctr)} (${pctText(a.ctr_low)}–${pctText(a.ctr_high)})` : "–"),
    h("td", { class: "num" }, pctText(a.p_best))));
  $("#performance-campaign").textContent = `${perf.campaign} · ${perf.totals.impressions} impressions, ${perf.totals.clicks} clicks`;
  $("#performance-table").replaceChildren(h("table", { class: "perf" },
    h("thead", {}, h("tr", {}, ...["Layout", "Scene", "Palette", "Copy", "CTA", "Impr.", "Clicks", "CTR (95 %)", "P(best)"]
      .map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows)));
  $("#performance").hidden = false;
}

$("#performance-refresh").addEventListener("click", refreshPerformance);

function reportCsv(body) {
  const rows = [["file", "size", "width", "height", "variant", "seed", "overall", "alignment", "realism",
                 "legibility", "composition", "min_contrast_ratio", "text_truncated", "overlaps", "layout"]];
  body.creatives.forEach((c) => {
    rows.push([c.file, c.size, c.width, c.height, c.variant + 1, c.seed, c.scores.overall,
               c.scores.alignment, c.scores.realism, c.scores.legibility, c.scores.composition,
               c.checks.min_contrast_ratio, c.checks.text_truncated, c.checks.overlaps, c.layout || ""]);
  });
  const cell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

function render(body, req, elapsedMs) {
  releaseUrls();
  lastDownloads = [];
  const title = req.product.title;
  const groups = new Map();
  for (const c of body.creatives) {
    if (!groups.has(c.size)) groups.set(c.size, []);
    groups.get(c.size).push(c);
  }
  const sections = [];
  for (const [size, list] of groups) {
    const first = list[0];
    sections.push(h("section", { class: "size-group", dataset: { size } },
      h("h3", {}, sizeTitle(first), " ", h("span", { class: "dims" }, `${first.width}×${first.height}`),
        h("span", { class: "count" }, `${list.length} variant${list.length === 1 ? "" : "s"}, best first`)),
      h("div", { class: "cards" }, list.map((c, i) => card(c, i === 0 && list.length > 1, title)))));
  }
  lastReportCsv = reportCsv(body);

  const t = body.timings_ms || {};
  const seconds = ((t.total ?? elapsedMs) / 1000).toFixed(1);
  const dlAll = h("button", { type: "button", class: "button", id: "download-all" }, "Download all (.zip)");
  const dlReport = h("button", { type: "button", class: "button ghost", id: "download-report" }, "Quality report (.csv)");
  dlAll.addEventListener("click", () => {
    const files = [...lastDownloads, { name: "quality-report.csv", bytes: new TextEncoder().encode(lastReportCsv) }];
    saveBlob(makeZip(files), `${slug(title)}-creatives.zip`);
  });
  dlReport.addEventListener("click", () => saveBlob(new Blob([lastReportCsv], { type: "text/csv" }), `${slug(title)}-quality-report.csv`));
  summaryEl.replaceChildren(
    h("div", { class: "summary-text" },
      h("strong", {}, `${body.creatives.length} creative${body.creatives.length === 1 ? "" : "s"}`),
      ` for “${title}” in ${seconds} s · seed ${body.seed}`,
      h("span", { class: "meta" },
        `model ${body.model?.generator ?? "?"} on ${body.model?.device ?? "?"} · embedding cache ${body.cache?.hits ?? 0} hit${body.cache?.hits === 1 ? "" : "s"}, ${body.cache?.misses ?? 0} miss${body.cache?.misses === 1 ? "" : "es"}`),
      understoodView(body.understood)),
    h("div", { class: "summary-actions" }, dlAll, dlReport));
  summaryEl.hidden = false;
  gallery.replaceChildren(...sections);
  lastCampaign = body.campaign;
  refreshPerformance();
}

// What adloom read in the request: each colour as a swatch with its phrase and role, the colours
// excluded, and warnings — so a marketer sees why the scene looks as it does and can fix a word.
function understoodView(u) {
  if (!u) return h("span");
  const chips = (u.colors || []).map((c) => h("span", { class: "understood-chip", title: `${c.source}, confidence ${c.confidence}` },
    h("span", { class: "understood-swatch", style: `background:${c.hex}` }), `${c.text} → ${c.role} ${c.hex}`));
  const excluded = (u.excluded || []).map((c) => h("span", { class: "understood-chip excluded" }, `no ${c.text}`));
  const warnings = (u.warnings || []).map((w) => h("li", {}, w));
  return h("div", { class: "understood", id: "understood" },
    h("span", { class: "label" }, "Colours understood: "),
    chips.length || excluded.length ? [...chips, ...excluded] : h("span", { class: "meta" }, "none named (the model picks the palette)"),
    warnings.length ? h("ul", { class: "understood-warnings" }, warnings) : "");
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ------------------------------------------------------------------------------------- submitting

function plan() {
  const fd = new FormData(form);
  const n = selectedSizes(fd).length, v = Math.max(1, Math.min(4, numberOrUndefined(fd, "variants") || 1));
  return n ? `${n} size${n === 1 ? "" : "s"} × ${v} variant${v === 1 ? "" : "s"} = ${n * v} creative${n * v === 1 ? "" : "s"}` : "no size selected";
}

function idleStatus() {
  if (document.body.dataset.state === "loading") return;
  statusEl.className = "";
  statusEl.textContent = plan();
}

let ticker = null;

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (button.disabled) return;
  const fd = new FormData(form);
  const problems = checkForm(fd);
  if (problems.length) {
    setState("error");
    showError("Please check the form", problems);
    return;
  }
  clearErrors();
  setState("loading");
  button.disabled = true;
  const t0 = performance.now();
  statusEl.className = "busy";
  const what = plan().split(" = ")[1];
  const tick = () => { statusEl.textContent = `Generating ${what}… ${((performance.now() - t0) / 1000).toFixed(0)} s`; };
  tick();
  ticker = setInterval(tick, 500);
  try {
    const req = await buildRequest(fd);
    summaryEl.hidden = true;
    gallery.replaceChildren(skeletons(req));
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const key = String(fd.get("api_key") || "").trim();
    if (key) headers.Authorization = `Bearer ${key}`;
    let res;
    try {
      res = await fetch("/creative", { method: "POST", headers, body: JSON.stringify(req) });
    } catch {
      throw new ShownError("Could not reach the adloom service", [{ field: null, message: "Check that the server is running and your network is up, then try again." }]);
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ShownError(res.status === 422 || res.status === 400 || res.status === 413 ? "Please check the form" : "The creatives could not be generated",
                           problemsFrom(res.status, body, res.headers.get("Retry-After")));
    }
    render(body, req, performance.now() - t0);
    await Promise.all($$("img", gallery).map((img) => img.decode().catch(() => {})));
    setState("done");
    statusEl.className = "ok";
    statusEl.textContent = `Done in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } catch (err) {
    setState("error");
    gallery.replaceChildren();
    summaryEl.hidden = true;
    if (err instanceof ShownError) showError(err.title, err.problems);
    else showError("Something went wrong in the page", [{ field: null, message: String(err && err.message || err) }]);
  } finally {
    clearInterval(ticker);
    button.disabled = false;
  }
});

// ----------------------------------------------------------------------------------- form niceties

form.addEventListener("input", (ev) => {
  if (ev.target.getAttribute("aria-invalid")) clearFieldError(ev.target);
  idleStatus();
});
form.addEventListener("change", idleStatus);

for (const picker of $$("input[type=color]", form)) {
  picker.addEventListener("input", () => { picker.nextElementSibling.textContent = picker.value.toUpperCase(); });
}
$("#use_colors").addEventListener("change", (ev) => {
  $(".swatches").classList.toggle("off", !ev.target.checked);
  for (const el of $$(".swatches input", form)) el.disabled = !ev.target.checked || (el.name === "color3" && !$("#use_color3").checked);
});
$("#use_color3").addEventListener("change", (ev) => { form.elements.color3.disabled = !ev.target.checked; });

for (const chip of $$(".chip", form)) {
  chip.addEventListener("click", () => { form.elements.style.value = chip.dataset.style; });
}

const photo = $("#image"), preview = $("#image-preview"), clearPhoto = $("#image-clear");
let previewUrl = null;
photo.addEventListener("change", () => {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  const file = photo.files[0];
  previewUrl = file ? URL.createObjectURL(file) : null;
  preview.hidden = clearPhoto.hidden = !file;
  if (file) preview.src = previewUrl; else preview.removeAttribute("src");
});
clearPhoto.addEventListener("click", () => { photo.value = ""; photo.dispatchEvent(new Event("change")); });

const locale = $("#locale");
if (navigator.language && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(navigator.language)) locale.value = navigator.language;

setState("idle");
idleStatus();
