/**
 * select in gotrio: one consumer selects over two buffered channels (1024) that two producers
 * keep full, so most selects find both cases ready (Go's BenchmarkSelectUncontended shape with
 * producers). Reports ns per select (= per value).
 *
 * usage: select.ts <main|shared> <n>      (n is rounded down to a multiple of 2)
 *   main   -> gotrio-main: memory channels, 2 producer tasks on the main thread.
 *   shared -> gotrio-shared: shared channels (int32), 2 producer worker tasks; the select runs on
 *             the main thread and is woken across threads when it finds nothing.
 * Producer p sends p*Q+0 .. p*Q+Q-1 (Q = N/2) on its channel. The two receive cases are made
 * once and reused (a case holds no state of a call), as a hot loop should.
 */
import { OrderCheck, emit, intArg, nowNs, stringArg, WARMUPS_ACROSS_THREADS, warmUp } from '../lib/program.ts'
import * as channels from '@gotrio/channels'
import { loadGotrio, type ReceiveChannel, type SendChannel, type SharedSendChannel } from './api.ts'

const PRODUCERS = 2
const BUFFER = 1024
const variant = stringArg(0, 'main|shared', ['main', 'shared'] as const)
const q = Math.floor(intArg(1, 'n', PRODUCERS) / PRODUCERS)
const impl = variant === 'main' ? 'gotrio-main' : 'gotrio-shared'

const api = loadGotrio(
  'select',
  impl,
  variant === 'main'
    ? { runtime: ['run', 'openNursery'], channels: ['openMemoryChannel'] }
    : { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openSharedChannel'] },
)
const { select, onReceive } = channels as Partial<typeof channels>
if (api && (typeof select !== 'function' || typeof onReceive !== 'function')) {
  console.log(JSON.stringify({ benchmark: 'select', impl, unavailable: '@gotrio/channels.select not exported yet' }))
} else if (api && select && onReceive) {
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
      const rxs: ReceiveChannel<number>[] = []
      for (let p = 0; p < PRODUCERS; p++) {
        if (variant === 'shared') {
          const [s, r] = ch.openSharedChannel<number>(BUFFER, { codec: 'int32' })
          nursery.startSoon(produceTask, s, p * count, count)
          rxs.push(r)
        } else {
          const [s, r] = ch.openMemoryChannel<number>(BUFFER)
          nursery.startSoon(producer, s, p * count, count)
          rxs.push(r)
        }
      }
      // A producer closes its channel when done; its case then ends (onEnd) and leaves the list.
      const all = rxs.map((r, k) => onReceive!(r, undefined, () => -1 - k))
      let cases = all
      for (let got = 0; got < PRODUCERS * count; ) {
        const x = await select!(...cases)
        if (x >= 0) check.see(x), got++
        else cases = cases.filter((c) => c !== all[-1 - x])
      }
      for (const r of rxs) r.close()
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
      benchmark: 'select',
      impl,
      metric: 'ns_per_item',
      value: elapsed / (q * PRODUCERS),
      unit: 'ns',
      checksum: check.checksum(),
      size: String(q * PRODUCERS),
    })
  })
}
