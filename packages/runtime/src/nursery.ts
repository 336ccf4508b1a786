/**
 * Nurseries: Trio's structured concurrency. A nursery owns the tasks started in
 * it; `openNursery` settles only after its body and every task have finished,
 * so no task outlives the code that started it:
 *
 * ```ts
 * await openNursery(async (n) => {
 *   n.startSoon(producer, send)
 *   n.startSoon(consumer, receive)
 * })  // <- both tasks have finished here, whatever happened
 * ```
 *
 * Invariants:
 *  - `pending` counts the tasks started with startSoon that have not finished,
 *    plus `start` calls whose task has not finished; the nursery closes
 *    (`closed = true`) synchronously, at the moment the body is done and
 *    `pending === 0`, and never reopens. Closing later (when `openNursery`
 *    resumes) would leave a window in which another task could start a child
 *    that the nursery then does not wait for (Trio's `_check_nursery_closed`).
 *  - The first error (body or task) cancels the nursery's scope; every error
 *    is kept and raised once everything has exited, grouped.
 *  - Tasks run in the nursery's cancel-status node; a `start` task runs in a
 *    node of its own under the caller's until `started()` moves it under the
 *    nursery's (Trio: "the task runs in the caller's context until started").
 */
import { CancelScope, withoutCancelled } from './cancel-scope.ts'
import { current, runIn, storage, type TaskContext } from './context.ts'
import { Cancelled, NurseryError, assert } from './errors.ts'
import { CancelStatus, type ScopeLike, type TaskInfo } from './status.ts'
import { checkFunction } from './validate.ts'
import { isWorkerTask, runWorkerTask, type CrossThreadArgs, type WorkerTask } from './worker-task.ts'

/** Passed to tasks started with `Nursery.start`: call `started(value)` once they are ready. */
export interface TaskStatus<V = void> {
  started(value?: V): void
}

/** A scope that is never cancelled itself: the node a `start` task runs in before `started()`. */
const startScope: ScopeLike = { cancelCalled: false, shield: false, _onEffectivelyCancelled() {} }

export class Nursery {
  /** Cancelling it cancels the body and every task of the nursery. */
  readonly cancelScope: CancelScope
  readonly #status: CancelStatus
  readonly #runtime: TaskContext['runtime']
  #pending = 0
  #bodyDone = false
  #closed = false
  readonly #errors: unknown[] = []
  #onIdle: (() => void) | undefined
  /** Tasks started with startSoon and not yet begun: (body, args, context) triples, see #startQueued. */
  #startQueue: unknown[] = []

  /** @internal use openNursery */
  constructor(scope: CancelScope, status: CancelStatus, runtime: TaskContext['runtime']) {
    this.cancelScope = scope
    this.#status = status
    this.#runtime = runtime
  }

