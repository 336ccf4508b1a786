/**
 * `select`, `selectNowait`, `onReceive`, `onSend` (API.md "Select") on memory
 * channels and on shared channels used from one thread; the cross-thread
 * cases are in select-threads.test.ts, bad input in select-bad-input.test.ts.
 *
 * Order (STYLE.md 11): smoke → waiting → statistics → cancellation → close,
 * end and broken → nowait → several cases on one channel → Go's select tests
 * (ported by name from golang/go src/runtime/chan_test.go and select tests) →
 * fairness. Deterministic: tasks synchronise with `waitAllTasksBlocked` and
 * channel events, never with sleeps; the fairness tests use Go's own bound
 * (a count more than 10 standard deviations from its mean fails).
 */
import { CancelScope, Cancelled, moveOnAfter, openNursery, type Nursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { describe, expect, it } from 'vitest'
import {
  BrokenResourceError,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  onReceive,
  onSend,
  openMemoryChannel,
  openSharedChannel,
  select,
  selectNowait,
  type ReceiveChannel,
  type SelectCase,
  type SendChannel,
} from '../src/index.js'
import { parkedSharedOperations } from '../src/shared/index.ts'

type Open = <T>(n: number) => [SendChannel<T>, ReceiveChannel<T>]
const kinds: [string, Open, boolean][] = [
  ['memory', <T>(n: number) => openMemoryChannel<T>(n), false],
  ['shared', <T>(n: number) => openSharedChannel<T>(n), true],
]

/** Takes what is buffered now (and what waiting senders offer), without waiting. */
function takeAll<T>(r: ReceiveChannel<T>): T[] {
  const got: T[] = []
  for (;;) {
    try {
      got.push(r.receiveNowait())
    } catch (e) {
      if (e instanceof WouldBlock) return got
      throw e
    }
  }
}

function waiting(...chans: { statistics(): { tasksWaitingSend: number; tasksWaitingReceive: number } }[]): number[] {
  return chans.flatMap((c) => [c.statistics().tasksWaitingSend, c.statistics().tasksWaitingReceive])
}

describe.each(kinds)('select on %s channels', (_kind, open, _shared) => {
  it('a ready receive case commits with its value, through then', async () => {
    const [s, r] = open<number>(1)
    const [, r2] = open<number>(1)
    s.sendNowait(7)
    expect(
      await select(
        onReceive(r, (v) => v * 2),
        onReceive(r2, () => -1),
      ),
    ).toBe(14)
    expect(await select(onReceive(r2), onSend(s, 3))).toBeUndefined()
    expect(r.receiveNowait()).toBe(3)
    s.sendNowait(4)
    expect(await select(onReceive(r))).toBe(4)
    expect(takeAll(r2)).toEqual([])
  })

  it('a ready send case delivers its value and resolves with then() or undefined', async () => {
    const [s, r] = open<string>(2)
    expect(await select(onSend(s, 'a', () => 'sent'))).toBe('sent')
    expect(await select(onSend(s, 'b'))).toBeUndefined()
    expect(takeAll(r)).toEqual(['a', 'b'])
  })

  it('then may be async: select resolves with its awaited result', async () => {
    const [s, r] = open<number>(1)
    s.sendNowait(1)
    expect(await select(onReceive(r, async (v) => (await Promise.resolve(), v + 1)))).toBe(2)
  })

  it('waits until one case can complete, and only that case commits', async () => {
    const [s1, r1] = open<number>(0)
    const [s2, r2] = open<number>(0)
    const [s3, r3] = open<number>(1)
    s3.sendNowait(99) // full: the send case cannot complete
    await openNursery(async (n) => {
      let got: unknown
      n.startSoon(async () => {
        got = await select(
          onReceive(r1, (v) => ['r1', v]),
          onReceive(r2, (v) => ['r2', v]),
          onSend(s3, 5, () => 's3'),
        )
      })
      await waitAllTasksBlocked()
      expect(got).toBeUndefined()
      await s2.send(42)
      await waitAllTasksBlocked()
      expect(got).toEqual(['r2', 42])
    })
    // The losers had no effect: nothing taken from r1, nothing added to s3, nobody waits.
    expect(waiting(r1, r2, r3)).toEqual([0, 0, 0, 0, 0, 0])
    expect(() => s1.sendNowait(1)).toThrow(WouldBlock)
    expect(takeAll(r3)).toEqual([99])
  })

  it('a waiting send case is taken by a receiver; the other cases stay untouched', async () => {
    const [s1, r1] = open<number>(0)
    const [s2, r2] = open<number>(0)
    await openNursery(async (n) => {
      let got: unknown
      n.startSoon(async () => {
        got = await select(
          onSend(s1, 1, () => 's1'),
          onSend(s2, 2, () => 's2'),
        )
      })
      await waitAllTasksBlocked()
      expect(await r1.receive()).toBe(1)
      await waitAllTasksBlocked()
      expect(got).toBe('s1')
    })
    expect(() => r2.receiveNowait()).toThrow(WouldBlock)
    expect(waiting(r1, r2)).toEqual([0, 0, 0, 0])
  })

  it('statistics: a waiting select counts in every channel it waits on, once per case, and in none after', async () => {
    const [sa, ra] = open<number>(0)
    const [sb, rb] = open<number>(1)
    sb.sendNowait(0) // full
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await select(onReceive(ra), onReceive(ra), onSend(sb, 1))
      })
      await waitAllTasksBlocked()
      expect(ra.statistics().tasksWaitingReceive).toBe(2)
      expect(ra.statistics().tasksWaitingSend).toBe(0)
      expect(sb.statistics().tasksWaitingSend).toBe(1)
      expect(sb.statistics().tasksWaitingReceive).toBe(0)
      await sa.send(1)
    })
    expect(waiting(ra, rb)).toEqual([0, 0, 0, 0])
    expect(takeAll(rb)).toEqual([0])
  })

  it('cancelled while waiting: rejects with Cancelled having committed nothing', async () => {
    const [s1, r1] = open<number>(0)
    const [s2, r2] = open<number>(1)
    s2.sendNowait(1) // full
    const scope = new CancelScope()
    let outcome: unknown = 'running'
    await openNursery(async (n) => {
      n.startSoon(async () => {
        try {
          await scope.run(() => select(onReceive(r1), onSend(s2, 2)))
          outcome = 'returned'
        } catch (e) {
          outcome = e
        }
      })
      await waitAllTasksBlocked()
      scope.cancel()
    })
    expect(outcome).toBe('returned') // the scope caught its own Cancelled
    expect(scope.cancelledCaught).toBe(true)
    expect(waiting(r1, r2)).toEqual([0, 0, 0, 0])
    expect(takeAll(r2)).toEqual([1]) // the send case delivered nothing
    expect(() => s1.sendNowait(3)).toThrow(WouldBlock) // no receiver left behind
  })

  it('moveOnAfter around select: the timeout commits nothing', async () => {
    const [s, r] = open<number>(0)
    expect(await moveOnAfter(5, () => select(onReceive(r)))).toBeUndefined()
    expect(waiting(r)).toEqual([0, 0])
    expect(() => s.sendNowait(1)).toThrow(WouldBlock)
  })

  it('is a checkpoint: in a cancelled scope it rejects with Cancelled even when a case is ready, taking nothing', async () => {
    const [s, r] = open<number>(1)
    s.sendNowait(5)
    const scope = new CancelScope()
    scope.cancel()
    let error: unknown
    await scope.run(async () => {
      try {
        await select(onReceive(r))
      } catch (e) {
        error = e
        throw e
      }
    })
    expect(error).toBeInstanceOf(Cancelled)
    expect(r.receiveNowait()).toBe(5)
  })

  it('reports errors as rejections in the order: bad input, Cancelled, ClosedResourceError', async () => {
    const [s, r] = open<number>(1)
    const [s2] = open<number>(1)
    s2.close()
    const scope = new CancelScope()
    scope.cancel()
    const seen: unknown[] = []
    await scope.run(async () => {
      const all = [
        select(onReceive(r), {} as never, onSend(s2, 1)), // all three faults: TypeError
        select(onReceive(r), onSend(s2, 1)), // cancelled and closed: Cancelled
      ]
      for (const p of all) await p.catch((e: unknown) => seen.push(e))
    })
    await select(onSend(s, 1), onSend(s2, 1)).catch((e: unknown) => seen.push(e)) // closed only
    expect(seen[0]).toBeInstanceOf(TypeError)
    expect(seen[1]).toBeInstanceOf(Cancelled)
    expect(seen[2]).toBeInstanceOf(ClosedResourceError)
    // Nothing committed: the ready send case on s did not deliver.
    expect(takeAll(r)).toEqual([])
  })

  it('a case on a closed handle is a ClosedResourceError before anything commits', async () => {
    const [s, r] = open<number>(1)
    s.sendNowait(1)
    const rc = r.clone()
    rc.close()
    await expect(select(onReceive(r), onReceive(rc))).rejects.toThrow(ClosedResourceError)
    expect(() => selectNowait(onReceive(r), onReceive(rc))).toThrow(ClosedResourceError)
    expect(r.receiveNowait()).toBe(1)
  })

  it("an ended channel is ready: onEnd gives Go's ok == false, or select rejects with EndOfChannel", async () => {
    const [s, r] = open<number>(2)
    const [, quiet] = open<number>(0)
    s.sendNowait(1)
    s.close()
    expect(
      await select(
        onReceive(
          r,
          (v) => ['value', v],
          () => ['end'],
        ),
      ),
    ).toEqual(['value', 1])
    expect(
      await select(
        onReceive(quiet),
        onReceive(
          r,
          (v) => ['value', v],
          () => ['end'],
        ),
      ),
    ).toEqual(['end'])
    await expect(select(onReceive(r))).rejects.toThrow(EndOfChannel)
    expect(selectNowait(onReceive(r, undefined, () => 'end'))).toBe('end')
  })

  it('a waiting receive case is woken by the last sender closing: onEnd', async () => {
    const [s, r] = open<number>(0)
    const [, other] = open<number>(0)
    let got: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        got = await select(
          onReceive(other),
          onReceive(
            r,
            () => 'value',
            () => 'end',
          ),
        )
      })
      await waitAllTasksBlocked()
      s.close()
    })
    expect(got).toBe('end')
    expect(waiting(other)).toEqual([0, 0])
  })

  it('a send case whose receivers are all closed rejects with BrokenResourceError, waiting or not', async () => {
    const [s, r] = open<number>(0)
    const [s2, r2] = open<number>(0)
    const [, other] = open<number>(0)
    r.close()
    await expect(select(onSend(s, 1))).rejects.toThrow(BrokenResourceError)
    let error: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await select(onSend(s2, 1), onReceive(other)).catch((e: unknown) => (error = e))
      })
      await waitAllTasksBlocked()
      r2.close()
    })
    expect(error).toBeInstanceOf(BrokenResourceError)
  })

  it("closing a case's handle while select waits rejects it with ClosedResourceError; other cases untouched", async () => {
    const [s1, r1] = open<number>(0)
    const [s2, r2] = open<number>(1)
    s2.sendNowait(0)
    let error: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await select(onReceive(r1), onSend(s2, 1)).catch((e: unknown) => (error = e))
      })
      await waitAllTasksBlocked()
      r1.close()
    })
    expect(error).toBeInstanceOf(ClosedResourceError)
    expect(takeAll(r2)).toEqual([0])
    expect(waiting(r2)).toEqual([0, 0])
    void s1
  })

  it("selectNowait: Go's default — WouldBlock when nothing is ready, having changed nothing; not a checkpoint", async () => {
    const [s, r] = open<number>(1)
    const [s2, r2] = open<number>(0)
    s.sendNowait(1)
    expect(() => selectNowait(onSend(s, 2), onReceive(r2))).toThrow(WouldBlock)
    expect(() => selectNowait()).toThrow(WouldBlock)
    expect(takeAll(r)).toEqual([1])
    const scope = new CancelScope()
    scope.cancel()
    await scope.run(async () => {
      expect(selectNowait(onSend(s, 3, () => 'ok'))).toBe('ok')
    })
    expect(r.receiveNowait()).toBe(3)
    void s2
  })

  it('select() with no case waits until cancelled', async () => {
    expect(await moveOnAfter(5, async () => (await select(), 'returned'))).toBeUndefined()
  })

  it('an error thrown by then propagates; cancellation inside then does not undo the commit', async () => {
    const [s, r] = open<number>(2)
    s.sendNowait(1)
    s.sendNowait(2)
    await expect(
      select(
        onReceive(r, () => {
          throw new Error('from then')
        }),
      ),
    ).rejects.toThrow('from then')
    const scope = new CancelScope()
    await scope.run(() =>
      select(
        onReceive(r, async () => {
          scope.cancel()
          await Promise.resolve()
        }),
      ),
    )
    expect(takeAll(r)).toEqual([]) // both values were taken: the commits stood
  })

  it('one channel in several cases: exactly one of them commits', async () => {
    const [s, r] = open<number>(0)
    let got: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        got = await select(
          onReceive(r, (v) => ['a', v]),
          onReceive(r, (v) => ['b', v]),
        )
      })
      await waitAllTasksBlocked()
      expect(r.statistics().tasksWaitingReceive).toBe(2)
      await s.send(1)
    })
    expect(got === undefined ? undefined : (got as unknown[])[1]).toBe(1)
    expect(waiting(r)).toEqual([0, 0])
    expect(() => s.sendNowait(2)).toThrow(WouldBlock)
  })

  it('TestNonblockSelectRace: with one of two channels always ready, selectNowait never takes the default', () => {
    for (let i = 0; i < 200; i++) {
      const [s1, r1] = open<number>(1)
      const [s2, r2] = open<number>(1)
      s1.sendNowait(1)
      s2.sendNowait(1)
      try {
        r1.receiveNowait()
      } catch {}
      expect(
        selectNowait(
          onReceive(r1, () => 1),
          onReceive(r2, () => 2),
        ),
      ).toBe(2)
    }
  })

  it("TestSelectFairness: among ready cases each is chosen about equally often (Go's 10-sigma bound)", async () => {
    const trials = 2000
    const [s1, r1] = open<number>(trials + 1)
    const [s2, r2] = open<number>(trials + 1)
    const [, r3] = open<number>(0)
    const [, r4] = open<number>(0)
    for (let i = 0; i <= trials; i++) {
      s1.sendNowait(1)
      s2.sendNowait(2)
    }
    let c1 = 0
    for (let i = 0; i < trials; i++) {
      const b = await select(onReceive(r3), onReceive(r4), onReceive(r1), onReceive(r2))
      if (b === 1) c1++
      else expect(b).toBe(2)
    }
    const mean = trials / 2
    const sd = Math.sqrt(trials * 0.25)
    expect(Math.abs(c1 - mean)).toBeLessThan(10 * sd)
  })

  it('TestPseudoRandomSend: two send cases on one channel are both chosen', async () => {
    for (const cap of [0, 100]) {
      const [s, r] = open<number>(cap)
      const got: number[] = []
      await openNursery(async (n) => {
        n.startSoon(async () => {
          for (let i = 0; i < 100; i++) got.push(await r.receive())
        })
        for (let i = 0; i < 100; i++) await select(onSend(s, 1), onSend(s, 0))
      })
      const ones = got.filter((v) => v === 1).length
      expect(ones).toBeGreaterThan(10)
      expect(100 - ones).toBeGreaterThan(10)
    }
  })

  it('TestSelectDuplicateChannel: a select queued twice on one channel dequeues itself cleanly', async () => {
    const [cs, cr] = open<number>(0)
    const [ds, dr] = open<number>(0)
    await openNursery(async (n) => {
      let a = false
      n.startSoon(async () => {
        await select(onReceive(cr), onReceive(cr), onReceive(dr))
        a = true
      })
      await waitAllTasksBlocked()
      let b: number | undefined
      n.startSoon(async () => {
        b = await cr.receive()
      })
      await waitAllTasksBlocked()
      await ds.send(7) // wakes A, which withdraws both of its entries on c
      await waitAllTasksBlocked()
      expect(a).toBe(true)
      await cs.send(8) // must reach B, not A's withdrawn entries
      await waitAllTasksBlocked()
      expect(b).toBe(8)
    })
  })

  it.each([0, 10])('TestSelfSelect (size %i): send and receive cases on one channel never pair with themselves', async (cap) => {
    const [s, r] = open<number>(cap)
    await openNursery(async (n) => {
      for (const p of [0, 1]) {
        n.startSoon(async () => {
          for (let i = 0; i < 300; i++) {
            const cases = [onSend(s, p, () => -1), onReceive(r, (v: number) => v)]
            const v = await select(...(p === 0 || i % 2 === 0 ? cases : cases.reverse()))
            if (cap === 0 && v === p) throw new Error('self receive')
          }
        })
      }
    })
    expect(waiting(r)).toEqual([0, 0])
  })

  it('TestSelectDuplexChannel: two selects meet on a size-0 channel, one sending and one receiving', async () => {
    const [cs, cr] = open<string>(0)
    const [, ar] = open<boolean>(0)
    const [, br] = open<boolean>(0)
    let got: unknown
    await openNursery(async (n) => {
      n.startSoon(async () => {
        got = await select(
          onReceive(cr, (v) => v),
          onReceive(ar, () => 'a'),
        )
      })
      await waitAllTasksBlocked()
      expect(
        await select(
          onSend(cs, 'barrier', () => 'sent'),
          onReceive(br, () => 'b'),
        ),
      ).toBe('sent')
    })
    expect(got).toBe('barrier')
  })
})

