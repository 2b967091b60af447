// The drawer that shows one step: its config, schemas, source and links to its runs.
import { api } from "./api.js";
import { errorBox, h, jsonView, langBadge, sourceView, typeBadge } from "./dom.js";
import { enc } from "./format.js";
import { cache } from "./store.js";
import { drawer } from "./widgets.js";

export async function openStep(name) {
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
