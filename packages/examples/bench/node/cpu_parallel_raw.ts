/**
 * node-workers-raw: cpu_parallel's Node floor. The same K shares on plain `worker_threads`, one
 * per core, with no library: no pool, no channel, no runtime, no AsyncLocalStorage. Worker w
 * counts shares w, w + W, w + 2W, ... (two each with K = 2 × cores, as the pool deals
 * gotrio-workers' tasks) and posts its sum. The counting functions are lib/program.ts's own,
 * sent to the workers as source text, so both sides run the same code.
 *
 * usage: cpu_parallel_raw.ts <K> <range-per-producer> <block> <pairs>
 *
 * The same warm-up, pairs and statistic as gotrio/cpu_parallel.ts (both call cpuParallelPairs in
 * lib/program.ts): <pairs> (one-thread, parallel) pairs, reported as the median pair's speed-up
 * and the median parallel seconds.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { countPrimes, countPrimesInBlocks, cpuParallelPairs, intArg, isPrime } from '../lib/program.ts'

const k = intArg(0, 'K')
const r = intArg(1, 'range-per-producer')
const block = intArg(2, 'block')
const pairs = intArg(3, 'pairs')
const threads = availableParallelism()

const workerSource = `
const { parentPort } = require('node:worker_threads')
${isPrime.toString()}
${countPrimes.toString()}
${countPrimesInBlocks.toString()}
parentPort.on('message', ({ shares, step, limit, block }) => {
  let c = 0
  for (const s of shares) c += countPrimesInBlocks(s, step, limit, block)
  parentPort.postMessage(c)
})
`
const workers = Array.from({ length: threads }, () => new Worker(workerSource, { eval: true }))

function ask(w: Worker, msg: { shares: number[]; step: number; limit: number; block: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    w.once('error', reject)
    w.once('message', (count: number) => {
      w.off('error', reject)
      resolve(count)
    })
    w.postMessage(msg)
  })
}

async function parallel(range: number): Promise<number> {
  const limit = k * range
  const counts = await Promise.all(
    workers.map((w, i) => {
      const shares: number[] = []
      for (let s = i; s < k; s += threads) shares.push(s)
      return ask(w, { shares, step: k, limit, block })
    }),
  )
  return counts.reduce((a, b) => a + b, 0)
}

await cpuParallelPairs('node-workers-raw', k, r, block, pairs, parallel)
await Promise.all(workers.map((w) => w.terminate()))
