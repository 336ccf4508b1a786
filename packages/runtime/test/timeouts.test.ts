/**
 * sleep, checkpoint and the timeout helpers, ported from Trio's
 * `src/trio/_tests/test_timeouts.py`. Durations are never asserted: a deadline
 * either cancels a body that would otherwise wait forever, or is so far away
 * that it cannot fire during the test.
 */
import { describe, expect, test } from 'vitest'
import {
  CancelScope,
  Cancelled,
  TooSlowError,
  checkpoint,
  currentTime,
  failAfter,
  moveOnAfter,
  openNursery,
  sleep,
  sleepForever,
} from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { rejection, thrown } from './helpers.js'

const FAR = 1_000_000_000 // ms: never reached during a test

describe('sleep (Trio test_sleep)', () => {
  test('sleep(ms) resolves, and sleep(0) is a checkpoint that lets other tasks run', async () => {
    await sleep(1)
    const order: string[] = []
    await openNursery(async (n) => {
      n.startSoon(async () => {
        order.push('other task')
      })
      await sleep(0)
      order.push('after sleep(0)')
    })
    expect(order).toEqual(['other task', 'after sleep(0)'])
  })

  test('a deadline of now cancels sleep(0) (Trio test_sleep, trivial move_on_at)', async () => {
    const scope = new CancelScope({ deadline: currentTime() })
    let e: unknown
    await scope.run(async () => {
      e = await rejection(sleep(0))
    })
    expect(e).toBeInstanceOf(Cancelled)
  })

  test('sleepForever only ends by cancellation, with Cancelled', async () => {
    const scope = new CancelScope()
    let seen: unknown
    await openNursery(async (n) => {
      n.startSoon(() =>
        scope.run(async () => {
          seen = await rejection(sleepForever())
        }),
      )
      await waitAllTasksBlocked()
      expect(seen).toBeUndefined()
      scope.cancel()
    })
    expect(seen).toBeInstanceOf(Cancelled)
  })

  test('checkpoint() lets a timer-driven cancellation reach a CPU loop', async () => {
    let iterations = 0
    await moveOnAfter(1, async () => {
      for (;;) {
        iterations++
        await checkpoint()
      }
    })
    expect(iterations).toBeGreaterThan(0)
  })
})

describe('a checkpoint checks deadlines (Trio test_yield_briefly_checks_for_timeout)', () => {
  test('a checkpoint right after the deadline passed, before its timer could fire, raises Cancelled', async () => {
    const scope = new CancelScope({ relativeDeadline: 50 }) // room for the first checkpoint on a loaded machine
    let raised: unknown
    await scope.run(async () => {
      await checkpoint() // not yet
      const deadline = scope.deadline
      while (currentTime() < deadline) {
        // The thread stays busy past the deadline (Trio's test jumps a mock clock):
        // the deadline's timer cannot run before the next checkpoint.
      }
      try {
        const p = checkpoint()
        // The checkpoint itself noticed the deadline (its timer has not run: this
        // thread has not yielded since), so the test cannot pass on the timer alone.
        expect(scope.cancelCalled).toBe(true)
        await p
      } catch (e) {
        raised = e
        throw e
      }
    })
    expect(raised).toBeInstanceOf(Cancelled)
    expect(scope.cancelledCaught).toBe(true)
  })

  test('an inner scope without a deadline does not hide the outer deadline', async () => {
    const outer = new CancelScope({ relativeDeadline: 5 })
    await outer.run(async () => {
      await new CancelScope().run(async () => {
        const deadline = outer.deadline
        while (currentTime() < deadline) {
          // busy past the outer deadline
        }
        const p = checkpoint()
        expect(outer.cancelCalled).toBe(true) // noticed by the checkpoint, not the timer
        await p
        throw new Error('unreachable: the checkpoint should have raised')
      })
    })
    expect(outer.cancelledCaught).toBe(true)
  })
})

