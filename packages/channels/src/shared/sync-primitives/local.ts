/**
 * Per-thread state of shared sync primitives, and how tasks wait on them.
 *
 * Thread contract: everything here is thread-local (one `LocalSync` per
 * primitive per thread, shared by every handle of it in the thread); shared
 * state changes only through cell.ts.
 *
 * Async waiting holds no thread and does not poll: a waiting task's node word
 * is watched with one `Atomics.waitAsync`; the granter's `Atomics.notify`
 * resolves it (cell.ts K2). A cancelled waiter withdraws under the guard and
 * then notifies its own word, which retires its pending `waitAsync` before the
 * node is freed (a later notify of a reused node word only causes a re-check).
 * `waitAsync` does not keep Node's event loop alive, so one ref'd interval is
 * held while any task of this thread waits on a shared sync primitive.
 *
 * Sync waiting (`acquireSync`/`waitSync`, worker threads): spin, then
 * `Atomics.wait` in slices of SLICE_MS with `cancelRequestedSync()` between
 * them (it also reads the worker task's shared cancel flag).
 */
import { isMainThread, threadId } from 'node:worker_threads'
import { Cancelled } from '@gotrio/runtime'
import { Parked, cancelRequestedSync, syncWaitBegin, syncWaitEnd, syncWaitSlice, type TaskInfo } from '@gotrio/runtime/lowlevel'
import { alloc, free } from '../arena.ts'
import { Cell, TOO_LATE } from './cell.ts'
import { N_WORD, NODE_BYTES, NODE_GRANTED, NODE_WAITING, S_STATE } from './layout.ts'

/** This thread's id + 1 (the owner table's and the lock word's encoding). */
export const TID1 = threadId + 1
/** The lock word of a lock held by this thread (no CONTENDED bit). */
export const ME2 = TID1 << 1

const SLICE_MS = 20
const IS_MAIN = isMainThread
export const SPINS_SYNC = 2000
export const SPINS_ASYNC = 200

// ---- keep-alive ----------------------------------------------------------------

let parked = 0
let keepAlive: ReturnType<typeof setInterval> | undefined
function keepUp(): void {
  if (parked++ === 0) {
    keepAlive ??= setInterval(() => {}, 0x7fffffff)
    keepAlive.ref()
  }
}
function keepDown(): void {
  if (--parked === 0) keepAlive!.unref()
}

/** Tasks of this thread waiting on shared sync primitives (tests). */
export function parkedSharedSyncOperations(): number {
  return parked
}

// ---- waiter nodes ---------------------------------------------------------------

/**
 * Nodes this thread has used and may use again: a contended acquire takes one
 * without the arena's allocator lock (which every thread's allocations
 * share). A node back in the pool may still get a late notify from the thread
 * that granted it; every waiter re-checks its word, so that costs a re-check.
 */
const nodePool: number[] = []
const NODE_POOL_MAX = 64

export function takeNode(): number {
  return nodePool.pop() ?? alloc(NODE_BYTES)
}

export function giveNode(node: number): void {
  if (nodePool.length < NODE_POOL_MAX) nodePool.push(node)
  else free(node)
}

// ---- the releases a holding makes ----------------------------------------------------

/** The `Disposable` an acquire resolves with: releases once; a second dispose does nothing. */
export class Acquisition implements Disposable {
  #release: (() => void) | undefined
  constructor(release: () => void) {
    this.#release = release
  }
  [Symbol.dispose](): void {
    const r = this.#release
    if (r === undefined) return
    this.#release = undefined
    r()
  }
}

// ---- per-thread state ----------------------------------------------------------------

export class LocalSync {
  readonly cell: Cell
  /** Open handles of this primitive in this thread. */
  handles = 0
  /** Lock: the task of this thread that holds it, and its holding. */
  owner: TaskInfo | undefined
  holding: Disposable | undefined
  /** Limiter: the tasks of this thread holding a token, and those waiting for one. */
  readonly borrowers = new Map<TaskInfo, Acquisition>()
  readonly pending = new Set<TaskInfo>()
  /** Parked operations of this thread (closing a handle fails its own). */
  readonly ops = new Set<NodeOp | EventOp>()
  /** Event: a waitAsync on the event word is pending. */
  watching = false

  readonly block: number

  constructor(block: number) {
    this.block = block
    this.cell = new Cell(block)
  }

  /** True while something of this thread still needs this state. */
  get busy(): boolean {
    return this.handles > 0 || this.ops.size > 0 || this.owner !== undefined || this.borrowers.size > 0
  }
}

const locals = new Map<number, LocalSync>()

export function localSync(block: number): LocalSync {
  let l = locals.get(block)
  if (!l) {
    l = new LocalSync(block)
    locals.set(block, l)
  }
  return l
}

/** A fresh state for a block just allocated (a stale one of a freed primitive at the same offset must not be reused). */
export function freshLocalSync(block: number): LocalSync {
  const l = new LocalSync(block)
  locals.set(block, l)
  return l
}

/** The primitive's block is being freed: forget this thread's state of it, whatever it still records. */
export function forgetLocalSync(l: LocalSync): void {
  if (locals.get(l.block) === l) locals.delete(l.block)
}

export function dropLocalSync(l: LocalSync): void {
  if (!l.busy && locals.get(l.block) === l) locals.delete(l.block)
}

