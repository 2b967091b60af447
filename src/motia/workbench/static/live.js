// The live feed (Server-Sent Events): logs, spans and stream changes as they happen.
import { API, token } from "./api.js";
import { $ } from "./dom.js";
import { enc } from "./format.js";
import { tokenScreenShown } from "./widgets.js";

export const live = {
  source: null,
  listeners: new Set(),
  start() {
    if (this.source) return;
    const url = `${API}/live${token() ? `?token=${enc(token())}` : ""}`;
    const source = new EventSource(url);
    this.source = source;
    const status = $("#live");
    source.onopen = () => { status.className = "live on"; $(".live-text", status).textContent = "Live"; };
    source.onerror = () => {
      status.className = "live off";
      $(".live-text", status).textContent = "Reconnecting…";
      if (source.readyState === EventSource.CLOSED) {
        this.source = null;
        setTimeout(() => { if (!tokenScreenShown) this.start(); }, 3000);
      }
    };
    for (const kind of ["log", "span", "stream"]) {
      source.addEventListener(kind, (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch { return; }
        for (const listener of this.listeners) {
          try { listener(kind, data); } catch (err) { console.error(err); }
        }
      });
    }
  },
  stop() { if (this.source) this.source.close(); this.source = null; },
  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); },
};
