/**
 * sab_handoff: the floor under every size-0 (rendezvous) row with a worker producer: a bare
 * hand-off of 0..N-1 from a worker to the main thread through ONE SharedArrayBuffer word, both
 * threads busy-polling, no library. seed_producer_unbuffered's node-sab-handoff row.
 *
 * usage: sab_handoff.ts <n>
 *
 * A rendezvous cannot be cheaper than this: the sender may not write value k + 1 before the
 * receiver has taken value k, so every value costs one round trip of the word's cache line
 * between the two cores (worker writes, main reads and clears, worker sees the clear).
 *
 * Memory layout (Int32 indices of one SharedArrayBuffer):
 *
 * | idx | written by   | meaning                                                          |
 * |-----|--------------|------------------------------------------------------------------|
 * | 0   | worker, main | WORD: 0 = empty; k + 1 = value k handed over, not yet taken       |
 * | 16  | main, worker | GO: main stores the round's count; the worker polls it and stores |
 * |     |              | 0 back when it takes it (0 = wait, -1 = stop)                     |
 *
 * Ordering (every Atomics operation is sequentially consistent): the worker waits for WORD = 0
 * (the previous value was taken), then stores k + 1; main waits for WORD != 0, reads it and
 * stores 0. Only the worker writes a non-zero value and only main writes 0, each only after
 * seeing the other's write, so the word alternates and no value is lost or doubled. GO as in
 * sab_ring.ts: the worker's store of 0 comes before its first value of the round, and main stores
 * the next count only after taking the round's last value.
 */
import { Worker } from 'node:worker_threads'
import { OrderCheck, emit, intArg, nowNs } from '../lib/program.ts'

const n = intArg(0, 'n')
const WORD = 0
const GO = 16

// Plain JavaScript so the worker needs no TypeScript loader.
const producer = `
const { workerData } = require('node:worker_threads')
const i = new Int32Array(workerData)
for (;;) {
  let n
  while ((n = Atomics.load(i, ${GO})) === 0) {}
  if (n < 0) break
  Atomics.store(i, ${GO}, 0)
  for (let k = 0; k < n; k++) {
    while (Atomics.load(i, ${WORD}) !== 0) {}
    Atomics.store(i, ${WORD}, k + 1)
  }
}
`

const i = new Int32Array(new SharedArrayBuffer(32 * 4))
const worker = new Worker(producer, { eval: true, workerData: i.buffer })

function transfer(count: number): OrderCheck {
  const check = new OrderCheck(1, count)
  Atomics.store(i, GO, count)
  for (let k = 0; k < count; k++) {
    let v: number
    while ((v = Atomics.load(i, WORD)) === 0) {}
    Atomics.store(i, WORD, 0)
    check.see(v - 1)
  }
  return check
}

transfer(Math.max(1, Math.floor(n / 10))) // warm-up (JIT on both threads), untimed
const t0 = nowNs()
const check = transfer(n)
const elapsed = nowNs() - t0
Atomics.store(i, GO, -1)
await worker.terminate()
emit({
  benchmark: 'seed_producer_unbuffered',
  impl: 'node-sab-handoff',
  metric: 'ns_per_item',
  value: elapsed / n,
  unit: 'ns',
  checksum: check.checksum(),
  size: String(n),
})
