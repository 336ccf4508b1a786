/**
 * Rebuilds results.md and chart.svg from a saved results.json (no benchmark is run),
 * with the ratios recomputed from its medians against the current goals.
 *
 *   tsx bench/render.ts [results.json] [out-dir]     (defaults: bench/results/results.json, its dir)
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeOutputs, type BenchDocument } from './lib/output.ts'
import { computeRatios } from './lib/report.ts'
import { ratioSpecs } from './lib/specs.ts'

const here = dirname(fileURLToPath(import.meta.url))
const base = process.env.INIT_CWD ?? process.cwd()
const input = process.argv[2] ? resolve(base, process.argv[2]) : join(here, 'results', 'results.json')
const outDir = process.argv[3] ? resolve(base, process.argv[3]) : dirname(input)
const doc = JSON.parse(readFileSync(input, 'utf8')) as BenchDocument
// The ratios are recomputed from the saved medians with the current goals (lib/specs.ts).
doc.ratios = computeRatios(doc.rows, ratioSpecs(doc.machine.cores))
const files = writeOutputs(outDir, doc)
process.stderr.write(`wrote ${files.join(', ')} to ${outDir}\n`)
