/**
 * gotrio bench runner: the same programs in gotrio, Python/Trio and Go, run side by side on
 * this machine, reported as medians (min–max) and ratios measured in the same run.
 *
 *   pnpm bench                 full run (5 repetitions, ~10 min on 2 cores); writes bench/results/
 *   pnpm bench --quick         3 repetitions, smaller sizes (< 4 min); writes .bench-out/quick/
 *   pnpm bench --smoke         tiny sizes, one repetition: checksums only, no timing claims
 *   options: --json FILE       also write the JSON document to FILE
 *            --out DIR         where results.json, results.md and chart.svg go
 *            --reps N          override the number of repetitions
 *            --only WORD[,..]  only jobs whose benchmark contains a word or whose impl is one
 *                              (`gotrio*` matches every gotrio impl)
 *            --strict          a gotrio program that reports "not available" is a failure
 *
 * How it runs: each program is its own process (one at a time, nothing else competing for the
 * cores) that times its own hot section after an untimed warm-up and prints JSON lines with a
 * checksum; the runner verifies every checksum against lib/expected.ts. Repetitions are
 * interleaved round-robin over all (benchmark, impl) pairs, so a slow phase of the machine hits
 * every implementation alike instead of one.
 *
 * Exit status: 0 when every program that ran gave verified results; 1 on any crash, timeout or
 * checksum mismatch (and, in --smoke with CI set, when Python/Trio or Go is missing).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runProgram, type Outcome } from './lib/exec.ts'
import { writeOutputs, type BenchDocument } from './lib/output.ts'
import { computeRatios, consoleRatios, consoleTable, makeRows } from './lib/report.ts'
import {
  BENCHMARKS,
  IMPLS,
  REPETITIONS,
  TIMEOUT_S,
  jobsFor,
  ratioSpecs,
  type Benchmark,
  type Impl,
  type Job,
  type Metric,
  type Mode,
} from './lib/specs.ts'
import { fmt, fmtDuration } from './lib/stats.ts'
import { INSTALL_HINT, NODE_TS_FLAGS, buildGo, describeMachine, detectGo, detectPython, gotrioRevision } from './lib/toolchains.ts'

const benchDir = dirname(fileURLToPath(import.meta.url))
const examplesDir = resolve(benchDir, '..')
const outRoot = join(examplesDir, '.bench-out')

// ---------------------------------------------------------------------------------- options

interface Options {
  mode: Mode
  json: string | null
  out: string | null
  reps: number
  only: string[]
  strict: boolean
}

function parseArgs(argv: string[]): Options {
  let mode: Mode = 'full'
  let json: string | null = null
  let out: string | null | undefined
  let reps: number | undefined
  let only: string[] = []
  let strict = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) die(`${a} needs a value`)
      return v
    }
    if (a === '--')
      continue // pnpm passes it through
    else if (a === '--quick') mode = 'quick'
    else if (a === '--smoke') mode = 'smoke'
    else if (a === '--json') json = resolve(process.env.INIT_CWD ?? process.cwd(), value())
    else if (a === '--out') out = resolve(process.env.INIT_CWD ?? process.cwd(), value())
    else if (a === '--reps') {
      reps = Number(value())
      if (!Number.isInteger(reps) || reps < 1) die('--reps needs a positive integer')
    } else if (a === '--only') only = value().split(',').filter(Boolean)
    else if (a === '--strict') strict = true
    else if (a === '--help' || a === '-h') {
      process.stdout.write(readHelp())
      process.exit(0)
    } else die(`unknown option ${a} (see --help)`)
  }
  if (out === undefined) out = mode === 'full' ? join(benchDir, 'results') : mode === 'quick' ? join(outRoot, 'quick') : null
  return { mode, json, out, reps: reps ?? REPETITIONS[mode], only, strict }
}

function readHelp(): string {
  return [
    'usage: pnpm bench [--quick | --smoke] [--json FILE] [--out DIR] [--reps N] [--only WORD,...] [--strict]',
    '  (default)   full run, 5 repetitions; results in packages/examples/bench/results/',
    '  --quick     smaller sizes, 3 repetitions (under 4 minutes on 2 cores)',
    '  --smoke     tiny sizes, 1 repetition, checksums only; non-zero exit on any failure',
    `  baselines:  ${INSTALL_HINT}`,
    '',
  ].join('\n')
}

function die(message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

// ---------------------------------------------------------------------------------- progress

const tty = process.stderr.isTTY === true
function progress(line: string, done = false): void {
  if (tty) process.stderr.write(`\r\x1b[K${line}${done ? '\n' : ''}`)
  else if (done) process.stderr.write(`${line}\n`)
}
function say(line: string): void {
  if (tty) process.stderr.write('\r\x1b[K')
  process.stderr.write(`${line}\n`)
}

// ---------------------------------------------------------------------------------- main

const opts = parseArgs(process.argv.slice(2))
const python = detectPython()
const go = detectGo()
const machine = describeMachine(python, go)
const startedAt = new Date()
const revision = gotrioRevision(resolve(examplesDir, '../..'))
const loadAtStart = loadavg()[0] ?? 0
/** Highest 1-minute load average seen before a program started (the bench itself adds ~1). */
let peakLoad = loadAtStart