describe('select mixes memory and shared channels', () => {
  it('waits on both kinds; a shared send or a memory send wakes it; exactly one commits', async () => {
    const [ms, mr] = openMemoryChannel<number>(0)
    const [ss, sr] = openSharedChannel<number>(1, { codec: 'int32' })
    for (const wake of ['memory', 'shared'] as const) {
      let got: unknown
      await openNursery(async (n) => {
        n.startSoon(async () => {
          got = await select(
            onReceive(mr, (v) => ['m', v]),
            onReceive(sr, (v) => ['s', v]),
          )
        })
        await waitAllTasksBlocked()
        expect(mr.statistics().tasksWaitingReceive).toBe(1)
        expect(sr.statistics().tasksWaitingReceive).toBe(1)
        if (wake === 'memory') await ms.send(1)
        else await ss.send(2)
      })
      expect(got).toEqual(wake === 'memory' ? ['m', 1] : ['s', 2])
      expect(waiting(mr, sr)).toEqual([0, 0, 0, 0])
    }
  })

  /**
   * Starts, in `n`, a select { send 7 on the size-0 shared `ss`; `other` }, waits until it waits
   * (its offer posted), and takes the offer from `sr` without waiting. The select's result goes to `done`.
   */
  async function takeOffer(
    n: Nursery,
    ss: SendChannel<number>,
    sr: ReceiveChannel<number>,
    other: SelectCase<unknown>,
    done: (v: unknown) => void,
  ): Promise<void> {
    n.startSoon(async () =>
      done(
        await select(
          onSend(ss, 7, () => 'sent'),
          other,
        ),
      ),
    )
    await waitAllTasksBlocked()
    expect(sr.receiveNowait()).toBe(7) // the offer, taken without waiting
  }

  it('a mixed select with a size-0 shared send case offers its value: a plain receiver takes it (two mixed selects meet)', async () => {
    const [, mr] = openMemoryChannel<number>(0)
    const [ss, sr] = openSharedChannel<number>(0, { codec: 'int32' })
    let got: unknown
    await openNursery((n) =>
      takeOffer(
        n,
        ss,
        sr,
        onReceive(mr, (v) => ['m', v]),
        (v) => (got = v),
      ),
    )
    expect(got).toBe('sent')
    expect(waiting(mr, sr)).toEqual([0, 0, 0, 0])
  })

  it('a memory sender that arrives after the offer was taken is refused and keeps its value; exactly one case commits', async () => {
    const [ms, mr] = openMemoryChannel<number>(0)
    const [ss, sr] = openSharedChannel<number>(0, { codec: 'int32' })
    for (const partner of ['nowait', 'send', 'select'] as const) {
      let got: unknown
      let later: unknown
      await openNursery(async (n) => {
        // In one synchronous step: take the offer, then pair with the select's memory entry.
        await takeOffer(
          n,
          ss,
          sr,
          onReceive(mr, (v) => ['m', v]),
          (v) => (got = v),
        )
        if (partner === 'nowait') expect(() => ms.sendNowait(5)).toThrow(WouldBlock)
        else if (partner === 'send') n.startSoon(async () => void (await ms.send(5)))
        else n.startSoon(async () => void (await select(onSend(ms, 5))))
        await waitAllTasksBlocked()
        if (partner !== 'nowait') {
          expect(ms.statistics().tasksWaitingSend).toBe(1) // refused: still waiting with its value
          later = mr.receiveNowait()
        }
      })
      expect(got).toBe('sent')
      if (partner !== 'nowait') expect(later).toBe(5)
      expect(waiting(mr, sr)).toEqual([0, 0, 0, 0])
    }
  })

  // A waits with its offer on ss and its memory send entry on ms; the offer is taken, so A has
  // committed (its dispatcher has not run yet) and its entry on ms refuses whoever arrives:
  // a plain receiver, or a select whose poll locks its shared rings and only peeks at ms under
  // them (it used to throw InternalError when the peeked entry then refused).
  it.each(['receiveNowait', 'select polling ms with a shared case'] as const)(
    'a memory receiver that arrives after the offer was taken is refused (%s)',
    async (partner) => {
      const [ms, mr] = openMemoryChannel<number>(0)
      const [ss, sr] = openSharedChannel<number>(0, { codec: 'int32' })
      const [, other] = openSharedChannel<number>(1, { codec: 'int32' })
      let got: unknown
      await openNursery(async (n) => {
        await takeOffer(
          n,
          ss,
          sr,
          onSend(ms, 8, () => 'memory'),
          (v) => (got = v),
        )
        if (partner === 'receiveNowait') expect(() => mr.receiveNowait()).toThrow(WouldBlock)
        else {
          expect(() => selectNowait(onReceive(mr), onReceive(other))).toThrow(WouldBlock)
          await expect(moveOnAfter(5, () => select(onReceive(mr), onReceive(other)))).resolves.toBeUndefined()
        }
      })
      expect(got).toBe('sent')
      expect(waiting(mr, sr)).toEqual([0, 0, 0, 0])
      expect(ms.statistics().tasksWaitingSend).toBe(0)
    },
  )

  it('a cancelled mixed select leaves both channels unchanged', async () => {
    const [ms, mr] = openMemoryChannel<number>(0)
    const [ss, sr] = openSharedChannel<number>(1)
    ss.sendNowait(0) // full
    expect(await moveOnAfter(5, () => select(onReceive(mr), onSend(ss, 1)))).toBeUndefined()
    expect(waiting(mr, sr)).toEqual([0, 0, 0, 0])
    expect(takeAll(sr)).toEqual([0])
    expect(() => ms.sendNowait(1)).toThrow(WouldBlock)
  })
})

