// Motia Workbench: plain JavaScript modules, no build step, no network beyond this server.
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { live } from "./live.js";
import { Cron } from "./panel_cron.js";
import { Endpoints } from "./panel_endpoints.js";
import { Flows } from "./panel_flows.js";
import { Logs } from "./panel_logs.js";
import { Queues } from "./panel_queues.js";
import { State } from "./panel_state.js";
import { Streams } from "./panel_streams.js";
import { Traces } from "./panel_traces.js";
import { current, panels, render } from "./router.js";
import { refreshBadges, refreshBadgesSoon } from "./store.js";

Object.assign(panels, { flows: Flows, endpoints: Endpoints, logs: Logs, traces: Traces, state: State, streams: Streams, queues: Queues, cron: Cron });

function buildTabs() {
  const tabs = $("#tabs");
  for (const [name, panel] of Object.entries(panels)) {
    tabs.append(h("a", { class: "tab", id: `tab-${name}`, href: `#/${name}`, role: "tab", "data-panel": name },
      panel.title, h("span", { class: "tab-badge", hidden: true })));
  }
}

live.on((kind, data) => {
  const module = panels[current.name];
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
