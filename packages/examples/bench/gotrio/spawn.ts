/**
 * spawn in gotrio: start and join N trivial tasks in a nursery (gotrio-main).
 *
 * usage: spawn.ts <n>
 *
 * Task i adds i to a shared total; the checksum is "N:sum".
 */
import { emit, intArg, nowNs } from '../lib/program.ts'
import { loadGotrio } from './api.ts'

const n = intArg(0, 'n')
const api = loadGotrio('spawn', 'gotrio-main', { runtime: ['run', 'openNursery'] })

if (api) {
  const { rt } = api

  async function runTasks(count: number): Promise<string> {
    let started = 0
    let total = 0
    async function trivial(i: number): Promise<void> {
      started++
      total += i
    }
    await rt.openNursery(async (nursery) => {
      for (let i = 0; i < count; i++) nursery.startSoon(trivial, i)
    })
    return `${started}:${total}`
  }

  await rt.run(async () => {
    await runTasks(Math.max(1, Math.floor(n / 10))) // warm-up, untimed
    const t0 = nowNs()
    const checksum = await runTasks(n)
    const elapsed = nowNs() - t0
    emit({ benchmark: 'spawn', impl: 'gotrio-main', metric: 'ns_per_task', value: elapsed / n, unit: 'ns', checksum, size: String(n) })
  })
}
