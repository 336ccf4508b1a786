/** Shared channels across real worker threads (raw worker_threads; see fixtures/run-worker.ts). */
import { describe, expect, it } from 'vitest'
import { openNursery } from '@gotrio/runtime'
import { BrokenResourceError, EndOfChannel, openSharedChannel } from '../src/index.js'
import { closeHandlesOfDeadThread } from '../src/shared/index.js'
import { runWorker, startWorker, waitFor } from './fixtures/run-worker.js'

const N = 2000 * Number(process.env.GOTRIO_STRESS ?? 1)

describe('shared channel across threads', () => {
  it('worker sendSync -> main for await, int32, exact FIFO', async () => {
    const [tx, rx] = openSharedChannel<number>(16, { codec: 'int32' })
    const w = runWorker('produceSync', tx, 0, N)
    let expected = 0
    for await (const v of rx) expect(v).toBe(expected++)
    expect(expected).toBe(N)
    await w
    rx.close()
  })

  it('main send -> worker receiveSync, structured', async () => {
    const [tx, rx] = openSharedChannel<unknown>(4)
    const w = runWorker<unknown[]>('collectSync', rx)
    const values = [1n, new Map([[1, 2]]), new Date(3), new Float64Array([1.5]), 'x'.repeat(10_000), { a: [1, 2] }]
    for (const v of values) await tx.send(v)
    tx.close()
    expect(await w).toEqual(values)
  })

  it('4 worker producers x 4 worker consumers, each value exactly once', async () => {
    for (const cap of [0, 1, 7]) {
      const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
      const per = Math.floor(N / 4)
      const producers = [0, 1, 2, 3].map((k) => runWorker(k % 2 ? 'produceSync' : 'produceAsync', tx.clone(), k * per, per))
      const consumers = [0, 1, 2, 3].map((k) => runWorker<[number, number]>(k % 2 ? 'consumeSync' : 'consumeAsync', rx.clone()))
      tx.close()
      rx.close()
      await Promise.all(producers)
      const res = await Promise.all(consumers)
      const count = res.reduce((s, r) => s + r[0], 0)
      const sum = res.reduce((s, r) => s + r[1], 0)
      expect(count).toBe(4 * per)
      expect(sum).toBe(((4 * per - 1) * 4 * per) / 2)
    }
  })

  it('close in one thread wakes a receiver blocked in another', async () => {
    const [tx, rx] = openSharedChannel<number>(0, { codec: 'int32' })
    const w = runWorker<string>('receiveOnce', rx)
    await waitFor(() => tx.statistics().tasksWaitingReceive === 1)
    tx.close()
    expect(await w).toBe('EndOfChannel')
  })

  it('closing the last receiver breaks a sender blocked in another thread', async () => {
    const [tx, rx] = openSharedChannel<number>(2, { codec: 'int32' })
    const w = runWorker<string>('sendUntilBroken', tx)
    await waitFor(() => rx.statistics().tasksWaitingSend === 1)
    rx.close()
    expect(await w).toBe('BrokenResourceError')
  })

  it("a dead thread's handles are closed by the worker-exit hook", async () => {
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    const [tx2, rx2] = openSharedChannel<number>(1, { codec: 'int32' })
    const { worker, result } = startWorker('holdAndDie', tx, rx2)
    result.catch(() => {})
    const threadId = worker.threadId
    await new Promise((r) => worker.once('exit', r))
    expect(rx.statistics().openSendChannels).toBe(1) // still counted: nobody closed it
    closeHandlesOfDeadThread(threadId)
    await expect(rx.receive()).rejects.toThrow(EndOfChannel)
    await expect(tx2.send(1)).rejects.toThrow(BrokenResourceError)
    rx.close()
    tx2.close()
  })

  it('a thread that dies inside selectSync: the exit hook forgets its select watchers with its handles', async () => {
    const [ta, ra] = openSharedChannel<number>(0, { codec: 'int32' })
    const [tb, rb] = openSharedChannel<number>(0, { codec: 'int32' })
    const { worker, result } = startWorker('selectSyncForever', ra.clone(), tb.clone())
    result.catch(() => {})
    // Its two watchers are counted (a receive case on a, a send case on b).
    await waitFor(() => ra.statistics().tasksWaitingReceive === 1 && rb.statistics().tasksWaitingSend === 1)
    const threadId = worker.threadId
    await worker.terminate()
    closeHandlesOfDeadThread(threadId)
    expect([ra.statistics().tasksWaitingReceive, tb.statistics().tasksWaitingSend]).toEqual([0, 0])
    expect([ra.statistics().openReceiveChannels, tb.statistics().openSendChannels]).toEqual([1, 1])
    // The counts plain operations rely on are right: a plain receiver here is handed a size-0 value.
    const got = ra.receive()
    await waitFor(() => ra.statistics().tasksWaitingReceive === 1)
    ta.sendNowait(5)
    expect(await got).toBe(5)
    for (const c of [ta, ra, tb, rb]) c.close()
  })

  it('the handles of 20 dead threads holding clones of one channel at once are all closed', async () => {
    const THREADS = 20 // more than the 8 owner entries a channel had before
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    const workers = Array.from({ length: THREADS }, () => startWorker('holdAndDie', tx.clone()))
    tx.close()
    for (const { result } of workers) result.catch(() => {})
    const ids = workers.map(({ worker }) => worker.threadId)
    await Promise.all(workers.map(({ worker }) => new Promise((r) => worker.once('exit', r))))
    expect(rx.statistics().openSendChannels).toBe(THREADS) // still counted: nobody closed them
    for (const id of ids) closeHandlesOfDeadThread(id)
    expect(rx.statistics().openSendChannels).toBe(0)
    await expect(rx.receive()).rejects.toThrow(EndOfChannel)
    rx.close()
  })

  it('channel of channels: every reply channel is created and used in workers', async () => {
    const [tx, rx] = openSharedChannel<SharedReceiveLike>(2)
    const w = runWorker('sendChannels', tx, 50)
    let sum = 0
    for await (const r of rx) {
      sum += await r.receive()
      r.close()
    }
    await w
    expect(sum).toBe((49 * 50) / 2)
    rx.close()
  })

  it('requests carry reply channels to a worker (seed shape)', async () => {
    const [tx, rx] = openSharedChannel<[number, unknown]>(4)
    const w = runWorker<number>('doubler', rx)
    await openNursery(async (n) => {
      for (let i = 0; i < 20; i++) {
        n.startSoon(async () => {
          const [rt, rr] = openSharedChannel<number>(0, { codec: 'int32' })
          await tx.send([i, rt])
          expect(rt.statistics).toBeDefined()
          expect(await rr.receive()).toBe(i * 2)
          rr.close()
        })
      }
    })
    tx.close()
    expect(await w).toBe(20)
  })
})

type SharedReceiveLike = { receive(): Promise<number>; close(): void }
