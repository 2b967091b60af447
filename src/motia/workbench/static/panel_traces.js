// The Traces panel: runs and their spans, with the logs of each trace.
import { api } from "./api.js";
import { clear, debounce, empty, errorBox, fill, h, statusBadge } from "./dom.js";
import { enc, fmtAgo, fmtClock, fmtDate, fmtDuration } from "./format.js";
import { logRow } from "./panel_logs.js";
import { stackView } from "./stack.js";
import { cache, loadFlows } from "./store.js";

export const Traces = {
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

// A request Motia refused before the handler ran: the answer's status and field errors.
export function rejectionCard(span) {
  return h("div", { class: "error-card rejected-card", id: "span-error" },
    h("div", { class: "error-title" }, `Rejected — ${span.httpStatus || ""} answered before the handler ran`),
    h("div", { class: "error-msg" }, span.error || ""),
    span.fieldErrors && span.fieldErrors.length ? h("table", { class: "table small field-errors" },
      h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "Problem"))),
      h("tbody", {}, span.fieldErrors.map((e) => h("tr", {}, h("td", {}, h("code", {}, e.field)), h("td", {}, e.message))))) : null);
}
