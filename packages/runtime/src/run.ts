/**
 * `run(main)`: the entry point, like `trio.run`. It gives `main` a fresh
 * runtime (its own worker pool, made on first use), waits for it, shuts the
 * pool down, and only then settles, so a program exits by itself.
 *
 * Deadlock detection (Go's "all goroutines are asleep"): Node emits
 * `beforeExit` when its event loop has nothing left to do. If `main` has not
 * settled by then, no timer, I/O or thread can ever wake it: every task is
 * parked on a gotrio primitive (or on a promise nobody will settle). `run`
 * then rejects with `DeadlockError`, naming the waiting tasks, and cancels
 * them so that they unwind.
 */
import { CancelScope } from './cancel-scope.js'
import { allStatuses, rootContext, runIn } from './context.js'
import { DeadlockError, type WaitingTask } from './errors.js'
import { Runtime, type RunOptions } from './runtime.js'
import type { CancelStatus } from './status.js'
import { checkFunction } from './validate.js'

export type { RunOptions }

export async function run<T>(main: () => Promise<T>, options: RunOptions = {}): Promise<T> {
  checkFunction('run(main): main', main)
  if (typeof options !== 'object' || options === null) throw new TypeError('run(main, options): options must be an object like { workers }')
  const runtime = new Runtime(options, false)
  const scope = new CancelScope()
  const status = scope._enter(rootContext.status)
  let onBeforeExit: (() => void) | undefined
  try {
    const mainDone = runIn({ status, task: { name: 'main' }, runtime }, main)
    const deadlock = new Promise<never>((_, reject) => {
      onBeforeExit = () => {
        const waiting = waitingTasks(status)
        reject(new DeadlockError(waiting))
        scope.cancel(new DeadlockError(waiting))
      }
      process.on('beforeExit', onBeforeExit)
    })
    mainDone.catch(() => {}) // settled through the race below; after a deadlock nobody awaits it
    return await Promise.race([mainDone, deadlock])
  } finally {
    if (onBeforeExit) process.off('beforeExit', onBeforeExit)
    scope._exit()
    await runtime.shutdown()
  }
}

/** Every operation parked under `root`, with its task (for DeadlockError and dumpTasks). */
export function waitingTasks(root: CancelStatus = rootContext.status): WaitingTask[] {
  const out: WaitingTask[] = []
  for (const node of allStatuses(root)) {
    for (const op of node.waiters()) out.push({ task: op.task?.name ?? '?', waitsOn: op.waitsOn })
  }
  return out
}

/** The tasks waiting right now in this thread and on what, as text (live debugging). */
export function dumpTasks(): string {
  const w = waitingTasks()
  if (w.length === 0) return 'gotrio: no task is waiting on a gotrio operation in this thread'
  return `gotrio: ${w.length} waiting operation(s) in this thread:\n` + w.map((t) => `  ${t.task}: ${t.waitsOn}`).join('\n')
}
