/**
 * node-workers-raw: cpu_parallel's Node floor. The same K shares on plain `worker_threads`, one
 * per core, with no library: no pool, no channel, no runtime, no AsyncLocalStorage. Worker w
 * counts shares w, w + W, w + 2W, ... (two each with K = 2 × cores, as the pool deals
 * gotrio-workers' tasks) and posts its sum. The counting functions are lib/program.ts's own,
 * sent to the workers as source text, so both sides run the same code.
 *
 * usage: cpu_parallel_raw.ts <K> <range-per-producer> <block> <pairs>
 *
 * The same warm-up, pairs and statistic as gotrio/cpu_parallel.ts: <pairs> (one-thread,
 * parallel) pairs, reported as the median pair's speed-up and the median parallel seconds.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { countPrimes, countPrimesInBlocks, emit, intArg, isPrime, median, nowNs } from '../lib/program.js'

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
    w.once('message', resolve)
    w.once('error', reject)
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

// Warm-up, untimed: compiles the counting loop here and in every worker.
const warm = Math.max(1, Math.floor(r / 100))
for (let i = 0; i < k; i++) countPrimesInBlocks(i, k, k * warm, block)
await parallel(warm)

const speedups: number[] = []
const seconds: number[] = []
let par = 0
for (let p = 0; p < pairs; p++) {
  const t0 = nowNs()
  let seq = 0
  for (let i = 0; i < k; i++) seq += countPrimesInBlocks(i, k, k * r, block)
  const t1 = nowNs()
  par = await parallel(r)
  const t2 = nowNs()
  if (seq !== par) throw new Error(`one-thread count ${seq} != parallel count ${par}`)
  speedups.push((t1 - t0) / (t2 - t1))
  seconds.push((t2 - t1) / 1e9)
}
await Promise.all(workers.map((w) => w.terminate()))
const size = `${k}x${r}/${block}`
emit({ benchmark: 'cpu_parallel', impl: 'node-workers-raw', metric: 'seconds', value: median(seconds), unit: 's', checksum: String(par), size })
emit({ benchmark: 'cpu_parallel', impl: 'node-workers-raw', metric: 'speedup', value: median(speedups), unit: 'x', checksum: String(par), size })