describe('moveOnAfter (Trio test_move_on_after)', () => {
  test('resolves undefined when the deadline cancels the body, and the scope says so', async () => {
    let scope: CancelScope | undefined
    const v = await moveOnAfter(1, async (s) => {
      scope = s
      await sleep(FAR)
      return 'finished'
    })
    expect(v).toBeUndefined()
    expect(scope!.cancelCalled).toBe(true)
    expect(scope!.cancelledCaught).toBe(true)
  })

  test('resolves with the body value when it finishes in time', async () => {
    let scope: CancelScope | undefined
    const v = await moveOnAfter(FAR, async (s) => {
      scope = s
      await sleep(0)
      return 'finished'
    })
    expect(v).toBe('finished')
    expect(scope!.cancelledCaught).toBe(false)
  })

  test('moveOnAfter(Infinity) never cancels, moveOnAfter(0) cancels at the first checkpoint', async () => {
    expect(await moveOnAfter(Infinity, async () => (await sleep(0), 1))).toBe(1)
    const record: string[] = []
    expect(
      await moveOnAfter(0, async () => {
        record.push('body starts')
        await checkpoint()
        return 1
      }),
    ).toBeUndefined()
    expect(record).toEqual(['body starts'])
  })

  test('an outer cancellation passes through moveOnAfter to its own scope', async () => {
    const outer = new CancelScope()
    let inner: CancelScope | undefined
    await outer.run(async () => {
      await moveOnAfter(FAR, async (s) => {
        inner = s
        outer.cancel()
        await sleepForever()
      })
      throw new Error('not reached: the outer Cancelled goes past moveOnAfter')
    })
    expect(outer.cancelledCaught).toBe(true)
    expect(inner!.cancelledCaught).toBe(false)
  })
})

describe('failAfter (Trio test_fail)', () => {
  test('rejects with TooSlowError when the deadline cancels the body', async () => {
    const e = await rejection(failAfter(1, () => sleep(FAR)))
    expect(e).toBeInstanceOf(TooSlowError)
    expect((e as Error).name).toBe('TooSlowError')
    expect((e as Error).message).toMatch(/did not finish within 1 ms/)
  })

  test('returns the body value when it finishes in time', async () => {
    expect(await failAfter(FAR, async () => (await sleep(0), 'ok'))).toBe('ok')
  })

  test('an error of the body passes through unchanged', async () => {
    const boom = new Error('boom')
    expect(
      await rejection(
        failAfter(FAR, async () => {
          throw boom
        }),
      ),
    ).toBe(boom)
  })

  test('an outer cancellation is Cancelled, not TooSlowError', async () => {
    const outer = new CancelScope()
    let seen: unknown
    await outer.run(async () => {
      try {
        await failAfter(FAR, async () => {
          outer.cancel()
          await sleepForever()
        })
      } catch (e) {
        seen = e
        throw e
      }
    })
    expect(seen).toBeInstanceOf(Cancelled)
    expect(outer.cancelledCaught).toBe(true)
  })
})

describe('bad times (Trio test_timeouts_raise_value_error)', () => {
  const fn = async (): Promise<number> => 1
  test.each([
    ['sleep(-1)', () => sleep(-1)],
    ['sleep(NaN)', () => sleep(NaN)],
    ['moveOnAfter(-1, fn)', () => moveOnAfter(-1, fn)],
    ['moveOnAfter(NaN, fn)', () => moveOnAfter(NaN, fn)],
    ['failAfter(-1, fn)', () => failAfter(-1, fn)],
    ['failAfter(NaN, fn)', () => failAfter(NaN, fn)],
  ])('%s throws RangeError at the call, naming the rule', (_name, call) => {
    const e = thrown(call)
    expect(e).toBeInstanceOf(RangeError)
    expect((e as Error).message).toMatch(/must be a non-negative number of milliseconds/)
  })

  test('a time that is not a number is a TypeError at the call', () => {
    const e = thrown(() => sleep('10' as unknown as number))
    expect(e).toBeInstanceOf(TypeError)
    expect((e as Error).message).toMatch(/must be a number of milliseconds/)
  })

  test('moveOnAfter/failAfter without a function is a TypeError at the call', () => {
    expect(thrown(() => moveOnAfter(1, undefined as unknown as () => Promise<void>))).toBeInstanceOf(TypeError)
    expect(thrown(() => failAfter(1, 'x' as unknown as () => Promise<void>))).toBeInstanceOf(TypeError)
  })
})
