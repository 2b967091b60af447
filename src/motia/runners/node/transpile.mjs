// TypeScript support. Each file is turned into JavaScript once, when it loads, by the first of:
// this Node's own type stripping (type_strip.mjs), the project's esbuild, the project's
// typescript, the type stripping of the motia-python[node] extra's Node (a process per file,
// hence last).
// A file runs as an ES module when Node would run it as one (`.mts`, or `.ts` in a package with
// `"type": "module"`), else as CommonJS; type stripping keeps `import`/`export`, so a `.ts` file
// of a CommonJS package that uses them runs as an ES module with `require`, `__dirname` and
// `__filename` still defined (as Node does for such files).
//
// Files are transpiled one by one, without type checking: imports used only as types (such as
// `import { Handlers } from 'motia'`) are dropped.

import fs from 'node:fs'
import Module from 'node:module'
import path from 'node:path'
import { StepError } from './errors.mjs'
import {
  inProject,
  isClassicPackage,
  isRelative,
  probe,
  readPathAliases,
  resolveAlias,
  standInValue,
} from './resolve.mjs'
import { createStripper, TranspileError } from './type_strip.mjs'

export const TS_EXTENSIONS = ['.ts', '.cts', '.mts']

export const MISSING_TRANSPILER =
  'TypeScript steps need Node.js 22.13 or newer (it strips types by itself), or ' +
  '`pip install motia-python[node]`, or a transpiler in the project: ' +
  '`npm install --save-dev esbuild`'

