// Errors in their wire form, and the line of a file an error points at.

import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const RUNNER_DIR = path.dirname(fileURLToPath(import.meta.url))

// An error the runner itself raises about a step (no `config` export, …): its stack would show
// only the runner's own frames, so it has none.
export class StepError extends Error {
  constructor(message) {
    super(message)
    this.stack = null
  }
}

// A stack without the frames of the runner and of Node's internals below the user's code: what
// is left is the step's own frames (and its dependencies').
export function stepStack(stack) {
  if (typeof stack !== 'string') return null
  const ours = (line) =>
    /^\s+at /.test(line) && (line.includes(RUNNER_DIR) || /[( ]node:/.test(line))
  return stack
    .split('\n')
    .filter((line) => !ours(line))
    .join('\n')
}

// `{message, name, stack}` of anything thrown (code may throw strings or plain objects).
export function errorInfo(error) {
  if (error instanceof Error || (error && typeof error === 'object' && 'message' in error)) {
    return {
      message: String(error.message),
      name: typeof error.name === 'string' ? error.name : 'Error',
      stack: stepStack(error.stack),
    }
  }
  return { message: String(error), name: 'Error', stack: null }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// The 1-based line of `file` that `error` points at, or null. Transpile errors carry it as
// properties; V8 puts it in the stack, either as the header of a SyntaxError ("/abs/x.js:3") or
// in a frame ("at … (/abs/x.ts:12:5)", already mapped to TypeScript lines by source maps).
export function lineOf(error, file) {
  if (!error || typeof error !== 'object') return null
  if (typeof error.line === 'number' && error.file === file) return error.line
  const stack = typeof error.stack === 'string' ? error.stack : ''
  const names = [file, pathToFileURL(file).href].map(escapeRegExp).join('|')
  const match = new RegExp(`(?:${names}):(\\d+)`).exec(stack)
  return match ? Number(match[1]) : null
}
