/**
 * peer-multithreading: shared_int32_throughput on the `multithreading` package's MPMC channel
 * (a SharedArrayBuffer channel across worker threads), written as its README shows:
 * `channel(capacity)`, the sender moved into a `spawn`ed worker with `move()`, `await
 * sender.send(v)` there (the channel closes when the worker's sender is dropped), and
 * `for await (const v of receiver)` on the main thread. Capacity 1024 like the gotrio rows.
 *
 * usage: multithreading.ts <n>
 */
import { channel, move, shutdown, spawn } from 'multithreading'
import { OrderCheck, emit, intArg, nowNs } from '../../lib/program.ts'

const n = intArg(0, 'n')
const BUFFER = 1024

async function once(count: number): Promise<OrderCheck> {
  const [tx, rx] = channel<number>(BUFFER)
  const check = new OrderCheck(1, count)
  const producer = spawn(move(tx, count), async (sender, count) => {
    for (let i = 0; i < count; i++) {
      const r = await sender.send(i)
      if (!r.ok) throw r.error
    }
    sender.close()
  })
  for await (const v of rx) check.see(v)
  const done = await producer.join()
  if (!done.ok) throw done.error
  return check
}

await once(Math.max(1, Math.floor(n / 10))) // warm-up (starts the library's thread pool), untimed
const t0 = nowNs()
const check = await once(n)
const elapsed = nowNs() - t0
emit({
  benchmark: 'shared_int32_throughput',
  impl: 'peer-multithreading',
  metric: 'ns_per_item',
  value: elapsed / n,
  unit: 'ns',
  checksum: check.checksum(),
  size: String(n),
})
shutdown()
