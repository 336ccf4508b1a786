/**
 * Worker tasks: an exported function of a module, run on the runtime's worker
 * pool. This file is the public face (`workerTask`, `runInWorker`); the pool,
 * the worker-side entry and the cross-thread protocol live in worker-pool.ts
 * and worker-entry.ts.
 */
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { TaskStatus } from './nursery.ts'
import { noteOutstanding } from './deadlock/local.ts'
import type { kTransfer } from './resources.ts'

const kWorkerTask: unique symbol = Symbol.for('gotrio.WorkerTask')
/**
 * Extension point: a worker task that carries its own runner (a remote task of
 * `@gotrio/nats`) is run by it instead of the local pool, with the same
 * arguments and `TaskStatus` the pool would get.
 */
export const kTaskRunner: unique symbol = Symbol.for('gotrio.WorkerTask.runner')

/**
 * A reference to `export function name(...args: A): R | Promise<R>` in a module,
 * runnable on the worker pool with `runInWorker` or a nursery's
 * `startSoon`/`start`. Make one with `workerTask`.
 */
export interface WorkerTask<A extends unknown[], R> {
  readonly [kWorkerTask]: true
  /** The module's URL (`file:` URL or bare specifier), as the worker imports it. */
  readonly module: string
  /** The export to call. */
  readonly name: string
  /** Type-level only: the function's signature. Never set. */
  readonly __signature?: (...args: A) => R
  /** Set only by tasks that run elsewhere than the local pool (see kTaskRunner). */
  readonly [kTaskRunner]?: Runner
}

/**
 * Names an exported function of a module as a task for the worker pool.
 *
 * ```ts
 * const countPrimes = workerTask<typeof import('./primes.ts').countPrimes>(
 *   new URL('./primes.ts', import.meta.url), 'countPrimes')
 * ```
 * `module` is a URL, a `file:` URL string, an absolute path, or a bare package
 * specifier; relative paths are refused because the worker cannot know what
 * they are relative to. `exportName` defaults to `default`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function workerTask<F extends (...args: any[]) => any>(
  module: URL | string,
  exportName = 'default',
): WorkerTask<Parameters<F>, Awaited<ReturnType<F>>> {
  if (typeof exportName !== 'string' || exportName === '') {
    throw new TypeError(`workerTask(module, exportName): exportName must be the name of an exported function, got ${String(exportName)}`)
  }
  return { [kWorkerTask]: true, module: moduleUrl(module), name: exportName }
}

export function isWorkerTask(x: unknown): x is WorkerTask<never, unknown> {
  return typeof x === 'object' && x !== null && (x as { [kWorkerTask]?: unknown })[kWorkerTask] === true
}

/** @internal the module normalisation of `workerTask`, for packages that name task modules too. */
export function moduleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href
  if (typeof module !== 'string') {
    throw new TypeError(`workerTask(module): module must be a URL or a string, got ${typeof module}`)
  }
  if (module === '') throw new TypeError(`workerTask(module): module must name a module (a URL or an absolute path), got an empty string`)
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module // already a URL
  if (isAbsolute(module)) return pathToFileURL(module).href
  if (module.startsWith('.')) {
    throw new TypeError(
      `workerTask(module): a relative path (${module}) cannot be resolved in a worker; pass new URL('${module}', import.meta.url) instead`,
    )
  }
  return module // a bare package specifier, resolved by the worker
}

/** What the compiler says when a worker task is given an endpoint that cannot leave its thread. */
export interface ThreadLocalArgument {
  'a memory-channel endpoint cannot cross threads: pass an endpoint of openSharedChannel() instead': never
}

/**
 * The arguments `P` of a worker task as they may cross threads: a value
 * whose transfer is typed as impossible (`[kTransfer]` returning `never`:
 * memory-channel endpoints) becomes `ThreadLocalArgument`, so passing one is a
 * type error that names the fix, in the arguments themselves and, a few levels
 * deep, inside arrays and objects. The runtime refuses them too (a TypeError
 * naming `openSharedChannel`), for code the compiler does not see.
 */
export type CrossThreadArgs<P, Depth extends unknown[] = []> = Depth['length'] extends 5
  ? P
  : P extends { [kTransfer](check?: boolean): never }
    ? ThreadLocalArgument
    : P extends (...a: never[]) => unknown
      ? P
      : P extends object
        ? { [K in keyof P]: CrossThreadArgs<P[K], [...Depth, 1]> }
        : P

/** Runs a worker task on the pool and waits for its result; cancellable like any gotrio operation. */
export function runInWorker<A extends unknown[], R, P extends A = A>(task: WorkerTask<A, R>, ...args: P & CrossThreadArgs<P>): Promise<R> {
  if (!isWorkerTask(task)) throw new TypeError('runInWorker(task, ...args): task must be made with workerTask(module, exportName)')
  return runWorkerTask(task, args, undefined) as Promise<R>
}

export type Runner = (task: WorkerTask<never, unknown>, args: unknown[], status: TaskStatus<unknown> | undefined) => Promise<unknown>
let runner: Runner | undefined

/** @internal worker-pool.ts installs the implementation. */
export function setWorkerTaskRunner(r: Runner): void {
  runner = r
}

/** @internal */
export function runWorkerTask(
  task: WorkerTask<never, unknown> | WorkerTask<unknown[], unknown>,
  args: unknown[],
  status: TaskStatus<unknown> | undefined,
): Promise<unknown> {
  const own = task[kTaskRunner]
  if (own) return own(task as WorkerTask<never, unknown>, args, status)
  if (!runner) return Promise.reject(new Error('gotrio: the worker pool module was not loaded (import @gotrio/runtime, not a deep path)'))
  // Counted until its outcome is handled: the deadlock detector's "nothing on its way" (deadlock/detector.ts).
  noteOutstanding(1)
  let p: Promise<unknown>
  try {
    p = runner(task as WorkerTask<never, unknown>, args, status)
  } catch (e) {
    noteOutstanding(-1)
    throw e
  }
  p.then(taskHandled, taskHandled)
  return p
}

function taskHandled(): void {
  noteOutstanding(-1)
}
