// zod schemas → JSON Schema (draft-07), so step configs reach the server as plain JSON.
//
// zod 4 schemas are converted by zod's own `toJSONSchema`, taken from the zod copy that made the
// schema (the method on the schema in zod ≥ 4.2, else the project's zod of the same version:
// converters of other versions misread newer schemas). zod 3 has no converter of its own, so
// `fromZod3` walks its `_def` tree. Both describe the *input* a schema accepts: a field with a
// default is optional, a transform shows what it reads.

import fs from 'node:fs'
import Module from 'node:module'
import path from 'node:path'

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#'
const V4_OPTIONS = { target: 'draft-7', io: 'input', unrepresentable: 'any' }

export function isZod4(value) {
  return value !== null && typeof value === 'object' && typeof value._zod === 'object' &&
    value._zod !== null && typeof value._zod.def === 'object'
}

export function isZod3(value) {
  return value !== null && typeof value === 'object' && typeof value._def === 'object' &&
    value._def !== null && typeof value._def.typeName === 'string' &&
    typeof value.safeParse === 'function'
}

// Standard JSON Schema (https://standardschema.dev): other schema libraries that convert
// themselves.
function isStandardJsonSchema(value) {
  return value !== null && typeof value === 'object' &&
    typeof value['~standard']?.jsonSchema?.input === 'function'
}

export function isSchema(value) {
  return isZod4(value) || isZod3(value) || isStandardJsonSchema(value)
}

export function createSchemaConverter(projectDir) {
  let converters = null // zod 4 `toJSONSchema` functions of the project, found on first use

  function projectConverters() {
    if (converters) return converters
    converters = []
    const projectRequire = Module.createRequire(path.join(projectDir, 'package.json'))
    // `zod`, plus npm aliases of it ("zod4": "npm:zod@^4") from the project's package.json.
    const names = new Set(['zod'])
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8'))
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
        for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
          if (typeof spec === 'string' && spec.startsWith('npm:zod@')) names.add(name)
        }
      }
    } catch {
      // No readable package.json: the plain `zod` is all we can look for.
    }
    for (const name of names) {
      for (const entry of [`${name}/v4/core`, `${name}/v4`]) {
        try {
          const zod = projectRequire(entry)
          const convert = zod.toJSONSchema ?? zod.z?.toJSONSchema
          if (typeof convert !== 'function') continue
          const version = zod.version ?? projectRequire(`${name}/v4/core`).version
          converters.push({ convert, version })
          break
        } catch {
          // Not installed, or a zod without v4 (3.24 and older).
        }
      }
    }
    return converters
  }

  function fromZod4(schema) {
    if (typeof schema.toJSONSchema === 'function') return schema.toJSONSchema(V4_OPTIONS)
    const wanted = schema._zod.version
    const same = ({ version }) =>
      ['major', 'minor', 'patch'].every((part) => version?.[part] === wanted?.[part])
    const candidates = projectConverters()
    const ordered = [...candidates.filter(same), ...candidates.filter((c) => !same(c))]
    let lastError = null
    for (const { convert } of ordered) {
      try {
        return convert(schema, V4_OPTIONS)
      } catch (error) {
        lastError = error
      }
    }
    throw lastError ?? new Error('a zod 4 schema, but no zod 4 `toJSONSchema` in the project')
  }

  return function toJsonSchema(schema) {
    if (isZod4(schema)) return fromZod4(schema)
    if (isZod3(schema)) return { $schema: DRAFT_07, ...fromZod3(schema) }
    return schema['~standard'].jsonSchema.input({ target: 'draft-07' })
  }
}

// --- zod 3 ---------------------------------------------------------------------------------

// Whether an object property of this type may be left out (structurally, without running
// the schema: a refinement or transform could have side effects).
function acceptsUndefined(schema, seen = new Set()) {
  if (!isZod3(schema) || seen.has(schema)) return false
  seen.add(schema)
  const def = schema._def
  switch (def.typeName) {
    case 'ZodOptional':
    case 'ZodDefault':
    case 'ZodCatch':
    case 'ZodAny':
    case 'ZodUnknown':
    case 'ZodUndefined':
    case 'ZodVoid':
      return true
    case 'ZodNullable':
    case 'ZodBranded':
    case 'ZodReadonly':
      return acceptsUndefined(def.innerType ?? def.type, seen)
    case 'ZodEffects':
      return acceptsUndefined(def.schema, seen)
    case 'ZodPipeline':
      return acceptsUndefined(def.in, seen)
    case 'ZodLazy':
      return acceptsUndefined(safeCall(def.getter), seen)
    case 'ZodUnion':
      return (def.options ?? []).some((option) => acceptsUndefined(option, seen))
    default:
      return false
  }
}

