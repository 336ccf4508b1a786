/**
 * The one-thread synchronization primitives and the deadline helpers, ported
 * from Trio's `src/trio/_tests/test_sync.py` (test names kept) and
 * `test_timeouts.py`. Tests synchronise with `waitAllTasksBlocked`, never
 * sleeps; no duration is asserted.
 */
import { describe, expect, test } from 'vitest'
import {
  CancelScope,
  Cancelled,
  CapacityLimiter,
  Condition,
  Event,
  Lock,
  Semaphore,
  TooSlowError,
  WouldBlock,
  currentEffectiveDeadline,
  currentTime,
  dumpTasks,
  failAt,
  moveOnAt,
  openNursery,
  sleepForever,
  sleepUntil,
} from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { rejection, thrown } from './helpers.js'

const FAR = 1_000_000_000

/** Trio's assert_checkpoints: the call raises Cancelled in a cancelled scope (and `undo` restores what it did otherwise). */
async function assertCheckpoint(call: () => Promise<unknown>): Promise<void> {
  const scope = new CancelScope()
  scope.cancel()
  let raised: unknown
  await scope.run(async () => {
    try {
      await call()
    } catch (e) {
      raised = e
      throw e
    }
  })
  expect(raised).toBeInstanceOf(Cancelled)
}

describe('Event (Trio test_Event)', () => {
  test('test_Event', async () => {
    const e = new Event()
    expect(e.isSet()).toBe(false)
    expect(e.statistics().tasksWaiting).toBe(0)
    e.set()
    expect(e.isSet()).toBe(true)
    await e.wait()
    await assertCheckpoint(() => e.wait()) // set, and still a checkpoint

    const e2 = new Event()
    const record: string[] = []
    await openNursery(async (n) => {
      for (let i = 0; i < 2; i++) {
        n.startSoon(async () => {
          record.push('sleeping')
          await e2.wait()
          record.push('woken')
        })
      }
      await waitAllTasksBlocked()
      expect(record).toEqual(['sleeping', 'sleeping'])
      expect(e2.statistics().tasksWaiting).toBe(2)
      e2.set()
      await waitAllTasksBlocked()
      expect(record).toEqual(['sleeping', 'sleeping', 'woken', 'woken'])
      expect(e2.statistics().tasksWaiting).toBe(0)
    })
  })

  test('a cancelled wait leaves no waiter behind', async () => {
    const e = new Event()
    const scope = new CancelScope()
    await openNursery(async (n) => {
      n.startSoon(() => scope.run(() => e.wait()))
      await waitAllTasksBlocked()
      expect(e.statistics().tasksWaiting).toBe(1)
      scope.cancel()
    })
    expect(scope.cancelledCaught).toBe(true)
    expect(e.statistics().tasksWaiting).toBe(0)
  })
})

