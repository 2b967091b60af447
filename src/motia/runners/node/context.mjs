// The handler context of one invocation, as classic Motia's TypeScript handlers know it:
// `{ emit, state, logger, traceId, flows, streams }`. Every function is a closure over its
// invocation, so handlers may destructure (`async (req, { emit, state }) => …`).
//
// Context calls become `call` frames; `calls` answers them. Logger calls become `log` frames.

import util from 'node:util'
import { errorInfo } from './errors.mjs'

const LEVELS = new Set(['debug', 'info', 'warn', 'error'])

// Marks the errors of failed context calls with their invocation and method, so that one the
// handler never awaited can be reported in that invocation's log (see `unawaitedCallFailure`).
const CALL = Symbol('motia context call')

function callError(error, invocation, method) {
  error[CALL] = { inv: invocation.id, method }
  return error
}

// For an unhandled rejection: `{inv, method}` when it is a context call that failed and that
// the handler did not await, else null.
export function unawaitedCallFailure(reason) {
  return (reason !== null && typeof reason === 'object' && reason[CALL]) || null
}

// Log fields as JSON: Errors (which JSON.stringify turns into `{}`) become {message, name,
// stack}; a value that is not an object is kept under `value`.
function logFields(fields) {
  if (fields === undefined || fields === null) return null
  if (fields instanceof Error) return { error: errorInfo(fields) }
  if (typeof fields !== 'object' || Array.isArray(fields)) return { value: fields }
  let out = fields
  for (const key of Object.keys(fields)) {
    if (fields[key] instanceof Error) {
      if (out === fields) out = { ...fields }
      out[key] = errorInfo(fields[key])
    }
  }
  return out
}

export function createCalls(channel) {
  const pending = new Map() // call id → {resolve, reject, method, invocation}
  let nextId = 0

  function sendLog(inv, level, msg, fields) {
    const frame = { t: 'log', inv, level, msg, fields }
    try {
      channel.send(frame)
    } catch (error) {
      // Fields that are not JSON (a cycle, a BigInt): send what can be shown of them.
      frame.fields = { unserialisable: util.inspect(fields, { depth: 4 }), reason: error.message }
      channel.send(frame)
    }
  }

  // A call of invocation `invocation`: a promise settled by the server's answer. The invocation
  // counts it until then, so that its answer can wait for calls the handler did not await.
  function call(invocation, method, args) {
    const id = ++nextId
    return new Promise((resolve, reject) => {
      try {
        channel.send({ t: 'call', id, inv: invocation.id, method, args })
      } catch (error) {
        const message = `${method}: the arguments cannot be sent as JSON (${error.message})`
        reject(callError(new TypeError(message), invocation, method))
        return
      }
      pending.set(id, { resolve, reject, method, invocation })
      invocation.outstanding += 1
    })
  }

  function answer(frame) {
    const entry = pending.get(frame.re)
    if (entry === undefined) return
    pending.delete(frame.re)
    if (frame.t === 'ok') {
      entry.resolve(frame.value === undefined ? null : frame.value)
    } else {
      const { message = 'context call failed', name = 'Error' } = frame.error ?? {}
      const error = new Error(message)
      error.name = name
      error.stack = `${name}: ${message}\n    at ${entry.method} (motia context call)`
      entry.reject(callError(error, entry.invocation, entry.method))
    }
    entry.invocation.callDone()
  }

  function logger(inv) {
    const at = (level) => (msg, fields) => {
      if (msg instanceof Error) {
        fields = { ...logFields(fields), error: errorInfo(msg) }
        msg = msg.message
      }
      sendLog(inv, level, typeof msg === 'string' ? msg : util.format(msg), logFields(fields))
    }
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      // `log(record)`: a whole record `{level?, msg?, ...fields}`.
      log(record) {
        if (record === null || typeof record !== 'object') {
          sendLog(inv, 'info', util.format(record), null)
          return
        }
        const { level, msg, message, ...fields } = record
        sendLog(
          inv,
          LEVELS.has(level) ? level : 'info',
          String(msg ?? message ?? ''),
          Object.keys(fields).length ? logFields(fields) : null,
        )
      },
    }
  }

  function stream(invocation, name) {
    const run = (method, args) => call(invocation, `streams.${method}`, [name, ...args])
    return {
      get: (groupId, id) => run('get', [groupId, id]),
      set: (groupId, id, data) => run('set', [groupId, id, data]),
      delete: (groupId, id) => run('delete', [groupId, id]),
      getGroup: (groupId) => run('getGroup', [groupId]),
      send: (channelRef, event) => run('send', [channelRef, event]),
      update: (groupId, id, ops) => run('update', [groupId, id, ops]),
    }
  }

  // The context object handed to a handler.
  function context(invocation, wire) {
    const streams = {}
    if (Array.isArray(wire.streams)) {
      for (const name of wire.streams) streams[name] = stream(invocation, name)
    }
    return {
      // Resolves to the message id; `delay`, `at` (a Date or ISO string) and `key` schedule.
      emit: (event) => call(invocation, 'emit', [event]),
      // cancel(messageId) or cancel({ key, topic? }): resolves to true when one was cancelled.
      cancel: (target) => call(invocation, 'cancel', [target]),
      state: {
        get: (groupId, key) => call(invocation, 'state.get', [groupId, key]),
        set: (groupId, key, value) => call(invocation, 'state.set', [groupId, key, value]),
        delete: (groupId, key) => call(invocation, 'state.delete', [groupId, key]),
        getGroup: (groupId) => call(invocation, 'state.getGroup', [groupId]),
        clear: (groupId) => call(invocation, 'state.clear', [groupId]),
        update: (groupId, key, ops) => call(invocation, 'state.update', [groupId, key, ops]),
        list: (groupId) => call(invocation, 'state.list', [groupId]),
        listGroups: () => call(invocation, 'state.listGroups', []),
      },
      logger: logger(invocation.id),
      traceId: wire.traceId,
      flows: wire.flows,
      streams,
    }
  }

  return { call, answer, context, sendLog }
}
