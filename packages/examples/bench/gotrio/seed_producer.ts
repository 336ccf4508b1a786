/**
 * seed_producer_{unbuffered,buffered} in gotrio: the seed's producer -> consumer, N integers.
 *
 * usage: seed_producer.ts <main|shared> <buffer> <n>     (buffer 0 = unbuffered, 1024 = buffered)
 *   main   -> gotrio-main: a memory channel, producer task and consumer on the main thread.
 *             This is the seed's Trio program line by line.
 *   shared -> gotrio-shared: a shared channel (default codec), the producer a worker task on
 *             the pool (`go func()` on another core), the consumer on the main thread.
 */
import type { Nursery } from '@gotrio/runtime'
import { OrderCheck, emit, intArg, nowNs, stringArg, WARMUPS_ACROSS_THREADS, warmUp } from '../lib/program.ts'
import { loadGotrio, type ReceiveChannel, type SharedSendChannel } from './api.ts'

const variant = stringArg(0, 'main|shared', ['main', 'shared'] as const)
const buffer = intArg(1, 'buffer', 0)
const n = intArg(2, 'n')
const benchmark = buffer === 0 ? 'seed_producer_unbuffered' : 'seed_producer_buffered'
const impl = variant === 'main' ? 'gotrio-main' : 'gotrio-shared'

const api = loadGotrio(
  benchmark,
  impl,
  variant === 'main'
    ? { runtime: ['run', 'openNursery'], channels: ['openMemoryChannel'] }
    : { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openSharedChannel'] },
)

if (api) {
  const { rt, ch } = api
  const produceTask = rt.workerTask<(s: SharedSendChannel<number>, base: number, n: number) => Promise<void>>(
    new URL('./tasks.ts', import.meta.url),
    'produce',
  )

  // The seed's producer(): opens a channel, starts the sender, returns the receiver.
  async function producer(nursery: Nursery, count: number): Promise<ReceiveChannel<number>> {
    if (variant === 'shared') {
      const [s, r] = ch.openSharedChannel<number>(buffer)
      nursery.startSoon(produceTask, s, 0, count)
      return r
    }
    const [s, r] = ch.openMemoryChannel<number>(buffer)
    nursery.startSoon(async () => {
      await using tx = s
      for (let i = 0; i < count; i++) await tx.send(i)
    })
    return r
  }

  // The seed's main(), summing instead of printing.
  async function consume(count: number): Promise<OrderCheck> {
    const check = new OrderCheck(1, count)
    await rt.openNursery(async (nursery) => {
      await using r = await producer(nursery, count)
      for await (const x of r) check.see(x)
    })
    return check
  }

  await rt.run(async () => {
    // Warm-ups (JIT; for `shared`, the pool and each of its threads' JIT), untimed.
    await warmUp(variant === 'shared' ? WARMUPS_ACROSS_THREADS : 1, () => consume(Math.max(1, Math.floor(n / 10))))
    const t0 = nowNs()
    const check = await consume(n)
    const elapsed = nowNs() - t0
    emit({ benchmark, impl, metric: 'ns_per_item', value: elapsed / n, unit: 'ns', checksum: check.checksum(), size: String(n) })
  })
}
