// Motia Workbench: plain JavaScript modules, no build step, no network beyond this server.
import { NODE_H, NODE_W, edgePath, labelPoint, layout, svg } from "./graph.js";

const API = "/__motia/api";
const TOKEN_KEY = "motia.workbench.token";

// --- token: ?token= on first load, then sessionStorage; a Bearer header on API calls ----
{
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
  }
}
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (options.json !== undefined) {
    options = { ...options, body: JSON.stringify(options.json) };
  }
  // The server takes writes only as JSON: a page of another site cannot send that type.
  if (!["GET", "HEAD"].includes((options.method || "GET").toUpperCase())) {
    headers["content-type"] = "application/json";
  }
  const response = await fetch(API + path, { ...options, headers });
  if (response.status === 401) {
    showTokenScreen(token() ? "The token you gave was not accepted." : "");
    throw new ApiError(401, "a valid workbench token is required");
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || `HTTP ${response.status}`);
  return body;
}

// --- DOM helpers ---------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
const clear = (el) => { el.replaceChildren(); return el; };
const fill = (el, ...children) => append(clear(el), children);
const $ = (sel, root = document) => root.querySelector(sel);

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
const pad = (n, w = 2) => String(n).padStart(w, "0");
function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function fmtDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtClock(ms).slice(0, 8)}`;
}
// A moment as the wall clock of a time zone shows it (cron schedules keep their own zone).
function fmtDateIn(ms, timeZone) {
  try {
    return new Date(ms).toLocaleString("sv-SE", { timeZone, hour12: false }).replace("T", " ");
  } catch { return fmtDate(ms); }
}
function fmtAgo(ms) {
  const s = (Date.now() - ms) / 1000;
  if (s < 5) return "just now";
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return fmtDate(ms);
}
function fmtIn(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.floor(s / 60)} min ${s % 60} s`;
  return `in ${Math.round(s / 3600)} h`;
}
function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "running…";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}
const short = (id) => (id ? String(id).slice(0, 8) : "");
const pretty = (v) => JSON.stringify(v, null, 2);
const enc = encodeURIComponent;

function statusBadge(status) {
  const label = { ok: "ok", failed: "failed", dead: "dead", retrying: "retrying", running: "running", rejected: "rejected" }[status] || status;
  return h("span", { class: `badge status-${status}` }, label);
}
const levelBadge = (level) => h("span", { class: `badge level-${level}` }, level);
const typeBadge = (type) => h("span", { class: `badge type-${type}` }, type);
const langBadge = (lang) => h("span", { class: "badge lang" }, LANG[lang] || lang || "?");
const LANG = { python: "Python", typescript: "TypeScript", javascript: "JavaScript", ruby: "Ruby" };

function empty(text, hint) {
  return h("div", { class: "empty" }, h("div", { class: "empty-title" }, text), hint ? h("div", { class: "empty-hint" }, hint) : null);
}
function errorBox(error) {
  return h("div", { class: "error-box" }, String(error && error.message ? error.message : error));
}

// JSON and source code with a little colour.
function jsonView(value) {
  return h("pre", { class: "code json" }, highlightJson(pretty(value)));
}
function highlightJson(text) {
  const out = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index));
    if (m[1]) {
      out.push(h("span", { class: m[2] ? "tok-key" : "tok-str" }, m[1]));
      if (m[2]) out.push(m[2]);
    } else if (m[3]) out.push(h("span", { class: "tok-kw" }, m[3]));
    else out.push(h("span", { class: "tok-num" }, m[4]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}
const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield " +
  "const let var function export default new typeof interface type extends implements null undefined this").split(" "));
function sourceView(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  const code = [];
  const re = /(#[^\n]*|\/\/[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|`(?:\\.|[^`\\])*`|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(@[\w.]+)|\b([A-Za-z_]\w*)\b|\b(\d+(?:\.\d+)?)\b/g;
  let last = 0;
  const full = lines.join("\n");
  for (const m of full.matchAll(re)) {
    code.push(full.slice(last, m.index));
    if (m[1]) code.push(h("span", { class: "tok-com" }, m[1]));
    else if (m[2]) code.push(h("span", { class: "tok-str" }, m[2]));
    else if (m[3]) code.push(h("span", { class: "tok-dec" }, m[3]));
    else if (m[4]) code.push(KEYWORDS.has(m[4]) ? h("span", { class: "tok-kw" }, m[4]) : m[4]);
    else code.push(h("span", { class: "tok-num" }, m[5]));
    last = m.index + m[0].length;
  }
  code.push(full.slice(last));
  return h("div", { class: "source" },
    h("pre", { class: "gutter", "aria-hidden": "true" }, lines.map((_, i) => `${i + 1}\n`).join("")),
    h("pre", { class: "code src" }, code));
}

// --- shared pieces: toast, drawer, token screen, badges, live feed -------------------
function toast(message, kind = "info") {
  const el = $("#toast");
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3500);
}

const drawer = {
  open(title, ...body) {
    const el = $("#drawer");
    fill(el, 
      h("div", { class: "drawer-head" }, h("div", { class: "drawer-title" }, title),
        h("button", { class: "btn ghost icon", title: "Close (Esc)", "aria-label": "Close", onclick: () => drawer.close() }, "✕")),
      append(h("div", { class: "drawer-body" }), body));
    el.hidden = false;
  },
  close() { $("#drawer").hidden = true; },
};
document.addEventListener("keydown", (e) => { if (e.key === "Escape") drawer.close(); });

let tokenScreenShown = false;
function showTokenScreen(message) {
  if (tokenScreenShown) return;
  tokenScreenShown = true;
  live.stop();
  const input = h("input", { type: "password", class: "input", placeholder: "workbench token", autocomplete: "off", "aria-label": "Workbench token" });
  const submit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    location.reload();
  };
  fill($("#main"), h("div", { class: "token-screen", id: "token-screen" },
    h("form", { class: "card token-card", onsubmit: submit },
      h("div", { class: "token-lock", "aria-hidden": "true" }),
      h("h1", {}, "Token required"),
      h("p", {}, "This workbench is protected. Open it with ", h("code", {}, "/__motia/?token=…"),
        " or paste the token below. It is the value of ", h("code", {}, "MOTIA_WORKBENCH_TOKEN"),
        " (or ", h("code", {}, "workbench.token"), " in config.yml) on the server."),
      message ? h("p", { class: "token-error" }, message) : null,
      h("div", { class: "row" }, input, h("button", { class: "btn primary", type: "submit" }, "Open workbench")))));
  $("#tabs").classList.add("disabled");
  $("#live").className = "live off";
  $(".live-text", $("#live")).textContent = "Locked";
  input.focus();
}

const live = {
  source: null,
  listeners: new Set(),
  start() {
    if (this.source) return;
    const url = `${API}/live${token() ? `?token=${enc(token())}` : ""}`;
    const source = new EventSource(url);
    this.source = source;
    const status = $("#live");
    source.onopen = () => { status.className = "live on"; $(".live-text", status).textContent = "Live"; };
    source.onerror = () => {
      status.className = "live off";
      $(".live-text", status).textContent = "Reconnecting…";
      if (source.readyState === EventSource.CLOSED) {
        this.source = null;
        setTimeout(() => { if (!tokenScreenShown) this.start(); }, 3000);
      }
    };
    for (const kind of ["log", "span", "stream"]) {
      source.addEventListener(kind, (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch { return; }
        for (const listener of this.listeners) {
          try { listener(kind, data); } catch (err) { console.error(err); }
        }
      });
    }
  },
  stop() { if (this.source) this.source.close(); this.source = null; },
  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); },
};

const counts = { failedTraces: 0, dead: 0 };
const refreshBadges = async () => {
  try {
    const [failed, queues] = await Promise.all([api("/traces?status=failed&limit=1000"), api("/queues")]);
    counts.failedTraces = failed.items.length;
    counts.dead = queues.items.reduce((s, q) => s + (q.dead || 0), 0);
    cache.queues = queues.items;
  } catch { return; }
  setBadge("traces", counts.failedTraces, `${counts.failedTraces} failed trace(s)`);
  setBadge("queues", counts.dead, `${counts.dead} dead letter(s)`);
};
const refreshBadgesSoon = debounce(refreshBadges, 400);
function setBadge(tab, count, title) {
  const badge = $(`#tab-${tab} .tab-badge`);
  if (!badge) return;
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  badge.title = title;
}

const cache = { flows: null, queues: [] };
async function loadFlows(force = false) {
  if (!cache.flows || force) cache.flows = await api("/flows");
  return cache.flows;
}
function allSteps(flows) {
  const seen = new Map();
  for (const flow of flows.items) for (const step of flow.steps) if (!seen.has(step.name)) seen.set(step.name, step);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// --- routing ---------------------------------------------------------------------------
// #/panel/argument?query — e.g. #/traces/<traceId>, #/logs?traceId=…
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [panel, ...rest] = path.split("/");
  return { panel: panel || "flows", arg: rest.length ? decodeURIComponent(rest.join("/")) : "", query: new URLSearchParams(query) };
}
const go = (hash) => { location.hash = hash; };

