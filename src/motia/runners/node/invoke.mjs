// Runs `invoke` requests, many at once: each is a promise chain on the event loop, never a
// blocking wait. An invocation answers only after the context calls its handler started have
// been answered, awaited or not, so that nothing the handler asked for is lost.

import { AsyncLocalStorage } from 'node:async_hooks'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { errorInfo, StepError } from './errors.mjs'
import { runTrigger } from './triggers.mjs'

class Invocation {
  constructor(id) {
    this.id = id
    this.outstanding = 0 // context calls sent and not yet answered
    this.cancelled = false // the server stopped waiting: drop the answer
    this.wake = null
  }

  callDone() {
    this.outstanding -= 1
    if (this.outstanding === 0) this.wakeUp()
  }

  // The server stopped waiting: no answer will be sent, so stop waiting for calls too.
  cancel() {
    this.cancelled = true
    this.wakeUp()
  }

  wakeUp() {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  // Resolves once no call is outstanding, also counting calls made by code that ran because an
  // earlier call settled (`state.get(…).then(v => emit(…))`).
  async settle() {
    while (this.outstanding > 0 && !this.cancelled) {
      await new Promise((resolve) => {
        this.wake = resolve
      })
      await nextMacrotask()
    }
  }
}

export function createInvoker({ channel, loader, calls }) {
  // The invocation whose code is running, for console capture (console_capture.mjs).
  const current = new AsyncLocalStorage()
  const running = new Map() // invoke id → Invocation
  let onIdle = null

  async function run(entry, kind, input, invocation, wire) {
    if (kind === 'canAccess') {
      if (!entry.canAccess) throw new StepError('this stream config has no `canAccess` function')
      const { subscription, authContext } = input ?? {}
      return Boolean(await entry.canAccess(subscription, authContext))
    }
    if (kind === 'streamAuth') {
      if (!entry.streamAuth) throw new StepError('this config has no `streamAuth.authenticate`')
      const { headers, url } = input ?? {}
      return (await entry.streamAuth({ headers: headers ?? {}, url: url ?? '' })) ?? null
    }
    const handler = entry.handler
    if (!handler) throw new StepError('this file exports no `handler` function')
    const ctx = calls.context(invocation, wire ?? {})
    switch (kind) {
      case 'api': {
        const middleware = entry.middleware
        if (middleware.length === 0) return handler(input, ctx)
        // Left to right; a middleware answers by itself by not calling `next`.
        const step = (index) =>
          index < middleware.length
            ? middleware[index](input, ctx, async () => step(index + 1))
            : handler(input, ctx)
        return step(0)
      }
      case 'event':
        return handler(input, ctx)
      case 'cron':
        return handler(ctx)
      case 'trigger':
        return runTrigger(entry, input, ctx, wire?.trigger)
      default:
        throw new StepError(`unknown invoke kind ${JSON.stringify(kind)}`)
    }
  }

  function answerError(id, error) {
    channel.send({ t: 'err', re: id, error: errorInfo(error) })
  }

  async function invoke(frame) {
    const { id } = frame
    const entry = loader.get(frame.file)
    if (entry === undefined) return answerError(id, new StepError(`${frame.file} was not loaded`))
    if (entry.error) {
      return answerError(id, new StepError(`${frame.file} failed to load: ${entry.error.message}`))
    }
    const invocation = new Invocation(id)
    running.set(id, invocation)
    let value
    let failure = null
    try {
      const { kind, input, ctx } = frame
      value = await current.run(invocation, run, entry, kind, input, invocation, ctx)
    } catch (error) {
      failure = error ?? new Error(String(error))
    }
    if (invocation.outstanding > 0) await invocation.settle()
    running.delete(id)
    if (!invocation.cancelled) {
      if (failure) {
        answerError(id, failure)
      } else {
        try {
          channel.send({ t: 'ok', re: id, value: value === undefined ? null : value })
        } catch (error) {
          answerError(id, new TypeError(`the handler's return value is not JSON: ${error.message}`))
        }
      }
    }
    if (running.size === 0 && onIdle) onIdle()
  }

  return {
    invoke,
    cancel(re) {
      // The server failed it already: it no longer holds up a shutdown, and its calls no
      // longer hold up its (dropped) answer. Its handler may still run to its end.
      const invocation = running.get(re)
      if (invocation === undefined) return
      invocation.cancel()
      running.delete(re)
      if (running.size === 0 && onIdle) onIdle()
    },
    // The id of the invocation whose code is running now, or null.
    currentId() {
      return current.getStore()?.id ?? null
    },
    // Resolves when no invocation is in flight.
    idle() {
      if (running.size === 0) return Promise.resolve()
      return new Promise((resolve) => {
        const previous = onIdle
        onIdle = () => {
          onIdle = null
          previous?.()
          resolve()
        }
      })
    },
  }
}
