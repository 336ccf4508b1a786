/**
 * shared_{int32,structured}_throughput in gotrio: a worker task sends N values through a shared
 * channel (buffer 1024); compare node/postmessage.ts (one postMessage per value) and
 * node/als_floor.ts (the cost of a bare `for await` under AsyncLocalStorage, Node 20's floor).
 *
 * usage: shared_throughput.ts <int32|structured> <forawait|drain|batch|w2w> <n> [sync|async]
 *   int32       -> codec 'int32', the values 0..N-1
 *   structured  -> the default codec, the values { seq: i, tag: 'item' }
 *   forawait    -> (gotrio-shared) the main thread consumes with `for await`
 *   drain       -> (gotrio-shared-drain) the main thread calls receiveNowait() in a loop and
 *                  `await receive()` only when it throws WouldBlock
 *   batch       -> (gotrio-shared-batch) the main thread consumes with `await receiveMany(64)`:
 *                  one promise per batch of up to 64 values instead of one per value
 *   w2w         -> (gotrio-shared-w2w) a second worker task consumes with receiveSync: worker ->
 *                  worker, no promise anywhere; timed inside the consumer, from its first value
 *                  to EndOfChannel, per value after the first
 *   sync        -> (default) the producer is a dedicated thread calling sendSync, which blocks
 *                  its thread when the ring is full: the API's tool for a pure producer loop
 *   async       -> the producer awaits send() instead (as the seed programs do)
 * forawait, drain and batch: the clock runs from starting the producer task to the consumer's
 * EndOfChannel.
 */
import { availableParallelism } from 'node:os'
import { EndOfChannel, WouldBlock } from '@gotrio/channels'
import { OrderCheck, emit, intArg, nowNs, stringArg, WARMUPS_ACROSS_THREADS, warmUp } from '../lib/program.ts'
import { loadGotrio, type SharedReceiveChannel, type SharedSendChannel } from './api.ts'

type Item = number | { seq: number; tag: string }
const kind = stringArg(0, 'int32|structured', ['int32', 'structured'] as const)
const form = stringArg(1, 'forawait|drain|batch|w2w', ['forawait', 'drain', 'batch', 'w2w'] as const)
const n = intArg(2, 'n')
const mode = process.argv[5] === undefined ? 'sync' : stringArg(3, 'sync|async', ['sync', 'async'] as const)
const benchmark = kind === 'int32' ? 'shared_int32_throughput' : 'shared_structured_throughput'
const impl =
  form === 'forawait'
    ? 'gotrio-shared'
    : form === 'drain'
      ? 'gotrio-shared-drain'
      : form === 'batch'
        ? 'gotrio-shared-batch'
        : 'gotrio-shared-w2w'

const api = loadGotrio(benchmark, impl, { runtime: ['run', 'openNursery', 'workerTask', 'runInWorker'], channels: ['openSharedChannel'] })

/** The drain form: take what is there without a promise, wait only when the ring is empty. */
async function drain(rx: SharedReceiveChannel<Item>, check: OrderCheck): Promise<void> {
  for (;;) {
    let v: Item
    try {
      v = rx.receiveNowait()
    } catch (e) {
      if (e instanceof EndOfChannel) return
      if (!(e instanceof WouldBlock)) throw e
      try {
        v = await rx.receive()
      } catch (e2) {
        if (e2 instanceof EndOfChannel) return
        throw e2
      }
    }
    check.see(typeof v === 'number' ? v : v.seq)
  }
}

/** The batch form: one `await receiveMany(64)` per batch until EndOfChannel. */
async function batches(rx: SharedReceiveChannel<Item>, check: OrderCheck): Promise<void> {
  for (;;) {
    let vs: Item[]
    try {
      vs = await rx.receiveMany(BATCH)
    } catch (e) {
      if (e instanceof EndOfChannel) return
      throw e
    }
    for (const v of vs) check.see(typeof v === 'number' ? v : v.seq)
  }
}
const BATCH = 64

if (api) {
  const { rt, ch } = api
  const tasks = new URL('./tasks.ts', import.meta.url)
  const pump =
    mode === 'async'
      ? rt.workerTask<(s: SharedSendChannel<Item>, n: number, structured: boolean) => Promise<void>>(tasks, 'pumpAsync')
      : rt.workerTask<(s: SharedSendChannel<Item>, n: number, structured: boolean) => void>(tasks, 'pumpSync')
  const consume = rt.workerTask<(r: SharedReceiveChannel<Item>, n: number) => [string, number]>(tasks, 'drainSync')

  /** Moves `count` values; returns the order check's checksum and, for w2w, the consumer's own time. */
  async function transfer(count: number): Promise<[string, number]> {
    const check = new OrderCheck(1, count)
    let checksum = ''
    let inner = 0
    await rt.openNursery(async (nursery) => {
      const [s, r] = kind === 'int32' ? ch.openSharedChannel<Item>(1024, { codec: 'int32' }) : ch.openSharedChannel<Item>(1024)
      nursery.startSoon(pump, s, count, kind === 'structured')
      if (form === 'w2w') {
        ;[checksum, inner] = await rt.runInWorker(consume, r, count)
        return
      }
      await using rx = r
      if (form === 'drain') await drain(rx, check)
      else if (form === 'batch') await batches(rx, check)
      else for await (const v of rx) check.see(typeof v === 'number' ? v : v.seq)
      checksum = check.checksum()
    })
    return [checksum, inner]
  }

  // w2w blocks two threads (sendSync and receiveSync): give it two even on a one-core machine.
  const options = form === 'w2w' ? { workers: Math.max(2, availableParallelism()) } : {}
  await rt.run(async () => {
    // Warm-ups (pool threads, module, each thread's JIT), untimed.
    await warmUp(WARMUPS_ACROSS_THREADS, () => transfer(Math.max(2, Math.floor(n / 10))))
    const t0 = nowNs()
    const [checksum, inner] = await transfer(n)
    const elapsed = nowNs() - t0
    const value = form === 'w2w' ? inner / Math.max(1, n - 1) : elapsed / n
    emit({ benchmark, impl, metric: 'ns_per_item', value, unit: 'ns', checksum, size: String(n) })
  }, options)
}
