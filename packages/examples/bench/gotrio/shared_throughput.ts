/**
 * shared_{int32,structured}_throughput in gotrio (gotrio-shared): a worker task sends N values
 * to the main thread through a shared channel (buffer 1024); compare node/postmessage.ts, one
 * postMessage per value.
 *
 * usage: shared_throughput.ts <int32|structured> <n> [sync|async]
 *   int32       -> codec 'int32', the values 0..N-1
 *   structured  -> the default codec, the values { seq: i, tag: 'item' }
 *   sync        -> (default) the producer is a dedicated thread calling sendSync, which blocks
 *                  its thread when the ring is full: the API's tool for a pure producer loop
 *   async       -> the producer awaits send() instead (as the seed programs do)
 * The clock runs from starting the producer task to the consumer's EndOfChannel.
 */
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../lib/program.js'
import { loadGotrio, type SharedSendChannel } from './api.js'

type Item = number | { seq: number; tag: string }
const kind = stringArg(0, 'int32|structured', ['int32', 'structured'] as const)
const n = intArg(1, 'n')
const mode = process.argv[4] === undefined ? 'sync' : stringArg(2, 'sync|async', ['sync', 'async'] as const)
const benchmark = kind === 'int32' ? 'shared_int32_throughput' : 'shared_structured_throughput'

const api = loadGotrio(benchmark, 'gotrio-shared', { runtime: ['run', 'openNursery', 'workerTask'], channels: ['openSharedChannel'] })

if (api) {
  const { rt, ch } = api
  const tasks = new URL('./tasks.ts', import.meta.url)
  const pump = mode === 'async'
    ? rt.workerTask<(s: SharedSendChannel<Item>, n: number, structured: boolean) => Promise<void>>(tasks, 'pumpAsync')
    : rt.workerTask<(s: SharedSendChannel<Item>, n: number, structured: boolean) => void>(tasks, 'pumpSync')

  async function transfer(count: number): Promise<OrderCheck> {
    const check = new OrderCheck(1, count)
    await rt.openNursery(async (nursery) => {
      const [s, r] = kind === 'int32'
        ? ch.openSharedChannel<Item>(1024, { codec: 'int32' })
        : ch.openSharedChannel<Item>(1024)
      nursery.startSoon(pump, s, count, kind === 'structured')
      await using rx = r
      for await (const v of rx) check.see(typeof v === 'number' ? v : v.seq)
    })
    return check
  }

  await rt.run(async () => {
    await transfer(Math.max(1, Math.floor(n / 10))) // warm-up (pool thread, module, JIT), untimed
    const t0 = nowNs()
    const check = await transfer(n)
    const elapsed = nowNs() - t0
    emit({ benchmark, impl: 'gotrio-shared', metric: 'ns_per_item', value: elapsed / n, unit: 'ns', checksum: check.checksum(), size: String(n) })
  })
}
