/**
 * Ambient task context: which cancel-status node and which task the running
 * code belongs to, carried across `await` by AsyncLocalStorage.
 *
 * Cost rule (DESIGN.md): a blocking operation calls `current()` once, then
 * works on the node it got. Nothing here runs per value moved.
 *
 * Code outside any `run`/nursery uses the thread's root context: a node that is
 * never cancelled, so library calls work anywhere ("a default runtime is made
 * on demand").
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { Cancelled } from './errors.ts'
import type { Runtime } from './runtime.ts'
import { CancelStatus, type Parked, type ScopeLike, type TaskInfo } from './status.ts'

/** The store carried by AsyncLocalStorage. Immutable once made: a new scope makes a new one. */
export interface TaskContext {
  readonly status: CancelStatus
  readonly task: TaskInfo
  /** The `run` this code belongs to (its worker pool); the thread's default runtime outside `run`. */
  readonly runtime: Runtime
}

const rootScope: ScopeLike = { cancelCalled: false, shield: false, _onEffectivelyCancelled() {} }
export const rootContext: TaskContext = {
  status: new CancelStatus(rootScope, undefined),
  task: { name: 'main' },
  get runtime(): Runtime {
    return defaultRuntime()
  },
}

let makeDefaultRuntime: (() => Runtime) | undefined
let theDefaultRuntime: Runtime | undefined
/** @internal runtime.ts registers the factory (avoids an import cycle). */
export function setDefaultRuntimeFactory(f: () => Runtime): void {
  makeDefaultRuntime = f
}
function defaultRuntime(): Runtime {
  return (theDefaultRuntime ??= makeDefaultRuntime!())
}

export const storage = new AsyncLocalStorage<TaskContext>()

export function current(): TaskContext {
  return storage.getStore() ?? rootContext
}

export function runIn<R>(ctx: TaskContext, fn: () => R): R {
  return storage.run(ctx, fn)
}

/** Throws `Cancelled` if the calling code's cancel scope is effectively cancelled. */
export function checkCancelled(ctx: TaskContext = current()): void {
  if (ctx.status.effectivelyCancelled) throw new Cancelled()
}

/**
 * Blocks the calling task on `op` until its owner wakes it or the enclosing
 * scope is cancelled (then `op.abort()` decides, see Parked). Rejects at once
 * with `Cancelled` if the scope is already cancelled, without calling abort:
 * callers must check before registering `op` anywhere else, or use
 * `checkCancelled` first (all gotrio operations do).
 */
export function park<T>(op: Parked<T>, ctx: TaskContext = current()): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    op.begin(resolve, reject)
    op.task = ctx.task
    if (op.settled) return // completed before it had to wait (see Parked.settle)
    if (ctx.status.effectivelyCancelled) {
      if (op.abort()) op.settle(false, new Cancelled())
      return
    }
    if (!op.settled) ctx.status.link(op as Parked<unknown>)
  })
}

/**
 * Links `op` for cancellation like park(), for an operation whose outcome the
 * caller already holds as a promise (a worker task: Piscina's answer), so no
 * second promise is made. Cancellation calls `op.abort()` as for park(); the
 * owner calls `op.wake()`/`op.fail()` when the outcome is known, which only
 * unlinks the record and counts the activity (the values passed are ignored),
 * and settles its own promise itself. The caller must have checked that the
 * scope is not cancelled (`checkCancelled`).
 */
export function watchCancel(op: Parked<unknown>, ctx: TaskContext): void {
  op.beginWatched()
  op.task = ctx.task
  ctx.status.link(op)
}

/*
 * Fairness. A producer and a consumer that never wait on anything but each
 * other run entirely in microtasks: timers (deadlines), I/O and other threads'
 * wake-ups would starve. Trio's scheduler runs timers between batches; we get
 * the same by making an operation yield one macrotask (setImmediate) once
 * `OPS_PER_TURN` operations completed without the event loop turning. A turn
 * is detected by one setImmediate armed per turn (not per operation).
 */
const OPS_PER_TURN = 512
let opsThisTurn = 0
let turnArmed = false
function newTurn(): void {
  opsThisTurn = 0
  turnArmed = false
}

/** True when the caller should yield a macrotask (see `macrotask()`) before going on. */
export function yieldDue(): boolean {
  if (!turnArmed) {
    turnArmed = true
    setImmediate(newTurn)
  }
  return ++opsThisTurn > OPS_PER_TURN
}

export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Walks every attached node from the root (diagnostics). */
export function* allStatuses(root: CancelStatus = rootContext.status): Generator<CancelStatus> {
  const stack = [root]
  while (stack.length > 0) {
    const n = stack.pop()!
    yield n
    for (const c of n.children) stack.push(c)
  }
}
