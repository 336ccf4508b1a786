/**
 * A bare compare-and-swap spin lock on one SharedArrayBuffer word, no library: the floor under
 * lock_contended's cross-thread rows (and a reference for lock_uncontended).
 *
 * usage: cas_lock.ts <uncontended|contended> <n>
 *   uncontended -> lock_uncontended/node-cas-spin: n acquire (CAS 0 -> 1) + release (store 0)
 *                  on the main thread
 *   contended   -> lock_contended/node-cas-spin: two worker threads, n/2 each, spinning on the
 *                  CAS while the other holds it; time from the first start to the last end
 * Each acquisition increments a plain counter under the lock; the checksum is "n:n".
 *
 * Layout (Int32 indices): 0 LOCK (0 free, 1 held), 16 COUNTER, 32 GO (main stores the laps).
 */
import { Worker } from 'node:worker_threads'
import { emit, intArg, nowNs, stringArg } from '../lib/program.ts'

const form = stringArg(0, 'uncontended|contended', ['uncontended', 'contended'] as const)
const n = intArg(1, 'n')
const LOCK = 0
const COUNTER = 16
const GO = 32

const spinner = `
const { workerData, parentPort } = require('node:worker_threads')
const i = new Int32Array(workerData)
parentPort.on('message', (laps) => {
  while (Atomics.load(i, ${GO}) === 0) {}
  const t0 = Number(process.hrtime.bigint())
  for (let k = 0; k < laps; k++) {
    while (Atomics.compareExchange(i, ${LOCK}, 0, 1) !== 0) {}
    i[${COUNTER}]++
    Atomics.store(i, ${LOCK}, 0)
  }
  parentPort.postMessage([t0, Number(process.hrtime.bigint())])
})
`

const i = new Int32Array(new SharedArrayBuffer(64 * 4))

async function measure(count: number): Promise<[number, number]> {
  i[COUNTER] = 0
  Atomics.store(i, GO, 0)
  if (form === 'uncontended') {
    const t0 = nowNs()
    for (let k = 0; k < count; k++) {
      while (Atomics.compareExchange(i, LOCK, 0, 1) !== 0) {}
      i[COUNTER]!++
      Atomics.store(i, LOCK, 0)
    }
    return [nowNs() - t0, i[COUNTER]!]
  }
  const spans = await Promise.all(
    workers.map(
      (w) =>
        new Promise<[number, number]>((resolve) => {
          w.once('message', resolve)
          w.postMessage(count / 2)
        }),
    ),
  )
  return [Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0])), i[COUNTER]!]
}

const workers = form === 'contended' ? [0, 1].map(() => new Worker(spinner, { eval: true, workerData: i.buffer })) : []
const count = n % 2 === 0 ? n : n + 1
const warm = measure(Math.max(2, Math.floor(count / 20) * 2))
Atomics.store(i, GO, 1)
await warm // warm-up (JIT on every thread), untimed
const timed = measure(count)
Atomics.store(i, GO, 1)
const [elapsed, total] = await timed
for (const w of workers) await w.terminate()
emit({
  benchmark: form === 'contended' ? 'lock_contended' : 'lock_uncontended',
  impl: 'node-cas-spin',
  metric: 'ns_per_item',
  value: elapsed / count,
  unit: 'ns',
  checksum: `${total}:${total === count ? count : -1}`,
  size: String(count),
})
