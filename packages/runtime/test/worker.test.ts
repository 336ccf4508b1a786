/**
 * Worker tasks on the pool, with real worker threads (no mocks). Issue 4:
 * results and errors across threads, cooperative cancellation, termination of
 * a task that ignores it, dying threads, `start` across threads, waiting tasks
 * that share threads, CPU tasks that spread, and a pool that is shut down.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  CancelScope,
  Cancelled,
  NurseryError,
  type Nursery,
  type TaskStatus,
  checkpoint,
  moveOnAfter,
  openNursery,
  run,
  runInWorker,
  workerTask,
} from '@gotrio/runtime'
import { SLAB_SLOTS } from '../src/worker-protocol.js'
import { freeControlSlots } from '../src/worker-pool.js'
import type * as T from './fixtures/worker-tasks.js'
import { countPrimes } from './fixtures/worker-tasks.js'

const fixtures = new URL('./fixtures/worker-tasks.ts', import.meta.url)
const add = workerTask<typeof T.add>(fixtures, 'add')
const whoAmI = workerTask<typeof T.whoAmI>(fixtures, 'whoAmI')
const fail = workerTask<typeof T.fail>(fixtures, 'fail')
const waitForever = workerTask<typeof T.waitForever>(fixtures, 'waitForever')
const startedWith = workerTask<typeof T.startedWith>(fixtures, 'startedWith')
const returnsWithoutStarted = workerTask<typeof T.returnsWithoutStarted>(fixtures, 'returnsWithoutStarted')
const startedThenSpin = workerTask<typeof T.startedThenSpin>(fixtures, 'startedThenSpin')
const startedThenWait = workerTask<typeof T.startedThenWait>(fixtures, 'startedThenWait')
const exitThread = workerTask<typeof T.exitThread>(fixtures, 'exitThread')
const exitNow = workerTask<typeof T.exitNow>(fixtures, 'exitNow')
const barrier = workerTask<typeof T.barrier>(fixtures, 'barrier')
const allocateForever = workerTask<typeof T.allocateForever>(fixtures, 'allocateForever')
const throwUncaughtLater = workerTask<typeof T.throwUncaughtLater>(fixtures, 'throwUncaughtLater')
const cpuThreadId = workerTask<typeof T.cpuThreadId>(fixtures, 'cpuThreadId')
const flagThenSpin = workerTask<typeof T.flagThenSpin>(fixtures, 'flagThenSpin')
const arriveThenWait = workerTask<typeof T.arriveThenWait>(fixtures, 'arriveThenWait')
const busyUntilReleased = workerTask<typeof T.busyUntilReleased>(fixtures, 'busyUntilReleased')
const markRan = workerTask<typeof T.markRan>(fixtures, 'markRan')
const spinUntilReleased = workerTask<typeof T.spinUntilReleased>(fixtures, 'spinUntilReleased')
const yieldThenSpin = workerTask<typeof T.yieldThenSpin>(fixtures, 'yieldThenSpin')

/** Resolves once counter[index] >= n, without blocking this thread. */
async function until(sab: SharedArrayBuffer, index: number, n: number): Promise<void> {
  const c = new Int32Array(sab)
  for (;;) {
    const seen = Atomics.load(c, index)
    if (seen >= n) return
    const w = Atomics.waitAsync(c, index, seen)
    if (w.async) await w.value
  }
}

function warnings(code: string): { seen: string[]; stop: () => void } {
  const seen: string[] = []
  const on = (w: Error & { code?: string }): void => {
    if (w.code === code) seen.push(w.message)
  }
  process.on('warning', on)
  return { seen, stop: () => process.off('warning', on) }
}

