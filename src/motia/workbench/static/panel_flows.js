// The Flows panel: pick a flow and see its graph.
import { api } from "./api.js";
import { empty, h, TYPE_LABEL } from "./dom.js";
import { enc } from "./format.js";
import { drawGraph } from "./graph.js";
import { go, render } from "./router.js";
import { cache, loadFlows, refreshBadges } from "./store.js";
import { toast } from "./widgets.js";

export const Flows = {
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
