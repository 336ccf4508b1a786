/** The select worker-pool example, run as the user runs it (`pnpm example select-pool`). */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/example.mjs', import.meta.url))

it('select-pool prints the sum of the squares of 1..20 (every job done once, workers stopped by quit)', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, 'select-pool'], { timeout: 60_000 })
  expect(stderr).toBe('')
  expect(stdout).toBe('sum of squares of 1..20: 2870\n')
})
