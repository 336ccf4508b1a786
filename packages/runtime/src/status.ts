/**
 * The cancel-status tree and parked operations: the engine behind ambient
 * cancellation (Trio's CancelStatus, `_core/_run.py`).
 *
 * Every `CancelScope.run`, nursery and task start creates one `CancelStatus`
 * node, linked to the node that was current where it was entered. Code finds
 * its node through `AsyncLocalStorage` (see context.ts), once per blocking
 * operation. A blocking operation that must wait *parks*: it links a `Parked`
 * record into the waiter list of its node; cancellation walks the affected
 * subtree and aborts those records.
 *
 * Invariants (checked by `assertInvariants` in tests):
 *  - I1 `node.effectivelyCancelled === node.scope.cancelCalled ||
 *        (!node.scope.shield && !!node.parent?.effectivelyCancelled)`
 *        for every node attached to the tree.
 *  - I2 a `Parked` record is linked into exactly one node's waiter list while it
 *        waits (`op.status !== undefined`), and into none once woken or aborted.
 *  - I3 a node that is effectively cancelled has no parked waiter: cancelling a
 *        node aborts every waiter it holds whose `abort()` agrees, and `park()`
 *        refuses to link into a cancelled node.
 *    (A waiter whose `abort()` returns false — the operation already completed —
 *    is unlinked too; its owner resolves it.)
 *
 * Propagation is iterative (an explicit stack), so cancelling the root of
 * 5,000 nested scopes does not grow the JS stack.
 */
import { Cancelled, assert } from './errors.ts'

/** The scope-side view a status needs; implemented by CancelScope. */
export interface ScopeLike {
  readonly cancelCalled: boolean
  readonly shield: boolean
  /** Called when this scope's node becomes effectively cancelled (aborts `signal`). */
  _onEffectivelyCancelled(): void
}

/** Describes a task for diagnostics; one per task (nursery child, start child, main). */
export interface TaskInfo {
  readonly name: string
  /**
   * Resources (shared channel endpoints) this task owns and must close when it
   * ends. Only worker tasks have one; see `adoptResource` in lowlevel.ts.
   */
  readonly owned?: Set<Closeable>
  /**
   * A worker task's cancel flag in shared memory (index 0: 0 = running,
   * 1 = cancel requested), written by the thread that started the task.
   */
  readonly cancelFlag?: Int32Array
}

export interface Closeable {
  close(): void
}

export class CancelStatus {
  /** The node this one was entered under; `undefined` for the root and once detached. */
  parent: CancelStatus | undefined
  /** Attached child nodes (scopes entered under this one and not yet exited). */
  readonly children = new Set<CancelStatus>()
  /** I1, kept up to date by `recompute`. Written only on the owning thread. */
  effectivelyCancelled = false
  /** Head/tail of the intrusive doubly linked list of parked operations (I2). */
  private head: Parked<unknown> | undefined
  private tail: Parked<unknown> | undefined

  readonly scope: ScopeLike

  constructor(scope: ScopeLike, parent: CancelStatus | undefined) {
    this.scope = scope
    this.parent = parent
    if (parent) {
      parent.children.add(this)
      this.effectivelyCancelled = scope.cancelCalled || (!scope.shield && parent.effectivelyCancelled)
    } else {
      this.effectivelyCancelled = scope.cancelCalled
    }
  }

  /** Leaves the tree (the scope exited). Children, if any escaped, stay attached to nothing. */
  detach(): void {
    this.parent?.children.delete(this)
    this.parent = undefined
  }

  /** Moves this node under `parent` (used by `Nursery.start` on `started()`), then recomputes. */
  reparent(parent: CancelStatus): void {
    this.parent?.children.delete(this)
    this.parent = parent
    parent.children.add(this)
    this.recompute()
  }

  /**
   * Re-evaluates I1 for this node and every descendant whose value changes, and
   * aborts the waiters of nodes that became cancelled. Iterative on purpose.
   */
  recompute(): void {
    const stack: CancelStatus[] = [this]
    while (stack.length > 0) {
      const node = stack.pop()!
      const s = node.scope
      const now = s.cancelCalled || (!s.shield && node.parent !== undefined && node.parent.effectivelyCancelled)
      if (now === node.effectivelyCancelled && node !== this) continue
      const became = now && !node.effectivelyCancelled
      node.effectivelyCancelled = now
      if (became) {
        node.abortWaiters()
        s._onEffectivelyCancelled()
      }
      for (const c of node.children) stack.push(c)
    }
  }

