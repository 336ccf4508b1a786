/** Shared channels with worker tasks, as users write them (the runtime's Piscina pool). */
import { describe, expect, it } from 'vitest'
import { CancelScope, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { EndOfChannel, openSharedChannel } from '../src/index.js'
import type * as Tasks from './fixtures/shared-tasks.js'

const tasks = new URL('./fixtures/shared-tasks.ts', import.meta.url)
const produceSync = workerTask<typeof Tasks.produceSync>(tasks, 'produceSync')
const produceAsync = workerTask<typeof Tasks.produceAsync>(tasks, 'produceAsync')
const consumeAsync = workerTask<typeof Tasks.consumeAsync>(tasks, 'consumeAsync')
const sendChannels = workerTask<typeof Tasks.sendChannels>(tasks, 'sendChannels')
const holdForever = workerTask<typeof Tasks.holdForever>(tasks, 'holdForever')
const keepEndpoint = workerTask<typeof Tasks.keepEndpoint>(tasks, 'keepEndpoint')

describe('shared channels with worker tasks', () => {
  it('producers in workers, consumer on main: every value once; endpoints move as arguments', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(16, { codec: 'int32' })
      let n = 0
      let sum = 0
      await openNursery(async (nursery) => {
        nursery.startSoon(produceSync, tx.clone(), 0, 1000)
        nursery.startSoon(produceAsync, tx.clone(), 1000, 1000)
        tx.close()
        for await (const v of rx) n++, (sum += v)
      })
      expect(n).toBe(2000)
      expect(sum).toBe((1999 * 2000) / 2)
      expect(() => tx.clone()).toThrow(/closed/)
    })
  })

  it('an endpoint passed to a worker task is moved: the local handle throws ClosedResourceError', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
      const result = runInWorker(consumeAsync, rx)
      expect(() => rx.receiveNowait()).toThrow(/moved to another thread/)
      await tx.send(5)
      tx.close()
      expect(await result).toEqual([1, 5])
    })
  })

  it('channel of channels with every producer in a worker', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<{ receive(): Promise<number>; close(): void }>(2)
      let sum = 0
      await openNursery(async (nursery) => {
        nursery.startSoon(sendChannels, tx as never, 30)
        for await (const r of rx) {
          sum += await r.receive()
          r.close()
        }
      })
      expect(sum).toBe((29 * 30) / 2)
    })
  })

  it('a worker task that returns without closing its endpoint: the runtime closes it, receivers see EndOfChannel', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
      await runInWorker(keepEndpoint, tx)
      await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    })
  })

  it('a cancelled worker task closes the endpoints it owns', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
      const [readyTx, readyRx] = openSharedChannel<number>(0, { codec: 'int32' })
      const scope = new CancelScope()
      await openNursery(async (nursery) => {
        nursery.startSoon(async () => {
          await scope.run(() => runInWorker(holdForever, tx, readyTx))
        })
        expect(await readyRx.receive()).toBe(1)
        scope.cancel()
        await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
      })
      expect(scope.cancelledCaught).toBe(true)
      await expect(readyRx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    })
  })
})
