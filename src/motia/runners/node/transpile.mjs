// TypeScript support: a `require` hook that transpiles `.ts` files once, with the transpiler the
// project has installed (esbuild, else typescript). The runner ships no npm dependencies, so
// both are resolved from the project's node_modules.
//
// Files are transpiled file by file, without type checking: imports used only as types (such
// as `import { Handlers } from 'motia'`, a package that does not exist at run time) are dropped
// by both transpilers as long as `verbatimModuleSyntax` is off, which we never set.

import fs from 'node:fs'
import Module from 'node:module'
import path from 'node:path'
import { StepError } from './errors.mjs'

export const TS_EXTENSIONS = ['.ts', '.cts', '.mts']

export const MISSING_TRANSPILER =
  'TypeScript steps need a transpiler installed in the project: ' +
  'run `npm install --save-dev esbuild` (or typescript)'

// A transpiler's syntax error, with the place it points at (read by errors.lineOf).
class TranspileError extends SyntaxError {
  constructor(message, file, line, column) {
    super(line ? `${message} (${file}:${line}:${column})` : message)
    this.name = 'SyntaxError'
    this.file = file
    this.line = line
    this.stack = `SyntaxError: ${this.message}\n    at ${file}:${line ?? 1}:${column ?? 1}`
  }
}

export class MissingTranspilerError extends StepError {
  constructor() {
    super(MISSING_TRANSPILER)
  }
}

export function createTranspiler(projectDir) {
  const projectRequire = Module.createRequire(path.join(projectDir, 'package.json'))
  let compile = null // (source, filename) => JavaScript, once resolved

  function esbuildCompiler(esbuild) {
    const target = `node${process.versions.node.split('.')[0]}`
    return (source, filename) => {
      try {
        return esbuild.transformSync(source, {
          loader: 'ts',
          format: 'cjs',
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
  }

  function typescriptCompiler(ts) {
    const compilerOptions = {
      module: ts.ModuleKind.CommonJS,
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

  // Resolved on first use and remembered; a missing transpiler is looked up again next time
  // (it may have been installed since).
  function resolve() {
    if (compile) return compile
    let esbuildError
    try {
      compile = esbuildCompiler(projectRequire('esbuild'))
      return compile
    } catch (error) {
      esbuildError = error // e.g. not installed, or installed for another platform
    }
    try {
      compile = typescriptCompiler(projectRequire('typescript'))
      return compile
    } catch (typescriptError) {
      const missing = (error) => error?.code === 'MODULE_NOT_FOUND'
      if (missing(esbuildError) && missing(typescriptError)) throw new MissingTranspilerError()
      throw missing(esbuildError) ? typescriptError : esbuildError
    }
  }

  function loadTypeScript(module, filename) {
    const source = fs.readFileSync(filename, 'utf8')
    module._compile(resolve()(source, filename), filename)
  }

  return {
    // Installs the hooks into Node's CommonJS loader; call once.
    register() {
      for (const extension of TS_EXTENSIONS) Module._extensions[extension] = loadTypeScript
      // TypeScript written for Node's ESM resolution imports `./lib/x.js` for `./lib/x.ts`:
      // when such a relative import from a TypeScript file finds nothing, try the TS name.
      const resolveFilename = Module._resolveFilename
      Module._resolveFilename = function (request, parent, ...rest) {
        try {
          return resolveFilename.call(this, request, parent, ...rest)
        } catch (error) {
          const fromTs = parent?.filename && TS_EXTENSIONS.includes(path.extname(parent.filename))
          const match = /^(\.{1,2}\/.*)\.([cm]?)js$/.exec(request)
          if (error?.code !== 'MODULE_NOT_FOUND' || !fromTs || !match) throw error
          try {
            return resolveFilename.call(this, `${match[1]}.${match[2]}ts`, parent, ...rest)
          } catch {
            throw error
          }
        }
      }
    },
  }
}
