/**
 * Moving values to another thread: worker-task arguments, results and
 * `started()` values, and errors.
 *
 * Values cross by structured clone, except objects implementing the transfer
 * protocol (`kTransfer`, resources.ts): those are *moved* — the local handle is
 * given up and replaced by a marker record that the other thread revives with
 * the module named in the record. The walk looks into arrays and plain objects
 * (where endpoints are passed in practice), not into Maps, Sets or class
 * instances, which structured clone would flatten anyway.
 */
import { makeError } from './error-classes.ts'
import './errors.ts' // registers the runtime's error classes
import { kTransfer, type TransferRecord } from './resources.ts'

const MARK = '__gotrio_transfer__'

interface Marker {
  [MARK]: TransferRecord
}

function isMarker(v: object): v is Marker {
  return Object.prototype.hasOwnProperty.call(v, MARK)
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}

type TransferFn = (check?: boolean) => TransferRecord | undefined

/**
 * Replaces transferable objects in `value` by markers, giving them up (a
 * move). Returns `value` itself if it holds none. All or nothing: every
 * transferable is checked first, so if one cannot move (a memory-channel
 * endpoint, a closed handle) this throws and no handle has been given up.
 */
export function encodeForTransfer(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  walk(value, true)
  return walk(value, false)
}

function walk(value: unknown, check: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value
  const t = (value as Partial<Record<typeof kTransfer, TransferFn>>)[kTransfer]
  if (typeof t === 'function') {
    const rec = t.call(value, check)
    return check ? value : ({ [MARK]: rec! } satisfies Marker)
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const e = walk(value[i], check)
      if (e !== value[i]) (out ??= value.slice())[i] = e
    }
    return out ?? value
  }
  if (isPlain(value)) {
    let out: Record<string, unknown> | undefined
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k]
      const e = walk(v, check)
      if (e !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = e
    }
    return out ?? value
  }
  return value
}

/** True if `value` (as encoded) holds any marker, so `decodeTransferred` has work to do. */
export function hasMarkers(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return value.some(hasMarkers)
  if (!isPlain(value)) return false
  if (isMarker(value)) return true
  return Object.values(value).some(hasMarkers)
}

const reviverCache = new Map<string, (data: unknown) => unknown>()

async function reviver(module: string): Promise<(data: unknown) => unknown> {
  let r = reviverCache.get(module)
  if (!r) {
    const mod = (await import(module)) as { reviveTransfer?: (data: unknown) => unknown }
    if (typeof mod.reviveTransfer !== 'function') {
      throw new TypeError(`gotrio: transfer module ${module} has no reviveTransfer(data) export`)
    }
    r = mod.reviveTransfer
    reviverCache.set(module, r)
  }
  return r
}

/** Turns markers back into live objects (in the current task context: revived endpoints are owned by it). */
export async function decodeTransferred(value: unknown): Promise<unknown> {
  if (!hasMarkers(value)) return value
  return decodeWalk(value)
}

async function decodeWalk(value: unknown): Promise<unknown> {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const e of value) out.push(await decodeWalk(e))
    return out
  }
  if (!isPlain(value)) return value
  if (isMarker(value)) {
    const rec = value[MARK]
    return (await reviver(rec.module))(rec.data)
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = await decodeWalk(v)
  return out
}

/** An error as plain data: survives structured clone with its name, message, stack, cause and own fields. */
export interface ErrorRecord {
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  readonly cause?: unknown
  readonly errors?: unknown[]
  readonly props: Record<string, unknown>
  readonly isError: true
}

export function serializeError(e: unknown, depth = 0): unknown {
  if (!(e instanceof Error) || depth > 8) {
    try {
      return structuredClone(e)
    } catch {
      return String(e)
    }
  }
  const props: Record<string, unknown> = {}
  for (const k of Object.keys(e)) {
    if (k === 'cause' || k === 'errors' || k === 'name' || k === 'message' || k === 'stack') continue
    try {
      props[k] = structuredClone((e as unknown as Record<string, unknown>)[k])
    } catch {
      /* a field that cannot cross threads is dropped */
    }
  }
  const rec: ErrorRecord = {
    isError: true,
    name: e.name,
    message: e.message,
    stack: e.stack,
    props,
    ...('cause' in e ? { cause: serializeError(e.cause, depth + 1) } : {}),
    ...(e instanceof AggregateError ? { errors: e.errors.map((x) => serializeError(x, depth + 1)) } : {}),
  }
  return rec
}

function isErrorRecord(v: unknown): v is ErrorRecord {
  return typeof v === 'object' && v !== null && (v as { isError?: unknown }).isError === true
}

/**
 * Rebuilds an error from `serializeError`: an instance of the class registered
 * under its name (error-classes.ts; a `TypeError` stays a `TypeError`, a
 * `Cancelled` a `Cancelled`), else an `Error` (or `AggregateError`), with the
 * original name, message, stack, cause, errors and own fields.
 */
export function deserializeError(v: unknown): unknown {
  if (!isErrorRecord(v)) return v
  const opts = 'cause' in v ? { cause: deserializeError(v.cause) } : undefined
  const e = makeError(v.name, v.message, opts, v.errors?.map(deserializeError))
  Object.defineProperty(e, 'name', { value: v.name, writable: true, configurable: true, enumerable: false })
  if (v.stack !== undefined) e.stack = v.stack
  Object.assign(e, v.props)
  return e
}