// ---- waiting for a node to be granted ------------------------------------------------

/** A task waiting for its node to be granted (lock, semaphore, limiter). */
export class NodeOp extends Parked<Disposable> {
  #done = false
  readonly waitsOn: string
  readonly local: LocalSync
  readonly handle: object
  readonly node: number
  readonly isLock: boolean
  /** Called once granted, before the wake: records the holding and returns its Disposable. */
  readonly onGranted: () => Disposable
  constructor(waitsOn: string, local: LocalSync, handle: object, node: number, isLock: boolean, onGranted: () => Disposable) {
    super()
    this.waitsOn = waitsOn
    this.local = local
    this.handle = handle
    this.node = node
    this.isLock = isLock
    this.onGranted = onGranted
    local.ops.add(this)
    keepUp()
    void this.#watch()
  }

  async #watch(): Promise<void> {
    const a = this.local.cell.a
    const w = (this.node >> 2) + N_WORD
    for (;;) {
      const r = Atomics.waitAsync(a, w, NODE_WAITING)
      if (r.async) await r.value
      if (this.#done) return
      if (Atomics.load(a, w) === NODE_GRANTED) {
        this.#finish()
        this.wake(this.onGranted())
        return
      }
    }
  }

  /** Once: stop watching, free the node. `retire`: wake our own pending waitAsync first. */
  #finish(retire = false): void {
    this.#done = true
    this.local.ops.delete(this)
    keepDown()
    if (retire) Atomics.notify(this.local.cell.a, (this.node >> 2) + N_WORD)
    giveNode(this.node)
    dropLocalSync(this.local)
  }

  /** Withdraws (cancel or close); false if too late: it was granted and the watcher completes it. */
  withdraw(): boolean {
    if (this.#done) return false
    if (this.local.cell.withdraw(this.node, this.isLock) === TOO_LATE) return false
    this.#finish(true)
    return true
  }

  abort(): boolean {
    return this.withdraw()
  }
}

/** A task waiting for a shared event to be set. */
export class EventOp extends Parked<void> {
  readonly waitsOn = 'SharedEvent.wait'
  readonly local: LocalSync
  readonly handle: object
  constructor(local: LocalSync, handle: object) {
    super()
    this.local = local
    this.handle = handle
    local.ops.add(this)
    keepUp()
    if (!local.watching) void watchEvent(local)
  }

  /** Woken by the watcher (the event is set). */
  done(): void {
    this.local.ops.delete(this)
    keepDown()
    this.wake()
  }

  withdraw(): boolean {
    if (!this.local.cell.eventUnregister(TID1)) return false // set meanwhile: the watcher wakes it
    this.local.ops.delete(this)
    keepDown()
    dropLocalSync(this.local)
    return true
  }

  abort(): boolean {
    return this.withdraw()
  }
}

async function watchEvent(l: LocalSync): Promise<void> {
  l.watching = true
  const i = l.cell.i
  for (;;) {
    const r = Atomics.waitAsync(i, S_STATE, 0)
    if (r.async) await r.value
    if (Atomics.load(i, S_STATE) !== 0) break
  }
  l.watching = false
  for (const op of [...l.ops]) if (op instanceof EventOp) op.done()
  dropLocalSync(l)
}

// ---- sync waiting -------------------------------------------------------------------

export function refuseMainThread(fn: string, instead: string): void {
  if (IS_MAIN) {
    throw new Error(
      `${fn} blocks its thread with Atomics.wait and would freeze the main thread's event loop; on the main thread use ${instead}`,
    )
  }
}

/** Blocks until `node` is granted; on cancellation withdraws it and throws `Cancelled` (unless too late). The caller frees the node. */
export function waitGrantedSync(cell: Cell, node: number, isLock: boolean): void {
  const a = cell.a
  const w = (node >> 2) + N_WORD
  syncWaitBegin() // the pool places no task behind a thread blocked here (runtime README)
  try {
    for (;;) {
      for (let k = 0; k < SPINS_SYNC; k++) if (Atomics.load(a, w) === NODE_GRANTED) return
      syncWaitSlice(isLock ? 'SharedLock.acquireSync' : 'a shared semaphore or capacity limiter (acquireSync)')
      Atomics.wait(a, w, NODE_WAITING, SLICE_MS)
      if (Atomics.load(a, w) === NODE_GRANTED) return
      if (cancelRequestedSync() && cell.withdraw(node, isLock) !== TOO_LATE) {
        giveNode(node)
        throw new Cancelled()
      }
    }
  } finally {
    syncWaitEnd()
  }
}

/** Blocks until the event word is set; on cancellation unregisters and throws `Cancelled` (unless set meanwhile). */
export function waitEventSync(cell: Cell, index: number): void {
  const i = cell.i
  syncWaitBegin() // the pool places no task behind a thread blocked here (runtime README)
  try {
    for (;;) {
      for (let k = 0; k < SPINS_SYNC; k++) if (Atomics.load(i, index) !== 0) return
      syncWaitSlice('SharedEvent.waitSync')
      Atomics.wait(i, index, 0, SLICE_MS)
      if (Atomics.load(i, index) !== 0) return
      if (cancelRequestedSync() && cell.eventUnregister(TID1)) throw new Cancelled()
    }
  } finally {
    syncWaitEnd()
  }
}
