/**
 * What the bench runs: every (benchmark, implementation) pair, the program and arguments for
 * each mode, the checksum the runner expects, and the ratios (with the goals) it reports.
 *
 * Sizes: per-item benchmarks (ns/item, ns/task, µs/task) do not depend on N once N is large
 * enough to dwarf start-up, so each implementation gets an N that keeps its run near a second
 * (Python/Trio gets ~40x fewer items than Go; cross-thread gotrio variants, which cost
 * microseconds per item in the first implementation, get fewer too). cpu_parallel reports seconds, so every
 * implementation gets the same work there. The size actually run is printed in the table.
 */
import { channelChecksum, primesBelow, roundtripChecksum, spawnChecksum } from './expected.ts'
import { lockJobs, lockRatioSpecs } from './lock-specs.ts'

export const IMPLS = [
  'gotrio-main',
  'gotrio-shared',
  'gotrio-shared-drain',
  'gotrio-shared-batch',
  'gotrio-shared-w2w',
  'gotrio-workers',
  'gotrio-pool',
  'python-trio',
  'python-trio-threads',
  'go',
  'postmessage',
  'node-als-floor',
  'node-sab-ring',
  'node-sab-ring-mpmc',
  'node-sab-handoff',
  'piscina-raw',
  'node-workers-raw',
  'gotrio-nats',
  'nats-raw',
  'gotrio-shared-sync',
  'node-cas-spin',
  'gotrio-pool-warm',
  'peer-effection',
  'peer-ts-chan',
  'peer-ts-chan-unsafe',
  'peer-multithreading',
] as const
export type Impl = (typeof IMPLS)[number]
export type Metric = 'ns_per_item' | 'ns_per_task' | 'us_per_task' | 'seconds' | 'speedup'
export type Mode = 'full' | 'quick' | 'smoke'
export type Toolchain = 'node' | 'python' | 'go'

export const BENCHMARKS = [
  'seed_producer_unbuffered',
  'seed_producer_buffered',
  'chan_of_chan',
  'fan_in',
  'cpu_parallel',
  'spawn',
  'shared_int32_throughput',
  'shared_structured_throughput',
  'worker_task_roundtrip',
  'select',
  'nats_channel',
  'nats_task_roundtrip',
  'lock_uncontended',
  'lock_contended',
  'worker_task_cold_start',
] as const
export type Benchmark = (typeof BENCHMARKS)[number]

export interface Job {
  benchmark: Benchmark
  impl: Impl
  toolchain: Toolchain
  /** Path under bench/: a .py or .ts file, or for Go the program name (built to .bench-out). */
  program: string
  args: string[]
  /** The checksum every result line must carry. */
  expected: string
  /** The metrics the program must report, one JSON line each. */
  metrics: Metric[]
  /** Human-readable size, e.g. "2000000" or "4x500000". */
  size: string
}

export const REPETITIONS: Record<Mode, number> = { full: 5, quick: 3, smoke: 1 }

/** Seconds before a single program run is killed and reported as failed. */
export const TIMEOUT_S: Record<Mode, number> = { full: 240, quick: 120, smoke: 60 }

/** Items per channel in chan_of_chan (C channels x this many items). */
const ITEMS_PER_CHANNEL: Record<Mode, number> = { full: 1000, quick: 1000, smoke: 20 }

/**
 * cpu_parallel range per producer; the same for every implementation. A full-size parallel run
 * lasts about 0.2 s in Node (K = 4): long enough that starting and joining the producers
 * (about 2.5 ms) is not what is measured.
 */
const PRIME_RANGE: Record<Mode, number> = { full: 1_000_000, quick: 500_000, smoke: 2_000 }

/**
 * cpu_parallel (baseline, parallel) pairs per process; the program reports the median pair
 * (README: "Pairs"). Python gets one: its pair takes about 24 s at full size, and its speed-up
 * (about 1, the GIL) is not what the pairs guard against.
 */
const CPU_PAIRS: Record<Mode, Record<Toolchain, number>> = {
  full: { node: 5, go: 5, python: 1 },
  quick: { node: 3, go: 3, python: 1 },
  smoke: { node: 2, go: 2, python: 1 }, // two, so that CI runs the pairs loop and its median
}

