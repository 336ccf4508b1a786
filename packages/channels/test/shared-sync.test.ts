/**
 * Shared sync primitives (openSharedLock, openSharedSemaphore,
 * openSharedCapacityLimiter, openSharedEvent): the one-thread contract on the
 * main thread, then real worker threads (the runtime's pool) under contention
 * with exact totals, random cancellation, a thread that dies holding a lock,
 * moves and bad input. Sizes scale with GOTRIO_STRESS.
 */
import { describe, expect, it } from 'vitest'
import { CancelScope, NurseryError, WouldBlock, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { WouldBlock as RuntimeWouldBlock } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import {
  ClosedResourceError,
  WouldBlock as ChannelsWouldBlock,
  openSharedCapacityLimiter,
  openSharedChannel,
  openSharedEvent,
  openSharedLock,
  openSharedSemaphore,
} from '../src/index.js'
import { parkedSharedSyncOperations } from '../src/shared/sync-primitives/index.js'
import type * as Tasks from './fixtures/sync-tasks.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 1) || 1
const tasks = new URL('./fixtures/sync-tasks.ts', import.meta.url)
const countSync = workerTask<typeof Tasks.countSync>(tasks, 'countSync')
const countAsync = workerTask<typeof Tasks.countAsync>(tasks, 'countAsync')
const underLimiter = workerTask<typeof Tasks.underLimiter>(tasks, 'underLimiter')
const cancelWaiters = workerTask<typeof Tasks.cancelWaiters>(tasks, 'cancelWaiters')
const dieHolding = workerTask<typeof Tasks.dieHolding>(tasks, 'dieHolding')
const dieHoldingTokens = workerTask<typeof Tasks.dieHoldingTokens>(tasks, 'dieHoldingTokens')
const waitEvent = workerTask<typeof Tasks.waitEvent>(tasks, 'waitEvent')
const lockFromChannel = workerTask<typeof Tasks.lockFromChannel>(tasks, 'lockFromChannel')

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

describe('shared sync primitives on one thread (the one-thread contract)', () => {
  it('WouldBlock is one class, defined in @gotrio/runtime', () => {
    expect(ChannelsWouldBlock).toBe(RuntimeWouldBlock)
  })

  it('SharedLock: acquire/release, owner checks, FIFO among tasks, nowait, checkpoint, statistics', async () => {
    const lock = openSharedLock()
    expect(lock.statistics()).toEqual({ locked: false, owner: undefined, tasksWaiting: 0, poisoned: false })
    expect((thrown(() => lock.release()) as Error).message).toMatch(/not held/)
    {
      using _ = await lock.acquire()
      expect(lock.locked()).toBe(true)
      expect(lock.statistics().owner).toBe('main')
      expect(((await lock.acquire().catch((e: unknown) => e)) as Error).message).toMatch(/already holds the lock/)
    }
    expect(lock.locked()).toBe(false)
    const cancelled = new CancelScope()
    cancelled.cancel()
    await cancelled.run(() => lock.acquire())
    expect(cancelled.cancelledCaught).toBe(true)
    expect(lock.locked()).toBe(false)

    const order: number[] = []
    await openNursery(async (n) => {
      const hold = lock.acquireNowait()
      for (let i = 0; i < 5; i++) {
        n.startSoon(async () => {
          for (let k = 0; k < 3; k++) {
            using _ = await lock.acquire()
            order.push(i)
            await waitAllTasksBlocked()
          }
        })
      }
      await waitAllTasksBlocked()
      expect(lock.statistics().tasksWaiting).toBe(5)
      let nowait: unknown
      n.startSoon(async () => void (nowait = thrown(() => lock.acquireNowait())))
      await waitAllTasksBlocked()
      expect(nowait).toBeInstanceOf(WouldBlock)
      hold[Symbol.dispose]()
    })
    expect(order).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    expect(lock.statistics()).toEqual({ locked: false, owner: undefined, tasksWaiting: 0, poisoned: false })
    expect(parkedSharedSyncOperations()).toBe(0)
    lock.close()
  })

  it('SharedLock: a cancelled waiter acquired nothing; release from another task is an Error', async () => {
    const lock = openSharedLock()
    const scope = new CancelScope()
    let got = false
    await openNursery(async (n) => {
      lock.acquireNowait()
      n.startSoon(() => scope.run(async () => void (await lock.acquire(), (got = true))))
      n.startSoon(async function other() {
        expect((thrown(() => lock.release()) as Error).message).toMatch(/only the task that acquired a lock may release it/)
      })
      await waitAllTasksBlocked()
      expect(lock.statistics().tasksWaiting).toBe(1)
      scope.cancel()
      await waitAllTasksBlocked()
      expect(lock.statistics().tasksWaiting).toBe(0)
      lock.release()
    })
    expect(got).toBe(false)
    expect(scope.cancelledCaught).toBe(true)
    expect(lock.locked()).toBe(false)
    lock.close()
  })

  it('SharedSemaphore: value, maxValue, FIFO handoff, RangeError past maxValue', async () => {
    const s = openSharedSemaphore(1, { maxValue: 2 })
    expect([s.value, s.maxValue]).toEqual([1, 2])
    s.release()
    expect(s.value).toBe(2)
    expect(thrown(() => s.release())).toBeInstanceOf(RangeError)
    expect(s.value).toBe(2)
    s.acquireNowait()
    const t = await s.acquire()
    expect(thrown(() => s.acquireNowait())).toBeInstanceOf(WouldBlock)
    const record: string[] = []
    await openNursery(async (n) => {
      for (const name of ['a', 'b']) n.startSoon(async () => void (await s.acquire(), record.push(name)))
      await waitAllTasksBlocked()
      expect(s.statistics().tasksWaiting).toBe(2)
      t[Symbol.dispose]()
      t[Symbol.dispose]() // once
      await waitAllTasksBlocked()
      expect(record).toEqual(['a'])
      s.release()
    })
    expect(record).toEqual(['a', 'b'])
    expect(s.value).toBe(0)
    expect(openSharedSemaphore(0).maxValue).toBeUndefined()
    s.close()
  })

  it('SharedCapacityLimiter: one token per task, totalTokens changes hand tokens out at once, Infinity', async () => {
    const c = openSharedCapacityLimiter(2)
    expect(c.statistics()).toEqual({ borrowedTokens: 0, totalTokens: 2, tasksWaiting: 0 })
    c.acquireNowait()
    expect((thrown(() => c.acquireNowait()) as Error).message).toMatch(/already borrowing/)
    c.release()
    expect((thrown(() => c.release()) as Error).message).toMatch(/holds no token/)
    const gate = openSharedEvent()
    await openNursery(async (n) => {
      for (let i = 0; i < 5; i++)
        n.startSoon(async () => {
          using _ = await c.acquire()
          await gate.wait()
        })
      await waitAllTasksBlocked()
      expect(c.statistics()).toEqual({ borrowedTokens: 2, totalTokens: 2, tasksWaiting: 3 })
      c.totalTokens = 3
      expect(c.statistics()).toEqual({ borrowedTokens: 3, totalTokens: 3, tasksWaiting: 2 })
      c.totalTokens = Infinity
      expect(c.availableTokens).toBe(Infinity)
      await waitAllTasksBlocked()
      expect(c.borrowedTokens).toBe(5)
      gate.set()
    })
    expect(c.borrowedTokens).toBe(0)
    expect(thrown(() => (c.totalTokens = 0))).toBeInstanceOf(RangeError)
    expect(thrown(() => (c.totalTokens = 1.5))).toBeInstanceOf(TypeError)
    c.close()
    gate.close()
  })

  it('SharedEvent: wait, set, checkpoint, cancelled wait unregisters', async () => {
    const e = openSharedEvent()
    const scope = new CancelScope()
    const woke: number[] = []
    await openNursery(async (n) => {
      for (let i = 0; i < 3; i++) n.startSoon(async () => void (await e.wait(), woke.push(i)))
      n.startSoon(() => scope.run(() => e.wait()))
      await waitAllTasksBlocked()
      expect(e.statistics().tasksWaiting).toBe(4)
      scope.cancel()
      await waitAllTasksBlocked()
      expect(e.statistics().tasksWaiting).toBe(3)
      e.set()
    })
    expect(woke.sort()).toEqual([0, 1, 2])
    expect(e.isSet()).toBe(true)
    await e.wait()
    const c = new CancelScope()
    c.cancel()
    await c.run(() => e.wait())
    expect(c.cancelledCaught).toBe(true)
    e.close()
  })

  it('bad input: counts, sync calls on the main thread, closed and moved handles', () => {
    expect(thrown(() => openSharedSemaphore(1.5))).toBeInstanceOf(TypeError)
    expect(thrown(() => openSharedSemaphore('1' as unknown as number))).toBeInstanceOf(TypeError)
    expect(thrown(() => openSharedSemaphore(-1))).toBeInstanceOf(RangeError)
    expect(thrown(() => openSharedSemaphore(2, { maxValue: 1 }))).toBeInstanceOf(RangeError)
    expect(thrown(() => openSharedSemaphore(1, { max: 1 } as never))).toBeInstanceOf(TypeError)
    expect(thrown(() => openSharedCapacityLimiter(0))).toBeInstanceOf(RangeError)
    expect(thrown(() => openSharedCapacityLimiter(NaN))).toBeInstanceOf(TypeError)
    const lock = openSharedLock()
    expect((thrown(() => lock.acquireSync()) as Error).message).toMatch(
      /would freeze the main thread's event loop; on the main thread use await acquire\(\)/,
    )
    const ev = openSharedEvent()
    expect((thrown(() => ev.waitSync()) as Error).message).toMatch(/main thread/)
    const s = openSharedSemaphore(1)
    expect(thrown(() => s.acquireSync())).toBeInstanceOf(Error)
    expect(lock.locked()).toBe(false)
    const c = lock.clone()
    lock.close()
    lock.close()
    expect(thrown(() => lock.locked())).toBeInstanceOf(ClosedResourceError)
    expect(c.locked()).toBe(false) // the clone still works
    c.close()
    ev.close()
    s.close()
  })
})

describe('shared sync primitives across worker threads', () => {
  it('a counter incremented under a shared lock by async and sync holders: exact total', async () => {
    const laps = 1000 * STRESS
    const counter = new Int32Array(new SharedArrayBuffer(8))
    await run(
      async () => {
        const lock = openSharedLock()
        await openNursery(async (n) => {
          n.startSoon(countSync, lock.clone(), counter, laps)
          n.startSoon(countSync, lock.clone(), counter, laps)
          n.startSoon(countAsync, lock.clone(), counter, laps / 10, 4)
          for (let i = 0; i < laps / 10; i++) {
            using _ = await lock.acquire()
            const v = counter[0]!
            await Promise.resolve()
            counter[0] = v + 1
          }
        })
        expect(counter[0]).toBe(2 * laps + 4 * (laps / 10) + laps / 10)
        expect(lock.statistics()).toEqual({ locked: false, owner: undefined, tasksWaiting: 0, poisoned: false })
        lock.close()
      },
      { workers: 3 },
    )
  })

  it('a shared limiter: observed concurrency never exceeds its tokens (async and sync holders)', async () => {
    const stats = new Int32Array(new SharedArrayBuffer(16)) // [inside, peak, done]
    const laps = 100 * STRESS
    await run(
      async () => {
        const limiter = openSharedCapacityLimiter(3)
        await openNursery(async (n) => {
          n.startSoon(underLimiter, limiter.clone(), stats, laps, 4, false)
          n.startSoon(underLimiter, limiter.clone(), stats, laps, 4, false)
          n.startSoon(underLimiter, limiter.clone(), stats, laps * 4, 1, true)
        })
        expect(stats[0]).toBe(0)
        expect(stats[1]).toBeLessThanOrEqual(3)
        expect(stats[1]).toBeGreaterThanOrEqual(1)
        expect(stats[2]).toBe(laps * 4 * 3)
        expect(limiter.statistics()).toEqual({ borrowedTokens: 0, totalTokens: 3, tasksWaiting: 0 })
        limiter.close()
      },
      { workers: 3 },
    )
  })

  it('random cancellation of waiters under contention: successes are exactly the increments, nothing left queued', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(8))
    await run(
      async () => {
        const lock = openSharedLock()
        const got: number[] = []
        await openNursery(async (n) => {
          for (let w = 0; w < 3; w++)
            n.startSoon(async () => void got.push(await runInWorker(cancelWaiters, lock.clone(), counter, 100 * STRESS, 5, 17 + w)))
        })
        expect(got).toHaveLength(3)
        expect(counter[0]).toBe(got.reduce((a, b) => a + b, 0))
        expect(got.reduce((a, b) => a + b, 0)).toBeLessThan(3 * 5 * 100 * STRESS)
        expect(lock.statistics()).toEqual({ locked: false, owner: undefined, tasksWaiting: 0, poisoned: false })
        lock.close()
      },
      { workers: 3 },
    )
  })

  it('a thread killed while holding a lock: released, poisoned, others proceed', async () => {
    await run(
      async () => {
        const lock = openSharedLock()
        const held = openSharedEvent()
        let error: unknown
        try {
          await openNursery(async (n) => {
            n.startSoon(dieHolding, lock.clone(), held.clone())
            await held.wait()
            using _ = await lock.acquire() // waits until the dead thread's hold is released
            expect(lock.statistics().poisoned).toBe(true)
          })
        } catch (e) {
          error = e
        }
        expect(error).toBeInstanceOf(NurseryError)
        expect(String((error as NurseryError).errors[0])).toMatch(/worker thread .* died/)
        expect(lock.statistics()).toMatchObject({ locked: false, poisoned: true, tasksWaiting: 0 })
        lock.close()
        held.close()
      },
      { workers: 2 },
    )
  })

  it('a thread killed while holding limiter and semaphore tokens: they are given back', async () => {
    await run(
      async () => {
        const limiter = openSharedCapacityLimiter(1)
        const sem = openSharedSemaphore(1, { maxValue: 1 })
        const held = openSharedEvent()
        let error: unknown
        try {
          await openNursery(async (n) => {
            n.startSoon(dieHoldingTokens, limiter.clone(), sem.clone(), held.clone())
            await held.wait()
            using _ = await limiter.acquire() // waits until the dead thread's token is given back
            using __ = await sem.acquire()
          })
        } catch (e) {
          error = e
        }
        expect(error).toBeInstanceOf(NurseryError)
        expect(limiter.statistics()).toEqual({ borrowedTokens: 0, totalTokens: 1, tasksWaiting: 0 })
        expect(sem.value).toBe(1)
        for (const h of [limiter, sem, held]) h.close()
      },
      { workers: 2 },
    )
  })

  it('events across threads (async and sync waiters); handles move as arguments and inside channel values', async () => {
    await run(
      async () => {
        const ev = openSharedEvent()
        const lock = openSharedLock()
        const [tx, rx] = openSharedChannel<{ lock: SharedLockType }>(1)
        const results: boolean[] = []
        await openNursery(async (n) => {
          n.startSoon(async () => void results.push(await waitEventTask(ev.clone(), false)))
          n.startSoon(async () => void results.push(await waitEventTask(ev.clone(), true)))
          n.startSoon(async () => void results.push(await lockFromChannelTask(rx)))
          const moved = lock.clone()
          await tx.send({ lock: moved })
          expect(thrown(() => moved.locked())).toBeInstanceOf(ClosedResourceError)
          ev.set()
        })
        expect(results).toEqual([true, true, true])
        tx.close()
        ev.close()
        lock.close()
      },
      { workers: 3 },
    )
  })
})

type SharedLockType = ReturnType<typeof openSharedLock>
function waitEventTask(ev: ReturnType<typeof openSharedEvent>, sync: boolean): Promise<boolean> {
  return runInWorker(waitEvent, ev, sync)
}
function lockFromChannelTask(rx: Parameters<typeof Tasks.lockFromChannel>[0]): Promise<boolean> {
  return runInWorker(lockFromChannel, rx)
}
