/**
 * Nurseries and tasks, ported from Trio's `src/trio/_core/_tests/test_run.py`.
 * Each test names the Trio test it comes from.
 */
import { describe, expect, test } from 'vitest'
import {
  CancelScope,
  Cancelled,
  NurseryError,
  checkpoint,
  openNursery,
  sleep,
  sleepForever,
  type Nursery,
  type TaskStatus,
} from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { deferred, expectGroup, expectGroupOf, rejection, thrown } from './helpers.js'

class KeyError extends Error {
  override name = 'KeyError'
}
class ValueError extends Error {
  override name = 'ValueError'
}

describe('crashes', () => {
  test('an error in the body is raised grouped (Trio test_nursery_main_block_error_basic)', async () => {
    const exc = new ValueError('whoops')
    const e = await rejection(
      openNursery(async () => {
        throw exc
      }),
    )
    expectGroup(e, [exc])
    expect((e as Error).message).toContain('whoops')
  })

  test('an error in a child is raised grouped by the nursery (Trio test_child_crash_basic)', async () => {
    const exc = new ValueError('uh oh')
    const e = await rejection(
      openNursery(async (n) => {
        n.startSoon(async function erroring() {
          throw exc
        })
      }),
    )
    expectGroup(e, [exc])
  })

  test('tasks interleave at checkpoints (Trio test_basic_interleave)', async () => {
    const record: string[] = []
    async function looper(who: string): Promise<void> {
      for (let i = 0; i < 3; i++) {
        record.push(`${who}${i}`)
        await checkpoint()
      }
    }
    await openNursery(async (n) => {
      n.startSoon(looper, 'a')
      n.startSoon(looper, 'b')
    })
    // Each round holds both tasks' step, in either order.
    for (let round = 0; round < 3; round++) {
      expect(new Set(record.slice(2 * round, 2 * round + 2))).toEqual(new Set([`a${round}`, `b${round}`]))
    }
  })

  test('a crashing child cancels its siblings (Trio test_task_crash_propagation)', async () => {
    const looperRecord: string[] = []
    async function looper(): Promise<void> {
      try {
        for (;;) await checkpoint()
      } catch (e) {
        if (e instanceof Cancelled) looperRecord.push('cancelled')
        throw e
      }
    }
    const argh = new ValueError('argh')
    const e = await rejection(
      openNursery(async (n) => {
        n.startSoon(looper)
        n.startSoon(async function crasher() {
          throw argh
        })
      }),
    )
    expectGroup(e, [argh]) // the looper's Cancelled is the nursery's own: removed
    expect(looperRecord).toEqual(['cancelled'])
  })

  test('the body and a child both crash: both are in the group (Trio test_main_and_task_both_crash)', async () => {
    const v = new ValueError()
    const k = new KeyError()
    const e = await rejection(
      openNursery(async (n) => {
        n.startSoon(async () => {
          throw v
        })
        throw k
      }),
    )
    expectGroup(e, [v, k])
  })

  test('two children crash: both are in the group (Trio test_two_child_crashes)', async () => {
    const e = await rejection(
      openNursery(async (n) => {
        n.startSoon(async (C: new () => Error) => {
          throw new C()
        }, KeyError)
        n.startSoon(async (C: new () => Error) => {
          throw new C()
        }, ValueError)
      }),
    )
    expectGroupOf(e, [KeyError, ValueError])
  })

  test('a crashing child wakes the sleeping body (Trio test_child_crash_wakes_parent)', async () => {
    const crash = new ValueError('this is a crash')
    const e = await rejection(
      openNursery(async (n) => {
        n.startSoon(async () => {
          throw crash
        })
        await sleepForever()
      }),
    )
    expectGroup(e, [crash])
  })

  test('an error is grouped even when alone, and a synchronous throw from a task counts too', async () => {
    const boom = new Error('boom')
    const e = await rejection(
      openNursery(async (n) => {
        // Not an async function: throws before returning a promise.
        n.startSoon((() => {
          throw boom
        }) as unknown as () => Promise<void>)
      }),
    )
    expectGroup(e, [boom])
  })

  test('a value thrown that is not an Error is kept as is', async () => {
    const e = await rejection(
      openNursery(async () => {
        throw 'a string' // eslint-disable-line no-throw-literal
      }),
    )
    expectGroup(e, ['a string'])
  })

  test('explicit nursery exception (Trio test_nursery_explicit_exception), errors are the original objects', async () => {
    const k = new KeyError('k')
    const e = (await rejection(
      openNursery(async () => {
        throw k
      }),
    )) as NurseryError
    expect(e.errors[0]).toBe(k)
    expect(e.name).toBe('NurseryError')
  })
})

