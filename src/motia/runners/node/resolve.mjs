// How step files find other files, shared by the CommonJS hook (transpile.mjs) and the ES module
// hooks (esm_hooks.mjs): the project's tsconfig.json `paths`, the file names TypeScript lets
// imports leave out (`./lib/x` for `./lib/x.ts`, `./lib/x.js` for `./lib/x.ts`), and stand-ins
// for the classic Motia packages that steps import only for their types.

import fs from 'node:fs'
import path from 'node:path'
import { TRIGGER_HELPERS } from './triggers.mjs'

// Tried, in order, for an import without an extension (as TypeScript and bundlers resolve).
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']

function isFile(file) {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

// The file an import of `base` (an absolute path) means, or null.
export function probe(base) {
  if (isFile(base)) return base
  const js = /^(.*)\.([cm]?)js$/.exec(base)
  if (js) {
    const ts = `${js[1]}.${js[2]}ts`
    if (isFile(ts)) return ts
  }
  for (const extension of EXTENSIONS) {
    if (isFile(base + extension)) return base + extension
  }
  for (const extension of EXTENSIONS) {
    const index = path.join(base, `index${extension}`)
    if (isFile(index)) return index
  }
  return null
}

// tsconfig.json is JSON with comments and trailing commas.
function readJsonc(file) {
  const text = fs.readFileSync(file, 'utf8')
  const stripped = text.replace(
    /("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g,
    (match, string) => string ?? '',
  )
  return JSON.parse(stripped.replace(/,(\s*[}\]])/g, '$1'))
}

// `compilerOptions.paths` of the project's tsconfig.json (following relative `extends`), as
// `[{prefix, suffix, wildcard, targets}]` with absolute target patterns; [] without any.
export function readPathAliases(projectDir) {
  let file = path.join(projectDir, 'tsconfig.json')
  const seen = new Set()
  while (file && !seen.has(file) && isFile(file)) {
    seen.add(file)
    let tsconfig
    try {
      tsconfig = readJsonc(file)
    } catch (error) {
      process.stderr.write(`motia node runner: ${file} is not valid JSON, its paths are not ` +
        `applied: ${error.message}\n`)
      return []
    }
    const options = tsconfig.compilerOptions ?? {}
    if (options.paths && typeof options.paths === 'object') {
      const base = path.resolve(path.dirname(file), options.baseUrl ?? '.')
      return Object.entries(options.paths).map(([pattern, targets]) => {
        const star = pattern.indexOf('*')
        return {
          prefix: star < 0 ? pattern : pattern.slice(0, star),
          suffix: star < 0 ? '' : pattern.slice(star + 1),
          wildcard: star >= 0,
          targets: (Array.isArray(targets) ? targets : []).map((t) => path.resolve(base, t)),
        }
      })
    }
    const parent = typeof tsconfig.extends === 'string' ? tsconfig.extends : null
    file = parent && parent.startsWith('.') ? path.resolve(path.dirname(file), parent) : null
    if (file && !file.endsWith('.json')) file += '.json'
  }
  return []
}

// The file a `paths` alias maps `specifier` to, or null when no alias matches.
export function resolveAlias(aliases, specifier) {
  let best = null
  for (const alias of aliases) {
    const matches = alias.wildcard
      ? specifier.startsWith(alias.prefix) && specifier.endsWith(alias.suffix) &&
        specifier.length >= alias.prefix.length + alias.suffix.length
      : specifier === alias.prefix
    // The longest prefix wins, as in TypeScript.
    if (matches && (!best || alias.prefix.length > best.prefix.length)) best = alias
  }
  if (!best) return null
  const star = best.wildcard
    ? specifier.slice(best.prefix.length, specifier.length - best.suffix.length)
    : ''
  for (const target of best.targets) {
    const found = probe(target.replace('*', star))
    if (found) return found
  }
  return null
}

export function isRelative(specifier) {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' ||
    specifier === '..' || path.isAbsolute(specifier)
}

export function inProject(projectDir, file) {
  if (!file) return false
  const root = projectDir.endsWith(path.sep) ? projectDir : projectDir + path.sep
  return file.startsWith(root) && !file.includes(`${path.sep}node_modules${path.sep}`)
}

// The packages of classic Motia: step files import types from them (`import { Handlers } from
// 'motia'`), and motia.config.ts `config`/`defineConfig` and plugins. None is needed here.
export function isClassicPackage(specifier) {
  return specifier === 'motia' || specifier.startsWith('motia/') ||
    specifier.startsWith('@motiadev/')
}

// What a stand-in for a missing classic package gives: `config`/`defineConfig` return their
// argument; the 1.0 trigger helpers make triggers (triggers.mjs); anything else is a function that can also be used with `new` (a plugin, an adapter
// class) and does nothing.
export function standInValue(name) {
  if (name === 'config' || name === 'defineConfig') return (value) => value
  if (Object.hasOwn(TRIGGER_HELPERS, name)) return TRIGGER_HELPERS[name]
  const standIn = function () {
    return new.target ? this : {}
  }
  Object.defineProperty(standIn, 'name', { value: name })
  return standIn
}

// The names `source` imports from `specifier` (named imports and re-exports).
export function importedNames(source, specifier) {
  const quoted = `['"]${specifier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`
  const names = new Set()
  const statements = new RegExp(
    `(?:import|export)\\s+(?:type\\s+)?(?:[\\w$]+\\s*,\\s*)?\\{([^}]*)\\}\\s*from\\s*${quoted}`,
    'g',
  )
  for (const match of source.matchAll(statements)) {
    for (const raw of match[1].split(',')) {
      const name = raw.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim()
      if (/^[\w$]+$/.test(name) && name !== 'default') names.add(name)
    }
  }
  return [...names]
}
