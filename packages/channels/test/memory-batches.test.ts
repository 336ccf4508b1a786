/**
 * Batches on memory channels (API.md "Batches"): `receiveMany(max)` and
 * `receiveManyNowait(max)`. One receive in every respect but the count: FIFO,
 * a checkpoint, Cancelled having taken nothing, EndOfChannel after the
 * buffer, waiting senders' values count (also on size 0), bad `max` named.
 */
import { CancelScope, Cancelled, openNursery, run } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { describe, expect, it } from 'vitest'
import { ClosedResourceError, EndOfChannel, WouldBlock } from '../src/errors.ts'
import { openMemoryChannel } from '../src/index.ts'

describe('receiveMany / receiveManyNowait: max', () => {
  it.each([
    [NaN, /got NaN/],
    [1.5, /got 1\.5/],
    ['3', /got '3'/],
    [-Infinity, /got -Infinity/],
    [undefined, /got undefined/],
  ])('%s is a TypeError naming the rule, and nothing is taken', async (max, message) => {
    const [s, r] = openMemoryChannel<number>(4)
    s.sendNowait(1)
    expect(() => r.receiveManyNowait(max as number)).toThrow(TypeError)
    expect(() => r.receiveManyNowait(max as number)).toThrow(message)
    expect(() => r.receiveManyNowait(max as number)).toThrow(/receiveManyNowait\(max\): max must be a positive integer or Infinity/)
    await expect(r.receiveMany(max as number)).rejects.toThrow(TypeError)
    await expect(r.receiveMany(max as number)).rejects.toThrow(/receiveMany\(max\): max must be a positive integer or Infinity/)
    expect(r.statistics().currentBufferUsed).toBe(1)
    expect(r.receiveNowait()).toBe(1) // still usable
  })

  it.each([0, -1, -5])('%s is a RangeError, and nothing is taken', async (max) => {
    const [s, r] = openMemoryChannel<number>(4)
    s.sendNowait(1)
    expect(() => r.receiveManyNowait(max)).toThrow(RangeError)
    expect(() => r.receiveManyNowait(max)).toThrow(`got ${max}`)
    await expect(r.receiveMany(max)).rejects.toThrow(RangeError)
    expect(r.receiveManyNowait(1)).toEqual([1])
  })

  it('Infinity takes everything there is', async () => {
    const [s, r] = openMemoryChannel<number>(10)
    for (let i = 0; i < 7; i++) s.sendNowait(i)
    expect(r.receiveManyNowait(Infinity)).toEqual([0, 1, 2, 3, 4, 5, 6])
    for (let i = 7; i < 10; i++) s.sendNowait(i)
    expect(await r.receiveMany(Infinity)).toEqual([7, 8, 9])
  })
})

describe('receiveManyNowait', () => {
  it('takes up to max in FIFO order and leaves the rest', () => {
    const [s, r] = openMemoryChannel<number>(10)
    for (let i = 0; i < 5; i++) s.sendNowait(i)
    expect(r.receiveManyNowait(3)).toEqual([0, 1, 2])
    expect(r.receiveManyNowait(3)).toEqual([3, 4])
    expect(() => r.receiveManyNowait(3)).toThrow(WouldBlock)
    r._checkInvariants()
  })

  it('on a size-0 channel takes the values of the senders already waiting, oldest first, and completes their sends', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(0)
      const done: number[] = []
      await openNursery(async (n) => {
        for (let i = 0; i < 3; i++) {
          n.startSoon(async () => {
            await s.send(i)
            done.push(i)
          })
        }
        await waitAllTasksBlocked()
        expect(r.statistics().tasksWaitingSend).toBe(3)
        expect(r.receiveManyNowait(2)).toEqual([0, 1])
        expect(r.statistics().tasksWaitingSend).toBe(1)
        expect(r.receiveManyNowait(5)).toEqual([2])
      })
      expect(done.sort()).toEqual([0, 1, 2])
      r._checkInvariants()
    })
  })

  it("a full buffer with waiting senders: buffered values first, then the senders' values, in order", async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(2)
      await openNursery(async (n) => {
        s.sendNowait(0)
        s.sendNowait(1)
        n.startSoon(async () => s.send(2))
        n.startSoon(async () => s.send(3))
        await waitAllTasksBlocked()
        expect(r.receiveManyNowait(Infinity)).toEqual([0, 1, 2, 3])
      })
      r._checkInvariants()
    })
  })

  it('EndOfChannel once every sender is closed and the buffer is drained; buffered values come first', () => {
    const [s, r] = openMemoryChannel<number>(4)
    s.sendNowait(1)
    s.sendNowait(2)
    s.close()
    expect(r.receiveManyNowait(5)).toEqual([1, 2])
    expect(() => r.receiveManyNowait(5)).toThrow(EndOfChannel)
  })

  it('ClosedResourceError on a closed handle', () => {
    const [s, r] = openMemoryChannel<number>(4)
    s.sendNowait(1)
    r.close()
    expect(() => r.receiveManyNowait(1)).toThrow(ClosedResourceError)
  })
})

