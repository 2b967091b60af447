// A 1.0-form step's run: `ctx` learns which trigger fired (`trigger`, `isApi()` ...,
// `getData()`, `match({...})`, `enqueue`), the trigger's condition decides whether the
// handler runs, an http trigger's middleware wraps it, and the handler is always
// `handler(input, ctx)` (input is undefined for cron).

import { StepError } from './errors.mjs'

// What the server reads as "skipped by the condition" (motia.runners.remote.SKIPPED_KEY).
const SKIPPED = '__motiaSkipped'

function addTriggerApi(ctx, info, input) {
  const kind = info?.type ?? null
  ctx.trigger = info
  ctx.isApi = () => kind === 'http'
  ctx.isQueue = () => kind === 'queue'
  ctx.isCron = () => kind === 'cron'
  ctx.isState = () => kind === 'state'
  ctx.isStream = () => kind === 'stream'
  ctx.getData = () => (kind === 'http' ? input?.body : input)
  ctx.enqueue = ctx.emit
  ctx.match = (handlers) => {
    const chosen = handlers[kind] ?? (kind === 'http' ? handlers.api : undefined) ?? handlers.default
    if (typeof chosen !== 'function') {
      throw new StepError(
        `ctx.match: no function for trigger type '${kind}' and no 'default'; ` +
          `given: ${Object.keys(handlers).sort().join(', ')}`,
      )
    }
    return chosen(input)
  }
}

// State and stream triggers see every change: keep those of their group/key/stream.
function wanted(info, input) {
  if (!input || typeof input !== 'object') return true
  if (info.type === 'state') {
    return ['group', 'key'].every((field) => info[field] == null || info[field] === input[field])
  }
  if (info.type === 'stream') {
    if (info.streamName !== input.stream_name) return false
    return info.groupId == null || info.groupId === input.group_id
  }
  return true
}

export async function runTrigger(entry, input, ctx, wire) {
  const info = wire?.info
  const trigger = entry.triggers?.[wire?.index]
  if (!info || !trigger) throw new StepError('this file has no such trigger (was it changed?)')
  addTriggerApi(ctx, info, input)
  // As for Python steps: an http trigger's middleware runs first (it may answer by itself),
  // then the condition, then the handler.
  const run = async () => {
    if (!wanted(info, input)) return { [SKIPPED]: 'the change is not one this trigger watches' }
    if (typeof trigger.condition === 'function' && !(await trigger.condition(input, ctx))) {
      return { [SKIPPED]: 'condition returned false' }
    }
    return entry.handler(input, ctx)
  }
  const middleware = Array.isArray(trigger.middleware)
    ? trigger.middleware.filter((fn) => typeof fn === 'function')
    : []
  if (info.type !== 'http' || middleware.length === 0) return run()
  const step = (index) =>
    index < middleware.length ? middleware[index](input, ctx, async () => step(index + 1)) : run()
  return step(0)
}

// The 1.0 trigger helpers `import { http, queue, cron, state, stream } from 'motia'` gives
// when no `motia` package is installed (resolve.mjs `standInValue`). The options argument
// may be the condition itself.
function options(value) {
  return typeof value === 'function' ? { condition: value } : (value ?? {})
}

export const TRIGGER_HELPERS = {
  http: (method, path, rest) => ({ type: 'http', method, path, ...options(rest) }),
  api: (method, path, rest) => ({ type: 'http', method, path, ...options(rest) }),
  queue: (topic, rest) => ({ type: 'queue', topic, ...options(rest) }),
  cron: (expression, rest) => ({ type: 'cron', expression, ...options(rest) }),
  state: (rest) => ({ type: 'state', ...options(rest) }),
  stream: (streamName, rest) => ({ type: 'stream', streamName, ...options(rest) }),
  // `export const { config, handler } = step(config, handler)`.
  step: (config, handler) => ({ config, handler }),
  jsonSchema: (schema) => schema,
}
