/**
 * peer-multithreading: shared_int32_throughput on the `multithreading` package's MPMC channel
 * (a SharedArrayBuffer channel across worker threads), written as its README shows:
 * `channel(capacity)`, the sender moved into a `spawn`ed worker with `move()`, `await
 * sender.send(v)` there (the channel closes when the worker's sender is dropped), and
 * `for await (const v of receiver)` on the main thread. Capacity 1024 like the gotrio rows.
 *
 * Known package bug (multithreading 0.3.52), why this row's checksum failed with the default
 * buffer (and why the row now gives the channel a larger one, below): the channel keeps its
 * ring in a SharedJsonBuffer (64 KiB by default) where every sent number takes a fresh 8-byte
 * cell from a bump allocator; when the buffer fills, the sending thread runs
 * `SharedJsonBufferImpl.collectGarbage()` (src/lib/json_buffer.js, from `alloc()` under
 * `ChannelInternals.write()`, holding only the channel's sendLock) and copies the compacted
 * heap back over the live SharedArrayBuffer in place, while the receiving thread's
 * `ChannelInternals.read()` (holding only recvLock) reads `items[head]` with no exclusion. A
 * receive that overlaps a compaction can return the stale number left at the slot's new address
 * from the previous allocation cycle: a value sent about one GC period (~5,000-7,000 values)
 * earlier comes out again (a duplicate) and the value due is lost; the count stays right. Not
 * caused by this harness: the same happens with `blockingSend`, with `blockingRecv`, with a single
 * producer, with or without the warm-up; it needs capacity > 1 (the reader never overlaps a write
 * at capacity 1) and a collection (none with `channel(1024, { size: 16 << 20 })` for 1M values,
 * or with producer and consumer on one thread). Repro: ~10-25 such values per million at
 * capacity 1024, every one at a receive during which the allocator's free pointer dropped.
 *
 * So each run's channel is made with the `size` option the package declares (`channel(capacity,
 * { size })`, bytes of its SharedJsonBuffer) large enough for all the run's values, 16 bytes
 * each and a MiB to spare: no collection runs, the values arrive intact, and the row has a
 * figure to compare with. That spares the package its collections' cost too, so the comparison
 * errs in its favour.
 *
 * usage: multithreading.ts <n>
 */
import { channel, move, shutdown, spawn } from 'multithreading'
import { OrderCheck, emit, intArg, nowNs } from '../../lib/program.ts'

const n = intArg(0, 'n')
const BUFFER = 1024

async function once(count: number): Promise<OrderCheck> {
  // Room for every value: no collection (its race loses values; see above).
  const [tx, rx] = channel<number>(BUFFER, { size: Math.max(64 << 10, 16 * count + (1 << 20)) })
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