describe('worker tasks: results and errors', () => {
  it('runs an exported function on a pool thread and returns its result', async () => {
    const [sum, tid] = await run(async () => [await runInWorker(add, 2, 40), await runInWorker(whoAmI)] as const, { workers: 1 })
    expect(sum).toBe(42)
    expect(tid).not.toBe(0) // not the main thread
  })

  it('delivers an error thrown in the worker with its name, message, stack, cause and fields', async () => {
    const err = await run(() => runInWorker(fail, 'bad input').catch((e: unknown) => e), { workers: 1 })
    expect(err).toBeInstanceOf(Error)
    const e = err as Error & { code?: string }
    expect(e.name).toBe('ValidationError')
    expect(e.message).toBe('bad input')
    expect(e.code).toBe('E_VALID')
    expect(e.stack).toContain('worker-tasks.ts')
    expect(e.cause).toBeInstanceOf(Error)
    expect((e.cause as Error).name).toBe('RangeError')
    expect((e.cause as Error).message).toBe('inner cause')
  })

  it('groups a worker error in the nursery and cancels the sibling worker task', async () => {
    const err = await run(
      () =>
        openNursery(async (n) => {
          n.startSoon(waitForever)
          n.startSoon(fail, 'boom')
        }).catch((e: unknown) => e),
      { workers: 2 },
    )
    expect(err).toBeInstanceOf(NurseryError)
    const errors = (err as NurseryError).errors as Error[]
    expect(errors.map((e) => `${e.name}: ${e.message}`)).toEqual(['ValidationError: boom'])
  })

  it('names a missing export clearly', async () => {
    const missing = workerTask(fixtures, 'noSuchExport')
    await expect(run(() => runInWorker(missing), { workers: 1 })).rejects.toThrow(/no exported function named 'noSuchExport'/)
  })

  it('refuses a relative module path with a fix in the message', () => {
    expect(() => workerTask('./tasks.ts', 'f')).toThrow(/new URL\('\.\/tasks\.ts', import\.meta\.url\)/)
    expect(() => runInWorker({} as never)).toThrow(TypeError)
  })
})

describe('worker tasks: cancellation', () => {
  it('cancels a waiting worker task cooperatively, without terminating its thread', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const { scope, tidAfter, tidBefore } = await run(
        async () => {
          let scope!: CancelScope
          let tidBefore = 0
          await openNursery(async (n) => {
            scope = n.cancelScope
            tidBefore = await n.start(startedThenWait)
            n.cancelScope.cancel()
          })
          const tidAfter = await runInWorker(whoAmI)
          return { scope, tidBefore, tidAfter }
        },
        { workers: 1, cancelGraceMs: 60_000 },
      )
      expect(scope.cancelledCaught).toBe(true)
      expect(tidAfter).toBe(tidBefore) // same thread: it was not terminated
      expect(w.seen).toEqual([])
    } finally {
      w.stop()
    }
  })

  it('moveOnAfter around runInWorker cancels the task in the worker', async () => {
    const r = await run(() => moveOnAfter(10, () => runInWorker(waitForever)), { workers: 1, cancelGraceMs: 60_000 })
    expect(r).toBeUndefined()
  })

  it('terminates a task that ignores cancellation after the grace period, reports it, and replaces the thread', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const { tidSpin, tidAfter, caught } = await run(
        async () => {
          let tidSpin = 0
          let caught: unknown
          await openNursery(async (n) => {
            tidSpin = await n.start(startedThenSpin)
            n.cancelScope.cancel()
          }).catch((e: unknown) => (caught = e))
          return { tidSpin, tidAfter: await runInWorker(whoAmI), caught }
        },
        { workers: 1, cancelGraceMs: 50 },
      )
      expect(caught).toBeUndefined() // the nursery's own cancellation: removed, not an error
      expect(w.seen).toHaveLength(1)
      expect(w.seen[0]).toMatch(/ignored cancellation for 50 ms; terminating worker thread/)
      expect(tidAfter).not.toBe(tidSpin) // a new thread replaced the terminated one
    } finally {
      w.stop()
    }
  })

  it('the Cancelled of a terminated task says that its thread was terminated', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const err = await run(
        async () => {
          let e: unknown
          const sab = new SharedArrayBuffer(4)
          await openNursery(async (n) => {
            n.startSoon(async () => {
              e = await runInWorker(flagThenSpin, sab).catch((x: unknown) => x)
            })
            // Wait (without blocking this thread) until the task spins in its worker.
            const flag = new Int32Array(sab)
            while (Atomics.load(flag, 0) === 0) {
              const r = Atomics.waitAsync(flag, 0, 0)
              if (r.async) await r.value
            }
            n.cancelScope.cancel()
          })
          return e
        },
        { workers: 1, cancelGraceMs: 30 },
      )
      expect(err).toBeInstanceOf(Cancelled)
      expect((err as Error).message).toMatch(/worker task flagThenSpin ignored cancellation for 30 ms .*worker thread \d+ was terminated/)
      expect(w.seen).toHaveLength(1)
    } finally {
      w.stop()
    }
  })
})

