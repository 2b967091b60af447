// `console.log` and friends inside an invocation become `log` frames of that invocation, so a
// step's prints land in the server log with its trace. Outside invocations (module top level,
// timers of no invocation) they write to the real stdout/stderr as usual.

import util from 'node:util'

const LEVELS = { log: 'info', info: 'info', warn: 'warn', error: 'error', debug: 'debug' }

export function captureConsole(currentId, sendLog) {
  for (const [method, level] of Object.entries(LEVELS)) {
    const original = console[method].bind(console)
    console[method] = (...args) => {
      const inv = currentId()
      if (inv === null) return original(...args)
      sendLog(inv, level, util.format(...args), null)
    }
  }
}