function safeCall(fn) {
  try {
    return fn()
  } catch {
    return undefined
  }
}

function escapePattern(text) {
  return String(text).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

const STRING_FORMATS = {
  email: 'email',
  url: 'uri',
  uuid: 'uuid',
  datetime: 'date-time',
  date: 'date',
  time: 'time',
  duration: 'duration',
}

const STRING_PATTERNS = {
  cuid: '^[cC][^\\s-]{8,}$',
  cuid2: '^[0-9a-z]+$',
  ulid: '^[0-9A-HJKMNP-TV-Z]{26}$',
  nanoid: '^[a-zA-Z0-9_-]{21}$',
  emoji: '^(\\p{Extended_Pictographic}|\\p{Emoji_Component})+$',
}

function fromString(def) {
  const out = { type: 'string' }
  const patterns = []
  for (const check of def.checks ?? []) {
    switch (check.kind) {
      case 'min':
        out.minLength = Math.max(out.minLength ?? 0, check.value)
        break
      case 'max':
        out.maxLength = Math.min(out.maxLength ?? Infinity, check.value)
        break
      case 'length':
        out.minLength = check.value
        out.maxLength = check.value
        break
      case 'regex':
        patterns.push(check.regex.source)
        break
      case 'startsWith':
        patterns.push(`^${escapePattern(check.value)}`)
        break
      case 'endsWith':
        patterns.push(`${escapePattern(check.value)}$`)
        break
      case 'includes':
        patterns.push(escapePattern(check.value))
        break
      case 'ip':
        if (check.version) out.format = check.version
        break
      case 'base64':
        out.contentEncoding = 'base64'
        break
      default:
        if (STRING_FORMATS[check.kind]) out.format = STRING_FORMATS[check.kind]
        else if (STRING_PATTERNS[check.kind]) patterns.push(STRING_PATTERNS[check.kind])
    }
  }
  if (patterns.length === 1) out.pattern = patterns[0]
  else if (patterns.length > 1) out.allOf = patterns.map((pattern) => ({ pattern }))
  return out
}

function fromNumber(def) {
  const out = { type: 'number' }
  for (const check of def.checks ?? []) {
    switch (check.kind) {
      case 'int':
        out.type = 'integer'
        break
      case 'min':
        if (check.inclusive) out.minimum = check.value
        else out.exclusiveMinimum = check.value
        break
      case 'max':
        if (check.inclusive) out.maximum = check.value
        else out.exclusiveMaximum = check.value
        break
      case 'multipleOf':
        out.multipleOf = check.value
        break
    }
  }
  return out
}

function fromLiteral(value) {
  if (value === null) return { type: 'null' }
  const type = typeof value
  if (type === 'string' || type === 'boolean') return { type, const: value }
  if (type === 'number') {
    return { type: Number.isInteger(value) ? 'integer' : 'number', const: value }
  }
  return {}
}

function fromNativeEnum(values) {
  // TypeScript numeric enums map names to numbers and numbers back to names; keep the values.
  const all = Object.keys(values)
    .filter((key) => typeof values[values[key]] !== 'number')
    .map((key) => values[key])
  const types = [...new Set(all.map((value) => typeof value))]
  return { type: types.length === 1 ? types[0] : types, enum: all }
}

function withDescription(out, def) {
  if (typeof def.description === 'string' && out.description === undefined) {
    return { ...out, description: def.description }
  }
  return out
}

function jsonValue(value) {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

// Converts one zod 3 schema. `active` holds the schemas being converted above this one, so that
// a recursive (lazy) schema ends in `{}` instead of looping.
export function fromZod3(schema, active = new Set()) {
  if (!isZod3(schema)) return {}
  if (active.has(schema)) return {}
  active.add(schema)
  try {
    return withDescription(convertZod3(schema._def, active), schema._def)
  } finally {
    active.delete(schema)
  }
}

function convertZod3(def, active) {
  const inner = (schema) => fromZod3(schema, active)
  switch (def.typeName) {
    case 'ZodString':
      return fromString(def)
    case 'ZodNumber':
      return fromNumber(def)
    case 'ZodBigInt':
      return { type: 'integer', format: 'int64' }
    case 'ZodBoolean':
      return { type: 'boolean' }
    case 'ZodNull':
      return { type: 'null' }
    case 'ZodDate':
      return { type: 'string', format: 'date-time' }
    case 'ZodLiteral':
      return fromLiteral(def.value)
    case 'ZodEnum':
      return { type: 'string', enum: [...def.values] }
    case 'ZodNativeEnum':
      return fromNativeEnum(def.values)
    case 'ZodObject': {
      const shape = typeof def.shape === 'function' ? def.shape() : def.shape
      const properties = {}
      const required = []
      for (const [key, value] of Object.entries(shape ?? {})) {
        properties[key] = inner(value)
        if (!acceptsUndefined(value)) required.push(key)
      }
      const out = { type: 'object', properties }
      if (required.length) out.required = required
      const catchall = def.catchall
      if (isZod3(catchall) && catchall._def.typeName !== 'ZodNever') {
        out.additionalProperties = inner(catchall)
      } else if (def.unknownKeys === 'strict') {
        out.additionalProperties = false
      }
      return out
    }
    case 'ZodArray': {
      const out = { type: 'array', items: inner(def.type) }
      if (def.minLength) out.minItems = def.minLength.value
      if (def.maxLength) out.maxItems = def.maxLength.value
      if (def.exactLength) {
        out.minItems = def.exactLength.value
        out.maxItems = def.exactLength.value
      }
      return out
    }
    case 'ZodTuple': {
      const items = (def.items ?? []).map(inner)
      const out = { type: 'array', items, minItems: items.length }
      if (def.rest) out.additionalItems = inner(def.rest)
      else out.maxItems = items.length
      return out
    }
    case 'ZodSet': {
      const out = { type: 'array', uniqueItems: true, items: inner(def.valueType) }
      if (def.minSize) out.minItems = def.minSize.value
      if (def.maxSize) out.maxItems = def.maxSize.value
      return out
    }
    case 'ZodRecord': {
      const out = { type: 'object', additionalProperties: inner(def.valueType) }
      const keys = inner(def.keyType)
      if (keys.enum || keys.pattern || keys.minLength || keys.maxLength) {
        const { type, ...propertyNames } = keys
        out.propertyNames = propertyNames
      }
      return out
    }
    case 'ZodMap':
      return {
        type: 'array',
        items: {
          type: 'array',
          items: [inner(def.keyType), inner(def.valueType)],
          minItems: 2,
          maxItems: 2,
        },
      }
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion': {
      // A Map of options in early zod 3 discriminated unions, an array later.
      const options = Array.isArray(def.options)
        ? def.options
        : [...(def.options?.values?.() ?? [])]
      return { anyOf: options.map(inner) }
    }
    case 'ZodIntersection':
      return { allOf: [inner(def.left), inner(def.right)] }
    case 'ZodOptional':
      return inner(def.innerType)
    case 'ZodNullable':
      return { anyOf: [inner(def.innerType), { type: 'null' }] }
    case 'ZodDefault': {
      const out = inner(def.innerType)
      const value = jsonValue(safeCall(def.defaultValue))
      return value === undefined ? out : { ...out, default: value }
    }
    case 'ZodEffects':
      return inner(def.schema)
    case 'ZodPipeline':
      return inner(def.in)
    case 'ZodBranded':
      return inner(def.type)
    case 'ZodCatch':
    case 'ZodReadonly':
      return inner(def.innerType)
    case 'ZodPromise':
      return inner(def.type)
    case 'ZodLazy':
      return inner(safeCall(def.getter))
    case 'ZodNever':
      return { not: {} }
    default:
      // ZodAny, ZodUnknown, ZodUndefined, ZodVoid, ZodFunction, ZodSymbol, ZodNaN, and types of
      // later versions: anything goes.
      return {}
  }
}
