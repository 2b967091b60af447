// The Logs panel: live and past log lines, filtered by level, step, flow or trace.
import { api } from "./api.js";
import { clear, debounce, errorBox, fill, h, highlightJson, levelBadge } from "./dom.js";
import { enc, fmtClock, pretty, short } from "./format.js";
import { live } from "./live.js";
import { go, render } from "./router.js";
import { allSteps, loadFlows } from "./store.js";

export const LEVELS = ["debug", "info", "warn", "error"];
export const BASE_FIELDS = new Set(["level", "time", "msg", "step", "traceId", "flows"]);
export const logKey = (r) => `${r.time}-${r.traceId || ""}-${(r.msg || "").length}-${(r.step || "").length}-${hashString(r.msg || "")}`;
export function hashString(s) { let x = 0; for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0; return (x >>> 0).toString(36); }

export function logRow(record, { compact = false } = {}) {
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
export function insertLogInOrder(list, record) {
  if (list.querySelector(`[data-key="${logKey(record)}"]`)) return;
  const placeholder = list.querySelector(".empty-row");
  if (placeholder) placeholder.remove();
  const entry = logRow(record, { compact: true });
  const later = [...list.children].find((el) => Number(el.dataset.time) > record.time);
  list.insertBefore(entry, later || null);
}

export const Logs = {
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
