/**
 * worker_task_roundtrip in gotrio (gotrio-pool): N sequential `await runInWorker(trivial, i)`,
 * against node/piscina_raw.ts doing N sequential `await pool.run(i)` of the same module.
 *
 * usage: worker_task_roundtrip.ts <n>
 *
 * Timed in ROUNDTRIP_BATCHES batches, reported as the median batch (lib/program.ts,
 * timedBatches). The checksum is the sum of the returned values, "N:sum(i+1)".
 */
import { ROUNDTRIP_BATCHES, emit, intArg, timedBatches } from '../lib/program.ts'
import { loadGotrio } from './api.ts'

const n = intArg(0, 'n')
const api = loadGotrio('worker_task_roundtrip', 'gotrio-pool', { runtime: ['run', 'workerTask', 'runInWorker'] })

if (api) {
  const { rt } = api
  const trivial = rt.workerTask<(i: number) => number>(new URL('../node/tasks/trivial.js', import.meta.url), 'trivial')

  async function roundtrips(from: number, to: number): Promise<number> {
    let total = 0
    for (let i = from; i < to; i++) total += await rt.runInWorker(trivial, i)
    return total
  }

  await rt.run(async () => {
    await roundtrips(0, Math.max(100, Math.floor(n / 10))) // warm-up (starts the pool), untimed
    const { usPerTask, total } = await timedBatches(n, ROUNDTRIP_BATCHES, roundtrips)
    emit({
      benchmark: 'worker_task_roundtrip',
      impl: 'gotrio-pool',
      metric: 'us_per_task',
      value: usPerTask,
      unit: 'us',
      checksum: `${n}:${total}`,
      size: String(n),
    })
  })
}
