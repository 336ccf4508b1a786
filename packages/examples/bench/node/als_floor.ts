/**
 * als_floor: Node 20's floor for a `for await` consumer under AsyncLocalStorage, the bar that
 * shared_*_throughput's gotrio-shared (for await) row stands on. gotrio's runtime keeps ambient
 * cancellation in an AsyncLocalStorage; on Node 20 that turns on promise hooks for every promise,
 * so each `for await` step costs its promise's hooks whatever the channel does.
 *
 * usage: als_floor.ts <int32|structured> <n>
 *   int32      -> the iterator yields 0..N-1
 *   structured -> it yields { seq: i, tag: 'item' } (one fresh object per value, as a decode makes)
 *
 * A bare iterator whose next() returns Promise.resolve({ value, done }), consumed with
 * `for await` inside `als.run()`, on one thread: no channel, no second thread, no waiting.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../lib/program.ts'

const kind = stringArg(0, 'int32|structured', ['int32', 'structured'] as const)
const n = intArg(1, 'n')
const structured = kind === 'structured'

type Item = number | { seq: number; tag: string }

function source(count: number): AsyncIterable<Item> {
  let i = 0
  const done: IteratorResult<Item> = { value: undefined, done: true }
  const it: AsyncIterableIterator<Item> = {
    next: () => {
      if (i >= count) return Promise.resolve(done)
      const v = structured ? { seq: i, tag: 'item' } : i
      i++
      return Promise.resolve({ value: v, done: false })
    },
    [Symbol.asyncIterator]: () => it,
  }
  return it
}

async function transfer(count: number): Promise<OrderCheck> {
  const check = new OrderCheck(1, count)
  for await (const v of source(count)) check.see(typeof v === 'number' ? v : v.seq)
  return check
}

const als = new AsyncLocalStorage<object>()
await als.run({}, async () => {
  await transfer(Math.max(1, Math.floor(n / 10))) // warm-up (JIT), untimed
  const t0 = nowNs()
  const check = await transfer(n)
  const elapsed = nowNs() - t0
  emit({
    benchmark: structured ? 'shared_structured_throughput' : 'shared_int32_throughput',
    impl: 'node-als-floor',
    metric: 'ns_per_item',
    value: elapsed / n,
    unit: 'ns',
    checksum: check.checksum(),
    size: String(n),
  })
})
