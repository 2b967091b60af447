// The Streams panel: stream items by group, updated live.
import { api } from "./api.js";
import { clear, empty, errorBox, fill, h, highlightJson, jsonView } from "./dom.js";
import { enc, fmtClock } from "./format.js";
import { render } from "./router.js";

export const Streams = {
  title: "Streams",
  async mount(el, arg) {
    const [name, ...rest] = arg ? arg.split("/") : [""];
    this.name = name;
    this.group = rest.join("/");
    this.nav = h("div", { class: "list", id: "stream-list" });
    this.body = h("div", { class: "pane-body" });
    el.append(h("div", { class: "split" }, h("aside", { class: "sidebar" }, this.nav), h("section", { class: "pane" }, this.body)));
    await this.loadStreams();
    if (this.name && this.group) await this.loadGroup();
    else this.body.append(empty("Select a stream group", "Streams push data to clients live; their items change here as steps write them."));
  },
  async loadStreams() {
    const streams = (await api("/streams")).items;
    this.streams = streams;
    clear(this.nav);
    if (!streams.length) this.nav.append(empty("No streams", "A stream is a file ending in .stream.py (or _stream.py)."));
    for (const s of streams) {
      this.nav.append(h("div", { class: "tree" },
        h("div", { class: "tree-head" }, h("b", {}, s.name), h("span", { class: "muted small" }, s.ttl ? `TTL ${s.ttl} s` : "")),
        s.groups.length ? s.groups.map((g) => h("a", { class: `list-item sub${s.name === this.name && g === this.group ? " active" : ""}`, href: `#/streams/${enc(s.name)}/${enc(g)}`, "data-group": `${s.name}/${g}` }, h("code", {}, g)))
          : h("div", { class: "muted small pad" }, "No groups yet")));
    }
  },
  async loadGroup() {
    const stream = (this.streams || []).find((s) => s.name === this.name);
    let items;
    try { items = (await api(`/streams/${enc(this.name)}/${enc(this.group)}`)).items; } catch (err) { fill(this.body, errorBox(err)); return; }
    this.rows = new Map();
    this.tbody = h("tbody", {});
    for (const item of items) this.upsert(item, false);
    this.events = h("div", { class: "event-feed", id: "stream-events" }, h("div", { class: "muted empty-row" }, "Waiting for changes…"));
    fill(this.body, 
      h("div", { class: "pane-head" }, h("div", { class: "muted small" }, "Stream / group"), h("div", { class: "pane-title mono" }, `${this.name} / ${this.group}`)),
      h("table", { class: "table", id: "stream-items" }, h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Data"))), this.tbody),
      h("div", { class: "section-title" }, "Recent changes (live)"), this.events,
      stream && stream.schema ? h("details", { class: "schema" }, h("summary", {}, "Item schema"), jsonView(stream.schema)) : null);
  },
  upsert(item, flash) {
    const id = String(item.id);
    const row = h("tr", { "data-id": id, class: flash ? "flash" : "" }, h("td", { class: "mono key-cell" }, id), h("td", {}, h("pre", { class: "code inline" }, highlightJson(JSON.stringify(item)))));
    const old = this.rows.get(id);
    if (old) old.replaceWith(row); else this.tbody.prepend(row);
    this.rows.set(id, row);
  },
  onLive(kind, data) {
    if (kind !== "stream" || !this.nav) return;
    const known = (this.streams || []).find((s) => s.name === data.streamName);
    if (known && data.groupId && !known.groups.includes(data.groupId)) { known.groups.push(data.groupId); this.loadStreams(); }
    if (data.streamName !== this.name || data.groupId !== this.group || !this.tbody) return;
    const ev = data.event || {};
    if (ev.type === "create" || ev.type === "update") this.upsert({ ...(ev.data || {}), id: data.id ?? (ev.data || {}).id }, true);
    else if (ev.type === "delete") { const row = this.rows.get(String(data.id)); if (row) { row.remove(); this.rows.delete(String(data.id)); } }
    const placeholder = this.events.querySelector(".empty-row");
    if (placeholder) placeholder.remove();
    this.events.prepend(h("div", { class: "event-line" }, h("span", { class: "log-time" }, fmtClock(data.timestamp || Date.now())), h("span", { class: `badge ev-${ev.type}` }, ev.type || "event"), h("code", {}, String(data.id ?? "")), h("span", { class: "muted" }, JSON.stringify(ev.data ?? ev).slice(0, 160))));
    while (this.events.children.length > 50) this.events.lastChild.remove();
  },
  route(arg) { this.mountArg = arg; render(true); },
  unmount() { this.nav = null; this.tbody = null; },
};
