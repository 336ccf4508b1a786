/**
 * A Runtime is what one `run()` owns: its options and its worker pool. Code
 * reaches it through the task context. Outside `run`, each thread has a
 * default runtime whose pool does not keep the process alive once idle.
 */
import { availableParallelism } from 'node:os'
import type { ResourceLimits } from 'node:worker_threads'
import { setDefaultRuntimeFactory } from './context.ts'
import { checkMs } from './validate.ts'

export interface RunOptions {
  /** Worker threads in the pool (default: the machine's available cores). */
  workers?: number
  /**
   * How long a cancelled worker task may ignore cancellation (a CPU loop that
   * never reaches a checkpoint) before its thread is terminated, in ms
   * (default 1000). Termination is reported with a process warning.
   */
  cancelGraceMs?: number
  /** Limits for each worker thread (see node:worker_threads). A thread that exceeds them dies and is replaced. */
  resourceLimits?: ResourceLimits
}

/** Something the runtime owns and must shut down before `run` settles (the worker pool). */
export interface RuntimeService {
  shutdown(): Promise<void>
}

export class Runtime {
  readonly workers: number
  readonly cancelGraceMs: number
  readonly resourceLimits: ResourceLimits | undefined
  /** True for the default runtime used outside `run` (never shut down by gotrio). */
  readonly isDefault: boolean
  readonly #services = new Map<string, RuntimeService>()
  #shutDown = false

  constructor(options: RunOptions, isDefault: boolean) {
    this.workers = checkWorkers(options.workers)
    this.cancelGraceMs = options.cancelGraceMs === undefined ? 1000 : checkMs('run() option cancelGraceMs', options.cancelGraceMs)
    this.resourceLimits = options.resourceLimits
    this.isDefault = isDefault
  }

  /** The service named `key` if it was made, without making it. */
  peekService<S extends RuntimeService>(key: string): S | undefined {
    return this.#services.get(key) as S | undefined
  }

  /** The service named `key`, made on first use by `create` (the pool is made on the first worker task). */
  service<S extends RuntimeService>(key: string, create: (runtime: Runtime) => S): S {
    let s = this.#services.get(key) as S | undefined
    if (!s) {
      if (this.#shutDown) {
        throw new Error('this run() has finished: its worker pool is shut down; start worker tasks inside run()')
      }
      s = create(this)
      this.#services.set(key, s)
    }
    return s
  }

  /** Shuts every service down; called by `run` before it settles. */
  async shutdown(): Promise<void> {
    this.#shutDown = true
    const services = [...this.#services.values()]
    this.#services.clear()
    await Promise.all(services.map((s) => s.shutdown()))
  }
}

function checkWorkers(n: unknown): number {
  if (n === undefined) return Math.max(1, availableParallelism())
  if (typeof n !== 'number') {
    throw new TypeError(
      `run() option workers must be a positive integer (the number of worker threads), got ${typeof n} ${JSON.stringify(n)}`,
    )
  }
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`run() option workers must be a positive integer (the number of worker threads), got ${String(n)}`)
  }
  return n
}

setDefaultRuntimeFactory(() => new Runtime({}, true))
