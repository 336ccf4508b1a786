/**
 * piscina-raw: worker_task_roundtrip's baseline — N sequential `await pool.run(i)` of a trivial
 * task on a plain Piscina pool with default options, sized like gotrio's default pool (one
 * thread per core). The checksum is the sum of the returned values, "N:sum(i+1)".
 *
 * usage: piscina_raw.ts <n>
 */
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { emit, intArg, nowNs } from '../lib/program.js'

const n = intArg(0, 'n')
const threads = availableParallelism()
const pool = new Piscina({
  filename: new URL('./tasks/trivial.js', import.meta.url).href,
  name: 'trivial',
  minThreads: threads,
  maxThreads: threads,
})

async function roundtrips(count: number): Promise<string> {
  let total = 0
  for (let i = 0; i < count; i++) total += (await pool.run(i)) as number
  return `${count}:${total}`
}

await roundtrips(Math.max(threads * 10, Math.floor(n / 10))) // warm-up: starts every thread, untimed
const t0 = nowNs()
const checksum = await roundtrips(n)
const elapsed = nowNs() - t0
await pool.destroy()
emit({
  benchmark: 'worker_task_roundtrip',
  impl: 'piscina-raw',
  metric: 'us_per_task',
  value: elapsed / n / 1000,
  unit: 'us',
  checksum,
  size: String(n),
})
