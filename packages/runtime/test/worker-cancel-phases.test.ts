/**
 * Cancelling worker tasks by phase (issue 12, point 2; API.md "Cancellation"):
 * a task whose function has not been called (queued, its thread booting or
 * loading the module) is dropped and costs no thread; `cancelGraceMs` counts
 * only while the function runs; a thread whose task has answered is never
 * terminated; a thread is terminated at most once; a cancelled task settles as
 * `Cancelled` whatever happens to its thread afterwards.
 */
import { describe, expect, it } from 'vitest'
import {
  CancelScope,
  Cancelled,
  TooSlowError,
  currentTime,
  failAfter,
  moveOnAfter,
  openNursery,
  throwIfCancelled,
  run,
  runInWorker,
  workerTask,
} from '@gotrio/runtime'
import type * as P from './fixtures/phase-tasks.js'
import type * as T from './fixtures/worker-tasks.js'

const fixtures = new URL('./fixtures/worker-tasks.ts', import.meta.url)
const phase = new URL('./fixtures/phase-tasks.ts', import.meta.url)
const whoAmI = workerTask<typeof T.whoAmI>(fixtures, 'whoAmI')
const flagThenSpin = workerTask<typeof T.flagThenSpin>(fixtures, 'flagThenSpin')
const yieldThenSpin = workerTask<typeof T.yieldThenSpin>(fixtures, 'yieldThenSpin')
const sleepThenReturn = workerTask<typeof T.sleepThenReturn>(fixtures, 'sleepThenReturn')
const countRun = workerTask<typeof P.countRun>(phase, 'countRun')
const waitReleaseThenAnswer = workerTask<typeof P.waitReleaseThenAnswer>(phase, 'waitReleaseThenAnswer')
const cpuLoop = workerTask<typeof P.cpuLoopWithThrowIfCancelled>(phase, 'cpuLoopWithThrowIfCancelled')
const shieldedCheck = workerTask<typeof P.shieldedCheckAfterCancel>(phase, 'shieldedCheckAfterCancel')

function warnings(code: string): { seen: string[]; stop: () => void } {
  const seen: string[] = []
  const on = (w: Error & { code?: string }): void => {
    if (w.code === code) seen.push(w.message)
  }
  process.on('warning', on)
  return { seen, stop: () => process.off('warning', on) }
}

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

/** Blocks this thread for `ms` (a main thread too busy to read the pool's answers). */
function busy(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

describe('cancelling worker tasks that have not started', () => {
  it('on a cold pool with cancelGraceMs 1, cancelled tasks are dropped and no thread is terminated', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(16)
      const { before, after } = await run(
        async () => {
          await openNursery(async (n) => {
            for (let i = 0; i < 8; i++) n.startSoon(countRun, sab)
            // The tasks are posted (a macrotask later) while the threads still boot and load modules.
            await new Promise<void>((resolve) => setImmediate(resolve))
            n.cancelScope.cancel()
          })
          const before = [await runInWorker(whoAmI), await runInWorker(whoAmI)]
          return { before, after: [await runInWorker(whoAmI), await runInWorker(whoAmI)] }
        },
        { workers: 2, cancelGraceMs: 1 },
      )
      expect(w.seen).toEqual([])
      expect(new Set(after)).toEqual(new Set(before)) // the same threads: none was replaced
    } finally {
      w.stop()
    }
  })

  it('a task queued behind a spinning one: dropped; the thread is terminated once; failAfter gives TooSlowError', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(16)
      const e = await run(
        async () => {
          await runInWorker(countRun, new SharedArrayBuffer(16)) // warm: each task reaches the thread at once, in order
          await runInWorker(whoAmI)
          return rejection(
            failAfter(600_000, (scope) =>
              openNursery(async (n) => {
                n.startSoon(flagThenSpin, sab)
                n.startSoon(countRun, sab) // same (only) thread: queued behind the spin
                await until(sab, 0, 1)
                scope.deadline = currentTime() // the deadline passes now
              }),
            ),
          )
        },
        { workers: 1, cancelGraceMs: 20 },
      )
      expect(e).toBeInstanceOf(TooSlowError)
      expect(Atomics.load(new Int32Array(sab), 3)).toBe(0) // the queued task never ran
      expect(w.seen).toHaveLength(1)
    } finally {
      w.stop()
    }
  })

  it('two running tasks that ignore cancellation on one thread: one termination, both settle as Cancelled (TooSlowError)', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(16)
      const seen: unknown[] = []
      const e = await run(
        () =>
          failAfter(600_000, (scope) =>
            openNursery(async (n) => {
              for (let i = 0; i < 2; i++) {
                n.startSoon(async () => {
                  const x = await rejection(runInWorker(yieldThenSpin, sab))
                  seen.push(x)
                  throw x
                })
              }
              await until(sab, 0, 1) // one spins; the other has yielded and can never go on
              scope.deadline = currentTime()
            }),
          ).then(
            (v) => ({ v }),
            (x: unknown) => x,
          ),
        { workers: 1, cancelGraceMs: 20 },
      )
      expect(e).toBeInstanceOf(TooSlowError)
      expect(seen).toHaveLength(2)
      for (const x of seen) expect(x).toBeInstanceOf(Cancelled)
      expect(w.seen).toHaveLength(1)
    } finally {
      w.stop()
    }
  })
})