describe('CapacityLimiter (Trio test_CapacityLimiter*)', () => {
  test('test_CapacityLimiter', async () => {
    expect(thrown(() => new CapacityLimiter(1.5))).toBeInstanceOf(TypeError)
    expect(thrown(() => new CapacityLimiter(-1))).toBeInstanceOf(RangeError)
    expect(thrown(() => new CapacityLimiter(0))).toBeInstanceOf(RangeError)
    const c = new CapacityLimiter(2)
    expect([c.totalTokens, c.borrowedTokens, c.availableTokens]).toEqual([2, 0, 2])
    const e = thrown(() => c.release()) as Error
    expect(e.message).toMatch(/holds no token/)
    expect(c.borrowedTokens).toBe(0)
    const t = c.acquireNowait()
    expect([c.borrowedTokens, c.availableTokens]).toEqual([1, 1])
    // "already borrowing": one token per task
    expect((thrown(() => c.acquireNowait()) as Error).message).toMatch(/already borrowing/)
    expect(((await rejection(c.acquire())) as Error).message).toMatch(/already borrowing/)
    expect(c.borrowedTokens).toBe(1)
    c.release()
    expect(c.borrowedTokens).toBe(0)
    t[Symbol.dispose]() // that holding ended: nothing happens
    expect(c.borrowedTokens).toBe(0)
    {
      using _ = await c.acquire()
      expect(c.borrowedTokens).toBe(1)
    }
    expect(c.borrowedTokens).toBe(0)
    await assertCheckpoint(() => c.acquire())
    expect(c.borrowedTokens).toBe(0)

    // waiters, FIFO
    const order: number[] = []
    const hold = c.acquireNowait()
    await openNursery(async (n) => {
      n.startSoon(async () => {
        using _ = await c.acquire()
        order.push(0)
        await new Event().wait().catch(() => {}) // never set: cancelled below
      })
      n.startSoon(async () => {
        using _ = await c.acquire()
        order.push(1)
      })
      n.startSoon(async () => {
        using _ = await c.acquire()
        order.push(2)
      })
      await waitAllTasksBlocked()
      expect(order).toEqual([0])
      expect(c.statistics()).toEqual({ borrowedTokens: 2, totalTokens: 2, tasksWaiting: 2 })
      let nowait: unknown
      n.startSoon(async () => void (nowait = thrown(() => c.acquireNowait())))
      await waitAllTasksBlocked()
      expect(nowait).toBeInstanceOf(WouldBlock)
      hold[Symbol.dispose]()
      await waitAllTasksBlocked()
      expect(order).toEqual([0, 1, 2])
      n.cancelScope.cancel()
    })
    expect(c.borrowedTokens).toBe(0)
  })

  test('test_CapacityLimiter_inf', async () => {
    const c = new CapacityLimiter(Infinity)
    expect(c.availableTokens).toBe(Infinity)
    await openNursery(async (n) => {
      for (let i = 0; i < 50; i++) n.startSoon(async () => void c.acquireNowait())
    })
    expect(c.borrowedTokens).toBe(50)
    expect(c.availableTokens).toBe(Infinity)
  })

  test('test_CapacityLimiter_change_total_tokens', async () => {
    const c = new CapacityLimiter(2)
    expect(thrown(() => (c.totalTokens = 1.5))).toBeInstanceOf(TypeError)
    expect(thrown(() => (c.totalTokens = 0))).toBeInstanceOf(RangeError)
    expect(thrown(() => (c.totalTokens = -10))).toBeInstanceOf(RangeError)
    expect(c.totalTokens).toBe(2)
    const gate = new Event()
    await openNursery(async (n) => {
      for (let i = 0; i < 5; i++) {
        n.startSoon(async () => {
          using _ = await c.acquire()
          await gate.wait()
        })
      }
      await waitAllTasksBlocked()
      expect(c.statistics()).toEqual({ borrowedTokens: 2, totalTokens: 2, tasksWaiting: 3 })
      c.totalTokens = 3 // raising hands a token out at once
      expect(c.statistics()).toEqual({ borrowedTokens: 3, totalTokens: 3, tasksWaiting: 2 })
      c.totalTokens = 1 // lowering takes nothing back
      expect(c.borrowedTokens).toBe(3)
      expect(c.availableTokens).toBe(0)
      c.totalTokens = Infinity
      expect(c.statistics()).toEqual({ borrowedTokens: 5, totalTokens: Infinity, tasksWaiting: 0 })
      gate.set()
    })
    expect(c.borrowedTokens).toBe(0)
  })

  test('test_CapacityLimiter_memleak_548: a cancelled acquire leaves nothing pending', async () => {
    const c = new CapacityLimiter(1)
    const hold = c.acquireNowait()
    await new CancelScope({ deadline: -Infinity }).run(() => c.acquire())
    const scope = new CancelScope()
    await openNursery(async (n) => {
      n.startSoon(() => scope.run(() => c.acquire()))
      await waitAllTasksBlocked()
      expect(c.statistics().tasksWaiting).toBe(1)
      scope.cancel()
    })
    expect(c.statistics()).toEqual({ borrowedTokens: 1, totalTokens: 1, tasksWaiting: 0 })
    hold[Symbol.dispose]()
    expect(c.borrowedTokens).toBe(0)
  })

  test('releasing from a task that does not hold a token is an Error naming the rule', async () => {
    const c = new CapacityLimiter(1)
    c.acquireNowait()
    await openNursery(async (n) => {
      n.startSoon(async () => {
        expect((thrown(() => c.release()) as Error).message).toMatch(/holds no token of this limiter/)
      })
    })
    expect(c.borrowedTokens).toBe(1)
    c.release()
  })
})

