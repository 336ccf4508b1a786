/**
 * The bench chart: a dependency-free SVG of horizontal bars, one per implementation.
 *
 *   panel 1  ns per item / per task, log scale (shorter is faster), with min–max whiskers
 *   panel 2  cpu_parallel speed-up over one thread, linear, with the core count marked
 *   panel 3  worker_task_roundtrip, µs per task, linear
 *
 * (benchmark, impl) pairs that could not run are drawn as a grey "not available" line, so a
 * missing bar is never mistaken for a fast one.
 */
import type { Machine } from './toolchains.ts'
import type { Benchmark, Impl, Metric } from './specs.ts'
import { fmt } from './stats.ts'

export interface ChartRow {
  benchmark: Benchmark
  impl: Impl
  metric: Metric
  value: number
  min: number
  max: number
}

export interface ChartInput {
  machine: Machine
  subtitle: string
  rows: ChartRow[]
  /** (benchmark, impl) pairs that produced no number, with why. */
  missing: { benchmark: Benchmark; impl: Impl; reason: string }[]
}

const COLORS: Record<Impl, string> = {
  'gotrio-main': '#e8590c',
  'gotrio-shared': '#f59f00',
  'gotrio-shared-drain': '#fcc419',
  'gotrio-shared-batch': '#ffd43b',
  'gotrio-shared-w2w': '#ffe066',
  'gotrio-workers': '#c92a2a',
  'gotrio-pool': '#d6336c',
  'python-trio': '#1864ab',
  'python-trio-threads': '#4dabf7',
  go: '#0b7285',
  postmessage: '#868e96',
  'node-als-floor': '#adb5bd',
  'node-sab-ring': '#ced4da',
  'node-sab-ring-mpmc': '#dee2e6',
  'node-sab-handoff': '#e9ecef',
  'piscina-raw': '#495057',
  'node-workers-raw': '#343a40',
  'gotrio-nats': '#5f3dc4',
  'nats-raw': '#212529',
  'gotrio-shared-sync': '#ff922b',
  'node-cas-spin': '#5c940d',
  'gotrio-pool-warm': '#f06595',
  'peer-effection': '#d9480f',
  'peer-ts-chan': '#2b8a3e',
  'peer-ts-chan-unsafe': '#69db7c',
  'peer-multithreading': '#862e9c',
}

const WIDTH = 980
const LABEL_W = 300
const BAR_X = LABEL_W + 10
const BAR_W = 520
const ROW_H = 17
const GROUP_GAP = 12

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

interface Group {
  title: string
  benchmark: Benchmark
  metric: Metric
  unit: string
}

const PER_ITEM: Group[] = [
  { title: 'seed producer, unbuffered', benchmark: 'seed_producer_unbuffered', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'seed producer, buffered (1024)', benchmark: 'seed_producer_buffered', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'channel of channels', benchmark: 'chan_of_chan', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'fan-in, 4 producers', benchmark: 'fan_in', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'worker → main, int32', benchmark: 'shared_int32_throughput', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'worker → main, structured', benchmark: 'shared_structured_throughput', metric: 'ns_per_item', unit: 'ns/item' },
  { title: 'spawn + join a task', benchmark: 'spawn', metric: 'ns_per_task', unit: 'ns/task' },
]

