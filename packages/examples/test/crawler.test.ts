/** The crawler example (a CapacityLimiter bounding worker tasks), run as the user runs it. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/example.mjs', import.meta.url))

it('crawler crawls every page of its site with at most `limit` fetches at once', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, 'crawler', '3'], { timeout: 120_000 })
  expect(stderr).toBe('')
  expect(stdout).toContain('crawled 300 of 300 pages (digest f13a94e0)')
  const m = /at most (\d+) fetches ran at once \(limit 3\)/.exec(stdout)
  expect(m).not.toBeNull()
  expect(Number(m![1])).toBeGreaterThanOrEqual(1)
  expect(Number(m![1])).toBeLessThanOrEqual(3)
}, 150_000)