/**
 * cpu_parallel's block: [0, K*R) is dealt to the K producers round-robin in blocks of this many
 * numbers (producer k takes blocks k, k+K, ...), so each gets an equal share of the costlier
 * large numbers. It divides every PRIME_RANGE, so each producer checks exactly R numbers.
 */
const PRIME_BLOCK = 1_000

type Sizes = [full: number, quick: number, smoke: number]
const pick = (mode: Mode, [full, quick, smoke]: Sizes): number => (mode === 'full' ? full : mode === 'quick' ? quick : smoke)

export function jobsFor(mode: Mode, cores: number): Job[] {
  const jobs: Job[] = []
  const add = (job: Job): void => void jobs.push(job)
  const channel = (benchmark: Benchmark, impl: Impl, toolchain: Toolchain, program: string, prefix: string[], sizes: Sizes): void => {
    const n = pick(mode, sizes)
    add({
      benchmark,
      impl,
      toolchain,
      program,
      args: [...prefix, String(n)],
      expected: channelChecksum(n),
      metrics: ['ns_per_item'],
      size: String(n),
    })
  }

  // The seed's producer -> consumer, unbuffered (rendezvous) and buffered (1024).
  for (const [benchmark, buffer] of [
    ['seed_producer_unbuffered', '0'],
    ['seed_producer_buffered', '1024'],
  ] as const) {
    const unbuffered = buffer === '0'
    channel(
      benchmark,
      'gotrio-main',
      'node',
      'gotrio/seed_producer.ts',
      ['main', buffer],
      unbuffered ? [2_000_000, 1_000_000, 1_000] : [5_000_000, 2_000_000, 1_000],
    )
    channel(
      benchmark,
      'gotrio-shared',
      'node',
      'gotrio/seed_producer.ts',
      ['shared', buffer],
      // Timed runs of about a second, as the main-thread and Go rows. At 20,000 values (while a
      // value cost ~28 µs) the run was mostly warm-up: 5.5-6.0 µs per value against 2.3-2.4 at
      // 200,000. At 200,000 (~0.1 s once values cost 0.2-0.8 µs) it still was (2026-12-04:
      // buffered 375-615 ns at 200,000, 160-164 at 2,000,000; size 0 710-762 at 200,000, 604-632
      // at 1,000,000). Part of it, seen with `--trace-opt`: the worker's `send` and producer loop
      // get their optimized code (TurboFan) during the timed run, after four warm-ups of 20,000,
      // and each compile takes a core from one of the two busy threads on a 2-core machine; not
      // all of it (forcing earlier tiering did not help in single runs, 2026-12-03). The README
      // quotes the shorter runs too.
      unbuffered ? [1_000_000, 1_000_000, 1_000] : [2_000_000, 1_000_000, 1_000],
    )
    channel(benchmark, 'python-trio', 'python', 'python/seed_producer.py', [buffer], [200_000, 100_000, 1_000])
    // The floor under the size-0 rows with a worker producer: a bare one-word hand-off, no library.
    if (unbuffered) channel(benchmark, 'node-sab-handoff', 'node', 'node/sab_handoff.ts', [], [2_000_000, 1_000_000, 1_000])
    channel(benchmark, 'go', 'go', 'seed_producer', [buffer], unbuffered ? [5_000_000, 2_000_000, 1_000] : [20_000_000, 8_000_000, 1_000])
  }

  // The seed's channel of channels: C unbuffered channels of M items each.
  const m = ITEMS_PER_CHANNEL[mode]
  const chanOfChan = (impl: Impl, toolchain: Toolchain, program: string, prefix: string[], channels: Sizes): void => {
    const c = pick(mode, channels)
    add({
      benchmark: 'chan_of_chan',
      impl,
      toolchain,
      program,
      args: [...prefix, String(c), String(m)],
      expected: channelChecksum(c * m),
      metrics: ['ns_per_item'],
      size: `${c}x${m}`,
    })
  }
  chanOfChan('gotrio-main', 'node', 'gotrio/chan_of_chan.ts', ['main'], [2_000, 1_000, 5])
  // At 20 channels the run was mostly warm-up (14 µs per value against 4.5-6.6 at 100); at 200
  // (after warm-ups of 4 x 20) it still was: a process's first ~100 channels cost 7-12 µs a value,
  // the next ~200 1.2-4.1, later ones mostly 0.74-0.98 (2026-12-03; README "The channel of channels
  // across threads"). 1,000 channels time channels 400-1,400 of the process (800: 320-1,120).
  chanOfChan('gotrio-shared', 'node', 'gotrio/chan_of_chan.ts', ['shared'], [1_000, 800, 5])
  chanOfChan('python-trio', 'python', 'python/chan_of_chan.py', [], [200, 100, 5])
  chanOfChan('go', 'go', 'chan_of_chan', [], [5_000, 2_000, 5])

  // JavaScript peers on the main thread (bench/node/peers/): Effection 4 and ts-chan (its default
  // safe mode, and setUnsafe(true)), the buffered seed and fan-in, as their docs write them.
  for (const [which, benchmark] of [
    ['seed_buffered', 'seed_producer_buffered'],
    ['fan_in', 'fan_in'],
  ] as const) {
    channel(benchmark, 'peer-effection', 'node', 'node/peers/effection.ts', [which], [200_000, 100_000, 1_000])
    channel(benchmark, 'peer-ts-chan', 'node', 'node/peers/ts_chan.ts', [which], [500_000, 200_000, 1_000])
  }
  {
    const n = pick(mode, [1_000_000, 500_000, 1_000])
    add({
      benchmark: 'seed_producer_buffered',
      impl: 'peer-ts-chan-unsafe',
      toolchain: 'node',
      program: 'node/peers/ts_chan.ts',
      args: ['seed_buffered', String(n), 'unsafe'],
      expected: channelChecksum(n),
      metrics: ['ns_per_item'],
      size: String(n),
    })
  }

  // 4 producers -> 1 consumer over one buffered channel (N is a multiple of 4).
  channel('fan_in', 'gotrio-main', 'node', 'gotrio/fan_in.ts', ['main'], [4_000_000, 2_000_000, 1_000])
  // As seed_producer_buffered's gotrio-shared row (above): runs of about a second, past the JIT's warm-up.
  channel('fan_in', 'gotrio-shared', 'node', 'gotrio/fan_in.ts', ['shared'], [2_000_000, 1_000_000, 1_000])
  channel('fan_in', 'python-trio', 'python', 'python/fan_in.py', [], [200_000, 100_000, 1_000])
  channel('fan_in', 'go', 'go', 'fan_in', [], [20_000_000, 8_000_000, 1_000])

  // select over two buffered channels kept full by two producers (ns per select; N is even):
  // on the main thread, with the producers in workers (woken across threads), and Go's select.
  channel('select', 'gotrio-main', 'node', 'gotrio/select.ts', ['main'], [2_000_000, 1_000_000, 1_000])
  channel('select', 'gotrio-shared', 'node', 'gotrio/select.ts', ['shared'], [400_000, 200_000, 1_000])
  channel('select', 'go', 'go', 'select', [], [10_000_000, 4_000_000, 1_000])

  // CPU-bound: K = 2 x cores producers, the same shares for every implementation.
  const k = 2 * cores
  const r = PRIME_RANGE[mode]
  const primes = primesBelow(k * r)
  const cpu = (impl: Impl, toolchain: Toolchain, program: string, prefix: string[]): void =>
    add({
      benchmark: 'cpu_parallel',
      impl,
      toolchain,
      program,
      args: [...prefix, String(k), String(r), String(PRIME_BLOCK), String(CPU_PAIRS[mode][toolchain])],
      expected: primes,
      metrics: ['seconds', 'speedup'],
      size: `${k}x${r}/${PRIME_BLOCK}`,
    })
  cpu('gotrio-workers', 'node', 'gotrio/cpu_parallel.ts', ['workers'])
  cpu('gotrio-main', 'node', 'gotrio/cpu_parallel.ts', ['main'])
  cpu('python-trio', 'python', 'python/cpu_parallel.py', ['tasks'])
  cpu('python-trio-threads', 'python', 'python/cpu_parallel.py', ['threads'])
  cpu('go', 'go', 'cpu_parallel', [])
  cpu('node-workers-raw', 'node', 'node/cpu_parallel_raw.ts', [])

  // Start and join N trivial tasks.
  const spawn = (impl: Impl, toolchain: Toolchain, program: string, sizes: Sizes): void => {
    const n = pick(mode, sizes)
    add({
      benchmark: 'spawn',
      impl,
      toolchain,
      program,
      args: [String(n)],
      expected: spawnChecksum(n),
      metrics: ['ns_per_task'],
      size: String(n),
    })
  }
  spawn('gotrio-main', 'node', 'gotrio/spawn.ts', [1_000_000, 500_000, 100])
  spawn('python-trio', 'python', 'python/spawn.py', [100_000, 50_000, 100])
  spawn('go', 'go', 'spawn', [2_000_000, 1_000_000, 100])

  // Worker -> main thread: a shared channel against one postMessage per value. gotrio-shared
  // consumes with `for await`, gotrio-shared-drain with receiveNowait() (awaiting receive() only
  // when the ring is empty); gotrio-shared-w2w is worker -> worker with sendSync/receiveSync;
  // node-als-floor is a bare `for await` under AsyncLocalStorage (Node 20's floor, no channel).
  // gotrio's rows as many values as the bare rings' (int32) and about half a second (structured):
  // at 1,000,000 int32 values (~0.16 s) and 500,000 in --quick the timed run still held the JIT's
  // warm-up (quick: 174-317 ns a value against 168-259 at 1,000,000 in direct runs, 2026-12-04),
  // as the seed's rows above.
  for (const [benchmark, kind, gotrioSizes, otherSizes] of [
    ['shared_int32_throughput', 'int32', [5_000_000, 2_000_000, 1_000], [1_000_000, 500_000, 1_000]],
    ['shared_structured_throughput', 'structured', [1_000_000, 500_000, 1_000], [500_000, 250_000, 1_000]],
  ] as const) {
    const g = [...gotrioSizes] as Sizes
    channel(benchmark, 'gotrio-shared', 'node', 'gotrio/shared_throughput.ts', [kind, 'forawait'], g)
    channel(benchmark, 'gotrio-shared-drain', 'node', 'gotrio/shared_throughput.ts', [kind, 'drain'], g)
    if (kind === 'int32') channel(benchmark, 'gotrio-shared-batch', 'node', 'gotrio/shared_throughput.ts', [kind, 'batch'], g)
    channel(benchmark, 'gotrio-shared-w2w', 'node', 'gotrio/shared_throughput.ts', [kind, 'w2w'], g)
    channel(benchmark, 'postmessage', 'node', 'node/postmessage.ts', [kind], [...otherSizes] as Sizes)
    channel(benchmark, 'node-als-floor', 'node', 'node/als_floor.ts', [kind], [...otherSizes] as Sizes)
  }
  // The floor under every int32 row: a bare SharedArrayBuffer ring, no library (node/sab_ring.ts),
  // single-producer/single-consumer and the many-producer/many-consumer kind a channel needs.
  channel('shared_int32_throughput', 'node-sab-ring', 'node', 'node/sab_ring.ts', ['spsc'], [5_000_000, 2_000_000, 1_000])
  channel('shared_int32_throughput', 'node-sab-ring-mpmc', 'node', 'node/sab_ring.ts', ['mpmc'], [5_000_000, 2_000_000, 1_000])
  // The JavaScript peer across threads: the `multithreading` package's MPMC channel (node/peers/).
  channel('shared_int32_throughput', 'peer-multithreading', 'node', 'node/peers/multithreading.ts', [], [1_000_000, 200_000, 1_000])

  // One trivial task at a time through the pool: gotrio worker task against raw piscina.run().
  const roundtrip = (impl: Impl, program: string, sizes: Sizes): void => {
    const n = pick(mode, sizes)
    add({
      benchmark: 'worker_task_roundtrip',
      impl,
      toolchain: 'node',
      program,
      args: [String(n)],
      expected: roundtripChecksum(n),
      metrics: ['us_per_task'],
      size: String(n),
    })
  }
  roundtrip('gotrio-pool', 'gotrio/worker_task_roundtrip.ts', [20_000, 10_000, 100])
  roundtrip('piscina-raw', 'node/piscina_raw.ts', [20_000, 10_000, 100])

  // Across processes through a nats-server (NATS_URL, or one started by the program): gotrio's
  // NATS channel and remote task against the raw client doing the same in the same run.
  const nats = (benchmark: 'nats_channel' | 'nats_task_roundtrip', impl: Impl, program: string, pre: string[], sizes: Sizes): void => {
    const n = pick(mode, sizes)
    const channelRow = benchmark === 'nats_channel'
    add({
      benchmark,
      impl,
      toolchain: 'node',
      program,
      args: [...pre, String(n)],
      size: String(n),
      expected: channelRow ? channelChecksum(n) : roundtripChecksum(n),
      metrics: [channelRow ? 'ns_per_item' : 'us_per_task'],
    })
  }
  nats('nats_channel', 'gotrio-nats', 'gotrio/nats_channel.ts', [], [20_000, 5_000, 200])
  nats('nats_channel', 'nats-raw', 'node/nats_raw.ts', ['channel'], [20_000, 5_000, 200])
  nats('nats_task_roundtrip', 'gotrio-nats', 'gotrio/nats_task_roundtrip.ts', [], [5_000, 2_000, 50])
  nats('nats_task_roundtrip', 'nats-raw', 'node/nats_raw.ts', ['roundtrip'], [5_000, 2_000, 50])

  lockJobs(mode, add) // lib/lock-specs.ts
  // The first worker task of a program: on a fresh pool (cold), and after warmUpWorkers() (warm).
  for (const [impl, variant] of [
    ['gotrio-pool', 'cold'],
    ['gotrio-pool-warm', 'warm'],
  ] as const) {
    add({
      benchmark: 'worker_task_cold_start',
      impl,
      toolchain: 'node',
      program: 'gotrio/cold_start.ts',
      args: [variant],
      expected: '1:1',
      metrics: ['us_per_task'],
      size: '1',
    })
  }

  return jobs
}

