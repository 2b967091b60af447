// The Cron panel: schedules and their next and last runs.
import { api } from "./api.js";
import { clear, debounce, empty, h, typeBadge } from "./dom.js";
import { enc, fmtAgo, fmtDateIn, fmtIn, short } from "./format.js";
import { toast } from "./widgets.js";

export const Cron = {
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
