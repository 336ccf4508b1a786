/**
 * The JSON document a bench run produces, and the files made from it. `run.ts` writes them
 * after a run; `render.ts` rebuilds results.md and chart.svg from a saved results.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderChart } from './chart.ts'
import { markdown, type RatioResult, type Row, type RowWithSize } from './report.ts'
import type { Benchmark, Impl, Mode } from './specs.ts'
import type { Machine } from './toolchains.ts'

export interface BenchDocument {
  machine: Machine
  rows: Row[]
  run: {
    mode: Mode
    repetitions: number
    date: string
    subtitle: string
    /** The gotrio commit measured (see gotrioRevision). */
    revision: string
    /** 1-minute load average when the run started; above ~0.5 something else was using the cores. */
    loadAverageAtStart: number
    /** Highest 1-minute load average seen during the run; the bench's own programs keep up to every core busy. */
    peakLoadAverage: number
    /** "benchmark/impl" -> the size that was run. */
    sizes: Record<string, string>
  }
  ratios: RatioResult[]
  notAvailable: { benchmark: Benchmark; impl: Impl; reason: string }[]
  failed: { benchmark: Benchmark; impl: Impl; reason: string }[]
  baselinesMissing: string[]
}

export function withSizes(doc: BenchDocument): RowWithSize[] {
  return doc.rows.map((r) => ({ ...r, size: doc.run.sizes[`${r.benchmark}/${r.impl}`] ?? '', n: doc.run.repetitions }))
}

/** Writes results.json, results.md and chart.svg into `dir`; returns the file names. */
export function writeOutputs(dir: string, doc: BenchDocument): string[] {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`)
  // Failed rows (a crash, a timeout, a checksum mismatch: a peer's wrong values) are shown with
  // their finding, never dropped.
  const failed = (doc.failed ?? []).map((f) => ({ ...f, reason: `FAILED: ${f.reason.split('\n')[0]}` }))
  writeFileSync(
    join(dir, 'results.md'),
    markdown(doc.machine, doc.run.subtitle, withSizes(doc), doc.ratios, [...doc.notAvailable, ...failed]),
  )
  writeFileSync(
    join(dir, 'chart.svg'),
    renderChart({ machine: doc.machine, subtitle: doc.run.subtitle, rows: doc.rows, missing: doc.notAvailable }),
  )
  return ['results.json', 'results.md', 'chart.svg']
}