/** One side of a ratio: a median from this run. */
export interface Ref {
  benchmark: Benchmark
  impl: Impl
  metric: Metric
}

export interface RatioSpec {
  /** What the ratio says, e.g. "gotrio-main is N× faster than Trio". */
  label: string
  /** ratio = numerator median / denominator median; without a denominator the numerator is
   * already a ratio (a speed-up) and is reported as it is. */
  numerator: Ref
  denominator?: Ref
  /** The goal, if this ratio has one; `cores` is filled in for the speed-up goal. */
  goal?: { op: '>=' | '<='; value: number; text: string }
}

const ref = (benchmark: Benchmark, impl: Impl, metric: Metric = 'ns_per_item'): Ref => ({ benchmark, impl, metric })

export function ratioSpecs(cores: number): RatioSpec[] {
  const specs: RatioSpec[] = []
  const perItem = ['seed_producer_unbuffered', 'seed_producer_buffered', 'chan_of_chan', 'fan_in'] as const
  for (const b of perItem) {
    specs.push({
      label: `${b}: Trio ÷ gotrio-main (× faster than Trio)`,
      numerator: ref(b, 'python-trio'),
      denominator: ref(b, 'gotrio-main'),
      goal: { op: '>=', value: 40, text: '≥ 40' },
    })
    // Unbuffered and channel of channels: ≤ 2× Go; buffered and fan-in: ≤ 3× Go (a bare
    // `for await` step alone costs about Go's whole buffered hand-off).
    const goGoal = b === 'seed_producer_buffered' || b === 'fan_in' ? 3 : 2
    specs.push({
      label: `${b}: gotrio-main ÷ Go (× Go's time)`,
      numerator: ref(b, 'gotrio-main'),
      denominator: ref(b, 'go'),
      goal: { op: '<=', value: goGoal, text: `≤ ${goGoal}` },
    })
  }
  for (const b of perItem) {
    specs.push({ label: `${b}: gotrio-shared ÷ Go (× Go's time)`, numerator: ref(b, 'gotrio-shared'), denominator: ref(b, 'go') })
  }
  // Size 0 with a worker producer against the bare one-word hand-off (node/sab_handoff.ts):
  // a rendezvous across threads cannot beat that round trip.
  for (const [b, goal] of [
    ['seed_producer_unbuffered', 1.5],
    ['chan_of_chan', 2],
  ] as const) {
    specs.push({
      label: `${b}: gotrio-shared ÷ node-sab-handoff (× the bare hand-off's time)`,
      numerator: ref(b, 'gotrio-shared'),
      denominator: ref('seed_producer_unbuffered', 'node-sab-handoff'),
      goal: { op: '<=', value: goal, text: `≤ ${goal}` },
    })
    specs.push({
      label: `${b}: Trio ÷ gotrio-shared (× faster than Trio, producers in workers)`,
      numerator: ref(b, 'python-trio'),
      denominator: ref(b, 'gotrio-shared'),
      goal: { op: '>=', value: 10, text: '≥ 10' },
    })
  }
  specs.push({
    label: "shared_int32_throughput: gotrio-shared-batch (receiveMany(64)) ÷ Go buffered channel (× Go's time)",
    numerator: ref('shared_int32_throughput', 'gotrio-shared-batch'),
    denominator: ref('seed_producer_buffered', 'go'),
    goal: { op: '<=', value: 1, text: '≤ 1' },
  })
  specs.push({
    label: "select: gotrio-main ÷ Go (× Go's time)",
    numerator: ref('select', 'gotrio-main'),
    denominator: ref('select', 'go'),
    goal: { op: '<=', value: 3, text: '≤ 3' },
  })
  specs.push({
    label: "select: gotrio-shared ÷ Go (× Go's time)",
    numerator: ref('select', 'gotrio-shared'),
    denominator: ref('select', 'go'),
  })
  specs.push({
    label: "shared_int32_throughput: gotrio-shared ÷ Go buffered channel (× Go's time)",
    numerator: ref('shared_int32_throughput', 'gotrio-shared'),
    denominator: ref('seed_producer_buffered', 'go'),
    goal: { op: '<=', value: 1.5, text: '≤ 1.5' },
  })
  specs.push({
    label: 'shared_int32_throughput: postMessage ÷ gotrio-shared (× faster than postMessage)',
    numerator: ref('shared_int32_throughput', 'postmessage'),
    denominator: ref('shared_int32_throughput', 'gotrio-shared'),
    goal: { op: '>=', value: 5, text: '≥ 5' },
  })
  specs.push({
    label: 'shared_structured_throughput: postMessage ÷ gotrio-shared (× faster than postMessage)',
    numerator: ref('shared_structured_throughput', 'postmessage'),
    denominator: ref('shared_structured_throughput', 'gotrio-shared'),
    goal: { op: '>=', value: 2, text: '≥ 2' },
  })
  specs.push({
    label: "shared_int32_throughput: peer-multithreading ÷ gotrio-shared (× faster than the `multithreading` package's channel)",
    numerator: ref('shared_int32_throughput', 'peer-multithreading'),
    denominator: ref('shared_int32_throughput', 'gotrio-shared'),
    goal: { op: '>=', value: 1, text: '≥ 1 (faster)' },
  })
  // The other consumer forms and the floor: information next to the goals above (which are
  // the for-await form's), from the same run.
  for (const impl of ['gotrio-shared-drain', 'gotrio-shared-w2w'] as const) {
    specs.push({
      label: `shared_int32_throughput: ${impl} ÷ Go buffered channel (× Go's time)`,
      numerator: ref('shared_int32_throughput', impl),
      denominator: ref('seed_producer_buffered', 'go'),
    })
  }
  for (const b of ['shared_int32_throughput', 'shared_structured_throughput'] as const) {
    for (const impl of ['gotrio-shared-drain', 'gotrio-shared-w2w'] as const) {
      specs.push({
        label: `${b}: postMessage ÷ ${impl} (× faster than postMessage)`,
        numerator: ref(b, 'postmessage'),
        denominator: ref(b, impl),
      })
    }
    specs.push({
      label: `${b}: gotrio-shared (for await) ÷ node-als-floor (× Node 20's ALS for-await floor)`,
      numerator: ref(b, 'gotrio-shared'),
      denominator: ref(b, 'node-als-floor'),
    })
    specs.push({
      label: `${b}: postMessage ÷ node-als-floor (the best a for-await consumer could do against postMessage)`,
      numerator: ref(b, 'postmessage'),
      denominator: ref(b, 'node-als-floor'),
    })
  }
  // What the int32 goals stand on: the bare ring's time against Go's buffered channel is the
  // least any JavaScript shared-memory channel could reach here.
  for (const impl of ['node-sab-ring', 'node-sab-ring-mpmc'] as const) {
    specs.push({
      label: `shared_int32_throughput: ${impl} (bare SAB ring, no library) ÷ Go buffered channel (× Go's time: the floor)`,
      numerator: ref('shared_int32_throughput', impl),
      denominator: ref('seed_producer_buffered', 'go'),
    })
  }
  for (const impl of ['gotrio-shared-drain', 'gotrio-shared-w2w'] as const) {
    specs.push({
      label: `shared_int32_throughput: ${impl} ÷ node-sab-ring-mpmc (× the many-producer floor)`,
      numerator: ref('shared_int32_throughput', impl),
      denominator: ref('shared_int32_throughput', 'node-sab-ring-mpmc'),
    })
  }
  const speedupGoal = 0.9 * cores
  specs.push({
    label: `cpu_parallel: gotrio-workers speed-up over one thread (${cores} cores)`,
    numerator: ref('cpu_parallel', 'gotrio-workers', 'speedup'),
    goal: { op: '>=', value: speedupGoal, text: `≥ ${speedupGoal.toFixed(1)} (0.9 × ${cores} cores)` },
  })
  specs.push({
    label: 'cpu_parallel: gotrio-workers speed-up ÷ Go speed-up (same machine, same load)',
    numerator: ref('cpu_parallel', 'gotrio-workers', 'speedup'),
    denominator: ref('cpu_parallel', 'go', 'speedup'),
  })
  specs.push({
    label: 'cpu_parallel: gotrio-workers speed-up ÷ node-workers-raw speed-up (what the library costs over plain worker_threads)',
    numerator: ref('cpu_parallel', 'gotrio-workers', 'speedup'),
    denominator: ref('cpu_parallel', 'node-workers-raw', 'speedup'),
  })
  for (const impl of ['go', 'node-workers-raw', 'gotrio-main', 'python-trio', 'python-trio-threads'] as const) {
    specs.push({ label: `cpu_parallel: ${impl} speed-up over one thread`, numerator: ref('cpu_parallel', impl, 'speedup') })
  }
  specs.push({
    label: 'cpu_parallel: Trio (to_thread) seconds ÷ gotrio-workers seconds',
    numerator: ref('cpu_parallel', 'python-trio-threads', 'seconds'),
    denominator: ref('cpu_parallel', 'gotrio-workers', 'seconds'),
  })
  specs.push({
    label: 'spawn: Trio ÷ gotrio-main',
    numerator: ref('spawn', 'python-trio', 'ns_per_task'),
    denominator: ref('spawn', 'gotrio-main', 'ns_per_task'),
  })
  specs.push({
    label: 'spawn: gotrio-main ÷ Go',
    numerator: ref('spawn', 'gotrio-main', 'ns_per_task'),
    denominator: ref('spawn', 'go', 'ns_per_task'),
    goal: { op: '<=', value: 2, text: '≤ 2' },
  })
  specs.push({
    label: "worker_task_roundtrip: gotrio-pool ÷ raw Piscina (× Piscina's time)",
    numerator: ref('worker_task_roundtrip', 'gotrio-pool', 'us_per_task'),
    denominator: ref('worker_task_roundtrip', 'piscina-raw', 'us_per_task'),
    goal: { op: '<=', value: 1.3, text: '≤ 1.3' },
  })
  specs.push({
    label: 'nats_channel: gotrio-nats ÷ raw JetStream client (× raw time)',
    numerator: ref('nats_channel', 'gotrio-nats', 'ns_per_item'),
    denominator: ref('nats_channel', 'nats-raw', 'ns_per_item'),
    goal: { op: '<=', value: 1.3, text: '≤ 1.3' },
  })
  specs.push({
    label: 'nats_task_roundtrip: gotrio remote task ÷ raw NATS request/reply (× raw time)',
    numerator: ref('nats_task_roundtrip', 'gotrio-nats', 'us_per_task'),
    denominator: ref('nats_task_roundtrip', 'nats-raw', 'us_per_task'),
  })
  specs.push(...lockRatioSpecs()) // lib/lock-specs.ts
  return specs
}