describe('TestSelectStress (Go): plain and select senders and receivers on two unbuffered and two buffered channels', () => {
  it.each([
    ['memory', [0, 0, 2, 3]],
    ['shared', [0, 0, 2, 3]],
  ] as const)('%s channels %j', async (kind, sizes) => {
    const N = 300 * Number(process.env.GOTRIO_STRESS ?? 1)
    const chans = sizes.map((n) => (kind === 'memory' ? openMemoryChannel<number>(n) : openSharedChannel<number>(n, { codec: 'int32' })))
    const sums = [0, 0, 0, 0]
    await openNursery(async (nursery) => {
      for (let k = 0; k < 4; k++) {
        const [s, r] = chans[k]!
        nursery.startSoon(async () => {
          for (let i = 0; i < N; i++) await s.send(1)
        })
        nursery.startSoon(async () => {
          for (let i = 0; i < N; i++) {
            const v = await r.receive() // not `sums[k] += await ...`: that reads sums[k] before the await
            sums[k]! += v
          }
        })
      }
      nursery.startSoon(async () => {
        const n = [0, 0, 0, 0]
        for (let i = 0; i < 4 * N; i++) {
          const cases = [0, 1, 2, 3].filter((k) => n[k]! < N).map((k) => onSend(chans[k]![0], 10, () => k))
          n[await select(...cases)]!++
        }
      })
      nursery.startSoon(async () => {
        const n = [0, 0, 0, 0]
        for (let i = 0; i < 4 * N; i++) {
          const cases = [0, 1, 2, 3].filter((k) => n[k]! < N).map((k) => onReceive(chans[k]![1], (v) => [k, v] as const))
          const [k, v] = await select(...cases)
          n[k]!++
          sums[k]! += v
        }
      })
    })
    // Every channel carried N plain values (1) and N select values (10).
    expect(sums).toEqual([11 * N, 11 * N, 11 * N, 11 * N])
    for (const [s, r] of chans) expect(waiting(s, r)).toEqual([0, 0, 0, 0])
  })
})

