/**
 * `pnpm example distributed-primes` as the user runs it: a local nats-server,
 * two host processes, the caller; the total is π(limit), both hosts ran chunks.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/example.mjs', import.meta.url))
const exec = promisify(execFile)

it('distributed-primes counts the primes below its limit on two hosts and reports the speed-up', async () => {
  const env = { ...process.env }
  delete env.NATS_URL
  const { stdout } = await exec(process.execPath, [script, 'distributed-primes', '400000'], { timeout: 90_000, env })
  expect(stdout).toContain('primes below 400000: 33860') // π(400,000)
  expect(stdout).toMatch(/chunks per host \(two hosts\): host-[AB] \d+, host-[AB] \d+/)
  expect(stdout).toMatch(/speed-up: \d+\.\d\dx/)
}, 120_000)