// --- Flows ---------------------------------------------------------------------------
const TYPE_LABEL = { api: "API", event: "Event", cron: "Cron", noop: "Noop" };
const Flows = {
  title: "Flows",
  async mount(el, arg) {
    const [flows] = await Promise.all([loadFlows(true), refreshBadges()]);
    if (!flows.items.length) {
      el.append(empty("No steps yet", "Add a file ending in _step.py under steps/ and it appears here."));
      return;
    }
    const chosen = flows.items.find((f) => f.id === arg) || flows.items.find((f) => f.id === sessionStorage.getItem("motia.flow")) || flows.items[0];
    sessionStorage.setItem("motia.flow", chosen.id);
    const picker = h("select", { class: "input", id: "flow-picker", "aria-label": "Flow", onchange: (e) => go(`#/flows/${enc(e.target.value)}`) },
      flows.items.map((f) => h("option", { value: f.id, selected: f.id === chosen.id }, `${f.id} (${f.steps.length} steps)`)));
    const canvas = h("div", { class: "graph-canvas", id: "graph" });
    const toolbar = h("div", { class: "toolbar" },
      h("label", { class: "toolbar-label" }, "Flow"), picker,
      h("div", { class: "legend" },
        ["api", "event", "cron", "noop"].map((t) => h("span", { class: `legend-item type-${t}` }, h("i"), TYPE_LABEL[t])),
        h("span", { class: "legend-item edge-normal" }, h("b"), "emits"),
        h("span", { class: "legend-item edge-conditional" }, h("b"), "conditional"),
        h("span", { class: "legend-item edge-virtual" }, h("b"), "virtual")),
      h("div", { class: "spacer" }),
      h("button", { class: "btn", onclick: () => this.graph && this.graph.fit() }, "Fit"),
      h("button", { class: "btn", title: "Forget dragged positions", onclick: () => this.resetLayout(chosen) }, "Auto layout"));
    const problems = flows.problems && flows.problems.length
      ? h("div", { class: "banner warn", id: "load-problems" }, h("b", {}, "Problems loading steps"), h("ul", { class: "problems" }, flows.problems.map((p) => h("li", {}, p)))) : null;
    el.append(h("div", { class: "panel-col" }, toolbar, problems, canvas));
    this.flow = chosen;
    this.graph = drawGraph(canvas, chosen, cache.queues);
  },
  async resetLayout(flow) {
    await api(`/flows/${enc(flow.id)}/layout`, { method: "POST", json: { positions: {} } });
    toast("Layout reset");
    render(true);
  },
  onLive(kind, data) {
    if (kind === "span" && (data.status === "dead" || data.status === "failed")) setTimeout(() => this.graph && this.graph.refreshDead(), 600);
  },
  unmount() { this.graph = null; },
};

function drawGraph(container, flow, queues) {
  const nodes = flow.steps.map((s) => ({ ...s }));
  const auto = layout(nodes, flow.edges);
  const saved = { ...(flow.positions || {}) };
  const pos = new Map(nodes.map((n) => [n.id, saved[n.id] ? { ...saved[n.id] } : { ...auto.positions.get(n.id) }]));
  const isAuto = (id) => !saved[id];

  const root = svg("svg", { class: "graph", "data-flow": flow.id, role: "img", "aria-label": `Flow ${flow.id}` });
  const defs = svg("defs", {}, ["normal", "conditional", "virtual"].map((k) =>
    svg("marker", { id: `arrow-${k}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: `arrowhead arrow-${k}` }))));
  const viewport = svg("g", { class: "viewport" });
  const edgeLayer = svg("g", { class: "edges" });
  const labelLayer = svg("g", { class: "labels" });
  const nodeLayer = svg("g", { class: "nodes" });
  viewport.append(edgeLayer, labelLayer, nodeLayer);
  root.append(defs, viewport);
  container.append(root);

  let view = { x: 40, y: 40, k: 1 };
  const applyView = () => viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);

  const deadBy = () => new Map((cache.queues || []).map((q) => [q.step, q.dead || 0]));

  function drawEdges() {
    clear(edgeLayer); clear(labelLayer);
    const labelled = new Set();
    const incomingLabels = new Map();
    for (const edge of flow.edges) {
      const a = pos.get(edge.source);
      const b = pos.get(edge.target);
      if (!a || !b) continue;
      const via = isAuto(edge.source) && isAuto(edge.target) ? auto.via(edge) : [];
      const kind = edge.conditional ? "conditional" : edge.virtual ? "virtual" : "normal";
      const path = svg("path", { d: edgePath(a, b, via), class: `edge edge-${kind}`, "marker-end": `url(#arrow-${kind})`,
        "data-source": edge.source, "data-target": edge.target },
      svg("title", {}, `${edge.source} → ${edge.target}: ${edge.topic}${edge.virtual ? " (virtual)" : ""}${edge.conditional ? " (conditional)" : ""}`));
      edgeLayer.append(path);
      const text = edge.label || edge.topic;
      const w = Math.min(text.length, 28) * 6.4 + 14;
      const seenKey = `${edge.target}|${text}`;
      if (labelled.has(seenKey)) continue; // one label per topic into a step
      const p = labelPoint(a, b, via, w);
      const stack = incomingLabels.get(edge.target) || 0;
      incomingLabels.set(edge.target, stack + 1);
      labelled.add(seenKey);
      p.y += stack * 22;
      labelLayer.append(svg("g", { class: `edge-label label-${kind}`, transform: `translate(${p.x},${p.y})` },
        svg("rect", { x: -w / 2, y: -10, width: w, height: 20, rx: 10 }),
        svg("text", { "text-anchor": "middle", y: 4 }, text.length > 28 ? `${text.slice(0, 27)}…` : text)));
    }
  }

  function nodeView(node) {
    const dead = deadBy().get(node.id) || 0;
    const subtitle = node.type === "api"
      ? [svg("tspan", { class: `method method-${(node.method || "").toLowerCase()}` }, node.method || ""), svg("tspan", { dx: 6 }, node.path || "")]
      : node.type === "cron" ? [svg("tspan", { class: "cron-expr" }, node.cron)]
        : node.type === "event" ? [`on ${(node.subscribes || []).join(", ")}`]
          : ["external / manual step"];
    const name = node.name.length > 26 ? `${node.name.slice(0, 25)}…` : node.name;
    const sub = svg("text", { x: 16, y: 57, class: "node-sub" }, subtitle);
    const typeW = TYPE_LABEL[node.type].length * 7 + 14;
    const lang = (LANG[node.language] || node.language || "").slice(0, 10);
    const g = svg("g", { class: `node node-${node.type}${dead ? " has-dead" : ""}`, "data-step": node.id, tabindex: 0, role: "button", "aria-label": `${node.type} step ${node.name}` },
      svg("title", {}, `${node.name}${node.description ? ` — ${node.description}` : ""}`),
      svg("rect", { class: "node-body", width: NODE_W, height: NODE_H, rx: 10 }),
      svg("rect", { class: "node-accent", width: 5, height: NODE_H - 16, x: 0, y: 8, rx: 2.5 }),
      svg("rect", { class: "node-type-pill", x: 14, y: 9, width: typeW, height: 17, rx: 8.5 }),
      svg("text", { class: "node-type", x: 14 + typeW / 2, y: 21, "text-anchor": "middle" }, TYPE_LABEL[node.type]),
      svg("rect", { class: "node-lang-pill", x: 14 + typeW + 6, y: 9, width: lang.length * 6.2 + 12, height: 17, rx: 8.5 }),
      svg("text", { class: "node-lang", x: 14 + typeW + 12, y: 21 }, lang),
      svg("text", { class: "node-name", x: 16, y: 42 }, name),
      sub,
      dead ? svg("g", { class: "dead-badge", transform: `translate(${NODE_W - 12},12)` },
        svg("title", {}, `${dead} dead letter(s): open the Queues tab`),
        svg("rect", { x: -44, y: -9, width: 50, height: 18, rx: 9 }),
        svg("text", { x: -19, y: 4, "text-anchor": "middle" }, `${dead} dead`)) : null);
    place(g, node.id);
    return g;
  }
  const place = (g, id) => { const p = pos.get(id); g.setAttribute("transform", `translate(${p.x},${p.y})`); };

  function drawNodes() {
    clear(nodeLayer);
    for (const node of nodes) nodeLayer.append(nodeView(node));
  }
  drawEdges();
  drawNodes();

  // Drag nodes (saved to motia-workbench.json), drag the background to pan, wheel to zoom.
  let drag = null;
  root.addEventListener("pointerdown", (e) => {
    const g = e.target.closest(".node");
    root.setPointerCapture(e.pointerId);
    if (g) {
      const id = g.dataset.step;
      drag = { kind: "node", id, g, sx: e.clientX, sy: e.clientY, start: { ...pos.get(id) }, moved: false };
    } else drag = { kind: "pan", sx: e.clientX, sy: e.clientY, start: { ...view }, moved: false };
  });
  root.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.sx;
    const dy = e.clientY - drag.sy;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    if (drag.kind === "pan") { view = { ...view, x: drag.start.x + dx, y: drag.start.y + dy }; applyView(); return; }
    pos.set(drag.id, { x: Math.round(drag.start.x + dx / view.k), y: Math.round(drag.start.y + dy / view.k) });
    saved[drag.id] = pos.get(drag.id);
    place(drag.g, drag.id);
    drawEdges();
  });
  root.addEventListener("pointerup", async () => {
    const d = drag;
    drag = null;
    if (!d) return;
    if (d.kind === "node" && !d.moved) { openStep(d.id); return; }
    if (d.kind === "node") {
      try {
        await api(`/flows/${enc(flow.id)}/layout`, { method: "POST", json: { positions: saved } });
        flow.positions = { ...saved };
      } catch (err) { toast(`Could not save the layout: ${err.message}`, "error"); }
    }
  });
  root.addEventListener("keydown", (e) => {
    const g = e.target.closest && e.target.closest(".node");
    if (g && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openStep(g.dataset.step); }
  });
  root.addEventListener("wheel", (e) => {
    e.preventDefault();
    const rect = root.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const my = e.clientY - rect.top;
    const k = Math.min(2.5, Math.max(0.2, view.k * Math.exp(-e.deltaY * 0.0015)));
    view = { k, x: mx - ((mx - view.x) * k) / view.k, y: my - ((my - view.y) * k) / view.k };
    applyView();
  }, { passive: false });

  function fit() {
    const rect = container.getBoundingClientRect();
    const xs = [...pos.values()];
    if (!xs.length || !rect.width) return;
    const minX = Math.min(...xs.map((p) => p.x));
    const minY = Math.min(...xs.map((p) => p.y));
    const maxX = Math.max(...xs.map((p) => p.x + NODE_W));
    const maxY = Math.max(...xs.map((p) => p.y + NODE_H)) + 50;
    const k = Math.min(1.15, (rect.width - 60) / (maxX - minX), (rect.height - 60) / (maxY - minY));
    view = { k, x: (rect.width - (maxX - minX) * k) / 2 - minX * k, y: (rect.height - (maxY - minY) * k) / 2 - minY * k + 10 };
    applyView();
  }
  requestAnimationFrame(fit);
  return {
    fit,
    async refreshDead() { await refreshBadges(); drawNodes(); },
  };
}