describe('Semaphore (Trio test_Semaphore, test_Semaphore_bounded)', () => {
  test('test_Semaphore', async () => {
    expect(thrown(() => new Semaphore(1.5))).toBeInstanceOf(TypeError)
    expect(thrown(() => new Semaphore('1' as unknown as number))).toBeInstanceOf(TypeError)
    expect(thrown(() => new Semaphore(-1))).toBeInstanceOf(RangeError)
    const s = new Semaphore(1)
    expect(s.value).toBe(1)
    expect(s.maxValue).toBeUndefined()
    s.release()
    expect(s.value).toBe(2)
    expect(s.statistics().tasksWaiting).toBe(0)
    s.acquireNowait()
    expect(s.value).toBe(1)
    await s.acquire()
    expect(s.value).toBe(0)
    expect(thrown(() => s.acquireNowait())).toBeInstanceOf(WouldBlock)
    await assertCheckpoint(() => s.acquire())
    s.release()
    expect(s.value).toBe(1)
    await assertCheckpoint(() => s.acquire()) // a checkpoint even when a token is free
    expect(s.value).toBe(1)
    s.acquireNowait()

    const record: string[] = []
    await openNursery(async (n) => {
      for (const name of ['a', 'b']) {
        n.startSoon(async () => {
          record.push(`started ${name}`)
          await s.acquire()
          record.push(`finished ${name}`)
        })
      }
      await waitAllTasksBlocked()
      expect(record).toEqual(['started a', 'started b'])
      expect(s.statistics().tasksWaiting).toBe(2)
      s.release()
      await waitAllTasksBlocked()
      expect(record).toEqual(['started a', 'started b', 'finished a'])
      s.release()
    })
    expect(record).toEqual(['started a', 'started b', 'finished a', 'finished b'])
    expect(s.value).toBe(0)
  })

  test('test_Semaphore_bounded', () => {
    expect(thrown(() => new Semaphore(1, { maxValue: 1.5 }))).toBeInstanceOf(TypeError)
    expect(thrown(() => new Semaphore(2, { maxValue: 1 }))).toBeInstanceOf(RangeError)
    expect(thrown(() => new Semaphore(1, { maxvalue: 1 } as never))).toBeInstanceOf(TypeError)
    const bs = new Semaphore(1, { maxValue: 1 })
    expect(bs.maxValue).toBe(1)
    const e = thrown(() => bs.release()) as Error
    expect(e).toBeInstanceOf(RangeError)
    expect(e.message).toMatch(/maxValue/)
    expect(bs.value).toBe(1)
    const t = bs.acquireNowait()
    expect(bs.value).toBe(0)
    t[Symbol.dispose]()
    expect(bs.value).toBe(1)
    t[Symbol.dispose]() // a second dispose does nothing
    expect(bs.value).toBe(1)
  })
})

