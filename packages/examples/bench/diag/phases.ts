/**
 * Where a cross-thread run's time goes, run by run: the seed's buffered program (a worker task
 * `await send`s 0..n-1 into a shared channel, the main thread consumes with `for await`), run
 * several times in one process, printing for each run its ns per value, the ns per value of each
 * tenth of it, and both threads' counts of Atomics.wait / waitAsync / notify (a park costs a
 * wake-up; hooks.ts). With --trace, the last run's events of both threads in time order: parks
 * with their spin budgets, long spins, notifies and wake-ups, GC pauses.
 *
 * usage: node packages/examples/bench/diag/phases.ts [sizes] [capacity] [--trace]
 *   sizes     values per run, comma-separated (default 20000,20000,20000,20000,200000: the
 *             bench's four warm-ups and its timed run of seed_producer_buffered)
 *   capacity  the channel's buffer (default 1024; 0 for the size-0 hand-off)
 *
 * A developer's tool, not a benchmark: the hooks add a little to every wait and notify.
 */
import { openSharedChannel } from '@gotrio/channels'
import { openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { type Event, take } from './hooks.ts'
import type { produce } from './task.ts'

const args = process.argv.slice(2).filter((a) => a !== '--trace')
const trace = process.argv.includes('--trace')
const sizes = (args[0] ?? '20000,20000,20000,20000,200000').split(',').map(Number)
const capacity = Number(args[1] ?? 1024)
const task = workerTask<typeof produce>(new URL('./task.ts', import.meta.url), 'produce')

await run(async () => {
  for (let r = 0; r < sizes.length; r++) {
    const n = sizes[r]!
    const step = Math.max(1, Math.floor(n / 10))
    const marks: number[] = []
    let worker: ReturnType<typeof take> | undefined
    take()
    const t0 = performance.now()
    await openNursery(async (nursery) => {
      const [s, rx] = openSharedChannel<number>(capacity)
      nursery.startSoon(async () => {
        worker = await runInWorker(task, s, n)
      })
      await using r2 = rx
      let c = 0
      for await (const _ of r2) if (++c % step === 0) marks.push(performance.now())
    })
    const total = performance.now() - t0
    const main = take()
    const tenths = marks.map((m, k) => (((m - (k ? marks[k - 1]! : t0)) * 1e6) / step).toFixed(0))
    const c = (x: ReturnType<typeof take>['counts'] | undefined) => (x ? `wait ${x.wait} waitAsync ${x.waitAsync} notify ${x.notify}` : '-')
    console.log(`run ${r} (${n} values): ${((total * 1e6) / n).toFixed(0)} ns/value; tenths ${tenths.join(' ')}`)
    console.log(`  main: ${c(main.counts)}; worker: ${c(worker?.counts)}`)
    if (trace && r === sizes.length - 1) {
      const start = performance.timeOrigin + t0
      const all: Event[] = [...main.events, ...(worker?.events ?? [])].sort((a, b) => a[0] - b[0])
      for (const [at, thread, label, ms] of all)
        console.log(`  ${(at - start).toFixed(3)} ms  thread ${thread}  ${label} ${ms.toFixed(3)} ms`)
    }
  }
})
