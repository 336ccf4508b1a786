/**
 * Cancel scopes: cancellation points, shielding, nesting, deadlines and the
 * AbortSignal, ported from Trio's `src/trio/_core/_tests/test_run.py`.
 * Each test names the Trio test it comes from.
 */
import { describe, expect, test } from 'vitest'
import { CancelScope, Cancelled, checkpoint, currentTime, openNursery, sleep, sleepForever } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { deferred, rejection } from './helpers.js'

describe('cancellation points', () => {
  test('checkpoint and sleepForever raise Cancelled once the scope is cancelled (Trio test_cancel_points)', async () => {
    const scope = new CancelScope()
    const seen: string[] = []
    await scope.run(async () => {
      await checkpoint()
      scope.cancel()
      seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'checkpoint' : 'other')
      seen.push((await rejection(sleepForever())) instanceof Cancelled ? 'sleepForever' : 'other')
      seen.push((await rejection(sleep(10))) instanceof Cancelled ? 'sleep' : 'other')
    })
    expect(seen).toEqual(['checkpoint', 'sleepForever', 'sleep'])
  })

  test('cancel is idempotent and cancellation is level-triggered (Trio test_cancel_edge_cases)', async () => {
    const scope = new CancelScope()
    await scope.run(async () => {
      scope.cancel()
      scope.cancel()
      await checkpoint()
    })
    expect(scope.cancelCalled).toBe(true)
    expect(scope.cancelledCaught).toBe(true)

    const scope2 = new CancelScope()
    let raised = 0
    await scope2.run(async () => {
      scope2.cancel()
      for (let i = 0; i < 2; i++) {
        if ((await rejection(sleepForever())) instanceof Cancelled) raised++
      }
    })
    expect(raised).toBe(2)
    expect(scope2.cancelledCaught).toBe(false) // both Cancelleds were swallowed by the body
  })

  test('a scope resolves run() with the body value when not cancelled, undefined when it caught its cancellation', async () => {
    expect(await new CancelScope().run(async () => 5)).toBe(5)
    const s = new CancelScope()
    expect(
      await s.run(async () => {
        s.cancel()
        await checkpoint()
        return 5
      }),
    ).toBeUndefined()
  })

  test('a body that finishes without reaching a checkpoint after cancel() returns its value (Trio test_cancel_scope_nesting, pending cancel not delivered)', async () => {
    const scope = new CancelScope()
    const v = await scope.run(async () => {
      scope.cancel()
      return 'done'
    })
    await checkpoint()
    expect(v).toBe('done')
    expect(scope.cancelCalled).toBe(true)
    expect(scope.cancelledCaught).toBe(false)
  })

  test('an error other than Cancelled passes through a cancelled scope', async () => {
    const scope = new CancelScope()
    const boom = new Error('boom')
    const e = await rejection(
      scope.run(async () => {
        scope.cancel()
        throw boom
      }),
    )
    expect(e).toBe(boom)
    expect(scope.cancelledCaught).toBe(false)
  })

  test('a Cancelled raised by hand in a scope that is not cancelled is not caught there', async () => {
    const scope = new CancelScope()
    const c = new Cancelled()
    expect(await rejection(scope.run(async () => Promise.reject(c)))).toBe(c)
    expect(scope.cancelledCaught).toBe(false)
  })
})

