/**
 * What a new user hits in the first hour (issue 12), with the channels the
 * README's idioms use: `await using` under cancellation, on the main thread
 * and in worker tasks. A `SuppressedError` made only of `Cancelled`s is a
 * `Cancelled`; one holding a real error surfaces that error (Trio's rule for
 * an exception raised in `__aexit__`).
 */
import { describe, expect, it } from 'vitest'
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock, openMemoryChannel, openSharedChannel } from '@gotrio/channels'
import {
  CancelScope,
  Cancelled,
  NurseryError,
  TooSlowError,
  currentTime,
  dumpTasks,
  failAfter,
  moveOnAfter,
  openNursery,
  run,
  runInWorker,
  sleepForever,
  workerTask,
} from '@gotrio/runtime'
import { checkCancelled, waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import type * as T from './fixtures/first-hour-tasks.js'

const fx = new URL('./fixtures/first-hour-tasks.ts', import.meta.url)
const sendUnderAwaitUsing = workerTask<typeof T.sendUnderAwaitUsing>(fx, 'sendUnderAwaitUsing')
const failUnderAwaitUsing = workerTask<typeof T.failUnderAwaitUsing>(fx, 'failUnderAwaitUsing')
const throwKind = workerTask<typeof T.throwKind>(fx, 'throwKind')
const produceSync = workerTask<typeof T.produceSync>(fx, 'produceSync')
const doubleSync = workerTask<typeof T.doubleSync>(fx, 'doubleSync')
const arriveThenBlock = workerTask<typeof T.arriveThenBlock>(fx, 'arriveThenBlock')
const sendForever = workerTask<typeof T.sendForever>(fx, 'sendForever')
const receiveForever = workerTask<typeof T.receiveForever>(fx, 'receiveForever')

class RecordError extends Error {
  override name = 'RecordError'
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

/** The README's producer: `await using` on the sender, sending into a channel nobody drains. */
function producerOn(nursery: { startSoon(fn: () => Promise<unknown>): void }): void {
  const [s, r] = openMemoryChannel<number>(0)
  nursery.startSoon(async () => {
    await using send = s
    await using _r = r
    await send.send(1)
  })
}

describe('await using under cancellation, main thread', () => {
  it('moveOnAfter around a nursery whose task disposes with await using resolves undefined', async () => {
    const v = await moveOnAfter(20, () =>
      openNursery(async (n) => {
        producerOn(n)
        await sleepForever()
      }),
    )
    expect(v).toBeUndefined()
  })

  it('failAfter gives TooSlowError, not a NurseryError holding a SuppressedError', async () => {
    const e = await rejection(
      failAfter(20, () =>
        openNursery(async (n) => {
          producerOn(n)
          await sleepForever()
        }),
      ),
    )
    expect(e).toBeInstanceOf(TooSlowError)
  })

  it('a cancelled nursery resolves (two await using in a row: a SuppressedError two deep)', async () => {
    const v = await openNursery(async (n) => {
      producerOn(n)
      producerOn(n)
      await waitAllTasksBlocked()
      n.cancelScope.cancel()
      return 'done'
    })
    expect(v).toBe('done')
  })

  it('await using in the scope body itself: the scope catches it', async () => {
    const scope = new CancelScope()
    const [s, r] = openMemoryChannel<number>(0)
    const v = await scope.run(async () => {
      await using send = s
      await using recv = r
      scope.cancel()
      await send.send(1)
      return recv
    })
    expect(v).toBeUndefined()
    expect(scope.cancelledCaught).toBe(true)
  })

  it('a real error unwinding through await using in a cancelled scope surfaces, never hidden by Cancelled', async () => {
    const err = new RecordError('bad record')
    const scope = new CancelScope()
    const [s] = openMemoryChannel<number>(0)
    const e = await rejection(
      scope.run(async () => {
        await using _send = s
        scope.cancel()
        throw err
      }),
    )
    expect(e).toBe(err)
  })

  it('a real error thrown by a disposal while Cancelled unwinds surfaces (using, sync)', async () => {
    const err = new RecordError('dispose failed')
    const e = await rejection(
      moveOnAfter(5, async () => {
        using _res = {
          [Symbol.dispose]() {
            throw err
          },
        }
        await sleepForever()
      }),
    )
    expect(e).toBe(err)
  })

  it('using whose dispose is itself a checkpoint: Cancelled on Cancelled is a Cancelled', async () => {
    const scope = new CancelScope()
    const v = await scope.run(async () => {
      using _res = { [Symbol.dispose]: () => checkCancelled() }
      scope.cancel()
      await sleepForever()
    })
    expect(v).toBeUndefined()
    expect(scope.cancelledCaught).toBe(true)
  })

  it('an outer cancellation still passes an inner scope as a Cancelled', async () => {
    const outer = new CancelScope()
    await outer.run(async () => {
      const inner = new CancelScope()
      const e = await rejection(
        inner.run(async () => {
          const [s] = openMemoryChannel<number>(0)
          await using send = s
          outer.cancel()
          inner.cancel()
          await send.send(1)
        }),
      )
      expect(e).toBeInstanceOf(Cancelled)
      throw e
    })
    expect(outer.cancelledCaught).toBe(true)
  })
})

describe('await using under cancellation, in worker tasks', () => {
  // The deadline is moved to "now" once the task is inside its `await using`
  // (it has sent its first value): a real deadline, reached at a known point.
  it('moveOnAfter around a worker task that disposes with await using resolves undefined', async () => {
    const v = await run(async () => {
      const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
      await using _r = r
      return await moveOnAfter(600_000, (scope) =>
        openNursery(async (n) => {
          n.startSoon(sendUnderAwaitUsing, s)
          await r.receive()
          scope.deadline = currentTime()
        }),
      )
    })
    expect(v).toBeUndefined()
  })

  it('failAfter around it gives TooSlowError', async () => {
    const e = await run(async () => {
      const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
      await using _r = r
      return await rejection(
        failAfter(600_000, async (scope) => {
          const [ready, readyR] = openMemoryChannel<void>(0)
          return openNursery(async (n) => {
            n.startSoon(async () => {
              await r.receive()
              await ready.send()
            })
            n.startSoon(async () => {
              await readyR.receive()
              scope.deadline = currentTime()
            })
            await runInWorker(sendUnderAwaitUsing, s)
          })
        }),
      )
    })
    expect(e).toBeInstanceOf(TooSlowError)
  })

  it('a cancelled nursery of such tasks resolves', async () => {
    await run(async () => {
      const [s2, r2] = openSharedChannel<number>(0, { codec: 'int32' })
      const v = await openNursery(async (n) => {
        n.startSoon(sendUnderAwaitUsing, s2.clone())
        n.startSoon(sendUnderAwaitUsing, s2.clone())
        s2.close()
        await r2.receive()
        await r2.receive() // both tasks are inside their await using now
        n.cancelScope.cancel()
        return 'cancelled'
      })
      r2.close()
      expect(v).toBe('cancelled')
    })
  })

  // The owner's side leaves the cancelled scope and closes its end (`await using`) while the
  // worker's thread has not yet seen the cancel request: the worker's send (receive) then finds the
  // other side gone. The request came first, so the operation raises Cancelled, as Trio's
  // checkpoint would, and the nursery ends as cancelled, not with BrokenResourceError
  // (EndOfChannel). Found by a user program: moveOnAfter around this threw a NurseryError.
  // One lap: the worker streams (or drains) in a nursery under moveOnAfter while main does `step`
  // under `await using`, until the deadline is moved to now after 1000 values; the nursery must end
  // as cancelled (moveOnAfter resolves undefined).
  async function cancelMidStream(cap: number, workerSends: boolean): Promise<void> {
    let k = 0
    const v = await moveOnAfter(600_000, (scope) =>
      openNursery(async (n) => {
        const [s, r] = openSharedChannel<number>(cap, { codec: 'int32' })
        if (workerSends) n.startSoon(sendForever, s)
        else n.startSoon(receiveForever, r)
        await using _mine = workerSends ? r : s
        for (;;) {
          if (workerSends) expect(await r.receive()).toBe(k++)
          else await s.send(k++)
          if (k === 1000) scope.deadline = currentTime() // cancelled mid-stream, at a known point
        }
      }),
    )
    expect(v).toBeUndefined()
    expect(k).toBeGreaterThanOrEqual(1000)
  }

  for (const [what, cap] of [
    ['size 0', 0],
    ['buffered, int32', 256],
  ] as const) {
    it(`moveOnAfter around a nursery whose worker sends forever while main receives under await using resolves undefined (${what})`, async () => {
      await run(async () => {
        for (let lap = 0; lap < 5; lap++) await cancelMidStream(cap, true)
      })
    })

    it(`the same with the worker receiving and main sending (${what})`, async () => {
      await run(async () => {
        for (let lap = 0; lap < 5; lap++) await cancelMidStream(cap, false)
      })
    })
  }

  it('a real error in a worker task unwinding through await using while cancelled arrives as that error', async () => {
    await run(async () => {
      const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
      await using _r = r
      const [readySend, ready] = openSharedChannel<number>(0, { codec: 'int32' })
      await using _ready = ready
      const e = await rejection(
        openNursery(async (n) => {
          n.startSoon(failUnderAwaitUsing, s, readySend)
          await ready.receive() // the task runs, inside its await using
          n.cancelScope.cancel()
        }),
      )
      expect(e).toBeInstanceOf(NurseryError)
      const errors = (e as NurseryError).errors
      expect(errors).toHaveLength(1)
      expect((errors[0] as Error).name).toBe('RecordError')
      expect((errors[0] as Error).message).toBe('bad record 7')
    })
  })
})

describe('errors keep their class across threads', () => {
  const cases: [string, abstract new (...a: never[]) => Error][] = [
    ['TypeError', TypeError],
    ['RangeError', RangeError],
    ['SyntaxError', SyntaxError],
    ['EvalError', EvalError],
    ['URIError', URIError],
    ['ReferenceError', ReferenceError],
    ['AggregateError', AggregateError],
    ['BrokenResourceError', BrokenResourceError],
    ['ClosedResourceError', ClosedResourceError],
    ['EndOfChannel', EndOfChannel],
    ['WouldBlock', WouldBlock],
    ['TooSlowError', TooSlowError],
  ]

  it('built-in and gotrio error classes arrive as those classes, with name, message, stack and cause', async () => {
    const got = await run(
      async () => {
        const out: [string, unknown][] = []
        for (const [kind] of cases) out.push([kind, await rejection(runInWorker(throwKind, kind))])
        return out
      },
      { workers: 1 },
    )
    for (const [i, [kind, e]] of got.entries()) {
      const cls = cases[i]![1]
      expect(e, kind).toBeInstanceOf(cls)
      expect((e as Error).name, kind).toBe(kind)
      expect((e as Error).stack, kind).toContain('first-hour-tasks.ts')
    }
    const type = got[0]![1] as TypeError
    expect(type.message).toBe('not a number')
    expect(type.cause).toBeInstanceOf(RangeError)
    expect((type.cause as Error).message).toBe('inner cause')
    const group = got[6]![1] as AggregateError
    expect(group.message).toBe('two failures')
    expect(group.errors).toHaveLength(2)
    expect(group.errors[0]).toBeInstanceOf(TypeError)
    expect((group.errors[1] as Error).name).toBe('RecordError') // not registered: an Error with its name
    expect((got[7]![1] as Error).message).toBe('every receiver is gone')
  })

  it('a Cancelled thrown by a worker task arrives as Cancelled', async () => {
    const e = await run(() => rejection(runInWorker(throwKind, 'Cancelled')), { workers: 1 })
    expect(e).toBeInstanceOf(Cancelled)
    expect((e as Error).message).toBe('cancelled by hand')
  })
})

describe('a thread blocked in a sync wait strands nothing', () => {
  const N = 2_000

  it('a sync pipeline (sendSync → receiveSync/sendSync → for await) completes with workers: 1', async () => {
    const sum = await run(
      () =>
        failAfter(20_000, () =>
          openNursery(async (n) => {
            const [s1, r1] = openSharedChannel<number>(4, { codec: 'int32' })
            const [s2, r2] = openSharedChannel<number>(4, { codec: 'int32' })
            n.startSoon(produceSync, s1, N)
            n.startSoon(doubleSync, r1, s2)
            let total = 0
            for await (const v of r2) total += v
            return total
          }),
        ),
      { workers: 1 },
    )
    expect(sum).toBe(N * (N - 1))
  })

  // Was skipped as flaky (now and then one of K threads never got past its first sync send while
  // the others waited in receiveSync, seen with threads booting under tsx). On 2026-12-02 it passed
  // 25 runs on Node 24 and 12 on Node 22, beside a CI run's load, so it runs again; a hang is a
  // TooSlowError after 20 s, and a failure here is that bug, not noise.
  it('when every thread is blocked in a sync wait and tasks wait, the pool starts more threads', async () => {
    const K = 4
    const tids = await run(
      () =>
        failAfter(20_000, () =>
          openNursery(async (n) => {
            const [arriveS, arrive] = openSharedChannel<number>(0, { codec: 'int32' })
            const [goS, go] = openSharedChannel<number>(0, { codec: 'int32' })
            const results: Promise<number>[] = []
            for (let i = 0; i < K; i++) {
              const a = arriveS.clone()
              const g = go.clone()
              results.push(
                new Promise<number>((resolve, reject) => n.startSoon(() => runInWorker(arriveThenBlock, a, g).then(resolve, reject))),
              )
            }
            arriveS.close()
            go.close()
            const arrived = new Set<number>()
            // This test hung once in a CI rehearsal (2026-12-04, not reproduced in ~200 runs):
            // should it hang again, say where every thread's tasks wait before failAfter fires.
            const snapshot = setTimeout(() => {
              const st = arrive.statistics()
              console.error(
                `pool-growth test still waiting after 15 s: ${arrived.size} of ${K} arrived; arrive: ${st.openSendChannels} senders open, ${st.tasksWaitingSend} waiting to send, ${st.tasksWaitingReceive} waiting to receive\n${dumpTasks()}`,
              )
            }, 15_000)
            try {
              for await (const tid of arrive) arrived.add(tid)
            } finally {
              clearTimeout(snapshot)
            }
            goS.close() // all K are blocked at once, on K threads: release them
            return { arrived, returned: await Promise.all(results) }
          }),
        ),
      { workers: 2 },
    )
    expect(tids.arrived.size).toBe(K) // K tasks blocked at the same time, each on its own thread
    expect(new Set(tids.returned)).toEqual(tids.arrived)
  })
})
