// Stream fan-out load generator: N WebSocket clients join one group of the `ticker` stream
// and report, as one JSON line, the latency of every update from its `sentAt` (set by the
// server's handler, in wall-clock nanoseconds) to receipt.
//   node bench/fanout_clients.mjs <port> <clients> <updates>
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const require = createRequire(new URL("../tests/streams/client/package.json", import.meta.url));
const WebSocket = require("ws");

const [port, clients, updates] = process.argv.slice(2).map(Number);
const latencies = [];
let joined = 0;
let finished = 0;
const nowNs = () => (performance.timeOrigin + performance.now()) * 1e6;

for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on("error", (e) => { console.error(String(e)); process.exit(1); });
  ws.on("open", () => ws.send(JSON.stringify({
    type: "join", data: { streamName: "ticker", groupId: "room", subscriptionId: `s${i}` },
  })));
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString());
    const type = frame.event.type;
    if (type === "sync") {
      if (++joined === clients) console.log(JSON.stringify({ ready: true }));
      return;
    }
    const data = frame.event.data || {};
    if ((type === "create" || type === "update") && data.n >= 0) {
      latencies.push((nowNs() - data.sentAt) / 1e6);
      if (data.n === updates - 1) {
        ws.close();
        if (++finished === clients) finish({ latencies });
      }
    }
  });
}
// Exit only once stdout is flushed: a pipe is written asynchronously.
function finish(result) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}
setTimeout(() => finish({ latencies, timeout: true }), 60000);