describe('worker tasks: control blocks and the cancellation doorbell', () => {
  it(`more tasks at once than the pool has control-block slots are all cancelled cooperatively, and the slots are reused after`, async () => {
    const N = SLAB_SLOTS + 100 // the last 100 get control blocks of their own
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(4)
      const { caught, after } = await run(
        async () => {
          let caught = false
          await openNursery(async (n) => {
            for (let i = 0; i < N; i++) n.startSoon(() => runInWorker(arriveThenWait, sab))
            await until(sab, 0, N) // every task is running in a worker
            n.cancelScope.cancel()
          })
          caught = true
          expect(freeControlSlots()).toBe(SLAB_SLOTS) // every slot was given back
          // Sequential tasks (each takes and frees one) see no stale cancel request.
          let after = 0
          for (let i = 0; i < SLAB_SLOTS + 10; i++) after += await runInWorker(add, i, 1)
          expect(freeControlSlots()).toBe(SLAB_SLOTS)
          return { caught, after }
        },
        { workers: 2, cancelGraceMs: 60_000 },
      )
      expect(caught).toBe(true)
      expect(new Int32Array(sab)[0]).toBe(N)
      expect(after).toBe(((SLAB_SLOTS + 10) * (SLAB_SLOTS + 11)) / 2)
      expect(w.seen).toEqual([]) // the doorbell reached every task: no thread was terminated
    } finally {
      w.stop()
    }
  })

  it('a task cancelled while it waits behind a busy thread never runs', async () => {
    const sab = new SharedArrayBuffer(12)
    const { busy, scope } = await run(
      async () => {
        const scope = new CancelScope()
        let busy = ''
        await openNursery(async (n) => {
          n.startSoon(async () => void (busy = await runInWorker(busyUntilReleased, sab)))
          await until(sab, 0, 1) // the only thread is busy, its event loop stopped
          n.startSoon(() => scope.run(() => runInWorker(markRan, sab)))
          await checkpoint() // markRan has been handed to the busy thread
          scope.cancel()
          Atomics.store(new Int32Array(sab), 1, 1) // release the thread: it finds markRan cancelled
        })
        return { busy, scope }
      },
      { workers: 1, cancelGraceMs: 60_000 },
    )
    expect(busy).toBe('released')
    expect(scope.cancelledCaught).toBe(true)
    expect(new Int32Array(sab)[2]).toBe(0) // markRan never ran
  })
})

describe('worker tasks: dying threads', () => {
  it('a thread that calls process.exit fails its task with a clear error and is replaced', async () => {
    const { err, after } = await run(
      async () => ({
        err: await runInWorker(exitThread, 3).catch((e: unknown) => e),
        after: await runInWorker(add, 1, 1),
      }),
      { workers: 1 },
    )
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/worker task exitThread failed because its worker thread \d+ died: .*code: 3/)
    expect(after).toBe(2)
  })

  it('the control-block slots of tasks whose thread died are reused once the thread has exited', async () => {
    const { free, rounds } = await run(
      async () => {
        const rounds: number[] = []
        for (let k = 0; k < 5; k++) {
          // Two at once on the one thread: one that kills it, and one that waits for a thread
          // (the pool holds it rather than post it behind a busy one) and runs on the replacement.
          const [died, queued] = await Promise.all([
            runInWorker(exitNow, 3).catch((e: unknown) => e),
            runInWorker(add, 0, 0).catch((e: unknown) => e),
          ])
          expect(died).toBeInstanceOf(Error)
          expect(queued).toBe(0)
          await runInWorker(add, 1, 1) // on the replacement thread: the dead one has exited by now
          rounds.push(freeControlSlots()!)
        }
        return { free: freeControlSlots(), rounds }
      },
      { workers: 1 },
    )
    // The dying task's slot is back once its thread exited. The never-started task's
    // slot goes back at a thread exit after its failure (which thread it was queued on
    // is not known), so at most that one slot waits, for the next death; nothing piles
    // up (before, every dead thread's slots were lost: 1022, 1020, 1018, ...).
    for (const n of rounds) expect(n).toBeGreaterThanOrEqual(SLAB_SLOTS - 1)
    expect(free).toBeGreaterThanOrEqual(SLAB_SLOTS - 1)
  })

  it('an uncaught error in the worker fails the task with that error as cause', async () => {
    const err = await run(() => runInWorker(throwUncaughtLater).catch((e: unknown) => e), { workers: 1 })
    expect((err as Error).message).toMatch(/worker thread \d+ died: uncaught in worker/)
  })

  it('a thread that exceeds its resource limits fails its task and is replaced', async () => {
    const { err, after } = await run(
      async () => ({
        err: await runInWorker(allocateForever).catch((e: unknown) => e),
        after: await runInWorker(add, 2, 2),
      }),
      { workers: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } },
    )
    expect((err as Error).message).toMatch(/worker thread \d+ died: .*(memory|ERR_WORKER_OUT_OF_MEMORY)/i)
    expect(after).toBe(4)
  })
})

