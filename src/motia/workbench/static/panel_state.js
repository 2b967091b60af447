// The State panel: browse, edit and delete state by trace and key.
import { api } from "./api.js";
import { clear, empty, errorBox, fill, h, highlightJson } from "./dom.js";
import { enc, pretty } from "./format.js";
import { toast } from "./widgets.js";

export const State = {
  title: "State",
  async mount(el, arg) {
    this.group = arg || "";
    this.groupsEl = h("div", { class: "list", id: "state-groups" });
    this.body = h("div", { class: "pane-body" });
    const filter = h("input", { class: "input", type: "search", placeholder: "Filter groups", "aria-label": "Filter groups", oninput: () => {
      const q = filter.value.toLowerCase();
      for (const item of this.groupsEl.children) item.hidden = !(item.dataset.group || "").toLowerCase().includes(q);
    } });
    el.append(h("div", { class: "split" },
      h("aside", { class: "sidebar" }, h("div", { class: "sidebar-head" }, filter, h("button", { class: "btn ghost small", onclick: () => this.loadGroups() }, "Refresh")), this.groupsEl),
      h("section", { class: "pane" }, this.body)));
    await this.loadGroups();
    if (this.group) await this.loadGroup();
    else this.body.append(empty("Select a group", "State is a key/value store grouped by a name (often a trace id)."));
  },
  async loadGroups() {
    const groups = (await api("/state")).items;
    clear(this.groupsEl);
    if (!groups.length) this.groupsEl.append(empty("No state yet"));
    for (const g of groups) this.groupsEl.append(h("a", { class: `list-item${g === this.group ? " active" : ""}`, href: `#/state/${enc(g)}`, "data-group": g }, h("code", {}, g)));
  },
  async loadGroup() {
    const group = this.group;
    let items;
    try { items = (await api(`/state/${enc(group)}`)).items; } catch (err) { fill(this.body, errorBox(err)); return; }
    const entries = Array.isArray(items) ? items.map((v, i) => [String(i), v]) : Object.entries(items || {});
    this.editor = h("div", { class: "editor-slot" });
    fill(this.body, 
      h("div", { class: "pane-head row" }, h("div", {}, h("div", { class: "muted small" }, "Group"), h("div", { class: "pane-title mono" }, group)),
        h("div", { class: "spacer" }), h("button", { class: "btn primary", onclick: () => this.edit(null, {}) }, "+ New key")),
      this.editor,
      entries.length ? h("table", { class: "table", id: "state-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, "Value"), h("th"))),
        h("tbody", {}, entries.map(([key, value]) => h("tr", { "data-key": key },
          h("td", { class: "mono key-cell" }, key),
          h("td", {}, h("pre", { class: "code inline" }, highlightJson(JSON.stringify(value, null, 1).replace(/\n\s*/g, " ").slice(0, 400)))),
          h("td", { class: "actions" },
            h("button", { class: "btn small", onclick: () => this.edit(key, value) }, "Edit"),
            h("button", { class: "btn small danger ghost", onclick: () => this.remove(key) }, "Delete"))))))
        : empty("This group is empty"));
  },
  edit(key, value) {
    const keyInput = h("input", { class: "input mono", placeholder: "key", value: key ?? "", disabled: key !== null, "aria-label": "Key" });
    const text = h("textarea", { class: "input code-input", rows: 10, spellcheck: "false", id: "state-editor", "aria-label": "Value (JSON)" });
    text.value = pretty(value);
    const message = h("div", { class: "field-error", id: "state-error" });
    const save = h("button", { class: "btn primary", id: "state-save", onclick: async () => {
      let parsed;
      try { parsed = JSON.parse(text.value); } catch (err) { message.textContent = `Not valid JSON: ${err.message}`; return; }
      const k = keyInput.value.trim();
      if (!k) { message.textContent = "A key is required."; return; }
      try {
        await api(`/state/${enc(this.group)}/${enc(k)}`, { method: "PUT", body: JSON.stringify(parsed), headers: { "content-type": "application/json" } });
      } catch (err) { message.textContent = err.message; return; }
      toast(`Saved ${this.group} / ${k}`, "ok");
      await this.loadGroup();
    } }, "Save");
    text.addEventListener("input", () => {
      try { JSON.parse(text.value); message.textContent = ""; save.disabled = false; } catch (err) { message.textContent = `Not valid JSON: ${err.message}`; save.disabled = true; }
    });
    fill(this.editor, h("div", { class: "card editor" },
      h("div", { class: "row gap" }, h("b", {}, key === null ? "New value" : "Edit value"), keyInput),
      text, message,
      h("div", { class: "row gap" }, save, h("button", { class: "btn ghost", onclick: () => clear(this.editor) }, "Cancel"))));
    text.focus();
  },
  async remove(key) {
    if (!confirm(`Delete ${this.group} / ${key}?`)) return;
    await api(`/state/${enc(this.group)}/${enc(key)}`, { method: "DELETE" });
    toast(`Deleted ${key}`, "ok");
    await this.loadGroup();
  },
  route(arg) { this.group = arg; for (const i of this.groupsEl.children) i.classList.toggle("active", i.dataset.group === arg); this.loadGroup(); },
};
