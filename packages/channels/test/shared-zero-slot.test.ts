/**
 * The size-0 lock-free slot (src/shared/zero-slot.ts, issue 14) across real
 * worker threads: a plain async send in a worker publishes its value in the
 * slot and spins until a receiver takes it, or withdraws it and sends through
 * the lock. Its seams with everything else: takes by every receive form,
 * withdrawal, the last receiver's close, values that must go through the
 * lock. Spinning is forced on (GOTRIO_SHARED_SPIN=1, read by every worker
 * started here) so that the slot is used on a loaded machine too, and each
 * test checks that it was (its head moved). Exact totals and per-producer
 * order; sizes scale with GOTRIO_STRESS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '@gotrio/runtime'
import { WouldBlock, openSharedChannel, type SharedReceiveChannel } from '../src/index.js'
import { H_FHEAD } from '../src/shared/layout.js'
import { CAN_SPIN } from '../src/shared/spin.js'
import { runWorker, waitFor } from './fixtures/run-worker.js'
import { expectRingInvariants, ringOf } from './fixtures/ring-values.js'
import { specialValue } from './fixtures/shared-tasks.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 1)

const saved: Record<string, string | undefined> = {}
beforeAll(() => {
  for (const k of ['GOTRIO_SHARED_FAST', 'GOTRIO_SHARED_SPIN']) saved[k] = process.env[k]
  process.env.GOTRIO_SHARED_FAST = '1'
  process.env.GOTRIO_SHARED_SPIN = '1'
})
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

/** Values that went through the slot so far (its head moves by 2 per take or withdrawal). */
function slotPasses(rx: object): number {
  return Atomics.load(ringOf(rx).fc, H_FHEAD) >>> 1
}

function openZero<T = number>(codec: 'int32' | 'structured' = 'int32'): ReturnType<typeof openSharedChannel<T>> {
  const pair = openSharedChannel<T>(0, { codec })
  expect(ringOf(pair[0] as never).zslot).toBe(true)
  return pair
}

/** Receives `rx` on the main thread with `for await` until EndOfChannel: [count, sum, values out of per-producer order]. */
async function drainTagged(rx: SharedReceiveChannel<number>, producers: number, per: number): Promise<[number, number, number]> {
  const next = new Array<number>(producers).fill(-1)
  let n = 0
  let sum = 0
  let bad = 0
  await run(async () => {
    for await (const v of rx) {
      const p = Math.floor(v / per)
      if (p < 0 || p >= producers || v <= next[p]!) bad++
      else next[p] = v
      n++
      sum += v
    }
  })
  return [n, sum, bad]
}

function tagSum(producers: number, per: number, count: number): number {
  let want = 0
  for (let p = 0; p < producers; p++) want += p * per * count + (count * (count - 1)) / 2
  return want
}

/**
 * Closes the test's handles (keeping a probe), then: every producer sent `count`, the consumers
 * together got each value once (`sum` of their ids) with none out of its producer's order, and
 * some went through the slot.
 */
async function expectExactThroughSlot(
  tx: { close(): void },
  rx: { clone(): { close(): void }; close(): void },
  producers: Promise<number>[],
  consumers: Promise<[number, number, number]>[],
  count: number,
  sum: number,
): Promise<void> {
  tx.close()
  const probe = rx.clone()
  rx.close()
  expect(await Promise.all(producers)).toEqual(producers.map(() => count))
  const res = await Promise.all(consumers)
  expect(res.reduce((s, r) => s + r[0], 0)).toBe(producers.length * count)
  expect(res.reduce((s, r) => s + r[1], 0)).toBe(sum)
  expect(res.map((r) => r[2])).toEqual(consumers.map(() => 0))
  expect(slotPasses(probe)).toBeGreaterThan(0)
  probe.close()
}

