/**
 * Codecs: how a value becomes ring content and back.
 *
 *  - Fixed-width numeric codecs (`'int32'`, `'uint32'`, `'float64'`): the number
 *    itself is the slot; nothing is allocated per value. They refuse anything
 *    that is not a number of their type with a TypeError, before writing.
 *  - Byte codecs: `'structured'` (v8 serialization: what structured clone
 *    accepts, BigInt, Map, Date, typed arrays, plus shared-channel endpoints,
 *    which move) and user codecs (`Codec<T>`). Values up to the slot's inline
 *    size travel in the slot; longer ones in an arena block (ring.ts).
 *
 * Endpoints inside structured values: v8 serialization would copy an endpoint
 * object as a plain object, so `encodeStructured` first looks for endpoints
 * (only through arrays, plain objects, Maps and Sets), and if it finds any it
 * serializes `[copyWithMarkers, descriptors]` instead and flags the entry
 * ENTRY_HAS_ENDPOINTS. The endpoints are given up (moved) only once the entry
 * is committed to the ring, so a send that fails leaves them usable.
 */
import v8 from 'node:v8'
import { FAST_TAG, fastDecode, fastEncode } from './fast-structured.ts'
import { CODEC_BYTES, CODEC_FLOAT64, CODEC_INT32, CODEC_UINT32 } from './layout.ts'
import { kTransfer } from '@gotrio/runtime/lowlevel'

/**
 * A user codec: turns values into bytes and back. `encode` may throw (a
 * TypeError is the convention) to refuse a value; the send then writes nothing.
 * `decode` receives a view that is valid only during the call: copy what you keep.
 */
