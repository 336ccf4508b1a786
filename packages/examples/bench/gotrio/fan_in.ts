/**
 * fan_in in gotrio: 4 producers -> 1 consumer over one buffered channel (1024).
 *
 * usage: fan_in.ts <main|shared> <n>      (n is rounded down to a multiple of 4)
 *   main   -> gotrio-main: a memory channel, 4 producer tasks on the main thread.
 *   shared -> gotrio-shared: a shared channel (default codec), 4 producer worker tasks.
 * Producer p sends p*Q+0 .. p*Q+Q-1 (Q = N/4) on its own clone of the send channel, and the
 * channel ends when the last clone is closed (Trio's idiom for Go's WaitGroup + close).
 */
import { OrderCheck, emit, intArg, nowNs, stringArg, WARMUPS_ACROSS_THREADS, warmUp } from '../lib/program.ts'
import { loadGotrio, type SendChannel, type SharedSendChannel } from './api.ts'

const PRODUCERS = 4
const BUFFER = 1024
const variant = stringArg(0, 'main|shared', ['main', 'shared'] as const)
const q = Math.floor(intArg(1, 'n', PRODUCERS) / PRODUCERS)
const impl = variant === 'main' ? 'gotrio-main' : 'gotrio-shared'

const api = loadGotrio(
  'fan_in',
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

  async function producer(s: SendChannel<number>, base: number, count: number): Promise<void> {
    await using tx = s
    for (let i = 0; i < count; i++) await tx.send(base + i)
  }

  async function consume(count: number): Promise<OrderCheck> {
    const check = new OrderCheck(PRODUCERS, count)
    await rt.openNursery(async (nursery) => {
      if (variant === 'shared') {
        const [s, r] = ch.openSharedChannel<number>(BUFFER)
        {
          await using tx = s
          for (let p = 0; p < PRODUCERS; p++) nursery.startSoon(produceTask, tx.clone(), p * count, count)
        }
        await using rx = r
        for await (const x of rx) check.see(x)
      } else {
        const [s, r] = ch.openMemoryChannel<number>(BUFFER)
        {
          await using tx = s
          for (let p = 0; p < PRODUCERS; p++) nursery.startSoon(producer, tx.clone(), p * count, count)
        }
        await using rx = r
        for await (const x of rx) check.see(x)
      }
    })
    return check
  }

  await rt.run(async () => {
    // Warm-ups (JIT; for `shared`, the pool and each of its threads' JIT), untimed.
    await warmUp(variant === 'shared' ? WARMUPS_ACROSS_THREADS : 1, () => consume(Math.max(1, Math.floor(q / 10))))
    const t0 = nowNs()
    const check = await consume(q)
    const elapsed = nowNs() - t0
    emit({
      benchmark: 'fan_in',
      impl,
      metric: 'ns_per_item',
      value: elapsed / (q * PRODUCERS),
      unit: 'ns',
      checksum: check.checksum(),
      size: String(q * PRODUCERS),
    })
  })
}
