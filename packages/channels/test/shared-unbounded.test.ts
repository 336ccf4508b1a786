/**
 * Unbounded shared channels (maxBufferSize Infinity; src/shared/overflow.ts):
 * sends never wait, values beyond the 1,024-slot ring wait in overflow chunks
 * and come out in order, memory follows the backlog, and closing the last
 * receiver drops the backlog (closing endpoints carried in it). One thread with
 * invariant checks throughout, then real worker tasks.
 */
import { describe, expect, it } from 'vitest'
import { moveOnAfter, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { macrotask } from '@gotrio/runtime/lowlevel'
import { EndOfChannel, WouldBlock, openSharedChannel, type SharedReceiveChannel, type SharedSendChannel } from '../src/index.js'
import { arenaCommittedBytes } from '../src/shared/arena.js'
import { H_BYTES_USED, H_OV_COUNT, OVERFLOW_RING_SLOTS } from '../src/shared/layout.js'
import { prng } from './fixtures/prng.js'
import { checkValue, expectRingInvariants, makeValue, ringOf } from './fixtures/ring-values.js'
import type * as Tasks from './fixtures/shared-tasks.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 1)
const tasks = new URL('./fixtures/shared-tasks.ts', import.meta.url)
const produceSync = workerTask<typeof Tasks.produceSync>(tasks, 'produceSync')
const produceAsync = workerTask<typeof Tasks.produceAsync>(tasks, 'produceAsync')
const consumeAsync = workerTask<typeof Tasks.consumeAsync>(tasks, 'consumeAsync')
const collectSync = workerTask<typeof Tasks.collectSync>(tasks, 'collectSync')

/** A sequence-numbered value of `size` bytes in all (at least 4): sizes decide inline (<= 56) or out of line. */
const valueOfSize = (seq: number, size: number): Uint8Array => makeValue(seq, Math.max(0, size - 4))

describe('unbounded shared channels (maxBufferSize Infinity)', () => {
  it('sendNowait never blocks: a backlog far beyond the ring comes out in order, statistics count it', () => {
    const [tx, rx] = openSharedChannel<number>(Infinity, { codec: 'int32' })
    const n = 10_000 * STRESS
    for (let i = 0; i < n; i++) tx.sendNowait(i)
    expect(rx.statistics()).toMatchObject({ currentBufferUsed: n, peakBufferUsed: n, maxBufferSize: Infinity })
    expectRingInvariants(ringOf(rx))
    for (let i = 0; i < n; i++) expect(rx.receiveNowait()).toBe(i)
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    expect(rx.statistics().currentBufferUsed).toBe(0)
    expect(ringOf(rx).get(H_OV_COUNT)).toBe(0)
    tx.close()
    expect(() => rx.receiveNowait()).toThrow(EndOfChannel)
    rx.close()
  })

  it('seeded bursts of mixed sizes (inline, out of line): FIFO, no corruption, invariants checked throughout, memory reused', () => {
    const [tx, rx] = openSharedChannel<Uint8Array>(Infinity)
    const ring = ringOf(rx)
    const lap = (laps: number, from: number): number => {
      const rand = prng(42) // the same bursts each round
      let sent = from
      let received = from
      for (let l = 0; l < laps; l++) {
        // A burst of sends (often past the ring and through several chunks), then a burst of receives.
        const burst = Math.floor(rand() * 3000)
        for (let k = 0; k < burst; k++) {
          tx.sendNowait(valueOfSize(sent, rand() < 0.1 ? 100 + Math.floor(rand() * 2000) : Math.floor(rand() * 56)))
          sent++
          if (k % 97 === 0) expectRingInvariants(ring)
        }
        const take = Math.floor(rand() * (sent - received + 1))
        for (let k = 0; k < take; k++) {
          checkValue(received, rx.receiveNowait())
          received++
          if (k % 97 === 0) expectRingInvariants(ring)
        }
        expect(rx.statistics().currentBufferUsed).toBe(sent - received)
        expectRingInvariants(ring)
      }
      while (received < sent) checkValue(received, rx.receiveNowait()), received++
      expect(ring.get(H_OV_COUNT)).toBe(0)
      expect(ring.get(H_BYTES_USED)).toBe(0)
      return sent
    }
    const after1 = lap(20 * STRESS, 0)
    const committed = arenaCommittedBytes()
    lap(20 * STRESS, after1)
    // The same backlog a second time fits in the chunks and blocks the first round freed.
    expect(arenaCommittedBytes()).toBe(committed)
    tx.close()
    rx.close()
  })

  it('closing the last receiver drops the backlog, frees it, and closes endpoints carried in it', async () => {
    /** One backlog: 2,000 values (ring and overflow), four of them carrying a channel's send endpoint. */
    const round = async (): Promise<void> => {
      const [tx, rx] = openSharedChannel<unknown>(Infinity)
      const inner: SharedReceiveChannel<number>[] = []
      for (let i = 0; i < 2000; i++) {
        if (i % 500 === 499) {
          // Endpoints in the ring (499, 999) and deep in the overflow (1499, 1999):
          // their peers must see EndOfChannel once the backlog is dropped.
          const [itx, irx] = openSharedChannel<number>(1, { codec: 'int32' })
          tx.sendNowait({ i, itx })
          inner.push(irx)
        } else tx.sendNowait(i % 3 === 0 ? valueOfSize(i, 300) : { i })
      }
      expect(ringOf(tx).get(H_OV_COUNT)).toBe(2000 - OVERFLOW_RING_SLOTS)
      rx.close()
      expect(() => tx.sendNowait(1)).toThrow(/every receive handle of this shared channel is closed/)
      for (const irx of inner) await expect(irx.receive()).rejects.toBeInstanceOf(EndOfChannel)
      for (const irx of inner) irx.close()
      tx.close()
    }
    await round()
    // Nothing of a dropped backlog is kept: the same backlog again fits in the
    // blocks and chunks the first one gave back.
    const committed = arenaCommittedBytes()
    await round()
    expect(arenaCommittedBytes()).toBe(committed)
  })

  it('maxBufferBytes still bounds the out-of-line bytes of an unbounded channel when given', () => {
    const [tx, rx] = openSharedChannel<Uint8Array>(Infinity, { maxBufferBytes: 1000 })
    tx.sendNowait(valueOfSize(0, 600)) // out of line (over 56 bytes): 600 of the 1,000 bytes
    expect(() => tx.sendNowait(valueOfSize(1, 600))).toThrow(WouldBlock)
    for (let i = 1; i < 2000; i++) tx.sendNowait(valueOfSize(i, 40)) // inline values are not counted: past the ring
    checkValue(0, rx.receiveNowait())
    for (let i = 1; i < 2000; i++) checkValue(i, rx.receiveNowait())
    tx.sendNowait(valueOfSize(2000, 600)) // the budget is free again
    checkValue(2000, rx.receiveNowait())
    tx.close()
    rx.close()
  })

  it('float64 values survive the overflow bit for bit', () => {
    const [tx, rx] = openSharedChannel<number>(Infinity, { codec: 'float64' })
    const values = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? -0 : i * Math.PI - 1e-300))
    for (const v of values) tx.sendNowait(v)
    for (const v of values) expect(Object.is(rx.receiveNowait(), v)).toBe(true)
    tx.close()
    rx.close()
  })

  it('across threads: worker producers finish with nobody receiving, then main drains every value once, in order per producer', async () => {
    await run(async () => {
      const n = 5000 * STRESS
      const [tx, rx] = openSharedChannel<number>(Infinity, { codec: 'int32' })
      await openNursery(async (nursery) => {
        nursery.startSoon(produceSync, tx.clone(), 0, n)
        nursery.startSoon(produceAsync, tx.clone(), n, n)
        nursery.startSoon(produceSync, tx.clone(), 2 * n, n)
        tx.close()
      })
      // Every producer returned while no receiver ran: sends never waited.
      expect(rx.statistics()).toMatchObject({ currentBufferUsed: 3 * n, openSendChannels: 0 })
      const last = [-1, n - 1, 2 * n - 1]
      let count = 0
      for await (const v of rx) {
        const p = Math.floor(v / n)
        if (v !== last[p]! + 1) throw new Error(`producer ${p}: ${v} after ${last[p]}`)
        last[p] = v
        count++
      }
      expect(count).toBe(3 * n)
      expect(last).toEqual([n - 1, 2 * n - 1, 3 * n - 1])
      rx.close()
    })
  })

  it('across threads under contention: producers and consumers in workers and on main, exact count and sum', async () => {
    await run(async () => {
      const n = 20_000 * STRESS
      const [tx, rx] = openSharedChannel<number>(Infinity, { codec: 'int32' })
      const results: [number, number][] = []
      let mainCount = 0
      let mainSum = 0
      await openNursery(async (nursery) => {
        for (let p = 0; p < 3; p++) nursery.startSoon(p === 1 ? produceAsync : produceSync, tx.clone(), p * n, n)
        tx.close()
        // Async consumers: a consumer blocked in receiveSync would hold a pool
        // thread, and with two threads the producers queued behind it could not run.
        for (let c = 0; c < 2; c++) {
          const r = rx.clone()
          nursery.startSoon(async () => void results.push(await runInWorker(consumeAsync, r)))
        }
        for await (const v of rx) mainCount++, (mainSum += v)
      })
      const count = results.reduce((a, [c]) => a + c, mainCount)
      const sum = results.reduce((a, [, s]) => a + s, mainSum)
      expect(count).toBe(3 * n)
      expect(sum).toBe(((3 * n - 1) * 3 * n) / 2)
      rx.close()
    })
  })

  it('across threads: structured values of every size, received in a worker, in order', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<unknown>(Infinity)
      const values: unknown[] = []
      for (let i = 0; i < 1500; i++) values.push(i % 5 === 0 ? { i, pad: 'x'.repeat(i % 400) } : i % 5 === 1 ? new Map([[i, [i]]]) : i)
      for (const v of values) tx.sendNowait(v)
      tx.close()
      expect(await runInWorker(collectSync, rx)).toEqual(values)
    })
  })
})