async function openStep(name) {
  drawer.open(name, h("div", { class: "muted" }, "Loading…"));
  let step;
  try { step = await api(`/steps/${enc(name)}`); } catch (err) { drawer.open(name, errorBox(err)); return; }
  const dead = (cache.queues.find((q) => q.step === name) || {}).dead || 0;
  const list = (items) => (items.length ? items.map((t) => h("code", { class: "chip" }, t)) : h("span", { class: "muted" }, "—"));
  const schemas = Object.entries({ "Body schema": step.schemas.body, "Input schema": step.schemas.input, ...Object.fromEntries(Object.entries(step.schemas.responses || {}).map(([k, v]) => [`Response ${k}`, v])) })
    .filter(([, v]) => v);
  drawer.open(
    h("span", { class: "drawer-title-row" }, typeBadge(step.type), langBadge(step.language), h("span", {}, step.name)),
    step.description ? h("p", { class: "lead" }, step.description) : h("p", { class: "muted" }, "No description."),
    h("dl", { class: "facts" },
      h("dt", {}, "File"), h("dd", {}, h("code", {}, step.file)),
      step.type === "api" ? [h("dt", {}, "Route"), h("dd", {}, h("span", { class: `method method-${step.method.toLowerCase()}` }, step.method), " ", h("code", {}, step.path))] : null,
      step.type === "cron" ? [h("dt", {}, "Schedule"), h("dd", {}, h("code", {}, step.cron))] : null,
      h("dt", {}, "Flows"), h("dd", {}, list(step.flows)),
      step.type === "event" ? [h("dt", {}, "Subscribes"), h("dd", {}, list(step.subscribes))] : null,
      h("dt", {}, "Emits"), h("dd", {}, list(step.emits.map((e) => e.topic + (e.conditional ? " (conditional)" : "")))),
      step.virtualEmits.length || step.virtualSubscribes.length ? [h("dt", {}, "Virtual"), h("dd", {}, list([...step.virtualSubscribes.map((t) => `← ${t}`), ...step.virtualEmits.map((e) => `→ ${e.topic}`)]))] : null),
    h("div", { class: "row gap" },
      step.type === "api" ? h("a", { class: "btn primary", href: `#/endpoints/${enc(step.name)}`, onclick: () => drawer.close() }, "Try it in Endpoints") : null,
      h("a", { class: "btn", href: `#/traces?step=${enc(step.name)}`, onclick: () => drawer.close() }, "Traces"),
      h("a", { class: "btn", href: `#/logs?step=${enc(step.name)}`, onclick: () => drawer.close() }, "Logs"),
      dead ? h("a", { class: "btn danger", href: `#/queues/${enc(step.name)}`, onclick: () => drawer.close() }, `${dead} dead letter(s)`) : null),
    h("h3", {}, "Config"), jsonView(step.config),
    schemas.length ? [h("h3", {}, "Schemas"), schemas.map(([k, v]) => [h("h4", {}, k), jsonView(v)])] : null,
    h("h3", {}, "Source"), step.source !== null ? sourceView(step.source) : h("p", { class: "muted" }, "The source file could not be read."));
}