  /** Starts `fn(...args)` as a task of this nursery and returns at once. A `WorkerTask` runs on the pool. */
  startSoon<A extends unknown[]>(fn: (...args: A) => Promise<unknown>, ...args: A): void
  startSoon<A extends unknown[], P extends A = A>(task: WorkerTask<A, unknown>, ...args: P & CrossThreadArgs<P>): void
  startSoon<A extends unknown[]>(fn: ((...args: A) => Promise<unknown>) | WorkerTask<A, unknown>, ...args: A): void {
    this.#checkOpen('startSoon')
    let body: (...args: A) => unknown
    let name: string
    if (isWorkerTask(fn)) {
      const task = fn
      body = (...a: A) => runWorkerTask(task, a, undefined)
      name = `worker:${task.name}`
    } else {
      checkFunction('Nursery.startSoon(fn): fn', fn)
      body = fn
      name = fn.name || 'anonymous task'
    }
    this.#pending++
    // Every task gets its own context: its TaskInfo is the task's identity
    // (the owner of a Lock, the borrower of a CapacityLimiter token), so two
    // tasks must never share one, even when they have the same name.
    const ctx: TaskContext = { status: this.#status, task: { name }, runtime: this.#runtime }
    const q = this.#startQueue
    q.push(body, args, ctx)
    if (q.length === 3) queueMicrotask(this.#startQueued)
  }

  /**
   * Starts the tasks queued by startSoon (the queue holds body, args, context
   * triples, in call order): one microtask per batch rather than per task, and
   * one `storage.run` (an AsyncContextFrame) per task. Tasks queued while a batch starts (a task's first
   * synchronous step calling startSoon) go to the next batch, so a task's
   * children start after the rest of its batch, as they would with one
   * microtask each.
   */
  readonly #startQueued = (): void => {
    const q = this.#startQueue
    this.#startQueue = []
    for (let i = 0; i < q.length; ) {
      const ctx = q[i + 2] as TaskContext
      let j = i + 3
      while (j < q.length && q[j + 2] === ctx) j += 3
      storage.run(ctx, startRange, q, i, j, this.#onTaskDone, this.#onTaskFailed)
      i = j
    }
  }

  readonly #onTaskDone = (): void => this.#taskDone()
  readonly #onTaskFailed = (e: unknown): void => this.#taskFailed(e)

  /**
   * Starts a task and waits until it calls `status.started(value)`; resolves
   * with that value. Until then the task runs under the caller's cancel scope
   * and its errors reject `start` itself; after, it belongs to the nursery.
   */
  start<V, A extends unknown[]>(fn: (status: TaskStatus<V>, ...args: A) => Promise<unknown>, ...args: A): Promise<V>
  start<V, A extends unknown[], P extends A = A>(
    task: WorkerTask<[TaskStatus<V>, ...A], unknown>,
    ...args: P & CrossThreadArgs<P>
  ): Promise<V>
  start<V, A extends unknown[]>(
    fn: ((status: TaskStatus<V>, ...args: A) => Promise<unknown>) | WorkerTask<[TaskStatus<V>, ...A], unknown>,
    ...args: A
  ): Promise<V> {
    this.#checkOpen('start')
    let body: (status: TaskStatus<V>, ...args: A) => unknown
    let name: string
    if (isWorkerTask(fn)) {
      const task = fn
      body = (status: TaskStatus<V>, ...a: A) => runWorkerTask(task, a, status as TaskStatus<unknown>)
      name = `worker:${task.name}`
    } else {
      checkFunction('Nursery.start(fn): fn', fn)
      body = fn
      name = fn.name || 'anonymous task'
    }
    const caller = current()
    if (caller.status.effectivelyCancelled) return Promise.reject(new Cancelled())
    this.#pending++
    const status = new CancelStatus(startScope, caller.status)
    const ctx: TaskContext = { status, task: { name }, runtime: this.#runtime }
    return new Promise<V>((resolve, reject) => {
      /** started() was called (a second call throws). */
      let started = false
      /** started() moved the task into this nursery; false while it runs under the caller. */
      let moved = false
      /** The value given to started(), kept when the task could not move (see below). */
      let startedValue: V | undefined
      /** The task has returned or thrown; its node is detached. */
      let finished = false
      const taskStatus: TaskStatus<V> = {
        started: (value?: V) => {
          if (started) {
            throw new Error(
              'TaskStatus.started() was called twice: a task started with Nursery.start() reports that it is ready exactly once',
            )
          }
          if (finished) {
            throw new Error(
              `TaskStatus.started() was called after task ${name} had finished: call status.started(value) from inside the task, before it returns`,
            )
          }
          started = true
          if (status.effectivelyCancelled) {
            // The caller's scope was cancelled while the task was starting.
            // As in Trio, the task stays where it is: moving it would take a
            // cancelled task (perhaps with a Cancelled already unwinding) into
            // a nursery where no cancelled scope can catch that Cancelled, and
            // it would cancel the whole nursery. `start` settles when the task
            // ends: with the value if it returns, else with its error.
            startedValue = value
            return
          }
          moved = true
          status.reparent(this.#status)
          resolve(value as V)
        },
      }
      queueMicrotask(() => {
        let p: unknown
        try {
          p = runIn(ctx, () => body(taskStatus, ...args))
        } catch (e) {
          p = Promise.reject(e)
        }
        Promise.resolve(p).then(
          () => {
            finished = true
            status.detach()
            if (!started) {
              reject(
                new Error(
                  `Nursery.start(): task ${name} returned without calling status.started(); a task started with start() must call status.started(value) once it is ready`,
                ),
              )
            } else if (!moved) resolve(startedValue as V)
            this.#taskDone()
          },
          (e: unknown) => {
            finished = true
            status.detach()
            if (moved) this.#taskFailed(e)
            else {
              reject(e)
              this.#taskDone()
            }
          },
        )
      })
    })
  }

  /** @internal */
  _bodyFinished(error: unknown, failed: boolean): Promise<void> {
    if (failed) this.#recordError(error)
    this.#bodyDone = true
    if (this.#pending === 0) {
      this.#closed = true
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      this.#onIdle = resolve
    })
  }

  /** @internal Returns what the closed nursery must raise, if anything. */
  _close(): { errors: unknown[] } {
    assert(this.#closed, 'a nursery is closed once its body and every task have finished')
    return { errors: this.#errors }
  }

  #checkOpen(method: string): void {
    if (this.#closed) {
      throw new Error(
        `Nursery.${method}() was called on a closed nursery: its body and all of its tasks have finished. Start tasks from inside the body of an open nursery (or from one of its tasks).`,
      )
    }
  }

  #recordError(e: unknown): void {
    this.#errors.push(e)
    this.cancelScope.cancel(e)
  }

  #taskDone(): void {
    if (--this.#pending === 0 && this.#bodyDone) {
      this.#closed = true // at once: see the invariant on `pending`
      this.#onIdle?.()
    }
  }

  #taskFailed(e: unknown): void {
    this.#recordError(e)
    this.#taskDone()
  }
}

/**
 * Opens a nursery, runs `body(nursery)`, then waits for every task started in
 * it. Resolves with the body's value; if the body or any task threw, the
 * nursery is cancelled and, once everything has exited, rejects with a
 * `NurseryError` (an AggregateError) holding every error. `Cancelled` errors
 * caused by the nursery's own cancellation are removed.
 */
export async function openNursery<T>(body: (nursery: Nursery) => Promise<T>): Promise<T> {
  checkFunction('openNursery(body): body', body)
  const caller = current()
  const scope = new CancelScope()
  const status = scope._enter(caller.status)
  const nursery = new Nursery(scope, status, caller.runtime)
  let value: T | undefined
  let owns = false
  try {
    try {
      await undefined // a fresh stack for the body, as in CancelScope.run
      value = await runIn({ status, task: caller.task, runtime: caller.runtime }, () => body(nursery))
      await nursery._bodyFinished(undefined, false)
    } catch (e) {
      await nursery._bodyFinished(e, true)
    }
    owns = scope._ownsCancellation()
  } finally {
    scope._exit()
  }
  const { errors } = nursery._close()
  if (errors.length === 0) return value as T
  const rest = owns ? withoutCancelled(errors) : errors
  if (rest.length === 0) {
    // Only our own cancellation: the scope caught it (Trio's cancelled_caught).
    scope._filterError(new Cancelled(), true)
    return value as T
  }
  // Always a group (API.md), even when only an outer scope's Cancelleds pass
  // through: the scope that owns that cancellation removes them (cancel-scope.ts).
  throw new NurseryError(rest)
}

/** Begins the queued tasks q[i..j) (triples, see Nursery.#startQueued) in the current context. */
function startRange(q: unknown[], i: number, j: number, done: () => void, failed: (e: unknown) => void): void {
  for (; i < j; i += 3) {
    const body = q[i] as (...a: unknown[]) => unknown
    const args = q[i + 1] as unknown[]
    let p: unknown
    try {
      p = body(...args)
    } catch (e) {
      p = Promise.reject(e)
    }
    Promise.resolve(p).then(done, failed)
  }
}

export type { TaskInfo }