describe('a task that has answered is no reason to terminate its thread', () => {
  it('cancelled after answering, while main is busy and reads the answer late: no termination, the thread and its other tasks live', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(16)
      const flags = new Int32Array(sab)
      const r = await run(
        async () => {
          const tid = await runInWorker(whoAmI) // a warm pool: tasks reach the thread at once
          let other: string | undefined
          let answer: number | undefined
          await openNursery(async (n) => {
            n.startSoon(async () => {
              other = await runInWorker(sleepThenReturn, 200, 'kept') // never cancelled
            })
            const scope = new CancelScope()
            n.startSoon(() =>
              scope.run(async () => {
                answer = await runInWorker(waitReleaseThenAnswer, sab)
              }),
            )
            await until(sab, 2, 1) // the task runs
            // A busy stretch in a check-phase callback: the next loop turn runs
            // due timers (the grace period) before it reads the pool's answers.
            await new Promise<void>((resolve) =>
              setImmediate(() => {
                Atomics.store(flags, 1, 1)
                Atomics.notify(flags, 1)
                Atomics.wait(flags, 0, 0) // the task is returning its answer
                busy(50) // ...which is now sent, and unread
                scope.cancel()
                busy(50) // past cancelGraceMs before the event loop runs again
                resolve()
              }),
            )
          })
          return { tid, other, answer, after: await runInWorker(whoAmI) }
        },
        { workers: 1, cancelGraceMs: 5 },
      )
      expect(w.seen).toEqual([])
      expect(r.other).toBe('kept')
      expect(r.answer).toBe(r.tid)
      expect(r.after).toBe(r.tid)
    } finally {
      w.stop()
    }
  })
})

describe('throwIfCancelled: CPU loops that meet their deadline', () => {
  it('on the main thread, a deadline that passes during a CPU loop stops it at the next throwIfCancelled()', async () => {
    let laps = 0
    const v = await moveOnAfter(5, async () => {
      for (;;) {
        throwIfCancelled() // the loop never awaits: the deadline's timer cannot fire, the check sees it
        laps++
      }
    })
    expect(v).toBeUndefined()
    expect(laps).toBeGreaterThan(0)
  })

  it('outside any cancelled scope it does nothing', () => {
    expect(() => throwIfCancelled()).not.toThrow()
  })

  it('in a worker task, a CPU loop with throwIfCancelled() gives failAfter its TooSlowError, and no thread is terminated', async () => {
    const w = warnings('GOTRIO_WORKER_TERMINATED')
    try {
      const sab = new SharedArrayBuffer(16)
      const e = await run(
        () =>
          rejection(
            failAfter(600_000, (scope) =>
              openNursery(async (n) => {
                n.startSoon(cpuLoop, sab)
                await until(sab, 2, 1) // the loop runs
                scope.deadline = currentTime()
              }),
            ),
          ),
        { workers: 1, cancelGraceMs: 600_000 },
      )
      expect(e).toBeInstanceOf(TooSlowError)
      expect(w.seen).toEqual([])
    } finally {
      w.stop()
    }
  })

  it('in a worker task, a shielded scope hides the cancellation of its task from throwIfCancelled() (Trio: shields protect cleanup)', async () => {
    const sab = new SharedArrayBuffer(16)
    await run(
      () =>
        moveOnAfter(600_000, (scope) =>
          openNursery(async (n) => {
            n.startSoon(shieldedCheck, sab)
            await until(sab, 2, 1) // the task runs (and spins until it sees the cancel request)
            scope.cancel()
          }),
        ),
      { workers: 1 },
    )
    expect(Atomics.load(new Int32Array(sab), 3)).toBe(1)
  })
})