// --- Endpoints -----------------------------------------------------------------------
const Endpoints = {
  title: "Endpoints",
  async mount(el, arg) {
    const flows = await loadFlows();
    const steps = allSteps(flows).filter((s) => s.type === "api");
    if (!steps.length) { el.append(empty("No API steps", "An API step has type \"api\", a method and a path.")); return; }
    const selected = steps.find((s) => s.name === arg) || steps[0];
    const filter = h("input", { class: "input", placeholder: "Filter endpoints", "aria-label": "Filter endpoints", oninput: () => {
      const q = filter.value.toLowerCase();
      for (const item of list.children) item.hidden = !item.dataset.search.includes(q);
    } });
    const list = h("div", { class: "list" }, steps.map((s) => h("a", {
      class: `list-item endpoint-item${s.name === selected.name ? " active" : ""}`, href: `#/endpoints/${enc(s.name)}`,
      "data-search": `${s.method} ${s.path} ${s.name}`.toLowerCase(), "data-step": s.name },
    h("div", { class: "row" }, h("span", { class: `method method-${s.method.toLowerCase()}` }, s.method), h("code", { class: "path" }, s.path)),
    h("div", { class: "list-sub" }, s.name))));
    const detail = h("div", { class: "pane-body" });
    el.append(h("div", { class: "split" }, h("aside", { class: "sidebar" }, h("div", { class: "sidebar-head" }, filter), list), h("section", { class: "pane" }, detail)));
    this.renderBuilder(detail, selected);
  },
  async renderBuilder(el, summary) {
    let step;
    try { step = await api(`/steps/${enc(summary.name)}`); } catch (err) { el.append(errorBox(err)); return; }
    const names = [...step.path.matchAll(/[:{]([A-Za-z_][\w]*)\}?/g)].map((m) => m[1]);
    const pathInputs = names.map((n) => h("input", { class: "input", "data-param": n, placeholder: n, "aria-label": `path parameter ${n}`, oninput: () => preview() }));
    const rows = (items) => h("div", { class: "kv" }, items.map(([k, v]) => kvRow(k, v)));
    const kvRow = (k = "", v = "") => h("div", { class: "kv-row" },
      h("input", { class: "input kv-key", placeholder: "name", value: k, oninput: () => preview() }),
      h("input", { class: "input kv-value", placeholder: "value", value: v, oninput: () => preview() }),
      h("button", { class: "btn ghost icon", title: "Remove", onclick: (e) => { e.target.closest(".kv-row").remove(); preview(); } }, "✕"));
    const queryRows = rows((step.config.queryParams || []).map((q) => [q.name, ""]));
    const hasBody = !["GET", "HEAD", "DELETE"].includes(step.method);
    // Only a request with a body says what the body is.
    const headerRows = rows(hasBody ? [["content-type", "application/json"]] : []);
    const bodyExample = step.bodyExample ?? {};
    const body = h("textarea", { class: "input code-input", id: "request-body", rows: 9, spellcheck: "false", "aria-label": "Request body (JSON)" });
    body.value = hasBody ? pretty(bodyExample) : "";
    const bodyError = h("div", { class: "field-error" });
    body.addEventListener("input", () => {
      if (!body.value.trim()) { bodyError.textContent = ""; return; }
      try { JSON.parse(body.value); bodyError.textContent = ""; } catch (err) { bodyError.textContent = `Not valid JSON: ${err.message}`; }
    });
    const method = h("select", { class: "input method-select", "aria-label": "Method" },
      ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map((m) => h("option", { value: m, selected: m === step.method }, m)));
    const url = h("code", { class: "url-preview", id: "url-preview" });
    const pairs = (container) => [...container.querySelectorAll(".kv-row")].map((r) => [$(".kv-key", r).value.trim(), $(".kv-value", r).value]).filter(([k]) => k);
    const buildUrl = () => {
      let path = step.path;
      for (const input of pathInputs) {
        const value = input.value || `:${input.dataset.param}`;
        path = path.replace(new RegExp(`[:{]${input.dataset.param}\\}?`), input.value ? enc(value) : value);
      }
      const qs = new URLSearchParams(pairs(queryRows).filter(([, v]) => v !== "")).toString();
      return path + (qs ? `?${qs}` : "");
    };
    const preview = () => { url.textContent = `${location.origin}${buildUrl()}`; };
    preview();
    const response = h("div", { class: "response", id: "response" }, h("div", { class: "muted" }, "Send the request to see the response here."));
    const send = async () => {
      if (pathInputs.some((i) => !i.value)) { toast("Fill in every path parameter first", "error"); return; }
      const headers = Object.fromEntries(pairs(headerRows));
      const init = { method: method.value, headers };
      if (!["GET", "HEAD"].includes(method.value) && body.value.trim()) init.body = body.value;
      const started = performance.now();
      sendButton.disabled = true;
      fill(response, h("div", { class: "muted" }, "Sending…"));
      let res;
      let text;
      try {
        res = await fetch(buildUrl(), init);
        text = await res.text();
      } catch (err) {
        fill(response, errorBox(err));
        return;
      } finally { sendButton.disabled = false; }
      const elapsed = performance.now() - started;
      this.showResponse(response, res, text, elapsed);
    };
    const sendButton = h("button", { class: "btn primary", id: "send-request", onclick: send }, "Send");
    const section = (title, ...content) => h("div", { class: "section" }, h("div", { class: "section-title" }, title), content);
    fill(el, 
      h("div", { class: "pane-head" },
        h("div", { class: "row gap" }, h("span", { class: `method method-${step.method.toLowerCase()}` }, step.method), h("code", { class: "path big" }, step.path), langBadge(step.language)),
        h("div", { class: "pane-title" }, step.name), step.description ? h("p", { class: "muted" }, step.description) : null),
      h("div", { class: "request-bar" }, method, url, sendButton),
      h("div", { class: "builder" },
        h("div", { class: "builder-col" },
          names.length ? section("Path parameters", h("div", { class: "kv" }, pathInputs.map((i) => h("label", { class: "kv-row" }, h("span", { class: "kv-label" }, `:${i.dataset.param}`), i)))) : null,
          section("Query parameters", (step.config.queryParams || []).length ? h("div", { class: "hint" }, (step.config.queryParams || []).map((q) => h("div", {}, h("code", {}, q.name), q.description ? ` — ${q.description}` : ""))) : null,
            queryRows, h("button", { class: "btn ghost small", onclick: () => queryRows.append(kvRow()) }, "+ Add query parameter")),
          section("Headers", headerRows, h("button", { class: "btn ghost small", onclick: () => headerRows.append(kvRow()) }, "+ Add header")),
          section(hasBody ? "Body (JSON)" : "Body (JSON, not sent for GET/HEAD)", body, bodyError,
            step.schemas.body ? h("details", { class: "schema" }, h("summary", {}, "Body schema"), jsonView(step.schemas.body)) : null,
            Object.keys(step.schemas.responses || {}).length ? h("details", { class: "schema" }, h("summary", {}, "Response schemas"), jsonView(step.schemas.responses)) : null)),
        h("div", { class: "builder-col" }, section("Response", response))));
  },
  showResponse(el, res, text, elapsed) {
    let bodyNode;
    try { bodyNode = jsonView(JSON.parse(text)); } catch { bodyNode = h("pre", { class: "code" }, text || "(empty body)"); }
    const traceId = res.headers.get("x-trace-id");
    const klass = res.status < 300 ? "ok" : res.status < 400 ? "redirect" : res.status < 500 ? "client" : "server";
    const logs = h("div", { class: "log-list compact", id: "request-logs" });
    this.traceId = traceId;
    this.logTarget = logs;
    fill(el, 
      h("div", { class: "response-meta" },
        h("span", { class: `http-status http-${klass}`, id: "response-status" }, `${res.status} ${res.statusText}`),
        h("span", { class: "muted" }, fmtDuration(elapsed)),
        h("span", { class: "muted" }, `${text.length} bytes`),
        h("div", { class: "spacer" }),
        traceId ? h("a", { class: "btn small", id: "response-trace", href: `#/traces/${enc(traceId)}` }, `Trace ${short(traceId)} →`) : null),
      h("details", { class: "schema" }, h("summary", {}, `Headers (${[...res.headers].length})`),
        h("table", { class: "table small" }, h("tbody", {}, [...res.headers].map(([k, v]) => h("tr", {}, h("td", {}, h("code", {}, k)), h("td", {}, v)))))),
      bodyNode,
      traceId ? [h("div", { class: "section-title" }, "Log lines of this request (live)"), logs] : null);
    if (traceId) {
      api(`/logs?traceId=${enc(traceId)}&limit=200`).then((r) => {
        for (const record of r.items) insertLogInOrder(logs, record);
        if (!logs.children.length) logs.append(h("div", { class: "muted empty-row" }, "No log lines yet…"));
      }).catch(() => {});
    }
  },
  onLive(kind, data) {
    if (kind !== "log" || !this.traceId || data.traceId !== this.traceId || !this.logTarget) return;
    insertLogInOrder(this.logTarget, data);
  },
  unmount() { this.traceId = null; this.logTarget = null; },
};

// A request Motia refused before the handler ran: the answer's status and field errors.
function rejectionCard(span) {
  return h("div", { class: "error-card rejected-card", id: "span-error" },
    h("div", { class: "error-title" }, `Rejected — ${span.httpStatus || ""} answered before the handler ran`),
    h("div", { class: "error-msg" }, span.error || ""),
    span.fieldErrors && span.fieldErrors.length ? h("table", { class: "table small field-errors" },
      h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "Problem"))),
      h("tbody", {}, span.fieldErrors.map((e) => h("tr", {}, h("td", {}, h("code", {}, e.field)), h("td", {}, e.message))))) : null);
}

// A stack trace with the user's own frames first and the framework's (Motia, libraries,
// the Python runtime) folded away and marked as such; the raw text stays one click away.
function parseStack(text, projectDir) {
  const lines = text.replace(/\n$/, "").split("\n");
  const frames = [];
  const isUser = (file) => !!file && !!projectDir && file.startsWith(projectDir) && !/[\/](site-packages|node_modules|\.venv|venv|python_modules)[\/]/.test(file.slice(projectDir.length));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m = line.match(/^\s*File "(.+)", line (\d+)(?:, in (.+))?$/); // Python
    if (m) {
      const code = [];
      while (i + 1 < lines.length && /^\s{4,}\S/.test(lines[i + 1]) && !/^\s*File "/.test(lines[i + 1])) code.push(lines[++i].trim());
      frames.push({ file: m[1], line: m[2], fn: m[3] || "", code: code.filter((c) => !/^[~^\s]+$/.test(c)).join("\n"), user: isUser(m[1]) });
      continue;
    }
    m = line.match(/^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/) || line.match(/^\s*(?:from )?(\/.+?):(\d+):in [`'](.+)'$/); // Node, Ruby
    if (m) {
      const [file, no, fn] = line.trim().startsWith("at") ? [m[2], m[3], m[1] || ""] : [m[1], m[2], m[3]];
      frames.push({ file, line: no, fn, code: "", user: isUser(file) });
      continue;
    }
  }
  return frames;
}
function stackView(text, projectDir) {
  const frames = parseStack(text, projectDir || "");
  const raw = h("details", { class: "stack-raw" }, h("summary", {}, "Raw stack trace"), h("pre", { class: "code stack" }, text));
  if (!frames.length) return h("details", { open: true, class: "stack-view" }, h("summary", {}, "Stack trace"), h("pre", { class: "code stack" }, text));
  const rel = (file) => (projectDir && file.startsWith(projectDir) ? file.slice(projectDir.length).replace(/^[\/]/, "") : file);
  const frameView = (f) => h("div", { class: `frame ${f.user ? "frame-user" : "frame-framework"}` },
    h("div", { class: "frame-where" }, f.user ? null : h("span", { class: "badge frame-tag" }, "framework"),
      h("code", {}, `${rel(f.file)}:${f.line}`), f.fn ? h("span", { class: "muted" }, ` in ${f.fn}`) : null),
    f.code ? h("pre", { class: "frame-code" }, f.code) : null);
  const user = frames.filter((f) => f.user);
  const framework = frames.filter((f) => !f.user);
  return h("div", { class: "stack-view" },
    h("div", { class: "section-title" }, "Stack trace"),
    user.length ? h("div", { class: "frames frames-user" }, user.map(frameView)) : h("div", { class: "muted small" }, "No frame in the project's files."),
    framework.length ? h("details", { class: "frames frames-framework" }, h("summary", {}, `${framework.length} framework frame${framework.length === 1 ? "" : "s"}`), framework.map(frameView)) : null,
    raw);
}

// --- Logs ------------------------------------------------------------------------------
const LEVELS = ["debug", "info", "warn", "error"];
const BASE_FIELDS = new Set(["level", "time", "msg", "step", "traceId", "flows"]);
const logKey = (r) => `${r.time}-${r.traceId || ""}-${(r.msg || "").length}-${(r.step || "").length}-${hashString(r.msg || "")}`;
function hashString(s) { let x = 0; for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0; return (x >>> 0).toString(36); }

function logRow(record, { compact = false } = {}) {
  const fields = Object.entries(record).filter(([k]) => !BASE_FIELDS.has(k));
  const inline = fields.filter(([k]) => k !== "stack").map(([k, v]) =>
    h("span", { class: "field" }, h("span", { class: "field-key" }, `${k}=`), typeof v === "string" ? v : JSON.stringify(v)));
  const details = h("pre", { class: "code log-details", hidden: true }, highlightJson(pretty(record)));
  const row = h("div", {
    class: `log-row level-row-${record.level}${record.traceId ? " clickable" : ""}`, "data-key": logKey(record), "data-trace": record.traceId || "",
    title: record.traceId ? "Open this line's trace" : "",
    onclick: (e) => {
      if (e.target.closest(".log-expand")) { details.hidden = !details.hidden; return; }
      if (e.target.closest("a")) return;
      if (record.traceId) go(`#/traces/${enc(record.traceId)}`);
    } },
  h("span", { class: "log-time" }, fmtClock(record.time)),
  levelBadge(record.level),
  compact ? null : h("span", { class: "log-step" }, record.step || "—"),
  h("span", { class: "log-msg" }, compact && record.step ? h("span", { class: "log-step-inline" }, `${record.step} `) : null, h("span", { class: "msg" }, record.msg), " ", inline,
    record.stack ? h("span", { class: "badge stack" }, "stack") : null),
  compact ? null : h("span", { class: "log-trace" }, record.traceId ? h("a", { href: `#/traces/${enc(record.traceId)}`, class: "trace-link" }, short(record.traceId)) : ""),
  h("button", { class: "btn ghost icon log-expand", title: "Show every field", "aria-label": "Show every field" }, "⋯"));
  return h("div", { class: "log-entry", "data-time": record.time }, row, details);
}

