/**
 * The lock-free buffer of shared channels (src/shared/fast-slots.ts, issue 14)
 * across real worker threads: its seams with the locked protocol. Every
 * channel here is opened with GOTRIO_SHARED_FAST=1 (the default; set so that
 * these tests still run on it when the suite runs with GOTRIO_SHARED_FAST=0)
 * and checked to be a fast one. Exact totals and per-producer order; sizes
 * scale with GOTRIO_STRESS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNursery, run } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { EndOfChannel, WouldBlock, openSharedChannel, type SharedReceiveChannel, type SharedSendChannel } from '../src/index.js'
import { blockCapacity, getArena } from '../src/shared/arena.js'
import {
  cellsFor,
  cellsOffset,
  channelByteLength,
  H_BYTES_USED,
  H_CAPACITY,
  H_CODEC,
  H_FAST,
  H_SLOT_BYTES,
  H_SLOTS,
  OVERFLOW_SLOTS,
} from '../src/shared/layout.js'
import { runWorker, waitFor } from './fixtures/run-worker.js'
import { prng } from './fixtures/prng.js'
import { expectRingInvariants, ringOf } from './fixtures/ring-values.js'
import type { sizedValue } from './fixtures/shared-tasks.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 1)

let saved: string | undefined
beforeAll(() => {
  saved = process.env.GOTRIO_SHARED_FAST
  process.env.GOTRIO_SHARED_FAST = '1'
})
afterAll(() => {
  if (saved === undefined) delete process.env.GOTRIO_SHARED_FAST
  else process.env.GOTRIO_SHARED_FAST = saved
})

function openFast(capacity: number): ReturnType<typeof openSharedChannel<number>> {
  const pair = openSharedChannel<number>(capacity, { codec: 'int32' })
  expect(ringOf(pair[0] as never).fast).toBe(true)
  return pair
}

const PRODUCER_MODES = ['sync', 'async', 'nowait']
const CONSUMER_MODES = ['sync', 'many', 'async', 'asyncMany']

/**
 * Starts one worker producer per PRODUCER_MODES (`produce${kind}`, producer p
 * sending ids p * per ..) on clones of `tx`, and one worker consumer per
 * CONSUMER_MODES (`consume${kind}`) on clones of `rx`.
 */
function startProducersConsumers<T>(
  tx: SharedSendChannel<T>,
  rx: SharedReceiveChannel<T>,
  kind: 'Tagged' | 'Mixed',
  per: number,
  count: number,
): { producers: Promise<number>[]; consumers: Promise<[number, number, number]>[] } {
  return {
    producers: PRODUCER_MODES.map((m, p) => runWorker<number>(`produce${kind}`, tx.clone(), p, per, count, m)),
    consumers: CONSUMER_MODES.map((m) => runWorker<[number, number, number]>(`consume${kind}`, rx.clone(), PRODUCER_MODES.length, per, m)),
  }
}

/** Every producer sent `count`; the consumers together saw each id once, in per-producer order. */
async function expectExactTotals(
  workers: { producers: Promise<number>[]; consumers: Promise<[number, number, number]>[] },
  per: number,
  count: number,
): Promise<void> {
  expect(await Promise.all(workers.producers)).toEqual(PRODUCER_MODES.map(() => count))
  const res = await Promise.all(workers.consumers)
  let want = 0
  for (let p = 0; p < PRODUCER_MODES.length; p++) want += p * per * count + (count * (count - 1)) / 2
  expect(res.reduce((a, r) => a + r[0], 0)).toBe(PRODUCER_MODES.length * count)
  expect(res.reduce((a, r) => a + r[1], 0)).toBe(want)
  expect(res.map((r) => r[2])).toEqual(CONSUMER_MODES.map(() => 0))
}

