/**
 * cpu_parallel in gotrio: K producers count primes by trial division in disjoint ranges and
 * send their counts to one consumer.
 *
 * usage: cpu_parallel.ts <workers|main> <K> <range-per-producer>
 *   workers -> gotrio-workers: K worker tasks on the pool (default size: one thread per core)
 *              send through a shared channel to the consumer on the main thread.
 *   main    -> gotrio-main: K ordinary tasks on the main thread and a memory channel — what
 *              Trio's plain tasks do, and like them it cannot use a second core.
 * Producer k counts the primes in [k*R, (k+1)*R). The one-thread baseline (the same K ranges
 * in a plain loop on the main thread) runs in the same process before the parallel run;
 * speed-up = baseline seconds / parallel seconds.
 */
import { countPrimes, emit, intArg, nowNs, stringArg } from '../lib/program.js'
import { loadGotrio, type SendChannel, type SharedSendChannel } from './api.js'

const variant = stringArg(0, 'workers|main', ['workers', 'main'] as const)
const k = intArg(1, 'K')
const r = intArg(2, 'range-per-producer')
const impl = variant === 'workers' ? 'gotrio-workers' : 'gotrio-main'

const api = loadGotrio('cpu_parallel', impl, variant === 'workers'
  ? { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openSharedChannel'] }
  : { runtime: ['run', 'openNursery'], channels: ['openMemoryChannel'] })

if (api) {
  const { rt, ch } = api
  const countTask = rt.workerTask<(s: SharedSendChannel<number>, lo: number, hi: number) => Promise<void>>(
    new URL('./tasks.ts', import.meta.url), 'countAndSend')

  async function countOnMain(s: SendChannel<number>, lo: number, hi: number): Promise<void> {
    await using tx = s
    await tx.send(countPrimes(lo, hi))
  }

  async function parallel(range: number): Promise<number> {
    let total = 0
    await rt.openNursery(async (nursery) => {
      if (variant === 'workers') {
        const [s, rx] = ch.openSharedChannel<number>(0)
        {
          await using tx = s
          for (let i = 0; i < k; i++) nursery.startSoon(countTask, tx.clone(), i * range, (i + 1) * range)
        }
        await using counts = rx
        for await (const count of counts) total += count
      } else {
        const [s, rx] = ch.openMemoryChannel<number>(0)
        {
          await using tx = s
          for (let i = 0; i < k; i++) nursery.startSoon(countOnMain, tx.clone(), i * range, (i + 1) * range)
        }
        await using counts = rx
        for await (const count of counts) total += count
      }
    })
    return total
  }

  await rt.run(async () => {
    // Warm-up, untimed: compiles countPrimes here and in every pool thread, starts the pool.
    const warm = Math.max(1, Math.floor(r / 100))
    for (let i = 0; i < k; i++) countPrimes(i * warm, (i + 1) * warm)
    await parallel(warm)

    const t0 = nowNs()
    let seq = 0
    for (let i = 0; i < k; i++) seq += countPrimes(i * r, (i + 1) * r)
    const t1 = nowNs()
    const par = await parallel(r)
    const t2 = nowNs()
    if (seq !== par) throw new Error(`one-thread count ${seq} != parallel count ${par}`)
    const seqS = (t1 - t0) / 1e9
    const parS = (t2 - t1) / 1e9
    const size = `${k}x${r}`
    emit({ benchmark: 'cpu_parallel', impl, metric: 'seconds', value: parS, unit: 's', checksum: String(par), size })
    emit({ benchmark: 'cpu_parallel', impl, metric: 'speedup', value: seqS / parS, unit: 'x', checksum: String(par), size })
  })
}