// Lines of one request arrive from two sources (its history and the live feed) in any
// order: keep them in time order, each once.
function insertLogInOrder(list, record) {
  if (list.querySelector(`[data-key="${logKey(record)}"]`)) return;
  const placeholder = list.querySelector(".empty-row");
  if (placeholder) placeholder.remove();
  const entry = logRow(record, { compact: true });
  const later = [...list.children].find((el) => Number(el.dataset.time) > record.time);
  list.insertBefore(entry, later || null);
}

const Logs = {
  title: "Logs",
  filters: { search: "", levels: new Set(LEVELS), step: "", flow: "", traceId: "" },
  paused: false,
  async mount(el, _arg, query) {
    const flows = await loadFlows();
    const f = this.filters;
    for (const key of ["step", "flow", "traceId", "search"]) if (query.has(key)) f[key] = query.get(key);
    if (query.has("step") || query.has("flow") || query.has("traceId")) {
      for (const key of ["step", "flow", "traceId"]) if (!query.has(key)) f[key] = "";
    }
    const reload = () => this.load(true);
    const search = h("input", { class: "input grow", id: "log-search", type: "search", placeholder: "Search messages and fields", value: f.search, "aria-label": "Search logs",
      oninput: debounce(() => { f.search = search.value.trim(); reload(); }, 250) });
    const levelChips = h("div", { class: "chips" }, LEVELS.map((level) => h("label", { class: `chip-toggle level-${level}` },
      h("input", { type: "checkbox", checked: f.levels.has(level), "data-level": level, onchange: (e) => { if (e.target.checked) f.levels.add(level); else f.levels.delete(level); reload(); } }), level)));
    const stepSelect = h("select", { class: "input", "aria-label": "Step", onchange: (e) => { f.step = e.target.value; reload(); } },
      h("option", { value: "" }, "All steps"), allSteps(flows).map((s) => h("option", { value: s.name, selected: s.name === f.step }, s.name)));
    const flowSelect = h("select", { class: "input", "aria-label": "Flow", onchange: (e) => { f.flow = e.target.value; reload(); } },
      h("option", { value: "" }, "All flows"), flows.items.map((fl) => h("option", { value: fl.id, selected: fl.id === f.flow }, fl.id)));
    const traceInput = h("input", { class: "input mono", placeholder: "Trace id", value: f.traceId, "aria-label": "Trace id", size: 18,
      oninput: debounce(() => { f.traceId = traceInput.value.trim(); reload(); }, 300) });
    const pause = h("button", { class: "btn", onclick: () => { this.paused = !this.paused; pause.textContent = this.paused ? "▶ Resume" : "❚❚ Pause"; pause.classList.toggle("active", this.paused); } }, this.paused ? "▶ Resume" : "❚❚ Pause");
    const clearFilters = h("button", { class: "btn ghost", onclick: () => { this.filters = { search: "", levels: new Set(LEVELS), step: "", flow: "", traceId: "" }; go("#/logs"); render(true); } }, "Reset");
    this.seen = new Set(); // a live line may arrive before the first page of history
    this.list = h("div", { class: "log-list", id: "log-list" });
    this.more = h("button", { class: "btn", onclick: () => this.load(false) }, "Load older");
    this.counter = h("span", { class: "muted" });
    el.append(h("div", { class: "panel-col" },
      h("div", { class: "toolbar wrap" }, search, levelChips, stepSelect, flowSelect, traceInput, pause, clearFilters),
      h("div", { class: "log-head" }, h("span", {}, "Time"), h("span", {}, "Level"), h("span", {}, "Step"), h("span", {}, "Message"), h("span", {}, "Trace"), h("span")),
      h("div", { class: "scroll" }, this.list, h("div", { class: "load-more" }, this.more, this.counter))));
    await this.load(true);
  },
  query(before) {
    const f = this.filters;
    const p = new URLSearchParams({ limit: "200" });
    if (f.search) p.set("search", f.search);
    if (f.step) p.set("step", f.step);
    if (f.flow) p.set("flow", f.flow);
    if (f.traceId) p.set("traceId", f.traceId);
    if (f.levels.size !== LEVELS.length) p.set("level", [...f.levels].join(",") || "none");
    if (before) p.set("before", String(before));
    return p.toString();
  },
  async load(fresh) {
    const oldest = fresh ? null : this.oldest;
    let result;
    try { result = await api(`/logs?${this.query(oldest)}`); } catch (err) { fill(this.list, errorBox(err)); return; }
    if (fresh) { clear(this.list); this.seen = new Set(); }
    for (const record of result.items) this.add(record, false);
    if (result.items.length) this.oldest = result.items[result.items.length - 1].time;
    this.more.hidden = result.items.length < 200;
    if (!this.list.children.length) this.list.append(h("div", { class: "empty-row muted" }, "No log lines match. New lines appear here as they are written."));
    this.counter.textContent = `${this.list.querySelectorAll(".log-entry").length} lines`;
  },
  matches(r) {
    const f = this.filters;
    if (!f.levels.has(r.level)) return false;
    if (f.step && r.step !== f.step) return false;
    if (f.flow && !(r.flows || []).includes(f.flow)) return false;
    if (f.traceId && r.traceId !== f.traceId) return false;
    if (f.search && !JSON.stringify(r).toLowerCase().includes(f.search.toLowerCase())) return false;
    return true;
  },
  add(record, top) {
    const key = logKey(record);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const placeholder = this.list.querySelector(".empty-row");
    if (placeholder) placeholder.remove();
    const row = logRow(record);
    if (top) { row.classList.add("fresh"); this.list.prepend(row); } else this.list.append(row);
  },
  onLive(kind, data) {
    if (kind !== "log" || this.paused || !this.list || !this.matches(data)) return;
    this.add(data, true);
    this.counter.textContent = `${this.list.querySelectorAll(".log-entry").length} lines`;
  },
  unmount() { this.list = null; },
};

