/**
 * What crosses between a remote task's caller and its host: the task message,
 * its events, errors as records, and NATS channel endpoints as records (they
 * move; every other endpoint is refused with a TypeError naming
 * openNatsChannel).
 *
 * | subject | kind | from → to | payload (v8 serialised) |
 * |---|---|---|---|
 * | `gotrio.pool.<pool>` | JetStream (work queue) | caller → a host | `TaskMessage` |
 * | `gotrio.task.<id>.accept` | request/reply | host → caller | `{ host, leaseMs }`; reply `'go'` or `'stop'` |
 * | `gotrio.task.<id>.hb` | publish | host → caller | (empty): the task runs |
 * | `gotrio.task.<id>.started` | request/reply | host → caller | `{ value }` (Nursery.start) |
 * | `gotrio.task.<id>.done` | request/reply | host → caller | `Outcome` |
 * | `gotrio.task.<id>.cancel` | publish | caller → host | (empty), repeated on each heartbeat until done |
 */
import { kTransfer } from '@gotrio/runtime/lowlevel'
import type { NatsConnection } from '@nats-io/transport-node'
import { NatsHandle, reviveHandle, type HandleRecord } from './channel.ts'

export interface TaskMessage {
  readonly id: string
  readonly module: string
  readonly name: string
  readonly args: unknown[]
  /** The caller used Nursery.start: the host reports started(value). */
  readonly wantsStarted: boolean
}

export interface ErrorRec {
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  readonly cause?: ErrorRec | { value: unknown }
}

export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly cancelled?: boolean; readonly error?: ErrorRec }

const MARK = '__gotrio_nats_handle__'

export interface Moved {
  handOver(): void
  giveBack(): Promise<void>
}

/** Replaces NATS endpoints by records (moving them); throws a TypeError, moving none, for any other endpoint. */
export function encodeValue(value: unknown, what: string): { value: unknown; moved: Moved[] } {
  const handles: NatsHandle[] = []
  check(value, handles, what, new Set())
  if (handles.length === 0) return { value, moved: [] }
  const moved: Moved[] = []
  const map = new Map<NatsHandle, HandleRecord>()
  for (const h of handles) {
    const m = h.moveToRemote()
    map.set(h, m.record)
    moved.push(m)
  }
  return { value: replace(value, map), moved }
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}

function check(v: unknown, out: NatsHandle[], what: string, seen: Set<object>): void {
  if (typeof v !== 'object' || v === null || seen.has(v)) return
  seen.add(v)
  if (v instanceof NatsHandle) {
    if (v.closed) throw new TypeError(`${what}: a closed NATS channel handle cannot be passed to a remote task`)
    out.push(v)
    return
  }
  if (typeof (v as { [kTransfer]?: unknown })[kTransfer] === 'function') {
    throw new TypeError(
      `${what}: a local channel endpoint (${(v as object).constructor?.name ?? 'object'}) cannot reach a remote task on another machine; make the channel with openNatsChannel(nc, name) and pass its endpoints instead`,
    )
  }
  if (Array.isArray(v)) for (const x of v) check(x, out, what, seen)
  else if (v instanceof Map) for (const [k, x] of v) check(k, out, what, seen), check(x, out, what, seen)
  else if (v instanceof Set) for (const x of v) check(x, out, what, seen)
  else if (isPlain(v)) for (const x of Object.values(v)) check(x, out, what, seen)
}

function replace(v: unknown, map: Map<NatsHandle, HandleRecord>): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (v instanceof NatsHandle) return { [MARK]: map.get(v) }
  if (Array.isArray(v)) return v.map((x) => replace(x, map))
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x, map)]))
  return v
}

/** Turns records back into live handles on `nc` (they keep their lease keys). */
export async function decodeValue(v: unknown, nc: NatsConnection): Promise<unknown> {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) return Promise.all(v.map((x) => decodeValue(x, nc)))
  if (!isPlain(v)) return v
  if (Object.prototype.hasOwnProperty.call(v, MARK)) return reviveHandle(nc, (v as Record<string, HandleRecord>)[MARK]!)
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = await decodeValue(x, nc)
  return out
}

export function errorToRec(e: unknown, depth = 0): ErrorRec {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), stack: undefined }
  const rec: { -readonly [K in keyof ErrorRec]: ErrorRec[K] } = { name: e.name, message: e.message, stack: e.stack }
  if ('cause' in e && depth < 8) rec.cause = e.cause instanceof Error ? errorToRec(e.cause, depth + 1) : { value: safe(e.cause) }
  return rec
}

function safe(v: unknown): unknown {
  try {
    return structuredClone(v)
  } catch {
    return String(v)
  }
}

export function recToError(r: ErrorRec): Error {
  const cause = r.cause === undefined ? undefined : 'value' in r.cause ? r.cause.value : recToError(r.cause as ErrorRec)
  const e = new Error(r.message, r.cause === undefined ? undefined : { cause })
  Object.defineProperty(e, 'name', { value: r.name, writable: true, configurable: true, enumerable: false })
  e.stack = r.stack
  return e
}
