// Flow graph: a layered (Sugiyama-style) left-to-right layout drawn in SVG.
// 1. break cycles (depth-first search, back edges reversed), 2. layer by longest path
// from the sources, 3. long edges get dummy points in each layer they cross,
// 4. order each layer by barycenter sweeps (keeping the order with fewest crossings),
// 5. place layers in columns, nodes centred in their column.

export const NODE_W = 232;
export const NODE_H = 68;
const GAP_X = 170;
const GAP_Y = 34;
const DUMMY_H = 18;

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

export function layout(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const valid = edges.filter((e) => index.has(e.source) && index.has(e.target) && e.source !== e.target);

  // 1. cycle breaking
  const out = new Map(ids.map((id) => [id, []]));
  valid.forEach((e, i) => out.get(e.source).push(i));
  const reversed = new Set();
  const mark = new Map();
  const visit = (id) => {
    mark.set(id, 1);
    for (const i of out.get(id)) {
      const t = valid[i].target;
      if (mark.get(t) === 1) reversed.add(i);
      else if (!mark.get(t)) visit(t);
    }
    mark.set(id, 2);
  };
  const incoming = new Map(ids.map((id) => [id, 0]));
  valid.forEach((e) => incoming.set(e.target, incoming.get(e.target) + 1));
  for (const id of ids) if (incoming.get(id) === 0 && !mark.get(id)) visit(id);
  for (const id of ids) if (!mark.get(id)) visit(id);
  const dag = valid.map((e, i) => (reversed.has(i) ? { from: e.target, to: e.source, i } : { from: e.source, to: e.target, i }));

  // 2. longest path layering from the sources
  const layer = new Map(ids.map((id) => [id, 0]));
  const preds = new Map(ids.map((id) => [id, []]));
  dag.forEach((e) => preds.get(e.to).push(e.from));
  const memo = new Map();
  // `onPath` holds the nodes of the current recursion only: a node reached before by
  // another branch must still count, or a node whose predecessor was seen there would
  // land in the first column.
  const depth = (id, onPath = new Set()) => {
    if (memo.has(id)) return memo.get(id);
    onPath.add(id);
    let d = 0;
    for (const p of preds.get(id)) if (!onPath.has(p)) d = Math.max(d, depth(p, onPath) + 1);
    onPath.delete(id);
    memo.set(id, d);
    return d;
  };
  ids.forEach((id) => layer.set(id, depth(id)));
  // Isolated nodes (no edges) go to the first column; sinks stay where the path puts them.

  // 3. dummy points for edges that cross layers
  const layers = [];
  const put = (id, l) => { (layers[l] ||= []).push(id); };
  ids.forEach((id) => put(id, layer.get(id)));
  const chains = new Map(); // edge index -> [ids from source side to target side]
  const adjacency = []; // [upper, lower] between consecutive layers
  let dummyCount = 0;
  for (const e of dag) {
    const a = layer.get(e.from);
    const b = layer.get(e.to);
    const chain = [e.from];
    for (let l = a + 1; l < b; l++) {
      const d = `\u0000d${dummyCount++}`;
      layer.set(d, l);
      put(d, l);
      chain.push(d);
    }
    chain.push(e.to);
    for (let k = 0; k + 1 < chain.length; k++) adjacency.push([chain[k], chain[k + 1]]);
    chains.set(e.i, chain);
  }
  const up = new Map();
  const down = new Map();
  for (const [a, b] of adjacency) {
    (down.get(a) || down.set(a, []).get(a)).push(b);
    (up.get(b) || up.set(b, []).get(b)).push(a);
  }

  // 4. barycenter ordering (steps with no edges at all go last in the first column)
  for (let l = 0; l < layers.length; l++) layers[l] ||= [];
  const linked = (id) => up.has(id) || down.has(id);
  layers[0] = [...layers[0].filter(linked), ...layers[0].filter((id) => !linked(id))];
  const pos = new Map();
  const remember = () => layers.forEach((ls) => ls.forEach((id, i) => pos.set(id, i)));
  remember();
  const crossings = () => {
    let total = 0;
    for (let l = 0; l + 1 < layers.length; l++) {
      const pairs = [];
      for (const a of layers[l]) for (const b of down.get(a) || []) pairs.push([pos.get(a), pos.get(b)]);
      for (let i = 0; i < pairs.length; i++)
        for (let j = i + 1; j < pairs.length; j++)
          if ((pairs[i][0] - pairs[j][0]) * (pairs[i][1] - pairs[j][1]) < 0) total++;
    }
    return total;
  };
  const sweep = (l, neighbours) => {
    const score = new Map();
    layers[l].forEach((id, i) => {
      const ns = neighbours.get(id) || [];
      score.set(id, ns.length ? ns.reduce((s, n) => s + pos.get(n), 0) / ns.length : linked(id) ? i : 1e6 + i);
    });
    layers[l].sort((a, b) => score.get(a) - score.get(b));
    layers[l].forEach((id, i) => pos.set(id, i));
  };
  let best = layers.map((ls) => ls.slice());
  let bestCrossings = crossings();
  for (let iter = 0; iter < 8 && bestCrossings > 0; iter++) {
    if (iter % 2 === 0) for (let l = 1; l < layers.length; l++) sweep(l, up);
    else for (let l = layers.length - 2; l >= 0; l--) sweep(l, down);
    const c = crossings();
    if (c < bestCrossings) { bestCrossings = c; best = layers.map((ls) => ls.slice()); }
  }
  best.forEach((ls, l) => { layers[l] = ls; });
  remember();

  // 5. coordinates: columns left to right; in each column a node sits level with the
  // average of its neighbours (a forward, a backward and a forward pass), never overlapping.
  const height = (id) => (id.startsWith("\u0000") ? DUMMY_H : NODE_H);
  const at = new Map();
  layers.forEach((ls, l) => {
    let y = 0;
    for (const id of ls) { at.set(id, { x: l * (NODE_W + GAP_X), y }); y += height(id) + GAP_Y; }
  });
  const centre = (id) => at.get(id).y + height(id) / 2;
  const settle = (ls, neighbours) => {
    let floor = -Infinity;
    const wanted = ls.map((id) => {
      const ns = neighbours.get(id) || [];
      return ns.length ? ns.reduce((s, n) => s + centre(n), 0) / ns.length - height(id) / 2 : null;
    });
    ls.forEach((id, i) => {
      const y = Math.max(wanted[i] ?? (floor === -Infinity ? at.get(id).y : floor), floor);
      at.get(id).y = y;
      floor = y + height(id) + GAP_Y;
    });
  };
  for (let l = 1; l < layers.length; l++) settle(layers[l], up);
  for (let l = layers.length - 2; l >= 0; l--) settle(layers[l], down);
  for (let l = 1; l < layers.length; l++) settle(layers[l], up);
  const top = Math.min(0, ...[...at.values()].map((p) => p.y));
  for (const p of at.values()) p.y -= top;
  const points = new Map(); // edge index -> intermediate dummy points (centre of the column)
  for (const [i, chain] of chains) {
    const mids = chain.slice(1, -1).map((d) => ({ x: at.get(d).x + NODE_W / 2, y: at.get(d).y + DUMMY_H / 2 }));
    points.set(i, reversed.has(i) ? mids.reverse() : mids);
  }
  const result = new Map(ids.map((id) => [id, at.get(id)]));
  return { positions: result, via: (edge) => points.get(valid.indexOf(edge)) || [], crossings: bestCrossings };
}