describe('select on a shared channel: wake-ups within one thread (issue 15)', () => {
  // The Node 22 hang of TestSelectStress across threads, made deterministic: one dispatcher round
  // tries a thread's waiting operations in order; the select's watcher, first, cannot take a size-0
  // value promised to plain receivers; the plain receiver behind it takes that value, which leaves
  // the offer behind it takeable by the watcher. The round must try the watcher again: nobody else
  // bumps the channel's futex word for it (the sender's push found it unarmed).
  it('a select ahead of a plain receiver of its thread takes the offer left once that receiver took its promised value', async () => {
    const [tx, rx] = openSharedChannel<number>(0, { codec: 'int32' })
    let got: unknown
    let plain: unknown
    let sent = false
    await openNursery(async (n) => {
      n.startSoon(async () => {
        got = await select(onReceive(rx, (v) => ['select', v]))
      })
      await waitAllTasksBlocked() // the select's watcher is first in this thread's queue of rx
      n.startSoon(async () => {
        plain = await rx.receive()
      })
      await waitAllTasksBlocked() // the plain receiver waits behind it
      tx.sendNowait(1) // handed to the waiting plain receiver (a select watcher is never promised a value)
      const sending = tx.send(2) // an offer behind the promised value, in the same turn
      n.startSoon(async () => {
        await sending
        sent = true
      })
      await waitAllTasksBlocked()
      expect([plain, got, sent]).toEqual([1, ['select', 2], true])
    })
    expect([rx.statistics().tasksWaitingReceive, tx.statistics().tasksWaitingSend]).toEqual([0, 0])
  })

  it('a select whose offer is taken as it is cancelled commits that case and leaves no record queued', async () => {
    const [ta, ra] = openSharedChannel<number>(0, { codec: 'int32' })
    const [, rb] = openSharedChannel<number>(0, { codec: 'int32' })
    const before = parkedSharedOperations()
    const scope = new CancelScope()
    let got: unknown = 'running'
    await openNursery(async (n) => {
      n.startSoon(async () => {
        got = await scope.run(() =>
          select(
            onSend(ta, 7, () => 'sent'),
            onReceive(rb, () => 'received'),
          ),
        )
      })
      await waitAllTasksBlocked() // the select waits, its value offered on ta (a size-0 send case of an all-shared select)
      expect(ra.receiveNowait()).toBe(7) // takes the offer: that is the send case's commit
      scope.cancel() // too late: the withdrawal finds the offer taken
    })
    expect(got).toBe('sent')
    expect(scope.cancelledCaught).toBe(false)
    // The offer's record left its thread's queue (before the fix it stayed there, done, for good).
    expect(parkedSharedOperations()).toBe(before)
    expect([ta.statistics().tasksWaitingSend, rb.statistics().tasksWaitingReceive]).toEqual([0, 0])
  })
})
