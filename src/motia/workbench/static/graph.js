// The flow graph of the Flows panel: nodes to drag, edges, dead-letter marks and zoom.
import { api } from "./api.js";
import { clear, LANG, TYPE_LABEL } from "./dom.js";
import { enc } from "./format.js";
import { edgePath, labelPoint, layout, NODE_H, NODE_W, svg } from "./layout.js";
import { openStep } from "./step_drawer.js";
import { cache, refreshBadges } from "./store.js";
import { toast } from "./widgets.js";

export function drawGraph(container, flow, queues) {
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

  // What a state or stream trigger watches (its queue topic is an internal one).
  function changeSource(trigger) {
    if (trigger.type === "state") return `on state ${[trigger.group, trigger.key].filter(Boolean).join("/") || "(any)"}`;
    if (trigger.type === "stream") return `on stream ${[trigger.streamName, trigger.groupId].filter(Boolean).join("/")}`;
    return null;
  }

  function nodeView(node) {
    const dead = deadBy().get(node.id) || 0;
    const watched = node.trigger ? changeSource(node.trigger) : null;
    const subtitle = watched ? [watched]
      : node.type === "api"
      ? [svg("tspan", { class: `method method-${(node.method || "").toLowerCase()}` }, node.method || ""), svg("tspan", { dx: 6 }, node.path || "")]
      : node.type === "cron" ? [svg("tspan", { class: "cron-expr" }, node.cron)]
        : node.type === "event" ? [`on ${(node.subscribes || []).join(", ")}`]
          : ["external / manual step"];
    // A 1.0-form trigger's condition: the run happens only when it says yes.
    if (node.trigger && node.trigger.condition) subtitle.push(svg("tspan", { class: "node-cond", dx: 6 }, `if ${node.trigger.condition}`));
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