export interface Codec<T> {
  /**
   * Names the codec so a thread that receives an endpoint of this channel can
   * find it: call `registerSharedCodec(codec)` in every thread that uses the
   * channel (the thread that opens the channel registers it itself).
   */
  readonly name: string
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

export type CodecOption<T> = 'structured' | 'int32' | 'uint32' | 'float64' | Codec<T>

/** The endpoint operations the structured codec needs (installed by endpoints.ts; avoids an import cycle). */
export interface EndpointHooks {
  isEndpoint(x: unknown): boolean
  /** Checks that the endpoint can move (throws ClosedResourceError) and returns its descriptor. */
  describe(x: unknown): unknown[]
  /** Gives the endpoint up (after the entry carrying it was committed). */
  moveOut(x: unknown): void
  revive(desc: readonly unknown[]): unknown
}

let hooks: EndpointHooks | undefined
export function setEndpointHooks(h: EndpointHooks): void {
  hooks = h
}

export interface ResolvedCodec {
  readonly kind: number
  readonly name: string
  readonly user: Codec<unknown> | undefined
}

export function resolveCodec(fn: string, codec: unknown): ResolvedCodec {
  switch (codec) {
    case undefined:
    case 'structured':
      return { kind: CODEC_BYTES, name: 'structured', user: undefined }
    case 'int32':
      return { kind: CODEC_INT32, name: 'int32', user: undefined }
    case 'uint32':
      return { kind: CODEC_UINT32, name: 'uint32', user: undefined }
    case 'float64':
      return { kind: CODEC_FLOAT64, name: 'float64', user: undefined }
  }
  if (
    typeof codec === 'object' &&
    codec !== null &&
    typeof (codec as Codec<unknown>).encode === 'function' &&
    typeof (codec as Codec<unknown>).decode === 'function' &&
    typeof (codec as Codec<unknown>).name === 'string' &&
    !BUILTIN.has((codec as Codec<unknown>).name)
  ) {
    registerSharedCodec(codec as Codec<unknown>)
    return { kind: CODEC_BYTES, name: (codec as Codec<unknown>).name, user: codec as Codec<unknown> }
  }
  throw new TypeError(
    `${fn}: options.codec must be 'structured', 'int32', 'uint32', 'float64' or a Codec (an object with a name other than those, encode(value) and decode(bytes)), got ${String(codec)}`,
  )
}

const BUILTIN = new Set(['structured', 'int32', 'uint32', 'float64'])
const userCodecs = new Map<string, Codec<unknown>>()

/** Makes a user codec known to this thread, so endpoints of channels using it can arrive here. */
export function registerSharedCodec(codec: Codec<unknown>): void {
  const had = userCodecs.get(codec.name)
  if (had && had !== codec) throw new TypeError(`registerSharedCodec: another codec named '${codec.name}' is registered in this thread`)
  userCodecs.set(codec.name, codec)
}

/** The codec of an arriving endpoint. */
export function codecByName(name: string): ResolvedCodec {
  if (BUILTIN.has(name)) return resolveCodec('codecByName', name)
  const c = userCodecs.get(name)
  if (!c) {
    throw new TypeError(
      `a shared-channel endpoint using the user codec '${name}' arrived in a thread where that codec is not registered; call registerSharedCodec(codec) in this thread first`,
    )
  }
  return { kind: CODEC_BYTES, name, user: c }
}

/** Checks a number for a numeric codec; returns it (uint32 as its int32 bit pattern). */
export function checkNumber(kind: number, fn: string, v: unknown): number {
  if (typeof v === 'number') {
    if (kind === CODEC_FLOAT64) return v
    if (kind === CODEC_INT32 && (v | 0) === v && !Object.is(v, -0)) return v
    if (kind === CODEC_UINT32 && v >>> 0 === v && !Object.is(v, -0)) return v | 0
  }
  const what = kind === CODEC_INT32 ? 'an integer in [-2^31, 2^31)' : kind === CODEC_UINT32 ? 'an integer in [0, 2^32)' : 'a number'
  const name = kind === CODEC_INT32 ? 'int32' : kind === CODEC_UINT32 ? 'uint32' : 'float64'
  throw new TypeError(`${fn}: the '${name}' codec carries ${what}, got ${typeof v === 'number' ? v : typeof v}; nothing was sent`)
}

/** An encoded byte value, ready to commit. */
export interface Encoded {
  bytes: Uint8Array
  /** Endpoints to give up once committed (empty if none). */
  endpoints: unknown[]
}

const MARKER = '\u0000gotrio.endpoint'
const NONE: unknown[] = []

/** `fastTried`: the caller's fastEncodeScratch declined `value` already (skip the second walk). */
export function encodeBytes(codec: ResolvedCodec, fn: string, value: unknown, fastTried = false): Encoded {
  if (codec.user) {
    const bytes = codec.user.encode(value)
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`${fn}: the user codec's encode() must return a Uint8Array, got ${typeof bytes}; nothing was sent`)
    }
    return { bytes, endpoints: [] }
  }
  const fast = fastTried ? undefined : fastEncode(value) // small plain values: no C++ round trip (fast-structured.ts)
  if (fast) return { bytes: fast, endpoints: NONE }
  const found: unknown[] = []
  if (hooks) findEndpoints(value, found, new Set())
  if (found.length === 0) return { bytes: serialize(value), endpoints: found }
  const descs = found.map((e) => hooks!.describe(e))
  const copy = replaceEndpoints(value, found, new Map())
  return { bytes: serialize([copy, descs]), endpoints: found }
}

export function decodeBytes(codec: ResolvedCodec, bytes: Uint8Array, hasEndpoints: boolean): unknown {
  if (codec.user) return codec.user.decode(bytes)
  if (bytes[0] === FAST_TAG) return fastDecode(bytes)
  const v = v8.deserialize(bytes)
  if (!hasEndpoints) return v
  const [copy, descs] = v as [unknown, unknown[][]]
  const revived = descs.map((d) => hooks!.revive(d))
  return restoreEndpoints(copy, revived, new Set())
}