describe('results and cancellation', () => {
  test('resolves with the body value once every child has finished', async () => {
    const order: string[] = []
    const v = await openNursery(async (n) => {
      n.startSoon(async () => {
        await checkpoint()
        await checkpoint()
        order.push('child done')
      })
      order.push('body done')
      return 42
    })
    order.push('nursery done')
    expect(v).toBe(42)
    expect(order).toEqual(['body done', 'child done', 'nursery done'])
  })

  test("the nursery's own Cancelleds are removed: cancelling a nursery resolves it", async () => {
    let caught = 0
    const v = await openNursery(async (n) => {
      for (let i = 0; i < 3; i++) {
        n.startSoon(async () => {
          try {
            await sleepForever()
          } catch (e) {
            if (e instanceof Cancelled) caught++
            throw e
          }
        })
      }
      await waitAllTasksBlocked()
      n.cancelScope.cancel()
      await sleepForever()
      return 'unreachable'
    })
    expect(v).toBeUndefined()
    expect(caught).toBe(3)
  })

  test('cancelCalled and cancelledCaught on a nursery scope', async () => {
    let scope: CancelScope | undefined
    await openNursery(async (n) => {
      scope = n.cancelScope
      n.cancelScope.cancel()
      await checkpoint()
    })
    expect(scope!.cancelCalled).toBe(true)
    expect(scope!.cancelledCaught).toBe(true)
  })

  test('a task spawned into a cancelled nursery starts, then is cancelled at its first checkpoint (Trio test_precancelled_task)', async () => {
    const record: string[] = []
    await openNursery(async (n) => {
      n.cancelScope.cancel()
      n.startSoon(async function blocker() {
        record.push('started')
        await sleepForever()
        record.push('not reached')
      })
    })
    expect(record).toEqual(['started'])
  })

  test('cancellation reaches every descendant at once (Trio test_cancel_inheritance)', async () => {
    const record = new Set<string>()
    async function leaf(ident: string): Promise<void> {
      try {
        await sleepForever()
      } catch (e) {
        if (e instanceof Cancelled) record.add(ident)
        throw e
      }
    }
    async function worker(ident: string): Promise<void> {
      await openNursery(async (n) => {
        n.startSoon(leaf, `${ident}-l1`)
        n.startSoon(leaf, `${ident}-l2`)
      })
    }
    await openNursery(async (n) => {
      n.startSoon(worker, 'w1')
      n.startSoon(worker, 'w2')
      await waitAllTasksBlocked()
      n.cancelScope.cancel()
    })
    expect(record).toEqual(new Set(['w1-l1', 'w1-l2', 'w2-l1', 'w2-l2']))
  })

  test('unshielding a nursery inside a cancelled scope aborts its sleeping child (Trio test_cancel_shield_abort)', async () => {
    const record: string[] = []
    const outer = new CancelScope()
    await outer.run(async () => {
      await openNursery(async (n) => {
        outer.cancel()
        n.cancelScope.shield = true
        n.startSoon(async function sleeper() {
          record.push('sleeping')
          try {
            await sleepForever()
          } catch (e) {
            record.push('cancelled')
            throw e
          }
        })
        await waitAllTasksBlocked()
        expect(record).toEqual(['sleeping'])
        n.cancelScope.shield = false
        // Wait shielded, so that the nursery's exit cannot be what cancels the child.
        await new CancelScope({ shield: true }).run(async () => {
          await waitAllTasksBlocked()
          expect(record).toEqual(['sleeping', 'cancelled'])
        })
      })
    })
    expect(outer.cancelledCaught).toBe(true)
  })

  test('Cancelleds from an outer scope stay in the group until that scope (Trio test_cancel_scope_exceptiongroup_filtering)', async () => {
    const keyError = new KeyError()
    let inner: unknown
    const outer = new CancelScope()
    const e = await rejection(
      outer.run(async () => {
        try {
          await openNursery(async (n) => {
            n.startSoon(sleepForever) // t1: cancelled by the nursery
            n.startSoon(sleepForever) // t2: cancelled by the nursery
            n.cancelScope.cancel()
            await new CancelScope({ shield: true }).run(() => waitAllTasksBlocked())
            n.startSoon(sleepForever) // t3: cancelled by the outer scope
            outer.cancel()
            n.startSoon(async () => {
              throw keyError
            }) // t4
          })
        } catch (err) {
          inner = err
          throw err
        }
      }),
    )
    // Inside: the outer cancellation is visible, so no Cancelled is removed.
    const innerGroup = inner as NurseryError
    expect(innerGroup).toBeInstanceOf(NurseryError)
    expect(innerGroup.errors.filter((x) => x instanceof Cancelled).length).toBeGreaterThanOrEqual(3)
    expect(innerGroup.errors).toContain(keyError)
    // Outside the outer scope: only the KeyError is left, still grouped.
    expectGroup(e, [keyError])
    expect(outer.cancelledCaught).toBe(true)
  })

  test('a nursery in a cancelled scope that never checkpoints does not raise (Trio test_trivial_yields)', async () => {
    const cs = new CancelScope()
    await cs.run(async () => {
      cs.cancel()
      await openNursery(async () => {})
    })
    expect(cs.cancelledCaught).toBe(false)

    const cs2 = new CancelScope()
    await cs2.run(async () => {
      cs2.cancel()
      await openNursery(async (n) => {
        n.startSoon(async function noopWithNoCheckpoint() {})
      })
    })
    expect(cs2.cancelledCaught).toBe(false)

    const cs3 = new CancelScope()
    const k = new KeyError()
    const e = await rejection(
      cs3.run(async () => {
        cs3.cancel()
        await openNursery(async () => {
          throw k
        })
      }),
    )
    expectGroup(e, [k])
  })

  test('a nursery inside a cancelled scope passes the outer Cancelled on to that scope', async () => {
    const outer = new CancelScope()
    const reached: string[] = []
    const v = await outer.run(async () => {
      await openNursery(async (n) => {
        n.startSoon(sleepForever)
        await waitAllTasksBlocked()
        outer.cancel()
        await sleepForever()
      })
      reached.push('after nursery')
      return 1
    })
    expect(v).toBeUndefined()
    expect(reached).toEqual([])
    expect(outer.cancelledCaught).toBe(true)
  })
})