  /** Links a parked operation into this node's waiter list (I2). */
  link(op: Parked<unknown>): void {
    op.status = this
    op.prev = this.tail
    op.next = undefined
    if (this.tail) this.tail.next = op
    else this.head = op
    this.tail = op
  }

  unlink(op: Parked<unknown>): void {
    assert(op.status === this, 'a parked operation is unlinked from the node it is linked into')
    if (op.prev) op.prev.next = op.next
    else this.head = op.next
    if (op.next) op.next.prev = op.prev
    else this.tail = op.prev
    op.prev = op.next = op.status = undefined
  }

  /** I3: aborts every waiter; those whose operation already completed are just unlinked. */
  private abortWaiters(): void {
    let op = this.head
    while (op) {
      const next = op.next
      this.unlink(op)
      if (op.abort()) op.settle(false, new Cancelled())
      op = next
    }
  }

  /** The parked operations in this node (diagnostics). */
  *waiters(): Generator<Parked<unknown>> {
    for (let op = this.head; op; op = op.next) yield op
  }
}

/**
 * One blocked operation: a channel send/receive, a sleep, a `start` waiting for
 * `started()`. Subclasses hold the operation's data (the value to send, the
 * timer) and implement `abort`. The operation's owner completes it with
 * `wake(value)` or `fail(error)` (or `wakeSoon(value)`, see there);
 * cancellation completes it with `Cancelled` after `abort()` agreed.
 *
 * Contract of `abort()`: called at most once, synchronously, while the record
 * is still waiting. Return true if the operation was withdrawn and had no
 * effect (a cancelled send delivered nothing, a cancelled receive took
 * nothing); return false if it is too late (it already completed and will be,
 * or was, woken by its owner).
 *
 * Reuse (allocation-free waits): once its outcome has been handed to the
 * waiting promise, nothing in the runtime refers to the record any more and
 * `released()` is called; a subclass may then keep the record for its next
 * wait, after `reuse()` (which makes it fresh again). A record is never reused
 * while it waits, nor between settling and `released()`.
 */
export abstract class Parked<T> {
  /** The node it is linked into while waiting (I2), written by CancelStatus. */
  status: CancelStatus | undefined = undefined
  prev: Parked<unknown> | undefined = undefined
  next: Parked<unknown> | undefined = undefined
  /** The waiting task's name, for DeadlockError and dumpTasks. */
  task: TaskInfo | undefined = undefined
  /** Set once settled: wake/fail/cancel after that are ignored. */
  settled = false
  // Typed with `unknown` (not T) so that any Parked<T> is usable as a
  // Parked<unknown> in waiter lists; begin() is the only writer.
  private resolveFn: ((v: unknown) => void) | undefined = undefined
  private rejectFn: ((e: unknown) => void) | undefined = undefined
  /** The value a `wakeSoon` will resolve with when the deferred wakes are flushed. */
  private soonValue: unknown = undefined
  /** An outcome that arrived before begin(). */
  private early: { ok: boolean; v: unknown } | undefined = undefined
  /** Set by watchCancel(): the outcome is a promise the owner already holds, so settling only unlinks and counts. */
  private watched = false

  /** What is waited on, e.g. `MemoryReceiveChannel.receive` (diagnostics). */
  abstract readonly waitsOn: string
  abstract abort(): boolean

  /**
   * Called once the outcome has been handed to the waiting promise (or to the
   * owner, for a watched record): the runtime holds no reference to the record
   * any more. Subclasses that reuse records override it (see "Reuse").
   */
  protected released(): void {}

  /** Makes a released record fresh for another wait (see "Reuse"). */
  protected reuse(): void {
    assert(this.settled && this.status === undefined && this.resolveFn === undefined, 'only a released Parked record is reused')
    this.settled = false
    this.task = undefined
  }

  /** Completes the operation with `value`. Idempotent; returns false if already settled. */
  wake(value: T): boolean {
    return this.settle(true, value)
  }

  /** Completes the operation with an error. Idempotent; returns false if already settled. */
  fail(error: unknown): boolean {
    return this.settle(false, error)
  }