describe.skipIf(!CAN_SPIN)('shared channel, size 0, the lock-free slot: across threads', () => {
  it('two async producers in workers, main `for await` (the seed): each value once, in per-producer order, through the slot', async () => {
    const [tx, rx] = openZero()
    const per = 1_000_000
    const count = 3000 * STRESS
    const producers = [0, 1].map((p) => runWorker<number>('produceTagged', tx.clone(), p, per, count, 'async'))
    tx.close()
    const got = await drainTagged(rx, 2, per)
    expect(await Promise.all(producers)).toEqual([count, count])
    expect(got).toEqual([2 * count, tagSum(2, per, count), 0])
    expect(slotPasses(rx)).toBeGreaterThan(0)
    const s = rx.statistics()
    expect([s.currentBufferUsed, s.tasksWaitingSend, s.tasksWaitingReceive]).toEqual([0, 0, 0])
    expectRingInvariants(ringOf(rx))
    rx.close()
  })

  it('producers (async x2, sync, nowait) x consumers (sync, many, async, asyncMany) in workers: each value once, per-producer order', async () => {
    const [tx, rx] = openZero()
    const per = 1_000_000
    const count = 1000 * STRESS
    const modes = ['async', 'async', 'sync', 'nowait']
    const producers = modes.map((m, p) => runWorker<number>('produceTagged', tx.clone(), p, per, count, m))
    const consumers = ['sync', 'many', 'async', 'asyncMany'].map((m) =>
      runWorker<[number, number, number]>('consumeTagged', rx.clone(), modes.length, per, m),
    )
    await expectExactThroughSlot(tx, rx, producers, consumers, count, tagSum(modes.length, per, count))
  })

  it('numbers on the structured codec go through the slot as Float64s and come back exactly (-0, NaN, past int32 and 2^53, infinities), between strings, in order', async () => {
    const [tx, rx] = openZero<unknown>('structured')
    const count = 2000 * STRESS
    const producer = runWorker<number>('produceSpecial', tx.clone(), count, 'async')
    tx.close()
    const got: unknown[] = []
    await run(async () => {
      for await (const v of rx) got.push(v)
    })
    expect(await producer).toBe(count)
    expect(got.length).toBe(count)
    for (let k = 0; k < count; k++) if (!Object.is(got[k], specialValue(k))) expect([k, got[k]]).toEqual([k, specialValue(k)])
    expect(slotPasses(rx)).toBeGreaterThan(0)
    expectRingInvariants(ringOf(rx))
    rx.close()
  })

  it('mixed values on the structured codec (numbers through the slot as Float64s, strings and objects as bytes): async producers x consumers (sync, many, async, asyncMany) in workers, each value once, exact, per-producer order', async () => {
    const [tx, rx] = openZero<unknown>('structured')
    const per = 1_000_000
    const count = 1000 * STRESS
    const producers = [0, 1].map((p) => runWorker<number>('produceMixed', tx.clone(), p, per, count, 'async'))
    const consumers = ['sync', 'many', 'async', 'asyncMany'].map((m) =>
      runWorker<[number, number, number]>('consumeMixed', rx.clone(), 2, per, m),
    )
    await expectExactThroughSlot(tx, rx, producers, consumers, count, tagSum(2, per, count))
  })

  it('structured values: short ones through the slot, long ones (out of line) through the lock, one order per producer', async () => {
    type V = { p: number; i: number; pad: string }
    const [tx, rx] = openZero<V>('structured')
    const count = 800 * STRESS
    const producers = [0, 1].map((p) => runWorker<number>('produceSized', tx.clone(), p, count, 'async'))
    const consumers = ['async', 'sync'].map((m) => runWorker<[number, number, number]>('consumeSized', rx.clone(), 2, m))
    await expectExactThroughSlot(tx, rx, producers, consumers, count, count * (count - 1))
  })

  it('receiveNowait takes a value its sender spins on in the slot: every value once, in order', async () => {
    const [tx, rx] = openZero()
    const count = 2000 * STRESS
    const producer = runWorker<void>('produceAsync', tx, 0, count)
    const got: number[] = []
    while (got.length < count) {
      try {
        got.push(rx.receiveNowait())
      } catch (e) {
        if (!(e instanceof WouldBlock)) throw e
        await new Promise((r) => setImmediate(r)) // the sender is not in the slot yet
      }
    }
    await producer
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i))
    expect(slotPasses(rx)).toBeGreaterThan(0)
    rx.close()
  })

  it('a sender whose spin ran out withdrew its value from the slot and waits registered: received once, nothing left behind', async () => {
    for (let lap = 0; lap < 5 * STRESS; lap++) {
      const [tx, rx] = openZero()
      const producer = runWorker<void>('produceAsync', tx, 41, 1)
      // Nobody receives until the sender gave up spinning and registered (its value is an offer now).
      await waitFor(() => rx.statistics().tasksWaitingSend === 1)
      expect(ringOf(rx).zReady()).toBe(false)
      expect(await run(() => rx.receive())).toBe(41)
      await producer
      expect(() => rx.receiveNowait()).toThrow(/EndOfChannel|every send handle/)
      // Once through the slot: published, then withdrawn (the head moved past it once).
      expect(slotPasses(rx)).toBe(1)
      expectRingInvariants(ringOf(rx))
      rx.close()
    }
  })

  it('the last receiver closes while a sender spins in the slot or waits: BrokenResourceError, and every send that completed was received', async () => {
    for (let lap = 0; lap < 10 * STRESS; lap++) {
      const [tx, rx] = openZero()
      const sender = runWorker<number>('sendTaggedUntilBroken', tx, 0, 1, 'async')
      let received = 0
      await run(async () => {
        for (let k = 0; k < 50 + lap * 7; k++) {
          expect(await rx.receive()).toBe(received)
          received++
        }
      })
      rx.close()
      // The send in flight when rx closed raised BrokenResourceError: the completed ones are exactly those received.
      expect(await sender).toBe(received)
    }
  })
})
