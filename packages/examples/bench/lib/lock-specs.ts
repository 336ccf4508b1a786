/**
 * lock_uncontended and lock_contended (ns per acquire + release), declared here and added to the
 * run by specs.ts. Every row's checksum is "n:n": the counter each acquisition increments, and n
 * again if it is exact (a lost increment would show as -1).
 *
 *  - lock_uncontended: one task takes and releases the lock n times. gotrio-main is the one-thread
 *    `Lock` (`await acquire()` + `release()`), gotrio-shared a `SharedLock` on the main thread (the
 *    same calls), gotrio-shared-sync a `SharedLock` in a worker (`acquireSync()` + `release()`);
 *    go is `sync.Mutex`, node-cas-spin a bare compare-and-swap spin lock.
 *  - lock_contended: two takers, n/2 acquisitions each. gotrio-main: two tasks on the main thread
 *    (the fair Lock hands over on every release); gotrio-shared-w2w: two worker threads on one
 *    SharedLock (acquireSync); go: two goroutines; node-cas-spin: two worker threads on the bare
 *    CAS spin lock.
 */
import type { Benchmark, Impl, Job, Mode, RatioSpec } from './specs.ts'

type Sizes = [full: number, quick: number, smoke: number]

export function lockJobs(mode: Mode, add: (job: Job) => void): void {
  const at = ([full, quick, smoke]: Sizes): number => (mode === 'full' ? full : mode === 'quick' ? quick : smoke)
  const job = (benchmark: Benchmark, impl: Impl, toolchain: 'node' | 'go', program: string, form: string, sizes: Sizes): void => {
    const n = at(sizes)
    add({ benchmark, impl, toolchain, program, args: [form, String(n)], expected: `${n}:${n}`, metrics: ['ns_per_item'], size: String(n) })
  }
  job('lock_uncontended', 'gotrio-main', 'node', 'gotrio/lock.ts', 'main', [2_000_000, 1_000_000, 1_000])
  job('lock_uncontended', 'gotrio-shared', 'node', 'gotrio/lock.ts', 'shared', [2_000_000, 1_000_000, 1_000])
  job('lock_uncontended', 'gotrio-shared-sync', 'node', 'gotrio/lock.ts', 'shared-sync', [4_000_000, 2_000_000, 1_000])
  job('lock_uncontended', 'go', 'go', 'lock', 'uncontended', [50_000_000, 20_000_000, 1_000])
  job('lock_uncontended', 'node-cas-spin', 'node', 'node/cas_lock.ts', 'uncontended', [20_000_000, 10_000_000, 1_000])
  job('lock_contended', 'gotrio-main', 'node', 'gotrio/lock.ts', 'main-2', [1_000_000, 500_000, 1_000])
  job('lock_contended', 'gotrio-shared-w2w', 'node', 'gotrio/lock.ts', 'shared-w2w', [2_000_000, 1_000_000, 1_000])
  job('lock_contended', 'go', 'go', 'lock', 'contended', [20_000_000, 10_000_000, 1_000])
  job('lock_contended', 'node-cas-spin', 'node', 'node/cas_lock.ts', 'contended', [10_000_000, 5_000_000, 1_000])
}

export function lockRatioSpecs(): RatioSpec[] {
  const ref = (benchmark: Benchmark, impl: Impl) => ({ benchmark, impl, metric: 'ns_per_item' as const })
  return [
    {
      label: "lock_uncontended: gotrio-main (Lock, await acquire + release) ÷ Go sync.Mutex (× Go's time)",
      numerator: ref('lock_uncontended', 'gotrio-main'),
      denominator: ref('lock_uncontended', 'go'),
      goal: { op: '<=', value: 2, text: '≤ 2' },
    },
    {
      label: "lock_uncontended: gotrio-shared (SharedLock on main) ÷ Go (× Go's time)",
      numerator: ref('lock_uncontended', 'gotrio-shared'),
      denominator: ref('lock_uncontended', 'go'),
    },
    {
      label: 'lock_uncontended: gotrio-shared-sync (SharedLock, acquireSync in a worker) ÷ bare CAS spin lock',
      numerator: ref('lock_uncontended', 'gotrio-shared-sync'),
      denominator: ref('lock_uncontended', 'node-cas-spin'),
    },
    {
      label: 'lock_contended: gotrio-shared-w2w (two threads, SharedLock) ÷ bare CAS spin lock (two threads)',
      numerator: ref('lock_contended', 'gotrio-shared-w2w'),
      denominator: ref('lock_contended', 'node-cas-spin'),
      goal: { op: '<=', value: 1.5, text: '≤ 1.5' },
    },
    {
      label: "lock_contended: gotrio-shared-w2w ÷ Go sync.Mutex, two goroutines (× Go's time)",
      numerator: ref('lock_contended', 'gotrio-shared-w2w'),
      denominator: ref('lock_contended', 'go'),
    },
    {
      label: "lock_contended: gotrio-main (two tasks, one thread) ÷ Go (× Go's time)",
      numerator: ref('lock_contended', 'gotrio-main'),
      denominator: ref('lock_contended', 'go'),
    },
  ]
}