describe('receiveMany', () => {
  it('waits for the first value, then returns it alone when nothing else is there', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(8)
      let got: number[] | undefined
      await openNursery(async (n) => {
        n.startSoon(async () => {
          got = await r.receiveMany(8)
        })
        await waitAllTasksBlocked()
        expect(got).toBeUndefined()
        expect(r.statistics().tasksWaitingReceive).toBe(1)
        await s.send(42)
      })
      expect(got).toEqual([42])
      r._checkInvariants()
    })
  })

  it('a producer and a batch consumer move every value once, in order', async () => {
    const N = 10_000
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(64)
      const seen: number[] = []
      let batches = 0
      await openNursery(async (n) => {
        n.startSoon(async () => {
          using tx = s
          for (let i = 0; i < N; i++) await tx.send(i)
        })
        for (;;) {
          let batch: number[]
          try {
            batch = await r.receiveMany(16)
          } catch (e) {
            if (e instanceof EndOfChannel) break
            throw e
          }
          expect(batch.length).toBeGreaterThanOrEqual(1)
          expect(batch.length).toBeLessThanOrEqual(16)
          batches++
          seen.push(...batch)
        }
      })
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i))
      expect(batches).toBeLessThanOrEqual(N)
      r._checkInvariants()
    })
  })

  it('is a checkpoint: in a cancelled scope it throws Cancelled and takes nothing, though values are there', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(4)
      s.sendNowait(1)
      const scope = new CancelScope()
      scope.cancel()
      let error: unknown
      await scope.run(async () => {
        try {
          await r.receiveMany(4)
        } catch (e) {
          error = e
          throw e
        }
      })
      expect(error).toBeInstanceOf(Cancelled)
      expect(r.receiveManyNowait(4)).toEqual([1])
    })
  })

  it('cancelled while waiting takes nothing: a later value goes to the next receiver', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(0)
      const scope = new CancelScope()
      let result: string | undefined
      await openNursery(async (n) => {
        n.startSoon(async () => {
          await scope.run(async () => {
            await r.receiveMany(4)
            result = 'completed'
          })
          result ??= 'cancelled'
        })
        await waitAllTasksBlocked()
        expect(r.statistics().tasksWaitingReceive).toBe(1)
        scope.cancel()
        await waitAllTasksBlocked()
        expect(r.statistics().tasksWaitingReceive).toBe(0)
        n.startSoon(async () => s.send(7))
        await waitAllTasksBlocked()
        expect(r.receiveManyNowait(4)).toEqual([7])
      })
      expect(result).toBe('cancelled')
      expect(scope.cancelledCaught).toBe(true)
      r._checkInvariants()
    })
  })

  it('EndOfChannel for a waiting batch when the last sender closes, and after the buffer is drained', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(4)
      let error: unknown
      await openNursery(async (n) => {
        n.startSoon(async () => {
          error = await r.receiveMany(4).catch((e: unknown) => e)
        })
        await waitAllTasksBlocked()
        s.close()
      })
      expect(error).toBeInstanceOf(EndOfChannel)
      await expect(r.receiveMany(1)).rejects.toThrow(EndOfChannel)
    })
  })

  it('a waiting batch on a handle closed meanwhile rejects with ClosedResourceError', async () => {
    await run(async () => {
      const [, r] = openMemoryChannel<number>(4)
      const r2 = r.clone()
      let error: unknown
      await openNursery(async (n) => {
        n.startSoon(async () => {
          error = await r2.receiveMany(4).catch((e: unknown) => e)
        })
        await waitAllTasksBlocked()
        r2.close()
      })
      expect(error).toBeInstanceOf(ClosedResourceError)
      await expect(r2.receiveMany(1)).rejects.toThrow(ClosedResourceError)
    })
  })

  it('the longest-waiting receiver is served first, batch or not', async () => {
    await run(async () => {
      const [s, r] = openMemoryChannel<number>(0)
      const order: string[] = []
      await openNursery(async (n) => {
        n.startSoon(async () => {
          order.push(`many:${(await r.receiveMany(4)).join(',')}`)
        })
        await waitAllTasksBlocked()
        n.startSoon(async () => {
          order.push(`one:${await r.receive()}`)
        })
        await waitAllTasksBlocked()
        await s.send(1)
        await s.send(2)
      })
      expect(order).toEqual(['many:1', 'one:2'])
    })
  })
})
