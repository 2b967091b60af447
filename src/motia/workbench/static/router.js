// #/panel/argument?query — e.g. #/traces/<traceId>, #/logs?traceId=…
import { $, clear, errorBox, h } from "./dom.js";
import { drawer, tokenScreenShown } from "./widgets.js";

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [panel, ...rest] = path.split("/");
  return { panel: panel || "flows", arg: rest.length ? decodeURIComponent(rest.join("/")) : "", query: new URLSearchParams(query) };
}
export const go = (hash) => { location.hash = hash; };

// The panels by name; app.js registers them.
export const panels = {};
export let current = { name: null, arg: null };

export async function render(force = false) {
  if (tokenScreenShown) return;
  const { panel, arg, query } = parseHash();
  const name = panels[panel] ? panel : "flows";
  const module = panels[name];
  if (!force && current.name === name && module.route && current.arg !== arg) {
    current.arg = arg;
    module.route(arg, query);
    return;
  }
  if (!force && current.name === name && current.arg === arg && current.query === query.toString()) return;
  if (current.name && panels[current.name].unmount) panels[current.name].unmount();
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
