/**
 * The module every pool thread loads (Piscina's `filename`). It runs worker
 * tasks: imports the task's module, revives moved endpoints (owned by the
 * task), runs the function under a cancel scope tied to the owner's control
 * block, and closes every resource the task still owns when it ends, however
 * it ends. Many tasks run at once on one thread: a task waiting on a channel
 * or a sleep holds no thread (Piscina's concurrentTasksPerWorker).
 */
import { threadId, workerData, type MessagePort } from 'node:worker_threads'
import './index.js' // the default runtime factory and the worker-task runner, for nested use
import { CancelScope } from './cancel-scope.js'
import { checkCancelled, rootContext, runIn, type TaskContext } from './context.js'
import { Cancelled } from './errors.js'
import type { TaskStatus } from './nursery.js'
import type { Closeable, TaskInfo } from './status.js'
import { runWorkerBootstraps } from './threads.js'
import { decodeTransferred, encodeForTransfer, serializeError } from './transfer.js'
import {
  STATE_CANCEL_REQUESTED,
  STATE_ENDED,
  STATE_RUNNING,
  kState,
  kArgsTaken,
  kThread,
  type StartedMessage,
  type TaskPayload,
  type TaskResult,
} from './worker-protocol.js'

const booted = new Set<string>()

async function bootstrap(list: readonly { module: string; data: unknown }[] | undefined): Promise<void> {
  const todo = (list ?? []).filter((b) => !booted.has(b.module))
  for (const b of todo) booted.add(b.module)
  if (todo.length > 0) await runWorkerBootstraps(todo)
}

await bootstrap((workerData as { bootstraps?: { module: string; data: unknown }[] } | undefined)?.bootstraps)

/**
 * Task modules by URL. `import()` of a module already loaded still runs the
 * loader's resolve hooks (under tsx, a round trip to its loader thread), so
 * each module is imported once per thread.
 */
const modules = new Map<string, Record<string, unknown>>()

async function loadModule(url: string): Promise<Record<string, unknown>> {
  const mod = (await import(url)) as Record<string, unknown>
  modules.set(url, mod)
  return mod
}

export default async function runGotrioTask(p: TaskPayload): Promise<TaskResult> {
  const control = new Int32Array(p.control)
  Atomics.store(control, kThread, threadId)
  const owned = new Set<Closeable>()
  const task: TaskInfo = { name: `worker:${p.name}`, owned, cancelFlag: control }
  const ctx: TaskContext = { status: rootContext.status, task, runtime: rootContext.runtime }
  const scope = new CancelScope()
  const watch = Atomics.waitAsync(control, kState, STATE_RUNNING)
  if (!watch.async) scope.cancel('cancelled before the worker task started')
  else {
    void watch.value.then(() => {
      if (Atomics.load(control, kState) === STATE_CANCEL_REQUESTED) scope.cancel('the nursery cancelled the worker task')
    })
  }
  try {
    await bootstrap(p.bootstraps)
    const value = await runIn(ctx, () =>
      scope.run(async () => {
        const mod = modules.get(p.module) ?? (await loadModule(p.module))
        const fn = mod[p.name]
        if (typeof fn !== 'function') {
          throw new TypeError(
            `worker task: ${p.module} has no exported function named '${p.name}' (its exports: ${Object.keys(mod).join(', ') || 'none'})`,
          )
        }
        Atomics.store(control, kArgsTaken, 1) // from here the moved endpoints are this thread's (worker-protocol.ts)
        const args = (await decodeTransferred(p.args)) as unknown[]
        // Cancelled while queued: do not start it at all (its endpoints are closed below).
        checkCancelled()
        const result: unknown = p.startedPort ? await fn(startedStatus(p.startedPort), ...args) : await fn(...args)
        return encodeForTransfer(result) // endpoints returned move back to the owner
      }),
    )
    if (scope.cancelledCaught) return { kind: 'cancelled' }
    return { kind: 'ok', value }
  } catch (e) {
    // Code blocked in Atomics.wait (sendSync) sees the cancel request through
    // the shared flag before the event loop can tell our scope: its Cancelled
    // is still ours to report as a cancellation, not as an error.
    if (e instanceof Cancelled && Atomics.load(control, kState) === STATE_CANCEL_REQUESTED) return { kind: 'cancelled' }
    return { kind: 'error', error: serializeError(e) }
  } finally {
    // Whatever the task still owns is closed, so peers see EndOfChannel /
    // BrokenResourceError instead of waiting forever (API.md).
    for (const r of owned) {
      try {
        r.close()
      } catch {
        /* closing is best effort; the task's own result or error is what is reported */
      }
    }
    p.startedPort?.close()
    Atomics.store(control, kState, STATE_ENDED)
    Atomics.notify(control, kState)
  }
}

function startedStatus(port: MessagePort): TaskStatus<unknown> {
  let called = false
  return {
    started(value?: unknown) {
      if (called) {
        throw new Error('TaskStatus.started() was called twice: a task started with Nursery.start() reports that it is ready exactly once')
      }
      called = true
      port.postMessage({ value: encodeForTransfer(value) } satisfies StartedMessage)
    },
  }
}
