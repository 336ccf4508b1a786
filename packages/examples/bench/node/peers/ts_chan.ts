/**
 * peer-ts-chan: seed_producer_buffered and fan_in on ts-chan's `Chan` (a Go-style channel library
 * for JavaScript), main thread, written as its README shows: `new Chan<T>(capacity)`,
 * `await ch.send(v)`, `ch.close()` when the producers are done, `for await (const v of ch)`.
 * The channel keeps its default (safe) mode, which yields to the macrotask queue to avoid
 * microtask cycles; `setUnsafe(true)` skips that, and is what the README of this bench compares too.
 *
 * usage: ts_chan.ts <seed_buffered|fan_in> <n> [unsafe]
 */
import { Chan } from 'ts-chan'
import { OrderCheck, emit, intArg, nowNs, stringArg } from '../../lib/program.ts'

const BUFFER = 1024
const PRODUCERS = 4
const which = stringArg(0, 'seed_buffered|fan_in', ['seed_buffered', 'fan_in'] as const)
const n = intArg(1, 'n', which === 'fan_in' ? PRODUCERS : 1)
const unsafe = process.argv[4] === 'unsafe'
const producers = which === 'fan_in' ? PRODUCERS : 1
const q = Math.floor(n / producers)

async function once(perProducer: number): Promise<OrderCheck> {
  const ch = new Chan<number>(BUFFER).setUnsafe(unsafe)
  const check = new OrderCheck(producers, perProducer)
  const sending: Promise<void>[] = []
  for (let p = 0; p < producers; p++) {
    sending.push(
      (async () => {
        for (let i = 0; i < perProducer; i++) await ch.send(p * perProducer + i)
      })(),
    )
  }
  // Go's WaitGroup + close(ch): close once every producer has returned.
  const closed = Promise.all(sending).then(() => ch.close())
  for await (const x of ch) check.see(x)
  await closed
  return check
}

await once(Math.max(1, Math.floor(q / 10))) // warm-up, untimed
const t0 = nowNs()
const check = await once(q)
const elapsed = nowNs() - t0
emit({
  benchmark: which === 'fan_in' ? 'fan_in' : 'seed_producer_buffered',
  impl: unsafe ? 'peer-ts-chan-unsafe' : 'peer-ts-chan',
  metric: 'ns_per_item',
  value: elapsed / (q * producers),
  unit: 'ns',
  checksum: check.checksum(),
  size: String(q * producers),
})
