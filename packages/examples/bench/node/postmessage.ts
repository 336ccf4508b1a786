/**
 * postmessage: the baseline that shared channels replace — a worker thread sends N values to
 * the main thread with one `postMessage` per value.
 *
 * usage: postmessage.ts <int32|structured> <n>
 *   int32      -> shared_int32_throughput: the values are the integers 0..N-1
 *   structured -> shared_structured_throughput: the values are { seq: i, tag: 'item' }
 *
 * The clock starts when the main thread tells the (already started and warmed-up) worker to
 * go and stops when the last value has arrived. postMessage has no backpressure, so the
 * worker never waits; that is the best case for this baseline.
 */
import { Worker } from 'node:worker_threads'
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../lib/program.ts'

const kind = stringArg(0, 'int32|structured', ['int32', 'structured'] as const)
const n = intArg(1, 'n')

// Plain JavaScript so the worker needs no TypeScript loader.
const workerSource = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', ({ n, structured }) => {
  if (structured) for (let i = 0; i < n; i++) parentPort.postMessage({ seq: i, tag: 'item' })
  else for (let i = 0; i < n; i++) parentPort.postMessage(i)
})
`

const worker = new Worker(workerSource, { eval: true })

function transfer(count: number): Promise<OrderCheck> {
  return new Promise((resolve) => {
    const check = new OrderCheck(1, count)
    const onMessage = (v: number | { seq: number }): void => {
      check.see(typeof v === 'number' ? v : v.seq)
      if (check.count === count) {
        worker.off('message', onMessage)
        resolve(check)
      }
    }
    worker.on('message', onMessage)
    worker.postMessage({ n: count, structured: kind === 'structured' })
  })
}

await transfer(Math.max(1, Math.floor(n / 10))) // warm-up, untimed
const t0 = nowNs()
const check = await transfer(n)
const elapsed = nowNs() - t0
await worker.terminate()
emit({
  benchmark: kind === 'int32' ? 'shared_int32_throughput' : 'shared_structured_throughput',
  impl: 'postmessage',
  metric: 'ns_per_item',
  value: elapsed / n,
  unit: 'ns',
  checksum: check.checksum(),
  size: String(n),
})
