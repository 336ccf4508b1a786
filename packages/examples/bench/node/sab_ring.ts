/**
 * sab_ring: a reference floor for moving numbers from a worker to the main thread through shared
 * memory on this machine, with no library at all. shared_int32_throughput's node-sab-ring rows;
 * what the issue's "≤ 1.5× Go's buffered channel" goal has to be read against. Plain versions,
 * not tuned to the last nanosecond: publishing every k values instead of every value, or (mpmc)
 * putting each sequence word next to its slot, might cost less.
 *
 * usage: sab_ring.ts <spsc|mpmc> <n>
 *   spsc -> node-sab-ring: a ring, not a channel: one producer and one consumer (so no lock
 *           and no compare-and-swap), 1,024 Int32 slots, the producer's and the consumer's index
 *           on separate cache lines, each side caching the other's index and re-reading it only
 *           when the ring looks full (producer) or empty (consumer), both sides busy-polling (no
 *           wake-ups, no promises, no cancellation, no close).
 *   mpmc -> node-sab-ring-mpmc: the same, made safe for many producers and many consumers
 *           (still used by one of each), as a bounded lock-free queue with a sequence word per
 *           slot (Vyukov's): a compare-and-swap claims a position on each side, and the slot's
 *           sequence word says when it is full or free: the kind of ring a channel that, like
 *           gotrio's and Go's, lets any thread send and receive would need.
 *
 * Memory layout (Int32 indices of one SharedArrayBuffer):
 *
 * | idx      | written by   | meaning                                                   |
 * |----------|--------------|-----------------------------------------------------------|
 * | 0        | producer     | TAIL: values ever written (wraps at 2^32)                 |
 * | 16       | consumer     | HEAD: values ever taken                                   |
 * | 32       | main, worker | GO: main stores the count to send; the worker polls it    |
 * |          |              | and stores 0 back when it takes the count (0 = wait)      |
 * | 64..1087 | producer     | the slots; slot of value k is k & 1023                    |
 * | 1088..   | both         | mpmc only: the slots' sequence words                      |
 *
 * Ordering (every Atomics operation is sequentially consistent; plain reads and writes are
 * ordered by them):
 *  - spsc: the producer writes the slot, then publishes it with Atomics.store(TAIL); the
 *    consumer reads TAIL with Atomics.load before it reads the slot, so it sees the value.
 *    Symmetrically the consumer reads the slot before Atomics.store(HEAD) hands it back, so
 *    the producer's next lap cannot overwrite a value not yet read.
 *  - mpmc: position t's slot is free for the producer when its sequence word is t. The
 *    producer claims t with a compare-and-swap on TAIL, writes the value, then stores t + 1
 *    in the sequence word (publish). The consumer loads the sequence word (= h + 1: full)
 *    before it claims h with a compare-and-swap on HEAD and reads the value, and stores
 *    h + SLOTS (free for the next lap) only after reading it.
 *  - GO: main stores the round's count; the worker loads it, stores 0, and produces. Its
 *    store of 0 comes before it publishes the round's first value, and main stores the next
 *    count (or -1, stop) only after taking the round's last value, so the worker's 0 never
 *    overwrites a later count.
 * The clock starts when main sets GO for a warmed-up, already running worker and stops at the
 * last value, as in postmessage.ts.
 */
import { Worker } from 'node:worker_threads'
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../lib/program.ts'

const mode = stringArg(0, 'spsc|mpmc', ['spsc', 'mpmc'] as const)
const n = intArg(1, 'n')
const TAIL = 0
const HEAD = 16
const GO = 32
const DATA = 64
const SLOTS = 1024
const MASK = SLOTS - 1
const SEQ = DATA + SLOTS

// Plain JavaScript so the worker needs no TypeScript loader.
const spscProducer = `
const { workerData } = require('node:worker_threads')
const i = new Int32Array(workerData)
let tail = 0
let head = 0
for (;;) {
  let n
  while ((n = Atomics.load(i, ${GO})) === 0) {}
  if (n < 0) break
  Atomics.store(i, ${GO}, 0)
  for (let k = 0; k < n; k++) {
    while (((tail - head) | 0) >= ${SLOTS}) head = Atomics.load(i, ${HEAD})
    i[${DATA} + (tail & ${MASK})] = k
    tail = (tail + 1) | 0
    Atomics.store(i, ${TAIL}, tail)
  }
}
`

// mpmc: claim position t with a CAS on TAIL once slot t's sequence word says it is free (= t);
// write, then publish by storing t + 1 in the sequence word.
const mpmcProducer = `
const { workerData } = require('node:worker_threads')
const i = new Int32Array(workerData)
for (;;) {
  let n
  while ((n = Atomics.load(i, ${GO})) === 0) {}
  if (n < 0) break
  Atomics.store(i, ${GO}, 0)
  for (let k = 0; k < n; ) {
    const t = Atomics.load(i, ${TAIL})
    const s = t & ${MASK}
    if (Atomics.load(i, ${SEQ} + s) !== t) continue // full (or another producer is ahead)
    if (Atomics.compareExchange(i, ${TAIL}, t, (t + 1) | 0) !== t) continue
    i[${DATA} + s] = k
    Atomics.store(i, ${SEQ} + s, (t + 1) | 0)
    k++
  }
}
`

const i = new Int32Array(new SharedArrayBuffer((DATA + 2 * SLOTS) * 4))
for (let s = 0; s < SLOTS; s++) i[SEQ + s] = s // mpmc: every slot free for its first lap
const worker = new Worker(mode === 'spsc' ? spscProducer : mpmcProducer, { eval: true, workerData: i.buffer })
let head = 0
let tail = 0

function transferSpsc(count: number): OrderCheck {
  const check = new OrderCheck(1, count)
  Atomics.store(i, GO, count)
  for (let k = 0; k < count; k++) {
    while (head === tail) tail = Atomics.load(i, TAIL)
    check.see(i[DATA + (head & MASK)]!)
    head = (head + 1) | 0
    Atomics.store(i, HEAD, head)
  }
  return check
}

/** mpmc: claim position h with a CAS on HEAD once slot h's sequence word says it is full (= h + 1); free it for lap + 1. */
function transferMpmc(count: number): OrderCheck {
  const check = new OrderCheck(1, count)
  Atomics.store(i, GO, count)
  for (let k = 0; k < count; ) {
    const h = Atomics.load(i, HEAD)
    const s = h & MASK
    if (Atomics.load(i, SEQ + s) !== ((h + 1) | 0)) continue // empty
    if (Atomics.compareExchange(i, HEAD, h, (h + 1) | 0) !== h) continue
    check.see(i[DATA + s]!)
    Atomics.store(i, SEQ + s, (h + SLOTS) | 0)
    k++
  }
  return check
}

const transfer = mode === 'spsc' ? transferSpsc : transferMpmc
transfer(Math.max(1, Math.floor(n / 10))) // warm-up (JIT on both threads), untimed
const t0 = nowNs()
const check = transfer(n)
const elapsed = nowNs() - t0
Atomics.store(i, GO, -1)
await worker.terminate()
emit({
  benchmark: 'shared_int32_throughput',
  impl: mode === 'spsc' ? 'node-sab-ring' : 'node-sab-ring-mpmc',
  metric: 'ns_per_item',
  value: elapsed / n,
  unit: 'ns',
  checksum: check.checksum(),
  size: String(n),
})