// --- Traces ------------------------------------------------------------------------------
const Traces = {
  title: "Traces",
  status: "",
  failedFirst: true,
  async mount(el, arg, query) {
    await loadFlows().catch(() => null); // the project folder tells the user's stack frames apart
    this.step = query.get("step") || "";
    if (query.has("status")) this.status = query.get("status");
    this.listEl = h("div", { class: "list", id: "trace-list" });
    this.detail = h("div", { class: "pane-body", id: "trace-detail" });
    const statusSelect = h("div", { class: "segmented", role: "group", "aria-label": "Status" },
      [["", "All"], ["failed", "Failed"], ["rejected", "Rejected"], ["running", "Running"], ["ok", "OK"]].map(([v, label]) =>
        h("button", { class: `seg${this.status === v ? " active" : ""}`, "data-status": v || "all", onclick: (e) => {
          this.status = v;
          for (const b of e.target.parentNode.children) b.classList.toggle("active", b === e.target);
          this.loadList();
        } }, label)));
    const failedFirst = h("label", { class: "check" }, h("input", { type: "checkbox", checked: this.failedFirst, onchange: (e) => { this.failedFirst = e.target.checked; this.loadList(); } }), "Failed first");
    el.append(h("div", { class: "split" },
      h("aside", { class: "sidebar wide" },
        h("div", { class: "sidebar-head" }, statusSelect, failedFirst,
          this.step ? h("div", { class: "filter-note" }, "Step: ", h("code", {}, this.step), " ", h("a", { href: "#/traces" }, "clear")) : null),
        this.listEl),
      h("section", { class: "pane" }, this.detail)));
    this.traceId = arg || "";
    await this.loadList();
    if (this.traceId) await this.loadTrace(this.traceId);
    else this.detail.append(empty("Select a trace", "Every API request, event chain and cron run is a trace. Failed ones are listed first and marked red."));
  },
  route(arg) {
    this.traceId = arg;
    for (const item of this.listEl.children) item.classList.toggle("active", item.dataset.trace === arg);
    if (arg) this.loadTrace(arg);
  },
  async loadList() {
    const p = new URLSearchParams({ limit: "300" });
    if (this.status) p.set("status", this.status);
    if (this.step) p.set("step", this.step);
    let items;
    try { items = (await api(`/traces?${p}`)).items; } catch (err) { fill(this.listEl, errorBox(err)); return; }
    if (this.failedFirst) items.sort((a, b) => (b.status === "failed") - (a.status === "failed") || b.startedAt - a.startedAt);
    clear(this.listEl);
    if (!items.length) { this.listEl.append(empty("No traces yet", "Send a request from Endpoints, emit an event or run a cron job.")); return; }
    for (const t of items) {
      this.listEl.append(h("a", { class: `list-item trace-item trace-${t.status}${t.traceId === this.traceId ? " active" : ""}`, href: `#/traces/${enc(t.traceId)}`, "data-trace": t.traceId, "data-status": t.status },
        h("div", { class: "row" }, statusBadge(t.status), h("span", { class: "trace-entry" }, t.entryStep), h("div", { class: "spacer" }), h("span", { class: "muted small" }, fmtAgo(t.startedAt * 1000))),
        h("div", { class: "row list-sub" }, h("span", { class: `kind kind-${t.entryKind}` }, t.entryKind), h("code", { class: "trigger" }, t.trigger), h("div", { class: "spacer" }),
          h("span", {}, fmtDuration(t.durationMs)), h("span", {}, `· ${t.spans} run${t.spans === 1 ? "" : "s"}`), t.errors ? h("span", { class: "err-count" }, `· ${t.errors} error${t.errors === 1 ? "" : "s"}`) : null)));
    }
  },
  async loadTrace(id, keepSpan = false) {
    let data;
    try { data = await api(`/traces/${enc(id)}`); } catch (err) {
      if (err.status !== 404) { fill(this.detail, errorBox(err)); return; }
      // No step ran (a 404 or 405 answer, a refused emit): its log lines still say why.
      let lines = [];
      try { lines = (await api(`/logs?traceId=${enc(id)}&limit=200`)).items.reverse(); } catch { /* shown as none */ }
      if (this.traceId !== id) return;
      fill(this.detail, empty("No step ran in this trace", lines.length
        ? `Motia answered ${id} without running a step. Its log lines:`
        : `No step run has been recorded for ${id}. It appears here as soon as one is.`),
      lines.length ? h("div", { class: "log-list compact", id: "trace-logs-only" }, lines.map((r) => logRow(r, { compact: true }))) : null);
      return;
    }
    if (this.traceId !== id) return;
    const { trace, spans, logs } = data;
    const previous = keepSpan ? this.spanId : null;
    const failed = spans.find((s) => s.status === "failed" || s.status === "dead");
    this.spanId = (previous && spans.some((s) => s.id === previous) ? previous : null) || (failed || spans[0]).id;
    const spanDetail = h("div", { class: "span-detail", id: "span-detail" });
    const t0 = Math.min(...spans.map((s) => s.startedAt));
    const now = Date.now() / 1000;
    const tEnd = Math.max(...spans.map((s) => s.endedAt ?? now));
    const total = Math.max(tEnd - t0, 0.0005);
    const ticks = [0, 0.25, 0.5, 0.75, 1];
    const timeline = h("div", { class: "timeline", id: "timeline" },
      h("div", { class: "tl-row tl-axis" }, h("div", { class: "tl-label" }, "Step run"),
        h("div", { class: "tl-track" }, ticks.map((t) => h("span", { class: "tl-tick", style: `left:${t * 100}%` }, fmtDuration(total * 1000 * t))))),
      spans.map((s) => {
        const left = ((s.startedAt - t0) / total) * 100;
        const width = Math.max((((s.endedAt ?? now) - s.startedAt) / total) * 100, 0.6);
        const row = h("div", { class: `tl-row tl-span${s.id === this.spanId ? " active" : ""}`, "data-span": s.id, "data-step": s.step, "data-status": s.status, tabindex: 0, role: "button",
          onclick: () => { this.spanId = s.id; for (const r of timeline.querySelectorAll(".tl-span")) r.classList.toggle("active", r === row); showSpan(s); } },
        h("div", { class: "tl-label" }, h("span", { class: `kind kind-${s.kind}` }, s.kind), h("span", { class: "tl-step" }, s.step), s.attempt > 1 ? h("span", { class: "attempt" }, `attempt ${s.attempt}`) : null),
        h("div", { class: "tl-track" },
          ticks.slice(1, -1).map((t) => h("span", { class: "tl-grid", style: `left:${t * 100}%` })),
          h("div", { class: `tl-bar bar-${s.status}`, style: `left:${left}%;width:${width}%`, title: `${s.step}: ${s.status}, ${fmtDuration(s.durationMs)}` }),
          h("span", { class: "tl-dur", style: left + width > 80 ? `right:${100 - left}%;padding-right:6px` : `left:${left + width}%;padding-left:6px` }, `${fmtDuration(s.durationMs)} · ${s.status}`)));
        return row;
      }));
    const showSpan = (s) => {
      fill(spanDetail, 
        h("div", { class: "row gap span-head" }, statusBadge(s.status), h("b", {}, s.step), h("span", { class: "muted" }, `attempt ${s.attempt}`), h("span", { class: "muted" }, fmtDuration(s.durationMs)), h("code", { class: "trigger" }, s.trigger)),
        h("div", { class: "stats" },
          h("div", { class: "stat" }, h("div", { class: "stat-n" }, String(s.emits.length)), h("div", { class: "stat-l" }, "emits")),
          h("div", { class: "stat" }, h("div", { class: "stat-n" }, String(s.stateOps)), h("div", { class: "stat-l" }, "state ops")),
          h("div", { class: "stat" }, h("div", { class: "stat-n" }, String(s.streamOps)), h("div", { class: "stat-l" }, "stream ops")),
          h("div", { class: "stat" }, h("div", { class: "stat-n small" }, fmtClock(s.startedAt * 1000)), h("div", { class: "stat-l" }, "started"))),
        s.emits.length ? h("div", { class: "row gap wrap" }, h("span", { class: "muted" }, "Emitted:"), s.emits.map((t) => h("code", { class: "chip" }, t))) : null,
        s.status === "rejected" ? rejectionCard(s)
          : s.error ? h("div", { class: "error-card", id: "span-error" },
            h("div", { class: "error-title" }, s.status === "dead" ? "Failed — moved to the dead-letter queue" : s.status === "retrying" ? "Failed — will be retried" : "Failed"),
            h("div", { class: "error-msg" }, s.error),
            s.stack ? stackView(s.stack, cache.flows && cache.flows.projectDir) : null,
            s.status === "dead" ? h("a", { class: "btn small danger", href: `#/queues/${enc(s.step)}` }, "Open in the dead-letter queue →") : null) : null);
    };
    showSpan(spans.find((s) => s.id === this.spanId));
    const logList = h("div", { class: "log-list compact" }, logs.length ? logs.map((r) => logRow(r, { compact: true })) : h("div", { class: "muted empty-row" }, "No log lines in this trace."));
    fill(this.detail, 
      h("div", { class: "pane-head" },
        h("div", { class: "row gap" }, statusBadge(trace.status), h("span", { class: "pane-title" }, trace.entryStep), h("code", { class: "trigger" }, trace.trigger)),
        h("div", { class: "row gap muted small" }, h("span", {}, "Trace ", h("code", { class: "mono", id: "trace-id" }, trace.traceId)), h("span", {}, fmtDate(trace.startedAt * 1000)),
          h("span", {}, fmtDuration(trace.durationMs)), h("span", {}, `${trace.spans} run${trace.spans === 1 ? "" : "s"}`), trace.errors ? h("span", { class: "err-count" }, `${trace.errors} error${trace.errors === 1 ? "" : "s"}`) : null,
          h("a", { href: `#/logs?traceId=${enc(trace.traceId)}` }, "All logs →"))),
      h("div", { class: "section-title" }, "Timeline"), timeline, spanDetail,
      h("div", { class: "section-title" }, `Logs (${logs.length})`), logList);
  },
  refreshSoon: null,
  onLive(kind, data) {
    if (kind !== "span") return;
    (this.refreshSoon ||= debounce(() => { if (this.listEl) { this.loadList(); if (this.traceId) this.loadTrace(this.traceId, true); } }, 300))();
  },
  unmount() { this.listEl = null; },
};

