/**
 * lock_uncontended / lock_contended in gotrio: ns per acquire + release.
 *
 * usage: lock.ts <form> <n>
 *   main         -> lock_uncontended/gotrio-main: one task, the one-thread Lock,
 *                   `await lock.acquire()` + `release()`
 *   shared       -> lock_uncontended/gotrio-shared: the same with a SharedLock on the main thread
 *   shared-sync  -> lock_uncontended/gotrio-shared-sync: a SharedLock in a worker, acquireSync + release
 *   main-2       -> lock_contended/gotrio-main: two tasks on the main thread taking turns (the
 *                   fair Lock hands it over on every release)
 *   shared-w2w   -> lock_contended/gotrio-shared-w2w: two worker threads, acquireSync + release
 *                   on one SharedLock, n/2 each, started together; time from the first start to
 *                   the last end
 * Each acquisition increments a counter; the checksum is the final count, "n:n".
 */
import { emit, intArg, nowNs, stringArg } from '../lib/program.ts'
import { loadGotrio } from './api.ts'
import * as channels from '@gotrio/channels'
import type { lockLoopSync } from './lock_tasks.ts'

const form = stringArg(0, 'main|shared|shared-sync|main-2|shared-w2w', ['main', 'shared', 'shared-sync', 'main-2', 'shared-w2w'] as const)
const n = intArg(1, 'n')
const benchmark = form === 'main-2' || form === 'shared-w2w' ? 'lock_contended' : 'lock_uncontended'
const impl =
  form === 'main' || form === 'main-2'
    ? 'gotrio-main'
    : form === 'shared'
      ? 'gotrio-shared'
      : form === 'shared-sync'
        ? 'gotrio-shared-sync'
        : 'gotrio-shared-w2w'
const api = loadGotrio(benchmark, impl, { runtime: ['run', 'openNursery', 'workerTask', 'runInWorker', 'Lock'] })

if (api) {
  const { rt } = api
  const loop = rt.workerTask<typeof lockLoopSync>(new URL('./lock_tasks.ts', import.meta.url), 'lockLoopSync')

  /** Runs `count` acquisitions; returns [elapsed ns, final counter]. */
  async function measure(count: number): Promise<[number, number]> {
    const counter = new Int32Array(new SharedArrayBuffer(4))
    if (form === 'main' || form === 'shared') {
      const lock = form === 'main' ? new rt.Lock() : channels.openSharedLock()
      const t0 = nowNs()
      for (let i = 0; i < count; i++) {
        await lock.acquire()
        counter[0]!++
        lock.release()
      }
      const t1 = nowNs()
      if (form === 'shared') (lock as channels.SharedLock).close()
      return [t1 - t0, counter[0]!]
    }
    if (form === 'main-2') {
      const lock = new rt.Lock()
      const t0 = nowNs()
      await rt.openNursery(async (nursery) => {
        for (let t = 0; t < 2; t++) {
          nursery.startSoon(async () => {
            for (let i = 0; i < count / 2; i++) {
              await lock.acquire()
              counter[0]!++
              lock.release()
            }
          })
        }
      })
      return [nowNs() - t0, counter[0]!]
    }
    const threads = form === 'shared-w2w' ? 2 : 1
    const lock = channels.openSharedLock()
    const go = new Int32Array(new SharedArrayBuffer(4))
    const spans: [number, number][] = []
    await rt.openNursery(async (nursery) => {
      for (let t = 0; t < threads; t++)
        nursery.startSoon(async () => void spans.push(await rt.runInWorker(loop, lock.clone(), counter, go, count / threads)))
      Atomics.store(go, 0, 1)
    })
    lock.close()
    return [Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0])), counter[0]!]
  }

  const count = n % 2 === 0 ? n : n + 1
  await rt.run(
    async () => {
      await measure(Math.max(2, Math.floor(count / 20) * 2)) // warm-up (pool threads, modules, JIT), untimed
      const [elapsed, total] = await measure(count)
      emit({
        benchmark,
        impl,
        metric: 'ns_per_item',
        value: elapsed / count,
        unit: 'ns',
        checksum: `${total}:${total === count ? count : -1}`,
        size: String(count),
      })
    },
    { workers: 2 },
  )
}
