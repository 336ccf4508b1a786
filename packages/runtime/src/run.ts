/**
 * `run(main)`: the entry point, like `trio.run`. It gives `main` a fresh
 * runtime (its own worker pool, made on first use), waits for it, shuts the
 * pool down, and only then settles, so a program exits by itself.
 *
 * Deadlock detection (Go's "all goroutines are asleep"): Node emits
 * `beforeExit` when its event loop has nothing left to do. If `main` has not
 * settled by then, no timer, I/O or thread can ever wake it: every task is
 * parked on a gotrio primitive (or on a promise nobody will settle). `run`
 * then cancels them, waits for them to unwind, and rejects with
 * `DeadlockError`, naming the tasks that were waiting.
 *
 * Live debugging (Go's SIGQUIT dump): with `GOTRIO_DUMP_SIGNAL` set to a
 * signal name (say `SIGUSR2`; not SIGUSR1, which Node keeps for the
 * inspector), each `run` listens for that signal while it runs and prints
 * `dumpTasks()` to stderr when it arrives. A signal listener does not keep
 * the process alive.
 */
import { constants as osConstants } from 'node:os'
import { CancelScope } from './cancel-scope.ts'
import { allStatuses, rootContext, runIn } from './context.ts'
import { DeadlockError, type WaitingTask } from './errors.ts'
import { Runtime, type RunOptions } from './runtime.ts'
import type { CancelStatus } from './status.ts'
import { checkFunction, checkOptionKeys } from './validate.ts'
import { startDetector } from './deadlock/detector.ts'
import { dumpOtherThreads } from './deadlock/local.ts'
import { isMainThread } from 'node:worker_threads'

export type { RunOptions }

export async function run<T>(main: () => Promise<T>, options: RunOptions = {}): Promise<T> {
  checkFunction('run(main): main', main)
  if (typeof options !== 'object' || options === null) throw new TypeError('run(main, options): options must be an object like { workers }')
  checkOptionKeys('run(main, options)', options, ['workers', 'cancelGraceMs', 'resourceLimits'])
  // Validated before the scope is entered: a bad GOTRIO_DUMP_SIGNAL must not leave it attached.
  const dumpSignal = dumpSignalFromEnv()
  const runtime = new Runtime(options, false)
  const scope = new CancelScope()
  const status = scope._enter(rootContext.status)
  let onBeforeExit: (() => void) | undefined
  let stopDetector: (() => void) | undefined
  const onDumpSignal = (): void => void process.stderr.write(dumpTasks() + '\n')
  if (dumpSignal) process.on(dumpSignal, onDumpSignal)
  try {
    const mainDone = Promise.resolve(runIn({ status, task: { name: 'main' }, runtime }, main))
    return await new Promise<T>((resolve, reject) => {
      /** Set at the first `beforeExit` while main has not settled. */
      let deadlock: DeadlockError | undefined
      // After a deadlock, run still settles only once main has unwound (its
      // tasks' finally blocks may wait on shielded work): no task outlives
      // run, and the pool is shut down after them.
      mainDone.then(
        (value) => (deadlock ? reject(deadlock) : resolve(value)),
        (error: unknown) => reject(deadlock ?? error),
      )
      const declare = (waiting: WaitingTask[]): void => {
        stopDetector?.()
        deadlock = new DeadlockError(waiting)
        scope.cancel(deadlock)
        // Keep the loop alive one more turn: if the cancelled tasks unwind
        // without scheduling anything, Node would otherwise exit with main
        // unsettled instead of emitting beforeExit again.
        setImmediate(() => {})
      }
      onBeforeExit = () => {
        if (deadlock) {
          // A second time: main was cancelled, yet everything waits again
          // (a task swallowed Cancelled). Report the deadlock anyway.
          reject(deadlock)
          return
        }
        declare(waitingTasks(status))
      }
      process.on('beforeExit', onBeforeExit)
      // Worker threads involved: the pool keeps the loop alive, so beforeExit
      // never comes; the cross-thread detector watches instead (deadlock/detector.ts).
      if (isMainThread) stopDetector = startDetector({ waitingHere: () => waitingTasks(status), onDeadlock: declare })
    })
  } finally {
    if (onBeforeExit) process.off('beforeExit', onBeforeExit)
    stopDetector?.()
    if (dumpSignal) process.off(dumpSignal, onDumpSignal)
    scope._exit()
    await runtime.shutdown()
  }
}

/** The signal named by GOTRIO_DUMP_SIGNAL, or undefined; a name Node does not know is an error that says so. */
function dumpSignalFromEnv(): NodeJS.Signals | undefined {
  const name = process.env.GOTRIO_DUMP_SIGNAL
  if (name === undefined || name === '') return undefined
  if (!(name in osConstants.signals) || name === 'SIGUSR1' || name === 'SIGKILL' || name === 'SIGSTOP') {
    throw new TypeError(
      `GOTRIO_DUMP_SIGNAL must name a signal a process can listen for (e.g. SIGUSR2; SIGUSR1 belongs to the inspector), got ${JSON.stringify(name)}`,
    )
  }
  return name as NodeJS.Signals
}

/** Every operation parked under `root`, with its task (for DeadlockError and dumpTasks). */
export function waitingTasks(root: CancelStatus = rootContext.status): WaitingTask[] {
  const out: WaitingTask[] = []
  for (const node of allStatuses(root)) {
    for (const op of node.waiters()) out.push({ task: op.task?.name ?? '?', waitsOn: op.waitsOn })
  }
  return out
}

/**
 * The tasks waiting right now, and on what, as text (live debugging): this
 * thread's, then every other gotrio thread's (each is asked and answers from
 * its own event loop; this call blocks for at most a quarter second waiting
 * for them). A thread busy computing, or blocked in a `*Sync` call, cannot
 * answer and is listed as such.
 */
export function dumpTasks(): string {
  const w = waitingTasks()
  const lines: string[] = []
  if (w.length === 0) lines.push('gotrio: no task is waiting on a gotrio operation in this thread')
  else lines.push(`gotrio: ${w.length} waiting operation(s) in this thread:`, ...w.map((t) => `  ${t.task}: ${t.waitsOn}`))
  for (const d of dumpOtherThreads()) {
    if (d.waiting === undefined) {
      lines.push(`gotrio: worker thread ${d.thread} did not answer (running a task without yielding)`)
      continue
    }
    lines.push(
      `gotrio: ${d.waiting.length} waiting operation(s) in worker thread ${d.thread}:`,
      ...d.waiting.map((t) => `  ${t.task}: ${t.waitsOn}`),
    )
  }
  return lines.join('\n')
}
