/**
 * chan_of_chan in gotrio: the seed's channel of channels, C channels x M items.
 *
 * usage: chan_of_chan.ts <main|shared> <channels> <items-per-channel>
 *   main   -> gotrio-main: memory channels throughout, every task on the main thread; the
 *             seed's Trio program line by line.
 *   shared -> gotrio-shared: each number channel is a shared channel whose producer is a worker
 *             task; channel_producer (main thread) sends their receive ends through a memory
 *             channel to the consumer.
 * Channel c carries c*M+0 .. c*M+M-1, so the runner can check every item and its order.
 */
import type { Nursery } from '@gotrio/runtime'
import { OrderCheck, emit, intArg, nowNs, stringArg, WARMUPS_ACROSS_THREADS, warmUp } from '../lib/program.ts'
import { loadGotrio, type ReceiveChannel, type SharedSendChannel } from './api.ts'

const variant = stringArg(0, 'main|shared', ['main', 'shared'] as const)
const c = intArg(1, 'channels')
const m = intArg(2, 'items-per-channel')
const impl = variant === 'main' ? 'gotrio-main' : 'gotrio-shared'

const api = loadGotrio(
  'chan_of_chan',
  impl,
  variant === 'main'
    ? { runtime: ['run', 'openNursery'], channels: ['openMemoryChannel'] }
    : { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openMemoryChannel', 'openSharedChannel'] },
)

if (api) {
  const { rt, ch } = api
  const produceTask = rt.workerTask<(s: SharedSendChannel<number>, base: number, n: number) => Promise<void>>(
    new URL('./tasks.ts', import.meta.url),
    'produce',
  )

  async function numberProducer(nursery: Nursery, base: number): Promise<ReceiveChannel<number>> {
    if (variant === 'shared') {
      const [s, r] = ch.openSharedChannel<number>(0)
      nursery.startSoon(produceTask, s, base, m)
      return r
    }
    const [s, r] = ch.openMemoryChannel<number>(0)
    nursery.startSoon(async () => {
      await using tx = s
      for (let i = 0; i < m; i++) await tx.send(base + i)
    })
    return r
  }

  async function channelProducer(nursery: Nursery, count: number): Promise<ReceiveChannel<ReceiveChannel<number>>> {
    const [s, r] = ch.openMemoryChannel<ReceiveChannel<number>>(0)
    nursery.startSoon(async () => {
      await using tx = s
      for (let k = 0; k < count; k++) {
        const numbers = await numberProducer(nursery, k * m)
        await tx.send(numbers)
      }
    })
    return r
  }

  async function consume(count: number): Promise<OrderCheck> {
    const check = new OrderCheck(count, m)
    await rt.openNursery(async (nursery) => {
      await using chOfCh = await channelProducer(nursery, count)
      for await (const numbers of chOfCh) {
        await using r = numbers
        for await (const num of r) check.see(num)
      }
    })
    return check
  }

  await rt.run(async () => {
    // Warm-ups (JIT; for `shared`, the pool and each of its threads' JIT), untimed.
    await warmUp(variant === 'shared' ? WARMUPS_ACROSS_THREADS : 1, () => consume(Math.max(1, Math.floor(c / 10))))
    const t0 = nowNs()
    const check = await consume(c)
    const elapsed = nowNs() - t0
    emit({
      benchmark: 'chan_of_chan',
      impl,
      metric: 'ns_per_item',
      value: elapsed / (c * m),
      unit: 'ns',
      checksum: check.checksum(),
      size: `${c}x${m}`,
    })
  })
}
