/**
 * piscina-raw: worker_task_roundtrip's baseline — N sequential `await pool.run(i)` of a trivial
 * task on a plain Piscina pool with default options, sized like gotrio's default pool (one
 * thread per core). Timed in batches like gotrio/worker_task_roundtrip.ts (lib/program.ts,
 * timedBatches). The checksum is the sum of the returned values, "N:sum(i+1)".
 *
 * usage: piscina_raw.ts <n>
 */
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { ROUNDTRIP_BATCHES, emit, intArg, timedBatches } from '../lib/program.ts'

const n = intArg(0, 'n')
const threads = availableParallelism()
const pool = new Piscina({
  filename: new URL('./tasks/trivial.js', import.meta.url).href,
  name: 'trivial',
  minThreads: threads,
  maxThreads: threads,
})

async function roundtrips(from: number, to: number): Promise<number> {
  let total = 0
  for (let i = from; i < to; i++) total += (await pool.run(i)) as number
  return total
}

await roundtrips(0, Math.max(threads * 10, Math.floor(n / 10))) // warm-up: starts every thread, untimed
const { usPerTask, total } = await timedBatches(n, ROUNDTRIP_BATCHES, roundtrips)
await pool.destroy()
emit({
  benchmark: 'worker_task_roundtrip',
  impl: 'piscina-raw',
  metric: 'us_per_task',
  value: usPerTask,
  unit: 'us',
  checksum: `${n}:${total}`,
  size: String(n),
})
