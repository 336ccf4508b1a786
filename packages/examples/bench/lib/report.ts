/**
 * Turning measurements into the outputs: rows (medians with min–max), ratios against goals,
 * the console table, the markdown table, and the JSON document.
 */
import type { Benchmark, Impl, Metric, RatioSpec, Ref } from './specs.ts'
import type { Machine } from './toolchains.ts'
import { fmt, summarize } from './stats.ts'

export interface Row {
  benchmark: Benchmark
  impl: Impl
  metric: Metric
  value: number
  unit: string
  min: number
  max: number
}

export interface RowWithSize extends Row {
  size: string
  n: number
}

export interface RatioResult {
  label: string
  value: number | null
  goal: string | null
  /** 'pass' | 'miss' for ratios with a goal, 'info' otherwise, 'n/a' when a side is missing. */
  status: 'pass' | 'miss' | 'info' | 'n/a'
  /** How far from the goal, in words, when missed; why not computed, when n/a. */
  note: string
}

export const UNIT: Record<Metric, string> = {
  ns_per_item: 'ns',
  ns_per_task: 'ns',
  us_per_task: 'us',
  seconds: 's',
  speedup: 'x',
}

export function makeRows(
  samples: Map<string, { benchmark: Benchmark; impl: Impl; metric: Metric; size: string; values: number[] }>,
): RowWithSize[] {
  const rows: RowWithSize[] = []
  for (const s of samples.values()) {
    if (s.values.length === 0) continue
    const { median, min, max, n } = summarize(s.values)
    rows.push({ benchmark: s.benchmark, impl: s.impl, metric: s.metric, value: median, unit: UNIT[s.metric], min, max, size: s.size, n })
  }
  return rows
}

function find(rows: Row[], r: Ref): Row | undefined {
  return rows.find((x) => x.benchmark === r.benchmark && x.impl === r.impl && x.metric === r.metric)
}

export function computeRatios(rows: Row[], specs: RatioSpec[]): RatioResult[] {
  return specs.map((spec) => {
    const num = find(rows, spec.numerator)
    const den = spec.denominator ? find(rows, spec.denominator) : undefined
    const goal = spec.goal ? spec.goal.text : null
    if (!num || (spec.denominator && !den)) {
      const lacking = [!num ? spec.numerator : null, spec.denominator && !den ? spec.denominator : null]
        .filter((r): r is Ref => r !== null)
        .map((r) => `${r.benchmark}/${r.impl}`)
      return { label: spec.label, value: null, goal, status: 'n/a', note: `no result for ${lacking.join(' and ')}` }
    }
    const value = den ? num.value / den.value : num.value
    if (!spec.goal) return { label: spec.label, value, goal, status: 'info', note: '' }
    const pass = spec.goal.op === '>=' ? value >= spec.goal.value : value <= spec.goal.value
    const note = pass
      ? ''
      : spec.goal.op === '>='
        ? `short by ${fmt(spec.goal.value / value)}× (reached ${Math.round((100 * value) / spec.goal.value)}% of the goal)`
        : `over by ${fmt(value / spec.goal.value)}× (${fmt(value)} vs ${fmt(spec.goal.value)})`
    return { label: spec.label, value, goal, status: pass ? 'pass' : 'miss', note }
  })
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}
function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s
}

export function consoleTable(rows: RowWithSize[]): string {
  const head = ['benchmark', 'impl', 'metric', 'median', 'min – max', 'runs', 'size']
  const body = rows.map((r) => [
    r.benchmark,
    r.impl,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.min)} – ${fmt(r.max)}`,
    String(r.n),
    r.size,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 3 || i === 4 || i === 5 ? padLeft(c, widths[i]!) : pad(c, widths[i]!))).join('  ')
  const out = [line(head), widths.map((w) => '─'.repeat(w)).join('  ')]
  let last = ''
  for (let i = 0; i < body.length; i++) {
    if (last && rows[i]!.benchmark !== last) out.push('')
    last = rows[i]!.benchmark
    out.push(line(body[i]!))
  }
  return out.join('\n')
}

const MARK = { pass: 'PASS', miss: 'MISS', info: '    ', 'n/a': 'n/a ' } as const

export function consoleRatios(ratios: RatioResult[]): string {
  const w = Math.max(...ratios.map((r) => r.label.length))
  return ratios
    .map((r) => {
      const v = r.value === null ? '—' : `${fmt(r.value)}×`
      const goal = r.goal ? `goal ${r.goal}` : ''
      return `${MARK[r.status]}  ${pad(r.label, w)}  ${padLeft(v, 8)}  ${pad(goal, 28)}${r.note}`
    })
    .join('\n')
}

export function markdown(
  machine: Machine,
  subtitle: string,
  rows: RowWithSize[],
  ratios: RatioResult[],
  notAvailable: { benchmark: string; impl: string; reason: string }[],
): string {
  const out: string[] = []
  out.push(
    `**Machine:** ${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · Python ${machine.python ?? 'n/a'} with Trio ${machine.trio ?? 'n/a'} · Go ${machine.go ?? 'n/a'}  `,
  )
  out.push(`**Run:** ${subtitle}`)
  out.push('')
  out.push('| benchmark | impl | metric | median | min – max | size |')
  out.push('|---|---|---|--:|--:|--:|')
  for (const r of rows)
    out.push(`| ${r.benchmark} | ${r.impl} | ${r.metric} | ${fmt(r.value)} ${r.unit} | ${fmt(r.min)} – ${fmt(r.max)} | ${r.size} |`)
  for (const x of notAvailable) out.push(`| ${x.benchmark} | ${x.impl} | — | not available | ${x.reason.replace(/\|/g, '\\|')} | |`)
  out.push('')
  out.push('| ratio (medians, same run) | value | goal | |')
  out.push('|---|--:|---|---|')
  for (const r of ratios) {
    const status = r.status === 'pass' ? '✅' : r.status === 'miss' ? `❌ ${r.note}` : r.status === 'n/a' ? `n/a: ${r.note}` : ''
    out.push(`| ${r.label} | ${r.value === null ? '—' : `${fmt(r.value)}×`} | ${r.goal ?? ''} | ${status} |`)
  }
  out.push('')
  return out.join('\n')
}