// A smooth path from the right side of one box to the left side of another, through
// the dummy points in between. Backward edges loop around underneath.
export function edgePath(from, to, via = []) {
  const sx = from.x + NODE_W;
  const sy = from.y + NODE_H / 2;
  const tx = to.x;
  const ty = to.y + NODE_H / 2;
  if (tx <= sx - 10 && via.length === 0) {
    const below = Math.max(from.y, to.y) + NODE_H + 40;
    return `M${sx},${sy} C${sx + 80},${sy} ${sx + 80},${below} ${sx - 40},${below} L${tx + 40},${below} C${tx - 80},${below} ${tx - 80},${ty} ${tx},${ty}`;
  }
  const pts = [{ x: sx, y: sy }, ...via, { x: tx, y: ty }];
  let d = `M${pts[0].x},${pts[0].y}`;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i];
    const b = pts[i + 1];
    const dx = Math.max(40, (b.x - a.x) / 2);
    d += ` C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
  }
  return d;
}

// Where an edge's label sits: on the straight run into its target (distinct per target),
// or under the loop of a backward edge.
export function labelPoint(from, to, via = [], width = 100) {
  if (to.x <= from.x + NODE_W - 10 && via.length === 0) {
    return { x: (from.x + NODE_W + to.x) / 2, y: Math.max(from.y, to.y) + NODE_H + 40 };
  }
  const last = via.length ? via[via.length - 1] : { x: from.x + NODE_W, y: from.y + NODE_H / 2 };
  const room = to.x - last.x;
  const ty = to.y + NODE_H / 2;
  if (room >= width + 30) return { x: to.x - 16 - width / 2, y: ty };
  return { x: (last.x + to.x) / 2, y: (last.y + ty) / 2 };
}