describe('closure', () => {
  test('tasks may be added while the nursery waits for its children, not after (Trio test_nursery_closure)', async () => {
    let ran = false
    let nursery: Nursery | undefined
    await openNursery(async (n) => {
      nursery = n
      n.startSoon(async function child1() {
        // The body is done, but a child is still running: the nursery is open.
        n.startSoon(async function child2() {
          ran = true
        })
      })
    })
    expect(ran).toBe(true)
    const e = thrown(() => nursery!.startSoon(async () => {}))
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toMatch(/Nursery\.startSoon\(\).*closed nursery/)
    const e2 = thrown(() => nursery!.start(async (s: TaskStatus<void>) => s.started()))
    expect(e2).toBeInstanceOf(Error)
    expect((e2 as Error).message).toMatch(/Nursery\.start\(\).*closed nursery/)
  })

  test('the nursery closes the moment its last task ends: a task started from outside cannot slip in and outlive it', async () => {
    // Another task calls startSoon j microtasks after the nursery's last child
    // ended. Each call must either throw (closed) or start a task that the
    // nursery waits for. Sweeping j hits the window between "last task done"
    // and openNursery resuming, whatever its length.
    for (let j = 0; j < 8; j++) {
      let inner: Nursery | undefined
      let finished = false
      let finishedAtClose: boolean | undefined
      let outcome = 'not tried'
      const childEnded = deferred()
      const nursery = openNursery(async (n) => {
        inner = n
        n.startSoon(async function last() {
          childEnded.resolve()
        })
      })
      const closedObserved = nursery.then(() => {
        finishedAtClose = finished
      })
      await childEnded.promise
      for (let k = 0; k < j; k++) await null
      try {
        inner!.startSoon(async function late() {
          await checkpoint()
          finished = true
        })
        outcome = 'started'
      } catch (e) {
        expect((e as Error).message).toMatch(/closed nursery/)
        outcome = 'refused'
      }
      await closedObserved
      if (outcome === 'started') expect(finishedAtClose, `startSoon ${j} microtasks after the last task ended`).toBe(true)
    }
  })

  test('openNursery rejects a body that is not a function with a TypeError', async () => {
    const e = await rejection(openNursery(42 as unknown as () => Promise<void>))
    expect(e).toBeInstanceOf(TypeError)
    expect((e as Error).message).toMatch(/must be a function/)
  })

  test('startSoon rejects something that is not a function with a TypeError', async () => {
    await openNursery(async (n) => {
      const e = thrown(() => n.startSoon('nope' as unknown as () => Promise<void>))
      expect(e).toBeInstanceOf(TypeError)
      expect((e as Error).message).toMatch(/startSoon.*must be a function/)
      const e2 = thrown(() => n.start(undefined as unknown as () => Promise<void>))
      expect(e2).toBeInstanceOf(TypeError)
      expect((e2 as Error).message).toMatch(/start.*must be a function/)
    })
  })
})