describe('shared channel, lock-free buffer: across threads', () => {
  for (const cap of [1, 2, 7, 64]) {
    it(`capacity ${cap}: producers (sync, async, nowait) x consumers (sync, many, async, asyncMany) in workers: each value once, per-producer order, quiescent statistics`, async () => {
      const [tx, rx] = openFast(cap)
      const per = 1_000_000
      const count = 1500 * STRESS
      const workers = startProducersConsumers(tx, rx, 'Tagged', per, count)
      tx.close()
      const stats = rx.statistics()
      expect(stats.maxBufferSize).toBe(cap)
      rx.close()
      await expectExactTotals(workers, per, count)
    })
  }

  it('a consumer on the main thread (for await) against two sync producers: exact totals; the buffer is empty after', async () => {
    const [tx, rx] = openFast(16)
    const per = 1_000_000
    const count = 4000 * STRESS
    const producers = [0, 1].map((p) => runWorker<number>('produceTagged', tx.clone(), p, per, count, 'sync'))
    tx.close()
    const next = [-1, -1]
    let n = 0
    let bad = 0
    await run(async () => {
      for await (const v of rx) {
        const p = Math.floor(v / per)
        if (v <= next[p]!) bad++
        next[p] = v
        n++
      }
    })
    await Promise.all(producers)
    expect([n, bad]).toEqual([2 * count, 0])
    const s = rx.statistics()
    expect([s.currentBufferUsed, s.tasksWaitingSend, s.tasksWaitingReceive]).toEqual([0, 0, 0])
    expect(s.peakBufferUsed).toBeGreaterThanOrEqual(1)
    expect(s.peakBufferUsed).toBeLessThanOrEqual(16)
    expectRingInvariants(ringOf(rx as never))
    rx.close()
  })

  for (const cap of [1, 3]) {
    it(`capacity ${cap}: a waiting sender owns the slot a receive in another thread frees; a new lock-free send there does not overtake it`, async () => {
      const laps = 150 * STRESS
      const [tx, rx] = openFast(cap)
      const [goT, goR] = openSharedChannel<number>(0, { codec: 'int32' })
      const [doneT, doneR] = openSharedChannel<number>(0, { codec: 'int32' })
      const probe = runWorker<number>('overtakeProbe', rx.clone(), tx.clone(), goR, doneT, laps)
      await run(async () => {
        for (let lap = 0; lap < laps; lap++) {
          for (let k = 0; k < cap; k++) tx.sendNowait(lap * 10 + k) // full
          const sending = tx.send(-2) // waits: an offer
          expect(rx.statistics().tasksWaitingSend).toBe(1)
          await goT.send(lap)
          expect(await doneR.receive()).toBe(1) // the probe's sendNowait found no room
          await sending
          for (let k = 1; k < cap; k++) expect(rx.receiveNowait()).toBe(lap * 10 + k)
          expect(rx.receiveNowait()).toBe(-2) // moved into the buffer by the probe's receive, in order
          expect(() => rx.receiveNowait()).toThrow(WouldBlock)
        }
      })
      expect(await probe).toBe(0)
      const s = rx.statistics()
      expect([s.currentBufferUsed, s.tasksWaitingSend, s.tasksWaitingReceive]).toEqual([0, 0, 0])
      expect(s.peakBufferUsed).toBe(cap)
      expectRingInvariants(ringOf(rx as never))
      for (const e of [tx, rx, goT, doneR]) e.close()
    })
  }

  for (const cap of [1, 4]) {
    it(`capacity ${cap}: the last receiver closes while producers (sync and async) stream lock-free: every producer sees BrokenResourceError; nothing is left in the buffer`, async () => {
      for (let lap = 0; lap < 4 * STRESS; lap++) {
        const [tx, rx] = openFast(cap)
        const per = 10_000_000
        const modes = ['sync', 'async', 'sync']
        const producers = modes.map((m, p) => runWorker<number>('sendTaggedUntilBroken', tx.clone(), p, per, m))
        const keep = tx // held (never sends) so that the channel outlives the producers, for statistics
        let got = 0
        const stopAt = 200 + lap * 97
        await run(async () => {
          for (; got < stopAt; got++) await rx.receive()
        })
        rx.close() // the last receiver: drops the buffer, breaks the senders
        const sent = await Promise.all(producers)
        const delivered = sent.reduce((a, b) => a + b, 0)
        // Every completed send was received or was in the buffer when it was dropped.
        expect(delivered).toBeGreaterThanOrEqual(got)
        expect(delivered - got).toBeLessThanOrEqual(cap)
        const s = keep.statistics()
        expect([s.currentBufferUsed, s.openReceiveChannels, s.tasksWaitingSend]).toEqual([0, 0, 0])
        expect(() => keep.sendNowait(0)).toThrow(/every receive handle/)
        keep.close()
      }
    })
  }
})