say(`gotrio bench — ${opts.mode} mode, ${opts.reps} repetition${opts.reps === 1 ? '' : 's'}, round-robin`)
say(
  `machine: ${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · ${python.available ? python.detail : 'Python/Trio missing'} · ${go.available ? go.detail : 'Go missing'}`,
)

if (opts.mode !== 'smoke' && loadAtStart > 0.5) {
  say(`note: load average ${loadAtStart.toFixed(2)} at start — other processes are using the cores; timings will be noisier`)
}

let exitCode = 0
const skippedToolchains: string[] = []
for (const [name, status] of [
  ['python-trio', python],
  ['go', go],
] as const) {
  if (status.available) continue
  skippedToolchains.push(`${name}: ${status.detail}`)
  if (opts.mode === 'smoke' && process.env.CI) {
    say(`FAIL  ${name} baseline missing under CI: ${status.detail}`)
    exitCode = 1
  } else {
    say(`SKIP  ${name} baseline: ${status.detail}`)
  }
}
if (skippedToolchains.length > 0) say(`      install both baselines with: ${INSTALL_HINT}`)

let jobs = jobsFor(opts.mode, machine.cores).filter(
  (j) => (j.toolchain !== 'python' || python.available) && (j.toolchain !== 'go' || go.available),
)
const selected = (j: Job, w: string): boolean =>
  j.benchmark.includes(w) || j.impl === w || (w.endsWith('*') && j.impl.startsWith(w.slice(0, -1)))
if (opts.only.length > 0) jobs = jobs.filter((j) => opts.only.some((w) => selected(j, w)))
if (jobs.length === 0) die('no jobs to run')

const failures: { job: Job; reason: string; output: string }[] = []
let goBins = new Map<string, string>()
if (go.available && jobs.some((j) => j.toolchain === 'go')) {
  progress('building the Go programs…')
  try {
    goBins = buildGo(
      go.command,
      benchDir,
      outRoot,
      jobs.filter((j) => j.toolchain === 'go').map((j) => j.program),
    )
  } catch (err) {
    for (const job of jobs.filter((j) => j.toolchain === 'go')) failures.push({ job, reason: 'go build failed', output: String(err) })
    jobs = jobs.filter((j) => j.toolchain !== 'go')
  }
}

function command(job: Job): string[] {
  const file = join(benchDir, job.program)
  if (job.toolchain === 'python') return [python.command, file, ...job.args]
  if (job.toolchain === 'go') return [goBins.get(job.program)!, ...job.args]
  return [process.execPath, ...NODE_TS_FLAGS, file, ...job.args]
}

const key = (b: string, i: string, m = ''): string => `${b}\u0000${i}\u0000${m}`
const samples = new Map<string, { benchmark: Benchmark; impl: Impl; metric: Metric; size: string; values: number[] }>()
const notAvailable: { benchmark: Benchmark; impl: Impl; reason: string }[] = []
const dropped = new Set<Job>()
const total = jobs.length * opts.reps
let done = 0
let repStarted = Date.now()
let firstRepMs = 0

for (let rep = 0; rep < opts.reps; rep++) {
  repStarted = Date.now()
  for (const job of jobs) {
    done++
    if (dropped.has(job)) continue
    peakLoad = Math.max(peakLoad, loadavg()[0] ?? 0)
    const elapsed = Date.now() - startedAt.getTime()
    const eta = firstRepMs > 0 ? ` · about ${fmtDuration(Math.max(0, firstRepMs * opts.reps - elapsed))} left` : ''
    progress(
      `[rep ${rep + 1}/${opts.reps}] ${done}/${total} ${job.benchmark} · ${job.impl} (${job.size}) · ${fmtDuration(elapsed)} elapsed${eta}`,
    )
    const outcome: Outcome = await runProgram(job, command(job), examplesDir, TIMEOUT_S[opts.mode])
    if (outcome.kind === 'unavailable') {
      notAvailable.push({ benchmark: job.benchmark, impl: job.impl, reason: outcome.reason })
      dropped.add(job)
      say(`${opts.strict ? 'FAIL' : 'N/A '}  ${job.benchmark} · ${job.impl}: not available: ${outcome.reason}`)
      if (opts.strict) exitCode = 1
      continue
    }
    if (outcome.kind === 'failed') {
      failures.push({ job, reason: outcome.reason, output: outcome.output })
      dropped.add(job) // it would fail again; do not spend the remaining repetitions on it
      say(`FAIL  ${job.benchmark} · ${job.impl} (${job.size}): ${outcome.reason}`)
      if (outcome.output)
        say(
          outcome.output
            .split('\n')
            .slice(0, 12)
            .map((l) => `      | ${l}`)
            .join('\n'),
        )
      exitCode = 1
      continue
    }
    for (const m of outcome.measurements) {
      const k = key(job.benchmark, job.impl, m.metric)
      const s = samples.get(k) ?? { benchmark: job.benchmark, impl: job.impl, metric: m.metric, size: job.size, values: [] }
      s.values.push(m.value)
      samples.set(k, s)
    }
    if (opts.mode === 'smoke') {
      say(`ok    ${job.benchmark} · ${job.impl} (${job.size}): checksum ${job.expected} verified (${(outcome.wallMs / 1000).toFixed(1)} s)`)
    } else if (!tty) {
      const shown = outcome.measurements.map((m) => `${fmt(m.value)} ${m.unit}`).join(', ')
      say(`[rep ${rep + 1}/${opts.reps}] ${job.benchmark} · ${job.impl}: ${shown}`)
    }
  }
  if (rep === 0) firstRepMs = Date.now() - repStarted
}
// A program that crashed or mismatched in any repetition is broken: none of its numbers count.
for (const f of failures) for (const m of f.job.metrics) samples.delete(key(f.job.benchmark, f.job.impl, m))
progress(`finished ${total} runs in ${fmtDuration(Date.now() - startedAt.getTime())}`, true)
// The bench's own programs keep up to every core busy (worker pools, Go, the spinning rings), so
// only a load above the core count says that other processes competed.
if (opts.mode !== 'smoke' && peakLoad > machine.cores + 0.5) {
  say(
    `note: the 1-minute load average reached ${peakLoad.toFixed(2)} during the run, above the ${machine.cores} cores the bench itself can keep busy: ` +
      'other processes competed for the cores, so timings — speed-ups above all — understate this machine',
  )
}

