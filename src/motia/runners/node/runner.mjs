// The Node runner: runs a project's JavaScript and TypeScript steps for the Motia server, many
// invocations at once, speaking the protocol of docs/runner-protocol.md on the socket whose
// file descriptor is in MOTIA_RUNNER_FD. Started as `node runner.mjs` in the project root.
//
// It has no npm dependencies of its own: what it needs from npm (zod, a TypeScript transpiler
// when Node cannot strip types) comes from the project's node_modules.

import Module from 'node:module'
import path from 'node:path'
import { openChannel } from './channel.mjs'
import { captureConsole } from './console_capture.mjs'
import { createCalls, unawaitedCallFailure } from './context.mjs'
import { errorInfo } from './errors.mjs'
import { createInvoker } from './invoke.mjs'
import { createLoader } from './loader.mjs'
import { createTranspiler } from './transpile.mjs'
import { createSchemaConverter } from './zod_schema.mjs'

const PROTOCOL = 1

function complain(message) {
  process.stderr.write(`motia node runner: ${message}\n`)
}

const fd = Number(process.env.MOTIA_RUNNER_FD)
if (!process.env.MOTIA_RUNNER_FD || !Number.isInteger(fd) || fd < 0) {
  complain('MOTIA_RUNNER_FD must hold the file descriptor of the protocol socket; ' +
    'the runner is started by the Motia server, not by hand')
  process.exit(2)
}
// Not for the processes steps start: the descriptor means nothing to them.
delete process.env.MOTIA_RUNNER_FD

const projectDir = path.resolve(process.env.MOTIA_PROJECT_DIR || process.cwd())

// Stack traces of transpiled TypeScript point at TypeScript lines (inline source maps).
process.setSourceMapsEnabled(true)

// A Node that can strip TypeScript types, for a runner Node that cannot (the motia-python[node]
// extra's, named by the server).
const serviceNode = process.env.MOTIA_TS_NODE || null
delete process.env.MOTIA_TS_NODE
const transpiler = createTranspiler(projectDir, { serviceNode })
transpiler.registerCommonJs()
if (typeof Module.register === 'function') {
  Module.register('./esm_hooks.mjs', {
    parentURL: import.meta.url,
    data: { projectDir, serviceNode },
  })
}
const loader = createLoader({
  projectDir,
  transpiler,
  toJsonSchema: createSchemaConverter(projectDir),
})

let shuttingDown = false
let loadsInFlight = Promise.resolve()

let channel
try {
  channel = openChannel(fd, {
    onFrame: dispatch,
    // The server is gone: nobody is left to answer, so stop at once.
    onClose: () => process.exit(0),
    onFatal: (error) => {
      complain(error.message)
      process.exit(1)
    },
  })
} catch (error) {
  complain(`cannot open the protocol socket on fd ${fd}: ${error.message}`)
  process.exit(2)
}
const calls = createCalls(channel)
const invoker = createInvoker({ channel, loader, calls })
captureConsole(invoker.currentId, calls.sendLog)

// A step's stray exception or rejection (a timer that throws, a promise nobody awaits) must not
// take down the invocations of every other step.
process.on('uncaughtException', (error) => {
  const inv = invoker.currentId()
  complain(`uncaught exception${inv === null ? '' : ` in invocation ${inv}`}: ` +
    (errorInfo(error).stack ?? errorInfo(error).message))
})
process.on('unhandledRejection', (reason) => {
  // A context call that failed and that the handler never awaited (`emit(…)` without
  // `await`): a warning in the log of its invocation, where the step's author will look.
  const call = unawaitedCallFailure(reason)
  if (call) {
    const message = `${call.method} failed and the handler did not await it: ${reason.message}`
    calls.sendLog(call.inv, 'warn', message, null)
    return
  }
  const inv = invoker.currentId()
  complain(`unhandled promise rejection${inv === null ? '' : ` in invocation ${inv}`}: ` +
    (errorInfo(reason).stack ?? errorInfo(reason).message))
})

function dispatch(frame) {
  switch (frame.t) {
    case 'ok':
    case 'err':
      calls.answer(frame)
      return
    case 'invoke':
      if (shuttingDown) {
        channel.send({ t: 'err', re: frame.id, error: { message: 'the runner is shutting down' } })
        return
      }
      invoker.invoke(frame).catch((error) => complain(`invoke ${frame.id}: ${error.stack}`))
      return
    case 'load':
      load(frame)
      return
    case 'cancel':
      invoker.cancel(frame.re)
      return
    case 'ping':
      // Answered from the event loop: no answer means a handler is blocking it.
      channel.send({ t: 'ok', re: frame.id, value: null })
      return
    case 'shutdown':
      shutdown()
      return
    default:
      // Unknown frame types are ignored, so that later protocol versions can add some.
  }
}

function load(frame) {
  const { id, files } = frame
  if (!Array.isArray(files) || files.some((file) => typeof file !== 'string')) {
    channel.send({ t: 'err', re: id, error: { message: '`files` must be a list of paths' } })
    return
  }
  // Loads run one after the other: a file loaded twice must not be imported concurrently.
  loadsInFlight = loadsInFlight.then(async () => {
    try {
      channel.send({ t: 'ok', re: id, value: await loader.load(files) })
    } catch (error) {
      channel.send({ t: 'err', re: id, error: errorInfo(error) })
    }
  })
}

async function shutdown() {
  if (shuttingDown) return
  shuttingDown = true
  await loadsInFlight
  await invoker.idle()
  await channel.end()
  process.exit(0)
}

channel.send({
  t: 'hello',
  protocol: PROTOCOL,
  runtime: 'node',
  version: process.version,
  pid: process.pid,
})
