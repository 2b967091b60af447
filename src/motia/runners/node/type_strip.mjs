// TypeScript through Node's own type stripping (`module.stripTypeScriptTypes`, Node 22.13+ and
// 23.2+), in this process or, when this Node has none, in the Node that the `motia-python[node]`
// extra installs (MOTIA_TS_NODE), one short process per file.
//
// Stripping keeps every import, also those used only as types (`import { Handlers } from
// 'motia'`, `import { Pet } from './types'`), which then fail at link time; transpilers drop such
// imports, so after stripping we drop the imported names that the remaining code never uses.

import { spawnSync } from 'node:child_process'
import Module from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVICE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'strip_service.mjs')

// A syntax error in a TypeScript file, with the place it points at (read by errors.lineOf).
export class TranspileError extends SyntaxError {
  constructor(message, file, line, column) {
    super(line ? `${message} (${file}:${line}:${column ?? 1})` : message)
    this.name = 'SyntaxError'
    this.file = file
    this.line = line
    this.stack = `SyntaxError: ${this.message}\n    at ${file}:${line ?? 1}:${column ?? 1}`
  }
}

// Node prints an ExperimentalWarning on the first use of the API; it is not the user's concern.
function quietly(fn) {
  const emitWarning = process.emitWarning
  process.emitWarning = (warning, ...rest) => {
    const text = typeof warning === 'string' ? warning : warning?.message
    if (/stripTypeScriptTypes|Type Stripping/i.test(String(text))) return
    emitWarning.call(process, warning, ...rest)
  }
  try {
    return fn()
  } finally {
    process.emitWarning = emitWarning
  }
}

// Strip mode keeps every position (no source map needed); enums and namespaces need transform
// mode, which comes with an inline source map.
export function stripWith(strip, source, file) {
  try {
    return quietly(() => strip(source, { mode: 'strip', sourceUrl: file }))
  } catch (error) {
    if (error?.code !== 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') throw error
    return quietly(() => strip(source, { mode: 'transform', sourceMap: true, sourceUrl: file }))
  }
}

function asTranspileError(error, file) {
  if (error?.code !== 'ERR_INVALID_TYPESCRIPT_SYNTAX' &&
    error?.code !== 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') return error
  // Node names the place as `file:line` on a line of the stack of its own.
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const at = new RegExp(`^${escaped}:(\\d+)$`, 'm').exec(String(error.stack ?? ''))
  const message = String(error.message).split('\n')[0]
  return new TranspileError(message, file, at ? Number(at[1]) : null, null)
}

// `(source, file) => JavaScript` with types stripped, or null when neither this Node nor the
// extra's Node can strip types.
export function createStripper(serviceNode) {
  const strip = Module.stripTypeScriptTypes
  if (typeof strip === 'function') {
    return (source, file) => {
      try {
        return elideUnusedImports(stripWith(strip, source, file))
      } catch (error) {
        throw asTranspileError(error, file)
      }
    }
  }
  if (!serviceNode) return null
  return (source, file) => {
    const result = spawnSync(serviceNode, [SERVICE, file], {
      input: source,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    })
    if (result.error) throw new Error(`cannot run ${serviceNode} to strip types: ${result.error.message}`)
    if (result.status !== 0) {
      let failure
      try {
        failure = JSON.parse(result.stderr)
      } catch {
        throw new Error(`${serviceNode} could not strip the types of ${file}: ${result.stderr}`)
      }
      throw asTranspileError(
        Object.assign(new Error(failure.message), { code: failure.code, stack: failure.stack }),
        file,
      )
    }
    return elideUnusedImports(result.stdout)
  }
}

// Comments and string literals blanked (same length, newlines kept), so that a word in them is
// not taken for a use of an imported name. Template literals stay: their `${}` parts are code.
function codeOnly(source) {
  return source.replace(
    /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g,
    (text) => text.replace(/[^\n]/g, ' '),
  )
}

const IMPORT =
  /(^|[;\n])([ \t]*)import\s+((?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)|[\w$]+)\s*from\s*(['"][^'"\n]+['"])[ \t]*;?/g

function parseClause(clause) {
  const parts = { default: null, namespace: null, named: [] }
  let rest = clause.trim()
  const head = /^([\w$]+)\s*(?:,\s*|$)/.exec(rest)
  if (head) {
    parts.default = head[1]
    rest = rest.slice(head[0].length)
  }
  const namespace = /^\*\s*as\s+([\w$]+)/.exec(rest)
  if (namespace) parts.namespace = namespace[1]
  const braces = /^\{([^}]*)\}/.exec(rest)
  if (braces) {
    for (const raw of braces[1].split(',')) {
      const entry = raw.trim()
      if (!entry || /^type\s/.test(entry)) continue
      const match = /^(?:([\w$]+|'[^']*'|"[^"]*")\s+as\s+)?([\w$]+)$/.exec(entry)
      if (!match) return null // something we do not understand: keep the import as it is
      parts.named.push({ text: entry, local: match[2] })
    }
  }
  return parts
}

// Drops the names of import declarations that the rest of the module never mentions, and the
// declarations left with none; positions of the code that follows do not move.
export function elideUnusedImports(code) {
  const scan = codeOnly(code)
  const edits = []
  for (const match of code.matchAll(IMPORT)) {
    const start = match.index + match[1].length + match[2].length
    const end = match.index + match[0].length
    const parts = parseClause(match[3])
    if (!parts) continue
    const others = scan.slice(0, start) + ' '.repeat(end - start) + scan.slice(end)
    const used = (name) =>
      new RegExp(`(?<![\\w$]|[^.]\\.|^\\.)${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(others)
    const keepDefault = parts.default && used(parts.default)
    const keepNamespace = parts.namespace && used(parts.namespace)
    const named = parts.named.filter((entry) => used(entry.local))
    const total = (parts.default ? 1 : 0) + (parts.namespace ? 1 : 0) + parts.named.length
    const kept = (keepDefault ? 1 : 0) + (keepNamespace ? 1 : 0) + named.length
    if (kept === total) continue
    const original = code.slice(start, end)
    let replacement = ''
    if (kept > 0) {
      const clause = [
        keepDefault ? parts.default : null,
        keepNamespace ? `* as ${parts.namespace}` : null,
        named.length ? `{ ${named.map((entry) => entry.text).join(', ')} }` : null,
      ].filter(Boolean).join(', ')
      replacement = `import ${clause} from ${match[4]};`
    }
    const newlines = original.split('\n').length - 1
    edits.push({ start, end, text: replacement + '\n'.repeat(newlines) })
  }
  let out = code
  for (const edit of edits.reverse()) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end)
  return out
}