describe('shared channels larger than a ring allocated up front (maxBufferSize > 2^22)', () => {
  it('a bounded channel with overflow: fills to exactly its size, then send waits for room; FIFO throughout', async () => {
    const size = 2 ** 22 + 300
    const [tx, rx] = openSharedChannel<number>(size, { codec: 'int32' })
    for (let i = 0; i < size; i++) tx.sendNowait(i)
    expect(rx.statistics()).toMatchObject({ currentBufferUsed: size, maxBufferSize: size, peakBufferUsed: size })
    expect(() => tx.sendNowait(-1)).toThrow(/the channel is full/)
    expectRingInvariants(ringOf(rx))
    await run(async () => {
      // A waiting send that is cancelled delivered nothing and leaves the channel as it was.
      const cancelled = await moveOnAfter(Infinity, async (scope) => {
        await openNursery(async (nursery) => {
          nursery.startSoon(async () => {
            await tx.send(-2)
          })
          await waitForWaitingSender(tx)
          scope.cancel()
        })
        return 'not cancelled'
      })
      expect(cancelled).toBeUndefined()
      expect(rx.statistics()).toMatchObject({ currentBufferUsed: size, tasksWaitingSend: 0 })
      expectRingInvariants(ringOf(rx))
      let sent = false
      await openNursery(async (nursery) => {
        nursery.startSoon(async () => {
          await tx.send(size)
          sent = true
        })
        await waitForWaitingSender(tx)
        expect(sent).toBe(false)
        expect(rx.receiveNowait()).toBe(0) // frees a place: the waiting sender takes it
      })
      expect(sent).toBe(true)
    })
    for (let i = 1; i <= size; i++) {
      const v = rx.receiveNowait()
      if (v !== i) throw new Error(`expected ${i}, got ${v}`)
    }
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    expect(ringOf(rx).get(H_OV_COUNT)).toBe(0)
    tx.close()
    rx.close()
  })
})

/** Resolves once `tx`'s channel counts a waiting sender (polled across macrotasks: the wait is registered under the channel lock). */
async function waitForWaitingSender(tx: SharedSendChannel<number>): Promise<void> {
  while (tx.statistics().tasksWaitingSend === 0) await macrotask()
}