// --- State -------------------------------------------------------------------------------
const State = {
  title: "State",
  async mount(el, arg) {
    this.group = arg || "";
    this.groupsEl = h("div", { class: "list", id: "state-groups" });
    this.body = h("div", { class: "pane-body" });
    const filter = h("input", { class: "input", type: "search", placeholder: "Filter groups", "aria-label": "Filter groups", oninput: () => {
      const q = filter.value.toLowerCase();
      for (const item of this.groupsEl.children) item.hidden = !(item.dataset.group || "").toLowerCase().includes(q);
    } });
    el.append(h("div", { class: "split" },
      h("aside", { class: "sidebar" }, h("div", { class: "sidebar-head" }, filter, h("button", { class: "btn ghost small", onclick: () => this.loadGroups() }, "Refresh")), this.groupsEl),
      h("section", { class: "pane" }, this.body)));
    await this.loadGroups();
    if (this.group) await this.loadGroup();
    else this.body.append(empty("Select a group", "State is a key/value store grouped by a name (often a trace id)."));
  },
  async loadGroups() {
    const groups = (await api("/state")).items;
    clear(this.groupsEl);
    if (!groups.length) this.groupsEl.append(empty("No state yet"));
    for (const g of groups) this.groupsEl.append(h("a", { class: `list-item${g === this.group ? " active" : ""}`, href: `#/state/${enc(g)}`, "data-group": g }, h("code", {}, g)));
  },
  async loadGroup() {
    const group = this.group;
    let items;
    try { items = (await api(`/state/${enc(group)}`)).items; } catch (err) { fill(this.body, errorBox(err)); return; }
    const entries = Array.isArray(items) ? items.map((v, i) => [String(i), v]) : Object.entries(items || {});
    this.editor = h("div", { class: "editor-slot" });
    fill(this.body, 
      h("div", { class: "pane-head row" }, h("div", {}, h("div", { class: "muted small" }, "Group"), h("div", { class: "pane-title mono" }, group)),
        h("div", { class: "spacer" }), h("button", { class: "btn primary", onclick: () => this.edit(null, {}) }, "+ New key")),
      this.editor,
      entries.length ? h("table", { class: "table", id: "state-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, "Value"), h("th"))),
        h("tbody", {}, entries.map(([key, value]) => h("tr", { "data-key": key },
          h("td", { class: "mono key-cell" }, key),
          h("td", {}, h("pre", { class: "code inline" }, highlightJson(JSON.stringify(value, null, 1).replace(/\n\s*/g, " ").slice(0, 400)))),
          h("td", { class: "actions" },
            h("button", { class: "btn small", onclick: () => this.edit(key, value) }, "Edit"),
            h("button", { class: "btn small danger ghost", onclick: () => this.remove(key) }, "Delete"))))))
        : empty("This group is empty"));
  },
  edit(key, value) {
    const keyInput = h("input", { class: "input mono", placeholder: "key", value: key ?? "", disabled: key !== null, "aria-label": "Key" });
    const text = h("textarea", { class: "input code-input", rows: 10, spellcheck: "false", id: "state-editor", "aria-label": "Value (JSON)" });
    text.value = pretty(value);
    const message = h("div", { class: "field-error", id: "state-error" });
    const save = h("button", { class: "btn primary", id: "state-save", onclick: async () => {
      let parsed;
      try { parsed = JSON.parse(text.value); } catch (err) { message.textContent = `Not valid JSON: ${err.message}`; return; }
      const k = keyInput.value.trim();
      if (!k) { message.textContent = "A key is required."; return; }
      try {
        await api(`/state/${enc(this.group)}/${enc(k)}`, { method: "PUT", body: JSON.stringify(parsed), headers: { "content-type": "application/json" } });
      } catch (err) { message.textContent = err.message; return; }
      toast(`Saved ${this.group} / ${k}`, "ok");
      await this.loadGroup();
    } }, "Save");
    text.addEventListener("input", () => {
      try { JSON.parse(text.value); message.textContent = ""; save.disabled = false; } catch (err) { message.textContent = `Not valid JSON: ${err.message}`; save.disabled = true; }
    });
    fill(this.editor, h("div", { class: "card editor" },
      h("div", { class: "row gap" }, h("b", {}, key === null ? "New value" : "Edit value"), keyInput),
      text, message,
      h("div", { class: "row gap" }, save, h("button", { class: "btn ghost", onclick: () => clear(this.editor) }, "Cancel"))));
    text.focus();
  },
  async remove(key) {
    if (!confirm(`Delete ${this.group} / ${key}?`)) return;
    await api(`/state/${enc(this.group)}/${enc(key)}`, { method: "DELETE" });
    toast(`Deleted ${key}`, "ok");
    await this.loadGroup();
  },
  route(arg) { this.group = arg; for (const i of this.groupsEl.children) i.classList.toggle("active", i.dataset.group === arg); this.loadGroup(); },
};

// --- Streams -----------------------------------------------------------------------------
const Streams = {
  title: "Streams",
  async mount(el, arg) {
    const [name, ...rest] = arg ? arg.split("/") : [""];
    this.name = name;
    this.group = rest.join("/");
    this.nav = h("div", { class: "list", id: "stream-list" });
    this.body = h("div", { class: "pane-body" });
    el.append(h("div", { class: "split" }, h("aside", { class: "sidebar" }, this.nav), h("section", { class: "pane" }, this.body)));
    await this.loadStreams();
    if (this.name && this.group) await this.loadGroup();
    else this.body.append(empty("Select a stream group", "Streams push data to clients live; their items change here as steps write them."));
  },
  async loadStreams() {
    const streams = (await api("/streams")).items;
    this.streams = streams;
    clear(this.nav);
    if (!streams.length) this.nav.append(empty("No streams", "A stream is a file ending in .stream.py (or _stream.py)."));
    for (const s of streams) {
      this.nav.append(h("div", { class: "tree" },
        h("div", { class: "tree-head" }, h("b", {}, s.name), h("span", { class: "muted small" }, s.ttl ? `TTL ${s.ttl} s` : "")),
        s.groups.length ? s.groups.map((g) => h("a", { class: `list-item sub${s.name === this.name && g === this.group ? " active" : ""}`, href: `#/streams/${enc(s.name)}/${enc(g)}`, "data-group": `${s.name}/${g}` }, h("code", {}, g)))
          : h("div", { class: "muted small pad" }, "No groups yet")));
    }
  },
  async loadGroup() {
    const stream = (this.streams || []).find((s) => s.name === this.name);
    let items;
    try { items = (await api(`/streams/${enc(this.name)}/${enc(this.group)}`)).items; } catch (err) { fill(this.body, errorBox(err)); return; }
    this.rows = new Map();
    this.tbody = h("tbody", {});
    for (const item of items) this.upsert(item, false);
    this.events = h("div", { class: "event-feed", id: "stream-events" }, h("div", { class: "muted empty-row" }, "Waiting for changes…"));
    fill(this.body, 
      h("div", { class: "pane-head" }, h("div", { class: "muted small" }, "Stream / group"), h("div", { class: "pane-title mono" }, `${this.name} / ${this.group}`)),
      h("table", { class: "table", id: "stream-items" }, h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Data"))), this.tbody),
      h("div", { class: "section-title" }, "Recent changes (live)"), this.events,
      stream && stream.schema ? h("details", { class: "schema" }, h("summary", {}, "Item schema"), jsonView(stream.schema)) : null);
  },
  upsert(item, flash) {
    const id = String(item.id);
    const row = h("tr", { "data-id": id, class: flash ? "flash" : "" }, h("td", { class: "mono key-cell" }, id), h("td", {}, h("pre", { class: "code inline" }, highlightJson(JSON.stringify(item)))));
    const old = this.rows.get(id);
    if (old) old.replaceWith(row); else this.tbody.prepend(row);
    this.rows.set(id, row);
  },
  onLive(kind, data) {
    if (kind !== "stream" || !this.nav) return;
    const known = (this.streams || []).find((s) => s.name === data.streamName);
    if (known && data.groupId && !known.groups.includes(data.groupId)) { known.groups.push(data.groupId); this.loadStreams(); }
    if (data.streamName !== this.name || data.groupId !== this.group || !this.tbody) return;
    const ev = data.event || {};
    if (ev.type === "create" || ev.type === "update") this.upsert({ ...(ev.data || {}), id: data.id ?? (ev.data || {}).id }, true);
    else if (ev.type === "delete") { const row = this.rows.get(String(data.id)); if (row) { row.remove(); this.rows.delete(String(data.id)); } }
    const placeholder = this.events.querySelector(".empty-row");
    if (placeholder) placeholder.remove();
    this.events.prepend(h("div", { class: "event-line" }, h("span", { class: "log-time" }, fmtClock(data.timestamp || Date.now())), h("span", { class: `badge ev-${ev.type}` }, ev.type || "event"), h("code", {}, String(data.id ?? "")), h("span", { class: "muted" }, JSON.stringify(ev.data ?? ev).slice(0, 160))));
    while (this.events.children.length > 50) this.events.lastChild.remove();
  },
  route(arg) { this.mountArg = arg; render(true); },
  unmount() { this.nav = null; this.tbody = null; },
};

// --- Queues ------------------------------------------------------------------------------
const Queues = {
  title: "Queues",
  async mount(el, arg) {
    await loadFlows().catch(() => null);
    this.step = arg || "";
    this.table = h("div", { id: "queue-table" });
    this.dlq = h("div", { id: "dlq" });
    el.append(h("div", { class: "panel-col scroll pad-panel" },
      h("div", { class: "section-title" }, "Subscribers"), this.table,
      h("div", { class: "row section-title" }, h("span", {}, "Dead letters"), this.step ? h("span", { class: "filter-note" }, "step ", h("code", {}, this.step), " ", h("a", { href: "#/queues" }, "show all")) : null), this.dlq));
    await this.refresh();
    this.timer = setInterval(() => this.refresh(), 4000);
  },
  async refresh() {
    let queues;
    let letters;
    try {
      [queues, letters] = await Promise.all([api("/queues"), api(`/dlq?limit=500${this.step ? `&step=${enc(this.step)}` : ""}`)]);
    } catch (err) { fill(this.table, errorBox(err)); return; }
    cache.queues = queues.items;
    const num = (n, cls = "") => h("td", { class: `num ${n ? cls : "zero"}` }, String(n));
    fill(this.table, queues.items.length ? h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Step", "Type", "Waiting", "In flight", "Delayed (retries)", "Dead", "Max retries", "Concurrency", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, queues.items.map((q) => h("tr", { "data-step": q.step, class: q.dead ? "row-dead" : "" },
        h("td", {}, h("a", { href: `#/queues/${enc(q.step)}` }, q.step)), h("td", {}, q.type),
        num(q.waiting), num(q.inFlight, "info"), num(q.delayed, "warn"), num(q.dead, "bad"), h("td", { class: "num" }, String(q.maxRetries)), h("td", { class: "num" }, String(q.concurrency)),
        h("td", { class: "actions" }, q.dead ? [
          h("button", { class: "btn small", "data-action": "redrive-step", onclick: () => this.act("redrive", { step: q.step }, `Redrive all ${q.dead} dead letter(s) of ${q.step}?`) }, "Redrive all"),
          h("button", { class: "btn small ghost danger", onclick: () => this.act("purge", { step: q.step }, `Delete all ${q.dead} dead letter(s) of ${q.step} for good?`) }, "Purge")] : null)))))
      : empty("No event subscribers", "Event steps get a queue each."));
    fill(this.dlq, letters.items.length ? h("table", { class: "table", id: "dlq-table" },
      h("thead", {}, h("tr", {}, ["Failed", "Step", "Topic", "Attempts", "Error", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, letters.items.map((d) => h("tr", { "data-id": d.id, class: "clickable", onclick: (e) => { if (!e.target.closest("button, a")) this.inspect(d); } },
        h("td", { class: "nowrap" }, fmtAgo(d.failedAt * 1000)), h("td", {}, d.step), h("td", {}, h("code", {}, d.topic)), h("td", { class: "num" }, String(d.attempts)),
        h("td", { class: "error-cell" }, h("div", { class: "err-text" }, d.error || ""), h("div", { class: "muted small" }, d.reason || "")),
        h("td", { class: "actions" },
          h("button", { class: "btn small", onclick: () => this.inspect(d) }, "Inspect"),
          h("button", { class: "btn small primary", "data-action": "redrive", onclick: () => this.act("redrive", { ids: [d.id] }) }, "Redrive"))))))
      : empty(this.step ? `No dead letters for ${this.step}` : "No dead letters", "An event whose handler fails after its last retry lands here, with its error."));
    setBadge("queues", queues.items.reduce((s, q) => s + (q.dead || 0), 0), "dead letters");
  },
  inspect(d) {
    drawer.open(h("span", { class: "drawer-title-row" }, h("span", { class: "badge status-dead" }, "dead letter"), h("span", {}, d.step)),
      h("dl", { class: "facts" },
        h("dt", {}, "Topic"), h("dd", {}, h("code", {}, d.topic)),
        h("dt", {}, "Attempts"), h("dd", {}, String(d.attempts)),
        h("dt", {}, "Reason"), h("dd", {}, d.reason || "—"),
        h("dt", {}, "Failed at"), h("dd", {}, fmtDate(d.failedAt * 1000)),
        h("dt", {}, "Trace"), h("dd", {}, d.traceId ? h("a", { href: `#/traces/${enc(d.traceId)}`, onclick: () => drawer.close() }, d.traceId) : "—"),
        h("dt", {}, "Id"), h("dd", {}, h("code", {}, d.id))),
      h("div", { class: "error-card" }, h("div", { class: "error-title" }, "Error"), h("div", { class: "error-msg" }, d.error || "—"),
        d.stack ? stackView(d.stack, cache.flows && cache.flows.projectDir) : null),
      h("h3", {}, "Payload"), jsonView(d.data),
      h("div", { class: "row gap" },
        h("button", { class: "btn primary", onclick: async () => { await this.act("redrive", { ids: [d.id] }); drawer.close(); } }, "Redrive this event"),
        h("button", { class: "btn danger ghost", onclick: async () => { await this.act("purge", { ids: [d.id] }, "Delete this dead letter for good?"); drawer.close(); } }, "Purge")));
  },
  async act(action, selection, question) {
    if (question && !confirm(question)) return;
    try {
      const result = await api(`/dlq/${action}`, { method: "POST", json: selection });
      toast(action === "redrive" ? `Redriven: ${result.redriven} event(s) queued again` : `Purged ${result.purged} dead letter(s)`, "ok");
    } catch (err) { toast(err.message, "error"); }
    await this.refresh();
    refreshBadgesSoon();
  },
  route(arg) { this.step = arg; render(true); },
  onLive(kind) { if (kind === "span") (this.soon ||= debounce(() => this.table && this.refresh(), 500))(); },
  unmount() { clearInterval(this.timer); this.table = null; },
};