describe('Lock (Trio test_Lock_and_StrictFIFOLock)', () => {
  test('test_Lock_and_StrictFIFOLock', async () => {
    const l = new Lock()
    expect(l.locked()).toBe(false)
    expect((thrown(() => l.release()) as Error).message).toMatch(/not held/)
    await l.acquire()
    expect(l.locked()).toBe(true)
    l.release()
    expect(l.locked()).toBe(false)
    {
      using _ = await l.acquire()
      expect(l.locked()).toBe(true)
      expect(l.statistics()).toEqual({ locked: true, owner: 'main', tasksWaiting: 0 })
      expect((thrown(() => l.acquireNowait()) as Error).message).toMatch(/already holds the lock/)
      expect(((await rejection(l.acquire())) as Error).message).toMatch(/already holds the lock/)
    }
    expect(l.locked()).toBe(false)
    await assertCheckpoint(() => l.acquire())
    expect(l.locked()).toBe(false)

    const holder = async (): Promise<void> => {
      l.acquireNowait()
      await sleepForever()
    }
    await openNursery(async (n) => {
      n.startSoon(async function holderTask() {
        await holder().catch(() => {})
        l.release()
      })
      await waitAllTasksBlocked()
      expect(l.locked()).toBe(true)
      expect(l.statistics().owner).toBe('holderTask')
      expect(thrown(() => l.acquireNowait())).toBeInstanceOf(WouldBlock)
      expect((thrown(() => l.release()) as Error).message).toMatch(/held by task 'holderTask'/)
      const waiter = l.acquire()
      await waitAllTasksBlocked()
      expect(l.statistics()).toEqual({ locked: true, owner: 'holderTask', tasksWaiting: 1 })
      n.cancelScope.cancel() // the holder's sleep ends; main's acquire too
      expect(await rejection(waiter)).toBeInstanceOf(Cancelled)
    })
    expect(l.statistics()).toEqual({ locked: false, owner: undefined, tasksWaiting: 0 })
  })

  test('test_lock_fairness: a releasing task cannot take the lock back ahead of a waiter', async () => {
    const lock = new Lock()
    const record: string[] = []
    await openNursery(async (n) => {
      for (const name of ['a', 'b']) {
        n.startSoon(async () => {
          for (let i = 0; i < 3; i++) {
            using _ = await lock.acquire()
            record.push(name)
          }
        })
      }
    })
    expect(record).toEqual(['a', 'b', 'a', 'b', 'a', 'b'])
  })

  test('test_generic_lock_exclusion and fifo fairness (Lock, Semaphore(1), CapacityLimiter(1))', async () => {
    for (const make of [() => new Lock(), () => new Semaphore(1), () => new CapacityLimiter(1)]) {
      const lock = make()
      let inside = 0
      let maxInside = 0
      const order: number[] = []
      await openNursery(async (n) => {
        for (let i = 0; i < 10; i++) {
          n.startSoon(async () => {
            for (let k = 0; k < 5; k++) {
              using _ = await lock.acquire()
              order.push(i)
              maxInside = Math.max(maxInside, ++inside)
              await waitAllTasksBlocked() // others pile up behind us
              inside--
            }
          })
        }
      })
      expect(maxInside).toBe(1)
      // FIFO: once every task waits, they take turns in a fixed cycle
      const cycle = order.slice(0, 10)
      expect(new Set(cycle).size).toBe(10)
      expect(order).toEqual([...cycle, ...cycle, ...cycle, ...cycle, ...cycle])
    }
  })

  test('a cancelled acquire acquired nothing, under contention', async () => {
    const lock = new Lock()
    const scopes: CancelScope[] = []
    let got = 0
    await openNursery(async (n) => {
      const hold = lock.acquireNowait()
      for (let i = 0; i < 20; i++) {
        const s = new CancelScope()
        scopes.push(s)
        n.startSoon(() =>
          s.run(async () => {
            using _ = await lock.acquire()
            got++
          }),
        )
      }
      await waitAllTasksBlocked()
      for (let i = 0; i < 20; i += 2) scopes[i]!.cancel()
      await waitAllTasksBlocked()
      expect(lock.statistics().tasksWaiting).toBe(10)
      hold[Symbol.dispose]()
    })
    expect(got).toBe(10)
    expect(scopes.filter((s) => s.cancelledCaught)).toHaveLength(10)
    expect(lock.locked()).toBe(false)
  })
})

