/**
 * cpu_parallel in gotrio: K producers count primes by trial division in disjoint shares of
 * [0, K*R) and send their counts to one consumer.
 *
 * usage: cpu_parallel.ts <workers|main> <K> <range-per-producer> <block> <pairs>
 *   workers -> gotrio-workers: K worker tasks on the pool (default size: one thread per core)
 *              send through a shared channel to the consumer on the main thread.
 *   main    -> gotrio-main: K ordinary tasks on the main thread and a memory channel — what
 *              Trio's plain tasks do, and like them it cannot use a second core.
 * The numbers [0, K*R) are cut into blocks of <block> numbers, dealt round-robin: producer k
 * counts blocks k, k+K, k+2K, ... (R numbers each when <block> divides R), so every producer
 * gets an equal share of small and large numbers. The one-thread baseline (the same K shares in
 * a plain loop on the main thread) runs in the same process just before each parallel run:
 * <pairs> such (baseline, parallel) pairs, and the program reports the median pair's speed-up
 * (baseline seconds / parallel seconds) and the median parallel seconds (README: "Pairs").
 */
import { countPrimesInBlocks, cpuParallelPairs, intArg, stringArg } from '../lib/program.ts'
import { loadGotrio, type SendChannel, type SharedSendChannel } from './api.ts'

const variant = stringArg(0, 'workers|main', ['workers', 'main'] as const)
const k = intArg(1, 'K')
const r = intArg(2, 'range-per-producer')
const block = intArg(3, 'block')
const pairs = intArg(4, 'pairs')
const impl = variant === 'workers' ? 'gotrio-workers' : 'gotrio-main'

const api = loadGotrio(
  'cpu_parallel',
  impl,
  variant === 'workers'
    ? { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openSharedChannel'] }
    : { runtime: ['run', 'openNursery'], channels: ['openMemoryChannel'] },
)

if (api) {
  const { rt, ch } = api
  const countTask = rt.workerTask<(s: SharedSendChannel<number>, k: number, K: number, limit: number, block: number) => Promise<void>>(
    new URL('./tasks.ts', import.meta.url),
    'countAndSend',
  )

  async function countOnMain(s: SendChannel<number>, i: number, limit: number): Promise<void> {
    await using tx = s
    await tx.send(countPrimesInBlocks(i, k, limit, block))
  }

  async function parallel(range: number): Promise<number> {
    const limit = k * range
    let total = 0
    await rt.openNursery(async (nursery) => {
      if (variant === 'workers') {
        const [s, rx] = ch.openSharedChannel<number>(0)
        {
          await using tx = s
          for (let i = 0; i < k; i++) nursery.startSoon(countTask, tx.clone(), i, k, limit, block)
        }
        await using counts = rx
        for await (const count of counts) total += count
      } else {
        const [s, rx] = ch.openMemoryChannel<number>(0)
        {
          await using tx = s
          for (let i = 0; i < k; i++) nursery.startSoon(countOnMain, tx.clone(), i, limit)
        }
        await using counts = rx
        for await (const count of counts) total += count
      }
    })
    return total
  }

  // The warm-up in cpuParallelPairs also starts the pool and compiles the counting loop in its threads.
  await rt.run(() => cpuParallelPairs(impl, k, r, block, pairs, parallel))
}
