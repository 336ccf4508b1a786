/**
 * peer-effection: seed_producer_buffered and fan_in on Effection 4 (structured concurrency with
 * generators), main thread, written as its docs show: `main()`, `spawn()` for the producers,
 * `createChannel()` for the values, the consumer subscribed first (`yield* channel`: a channel
 * drops messages sent while nobody is subscribed) and reading `yield* subscription.next()` until
 * the channel is closed. An Effection channel has no capacity: the subscription queues every
 * value (no backpressure), so "buffered 1024" has no equivalent; the program is otherwise the same.
 *
 * usage: effection.ts <seed_buffered|fan_in> <n>
 */
import { createChannel, main, spawn, type Operation } from 'effection'
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../../lib/program.ts'

const PRODUCERS = 4
const which = stringArg(0, 'seed_buffered|fan_in', ['seed_buffered', 'fan_in'] as const)
const n = intArg(1, 'n', which === 'fan_in' ? PRODUCERS : 1)
const producers = which === 'fan_in' ? PRODUCERS : 1
const q = Math.floor(n / producers)

function* once(perProducer: number): Operation<OrderCheck> {
  const channel = createChannel<number, void>()
  const check = new OrderCheck(producers, perProducer)
  const subscription = yield* channel
  yield* spawn(function* () {
    const tasks = []
    for (let p = 0; p < producers; p++) {
      tasks.push(
        yield* spawn(function* () {
          for (let i = 0; i < perProducer; i++) yield* channel.send(p * perProducer + i)
        }),
      )
    }
    for (const t of tasks) yield* t
    yield* channel.close()
  })
  for (let r = yield* subscription.next(); !r.done; r = yield* subscription.next()) check.see(r.value)
  return check
}

await main(function* () {
  yield* once(Math.max(1, Math.floor(q / 10))) // warm-up, untimed
  const t0 = nowNs()
  const check = yield* once(q)
  const elapsed = nowNs() - t0
  emit({
    benchmark: which === 'fan_in' ? 'fan_in' : 'seed_producer_buffered',
    impl: 'peer-effection',
    metric: 'ns_per_item',
    value: elapsed / (q * producers),
    unit: 'ns',
    checksum: check.checksum(),
    size: String(q * producers),
  })
})