describe('shared channel, lock-free buffer: one thread', () => {
  it('sendNowait / receiveNowait over many laps keep FIFO, statistics and the invariants exact', () => {
    const [tx, rx] = openFast(5)
    const ring = ringOf(rx as never)
    let next = 0
    let want = 0
    let held = 0
    for (let step = 0; step < 20_000 * STRESS; step++) {
      if ((step * 7919) % 13 < 7) {
        try {
          tx.sendNowait(next)
          next++
          held++
        } catch (e) {
          if (!(e instanceof WouldBlock)) throw e
          expect(held).toBe(5)
        }
      } else {
        try {
          expect(rx.receiveNowait()).toBe(want)
          want++
          held--
        } catch (e) {
          if (!(e instanceof WouldBlock)) throw e
          expect(held).toBe(0)
        }
      }
      if (step % 1000 === 0) {
        expect(rx.statistics().currentBufferUsed).toBe(held)
        expectRingInvariants(ring)
      }
    }
    expect(rx.statistics().peakBufferUsed).toBe(5)
    tx.close()
    rx.close()
  })

  it("a spinning receiver's hints (nextLineReady, headAtLineStart) against the stamps' byte addresses, over several laps", () => {
    const cap = 100 // not a multiple of a line: the wrap puts boundaries at other indexes each lap
    const [tx, rx] = openFast(cap)
    const ring = ringOf(rx as never)
    const rxRing = (rx as unknown as { open(): { ring: typeof ring } }).open().ring
    // The oracle: a stamp index starts a cache line when its byte address is a multiple of 64;
    // past the last index, the next lap's index 0 starts one too.
    const startsLine = (idx: number): boolean => (ring.stamps.byteOffset + 4 * idx) % 64 === 0
    let head = 0 // values taken so far (position of the head, counted without laps)
    let sent = 0
    let seenTrue = 0
    for (let round = 0; round < 40; round++) {
      // The next boundary after the head's index, counted in values from the head.
      let d = 1
      while (!startsLine((head + d) % cap) && (head + d) % cap !== 0) d++ // index 0: the next lap, another line
      expect(d).toBeLessThanOrEqual(16)
      // Publish values one by one: false until the value at distance d is in.
      while (sent - head <= d) {
        expect(ring.nextLineReady()).toBe(false)
        tx.sendNowait(sent++)
      }
      expect(ring.nextLineReady()).toBe(true)
      seenTrue++
      // Take a varying number of values (the head moves to other offsets within its line).
      const take = 1 + ((round * 7) % (sent - head))
      for (let k = 0; k < take; k++) {
        expect(rx.receiveNowait()).toBe(head++)
        // The take's own mark for trailSender (on the receiving handle's ring): the head now starts a line.
        expect(rxRing.headAtLineStart).toBe(startsLine(head % cap) || head % cap === 0)
      }
      // Drain when the buffer is nearly full, so the next round has room.
      if (sent - head > cap - 20) while (head < sent) expect(rx.receiveNowait()).toBe(head++)
    }
    expect(seenTrue).toBe(40)
    expect(head).toBeGreaterThan(cap) // it wrapped at least once
    while (head < sent) expect(rx.receiveNowait()).toBe(head++)
    expect(ring.nextLineReady()).toBe(false)
    expectRingInvariants(ring)
    tx.close()
    rx.close()
  })

  it("a receiver's spin on a buffer too short for line hints reads the head's stamp on every read", () => {
    // One read (`spin(true, 1)`) must see a published value on short buffers; long ones read the
    // next line's first stamp (nextLineReady) on all but every eighth read, so they need it published.
    for (const cap of [1, 4, 63]) {
      const [tx, rx] = openFast(cap)
      const ring = ringOf(rx as never)
      expect(ring.lineHints).toBe(false)
      for (let lap = 0; lap < 3 * cap; lap++) {
        expect(ring.spin(true, 1)).toBe(false) // empty: nothing to see
        tx.sendNowait(lap)
        expect(ring.spin(true, 1)).toBe(true)
        expect(rx.receiveNowait()).toBe(lap)
      }
      tx.close()
      rx.close()
    }
    const [tx, rx] = openFast(64)
    const ring = ringOf(rx as never)
    expect(ring.lineHints).toBe(true)
    tx.sendNowait(0)
    expect(ring.spin(true, 1)).toBe(false) // the head's stamp alone does not end a line-hint read
    expect(ring.spin(true, 8)).toBe(true) // the eighth read looks at the head
    tx.close()
    rx.close()
  })

  it('a waiting sender stops counting as waiting when its offer is moved into the buffer, not when it resumes: lock-free sends reopen at once', async () => {
    const [tx, rx] = openFast(2)
    const ring = ringOf(rx as never)
    await run(async () => {
      for (let lap = 0; lap < 50 * STRESS; lap++) {
        tx.sendNowait(3 * lap)
        tx.sendNowait(3 * lap + 1) // full
        const sending = tx.send(3 * lap + 2) // an offer, registered
        expect(rx.statistics().tasksWaitingSend).toBe(1)
        expect(ring.slowSet()).toBe(true) // F1: every send takes the lock while it waits
        expect(rx.receiveNowait()).toBe(3 * lap) // lock-free; it moves the offer into the freed slot
        // In the same call, before the sender's task has run again:
        expect(rx.statistics().tasksWaitingSend).toBe(0)
        expect(ring.slowSet()).toBe(false)
        expectRingInvariants(ring)
        await sending
        expect(rx.receiveNowait()).toBe(3 * lap + 1)
        expect(rx.receiveNowait()).toBe(3 * lap + 2)
        expect(rx.statistics().tasksWaitingSend).toBe(0)
      }
    })
    tx.close()
    rx.close()
  })

  it('a closed channel: EndOfChannel after the buffer drains; BrokenResourceError for senders after the last receiver closed', async () => {
    const [tx, rx] = openFast(3)
    const tx2: SharedSendChannel<number> = tx.clone()
    tx.sendNowait(1)
    tx2.sendNowait(2)
    tx.close()
    tx2.close()
    await run(async () => {
      expect(await rx.receive()).toBe(1)
      expect(rx.receiveNowait()).toBe(2)
      await expect(rx.receive()).rejects.toThrow(/every send handle/)
    })
    rx.close()
    const [ty, ry] = openFast(2)
    ty.sendNowait(7)
    ry.close()
    expect(() => ty.sendNowait(8)).toThrow(/every receive handle/)
    expect(ty.statistics().currentBufferUsed).toBe(0)
    ty.close()
  })
})

