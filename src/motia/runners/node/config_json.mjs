// A step or stream config as JSON for the server: schemas become JSON Schema, functions are
// removed and their fields listed, and other values that are not JSON are left out.

import { isSchema } from './zod_schema.mjs'

// Returns `{config, functions}`; `functions` names the fields that held functions, dotted for
// nested ones (`middleware`, `canAccess`, `baseConfig.factory`). Throws on a circular config.
export function configToJson(config, toJsonSchema) {
  const functions = []
  const active = new Set() // objects on the current path, to detect cycles

  function convert(value, where) {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value
      case 'number':
        return Number.isFinite(value) ? value : null
      case 'bigint':
        return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
      case 'function':
        functions.push(where)
        return undefined
      case 'undefined':
      case 'symbol':
        return undefined
    }
    if (value === null) return null
    if (isSchema(value)) {
      try {
        return toJsonSchema(value)
      } catch (error) {
        throw new Error(
          `cannot convert the schema in \`${where}\` to JSON Schema: ${error.message}`,
        )
      }
    }
    if (active.has(value)) throw new Error(`the config refers to itself at \`${where}\``)
    active.add(value)
    try {
      if (Array.isArray(value)) return convertArray(value, where)
      if (typeof value.toJSON === 'function') return convert(value.toJSON(), where)
      if (value instanceof Map) return convertObject(Object.fromEntries(value), where)
      if (value instanceof Set) return convertArray([...value], where)
      return convertObject(value, where)
    } finally {
      active.delete(value)
    }
  }

  function convertArray(array, where) {
    // An array of functions (`middleware: [auth, log]`) is one function field; other values
    // that are not JSON become null, as JSON.stringify does.
    const hasFunctions = array.some((item) => typeof item === 'function')
    if (hasFunctions) functions.push(where)
    const out = []
    array.forEach((item, index) => {
      if (typeof item === 'function') return
      const converted = convert(item, `${where}.${index}`)
      out.push(converted === undefined ? null : converted)
    })
    return hasFunctions && out.length === 0 ? undefined : out
  }

  function convertObject(object, where) {
    const out = {}
    for (const key of Object.keys(object)) {
      const converted = convert(object[key], where ? `${where}.${key}` : key)
      if (converted !== undefined) out[key] = converted
    }
    return out
  }

  const json = convert(config, '')
  return { config: json, functions: [...new Set(functions)] }
}
