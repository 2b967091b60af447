// Times, durations and ids as the panels show them.

export const pad = (n, w = 2) => String(n).padStart(w, "0");
export function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
export function fmtDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtClock(ms).slice(0, 8)}`;
}
// A moment as the wall clock of a time zone shows it (cron schedules keep their own zone).
export function fmtDateIn(ms, timeZone) {
  try {
    return new Date(ms).toLocaleString("sv-SE", { timeZone, hour12: false }).replace("T", " ");
  } catch { return fmtDate(ms); }
}
export function fmtAgo(ms) {
  const s = (Date.now() - ms) / 1000;
  if (s < 5) return "just now";
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return fmtDate(ms);
}
export function fmtIn(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.floor(s / 60)} min ${s % 60} s`;
  return `in ${Math.round(s / 3600)} h`;
}
export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "running…";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}
export const short = (id) => (id ? String(id).slice(0, 8) : "");
export const pretty = (v) => JSON.stringify(v, null, 2);
export const enc = encodeURIComponent;