describe('worker tasks: start across threads', () => {
  it('status.started(v) in the worker resolves start on the caller thread', async () => {
    const v = await run(() => openNursery((n) => n.start(startedWith, 'x')), { workers: 1 })
    expect(v).toBe('ready:x')
  })

  it('a worker task that returns without started() rejects start with an Error', async () => {
    await expect(run(() => openNursery((n) => n.start(returnsWithoutStarted)), { workers: 1 })).rejects.toThrow(
      /returned without calling status.started\(\)/,
    )
  })
})

describe('worker tasks: scheduling', () => {
  const N = Number(process.env.GOTRIO_WORKER_TASKS ?? 200)

  it(`${N} waiting worker tasks on 2 threads all make progress (waiting holds no thread)`, async () => {
    const sab = new SharedArrayBuffer(4)
    const tids = await run(
      () =>
        openNursery(async (n) => {
          const out: number[] = []
          for (let i = 0; i < N; i++) n.startSoon(async () => void out.push(await runInWorker(barrier, sab, N)))
          return out
        }),
      { workers: 2 },
    )
    expect(new Int32Array(sab)[0]).toBe(N)
    expect(tids).toHaveLength(N)
  })

  it('CPU-bound tasks spread over every thread', async () => {
    const results = await run(() => Promise.all([0, 1, 2, 3].map((k) => runInWorker(cpuThreadId, k * 20_000, (k + 1) * 20_000))), {
      workers: 2,
    })
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2)
    expect(results.reduce((s, r) => s + r.primes, 0)).toBe(countPrimes(0, 80_000))
  })
})

