// The Queues panel: depth per step, scheduled emits to cancel, dead letters to inspect and redrive.
import { api } from "./api.js";
import { debounce, empty, errorBox, fill, h, jsonView } from "./dom.js";
import { enc, fmtAgo, fmtDate, fmtDuration } from "./format.js";
import { render } from "./router.js";
import { stackView } from "./stack.js";
import { cache, loadFlows, refreshBadgesSoon, setBadge } from "./store.js";
import { drawer, toast } from "./widgets.js";

export const Queues = {
  title: "Queues",
  async mount(el, arg) {
    await loadFlows().catch(() => null);
    this.step = arg || "";
    this.table = h("div", { id: "queue-table" });
    this.dlq = h("div", { id: "dlq" });
    this.scheduled = h("div", { id: "scheduled" });
    el.append(h("div", { class: "panel-col scroll pad-panel" },
      h("div", { class: "section-title" }, "Subscribers"), this.table,
      h("div", { class: "section-title" }, "Scheduled"), this.scheduled,
      h("div", { class: "row section-title" }, h("span", {}, "Dead letters"), this.step ? h("span", { class: "filter-note" }, "step ", h("code", {}, this.step), " ", h("a", { href: "#/queues" }, "show all")) : null), this.dlq));
    await this.refresh();
    this.timer = setInterval(() => this.refresh(), 4000);
  },
  async refresh() {
    let queues;
    let letters;
    let scheduled;
    try {
      [queues, letters, scheduled] = await Promise.all([api("/queues"), api(`/dlq?limit=500${this.step ? `&step=${enc(this.step)}` : ""}`), api("/scheduled?limit=200")]);
    } catch (err) { fill(this.table, errorBox(err)); return; }
    const mine = scheduled.items.filter((e) => !this.step || e.steps.includes(this.step));
    fill(this.scheduled, mine.length ? h("table", { class: "table", id: "scheduled-table" },
      h("thead", {}, h("tr", {}, ["Fires", "Topic", "Key", "Steps", "Trace", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, mine.map((e) => h("tr", { "data-id": e.id },
        h("td", { class: "nowrap", title: fmtDate(e.fireAt * 1000) }, fmtDate(e.fireAt * 1000)), h("td", {}, h("code", {}, e.topic)),
        h("td", {}, e.key ? h("code", {}, e.key) : "—"), h("td", {}, e.steps.join(", ")),
        h("td", {}, h("a", { href: `#/traces/${enc(e.traceId)}` }, e.traceId.slice(0, 12))),
        h("td", { class: "actions" }, h("button", { class: "btn small ghost danger", "data-action": "cancel-scheduled", onclick: () => this.cancel(e) }, "Cancel"))))))
      : empty("Nothing scheduled", "Emits given a delay, an at or a key wait here until they fire."));
    cache.queues = queues.items;
    const num = (n, cls = "") => h("td", { class: `num ${n ? cls : "zero"}` }, String(n));
    fill(this.table, queues.items.length ? h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Step", "Type", "Waiting", "Oldest waiting", "In flight", "Delayed (retries, scheduled)", "Dead", "Max retries", "Concurrency", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, queues.items.map((q) => h("tr", { "data-step": q.step, class: q.dead ? "row-dead" : "" },
        h("td", {}, h("a", { href: `#/queues/${enc(q.step)}` }, q.step)), h("td", {}, q.type),
        num(q.waiting), h("td", { class: `num ${q.oldestAge ? "" : "zero"}` }, q.oldestAge ? fmtDuration(q.oldestAge * 1000) : "–"), num(q.inFlight, "info"), num(q.delayed, "warn"), num(q.dead, "bad"), h("td", { class: "num" }, String(q.maxRetries)), h("td", { class: "num" }, String(q.concurrency)),
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
  async cancel(e) {
    if (!confirm(`Cancel the scheduled ${e.topic} emit?`)) return;
    try {
      const result = await api(`/scheduled/${enc(e.id)}`, { method: "DELETE" });
      toast(`Cancelled ${result.cancelled} copy(ies)`, "ok");
    } catch (err) { toast(err.message, "error"); }
    await this.refresh();
  },
  route(arg) { this.step = arg; render(true); },
  onLive(kind) { if (kind === "span") (this.soon ||= debounce(() => this.table && this.refresh(), 500))(); },
  unmount() { clearInterval(this.timer); this.table = null; },
};