describe('shielding', () => {
  test('shield protects from outer cancellation and can be toggled at runtime (Trio test_cancel_shielding)', async () => {
    const record: string[] = []
    const outer = new CancelScope()
    const inner = new CancelScope()
    await outer.run(async () => {
      await inner.run(async () => {
        await checkpoint()
        outer.cancel()
        record.push((await rejection(checkpoint())) instanceof Cancelled ? 'cancelled' : 'x')

        expect(inner.shield).toBe(false)
        expect(() => {
          inner.shield = 'hello' as unknown as boolean
        }).toThrow(TypeError)
        expect(inner.shield).toBe(false)

        inner.shield = true
        expect(inner.shield).toBe(true)
        await checkpoint() // the shield protects us from outer
        record.push('shielded checkpoint')

        const innerest = new CancelScope()
        await innerest.run(async () => {
          innerest.cancel()
          // ... but not from a scope inside the shield
          record.push((await rejection(checkpoint())) instanceof Cancelled ? 'innerest cancelled' : 'x')
        })
        await checkpoint()

        inner.shield = false // unshield: outer's cancellation is visible again
        record.push((await rejection(checkpoint())) instanceof Cancelled ? 'unshielded cancelled' : 'x')

        inner.shield = true
        await checkpoint()
        inner.cancel() // a shield does not protect from its own scope
        await checkpoint()
        record.push('not reached')
      })
      record.push('after inner')
    })
    expect(record).toEqual(['cancelled', 'shielded checkpoint', 'innerest cancelled', 'unshielded cancelled', 'after inner'])
    expect(inner.cancelledCaught).toBe(true)
    // The outer scope was cancelled, but no Cancelled reached it after 'after inner'.
    expect(outer.cancelledCaught).toBe(false)
  })

  test('a shield given at construction protects from the start (Trio test_cancel_unbound, shield before entry)', async () => {
    const scope = new CancelScope({ shield: true })
    const outer = new CancelScope()
    const seen: string[] = []
    await outer.run(async () => {
      outer.cancel()
      await scope.run(async () => {
        await checkpoint()
        seen.push('shielded')
        scope.shield = false
        seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'cancelled' : 'x')
      })
    })
    expect(seen).toEqual(['shielded', 'cancelled'])
  })

  test('shielding while a Cancelled propagates does not change who catches it (Trio test_unshield_while_cancel_propagating)', async () => {
    const outer = new CancelScope()
    const inner = new CancelScope()
    await outer.run(async () => {
      await inner.run(async () => {
        outer.cancel()
        try {
          await checkpoint()
        } finally {
          inner.shield = true
        }
      })
    })
    expect(outer.cancelledCaught).toBe(true)
    expect(inner.cancelledCaught).toBe(false)
  })

  test('a shielded task keeps working while its nursery is cancelled', async () => {
    const done = deferred<string>()
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await new CancelScope({ shield: true }).run(async () => {
          await sleep(1)
          await checkpoint()
          done.resolve('finished shielded work')
        })
        await checkpoint() // outside the shield: cancelled here
        done.resolve('not reached')
      })
      await waitAllTasksBlocked()
      n.cancelScope.cancel()
    })
    expect(await done.promise).toBe('finished shielded work')
  })
})

describe('nesting: which scope catches Cancelled', () => {
  test('if two nested scopes are cancelled, the outer one catches (Trio test_cancel_scope_nesting)', async () => {
    const scope1 = new CancelScope()
    const scope2 = new CancelScope()
    const scope3 = new CancelScope()
    await scope1.run(() =>
      scope2.run(() =>
        scope3.run(async () => {
          scope3.cancel()
          scope2.cancel()
          await sleepForever()
        }),
      ),
    )
    expect(scope3.cancelCalled).toBe(true)
    expect(scope3.cancelledCaught).toBe(false)
    expect(scope2.cancelCalled).toBe(true)
    expect(scope2.cancelledCaught).toBe(true)
    expect(scope1.cancelCalled).toBe(false)
    expect(scope1.cancelledCaught).toBe(false)
  })

  test('an inner cancelled scope catches its Cancelled when no outer cancellation is visible', async () => {
    const outer = new CancelScope()
    const inner = new CancelScope()
    const after: string[] = []
    await outer.run(async () => {
      await inner.run(async () => {
        inner.cancel()
        await sleepForever()
      })
      after.push('outer goes on')
      await checkpoint()
    })
    expect(after).toEqual(['outer goes on'])
    expect(inner.cancelledCaught).toBe(true)
    expect(outer.cancelledCaught).toBe(false)
  })

  test('a shielded inner scope catches its own cancellation even when the outer one is cancelled (Trio test_cancel_scope_nesting, shielding)', async () => {
    const scope1 = new CancelScope()
    const scope2 = new CancelScope()
    const seen: string[] = []
    await scope1.run(async () => {
      await scope2.run(async () => {
        scope1.cancel()
        seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'c1' : 'x')
        seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'c2' : 'x')
        scope2.shield = true
        await checkpoint()
        scope2.cancel()
        await checkpoint()
      })
      seen.push('after scope2')
    })
    expect(seen).toEqual(['c1', 'c2', 'after scope2'])
    expect(scope2.cancelledCaught).toBe(true)
    expect(scope1.cancelledCaught).toBe(false)
  })
})

