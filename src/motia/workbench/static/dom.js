// Building the page: elements, badges, empty and error boxes, JSON and source views.
import { pretty } from "./format.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
export const clear = (el) => { el.replaceChildren(); return el; };
export const fill = (el, ...children) => append(clear(el), children);
export const $ = (sel, root = document) => root.querySelector(sel);

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export function statusBadge(status) {
  const label = { ok: "ok", failed: "failed", dead: "dead", retrying: "retrying", running: "running", rejected: "rejected" }[status] || status;
  return h("span", { class: `badge status-${status}` }, label);
}
export const levelBadge = (level) => h("span", { class: `badge level-${level}` }, level);
export const typeBadge = (type) => h("span", { class: `badge type-${type}` }, type);
export const langBadge = (lang) => h("span", { class: "badge lang" }, LANG[lang] || lang || "?");
export const LANG = { python: "Python", typescript: "TypeScript", javascript: "JavaScript", ruby: "Ruby" };

export function empty(text, hint) {
  return h("div", { class: "empty" }, h("div", { class: "empty-title" }, text), hint ? h("div", { class: "empty-hint" }, hint) : null);
}
export function errorBox(error) {
  return h("div", { class: "error-box" }, String(error && error.message ? error.message : error));
}

// JSON and source code with a little colour.
export function jsonView(value) {
  return h("pre", { class: "code json" }, highlightJson(pretty(value)));
}
export function highlightJson(text) {
  const out = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index));
    if (m[1]) {
      out.push(h("span", { class: m[2] ? "tok-key" : "tok-str" }, m[1]));
      if (m[2]) out.push(m[2]);
    } else if (m[3]) out.push(h("span", { class: "tok-kw" }, m[3]));
    else out.push(h("span", { class: "tok-num" }, m[4]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}
export const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield " +
  "const let var function export default new typeof interface type extends implements null undefined this").split(" "));
export function sourceView(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  const code = [];
  const re = /(#[^\n]*|\/\/[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|`(?:\\.|[^`\\])*`|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(@[\w.]+)|\b([A-Za-z_]\w*)\b|\b(\d+(?:\.\d+)?)\b/g;
  let last = 0;
  const full = lines.join("\n");
  for (const m of full.matchAll(re)) {
    code.push(full.slice(last, m.index));
    if (m[1]) code.push(h("span", { class: "tok-com" }, m[1]));
    else if (m[2]) code.push(h("span", { class: "tok-str" }, m[2]));
    else if (m[3]) code.push(h("span", { class: "tok-dec" }, m[3]));
    else if (m[4]) code.push(KEYWORDS.has(m[4]) ? h("span", { class: "tok-kw" }, m[4]) : m[4]);
    else code.push(h("span", { class: "tok-num" }, m[5]));
    last = m.index + m[0].length;
  }
  code.push(full.slice(last));
  return h("div", { class: "source" },
    h("pre", { class: "gutter", "aria-hidden": "true" }, lines.map((_, i) => `${i + 1}\n`).join("")),
    h("pre", { class: "code src" }, code));
}

export const TYPE_LABEL = { api: "API", event: "Event", cron: "Cron", noop: "Noop" };
