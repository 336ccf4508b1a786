/**
 * worker_task_cold_start in gotrio: the first worker task of a program, on a fresh pool.
 *
 * usage: cold_start.ts <cold|warm>
 *   cold -> gotrio-pool: inside `run`, the first `runInWorker(trivial, 0)` makes the pool, so its
 *           time includes starting the threads and loading gotrio's worker entry in them.
 *   warm -> gotrio-pool-warm: `warmUpWorkers()` first (untimed), then the first task: what is left
 *           once the pool is warm (the task module's first load on its thread, one round trip).
 * One measurement per process (a cold start happens once); the runner's repetitions give the
 * spread. Reports µs for that one task; the checksum is the task's answer, "1:1".
 */
import { emit, nowNs, stringArg } from '../lib/program.ts'
import { loadGotrio } from './api.ts'

const variant = stringArg(0, 'cold|warm', ['cold', 'warm'] as const)
const impl = variant === 'cold' ? 'gotrio-pool' : 'gotrio-pool-warm'
const api = loadGotrio('worker_task_cold_start', impl, { runtime: ['run', 'workerTask', 'runInWorker', 'warmUpWorkers'] })

if (api) {
  const { rt } = api
  const trivial = rt.workerTask<(i: number) => number>(new URL('../node/tasks/trivial.js', import.meta.url), 'trivial')
  await rt.run(async () => {
    if (variant === 'warm') await rt.warmUpWorkers()
    const t0 = nowNs()
    const answer = await rt.runInWorker(trivial, 0)
    const us = (nowNs() - t0) / 1000
    emit({ benchmark: 'worker_task_cold_start', impl, metric: 'us_per_task', value: us, unit: 'us', checksum: `1:${answer}`, size: '1' })
  })
}