describe('entering', () => {
  test('a scope cancelled before run starts its body cancelled (Trio test_cancel_unbound, cancel before entry)', async () => {
    const scope = new CancelScope()
    scope.cancel()
    expect(scope.cancelCalled).toBe(true)
    const record: string[] = []
    const v = await scope.run(async () => {
      record.push('body runs')
      await checkpoint()
      record.push('not reached')
    })
    expect(v).toBeUndefined()
    expect(record).toEqual(['body runs'])
    expect(scope.cancelledCaught).toBe(true)
  })

  test('a scope cancelled from another task after entry (Trio test_cancel_unbound, cancel after entry)', async () => {
    const scope = new CancelScope()
    await openNursery(async (n) => {
      n.startSoon(() => scope.run(() => sleepForever()))
      await waitAllTasksBlocked()
      scope.cancel()
    })
    expect(scope.cancelledCaught).toBe(true)
  })

  test('a scope is single-use: running it again is an Error (Trio test_cancel_unbound, cannot reuse / reenter)', async () => {
    const scope = new CancelScope()
    await scope.run(async () => {
      // re-entering while inside
      const e = await rejection(scope.run(async () => {}))
      expect(e).toBeInstanceOf(Error)
      expect((e as Error).message).toMatch(/single-use/)
    })
    scope.cancel() // after exit: allowed, no effect
    await checkpoint()
    expect(scope.cancelCalled).toBe(true)
    expect(scope.cancelledCaught).toBe(false)
    const e = await rejection(scope.run(async () => {}))
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toMatch(/single-use; make a new CancelScope/)
  })

  test('a scope cannot be entered by two tasks (Trio test_cancel_unbound, multiple tasks)', async () => {
    const scope = new CancelScope()
    await openNursery(async (n) => {
      n.startSoon(() => scope.run(() => sleepForever()))
      await waitAllTasksBlocked()
      const e = await rejection(scope.run(async () => {}))
      expect((e as Error).message).toMatch(/single-use/)
      n.cancelScope.cancel()
    })
  })

  test('run(fn) with fn not a function is a TypeError', async () => {
    const e = await rejection(new CancelScope().run(42 as unknown as () => Promise<void>))
    expect(e).toBeInstanceOf(TypeError)
    expect((e as Error).message).toMatch(/must be a function/)
  })
})

describe('deadlines', () => {
  test('a deadline already passed at entry cancels at the first checkpoint (Trio test_basic_timeout)', async () => {
    const scope = new CancelScope({ deadline: currentTime() - 1 })
    const record: string[] = []
    await scope.run(async () => {
      record.push('entered')
      await sleepForever()
    })
    expect(record).toEqual(['entered'])
    expect(scope.cancelCalled).toBe(true)
    expect(scope.cancelledCaught).toBe(true)
  })

  test('a deadline that passes while the body sleeps cancels it', async () => {
    const scope = new CancelScope({ deadline: currentTime() + 2 })
    await scope.run(() => sleepForever())
    expect(scope.cancelledCaught).toBe(true)
  })

  test('a deadline set on a scope that already exited does nothing (Trio test_basic_timeout)', async () => {
    const scope = new CancelScope()
    const start = currentTime()
    await scope.run(async () => {
      expect(scope.deadline).toBe(Infinity)
      scope.deadline = start + 1_000_000
      expect(scope.deadline).toBe(start + 1_000_000)
    })
    scope.deadline = currentTime() - 1
    await checkpoint()
    expect(scope.cancelledCaught).toBe(false)
  })

  test('changing the deadline while running (Trio test_basic_timeout, changing deadline)', async () => {
    const scope = new CancelScope()
    const seen: string[] = []
    await scope.run(async () => {
      await checkpoint()
      scope.deadline = currentTime() + 1_000_000
      await checkpoint()
      seen.push('far deadline: still running')
      scope.deadline = currentTime() - 1 // moved into the past: cancelled at once
      expect(scope.cancelCalled).toBe(true)
      seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'cancelled' : 'x')
      seen.push((await rejection(checkpoint())) instanceof Cancelled ? 'cancelled again' : 'x')
    })
    expect(seen).toEqual(['far deadline: still running', 'cancelled', 'cancelled again'])
  })

  test('moving a deadline later, or to Infinity, disarms it', async () => {
    const scope = new CancelScope({ deadline: currentTime() + 1 })
    await scope.run(async () => {
      scope.deadline = Infinity
      await sleep(5)
    })
    expect(scope.cancelCalled).toBe(false)
  })

  test('setting the deadline many times keeps one timer (Trio test_cancel_scope_deadline_duplicates)', async () => {
    const now = currentTime()
    const scope = new CancelScope()
    await scope.run(async () => {
      for (let i = 0; i < 2000; i++) {
        scope.deadline = now + 9_998_000
        scope.deadline = now + 9_999_000
      }
      await sleep(1)
    })
    expect(scope.cancelCalled).toBe(false)
  })

  test('relativeDeadline counts from entry; before entry the deadline is Infinity (Trio test_timeout_deadline_on_entry)', async () => {
    const scope = new CancelScope({ relativeDeadline: 1_000_000 })
    expect(scope.relativeDeadline).toBe(1_000_000)
    expect(scope.deadline).toBe(Infinity)
    const before = currentTime()
    await scope.run(async () => {
      const inside = currentTime()
      expect(scope.deadline).toBeGreaterThanOrEqual(before + 1_000_000)
      expect(scope.deadline).toBeLessThanOrEqual(inside + 1_000_000)
    })
    expect(scope.cancelCalled).toBe(false)
  })

  test('relativeDeadline 0 cancels at the first checkpoint', async () => {
    const scope = new CancelScope({ relativeDeadline: 0 })
    await scope.run(() => checkpoint())
    expect(scope.cancelledCaught).toBe(true)
  })

  test('a scope not yet entered whose deadline has passed reports cancelCalled (Trio test_cancel_unbound)', () => {
    const scope = new CancelScope({ deadline: currentTime() + 1_000_000 })
    expect(scope.cancelCalled).toBe(false)
    scope.deadline = currentTime() - 1
    expect(scope.cancelCalled).toBe(true)
    scope.deadline = currentTime() + 1_000_000
    expect(scope.cancelCalled).toBe(true) // never becomes un-cancelled
  })

  test('the deadline of a nursery scope cancels its tasks', async () => {
    let cancelled = 0
    await openNursery(async (n) => {
      for (let i = 0; i < 3; i++) {
        n.startSoon(async () => {
          try {
            await sleepForever()
          } catch (e) {
            cancelled++
            throw e
          }
        })
      }
      n.cancelScope.deadline = currentTime() + 1
    })
    expect(cancelled).toBe(3)
  })
})

