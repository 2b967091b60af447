// The Endpoints panel: every API step, with a form to call it.
import { api } from "./api.js";
import { $, empty, errorBox, fill, h, jsonView, langBadge } from "./dom.js";
import { enc, fmtDuration, pretty, short } from "./format.js";
import { insertLogInOrder } from "./panel_logs.js";
import { allSteps, loadFlows } from "./store.js";
import { toast } from "./widgets.js";

export const Endpoints = {
  title: "Endpoints",
  async mount(el, arg) {
    const flows = await loadFlows();
    const steps = allSteps(flows).filter((s) => s.type === "api");
    if (!steps.length) { el.append(empty("No API steps", "An API step has type \"api\", a method and a path.")); return; }
    const selected = steps.find((s) => s.name === arg) || steps[0];
    const filter = h("input", { class: "input", placeholder: "Filter endpoints", "aria-label": "Filter endpoints", oninput: () => {
      const q = filter.value.toLowerCase();
      for (const item of list.children) item.hidden = !item.dataset.search.includes(q);
    } });
    const list = h("div", { class: "list" }, steps.map((s) => h("a", {
      class: `list-item endpoint-item${s.name === selected.name ? " active" : ""}`, href: `#/endpoints/${enc(s.name)}`,
      "data-search": `${s.method} ${s.path} ${s.name}`.toLowerCase(), "data-step": s.name },
    h("div", { class: "row" }, h("span", { class: `method method-${s.method.toLowerCase()}` }, s.method), h("code", { class: "path" }, s.path)),
    h("div", { class: "list-sub" }, s.name))));
    const detail = h("div", { class: "pane-body" });
    el.append(h("div", { class: "split" }, h("aside", { class: "sidebar" }, h("div", { class: "sidebar-head" }, filter), list), h("section", { class: "pane" }, detail)));
    this.renderBuilder(detail, selected);
  },
  async renderBuilder(el, summary) {
    let step;
    try { step = await api(`/steps/${enc(summary.name)}`); } catch (err) { el.append(errorBox(err)); return; }
    const names = [...step.path.matchAll(/[:{]([A-Za-z_][\w]*)\}?/g)].map((m) => m[1]);
    const pathInputs = names.map((n) => h("input", { class: "input", "data-param": n, placeholder: n, "aria-label": `path parameter ${n}`, oninput: () => preview() }));
    const rows = (items) => h("div", { class: "kv" }, items.map(([k, v]) => kvRow(k, v)));
    const kvRow = (k = "", v = "") => h("div", { class: "kv-row" },
      h("input", { class: "input kv-key", placeholder: "name", value: k, oninput: () => preview() }),
      h("input", { class: "input kv-value", placeholder: "value", value: v, oninput: () => preview() }),
      h("button", { class: "btn ghost icon", title: "Remove", onclick: (e) => { e.target.closest(".kv-row").remove(); preview(); } }, "✕"));
    const queryRows = rows((step.config.queryParams || []).map((q) => [q.name, ""]));
    const hasBody = !["GET", "HEAD", "DELETE"].includes(step.method);
    // Only a request with a body says what the body is.
    const headerRows = rows(hasBody ? [["content-type", "application/json"]] : []);
    const bodyExample = step.bodyExample ?? {};
    const body = h("textarea", { class: "input code-input", id: "request-body", rows: 9, spellcheck: "false", "aria-label": "Request body (JSON)" });
    body.value = hasBody ? pretty(bodyExample) : "";
    const bodyError = h("div", { class: "field-error" });
    body.addEventListener("input", () => {
      if (!body.value.trim()) { bodyError.textContent = ""; return; }
      try { JSON.parse(body.value); bodyError.textContent = ""; } catch (err) { bodyError.textContent = `Not valid JSON: ${err.message}`; }
    });
    const method = h("select", { class: "input method-select", "aria-label": "Method" },
      ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map((m) => h("option", { value: m, selected: m === step.method }, m)));
    const url = h("code", { class: "url-preview", id: "url-preview" });
    const pairs = (container) => [...container.querySelectorAll(".kv-row")].map((r) => [$(".kv-key", r).value.trim(), $(".kv-value", r).value]).filter(([k]) => k);
    const buildUrl = () => {
      let path = step.path;
      for (const input of pathInputs) {
        const value = input.value || `:${input.dataset.param}`;
        path = path.replace(new RegExp(`[:{]${input.dataset.param}\\}?`), input.value ? enc(value) : value);
      }
      const qs = new URLSearchParams(pairs(queryRows).filter(([, v]) => v !== "")).toString();
      return path + (qs ? `?${qs}` : "");
    };
    const preview = () => { url.textContent = `${location.origin}${buildUrl()}`; };
    preview();
    const response = h("div", { class: "response", id: "response" }, h("div", { class: "muted" }, "Send the request to see the response here."));
    const send = async () => {
      if (pathInputs.some((i) => !i.value)) { toast("Fill in every path parameter first", "error"); return; }
      const headers = Object.fromEntries(pairs(headerRows));
      const init = { method: method.value, headers };
      if (!["GET", "HEAD"].includes(method.value) && body.value.trim()) init.body = body.value;
      const started = performance.now();
      sendButton.disabled = true;
      fill(response, h("div", { class: "muted" }, "Sending…"));
      let res;
      let text;
      try {
        res = await fetch(buildUrl(), init);
        text = await res.text();
      } catch (err) {
        fill(response, errorBox(err));
        return;
      } finally { sendButton.disabled = false; }
      const elapsed = performance.now() - started;
      this.showResponse(response, res, text, elapsed);
    };
    const sendButton = h("button", { class: "btn primary", id: "send-request", onclick: send }, "Send");
    const section = (title, ...content) => h("div", { class: "section" }, h("div", { class: "section-title" }, title), content);
    fill(el, 
      h("div", { class: "pane-head" },
        h("div", { class: "row gap" }, h("span", { class: `method method-${step.method.toLowerCase()}` }, step.method), h("code", { class: "path big" }, step.path), langBadge(step.language)),
        h("div", { class: "pane-title" }, step.name), step.description ? h("p", { class: "muted" }, step.description) : null),
      h("div", { class: "request-bar" }, method, url, sendButton),
      h("div", { class: "builder" },
        h("div", { class: "builder-col" },
          names.length ? section("Path parameters", h("div", { class: "kv" }, pathInputs.map((i) => h("label", { class: "kv-row" }, h("span", { class: "kv-label" }, `:${i.dataset.param}`), i)))) : null,
          section("Query parameters", (step.config.queryParams || []).length ? h("div", { class: "hint" }, (step.config.queryParams || []).map((q) => h("div", {}, h("code", {}, q.name), q.description ? ` — ${q.description}` : ""))) : null,
            queryRows, h("button", { class: "btn ghost small", onclick: () => queryRows.append(kvRow()) }, "+ Add query parameter")),
          section("Headers", headerRows, h("button", { class: "btn ghost small", onclick: () => headerRows.append(kvRow()) }, "+ Add header")),
          section(hasBody ? "Body (JSON)" : "Body (JSON, not sent for GET/HEAD)", body, bodyError,
            step.schemas.body ? h("details", { class: "schema" }, h("summary", {}, "Body schema"), jsonView(step.schemas.body)) : null,
            Object.keys(step.schemas.responses || {}).length ? h("details", { class: "schema" }, h("summary", {}, "Response schemas"), jsonView(step.schemas.responses)) : null)),
        h("div", { class: "builder-col" }, section("Response", response))));
  },
  showResponse(el, res, text, elapsed) {
    let bodyNode;
    try { bodyNode = jsonView(JSON.parse(text)); } catch { bodyNode = h("pre", { class: "code" }, text || "(empty body)"); }
    const traceId = res.headers.get("x-trace-id");
    const klass = res.status < 300 ? "ok" : res.status < 400 ? "redirect" : res.status < 500 ? "client" : "server";
    const logs = h("div", { class: "log-list compact", id: "request-logs" });
    this.traceId = traceId;
    this.logTarget = logs;
    fill(el, 
      h("div", { class: "response-meta" },
        h("span", { class: `http-status http-${klass}`, id: "response-status" }, `${res.status} ${res.statusText}`),
        h("span", { class: "muted" }, fmtDuration(elapsed)),
        h("span", { class: "muted" }, `${text.length} bytes`),
        h("div", { class: "spacer" }),
        traceId ? h("a", { class: "btn small", id: "response-trace", href: `#/traces/${enc(traceId)}` }, `Trace ${short(traceId)} →`) : null),
      h("details", { class: "schema" }, h("summary", {}, `Headers (${[...res.headers].length})`),
        h("table", { class: "table small" }, h("tbody", {}, [...res.headers].map(([k, v]) => h("tr", {}, h("td", {}, h("code", {}, k)), h("td", {}, v)))))),
      bodyNode,
      traceId ? [h("div", { class: "section-title" }, "Log lines of this request (live)"), logs] : null);
    if (traceId) {
      api(`/logs?traceId=${enc(traceId)}&limit=200`).then((r) => {
        for (const record of r.items) insertLogInOrder(logs, record);
        if (!logs.children.length) logs.append(h("div", { class: "muted empty-row" }, "No log lines yet…"));
      }).catch(() => {});
    }
  },
  onLive(kind, data) {
    if (kind !== "log" || !this.traceId || data.traceId !== this.traceId || !this.logTarget) return;
    insertLogInOrder(this.logTarget, data);
  },
  unmount() { this.traceId = null; this.logTarget = null; },
};
