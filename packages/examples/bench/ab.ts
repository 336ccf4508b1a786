/**
 * Before/after in one run: the same bench programs from two checkouts of gotrio, interleaved
 * (base, head, base, head, ...), so both see the same machine. For a change that must not cost
 * the plain operations anything (issue 15: select), or to check a suspected regression.
 *
 * usage: node packages/examples/bench/ab.ts <base-checkout> [rounds] [--only WORD,...]
 *   <base-checkout>  another checkout of this repository, installed (`pnpm install`), at the
 *                    revision to compare against; this checkout is the head
 *   rounds           repetitions of every program in each checkout (default 5)
 *
 * Prints one row per program: the median of each side, the head ÷ base ratio, and both ranges.
 * Speed claims come from these ratios, measured in the same run (never from a duration alone).
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fmt, summarize } from './lib/stats.ts'

interface Job {
  name: string
  program: string
  args: string[]
}

/** Plain channel operations on the main thread and across threads (the rows a protocol change could slow). */
const JOBS: Job[] = [
  { name: 'memory unbuffered (seed, main thread)', program: 'gotrio/seed_producer.ts', args: ['main', '0', '400000'] },
  { name: 'memory buffered 1024 (seed, main thread)', program: 'gotrio/seed_producer.ts', args: ['main', '1024', '2000000'] },
  { name: 'shared unbuffered (seed, producer in a worker)', program: 'gotrio/seed_producer.ts', args: ['shared', '0', '100000'] },
  { name: 'shared buffer 1 (seed, producer in a worker)', program: 'gotrio/seed_producer.ts', args: ['shared', '1', '100000'] },
  { name: 'shared buffered 1024 (seed, producer in a worker)', program: 'gotrio/seed_producer.ts', args: ['shared', '1024', '400000'] },
  { name: 'shared fan-in 4 to 1 (producers in workers)', program: 'gotrio/fan_in.ts', args: ['shared', '400000'] },
  { name: 'shared int32 for await', program: 'gotrio/shared_throughput.ts', args: ['int32', 'forawait', '1000000'] },
  { name: 'shared structured for await', program: 'gotrio/shared_throughput.ts', args: ['structured', 'forawait', '400000'] },
  { name: 'shared int32 receiveMany(64) batches', program: 'gotrio/shared_throughput.ts', args: ['int32', 'batch', '1000000'] },
  { name: 'shared int32 worker to worker', program: 'gotrio/shared_throughput.ts', args: ['int32', 'w2w', '1000000'] },
  { name: 'shared channel of channels (size 0, producers in workers)', program: 'gotrio/chan_of_chan.ts', args: ['shared', '200', '1000'] },
  { name: 'shared select (producers in workers)', program: 'gotrio/select.ts', args: ['shared', '200000'] },
  { name: 'worker task round trip', program: 'gotrio/worker_task_roundtrip.ts', args: ['20000'] },
]

const argv = process.argv.slice(2)
let only: string[] | undefined
const positional: string[] = []
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean)
  else positional.push(argv[i]!)
}
const base = positional[0]
if (base === undefined || !existsSync(resolve(base, 'packages/examples/bench'))) {
  console.error('usage: node packages/examples/bench/ab.ts <base-checkout> [rounds] [--only WORD,...]')
  console.error('  <base-checkout>: another checkout of gotrio, installed, at the revision to compare against')
  process.exit(2)
}
const rounds = Number(positional[1] ?? 5)
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`ab.ts: rounds must be a positive integer, got ${positional[1]}`)
  process.exit(2)
}
const head = resolve(import.meta.dirname, '../../..')
const sides = [
  ['base', resolve(base)],
  ['head', head],
] as const
const jobs = JOBS.filter((j) => only === undefined || only.some((w) => j.name.includes(w) || j.program.includes(w)))

/** One run of a program in a checkout: the value it emitted (its unit), or an error. */
function once(root: string, job: Job): { value: number; unit: string } {
  const program = resolve(root, 'packages/examples/bench', job.program)
  const r = spawnSync(process.execPath, [program, ...job.args], { cwd: root, encoding: 'utf8', timeout: 600_000 })
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (r.status !== 0 || line === undefined)
    throw new Error(`${job.program} ${job.args.join(' ')} in ${root} failed (exit ${r.status}):\n${r.stderr}`)
  const out = JSON.parse(line) as { value?: number; unit?: string; unavailable?: string }
  if (out.value === undefined) throw new Error(`${job.program} in ${root}: ${out.unavailable ?? 'no value'}`)
  return { value: out.value, unit: out.unit ?? '' }
}

const git = (root: string): string => spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()
console.log(`A/B, ${rounds} rounds interleaved, Node ${process.versions.node}: base ${git(sides[0][1])}, head ${git(head)}\n`)
console.log('| program | base (median) | head (median) | head ÷ base | base range | head range |')
console.log('|---|---|---|---|---|---|')
for (const job of jobs) {
  const got: Record<'base' | 'head', number[]> = { base: [], head: [] }
  let unit = ''
  for (let k = 0; k < rounds; k++) {
    // Alternate which side goes first, so neither always runs on a warmer (or hotter) machine.
    const order = k % 2 === 0 ? sides : ([sides[1], sides[0]] as const)
    for (const [side, root] of order) {
      const r = once(root, job)
      got[side].push(r.value)
      unit = r.unit
    }
  }
  const b = summarize(got.base)
  const h = summarize(got.head)
  const range = (x: { min: number; max: number }): string => `${fmt(x.min)} – ${fmt(x.max)}`
  console.log(
    `| ${job.name} | ${fmt(b.median)} ${unit} | ${fmt(h.median)} ${unit} | ${(h.median / b.median).toFixed(2)}× | ${range(b)} | ${range(h)} |`,
  )
}