// ---------------------------------------------------------------------------------- report

const order = (b: string, i: string): number => BENCHMARKS.indexOf(b as Benchmark) * 100 + IMPLS.indexOf(i as Impl)
const rows = makeRows(samples).sort((a, b) => order(a.benchmark, a.impl) - order(b.benchmark, b.impl) || a.metric.localeCompare(b.metric))
const ratios = computeRatios(rows, ratioSpecs(machine.cores))
const subtitle =
  `${opts.mode} mode, ${opts.reps} repetition${opts.reps === 1 ? '' : 's'} interleaved round-robin, ` +
  `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, gotrio ${revision}, peak load average ${peakLoad.toFixed(1)} (the bench's programs alone: up to the core count)`

if (opts.mode === 'smoke') {
  const ok = rows.length > 0 ? new Set(rows.map((r) => key(r.benchmark, r.impl))).size : 0
  process.stdout.write(
    `\nsmoke: ${ok} program${ok === 1 ? '' : 's'} verified, ${failures.length} failed, ${notAvailable.length} not available` +
      `${skippedToolchains.length ? `, ${skippedToolchains.length} baseline toolchain(s) missing` : ''}\n`,
  )
} else {
  process.stdout.write(
    `\n${subtitle}\n${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · Python ${machine.python ?? 'n/a'} / Trio ${machine.trio ?? 'n/a'} · Go ${machine.go ?? 'n/a'}\n\n`,
  )
  process.stdout.write(`${consoleTable(rows)}\n\nRatios (medians from this run; "×" of the right-hand side):\n${consoleRatios(ratios)}\n`)
}
if (notAvailable.length > 0) {
  process.stdout.write(
    `\nNot available (no number reported):\n${notAvailable.map((x) => `  ${x.benchmark} · ${x.impl}: ${x.reason}`).join('\n')}\n`,
  )
}
if (skippedToolchains.length > 0) {
  process.stdout.write(`\nBaselines not run:\n${skippedToolchains.map((s) => `  ${s}`).join('\n')}\n  install with: ${INSTALL_HINT}\n`)
}
if (failures.length > 0) {
  process.stdout.write(
    `\nFAILED:\n${failures.map((f) => `  ${f.job.benchmark} · ${f.job.impl} (${f.job.size}): ${f.reason}`).join('\n')}\n`,
  )
}

const document: BenchDocument = {
  machine,
  rows: rows.map(({ benchmark, impl, metric, value, unit, min, max }) => ({ benchmark, impl, metric, value, unit, min, max })),
  run: {
    mode: opts.mode,
    repetitions: opts.reps,
    date: startedAt.toISOString(),
    subtitle,
    revision,
    loadAverageAtStart: loadAtStart,
    peakLoadAverage: peakLoad,
    sizes: Object.fromEntries(rows.map((r) => [`${r.benchmark}/${r.impl}`, r.size])),
  },
  ratios,
  notAvailable,
  failed: failures.map((f) => ({ benchmark: f.job.benchmark, impl: f.job.impl, reason: f.reason })),
  baselinesMissing: skippedToolchains,
}
if (opts.json) {
  mkdirSync(dirname(opts.json), { recursive: true })
  writeFileSync(opts.json, `${JSON.stringify(document, null, 2)}\n`)
  say(`wrote ${opts.json}`)
}
if (opts.out && opts.mode !== 'smoke') {
  const files = writeOutputs(opts.out, document)
  say(`wrote ${files.join(', ')} to ${relative(process.env.INIT_CWD ?? process.cwd(), opts.out) || '.'}`)
}
process.exitCode = exitCode