describe('Condition (Trio test_Condition)', () => {
  test('test_Condition', async () => {
    expect(thrown(() => new Condition(new Semaphore(1) as never))).toBeInstanceOf(TypeError)
    const l = new Lock()
    const c = new Condition(l)
    expect(l.locked()).toBe(false)
    c.acquireNowait()
    expect(l.locked()).toBe(true)
    c.release()
    expect(c.locked()).toBe(false)
    expect((thrown(() => c.notify()) as Error).message).toMatch(/must hold the condition's lock/)
    expect(thrown(() => c.notifyAll())).toBeInstanceOf(Error)
    expect(await rejection(c.wait())).toBeInstanceOf(Error)

    const finished: number[] = []
    await openNursery(async (n) => {
      for (let i = 0; i < 3; i++) {
        n.startSoon(async () => {
          using _ = await c.acquire()
          await c.wait()
          expect(l.locked()).toBe(true)
          finished.push(i)
        })
      }
      await waitAllTasksBlocked()
      expect(c.statistics().tasksWaiting).toBe(3)
      {
        using _ = await c.acquire()
        c.notify()
        expect(l.statistics().tasksWaiting).toBe(1)
      }
      await waitAllTasksBlocked()
      expect(finished).toEqual([0])
      {
        using _ = await c.acquire()
        c.notifyAll()
      }
    })
    expect(finished).toEqual([0, 1, 2])
    expect(l.locked()).toBe(false)

    // a cancelled wait takes the lock back before raising, and the caller's `using` still releases it
    const scope = new CancelScope()
    await openNursery(async (n) => {
      n.startSoon(() =>
        scope.run(async () => {
          using _ = await c.acquire()
          try {
            await c.wait()
          } finally {
            expect(l.statistics().owner).not.toBeUndefined()
          }
        }),
      )
      await waitAllTasksBlocked()
      {
        using _ = await c.acquire() // the waiter cannot get the lock back while we hold it
        scope.cancel()
        await waitAllTasksBlocked()
        expect(l.statistics().tasksWaiting).toBe(1)
      }
    })
    expect(scope.cancelledCaught).toBe(true)
    expect(l.locked()).toBe(false)
    expect(thrown(() => c.notify(-1))).toBeInstanceOf(RangeError)
  })
})

test('tasks waiting on the primitives are listed by dumpTasks (what DeadlockError reports)', async () => {
  const l = new Lock()
  const s = new Semaphore(0)
  const c = new CapacityLimiter(1)
  const e = new Event()
  const cond = new Condition()
  c.acquireNowait()
  l.acquireNowait()
  let dump = ''
  await openNursery(async (n) => {
    n.startSoon(async function lockWaiter() {
      await l.acquire()
    })
    n.startSoon(async function semWaiter() {
      await s.acquire()
    })
    n.startSoon(async function limiterWaiter() {
      await c.acquire()
    })
    n.startSoon(async function eventWaiter() {
      await e.wait()
    })
    n.startSoon(async function condWaiter() {
      using _ = await cond.acquire()
      await cond.wait()
    })
    await waitAllTasksBlocked()
    dump = dumpTasks()
    n.cancelScope.cancel()
  })
  for (const line of [
    'lockWaiter: Lock.acquire',
    'semWaiter: Semaphore.acquire',
    'limiterWaiter: CapacityLimiter.acquire',
    'eventWaiter: Event.wait',
    'condWaiter: Condition.wait',
  ]) {
    expect(dump).toContain(line)
  }
  expect(cond.locked()).toBe(false) // the cancelled wait took the lock back, and its `using` released it
  expect(l.statistics()).toEqual({ locked: true, owner: 'main', tasksWaiting: 0 })
  l.release()
})

describe('deadline helpers (Trio test_timeouts)', () => {
  test('currentEffectiveDeadline: nearest deadline, shields, cancelled', async () => {
    expect(currentEffectiveDeadline()).toBe(Infinity)
    const t = currentTime() + FAR
    await moveOnAt(t, async () => {
      expect(currentEffectiveDeadline()).toBe(t)
      await moveOnAt(t + 5, async () => expect(currentEffectiveDeadline()).toBe(t))
      await moveOnAt(t - 5, async () => expect(currentEffectiveDeadline()).toBe(t - 5))
      await new CancelScope({ shield: true }).run(async () => expect(currentEffectiveDeadline()).toBe(Infinity))
      await new CancelScope({ shield: true, deadline: t + 7 }).run(async () => expect(currentEffectiveDeadline()).toBe(t + 7))
      const s = new CancelScope()
      await s.run(async (sc) => {
        sc.cancel()
        expect(currentEffectiveDeadline()).toBe(-Infinity)
      })
    })
  })

  test('moveOnAt, failAt, sleepUntil', async () => {
    const past = currentTime() - 1
    const r = await moveOnAt(past, async () => {
      await sleepForever()
      return 1
    })
    expect(r).toBeUndefined()
    expect(await moveOnAt(currentTime() + FAR, async () => 5)).toBe(5)
    expect(await rejection(failAt(past, () => sleepForever()))).toBeInstanceOf(TooSlowError)
    expect(await failAt(currentTime() + FAR, async () => 6)).toBe(6)
    await sleepUntil(past)
    await sleepUntil(currentTime() + 1)
    expect(await moveOnAt(currentTime() + FAR, () => new CancelScope({ deadline: past }).run(() => sleepUntil(Infinity)))).toBeUndefined()
    expect(thrown(() => moveOnAt(NaN, async () => 1))).toBeInstanceOf(RangeError)
    expect(thrown(() => failAt('1' as unknown as number, async () => 1))).toBeInstanceOf(TypeError)
    expect(thrown(() => sleepUntil(NaN))).toBeInstanceOf(RangeError)
  })
})
