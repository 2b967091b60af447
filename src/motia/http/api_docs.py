"""GET /__motia/openapi.json (the document `motia generate openapi` writes) and
GET /__motia/docs (a self-contained page that lists and tries the operations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from motia import jsoncodec
from motia.openapi import DEFAULT_VERSION, build_openapi
from motia.system_paths import SYSTEM_PREFIX

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime


class ApiDocs:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{SYSTEM_PREFIX}/openapi.json", self.openapi),
            Route(f"{SYSTEM_PREFIX}/docs", self.docs),
        ]

    async def openapi(self, request: Request) -> Response:
        # Built per request: in `motia dev` the steps change as files are edited.
        runtime = self.runtime
        document = build_openapi(
            runtime.project.steps,
            title=runtime.settings.project_dir.name,
            version=DEFAULT_VERSION,
            auth_required=runtime.settings.auth.required,
        )
        return Response(jsoncodec.dumps(document), media_type="application/json")

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(DOCS_PAGE)


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs</title>
<link rel="icon" href="/__motia/favicon.svg" type="image/svg+xml">
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { background: #1d2330; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 18px; }
  header small { opacity: .7; }
  main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }
  h2.tag { font-size: 15px; margin: 24px 0 8px; text-transform: none; }
  details.op { background: #fff; border: 1px solid #dfe2e8; border-radius: 6px; margin: 6px 0; }
  details.op > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px;
    align-items: center; list-style: none; }
  .method { font-weight: 700; font-family: ui-monospace, monospace; min-width: 64px;
    text-align: center; border-radius: 4px; color: #fff; padding: 2px 6px; font-size: 12px; }
  .GET { background: #2f7dd1; } .POST { background: #2e9b62; } .PUT { background: #c78a12; }
  .PATCH { background: #8a5cc7; } .DELETE { background: #c7423b; }
  .HEAD, .OPTIONS { background: #6b7280; }
  .path { font-family: ui-monospace, monospace; font-weight: 600; }
  .summary { color: #555; }
  .body { padding: 4px 16px 16px; border-top: 1px solid #eef0f3; }
  pre { background: #f3f4f6; padding: 8px; border-radius: 4px; overflow: auto; max-height: 320px; }
  table { border-collapse: collapse; } td, th { text-align: left; padding: 3px 10px 3px 0; }
  input, textarea { font: 13px ui-monospace, monospace; width: 100%; box-sizing: border-box; }
  textarea { min-height: 90px; }
  button { margin-top: 8px; padding: 5px 14px; cursor: pointer; }
  .err { color: #c7423b; }
</style>
</head>
<body>
<header><h1 id="title">API docs</h1><small id="meta"></small></header>
<main id="ops"><p>Loading <a href="openapi.json">openapi.json</a>...</p></main>
<script>
"use strict";
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
};
const pretty = (value) => JSON.stringify(value, null, 2);

function resolve(spec, schema) {
  if (schema && schema.$ref && schema.$ref.startsWith("#/components/schemas/")) {
    return spec.components.schemas[schema.$ref.slice(21)] || schema;
  }
  return schema;
}

function operationView(spec, method, path, op) {
  const body = el("div", { class: "body" });
  if (op.description) body.append(el("p", {}, op.description));
  body.append(el("p", {}, "operationId: ", el("code", {}, op.operationId || "")));
  const inputs = {};
  const params = op.parameters || [];
  if (params.length) {
    const table = el("table", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"),
      el("th", {}, "Value")));
    for (const p of params) {
      const input = el("input", { placeholder: p.description || p.name });
      inputs[p.in + ":" + p.name] = input;
      table.append(el("tr", {}, el("td", {}, p.name + (p.required ? " *" : "")),
        el("td", {}, p.in), el("td", {}, input)));
    }
    body.append(el("h4", {}, "Parameters"), table);
  }
  let bodyInput = null;
  const content = op.requestBody && op.requestBody.content["application/json"];
  if (content) {
    body.append(el("h4", {}, "Request body (application/json)"),
      el("pre", {}, pretty(content.schema)));
    // A body the schema accepts (its example, or its required fields filled in).
    bodyInput = el("textarea", { rows: 8 }, pretty(content.example ?? {}));
    body.append(bodyInput);
  }
  body.append(el("h4", {}, "Responses"));
  for (const [status, response] of Object.entries(op.responses || {})) {
    const schema = response.content && response.content["application/json"]
      ? resolve(spec, response.content["application/json"].schema) : null;
    body.append(el("div", {}, el("strong", {}, status + " "), response.description || ""));
    if (schema) body.append(el("pre", {}, pretty(schema)));
  }
  const output = el("pre", {}, "");
  const send = el("button", {}, "Send request");
  send.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const p of params) {
      const value = inputs[p.in + ":" + p.name].value;
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(value));
      else if (p.in === "query" && value !== "") query.append(p.name, value);
    }
    if ([...query].length) url += "?" + query;
    const init = { method, headers: {} };
    if (bodyInput) {
      init.body = bodyInput.value;
      init.headers["content-type"] = "application/json";
    }
    output.textContent = method + " " + url + " ...";
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      let shown = text;
      try { shown = pretty(JSON.parse(text)); } catch (e) { /* not JSON */ }
      output.textContent = res.status + " " + res.statusText + "  x-trace-id: " +
        (res.headers.get("x-trace-id") || "-") + "\\n\\n" + shown;
    } catch (e) {
      output.textContent = "request failed: " + e;
    }
  });
  body.append(el("h4", {}, "Try it"), send, output);
  return el("details", { class: "op" },
    el("summary", {}, el("span", { class: "method " + method }, method),
      el("span", { class: "path" }, path), el("span", { class: "summary" }, op.summary || "")),
    body);
}

async function main() {
  const ops = document.getElementById("ops");
  let spec;
  try {
    const res = await fetch("openapi.json");
    spec = await res.json();
  } catch (e) {
    ops.replaceChildren(el("p", { class: "err" }, "Could not load openapi.json: " + e));
    return;
  }
  document.title = spec.info.title + " - API docs";
  document.getElementById("title").textContent = spec.info.title;
  document.getElementById("meta").textContent =
    "version " + spec.info.version + " - OpenAPI " + spec.openapi + " - ";
  document.getElementById("meta").append(el("a", { href: "openapi.json", style: "color:#9cf" },
    "openapi.json"));
  const groups = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "default";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push([method.toUpperCase(), path, op]);
    }
  }
  ops.replaceChildren();
  if (!groups.size) ops.append(el("p", {}, "This project has no API steps."));
  for (const [tag, list] of groups) {
    ops.append(el("h2", { class: "tag" }, tag));
    for (const [method, path, op] of list) ops.append(operationView(spec, method, path, op));
  }
}
main();
</script>
</body>
</html>
"""