  /**
   * Completes the operation with `value` now (it is settled: cancellation can
   * no longer undo it), but resolves its promise from a microtask queued now,
   * after the waker's own continuation if the waker awaits right after this
   * call. Used where the waker is about to go on (a send that filled a
   * receiver): the woken task then resumes after the waker has had its turn,
   * so a producer and a consumer of a buffered channel settle into taking
   * turns on the buffer instead of parking on every value. Only for a record
   * whose promise exists (begun, not watched). Idempotent; returns false if
   * already settled.
   */
  wakeSoon(value: T): boolean {
    return this.settleDeferred(value, false)
  }

  /**
   * Like `wakeSoon`, but the promise is resolved at the next turn of the event
   * loop (a `setImmediate`), together with every other record woken this way
   * in the meantime. Used where the waker should keep the thread for a while:
   * a consumer that frees a slot of a full buffer goes on draining it, and the
   * senders it woke resume together once it waits or yields, so several
   * producers refill the buffer in a batch (as Go's scheduler lets a receiver
   * run on) instead of each one waiting again after every value.
   */
  wakeLater(value: T): boolean {
    return this.settleDeferred(value, true)
  }

  private settleDeferred(value: T, later: boolean): boolean {
    if (this.settled) return false
    assert(this.resolveFn !== undefined, 'wakeSoon()/wakeLater() are for a record that park() has begun')
    this.settled = true
    if (this.status) this.status.unlink(this as Parked<unknown>)
    activityCount++
    this.soonValue = value
    if (later) {
      laterWakes.push(this as Parked<unknown>)
      if (!laterQueued) {
        laterQueued = true
        setImmediate(flushLater)
      }
    } else {
      soonWakes.push(this as Parked<unknown>)
      if (!soonQueued) {
        soonQueued = true
        queueMicrotask(flushSoon)
      }
    }
    return true
  }

  /** @internal flushSoon's/flushLater's step: resolves a deferred record. */
  resolveSoon(): void {
    const v = this.soonValue
    this.soonValue = undefined
    const resolve = this.resolveFn!
    this.resolveFn = this.rejectFn = undefined
    parkedCount--
    resolve(v)
    this.released()
  }

  /**
   * @internal Settles once. An owner may complete the operation before
   * park() has attached its promise (a timer already due, a value that
   * arrived while registering): the outcome is then kept and applied by begin().
   */
  settle(ok: boolean, v: unknown): boolean {
    if (this.settled) return false
    this.settled = true
    if (this.status) this.status.unlink(this as Parked<unknown>)
    activityCount++
    if (this.watched) {
      parkedCount--
      return true
    }
    const resolve = this.resolveFn
    if (resolve === undefined) {
      this.early = { ok, v }
      return true
    }
    const reject = this.rejectFn!
    this.resolveFn = this.rejectFn = undefined
    parkedCount--
    if (ok) resolve(v)
    else reject(v)
    this.released()
    return true
  }

  /** @internal called by watchCancel() */
  beginWatched(): void {
    activityCount++
    parkedCount++
    this.watched = true
  }

  /** @internal called by park() */
  begin(resolve: (v: T) => void, reject: (e: unknown) => void): void {
    activityCount++
    if (this.early) {
      const { ok, v } = this.early
      this.early = undefined
      if (ok) resolve(v as T)
      else reject(v)
      return
    }
    this.resolveFn = resolve as (v: unknown) => void
    this.rejectFn = reject
    parkedCount++
  }
}

/** Records woken with `wakeSoon` / `wakeLater`, in wake order, waiting for their flush. */
let soonWakes: Parked<unknown>[] = []
let soonQueued = false
let laterWakes: Parked<unknown>[] = []
let laterQueued = false

/** Resolves every `wakeSoon` record queued so far, in wake order (one microtask for all of them). */
function flushSoon(): void {
  soonQueued = false
  const batch = soonWakes
  soonWakes = []
  for (let i = 0; i < batch.length; i++) batch[i]!.resolveSoon()
}

/** Resolves every `wakeLater` record queued so far, in wake order (one macrotask for all of them). */
function flushLater(): void {
  laterQueued = false
  const batch = laterWakes
  laterWakes = []
  for (let i = 0; i < batch.length; i++) batch[i]!.resolveSoon()
}

/** How many operations are parked in this thread right now (diagnostics). */
let parkedCount = 0
/** Counts parks and wakes, for waitAllTasksBlocked. */
let activityCount = 0
export function parked(): number {
  return parkedCount
}
/** A blocking call of this thread (`receiveSync`, ...) returned or threw: counted as activity (deadlock detection, waitAllTasksBlocked). */
export function noteSyncWake(): void {
  activityCount++
}
export function activity(): number {
  return activityCount
}