type Sized = ReturnType<typeof sizedValue>

describe('shared channel, lock-free buffer: byte codecs (structured values)', () => {
  for (const cap of [1, 4, 32]) {
    it(`capacity ${cap}: inline values (lock-free) and out-of-line ones (locked, under a byte budget) interleaved, producers (sync, async, nowait) x consumers (sync, many, async, asyncMany) in workers: each value once, intact, per-producer order; no budget bytes left`, async () => {
      const [tx, rx] = openSharedChannel<Sized>(cap, { maxBufferBytes: 600 })
      expect(ringOf(tx as never).fast).toBe(true)
      const count = 1200 * STRESS
      const modes = ['sync', 'async', 'nowait']
      const producers = modes.map((m, p) => runWorker<number>('produceSized', tx.clone(), p, count, m))
      const consumers = ['sync', 'many', 'async', 'asyncMany'].map((m) =>
        runWorker<[number, number, number]>('consumeSized', rx.clone(), modes.length, m),
      )
      const ring = ringOf(rx as never)
      tx.close()
      expect(await Promise.all(producers)).toEqual(modes.map(() => count))
      const res = await Promise.all(consumers)
      expect(res.reduce((a, r) => a + r[0], 0)).toBe(modes.length * count)
      expect(res.reduce((a, r) => a + r[1], 0)).toBe((modes.length * count * (count - 1)) / 2)
      expect(res.map((r) => r[2])).toEqual([0, 0, 0, 0])
      // Every out-of-line value gave its bytes back (R6): taken lock-free, returned under the lock.
      expect(ring.get(H_BYTES_USED)).toBe(0)
      expectRingInvariants(ring)
      rx.close()
    })
  }

  it('one thread: an out-of-line value waits on the byte budget while inline ones pass lock-free; a lock-free take of an out-of-line value gives its bytes back', async () => {
    const [tx, rx] = openSharedChannel<string>(8, { maxBufferBytes: 300 })
    const ring = ringOf(rx as never)
    expect(ring.fast).toBe(true)
    const big = (c: string): string => c.repeat(200) // out of line: ~200 of the 300 budget bytes
    tx.sendNowait(big('a'))
    const used = ring.get(H_BYTES_USED)
    expect(used).toBeGreaterThanOrEqual(200)
    expect(() => tx.sendNowait(big('b'))).toThrow(WouldBlock) // over the budget, though slots are free
    tx.sendNowait('small') // inline: no budget, the lock-free path
    expect(ring.get(H_BYTES_USED)).toBe(used)
    expectRingInvariants(ring)
    expect(rx.receiveNowait()).toBe(big('a')) // a lock-free take: the bytes come back under the lock
    expect(ring.get(H_BYTES_USED)).toBe(0)
    tx.sendNowait(big('b'))
    await run(async () => {
      // A waiting send of an out-of-line value: woken by the lock-free take that frees budget.
      const sending = tx.send(big('c'))
      expect(rx.statistics().tasksWaitingSend).toBe(1)
      expect(rx.receiveNowait()).toBe('small')
      expect(rx.receiveNowait()).toBe(big('b'))
      await sending
      expect(await rx.receive()).toBe(big('c'))
    })
    expect(ring.get(H_BYTES_USED)).toBe(0)
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    expectRingInvariants(ring)
    tx.close()
    rx.close()
  })

  it('small values are encoded into one scratch buffer per thread: a send that waits with no place in the ring yet keeps its own copy, intact after later encodes overwrote the scratch', async () => {
    const [tx, rx] = openSharedChannel<unknown>(1)
    const ring = ringOf(rx as never)
    expect(ring.fast).toBe(true)
    tx.sendNowait('first') // the buffer is full
    // Another thread fills the queue of offers (OVERFLOW_SLOTS), so the next
    // send of this thread finds no place at all and keeps its bytes to push later.
    const other = runWorker('sendAtOnce', tx.clone(), 100, OVERFLOW_SLOTS)
    await waitFor(() => rx.statistics().tasksWaitingSend === OVERFLOW_SLOTS)
    const mine = { k: 'mine', s: 'these bytes must survive' }
    await run(() =>
      openNursery(async (nursery) => {
        nursery.startSoon(() => tx.send(mine))
        await waitAllTasksBlocked()
        expect(rx.statistics().tasksWaitingSend).toBe(OVERFLOW_SLOTS + 1)
        // Two more encodes into this thread's scratch buffer.
        expect(() => tx.sendNowait({ k: 'other', s: 'overwrites the scratch bytes' })).toThrow(WouldBlock)
        expect(() => tx.sendNowait([1, 2, 3])).toThrow(WouldBlock)
        const got: unknown[] = []
        for (let k = 0; k < OVERFLOW_SLOTS + 2; k++) got.push(await rx.receive())
        expect(got[0]).toBe('first')
        expect((got.slice(1, -1) as number[]).sort((x, y) => x - y)).toEqual(Array.from({ length: OVERFLOW_SLOTS }, (_, i) => 100 + i))
        expect(got.at(-1)).toEqual(mine)
      }),
    )
    await other
    tx.close()
    await expect(rx.receive()).rejects.toThrow(EndOfChannel)
    expectRingInvariants(ring)
    rx.close()
  })

  it('number cells: every number that is not NaN goes lock-free through a cell and comes back exactly (-0, fractions, past int32, infinities); NaN, strings and objects go as bytes through the same slots, over many laps, in order', () => {
    const [tx, rx] = openSharedChannel<unknown>(3)
    const ring = ringOf(rx as never)
    expect(ring.fast).toBe(true)
    // Canaries in the block's slack, after the cells (layout.ts): no cell is written past the block's size.
    const a = getArena()
    const h = ring.block >> 2
    const used = channelByteLength(
      a.i32[h + H_SLOTS]!,
      a.i32[h + H_SLOT_BYTES]!,
      cellsFor(a.i32[h + H_FAST]!, a.i32[h + H_CODEC]!, a.i32[h + H_CAPACITY]!),
    )
    expect(used).toBe(cellsOffset(a.i32[h + H_SLOTS]!, a.i32[h + H_SLOT_BYTES]!) + 3 * 8)
    const slackEnd = ring.block + blockCapacity(ring.block)
    a.u8.fill(0xa5, ring.block + used, slackEnd)
    const specials: unknown[] = [
      0,
      -0,
      1,
      -1,
      0.5,
      2 ** 31,
      -(2 ** 31),
      2 ** 31 - 1,
      2 ** 53 + 2,
      Number.MIN_VALUE,
      Infinity,
      -Infinity,
      Number.NaN,
    ]
    const rand = prng(7)
    const laps = 400 * STRESS
    let sent = 0
    let got = 0
    const sequence: unknown[] = []
    for (let k = 0; k < laps * 3; k++) {
      const r = rand()
      sequence.push(r < 0.5 ? specials[k % specials.length] : r < 0.7 ? k + 0.25 : r < 0.85 ? `s${k}` : { k, list: [k, -0, Number.NaN] })
    }
    // A random walk of sends and takes keeps the 3 slots cycling through cells and byte slots.
    while (got < sequence.length) {
      if (sent < sequence.length && (sent - got < 3 ? rand() < 0.6 : false)) tx.sendNowait(sequence[sent++])
      else if (got < sent) {
        const v = rx.receiveNowait()
        const want = sequence[got]
        if (typeof want === 'object') expect(v).toEqual(want)
        else expect(v).toBe(want) // Object.is: -0 and NaN exactly
        got++
      }
    }
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    expectRingInvariants(ring)
    for (let k = ring.block + used; k < slackEnd; k++) if (a.u8[k] !== 0xa5) throw new Error(`canary at ${k - ring.block} overwritten`)
    tx.close()
    rx.close()
  })

  it('number cells: a number whose send waits (its offer is bytes, moved into a slot that last held a cell) and numbers sent lock-free meanwhile arrive in order and exact', async () => {
    const [tx, rx] = openSharedChannel<unknown>(2)
    const ring = ringOf(rx as never)
    await run(async () => {
      for (let lap = 0; lap < 50 * STRESS; lap++) {
        tx.sendNowait(lap + 0.5) // cells: the buffer is full
        tx.sendNowait(-lap)
        const sending = tx.send(lap * 2 ** 33) // waits: an offer of bytes
        expect(rx.statistics().tasksWaitingSend).toBe(1)
        expect(rx.receiveNowait()).toBe(lap + 0.5) // frees the slot the offer moves into
        expect(rx.receiveNowait()).toBe(-lap) // Object.is: -0 on lap 0
        expect(rx.receiveNowait()).toBe(lap * 2 ** 33)
        await sending
        expectRingInvariants(ring)
      }
    })
    tx.close()
    rx.close()
  })

  for (const cap of [1, 5, 64]) {
    it(`number cells, capacity ${cap}: numbers (cells) and strings and objects (bytes) interleaved, producers (sync, async, nowait) x consumers (sync, many, async, asyncMany) in workers: each value once, exact, per-producer order`, async () => {
      const [tx, rx] = openSharedChannel<unknown>(cap)
      expect(ringOf(tx as never).fast).toBe(true)
      const per = 1_000_000
      const count = 3000 * STRESS
      const workers = startProducersConsumers(tx, rx, 'Mixed', per, count)
      const ring = ringOf(rx as never)
      tx.close()
      rx.close()
      await expectExactTotals(workers, per, count)
      expectRingInvariants(ring)
    })
  }

  it('one thread: values carrying endpoints (inline and out of line) take the lock in, come out lock-free and usable; the last receiver closes the endpoints of values it drops', () => {
    const [otx, orx] = openSharedChannel<{ tx: SharedSendChannel<number>; pad: string }>(4)
    expect(ringOf(otx as never).fast).toBe(true)
    const inner: [SharedSendChannel<number>, SharedReceiveChannel<number>][] = []
    for (let k = 0; k < 4; k++) inner.push(openSharedChannel<number>(1, { codec: 'int32' }))
    // Inline (short pad) and out of line (long pad), alternately.
    for (let k = 0; k < 4; k++) otx.sendNowait({ tx: inner[k]![0], pad: 'p'.repeat(k % 2 === 0 ? 0 : 150) })
    for (let k = 0; k < 2; k++) {
      const got = orx.receiveNowait()
      expect(got.pad.length).toBe(k % 2 === 0 ? 0 : 150)
      got.tx.sendNowait(10 + k) // the endpoint arrived usable
      expect(inner[k]![1].receiveNowait()).toBe(10 + k)
      got.tx.close()
    }
    expect(inner[2]![1].statistics().openSendChannels).toBe(1)
    expect(inner[3]![1].statistics().openSendChannels).toBe(1)
    orx.close() // the last receiver: drops values 2 (inline) and 3 (out of line), closing their endpoints
    for (let k = 0; k < 4; k++) {
      expect(inner[k]![1].statistics().openSendChannels).toBe(0)
      expect(() => inner[k]![1].receiveNowait()).toThrow(EndOfChannel)
      inner[k]![1].close()
    }
    expect(ringOf(otx as never).get(H_BYTES_USED)).toBe(0)
    otx.close()
  })
})