// --- Cron --------------------------------------------------------------------------------
const Cron = {
  title: "Cron",
  runs: {},
  async mount(el) {
    this.grid = h("div", { class: "cron-grid", id: "cron-list" });
    el.append(h("div", { class: "panel-col scroll pad-panel" }, this.grid));
    await this.refresh();
    this.timer = setInterval(() => this.tick(), 1000);
    this.poll = setInterval(() => this.refresh(), 15000);
  },
  async refresh() {
    const items = (await api("/cron")).items;
    this.items = items;
    clear(this.grid);
    if (!items.length) { this.grid.append(empty("No cron steps", "A cron step has type \"cron\" and a cron expression.")); return; }
    for (const job of items) {
      const run = this.runs[job.name];
      this.grid.append(h("div", { class: "card cron-card", "data-cron": job.name },
        h("div", { class: "row gap" }, typeBadge("cron"), h("b", { class: "cron-name" }, job.name), h("div", { class: "spacer" }),
          h("button", { class: "btn primary small", "data-action": "run-now", onclick: (e) => this.run(job, e.target) }, "▶ Run now")),
        h("div", { class: "cron-expr-big" }, h("code", {}, job.expression), h("span", { class: "cron-words" }, job.description)),
        h("dl", { class: "facts compact" },
          h("dt", {}, "Next run"), h("dd", {}, h("span", { class: "countdown", "data-at": Date.parse(job.nextRun) }, fmtIn(Date.parse(job.nextRun))), h("span", { class: "muted small" }, ` · ${fmtDateIn(Date.parse(job.nextRun), job.timezone)} ${job.timezone}`)),
          h("dt", {}, "Last run"), h("dd", {}, job.lastRun ? [fmtAgo(Date.parse(job.lastRun)), h("span", { class: "muted small" }, ` · ${fmtDateIn(Date.parse(job.lastRun), job.timezone)} ${job.timezone}`)] : h("span", { class: "muted" }, "not yet")),
          h("dt", {}, "Flows"), h("dd", {}, job.flows.length ? job.flows.join(", ") : "—")),
        run ? h("div", { class: "cron-run" }, "Ran manually ", fmtAgo(run.at), " → ", h("a", { href: `#/traces/${enc(run.traceId)}`, class: "run-trace" }, `trace ${short(run.traceId)}`)) : null));
    }
  },
  tick() { for (const el of this.grid.querySelectorAll(".countdown")) el.textContent = fmtIn(Number(el.dataset.at)); if ([...this.grid.querySelectorAll(".countdown")].some((e) => Number(e.dataset.at) < Date.now() - 1500)) (this.soon ||= debounce(() => this.refresh(), 800))(); },
  async run(job, button) {
    button.disabled = true;
    try {
      const result = await api(`/cron/${enc(job.name)}/run`, { method: "POST" });
      this.runs[job.name] = { traceId: result.traceId, at: Date.now() };
      toast(`${job.name} ran`, "ok");
    } catch (err) { toast(err.message, "error"); }
    await this.refresh();
  },
  unmount() { clearInterval(this.timer); clearInterval(this.poll); },
};

// --- shell ------------------------------------------------------------------------------
const PANELS = { flows: Flows, endpoints: Endpoints, logs: Logs, traces: Traces, state: State, streams: Streams, queues: Queues, cron: Cron };
let current = { name: null, arg: null };

function buildTabs() {
  const tabs = $("#tabs");
  for (const [name, panel] of Object.entries(PANELS)) {
    tabs.append(h("a", { class: "tab", id: `tab-${name}`, href: `#/${name}`, role: "tab", "data-panel": name },
      panel.title, h("span", { class: "tab-badge", hidden: true })));
  }
}

async function render(force = false) {
  if (tokenScreenShown) return;
  const { panel, arg, query } = parseHash();
  const name = PANELS[panel] ? panel : "flows";
  const module = PANELS[name];
  if (!force && current.name === name && module.route && current.arg !== arg) {
    current.arg = arg;
    module.route(arg, query);
    return;
  }
  if (!force && current.name === name && current.arg === arg && current.query === query.toString()) return;
  if (current.name && PANELS[current.name].unmount) PANELS[current.name].unmount();
  current = { name, arg, query: query.toString() };
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.panel === name);
  document.title = `${module.title} · Motia Workbench`;
  drawer.close();
  const main = clear($("#main"));
  const el = h("div", { class: `panel panel-${name}`, id: `panel-${name}` });
  main.append(el);
  try {
    await module.mount(el, arg, query);
  } catch (err) {
    if (err.status !== 401) el.append(errorBox(err));
  }
}

live.on((kind, data) => {
  const module = PANELS[current.name];
  if (module && module.onLive) module.onLive(kind, data);
  if (kind === "span" && data.status !== "running") refreshBadgesSoon();
});

async function start() {
  buildTabs();
  try {
    await api("/queues");
  } catch (err) {
    if (err.status === 401) return;
  }
  live.start();
  refreshBadges();
  setInterval(refreshBadges, 10000);
  window.addEventListener("hashchange", () => render());
  render();
}
start();
