// Loads step and stream files and keeps what invocations need (handler, middleware, canAccess),
// so the hot path touches no file system. Each file gets a report (docs/runner-protocol.md);
// whatever goes wrong while loading one file ends up in its report, never crashes the runner.
//
// `.cjs` and TypeScript that runs as CommonJS go through Node's CommonJS loader (TypeScript via
// the transpile hook); everything else through `import()`, so Node decides between CommonJS and
// ESM as usual (`"type"` of the nearest package.json), TypeScript through esm_hooks.mjs.

import Module from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { configToJson } from './config_json.mjs'
import { errorInfo, lineOf, StepError } from './errors.mjs'
import { TS_EXTENSIONS } from './transpile.mjs'

const STREAM_FILE = /[._]stream\.[cm]?[jt]s$/
const PROJECT_CONFIG_FILE = /^motia\.config\.[cm]?[jt]s$/

export function fileKind(file) {
  const name = path.basename(file)
  if (PROJECT_CONFIG_FILE.test(name)) return 'config'
  return STREAM_FILE.test(name) ? 'stream' : 'step'
}

// What the server needs of a motia.config file (`export default config({...})`): its keys, and
// `streamAuth` with its `contextSchema` as JSON Schema. The other values (plugins, adapter
// objects) are not read: they are often not JSON at all.
function projectConfigReport(exports, file, toJsonSchema) {
  const config = exports?.default && typeof exports.default === 'object' ? exports.default : exports
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new StepError(`${path.basename(file)} does not export a config object (\`export default config({...})\`)`)
  }
  const report = { keys: Object.keys(config).filter((key) => key !== '__esModule'), streamAuth: null }
  let authenticate = null
  const streamAuth = config.streamAuth
  if (streamAuth !== undefined && streamAuth !== null) {
    const schema = streamAuth.contextSchema
    authenticate = typeof streamAuth.authenticate === 'function' ? streamAuth.authenticate : null
    report.streamAuth = {
      authenticate: authenticate !== null,
      contextSchema: schema ? configToJson({ schema }, toJsonSchema).config.schema ?? null : null,
    }
  }
  if (config.redis && typeof config.redis === 'object') {
    report.redis = configToJson(config.redis, toJsonSchema).config
  }
  return { report, authenticate }
}

export function createLoader({ projectDir, transpiler, toJsonSchema }) {
  const projectRequire = Module.createRequire(path.join(projectDir, 'package.json'))
  const loaded = new Map() // file → {kind, config, handler, middleware, canAccess} or {error}
  let generation = 0 // bumped when files are loaded again, to get fresh ES modules

  // Loading a file again (a later `load` of the same file) means it changed: forget the
  // project's CommonJS modules (not node_modules) so that it and its helpers are read anew.
  function forgetProjectModules() {
    generation += 1
    const root = projectDir.endsWith(path.sep) ? projectDir : projectDir + path.sep
    const nodeModules = `${path.sep}node_modules${path.sep}`
    for (const name of Object.keys(Module._cache)) {
      if (name.startsWith(root) && !name.includes(nodeModules)) delete Module._cache[name]
    }
  }

  async function importFile(file) {
    const extension = path.extname(file)
    if (extension === '.cjs') return projectRequire(file)
    if (TS_EXTENSIONS.includes(extension) && transpiler.formatOf(file) === 'commonjs') {
      return projectRequire(file)
    }
    const url = pathToFileURL(file)
    if (generation > 0) url.search = `motia-load=${generation}`
    const namespace = await import(url.href)
    // A CommonJS module seen through import(): its exports are `default`, and named exports only
    // as far as Node's static analysis found them.
    const exports = namespace.default
    if (exports && typeof exports === 'object' && !('config' in namespace)) return exports
    return namespace
  }

  async function loadFile(file) {
    const kind = fileKind(file)
    const report = { file, kind, config: null, handler: false, functions: [], error: null }
    const absolute = path.resolve(projectDir, file)
    try {
      const exports = await importFile(absolute)
      if (kind === 'config') {
        const { report: json, authenticate } = projectConfigReport(exports, file, toJsonSchema)
        report.config = json
        report.functions = authenticate ? ['streamAuth.authenticate'] : []
        loaded.set(file, { kind, streamAuth: authenticate })
        return report
      }
      const config = exports?.config
      if (config === null || typeof config !== 'object' || Array.isArray(config)) {
        throw new StepError(
          config === undefined
            ? `${path.basename(file)} does not export a \`config\` object`
            : `the \`config\` export of ${path.basename(file)} is not an object`,
        )
      }
      const { config: json, functions } = configToJson(config, toJsonSchema)
      const handler = kind === 'step' ? exports.handler : undefined
      report.config = json
      report.functions = functions
      report.handler = typeof handler === 'function'
      const middleware = Array.isArray(config.middleware)
        ? config.middleware.filter((fn) => typeof fn === 'function')
        : []
      loaded.set(file, {
        kind,
        handler: report.handler ? handler : null,
        middleware,
        canAccess: typeof config.canAccess === 'function' ? config.canAccess : null,
        // A 1.0-form step: its triggers, for their conditions and middleware (triggers.mjs).
        triggers: Array.isArray(config.triggers) ? config.triggers : null,
      })
    } catch (error) {
      const { message, stack } = errorInfo(error)
      report.error = { message, stack, line: lineOf(error, absolute) }
      loaded.set(file, { kind, error: report.error })
    }
    return report
  }

  return {
    // Loads files in order; answers the `load` request.
    async load(files) {
      if (files.some((file) => loaded.has(file))) forgetProjectModules()
      const reports = []
      for (const file of files) reports.push(await loadFile(file))
      return { files: reports }
    },
    get(file) {
      return loaded.get(file)
    },
  }
}