export function renderChart(input: ChartInput): string {
  const out: string[] = []
  let y = 0
  const text = (x: number, ty: number, s: string, attrs = ''): void => {
    out.push(`<text x="${x}" y="${ty}" ${attrs}>${esc(s)}</text>`)
  }

  const m = input.machine
  y += 26
  text(12, y, 'gotrio vs Python/Trio vs Go — medians of the bench run (whiskers: min–max)', 'class="title"')
  y += 18
  text(
    12,
    y,
    `${m.cpu}, ${m.cores} cores · Node ${m.node} · Python ${m.python ?? 'n/a'} / Trio ${m.trio ?? 'n/a'} · Go ${m.go ?? 'n/a'}`,
    'class="sub"',
  )
  y += 15
  text(12, y, input.subtitle, 'class="sub"')
  y += 14

  // Panel 1: log-scale per-item costs.
  const perItem = input.rows.filter((r) => PER_ITEM.some((g) => g.benchmark === r.benchmark && g.metric === r.metric))
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...perItem.map((r) => r.min), 10))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...perItem.map((r) => r.max), 1000))))
  const logX = (v: number): number => BAR_X + (BAR_W * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo)
  y += 24
  text(12, y, 'Cost per item / per task — log scale, shorter is faster', 'class="panel"')
  y += 8
  const axisTop = y
  const ticks: number[] = []
  for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t)
  y = bars(out, y, PER_ITEM, input, logX, (g, r) => `${fmt(r.value)} ${g.unit}`)
  for (const t of ticks) {
    const x = logX(t)
    out.push(`<line x1="${x}" y1="${axisTop}" x2="${x}" y2="${y}" class="grid"/>`)
    text(x, y + 12, t >= 1000 ? `${t / 1000} µs` : `${t} ns`, 'class="tick" text-anchor="middle"')
  }
  y += 16

  // Panel 2: speed-up, linear, with the ideal (cores) and the goal (0.9 x cores) marked.
  const speedups = input.rows.filter((r) => r.benchmark === 'cpu_parallel' && r.metric === 'speedup')
  const sMax = Math.max(m.cores + 0.5, ...speedups.map((r) => r.max)) * 1.05
  const linS = (v: number): number => BAR_X + (BAR_W * v) / sMax
  y += 24
  text(12, y, `CPU-bound speed-up over the same work on one thread (K = ${2 * m.cores} producers) — longer is better`, 'class="panel"')
  y += 8
  const sTop = y
  y = bars(
    out,
    y,
    [{ title: 'cpu_parallel, primes by trial division', benchmark: 'cpu_parallel', metric: 'speedup', unit: '×' }],
    input,
    linS,
    (_g, r) => `${r.value.toFixed(2)}×`,
  )
  // Labels on two lines: the goal (0.9 x cores) and the ideal (cores) are close together.
  for (const [v, label, dy, anchor] of [
    [1, '1× = one thread', 12, 'middle'],
    [0.9 * m.cores, `goal ${(0.9 * m.cores).toFixed(1)}×`, 12, 'end'],
    [m.cores, `${m.cores}× = ${m.cores} cores`, 24, 'start'],
  ] as const) {
    const x = linS(v)
    out.push(`<line x1="${x}" y1="${sTop}" x2="${x}" y2="${y + dy - 9}" class="${v === 1 ? 'grid' : 'mark'}"/>`)
    text(x, y + dy, label, `class="tick" text-anchor="${anchor}"`)
  }
  y += 28

  // Panel 3: worker task round trip.
  const trips = input.rows.filter((r) => r.benchmark === 'worker_task_roundtrip')
  const tStep = niceStep(Math.max(1, ...trips.map((r) => r.max)) / 4)
  const tMax = tStep * Math.ceil((Math.max(1, ...trips.map((r) => r.max)) * 1.05) / tStep)
  const linT = (v: number): number => BAR_X + (BAR_W * v) / tMax
  y += 24
  text(12, y, 'One trivial task through the worker pool, awaited one at a time — shorter is faster', 'class="panel"')
  y += 8
  const tTop = y
  y = bars(
    out,
    y,
    [{ title: 'worker task round trip', benchmark: 'worker_task_roundtrip', metric: 'us_per_task', unit: 'µs/task' }],
    input,
    linT,
    (g, r) => `${fmt(r.value)} ${g.unit}`,
  )
  for (let v = 0; v <= tMax + 1e-9; v += tStep) {
    out.push(`<line x1="${linT(v)}" y1="${tTop}" x2="${linT(v)}" y2="${y}" class="grid"/>`)
    text(linT(v), y + 12, `${fmt(v)} µs`, 'class="tick" text-anchor="middle"')
  }
  y += 24

  const height = Math.ceil(y + 8)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    '<style>',
    '.title{font-size:15px;font-weight:600;fill:#212529}.sub{font-size:11px;fill:#495057}',
    '.panel{font-size:13px;font-weight:600;fill:#212529}.group{font-size:11px;font-weight:600;fill:#343a40}',
    '.label{font-size:11px;fill:#343a40}.value{font-size:10.5px;fill:#212529}.na{font-size:10.5px;fill:#adb5bd;font-style:italic}',
    '.tick{font-size:10px;fill:#868e96}.grid{stroke:#dee2e6;stroke-width:1}.mark{stroke:#e03131;stroke-width:1;stroke-dasharray:4 3}',
    '.whisker{stroke:#212529;stroke-width:1}',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n')
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)))
  return [1, 2, 5, 10].map((f) => f * p).find((s) => s >= raw) ?? 10 * p
}

/** Draws one block of bars per group; returns the new y. */
function bars(
  out: string[],
  y: number,
  groups: Group[],
  input: ChartInput,
  scale: (v: number) => number,
  label: (g: Group, r: ChartRow) => string,
): number {
  for (const g of groups) {
    const rows = input.rows.filter((r) => r.benchmark === g.benchmark && r.metric === g.metric)
    const missing = input.missing.filter((x) => x.benchmark === g.benchmark)
    if (rows.length === 0 && missing.length === 0) continue
    y += GROUP_GAP + 4
    out.push(`<text x="12" y="${y}" class="group">${esc(g.title)}</text>`)
    y += 4
    for (const r of rows) {
      const x1 = scale(r.value)
      out.push(`<text x="${LABEL_W}" y="${y + 12}" class="label" text-anchor="end">${esc(r.impl)}</text>`)
      out.push(
        `<rect x="${BAR_X}" y="${y + 2}" width="${Math.max(1, x1 - BAR_X).toFixed(1)}" height="${ROW_H - 4}" fill="${COLORS[r.impl]}" rx="2"/>`,
      )
      const w0 = scale(r.min)
      const w1 = scale(r.max)
      if (w1 - w0 > 1)
        out.push(`<line x1="${w0.toFixed(1)}" y1="${y + ROW_H / 2}" x2="${w1.toFixed(1)}" y2="${y + ROW_H / 2}" class="whisker"/>`)
      out.push(`<text x="${(Math.max(x1, w1) + 6).toFixed(1)}" y="${y + 12}" class="value">${esc(label(g, r))}</text>`)
      y += ROW_H
    }
    for (const x of missing) {
      out.push(`<text x="${LABEL_W}" y="${y + 12}" class="label" text-anchor="end">${esc(x.impl)}</text>`)
      const reason = x.reason.length > 90 ? `${x.reason.slice(0, 87)}…` : x.reason
      out.push(`<text x="${BAR_X}" y="${y + 12}" class="na">not available: ${esc(reason)}</text>`)
      y += ROW_H
    }
  }
  return y
}