describe('start (Trio test_nursery_start)', () => {
  test('start resolves with the value given to started(), then the nursery waits for the task', async () => {
    const order: string[] = []
    const release = deferred()
    await openNursery(async (n) => {
      const v = await n.start(async function sleepThenStart(status: TaskStatus<number>, x: number) {
        await checkpoint()
        status.started(x)
        await release.promise
        order.push('task done')
      }, 7)
      expect(v).toBe(7)
      order.push('started')
      release.resolve()
    })
    order.push('nursery done')
    expect(order).toEqual(['started', 'task done', 'nursery done'])
  })

  test('calling started() twice throws an Error', async () => {
    let second: unknown
    await openNursery(async (n) => {
      await n.start(async function doubleStarted(status: TaskStatus<void>) {
        status.started()
        second = thrown(() => status.started())
      })
    })
    expect(second).toBeInstanceOf(Error)
    expect((second as Error).message).toMatch(/started\(\) was called twice/)
  })

  test('an error before started() rejects start itself, not grouped, and the nursery goes on', async () => {
    const oops = new KeyError('oops')
    let after = false
    await openNursery(async (n) => {
      const e = await rejection(
        n.start(async function raiseKeyError() {
          throw oops
        }),
      )
      expect(e).toBe(oops)
      await checkpoint()
      after = true
    })
    expect(after).toBe(true)
  })

  test('returning without started() rejects start with an Error', async () => {
    await openNursery(async (n) => {
      const e = await rejection(n.start(async function nothing(_status: TaskStatus<void>) {}))
      expect(e).toBeInstanceOf(Error)
      expect((e as Error).message).toMatch(/nothing returned without calling status\.started\(\)/)
    })
  })

  test('started() called after the task finished throws an Error and attaches nothing to the nursery', async () => {
    let saved: TaskStatus<number> | undefined
    await openNursery(async (n) => {
      const e = await rejection(
        n.start(async function leaksItsStatus(status: TaskStatus<number>) {
          saved = status
        }),
      )
      expect((e as Error).message).toMatch(/returned without calling status\.started\(\)/)
      const late = thrown(() => saved!.started(1))
      expect(late).toBeInstanceOf(Error)
      expect((late as Error).message).toMatch(/called after task leaksItsStatus had finished/)
    })
  })

  test('an error after started() goes to the nursery, grouped', async () => {
    const late = new ValueError('late')
    const e = await rejection(
      openNursery(async (n) => {
        await n.start(async (status: TaskStatus<void>) => {
          status.started()
          await checkpoint()
          throw late
        })
        await sleepForever()
      }),
    )
    expectGroup(e, [late])
  })

  test('cancelling the caller while the task starts cancels the task and start rejects with Cancelled', async () => {
    const record: string[] = []
    await openNursery(async (n) => {
      const cs = new CancelScope()
      await cs.run(async () => {
        const p = n.start(async (status: TaskStatus<void>) => {
          try {
            await sleepForever()
          } catch (e) {
            record.push(e instanceof Cancelled ? 'task cancelled' : 'other')
            throw e
          }
          status.started()
        })
        await waitAllTasksBlocked()
        cs.cancel()
        await p
      })
      expect(cs.cancelledCaught).toBe(true)
      expect(n.cancelScope.cancelCalled).toBe(false)
    })
    expect(record).toEqual(['task cancelled'])
  })

  test('start in an already cancelled scope rejects with Cancelled', async () => {
    await openNursery(async (n) => {
      const cs = new CancelScope()
      cs.cancel()
      let ran = false
      await cs.run(async () => {
        await n.start(async (status: TaskStatus<void>) => {
          ran = true
          status.started()
        })
      })
      expect(cs.cancelledCaught).toBe(true)
      expect(ran).toBe(false)
    })
  })

  test('started() while the caller is cancelled leaves the task under start(): start rejects with Cancelled (just_started)', async () => {
    // Trio: "if the call to start() is cancelled, then the call to started() does nothing".
    const callerCancelled = deferred()
    let siblingCancelled = false
    await openNursery(async (n) => {
      n.startSoon(async function sibling() {
        try {
          await sleepForever()
        } catch (e) {
          siblingCancelled = true
          throw e
        }
      })
      const cs = new CancelScope()
      await cs.run(async () => {
        const p = n.start(async function justStarted(status: TaskStatus<string>) {
          await callerCancelled.promise // not a gotrio operation: not cancellable
          status.started('hi')
          await checkpoint()
        })
        cs.cancel()
        callerCancelled.resolve()
        const e = await rejection(p)
        expect(e).toBeInstanceOf(Cancelled)
        throw e
      })
      expect(cs.cancelledCaught).toBe(true)
      // The task's Cancelled stayed with the caller: the nursery was not cancelled.
      expect(n.cancelScope.cancelCalled).toBe(false)
      await waitAllTasksBlocked()
      expect(siblingCancelled).toBe(false)
      n.cancelScope.cancel()
    })
  })

  test('started() while the caller is cancelled, then an error: the error comes out of start()', async () => {
    const callerCancelled = deferred()
    const whoops = new KeyError('whoopsiedaisy')
    await openNursery(async (n) => {
      const cs = new CancelScope()
      await cs.run(async () => {
        const p = n.start(async function raiseKeyErrorAfterStarted(status: TaskStatus<void>) {
          await callerCancelled.promise
          status.started()
          throw whoops
        })
        cs.cancel()
        callerCancelled.resolve()
        expect(await rejection(p)).toBe(whoops)
      })
      expect(n.cancelScope.cancelCalled).toBe(false)
    })
  })

  test('started() while the caller is cancelled, then a clean return: start resolves with the value', async () => {
    const callerCancelled = deferred()
    await openNursery(async (n) => {
      const cs = new CancelScope()
      const v = await cs.run(async () => {
        const p = n.start(async function startedWithNoCheckpoint(status: TaskStatus<string>) {
          await callerCancelled.promise
          status.started('value')
        })
        cs.cancel()
        callerCancelled.resolve()
        return await p
      })
      expect(v).toBe('value')
      expect(cs.cancelledCaught).toBe(false)
    })
  })

  test("after started() the task belongs to the nursery: cancelling the caller's scope does not cancel it", async () => {
    const record: string[] = []
    const release = deferred()
    await openNursery(async (n) => {
      const cs = new CancelScope()
      await cs.run(async () => {
        await n.start(async function moved(status: TaskStatus<void>) {
          status.started()
          await release.promise.then(() => checkpoint())
          record.push('still running')
          try {
            await sleepForever()
          } catch (e) {
            record.push('cancelled by the nursery')
            throw e
          }
        })
        cs.cancel()
        await checkpoint()
      })
      expect(cs.cancelledCaught).toBe(true)
      release.resolve()
      await waitAllTasksBlocked()
      expect(record).toEqual(['still running'])
      n.cancelScope.cancel()
    })
    expect(record).toEqual(['still running', 'cancelled by the nursery'])
  })

  test('before started() the task runs under the caller: cancelling the target nursery does not reach it', async () => {
    async function setupNursery(status: TaskStatus<Nursery>): Promise<void> {
      await openNursery(async (n) => {
        status.started(n)
        await sleepForever()
      })
    }
    const record: string[] = []
    await openNursery(async (n) => {
      const target = await n.start(setupNursery)
      const cs = new CancelScope()
      await cs.run(async () => {
        const p = target.start(async (status: TaskStatus<void>) => {
          try {
            await sleepForever()
          } catch (e) {
            record.push('cancelled')
            throw e
          }
          status.started()
        })
        await waitAllTasksBlocked()
        target.cancelScope.cancel()
        await waitAllTasksBlocked()
        expect(record).toEqual([])
        cs.cancel()
        await p
      })
      expect(cs.cancelledCaught).toBe(true)
      expect(record).toEqual(['cancelled'])
    })
  })

  test('moving sleeping children into a cancelled nursery aborts them (Trio test_nursery_start_with_cancelled_nursery)', async () => {
    async function setupNursery(status: TaskStatus<Nursery>): Promise<void> {
      await openNursery(async (n) => {
        status.started(n)
        await sleepForever()
      })
    }
    async function sleepingChildren(status: TaskStatus<void>, fn: () => void): Promise<void> {
      await openNursery(async (n) => {
        n.startSoon(sleepForever)
        n.startSoon(sleepForever)
        await waitAllTasksBlocked()
        fn()
        status.started()
      })
    }
    // Cancelling the target just before started()
    await openNursery(async (n) => {
      const target = await n.start(setupNursery)
      await target.start(sleepingChildren, () => target.cancelScope.cancel())
    })
    // ... and just after
    await openNursery(async (n) => {
      const target = await n.start(setupNursery)
      await target.start(sleepingChildren, () => {})
      target.cancelScope.cancel()
    })
  })

  test('a pending start keeps the target nursery open (Trio test_nursery_start_keeps_nursery_open)', async () => {
    const order: string[] = []
    const go = deferred()
    await openNursery(async (n1) => {
      await openNursery(async (n2) => {
        n1.startSoon(async () => {
          await n2.start(async function sleepABit(status: TaskStatus<void>) {
            await sleep(1)
            await go.promise
            status.started()
            await checkpoint()
            order.push('moved task done')
          })
        })
        n1.startSoon(async () => {
          await waitAllTasksBlocked()
          order.push('releasing')
          go.resolve()
        })
        // The body ends with no task in n2: only the pending start keeps it open.
      })
      order.push('n2 closed')
    })
    expect(order).toEqual(['releasing', 'moved task done', 'n2 closed'])
  })

  test('a pending start that crashes before started() still lets the nursery close (Trio test_nursery_start_keeps_nursery_open)', async () => {
    const k = new KeyError()
    let got: unknown
    await openNursery(async (n1) => {
      await openNursery(async (n2) => {
        n1.startSoon(async function startSleepThenCrash() {
          got = await rejection(
            n2.start(async function sleepThenCrash(_status: TaskStatus<void>) {
              await sleep(1)
              throw k
            }),
          )
        })
        await waitAllTasksBlocked()
      })
    })
    expect(got).toBe(k)
  })
})
