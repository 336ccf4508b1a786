/**
 * Runs one benchmark program as a child process and checks what it printed.
 *
 * Each program runs in its own process group (detached) so that a timeout kills it and
 * anything it started; the runner itself never leaves a child behind. Output contract: see
 * lib/program.ts.
 */
import { spawn } from 'node:child_process'
import type { Job, Metric } from './specs.ts'

export interface Measurement {
  metric: Metric
  value: number
  unit: string
}

export type Outcome =
  | { kind: 'ok'; measurements: Measurement[]; wallMs: number }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'failed'; reason: string; output: string }

export function runProgram(job: Job, command: string[], cwd: string, timeoutS: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now()
    const [file, ...args] = command
    const child = spawn(file!, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }, timeoutS * 1000)
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ kind: 'failed', reason: `could not start ${file}: ${err.message}`, output: '' })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const output = `${stdout}${stderr}`.trim()
      if (timedOut) return resolve({ kind: 'failed', reason: `timed out after ${timeoutS} s`, output })
      if (code !== 0) return resolve({ kind: 'failed', reason: `exited with ${signal ?? `code ${code}`}`, output })
      resolve(check(job, stdout, output, Date.now() - started))
    })
  })
}

/** Parses the result lines and verifies names, metrics and checksums against the job. */
function check(job: Job, stdout: string, output: string, wallMs: number): Outcome {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '')
  const measurements: Measurement[] = []
  for (const line of lines) {
    let r: Record<string, unknown>
    try {
      r = JSON.parse(line) as Record<string, unknown>
    } catch {
      return { kind: 'failed', reason: `printed a line that is not JSON: ${line.slice(0, 120)}`, output }
    }
    if (r.benchmark !== job.benchmark || r.impl !== job.impl) {
      return { kind: 'failed', reason: `reported ${String(r.benchmark)}/${String(r.impl)}, expected ${job.benchmark}/${job.impl}`, output }
    }
    if (typeof r.unavailable === 'string') return { kind: 'unavailable', reason: r.unavailable }
    if (r.checksum !== job.expected) {
      return {
        kind: 'failed',
        reason: `CHECKSUM MISMATCH: got ${JSON.stringify(r.checksum)}, expected ${JSON.stringify(job.expected)}`,
        output,
      }
    }
    const metric = r.metric as Metric
    if (!job.metrics.includes(metric)) return { kind: 'failed', reason: `unexpected metric ${String(r.metric)}`, output }
    if (typeof r.value !== 'number' || !Number.isFinite(r.value) || r.value <= 0) {
      return { kind: 'failed', reason: `metric ${metric} has no positive finite value: ${String(r.value)}`, output }
    }
    measurements.push({ metric, value: r.value, unit: String(r.unit) })
  }
  const missing = job.metrics.filter((m) => !measurements.some((x) => x.metric === m))
  if (missing.length > 0) return { kind: 'failed', reason: `did not report ${missing.join(', ')}`, output }
  return { kind: 'ok', measurements, wallMs }
}
