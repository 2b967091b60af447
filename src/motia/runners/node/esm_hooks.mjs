// Hooks into Node's ES module loader (registered with `module.register` by runner.mjs): they
// load TypeScript files that run as ES modules, apply the project's tsconfig.json `paths` and the
// file names TypeScript lets imports leave out, and stand in for missing classic Motia packages.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  importedNames,
  inProject,
  isClassicPackage,
  isRelative,
  probe,
  readPathAliases,
  resolveAlias,
} from './resolve.mjs'
import { createTranspiler, TS_EXTENSIONS } from './transpile.mjs'

const STAND_IN = 'motia-standin:'

let projectDir = process.cwd()
let transpiler = null
let aliases = []

export function initialize(data) {
  projectDir = data.projectDir
  transpiler = createTranspiler(projectDir, { serviceNode: data.serviceNode })
  aliases = readPathAliases(projectDir)
}

function fileOf(url) {
  return typeof url === 'string' && url.startsWith('file:') ? fileURLToPath(url.split('?')[0]) : null
}

// A file loaded again (loader.mjs asks for `?motia-load=N`) gets its project imports anew too:
// the generation passes from each project file to the project files it imports.
function sameGeneration(resolved, parentURL) {
  const generation = /[?&](motia-load=\d+)/.exec(parentURL ?? '')
  const file = fileOf(resolved.url)
  if (!generation || !file || !inProject(projectDir, file) || resolved.url.includes('?')) {
    return resolved
  }
  return { ...resolved, url: `${resolved.url}?${generation[1]}` }
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await resolveInProject(specifier, context, nextResolve)
  return sameGeneration(jsonAttributes(resolved, context), context.parentURL)
}

// TypeScript imports JSON without `with { type: 'json' }` (resolveJsonModule); Node's ES module
// loader wants the attribute, so a TypeScript file of the project gets it implied.
function jsonAttributes(resolved, context) {
  const parent = fileOf(context.parentURL)
  const file = fileOf(resolved.url)
  if (!file || !file.endsWith('.json') || context.importAttributes?.type ||
    !parent || !TS_EXTENSIONS.includes(path.extname(parent)) || !inProject(projectDir, parent)) {
    return resolved
  }
  return { ...resolved, importAttributes: { ...context.importAttributes, type: 'json' } }
}

async function resolveInProject(specifier, context, nextResolve) {
  const parent = fileOf(context.parentURL)
  const fromProject = inProject(projectDir, parent)
  if (fromProject && aliases.length && !isRelative(specifier) && !specifier.includes(':')) {
    const aliased = resolveAlias(aliases, specifier)
    if (aliased) return { url: pathToFileURL(aliased).href, shortCircuit: true }
  }
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    if (!fromProject) throw error
    if (isRelative(specifier)) {
      const found = probe(path.resolve(path.dirname(parent), specifier))
      if (found) return { url: pathToFileURL(found).href, shortCircuit: true }
      throw error
    }
    if (!isClassicPackage(specifier) || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
    const from = encodeURIComponent(context.parentURL)
    return { url: `${STAND_IN}${specifier}?from=${from}`, shortCircuit: true }
  }
}

// An ES module that stands in for a missing classic package: it exports every name the
// importing file asks for (see resolve.mjs `standInValue`).
function standInSource(url) {
  const rest = url.slice(STAND_IN.length)
  const query = rest.indexOf('?from=')
  const specifier = rest.slice(0, query)
  const parent = fileOf(decodeURIComponent(rest.slice(query + '?from='.length)))
  let names = []
  try {
    names = importedNames(fs.readFileSync(parent, 'utf8'), specifier)
  } catch {
    // The importer cannot be read again: a default export is all it gets.
  }
  const lines = [`import { standInValue } from ${JSON.stringify(new URL('./resolve.mjs', import.meta.url).href)}`]
  lines.push(`export default standInValue('default')`)
  for (const name of names) lines.push(`export const ${name} = standInValue(${JSON.stringify(name)})`)
  return lines.join('\n')
}

export async function load(url, context, nextLoad) {
  if (url.startsWith(STAND_IN)) {
    return { format: 'module', source: standInSource(url), shortCircuit: true }
  }
  const file = fileOf(url)
  if (file && TS_EXTENSIONS.includes(path.extname(file))) {
    if (transpiler.formatOf(file) === 'commonjs') {
      // Without a source Node hands the file to its CommonJS loader, whose `.ts` hook
      // (transpile.mjs) compiles it.
      return { format: 'commonjs', shortCircuit: true }
    }
    const source = fs.readFileSync(file, 'utf8')
    return { format: 'module', source: transpiler.toModule(source, file), shortCircuit: true }
  }
  return nextLoad(url, context)
}