/** Revives and closes every endpoint of an encoded value that is being dropped (the last receiver closed). */
export function closeEndpointsIn(bytes: Uint8Array): void {
  const [, descs] = v8.deserialize(bytes) as [unknown, unknown[][]]
  for (const d of descs) (hooks!.revive(d) as { close(): void }).close()
}

function serialize(value: unknown): Uint8Array {
  try {
    return v8.serialize(value)
  } catch (e) {
    throw new DOMException(`${(e as Error).message} (structured codec); nothing was sent`, 'DataCloneError')
  }
}

function isPlain(x: object): boolean {
  const p = Object.getPrototypeOf(x)
  return p === Object.prototype || p === null
}

function findEndpoints(v: unknown, out: unknown[], seen: Set<object>): void {
  if (typeof v !== 'object' || v === null || seen.has(v)) return
  seen.add(v)
  if (hooks!.isEndpoint(v)) {
    out.push(v)
    return
  }
  // Anything else that speaks the runtime's move protocol but is not a shared
  // endpoint (a memory-channel endpoint) cannot cross threads: its check-only
  // call throws the TypeError that says so, before anything is written.
  const move = (v as { [kTransfer]?: unknown })[kTransfer]
  if (typeof move === 'function') {
    move.call(v, true)
    throw new TypeError(
      `a ${v.constructor?.name ?? 'value'} cannot be sent through a shared channel: only shared endpoints move between threads`,
    )
  }
  if (Array.isArray(v)) for (const x of v) findEndpoints(x, out, seen)
  else if (v instanceof Map) for (const [k, x] of v) findEndpoints(k, out, seen), findEndpoints(x, out, seen)
  else if (v instanceof Set) for (const x of v) findEndpoints(x, out, seen)
  else if (isPlain(v)) for (const k of Object.keys(v)) findEndpoints((v as Record<string, unknown>)[k], out, seen)
}

function replaceEndpoints(v: unknown, found: unknown[], done: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (done.has(v)) return done.get(v)
  const i = found.indexOf(v)
  if (i >= 0) return { [MARKER]: i }
  if (Array.isArray(v)) {
    const a: unknown[] = []
    done.set(v, a)
    for (const x of v) a.push(replaceEndpoints(x, found, done))
    return a
  }
  if (v instanceof Map) {
    const m = new Map()
    done.set(v, m)
    for (const [k, x] of v) m.set(replaceEndpoints(k, found, done), replaceEndpoints(x, found, done))
    return m
  }
  if (v instanceof Set) {
    const s = new Set()
    done.set(v, s)
    for (const x of v) s.add(replaceEndpoints(x, found, done))
    return s
  }
  if (isPlain(v)) {
    const o: Record<string, unknown> = {}
    done.set(v, o)
    for (const k of Object.keys(v)) o[k] = replaceEndpoints((v as Record<string, unknown>)[k], found, done)
    return o
  }
  return v
}

function restoreEndpoints(v: unknown, revived: unknown[], seen: Set<object>): unknown {
  if (typeof v !== 'object' || v === null) return v
  const keys = isPlain(v) ? Object.keys(v) : undefined
  if (keys && keys.length === 1 && keys[0] === MARKER) return revived[(v as Record<string, number>)[MARKER]!]
  if (seen.has(v)) return v
  seen.add(v)
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = restoreEndpoints(v[i], revived, seen)
  else if (v instanceof Map) {
    const entries = [...v]
    v.clear()
    for (const [k, x] of entries) v.set(restoreEndpoints(k, revived, seen), restoreEndpoints(x, revived, seen))
  } else if (v instanceof Set) {
    const xs = [...v]
    v.clear()
    for (const x of xs) v.add(restoreEndpoints(x, revived, seen))
  } else if (keys)
    for (const k of keys) (v as Record<string, unknown>)[k] = restoreEndpoints((v as Record<string, unknown>)[k], revived, seen)
  return v
}
