// Pieces every panel shares: the toast, the side drawer and the token screen.
import { TOKEN_KEY } from "./api.js";
import { $, append, fill, h } from "./dom.js";
import { live } from "./live.js";

export function toast(message, kind = "info") {
  const el = $("#toast");
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3500);
}

export const drawer = {
  open(title, ...body) {
    const el = $("#drawer");
    fill(el, 
      h("div", { class: "drawer-head" }, h("div", { class: "drawer-title" }, title),
        h("button", { class: "btn ghost icon", title: "Close (Esc)", "aria-label": "Close", onclick: () => drawer.close() }, "✕")),
      append(h("div", { class: "drawer-body" }), body));
    el.hidden = false;
  },
  close() { $("#drawer").hidden = true; },
};
document.addEventListener("keydown", (e) => { if (e.key === "Escape") drawer.close(); });

export let tokenScreenShown = false;
export function showTokenScreen(message) {
  if (tokenScreenShown) return;
  tokenScreenShown = true;
  live.stop();
  const input = h("input", { type: "password", class: "input", placeholder: "workbench token", autocomplete: "off", "aria-label": "Workbench token" });
  const submit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    location.reload();
  };
  fill($("#main"), h("div", { class: "token-screen", id: "token-screen" },
    h("form", { class: "card token-card", onsubmit: submit },
      h("div", { class: "token-lock", "aria-hidden": "true" }),
      h("h1", {}, "Token required"),
      h("p", {}, "This workbench is protected. Open it with ", h("code", {}, "/__motia/?token=…"),
        " or paste the token below. It is the value of ", h("code", {}, "MOTIA_WORKBENCH_TOKEN"),
        " (or ", h("code", {}, "workbench.token"), " in config.yml) on the server."),
      message ? h("p", { class: "token-error" }, message) : null,
      h("div", { class: "row" }, input, h("button", { class: "btn primary", type: "submit" }, "Open workbench")))));
  $("#tabs").classList.add("disabled");
  $("#live").className = "live off";
  $(".live-text", $("#live")).textContent = "Locked";
  input.focus();
}
