/**
 * worker_task_roundtrip in gotrio (gotrio-pool): N sequential `await runInWorker(trivial, i)`,
 * against node/piscina_raw.ts doing N sequential `await pool.run(i)` of the same module.
 *
 * usage: worker_task_roundtrip.ts <n>
 *
 * The checksum is the sum of the returned values, "N:sum(i+1)".
 */
import { emit, intArg, nowNs } from '../lib/program.js'
import { loadGotrio } from './api.js'

const n = intArg(0, 'n')
const api = loadGotrio('worker_task_roundtrip', 'gotrio-pool', { runtime: ['run', 'workerTask', 'runInWorker'] })

if (api) {
  const { rt } = api
  const trivial = rt.workerTask<(i: number) => number>(new URL('../node/tasks/trivial.js', import.meta.url), 'trivial')

  async function roundtrips(count: number): Promise<string> {
    let total = 0
    for (let i = 0; i < count; i++) total += await rt.runInWorker(trivial, i)
    return `${count}:${total}`
  }

  await rt.run(async () => {
    await roundtrips(Math.max(100, Math.floor(n / 10))) // warm-up (starts the pool), untimed
    const t0 = nowNs()
    const checksum = await roundtrips(n)
    const elapsed = nowNs() - t0
    emit({ benchmark: 'worker_task_roundtrip', impl: 'gotrio-pool', metric: 'us_per_task', value: elapsed / n / 1000, unit: 'us', checksum, size: String(n) })
  })
}
