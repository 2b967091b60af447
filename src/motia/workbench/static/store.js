// What the panels share: the flows and queues last fetched, and the tab badges.
import { api } from "./api.js";
import { $, debounce } from "./dom.js";

export const counts = { failedTraces: 0, dead: 0 };
export const refreshBadges = async () => {
  try {
    const [failed, queues] = await Promise.all([api("/traces?status=failed&limit=1000"), api("/queues")]);
    counts.failedTraces = failed.items.length;
    counts.dead = queues.items.reduce((s, q) => s + (q.dead || 0), 0);
    cache.queues = queues.items;
  } catch { return; }
  setBadge("traces", counts.failedTraces, `${counts.failedTraces} failed trace(s)`);
  setBadge("queues", counts.dead, `${counts.dead} dead letter(s)`);
};
export const refreshBadgesSoon = debounce(refreshBadges, 400);
export function setBadge(tab, count, title) {
  const badge = $(`#tab-${tab} .tab-badge`);
  if (!badge) return;
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  badge.title = title;
}

export const cache = { flows: null, queues: [] };
export async function loadFlows(force = false) {
  if (!cache.flows || force) cache.flows = await api("/flows");
  return cache.flows;
}
export function allSteps(flows) {
  const seen = new Map();
  for (const flow of flows.items) for (const step of flow.steps) if (!seen.has(step.name)) seen.set(step.name, step);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
