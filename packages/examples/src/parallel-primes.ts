/**
 * CPU-bound parallel producers: K = 2 × cores workers count primes by trial
 * division in interleaved chunks and send each chunk's count through one shared
 * channel to the main thread, which shows a progress line and sums them. Then
 * the same chunks are counted on the main thread alone, and the speed-up is
 * printed.
 *
 *   pnpm example parallel-primes [limit]
 */
import { availableParallelism } from 'node:os'
import { openSharedChannel } from '@gotrio/channels'
import { currentTime, openNursery, run, workerTask } from '@gotrio/runtime'
import { countPrimes, type primeProducer } from './workers/tasks.ts'

const limit = Number(process.argv[2] ?? 8_000_000)
const chunk = 20_000
const cores = availableParallelism()
const producers = 2 * cores
const chunks = Math.ceil(limit / chunk)
const tasks = new URL('./workers/tasks.ts', import.meta.url)
const producer = workerTask<typeof primeProducer>(tasks, 'primeProducer')

function progress(done: number, primes: number): void {
  const width = 30
  const filled = Math.round((done / chunks) * width)
  const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(Math.round((done / chunks) * 100)).padStart(3)}%  primes so far: ${primes}`
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
  else if (done === chunks || done % Math.ceil(chunks / 4) === 0) console.log(line)
}

/** Counts the primes below `below` with the producers on the pool; `show` draws the progress line. */
async function countInParallel(below: number, show: boolean): Promise<number> {
  const [send, receive] = openSharedChannel<number>(64, { codec: 'int32' })
  let primes = 0
  let done = 0
  await openNursery(async (n) => {
    for (let p = 0; p < producers; p++) n.startSoon(producer, send.clone(), p, producers, chunk, below)
    send.close()
    for await (const count of receive) {
      primes += count
      if (show) progress(++done, primes)
    }
  })
  return primes
}

/** The same chunks, counted on this thread alone. */
function countAlone(below: number): number {
  let primes = 0
  for (let lo = 0; lo < below; lo += chunk) primes += countPrimes(lo, Math.min(lo + chunk, below))
  return primes
}

await run(async () => {
  console.log(`counting primes below ${limit} with ${producers} worker tasks on ${cores} threads`)
  // Untimed warm-up on a small limit: starts the pool's threads and compiles
  // the counting loop in each of them and here, so that neither timing below
  // includes thread start-up or the compiler, which are not the work.
  const warm = Math.max(chunk * producers, Math.floor(limit / 100))
  countAlone(warm)
  await countInParallel(warm, false)

  const t0 = currentTime()
  const primes = await countInParallel(limit, true)
  const parallel = currentTime() - t0
  if (process.stdout.isTTY) process.stdout.write('\n')

  const t1 = currentTime()
  const alone = countAlone(limit)
  const single = currentTime() - t1
  if (alone !== primes) throw new Error(`checksum mismatch: parallel ${primes}, one thread ${alone}`)

  console.log(`primes below ${limit}: ${primes}`)
  console.log(`parallel: ${(parallel / 1000).toFixed(2)} s   one thread: ${(single / 1000).toFixed(2)} s`)
  console.log(`speed-up: ${(single / parallel).toFixed(2)}x on ${cores} cores`)
})
