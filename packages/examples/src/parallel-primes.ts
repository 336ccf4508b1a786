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
import { currentTime, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { countPrimes, type primeProducer } from './workers/tasks.js'
import type * as Tasks from './workers/tasks.js'

const limit = Number(process.argv[2] ?? 8_000_000)
const chunk = 20_000
const cores = availableParallelism()
const producers = 2 * cores
const chunks = Math.ceil(limit / chunk)
const tasks = new URL('./workers/tasks.ts', import.meta.url)
const producer = workerTask<typeof primeProducer>(tasks, 'primeProducer')
const count = workerTask<typeof Tasks.countPrimes>(tasks, 'countPrimes')

function progress(done: number, primes: number): void {
  const width = 30
  const filled = Math.round((done / chunks) * width)
  const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(Math.round((done / chunks) * 100)).padStart(3)}%  primes so far: ${primes}`
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
  else if (done === chunks || done % Math.ceil(chunks / 4) === 0) console.log(line)
}

await run(async () => {
  console.log(`counting primes below ${limit} with ${producers} worker tasks on ${cores} threads`)
  // Start the pool's threads before timing: thread start-up is not the work.
  await Promise.all(Array.from({ length: cores }, () => runInWorker(count, 0, 10)))
  const t0 = currentTime()
  const [send, receive] = openSharedChannel<number>(64, { codec: 'int32' })
  let primes = 0
  let done = 0
  await openNursery(async (n) => {
    for (let p = 0; p < producers; p++) n.startSoon(producer, send.clone(), p, producers, chunk, limit)
    send.close()
    for await (const count of receive) {
      primes += count
      progress(++done, primes)
    }
  })
  const parallel = currentTime() - t0
  if (process.stdout.isTTY) process.stdout.write('\n')

  const t1 = currentTime()
  let alone = 0
  for (let lo = 0; lo < limit; lo += chunk) alone += countPrimes(lo, Math.min(lo + chunk, limit))
  const single = currentTime() - t1
  if (alone !== primes) throw new Error(`checksum mismatch: parallel ${primes}, one thread ${alone}`)

  console.log(`primes below ${limit}: ${primes}`)
  console.log(`parallel: ${(parallel / 1000).toFixed(2)} s   one thread: ${(single / 1000).toFixed(2)} s`)
  console.log(`speed-up: ${(single / parallel).toFixed(2)}x on ${cores} cores`)
})