describe('signal', () => {
  test('is aborted when the scope is cancelled, and listeners run', async () => {
    const scope = new CancelScope()
    const events: string[] = []
    await scope.run(async () => {
      const signal = scope.signal
      expect(signal.aborted).toBe(false)
      signal.addEventListener('abort', () => events.push('abort'))
      scope.cancel('why')
      expect(signal.aborted).toBe(true)
      expect(signal.reason).toBe('why')
      await checkpoint()
    })
    expect(events).toEqual(['abort'])
    expect(scope.cancelledCaught).toBe(true)
  })

  test('is aborted when an unshielded outer scope is cancelled, not when shielded', async () => {
    const outer = new CancelScope()
    const plain = new CancelScope()
    const shielded = new CancelScope({ shield: true })
    await outer.run(async () => {
      await openNursery(async (n) => {
        const ready = deferred()
        n.startSoon(() =>
          plain.run(async () => {
            await shielded.run(async () => {
              ready.resolve()
              await sleep(1)
            })
          }),
        )
        await ready.promise
        const a = plain.signal
        const b = shielded.signal
        outer.cancel()
        expect(outer.signal.aborted).toBe(true)
        expect(a.aborted).toBe(true)
        expect(a.reason).toBeInstanceOf(Cancelled)
        expect(b.aborted).toBe(false)
        shielded.shield = false
        expect(b.aborted).toBe(true)
      })
    })
  })

  test('a signal read after cancellation, or before run of a cancelled scope, is already aborted', async () => {
    const early = new CancelScope()
    early.cancel()
    expect(early.signal.aborted).toBe(true)
    const late = new CancelScope()
    const s1 = late.signal // read before entry
    const outer = new CancelScope()
    outer.cancel()
    await outer.run(async () => {
      await late.run(async () => {
        expect(s1.aborted).toBe(true) // entered under a cancelled scope
        await checkpoint()
      })
    })
    expect(late.cancelledCaught).toBe(false)
    expect(outer.cancelledCaught).toBe(true)
  })

  test('a signal first read after the scope exited is aborted if an outer cancellation reached the scope', async () => {
    const outer = new CancelScope()
    const inner = new CancelScope()
    const untouched = new CancelScope()
    await outer.run(async () => {
      await untouched.run(async () => {})
      await inner.run(async () => {
        outer.cancel()
        await checkpoint()
      })
    })
    expect(inner.cancelCalled).toBe(false)
    expect(inner.signal.aborted).toBe(true) // as if it had been read while inside
    expect(inner.signal.reason).toBeInstanceOf(Cancelled)
    expect(untouched.signal.aborted).toBe(false) // exited before the cancellation
  })

  test('works with platform APIs that take an AbortSignal', async () => {
    const scope = new CancelScope()
    const { setTimeout: delay } = await import('node:timers/promises')
    let aborted: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await scope.run(async (s) => {
          try {
            await delay(1_000_000, undefined, { signal: s.signal })
          } catch (e) {
            aborted = e
          }
        })
      })
      await waitAllTasksBlocked()
      scope.cancel()
    })
    expect((aborted as Error).name).toBe('AbortError')
  })
})
