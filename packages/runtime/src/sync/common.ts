/**
 * What the one-thread synchronization primitives share: the FIFO of waiting
 * tasks, the entry checkpoint, the completion of a fast path, and the checks
 * of counts.
 *
 * Every blocking call is a checkpoint (Trio): `enter` throws `Cancelled` when
 * the caller's scope is cancelled (a deadline that has passed counts), even
 * when the call could complete at once. A call that must wait parks a
 * `Parked` record that sits in the primitive's `WaiterQueue`; its `abort()`
 * unlinks it, so a cancelled acquire acquired nothing. Once a record has left
 * the queue it has been granted what it waited for (the primitive wakes it in
 * the same synchronous step), so `abort()` is only ever called on a queued
 * record.
 */
import { expireDueDeadlines } from '../cancel-scope.ts'
import { current, macrotask, yieldDue, type TaskContext } from '../context.ts'
import { Cancelled } from '../errors.ts'
import { Parked } from '../status.ts'

/**
 * An intrusive FIFO of waiting records: O(1) push, shift and removal from the
 * middle (a cancelled waiter). Invariants: `node.queue === q` exactly while
 * linked into `q`; `length` counts the linked nodes; `head` is the
 * longest-waiting node.
 */
export class WaiterQueue<N extends Waiter<unknown>> {
  head: N | undefined
  private tail: N | undefined
  length = 0

  push(node: N): void {
    node.queue = this as unknown as WaiterQueue<Waiter<unknown>>
    node.qPrev = this.tail
    node.qNext = undefined
    if (this.tail) this.tail.qNext = node
    else this.head = node
    this.tail = node
    this.length++
  }

  shift(): N | undefined {
    const node = this.head
    if (node !== undefined) this.remove(node)
    return node
  }

  remove(node: N): void {
    const prev = node.qPrev as N | undefined
    const next = node.qNext as N | undefined
    if (prev) prev.qNext = next
    else this.head = next
    if (next) next.qPrev = prev
    else this.tail = prev
    node.qPrev = node.qNext = node.queue = undefined
    this.length--
  }
}

/** A parked task in a `WaiterQueue`; aborting it (cancellation) unlinks it: it acquired nothing. */
export abstract class Waiter<T> extends Parked<T> {
  queue: WaiterQueue<Waiter<unknown>> | undefined
  qPrev: Waiter<unknown> | undefined
  qNext: Waiter<unknown> | undefined

  abort(): boolean {
    this.queue?.remove(this)
    return true
  }
}

/** The entry checkpoint of a blocking call: the caller's context, or a `Cancelled` to reject with. */
export function enter(): TaskContext | Cancelled {
  const ctx = current()
  expireDueDeadlines(ctx.status)
  return ctx.status.effectivelyCancelled ? new Cancelled() : ctx
}

/** A call that completed without waiting: resolves `value`, yielding a macrotask now and then (fairness, context.ts). */
export function completed<T>(value: T): Promise<T> {
  return yieldDue() ? macrotask().then(() => value) : Promise.resolve(value)
}

/**
 * The `Disposable` an `acquire` resolves with: disposing it releases what was
 * acquired, once (a second dispose does nothing). `using _ = await
 * lock.acquire()` is Trio's `async with lock:`.
 */
export class Acquisition implements Disposable {
  #release: ((a: Acquisition) => void) | undefined
  constructor(release: (a: Acquisition) => void) {
    this.#release = release
  }
  [Symbol.dispose](): void {
    const r = this.#release
    if (r === undefined) return
    this.#release = undefined
    r(this)
  }
}

/**
 * A count: an integer (TypeError otherwise; `Infinity` only where allowed) not
 * below `min` (RangeError). The message names the rule.
 */
export function checkCount(what: string, n: unknown, min: number, allowInfinity = false): number {
  const rule = `an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}`
  if (typeof n !== 'number' || (!Number.isInteger(n) && !(allowInfinity && n === Infinity))) {
    throw new TypeError(`${what} must be ${rule}, got ${typeof n === 'string' ? `'${n}'` : String(n)}`)
  }
  if (n < min) throw new RangeError(`${what} must be ${rule}, got ${n}`)
  return n
}
