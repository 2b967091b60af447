// Strips the types of the TypeScript on stdin and writes the JavaScript to stdout; run with the
// Node of the `motia-python[node]` extra by a runner whose own Node cannot strip types.
// Usage: node strip_service.mjs <file name for messages>

import Module from 'node:module'
import { stripWith } from './type_strip.mjs'

const file = process.argv[2] ?? '<stdin>'
const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
try {
  process.stdout.write(stripWith(Module.stripTypeScriptTypes, Buffer.concat(chunks).toString('utf8'), file))
} catch (error) {
  process.stderr.write(JSON.stringify({
    message: String(error?.message ?? error),
    code: error?.code ?? null,
    stack: String(error?.stack ?? ''),
  }))
  process.exitCode = 1
}
