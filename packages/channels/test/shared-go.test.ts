/**
 * Ports of Go's runtime/chan_test.go to shared channels: TestChan (every
 * capacity 0..N: blocking, non-blocking, close drains then ends, FIFO, 4x4
 * producers/consumers each value exactly once) and TestMultiConsumer (many
 * worker consumers: exact count and sum). Tasks synchronise with
 * waitAllTasksBlocked and channel events, never with time.
 */
import { describe, expect, it } from 'vitest'
import { openNursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { EndOfChannel, WouldBlock, openSharedChannel } from '../src/index.js'
import { runWorker } from './fixtures/run-worker.js'

const N = 6
const STRESS = Number(process.env.GOTRIO_STRESS ?? 1)

describe('Go TestChan on shared channels', () => {
  for (let cap = 0; cap <= N; cap++) {
    it(`capacity ${cap}: receive from empty blocks; send to full blocks; close drains then ends; FIFO; 4x4 exactly once`, async () => {
      // Ensure that receive from empty chan blocks.
      {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        let got: number | undefined
        await openNursery(async (n) => {
          n.startSoon(async () => {
            got = await rx.receive()
          })
          await waitAllTasksBlocked()
          expect(got).toBeUndefined()
          expect(rx.statistics().tasksWaitingReceive).toBe(1)
          await tx.send(42)
        })
        expect(got).toBe(42)
        expect(() => rx.receiveNowait()).toThrow(WouldBlock) // non-blocking receive from empty
      }
      // Ensure that send to full chan blocks.
      {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        for (let i = 0; i < cap; i++) tx.sendNowait(i)
        expect(() => tx.sendNowait(cap)).toThrow(WouldBlock) // non-blocking send to full
        let sent = false
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await tx.send(cap)
            sent = true
          })
          await waitAllTasksBlocked()
          expect(sent).toBe(false)
          for (let i = 0; i <= cap; i++) expect(await rx.receive()).toBe(i)
        })
        expect(sent).toBe(true)
      }
      // Ensure that close drains the buffer, then receive ends; close unblocks receive.
      {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        for (let i = 0; i < cap; i++) tx.sendNowait(i)
        tx.close()
        for (let i = 0; i < cap; i++) expect(await rx.receive()).toBe(i)
        await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
        const [tx2, rx2] = openSharedChannel<number>(cap, { codec: 'int32' })
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await expect(rx2.receive()).rejects.toBeInstanceOf(EndOfChannel)
          })
          await waitAllTasksBlocked()
          tx2.close()
        })
      }
      // Send 100 integers from a worker thread; receive them non-corrupted in FIFO order.
      {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        const w = runWorker('produceSync', tx, 0, 100)
        for (let i = 0; i < 100; i++) expect(await rx.receive()).toBe(i)
        await w
        await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
      }
      // Send 1000 integers in 4 tasks; receive in 4 tasks; each value exactly once.
      {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        const P = 4
        const L = 1000 * STRESS
        const seen = new Uint8Array(L)
        await openNursery(async (n) => {
          for (let p = 0; p < P; p++) {
            const t = tx.clone()
            n.startSoon(async () => {
              for (let i = 0; i < L; i++) if (i % P === p) await t.send(i)
              t.close()
            })
          }
          for (let p = 0; p < P; p++) {
            const r = rx.clone()
            n.startSoon(async () => {
              for await (const v of r) seen[v]!++
              r.close()
            })
          }
          tx.close()
          rx.close()
        })
        expect(seen.every((c) => c === 1)).toBe(true)
      }
    })
  }
})

describe('Go TestMultiConsumer on shared channels', () => {
  it('4 worker consumers sum what main sends through a size-0 channel and report back through a shared channel: exact count and sum', async () => {
    const niter = 2000 * STRESS
    const [tx, rx] = openSharedChannel<number>(0, { codec: 'int32' })
    const consumers = [0, 1, 2, 3].map(() => runWorker<[number, number]>('consumeAsync', rx.clone()))
    rx.close()
    let expectedSum = 0
    for (let i = 0; i < niter; i++) {
      const v = i * 7 + 1
      expectedSum += v
      await tx.send(v)
    }
    tx.close()
    const res = await Promise.all(consumers)
    expect(res.reduce((s, r) => s + r[0], 0)).toBe(niter)
    expect(res.reduce((s, r) => s + r[1], 0)).toBe(expectedSum)
  })
})
