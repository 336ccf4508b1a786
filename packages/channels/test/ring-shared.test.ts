/**
 * Ring tests (ringbuf.js habits): a seeded PRNG drives random interleavings
 * and value sizes over many laps of a small ring; a sequence verifier checks
 * every value arrives once, in order, intact; canaries fill the slack of the
 * channel's arena block and must survive; the ring invariants R1-R6 are
 * checked after every step.
 */
import { describe, expect, it } from 'vitest'
import { macrotask } from '@gotrio/runtime/lowlevel'
import { WouldBlock, openSharedChannel } from '../src/index.js'
import { blockCapacity, getArena } from '../src/shared/arena.js'
import {
  ARMED_SEND,
  cellsFor,
  channelByteLength,
  H_ARMED,
  H_CAPACITY,
  H_CODEC,
  H_FAST,
  H_SLOTS,
  H_SLOT_BYTES,
} from '../src/shared/layout.js'
import { Ring } from '../src/shared/ring.js'
import { runWorker } from './fixtures/run-worker.js'
import { prng } from './fixtures/prng.js'
import { blockOf, checkValue, expectRingInvariants, makeValue, ringOf } from './fixtures/ring-values.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 1)

const CANARY = 0xa5

function paintCanaries(block: number): [number, number] {
  const a = getArena()
  const i = block >> 2
  const used = channelByteLength(
    a.i32[i + H_SLOTS]!,
    a.i32[i + H_SLOT_BYTES]!,
    cellsFor(a.i32[i + H_FAST]!, a.i32[i + H_CODEC]!, a.i32[i + H_CAPACITY]!),
  )
  const cap = blockCapacity(block)
  a.u8.fill(CANARY, block + used, block + cap)
  return [block + used, block + cap]
}

function canariesIntact([from, to]: [number, number]): boolean {
  const u8 = getArena().u8
  for (let k = from; k < to; k++) if (u8[k] !== CANARY) return false
  return true
}

describe('shared ring', () => {
  for (const seed of [1, 2, 3]) {
    it(`seeded random interleaving, sizes 0..300 bytes (inline and out of line), many laps (seed ${seed})`, () => {
      const rand = prng(seed)
      const [tx, rx] = openSharedChannel<Uint8Array>(7, { maxBufferBytes: 1000 })
      const block = blockOf(tx as never)
      const canaries = paintCanaries(block)
      const ring = new Ring(block)
      let sent = 0
      let received = 0
      const total = 5000 * STRESS
      while (received < total) {
        if (rand() < 0.5 && sent < total) {
          try {
            tx.sendNowait(makeValue(sent, Math.floor(rand() * 300)))
            sent++
          } catch (e) {
            if (!(e instanceof WouldBlock)) throw e
          }
        } else {
          try {
            checkValue(received, rx.receiveNowait())
            received++
          } catch (e) {
            if (!(e instanceof WouldBlock)) throw e
          }
        }
        expectRingInvariants(ring)
      }
      expect(received).toBe(total)
      expect(canariesIntact(canaries)).toBe(true)
      expect(tx.statistics().peakBufferUsed).toBeLessThanOrEqual(7)
      tx.close()
      rx.close()
    })
  }

  it('int32 ring: every value of the range, in order, over many laps', () => {
    const [tx, rx] = openSharedChannel<number>(5, { codec: 'int32' })
    const canaries = paintCanaries(blockOf(tx as never))
    const rand = prng(9)
    let next = -(2 ** 31)
    let expect_ = next
    for (let step = 0; step < 20_000; step++) {
      if (rand() < 0.5) {
        try {
          tx.sendNowait(next)
          next += 65537
        } catch (e) {
          if (!(e instanceof WouldBlock)) throw e
        }
      } else {
        try {
          const v = rx.receiveNowait()
          if (v !== expect_) throw new Error(`expected ${expect_}, got ${v}`)
          expect_ += 65537
        } catch (e) {
          if (!(e instanceof WouldBlock)) throw e
        }
      }
    }
    expect(canariesIntact(canaries)).toBe(true)
  })

  it('freed out-of-line blocks are reused: memory stays bounded by the configuration, not the traffic', async () => {
    const [tx, rx] = openSharedChannel<Uint8Array>(2, { maxBufferBytes: 100_000 })
    const { arenaCommittedBytes } = await import('../src/shared/arena.js')
    for (let i = 0; i < 50; i++) tx.sendNowait(makeValue(i, 20_000)), checkValue(i, rx.receiveNowait())
    const after = arenaCommittedBytes()
    for (let i = 50; i < 500; i++) tx.sendNowait(makeValue(i, 20_000)), checkValue(i, rx.receiveNowait())
    expect(arenaCommittedBytes()).toBe(after)
    tx.close()
    rx.close()
  })

  it('across threads: a worker streams seeded random-size values; main verifies sequence and content', async () => {
    const [tx, rx] = openSharedChannel<Uint8Array>(3, { maxBufferBytes: 4096 })
    const total = 2000 * STRESS
    const w = runWorker('sendRandomSizes', tx, 7, total)
    let n = 0
    for await (const v of rx) checkValue(n++, v)
    expect(n).toBe(total)
    await w
    rx.close()
  })
})

describe("byte budget and FIFO among one thread's senders", () => {
  it('a small value sent after a large one that waits on the byte budget does not overtake it', async () => {
    const { openNursery, run } = await import('@gotrio/runtime')
    const [tx, rx] = openSharedChannel<Uint8Array>(10, { maxBufferBytes: 1000 })
    const ring = ringOf(tx)
    const seqOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0)
    await run(async () => {
      tx.sendNowait(makeValue(0, 20)) // inline
      tx.sendNowait(makeValue(1, 600)) // out of line: 600 of the 1,000 budget bytes
      await openNursery(async (nursery) => {
        nursery.startSoon(async () => tx.send(makeValue(2, 600))) // waits: the budget is taken
        nursery.startSoon(async () => tx.send(makeValue(3, 20))) // inline, but queued behind value 2
        while (tx.statistics().tasksWaitingSend < 2) await macrotask()
        // Taking the inline head frees a slot but no budget, and wakes this thread's
        // waiting senders: their dispatcher re-arms H_ARMED once it has retried them.
        expect(seqOf(rx.receiveNowait())).toBe(0)
        expect(ring.get(H_ARMED) & ARMED_SEND).toBe(0)
        while ((ring.get(H_ARMED) & ARMED_SEND) === 0) await macrotask()
        // Value 2 still waits; value 3 must not have gone past it.
        expect(tx.statistics()).toMatchObject({ tasksWaitingSend: 2, currentBufferUsed: 1 })
        const order: number[] = []
        for (let k = 0; k < 3; k++) order.push(seqOf(await rx.receive()))
        expect(order).toEqual([1, 2, 3])
      })
    })
    tx.close()
    rx.close()
  })
})