// import/export that stays after the types are gone (`import type` and `export interface` do
// not), `import.meta`, and `await` at the start of a line (top-level, as people indent).
const ESM_SYNTAX =
  /^(?:[ \t]*(?:import\s*(?!type\s)[\w{*'"]|export\s+(?!(?:type|interface|declare)\s)|export\{)|.*\bimport\.meta\b|await\s)/m

export function hasModuleSyntax(source) {
  return ESM_SYNTAX.test(source)
}

export class MissingTranspilerError extends StepError {
  constructor(message = MISSING_TRANSPILER) {
    super(message)
  }
}

// The nearest package.json's "type", as Node reads it.
const packageTypes = new Map()
function packageType(dir) {
  if (packageTypes.has(dir)) return packageTypes.get(dir)
  let type = 'commonjs'
  const manifest = path.join(dir, 'package.json')
  if (fs.existsSync(manifest)) {
    try {
      type = JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module' ? 'module' : 'commonjs'
    } catch {
      // Node reports an unreadable package.json itself.
    }
  } else {
    const parent = path.dirname(dir)
    type = parent === dir ? 'commonjs' : packageType(parent)
  }
  packageTypes.set(dir, type)
  return type
}

export function createTranspiler(projectDir, { serviceNode = null } = {}) {
  const projectRequire = Module.createRequire(path.join(projectDir, 'package.json'))
  // In this process when this Node strips types; else through the extra's Node, if any.
  const ownStrip = createStripper(null)
  const serviceStrip = ownStrip ? null : createStripper(serviceNode)
  let compilers = null // {name, cjs, esm} of the project's esbuild or typescript, once resolved

  function esbuildCompiler(esbuild) {
    const target = `node${process.versions.node.split('.')[0]}`
    const compile = (format) => (source, filename) => {
      try {
        return esbuild.transformSync(source, {
          loader: 'ts',
          format,
          target,
          sourcemap: 'inline',
          sourcefile: filename,
          // An explicit, empty tsconfig: esbuild then keeps its defaults (imports used only as
          // types are removed) whatever the project's tsconfig.json says.
          tsconfigRaw: {},
        }).code
      } catch (error) {
        const first = error.errors?.[0]
        if (!first) throw error
        const location = first.location
        throw new TranspileError(first.text, filename, location?.line, (location?.column ?? 0) + 1)
      }
    }
    return { name: 'esbuild', cjs: compile('cjs'), esm: compile('esm') }
  }

  function typescriptCompiler(ts) {
    if (typeof ts.transpileModule !== 'function') {
      throw new MissingTranspilerError(
        `the project's typescript ${ts.version ?? ''} has no JavaScript API to transpile with ` +
          '(TypeScript 7 is a native program): add esbuild (`npm install --save-dev esbuild`), ' +
          'or use Node.js 22.13 or newer, or `pip install motia-python[node]`',
      )
    }
    const compile = (module) => {
      const compilerOptions = {
        module,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true,
        verbatimModuleSyntax: false,
      }
      return (source, filename) => {
        const result = ts.transpileModule(source, {
          fileName: filename,
          reportDiagnostics: true,
          compilerOptions,
        })
        // transpileModule emits even broken code; report its syntax errors instead.
        const error = result.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error)
        if (error) {
          const message = ts.flattenDiagnosticMessageText(error.messageText, '\n')
          const at = error.file?.getLineAndCharacterOfPosition(error.start ?? 0)
          const line = at ? at.line + 1 : null
          throw new TranspileError(message, filename, line, (at?.character ?? 0) + 1)
        }
        return result.outputText
      }
    }
    return { name: 'typescript', cjs: compile(ts.ModuleKind.CommonJS), esm: compile(ts.ModuleKind.ESNext) }
  }

  // The project's own transpiler, resolved on first use and remembered; a missing one is looked
  // up again next time (it may have been installed since).
  function projectCompilers() {
    if (compilers) return compilers
    let esbuildError
    try {
      compilers = esbuildCompiler(projectRequire('esbuild'))
      return compilers
    } catch (error) {
      esbuildError = error // e.g. not installed, or installed for another platform
    }
    let ts
    try {
      ts = projectRequire('typescript')
    } catch (typescriptError) {
      // Not installed at all, as opposed to installed and broken (a main file that is gone).
      const missing = (error, name) =>
        error?.code === 'MODULE_NOT_FOUND' && error.message.includes(`'${name}'`)
      const esbuildMissing = missing(esbuildError, 'esbuild')
      if (esbuildMissing && missing(typescriptError, 'typescript')) {
        throw new MissingTranspilerError()
      }
      const broken = esbuildMissing ? typescriptError : esbuildError
      const name = esbuildMissing ? 'typescript' : 'esbuild'
      throw new MissingTranspilerError(
        `the project's ${name} package cannot be loaded (${broken.message.split('\n')[0]}): ` +
          `reinstall it (\`rm -rf node_modules/${name} && npm install\`), or use Node.js 22.13 ` +
          'or newer, or `pip install motia-python[node]`',
      )
    }
    compilers = typescriptCompiler(ts)
    return compilers
  }

  // The project's compilers, or null when it has none that works and the extra's Node can
  // strip types instead.
  function projectOrService() {
    try {
      return projectCompilers()
    } catch (error) {
      if (serviceStrip && error instanceof MissingTranspilerError) return null
      throw error
    }
  }

  function stripModule(source, filename, strip) {
    const code = strip(source, filename)
    const ownPackage = path.extname(filename) === '.ts' &&
      packageType(path.dirname(filename)) === 'commonjs'
    return ownPackage ? commonJsGlobals(code, filename) : code
  }

  // `require`, `__filename` and `__dirname` for a CommonJS-package `.ts` file that runs as an ES
  // module, put before its first line so that its line numbers stay.
  function commonJsGlobals(code, filename) {
    const wanted = ['require', '__filename', '__dirname'].filter(
      (name) => new RegExp(`(?<![\\w$.])${name}(?![\\w$])`).test(code) &&
        !new RegExp(`(?:const|let|var|function|import)\\s+[^;=]*\\b${name}\\b`).test(code),
    )
    if (wanted.length === 0) return code
    const prelude = {
      require: "import { createRequire as __motiaCreateRequire } from 'node:module';" +
        'const require = __motiaCreateRequire(import.meta.url);',
      __filename: `const __filename = ${JSON.stringify(filename)};`,
      __dirname: `const __dirname = ${JSON.stringify(path.dirname(filename))};`,
    }
    return wanted.map((name) => prelude[name]).join('') + code
  }

  const transpiler = {
    // 'module' or 'commonjs': how `filename` runs.
    formatOf(filename) {
      const extension = path.extname(filename)
      if (extension === '.mts') return 'module'
      if (extension === '.cts') return 'commonjs'
      if (packageType(path.dirname(filename)) === 'module') return 'module'
      // A `.ts` file of a CommonJS package: a transpiler makes CommonJS of it; type stripping
      // cannot, so a file with import/export then runs as an ES module.
      if (!ownStrip && (!serviceStrip || projectOrService())) return 'commonjs'
      let source = ''
      try {
        source = fs.readFileSync(filename, 'utf8')
      } catch {
        return 'commonjs' // the loader reports the missing file
      }
      return hasModuleSyntax(source) ? 'module' : 'commonjs'
    },

    // JavaScript of an ES module.
    toModule(source, filename) {
      if (ownStrip) return stripModule(source, filename, ownStrip)
      const project = projectOrService()
      return project ? project.esm(source, filename) : stripModule(source, filename, serviceStrip)
    },

    // JavaScript of a CommonJS module.
    toCommonJs(source, filename) {
      const strip = ownStrip ?? serviceStrip
      if (ownStrip && !hasModuleSyntax(source)) return ownStrip(source, filename)
      try {
        const project = projectOrService()
        if (project) return project.cjs(source, filename)
      } catch (error) {
        if (!(error instanceof MissingTranspilerError) || !strip) throw error
      }
      if (!hasModuleSyntax(source)) return strip(source, filename)
      throw new MissingTranspilerError(
        `${path.basename(filename)} uses import/export but is loaded with require(), and ` +
          "Node's type stripping cannot turn it into CommonJS: import it with `import` " +
          'instead, or add esbuild to the project (`npm install --save-dev esbuild`)',
      )
    },

    // Installs the hooks into Node's CommonJS loader; call once.
    registerCommonJs() {
      const loadTypeScript = (module, filename) => {
        const source = fs.readFileSync(filename, 'utf8')
        module._compile(transpiler.toCommonJs(source, filename), filename)
      }
      for (const extension of TS_EXTENSIONS) Module._extensions[extension] = loadTypeScript
      const aliases = readPathAliases(projectDir)
      const resolveFilename = Module._resolveFilename
      Module._resolveFilename = function (request, parent, ...rest) {
        const fromProject = inProject(projectDir, parent?.filename)
        if (fromProject && aliases.length && !isRelative(request)) {
          const aliased = resolveAlias(aliases, request)
          if (aliased) return aliased
        }
        try {
          return resolveFilename.call(this, request, parent, ...rest)
        } catch (error) {
          if (error?.code !== 'MODULE_NOT_FOUND' || !fromProject) throw error
          // TypeScript written for Node's ESM resolution imports `./lib/x.js` for `./lib/x.ts`.
          if (isRelative(request)) {
            const found = probe(path.resolve(path.dirname(parent.filename), request))
            if (found) return found
            throw error
          }
          if (!isClassicPackage(request)) throw error
          return classicStandIn(request)
        }
      }
    },
  }
  return transpiler
}

// A missing classic package seen through require(): a module of stand-ins in the require cache.
function classicStandIn(request) {
  const filename = `motia-standin:${request}`
  if (!Module._cache[filename]) {
    const standIn = new Module(filename)
    standIn.filename = filename
    standIn.loaded = true
    const exports = standInValue('default')
    exports.config = standInValue('config')
    exports.defineConfig = standInValue('defineConfig')
    exports.default = exports
    exports.__esModule = false
    standIn.exports = new Proxy(exports, {
      get: (target, name) =>
        name in target || typeof name !== 'string' ? target[name] : standInValue(name),
    })
    Module._cache[filename] = standIn
  }
  return filename
}