describe('worker tasks: which thread a task goes to', () => {
  /**
   * Starts `count` waiting worker tasks one after the other, each under a
   * scope of its own, and returns the thread each one runs on, its scope, and
   * a promise that settles once it has ended.
   */
  async function startWaiters(outer: Nursery, count: number): Promise<{ tid: number; scope: CancelScope; ended: Promise<void> }[]> {
    const waiters: { tid: number; scope: CancelScope; ended: Promise<void> }[] = []
    for (let i = 0; i < count; i++) {
      const scope = new CancelScope()
      let ended!: () => void
      const endedP = new Promise<void>((resolve) => (ended = resolve))
      const tid = await outer.start(async (status: TaskStatus<number>) => {
        await scope.run(() => openNursery(async (n) => status.started(await n.start(startedThenWait))))
        ended()
      })
      waiters.push({ tid, scope, ended: endedP })
    }
    return waiters
  }

  /**
   * Leaves thread A with no task and thread B with at least two waiting ones:
   * the state in which Piscina's own balancer (fewest unfinished tasks) sends
   * every new task to A, one behind the other.
   */
  async function unevenThreads(outer: Nursery): Promise<{ a: number; b: number; waitingOnB: number }> {
    const waiters = await startWaiters(outer, 6)
    const tids = [...new Set(waiters.map((w) => w.tid))]
    expect(tids).toHaveLength(2) // the waiters went to both threads
    const on = (tid: number): typeof waiters => waiters.filter((w) => w.tid === tid)
    const [a, b] = on(tids[0]!).length <= on(tids[1]!).length ? [tids[0]!, tids[1]!] : [tids[1]!, tids[0]!]
    for (const w of on(a)) w.scope.cancel()
    await Promise.all(on(a).map((w) => w.ended))
    return { a, b, waitingOnB: on(b).length }
  }

  /**
   * Runs `body` in a 2-thread pool whose threads unevenThreads() has set up,
   * then cancels the waiting tasks left. Returns what `body` returns, with
   * the two threads and the number of tasks waiting on B.
   */
  function onUnevenThreads<T>(
    body: (threads: { a: number; b: number }) => Promise<T>,
  ): Promise<T & { a: number; b: number; waitingOnB: number }> {
    return run(
      () =>
        openNursery(async (outer) => {
          const threads = await unevenThreads(outer)
          const out = { ...(await body(threads)), ...threads }
          outer.cancelScope.cancel()
          return out
        }),
      { workers: 2, cancelGraceMs: 60_000 },
    )
  }

  /**
   * Releases a spinning task once `placed` settles, or after `ms` as a last
   * resort: a task queued behind the spinner on its thread can only start once
   * the spinner is released, and the test must then fail, not hang.
   */
  function releaseWhen(spinner: SharedArrayBuffer, placed: Promise<unknown>, ms: number): void {
    const release = (): void => {
      Atomics.store(new Int32Array(spinner), 1, 1)
      Atomics.notify(new Int32Array(spinner), 1)
    }
    const timer = setTimeout(release, ms)
    const settle = (): void => {
      clearTimeout(timer)
      release()
    }
    placed.then(settle, settle) // a rejection is the test's to report, where it awaits `placed`
  }

  it('a task started while one thread computes goes to the other thread, though that one has more (waiting) tasks', async () => {
    const spinner = new SharedArrayBuffer(12)
    const r = await onUnevenThreads(async () => {
      const first = runInWorker(spinUntilReleased, spinner)
      await until(spinner, 0, 1) // it runs, and its thread's event loop is stopped
      const second = runInWorker(whoAmI)
      releaseWhen(spinner, second, 10_000)
      return { firstOn: await first, secondOn: await second }
    })
    expect(r.waitingOnB).toBeGreaterThanOrEqual(2)
    expect(r.firstOn).toBe(r.a) // the thread with no task
    expect(r.secondOn).toBe(r.b) // not queued behind the spinner
  })

  it('two tasks started together go to two threads, though one thread has more (waiting) tasks', async () => {
    const spinners = [new SharedArrayBuffer(12), new SharedArrayBuffer(12)]
    const r = await onUnevenThreads(async () => {
      const both = spinners.map((s) => runInWorker(spinUntilReleased, s))
      const running = Promise.all(spinners.map((s) => until(s, 0, 1)))
      for (const s of spinners) releaseWhen(s, running, 10_000)
      return { on: await Promise.all(both) }
    })
    expect(r.waitingOnB).toBeGreaterThanOrEqual(2)
    expect(new Set(r.on)).toEqual(new Set([r.a, r.b]))
  })

  it('a task sent to a thread that has not taken it up keeps the next task off that thread', async () => {
    const spinner = new SharedArrayBuffer(12)
    const r = await onUnevenThreads(async () => {
      const spinning = runInWorker(yieldThenSpin, spinner)
      await until(spinner, 0, 1) // it computes after an await: its thread (A) is stuck but not marked busy
      const queued = runInWorker(whoAmI) // so this one goes to A, the thread with fewer tasks, and waits there
      const next = runInWorker(whoAmI) // A now holds a task it has not taken up: this one must go to B
      releaseWhen(spinner, next, 10_000)
      return { spinningOn: await spinning, queuedOn: await queued, nextOn: await next }
    })
    expect(r.waitingOnB).toBeGreaterThanOrEqual(2)
    expect(r.spinningOn).toBe(r.a)
    expect(r.queuedOn).toBe(r.a) // the blind spot the balancer documents (CPU work after an await)
    expect(r.nextOn).toBe(r.b)
  })
})

describe('worker tasks: pool lifetime', () => {
  const script = fileURLToPath(new URL('./fixtures/exits-by-itself.ts', import.meta.url))
  const root = fileURLToPath(new URL('../../..', import.meta.url))

  it('a program using worker tasks inside run() exits by itself with no handle left open', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, 'run'], { cwd: root, timeout: 60_000 })
    expect(stdout.trim()).toBe('result 42; open worker handles after run: 0')
  })

  it('outside run(), the default pool does not keep the process alive once idle', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, 'default'], { cwd: root, timeout: 60_000 })
    expect(stdout.trim()).toBe('result 42')
  })

  it('after run() has finished, worker tasks fall back to the default runtime', async () => {
    let later!: () => Promise<number>
    await run(async () => {
      later = () => runInWorker(add, 1, 2)
    })
    // Outside run the default runtime is used, so this works (and does not use the finished pool).
    expect(await later()).toBe(3)
  })
})

it('Cancelled is what a cancelled runInWorker rejects with', async () => {
  const err = await run(
    async () => {
      let e: unknown
      await openNursery(async (n) => {
        n.startSoon(async () => {
          e = await runInWorker(waitForever).catch((x: unknown) => x)
        })
        await runInWorker(add, 0, 0) // the task above is running by now or queued; either way it is cancelled
        n.cancelScope.cancel()
      })
      return e
    },
    { workers: 1, cancelGraceMs: 60_000 },
  )
  expect(err).toBeInstanceOf(Cancelled)
})
