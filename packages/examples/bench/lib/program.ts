/**
 * Helpers shared by the TypeScript benchmark programs (gotrio/ and node/).
 *
 * Contract with the runner (bench/run.ts), identical for the Python and Go programs:
 * a program prints one JSON line per metric on stdout and nothing else,
 *   {"benchmark","impl","metric","value","unit","checksum","size"}
 * or, when the piece of gotrio it needs does not exist yet,
 *   {"benchmark","impl","unavailable":"<reason>"}
 * and exits 0. The runner recomputes every checksum independently.
 */

import { summarize } from './stats.ts'

export interface Result {
  benchmark: string
  impl: string
  metric: 'ns_per_item' | 'ns_per_task' | 'us_per_task' | 'seconds' | 'speedup'
  value: number
  unit: 'ns' | 'us' | 's' | 'x'
  checksum: string
  size: string
}

export function emit(result: Result): void {
  process.stdout.write(JSON.stringify(result) + '\n')
}

/** Reports that this (benchmark, impl) cannot run yet, instead of a number. */
export function unavailable(benchmark: string, impl: string, reason: string): void {
  process.stdout.write(JSON.stringify({ benchmark, impl, unavailable: reason }) + '\n')
}

/** The median of a non-empty list (the mean of the middle two for an even length). */
function median(values: readonly number[]): number {
  return summarize(values).median
}

/**
 * cpu_parallel's measurement, the same for every TypeScript implementation (go/ and python/
 * do the same in their languages): an untimed warm-up at R / 100, then `pairs` (one-thread,
 * parallel) pairs, each the K shares counted in a plain loop on this thread and at once after
 * that by `parallel(range)`, which must return the same count. Prints the median pair's
 * speed-up and the median parallel seconds as `impl`'s two result lines.
 */
export async function cpuParallelPairs(
  impl: string,
  k: number,
  r: number,
  block: number,
  pairs: number,
  parallel: (range: number) => Promise<number>,
): Promise<void> {
  const warm = Math.max(1, Math.floor(r / 100))
  for (let i = 0; i < k; i++) countPrimesInBlocks(i, k, k * warm, block)
  await parallel(warm)
  const speedups: number[] = []
  const seconds: number[] = []
  let par = 0
  for (let p = 0; p < pairs; p++) {
    const t0 = nowNs()
    let seq = 0
    for (let i = 0; i < k; i++) seq += countPrimesInBlocks(i, k, k * r, block)
    const t1 = nowNs()
    par = await parallel(r)
    const t2 = nowNs()
    if (seq !== par) throw new Error(`one-thread count ${seq} != parallel count ${par}`)
    speedups.push((t1 - t0) / (t2 - t1))
    seconds.push((t2 - t1) / 1e9)
  }
  const size = `${k}x${r}/${block}`
  emit({ benchmark: 'cpu_parallel', impl, metric: 'seconds', value: median(seconds), unit: 's', checksum: String(par), size })
  emit({ benchmark: 'cpu_parallel', impl, metric: 'speedup', value: median(speedups), unit: 'x', checksum: String(par), size })
}

/** worker_task_roundtrip's batches per process (see timedBatches). */
export const ROUNDTRIP_BATCHES = 5

/**
 * worker_task_roundtrip's timing, the same for gotrio-pool and piscina-raw: tasks 0..n-1 run in
 * `batches` consecutive batches (`run(from, to)` runs tasks from..to-1 and returns the sum of
 * their results), each batch timed on its own. Returns the median batch's microseconds per task,
 * so a short stall of the machine in one batch does not become the result, and the sum of all
 * results for the checksum.
 */
export async function timedBatches(
  n: number,
  batches: number,
  run: (from: number, to: number) => Promise<number>,
): Promise<{ usPerTask: number; total: number }> {
  if (n < batches) throw new RangeError(`timedBatches: ${n} tasks cannot fill ${batches} batches`)
  const perTask: number[] = []
  let total = 0
  for (let b = 0; b < batches; b++) {
    const from = Math.floor((n * b) / batches)
    const to = Math.floor((n * (b + 1)) / batches)
    const t0 = nowNs()
    total += await run(from, to)
    perTask.push((nowNs() - t0) / (to - from) / 1000)
  }
  return { usPerTask: median(perTask), total }
}

/** Monotonic clock in nanoseconds, as a float (exact below 2^53 ns, about 104 days). */
/**
 * Untimed warm-ups before a timed run whose work runs on pool threads: Piscina picks the
 * thread for each task, and every thread has its own JIT, so one warm-up can leave the thread
 * of the timed run cold (measured 2026-12-03: the seed's size-0 program with a worker
 * producer 1.64-1.73 us a value after four warm-ups of n/10, 2.3-3.1 us after one; buffered
 * 365-449 against 451-517 ns). Main-thread programs keep one.
 */
export const WARMUPS_ACROSS_THREADS = 4

/** Runs `once` untimed `times` times (the warm-ups; see WARMUPS_ACROSS_THREADS). */
export async function warmUp(times: number, once: () => Promise<unknown>): Promise<void> {
  for (let k = 0; k < times; k++) await once()
}

export function nowNs(): number {
  return Number(process.hrtime.bigint())
}

/** The index-th program argument as an integer >= min (default 1). */
export function intArg(index: number, name: string, min = 1): number {
  const raw = process.argv[2 + index]
  const value = Number(raw)
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(value) || value < min) {
    usage(`<${name}> must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
  }
  return value
}

export function stringArg<T extends string>(index: number, name: string, allowed: readonly T[]): T {
  const raw = process.argv[2 + index]
  if (!allowed.includes(raw as T)) usage(`<${name}> must be one of ${allowed.join('|')}, got ${JSON.stringify(raw)}`)
  return raw as T
}

function usage(message: string): never {
  process.stderr.write(`${process.argv[1]}: ${message}\n`)
  process.exit(2)
}

/**
 * Sum, count and FIFO check for values that producer p sends as p*perProducer + 0, 1, 2, ...
 * `bad` counts values that did not arrive in their producer's order. The checksum is
 * "count:sum:bad"; the runner expects "N:N(N-1)/2:0".
 */
export class OrderCheck {
  /** next[p]: the value producer p should deliver next. */
  private readonly next: number[]
  count = 0
  total = 0
  bad = 0
  private readonly perProducer: number
  constructor(producers: number, perProducer: number) {
    this.perProducer = perProducer
    this.next = Array.from({ length: producers }, (_, p) => p * perProducer)
  }

  see(x: number): void {
    const p = Math.floor(x / this.perProducer)
    if (this.next[p] !== x) this.bad++
    else this.next[p] = x + 1
    this.count++
    this.total += x
  }

  checksum(): string {
    return `${this.count}:${this.total}:${this.bad}`
  }
}

/** Trial division, the same loop as the Python and Go programs. */
export function isPrime(n: number): boolean {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false
  }
  return true
}

export function countPrimes(lo: number, hi: number): number {
  let c = 0
  for (let n = lo; n < hi; n++) if (isPrime(n)) c++
  return c
}

/**
 * cpu_parallel's share of producer `first` out of `step`: the primes in the blocks
 * [b*block, (b+1)*block) below `limit` for b = first, first+step, first+2*step, ... — the same
 * block-cyclic split as the Python and Go programs (see the bench README: contiguous ranges
 * gave the producers unequal work, since trial division costs more for larger numbers).
 */
export function countPrimesInBlocks(first: number, step: number, limit: number, block: number): number {
  let c = 0
  for (let lo = first * block; lo < limit; lo += step * block) c += countPrimes(lo, Math.min(lo + block, limit))
  return c
}
