// Test driver for the published @motiadev/stream-client-node, spawned by tests/streams.
//
// Usage: node driver.mjs '<json config>'
//   config = {
//     url: 'ws://127.0.0.1:PORT',          // required
//     token?: 'abc',                       // sent as protocols ['Authorization', token]
//     seconds?: 30,                        // exit by itself after this long
//     events?: ['error'],                  // custom event types to listen for (default ['error'])
//     subscriptions?: [{ label, stream, group, id?, events? }],
//   }
// stdin takes one JSON command per line:
//   {"op": "subscribe", "label": ..., "stream": ..., "group": ..., "id"?: ..., "events"?: [...]}
//   {"op": "unsubscribe", "label": ...}      // subscription.close(): sends `leave`
//   {"op": "exit"}
// and the driver exits on stdin EOF.
//
// stdout gets one JSON object per line, each with `kind` and `t` (ms epoch):
//   {kind:'start'} {kind:'subscribed', label} {kind:'open', protocol} {kind:'close', code, reason}
//   {kind:'socket-error', code, message} {kind:'frame', frame}   (every frame received, parsed)
//   {kind:'state', label, state}          (a change listener call: the full new state)
//   {kind:'event', label, type, data}     (a custom event delivered through onEvent(type))
//   {kind:'unsubscribed', label} {kind:'close-error', message} {kind:'bad-command', line}
//   {kind:'uncaught', message} {kind:'exit', reason}
import { Stream } from '@motiadev/stream-client-node'
import { createInterface } from 'node:readline'

const config = JSON.parse(process.argv[2] ?? '{}')
if (!config.url) {
  process.stderr.write('driver.mjs: config.url is required\n')
  process.exit(2)
}
const seconds = Number(config.seconds ?? 30)
const defaultEvents = config.events ?? ['error']

const out = (kind, fields = {}) => {
  process.stdout.write(`${JSON.stringify({ kind, t: Date.now(), ...fields })}\n`)
}

process.on('uncaughtException', (err) => out('uncaught', { message: String(err?.stack ?? err) }))

// The node adapter never registers an 'error' listener on its `ws` socket: a refused
// connection or handshake would be an uncaught exception and the client would never
// reconnect. Attach one (and diagnostics) to every socket the client creates; createSocket
// runs from the base constructor and again 2 s after every close.
class DriverStream extends Stream {
  createSocket() {
    const adapter = super.createSocket()
    const ws = adapter.ws
    ws.on('open', () => out('open', { protocol: ws.protocol }))
    ws.on('close', (code, reason) => out('close', { code, reason: String(reason) }))
    ws.on('error', (err) => out('socket-error', { code: err.code ?? null, message: err.message }))
    return adapter
  }

  // Every frame, logged before the client routes it to its subscriptions.
  messageListener(raw) {
    let frame
    try {
      frame = JSON.parse(raw)
    } catch {
      frame = { unparsable: raw }
    }
    out('frame', { frame })
    super.messageListener(raw)
  }
}

const protocols = config.token ? ['Authorization', config.token] : undefined
const stream = new DriverStream(config.url, { protocols })
const subscriptions = new Map()

function subscribe(spec) {
  const { label, stream: name, group, id } = spec
  const sub = id == null ? stream.subscribeGroup(name, group) : stream.subscribeItem(name, group, id)
  sub.addChangeListener((state) => out('state', { label, state }))
  for (const type of spec.events ?? defaultEvents) {
    sub.onEvent(type, (data) => out('event', { label, type, data }))
  }
  subscriptions.set(label, sub)
  out('subscribed', { label })
}

let exiting = false
function shutdown(reason) {
  if (exiting) return
  exiting = true
  try {
    for (const sub of subscriptions.values()) sub.close()
    stream.close() // throws when the socket is still connecting
  } catch (err) {
    out('close-error', { message: err.message })
  }
  out('exit', { reason })
  setTimeout(() => process.exit(0), 100)
}

out('start', { url: config.url, token: config.token ?? null })
for (const spec of config.subscriptions ?? []) subscribe(spec)

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (!line.trim()) return
  let command
  try {
    command = JSON.parse(line)
  } catch {
    out('bad-command', { line })
    return
  }
  if (command.op === 'subscribe') subscribe(command)
  else if (command.op === 'unsubscribe') {
    subscriptions.get(command.label)?.close()
    subscriptions.delete(command.label)
    out('unsubscribed', { label: command.label })
  } else if (command.op === 'exit') shutdown('command')
  else out('bad-command', { line })
})
rl.on('close', () => shutdown('stdin closed'))
setTimeout(() => shutdown('timeout'), seconds * 1000)
